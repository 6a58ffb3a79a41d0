//! A concurrent hello server: accept, and run the exchange for each client
//! on its own thread.

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
#[cfg(unix)]
use std::os::unix::net::{UnixListener, UnixStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, Scope};
use std::time::Duration;

use log::{debug, warn};

use super::{exchange_error, too_long, Exchange, Role, Step};
use crate::{sys, Address, Error, Result, HELLO_LOG};

/// How many clients a [`Server`] serves at once unless
/// [`Server::max_clients`] says otherwise: 256.
///
/// # Examples
///
/// ```
/// assert_eq!(sockwright::hello::DEFAULT_MAX_CLIENTS, 256);
/// ```
pub const DEFAULT_MAX_CLIENTS: usize = 256;

/// The longest pause after a failed `accept` (or `recvfrom`), before trying
/// again.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The first pause after a failed `accept` that is not known to concern only
/// the connection it would have returned.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);

/// How long a client thread with no client waits for the next one before it
/// ends.
const IDLE_THREAD: Duration = Duration::from_secs(1);

/// Serves the hello exchange to many clients: `accept(2)` in a loop, each
/// connection served by [`Exchange::run_tcp`] (or
/// [`run_unix`](Exchange::run_unix)) on its own thread.
///
/// - **Concurrent**: each client has its own thread, so a client that stalls
///   never delays another; its exchange ends when the
///   [`Exchange::timeout`] runs out. A thread that has finished with its
///   client takes the next one that arrives within a second (then it ends),
///   so a busy server does not start a thread per connection: starting and
///   ending threads would cost more than the exchanges themselves.
/// - **Bounded**: at most [`max_clients`](Self::max_clients) clients
///   (default [`DEFAULT_MAX_CLIENTS`]) are served at once. When that many are
///   in progress the server stops calling `accept` until one finishes, so
///   further clients wait in the kernel's accept queue (the listener's
///   backlog) and memory stays bounded: one thread and one receive buffer of
///   [`Exchange::max_message`] bytes per client in progress, and no more
///   threads than [`max_clients`](Self::max_clients), idle ones included.
/// - **Counted or endless**: [`clients`](Self::clients) sets how many
///   connections to accept before returning; by default the server runs until
///   the listener fails for good.
/// - **Resilient**: an `accept` that fails for one connection
///   (`ECONNABORTED`, `EINTR`) is retried at once; any other failure, such as
///   running out of file descriptors (`EMFILE`, `ENFILE`) or memory
///   (`ENOBUFS`), is logged at `warn` level and retried after a pause that
///   grows from 5 ms to 1 s (and ends early when a client finishes, freeing
///   its descriptor). Only a listener that can never accept ends the loop
///   with an error.
/// - **Contained**: a panic while serving a client, including one in the
///   callback, is caught and never reaches the caller; it is reported as a
///   failed exchange (or, from the callback, logged at `warn` level).
///
/// The callback receives one [`Outcome`] per accepted connection: the peer's
/// address and its message or the [`Error`] that ended its exchange. It runs
/// on the client's thread, one call at a time, so it may print without
/// interleaving, push to a `Vec` or send on a channel; keep it short, as
/// other clients wait for it.
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
///         assert_eq!(Exchange::client().run_tcp(&mut stream)?, SERVER_GREETING.as_bytes());
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
    clients: Option<u64>,
}

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
    /// [`DEFAULT_MAX_CLIENTS`] at once, until the listener fails for good.
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
            clients: None,
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

    /// Accepts TCP connections on `listener` and runs the exchange with each
    /// one on its own thread ([`Exchange::run_tcp`]), calling `on_client`
    /// with each [`Outcome`].
    ///
    /// Returns once [`clients`](Self::clients) connections have been accepted
    /// and every one of their threads has finished; without a count it
    /// returns only when the listener fails for good. Accepted connections
    /// are served in blocking mode. The listener itself must be in blocking
    /// mode.
    ///
    /// # Platform-specific behavior
    ///
    /// On the BSDs, macOS and Windows an accepted socket inherits the
    /// listener's nonblocking mode, so each one is put in blocking mode
    /// (`ioctl(FIONBIO)`, `ioctlsocket`) in case the listener was made
    /// nonblocking while it was served; on Linux an accepted socket always
    /// starts blocking and no call is made for it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] before accepting anything for a zero
    /// [`max_clients`](Self::max_clients), a client-side exchange or an
    /// invalid exchange configuration. [`Error::Accept`] when the listener
    /// can never accept: it is nonblocking
    /// ([`WouldBlock`](io::ErrorKind::WouldBlock)) or not listening
    /// ([`InvalidInput`](io::ErrorKind::InvalidInput), `EINVAL`). Clients
    /// already accepted are served to the end first. A failed exchange is not
    /// an error of this call: it is in that client's [`Outcome`].
    ///
    /// # Platform-specific behavior
    ///
    /// On Linux, `shutdown(2)` on the listener (for example through
    /// `socket2::SockRef::from(&listener).shutdown(Shutdown::Both)` from
    /// another thread) makes the pending `accept` fail with `EINVAL`, which
    /// ends an endless run cleanly.
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
            addr,
            |exchange, stream: &mut TcpStream, peer| {
                if sys::ACCEPT_INHERITS_NONBLOCKING {
                    stream
                        .set_nonblocking(false)
                        .map_err(|e| exchange_error(Step::SetBlocking, peer.clone(), e))?;
                }
                exchange.tcp(stream, Some(peer))
            },
            on_client,
        )
    }

    /// Accepts Unix-domain connections on `listener` and serves each one on
    /// its own thread ([`Exchange::run_unix`]); otherwise as
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
    ///         Exchange::client().run_unix(&mut ConnectorBuilder::new().connect_unix(&path)?)
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
        let path = |a: &std::os::unix::net::SocketAddr| {
            Address::Unix(a.as_pathname().map(ToOwned::to_owned).unwrap_or_default())
        };
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
            addr,
            |exchange, stream: &mut UnixStream, peer| {
                if sys::ACCEPT_INHERITS_NONBLOCKING {
                    stream
                        .set_nonblocking(false)
                        .map_err(|e| exchange_error(Step::SetBlocking, peer.clone(), e))?;
                }
                exchange.unix(stream, Some(peer))
            },
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
    /// thread each: a silent client sends nothing to wait for, so
    /// [`max_clients`](Self::max_clients) does not apply.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] as for [`serve_tcp`](Self::serve_tcp);
    /// [`Error::SetOption`] if the timeouts cannot be set; [`Error::Accept`]
    /// if the socket is nonblocking. A failed `recvfrom` is logged and
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
                source,
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
                    debug!(target: HELLO_LOG, "an earlier reply from {} was not delivered: {e}", local());
                    continue;
                }
                // Windows fails the receive of a datagram longer than the
                // buffer (where Unix returns it truncated) and does not say
                // who sent it: one client, failed, whose address is unknown.
                #[cfg(windows)]
                Err(e)
                    if e.raw_os_error()
                        == Some(windows_sys::Win32::Networking::WinSock::WSAEMSGSIZE) =>
                {
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
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(Error::Accept {
                        addr: local(),
                        source: e,
                    })
                }
                Err(e) => {
                    summary.accept_errors += 1;
                    warn!(target: HELLO_LOG, "recvfrom on {}: {e}; retrying in {backoff:?}", local());
                    thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
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
        if self.exchange.role != Role::Server {
            return Err(Error::invalid(
                "hello server needs a server-side exchange (Exchange::server())",
            ));
        }
        self.exchange.check()
    }

    /// The accept loop shared by TCP and Unix listeners.
    fn serve_stream<S, F>(
        &self,
        accept: impl Fn() -> io::Result<(S, Address)>,
        local: impl Fn() -> Address,
        run: impl Fn(&Exchange, &mut S, &Address) -> Result<Vec<u8>> + Sync,
        on_client: F,
    ) -> Result<Summary>
    where
        S: Send,
        F: FnMut(Outcome) + Send,
    {
        self.check()?;
        let shared = Shared {
            slots: Slots {
                active: Mutex::new(0),
                freed: Condvar::new(),
            },
            on_client: Mutex::new(on_client),
            succeeded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        };
        let handoff = Handoff::new();
        let mut summary = Summary::default();
        let result = thread::scope(|scope| -> Result<()> {
            let result =
                self.accept_loop(&accept, &local, &shared, &mut summary, |stream, peer| {
                    self.spawn(scope, &shared, &handoff, &run, stream, peer);
                });
            // Idle client threads end now; busy ones finish their client.
            handoff.close();
            result
        });
        summary.succeeded = shared.succeeded.load(Ordering::Relaxed);
        summary.failed = shared.failed.load(Ordering::Relaxed);
        result.map(|()| summary)
    }

    /// Accepts until the count is reached or the listener fails for good,
    /// handing each connection to `serve`.
    fn accept_loop<S, F>(
        &self,
        accept: &impl Fn() -> io::Result<(S, Address)>,
        local: &impl Fn() -> Address,
        shared: &Shared<F>,
        summary: &mut Summary,
        mut serve: impl FnMut(S, Address),
    ) -> Result<()> {
        {
            let mut backoff = FIRST_BACKOFF;
            while self.clients.is_none_or(|n| summary.accepted < n) {
                let active = shared.slots.wait_below(self.max_clients);
                drop(active);
                let (stream, peer) = match accept() {
                    Ok(accepted) => accepted,
                    Err(e) => match accept_failure(&e) {
                        Failure::Retry => continue,
                        Failure::Fatal => {
                            return Err(Error::Accept {
                                addr: local(),
                                source: e,
                            })
                        }
                        Failure::Backoff => {
                            summary.accept_errors += 1;
                            warn!(target: HELLO_LOG, "accept on {}: {e}; retrying in {backoff:?}", local());
                            shared.slots.pause(backoff);
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                            continue;
                        }
                    },
                };
                backoff = FIRST_BACKOFF;
                summary.accepted += 1;
                debug!(target: HELLO_LOG, "accepted a connection from {peer}");
                serve(stream, peer);
            }
            Ok(())
        }
    }

    /// Serves one client, holding one slot: on an idle client thread if
    /// there is one, otherwise on a new thread.
    fn spawn<'scope, 'env, 'slots, S, F>(
        &'env self,
        scope: &'scope Scope<'scope, 'env>,
        shared: &'slots Shared<F>,
        handoff: &'env Handoff<Client<'slots, S>>,
        run: &'env (impl Fn(&Exchange, &mut S, &Address) -> Result<Vec<u8>> + Sync),
        stream: S,
        peer: Address,
    ) where
        'slots: 'env,
        S: Send + 'env,
        F: FnMut(Outcome) + Send,
    {
        *shared.slots.lock() += 1;
        let client = Client {
            stream,
            peer,
            _slot: Slot(&shared.slots),
        };
        let Some(client) = handoff.offer(client) else {
            return;
        };
        let shown = client.peer.clone();
        let serve = move || {
            let mut next = Some(client);
            while let Some(Client {
                mut stream,
                peer,
                _slot: slot,
            }) = next
            {
                let result = panic::catch_unwind(AssertUnwindSafe(|| {
                    run(&self.exchange, &mut stream, &peer)
                }))
                .unwrap_or_else(|panic| {
                    Err(exchange_error(
                        Step::Serve,
                        peer.clone(),
                        io::Error::other(format!("panicked: {}", panic_message(&*panic))),
                    ))
                });
                drop(stream);
                shared.report(Outcome { peer, result });
                next = handoff.wait_for_next(slot);
            }
        };
        if let Err(e) = thread::Builder::new()
            .name("hello-client".to_owned())
            .spawn_scoped(scope, serve)
        {
            // The closure, with its stream and slot, went with the failed
            // spawn: the connection is closed and the slot freed.
            warn!(target: HELLO_LOG, "cannot start a thread for hello client {shown}: {e}");
            shared.report(Outcome {
                result: Err(exchange_error(Step::StartThread, shown.clone(), e)),
                peer: shown,
            });
        }
    }
}

/// State shared between the accept loop and the client threads.
struct Shared<F> {
    slots: Slots,
    on_client: Mutex<F>,
    succeeded: AtomicU64,
    failed: AtomicU64,
}

impl<F: FnMut(Outcome)> Shared<F> {
    fn report(&self, outcome: Outcome) {
        let counter = match outcome.result {
            Ok(_) => &self.succeeded,
            Err(_) => &self.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.call(outcome);
    }

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

/// An accepted client on its way to a thread, holding its slot.
struct Client<'a, S> {
    stream: S,
    peer: Address,
    _slot: Slot<'a>,
}

/// Hands accepted clients to client threads that have none.
struct Handoff<C> {
    state: Mutex<HandoffState<C>>,
    ready: Condvar,
}

struct HandoffState<C> {
    /// Clients handed over and not yet taken, one per claimed idle thread.
    waiting: VecDeque<C>,
    /// Idle threads not yet claimed by a waiting client.
    idle: usize,
    /// Set when the server stops: idle threads end.
    closed: bool,
}

impl<C> Handoff<C> {
    fn new() -> Handoff<C> {
        Handoff {
            state: Mutex::new(HandoffState {
                waiting: VecDeque::new(),
                idle: 0,
                closed: false,
            }),
            ready: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HandoffState<C>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gives `client` to an idle thread; returns it when there is none.
    fn offer(&self, client: C) -> Option<C> {
        let mut state = self.lock();
        if state.idle == 0 {
            return Some(client);
        }
        state.idle -= 1;
        state.waiting.push_back(client);
        self.ready.notify_one();
        None
    }

    /// Called by a thread done with its client: the next client handed
    /// over within [`IDLE_THREAD`], or `None` when the thread should end.
    ///
    /// `finished` (the finished client's slot) is dropped once this thread
    /// counts as idle, so that the client that takes the slot finds this
    /// thread rather than starting another: there are never more threads
    /// than slots.
    fn wait_for_next<D>(&self, finished: D) -> Option<C> {
        let mut state = self.lock();
        state.idle += 1;
        drop(finished);
        loop {
            // A client offered to this thread (or to another idle one) is
            // taken before anything else: an offer never goes unserved.
            if let Some(client) = state.waiting.pop_front() {
                return Some(client);
            }
            if state.closed {
                state.idle -= 1;
                return None;
            }
            let (next, wait) = self
                .ready
                .wait_timeout(state, IDLE_THREAD)
                .unwrap_or_else(PoisonError::into_inner);
            state = next;
            if wait.timed_out() && state.waiting.is_empty() {
                state.idle -= 1;
                return None;
            }
        }
    }

    /// Ends the idle threads and those that become idle from now on.
    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

/// Counts the clients in progress; `accept` waits while all slots are taken.
struct Slots {
    active: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    fn lock(&self) -> MutexGuard<'_, usize> {
        self.active.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until fewer than `max` clients are in progress.
    fn wait_below(&self, max: usize) -> MutexGuard<'_, usize> {
        let mut active = self.lock();
        while *active >= max {
            active = self
                .freed
                .wait(active)
                .unwrap_or_else(PoisonError::into_inner);
        }
        active
    }

    /// Sleeps for `pause`, or until a client finishes.
    fn pause(&self, pause: Duration) {
        let active = self.lock();
        let _ = self.freed.wait_timeout(active, pause);
    }
}

/// One client's slot, freed when its thread ends (or fails to start).
struct Slot<'a>(&'a Slots);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.lock() -= 1;
        self.0.freed.notify_all();
    }
}

/// What to do after a failed `accept`.
enum Failure {
    /// The failure concerned one connection or was an interruption: accept
    /// again at once.
    Retry,
    /// The listener can never accept.
    Fatal,
    /// Anything else, such as no file descriptor left: pause, then retry.
    Backoff,
}

fn accept_failure(e: &io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::Interrupted => Failure::Retry,
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset => {
            debug!(target: HELLO_LOG, "accept: {e}; accepting the next connection");
            Failure::Retry
        }
        io::ErrorKind::WouldBlock | io::ErrorKind::InvalidInput => Failure::Fatal,
        _ => Failure::Backoff,
    }
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

    /// Waits (bounded) until `n` threads are idle in `handoff`.
    fn until_idle<C>(handoff: &Handoff<C>, n: usize) {
        let start = std::time::Instant::now();
        while handoff.lock().idle != n {
            assert!(start.elapsed() < Duration::from_secs(10), "no idle thread");
            thread::yield_now();
        }
    }

    #[test]
    fn handoff_gives_clients_to_idle_threads_and_ends_them_on_close() {
        let handoff = Handoff::new();
        assert_eq!(
            handoff.offer(1),
            Some(1),
            "no idle thread: a new one is needed"
        );
        thread::scope(|scope| {
            let waiter = scope.spawn(|| handoff.wait_for_next(()));
            until_idle(&handoff, 1);
            assert_eq!(handoff.offer(2), None, "taken by the idle thread");
            assert_eq!(waiter.join().unwrap(), Some(2));

            let waiters = [
                scope.spawn(|| handoff.wait_for_next(())),
                scope.spawn(|| handoff.wait_for_next(())),
            ];
            until_idle(&handoff, 2);
            assert_eq!(handoff.offer(3), None);
            handoff.close();
            let mut got: Vec<_> = waiters.map(|w| w.join().unwrap()).into_iter().collect();
            got.sort();
            assert_eq!(
                got,
                [None, Some(3)],
                "the offer is served even when closing"
            );
        });
        assert_eq!(handoff.lock().idle, 0);
        assert_eq!(handoff.wait_for_next(()), None, "closed: no waiting");
    }

    #[test]
    fn idle_thread_ends_after_its_idle_time() {
        let handoff = Handoff::<u32>::new();
        let start = std::time::Instant::now();
        assert_eq!(handoff.wait_for_next(()), None);
        let waited = start.elapsed();
        assert!(
            waited >= IDLE_THREAD && waited < IDLE_THREAD + Duration::from_millis(1500),
            "{waited:?}"
        );
        assert_eq!(handoff.lock().idle, 0);
        assert_eq!(handoff.offer(1), Some(1), "no idle thread left");
    }

    #[test]
    fn accept_failures_are_classified() {
        use io::ErrorKind::*;
        for (kind, retry, fatal) in [
            (Interrupted, true, false),
            (ConnectionAborted, true, false),
            (WouldBlock, false, true),
            (InvalidInput, false, true),
            (Other, false, false),
        ] {
            let got = accept_failure(&io::Error::from(kind));
            assert_eq!(matches!(got, Failure::Retry), retry, "{kind:?}");
            assert_eq!(matches!(got, Failure::Fatal), fatal, "{kind:?}");
        }
    }

    #[test]
    fn client_exchange_and_zero_max_are_rejected_before_accepting() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        for mut server in [
            Server::new(Exchange::client()),
            Server::default().max_clients(0).clone(),
        ] {
            let err = server.clients(1).serve_tcp(&listener, |_| {}).unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        }
    }
}
