//! `ListenerBuilder::listen_all`: one listener per address, both families on
//! one port, and a failure that closes what was opened and names the address.

use crate::util;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sockwright::{Error, ListenerBuilder};

fn v6(port: u16) -> SocketAddr {
    (Ipv6Addr::LOCALHOST, port).into()
}

fn v4(port: u16) -> SocketAddr {
    (Ipv4Addr::LOCALHOST, port).into()
}

/// A client of `addr` says hello, the listener's accepted end answers.
fn exchange(listener: &TcpListener, addr: SocketAddr) {
    let mut client = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    let (mut conn, peer) = listener.accept().unwrap();
    assert_eq!(
        peer.is_ipv6(),
        addr.is_ipv6(),
        "{peer} came to the {addr} listener"
    );
    client.write_all(b"hi").unwrap();
    let mut buf = [0; 2];
    conn.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hi");
}

#[test]
fn an_ipv6_and_an_ipv4_client_reach_one_port() {
    if !util::has_ipv6_loopback() {
        eprintln!("skipped: no IPv6 loopback here");
        return;
    }
    let listeners = ListenerBuilder::new()
        .reuse_address(true)
        .listen_all(&[v6(0), v4(0)][..])
        .unwrap();
    assert_eq!(listeners.len(), 2);
    let port = listeners[0].local_addr().unwrap().port();
    assert_ne!(port, 0);
    assert_eq!(listeners[0].local_addr().unwrap(), v6(port));
    assert_eq!(listeners[1].local_addr().unwrap(), v4(port));
    let only_v6 = socket2::SockRef::from(&listeners[0]).only_v6().unwrap();
    assert!(only_v6, "the IPv6 listener is not only-v6");
    exchange(&listeners[0], v6(port));
    exchange(&listeners[1], v4(port));
}

#[test]
fn every_option_and_the_configure_hook_apply_to_each_listener() {
    if !util::has_ipv6_loopback() {
        eprintln!("skipped: no IPv6 loopback here");
        return;
    }
    let hooked = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&hooked);
    let listeners = ListenerBuilder::new()
        .nonblocking(true)
        .configure(move |socket| {
            count.fetch_add(1, Ordering::SeqCst);
            socket2::SockRef::from(&socket).set_recv_buffer_size(64 * 1024)
        })
        .listen_all(&[v4(0), v6(0)][..])
        .unwrap();
    // Once per socket made: two, and two more each time the port the IPv4
    // listener was given was taken on IPv6 by another program (another
    // test, here), which makes `listen_all` start over.
    let runs = hooked.load(Ordering::SeqCst);
    let most = 2 * ListenerBuilder::LISTEN_ALL_ATTEMPTS as usize;
    assert!(
        runs >= 2 && runs % 2 == 0 && runs <= most,
        "the hook ran {runs} times for two listeners"
    );
    for listener in &listeners {
        assert_eq!(
            listener.accept().unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock,
            "{:?} is blocking",
            listener.local_addr()
        );
        let size = socket2::SockRef::from(listener).recv_buffer_size().unwrap();
        assert!(
            size >= 64 * 1024,
            "{:?}: SO_RCVBUF {size}",
            listener.local_addr()
        );
    }
}

#[test]
fn a_repeated_address_is_listened_on_once() {
    let listeners = ListenerBuilder::new()
        .listen_all(&[v4(0), v4(0)][..])
        .unwrap();
    assert_eq!(listeners.len(), 1);
}

#[test]
fn a_failure_closes_what_was_opened_and_names_the_address() {
    let taken = TcpListener::bind(v4(0)).unwrap();
    let busy = taken.local_addr().unwrap();
    // A port that was free a moment ago, for the address that succeeds.
    let first = TcpListener::bind(v4(0)).unwrap().local_addr().unwrap();
    let err = ListenerBuilder::new()
        .listen_all(&[first, busy][..])
        .unwrap_err();
    assert!(matches!(err, Error::Bind { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with(&format!("bind {busy}: ")),
        "{err}"
    );
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    // The first address's listener was closed: its port can be bound again.
    TcpListener::bind(first).unwrap_or_else(|e| panic!("{first} still held: {e}"));
}

#[test]
fn only_v6_false_is_refused_before_any_socket() {
    let err = ListenerBuilder::new()
        .only_v6(false)
        .listen_all(&[v6(0)][..])
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
    assert!(err.to_string().contains("listen_all"), "{err}");
}
