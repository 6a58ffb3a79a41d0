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
//! once per family by the blocking path's own [`Lookups`] (their threads,
//! or the builder's resolver), whose wake socket tokio's reactor watches
//! through a copy, so the answers enter the race as they come (RFC 8305,
//! section 3). Anything else (a literal address, a list) goes through
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
use std::task::{Context, Poll};

use ::tokio::net::{TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
#[cfg(unix)]
use ::tokio::net::{UnixDatagram, UnixListener, UnixStream};
use socket2::{SockRef, Socket};

use super::lookup::{Answer, Lookups};
use super::{gathered, no_answer, start, timed_out, Attempt, Attempts, Begun, ByName, Io, Next};
use crate::listener::listen;
use crate::options::{Options, Place};
use crate::resolve::{self, Named};
use crate::{
    Address, ConnectorBuilder, Error, ListenerBuilder, Result, Type, CONNECTOR_LOG, LISTENER_LOG,
};

/// The client side's async finishing calls.
impl ConnectorBuilder {
    /// Like [`connect`](Self::connect), without blocking: resolves `addr`,
    /// races its addresses as RFC 8305 describes, and returns the winner as
    /// a [`tokio::net::TcpStream`].
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
    ///    resolved by [`tokio::net::lookup_host`], as `connect` resolves it
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
    /// lookup still running ends on its own thread once its answer comes.
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
        A: ToSocketAddrs + fmt::Debug,
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
                let lookups = Woken::start(self, &target.to_string(), &by)?;
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
    /// connected [`tokio::net::UdpSocket`], nonblocking.
    ///
    /// The socket is made as `connect_udp` makes it, with a nonblocking
    /// `connect(2)` (a datagram connect sends nothing, so it ends at once);
    /// a name is looked up per family with the builder's
    /// [`resolver`](Self::resolver) when one is set, as `connect_udp` does,
    /// and by [`tokio::net::lookup_host`] otherwise.
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
        A: ToSocketAddrs + fmt::Debug,
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
    /// [`tokio::net::UnixStream`], nonblocking.
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
                    source,
                })?;
        }
        self.connected(&stream.sock_ref(), shown, true, Io::Async)?;
        Ok(stream)
    }
}

/// The server side's async finishing calls.
impl ListenerBuilder {
    /// Like [`listen`](Self::listen), without blocking: a
    /// [`tokio::net::TcpListener`], nonblocking whatever
    /// [`nonblocking`](Self::nonblocking) says, so tokio never meets a
    /// blocking socket.
    ///
    /// The socket is made as `listen` makes it (every option, `bind`,
    /// `listen` with the backlog), nonblocking from `socket(2)` where the OS
    /// allows (so a [`configure`](Self::configure) hook sees it
    /// nonblocking); a name is resolved by [`tokio::net::lookup_host`].
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
        A: ToSocketAddrs + fmt::Debug,
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

    /// Like [`bind_udp`](Self::bind_udp), without blocking: a
    /// [`tokio::net::UdpSocket`], nonblocking.
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
        A: ToSocketAddrs + fmt::Debug,
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
    /// [`tokio::net::UnixListener`], nonblocking.
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
    /// blocking: a [`tokio::net::UnixDatagram`], nonblocking.
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
    mut lookups: Option<Woken>,
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
                match lookups.poll_take(cx) {
                    Ok(answers) => {
                        for (family, answer) in answers {
                            attempts.answered(family, answer);
                            answered = true;
                        }
                    }
                    Err(err) => return Poll::Ready(Err(err)),
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

/// The per-family lookups of a name, with a copy of their wake socket
/// registered with tokio's reactor, so that an answer wakes the task that
/// waits for it and no runtime thread blocks. Dropping it drops the lookups
/// and closes both sockets; a lookup still running ends on its own thread.
struct Woken {
    lookups: Lookups,
    #[cfg(unix)]
    wake: UnixStream,
    #[cfg(windows)]
    wake: UdpSocket,
}

impl Woken {
    /// Starts the lookups of `by` with the builder's resolver.
    fn start(builder: &ConnectorBuilder, target: &str, by: &ByName) -> Result<Woken> {
        let lookups = builder.start_lookups(target, &by.name, &by.families)?;
        // A duplicate of the nonblocking reading end: the lookups keep theirs.
        let copy = lookups.wake_socket().try_clone();
        #[cfg(unix)]
        let wake = copy.and_then(|s| UnixStream::from_std(s.into()));
        #[cfg(windows)]
        let wake = copy.and_then(|s| UdpSocket::from_std(s.into()));
        let wake = wake.map_err(|source| Error::Register {
            target: target.to_owned(),
            source,
        })?;
        Ok(Woken { lookups, wake })
    }

    /// The answers that came since the last call (none yet: an empty list,
    /// and the task is woken when one comes). The wake socket is drained
    /// through tokio, which clears its readiness, before the answers are taken.
    fn poll_take(&mut self, cx: &mut Context<'_>) -> io::Result<Vec<Answer>> {
        let mut woken = false;
        while let Poll::Ready(ready) = self.poll_readable(cx) {
            ready?;
            woken = true;
            if self.drain()? {
                break;
            }
        }
        Ok(if woken {
            self.lookups.take()
        } else {
            Vec::new()
        })
    }

    #[cfg(unix)]
    fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.wake.poll_read_ready(cx)
    }

    #[cfg(windows)]
    fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.wake.poll_recv_ready(cx)
    }

    /// Reads the wake bytes until tokio sees `WouldBlock`; `true` at the
    /// end of the stream, which cannot come while the lookups hold the
    /// writing end.
    fn drain(&self) -> io::Result<bool> {
        let mut buf = [0u8; 16];
        loop {
            #[cfg(unix)]
            let read = self.wake.try_read(&mut buf);
            #[cfg(windows)]
            let read = self.wake.try_recv(&mut buf);
            match read {
                Ok(0) => return Ok(true),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
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
    A: fmt::Debug,
{
    running(&target)?;
    let shown = target.to_string();
    let mut lookups = Woken::start(builder, &shown, by)?;
    let deadline = builder
        .timeout()
        .and_then(|t| ::tokio::time::Instant::now().checked_add(t));
    let mut answers = Vec::new();
    while answers.len() < by.families.len() {
        let next = poll_fn(|cx| match lookups.poll_take(cx) {
            Ok(new) if new.is_empty() => Poll::Pending,
            other => Poll::Ready(other),
        });
        let new = match deadline {
            Some(deadline) => ::tokio::time::timeout_at(deadline, next)
                .await
                .map_err(|_| no_answer(&shown))?,
            None => next.await,
        };
        answers.extend(new.map_err(|source| Error::Resolve {
            target: shown.clone(),
            family: None,
            source,
        })?);
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
    A: ToSocketAddrs + fmt::Debug,
{
    running(&target)?;
    resolve::port_given(target.addr, target)?;
    let found = ::tokio::net::lookup_host(target.addr)
        .await
        .map_err(|source| Error::Resolve {
            target: target.to_string(),
            family: None,
            source,
        })?;
    resolve::usable(target, found, opts)
}

/// Whether a tokio runtime is running on this thread: without one, tokio
/// panics where this returns [`Error::Register`].
fn running(target: &impl fmt::Display) -> Result<()> {
    ::tokio::runtime::Handle::try_current()
        .map(drop)
        .map_err(|e| Error::Register {
            target: target.to_string(),
            source: io::Error::other(e),
        })
}

/// The result of tokio's `from_std`, as this crate's error.
fn register<T>(made: io::Result<T>, shown: &Address) -> Result<T> {
    made.map_err(|source| Error::Register {
        target: shown.to_string(),
        source,
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
        is_send(&listener.bind_udp_async(String::from("127.0.0.1:0")));
        #[cfg(unix)]
        {
            is_send(&connector.connect_unix_async("/nonexistent"));
            is_send(&listener.listen_unix_async("/nonexistent"));
            is_send(&listener.bind_unix_datagram_async("/nonexistent"));
        }
    }
}
