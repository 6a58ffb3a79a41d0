//! The example binaries as a user runs them: `--help`, the command lines
//! they refuse (exit status 2) and the spellings they take, the one-command demo,
//! a client with no server, exchanges over TCP, UDP and Unix streams,
//! misbehaving peers, and the `--forever` server under load.

use std::net::SocketAddr;
use std::process::Command;

use crate::util::hello::{CLIENT_OUTPUT, Running, SERVER_OUTPUT, run};
use socket2::{Domain, Socket, Type};

/// Runs an example with `args`, without any `RUST_LOG` from the caller.
fn example_command(name: &str, args: &[&str]) -> Command {
    let mut command = Command::new(crate::util::example_binary(name));
    command.args(args).env_remove("RUST_LOG");
    command
}

/// The example server on an ephemeral loopback port, with `args` added.
fn start_server(args: &[&str]) -> (Running, SocketAddr) {
    let mut all = vec!["--addr", "127.0.0.1", "--port", "0"];
    all.extend_from_slice(args);
    let mut server = Running::start(&mut example_command("server", &all));
    let addr = server.listening_addr().parse().expect("listening address");
    (server, addr)
}

/// The options each example's `--help` lists, with the defaults it shows.
const HELP: [(&str, &[&str]); 5] = [
    (
        "server",
        &[
            "--addr <IP[:PORT]>",
            "[default: 0.0.0.0]",
            "--port <N>",
            "[default: 8080]",
            "--message <TEXT>",
            "[default: \"Hello from server\"]",
            "--backlog <N>",
            "[default: 3]",
            "--count <N>",
            "[default: 1]",
            "--forever",
            "--max-clients <N>",
            "[default: 16384]",
            "--timeout <SECS>",
            "[default: 5]",
            "--reuse-port",
            "--no-reuse",
            "--udp",
            "--unix <PATH>",
            "--listen <ENDPOINT>",
            "-h, --help",
        ],
    ),
    (
        "client",
        &[
            "--addr <HOST[:PORT]>",
            "[default: 127.0.0.1]",
            "--port <N>",
            "[default: 8080]",
            "--message <TEXT>",
            "[default: \"Hello from client\"]",
            "--bind <IP[:PORT]>",
            "--timeout <SECS>",
            "[default: 5]",
            "--udp",
            "--unix <PATH>",
            "-h, --help",
        ],
    ),
    ("hello", &["-h, --help"]),
    ("happy_eyeballs", &["[HOST:PORT]", "-h, --help"]),
    ("unix_server", &["[PATH]", "-h, --help"]),
];

#[test]
fn help_of_each_example_lists_every_option() {
    for (name, options) in HELP {
        // `--help` wins wherever it is an option, even beside an unknown one.
        for args in [&["--help"][..], &["-h"], &["--help", "--bogus"]] {
            let out = run(&mut example_command(name, args));
            assert!(out.status.success(), "{name} {args:?}: {out:?}");
            assert_eq!(out.stderr, "", "{name} {args:?}");
            assert!(
                out.stdout.contains(&format!("\nUsage: {name}")),
                "{name} {args:?}: {out:?}"
            );
            for option in options {
                assert!(
                    out.stdout.contains(option),
                    "{name} {args:?} lacks {option}: {}",
                    out.stdout
                );
            }
        }
    }
    for name in ["server", "client"] {
        let out = run(&mut example_command(name, &["--port", "1", "--help"]));
        assert!(out.status.success(), "{name}: {out:?}");
        assert!(out.stdout.contains("--port <N>"), "{name}: {out:?}");
    }
}

/// Runs `name` with `args`, which must be refused: exit status 2, nothing
/// on stdout, and an `error: ` first line on stderr, which is returned.
fn refused(name: &str, args: &[&str]) -> String {
    let out = run(&mut example_command(name, args));
    assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {out:?}");
    assert_eq!(out.stdout, "", "{name} {args:?}");
    let first = out.stderr.lines().next().unwrap_or_default().to_owned();
    assert!(first.starts_with("error: "), "{name} {args:?}: {out:?}");
    first
}

#[test]
fn combinations_that_cannot_work_are_refused_naming_both_flags() {
    let cases: &[(&str, &[&str], &str, &str)] = &[
        ("server", &["--udp", "--unix", "/tmp/s"], "--udp", "--unix"),
        (
            "server",
            &["--count", "2", "--forever"],
            "--count",
            "--forever",
        ),
        (
            "server",
            &["--reuse-port", "--no-reuse"],
            "--reuse-port",
            "--no-reuse",
        ),
        (
            "server",
            &["--unix", "/tmp/s", "--addr", "::1"],
            "--unix",
            "--addr",
        ),
        (
            "server",
            &["--unix", "/tmp/s", "--port", "1"],
            "--unix",
            "--port",
        ),
        (
            "server",
            &["--unix", "/tmp/s", "--no-reuse"],
            "--unix",
            "--no-reuse",
        ),
        (
            "server",
            &["--unix", "/tmp/s", "--reuse-port"],
            "--unix",
            "--reuse-port",
        ),
        ("server", &["--udp", "--backlog", "5"], "--udp", "--backlog"),
        (
            "server",
            &["--udp", "--max-clients", "5"],
            "--udp",
            "--max-clients",
        ),
        (
            "server",
            &["--listen", "sd-listen", "--addr", "::1"],
            "--listen",
            "--addr",
        ),
        (
            "server",
            &["--listen", "sd-listen", "--port", "1"],
            "--listen",
            "--port",
        ),
        (
            "server",
            &["--listen", "sd-listen", "--udp"],
            "--listen",
            "--udp",
        ),
        (
            "server",
            &["--listen", "sd-listen", "--unix", "/x"],
            "--listen",
            "--unix",
        ),
        (
            "server",
            &["--addr", "127.0.0.1:80", "--port", "81"],
            "--addr",
            "--port",
        ),
        (
            "server",
            &["--addr", "[::1]:80", "--port", "81"],
            "--addr",
            "--port",
        ),
        ("client", &["--udp", "--unix", "/tmp/s"], "--udp", "--unix"),
        (
            "client",
            &["--unix", "/tmp/s", "--addr", "::1"],
            "--unix",
            "--addr",
        ),
        (
            "client",
            &["--unix", "/tmp/s", "--port", "1"],
            "--unix",
            "--port",
        ),
        (
            "client",
            &["--unix", "/tmp/s", "--bind", "127.0.0.1"],
            "--unix",
            "--bind",
        ),
        (
            "client",
            &["--addr", "localhost:80", "--port", "81"],
            "--addr",
            "--port",
        ),
        (
            "client",
            &["--addr", "[::1]:443", "--port", "81"],
            "--addr",
            "--port",
        ),
    ];
    for (name, args, one, other) in cases {
        let error = refused(name, args);
        assert!(
            error.contains("cannot be used with")
                && error.contains(&format!("'{one}"))
                && error.contains(&format!("'{other}")),
            "{name} {args:?}: {error}"
        );
    }
}

#[test]
fn bad_values_are_refused_naming_the_flag() {
    let long = "x".repeat(1025);
    let mut cases: Vec<(&str, Vec<&str>, &str, &str)> = vec![
        (
            "server",
            vec!["--port", "70000"],
            "--port",
            "not in 0..=65535",
        ),
        (
            "server",
            vec!["--port", "65536"],
            "--port",
            "not in 0..=65535",
        ),
        ("server", vec!["--port", "-1"], "--port", "not in 0..=65535"),
        ("server", vec!["--port"], "--port", "a value is required"),
        (
            "server",
            vec!["--backlog", "2147483648"],
            "--backlog",
            "not in 0..=2147483647",
        ),
        ("server", vec!["--count", "0"], "--count", "0 is not in 1.."),
        (
            "server",
            vec!["--max-clients", "0"],
            "--max-clients",
            "not in 1..=4294967295",
        ),
        (
            "server",
            vec!["--message="],
            "--message",
            "must be 1 to 1024 bytes, not 0",
        ),
        (
            "server",
            vec!["--message", &long],
            "--message",
            "must be 1 to 1024 bytes, not 1025",
        ),
        (
            "server",
            vec!["--addr", "localhost"],
            "--addr",
            "not an IPv4 or IPv6 address",
        ),
        (
            "server",
            vec!["--listen", "localhost"],
            "--listen",
            "missing port",
        ),
        (
            "server",
            vec!["--listen", "unix:"],
            "--listen",
            "invalid endpoint",
        ),
        ("server", vec!["--unix="], "--unix", "non-empty path"),
        (
            "server",
            vec!["--forever=yes"],
            "--forever",
            "unexpected value 'yes'",
        ),
        (
            "server",
            vec!["--port", "1", "--port", "2"],
            "--port",
            "cannot be used multiple times",
        ),
        (
            "server",
            vec!["--listen", "fd:3", "--listen", "fd:4"],
            "--listen",
            "multiple times",
        ),
        ("server", vec!["--bogus"], "--bogus", "unexpected argument"),
        ("server", vec!["extra"], "extra", "unexpected argument"),
        ("client", vec!["--port", "0"], "--port", "not in 1..=65535"),
        (
            "client",
            vec!["--bind", "1.2.3"],
            "--bind",
            "not IP or IP:PORT",
        ),
        (
            "client",
            vec!["--addr", "two words"],
            "--addr",
            "not HOST or HOST:PORT",
        ),
        ("client", vec!["--unix="], "--unix", "non-empty path"),
        (
            "client",
            vec!["--listen", "sd-listen"],
            "--listen",
            "unexpected argument",
        ),
        (
            "hello",
            vec!["--port", "1"],
            "--port",
            "unexpected argument",
        ),
        ("hello", vec!["--help=1"], "--help", "unexpected value '1'"),
        (
            "happy_eyeballs",
            vec!["a:1", "b:2"],
            "b:2",
            "unexpected argument",
        ),
        (
            "unix_server",
            vec!["--bogus"],
            "--bogus",
            "unexpected argument",
        ),
    ];
    for timeout in ["0", "-1", "nan", "inf", "1e300", "86401", "1e-12", "soon"] {
        for name in ["server", "client"] {
            cases.push((
                name,
                vec!["--timeout", timeout],
                "--timeout",
                "must be a number of seconds",
            ));
        }
    }
    for addr in [
        "host:",
        "host:port",
        "host:0",
        "host:65536",
        "[::1]",
        "::1:x:",
    ] {
        cases.push((
            "client",
            vec!["--addr", addr],
            "--addr",
            "not HOST or HOST:PORT",
        ));
    }
    for (name, args, flag, reason) in &cases {
        let error = refused(name, args);
        assert!(
            error.contains(&format!("'{flag}")) && error.contains(reason),
            "{name} {args:?}: {error}"
        );
    }
    eprintln!("{} command lines refused", cases.len());
}

/// Every form of endpoint `--listen` takes is read as one: each value is
/// checked as it is parsed, before the combinations, so a value that parses
/// reaches the conflict with `--udp` rather than an "invalid value" error.
#[test]
fn listen_takes_every_endpoint_form() {
    for form in [
        "127.0.0.1:8080",
        "[::1]:0",
        "localhost:8080",
        "unix:/tmp/x.sock",
        "/tmp/x.sock",
        "./x.sock",
        "@hello",
        "sd-listen",
        "sd-listen:web",
        "fd:3",
    ] {
        for args in [
            &["--listen", form, "--udp"][..],
            &[&format!("--listen={form}"), "--udp"],
        ] {
            let error = refused("server", args);
            assert!(
                error.contains("'--listen <ENDPOINT>' cannot be used with '--udp'"),
                "{args:?}: {error}"
            );
        }
    }
    // The same for the client's host forms, which conflict with `--unix`.
    for addr in [
        "localhost",
        "localhost:9000",
        "127.0.0.1:80",
        "[::1]:443",
        "::1",
        "fe80::1%2",
    ] {
        let error = refused("client", &["--addr", addr, "--unix", "/x"]);
        assert!(error.contains("cannot be used with"), "{addr}: {error}");
    }
}

/// Each option in both spellings, values that contain `=` or start with
/// `-`, and `--addr IP:PORT` on both sides, checked by what the two
/// examples print.
#[test]
fn options_in_both_spellings_reach_the_exchange() {
    let mut args = vec![
        "--addr=127.0.0.1:0",
        "--message=a=b",
        "--count=2",
        "--timeout=0.25",
        "--backlog",
        "1024",
        "--max-clients=256",
    ];
    // SO_REUSEPORT is Unix only: elsewhere the server refuses the flag.
    if cfg!(unix) {
        args.push("--reuse-port");
    }
    let mut server = Running::start(&mut example_command("server", &args));
    let addr = server.listening_addr();
    let first = run(&mut example_command(
        "client",
        &[
            "--addr",
            &addr,
            "--message",
            "--forever",
            "--bind=127.0.0.1",
            "--timeout",
            "3",
        ],
    ));
    assert_eq!(first.stdout, "Hello message sent\na=b\n", "{first:?}");
    let second = run(&mut example_command("client", &[&format!("--addr={addr}")]));
    assert_eq!(second.stdout, "Hello message sent\na=b\n", "{second:?}");
    let server = server.finish();
    assert!(server.status.success(), "{server:?}");
    assert_eq!(
        server.stdout,
        format!("--forever\nHello message sent\n{SERVER_OUTPUT}")
    );
}

/// `--addr [IPv6]:PORT` on both sides, `--no-reuse`, and an IPv6 address
/// without a port taking `--port`.
#[test]
fn ipv6_addresses_with_and_without_a_port() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 loopback here");
        return;
    }
    let mut server = Running::start(&mut example_command(
        "server",
        &["--addr", "[::1]:0", "--no-reuse", "--count", "2"],
    ));
    let addr: SocketAddr = server.listening_addr().parse().expect("listening address");
    assert!(addr.is_ipv6(), "{addr}");
    let port = addr.port().to_string();
    for args in [
        &["--addr", &addr.to_string()][..],
        &["--addr", "::1", "--port", &port],
    ] {
        let client = run(&mut example_command("client", args));
        assert_eq!(client.stdout, CLIENT_OUTPUT, "{args:?}: {client:?}");
    }
    let server = server.finish();
    assert!(server.status.success(), "{server:?}");
    assert_eq!(server.stdout, format!("{SERVER_OUTPUT}{SERVER_OUTPUT}"));
}

#[test]
fn hello_example_prints_both_sides() {
    let out = run(&mut example_command("hello", &[]));
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 6, "{out:?}");
    let addr = lines[0]
        .strip_prefix("server: listening on 127.0.0.1:")
        .expect("first line");
    assert!(addr.parse::<u16>().is_ok(), "{out:?}");
    assert_eq!(lines[1], format!("client: connected to 127.0.0.1:{addr}"));
    assert_eq!(
        lines[2..],
        [
            "client: Hello message sent",
            "server: Hello from client",
            "server: Hello message sent",
            "client: Hello from server",
        ]
    );
}

/// With every step logged, stdout and stderr into one pipe as a terminal
/// shows them: the example's lines are the same six, `client: connected to`
/// comes before any of the exchange's steps, and the exchange's four lines
/// after the last of them.
#[cfg(unix)]
#[test]
fn hello_example_lines_keep_their_order_among_log_lines() {
    let exe = crate::util::example_binary("hello");
    let out = run(Command::new("sh")
        .arg("-c")
        .arg("exec \"$0\" 2>&1")
        .arg(&exe)
        .env("RUST_LOG", "debug"));
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    let own: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("server: ") || l.starts_with("client: "))
        .collect();
    assert_eq!(own.len(), 6, "{}", out.stdout);
    assert_eq!(
        own[2..],
        [
            "client: Hello message sent",
            "server: Hello from client",
            "server: Hello message sent",
            "client: Hello from server",
        ]
    );
    let at = |line: &str| lines.iter().position(|l| *l == line).unwrap();
    let connected = lines
        .iter()
        .position(|l| l.starts_with("client: connected to "))
        .unwrap();
    let steps: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains("sockwright::hello]"))
        .collect();
    eprintln!(
        "{} lines, {} exchange steps logged",
        lines.len(),
        steps.len()
    );
    assert!(!steps.is_empty(), "{}", out.stdout);
    assert!(connected < steps[0], "{}", out.stdout);
    assert!(
        steps[steps.len() - 1] < at("client: Hello message sent"),
        "{}",
        out.stdout
    );
    assert_eq!(&lines[lines.len() - 4..], &own[2..], "{}", out.stdout);
}

#[test]
fn client_without_server_prints_one_error_line() {
    // Bound but not listening: connects are refused while it is held.
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let port = socket.local_addr().unwrap().as_socket().unwrap().port();
    let out = run(&mut example_command(
        "client",
        &["--port", &port.to_string()],
    ));
    assert!(!out.status.success(), "{out:?}");
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    let prefix = format!("error: connect 127.0.0.1:{port}: ");
    assert!(out.stderr.starts_with(&prefix), "{out:?}");
    assert!(out.stderr.to_lowercase().contains("refused"), "{out:?}");
    #[cfg(target_os = "linux")]
    assert_eq!(
        out.stderr,
        format!("{prefix}connection refused (os error 111)\n")
    );
}

/// A server that reads the greeting and resets the connection: the client's
/// error names the server it connected to, though the reset socket no
/// longer has a peer address to read back.
#[test]
fn client_reset_by_server_names_the_server() {
    use std::io::Read;

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut greeting = [0; 17];
        conn.read_exact(&mut greeting).unwrap();
        // Linger zero: close sends a reset, not a FIN.
        socket2::SockRef::from(&conn)
            .set_linger(Some(std::time::Duration::ZERO))
            .unwrap();
        greeting
    });
    let out = run(&mut example_command(
        "client",
        &["--port", &addr.port().to_string(), "--timeout", "5"],
    ));
    assert_eq!(&server.join().unwrap(), b"Hello from client");
    assert!(!out.status.success(), "{out:?}");
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(!out.stderr.contains("unknown address"), "{out:?}");
    assert!(out.stderr.contains(&format!(" {addr}: ")), "{out:?}");
    #[cfg(target_os = "linux")]
    assert_eq!(
        out.stderr,
        format!("error: receive reply from {addr}: connection reset by peer (os error 104)\n")
    );
}

#[test]
fn tcp_exchange_between_examples() {
    let (server, addr) = start_server(&["--count", "2"]);
    let port = addr.port().to_string();
    let first = run(&mut example_command("client", &["--port", &port]));
    assert_eq!(
        (first.stdout.as_str(), first.stderr.as_str()),
        (CLIENT_OUTPUT, "")
    );
    let second = run(&mut example_command(
        "client",
        &[
            "--port",
            &port,
            "--message",
            "Hi, it's me",
            "--bind",
            "127.0.0.1",
        ],
    ));
    assert_eq!(second.stdout, CLIENT_OUTPUT, "{second:?}");
    let server = server.finish();
    assert!(server.status.success(), "{server:?}");
    assert_eq!(
        server.stdout,
        format!("{SERVER_OUTPUT}Hi, it's me\nHello message sent\n")
    );
}

#[test]
fn udp_exchange_between_examples() {
    let (server, addr) = start_server(&["--udp", "--message", "Hello over UDP"]);
    let client = run(&mut example_command(
        "client",
        &["--udp", "--port", &addr.port().to_string()],
    ));
    assert_eq!(
        client.stdout, "Hello message sent\nHello over UDP\n",
        "{client:?}"
    );
    assert!(client.status.success());
    let server = server.finish();
    assert_eq!(server.stdout, SERVER_OUTPUT, "{server:?}");
    assert!(server.status.success());
}

#[cfg(unix)]
#[test]
fn unix_exchange_between_examples() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("examples-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hello.sock");
    let path_arg = path.to_str().unwrap();
    let mut server = Running::start(&mut example_command("server", &["--unix", path_arg]));
    assert_eq!(server.listening_addr(), path_arg);
    let client = run(&mut example_command("client", &["--unix", path_arg]));
    assert_eq!(client.stdout, CLIENT_OUTPUT, "{client:?}");
    let server = server.finish();
    assert_eq!(server.stdout, SERVER_OUTPUT, "{server:?}");
    assert!(server.status.success());
    assert!(
        !path.exists(),
        "the server removes its socket file when done"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Peers that misbehave, each against a one-client server with a 1 s
/// timeout: the outcome, and when it came.
#[cfg(unix)]
mod misbehaving_peers {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpStream};
    use std::thread;
    use std::time::{Duration, Instant};

    const TIMEOUT: Duration = Duration::from_secs(1);
    /// The most a result may come after it is due, on a loaded machine.
    const MARGIN: Duration = Duration::from_millis(1500);

    /// Runs a one-client server, lets `peer` talk to it, and returns the
    /// server's output, how long after the connect began it ended, and the
    /// client's port.
    fn against(peer: impl FnOnce(&mut TcpStream)) -> (crate::util::hello::Finished, Duration, u16) {
        let (server, addr) = start_server(&["--timeout", "1"]);
        // Taken before the connect: the server may accept, and start its
        // timeout, before `connect` returns here.
        let connecting = Instant::now();
        let mut stream = TcpStream::connect(addr).unwrap();
        let port = stream.local_addr().unwrap().port();
        peer(&mut stream);
        let out = server.finish();
        (out, connecting.elapsed(), port)
    }

    #[test]
    fn silent_peer_times_out() {
        let mut held = None;
        let (out, took, port) = against(|s| held = Some(s.try_clone().unwrap()));
        assert_eq!(
            out.stderr,
            format!("error: receive greeting from 127.0.0.1:{port}: peer sent nothing within 1s\n")
        );
        assert_eq!(out.stdout, "");
        assert!(!out.status.success());
        assert!(took >= TIMEOUT && took <= TIMEOUT + MARGIN, "took {took:?}");
    }

    #[test]
    fn oversized_greeting_is_refused() {
        let (out, took, port) = against(|s| s.write_all(&[b'x'; 2000]).unwrap());
        assert_eq!(
            out.stderr,
            format!(
                "error: receive greeting from 127.0.0.1:{port}: message longer than 1024 bytes\n"
            )
        );
        assert_eq!(out.stdout, "");
        assert!(took <= TIMEOUT + MARGIN, "took {took:?}");
    }

    /// A beginning of the greeting is the greeting still arriving: the
    /// quiet gap (200 ms) does not end it; the timeout does.
    #[test]
    fn prefix_of_the_greeting_waits_for_the_rest() {
        let mut held = None;
        let (out, took, port) = against(|s| {
            s.write_all(b"Hello").unwrap();
            held = Some(s.try_clone().unwrap());
        });
        assert_eq!(
            out.stderr,
            format!(
                "error: receive greeting from 127.0.0.1:{port}: peer sent only 5 bytes of its message within 1s\n"
            )
        );
        assert_eq!(out.stdout, "");
        assert!(!out.status.success());
        assert!(took >= TIMEOUT && took <= TIMEOUT + MARGIN, "took {took:?}");
    }

    /// The same five bytes followed by end of file are a greeting cut short.
    #[test]
    fn prefix_of_the_greeting_then_end_of_file() {
        let (out, took, port) = against(|s| {
            s.write_all(b"Hello").unwrap();
            s.shutdown(Shutdown::Write).unwrap();
        });
        assert_eq!(
            out.stderr,
            format!(
                "error: receive greeting from 127.0.0.1:{port}: peer closed the connection after 5 of 17 bytes\n"
            )
        );
        assert!(took <= TIMEOUT + MARGIN, "took {took:?}");
    }

    #[test]
    fn peer_closing_mid_greeting() {
        let (out, took, port) = against(|s| {
            s.write_all(b"Hello fr").unwrap();
            s.shutdown(Shutdown::Both).unwrap();
        });
        assert_eq!(
            out.stderr,
            format!(
                "error: receive greeting from 127.0.0.1:{port}: peer closed the connection after 8 of 17 bytes\n"
            )
        );
        assert!(took <= TIMEOUT + MARGIN, "took {took:?}");
    }

    #[test]
    fn greeting_one_byte_at_a_time_is_served() {
        let mut reply = Vec::new();
        let (out, _, _) = against(|s| {
            s.set_nodelay(true).unwrap();
            for byte in b"Hello from client" {
                s.write_all(&[*byte]).unwrap();
                thread::sleep(Duration::from_millis(30)); // pacing, 0.5 s in all
            }
            s.set_read_timeout(Some(TIMEOUT + MARGIN)).unwrap();
            s.read_to_end(&mut reply).unwrap();
        });
        assert_eq!(out.stdout, SERVER_OUTPUT, "{out:?}");
        assert_eq!(reply, b"Hello from server");
        assert!(out.status.success());
    }

    #[test]
    fn non_utf8_greeting_is_printed_lossily_and_answered() {
        let mut reply = Vec::new();
        let (out, _, _) = against(|s| {
            s.write_all(b"\xff\xfehi").unwrap();
            s.set_read_timeout(Some(TIMEOUT + MARGIN)).unwrap();
            s.read_to_end(&mut reply).unwrap();
        });
        assert_eq!(
            out.stdout, "\u{fffd}\u{fffd}hi\nHello message sent\n",
            "{out:?}"
        );
        assert_eq!(reply, b"Hello from server");
    }
}

/// The `--forever` server with many clients at once.
#[cfg(target_os = "linux")]
mod forever {
    use super::*;
    use crate::util::hello::{Stream, load, peak_rss_kib};
    use sockwright::hello::Exchange;

    /// The server's `--max-clients` in the accept-queue test.
    const MAX_CLIENTS: usize = 256;
    use std::time::{Duration, Instant};

    /// Reads the server's output until it shows `served` exchanges and
    /// `timed_out` timeouts (or the deadline passes); returns both counts.
    fn tally(
        server: &mut Running,
        served: usize,
        timed_out: usize,
        within: Duration,
    ) -> (usize, usize, Vec<String>) {
        let deadline = Instant::now() + within;
        let (mut ok, mut late, mut other) = (0, 0, Vec::new());
        while ok < served || late < timed_out {
            match server.next_line(deadline) {
                Some((Stream::Out, line)) if line == "Hello message sent" => ok += 1,
                Some((Stream::Out, line)) if line == "Hello from client" => {}
                Some((Stream::Err, line)) if line.contains(": peer sent nothing within ") => {
                    late += 1
                }
                Some((_, line)) => other.push(line),
                None => break,
            }
        }
        (ok, late, other)
    }

    #[test]
    fn serves_200_clients_while_5_stay_silent() {
        let (mut server, addr) = start_server(&["--forever", "--timeout", "5", "--backlog", "256"]);
        let result = load(addr, 200, 5, 8, Duration::from_secs(20));
        assert_eq!(result.served, 200, "{:?}", result.failures);
        // Served while the silent clients were still open.
        assert!(
            result.elapsed < Duration::from_secs(5),
            "200 clients took {:?}",
            result.elapsed
        );
        let (ok, late, other) = tally(&mut server, 200, 5, Duration::from_secs(20));
        assert_eq!((ok, late), (200, 5), "other lines: {other:?}");
        assert!(other.is_empty(), "{other:?}");
        println!(
            "200 clients served in {:?} beside 5 silent ones",
            result.elapsed
        );
    }

    #[test]
    fn backlog_overflow_is_a_connect_timeout_for_the_client() {
        // 400 open files at the most, and room for the tests beside it.
        crate::util::raise_nofile(1024).unwrap_or_else(|why| panic!("{why}"));
        // The server logs each accept, so the test knows when all slots are
        // taken; its 60 s timeout does not free any slot during the test (the
        // silent clients hang up at the end instead).
        let mut server = Running::start(
            example_command(
                "server",
                &[
                    "--addr",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--forever",
                    "--timeout",
                    "60",
                    "--backlog",
                    "64",
                    "--max-clients",
                    &MAX_CLIENTS.to_string(),
                ],
            )
            .env("RUST_LOG", "sockwright::hello=debug"),
        );
        let addr: SocketAddr = server.listening_addr().parse().unwrap();
        // Every one of the server's MAX_CLIENTS client slots held by a silent client...
        let mut held: Vec<std::net::TcpStream> = (0..MAX_CLIENTS)
            .map(|_| std::net::TcpStream::connect(addr).expect("connect a silent client"))
            .collect();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut accepted = 0;
        while accepted < MAX_CLIENTS {
            match server.next_line(deadline) {
                Some((Stream::Err, line)) if line.contains("accepted a connection from") => {
                    accepted += 1
                }
                Some(_) => {}
                None => panic!("the server accepted only {accepted} connections"),
            }
        }
        // ...and its accept queue (backlog 64) filled, until a connect times out.
        let probe = sockwright::ConnectorBuilder::new()
            .connect_timeout(Duration::from_millis(300))
            .clone();
        let mut full = false;
        for _ in 0..200 {
            match probe.connect(addr) {
                Ok(stream) => held.push(stream),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    full = true;
                    break;
                }
                Err(e) => panic!("filling the accept queue: {e}"),
            }
        }
        assert!(
            full,
            "the accept queue never filled ({} connections)",
            held.len()
        );
        let queued = held.len() - MAX_CLIENTS;

        let port = addr.port().to_string();
        let started = Instant::now();
        let client = run(&mut example_command(
            "client",
            &["--port", &port, "--timeout", "1"],
        ));
        let took = started.elapsed();
        assert_eq!(
            client.stderr,
            format!("error: connect 127.0.0.1:{port}: timed out after 1s\n")
        );
        assert!(!client.status.success());
        assert!(
            took >= Duration::from_secs(1) && took < Duration::from_millis(2500),
            "took {took:?}"
        );

        // Once the silent clients hang up, the server serves again.
        drop(held);
        let client = run(&mut example_command("client", &["--port", &port]));
        assert_eq!(
            client.stdout, "Hello message sent\nHello from server\n",
            "{client:?}"
        );
        let (ok, _, _) = tally(&mut server, 1, 0, Duration::from_secs(20));
        assert_eq!(ok, 1);
        println!(
            "{MAX_CLIENTS} clients in progress and {queued} queued (backlog 64): \
             the next client's connect timed out after {took:?}"
        );
    }

    #[test]
    fn thousand_connections_with_50_stalled() {
        // 1,100 open files at the most, and room for the tests beside it.
        crate::util::raise_nofile(4096).unwrap_or_else(|why| panic!("{why}"));
        let (mut server, addr) =
            start_server(&["--forever", "--timeout", "3", "--backlog", "1024"]);
        let pid = server.child.id();
        let result = load(addr, 950, 50, 10, Duration::from_secs(30));
        assert_eq!(result.served, 950, "{:?}", result.failures);
        let (ok, late, other) = tally(&mut server, 950, 50, Duration::from_secs(30));
        assert_eq!((ok, late), (950, 50), "other lines: {other:?}");
        drop(result.stalled);

        // Still accepting afterwards.
        let mut stream = sockwright::ConnectorBuilder::new().connect(addr).unwrap();
        let reply = Exchange::client().run(&mut stream).unwrap();
        assert_eq!(reply, b"Hello from server");

        let peak = peak_rss_kib(pid);
        println!(
            "1,000 connections (950 served in {:?}, 50 stalled until their 3 s timeout): \
             server peak RSS {} KiB",
            result.elapsed, peak
        );
        assert!(peak < 256 * 1024, "server peak RSS {peak} KiB");
    }
}
