//! Every option either builder sets is read back with `getsockopt` (through
//! `socket2::SockRef`) from the std value the finishing call returns.
//!
//! One table per builder; each row names an option value, the socket kinds
//! it applies to, how to set it on the builder, how to read it back and what
//! must come back. Boolean options have an "on" row and an "on, then off"
//! row (the last call wins and `false` is written); the others have at least
//! one value that differs from the OS default.

use std::io;
use std::net::{TcpListener, TcpStream, UdpSocket};
#[cfg(unix)]
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::Path;
use std::time::Duration;

use crate::util::{TempDir, has_ipv6_loopback};
use socket2::SockRef;
use sockwright::{ConnectorBuilder, Keepalive, ListenerBuilder};

/// The sockets a finishing call can return. For the listener builder,
/// `Tcp4` is a `TcpListener` on 127.0.0.1; for the connector builder, a
/// `TcpStream` connected to one; and so on.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Tcp4,
    Tcp6,
    Udp4,
    Udp6,
    /// A listener on `[::]:0`: Linux turns `IPV6_V6ONLY` on for a socket
    /// bound to a specific IPv6 address such as `::1`, so only-v6 "off" can
    /// be read back only from a socket bound to the wildcard.
    Tcp6Any,
    Udp6Any,
    /// A connection accepted by a listener on 127.0.0.1: for the listener
    /// options meant for accepted sockets, read back where they act.
    Accepted4,
    #[cfg(unix)]
    UnixStream,
    #[cfg(unix)]
    UnixDatagram,
}

const TCP: &[Kind] = &[Kind::Tcp4, Kind::Tcp6];
const V6: &[Kind] = &[Kind::Tcp6, Kind::Udp6, Kind::Tcp6Any, Kind::Udp6Any];
const V6_ANY: &[Kind] = &[Kind::Tcp6Any, Kind::Udp6Any];
const INET: &[Kind] = &[Kind::Tcp4, Kind::Tcp6, Kind::Udp4, Kind::Udp6];
const UDP: &[Kind] = &[Kind::Udp4, Kind::Udp6];
const UDP4: &[Kind] = &[Kind::Udp4];
const UDP6: &[Kind] = &[Kind::Udp6];
/// A listener's option read back from the connection it accepted.
#[cfg(any(target_os = "linux", windows))]
const ACCEPTED: &[Kind] = &[Kind::Accepted4];
#[cfg(unix)]
const ALL: &[Kind] = &[
    Kind::Tcp4,
    Kind::Tcp6,
    Kind::Udp4,
    Kind::Udp6,
    Kind::UnixStream,
    Kind::UnixDatagram,
];
#[cfg(not(unix))]
const ALL: &[Kind] = INET;
/// The kinds `linger` applies to: TCP and Unix streams.
#[cfg(unix)]
const STREAMS: &[Kind] = &[Kind::Tcp4, Kind::Tcp6, Kind::UnixStream];
#[cfg(not(unix))]
const STREAMS: &[Kind] = TCP;
/// Sockets whose nonblocking mode can be probed without risk of hanging
/// (see `nonblocking`).
#[cfg(unix)]
const PROBED: &[Kind] = ALL;
#[cfg(windows)]
const PROBED: &[Kind] = &[Kind::Udp4, Kind::Udp6];

/// A value read back with `getsockopt`.
#[derive(Debug, PartialEq)]
enum Value {
    Bool(bool),
    Size(usize),
    Int(u32),
    Time(Option<Duration>),
    #[cfg(target_os = "linux")]
    Bytes(Option<Vec<u8>>),
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<usize> for Value {
    fn from(v: usize) -> Value {
        Value::Size(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Int(v)
    }
}
impl From<Duration> for Value {
    fn from(v: Duration) -> Value {
        Value::Time(Some(v))
    }
}
impl From<Option<Duration>> for Value {
    fn from(v: Option<Duration>) -> Value {
        Value::Time(v)
    }
}
#[cfg(target_os = "linux")]
impl From<Option<Vec<u8>>> for Value {
    fn from(v: Option<Vec<u8>>) -> Value {
        Value::Bytes(v)
    }
}

/// What a row expects to read back.
enum Want {
    Is(Value),
    /// A predicate, described in words for the failure message.
    Test(&'static str, fn(&Value) -> bool),
}

/// One option value: set on a builder of type `B`, read back from each kind.
struct Row<B> {
    name: &'static str,
    kinds: &'static [Kind],
    set: fn(&mut B),
    read: fn(&SockRef<'_>) -> io::Result<Value>,
    want: Want,
    /// Setting it may need privileges the test lacks (`EPERM`): the row is
    /// then skipped with a printed reason.
    privileged: bool,
}

/// `row!(Builder; kinds, "name", |b| set, |s| read, want)`: `want` is a value
/// the read must equal, or `test "words" |v| predicate`.
macro_rules! row {
    ($ty:ty; $kinds:expr, $name:literal, |$b:ident| $set:expr, |$s:ident| $read:expr, test $words:literal $pred:expr) => {
        Row::<$ty> {
            name: $name,
            kinds: $kinds,
            set: |$b| {
                $set;
            },
            read: |$s| $read.map(Value::from),
            want: Want::Test($words, $pred),
            privileged: false,
        }
    };
    ($ty:ty; $kinds:expr, $name:literal, |$b:ident| $set:expr, |$s:ident| $read:expr, $want:expr) => {
        Row::<$ty> {
            name: $name,
            kinds: $kinds,
            set: |$b| {
                $set;
            },
            read: |$s| $read.map(Value::from),
            want: Want::Is(Value::from($want)),
            privileged: false,
        }
    };
}

/// The requested buffer size. No OS default lies in `BUFFER..=2 * BUFFER`
/// (Linux: 16 KiB TCP send, 128 KiB TCP receive, 208 KiB otherwise), so a
/// setter that did nothing could not pass.
const BUFFER: usize = 24 * 1024;

/// Linux doubles a buffer size (`socket(7)`: "the kernel doubles this
/// value"); other systems keep it. Either way the result is in
/// `BUFFER..=2 * BUFFER`, and no OS default is.
fn buffer_granted(v: &Value) -> bool {
    matches!(v, Value::Size(n) if (BUFFER..=2 * BUFFER).contains(n))
}

/// `IP_TTL` on IPv4, `IPV6_UNICAST_HOPS` on IPv6.
fn hops(s: &SockRef<'_>) -> io::Result<u32> {
    if s.local_addr()?.is_ipv6() {
        s.unicast_hops_v6()
    } else {
        s.ttl_v4()
    }
}

/// `IP_FREEBIND` on IPv4, `IPV6_FREEBIND` on IPv6.
#[cfg(target_os = "linux")]
fn freebind(s: &SockRef<'_>) -> io::Result<bool> {
    if s.local_addr()?.is_ipv6() {
        s.freebind_v6()
    } else {
        s.freebind_v4()
    }
}

/// Whether the socket is in nonblocking mode: `fcntl(F_GETFL) & O_NONBLOCK`.
#[cfg(unix)]
fn nonblocking(s: &SockRef<'_>) -> io::Result<bool> {
    s.nonblocking()
}

/// Whether the socket is in nonblocking mode. Windows cannot read the mode
/// back, so this receives on a socket with nothing to read: a nonblocking
/// socket fails at once with `WouldBlock`, a blocking one waits (bounded by
/// a one-second read timeout set here). A blocking `accept` has no such
/// bound, so listeners are not probed on Windows.
#[cfg(windows)]
fn nonblocking(s: &SockRef<'_>) -> io::Result<bool> {
    use std::mem::MaybeUninit;
    s.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut buf = [MaybeUninit::<u8>::uninit(); 16];
    match s.recv(&mut buf) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(false),
        Err(e) => Err(e),
        Ok(n) => Err(io::Error::other(format!("{n} unexpected bytes"))),
    }
}

/// `SO_EXCLUSIVEADDRUSE`.
#[cfg(windows)]
fn exclusive_address_use(s: &SockRef<'_>) -> io::Result<bool> {
    crate::util::exclusive_address_use(&**s)
}

/// `TCP_KEEPIDLE` and `TCP_KEEPINTVL` in seconds (Windows 10 1709 and later).
#[cfg(windows)]
fn keepalive_times(s: &SockRef<'_>) -> io::Result<(Duration, Duration)> {
    use windows_sys::Win32::Networking::WinSock::{IPPROTO_TCP, TCP_KEEPIDLE, TCP_KEEPINTVL};
    let secs = |v: i32| Duration::from_secs(u64::try_from(v).unwrap_or(0));
    Ok((
        secs(crate::util::sockopt_int(&**s, IPPROTO_TCP, TCP_KEEPIDLE)?),
        secs(crate::util::sockopt_int(&**s, IPPROTO_TCP, TCP_KEEPINTVL)?),
    ))
}

/// `IP_TOS` on IPv4, `IPV6_TCLASS` on IPv6.
#[cfg(unix)]
fn tos(s: &SockRef<'_>) -> io::Result<u32> {
    if s.local_addr()?.is_ipv6() {
        s.tclass_v6()
    } else {
        s.tos_v4()
    }
}

/// `IP_TOS` (Windows has no `IPV6_TCLASS`, so `tos` is IPv4-only there).
#[cfg(windows)]
fn tos(s: &SockRef<'_>) -> io::Result<u32> {
    s.tos_v4()
}

/// The kinds `tos` applies to: IPv4 and IPv6 where the OS has `IPV6_TCLASS`.
#[cfg(unix)]
const TOS: &[Kind] = INET;
#[cfg(windows)]
const TOS: &[Kind] = &[Kind::Tcp4, Kind::Udp4];

/// `IP_MULTICAST_LOOP` on IPv4, `IPV6_MULTICAST_LOOP` on IPv6.
fn multicast_loop(s: &SockRef<'_>) -> io::Result<bool> {
    if s.local_addr()?.is_ipv6() {
        s.multicast_loop_v6()
    } else {
        s.multicast_loop_v4()
    }
}

/// `IP_MULTICAST_TTL` on IPv4, `IPV6_MULTICAST_HOPS` on IPv6.
fn multicast_hops(s: &SockRef<'_>) -> io::Result<u32> {
    if s.local_addr()?.is_ipv6() {
        s.multicast_hops_v6()
    } else {
        s.multicast_ttl_v4()
    }
}

/// `IP_TRANSPARENT` on IPv4, `IPV6_TRANSPARENT` on IPv6.
#[cfg(target_os = "linux")]
fn transparent(s: &SockRef<'_>) -> io::Result<bool> {
    if s.local_addr()?.is_ipv6() {
        s.ip_transparent_v6()
    } else {
        s.ip_transparent_v4()
    }
}

/// An `int` option read with `getsockopt`, for the options socket2 has no
/// getter for (`TCP_FASTOPEN`, `TCP_DEFER_ACCEPT`, `TCP_FASTOPEN_CONNECT`).
#[cfg(target_os = "linux")]
fn tcp_int(s: &SockRef<'_>, name: libc::c_int) -> io::Result<u32> {
    use std::os::fd::AsRawFd;
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are live locals of the sizes passed; the
    // descriptor is open for the borrow of `s`.
    let rc = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(value as u32)
}

/// The rows both builders share, for builder type `$ty`; the only-v6 rows
/// run on the kinds `$v6`.
macro_rules! shared_rows {
    ($ty:ty, $v6:expr) => {{
        let mut rows: Vec<Row<$ty>> = vec![
            row!($ty; INET, "reuse_address on", |b| b.reuse_address(true), |s| s.reuse_address(), true),
            row!($ty; INET, "reuse_address on, then off", |b| b.reuse_address(true).reuse_address(false), |s| s.reuse_address(), false),
            row!($ty; $v6, "only_v6 on", |b| b.only_v6(true), |s| s.only_v6(), true),
            row!($ty; $v6, "only_v6 on, then off", |b| b.only_v6(true).only_v6(false), |s| s.only_v6(), false),
            row!($ty; PROBED, "nonblocking on", |b| b.nonblocking(true), |s| nonblocking(s), true),
            row!($ty; PROBED, "nonblocking on, then off", |b| b.nonblocking(true).nonblocking(false), |s| nonblocking(s), false),
            row!($ty; ALL, "send_buffer_size 24 KiB", |b| b.send_buffer_size(BUFFER), |s| s.send_buffer_size(),
                test "24 KiB to 48 KiB" buffer_granted),
            row!($ty; ALL, "recv_buffer_size 24 KiB", |b| b.recv_buffer_size(BUFFER), |s| s.recv_buffer_size(),
                test "24 KiB to 48 KiB" buffer_granted),
            row!($ty; INET, "ttl 42", |b| b.ttl(42), |s| hops(s), 42u32),
            row!($ty; INET, "ttl 1", |b| b.ttl(1), |s| hops(s), 1u32),
            row!($ty; INET, "ttl 255", |b| b.ttl(255), |s| hops(s), 255u32),
            row!($ty; TOS, "tos 0x28 (DSCP AF11)", |b| b.tos(0x28), |s| tos(s), 0x28u32),
            row!($ty; TOS, "tos 0xb8 (DSCP EF)", |b| b.tos(0xb8), |s| tos(s), 0xb8u32),
            row!($ty; UDP, "multicast_loop off", |b| b.multicast_loop(false), |s| multicast_loop(s), false),
            row!($ty; UDP, "multicast_loop off, then on", |b| b.multicast_loop(false).multicast_loop(true),
                |s| multicast_loop(s), true),
            row!($ty; UDP, "multicast_ttl 4", |b| b.multicast_ttl(4), |s| multicast_hops(s), 4u32),
            row!($ty; UDP, "multicast_ttl 0", |b| b.multicast_ttl(0), |s| multicast_hops(s), 0u32),
            row!($ty; UDP4, "broadcast on", |b| b.broadcast(true), |s| s.broadcast(), true),
            row!($ty; UDP4, "broadcast on, then off", |b| b.broadcast(true).broadcast(false), |s| s.broadcast(), false),
            row!($ty; UDP4, "multicast_if_v4 127.0.0.1", |b| b.multicast_if_v4(std::net::Ipv4Addr::LOCALHOST),
                |s| s.multicast_if_v4().map(|a| a == std::net::Ipv4Addr::LOCALHOST), true),
            row!($ty; UDP6, "multicast_if_v6 1", |b| b.multicast_if_v6(1), |s| s.multicast_if_v6(), 1u32),
        ];
        #[cfg(unix)]
        rows.extend([
            row!($ty; TCP, "tcp_mss 1200", |b| b.tcp_mss(1200), |s| s.tcp_mss(),
                test "1100 to 1200 (the MSS less TCP options)" |v| matches!(v, Value::Int(n) if (1100..=1200).contains(n))),
        ]);
        #[cfg(all(
            unix,
            not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
        ))]
        rows.extend([
            row!($ty; INET, "reuse_port on", |b| b.reuse_port(true), |s| s.reuse_port(), true),
            row!($ty; INET, "reuse_port on, then off", |b| b.reuse_port(true).reuse_port(false), |s| s.reuse_port(), false),
        ]);
        #[cfg(windows)]
        rows.extend([
            row!($ty; INET, "exclusive_address_use on", |b| b.exclusive_address_use(true), |s| exclusive_address_use(s), true),
            row!($ty; INET, "exclusive_address_use on, then off",
                |b| b.exclusive_address_use(true).exclusive_address_use(false), |s| exclusive_address_use(s), false),
        ]);
        #[cfg(target_os = "linux")]
        rows.extend([
            row!($ty; INET, "freebind on", |b| b.freebind(true), |s| freebind(s), true),
            row!($ty; INET, "freebind on, then off", |b| b.freebind(true).freebind(false), |s| freebind(s), false),
            Row::<$ty> {
                privileged: true,
                ..row!($ty; INET, "bind_device lo", |b| b.bind_device("lo"), |s| s.device(), Some(b"lo".to_vec()))
            },
            Row::<$ty> {
                privileged: true,
                ..row!($ty; INET, "bind_device_by_index 1 (lo)", |b| b.bind_device_by_index(std::num::NonZeroU32::MIN),
                    |s| s.device(), Some(b"lo".to_vec()))
            },
            Row::<$ty> {
                privileged: true,
                ..row!($ty; INET, "mark 7", |b| b.mark(7), |s| s.mark(), 7u32)
            },
            Row::<$ty> {
                privileged: true,
                ..row!($ty; INET, "ip_transparent on", |b| b.ip_transparent(true), |s| transparent(s), true)
            },
            Row::<$ty> {
                privileged: true,
                ..row!($ty; INET, "ip_transparent on, then off", |b| b.ip_transparent(true).ip_transparent(false),
                    |s| transparent(s), false)
            },
            row!($ty; TCP, "tcp_user_timeout 1.5 s", |b| b.tcp_user_timeout(Duration::from_millis(1500)),
                |s| s.tcp_user_timeout(), Some(Duration::from_millis(1500))),
            // TCP_USER_TIMEOUT counts milliseconds: a finer value rounds up,
            // never down to the zero that means "no timeout".
            row!($ty; TCP, "tcp_user_timeout 1 ns", |b| b.tcp_user_timeout(Duration::from_nanos(1)),
                |s| s.tcp_user_timeout(), Some(Duration::from_millis(1))),
            row!($ty; TCP, "tcp_notsent_lowat 16 KiB", |b| b.tcp_notsent_lowat(16 * 1024), |s| s.tcp_notsent_lowat(),
                16u32 * 1024),
            row!($ty; TCP, "tcp_congestion reno", |b| b.tcp_congestion("reno"), |s| s.tcp_congestion().map(Some),
                test "reno" |v| matches!(v, Value::Bytes(Some(name)) if name.starts_with(b"reno\0") || name == b"reno")),
            Row::<$ty> {
                privileged: true,
                ..row!($ty; INET, "busy_poll 50 us", |b| b.busy_poll(Duration::from_micros(50)), |s| s.busy_poll(), 50u32)
            },
        ]);
        rows
    }};
}

fn listener_rows() -> Vec<Row<ListenerBuilder>> {
    type L = ListenerBuilder;
    #[allow(unused_mut)]
    let mut rows = shared_rows!(L, V6_ANY);
    #[cfg(target_os = "linux")]
    rows.extend([
        // A listener that no packet reached keeps the CPU it was given.
        row!(L; INET, "cpu_affinity 1", |b| b.cpu_affinity(1), |s| s.cpu_affinity(), 1usize),
        row!(L; TCP, "tcp_fastopen 256", |b| b.tcp_fastopen(256), |s| tcp_int(s, libc::TCP_FASTOPEN), 256u32),
        row!(L; TCP, "tcp_fastopen 256, then 0 (off)", |b| b.tcp_fastopen(256).tcp_fastopen(0),
            |s| tcp_int(s, libc::TCP_FASTOPEN), 0u32),
        // Linux keeps a number of SYN-ACK retransmissions and reads back the
        // seconds they cover: at least what was asked.
        row!(L; TCP, "tcp_defer_accept 3 s", |b| b.tcp_defer_accept(Duration::from_secs(3)),
            |s| tcp_int(s, libc::TCP_DEFER_ACCEPT), test "3 s or more" |v| matches!(v, Value::Int(n) if *n >= 3)),
        row!(L; TCP, "tcp_defer_accept 1 ms (rounded up to 1 s)", |b| b.tcp_defer_accept(Duration::from_millis(1)),
            |s| tcp_int(s, libc::TCP_DEFER_ACCEPT), test "1 s or more" |v| matches!(v, Value::Int(n) if *n >= 1)),
    ]);
    #[cfg(windows)]
    rows.extend([row!(L; TCP, "tcp_fastopen on", |b| b.tcp_fastopen(1),
            |s| crate::util::sockopt_int(&**s, windows_sys::Win32::Networking::WinSock::IPPROTO_TCP,
                windows_sys::Win32::Networking::WinSock::TCP_FASTOPEN).map(|v| v != 0), true)]);
    #[cfg(any(target_os = "linux", windows))]
    rows.extend([
        row!(L; ACCEPTED, "nodelay on (accepted)", |b| b.nodelay(true), |s| s.tcp_nodelay(), true),
        row!(L; ACCEPTED, "nodelay on, then off (accepted)", |b| b.nodelay(true).nodelay(false), |s| s.tcp_nodelay(), false),
        row!(L; ACCEPTED, "keepalive on (accepted)", |b| b.keepalive(Keepalive::new()), |s| s.keepalive(), true),
        row!(L; ACCEPTED, "linger 3 s (accepted)", |b| b.linger(Some(Duration::from_secs(3))), |s| s.linger(),
            Duration::from_secs(3)),
        row!(L; ACCEPTED, "linger 1.5 s (accepted, rounded up)", |b| b.linger(Some(Duration::from_millis(1500))),
            |s| s.linger(), Duration::from_secs(2)),
    ]);
    #[cfg(target_os = "linux")]
    rows.extend([
        row!(L; ACCEPTED, "keepalive time 75 s (accepted)", |b| b.keepalive(Keepalive::new().time(Duration::from_secs(75))),
            |s| s.tcp_keepalive_time(), Duration::from_secs(75)),
        row!(L; ACCEPTED, "tos 0x28 (accepted)", |b| b.tos(0x28), |s| tos(s), 0x28u32),
        row!(L; ACCEPTED, "tcp_user_timeout 1.5 s (accepted)", |b| b.tcp_user_timeout(Duration::from_millis(1500)),
            |s| s.tcp_user_timeout(), Some(Duration::from_millis(1500))),
    ]);
    rows
}

fn connector_rows() -> Vec<Row<ConnectorBuilder>> {
    type C = ConnectorBuilder;
    let mut rows = shared_rows!(C, &[Kind::Tcp6, Kind::Udp6]);
    #[cfg(target_os = "linux")]
    rows.extend([
        // A TCP client's incoming CPU follows the packets it receives; a
        // connected UDP socket that received nothing keeps the one given.
        row!(C; UDP, "cpu_affinity 1", |b| b.cpu_affinity(1), |s| s.cpu_affinity(), 1usize),
        row!(C; TCP, "tcp_fastopen_connect on", |b| b.tcp_fastopen_connect(true),
            |s| tcp_int(s, libc::TCP_FASTOPEN_CONNECT), 1u32),
        row!(C; TCP, "tcp_fastopen_connect on, then off", |b| b.tcp_fastopen_connect(true).tcp_fastopen_connect(false),
            |s| tcp_int(s, libc::TCP_FASTOPEN_CONNECT), 0u32),
    ]);
    rows.extend([
        row!(C; ALL, "read_timeout 1.5 s", |b| b.read_timeout(Duration::from_millis(1500)), |s| s.read_timeout(),
            Duration::from_millis(1500)),
        row!(C; ALL, "write_timeout 2.5 s", |b| b.write_timeout(Duration::from_millis(2500)), |s| s.write_timeout(),
            Duration::from_millis(2500)),
        // socket2 truncates a timeout to whole microseconds, and a zero
        // `timeval` means "no timeout": the builder must not turn a tiny
        // timeout into none at all.
        row!(C; ALL, "read_timeout 1 ns", |b| b.read_timeout(Duration::from_nanos(1)), |s| s.read_timeout(),
            test "some timeout, not none" |v| matches!(v, Value::Time(Some(_)))),
        row!(C; ALL, "write_timeout 999 ns", |b| b.write_timeout(Duration::from_nanos(999)), |s| s.write_timeout(),
            test "some timeout, not none" |v| matches!(v, Value::Time(Some(_)))),
        row!(C; TCP, "nodelay on", |b| b.nodelay(true), |s| s.tcp_nodelay(), true),
        row!(C; TCP, "nodelay on, then off", |b| b.nodelay(true).nodelay(false), |s| s.tcp_nodelay(), false),
        row!(C; TCP, "keepalive on", |b| b.keepalive(Keepalive::new()), |s| s.keepalive(), true),
        row!(C; STREAMS, "linger 3 s", |b| b.linger(Some(Duration::from_secs(3))), |s| s.linger(),
            Duration::from_secs(3)),
        row!(C; STREAMS, "linger 0 (reset on close)", |b| b.linger(Some(Duration::ZERO)), |s| s.linger(),
            Duration::ZERO),
        // SO_LINGER counts whole seconds; a fraction must not shorten a
        // linger to zero, which would reset the connection on close.
        row!(C; STREAMS, "linger 1.5 s", |b| b.linger(Some(Duration::from_millis(1500))), |s| s.linger(),
            Duration::from_secs(2)),
        row!(C; STREAMS, "linger 1 ms", |b| b.linger(Some(Duration::from_millis(1))), |s| s.linger(),
            Duration::from_secs(1)),
        row!(C; STREAMS, "linger on, then off", |b| b.linger(Some(Duration::from_secs(3))).linger(None), |s| s.linger(),
            None::<Duration>),
    ]);
    #[cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]
    rows.extend([
        row!(C; TCP, "keepalive time 75 s", |b| b.keepalive(Keepalive::new().time(Duration::from_secs(75))),
            |s| s.tcp_keepalive_time(), Duration::from_secs(75)),
        row!(C; TCP, "keepalive interval 9 s", |b| b.keepalive(Keepalive::new().interval(Duration::from_secs(9))),
            |s| s.tcp_keepalive_interval(), Duration::from_secs(9)),
        row!(C; TCP, "keepalive retries 4", |b| b.keepalive(Keepalive::new().retries(4)),
            |s| s.tcp_keepalive_retries(), 4u32),
        // The most Linux takes (MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL,
        // MAX_TCP_KEEPCNT); one more is refused before any call
        // (tests/resources/invalid_config.rs).
        row!(C; TCP, "keepalive time 32767 s", |b| b.keepalive(Keepalive::new().time(Duration::from_secs(32_767))),
            |s| s.tcp_keepalive_time(), Duration::from_secs(32_767)),
        row!(C; TCP, "keepalive interval 32767 s", |b| b.keepalive(Keepalive::new().interval(Duration::from_secs(32_767))),
            |s| s.tcp_keepalive_interval(), Duration::from_secs(32_767)),
        row!(C; TCP, "keepalive retries 127", |b| b.keepalive(Keepalive::new().retries(127)),
            |s| s.tcp_keepalive_retries(), 127u32),
        // TCP_KEEPIDLE and TCP_KEEPINTVL count whole seconds: a fraction
        // rounds up, so a sub-second value is not the zero Linux refuses.
        row!(C; TCP, "keepalive time 1.5 s", |b| b.keepalive(Keepalive::new().time(Duration::from_millis(1500))),
            |s| s.tcp_keepalive_time(), Duration::from_secs(2)),
        row!(C; TCP, "keepalive interval 250 ms", |b| b.keepalive(Keepalive::new().interval(Duration::from_millis(250))),
            |s| s.tcp_keepalive_interval(), Duration::from_secs(1)),
        row!(C; TCP, "keepalive on with every parameter",
            |b| b.keepalive(Keepalive::new().time(Duration::from_secs(75)).interval(Duration::from_secs(9)).retries(4)),
            |s| Ok::<_, io::Error>((s.keepalive()?, s.tcp_keepalive_time()?, s.tcp_keepalive_interval()?, s.tcp_keepalive_retries()?)
                == (true, Duration::from_secs(75), Duration::from_secs(9), 4)), true),
    ]);
    // Windows sets the idle time and the interval together
    // (`SIO_KEEPALIVE_VALS`): the one not asked for must keep Windows'
    // default (2 hours, 1 second), not become zero.
    #[cfg(windows)]
    rows.extend([
        row!(C; TCP, "keepalive time 75 s alone",
            |b| b.keepalive(Keepalive::new().time(Duration::from_secs(75))),
            |s| keepalive_times(s).map(|t| t == (Duration::from_secs(75), Duration::from_secs(1))), true),
        row!(C; TCP, "keepalive interval 9 s alone",
            |b| b.keepalive(Keepalive::new().interval(Duration::from_secs(9))),
            |s| keepalive_times(s).map(|t| t == (Duration::from_secs(2 * 60 * 60), Duration::from_secs(9))), true),
    ]);
    rows
}

/// What a finishing call returned, kept alive with the peer it talks to.
#[allow(dead_code)] // the peers are held, not read
enum Built {
    TcpListener(TcpListener),
    Udp(UdpSocket),
    TcpStream(TcpStream, TcpListener),
    Accepted(TcpStream, TcpStream, TcpListener),
    ConnectedUdp(UdpSocket, UdpSocket),
    #[cfg(unix)]
    UnixListener(UnixListener),
    #[cfg(unix)]
    UnixDatagram(UnixDatagram),
    #[cfg(unix)]
    UnixStream(UnixStream, UnixListener),
}

impl Built {
    fn sock(&self) -> SockRef<'_> {
        match self {
            Built::TcpListener(s) => SockRef::from(s),
            Built::Udp(s) | Built::ConnectedUdp(s, _) => SockRef::from(s),
            Built::TcpStream(s, _) | Built::Accepted(s, _, _) => SockRef::from(s),
            #[cfg(unix)]
            Built::UnixListener(s) => SockRef::from(s),
            #[cfg(unix)]
            Built::UnixDatagram(s) => SockRef::from(s),
            #[cfg(unix)]
            Built::UnixStream(s, _) => SockRef::from(s),
        }
    }
}

/// A fresh socket path in `dir`.
#[cfg(unix)]
fn fresh_path(dir: &Path) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    dir.join(format!("{}.sock", NEXT.fetch_add(1, Ordering::Relaxed)))
}

fn loopback(kind: Kind) -> &'static str {
    match kind {
        Kind::Tcp6 | Kind::Udp6 => "[::1]:0",
        Kind::Tcp6Any | Kind::Udp6Any => "[::]:0",
        _ => "127.0.0.1:0",
    }
}

fn build_listener(b: &ListenerBuilder, kind: Kind, _dir: &Path) -> sockwright::Result<Built> {
    Ok(match kind {
        Kind::Tcp4 | Kind::Tcp6 | Kind::Tcp6Any => Built::TcpListener(b.listen(loopback(kind))?),
        Kind::Udp4 | Kind::Udp6 | Kind::Udp6Any => Built::Udp(b.bind_udp(loopback(kind))?),
        Kind::Accepted4 => {
            let listener = b.listen(loopback(kind))?;
            let client = TcpStream::connect(listener.local_addr().unwrap()).expect("client");
            let (accepted, _) = listener.accept().expect("accept");
            Built::Accepted(accepted, client, listener)
        }
        #[cfg(unix)]
        Kind::UnixStream => Built::UnixListener(b.listen_unix(fresh_path(_dir))?),
        #[cfg(unix)]
        Kind::UnixDatagram => Built::UnixDatagram(b.bind_unix_datagram(fresh_path(_dir))?),
    })
}

fn build_connector(b: &ConnectorBuilder, kind: Kind, _dir: &Path) -> sockwright::Result<Built> {
    Ok(match kind {
        Kind::Tcp4 | Kind::Tcp6 => {
            let server = TcpListener::bind(loopback(kind)).expect("server listener");
            Built::TcpStream(b.connect(server.local_addr().unwrap())?, server)
        }
        Kind::Udp4 | Kind::Udp6 => {
            let server = UdpSocket::bind(loopback(kind)).expect("server socket");
            Built::ConnectedUdp(b.connect_udp(server.local_addr().unwrap())?, server)
        }
        #[cfg(unix)]
        Kind::UnixStream => {
            let path = fresh_path(_dir);
            let server = UnixListener::bind(&path).expect("server listener");
            Built::UnixStream(b.connect_unix(&path)?, server)
        }
        #[cfg(unix)]
        Kind::UnixDatagram => unreachable!("the connector builder makes no Unix datagram socket"),
        Kind::Tcp6Any | Kind::Udp6Any | Kind::Accepted4 => {
            unreachable!("a connector binds no wildcard and accepts nothing")
        }
    })
}

/// Whether `getsockopt` failed because this OS has no such option to read.
/// Windows reads `TCP_KEEPIDLE` and `TCP_KEEPINTVL` since Windows 10 1709;
/// Wine does not (`WSAENOPROTOOPT`).
#[cfg(windows)]
fn unreadable(e: &io::Error) -> bool {
    e.raw_os_error() == Some(windows_sys::Win32::Networking::WinSock::WSAENOPROTOOPT)
}

/// Whether `getsockopt` failed because this OS has no such option to read:
/// every option the table reads exists here.
#[cfg(not(windows))]
fn unreadable(_: &io::Error) -> bool {
    false
}

/// Runs every row on every kind it applies to (and the builder makes), and
/// fails listing every mismatch.
fn check_all<B: Default>(
    builder: &str,
    rows: Vec<Row<B>>,
    makes: &[Kind],
    build: fn(&B, Kind, &Path) -> sockwright::Result<Built>,
) {
    let dir = TempDir::new("options");
    let ipv6 = has_ipv6_loopback();
    if !ipv6 {
        eprintln!("IPv6 rows skipped: this host has no IPv6 loopback (::1)");
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in &rows {
        for &kind in row.kinds.iter().filter(|k| makes.contains(k)) {
            if !ipv6 && V6.contains(&kind) {
                continue;
            }
            let mut b = B::default();
            (row.set)(&mut b);
            let built = match build(&b, kind, dir.path()) {
                Ok(built) => built,
                Err(e) if row.privileged && e.kind() == io::ErrorKind::PermissionDenied => {
                    eprintln!(
                        "{builder} {} on {kind:?} skipped: {e} (needs CAP_NET_ADMIN or CAP_NET_RAW)",
                        row.name
                    );
                    continue;
                }
                Err(e) if e.io_error().is_some_and(unreadable) => {
                    eprintln!(
                        "{builder} {} on {kind:?} skipped: this OS does not have the option: {e}",
                        row.name
                    );
                    continue;
                }
                Err(e) => {
                    failures.push(format!(
                        "{builder} {} on {kind:?}: build failed: {e}",
                        row.name
                    ));
                    continue;
                }
            };
            let got = match (row.read)(&built.sock()) {
                Ok(v) => v,
                Err(e) if unreadable(&e) => {
                    eprintln!(
                        "{builder} {} on {kind:?} skipped: this OS cannot read the option back: {e}",
                        row.name
                    );
                    continue;
                }
                Err(e) => {
                    failures.push(format!(
                        "{builder} {} on {kind:?}: getsockopt failed: {e}",
                        row.name
                    ));
                    continue;
                }
            };
            let ok = match &row.want {
                Want::Is(want) => got == *want,
                Want::Test(_, pred) => pred(&got),
            };
            if !ok {
                let want = match &row.want {
                    Want::Is(want) => format!("{want:?}"),
                    Want::Test(words, _) => (*words).to_owned(),
                };
                failures.push(format!(
                    "{builder} {} on {kind:?}: read back {got:?}, want {want}",
                    row.name
                ));
            }
            checked += 1;
        }
    }
    eprintln!("{builder}: {checked} option values read back");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= rows.len(), "fewer checks ({checked}) than rows");
}

#[test]
fn listener_options_read_back() {
    let mut makes = ALL.to_vec();
    makes.extend(V6_ANY);
    makes.push(Kind::Accepted4);
    check_all("ListenerBuilder", listener_rows(), &makes, build_listener);
}

#[test]
fn connector_options_read_back() {
    #[cfg(unix)]
    let makes = &[
        Kind::Tcp4,
        Kind::Tcp6,
        Kind::Udp4,
        Kind::Udp6,
        Kind::UnixStream,
    ];
    #[cfg(not(unix))]
    let makes = INET;
    check_all("ConnectorBuilder", connector_rows(), makes, build_connector);
}

/// A control for the table: a socket with nothing set reads back none of
/// the non-default values, so a row cannot pass by matching the default.
#[test]
fn defaults_differ_from_every_non_default_row() {
    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let s = SockRef::from(&listener);
    assert!(!s.reuse_address().unwrap());
    assert!(!buffer_granted(&Value::Size(s.send_buffer_size().unwrap())));
    assert!(!buffer_granted(&Value::Size(s.recv_buffer_size().unwrap())));
    assert!(![1, 42, 255].contains(&s.ttl_v4().unwrap()));
    let udp = ListenerBuilder::new().bind_udp("127.0.0.1:0").unwrap();
    let s = SockRef::from(&udp);
    assert!(!buffer_granted(&Value::Size(s.send_buffer_size().unwrap())));
    assert!(!buffer_granted(&Value::Size(s.recv_buffer_size().unwrap())));
    let stream = ConnectorBuilder::new()
        .connect(listener.local_addr().unwrap())
        .unwrap();
    let s = SockRef::from(&stream);
    assert_eq!(s.read_timeout().unwrap(), None);
    assert_eq!(s.linger().unwrap(), None);
    assert!(!s.keepalive().unwrap());
    assert!(!buffer_granted(&Value::Size(s.send_buffer_size().unwrap())));
    assert!(!buffer_granted(&Value::Size(s.recv_buffer_size().unwrap())));
    #[cfg(target_os = "linux")]
    {
        assert_ne!(s.tcp_keepalive_time().unwrap(), Duration::from_secs(75));
        assert_ne!(s.tcp_keepalive_interval().unwrap(), Duration::from_secs(9));
        assert_ne!(s.tcp_keepalive_retries().unwrap(), 4);
        assert_eq!(s.device().unwrap(), None);
    }
}

/// Linux turns `IPV6_V6ONLY` on by itself when a socket binds a specific
/// IPv6 address (here `::1`): such a socket cannot receive IPv4 anyway. The
/// builder's "off" is written, then overridden by `bind(2)`.
#[cfg(target_os = "linux")]
#[test]
fn linux_sets_only_v6_when_binding_a_specific_ipv6_address() {
    if !has_ipv6_loopback() {
        eprintln!("skipped: this host has no IPv6 loopback (::1)");
        return;
    }
    let listener = ListenerBuilder::new()
        .only_v6(false)
        .listen("[::1]:0")
        .unwrap();
    assert!(SockRef::from(&listener).only_v6().unwrap());
    let wildcard = ListenerBuilder::new()
        .only_v6(false)
        .listen("[::]:0")
        .unwrap();
    assert!(!SockRef::from(&wildcard).only_v6().unwrap());
}

/// The same tables through the async finishing calls (the `tokio` feature):
/// their sockets are made by the same functions as the blocking calls', so
/// every row reads back the same, except nonblocking mode, which tokio needs
/// and the async calls always turn on. Each socket is taken back from tokio
/// with `into_std` to be read.
#[cfg(feature = "tokio")]
mod async_calls {
    use super::*;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("current-thread runtime")
            .block_on(future)
    }

    /// The rows as the async calls must pass them: nonblocking is on,
    /// whatever the row asked for.
    fn async_rows<B>(rows: Vec<Row<B>>) -> Vec<Row<B>> {
        rows.into_iter()
            .map(|row| {
                if row.name.starts_with("nonblocking") {
                    Row {
                        want: Want::Is(Value::Bool(true)),
                        ..row
                    }
                } else {
                    row
                }
            })
            .collect()
    }

    fn back<T>(taken: io::Result<T>) -> T {
        taken.expect("into_std")
    }

    fn build_listener(b: &ListenerBuilder, kind: Kind, _dir: &Path) -> sockwright::Result<Built> {
        block_on(async {
            Ok(match kind {
                Kind::Tcp4 | Kind::Tcp6 | Kind::Tcp6Any => {
                    Built::TcpListener(back(b.listen_async(loopback(kind)).await?.into_std()))
                }
                Kind::Udp4 | Kind::Udp6 | Kind::Udp6Any => {
                    Built::Udp(back(b.bind_udp_async(loopback(kind)).await?.into_std()))
                }
                // A connection accepted from a tokio listener, taken back as std.
                Kind::Accepted4 => {
                    let listener = b.listen_async(loopback(kind)).await?;
                    let client =
                        TcpStream::connect(listener.local_addr().unwrap()).expect("client");
                    let (accepted, _) = listener.accept().await.expect("accept");
                    Built::Accepted(back(accepted.into_std()), client, back(listener.into_std()))
                }
                #[cfg(unix)]
                Kind::UnixStream => Built::UnixListener(back(
                    b.listen_unix_async(fresh_path(_dir)).await?.into_std(),
                )),
                #[cfg(unix)]
                Kind::UnixDatagram => Built::UnixDatagram(back(
                    b.bind_unix_datagram_async(fresh_path(_dir))
                        .await?
                        .into_std(),
                )),
            })
        })
    }

    fn build_connector(b: &ConnectorBuilder, kind: Kind, _dir: &Path) -> sockwright::Result<Built> {
        block_on(async {
            Ok(match kind {
                Kind::Tcp4 | Kind::Tcp6 => {
                    let server = TcpListener::bind(loopback(kind)).expect("server listener");
                    let stream = b.connect_async(server.local_addr().unwrap()).await?;
                    Built::TcpStream(back(stream.into_std()), server)
                }
                Kind::Udp4 | Kind::Udp6 => {
                    let server = UdpSocket::bind(loopback(kind)).expect("server socket");
                    let socket = b.connect_udp_async(server.local_addr().unwrap()).await?;
                    Built::ConnectedUdp(back(socket.into_std()), server)
                }
                #[cfg(unix)]
                Kind::UnixStream => {
                    let path = fresh_path(_dir);
                    let server = UnixListener::bind(&path).expect("server listener");
                    let stream = b.connect_unix_async(&path).await?;
                    Built::UnixStream(back(stream.into_std()), server)
                }
                #[cfg(unix)]
                Kind::UnixDatagram => {
                    unreachable!("the connector builder makes no Unix datagram socket")
                }
                Kind::Tcp6Any | Kind::Udp6Any | Kind::Accepted4 => {
                    unreachable!("a connector binds no wildcard and accepts nothing")
                }
            })
        })
    }

    #[test]
    fn listener_options_read_back_through_the_async_calls() {
        let mut makes = ALL.to_vec();
        makes.extend(V6_ANY);
        makes.push(Kind::Accepted4);
        check_all(
            "ListenerBuilder, async",
            async_rows(listener_rows()),
            &makes,
            build_listener,
        );
    }

    #[test]
    fn connector_options_read_back_through_the_async_calls() {
        #[cfg(unix)]
        let makes = &[
            Kind::Tcp4,
            Kind::Tcp6,
            Kind::Udp4,
            Kind::Udp6,
            Kind::UnixStream,
        ];
        #[cfg(not(unix))]
        let makes = INET;
        check_all(
            "ConnectorBuilder, async",
            async_rows(connector_rows()),
            makes,
            build_connector,
        );
    }
}
