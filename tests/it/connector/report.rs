//! `connect_with_report`: what a connect did and when. A black-holed
//! `[::1]` and a live `127.0.0.1` race, the second attempt starts one
//! connection attempt delay (250 ms) after the first and wins; a name's
//! report shows both lookups; a failed connect's error carries the
//! attempts' timings.
//!
//! `cargo test --features tokio --test it connector::report:: -- --nocapture`
//! prints each report's timeline.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use sockwright::{
    AttemptOutcome, ConnectReport, ConnectorBuilder, Domain, ListenerBuilder, StaticResolver,
};

/// A `[::1]` listener whose accept queue is full: Linux drops a further
/// SYN, so a connect there waits. Its queued connections are kept open.
struct BlackHole {
    addr: SocketAddr,
    _listener: TcpListener,
    _queued: Vec<TcpStream>,
}

/// A black-holed `[::1]:P` and a live `127.0.0.1:P`, the same port (a
/// name has one port for both families); `None`, with the reason on
/// stderr, where this cannot be made.
fn black_hole_v6_and_live_v4() -> Option<(BlackHole, TcpListener)> {
    if !cfg!(target_os = "linux") {
        eprintln!("skipped: a full accept queue drops SYNs on Linux only");
        return None;
    }
    if TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: this host has no IPv6 loopback (::1)");
        return None;
    }
    for _ in 0..20 {
        let listener = ListenerBuilder::new().backlog(0).listen("[::1]:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut queued = Vec::new();
        let mut full = false;
        for _ in 0..64 {
            match ConnectorBuilder::new()
                .connect_timeout(Duration::from_millis(200))
                .connect(addr)
            {
                Ok(stream) => queued.push(stream),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    full = true;
                    break;
                }
                Err(e) => panic!("filling the accept queue: {e}"),
            }
        }
        assert!(full, "no SYN dropped at a full accept queue on [::1]");
        if let Ok(live) = TcpListener::bind(("127.0.0.1", addr.port())) {
            let hole = BlackHole {
                addr,
                _listener: listener,
                _queued: queued,
            };
            return Some((hole, live));
        }
    }
    panic!("no port free on both [::1] and 127.0.0.1 in 20 tries");
}

/// The race over a black-holed IPv6 address and a live IPv4 one: two
/// attempts, the second about 250 ms after the first, which wins; the
/// first is cancelled.
fn check_race(report: &ConnectReport, hole: SocketAddr, live: SocketAddr) {
    let attempts = report.attempts();
    assert_eq!(attempts.len(), 2, "{report}");
    assert_eq!(attempts[0].addr(), hole);
    assert_eq!(attempts[1].addr(), live);
    let apart = attempts[1].started() - attempts[0].started();
    eprintln!("attempts {apart:?} apart; total {:?}", report.total());
    assert!(
        apart >= Duration::from_millis(240) && apart < Duration::from_millis(1000),
        "{apart:?} apart:\n{report}"
    );
    assert_eq!(attempts[0].outcome(), Some(AttemptOutcome::Cancelled));
    assert_eq!(attempts[1].outcome(), Some(AttemptOutcome::Won));
    assert_eq!(report.winner().map(|w| w.addr()), Some(live));
    assert!(report.total() >= attempts[1].ended().unwrap());
    let text = report.to_string();
    assert!(text.contains(&format!("attempt 2 to {live} won")), "{text}");
    assert!(
        text.contains(&format!("attempt 1 to {hole} cancelled")),
        "{text}"
    );
    assert!(text.ends_with(" ms"), "{text}");
}

#[test]
fn a_black_holed_ipv6_and_a_live_ipv4_show_both_attempts_250_ms_apart_and_the_winner() {
    let Some((hole, live)) = black_hole_v6_and_live_v4() else {
        return;
    };
    let live = live.local_addr().unwrap();
    let (stream, report) = ConnectorBuilder::new()
        .connect_timeout(Duration::from_secs(5))
        .connect_with_report(&[hole.addr, live][..])
        .unwrap();
    eprintln!("{report}");
    assert_eq!(stream.peer_addr().unwrap(), live);
    assert!(
        report.lookups().is_empty(),
        "a literal list is not looked up"
    );
    check_race(&report, hole.addr, live);
}

#[test]
fn the_report_of_a_name_shows_both_lookups() {
    let Some((hole, live)) = black_hole_v6_and_live_v4() else {
        return;
    };
    let live = live.local_addr().unwrap();
    let resolver = dual_test(hole.addr, live);
    let (_stream, report) = ConnectorBuilder::new()
        .resolver(resolver)
        .connect_timeout(Duration::from_secs(5))
        .connect_with_report(("dual.test", live.port()))
        .unwrap();
    eprintln!("{report}");
    assert_eq!(report.target(), format!("dual.test:{}", live.port()));
    let lookups = report.lookups();
    let families: Vec<Domain> = lookups.iter().map(|l| l.family()).collect();
    assert_eq!(families, [Domain::Ipv6, Domain::Ipv4]);
    assert_eq!(lookups[0].addresses(), [hole.addr]);
    assert_eq!(lookups[1].addresses(), [live]);
    for lookup in lookups {
        assert!(lookup.answered().unwrap() >= lookup.asked());
        assert_eq!(lookup.error(), None);
    }
    let text = report.to_string();
    assert!(
        text.contains("lookup IPv6 asked") && text.contains("lookup IPv4 asked"),
        "{text}"
    );
    assert!(text.contains(&format!("IPv4 answered: {live}")), "{text}");
    check_race(&report, hole.addr, live);
}

#[cfg(feature = "tokio")]
#[test]
fn the_async_twin_reports_the_same_race() {
    let Some((hole, live)) = black_hole_v6_and_live_v4() else {
        return;
    };
    let live = live.local_addr().unwrap();
    let resolver = dual_test(hole.addr, live);
    let (_stream, report) = crate::util::current_thread()
        .block_on(
            ConnectorBuilder::new()
                .resolver(resolver)
                .connect_timeout(Duration::from_secs(5))
                .connect_async_with_report(("dual.test", live.port())),
        )
        .unwrap();
    eprintln!("{report}");
    assert_eq!(report.lookups().len(), 2);
    check_race(&report, hole.addr, live);
}

/// A resolver that answers `dual.test` with the black hole and the live address.
fn dual_test(hole: SocketAddr, live: SocketAddr) -> StaticResolver {
    StaticResolver::new()
        .insert("dual.test", hole.ip())
        .insert("dual.test", live.ip())
}

/// Two ports nobody listens on (bound, then closed).
fn refused_pair() -> [SocketAddr; 2] {
    let free = || {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    };
    [free(), free()]
}

#[test]
fn a_failed_race_carries_each_attempts_timings_in_its_error() {
    let targets = refused_pair();
    let err = ConnectorBuilder::new()
        .connect_with_report(&targets[..])
        .unwrap_err();
    let report = err.report().expect("a failed race's report");
    eprintln!("{err}\n{report}");
    assert_eq!(err.attempts().len(), 2);
    assert_eq!(report.attempts().len(), 2);
    for (attempt, error) in report.attempts().iter().zip(err.attempts()) {
        assert_eq!(attempt.outcome(), Some(AttemptOutcome::Failed));
        assert!(attempt.ended().unwrap() >= attempt.started());
        assert_eq!(attempt.error(), Some(error.to_string().as_str()));
    }
    assert!(report.winner().is_none());
    assert!(
        report.to_string().contains("no connection after"),
        "{report}"
    );
    // The plain connect's error carries the same.
    let err = ConnectorBuilder::new().connect(&targets[..]).unwrap_err();
    assert_eq!(err.report().map(|r| r.attempts().len()), Some(2));
}

#[test]
fn one_failed_address_is_a_list_of_one_that_carries_the_report() {
    let [refused, _] = refused_pair();
    let err = ConnectorBuilder::new()
        .connect_with_report(refused)
        .unwrap_err();
    eprintln!("{err}");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    assert_eq!(err.attempts().len(), 1);
    let report = err.report().expect("the report of connect_with_report");
    assert_eq!(report.attempts()[0].outcome(), Some(AttemptOutcome::Failed));
    assert_eq!(
        report.attempts()[0].error(),
        Some(err.attempts()[0].to_string().as_str())
    );
    // The plain connect's error is the attempt's own.
    let err = ConnectorBuilder::new().connect(refused).unwrap_err();
    assert!(matches!(err, sockwright::Error::Connect { .. }), "{err:?}");
}

#[test]
fn one_address_at_a_time_is_recorded_too() {
    let [refused, _] = refused_pair();
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let live = live.local_addr().unwrap();
    let (stream, report) = ConnectorBuilder::new()
        .happy_eyeballs(false)
        .connect_with_report(&[refused, live][..])
        .unwrap();
    eprintln!("{report}");
    assert_eq!(stream.peer_addr().unwrap(), live);
    let outcomes: Vec<_> = report.attempts().iter().map(|a| a.outcome()).collect();
    assert_eq!(
        outcomes,
        [Some(AttemptOutcome::Failed), Some(AttemptOutcome::Won)]
    );
    assert!(report.attempts()[1].started() >= report.attempts()[0].ended().unwrap());
    assert_eq!(report.winner().map(|w| w.addr()), Some(live));
}

/// A name tried one address at a time (no Happy Eyeballs): the report shows
/// each family's lookup, with its addresses, as a race's report does.
#[test]
fn the_lookups_of_a_name_tried_one_at_a_time_are_recorded_blocking_and_async() {
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let live = live.local_addr().unwrap();
    let builder = || {
        let resolver = StaticResolver::new().insert("one.test", live.ip());
        let mut builder = ConnectorBuilder::new();
        builder.resolver(resolver).happy_eyeballs(false);
        builder
    };
    let check = |report: &ConnectReport| {
        eprintln!("{report}");
        let lookups = report.lookups();
        let families: Vec<Domain> = lookups.iter().map(|l| l.family()).collect();
        assert_eq!(families, [Domain::Ipv6, Domain::Ipv4], "{report}");
        // The IPv6 question has no address, the IPv4 one the live address.
        assert_eq!(lookups[0].addresses(), []);
        assert_eq!(lookups[1].addresses(), [live]);
        for lookup in lookups {
            assert!(lookup.answered().unwrap() >= lookup.asked());
        }
        let attempt = &report.attempts()[0];
        assert!(attempt.started() >= lookups[1].answered().unwrap());
        assert_eq!(report.winner().map(|w| w.addr()), Some(live));
    };
    let (_stream, report) = builder()
        .connect_with_report(("one.test", live.port()))
        .unwrap();
    check(&report);
    #[cfg(feature = "tokio")]
    {
        let (_stream, report) = crate::util::current_thread()
            .block_on(builder().connect_async_with_report(("one.test", live.port())))
            .unwrap();
        check(&report);
    }
}

#[test]
fn the_client_example_explains_its_connect() {
    let exe = std::env::current_exe().unwrap();
    let client = exe
        .parent()
        .unwrap()
        .join("../examples")
        .join(format!("client{}", std::env::consts::EXE_SUFFIX));
    if !client.is_file() {
        eprintln!(
            "skipped: {} is not built (`cargo build --examples` builds it)",
            client.display()
        );
        return;
    }
    let [refused, _] = refused_pair();
    let port = refused.port().to_string();
    let out = std::process::Command::new(&client)
        .args([
            "--addr",
            "127.0.0.1",
            "--port",
            &port,
            "--timeout",
            "2",
            "--explain",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("client --explain to a refused port:\n{stderr}");
    assert!(!out.status.success());
    assert!(
        stderr.starts_with(&format!("connect 127.0.0.1:{port}\n")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("attempt 1 to {refused} started")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("attempt 1 to {refused} failed")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "\nerror: 127.0.0.1:{port}: 1 address failed: connect {refused}: "
        )),
        "{stderr}"
    );
}

/// Answers IPv4 at once and IPv6 after `v6_after`, on loopback.
struct SlowV6 {
    v6_after: Duration,
}

impl sockwright::Resolve for SlowV6 {
    fn lookup(&self, _: &str, family: Domain) -> io::Result<Vec<std::net::IpAddr>> {
        match family {
            Domain::Ipv6 => {
                std::thread::sleep(self.v6_after);
                Ok(vec!["::1".parse().unwrap()])
            }
            _ => Ok(vec!["127.0.0.1".parse().unwrap()]),
        }
    }
}

#[test]
fn a_late_ipv6_answer_shows_the_resolution_delay_running_out() {
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = live.local_addr().unwrap().port();
    let (stream, report) = ConnectorBuilder::new()
        .resolver(SlowV6 {
            v6_after: Duration::from_millis(300),
        })
        .connect_with_report(("late.test", port))
        .unwrap();
    eprintln!("{report}");
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
    let delay = report.resolution_delay().expect("the resolution delay ran");
    let first = &report.attempts()[0];
    assert_eq!(first.addr().ip().to_string(), "127.0.0.1");
    // RFC 8305's 50 ms, then IPv4 alone.
    let waited = first.started() - delay;
    eprintln!("resolution delay began at {delay:?}; first attempt {waited:?} later");
    assert!(
        waited >= Duration::from_millis(45) && waited < Duration::from_millis(250),
        "{report}"
    );
    let text = report.to_string();
    assert!(
        text.contains("resolution delay: waiting up to 50ms for IPv6"),
        "{text}"
    );
    assert!(
        text.contains("resolution delay over without IPv6"),
        "{text}"
    );
    // The IPv6 answer had not come when the IPv4 attempt won.
    assert_eq!(report.lookups()[0].family(), Domain::Ipv6);
    assert_eq!(report.lookups()[0].answered(), None, "{text}");
}
