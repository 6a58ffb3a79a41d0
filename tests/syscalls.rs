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
//! std's debug builds check each descriptor with `fcntl(F_GETFD)` before
//! closing it, and tokio's check with `fcntl(F_GETFL)` that a socket handed
//! to `from_std` is nonblocking; release builds do neither, and those checks
//! are not counted.
//!
//! Pieces that use more than one thread (the Happy Eyeballs race is on one
//! thread, `hello::Server` is not) are read by socket instead: the calls
//! that any thread made on the descriptors the piece created.
//!
//! Skipped, with the reason printed, where strace is missing or cannot trace.
//!
//! A test program of its own: strace follows the whole traced process, so
//! the program run under it is this small one, whose start is short and
//! makes no call of another test.
#![cfg(target_os = "linux")]

mod util;

use std::env;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::thread;
use std::time::Duration;

use sockwright::hello::{CLIENT_GREETING, DEFAULT_TIMEOUT, Exchange, SERVER_GREETING, Server};
use sockwright::{ConnectorBuilder, Domain, Error, Keepalive, ListenerBuilder, Type};

const SCENARIO_VAR: &str = "SOCKWRIGHT_STRACE_SCENARIO";
const SCENARIOS: &[&str] = &[
    "listener",
    "invalid",
    "audit",
    "options",
    "race",
    "server",
    #[cfg(feature = "tokio")]
    "async",
];
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
    calls[1].expect("SOL_SOCKET, SO_REUSEADDR, [1]");
    calls[2].expect("SOL_SOCKET, SO_REUSEPORT, [1]");
    calls[4].expect(&format!(", {BACKLOG})"));
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
    compare("system calls per", &AUDIT, |label| trace.calls(label));
}

/// To a port a server listens on (below the ephemeral range): five calls,
/// where socket2's `connect_timeout` makes eight and a self-connect check
/// a ninth. No source port can be that port, so the local address is not
/// read back.
#[test]
fn connect_with_timeout_and_nodelay_makes_five_calls() {
    let Some(trace) = Trace::run("audit") else {
        return;
    };
    if let Some(why) = trace.skipped(NO_SERVER_PORT) {
        eprintln!("skipped: {why}");
        return;
    }
    let calls = trace.calls("connect-timeout-sockwright");
    assert_eq!(
        names(&calls),
        ["socket", "setsockopt", "connect", "poll", "ioctl"],
        "calls: {calls:#?}"
    );
    // Nonblocking from socket(2); one ioctl back to blocking; no SO_ERROR read.
    calls[0].expect("SOCK_NONBLOCK");
    calls[1].expect("TCP_NODELAY");
    calls[4].expect("FIONBIO, [0]");
    let hand = trace.calls("connect-timeout-hand");
    assert_eq!(
        names(&hand),
        [
            "socket",
            "setsockopt",
            "fcntl",
            "fcntl",
            "connect",
            "fcntl",
            "fcntl",
            "poll",
            "getsockname"
        ],
        "socket2's connect_timeout changed; update the comparison: {hand:#?}"
    );
}

/// To an ephemeral port, which the connect's own source port could be: a
/// sixth call, `getsockname`, checks that the socket did not connect to
/// itself.
#[test]
fn connect_to_an_ephemeral_port_checks_for_a_self_connect() {
    let Some(trace) = Trace::run("audit") else {
        return;
    };
    let calls = trace.calls("connect-timeout-ephemeral-sockwright");
    assert_eq!(
        names(&calls),
        [
            "socket",
            "setsockopt",
            "connect",
            "poll",
            "getsockname",
            "ioctl"
        ],
        "calls: {calls:#?}"
    );
}

/// From a source address of port 0: one `setsockopt` more than a plain
/// connect, `IP_BIND_ADDRESS_NO_PORT` before `bind`, so that the port is
/// picked at `connect`.
#[test]
fn a_source_bound_connect_defers_the_port_to_connect() {
    let Some(trace) = Trace::run("audit") else {
        return;
    };
    let calls = trace.calls("source-connect-sockwright");
    let mut expected = vec!["socket", "setsockopt", "bind", "connect"];
    if trace.skipped(NO_SERVER_PORT).is_some() {
        // An ephemeral port, which the source port could be: the self-connect check.
        expected.push("getsockname");
    }
    assert_eq!(names(&calls), expected, "calls: {calls:#?}");
    calls[1].expect("SOL_IP, IP_BIND_ADDRESS_NO_PORT, [1]");
    calls[2].expect("sin_port=htons(0)");
}

#[test]
fn nonblocking_sockets_are_nonblocking_from_socket() {
    let Some(trace) = Trace::run("audit") else {
        return;
    };
    let listener = trace.calls("nonblocking-listener-sockwright");
    assert_eq!(
        names(&listener),
        ["socket", "setsockopt", "bind", "listen"],
        "calls: {listener:#?}"
    );
    listener[0].expect("SOCK_NONBLOCK");
    // A nonblocking connector waits for its connect in poll(2) and stays
    // nonblocking; to an ephemeral port it also checks for a self-connect.
    let connector = trace.calls("nonblocking-connect-sockwright");
    let expected: &[&str] = match trace.skipped(NO_SERVER_PORT) {
        Some(_) => &["socket", "connect", "poll", "getsockname"],
        None => &["socket", "connect", "poll"],
    };
    assert_eq!(names(&connector), expected, "calls: {connector:#?}");
    connector[0].expect("SOCK_NONBLOCK");
}

/// A race of a black-holed `[::1]` and a live `127.0.0.1`: the IPv4 attempt
/// wins after one attempt delay, the IPv6 one loses. Each socket's calls,
/// and the readiness waits they share, against a race written by hand with
/// socket2 and `poll(2)`.
#[test]
fn happy_eyeballs_race_makes_no_more_calls_per_socket_than_hand_written() {
    let Some(trace) = Trace::run("race") else {
        return;
    };
    if trace.text.contains(NO_RACE) {
        eprintln!("skipped: this host has no IPv6 loopback (::1) to black-hole");
        return;
    }
    let ours = RaceCalls::read(&trace, "race-sockwright");
    let hand = RaceCalls::read(&trace, "race-hand");
    println!(
        "{:<24} {:<40} hand-written",
        "race of two addresses", "sockwright"
    );
    for (what, a, b) in [
        ("winner (127.0.0.1)", &ours.winner, &hand.winner),
        ("loser ([::1])", &ours.loser, &hand.loser),
        ("readiness waits", &ours.waits, &hand.waits),
    ] {
        println!("{what:<24} {:<40} {}", a.join(" "), b.join(" "));
        assert!(
            a.len() <= b.len(),
            "{what}: sockwright {a:?}, hand-written {b:?}"
        );
    }
    // The live listener is on a server's port where one is free: no
    // source port can be it, so the winner's local address is not read.
    let winner: &[&str] = match trace.skipped(NO_SERVER_PORT) {
        Some(_) => &["socket", "connect", "getsockname", "ioctl"],
        None => &["socket", "connect", "ioctl"],
    };
    assert_eq!(ours.winner, winner, "{ours:#?}");
    assert_eq!(ours.loser, ["socket", "connect", "close"], "{ours:#?}");
    assert_eq!(ours.waits, ["poll", "poll"], "{ours:#?}");
}

/// The calls `hello::Server` makes on an accepted stream, on whichever
/// thread, against a hand-written std thread-per-connection server.
#[test]
fn server_makes_no_more_calls_per_accepted_stream_than_hand_written() {
    let Some(trace) = Trace::run("server") else {
        return;
    };
    let ours = trace.accepted_stream_calls("server-sockwright");
    let hand = trace.accepted_stream_calls("server-hand");
    println!(
        "accepted stream: sockwright {:?}, hand-written {:?}",
        names(&ours),
        names(&hand)
    );
    // The server puts each accepted stream in nonblocking mode with one
    // ioctl and bounds it by its own timers, where the hand-written server
    // sets two socket timeouts; a greeting already there is answered on the
    // accepting thread.
    assert_eq!(
        names(&ours),
        ["accept4", "ioctl", "recvfrom", "sendto", "close"],
        "calls: {ours:#?}"
    );
    assert!(ours.len() <= hand.len(), "hand-written: {hand:#?}");
}

/// The async paths (the `tokio` feature) against the same work written by
/// hand with tokio, each on a current-thread runtime so that the reactor's
/// calls (`epoll_ctl` to register a socket, `epoll_wait` while a connect is
/// under way) are made on the measured thread and counted with the rest.
#[cfg(feature = "tokio")]
#[test]
fn async_paths_make_no_more_calls_than_hand_written_tokio() {
    let Some(trace) = Trace::run("async") else {
        return;
    };
    compare(
        "system calls per (tokio, current-thread)",
        &ASYNC_AUDIT,
        |label| trace.async_calls(label),
    );

    // The connect: nonblocking from socket(2), registered once, one wait,
    // its outcome read from SO_ERROR alone; the peer is not read back, and
    // to a server's port neither is the local address.
    let connect = trace.async_calls("async-connect-sockwright");
    let mut expected = vec![
        "socket",
        "setsockopt",
        "connect",
        "epoll_ctl",
        EPOLL_WAIT,
        "getsockopt",
    ];
    if trace.skipped(NO_SERVER_PORT).is_some() {
        // An ephemeral port, which the source port could be: the self-connect check.
        expected.push("getsockname");
    }
    assert_eq!(names(&connect), expected, "calls: {connect:#?}");
    connect[0].expect("SOCK_NONBLOCK");
    connect[1].expect("TCP_NODELAY");
    connect[2].expect("EINPROGRESS");
    connect[3].expect("EPOLL_CTL_ADD");
    connect[5].expect("SO_ERROR");

    // The listener: nonblocking from socket(2), no mode change after.
    let listener = trace.async_calls("async-listener-sockwright");
    assert_eq!(
        names(&listener),
        ["socket", "setsockopt", "bind", "listen", "epoll_ctl"],
        "calls: {listener:#?}"
    );
    listener[0].expect("SOCK_NONBLOCK");
    listener[1].expect("SO_REUSEADDR");
    listener[3].expect(", 128)");
}

/// The name under which strace shows tokio's readiness wait: glibc's
/// `epoll_wait` is the `epoll_pwait` system call where the kernel has no
/// plain `epoll_wait` (aarch64, riscv64).
#[cfg(feature = "tokio")]
const EPOLL_WAIT: &str = if cfg!(target_arch = "x86_64") || cfg!(target_arch = "x86") {
    "epoll_wait"
} else {
    "epoll_pwait"
};

/// The audited async pieces, as [`AUDIT`] lists the blocking ones.
#[cfg(feature = "tokio")]
const ASYNC_AUDIT: [(&str, &str, &str); 2] = [
    ("connect_async (timeout, nodelay)", "async-connect", "tokio"),
    (
        "listen_async (reuse-addr, backlog 128)",
        "async-listener",
        "tokio",
    ),
];

/// The audited pieces: what is counted, the scenario's label, and what the
/// hand-written variant uses.
const AUDIT: [(&str, &str, &str); 10] = [
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
    (
        "listener build (reuse-addr, nonblocking)",
        "nonblocking-listener",
        "socket2",
    ),
    ("connect", "connect", "std"),
    ("connect (timeout, nodelay)", "connect-timeout", "socket2"),
    (
        "connect (timeout, nodelay), to an ephemeral port",
        "connect-timeout-ephemeral",
        "socket2",
    ),
    ("connect (nonblocking)", "nonblocking-connect", "socket2"),
    (
        "connect from a source address of port 0",
        "source-connect",
        "socket2",
    ),
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

/// Prints each audited piece's counts, sockwright's against the
/// hand-written code's (`calls` reads a label's calls), and asserts that
/// sockwright makes no more and that both sides made some.
fn compare(title: &str, pieces: &[(&str, &str, &str)], calls: impl Fn(&str) -> Vec<Call>) {
    println!(
        "{title:<48} {:>10} {:>12}  {:<8} sockwright's calls",
        "sockwright", "hand-written", "with"
    );
    let mut worse = Vec::new();
    for (what, label, hand) in pieces {
        let ours = calls(&format!("{label}-sockwright"));
        let theirs = calls(&format!("{label}-hand"));
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
/// strace shows for their `setsockopt` calls, in order. Keepalive with its
/// parameters is one option but four calls: `SO_KEEPALIVE` once (it was set
/// twice, once by the table and once inside socket2's `set_tcp_keepalive`),
/// then each parameter.
const OPTION_BUILDS: [(&str, &[&str]); 4] = [
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
    (
        "options-connector-keepalive",
        &[
            "SO_KEEPALIVE",
            "TCP_KEEPIDLE",
            "TCP_KEEPINTVL",
            "TCP_KEEPCNT",
        ],
    ),
    ("options-connector-keepalive-default", &["SO_KEEPALIVE"]),
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
    let mut keepalive = ConnectorBuilder::new();
    keepalive.keepalive(
        Keepalive::new()
            .time(Duration::from_secs(60))
            .interval(Duration::from_secs(10))
            .retries(5),
    );
    let with_params = measure(
        "options-connector-keepalive",
        || (),
        |_| keepalive.connect(target).unwrap(),
    );
    let mut keepalive = ConnectorBuilder::new();
    keepalive.keepalive(Keepalive::new());
    let default = measure(
        "options-connector-keepalive-default",
        || (),
        |_| keepalive.connect(target).unwrap(),
    );
    drop((built, stream, with_params, default));
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
        "race" => race_scenario(),
        "server" => server_scenario(),
        #[cfg(feature = "tokio")]
        "async" => async_scenario(),
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

    // Connects, to listeners that queue them without accepting: one on a
    // port below the ephemeral range, as servers listen, and one on an
    // ephemeral port (`127.0.0.1:0`), which a connect's own source port
    // could be. The hand-written code does the same work as the builder:
    // after connecting, it reads the local address back (`getsockname`) to
    // catch a socket connected to itself, which std's connect does not check.
    let ephemeral = tutorial_listener();
    let server = util::listener_below_ephemeral_range().unwrap_or_else(|why| {
        println!("{NO_SERVER_PORT}: {why}");
        tutorial_listener()
    });
    let addr = server.local_addr().unwrap();
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
    for (label, addr) in [
        ("connect-timeout", addr),
        ("connect-timeout-ephemeral", ephemeral.local_addr().unwrap()),
    ] {
        drop(measure(
            &format!("{label}-sockwright"),
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
            &format!("{label}-hand"),
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
    }
    drop(measure(
        "nonblocking-connect-sockwright",
        || (),
        |()| {
            ConnectorBuilder::new()
                .nonblocking(true)
                .connect(addr)
                .unwrap()
        },
    ));
    drop(measure(
        "nonblocking-connect-hand",
        || (),
        |()| {
            use socket2::{Domain, Socket, Type};
            let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
            socket.connect(&addr.into()).unwrap();
            let local = socket.local_addr().unwrap().as_socket();
            assert_ne!(local, Some(addr), "connected to itself");
            socket.set_nonblocking(true).unwrap();
            TcpStream::from(socket)
        },
    ));
    // From a source address with port 0: the port is picked at connect
    // (IP_BIND_ADDRESS_NO_PORT before bind), by hand as by the builder.
    drop(measure(
        "source-connect-sockwright",
        || (),
        |()| {
            ConnectorBuilder::new()
                .local_address("127.0.0.1:0".parse().unwrap())
                .connect(addr)
                .unwrap()
        },
    ));
    drop(measure(
        "source-connect-hand",
        || (),
        |()| {
            use socket2::{Domain, Socket, Type};
            let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
            let on: libc::c_int = 1;
            // SAFETY: the descriptor is open for the borrow of `socket`; the
            // value is a live c_int whose size is passed with it.
            #[allow(unsafe_code)]
            let rc = unsafe {
                use std::os::fd::AsRawFd;
                libc::setsockopt(
                    socket.as_raw_fd(),
                    libc::IPPROTO_IP,
                    libc::IP_BIND_ADDRESS_NO_PORT,
                    (&on as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
            let source: SocketAddr = "127.0.0.1:0".parse().unwrap();
            socket.bind(&source.into()).unwrap();
            socket.connect(&addr.into()).unwrap();
            let local = socket.local_addr().unwrap().as_socket();
            assert_ne!(local, Some(addr), "connected to itself");
            TcpStream::from(socket)
        },
    ));
    drop((server, ephemeral));

    drop(measure(
        "nonblocking-listener-sockwright",
        || (),
        |()| {
            ListenerBuilder::new()
                .reuse_address(true)
                .nonblocking(true)
                .listen("127.0.0.1:0")
                .unwrap()
        },
    ));
    drop(measure(
        "nonblocking-listener-hand",
        || (),
        |()| {
            use socket2::{Domain, Socket, Type};
            let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
            socket.set_reuse_address(true).unwrap();
            let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
            socket.bind(&addr.into()).unwrap();
            socket.listen(128).unwrap();
            socket.set_nonblocking(true).unwrap();
            TcpListener::from(socket)
        },
    ));

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
                    "sockwright" => Exchange::server().run(conn).unwrap(),
                    _ => std_server(conn),
                },
            )
        });
        let reply = measure(
            &format!("exchange-client-{variant}"),
            || TcpStream::connect(addr).unwrap(),
            |stream| match variant {
                "sockwright" => Exchange::client().run(stream).unwrap(),
                _ => std_client(stream),
            },
        );
        assert_eq!(reply, SERVER_GREETING.as_bytes());
        assert_eq!(server.join().unwrap(), CLIENT_GREETING.as_bytes());
    }
}

/// Printed by the audit scenario, with the reason, where no port below the
/// ephemeral range is free to listen on: its connects then go to an
/// ephemeral port.
const NO_SERVER_PORT: &str = "no port below the ephemeral range to listen on";

/// Printed by the race scenario where there is no `[::1]` to black-hole.
const NO_RACE: &str = "/nonexistent/sockwright-no-ipv6-loopback";

/// The delay between the race's attempts: the RFC's floor, to keep the test short.
const RACE_DELAY: Duration = Duration::from_millis(10);

fn race_scenario() {
    if !util::has_ipv6_loopback() {
        mark("no-ipv6-loopback");
        let _ = std::fs::metadata(NO_RACE);
        return;
    }
    let hole = util::full_listener_at("[::1]:0", Duration::from_millis(200))
        .expect("no SYN dropped at a full accept queue on [::1]");
    let live = util::listener_below_ephemeral_range().unwrap_or_else(|why| {
        println!("{NO_SERVER_PORT}: {why}");
        TcpListener::bind("127.0.0.1:0").unwrap()
    });
    let targets = [hole.addr, live.local_addr().unwrap()];
    let stream = measure(
        "race-sockwright",
        || (),
        |()| {
            ConnectorBuilder::new()
                .connection_attempt_delay(RACE_DELAY)
                .connect(&targets[..])
                .unwrap()
        },
    );
    assert_eq!(stream.peer_addr().unwrap(), targets[1]);
    drop(stream);
    let stream = measure("race-hand", || (), |()| hand_race(&targets));
    assert_eq!(stream.peer_addr().unwrap(), targets[1]);
}

/// The async pieces, each run by `block_on` on a current-thread runtime
/// made before the markers. The hand-written code is what a tokio program
/// writes for the same job: `TcpSocket`, its options, a connect bounded by
/// `tokio::time::timeout`; a listener with the builder's backlog (128, where
/// `tokio::net::TcpListener::bind` takes 1024; the calls are the same).
#[cfg(feature = "tokio")]
fn async_scenario() {
    let rt = util::current_thread();
    let timeout = Duration::from_secs(5);
    // To an ephemeral port (no server's port free) the builder checks for
    // a self-connect; so does the hand-written code then, as in the
    // blocking audit.
    let (server, may_meet_itself) = match util::listener_below_ephemeral_range() {
        Ok(listener) => (listener, false),
        Err(why) => {
            println!("{NO_SERVER_PORT}: {why}");
            (tutorial_listener(), true)
        }
    };
    let addr = server.local_addr().unwrap();
    let stream = measure(
        "async-connect-sockwright",
        || (),
        |()| {
            rt.block_on(
                ConnectorBuilder::new()
                    .connect_timeout(timeout)
                    .nodelay(true)
                    .connect_async(addr),
            )
            .unwrap()
        },
    );
    assert_eq!(stream.peer_addr().unwrap(), addr);
    assert!(stream.nodelay().unwrap());
    drop(stream);
    let stream = measure(
        "async-connect-hand",
        || (),
        |()| {
            rt.block_on(async {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.set_nodelay(true).unwrap();
                let stream = tokio::time::timeout(timeout, socket.connect(addr))
                    .await
                    .expect("connect timed out")
                    .unwrap();
                if may_meet_itself {
                    assert_ne!(stream.local_addr().unwrap(), addr, "connected to itself");
                }
                stream
            })
        },
    );
    assert_eq!(stream.peer_addr().unwrap(), addr);
    drop((stream, server));

    let listener = measure(
        "async-listener-sockwright",
        || (),
        |()| {
            rt.block_on(
                ListenerBuilder::new()
                    .reuse_address(true)
                    .listen_async("127.0.0.1:0"),
            )
            .unwrap()
        },
    );
    assert_ne!(listener.local_addr().unwrap().port(), 0);
    drop(listener);
    let listener = measure(
        "async-listener-hand",
        || (),
        |()| {
            rt.block_on(async {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.set_reuseaddr(true).unwrap();
                socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
                socket.listen(128).unwrap()
            })
        },
    );
    assert_ne!(listener.local_addr().unwrap().port(), 0);
}

/// A race of two addresses written by hand with socket2 and `poll(2)`, as
/// careful code without a builder does it: each socket made nonblocking
/// with `set_nonblocking`, the winner's `SO_ERROR` checked, then blocking again.
fn hand_race(targets: &[SocketAddr; 2]) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let start = |addr: &SocketAddr| {
        let socket = Socket::new(Domain::for_address(*addr), Type::STREAM, None).unwrap();
        socket.set_nonblocking(true).unwrap();
        match socket.connect(&(*addr).into()) {
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => socket,
            other => panic!("nonblocking connect to {addr}: {other:?}"),
        }
    };
    let first = start(&targets[0]);
    assert_eq!(hand_poll(&[&first], RACE_DELAY), [false]);
    let second = start(&targets[1]);
    let ready = hand_poll(&[&first, &second], Duration::from_secs(5));
    assert_eq!(ready, [false, true]);
    assert!(second.take_error().unwrap().is_none());
    let local = second.local_addr().unwrap().as_socket();
    assert_ne!(local, Some(targets[1]), "connected to itself");
    drop(first);
    second.set_nonblocking(false).unwrap();
    TcpStream::from(second)
}

/// `poll(2)` for writability; which sockets are ready.
#[allow(unsafe_code)]
fn hand_poll(sockets: &[&socket2::Socket], wait: Duration) -> Vec<bool> {
    use std::os::fd::AsRawFd;
    let mut fds: Vec<libc::pollfd> = sockets
        .iter()
        .map(|s| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        })
        .collect();
    // SAFETY: `fds` holds `fds.len()` initialised structs, borrowed for the call.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as _, wait.as_millis() as i32) };
    assert!(rc >= 0, "poll: {}", std::io::Error::last_os_error());
    fds.iter().map(|fd| fd.revents != 0).collect()
}

fn server_scenario() {
    for variant in ["sockwright", "hand"] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = thread::spawn(move || {
            // Two connections: the warm-up and the measured one.
            for _ in 0..2 {
                let mut stream = TcpStream::connect(addr).unwrap();
                assert_eq!(std_client(&mut stream), SERVER_GREETING.as_bytes());
            }
        });
        measure(
            &format!("server-{variant}"),
            || (),
            |()| match variant {
                "sockwright" => {
                    let summary = Server::new(Exchange::server())
                        .clients(1)
                        .serve_tcp(&listener, |outcome| drop(outcome.result.unwrap()))
                        .unwrap();
                    assert_eq!(summary.succeeded, 1, "{summary:?}");
                }
                _ => {
                    let (mut conn, _) = listener.accept().unwrap();
                    let greeting = thread::spawn(move || std_server(&mut conn)).join().unwrap();
                    assert_eq!(greeting, CLIENT_GREETING.as_bytes());
                }
            },
        );
        client.join().unwrap();
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
    /// What the scenario printed.
    stdout: String,
}

/// A race's calls, by socket.
#[derive(Debug)]
struct RaceCalls {
    winner: Vec<String>,
    loser: Vec<String>,
    /// The readiness waits, which take both sockets.
    waits: Vec<String>,
}

impl RaceCalls {
    /// Sorts the race's calls by the socket they were made on: the first
    /// socket created is the `[::1]` attempt (the loser), the second the
    /// `127.0.0.1` one (the winner).
    fn read(trace: &Trace, label: &str) -> RaceCalls {
        let calls = trace.calls(label);
        let fds: Vec<String> = calls
            .iter()
            .filter(|c| c.name == "socket")
            .map(|c| c.result().to_owned())
            .collect();
        assert_eq!(fds.len(), 2, "{label}: expected two sockets: {calls:#?}");
        let mut race = RaceCalls {
            winner: Vec::new(),
            loser: Vec::new(),
            waits: Vec::new(),
        };
        for call in &calls {
            let list = if call.name == "poll" {
                &mut race.waits
            } else if call.name == "socket" {
                if call.result() == fds[0] {
                    &mut race.loser
                } else {
                    &mut race.winner
                }
            } else if call.first_arg() == fds[0] {
                &mut race.loser
            } else if call.first_arg() == fds[1] {
                &mut race.winner
            } else {
                panic!("{label}: a call on neither socket: {call:?}");
            };
            list.push(call.name.clone());
        }
        race
    }
}

impl Call {
    /// Fails the test, showing this call's line, unless the line contains
    /// `text`.
    #[track_caller]
    fn expect(&self, text: &str) {
        assert!(self.line.contains(text), "{}", self.line);
    }

    /// Whether this is the `fcntl(fd, F_GETFD)` with which std, in a debug
    /// build such as this test's, checks that a descriptor is open before
    /// closing it. A release build does not make it; it is left out of
    /// every count, for sockwright and hand-written code alike.
    fn is_debug_check(&self) -> bool {
        self.name == "fcntl" && self.line.contains(", F_GETFD")
    }

    /// What the call returned (`= N` at the end of the line), as written.
    fn result(&self) -> &str {
        self.line
            .rsplit_once(" = ")
            .map_or("", |(_, r)| r.split_whitespace().next().unwrap_or(""))
    }

    /// The call's first argument, as written.
    fn first_arg(&self) -> &str {
        let args = self.line.split_once('(').map_or("", |(_, a)| a);
        args.split([',', ')', ' ']).next().unwrap_or("")
    }
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
        let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "syscalls-{scenario}-{}-{}.strace",
            std::process::id(),
            {
                // Tests of one scenario run at once in this process.
                static RUNS: std::sync::atomic::AtomicUsize =
                    std::sync::atomic::AtomicUsize::new(0);
                RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            }
        ));
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
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        Some(Trace { text, stdout })
    }

    /// The reason the scenario printed for `marker` (a line `MARKER: why`),
    /// if it printed one.
    fn skipped(&self, marker: &str) -> Option<&str> {
        self.stdout
            .lines()
            .find_map(|line| line.strip_prefix(marker)?.strip_prefix(": "))
    }

    /// The calls that any thread made, between the markers of `label`, on
    /// the socket that the first `accept4` between them returned, starting
    /// with that `accept4`.
    fn accepted_stream_calls(&self, label: &str) -> Vec<Call> {
        let begin = format!("\"{}\"", marker_path("begin", label).display());
        let end = format!("\"{}\"", marker_path("end", label).display());
        let lines: Vec<(&str, &str)> = self
            .text
            .lines()
            .skip_while(|line| !line.contains(&begin))
            .take_while(|line| !line.contains(&end))
            .filter_map(|line| line.split_once(' '))
            .map(|(tid, rest)| (tid, rest.trim_start()))
            .collect();
        // The accepted descriptor: the result of the first accept4, on its
        // own line or on the line where a blocked accept4 resumed.
        let fd = lines
            .iter()
            .find(|(_, rest)| {
                (rest.starts_with("accept4(") || rest.starts_with("<... accept4 resumed>"))
                    && !rest.ends_with("<unfinished ...>")
            })
            .and_then(|(_, rest)| rest.rsplit_once(" = "))
            .map(|(_, fd)| fd.trim().to_owned())
            .unwrap_or_else(|| panic!("no accept4 between the markers of {label}"));
        let mut calls = Vec::new();
        for (_, rest) in lines {
            if rest.starts_with("<...") || rest.starts_with("---") || rest.starts_with("+++") {
                continue;
            }
            let call = Call {
                name: rest.split('(').next().unwrap_or_default().to_owned(),
                line: rest.to_owned(),
            };
            if call.is_debug_check() {
                continue;
            }
            let accepted = call.name == "accept4" && calls.is_empty();
            if accepted || (!calls.is_empty() && call.first_arg() == fd) {
                calls.push(call);
            }
        }
        calls
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
            let call = Call {
                name,
                line: rest.to_owned(),
            };
            if !call.is_debug_check() {
                calls.push(call);
            }
        }
        panic!("no end marker for {label} in the trace");
    }
}

/// Leaves out the `fcntl(fd, F_GETFL)` with which tokio, in a debug build
/// such as this test's, checks that a socket given to its `from_std` is
/// nonblocking: the one right before that socket's registration
/// (`epoll_ctl(.., EPOLL_CTL_ADD, fd, ..)`). A release build does not make
/// it. An `F_GETFL` of any other kind (the first half of socket2's
/// `set_nonblocking`, followed by `F_SETFL`) is counted.
#[cfg(feature = "tokio")]
fn without_tokio_debug_checks(calls: Vec<Call>) -> Vec<Call> {
    let checks: Vec<usize> = calls
        .windows(2)
        .enumerate()
        .filter(|(_, pair)| {
            let fd = pair[0].first_arg();
            pair[0].name == "fcntl"
                && pair[0].line.contains(", F_GETFL")
                && pair[1].name == "epoll_ctl"
                && pair[1].line.contains(&format!(", EPOLL_CTL_ADD, {fd}, "))
        })
        .map(|(i, _)| i)
        .collect();
    calls
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !checks.contains(i))
        .map(|(_, call)| call)
        .collect()
}

impl Trace {
    /// [`calls`](Self::calls) of an async piece, without tokio's debug-build
    /// checks (see [`without_tokio_debug_checks`]).
    #[cfg(feature = "tokio")]
    fn async_calls(&self, label: &str) -> Vec<Call> {
        without_tokio_debug_checks(self.calls(label))
    }
}
