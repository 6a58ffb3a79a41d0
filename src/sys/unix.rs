//! Unix backend.

use std::io;
use std::os::unix::io::AsRawFd;

use socket2::Socket;

use super::{Connecting, Interest};
use crate::Keepalive;

/// `setsockopt(level, name)` with a C `int` value, for the options socket2
/// does not expose.
#[allow(unsafe_code, dead_code)]
pub(super) fn setsockopt_int(
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

/// The size of `sockaddr_un`'s `sun_path`: 108 bytes on Linux, 104 on
/// macOS and the BSDs. A file path must leave room for its closing NUL; an
/// abstract name (first byte NUL) may fill it.
#[allow(unsafe_code)]
pub(crate) const SUN_PATH_LEN: usize = {
    // SAFETY: `sockaddr_un` is a plain C struct of integers and bytes, for
    // which all zeros is a valid value; it is only measured.
    let addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_path.len()
};

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
}

/// `if_nametoindex(3)`: the index of the interface named `name`.
#[allow(unsafe_code)]
pub(crate) fn interface_index(name: &str) -> io::Result<std::num::NonZeroU32> {
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

/// `SO_KEEPALIVE`, then one `setsockopt` per parameter given
/// (`TCP_KEEPIDLE` or macOS' `TCP_KEEPALIVE`, `TCP_KEEPINTVL`, `TCP_KEEPCNT`),
/// times rounded up to whole seconds. A failure names the option whose call
/// failed ([`failed_call`](crate::options::failed_call)).
pub(crate) fn set_keepalive(socket: &Socket, params: &Keepalive) -> io::Result<()> {
    use crate::options::failed_call;
    let limits = &crate::keepalive::LIMITS;
    let seconds = |d| {
        c_int(
            super::round_up(d, limits.unit)
                .as_secs()
                .min(u32::MAX.into()) as u32,
        )
    };
    socket.set_keepalive(true)?;
    if let Some(time) = params.time {
        #[cfg(any(
            target_os = "macos",
            target_os = "ios",
            target_os = "tvos",
            target_os = "watchos",
            target_os = "visionos"
        ))]
        const IDLE: libc::c_int = libc::TCP_KEEPALIVE;
        #[cfg(not(any(
            target_os = "macos",
            target_os = "ios",
            target_os = "tvos",
            target_os = "watchos",
            target_os = "visionos",
            target_os = "openbsd"
        )))]
        const IDLE: libc::c_int = libc::TCP_KEEPIDLE;
        #[cfg(target_os = "openbsd")]
        return Err(failed_call(
            limits.time_option,
            super::unsupported("keepalive time"),
        ));
        #[cfg(not(target_os = "openbsd"))]
        setsockopt_int(socket, libc::IPPROTO_TCP, IDLE, seconds(time))
            .map_err(|e| failed_call(limits.time_option, e))?;
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
            setsockopt_int(
                socket,
                libc::IPPROTO_TCP,
                libc::TCP_KEEPINTVL,
                seconds(interval),
            )
            .map_err(|e| failed_call(limits.interval_option, e))?;
        }
        if let Some(retries) = params.retries {
            setsockopt_int(socket, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, c_int(retries))
                .map_err(|e| failed_call(limits.retries_option, e))?;
        }
    }
    // Elsewhere, asking for an interval or a count is refused before any call.
    Ok(())
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

/// The ports the kernel picks from for an ephemeral source port
/// (`net.ipv4.ip_local_port_range`, which IPv6 shares), read once per
/// process; `None` where it cannot be read.
///
/// A per-socket `IP_LOCAL_PORT_RANGE` only narrows this range, so a port
/// outside it is never picked. A range changed later with `sysctl` is not
/// seen by a running process.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
pub(crate) fn ephemeral_ports() -> Option<std::ops::RangeInclusive<u16>> {
    static RANGE: std::sync::OnceLock<Option<(u16, u16)>> = std::sync::OnceLock::new();
    // After the first call, one load and a comparison: the read is out of line.
    let &(low, high) = match RANGE.get() {
        Some(range) => range,
        None => RANGE.get_or_init(read_ephemeral_ports),
    }
    .as_ref()?;
    Some(low..=high)
}

/// Reads `net.ipv4.ip_local_port_range`, for [`ephemeral_ports`].
#[cfg(any(target_os = "linux", target_os = "android"))]
fn read_ephemeral_ports() -> Option<(u16, u16)> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut ports = text.split_whitespace().map(str::parse::<u16>);
    match (ports.next(), ports.next()) {
        (Some(Ok(low)), Some(Ok(high))) if low <= high => Some((low, high)),
        _ => None,
    }
}

/// Elsewhere the range is not read: every port may be an ephemeral one.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[inline]
pub(crate) fn ephemeral_ports() -> Option<std::ops::RangeInclusive<u16>> {
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
pub(crate) fn poll_connecting(sockets: &[&Socket], wait_ms: i32) -> io::Result<Vec<Connecting>> {
    let mut fds: Vec<PollFd> = sockets
        .iter()
        .map(|s| poll_fd(*s, Interest::Write))
        .collect();
    poll(&mut fds, wait_ms)?;
    Ok(fds.iter().map(|fd| connect_state(fd.revents)).collect())
}

/// [`poll_connecting`] for one socket, with nothing allocated.
pub(crate) fn poll_connect(socket: &Socket, wait_ms: i32) -> io::Result<Connecting> {
    let mut fds = [poll_fd(socket, Interest::Write)];
    poll(&mut fds, wait_ms)?;
    Ok(connect_state(fds[0].revents))
}

/// One socket's entry in a readiness wait: a `pollfd`.
pub(crate) use libc::pollfd as PollFd;

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
#[cfg_attr(not(feature = "hello"), allow(dead_code))]
pub(crate) fn set_interest(entry: &mut PollFd, interest: Interest) {
    entry.events = events(interest);
}

/// Whether the last wait found `entry` ready: readable or writable as asked,
/// or in error, or hung up (`revents` not empty).
#[cfg_attr(not(feature = "hello"), allow(dead_code))]
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

/// What a file descriptor is, as `fstat(2)` and, for a socket,
/// `getsockopt(2)` report it. Nothing about the descriptor is changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FdFacts {
    /// A socket: its `SO_TYPE` and family (raw numbers) and `SO_ACCEPTCONN`.
    Socket {
        ty: libc::c_int,
        family: libc::c_int,
        listening: bool,
    },
    /// Not a socket: what `st_mode` says it is, in words.
    Other(&'static str),
}

pub(crate) const SOCK_STREAM: libc::c_int = libc::SOCK_STREAM;
pub(crate) const SOCK_DGRAM: libc::c_int = libc::SOCK_DGRAM;
pub(crate) const SOCK_SEQPACKET: libc::c_int = libc::SOCK_SEQPACKET;
pub(crate) const AF_INET: libc::c_int = libc::AF_INET;
pub(crate) const AF_INET6: libc::c_int = libc::AF_INET6;
pub(crate) const AF_UNIX: libc::c_int = libc::AF_UNIX;

/// Looks at `fd` without changing it: `fstat(2)`, then `SO_TYPE`, the
/// family (`SO_DOMAIN` where the OS has it, else `getsockname(2)`) and
/// `SO_ACCEPTCONN`. A number that is not open is `EBADF`.
#[allow(unsafe_code)]
pub(crate) fn fd_facts(fd: i32) -> io::Result<FdFacts> {
    if fd < 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: an all-zero `stat` is a valid value of this plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid, writable `stat` that outlives the call; fstat
    // only reads the descriptor's metadata and writes `st`. A number that is
    // not open is reported as EBADF, not undefined behaviour.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let what = match st.st_mode & libc::S_IFMT {
        libc::S_IFSOCK => None,
        libc::S_IFREG => Some("a regular file"),
        libc::S_IFDIR => Some("a directory"),
        libc::S_IFIFO => Some("a pipe"),
        libc::S_IFCHR => Some("a character device"),
        libc::S_IFBLK => Some("a block device"),
        libc::S_IFLNK => Some("a symbolic link"),
        _ => Some("not a socket"),
    };
    if let Some(what) = what {
        return Ok(FdFacts::Other(what));
    }
    let ty = getsockopt_int(fd, libc::SO_TYPE)?;
    let family = family(fd)?;
    let listening = getsockopt_int(fd, libc::SO_ACCEPTCONN)? != 0;
    Ok(FdFacts::Socket {
        ty,
        family,
        listening,
    })
}

/// One `int`-valued `SOL_SOCKET` option of `fd`, read with `getsockopt(2)`.
#[allow(unsafe_code)]
fn getsockopt_int(fd: i32, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid and writable for the call, `len`
    // holds the size of `value`, and getsockopt writes at most `len` bytes.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
fn family(fd: i32) -> io::Result<libc::c_int> {
    getsockopt_int(fd, libc::SO_DOMAIN)
}

/// The socket's family from `getsockname(2)`, where there is no `SO_DOMAIN`.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
#[allow(unsafe_code)]
fn family(fd: i32) -> io::Result<libc::c_int> {
    // SAFETY: an all-zero `sockaddr_storage` is a valid value of this C struct.
    let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `addr` is writable for `len` bytes, the size of the storage;
    // getsockname writes at most that many and updates `len`.
    let rc = unsafe {
        libc::getsockname(
            fd,
            (&mut addr as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(libc::c_int::from(addr.ss_family))
}

/// Whether `fd` is an open descriptor: `fcntl(F_GETFD)`, which reads its
/// flags and changes nothing.
#[allow(unsafe_code)]
pub(crate) fn fd_is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD takes no argument and only reads the descriptor's
    // flags; a number that is not open gives EBADF.
    fd >= 0 && unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0
}

/// Takes ownership of `fd`, after setting it close-on-exec
/// (`fcntl(F_SETFD, FD_CLOEXEC)`); if that fails, `fd` is left as it was
/// and not owned.
///
/// # Safety
///
/// Nothing else owns `fd`: the caller has checked with [`fd_facts`] that it
/// is an open socket of the kind it needs, has recorded it as adopted so
/// that this process never adopts the same number twice, and has the
/// promise of whoever passed it (the service manager through `LISTEN_FDS`,
/// or the caller of an `unsafe` adopting function) that it is free.
#[allow(unsafe_code)]
pub(crate) unsafe fn adopt_fd(fd: i32) -> io::Result<std::os::unix::io::OwnedFd> {
    use std::os::unix::io::FromRawFd;

    // SAFETY: F_GETFD reads the descriptor's flags only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    if flags & libc::FD_CLOEXEC == 0 {
        // SAFETY: F_SETFD with an int argument changes only this
        // descriptor's flags, keeping every other flag it had.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    // SAFETY: `fd` is open (fcntl just succeeded on it), and nothing else
    // owns it (this function's contract).
    Ok(unsafe { std::os::unix::io::OwnedFd::from_raw_fd(fd) })
}

/// `fchmod(2)` on a Unix socket before `bind(2)`: on Linux the socket file
/// that `bind` creates takes this mode (less the umask), so the file is never
/// wider than asked, not even for an instant.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(unsafe_code)]
pub(crate) fn fchmod_socket(socket: &Socket, mode: u32) -> io::Result<()> {
    // SAFETY: fchmod takes a descriptor number and a mode and touches no
    // memory of ours; `socket` keeps the descriptor open during the call.
    if unsafe { libc::fchmod(socket.as_raw_fd(), mode as libc::mode_t) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Elsewhere `fchmod(2)` on a socket does not reach the file `bind` creates
/// (and may fail), so nothing is done before `bind`.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn fchmod_socket(_: &Socket, _: u32) -> io::Result<()> {
    Ok(())
}

/// [`poll_connecting`], also waking when `wake` is readable (an answer of a
/// name's lookup came in). Returns how each socket's connect stands and
/// whether `wake` is readable; a wait interrupted by a signal returns every
/// connect pending and `wake` not readable.
#[allow(unsafe_code)]
pub(crate) fn poll_connecting_or_woken(
    sockets: &[&Socket],
    wake: &Socket,
    wait_ms: i32,
) -> io::Result<(Vec<Connecting>, bool)> {
    let mut fds: Vec<libc::pollfd> = sockets
        .iter()
        .map(|s| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        })
        .collect();
    fds.push(libc::pollfd {
        fd: wake.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    });
    // SAFETY: `fds` points to `fds.len()` initialised `pollfd` structs that
    // this call borrows exclusively; each descriptor stays open while
    // `sockets` and `wake` are borrowed; `poll` writes only the `revents` fields.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait_ms) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok((vec![Connecting::Pending; sockets.len()], false));
        }
        return Err(err);
    }
    let states = fds[..sockets.len()]
        .iter()
        .map(|fd| connect_state(fd.revents))
        .collect();
    Ok((states, fds[sockets.len()].revents != 0))
}

/// A connected pair of sockets through which a resolver thread wakes the
/// thread that runs the race: `socketpair(AF_UNIX, SOCK_STREAM)`, each end
/// close-on-exec (socket2's `Socket::pair`). Returns (the end that is
/// waited on, the end that is written to).
pub(crate) fn wake_pair() -> io::Result<(Socket, Socket)> {
    Socket::pair(socket2::Domain::UNIX, socket2::Type::STREAM, None)
}

/// Whether a datagram receive failed because the datagram is longer than
/// the buffer (`EMSGSIZE`). Unix truncates such a datagram (`recv(2)`
/// returns the bytes that fit) rather than failing, so this is for
/// completeness: the callers tell a long datagram by its length.
#[cfg_attr(not(feature = "hello"), allow(dead_code))]
pub(crate) fn is_message_too_long(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EMSGSIZE)
}

/// `gai_strerror`'s text for a `getaddrinfo` code, with its first letter
/// lowercase as every other message (`name or service not known`).
#[allow(unsafe_code)]
fn gai_message(rc: libc::c_int) -> String {
    // SAFETY: `gai_strerror` returns a pointer to a static NUL-terminated
    // message for any code.
    let message = unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(rc)) };
    let message = message.to_string_lossy();
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `getaddrinfo(3)` for `name` in one address family (`AF_INET6` or
/// `AF_INET` in the hints, `SOCK_STREAM`, no flags): the addresses with port
/// 0, in the resolver's order, duplicates removed.
#[allow(unsafe_code)]
pub(crate) fn lookup(name: &str, family: crate::Domain) -> io::Result<Vec<std::net::SocketAddr>> {
    use std::ffi::CString;
    use std::ptr;

    let c_name = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "name contains a NUL byte"))?;
    // SAFETY: `addrinfo` is a plain C struct of integers and pointers, for
    // which all zeros (null pointers, no flags) is a valid value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = if family == crate::Domain::Ipv6 {
        libc::AF_INET6
    } else {
        libc::AF_INET
    };
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = ptr::null_mut();
    // SAFETY: `c_name` is a NUL-terminated string that outlives the call, a
    // null service is allowed, `hints` is a valid `addrinfo`, and `list` is
    // a valid place for the result pointer.
    let rc = unsafe { libc::getaddrinfo(c_name.as_ptr(), ptr::null(), &hints, &mut list) };
    if rc != 0 {
        if rc == libc::EAI_SYSTEM {
            return Err(io::Error::last_os_error());
        }
        let kind = if rc == libc::EAI_NONAME {
            io::ErrorKind::NotFound
        } else {
            io::ErrorKind::Other
        };
        return Err(io::Error::new(kind, gai_message(rc)));
    }
    let mut addrs = Vec::new();
    let mut entry = list;
    while !entry.is_null() {
        // SAFETY: `entry` is a non-null node of the list `getaddrinfo`
        // returned, not yet freed.
        let ai = unsafe { &*entry };
        if !ai.ai_addr.is_null() {
            let len = ai.ai_addrlen;
            let src = ai.ai_addr.cast::<u8>();
            // SAFETY: `ai_addr` points to `ai_addrlen` readable bytes; at
            // most the storage's size is copied into the zeroed storage,
            // and the length written back is the number of bytes copied.
            let copied = unsafe {
                socket2::SockAddr::try_init(|storage, storage_len| {
                    let n = (len as usize).min(*storage_len as usize);
                    ptr::copy_nonoverlapping(src, storage.cast::<u8>(), n);
                    *storage_len = n as libc::socklen_t;
                    Ok(())
                })
            };
            if let Ok(((), addr)) = copied {
                if let Some(addr) = addr.as_socket() {
                    if !addrs.contains(&addr) {
                        addrs.push(addr);
                    }
                }
            }
        }
        entry = ai.ai_next;
    }
    // SAFETY: `list` is the list `getaddrinfo` returned, freed once, and no
    // reference into it outlives this point (the addresses were copied).
    unsafe { libc::freeaddrinfo(list) };
    Ok(addrs)
}

/// `Ok(rc)` for a call that returned something other than -1, the OS error
/// (`errno`) for -1.
fn syscall(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// What kind of file a directory entry is (`st_mode & S_IFMT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Socket,
    Regular,
    Directory,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Other,
}

/// The facts of one file that the Unix socket file code compares: its kind,
/// its identity (device and inode) and its permission bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileFacts {
    pub(crate) kind: FileKind,
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub(crate) mode: u32,
}

impl FileFacts {
    /// Whether `other` is the same file (same device and inode).
    pub(crate) fn same_file(&self, other: &FileFacts) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }
}

#[allow(clippy::unnecessary_cast)]
fn facts(st: &libc::stat) -> FileFacts {
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFSOCK => FileKind::Socket,
        libc::S_IFREG => FileKind::Regular,
        libc::S_IFDIR => FileKind::Directory,
        libc::S_IFLNK => FileKind::Symlink,
        libc::S_IFCHR => FileKind::CharDevice,
        libc::S_IFBLK => FileKind::BlockDevice,
        libc::S_IFIFO => FileKind::Fifo,
        _ => FileKind::Other,
    };
    FileFacts {
        kind,
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
        mode: (st.st_mode as u32) & 0o7777,
    }
}

/// A file name for the `*at` calls: the bytes of `name` and a NUL.
fn c_name(name: &std::ffi::OsStr) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(name.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in a file name"))
}

/// A directory opened once (`open(O_RDONLY | O_DIRECTORY | O_CLOEXEC)`), so
/// that every look at a name in it, and every change to it, concerns that
/// directory, whatever happens to the path that led to it afterwards: the
/// `*at` calls (`fstatat`, `unlinkat`, `openat`) resolve only the last
/// name, and do not follow it where it is a symbolic link.
#[derive(Debug)]
pub(crate) struct Dir {
    fd: std::os::unix::io::OwnedFd,
}

impl Dir {
    /// Opens `path` (symbolic links in it are followed, as `bind` follows them).
    #[allow(unsafe_code)]
    pub(crate) fn open(path: &std::path::Path) -> io::Result<Dir> {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::io::FromRawFd;

        let path = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in a path"))?;
        // SAFETY: `path` is a NUL-terminated string that lives across the
        // call; open reads it and returns a new descriptor or -1.
        let fd = syscall(unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        })?;
        // SAFETY: `fd` was just returned by open and nothing else owns it.
        Ok(Dir {
            fd: unsafe { std::os::unix::io::OwnedFd::from_raw_fd(fd) },
        })
    }

    /// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`: the entry itself (a
    /// symbolic link is reported as one); `None` where there is none.
    #[allow(unsafe_code)]
    pub(crate) fn stat(&self, name: &std::ffi::OsStr) -> io::Result<Option<FileFacts>> {
        let name = c_name(name)?;
        // SAFETY: an all-zero `stat` is a valid value of this C struct.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: the directory descriptor is open for the borrow of `self`,
        // `name` is NUL-terminated, and `st` is writable; fstatat writes
        // one `stat` there.
        let rc = unsafe {
            libc::fstatat(
                self.fd.as_raw_fd(),
                name.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        match syscall(rc) {
            Ok(_) => Ok(Some(facts(&st))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `unlinkat(dir, name, 0)`: removes the entry (never a directory, and
    /// a symbolic link itself, not what it points to).
    #[allow(unsafe_code)]
    pub(crate) fn unlink(&self, name: &std::ffi::OsStr) -> io::Result<()> {
        let name = c_name(name)?;
        // SAFETY: the descriptor is open for the borrow of `self` and `name`
        // is NUL-terminated; unlinkat only reads it.
        syscall(unsafe { libc::unlinkat(self.fd.as_raw_fd(), name.as_ptr(), 0) }).map(drop)
    }

    /// Opens (creating it, mode 0o600, where it is missing) the lock file
    /// `name`: `openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK
    /// | O_CLOEXEC)`, then `fstat` on the handle must say regular file (a
    /// FIFO or device put there is refused, and O_NONBLOCK keeps its open
    /// from waiting).
    #[allow(unsafe_code)]
    pub(crate) fn open_lock(
        &self,
        name: &std::ffi::OsStr,
    ) -> io::Result<std::os::unix::io::OwnedFd> {
        use std::os::unix::io::FromRawFd;

        let name = c_name(name)?;
        let flags =
            libc::O_RDWR | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
        // SAFETY: the descriptor is open for the borrow of `self`, `name` is
        // NUL-terminated; the mode is passed as the variadic argument
        // O_CREAT reads, promoted to an unsigned int.
        let fd = syscall(unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                name.as_ptr(),
                flags,
                0o600 as libc::c_uint,
            )
        })?;
        // SAFETY: `fd` was just returned by openat and nothing else owns it.
        let fd = unsafe { std::os::unix::io::OwnedFd::from_raw_fd(fd) };
        if fstat(fd.as_raw_fd())?.kind != FileKind::Regular {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the lock file is not a regular file",
            ));
        }
        Ok(fd)
    }

    /// Sets `mode` on the socket file `name` without following a symbolic
    /// link: `fchmodat(dir, name, mode, AT_SYMLINK_NOFOLLOW)` after an
    /// `fstatat` that says socket file; `Ok(false)`, and nothing changed,
    /// where the entry is not a socket file.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    #[allow(unsafe_code)]
    pub(crate) fn chmod_socket_file(&self, name: &std::ffi::OsStr, mode: u32) -> io::Result<bool> {
        let Some(found) = self.stat(name)? else {
            return Ok(false);
        };
        if found.kind != FileKind::Socket {
            return Ok(false);
        }
        let cname = c_name(name)?;
        // SAFETY: the descriptor is open for the borrow of `self` and `name`
        // is NUL-terminated; fchmodat reads it and changes one file's mode.
        syscall(unsafe {
            libc::fchmodat(
                self.fd.as_raw_fd(),
                cname.as_ptr(),
                mode as libc::mode_t,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        })?;
        Ok(true)
    }

    /// Sets `mode` on the socket file `name` only if it is `ours` (the file
    /// our socket is bound to, by device and inode) or, where that is not
    /// known (`None`), a socket file (`ours` has the low 32 bits of the inode,
    /// all that the kernel's table reports): `openat(dir, name, O_PATH |
    /// O_NOFOLLOW)`, `fstat` on that handle, then `chmod` of
    /// `/proc/self/fd/N`, which reaches exactly the inode of the handle
    /// (`fchmod` on an `O_PATH` handle is `EBADF`). An entry that is not
    /// the right file gives `Ok(false)`, and nothing is changed.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[allow(unsafe_code)]
    pub(crate) fn chmod_socket_file(
        &self,
        name: &std::ffi::OsStr,
        mode: u32,
        ours: Option<(u64, u64)>,
    ) -> io::Result<bool> {
        use std::os::unix::io::FromRawFd;

        let cname = c_name(name)?;
        // SAFETY: the descriptor is open for the borrow of `self`, `cname`
        // is NUL-terminated; openat returns a new descriptor or -1.
        let fd = syscall(unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                cname.as_ptr(),
                libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        })?;
        // SAFETY: `fd` was just returned by openat and nothing else owns it.
        let fd = unsafe { std::os::unix::io::OwnedFd::from_raw_fd(fd) };
        let found = fstat(fd.as_raw_fd())?;
        let right = found.kind == FileKind::Socket
            && ours.is_none_or(|(dev, ino)| found.dev == dev && found.ino & 0xffff_ffff == ino);
        if !right {
            return Ok(false);
        }
        let link = std::ffi::CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: `link` is NUL-terminated; chmod reads it. The handle stays
        // open until after the call, so the link names its inode.
        syscall(unsafe { libc::chmod(link.as_ptr(), mode as libc::mode_t) })?;
        Ok(true)
    }
}

/// `fstat(2)` on a descriptor.
#[allow(unsafe_code)]
fn fstat(fd: i32) -> io::Result<FileFacts> {
    // SAFETY: an all-zero `stat` is a valid value of this C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: the caller keeps `fd` open during the call; `st` is writable
    // and fstat writes one `stat` there.
    syscall(unsafe { libc::fstat(fd, &mut st) })?;
    Ok(facts(&st))
}

/// Tries once to take an exclusive lock on the lock file `fd`: `Ok(false)`
/// where another open file holds it. `flock(LOCK_EX | LOCK_NB)`, released
/// when `fd` closes.
#[cfg(not(any(target_os = "solaris", target_os = "illumos")))]
#[allow(unsafe_code)]
pub(crate) fn try_lock(fd: &std::os::unix::io::OwnedFd) -> io::Result<bool> {
    // SAFETY: `fd` is open for the borrow; flock takes no memory of ours.
    match syscall(unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(e),
    }
}

/// Tries once to take an exclusive lock on the lock file `fd`: `Ok(false)`
/// where another process holds it. Solaris and illumos have no `flock`:
/// `fcntl(F_SETLK, F_WRLCK)`, a lock of the process (threads of one process
/// do not exclude each other), released when `fd` closes.
#[cfg(any(target_os = "solaris", target_os = "illumos"))]
#[allow(unsafe_code)]
pub(crate) fn try_lock(fd: &std::os::unix::io::OwnedFd) -> io::Result<bool> {
    // SAFETY: an all-zero `flock` is a valid value of this C struct: the
    // whole file from offset 0.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as _;
    lock.l_whence = libc::SEEK_SET as _;
    // SAFETY: `fd` is open for the borrow, `lock` lives across the call.
    match syscall(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETLK, &lock) }) {
        Ok(_) => Ok(true),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES | libc::EAGAIN)) => Ok(false),
        Err(e) => Err(e),
    }
}

cfg_linux! {
/// One Unix socket that holds a file, from the kernel's table of sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Holder {
    /// The socket is listening (`TCP_LISTEN`).
    pub(crate) listening: bool,
    /// `SOCK_DGRAM`.
    pub(crate) datagram: bool,
}

/// The sockets bound to the file (`dev`, `ino`), read from the kernel's
/// table of Unix sockets in this network namespace (`NETLINK_SOCK_DIAG`,
/// `unix_diag_req` with `UDIAG_SHOW_VFS`, a dump). Connects nothing.
pub(crate) fn holders_of(dev: u64, ino: u64) -> io::Result<Vec<Holder>> {
    let mut found = Vec::new();
    sock_diag(None, |entry| {
        // The kernel reports the low 32 bits of the inode.
        if entry.vfs == Some((dev, ino & 0xffff_ffff)) {
            found.push(Holder {
                listening: entry.state == TCP_LISTEN,
                datagram: entry.kind == libc::SOCK_DGRAM as u8,
            });
        }
    })?;
    Ok(found)
}

/// The file (device, inode) that `socket` is bound to, from the kernel's
/// table (`NETLINK_SOCK_DIAG`, one socket asked for by its inode, which is
/// `fstat(socket).st_ino`); `None` for a socket bound to no file.
pub(crate) fn bound_file(socket: &Socket) -> io::Result<Option<(u64, u64)>> {
    let ino = u32::try_from(fstat(socket.as_raw_fd())?.ino)
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    let mut vfs = None;
    sock_diag(Some(ino), |entry| {
        if entry.ino == ino {
            vfs = entry.vfs;
        }
    })?;
    Ok(vfs)
}

const TCP_LISTEN: u8 = 10;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const UDIAG_SHOW_VFS: u32 = 0x2;
const UNIX_DIAG_VFS: u16 = 1;
const NLMSG_HDRLEN: usize = 16;

/// One socket of a `NETLINK_SOCK_DIAG` answer.
struct DiagEntry {
    kind: u8,
    state: u8,
    ino: u32,
    /// The file it is bound to, as `stat` reports its device and inode.
    vfs: Option<(u64, u64)>,
}

fn u16_at(buf: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(buf.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

/// Asks the kernel for its Unix sockets (all of them, or the one whose
/// inode is `ino`) with their files, and calls `each` for every answer.
fn sock_diag(ino: Option<u32>, mut each: impl FnMut(DiagEntry)) -> io::Result<()> {
    use std::io::Read;

    let netlink = Socket::new(
        socket2::Domain::from(libc::AF_NETLINK),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::from(libc::NETLINK_SOCK_DIAG)),
    )?;
    let flags = libc::NLM_F_REQUEST as u16 | if ino.is_none() { libc::NLM_F_DUMP as u16 } else { 0 };
    let mut request = Vec::with_capacity(40);
    request.extend_from_slice(&40u32.to_ne_bytes()); // nlmsg_len
    request.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes()); // nlmsg_type
    request.extend_from_slice(&flags.to_ne_bytes()); // nlmsg_flags
    request.extend_from_slice(&1u32.to_ne_bytes()); // nlmsg_seq
    request.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid
    request.push(libc::AF_UNIX as u8); // sdiag_family
    request.push(0); // sdiag_protocol
    request.extend_from_slice(&0u16.to_ne_bytes()); // pad
    request.extend_from_slice(&u32::MAX.to_ne_bytes()); // udiag_states: all
    request.extend_from_slice(&ino.unwrap_or(0).to_ne_bytes()); // udiag_ino
    request.extend_from_slice(&UDIAG_SHOW_VFS.to_ne_bytes()); // udiag_show
    let cookie = if ino.is_some() { u32::MAX } else { 0 }; // no cookie check
    request.extend_from_slice(&cookie.to_ne_bytes());
    request.extend_from_slice(&cookie.to_ne_bytes());
    // Unconnected, a netlink socket sends to the kernel.
    netlink.send(&request)?;
    let malformed = || io::Error::new(io::ErrorKind::InvalidData, "a malformed sock_diag answer");
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = (&netlink).read(&mut buf)?;
        let mut at = 0;
        while at + NLMSG_HDRLEN <= n {
            let len = u32_at(&buf, at).ok_or_else(malformed)? as usize;
            let kind = u16_at(&buf, at + 4).ok_or_else(malformed)?;
            if len < NLMSG_HDRLEN || at + len > n {
                return Err(malformed());
            }
            let msg = &buf[at + NLMSG_HDRLEN..at + len];
            match kind {
                k if k == libc::NLMSG_DONE as u16 => return Ok(()),
                k if k == libc::NLMSG_ERROR as u16 => {
                    let errno = u32_at(msg, 0).ok_or_else(malformed)? as i32;
                    return if errno == 0 {
                        Ok(())
                    } else {
                        Err(io::Error::from_raw_os_error(-errno))
                    };
                }
                SOCK_DIAG_BY_FAMILY => each(diag_entry(msg).ok_or_else(malformed)?),
                _ => {}
            }
            at += (len + 3) & !3;
        }
        if ino.is_some() {
            // One socket asked for: one answer, no NLMSG_DONE.
            return Ok(());
        }
    }
}

/// Reads one `unix_diag_msg` and its attributes.
fn diag_entry(msg: &[u8]) -> Option<DiagEntry> {
    let kind = *msg.get(1)?;
    let state = *msg.get(2)?;
    let ino = u32_at(msg, 4)?;
    let mut vfs = None;
    let mut at = 16;
    while at + 4 <= msg.len() {
        let len = usize::from(u16_at(msg, at)?);
        let attr = u16_at(msg, at + 2)?;
        if len < 4 || at + len > msg.len() {
            return None;
        }
        if attr == UNIX_DIAG_VFS && len >= 12 {
            let vfs_ino = u32_at(msg, at + 4)?;
            let kernel_dev = u32_at(msg, at + 8)?;
            // The kernel's dev_t is MAJOR << 20 | MINOR; stat's st_dev is
            // the C library's encoding.
            let dev = libc::makedev(kernel_dev >> 20, kernel_dev & 0xfffff);
            vfs = Some((dev as u64, u64::from(vfs_ino)));
        }
        at += (len + 3) & !3;
    }
    Some(DiagEntry { kind, state, ino, vfs })
}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_messages_start_lowercase() {
        for rc in [
            libc::EAI_NONAME,
            libc::EAI_AGAIN,
            libc::EAI_FAIL,
            libc::EAI_FAMILY,
        ] {
            let text = gai_message(rc);
            eprintln!("getaddrinfo code {rc}: {text}");
            assert!(!text.is_empty(), "code {rc}");
            assert!(!text.starts_with(char::is_uppercase), "code {rc}: {text}");
        }
    }

    #[test]
    fn sun_path_len_is_the_platforms() {
        let expected = if cfg!(any(target_os = "linux", target_os = "android")) {
            108
        } else if cfg!(any(
            target_vendor = "apple",
            target_os = "freebsd",
            target_os = "openbsd",
            target_os = "netbsd",
            target_os = "dragonfly"
        )) {
            104
        } else {
            SUN_PATH_LEN
        };
        assert_eq!(SUN_PATH_LEN, expected);
    }
}
