//! Every framing rule of the `hello` module, through both of its drivers:
//! each hostile (or honest) client below is served once by
//! `Exchange::run` (the blocking driver) and once by `hello::Server` (the
//! readiness driver), all at once, and both must give the same outcome:
//! the same message, or an error of the same kind with the same words
//! after the peer's name.
//!
//! `cargo test --test hello_framing -- --nocapture` prints each case's
//! outcome and the wall time.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use sockwright::ListenerBuilder;
use sockwright::hello::{CLIENT_GREETING, Exchange, Server};

/// The server side's limits: short, so that the whole file takes about a
/// second.
const TIMEOUT: Duration = Duration::from_millis(800);
const QUIET: Duration = Duration::from_millis(100);
const MAX: usize = 64;

/// How long a hostile client waits for the reply (or the close) at most.
const PATIENCE: Duration = Duration::from_secs(10);

/// What a client does on its connection.
type Script = fn(&mut TcpStream);

/// What each case must end in: `Ok(message)`, or `Err((kind, words))`
/// where `words` end the error's text (`None`: the kind alone is checked).
type Expected = Result<&'static [u8], (std::io::ErrorKind, Option<&'static str>)>;

fn drip(stream: &mut TcpStream, bytes: &[u8], pause: Duration) {
    for byte in bytes {
        if stream.write_all(&[*byte]).is_err() {
            return;
        }
        thread::sleep(pause);
    }
}

fn cases() -> Vec<(&'static str, Script, Expected)> {
    use std::io::ErrorKind::*;
    vec![
        (
            "the greeting in three parts",
            |s| {
                for part in CLIENT_GREETING.as_bytes().chunks(6) {
                    s.write_all(part).unwrap();
                    thread::sleep(Duration::from_millis(30));
                }
            },
            Ok(CLIENT_GREETING.as_bytes()),
        ),
        (
            "another message, then a quiet gap",
            |s| s.write_all(b"hi there").unwrap(),
            Ok(b"hi there"),
        ),
        (
            "another message, then end of file",
            |s| {
                s.write_all(b"Howdy").unwrap();
                s.shutdown(Shutdown::Write).unwrap();
            },
            Ok(b"Howdy"),
        ),
        (
            "end of file before anything",
            |s| s.shutdown(Shutdown::Write).unwrap(),
            Err((
                UnexpectedEof,
                Some("peer closed the connection without sending anything"),
            )),
        ),
        (
            "end of file inside the greeting",
            |s| {
                s.write_all(b"Hello fr").unwrap();
                s.shutdown(Shutdown::Write).unwrap();
            },
            Err((
                UnexpectedEof,
                Some("peer closed the connection after 8 of 17 bytes"),
            )),
        ),
        (
            "too long",
            |s| {
                let _ = s.write_all(&[b'x'; 3 * MAX]);
            },
            Err((InvalidData, Some("message longer than 64 bytes"))),
        ),
        (
            "silent",
            |_| {},
            Err((TimedOut, Some("peer sent nothing within 800ms"))),
        ),
        (
            "a beginning of the greeting, then silent",
            |s| s.write_all(b"Hello").unwrap(),
            Err((
                TimedOut,
                Some("peer sent only 5 bytes of its message within 800ms"),
            )),
        ),
        // Past the deadline while bytes still come: which of the two
        // timed-out messages depends on whether a byte or the timer is
        // first, so only the kind is compared.
        (
            "another message dripping faster than the quiet gap",
            |s| drip(s, &[b'z'; 40], Duration::from_millis(40)),
            Err((TimedOut, None)),
        ),
        (
            "the greeting dripping past the deadline",
            |s| {
                drip(
                    s,
                    &CLIENT_GREETING.as_bytes()[..16],
                    Duration::from_millis(70),
                )
            },
            Err((TimedOut, None)),
        ),
    ]
}

/// Connects, runs `script` on its own thread, then reads until the server
/// closes. Returns the client's address, as the server names it.
fn hostile(addr: SocketAddr, script: Script) -> (SocketAddr, thread::JoinHandle<()>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let local = stream.local_addr().unwrap();
    let handle = thread::spawn(move || {
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.set_write_timeout(Some(PATIENCE)).unwrap();
        script(&mut stream);
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    });
    (local, handle)
}

fn exchange() -> Exchange {
    let mut ex = Exchange::server();
    ex.timeout(TIMEOUT).quiet(QUIET).max_message(MAX);
    ex
}

fn check(driver: &str, case: &str, result: &sockwright::Result<Vec<u8>>, expected: &Expected) {
    match (result, expected) {
        (Ok(got), Ok(want)) => assert_eq!(got, want, "{driver}, {case}"),
        (Err(err), Err((kind, words))) => {
            assert_eq!(err.kind(), *kind, "{driver}, {case}: {err}");
            if let Some(words) = words {
                assert!(
                    err.to_string().ends_with(&format!(": {words}")),
                    "{driver}, {case}: {err}"
                );
            }
        }
        (got, _) => panic!("{driver}, {case}: expected {expected:?}, got {got:?}"),
    }
}

/// The error's text after the peer's name, or the message.
fn shown(result: &sockwright::Result<Vec<u8>>) -> String {
    match result {
        Ok(got) => format!("Ok({:?})", String::from_utf8_lossy(got)),
        Err(err) => {
            let text = err.to_string();
            let at = text.find(": ").map_or(0, |i| i + 2);
            format!("{:?}: {}", err.kind(), &text[at..])
        }
    }
}

#[test]
fn every_framing_rule_is_the_same_through_exchange_and_server() {
    let started = Instant::now();
    let cases = cases();
    let count = cases.len();

    // The readiness driver: one server for every case at once.
    let listener = ListenerBuilder::new()
        .backlog(64)
        .listen("127.0.0.1:0")
        .unwrap();
    let served_addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    let server = thread::spawn(move || {
        Server::new(exchange())
            .clients(count as u64)
            .serve_tcp(&listener, move |outcome| {
                tx.send(outcome).unwrap();
            })
    });
    let served_clients: Vec<_> = cases
        .iter()
        .map(|(_, script, _)| hostile(served_addr, *script))
        .collect();

    // The blocking driver: a thread per case.
    let blocking: TcpListener = ListenerBuilder::new()
        .backlog(64)
        .listen("127.0.0.1:0")
        .unwrap();
    let blocking_addr = blocking.local_addr().unwrap();
    let mut runs = Vec::new();
    let mut blocking_clients = Vec::new();
    for (_, script, _) in &cases {
        blocking_clients.push(hostile(blocking_addr, *script).1);
        let (mut conn, _) = blocking.accept().unwrap();
        runs.push(thread::spawn(move || exchange().run(&mut conn)));
    }
    let blocking_results: Vec<_> = runs.into_iter().map(|r| r.join().unwrap()).collect();

    let summary = server.join().unwrap().unwrap();
    assert_eq!(summary.accepted, count as u64);
    let outcomes: Vec<_> = rx.try_iter().collect();
    assert_eq!(outcomes.len(), cases.len());
    for (i, ((name, _, expected), blocking_result)) in
        cases.iter().zip(&blocking_results).enumerate()
    {
        // The server's outcomes come in any order: each is matched to its
        // case by the client's address.
        let (client_addr, _) = &served_clients[i];
        let served = outcomes
            .iter()
            .find(|o| o.peer == sockwright::Address::Inet(*client_addr))
            .unwrap_or_else(|| panic!("{name}: no outcome for {client_addr}"));
        check("Exchange", name, blocking_result, expected);
        check("Server", name, &served.result, expected);
        eprintln!("{name:<52} Exchange: {}", shown(blocking_result));
        eprintln!("{:<52} Server:   {}", "", shown(&served.result));
    }
    for (_, client) in served_clients {
        client.join().expect("a client panicked");
    }
    for client in blocking_clients {
        client.join().expect("a client panicked");
    }
    eprintln!("took {:?}", started.elapsed());
}
