//! The tokio driver of the connect race, and every async finishing call:
//! the only code behind the `tokio` feature.
//!
//! The race is the one [`ConnectorBuilder::connect`] runs, through the same
//! [`Attempts`]; only the wait differs. Each pending socket is handed to
//! tokio's reactor, the future polls them all for writability (the sign that
//! a connect has ended, one way or the other), and a tokio timer stands for
//! the time until the next attempt is due or the connect timeout runs out.
//! Nothing blocks a runtime thread: the sockets are nonblocking from the
//! start, and a name given as `"host:port"` or `(host, port)` is looked up
//! once per family by the blocking path's own [`Lookups`] (the process-wide
//! lookup pool, with the system's or the builder's resolver), which wake the
//! task through its waker, without any descriptor, so the answers enter the
//! race as they come (RFC 8305, section 3). Anything else (a literal address, a list) goes through
//! `tokio::net::lookup_host`, without any system call for a literal.
//!
//! Every socket is made by the blocking path's own functions
//! ([`ConnectorBuilder::prepare`], [`ListenerBuilder::bound_inet_as`] and
//! the rest), so each option and check
//! behaves the same in both; a TCP or UDP socket is nonblocking from
//! `socket(2)`, with no mode change after.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
#[cfg(unix)]
use std::path::Path;
use std::pin::{pin, Pin};
use std::task::Poll;

use ::tokio::net::{TcpListener, TcpStream, UdpSocket};
#[cfg(unix)]
use ::tokio::net::{UnixDatagram, UnixListener, UnixStream};
use socket2::{SockRef, Socket};

use super::lookup::Lookups;
use super::{gathered, no_answer, start, timed_out, Attempt, Attempts, Begun, ByName, Io, Next};
use crate::listener::listen;
use crate::options::{Options, Place};
use crate::resolve::{self, Named};
use crate::target::Given;
use crate::{
    Address, AsyncListener, AsyncStream, ConnectorBuilder, Endpoint, Error, Listener,
    ListenerBuilder, Result, ToSocketAddrs, Type, CONNECTOR_LOG, LISTENER_LOG,
};

/// The client side's async finishing calls.
impl ConnectorBuilder {
    /// Like [`connect`](Self::connect), without blocking: resolves `addr`,
    /// races its addresses as RFC 8305 describes, and returns the winner as
    /// a [`tokio::net::TcpStream`](::tokio::net::TcpStream).
    ///
    /// The steps are those of [`connect`](Self::connect), with the same
    /// options, checks and errors; only the waiting differs:
    /// 1. a name given as `"host:port"` or `(host, port)` is looked up once
    ///    per family that fits, both at once, with the builder's
    ///    [`resolver`](Self::resolver) or the system's, off the runtime's
    ///    threads; the race starts on the first IPv6 answer, or on an IPv4
    ///    answer after the [`resolution_delay`](Self::resolution_delay), and
    ///    a late answer joins the race under way; a family that fails only
    ///    shows in the `debug` log and, if every attempt fails, in the
    ///    error. A literal address needs no lookup; anything else is
    ///    resolved by [`tokio::net::lookup_host`](::tokio::net::lookup_host), as `connect` resolves it
    ///    with std;
    /// 2. each attempt's socket is created and configured like a blocking
    ///    attempt's (every option, the source address, the
    ///    [`configure`](Self::configure) hook), made nonblocking, and its
    ///    `connect(2)` started;
    /// 3. the pending sockets are registered with tokio's reactor and waited
    ///    for together, with a tokio timer for the connection attempt delay
    ///    and the [`connect_timeout`](Self::connect_timeout): the next
    ///    attempt starts when the delay has passed or at once when the
    ///    latest one fails, the first connection made wins, every other
    ///    socket is closed at once, and the timeout bounds the lookups and
    ///    the race together;
    /// 4. with one address, or [`happy_eyeballs(false)`](Self::happy_eyeballs),
    ///    the addresses are tried one after another, each bounded by the
    ///    connect timeout.
    ///
    /// The future is `Send` when `A` is `Sync`, and cancellation is safe:
    /// dropping it before it is done closes every socket it opened; a
    /// question of it still queued is dropped unasked, and a lookup already
    /// running ends on its pool thread once its answer comes (see
    /// [`MAX_LOOKUP_THREADS`](crate::MAX_LOOKUP_THREADS)). While it waits
    /// for a lookup, the future holds no descriptor.
    ///
    /// The stream is always nonblocking, as tokio needs
    /// ([`nonblocking`](Self::nonblocking) is not used). The read and write
    /// timeouts are set on the socket as for `connect`, but tokio's reads
    /// and writes never block, so they bound nothing here: use
    /// `tokio::time::timeout` for that.
    ///
    /// # Errors
    ///
    /// As for [`connect`](Self::connect), and [`Error::Register`] when no
    /// tokio runtime is running on this thread (found before any system
    /// call) or the reactor refuses a socket.
    ///
    /// # Panics
    ///
    /// As tokio's own `TcpStream::connect` and `tokio::time::sleep`: when
    /// the runtime was built without its I/O driver, or without its time
    /// driver and the call needs a timer (a race, or a connect timeout).
    /// `Runtime::new`, `#[tokio::main]` and `Builder::enable_all` have both.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwright::{ConnectorBuilder, ListenerBuilder};
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = ListenerBuilder::new().listen_async("127.0.0.1:0").await?;
    /// let mut client = ConnectorBuilder::new()
    ///     .connect_timeout(Duration::from_secs(2))
    ///     .nodelay(true)
    ///     .connect_async(listener.local_addr()?)
    ///     .await?;
    /// let (mut server, _) = listener.accept().await?;
    /// client.write_all(b"Hello from client").await?;
    /// let mut greeting = [0; 17];
    /// server.read_exact(&mut greeting).await?;
    /// assert_eq!(&greeting, b"Hello from client");
    /// # Ok(())
    /// # }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn connect_async<A>(&self, addr: A) -> Result<TcpStream>
    where
        A: ToSocketAddrs,
    {
        self.validate(Type::Stream, Place::Inet)?;
        self.race.validate()?;
        let target = Named {
            addr: &addr,
            log: CONNECTOR_LOG,
        };
        self.log_start(&target);
        let addrs = match self.by_name(&addr, Type::Stream) {
            Some(by) if by.race => {
                running(&target)?;
                let lookups = Lookups::start_in_task(&self.resolver, &by.name, &by.families);
                let attempts = Attempts::resolving(self, target, &by.name, by.port, &by.families);
                return race(self, attempts, Some(lookups)).await;
            }
            Some(by) => resolve::Addrs::Many(lookup_all(self, target, &by).await?),
            None => lookup(target, &self.opts).await?,
        };
        if self.races(target, addrs.len()) {
            return race(self, Attempts::new(self, target, &addrs), None).await;
        }
        let mut errors = Vec::new();
        for &addr in addrs.iter() {
            match race(self, Attempts::new(self, target, &[addr]), None).await {
                Ok(stream) => return Ok(stream),
                Err(err) => {
                    debug!("{err}");
                    errors.push(err);
                }
            }
        }
        Err(resolve::failure(target.to_string(), errors))
    }

    /// Like [`connect_udp`](Self::connect_udp), without blocking: a
    /// connected [`tokio::net::UdpSocket`](::tokio::net::UdpSocket), nonblocking.
    ///
    /// The socket is made as `connect_udp` makes it, with a nonblocking
    /// `connect(2)` (a datagram connect sends nothing, so it ends at once);
    /// a name is looked up per family with the builder's
    /// [`resolver`](Self::resolver) when one is set, as `connect_udp` does,
    /// and by [`tokio::net::lookup_host`](::tokio::net::lookup_host) otherwise.
    ///
    /// # Errors
    ///
    /// As for [`connect_udp`](Self::connect_udp) and
    /// [`connect_async`](Self::connect_async).
    ///
    /// # Panics
    ///
    /// As for [`connect_async`](Self::connect_async).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// let client = sockwright::ConnectorBuilder::new()
    ///     .connect_udp_async(server.local_addr()?)
    ///     .await?;
    /// client.send(b"ping").await?;
    /// let mut buf = [0; 8];
    /// let (n, from) = server.recv_from(&mut buf).await?;
    /// assert_eq!((&buf[..n], from), (&b"ping"[..], client.local_addr()?));
    /// # Ok(())
    /// # }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn connect_udp_async<A>(&self, addr: A) -> Result<UdpSocket>
    where
        A: ToSocketAddrs,
    {
        self.validate(Type::Datagram, Place::Inet)?;
        let target = Named {
            addr: &addr,
            log: CONNECTOR_LOG,
        };
        self.log_start(&target);
        let addrs = match self.by_name(&addr, Type::Datagram) {
            Some(by) => resolve::Addrs::Many(lookup_all(self, target, &by).await?),
            None => lookup(target, &self.opts).await?,
        };
        let mut errors = Vec::new();
        for &addr in addrs.iter() {
            let shown = Address::Inet(addr);
            let connected = match self.prepare(addr, &shown, Type::Datagram, true) {
                Ok(socket) => {
                    let begun = start(socket, &addr.into(), &shown);
                    self.established(begun, &shown, |s| {
                        register(UdpSocket::from_std(s.into()), &shown)
                    })
                    .await
                }
                Err(err) => Err(err),
            };
            match connected {
                Ok(socket) => return Ok(socket),
                Err(err) => {
                    debug!("{err}");
                    errors.push(err);
                }
            }
        }
        Err(resolve::failure(target.to_string(), errors))
    }

    /// Like [`connect_unix`](Self::connect_unix), without blocking: a
    /// [`tokio::net::UnixStream`](::tokio::net::UnixStream), nonblocking.
    ///
    /// # Errors
    ///
    /// As for [`connect_unix`](Self::connect_unix), and [`Error::Register`]
    /// as for [`connect_async`](Self::connect_async).
    ///
    /// # Platform-specific behavior
    ///
    /// Unix only. Where `connect_unix` waits for room in a server's full
    /// accept queue (Linux), this call fails at once with
    /// [`WouldBlock`](std::io::ErrorKind::WouldBlock), as the OS reports
    /// it for a nonblocking connect; BSDs and macOS refuse such a connect
    /// in both calls.
    ///
    /// # Panics
    ///
    /// As for [`connect_async`](Self::connect_async).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = std::env::temp_dir().join(format!("sockwright-doc-conn-async-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("server.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// let server = tokio::net::UnixListener::bind(&path)?;
    /// let stream = sockwright::ConnectorBuilder::new().connect_unix_async(&path).await?;
    /// let (_conn, _) = server.accept().await?;
    /// # drop(stream);
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(all(feature = "tokio", unix))))]
    pub async fn connect_unix_async<P: AsRef<Path>>(&self, path: P) -> Result<UnixStream> {
        let (sockaddr, shown) = self.unix_target(path.as_ref())?;
        running(&shown)?;
        self.log_start(&shown);
        let begun = self
            .prepare_unix(&shown, true)
            .and_then(|s| start(s, &sockaddr, &shown));
        self.established(begun, &shown, |s| {
            register(UnixStream::from_std(s.into()), &shown)
        })
        .await
    }

    /// Like [`connect_endpoint`](Self::connect_endpoint), without
    /// blocking: connects to an [`Endpoint`] with
    /// [`connect_async`](Self::connect_async) or
    /// [`connect_unix_async`](Self::connect_unix_async), and returns an
    /// [`AsyncStream`], tokio's TCP or Unix stream, nonblocking.
    ///
    /// Options that cannot act on the endpoint's transport are left out
    /// with one `debug` line each, as for `connect_endpoint`.
    ///
    /// # Errors
    ///
    /// As for [`connect_endpoint`](Self::connect_endpoint) and
    /// [`connect_async`](Self::connect_async).
    ///
    /// # Panics
    ///
    /// As for [`connect_async`](Self::connect_async).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{AsyncStream, ConnectorBuilder, Endpoint, ListenerBuilder};
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = ListenerBuilder::new().listen_endpoint_async(&"127.0.0.1:0".parse()?).await?;
    /// let endpoint: Endpoint = listener.local_addr()?.to_string().parse()?;
    /// let mut client = ConnectorBuilder::new().nodelay(true).connect_endpoint_async(&endpoint).await?;
    /// assert!(matches!(client, AsyncStream::Tcp(_)));
    /// let (mut conn, _) = listener.accept().await?;
    /// client.write_all(b"hi").await?;
    /// let mut buf = [0; 2];
    /// conn.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"hi");
    /// # Ok(())
    /// # }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn connect_endpoint_async(&self, endpoint: &Endpoint) -> Result<AsyncStream> {
        let builder = self.for_endpoint(endpoint)?;
        match endpoint {
            Endpoint::Inet(addr) => builder.connect_async(*addr).await.map(AsyncStream::Tcp),
            Endpoint::Host(host, port) => builder
                .connect_async((host.as_str(), *port))
                .await
                .map(AsyncStream::Tcp),
            #[cfg(unix)]
            Endpoint::Unix(path) => builder
                .connect_unix_async(path)
                .await
                .map(AsyncStream::Unix),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Endpoint::Abstract(name) => builder
                .connect_unix_async(crate::listener::abstract_path(name.as_bytes()))
                .await
                .map(AsyncStream::Unix),
            _ => Err(crate::connector::unsupported_endpoint(endpoint)),
        }
    }

    /// Finishes a connect that [`start`] began on a socket of its own (not
    /// a race): registers the socket with tokio, waits (bounded by the
    /// connect timeout) if the connect is still under way, then finishes it
    /// like any connected socket.
    async fn established<S: Writable>(
        &self,
        begun: Result<Begun>,
        shown: &Address,
        register: impl FnOnce(Socket) -> Result<S>,
    ) -> Result<S> {
        let (socket, under_way) = match begun? {
            Begun::Connected(socket) => (socket, false),
            Begun::Pending(socket) => (socket, true),
        };
        let stream = register(socket)?;
        if under_way {
            let waited = match self.timeout() {
                Some(timeout) => ::tokio::time::timeout(timeout, stream.writable())
                    .await
                    .unwrap_or_else(|_| Err(timed_out(timeout))),
                None => stream.writable().await,
            };
            waited
                .and_then(|()| ended(stream.sock_ref()))
                .map_err(|source| Error::Connect {
                    addr: shown.clone(),
                    error: source,
                })?;
        }
        self.connected(&stream.sock_ref(), shown, true, Io::Async)?;
        Ok(stream)
    }
}

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
        self.opts.validate(Type::Stream, Place::Inet)?;
        let backlog = self.backlog_int()?;
        let target = Named {
            addr: &addr,
            log: LISTENER_LOG,
        };
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
        let target = Named {
            addr: &addr,
            log: LISTENER_LOG,
        };
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
    /// [`accept`](AsyncListener::accept) gives an [`AsyncStream`] (tokio's
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
        match endpoint {
            Endpoint::Inet(addr) => builder.listen_async(*addr).await.map(AsyncListener::tcp),
            Endpoint::Host(host, port) => builder
                .listen_all_async((host.as_str(), *port))
                .await
                .map(AsyncListener::tcp_all),
            #[cfg(unix)]
            Endpoint::Unix(path) => builder
                .listen_unix_async(path)
                .await
                .map(AsyncListener::unix),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Endpoint::Abstract(name) => builder
                .listen_unix_async(crate::listener::abstract_path(name.as_bytes()))
                .await
                .map(AsyncListener::unix),
            Endpoint::Inherited(_) | Endpoint::Fd(_) => {
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
            // Unix endpoints where the platform has no such socket.
            #[allow(unreachable_patterns)]
            _ => Err(crate::connector::unsupported_endpoint(endpoint)),
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
        let target = Named {
            addr: &addr,
            log: LISTENER_LOG,
        };
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
        self.opts
            .validate(Type::Stream, Place::Unix(path.as_ref()))?;
        let backlog = self.backlog_int()?;
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

/// Runs a race to its end in tokio's reactor and returns the first
/// connected stream, or every attempt's error in the order tried. While a
/// name is being resolved (`lookups`), its answers are waited for in the
/// same poll and given to the race as they come. A race of one address is a
/// single attempt bounded by the connect timeout.
async fn race<T: fmt::Display>(
    builder: &ConnectorBuilder,
    mut attempts: Attempts<'_, T>,
    mut lookups: Option<Lookups>,
) -> Result<TcpStream> {
    let mut pending: Vec<Attempt<TcpStream>> = Vec::new();
    loop {
        let wait = match attempts.next() {
            Next::Won(winner) => {
                let winner = registered(winner)?;
                return won(builder, attempts, winner, pending);
            }
            Next::Pending(attempt) => {
                pending.push(registered(attempt)?);
                continue;
            }
            Next::Wait(wait) => wait,
            Next::Over => return Err(attempts.lost(pending)),
        };
        let mut timer = pin!(wait.map(::tokio::time::sleep));
        // Ready when an attempt has ended (the winner, or a failure that may
        // make the next attempt due at once), an answer came, or the wait is over.
        let waited = poll_fn(|cx| {
            let mut answered = false;
            if let Some(lookups) = lookups.as_mut() {
                for (family, answer) in lookups.poll_take(cx) {
                    attempts.answered(family, answer);
                    answered = true;
                }
            }
            let before = pending.len();
            let settled = attempts.settle(std::mem::take(&mut pending), |attempt| {
                match attempt.socket.poll_write_ready(cx) {
                    Poll::Pending => None,
                    Poll::Ready(Ok(())) => Some(ended(SockRef::from(&attempt.socket))),
                    Poll::Ready(Err(e)) => Some(Err(e)),
                }
            });
            pending = settled.pending;
            if settled.winner.is_some() || pending.len() < before || answered {
                return Poll::Ready(Ok(settled.winner));
            }
            match timer.as_mut().as_pin_mut().map(|timer| timer.poll(cx)) {
                Some(Poll::Ready(())) => Poll::Ready(Ok(None)),
                _ => Poll::Pending,
            }
        })
        .await;
        match waited {
            Ok(Some(winner)) => return won(builder, attempts, winner, pending),
            Ok(None) => {}
            Err(source) => return Err(attempts.wait_failed(&pending, source)),
        }
    }
}

/// Looks up `by` in each of its families at the same time and returns
/// every address once all answered, as the blocking connect does for the
/// sequential mode and datagram sockets (see [`gathered`]). The connect
/// timeout bounds the wait.
async fn lookup_all<A>(
    builder: &ConnectorBuilder,
    target: Named<'_, A>,
    by: &ByName,
) -> Result<Vec<SocketAddr>>
where
    A: ToSocketAddrs + ?Sized,
{
    running(&target)?;
    let shown = target.to_string();
    let mut lookups = Lookups::start_in_task(&builder.resolver, &by.name, &by.families);
    let deadline = builder
        .timeout()
        .and_then(|t| crate::deadline::deadline(::tokio::time::Instant::now().into_std(), t))
        .map(::tokio::time::Instant::from_std);
    let mut answers = Vec::new();
    while answers.len() < by.families.len() {
        let next = poll_fn(|cx| match lookups.poll_take(cx) {
            new if new.is_empty() => Poll::Pending,
            new => Poll::Ready(new),
        });
        let new = match deadline {
            Some(deadline) => ::tokio::time::timeout_at(deadline, next)
                .await
                .map_err(|_| no_answer(&shown))?,
            None => next.await,
        };
        answers.extend(new);
    }
    gathered(builder, &shown, &by.name, by.port, answers)
}

/// Hands an attempt's socket to tokio's reactor.
fn registered(attempt: Attempt<Socket>) -> Result<Attempt<TcpStream>> {
    let Attempt {
        index,
        addr,
        socket,
    } = attempt;
    let socket = register(TcpStream::from_std(socket.into()), &Address::Inet(addr))?;
    Ok(Attempt {
        index,
        addr,
        socket,
    })
}

/// Closes the losers at once and finishes the winner like any connected
/// socket, leaving it nonblocking.
fn won<T: fmt::Display>(
    builder: &ConnectorBuilder,
    attempts: Attempts<'_, T>,
    winner: Attempt<TcpStream>,
    losers: Vec<Attempt<TcpStream>>,
) -> Result<TcpStream> {
    attempts.won(&winner, losers);
    let shown = Address::Inet(winner.addr);
    let socket = SockRef::from(&winner.socket);
    // As in the blocking driver: a self-connect (an ephemeral source port
    // that met itself) fails the attempt rather than returning an echo.
    builder.check_self_connect(&socket, winner.addr)?;
    builder.connected(&socket, &shown, true, Io::Async)?;
    Ok(winner.socket)
}

/// Resolves `target` without blocking the runtime and keeps the addresses
/// the configuration can use; first checks that a runtime is running, since
/// tokio's resolver and reactor need one, and that a string names a port.
async fn lookup<A>(target: Named<'_, A>, opts: &Options) -> Result<resolve::Addrs>
where
    A: ToSocketAddrs + ?Sized,
{
    running(&target)?;
    let given = target.addr.given();
    let Given::Name(host, port) = given else {
        return resolve::usable(
            target,
            resolve::literal(target, &given)?.iter().copied(),
            opts,
        );
    };
    let found = ::tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| resolve::resolve_error(target, source))?;
    resolve::usable(target, found, opts)
}

/// Whether a tokio runtime is running on this thread: without one, tokio
/// panics where this returns [`Error::Register`].
fn running(target: &impl fmt::Display) -> Result<()> {
    ::tokio::runtime::Handle::try_current()
        .map(drop)
        .map_err(|e| Error::Register {
            target: target.to_string(),
            error: io::Error::other(e),
        })
}

/// The result of tokio's `from_std`, as this crate's error.
fn register<T>(made: io::Result<T>, shown: &Address) -> Result<T> {
    made.map_err(|source| Error::Register {
        target: shown.to_string(),
        error: source,
    })
}

/// `O_NONBLOCK`, which tokio needs, whatever the builder's `nonblocking`
/// says: one `ioctl(FIONBIO)` (`ioctlsocket`), not an `fcntl` pair.
#[cfg(unix)]
fn nonblocking(socket: &Socket, shown: &Address) -> Result<()> {
    crate::options::set_result(
        "O_NONBLOCK",
        shown,
        crate::sys::set_nonblocking(socket, true),
    )
}

/// How a connect that tokio reports writable ended: its pending error
/// (`SO_ERROR`), if it has one, and connected otherwise, as tokio's own
/// connect reads it. Write readiness on a connecting socket comes only once
/// the connect is over, so on success this is one `getsockopt` and the peer
/// is not read back.
fn ended(socket: SockRef<'_>) -> io::Result<()> {
    match socket.take_error()? {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// The tokio sockets whose connect [`ConnectorBuilder::established`] waits
/// for. A datagram or Unix-domain connect ends at once on the OSes this
/// crate knows, so the wait (boxed, to name its type) is for a connect that
/// a signal interrupted.
trait Writable {
    /// Waits until the socket is writable: for a connecting socket, until
    /// the connect has ended.
    fn writable(&self) -> Pin<Box<dyn Future<Output = io::Result<()>> + Send + '_>>;
    /// The socket, for the options and `SO_ERROR`.
    fn sock_ref(&self) -> SockRef<'_>;
}

macro_rules! writable {
    ($($ty:ty),*) => {$(
        impl Writable for $ty {
            fn writable(&self) -> Pin<Box<dyn Future<Output = io::Result<()>> + Send + '_>> {
                Box::pin(<$ty>::writable(self))
            }
            fn sock_ref(&self) -> SockRef<'_> {
                SockRef::from(self)
            }
        }
    )*};
}

writable!(UdpSocket);
#[cfg(unix)]
writable!(UnixStream);

#[cfg(test)]
mod tests {
    use super::*;

    fn is_send<T: Send>(_: &T) {}

    #[test]
    fn the_futures_are_send() {
        let connector = ConnectorBuilder::new();
        let listener = ListenerBuilder::new();
        is_send(&connector.connect_async("localhost:80"));
        is_send(&connector.connect_udp_async("127.0.0.1:9"));
        is_send(&listener.listen_async("127.0.0.1:0"));
        let endpoint: Endpoint = "localhost:0".parse().unwrap();
        is_send(&listener.listen_all_async("localhost:0"));
        is_send(&listener.listen_endpoint_async(&endpoint));
        is_send(&connector.connect_endpoint_async(&endpoint));
        is_send(&listener.bind_udp_async(String::from("127.0.0.1:0")));
        #[cfg(unix)]
        {
            is_send(&connector.connect_unix_async("/nonexistent"));
            is_send(&listener.listen_unix_async("/nonexistent"));
            is_send(&listener.bind_unix_datagram_async("/nonexistent"));
        }
    }
}
