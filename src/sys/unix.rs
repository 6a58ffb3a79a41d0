//! Unix backend.

use std::io;
use std::os::unix::io::AsRawFd;

use socket2::{Socket, TcpKeepalive};

use super::Connecting;
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

/// `ty` with `SOCK_NONBLOCK`, where `socket(2)` takes it: the socket is
/// then nonblocking from its first call, with no `fcntl` or `ioctl` for it.
#[cfg(any(
    target_os = "android",
    target_os = "dragonfly",
    target_os = "freebsd",
    target_os = "fuchsia",
    target_os = "illumos",
    target_os = "linux",
    target_os = "netbsd",
    target_os = "openbsd"
))]
pub(crate) fn nonblocking_type(ty: socket2::Type) -> Option<socket2::Type> {
    Some(ty.nonblocking())
}

/// macOS and the other Unixes have no `SOCK_NONBLOCK`.
#[cfg(not(any(
    target_os = "android",
    target_os = "dragonfly",
    target_os = "freebsd",
    target_os = "fuchsia",
    target_os = "illumos",
    target_os = "linux",
    target_os = "netbsd",
    target_os = "openbsd"
)))]
pub(crate) fn nonblocking_type(_: socket2::Type) -> Option<socket2::Type> {
    None
}

/// Nonblocking mode on or off with one call, `ioctl(FIONBIO)`, where
/// socket2's `set_nonblocking` makes two (`fcntl` `F_GETFL`, then `F_SETFL`).
/// Both change the same `O_NONBLOCK` flag of the open file.
#[allow(unsafe_code)]
pub(crate) fn set_nonblocking(socket: &Socket, on: bool) -> io::Result<()> {
    let mut value = libc::c_int::from(on);
    // SAFETY: `FIONBIO` reads one `int` through the pointer, which points
    // to a live `c_int`; the descriptor is open while `socket` is borrowed.
    let rc = unsafe { libc::ioctl(socket.as_raw_fd(), libc::FIONBIO, &mut value) };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether sockets that `accept(2)` returns inherit `O_NONBLOCK` from the
/// listener: not on Linux (nor Android), which starts every accepted socket
/// blocking; yes on the BSDs and macOS.
pub(crate) const ACCEPT_INHERITS_NONBLOCKING: bool =
    !cfg!(any(target_os = "linux", target_os = "android"));

/// The state of a connect under way, as the readiness wait reports it.
fn connect_state(revents: libc::c_short) -> Connecting {
    if revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
        Connecting::Failed
    } else if revents & libc::POLLOUT != 0 {
        Connecting::Connected
    } else {
        Connecting::Pending
    }
}

/// `poll(2)` on sockets with a nonblocking connect under way: waits until at
/// least one of them is writable, has an error or hung up, for at most
/// `wait_ms` milliseconds (`-1`: no limit). Returns, per socket, how its
/// connect stands; a wait interrupted by a signal returns every one
/// pending, and the caller waits again for the time left.
#[allow(unsafe_code)]
pub(crate) fn poll_connecting(sockets: &[&Socket], wait_ms: i32) -> io::Result<Vec<Connecting>> {
    let mut fds: Vec<libc::pollfd> = sockets
        .iter()
        .map(|s| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        })
        .collect();
    // SAFETY: `fds` points to `fds.len()` initialised `pollfd` structs that
    // this call borrows exclusively; each descriptor stays open while
    // `sockets` is borrowed; `poll` writes only the `revents` fields.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait_ms) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(vec![Connecting::Pending; fds.len()]);
        }
        return Err(err);
    }
    Ok(fds.iter().map(|fd| connect_state(fd.revents)).collect())
}

/// [`poll_connecting`] for one socket, with nothing allocated.
#[allow(unsafe_code)]
pub(crate) fn poll_connect(socket: &Socket, wait_ms: i32) -> io::Result<Connecting> {
    let mut fd = libc::pollfd {
        fd: socket.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: as in `poll_connecting`, for one `pollfd` on the stack.
    let rc = unsafe { libc::poll(&mut fd, 1, wait_ms) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(Connecting::Pending);
        }
        return Err(err);
    }
    Ok(connect_state(fd.revents))
}
