//! `connect_async` to a name starts from the first DNS answer (RFC 8305,
//! section 3), as `connect` does (`tests/resolver.rs`): the same test
//! resolver, whose answers come at chosen times, on a current-thread
//! runtime. Loopback only; the black-holed `[::1]` is the full accept queue
//! of `tests/happy_eyeballs.rs` (Linux).
//!
//! Run with `cargo test --features tokio --test tokio_resolver`.
#![cfg(feature = "tokio")]

mod util;

use std::io::ErrorKind;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use sockwright::{ConnectorBuilder, Domain, Error, StaticResolver};
use util::resolver::{
    check_no_family_resolved, check_refused_and_no_ipv6_record, TestResolver, MARGIN, NAME, SLACK,
};
use util::{current_thread, init_log};

#[test]
fn a_first_and_aaaa_after_3s_connects_within_the_resolution_delay() {
    init_log();
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = live.local_addr().unwrap().port();
    let resolver = TestResolver::new()
        .answer(Domain::Ipv4, &["127.0.0.1"], Duration::ZERO)
        .answer(Domain::Ipv6, &["::1"], Duration::from_secs(3));
    let delay = ConnectorBuilder::DEFAULT_RESOLUTION_DELAY;
    let rt = current_thread();
    let started = Instant::now();
    let stream = rt
        .block_on(
            ConnectorBuilder::new()
                .resolver(resolver.clone())
                .connect_async((NAME, port)),
        )
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
    let rt = current_thread();
    let started = Instant::now();
    let stream = rt
        .block_on(
            ConnectorBuilder::new()
                .resolver(resolver)
                .connection_attempt_delay(attempt_delay)
                .connect_async((NAME, hole.addr.port())),
        )
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
    let rt = current_thread();
    let started = Instant::now();
    let stream = rt
        .block_on(
            ConnectorBuilder::new()
                .resolver(resolver)
                .connect_timeout(Duration::from_secs(10))
                .connect_async((NAME, hole.addr.port())),
        )
        .unwrap();
    let took = started.elapsed();
    println!("the late IPv4 address won after {took:?}");
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
    assert!(took >= late && took <= late + MARGIN, "took {took:?}");
}

#[test]
fn a_failed_family_shows_in_the_error_only_when_everything_failed() {
    let (_held, refused) = util::refused_port();
    let resolver = TestResolver::new().answer(Domain::Ipv4, &["127.0.0.1"], Duration::ZERO);
    let err = current_thread()
        .block_on(
            ConnectorBuilder::new()
                .resolver(resolver)
                .connect_async((NAME, refused.port())),
        )
        .unwrap_err();
    check_refused_and_no_ipv6_record(&err, refused.port());
}

#[test]
fn both_families_failing_is_one_resolve_error_naming_each() {
    let err = current_thread()
        .block_on(
            ConnectorBuilder::new()
                .resolver(StaticResolver::new())
                .connect_async(("nowhere.sockwright.test", 80)),
        )
        .unwrap_err();
    check_no_family_resolved(&err);
    // The sequential mode waits for every answer first; its error reads the same.
    let err = current_thread()
        .block_on(
            ConnectorBuilder::new()
                .resolver(StaticResolver::new())
                .happy_eyeballs(false)
                .connect_async(("nowhere.sockwright.test", 80)),
        )
        .unwrap_err();
    check_no_family_resolved(&err);
}

#[test]
fn the_connect_timeout_bounds_resolution_and_race() {
    let resolver = TestResolver::new()
        .gated(Domain::Ipv6, &["::1"])
        .gated(Domain::Ipv4, &["127.0.0.1"]);
    let timeout = Duration::from_millis(200);
    let rt = current_thread();
    for sequential in [false, true] {
        let started = Instant::now();
        let err = rt
            .block_on(
                ConnectorBuilder::new()
                    .resolver(resolver.clone())
                    .happy_eyeballs(!sequential)
                    .connect_timeout(timeout)
                    .connect_async((NAME, 9)),
            )
            .unwrap_err();
        let took = started.elapsed();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        assert!(matches!(err, Error::Resolve { .. }), "{err}");
        assert!(took >= timeout && took <= timeout + MARGIN, "took {took:?}");
    }
    resolver.release();
}

#[test]
fn sequential_mode_and_udp_use_the_resolver_too() {
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = live.local_addr().unwrap().port();
    let table = StaticResolver::new().insert(NAME, "127.0.0.1".parse().unwrap());
    let rt = current_thread();
    let stream = rt
        .block_on(
            ConnectorBuilder::new()
                .resolver(table.clone())
                .happy_eyeballs(false)
                .connect_async((NAME, port)),
        )
        .unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
    let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let client = rt
        .block_on(
            ConnectorBuilder::new()
                .resolver(table)
                .connect_udp_async(format!("{NAME}:{}", server.local_addr().unwrap().port())),
        )
        .unwrap();
    assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
}

#[test]
fn the_runtime_thread_keeps_running_while_a_lookup_is_slow() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    // A current-thread runtime: a task that ticks every 5 ms goes on while
    // the connect waits 200 ms for its only answer, which a lookup blocking
    // the runtime's thread would stop (no tick at all until it returns).
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = live.local_addr().unwrap().port();
    let slow = Duration::from_millis(200);
    let resolver = TestResolver::new().answer(Domain::Ipv4, &["127.0.0.1"], slow);
    let ticks = Arc::new(AtomicU32::new(0));
    let counted = ticks.clone();
    let stream = current_thread().block_on(async move {
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(5)).await;
                counted.fetch_add(1, Ordering::Relaxed);
            }
        });
        let stream = ConnectorBuilder::new()
            .resolver(resolver)
            .connect_async((NAME, port))
            .await;
        ticker.abort();
        stream
    });
    let ticks = ticks.load(Ordering::Relaxed);
    println!("{ticks} ticks of 5 ms while the lookup took {slow:?}");
    assert_eq!(
        stream.unwrap().peer_addr().unwrap(),
        live.local_addr().unwrap()
    );
    // 40 expected; 10 leaves room for a busy machine.
    assert!(ticks >= 10, "the runtime stalled: {ticks} ticks");
}
