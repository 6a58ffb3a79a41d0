//! A connect to a name starts from the first DNS answer (RFC 8305, section
//! 3), with resolvers of the test's own whose answers come at chosen times.
//! Loopback only; the black-holed `[::1]` is the full accept queue of
//! `tests/happy_eyeballs.rs` (Linux).

mod util;

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use sockwright::{ConnectorBuilder, Domain, Error, Resolve, StaticResolver};
use util::init_log;
use util::resolver::{
    check_no_family_resolved, check_refused_and_no_ipv6_record, TestResolver, MARGIN, NAME, SLACK,
};

#[test]
fn a_first_and_aaaa_after_3s_connects_within_the_resolution_delay() {
    init_log();
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = live.local_addr().unwrap().port();
    let resolver = TestResolver::new()
        .answer(Domain::Ipv4, &["127.0.0.1"], Duration::ZERO)
        .answer(Domain::Ipv6, &["::1"], Duration::from_secs(3));
    let delay = ConnectorBuilder::DEFAULT_RESOLUTION_DELAY;
    let started = Instant::now();
    let stream = ConnectorBuilder::new()
        .resolver(resolver.clone())
        .connect((NAME, port))
        .unwrap();
    let took = started.elapsed();
    println!("connected after {took:?} (resolution delay {delay:?}, AAAA due after 3 s)");
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
    assert!(took >= delay, "did not wait the resolution delay: {took:?}");
    assert!(took <= delay + SLACK, "took {took:?}");
    let mut asked = resolver.asked();
    asked.sort_by_key(|f| *f == Domain::Ipv4);
    assert_eq!(
        asked,
        [Domain::Ipv6, Domain::Ipv4],
        "each family asked once"
    );
}

#[test]
fn a_shorter_resolution_delay_is_honoured() {
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = live.local_addr().unwrap().port();
    let resolver = TestResolver::new()
        .answer(Domain::Ipv4, &["127.0.0.1"], Duration::ZERO)
        .answer(Domain::Ipv6, &["::1"], Duration::from_secs(3));
    let delay = Duration::from_millis(5);
    let started = Instant::now();
    ConnectorBuilder::new()
        .resolver(resolver)
        .resolution_delay(delay)
        .connect((NAME, port))
        .unwrap();
    let took = started.elapsed();
    assert!(took >= delay && took <= delay + MARGIN, "took {took:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn aaaa_within_the_delay_is_tried_first_and_loses_to_ipv4_after_the_attempt_delay() {
    init_log();
    let Some((hole, live)) = util::black_hole_v6_and_live_v4() else {
        return;
    };
    let resolver = TestResolver::new()
        .answer(Domain::Ipv4, &["127.0.0.1"], Duration::ZERO)
        .answer(Domain::Ipv6, &["::1"], Duration::from_millis(20));
    let attempt_delay = Duration::from_millis(100);
    let started = Instant::now();
    let stream = ConnectorBuilder::new()
        .resolver(resolver)
        .connection_attempt_delay(attempt_delay)
        .connect((NAME, hole.addr.port()))
        .unwrap();
    let took = started.elapsed();
    println!("IPv4 won after {took:?}");
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
    // IPv6 went first: IPv4 started only one attempt delay after it, which
    // itself started once AAAA came (20 ms).
    let first = Duration::from_millis(20);
    assert!(
        took >= first + attempt_delay,
        "IPv4 was not second: {took:?}"
    );
    assert!(took <= first + attempt_delay + MARGIN, "took {took:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn an_a_answer_after_the_race_started_joins_it() {
    init_log();
    let Some((hole, live)) = util::black_hole_v6_and_live_v4() else {
        return;
    };
    // AAAA at once: the race starts on the black hole; A comes 300 ms later
    // and must join the race that is already under way.
    let late = Duration::from_millis(300);
    let resolver = TestResolver::new()
        .answer(Domain::Ipv6, &["::1"], Duration::ZERO)
        .answer(Domain::Ipv4, &["127.0.0.1"], late);
    let started = Instant::now();
    let stream = ConnectorBuilder::new()
        .resolver(resolver)
        .connect_timeout(Duration::from_secs(10))
        .connect((NAME, hole.addr.port()))
        .unwrap();
    let took = started.elapsed();
    println!("the late IPv4 address won after {took:?}");
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
    assert!(took >= late && took <= late + MARGIN, "took {took:?}");
}

#[test]
fn a_late_answer_joins_after_every_attempt_failed() {
    // AAAA at once, refused at once; the race has nothing left and waits
    // for the A answer instead of failing.
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = live.local_addr().unwrap().port();
    let resolver = TestResolver::new()
        .answer(Domain::Ipv6, &["::1"], Duration::ZERO)
        .answer(Domain::Ipv4, &["127.0.0.1"], Duration::from_millis(100));
    let stream = ConnectorBuilder::new()
        .resolver(resolver)
        .connect((NAME, port))
        .unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
}

#[test]
fn one_failed_family_does_not_stop_the_connect() {
    init_log();
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = live.local_addr().unwrap().port();
    // No AAAA record at all: the IPv6 question fails at once.
    let resolver = TestResolver::new().answer(Domain::Ipv4, &["127.0.0.1"], Duration::ZERO);
    // The longest resolution delay, so that waiting it could not pass unseen.
    let delay = Duration::from_secs(2);
    let started = Instant::now();
    let stream = ConnectorBuilder::new()
        .resolver(resolver)
        .resolution_delay(delay)
        .connect((NAME, port))
        .unwrap();
    let took = started.elapsed();
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
    // The failed family ended the resolution delay: no wait.
    assert!(took < delay / 2, "took {took:?}");
}

#[test]
fn a_failed_family_shows_in_the_error_only_when_everything_failed() {
    let (_held, refused) = util::refused_port();
    let resolver = TestResolver::new().answer(Domain::Ipv4, &["127.0.0.1"], Duration::ZERO);
    let err = ConnectorBuilder::new()
        .resolver(resolver)
        .connect((NAME, refused.port()))
        .unwrap_err();
    check_refused_and_no_ipv6_record(&err, refused.port());
}

#[test]
fn both_families_failing_is_one_resolve_error_naming_each() {
    let mut builder = ConnectorBuilder::new();
    builder.resolver(StaticResolver::new());
    let err = builder
        .connect(("nowhere.sockwright.test", 80))
        .unwrap_err();
    check_no_family_resolved(&err);
    assert_eq!(err.kind(), ErrorKind::NotFound);
    // The sequential mode and a datagram connect wait for every answer
    // first; their error reads the same.
    let target = ("nowhere.sockwright.test", 80);
    check_no_family_resolved(&builder.happy_eyeballs(false).connect(target).unwrap_err());
    check_no_family_resolved(&builder.connect_udp(target).unwrap_err());
}

#[test]
fn the_connect_timeout_bounds_resolution_and_race() {
    let resolver = TestResolver::new()
        .gated(Domain::Ipv6, &["::1"])
        .gated(Domain::Ipv4, &["127.0.0.1"]);
    let timeout = Duration::from_millis(200);
    let started = Instant::now();
    let err = ConnectorBuilder::new()
        .resolver(resolver.clone())
        .connect_timeout(timeout)
        .connect((NAME, 9))
        .unwrap_err();
    let took = started.elapsed();
    resolver.release();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(matches!(err, Error::Resolve { .. }), "{err}");
    assert!(took >= timeout && took <= timeout + MARGIN, "took {took:?}");
}

#[test]
fn the_domain_limits_the_questions_asked() {
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let resolver = TestResolver::new()
        .answer(Domain::Ipv4, &["127.0.0.1"], Duration::ZERO)
        .answer(Domain::Ipv6, &["::1"], Duration::ZERO);
    ConnectorBuilder::new()
        .resolver(resolver.clone())
        .domain(Domain::Ipv4)
        .connect((NAME, live.local_addr().unwrap().port()))
        .unwrap();
    assert_eq!(resolver.asked(), [Domain::Ipv4]);
}

#[test]
fn sequential_mode_and_udp_use_the_resolver_too() {
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = live.local_addr().unwrap().port();
    let table = StaticResolver::new().insert(NAME, "127.0.0.1".parse().unwrap());
    let stream = ConnectorBuilder::new()
        .resolver(table.clone())
        .happy_eyeballs(false)
        .connect((NAME, port))
        .unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
    let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let client = ConnectorBuilder::new()
        .resolver(table)
        .connect_udp(format!("{NAME}:{}", server.local_addr().unwrap().port()))
        .unwrap();
    assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
}

#[test]
fn literal_addresses_never_reach_the_resolver() {
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = live.local_addr().unwrap();
    let resolver = TestResolver::new();
    let builder = {
        let mut b = ConnectorBuilder::new();
        b.resolver(resolver.clone());
        b
    };
    builder.connect(addr).unwrap();
    builder.connect(addr.to_string()).unwrap();
    builder.connect(("127.0.0.1", addr.port())).unwrap();
    assert!(resolver.asked().is_empty());
}

#[test]
fn a_panicking_resolver_is_a_failed_family_not_a_hang() {
    #[derive(Debug)]
    struct Panics;
    impl Resolve for Panics {
        fn lookup(&self, _: &str, family: Domain) -> std::io::Result<Vec<std::net::IpAddr>> {
            match family {
                Domain::Ipv6 => panic!("resolver bug"),
                _ => Ok(vec!["127.0.0.1".parse().unwrap()]),
            }
        }
    }
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = ConnectorBuilder::new()
        .resolver(Panics)
        .connect((NAME, live.local_addr().unwrap().port()))
        .unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
}

/// The sockets a connect to a name opens besides its attempts (the pair
/// through which an answer wakes the race) are close-on-exec like every
/// other: a resolver that looks while the connect runs finds every socket
/// of the process marked.
#[cfg(target_os = "linux")]
#[test]
fn the_sockets_of_a_lookup_are_close_on_exec() {
    #[derive(Debug, Default)]
    struct Inspecting(std::sync::Mutex<Vec<(i32, bool)>>);
    impl Resolve for Inspecting {
        fn lookup(&self, _: &str, family: Domain) -> std::io::Result<Vec<std::net::IpAddr>> {
            if family == Domain::Ipv4 {
                let mut seen = self.0.lock().unwrap();
                for entry in std::fs::read_dir("/proc/self/fd")? {
                    let entry = entry?;
                    let Ok(link) = std::fs::read_link(entry.path()) else {
                        continue;
                    };
                    if !link.to_string_lossy().starts_with("socket:") {
                        continue;
                    }
                    let fd: i32 = entry.file_name().to_string_lossy().parse().unwrap();
                    // SAFETY: F_GETFD only reads the descriptor's flags; a
                    // descriptor closed meanwhile gives -1, not undefined behaviour.
                    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
                    if flags >= 0 {
                        seen.push((fd, flags & libc::FD_CLOEXEC != 0));
                    }
                }
                return Ok(vec!["127.0.0.1".parse().unwrap()]);
            }
            Ok(Vec::new())
        }
    }
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let resolver = std::sync::Arc::new(Inspecting::default());
    #[derive(Debug)]
    struct Shared(std::sync::Arc<Inspecting>);
    impl Resolve for Shared {
        fn lookup(&self, name: &str, family: Domain) -> std::io::Result<Vec<std::net::IpAddr>> {
            self.0.lookup(name, family)
        }
    }
    ConnectorBuilder::new()
        .resolver(Shared(resolver.clone()))
        .connect((NAME, live.local_addr().unwrap().port()))
        .unwrap();
    let seen = resolver.0.lock().unwrap();
    // At least the listener and the two ends of the wake pair.
    assert!(seen.len() >= 3, "sockets seen: {seen:?}");
    let inherited: Vec<_> = seen.iter().filter(|(_, cloexec)| !cloexec).collect();
    assert!(inherited.is_empty(), "not close-on-exec: {inherited:?}");
}
