//! `cargo run --example server -- --addr 127.0.0.1`
//!
//! The tutorial's server, which waits for a client, prints its greeting and
//! answers.
//!
//! ```text
//! cargo run --example server                    # 0.0.0.0:8080, one client, then exit
//! cargo run --example server -- --forever       # many clients at once, until killed
//! cargo run --example server -- --port 0 --udp  # any free port, UDP
//! cargo run --example server -- --listen unix:/tmp/hello.sock
//! systemd-socket-activate -l 127.0.0.1:8080 target/debug/examples/server --listen sd-listen
//! kill -HUP PID                                 # with --forever: restart without dropping a client
//! RUST_LOG=debug cargo run --example server     # and every socket step
//! cargo run --example server -- --help          # every option
//! ```
//!
//! Prints `listening on ADDRESS` to stderr once ready; then, for each
//! client, its message on one line of stdout followed by `Hello message
//! sent`, as the C program does. A client whose exchange fails gets one
//! `error: ...` line on stderr; after a counted run the exit status is
//! non-zero if any did.
//!
//! With `--forever` (Unix), `SIGHUP` restarts the server without refusing a
//! client: it starts itself again with the same command line, hands the new
//! process its listener (`activation::Handover`, named `server`), waits for
//! it to say it is ready, prints `restarted: old pid OLD, new pid NEW`,
//! stops accepting, finishes its clients and exits. If the new process
//! fails, the old one says why and keeps serving. Started by systemd
//! (`NOTIFY_SOCKET` set), it stores its listener in the fd store
//! (`FDSTORE=1`, `FDNAME=server`) and says `READY=1`; a listener passed
//! back under the name `server` is used instead of a new one. A command line that cannot work (`--udp` with
//! `--unix`, `--count` with `--forever`, ...) is refused with exit status 2.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use anyhow::anyhow;
use clap::builder::RangedU64ValueParser;
use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser};
#[cfg(unix)]
use sockwright::activation::{Handover, ListenFds, Notifier};
use sockwright::hello::{
    DEFAULT_MAX_CLIENTS, DEFAULT_MAX_MESSAGE, DEFAULT_TIMEOUT, Exchange, Outcome, SERVER_GREETING,
    Server, Summary,
};
use sockwright::{Endpoint, Listener, ListenerBuilder};

/// Waits for clients, reads each one's greeting, prints it and answers, like
/// the C tutorial's server. Prints `listening on ADDRESS` to stderr once
/// ready; for each client, its message on one line of stdout, then `Hello
/// message sent`.
#[derive(Debug, Parser)]
#[command(name = "server")]
struct Args {
    /// Address to listen on; [IP]:PORT for IPv6 with a port
    #[arg(long, value_name = "IP[:PORT]", default_value = "0.0.0.0")]
    addr: ListenAddr,

    /// Port to listen on, 0 for any free one
    #[arg(
        long,
        value_name = "N",
        default_value_t = 8080,
        allow_negative_numbers = true
    )]
    port: u16,

    /// The reply
    #[arg(long, value_name = "TEXT", default_value_t = SERVER_GREETING.to_owned(),
          value_parser = message, allow_hyphen_values = true)]
    message: String,

    /// listen(2) backlog
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(..=i64::from(i32::MAX)))]
    backlog: u32,

    /// Serve N clients, then exit
    #[arg(long, value_name = "N", default_value_t = 1, conflicts_with = "forever",
          value_parser = clap::value_parser!(u64).range(1..))]
    count: u64,

    /// Serve clients until killed, many at once; on Unix, SIGHUP restarts the server in a new
    /// process without dropping a client
    #[arg(long)]
    forever: bool,

    /// Clients in progress at once, beyond which the rest wait in the accept
    /// queue
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CLIENTS,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=u64::from(u32::MAX)))]
    max_clients: usize,

    /// Time each client has to send its greeting, in seconds
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT.as_secs_f64(),
          value_parser = seconds, allow_negative_numbers = true)]
    timeout: f64,

    /// Also set SO_REUSEPORT, so that several servers share the port and the
    /// kernel splits the clients between them (Unix only)
    #[arg(long, conflicts_with = "no_reuse")]
    reuse_port: bool,

    /// Do not set SO_REUSEADDR (set by default, so that a restarted server
    /// can bind while old connections linger)
    #[arg(long)]
    no_reuse: bool,

    /// Answer UDP datagrams instead of TCP connections
    #[arg(long, conflicts_with_all = ["unix", "backlog", "max_clients"])]
    udp: bool,

    /// Listen on a Unix-domain socket at PATH (Unix only)
    #[arg(long, value_name = "PATH", value_parser = socket_path,
          conflicts_with_all = ["addr", "port", "no_reuse", "reuse_port"])]
    unix: Option<PathBuf>,

    /// Listen where ENDPOINT says, instead of --addr, --port, --udp or
    /// --unix: HOST:PORT, [IPV6]:PORT, unix:PATH, /PATH, ./PATH, @NAME (Linux
    /// abstract), sd-listen (the first socket systemd passed),
    /// sd-listen:NAME, fd:N
    #[arg(long, value_name = "ENDPOINT", conflicts_with_all = ["addr", "port", "udp", "unix"])]
    listen: Option<Endpoint>,
}

/// `IP`, `IP:PORT` or `[IPv6]:PORT`: the address to listen on, and the port
/// when one is given with it.
#[derive(Debug, Clone, Copy)]
struct ListenAddr {
    ip: IpAddr,
    port: Option<u16>,
}

impl FromStr for ListenAddr {
    type Err = String;

    fn from_str(text: &str) -> Result<ListenAddr, String> {
        if let Ok(addr) = text.parse::<SocketAddr>() {
            return Ok(ListenAddr {
                ip: addr.ip(),
                port: Some(addr.port()),
            });
        }
        match text.parse() {
            Ok(ip) => Ok(ListenAddr { ip, port: None }),
            Err(_) => Err("not an IPv4 or IPv6 address, optionally with :PORT \
                 (IPv6 with a port as [IP]:PORT)"
                .to_owned()),
        }
    }
}

/// A greeting or reply: 1 to `DEFAULT_MAX_MESSAGE` bytes.
fn message(text: &str) -> Result<String, String> {
    if text.is_empty() || text.len() > DEFAULT_MAX_MESSAGE {
        return Err(format!(
            "must be 1 to {DEFAULT_MAX_MESSAGE} bytes, not {}",
            text.len()
        ));
    }
    Ok(text.to_owned())
}

/// A number of seconds above zero and at most a day.
fn seconds(text: &str) -> Result<f64, String> {
    let invalid = || "must be a number of seconds above 0 and at most 86400".to_owned();
    let secs: f64 = text.parse().map_err(|_| invalid())?;
    // Also rejects NaN; a positive value too small for a nanosecond is zero.
    if !(secs > 0.0 && secs <= 86_400.0) || Duration::from_secs_f64(secs).is_zero() {
        return Err(invalid());
    }
    Ok(secs)
}

/// A socket path: not empty.
fn socket_path(text: &str) -> Result<PathBuf, String> {
    if text.is_empty() {
        return Err("must be a non-empty path".to_owned());
    }
    Ok(PathBuf::from(text))
}

/// The arguments, with the one rule that depends on a value: `--addr
/// IP:PORT` already says the port.
fn args() -> Args {
    let matches = Args::command().get_matches();
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
    if args.addr.port.is_some() && matches.value_source("port") == Some(ValueSource::CommandLine) {
        Args::command()
            .error(
                ErrorKind::ArgumentConflict,
                "the argument '--port <N>' cannot be used with '--addr IP:PORT'",
            )
            .exit();
    }
    args
}

fn main() -> ExitCode {
    env_logger::init();
    match run(&args()) {
        Ok(summary) if summary.failed == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The name this server gives its listener when it hands it to a
/// successor or stores it with systemd, and looks for when it starts.
#[cfg(unix)]
const LISTENER_NAME: &str = "server";

fn run(args: &Args) -> anyhow::Result<Summary> {
    let mut exchange = Exchange::server();
    exchange
        .message(args.message.as_str())
        .timeout(Duration::from_secs_f64(args.timeout));
    let mut server = Server::new(exchange);
    server.max_clients(args.max_clients);
    if args.forever {
        server.forever();
        // Before any thread starts, so that every thread inherits it: only
        // the restart thread takes SIGHUP.
        #[cfg(unix)]
        restart::block_sighup();
    } else {
        server.clients(args.count);
    }
    // A listener handed over by the process this one replaces, or kept in
    // systemd's fd store across a restart.
    #[cfg(unix)]
    if !args.udp {
        if let Some(listener) = inherited()? {
            return serve_listener(&mut server, listener, None, args.forever);
        }
    }
    let mut builder = ListenerBuilder::new();
    builder.backlog(args.backlog);
    if let Some(path) = &args.unix {
        #[cfg(unix)]
        {
            // A socket file left by a server that was killed is replaced;
            // a live server's socket or any other file is not.
            let listener = builder.remove_stale_socket(true).listen_unix(path)?;
            eprintln!("listening on {}", path.display());
            return serve_listener(
                &mut server,
                Listener::Unix(listener),
                Some(path),
                args.forever,
            );
        }
        #[cfg(not(unix))]
        return Err(anyhow!(
            "--unix {}: Unix-domain sockets are not available on this platform",
            path.display()
        ));
    }
    // SO_REUSEADDR as the C tutorial means it: a restarted server can bind
    // while its old connections linger in TIME_WAIT. Windows allows that
    // without it, and there it would let another program bind the same
    // port, so it is left off.
    #[cfg(unix)]
    builder.reuse_address(!args.no_reuse);
    if args.reuse_port {
        #[cfg(unix)]
        builder.reuse_port(true);
        #[cfg(not(unix))]
        return Err(anyhow!(
            "--reuse-port: SO_REUSEPORT is not available on this platform"
        ));
    }
    if let Some(endpoint) = &args.listen {
        #[cfg(unix)]
        builder.remove_stale_socket(true);
        // SAFETY: the one `fd:N` this builder may listen on is the `--listen` of
        // this program's command line: a descriptor that whoever started the
        // program opened for it. The program adopts no descriptor anywhere else.
        unsafe { builder.allow_fd_endpoints(true) };
        let listener = builder.listen_endpoint(endpoint)?;
        let path = match endpoint {
            Endpoint::Unix(path) => Some(path.as_path()),
            _ => None,
        };
        return serve_listener(&mut server, listener, path, args.forever);
    }
    let addr = (args.addr.ip, args.addr.port.unwrap_or(args.port));
    if args.udp {
        let socket = builder.bind_udp(addr)?;
        eprintln!("listening on {}", socket.local_addr()?);
        notify_ready(None)?;
        Ok(server.serve_udp(&socket, report)?)
    } else {
        let listener = builder.listen(addr)?;
        serve_listener(&mut server, Listener::Tcp(listener), None, args.forever)
    }
}

/// The listeners passed under [`LISTENER_NAME`], if any: by a process this
/// one replaces, or by systemd from its fd store.
#[cfg(unix)]
fn inherited() -> anyhow::Result<Option<Listener>> {
    let fds = ListenFds::from_env()?;
    if !fds.fds().any(|f| f.name() == Some(LISTENER_NAME)) {
        return Ok(None);
    }
    let mut tcp = Vec::new();
    while let Ok(listener) = fds.listener(LISTENER_NAME) {
        match listener {
            Listener::Tcp(l) => tcp.push(l),
            Listener::TcpAll(all) => tcp.extend(all),
            #[cfg(unix)]
            unix => return Ok(Some(unix)),
        }
    }
    Ok(Some(if tcp.len() == 1 {
        Listener::Tcp(tcp.remove(0))
    } else {
        Listener::TcpAll(tcp)
    }))
}

/// Tells a service manager that started this program (`NOTIFY_SOCKET`)
/// that it is ready, after storing `listener` in its fd store; nothing
/// when none did.
fn notify_ready(listener: Option<&Listener>) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let notifier = Notifier::from_env()?;
        if let Some(listener) = listener.filter(|_| notifier.is_enabled()) {
            let fds: Vec<&dyn std::os::unix::io::AsFd> = match listener {
                Listener::Tcp(l) => vec![l],
                Listener::TcpAll(all) => all.iter().map(|l| l as _).collect(),
                Listener::Unix(l) => vec![l],
                _ => Vec::new(),
            };
            notifier.store(LISTENER_NAME, &fds)?;
        }
        notifier.ready()?;
    }
    #[cfg(not(unix))]
    let _ = listener;
    Ok(())
}

/// Serves a stream listener: TCP, a name's every address, or a Unix
/// socket, whose file `path` is removed at the end unless a successor took
/// it over. With `forever` on Unix, SIGHUP restarts the server (see the
/// top of this file).
fn serve_listener(
    server: &mut Server,
    listener: Listener,
    path: Option<&std::path::Path>,
    forever: bool,
) -> anyhow::Result<Summary> {
    if path.is_none() {
        for addr in listener.local_addrs()? {
            eprintln!("listening on {addr}");
        }
    }
    notify_ready(Some(&listener))?;
    let listener = std::sync::Arc::new(listener);
    #[cfg(unix)]
    let restarted = if forever {
        Some(restart::on_sighup(server, &listener)?)
    } else {
        None
    };
    #[cfg(not(unix))]
    let _ = forever;
    let served = match &*listener {
        Listener::Tcp(l) => server.serve_tcp(l, report),
        // A name with several addresses (`localhost:8080`): one thread
        // serves each; `--count N` counts per address.
        Listener::TcpAll(all) => serve_each(server, all),
        #[cfg(unix)]
        Listener::Unix(l) => server.serve_unix(l, report),
        _ => {
            return Err(anyhow!(
                "--listen: this kind of listener is not served here"
            ));
        }
    };
    #[cfg(unix)]
    let handed_over = restarted.is_some_and(|stop| stop.is_stopped());
    #[cfg(not(unix))]
    let handed_over = false;
    if let (Some(path), false) = (path, handed_over) {
        let _ = std::fs::remove_file(path);
    }
    Ok(served?)
}

/// Restarting on SIGHUP by a handover to a new process of this program.
#[cfg(unix)]
mod restart {
    use std::sync::Arc;

    use sockwright::Listener;
    use sockwright::hello::{Server, Stop};

    use super::{Handover, LISTENER_NAME};

    /// Blocks SIGHUP in this thread and the threads it starts, so that it
    /// stays pending until the restart thread takes it with `sigwait`.
    pub(super) fn block_sighup() {
        // SAFETY: sigemptyset, sigaddset and pthread_sigmask only touch the
        // signal set on this stack and this thread's mask.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGHUP);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
    }

    /// Waits for SIGHUP; then hands `listener` over to a new process of
    /// this program and, once it is ready, stops `server`. Returns the stop,
    /// which says afterwards whether the listener was handed over.
    pub(super) fn on_sighup(server: &mut Server, listener: &Arc<Listener>) -> anyhow::Result<Stop> {
        // A nonblocking listener: the accept loop waits in poll(2), which
        // the stop wakes, and never blocks in accept on a client that the
        // new process took first. The flag is the socket's, so the new
        // process sees it too; it serves either mode.
        listener.set_nonblocking(true)?;
        let stop = Stop::new()?;
        server.stop_on(&stop);
        let listener = Arc::clone(listener);
        let stopping = stop.clone();
        std::thread::Builder::new()
            .name("restart".to_owned())
            .spawn(move || {
                loop {
                    wait_for_sighup();
                    let mut handover = match Handover::restart() {
                        Ok(handover) => handover,
                        Err(e) => {
                            eprintln!("error: restart: {e}; still serving");
                            continue;
                        }
                    };
                    match &*listener {
                        Listener::Tcp(l) => handover.listener(LISTENER_NAME, l),
                        Listener::TcpAll(all) => {
                            for l in all {
                                handover.listener(LISTENER_NAME, l);
                            }
                            &mut handover
                        }
                        Listener::Unix(l) => handover.listener(LISTENER_NAME, l),
                        _ => &mut handover,
                    };
                    match handover.start() {
                        Ok(successor) => {
                            eprintln!(
                                "restarted: old pid {}, new pid {}",
                                std::process::id(),
                                successor.pid()
                            );
                            stopping.stop();
                            return;
                        }
                        Err(e) => eprintln!("error: restart: {e}; still serving"),
                    }
                }
            })?;
        Ok(stop)
    }

    /// `sigwait` for SIGHUP, blocked in every thread by [`block_sighup`].
    fn wait_for_sighup() {
        // SAFETY: as in `block_sighup`; sigwait writes the signal number
        // into `sig`.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGHUP);
            let mut sig = 0;
            while libc::sigwait(&set, &mut sig) != 0 {}
        }
    }
}

/// Serves every listener of a name on a thread of its own, and adds up
/// their summaries.
fn serve_each(
    server: &Server,
    all: &[std::net::TcpListener],
) -> Result<Summary, sockwright::Error> {
    std::thread::scope(|scope| {
        let threads: Vec<_> = all
            .iter()
            .map(|l| scope.spawn(move || server.serve_tcp(l, report)))
            .collect();
        let mut total: Option<Summary> = None;
        for thread in threads {
            let one = thread.join().expect("a serving thread panicked")?;
            match &mut total {
                None => total = Some(one),
                Some(total) => {
                    total.accepted += one.accepted;
                    total.succeeded += one.succeeded;
                    total.failed += one.failed;
                    total.accept_errors += one.accept_errors;
                }
            }
        }
        Ok(total.expect("a name's listeners are never none"))
    })
}

/// Prints one client's outcome: its message and `Hello message sent`, or an
/// error line.
fn report(outcome: Outcome) {
    match outcome.result {
        Ok(message) => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", String::from_utf8_lossy(&message));
            let _ = writeln!(out, "Hello message sent");
            let _ = out.flush();
        }
        Err(err) => eprintln!("error: {:#}", anyhow::Error::from(err)),
    }
}
