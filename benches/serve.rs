//! `cargo bench --bench serve`: `hello::Server` beside a hand-written std
//! thread-per-connection server and a tokio server, under K concurrent
//! clients, in one run on one machine.
//!
//! A plain program (`harness = false`), like benches/compare.rs. Every
//! server runs for the whole run, each on a listener of its own made by
//! `ListenerBuilder` with the same options (reuse-address, backlog 1024), so
//! that only the serving differs. The variants (server × K) run interleaved
//! in rounds (A B C, B C A, ...), so a change in the load of a shared machine
//! falls on each alike; a ratio is taken within each round and the median of
//! those ratios reported.
//!
//! - **serve**: hello exchanges per second with K = 8, 64 and 256 clients,
//!   each client a thread looping connect, `Exchange::client`, wait for the
//!   server's close, close. The servers:
//!   - `hello::Server`: this crate's, default settings (workers = available
//!     parallelism);
//!   - std, a thread per connection: `accept`, then `thread::spawn` for each
//!     connection, which reads the 17-byte greeting with `read_exact` and
//!     writes the reply, with 5 s read and write timeouts;
//!   - tokio: a multi-thread runtime with as many workers as CPUs, a task per
//!     connection doing the same with `tokio::time::timeout` of 5 s.
//! - **idle** (Linux): resident memory and threads each server adds while
//!   holding 1,000 silent connections (from `/proc/self/status` and
//!   `/proc/self/task`; both ends are in this process, the client ends
//!   cost the same for every server).
//!
//! The run ends with PASS/FAIL lines. A full run exits non-zero when a check
//! fails; `SOCKWRIGHT_BENCH_QUICK=1` makes a short run (CI's) that exits
//! non-zero only when something fails outright (a client or server error),
//! not when a ratio misses on few noisy samples.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use sockwright::hello::{
    CLIENT_GREETING, DEFAULT_TIMEOUT, Exchange, SERVER_GREETING, Server, Summary,
};
use sockwright::{ConnectorBuilder, ListenerBuilder};

mod common;
use common::{Fallible, Report, Variant, interleave, names, percentile};

/// Concurrent clients measured.
const CLIENTS: [usize; 3] = [8, 64, 256];
/// The servers, in table order.
const SERVERS: [Kind; 3] = [Kind::Hello, Kind::StdThreads, Kind::Tokio];
/// `CLIENT_GREETING.len()`, which equals `SERVER_GREETING.len()`.
const GREETING_LEN: usize = CLIENT_GREETING.len();
/// Silent connections held in the idle measurement.
#[cfg(target_os = "linux")]
const IDLE: usize = 1_000;

struct Plan {
    quick: bool,
    rounds: usize,
    window: Duration,
}

impl Plan {
    fn from_env() -> Plan {
        let quick = std::env::var_os("SOCKWRIGHT_BENCH_QUICK").is_some_and(|v| v != "0");
        if quick {
            Plan {
                quick,
                rounds: 2,
                window: Duration::from_millis(200),
            }
        } else {
            Plan {
                quick,
                rounds: 11,
                window: Duration::from_millis(500),
            }
        }
    }
}

fn main() -> ExitCode {
    #[cfg(target_os = "linux")]
    if let Some(kind) = idle::child_kind() {
        return idle::child(kind);
    }
    let plan = Plan::from_env();
    println!(
        "sockwright serve benchmark ({} run; {} logical CPUs)",
        if plan.quick { "quick" } else { "full" },
        thread::available_parallelism().map_or(0, |n| n.get())
    );
    let started = Instant::now();
    let mut report = Report::default();
    if let Err(err) = serve(&plan, &mut report) {
        report.error(format!("serve: {err}"));
    }
    #[cfg(target_os = "linux")]
    if let Err(err) = idle::measure(&mut report) {
        report.error(format!("idle: {err}"));
    }
    println!("\ntotal time {:.1} s", started.elapsed().as_secs_f64());
    report.finish(
        plan.quick,
        "quick run: too few samples to judge ratios; run the full bench for those",
    )
}

// ---------------------------------------------------------------------------
// serve

fn serve(plan: &Plan, report: &mut Report) -> Fallible<()> {
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut servers = Vec::new();
    for kind in SERVERS {
        servers.push(Running::start(kind, &failures)?);
    }
    let mut variants = Vec::new();
    for clients in CLIENTS {
        for server in &servers {
            let addr = server.addr;
            let window = plan.window;
            let failures = Arc::clone(&failures);
            variants.push(Variant::new(
                format!("{clients:>3} clients, {}", server.kind.name()),
                move || {
                    let (done, failed, elapsed) = run_clients(addr, clients, window, &failures);
                    if failed > 0 {
                        return Err(
                            format!("{failed} of {} exchanges failed", done + failed).into()
                        );
                    }
                    Ok(done as f64 / elapsed.as_secs_f64())
                },
            ));
        }
    }
    let samples = interleave(&mut variants, plan.rounds);
    let names = names(&variants);
    drop(variants);
    let mut stop_errors = Vec::new();
    for server in servers {
        stop_errors.extend(server.stop());
    }
    let failures = std::mem::take(&mut *failures.lock().expect("failure list"));
    for failure in failures.iter().chain(&stop_errors).take(5) {
        report.error(format!("serve: {failure}"));
    }
    let samples = samples?;
    let table = Table {
        names,
        samples,
        per_group: SERVERS.len(),
        reference: 1,
    };
    table.print();
    for (group, clients) in CLIENTS.iter().enumerate() {
        let ours = group * SERVERS.len();
        for other in [1, 2] {
            let ratio = table.ratio_between(ours, ours + other);
            let need = if other == 1 { 1.0 } else { 0.0 };
            let line = format!(
                "serve, {clients} clients: hello::Server / {} = {ratio:.3}{}",
                SERVERS[other].name(),
                if need > 0.0 {
                    format!(" (needs >= {need})")
                } else {
                    String::new()
                }
            );
            if need > 0.0 {
                report.check(!plan.quick, ratio >= need, line);
            } else {
                report.note(line);
            }
        }
    }
    report.check(
        true,
        failures.is_empty() && stop_errors.is_empty(),
        format!(
            "serve: no client or server failed ({} errors)",
            failures.len() + stop_errors.len()
        ),
    );
    Ok(())
}

/// Runs `clients` threads that exchange with `addr` for `window`; returns
/// the exchanges completed, those failed, and the time from the start until
/// the last client finished.
fn run_clients(
    addr: SocketAddr,
    clients: usize,
    window: Duration,
    failures: &Mutex<Vec<String>>,
) -> (u64, u64, Duration) {
    /// Upper bound on one client's exchanges in one window.
    const MAX_PER_CLIENT: u64 = 1_000_000;
    let done = AtomicU64::new(0);
    let failed = AtomicU64::new(0);
    let start_line = Barrier::new(clients + 1);
    let deadline = OnceLock::new();
    let mut connector = ConnectorBuilder::new();
    connector.connect_timeout(DEFAULT_TIMEOUT);
    let exchange = Exchange::client();
    let mut elapsed = Duration::ZERO;
    thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                scope.spawn(|| {
                    start_line.wait();
                    let deadline: Instant = *deadline.get().expect("deadline set before the start");
                    let mut count = 0;
                    while Instant::now() < deadline && count < MAX_PER_CLIENT {
                        count += 1;
                        match client_exchange(&connector, &exchange, addr) {
                            Ok(()) => done.fetch_add(1, Ordering::Relaxed),
                            Err(e) => {
                                failures.lock().expect("failure list").push(e.to_string());
                                failed.fetch_add(1, Ordering::Relaxed)
                            }
                        };
                    }
                })
            })
            .collect();
        let start = Instant::now();
        deadline.set(start + window).expect("deadline set once");
        start_line.wait();
        for handle in handles {
            if handle.join().is_err() {
                failures
                    .lock()
                    .expect("failure list")
                    .push("client thread panicked".to_owned());
                failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        elapsed = start.elapsed();
    });
    (done.into_inner(), failed.into_inner(), elapsed)
}

/// One client exchange: connect, `Exchange::client`, check the reply, then
/// wait for the server's close before closing, so that the server, which
/// closes first after its reply (as the tutorial's does), holds the
/// `TIME_WAIT` state, not the clients' ephemeral ports.
fn client_exchange(
    connector: &ConnectorBuilder,
    exchange: &Exchange,
    addr: SocketAddr,
) -> Fallible<()> {
    let mut stream = connector.connect(addr)?;
    let reply = exchange.run(&mut stream)?;
    if reply != SERVER_GREETING.as_bytes() {
        return Err(format!("unexpected reply {:?}", String::from_utf8_lossy(&reply)).into());
    }
    let mut byte = [0; 1];
    match stream.read(&mut byte)? {
        0 => Ok(()),
        _ => Err("data after the reply".into()),
    }
}

// ---------------------------------------------------------------------------
// servers

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hello,
    StdThreads,
    Tokio,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Hello => "hello::Server",
            Kind::StdThreads => "std, thread per connection",
            Kind::Tokio => "tokio, task per connection",
        }
    }
}

/// A server running until stopped.
struct Running {
    kind: Kind,
    addr: SocketAddr,
    stop: Stop,
}

enum Stop {
    /// The listener (a clone, to make it nonblocking) and the thread
    /// running `Server::serve_tcp`.
    Hello(TcpListener, JoinHandle<sockwright::Result<Summary>>),
    /// The flag the accept loop checks after each accept, and its thread.
    StdThreads(Arc<AtomicBool>, JoinHandle<()>),
    Tokio(tokio::runtime::Runtime),
}

/// The same listener for every server.
fn listener() -> Fallible<TcpListener> {
    Ok(ListenerBuilder::new()
        .reuse_address(true)
        .backlog(1024)
        .listen("127.0.0.1:0")?)
}

impl Running {
    fn start(kind: Kind, failures: &Arc<Mutex<Vec<String>>>) -> Fallible<Running> {
        let listener = listener()?;
        let addr = listener.local_addr()?;
        let failures = Arc::clone(failures);
        let fail = move |what: String| failures.lock().expect("failure list").push(what);
        let stop = match kind {
            Kind::Hello => {
                let handle = listener.try_clone()?;
                let thread = thread::spawn(move || {
                    Server::new(Exchange::server()).serve_tcp(&listener, |outcome| {
                        if let Err(e) = outcome.result {
                            fail(format!("hello::Server: {}: {e}", outcome.peer));
                        }
                    })
                });
                Stop::Hello(handle, thread)
            }
            Kind::StdThreads => {
                let stopping = Arc::new(AtomicBool::new(false));
                let flag = Arc::clone(&stopping);
                let thread = thread::spawn(move || {
                    loop {
                        let conn = listener.accept();
                        if flag.load(Ordering::SeqCst) {
                            return;
                        }
                        match conn {
                            Ok((mut conn, _)) => {
                                let fail = fail.clone();
                                thread::spawn(move || {
                                    if let Err(e) = std_server(&mut conn) {
                                        fail(format!("std server: {e}"));
                                    }
                                });
                            }
                            Err(e) => fail(format!("std server: accept: {e}")),
                        }
                    }
                });
                Stop::StdThreads(stopping, thread)
            }
            Kind::Tokio => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()?;
                listener.set_nonblocking(true)?;
                let listener = {
                    let _entered = runtime.enter();
                    tokio::net::TcpListener::from_std(listener)?
                };
                runtime.spawn(async move {
                    loop {
                        match listener.accept().await {
                            Ok((conn, _)) => {
                                let fail = fail.clone();
                                tokio::spawn(async move {
                                    if let Err(e) = tokio_server(conn).await {
                                        fail(format!("tokio server: {e}"));
                                    }
                                });
                            }
                            Err(e) => fail(format!("tokio server: accept: {e}")),
                        }
                    }
                });
                Stop::Tokio(runtime)
            }
        };
        Ok(Running { kind, addr, stop })
    }

    /// Stops the server; returns what went wrong in stopping it.
    fn stop(self) -> Vec<String> {
        let name = self.kind.name();
        match self.stop {
            Stop::Hello(listener, thread) => {
                // `Server` ends when `accept` fails for good: a listener
                // shut down for reading (Linux) fails every `accept` with
                // `EINVAL`, and wakes the wait it is blocked in.
                let shutdown = socket2::SockRef::from(&listener).shutdown(std::net::Shutdown::Read);
                if let Err(e) = shutdown {
                    return vec![format!("{name}: cannot stop: {e}")];
                }
                wake_until_finished(self.addr, &thread, true);
                match thread.join() {
                    Err(_) => vec![format!("{name}: panicked")],
                    Ok(Err(e)) if e.kind() == io::ErrorKind::InvalidInput => vec![],
                    Ok(Err(e)) => vec![format!("{name}: {e}")],
                    Ok(Ok(summary)) => vec![format!("{name} ended by itself: {summary:?}")],
                }
            }
            Stop::StdThreads(flag, thread) => {
                flag.store(true, Ordering::SeqCst);
                wake_until_finished(self.addr, &thread, false);
                match thread.join() {
                    Ok(()) => vec![],
                    Err(_) => vec![format!("{name}: panicked")],
                }
            }
            Stop::Tokio(runtime) => {
                runtime.shutdown_timeout(Duration::from_secs(1));
                vec![]
            }
        }
    }
}

/// Connects to `addr` (at most 100 times) until `thread` has finished; with
/// `exchange`, each connection is a whole client exchange, so that the
/// server does not count a client that said nothing as a failure.
fn wake_until_finished<T>(addr: SocketAddr, thread: &JoinHandle<T>, exchange: bool) {
    let mut connector = ConnectorBuilder::new();
    connector.connect_timeout(Duration::from_secs(1));
    let mut client = Exchange::client();
    client.timeout(Duration::from_secs(1));
    for _ in 0..100 {
        if thread.is_finished() {
            return;
        }
        // Its outcome does not matter: it only has to reach an `accept`.
        if exchange {
            let _ = client_exchange(&connector, &client, addr);
        } else {
            let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
        }
        let deadline = Instant::now() + Duration::from_millis(100);
        while !thread.is_finished() && Instant::now() < deadline {
            thread::yield_now();
        }
    }
}

/// The std server's exchange, with the same timeouts as `Exchange`.
fn std_server(stream: &mut TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(DEFAULT_TIMEOUT))?;
    stream.set_write_timeout(Some(DEFAULT_TIMEOUT))?;
    let mut greeting = [0; GREETING_LEN];
    stream.read_exact(&mut greeting)?;
    if greeting != CLIENT_GREETING.as_bytes() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "unexpected greeting",
        ));
    }
    stream.write_all(SERVER_GREETING.as_bytes())
}

/// The tokio server's exchange, within the same timeout.
async fn tokio_server(mut stream: tokio::net::TcpStream) -> io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut greeting = [0; GREETING_LEN];
        stream.read_exact(&mut greeting).await?;
        if greeting != CLIENT_GREETING.as_bytes() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "unexpected greeting",
            ));
        }
        stream.write_all(SERVER_GREETING.as_bytes()).await
    };
    tokio::time::timeout(DEFAULT_TIMEOUT, exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "exchange timed out"))?
}

// ---------------------------------------------------------------------------
// idle

#[cfg(target_os = "linux")]
mod idle {
    use super::*;

    fn status_kib(field: &str) -> Fallible<u64> {
        let status = std::fs::read_to_string("/proc/self/status")?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| format!("no {field} in /proc/self/status").into())
    }

    fn count(dir: &str) -> Fallible<usize> {
        Ok(std::fs::read_dir(dir)?.count())
    }

    /// The argument that makes this program the idle measurement of one
    /// server, in a process of its own.
    const CHILD: &str = "--idle-child";

    pub fn child_kind() -> Option<usize> {
        let args: Vec<String> = std::env::args().collect();
        let at = args.iter().position(|a| a == CHILD)?;
        args.get(at + 1)?.parse().ok()
    }

    /// Each server in turn, in a fresh process so that no earlier
    /// allocation is reused, holds `IDLE` silent connections: the resident
    /// memory and the threads it adds meanwhile.
    pub fn measure(report: &mut Report) -> Fallible<()> {
        println!(
            "\n## idle ({IDLE} silent connections held by each server in a fresh process; \
             resident memory and threads added, client ends included and alike for all)"
        );
        println!("{:<40} {:>14} {:>10}", "server", "bytes/conn", "threads");
        for (i, kind) in SERVERS.iter().enumerate() {
            let out = std::process::Command::new(std::env::current_exe()?)
                .args([CHILD, &i.to_string()])
                .output()?;
            let text = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() {
                return Err(format!(
                    "{}: {} {text} {}",
                    kind.name(),
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                )
                .into());
            }
            let mut words = text.split_whitespace();
            let (bytes, threads) = (words.next().unwrap_or("?"), words.next().unwrap_or("?"));
            println!("{:<40} {:>14} {:>10}", kind.name(), bytes, threads);
            report.note(format!(
                "idle: {} adds {bytes} bytes per connection and {threads} threads for {IDLE} \
                 silent connections",
                kind.name()
            ));
        }
        Ok(())
    }

    /// The child: prints `BYTES_PER_CONNECTION THREADS_ADDED`.
    pub fn child(kind: usize) -> ExitCode {
        match held(SERVERS[kind]) {
            Ok((bytes, threads)) => {
                println!("{bytes} {threads}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        }
    }

    fn held(kind: Kind) -> Fallible<(u64, usize)> {
        let failures = Arc::new(Mutex::new(Vec::<String>::new()));
        let server = Running::start(kind, &failures)?;
        // Warm: one exchange, so that lazily started threads are up.
        client_exchange(&ConnectorBuilder::new(), &Exchange::client(), server.addr)?;
        let (rss, threads, fds) = (
            status_kib("VmRSS")?,
            count("/proc/self/task")?,
            count("/proc/self/fd")?,
        );
        let held: Vec<TcpStream> = (0..IDLE)
            .map(|_| TcpStream::connect(server.addr))
            .collect::<io::Result<_>>()?;
        // Every connection accepted: its server end is open beside the
        // client's.
        let deadline = Instant::now() + Duration::from_secs(20);
        while count("/proc/self/fd")? < fds + 2 * IDLE {
            if Instant::now() > deadline {
                return Err(format!("{}: not every connection accepted", kind.name()).into());
            }
            thread::sleep(Duration::from_millis(5));
        }
        let per_conn = (status_kib("VmRSS")?.saturating_sub(rss) * 1024) / IDLE as u64;
        let added = count("/proc/self/task")?.saturating_sub(threads);
        drop(held);
        let errors = server.stop();
        if !errors.is_empty() {
            return Err(errors.join("; ").into());
        }
        Ok((per_conn, added))
    }
}

// ---------------------------------------------------------------------------
// measurement and report

/// Samples per variant, in groups of `per_group` rows (one per server); the
/// ratios compare each row with its group's `reference` row.
struct Table {
    names: Vec<String>,
    samples: Vec<Vec<f64>>,
    per_group: usize,
    reference: usize,
}

impl Table {
    fn ratio_between(&self, row: usize, other: usize) -> f64 {
        let per_round: Vec<f64> = self.samples[row]
            .iter()
            .zip(&self.samples[other])
            .map(|(a, b)| a / b)
            .collect();
        percentile(&per_round, 0.5)
    }

    fn print(&self) {
        println!(
            "\n## serve (hello exchanges per second from K concurrent clients, each looping \
             connect, exchange, wait for the server's close, close; ratio: to the std \
             thread-per-connection server at the same K)"
        );
        println!(
            "{:<45} {:>10} {:>17} {:>8}",
            "variant", "median /s", "p10 - p90", "vs std"
        );
        for (row, name) in self.names.iter().enumerate() {
            let samples = &self.samples[row];
            let reference = row - row % self.per_group + self.reference;
            let ratio = if reference == row {
                "ref".to_owned()
            } else {
                format!("{:.3}", self.ratio_between(row, reference))
            };
            println!(
                "{name:<45} {:>10.0} {:>17} {ratio:>8}",
                percentile(samples, 0.5),
                format!(
                    "{:.0} - {:.0}",
                    percentile(samples, 0.1),
                    percentile(samples, 0.9)
                ),
            );
        }
        println!(
            "({} samples per variant, interleaved)",
            self.samples.first().map_or(0, Vec::len)
        );
    }
}
