//! The tutorial's exchange: the client sends `Hello from client`, the server
//! answers `Hello from server`.
//!
//! [`Exchange`] carries one side of it over a [`TcpStream`](std::net::TcpStream), a Unix stream,
//! a [`UdpSocket`] or any `Read + Write` value, wire-compatible with the
//! classic C programs and hardened against peers that are slow, silent,
//! talkative or gone.
//!
//! # Framing
//!
//! The C programs do not frame their messages: the client writes 17 bytes
//! with no newline and does not shut down its write side; the server makes
//! one `read` of at most 1023 bytes. A receiver that must interoperate with
//! them cannot wait for a terminator or for end-of-file, yet must not assume
//! that a message arrives in one segment either. So a message received here
//! is complete at the first of:
//!
//! 1. **the expected message**: the bytes received equal what
//!    [`Exchange::expect`] names (by default the peer's tutorial greeting).
//!    This is the fast path: no waiting beyond the bytes themselves, however
//!    they are split;
//! 2. **end of file**: the peer closed its side after sending something;
//! 3. **a quiet gap**: for any other message, no new byte for
//!    [`Exchange::quiet`] (default [`DEFAULT_QUIET`]) after the last one,
//!    the whole gap within the timeout.
//!
//! A proper beginning of the expected message (`Hello`, or `Hello fr`) is
//! not "any other message": it is the expected one still arriving, so the
//! quiet gap does not end it, and a greeting split across slow segments is
//! never cut short. It completes when the rest arrives; if the rest never
//! does, the receive fails at the timeout with a
//! [`TimedOut`](io::ErrorKind::TimedOut) error (`peer sent only 5 bytes of
//! its message within 5s`), or at end of file with the
//! [`UnexpectedEof`](io::ErrorKind::UnexpectedEof) error described below.
//!
//! Closing before sending anything, or part way through the expected
//! message, is an [`UnexpectedEof`](io::ErrorKind::UnexpectedEof) error;
//! more than [`Exchange::max_message`] bytes (default [`DEFAULT_MAX_MESSAGE`])
//! is an [`InvalidData`](io::ErrorKind::InvalidData) error, detected with a
//! buffer of exactly one byte more than the maximum, so a peer never decides
//! how much is allocated (into a caller's buffer, with
//! [`Exchange::run_into`], the limit is also the buffer's length, and one
//! byte of the exchange's own tells a message that overflows it); nothing at
//! all within [`Exchange::timeout`]
//! (default [`DEFAULT_TIMEOUT`]) is a [`TimedOut`](io::ErrorKind::TimedOut)
//! error. The timeout bounds each side's whole receive, so a peer sending one
//! byte at a time cannot hold it open for longer: when the time runs out
//! with bytes still arriving, or during a quiet gap, that too is a
//! [`TimedOut`](io::ErrorKind::TimedOut) error.
//!
//! A peer that resets the connection (closing it with `SO_LINGER` 0, or
//! closing with unread data) gives the operating system's error,
//! [`ConnectionReset`](io::ErrorKind::ConnectionReset) on Linux. Every error
//! names the peer by the address it had when the exchange began, even when
//! the reset socket can no longer report it. A signal that interrupts a read
//! or a write ([`Interrupted`](io::ErrorKind::Interrupted)) is retried, and
//! does not make the receive outlast its timeout.
//!
//! The bytes are returned as they arrived, UTF-8 or not; the crate's log
//! lines show how many bytes moved, never the bytes themselves.
//!
//! Datagram exchanges need none of this: one datagram is one message, and
//! it may be empty.
//!
//! # Serving many clients
//!
//! [`Server`] accepts connections and runs the server side for each client
//! on a few worker threads driven by readiness (`poll(2)`, `WSAPoll`), so a
//! client that stalls costs its socket, not a thread; at most
//! [`DEFAULT_MAX_CLIENTS`] at once, each client's [`Outcome`] reported to a
//! callback. It frames each message by the same rules as [`Exchange::run`],
//! with the same errors: both drive one implementation of them, and differ
//! only in how they wait (a blocking `read` with a socket timeout, or the
//! workers' readiness wait and timers).
//!
//! # Examples
//!
//! ```
//! use std::thread;
//! use sockwright::hello::{Exchange, CLIENT_GREETING, SERVER_GREETING};
//! use sockwright::{ConnectorBuilder, ListenerBuilder};
//!
//! let listener = ListenerBuilder::new().listen("127.0.0.1:0")?;
//! let addr = listener.local_addr()?;
//! let server = thread::spawn(move || -> sockwright::Result<Vec<u8>> {
//!     let (mut conn, _) = listener.accept().expect("accept");
//!     Exchange::server().run(&mut conn)
//! });
//! let mut stream = ConnectorBuilder::new().connect(addr)?;
//! let reply = Exchange::client().run(&mut stream)?;
//! assert_eq!(reply, SERVER_GREETING.as_bytes());
//! assert_eq!(server.join().unwrap()?, CLIENT_GREETING.as_bytes());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use log::{Level, debug, log_enabled, trace};

use crate::{Address, Error, HELLO_LOG, Result, sys};

mod framer;
mod server;
mod transport;

pub(crate) use framer::too_long;
/// The framer, for the `hello_receive` fuzz target only: not part of the
/// crate's API.
#[cfg(fuzzing)]
#[doc(hidden)]
pub use framer::{Framer as FuzzFramer, Verdict as FuzzVerdict};
use framer::{Framer, Verdict, timed_out};
pub use server::{DEFAULT_MAX_CLIENTS, Outcome, Server, Stop, Summary};
pub use transport::{Io, Named, Transport};

/// What the client sends: `Hello from client` (17 bytes, no terminator).
///
/// # Examples
///
/// ```
/// use sockwright::hello::{Exchange, CLIENT_GREETING};
///
/// assert_eq!(Exchange::client().message_bytes(), CLIENT_GREETING.as_bytes());
/// assert_eq!(CLIENT_GREETING.len(), 17);
/// ```
pub const CLIENT_GREETING: &str = "Hello from client";

/// What the server answers: `Hello from server` (17 bytes, no terminator).
///
/// # Examples
///
/// ```
/// use sockwright::hello::{Exchange, SERVER_GREETING};
///
/// assert_eq!(Exchange::server().message_bytes(), SERVER_GREETING.as_bytes());
/// ```
pub const SERVER_GREETING: &str = "Hello from server";

/// The longest message accepted by default: 1024 bytes, one more than the C
/// server's single `read` takes.
///
/// # Examples
///
/// ```
/// use sockwright::hello::{Exchange, DEFAULT_MAX_MESSAGE};
///
/// // Accept greetings up to four times the default.
/// let mut exchange = Exchange::server();
/// exchange.max_message(4 * DEFAULT_MAX_MESSAGE);
/// ```
pub const DEFAULT_MAX_MESSAGE: usize = 1024;

/// How long each side may take by default to receive its message, and how
/// long each write may block: 5 seconds.
///
/// # Examples
///
/// ```
/// use sockwright::hello::{Exchange, DEFAULT_TIMEOUT};
///
/// // Give a slow network twice the default.
/// let mut exchange = Exchange::client();
/// exchange.timeout(DEFAULT_TIMEOUT * 2);
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a message that is not the expected one may pause before it is
/// taken as complete: 200 milliseconds.
///
/// # Examples
///
/// ```
/// use sockwright::hello::{Exchange, DEFAULT_QUIET};
///
/// // A peer on a slow link may pause longer between the parts of its message.
/// let mut exchange = Exchange::server();
/// exchange.quiet(DEFAULT_QUIET * 5);
/// ```
pub const DEFAULT_QUIET: Duration = Duration::from_millis(200);

/// Which side of the exchange an [`Exchange`] plays.
///
/// # Examples
///
/// ```
/// use sockwright::hello::{Exchange, Role};
///
/// assert_eq!(Exchange::server().role(), Role::Server);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// Sends its message, then receives the reply.
    Client,
    /// Receives the greeting, then sends its reply.
    Server,
}

/// One side of the hello exchange, with its message, limits and timeouts.
///
/// Build one with [`Exchange::client`] or [`Exchange::server`], adjust it
/// with the setters, and run it as often as needed with
/// [`run`](Self::run) over a stream (TCP, Unix, or any `Read + Write`: see
/// [`Transport`]) or [`run_udp`](Self::run_udp) over a UDP socket. Each run
/// returns the peer's message; [`run_into`](Self::run_into) receives it
/// into a buffer of yours and allocates nothing, for exchanges that
/// repeat. See the
/// [module documentation](self) for the framing.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sockwright::hello::Exchange;
///
/// let mut server = Exchange::server();
/// server
///     .message("Hello from a patient server")
///     .timeout(Duration::from_secs(30))
///     .max_message(4096);
/// assert_eq!(server.message_bytes(), b"Hello from a patient server");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Exchange {
    role: Role,
    message: Vec<u8>,
    expect: Option<Vec<u8>>,
    max_message: usize,
    timeout: Duration,
    quiet: Duration,
    /// Whether the configuration passes [`check`](Self::check), kept by
    /// the setters so that a run tests one flag; a function of the other
    /// fields, so equality is unchanged.
    valid: bool,
}

impl fmt::Debug for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("role", &self.role)
            .field("message", &self.message)
            .field("expect", &self.expect)
            .field("max_message", &self.max_message)
            .field("timeout", &self.timeout)
            .field("quiet", &self.quiet)
            .finish()
    }
}

impl Default for Exchange {
    fn default() -> Self {
        Exchange::client()
    }
}

impl Exchange {
    /// The client side: sends [`CLIENT_GREETING`], expects
    /// [`SERVER_GREETING`], [`DEFAULT_MAX_MESSAGE`], [`DEFAULT_TIMEOUT`],
    /// [`DEFAULT_QUIET`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::hello::{Exchange, CLIENT_GREETING};
    ///
    /// assert_eq!(Exchange::client().message_bytes(), CLIENT_GREETING.as_bytes());
    /// ```
    pub fn client() -> Exchange {
        Exchange::with_role(Role::Client, CLIENT_GREETING, SERVER_GREETING)
    }

    /// The server side: expects [`CLIENT_GREETING`], answers
    /// [`SERVER_GREETING`], [`DEFAULT_MAX_MESSAGE`], [`DEFAULT_TIMEOUT`],
    /// [`DEFAULT_QUIET`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::hello::{Exchange, SERVER_GREETING};
    ///
    /// assert_eq!(Exchange::server().message_bytes(), SERVER_GREETING.as_bytes());
    /// ```
    pub fn server() -> Exchange {
        Exchange::with_role(Role::Server, SERVER_GREETING, CLIENT_GREETING)
    }

    fn with_role(role: Role, message: &str, expect: &str) -> Exchange {
        Exchange {
            role,
            message: message.as_bytes().to_vec(),
            expect: Some(expect.as_bytes().to_vec()),
            max_message: DEFAULT_MAX_MESSAGE,
            timeout: DEFAULT_TIMEOUT,
            quiet: DEFAULT_QUIET,
            valid: true,
        }
    }

    /// The side this exchange plays.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::hello::{Exchange, Role};
    ///
    /// assert_eq!(Exchange::client().role(), Role::Client);
    /// ```
    pub fn role(&self) -> Role {
        self.role
    }

    /// The message this side sends.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::hello::Exchange;
    ///
    /// assert_eq!(Exchange::client().message("hi").message_bytes(), b"hi");
    /// ```
    pub fn message_bytes(&self) -> &[u8] {
        &self.message
    }

    /// Sets the message this side sends. It must be 1 to
    /// [`max_message`](Self::max_message) bytes, checked when the exchange
    /// runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::hello::Exchange;
    ///
    /// let mut client = Exchange::client();
    /// client.message("Hello from a Rust client");
    /// assert_eq!(client.message_bytes(), b"Hello from a Rust client");
    /// ```
    pub fn message(&mut self, message: impl Into<Vec<u8>>) -> &mut Self {
        self.message = message.into();
        self.valid = self.is_valid();
        self
    }

    /// Sets the message expected from the peer, which completes a receive as
    /// soon as it has arrived; `None` when any message is welcome (it then
    /// completes at end of file or after the quiet gap).
    ///
    /// Default: the peer's tutorial greeting. A different message from the
    /// peer is still accepted; it only takes the quiet gap to complete.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::hello::Exchange;
    ///
    /// let mut client = Exchange::client();
    /// client.expect(None::<Vec<u8>>);
    /// ```
    pub fn expect<M: Into<Vec<u8>>>(&mut self, expect: Option<M>) -> &mut Self {
        self.expect = expect.map(Into::into);
        self
    }

    /// Sets the largest message accepted from the peer, in bytes; a longer
    /// one is an [`InvalidData`](io::ErrorKind::InvalidData) error.
    ///
    /// Each run that returns a vector allocates a receive buffer of at most
    /// `bytes + 1`, whatever the peer sends; [`run_into`](Self::run_into)
    /// receives into the caller's
    /// buffer instead, and take the lesser of `bytes` and its length as the
    /// limit.
    ///
    /// Default: [`DEFAULT_MAX_MESSAGE`]. Zero, or [`isize::MAX`] and above,
    /// is an [`Error::InvalidConfig`] when the exchange runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::hello::Exchange;
    ///
    /// let mut server = Exchange::server();
    /// server.max_message(64);
    /// ```
    pub fn max_message(&mut self, bytes: usize) -> &mut Self {
        self.max_message = bytes;
        self.valid = self.is_valid();
        self
    }

    /// Sets how long this side may take to receive its message, and how long
    /// each write may block.
    ///
    /// Default: [`DEFAULT_TIMEOUT`]. Zero is an [`Error::InvalidConfig`] when
    /// the exchange runs. [`Duration::MAX`] (or any timeout too long for the
    /// clock to reach) means no limit: [`Server`] sets no timer for it, and a
    /// blocking run sets the longest socket timeout the OS holds (no limit
    /// on Linux).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwright::hello::Exchange;
    ///
    /// let mut client = Exchange::client();
    /// client.timeout(Duration::from_secs(1));
    /// ```
    pub fn timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = timeout;
        self.valid = self.is_valid();
        self
    }

    /// Sets the pause after which a message other than the expected one is
    /// taken as complete.
    ///
    /// Default: [`DEFAULT_QUIET`]. Zero is an [`Error::InvalidConfig`] when
    /// the exchange runs. A gap as long as the [`timeout`](Self::timeout) or
    /// longer, [`Duration::MAX`] included, never completes a message: such a
    /// message completes only when the peer closes its side within the
    /// timeout, and the exchange times out otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sockwright::hello::Exchange;
    ///
    /// let mut server = Exchange::server();
    /// server.quiet(Duration::from_millis(50));
    /// ```
    pub fn quiet(&mut self, quiet: Duration) -> &mut Self {
        self.quiet = quiet;
        self.valid = self.is_valid();
        self
    }

    /// Runs the exchange over a stream and returns the peer's message.
    ///
    /// `stream` is a [`TcpStream`](std::net::TcpStream), a Unix stream, any `Read + Write` value
    /// in an [`Io`], or one of these in a [`Named`] that names its peer (see
    /// [`Transport`]). On a socket, sets its read and write timeouts
    /// (`SO_RCVTIMEO`, `SO_SNDTIMEO`) to [`timeout`](Self::timeout),
    /// shortening the read timeout as the receive goes on (to what is left
    /// of the timeout, or to the quiet gap); they stay set as they were last
    /// set. An [`Io`] gets no timeout: its own read decides how long it
    /// waits.
    ///
    /// The message is returned in a vector allocated for it; where exchanges
    /// repeat, [`run_into`](Self::run_into) receives it into a buffer of
    /// yours and allocates nothing.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for an empty or oversized message or a zero
    /// limit, [`Error::SetOption`] if a socket's timeout cannot be set, and
    /// [`Error::Exchange`] naming the step and the peer when sending or
    /// receiving fails (see the [module documentation](self) for each kind).
    ///
    /// A socket's peer address is read (`getpeername(2)`) only when an error
    /// or a `debug` log line names it, so a successful exchange makes no
    /// call for it. A peer that reset the connection has no address any more
    /// and is shown as [`Address::Unknown`]; when you know the address (from
    /// `accept` or the connect), pass the stream in a [`Named`], as
    /// [`Server`] names its clients.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::thread;
    /// use sockwright::hello::{Exchange, CLIENT_GREETING, SERVER_GREETING};
    /// use sockwright::{ConnectorBuilder, ListenerBuilder};
    ///
    /// let listener = ListenerBuilder::new().listen("127.0.0.1:0")?;
    /// let addr = listener.local_addr()?;
    /// let server = thread::spawn(move || -> sockwright::Result<Vec<u8>> {
    ///     let (mut conn, _) = listener.accept().expect("accept");
    ///     Exchange::server().run(&mut conn)
    /// });
    /// let mut stream = ConnectorBuilder::new().connect(addr)?;
    /// assert_eq!(Exchange::client().run(&mut stream)?, SERVER_GREETING.as_bytes());
    /// assert_eq!(server.join().unwrap()?, CLIENT_GREETING.as_bytes());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run<S: Transport>(&self, stream: &mut S) -> Result<Vec<u8>> {
        self.check()?;
        let mut room = Growing::new(self.max_message);
        let n = self.run_stream(stream, &mut room)?;
        Ok(room.into_message(n))
    }

    /// Runs the exchange over a stream, receiving the peer's message into
    /// `buf`, and returns its length: the message is `&buf[..n]`.
    ///
    /// The exchange is the one [`run`](Self::run) runs, with the same
    /// timeouts, framing, errors and log lines, but it allocates nothing: use
    /// it where exchanges repeat, with a buffer on the stack or one kept
    /// between runs. The message may be up to
    /// [`max_message`](Self::max_message) bytes or `buf.len()` bytes,
    /// whichever is less; a longer one is an
    /// [`InvalidData`](io::ErrorKind::InvalidData) error naming that limit
    /// (`message longer than 64 bytes`). A buffer of 64 bytes holds the
    /// tutorial's greetings. Bytes of `buf` beyond the message may have been
    /// written to.
    ///
    /// # Errors
    ///
    /// As for [`run`](Self::run); an empty `buf` is an
    /// [`Error::InvalidConfig`], before any system call.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::thread;
    /// use sockwright::hello::{Exchange, CLIENT_GREETING, SERVER_GREETING};
    /// use sockwright::{ConnectorBuilder, ListenerBuilder};
    ///
    /// let listener = ListenerBuilder::new().listen("127.0.0.1:0")?;
    /// let addr = listener.local_addr()?;
    /// let server = thread::spawn(move || -> sockwright::Result<bool> {
    ///     let (mut conn, _) = listener.accept().expect("accept");
    ///     let mut buf = [0; 64];
    ///     let n = Exchange::server().run_into(&mut conn, &mut buf)?;
    ///     Ok(&buf[..n] == CLIENT_GREETING.as_bytes())
    /// });
    /// let mut stream = ConnectorBuilder::new().connect(addr)?;
    /// let mut buf = [0; 64];
    /// let n = Exchange::client().run_into(&mut stream, &mut buf)?;
    /// assert_eq!(&buf[..n], SERVER_GREETING.as_bytes());
    /// assert!(server.join().unwrap()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_into<S: Transport>(&self, stream: &mut S, buf: &mut [u8]) -> Result<usize> {
        self.check_into(buf)?;
        self.run_stream(stream, &mut Fixed::new(buf, self.max_message))
    }

    /// Runs the exchange over a UDP socket: one datagram each way.
    ///
    /// The client side needs a connected socket (as
    /// [`ConnectorBuilder::connect_udp`](crate::ConnectorBuilder::connect_udp)
    /// returns): it sends, then waits for the reply from that peer; the
    /// kernel drops datagrams from anyone else. The server side waits for a
    /// datagram from anyone, then replies to its sender. Returns the peer's
    /// message and address; the message may be empty, as a datagram may.
    ///
    /// # Errors
    ///
    /// As for [`run`](Self::run); no datagram within
    /// [`timeout`](Self::timeout) is a [`TimedOut`](io::ErrorKind::TimedOut)
    /// error, a datagram longer than [`max_message`](Self::max_message) is an
    /// [`InvalidData`](io::ErrorKind::InvalidData) error, and an unconnected
    /// client socket fails to send.
    ///
    /// # Platform-specific behavior
    ///
    /// Windows does not tell the sender of a datagram that is too long: the
    /// server side's error then names its own address instead.
    ///
    /// When no socket is bound at the server's address, Linux and the BSDs
    /// report the ICMP error to the client's receive as
    /// [`ConnectionRefused`](io::ErrorKind::ConnectionRefused); Windows
    /// reports it as [`ConnectionReset`](io::ErrorKind::ConnectionReset).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::hello::{Exchange, SERVER_GREETING};
    /// use sockwright::{ConnectorBuilder, ListenerBuilder};
    ///
    /// let server_socket = ListenerBuilder::new().bind_udp("127.0.0.1:0")?;
    /// let addr = server_socket.local_addr()?;
    /// let server = std::thread::spawn(move || Exchange::server().run_udp(&server_socket));
    /// let client = ConnectorBuilder::new().connect_udp(addr)?;
    /// let (reply, from) = Exchange::client().run_udp(&client)?;
    /// assert_eq!((reply.as_slice(), from), (SERVER_GREETING.as_bytes(), addr));
    /// server.join().unwrap()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_udp(&self, socket: &UdpSocket) -> Result<(Vec<u8>, SocketAddr)> {
        self.check()?;
        let local = || socket.local_addr().map_or(Address::Unknown, Address::Inet);
        if let Err(source) = socket
            .set_read_timeout(Some(self.timeout))
            .and_then(|()| socket.set_write_timeout(Some(self.timeout)))
        {
            return Err(Error::SetOption {
                addr: local(),
                option: "SO_RCVTIMEO/SO_SNDTIMEO",
                error: source,
            });
        }
        let mut buf = vec![0; self.max_message + 1];
        match self.role {
            Role::Client => {
                let send = self.role.send_step();
                let peer = socket
                    .peer_addr()
                    .map_err(|e| exchange_error(send, local(), e))?;
                socket
                    .send(&self.message)
                    .map_err(|e| exchange_error(send, Address::Inet(peer), e))?;
                let n = self
                    .receive_datagram(socket, |s| s.recv(&mut buf))
                    .map_err(|e| {
                        exchange_error(self.role.receive_step(), Address::Inet(peer), e)
                    })?;
                self.datagram(buf, n, peer)
            }
            Role::Server => {
                let (n, from) = self
                    .receive_datagram(socket, |s| s.recv_from(&mut buf))
                    .map_err(|e| exchange_error(self.role.receive_step(), local(), e))?;
                let (message, from) = self.datagram(buf, n, from)?;
                socket
                    .send_to(&self.message, from)
                    .map_err(|e| exchange_error(self.role.send_step(), Address::Inet(from), e))?;
                debug!(target: HELLO_LOG, "sent {} bytes to {from}", self.message.len());
                Ok((message, from))
            }
        }
    }

    /// Checks the configuration before touching the stream: one flag, kept
    /// by the setters, for a valid one; the error built out of line.
    #[inline]
    fn check(&self) -> Result<()> {
        if self.valid {
            return Ok(());
        }
        self.invalid()
    }

    /// Whether the configuration is valid, as [`invalid`](Self::invalid)
    /// finds it: a few comparisons.
    fn is_valid(&self) -> bool {
        self.max_message != 0
            && self.max_message < isize::MAX as usize
            && !self.message.is_empty()
            && self.message.len() <= self.max_message
            && !self.timeout.is_zero()
            && !self.quiet.is_zero()
    }

    /// [`check`](Self::check), and that a caller's receive buffer is not
    /// empty.
    #[inline]
    fn check_into(&self, buf: &[u8]) -> Result<()> {
        self.check()?;
        if buf.is_empty() {
            return Err(Error::invalid("hello receive buffer must not be empty"));
        }
        Ok(())
    }

    /// The error of a configuration that [`check`](Self::check) rejects.
    fn invalid(&self) -> Result<()> {
        if self.max_message == 0 {
            return Err(Error::invalid("hello max_message must not be zero"));
        }
        // The receive buffer holds one byte more.
        if self.max_message >= isize::MAX as usize {
            return Err(Error::invalid(format!(
                "hello max_message must be below {} bytes, not {}",
                isize::MAX,
                self.max_message
            )));
        }
        if self.message.is_empty() || self.message.len() > self.max_message {
            return Err(Error::invalid(format!(
                "hello message must be 1 to {} bytes, not {}",
                self.max_message,
                self.message.len()
            )));
        }
        if self.timeout.is_zero() || self.quiet.is_zero() {
            return Err(Error::invalid(
                "hello timeout and quiet gap must not be zero",
            ));
        }
        Ok(())
    }

    /// Waits for one datagram with `recv`, within the timeout: a signal does
    /// not end the wait early, and running out of time is `TimedOut`.
    fn receive_datagram<T>(
        &self,
        socket: &UdpSocket,
        mut recv: impl FnMut(&UdpSocket) -> io::Result<T>,
    ) -> io::Result<T> {
        let started = Instant::now();
        loop {
            match recv(socket) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    let left = self.left(started);
                    if left.is_zero() {
                        return Err(timed_out(self.timeout, 0));
                    }
                    socket.set_read_timeout(Some(left))?;
                }
                Err(e) if is_timeout(&e) => return Err(timed_out(self.timeout, 0)),
                // Windows fails the receive of a datagram longer than the
                // buffer, where Unix returns it truncated.
                Err(e) if sys::is_message_too_long(&e) => return Err(too_long(self.max_message)),
                other => return other,
            }
        }
    }

    /// Takes a received datagram of `n` bytes from `buf`.
    fn datagram(
        &self,
        mut buf: Vec<u8>,
        n: usize,
        from: SocketAddr,
    ) -> Result<(Vec<u8>, SocketAddr)> {
        if n > self.max_message {
            return Err(exchange_error(
                self.role.receive_step(),
                Address::Inet(from),
                too_long(self.max_message),
            ));
        }
        buf.truncate(n);
        debug!(target: HELLO_LOG, "received {n} bytes from {from}");
        Ok((buf, from))
    }

    /// The stream exchange: the blocking driver of the [`Framer`], which
    /// waits in `read` with the socket's read timeout set to what the
    /// framer asks for.
    fn run_stream<S: Transport>(&self, stream: &mut S, room: &mut impl Room) -> Result<usize> {
        // Looked up only when an error or a debug line names it, so that a
        // successful exchange makes no call for it.
        let shown = |s: &S| s.peer().unwrap_or(Address::Unknown);
        if S::TIMEOUTS {
            if let Err(source) = stream.set_timeouts(self.timeout, true) {
                return Err(Error::SetOption {
                    addr: shown(stream),
                    option: "SO_RCVTIMEO/SO_SNDTIMEO",
                    error: source,
                });
            }
        }
        if self.role == Role::Client {
            self.send(stream, &shown)?;
        }
        let received = match self.receive(stream, room) {
            Ok(received) => {
                if log_enabled!(target: HELLO_LOG, Level::Debug) {
                    debug!(target: HELLO_LOG, "received {received} bytes from {}", shown(stream));
                }
                received
            }
            Err(e) => return Err(exchange_error(self.role.receive_step(), shown(stream), e)),
        };
        if self.role == Role::Server {
            self.send(stream, &shown)?;
        }
        Ok(received)
    }

    fn send<S: Write>(&self, stream: &mut S, shown: &impl Fn(&S) -> Address) -> Result<()> {
        // One write sends a short message whole; `write_all` carries on
        // from wherever a short or interrupted write left off.
        let sent = match stream.write(&self.message) {
            Ok(n) if n == self.message.len() => Ok(()),
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "failed to write whole buffer",
            )),
            Ok(n) => stream.write_all(&self.message[n..]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => stream.write_all(&self.message),
            Err(e) => Err(e),
        };
        sent.and_then(|()| stream.flush())
            .map_err(|e| exchange_error(self.role.send_step(), shown(stream), e))?;
        if log_enabled!(target: HELLO_LOG, Level::Debug) {
            debug!(target: HELLO_LOG, "sent {} bytes to {}", self.message.len(), shown(stream));
        }
        Ok(())
    }

    /// Reads one message, as the [`Framer`] frames it.
    ///
    /// A socket's read timeout is what the framer's next instant leaves
    /// from now, changed only when that differs from the timeout set by more
    /// than [`SLACK`]: a dripping peer's bytes each start the quiet gap
    /// over, and setting it again for each would cost a system call per
    /// read. A stream whose timeouts the crate does not set decides alone
    /// how long each read waits.
    fn receive<S: Transport>(&self, stream: &mut S, room: &mut impl Room) -> io::Result<usize> {
        let mut framer = Framer::new(self, room.limit(), Instant::now());
        let mut len = 0;
        // The read timeout currently set.
        let mut wait = self.timeout;
        loop {
            let verdict = match stream.read(room.next(len)) {
                Ok(0) => framer.end_of_file(self, room.got(len)),
                Ok(n) => {
                    len += n;
                    trace!(target: HELLO_LOG, "read {n} bytes ({len} so far)");
                    let got = room.got(len.min(framer.limit()));
                    framer.received(self, len, got, Instant::now)
                }
                // A signal: read again, but no longer than the deadline
                // allows (a socket's read timeout would start over).
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    framer.waited(self, len, Instant::now())
                }
                Err(e) if is_timeout(&e) && S::TIMEOUTS => framer.waited(self, len, Instant::now()),
                Err(e) if is_timeout(&e) => framer.wait_over(self, len),
                Err(e) => return Err(e),
            };
            match verdict {
                Verdict::Complete => return Ok(len),
                Verdict::Failed(e) => return Err(e),
                Verdict::More(until) if S::TIMEOUTS => {
                    let next = until.map_or(self.timeout, |until| {
                        until.saturating_duration_since(Instant::now())
                    });
                    if next.abs_diff(wait) > SLACK {
                        trace!(target: HELLO_LOG, "waiting {next:?} for more");
                        stream.set_timeouts(next.max(SLACK), false)?;
                        wait = next.max(SLACK);
                    }
                }
                Verdict::More(_) => {}
            }
        }
    }

    /// The time left of a receive that `started`: zero past its deadline.
    fn left(&self, started: Instant) -> Duration {
        self.timeout.saturating_sub(started.elapsed())
    }
}

/// How far a socket's read timeout may be from the wait the framer asks
/// for before the receive sets it again: a wait a millisecond longer than
/// asked for costs nothing, a system call per read would.
const SLACK: Duration = Duration::from_millis(1);

/// Where a stream receive puts the message: a vector of its own for
/// [`Exchange::run`], a caller's buffer for [`Exchange::run_into`].
trait Room {
    /// The most bytes a message may have.
    fn limit(&self) -> usize;

    /// Where the next read goes, after the first `len` bytes of the message
    /// (`len` at most [`limit`](Self::limit)): it is never empty, so a read
    /// that returns zero is end of file.
    fn next(&mut self, len: usize) -> &mut [u8];

    /// The first `len` bytes received, `len` at most [`limit`](Self::limit).
    fn got(&self, len: usize) -> &[u8];
}

/// A vector with room for one byte more than the longest message, which
/// tells a message that is too long, so a peer never decides how much is
/// allocated.
///
/// The room is zeroed as reads need it (safe code cannot read into
/// uninitialised memory): the first read gets [`FIRST_READ`] bytes, which
/// hold the tutorial's greetings (and any message of up to 64 bytes)
/// without zeroing a whole kilobyte for them, and a longer message gets the
/// rest of the room at its second read.
struct Growing {
    buf: Vec<u8>,
    room: usize,
}

/// The bytes [`Growing`] zeroes for the first read.
const FIRST_READ: usize = 64;

impl Growing {
    /// Room for a message of up to `max` bytes, `max` below `isize::MAX`.
    #[inline]
    fn new(max: usize) -> Growing {
        let room = max + 1;
        // Not `vec![0; n]`: that is `calloc`, which costs more for a small
        // buffer than `malloc` and zeroing it here (counted: about 250
        // instructions more per exchange).
        #[allow(clippy::slow_vector_initialization)]
        let buf = {
            let mut buf = Vec::with_capacity(room.min(FIRST_READ));
            buf.resize(room.min(FIRST_READ), 0);
            buf
        };
        Growing { buf, room }
    }

    /// The message of `len` bytes, as the vector returned.
    #[inline]
    fn into_message(mut self, len: usize) -> Vec<u8> {
        self.buf.truncate(len);
        self.buf
    }
}

impl Room for Growing {
    #[inline]
    fn limit(&self) -> usize {
        self.room - 1
    }

    #[inline]
    fn next(&mut self, len: usize) -> &mut [u8] {
        if len == self.buf.len() {
            self.buf.resize(self.room, 0);
        }
        &mut self.buf[len..]
    }

    #[inline]
    fn got(&self, len: usize) -> &[u8] {
        &self.buf[..len]
    }
}

/// A caller's buffer, not empty. A message may fill it; once it is full,
/// the next read goes into one byte of its own, which tells a message that
/// is too long.
struct Fixed<'a> {
    buf: &'a mut [u8],
    limit: usize,
    probe: [u8; 1],
}

impl<'a> Fixed<'a> {
    /// `buf` for a message of up to `max` bytes.
    #[inline]
    fn new(buf: &'a mut [u8], max: usize) -> Fixed<'a> {
        let limit = max.min(buf.len());
        Fixed {
            buf,
            limit,
            probe: [0],
        }
    }
}

impl Room for Fixed<'_> {
    #[inline]
    fn limit(&self) -> usize {
        self.limit
    }

    #[inline]
    fn next(&mut self, len: usize) -> &mut [u8] {
        match self.buf.get_mut(len..) {
            Some(rest) if !rest.is_empty() => rest,
            _ => &mut self.probe,
        }
    }

    #[inline]
    fn got(&self, len: usize) -> &[u8] {
        &self.buf[..len]
    }
}

impl Role {
    fn send_step(self) -> Step {
        match self {
            Role::Client => Step::SendGreeting,
            Role::Server => Step::SendReply,
        }
    }

    fn receive_step(self) -> Step {
        match self {
            Role::Client => Step::ReceiveReply,
            Role::Server => Step::ReceiveGreeting,
        }
    }
}

/// The step of an exchange that failed, in [`Error::Exchange`].
///
/// Shown as the words that begin the error's message, followed there by the
/// peer's address: `receive greeting from 127.0.0.1:5000: ...`.
///
/// # Examples
///
/// ```
/// use sockwright::hello::Step;
///
/// assert_eq!(Step::ReceiveGreeting.to_string(), "receive greeting from");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// The client sending its greeting: `send greeting to`.
    SendGreeting,
    /// The server receiving the client's greeting: `receive greeting from`.
    ReceiveGreeting,
    /// The server sending its reply: `send reply to`.
    SendReply,
    /// The client receiving the server's reply: `receive reply from`.
    ReceiveReply,
    /// [`Server`] putting an accepted connection in nonblocking mode:
    /// `set nonblocking mode for`.
    SetNonblocking,
    /// [`Server`] starting the worker thread that would serve a client:
    /// `start a worker for`.
    StartWorker,
    /// [`Server`] waiting for a client's socket to be ready, when the
    /// readiness wait itself fails: `wait for`.
    Wait,
    /// [`Server`] serving a client whose exchange panicked: `serve`.
    Serve,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::SendGreeting => "send greeting to",
            Step::ReceiveGreeting => "receive greeting from",
            Step::SendReply => "send reply to",
            Step::ReceiveReply => "receive reply from",
            Step::SetNonblocking => "set nonblocking mode for",
            Step::StartWorker => "start a worker for",
            Step::Wait => "wait for",
            Step::Serve => "serve",
        })
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn exchange_error(step: Step, peer: Address, source: io::Error) -> Error {
    Error::Exchange {
        step,
        peer,
        error: source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::io::Read;

    /// A peer that hands out scripted read results and records writes.
    struct Script {
        reads: VecDeque<io::Result<Vec<u8>>>,
        written: Vec<u8>,
    }

    impl Script {
        fn new(reads: Vec<io::Result<&[u8]>>) -> Script {
            Script {
                reads: reads.into_iter().map(|r| r.map(<[u8]>::to_vec)).collect(),
                written: Vec::new(),
            }
        }
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.reads.pop_front() {
                None => Ok(0),
                Some(Err(e)) => Err(e),
                Some(Ok(mut chunk)) => {
                    let n = chunk.len().min(buf.len());
                    buf[..n].copy_from_slice(&chunk[..n]);
                    if n < chunk.len() {
                        self.reads.push_front(Ok(chunk.split_off(n)));
                    }
                    Ok(n)
                }
            }
        }
    }

    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn peer() -> Address {
        Address::Inet("127.0.0.1:8080".parse().unwrap())
    }

    fn named(wire: &mut Script) -> Named<Io<&mut Script>> {
        Named::new(Io(wire), peer())
    }

    fn kind_of(err: Error) -> io::ErrorKind {
        assert!(matches!(err, Error::Exchange { .. }), "{err}");
        err.kind()
    }

    #[test]
    fn greeting_split_byte_by_byte_completes_without_waiting() {
        let bytes: Vec<&[u8]> = CLIENT_GREETING.as_bytes().chunks(1).collect();
        let mut wire = Script::new(bytes.into_iter().map(Ok).collect());
        // More data after the greeting must not be read: the greeting is complete.
        wire.reads.push_back(Ok(b"extra".to_vec()));
        let got = Exchange::server().run(&mut named(&mut wire)).unwrap();
        assert_eq!(got, CLIENT_GREETING.as_bytes());
        assert_eq!(wire.written, SERVER_GREETING.as_bytes());
        assert_eq!(wire.reads.len(), 1);
    }

    #[test]
    fn interrupted_reads_are_retried() {
        let interrupted = || Err(io::Error::from(io::ErrorKind::Interrupted));
        let mut wire = Script::new(vec![
            interrupted(),
            Ok(b"Hello from "),
            interrupted(),
            Ok(b"client"),
        ]);
        let got = Exchange::server().run(&mut named(&mut wire)).unwrap();
        assert_eq!(got, CLIENT_GREETING.as_bytes());
    }

    #[test]
    fn other_message_ends_at_quiet_gap_or_eof() {
        let gap = || Err(io::Error::from(io::ErrorKind::WouldBlock));
        let mut wire = Script::new(vec![Ok(b"hi "), Ok(b"there"), gap(), Ok(b"late")]);
        assert_eq!(
            Exchange::server().run(&mut named(&mut wire)).unwrap(),
            b"hi there"
        );
        let mut wire = Script::new(vec![Ok(b"bye")]);
        assert_eq!(
            Exchange::server().run(&mut named(&mut wire)).unwrap(),
            b"bye"
        );
    }

    #[test]
    fn silent_closed_truncated_and_oversized_peers_are_errors() {
        let mut silent = Script::new(vec![]);
        let err = Exchange::server().run(&mut named(&mut silent)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("receive greeting from 127.0.0.1:8080: "),
            "{err}"
        );
        assert_eq!(kind_of(err), io::ErrorKind::UnexpectedEof);
        assert!(
            silent.written.is_empty(),
            "no reply to a peer that said nothing"
        );

        let mut half = Script::new(vec![Ok(b"Hello fr")]);
        let err = Exchange::server().run(&mut named(&mut half)).unwrap_err();
        assert!(err.to_string().contains("after 8 of 17 bytes"), "{err}");
        assert_eq!(kind_of(err), io::ErrorKind::UnexpectedEof);

        let big = vec![b'x'; DEFAULT_MAX_MESSAGE + 500];
        let mut flood = Script::new(vec![Ok(&big)]);
        let err = Exchange::server().run(&mut named(&mut flood)).unwrap_err();
        assert!(err.to_string().contains("longer than 1024 bytes"), "{err}");
        assert_eq!(kind_of(err), io::ErrorKind::InvalidData);
    }

    #[test]
    fn exactly_max_message_is_accepted() {
        let exact = vec![b'y'; 32];
        let mut wire = Script::new(vec![Ok(&exact)]);
        let got = Exchange::server()
            .max_message(32)
            .run(&mut named(&mut wire))
            .unwrap();
        assert_eq!(got, exact);
    }

    #[test]
    fn invalid_configuration_is_rejected_before_io() {
        let mut wire = Script::new(vec![Ok(b"Hello from client")]);
        for ex in [
            Exchange::server().message("").clone(),
            Exchange::server().max_message(0).clone(),
            Exchange::server().max_message(4).clone(),
            Exchange::server().timeout(Duration::ZERO).clone(),
            Exchange::server().quiet(Duration::ZERO).clone(),
        ] {
            let err = ex.run(&mut named(&mut wire)).unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        }
        assert_eq!(wire.reads.len(), 1, "nothing was read");
        assert!(wire.written.is_empty(), "nothing was written");
    }

    #[test]
    fn a_setter_that_makes_the_configuration_valid_again_is_honoured() {
        let mut ex = Exchange::server();
        ex.max_message(0);
        let mut wire = Script::new(vec![Ok(CLIENT_GREETING.as_bytes())]);
        assert!(matches!(
            ex.run(&mut named(&mut wire)),
            Err(Error::InvalidConfig { .. })
        ));
        ex.max_message(DEFAULT_MAX_MESSAGE);
        assert_eq!(ex, Exchange::server());
        assert_eq!(format!("{ex:?}"), format!("{:?}", Exchange::server()));
        assert!(!format!("{ex:?}").contains("valid"));
        assert_eq!(
            ex.run(&mut named(&mut wire)).unwrap(),
            CLIENT_GREETING.as_bytes()
        );
    }

    #[test]
    fn into_a_buffer_the_message_is_the_same_as_into_a_vector() {
        let bytes: Vec<&[u8]> = CLIENT_GREETING.as_bytes().chunks(3).collect();
        let mut wire = Script::new(bytes.into_iter().map(Ok).collect());
        let mut buf = [0; 64];
        let n = Exchange::server()
            .run_into(&mut named(&mut wire), &mut buf)
            .unwrap();
        assert_eq!(&buf[..n], CLIENT_GREETING.as_bytes());
        assert_eq!(wire.written, SERVER_GREETING.as_bytes());

        let gap = || Err(io::Error::from(io::ErrorKind::WouldBlock));
        let mut wire = Script::new(vec![Ok(b"hi "), Ok(b"there"), gap(), Ok(b"late")]);
        let n = Exchange::server()
            .run_into(&mut named(&mut wire), &mut buf)
            .unwrap();
        assert_eq!(&buf[..n], b"hi there");
    }

    #[test]
    fn a_message_may_fill_the_buffer_but_not_overflow_it() {
        let gap = || Err(io::Error::from(io::ErrorKind::WouldBlock));
        // Exactly the buffer's size, then quiet: the whole message.
        let mut wire = Script::new(vec![Ok(&[b'z'; 8][..]), gap()]);
        let mut buf = [0; 8];
        let n = Exchange::server()
            .run_into(&mut named(&mut wire), &mut buf)
            .unwrap();
        assert_eq!(&buf[..n], &[b'z'; 8]);

        // One byte more, in the same segment or in a later one.
        for reads in [vec![Ok(&[b'z'; 9][..])], vec![Ok(&[b'z'; 8][..]), Ok(b"!")]] {
            let mut wire = Script::new(reads);
            let err = Exchange::server()
                .run_into(&mut named(&mut wire), &mut buf)
                .unwrap_err();
            assert!(err.to_string().contains("longer than 8 bytes"), "{err}");
            assert_eq!(kind_of(err), io::ErrorKind::InvalidData);
            assert!(wire.written.is_empty(), "no reply to an oversized message");
        }

        // A buffer larger than max_message: max_message is the limit.
        let mut wire = Script::new(vec![Ok(&[b'z'; 40][..])]);
        let err = Exchange::server()
            .max_message(32)
            .run_into(&mut named(&mut wire), &mut [0; 64])
            .unwrap_err();
        assert!(err.to_string().contains("longer than 32 bytes"), "{err}");
    }

    #[test]
    fn an_empty_buffer_is_rejected_before_io() {
        let mut wire = Script::new(vec![Ok(CLIENT_GREETING.as_bytes())]);
        let err = Exchange::server()
            .run_into(&mut named(&mut wire), &mut [])
            .unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        assert!(
            err.to_string().contains("buffer must not be empty"),
            "{err}"
        );
        assert_eq!(wire.reads.len(), 1, "nothing was read");
        assert!(wire.written.is_empty(), "nothing was written");
    }

    #[test]
    fn client_sends_first_then_reads_reply() {
        let mut wire = Script::new(vec![Ok(SERVER_GREETING.as_bytes())]);
        let got = Exchange::client().run(&mut named(&mut wire)).unwrap();
        assert_eq!(got, SERVER_GREETING.as_bytes());
        assert_eq!(wire.written, CLIENT_GREETING.as_bytes());
    }
}
