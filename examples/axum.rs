//! `cargo run --example axum --features axum -- [ENDPOINT]...`: one axum app
//! served on every endpoint given, TCP or Unix-domain alike.
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

use axum::{routing::get, Router};
use sockwright::{Endpoint, ListenerBuilder};

#[tokio::main]
async fn main() -> ExitCode {
    env_logger::init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut given: Vec<String> = std::env::args().skip(1).collect();
    if given.is_empty() {
        given = vec!["127.0.0.1:3000".into(), "unix:./axum.sock".into()];
    }
    let app = Router::new().route("/", get(|| async { "Hello from server\n" }));
    let mut builder = ListenerBuilder::new();
    builder.nodelay(true);
    #[cfg(unix)]
    builder.remove_stale_socket(true);
    let mut servers = tokio::task::JoinSet::new();
    for text in &given {
        let endpoint: Endpoint = text.parse()?;
        let listener = builder.listen_endpoint_async(&endpoint).await?;
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
