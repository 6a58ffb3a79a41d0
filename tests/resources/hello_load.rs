//! The hello server under load: 1,000 connections held at once, 50 of them
//! stalled, and a full accept queue.
//!
//! The server is the library's own, `hello::Server`, accepting on a
//! listener from `ListenerBuilder` and serving every connection on its few
//! worker threads. It reports each client's outcome to a callback, which passes
//! it on a channel: that is how the test knows, without sleeping, when every
//! connection has been handled.
//!
//! Linux only: the figures come from `/proc/self/status` (peak resident set
//! size), `/proc/self/fd` and `/proc/self/task`, and a full accept queue
//! drops SYNs on Linux (other systems refuse or reset such a connect instead).
#![cfg(target_os = "linux")]

use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{fd_count, full_listener, raise_nofile, status_kib};
use sockwright::hello::{CLIENT_GREETING, Exchange, Outcome, SERVER_GREETING, Server};
use sockwright::{ConnectorBuilder, Error, ListenerBuilder};

/// Connections the test holds open at once.
const CONNECTIONS: usize = 1_000;
/// Every `STALL_EVERY`-th connection sends nothing: 50 of the 1,000.
const STALL_EVERY: usize = 20;
/// Connections made after the load, to show the server still accepts.
const AFTER: usize = 20;
/// The server's exchange timeout, which ends each stalled connection.
const SERVER_TIMEOUT: Duration = Duration::from_secs(5);
/// Slack allowed on top of a timeout for scheduling on a busy machine.
const MARGIN: Duration = Duration::from_millis(1500);
/// Threads that run the clients' exchanges.
const CLIENT_THREADS: usize = 8;
/// Peak resident set size allowed for the whole test program.
const RSS_CEILING_KIB: u64 = 256 * 1024;

/// How one connection ended, as the server reported it.
#[derive(Debug)]
enum Ended {
    Served,
    TimedOut,
    Failed(String),
}

impl From<Outcome> for Ended {
    fn from(outcome: Outcome) -> Ended {
        match outcome.result {
            Ok(message) if message == CLIENT_GREETING.as_bytes() => Ended::Served,
            Ok(message) => Ended::Failed(format!("{}: got {message:?}", outcome.peer)),
            Err(e) if e.kind() == ErrorKind::TimedOut => Ended::TimedOut,
            Err(e) => Ended::Failed(e.to_string()),
        }
    }
}

/// Collects `n` outcomes, waiting at most `limit` in all.
fn collect(outcomes: &Receiver<Ended>, n: usize, limit: Duration) -> Vec<Ended> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match outcomes.recv_timeout(left) {
            Ok(outcome) => got.push(outcome),
            Err(_) => panic!(
                "only {} of {n} connections were handled in {limit:?}",
                got.len()
            ),
        }
    }
    got
}

fn connect(addr: SocketAddr) -> TcpStream {
    ConnectorBuilder::new()
        .connect_timeout(Duration::from_secs(10))
        .connect(addr)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Runs the client side of the exchange on each stream, on
/// `CLIENT_THREADS` threads; returns how many got the server's reply.
fn run_clients(streams: Vec<TcpStream>) -> usize {
    let mut shares: Vec<Vec<TcpStream>> = (0..CLIENT_THREADS).map(|_| Vec::new()).collect();
    for (i, stream) in streams.into_iter().enumerate() {
        shares[i % CLIENT_THREADS].push(stream);
    }
    let threads: Vec<_> = shares
        .into_iter()
        .map(|share| {
            thread::spawn(move || {
                let mut served = 0;
                for mut stream in share {
                    match Exchange::client()
                        .timeout(Duration::from_secs(10))
                        .run(&mut stream)
                    {
                        Ok(reply) if reply == SERVER_GREETING.as_bytes() => served += 1,
                        Ok(reply) => eprintln!("wrong reply {reply:?}"),
                        Err(e) => eprintln!("client: {e}"),
                    }
                }
                served
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).sum()
}

pub fn a_thousand_connections_fifty_stalled() {
    let needed = 2 * (CONNECTIONS + AFTER) as u64 + 256;
    if let Err(why) = raise_nofile(needed) {
        eprintln!("skipped: {why}");
        return;
    }
    let fds_before = fd_count();
    let rss_before = status_kib("VmHWM");
    let started = Instant::now();

    let listener = ListenerBuilder::new()
        .backlog(1024)
        .listen("127.0.0.1:0")
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (report, outcomes) = mpsc::channel();
    let server = thread::spawn(move || {
        let mut exchange = Exchange::server();
        exchange.timeout(SERVER_TIMEOUT);
        Server::new(exchange)
            .max_clients(CONNECTIONS + AFTER)
            .clients((CONNECTIONS + AFTER) as u64)
            .serve_tcp(&listener, move |outcome| {
                let _ = report.send(Ended::from(outcome));
            })
    });

    // Every connection is open, and accepted by the server, before any
    // client sends a byte.
    let mut active = Vec::new();
    let mut stalled = Vec::new();
    for i in 0..CONNECTIONS {
        // Taken before the connect: the server may accept, and start the
        // connection's timeout, before `connect` returns here.
        let connecting = Instant::now();
        let stream = connect(addr);
        if i % STALL_EVERY == STALL_EVERY - 1 {
            stalled.push((stream, connecting));
        } else {
            active.push(stream);
        }
    }
    // Every connection accepted shows as its server end beside the client
    // end; the listener and the workers' wake-up pairs (two descriptors
    // each, one worker per available CPU) are there too.
    let workers = thread::available_parallelism().map_or(1, |n| n.get());
    let all_open = fds_before + 1 + 2 * CONNECTIONS + 2 * workers;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut open = fd_count();
    while open < all_open {
        assert!(
            Instant::now() < deadline,
            "only {open} of {all_open} descriptors open after 60 s: not every connection was accepted"
        );
        // Paces the poll of /proc.
        thread::sleep(Duration::from_millis(5));
        open = fd_count();
    }
    let held = (open - fds_before - 1 - 2 * workers) / 2;
    let all_held = Instant::now();
    let connected = all_held - started;
    assert!(
        outcomes.try_recv().is_err(),
        "a connection ended before all were held"
    );

    let n_active = active.len();
    let n_stalled = stalled.len();
    let served = run_clients(active);
    assert_eq!(served, n_active, "clients that got the reply");
    let exchanged = started.elapsed();

    // Each stalled connection is closed by the server once its timeout
    // (counted from its accept: after its connect began, at most
    // `all_held`) runs out, with no reply.
    let mut closed_after = Vec::new();
    for (mut stream, connecting) in stalled {
        stream
            .set_read_timeout(Some(SERVER_TIMEOUT + Duration::from_secs(10)))
            .unwrap();
        let mut buf = [0; 64];
        assert_eq!(
            stream.read(&mut buf).unwrap(),
            0,
            "a stalled client got bytes"
        );
        let after = connecting.elapsed();
        let latest = SERVER_TIMEOUT + (all_held - connecting) + MARGIN;
        assert!(
            after >= SERVER_TIMEOUT && after <= latest,
            "a stalled client was closed after {after:?}, not within {SERVER_TIMEOUT:?}..={latest:?}"
        );
        closed_after.push(after);
    }
    let ended = collect(&outcomes, CONNECTIONS, Duration::from_secs(60));
    let mut n_served = 0;
    let mut n_timed_out = 0;
    for outcome in &ended {
        match outcome {
            Ended::Served => n_served += 1,
            Ended::TimedOut => n_timed_out += 1,
            Ended::Failed(why) => panic!("a connection failed: {why}"),
        }
    }
    assert_eq!(n_served, n_active, "connections served");
    assert_eq!(n_timed_out, n_stalled, "stalled connections timed out");

    // The server keeps accepting afterwards.
    let after: Vec<_> = (0..AFTER).map(|_| connect(addr)).collect();
    assert_eq!(run_clients(after), AFTER, "clients served after the load");
    let late = collect(&outcomes, AFTER, Duration::from_secs(30));
    assert!(late.iter().all(|o| matches!(o, Ended::Served)), "{late:?}");
    let summary = server.join().unwrap().expect("the server failed");
    assert_eq!(
        (summary.accepted, summary.succeeded, summary.failed),
        (
            (CONNECTIONS + AFTER) as u64,
            (n_active + AFTER) as u64,
            n_stalled as u64
        )
    );

    let fds_after = fd_count();
    let rss_peak = status_kib("VmHWM");
    eprintln!(
        "{held} connections held at once ({n_stalled} stalled) after {connected:?}; \
         {n_served} served by {exchanged:?}; {n_timed_out} closed by the server after {:?} to {:?}; \
         {AFTER} more served afterwards; fds {fds_before} before, {fds_after} after; \
         peak RSS {} MiB (was {} MiB before); {:?} in all",
        closed_after.iter().min().unwrap(),
        closed_after.iter().max().unwrap(),
        rss_peak / 1024,
        rss_before / 1024,
        started.elapsed(),
    );
    assert_eq!(fds_after, fds_before, "file descriptors left open");
    assert!(
        rss_peak < RSS_CEILING_KIB,
        "peak RSS {rss_peak} KiB over the {RSS_CEILING_KIB} KiB ceiling"
    );
}

/// Clients beyond a full accept queue each get `connect ADDR: timed out`
/// within their connect timeout; the queued ones are served once the
/// server accepts, and new clients are served after that.
pub fn backlog_overflow_times_out_the_clients_beyond_the_queue() {
    let full = full_listener(Duration::from_millis(200))
        .expect("a full accept queue did not drop a SYN on Linux");
    let addr = full.addr;
    let timeout = Duration::from_millis(300);
    let overflow: Vec<_> = (0..20)
        .map(|_| {
            thread::spawn(move || {
                let started = Instant::now();
                let err = ConnectorBuilder::new()
                    .connect_timeout(timeout)
                    .connect(addr)
                    .expect_err("connected beyond a full accept queue");
                (err, started.elapsed())
            })
        })
        .collect();
    for client in overflow {
        let (err, took) = client.join().unwrap();
        assert!(matches!(err, Error::Connect { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!("connect {addr}: timed out after {timeout:?}")
        );
        assert!(
            took >= timeout && took <= timeout + MARGIN,
            "gave up after {took:?}"
        );
    }

    // The server accepts at last: the queued clients are served.
    let queued = full.queued.len();
    let clients: Vec<_> = full
        .queued
        .into_iter()
        .map(|mut stream| thread::spawn(move || Exchange::client().run(&mut stream)))
        .collect();
    for _ in 0..queued {
        let (mut conn, _) = full.listener.accept().unwrap();
        Exchange::server().run(&mut conn).unwrap();
    }
    for client in clients {
        assert_eq!(client.join().unwrap().unwrap(), SERVER_GREETING.as_bytes());
    }

    // With room in the queue again, a new client connects and is served.
    let mut stream = connect(addr);
    let client = thread::spawn(move || Exchange::client().run(&mut stream));
    let (mut conn, _) = full.listener.accept().unwrap();
    Exchange::server().run(&mut conn).unwrap();
    assert_eq!(client.join().unwrap().unwrap(), SERVER_GREETING.as_bytes());
    eprintln!("{queued} queued and served, 20 beyond the queue timed out after {timeout:?}");
}
