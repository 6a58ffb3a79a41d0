//! The **happy-eyeballs** group: how long a connect to a black-holed
//! `[::1]` plus a live `127.0.0.1` takes, for sockwright's race (blocking,
//! and with the `tokio` feature `connect_async` on a current-thread runtime
//! made once, outside the timed part), its sequential mode, and Python
//! asyncio's `create_connection` with `happy_eyeballs_delay=0.25` as the
//! outside reference.
//!
//! The black hole: on Linux, a `[::1]` listener with backlog 0 that never
//! accepts holds one connection in its queue, and the kernel silently drops
//! every further SYN to it, as a broken IPv6 route would. Every variant gets
//! the same two addresses in the same order (IPv6 first): sockwright as a
//! slice, Python through an event loop whose `getaddrinfo` answers with
//! them. A race should connect over IPv4 one connection attempt delay
//! (250 ms) after it began; the sequential mode first waits for its connect
//! timeout on the black hole.
//!
//! Python runs as one child process for the whole group, driven over its
//! standard input like the C loop: each line asks for one connect and it
//! prints the nanoseconds that connect took by its own clock.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use sockwright::{ConnectorBuilder, ListenerBuilder};

use super::{Fallible, Plan, Report, Table, Unit, Variant, interleave, names};

/// The delay every racing variant uses between attempts: RFC 8305's.
const DELAY: Duration = ConnectorBuilder::DEFAULT_CONNECTION_ATTEMPT_DELAY;

/// The connect timeout of the sequential mode, for each attempt: what it
/// waits on the black hole before it tries IPv4 (a quick run waits less).
const SEQUENTIAL_TIMEOUT: Duration = Duration::from_secs(1);
const QUICK_SEQUENTIAL_TIMEOUT: Duration = Duration::from_millis(500);

/// The bound on a whole race: far above what it should take.
const RACE_TIMEOUT: Duration = Duration::from_secs(5);

/// The rows, by name; the async race is there with the `tokio` feature.
const RACE: &str = "sockwright race (blocking)";
#[cfg(feature = "tokio")]
const ASYNC_RACE: &str = "sockwright race (tokio)";
const SEQUENTIAL: &str = "sockwright sequential";
const PYTHON_ROW: &str = "Python asyncio create_connection";

pub fn group(plan: &Plan, report: &mut Report) -> Fallible<()> {
    if !cfg!(target_os = "linux") {
        println!(
            "\nhappy-eyeballs: skipped: the black hole needs Linux, which drops SYNs at a full \
             accept queue"
        );
        return Ok(());
    }
    if TcpListener::bind("[::1]:0").is_err() {
        println!("\nhappy-eyeballs: skipped: this host has no IPv6 loopback (::1)");
        return Ok(());
    }
    let sequential_timeout = if plan.quick {
        QUICK_SEQUENTIAL_TIMEOUT
    } else {
        SEQUENTIAL_TIMEOUT
    };
    let hole = BlackHole::new()?;
    let live = LiveServer::start()?;
    let targets = [hole.addr, live.addr];

    let mut python = match Python::start(&targets) {
        Ok(p) => Some(p),
        Err(reason) => {
            println!("\nhappy-eyeballs: Python reference skipped: {reason}");
            None
        }
    };
    let mut race = ConnectorBuilder::new();
    race.connect_timeout(RACE_TIMEOUT);
    let mut sequential = ConnectorBuilder::new();
    sequential
        .happy_eyeballs(false)
        .connect_timeout(sequential_timeout);
    #[cfg(feature = "tokio")]
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut variants: Vec<Variant<'_>> =
        vec![Variant::new(RACE, || timed_connect(&race, &targets))];
    // The same builder, attempt delay and targets as the blocking race.
    #[cfg(feature = "tokio")]
    variants.push(Variant::new(ASYNC_RACE, || {
        timed_connect_async(&runtime, &race, &targets)
    }));
    #[cfg(not(feature = "tokio"))]
    println!(
        "\nhappy-eyeballs: async race (tokio) not measured: built without the tokio feature \
         (cargo bench --features tokio)"
    );
    variants.push(Variant::new(SEQUENTIAL, || {
        timed_connect(&sequential, &targets)
    }));
    if let Some(p) = python.as_mut() {
        variants.push(Variant::new(PYTHON_ROW, move || p.connect()));
    }
    let rounds = if plan.quick { 1 } else { 7 };
    let samples = interleave(&mut variants, rounds);
    let names = names(&variants);
    drop(variants);
    if let Some(p) = python {
        p.finish()?;
    }
    live.stop()?;
    drop(hole);
    let row = |name: &str| names.iter().position(|n| n == name);
    let (race_row, sequential_row) = (row(RACE).unwrap_or(0), row(SEQUENTIAL).unwrap_or(0));
    let python_row = row(PYTHON_ROW);
    #[cfg(feature = "tokio")]
    let async_row = row(ASYNC_RACE).unwrap_or(0);
    let reference = python_row.unwrap_or(race_row);
    let table = Table::new(
        "happy-eyeballs",
        &format!(
            "connect to [black-holed [::1], live 127.0.0.1], IPv6 first; races: {DELAY:?} \
             between attempts; sequential: {sequential_timeout:?} connect timeout per attempt; \
             reference: Python asyncio (happy_eyeballs_delay=0.25) when present"
        ),
        Unit::Millis,
        names,
        samples?,
        reference,
    );
    table.print();
    let median = |row: usize| Duration::from_secs_f64(table.median(row) * 1e-9);
    let race = median(race_row);
    let sequential = median(sequential_row);
    // Lower bounds are what the schedule guarantees, on any machine; the
    // upper one is a time, which a quick run on a busy machine only notes.
    report.check(
        true,
        race >= DELAY,
        format!(
            "happy-eyeballs: the race starts IPv4 one attempt delay after IPv6 \
             (median {race:.1?}; needs >= {DELAY:?})"
        ),
    );
    report.check(
        !plan.quick,
        race < sequential_timeout,
        format!(
            "happy-eyeballs: the race connects before the sequential mode's timeout \
             (median {race:.1?}; needs < {sequential_timeout:?})"
        ),
    );
    #[cfg(feature = "tokio")]
    {
        let async_race = median(async_row);
        report.check(
            true,
            async_race >= DELAY,
            format!(
                "happy-eyeballs: the async race starts IPv4 one attempt delay after IPv6 too \
                 (median {async_race:.1?}; needs >= {DELAY:?})"
            ),
        );
        report.check(
            !plan.quick,
            async_race < sequential_timeout,
            format!(
                "happy-eyeballs: the async race connects before the sequential mode's timeout \
                 (median {async_race:.1?}; needs < {sequential_timeout:?})"
            ),
        );
        report.note(format!(
            "happy-eyeballs: sockwright's async race / its blocking race, in speed = {:.3} \
             (medians {async_race:.1?} and {race:.1?})",
            table.ratio_between(async_row, race_row)
        ));
    }
    report.check(
        true,
        sequential >= sequential_timeout,
        format!(
            "happy-eyeballs: the sequential mode waits out its timeout on the black hole first \
             (median {sequential:.1?}; needs >= {sequential_timeout:?})"
        ),
    );
    if let Some(python_row) = python_row {
        let ratio = table.ratio(race_row);
        report.note(format!(
            "happy-eyeballs: sockwright's race / Python asyncio's, in speed = {ratio:.3} \
             (medians {race:.1?} and {:.1?})",
            median(python_row)
        ));
    }
    Ok(())
}

/// One connect with `builder`; returns the nanoseconds it took.
fn timed_connect(builder: &ConnectorBuilder, targets: &[SocketAddr]) -> Fallible<f64> {
    let start = Instant::now();
    let stream = builder.connect(targets)?;
    let took = start.elapsed();
    if stream.peer_addr()? != targets[1] {
        return Err(format!("connected to {} instead", stream.peer_addr()?).into());
    }
    Ok(took.as_nanos() as f64)
}

/// One [`connect_async`](ConnectorBuilder::connect_async) with `builder`,
/// run to its end on `runtime`; returns the nanoseconds it took.
#[cfg(feature = "tokio")]
fn timed_connect_async(
    runtime: &tokio::runtime::Runtime,
    builder: &ConnectorBuilder,
    targets: &[SocketAddr],
) -> Fallible<f64> {
    let start = Instant::now();
    let stream = runtime.block_on(builder.connect_async(targets))?;
    let took = start.elapsed();
    if stream.peer_addr()? != targets[1] {
        return Err(format!("connected to {} instead", stream.peer_addr()?).into());
    }
    Ok(took.as_nanos() as f64)
}

/// A `[::1]` listener with a full accept queue that is never drained.
struct BlackHole {
    addr: SocketAddr,
    _listener: TcpListener,
    _queued: Vec<TcpStream>,
}

impl BlackHole {
    fn new() -> Fallible<BlackHole> {
        /// Connects that may fit in the queue before one is dropped.
        const MAX_QUEUED: usize = 64;
        let listener = ListenerBuilder::new().backlog(0).listen("[::1]:0")?;
        let addr = listener.local_addr()?;
        let mut probe = ConnectorBuilder::new();
        probe.connect_timeout(Duration::from_millis(200));
        let mut queued = Vec::new();
        for _ in 0..MAX_QUEUED {
            match probe.connect(addr) {
                Ok(stream) => queued.push(stream),
                Err(e) if e.kind() == ErrorKind::TimedOut => {
                    return Ok(BlackHole {
                        addr,
                        _listener: listener,
                        _queued: queued,
                    });
                }
                Err(e) => return Err(format!("filling the black hole's queue: {e}").into()),
            }
        }
        Err(format!("no SYN dropped after {MAX_QUEUED} connects to a full queue").into())
    }
}

/// A `127.0.0.1` listener whose thread accepts and closes every connection.
struct LiveServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<Fallible<()>>,
}

impl LiveServer {
    fn start() -> Fallible<LiveServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            loop {
                drop(listener.accept()?);
                if stopping.load(Ordering::SeqCst) {
                    return Ok(());
                }
            }
        });
        Ok(LiveServer { addr, stop, thread })
    }

    fn stop(self) -> Fallible<()> {
        self.stop.store(true, Ordering::SeqCst);
        // Refused when the thread already ended on an error.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5));
        self.thread
            .join()
            .map_err(|_| "live server thread panicked")?
    }
}

/// The outside reference: Python's asyncio racing the same two addresses.
const PYTHON: &str = r#"
import asyncio, socket, sys, time

hole_host, hole_port, live_host, live_port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])

class Loop(asyncio.SelectorEventLoop):
    # The two addresses, IPv6 first, in place of a resolver's answer.
    async def getaddrinfo(self, host, port, *, family=0, type=0, proto=0, flags=0):
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (hole_host, hole_port, 0, 0)),
            (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (live_host, live_port)),
        ]

async def connect():
    loop = asyncio.get_running_loop()
    start = time.perf_counter_ns()
    transport, _ = await loop.create_connection(
        asyncio.Protocol, "hole-and-live", 0, happy_eyeballs_delay=0.25)
    took = time.perf_counter_ns() - start
    peer = transport.get_extra_info("peername")
    transport.close()
    if peer[0] != live_host:
        raise SystemExit(f"connected to {peer} instead")
    return took

loop = Loop()
print("ready", flush=True)
for line in sys.stdin:
    print(loop.run_until_complete(connect()), flush=True)
loop.close()
"#;

struct Python {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Python {
    /// Starts the Python loop; `Err` holds why it cannot run here.
    fn start(targets: &[SocketAddr; 2]) -> Result<Python, String> {
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(PYTHON)
            .args([
                targets[0].ip().to_string(),
                targets[0].port().to_string(),
                targets[1].ip().to_string(),
                targets[1].port().to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => "python3 is not installed".to_owned(),
                _ => format!("cannot start python3: {e}"),
            })?;
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        match stdout.read_line(&mut line) {
            Ok(_) if line.trim() == "ready" => {}
            other => {
                let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                return Err(format!(
                    "the asyncio script did not start ({other:?}, {status}); it needs Python 3.8 \
                     or later for happy_eyeballs_delay"
                ));
            }
        }
        Ok(Python {
            child,
            stdin,
            stdout,
        })
    }

    /// One connect in the child; the nanoseconds it measured.
    fn connect(&mut self) -> Fallible<f64> {
        let stdin = self.stdin.as_mut().ok_or("Python loop already finished")?;
        writeln!(stdin, "connect")?;
        stdin.flush()?;
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            let status = self.child.wait()?;
            return Err(format!("Python loop ended early ({status})").into());
        }
        Ok(line
            .trim()
            .parse()
            .map_err(|e| format!("Python loop printed {line:?}: {e}"))?)
    }

    fn finish(mut self) -> Fallible<()> {
        drop(self.stdin.take());
        let status = self.child.wait()?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("Python loop exited with {status}").into())
        }
    }
}
