//! A connect to a name starts from the first DNS answer (RFC 8305, section
//! 3), with resolvers of the test's own whose answers come at chosen times.
//! The cases that `connect_async` must pass too are written once, in
//! `tests/util/resolver_cases.rs`.
//! Loopback only; the black-holed `[::1]` is the full accept queue of
//! `tests/it/connector/happy_eyeballs.rs` (Linux).

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use crate::util::init_log;
use crate::util::resolver::{MARGIN, NAME, TestResolver};
use crate::util::resolver_cases::{self as cases, Driver};
use sockwright::{ConnectorBuilder, Domain, Resolve};

#[test]
fn a_first_and_aaaa_after_3s_connects_within_the_resolution_delay() {
    cases::a_first_and_aaaa_after_3s_connects_within_the_resolution_delay(&Driver::Blocking);
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
    cases::aaaa_within_the_delay_is_tried_first_and_loses_to_ipv4_after_the_attempt_delay(
        &Driver::Blocking,
    );
}

#[cfg(target_os = "linux")]
#[test]
fn an_a_answer_after_the_race_started_joins_it() {
    cases::an_a_answer_after_the_race_started_joins_it(&Driver::Blocking);
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
    cases::a_failed_family_shows_in_the_error_only_when_everything_failed(&Driver::Blocking);
}

#[test]
fn both_families_failing_is_one_resolve_error_naming_each() {
    cases::both_families_failing_is_one_resolve_error_naming_each(&Driver::Blocking);
}

#[test]
fn the_connect_timeout_bounds_resolution_and_race() {
    cases::the_connect_timeout_bounds_resolution_and_race(&Driver::Blocking);
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
    cases::sequential_mode_and_udp_use_the_resolver_too(&Driver::Blocking);
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

/// Every target type a finishing call accepts, and how it resolves: a name
/// (`&str`, `String`, `(&str, u16)`, `(String, u16)`) is asked of the
/// builder's resolver once per family; an address, a tuple of an IP and a
/// port, or a list of addresses is never asked about.
#[test]
fn each_target_type_resolves_by_what_it_is() {
    use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
    use std::sync::{Arc, Mutex};

    type Asked = Arc<Mutex<Vec<(String, Domain)>>>;
    struct Counting(Asked);

    impl Resolve for Counting {
        fn lookup(&self, name: &str, family: Domain) -> std::io::Result<Vec<IpAddr>> {
            self.0.lock().unwrap().push((name.to_owned(), family));
            Ok(match family {
                Domain::Ipv4 => vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
                _ => Vec::new(),
            })
        }
    }

    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let port = addr.port();
    let counted = Asked::default();
    let builder = ConnectorBuilder::new()
        .resolver(Counting(Arc::clone(&counted)))
        .clone();
    let asked = || std::mem::take(&mut *counted.lock().unwrap());
    let by_name = |name: &str| {
        let mut asked = asked();
        asked.sort_by_key(|(_, family)| *family == Domain::Ipv4);
        assert_eq!(
            asked,
            [
                (name.to_owned(), Domain::Ipv6),
                (name.to_owned(), Domain::Ipv4)
            ],
            "{name}"
        );
    };

    let text = format!("svc.test:{port}");
    drop(builder.connect(text.as_str()).unwrap());
    by_name("svc.test");
    drop(builder.connect(text.clone()).unwrap());
    by_name("svc.test");
    drop(builder.connect(&text).unwrap());
    by_name("svc.test");
    drop(builder.connect(("svc-a.test", port)).unwrap());
    by_name("svc-a.test");
    drop(builder.connect(("svc-b.test".to_owned(), port)).unwrap());
    by_name("svc-b.test");

    let v4 = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    drop(builder.connect(addr).unwrap());
    drop(builder.connect(v4).unwrap());
    drop(builder.connect((Ipv4Addr::LOCALHOST, port)).unwrap());
    drop(
        builder
            .connect((IpAddr::from(Ipv4Addr::LOCALHOST), port))
            .unwrap(),
    );
    drop(builder.connect(("127.0.0.1", port)).unwrap());
    drop(builder.connect(format!("127.0.0.1:{port}")).unwrap());
    drop(builder.connect(&[addr][..]).unwrap());
    drop(builder.connect(vec![addr]).unwrap());
    assert_eq!(asked(), [], "an address was looked up");

    let err = builder.connect("svc.test").unwrap_err();
    assert_eq!(
        err.to_string(),
        "resolve svc.test: missing port (write svc.test:PORT)"
    );
    assert_eq!(asked(), [], "a target without a port was looked up");
}
