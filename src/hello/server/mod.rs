//! A concurrent hello server: one thread accepts (and answers a client whose
//! greeting is in already), a few worker threads run every other exchange,
//! each worker many at once, driven by readiness, and one thread calls the
//! user's callback with each finished client's outcome ([`Reporter`]), so
//! that the callback's time is no client's.
//!
//! - `conn.rs`: one connection's exchange as a nonblocking state machine;
//! - `worker.rs`: a worker's readiness wait, connections and timers;
//! - `waker.rs`: how the accepting thread wakes a worker.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
#[cfg(unix)]
use std::os::unix::net::{UnixListener, UnixStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use log::{debug, warn};

use super::{Exchange, Role, Step, exchange_error, too_long};
use crate::error::Cause;
use crate::sys::{self, Interest, PollFd};
use crate::{Address, Error, HELLO_LOG, Result};

mod conn;
mod stop;
mod waker;
mod worker;

use conn::Conn;
use worker::Worker;

/// How many clients a [`Server`] serves at once unless
/// [`Server::max_clients`] says otherwise: 16,384.
///
/// A client in progress costs a socket and a few hundred bytes of the
/// server's memory (a silent one holds no buffer), not a thread, so the
/// bound is set by what a process can hold rather than by threads: most
/// systems run out of file descriptors first (a soft limit of 1,024 is
/// common), and the server then pauses accepting until one is free.
///
/// # Examples
///
/// ```
/// assert_eq!(sockwright::hello::DEFAULT_MAX_CLIENTS, 16_384);
/// ```
pub const DEFAULT_MAX_CLIENTS: usize = 16_384;

/// The longest pause after a failed `accept` (or `recvfrom`), before trying
/// again.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The first pause after a failed `accept` that is not known to concern only
/// the connection it would have returned.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);

/// Serves the hello exchange to many clients: `accept(2)` in a loop on the
/// calling thread, and every connection's exchange run by a few worker
/// threads, each holding many connections in one readiness wait
/// (`poll(2)`, `WSAPoll`).
///
/// - **Concurrent without a thread per client**: each accepted connection
///   is put in nonblocking mode and read once at once; a greeting already
///   complete is answered there and then. Any other connection goes to a
///   worker (at most [`workers`](Self::workers), by default the available
///   parallelism, started as connections need them), which keeps its state:
///   the bytes of the greeting received so far, then the reply sent so far.
///   It reads when the socket is readable, answers as soon as the greeting is
///   complete (framed as [`Exchange`] frames it), and ends the exchange
///   when its [`Exchange::timeout`] runs out, measured by one timer heap per
///   worker. A client that stalls costs its socket and a few hundred bytes,
///   never a thread, so silent clients cannot hold honest ones back.
/// - **Bounded**: at most [`max_clients`](Self::max_clients) clients
///   (default [`DEFAULT_MAX_CLIENTS`]) are served at once. When that many are
///   in progress the server stops calling `accept` until one finishes, so
///   further clients wait in the kernel's accept queue (the listener's
///   backlog). Threads: the calling thread, the workers and the callback's
///   thread, however many clients there are.
/// - **Counted or endless**: [`clients`](Self::clients) sets how many
///   connections to accept before returning; by default the server runs until
///   the listener fails for good.
/// - **Resilient**: an `accept` that fails for one connection
///   (`ECONNABORTED`, `EINTR`) is retried at once; any other failure, such as
///   running out of file descriptors (`EMFILE`, `ENFILE`) or memory
///   (`ENOBUFS`), is logged at `warn` level and retried after a pause that
///   grows from 5 ms to 1 s and ends early when a client finishes, freeing
///   its descriptor. Only a listener that can never accept ends the loop
///   with an error.
/// - **Contained**: a panic while serving a client, including one in the
///   callback, is caught and never reaches the caller; it is reported as a
///   failed exchange (or, from the callback, logged at `warn` level).
///
/// The callback receives one [`Outcome`] per accepted connection: the peer's
/// address and its message or the [`Error`] that ended its exchange, once
/// the reply is sent (or the exchange failed) and the connection closed. It
/// runs on a thread of its own, one call at a time, in the order clients
/// finish, so it may print without interleaving, push to a `Vec` or send on a
/// channel. A slow callback holds no client back: the accepting thread and
/// the workers hand it each outcome and go on serving; up to 1,024 outcomes
/// (or [`max_clients`](Self::max_clients), if fewer) wait for it, and only
/// when that many wait does a thread that finishes a client wait for the
/// callback. The serve call returns once the callback has had every outcome.
/// (If the callback's thread cannot be started, the serving threads call it
/// themselves, and its time then adds to their clients'.)
///
/// # Examples
///
/// A server for two clients, the way the tutorial's server serves one:
///
/// ```
/// use std::thread;
/// use sockwright::hello::{Exchange, Server, SERVER_GREETING};
/// use sockwright::{ConnectorBuilder, ListenerBuilder};
///
/// let listener = ListenerBuilder::new().backlog(3).listen("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// let clients = thread::spawn(move || -> sockwright::Result<()> {
///     for _ in 0..2 {
///         let mut stream = ConnectorBuilder::new().connect(addr)?;
///         assert_eq!(Exchange::client().run(&mut stream)?, SERVER_GREETING.as_bytes());
///     }
///     Ok(())
/// });
///
/// let summary = Server::new(Exchange::server())
///     .clients(2)
///     .serve_tcp(&listener, |outcome| match outcome.result {
///         Ok(message) => println!("{}: {}", outcome.peer, String::from_utf8_lossy(&message)),
///         Err(err) => eprintln!("error: {err}"),
///     })?;
/// assert_eq!((summary.accepted, summary.succeeded), (2, 2));
/// clients.join().unwrap()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    exchange: Exchange,
    max_clients: usize,
    workers: Option<usize>,
    clients: Option<u64>,
    stop: Option<Stop>,
}

pub use stop::Stop;

/// What happened to one client of a [`Server`].
///
/// # Examples
///
/// ```
/// use sockwright::hello::{Exchange, Outcome, Server};
/// use sockwright::{ConnectorBuilder, ListenerBuilder};
///
/// let listener = ListenerBuilder::new().listen("127.0.0.1:0")?;
/// // A client that connects and hangs up without a word.
/// drop(ConnectorBuilder::new().connect(listener.local_addr()?)?);
/// let mut outcomes: Vec<Outcome> = Vec::new();
/// Server::new(Exchange::server())
///     .clients(1)
///     .serve_tcp(&listener, |outcome| outcomes.push(outcome))?;
/// let err = outcomes[0].result.as_ref().unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Outcome {
    /// The client's address (for a Unix-domain client, usually unnamed).
    pub peer: Address,
    /// The client's message, or why its exchange failed.
    pub result: Result<Vec<u8>>,
}

/// Counts kept by a [`Server`] run, returned when it ends.
///
/// # Examples
///
/// ```
/// let summary = sockwright::hello::Summary::default();
/// assert_eq!(summary.accepted, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Summary {
    /// Connections accepted (datagrams received, for UDP).
    pub accepted: u64,
    /// Exchanges that ended with the peer's message received and the reply
    /// sent.
    pub succeeded: u64,
    /// Exchanges that ended with an error.
    pub failed: u64,
    /// Failed `accept` (or `recvfrom`) calls that were retried.
    pub accept_errors: u64,
}

impl Default for Server {
    fn default() -> Self {
        Server::new(Exchange::server())
    }
}

impl Server {
    /// A server running `exchange` for each client, at most
    /// [`DEFAULT_MAX_CLIENTS`] at once on as many worker threads as the
    /// available parallelism, until the listener fails for good.
    ///
    /// `exchange` should play the [`Role::Server`] side
    /// ([`Exchange::server`]); a client-side exchange is an
    /// [`Error::InvalidConfig`] when the server runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::hello::{Exchange, Server};
    ///
    /// let server = Server::new(Exchange::server());
    /// # drop(server);
    /// ```
    pub fn new(exchange: Exchange) -> Server {
        Server {
            exchange,
            max_clients: DEFAULT_MAX_CLIENTS,
            workers: None,
            clients: None,
            stop: None,
        }
    }

    /// Sets how many clients are served at once; when that many are in
    /// progress, `accept` waits until one finishes.
    ///
    /// Default: [`DEFAULT_MAX_CLIENTS`]. Zero is an [`Error::InvalidConfig`]
    /// when the server runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::hello::Server;
    ///
    /// let mut server = Server::default();
    /// server.max_clients(16);
    /// ```
    pub fn max_clients(&mut self, max: usize) -> &mut Self {
        self.max_clients = max;
        self
    }

    /// Sets how many worker threads run the stream exchanges; each serves
    /// any number of clients at once.
    ///
    /// Default: [`std::thread::available_parallelism`] (1 where it is
    /// unknown). A worker starts only when a connection needs it, so a run
    /// with [`clients`](Self::clients)`(1)` starts one. Zero is an
    /// [`Error::InvalidConfig`] when the server runs. UDP needs no worker.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::hello::Server;
    ///
    /// let mut server = Server::default();
    /// server.workers(2);
    /// ```
    pub fn workers(&mut self, count: usize) -> &mut Self {
        self.workers = Some(count);
        self
    }

    /// Sets how many connections to accept (datagrams to answer, for UDP)
    /// before returning, once each of them is served.
    ///
    /// Default: no limit. Zero returns at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::hello::Server;
    ///
    /// let mut server = Server::default();
    /// server.clients(1); // the tutorial's server
    /// ```
    pub fn clients(&mut self, count: u64) -> &mut Self {
        self.clients = Some(count);
        self
    }

    /// Serves clients with no limit on their number (the default).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::hello::Server;
    ///
    /// let mut server = Server::default();
    /// server.clients(3).forever();
    /// ```
    pub fn forever(&mut self) -> &mut Self {
        self.clients = None;
        self
    }

    /// Makes [`serve_tcp`](Self::serve_tcp) and [`serve_unix`](Self::serve_unix)
    /// stop accepting once `stop` is given: they
    /// then serve the clients already accepted to the end and return, with
    /// no error. The listener stays open, and listening, for whoever else
    /// holds it; see [`Stop`].
    ///
    /// Default: no stop; an endless server returns only when its listener
    /// fails.
    ///
    /// # Examples
    ///
    /// See [`Stop`].
    pub fn stop_on(&mut self, stop: &Stop) -> &mut Self {
        self.stop = Some(stop.clone());
        self
    }

    /// Accepts TCP connections on `listener` and runs the exchange with each
    /// one without a thread of its own (see [`Server`]), calling `on_client`
    /// with each [`Outcome`].
    ///
    /// The exchange is the one [`Exchange::run`] runs, with the same
    /// framing, limits, errors and log lines, but nonblocking: accepted
    /// connections are put in nonblocking mode and their socket timeouts are
    /// not used (the workers' timers bound each exchange instead).
    ///
    /// Returns once [`clients`](Self::clients) connections have been accepted
    /// and every one of them is served; without a count it returns only when
    /// the listener fails for good.
    ///
    /// The listener may be in blocking or nonblocking mode, as a listener
    /// handed over by a service manager (`sd-listen`, `fd:N` endpoints, or
    /// systemd's `NonBlocking=yes`) or set up for an async runtime often is:
    /// `accept` runs on the calling thread, and when it would block
    /// (`EAGAIN`, `WSAEWOULDBLOCK`) the thread waits in `poll(2)`
    /// (`WSAPoll`) until the listener is readable, then accepts again. The
    /// listener's mode is left as it is.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] before accepting anything for a zero
    /// [`max_clients`](Self::max_clients) or [`workers`](Self::workers), a
    /// client-side exchange or an
    /// invalid exchange configuration. [`Error::Accept`] when the listener
    /// can never accept: it is not listening
    /// ([`InvalidInput`](io::ErrorKind::InvalidInput), `EINVAL`). Clients
    /// already accepted are served to the end first. A failed exchange is not
    /// an error of this call: it is in that client's [`Outcome`].
    ///
    /// # Platform-specific behavior
    ///
    /// On Linux, `shutdown(2)` on the listener (for example through
    /// `socket2::SockRef::from(&listener).shutdown(Shutdown::Both)` from
    /// another thread) makes the pending `accept` (or the wait of a
    /// nonblocking listener) fail with `EINVAL`, which ends an endless run
    /// cleanly.
    ///
    /// Every accepted connection is put in nonblocking mode, whatever mode
    /// it starts in (on the BSDs, macOS and Windows it inherits the
    /// listener's, on Linux it starts blocking).
    ///
    /// # Examples
    ///
    /// See [`Server`].
    pub fn serve_tcp<F>(&self, listener: &TcpListener, on_client: F) -> Result<Summary>
    where
        F: FnMut(Outcome) + Send,
    {
        let addr = || {
            listener
                .local_addr()
                .map_or(Address::Unknown, Address::Inet)
        };
        self.serve_stream(
            || {
                let (stream, peer) = listener.accept()?;
                Ok((stream, Address::Inet(peer)))
            },
            || self.readable(sys::poll_fd(listener, Interest::Read)),
            addr,
            on_client,
        )
    }

    /// Accepts Unix-domain connections on `listener` and serves each one on
    /// a worker thread (the exchange of [`Exchange::run`] over a Unix stream); otherwise as
    /// [`serve_tcp`](Self::serve_tcp).
    ///
    /// # Errors
    ///
    /// As for [`serve_tcp`](Self::serve_tcp).
    ///
    /// # Platform-specific behavior
    ///
    /// Unix only.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::hello::{Exchange, Server, SERVER_GREETING};
    /// use sockwright::{ConnectorBuilder, ListenerBuilder};
    ///
    /// let dir = std::env::temp_dir().join(format!("sockwright-doc-serve-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("hello.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// let listener = ListenerBuilder::new().listen_unix(&path)?;
    /// let client = std::thread::spawn({
    ///     let path = path.clone();
    ///     move || -> sockwright::Result<Vec<u8>> {
    ///         Exchange::client().run(&mut ConnectorBuilder::new().connect_unix(&path)?)
    ///     }
    /// });
    /// let summary = Server::new(Exchange::server()).clients(1).serve_unix(&listener, |_| {})?;
    /// assert_eq!(summary.succeeded, 1);
    /// assert_eq!(client.join().unwrap()?, SERVER_GREETING.as_bytes());
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub fn serve_unix<F>(&self, listener: &UnixListener, on_client: F) -> Result<Summary>
    where
        F: FnMut(Outcome) + Send,
    {
        let path = crate::endpoint::unix_address;
        let addr = || {
            listener
                .local_addr()
                .map(|a| path(&a))
                .unwrap_or_else(|_| Address::Unix(Default::default()))
        };
        self.serve_stream(
            || {
                let (stream, peer) = listener.accept()?;
                Ok((stream, path(&peer)))
            },
            || self.readable(sys::poll_fd(listener, Interest::Read)),
            addr,
            on_client,
        )
    }

    /// Answers datagrams on `socket`, one at a time: each datagram received
    /// is one client's message, answered with one datagram to its sender
    /// (see [`Exchange::run_udp`]), and reported to `on_client`.
    ///
    /// Waiting for a datagram has no time limit (the socket's read timeout
    /// is cleared); sending the reply is bounded by the
    /// [`Exchange::timeout`] (the write timeout is set). Datagrams need no
    /// per-client state and no worker: a silent client sends nothing to wait
    /// for, and each datagram is a whole message, so the calling thread
    /// answers each one as it comes, and neither
    /// [`max_clients`](Self::max_clients) nor [`workers`](Self::workers)
    /// applies.
    ///
    /// The callback runs on the calling thread too, after each reply and
    /// before the next datagram is received: its time adds to the wait of
    /// every datagram behind it (a callback of 20 ms answers at most 50
    /// datagrams a second). For slow work, have the callback send each
    /// [`Outcome`] on a channel to a thread of yours.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] as for [`serve_tcp`](Self::serve_tcp);
    /// [`Error::SetOption`] if the timeouts cannot be set. A nonblocking
    /// socket is served as a blocking one: when `recvfrom` would block, the
    /// thread waits in `poll(2)` (`WSAPoll`) until a datagram is in. A
    /// failed `recvfrom` (or wait) is logged and
    /// retried; an oversized datagram or a failed reply is in that client's
    /// [`Outcome`].
    ///
    /// # Platform-specific behavior
    ///
    /// On Windows, a reply sent to a port nobody listens on makes a later
    /// `recvfrom` fail with `WSAECONNRESET`; that is logged at `debug` level
    /// and the next datagram is received at once. A datagram longer than
    /// the maximum fails its `recvfrom` there (`WSAEMSGSIZE`) without naming
    /// its sender, so its [`Outcome`] names [`Address::Unknown`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::hello::{Exchange, Server, SERVER_GREETING};
    /// use sockwright::{ConnectorBuilder, ListenerBuilder};
    ///
    /// let socket = ListenerBuilder::new().bind_udp("127.0.0.1:0")?;
    /// let client = ConnectorBuilder::new().connect_udp(socket.local_addr()?)?;
    /// let replies = std::thread::spawn(move || Exchange::client().run_udp(&client));
    /// let summary = Server::new(Exchange::server()).clients(1).serve_udp(&socket, |_| {})?;
    /// assert_eq!(summary.succeeded, 1);
    /// assert_eq!(replies.join().unwrap()?.0, SERVER_GREETING.as_bytes());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn serve_udp<F>(&self, socket: &UdpSocket, mut on_client: F) -> Result<Summary>
    where
        F: FnMut(Outcome),
    {
        self.check()?;
        let local = || socket.local_addr().map_or(Address::Unknown, Address::Inet);
        if let Err(source) = socket
            .set_read_timeout(None)
            .and_then(|()| socket.set_write_timeout(Some(self.exchange.timeout)))
        {
            return Err(Error::SetOption {
                addr: local(),
                option: "SO_RCVTIMEO/SO_SNDTIMEO",
                error: source,
            });
        }
        let mut summary = Summary::default();
        let mut buf = vec![0; self.exchange.max_message + 1];
        let mut backoff = FIRST_BACKOFF;
        while self.clients.is_none_or(|n| summary.accepted < n) {
            let (n, from) = match socket.recv_from(&mut buf) {
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // Windows reports an ICMP "port unreachable" for an earlier
                // reply (a client that went away) on the next receive; the
                // socket is fine and the next datagram is waiting.
                #[cfg(windows)]
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    debug!(target: HELLO_LOG, "an earlier reply from {} was not delivered: {}", local(), Cause(&e));
                    continue;
                }
                // Windows fails the receive of a datagram longer than the
                // buffer (where Unix returns it truncated) and does not say
                // who sent it: one client, failed, whose address is unknown.
                Err(e) if sys::is_message_too_long(&e) => {
                    summary.accepted += 1;
                    summary.failed += 1;
                    let outcome = Outcome {
                        peer: Address::Unknown,
                        result: Err(exchange_error(
                            self.exchange.role.receive_step(),
                            Address::Unknown,
                            too_long(self.exchange.max_message),
                        )),
                    };
                    if panic::catch_unwind(AssertUnwindSafe(|| on_client(outcome))).is_err() {
                        warn!(target: HELLO_LOG, "the hello server's callback panicked for an oversized datagram");
                    }
                    continue;
                }
                // A nonblocking socket with no datagram in yet: wait for one.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match readable(sys::poll_fd(socket, Interest::Read)) {
                        Ok(()) => continue,
                        Err(waited) => udp_backoff(&mut summary, &mut backoff, waited, &local),
                    }
                    continue;
                }
                Err(e) => {
                    udp_backoff(&mut summary, &mut backoff, e, &local);
                    continue;
                }
            };
            backoff = FIRST_BACKOFF;
            summary.accepted += 1;
            debug!(target: HELLO_LOG, "received {n} bytes from {from}");
            let result = self.answer_datagram(socket, &buf, n, from);
            match result {
                Ok(_) => summary.succeeded += 1,
                Err(_) => summary.failed += 1,
            }
            let outcome = Outcome {
                peer: Address::Inet(from),
                result,
            };
            if panic::catch_unwind(AssertUnwindSafe(|| on_client(outcome))).is_err() {
                warn!(target: HELLO_LOG, "the hello server's callback panicked for {from}");
            }
        }
        Ok(summary)
    }

    fn answer_datagram(
        &self,
        socket: &UdpSocket,
        buf: &[u8],
        n: usize,
        from: SocketAddr,
    ) -> Result<Vec<u8>> {
        let exchange = &self.exchange;
        if n > exchange.max_message {
            return Err(exchange_error(
                exchange.role.receive_step(),
                Address::Inet(from),
                too_long(exchange.max_message),
            ));
        }
        socket
            .send_to(&exchange.message, from)
            .map_err(|e| exchange_error(exchange.role.send_step(), Address::Inet(from), e))?;
        debug!(target: HELLO_LOG, "sent {} bytes to {from}", exchange.message.len());
        Ok(buf[..n].to_vec())
    }

    fn check(&self) -> Result<()> {
        if self.max_clients == 0 {
            return Err(Error::invalid("hello server max_clients must not be zero"));
        }
        if self.workers == Some(0) {
            return Err(Error::invalid("hello server workers must not be zero"));
        }
        if self.exchange.role != Role::Server {
            return Err(Error::invalid(
                "hello server needs a server-side exchange (Exchange::server())",
            ));
        }
        self.exchange.check()
    }

    /// The accept loop shared by TCP and Unix listeners.
    /// How many workers may run.
    fn worker_limit(&self) -> usize {
        let limit = self
            .workers
            .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()));
        // A counted run needs no more workers than clients.
        match self.clients {
            Some(n) => limit.min(usize::try_from(n).unwrap_or(usize::MAX)).max(1),
            None => limit,
        }
    }

    /// The accept loop shared by TCP and Unix listeners, with the workers
    /// that serve what it accepts.
    fn serve_stream<S, F>(
        &self,
        accept: impl Fn() -> io::Result<(S, Address)>,
        ready: impl Fn() -> io::Result<()>,
        local: impl Fn() -> Address,
        on_client: F,
    ) -> Result<Summary>
    where
        S: ServedStream,
        F: FnMut(Outcome) + Send,
    {
        self.check()?;
        let shared = Shared {
            slots: Slots {
                state: Mutex::new(SlotState {
                    active: 0,
                    waiting: false,
                }),
                freed: Condvar::new(),
            },
            on_client: Mutex::new(on_client),
            succeeded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        };
        let limit = self.worker_limit();
        let mut summary = Summary::default();
        let result = thread::scope(|scope| -> Result<()> {
            let mut workers: Vec<Arc<Worker<S>>> = Vec::new();
            let shared = &shared;
            let reporter = Reporter::start(scope, shared, self.max_clients.min(MAX_QUEUED));
            let start_worker = |workers: &mut Vec<Arc<Worker<S>>>| -> io::Result<()> {
                let (worker, wakeup) = Worker::new()?;
                let worker = Arc::new(worker);
                let running = Arc::clone(&worker);
                let exchange = &self.exchange;
                let reporter = reporter.clone();
                thread::Builder::new()
                    .name("hello-worker".to_owned())
                    .spawn_scoped(scope, move || {
                        let served = panic::catch_unwind(AssertUnwindSafe(|| {
                            worker::run(&running, wakeup, exchange, &reporter)
                        }));
                        if served.is_err() {
                            warn!(target: HELLO_LOG, "a hello worker panicked; its connections are closed");
                        }
                    })?;
                workers.push(worker);
                debug!(target: HELLO_LOG, "started hello worker {} of at most {limit}", workers.len());
                Ok(())
            };
            let exchange = &self.exchange;
            let mut scratch = vec![0; exchange.max_message + 1];
            let result = self.accept_loop(
                &accept,
                &ready,
                &local,
                shared,
                &mut summary,
                |stream, peer| {
                    // Freed when the client is reported.
                    shared.slots.take();
                    if let Err(e) = stream.set_nonblocking(true) {
                        drop(stream);
                        reporter.report(Outcome {
                            result: Err(exchange_error(Step::SetNonblocking, peer.clone(), e)),
                            peer,
                        });
                        return;
                    }
                    // The greeting is often in by the time `accept` returns: then
                    // the client is answered here, with no hand-over.
                    let mut conn = Conn::new(stream, peer, exchange, Instant::now());
                    let interest =
                        match worker::step(&mut conn, |c| c.on_ready(exchange, &mut scratch)) {
                            conn::ConnStep::Wait(interest) => interest,
                            conn::ConnStep::Done(result) => {
                                let Conn { stream, peer, .. } = conn;
                                drop(stream);
                                reporter.report(Outcome { peer, result });
                                return;
                            }
                        };
                    if workers.len() < limit {
                        if let Err(e) = start_worker(&mut workers) {
                            warn!(target: HELLO_LOG,
                                "cannot start a hello worker ({} running): {e}",
                                workers.len()
                            );
                            if workers.is_empty() {
                                let Conn { stream, peer, .. } = conn;
                                drop(stream);
                                reporter.report(Outcome {
                                    result: Err(exchange_error(Step::StartWorker, peer.clone(), e)),
                                    peer,
                                });
                                return;
                            }
                        }
                    }
                    // The least loaded worker; the newest among equals.
                    let worker = workers
                        .iter()
                        .rev()
                        .min_by_key(|w| w.load())
                        .expect("at least one worker");
                    worker.hand(conn, interest);
                },
            );
            // The workers end once their clients are served, and the
            // callback's thread once the last of them, and this thread,
            // have let go of their reporters and every outcome is passed on.
            for worker in &workers {
                worker.close();
            }
            drop(reporter);
            result
        });
        summary.succeeded = shared.succeeded.load(Ordering::Relaxed);
        summary.failed = shared.failed.load(Ordering::Relaxed);
        result.map(|()| summary)
    }

    /// Accepts until the count is reached or the listener fails for good,
    /// handing each connection to `serve`; `ready` waits until the
    /// listener can accept, for an `accept` that would block.
    fn accept_loop<S, F>(
        &self,
        accept: &impl Fn() -> io::Result<(S, Address)>,
        ready: &impl Fn() -> io::Result<()>,
        local: &impl Fn() -> Address,
        shared: &Shared<F>,
        summary: &mut Summary,
        mut serve: impl FnMut(S, Address),
    ) -> Result<()> {
        let mut backoff = FIRST_BACKOFF;
        while self.clients.is_none_or(|n| summary.accepted < n) {
            shared.slots.wait_below(self.max_clients);
            if self.stop.as_ref().is_some_and(Stop::is_stopped) {
                debug!(target: HELLO_LOG, "stopped accepting on {}; serving the clients accepted", local());
                break;
            }
            let failed = match accept() {
                Ok((stream, peer)) => {
                    backoff = FIRST_BACKOFF;
                    summary.accepted += 1;
                    debug!(target: HELLO_LOG, "accepted a connection from {peer}");
                    serve(stream, peer);
                    continue;
                }
                Err(e) => e,
            };
            let e = match accept_failure(&failed) {
                Failure::Retry => continue,
                Failure::Fatal => {
                    return Err(Error::Accept {
                        addr: local(),
                        error: failed,
                    });
                }
                Failure::NotReady => match ready() {
                    Ok(()) => continue,
                    Err(waited) => waited,
                },
                Failure::Backoff => failed,
            };
            summary.accept_errors += 1;
            warn!(target: HELLO_LOG, "accept on {}: {}; retrying in {backoff:?}", local(), Cause(&e));
            shared.slots.pause(backoff);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        Ok(())
    }
}

/// A connected stream a worker can serve.
pub(super) trait ServedStream: io::Read + io::Write + Send {
    fn set_nonblocking(&self, on: bool) -> io::Result<()>;
    fn poll_fd(&self, interest: Interest) -> PollFd;
}

impl ServedStream for TcpStream {
    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        TcpStream::set_nonblocking(self, on)
    }
    fn poll_fd(&self, interest: Interest) -> PollFd {
        sys::poll_fd(self, interest)
    }
}

#[cfg(unix)]
impl ServedStream for UnixStream {
    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        UnixStream::set_nonblocking(self, on)
    }
    fn poll_fd(&self, interest: Interest) -> PollFd {
        sys::poll_fd(self, interest)
    }
}

/// State shared between the accept loop, the workers and the callback's
/// thread.
struct Shared<F> {
    slots: Slots,
    on_client: Mutex<F>,
    succeeded: AtomicU64,
    failed: AtomicU64,
}

/// The most outcomes waiting for the callback; when that many wait, a
/// thread that finishes a client waits for the callback to take one.
const MAX_QUEUED: usize = 1024;

/// What each serving thread (the accept loop, each worker) reports
/// finished clients through: it counts each one, frees its slot, and hands
/// its outcome to the callback's own thread, so that no serving thread, and
/// so no client, waits for the callback. The callback's thread ends once
/// every reporter is dropped.
struct Reporter<'a, F> {
    shared: &'a Shared<F>,
    /// `None` when the callback's thread could not start: then the
    /// callback is called by the reporting thread.
    to: Option<SyncSender<Outcome>>,
}

impl<F> Clone for Reporter<'_, F> {
    fn clone(&self) -> Self {
        Reporter {
            shared: self.shared,
            to: self.to.clone(),
        }
    }
}

impl<'a, F: FnMut(Outcome) + Send> Reporter<'a, F> {
    /// Starts the callback's thread in `scope`, with room for `queue`
    /// outcomes waiting.
    fn start<'scope>(
        scope: &'scope thread::Scope<'scope, '_>,
        shared: &'a Shared<F>,
        queue: usize,
    ) -> Reporter<'a, F>
    where
        'a: 'scope,
    {
        let (to, outcomes) = mpsc::sync_channel::<Outcome>(queue);
        let started = thread::Builder::new()
            .name("hello-callback".to_owned())
            .spawn_scoped(scope, move || {
                for outcome in outcomes {
                    shared.call(outcome);
                }
            });
        let to = match started {
            Ok(_) => Some(to),
            Err(e) => {
                warn!(target: HELLO_LOG,
                    "cannot start the hello callback's thread ({e}); the serving threads call it"
                );
                None
            }
        };
        Reporter { shared, to }
    }

    /// Counts a finished client, frees its slot, then passes its outcome on.
    fn report(&self, outcome: Outcome) {
        let shared = self.shared;
        let counter = match outcome.result {
            Ok(_) => &shared.succeeded,
            Err(_) => &shared.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        shared.slots.free();
        match &self.to {
            Some(to) => {
                // The callback's thread takes outcomes until every
                // reporter is dropped, so a send fails only if it is gone.
                if let Err(mpsc::SendError(outcome)) = to.send(outcome) {
                    shared.call(outcome);
                }
            }
            None => shared.call(outcome),
        }
    }
}

impl<F: FnMut(Outcome)> Shared<F> {
    /// Calls the callback, one call at a time, containing its panics.
    fn call(&self, outcome: Outcome) {
        let peer = outcome.peer.clone();
        let mut on_client = self
            .on_client
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if panic::catch_unwind(AssertUnwindSafe(|| (*on_client)(outcome))).is_err() {
            warn!(target: HELLO_LOG, "the hello server's callback panicked for {peer}");
        }
    }
}

/// Counts the clients in progress; `accept` waits while all slots are taken.
struct Slots {
    state: Mutex<SlotState>,
    freed: Condvar,
}

struct SlotState {
    active: usize,
    /// The accept loop waits for a slot or a descriptor to be freed.
    waiting: bool,
}

impl Slots {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take(&self) {
        self.lock().active += 1;
    }

    /// A client finished.
    fn free(&self) {
        let mut state = self.lock();
        state.active -= 1;
        if state.waiting {
            state.waiting = false;
            self.freed.notify_one();
        }
    }

    /// Waits until fewer than `max` clients are in progress.
    fn wait_below(&self, max: usize) {
        let mut state = self.lock();
        while state.active >= max {
            state.waiting = true;
            state = self
                .freed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Sleeps for `pause`, or until a client finishes.
    fn pause(&self, pause: Duration) {
        let mut state = self.lock();
        state.waiting = true;
        let (mut state, _) = self
            .freed
            .wait_timeout(state, pause)
            .unwrap_or_else(PoisonError::into_inner);
        state.waiting = false;
    }
}

/// Counts and logs a failed `recvfrom` (or wait), then pauses before
/// the next, longer each time up to [`MAX_BACKOFF`].
fn udp_backoff(
    summary: &mut Summary,
    backoff: &mut Duration,
    e: io::Error,
    local: &impl Fn() -> Address,
) {
    summary.accept_errors += 1;
    warn!(target: HELLO_LOG, "recvfrom on {}: {}; retrying in {backoff:?}", local(), Cause(&e));
    thread::sleep(*backoff);
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
}

/// What to do after a failed `accept`.
enum Failure {
    /// The failure concerned one connection or was an interruption: accept
    /// again at once.
    Retry,
    /// A nonblocking listener has no connection yet: wait until it is
    /// readable, then accept again.
    NotReady,
    /// The listener can never accept.
    Fatal,
    /// Anything else, such as no file descriptor left: pause, then retry.
    Backoff,
}

fn accept_failure(e: &io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::Interrupted => Failure::Retry,
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset => {
            debug!(target: HELLO_LOG, "accept: {}; accepting the next connection", Cause(e));
            Failure::Retry
        }
        io::ErrorKind::WouldBlock => Failure::NotReady,
        io::ErrorKind::InvalidInput => Failure::Fatal,
        _ => Failure::Backoff,
    }
}

impl Server {
    /// [`readable`], also returning once [`stop_on`](Self::stop_on)'s stop
    /// is given.
    fn readable(&self, entry: PollFd) -> io::Result<()> {
        let Some(stop) = &self.stop else {
            return readable(entry);
        };
        let mut fds = [entry, stop.poll_fd()];
        while !stop.is_stopped() && sys::poll(&mut fds, -1)? == 0 {}
        Ok(())
    }
}

/// Waits, with no time limit, until `entry`'s socket is readable, in error
/// or hung up: for a nonblocking listener (or datagram socket) whose
/// `accept` (`recvfrom`) would block.
fn readable(entry: PollFd) -> io::Result<()> {
    let mut fds = [entry];
    // A wait cut short by a signal returns no entry: wait again.
    while sys::poll(&mut fds, -1)? == 0 {}
    Ok(())
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_failures_are_classified() {
        use io::ErrorKind::*;
        for (kind, retry, wait, fatal) in [
            (Interrupted, true, false, false),
            (ConnectionAborted, true, false, false),
            (WouldBlock, false, true, false),
            (InvalidInput, false, false, true),
            (Other, false, false, false),
        ] {
            let got = accept_failure(&io::Error::from(kind));
            assert_eq!(matches!(got, Failure::Retry), retry, "{kind:?}");
            assert_eq!(matches!(got, Failure::NotReady), wait, "{kind:?}");
            assert_eq!(matches!(got, Failure::Fatal), fatal, "{kind:?}");
        }
    }

    #[test]
    fn client_exchange_and_zero_limits_are_rejected_before_accepting() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        for mut server in [
            Server::new(Exchange::client()),
            Server::default().max_clients(0).clone(),
            Server::default().workers(0).clone(),
        ] {
            let err = server.clients(1).serve_tcp(&listener, |_| {}).unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        }
    }

    #[test]
    fn a_counted_run_starts_no_more_workers_than_clients() {
        let mut server = Server::default();
        server.workers(8);
        assert_eq!(server.clients(3).worker_limit(), 3);
        assert_eq!(server.clients(0).worker_limit(), 1);
        assert_eq!(server.forever().worker_limit(), 8);
    }
}
