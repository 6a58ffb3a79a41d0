//! A resolver that never answers costs at most `MAX_LOOKUP_THREADS`
//! threads, however many names are asked: 2,000 connects to distinct names
//! through a `Resolve` whose lookups block until the test ends, from 16
//! threads at once, each connect bounded by a short connect timeout. Every
//! connect fails at its timeout; exactly `MAX_LOOKUP_THREADS` questions are
//! ever asked (the others leave the queue unasked when their connect gives
//! up); the process holds at most that many lookup threads and, once the
//! connects have returned, no descriptor more than before. When the
//! lookups return, the threads end after a second idle.
//!
//! Linux only (it counts `/proc/self/fd` and `/proc/self/task`). It runs in
//! `tests/resources`, in a process of its own, so that nothing else in the process
//! opens files or starts threads while it counts.
#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use crate::util::resolver::{HangingResolver, check_pool_cap_then_release};
use crate::util::{fd_count, lookup_thread_count, thread_count};
use sockwright::{ConnectorBuilder, MAX_LOOKUP_THREADS};

const NAMES: usize = 2_000;
const CALLERS: usize = 16;
const TIMEOUT: Duration = Duration::from_millis(15);
/// What a connect may take past its timeout on a busy machine.
const SLACK: Duration = Duration::from_millis(500);

pub fn a_resolver_that_never_answers_holds_at_most_the_cap_of_threads() {
    let resolver = HangingResolver::new();
    let mut builder = ConnectorBuilder::new();
    builder.resolver(resolver.clone()).connect_timeout(TIMEOUT);

    let started = Instant::now();
    let fds_before = fd_count();
    let threads_before = thread_count();
    let callers: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let builder = builder.clone();
            std::thread::spawn(move || {
                let mut most_lookup_threads = 0;
                let mut slowest = Duration::ZERO;
                for i in (caller..NAMES).step_by(CALLERS) {
                    let name = format!("n{i}.hang.sockwright.test");
                    let began = Instant::now();
                    let err = builder.connect((name.as_str(), 80)).unwrap_err();
                    let took = began.elapsed();
                    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{name}: {err}");
                    assert!(took < TIMEOUT + SLACK, "{name}: returned after {took:?}");
                    slowest = slowest.max(took);
                    if i % 256 == caller {
                        most_lookup_threads = most_lookup_threads.max(lookup_thread_count());
                    }
                }
                (most_lookup_threads, slowest)
            })
        })
        .collect();
    let mut most_sampled = 0;
    let mut slowest = Duration::ZERO;
    for caller in callers {
        let (most, slow) = caller.join().unwrap();
        most_sampled = most_sampled.max(most);
        slowest = slowest.max(slow);
    }
    let connects_took = started.elapsed();
    let fds_after = fd_count();
    let held = lookup_thread_count();
    let (asked, most_at_once) = resolver.asked_and_most();
    println!(
        "{NAMES} connects to distinct names through a resolver that never answers, \
         {CALLERS} at a time, in {connects_took:?} (slowest {slowest:?}, timeout {TIMEOUT:?}): \
         lookups asked {asked}, at most {most_at_once} under way at once; lookup threads \
         sampled at most {most_sampled}, {held} held after; fds {fds_before} -> {fds_after}"
    );
    assert_eq!(
        fds_after, fds_before,
        "descriptors left behind by connects that returned"
    );
    assert!(
        most_sampled <= MAX_LOOKUP_THREADS,
        "{most_sampled} lookup threads"
    );
    check_pool_cap_then_release(&resolver, held, threads_before, fds_before);
}
