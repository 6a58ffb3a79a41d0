//! The platform backends: the few calls socket2 does not make for us.
//!
//! Each backend (`unix.rs`, `windows.rs`) provides:
//! - `keepalive_calls(&Keepalive)`: the `set_tcp_keepalive` calls that set
//!   it, each with the option it sets (the limits of every platform's
//!   options are in `keepalive.rs`); `KEEPALIVE_DETAILS`: whether `TCP_KEEPINTVL` and `TCP_KEEPCNT` exist;
//! - `connect_in_progress(&io::Error)`: whether a nonblocking connect goes on
//!   in the background;
//! - `poll_connecting(&[&Socket], wait_ms)`: the OS readiness wait (`poll(2)`,
//!   `WSAPoll`) on sockets with a connect under way; how each one stands
//!   ([`Connecting`]); `poll_connect(&Socket, wait_ms)`: the same for one;
//!   `poll_connecting_or_woken(&[&Socket], &Socket, wait_ms)`: the same,
//!   also waking when the wake socket of a name's lookups is readable;
//! - `wake_pair()`: the two sockets through which a lookup's thread wakes
//!   that wait, and the hello server wakes a worker's (`socketpair(2)`; a
//!   loopback UDP pair on Windows);
//! - `is_message_too_long(&io::Error)`: whether a datagram receive failed
//!   for a datagram longer than its buffer (`WSAEMSGSIZE` on Windows;
//!   `EMSGSIZE` on Unix, which truncates instead);
//! - `lookup(name, Domain)`: `getaddrinfo` for one address family;
//! - `nonblocking_type(Type)`: the type with `SOCK_NONBLOCK`, where
//!   `socket(2)` takes it (`None` elsewhere);
//! - `ephemeral_ports()`: the range the kernel picks an ephemeral source
//!   port from, where it can be read (Linux), read once per process;
//! - `set_nonblocking(&Socket, bool)`: nonblocking mode on or off in one
//!   call (`ioctl(FIONBIO)`, `ioctlsocket(FIONBIO)`);
//! - the general readiness wait, used by the hello server: `PollFd` (one
//!   socket's entry, `pollfd` / `WSAPOLLFD`), `Interest` (`Read`, `Write`),
//!   `poll_fd(&socket, Interest)`, `set_interest(&mut PollFd, Interest)`,
//!   `is_ready(&PollFd)`, and `poll(&mut [PollFd], wait_ms) -> ready count`
//!   (a signal is 0 ready, never an error);
//! - `TIMEOUT_UNIT`: the finest `SO_RCVTIMEO` / `SO_SNDTIMEO` the OS takes;
//!   `MAX_LINGER`: the longest `SO_LINGER` its `linger` struct holds;
//!   `MSS_RANGE`: the `TCP_MAXSEG` values the kernel takes.
//! - Unix only: `SUN_PATH_LEN`, the size of `sockaddr_un`'s `sun_path`.
//!
//! and, on Unix only, for the files of Unix sockets (`crate::listener::unix_file`):
//! - `fchmod_socket(&Socket, mode)`: `fchmod(2)` before `bind` (Linux;
//!   nothing elsewhere);
//! - `Dir`: a directory opened once, and the calls on one name in it that
//!   never follow a symbolic link (`stat`: `fstatat`, `unlink`: `unlinkat`,
//!   `open_lock`: `openat` of a lock file, `chmod_socket_file`: the mode of
//!   a socket file, through an `O_PATH` handle checked to be the right file
//!   on Linux, `fchmodat(AT_SYMLINK_NOFOLLOW)` elsewhere); `FileFacts`,
//!   `FileKind`: what `fstatat` says;
//! - `try_lock(&OwnedFd)`: one try of an exclusive lock (`flock`,
//!   `fcntl(F_SETLK)` on Solaris and illumos);
//! - (Linux) `holders_of(dev, ino)`: the sockets bound to a file and whether
//!   they listen, and `bound_file(&Socket)`: the file a socket is bound to,
//!   both from the kernel's table of Unix sockets (`NETLINK_SOCK_DIAG`);
//!
//! and, only where the platform has the option (the option table in
//! `crate::options` calls them through `on_X!`, so other platforms never
//! name them):
//! - `set_exclusive_address_use(&Socket, bool)`: `SO_EXCLUSIVEADDRUSE` (Windows);
//! - `set_tcp_fastopen(&Socket, u32)`: `TCP_FASTOPEN` on a listening socket;
//! - `set_tcp_defer_accept`, `set_tcp_fastopen_connect` (Linux);
//! - `bind_device(&Socket, Domain, &str)`: `SO_BINDTODEVICE`, or
//!   `IP_BOUND_IF` by the interface's index (Apple, illumos, Solaris).
//!
//! and, in `inspect_unix.rs` / `inspect_windows.rs`, what the kernel tells
//! of a connected socket (`crate::inspect`):
//! - `peer_ids(&Socket) -> PeerIds` (Unix): a Unix socket's peer
//!   (`SO_PEERCRED`, `getpeereid`, `LOCAL_PEERPID`); `peer_pidfd` (Linux):
//!   `SO_PEERPIDFD`;
//! - `tcp_figures(&Socket) -> TcpFigures`: `TCP_INFO` (Linux, FreeBSD),
//!   `TCP_CONNECTION_INFO` (Apple), `SIO_TCP_INFO` (Windows);
//! - `is_mptcp(&Socket)`: `MPTCP_INFO`, else `SO_PROTOCOL` (Linux; `false`
//!   elsewhere).
//!
//! and, where the platform has it, the source port of a connect:
//! `defer_source_port(&Socket)` before `bind(ip:0)` (`IP_BIND_ADDRESS_NO_PORT`
//! on Linux, in `source_port.rs`; `SO_REUSE_UNICASTPORT` on Windows), and
//! `set_local_port_range(&Socket, low, high)`: `IP_LOCAL_PORT_RANGE` (Linux).
//!
//! `unsafe` code lives here only: one small function per call, each
//! `#[allow(unsafe_code)]` under the crate's `deny(unsafe_code)`, each with
//! a `// SAFETY:` comment.

#[cfg_attr(unix, path = "unix.rs")]
#[cfg_attr(windows, path = "windows.rs")]
mod imp;

pub(crate) use imp::*;

#[cfg_attr(unix, path = "inspect_unix.rs")]
#[cfg_attr(windows, path = "inspect_windows.rs")]
mod inspect;

pub(crate) use inspect::*;

#[cfg(any(target_os = "linux", target_os = "android"))]
mod source_port;

#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) use source_port::*;

/// Who is at the other end of a Unix socket, as the kernel says.
#[cfg(unix)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PeerIds {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) pid: Option<u32>,
}

/// What a platform's TCP information call tells, in common units; `None`
/// for what it does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TcpFigures {
    pub(crate) rtt: Option<std::time::Duration>,
    pub(crate) rtt_var: Option<std::time::Duration>,
    pub(crate) retransmits: Option<u64>,
    /// In bytes.
    pub(crate) congestion_window: Option<u64>,
    pub(crate) mss: Option<u32>,
    pub(crate) path_mtu: Option<u32>,
    pub(crate) bytes_in_flight: Option<u64>,
    /// In bytes per second.
    pub(crate) delivery_rate: Option<u64>,
}

/// What a readiness wait waits for on one socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Without the hello server only connects are waited for.
#[cfg_attr(not(feature = "hello"), allow(dead_code))]
pub(crate) enum Interest {
    /// Data to read, end of file, or an error (`POLLIN`; `POLLRDNORM` on
    /// Windows).
    Read,
    /// Room to write, or an error (`POLLOUT`; `POLLWRNORM` on Windows).
    Write,
}

/// How a nonblocking connect stands after a readiness wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Connecting {
    /// Still under way (or the wait ended first).
    Pending,
    /// Writable with no error or hang-up reported: connected. No
    /// `getsockopt(SO_ERROR)` is needed to know it.
    Connected,
    /// An error or hang-up was reported: `SO_ERROR` says which error.
    Failed,
}

/// `SO_LINGER` counts whole seconds everywhere.
pub(crate) const LINGER_UNIT: std::time::Duration = std::time::Duration::from_secs(1);

/// `duration` rounded up to a whole multiple of `unit` (at most a second).
///
/// socket2 truncates durations to the unit each option counts in, and for
/// several options zero means something else (no timeout, reset on close)
/// or is refused; rounding up keeps every value at least as long as asked.
pub(crate) fn round_up(
    duration: std::time::Duration,
    unit: std::time::Duration,
) -> std::time::Duration {
    let unit = unit.as_nanos();
    let below = duration.as_nanos() % unit;
    if below == 0 {
        duration
    } else {
        // `unit - below` is less than `unit`, at most a second: it fits.
        duration.saturating_add(std::time::Duration::from_nanos((unit - below) as u64))
    }
}

/// The error an option this platform lacks would give, were it ever asked
/// for (its setter does not exist here, so it is not).
#[allow(dead_code)]
pub(crate) fn unsupported(what: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        format!("{what} is not available on this platform"),
    )
}
