//! `cargo run --example dual_stack`
//!
//! One IPv6 socket that serves IPv4 clients too.
//!
//! ```text
//! cargo run --example dual_stack
//! RUST_LOG=sockwright=debug cargo run --example dual_stack
//! ```
//!
//! The listener binds `[::]` with `only_v6(false)` (`IPV6_V6ONLY` off, which
//! Windows and OpenBSD do not do by default), on an ephemeral port. A client
//! connects over IPv4 loopback and another over IPv6 loopback; the listener
//! sees the IPv4 one as an IPv4-mapped address (`::ffff:127.0.0.1`). The
//! listener's port is open on every interface while the program runs, for
//! the moment the two connects take.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sockwright::{ConnectorBuilder, ListenerBuilder};

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

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let listener = match ListenerBuilder::new().only_v6(false).listen("[::]:0") {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("no dual-stack socket here: {err}");
            return Ok(());
        }
    };
    let port = listener.local_addr()?.port();
    println!("listening on {}", listener.local_addr()?);
    for target in [
        (IpAddr::from(Ipv4Addr::LOCALHOST), port),
        (IpAddr::from(Ipv6Addr::LOCALHOST), port),
    ] {
        let client = ConnectorBuilder::new().connect(target)?;
        let (_conn, peer) = listener.accept()?;
        println!("client {} arrived as {peer}", client.local_addr()?);
    }
    Ok(())
}
