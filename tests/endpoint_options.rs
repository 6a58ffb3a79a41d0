//! Every option through an endpoint: each listener and connector option is
//! set alone on a builder that then listens on (or connects to) a TCP, a
//! Unix-path and an abstract endpoint. An option that cannot act on the
//! endpoint's transport is left out with exactly one `debug` line naming
//! it, never an `InvalidConfig`; one that can act is set (no line). The
//! direct calls (`listen_unix`, `connect_unix`) keep refusing the options
//! that do not act on a Unix socket.
//!
//! The expected transports are written here from what each OS option does,
//! not read from the crate's table.
//!
//! A test program of its own, with one test function: the logger it
//! installs is global to the process and can be set only once, and the
//! lines of any test beside it would be counted as this test's.
#![cfg(target_os = "linux")]

mod util;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use log::{LevelFilter, Log, Metadata, Record};
use sockwright::{ConnectorBuilder, Endpoint, Error, Keepalive, ListenerBuilder, Protocol};
use util::TempDir;

/// Every `debug` line logged: (target, message).
struct Recorder(Mutex<Vec<(String, String)>>);

impl Log for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &Record<'_>) {
        if record.level() == log::Level::Debug {
            let line = (record.target().to_owned(), record.args().to_string());
            self.0.lock().unwrap().push(line);
        }
    }

    fn flush(&self) {}
}

static RECORDER: Recorder = Recorder(Mutex::new(Vec::new()));

/// The `skipped` lines logged under `target` since the last call.
fn skipped_lines(target: &str) -> Vec<String> {
    std::mem::take(&mut *RECORDER.0.lock().unwrap())
        .into_iter()
        .filter(|(t, m)| t == target && m.starts_with("skipped "))
        .map(|(_, m)| m)
        .collect()
}

/// Where an option acts: a TCP socket, a Unix stream socket, a socket file.
#[derive(Clone, Copy)]
struct Acts {
    tcp: bool,
    unix: bool,
    /// Only where there is a file (`mode`): a Unix path, not `@NAME`.
    file_only: bool,
}

const TCP: Acts = Acts {
    tcp: true,
    unix: false,
    file_only: false,
};
const STREAMS: Acts = Acts {
    tcp: true,
    unix: true,
    file_only: false,
};
const NEITHER: Acts = Acts {
    tcp: false,
    unix: false,
    file_only: false,
};
const FILE: Acts = Acts {
    tcp: false,
    unix: true,
    file_only: true,
};

/// One option: the word after `skipped` in its line, how to set it, where it acts.
struct Case<B> {
    name: &'static str,
    set: fn(&mut B),
    acts: Acts,
}

macro_rules! cases {
    ($b:ty; $($name:literal, $acts:expr, |$v:ident| $set:expr;)*) => {
        vec![$(Case::<$b> { name: $name, set: |$v| { $set; }, acts: $acts },)*]
    };
}

fn listener_cases() -> Vec<Case<ListenerBuilder>> {
    cases![ListenerBuilder;
        "reuse_address", TCP, |b| b.reuse_address(true);
        "reuse_port", TCP, |b| b.reuse_port(true);
        "only_v6", TCP, |b| b.only_v6(true);
        "send_buffer_size", STREAMS, |b| b.send_buffer_size(65536);
        "recv_buffer_size", STREAMS, |b| b.recv_buffer_size(65536);
        "ttl", TCP, |b| b.ttl(64);
        "tos", TCP, |b| b.tos(0x10);
        "mark", TCP, |b| b.mark(7);
        "ip_transparent", TCP, |b| b.ip_transparent(true);
        "freebind", TCP, |b| b.freebind(true);
        "bind_device", TCP, |b| b.bind_device("lo");
        "bind_device_by_index", TCP, |b| b.bind_device_by_index(NonZeroU32::new(1).unwrap());
        "nodelay", TCP, |b| b.nodelay(true);
        "keepalive", TCP, |b| b.keepalive(Keepalive::new().time(Duration::from_secs(60)));
        "linger", STREAMS, |b| b.linger(Some(Duration::from_secs(1)));
        "tcp_user_timeout", TCP, |b| b.tcp_user_timeout(Duration::from_secs(5));
        "tcp_congestion", TCP, |b| b.tcp_congestion("reno");
        "tcp_mss", TCP, |b| b.tcp_mss(1200);
        "tcp_notsent_lowat", TCP, |b| b.tcp_notsent_lowat(16384);
        "tcp_fastopen", TCP, |b| b.tcp_fastopen(5);
        "tcp_defer_accept", TCP, |b| b.tcp_defer_accept(Duration::from_secs(1));
        "busy_poll", TCP, |b| b.busy_poll(Duration::from_micros(50));
        "cpu_affinity", TCP, |b| b.cpu_affinity(0);
        "broadcast", NEITHER, |b| b.broadcast(true);
        "multicast_loop", NEITHER, |b| b.multicast_loop(true);
        "multicast_ttl", NEITHER, |b| b.multicast_ttl(2);
        "multicast_if_v4", NEITHER, |b| b.multicast_if_v4(Ipv4Addr::LOCALHOST);
        "multicast_if_v6", NEITHER, |b| b.multicast_if_v6(1);
        "join_multicast_v4", NEITHER, |b| b.join_multicast_v4(Ipv4Addr::new(239, 1, 2, 3), Ipv4Addr::LOCALHOST);
        "join_multicast_v6", NEITHER, |b| b.join_multicast_v6("ff02::123".parse().unwrap(), 1);
        "protocol", TCP, |b| b.protocol(Protocol::Mptcp);
        "mode", FILE, |b| b.mode(0o600);
    ]
}

fn connector_cases() -> Vec<Case<ConnectorBuilder>> {
    cases![ConnectorBuilder;
        "reuse_address", TCP, |b| b.reuse_address(true);
        "reuse_port", TCP, |b| b.reuse_port(true);
        "only_v6", TCP, |b| b.only_v6(true);
        "send_buffer_size", STREAMS, |b| b.send_buffer_size(65536);
        "recv_buffer_size", STREAMS, |b| b.recv_buffer_size(65536);
        "ttl", TCP, |b| b.ttl(64);
        "tos", TCP, |b| b.tos(0x10);
        "mark", TCP, |b| b.mark(7);
        "ip_transparent", TCP, |b| b.ip_transparent(true);
        "freebind", TCP, |b| b.freebind(true);
        "bind_device", TCP, |b| b.bind_device("lo");
        "bind_device_by_index", TCP, |b| b.bind_device_by_index(NonZeroU32::new(1).unwrap());
        "nodelay", TCP, |b| b.nodelay(true);
        "keepalive", TCP, |b| b.keepalive(Keepalive::new().time(Duration::from_secs(60)));
        "linger", STREAMS, |b| b.linger(Some(Duration::from_secs(1)));
        "tcp_user_timeout", TCP, |b| b.tcp_user_timeout(Duration::from_secs(5));
        "tcp_congestion", TCP, |b| b.tcp_congestion("reno");
        "tcp_mss", TCP, |b| b.tcp_mss(1200);
        "tcp_notsent_lowat", TCP, |b| b.tcp_notsent_lowat(16384);
        "tcp_fastopen_connect", TCP, |b| b.tcp_fastopen_connect(true);
        "busy_poll", TCP, |b| b.busy_poll(Duration::from_micros(50));
        "cpu_affinity", TCP, |b| b.cpu_affinity(0);
        "read_timeout", STREAMS, |b| b.read_timeout(Duration::from_secs(5));
        "write_timeout", STREAMS, |b| b.write_timeout(Duration::from_secs(5));
        "broadcast", NEITHER, |b| b.broadcast(true);
        "multicast_loop", NEITHER, |b| b.multicast_loop(true);
        "multicast_ttl", NEITHER, |b| b.multicast_ttl(2);
        "multicast_if_v4", NEITHER, |b| b.multicast_if_v4(Ipv4Addr::LOCALHOST);
        "multicast_if_v6", NEITHER, |b| b.multicast_if_v6(1);
        "protocol", TCP, |b| b.protocol(Protocol::Mptcp);
        "the source address", TCP, |b| b.local_address(SocketAddr::from((Ipv6Addr::LOCALHOST, 0)));
    ]
}

/// What each endpoint kind is, for the expectations.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Tcp,
    Path,
    Abstract,
}

fn acts_on(acts: Acts, kind: Kind) -> bool {
    match kind {
        Kind::Tcp => acts.tcp,
        Kind::Path => acts.unix,
        Kind::Abstract => acts.unix && !acts.file_only,
    }
}

/// An error an option that acts may meet when the OS refuses it (such as
/// `SO_MARK` without `CAP_NET_ADMIN`, MPTCP where the kernel has none):
/// the option was tried, not refused by the builder.
fn refused_by_the_os(err: &Error) -> bool {
    matches!(err, Error::SetOption { .. } | Error::Create { .. })
}

#[test]
fn every_option_through_every_endpoint() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 loopback here (the TCP endpoint is [::1], for only_v6)");
        return;
    }
    log::set_logger(&RECORDER).expect("no other logger in this test binary");
    log::set_max_level(LevelFilter::Debug);
    let dir = TempDir::new("endpoint-options");
    let pid = std::process::id();
    let (mut skipped_total, mut set_total, mut os_refused) = (0, 0, 0);

    // The listener side: a fresh endpoint per option.
    for (i, case) in listener_cases().iter().enumerate() {
        let endpoints = [
            (Kind::Tcp, "[::1]:0".to_owned()),
            (
                Kind::Path,
                format!("unix:{}", dir.join(&format!("l{i}.sock")).display()),
            ),
            (Kind::Abstract, format!("@sockwright-options-{pid}-l{i}")),
        ];
        for (kind, text) in endpoints {
            let endpoint: Endpoint = text.parse().unwrap();
            let mut builder = ListenerBuilder::new();
            (case.set)(&mut builder);
            skipped_lines("");
            let made = builder.listen_endpoint(&endpoint);
            let lines = skipped_lines("sockwright::listener");
            let acts = acts_on(case.acts, kind);
            match &made {
                Ok(_) => {}
                Err(err) if acts && refused_by_the_os(err) => os_refused += 1,
                Err(err) => panic!("listen_endpoint({text}) with {}: {err}", case.name),
            }
            let own: Vec<_> = lines
                .iter()
                .filter(|l| l.starts_with(&format!("skipped {} ", case.name)))
                .collect();
            if acts {
                assert!(lines.is_empty(), "{} on {text}: {lines:?}", case.name);
                set_total += 1;
            } else {
                assert_eq!(own.len(), 1, "{} on {text}: {lines:?}", case.name);
                assert_eq!(lines.len(), 1, "{} on {text}: {lines:?}", case.name);
                assert!(lines[0].contains(&endpoint.to_string()), "{lines:?}");
                skipped_total += 1;
            }
        }
        // The direct call on a path keeps its error for an option that
        // cannot act on a Unix socket.
        if !case.acts.unix && case.name != "mode" {
            let mut builder = ListenerBuilder::new();
            (case.set)(&mut builder);
            let err = builder
                .listen_unix(dir.join(&format!("direct-l{i}.sock")))
                .unwrap_err();
            assert!(
                matches!(err, Error::InvalidConfig { .. }),
                "{}: {err}",
                case.name
            );
        }
    }

    // The connector side: one server per endpoint kind.
    let servers = [
        (Kind::Tcp, "[::1]:0".to_owned()),
        (
            Kind::Path,
            format!("unix:{}", dir.join("server.sock").display()),
        ),
        (Kind::Abstract, format!("@sockwright-options-{pid}-server")),
    ];
    for (kind, text) in servers {
        let listener = ListenerBuilder::new()
            .listen_endpoint(&text.parse().unwrap())
            .unwrap();
        let endpoint: Endpoint = match kind {
            Kind::Tcp => listener.local_addr().unwrap().to_string().parse().unwrap(),
            _ => text.parse().unwrap(),
        };
        for case in connector_cases() {
            let mut builder = ConnectorBuilder::new();
            builder.connect_timeout(Duration::from_secs(5));
            (case.set)(&mut builder);
            skipped_lines("");
            let made = builder.connect_endpoint(&endpoint);
            let lines = skipped_lines("sockwright::connector");
            let acts = acts_on(case.acts, kind);
            match &made {
                Ok(_) => drop(listener.accept().unwrap()),
                Err(err) if acts && refused_by_the_os(err) => os_refused += 1,
                Err(err) => panic!("connect_endpoint({endpoint}) with {}: {err}", case.name),
            }
            if acts {
                assert!(lines.is_empty(), "{} to {endpoint}: {lines:?}", case.name);
                set_total += 1;
            } else {
                assert_eq!(lines.len(), 1, "{} to {endpoint}: {lines:?}", case.name);
                assert!(
                    lines[0].starts_with(&format!("skipped {} ", case.name)),
                    "{lines:?}"
                );
                skipped_total += 1;
            }
            if kind == Kind::Path && !case.acts.unix {
                let mut builder = ConnectorBuilder::new();
                (case.set)(&mut builder);
                let err = builder.connect_unix(dir.join("server.sock")).unwrap_err();
                assert!(
                    matches!(err, Error::InvalidConfig { .. }),
                    "{}: {err}",
                    case.name
                );
            }
        }
    }
    eprintln!(
        "options through endpoints: {set_total} set where they act ({os_refused} of them refused by the OS), {skipped_total} skipped with one debug line each"
    );
}
