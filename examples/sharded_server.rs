//! `cargo run --example sharded_server`
//!
//! Several listeners on one port with `SO_REUSEPORT`, the kernel spreading
//! the connections between them.
//!
//! ```text
//! cargo run --example sharded_server
//! RUST_LOG=sockwright=debug cargo run --example sharded_server
//! ```
//!
//! Four shards each get their own listening socket on the same loopback
//! port (each built with `reuse_port(true)`, which every one of them must
//! set), one thread each. Twenty clients then connect, and each shard
//! answers with its number; the program prints how many clients each shard
//! served. On Linux the kernel balances new connections across the shards;
//! other Unix systems may hand them all to one. Unix only: Windows has no
//! `SO_REUSEPORT`.

#[cfg(unix)]
fn main() -> std::process::ExitCode {
    env_logger::init();
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(unix)]
fn run() -> Result<(), Box<dyn std::error::Error>> {
    use sockwright::{ConnectorBuilder, ListenerBuilder};
    use std::io::{Read, Write};
    use std::thread;

    const SHARDS: usize = 4;
    const CLIENTS: usize = 20;

    let mut builder = ListenerBuilder::new();
    builder.reuse_port(true);
    let first = builder.listen("127.0.0.1:0")?;
    let addr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..SHARDS {
        listeners.push(builder.listen(addr)?);
    }
    println!("{SHARDS} shards listening on {addr}");
    for (shard, listener) in listeners.into_iter().enumerate() {
        // Each shard answers until the program exits.
        thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                let _ = conn.write_all(&[shard as u8]);
            }
        });
    }

    let mut served = [0; SHARDS];
    for _ in 0..CLIENTS {
        let mut stream = ConnectorBuilder::new().connect(addr)?;
        let mut shard = [0];
        stream.read_exact(&mut shard)?;
        served[usize::from(shard[0])] += 1;
    }
    for (shard, n) in served.iter().enumerate() {
        println!("shard {shard}: {n} clients");
    }
    Ok(())
}

#[cfg(not(unix))]
fn main() {
    eprintln!("SO_REUSEPORT is not available on this platform");
}
