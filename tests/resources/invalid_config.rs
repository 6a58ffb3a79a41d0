//! Configurations that cannot work fail with `Error::InvalidConfig` (or
//! `Error::Unsupported`) whose message says what is wrong, and (Linux)
//! leave the number of open file descriptors unchanged.
//!
//! It runs in `tests/resources`, in a process of its own, so no other test opens
//! descriptors while it counts them.

use std::io::ErrorKind;
use std::time::Duration;

#[cfg(target_os = "linux")]
use crate::util::fd_count;
use sockwright::{ConnectorBuilder, Domain, Error, Keepalive, ListenerBuilder, Protocol, Type};

/// What a row expects.
enum Expect {
    /// `Error::InvalidConfig` whose message contains this text.
    Invalid(&'static str),
    /// `Error::Unsupported` whose message contains this text.
    #[cfg(not(target_os = "linux"))]
    Unsupported(&'static str),
}

type Attempt = Box<dyn Fn() -> sockwright::Result<()>>;

/// A row: a name, a finishing call on a misconfigured builder, the expected error.
fn row<T>(
    name: &'static str,
    attempt: impl Fn() -> sockwright::Result<T> + 'static,
    expect: Expect,
) -> (&'static str, Attempt, Expect) {
    (name, Box::new(move || attempt().map(drop)), expect)
}

fn listener(setup: impl Fn(&mut ListenerBuilder) -> &mut ListenerBuilder) -> ListenerBuilder {
    let mut b = ListenerBuilder::new();
    setup(&mut b);
    b
}

fn connector(setup: impl Fn(&mut ConnectorBuilder) -> &mut ConnectorBuilder) -> ConnectorBuilder {
    let mut b = ConnectorBuilder::new();
    setup(&mut b);
    b
}

fn table() -> Vec<(&'static str, Attempt, Expect)> {
    use Expect::*;
    let secs = Duration::from_secs;
    let mut rows = vec![
        row(
            "IPv4 address on an IPv6 domain",
            || listener(|b| b.domain(Domain::Ipv6)).listen("127.0.0.1:0"),
            Invalid("IPv4 address 127.0.0.1:0 does not fit the IPv6 domain"),
        ),
        row(
            "IPv6 address on an IPv4 domain (connect)",
            || connector(|b| b.domain(Domain::Ipv4)).connect("[::1]:9"),
            Invalid("IPv6 address [::1]:9 does not fit the IPv4 domain"),
        ),
        row(
            "listen on a datagram socket",
            || listener(|b| b.socket_type(Type::Datagram)).listen("127.0.0.1:0"),
            Invalid("a datagram socket cannot be used where a stream socket is needed"),
        ),
        row(
            "bind_udp on a stream socket",
            || listener(|b| b.socket_type(Type::Stream)).bind_udp("127.0.0.1:0"),
            Invalid("a stream socket cannot be used where a datagram socket is needed"),
        ),
        row(
            "connect_udp on a stream socket",
            || connector(|b| b.socket_type(Type::Stream)).connect_udp("127.0.0.1:9"),
            Invalid("a stream socket cannot be used where a datagram socket is needed"),
        ),
        row(
            "UDP protocol on a stream listener",
            || listener(|b| b.protocol(Protocol::Udp)).listen("127.0.0.1:0"),
            Invalid("protocol UDP does not go with a stream socket"),
        ),
        row(
            "TCP protocol on a UDP socket",
            || listener(|b| b.protocol(Protocol::Tcp)).bind_udp("127.0.0.1:0"),
            Invalid("protocol TCP does not go with a datagram socket"),
        ),
        row(
            "backlog over i32::MAX",
            || listener(|b| b.backlog(u32::MAX)).listen("127.0.0.1:0"),
            Invalid("backlog 4294967295 does not fit the C int that listen() takes"),
        ),
        row(
            "only-v6 on an IPv4 listener",
            || listener(|b| b.only_v6(true)).listen("127.0.0.1:0"),
            Invalid("only_v6 (IPV6_V6ONLY) does not apply to IPv4 address 127.0.0.1:0"),
        ),
        row(
            "only-v6 on an IPv4 connector",
            || connector(|b| b.only_v6(false)).connect("127.0.0.1:9"),
            Invalid("only_v6 (IPV6_V6ONLY) does not apply to IPv4 address 127.0.0.1:9"),
        ),
        row(
            "TTL 0",
            || listener(|b| b.ttl(0)).bind_udp("127.0.0.1:0"),
            Invalid("ttl 0 is outside 1..=255"),
        ),
        row(
            "TTL 256",
            || connector(|b| b.ttl(256)).connect("127.0.0.1:9"),
            Invalid("ttl 256 is outside 1..=255"),
        ),
        row(
            "zero send buffer",
            || listener(|b| b.send_buffer_size(0)).listen("127.0.0.1:0"),
            Invalid("send_buffer_size (SO_SNDBUF) must not be zero"),
        ),
        row(
            "receive buffer over i32::MAX",
            || listener(|b| b.recv_buffer_size(1 << 31)).listen("127.0.0.1:0"),
            Invalid("recv_buffer_size (SO_RCVBUF) 2147483648 does not fit the OS type"),
        ),
        row(
            "zero connect timeout",
            || connector(|b| b.connect_timeout(Duration::ZERO)).connect("127.0.0.1:9"),
            Invalid("connect timeout must not be zero"),
        ),
        row(
            "zero read timeout",
            || connector(|b| b.read_timeout(Duration::ZERO)).connect_udp("127.0.0.1:9"),
            Invalid("read_timeout (SO_RCVTIMEO) must not be zero"),
        ),
        row(
            "zero write timeout",
            || connector(|b| b.write_timeout(Duration::ZERO)).connect("127.0.0.1:9"),
            Invalid("write_timeout (SO_SNDTIMEO) must not be zero"),
        ),
        row(
            "nodelay on connect_udp",
            || connector(|b| b.nodelay(true)).connect_udp("127.0.0.1:9"),
            Invalid("nodelay (TCP_NODELAY) does not apply to a datagram socket"),
        ),
        row(
            "keepalive on connect_udp",
            || connector(|b| b.keepalive(Keepalive::new())).connect_udp("127.0.0.1:9"),
            Invalid("keepalive (SO_KEEPALIVE) does not apply to a datagram socket"),
        ),
        row(
            "linger on connect_udp",
            || connector(|b| b.linger(None)).connect_udp("127.0.0.1:9"),
            Invalid("linger (SO_LINGER) does not apply to a datagram socket"),
        ),
        row(
            "zero keepalive time",
            || {
                connector(|b| b.keepalive(Keepalive::new().time(Duration::ZERO)))
                    .connect("127.0.0.1:9")
            },
            Invalid("keepalive durations must not be zero"),
        ),
        row(
            "zero keepalive retries",
            || connector(|b| b.keepalive(Keepalive::new().retries(0))).connect("127.0.0.1:9"),
            Invalid("keepalive retries (TCP_KEEPCNT) must not be zero"),
        ),
        row(
            "linger longer than the OS holds",
            move || connector(|b| b.linger(Some(secs(1 << 40)))).connect("127.0.0.1:9"),
            Invalid("linger (SO_LINGER) 1099511627776s does not fit the OS type"),
        ),
        row(
            "source address of the wrong family",
            || connector(|b| b.local_address("[::1]:0".parse().unwrap())).connect("127.0.0.1:9"),
            Invalid("no IPv4 source address set to connect to 127.0.0.1:9"),
        ),
    ];
    #[cfg(unix)]
    rows.extend(unix_rows());
    #[cfg(target_os = "linux")]
    rows.extend(abstract_rows());
    #[cfg(target_os = "linux")]
    rows.extend([
        row(
            "MPTCP on a datagram socket",
            || listener(|b| b.protocol(Protocol::Mptcp)).bind_udp("127.0.0.1:0"),
            Invalid("protocol MPTCP does not go with a datagram socket"),
        ),
        row(
            "empty interface name",
            || listener(|b| b.bind_device("")).listen("127.0.0.1:0"),
            Invalid("interface name \"\" must be 1 to 15 bytes with no NUL"),
        ),
        row(
            "interface name over 15 bytes",
            || connector(|b| b.bind_device("sixteen-bytes-xx")).connect("127.0.0.1:9"),
            Invalid("interface name \"sixteen-bytes-xx\" must be 1 to 15 bytes with no NUL"),
        ),
    ]);
    // Keepalive values above what the OS takes, at each option's limit + 1
    // and at the extremes: refused before the socket is made.
    #[cfg(target_os = "linux")]
    rows.extend([
        row(
            "keepalive time above 32767 s",
            move || connector(|b| b.keepalive(Keepalive::new().time(secs(32_768)))).connect("127.0.0.1:9"),
            Invalid("keepalive time (TCP_KEEPIDLE) 32768s is more than this OS takes (at most 32767s)"),
        ),
        row(
            "keepalive time rounding up past 32767 s",
            || {
                let time = Duration::from_millis(32_767_001);
                connector(|b| b.keepalive(Keepalive::new().time(time))).connect("127.0.0.1:9")
            },
            Invalid("keepalive time (TCP_KEEPIDLE) 32767.001s is more than this OS takes (at most 32767s)"),
        ),
        row(
            "keepalive time Duration::MAX (listener)",
            || listener(|b| b.keepalive(Keepalive::new().time(Duration::MAX))).listen("127.0.0.1:0"),
            Invalid("keepalive time (TCP_KEEPIDLE) 18446744073709551615.999999999s is more than this OS takes (at most 32767s)"),
        ),
        row(
            "keepalive interval above 32767 s",
            move || connector(|b| b.keepalive(Keepalive::new().interval(secs(32_768)))).connect("127.0.0.1:9"),
            Invalid("keepalive interval (TCP_KEEPINTVL) 32768s is more than this OS takes (at most 32767s)"),
        ),
        row(
            "keepalive interval u32::MAX s",
            move || connector(|b| b.keepalive(Keepalive::new().interval(secs(u32::MAX.into())))).connect("127.0.0.1:9"),
            Invalid("keepalive interval (TCP_KEEPINTVL) 4294967295s is more than this OS takes (at most 32767s)"),
        ),
        row(
            "keepalive retries above 127",
            || connector(|b| b.keepalive(Keepalive::new().retries(128))).connect("127.0.0.1:9"),
            Invalid("keepalive retries (TCP_KEEPCNT) 128 is more than this OS takes (at most 127)"),
        ),
        row(
            "keepalive retries u32::MAX (listener)",
            || listener(|b| b.keepalive(Keepalive::new().retries(u32::MAX))).listen("127.0.0.1:0"),
            Invalid("keepalive retries (TCP_KEEPCNT) 4294967295 is more than this OS takes (at most 127)"),
        ),
    ]);
    #[cfg(not(target_os = "linux"))]
    rows.push(row(
        "keepalive time Duration::MAX",
        || connector(|b| b.keepalive(Keepalive::new().time(Duration::MAX))).connect("127.0.0.1:9"),
        Invalid("is more than this OS takes (at most"),
    ));
    #[cfg(not(target_os = "linux"))]
    rows.push(row(
        "MPTCP off Linux",
        || listener(|b| b.protocol(Protocol::Mptcp)).listen("127.0.0.1:0"),
        Unsupported("multipath TCP (IPPROTO_MPTCP) is not supported on this platform"),
    ));
    #[cfg(windows)]
    rows.push(row(
        "exclusive-address-use with reuse-address",
        || listener(|b| b.exclusive_address_use(true).reuse_address(true)).listen("127.0.0.1:0"),
        Invalid("exclusive_address_use (SO_EXCLUSIVEADDRUSE) and reuse_address (SO_REUSEADDR) exclude each other"),
    ));
    rows
}

#[cfg(unix)]
fn unix_rows() -> Vec<(&'static str, Attempt, Expect)> {
    use Expect::*;
    let path = "/nonexistent-sockwright-dir/server.sock";
    vec![
        row(
            "Unix path with TCP",
            move || listener(|b| b.protocol(Protocol::Tcp)).listen_unix(path),
            Invalid(
                "protocol TCP does not go with Unix path /nonexistent-sockwright-dir/server.sock",
            ),
        ),
        row(
            "Unix path with UDP (datagram)",
            move || listener(|b| b.protocol(Protocol::Udp)).bind_unix_datagram(path),
            Invalid("protocol UDP does not go with Unix path"),
        ),
        row(
            "Unix path on an IPv4 domain",
            move || connector(|b| b.domain(Domain::Ipv4)).connect_unix(path),
            Invalid(
                "Unix path /nonexistent-sockwright-dir/server.sock does not fit the IPv4 domain",
            ),
        ),
        row(
            "IP address on the Unix domain",
            || listener(|b| b.domain(Domain::Unix)).listen("127.0.0.1:0"),
            Invalid("IPv4 address 127.0.0.1:0 does not fit the Unix domain"),
        ),
        row(
            "seqpacket with an IP address",
            || listener(|b| b.socket_type(Type::SeqPacket)).listen("127.0.0.1:0"),
            Invalid("seqpacket sockets need a Unix path, not 127.0.0.1:0"),
        ),
        row(
            "seqpacket with bind_unix_datagram",
            move || listener(|b| b.socket_type(Type::SeqPacket)).bind_unix_datagram(path),
            Invalid("a seqpacket socket cannot be used where a datagram socket is needed"),
        ),
        row(
            "listen_unix on a datagram socket",
            move || listener(|b| b.socket_type(Type::Datagram)).listen_unix(path),
            Invalid("a datagram socket cannot be used where a stream socket is needed"),
        ),
        row(
            "backlog over i32::MAX on a Unix path",
            move || listener(|b| b.backlog(u32::MAX)).listen_unix(path),
            Invalid("backlog 4294967295 does not fit"),
        ),
        row(
            "only-v6 on a Unix path",
            move || listener(|b| b.only_v6(true)).listen_unix(path),
            Invalid("only_v6 (IPV6_V6ONLY) does not apply to Unix path"),
        ),
        row(
            "TTL on a Unix path",
            move || connector(|b| b.ttl(9)).connect_unix(path),
            Invalid("ttl (IP_TTL) does not apply to Unix path"),
        ),
        row(
            "source address on a Unix path",
            move || {
                connector(|b| b.local_address("127.0.0.1:0".parse().unwrap())).connect_unix(path)
            },
            Invalid("a source address does not apply to Unix path"),
        ),
        row(
            "nodelay on a Unix path",
            move || connector(|b| b.nodelay(true)).connect_unix(path),
            Invalid("nodelay (TCP_NODELAY) does not apply to Unix path"),
        ),
        row(
            "keepalive on a Unix path",
            move || connector(|b| b.keepalive(Keepalive::new())).connect_unix(path),
            Invalid("keepalive (SO_KEEPALIVE) does not apply to Unix path"),
        ),
        row(
            "Unix path too long for sockaddr_un",
            || listener(|b| b).listen_unix(format!("/tmp/{}", "x".repeat(200))),
            Invalid("Unix socket path /tmp/xxx"),
        ),
        row(
            "Unix path too long: the message says the length and the limit",
            || listener(|b| b).listen_unix(format!("/tmp/{}", "x".repeat(200))),
            Invalid(LONG_PATH),
        ),
        row(
            "Unix path too long (connect)",
            || connector(|b| b).connect_unix(format!("/tmp/{}", "x".repeat(200))),
            Invalid(LONG_PATH),
        ),
    ]
}

/// What the long-path rows expect: the path's length, then the longest file
/// path `sun_path` takes (its size less the closing NUL).
#[cfg(any(target_os = "linux", target_os = "android"))]
const LONG_PATH: &str = "is 205 bytes, longer than the 107 this platform allows";
#[cfg(any(
    target_vendor = "apple",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
))]
const LONG_PATH: &str = "is 205 bytes, longer than the 103 this platform allows";
#[cfg(all(
    unix,
    not(any(
        target_os = "linux",
        target_os = "android",
        target_vendor = "apple",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    ))
))]
const LONG_PATH: &str = "is 205 bytes, longer than the";

/// Rows on a Linux abstract name: every message shows it as `@name`, never
/// with its NUL byte.
#[cfg(target_os = "linux")]
fn abstract_rows() -> Vec<(&'static str, Attempt, Expect)> {
    use Expect::*;
    let name = || std::path::PathBuf::from("\0sockwright-abstract");
    vec![
        row(
            "abstract name with TCP",
            move || listener(|b| b.protocol(Protocol::Tcp)).listen_unix(name()),
            Invalid("protocol TCP does not go with Unix path @sockwright-abstract"),
        ),
        row(
            "only-v6 on an abstract name",
            move || listener(|b| b.only_v6(true)).listen_unix(name()),
            Invalid("only_v6 (IPV6_V6ONLY) does not apply to Unix path @sockwright-abstract"),
        ),
        row(
            "abstract name on an IPv4 domain",
            move || connector(|b| b.domain(Domain::Ipv4)).connect_unix(name()),
            Invalid("Unix path @sockwright-abstract does not fit the IPv4 domain"),
        ),
        row(
            "source address on an abstract name",
            move || {
                connector(|b| b.local_address("127.0.0.1:0".parse().unwrap())).connect_unix(name())
            },
            Invalid("a source address does not apply to Unix path @sockwright-abstract"),
        ),
        row(
            "abstract name too long",
            || listener(|b| b).listen_unix(format!("\0{}", "x".repeat(200))),
            Invalid("Unix socket path @xxx"),
        ),
        row(
            "abstract name too long: the limit is the whole sun_path",
            || listener(|b| b).listen_unix(format!("\0{}", "x".repeat(200))),
            Invalid("is 201 bytes, longer than the 108 this platform allows"),
        ),
    ]
}

pub fn invalid_configurations_fail_early_saying_why_and_leak_nothing() {
    let rows = table();
    #[cfg(target_os = "linux")]
    let start = fd_count();
    let mut failures = Vec::new();
    for (name, attempt, expect) in &rows {
        #[cfg(target_os = "linux")]
        let before = fd_count();
        let result = attempt();
        #[cfg(target_os = "linux")]
        {
            let after = fd_count();
            if after != before {
                failures.push(format!("{name}: open fds {before} before, {after} after"));
            }
        }
        let err = match result {
            Ok(()) => {
                failures.push(format!("{name}: succeeded"));
                continue;
            }
            Err(err) => err,
        };
        let text = err.to_string();
        let (variant_ok, kind, words) = match expect {
            Expect::Invalid(words) => (
                matches!(err, Error::InvalidConfig { .. }),
                ErrorKind::InvalidInput,
                *words,
            ),
            #[cfg(not(target_os = "linux"))]
            Expect::Unsupported(words) => (
                matches!(err, Error::Unsupported { .. }),
                ErrorKind::Unsupported,
                *words,
            ),
        };
        if !variant_ok || err.kind() != kind || !text.contains(words) {
            failures.push(format!(
                "{name}: got {err:?} ({text}); want {kind:?} saying {words:?}"
            ));
        }
        if text.ends_with('.') || text.chars().next().is_some_and(char::is_uppercase) {
            failures.push(format!(
                "{name}: message not lowercase without a final period: {text}"
            ));
        }
        if text.contains('\0') {
            failures.push(format!("{name}: message holds a NUL byte: {text:?}"));
        }
        if err.io_error().is_some() {
            failures.push(format!(
                "{name}: carries an OS error, so a system call was made: {text}"
            ));
        }
    }
    #[cfg(target_os = "linux")]
    eprintln!(
        "{} invalid configurations; open fds {start} before, {} after",
        rows.len(),
        fd_count()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
