//! The resolver tests' fixtures, shared by the blocking and the async files
//! (`tests/it/resolver/blocking.rs`, `tests/it/resolver/tokio.rs` and
//! `tests/resources/resolver*.rs`): a resolver whose answers come at chosen times, the name
//! and time bounds they connect with, and the checks both make of the same
//! errors.

use std::io;
use std::time::Duration;

use sockwright::{Domain, Error};

/// The name every resolver test connects to.
pub const NAME: &str = "dual.sockwright.test";
/// What a connect may take on top of what the RFC makes it wait, on a busy
/// machine; the figure the tests are held to (the resolution delay + 100 ms).
pub const SLACK: Duration = Duration::from_millis(100);
/// Where only the order of events is checked (a late answer joined, IPv6
/// went first), an upper bound that a busy machine cannot miss but a
/// connect waiting for the black hole's timeout would.
pub const MARGIN: Duration = Duration::from_millis(1500);

/// Checks the error of a connect to [`NAME`] at `port` whose resolver
/// answers only IPv4, with `127.0.0.1:port` refused: both failures are
/// listed, the connect's first and the missing IPv6 record's second, and
/// the text names each.
pub fn check_refused_and_no_ipv6_record(err: &Error, port: u16) {
    let text = err.to_string();
    println!("{text}");
    let Error::AllAttemptsFailed { attempts, .. } = err else {
        panic!("expected every attempt listed, got {err}");
    };
    assert_eq!(attempts.len(), 2, "{text}");
    assert!(matches!(attempts[0], Error::Connect { .. }), "{text}");
    assert!(
        matches!(&attempts[1], Error::Resolve { family: Some(Domain::Ipv6), target, .. } if target == NAME),
        "{text}"
    );
    assert!(
        text.starts_with(&format!(
            "{NAME}:{port}: 1 address failed: connect 127.0.0.1:{port}: "
        )),
        "{text}"
    );
    assert!(
        text.ends_with(&format!("; resolve {NAME} (IPv6): no such record")),
        "{text}"
    );
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
}

/// Checks the error of a connect to `nowhere.sockwright.test:80` through an
/// empty `StaticResolver`: one resolve error whose text names each family.
pub fn check_no_family_resolved(err: &Error) {
    assert!(matches!(err, Error::Resolve { family: None, .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "resolve nowhere.sockwright.test:80: IPv6: name not in the resolver's table; IPv4: name not in the resolver's table"
    );
}

/// Lets the held answers of `resolver` go, then waits (at most 5 s) until
/// the lookup threads they kept have ended (a lookup thread ends after a
/// second without a question), and checks that the process has
/// `fds_before` open file descriptors again. `what` names the threads in
/// the failure message.
#[cfg(target_os = "linux")]
pub fn release_and_expect_no_thread_left(
    resolver: &TestResolver,
    threads_before: usize,
    fds_before: usize,
    what: &str,
) {
    resolver.release();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while super::thread_count() > threads_before {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::yield_now();
    }
    assert_eq!(super::fd_count(), fds_before);
}

/// The checks of the pool tests once their connects through a
/// [`HangingResolver`] have returned: at most `MAX_LOOKUP_THREADS` lookups
/// were under way at once; exactly that many questions were asked, each
/// holding its thread for good (the other questions left the queue unasked
/// when their connect gave up), and `held` lookup threads are alive. Then
/// the lookups return, nobody waits for their answers, and the threads end
/// after a second without a question (waited for at most 10 s): the process
/// is back to `threads_before` threads and `fds_before` descriptors.
#[cfg(target_os = "linux")]
pub fn check_pool_cap_then_release(
    resolver: &HangingResolver,
    held: usize,
    threads_before: usize,
    fds_before: usize,
) {
    use sockwright::MAX_LOOKUP_THREADS;
    let (asked, most_at_once) = resolver.asked_and_most();
    assert!(
        most_at_once <= MAX_LOOKUP_THREADS,
        "{most_at_once} lookups at once"
    );
    assert_eq!(asked, MAX_LOOKUP_THREADS, "questions asked");
    assert_eq!(held, MAX_LOOKUP_THREADS, "lookup threads held");

    resolver.release();
    let released = std::time::Instant::now();
    while super::thread_count() > threads_before {
        assert!(
            released.elapsed() < Duration::from_secs(10),
            "{} lookup threads still alive",
            super::lookup_thread_count()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "released: back to {threads_before} threads after {:?}, fds {}",
        released.elapsed(),
        super::fd_count()
    );
    assert_eq!(super::fd_count(), fds_before);
}

/// A test resolver: one answer per family, each given after its own
/// latency, or held until [`TestResolver::release`] for a family marked
/// gated. Counts the questions it was asked.
#[derive(Debug, Clone, Default)]
pub struct TestResolver {
    inner: std::sync::Arc<TestResolverInner>,
}

/// One family's answer: the family, the addresses, the latency, whether gated.
type TestAnswer = (sockwright::Domain, Vec<std::net::IpAddr>, Duration, bool);

#[derive(Debug, Default)]
struct TestResolverInner {
    answers: std::sync::Mutex<Vec<TestAnswer>>,
    gate: std::sync::Mutex<bool>,
    opened: std::sync::Condvar,
    asked: std::sync::Mutex<Vec<sockwright::Domain>>,
}

impl TestResolver {
    pub fn new() -> TestResolver {
        TestResolver::default()
    }

    /// Answers `family` with `addrs` after `latency` (simulated network latency).
    pub fn answer(self, family: sockwright::Domain, addrs: &[&str], latency: Duration) -> Self {
        self.add(family, addrs, latency, false)
    }

    /// Answers `family` with `addrs` only once [`release`](Self::release) is called.
    pub fn gated(self, family: sockwright::Domain, addrs: &[&str]) -> Self {
        self.add(family, addrs, Duration::ZERO, true)
    }

    fn add(
        self,
        family: sockwright::Domain,
        addrs: &[&str],
        latency: Duration,
        gated: bool,
    ) -> Self {
        let addrs = addrs.iter().map(|a| a.parse().unwrap()).collect();
        self.inner
            .answers
            .lock()
            .unwrap()
            .push((family, addrs, latency, gated));
        self
    }

    /// Lets every gated answer go.
    pub fn release(&self) {
        *self.inner.gate.lock().unwrap() = true;
        self.inner.opened.notify_all();
    }

    /// The families asked so far, in order.
    pub fn asked(&self) -> Vec<sockwright::Domain> {
        self.inner.asked.lock().unwrap().clone()
    }
}

impl sockwright::Resolve for TestResolver {
    fn lookup(&self, _name: &str, family: sockwright::Domain) -> io::Result<Vec<std::net::IpAddr>> {
        self.inner.asked.lock().unwrap().push(family);
        let found = self
            .inner
            .answers
            .lock()
            .unwrap()
            .iter()
            .find(|(f, ..)| *f == family)
            .cloned();
        let Some((_, addrs, latency, gated)) = found else {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such record"));
        };
        if gated {
            let mut open = self.inner.gate.lock().unwrap();
            while !*open {
                open = self.inner.opened.wait(open).unwrap();
            }
        } else if !latency.is_zero() {
            std::thread::sleep(latency);
        }
        Ok(addrs)
    }
}

/// A resolver whose every lookup blocks until [`HangingResolver::release`]:
/// one that never answers, for as long as the test needs. Counts the
/// lookups asked and the most under way at once.
#[derive(Debug, Clone, Default)]
pub struct HangingResolver {
    inner: std::sync::Arc<HangingInner>,
}

#[derive(Debug, Default)]
struct HangingInner {
    state: std::sync::Mutex<Hanging>,
    opened: std::sync::Condvar,
}

#[derive(Debug, Default)]
struct Hanging {
    released: bool,
    asked: usize,
    running: usize,
    most: usize,
}

impl HangingResolver {
    pub fn new() -> HangingResolver {
        HangingResolver::default()
    }

    /// Lets every lookup return (with an error), now and from now on.
    pub fn release(&self) {
        self.inner.state.lock().unwrap().released = true;
        self.inner.opened.notify_all();
    }

    /// The lookups asked so far, and the most under way at once.
    pub fn asked_and_most(&self) -> (usize, usize) {
        let state = self.inner.state.lock().unwrap();
        (state.asked, state.most)
    }
}

impl sockwright::Resolve for HangingResolver {
    fn lookup(
        &self,
        _name: &str,
        _family: sockwright::Domain,
    ) -> io::Result<Vec<std::net::IpAddr>> {
        let mut state = self.inner.state.lock().unwrap();
        state.asked += 1;
        state.running += 1;
        state.most = state.most.max(state.running);
        while !state.released {
            state = self.inner.opened.wait(state).unwrap();
        }
        state.running -= 1;
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "released at the end of the test",
        ))
    }
}
