//! Windows backend.

use std::io;
use std::os::windows::io::AsRawSocket;

use socket2::{Socket, TcpKeepalive};

use crate::{Domain, Keepalive};

pub(crate) fn set_reuse_port(_: &Socket, _: bool) -> io::Result<()> {
    Err(super::unsupported("SO_REUSEPORT"))
}

/// `setsockopt(SOL_SOCKET, SO_EXCLUSIVEADDRUSE)`, which socket2 does not expose.
#[allow(unsafe_code)]
pub(crate) fn set_exclusive_address_use(socket: &Socket, on: bool) -> io::Result<()> {
    use windows_sys::Win32::Networking::WinSock::{
        setsockopt, WSAGetLastError, SOCKET, SOCKET_ERROR, SOL_SOCKET, SO_EXCLUSIVEADDRUSE,
    };
    let value: i32 = i32::from(on);
    // SAFETY: the socket handle is valid for the borrow of `socket`, and the
    // option value points to a live i32 whose size is passed alongside it.
    let rc = unsafe {
        setsockopt(
            socket.as_raw_socket() as SOCKET,
            SOL_SOCKET,
            SO_EXCLUSIVEADDRUSE,
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

pub(crate) fn bind_device(_: &Socket, _: &[u8]) -> io::Result<()> {
    Err(super::unsupported("SO_BINDTODEVICE"))
}

pub(crate) fn set_freebind(_: &Socket, _: Domain, _: bool) -> (&'static str, io::Result<()>) {
    ("IP_FREEBIND", Err(super::unsupported("IP_FREEBIND")))
}

/// The finest timeout `SO_RCVTIMEO` / `SO_SNDTIMEO` take here: a `DWORD` of
/// milliseconds, to which socket2 truncates.
pub(crate) const TIMEOUT_UNIT: std::time::Duration = std::time::Duration::from_millis(1);

/// The longest `SO_LINGER`: `l_linger` is a `u16` of seconds.
pub(crate) const MAX_LINGER: std::time::Duration = std::time::Duration::from_secs(u16::MAX as u64);

/// `SIO_KEEPALIVE_VALS` counts whole milliseconds.
const KEEPALIVE_UNIT: std::time::Duration = std::time::Duration::from_millis(1);

/// Windows sets the keepalive interval and (since Windows 10 1703) the probe count.
pub(crate) const KEEPALIVE_DETAILS: bool = true;

pub(crate) fn keepalive(params: &Keepalive) -> TcpKeepalive {
    let mut ka = TcpKeepalive::new();
    if let Some(time) = params.time {
        ka = ka.with_time(super::round_up(time, KEEPALIVE_UNIT));
    }
    if let Some(interval) = params.interval {
        ka = ka.with_interval(super::round_up(interval, KEEPALIVE_UNIT));
    }
    if let Some(retries) = params.retries {
        ka = ka.with_retries(retries);
    }
    ka
}
