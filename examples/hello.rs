//! The tutorial's exchange in one process: a server on an ephemeral loopback
//! port, a client, and both greetings.
//!
//! ```text
//! cargo run --example hello
//! RUST_LOG=debug cargo run --example hello   # and every socket step
//! ```

use std::io::{Read, Write};
use std::process::ExitCode;
use std::thread;

use sockwright::{ConnectorBuilder, ListenerBuilder};

fn main() -> ExitCode {
    env_logger::init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let listener = ListenerBuilder::new()
        .reuse_address(true)
        .backlog(3)
        .listen("127.0.0.1:0")?;
    let addr = listener.local_addr()?;

    let server = thread::spawn(move || -> std::io::Result<()> {
        let (mut conn, _) = listener.accept()?;
        let mut buf = [0; 1024];
        let n = conn.read(&mut buf)?;
        println!("server got: {}", String::from_utf8_lossy(&buf[..n]));
        conn.write_all(b"Hello from server")
    });

    let mut client = ConnectorBuilder::new().connect(addr)?;
    client.write_all(b"Hello from client")?;
    println!("Hello message sent");
    let mut reply = Vec::new();
    client.read_to_end(&mut reply)?;
    println!("client got: {}", String::from_utf8_lossy(&reply));
    server.join().map_err(|_| "server thread panicked")??;
    Ok(())
}
