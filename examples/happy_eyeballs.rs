//! `cargo run --example happy_eyeballs`
//!
//! A connect that races the addresses of a name, as RFC 8305 describes.
//!
//! ```text
//! RUST_LOG=sockwright::connector=debug cargo run --example happy_eyeballs
//! RUST_LOG=sockwright::connector=debug cargo run --example happy_eyeballs -- example.org:80
//! ```
//!
//! Without an argument the program starts a listener on IPv4 loopback only
//! and connects to `localhost` at its port: where `localhost` also names
//! `::1`, the IPv6 attempt goes first and is refused, and the IPv4 one wins
//! at once rather than after a timeout. With `HOST:PORT` it connects there
//! instead. The debug log shows each attempt start, fail, win or be
//! cancelled; the program prints the address that won.

use std::time::Duration;

use clap::Parser;
use sockwright::{ConnectorBuilder, Domain, ListenerBuilder};

/// Connects to HOST:PORT, racing its addresses (RFC 8305), and prints the
/// address that won. Set RUST_LOG=sockwright::connector=debug to see each
/// attempt.
#[derive(Debug, Parser)]
#[command(name = "happy_eyeballs")]
struct Args {
    /// Where to connect; without it, `localhost` at the port of a listener
    /// on IPv4 loopback that the program starts
    #[arg(value_name = "HOST:PORT")]
    target: Option<String>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    env_logger::init();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut connector = ConnectorBuilder::new();
    connector
        .connect_timeout(Duration::from_secs(5))
        .connection_attempt_delay(Duration::from_millis(250))
        .preferred_family(Domain::Ipv6);
    // Kept open until the program ends, so the connection stays up.
    let listener;
    let stream = match &args.target {
        Some(target) => connector.connect(target.as_str())?,
        None => {
            listener = ListenerBuilder::new().listen("127.0.0.1:0")?;
            connector.connect(("localhost", listener.local_addr()?.port()))?
        }
    };
    println!(
        "connected to {} from {}",
        stream.peer_addr()?,
        stream.local_addr()?
    );
    Ok(())
}
