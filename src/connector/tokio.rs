//! The async twins of [`ConnectorBuilder`]'s finishing calls, on tokio:
//! `connect_async`, `connect_udp_async`, `connect_unix_async` and
//! `connect_endpoint_async`.
//!
//! The race is the one [`ConnectorBuilder::connect`] runs, through the same
//! [`Attempts`], driven by `race::tokio`. Nothing blocks a runtime thread:
//! the sockets are nonblocking from the start, and a name given as
//! `"host:port"` or `(host, port)` is looked up once per family by the
//! blocking path's own [`Lookups`] (the process-wide lookup pool, with the
//! system's or the builder's resolver), which wake the task through its
//! waker, without any descriptor, so the answers enter the race as they
//! come (RFC 8305, section 3). Anything else (a literal address, a list)
//! goes through `tokio::net::lookup_host`, without any system call for a
//! literal.
//!
//! Every socket is made by the blocking path's own functions
//! ([`ConnectorBuilder::prepare`] and the rest), so each option and check
//! behaves the same in both; a TCP or UDP socket is nonblocking from
//! `socket(2)`, with no mode change after.

use std::future::Future;
use std::io;
#[cfg(unix)]
use std::path::Path;
use std::pin::Pin;

#[cfg(unix)]
use ::tokio::net::UnixStream;
use ::tokio::net::{TcpStream, UdpSocket};
use socket2::{SockRef, Socket};

use crate::connector::attempt::{Begun, IoMode, start, timed_out};
use crate::connector::report::OneAtATime;
use crate::endpoint::Opens;
use crate::listener::tokio::register;
use crate::race::attempts::Attempts;
use crate::race::report::ConnectReport;
use crate::race::tokio::{ended, lookup_all, race};
use crate::resolve::lookup::Lookups;
use crate::resolve::tokio::{lookup, running};
use crate::resolve::{self, NamedTarget};
use crate::{
    Address, AsyncStream, CONNECTOR_LOG, ConnectorBuilder, Endpoint, Error, Result, ToSocketAddrs,
    Type,
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
        self.connect_stream_async(addr, false)
            .await
            .map(|(stream, _)| stream)
    }

    /// Like [`connect_with_report`](Self::connect_with_report), without
    /// blocking: connects as [`connect_async`](Self::connect_async) does
    /// and returns the stream with a [`ConnectReport`] of what happened
    /// (the same report, recorded by the same race runner).
    ///
    /// # Errors
    ///
    /// As for [`connect_async`](Self::connect_async), except that once an
    /// attempt was made the error is always an [`Error::AllAttemptsFailed`]
    /// carrying the report ([`Error::report`]), even for one address, as
    /// [`connect_with_report`](Self::connect_with_report) says.
    ///
    /// # Panics
    ///
    /// As [`connect_async`](Self::connect_async).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::ConnectorBuilder;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let (stream, report) = ConnectorBuilder::new()
    ///     .connect_async_with_report(listener.local_addr()?)
    ///     .await?;
    /// assert_eq!(report.winner().map(|a| a.addr()), Some(stream.peer_addr()?));
    /// println!("{report}");
    /// # Ok(())
    /// # }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn connect_async_with_report<A>(&self, addr: A) -> Result<(TcpStream, ConnectReport)>
    where
        A: ToSocketAddrs,
    {
        self.connect_stream_async(addr, true).await
    }

    /// The connect of both [`connect_async`](Self::connect_async) and
    /// [`connect_async_with_report`](Self::connect_async_with_report), as
    /// [`connect_stream`](Self::connect_stream) is of the blocking pair.
    async fn connect_stream_async(
        &self,
        addr: impl ToSocketAddrs,
        reporting: bool,
    ) -> Result<(TcpStream, ConnectReport)> {
        self.validate_inet(Type::Stream)?;
        let target = NamedTarget::new(&addr, CONNECTOR_LOG);
        self.log_start(&target);
        // Read only for a report, as in the blocking connect.
        let began = reporting.then(std::time::Instant::now);
        let by = self.by_name(&addr, Type::Stream);
        if let Some(by) = by.as_ref().filter(|by| by.race) {
            running(&target)?;
            let lookups = Lookups::start_in_task(&self.resolver, &by.name, &by.families);
            let attempts = Attempts::resolving(self, target, &by.name, by.port, &by.families)
                .reporting(reporting);
            return race(self, attempts, Some(lookups)).await;
        }
        let mut tried = OneAtATime::new(target, began);
        let addrs = match by {
            // The report, where there is one, records the lookups too.
            Some(by) => {
                let report = tried.report.as_deref_mut();
                resolve::Addrs::Many(lookup_all(self, target, &by, report).await?)
            }
            None => lookup(target, &self.opts).await?,
        };
        if self.races(target, addrs.len()) {
            let attempts = Attempts::new(self, target, &addrs).reporting(reporting);
            return race(self, attempts, None).await;
        }
        // One address at a time, each recorded as it ends.
        for (index, &addr) in addrs.iter().enumerate() {
            let started = tried.clock();
            let made = race(self, Attempts::new(self, target, &[addr]), None)
                .await
                .map(|(stream, _)| stream);
            if let Some(stream) = tried.ended(index, addr, started, made) {
                // Without a report asked for, an empty one, which
                // `connect_async` drops.
                let report = tried
                    .report
                    .map_or_else(ConnectReport::empty, |report| *report);
                return Ok((stream, report));
            }
        }
        Err(tried.failure())
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
        // The race settings too, as `connect_udp` checks them: they order a
        // name's addresses here as well.
        self.validate_inet(Type::Datagram)?;
        let target = NamedTarget::new(&addr, CONNECTOR_LOG);
        self.log_start(&target);
        let addrs = match self.by_name(&addr, Type::Datagram) {
            Some(by) => resolve::Addrs::Many(lookup_all(self, target, &by, None).await?),
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
                    connector_debug!("{err}");
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
        match endpoint.opens()? {
            Opens::Inet(addr) => builder.connect_async(addr).await.map(AsyncStream::Tcp),
            Opens::Host(host) => builder.connect_async(host).await.map(AsyncStream::Tcp),
            #[cfg(unix)]
            Opens::Unix(path) => builder
                .connect_unix_async(path)
                .await
                .map(AsyncStream::Unix),
            Opens::Passed => Err(crate::connector::cannot_connect(endpoint)),
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
        self.connected(&stream.sock_ref(), shown, true, IoMode::Async)?;
        Ok(stream)
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
    use crate::ListenerBuilder;

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
