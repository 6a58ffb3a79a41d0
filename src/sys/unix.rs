//! Unix backend.

use std::io;
use std::os::unix::io::AsRawFd;

use socket2::{Socket, TcpKeepalive};

use crate::{Domain, Keepalive};

#[cfg(not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin")))]
pub(crate) fn set_reuse_port(socket: &Socket, on: bool) -> io::Result<()> {
    socket.set_reuse_port(on)
}

#[cfg(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))]
pub(crate) fn set_reuse_port(_: &Socket, _: bool) -> io::Result<()> {
    Err(super::unsupported("SO_REUSEPORT"))
}

pub(crate) fn set_exclusive_address_use(_: &Socket, _: bool) -> io::Result<()> {
    Err(super::unsupported("SO_EXCLUSIVEADDRUSE"))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn bind_device(socket: &Socket, interface: &[u8]) -> io::Result<()> {
    socket.bind_device(Some(interface))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn bind_device(_: &Socket, _: &[u8]) -> io::Result<()> {
    Err(super::unsupported("SO_BINDTODEVICE"))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn set_freebind(
    socket: &Socket,
    domain: Domain,
    on: bool,
) -> (&'static str, io::Result<()>) {
    if domain == Domain::Ipv6 {
        ("IPV6_FREEBIND", socket.set_freebind_v6(on))
    } else {
        ("IP_FREEBIND", socket.set_freebind_v4(on))
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn set_freebind(_: &Socket, _: Domain, _: bool) -> (&'static str, io::Result<()>) {
    ("IP_FREEBIND", Err(super::unsupported("IP_FREEBIND")))
}

/// The finest timeout `SO_RCVTIMEO` / `SO_SNDTIMEO` take here: socket2
/// passes a `timeval`, truncating to whole microseconds.
pub(crate) const TIMEOUT_UNIT: std::time::Duration = std::time::Duration::from_micros(1);

/// The longest `SO_LINGER`: `l_linger` is a C `int` of seconds.
pub(crate) const MAX_LINGER: std::time::Duration = std::time::Duration::from_secs(i32::MAX as u64);

/// `TCP_KEEPIDLE` and `TCP_KEEPINTVL` count whole seconds.
const KEEPALIVE_UNIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether `TCP_KEEPINTVL` and `TCP_KEEPCNT` exist here.
pub(crate) const KEEPALIVE_DETAILS: bool = cfg!(any(
    target_os = "android",
    target_os = "dragonfly",
    target_os = "freebsd",
    target_os = "fuchsia",
    target_os = "illumos",
    target_os = "ios",
    target_os = "linux",
    target_os = "macos",
    target_os = "netbsd",
    target_os = "tvos",
    target_os = "watchos",
));

pub(crate) fn keepalive(params: &Keepalive) -> TcpKeepalive {
    let mut ka = TcpKeepalive::new();
    if let Some(time) = params.time {
        ka = ka.with_time(super::round_up(time, KEEPALIVE_UNIT));
    }
    #[cfg(any(
        target_os = "android",
        target_os = "dragonfly",
        target_os = "freebsd",
        target_os = "fuchsia",
        target_os = "illumos",
        target_os = "ios",
        target_os = "linux",
        target_os = "macos",
        target_os = "netbsd",
        target_os = "tvos",
        target_os = "watchos",
    ))]
    {
        if let Some(interval) = params.interval {
            ka = ka.with_interval(super::round_up(interval, KEEPALIVE_UNIT));
        }
        if let Some(retries) = params.retries {
            ka = ka.with_retries(retries);
        }
    }
    ka
}

/// Whether a nonblocking `connect(2)` reported that it goes on in the
/// background (`EINPROGRESS`) rather than failing.
pub(crate) fn connect_in_progress(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EINPROGRESS)
}

/// `poll(2)` on sockets with a nonblocking connect under way: waits until at
/// least one of them is writable, has an error or hung up, for at most
/// `wait_ms` milliseconds (`-1`: no limit). Returns, per socket, whether it
/// is ready; a wait interrupted by a signal returns none ready, and the
/// caller waits again for the time left.
pub(crate) fn poll_connecting(sockets: &[&Socket], wait_ms: i32) -> io::Result<Vec<bool>> {
    let mut fds: Vec<PollFd> = sockets
        .iter()
        .map(|s| poll_fd(*s, Interest::Write))
        .collect();
    poll(&mut fds, wait_ms)?;
    Ok(fds.iter().map(is_ready).collect())
}

/// One socket's entry in a readiness wait: a `pollfd`.
pub(crate) type PollFd = libc::pollfd;

/// What a readiness wait waits for on one socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interest {
    /// Data to read, end of file, or an error (`POLLIN`).
    Read,
    /// Room to write, or an error (`POLLOUT`).
    Write,
}

fn events(interest: Interest) -> libc::c_short {
    match interest {
        Interest::Read => libc::POLLIN,
        Interest::Write => libc::POLLOUT,
    }
}

/// The entry for `socket`, waiting for `interest`. The socket must stay open
/// while the entry is waited on.
pub(crate) fn poll_fd(socket: &impl AsRawFd, interest: Interest) -> PollFd {
    libc::pollfd {
        fd: socket.as_raw_fd(),
        events: events(interest),
        revents: 0,
    }
}

/// Changes what `entry` waits for.
pub(crate) fn set_interest(entry: &mut PollFd, interest: Interest) {
    entry.events = events(interest);
}

/// Whether the last wait found `entry` ready: readable or writable as asked,
/// or in error, or hung up (`revents` not empty).
pub(crate) fn is_ready(entry: &PollFd) -> bool {
    entry.revents != 0
}

/// The readiness wait, `poll(2)`: waits until at least one entry is ready,
/// for at most `wait_ms` milliseconds (`-1`: no limit), and returns how many
/// are. A wait interrupted by a signal returns 0 with no entry ready, and the
/// caller waits again for the time left.
#[allow(unsafe_code)]
pub(crate) fn poll(fds: &mut [PollFd], wait_ms: i32) -> io::Result<usize> {
    // SAFETY: `fds` points to `fds.len()` initialised `pollfd` structs that
    // this call borrows exclusively; the caller keeps each descriptor open
    // while its entry is waited on (a closed one is reported as `POLLNVAL`,
    // never touched); `poll` writes only the `revents` fields.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait_ms) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        // `poll` leaves `revents` as they were when it fails.
        fds.iter_mut().for_each(|fd| fd.revents = 0);
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(err);
    }
    Ok(rc as usize)
}
