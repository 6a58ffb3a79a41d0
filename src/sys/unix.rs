//! Unix backend.

use std::io;
use std::os::unix::io::AsRawFd;

use socket2::{Socket, TcpKeepalive};

use crate::Keepalive;

/// `setsockopt(level, name)` with a C `int` value, for the options socket2
/// does not expose.
#[allow(unsafe_code, dead_code)]
fn setsockopt_int(
    socket: &Socket,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the descriptor stays open for the borrow of `socket`; the
    // option value points to a live `c_int` whose size is passed with it,
    // and `setsockopt` only reads it.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A value that fits a C `int` (the builder checked it does).
fn c_int(value: u32) -> libc::c_int {
    libc::c_int::try_from(value).unwrap_or(libc::c_int::MAX)
}

cfg_fastopen! {
/// `TCP_FASTOPEN` on a listening socket: the queue length of pending Fast
/// Open requests on Linux; on macOS and FreeBSD the option is on or off, so
/// any length but 0 turns it on.
pub(crate) fn set_tcp_fastopen(socket: &Socket, queue_len: u32) -> io::Result<()> {
    let value = if crate::platform::has::LINUX {
        c_int(queue_len)
    } else {
        libc::c_int::from(queue_len != 0)
    };
    setsockopt_int(socket, libc::IPPROTO_TCP, libc::TCP_FASTOPEN, value)
}
}

cfg_linux! {
/// `TCP_DEFER_ACCEPT`: whole seconds to wait for data before `accept`.
pub(crate) fn set_tcp_defer_accept(socket: &Socket, seconds: u32) -> io::Result<()> {
    setsockopt_int(
        socket,
        libc::IPPROTO_TCP,
        libc::TCP_DEFER_ACCEPT,
        c_int(seconds),
    )
}

/// `TCP_FASTOPEN_CONNECT`: send the first write with the SYN.
pub(crate) fn set_tcp_fastopen_connect(socket: &Socket, on: bool) -> io::Result<()> {
    setsockopt_int(
        socket,
        libc::IPPROTO_TCP,
        libc::TCP_FASTOPEN_CONNECT,
        libc::c_int::from(on),
    )
}

/// `SO_BINDTODEVICE` by interface name.
pub(crate) fn bind_device(socket: &Socket, _: crate::Domain, interface: &str) -> io::Result<()> {
    socket.bind_device(Some(interface.as_bytes()))
}
}

cfg_bound_if! {
/// `IP_BOUND_IF` / `IPV6_BOUND_IF` by the index of the named interface
/// (`if_nametoindex(3)`).
pub(crate) fn bind_device(socket: &Socket, domain: crate::Domain, interface: &str) -> io::Result<()> {
    let index = interface_index(interface)?;
    if domain == crate::Domain::Ipv6 {
        socket.bind_device_by_index_v6(Some(index))
    } else {
        socket.bind_device_by_index_v4(Some(index))
    }
}

/// `if_nametoindex(3)`: the index of the interface named `name`.
#[allow(unsafe_code)]
fn interface_index(name: &str) -> io::Result<std::num::NonZeroU32> {
    let c_name = std::ffi::CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name has a NUL"))?;
    // SAFETY: `c_name` is a NUL-terminated string that lives for the call;
    // `if_nametoindex` only reads it.
    let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
    std::num::NonZeroU32::new(index).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("no network interface named {name:?}"),
        )
    })
}
}

/// The `TCP_MAXSEG` values the kernel takes: Linux refuses an MSS below
/// `TCP_MIN_MSS` (88) or above `MAX_TCP_WINDOW` (32767).
pub(crate) const MSS_RANGE: std::ops::RangeInclusive<u32> = if crate::platform::has::LINUX {
    88..=32767
} else {
    1..=65535
};

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
#[allow(unsafe_code)]
pub(crate) fn poll_connecting(sockets: &[&Socket], wait_ms: i32) -> io::Result<Vec<bool>> {
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
            return Ok(vec![false; fds.len()]);
        }
        return Err(err);
    }
    Ok(fds.iter().map(|fd| fd.revents != 0).collect())
}
