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
use sockwright::{Address, ConnectorBuilder};

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
            let server = stream.peer_addr().map(Address::from);
            exchange
                .run_tcp(&mut stream)
                .map_err(|err| naming_server(err, server.ok()))
        }
        Transport::Udp => Ok(exchange.run_udp(&builder.connect_udp(target)?)?.0),
        #[cfg(unix)]
        Transport::Unix(path) => {
            let server = Address::from(path.as_path());
            exchange
                .run_unix(&mut builder.connect_unix(path)?)
                .map_err(|err| naming_server(err, Some(server)))
        }
        #[cfg(not(unix))]
        Transport::Unix(_) => {
            Err("--unix: Unix-domain sockets are not available on this platform".into())
        }
        // parse_client never gives it: --listen is a server option.
        Transport::Endpoint(_) => Err("--listen applies to the server only".into()),
    }
}

/// The exchange's error, naming the server this client connected to where
/// the OS could no longer say who the peer was: a connection the server
/// reset has no peer address left to read back.
fn naming_server(err: sockwright::Error, server: Option<Address>) -> Box<dyn Error> {
    match (&err, server) {
        (
            sockwright::Error::Exchange {
                step,
                peer: Address::Unknown,
                ..
            },
            Some(server),
        ) => {
            let unknown = format!("{step} {}", Address::Unknown);
            let text = err.to_string();
            match text.strip_prefix(&unknown) {
                Some(rest) => format!("{step} {server}{rest}").into(),
                None => err.into(),
            }
        }
        _ => err.into(),
    }
}
