//! Connects that cannot succeed: refused (nothing listens), timed out (a
//! full accept queue drops the SYN), and a name whose every address fails.
//! Each gives the documented error, naming the address, within its timeout.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[cfg(target_os = "linux")]
use crate::util::full_listener;
use crate::util::{has_ipv6_loopback, refused_port};
#[cfg(target_os = "linux")]
use sockwright::ListenerBuilder;
use sockwright::{ConnectorBuilder, Error};

/// Slack allowed on top of a timeout for scheduling on a busy machine.
const MARGIN: Duration = Duration::from_secs(1);

fn assert_connect_error(err: &Error, addr: SocketAddr, kind: ErrorKind) {
    assert!(matches!(err, Error::Connect { .. }), "{err}");
    assert_eq!(err.kind(), kind, "{err}");
    assert!(
        err.to_string().starts_with(&format!("connect {addr}: ")),
        "message does not name {addr}: {err}"
    );
}

#[test]
fn refused_is_reported_at_once_even_with_a_long_timeout() {
    let (_holder, addr) = refused_port();
    for timeout in [None, Some(Duration::from_secs(30))] {
        let mut b = ConnectorBuilder::new();
        if let Some(t) = timeout {
            b.connect_timeout(t);
        }
        let started = Instant::now();
        let err = b.connect(addr).unwrap_err();
        let took = started.elapsed();
        assert_connect_error(&err, addr, ErrorKind::ConnectionRefused);
        assert!(
            took < MARGIN,
            "refused after {took:?} (timeout {timeout:?})"
        );
        assert!(
            err.to_string().contains("connection refused"),
            "message lacks the reason: {err}"
        );
    }
}

#[test]
fn refused_on_ipv6() {
    if !has_ipv6_loopback() {
        eprintln!("skipped: this host has no IPv6 loopback (::1)");
        return;
    }
    let holder = socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::STREAM, None).unwrap();
    holder
        .bind(&"[::1]:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    let addr = holder.local_addr().unwrap().as_socket().unwrap();
    let err = ConnectorBuilder::new().connect(addr).unwrap_err();
    assert_connect_error(&err, addr, ErrorKind::ConnectionRefused);
}

#[test]
fn every_address_refused_lists_each_in_order() {
    let (_a, first) = refused_port();
    let (_b, second) = refused_port();
    let err = ConnectorBuilder::new()
        .connect(&[first, second][..])
        .unwrap_err();
    let Error::AllAttemptsFailed { attempts, .. } = &err else {
        panic!("expected AllAttemptsFailed, got {err}");
    };
    assert_eq!(attempts.len(), 2, "{err}");
    assert_connect_error(&attempts[0], first, ErrorKind::ConnectionRefused);
    assert_connect_error(&attempts[1], second, ErrorKind::ConnectionRefused);
    let text = err.to_string();
    let (i, j) = (
        text.find(&first.to_string()).unwrap(),
        text.find(&second.to_string()).unwrap(),
    );
    assert!(i < j, "{text}");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}

/// Backlog overflow, seen from the client: a listener with the tutorial's
/// backlog of 3 that never accepts queues a few connections; the next connect
/// gets no answer (Linux drops the SYN) and fails with `Error::Connect` and
/// `TimedOut` within its timeout.
#[cfg(target_os = "linux")]
#[test]
fn backlog_overflow_times_out_within_the_timeout() {
    const BACKLOG: u32 = 3;
    let timeout = Duration::from_millis(300);
    let listener = ListenerBuilder::new()
        .backlog(BACKLOG)
        .listen("127.0.0.1:0")
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    let mut overflow = None;
    for _ in 0..64 {
        let started = Instant::now();
        match ConnectorBuilder::new()
            .connect_timeout(timeout)
            .connect(addr)
        {
            Ok(stream) => queued.push(stream),
            Err(err) => {
                overflow = Some((err, started.elapsed()));
                break;
            }
        }
    }
    let (err, took) = overflow.expect("64 connects to a backlog-3 listener all succeeded");
    eprintln!(
        "backlog {BACKLOG}: {} connections queued, the next one failed after {took:?}: {err}",
        queued.len()
    );
    assert_connect_error(&err, addr, ErrorKind::TimedOut);
    assert!(took >= timeout && took < timeout + MARGIN, "took {took:?}");
    // Linux queues backlog + 1 connections (the queue is full when it holds
    // more than the backlog).
    assert_eq!(queued.len(), BACKLOG as usize + 1);

    // Once the server accepts one, there is room again.
    drop(listener.accept().unwrap());
    ConnectorBuilder::new()
        .connect_timeout(Duration::from_secs(5))
        .connect(addr)
        .expect("connect after the queue drained");
}

#[cfg(target_os = "linux")]
#[test]
fn timeout_is_honoured_on_ipv4_and_ipv6() {
    let mut targets = vec![
        full_listener(Duration::from_millis(200))
            .expect("no SYN dropped at a full accept queue on 127.0.0.1"),
    ];
    if has_ipv6_loopback() {
        let listener = ListenerBuilder::new().backlog(0).listen("[::1]:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut queued = Vec::new();
        while queued.len() < 64 {
            match ConnectorBuilder::new()
                .connect_timeout(Duration::from_millis(200))
                .connect(addr)
            {
                Ok(s) => queued.push(s),
                Err(e) if e.kind() == ErrorKind::TimedOut => break,
                Err(e) => panic!("{e}"),
            }
        }
        targets.push(crate::util::FullListener {
            listener,
            addr,
            queued,
        });
    } else {
        eprintln!("IPv6 part skipped: this host has no IPv6 loopback (::1)");
    }
    for full in &targets {
        for ms in [50, 500] {
            let timeout = Duration::from_millis(ms);
            let started = Instant::now();
            let err = ConnectorBuilder::new()
                .connect_timeout(timeout)
                .connect(full.addr)
                .unwrap_err();
            let took = started.elapsed();
            assert_connect_error(&err, full.addr, ErrorKind::TimedOut);
            assert!(
                took >= timeout && took < timeout + MARGIN,
                "{}: timeout {timeout:?} took {took:?}",
                full.addr
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn unix_paths_refused_and_missing() {
    let dir = crate::util::TempDir::new("connect-unix");
    let stale = dir.join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let missing = dir.join("missing.sock");
    let file = dir.join("file");
    std::fs::write(&file, b"x").unwrap();
    let mut cases = vec![
        (&stale, ErrorKind::ConnectionRefused),
        (&missing, ErrorKind::NotFound),
    ];
    // Linux refuses a connect to a file that is not a socket (BSDs say ENOTSOCK).
    if cfg!(target_os = "linux") {
        cases.push((&file, ErrorKind::ConnectionRefused));
    }
    for (path, kind) in cases {
        let err = ConnectorBuilder::new()
            .connect_timeout(Duration::from_secs(5))
            .connect_unix(path)
            .unwrap_err();
        assert!(matches!(err, Error::Connect { .. }), "{err}");
        assert_eq!(err.kind(), kind, "{}: {err}", path.display());
        assert!(
            err.to_string()
                .starts_with(&format!("connect {}: ", path.display())),
            "{err}"
        );
    }
}

/// A write timeout bounds writes, not the connect. Linux ends a blocking
/// connect after `SO_SNDTIMEO` with "operation now in progress"; the builder
/// sets the timeouts after connecting, so a connect to a full accept queue
/// keeps waiting (here until the server makes room), and the timeouts are set
/// on the connected stream.
#[cfg(target_os = "linux")]
#[test]
fn write_timeout_does_not_cut_the_connect_short() {
    let full = full_listener(Duration::from_millis(200)).expect("no SYN dropped at a full queue");
    // A whole multiple of the kernel's tick, which SO_SNDTIMEO is rounded to.
    let timeout = Duration::from_millis(200);
    let addr = full.addr;
    let (tx, rx) = std::sync::mpsc::channel();
    let client = std::thread::spawn(move || {
        let result = ConnectorBuilder::new()
            .write_timeout(timeout)
            .read_timeout(timeout)
            .connect(addr);
        tx.send(()).unwrap();
        result
    });
    // Three times the write timeout passes and the connect is still waiting.
    let early = rx.recv_timeout(3 * timeout);
    if early.is_ok() {
        let err = client.join().unwrap().unwrap_err();
        panic!("connect ended with the write timeout: {err}");
    }
    // Make room: the client's next SYN (resent after about 1 s) gets in.
    drop(full.listener.accept().unwrap());
    let stream = client.join().unwrap().expect("connect once there is room");
    assert_eq!(stream.write_timeout().unwrap(), Some(timeout));
    assert_eq!(stream.read_timeout().unwrap(), Some(timeout));
}

/// A Unix listener whose accept queue is full: a connect with a timeout
/// waits for room, fails with `TimedOut` when the timeout runs out, and
/// succeeds once the server accepts.
#[cfg(target_os = "linux")]
#[test]
fn unix_connect_timeout_waits_for_a_full_queue() {
    let dir = crate::util::TempDir::new("connect-unix-full");
    let path = dir.join("full.sock");
    let listener = ListenerBuilder::new()
        .backlog(0)
        .listen_unix(&path)
        .unwrap();
    let timeout = Duration::from_millis(300);
    let connector = {
        let mut b = ConnectorBuilder::new();
        b.connect_timeout(timeout)
            .write_timeout(Duration::from_secs(7));
        b
    };
    let mut queued = Vec::new();
    let (err, took) = loop {
        assert!(
            queued.len() < 64,
            "the queue of a backlog-0 listener never filled"
        );
        let started = Instant::now();
        match connector.connect_unix(&path) {
            Ok(stream) => {
                assert_eq!(
                    stream.write_timeout().unwrap(),
                    Some(Duration::from_secs(7))
                );
                queued.push(stream);
            }
            Err(err) => break (err, started.elapsed()),
        }
    };
    assert!(matches!(err, Error::Connect { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert_eq!(
        err.to_string(),
        format!("connect {}: timed out after {timeout:?}", path.display())
    );
    assert!(took >= timeout && took < timeout + MARGIN, "took {took:?}");

    drop(listener.accept().unwrap());
    connector
        .connect_unix(&path)
        .expect("connect once there is room");
}
