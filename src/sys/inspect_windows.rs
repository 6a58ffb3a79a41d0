//! Windows backend of what the kernel tells about a connected socket:
//! `SIO_TCP_INFO`.

use std::io;
use std::os::windows::io::AsRawSocket;

use socket2::Socket;

use super::TcpFigures;

/// `WSAIoctl(SIO_TCP_INFO)` with version 0 (Windows 10 1703 and later).
/// Where the call is missing (older Windows, Wine) it fails with
/// `WSAEOPNOTSUPP` or `WSAEINVAL`, shown as
/// [`Unsupported`](io::ErrorKind::Unsupported).
#[allow(unsafe_code)]
pub(crate) fn tcp_figures(socket: &Socket) -> io::Result<TcpFigures> {
    use windows_sys::Win32::Networking::WinSock::{
        SIO_TCP_INFO, SOCKET, SOCKET_ERROR, TCP_INFO_v0, WSAEINVAL, WSAEOPNOTSUPP, WSAGetLastError,
        WSAIoctl,
    };
    let version: u32 = 0;
    let mut info = TCP_INFO_v0::default();
    let mut returned: u32 = 0;
    // SAFETY: the handle is valid for the borrow of `socket`; the input is
    // a live `u32` and the output a live `TCP_INFO_v0`, each with its size;
    // no overlapped I/O, so the call completes before it returns.
    let rc = unsafe {
        WSAIoctl(
            socket.as_raw_socket() as SOCKET,
            SIO_TCP_INFO,
            (&version as *const u32).cast(),
            std::mem::size_of::<u32>() as u32,
            (&mut info as *mut TCP_INFO_v0).cast(),
            std::mem::size_of::<TCP_INFO_v0>() as u32,
            &mut returned,
            std::ptr::null_mut(),
            None,
        )
    };
    if rc == SOCKET_ERROR {
        // SAFETY: reads the calling thread's last Winsock error; no arguments.
        let code = unsafe { WSAGetLastError() };
        if code == WSAEOPNOTSUPP || code == WSAEINVAL {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "SIO_TCP_INFO is not available here ({})",
                    io::Error::from_raw_os_error(code)
                ),
            ));
        }
        return Err(io::Error::from_raw_os_error(code));
    }
    Ok(TcpFigures {
        rtt: Some(std::time::Duration::from_micros(u64::from(info.RttUs))),
        rtt_var: None,
        // Counted in bytes (`BytesRetrans`), not segments.
        retransmits: None,
        congestion_window: Some(u64::from(info.Cwnd)),
        mss: Some(info.Mss),
        path_mtu: None,
        bytes_in_flight: Some(u64::from(info.BytesInFlight)),
        delivery_rate: None,
    })
}

/// Windows makes no MPTCP sockets.
pub(crate) fn is_mptcp(_: &Socket) -> io::Result<bool> {
    Ok(false)
}

/// Windows is never asked for MPTCP sockets.
pub(crate) fn mptcp_unavailable(_: &io::Error) -> bool {
    false
}
