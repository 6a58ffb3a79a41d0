//! Endpoints on the client side: `ConnectorBuilder::connect_endpoint` to a
//! TCP, a Unix-path and an abstract endpoint, the `Stream` it returns
//! (`peer_addr`, `local_addr`, `try_clone`, `set_nonblocking`), and the
//! endpoints a client cannot connect to.
//!
//! Unix only: every case goes through a Unix-path endpoint too, which
//! Windows does not have.
#![cfg(unix)]

use std::io::{ErrorKind, Read, Write};

use crate::util::TempDir;
use sockwright::{Address, ConnectorBuilder, Endpoint, Error, Listener, ListenerBuilder, Stream};

/// Connects to `endpoint` (where `listener` listens), sends a greeting
/// each way, and checks both ends' addresses.
fn exchange(listener: &Listener, endpoint: &Endpoint) {
    let mut client = ConnectorBuilder::new()
        .connect_endpoint(endpoint)
        .unwrap_or_else(|e| panic!("connect to {endpoint}: {e}"));
    let (mut conn, peer) = listener.accept().unwrap();
    client.write_all(b"Hello from client").unwrap();
    let mut greeting = [0; 17];
    conn.read_exact(&mut greeting).unwrap();
    assert_eq!(&greeting, b"Hello from client");
    conn.write_all(b"Hello from server").unwrap();
    let mut reply = [0; 17];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"Hello from server");

    // The client's view of the two ends is the server's, turned around.
    assert_eq!(client.peer_addr().unwrap(), listener.local_addr().unwrap());
    assert_eq!(client.local_addr().unwrap(), peer);
    assert_eq!(conn.local_addr().unwrap(), listener.local_addr().unwrap());
    assert_eq!(conn.peer_addr().unwrap(), peer);
}

#[test]
fn connect_endpoint_reaches_a_tcp_listener() {
    let listener = ListenerBuilder::new()
        .listen_endpoint(&"127.0.0.1:0".parse().unwrap())
        .unwrap();
    let endpoint: Endpoint = listener.local_addr().unwrap().to_string().parse().unwrap();
    exchange(&listener, &endpoint);
}

#[test]
fn connect_endpoint_reaches_a_unix_path_listener() {
    let dir = TempDir::new("endpoint-unix");
    let endpoint: Endpoint = format!("unix:{}", dir.join("app.sock").display())
        .parse()
        .unwrap();
    let listener = ListenerBuilder::new().listen_endpoint(&endpoint).unwrap();
    exchange(&listener, &endpoint);
    let client = ConnectorBuilder::new().connect_endpoint(&endpoint).unwrap();
    assert!(matches!(client, Stream::Unix(_)));
    // An unnamed client socket.
    assert_eq!(client.local_addr().unwrap().to_string(), "(unnamed)");
}

#[cfg(target_os = "linux")]
#[test]
fn connect_endpoint_reaches_an_abstract_listener() {
    let endpoint: Endpoint = format!("@sockwright-endpoints-{}", std::process::id())
        .parse()
        .unwrap();
    let listener = ListenerBuilder::new().listen_endpoint(&endpoint).unwrap();
    assert_eq!(
        listener.local_addr().unwrap().to_string(),
        endpoint.to_string()
    );
    exchange(&listener, &endpoint);
}

#[test]
fn a_name_endpoint_connects_through_the_race() {
    let listener = ListenerBuilder::new()
        .listen_endpoint(&"127.0.0.1:0".parse().unwrap())
        .unwrap();
    let Address::Inet(addr) = listener.local_addr().unwrap() else {
        panic!("a TCP listener has an IP address");
    };
    let endpoint = Endpoint::Host("127.0.0.1".into(), addr.port());
    exchange(&listener, &endpoint);
}

#[test]
fn endpoints_of_listening_sockets_are_refused_before_any_system_call() {
    for text in ["sd-listen", "sd-listen:web", "fd:3"] {
        let endpoint: Endpoint = text.parse().unwrap();
        let err = ConnectorBuilder::new()
            .connect_endpoint(&endpoint)
            .unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "invalid configuration: cannot connect to {text}: it names a listening socket \
                 handed to a server; a client connects to HOST:PORT, [IPV6]:PORT, unix:PATH or @NAME"
            )
        );
    }
}

#[test]
fn a_cloned_stream_writes_while_the_first_reads() {
    let dir = TempDir::new("endpoint-clone");
    for (listener, target) in tcp_and_unix_listeners(&dir, "clone.sock") {
        let mut reader = ConnectorBuilder::new().connect_endpoint(&target).unwrap();
        let mut writer = reader.try_clone().unwrap();
        let (mut conn, _) = listener.accept().unwrap();
        writer.write_all(b"ping").unwrap();
        let mut buf = [0; 4];
        conn.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
        conn.write_all(b"pong").unwrap();
        reader.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"pong");
        // One connection, two handles: the same ends.
        assert_eq!(reader.local_addr().unwrap(), writer.local_addr().unwrap());
        assert_eq!(reader.peer_addr().unwrap(), writer.peer_addr().unwrap());
    }
}

#[test]
fn set_nonblocking_switches_reads_between_waiting_and_would_block() {
    let dir = TempDir::new("endpoint-nonblocking");
    for (listener, target) in tcp_and_unix_listeners(&dir, "nb.sock") {
        let mut client = ConnectorBuilder::new().connect_endpoint(&target).unwrap();
        let (mut conn, _) = listener.accept().unwrap();
        client.set_nonblocking(true).unwrap();
        let err = client.read(&mut [0; 1]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock, "{target}");
        client.set_nonblocking(false).unwrap();
        conn.write_all(b"x").unwrap();
        let mut one = [0; 1];
        // Blocking again: the read waits for the byte.
        client.read_exact(&mut one).unwrap();
        assert_eq!(&one, b"x");
    }
}

/// A listener on `127.0.0.1:0` and one on the path `name` in `dir`, each
/// with the endpoint a client connects to.
fn tcp_and_unix_listeners(dir: &TempDir, name: &str) -> Vec<(Listener, Endpoint)> {
    let unix = format!("unix:{}", dir.join(name).display());
    ["127.0.0.1:0", unix.as_str()]
        .into_iter()
        .map(|text| {
            let endpoint: Endpoint = text.parse().unwrap();
            let listener = ListenerBuilder::new().listen_endpoint(&endpoint).unwrap();
            let target = match listener.local_addr().unwrap() {
                Address::Inet(a) => Endpoint::Inet(a),
                Address::Unix(p) => Endpoint::Unix(p),
                other => panic!("unexpected address {other}"),
            };
            (listener, target)
        })
        .collect()
}
