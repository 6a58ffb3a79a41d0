//! System-call audit with strace: a listener build makes exactly the C
//! tutorial's calls, an invalid configuration makes none, and no build,
//! connect or exchange makes more calls than the same work written by hand
//! with socket2 or std.
//!
//! Each check runs this test binary again under `strace -f`, with
//! `SOCKWRIGHT_STRACE_SCENARIO` naming the scenario that the [`scenario`]
//! test then runs. A scenario brackets each piece of code it measures with
//! two marker calls, a `stat` of a path under `/nonexistent` that names the
//! piece, and the check reads the calls that the same thread made between
//! the two. Each piece runs once untraced first, so one-time work (the
//! allocator's first pages, std's probe for `statx`) stays out of the count.
//!
//! Skipped, with the reason printed, where strace is missing or cannot trace.
#![cfg(target_os = "linux")]

use std::env;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::thread;
use std::time::Duration;

use sockwright::hello::{Exchange, CLIENT_GREETING, DEFAULT_TIMEOUT, SERVER_GREETING};
use sockwright::{ConnectorBuilder, Domain, Error, ListenerBuilder, Type};

const SCENARIO_VAR: &str = "SOCKWRIGHT_STRACE_SCENARIO";
const SCENARIOS: [&str; 4] = ["listener", "invalid", "audit", "options"];
const BACKLOG: u32 = 64;
const GREETING_LEN: usize = CLIENT_GREETING.len();

// ---------------------------------------------------------------------------
// The checks

#[test]
fn listener_build_makes_exactly_the_tutorial_calls() {
    let Some(trace) = Trace::run("listener") else {
        return;
    };
    let calls = trace.calls("listener-sockwright");
    let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["socket", "setsockopt", "setsockopt", "bind", "listen"],
        "calls: {calls:#?}"
    );
    // Two options, two calls: not SO_REUSEADDR | SO_REUSEPORT as one name.
    assert!(
        calls[1].line.contains("SOL_SOCKET, SO_REUSEADDR, [1]"),
        "{}",
        calls[1].line
    );
    assert!(
        calls[2].line.contains("SOL_SOCKET, SO_REUSEPORT, [1]"),
        "{}",
        calls[2].line
    );
    assert!(
        calls[4].line.contains(&format!(", {BACKLOG})")),
        "{}",
        calls[4].line
    );
}

#[test]
fn invalid_configurations_make_no_system_call() {
    let Some(trace) = Trace::run("invalid") else {
        return;
    };
    for (label, _) in invalid_configurations() {
        let calls = trace.calls(label);
        assert!(calls.is_empty(), "{label} made system calls: {calls:#?}");
    }
}

#[test]
fn sockwright_makes_no_more_calls_than_hand_written_code() {
    let Some(trace) = Trace::run("audit") else {
        return;
    };
    println!(
        "{:<48} {:>10} {:>12}  {:<8} sockwright's calls",
        "system calls per", "sockwright", "hand-written", "with"
    );
    let mut worse = Vec::new();
    for (what, label, hand) in AUDIT {
        let ours = trace.calls(&format!("{label}-sockwright"));
        let theirs = trace.calls(&format!("{label}-hand"));
        println!(
            "{what:<48} {:>10} {:>12}  {hand:<8} {}",
            ours.len(),
            theirs.len(),
            names(&ours).join(" ")
        );
        if ours.len() > theirs.len() {
            worse.push(format!(
                "{what}: sockwright {:?}, hand-written {:?}",
                names(&ours),
                names(&theirs)
            ));
        }
        // Both sides did the work: a piece with no call at all measured nothing.
        assert!(
            !ours.is_empty() && !theirs.is_empty(),
            "{what}: no calls traced"
        );
    }
    assert!(worse.is_empty(), "sockwright makes more calls: {worse:#?}");
}

/// The audited pieces: what is counted, the scenario's label, and what the
/// hand-written variant uses.
const AUDIT: [(&str, &str, &str); 6] = [
    (
        "listener build (reuse-addr, reuse-port, backlog)",
        "listener",
        "socket2",
    ),
    (
        "listener build (reuse-addr, as std sets)",
        "std-listener",
        "std",
    ),
    ("connect", "connect", "std"),
    ("connect (timeout, nodelay)", "connect-timeout", "socket2"),
    (
        "exchange, client side (5 s timeouts)",
        "exchange-client",
        "std",
    ),
    (
        "exchange, server side (5 s timeouts)",
        "exchange-server",
        "std",
    ),
];

fn names(calls: &[Call]) -> Vec<&str> {
    calls.iter().map(|c| c.name.as_str()).collect()
}

/// Each option asked for is one `setsockopt` naming it, in the option
/// table's order, and an option not asked for is no call at all.
#[test]
fn one_setsockopt_per_option_asked_for() {
    let Some(trace) = Trace::run("options") else {
        return;
    };
    let plain = trace.calls("options-none");
    assert_eq!(names(&plain), ["socket", "bind", "listen"], "{plain:#?}");
    for (label, want) in OPTION_BUILDS {
        let calls = trace.calls(label);
        let set: Vec<&Call> = calls.iter().filter(|c| c.name == "setsockopt").collect();
        let shown: Vec<&str> = set.iter().map(|c| c.line.as_str()).collect();
        assert_eq!(set.len(), want.len(), "{label}: {shown:#?}");
        for (call, option) in set.iter().zip(want.iter()) {
            assert!(
                call.line.contains(&format!(", {option}, ")),
                "{label}: expected {option} in {}",
                call.line
            );
        }
        let rest: Vec<&str> = names(&calls)
            .into_iter()
            .filter(|n| *n != "setsockopt")
            .collect();
        let expected: &[&str] = if label.starts_with("options-listener") {
            &["socket", "bind", "listen"]
        } else {
            // `getsockname`: the check that the socket did not connect to itself.
            &["socket", "connect", "getsockname"]
        };
        assert_eq!(rest, expected, "{label}: {calls:#?}");
    }
}

/// The option builds the `options` scenario makes, with the option names
/// strace shows for their `setsockopt` calls, in order.
const OPTION_BUILDS: [(&str, &[&str]); 2] = [
    (
        "options-listener",
        &[
            "IP_TOS",
            "TCP_NODELAY",
            "TCP_USER_TIMEOUT",
            "TCP_CONGESTION",
            "TCP_NOTSENT_LOWAT",
            "TCP_FASTOPEN",
            "TCP_DEFER_ACCEPT",
            "SO_INCOMING_CPU",
        ],
    ),
    (
        "options-connector",
        &[
            "IP_TOS",
            "TCP_NODELAY",
            "TCP_USER_TIMEOUT",
            "TCP_FASTOPEN_CONNECT",
        ],
    ),
];

fn options_scenario() {
    let plain = measure(
        "options-none",
        || (),
        |_| ListenerBuilder::new().listen("127.0.0.1:0").unwrap(),
    );
    let mut listener = ListenerBuilder::new();
    listener
        .cpu_affinity(0)
        .tcp_defer_accept(Duration::from_secs(1))
        .tcp_fastopen(8)
        .tcp_notsent_lowat(4096)
        .tcp_congestion("reno")
        .tcp_user_timeout(Duration::from_secs(5))
        .nodelay(true)
        .tos(0x28);
    let built = measure(
        "options-listener",
        || (),
        |_| listener.listen("127.0.0.1:0").unwrap(),
    );
    let mut connector = ConnectorBuilder::new();
    connector
        .tcp_fastopen_connect(true)
        .tcp_user_timeout(Duration::from_secs(5))
        .nodelay(true)
        .tos(0x28);
    let target = plain.local_addr().unwrap();
    let stream = measure(
        "options-connector",
        || (),
        |_| connector.connect(target).unwrap(),
    );
    drop((built, stream));
}

// ---------------------------------------------------------------------------
// The scenarios

/// Runs the scenario named by `SOCKWRIGHT_STRACE_SCENARIO` (for a check that
/// traces it) or, when none is named, every scenario untraced, which shows
/// that each runs to the end with the results it expects.
#[test]
fn scenario() {
    match env::var(SCENARIO_VAR) {
        Ok(name) => run_scenario(&name),
        Err(_) => SCENARIOS.iter().for_each(|name| run_scenario(name)),
    }
}

fn run_scenario(name: &str) {
    // std probes for statx at its first failed stat; get that done here.
    mark("warm-up");
    match name {
        "listener" => listener_scenario(),
        "invalid" => invalid_scenario(),
        "audit" => audit_scenario(),
        "options" => options_scenario(),
        other => panic!("unknown scenario {other:?}"),
    }
}

fn listener_scenario() {
    let listener = measure("listener-sockwright", || (), |()| tutorial_listener());
    assert!(listener.local_addr().unwrap().port() != 0);
}

fn tutorial_listener() -> TcpListener {
    ListenerBuilder::new()
        .reuse_address(true)
        .reuse_port(true)
        .backlog(BACKLOG)
        .listen("127.0.0.1:0")
        .expect("listener")
}

type Invalid = fn() -> Result<(), Error>;

/// Configurations that cannot work, each with its label.
fn invalid_configurations() -> [(&'static str, Invalid); 4] {
    [
        ("invalid-ipv4-on-ipv6-domain", || {
            ListenerBuilder::new()
                .domain(Domain::Ipv6)
                .listen("127.0.0.1:0")
                .map(drop)
        }),
        ("invalid-listen-on-datagram", || {
            ListenerBuilder::new()
                .socket_type(Type::Datagram)
                .listen("127.0.0.1:0")
                .map(drop)
        }),
        ("invalid-backlog", || {
            ListenerBuilder::new()
                .backlog(u32::MAX)
                .listen("127.0.0.1:0")
                .map(drop)
        }),
        ("invalid-zero-connect-timeout", || {
            ConnectorBuilder::new()
                .connect_timeout(Duration::ZERO)
                .connect("127.0.0.1:9")
                .map(drop)
        }),
    ]
}

fn invalid_scenario() {
    for (label, build) in invalid_configurations() {
        let result = measure(label, || (), |()| build());
        match result {
            Err(Error::InvalidConfig { .. }) => {}
            other => panic!("{label}: expected an invalid-configuration error, got {other:?}"),
        }
    }
}

fn audit_scenario() {
    let backlog = BACKLOG;
    // Listener builds.
    drop(measure(
        "listener-sockwright",
        || (),
        |()| tutorial_listener(),
    ));
    drop(measure(
        "listener-hand",
        || (),
        |()| {
            use socket2::{Domain, Socket, Type};
            let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
            socket.set_reuse_address(true).unwrap();
            socket.set_reuse_port(true).unwrap();
            let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
            socket.bind(&addr.into()).unwrap();
            socket.listen(backlog as i32).unwrap();
            TcpListener::from(socket)
        },
    ));
    drop(measure(
        "std-listener-sockwright",
        || (),
        |()| {
            ListenerBuilder::new()
                .reuse_address(true)
                .listen("127.0.0.1:0")
                .unwrap()
        },
    ));
    drop(measure(
        "std-listener-hand",
        || (),
        |()| TcpListener::bind("127.0.0.1:0").unwrap(),
    ));

    // Connects, to a listener that queues them without accepting. The
    // hand-written code does the same work as the builder: after connecting,
    // it reads the local address back (`getsockname`) to catch a socket
    // connected to itself, which std's connect does not check.
    let target = tutorial_listener();
    let addr = target.local_addr().unwrap();
    drop(measure(
        "connect-sockwright",
        || (),
        |()| ConnectorBuilder::new().connect(addr).unwrap(),
    ));
    drop(measure(
        "connect-hand",
        || (),
        |()| {
            let stream = TcpStream::connect(addr).unwrap();
            assert_ne!(stream.local_addr().unwrap(), addr, "connected to itself");
            stream
        },
    ));
    let timeout = Duration::from_secs(5);
    drop(measure(
        "connect-timeout-sockwright",
        || (),
        |()| {
            ConnectorBuilder::new()
                .connect_timeout(timeout)
                .nodelay(true)
                .connect(addr)
                .unwrap()
        },
    ));
    drop(measure(
        "connect-timeout-hand",
        || (),
        |()| {
            use socket2::{Domain, Socket, Type};
            let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
            socket.set_tcp_nodelay(true).unwrap();
            socket.connect_timeout(&addr.into(), timeout).unwrap();
            let local = socket.local_addr().unwrap().as_socket();
            assert_ne!(local, Some(addr), "connected to itself");
            TcpStream::from(socket)
        },
    ));
    drop(target);

    // Exchanges: each side measured on its own thread; each piece runs
    // twice (warm-up, then measured), so two connections per variant.
    for variant in ["sockwright", "hand"] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server_label = format!("exchange-server-{variant}");
        let server = thread::spawn(move || {
            measure(
                &server_label,
                || listener.accept().unwrap().0,
                |conn| match variant {
                    "sockwright" => Exchange::server().run_tcp(conn).unwrap(),
                    _ => std_server(conn),
                },
            )
        });
        let reply = measure(
            &format!("exchange-client-{variant}"),
            || TcpStream::connect(addr).unwrap(),
            |stream| match variant {
                "sockwright" => Exchange::client().run_tcp(stream).unwrap(),
                _ => std_client(stream),
            },
        );
        assert_eq!(reply, SERVER_GREETING.as_bytes());
        assert_eq!(server.join().unwrap(), CLIENT_GREETING.as_bytes());
    }
}

/// The client side written by hand with std, with `Exchange`'s timeouts.
fn std_client(stream: &mut TcpStream) -> Vec<u8> {
    stream.set_read_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
    stream.write_all(CLIENT_GREETING.as_bytes()).unwrap();
    let mut reply = vec![0; GREETING_LEN];
    stream.read_exact(&mut reply).unwrap();
    reply
}

/// The server side written by hand with std, with `Exchange`'s timeouts.
fn std_server(stream: &mut TcpStream) -> Vec<u8> {
    stream.set_read_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(DEFAULT_TIMEOUT)).unwrap();
    let mut greeting = vec![0; GREETING_LEN];
    stream.read_exact(&mut greeting).unwrap();
    stream.write_all(SERVER_GREETING.as_bytes()).unwrap();
    greeting
}

/// Runs `prepare` then `piece` once untraced (a warm-up), then again with
/// `piece` between the begin and end markers of `label`. Returns the
/// measured piece's result; what it holds is dropped by the caller, after
/// the end marker.
fn measure<S, T>(
    label: &str,
    mut prepare: impl FnMut() -> S,
    mut piece: impl FnMut(&mut S) -> T,
) -> T {
    let mut state = prepare();
    drop(piece(&mut state));
    drop(state);
    let (begin, end) = (marker_path("begin", label), marker_path("end", label));
    let mut state = prepare();
    let _ = std::fs::metadata(&begin);
    let value = piece(&mut state);
    let _ = std::fs::metadata(&end);
    value
}

fn mark(label: &str) {
    let _ = std::fs::metadata(marker_path("mark", label));
}

fn marker_path(edge: &str, label: &str) -> PathBuf {
    PathBuf::from(format!("/nonexistent/sockwright-{edge}-{label}"))
}

// ---------------------------------------------------------------------------
// Running strace and reading its output

/// One system call from the trace: its name and the whole line.
#[derive(Debug)]
struct Call {
    name: String,
    line: String,
}

/// The output of `strace -f` over one scenario.
struct Trace {
    text: String,
}

impl Trace {
    /// Runs `scenario` under strace; `None`, with the reason printed, where
    /// strace is missing or cannot trace on this machine.
    fn run(scenario: &str) -> Option<Trace> {
        match Command::new("strace")
            .args(["-f", "-o", "/dev/null", "true"])
            .output()
        {
            Err(e) => {
                eprintln!("skipped: strace cannot be run ({e}); install strace to run this check");
                return None;
            }
            Ok(out) if !out.status.success() => {
                eprintln!(
                    "skipped: strace cannot trace here ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                return None;
            }
            Ok(_) => {}
        }
        let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("syscalls-{scenario}-{}.strace", std::process::id()));
        let exe = env::current_exe().expect("test binary path");
        let out = Command::new("strace")
            .args(["-f", "-qq", "-o"])
            .arg(&file)
            .arg(exe)
            .args(["--exact", "scenario", "--nocapture", "--test-threads=1"])
            .env(SCENARIO_VAR, scenario)
            .output()
            .expect("run strace");
        assert!(
            out.status.success(),
            "scenario {scenario} failed under strace ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&file).expect("read the strace output");
        let _ = std::fs::remove_file(&file);
        Some(Trace { text })
    }

    /// The calls made between the markers of `label`, by the thread that
    /// made them (other threads' calls in between are left out).
    fn calls(&self, label: &str) -> Vec<Call> {
        let begin = marker_path("begin", label);
        let end = marker_path("end", label);
        let (begin, end) = (
            format!("\"{}\"", begin.display()),
            format!("\"{}\"", end.display()),
        );
        let mut lines = self.text.lines();
        let tid = lines
            .by_ref()
            .find(|line| line.contains(&begin))
            .and_then(|line| line.split_whitespace().next())
            .unwrap_or_else(|| panic!("no begin marker for {label} in the trace"))
            .to_owned();
        let mut calls = Vec::new();
        for line in lines {
            let Some((line_tid, rest)) = line.split_once(' ') else {
                continue;
            };
            if line_tid != tid {
                continue;
            }
            let rest = rest.trim_start();
            if rest.contains(&end) {
                return calls;
            }
            // A blocking call shows as `name(... <unfinished ...>` then
            // `<... name resumed>`: count the first line only. Signals and
            // exits are not calls.
            if rest.starts_with("<...") || rest.starts_with("---") || rest.starts_with("+++") {
                continue;
            }
            let name = rest.split('(').next().unwrap_or_default().to_owned();
            calls.push(Call {
                name,
                line: rest.to_owned(),
            });
        }
        panic!("no end marker for {label} in the trace");
    }
}
