//! Unix backend.

use std::io;
use std::os::unix::io::AsRawFd;

use socket2::Socket;

use super::{Connecting, Interest};
use crate::Keepalive;

#[path = "unix/files.rs"]
mod files;
#[path = "unix/process.rs"]
mod process;
pub(crate) use files::*;
pub(crate) use process::*;

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
    syscall(unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
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
pub(crate) const KEEPALIVE_DETAILS: bool = crate::platform::has::KEEPALIVE_DETAILS;

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
        set_tcp_int(socket, KEEPALIVE_TIME, seconds(time))
            .map_err(|e| failed_call(limits.time.option, e))?;
    }
    // Where there are none, asking for an interval or a count is refused
    // before any call.
    if let Some(interval) = params.interval {
        set_tcp_int(socket, KEEPALIVE_INTERVAL, seconds(interval))
            .map_err(|e| failed_call(limits.interval.option, e))?;
    }
    if let Some(retries) = params.retries {
        set_tcp_int(socket, KEEPALIVE_COUNT, c_int(retries))
            .map_err(|e| failed_call(limits.retries.option, e))?;
    }
    Ok(())
}

/// `setsockopt(IPPROTO_TCP, name)` with a C `int`; `None` for an option
/// this platform does not have.
fn set_tcp_int(socket: &Socket, name: Option<libc::c_int>, value: libc::c_int) -> io::Result<()> {
    match name {
        Some(name) => setsockopt_int(socket, libc::IPPROTO_TCP, name, value),
        None => Err(super::unsupported("this keepalive parameter")),
    }
}

// The option of the keepalive time: `TCP_KEEPALIVE` on Apple's systems,
// `TCP_KEEPIDLE` elsewhere, none on OpenBSD (a system-wide setting).
cfg_apple! {
    const KEEPALIVE_TIME: Option<libc::c_int> = Some(libc::TCP_KEEPALIVE);
}
cfg_not_apple! {
    #[cfg(target_os = "openbsd")]
    const KEEPALIVE_TIME: Option<libc::c_int> = None;
    #[cfg(not(target_os = "openbsd"))]
    const KEEPALIVE_TIME: Option<libc::c_int> = Some(libc::TCP_KEEPIDLE);
}

cfg_keepalive_details! {
    const KEEPALIVE_INTERVAL: Option<libc::c_int> = Some(libc::TCP_KEEPINTVL);
    const KEEPALIVE_COUNT: Option<libc::c_int> = Some(libc::TCP_KEEPCNT);
}
cfg_not_keepalive_details! {
    const KEEPALIVE_INTERVAL: Option<libc::c_int> = None;
    const KEEPALIVE_COUNT: Option<libc::c_int> = None;
}

/// Whether a nonblocking `connect(2)` reported that it goes on in the
/// background (`EINPROGRESS`) rather than failing.
pub(crate) fn connect_in_progress(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EINPROGRESS)
}

cfg_sock_nonblock! {
    /// `ty` with `SOCK_NONBLOCK`, where `socket(2)` takes it: the socket is
    /// then nonblocking from its first call, with no `fcntl` or `ioctl` for it.
    pub(crate) fn nonblocking_type(ty: socket2::Type) -> Option<socket2::Type> {
        Some(ty.nonblocking())
    }
}

cfg_not_sock_nonblock! {
    /// macOS and the other Unixes have no `SOCK_NONBLOCK`.
    pub(crate) fn nonblocking_type(_: socket2::Type) -> Option<socket2::Type> {
        None
    }
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

/// The abstract name (Linux, Android) of a Unix socket address, without
/// its leading NUL; `None` for a path, an unnamed socket, or elsewhere.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn abstract_name(addr: &std::os::unix::net::SocketAddr) -> Option<&[u8]> {
    #[cfg(target_os = "android")]
    use std::os::android::net::SocketAddrExt;
    #[cfg(target_os = "linux")]
    use std::os::linux::net::SocketAddrExt;
    addr.as_abstract_name()
}

/// Elsewhere a Unix socket address has no abstract name.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn abstract_name(_: &std::os::unix::net::SocketAddr) -> Option<&[u8]> {
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
    syscall(unsafe { libc::ioctl(socket.as_raw_fd(), libc::FIONBIO, &mut value) }).map(drop)
}

/// The state of a connect under way, as the readiness wait reports it.
pub(super) fn connect_state(revents: libc::c_short) -> Connecting {
    if revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
        Connecting::Failed
    } else if revents & libc::POLLOUT != 0 {
        Connecting::Connected
    } else {
        Connecting::Pending
    }
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
    match syscall(unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait_ms) }) {
        Ok(ready) => Ok(ready as usize),
        Err(err) => {
            // `poll` leaves `revents` as they were when it fails.
            fds.iter_mut().for_each(|fd| fd.revents = 0);
            if err.kind() == io::ErrorKind::Interrupted {
                Ok(0)
            } else {
                Err(err)
            }
        }
    }
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
    syscall(unsafe { libc::fstat(fd, &mut st) })?;
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
    syscall(unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    })?;
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
    syscall(unsafe {
        libc::getsockname(
            fd,
            (&mut addr as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
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
    let flags = syscall(unsafe { libc::fcntl(fd, libc::F_GETFD) })?;
    if flags & libc::FD_CLOEXEC == 0 {
        // SAFETY: F_SETFD with an int argument changes only this
        // descriptor's flags, keeping every other flag it had.
        syscall(unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) })?;
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
    syscall(unsafe { libc::fchmod(socket.as_raw_fd(), mode as libc::mode_t) }).map(drop)
}

/// Elsewhere `fchmod(2)` on a socket does not reach the file `bind` creates
/// (and may fail), so nothing is done before `bind`.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn fchmod_socket(_: &Socket, _: u32) -> io::Result<()> {
    Ok(())
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
pub(super) fn syscall(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
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
