//! `hello::Server` under the "slowloris" pattern: 5,000 silent TCP
//! connections held open cannot keep 100 honest clients waiting, nor cost a
//! thread each.
//!
//! It runs in `tests/resources`, in a process of its own, because it counts the
//! process's threads and memory, which any test running beside it would
//! disturb.
//!
//! Linux only: the figures come from `/proc/self/task` and
//! `/proc/self/status`, and the silent connections are watched with
//! `poll(2)` from the test itself, so that watching them needs no thread.
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::io::AsRawFd;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{fd_count, raise_nofile, status_kib, thread_count};
use sockwright::hello::{CLIENT_GREETING, Exchange, SERVER_GREETING, Server};
use sockwright::{ConnectorBuilder, ListenerBuilder};

/// Silent connections held open at once.
const SILENT: usize = 5_000;
/// Honest clients, one after another, while the silent ones are held.
const HONEST: usize = 100;
/// The most an honest client may wait for the reply after its greeting.
const ANSWER_WITHIN: Duration = Duration::from_millis(100);
/// The server's exchange timeout, which ends each silent connection.
const TIMEOUT: Duration = Duration::from_secs(4);
/// How far from its timeout a silent connection may be closed.
const CLOSE_MARGIN: Duration = Duration::from_millis(500);
/// Peak resident set size allowed for the whole test program, clients
/// included.
const RSS_CEILING_KIB: u64 = 64 * 1024;
/// Resident memory allowed per silent connection held by the server.
const PER_IDLE_CEILING: u64 = 2048;

fn connect(addr: SocketAddr) -> TcpStream {
    ConnectorBuilder::new()
        .connect_timeout(Duration::from_secs(10))
        .connect(addr)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Waits until every stream in `silent` is closed by the server (readable
/// with end of file, or hung up); returns when each closed, in order.
/// Bounded by `limit`.
fn closed_at(silent: &[TcpStream], limit: Duration) -> Vec<Instant> {
    let mut fds: Vec<libc::pollfd> = silent
        .iter()
        .map(|s| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let mut closed: Vec<Option<Instant>> = vec![None; silent.len()];
    let mut left = silent.len();
    let deadline = Instant::now() + limit;
    while left > 0 {
        let wait = deadline.saturating_duration_since(Instant::now());
        assert!(
            !wait.is_zero(),
            "{left} of {} silent connections still open after {limit:?}",
            silent.len()
        );
        // SAFETY: `fds` is a live, exclusively borrowed array of
        // initialised `pollfd`s whose descriptors `silent` keeps open.
        let rc = unsafe {
            libc::poll(
                fds.as_mut_ptr(),
                fds.len() as libc::nfds_t,
                wait.as_millis().min(i32::MAX as u128) as i32 + 1,
            )
        };
        assert!(rc >= 0, "poll: {}", std::io::Error::last_os_error());
        let now = Instant::now();
        for (i, fd) in fds.iter_mut().enumerate() {
            if fd.revents != 0 && closed[i].is_none() {
                let mut byte = [0; 1];
                let got = (&silent[i])
                    .read(&mut byte)
                    .expect("read a closed connection");
                assert_eq!(got, 0, "a silent client got bytes from the server");
                closed[i] = Some(now);
                // A negative descriptor is ignored by poll from now on.
                fd.fd = -1;
                left -= 1;
            }
        }
    }
    closed.into_iter().map(|c| c.expect("closed")).collect()
}

pub fn five_thousand_silent_connections_do_not_delay_honest_clients() {
    let needed = 2 * (SILENT + HONEST) as u64 + 256;
    if let Err(why) = raise_nofile(needed) {
        println!("skipped: {why}");
        return;
    }
    let workers = thread::available_parallelism().map_or(1, |n| n.get());
    let threads_before = thread_count();
    let fds_before = fd_count();

    let listener = ListenerBuilder::new()
        .backlog(4096)
        .listen("127.0.0.1:0")
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (report, outcomes) = mpsc::channel();
    let server = thread::Builder::new()
        .name("hello-server".to_owned())
        .spawn(move || {
            let mut exchange = Exchange::server();
            exchange.timeout(TIMEOUT);
            Server::new(exchange)
                .workers(workers)
                .clients((SILENT + HONEST) as u64)
                .serve_tcp(&listener, move |outcome| {
                    let _ = report.send(outcome.result.map_err(|e| e.kind()));
                })
        })
        .unwrap();

    // The silent connections, every one accepted before the first honest
    // client: each accepted one adds the server's end beside the client's,
    // and the workers their wake-up pairs.
    let rss_before = status_kib("VmRSS");
    let mut silent = Vec::with_capacity(SILENT);
    let mut connected = Vec::with_capacity(SILENT);
    for _ in 0..SILENT {
        silent.push(connect(addr));
        connected.push(Instant::now());
    }
    let all_open = fds_before + 1 + 2 * SILENT + 2 * workers;
    let deadline = Instant::now() + Duration::from_secs(30);
    while fd_count() < all_open {
        assert!(
            Instant::now() < deadline,
            "only {} of {all_open} descriptors open after 30 s: not every silent connection \
             was accepted",
            fd_count()
        );
        // Paces the reading of /proc.
        thread::sleep(Duration::from_millis(5));
    }
    let rss_held = status_kib("VmRSS");
    let threads_held = thread_count();

    // The honest clients, one after another.
    let mut answered = Vec::with_capacity(HONEST);
    for _ in 0..HONEST {
        let mut stream = connect(addr);
        stream.set_nodelay(true).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.write_all(CLIENT_GREETING.as_bytes()).unwrap();
        let sent = Instant::now();
        let mut reply = [0; SERVER_GREETING.len()];
        stream.read_exact(&mut reply).unwrap();
        answered.push(sent.elapsed());
        assert_eq!(&reply, SERVER_GREETING.as_bytes());
    }
    let threads_serving = thread_count();
    let honest_done = Instant::now();

    // Every silent connection closed by the server at its timeout.
    let closed = closed_at(&silent, TIMEOUT + Duration::from_secs(20));
    let lifetimes: Vec<Duration> = closed
        .iter()
        .zip(&connected)
        .map(|(closed, connected)| *closed - *connected)
        .collect();
    let first_close = closed.iter().min().unwrap();
    assert!(
        honest_done < *first_close,
        "the honest clients were not all served while every silent one was held"
    );
    for (i, lived) in lifetimes.iter().enumerate() {
        assert!(
            *lived + CLOSE_MARGIN >= TIMEOUT && *lived <= TIMEOUT + CLOSE_MARGIN,
            "silent connection {i} was closed after {lived:?}, not {TIMEOUT:?} ± {CLOSE_MARGIN:?}"
        );
    }

    let summary = server.join().unwrap().expect("the server failed");
    let (mut ok, mut timed_out, mut other) = (0, 0, Vec::new());
    for outcome in outcomes.try_iter() {
        match outcome {
            Ok(message) if message == CLIENT_GREETING.as_bytes() => ok += 1,
            Err(std::io::ErrorKind::TimedOut) => timed_out += 1,
            unexpected => other.push(unexpected),
        }
    }
    assert!(other.is_empty(), "{other:?}");
    assert_eq!((ok, timed_out), (HONEST, SILENT));
    assert_eq!(
        (summary.accepted, summary.succeeded, summary.failed),
        ((SILENT + HONEST) as u64, HONEST as u64, SILENT as u64)
    );

    let slowest = answered.iter().max().unwrap();
    let mut sorted = answered.clone();
    sorted.sort();
    // VmHWM is updated lazily; the figure read while holding may be newer.
    let peak = status_kib("VmHWM").max(rss_held);
    let per_idle = (rss_held.saturating_sub(rss_before) * 1024) / SILENT as u64;
    println!(
        "{SILENT} silent connections held; {HONEST} honest clients answered in {:?} median, \
         {slowest:?} at most, after their greeting; silent ones closed after {:?} to {:?} \
         (timeout {TIMEOUT:?}); threads {threads_before} before, {threads_held} holding, \
         {threads_serving} serving ({workers} workers); resident memory {} KiB before, {} KiB \
         holding: {per_idle} bytes per silent connection, clients' ends included; peak RSS {} KiB",
        sorted[HONEST / 2],
        lifetimes.iter().min().unwrap(),
        lifetimes.iter().max().unwrap(),
        rss_before,
        rss_held,
        peak,
    );
    let late: Vec<(usize, Duration)> = answered
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, waited)| *waited > ANSWER_WITHIN)
        .collect();
    assert!(
        late.is_empty(),
        "honest clients (index, wait) answered later than {ANSWER_WITHIN:?}: {late:?}; \
         load average {} (a machine this busy may not run the server for that long)",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    // The server's threads: the one that accepts, the callback's and the workers.
    for threads in [threads_held, threads_serving] {
        assert!(
            threads <= threads_before + workers + 2,
            "{threads} threads, {threads_before} before the server and {workers} workers"
        );
    }
    assert!(
        per_idle <= PER_IDLE_CEILING,
        "{per_idle} bytes per silent connection"
    );
    assert!(peak < RSS_CEILING_KIB, "peak RSS {peak} KiB");
    drop(silent);
    assert_eq!(fd_count(), fds_before, "file descriptors left open");
}
