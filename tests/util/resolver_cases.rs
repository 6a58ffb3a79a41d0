//! The resolver cases that `connect` and `connect_async` must pass alike,
//! written once: `tests/it/resolver/blocking.rs` runs each with
//! [`Driver::Blocking`], `tests/it/resolver/tokio.rs` with [`Driver::Async`]. A
//! case takes the driver, builds its resolver and builder, and checks what the
//! connect gives; the driver only decides which call makes the connect.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use sockwright::{ConnectorBuilder, Domain, Error, StaticResolver};

use super::resolver::{
    MARGIN, NAME, SLACK, TestResolver, check_no_family_resolved, check_refused_and_no_ipv6_record,
};
use super::{init_log, refused_port};

/// Which call of the builder makes the connect.
pub enum Driver {
    /// `connect` and `connect_udp`.
    Blocking,
    /// `connect_async` and `connect_udp_async`, on this runtime.
    #[cfg(feature = "tokio")]
    Async(tokio::runtime::Runtime),
}

impl Driver {
    /// A TCP connect to `target` made by `builder`: the peer's address.
    pub fn connect(
        &self,
        builder: &ConnectorBuilder,
        target: (&str, u16),
    ) -> Result<SocketAddr, Error> {
        Ok(match self {
            Driver::Blocking => builder.connect(target)?.peer_addr(),
            #[cfg(feature = "tokio")]
            Driver::Async(rt) => rt.block_on(builder.connect_async(target))?.peer_addr(),
        }
        .expect("peer address of a connected stream"))
    }

    /// A UDP connect to `target` made by `builder`: the peer's address.
    pub fn connect_udp(
        &self,
        builder: &ConnectorBuilder,
        target: String,
    ) -> Result<SocketAddr, Error> {
        Ok(match self {
            Driver::Blocking => builder.connect_udp(target)?.peer_addr(),
            #[cfg(feature = "tokio")]
            Driver::Async(rt) => rt.block_on(builder.connect_udp_async(target))?.peer_addr(),
        }
        .expect("peer address of a connected socket"))
    }
}

/// A at once and AAAA only after 3 s: the connect waits the resolution
/// delay for AAAA, no longer, then connects to IPv4; each family is asked
/// once.
pub fn a_first_and_aaaa_after_3s_connects_within_the_resolution_delay(driver: &Driver) {
    init_log();
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = live.local_addr().unwrap().port();
    let resolver = TestResolver::new()
        .answer(Domain::Ipv4, &["127.0.0.1"], Duration::ZERO)
        .answer(Domain::Ipv6, &["::1"], Duration::from_secs(3));
    let delay = ConnectorBuilder::DEFAULT_RESOLUTION_DELAY;
    let mut builder = ConnectorBuilder::new();
    builder.resolver(resolver.clone());
    let started = Instant::now();
    let peer = driver.connect(&builder, (NAME, port)).unwrap();
    let took = started.elapsed();
    println!("connected after {took:?} (resolution delay {delay:?}, AAAA due after 3 s)");
    assert_eq!(peer, live.local_addr().unwrap());
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

/// AAAA 20 ms after A, within the resolution delay: the black-holed IPv6
/// address is tried first and IPv4 wins one attempt delay later.
#[cfg(target_os = "linux")]
pub fn aaaa_within_the_delay_is_tried_first_and_loses_to_ipv4_after_the_attempt_delay(
    driver: &Driver,
) {
    init_log();
    let Some((hole, live)) = super::black_hole_v6_and_live_v4() else {
        return;
    };
    let resolver = TestResolver::new()
        .answer(Domain::Ipv4, &["127.0.0.1"], Duration::ZERO)
        .answer(Domain::Ipv6, &["::1"], Duration::from_millis(20));
    let attempt_delay = Duration::from_millis(100);
    let mut builder = ConnectorBuilder::new();
    builder
        .resolver(resolver)
        .connection_attempt_delay(attempt_delay);
    let started = Instant::now();
    let peer = driver.connect(&builder, (NAME, hole.addr.port())).unwrap();
    let took = started.elapsed();
    println!("IPv4 won after {took:?}");
    assert_eq!(peer, live.local_addr().unwrap());
    // IPv6 went first: IPv4 started only one attempt delay after it, which
    // itself started once AAAA came (20 ms).
    let first = Duration::from_millis(20);
    assert!(
        took >= first + attempt_delay,
        "IPv4 was not second: {took:?}"
    );
    assert!(took <= first + attempt_delay + MARGIN, "took {took:?}");
}

/// AAAA at once and A 300 ms later: the race starts on the black hole and
/// the late IPv4 address joins it and wins.
#[cfg(target_os = "linux")]
pub fn an_a_answer_after_the_race_started_joins_it(driver: &Driver) {
    init_log();
    let Some((hole, live)) = super::black_hole_v6_and_live_v4() else {
        return;
    };
    let late = Duration::from_millis(300);
    let resolver = TestResolver::new()
        .answer(Domain::Ipv6, &["::1"], Duration::ZERO)
        .answer(Domain::Ipv4, &["127.0.0.1"], late);
    let mut builder = ConnectorBuilder::new();
    builder
        .resolver(resolver)
        .connect_timeout(Duration::from_secs(10));
    let started = Instant::now();
    let peer = driver.connect(&builder, (NAME, hole.addr.port())).unwrap();
    let took = started.elapsed();
    println!("the late IPv4 address won after {took:?}");
    assert_eq!(peer, live.local_addr().unwrap());
    assert!(took >= late && took <= late + MARGIN, "took {took:?}");
}

/// IPv4 refused and no AAAA record: one error listing both failures.
pub fn a_failed_family_shows_in_the_error_only_when_everything_failed(driver: &Driver) {
    let (_held, refused) = refused_port();
    let resolver = TestResolver::new().answer(Domain::Ipv4, &["127.0.0.1"], Duration::ZERO);
    let mut builder = ConnectorBuilder::new();
    builder.resolver(resolver);
    let err = driver
        .connect(&builder, (NAME, refused.port()))
        .unwrap_err();
    check_refused_and_no_ipv6_record(&err, refused.port());
}

/// No answer for either family: one resolve error naming each, from the
/// race, the sequential mode and a datagram connect alike.
pub fn both_families_failing_is_one_resolve_error_naming_each(driver: &Driver) {
    let target = ("nowhere.sockwright.test", 80);
    let mut builder = ConnectorBuilder::new();
    builder.resolver(StaticResolver::new());
    let err = driver.connect(&builder, target).unwrap_err();
    check_no_family_resolved(&err);
    assert_eq!(err.kind(), ErrorKind::NotFound);
    // The sequential mode and a datagram connect wait for every answer
    // first; their error reads the same.
    check_no_family_resolved(
        &driver
            .connect_udp(&builder, "nowhere.sockwright.test:80".into())
            .unwrap_err(),
    );
    builder.happy_eyeballs(false);
    check_no_family_resolved(&driver.connect(&builder, target).unwrap_err());
}

/// Answers that never come: the connect timeout ends the connect, racing
/// or sequential, as a resolve error that timed out.
pub fn the_connect_timeout_bounds_resolution_and_race(driver: &Driver) {
    let resolver = TestResolver::new()
        .gated(Domain::Ipv6, &["::1"])
        .gated(Domain::Ipv4, &["127.0.0.1"]);
    let timeout = Duration::from_millis(200);
    for race in [true, false] {
        let mut builder = ConnectorBuilder::new();
        builder
            .resolver(resolver.clone())
            .happy_eyeballs(race)
            .connect_timeout(timeout);
        let started = Instant::now();
        let err = driver.connect(&builder, (NAME, 9)).unwrap_err();
        let took = started.elapsed();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        assert!(matches!(err, Error::Resolve { .. }), "{err}");
        assert!(took >= timeout && took <= timeout + MARGIN, "took {took:?}");
    }
    resolver.release();
}

/// A sequential TCP connect and a datagram connect ask the builder's
/// resolver too, not the system's.
pub fn sequential_mode_and_udp_use_the_resolver_too(driver: &Driver) {
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = live.local_addr().unwrap().port();
    let table = StaticResolver::new().insert(NAME, "127.0.0.1".parse().unwrap());
    let mut builder = ConnectorBuilder::new();
    builder.resolver(table.clone()).happy_eyeballs(false);
    assert_eq!(
        driver.connect(&builder, (NAME, port)).unwrap(),
        live.local_addr().unwrap()
    );
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut builder = ConnectorBuilder::new();
    builder.resolver(table);
    let target = format!("{NAME}:{}", server.local_addr().unwrap().port());
    assert_eq!(
        driver.connect_udp(&builder, target).unwrap(),
        server.local_addr().unwrap()
    );
}
