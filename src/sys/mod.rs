//! The platform backends: the few calls socket2 does not make for us.
//!
//! Each backend (`unix.rs`, `windows.rs`) provides:
//! - `keepalive_calls(&Keepalive)`: the `set_tcp_keepalive` calls that set
//!   it, each with the option it sets (the limits of every platform's
//!   options are in `keepalive.rs`); `KEEPALIVE_DETAILS`: whether `TCP_KEEPINTVL` and `TCP_KEEPCNT` exist;
//! - `connect_in_progress(&io::Error)`: whether a nonblocking connect goes on
//!   in the background;
//! - `connect_state(revents)`: how a connect stands ([`Connecting`]) after
//!   a readiness wait, from its entry's `revents`;
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
//! - the readiness wait, the one loop every wait goes through: `PollFd` (one
//!   socket's entry, `pollfd` / `WSAPOLLFD`), `Interest` (`Read`, `Write`),
//!   `poll_fd(&socket, Interest)`, `set_interest(&mut PollFd, Interest)`,
//!   `is_ready(&PollFd)`, and `poll(&mut [PollFd], wait_ms) -> ready count`
//!   (a signal is 0 ready, never an error);
//! - `TIMEOUT_UNIT`: the finest `SO_RCVTIMEO` / `SO_SNDTIMEO` the OS takes;
//!   `MAX_LINGER`: the longest `SO_LINGER` its `linger` struct holds;
//!   `MSS_RANGE`: the `TCP_MAXSEG` values the kernel takes.
//! - Unix only: `SUN_PATH_LEN`, the size of `sockaddr_un`'s `sun_path`.
//!
//! and, on Unix only, for the files of Unix sockets (`crate::listener::unix_file`,
//! in `unix/files.rs`):
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
//! and, on Unix only, for socket activation and the handover to a successor
//! (`unix/process.rs`, used by `crate::activation`):
//! - `set_cloexec(fd)`: `fcntl(F_SETFD, FD_CLOEXEC)` on a passed descriptor;
//! - `pidfd_id_self()`: this process's pidfd inode number, which
//!   `LISTEN_PIDFDID` names (Linux 6.9 and later; `None` elsewhere);
//! - `send_with_fds(&Socket, &SockAddr, data, fds)`: one `sendmsg(2)` with
//!   an `SCM_RIGHTS` message (`FDSTORE=1`); `monotonic_now()`:
//!   `CLOCK_MONOTONIC` (`MONOTONIC_USEC=`);
//! - `Spawn`, `spawn_with_fds(&Spawn)`: `fork` + `execve` with descriptors
//!   at 3, 4, ... and `LISTEN_PID` the child's own, async-signal-safe between
//!   the two; `try_wait(pid)`, `wait_blocking(pid)` (`waitpid`), `kill(pid)`
//!   (`SIGKILL`);
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
//! Written here once over those: `poll_connecting(&[&Socket], wait_ms)`,
//! the wait on sockets with a connect under way and how each one stands;
//! `poll_connect(&Socket, wait_ms)`, the same for one; and
//! `poll_connecting_or_woken(&[&Socket], &Socket, wait_ms)`, the same, also
//! waking when the wake socket of a name's lookups is readable.
//!
//! In `inspect_unix.rs` / `inspect_windows.rs`, what the kernel tells
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

use std::io;

use socket2::Socket;

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

/// The readiness wait (`poll(2)`, `WSAPoll`) on sockets with a nonblocking
/// connect under way: waits until at least one of them is writable, has an
/// error or hung up, for at most `wait_ms` milliseconds (`-1`: no limit).
/// Returns, per socket, how its connect stands; a wait interrupted by a
/// signal returns every one pending, and the caller waits again for the
/// time left.
///
/// Windows before Windows 10 version 2004 (build 19041) does not report a
/// failed connect through `WSAPoll`; there such an attempt counts as pending
/// until the connect timeout runs out (socket2's own `connect_timeout` has
/// the same limit).
pub(crate) fn poll_connecting(sockets: &[&Socket], wait_ms: i32) -> io::Result<Vec<Connecting>> {
    let mut fds: Vec<PollFd> = sockets
        .iter()
        .map(|s| poll_fd(*s, Interest::Write))
        .collect();
    poll(&mut fds, wait_ms)?;
    Ok(fds
        .iter()
        .map(|fd| imp::connect_state(fd.revents))
        .collect())
}

/// [`poll_connecting`] for one socket, with nothing allocated.
pub(crate) fn poll_connect(socket: &Socket, wait_ms: i32) -> io::Result<Connecting> {
    let mut fds = [poll_fd(socket, Interest::Write)];
    poll(&mut fds, wait_ms)?;
    Ok(imp::connect_state(fds[0].revents))
}

/// [`poll_connecting`], also waking when `wake` is readable (an answer of a
/// name's lookup came in). Returns how each socket's connect stands and
/// whether `wake` is readable; a wait interrupted by a signal returns every
/// connect pending and `wake` not readable.
pub(crate) fn poll_connecting_or_woken(
    sockets: &[&Socket],
    wake: &Socket,
    wait_ms: i32,
) -> io::Result<(Vec<Connecting>, bool)> {
    let mut fds: Vec<PollFd> = sockets
        .iter()
        .map(|s| poll_fd(*s, Interest::Write))
        .chain(std::iter::once(poll_fd(wake, Interest::Read)))
        .collect();
    poll(&mut fds, wait_ms)?;
    let (connects, woken) = fds.split_at(sockets.len());
    let states = connects
        .iter()
        .map(|fd| imp::connect_state(fd.revents))
        .collect();
    Ok((states, woken.iter().any(is_ready)))
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

/// `timeout` rounded up to whole [`TIMEOUT_UNIT`]s, the finest
/// `SO_RCVTIMEO` / `SO_SNDTIMEO` the OS takes. socket2 truncates instead, and
/// a timeout that truncates to zero means "no timeout" to the OS: a read
/// timeout of 1 ns would make reads wait forever.
pub(crate) fn os_timeout(timeout: std::time::Duration) -> std::time::Duration {
    round_up(timeout, TIMEOUT_UNIT)
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
