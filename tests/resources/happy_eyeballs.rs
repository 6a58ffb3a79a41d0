//! A Happy Eyeballs connect leaves nothing behind: after many races whose
//! losing attempts were still pending (won by another address, or ended by
//! the connect timeout), the process has the same open file descriptors and
//! threads as before.
//!
//! Linux only (it counts `/proc/self/fd` and `/proc/self/task`, and the black
//! hole relies on Linux dropping SYNs at a full accept queue). It runs in
//! `tests/resources`, in a process of its own, so that nothing else in the process
//! opens files or starts threads while it counts.
#![cfg(target_os = "linux")]

use std::io::ErrorKind;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::util::{black_holes_v6_and_v4, fd_count, thread_count};
use sockwright::{ConnectorBuilder, Error};

/// Races won by IPv4 while the black-holed IPv6 attempt is pending.
const WON_ROUNDS: usize = 200;
/// Races in which every attempt is pending when the timeout ends them.
const TIMED_OUT_ROUNDS: usize = 50;
/// An upper bound on the whole test, so that a hang fails instead.
const TIME_LIMIT: Duration = Duration::from_secs(60);

pub fn losing_attempts_leave_no_fd_and_no_thread() {
    // Fixtures first, so that they are part of the "before" count.
    let Some((hole6, hole4)) = black_holes_v6_and_v4(Duration::from_millis(200)) else {
        return;
    };
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let live_addr = live.local_addr().unwrap();
    let delay = Duration::from_millis(10);
    let mut racer = ConnectorBuilder::new();
    racer.connection_attempt_delay(delay);
    let timeout = Duration::from_millis(100);
    let mut timed = ConnectorBuilder::new();
    timed
        .connection_attempt_delay(delay)
        .connect_timeout(timeout);

    let started = Instant::now();
    let fds_before = fd_count();
    let threads_before = thread_count();

    for round in 0..WON_ROUNDS {
        assert!(started.elapsed() < TIME_LIMIT, "round {round}: too slow");
        let t = Instant::now();
        let stream = racer.connect(&[hole6.addr, live_addr][..]).unwrap();
        // The IPv4 attempt started only after the delay: the IPv6 one was
        // pending all along and lost.
        assert!(t.elapsed() >= delay, "round {round}: no race");
        assert_eq!(stream.peer_addr().unwrap(), live_addr);
        drop(live.accept().unwrap());
    }
    // Each race times out; normally both attempts were pending by then, but
    // a busy machine may reach the deadline before the second one started,
    // so those rounds are counted rather than required.
    let mut two_pending = 0;
    for round in 0..TIMED_OUT_ROUNDS {
        assert!(started.elapsed() < TIME_LIMIT, "round {round}: too slow");
        let err = timed.connect(&[hole4.addr, hole6.addr][..]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "round {round}: {err}");
        if let Error::AllAttemptsFailed { attempts, .. } = &err {
            assert_eq!(attempts.len(), 2, "{err}");
            assert!(
                attempts.iter().all(|e| e.kind() == ErrorKind::TimedOut),
                "{err}"
            );
            two_pending += 1;
        }
    }
    assert!(two_pending > 0, "no race had two attempts pending");

    let fds_after = fd_count();
    let threads_after = thread_count();
    eprintln!(
        "{WON_ROUNDS} races won past a pending attempt, {TIMED_OUT_ROUNDS} races timed out \
         ({two_pending} with two pending attempts), in {:?}: fds {fds_before} before, \
         {fds_after} after; threads {threads_before} before, {threads_after} after",
        started.elapsed()
    );
    assert_eq!(fds_after, fds_before, "file descriptors leaked");
    assert_eq!(threads_after, threads_before, "threads left running");
}
