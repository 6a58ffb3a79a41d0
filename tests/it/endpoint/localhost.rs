//! A name endpoint listens on every address of the name: with a hosts file
//! that maps `localhost` to `::1` and `127.0.0.1`, `localhost:0` listens on
//! both, on one port, and serves an IPv4 and an IPv6 client, through
//! `listen_endpoint` (blocking) and `listen_endpoint_async` (tokio).
//!
//! The hosts file is bind-mounted over `/etc/hosts` in a mount namespace
//! the test creates (`unshare -m`, as root): the test binary runs itself
//! again inside it. Linux only; where the namespace cannot be made (not
//! root, no `unshare`), the test says why on stderr and returns.
#![cfg(target_os = "linux")]

use crate::util;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};

use crate::util::TempDir;
use crate::util::namespace;
use sockwright::{Address, ConnectorBuilder, Endpoint, Listener, ListenerBuilder};

#[test]
fn a_name_endpoint_listens_on_every_address() {
    if namespace::inside() {
        blocking();
        #[cfg(feature = "tokio")]
        on_tokio();
        #[cfg(not(feature = "tokio"))]
        eprintln!("the tokio half is skipped: run with --features tokio");
        return;
    }
    if let Some(why) = cannot_run() {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = TempDir::new("hosts");
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, "::1 localhost\n127.0.0.1 localhost\n").unwrap();
    let test = util::test_path(module_path!(), "a_name_endpoint_listens_on_every_address");
    namespace::run_inside(&test, false, &hosts, "/etc/hosts");
}

/// Why this host cannot run the test, if it cannot.
fn cannot_run() -> Option<String> {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        return Some("no IPv6 loopback here".into());
    }
    namespace::hosts_not_from("files").or_else(|| namespace::cannot_unshare(false))
}

/// The one port of `addrs`, and that they are one IPv6 and one IPv4 loopback address.
fn one_port_both_families(addrs: &[Address]) -> u16 {
    let inet: Vec<SocketAddr> = addrs
        .iter()
        .map(|a| match a {
            Address::Inet(a) => *a,
            other => panic!("not an IP address: {other}"),
        })
        .collect();
    assert_eq!(inet.len(), 2, "{inet:?}");
    assert!(inet.iter().any(|a| a.ip().to_string() == "::1"), "{inet:?}");
    assert!(
        inet.iter().any(|a| a.ip().to_string() == "127.0.0.1"),
        "{inet:?}"
    );
    assert_eq!(inet[0].port(), inet[1].port(), "{inet:?}");
    inet[0].port()
}

fn blocking() {
    let endpoint = Endpoint::Host("localhost".into(), 0);
    let listener = ListenerBuilder::new().listen_endpoint(&endpoint).unwrap();
    assert!(matches!(listener, Listener::TcpAll(_)), "{listener:?}");
    let port = one_port_both_families(&listener.local_addrs().unwrap());

    // Each family's client is served, whichever connects first.
    for ip in ["::1", "127.0.0.1", "127.0.0.1", "::1"] {
        let mut client = TcpStream::connect((ip, port)).unwrap();
        let (mut conn, peer) = listener.accept().unwrap();
        assert_eq!(peer, Address::Inet(client.local_addr().unwrap()));
        client.write_all(b"Hello from client").unwrap();
        let mut greeting = [0; 17];
        conn.read_exact(&mut greeting).unwrap();
        assert_eq!(&greeting, b"Hello from client");
    }
    // The client side names the endpoint the same way.
    let client = ConnectorBuilder::new()
        .connect_endpoint(&Endpoint::Host("localhost".into(), port))
        .unwrap();
    let (_conn, peer) = listener.accept().unwrap();
    assert_eq!(peer, client.local_addr().unwrap());

    // Nonblocking: no client is `WouldBlock` at once, a client is taken.
    listener.set_nonblocking(true).unwrap();
    assert_eq!(listener.accept().unwrap_err().kind(), ErrorKind::WouldBlock);
    let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let taken = (0..1000).find_map(|_| match listener.accept() {
        Ok(accepted) => Some(accepted),
        Err(e) if e.kind() == ErrorKind::WouldBlock => {
            std::thread::sleep(std::time::Duration::from_millis(5));
            None
        }
        Err(e) => panic!("accept: {e}"),
    });
    let (_conn, peer) = taken.expect("the client is accepted within 5 s");
    assert_eq!(peer, Address::Inet(client.local_addr().unwrap()));
    eprintln!(
        "blocking: localhost:{port} served 5 clients over ::1 and 127.0.0.1, and one nonblocking accept"
    );
}

#[cfg(feature = "tokio")]
fn on_tokio() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    util::current_thread().block_on(async {
        let endpoint = Endpoint::Host("localhost".into(), 0);
        let listener = ListenerBuilder::new()
            .listen_endpoint_async(&endpoint)
            .await
            .unwrap();
        let port = one_port_both_families(&listener.local_addrs().unwrap());
        for ip in ["127.0.0.1", "::1", "::1", "127.0.0.1"] {
            let mut client = tokio::net::TcpStream::connect((ip, port)).await.unwrap();
            let (mut conn, peer) = listener.accept().await.unwrap();
            assert_eq!(peer, Address::Inet(client.local_addr().unwrap()));
            client.write_all(b"Hello from client").await.unwrap();
            let mut greeting = [0; 17];
            conn.read_exact(&mut greeting).await.unwrap();
            assert_eq!(&greeting, b"Hello from client");
        }
        let client = ConnectorBuilder::new()
            .connect_endpoint_async(&Endpoint::Host("localhost".into(), port))
            .await
            .unwrap();
        let (_conn, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        eprintln!("tokio: localhost:{port} served 5 clients over ::1 and 127.0.0.1");
    });
}
