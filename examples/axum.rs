//! `cargo run --example axum --features axum -- 127.0.0.1:3000 unix:./axum.sock`
//!
//! One axum app served on every endpoint given, TCP or Unix-domain alike.
//!
//! ```text
//! cargo run --example axum --features axum                      # 127.0.0.1:3000 and unix:./axum.sock
//! cargo run --example axum --features axum -- '[::1]:8080' @app   # TCP and a Linux abstract name
//! curl http://127.0.0.1:3000/
//! curl --unix-socket ./axum.sock http://localhost/
//! ```
//!
//! Each endpoint is listened on by one builder, with `nodelay` (which
//! acts on TCP, and is left out, with a `debug` line, for a Unix socket)
//! and `remove_stale_socket` (for a socket file left by a server that
//! died). `RUST_LOG=debug` shows each step. Stop it with Ctrl-C.

use std::future::IntoFuture;
use std::process::ExitCode;

use axum::{Router, routing::get};
use clap::Parser;
use sockwright::{Endpoint, ListenerBuilder};

/// Serves one axum app, which answers `Hello from server`, on every
/// endpoint given.
#[derive(Debug, Parser)]
#[command(name = "axum")]
struct Args {
    /// Where to listen: HOST:PORT, [IPV6]:PORT, unix:PATH, /PATH, ./PATH,
    /// @NAME (Linux abstract), sd-listen, sd-listen:NAME
    #[arg(value_name = "ENDPOINT", default_values = ["127.0.0.1:3000", "unix:./axum.sock"])]
    endpoints: Vec<Endpoint>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    env_logger::init();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let app = Router::new().route("/", get(|| async { "Hello from server\n" }));
    let mut builder = ListenerBuilder::new();
    builder.nodelay(true);
    #[cfg(unix)]
    builder.remove_stale_socket(true);
    let mut servers = tokio::task::JoinSet::new();
    for endpoint in &args.endpoints {
        let listener = builder.listen_endpoint_async(endpoint).await?;
        for addr in listener.local_addrs()? {
            eprintln!("listening on {addr}");
        }
        servers.spawn(axum::serve(listener, app.clone()).into_future());
    }
    while let Some(served) = servers.join_next().await {
        served??;
    }
    Ok(())
}
