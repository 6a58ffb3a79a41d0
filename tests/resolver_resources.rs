//! Connects to a name that win before the slow answer leave nothing behind:
//! after 1,000 of them, the process has the same open file descriptors as
//! before and at most the one thread still waiting for the slow answer
//! (shared by every connect); once that answer comes, no thread at all.
//!
//! Linux only (it counts `/proc/self/fd` and `/proc/self/task`). The file
//! holds a single test so that nothing else in this test binary opens files
//! or starts threads while it counts.
#![cfg(target_os = "linux")]

mod util;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use sockwright::{ConnectorBuilder, Domain};
use util::resolver::{release_and_expect_no_thread_left, TestResolver};
use util::{fd_count, thread_count};

const ROUNDS: usize = 1_000;
/// An upper bound on the whole test, so that a hang fails instead.
const TIME_LIMIT: Duration = Duration::from_secs(60);

#[test]
fn connects_that_win_before_the_slow_answer_leave_no_thread_and_no_fd() {
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = live.local_addr().unwrap().port();
    // A at once, AAAA held until the test lets it go: every connect wins
    // with IPv4 after the resolution delay while the AAAA lookup is pending.
    let resolver = TestResolver::new()
        .answer(Domain::Ipv4, &["127.0.0.1"], Duration::ZERO)
        .gated(Domain::Ipv6, &["::1"]);
    let mut builder = ConnectorBuilder::new();
    builder
        .resolver(resolver.clone())
        .resolution_delay(Duration::from_millis(1));

    let started = Instant::now();
    let fds_before = fd_count();
    let threads_before = thread_count();
    let mut most_threads = threads_before;
    for round in 0..ROUNDS {
        assert!(started.elapsed() < TIME_LIMIT, "round {round}: too slow");
        let stream = builder
            .connect(("slow-aaaa.sockwright.test", port))
            .unwrap();
        assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
        let (accepted, _) = live.accept().unwrap();
        drop((stream, accepted));
        most_threads = most_threads.max(thread_count());
    }
    let fds_after = fd_count();
    let threads_after = thread_count();
    let asked_v6 = resolver
        .asked()
        .iter()
        .filter(|f| **f == Domain::Ipv6)
        .count();
    println!(
        "{ROUNDS} connects in {:?}: fds {fds_before} -> {fds_after}, threads {threads_before} -> {threads_after} (at most {most_threads}), AAAA asked {asked_v6} time(s)",
        started.elapsed()
    );
    assert_eq!(fds_after, fds_before, "descriptors left behind");
    // The one AAAA lookup in flight, shared by every connect.
    assert_eq!(asked_v6, 1, "the pending AAAA question was not shared");
    assert!(threads_after <= threads_before + 1, "threads left behind");
    assert!(
        most_threads <= threads_before + 2,
        "at most {most_threads} threads"
    );

    // The slow answer comes: its thread ends, nobody is left to tell.
    release_and_expect_no_thread_left(
        &resolver,
        threads_before,
        fds_before,
        "the lookup thread did not end after its answer",
    );
}
