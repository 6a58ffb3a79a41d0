//! Windows address-reuse semantics: `SO_EXCLUSIVEADDRUSE`, Windows' own
//! meaning of `SO_REUSEADDR`, the `IPV6_V6ONLY` default and Winsock error
//! codes; and socket activation, which Windows does not have. Runs only on
//! Windows (CI runs it under Wine).
#![cfg(windows)]

use std::io;
use std::net::{Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};

use crate::util::exclusive_address_use;
use sockwright::{ConnectorBuilder, Error, ListenerBuilder};

/// `WSAEADDRINUSE`
const WSAEADDRINUSE: i32 = 10048;
/// `WSAEACCES`
const WSAEACCES: i32 = 10013;
/// `WSAECONNREFUSED`
const WSAECONNREFUSED: i32 = 10061;

fn loopback_v4() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A listener with `SO_EXCLUSIVEADDRUSE` on an ephemeral loopback port.
fn exclusive_listener() -> (TcpListener, SocketAddr) {
    let listener = ListenerBuilder::new()
        .exclusive_address_use(true)
        .listen(loopback_v4())
        .expect("exclusive listener");
    let addr = listener.local_addr().expect("local_addr");
    (listener, addr)
}

/// Asserts that `result` is a bind failure on `addr` with the given Winsock code.
fn assert_bind_refused<T: std::fmt::Debug>(result: Result<T, Error>, addr: SocketAddr, code: i32) {
    let err = result.expect_err("a second bind on a port in exclusive use must fail");
    assert!(
        matches!(err, Error::Bind { .. }),
        "not a bind error: {err:?}"
    );
    assert_eq!(err.raw_os_error(), Some(code), "{err}");
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("bind {addr}: ")), "{msg}");
}

#[test]
fn exclusive_address_use_is_read_back_on_every_socket_kind() {
    for on in [true, false] {
        let listener = ListenerBuilder::new()
            .exclusive_address_use(on)
            .listen(loopback_v4())
            .unwrap();
        assert_eq!(exclusive_address_use(&listener).unwrap(), on, "listener");

        let udp = ListenerBuilder::new()
            .exclusive_address_use(on)
            .bind_udp(loopback_v4())
            .unwrap();
        assert_eq!(exclusive_address_use(&udp).unwrap(), on, "udp");

        let stream = ConnectorBuilder::new()
            .local_address(loopback_v4())
            .exclusive_address_use(on)
            .connect(listener.local_addr().unwrap())
            .unwrap();
        assert_eq!(exclusive_address_use(&stream).unwrap(), on, "stream");
    }
}

#[test]
fn exclusive_address_use_is_off_unless_asked() {
    let listener = ListenerBuilder::new().listen(loopback_v4()).unwrap();
    assert!(!exclusive_address_use(&listener).unwrap());
}

// On one loopback address a second bind fails against a plain first socket
// too; what SO_EXCLUSIVEADDRUSE adds over that shows against wildcard binds,
// which these tests do not make, as they touch loopback only. The read-back
// above is what proves the option is set; the tests below prove what a
// server using it can count on, and that the errors name the address.

#[test]
fn exclusive_listener_refuses_a_plain_second_bind() {
    let (_listener, addr) = exclusive_listener();
    assert_bind_refused(ListenerBuilder::new().listen(addr), addr, WSAEADDRINUSE);
    assert_eq!(
        ListenerBuilder::new().listen(addr).unwrap_err().kind(),
        io::ErrorKind::AddrInUse
    );
}

#[test]
fn exclusive_listener_refuses_a_reuse_address_second_bind_and_still_serves() {
    // The attack SO_EXCLUSIVEADDRUSE exists for: another socket asking for
    // SO_REUSEADDR to take the port over. Windows answers WSAEACCES, and the
    // first listener keeps its port.
    let (listener, addr) = exclusive_listener();
    let second = ListenerBuilder::new().reuse_address(true).listen(addr);
    assert_bind_refused(second, addr, WSAEACCES);
    let client = TcpStream::connect(addr).unwrap();
    let (conn, peer) = listener.accept().unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    assert_eq!(conn.local_addr().unwrap(), addr);
}

/// Binds a UDP socket from `first` on an ephemeral loopback port, then one
/// from `second` on the same address; returns the first, the address and the
/// second's result.
fn bind_udp_twice(
    first: &mut ListenerBuilder,
    second: &mut ListenerBuilder,
) -> (UdpSocket, SocketAddr, Result<UdpSocket, Error>) {
    let first = first.bind_udp(loopback_v4()).unwrap();
    let addr = first.local_addr().unwrap();
    (first, addr, second.bind_udp(addr))
}

#[test]
fn reuse_address_lets_a_second_socket_bind_the_same_port() {
    // What the reuse-address documentation warns of: on Windows, when both
    // sockets ask for SO_REUSEADDR, the second binds a port the first holds.
    // Shown with UDP: Windows allows the same for TCP listeners, but Wine,
    // which CI runs this under, sits on a Linux kernel that refuses a second
    // bind on a listening port whatever the options.
    let (_first, addr, second) = bind_udp_twice(
        ListenerBuilder::new().reuse_address(true),
        ListenerBuilder::new().reuse_address(true),
    );
    let second = second.expect("both sockets set SO_REUSEADDR: Windows lets the second bind");
    assert_eq!(second.local_addr().unwrap(), addr);
}

#[test]
fn exclusive_udp_socket_refuses_a_reuse_address_second_bind() {
    let (_first, addr, second) = bind_udp_twice(
        ListenerBuilder::new().exclusive_address_use(true),
        ListenerBuilder::new().reuse_address(true),
    );
    assert_bind_refused(second, addr, WSAEACCES);
}

#[test]
fn reuse_address_on_the_second_socket_alone_does_not_take_the_port() {
    // Since Windows Server 2003 the first socket must also have asked for
    // SO_REUSEADDR before another may share its port.
    let first = ListenerBuilder::new().listen(loopback_v4()).unwrap();
    let addr = first.local_addr().unwrap();
    let err = ListenerBuilder::new()
        .reuse_address(true)
        .listen(addr)
        .unwrap_err();
    assert!(matches!(err, Error::Bind { .. }), "{err:?}");
    assert!(
        matches!(err.raw_os_error(), Some(WSAEACCES | WSAEADDRINUSE)),
        "{err}"
    );
}

#[test]
fn exclusive_address_use_with_reuse_address_is_rejected_before_any_call() {
    let err = ListenerBuilder::new()
        .exclusive_address_use(true)
        .reuse_address(true)
        .listen(loopback_v4())
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
    assert_eq!(err.raw_os_error(), None);
    let msg = err.to_string();
    assert!(
        msg.contains("SO_EXCLUSIVEADDRUSE") && msg.contains("SO_REUSEADDR"),
        "{msg}"
    );
}

#[test]
fn only_v6_is_on_by_default() {
    let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, 0));
    let listener = match ListenerBuilder::new().listen(v6) {
        Ok(listener) => listener,
        Err(err) if err.kind() == io::ErrorKind::AddrNotAvailable => {
            eprintln!("skipped: no IPv6 loopback here ({err})");
            return;
        }
        Err(err) => panic!("{err}"),
    };
    assert!(socket2::SockRef::from(&listener).only_v6().unwrap());
}

#[test]
fn refused_connect_carries_the_winsock_code() {
    // A port that was just listening and is now closed refuses on loopback.
    let addr = {
        let listener = ListenerBuilder::new().listen(loopback_v4()).unwrap();
        listener.local_addr().unwrap()
    };
    let err = ConnectorBuilder::new().connect(addr).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    assert_eq!(err.raw_os_error(), Some(WSAECONNREFUSED), "{err}");
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("connect {addr}: ")), "{msg}");
}

#[test]
fn socket_activation_and_fd_endpoints_are_unsupported() {
    use sockwright::activation::{self, ListenFds};
    let unsupported = |result: Result<_, Error>| match result {
        Err(Error::Unsupported { .. }) => {}
        other => panic!("expected Unsupported, got {other:?}"),
    };
    unsupported(ListenFds::from_env().map(drop));
    // SAFETY: on Windows the call touches no descriptor.
    unsupported(unsafe { activation::listener(3) }.map(drop));
    let endpoint: sockwright::Endpoint = "fd:3".parse().unwrap();
    // Not allowed, and allowed: Unsupported either way, never the advice to allow it.
    let mut builder = ListenerBuilder::new();
    unsupported(builder.listen_endpoint(&endpoint).map(drop));
    // SAFETY: on Windows no descriptor is adopted.
    unsafe { builder.allow_fd_endpoints(true) };
    unsupported(builder.listen_endpoint(&endpoint).map(drop));
}
