//! The async twins of [`ListenerBuilder`]'s finishing calls, on tokio: the
//! same sockets as the blocking calls make, handed to tokio's reactor.

use std::io;
#[cfg(unix)]
use std::path::Path;

use ::tokio::net::{TcpListener, UdpSocket};
#[cfg(unix)]
use ::tokio::net::{UnixDatagram, UnixListener};
#[cfg(unix)]
use socket2::Socket;

use crate::endpoint::Opens;
use crate::listener::listen;
use crate::options::Place;
use crate::resolve::tokio::{lookup, running};
use crate::resolve::{self, NamedTarget};
use crate::{
    Address, AsyncListener, Endpoint, Error, LISTENER_LOG, Listener, ListenerBuilder, Result,
    ToSocketAddrs, Type,
};

/// The server side's async finishing calls.
impl ListenerBuilder {
    /// Like [`listen`](Self::listen), without blocking: a
    /// [`tokio::net::TcpListener`](::tokio::net::TcpListener), nonblocking whatever
    /// [`nonblocking`](Self::nonblocking) says, so tokio never meets a
    /// blocking socket.
    ///
    /// The socket is made as `listen` makes it (every option, `bind`,
    /// `listen` with the backlog), nonblocking from `socket(2)` where the OS
    /// allows (so a [`configure`](Self::configure) hook sees it
    /// nonblocking); a name is resolved by [`tokio::net::lookup_host`](::tokio::net::lookup_host).
    ///
    /// # Errors
    ///
    /// As for [`listen`](Self::listen), and [`Error::Register`] when no
    /// tokio runtime is running on this thread (found before any system
    /// call) or the reactor refuses the socket.
    ///
    /// # Panics
    ///
    /// As tokio's own `TcpListener::bind`: when the runtime was built
    /// without its I/O driver.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::ListenerBuilder;
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = ListenerBuilder::new()
    ///     .reuse_address(true)
    ///     .backlog(128)
    ///     .listen_async("127.0.0.1:0")
    ///     .await?;
    /// let mut client = tokio::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (mut conn, _) = listener.accept().await?;
    /// client.write_all(b"hi").await?;
    /// let mut buf = [0; 2];
    /// conn.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"hi");
    /// # Ok(())
    /// # }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn listen_async<A>(&self, addr: A) -> Result<TcpListener>
    where
        A: ToSocketAddrs,
    {
        let backlog = self.validate_listen(Place::Inet)?;
        let target = NamedTarget::new(&addr, LISTENER_LOG);
        let addrs = lookup(target, &self.opts).await?;
        resolve::each(target, &addrs, |a| {
            let socket = self.bound_inet_as(a, Type::Stream, true)?;
            let shown = Address::Inet(a);
            listen(&socket, &shown, backlog)?;
            register(TcpListener::from_std(socket.into()), &shown)
        })
    }

    /// Like [`listen_all`](Self::listen_all), without blocking: one
    /// [`tokio::net::TcpListener`](::tokio::net::TcpListener) per address `addr` resolves to, all on
    /// one port, each nonblocking whatever
    /// [`nonblocking`](Self::nonblocking) says.
    ///
    /// The listeners are made as `listen_all` makes them (every option,
    /// only-v6 on the IPv6 ones, one port, starting over when that port is
    /// taken); a name is resolved by [`tokio::net::lookup_host`](::tokio::net::lookup_host).
    ///
    /// # Errors
    ///
    /// As for [`listen_all`](Self::listen_all) and
    /// [`listen_async`](Self::listen_async).
    ///
    /// # Panics
    ///
    /// As for [`listen_async`](Self::listen_async).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
    /// use sockwright::ListenerBuilder;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # if std::net::TcpListener::bind("[::1]:0").is_err() { return Ok(()); } // no IPv6 here
    /// let both = [
    ///     SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
    ///     SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    /// ];
    /// let listeners = ListenerBuilder::new().listen_all_async(&both[..]).await?;
    /// let port = listeners[0].local_addr()?.port();
    /// assert_eq!(listeners[1].local_addr()?.port(), port);
    /// let _v4 = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    /// let (_conn, _) = listeners[1].accept().await?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn listen_all_async<A>(&self, addr: A) -> Result<Vec<TcpListener>>
    where
        A: ToSocketAddrs,
    {
        self.check_listen_all()?;
        let target = NamedTarget::new(&addr, LISTENER_LOG);
        let addrs = lookup(target, &self.opts).await?;
        let listeners = self.listen_each(&target, &addrs, true)?;
        listeners
            .into_iter()
            .map(|l| {
                let shown = l.local_addr().map_or(Address::Unknown, Address::Inet);
                register(TcpListener::from_std(l), &shown)
            })
            .collect()
    }

    /// Like [`listen_endpoint`](Self::listen_endpoint), without blocking:
    /// listens on an [`Endpoint`] and returns an [`AsyncListener`], whose
    /// [`accept`](AsyncListener::accept) gives an [`AsyncStream`](crate::AsyncStream) (tokio's
    /// `AsyncRead` and `AsyncWrite`, TCP or Unix-domain).
    ///
    /// | Endpoint | made by |
    /// |---|---|
    /// | `IP:PORT`, `[IPV6]:PORT` | [`listen_async`](Self::listen_async) |
    /// | `NAME:PORT` (`localhost:8080`) | [`listen_all_async`](Self::listen_all_async): every address of the name, one port |
    /// | `unix:PATH`, `/PATH`, `./PATH`, `@NAME` | [`listen_unix_async`](Self::listen_unix_async) |
    /// | `sd-listen`, `sd-listen:NAME`, `fd:N` | as [`listen_endpoint`](Self::listen_endpoint) adopts them, then made nonblocking and registered |
    ///
    /// Options that cannot act on the endpoint's transport are left out
    /// with one `debug` line each, as for `listen_endpoint`. Every socket
    /// is nonblocking whatever [`nonblocking`](Self::nonblocking) says.
    ///
    /// # Errors
    ///
    /// As for [`listen_endpoint`](Self::listen_endpoint), and
    /// [`Error::Register`] as for [`listen_async`](Self::listen_async).
    ///
    /// # Panics
    ///
    /// As for [`listen_async`](Self::listen_async).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{Endpoint, ListenerBuilder};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // From a `--listen` flag: TCP here, but `unix:/run/app.sock` or
    /// // `@app` work with the same builder, `nodelay` left out for them.
    /// let endpoint: Endpoint = "127.0.0.1:0".parse()?;
    /// let listener = ListenerBuilder::new()
    ///     .nodelay(true)
    ///     .listen_endpoint_async(&endpoint)
    ///     .await?;
    /// let _client = tokio::net::TcpStream::connect(listener.local_addr()?.to_string()).await?;
    /// let (_stream, peer) = listener.accept().await?;
    /// println!("{peer} connected");
    /// # Ok(())
    /// # }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn listen_endpoint_async(&self, endpoint: &Endpoint) -> Result<AsyncListener> {
        let builder = self.for_endpoint(endpoint);
        match endpoint.opens()? {
            Opens::Inet(addr) => builder.listen_async(addr).await.map(AsyncListener::tcp),
            Opens::Host(host) => builder
                .listen_all_async(host)
                .await
                .map(AsyncListener::tcp_all),
            #[cfg(unix)]
            Opens::Unix(path) => builder
                .listen_unix_async(path)
                .await
                .map(AsyncListener::unix),
            Opens::Passed => {
                running(endpoint)?;
                let listener = self.adopt_endpoint(endpoint)?;
                let shown = listener.local_addr().unwrap_or(Address::Unknown);
                crate::options::set_result("O_NONBLOCK", &shown, listener.set_nonblocking(true))?;
                match listener {
                    Listener::Tcp(l) => {
                        register(TcpListener::from_std(l), &shown).map(AsyncListener::tcp)
                    }
                    #[cfg(unix)]
                    Listener::Unix(l) => {
                        register(UnixListener::from_std(l), &shown).map(AsyncListener::unix)
                    }
                    other => Err(Error::invalid(format!(
                        "{endpoint} gave an unexpected listener: {other:?}"
                    ))),
                }
            }
        }
    }

    /// Like [`bind_udp`](Self::bind_udp), without blocking: a
    /// [`tokio::net::UdpSocket`](::tokio::net::UdpSocket), nonblocking.
    ///
    /// # Errors
    ///
    /// As for [`bind_udp`](Self::bind_udp) and
    /// [`listen_async`](Self::listen_async).
    ///
    /// # Panics
    ///
    /// As for [`listen_async`](Self::listen_async).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = sockwright::ListenerBuilder::new().bind_udp_async("127.0.0.1:0").await?;
    /// let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// client.send_to(b"ping", server.local_addr()?).await?;
    /// let mut buf = [0; 8];
    /// let (n, from) = server.recv_from(&mut buf).await?;
    /// assert_eq!((&buf[..n], from), (&b"ping"[..], client.local_addr()?));
    /// # Ok(())
    /// # }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn bind_udp_async<A>(&self, addr: A) -> Result<UdpSocket>
    where
        A: ToSocketAddrs,
    {
        self.opts.validate(Type::Datagram, Place::Inet)?;
        let target = NamedTarget::new(&addr, LISTENER_LOG);
        let addrs = lookup(target, &self.opts).await?;
        resolve::each(target, &addrs, |a| {
            let socket = self.bound_inet_as(a, Type::Datagram, true)?;
            register(UdpSocket::from_std(socket.into()), &Address::Inet(a))
        })
    }

    /// Like [`listen_unix`](Self::listen_unix), without blocking: a
    /// [`tokio::net::UnixListener`](::tokio::net::UnixListener), nonblocking.
    ///
    /// # Errors
    ///
    /// As for [`listen_unix`](Self::listen_unix), and [`Error::Register`]
    /// as for [`listen_async`](Self::listen_async).
    ///
    /// # Platform-specific behavior
    ///
    /// Unix only.
    ///
    /// # Panics
    ///
    /// As for [`listen_async`](Self::listen_async).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = std::env::temp_dir().join(format!("sockwright-doc-async-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("server.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// let listener = sockwright::ListenerBuilder::new().listen_unix_async(&path).await?;
    /// let _client = tokio::net::UnixStream::connect(&path).await?;
    /// let (_conn, _) = listener.accept().await?;
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(all(feature = "tokio", unix))))]
    pub async fn listen_unix_async<P: AsRef<Path>>(&self, path: P) -> Result<UnixListener> {
        let backlog = self.validate_listen(Place::Unix(path.as_ref()))?;
        running(&Address::Unix(path.as_ref().to_path_buf()))?;
        let (socket, shown, lock) = self.bound_unix(path.as_ref(), Type::Stream)?;
        listen(&socket, &shown, backlog)?;
        // Once it listens, another start's check sees a live server.
        drop(lock);
        nonblocking(&socket, &shown)?;
        register(UnixListener::from_std(socket.into()), &shown)
    }

    /// Like [`bind_unix_datagram`](Self::bind_unix_datagram), without
    /// blocking: a [`tokio::net::UnixDatagram`](::tokio::net::UnixDatagram), nonblocking.
    ///
    /// # Errors
    ///
    /// As for [`bind_unix_datagram`](Self::bind_unix_datagram), and
    /// [`Error::Register`] as for [`listen_async`](Self::listen_async).
    ///
    /// # Platform-specific behavior
    ///
    /// Unix only.
    ///
    /// # Panics
    ///
    /// As for [`listen_async`](Self::listen_async).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = std::env::temp_dir().join(format!("sockwright-doc-dgram-async-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("server.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// let server = sockwright::ListenerBuilder::new().bind_unix_datagram_async(&path).await?;
    /// let client = tokio::net::UnixDatagram::unbound()?;
    /// client.send_to(b"ping", &path).await?;
    /// let mut buf = [0; 8];
    /// let n = server.recv(&mut buf).await?;
    /// assert_eq!(&buf[..n], b"ping");
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(all(feature = "tokio", unix))))]
    pub async fn bind_unix_datagram_async<P: AsRef<Path>>(&self, path: P) -> Result<UnixDatagram> {
        self.opts
            .validate(Type::Datagram, Place::Unix(path.as_ref()))?;
        running(&Address::Unix(path.as_ref().to_path_buf()))?;
        let (socket, shown, _lock) = self.bound_unix(path.as_ref(), Type::Datagram)?;
        nonblocking(&socket, &shown)?;
        register(UnixDatagram::from_std(socket.into()), &shown)
    }
}

/// The result of tokio's `from_std`, as this crate's error.
pub(crate) fn register<T>(made: io::Result<T>, shown: &Address) -> Result<T> {
    made.map_err(|source| Error::Register {
        target: shown.to_string(),
        error: source,
    })
}

/// `O_NONBLOCK`, which tokio needs, whatever the builder's `nonblocking`
/// says: one `ioctl(FIONBIO)` (`ioctlsocket`), not an `fcntl` pair.
#[cfg(unix)]
pub(crate) fn nonblocking(socket: &Socket, shown: &Address) -> Result<()> {
    crate::options::set_result(
        "O_NONBLOCK",
        shown,
        crate::sys::set_nonblocking(socket, true),
    )
}
