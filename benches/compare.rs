//! `cargo bench`: sockwright side by side with hand-written socket2 and std
//! code, and with the C tutorial's calls, in one run on one machine.
//!
//! This is a plain program (`harness = false` in Cargo.toml), not a criterion
//! or divan benchmark: it adds nothing to compile, and it has full control
//! over the order of measurement. Each group runs its variants interleaved in
//! rounds (A B C, B C A, C A B, ...), so a change in the load of a shared
//! machine falls on every variant alike; the ratio of a variant to the group's reference is
//! taken within each round, then the median of those ratios is reported.
//! A full run measures setup and exchange in 10 fresh processes, each for a
//! tenth of the rounds (the program runs itself again, see
//! `common::in_processes`), and judges their ratios over the processes: how
//! a process's code lies in memory moves one process's ratio by a percent or
//! two, which no number of rounds within it averages out.
//!
//! Groups:
//! - **setup**: create, set reuse-address, reuse-port (Unix), backlog, bind
//!   `127.0.0.1:0` and listen a TCP listener, then drop it.
//! - **exchange**: sequential connect, hello exchange, close on loopback:
//!   `Exchange::run_into` against the same exchange hand-written into
//!   arrays, `Exchange::run` (a new `Vec` per message) against it
//!   hand-written into a `Vec` per message.
//! - **bulk**: bytes per second (elapsed, and per CPU second) through a
//!   builder-made stream and a std one, each direction, after comparing the
//!   two pairs' socket options.
//! - **happy-eyeballs**: connect latency to a black-holed `[::1]` plus a
//!   live `127.0.0.1`: sockwright's race (blocking, and async with the
//!   `tokio` feature), its sequential mode, and Python asyncio's
//!   `create_connection` (`compare/happy_eyeballs.rs`).
//!
//! Each table shows, per variant, the median and the 10th to 90th percentile
//! of the samples (one sample per round) and the ratio to the reference in
//! throughput terms (above 1 is faster). The run ends with PASS/FAIL lines.
//! A full run exits non-zero when a check fails; `SOCKWRIGHT_BENCH_QUICK=1`
//! makes a short run that exits non-zero only when something fails outright
//! (a client error, a failed build), not when a ratio misses because the
//! few samples were noisy. `cargo bench -- setup exchange` runs only the
//! groups named.

use std::error::Error;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use sockwright::hello::{
    CLIENT_GREETING, DEFAULT_QUIET, DEFAULT_TIMEOUT, Exchange, SERVER_GREETING,
};
use sockwright::{ConnectorBuilder, ListenerBuilder};

mod common;
use common::{
    Fallible, Measured, Report, Variant, in_processes, interleave, median_interval, names,
    percentile,
};

/// A group of measurements, adding its table's checks to the report.
type Group = fn(&Plan, &mut Report) -> Fallible<()>;

/// How much each group measures.
struct Plan {
    quick: bool,
    /// The fresh processes that measure setup and exchange, each for its
    /// share of the rounds (see `common::in_processes`).
    processes: usize,
    /// Rounds per process.
    setup_rounds: usize,
    setup_batch: u64,
    /// Rounds per process.
    exchange_rounds: usize,
    exchange_batch: u64,
    bulk_rounds: usize,
    /// Bytes per variant and direction, over all rounds.
    bulk_total: u64,
}

impl Plan {
    fn from_env() -> Plan {
        let quick = std::env::var_os("SOCKWRIGHT_BENCH_QUICK").is_some_and(|v| v != "0");
        if quick {
            Plan {
                quick,
                processes: 1,
                setup_rounds: 30,
                setup_batch: 100,
                exchange_rounds: 30,
                exchange_batch: 50,
                bulk_rounds: 4,
                bulk_total: 64 << 20,
            }
        } else {
            Plan {
                quick,
                processes: 10,
                setup_rounds: 50,
                setup_batch: 200,
                exchange_rounds: 40,
                exchange_batch: 100,
                bulk_rounds: 64,
                bulk_total: 2 << 30,
            }
        }
    }
}

#[path = "compare/happy_eyeballs.rs"]
mod happy_eyeballs;

fn main() -> ExitCode {
    let plan = Plan::from_env();
    if let Some((group, rounds)) = common::child_request() {
        return common::reply(match group.as_str() {
            "setup" => setup_samples(&plan, rounds),
            "exchange" => exchange_samples(&plan, rounds),
            other => Err(format!("no group {other} is measured in a child process").into()),
        });
    }
    println!(
        "sockwright benchmarks ({} run; {} logical CPUs)",
        if plan.quick { "quick" } else { "full" },
        thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut report = Report::default();
    let started = Instant::now();
    let groups: [(&str, Group); 4] = [
        ("setup", setup),
        ("exchange", exchange),
        ("bulk", bulk),
        ("happy-eyeballs", happy_eyeballs::group),
    ];
    // `cargo bench -- NAME...` runs only the groups named; cargo itself passes `--bench`.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for (name, group) in groups {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        if let Err(err) = group(&plan, &mut report) {
            report.error(format!("{name}: {err}"));
        }
    }
    println!("\ntotal time {:.1} s", started.elapsed().as_secs_f64());
    report.finish(
        plan.quick,
        "quick run: figures are too few to judge ratios; run `cargo bench` for those",
    )
}

// ---------------------------------------------------------------------------
// setup

/// The listener the setup group builds: reuse-address, reuse-port where the
/// OS has `SO_REUSEPORT` (as the builder's `reuse_port` setter), `backlog`.
fn setup_builder(backlog: u32) -> ListenerBuilder {
    let mut builder = ListenerBuilder::new();
    builder.reuse_address(true).backlog(backlog);
    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    builder.reuse_port(true);
    builder
}

fn setup(plan: &Plan, report: &mut Report) -> Fallible<()> {
    let measured = in_processes("setup", plan.processes, plan.setup_rounds, |rounds| {
        setup_samples(plan, rounds)
    })?;
    let table = Table::measured(
        "setup",
        "create, reuse-address, reuse-port (Unix), backlog, bind 127.0.0.1:0, listen, drop; \
         std::net::TcpListener::bind sets reuse-address only",
        Unit::MicrosPerOp,
        measured,
        1,
    );
    table.print();
    let (passed, line) = speed_check(&table, 0, "setup: sockwright / socket2");
    report.check(!plan.quick, passed, line);
    let (low, high) = table.ratio_interval(2, 1);
    report.note(format!(
        "setup: socket2, hand-written, again / socket2 = {:.3}, 95% interval {low:.3} to \
         {high:.3}: the same code as two variants, which differ by how each is laid out in \
         memory",
        table.ratio(2)
    ));
    Ok(())
}

/// The setup group's variants, measured for `rounds` rounds in this process.
fn setup_samples(plan: &Plan, rounds: usize) -> Fallible<Measured> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let backlog = ListenerBuilder::DEFAULT_BACKLOG;
    let builder = setup_builder(backlog);
    let batch = plan.setup_batch;
    let mut variants: Vec<Variant<'_>> = vec![
        Variant::new("sockwright ListenerBuilder", move || {
            time_per_op(batch, || {
                drop(builder.listen(addr)?);
                Ok(())
            })
        }),
        Variant::new("socket2, hand-written", move || {
            time_per_op(batch, || {
                drop(socket2_listener(addr, backlog)?);
                Ok(())
            })
        }),
        Variant::new("socket2, hand-written, again", move || {
            time_per_op(batch, || {
                drop(socket2_listener(addr, backlog)?);
                Ok(())
            })
        }),
        Variant::new("std TcpListener::bind", move || {
            time_per_op(batch, || {
                drop(TcpListener::bind(addr)?);
                Ok(())
            })
        }),
    ];
    let samples = interleave(&mut variants, rounds)?;
    Ok(Measured::here(&variants, samples))
}

/// The ports below the kernel's ephemeral range (Linux's
/// `net.ipv4.ip_local_port_range`) that an unprivileged server may take,
/// where there are any.
fn below_ephemeral_range() -> Option<std::ops::Range<u16>> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let low: u16 = text.split_whitespace().next()?.parse().ok()?;
    (low > 1024).then_some(1024..low)
}

/// A server's listener on `127.0.0.1`, made by `bind`, on a port below the
/// ephemeral range where one is free (as servers listen: a connect's own
/// source port is never such a port, so sockwright does not read the local
/// address back to catch a self-connect), else on an ephemeral port.
fn server_listener(
    mut bind: impl FnMut(SocketAddr) -> io::Result<TcpListener>,
) -> io::Result<TcpListener> {
    if let Some(ports) = below_ephemeral_range() {
        // From a start that differs per process; at most 500 tries.
        let span = u32::from(ports.end - ports.start);
        let start = std::process::id() % span;
        for i in 0..span.min(500) {
            let port = ports.start + ((start + i) % span) as u16;
            if let Ok(listener) = bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))) {
                return Ok(listener);
            }
        }
    }
    bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
}

/// The same listener as the builder's, one call at a time.
fn socket2_listener(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog as i32)?;
    Ok(socket.into())
}

// ---------------------------------------------------------------------------
// exchange

/// `SERVER_GREETING.len()`, which equals `CLIENT_GREETING.len()`.
const GREETING_LEN: usize = SERVER_GREETING.len();

/// The speed of a listener build or an exchange, relative to the
/// hand-written code, below which a full run fails, when the whole 95%
/// interval of the ratio lies below it: a quiet machine's noise never
/// fails the check, and a real slowdown of 2% does.
const MIN_SPEED: f64 = 0.98;

/// The check of a ratio to hand-written code: the median ratio, its 95%
/// interval, and whether the interval reaches [`MIN_SPEED`].
fn speed_check(table: &Table, row: usize, what: &str) -> (bool, String) {
    let ratio = table.ratio(row);
    let (low, high) = table.ratio_interval(row, table.references[row]);
    (
        high >= MIN_SPEED,
        format!(
            "{what} = {ratio:.3}, 95% interval {low:.3} to {high:.3} \
             (fails only wholly below {MIN_SPEED})"
        ),
    )
}

fn exchange(plan: &Plan, report: &mut Report) -> Fallible<()> {
    let measured = in_processes("exchange", plan.processes, plan.exchange_rounds, |rounds| {
        exchange_samples(plan, rounds)
    })?;
    for error in &measured.errors {
        report.error(format!("exchange: {error}"));
    }
    let mut table = Table::measured(
        "exchange",
        "sequential connect, \"Hello from client\" / \"Hello from server\", close; \
         the Rust variants set 5 s read and write timeouts on both sides, the C loop none; \
         clients and servers share one CPU (Linux); `run`, which returns each message in \
         a new Vec, against hand-written code that does too",
        Unit::MicrosPerOp,
        measured,
        3,
    );
    table.set_reference(0, 2);
    table.print();
    for (row, what) in [
        (0, "sockwright (run) / std (into a Vec)"),
        (1, "sockwright (run_into) / std"),
    ] {
        let (passed, line) = speed_check(&table, row, &format!("exchange: {what}"));
        report.check(!plan.quick, passed, line);
    }
    report.note(format!(
        "exchange: sockwright (run) / std (into an array) = {:.3}: the two Vecs of an \
         exchange (one per side) against none; hand-written code into a Vec / into an \
         array = {:.3}",
        table.ratio_between(0, 3),
        table.ratio_between(2, 3)
    ));
    let median = Duration::from_secs_f64(table.median(0) * 1e-9);
    report.check(
        true,
        median < DEFAULT_QUIET / 4,
        format!(
            "exchange: completes at the expected greeting, without a quiet-gap wait \
             (median {median:.1?} per exchange; the quiet gap is {DEFAULT_QUIET:?})"
        ),
    );
    Ok(())
}

/// The exchange group's variants, each against its own server started
/// here, measured for `rounds` rounds in this process.
fn exchange_samples(plan: &Plan, rounds: usize) -> Fallible<Measured> {
    let mut errors = Vec::new();
    // Before any server thread or the C loop starts, so that they inherit it.
    #[cfg(target_os = "linux")]
    let _one_cpu = one_cpu::OneCpu::pin()
        .map_err(|e| println!("\nexchange: not kept on one CPU ({e}); figures will spread more"))
        .ok();
    let ours = hello_server(Receive::Vec)?;
    let ours_into = hello_server(Receive::Into)?;
    let hand_vec = SequentialServer::start(server_listener(TcpListener::bind)?, |s| {
        std_server(s, vec![0; GREETING_LEN])
    });
    let hand = SequentialServer::start(server_listener(TcpListener::bind)?, |s| {
        std_server(s, [0; GREETING_LEN])
    });
    let (ours_addr, ours_into_addr) = (ours.addr, ours_into.addr);
    let (hand_vec_addr, hand_addr) = (hand_vec.addr, hand.addr);
    println!(
        "\nexchange: the servers listen on {ours_addr}, {ours_into_addr}, {hand_vec_addr} \
         and {hand_addr} ({})",
        if [ours_addr, ours_into_addr, hand_vec_addr, hand_addr]
            .iter()
            .all(|a| below_ephemeral_range().is_some_and(|r| r.contains(&a.port())))
        {
            "ports below the ephemeral range, as servers do"
        } else {
            "ephemeral ports: sockwright's connect also reads its local address back"
        }
    );

    let c_loop = c_reference::start();
    let mut c_loop = match c_loop {
        Ok(c) => Some(c),
        Err(Skip::Reason(reason)) => {
            println!("\nexchange: C reference skipped: {reason}");
            None
        }
        Err(Skip::Failed(err)) => {
            errors.push(format!("C reference: {err}"));
            None
        }
    };
    let (connector, client) = (&ConnectorBuilder::new(), &Exchange::client());
    let batch = plan.exchange_batch;
    let mut variants: Vec<Variant<'_>> = vec![
        Variant::new("sockwright builders + hello::Exchange::run", move || {
            time_per_op(batch, || {
                let mut stream = connector.connect(ours_addr)?;
                let reply = client.run(&mut stream)?;
                expect_reply(&reply)?;
                await_close(&mut stream)
            })
        }),
        Variant::new("sockwright, hello::Exchange::run_into", move || {
            time_per_op(batch, || {
                let mut stream = connector.connect(ours_into_addr)?;
                let mut reply = [0; 64];
                let n = client.run_into(&mut stream, &mut reply)?;
                expect_reply(&reply[..n])?;
                await_close(&mut stream)
            })
        }),
        Variant::new("std, hand-written, into a Vec", move || {
            time_per_op(batch, || {
                let mut stream = TcpStream::connect(hand_vec_addr)?;
                let reply = std_client(&mut stream, vec![0; GREETING_LEN])?;
                expect_reply(&reply)?;
                await_close(&mut stream)
            })
        }),
        Variant::new("std, hand-written exchange", move || {
            time_per_op(batch, || {
                let mut stream = TcpStream::connect(hand_addr)?;
                let reply = std_client(&mut stream, [0; GREETING_LEN])?;
                expect_reply(&reply)?;
                await_close(&mut stream)
            })
        }),
    ];
    if let Some(c) = c_loop.as_mut() {
        variants.push(Variant::new("C tutorial loop (cc -O2)", move || {
            c.run(batch)
        }));
    }
    let samples = interleave(&mut variants, rounds);
    let names = names(&variants);
    drop(variants);
    let server_errors = [ours.stop(), ours_into.stop(), hand_vec.stop(), hand.stop()];
    if let Some(c) = c_loop {
        c.finish()?;
    }
    for result in server_errors {
        result?;
    }
    let samples = samples?;
    Ok(Measured {
        names,
        per_process: rounds,
        samples,
        errors,
    })
}

/// Waits for the server to close the connection (a read that returns end
/// of file) before the client closes its side.
///
/// Every client here does this, the C loop too, so that the server, which
/// closes right after its reply as the tutorial's server does, is always the
/// first to close and holds the `TIME_WAIT` state. Otherwise which side
/// closes first is a race, and at tens of thousands of connections per
/// second the clients' ephemeral ports to one server fill with `TIME_WAIT`
/// entries, slowing every `connect` to that server while the port search
/// skips them: a cost of the test set-up, not of the code measured.
fn await_close(stream: &mut TcpStream) -> Fallible<()> {
    let mut byte = [0; 1];
    match stream.read(&mut byte)? {
        0 => Ok(()),
        _ => Err("data after the reply".into()),
    }
}

fn expect_reply(reply: &[u8]) -> Fallible<()> {
    if reply == SERVER_GREETING.as_bytes() {
        Ok(())
    } else {
        Err(format!("unexpected reply {:?}", String::from_utf8_lossy(reply)).into())
    }
}

/// The client side written by hand with std, with the same 5 s read and
/// write timeouts as `Exchange`: the reply is read into `reply` (an array
/// on the stack, or a new `Vec` as `Exchange::run` returns).
fn std_client<B: AsMut<[u8]>>(stream: &mut TcpStream, mut reply: B) -> io::Result<B> {
    stream.set_read_timeout(Some(DEFAULT_TIMEOUT))?;
    stream.set_write_timeout(Some(DEFAULT_TIMEOUT))?;
    stream.write_all(CLIENT_GREETING.as_bytes())?;
    stream.read_exact(reply.as_mut())?;
    Ok(reply)
}

/// The server side written by hand with std, with the same timeouts, the
/// greeting read into `greeting` (as for [`std_client`]).
fn std_server<B: AsMut<[u8]>>(stream: &mut TcpStream, mut greeting: B) -> Fallible<()> {
    stream.set_read_timeout(Some(DEFAULT_TIMEOUT))?;
    stream.set_write_timeout(Some(DEFAULT_TIMEOUT))?;
    stream.read_exact(greeting.as_mut())?;
    if greeting.as_mut() != CLIENT_GREETING.as_bytes() {
        return Err("unexpected greeting".into());
    }
    stream.write_all(SERVER_GREETING.as_bytes())?;
    Ok(())
}

/// How a sockwright exchange receives each message.
#[derive(Clone, Copy)]
enum Receive {
    /// `Exchange::run`: a new `Vec` per message.
    Vec,
    /// `Exchange::run_into`: the caller's stack buffer.
    Into,
}

/// A sockwright server for the exchange: `hello::Exchange::server()` on a
/// listener made by `ListenerBuilder` (below the ephemeral range, see
/// [`server_listener`]) with the option std's `TcpListener::bind` sets,
/// reuse-address only (reuse-port would add the kernel's group lookup to
/// every connect). The listener is not measured, only the connections to it.
fn hello_server(receive: Receive) -> io::Result<SequentialServer> {
    let mut listener = ListenerBuilder::new();
    listener.reuse_address(true);
    // Built once, as a server would; each connection runs it again.
    let exchange = Exchange::server();
    let listener = server_listener(|a| Ok(listener.listen(a)?))?;
    Ok(SequentialServer::start(listener, move |conn| {
        match receive {
            Receive::Vec => drop(exchange.run(conn)?),
            Receive::Into => drop(exchange.run_into(conn, &mut [0; 64])?),
        }
        Ok(())
    }))
}

/// A server thread that accepts and serves one connection at a time until
/// stopped.
struct SequentialServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Fallible<()>>,
}

impl SequentialServer {
    fn start(
        listener: TcpListener,
        mut serve: impl FnMut(&mut TcpStream) -> Fallible<()> + Send + 'static,
    ) -> SequentialServer {
        let addr = listener
            .local_addr()
            .expect("local address of a bound listener");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            loop {
                let (mut conn, _) = listener.accept()?;
                if stopping.load(Ordering::SeqCst) {
                    return Ok(());
                }
                serve(&mut conn).map_err(|e| format!("server: {e}"))?;
            }
        });
        SequentialServer { addr, stop, thread }
    }

    /// Stops the thread (a last connection wakes its `accept`) and returns
    /// its error, if any.
    fn stop(self) -> Fallible<()> {
        self.stop.store(true, Ordering::SeqCst);
        // Refused when the thread already ended on an error: it then has nothing to wake.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5));
        self.thread.join().map_err(|_| "server thread panicked")?
    }
}

/// Keeps the exchange group on one CPU.
///
/// A client and its server thread ping-pong for every exchange. On two CPUs
/// each hand-over may have to wake the other CPU, which on a virtual machine
/// can cost more than the exchange itself, and whether it does depends on
/// where the scheduler happened to put each server thread: one variant's
/// server can sit on the other CPU for a whole run and look three times
/// slower. On one CPU every variant pays only for its own work.
#[cfg(target_os = "linux")]
mod one_cpu {
    use std::io;
    use std::mem;

    /// The calling thread, and the threads and processes it starts, run on
    /// one CPU until this is dropped, when the thread's former set returns.
    pub struct OneCpu {
        saved: libc::cpu_set_t,
    }

    impl OneCpu {
        pub fn pin() -> io::Result<OneCpu> {
            let size = mem::size_of::<libc::cpu_set_t>();
            // SAFETY: `cpu_set_t` is plain data for which all zeroes is a
            // valid (empty) set; each call gets a pointer to a set that lives
            // across the call and that set's own size.
            unsafe {
                let mut saved: libc::cpu_set_t = mem::zeroed();
                if libc::sched_getaffinity(0, size, &mut saved) != 0 {
                    return Err(io::Error::last_os_error());
                }
                let cpu = (0..libc::CPU_SETSIZE as usize)
                    .find(|&cpu| libc::CPU_ISSET(cpu, &saved))
                    .ok_or_else(|| io::Error::other("no CPU allowed"))?;
                let mut one: libc::cpu_set_t = mem::zeroed();
                libc::CPU_SET(cpu, &mut one);
                if libc::sched_setaffinity(0, size, &one) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(OneCpu { saved })
            }
        }
    }

    impl Drop for OneCpu {
        fn drop(&mut self) {
            let size = mem::size_of::<libc::cpu_set_t>();
            // SAFETY: as in `pin`: a valid set and its own size.
            let restored = unsafe { libc::sched_setaffinity(0, size, &self.saved) };
            if restored != 0 {
                eprintln!(
                    "cannot restore this thread's CPUs: {}",
                    io::Error::last_os_error()
                );
            }
        }
    }
}

/// Why a variant is left out.
enum Skip {
    /// A missing capability of this machine, printed as the reason.
    Reason(String),
    /// Something that should have worked and did not.
    #[cfg_attr(not(unix), allow(dead_code))]
    Failed(Box<dyn Error + Send + Sync>),
}

/// The C tutorial's calls in a loop (benches/hello_loop.c), built with the
/// system C compiler and driven over its standard input and output.
#[cfg(unix)]
mod c_reference {
    use std::io::{BufRead, BufReader, ErrorKind, Write};
    use std::path::PathBuf;
    use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

    use super::{Fallible, Skip};

    const SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/hello_loop.c");

    pub struct CLoop {
        child: Child,
        stdin: Option<ChildStdin>,
        stdout: BufReader<ChildStdout>,
    }

    /// Compiles the C loop into cargo's temporary directory and starts it.
    pub fn start() -> Result<CLoop, Skip> {
        let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
        let binary = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sockwright-hello-loop");
        let output = Command::new(&compiler)
            .args(["-O2", "-pthread", "-o"])
            .arg(&binary)
            .arg(SOURCE)
            .output();
        let output = match output {
            Ok(output) => output,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(Skip::Reason(format!(
                    "no C compiler ({compiler} not found)"
                )));
            }
            Err(e) => return Err(Skip::Failed(format!("running {compiler}: {e}").into())),
        };
        if !output.status.success() {
            return Err(Skip::Failed(
                format!(
                    "{compiler} failed ({}): {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                )
                .into(),
            ));
        }
        let mut child = Command::new(&binary)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| Skip::Failed(format!("starting {}: {e}", binary.display()).into()))?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Ok(CLoop {
            child,
            stdin,
            stdout,
        })
    }

    impl CLoop {
        /// Runs `count` exchanges in the child; returns the nanoseconds per
        /// exchange that it measured itself.
        pub fn run(&mut self, count: u64) -> Fallible<f64> {
            let stdin = self.stdin.as_mut().ok_or("C loop already finished")?;
            writeln!(stdin, "{count}")?;
            stdin.flush()?;
            let mut line = String::new();
            if self.stdout.read_line(&mut line)? == 0 {
                let status = self.child.wait()?;
                return Err(format!("C loop ended early ({status})").into());
            }
            let nanos: f64 = line
                .trim()
                .parse()
                .map_err(|e| format!("C loop printed {line:?}: {e}"))?;
            Ok(nanos / count as f64)
        }

        /// Ends the child (end of input) and checks its exit status.
        pub fn finish(mut self) -> Fallible<()> {
            drop(self.stdin.take());
            let status = self.child.wait()?;
            if status.success() {
                Ok(())
            } else {
                Err(format!("C loop exited with {status}").into())
            }
        }
    }
}

/// Where there are no POSIX sockets the C loop is not built.
#[cfg(not(unix))]
mod c_reference {
    use super::{Fallible, Skip};

    pub enum CLoop {}

    pub fn start() -> Result<CLoop, Skip> {
        Err(Skip::Reason(
            "the C loop uses POSIX sockets, which this platform does not have".to_owned(),
        ))
    }

    impl CLoop {
        pub fn run(&mut self, _: u64) -> Fallible<f64> {
            match *self {}
        }

        pub fn finish(self) -> Fallible<()> {
            match self {}
        }
    }
}

// ---------------------------------------------------------------------------
// bulk

/// Bytes per `write` call.
const BULK_CHUNK: usize = 256 * 1024;

/// Slices of one bulk sample: the two pairs alternate slice by slice
/// (A B B A ...), so that a change in the machine's load during a sample
/// falls on both.
const BULK_SLICES: u64 = 8;

fn bulk(plan: &Plan, report: &mut Report) -> Fallible<()> {
    let per_sample = plan.bulk_total / plan.bulk_rounds as u64;
    let mut ours = connected_pair(true)?;
    let mut theirs = connected_pair(false)?;
    // The claim measured: a builder-made stream is a plain `TcpStream` with
    // the same options as std's. Checked before any byte moves (the kernel
    // tunes the buffer sizes of both as they are used).
    let options = [
        (
            "client",
            socket_options(&ours.0)?,
            socket_options(&theirs.0)?,
        ),
        (
            "server",
            socket_options(&ours.1)?,
            socket_options(&theirs.1)?,
        ),
    ];
    let mut differ = Vec::new();
    for (side, a, b) in &options {
        println!(
            "\nbulk: {side} stream options, sockwright / std: {}",
            show_options(a, b)
        );
        differ.extend(
            a.iter()
                .zip(b)
                .filter(|(x, y)| x != y)
                .map(|((name, x), (_, y))| format!("{side} {name}: {x} / {y}")),
        );
    }
    report.check(
        true,
        differ.is_empty(),
        format!(
            "bulk: both pairs have the same socket options ({})",
            if differ.is_empty() {
                "getsockopt of each".to_owned()
            } else {
                differ.join(", ")
            }
        ),
    );

    // One buffer each way for every sample of every variant, filled once, so
    // that no variant pays for fresh pages another one does not.
    let send_buf = vec![0x5a; BULK_CHUNK];
    let mut recv_buf = vec![0; BULK_CHUNK];
    // Rows: sockwright c->s, std c->s, sockwright s->c, std s->c.
    let mut samples = vec![Vec::new(); 4];
    let mut cpu_samples = vec![Vec::new(); 4];
    // Per slice: the first transfer's speed over the second's, whichever
    // pair went first: what the position alone is worth.
    let mut position = Vec::with_capacity(2 * plan.bulk_rounds);
    let slice = per_sample / BULK_SLICES;
    for round in 0..=plan.bulk_rounds {
        for (dir, ours_first) in bulk_order(round) {
            // Seconds each pair took for its slices of this sample, and the
            // CPU seconds the process spent on them.
            let mut took = [0.0; 2];
            let mut cpu = [0.0; 2];
            for k in 0..BULK_SLICES {
                // A B B A A B B A ...: each pair runs first in half the slices.
                let first_is_ours = ours_first == (k % 4 == 0 || k % 4 == 3);
                let mut secs = [0.0; 2];
                for (position, builders) in [first_is_ours, !first_is_ours].into_iter().enumerate()
                {
                    let (client, server) = if builders { &mut ours } else { &mut theirs };
                    let (tx, rx) = if dir == 0 {
                        (client, server)
                    } else {
                        (server, client)
                    };
                    let (t, c) = transfer(tx, rx, slice, &send_buf, &mut recv_buf)?;
                    secs[position] = t;
                    took[usize::from(!builders)] += t;
                    cpu[usize::from(!builders)] += c.unwrap_or(f64::NAN);
                }
                if round > 0 {
                    position.push(secs[1] / secs[0]);
                }
            }
            if round > 0 {
                for (pair, (secs, cpu)) in took.into_iter().zip(cpu).enumerate() {
                    samples[dir * 2 + pair].push((slice * BULK_SLICES) as f64 / secs);
                    cpu_samples[dir * 2 + pair].push((slice * BULK_SLICES) as f64 / cpu);
                }
            }
        }
    }
    let rows = vec![
        "sockwright stream, client -> server".to_owned(),
        "std stream, client -> server".to_owned(),
        "sockwright stream, server -> client".to_owned(),
        "std stream, server -> client".to_owned(),
    ];
    let mut table = Table::new(
        "bulk",
        &format!(
            "{} MiB per variant, {} MiB per sample in {BULK_SLICES} slices alternating with the \
             other pair's, {} KiB writes; ratios: sockwright / std, same direction and round",
            plan.bulk_total >> 20,
            per_sample >> 20,
            BULK_CHUNK >> 10
        ),
        Unit::GibPerSecond,
        rows.clone(),
        samples,
        1,
    );
    // Each direction has its own reference: the std stream in that direction.
    table.set_reference(2, 3);
    table.set_reference(3, 3);
    table.print();
    let has_cpu_time = cpu_samples.iter().flatten().all(|s| s.is_finite());
    let mut cpu_table = Table::new(
        "bulk, per CPU second",
        "the same transfers: bytes per second of CPU time the process spent (user and system, \
         both threads), which the other work on the machine does not take",
        Unit::GibPerSecond,
        rows,
        cpu_samples,
        1,
    );
    cpu_table.set_reference(2, 3);
    cpu_table.set_reference(3, 3);
    if has_cpu_time {
        cpu_table.print();
    } else {
        println!("\nbulk: no process CPU clock on this platform; the checks use elapsed time");
    }
    // The checks judge the CPU cost where it is known: on a shared machine
    // the elapsed time of a transfer is mostly how long it waited for a CPU.
    let judged = if has_cpu_time { &cpu_table } else { &table };
    for (ours, theirs, direction) in [(0, 1, "client -> server"), (2, 3, "server -> client")] {
        let elapsed = table.ratio_between(ours, theirs);
        let ratio = judged.ratio_between(ours, theirs);
        let (low, high) = judged.ratio_interval(ours, theirs);
        // The same stream type moves the bytes on both sides: the check
        // fails only where the whole 95% interval lies outside 0.97 to
        // 1.03, as the speed checks fail only wholly below 0.98, so that
        // noise (wider at several GiB/s) never fails it and a real 3%
        // difference either way does.
        report.check(
            !plan.quick,
            high >= 0.97 && low <= 1.03,
            format!(
                "bulk {direction}: sockwright / std = {ratio:.3} {}, 95% interval {low:.3} to \
                 {high:.3} (fails only wholly outside 0.97 to 1.03); by elapsed time {elapsed:.3}",
                if has_cpu_time {
                    "per CPU second"
                } else {
                    "by elapsed time"
                }
            ),
        );
    }
    report.note(format!(
        "bulk: speed of the first transfer of each back-to-back pair / the second's, either \
         pair = {:.3} (what running one pair always first would have added to the ratios)",
        percentile(&position, 0.5)
    ));
    Ok(())
}

/// The order of one bulk round: each direction (0: client to server, 1:
/// server to client) with whether the sockwright pair takes the first slice
/// in it.
///
/// Over every four rounds each pair starts a direction equally often, and
/// starts it after a change of direction equally often. A fixed rotation (A B C D, B C D A, ...) would always run the std
/// pair right after the sockwright pair in the same direction, and the
/// sockwright pair right after the other direction: the ratio would then
/// measure what a change of direction costs the next transfer (the stream's
/// buffers and the CPUs' caches left by the one before), not the stream.
fn bulk_order(round: usize) -> [(usize, bool); 2] {
    let ours_first = (round / 2) % 2 == 0;
    if round % 2 == 0 {
        [(0, ours_first), (1, !ours_first)]
    } else {
        [(1, ours_first), (0, !ours_first)]
    }
}

/// The options of a connected stream that decide how it moves bytes, each
/// read with its own `getsockopt` (or `fcntl`), as a name and a value.
fn socket_options(stream: &TcpStream) -> io::Result<Vec<(&'static str, String)>> {
    let s = socket2::SockRef::from(stream);
    // Windows adds nothing to the list below.
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut options = vec![
        ("SO_SNDBUF", s.send_buffer_size()?.to_string()),
        ("SO_RCVBUF", s.recv_buffer_size()?.to_string()),
        ("TCP_NODELAY", s.tcp_nodelay()?.to_string()),
        ("SO_KEEPALIVE", s.keepalive()?.to_string()),
        ("SO_LINGER", format!("{:?}", s.linger()?)),
        ("SO_RCVTIMEO", format!("{:?}", s.read_timeout()?)),
        ("SO_SNDTIMEO", format!("{:?}", s.write_timeout()?)),
        ("IP_TTL", s.ttl_v4()?.to_string()),
    ];
    #[cfg(unix)]
    options.extend([
        ("O_NONBLOCK", s.nonblocking()?.to_string()),
        ("TCP_MAXSEG", s.tcp_mss()?.to_string()),
        ("IP_TOS", s.tos_v4()?.to_string()),
    ]);
    #[cfg(target_os = "linux")]
    options.push((
        "TCP_CONGESTION",
        String::from_utf8_lossy(&s.tcp_congestion()?)
            .trim_end_matches('\0')
            .to_owned(),
    ));
    Ok(options)
}

/// `NAME=a` where both sides agree, `NAME=a/b` where they do not.
fn show_options(a: &[(&str, String)], b: &[(&str, String)]) -> String {
    a.iter()
        .zip(b)
        .map(|((name, x), (_, y))| {
            if x == y {
                format!("{name}={x}")
            } else {
                format!("{name}={x}/{y}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A connected client and accepted server stream, both made with the
/// builders or both with std.
fn connected_pair(builders: bool) -> Fallible<(TcpStream, TcpStream)> {
    let listener = if builders {
        ListenerBuilder::new().listen("127.0.0.1:0")?
    } else {
        TcpListener::bind("127.0.0.1:0")?
    };
    let addr = listener.local_addr()?;
    let client = if builders {
        ConnectorBuilder::new().connect(addr)?
    } else {
        TcpStream::connect(addr)?
    };
    let (server, _) = listener.accept()?;
    Ok((client, server))
}

/// Sends `bytes` from `tx` to `rx`, writing from `send_buf` and reading into
/// `recv_buf`; returns the seconds from the first write until the last byte
/// is read, and the CPU seconds the process spent meanwhile (where known).
fn transfer(
    tx: &mut TcpStream,
    rx: &mut TcpStream,
    bytes: u64,
    send_buf: &[u8],
    recv_buf: &mut [u8],
) -> Fallible<(f64, Option<f64>)> {
    let cpu_start = process_cpu_seconds();
    let start = Instant::now();
    let received = thread::scope(|scope| -> Fallible<u64> {
        let sender = scope.spawn(move || -> io::Result<()> {
            let mut left = bytes;
            while left > 0 {
                let n = left.min(send_buf.len() as u64) as usize;
                tx.write_all(&send_buf[..n])?;
                left -= n as u64;
            }
            Ok(())
        });
        let mut got = 0;
        while got < bytes {
            let want = (bytes - got).min(recv_buf.len() as u64) as usize;
            match rx.read(&mut recv_buf[..want])? {
                0 => return Err("stream closed during the transfer".into()),
                n => got += n as u64,
            }
        }
        sender.join().map_err(|_| "sender panicked")??;
        Ok(got)
    })?;
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds()
        .zip(cpu_start)
        .map(|(end, start)| end - start);
    if received != bytes {
        return Err(format!("received {received} of {bytes} bytes").into());
    }
    Ok((elapsed, cpu))
}

/// The CPU time this process has used, user and system, in seconds
/// (`clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`).
#[cfg(unix)]
fn process_cpu_seconds() -> Option<f64> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a live `timespec` that the call writes.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    (rc == 0).then_some(now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9)
}

#[cfg(not(unix))]
fn process_cpu_seconds() -> Option<f64> {
    None
}

// ---------------------------------------------------------------------------
// measurement and report

/// Runs `op` `batch` times; returns the mean nanoseconds per run.
fn time_per_op(batch: u64, mut op: impl FnMut() -> Fallible<()>) -> Fallible<f64> {
    let start = Instant::now();
    for _ in 0..batch {
        op()?;
    }
    Ok(start.elapsed().as_nanos() as f64 / batch as f64)
}

#[derive(Clone, Copy)]
enum Unit {
    /// Samples are nanoseconds per operation (lower is faster).
    MicrosPerOp,
    /// Samples are nanoseconds per operation, shown in milliseconds.
    Millis,
    /// Samples are bytes per second.
    GibPerSecond,
}

impl Unit {
    /// A sample in the unit shown.
    fn show(self, sample: f64) -> f64 {
        match self {
            Unit::MicrosPerOp => sample / 1e3,
            Unit::Millis => sample / 1e6,
            Unit::GibPerSecond => sample / f64::from(1u32 << 30),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Unit::MicrosPerOp => "µs/op",
            Unit::Millis => "ms",
            Unit::GibPerSecond => "GiB/s",
        }
    }

    /// Throughput of `a` relative to `b`, both samples.
    fn throughput_ratio(self, a: f64, b: f64) -> f64 {
        match self {
            Unit::MicrosPerOp | Unit::Millis => b / a,
            Unit::GibPerSecond => a / b,
        }
    }
}

/// A group's samples, one row per variant.
struct Table {
    group: String,
    what: String,
    unit: Unit,
    names: Vec<String>,
    samples: Vec<Vec<f64>>,
    references: Vec<usize>,
    /// Rounds measured by each process in turn (all of them when one).
    per_process: usize,
}

impl Table {
    fn new(
        group: &str,
        what: &str,
        unit: Unit,
        names: Vec<String>,
        samples: Vec<Vec<f64>>,
        reference: usize,
    ) -> Table {
        let references = vec![reference; names.len()];
        let per_process = samples.first().map_or(0, Vec::len);
        Table {
            group: group.to_owned(),
            what: what.to_owned(),
            unit,
            names,
            samples,
            references,
            per_process,
        }
    }

    /// The table of a group measured in several processes.
    fn measured(
        group: &str,
        what: &str,
        unit: Unit,
        measured: Measured,
        reference: usize,
    ) -> Table {
        let mut table = Table::new(
            group,
            what,
            unit,
            measured.names,
            measured.samples,
            reference,
        );
        table.per_process = measured.per_process;
        table
    }

    /// How many processes measured the samples.
    fn processes(&self) -> usize {
        self.samples[0].len().div_ceil(self.per_process.max(1))
    }

    fn set_reference(&mut self, row: usize, reference: usize) {
        self.references[row] = reference;
    }

    fn median(&self, row: usize) -> f64 {
        percentile(&self.samples[row], 0.5)
    }

    /// The row's throughput ratio to its reference.
    fn ratio(&self, row: usize) -> f64 {
        self.ratio_between(row, self.references[row])
    }

    /// The median over rounds of the throughput ratio of `row` to `other`
    /// within the same round; over several processes, the median of each
    /// process's median.
    fn ratio_between(&self, row: usize, other: usize) -> f64 {
        percentile(&self.process_ratios(row, other), 0.5)
    }

    /// The ratios a check judges: per round when one process measured
    /// them, else the median of each process's rounds, as the processes
    /// differ by more than their rounds do (see `common::in_processes`).
    fn process_ratios(&self, row: usize, other: usize) -> Vec<f64> {
        let rounds = self.round_ratios(row, other);
        if self.processes() <= 1 {
            return rounds;
        }
        rounds
            .chunks(self.per_process)
            .map(|process| percentile(process, 0.5))
            .collect()
    }

    /// The throughput ratio of `row` to `other` in each round.
    fn round_ratios(&self, row: usize, other: usize) -> Vec<f64> {
        self.samples[row]
            .iter()
            .zip(&self.samples[other])
            .map(|(&a, &b)| self.unit.throughput_ratio(a, b))
            .collect()
    }

    /// A 95% confidence interval for [`ratio_between`](Self::ratio_between),
    /// from the order statistics of the per-round ratios, or over several
    /// processes of the per-process medians (the sign test's interval: it
    /// assumes nothing about how the ratios spread).
    fn ratio_interval(&self, row: usize, other: usize) -> (f64, f64) {
        median_interval(&self.process_ratios(row, other))
    }

    fn print(&self) {
        let unit = self.unit;
        println!("\n## {} ({})", self.group, self.what);
        println!(
            "{:<40} {:>12} {:>25} {:>8}",
            "variant",
            format!("median {}", unit.label()),
            "p10 - p90",
            "vs ref"
        );
        let width = self
            .names
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(0)
            .max(40);
        for (row, name) in self.names.iter().enumerate() {
            let samples = &self.samples[row];
            let ratio = if self.references[row] == row {
                "ref".to_owned()
            } else {
                format!("{:.3}", self.ratio(row))
            };
            println!(
                "{name:<width$} {:>12} {:>25} {ratio:>8}",
                fmt(unit.show(self.median(row))),
                format!(
                    "{} - {}",
                    fmt(unit.show(percentile(samples, 0.1))),
                    fmt(unit.show(percentile(samples, 0.9)))
                ),
            );
        }
        match self.processes() {
            1 => println!(
                "({} samples per variant, interleaved)",
                self.samples[0].len()
            ),
            n => println!(
                "({} samples per variant, interleaved, from {n} processes of {} rounds each)",
                self.samples[0].len(),
                self.per_process
            ),
        }
    }
}

/// Three significant digits, at least.
fn fmt(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}
