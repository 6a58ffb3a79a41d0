//! Dropping `connect_async` mid-race closes every socket it opened: after
//! 1,000 races cancelled while their attempts were pending, the process has
//! the same open file descriptors as before.
//!
//! Linux only (it counts `/proc/self/fd`, and the black hole relies on Linux
//! dropping SYNs at a full accept queue). It runs in `tests/resources`, one
//! test at a time, so that nothing else in the process opens files while it
//! counts.
#![cfg(all(feature = "tokio", target_os = "linux"))]

use std::time::{Duration, Instant};

use crate::util::{black_holes_v6_and_v4, current_thread, fd_count};
use sockwright::ConnectorBuilder;

/// Races dropped while their first attempt is pending (before the delay).
const ONE_PENDING: usize = 500;
/// Races dropped while two attempts are pending (after the delay).
const TWO_PENDING: usize = 500;
/// Races run side by side, each dropped at its own time: the waits of
/// 1,000 races one after another would take 12.5 s.
const AT_ONCE: usize = 10;
/// An upper bound on the whole test, so that a hang fails instead.
const TIME_LIMIT: Duration = Duration::from_secs(60);

pub fn dropping_connect_async_mid_race_leaves_no_fd() {
    let Some((hole6, hole4)) = black_holes_v6_and_v4(Duration::from_millis(200)) else {
        return;
    };
    let targets = [hole6.addr, hole4.addr];
    let delay = Duration::from_millis(10);
    let mut builder = ConnectorBuilder::new();
    builder.connection_attempt_delay(delay);
    let rt = current_thread();

    let started = Instant::now();
    let (fds_before, fds_after) = rt.block_on(async {
        // One race first, so that the runtime's own one-time setup (its
        // timer, its first registrations) is in the "before" count.
        let warm = tokio::time::timeout(delay * 2, builder.connect_async(&targets[..])).await;
        assert!(
            warm.is_err(),
            "a race past two black holes finished: {warm:?}"
        );
        let before = fd_count();
        let rounds = [(ONE_PENDING, delay / 2), (TWO_PENDING, delay * 2)];
        for (count, cancel_after) in rounds {
            for first in (0..count).step_by(AT_ONCE) {
                assert!(started.elapsed() < TIME_LIMIT, "round {first}: too slow");
                let mut races = tokio::task::JoinSet::new();
                for round in first..count.min(first + AT_ONCE) {
                    let builder = builder.clone();
                    races.spawn(async move {
                        let raced =
                            tokio::time::timeout(cancel_after, builder.connect_async(&targets[..]))
                                .await;
                        assert!(
                            raced.is_err(),
                            "round {round}: the race finished: {raced:?}"
                        );
                    });
                }
                while let Some(race) = races.join_next().await {
                    race.unwrap();
                }
            }
        }
        (before, fd_count())
    });
    eprintln!(
        "{ONE_PENDING} races dropped with one attempt pending, {TWO_PENDING} with two, in {:?}: \
         fds {fds_before} before, {fds_after} after",
        started.elapsed()
    );
    assert_eq!(fds_after, fds_before, "file descriptors leaked");
}
