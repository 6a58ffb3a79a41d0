//! `cargo run --example hello`: the tutorial's server and client in one
//! process, trading their greetings over loopback.
//!
//! ```text
//! cargo run --example hello
//! RUST_LOG=debug cargo run --example hello   # and every socket step
//! ```
//!
//! The server listens on an ephemeral port of 127.0.0.1 and serves one
//! client; the client connects, sends `Hello from client` and receives
//! `Hello from server`. Each side's lines are printed in the order of the
//! exchange, prefixed with `server:` or `client:`.

mod common;

use std::error::Error;
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;

use common::args::{self, Parsed};
use sockwright::hello::{Exchange, Outcome, Server};
use sockwright::{ConnectorBuilder, ListenerBuilder};

fn main() -> ExitCode {
    env_logger::init();
    match args::parse_hello(common::argv()) {
        Ok(Parsed::Help) => {
            print!("{}", args::HELLO_USAGE);
            ExitCode::SUCCESS
        }
        Ok(Parsed::Run(())) => match run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => common::fail(&*err),
        },
        Err(err) => common::usage_error(&err),
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let mut builder = ListenerBuilder::new();
    builder.reuse_address(true).backlog(3);
    let listener = builder.listen("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    println!("server: listening on {addr}");

    // The server runs on its own thread; its one client's outcome comes
    // back on a channel. If the client fails, main returns without waiting
    // for a server that may still be waiting for it.
    let (sender, outcomes) = mpsc::channel::<Outcome>();
    let server = thread::spawn(move || {
        Server::new(Exchange::server())
            .clients(1)
            .serve_tcp(&listener, |outcome| {
                let _ = sender.send(outcome);
            })
    });
    let mut stream = ConnectorBuilder::new().connect(addr)?;
    println!("client: connected to {addr}");
    let reply = Exchange::client().run_tcp(&mut stream)?;
    server.join().map_err(|_| "the server thread panicked")??;
    let greeting = outcomes.recv()?.result?;

    println!("client: Hello message sent");
    println!("server: {}", String::from_utf8_lossy(&greeting));
    println!("server: Hello message sent");
    println!("client: {}", String::from_utf8_lossy(&reply));
    Ok(())
}
