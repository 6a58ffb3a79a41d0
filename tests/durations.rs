//! Every duration the crate accepts, swept from its smallest to
//! `Duration::MAX`, through every way it is used: no panic, and either a
//! clear error or a working exchange. Loopback only; where a duration means
//! "no limit", the peer answers, so the operation completes.

mod util;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use sockwright::hello::{Exchange, Server, CLIENT_GREETING, SERVER_GREETING};
use sockwright::ListenerBuilder;

/// The extremes every setter is swept with.
const EXTREMES: [Duration; 7] = [
    Duration::from_nanos(1),
    Duration::from_micros(1),
    Duration::from_micros(999),
    Duration::from_secs(u32::MAX as u64),
    Duration::from_secs(u64::MAX),
    Duration::MAX,
    Duration::from_secs(1),
];

/// Whether `d` is too short for a loopback exchange to finish within it.
fn tiny(d: Duration) -> bool {
    d < Duration::from_millis(1)
}

fn local() -> (TcpListener, SocketAddr) {
    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// A hello server for `clients` clients with `exchange`, on its own thread.
fn server(
    exchange: Exchange,
    clients: u64,
) -> (
    SocketAddr,
    thread::JoinHandle<sockwright::Result<Vec<sockwright::Result<Vec<u8>>>>>,
) {
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

#[test]
fn hello_server_takes_every_timeout_and_quiet_gap() {
    let started = Instant::now();
    for d in EXTREMES {
        // The timeout: the greeting arrives at once, so any timeout above
        // the time it takes is answered; a tiny one may run out first, as a
        // timeout, never a panic.
        let mut exchange = Exchange::server();
        exchange.timeout(d);
        let (addr, handle) = server(exchange, 2);
        for _ in 0..2 {
            let reply = Exchange::client().run_tcp(&mut TcpStream::connect(addr).unwrap());
            if !tiny(d) {
                assert_eq!(reply.unwrap(), SERVER_GREETING.as_bytes(), "timeout {d:?}");
            }
        }
        let results = handle.join().expect("the server thread panicked").unwrap();
        assert_eq!(results.len(), 2, "timeout {d:?}");
        for result in results {
            match result {
                Ok(message) => assert_eq!(message, CLIENT_GREETING.as_bytes()),
                Err(e) => assert!(tiny(d), "timeout {d:?}: {e}"),
            }
        }

        // The quiet gap: a message that is not the greeting completes after
        // it, or at end of file when the gap is longer than the peer waits.
        let mut exchange = Exchange::server();
        exchange.quiet(d).timeout(Duration::from_secs(5));
        let (addr, handle) = server(exchange, 1);
        let mut client = Exchange::client();
        client.message("not the greeting");
        let mut stream = TcpStream::connect(addr).unwrap();
        if d > Duration::from_secs(5) {
            // No gap can end in time: the client ends its message by
            // closing its side.
            use std::io::Write;
            stream.write_all(b"not the greeting").unwrap();
            stream.shutdown(std::net::Shutdown::Write).unwrap();
        } else {
            assert_eq!(
                client.run_tcp(&mut stream).unwrap(),
                SERVER_GREETING.as_bytes()
            );
        }
        let results = handle.join().expect("the server thread panicked").unwrap();
        assert_eq!(
            results[0].as_deref().unwrap(),
            b"not the greeting",
            "quiet {d:?}"
        );
    }
    eprintln!(
        "hello server: {} timeouts and quiet gaps in {:?}",
        EXTREMES.len(),
        started.elapsed()
    );
}
