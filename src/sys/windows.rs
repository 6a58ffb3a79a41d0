//! Windows backend.

use std::io;
use std::os::windows::io::AsRawSocket;

use socket2::{Socket, TcpKeepalive};

use super::{Connecting, Interest};
use crate::Keepalive;

/// `setsockopt(level, name)` with a 32-bit value, for the options socket2
/// does not expose.
#[allow(unsafe_code)]
fn setsockopt_int(socket: &Socket, level: i32, name: i32, value: i32) -> io::Result<()> {
    use windows_sys::Win32::Networking::WinSock::{
        SOCKET, SOCKET_ERROR, WSAGetLastError, setsockopt,
    };
    // SAFETY: the socket handle is valid for the borrow of `socket`, and the
    // option value points to a live i32 whose size is passed alongside it.
    let rc = unsafe {
        setsockopt(
            socket.as_raw_socket() as SOCKET,
            level,
            name,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as i32,
        )
    };
    if rc == SOCKET_ERROR {
        // SAFETY: reads the calling thread's last Winsock error; no arguments.
        Err(io::Error::from_raw_os_error(unsafe { WSAGetLastError() }))
    } else {
        Ok(())
    }
}

/// `setsockopt(SOL_SOCKET, SO_EXCLUSIVEADDRUSE)`, which socket2 does not expose.
pub(crate) fn set_exclusive_address_use(socket: &Socket, on: bool) -> io::Result<()> {
    use windows_sys::Win32::Networking::WinSock::{SO_EXCLUSIVEADDRUSE, SOL_SOCKET};
    setsockopt_int(socket, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, i32::from(on))
}

/// `setsockopt(SOL_SOCKET, SO_REUSE_UNICASTPORT)` before `bind(ip:0)`: the
/// source port is chosen at `connect`, where one port can serve several
/// destinations.
pub(crate) fn defer_source_port(socket: &Socket) -> io::Result<()> {
    use windows_sys::Win32::Networking::WinSock::{SO_REUSE_UNICASTPORT, SOL_SOCKET};
    setsockopt_int(socket, SOL_SOCKET, SO_REUSE_UNICASTPORT, 1)
}

/// `setsockopt(IPPROTO_TCP, TCP_FASTOPEN)`: Windows' option is on or off, so
/// any queue length but 0 turns it on.
pub(crate) fn set_tcp_fastopen(socket: &Socket, queue_len: u32) -> io::Result<()> {
    use windows_sys::Win32::Networking::WinSock::{IPPROTO_TCP, TCP_FASTOPEN};
    setsockopt_int(socket, IPPROTO_TCP, TCP_FASTOPEN, i32::from(queue_len != 0))
}

/// The `TCP_MAXSEG` values the kernel takes (no setter here: listed for the
/// shared validation).
pub(crate) const MSS_RANGE: std::ops::RangeInclusive<u32> = 1..=65535;

/// The finest timeout `SO_RCVTIMEO` / `SO_SNDTIMEO` take here: a `DWORD` of
/// milliseconds, to which socket2 truncates.
pub(crate) const TIMEOUT_UNIT: std::time::Duration = std::time::Duration::from_millis(1);

/// The longest `SO_LINGER`: `l_linger` is a `u16` of seconds.
pub(crate) const MAX_LINGER: std::time::Duration = std::time::Duration::from_secs(u16::MAX as u64);

/// Windows' own defaults for the idle time and the interval between probes.
/// `SIO_KEEPALIVE_VALS` sets both at once, so the one not asked for is given
/// its default rather than zero.
const DEFAULT_KEEPALIVE_TIME: std::time::Duration = std::time::Duration::from_secs(2 * 60 * 60);
const DEFAULT_KEEPALIVE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Windows sets the keepalive interval and (since Windows 10 1703) the probe count.
pub(crate) const KEEPALIVE_DETAILS: bool = true;

/// `SIO_KEEPALIVE_VALS` with the time and interval (Windows' defaults for
/// those not given), which turns keepalive on too, and `TCP_KEEPCNT` for
/// the retries; a failure names the call that failed.
pub(crate) fn set_keepalive(socket: &Socket, params: &Keepalive) -> io::Result<()> {
    let option = if params.retries.is_some() {
        "SIO_KEEPALIVE_VALS/TCP_KEEPCNT"
    } else {
        "SIO_KEEPALIVE_VALS"
    };
    socket
        .set_tcp_keepalive(&keepalive(params))
        .map_err(|e| crate::options::failed_call(option, e))
}

/// `params` as one `SIO_KEEPALIVE_VALS` (and `TCP_KEEPCNT`) call.
fn keepalive(params: &Keepalive) -> TcpKeepalive {
    let time = params.time.unwrap_or(DEFAULT_KEEPALIVE_TIME);
    let interval = params.interval.unwrap_or(DEFAULT_KEEPALIVE_INTERVAL);
    let mut ka = TcpKeepalive::new()
        .with_time(super::round_up(time, crate::keepalive::LIMITS.unit))
        .with_interval(super::round_up(interval, crate::keepalive::LIMITS.unit));
    if let Some(retries) = params.retries {
        ka = ka.with_retries(retries);
    }
    ka
}

/// An interface's index from its name is not looked up here: a scoped IPv6
/// address names its zone by number on Windows (`[fe80::1%12]:80`).
pub(crate) fn interface_index(_name: &str) -> io::Result<std::num::NonZeroU32> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "interface names as zones are not looked up on Windows: write the interface's number (see `netsh interface ipv6 show interfaces`)",
    ))
}

/// Whether a nonblocking `connect` reported that it goes on in the
/// background (`WSAEWOULDBLOCK`) rather than failing.
pub(crate) fn connect_in_progress(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::WouldBlock
}

/// Windows has no `SOCK_NONBLOCK`: a socket is made nonblocking after it is
/// created.
pub(crate) fn nonblocking_type(_: socket2::Type) -> Option<socket2::Type> {
    None
}

/// The dynamic port range is not read here: every port may be an
/// ephemeral one.
#[inline]
pub(crate) fn ephemeral_ports() -> Option<std::ops::RangeInclusive<u16>> {
    None
}

/// Nonblocking mode on or off: `ioctlsocket(FIONBIO)`, one call.
pub(crate) fn set_nonblocking(socket: &Socket, on: bool) -> io::Result<()> {
    socket.set_nonblocking(on)
}

/// The state of a connect under way, as `WSAPoll` reports it.
pub(super) fn connect_state(revents: i16) -> Connecting {
    use windows_sys::Win32::Networking::WinSock::{POLLERR, POLLHUP, POLLNVAL, POLLWRNORM};
    if revents & (POLLERR | POLLHUP | POLLNVAL) != 0 {
        Connecting::Failed
    } else if revents & POLLWRNORM != 0 {
        Connecting::Connected
    } else {
        Connecting::Pending
    }
}

/// One socket's entry in a readiness wait: a `WSAPOLLFD`.
pub(crate) use windows_sys::Win32::Networking::WinSock::WSAPOLLFD as PollFd;

fn events(interest: Interest) -> i16 {
    use windows_sys::Win32::Networking::WinSock::{POLLRDNORM, POLLWRNORM};
    // `WSAPoll` refuses `POLLPRI` and reports errors and hang-ups whatever
    // is asked, so only the normal-data bits are set.
    match interest {
        Interest::Read => POLLRDNORM,
        Interest::Write => POLLWRNORM,
    }
}

/// The entry for `socket`, waiting for `interest`. The socket must stay open
/// while the entry is waited on.
pub(crate) fn poll_fd(socket: &impl AsRawSocket, interest: Interest) -> PollFd {
    PollFd {
        fd: socket.as_raw_socket() as windows_sys::Win32::Networking::WinSock::SOCKET,
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

/// The readiness wait, `WSAPoll`: waits until at least one entry is ready,
/// for at most `wait_ms` milliseconds (`-1`: no limit), and returns how many
/// are.
#[allow(unsafe_code)]
pub(crate) fn poll(fds: &mut [PollFd], wait_ms: i32) -> io::Result<usize> {
    use windows_sys::Win32::Networking::WinSock::{SOCKET_ERROR, WSAGetLastError, WSAPoll};
    let count = u32::try_from(fds.len()).unwrap_or(u32::MAX);
    // SAFETY: `fds` points to at least `count` initialised `WSAPOLLFD`
    // structs that this call borrows exclusively; the caller keeps each
    // socket open while its entry is waited on; `WSAPoll` writes only the
    // `revents` fields.
    let rc = unsafe { WSAPoll(fds.as_mut_ptr(), count, wait_ms) };
    if rc == SOCKET_ERROR {
        fds.iter_mut().for_each(|fd| fd.revents = 0);
        // SAFETY: reads the calling thread's last Winsock error; no arguments.
        return Err(io::Error::from_raw_os_error(unsafe { WSAGetLastError() }));
    }
    Ok(rc as usize)
}

/// A pair of sockets through which a resolver thread wakes the thread that
/// runs the race. Windows has no `socketpair`: a UDP socket bound to
/// `127.0.0.1:0` is waited on, and a second UDP socket connected to it is
/// written to; both are created by socket2 (not inheritable). Returns (the
/// end that is waited on, the end that is written to).
pub(crate) fn wake_pair() -> io::Result<(Socket, Socket)> {
    use socket2::{Domain as SDomain, SockAddr, Type as SType};
    let loopback: std::net::SocketAddr = (std::net::Ipv4Addr::LOCALHOST, 0).into();
    let reader = Socket::new(SDomain::IPV4, SType::DGRAM, None)?;
    reader.bind(&SockAddr::from(loopback))?;
    let writer = Socket::new(SDomain::IPV4, SType::DGRAM, None)?;
    writer.connect(&reader.local_addr()?)?;
    Ok((reader, writer))
}

/// Whether a datagram receive failed because the datagram is longer than
/// the buffer: Windows fails such a `recv`/`recvfrom` with `WSAEMSGSIZE`
/// (where Unix returns the datagram truncated), and does not say who sent
/// it.
#[cfg_attr(not(feature = "hello"), allow(dead_code))]
pub(crate) fn is_message_too_long(err: &io::Error) -> bool {
    err.raw_os_error() == Some(windows_sys::Win32::Networking::WinSock::WSAEMSGSIZE)
}

/// `getaddrinfo` for `name` in one address family (`AF_INET6` or `AF_INET`
/// in the hints, `SOCK_STREAM`, no flags): the addresses with port 0, in
/// the resolver's order, duplicates removed. Winsock is started first, once
/// per process (an async connect makes no socket before its lookups): a
/// socket made through socket2, which starts it, and closed at once.
#[allow(unsafe_code)]
pub(crate) fn lookup(name: &str, family: crate::Domain) -> io::Result<Vec<std::net::SocketAddr>> {
    static WINSOCK: std::sync::Once = std::sync::Once::new();
    WINSOCK.call_once(|| {
        drop(Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::DGRAM,
            None,
        ));
    });
    use std::ffi::CString;
    use std::ptr;
    use windows_sys::Win32::Networking::WinSock::{
        ADDRINFOA, AF_INET, AF_INET6, SOCK_STREAM, freeaddrinfo, getaddrinfo,
    };

    let c_name = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "name contains a NUL byte"))?;
    let hints = ADDRINFOA {
        ai_family: i32::from(if family == crate::Domain::Ipv6 {
            AF_INET6
        } else {
            AF_INET
        }),
        ai_socktype: SOCK_STREAM,
        ..ADDRINFOA::default()
    };
    let mut list: *mut ADDRINFOA = ptr::null_mut();
    // SAFETY: `c_name` is a NUL-terminated string that outlives the call, a
    // null service is allowed, `hints` is a valid `ADDRINFOA`, and `list` is
    // a valid place for the result pointer.
    let rc = unsafe { getaddrinfo(c_name.as_ptr().cast(), ptr::null(), &hints, &mut list) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
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
                    let n = len.min(*storage_len as usize);
                    ptr::copy_nonoverlapping(src, storage.cast::<u8>(), n);
                    *storage_len = n as i32;
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
    unsafe { freeaddrinfo(list) };
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// socket2's `TcpKeepalive` has no getters; its `Debug` shows the fields.
    fn shown(params: Keepalive) -> String {
        format!("{:?}", keepalive(&params))
    }

    #[test]
    fn unset_keepalive_times_get_windows_defaults_not_zero() {
        let only_time = shown(Keepalive::new().time(Duration::from_secs(75)));
        assert!(only_time.contains("time: Some(75s)"), "{only_time}");
        assert!(only_time.contains("interval: Some(1s)"), "{only_time}");
        let only_interval = shown(Keepalive::new().interval(Duration::from_micros(1500)));
        assert!(
            only_interval.contains("time: Some(7200s)"),
            "{only_interval}"
        );
        assert!(
            only_interval.contains("interval: Some(2ms)"),
            "{only_interval}"
        );
    }
}
