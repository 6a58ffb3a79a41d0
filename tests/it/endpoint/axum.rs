//! axum through an endpoint: an axum app served by `axum::serve` on
//! `listen_endpoint_async`'s listener, on a TCP and on a Unix-path
//! endpoint, fetched by `curl` (`--unix-socket` for the path).
//!
//! Skipped, with the reason, where `curl` is not installed.

use std::future::IntoFuture;
use std::process::Command;

use crate::util::TempDir;
use axum::{Router, routing::get};
use sockwright::{Address, Endpoint, ListenerBuilder};

/// `curl` with `args`, its body on success.
fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "5"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn axum_serves_tcp_and_unix_endpoints() {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("skipped: curl is not installed");
        return;
    }
    let dir = TempDir::new("axum");
    let path = dir.join("app.sock");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = Router::new().route("/", get(|| async { "Hello from server" }));
    let mut urls = Vec::new();
    for text in ["127.0.0.1:0".to_owned(), format!("unix:{}", path.display())] {
        let endpoint: Endpoint = text.parse().unwrap();
        let listener = runtime
            .block_on(
                ListenerBuilder::new()
                    .nodelay(true)
                    .listen_endpoint_async(&endpoint),
            )
            .unwrap();
        let args = match listener.local_addr().unwrap() {
            Address::Inet(addr) => vec![format!("http://{addr}/")],
            Address::Unix(p) => vec![
                "--unix-socket".to_owned(),
                p.display().to_string(),
                "http://localhost/".to_owned(),
            ],
            other => panic!("unexpected address {other}"),
        };
        runtime.spawn(axum::serve(listener, app.clone()).into_future());
        urls.push(args);
    }
    for args in &urls {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Twice each: a second connection is accepted after the first.
        for _ in 0..2 {
            assert_eq!(curl(&args), "Hello from server", "{args:?}");
        }
    }
    eprintln!("axum served 4 curl requests: 2 over TCP, 2 over a Unix path");
    runtime.shutdown_background();
}
