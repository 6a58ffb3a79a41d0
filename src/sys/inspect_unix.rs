//! Unix backend of what the kernel tells about a connected socket: the
//! credentials of a Unix socket's peer, `TCP_INFO`, whether a stream runs
//! MPTCP.

use std::io;
use std::os::unix::io::AsRawFd;

use socket2::Socket;

#[allow(unused_imports)]
use super::{PeerIds, TcpFigures};

/// `getsockopt(level, name)` into `value`; the number of bytes the kernel
/// wrote.
///
/// # Safety
///
/// `T` must be a plain C struct or integer for which every bit pattern is a
/// valid value: the kernel fills it with whatever it has.
#[allow(unsafe_code, dead_code)]
unsafe fn getsockopt_into<T>(
    socket: &Socket,
    level: libc::c_int,
    name: libc::c_int,
    value: &mut T,
) -> io::Result<usize> {
    let mut len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `value` is writable for `len` bytes, its size; the kernel
    // writes at most `len` bytes and sets `len` to how many it wrote. The
    // descriptor is open for the borrow of `socket`.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (value as *mut T).cast(),
            &mut len,
        )
    };
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(len as usize)
    }
}

/// What `getsockopt(SO_PEERCRED)` fills in: the peer's user, group and
/// process.
#[cfg(any(target_os = "linux", target_os = "android"))]
type RawPeerCred = libc::ucred;
#[cfg(target_os = "openbsd")]
type RawPeerCred = libc::sockpeercred;

/// The credentials of a Unix socket's peer: `getsockopt(SO_PEERCRED)`
/// (`ucred` on Linux, `sockpeercred` on OpenBSD).
#[cfg(any(target_os = "linux", target_os = "android", target_os = "openbsd"))]
#[allow(unsafe_code)]
pub(crate) fn peer_ids(socket: &Socket) -> io::Result<PeerIds> {
    let mut cred = RawPeerCred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    // SAFETY: `RawPeerCred` is three integers; any bits are a valid value.
    unsafe { getsockopt_into(socket, libc::SOL_SOCKET, libc::SO_PEERCRED, &mut cred) }?;
    Ok(PeerIds {
        uid: cred.uid,
        gid: cred.gid,
        // 0: the peer's process is not in this PID namespace.
        pid: u32::try_from(cred.pid).ok().filter(|&pid| pid != 0),
    })
}

cfg_peer_cred! {
    /// The credentials of a Unix socket's peer: `getpeereid(3)` for the
    /// user and group, and on Apple's systems `getsockopt(LOCAL_PEERPID)`
    /// for the process.
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "openbsd")))]
    #[allow(unsafe_code)]
    pub(crate) fn peer_ids(socket: &Socket) -> io::Result<PeerIds> {
        let (mut uid, mut gid) = (0, 0);
        // SAFETY: the descriptor is open for the borrow of `socket`; `uid`
        // and `gid` are writable for the call.
        let rc = unsafe { libc::getpeereid(socket.as_raw_fd(), &mut uid, &mut gid) };
        if rc == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(PeerIds {
            uid,
            gid,
            pid: peer_pid(socket),
        })
    }
}

cfg_apple! {
    /// `getsockopt(SOL_LOCAL, LOCAL_PEERPID)`; `None` if it fails.
    #[allow(unsafe_code)]
    fn peer_pid(socket: &Socket) -> Option<u32> {
        let mut pid: libc::pid_t = 0;
        // SAFETY: a `pid_t` is an integer; any bits are a valid value.
        unsafe { getsockopt_into(socket, 0, libc::LOCAL_PEERPID, &mut pid) }.ok()?;
        u32::try_from(pid).ok().filter(|&pid| pid != 0)
    }
}

/// `getsockopt(SOL_LOCAL, LOCAL_PEERCRED)`'s `cr_pid`, which FreeBSD fills
/// in since 13.0; `None` if the call fails or gives no process (an older
/// kernel leaves the field zero).
#[cfg(target_os = "freebsd")]
#[allow(unsafe_code)]
fn peer_pid(socket: &Socket) -> Option<u32> {
    // SAFETY: `xucred` is a C struct of integers and a union of an integer
    // and a pointer, for which all zeros is a valid value.
    let mut cred: libc::xucred = unsafe { std::mem::zeroed() };
    // SAFETY: as above, any bits the kernel writes are a valid value.
    unsafe { getsockopt_into(socket, libc::SOL_LOCAL, libc::LOCAL_PEERCRED, &mut cred) }.ok()?;
    if cred.cr_version != libc::XUCRED_VERSION {
        return None;
    }
    // SAFETY: both members of the union are plain data; the integer one is
    // read, whose every bit pattern is a valid `pid_t`.
    let pid = unsafe { cred.cr_pid__c_anonymous_union.cr_pid };
    u32::try_from(pid).ok().filter(|&pid| pid != 0)
}

/// These systems give the user and group of a peer, not its process.
#[cfg(any(target_os = "dragonfly", target_os = "netbsd"))]
fn peer_pid(_: &Socket) -> Option<u32> {
    None
}

cfg_not_peer_cred! {
    /// No call for a peer's credentials here.
    pub(crate) fn peer_ids(_: &Socket) -> io::Result<PeerIds> {
        Err(super::unsupported("peer credentials"))
    }
}

/// The call `peer_ids` makes, as a failure's message names it.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "openbsd"))]
pub(crate) const PEER_CRED_CALL: &str = "SO_PEERCRED";
/// The call `peer_ids` makes, as a failure's message names it.
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "openbsd")))]
pub(crate) const PEER_CRED_CALL: &str = "LOCAL_PEERCRED";

/// `SO_PEERPIDFD` (Linux 6.5): its number differs on SPARC.
#[cfg(any(target_os = "linux", target_os = "android"))]
const SO_PEERPIDFD: libc::c_int = if cfg!(any(target_arch = "sparc", target_arch = "sparc64")) {
    0x56
} else {
    77
};

/// A pidfd of a Unix socket's peer: `getsockopt(SO_PEERPIDFD)`. It stays
/// the peer's process even when the pid is used again. Kernels before 6.5
/// answer `ENOPROTOOPT`, shown as
/// [`Unsupported`](io::ErrorKind::Unsupported).
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(unsafe_code)]
pub(crate) fn peer_pidfd(socket: &Socket) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let mut fd: libc::c_int = -1;
    // SAFETY: a `c_int` is an integer; any bits are a valid value.
    match unsafe { getsockopt_into(socket, libc::SOL_SOCKET, SO_PEERPIDFD, &mut fd) } {
        Err(err) if err.raw_os_error() == Some(libc::ENOPROTOOPT) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "SO_PEERPIDFD needs Linux 6.5 or later",
        )),
        Err(err) => Err(err),
        Ok(_) if fd < 0 => Err(io::Error::other("the kernel returned no pidfd")),
        // SAFETY: the kernel just made `fd` for this process (close-on-exec),
        // and nothing else owns it.
        Ok(_) => Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }),
    }
}

/// The first fields of Linux's `struct tcp_info` (`linux/tcp.h`), through
/// `tcpi_delivery_rate` (Linux 4.9). An older kernel writes fewer bytes;
/// the length it returns says which fields it filled.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[repr(C)]
#[derive(Default)]
struct LinuxTcpInfo {
    state: u8,
    ca_state: u8,
    retransmits: u8,
    probes: u8,
    backoff: u8,
    options: u8,
    wscale: u8,
    app_limited: u8,
    rto: u32,
    ato: u32,
    snd_mss: u32,
    rcv_mss: u32,
    unacked: u32,
    sacked: u32,
    lost: u32,
    retrans: u32,
    fackets: u32,
    last_data_sent: u32,
    last_ack_sent: u32,
    last_data_recv: u32,
    last_ack_recv: u32,
    pmtu: u32,
    rcv_ssthresh: u32,
    rtt: u32,
    rttvar: u32,
    snd_ssthresh: u32,
    snd_cwnd: u32,
    advmss: u32,
    reordering: u32,
    rcv_rtt: u32,
    rcv_space: u32,
    total_retrans: u32,
    pacing_rate: u64,
    max_pacing_rate: u64,
    bytes_acked: u64,
    bytes_received: u64,
    segs_out: u32,
    segs_in: u32,
    notsent_bytes: u32,
    min_rtt: u32,
    data_segs_in: u32,
    data_segs_out: u32,
    delivery_rate: u64,
}

/// `getsockopt(IPPROTO_TCP, TCP_INFO)` (Linux).
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(unsafe_code)]
pub(crate) fn tcp_figures(socket: &Socket) -> io::Result<TcpFigures> {
    let mut info = LinuxTcpInfo::default();
    // SAFETY: `LinuxTcpInfo` is a C struct of integers; any bits are valid.
    let len = unsafe { getsockopt_into(socket, libc::IPPROTO_TCP, libc::TCP_INFO, &mut info) }?;
    let has = |end: usize| len >= end;
    let micros = |us: u32| std::time::Duration::from_micros(u64::from(us));
    let delivery_end = std::mem::size_of::<LinuxTcpInfo>();
    let mss = u64::from(info.snd_mss);
    Ok(TcpFigures {
        rtt: Some(micros(info.rtt)),
        rtt_var: Some(micros(info.rttvar)),
        retransmits: Some(u64::from(info.total_retrans)),
        // Linux counts the window in segments.
        congestion_window: Some(u64::from(info.snd_cwnd).saturating_mul(mss)),
        mss: Some(info.snd_mss),
        path_mtu: Some(info.pmtu),
        // Segments sent and not yet acknowledged, less those known lost or
        // selectively acknowledged, plus their retransmissions (the
        // kernel's `tcp_packets_in_flight`), times the segment size.
        bytes_in_flight: Some(
            u64::from(
                info.unacked
                    .saturating_sub(info.sacked.saturating_add(info.lost))
                    .saturating_add(info.retrans),
            )
            .saturating_mul(mss),
        ),
        delivery_rate: has(delivery_end).then_some(info.delivery_rate),
    })
}

/// `getsockopt(IPPROTO_TCP, TCP_CONNECTION_INFO)` (Apple).
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos",
    target_os = "visionos"
))]
#[allow(unsafe_code)]
pub(crate) fn tcp_figures(socket: &Socket) -> io::Result<TcpFigures> {
    // SAFETY: `tcp_connection_info` is a C struct of integers, for which all
    // zeros is a valid value.
    let mut info: libc::tcp_connection_info = unsafe { std::mem::zeroed() };
    // SAFETY: as above, any bits the kernel writes are a valid value.
    unsafe {
        getsockopt_into(
            socket,
            libc::IPPROTO_TCP,
            libc::TCP_CONNECTION_INFO,
            &mut info,
        )
    }?;
    let millis = |ms: u32| std::time::Duration::from_millis(u64::from(ms));
    Ok(TcpFigures {
        rtt: Some(millis(info.tcpi_srtt)),
        rtt_var: Some(millis(info.tcpi_rttvar)),
        // Counted in bytes (`tcpi_txretransmitbytes`), not segments.
        retransmits: None,
        congestion_window: Some(u64::from(info.tcpi_snd_cwnd)),
        mss: Some(info.tcpi_maxseg),
        path_mtu: None,
        bytes_in_flight: None,
        delivery_rate: None,
    })
}

/// `getsockopt(IPPROTO_TCP, TCP_INFO)` (FreeBSD).
#[cfg(target_os = "freebsd")]
#[allow(unsafe_code)]
pub(crate) fn tcp_figures(socket: &Socket) -> io::Result<TcpFigures> {
    // SAFETY: `tcp_info` is a C struct of integers, for which all zeros is
    // a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    // SAFETY: as above, any bits the kernel writes are a valid value.
    unsafe { getsockopt_into(socket, libc::IPPROTO_TCP, libc::TCP_INFO, &mut info) }?;
    let micros = |us: u32| std::time::Duration::from_micros(u64::from(us));
    Ok(TcpFigures {
        rtt: Some(micros(info.tcpi_rtt)),
        rtt_var: Some(micros(info.tcpi_rttvar)),
        retransmits: Some(u64::from(info.tcpi_snd_rexmitpack)),
        congestion_window: Some(u64::from(info.tcpi_snd_cwnd)),
        mss: Some(info.tcpi_snd_mss),
        path_mtu: None,
        bytes_in_flight: None,
        delivery_rate: None,
    })
}

/// No `TCP_INFO` this crate reads here.
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos",
    target_os = "visionos",
    target_os = "freebsd"
)))]
pub(crate) fn tcp_figures(_: &Socket) -> io::Result<TcpFigures> {
    Err(super::unsupported("TCP_INFO"))
}

/// `SOL_MPTCP` and `MPTCP_INFO` (`linux/mptcp.h`, Linux 5.16).
#[cfg(any(target_os = "linux", target_os = "android"))]
const SOL_MPTCP: libc::c_int = 284;
#[cfg(any(target_os = "linux", target_os = "android"))]
const MPTCP_INFO: libc::c_int = 1;

/// Whether a connected stream runs MPTCP: `getsockopt(SOL_MPTCP,
/// MPTCP_INFO)` answers on an MPTCP connection and fails with `EOPNOTSUPP`
/// on an MPTCP socket that fell back to TCP (the peer did not take it);
/// where the kernel has no `SOL_MPTCP` (before 5.16) or the socket is a
/// plain TCP one (`ENOPROTOOPT`), the protocol the socket was made with
/// (`SO_PROTOCOL`) says.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(unsafe_code)]
pub(crate) fn is_mptcp(socket: &Socket) -> io::Result<bool> {
    // `struct mptcp_info` is 30-odd integers; this holds more.
    let mut info = [0u64; 32];
    // SAFETY: an array of integers; any bits are a valid value.
    match unsafe { getsockopt_into(socket, SOL_MPTCP, MPTCP_INFO, &mut info) } {
        Ok(_) => Ok(true),
        Err(err) if err.raw_os_error() == Some(libc::EOPNOTSUPP) => Ok(false),
        Err(err) if err.raw_os_error() == Some(libc::ENOPROTOOPT) => {
            let mut protocol: libc::c_int = 0;
            // SAFETY: a `c_int` is an integer; any bits are a valid value.
            unsafe { getsockopt_into(socket, libc::SOL_SOCKET, libc::SO_PROTOCOL, &mut protocol) }?;
            Ok(protocol == libc::IPPROTO_MPTCP)
        }
        Err(err) => Err(err),
    }
}

/// Only Linux makes MPTCP sockets through the socket API.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn is_mptcp(_: &Socket) -> io::Result<bool> {
    Ok(false)
}

/// Whether `socket(IPPROTO_MPTCP)` failed because this system makes no
/// MPTCP sockets: `ENOPROTOOPT` when `net.mptcp.enabled` is 0,
/// `EPROTONOSUPPORT` for a kernel built without MPTCP, `EINVAL` or
/// `EAFNOSUPPORT` where the protocol number is unknown.
#[cfg(target_os = "linux")]
pub(crate) fn mptcp_unavailable(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::ENOPROTOOPT | libc::EPROTONOSUPPORT | libc::EINVAL | libc::EAFNOSUPPORT)
    )
}

/// Only Linux is asked for MPTCP sockets.
#[cfg(not(target_os = "linux"))]
pub(crate) fn mptcp_unavailable(_: &io::Error) -> bool {
    false
}
