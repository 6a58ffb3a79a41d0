//! The client side: `socket → setsockopt → [bind] → connect`.

pub(crate) mod attempt;
pub(crate) mod gather;
mod report;
mod self_connect;
mod socket_options;
#[cfg(feature = "tokio")]
mod tokio;

use std::borrow::Cow;
use std::fmt;
use std::net::{SocketAddr, TcpStream, UdpSocket};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
#[cfg(unix)]
use std::path::Path;
use std::time::Duration;

use log::debug;
#[cfg(unix)]
use socket2::SockAddr;

#[cfg(unix)]
use crate::Address;
use crate::connector::attempt::IoMode;
use crate::endpoint::Opens;
use crate::options::{Checked, Place, TransportKind};
use crate::race::{self, resolution, schedule};
use crate::resolve::resolver::Source;
use crate::{
    CONNECTOR_LOG, Domain, Endpoint, Error, Resolve, Result, Stream, ToSocketAddrs, Type, resolve,
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
/// With the `tokio` feature, each finishing method has an async twin
/// (`connect_async`, `connect_udp_async`, `connect_unix_async`) that returns
/// tokio's type, as the crate docs' "Async runtimes" list.
///
/// | C tutorial | builder |
/// |---|---|
/// | `socket(AF_INET, SOCK_STREAM, 0)` | inferred from the address, or [`domain`](Self::domain), [`socket_type`](Self::socket_type), [`protocol`](Self::protocol) |
/// | `inet_pton` + `connect` | the [target](ToSocketAddrs) given to the finishing call: an address, or a name to look up |
/// | `printf("Connection Failed")` | an [`Error`] naming the address and the OS reason |
///
/// Defaults: every option unset (the OS default), no source address, no
/// connect timeout (the OS's own, over two minutes on Linux), no read or
/// write timeout, blocking mode, and a TCP connect to a name with several
/// addresses races them as RFC 8305 describes ([`happy_eyeballs`](Self::happy_eyeballs):
/// IPv6 first, 250 ms between attempts).
///
/// Options the builder has no setter for are set by a
/// [`configure`](Self::configure) hook, which runs on each attempt's socket
/// before `connect(2)`.
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
    pub(crate) opts: Checked,
    pub(crate) local_v4: Option<SocketAddr>,
    pub(crate) local_v6: Option<SocketAddr>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) race: schedule::RaceSettings,
    pub(crate) resolver: Source,
}

impl ConnectorBuilder {
    /// A builder with every option unset (the OS default), no source address,
    /// no timeouts, blocking mode; the domain, type and protocol are inferred
    /// from each address and the finishing call; a TCP connect to several
    /// addresses races them ([`happy_eyeballs`](Self::happy_eyeballs) on,
    /// [`DEFAULT_CONNECTION_ATTEMPT_DELAY`](Self::DEFAULT_CONNECTION_ATTEMPT_DELAY),
    /// IPv6 first, first address family count 1, at most
    /// [`DEFAULT_MAX_ATTEMPTS_IN_FLIGHT`](Self::DEFAULT_MAX_ATTEMPTS_IN_FLIGHT)
    /// attempts in flight).
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

    /// Binds the socket to this local (source) address before connecting.
    ///
    /// Port 0 lets the OS pick the port. One address of each family can be
    /// set (a second call with the same family replaces the first); each
    /// connection attempt uses the one of its own family, and an address of a
    /// family with no source address set fails with [`Error::InvalidConfig`].
    /// Combine with [`reuse_address`](Self::reuse_address) to reuse a fixed
    /// source port quickly.
    ///
    /// # Platform-specific behavior
    ///
    /// With port 0, a TCP connect on Linux sets `IP_BIND_ADDRESS_NO_PORT`
    /// before `bind(2)` (Windows: `SO_REUSE_UNICASTPORT`), so the kernel
    /// picks the port at `connect`, knowing the destination: one port then
    /// serves a connection to each destination, and one source address is
    /// not limited to the ephemeral range's size across all of them. A
    /// kernel that refuses the option picks the port at `bind`, as elsewhere
    /// (one `debug` line says so). Until the connect, the socket's local
    /// port reads 0. [`local_port_range`](Self::local_port_range) narrows
    /// the ports picked (Linux).
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
    /// milliseconds longer. [`Duration::MAX`] (or any timeout too long for
    /// the clock to reach) means no limit, as if none were set.
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
    pub const DEFAULT_CONNECTION_ATTEMPT_DELAY: Duration = schedule::DEFAULT_DELAY;

    /// Races the addresses of a name as RFC 8305 ("Happy Eyeballs Version 2")
    /// describes, or, with `false`, tries them one at a time.
    ///
    /// Default: on. A name that has IPv6 and IPv4 addresses then costs
    /// milliseconds, not the seconds or minutes of a timeout, when a DNS
    /// answer is slow or a route of one family is broken. The steps, with
    /// the defaults:
    ///
    /// 1. **Ask both questions at once** (section 3). A name given as
    ///    `"host:port"` or `(host, port)` is looked up once for IPv6 (the AAAA
    ///    question) and once for IPv4 (A), at the same time, by the system
    ///    resolver (`getaddrinfo` with `AF_INET6` and with `AF_INET`) or by the
    ///    program's own [`Resolve`](crate::Resolve) ([`resolver`](Self::resolver)), on the
    ///    process-wide pool of lookup threads: at most
    ///    [**512**](crate::MAX_LOOKUP_THREADS) at once, started on demand and ended
    ///    after a second idle, with further questions queued (the size of
    ///    tokio's blocking pool, near Go's limit of 500 lookups). A
    ///    literal address needs no lookup; a family the configuration rules out
    ///    ([`domain`](Self::domain), `only_v6`) is not asked.
    /// 2. **Start on the first useful answer** (section 3). The IPv6 answer
    ///    starts the race at once. An IPv4 answer that comes first waits the
    ///    [Resolution Delay](Self::resolution_delay), **50 ms**, for
    ///    the IPv6 one, then the race starts with what is there. A family that
    ///    fails or has no address does not hold the other back: the failure
    ///    shows in `debug` logs, and in the error only if no connection can be
    ///    made.
    /// 3. **Order the addresses** (section 4): IPv6 first
    ///    ([`preferred_family`](Self::preferred_family)), **1**
    ///    address of it ([`first_address_family_count`](Self::first_address_family_count)),
    ///    then the families alternate; within a family the resolver's order is
    ///    kept. An answer that comes after the race started joins the addresses
    ///    not yet tried in this order, without waiting for anything.
    /// 4. **Stagger the attempts** (section 5): the next attempt starts
    ///    [**250 ms**](Self::connection_attempt_delay) after the
    ///    latest one, or at once when the latest one fails; earlier attempts go
    ///    on, [**4**](Self::max_attempts_in_flight) at most: with
    ///    that many pending, the next waits until one fails. The first
    ///    connection made wins and every other attempt is closed.
    /// 5. **Wait without spinning.** The pending sockets, and while a name is
    ///    looked up the socket through which an answer announces itself, are
    ///    waited for together in the OS readiness wait (`poll(2)`, `WSAPoll`) by
    ///    the calling thread; the only threads started are the lookup pool's. With
    ///    the `tokio` feature, `connect_async` takes the same steps and waits
    ///    for the same sockets in tokio's reactor instead, so no runtime thread
    ///    waits.
    /// 6. **Bound the whole** with [`connect_timeout`](Self::connect_timeout):
    ///    lookups and attempts together (no limit by default); when it runs
    ///    out, the pending attempts fail with `TimedOut`.
    ///
    /// A list of addresses or a socket address is raced from step 3 when it
    /// has more than one (one address is always a single plain `connect(2)`).
    ///
    /// Not done: sorting the addresses of both families together by RFC 6724
    /// (each family keeps its resolver's order, which the system resolver has
    /// already sorted), section 6's use of past round-trip times, and section
    /// 7's IPv4 address synthesis for NAT64 networks (left to the OS resolver).
    ///
    /// Why it is the default: a name often resolves to an IPv6 and an IPv4
    /// address, and when one of them is black-holed (a broken route or a
    /// firewall that drops packets), a sequential connect waits for the OS's
    /// full SYN timeout (over two minutes on Linux) before trying the next. The
    /// race costs at most one extra half-open attempt per delay and returns the
    /// same `TcpStream`.
    ///
    /// What the sequential mode still offers: a predictable order (exactly the
    /// system resolver's, from one `getaddrinfo` for both families; with a
    /// [resolver](Self::resolver) of the program's own, both
    /// families are awaited and the preferred one comes first), one socket at a
    /// time (nothing for the server to see but the connection that is kept),
    /// and the connect timeout applied to each attempt rather than to the whole
    /// connect. It is also what a source address with a
    /// fixed port (not 0) gets even with racing on, since parallel attempts
    /// cannot share one local port, and what
    /// [`connect_udp`](Self::connect_udp) and `connect_unix` always
    /// do (nothing to race: a datagram connect sends nothing, a path is one
    /// address).
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
    ///
    /// A name raced with every setting of the race written out:
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwright::{ConnectorBuilder, StaticResolver};
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let table = StaticResolver::new()
    ///     .insert("app.internal", "::1".parse()?)
    ///     .insert("app.internal", "127.0.0.1".parse()?);
    /// let stream = ConnectorBuilder::new()
    ///     .resolver(table)
    ///     .resolution_delay(Duration::from_millis(50))
    ///     .connection_attempt_delay(Duration::from_millis(250))
    ///     .connect_timeout(Duration::from_secs(5))
    ///     .connect(("app.internal", server.local_addr()?.port()))?;
    /// // [::1] refuses (nothing listens there), so IPv4 wins at once.
    /// assert_eq!(stream.peer_addr()?, server.local_addr()?);
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
    /// is for. A value outside the range, [`Duration::MAX`] included, is an
    /// [`Error::InvalidConfig`] from the finishing call, before any system
    /// call.
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
        self.race_setting(|race| race.delay = delay)
    }

    /// Sets the address family a Happy Eyeballs connect tries first.
    ///
    /// Default: [`Domain::Ipv6`], as RFC 6724's default policy and RFC 8305
    /// prefer. Only [`Domain::Ipv4`] and [`Domain::Ipv6`] are accepted;
    /// another is an [`Error::InvalidConfig`] from the finishing call. It
    /// orders the race, and says whose answer a connect to a name waits
    /// for (the [`resolution_delay`](Self::resolution_delay)); the
    /// sequential mode keeps the system resolver's order.
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
        self.race_setting(|race| race.family = family)
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
        self.race_setting(|race| race.first_count = count)
    }

    /// How many attempts of one Happy Eyeballs connect may be in flight at
    /// once, unless [`max_attempts_in_flight`](Self::max_attempts_in_flight)
    /// says otherwise: 4.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::ConnectorBuilder;
    ///
    /// assert_eq!(ConnectorBuilder::DEFAULT_MAX_ATTEMPTS_IN_FLIGHT, 4);
    /// ```
    pub const DEFAULT_MAX_ATTEMPTS_IN_FLIGHT: usize = schedule::DEFAULT_IN_FLIGHT;

    /// Sets how many attempts of one Happy Eyeballs connect may be in
    /// flight at once, each holding a socket (a file descriptor).
    ///
    /// Default: [`DEFAULT_MAX_ATTEMPTS_IN_FLIGHT`](Self::DEFAULT_MAX_ATTEMPTS_IN_FLIGHT),
    /// 4. RFC 8305 leaves the number open. When that many attempts are
    /// pending, the next one waits, however long it has been due, until
    /// one of them fails; none is abandoned to make room, as the RFC says
    /// that starting an attempt does not affect the earlier ones, and an
    /// attempt cut short after a few delays (40 ms with a 10 ms
    /// [`connection_attempt_delay`](Self::connection_attempt_delay)) could
    /// never reach a server farther away than that. Without a cap, a name
    /// with many unreachable addresses (packets dropped, no answer) would
    /// hold one socket per delay until the connect timeout or the OS gives
    /// up (about two minutes on Linux): hundreds of descriptors for one connect.
    ///
    /// Why 4: the delay staggers attempts so that a slow first attempt does
    /// not hold up a fast second one, which takes 2; the interleaved order
    /// alternates the families, so 4 keeps two attempts of each family in
    /// flight, and one unreachable address in each family (or a whole
    /// family unreachable, the case Happy Eyeballs is for, plus one bad
    /// address of the other) does not stop the race. Past a handful, more
    /// sockets buy only descriptors: each one waits on the same network.
    /// Go's dialer keeps 2 in flight, one per family.
    ///
    /// The value must be above the
    /// [`first_address_family_count`](Self::first_address_family_count),
    /// so that the other family's first attempt never waits for one of the
    /// preferred family to fail; otherwise (and for 0) the finishing call
    /// returns [`Error::InvalidConfig`] before any system call. With a cap
    /// reached by unreachable addresses, only the
    /// [`connect_timeout`](Self::connect_timeout) or the OS ends the wait:
    /// set a timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwright::{ConnectorBuilder, Error};
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = ConnectorBuilder::new()
    ///     .max_attempts_in_flight(2)
    ///     .connect_timeout(Duration::from_secs(5))
    ///     .connect(server.local_addr()?)?;
    /// # drop(stream);
    /// let err = ConnectorBuilder::new()
    ///     .first_address_family_count(2)
    ///     .max_attempts_in_flight(2)
    ///     .connect(server.local_addr()?)
    ///     .unwrap_err();
    /// assert!(matches!(err, Error::InvalidConfig { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_attempts_in_flight(&mut self, count: usize) -> &mut Self {
        self.race_setting(|race| race.in_flight = count)
    }

    /// How long a Happy Eyeballs connect to a name waits for the answer of
    /// the preferred family once the other family has answered, unless
    /// [`resolution_delay`](Self::resolution_delay) says otherwise: 50 ms,
    /// the value RFC 8305 recommends.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwright::ConnectorBuilder;
    ///
    /// assert_eq!(ConnectorBuilder::DEFAULT_RESOLUTION_DELAY, Duration::from_millis(50));
    /// ```
    pub const DEFAULT_RESOLUTION_DELAY: Duration = resolution::DEFAULT_DELAY;

    /// Sets how long a connect to a name waits for the preferred family's
    /// answer (AAAA, with the default [`preferred_family`](Self::preferred_family))
    /// once the other family's answer is in, before it starts connecting
    /// with what it has (RFC 8305's "Resolution Delay").
    ///
    /// Default: [`DEFAULT_RESOLUTION_DELAY`](Self::DEFAULT_RESOLUTION_DELAY),
    /// 50 ms. Accepted: 1 ms to 2 s; a value outside ([`Duration::MAX`]
    /// included) is an [`Error::InvalidConfig`] from the finishing call,
    /// before any system call. An answer that comes later still joins the race. See
    /// [`happy_eyeballs`](Self::happy_eyeballs).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwright::{ConnectorBuilder, Error, StaticResolver};
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let port = server.local_addr()?.port();
    /// let resolver = StaticResolver::new().insert("v4only.internal", "127.0.0.1".parse()?);
    /// let stream = ConnectorBuilder::new()
    ///     .resolver(resolver.clone())
    ///     .resolution_delay(Duration::from_millis(20))
    ///     .connect(("v4only.internal", port))?;
    /// # drop(stream);
    /// let err = ConnectorBuilder::new()
    ///     .resolver(resolver)
    ///     .resolution_delay(Duration::ZERO)
    ///     .connect(("v4only.internal", port))
    ///     .unwrap_err();
    /// assert!(matches!(err, Error::InvalidConfig { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resolution_delay(&mut self, delay: Duration) -> &mut Self {
        self.race_setting(|race| race.resolution_delay = delay)
    }

    /// Resolves names with `resolver` instead of the system resolver.
    ///
    /// Default: the system resolver, asked once per address family
    /// (`getaddrinfo` with `AF_INET6` and with `AF_INET`). A name given as
    /// `"host:port"` or `(host, port)` is looked up through it, one family at
    /// a time and both at once, for [`connect`](Self::connect) and
    /// [`connect_udp`](Self::connect_udp) (and their async twins
    /// `connect_async` and `connect_udp_async` with the `tokio` feature); a
    /// literal address or a list of socket addresses needs no lookup (see
    /// [`ToSocketAddrs`] for which targets are names). Either resolver is
    /// asked on the process-wide pool of at most
    /// [`MAX_LOOKUP_THREADS`](crate::MAX_LOOKUP_THREADS) (512) lookup
    /// threads. See [`Resolve`] for what a resolver is asked, and
    /// [`happy_eyeballs`](Self::happy_eyeballs) for how the answers feed the
    /// race.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{ConnectorBuilder, StaticResolver};
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let resolver = StaticResolver::new().insert("api.internal", "127.0.0.1".parse()?);
    /// let stream = ConnectorBuilder::new()
    ///     .resolver(resolver)
    ///     .connect(format!("api.internal:{}", server.local_addr()?.port()))?;
    /// assert_eq!(stream.peer_addr()?, server.local_addr()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resolver(&mut self, resolver: impl Resolve) -> &mut Self {
        self.resolver = Source::Custom(std::sync::Arc::new(resolver));
        self
    }

    /// Whether a resolver of the program's own is set.
    pub(crate) fn custom_resolver(&self) -> bool {
        matches!(self.resolver, Source::Custom(_))
    }

    /// The address families a lookup for this configuration asks for: both,
    /// unless the domain or only-v6 rules one out. The preferred one first.
    pub(crate) fn families(&self) -> Vec<Domain> {
        let mut families = vec![self.race.family];
        families.push(if self.race.family == Domain::Ipv6 {
            Domain::Ipv4
        } else {
            Domain::Ipv6
        });
        families.retain(|family| {
            let probe = match family {
                Domain::Ipv4 => SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0)),
                _ => SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 0)),
            };
            self.opts.check_inet(&probe).is_ok()
        });
        families
    }

    /// Creates, configures and connects a TCP (or MPTCP) socket, and returns
    /// it as a [`TcpStream`].
    ///
    /// The steps, each logged at `debug` level:
    /// 1. resolve `addr` (a literal address needs no system call) and keep
    ///    the addresses that fit the configured domain; a name given as
    ///    `"host:port"` or `(host, port)` is looked up once per family that
    ///    fits, both at once, and raced from the first answer (see
    ///    [`happy_eyeballs`](Self::happy_eyeballs));
    /// 2. each attempt, on a fresh socket: `socket(domain, SOCK_STREAM,
    ///    protocol)`, one `setsockopt` per option, `bind(source)` if a source
    ///    address of that family is set (after `IP_BIND_ADDRESS_NO_PORT` on
    ///    Linux when its port is 0: see [`local_address`](Self::local_address)),
    ///    then `connect(addr)`;
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
    /// address tried and why each failed, in the order tried, then the
    /// [`Error::Resolve`] of an address family whose lookup failed, if one
    /// did. A name that no family resolved is an [`Error::Resolve`]: the one
    /// family's error naming the family, or, when both failed, one error
    /// giving each family's cause; [`TimedOut`](std::io::ErrorKind::TimedOut)
    /// if no answer came within the connect timeout.
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
        A: ToSocketAddrs,
    {
        self.connect_stream(addr, false).map(|(stream, _)| stream)
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
        A: ToSocketAddrs,
    {
        self.validate_inet(Type::Datagram)?;
        self.log_start(&resolve::UserTarget::new(&addr, CONNECTOR_LOG));
        if let Some(by) = self.by_name(&addr, Type::Datagram) {
            let target = resolve::UserTarget::new(&addr, CONNECTOR_LOG);
            let shown = target.to_string();
            let addrs =
                race::blocking::lookup_all(self, &shown, &by.name, by.port, &by.families, None)?;
            return resolve::each(target, &addrs, |a| {
                let socket = self.attempt(a, Type::Datagram, IoMode::Blocking)?;
                Ok(socket.into())
            });
        }
        let target = resolve::UserTarget::new(&addr, CONNECTOR_LOG);
        let addrs = resolve::resolve(target, &self.opts)?;
        resolve::each(target, &addrs, |a| {
            let socket = self.attempt(a, Type::Datagram, IoMode::Blocking)?;
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
        let (sockaddr, shown) = self.unix_target(path.as_ref())?;
        self.log_start(&shown);
        let socket = self.prepare_unix(&shown, false)?;
        self.connect_socket(&socket, &sockaddr, &shown, false)?;
        self.connected(&socket, &shown, false, IoMode::Blocking)?;
        Ok(socket.into())
    }

    /// Connects to an [`Endpoint`] that the user wrote, and returns a
    /// [`Stream`] that is TCP or Unix-domain: the client side of
    /// [`ListenerBuilder::listen_endpoint`](crate::ListenerBuilder::listen_endpoint).
    ///
    /// | Endpoint | made by |
    /// |---|---|
    /// | `HOST:PORT`, `[IPV6]:PORT` | [`connect`](Self::connect) (a name's addresses race, as there) |
    /// | `unix:PATH`, `/PATH`, `./PATH` | `connect_unix` |
    /// | `@NAME` | `connect_unix` to the abstract name (Linux) |
    ///
    /// The socket takes every option of this builder that acts on its
    /// transport; an option that cannot act there (`nodelay` or a source
    /// address on a Unix socket...) is left out with one `debug` line
    /// (target `sockwright::connector`), as
    /// [`listen_endpoint`](crate::ListenerBuilder::listen_endpoint) does.
    /// The direct calls still refuse such an option.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] before any system call for `sd-listen` and
    /// `fd:N`, which name listening sockets handed to a server;
    /// [`Error::Unsupported`] for a Unix endpoint on Windows and `@NAME`
    /// off Linux; otherwise the error of the call in the table.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use sockwright::{ConnectorBuilder, Endpoint, ListenerBuilder, Stream};
    ///
    /// let listener = ListenerBuilder::new().listen_endpoint(&"127.0.0.1:0".parse()?)?;
    /// // From a `--connect` flag or a configuration file:
    /// let endpoint: Endpoint = listener.local_addr()?.to_string().parse()?;
    /// // `nodelay` acts on TCP, and would be left out for `unix:` and `@` endpoints.
    /// let mut client = ConnectorBuilder::new().nodelay(true).connect_endpoint(&endpoint)?;
    /// assert!(matches!(client, Stream::Tcp(_)));
    /// let (mut conn, _) = listener.accept()?;
    /// client.write_all(b"Hello from client")?;
    /// let mut greeting = [0; 17];
    /// conn.read_exact(&mut greeting)?;
    /// assert_eq!(&greeting, b"Hello from client");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect_endpoint(&self, endpoint: &Endpoint) -> Result<Stream> {
        let builder = self.for_endpoint(endpoint)?;
        match endpoint.opens()? {
            Opens::Inet(addr) => builder.connect(addr).map(Stream::Tcp),
            Opens::Host(host) => builder.connect(host).map(Stream::Tcp),
            #[cfg(unix)]
            Opens::Unix(path) => builder.connect_unix(path).map(Stream::Unix),
            Opens::Passed => Err(cannot_connect(endpoint)),
        }
    }

    /// This builder less what cannot act on `endpoint`'s transport, each
    /// left out with one `debug` line; an error for an endpoint a client
    /// cannot connect to.
    pub(crate) fn for_endpoint(&self, endpoint: &Endpoint) -> Result<Cow<'_, ConnectorBuilder>> {
        let Some(transport) = endpoint.transport() else {
            return Err(cannot_connect(endpoint));
        };
        let endpoint = &crate::bounded::shown::Cut::new(endpoint);
        let opts = self.opts.for_transport(transport, endpoint);
        let source = self
            .local_v4
            .or(self.local_v6)
            .filter(|_| transport != TransportKind::Tcp);
        if opts.is_none() && source.is_none() {
            return Ok(Cow::Borrowed(self));
        }
        let mut builder = self.clone();
        if let Some(opts) = opts {
            builder.opts = Checked::new(opts);
        }
        if source.is_some() {
            debug!(
                target: CONNECTOR_LOG,
                "skipped the source address for {endpoint}: it does not act on {}",
                transport.shown()
            );
            builder.local_v4 = None;
            builder.local_v6 = None;
        }
        Ok(Cow::Owned(builder))
    }

    /// `connect_unix`'s checks, before any system call: the configuration,
    /// the options that do not apply to a path, and the path itself.
    #[cfg(unix)]
    pub(crate) fn unix_target(&self, path: &Path) -> Result<(SockAddr, Address)> {
        self.validate(Type::Stream, Place::Unix(path))?;
        self.opts.check_unix(path)?;
        if self.local_v4.or(self.local_v6).is_some() {
            return Err(Error::invalid(format!(
                "a source address does not apply to Unix path {}",
                crate::address::UnixPath(path)
            )));
        }
        let sockaddr = SockAddr::unix(path).map_err(|e| {
            Error::invalid(format!("Unix socket path {}: {e}", Address::from(path)))
        })?;
        Ok((sockaddr, Address::Unix(path.to_path_buf())))
    }

    /// The line that starts every connect, so that a connect that hangs is
    /// not silence: `connecting to localhost:8080 (timeout 2s)`.
    #[inline]
    pub(crate) fn log_start(&self, shown: &dyn fmt::Display) {
        if log::log_enabled!(target: CONNECTOR_LOG, log::Level::Debug) {
            self.log_start_line(shown);
        }
    }

    /// The line [`log_start`](Self::log_start) logs.
    fn log_start_line(&self, shown: &dyn fmt::Display) {
        match self.connect_timeout {
            Some(t) => debug!(target: CONNECTOR_LOG, "connecting to {shown} (timeout {t:?})"),
            None => debug!(target: CONNECTOR_LOG, "connecting to {shown} (no timeout)"),
        }
    }

    /// Checks the configuration before any system call: a few comparisons
    /// for the usual builder.
    #[inline]
    pub(crate) fn validate(&self, implied: Type, place: Place<'_>) -> Result<()> {
        self.opts.validate(implied, place)?;
        if self.connect_timeout == Some(Duration::ZERO) {
            return Err(Error::invalid("connect timeout must not be zero"));
        }
        Ok(())
    }

    /// Writes one Happy Eyeballs setting, marked as written so that the
    /// finishing call checks the race settings.
    fn race_setting(&mut self, set: impl FnOnce(&mut schedule::RaceSettings)) -> &mut Self {
        set(&mut self.race);
        self.race.written = true;
        self
    }

    /// [`validate`](Self::validate) for a connect to an IP address, which
    /// checks the Happy Eyeballs settings too.
    pub(crate) fn validate_inet(&self, implied: Type) -> Result<()> {
        self.validate(implied, Place::Inet)?;
        self.race.validate()
    }
}

/// The error of an endpoint a client cannot connect to: a listening socket
/// handed to a server (`sd-listen`, `fd:N`), or a form this platform has
/// no socket for.
pub(crate) fn cannot_connect(endpoint: &Endpoint) -> Error {
    match endpoint {
        Endpoint::Inherited(_) | Endpoint::Fd(_) => {
            let endpoint = crate::bounded::shown::Cut::new(endpoint);
            Error::invalid(format!(
                "cannot connect to {endpoint}: it names a listening socket handed to a server; \
                 a client connects to HOST:PORT, [IPV6]:PORT, unix:PATH or @NAME"
            ))
        }
        _ => crate::endpoint::unsupported(endpoint),
    }
}
