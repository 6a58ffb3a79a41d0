//! Whether a connection runs MPTCP.

use std::io;

use super::TcpConnection;

/// Whether a connected TCP stream really runs Multipath TCP: made as an
/// MPTCP socket, and the peer took it (an MPTCP socket whose peer does not
/// speak MPTCP falls back to plain TCP, and this says `false`).
///
/// Takes std's [`TcpStream`](std::net::TcpStream), tokio's (with the
/// `tokio` feature), or an endpoint's [`Stream`](crate::Stream) or
/// `AsyncStream` (`tokio` feature) (see [`TcpConnection`]).
///
/// Maps to `getsockopt(SOL_MPTCP, MPTCP_INFO)` on Linux 5.16 and later
/// (answered on an MPTCP connection, `EOPNOTSUPP` once it fell back),
/// else `getsockopt(SOL_SOCKET, SO_PROTOCOL)` (the protocol the socket was
/// made with, which cannot tell a fallback).
///
/// # Errors
///
/// The OS error of `getsockopt`, or [`InvalidInput`](io::ErrorKind::InvalidInput)
/// for an endpoint stream that holds a Unix connection.
///
/// # Platform-specific behavior
///
/// Only Linux makes MPTCP sockets through the socket API: elsewhere this
/// is `Ok(false)` without a system call.
///
/// # Examples
///
/// ```
/// use sockwright::{ConnectorBuilder, ListenerBuilder, Mptcp};
///
/// let listener = ListenerBuilder::new().mptcp(Mptcp::Prefer).listen("127.0.0.1:0")?;
/// let stream = ConnectorBuilder::new()
///     .mptcp(Mptcp::Prefer)
///     .connect(listener.local_addr()?)?;
/// // True where the kernel has MPTCP on (Linux, net.mptcp.enabled=1).
/// println!("MPTCP: {}", sockwright::is_mptcp(&stream)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn is_mptcp<S: TcpConnection + ?Sized>(stream: &S) -> io::Result<bool> {
    let (socket, _) = stream.tcp_socket()?;
    crate::sys::is_mptcp(&socket)
}
