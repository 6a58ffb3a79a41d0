//! One Happy Eyeballs connect holds a bounded number of sockets, and its
//! error stays short, however many addresses it is given: 5,000 black-holed
//! addresses (SYNs dropped at a full accept queue) hold at most
//! `max_attempts_in_flight` sockets at once, counted in `/proc/self/fd` by a
//! second thread while the connect runs, with the blocking driver and (with
//! the `tokio` feature) the tokio one; 5,000 refused addresses give an error
//! of a few hundred bytes that still keeps every attempt.
//!
//! Linux only (it counts `/proc/self/fd`, and the black hole relies on Linux
//! dropping SYNs at a full accept queue). It runs in `tests/resources`, one
//! test at a time, so that nothing else in the process opens files while it
//! counts.
//!
//! The 5,000 addresses repeat a few black holes (on 127.0.0.1 to 127.0.0.4)
//! or one refused port: a list given to a connect is raced as given, each
//! entry on a fresh socket, so a repeated address is one more attempt like
//! any other.
#![cfg(target_os = "linux")]

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{FullListener, fd_count, full_listener_at, refused_port};
use sockwright::{ConnectorBuilder, Error};

/// How many addresses each connect is given.
const ADDRESSES: usize = 5_000;
/// The connection attempt delay: the RFC's floor, so that without a cap a
/// new socket would open every 10 ms.
const DELAY: Duration = Duration::from_millis(10);
/// The connect timeout that ends each black-holed race; without a cap, 100
/// sockets would be open by then.
const TIMEOUT: Duration = Duration::from_secs(1);
/// The longest message accepted for an error listing 5,000 attempts.
const MESSAGE_LIMIT: usize = 2048;

/// Samples the process's open descriptors from a second thread while `run`
/// runs, and returns `run`'s result with the most seen above `baseline`.
fn most_fds_during<T>(baseline: usize, run: impl FnOnce() -> T) -> (T, usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let most = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (stop, most) = (stop.clone(), most.clone());
        thread::spawn(move || {
            // Bounded in count as well as by the stop flag.
            for _ in 0..100_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                most.fetch_max(fd_count().saturating_sub(baseline), Ordering::Relaxed);
                thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let result = run();
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    (result, most.load(Ordering::Relaxed))
}

/// Checks the error of a race lost to black holes: every attempt started
/// timed out, there were `cap` of them, and the message is short.
fn check_timed_out(what: &str, err: &Error, cap: usize, elapsed: Duration) {
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{what}: {err}");
    assert_eq!(err.attempts().len(), cap, "{what}: {err}");
    let message = err.to_string();
    assert!(message.len() < MESSAGE_LIMIT, "{what}: {message}");
    assert!(
        elapsed >= TIMEOUT && elapsed < TIMEOUT * 3,
        "{what}: took {elapsed:?}"
    );
}

/// Checks the error of a race to `ADDRESSES` refused addresses.
fn check_refused(what: &str, err: &Error) {
    let message = err.to_string();
    eprintln!("{what}: {} bytes: {message}", message.len());
    assert_eq!(
        err.attempts().len(),
        ADDRESSES,
        "{what}: every attempt is kept"
    );
    assert!(
        err.attempts()
            .iter()
            .all(|a| a.kind() == ErrorKind::ConnectionRefused),
        "{what}"
    );
    assert!(
        message.len() < MESSAGE_LIMIT,
        "{what}: {} bytes",
        message.len()
    );
    assert!(
        message.contains(": all 5,000 addresses failed: "),
        "{message}"
    );
    assert!(message.contains("; ... and 4,992 more; "), "{message}");
    assert!(
        message.ends_with(&err.attempts()[ADDRESSES - 1].to_string()),
        "{what}: the message ends with the last attempt's reason: {message}"
    );
}

pub fn many_addresses_hold_at_most_the_cap_and_give_a_short_error() {
    let started = Instant::now();
    // Fixtures first, so that they are part of the baseline.
    let mut holes: Vec<FullListener> = Vec::new();
    for host in ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        match full_listener_at(&format!("{host}:0"), Duration::from_millis(100)) {
            Some(hole) => holes.push(hole),
            None => {
                eprintln!("skipped: this kernel does not drop SYNs at a full accept queue");
                return;
            }
        }
    }
    let black_holed: Vec<SocketAddr> = holes
        .iter()
        .map(|h| h.addr)
        .cycle()
        .take(ADDRESSES)
        .collect();
    let (_port, refused) = refused_port();
    let refused = vec![refused; ADDRESSES];
    #[cfg(feature = "tokio")]
    let runtime = crate::util::current_thread();
    let baseline = fd_count();

    for cap in [ConnectorBuilder::DEFAULT_MAX_ATTEMPTS_IN_FLIGHT, 2] {
        let mut builder = ConnectorBuilder::new();
        builder
            .connection_attempt_delay(DELAY)
            .connect_timeout(TIMEOUT)
            .max_attempts_in_flight(cap);
        let began = Instant::now();
        let (result, most) = most_fds_during(baseline, || builder.connect(&black_holed[..]));
        let err = result.unwrap_err();
        let elapsed = began.elapsed();
        eprintln!(
            "blocking, {ADDRESSES} black-holed addresses, cap {cap}, {DELAY:?} delay, \
             {TIMEOUT:?} timeout: at most {most} sockets open at once, error of {} bytes, {elapsed:?}",
            err.to_string().len()
        );
        assert_eq!(most, cap, "the cap is reached and never passed");
        check_timed_out("blocking", &err, cap, elapsed);

        #[cfg(feature = "tokio")]
        {
            let began = Instant::now();
            let (result, most) = most_fds_during(baseline, || {
                runtime.block_on(builder.connect_async(&black_holed[..]))
            });
            let err = result.unwrap_err();
            let elapsed = began.elapsed();
            eprintln!(
                "tokio, {ADDRESSES} black-holed addresses, cap {cap}: at most {most} sockets \
                 open at once, error of {} bytes, {elapsed:?}",
                err.to_string().len()
            );
            assert_eq!(most, cap, "the cap is reached and never passed");
            check_timed_out("tokio", &err, cap, elapsed);
        }
    }

    let mut builder = ConnectorBuilder::new();
    builder
        .connection_attempt_delay(DELAY)
        .connect_timeout(Duration::from_secs(10));
    let began = Instant::now();
    let (result, most) = most_fds_during(baseline, || builder.connect(&refused[..]));
    let err = result.unwrap_err();
    eprintln!(
        "blocking, {ADDRESSES} refused addresses: {:?}, at most {most} sockets open at once",
        began.elapsed()
    );
    assert!(most <= ConnectorBuilder::DEFAULT_MAX_ATTEMPTS_IN_FLIGHT);
    check_refused("blocking", &err);
    #[cfg(feature = "tokio")]
    {
        let began = Instant::now();
        let err = runtime
            .block_on(builder.connect_async(&refused[..]))
            .unwrap_err();
        eprintln!(
            "tokio, {ADDRESSES} refused addresses: {:?}",
            began.elapsed()
        );
        check_refused("tokio", &err);
    }
    assert_eq!(fd_count(), baseline, "every attempt's socket is closed");
    eprintln!("whole test: {:?}", started.elapsed());
}
