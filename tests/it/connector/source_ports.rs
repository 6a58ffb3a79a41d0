//! Source ports that do not run out: with `local_address(ip:0)` the
//! connector sets `IP_BIND_ADDRESS_NO_PORT` before `bind`, so the kernel
//! picks the port at `connect` and one port serves a connection to each
//! destination; `local_port_range` (`IP_LOCAL_PORT_RANGE`) narrows the
//! ports one connector uses. Each case runs on a thread of its own in a
//! network namespace of its own (`unshare(CLONE_NEWNET)`, gone with the
//! thread), whose `net.ipv4.ip_local_port_range` it sets.
//!
//! `cargo test --test it connector::source_ports:: -- --nocapture` prints the counts.
#![cfg(target_os = "linux")]

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use sockwright::{ConnectorBuilder, ListenerBuilder};

/// Runs `case` on a new thread in a new network namespace with loopback up
/// and the ephemeral range set to `low..=high`; `None` (with the reason on
/// stderr) where that cannot be done here.
fn in_netns<T: Send + 'static>(
    low: u16,
    high: u16,
    case: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    crate::util::namespace::on_own_netns_thread(
        (
            "/proc/sys/net/ipv4/ip_local_port_range",
            format!("{low} {high}"),
        ),
        case,
    )
}

/// Two listeners on 127.0.0.1, on ports outside the ephemeral range, with
/// room in their queues for every connection.
fn two_listeners() -> [(std::net::TcpListener, SocketAddr); 2] {
    [7001, 7002].map(|port| {
        let listener = ListenerBuilder::new()
            .backlog(512)
            .listen(("127.0.0.1", port))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        (listener, addr)
    })
}

const CONNECTIONS: usize = 150;

#[test]
fn one_source_address_holds_150_connections_to_two_listeners_with_100_ports() {
    let Some(made) = in_netns(40000, 40099, || {
        let listeners = two_listeners();
        let started = Instant::now();
        let mut builder = ConnectorBuilder::new();
        builder
            .local_address("127.0.0.1:0".parse().unwrap())
            .connect_timeout(Duration::from_secs(2));
        let mut held: Vec<TcpStream> = Vec::with_capacity(CONNECTIONS);
        for i in 0..CONNECTIONS {
            assert!(started.elapsed() < Duration::from_secs(10), "too slow");
            let (_, addr) = &listeners[i % 2];
            match builder.connect(*addr) {
                Ok(stream) => held.push(stream),
                Err(e) => panic!("connection {} of {CONNECTIONS} failed: {e}", i + 1),
            }
        }
        let mut ports: Vec<u16> = held
            .iter()
            .map(|s| s.local_addr().unwrap().port())
            .collect();
        assert!(
            ports.iter().all(|p| (40000..=40099).contains(p)),
            "{ports:?}"
        );
        ports.sort_unstable();
        ports.dedup();
        (held.len(), ports.len(), started.elapsed())
    }) else {
        return;
    };
    // The control, in a namespace of its own: the same without
    // IP_BIND_ADDRESS_NO_PORT (socket2 by hand), where `bind` picks a port
    // unique across destinations.
    let Some(control) = in_netns(40000, 40099, || {
        let listeners = two_listeners();
        let mut control: Vec<socket2::Socket> = Vec::new();
        let mut failure = None;
        for i in 0..CONNECTIONS {
            let (_, addr) = &listeners[i % 2];
            let socket =
                socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
            let step = socket
                .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
                .and_then(|()| socket.connect(&(*addr).into()));
            match step {
                Ok(()) => control.push(socket),
                Err(e) => {
                    failure = Some((i + 1, e));
                    break;
                }
            }
        }
        (control.len(), failure)
    }) else {
        return;
    };
    let (held, ports, took) = made;
    eprintln!(
        "with 100 ephemeral ports: {held} connections from 127.0.0.1:0 to 2 listeners held at once, \
         on {ports} distinct source ports, in {took:?}"
    );
    assert_eq!(held, CONNECTIONS);
    assert!(ports <= 100, "{ports} ports");
    let (count, failure) = control;
    eprintln!("control, bind(127.0.0.1:0) then connect: {count} connections, then {failure:?}");
    let (at, err) = failure.expect("the control runs out of ports");
    assert_eq!(count, 100, "the control holds one connection per port");
    assert_eq!(at, 101);
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
}

#[test]
fn local_port_range_keeps_each_source_port_in_it() {
    let Some(outcome) = in_netns(40000, 40999, || {
        let [(_l1, one), _] = two_listeners();
        let mut builder = ConnectorBuilder::new();
        builder.local_port_range(40100..=40109);
        let mut held = Vec::new();
        let err = loop {
            match builder.connect(one) {
                Ok(stream) => held.push(stream),
                Err(err) => break err,
            }
            assert!(held.len() <= 10, "more connections than ports in the range");
        };
        let ports: Vec<u16> = held
            .iter()
            .map(|s| s.local_addr().unwrap().port())
            .collect();
        // The same with a source address of port 0 and over IPv6.
        let v6 = ListenerBuilder::new().listen("[::1]:7003").unwrap();
        let stream = ConnectorBuilder::new()
            .local_address("[::1]:0".parse().unwrap())
            .local_port_range(40500..=40500)
            .connect(v6.local_addr().unwrap())
            .unwrap();
        (ports, err, stream.local_addr().unwrap().port())
    }) else {
        return;
    };
    let (ports, err, v6_port) = outcome;
    eprintln!(
        "local_port_range 40100..=40109: {} connections on ports {ports:?}, then: {err}; \
         [::1]:0 with 40500..=40500: port {v6_port}",
        ports.len()
    );
    if err.to_string().contains("IP_LOCAL_PORT_RANGE") {
        eprintln!("skipped: this kernel has no IP_LOCAL_PORT_RANGE (Linux 6.3)");
        return;
    }
    assert_eq!(ports.len(), 10);
    assert!(
        ports.iter().all(|p| (40100..=40109).contains(p)),
        "{ports:?}"
    );
    assert_eq!(err.kind(), io::ErrorKind::AddrNotAvailable, "{err}");
    assert_eq!(v6_port, 40500);
}

#[test]
fn an_empty_local_port_range_is_refused_before_any_call() {
    #[allow(clippy::reversed_empty_ranges)]
    let err = ConnectorBuilder::new()
        .local_port_range(5000..=4000)
        .connect("127.0.0.1:9")
        .unwrap_err();
    eprintln!("{err}");
    assert!(
        matches!(err, sockwright::Error::InvalidConfig { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("local_port_range (IP_LOCAL_PORT_RANGE) 5000..=4000"),
        "{err}"
    );
}
