//! Bind conflicts: a port in use, with and without the reuse options, on
//! IPv4, IPv6 and dual-stack; and a Unix socket path that already exists as a
//! live listener, a stale socket file, a regular file, a directory or a link.
//!
//! The TCP/UDP expectations are Linux's rules (socket(7)): `SO_REUSEADDR`
//! never lets a second socket bind beside a listening one, but lets a server
//! rebind a port whose old connections linger once both set it;
//! `SO_REUSEPORT` lets sockets share a port when all of them set it.
// The TCP and UDP cases state Linux's rules and are compiled on Linux only.
#![cfg_attr(not(target_os = "linux"), allow(dead_code, unused_imports))]

use crate::util;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};

use crate::util::has_ipv6_loopback;
use sockwright::{Error, ListenerBuilder};

/// Reuse options for one side of a conflict.
#[derive(Debug, Clone, Copy)]
struct Reuse {
    address: bool,
    port: bool,
}

const NONE: Reuse = Reuse {
    address: false,
    port: false,
};
const ADDR: Reuse = Reuse {
    address: true,
    port: false,
};
const PORT: Reuse = Reuse {
    address: false,
    port: true,
};

fn builder(reuse: Reuse) -> ListenerBuilder {
    let mut b = ListenerBuilder::new();
    if reuse.address {
        b.reuse_address(true);
    }
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    if reuse.port {
        b.reuse_port(true);
    }
    b
}

/// Asserts the documented port-in-use error: `Error::Bind`, `AddrInUse`,
/// a message naming the address.
fn assert_in_use(result: Result<impl std::fmt::Debug, Error>, addr: SocketAddr, case: &str) {
    match result {
        Ok(v) => panic!("{case}: second bind on {addr} succeeded: {v:?}"),
        Err(e) => {
            assert!(matches!(e, Error::Bind { .. }), "{case}: {e}");
            assert_eq!(e.kind(), ErrorKind::AddrInUse, "{case}: {e}");
            assert!(
                e.to_string().starts_with(&format!("bind {addr}: ")),
                "{case}: message does not name {addr}: {e}"
            );
        }
    }
}

/// A second socket on the port of a first, for each pair of reuse options
/// and whether they share the port, on the loopback address `ip`. `bind`
/// makes one socket and returns its address; the first is held while the
/// second tries.
#[cfg(target_os = "linux")]
fn conflicts<S>(
    what: &str,
    ip: &str,
    cases: &[(Reuse, Reuse, bool)],
    bind: impl Fn(&ListenerBuilder, SocketAddr) -> Result<S, Error>,
    addr_of: impl Fn(&S) -> SocketAddr,
) {
    let ip: std::net::IpAddr = ip.parse().unwrap();
    for &(first, second, shares) in cases {
        let case = format!("{what} {ip}: first {first:?}, second {second:?}");
        let one = bind(&builder(first), (ip, 0).into()).unwrap();
        let addr = addr_of(&one);
        match bind(&builder(second), addr) {
            Ok(two) if shares => assert_eq!(addr_of(&two), addr, "{case}"),
            Err(e) if shares => panic!("{case}: {e}"),
            two => assert_in_use(two.map(|two| addr_of(&two)), addr, &case),
        }
        // The first socket is unharmed by the second attempt.
        assert_eq!(addr_of(&one), addr, "{case}");
    }
}

/// TCP: `SO_REUSEADDR` never lets a second socket bind beside a listening
/// one; `SO_REUSEPORT` on both does. A failed attempt leaves the first
/// listener working.
#[cfg(target_os = "linux")]
fn tcp_conflicts(ip: &str) {
    let cases = [
        (NONE, NONE, false),
        (ADDR, ADDR, false),
        (NONE, ADDR, false),
        (PORT, NONE, false),
        (NONE, PORT, false),
        (ADDR, PORT, false),
        (PORT, PORT, true),
    ];
    let addr_of = |l: &std::net::TcpListener| {
        let addr = l.local_addr().unwrap();
        assert!(TcpStream::connect(addr).is_ok(), "listener on {addr} gone");
        addr
    };
    conflicts("tcp", ip, &cases, |b, a| b.listen(a), addr_of);
}

/// UDP: Linux lets datagram sockets share a port when both set
/// `SO_REUSEADDR`, or both `SO_REUSEPORT`.
#[cfg(target_os = "linux")]
fn udp_conflicts(ip: &str) {
    let cases = [
        (NONE, NONE, false),
        (NONE, ADDR, false),
        (ADDR, NONE, false),
        (ADDR, ADDR, true),
        (PORT, NONE, false),
        (PORT, PORT, true),
    ];
    let addr_of = |s: &std::net::UdpSocket| s.local_addr().unwrap();
    conflicts("udp", ip, &cases, |b, a| b.bind_udp(a), addr_of);
}

/// A port whose only connection was closed by the server first, so that the
/// connection lingers on it (TIME_WAIT, or FIN_WAIT2 for a moment), after
/// the listener itself is gone.
#[cfg(target_os = "linux")]
fn port_with_lingering_connection(ip: &str, reuse: Reuse) -> SocketAddr {
    let listener = builder(reuse).listen((ip, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    let (server_side, _) = listener.accept().unwrap();
    drop(listener);
    drop(server_side);
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    drop(client);
    // A child that another test's thread starts can hold a copy of the
    // listener for a moment (see `util::poll_until`).
    let nothing_listens = || !tcp_states_on(addr).iter().any(|s| s == "0A");
    assert!(
        util::poll_until(std::time::Duration::from_secs(5), nothing_listens),
        "{addr} still listens 5 s after its listener closed"
    );
    let states = tcp_states_on(addr);
    assert!(
        states.iter().any(|s| s == "06" || s == "05"),
        "no lingering connection on {addr}: states {states:?}"
    );
    addr
}

/// The TCP states (hex, as `/proc/net/tcp` shows them) of sockets whose
/// local port is `addr`'s.
#[cfg(target_os = "linux")]
fn tcp_states_on(addr: SocketAddr) -> Vec<String> {
    let table = if addr.is_ipv4() {
        "/proc/net/tcp"
    } else {
        "/proc/net/tcp6"
    };
    let suffix = format!(":{:04X}", addr.port());
    std::fs::read_to_string(table)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.get(1)?.ends_with(&suffix)).then(|| fields.get(3).map(|s| s.to_string()))?
        })
        .collect()
}

/// Restarting a server on a port with a lingering connection needs
/// `SO_REUSEADDR` on both the old and the new listener.
#[cfg(target_os = "linux")]
fn restart_after_close(ip: &str) {
    for (old, new, ok) in [
        (NONE, NONE, false),
        (NONE, ADDR, false),
        (ADDR, NONE, false),
        (ADDR, ADDR, true),
    ] {
        let case = format!("restart on {ip}: old {old:?}, new {new:?}");
        let addr = port_with_lingering_connection(ip, old);
        let again = builder(new).listen(addr);
        if ok {
            again.unwrap_or_else(|e| panic!("{case}: {e}"));
        } else {
            assert_in_use(again, addr, &case);
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn ipv4_port_in_use() {
    tcp_conflicts("127.0.0.1");
    udp_conflicts("127.0.0.1");
    restart_after_close("127.0.0.1");
}

#[cfg(target_os = "linux")]
#[test]
fn ipv6_port_in_use() {
    if !has_ipv6_loopback() {
        eprintln!("skipped: this host has no IPv6 loopback (::1)");
        return;
    }
    tcp_conflicts("::1");
    udp_conflicts("::1");
    restart_after_close("::1");
}

/// An IPv6 socket with only-v6 off carries IPv4 too: bound to the IPv4-mapped
/// loopback `::ffff:127.0.0.1`, it holds the IPv4 port, in both orders.
#[cfg(target_os = "linux")]
#[test]
fn dual_stack_port_in_use() {
    if !has_ipv6_loopback() {
        eprintln!("skipped: this host has no IPv6 loopback (::1)");
        return;
    }
    let mut dual = ListenerBuilder::new();
    dual.only_v6(false);

    let v6 = dual.listen("[::ffff:127.0.0.1]:0").unwrap();
    let port = v6.local_addr().unwrap().port();
    let v4_addr: SocketAddr = ([127, 0, 0, 1], port).into();
    assert_in_use(
        ListenerBuilder::new().listen(v4_addr),
        v4_addr,
        "v4 after dual",
    );

    // An IPv4 client reaches the IPv6 listener.
    let mut client = TcpStream::connect(v4_addr).unwrap();
    let (mut conn, peer) = v6.accept().unwrap();
    assert_eq!(peer.ip().to_string(), "::ffff:127.0.0.1");
    client.write_all(b"v4 over v6").unwrap();
    let mut buf = [0; 10];
    conn.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"v4 over v6");

    let v4 = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let port = v4.local_addr().unwrap().port();
    let mapped: SocketAddr = format!("[::ffff:127.0.0.1]:{port}").parse().unwrap();
    assert_in_use(dual.listen(mapped), mapped, "dual after v4");

    // With only-v6 on, an IPv4-mapped address is not an address of the socket.
    let err = ListenerBuilder::new()
        .only_v6(true)
        .listen("[::ffff:127.0.0.1]:0")
        .unwrap_err();
    assert!(matches!(err, Error::Bind { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[cfg(unix)]
mod unix_paths {
    use super::util::TempDir;
    use super::*;
    use std::fs;
    use std::os::unix::fs::FileTypeExt;
    use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
    use std::path::Path;

    fn assert_path_in_use<T: std::fmt::Debug>(result: Result<T, Error>, path: &Path, case: &str) {
        match result {
            Ok(v) => panic!("{case}: bind on {} succeeded: {v:?}", path.display()),
            Err(e) => {
                assert!(matches!(e, Error::Bind { .. }), "{case}: {e}");
                assert_eq!(e.kind(), ErrorKind::AddrInUse, "{case}: {e}");
                assert!(
                    e.to_string()
                        .starts_with(&format!("bind {}: ", path.display())),
                    "{case}: message does not name the path: {e}"
                );
            }
        }
    }

    fn is_socket(path: &Path) -> bool {
        fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket())
    }

    /// Serves one connection on `listener` and checks it carries bytes.
    fn still_serves(listener: &UnixListener, path: &Path) {
        let mut client = UnixStream::connect(path).unwrap();
        let (mut conn, _) = listener.accept().unwrap();
        client.write_all(b"alive").unwrap();
        let mut buf = [0; 5];
        conn.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"alive");
    }

    fn with_removal(remove: bool) -> ListenerBuilder {
        let mut b = ListenerBuilder::new();
        b.remove_stale_socket(remove);
        b
    }

    #[test]
    fn live_listener_is_never_replaced() {
        let dir = TempDir::new("bind-live");
        let path = dir.join("live.sock");
        let live = ListenerBuilder::new().listen_unix(&path).unwrap();
        for remove in [false, true] {
            let case = format!("live listener, remove_stale_socket({remove})");
            assert_path_in_use(with_removal(remove).listen_unix(&path), &path, &case);
            assert!(is_socket(&path), "{case}: path gone");
        }
        if cfg!(any(target_os = "linux", target_os = "android")) {
            // The kernel's table of sockets told: no connection came.
            live.set_nonblocking(true).unwrap();
            let err = live.accept().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::WouldBlock, "a probe connected");
            live.set_nonblocking(false).unwrap();
        } else {
            // The probe was one connection that closed at once.
            let (mut probe, _) = live.accept().unwrap();
            let mut rest = Vec::new();
            assert_eq!(probe.read_to_end(&mut rest).unwrap(), 0);
        }
        // The listener still serves the next client.
        still_serves(&live, &path);
    }

    #[test]
    fn live_listener_with_full_backlog_is_never_replaced() {
        let dir = TempDir::new("bind-full");
        let path = dir.join("full.sock");
        let live = ListenerBuilder::new()
            .backlog(0)
            .listen_unix(&path)
            .unwrap();
        // Fill the accept queue: a nonblocking connect then says WouldBlock.
        let mut queued = Vec::new();
        let mut full = false;
        for _ in 0..64 {
            let s =
                socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
            s.set_nonblocking(true).unwrap();
            match s.connect(&socket2::SockAddr::unix(&path).unwrap()) {
                Ok(()) => queued.push(s),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    full = true;
                    break;
                }
                Err(e) => panic!("filling the queue: {e}"),
            }
        }
        assert!(
            full,
            "the accept queue of a backlog-0 Unix listener never filled"
        );
        assert_path_in_use(
            with_removal(true).listen_unix(&path),
            &path,
            "live listener with a full queue",
        );
        assert!(is_socket(&path));
        // Drain the queue (the builder's probe never got into it), then serve.
        for _ in 0..queued.len() {
            live.accept().unwrap();
        }
        still_serves(&live, &path);
    }

    #[test]
    fn stale_socket_file_is_removed_only_when_asked() {
        let dir = TempDir::new("bind-stale");
        let path = dir.join("stale.sock");
        drop(UnixListener::bind(&path).unwrap());
        assert!(is_socket(&path));
        util::await_stale(&path);

        assert_path_in_use(ListenerBuilder::new().listen_unix(&path), &path, "default");
        assert!(is_socket(&path), "default: the stale file was removed");

        let listener = with_removal(true).listen_unix(&path).unwrap();
        still_serves(&listener, &path);
    }

    #[test]
    fn stale_datagram_socket_file_is_removed_only_when_asked() {
        let dir = TempDir::new("bind-stale-dgram");
        let path = dir.join("stale.sock");
        drop(UnixDatagram::bind(&path).unwrap());

        assert_path_in_use(
            ListenerBuilder::new().bind_unix_datagram(&path),
            &path,
            "default",
        );
        let server = with_removal(true).bind_unix_datagram(&path).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        client.send_to(b"ping", &path).unwrap();
        let mut buf = [0; 4];
        assert_eq!(server.recv(&mut buf).unwrap(), 4);
        assert_eq!(&buf, b"ping");
    }

    #[test]
    fn live_datagram_socket_is_never_replaced() {
        let dir = TempDir::new("bind-live-dgram");
        let path = dir.join("live.sock");
        let live = UnixDatagram::bind(&path).unwrap();
        assert_path_in_use(
            with_removal(true).bind_unix_datagram(&path),
            &path,
            "live datagram socket",
        );
        let client = UnixDatagram::unbound().unwrap();
        client.send_to(b"ping", &path).unwrap();
        let mut buf = [0; 4];
        assert_eq!(live.recv(&mut buf).unwrap(), 4);
    }

    #[test]
    fn regular_file_directory_and_link_are_never_removed() {
        let dir = TempDir::new("bind-files");
        let file = dir.join("data.txt");
        fs::write(&file, b"precious").unwrap();
        let sub = dir.join("subdir");
        fs::create_dir(&sub).unwrap();
        fs::write(sub.join("inside"), b"also precious").unwrap();
        let stale = dir.join("stale.sock");
        drop(UnixListener::bind(&stale).unwrap());
        let link = dir.join("link.sock");
        std::os::unix::fs::symlink(&stale, &link).unwrap();

        for remove in [false, true] {
            let b = with_removal(remove);
            let case = format!("remove_stale_socket({remove})");
            assert_path_in_use(b.listen_unix(&file), &file, &case);
            assert_path_in_use(b.bind_unix_datagram(&file), &file, &case);
            assert_eq!(fs::read(&file).unwrap(), b"precious", "{case}");

            assert_path_in_use(b.listen_unix(&sub), &sub, &case);
            assert_eq!(fs::read(sub.join("inside")).unwrap(), b"also precious");

            assert_path_in_use(b.listen_unix(&link), &link, &case);
            assert!(
                fs::symlink_metadata(&link)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
            assert!(is_socket(&stale), "{case}: the link's target was removed");
        }
    }
}
