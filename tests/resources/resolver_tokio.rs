//! Dropping `connect_async` while the lookups of a name are under way
//! closes every socket it opened: after 500 connects cancelled before any
//! answer came, the process has the same open file descriptors as before,
//! and at most the lookups' threads still waiting for the held answers
//! (shared by every connect); once those come, no thread at all.
//!
//! Linux only (it counts `/proc/self/fd` and `/proc/self/task`). It runs in
//! `tests/resources`, in a process of its own, so that nothing else in the process
//! opens files or starts threads while it counts.
#![cfg(all(feature = "tokio", target_os = "linux"))]

use std::time::{Duration, Instant};

use crate::util::resolver::{TestResolver, release_and_expect_no_thread_left};
use crate::util::{current_thread, fd_count, thread_count};
use sockwright::{ConnectorBuilder, Domain};

const ROUNDS: usize = 500;
/// An upper bound on the whole test, so that a hang fails instead.
const TIME_LIMIT: Duration = Duration::from_secs(60);

pub fn dropping_connect_async_mid_lookup_leaves_no_fd() {
    // Neither family answers until the test lets them go.
    let resolver = TestResolver::new()
        .gated(Domain::Ipv6, &["::1"])
        .gated(Domain::Ipv4, &["127.0.0.1"]);
    let mut builder = ConnectorBuilder::new();
    builder.resolver(resolver.clone());
    let rt = current_thread();
    let cancel_after = Duration::from_millis(2);

    let started = Instant::now();
    let threads_before = thread_count();
    let (fds_before, fds_after, most_threads) = rt.block_on(async {
        // One connect first, so that the runtime's own one-time setup (its
        // timer, its first registrations) is in the "before" count; its
        // lookups stay in flight and every later connect joins them.
        let warm = tokio::time::timeout(
            cancel_after,
            builder.connect_async(("held.sockwright.test", 9)),
        )
        .await;
        assert!(warm.is_err(), "a connect with no answer finished: {warm:?}");
        let before = fd_count();
        let mut most_threads = thread_count();
        for round in 0..ROUNDS {
            assert!(started.elapsed() < TIME_LIMIT, "round {round}: too slow");
            let cancelled = tokio::time::timeout(
                cancel_after,
                builder.connect_async(("held.sockwright.test", 9)),
            )
            .await;
            assert!(cancelled.is_err(), "round {round}: finished: {cancelled:?}");
            most_threads = most_threads.max(thread_count());
        }
        (before, fd_count(), most_threads)
    });
    let asked = resolver.asked().len();
    println!(
        "{ROUNDS} connects dropped mid-lookup in {:?}: fds {fds_before} -> {fds_after}, \
         threads {threads_before} -> at most {most_threads}, questions asked {asked}",
        started.elapsed()
    );
    assert_eq!(fds_after, fds_before, "file descriptors leaked");
    // One question per family in flight, shared by every connect.
    assert_eq!(asked, 2, "the questions in flight were not shared");
    assert!(
        most_threads <= threads_before + 2,
        "at most {most_threads} threads"
    );

    // The held answers come: the lookup threads end, nobody is left to tell.
    release_and_expect_no_thread_left(
        &resolver,
        threads_before,
        fds_before,
        "the lookup threads did not end after their answers",
    );
}
