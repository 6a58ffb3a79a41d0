//! The server side: `socket → setsockopt → bind → listen`.

mod socket_options;
#[cfg(feature = "tokio")]
pub(crate) mod tokio;
#[cfg(unix)]
pub(crate) mod unix_file;

use std::borrow::Cow;
use std::net::{SocketAddr, TcpListener, UdpSocket};
#[cfg(unix)]
use std::os::unix::net::{UnixDatagram, UnixListener};
#[cfg(unix)]
use std::path::Path;

use log::{Level, debug, log_enabled};
use socket2::Socket;

use crate::endpoint::Opens;
use crate::options::{self, Checked, Options, Phase, Place, Side};
use crate::{
    Address, Domain, Endpoint, Error, LISTENER_LOG, Listener, Result, ToSocketAddrs, Type, resolve,
};

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
/// Unix socket file left in place, a new socket file's mode from the umask,
/// `fd:N` endpoints refused.
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
    pub(crate) opts: Checked,
    backlog: u32,
    #[cfg(unix)]
    remove_stale_socket: bool,
    #[cfg(unix)]
    mode: Option<u32>,
    /// Whether `listen_endpoint` adopts `fd:N` (`allow_fd_endpoints`).
    fd_endpoints: bool,
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
    /// existing Unix socket file left in place, a new socket file's mode
    /// from the umask, `fd:N` endpoints refused.
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
            opts: Checked::new(Options::new(Side::Listener)),
            backlog: Self::DEFAULT_BACKLOG,
            #[cfg(unix)]
            remove_stale_socket: false,
            #[cfg(unix)]
            mode: None,
            fd_endpoints: false,
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

    /// Removes a stale Unix socket file at the path before binding it: a
    /// socket file that no socket holds any more.
    ///
    /// Default: off; the builder never removes a file unless asked. IP
    /// listeners ignore it. A regular file, a directory, a symbolic link, a
    /// device or a socket that a socket still holds is never removed. The
    /// steps, how a live server is told apart without connecting to it, and
    /// what is left open, are in the crate documentation's
    /// [stale socket files](crate#stale-unix-socket-files) section.
    ///
    /// # Errors
    ///
    /// The finishing call fails with [`Error::Bind`] and
    /// [`AddrInUse`](std::io::ErrorKind::AddrInUse) where a socket holds the
    /// file, with words that say which: "a server is listening on this
    /// socket file", "a process has bound this socket file and does not
    /// listen on it yet", "a datagram socket of a running process is bound
    /// to this socket file". [`TimedOut`](std::io::ErrorKind::TimedOut)
    /// where another start held the lock file for 5 s. A file that cannot
    /// be removed gives the removal's cause (such as
    /// [`PermissionDenied`](std::io::ErrorKind::PermissionDenied)).
    ///
    /// # Platform-specific behavior
    ///
    /// Unix only. On Linux and Android the kernel's table of sockets says
    /// who holds the file; elsewhere a `connect(2)` probes it, and a live
    /// stream server sees that probe as one connection that closes at once.
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

    /// Sets the mode of the Unix socket file that
    /// [`listen_unix`](Self::listen_unix) and
    /// [`bind_unix_datagram`](Self::bind_unix_datagram) create, such as
    /// `0o660` (connecting to a Unix stream socket, or sending to a datagram
    /// one, needs write permission on its file).
    ///
    /// The mode is in place before any client can reach the socket, without
    /// changing the process-wide umask, and without ever following the
    /// socket's path to set it:
    /// 1. `open(2)` of the path's directory (`O_DIRECTORY`): the file is
    ///    looked at and changed only through this handle, by its last name,
    ///    never through a symbolic link there;
    /// 2. (Linux) `fchmod(2)` on the socket before `bind(2)`: the file that
    ///    `bind` creates takes this mode less the umask, never wider;
    /// 3. after `bind`, `fstatat(AT_SYMLINK_NOFOLLOW)`; where the file has
    ///    the mode already (the umask took nothing away), nothing more;
    /// 4. otherwise (Linux) `openat(O_PATH | O_NOFOLLOW)` of the file,
    ///    `fstat(2)` of that handle, which must be the very file the socket
    ///    is bound to (the kernel's table of sockets, `NETLINK_SOCK_DIAG`,
    ///    names it by device and inode), then `chmod(2)` of
    ///    `/proc/self/fd/N`, which reaches exactly that file; elsewhere
    ///    `fchmodat(AT_SYMLINK_NOFOLLOW)` once `fstatat` says socket file;
    /// 5. then, for a stream socket, `listen(2)`. Until `listen`, a connect
    ///    is refused whatever the mode, so no client connects through a
    ///    wider mode.
    ///
    /// So another user who can replace the directory entry between `bind`
    /// and step 4 (a directory they own, or a world-writable one without
    /// the sticky bit) cannot have the mode put on a file of their choosing.
    ///
    /// Default: unset; the file's mode is `0o777` less the umask (with the
    /// usual umask `0o022`, `0o755`), and none of these steps runs. IP
    /// listeners ignore it. A Linux abstract name has no file for a mode to
    /// protect: asking for both is an [`Error::InvalidConfig`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] before any system call for a mode with bits
    /// above `0o7777`, or a path whose last part names no file (`..`, a
    /// trailing `/`); [`Error::Bind`] if the directory cannot be opened;
    /// [`Error::SetOption`] (option `chmod`) if the file's mode cannot be
    /// set, after which the new file is removed (through the directory
    /// handle, and only if it is still this socket's file), or if the
    /// entry is no longer this socket's file ("the directory entry changed
    /// during bind"), after which nothing is changed and the socket is
    /// closed.
    ///
    /// # Platform-specific behavior
    ///
    /// Unix only.
    ///
    /// - Linux and Android: where the kernel's table of sockets cannot be
    ///   read, step 4 checks only that the handle is a socket file (not
    ///   that it is this socket's), and says so at `debug` level. `/proc`
    ///   must be mounted for step 4.
    /// - Elsewhere step 2 is skipped (`fchmod` on a socket does not reach
    ///   its file there), so a datagram socket's file has the umask's mode
    ///   from `bind` until step 4: a sender that the umask lets in can send
    ///   in that window. A stream socket has no such window (step 5). For
    ///   datagram sockets there, a umask that allows no more than `mode`
    ///   (or a directory only the intended peers can enter) closes it.
    ///   Step 4 is `fstatat` then `fchmodat` by name in the directory held
    ///   open: a user who can write to that very directory can still swap
    ///   the entry between the two for another socket file (never a file
    ///   elsewhere, and never through a link).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    /// use sockwright::ListenerBuilder;
    ///
    /// let dir = std::env::temp_dir().join(format!("sockwright-doc-mode-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("server.sock");
    /// # let _ = std::fs::remove_file(&path);
    /// let listener = ListenerBuilder::new().mode(0o600).listen_unix(&path)?;
    /// assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o7777, 0o600);
    /// # drop(listener);
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        self.mode = Some(mode);
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
        A: ToSocketAddrs,
    {
        let backlog = self.validate_listen(Place::Inet)?;
        let target = &resolve::UserTarget::new(&addr, LISTENER_LOG);
        resolve::resolve_then(*target, &self.opts, |addrs| {
            resolve::each(target, addrs, |a| {
                let socket = self.bound_inet(a, Type::Stream)?;
                listen(&socket, &Address::Inet(a), backlog)?;
                Ok(socket.into())
            })
        })
    }

    /// Listens on every address `addr` resolves to: one [`TcpListener`] per
    /// address, in the resolver's order, so that a name such as `localhost`
    /// that has an IPv4 and an IPv6 address serves clients of both.
    ///
    /// Each listener is made as [`listen`](Self::listen) makes one, with
    /// every option of this builder, on a fresh socket; IPv6 ones also get
    /// only-v6 (`IPV6_V6ONLY`), so that an IPv4 and an IPv6 listener can
    /// share a port number. A repeated address is listened on once.
    ///
    /// With port 0, the first address is given a free port by the OS and
    /// the others with port 0 reuse that port, so all listen on one port
    /// number. If that port is taken for a later address, every listener
    /// made so far is closed and the whole list starts over with a new port,
    /// up to [`LISTEN_ALL_ATTEMPTS`](Self::LISTEN_ALL_ATTEMPTS) times.
    ///
    /// # Errors
    ///
    /// As for [`listen`](Self::listen), and [`Error::InvalidConfig`] if
    /// only-v6 was set to `false`. If any address fails, the listeners
    /// already made are closed and the error is that address's own (it
    /// names the address and the step, such as `bind [::1]:8080: address
    /// already in use`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
    /// use sockwright::ListenerBuilder;
    ///
    /// # if std::net::TcpListener::bind("[::1]:0").is_err() { return Ok(()); } // no IPv6 here
    /// let both = [
    ///     SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
    ///     SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    /// ];
    /// let listeners = ListenerBuilder::new().listen_all(&both[..])?;
    /// let port = listeners[0].local_addr()?.port();
    /// assert_eq!(listeners[1].local_addr()?.port(), port);
    /// std::net::TcpStream::connect(("127.0.0.1", port))?;
    /// std::net::TcpStream::connect(("::1", port))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn listen_all<A>(&self, addr: A) -> Result<Vec<TcpListener>>
    where
        A: ToSocketAddrs,
    {
        self.check_listen_all()?;
        let target = resolve::UserTarget::new(&addr, LISTENER_LOG);
        let addrs = resolve::resolve(target, &self.opts)?;
        self.listen_each(&target, &addrs, self.opts.nonblocking == Some(true))
    }

    /// What [`listen_all`](Self::listen_all) checks before any system call.
    pub(crate) fn check_listen_all(&self) -> Result<()> {
        self.opts.validate(Type::Stream, Place::Inet)?;
        if self.opts.set.only_v6 == Some(false) {
            return Err(Error::invalid(
                "only_v6(false) (IPV6_V6ONLY) cannot go with listen_all, whose IPv6 listeners share port numbers with IPv4 ones",
            ));
        }
        self.backlog_int().map(drop)
    }

    /// [`listen_all`](Self::listen_all) once `addrs` are known: one listener
    /// per address, repeats dropped, on one port; each socket nonblocking
    /// from `socket(2)` when `nonblocking`.
    pub(crate) fn listen_each(
        &self,
        target: &dyn std::fmt::Display,
        addrs: &[SocketAddr],
        nonblocking: bool,
    ) -> Result<Vec<TcpListener>> {
        let backlog = self.backlog_int()?;
        let mut addrs = addrs.to_vec();
        crate::resolve::dedup(&mut addrs);
        let mut v6 = self.clone();
        v6.opts.set.only_v6 = Some(true);
        let listeners = on_one_port(&addrs, Self::LISTEN_ALL_ATTEMPTS, |a| {
            let builder = if a.is_ipv6() { &v6 } else { self };
            let socket = builder.bound_inet_as(a, Type::Stream, nonblocking)?;
            listen(&socket, &Address::Inet(a), backlog)?;
            let port = socket
                .local_addr()
                .ok()
                .and_then(|l| l.as_socket())
                .map_or(a.port(), |l| l.port());
            Ok((TcpListener::from(socket), port))
        })?;
        debug!(
            target: LISTENER_LOG,
            "listening on {} of {target}",
            crate::bounded::shown::AllAddresses(listeners.len())
        );
        Ok(listeners)
    }

    /// How many times [`listen_all`](Self::listen_all) starts over when the
    /// port the OS chose for the first address is taken for another: 8.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sockwright::ListenerBuilder::LISTEN_ALL_ATTEMPTS, 8);
    /// ```
    pub const LISTEN_ALL_ATTEMPTS: u32 = 8;

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
        A: ToSocketAddrs,
    {
        self.opts.validate(Type::Datagram, Place::Inet)?;
        let target = resolve::UserTarget::new(&addr, LISTENER_LOG);
        let addrs = resolve::resolve(target, &self.opts)?;
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
    /// (only-v6, TTL, reuse-address, reuse-port...), a protocol other than the default, a
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
        let backlog = self.validate_listen(Place::Unix(path))?;
        let (socket, addr, lock) = self.bound_unix(path, Type::Stream)?;
        listen(&socket, &addr, backlog)?;
        // Once it listens, another start's check sees a live server.
        drop(lock);
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
        let (socket, _, _lock) = self.bound_unix(path, Type::Datagram)?;
        Ok(socket.into())
    }

    /// Listens on an [`Endpoint`] that the user wrote, and returns a
    /// [`Listener`] whose clients are TCP or Unix-domain ones.
    ///
    /// | Endpoint | made by |
    /// |---|---|
    /// | `IP:PORT`, `[IPV6]:PORT` | [`listen`](Self::listen): [`Listener::Tcp`] |
    /// | `NAME:PORT` (`localhost:8080`) | [`listen_all`](Self::listen_all) on every address of the name, one port: [`Listener::TcpAll`] (or `Tcp` for a name with one address) |
    /// | `unix:PATH`, `/PATH`, `./PATH` | [`listen_unix`](Self::listen_unix) |
    /// | `@NAME` | [`listen_unix`](Self::listen_unix) on the abstract name (Linux) |
    /// | `sd-listen`, `sd-listen:NAME` | [`ListenFds::from_env`](crate::activation::ListenFds::from_env), then [`listener`](crate::activation::ListenFds::listener) with position 0 or the name |
    /// | `fd:N` | [`activation::listener`](crate::activation::listener), once [`allow_fd_endpoints`](Self::allow_fd_endpoints) allows it |
    ///
    /// A socket made here takes every option of this builder that acts on
    /// its transport, so that one builder serves whatever endpoint the user
    /// wrote: an option that cannot act there (`nodelay` on `@NAME`,
    /// `reuse_port` on a Unix path, [`mode`](Self::mode) where there is no
    /// file: TCP and `@NAME`) is left out with one `debug` line (target
    /// `sockwright::listener`), such as `skipped nodelay (TCP_NODELAY) for
    /// @app: it does not act on Unix stream sockets`. Which transports each
    /// option acts on is in the crate docs' [socket options](crate#socket-options)
    /// table. The direct calls (`listen_unix` with `nodelay`...) still
    /// refuse such an option. An inherited socket (`sd-listen`, `fd:N`) was
    /// made by another process: only [`nonblocking`](Self::nonblocking) is
    /// applied to it, the rest were that process's to set.
    ///
    /// # Errors
    ///
    /// The error of the call in the table; [`Error::Adopt`] for `fd:N` on a
    /// builder that does not allow it; [`Error::Unsupported`] for a Unix
    /// endpoint on Windows, and for `@NAME` or an inherited socket where the
    /// platform has none.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{Endpoint, Listener, ListenerBuilder};
    ///
    /// // From a `--listen` flag or a configuration file:
    /// let endpoint: Endpoint = "127.0.0.1:0".parse()?;
    /// let listener = ListenerBuilder::new().reuse_address(true).listen_endpoint(&endpoint)?;
    /// assert!(matches!(listener, Listener::Tcp(_)));
    /// println!("listening on {}", listener.local_addr()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn listen_endpoint(&self, endpoint: &Endpoint) -> Result<Listener> {
        let builder = self.for_endpoint(endpoint);
        match endpoint.opens()? {
            Opens::Inet(addr) => builder.listen(addr).map(Listener::Tcp),
            Opens::Host(host) => builder.listen_all(host).map(Listener::tcp_all),
            #[cfg(unix)]
            Opens::Unix(path) => builder.listen_unix(path).map(Listener::Unix),
            Opens::Passed => self.adopt_endpoint(endpoint),
        }
    }

    /// `sd-listen` and `fd:N` of [`listen_endpoint`](Self::listen_endpoint):
    /// a listening socket made by another process.
    pub(crate) fn adopt_endpoint(&self, endpoint: &Endpoint) -> Result<Listener> {
        match endpoint {
            Endpoint::Inherited(name) => {
                let fds = crate::activation::ListenFds::from_env()?;
                let listener = match name.as_deref() {
                    None => fds.listener(0)?,
                    Some(crate::endpoint::EVERY_INHERITED) => every_listener(fds.listeners()?)?,
                    Some(name) => fds.listener(name)?,
                };
                self.finish_adopted(listener)
            }
            Endpoint::Fd(fd) => self.adopt_fd_endpoint(*fd),
            other => Err(Error::invalid(format!(
                "{other} is not a socket made by another process"
            ))),
        }
    }

    /// This builder less what cannot act on `endpoint`'s transport: each
    /// option the table says does not act there, and a file mode where
    /// there is no file (`@NAME`, TCP), each left out with one `debug`
    /// line. An inherited socket keeps the builder as it is.
    pub(crate) fn for_endpoint(&self, endpoint: &Endpoint) -> Cow<'_, ListenerBuilder> {
        let Some(transport) = endpoint.transport() else {
            return Cow::Borrowed(self);
        };
        #[cfg(unix)]
        let is_abstract = matches!(endpoint, Endpoint::Abstract(_));
        let endpoint = &crate::bounded::shown::Cut::new(endpoint);
        let opts = self.opts.for_transport(transport, endpoint);
        #[cfg(unix)]
        let mode = self
            .mode
            .filter(|_| transport != options::TransportKind::UnixStream || is_abstract);
        #[cfg(not(unix))]
        let mode: Option<u32> = None;
        if opts.is_none() && mode.is_none() {
            return Cow::Borrowed(self);
        }
        let mut builder = self.clone();
        if let Some(opts) = opts {
            builder.opts = Checked::new(opts);
        }
        #[cfg(unix)]
        if let Some(mode) = mode {
            debug!(
                target: LISTENER_LOG,
                "skipped mode {mode:#o} for {endpoint}: it has no socket file"
            );
            builder.mode = None;
        }
        Cow::Owned(builder)
    }

    /// Lets [`listen_endpoint`](Self::listen_endpoint) adopt `fd:N`
    /// endpoints, descriptors named by number, as
    /// [`activation::listener`](crate::activation::listener) does.
    ///
    /// Default: off, and `fd:N` is an [`Error::Adopt`] written for the
    /// program's user, who can name another endpoint: `adopt fd 3: this
    /// program does not take listening sockets by descriptor number; use
    /// sd-listen or an address`. The
    /// other endpoints need nothing: `sd-listen` comes with the service
    /// manager's promise that the sockets were passed to this process
    /// (`LISTEN_PID`), where a number in a flag or a configuration file
    /// comes with none that a library can check.
    ///
    /// # Safety
    ///
    /// With `allow` true, every `fd:N` that this builder or a clone of it
    /// listens on must meet the contract of
    /// [`activation::listener`](crate::activation::listener): if it is an
    /// open listening socket, the program owns it and gives it up, and
    /// nothing else uses or closes it afterwards. A program whose user
    /// names descriptors it was started with, and which adopts descriptors
    /// nowhere else, meets it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// use std::os::unix::io::IntoRawFd;
    /// use sockwright::{Endpoint, ListenerBuilder};
    ///
    /// // A listening socket at a number with no owner, as a parent process passes it.
    /// let fd = ListenerBuilder::new().listen("127.0.0.1:0")?.into_raw_fd();
    /// let endpoint: Endpoint = format!("fd:{fd}").parse()?;
    ///
    /// let mut builder = ListenerBuilder::new();
    /// let err = builder.listen_endpoint(&endpoint).unwrap_err();
    /// assert!(err.to_string().ends_with("use sd-listen or an address"), "{err}");
    /// // SAFETY: the only `fd:N` listened on names `fd`, which has no other owner.
    /// unsafe { builder.allow_fd_endpoints(true) };
    /// let listener = builder.listen_endpoint(&endpoint)?;
    /// println!("listening on {}", listener.local_addr()?);
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(unsafe_code)]
    pub unsafe fn allow_fd_endpoints(&mut self, allow: bool) -> &mut Self {
        self.fd_endpoints = allow;
        self
    }

    /// `fd:N` of [`listen_endpoint`](Self::listen_endpoint).
    #[allow(unsafe_code)]
    fn adopt_fd_endpoint(&self, fd: i32) -> Result<Listener> {
        // Elsewhere than Unix, adopting is unsupported whatever was allowed.
        if cfg!(unix) && !self.fd_endpoints {
            return Err(Error::Adopt {
                fd,
                name: None,
                // Read by the program's user, who can change the endpoint,
                // not the code: the API that allows it is in the docs.
                reason: "this program does not take listening sockets by descriptor number; \
                         use sd-listen or an address"
                    .to_owned(),
                error: None,
            });
        }
        // SAFETY: on Unix `allow_fd_endpoints(true)` was called, whose caller
        // promised that every `fd:N` this builder listens on may be adopted;
        // elsewhere the call touches no descriptor and returns `Unsupported`.
        let listener = unsafe { crate::activation::listener(fd) }?;
        self.finish_adopted(listener)
    }

    /// Applies what this builder can still change on a socket another
    /// process made: nonblocking mode.
    fn finish_adopted(&self, listener: Listener) -> Result<Listener> {
        if let Some(on) = self.opts.nonblocking {
            let addr = listener.local_addr().unwrap_or(Address::Unknown);
            options::set_result("O_NONBLOCK", &addr, listener.set_nonblocking(on))?;
            debug!(target: LISTENER_LOG, "set nonblocking={on} for {addr}");
        }
        Ok(listener)
    }

    /// Checks the configuration of a listening socket at `place` before any
    /// system call, and gives the backlog as `listen(2)` takes it.
    #[inline]
    pub(crate) fn validate_listen(&self, place: Place<'_>) -> Result<i32> {
        self.opts.validate(Type::Stream, place)?;
        self.backlog_int()
    }

    #[inline]
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
    #[inline]
    pub(crate) fn bound_inet(&self, addr: SocketAddr, implied: Type) -> Result<Socket> {
        self.bound_inet_as(addr, implied, self.opts.nonblocking == Some(true))
    }

    /// [`bound_inet`](Self::bound_inet), nonblocking from `socket(2)` (no
    /// mode change after) when `nonblocking`, as the async calls need it
    /// whatever the builder's `nonblocking` says.
    #[inline]
    pub(crate) fn bound_inet_as(
        &self,
        addr: SocketAddr,
        implied: Type,
        nonblocking: bool,
    ) -> Result<Socket> {
        let domain = Domain::for_address(&addr);
        let shown = Address::Inet(addr);
        let socket = self
            .opts
            .create_with(domain, implied, &shown, nonblocking)?;
        self.opts.bind(&socket, &addr.into(), &shown)?;
        let side = self.opts.side;
        self.opts
            .set
            .apply(Phase::Bound, &socket, domain, &shown, side)?;
        Ok(socket)
    }

    /// `[lock → stale check] → socket → setsockopt… → [fchmod] → bind →
    /// [chmod]` for one Unix path (a Linux abstract name when the path
    /// starts with a NUL byte). The returned lock is held until it is
    /// dropped: after `listen`, by the caller.
    #[cfg(unix)]
    pub(crate) fn bound_unix(
        &self,
        path: &Path,
        implied: Type,
    ) -> Result<(Socket, Address, crate::listener::unix_file::StartLock)> {
        use std::os::unix::ffi::OsStrExt;

        let shown = Address::Unix(path.to_path_buf());
        let bytes = path.as_os_str().as_bytes();
        if bytes.is_empty() {
            return Err(Error::invalid(
                "empty Unix socket path: name a file (a Linux abstract name is written @NAME as an Endpoint)",
            ));
        }
        let is_abstract = bytes[0] == 0;
        if is_abstract && !crate::platform::has::LINUX {
            return Err(Error::Unsupported {
                what: ABSTRACT_NAMES,
            });
        }
        let mode = self.mode.filter(|_| !is_abstract);
        if let Some(mode) = self.mode {
            if mode > 0o7777 {
                return Err(Error::invalid(format!(
                    "file mode {mode:#o} has bits above 0o7777"
                )));
            }
            if is_abstract {
                return Err(Error::invalid(format!(
                    "a file mode ({mode:#o}) cannot protect abstract socket name {shown}: it has no file"
                )));
            }
        }
        self.opts.check_unix(path)?;
        let sockaddr = socket2::SockAddr::unix(path)
            .map_err(|e| Error::invalid(format!("Unix socket path {shown}: {e}")))?;
        let remove_stale = self.remove_stale_socket && !is_abstract;
        // The directory, opened once, where the file is looked at, removed
        // and given its mode: never through the path again.
        let file = if remove_stale || mode.is_some() {
            Some(crate::listener::unix_file::SocketFile::open(path, &shown)?)
        } else {
            None
        };
        let mut lock = crate::listener::unix_file::StartLock::none();
        if let (Some(file), true) = (&file, remove_stale) {
            lock = file.lock(&shown)?;
            file.remove_if_stale(&sockaddr, &shown)?;
        }
        let socket = self.opts.create_with(
            Domain::Unix,
            implied,
            &shown,
            self.opts.nonblocking == Some(true),
        )?;
        if let Some(mode) = mode {
            options::set_result("fchmod", &shown, crate::sys::fchmod_socket(&socket, mode))?;
        }
        self.opts
            .bind(&socket, &sockaddr, &shown)
            .map_err(|err| crate::listener::unix_file::in_the_way(path, err))?;
        if let (Some(mode), Some(file)) = (mode, &file) {
            file.set_mode(&socket, mode, &shown)?;
        }
        let side = self.opts.side;
        self.opts
            .set
            .apply(Phase::Bound, &socket, Domain::Unix, &shown, side)?;
        Ok((socket, shown, lock))
    }
}

/// Makes one value per address with `make`, which returns the value and the
/// port it was bound to. Addresses with port 0 after the first such one get
/// the port that one was given. If that port is taken (`AddrInUse`) for a
/// later address, everything made so far is dropped and the list starts
/// over, up to `attempts` times; any other failure drops everything made
/// and is returned as it is.
fn on_one_port<T>(
    addrs: &[SocketAddr],
    attempts: u32,
    mut make: impl FnMut(SocketAddr) -> Result<(T, u16)>,
) -> Result<Vec<T>> {
    let mut attempt = 1;
    loop {
        let mut made = Vec::with_capacity(addrs.len());
        let mut chosen: Option<u16> = None;
        let mut failed = None;
        for &given in addrs {
            let mut a = given;
            let reused = match (a.port(), chosen) {
                (0, Some(port)) => {
                    a.set_port(port);
                    true
                }
                _ => false,
            };
            match make(a) {
                Ok((value, port)) => {
                    if given.port() == 0 && chosen.is_none() {
                        chosen = Some(port);
                    }
                    made.push(value);
                }
                Err(err) => {
                    failed = Some((err, reused, a));
                    break;
                }
            }
        }
        match failed {
            None => return Ok(made),
            Some((err, true, a))
                if err.kind() == std::io::ErrorKind::AddrInUse && attempt < attempts =>
            {
                debug!(
                    target: LISTENER_LOG,
                    "port {} is taken at {a}; closing {} listeners and starting over",
                    a.port(),
                    made.len()
                );
                attempt += 1;
            }
            Some((err, _, _)) => {
                debug!(target: LISTENER_LOG, "{err}; closing the {} listeners made before it", made.len());
                return Err(err);
            }
        }
    }
}

/// What [`Error::Unsupported`] names where there are no abstract names.
pub(crate) const ABSTRACT_NAMES: &str = "abstract Unix socket names (@NAME)";

/// A Linux abstract socket name as the path socket2 binds: a NUL byte, then
/// the name. Only Linux has them: elsewhere [`Error::Unsupported`].
#[cfg(unix)]
pub(crate) fn abstract_path(name: &[u8]) -> Result<std::path::PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    if !crate::platform::has::LINUX {
        return Err(Error::Unsupported {
            what: ABSTRACT_NAMES,
        });
    }
    let mut bytes = Vec::with_capacity(name.len() + 1);
    bytes.push(0);
    bytes.extend_from_slice(name);
    Ok(std::ffi::OsStr::from_bytes(&bytes).into())
}

/// `listen(2)`, logging the address actually bound when debug logging is on.
#[inline]
pub(crate) fn listen(socket: &Socket, addr: &Address, backlog: i32) -> Result<()> {
    if let Err(source) = socket.listen(backlog) {
        return Err(listen_error(addr, backlog, source));
    }
    if log_enabled!(target: LISTENER_LOG, Level::Debug) {
        log_listening(socket, addr, backlog);
    }
    Ok(())
}

/// The `debug` line of a socket that listens: the address it is bound to.
fn log_listening(socket: &Socket, addr: &Address, backlog: i32) {
    match socket.local_addr().ok().and_then(|a| a.as_socket()) {
        Some(local) => debug!(target: LISTENER_LOG, "listening on {local} (backlog {backlog})"),
        None => debug!(target: LISTENER_LOG, "listening on {addr} (backlog {backlog})"),
    }
}

/// The error of a failed `listen(2)`, built apart from the calls that
/// succeed.
fn listen_error(addr: &Address, backlog: i32, source: std::io::Error) -> Error {
    Error::Listen {
        addr: addr.clone(),
        backlog,
        error: source,
    }
}

/// The listeners of `sd-listen:*` as one: TCP listeners together (as
/// [`Listener::TcpAll`]), or the one Unix listener.
fn every_listener(all: Vec<Listener>) -> Result<Listener> {
    if all.len() == 1 {
        return Ok(all.into_iter().next().expect("one listener"));
    }
    let mut tcp = Vec::with_capacity(all.len());
    for listener in all {
        match listener {
            Listener::Tcp(l) => tcp.push(l),
            Listener::TcpAll(ls) => tcp.extend(ls),
            #[cfg(unix)]
            Listener::Unix(_) => {
                return Err(Error::invalid(
                    "sd-listen:* takes every passed socket as one listener, and TCP and \
                     Unix-domain sockets were passed: name each one with sd-listen:NAME",
                ));
            }
        }
    }
    Ok(Listener::tcp_all(tcp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_use(a: SocketAddr) -> Error {
        Error::Bind {
            addr: Address::Inet(a),
            error: std::io::Error::from(std::io::ErrorKind::AddrInUse),
        }
    }

    #[test]
    fn a_shared_port_taken_elsewhere_starts_over_with_a_new_one() {
        let addrs: Vec<SocketAddr> =
            vec!["[::1]:0".parse().unwrap(), "127.0.0.1:0".parse().unwrap()];
        let mut calls = Vec::new();
        let mut next_port = 40_000;
        let made = on_one_port(&addrs, 8, |a| {
            calls.push(a);
            if a.port() == 0 {
                next_port += 1;
                return Ok((a.to_string(), next_port));
            }
            // The first port chosen is busy on IPv4; the second is free.
            if a.port() == 40_001 {
                return Err(in_use(a));
            }
            Ok((a.to_string(), a.port()))
        })
        .unwrap();
        assert_eq!(made, ["[::1]:0", "127.0.0.1:40002"]);
        let tried: Vec<String> = calls.iter().map(ToString::to_string).collect();
        assert_eq!(
            tried,
            ["[::1]:0", "127.0.0.1:40001", "[::1]:0", "127.0.0.1:40002"]
        );
    }

    /// `on_one_port` over `addrs`, `attempts` times at most, with a bind
    /// that gives port 0 the port 40000 and finds the addresses `busy` says
    /// in use: the error and how many binds were made.
    fn fails_on_one_port(
        addrs: &[&str],
        attempts: u32,
        busy: impl Fn(SocketAddr) -> bool,
    ) -> (Error, usize) {
        let addrs: Vec<SocketAddr> = addrs.iter().map(|a| a.parse().unwrap()).collect();
        let mut calls = 0;
        let err = on_one_port(&addrs, attempts, |a| {
            calls += 1;
            if busy(a) {
                Err(in_use(a))
            } else {
                Ok(((), 40_000))
            }
        })
        .unwrap_err();
        (err, calls)
    }

    #[test]
    fn starting_over_stops_after_the_attempts_and_other_errors_stop_at_once() {
        // The port chosen for the first address is always busy on the second.
        let (err, calls) = fails_on_one_port(&["[::1]:0", "127.0.0.1:0"], 3, |a| a.port() != 0);
        assert_eq!(calls, 6);
        assert!(err.to_string().starts_with("bind 127.0.0.1:40000"), "{err}");

        // An explicit port that is busy is not retried.
        let (err, calls) = fails_on_one_port(&["127.0.0.1:0", "[::1]:9"], 8, |a| a.port() == 9);
        assert_eq!(calls, 2);
        assert!(err.to_string().starts_with("bind [::1]:9"), "{err}");
    }
}
