//! `cargo run --example client -- [OPTIONS]`: the tutorial's client, which
//! connects, sends its greeting and prints the reply.
//!
//! ```text
//! cargo run --example client                          # to 127.0.0.1:8080
//! cargo run --example client -- --addr ::1 --port 9000
//! RUST_LOG=debug cargo run --example client           # and every socket step
//! ```
//!
//! Run `cargo run --example client -- --help` for every option. Prints
//! `Hello message sent`, then the server's message on its own line, as the C
//! program does; a failure is one `error: ...` line on stderr and a non-zero
//! exit status.

mod common;

use std::error::Error;
use std::process::ExitCode;

use common::args::{self, ClientConfig, Parsed, Transport};
use sockwright::hello::Exchange;
use sockwright::ConnectorBuilder;

fn main() -> ExitCode {
    env_logger::init();
    match args::parse_client(common::argv()) {
        Ok(Parsed::Help) => {
            print!("{}", args::CLIENT_USAGE);
            ExitCode::SUCCESS
        }
        Ok(Parsed::Run(config)) => match run(&config) {
            Ok(reply) => {
                println!("Hello message sent");
                println!("{}", String::from_utf8_lossy(&reply));
                ExitCode::SUCCESS
            }
            Err(err) => common::fail(&*err),
        },
        Err(err) => common::usage_error(&err),
    }
}

/// Runs the exchange and returns the server's message.
fn run(config: &ClientConfig) -> Result<Vec<u8>, Box<dyn Error>> {
    let mut exchange = Exchange::client();
    exchange
        .message(config.message.as_str())
        .timeout(config.timeout);
    let mut builder = ConnectorBuilder::new();
    builder.connect_timeout(config.timeout);
    if let Some(local) = config.bind {
        builder.local_address(local);
    }
    let target = (config.host.as_str(), config.port);
    match &config.transport {
        Transport::Tcp => {
            let mut stream = builder.connect(target)?;
            // Read now, not when an error is shown: a connection the server
            // reset has no peer address left to read.
            Ok(match stream.peer_addr() {
                Ok(server) => {
                    exchange.run(&mut sockwright::hello::Named::new(&mut stream, server))?
                }
                Err(_) => exchange.run(&mut stream)?,
            })
        }
        Transport::Udp => Ok(exchange.run_udp(&builder.connect_udp(target)?)?.0),
        #[cfg(unix)]
        Transport::Unix(path) => Ok(exchange.run(&mut builder.connect_unix(path)?)?),
        #[cfg(not(unix))]
        Transport::Unix(_) => {
            Err("--unix: Unix-domain sockets are not available on this platform".into())
        }
        // parse_client never gives it: --listen is a server option.
        Transport::Endpoint(_) => Err("--listen applies to the server only".into()),
    }
}
