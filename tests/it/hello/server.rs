//! `hello::Server`: clients served concurrently within the bound, panics
//! contained, nonblocking listeners served, and 1,000 connections with 50
//! stalled.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use sockwright::hello::{Exchange, Outcome, SERVER_GREETING, Server, Summary};
use sockwright::{ConnectorBuilder, ListenerBuilder};

/// The most a result may come after it is due, on a loaded machine.
const MARGIN: Duration = Duration::from_millis(1500);

fn listener() -> (TcpListener, SocketAddr) {
    let listener = ListenerBuilder::new()
        .backlog(64)
        .listen("127.0.0.1:0")
        .unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

fn client(addr: SocketAddr) -> sockwright::Result<Vec<u8>> {
    Exchange::client().run(&mut ConnectorBuilder::new().connect(addr)?)
}

/// Two silent clients, then one real client, against a server serving at
/// most `max` at once with a 1 s timeout. Returns how long after the first
/// connect the real client had its reply, and the server's summary.
fn third_client_wait(max: usize) -> (Duration, Summary) {
    const TIMEOUT: Duration = Duration::from_secs(1);
    let (listener, addr) = listener();
    let server = thread::spawn(move || {
        let mut exchange = Exchange::server();
        exchange.timeout(TIMEOUT);
        Server::new(exchange)
            .max_clients(max)
            .clients(3)
            .serve_tcp(&listener, |_| {})
    });
    let start = Instant::now();
    let silent: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
    assert_eq!(client(addr).unwrap(), SERVER_GREETING.as_bytes());
    let waited = start.elapsed();
    let summary = server.join().unwrap().unwrap();
    drop(silent);
    (waited, summary)
}

#[test]
fn clients_beyond_the_maximum_wait_for_a_free_slot() {
    // Both slots held by silent clients: the third is accepted only when
    // one of them times out.
    let (waited, summary) = third_client_wait(2);
    assert!(
        waited >= Duration::from_secs(1) && waited <= Duration::from_secs(1) + MARGIN,
        "waited {waited:?}"
    );
    assert_eq!(
        (summary.accepted, summary.succeeded, summary.failed),
        (3, 1, 2)
    );

    // With a third slot it is served at once, beside the silent ones.
    let (waited, summary) = third_client_wait(3);
    assert!(waited < Duration::from_secs(1), "waited {waited:?}");
    assert_eq!(
        (summary.accepted, summary.succeeded, summary.failed),
        (3, 1, 2)
    );
}

#[test]
fn a_panicking_callback_does_not_reach_the_caller() {
    let (listener, addr) = listener();
    let clients = thread::spawn(move || (0..3).map(|_| client(addr).is_ok()).collect::<Vec<_>>());
    let mut calls = 0;
    let summary = Server::new(Exchange::server())
        .clients(3)
        .serve_tcp(&listener, |outcome: Outcome| {
            calls += 1;
            assert!(outcome.result.is_err(), "callback panics on purpose");
        })
        .unwrap();
    assert_eq!(calls, 3);
    assert_eq!((summary.accepted, summary.succeeded), (3, 3));
    assert_eq!(clients.join().unwrap(), [true, true, true]);
}

/// The CPU time the calling thread has used (Linux; clock ticks, usually
/// 10 ms each).
#[cfg(target_os = "linux")]
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    // The fields after the command name, which ends with the last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

#[test]
fn a_slow_callback_does_not_hold_clients_back() {
    // Each callback takes CALLBACK; clients come from THREADS threads at
    // once. Were a client to wait for other clients' callbacks, the slowest
    // would wait for several of them.
    const CALLBACK: Duration = Duration::from_millis(50);
    const THREADS: usize = 8;
    const EACH: usize = 6;
    let total = THREADS * EACH;
    let (listener, addr) = listener();
    let server = thread::spawn(move || {
        let mut calls = 0;
        let summary = Server::default()
            .clients(total as u64)
            .serve_tcp(&listener, |outcome| {
                assert!(outcome.result.is_ok(), "{:?}", outcome.result);
                thread::sleep(CALLBACK);
                calls += 1;
            });
        (summary, calls)
    });
    let start = Instant::now();
    let clients: Vec<_> = (0..THREADS)
        .map(|_| {
            thread::spawn(move || {
                (0..EACH)
                    .map(|_| {
                        let began = Instant::now();
                        assert_eq!(client(addr).unwrap(), SERVER_GREETING.as_bytes());
                        began.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut waits: Vec<Duration> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    let served = start.elapsed();
    let (summary, calls) = server.join().unwrap();
    let summary = summary.unwrap();
    let returned = start.elapsed();
    waits.sort();
    let p50 = waits[waits.len() / 2];
    let p99 = waits[(waits.len() * 99).div_ceil(100) - 1];
    eprintln!(
        "{total} clients from {THREADS} threads, callback {CALLBACK:?}: exchange p50 {p50:?}, \
         p99 {p99:?}, max {:?}; all served after {served:?}, serve_tcp returned after {returned:?}",
        waits[waits.len() - 1]
    );
    assert_eq!(
        (summary.accepted, summary.succeeded),
        (total as u64, total as u64)
    );
    // Every callback ran before the call returned, one at a time.
    assert_eq!(calls, total);
    assert!(
        returned >= CALLBACK * total as u32,
        "returned after {returned:?}"
    );
    // No client waited for callbacks: were they in its way, most would wait
    // for several (8 threads' worth, 400 ms); the bound leaves room for a
    // loaded machine.
    assert!(
        p99 < 2 * CALLBACK,
        "p99 {p99:?} with a {CALLBACK:?} callback"
    );
}

#[test]
fn a_nonblocking_listener_is_served_like_a_blocking_one() {
    // As a service manager hands it over with `NonBlocking=yes`: each
    // client comes after a pause, so the server waits for the listener
    // between them, in `poll`, not in a busy loop.
    const CLIENTS: usize = 5;
    const PAUSE: Duration = Duration::from_millis(100);
    let (listener, addr) = listener();
    listener.set_nonblocking(true).unwrap();
    let server = thread::spawn(move || {
        #[cfg(target_os = "linux")]
        let cpu = thread_cpu();
        let summary = Server::default()
            .clients(CLIENTS as u64)
            .serve_tcp(&listener, |_| {});
        #[cfg(target_os = "linux")]
        let cpu = thread_cpu() - cpu;
        #[cfg(not(target_os = "linux"))]
        let cpu = Duration::ZERO;
        (summary, cpu)
    });
    let start = Instant::now();
    for _ in 0..CLIENTS {
        thread::sleep(PAUSE);
        assert_eq!(client(addr).unwrap(), SERVER_GREETING.as_bytes());
    }
    let (summary, cpu) = server.join().unwrap();
    let summary = summary.unwrap();
    let took = start.elapsed();
    eprintln!(
        "{CLIENTS} clients {PAUSE:?} apart on a nonblocking listener: {took:?}, accepting thread's CPU {cpu:?}"
    );
    assert_eq!(
        (summary.accepted, summary.succeeded),
        (CLIENTS as u64, CLIENTS as u64)
    );
    // A busy loop would spend the whole run on the CPU.
    assert!(
        cpu < took / 4,
        "the accepting thread used {cpu:?} of {took:?}"
    );
}

#[test]
fn a_nonblocking_datagram_socket_is_served_like_a_blocking_one() {
    const CLIENTS: u64 = 3;
    let socket = ListenerBuilder::new().bind_udp("127.0.0.1:0").unwrap();
    socket.set_nonblocking(true).unwrap();
    let addr = socket.local_addr().unwrap();
    let server = thread::spawn(move || {
        Server::default()
            .clients(CLIENTS)
            .serve_udp(&socket, |_| {})
    });
    for _ in 0..CLIENTS {
        thread::sleep(Duration::from_millis(50));
        let client = ConnectorBuilder::new().connect_udp(addr).unwrap();
        assert_eq!(
            Exchange::client().run_udp(&client).unwrap().0,
            SERVER_GREETING.as_bytes()
        );
    }
    let summary = server.join().unwrap().unwrap();
    assert_eq!(
        (summary.accepted, summary.succeeded, summary.accept_errors),
        (CLIENTS, CLIENTS, 0)
    );
}

#[cfg(target_os = "linux")]
#[test]
fn shutting_a_nonblocking_listener_down_ends_an_endless_run() {
    shutting_down_ends_an_endless_run(true);
}

#[cfg(target_os = "linux")]
#[test]
fn shutting_the_listener_down_ends_an_endless_run() {
    shutting_down_ends_an_endless_run(false);
}

/// An endless run on a listener (nonblocking or not) serves a client, then
/// ends with `EINVAL` once `shutdown(2)` is called on the listener.
#[cfg(target_os = "linux")]
fn shutting_down_ends_an_endless_run(nonblocking: bool) {
    let (listener, addr) = listener();
    listener.set_nonblocking(nonblocking).unwrap();
    let listener = std::sync::Arc::new(listener);
    let server = thread::spawn({
        let listener = listener.clone();
        move || Server::default().serve_tcp(&listener, |_| {})
    });
    assert_eq!(client(addr).unwrap(), SERVER_GREETING.as_bytes());
    socket2::SockRef::from(&*listener)
        .shutdown(std::net::Shutdown::Both)
        .unwrap();
    let err = server.join().unwrap().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
}

#[cfg(target_os = "linux")]
#[test]
fn thousand_connections_with_50_stalled() {
    use std::sync::mpsc;
    // 2,200 open files at the most, and room for the tests beside it.
    crate::util::raise_nofile(4096).unwrap_or_else(|why| panic!("{why}"));
    let listener = ListenerBuilder::new()
        .backlog(1024)
        .listen("127.0.0.1:0")
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (sender, outcomes) = mpsc::channel::<bool>();
    let server = thread::spawn(move || {
        let mut exchange = Exchange::server();
        exchange.timeout(Duration::from_secs(3));
        Server::new(exchange)
            .clients(1001)
            .serve_tcp(&listener, move |outcome| {
                let _ = sender.send(outcome.result.is_ok());
            })
    });
    let load = crate::util::hello::load(addr, 950, 50, 10, Duration::from_secs(30));
    assert_eq!(load.served, 950, "{:?}", load.failures);
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut ok, mut failed) = (0, 0);
    while ok + failed < 1000 {
        let left = deadline.saturating_duration_since(Instant::now());
        match outcomes.recv_timeout(left) {
            Ok(true) => ok += 1,
            Ok(false) => failed += 1,
            Err(e) => panic!("{e} after {ok} served and {failed} failed"),
        }
    }
    assert_eq!((ok, failed), (950, 50));
    // Every stalled client has timed out; the server still accepts.
    assert_eq!(client(addr).unwrap(), SERVER_GREETING.as_bytes());
    let summary = server.join().unwrap().unwrap();
    assert_eq!(
        (summary.accepted, summary.succeeded, summary.failed),
        (1001, 951, 50)
    );
    println!(
        "library server: 1,000 connections, 950 served in {:?}, 50 timed out",
        load.elapsed
    );
}

/// Linux only: there `accept` still returns a connection reset while it
/// waited in the queue (BSDs may drop it with `ECONNABORTED`).
#[cfg(target_os = "linux")]
#[test]
fn a_client_that_resets_is_named_by_its_address() {
    let (listener, addr) = listener();
    // Greets in part, then resets the connection (SO_LINGER 0) before the
    // server has even accepted it.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.connect(&addr.into()).unwrap();
    let client = socket.local_addr().unwrap().as_socket().unwrap();
    socket.send(b"Hello fr").unwrap();
    socket.set_linger(Some(Duration::ZERO)).unwrap();
    drop(socket);

    let mut outcomes = Vec::new();
    Server::default()
        .clients(1)
        .serve_tcp(&listener, |outcome| outcomes.push(outcome))
        .unwrap();
    assert_eq!(outcomes[0].peer, sockwright::Address::Inet(client));
    let err = outcomes[0].result.as_ref().unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("receive greeting from {client}: ")),
        "{err}"
    );
}

/// A datagram longer than the maximum is one failed client (`InvalidData`),
/// not a receive error that pauses the server: the next client is answered.
#[test]
fn udp_oversized_datagram_is_a_failed_client_and_the_next_is_served() {
    use sockwright::Address;
    use std::io::ErrorKind;
    use std::net::UdpSocket;

    let socket = ListenerBuilder::new().bind_udp("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let mut exchange = Exchange::server();
    exchange.max_message(64).timeout(Duration::from_secs(5));
    let server = thread::spawn(move || {
        let mut outcomes = Vec::new();
        let summary = Server::new(exchange)
            .clients(2)
            .serve_udp(&socket, |outcome| outcomes.push(outcome))
            .unwrap();
        (summary, outcomes)
    });

    let big = UdpSocket::bind("127.0.0.1:0").unwrap();
    big.send_to(&[b'x'; 200], addr).unwrap();
    let good = ConnectorBuilder::new().connect_udp(addr).unwrap();
    let (reply, from) = Exchange::client().run_udp(&good).unwrap();
    assert_eq!((reply.as_slice(), from), (SERVER_GREETING.as_bytes(), addr));

    let (summary, outcomes) = server.join().unwrap();
    assert_eq!(
        (
            summary.accepted,
            summary.succeeded,
            summary.failed,
            summary.accept_errors
        ),
        (2, 1, 1, 0),
        "{summary:?}"
    );
    let err = outcomes[0].result.as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
    // Windows does not say who sent a datagram too long for the buffer.
    let sender = if cfg!(windows) {
        Address::Unknown
    } else {
        Address::Inet(big.local_addr().unwrap())
    };
    assert_eq!(outcomes[0].peer, sender, "{err}");
    assert_eq!(outcomes[1].peer, Address::Inet(good.local_addr().unwrap()));
}
