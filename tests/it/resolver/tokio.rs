//! `connect_async` to a name starts from the first DNS answer (RFC 8305,
//! section 3), as `connect` does (`tests/it/resolver/blocking.rs`): the same cases
//! (`tests/util/resolver_cases.rs`), with the same test resolver, whose
//! answers come at chosen times, on a current-thread runtime; and the
//! runtime's thread goes on while a lookup is slow. Loopback only; the
//! black-holed `[::1]` is the full accept queue of `tests/it/connector/happy_eyeballs.rs`
//! (Linux).
//!
//! Run with `cargo test --features tokio --test tokio_resolver`.
#![cfg(feature = "tokio")]

use std::net::TcpListener;
use std::time::Duration;

use crate::util::current_thread;
use crate::util::resolver::{NAME, TestResolver};
use crate::util::resolver_cases::{self as cases, Driver};
use sockwright::{ConnectorBuilder, Domain};

/// The async calls, on a fresh current-thread runtime.
fn on_runtime() -> Driver {
    Driver::Async(current_thread())
}

#[test]
fn a_first_and_aaaa_after_3s_connects_within_the_resolution_delay() {
    cases::a_first_and_aaaa_after_3s_connects_within_the_resolution_delay(&on_runtime());
}

#[cfg(target_os = "linux")]
#[test]
fn aaaa_within_the_delay_is_tried_first_and_loses_to_ipv4_after_the_attempt_delay() {
    cases::aaaa_within_the_delay_is_tried_first_and_loses_to_ipv4_after_the_attempt_delay(
        &on_runtime(),
    );
}

#[cfg(target_os = "linux")]
#[test]
fn an_a_answer_after_the_race_started_joins_it() {
    cases::an_a_answer_after_the_race_started_joins_it(&on_runtime());
}

#[test]
fn a_failed_family_shows_in_the_error_only_when_everything_failed() {
    cases::a_failed_family_shows_in_the_error_only_when_everything_failed(&on_runtime());
}

#[test]
fn both_families_failing_is_one_resolve_error_naming_each() {
    cases::both_families_failing_is_one_resolve_error_naming_each(&on_runtime());
}

#[test]
fn the_connect_timeout_bounds_resolution_and_race() {
    cases::the_connect_timeout_bounds_resolution_and_race(&on_runtime());
}

#[test]
fn sequential_mode_and_udp_use_the_resolver_too() {
    cases::sequential_mode_and_udp_use_the_resolver_too(&on_runtime());
}

#[test]
fn the_runtime_thread_keeps_running_while_a_lookup_is_slow() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
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
