//! Reuse-address and reuse-port are two options, each its own `setsockopt`
//! call; two listeners with reuse-port share a port and both accept, and
//! without it the second bind fails naming the address.

use std::io::ErrorKind;
#[cfg(target_os = "linux")]
use std::net::{SocketAddr, TcpListener, TcpStream};
#[cfg(target_os = "linux")]
use std::time::{Duration, Instant};

use sockwright::{Error, ListenerBuilder};

// `reuse_port` exists where the crate's setter does; spelled out once here.
macro_rules! with_reuse_port {
    ($($item:item)*) => {
        $(
            #[cfg(all(
                unix,
                not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
            ))]
            $item
        )*
    };
}

with_reuse_port! {
    use socket2::SockRef;

    /// Both options asked for: both read back on, on the same socket.
    #[test]
    fn reuse_address_and_reuse_port_are_both_set() {
        let listener = ListenerBuilder::new()
            .reuse_address(true)
            .reuse_port(true)
            .listen("127.0.0.1:0")
            .unwrap();
        let s = SockRef::from(&listener);
        assert!(s.reuse_address().unwrap(), "SO_REUSEADDR is off");
        assert!(s.reuse_port().unwrap(), "SO_REUSEPORT is off");
    }

    /// Each option alone sets only itself: they are not one flag word.
    #[test]
    fn each_reuse_option_alone_sets_only_itself() {
        let addr_only = ListenerBuilder::new().reuse_address(true).listen("127.0.0.1:0").unwrap();
        let s = SockRef::from(&addr_only);
        assert_eq!((s.reuse_address().unwrap(), s.reuse_port().unwrap()), (true, false));
        let port_only = ListenerBuilder::new().reuse_port(true).listen("127.0.0.1:0").unwrap();
        let s = SockRef::from(&port_only);
        assert_eq!((s.reuse_address().unwrap(), s.reuse_port().unwrap()), (false, true));
    }
}

/// The control: the C tutorial's `setsockopt(fd, SOL_SOCKET, SO_REUSEADDR |
/// SO_REUSEPORT, ...)`. Option names are numbers, not flags; on Linux
/// `2 | 15 == 15`, so the call sets `SO_REUSEPORT` alone and `SO_REUSEADDR`
/// stays off. (socket2's safe API cannot pass a made-up option name, so this
/// calls `setsockopt` directly.)
#[cfg(target_os = "linux")]
#[test]
fn control_or_ing_the_option_names_sets_only_reuse_port() {
    use std::os::fd::AsRawFd;

    assert_eq!(libc::SO_REUSEADDR | libc::SO_REUSEPORT, libc::SO_REUSEPORT);
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let on: libc::c_int = 1;
    // SAFETY: the fd is open for the life of `socket`; `on` is a live c_int
    // and its size is passed with it.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR | libc::SO_REUSEPORT,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "setsockopt: {}", std::io::Error::last_os_error());
    assert!(socket.reuse_port().unwrap());
    assert!(
        !socket.reuse_address().unwrap(),
        "OR-ing the names set SO_REUSEADDR after all"
    );
}

/// Linux balances connections between listeners sharing a port by a hash
/// of the connection's addresses: connect (at most 200 clients, 20 s) until
/// each listener has accepted at least one.
#[cfg(target_os = "linux")]
#[test]
fn two_reuse_port_listeners_share_a_port_and_both_accept() {
    let mut builder = ListenerBuilder::new();
    builder.reuse_port(true).nonblocking(true);
    let first = builder.listen("127.0.0.1:0").unwrap();
    let addr = first.local_addr().unwrap();
    let second = builder
        .listen(addr)
        .expect("second listener with reuse_port");
    assert_eq!(second.local_addr().unwrap(), addr);

    let listeners = [&first, &second];
    let mut accepted = [0usize; 2];
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut clients = 0;
    while accepted.contains(&0) && clients < 200 && Instant::now() < deadline {
        let client = TcpStream::connect(addr).unwrap();
        clients += 1;
        let which = accept_one(&listeners, deadline).expect("no listener accepted the client");
        assert_eq!(which.1, client.local_addr().unwrap());
        accepted[which.0] += 1;
    }
    eprintln!(
        "{clients} clients: first listener accepted {}, second {}",
        accepted[0], accepted[1]
    );
    assert!(
        !accepted.contains(&0),
        "after {clients} clients one listener accepted none: {accepted:?}"
    );
}

/// Polls the nonblocking listeners until one accepts; returns its index and
/// the peer's address.
#[cfg(target_os = "linux")]
fn accept_one(listeners: &[&TcpListener; 2], deadline: Instant) -> Option<(usize, SocketAddr)> {
    while Instant::now() < deadline {
        for (i, l) in listeners.iter().enumerate() {
            match l.accept() {
                Ok((_, peer)) => return Some((i, peer)),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("accept: {e}"),
            }
        }
        // Paces the polling while the handshake completes; not a sync point.
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

/// Without reuse-port on both, the second bind fails with `AddrInUse` and
/// a message naming the address.
#[test]
fn without_reuse_port_the_second_bind_fails_naming_the_address() {
    let first = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let addr = first.local_addr().unwrap();
    let err = ListenerBuilder::new().listen(addr).unwrap_err();
    assert_addr_in_use(&err, &addr.to_string());

    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    {
        // Reuse-port must be on for every socket sharing the port.
        let err = ListenerBuilder::new()
            .reuse_port(true)
            .listen(addr)
            .unwrap_err();
        assert_addr_in_use(&err, &addr.to_string());
        let shared = ListenerBuilder::new()
            .reuse_port(true)
            .listen("127.0.0.1:0")
            .unwrap();
        let shared_addr = shared.local_addr().unwrap();
        let err = ListenerBuilder::new().listen(shared_addr).unwrap_err();
        assert_addr_in_use(&err, &shared_addr.to_string());
    }
}

fn assert_addr_in_use(err: &Error, addr: &str) {
    assert!(matches!(err, Error::Bind { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
    assert!(
        err.to_string().starts_with(&format!("bind {addr}: ")),
        "message does not start with the step and address: {err}"
    );
}
