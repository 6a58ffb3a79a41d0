//! Unix backend.

use std::io;

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
