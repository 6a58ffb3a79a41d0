//! The client side: `socket → setsockopt → [bind] → connect`.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
#[cfg(unix)]
use std::path::Path;
use std::time::Duration;

use log::{debug, log_enabled, Level};
use socket2::{SockAddr, Socket};

use crate::options::{self, common_setters, set_result, Options};
use crate::{
    happy_eyeballs, race, resolve, sys, Address, Domain, Error, Keepalive, Result, Type,
    CONNECTOR_LOG,
};

/// Builds client sockets: `socket(2)`, one `setsockopt(2)` per option, an
/// optional `bind(2)` to a source address, then `connect(2)`.
///
/// Configure with the setters (each takes `&mut self` and returns `&mut Self`),
/// then call a finishing method: [`connect`](Self::connect) for a
/// [`TcpStream`], [`connect_udp`](Self::connect_udp) for a connected
/// [`UdpSocket`], and on Unix [`connect_unix`](Self::connect_unix). A
/// finishing method takes `&self`, creates a fresh socket for every address
/// it tries (a socket whose connect failed is not reused), and can be called
/// again.
///
/// | C tutorial | builder |
/// |---|---|
/// | `socket(AF_INET, SOCK_STREAM, 0)` | inferred from the address, or [`domain`](Self::domain), [`socket_type`](Self::socket_type), [`protocol`](Self::protocol) |
/// | `inet_pton` + `connect` | the address given to the finishing call, resolved like std's `ToSocketAddrs` |
/// | `printf("Connection Failed")` | an [`Error`] naming the address and the OS reason |
///
/// Defaults: every option unset (the OS default), no source address, no
/// connect timeout (the OS's own, over two minutes on Linux), no read or
/// write timeout, blocking mode, and a TCP connect to a name with several
/// addresses races them as RFC 8305 describes ([`happy_eyeballs`](Self::happy_eyeballs):
/// IPv6 first, 250 ms between attempts).
///
/// Options this builder does not cover can be set on the returned value with
/// `socket2::SockRef::from(&stream)`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sockwright::ConnectorBuilder;
///
/// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let stream = ConnectorBuilder::new()
///     .connect_timeout(Duration::from_secs(2))
///     .nodelay(true)
///     .connect(server.local_addr()?)?;
/// assert_eq!(stream.peer_addr()?, server.local_addr()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ConnectorBuilder {
    opts: Options,
    local_v4: Option<SocketAddr>,
    local_v6: Option<SocketAddr>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    nodelay: Option<bool>,
    keepalive: Option<Keepalive>,
    linger: Option<Option<Duration>>,
    race: race::Settings,
}

impl ConnectorBuilder {
    /// A builder with every option unset (the OS default), no source address,
    /// no timeouts, blocking mode; the domain, type and protocol are inferred
    /// from each address and the finishing call; a TCP connect to several
    /// addresses races them ([`happy_eyeballs`](Self::happy_eyeballs) on,
    /// [`DEFAULT_CONNECTION_ATTEMPT_DELAY`](Self::DEFAULT_CONNECTION_ATTEMPT_DELAY),
    /// IPv6 first, first address family count 1).
    ///
    /// # Examples
    ///
    /// ```
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = sockwright::ConnectorBuilder::new().connect(server.local_addr()?)?;
    /// # drop(stream);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> ConnectorBuilder {
        ConnectorBuilder::default()
    }

    common_setters!(
        "ConnectorBuilder",
        "# let server = std::net::TcpListener::bind(\"127.0.0.1:0\")?;",
        ".connect(server.local_addr()?)",
        "# let server = std::net::TcpListener::bind(\"[::1]:0\")?;",
        ".connect(server.local_addr()?)"
    );

    /// Binds the socket to this local (source) address before connecting.
    ///
    /// Port 0 lets the OS pick the port. One address of each family can be
    /// set (a second call with the same family replaces the first); each
    /// connection attempt uses the one of its own family, and an address of a
    /// family with no source address set fails with [`Error::InvalidConfig`].
    /// Combine with [`reuse_address`](Self::reuse_address) to reuse a fixed
    /// source port quickly.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::ConnectorBuilder;
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = ConnectorBuilder::new()
    ///     .local_address("127.0.0.1:0".parse()?)
    ///     .connect(server.local_addr()?)?;
    /// let (_conn, peer) = server.accept()?;
    /// assert_eq!(peer, stream.local_addr()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn local_address(&mut self, addr: SocketAddr) -> &mut Self {
        match addr {
            SocketAddr::V4(_) => self.local_v4 = Some(addr),
            SocketAddr::V6(_) => self.local_v6 = Some(addr),
        }
        self
    }

    /// Bounds each connection attempt: the connect fails with
    /// [`io::ErrorKind::TimedOut`](std::io::ErrorKind::TimedOut) once it has
    /// waited this long.
    ///
    /// Default: none (the OS decides; over two minutes on Linux). Zero is an
    /// [`Error::InvalidConfig`]. When a name resolves to several addresses,
    /// the timeout bounds the whole Happy Eyeballs race (the default), or
    /// applies to each attempt with [`happy_eyeballs(false)`](Self::happy_eyeballs).
    /// The wait is never shorter than the timeout, and at most a few
    /// milliseconds longer.
    ///
    /// # Platform-specific behavior
    ///
    /// For a Unix path ([`connect_unix`](Self::connect_unix)), the connect
    /// waits while the server's accept queue is full, bounded by this
    /// timeout through `SO_SNDTIMEO` (Linux); BSDs and macOS refuse such a
    /// connect at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = sockwright::ConnectorBuilder::new()
    ///     .connect_timeout(Duration::from_millis(500))
    ///     .connect(server.local_addr()?)?;
    /// # drop(stream);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Sets `SO_RCVTIMEO`: a blocking read waits at most this long.
    ///
    /// Default: none (wait forever). Zero is an [`Error::InvalidConfig`]. It
    /// is set once the socket is connected.
    ///
    /// # Platform-specific behavior
    ///
    /// The OS holds whole microseconds (Unix) or milliseconds (Windows); a
    /// finer timeout is rounded up, never down to "no timeout". Linux also
    /// rounds up to its clock tick (a few milliseconds).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = sockwright::ConnectorBuilder::new()
    ///     .read_timeout(Duration::from_secs(5))
    ///     .connect(server.local_addr()?)?;
    /// assert_eq!(stream.read_timeout()?, Some(Duration::from_secs(5)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// Sets `SO_SNDTIMEO`: a blocking write waits at most this long.
    ///
    /// Default: none (wait forever). Zero is an [`Error::InvalidConfig`]. It
    /// is set once the socket is connected, so it never bounds the connect
    /// itself (Linux would end a blocking connect after `SO_SNDTIMEO` with
    /// "operation now in progress"); use
    /// [`connect_timeout`](Self::connect_timeout) for that.
    ///
    /// # Platform-specific behavior
    ///
    /// As for [`read_timeout`](Self::read_timeout): rounded up to whole
    /// microseconds (Unix) or milliseconds (Windows).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = sockwright::ConnectorBuilder::new()
    ///     .write_timeout(Duration::from_secs(5))
    ///     .connect(server.local_addr()?)?;
    /// assert_eq!(stream.write_timeout()?, Some(Duration::from_secs(5)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.write_timeout = Some(timeout);
        self
    }

    /// Sets `TCP_NODELAY`: send small writes at once instead of waiting
    /// to coalesce them (Nagle's algorithm off).
    ///
    /// Default: not set (the OS default, Nagle on). TCP only: with a datagram
    /// or Unix socket it is an [`Error::InvalidConfig`].
    ///
    /// # Examples
    ///
    /// ```
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = sockwright::ConnectorBuilder::new().nodelay(true).connect(server.local_addr()?)?;
    /// assert!(stream.nodelay()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn nodelay(&mut self, nodelay: bool) -> &mut Self {
        self.nodelay = Some(nodelay);
        self
    }

    /// Turns TCP keepalive on (`SO_KEEPALIVE`) with the given parameters.
    ///
    /// Default: not set (the OS default, off). TCP only.
    ///
    /// # Platform-specific behavior
    ///
    /// See [`Keepalive`] for which parameters each OS has.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwright::{ConnectorBuilder, Keepalive};
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = ConnectorBuilder::new()
    ///     .keepalive(Keepalive::new().time(Duration::from_secs(60)))
    ///     .connect(server.local_addr()?)?;
    /// assert!(socket2::SockRef::from(&stream).keepalive()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keepalive(&mut self, keepalive: Keepalive) -> &mut Self {
        self.keepalive = Some(keepalive);
        self
    }

    /// Sets `SO_LINGER`: `Some(d)` makes `close` wait up to `d` for unsent
    /// data; `Some(Duration::ZERO)` makes it reset the connection at once;
    /// `None` turns lingering off.
    ///
    /// Default: not set (the OS default, off). TCP and Unix streams only:
    /// with a datagram socket it is an [`Error::InvalidConfig`].
    ///
    /// `SO_LINGER` counts whole seconds, so a fraction is rounded up: a short
    /// linger never becomes the zero that resets the connection.
    ///
    /// # Platform-specific behavior
    ///
    /// The OS holds at most `i32::MAX` seconds (65,535 on Windows); a longer
    /// linger is an [`Error::InvalidConfig`] before any system call.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = sockwright::ConnectorBuilder::new()
    ///     .linger(Some(Duration::from_secs(1)))
    ///     .connect(server.local_addr()?)?;
    /// assert_eq!(socket2::SockRef::from(&stream).linger()?, Some(Duration::from_secs(1)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn linger(&mut self, linger: Option<Duration>) -> &mut Self {
        self.linger = Some(linger);
        self
    }

    /// The wait between the start of one connection attempt and the next in
    /// a Happy Eyeballs connect, unless
    /// [`connection_attempt_delay`](Self::connection_attempt_delay) says
    /// otherwise: 250 ms, the value RFC 8305 recommends.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwright::ConnectorBuilder;
    ///
    /// assert_eq!(ConnectorBuilder::DEFAULT_CONNECTION_ATTEMPT_DELAY, Duration::from_millis(250));
    /// ```
    pub const DEFAULT_CONNECTION_ATTEMPT_DELAY: Duration = race::DEFAULT_DELAY;

    /// Races the addresses of a name as RFC 8305 ("Happy Eyeballs")
    /// describes, or, with `false`, tries them one at a time.
    ///
    /// Default: on. It only changes anything when a target resolves to more
    /// than one address; one address is always a single plain `connect(2)`.
    ///
    /// The race, for [`connect`](Self::connect):
    /// 1. the addresses are put in an interleaved order: the first
    ///    [`first_address_family_count`](Self::first_address_family_count)
    ///    addresses (default 1) of the [`preferred_family`](Self::preferred_family)
    ///    (default IPv6), then one of the other family and one of the
    ///    preferred family in turn; within a family the resolver's order is kept;
    /// 2. the first attempt starts (a socket prepared with every option, like
    ///    a sequential attempt, then a nonblocking `connect(2)`); the next one
    ///    starts [`connection_attempt_delay`](Self::connection_attempt_delay)
    ///    later (default 250 ms), or at once if the latest one fails, while
    ///    earlier ones go on;
    /// 3. the pending sockets are waited for together in the OS readiness
    ///    wait (`poll(2)`, `WSAPoll`), by the calling thread alone: no thread
    ///    is started and nothing spins;
    /// 4. the first connection made wins: it is put back in blocking mode and
    ///    returned; every other attempt is closed at once;
    /// 5. the [`connect_timeout`](Self::connect_timeout) bounds the whole
    ///    race; when it runs out, the pending attempts fail with `TimedOut`.
    ///
    /// Why it is the default: a name often resolves to an IPv6 and an IPv4
    /// address, and when one of them is black-holed (a broken route or a
    /// firewall that drops packets), a sequential connect waits for the OS's
    /// full SYN timeout (over two minutes on Linux) before trying the next.
    /// The race costs at most one extra half-open attempt per delay and
    /// returns the same `TcpStream`.
    ///
    /// What the sequential mode still offers: a predictable order (exactly
    /// the resolver's), one socket at a time (nothing for the server to see
    /// but the connection that is kept), and the connect timeout applied to
    /// each attempt rather than to the whole connect. It is also what a
    /// source address with a fixed port (not 0) gets even with racing on,
    /// since parallel attempts cannot share one local port, and what
    /// [`connect_udp`](Self::connect_udp) and `connect_unix` always do
    /// (nothing to race: a datagram connect sends nothing, a path is one address).
    ///
    /// # Platform-specific behavior
    ///
    /// On Windows before Windows 10 version 2004, `WSAPoll` does not report a
    /// failed connect, so a refused attempt counts as pending until the next
    /// attempt is due or the connect timeout runs out (socket2's own
    /// `connect_timeout` shares this limit); set a connect timeout there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwright::ConnectorBuilder;
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let refused = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    /// // The first address refuses at once; the race moves on without waiting.
    /// let stream = ConnectorBuilder::new()
    ///     .connect_timeout(Duration::from_secs(5))
    ///     .connect(&[refused, server.local_addr()?][..])?;
    /// assert_eq!(stream.peer_addr()?, server.local_addr()?);
    ///
    /// // One address at a time, in the resolver's order.
    /// let stream = ConnectorBuilder::new()
    ///     .happy_eyeballs(false)
    ///     .connect(server.local_addr()?)?;
    /// # drop(stream);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn happy_eyeballs(&mut self, race: bool) -> &mut Self {
        self.race.enabled = race;
        self
    }

    /// Sets how long a Happy Eyeballs connect waits after starting one
    /// attempt before it starts the next (RFC 8305's "Connection Attempt Delay").
    ///
    /// Default: [`DEFAULT_CONNECTION_ATTEMPT_DELAY`](Self::DEFAULT_CONNECTION_ATTEMPT_DELAY),
    /// 250 ms. Accepted: 10 ms to 2 s. The RFC says the delay MUST NOT be
    /// less than 10 ms, SHOULD be at least 100 ms, and recommends at most
    /// 2 s; values from 10 ms are accepted for networks whose round trip is
    /// known to be short (a LAN, loopback), and a longer wait than 2 s is
    /// what the sequential mode with a [`connect_timeout`](Self::connect_timeout)
    /// is for. A value outside the range is an [`Error::InvalidConfig`]
    /// from the finishing call, before any system call.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwright::{ConnectorBuilder, Error};
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = ConnectorBuilder::new()
    ///     .connection_attempt_delay(Duration::from_millis(100))
    ///     .connect(server.local_addr()?)?;
    /// # drop(stream);
    /// let err = ConnectorBuilder::new()
    ///     .connection_attempt_delay(Duration::from_millis(5))
    ///     .connect(server.local_addr()?)
    ///     .unwrap_err();
    /// assert!(matches!(err, Error::InvalidConfig { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connection_attempt_delay(&mut self, delay: Duration) -> &mut Self {
        self.race.delay = delay;
        self
    }

    /// Sets the address family a Happy Eyeballs connect tries first.
    ///
    /// Default: [`Domain::Ipv6`], as RFC 6724's default policy and RFC 8305
    /// prefer. Only [`Domain::Ipv4`] and [`Domain::Ipv6`] are accepted;
    /// another is an [`Error::InvalidConfig`] from the finishing call. It
    /// orders the race only: the sequential mode keeps the resolver's order.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{ConnectorBuilder, Domain};
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = ConnectorBuilder::new()
    ///     .preferred_family(Domain::Ipv4)
    ///     .connect(server.local_addr()?)?;
    /// # drop(stream);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn preferred_family(&mut self, family: Domain) -> &mut Self {
        self.race.family = family;
        self
    }

    /// Sets how many addresses of the preferred family a Happy Eyeballs
    /// connect tries before the first one of the other family (RFC 8305's
    /// "First Address Family Count").
    ///
    /// Default: 1, as the RFC recommends; 2 favours the preferred family
    /// more. After these, the families alternate one address at a time. Zero
    /// is an [`Error::InvalidConfig`] from the finishing call.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = sockwright::ConnectorBuilder::new()
    ///     .first_address_family_count(2)
    ///     .connect(server.local_addr()?)?;
    /// # drop(stream);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn first_address_family_count(&mut self, count: usize) -> &mut Self {
        self.race.first_count = count;
        self
    }

    /// Creates, configures and connects a TCP (or MPTCP) socket, and returns
    /// it as a [`TcpStream`].
    ///
    /// The steps, each logged at `debug` level:
    /// 1. resolve `addr` (a literal address needs no system call) and keep
    ///    the addresses that fit the configured domain;
    /// 2. each attempt, on a fresh socket: `socket(domain, SOCK_STREAM,
    ///    protocol)`, one `setsockopt` per option, `bind(source)` if a source
    ///    address of that family is set, then `connect(addr)`;
    /// 3. with one address, or with [`happy_eyeballs(false)`](Self::happy_eyeballs),
    ///    the addresses are tried one after another, each `connect` bounded by
    ///    the connect timeout and made again if a signal interrupts it; with
    ///    several addresses (the default), they race as RFC 8305 describes:
    ///    see [`happy_eyeballs`](Self::happy_eyeballs);
    /// 4. the first socket that connects is returned, in blocking mode unless
    ///    [`nonblocking`](Self::nonblocking) asked otherwise, with the read and
    ///    write timeouts set; every other socket is closed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] or [`Error::Unsupported`] before any system
    /// call for a configuration that cannot work; otherwise the failing step's
    /// error ([`Error::Connect`] with [`TimedOut`](std::io::ErrorKind::TimedOut)
    /// when the timeout ran out), or [`Error::AllAttemptsFailed`] listing every
    /// address tried and why each failed, in the order tried.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{ConnectorBuilder, Error};
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = ConnectorBuilder::new().connect(server.local_addr()?)?;
    /// # drop(stream);
    /// drop(server);
    /// // A port nobody listens on any more: the error says where and why.
    /// let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// let err = ConnectorBuilder::new().connect(("127.0.0.1", port)).unwrap_err();
    /// assert!(matches!(err, Error::Connect { .. }));
    /// assert!(err.to_string().starts_with(&format!("connect 127.0.0.1:{port}: ")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect<A>(&self, addr: A) -> Result<TcpStream>
    where
        A: ToSocketAddrs + fmt::Debug,
    {
        self.validate(Type::Stream)?;
        self.race.validate()?;
        self.log_start(&addr);
        let (target, addrs) = resolve::resolve(&addr, &self.opts, CONNECTOR_LOG)?;
        if self.race.enabled && addrs.len() > 1 {
            if self.fixed_source_port() {
                debug!(target: CONNECTOR_LOG, "a fixed source port cannot be shared by parallel attempts: trying {target} one address at a time");
            } else {
                return happy_eyeballs::connect(self, &self.race, target, &addrs);
            }
        }
        resolve::each(target, &addrs, |a| {
            let socket = self.attempt(a, Type::Stream)?;
            Ok(socket.into())
        })
    }

    /// Creates, configures and connects a UDP socket, and returns it as a
    /// connected [`UdpSocket`]: `send` and `recv` then talk to that peer only.
    ///
    /// The steps are those of [`connect`](Self::connect) with `SOCK_DGRAM`;
    /// connecting a datagram socket sends nothing, so the first address that
    /// the OS accepts is used.
    ///
    /// # Errors
    ///
    /// As for [`connect`](Self::connect); TCP-only options (nodelay,
    /// keepalive, linger) are an [`Error::InvalidConfig`].
    ///
    /// # Examples
    ///
    /// ```
    /// let server = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let client = sockwright::ConnectorBuilder::new().connect_udp(server.local_addr()?)?;
    /// client.send(b"ping")?;
    /// let mut buf = [0; 8];
    /// let (n, from) = server.recv_from(&mut buf)?;
    /// assert_eq!((&buf[..n], from), (&b"ping"[..], client.local_addr()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect_udp<A>(&self, addr: A) -> Result<UdpSocket>
    where
        A: ToSocketAddrs + fmt::Debug,
    {
        self.validate(Type::Datagram)?;
        self.log_start(&addr);
        let (target, addrs) = resolve::resolve(&addr, &self.opts, CONNECTOR_LOG)?;
        resolve::each(target, &addrs, |a| {
            let socket = self.attempt(a, Type::Datagram)?;
            Ok(socket.into())
        })
    }

    /// Creates, configures and connects a Unix-domain stream socket (or
    /// seqpacket, with [`Type::SeqPacket`]) to `path`, and returns it as a
    /// [`UnixStream`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] before any system call for IP-only options
    /// (a source address, nodelay, keepalive, TTL...) or a path too long for
    /// `sockaddr_un`; otherwise the failing step's error, naming the path.
    ///
    /// # Platform-specific behavior
    ///
    /// Unix only.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("sockwright-doc-conn-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("server.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// let server = std::os::unix::net::UnixListener::bind(&path)?;
    /// let stream = sockwright::ConnectorBuilder::new().connect_unix(&path)?;
    /// let (_conn, _) = server.accept()?;
    /// # drop(stream);
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub fn connect_unix<P: AsRef<Path>>(&self, path: P) -> Result<UnixStream> {
        let path = path.as_ref();
        self.validate(Type::Stream)?;
        self.opts.check_unix(path)?;
        let tcp_only = [
            (
                "a source address",
                self.local_v4.or(self.local_v6).is_some(),
            ),
            ("nodelay (TCP_NODELAY)", self.nodelay.is_some()),
            ("keepalive (SO_KEEPALIVE)", self.keepalive.is_some()),
        ];
        if let Some((name, _)) = tcp_only.iter().find(|(_, set)| *set) {
            return Err(Error::invalid(format!(
                "{name} does not apply to Unix path {}",
                path.display()
            )));
        }
        let sockaddr = SockAddr::unix(path)
            .map_err(|e| Error::invalid(format!("Unix socket path {}: {e}", path.display())))?;
        let shown = Address::Unix(path.to_path_buf());
        self.log_start(&shown);
        let socket = self.opts.create(Domain::Unix, Type::Stream, &shown)?;
        self.opts.apply(&socket, Domain::Unix, &shown)?;
        self.apply_linger(&socket, &shown)?;
        self.connect_socket(&socket, &sockaddr, &shown)?;
        self.connected(&socket, &shown)?;
        Ok(socket.into())
    }

    /// The line that starts every connect, so that a connect that hangs is
    /// not silence: `connecting to localhost:8080 (timeout 2s)`.
    fn log_start(&self, target: &dyn fmt::Debug) {
        let shown = resolve::Target::new(target, CONNECTOR_LOG);
        match self.connect_timeout {
            Some(t) => debug!(target: CONNECTOR_LOG, "connecting to {shown} (timeout {t:?})"),
            None => debug!(target: CONNECTOR_LOG, "connecting to {shown} (no timeout)"),
        }
    }

    /// Checks the configuration before any system call.
    fn validate(&self, implied: Type) -> Result<()> {
        self.opts.validate(implied)?;
        for (name, timeout) in [
            ("connect timeout", self.connect_timeout),
            ("read timeout (SO_RCVTIMEO)", self.read_timeout),
            ("write timeout (SO_SNDTIMEO)", self.write_timeout),
        ] {
            if timeout == Some(Duration::ZERO) {
                return Err(Error::invalid(format!("{name} must not be zero")));
            }
        }
        if implied == Type::Datagram {
            let tcp_only = [
                ("nodelay (TCP_NODELAY)", self.nodelay.is_some()),
                ("keepalive (SO_KEEPALIVE)", self.keepalive.is_some()),
                ("linger (SO_LINGER)", self.linger.is_some()),
            ];
            if let Some((name, _)) = tcp_only.iter().find(|(_, set)| *set) {
                return Err(Error::invalid(format!(
                    "{name} does not apply to a datagram socket"
                )));
            }
        }
        if let Some(Some(linger)) = self.linger {
            if linger > sys::MAX_LINGER {
                return Err(Error::invalid(format!(
                    "linger (SO_LINGER) {linger:?} does not fit the OS type (at most {} s)",
                    sys::MAX_LINGER.as_secs()
                )));
            }
        }
        if let Some(ka) = &self.keepalive {
            if ka.time == Some(Duration::ZERO) || ka.interval == Some(Duration::ZERO) {
                return Err(Error::invalid("keepalive durations must not be zero"));
            }
            if ka.retries == Some(0) {
                return Err(Error::invalid(
                    "keepalive retries (TCP_KEEPCNT) must not be zero",
                ));
            }
            if !sys::KEEPALIVE_DETAILS && (ka.interval.is_some() || ka.retries.is_some()) {
                return Err(Error::Unsupported {
                    what: "keepalive interval and retries (TCP_KEEPINTVL, TCP_KEEPCNT)",
                });
            }
        }
        Ok(())
    }

    /// One attempt on a fresh socket: create, configure, bind the source
    /// address, connect. A TCP socket that connected to itself is closed;
    /// with an ephemeral source port the attempt is made again on a fresh
    /// socket, at most [`SELF_CONNECT_RETRIES`] times, as the kernel then
    /// picks another port.
    fn attempt(&self, addr: SocketAddr, implied: Type) -> Result<Socket> {
        let shown = Address::Inet(addr);
        let mut retries = 0;
        loop {
            let socket = self.prepare(addr, implied)?;
            self.connect_socket(&socket, &addr.into(), &shown)?;
            if implied == Type::Stream {
                if let Err(err) = check_self_connect(&socket, addr) {
                    drop(socket);
                    if self.fixed_source_port_for(addr) || retries == SELF_CONNECT_RETRIES {
                        return Err(err);
                    }
                    retries += 1;
                    debug!(target: CONNECTOR_LOG, "{err}; trying again on a fresh socket");
                    continue;
                }
            }
            self.connected(&socket, &shown)?;
            return Ok(socket);
        }
    }

    /// The connect timeout, if one is set.
    pub(crate) fn timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// Whether the source address for `addr`'s family has a port other than 0.
    fn fixed_source_port_for(&self, addr: SocketAddr) -> bool {
        let local = match addr {
            SocketAddr::V4(_) => self.local_v4,
            SocketAddr::V6(_) => self.local_v6,
        };
        local.is_some_and(|local| local.port() != 0)
    }

    /// Whether a source address with a port other than 0 is set.
    fn fixed_source_port(&self) -> bool {
        [self.local_v4, self.local_v6]
            .iter()
            .flatten()
            .any(|local| local.port() != 0)
    }

    /// Everything an attempt does before `connect(2)`: create a fresh
    /// socket, set every option, bind the source address of its family.
    pub(crate) fn prepare(&self, addr: SocketAddr, implied: Type) -> Result<Socket> {
        let domain = Domain::for_address(&addr);
        let shown = Address::Inet(addr);
        let local = match (domain, self.local_v4, self.local_v6) {
            (Domain::Ipv4, Some(local), _) | (Domain::Ipv6, _, Some(local)) => Some(local),
            (_, None, None) => None,
            _ => {
                return Err(Error::invalid(format!(
                    "no {domain} source address set to connect to {addr}"
                )))
            }
        };
        let socket = self.opts.create(domain, implied, &shown)?;
        self.opts.apply(&socket, domain, &shown)?;
        if implied == Type::Stream {
            self.apply_tcp_options(&socket, &shown)?;
        }
        self.apply_linger(&socket, &shown)?;
        if let Some(local) = local {
            options::bind(&socket, &local.into(), &Address::Inet(local))?;
        }
        Ok(socket)
    }

    /// `TCP_NODELAY`, `SO_KEEPALIVE` and its parameters.
    fn apply_tcp_options(&self, socket: &Socket, addr: &Address) -> Result<()> {
        if let Some(on) = self.nodelay {
            set_result("TCP_NODELAY", addr, socket.set_tcp_nodelay(on))?;
            debug!(target: CONNECTOR_LOG, "set TCP_NODELAY={on} for {addr}");
        }
        if let Some(ka) = &self.keepalive {
            set_result("SO_KEEPALIVE", addr, socket.set_keepalive(true))?;
            if ka.time.is_some() || ka.interval.is_some() || ka.retries.is_some() {
                let params = sys::keepalive(ka);
                set_result(
                    "TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT",
                    addr,
                    socket.set_tcp_keepalive(&params),
                )?;
            }
            debug!(target: CONNECTOR_LOG, "set SO_KEEPALIVE={ka:?} for {addr}");
        }
        Ok(())
    }

    /// `SO_LINGER`, before connecting.
    fn apply_linger(&self, socket: &Socket, addr: &Address) -> Result<()> {
        if let Some(linger) = self.linger {
            let linger = linger.map(|d| sys::round_up(d, sys::LINGER_UNIT));
            set_result("SO_LINGER", addr, socket.set_linger(linger))?;
            debug!(target: CONNECTOR_LOG, "set SO_LINGER={linger:?} for {addr}");
        }
        Ok(())
    }

    /// `SO_RCVTIMEO`, `SO_SNDTIMEO`, after connecting: Linux would otherwise
    /// end a blocking `connect` after the send timeout with `EINPROGRESS`, so
    /// a write timeout would act as a connect timeout with a misleading error.
    fn apply_timeouts(&self, socket: &Socket, addr: &Address) -> Result<()> {
        if let Some(t) = self.read_timeout.map(os_timeout) {
            set_result("SO_RCVTIMEO", addr, socket.set_read_timeout(Some(t)))?;
            debug!(target: CONNECTOR_LOG, "set SO_RCVTIMEO={t:?} for {addr}");
        }
        if let Some(t) = self.write_timeout.map(os_timeout) {
            set_result("SO_SNDTIMEO", addr, socket.set_write_timeout(Some(t)))?;
            debug!(target: CONNECTOR_LOG, "set SO_SNDTIMEO={t:?} for {addr}");
        }
        Ok(())
    }

    /// `connect(2)`, bounded by the connect timeout.
    fn connect_socket(&self, socket: &Socket, sockaddr: &SockAddr, addr: &Address) -> Result<()> {
        let result = match (self.connect_timeout, addr) {
            #[cfg(unix)]
            (Some(timeout), Address::Unix(_)) => connect_unix_bounded(socket, sockaddr, timeout),
            (Some(timeout), _) => socket.connect_timeout(sockaddr, at_least(timeout)),
            (None, _) => connect_blocking(socket, sockaddr),
        };
        result.map_err(|source| Error::Connect {
            addr: addr.clone(),
            source: match self.connect_timeout {
                Some(after) if is_our_timeout(&source) => timed_out(after),
                _ => source,
            },
        })
    }

    /// What follows a successful connect: the log line, the read and write
    /// timeouts, then nonblocking mode if asked.
    pub(crate) fn connected(&self, socket: &Socket, addr: &Address) -> Result<()> {
        if log_enabled!(target: CONNECTOR_LOG, Level::Debug) {
            match socket.local_addr().ok().and_then(|a| a.as_socket()) {
                Some(local) => debug!(target: CONNECTOR_LOG, "connected {local} -> {addr}"),
                None => debug!(target: CONNECTOR_LOG, "connected to {addr}"),
            }
        }
        self.apply_timeouts(socket, addr)?;
        self.opts.apply_nonblocking(socket, addr)
    }
}

/// How many times a connect that met itself is made again with a fresh
/// ephemeral port before [`Error::SelfConnect`] is returned.
const SELF_CONNECT_RETRIES: u32 = 2;

/// [`Error::SelfConnect`] if the TCP socket connected to `peer` is its own
/// peer: a simultaneous open with itself, possible when nothing listens on
/// a port of this host and the socket's local port is that same port.
pub(crate) fn check_self_connect(socket: &Socket, peer: SocketAddr) -> Result<()> {
    match socket.local_addr().ok().and_then(|a| a.as_socket()) {
        Some(local) if local == peer => Err(Error::SelfConnect {
            addr: Address::Inet(peer),
        }),
        _ => Ok(()),
    }
}

/// The error of a connect whose timeout ran out, saying after how long:
/// `timed out after 1s`.
pub(crate) fn timed_out(after: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("timed out after {after:?}"),
    )
}

/// Whether `err` is the timeout of the connect's own wait (which carries no
/// OS code), rather than the OS giving up (`ETIMEDOUT`), which keeps its code.
fn is_our_timeout(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::TimedOut && err.raw_os_error().is_none()
}

/// A blocking `connect(2)`, made again when a signal interrupts it (as std's
/// `TcpStream::connect` does): the kernel carries on with the attempt, and
/// the second call waits for it, or fails because it finished meanwhile, in
/// which case the socket is connected.
fn connect_blocking(socket: &Socket, sockaddr: &SockAddr) -> io::Result<()> {
    let mut interrupted = false;
    loop {
        match socket.connect(sockaddr) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                debug!(target: CONNECTOR_LOG, "connect interrupted by a signal; waiting again");
                interrupted = true;
            }
            Err(_) if interrupted && socket.peer_addr().is_ok() => return Ok(()),
            other => return other,
        }
    }
}

/// A Unix-domain `connect(2)` bounded by `timeout`. socket2's nonblocking
/// connect cannot wait for a Unix listener whose accept queue is full (it
/// fails at once, saying only "no error set after POLLHUP"); a blocking
/// connect waits for room, bounded by `SO_SNDTIMEO`, and reports
/// `EAGAIN` when that runs out, shown here as `TimedOut`. The send timeout
/// is cleared afterwards; the builder's own write timeout is set after connecting.
#[cfg(unix)]
fn connect_unix_bounded(socket: &Socket, sockaddr: &SockAddr, timeout: Duration) -> io::Result<()> {
    socket.set_write_timeout(Some(os_timeout(timeout)))?;
    let result = connect_blocking(socket, sockaddr);
    socket.set_write_timeout(None)?;
    match result {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(io::ErrorKind::TimedOut.into()),
        other => other,
    }
}

/// `timeout` rounded up to whole [`sys::TIMEOUT_UNIT`]s, the finest timeout
/// the OS takes. socket2 truncates instead, and a timeout that truncates to
/// zero means "no timeout" to the OS: a read timeout of 1 ns would make reads
/// wait forever.
fn os_timeout(timeout: Duration) -> Duration {
    sys::round_up(timeout, sys::TIMEOUT_UNIT)
}

/// The timeout to give socket2's `connect_timeout` so that it waits at least
/// `timeout`: it waits in `poll(2)` for the time left rounded *down* to whole
/// milliseconds and reports `TimedOut` when that poll ends, so it could give
/// up to 1 ms early. Rounding up to whole milliseconds and adding one more
/// makes the wait at least `timeout` and at most about 2 ms longer.
fn at_least(timeout: Duration) -> Duration {
    const MS: u32 = 1_000_000;
    let below_ms = timeout.subsec_nanos() % MS;
    let round_up = if below_ms == 0 { 0 } else { MS - below_ms };
    timeout.saturating_add(Duration::from_nanos(u64::from(round_up + MS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_up_never_rounds_to_zero() {
        use sys::round_up;
        let us = Duration::from_micros(1);
        assert_eq!(round_up(Duration::from_nanos(1), us), us);
        assert_eq!(round_up(Duration::from_nanos(999), us), us);
        assert_eq!(round_up(Duration::from_nanos(1_001), us), 2 * us);
        assert_eq!(
            round_up(Duration::from_millis(1500), us),
            Duration::from_millis(1500)
        );
        let ms = Duration::from_millis(1);
        assert_eq!(round_up(Duration::from_micros(1), ms), ms);
        assert_eq!(round_up(Duration::MAX, ms), Duration::MAX);
        let s = Duration::from_secs(1);
        assert_eq!(round_up(Duration::from_millis(1), s), s);
        assert_eq!(round_up(Duration::from_millis(1500), s), 2 * s);
        assert_eq!(round_up(Duration::from_secs(3), s), 3 * s);
        assert_eq!(round_up(Duration::MAX, s), Duration::MAX);
    }

    #[test]
    fn at_least_rounds_up_to_whole_milliseconds_plus_one() {
        let ms = Duration::from_millis;
        assert_eq!(at_least(ms(500)), ms(501));
        assert_eq!(at_least(Duration::from_micros(1)), ms(2));
        assert_eq!(at_least(Duration::from_micros(499_700)), ms(501));
        assert_eq!(at_least(Duration::MAX), Duration::MAX);
    }
}
