//! Every duration the crate accepts, swept from its smallest to
//! `Duration::MAX`, through every way it is used: no panic, and either a
//! clear error or a working operation. Loopback only; where a duration
//! means "no limit", the peer answers, so the operation completes.
//!
//! Run with `cargo test --test durations -- --nocapture` (and
//! `--features tokio` for the async connect) to see the figures.

use crate::util;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;
use std::time::{Duration, Instant};

use sockwright::hello::{CLIENT_GREETING, Exchange, SERVER_GREETING, Server};
use sockwright::{ConnectorBuilder, Error, Keepalive, ListenerBuilder};

/// The extremes every setter is swept with, and one ordinary value.
const EXTREMES: [Duration; 7] = [
    Duration::from_nanos(1),
    Duration::from_micros(1),
    Duration::from_micros(999),
    Duration::from_secs(1),
    Duration::from_secs(u32::MAX as u64),
    Duration::from_secs(u64::MAX),
    Duration::MAX,
];

/// Whether `d` is too short for a loopback operation to finish within it:
/// such a timeout may run out first.
fn tiny(d: Duration) -> bool {
    d < Duration::from_millis(1)
}

/// Whether `d` is more than any OS option in seconds or milliseconds holds.
fn huge(d: Duration) -> bool {
    d >= Duration::from_secs(u32::MAX as u64)
}

/// What a row may end with for one duration.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// The operation works.
    Works,
    /// The operation works, or a tiny timeout ran out first (`TimedOut`,
    /// `WouldBlock`).
    WorksUnlessTooShort,
    /// `Error::InvalidConfig`, before any system call.
    Invalid,
    /// Either: a setter whose range some OSes or some targets check.
    WorksOrInvalid,
    /// Works, or the OS refuses it for lack of privilege
    /// (`PermissionDenied`), as `SO_BUSY_POLL` above the system default.
    #[cfg(target_os = "linux")]
    WorksOrNotPermitted,
}

/// How a row ended when it failed: the error's kind, whether it is an
/// `Error::InvalidConfig`, and its message.
#[derive(Debug)]
struct Failed {
    kind: ErrorKind,
    invalid: bool,
    text: String,
}

impl From<Error> for Failed {
    fn from(e: Error) -> Failed {
        Failed {
            kind: e.kind(),
            invalid: matches!(e, Error::InvalidConfig { .. }),
            text: e.to_string(),
        }
    }
}

impl From<std::io::Error> for Failed {
    fn from(e: std::io::Error) -> Failed {
        Failed {
            kind: e.kind(),
            invalid: false,
            text: e.to_string(),
        }
    }
}

type Ran = Result<(), Failed>;

type Run = Box<dyn Fn(Duration) -> Ran>;

/// A row: a name, what it does with a duration, what each duration should give.
struct Row {
    name: &'static str,
    run: Run,
    want: fn(Duration) -> Want,
}

fn row(
    name: &'static str,
    want: fn(Duration) -> Want,
    run: impl Fn(Duration) -> Ran + 'static,
) -> Row {
    Row {
        name,
        run: Box::new(run),
        want,
    }
}

/// "No limit" for huge values, a timeout that may run out for tiny ones.
fn no_limit(d: Duration) -> Want {
    if tiny(d) {
        Want::WorksUnlessTooShort
    } else {
        Want::Works
    }
}

/// An option the OS counts in a C type: huge values are refused first.
fn bounded(d: Duration) -> Want {
    if huge(d) { Want::Invalid } else { Want::Works }
}

fn local() -> (TcpListener, SocketAddr) {
    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Connects with `builder` to a peer that writes a greeting at once; reads
/// it and writes one back, so that the read and write timeouts are used.
fn connect_and_talk(builder: &ConnectorBuilder, target: &str) -> Ran {
    let (listener, addr) = local();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(SERVER_GREETING.as_bytes()).unwrap();
        let mut got = [0; CLIENT_GREETING.len()];
        // The client may give up (a tiny timeout): then nothing comes.
        let _ = stream.read_exact(&mut got);
    });
    let target = target.replace("PORT", &addr.port().to_string());
    let result = builder
        .connect(target.as_str())
        .map_err(Failed::from)
        .and_then(|mut stream| {
            let mut got = [0; SERVER_GREETING.len()];
            stream.read_exact(&mut got)?;
            assert_eq!(&got, SERVER_GREETING.as_bytes());
            stream.write_all(CLIENT_GREETING.as_bytes())?;
            Ok(())
        });
    if result.is_err() {
        // Unblock the peer if the connect failed before reaching it.
        let _ = TcpStream::connect(addr);
    }
    peer.join().expect("the peer thread panicked");
    result
}

/// Listens with `builder`, accepts one client that sends a greeting, and
/// answers it.
#[cfg(any(target_os = "linux", target_os = "android", windows))]
fn listen_and_answer(builder: &ListenerBuilder) -> Ran {
    let listener = builder.listen("127.0.0.1:0")?;
    let addr = listener.local_addr().unwrap();
    let client = thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(CLIENT_GREETING.as_bytes()).unwrap();
        let mut got = [0; SERVER_GREETING.len()];
        stream.read_exact(&mut got).unwrap();
        assert_eq!(&got, SERVER_GREETING.as_bytes());
    });
    let (mut stream, _) = listener.accept().unwrap();
    let mut got = [0; CLIENT_GREETING.len()];
    stream.read_exact(&mut got).unwrap();
    stream.write_all(SERVER_GREETING.as_bytes()).unwrap();
    client.join().expect("the client thread panicked");
    Ok(())
}

/// Each client's result, as a hello server reports it.
type Results = sockwright::Result<Vec<sockwright::Result<Vec<u8>>>>;

/// A hello server for `clients` clients with `exchange`, on its own
/// thread; returns each client's result.
fn server(exchange: Exchange, clients: u64) -> (SocketAddr, thread::JoinHandle<Results>) {
    let (listener, addr) = local();
    let handle = thread::spawn(move || {
        let mut results = Vec::new();
        Server::new(exchange)
            .clients(clients)
            .serve_tcp(&listener, |outcome| results.push(outcome.result))?;
        Ok(results)
    });
    (addr, handle)
}

/// Two clients against a hello server whose exchange has `set` applied.
fn hello_server_with(set: impl Fn(&mut Exchange) -> &mut Exchange) -> Ran {
    let mut exchange = Exchange::server();
    set(&mut exchange);
    let (addr, handle) = server(exchange, 2);
    let mut first_error = None;
    for _ in 0..2 {
        let reply = Exchange::client().run(&mut TcpStream::connect(addr).unwrap());
        if let Err(e) = reply {
            first_error.get_or_insert(e);
        }
    }
    let results = handle.join().expect("the server thread panicked")?;
    assert_eq!(results.len(), 2);
    for result in results {
        assert_eq!(result?, CLIENT_GREETING.as_bytes());
    }
    first_error.map_or(Ok(()), |e| Err(e.into()))
}

/// A hello client whose exchange has `set` applied, against a server that
/// replies with something other than the greeting and closes.
fn hello_client_with(set: impl Fn(&mut Exchange) -> &mut Exchange) -> Ran {
    let (listener, addr) = local();
    let peer = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut got = [0; CLIENT_GREETING.len()];
        stream.read_exact(&mut got).unwrap();
        stream.write_all(b"not the greeting").unwrap();
        // Closing ends the message, whatever the client's quiet gap.
    });
    let mut exchange = Exchange::client();
    set(&mut exchange);
    let result = exchange.run(&mut TcpStream::connect(addr).unwrap());
    peer.join().expect("the peer thread panicked");
    assert_eq!(result?, b"not the greeting");
    Ok(())
}

/// A UDP hello server whose exchange has `set` applied, and a client with
/// the same, for one datagram.
fn hello_udp_with(set: impl Fn(&mut Exchange) -> &mut Exchange) -> Ran {
    let socket = ListenerBuilder::new().bind_udp("127.0.0.1:0")?;
    let addr = socket.local_addr().unwrap();
    let mut server_side = Exchange::server();
    set(&mut server_side);
    let handle = thread::spawn(move || {
        Server::new(server_side)
            .clients(1)
            .serve_udp(&socket, |_| {})
    });
    let mut client_side = Exchange::client();
    set(&mut client_side);
    let client = ConnectorBuilder::new().connect_udp(addr)?;
    let reply = client_side.run_udp(&client);
    if reply.is_err() {
        // Let the server finish if the client gave up before sending.
        let _ = std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.send_to(b"x", addr));
    }
    let summary = handle.join().expect("the server thread panicked")?;
    assert_eq!(summary.accepted, 1);
    assert_eq!(reply?.0, SERVER_GREETING.as_bytes());
    Ok(())
}

fn connector(set: impl Fn(&mut ConnectorBuilder) -> &mut ConnectorBuilder) -> ConnectorBuilder {
    let mut b = ConnectorBuilder::new();
    set(&mut b);
    b
}

#[cfg(any(target_os = "linux", target_os = "android", windows))]
fn listener(set: impl Fn(&mut ListenerBuilder) -> &mut ListenerBuilder) -> ListenerBuilder {
    let mut b = ListenerBuilder::new();
    set(&mut b);
    b
}

fn table() -> Vec<Row> {
    let literal = "127.0.0.1:PORT";
    // A name: resolved (to ::1 and 127.0.0.1 where both exist), so the
    // race and its delays are used.
    let name = "localhost:PORT";
    #[allow(unused_mut)] // Only some platforms add rows.
    let mut rows = vec![
        row("connect_timeout", no_limit, move |d| {
            connect_and_talk(&connector(|b| b.connect_timeout(d)), literal)
        }),
        row("connect_timeout (a name)", no_limit, move |d| {
            connect_and_talk(&connector(|b| b.connect_timeout(d)), name)
        }),
        row(
            "connection_attempt_delay",
            |_| Want::WorksOrInvalid,
            move |d| connect_and_talk(&connector(|b| b.connection_attempt_delay(d)), name),
        ),
        row(
            "resolution_delay",
            |_| Want::WorksOrInvalid,
            move |d| connect_and_talk(&connector(|b| b.resolution_delay(d)), name),
        ),
        row("read_timeout", no_limit, move |d| {
            connect_and_talk(&connector(|b| b.read_timeout(d)), literal)
        }),
        row("write_timeout", no_limit, move |d| {
            connect_and_talk(&connector(|b| b.write_timeout(d)), literal)
        }),
        row("linger (connector)", bounded, move |d| {
            connect_and_talk(&connector(|b| b.linger(Some(d))), literal)
        }),
        row("keepalive time (connector)", keepalive_want, move |d| {
            connect_and_talk(
                &connector(|b| b.keepalive(Keepalive::new().time(d))),
                literal,
            )
        }),
        row("keepalive interval (connector)", keepalive_want, move |d| {
            let ka = Keepalive::new().interval(d);
            connect_and_talk(&connector(|b| b.keepalive(ka)), literal)
        }),
        row("hello server timeout", no_limit, move |d| {
            hello_server_with(|e| e.timeout(d))
        }),
        row(
            "hello server quiet",
            |_| Want::Works,
            move |d| hello_server_with(|e| e.quiet(d)),
        ),
        row("hello client timeout", no_limit, move |d| {
            hello_client_with(|e| e.timeout(d))
        }),
        row("hello client quiet", no_limit, move |d| {
            hello_client_with(|e| e.quiet(d))
        }),
        row("hello UDP timeout (both sides)", no_limit, move |d| {
            hello_udp_with(|e| e.timeout(d))
        }),
    ];
    // A Unix path: the connect timeout bounds the wait for room in the
    // accept queue through `SO_SNDTIMEO` (Linux).
    #[cfg(unix)]
    rows.push(row(
        "connect_timeout (Unix path)",
        |_| Want::Works,
        move |d| {
            let dir = util::TempDir::new("durations");
            let path = dir.join("s");
            let _listener = ListenerBuilder::new().listen_unix(&path)?;
            let stream = connector(|b| b.connect_timeout(d).read_timeout(d).write_timeout(d))
                .connect_unix(&path)?;
            drop(stream);
            Ok(())
        },
    ));
    // The listener's linger and keepalive exist where accepted sockets
    // inherit them.
    #[cfg(any(target_os = "linux", target_os = "android", windows))]
    rows.extend([
        row("linger (listener)", bounded, move |d| {
            listen_and_answer(&listener(|b| b.linger(Some(d))))
        }),
        row("keepalive time (listener)", keepalive_want, move |d| {
            listen_and_answer(&listener(|b| b.keepalive(Keepalive::new().time(d))))
        }),
    ]);
    #[cfg(target_os = "linux")]
    rows.extend([
        row("tcp_user_timeout (connector)", bounded, move |d| {
            connect_and_talk(&connector(|b| b.tcp_user_timeout(d)), literal)
        }),
        row("busy_poll (connector)", busy_poll_want, move |d| {
            connect_and_talk(&connector(|b| b.busy_poll(d)), literal)
        }),
        row("tcp_user_timeout (listener)", bounded, move |d| {
            listen_and_answer(&listener(|b| b.tcp_user_timeout(d)))
        }),
        row("tcp_defer_accept (listener)", bounded, move |d| {
            listen_and_answer(&listener(|b| b.tcp_defer_accept(d)))
        }),
        row("busy_poll (listener)", busy_poll_want, move |d| {
            listen_and_answer(&listener(|b| b.busy_poll(d)))
        }),
    ]);
    rows
}

/// Keepalive times have per-OS limits far below `u32::MAX` seconds, and
/// mean nothing shorter than their unit (rounded up).
fn keepalive_want(d: Duration) -> Want {
    if huge(d) { Want::Invalid } else { Want::Works }
}

#[cfg(target_os = "linux")]
fn busy_poll_want(d: Duration) -> Want {
    if huge(d) {
        Want::Invalid
    } else {
        Want::WorksOrNotPermitted
    }
}

/// Whether `result` is what `want` allows; the reason if not.
fn judge(result: &Ran, want: Want) -> Result<(), String> {
    let ok = match (want, result) {
        (_, Ok(())) => !matches!(want, Want::Invalid),
        (Want::Works, Err(_)) => false,
        (Want::WorksUnlessTooShort, Err(e)) => {
            matches!(e.kind, ErrorKind::TimedOut | ErrorKind::WouldBlock)
        }
        (Want::Invalid | Want::WorksOrInvalid, Err(e)) => e.invalid,
        #[cfg(target_os = "linux")]
        (Want::WorksOrNotPermitted, Err(e)) => e.kind == ErrorKind::PermissionDenied,
    };
    match (ok, result) {
        (true, _) => Ok(()),
        (false, Ok(())) => Err(format!("succeeded; want {want:?}")),
        (false, Err(e)) => Err(format!("{} ({:?}); want {want:?}", e.text, e.kind)),
    }
}

#[test]
fn every_duration_setter_takes_every_extreme_without_a_panic() {
    let started = Instant::now();
    let rows = table();
    let mut failures = Vec::new();
    let (mut worked, mut refused) = (0, 0);
    for row in &rows {
        for d in EXTREMES {
            let result = catch_unwind(AssertUnwindSafe(|| (row.run)(d)));
            let verdict = match &result {
                Err(_) => Err("panicked".to_owned()),
                Ok(result) => judge(result, (row.want)(d)),
            };
            match (&verdict, &result) {
                (Err(why), _) => failures.push(format!("{} {d:?}: {why}", row.name)),
                (Ok(()), Ok(Ok(()))) => worked += 1,
                (Ok(()), result) => {
                    refused += 1;
                    if let Ok(Err(e)) = result {
                        eprintln!("{} {d:?}: {}", row.name, e.text);
                    }
                }
            }
        }
    }
    eprintln!(
        "{} setters x {} durations: {worked} worked, {refused} gave a clear error, {} failed, in {:?}",
        rows.len(),
        EXTREMES.len(),
        failures.len(),
        started.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every error a huge value gets says what was wrong, before any call.
#[test]
fn huge_values_are_refused_saying_the_limit() {
    let err = connector(|b| b.linger(Some(Duration::MAX)))
        .connect("127.0.0.1:9")
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
    assert!(err.to_string().contains("at most"), "{err}");
}

#[cfg(feature = "tokio")]
#[test]
fn connect_async_takes_every_connect_timeout() {
    let runtime = util::current_thread();
    let mut failures = Vec::new();
    for d in EXTREMES {
        let result = catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let mut builder = ConnectorBuilder::new();
                builder.connect_timeout(d).read_timeout(d).write_timeout(d);
                // The kernel completes the connect from the backlog; no
                // accept is needed.
                let connected = builder
                    .connect_async(format!("localhost:{}", addr.port()))
                    .await;
                drop(listener);
                connected.map(drop).map_err(Failed::from)
            })
        }));
        let verdict = match &result {
            Err(_) => Err("panicked".to_owned()),
            Ok(result) => judge(result, no_limit(d)),
        };
        if let Err(why) = verdict {
            failures.push(format!("connect_async with {d:?}: {why}"));
        }
    }
    eprintln!(
        "connect_async: {} connect timeouts, {} failed",
        EXTREMES.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
