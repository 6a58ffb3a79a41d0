//! `connect_async` through a resolver that never answers costs at most
//! `MAX_LOOKUP_THREADS` threads and no descriptor: 2,000 connects to
//! distinct names at once on one runtime, through a `Resolve` whose lookups
//! block until the test ends, each bounded by a 1 s connect timeout. Every
//! connect fails at its timeout; exactly `MAX_LOOKUP_THREADS` questions are
//! ever asked (the others leave the queue unasked when their connect gives
//! up); while they wait, the connects hold no descriptor at all. When the
//! lookups return, the threads end after a second idle.
//!
//! Linux only (it counts `/proc/self/fd` and `/proc/self/task`). It runs in
//! `tests/resources`, in a process of its own, so that nothing else in the process
//! opens files or starts threads while it counts.
#![cfg(all(feature = "tokio", target_os = "linux"))]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::util::resolver::{HangingResolver, check_pool_cap_then_release};
use crate::util::{current_thread, fd_count, lookup_thread_count, thread_count};
use sockwright::{ConnectorBuilder, MAX_LOOKUP_THREADS};

const NAMES: usize = 2_000;
const TIMEOUT: Duration = Duration::from_secs(1);
/// What a connect may take past its timeout on a busy machine.
const SLACK: Duration = Duration::from_millis(1000);

pub fn connect_async_through_a_resolver_that_never_answers_holds_at_most_the_cap() {
    let resolver = HangingResolver::new();
    let mut builder = ConnectorBuilder::new();
    builder.resolver(resolver.clone()).connect_timeout(TIMEOUT);
    let rt = current_thread();
    let threads_before = thread_count();

    let started = Instant::now();
    let (fds_before, fds_waiting, fds_after, lookup_threads_waiting, slowest) =
        rt.block_on(async {
            let before = fd_count();
            let mut tasks = tokio::task::JoinSet::new();
            let started = Arc::new(AtomicUsize::new(0));
            for i in 0..NAMES {
                let builder = builder.clone();
                let started = started.clone();
                tasks.spawn(async move {
                    let name = format!("n{i}.hang.sockwright.test");
                    let began = Instant::now();
                    // Counted just before the connect's first poll, in the
                    // same poll of this task.
                    started.fetch_add(1, Ordering::Relaxed);
                    let err = builder
                        .connect_async((name.as_str(), 80))
                        .await
                        .unwrap_err();
                    (name, err, began.elapsed())
                });
            }
            // Every connect has started and waits for its answers: each
            // task has polled its connect once, and every lookup thread is
            // inside the resolver (named, so counted below). Well before
            // the connects' timeout.
            let deadline = Instant::now() + TIMEOUT / 2;
            while started.load(Ordering::Relaxed) < NAMES
                || resolver.asked_and_most().0 < MAX_LOOKUP_THREADS
            {
                assert!(
                    Instant::now() < deadline,
                    "{} of {NAMES} connects started, {} lookups asked, after {:?}",
                    started.load(Ordering::Relaxed),
                    resolver.asked_and_most().0,
                    TIMEOUT / 2
                );
                // Lets the tasks run; paces the check.
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let waiting = fd_count();
            let lookup_threads = lookup_thread_count();
            let mut slowest = Duration::ZERO;
            while let Some(done) = tasks.join_next().await {
                let (name, err, took) = done.unwrap();
                assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{name}: {err}");
                assert!(
                    took >= TIMEOUT && took < TIMEOUT + SLACK,
                    "{name}: returned after {took:?}"
                );
                slowest = slowest.max(took);
            }
            (before, waiting, fd_count(), lookup_threads, slowest)
        });
    let connects_took = started.elapsed();
    let held = lookup_thread_count();
    let (asked, most_at_once) = resolver.asked_and_most();
    println!(
        "{NAMES} concurrent connect_async to distinct names through a resolver that never \
         answers, in {connects_took:?} (slowest {slowest:?}, timeout {TIMEOUT:?}): lookups \
         asked {asked}, at most {most_at_once} under way at once; lookup threads \
         {lookup_threads_waiting} while waiting, {held} held after; fds {fds_before} -> \
         {fds_waiting} while waiting -> {fds_after}"
    );
    assert_eq!(
        fds_waiting, fds_before,
        "descriptors held by connects waiting for a lookup"
    );
    assert_eq!(fds_after, fds_before, "descriptors left behind");
    assert_eq!(
        lookup_threads_waiting, MAX_LOOKUP_THREADS,
        "lookup threads while waiting"
    );
    check_pool_cap_then_release(&resolver, held, threads_before, fds_before);
}
