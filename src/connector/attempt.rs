//! What every connect attempt does, whichever driver runs it: create a
//! socket, set every option, bind the source address, start the connect
//! ([`start`]), read how it ended ([`outcome`]), and finish the winner
//! ([`ConnectorBuilder::connected`]).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use log::{Level, log_enabled};
use socket2::{SockAddr, SockRef, Socket};

use super::self_connect::SELF_CONNECT_RETRIES;
use crate::options::{Phase, set_result};
use crate::{Address, CONNECTOR_LOG, ConnectorBuilder, Domain, Error, Result, Type, sys};

impl ConnectorBuilder {
    /// One attempt on a fresh socket: create, configure, bind the source
    /// address, connect, then finish the socket as `io` says. A TCP socket
    /// that connected to itself is closed; with an ephemeral source port the
    /// attempt is made again on a fresh socket, at most
    /// [`SELF_CONNECT_RETRIES`] times, as the kernel then picks another port.
    #[inline]
    pub(crate) fn attempt(&self, addr: SocketAddr, implied: Type, io: IoMode) -> Result<Socket> {
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
    fn attempt_again(&self, addr: SocketAddr, io: IoMode, mut err: Error) -> Result<Socket> {
        let shown = Address::Inet(addr);
        let nonblocking = self.connects_nonblocking(Type::Stream);
        let mut retries = 0;
        loop {
            if self.fixed_source_port_for(addr) || retries == SELF_CONNECT_RETRIES {
                return Err(err);
            }
            retries += 1;
            connector_debug!("{err}; trying again on a fresh socket");
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
            connector_debug!(
                "a fixed source port cannot be shared by parallel attempts: trying {target} one address at a time"
            );
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
        if let Some(local) = local {
            if local.port() == 0 && implied == Type::Stream {
                defer_source_port(&socket, &local);
            }
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
        self.opts
            .create_with(Domain::Unix, Type::Stream, shown, nonblocking)
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
    /// a connected socket, then the mode: for [`IoMode::Blocking`] the one asked
    /// for, for [`IoMode::Async`] nonblocking (one `ioctl(FIONBIO)` if the
    /// socket, made with `nonblocking_now`, is not in it yet).
    #[inline]
    pub(crate) fn connected(
        &self,
        socket: &Socket,
        addr: &Address,
        nonblocking_now: bool,
        io: IoMode,
    ) -> Result<()> {
        if log_enabled!(target: CONNECTOR_LOG, Level::Debug) {
            log_connected(socket, addr);
        }
        let side = self.opts.side;
        self.opts
            .set
            .apply(Phase::Connected, socket, domain_of(addr), addr, side)?;
        match io {
            IoMode::Blocking => self.opts.finish_nonblocking(socket, addr, nonblocking_now),
            IoMode::Async if nonblocking_now => Ok(()),
            IoMode::Async => set_result("O_NONBLOCK", addr, sys::set_nonblocking(socket, true)),
        }
    }
}

/// The `debug` line of a connected socket: its own address and the peer's.
fn log_connected(socket: &Socket, addr: &Address) {
    match socket.local_addr().ok().and_then(|a| a.as_socket()) {
        Some(local) => connector_debug!("connected {local} -> {addr}"),
        None => connector_debug!("connected to {addr}"),
    }
}

/// Before `bind(ip:0)` of a TCP socket, where the platform can: lets the
/// kernel pick the source port at `connect`, knowing the destination
/// (`IP_BIND_ADDRESS_NO_PORT` on Linux, `SO_REUSE_UNICASTPORT` on
/// Windows). Without it the port is picked at `bind`, unique across every
/// destination, and one source address runs out after as many connections
/// as the ephemeral range has ports. A kernel that refuses the option
/// picks the port at `bind` as before: one `debug` line says so.
// Where the platform has no such option, `on_defer_source_port!` leaves
// `socket` unused.
#[allow(unused_variables)]
fn defer_source_port(socket: &Socket, local: &SocketAddr) {
    if !crate::platform::has::DEFER_SOURCE_PORT {
        return;
    }
    let option = if crate::platform::has::WINDOWS {
        "SO_REUSE_UNICASTPORT"
    } else {
        "IP_BIND_ADDRESS_NO_PORT"
    };
    if let Err(err) =
        on_defer_source_port!(sys::defer_source_port(socket), "IP_BIND_ADDRESS_NO_PORT")
    {
        connector_debug!(
            "{option} not set for source {local} ({}): the port is picked at bind",
            crate::error::Cause(&err)
        );
    }
}

/// The error of an attempt whose family has no source address set, when
/// the other family has one.
fn no_source_address(domain: Domain, addr: SocketAddr) -> Error {
    Error::invalid(format!(
        "no {domain} source address set to connect to {addr}"
    ))
}

/// Who will do I/O on a connected socket, which decides its final mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IoMode {
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
                connector_debug!("connect interrupted by a signal; waiting again");
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
    socket.set_write_timeout(Some(sys::os_timeout(timeout)))?;
    let result = connect_blocking(socket, sockaddr);
    socket.set_write_timeout(None)?;
    match result {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(io::ErrorKind::TimedOut.into()),
        other => other,
    }
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
    let deadline = timeout.map(|t| crate::bounded::deadline::deadline(Instant::now(), t));
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
        match sys::poll_connect(socket, crate::bounded::deadline::poll_millis(wait))? {
            sys::Connecting::Pending => continue,
            sys::Connecting::Connected => return Ok(()),
            sys::Connecting::Failed => return outcome(SockRef::from(socket)),
        }
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
pub(crate) fn begin(builder: &ConnectorBuilder, addr: SocketAddr) -> Result<Begun> {
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
