//! A DNS outage costs at most `MAX_LOOKUP_THREADS` threads, and connects
//! that have returned hold no descriptor: the system resolver asks a DNS
//! server of the test's own that reads every question and never answers,
//! with at most 1,024 open files allowed (a common `ulimit -n`).
//!
//! The server is a UDP socket on 127.0.0.1:53 in a network namespace the
//! test creates, with a `resolv.conf` naming it bind-mounted over
//! `/etc/resolv.conf` in a mount namespace of its own (`unshare -m -n`, as
//! root; `ip link set lo up` inside): the test binary runs itself again in
//! there, where nothing it sends can leave the namespace. Inside, first 150
//! threads each make 3 blocking connects in a row to distinct names, then
//! (with the `tokio` feature) 3,000 `connect_async` to distinct names run
//! at once. The resolver's timeout (3 s) is longer than the connects' (0.7 s
//! and 2 s), so no answer comes while they wait: every connect must fail at
//! its connect timeout; the lookup threads, sampled throughout, must never
//! pass the cap, and no more questions than the cap may reach the server
//! (glibc sends one per lookup of one family: the questions whose connects
//! gave up were never asked); right after the
//! connects, the only descriptors above the starting count are the
//! resolver's own sockets on lookup threads still waiting; once the
//! resolver has given up and the threads have ended, none.
//!
//! Linux only. Where the namespaces cannot be made (not root, no `unshare`
//! or `ip`), or the host does not resolve names through DNS (`hosts:` in
//! `/etc/nsswitch.conf`), the test prints why it is skipped.
#![cfg(target_os = "linux")]

use crate::util;

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::util::namespace;
use crate::util::{TempDir, fd_count, lookup_thread_count, thread_count};
use sockwright::{ConnectorBuilder, MAX_LOOKUP_THREADS};

/// The open-file limit inside.
const NOFILE: u64 = 1024;
/// The blocking connects: callers, connects each, their timeout.
const CALLERS: usize = 150;
const ROUNDS: usize = 3;
const BLOCKING_TIMEOUT: Duration = Duration::from_millis(700);
/// The async connects and their timeout.
#[cfg(feature = "tokio")]
const TASKS: usize = 3_000;
#[cfg(feature = "tokio")]
const ASYNC_TIMEOUT: Duration = Duration::from_secs(2);
/// What a connect may take past its timeout on a busy machine.
const SLACK: Duration = Duration::from_millis(1500);
/// How long the threads may take to end once the connects are over: what
/// is left of the resolver's own timeout (3 s, below) and a second idle,
/// with room to spare.
const DRAIN_LIMIT: Duration = Duration::from_secs(8);

#[test]
fn a_dns_outage_holds_at_most_the_cap_of_lookup_threads() {
    if namespace::inside() {
        inside();
    } else {
        outside();
    }
}

/// Why this host cannot run the test, if it cannot.
fn cannot_run() -> Option<String> {
    namespace::hosts_not_from("dns").or_else(|| namespace::cannot_unshare(true))
}

/// Runs the test again in namespaces whose `/etc/resolv.conf` names the
/// silent server.
fn outside() {
    if let Some(why) = cannot_run() {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = TempDir::new("outage");
    let conf = dir.join("resolv.conf");
    // One try of 3 s per question: longer than any connect's timeout, so
    // no lookup ends while connects wait, and the threads are freed soon after.
    std::fs::write(
        &conf,
        "nameserver 127.0.0.1\noptions timeout:3 attempts:1\n",
    )
    .unwrap();
    let started = Instant::now();
    let test = util::test_path(
        module_path!(),
        "a_dns_outage_holds_at_most_the_cap_of_lookup_threads",
    );
    namespace::run_inside(&test, true, &conf, "/etc/resolv.conf");
    println!("inside the namespaces for {:?}", started.elapsed());
}

/// A DNS server that reads every question and never answers, on
/// 127.0.0.1:53, until dropped; counts the questions.
struct SilentServer {
    questions: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentServer {
    fn start() -> SilentServer {
        let socket = UdpSocket::bind("127.0.0.1:53").expect("bind 127.0.0.1:53 in the namespace");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let questions = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counted, stopped) = (questions.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while !stopped.load(Ordering::Relaxed) {
                if socket.recv_from(&mut buf).is_ok() {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        SilentServer {
            questions,
            stop,
            thread: Some(thread),
        }
    }

    fn questions(&self) -> usize {
        self.questions.load(Ordering::Relaxed)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Samples the lookup threads every 20 ms until dropped; the most seen.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<usize>>,
}

impl Sampler {
    fn start() -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut most = 0;
            while !stopped.load(Ordering::Relaxed) {
                most = most.max(lookup_thread_count());
                std::thread::sleep(Duration::from_millis(20));
            }
            most
        });
        Sampler {
            stop,
            thread: Some(thread),
        }
    }

    fn most(mut self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

/// Waits (at most [`DRAIN_LIMIT`]) until the process is back to `threads`
/// threads; returns how long it took.
fn drained(threads: usize) -> Duration {
    let began = Instant::now();
    while thread_count() > threads {
        assert!(
            began.elapsed() < DRAIN_LIMIT,
            "{} lookup threads still alive after {DRAIN_LIMIT:?}",
            lookup_thread_count()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    began.elapsed()
}

/// The checks, inside the namespaces.
fn inside() {
    crate::util::lower_nofile(NOFILE);
    let conf = std::fs::read_to_string("/etc/resolv.conf").unwrap();
    println!(
        "inside the namespaces, /etc/resolv.conf: {}",
        conf.trim().replace('\n', "; ")
    );
    let server = SilentServer::start();
    blocking(&server);
    #[cfg(feature = "tokio")]
    in_tokio(&server);
}

/// 150 threads, each making 3 blocking connects in a row to distinct names.
fn blocking(server: &SilentServer) {
    let mut builder = ConnectorBuilder::new();
    builder.connect_timeout(BLOCKING_TIMEOUT);
    let threads_before = thread_count();
    let fds_before = fd_count();
    let questions_before = server.questions();
    let sampler = Sampler::start();
    let started = Instant::now();
    let callers: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let builder = builder.clone();
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let mut slowest = Duration::ZERO;
                    for round in 0..ROUNDS {
                        let name = format!("b{caller}-{round}.outage.sockwright.test");
                        let began = Instant::now();
                        let err = builder.connect((name.as_str(), 80)).unwrap_err();
                        let took = began.elapsed();
                        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{name}: {err}");
                        assert!(
                            took >= BLOCKING_TIMEOUT && took < BLOCKING_TIMEOUT + SLACK,
                            "{name}: returned after {took:?}"
                        );
                        slowest = slowest.max(took);
                    }
                    slowest
                })
                .unwrap()
        })
        .collect();
    let slowest = callers
        .into_iter()
        .map(|caller| caller.join().unwrap())
        .max()
        .unwrap_or_default();
    let took = started.elapsed();
    // Every connect has given up its questions: no lookup thread starts
    // from now on, and the sampler's own listing is closed before counting.
    let most = sampler.most();
    let (fds_after, still) = (fd_count(), lookup_thread_count());
    let drain = drained(threads_before);
    let fds_drained = fd_count();
    let questions = server.questions() - questions_before;
    println!(
        "{} blocking connects ({CALLERS} threads x {ROUNDS}) during the outage in {took:?} \
         (slowest {slowest:?}, timeout {BLOCKING_TIMEOUT:?}); lookup threads at most {most} \
         (cap {MAX_LOOKUP_THREADS}), {still} right after; fds {fds_before} -> {fds_after} right \
         after -> {fds_drained} once the threads ended {drain:?} later; {} questions reached \
         the server",
        CALLERS * ROUNDS,
        questions
    );
    check_cap_and_fds(most, questions, still, [fds_before, fds_after, fds_drained]);
}

/// 3,000 `connect_async` to distinct names at once on one runtime.
#[cfg(feature = "tokio")]
fn in_tokio(server: &SilentServer) {
    let mut builder = ConnectorBuilder::new();
    builder.connect_timeout(ASYNC_TIMEOUT);
    let rt = util::current_thread();
    let threads_before = thread_count();
    let questions_before = server.questions();
    let started = Instant::now();
    let (fds_before, fds_after, still, slowest, most) = rt.block_on(async {
        // Counted before the sampler starts: its listing of /proc is a
        // descriptor of its own while it reads.
        let before = fd_count();
        let sampler = Sampler::start();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..TASKS {
            let builder = builder.clone();
            tasks.spawn(async move {
                let name = format!("a{i}.outage.sockwright.test");
                let began = Instant::now();
                let err = builder
                    .connect_async((name.as_str(), 80))
                    .await
                    .unwrap_err();
                (name, err, began.elapsed())
            });
        }
        let mut slowest = Duration::ZERO;
        while let Some(done) = tasks.join_next().await {
            let (name, err, took) = done.unwrap();
            assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{name}: {err}");
            assert!(
                took >= ASYNC_TIMEOUT && took < ASYNC_TIMEOUT + SLACK,
                "{name}: returned after {took:?}"
            );
            slowest = slowest.max(took);
        }
        // As in `blocking`: no lookup thread starts from now on.
        let most = sampler.most();
        (before, fd_count(), lookup_thread_count(), slowest, most)
    });
    let took = started.elapsed();
    let drain = drained(threads_before);
    let fds_drained = fd_count();
    let questions = server.questions() - questions_before;
    println!(
        "{TASKS} concurrent connect_async during the outage in {took:?} (slowest {slowest:?}, \
         timeout {ASYNC_TIMEOUT:?}); lookup threads at most {most} (cap {MAX_LOOKUP_THREADS}), \
         {still} right after; fds {fds_before} -> {fds_after} right after -> {fds_drained} once \
         the threads ended {drain:?} later; {questions} questions reached the server"
    );
    check_cap_and_fds(most, questions, still, [fds_before, fds_after, fds_drained]);
}

/// The checks of both halves: at most `MAX_LOOKUP_THREADS` lookup threads
/// and questions; right after the connects, no descriptor but the
/// resolver's sockets on the `still` lookup threads still waiting; none
/// left once they ended.
fn check_cap_and_fds(most: usize, questions: usize, still: usize, fds: [usize; 3]) {
    let [before, after, drained] = fds;
    assert!(most <= MAX_LOOKUP_THREADS, "{most} lookup threads");
    assert!(
        questions <= MAX_LOOKUP_THREADS,
        "{questions} questions sent"
    );
    assert!(
        after <= before + still,
        "fds {before} -> {after} with {still} lookup threads"
    );
    assert_eq!(drained, before, "descriptors left behind");
}
