//! The `configure` hook: it runs on every socket a builder makes, after the
//! builder's options and before `bind` and `connect`, once per attempt; it
//! sees what the socket is for; its failure is an error naming `configure`
//! and the address, and leaks nothing.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::util::{full_listener_at, has_ipv6_loopback, refused_port};
use socket2::SockRef;
use sockwright::{Address, ConnectorBuilder, Domain, Error, ListenerBuilder, Purpose, Type};

/// What a hook saw of its socket.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    domain: Domain,
    socket_type: Type,
    address: Address,
    purpose: Purpose,
    /// `getsockname` before `bind`: the unspecified address, port 0.
    local_port: u16,
    /// `getpeername` before `connect`: fails.
    has_peer: bool,
}

fn recorder() -> (
    Arc<Mutex<Vec<Seen>>>,
    impl Fn(sockwright::SocketRef<'_>) -> io::Result<()>,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let hook = move |socket: sockwright::SocketRef<'_>| {
        let s = SockRef::from(&socket);
        let local_port = s
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map_or(0, |a| a.port());
        log.lock().unwrap().push(Seen {
            domain: socket.domain(),
            socket_type: socket.socket_type(),
            address: socket.address().clone(),
            purpose: socket.purpose(),
            local_port,
            has_peer: s.peer_addr().is_ok(),
        });
        Ok(())
    };
    (seen, hook)
}

#[test]
fn listener_hook_sees_an_unbound_socket_and_what_it_is_for() {
    let (seen, hook) = recorder();
    let listener = ListenerBuilder::new()
        .configure(hook)
        .listen("127.0.0.1:0")
        .unwrap();
    let udp = {
        let (udp_seen, udp_hook) = recorder();
        let udp = ListenerBuilder::new()
            .configure(udp_hook)
            .bind_udp("127.0.0.1:0")
            .unwrap();
        let seen = udp_seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].socket_type, Type::Datagram);
        assert_eq!(seen[0].local_port, 0, "the hook ran after bind");
        udp
    };
    let seen = seen.lock().unwrap();
    assert_eq!(
        *seen,
        [Seen {
            domain: Domain::Ipv4,
            socket_type: Type::Stream,
            address: Address::Inet("127.0.0.1:0".parse().unwrap()),
            purpose: Purpose::Bind,
            local_port: 0,
            has_peer: false,
        }]
    );
    assert_ne!(listener.local_addr().unwrap().port(), 0);
    drop(udp);
}

#[test]
fn connector_hook_sees_an_unconnected_socket_and_its_target() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = server.local_addr().unwrap();
    let (seen, hook) = recorder();
    let stream = ConnectorBuilder::new()
        .local_address("127.0.0.1:0".parse().unwrap())
        .configure(hook)
        .connect(target)
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(
        *seen,
        [Seen {
            domain: Domain::Ipv4,
            socket_type: Type::Stream,
            address: Address::Inet(target),
            purpose: Purpose::Connect,
            local_port: 0,
            has_peer: false,
        }],
        "the hook runs before the source address is bound and before connect"
    );
    assert_eq!(stream.peer_addr().unwrap(), target);
}

#[cfg(unix)]
#[test]
fn hook_runs_on_unix_sockets_too() {
    let dir = crate::util::TempDir::new("configure");
    let path = dir.join("server.sock");
    let (seen, hook) = recorder();
    let listener = ListenerBuilder::new()
        .configure(hook)
        .listen_unix(&path)
        .unwrap();
    let (client_seen, client_hook) = recorder();
    let _client = ConnectorBuilder::new()
        .configure(client_hook)
        .connect_unix(&path)
        .unwrap();
    let (_conn, _) = listener.accept().unwrap();
    for (seen, purpose) in [(seen, Purpose::Bind), (client_seen, Purpose::Connect)] {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].domain, Domain::Unix);
        assert_eq!(seen[0].address, Address::Unix(path.clone()));
        assert_eq!(seen[0].purpose, purpose);
    }
}

/// Options that only work before a connect, set from a hook.
#[cfg(target_os = "linux")]
mod before_connect {
    use super::*;
    use crate::util::full_listener;
    use std::os::fd::AsRawFd;
    use std::time::Instant;

    fn set_int(socket: &impl AsRawFd, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
        // SAFETY: `value` is a live local of the size passed; the descriptor
        // is open for the borrow of `socket`.
        let rc = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::IPPROTO_TCP,
                name,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == -1 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// `TCP_FASTOPEN_CONNECT` fails with `EINVAL` once a socket is
    /// connected; from the hook it takes.
    #[test]
    fn hook_sets_fastopen_connect_which_fails_after_connect() {
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = ConnectorBuilder::new()
            .configure(|socket| set_int(&socket, libc::TCP_FASTOPEN_CONNECT, 1))
            .connect(server.local_addr().unwrap())
            .unwrap();
        let control = set_int(&stream, libc::TCP_FASTOPEN_CONNECT, 1).unwrap_err();
        assert_eq!(control.raw_os_error(), Some(libc::EINVAL), "{control}");
    }

    /// `TCP_USER_TIMEOUT` of 300 ms set by the hook bounds a connect to a
    /// listener that drops SYNs (full accept queue), with no connect timeout.
    #[test]
    fn hook_user_timeout_bounds_a_black_holed_connect() {
        let Some(full) = full_listener(Duration::from_millis(200)) else {
            eprintln!("skipped: this kernel does not drop SYNs at a full accept queue");
            return;
        };
        let started = Instant::now();
        let err = ConnectorBuilder::new()
            .configure(|socket| set_int(&socket, libc::TCP_USER_TIMEOUT, 300))
            .connect(full.addr)
            .unwrap_err();
        let took = started.elapsed();
        eprintln!("black-holed connect with TCP_USER_TIMEOUT 300 ms failed after {took:?}: {err}");
        assert!(matches!(err, Error::Connect { .. }), "{err:?}");
        assert!(took < Duration::from_millis(1500), "took {took:?}");
        assert!(took >= Duration::from_millis(250), "took {took:?}");
    }

    /// The builder's own setter does the same.
    #[test]
    fn tcp_user_timeout_setter_bounds_a_black_holed_connect() {
        let Some(full) = full_listener(Duration::from_millis(200)) else {
            eprintln!("skipped: this kernel does not drop SYNs at a full accept queue");
            return;
        };
        let started = Instant::now();
        let err = ConnectorBuilder::new()
            .tcp_user_timeout(Duration::from_millis(300))
            .connect(full.addr)
            .unwrap_err();
        let took = started.elapsed();
        assert!(took < Duration::from_millis(1500), "took {took:?}: {err}");
    }
}

/// A race of a black-holed `[::1]` and a live `127.0.0.1`: both attempts
/// start (the first one hangs), and the hook runs exactly once on each.
#[test]
fn hook_runs_once_per_attempt_in_a_race() {
    if !has_ipv6_loopback() {
        eprintln!("skipped: this host has no IPv6 loopback (::1)");
        return;
    }
    let Some(full) = full_listener_at("[::1]:0", Duration::from_millis(200)) else {
        eprintln!("skipped: this kernel does not drop SYNs at a full accept queue");
        return;
    };
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let targets = [full.addr, live.local_addr().unwrap()];
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    let (seen, hook) = recorder();
    let stream = ConnectorBuilder::new()
        .connection_attempt_delay(Duration::from_millis(50))
        .connect_timeout(Duration::from_secs(5))
        .configure(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .configure(hook)
        .connect(&targets[..])
        .unwrap();
    assert_eq!(stream.peer_addr().unwrap(), targets[1]);
    assert_eq!(count.load(Ordering::SeqCst), 2, "one run per attempt");
    let addresses: Vec<Address> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.address.clone())
        .collect();
    assert_eq!(
        addresses,
        [Address::Inet(targets[0]), Address::Inet(targets[1])],
        "each hook ran in order, on each attempt's own address"
    );
}

/// Sequential attempts: a refused address, then a live one.
#[test]
fn hook_runs_once_per_address_tried_in_turn() {
    let (_held, refused) = refused_port();
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let (seen, hook) = recorder();
    ConnectorBuilder::new()
        .happy_eyeballs(false)
        .configure(hook)
        .connect(&[refused, live.local_addr().unwrap()][..])
        .unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2);
}

fn denied() -> io::Error {
    io::Error::from(io::ErrorKind::PermissionDenied)
}

#[test]
fn failing_hook_names_configure_and_the_address() {
    let err = ListenerBuilder::new()
        .configure(|_| Err(denied()))
        .listen("127.0.0.1:0")
        .unwrap_err();
    assert!(matches!(err, Error::Configure { .. }), "{err:?}");
    assert_eq!(err.to_string(), "configure 127.0.0.1:0: permission denied");
    assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);

    let os = io::Error::from_raw_os_error(13);
    let text = os.to_string();
    let err = ConnectorBuilder::new()
        .configure(|_| Err(io::Error::from_raw_os_error(13)))
        .connect("127.0.0.1:9")
        .unwrap_err();
    assert!(
        err.to_string().starts_with("configure 127.0.0.1:9: "),
        "{err}"
    );
    assert!(
        err.to_string()
            .to_lowercase()
            .ends_with(&text.to_lowercase()),
        "{err}"
    );
    assert_eq!(err.raw_os_error(), Some(13));
}

/// In a race, a failing hook is that attempt's failure: the race goes on.
#[test]
fn failing_hook_fails_only_its_attempt_in_a_race() {
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let (_held, refused) = refused_port();
    let v6: SocketAddr = format!("[::1]:{}", refused.port()).parse().unwrap();
    let stream = ConnectorBuilder::new()
        .configure(|socket| {
            if socket.domain() == Domain::Ipv6 {
                Err(denied())
            } else {
                Ok(())
            }
        })
        .connect(&[v6, live.local_addr().unwrap()][..])
        .unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());

    let err = ConnectorBuilder::new()
        .configure(|_| Err(denied()))
        .connect(&[v6, live.local_addr().unwrap()][..])
        .unwrap_err();
    let Error::AllAttemptsFailed { attempts, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(attempts.len(), 2, "{err}");
    assert!(
        attempts
            .iter()
            .all(|e| matches!(e, Error::Configure { .. })),
        "{err}"
    );
    assert!(
        err.to_string().contains(&format!("configure {v6}: ")),
        "{err}"
    );
}

/// With a hook set, the builders stay `Debug + Clone + Send + Sync +
/// Default`, and a clone runs the same hook.
#[test]
fn builders_with_a_hook_keep_their_traits() {
    fn traits<T: std::fmt::Debug + Clone + Send + Sync + Default>() {}
    traits::<ListenerBuilder>();
    traits::<ConnectorBuilder>();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    let mut builder = ListenerBuilder::new();
    builder.configure(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    let copy = builder.clone();
    assert!(format!("{copy:?}").contains("1 configure hook"), "{copy:?}");
    std::thread::spawn(move || copy.listen("127.0.0.1:0").map(drop))
        .join()
        .unwrap()
        .unwrap();
    builder.listen("127.0.0.1:0").unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 2);
}
