//! What the kernel tells about a connected socket: who the peer of a Unix
//! socket is ([`peer_cred`]), how a TCP connection is doing ([`tcp_info`]),
//! whether it runs MPTCP ([`is_mptcp`]).
//!
//! Each function takes a stream of any kind this crate knows: std's, tokio's
//! (with the `tokio` feature) or an endpoint's [`Stream`](crate::Stream) /
//! `AsyncStream` (`tokio` feature), through the sealed traits
//! [`UnixConnection`] and [`TcpConnection`].

mod mptcp;
#[cfg(unix)]
mod peer_cred;
mod tcp_info;

pub use mptcp::is_mptcp;
#[cfg(unix)]
pub use peer_cred::{PeerCred, peer_cred};
cfg_linux! {
    pub use peer_cred::peer_pidfd;
}
pub use tcp_info::{TcpInfo, tcp_info};

#[cfg(unix)]
use crate::Error;
use crate::{Address, Result};
#[cfg(unix)]
use sealed::Tcp as _;
#[cfg(unix)]
use sealed::Unix as _;
use socket2::SockRef;

/// A connected TCP stream the inspection functions take: std's
/// [`TcpStream`](std::net::TcpStream), tokio's (with the `tokio` feature),
/// and an endpoint's [`Stream`](crate::Stream) or
/// `AsyncStream` (`tokio` feature) (which fail with
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
///     match sockwright::tcp_info(stream) {
///         Ok(info) => println!("{:?}", info.rtt()),
///         // Where the OS has no such call (Wine's Windows).
///         Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {}
///         Err(e) => return Err(e),
///     }
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
/// `AsyncStream` (`tokio` feature) (which fail with
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

/// The inspection trait `$public` of a stream type (std's or tokio's):
/// its socket from `sealed::$sealed::$method`, and the address its errors
/// name, `$shown` of the stream `$s`.
macro_rules! connection {
    (
        $(#[$attr:meta])*
        $ty:ty => $public:ident, $sealed:ident::$method:ident, |$s:ident| $shown:expr
    ) => {
        $(#[$attr])*
        impl sealed::$sealed for $ty {
            fn $method(&self) -> Result<(SockRef<'_>, Address)> {
                let $s = self;
                Ok((SockRef::from(self), $shown))
            }
        }
        $(#[$attr])*
        impl $public for $ty {}
    };
}

connection!(std::net::TcpStream => TcpConnection, Tcp::tcp_socket, |s| tcp_peer(s.peer_addr()));
connection!(
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    tokio::net::TcpStream => TcpConnection, Tcp::tcp_socket, |s| tcp_peer(s.peer_addr())
);

/// The error for a Unix stream given where a TCP one is needed.
#[cfg(unix)]
fn not_tcp(addr: Address) -> Error {
    Error::invalid(format!(
        "the stream on {addr} is a Unix socket; this needs a TCP connection"
    ))
}

#[cfg(unix)]
mod unix_impls {
    use super::*;
    use crate::endpoint::unix_address;

    /// The peer's path if it is bound to one, else the stream's own; the
    /// addresses are std's or tokio's, which convert into std's.
    fn shown<A: Into<std::os::unix::net::SocketAddr>>(
        peer: std::io::Result<A>,
        local: impl FnOnce() -> std::io::Result<A>,
    ) -> Address {
        match peer.map(Into::into) {
            Ok(addr) if !addr.is_unnamed() => unix_address(&addr),
            _ => local().map_or(Address::Unknown, |addr| unix_address(&addr.into())),
        }
    }

    connection!(
        std::os::unix::net::UnixStream => UnixConnection, Unix::unix_socket,
        |s| shown(s.peer_addr(), || s.local_addr())
    );
    connection!(
        #[cfg(feature = "tokio")]
        #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
        tokio::net::UnixStream => UnixConnection, Unix::unix_socket,
        |s| shown(s.peer_addr(), || s.local_addr())
    );
}

/// The error for a TCP stream given where a Unix one is needed.
#[cfg(unix)]
fn not_unix(addr: Address) -> Error {
    Error::invalid(format!(
        "the stream to {addr} is a TCP connection; peer credentials need a Unix socket"
    ))
}

/// The inspection traits of a stream of either family (`Stream` and
/// `AsyncStream`): the socket of the family it holds, and for the other
/// family an error naming the stream.
macro_rules! either_family {
    ($(#[$attr:meta])* $ty:ident) => {
        $(#[$attr])*
        impl sealed::Tcp for crate::$ty {
            fn tcp_socket(&self) -> Result<(SockRef<'_>, Address)> {
                match self {
                    crate::$ty::Tcp(stream) => stream.tcp_socket(),
                    #[cfg(unix)]
                    crate::$ty::Unix(stream) => Err(not_tcp(stream.unix_socket()?.1)),
                }
            }
        }
        $(#[$attr])*
        impl TcpConnection for crate::$ty {}

        #[cfg(unix)]
        $(#[$attr])*
        impl sealed::Unix for crate::$ty {
            fn unix_socket(&self) -> Result<(SockRef<'_>, Address)> {
                match self {
                    crate::$ty::Unix(stream) => stream.unix_socket(),
                    crate::$ty::Tcp(stream) => Err(not_unix(stream.tcp_socket()?.1)),
                }
            }
        }
        #[cfg(unix)]
        $(#[$attr])*
        impl UnixConnection for crate::$ty {}
    };
}

either_family!(Stream);
either_family!(
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    AsyncStream
);
