//! Failed builds release everything they took: after thousands of failures
//! of every kind, the process has the same open file descriptors and threads
//! as before.
//!
//! Linux only (it counts `/proc/self/fd` and `/proc/self/task`). It runs in
//! `tests/resources`, in a process of its own, so that nothing else in the process
//! opens files or starts threads while it counts.
#![cfg(target_os = "linux")]

use std::io::ErrorKind;
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

use crate::util::{
    TempDir, fd_count, full_listener, full_unix_listener, refused_port, thread_count,
};
use sockwright::{ConnectorBuilder, Domain, Error, ListenerBuilder};

/// How many times each fast failure is repeated.
const ROUNDS: usize = 10_000;
/// Timeouts cost their duration each, so fewer of them, each with a tiny timeout.
const TIMEOUT_ROUNDS: usize = 1_000;
const TINY_TIMEOUT: Duration = Duration::from_millis(1);
/// A Unix connect timeout is `SO_SNDTIMEO`, which the kernel rounds up to a
/// clock tick (4 ms at 250 Hz): fewer still.
const UNIX_TIMEOUT_ROUNDS: usize = 250;

/// One kind of failure: how often to provoke it, the provocation, and a check
/// that the error is the documented one.
struct Fault<'a> {
    name: &'static str,
    rounds: usize,
    provoke: Box<dyn Fn() -> Result<(), Error> + 'a>,
    expected: fn(&Error) -> bool,
}

fn fault<'a>(
    name: &'static str,
    rounds: usize,
    provoke: impl Fn() -> Result<(), Error> + 'a,
    expected: fn(&Error) -> bool,
) -> Fault<'a> {
    Fault {
        name,
        rounds,
        provoke: Box::new(provoke),
        expected,
    }
}

pub fn failed_builds_leak_no_fd_and_no_thread() {
    // Fixtures first, so that they are part of the "before" count.
    let dir = TempDir::new("faults-resources");
    let (_holder, refused) = refused_port();
    let in_use = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let in_use_addr = in_use.local_addr().unwrap();
    let udp_in_use = ListenerBuilder::new().bind_udp("127.0.0.1:0").unwrap();
    let udp_in_use_addr = udp_in_use.local_addr().unwrap();
    let stale = dir.join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    let missing_dir_path = dir.join("no-such-dir").join("server.sock");
    let full_unix = dir.join("full.sock");
    let _full_unix = full_unix_listener(&full_unix);
    let Some(full) = full_listener(Duration::from_millis(200)) else {
        panic!("no connect timed out against a full accept queue on 127.0.0.1");
    };

    let faults = vec![
        fault(
            "invalid config: backlog over i32::MAX",
            ROUNDS,
            || {
                ListenerBuilder::new()
                    .backlog(u32::MAX)
                    .listen("127.0.0.1:0")
                    .map(drop)
            },
            |e| matches!(e, Error::InvalidConfig { .. }),
        ),
        fault(
            "invalid config: IPv4 address on the IPv6 domain",
            ROUNDS,
            || {
                ConnectorBuilder::new()
                    .domain(Domain::Ipv6)
                    .connect(refused)
                    .map(drop)
            },
            |e| matches!(e, Error::InvalidConfig { .. }),
        ),
        fault(
            "bad address: no port",
            ROUNDS,
            || ListenerBuilder::new().listen("127.0.0.1").map(drop),
            |e| matches!(e, Error::Resolve { .. }),
        ),
        fault(
            "setsockopt fails: SO_BINDTODEVICE to a missing interface",
            ROUNDS,
            || {
                ListenerBuilder::new()
                    .bind_device("nosuchif0")
                    .listen("127.0.0.1:0")
                    .map(drop)
            },
            |e| {
                matches!(
                    e,
                    Error::SetOption {
                        option: "SO_BINDTODEVICE",
                        ..
                    }
                )
            },
        ),
        fault(
            "bind fails: TCP port in use",
            ROUNDS,
            || {
                ListenerBuilder::new()
                    .reuse_address(true)
                    .listen(in_use_addr)
                    .map(drop)
            },
            |e| matches!(e, Error::Bind { .. }) && e.kind() == ErrorKind::AddrInUse,
        ),
        fault(
            "bind fails: UDP port in use",
            ROUNDS,
            || ListenerBuilder::new().bind_udp(udp_in_use_addr).map(drop),
            |e| matches!(e, Error::Bind { .. }) && e.kind() == ErrorKind::AddrInUse,
        ),
        fault(
            "bind fails: Unix path in a missing directory",
            ROUNDS,
            || {
                ListenerBuilder::new()
                    .listen_unix(&missing_dir_path)
                    .map(drop)
            },
            |e| matches!(e, Error::Bind { .. }) && e.kind() == ErrorKind::NotFound,
        ),
        fault(
            "bind fails: stale Unix socket file",
            ROUNDS,
            || ListenerBuilder::new().listen_unix(&stale).map(drop),
            |e| matches!(e, Error::Bind { .. }) && e.kind() == ErrorKind::AddrInUse,
        ),
        fault(
            "connect refused: TCP",
            ROUNDS,
            || ConnectorBuilder::new().connect(refused).map(drop),
            |e| matches!(e, Error::Connect { .. }) && e.kind() == ErrorKind::ConnectionRefused,
        ),
        fault(
            "connect refused: TCP with a connect timeout",
            ROUNDS,
            || {
                ConnectorBuilder::new()
                    .connect_timeout(Duration::from_secs(5))
                    .connect(refused)
                    .map(drop)
            },
            |e| matches!(e, Error::Connect { .. }) && e.kind() == ErrorKind::ConnectionRefused,
        ),
        fault(
            "connect refused: stale Unix socket file",
            ROUNDS,
            || ConnectorBuilder::new().connect_unix(&stale).map(drop),
            |e| matches!(e, Error::Connect { .. }) && e.kind() == ErrorKind::ConnectionRefused,
        ),
        fault(
            "connect timed out: full accept queue, 1 ms timeout",
            TIMEOUT_ROUNDS,
            || {
                ConnectorBuilder::new()
                    .connect_timeout(TINY_TIMEOUT)
                    .connect(full.addr)
                    .map(drop)
            },
            |e| matches!(e, Error::Connect { .. }) && e.kind() == ErrorKind::TimedOut,
        ),
        fault(
            "connect timed out: full Unix accept queue, 1 ms timeout",
            UNIX_TIMEOUT_ROUNDS,
            || {
                ConnectorBuilder::new()
                    .connect_timeout(TINY_TIMEOUT)
                    .connect_unix(&full_unix)
                    .map(drop)
            },
            |e| matches!(e, Error::Connect { .. }) && e.kind() == ErrorKind::TimedOut,
        ),
    ];

    let fds_before = fd_count();
    let threads_before = thread_count();
    let started = Instant::now();
    let mut total = 0;
    for f in &faults {
        for round in 0..f.rounds {
            match (f.provoke)() {
                Ok(()) => panic!("{}: round {round} succeeded", f.name),
                Err(e) => assert!((f.expected)(&e), "{}: unexpected error: {e}", f.name),
            }
        }
        total += f.rounds;
        eprintln!("{:>6} x {}", f.rounds, f.name);
    }
    let fds_after = fd_count();
    let threads_after = thread_count();
    eprintln!(
        "{total} failed builds in {:.1?}: open fds {fds_before} before, {fds_after} after; \
         threads {threads_before} before, {threads_after} after",
        started.elapsed()
    );
    assert_eq!(fds_after, fds_before, "file descriptors leaked");
    assert_eq!(threads_after, threads_before, "threads left behind");
}
