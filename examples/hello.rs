//! `cargo run --example hello`
//!
//! The tutorial's server and client in one process, trading their greetings
//! over loopback.
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
//!
//! With `RUST_LOG=debug` the log lines (stderr) show each socket step as it
//! happens, the two sides' steps interleaved as the threads run; this
//! example's own lines (stdout) stay in the order above: the client connects
//! before the server thread starts (the listen backlog holds the
//! connection), so `client: connected to` comes before any of the server's
//! steps, and the exchange's four lines come once both sides are done.

use std::io::Write;
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;

use anyhow::anyhow;
use clap::Parser;
use sockwright::hello::{Exchange, Outcome, Server};
use sockwright::{ConnectorBuilder, ListenerBuilder};

/// Runs the tutorial's server on an ephemeral loopback port and its client in
/// one process, and prints both sides of the exchange. Set RUST_LOG=debug to
/// see each socket step.
#[derive(Debug, Parser)]
#[command(name = "hello")]
struct Args {}

fn main() -> ExitCode {
    Args::parse();
    env_logger::init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let mut builder = ListenerBuilder::new();
    builder.reuse_address(true).backlog(3);
    let listener = builder.listen("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    println!("server: listening on {addr}");

    // The connect completes in the listen backlog, before any accept, so
    // the client's line comes before the server thread logs anything.
    let mut stream = ConnectorBuilder::new().connect(addr)?;
    println!("client: connected to {addr}");

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
    let reply = Exchange::client().run(&mut stream)?;
    server
        .join()
        .map_err(|_| anyhow!("the server thread panicked"))??;
    let greeting = outcomes.recv()?.result?;

    // Both sides are done: no log line can come between these four.
    let mut out = std::io::stdout().lock();
    writeln!(out, "client: Hello message sent")?;
    writeln!(out, "server: {}", String::from_utf8_lossy(&greeting))?;
    writeln!(out, "server: Hello message sent")?;
    writeln!(out, "client: {}", String::from_utf8_lossy(&reply))?;
    out.flush()?;
    Ok(())
}
