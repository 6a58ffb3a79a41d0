//! `ConnectorBuilder`: the source address is honoured, connect timeouts end
//! in `TimedOut` on time, every failed address of a name is listed in order,
//! and the UDP and Unix finishing calls connect.

use std::io::ErrorKind;
#[cfg(unix)]
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
#[cfg(target_os = "linux")]
use std::time::{Duration, Instant};

#[cfg(unix)]
use crate::util::TempDir;
#[cfg(target_os = "linux")]
use crate::util::full_unix_listener;
use crate::util::{has_ipv6_loopback, refused_port};
use socket2::SockRef;
use sockwright::{ConnectorBuilder, Error};

#[test]
fn source_address_with_port_zero_is_honoured() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = ConnectorBuilder::new()
        .local_address("127.0.0.1:0".parse().unwrap())
        .connect(server.local_addr().unwrap())
        .unwrap();
    let local = stream.local_addr().unwrap();
    assert_eq!(local.ip().to_string(), "127.0.0.1");
    assert_ne!(local.port(), 0);
    let (_conn, peer) = server.accept().unwrap();
    assert_eq!(peer, local);
}

/// A fixed source port, taken from an ephemeral port that was just released,
/// with reuse-address as the docs advise: the server sees exactly that port.
#[test]
fn fixed_source_port_is_honoured() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let source = SocketAddr::from(([127, 0, 0, 1], port));
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = ConnectorBuilder::new()
        .reuse_address(true)
        .local_address(source)
        .connect(server.local_addr().unwrap())
        .unwrap();
    assert_eq!(stream.local_addr().unwrap(), source);
    assert!(SockRef::from(&stream).reuse_address().unwrap());
    let (_conn, peer) = server.accept().unwrap();
    assert_eq!(peer, source, "the server saw another source");
}

/// The source IP is honoured too: Linux routes all of 127.0.0.0/8 to the
/// loopback interface, so 127.0.0.2 is a source no default would pick.
#[cfg(target_os = "linux")]
#[test]
fn source_ip_other_than_the_default_is_honoured() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = ConnectorBuilder::new()
        .local_address("127.0.0.2:0".parse().unwrap())
        .connect(server.local_addr().unwrap())
        .unwrap();
    let (_conn, peer) = server.accept().unwrap();
    assert_eq!(peer.ip().to_string(), "127.0.0.2");
    assert_eq!(peer, stream.local_addr().unwrap());
}

/// With a source address of each family, each connect uses the one of its
/// destination's family.
#[test]
fn source_address_of_the_destination_family_is_used() {
    if !has_ipv6_loopback() {
        eprintln!("skipped: this host has no IPv6 loopback (::1)");
        return;
    }
    let mut builder = ConnectorBuilder::new();
    builder
        .local_address("127.0.0.1:0".parse().unwrap())
        .local_address("[::1]:0".parse().unwrap());
    for server in [
        TcpListener::bind("127.0.0.1:0"),
        TcpListener::bind("[::1]:0"),
    ] {
        let server = server.unwrap();
        let stream = builder.connect(server.local_addr().unwrap()).unwrap();
        let (_conn, peer) = server.accept().unwrap();
        assert_eq!(peer, stream.local_addr().unwrap());
        assert_eq!(peer.is_ipv6(), server.local_addr().unwrap().is_ipv6());
    }
}

/// Several addresses that all fail: `AllAttemptsFailed` lists each, in the
/// order given, each naming its address and reason.
#[test]
fn every_failed_address_is_listed_in_order() {
    let (_a, first) = refused_port();
    let (_b, second) = refused_port();
    let target = [first, second];
    let err = ConnectorBuilder::new().connect(&target[..]).unwrap_err();
    let Error::AllAttemptsFailed { attempts, .. } = &err else {
        panic!("expected AllAttemptsFailed, got {err}");
    };
    let shown: Vec<String> = attempts.iter().map(|e| e.to_string()).collect();
    assert_eq!(shown.len(), 2, "{err}");
    for (text, addr) in shown.iter().zip(target) {
        assert!(
            text.starts_with(&format!("connect {addr}: connection refused")),
            "{text}"
        );
    }
    assert_eq!(
        err.to_string(),
        format!(
            "[{first}, {second}]: all 2 addresses failed: {}; {}",
            shown[0], shown[1]
        )
    );
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn connect_udp_talks_to_its_peer_both_ways() {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let client = ConnectorBuilder::new()
        .read_timeout(std::time::Duration::from_secs(5))
        .connect_udp(server.local_addr().unwrap())
        .unwrap();
    assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
    client.send(b"Hello from client").unwrap();
    let mut buf = [0; 32];
    let (n, from) = server.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"Hello from client");
    assert_eq!(from, client.local_addr().unwrap());
    server.send_to(b"Hello from server", from).unwrap();
    let n = client.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"Hello from server");
}

#[cfg(unix)]
#[test]
fn connect_unix_talks_to_its_server_both_ways() {
    let dir = TempDir::new("connector-unix");
    let path = dir.join("server.sock");
    let server = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let mut client = ConnectorBuilder::new().connect_unix(&path).unwrap();
    let (mut conn, _) = server.accept().unwrap();
    assert_eq!(
        client.peer_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    client.write_all(b"Hello from client").unwrap();
    let mut buf = [0; 17];
    conn.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"Hello from client");
    conn.write_all(b"Hello from server").unwrap();
    client.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"Hello from server");
}

/// A connect timeout finer than the OS's `SO_SNDTIMEO` unit (one
/// microsecond) still bounds a Unix connect to a full accept queue: rounded
/// down it would be zero, which means "wait forever". The connect runs on a
/// thread so that a regression fails the test instead of hanging it.
#[cfg(target_os = "linux")]
#[test]
fn sub_microsecond_unix_connect_timeout_still_times_out() {
    let dir = TempDir::new("connector-tiny");
    let path = dir.join("full.sock");
    let (_listener, _queued) = full_unix_listener(&path);
    let (tx, rx) = std::sync::mpsc::channel();
    let target = path.clone();
    std::thread::spawn(move || {
        let started = Instant::now();
        let result = ConnectorBuilder::new()
            .connect_timeout(Duration::from_nanos(1))
            .connect_unix(&target);
        let _ = tx.send((result.map(drop), started.elapsed()));
    });
    let (result, took) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a 1 ns connect timeout did not end the connect within 10 s");
    let err = result.expect_err("connected to a full accept queue");
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("connect {}: ", path.display())),
        "{err}"
    );
    eprintln!("1 ns Unix connect timeout ended after {took:?}");
}
