//! The connect machinery, shared by every finishing call of
//! [`ConnectorBuilder`]: one race, and a driver for each way of waiting.
//!
//! - [`schedule`]: the rules of a Happy Eyeballs connect (RFC 8305), a pure
//!   state machine with the clock passed in;
//! - this file: what every attempt does, whichever driver runs it (create a
//!   socket, set every option, bind the source address, start the connect,
//!   read how it ended, finish the winner), and [`Attempts`], which runs the
//!   schedule and gathers the errors into the one error a caller sees;
//! - [`blocking`]: the driver for [`ConnectorBuilder::connect`], waiting in
//!   the OS readiness wait (`poll(2)`, `WSAPoll`) on the calling thread.
//! - `tokio` (with the `tokio` feature): the driver for `connect_async`,
//!   waiting in tokio's reactor, and every other async finishing call.
//! - [`lookup`]: a connect's per-family lookups of a name and the inbox
//!   their answers arrive in (woken through a socket pair or a task's
//!   waker); [`lookup_pool`]: the process-wide queue and the at most
//!   [`MAX_LOOKUP_THREADS`](crate::MAX_LOOKUP_THREADS) threads that ask the
//!   questions.
//!
//! A driver only waits: it asks [`Attempts::next`] what to do, keeps the
//! pending sockets in whatever form its wait needs, and reports each one
//! its wait says is done to [`Attempts::settled`].

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use log::{log_enabled, Level};
use socket2::{SockAddr, SockRef, Socket};

use crate::options::{set_result, Phase};
use crate::shown::List;
use crate::target::Given;
use crate::{
    resolve, sys, Address, ConnectorBuilder, Domain, Error, Result, ToSocketAddrs, Type,
    CONNECTOR_LOG,
};

/// `log::debug!` with the target a user filters the client side by,
/// whichever file of this module logs.
macro_rules! debug {
    ($($arg:tt)+) => {
        log::debug!(target: $crate::CONNECTOR_LOG, $($arg)+)
    };
}

pub(crate) mod blocking;
pub(crate) mod lookup;
mod lookup_pool;
pub(crate) mod resolution;
pub(crate) mod schedule;
#[cfg(feature = "tokio")]
mod tokio;

use resolution::Resolution;
use schedule::{Race, Step};

impl ConnectorBuilder {
    /// One attempt on a fresh socket: create, configure, bind the source
    /// address, connect, then finish the socket as `io` says. A TCP socket
    /// that connected to itself is closed; with an ephemeral source port the
    /// attempt is made again on a fresh socket, at most
    /// [`SELF_CONNECT_RETRIES`] times, as the kernel then picks another port.
    #[inline]
    pub(crate) fn attempt(&self, addr: SocketAddr, implied: Type, io: Io) -> Result<Socket> {
        let shown = Address::Inet(addr);
        let nonblocking = self.connects_nonblocking(implied);
        let socket = self.prepare(addr, &shown, implied, nonblocking)?;
        self.connect_socket(&socket, &addr.into(), &shown, nonblocking)?;
        if implied == Type::Stream {
            if let Err(err) = self.check_self_connect(&socket, addr) {
                drop(socket);
                return self.attempt_again(addr, io, err);
            }
        }
        self.connected(&socket, &shown, nonblocking, io)?;
        Ok(socket)
    }

    /// The rest of [`attempt`](Self::attempt) for a TCP socket that met
    /// itself with `err`: the fresh sockets, out of line, as the first
    /// attempt needs no loop.
    fn attempt_again(&self, addr: SocketAddr, io: Io, mut err: Error) -> Result<Socket> {
        let shown = Address::Inet(addr);
        let nonblocking = self.connects_nonblocking(Type::Stream);
        let mut retries = 0;
        loop {
            if self.fixed_source_port_for(addr) || retries == SELF_CONNECT_RETRIES {
                return Err(err);
            }
            retries += 1;
            debug!("{err}; trying again on a fresh socket");
            let socket = self.prepare(addr, &shown, Type::Stream, nonblocking)?;
            self.connect_socket(&socket, &addr.into(), &shown, nonblocking)?;
            if let Err(again) = self.check_self_connect(&socket, addr) {
                drop(socket);
                err = again;
                continue;
            }
            self.connected(&socket, &shown, nonblocking, io)?;
            return Ok(socket);
        }
    }

    /// Whether a sequential attempt's socket is nonblocking from
    /// `socket(2)`: for a TCP connect with a timeout (its wait is then
    /// `poll(2)`), and wherever the socket is to be returned nonblocking
    /// (a datagram connect never waits). On Windows a nonblocking TCP
    /// connector without a timeout still connects blocking and then changes
    /// mode: `WSAPoll` before Windows 10 version 2004 does not report a
    /// failed connect, and with no timeout that wait would never end.
    fn connects_nonblocking(&self, implied: Type) -> bool {
        let stream = implied == Type::Stream;
        let wanted = self.opts.nonblocking == Some(true);
        (stream && self.connect_timeout.is_some()) || (wanted && (!stream || cfg!(not(windows))))
    }

    /// Whether the source address for `addr`'s family has a port other than 0.
    fn fixed_source_port_for(&self, addr: SocketAddr) -> bool {
        let local = match addr {
            SocketAddr::V4(_) => self.local_v4,
            SocketAddr::V6(_) => self.local_v6,
        };
        local.is_some_and(|local| local.port() != 0)
    }

    /// Whether a TCP connect to `count` addresses races them: the builder
    /// asks for it, there is more than one, and no fixed source port forbids
    /// parallel attempts.
    pub(crate) fn races(&self, target: impl fmt::Display, count: usize) -> bool {
        if !self.race.enabled || count < 2 {
            return false;
        }
        if self.fixed_source_port() {
            debug!("a fixed source port cannot be shared by parallel attempts: trying {target} one address at a time");
            return false;
        }
        true
    }

    /// The connect timeout, if one is set.
    pub(crate) fn timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// Whether a source address with a port other than 0 is set.
    pub(crate) fn fixed_source_port(&self) -> bool {
        [self.local_v4, self.local_v6]
            .iter()
            .flatten()
            .any(|local| local.port() != 0)
    }

    /// Everything an attempt does before `connect(2)`: create a fresh
    /// socket (nonblocking from `socket(2)` where the OS allows it, when
    /// `nonblocking`), set every option, bind the source address of its
    /// family. `shown` is `addr` as errors show it.
    #[inline]
    pub(crate) fn prepare(
        &self,
        addr: SocketAddr,
        shown: &Address,
        implied: Type,
        nonblocking: bool,
    ) -> Result<Socket> {
        let domain = Domain::for_address(&addr);
        let local = match (domain, self.local_v4, self.local_v6) {
            (Domain::Ipv4, Some(local), _) | (Domain::Ipv6, _, Some(local)) => Some(local),
            (_, None, None) => None,
            _ => return Err(no_source_address(domain, addr)),
        };
        let socket = self.opts.create_with(domain, implied, shown, nonblocking)?;
        self.opts
            .apply(Phase::Fresh, &socket, domain, implied, shown)?;
        if let Some(local) = local {
            self.opts
                .bind(&socket, &local.into(), &Address::Inet(local))?;
        }
        Ok(socket)
    }

    /// Everything a Unix-domain connect does before `connect(2)`: create a
    /// fresh socket, set every option that applies to it. The socket is
    /// blocking: a blocking connect is what waits for room in a full accept
    /// queue (see `connect_unix_bounded`).
    #[cfg(unix)]
    pub(crate) fn prepare_unix(&self, shown: &Address, nonblocking: bool) -> Result<Socket> {
        let socket = self
            .opts
            .create_with(Domain::Unix, Type::Stream, shown, nonblocking)?;
        self.opts
            .apply(Phase::Fresh, &socket, Domain::Unix, Type::Stream, shown)?;
        Ok(socket)
    }

    /// `connect(2)`, bounded by the connect timeout. `nonblocking_now` says
    /// how the socket was created: a nonblocking socket's connect is waited
    /// for in `poll(2)`.
    #[inline]
    pub(crate) fn connect_socket(
        &self,
        socket: &Socket,
        sockaddr: &SockAddr,
        addr: &Address,
        nonblocking_now: bool,
    ) -> Result<()> {
        let result = match (self.connect_timeout, addr) {
            #[cfg(unix)]
            (Some(timeout), Address::Unix(_)) => connect_unix_bounded(socket, sockaddr, timeout),
            // A datagram socket's connect completes at once here too.
            (timeout, Address::Inet(_)) if nonblocking_now => {
                connect_nonblocking(socket, sockaddr, timeout)
            }
            _ => connect_blocking(socket, sockaddr),
        };
        match result {
            Ok(()) => Ok(()),
            Err(source) => Err(self.connect_error(addr, source)),
        }
    }

    /// The error of a failed `connect(2)`, built apart from the connects
    /// that succeed.
    fn connect_error(&self, addr: &Address, source: io::Error) -> Error {
        Error::Connect {
            addr: addr.clone(),
            error: match self.connect_timeout {
                Some(after) if is_our_timeout(&source) => timed_out(after),
                _ => source,
            },
        }
    }

    /// What follows a successful connect: the log line, the options set on
    /// a connected socket, then the mode: for [`Io::Blocking`] the one asked
    /// for, for [`Io::Async`] nonblocking (one `ioctl(FIONBIO)` if the
    /// socket, made with `nonblocking_now`, is not in it yet).
    #[inline]
    pub(crate) fn connected(
        &self,
        socket: &Socket,
        addr: &Address,
        nonblocking_now: bool,
        io: Io,
    ) -> Result<()> {
        if log_enabled!(target: CONNECTOR_LOG, Level::Debug) {
            log_connected(socket, addr);
        }
        self.opts.apply(
            Phase::Connected,
            socket,
            domain_of(addr),
            Type::Stream,
            addr,
        )?;
        match io {
            Io::Blocking => self.opts.finish_nonblocking(socket, addr, nonblocking_now),
            Io::Async if nonblocking_now => Ok(()),
            Io::Async => set_result("O_NONBLOCK", addr, sys::set_nonblocking(socket, true)),
        }
    }
}

/// The `debug` line of a connected socket: its own address and the peer's.
fn log_connected(socket: &Socket, addr: &Address) {
    match socket.local_addr().ok().and_then(|a| a.as_socket()) {
        Some(local) => debug!("connected {local} -> {addr}"),
        None => debug!("connected to {addr}"),
    }
}

/// The error of an attempt whose family has no source address set, when
/// the other family has one.
fn no_source_address(domain: Domain, addr: SocketAddr) -> Error {
    Error::invalid(format!(
        "no {domain} source address set to connect to {addr}"
    ))
}

/// A name to look up once per family, and how to connect to its addresses,
/// as [`ConnectorBuilder::by_name`] decides for every driver.
#[derive(Debug)]
pub(crate) struct ByName {
    pub(crate) name: String,
    pub(crate) port: u16,
    /// The families asked, the preferred one first.
    pub(crate) families: Vec<Domain>,
    /// Whether the addresses race as they come (RFC 8305, section 3), or
    /// are all gathered first and tried one after another.
    pub(crate) race: bool,
}

impl ConnectorBuilder {
    /// Whether `addr` is a name this crate looks up itself, once per
    /// family: for a TCP race, or whenever a resolver of the program's own
    /// is set. `None` for a literal address, a socket address, a list, or a
    /// sequential or datagram connect through the system resolver, all
    /// resolved the way std resolves them.
    pub(crate) fn by_name<A: ToSocketAddrs + ?Sized>(
        &self,
        addr: &A,
        implied: Type,
    ) -> Option<ByName> {
        let Given::Name(name, port) = addr.given() else {
            return None;
        };
        let name = name.to_owned();
        let families = self.families();
        let race = implied == Type::Stream && self.race.enabled && !self.fixed_source_port();
        (!families.is_empty() && (race || self.custom_resolver())).then_some(ByName {
            name,
            port,
            families,
            race,
        })
    }

    /// Starts the lookups of `name` in `families` with this builder's
    /// resolver, for a blocking connect that waits on their wake socket.
    pub(crate) fn start_lookups(
        &self,
        target: &str,
        name: &str,
        families: &[Domain],
    ) -> Result<lookup::Lookups> {
        lookup::Lookups::start(&self.resolver, name, families)
            .map_err(|source| Error::resolve(target.to_owned(), source))
    }
}

/// The error of a lookup that gave no answer within the connect timeout.
pub(crate) fn no_answer(target: &str) -> Error {
    Error::resolve(
        target.to_owned(),
        io::Error::new(
            io::ErrorKind::TimedOut,
            "no answer within the connect timeout",
        ),
    )
}

/// Every address of a name once each family asked has answered, the
/// preferred family first, with `port` set: for the sequential mode and
/// for datagram sockets, which do not race. A failed family is logged;
/// only when no family gave an address is it the error.
pub(crate) fn gathered(
    builder: &ConnectorBuilder,
    target: &str,
    name: &str,
    port: u16,
    mut answers: Vec<lookup::Answer>,
) -> Result<Vec<SocketAddr>> {
    let preferred = builder.race.family;
    answers.sort_by_key(|(family, _)| *family != preferred);
    let mut addrs = Vec::new();
    let mut errors = Vec::new();
    for (family, answer) in answers {
        match answer {
            Ok(found) => addrs.extend(found.into_iter().map(|mut a| {
                a.set_port(port);
                a
            })),
            Err(source) => {
                let err = Error::Resolve {
                    target: name.to_owned(),
                    family: Some(family),
                    error: source,
                };
                debug!("{err}");
                errors.push(err);
            }
        }
    }
    if addrs.is_empty() {
        return Err(resolution::no_address(target, errors));
    }
    debug!("resolved {target} to [{}]", List(&addrs, ", "));
    Ok(addrs)
}

/// Who will do I/O on a connected socket, which decides its final mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Io {
    /// The caller, with std: blocking unless the builder's
    /// [`nonblocking`](ConnectorBuilder::nonblocking) says otherwise.
    Blocking,
    /// An async runtime's reactor: left nonblocking, as [`start`] made it.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    Async,
}

/// The domain of a connected address, which names the options set on it.
fn domain_of(addr: &Address) -> Domain {
    match addr {
        Address::Inet(a) => Domain::for_address(a),
        #[cfg(unix)]
        _ => Domain::Unix,
        #[cfg(not(unix))]
        _ => Domain::Ipv4,
    }
}

/// How many times a connect that met itself is made again with a fresh
/// ephemeral port before [`Error::SelfConnect`] is returned.
const SELF_CONNECT_RETRIES: u32 = 2;

impl ConnectorBuilder {
    /// [`Error::SelfConnect`] if the TCP socket connected to `peer` is its
    /// own peer: a simultaneous open with itself, possible when nothing
    /// listens on a port of this host and the socket's local port is that
    /// same port. The local address is read (`getsockname`) only where
    /// [`may_meet_itself`](Self::may_meet_itself) says the two can be equal.
    #[inline]
    pub(crate) fn check_self_connect(&self, socket: &Socket, peer: SocketAddr) -> Result<()> {
        if !self.may_meet_itself(peer) {
            return Ok(());
        }
        check_self_connect(socket, peer)
    }

    /// Whether a TCP socket of this builder connected to `peer` can have
    /// `peer` as its local address. With a fixed source port, only if that
    /// port and (unless unspecified) that address are `peer`'s. With an
    /// ephemeral one, only if `peer`'s port is one the kernel may pick;
    /// where that range cannot be read, always.
    #[inline]
    fn may_meet_itself(&self, peer: SocketAddr) -> bool {
        let local = match peer {
            SocketAddr::V4(_) => self.local_v4,
            SocketAddr::V6(_) => self.local_v6,
        };
        match local {
            Some(local) if local.port() != 0 => {
                local.port() == peer.port()
                    && (local.ip().is_unspecified() || local.ip() == peer.ip())
            }
            _ => crate::sys::ephemeral_ports().is_none_or(|range| range.contains(&peer.port())),
        }
    }
}

/// [`Error::SelfConnect`] if `socket`'s local address is `peer`. Out of
/// line: most connects never ask.
fn check_self_connect(socket: &Socket, peer: SocketAddr) -> Result<()> {
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
                debug!("connect interrupted by a signal; waiting again");
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
#[cfg(unix)]
fn os_timeout(timeout: Duration) -> Duration {
    sys::round_up(timeout, sys::TIMEOUT_UNIT)
}

/// `connect(2)` on a nonblocking socket, waiting for it in `poll(2)`
/// (`WSAPoll`) for at most `timeout` (`None`: no limit).
///
/// On success the calls are `connect` and `poll` (none after a connect that
/// completes at once): a socket reported writable with no error or hang-up
/// is connected, so `SO_ERROR` is read only when the wait reports a failure.
/// socket2's `connect_timeout` makes the same wait between two pairs of
/// `fcntl` calls. The wait is never shorter than `timeout`: each `poll` is
/// given the time left rounded up to whole milliseconds, and a wait that a
/// signal cuts short goes on for the time left.
fn connect_nonblocking(
    socket: &Socket,
    sockaddr: &SockAddr,
    timeout: Option<Duration>,
) -> io::Result<()> {
    match socket.connect(sockaddr) {
        Ok(()) => return Ok(()),
        Err(e) if sys::connect_in_progress(&e) || e.kind() == io::ErrorKind::Interrupted => {}
        Err(e) => return Err(e),
    }
    let deadline = timeout.map(|t| crate::deadline::deadline(Instant::now(), t));
    loop {
        let wait = match deadline {
            None | Some(None) => None,
            Some(Some(deadline)) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(io::ErrorKind::TimedOut.into());
                }
                Some(left)
            }
        };
        match sys::poll_connect(socket, crate::deadline::poll_millis(wait))? {
            sys::Connecting::Pending => continue,
            sys::Connecting::Connected => return Ok(()),
            sys::Connecting::Failed => return outcome(SockRef::from(socket)),
        }
    }
}

/// One attempt of a race: its place in the order tried (for the error
/// list), its address, and its socket in the form the driver waits on.
#[derive(Debug)]
pub(crate) struct Attempt<S> {
    pub(crate) index: usize,
    pub(crate) addr: SocketAddr,
    pub(crate) socket: S,
}

/// The pending attempts after [`Attempts::settle`]: the winner, if one
/// connected, and the attempts still under way (the losers if there is a winner).
#[derive(Debug)]
pub(crate) struct Settled<S> {
    pub(crate) winner: Option<Attempt<S>>,
    pub(crate) pending: Vec<Attempt<S>>,
}

/// What a driver does next, as [`Attempts::next`] says.
#[derive(Debug)]
pub(crate) enum Next {
    /// This attempt connected at once (possible on loopback): it wins.
    Won(Attempt<Socket>),
    /// This attempt's connect is under way: wait for it with the others.
    Pending(Attempt<Socket>),
    /// Wait for a pending attempt to finish, at most this long (`None`: no limit).
    Wait(Option<Duration>),
    /// The race is lost: every address failed, or the connect timeout ran
    /// out. [`Attempts::lost`] gives the error.
    Over,
}

/// One Happy Eyeballs race as both drivers run it: the schedule, the
/// attempts it starts, and the errors of the ones that failed.
#[derive(Debug)]
pub(crate) struct Attempts<'b, T> {
    builder: &'b ConnectorBuilder,
    target: T,
    race: Race,
    errors: Vec<(usize, Error)>,
    began: Instant,
    /// For a name resolved one family at a time: the name, the port, and
    /// which answers may enter the race when.
    resolving: Option<Resolving>,
}

/// The families asked, for a log line: `IPv6 and IPv4`.
struct Families<'a>(&'a [Domain]);

impl fmt::Display for Families<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, family) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" and ")?;
            }
            write!(f, "{family}")?;
        }
        Ok(())
    }
}

/// A name being resolved per family while its race runs.
#[derive(Debug)]
struct Resolving {
    name: String,
    port: u16,
    resolution: Resolution,
}

impl<'b, T: fmt::Display> Attempts<'b, T> {
    /// A race over `addrs` (resolved and checked), in the order the
    /// builder's race settings give, starting now.
    pub(crate) fn new(builder: &'b ConnectorBuilder, target: T, addrs: &[SocketAddr]) -> Self {
        let settings = &builder.race;
        let order = schedule::interleave(addrs, settings.family, settings.first_count);
        if order.len() > 1 {
            debug!(
                "racing {target} (RFC 8305): order [{}], {:?} between attempts",
                List(&order, ", "),
                settings.delay
            );
        }
        let began = Instant::now();
        Attempts {
            race: Race::new(
                order,
                settings.delay,
                settings.in_flight,
                began,
                builder.timeout(),
            ),
            builder,
            target,
            errors: Vec::new(),
            began,
            resolving: None,
        }
    }

    /// A race over the addresses of `name` that are still being looked up
    /// in `families`, starting now: the answers come through
    /// [`answered`](Self::answered) and enter the race as RFC 8305,
    /// section 3, says. The connect timeout bounds resolution and race.
    pub(crate) fn resolving(
        builder: &'b ConnectorBuilder,
        target: T,
        name: &str,
        port: u16,
        families: &[Domain],
    ) -> Self {
        let settings = &builder.race;
        let began = Instant::now();
        let mut race = Race::new(
            Vec::new(),
            settings.delay,
            settings.in_flight,
            began,
            builder.timeout(),
        );
        race.expect(true);
        debug!(
            "racing {target} (RFC 8305) as the {} answers for {name} come: {:?} between attempts, {:?} resolution delay",
            Families(families),
            settings.delay,
            settings.resolution_delay
        );
        Attempts {
            race,
            builder,
            target,
            errors: Vec::new(),
            began,
            resolving: Some(Resolving {
                name: name.to_owned(),
                port,
                resolution: Resolution::new(families, settings.family, settings.resolution_delay),
            }),
        }
    }

    /// Records one family's answer for the name being resolved; its
    /// addresses enter the race when [`next`](Self::next) says so. A family
    /// that failed is logged and kept for the error of a lost race.
    pub(crate) fn answered(&mut self, family: Domain, answer: io::Result<Vec<SocketAddr>>) {
        let Some(resolving) = &mut self.resolving else {
            return;
        };
        let now = Instant::now();
        let answer = match answer {
            Ok(mut addrs) => {
                addrs.retain(|a| match self.builder.opts.check_inet(a) {
                    Ok(()) => true,
                    Err(err) => {
                        debug!("{} ({family}): {a} left out: {err}", resolving.name);
                        false
                    }
                });
                for addr in &mut addrs {
                    addr.set_port(resolving.port);
                }
                debug!(
                    "{} ({family}) answered after {:?}: [{}]",
                    resolving.name,
                    self.began.elapsed(),
                    List(&addrs, ", ")
                );
                Ok(addrs)
            }
            Err(source) => {
                let err = Error::Resolve {
                    target: resolving.name.clone(),
                    family: Some(family),
                    error: source,
                };
                debug!("{err}");
                Err(err)
            }
        };
        resolving.resolution.answered(family, answer, now);
        if resolving.resolution.holding() {
            debug!(
                "{}: waiting up to {:?} for the {} answer (RFC 8305 resolution delay)",
                resolving.name, self.builder.race.resolution_delay, self.builder.race.family
            );
        }
    }

    /// Gives the race the answers that may enter it now, and tells it
    /// whether more may come.
    fn release(&mut self, now: Instant) {
        let Some(resolving) = &mut self.resolving else {
            return;
        };
        let holding = resolving.resolution.holding();
        let new = resolving.resolution.release(now);
        if !new.is_empty() {
            let settings = &self.builder.race;
            let before = self.race.known();
            if holding {
                debug!(
                    "{}: no {} answer within the resolution delay; starting with [{}]",
                    resolving.name,
                    settings.family,
                    List(&new, ", ")
                );
            }
            self.race.add(&new, settings.family, settings.first_count);
            if before > 0 {
                debug!("[{}] joined the race for {}", List(&new, ", "), self.target);
            }
        }
        self.race.expect(resolving.resolution.pending());
    }

    /// The end of the resolution delay, if it is running and comes before `wait` ends.
    fn shorten(&self, wait: Option<Duration>, now: Instant) -> Option<Duration> {
        let due = self
            .resolving
            .as_ref()
            .and_then(|r| r.resolution.next_due())
            .map(|t| t.saturating_duration_since(now));
        match (wait, due) {
            (Some(w), Some(d)) => Some(w.min(d)),
            (w, d) => w.or(d),
        }
    }

    /// Asks the schedule what to do now; starts the attempt it asks for.
    pub(crate) fn next(&mut self) -> Next {
        loop {
            let now = Instant::now();
            self.release(now);
            let (index, addr) = match self.race.step(now) {
                Step::Start { index, addr } => (index, addr),
                Step::Wait(wait) => return Next::Wait(self.shorten(wait, now)),
                Step::TimedOut | Step::Exhausted => return Next::Over,
            };
            self.race.started(now);
            debug!(
                "attempt {} to {addr} ({}) started",
                index + 1,
                Domain::for_address(&addr)
            );
            match begin(self.builder, addr) {
                Ok(Begun::Connected(socket)) => {
                    return Next::Won(Attempt {
                        index,
                        addr,
                        socket,
                    })
                }
                Ok(Begun::Pending(socket)) => {
                    return Next::Pending(Attempt {
                        index,
                        addr,
                        socket,
                    })
                }
                Err(err) => self.failed(index, err),
            }
        }
    }

    /// Goes through the pending attempts in the order they started, asking
    /// `done` how each one ended (`None`: still pending): the first one
    /// connected is the winner; the failed ones are recorded and leave the
    /// race (the next attempt is then due at once if the latest one failed).
    /// `done` is not asked about the attempts after a winner.
    pub(crate) fn settle<S>(
        &mut self,
        pending: Vec<Attempt<S>>,
        mut done: impl FnMut(&Attempt<S>) -> Option<io::Result<()>>,
    ) -> Settled<S> {
        let mut winner = None;
        let mut rest = Vec::with_capacity(pending.len());
        for attempt in pending {
            if winner.is_some() {
                rest.push(attempt);
                continue;
            }
            match done(&attempt) {
                None => rest.push(attempt),
                Some(Ok(())) => winner = Some(attempt),
                Some(Err(source)) => {
                    let err = Error::Connect {
                        addr: Address::Inet(attempt.addr),
                        error: source,
                    };
                    self.failed(attempt.index, err);
                }
            }
        }
        Settled {
            winner,
            pending: rest,
        }
    }

    /// The error of a readiness wait that failed (not expected with open
    /// sockets): a connect error for the first pending attempt, or, with
    /// none pending, a resolve error for the target. Every socket is closed.
    pub(crate) fn wait_failed<S>(&self, pending: &[Attempt<S>], source: io::Error) -> Error {
        match pending.first() {
            Some(attempt) => Error::Connect {
                addr: Address::Inet(attempt.addr),
                error: source,
            },
            None => Error::resolve(self.target.to_string(), source),
        }
    }

    /// Records a failed attempt: the next one is due at once if it was the latest.
    fn failed(&mut self, index: usize, err: Error) {
        debug!("attempt {} failed: {err}", index + 1);
        self.race.failed(index, Instant::now());
        self.errors.push((index, err));
    }

    /// Ends a won race: logs the winner, closes every loser at once.
    pub(crate) fn won<S>(self, winner: &Attempt<S>, losers: Vec<Attempt<S>>) {
        debug!(
            "attempt {} to {} won after {:?}",
            winner.index + 1,
            winner.addr,
            self.began.elapsed()
        );
        for loser in losers {
            debug!("attempt {} to {} cancelled", loser.index + 1, loser.addr);
            drop(loser.socket);
        }
    }

    /// Ends a lost race: the attempts still pending (the connect timeout
    /// ran out) fail with `TimedOut` and are closed; the error lists every
    /// attempt in the order tried.
    pub(crate) fn lost<S>(mut self, pending: Vec<Attempt<S>>) -> Error {
        for attempt in pending {
            let err = Error::Connect {
                addr: Address::Inet(attempt.addr),
                error: match self.builder.timeout() {
                    Some(after) => timed_out(after),
                    None => io::ErrorKind::TimedOut.into(),
                },
            };
            debug!("attempt {} cancelled: {err}", attempt.index + 1);
            self.errors.push((attempt.index, err));
        }
        self.errors.sort_by_key(|(index, _)| *index);
        let mut errors: Vec<Error> = self.errors.into_iter().map(|(_, e)| e).collect();
        if let Some(mut resolving) = self.resolving {
            let resolution = &mut resolving.resolution;
            if errors.is_empty() {
                if resolution.pending() {
                    let timeout = self.builder.timeout().unwrap_or_default();
                    return Error::resolve(
                        self.target.to_string(),
                        io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("no address within the connect timeout ({timeout:?})"),
                        ),
                    );
                }
                return resolution.no_address(&self.target.to_string());
            }
            let resolve_errors = resolution.take_errors();
            if !resolve_errors.is_empty() {
                errors.extend(resolve_errors);
                return Error::AllAttemptsFailed {
                    target: self.target.to_string(),
                    attempts: errors,
                };
            }
        }
        resolve::failure(self.target.to_string(), errors)
    }
}

/// How a nonblocking connect began.
pub(crate) enum Begun {
    /// Connected at once (possible on loopback).
    Connected(Socket),
    /// Going on in the background.
    Pending(Socket),
}

/// Prepares a socket for `addr` like any attempt, nonblocking from its
/// creation, then starts the connect.
fn begin(builder: &ConnectorBuilder, addr: SocketAddr) -> Result<Begun> {
    let shown = Address::Inet(addr);
    let socket = builder.prepare(addr, &shown, Type::Stream, true)?;
    start(socket, &addr.into(), &shown)
}

/// Starts a nonblocking connect on a prepared socket made nonblocking
/// (`prepare` or `prepare_unix` with `nonblocking` true).
pub(crate) fn start(socket: Socket, sockaddr: &SockAddr, shown: &Address) -> Result<Begun> {
    match socket.connect(sockaddr) {
        Ok(()) => Ok(Begun::Connected(socket)),
        // A signal during a nonblocking connect leaves it going on in the background.
        Err(e) if sys::connect_in_progress(&e) || e.kind() == io::ErrorKind::Interrupted => {
            Ok(Begun::Pending(socket))
        }
        Err(source) => Err(Error::Connect {
            addr: shown.clone(),
            error: source,
        }),
    }
}

/// How a socket whose connect the wait reported as failed ended: the
/// pending error (`SO_ERROR`) if there is one, otherwise connected if it has
/// a peer (an error or hang-up reported after the connect succeeded).
pub(crate) fn outcome(socket: SockRef<'_>) -> io::Result<()> {
    if let Some(err) = socket.take_error()? {
        return Err(err);
    }
    socket.peer_addr().map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_connect_is_checked_where_the_two_addresses_can_be_equal() {
        let target: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut builder = ConnectorBuilder::new();
        builder.local_address("127.0.0.1:5000".parse().unwrap());
        assert!(builder.may_meet_itself(target));
        assert!(!builder.may_meet_itself("127.0.0.1:5001".parse().unwrap()));
        assert!(!builder.may_meet_itself("127.0.0.2:5000".parse().unwrap()));
        builder.local_address("0.0.0.0:5000".parse().unwrap());
        assert!(builder.may_meet_itself("127.0.0.9:5000".parse().unwrap()));
        // The IPv6 source address says nothing of an IPv4 target.
        builder.local_address("[::1]:5001".parse().unwrap());
        assert!(builder.may_meet_itself(target));
        assert!(!builder.may_meet_itself("[::1]:5000".parse().unwrap()));
        // An ephemeral source port: checked where the kernel may pick the
        // target's port, or where that range is unknown.
        let builder = ConnectorBuilder::new();
        match sys::ephemeral_ports() {
            Some(range) => {
                let port = *range.start();
                assert!(builder.may_meet_itself(SocketAddr::from(([127, 0, 0, 1], port))));
                if port > 1 {
                    assert!(!builder.may_meet_itself(SocketAddr::from(([127, 0, 0, 1], port - 1))));
                }
            }
            None => assert!(builder.may_meet_itself(target)),
        }
    }

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
}
