//! What the kernel tells about a connected socket: who the peer of a Unix
//! socket is ([`peer_cred`]), how a TCP connection is doing ([`tcp_info`]),
//! whether it runs MPTCP ([`is_mptcp`]).
//!
//! Each function takes a stream of any kind this crate knows: std's, tokio's
//! (with the `tokio` feature) or an endpoint's [`Stream`](crate::Stream) /
//! [`AsyncStream`](crate::AsyncStream), through the sealed traits
//! [`UnixConnection`] and [`TcpConnection`].

mod mptcp;
#[cfg(unix)]
mod peer_cred;
mod tcp_info;

pub use mptcp::is_mptcp;
#[cfg(unix)]
pub use peer_cred::{peer_cred, PeerCred};
cfg_linux! {
    pub use peer_cred::peer_pidfd;
}
pub use tcp_info::{tcp_info, TcpInfo};

#[cfg(unix)]
use crate::Error;
use crate::{Address, Result};
#[cfg(unix)]
use sealed::Unix as _;
use socket2::SockRef;

/// A connected TCP stream the inspection functions take: std's
/// [`TcpStream`](std::net::TcpStream), tokio's (with the `tokio` feature),
/// and an endpoint's [`Stream`](crate::Stream) or
/// [`AsyncStream`](crate::AsyncStream) (which fail with
/// [`Error::InvalidConfig`] when they hold a Unix stream).
///
/// Sealed: implemented by this crate only.
///
/// # Examples
///
/// ```
/// use sockwright::TcpConnection;
///
/// fn round_trip(stream: &impl TcpConnection) -> sockwright::Result<()> {
///     let info = sockwright::tcp_info(stream)?;
///     println!("{:?}", info.rtt());
///     Ok(())
/// }
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let stream = std::net::TcpStream::connect(listener.local_addr()?)?;
/// round_trip(&stream)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait TcpConnection: sealed::Tcp {}

/// A connected Unix stream [`peer_cred`] takes: std's
/// [`UnixStream`](std::os::unix::net::UnixStream), tokio's (with the
/// `tokio` feature), and an endpoint's [`Stream`](crate::Stream) or
/// [`AsyncStream`](crate::AsyncStream) (which fail with
/// [`Error::InvalidConfig`] when they hold a TCP stream).
///
/// Sealed: implemented by this crate only.
///
/// # Examples
///
/// ```
/// use sockwright::UnixConnection;
///
/// fn owner(stream: &impl UnixConnection) -> sockwright::Result<u32> {
///     Ok(sockwright::peer_cred(stream)?.uid())
/// }
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// println!("peer runs as uid {}", owner(&a)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
pub trait UnixConnection: sealed::Unix {}

pub(crate) mod sealed {
    use super::*;

    /// The socket of a TCP stream, and the address its errors name (the
    /// peer's).
    pub trait Tcp {
        /// The socket, or why this stream is not a TCP one.
        fn tcp_socket(&self) -> Result<(SockRef<'_>, Address)>;
    }

    /// The socket of a Unix stream, and the address its errors name (the
    /// peer's path when it has one, else its own).
    #[cfg(unix)]
    pub trait Unix {
        /// The socket, or why this stream is not a Unix one.
        fn unix_socket(&self) -> Result<(SockRef<'_>, Address)>;
    }
}

/// The address of a TCP stream's peer, or [`Address::Unknown`].
fn tcp_peer(peer: std::io::Result<std::net::SocketAddr>) -> Address {
    peer.map_or(Address::Unknown, Address::Inet)
}

impl sealed::Tcp for std::net::TcpStream {
    fn tcp_socket(&self) -> Result<(SockRef<'_>, Address)> {
        Ok((SockRef::from(self), tcp_peer(self.peer_addr())))
    }
}
impl TcpConnection for std::net::TcpStream {}

#[cfg(feature = "tokio")]
impl sealed::Tcp for tokio::net::TcpStream {
    fn tcp_socket(&self) -> Result<(SockRef<'_>, Address)> {
        Ok((SockRef::from(self), tcp_peer(self.peer_addr())))
    }
}
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
impl TcpConnection for tokio::net::TcpStream {}

impl sealed::Tcp for crate::Stream {
    fn tcp_socket(&self) -> Result<(SockRef<'_>, Address)> {
        match self {
            crate::Stream::Tcp(stream) => stream.tcp_socket(),
            #[cfg(unix)]
            crate::Stream::Unix(stream) => Err(not_tcp(stream.unix_socket()?.1)),
        }
    }
}
impl TcpConnection for crate::Stream {}

#[cfg(feature = "tokio")]
impl sealed::Tcp for crate::AsyncStream {
    fn tcp_socket(&self) -> Result<(SockRef<'_>, Address)> {
        match self {
            crate::AsyncStream::Tcp(stream) => stream.tcp_socket(),
            #[cfg(unix)]
            crate::AsyncStream::Unix(stream) => Err(not_tcp(stream.unix_socket()?.1)),
        }
    }
}
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
impl TcpConnection for crate::AsyncStream {}

/// The error for a Unix stream given where a TCP one is needed.
#[cfg(unix)]
fn not_tcp(addr: Address) -> Error {
    Error::invalid(format!(
        "the stream on {addr} is a Unix socket; this needs a TCP connection"
    ))
}

#[cfg(unix)]
mod unix_impls {
    use super::sealed::Tcp as _;
    use super::*;
    use crate::endpoint::unix_address;

    /// The peer's path if it is bound to one, else the stream's own.
    fn shown(
        peer: std::io::Result<std::os::unix::net::SocketAddr>,
        local: impl FnOnce() -> std::io::Result<std::os::unix::net::SocketAddr>,
    ) -> Address {
        let named = |addr: &std::os::unix::net::SocketAddr| !addr.is_unnamed();
        match peer {
            Ok(addr) if named(&addr) => unix_address(&addr),
            _ => local().map_or(Address::Unknown, |addr| unix_address(&addr)),
        }
    }

    impl sealed::Unix for std::os::unix::net::UnixStream {
        fn unix_socket(&self) -> Result<(SockRef<'_>, Address)> {
            let addr = shown(self.peer_addr(), || self.local_addr());
            Ok((SockRef::from(self), addr))
        }
    }
    impl UnixConnection for std::os::unix::net::UnixStream {}

    #[cfg(feature = "tokio")]
    impl sealed::Unix for tokio::net::UnixStream {
        fn unix_socket(&self) -> Result<(SockRef<'_>, Address)> {
            // tokio's addresses convert into std's.
            let peer = self.peer_addr().map(Into::into);
            let addr = shown(peer, || self.local_addr().map(Into::into));
            Ok((SockRef::from(self), addr))
        }
    }
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    impl UnixConnection for tokio::net::UnixStream {}

    impl sealed::Unix for crate::Stream {
        fn unix_socket(&self) -> Result<(SockRef<'_>, Address)> {
            match self {
                crate::Stream::Unix(stream) => stream.unix_socket(),
                crate::Stream::Tcp(stream) => Err(not_unix(stream.tcp_socket()?.1)),
            }
        }
    }
    impl UnixConnection for crate::Stream {}

    #[cfg(feature = "tokio")]
    impl sealed::Unix for crate::AsyncStream {
        fn unix_socket(&self) -> Result<(SockRef<'_>, Address)> {
            match self {
                crate::AsyncStream::Unix(stream) => stream.unix_socket(),
                crate::AsyncStream::Tcp(stream) => Err(not_unix(stream.tcp_socket()?.1)),
            }
        }
    }
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    impl UnixConnection for crate::AsyncStream {}

    /// The error for a TCP stream given where a Unix one is needed.
    fn not_unix(addr: Address) -> Error {
        Error::invalid(format!(
            "the stream to {addr} is a TCP connection; peer credentials need a Unix socket"
        ))
    }
}
