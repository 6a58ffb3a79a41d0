//! The server side: `socket → setsockopt → bind → listen`.

use std::fmt;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs, UdpSocket};
#[cfg(unix)]
use std::os::unix::net::{UnixDatagram, UnixListener};
#[cfg(unix)]
use std::path::Path;

use log::{debug, log_enabled, Level};
use socket2::Socket;

use crate::options::{Options, Phase, Place, Side};
use crate::{resolve, Address, Domain, Error, Result, Type, LISTENER_LOG};

/// Builds server sockets: `socket(2)`, one `setsockopt(2)` per option, `bind(2)`
/// and, for stream sockets, `listen(2)`.
///
/// Configure with the setters (each takes `&mut self` and returns `&mut Self`),
/// then call a finishing method: [`listen`](Self::listen) for a
/// [`TcpListener`], [`bind_udp`](Self::bind_udp) for a [`UdpSocket`], and on
/// Unix [`listen_unix`](Self::listen_unix) and
/// [`bind_unix_datagram`](Self::bind_unix_datagram). A finishing method takes
/// `&self`, creates a fresh socket every time, and can be called again.
///
/// With the `tokio` feature, each finishing method has an async twin
/// (`listen_async`, `bind_udp_async`, `listen_unix_async`,
/// `bind_unix_datagram_async`) that returns tokio's type, as the crate docs'
/// "Async runtimes" list.
///
/// | C tutorial | builder |
/// |---|---|
/// | `socket(AF_INET, SOCK_STREAM, 0)` | inferred from the address, or [`domain`](Self::domain), [`socket_type`](Self::socket_type), [`protocol`](Self::protocol) |
/// | `setsockopt(SO_REUSEADDR)` | [`reuse_address`](Self::reuse_address) |
/// | `setsockopt(SO_REUSEPORT)` | `reuse_port` (Unix) |
/// | `bind(addr)` | the address given to the finishing call |
/// | `listen(3)` | [`backlog`](Self::backlog) (default [`DEFAULT_BACKLOG`](Self::DEFAULT_BACKLOG)) |
///
/// Defaults: every option unset (the OS default), backlog
/// [`DEFAULT_BACKLOG`](Self::DEFAULT_BACKLOG), blocking mode, an existing
/// Unix socket file left in place.
///
/// Options the builder has no setter for are set by a
/// [`configure`](Self::configure) hook, which runs on each socket before
/// `bind(2)`.
///
/// # Examples
///
/// The tutorial's server socket, with each reuse option its own call:
///
/// ```
/// use sockwright::ListenerBuilder;
///
/// let mut builder = ListenerBuilder::new();
/// builder.reuse_address(true).backlog(3);
/// #[cfg(unix)]
/// builder.reuse_port(true);
/// let listener = builder.listen("127.0.0.1:0")?;
/// println!("listening on {}", listener.local_addr()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ListenerBuilder {
    pub(crate) opts: Options,
    backlog: u32,
    #[cfg(unix)]
    remove_stale_socket: bool,
}

impl Default for ListenerBuilder {
    fn default() -> Self {
        ListenerBuilder::new()
    }
}

impl ListenerBuilder {
    /// The backlog passed to `listen(2)` unless [`backlog`](Self::backlog) says
    /// otherwise: 128, the traditional `SOMAXCONN`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sockwright::ListenerBuilder::DEFAULT_BACKLOG, 128);
    /// ```
    pub const DEFAULT_BACKLOG: u32 = 128;

    /// A builder with every option unset (the OS default), the domain,
    /// type and protocol inferred from the address and the finishing call,
    /// backlog [`DEFAULT_BACKLOG`](Self::DEFAULT_BACKLOG), blocking mode, an
    /// existing Unix socket file left in place.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = sockwright::ListenerBuilder::new().listen("127.0.0.1:0")?;
    /// # drop(listener);
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn new() -> ListenerBuilder {
        ListenerBuilder {
            opts: Options::new(Side::Listener),
            backlog: Self::DEFAULT_BACKLOG,
            #[cfg(unix)]
            remove_stale_socket: false,
        }
    }

    /// Sets the backlog passed to `listen(2)`: how many connections the kernel
    /// queues before `accept` takes them.
    ///
    /// Default: [`DEFAULT_BACKLOG`](Self::DEFAULT_BACKLOG). A value that does
    /// not fit the C `int` that `listen` takes is an
    /// [`Error::InvalidConfig`] before any system call. Datagram sockets do not
    /// listen, so [`bind_udp`](Self::bind_udp) ignores it.
    ///
    /// # Platform-specific behavior
    ///
    /// The kernel silently caps the value (Linux: `net.core.somaxconn`).
    /// With a backlog of 0 Linux still queues one connection.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = sockwright::ListenerBuilder::new().backlog(3).listen("127.0.0.1:0")?;
    /// # drop(listener);
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn backlog(&mut self, backlog: u32) -> &mut Self {
        self.backlog = backlog;
        self
    }

    /// Removes a stale Unix socket file at the path before binding it: one
    /// that is a socket file (`lstat(2)`) and that refuses a connect
    /// (`ECONNREFUSED`), so that no process holds it any more.
    ///
    /// Default: off; the builder never removes a file unless asked. IP
    /// listeners ignore it. A regular file, a directory, a symbolic link or a
    /// live server's socket is never removed, and binding then fails as
    /// without this option. Why the check has two steps, and what that
    /// leaves open, is in the crate documentation's
    /// [stale socket files](crate#stale-unix-socket-files) section.
    ///
    /// # Errors
    ///
    /// If the stale file cannot be removed, the finishing call fails with
    /// [`Error::Bind`] carrying the removal's cause (such as
    /// [`PermissionDenied`](std::io::ErrorKind::PermissionDenied)).
    ///
    /// # Platform-specific behavior
    ///
    /// Unix only.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::ListenerBuilder;
    ///
    /// let dir = std::env::temp_dir().join(format!("sockwright-doc-stale-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("server.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// // A server that went away and left its socket file behind.
    /// drop(ListenerBuilder::new().listen_unix(&path)?);
    /// assert!(ListenerBuilder::new().listen_unix(&path).is_err());
    ///
    /// let listener = ListenerBuilder::new().remove_stale_socket(true).listen_unix(&path)?;
    /// let _client = std::os::unix::net::UnixStream::connect(&path)?;
    /// let (_conn, _) = listener.accept()?;
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub fn remove_stale_socket(&mut self, remove: bool) -> &mut Self {
        self.remove_stale_socket = remove;
        self
    }

    /// Creates, configures, binds and listens a TCP (or MPTCP) socket, and
    /// returns it as a [`TcpListener`].
    ///
    /// The steps, each logged at `debug` level:
    /// 1. resolve `addr`; a literal address needs no system call;
    /// 2. `socket(domain, SOCK_STREAM, protocol)`, close-on-exec;
    /// 3. one `setsockopt` per option set;
    /// 4. `bind(addr)`;
    /// 5. `listen(backlog)`.
    ///
    /// If `addr` resolves to several addresses, each is tried on a fresh
    /// socket until one succeeds.
    ///
    /// A signal that interrupts [`TcpListener::accept`] on the result does
    /// not end it with an error: std retries `accept` on `EINTR`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] or [`Error::Unsupported`] before any system
    /// call for a configuration that cannot work (a datagram type, an address
    /// of another domain, a backlog over `i32::MAX`...); otherwise the error
    /// of the step that failed: [`Error::Resolve`], [`Error::Create`],
    /// [`Error::SetOption`], [`Error::Bind`], [`Error::Listen`], or
    /// [`Error::AllAttemptsFailed`] with each address's error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use sockwright::ListenerBuilder;
    ///
    /// let listener = ListenerBuilder::new().reuse_address(true).listen("127.0.0.1:0")?;
    /// let mut client = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let (mut conn, _) = listener.accept()?;
    /// client.write_all(b"hi")?;
    /// let mut buf = [0; 2];
    /// conn.read_exact(&mut buf)?;
    /// assert_eq!(&buf, b"hi");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn listen<A>(&self, addr: A) -> Result<TcpListener>
    where
        A: ToSocketAddrs + fmt::Debug,
    {
        self.opts.validate(Type::Stream, Place::Inet)?;
        let backlog = self.backlog_int()?;
        let (target, addrs) = resolve::resolve(&addr, &self.opts, LISTENER_LOG)?;
        resolve::each(target, &addrs, |a| {
            let socket = self.bound_inet(a, Type::Stream)?;
            listen(&socket, &Address::Inet(a), backlog)?;
            Ok(socket.into())
        })
    }

    /// Creates, configures and binds a UDP socket, and returns it as a
    /// [`UdpSocket`].
    ///
    /// The steps are those of [`listen`](Self::listen) less `listen(2)`, with
    /// `SOCK_DGRAM`. The backlog is not used.
    ///
    /// # Errors
    ///
    /// As for [`listen`](Self::listen), less [`Error::Listen`]; a stream or
    /// seqpacket type set with [`socket_type`](Self::socket_type) is an
    /// [`Error::InvalidConfig`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::ListenerBuilder;
    ///
    /// let server = ListenerBuilder::new().bind_udp("127.0.0.1:0")?;
    /// let client = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// client.send_to(b"ping", server.local_addr()?)?;
    /// let mut buf = [0; 8];
    /// let (n, from) = server.recv_from(&mut buf)?;
    /// assert_eq!((&buf[..n], from), (&b"ping"[..], client.local_addr()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bind_udp<A>(&self, addr: A) -> Result<UdpSocket>
    where
        A: ToSocketAddrs + fmt::Debug,
    {
        self.opts.validate(Type::Datagram, Place::Inet)?;
        let (target, addrs) = resolve::resolve(&addr, &self.opts, LISTENER_LOG)?;
        resolve::each(target, &addrs, |a| {
            let socket = self.bound_inet(a, Type::Datagram)?;
            Ok(socket.into())
        })
    }

    /// Creates, configures, binds and listens a Unix-domain stream socket (or
    /// seqpacket, with [`Type::SeqPacket`]) at `path`, and returns it as a
    /// [`UnixListener`].
    ///
    /// An existing file at `path` is not removed: binding over it fails with
    /// [`Error::Bind`] and [`AddrInUse`](std::io::ErrorKind::AddrInUse). A
    /// stale socket file left by a process that died must be removed by the
    /// caller, who knows that no live server owns it, or by the builder when
    /// [`remove_stale_socket`](Self::remove_stale_socket) is on (it removes
    /// only a socket file that no process holds).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] before any system call for IP-only options
    /// (only-v6, TTL, reuse-port...), a protocol other than the default, a
    /// path too long for `sockaddr_un`, or a datagram type; otherwise the
    /// error of the step that failed, naming the path.
    ///
    /// # Platform-specific behavior
    ///
    /// Unix only.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("sockwright-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("server.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// let listener = sockwright::ListenerBuilder::new().backlog(3).listen_unix(&path)?;
    /// let _client = std::os::unix::net::UnixStream::connect(&path)?;
    /// let (_conn, _) = listener.accept()?;
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub fn listen_unix<P: AsRef<Path>>(&self, path: P) -> Result<UnixListener> {
        let path = path.as_ref();
        self.opts.validate(Type::Stream, Place::Unix(path))?;
        let backlog = self.backlog_int()?;
        let (socket, addr) = self.bound_unix(path, Type::Stream)?;
        listen(&socket, &addr, backlog)?;
        Ok(socket.into())
    }

    /// Creates, configures and binds a Unix-domain datagram socket at `path`,
    /// and returns it as a [`UnixDatagram`].
    ///
    /// Like [`listen_unix`](Self::listen_unix), an existing file at `path` is
    /// not removed, unless it is a stale socket file and
    /// [`remove_stale_socket`](Self::remove_stale_socket) is on.
    ///
    /// # Errors
    ///
    /// As for [`listen_unix`](Self::listen_unix), less [`Error::Listen`].
    ///
    /// # Platform-specific behavior
    ///
    /// Unix only.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("sockwright-doc-dgram-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("server.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// let server = sockwright::ListenerBuilder::new().bind_unix_datagram(&path)?;
    /// let client = std::os::unix::net::UnixDatagram::unbound()?;
    /// client.send_to(b"ping", &path)?;
    /// let mut buf = [0; 8];
    /// let n = server.recv(&mut buf)?;
    /// assert_eq!(&buf[..n], b"ping");
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub fn bind_unix_datagram<P: AsRef<Path>>(&self, path: P) -> Result<UnixDatagram> {
        let path = path.as_ref();
        self.opts.validate(Type::Datagram, Place::Unix(path))?;
        let (socket, _) = self.bound_unix(path, Type::Datagram)?;
        Ok(socket.into())
    }

    pub(crate) fn backlog_int(&self) -> Result<i32> {
        i32::try_from(self.backlog).map_err(|_| {
            Error::invalid(format!(
                "backlog {} does not fit the C int that listen() takes (at most {})",
                self.backlog,
                i32::MAX
            ))
        })
    }

    /// `socket → setsockopt… → bind` for one IP address.
    pub(crate) fn bound_inet(&self, addr: SocketAddr, implied: Type) -> Result<Socket> {
        let domain = Domain::for_address(&addr);
        let shown = Address::Inet(addr);
        let socket = self.opts.create(domain, implied, &shown)?;
        self.opts
            .apply(Phase::Fresh, &socket, domain, implied, &shown)?;
        self.opts.apply_nonblocking(&socket, &shown)?;
        self.opts.bind(&socket, &addr.into(), &shown)?;
        self.opts
            .apply(Phase::Bound, &socket, domain, implied, &shown)?;
        Ok(socket)
    }

    /// `socket → setsockopt… → bind` for one Unix path.
    #[cfg(unix)]
    pub(crate) fn bound_unix(&self, path: &Path, implied: Type) -> Result<(Socket, Address)> {
        self.opts.check_unix(path)?;
        let shown = Address::Unix(path.to_path_buf());
        let sockaddr = socket2::SockAddr::unix(path).map_err(|e| {
            Error::invalid(format!("Unix socket path {}: {e}", Address::from(path)))
        })?;
        if self.remove_stale_socket {
            remove_if_stale(path, &sockaddr, &shown)?;
        }
        let socket = self.opts.create(Domain::Unix, implied, &shown)?;
        self.opts
            .apply(Phase::Fresh, &socket, Domain::Unix, implied, &shown)?;
        self.opts.apply_nonblocking(&socket, &shown)?;
        self.opts.bind(&socket, &sockaddr, &shown)?;
        self.opts
            .apply(Phase::Bound, &socket, Domain::Unix, implied, &shown)?;
        Ok((socket, shown))
    }
}

/// Unlinks `path` if it is a socket file that no process holds: `lstat`
/// says socket, and a nonblocking stream `connect` is refused. Anything else
/// is left for `bind` to report.
#[cfg(unix)]
fn remove_if_stale(path: &Path, sockaddr: &socket2::SockAddr, shown: &Address) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;

    let is_socket = std::fs::symlink_metadata(path).map(|m| m.file_type().is_socket());
    if !matches!(is_socket, Ok(true)) {
        log::trace!(target: LISTENER_LOG, "{shown} is not an existing socket file; nothing to remove");
        return Ok(());
    }
    let probe = Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)
        .and_then(|probe| probe.set_nonblocking(true).map(|()| probe))
        .and_then(|probe| probe.connect(sockaddr));
    match probe {
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            match std::fs::remove_file(path) {
                Ok(()) => debug!(target: LISTENER_LOG, "removed stale socket file {shown}"),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(Error::Bind {
                        addr: shown.clone(),
                        source,
                    })
                }
            }
        }
        Ok(()) => {
            debug!(target: LISTENER_LOG, "socket file {shown} has a live server; left in place")
        }
        Err(e) => {
            debug!(target: LISTENER_LOG, "socket file {shown} left in place: connect says {e}")
        }
    }
    Ok(())
}

/// `listen(2)`, logging the address actually bound when debug logging is on.
pub(crate) fn listen(socket: &Socket, addr: &Address, backlog: i32) -> Result<()> {
    socket.listen(backlog).map_err(|source| Error::Listen {
        addr: addr.clone(),
        backlog,
        source,
    })?;
    if log_enabled!(target: LISTENER_LOG, Level::Debug) {
        match socket.local_addr().ok().and_then(|a| a.as_socket()) {
            Some(local) => debug!(target: LISTENER_LOG, "listening on {local} (backlog {backlog})"),
            None => debug!(target: LISTENER_LOG, "listening on {addr} (backlog {backlog})"),
        }
    }
    Ok(())
}
