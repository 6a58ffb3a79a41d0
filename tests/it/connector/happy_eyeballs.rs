//! Happy Eyeballs (RFC 8305) connects, against loopback only.
//!
//! The black hole: on Linux, a `[::1]` listener with backlog 0 that never
//! accepts holds one connection in its queue, and the kernel silently drops
//! every further SYN to it, so a connect there waits until its timeout, as
//! it would towards a broken IPv6 route. Racing it against a live IPv4
//! listener shows the race reaching IPv4 after one connection attempt delay,
//! where the sequential mode waits for its whole timeout first.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use crate::util::{connect_error_for, has_ipv6_loopback, init_log, refused_port};
use sockwright::{ConnectorBuilder, Domain, Error};

/// Slack allowed on top of an expected wait for scheduling on a busy machine.
#[cfg(target_os = "linux")]
const MARGIN: Duration = Duration::from_millis(1500);

/// A black-holed `[::1]` address, or `None` (with the reason printed) on a
/// host without IPv6 loopback.
#[cfg(target_os = "linux")]
fn black_hole_v6() -> Option<crate::util::FullListener> {
    if !has_ipv6_loopback() {
        eprintln!("skipped: this host has no IPv6 loopback (::1)");
        return None;
    }
    let full = crate::util::full_listener_at("[::1]:0", Duration::from_millis(200))
        .expect("no SYN dropped at a full accept queue on [::1]");
    Some(full)
}

/// A port on `[::1]` that refuses connects, held while the socket lives.
fn refused_port_v6() -> (socket2::Socket, SocketAddr) {
    let socket = socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&"[::1]:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    (socket, addr)
}

/// A change to a builder, for table-driven cases.
type Configure = Box<dyn Fn(&mut ConnectorBuilder)>;

#[cfg(target_os = "linux")]
fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

#[cfg(target_os = "linux")]
#[test]
fn race_reaches_ipv4_past_a_black_holed_ipv6_address() {
    init_log();
    let Some(hole) = black_hole_v6() else { return };
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let targets = [hole.addr, live.local_addr().unwrap()];
    let delay = ConnectorBuilder::DEFAULT_CONNECTION_ATTEMPT_DELAY;

    let started = Instant::now();
    let stream = ConnectorBuilder::new().connect(&targets[..]).unwrap();
    let took = started.elapsed();

    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
    let (_server, peer) = live.accept().unwrap();
    assert_eq!(peer, stream.local_addr().unwrap());
    // IPv6 went first and got nothing: IPv4 started one delay later.
    assert!(
        took >= delay && took < Duration::from_secs(1),
        "connected after {took:?}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn sequential_mode_waits_for_its_timeout_on_the_black_hole() {
    let Some(hole) = black_hole_v6() else { return };
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let timeout = Duration::from_secs(2);

    let started = Instant::now();
    let stream = ConnectorBuilder::new()
        .happy_eyeballs(false)
        .connect_timeout(timeout)
        .connect(&[hole.addr, live.local_addr().unwrap()][..])
        .unwrap();
    let took = started.elapsed();

    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
    assert!(
        took >= timeout && took < timeout + MARGIN,
        "connected after {took:?}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn the_connect_timeout_bounds_the_whole_race() {
    init_log();
    let Some(hole6) = black_hole_v6() else { return };
    let hole4 = crate::util::full_listener(Duration::from_millis(200))
        .expect("no SYN dropped at a full accept queue on 127.0.0.1");
    let timeout = Duration::from_millis(600);

    let started = Instant::now();
    let err = ConnectorBuilder::new()
        .connect_timeout(timeout)
        .connect(&[hole4.addr, hole6.addr][..])
        .unwrap_err();
    let took = started.elapsed();

    // Two attempts ran in parallel (IPv6 first, IPv4 250 ms later), and one
    // deadline ended both: a sequential connect would take twice the timeout.
    assert!(
        took >= timeout && took < timeout + MARGIN,
        "failed after {took:?}"
    );
    crate::util::check_each_attempt_timed_out(&err, &[hole6.addr, hole4.addr]);
}

#[cfg(target_os = "linux")]
#[test]
fn every_attempt_gets_the_builder_options_and_the_winner_blocks() {
    use std::io::Read;

    let Some(hole) = black_hole_v6() else { return };
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let targets = [hole.addr, live.local_addr().unwrap()];
    let read_timeout = Duration::from_millis(300);
    let mut builder = ConnectorBuilder::new();
    builder
        .local_address("[::1]:0".parse().unwrap())
        .local_address("127.0.0.2:0".parse().unwrap())
        .nodelay(true)
        .send_buffer_size(64 * 1024)
        .read_timeout(read_timeout)
        .connection_attempt_delay(Duration::from_millis(50));

    let mut stream = builder.connect(&targets[..]).unwrap();
    let (_server, peer) = live.accept().unwrap();
    assert_eq!(
        peer.ip().to_string(),
        "127.0.0.2",
        "source address not bound"
    );
    assert!(stream.nodelay().unwrap());
    assert_eq!(stream.read_timeout().unwrap(), Some(read_timeout));
    let sndbuf = socket2::SockRef::from(&stream).send_buffer_size().unwrap();
    assert!(sndbuf >= 64 * 1024, "SO_SNDBUF is {sndbuf}");
    // Blocking again: a read with nothing to read waits for the read timeout.
    let started = Instant::now();
    let err = stream.read(&mut [0; 8]).unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );
    assert!(
        waited >= read_timeout - Duration::from_millis(5),
        "the read returned after {waited:?}: the stream is not blocking"
    );

    // Nonblocking when asked: the same read returns at once.
    let mut stream = builder.nonblocking(true).connect(&targets[..]).unwrap();
    let started = Instant::now();
    let err = stream.read(&mut [0; 8]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WouldBlock, "{err}");
    assert!(started.elapsed() < read_timeout, "the read waited");
}

#[cfg(target_os = "linux")]
#[test]
fn latency_of_both_modes_against_a_black_hole() {
    let Some(hole) = black_hole_v6() else { return };
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let targets = [hole.addr, live.local_addr().unwrap()];
    let timeout = Duration::from_secs(1);
    let run = |race: bool| {
        let started = Instant::now();
        let stream = ConnectorBuilder::new()
            .happy_eyeballs(race)
            .connect_timeout(timeout)
            .connect(&targets[..])
            .unwrap();
        let took = started.elapsed();
        drop(live.accept().unwrap());
        drop(stream);
        took
    };
    let raced = median((0..5).map(|_| run(true)).collect());
    let sequential = median((0..3).map(|_| run(false)).collect());
    eprintln!(
        "connect to [black-holed [::1], live 127.0.0.1], connect timeout {timeout:?}: \
         Happy Eyeballs (delay {:?}) median {raced:?} of 5, sequential median {sequential:?} of 3",
        ConnectorBuilder::DEFAULT_CONNECTION_ATTEMPT_DELAY
    );
    assert!(raced < Duration::from_secs(1), "race median {raced:?}");
    assert!(sequential >= timeout, "sequential median {sequential:?}");
}

#[test]
fn a_refused_address_moves_the_race_on_at_once() {
    let (_holder, refused) = refused_port();
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    // A delay far longer than a refusal takes: only moving on at once can
    // connect within it.
    let delay = Duration::from_secs(2);
    let started = Instant::now();
    let stream = ConnectorBuilder::new()
        .connection_attempt_delay(delay)
        .connect(&[refused, live.local_addr().unwrap()][..])
        .unwrap();
    let took = started.elapsed();
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
    assert!(took < Duration::from_secs(1), "connected after {took:?}");
}

#[test]
fn all_failed_lists_each_address_in_the_order_tried() {
    init_log();
    if !has_ipv6_loopback() {
        eprintln!("skipped: this host has no IPv6 loopback (::1)");
        return;
    }
    let (_a, v6a) = refused_port_v6();
    let (_b, v6b) = refused_port_v6();
    let (_c, v4) = refused_port();
    let resolved = [v6a, v6b, v4];
    let cases: [(&str, Configure, [SocketAddr; 3]); 4] = [
        ("default", Box::new(|_| {}), [v6a, v4, v6b]),
        (
            "IPv4 first",
            Box::new(|b| {
                b.preferred_family(Domain::Ipv4);
            }),
            [v4, v6a, v6b],
        ),
        (
            "two IPv6 first",
            Box::new(|b| {
                b.first_address_family_count(2);
            }),
            [v6a, v6b, v4],
        ),
        (
            "sequential",
            Box::new(|b| {
                b.happy_eyeballs(false).preferred_family(Domain::Ipv4);
            }),
            [v6a, v6b, v4],
        ),
    ];
    for (name, configure, expected) in cases {
        let mut builder = ConnectorBuilder::new();
        builder.connect_timeout(Duration::from_secs(5));
        configure(&mut builder);
        let err = builder.connect(&resolved[..]).unwrap_err();
        let Error::AllAttemptsFailed { attempts, .. } = &err else {
            panic!("{name}: expected AllAttemptsFailed, got {err}");
        };
        let tried: Vec<_> = attempts.iter().map(connect_error_for).collect();
        let want: Vec<_> = expected
            .iter()
            .map(|a| (*a, ErrorKind::ConnectionRefused))
            .collect();
        assert_eq!(tried, want, "{name}: {err}");
        let text = err.to_string();
        let at: Vec<_> = expected
            .iter()
            .map(|a| {
                text.find(&format!("connect {a}: connection refused"))
                    .unwrap()
            })
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{name}: {text}");
    }
}

#[test]
fn a_single_failed_address_is_its_own_error() {
    let (_holder, refused) = refused_port();
    let err = ConnectorBuilder::new().connect(refused).unwrap_err();
    assert_eq!(
        connect_error_for(&err),
        (refused, ErrorKind::ConnectionRefused)
    );
}

#[test]
fn invalid_race_settings_fail_before_any_system_call() {
    // A live listener: had any system call been made, the connect would succeed.
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = live.local_addr().unwrap();
    // Only Unix has a third domain to reject.
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut cases: Vec<(&str, Configure)> = vec![
        (
            "connection attempt delay 9ms is outside 10ms..=2s",
            Box::new(|b| {
                b.connection_attempt_delay(Duration::from_millis(9));
            }),
        ),
        (
            "connection attempt delay 2.001s is outside 10ms..=2s",
            Box::new(|b| {
                b.connection_attempt_delay(Duration::from_millis(2001));
            }),
        ),
        (
            "first address family count must be at least 1",
            Box::new(|b| {
                b.first_address_family_count(0);
            }),
        ),
        (
            "max attempts in flight (2) must be above the first address family count (2)",
            Box::new(|b| {
                b.first_address_family_count(2).max_attempts_in_flight(2);
            }),
        ),
        (
            "max attempts in flight (0) must be above the first address family count (1)",
            Box::new(|b| {
                b.max_attempts_in_flight(0);
            }),
        ),
        (
            "resolution delay 0ns is outside 1ms..=2s",
            Box::new(|b| {
                b.resolution_delay(Duration::ZERO);
            }),
        ),
        (
            "resolution delay 2.5s is outside 1ms..=2s",
            Box::new(|b| {
                b.resolution_delay(Duration::from_millis(2500));
            }),
        ),
        (
            // Checked even when racing is off: the value is wrong either way.
            "connection attempt delay 0ns",
            Box::new(|b| {
                b.happy_eyeballs(false)
                    .connection_attempt_delay(Duration::ZERO);
            }),
        ),
    ];
    #[cfg(unix)]
    cases.push((
        "preferred address family must be IPv4 or IPv6, not Unix",
        Box::new(|b| {
            b.preferred_family(Domain::Unix);
        }),
    ));
    for (message, configure) in cases {
        let mut builder = ConnectorBuilder::new();
        configure(&mut builder);
        let err = builder.connect(addr).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        assert!(err.to_string().contains(message), "{err}");
    }
    live.set_nonblocking(true).unwrap();
    assert_eq!(
        live.accept().unwrap_err().kind(),
        ErrorKind::WouldBlock,
        "a connection reached the listener"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_fixed_source_port_tries_one_address_at_a_time() {
    // Two attempts of one family cannot share one local port (without
    // SO_REUSEADDR the second bind fails), so the race falls back to the
    // sequential mode: the black-holed address is tried alone until the
    // timeout, then the live one connects from the fixed port.
    let hole = crate::util::full_listener(Duration::from_millis(200))
        .expect("no SYN dropped at a full accept queue on 127.0.0.1");
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let local: SocketAddr = ([127, 0, 0, 1], port).into();
    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let stream = ConnectorBuilder::new()
        .local_address(local)
        .connect_timeout(timeout)
        .connect(&[hole.addr, live.local_addr().unwrap()][..])
        .unwrap();
    let took = started.elapsed();
    assert_eq!(stream.local_addr().unwrap(), local);
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
    assert!(
        took >= timeout && took < timeout + MARGIN,
        "connected after {took:?}"
    );
}
