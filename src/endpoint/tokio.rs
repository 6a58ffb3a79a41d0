//! The async twins of [`Listener`](crate::Listener) and
//! [`Stream`](crate::Stream), on tokio: what
//! [`ListenerBuilder::listen_endpoint_async`](crate::ListenerBuilder::listen_endpoint_async)
//! and
//! [`ConnectorBuilder::connect_endpoint_async`](crate::ConnectorBuilder::connect_endpoint_async)
//! return.

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::net::{TcpListener, TcpStream};
#[cfg(unix)]
use ::tokio::net::{UnixListener, UnixStream};

#[cfg(unix)]
use super::stream::IntoAddress;
use crate::Address;

/// A tokio listener of either family, from
/// [`ListenerBuilder::listen_endpoint_async`](crate::ListenerBuilder::listen_endpoint_async):
/// TCP on one address or on every address of a name, or Unix-domain.
///
/// [`accept`](Self::accept) waits for the next client of any of its
/// sockets and returns an [`AsyncStream`], which reads and writes either
/// kind. It is the async twin of the blocking [`Listener`](crate::Listener).
///
/// # Examples
///
/// ```
/// use sockwright::{Endpoint, ListenerBuilder};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let endpoint: Endpoint = "127.0.0.1:0".parse()?;
/// let listener = ListenerBuilder::new().listen_endpoint_async(&endpoint).await?;
/// let mut client = tokio::net::TcpStream::connect(listener.local_addr()?.to_string()).await?;
/// let (mut conn, peer) = listener.accept().await?;
/// assert_eq!(peer.to_string(), client.local_addr()?.to_string());
/// client.write_all(b"hi").await?;
/// let mut buf = [0; 2];
/// conn.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"hi");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub struct AsyncListener {
    sockets: Sockets,
    /// The socket of a [`Sockets::TcpAll`] asked first on the next poll,
    /// so that a busy one does not starve the others.
    next: AtomicUsize,
}

#[derive(Debug)]
enum Sockets {
    Tcp(TcpListener),
    TcpAll(Vec<TcpListener>),
    #[cfg(unix)]
    Unix(UnixListener),
}

impl AsyncListener {
    pub(crate) fn tcp(listener: TcpListener) -> AsyncListener {
        AsyncListener::new(Sockets::Tcp(listener))
    }

    /// Several TCP listeners on one port; one alone is [`tcp`](Self::tcp).
    pub(crate) fn tcp_all(mut listeners: Vec<TcpListener>) -> AsyncListener {
        if listeners.len() == 1 {
            return AsyncListener::tcp(listeners.remove(0));
        }
        AsyncListener::new(Sockets::TcpAll(listeners))
    }

    #[cfg(unix)]
    pub(crate) fn unix(listener: UnixListener) -> AsyncListener {
        AsyncListener::new(Sockets::Unix(listener))
    }

    fn new(sockets: Sockets) -> AsyncListener {
        AsyncListener {
            sockets,
            next: AtomicUsize::new(0),
        }
    }

    /// Waits for the next client on any of the listener's sockets
    /// (`accept(2)` once tokio's reactor says one is ready) and returns its
    /// stream and address. A Unix-domain client is usually unnamed, shown as
    /// `(unnamed)`.
    ///
    /// Cancel-safe, as tokio's own `accept`: a future dropped before it is
    /// done has taken no connection.
    ///
    /// # Errors
    ///
    /// The OS error of `accept`, as tokio reports it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = sockwright::ListenerBuilder::new()
    ///     .listen_endpoint_async(&"127.0.0.1:0".parse()?)
    ///     .await?;
    /// let _client = tokio::net::TcpStream::connect(listener.local_addr()?.to_string()).await?;
    /// let (_stream, peer) = listener.accept().await?;
    /// assert!(peer.to_string().starts_with("127.0.0.1:"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn accept(&self) -> io::Result<(AsyncStream, Address)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// [`accept`](Self::accept) as a poll, for code that implements a
    /// trait with a `poll_` method: `Pending` registers `cx`'s waker with
    /// every socket of the listener.
    ///
    /// # Errors
    ///
    /// As for [`accept`](Self::accept).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = sockwright::ListenerBuilder::new()
    ///     .listen_endpoint_async(&"127.0.0.1:0".parse()?)
    ///     .await?;
    /// let _client = tokio::net::TcpStream::connect(listener.local_addr()?.to_string()).await?;
    /// let (_stream, _peer) = std::future::poll_fn(|cx| listener.poll_accept(cx)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(AsyncStream, Address)>> {
        match &self.sockets {
            Sockets::Tcp(l) => poll_tcp(l, cx),
            Sockets::TcpAll(all) => {
                let first = self.next.fetch_add(1, Ordering::Relaxed) % all.len().max(1);
                // Every socket is polled (each registers the waker) until one is ready.
                for i in (first..all.len()).chain(0..first) {
                    if let Poll::Ready(accepted) = poll_tcp(&all[i], cx) {
                        return Poll::Ready(accepted);
                    }
                }
                Poll::Pending
            }
            #[cfg(unix)]
            Sockets::Unix(l) => l
                .poll_accept(cx)
                .map_ok(|(s, a)| (AsyncStream::Unix(s), super::stream::unix_address(&a.into()))),
        }
    }

    /// The address the listener is bound to (`getsockname(2)`); for one
    /// listening on every address of a name, the first of them.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = sockwright::ListenerBuilder::new()
    ///     .listen_endpoint_async(&"127.0.0.1:0".parse()?)
    ///     .await?;
    /// assert!(listener.local_addr()?.to_string().starts_with("127.0.0.1:"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<Address> {
        match &self.sockets {
            Sockets::Tcp(l) => l.local_addr().map(Address::Inet),
            Sockets::TcpAll(all) => match all.first() {
                Some(l) => l.local_addr().map(Address::Inet),
                None => Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "no listener in the list",
                )),
            },
            #[cfg(unix)]
            Sockets::Unix(l) => l
                .local_addr()
                .map(|a| super::stream::unix_address(&a.into())),
        }
    }

    /// Every address the listener is bound to, one per socket: several for
    /// an endpoint such as `localhost:8080` whose name has several
    /// addresses.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = sockwright::ListenerBuilder::new()
    ///     .listen_endpoint_async(&"127.0.0.1:0".parse()?)
    ///     .await?;
    /// assert_eq!(listener.local_addrs()?, [listener.local_addr()?]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_addrs(&self) -> io::Result<Vec<Address>> {
        match &self.sockets {
            Sockets::TcpAll(all) => all
                .iter()
                .map(|l| l.local_addr().map(Address::Inet))
                .collect(),
            _ => self.local_addr().map(|a| vec![a]),
        }
    }
}

fn poll_tcp(l: &TcpListener, cx: &mut Context<'_>) -> Poll<io::Result<(AsyncStream, Address)>> {
    l.poll_accept(cx)
        .map_ok(|(s, a)| (AsyncStream::Tcp(s), Address::Inet(a)))
}

stream_of_either_family! {
    /// A tokio stream of either family, from [`AsyncListener::accept`] and
    /// [`ConnectorBuilder::connect_endpoint_async`](crate::ConnectorBuilder::connect_endpoint_async):
    /// reads and writes (tokio's [`AsyncRead`] and [`AsyncWrite`]) like the
    /// tokio type inside it. The async twin of [`Stream`](crate::Stream).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{AsyncStream, ConnectorBuilder, ListenerBuilder};
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = ListenerBuilder::new().listen_endpoint_async(&"127.0.0.1:0".parse()?).await?;
    /// let endpoint = listener.local_addr()?.to_string().parse()?;
    /// let mut client = ConnectorBuilder::new().connect_endpoint_async(&endpoint).await?;
    /// let (mut conn, _) = listener.accept().await?;
    /// assert!(matches!(conn, AsyncStream::Tcp(_)));
    /// conn.write_all(b"Hello from server").await?;
    /// let mut reply = [0; 17];
    /// client.read_exact(&mut reply).await?;
    /// assert_eq!(&reply, b"Hello from server");
    /// # Ok(())
    /// # }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub enum AsyncStream {
        Tcp(TcpStream),
        Unix(UnixStream),
    }

    /// The address of the peer (`getpeername(2)`): an IP address and port,
    /// or a Unix path (usually unnamed for a client, `(unnamed)`).
    ///
    /// # Errors
    ///
    /// The OS error of `getpeername`, such as `NotConnected`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = sockwright::ListenerBuilder::new().listen_endpoint_async(&"127.0.0.1:0".parse()?).await?;
    /// let client = sockwright::ConnectorBuilder::new()
    ///     .connect_endpoint_async(&listener.local_addr()?.to_string().parse()?)
    ///     .await?;
    /// assert_eq!(client.peer_addr()?, listener.local_addr()?);
    /// # Ok(())
    /// # }
    /// ```
    fn peer_addr;

    /// The address of this end (`getsockname(2)`).
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = sockwright::ListenerBuilder::new().listen_endpoint_async(&"127.0.0.1:0".parse()?).await?;
    /// let client = sockwright::ConnectorBuilder::new()
    ///     .connect_endpoint_async(&listener.local_addr()?.to_string().parse()?)
    ///     .await?;
    /// let (_conn, peer) = listener.accept().await?;
    /// assert_eq!(client.local_addr()?, peer);
    /// # Ok(())
    /// # }
    /// ```
    fn local_addr;
}

impl AsyncRead for AsyncStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(AsyncStream, self.get_mut(), s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for AsyncStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(AsyncStream, self.get_mut(), s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(AsyncStream, self.get_mut(), s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        each!(AsyncStream, self, s => s.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(AsyncStream, self.get_mut(), s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(AsyncStream, self.get_mut(), s => Pin::new(s).poll_shutdown(cx))
    }
}

#[cfg(unix)]
impl IntoAddress for ::tokio::net::unix::SocketAddr {
    fn into_address(self) -> Address {
        std::os::unix::net::SocketAddr::from(self).into_address()
    }
}
