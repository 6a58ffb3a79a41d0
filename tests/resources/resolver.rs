//! Connects to a name that win before the slow answer leave nothing behind:
//! after 1,000 of them, the process has the same open file descriptors as
//! before and at most two lookup threads: the one still waiting for the
//! slow answer (shared by every connect) and one that answered the A
//! questions, which ends after a second without a question. Once the slow
//! answer comes, no thread at all.
//!
//! Linux only (it counts `/proc/self/fd` and `/proc/self/task`). It runs in
//! `tests/resources`, in a process of its own, so that nothing else in the process
//! opens files or starts threads while it counts.
#![cfg(target_os = "linux")]

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::util::resolver::{TestResolver, release_and_expect_no_thread_left};
use crate::util::{fd_count, thread_count};
use sockwright::{ConnectorBuilder, Domain};

const ROUNDS: usize = 1_000;
/// An upper bound on the whole test, so that a hang fails instead.
const TIME_LIMIT: Duration = Duration::from_secs(60);

pub fn connects_that_win_before_the_slow_answer_leave_no_thread_and_no_fd() {
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
    // The pool thread that answered the A questions ends once idle.
    let idle_exit = Instant::now();
    while thread_count() > threads_before + 1 {
        assert!(
            idle_exit.elapsed() < Duration::from_secs(5),
            "an idle lookup thread did not end"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let idle_exit = idle_exit.elapsed();
    let asked_v6 = resolver
        .asked()
        .iter()
        .filter(|f| **f == Domain::Ipv6)
        .count();
    println!(
        "{ROUNDS} connects in {:?}: fds {fds_before} -> {fds_after}, threads {threads_before} -> {threads_after} (at most {most_threads}), AAAA asked {asked_v6} time(s); \
         down to {} thread(s) after {idle_exit:?}",
        started.elapsed(),
        thread_count()
    );
    assert_eq!(fds_after, fds_before, "descriptors left behind");
    // The one AAAA lookup in flight, shared by every connect.
    assert_eq!(asked_v6, 1, "the pending AAAA question was not shared");
    // The held AAAA lookup, and the thread that answered the A questions.
    assert!(threads_after <= threads_before + 2, "threads left behind");
    assert!(
        most_threads <= threads_before + 2,
        "at most {most_threads} threads"
    );
    assert_eq!(
        thread_count(),
        threads_before + 1,
        "the held AAAA lookup no longer holds its thread"
    );

    // The slow answer comes: its thread ends, nobody is left to tell.
    release_and_expect_no_thread_left(
        &resolver,
        threads_before,
        fds_before,
        "the lookup thread did not end after its answer",
    );
}
