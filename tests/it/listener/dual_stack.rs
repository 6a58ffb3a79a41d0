//! Only-v6 decides whether an IPv6 socket bound to `::` also serves IPv4
//! clients (as IPv4-mapped addresses, `::ffff:a.b.c.d`).
//!
//! The listeners bind the IPv6 wildcard `::`, the only address that can take
//! both families; every client connects to loopback.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};

use crate::util::has_ipv6_loopback;
use sockwright::{ConnectorBuilder, Error, ListenerBuilder};

const V4_LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// `::ffff:127.0.0.1`, how an IPv6 socket sees an IPv4 loopback peer.
const MAPPED_LOOPBACK: IpAddr = IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped());

fn ipv6_or_skip() -> bool {
    let ok = has_ipv6_loopback();
    if !ok {
        eprintln!("skipped: this host has no IPv6 loopback (binding [::1]:0 fails)");
    }
    ok
}

#[test]
fn only_v6_off_accepts_an_ipv4_mapped_client() {
    if !ipv6_or_skip() {
        return;
    }
    let listener = ListenerBuilder::new()
        .only_v6(false)
        .listen("[::]:0")
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let client =
        TcpStream::connect((V4_LOOPBACK, port)).expect("IPv4 client to a dual-stack listener");
    let (_conn, peer) = listener.accept().unwrap();
    assert_eq!(peer.ip(), MAPPED_LOOPBACK, "peer {peer}");
    assert_eq!(peer.port(), client.local_addr().unwrap().port());
    // An IPv6 client is served too.
    let client6 = TcpStream::connect((Ipv6Addr::LOCALHOST, port)).unwrap();
    let (_conn6, peer6) = listener.accept().unwrap();
    assert_eq!(peer6, client6.local_addr().unwrap());
}

#[test]
fn only_v6_on_refuses_an_ipv4_client() {
    if !ipv6_or_skip() {
        return;
    }
    let listener = ListenerBuilder::new()
        .only_v6(true)
        .listen("[::]:0")
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let v4 = SocketAddr::new(V4_LOOPBACK, port);
    let err = ConnectorBuilder::new().connect(v4).unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    assert!(
        err.to_string().starts_with(&format!("connect {v4}: ")),
        "{err}"
    );
    // The listener itself works: an IPv6 client is accepted.
    let client6 = TcpStream::connect((Ipv6Addr::LOCALHOST, port)).unwrap();
    let (_conn6, peer6) = listener.accept().unwrap();
    assert_eq!(peer6, client6.local_addr().unwrap());
}

/// The same for datagrams: with only-v6 off an IPv4 datagram arrives from a
/// mapped address; with it on (Linux), it does not arrive at all: nothing
/// holds the port on IPv4, so an ICMP error comes back and the connected
/// sender's next receive reports it as refused.
#[test]
fn only_v6_decides_whether_ipv4_datagrams_arrive() {
    if !ipv6_or_skip() {
        return;
    }
    let dual = ListenerBuilder::new()
        .only_v6(false)
        .bind_udp("[::]:0")
        .unwrap();
    let port = dual.local_addr().unwrap().port();
    let sender = UdpSocket::bind((V4_LOOPBACK, 0)).unwrap();
    sender.send_to(b"ping", (V4_LOOPBACK, port)).unwrap();
    let mut buf = [0; 8];
    let (n, from) = dual.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"ping");
    assert_eq!(from.ip(), MAPPED_LOOPBACK);
    assert_eq!(from.port(), sender.local_addr().unwrap().port());

    #[cfg(target_os = "linux")]
    only_v6_on_drops_ipv4_datagrams();
}

#[cfg(target_os = "linux")]
fn only_v6_on_drops_ipv4_datagrams() {
    let mut buf = [0; 8];
    let v6_only = ListenerBuilder::new()
        .only_v6(true)
        .bind_udp("[::]:0")
        .unwrap();
    let port = v6_only.local_addr().unwrap().port();
    let sender = ConnectorBuilder::new()
        .read_timeout(std::time::Duration::from_secs(5))
        .connect_udp((V4_LOOPBACK, port))
        .unwrap();
    sender.send(b"ping").unwrap();
    let err = sender
        .recv(&mut buf)
        .expect_err("an IPv4 datagram reached an only-v6 socket");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    v6_only.set_nonblocking(true).unwrap();
    let err = v6_only
        .recv_from(&mut buf)
        .expect_err("an IPv4 datagram arrived");
    assert_eq!(err.kind(), ErrorKind::WouldBlock, "{err}");
}
