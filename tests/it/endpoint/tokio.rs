//! The async twins of the endpoint and listen-all calls, on tokio:
//! `listen_all_async`, `listen_endpoint_async` on a TCP, a Unix-path and an
//! abstract endpoint, and `connect_endpoint_async` to each, with the
//! `AsyncStream` they return.
//!
//! Unix only: the cases go through Unix-path endpoints too.
#![cfg(all(feature = "tokio", unix))]

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::util::TempDir;
use sockwright::{
    Address, AsyncListener, AsyncStream, ConnectorBuilder, Endpoint, ListenerBuilder,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The endpoint a client writes to reach `listener`.
fn endpoint_of(listener: &AsyncListener) -> Endpoint {
    match listener.local_addr().unwrap() {
        Address::Inet(a) => Endpoint::Inet(a),
        Address::Unix(p) => match p.to_str().and_then(|s| s.strip_prefix('\0')) {
            Some(name) => Endpoint::Abstract(name.to_owned()),
            None => Endpoint::Unix(p),
        },
        other => panic!("unexpected address {other}"),
    }
}

/// A greeting each way between a `connect_endpoint_async` client and the
/// listener's accepted stream, and both ends' addresses.
async fn exchange(listener: &AsyncListener) {
    let endpoint = endpoint_of(listener);
    let mut client = ConnectorBuilder::new()
        .connect_endpoint_async(&endpoint)
        .await
        .unwrap_or_else(|e| panic!("connect to {endpoint}: {e}"));
    let (mut conn, peer) = listener.accept().await.unwrap();
    client.write_all(b"Hello from client").await.unwrap();
    let mut greeting = [0; 17];
    conn.read_exact(&mut greeting).await.unwrap();
    assert_eq!(&greeting, b"Hello from client");
    conn.write_all(b"Hello from server").await.unwrap();
    conn.shutdown().await.unwrap();
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).await.unwrap();
    assert_eq!(reply, b"Hello from server");
    assert_eq!(client.peer_addr().unwrap(), listener.local_addr().unwrap());
    assert_eq!(client.local_addr().unwrap(), peer);
    assert_eq!(conn.peer_addr().unwrap(), peer);
}

#[tokio::test]
async fn listen_endpoint_async_serves_tcp() {
    let listener = ListenerBuilder::new()
        .listen_endpoint_async(&"127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    exchange(&listener).await;
    let client = ConnectorBuilder::new()
        .connect_endpoint_async(&endpoint_of(&listener))
        .await
        .unwrap();
    assert!(matches!(client, AsyncStream::Tcp(_)));
}

#[tokio::test]
async fn listen_endpoint_async_serves_a_unix_path() {
    let dir = TempDir::new("tokio-endpoint");
    let endpoint: Endpoint = format!("unix:{}", dir.join("app.sock").display())
        .parse()
        .unwrap();
    let listener = ListenerBuilder::new()
        .listen_endpoint_async(&endpoint)
        .await
        .unwrap();
    assert_eq!(endpoint_of(&listener), endpoint);
    exchange(&listener).await;
    let client = ConnectorBuilder::new()
        .connect_endpoint_async(&endpoint)
        .await
        .unwrap();
    assert!(matches!(client, AsyncStream::Unix(_)));
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn listen_endpoint_async_serves_an_abstract_name() {
    let endpoint: Endpoint = format!("@sockwright-tokio-endpoints-{}", std::process::id())
        .parse()
        .unwrap();
    let listener = ListenerBuilder::new()
        .listen_endpoint_async(&endpoint)
        .await
        .unwrap();
    assert_eq!(endpoint_of(&listener), endpoint);
    exchange(&listener).await;
}

#[tokio::test]
async fn listen_all_async_listens_on_each_address_on_one_port() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 loopback here");
        return;
    }
    let both = [
        SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    ];
    let listeners = ListenerBuilder::new()
        .listen_all_async(&both[..])
        .await
        .unwrap();
    assert_eq!(listeners.len(), 2);
    let port = listeners[0].local_addr().unwrap().port();
    assert_eq!(listeners[1].local_addr().unwrap().port(), port);
    assert!(listeners[0].local_addr().unwrap().is_ipv6());
    assert!(listeners[1].local_addr().unwrap().is_ipv4());
    for (listener, client_ip) in listeners.iter().zip(["::1", "127.0.0.1"]) {
        let mut client = tokio::net::TcpStream::connect((client_ip, port))
            .await
            .unwrap();
        let (mut conn, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        client.write_all(b"hi").await.unwrap();
        let mut buf = [0; 2];
        conn.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
    }
}

#[test]
fn the_async_endpoint_calls_need_a_runtime_and_say_so() {
    let endpoint: Endpoint = "127.0.0.1:0".parse().unwrap();
    // Outside a runtime: a clear error, not tokio's panic.
    let err = futures_ready(ListenerBuilder::new().listen_endpoint_async(&endpoint)).unwrap_err();
    assert!(err.to_string().contains("runtime"), "{err}");
    let err = futures_ready(ConnectorBuilder::new().connect_endpoint_async(&endpoint)).unwrap_err();
    assert!(err.to_string().contains("runtime"), "{err}");
}

/// Polls `future` once on this thread, outside any runtime.
fn futures_ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = std::task::Waker::noop();
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(waker))
    {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("the call waited instead of failing at once"),
    }
}
