//! The setters both builders have, and `configure`, each written once: its name, its
//! value, what it stores, and its docs, given for each builder where they
//! differ (what the option does on a listener is not what it does on a
//! client) and once where they do not. Each setter only stores its value:
//! the option table (`options/table.rs`) checks and sets it.
//!
//! An entry reads:
//!
//! ```text
//! fn setter(arg: Type) |opts| what it stores in `opts` (an `Options`);
//! listener(cfg_X) { /// the docs' opening on ListenerBuilder }
//! connector(cfg_X) { /// the docs' opening on ConnectorBuilder }
//! both { /// the docs' middle, the same on both builders }
//! listener { /// the rest of the docs on ListenerBuilder }
//! connector { /// the rest of the docs on ConnectorBuilder }
//! ```
//!
//! `cfg_X` is the platform condition (see [`crate::platform`]) under which
//! the builder has the setter; `everywhere` where it has it on every
//! platform.

use std::io;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use crate::{
    ConnectorBuilder, Domain, Keepalive, ListenerBuilder, Mptcp, Protocol, SocketRef, Type,
};

/// Items with no platform condition: the `cfg_X!` of every platform.
macro_rules! everywhere {
    ($($i:item)*) => { $($i)* };
}

/// Generates each entry's setter on both builders (see the module docs).
macro_rules! setters {
    ($(
        fn $name:ident($arg:ident: $ty:ty) |$opts:ident| $store:expr;
        listener($lcfg:ident) { $(#[$lhead:meta])* }
        connector($ccfg:ident) { $(#[$chead:meta])* }
        both { $(#[$both:meta])* }
        listener { $(#[$ltail:meta])* }
        connector { $(#[$ctail:meta])* }
    )*) => {
        impl ListenerBuilder {$(
            setters!(@one $lcfg [$(#[$lhead])* $(#[$both])* $(#[$ltail])*]
                $name($arg: $ty) |$opts| $store);
        )*}
        impl ConnectorBuilder {$(
            setters!(@one $ccfg [$(#[$chead])* $(#[$both])* $(#[$ctail])*]
                $name($arg: $ty) |$opts| $store);
        )*}
    };
    (@one $cfg:ident [$(#[$doc:meta])*] $name:ident($arg:ident: $ty:ty) |$opts:ident| $store:expr) => {
        $cfg! {
            $(#[$doc])*
            pub fn $name(&mut self, $arg: $ty) -> &mut Self {
                let $opts = &mut self.opts;
                $store;
                self
            }
        }
    };
}

/// Generates `configure` on both builders, with each builder's docs.
macro_rules! configure {
    ($($builder:ident { $(#[$doc:meta])* })*) => {$(
        impl $builder {
            $(#[$doc])*
            pub fn configure<F>(&mut self, f: F) -> &mut Self
            where
                F: Fn(SocketRef<'_>) -> io::Result<()> + Send + Sync + 'static,
            {
                self.opts.hooks.push(Arc::new(f));
                self
            }
        }
    )*};
}

configure! {
    ListenerBuilder {
        /// Adds a hook that runs on each socket this builder makes, after the
        /// builder's own options and before `bind(2)`: the place for any option
        /// the builder has no setter for.
        ///
        /// The hook gets a [`SocketRef`]: it implements `AsFd` / `AsRawFd` (Unix)
        /// and `AsSocket` / `AsRawSocket` (Windows), so `socket2::SockRef::from(&socket)`
        /// works with whatever socket2 version the caller uses, and it tells the
        /// domain, type, protocol and the address about to be bound. Each call
        /// adds a hook; they run in the order added, once per address tried.
        ///
        /// # Errors
        ///
        /// A hook's error ends the finishing call with
        /// [`Error::Configure`](crate::Error::Configure), naming the address
        /// (`configure 127.0.0.1:8080: permission denied (os error 13)`); the
        /// socket is closed.
        ///
        /// # Examples
        ///
        /// ```
        /// use sockwright::ListenerBuilder;
        ///
        /// let listener = ListenerBuilder::new()
        ///     .configure(|socket| socket2::SockRef::from(&socket).set_recv_buffer_size(64 * 1024))
        ///     .listen("127.0.0.1:0")?;
        /// assert!(socket2::SockRef::from(&listener).recv_buffer_size()? >= 64 * 1024);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    ConnectorBuilder {
        /// Adds a hook that runs on each socket this builder makes, after the
        /// builder's own options and before the source address is bound and
        /// `connect(2)` is called: the place for any option the builder has no
        /// setter for, and for the ones that only work before a connect.
        ///
        /// The hook gets a [`SocketRef`]: it implements `AsFd` / `AsRawFd` (Unix)
        /// and `AsSocket` / `AsRawSocket` (Windows), so `socket2::SockRef::from(&socket)`
        /// works with whatever socket2 version the caller uses, and it tells the
        /// domain, type, protocol and the address about to be connected. Each
        /// call adds a hook; they run in the order added, on every attempt: once
        /// per address tried, once per attempt of a Happy Eyeballs race.
        ///
        /// The socket is already nonblocking when its connect will not block:
        /// with a [`connect_timeout`](Self::connect_timeout) (the connect is then
        /// waited for in `poll(2)`), with [`nonblocking(true)`](Self::nonblocking),
        /// and in every attempt of a race.
        ///
        /// # Errors
        ///
        /// A hook's error is that attempt's failure,
        /// [`Error::Configure`](crate::Error::Configure) naming the address
        /// (`configure 127.0.0.1:8080: permission denied (os error 13)`); its
        /// socket is closed, and a race or the next address carries on.
        ///
        /// # Examples
        ///
        /// ```
        /// use sockwright::ConnectorBuilder;
        ///
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = ConnectorBuilder::new()
        ///     .configure(|socket| socket2::SockRef::from(&socket).set_send_buffer_size(64 * 1024))
        ///     .connect(server.local_addr()?)?;
        /// assert!(socket2::SockRef::from(&stream).send_buffer_size()? >= 64 * 1024);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
}

setters! {
    fn domain(domain: Domain) |opts| opts.domain = Some(domain);
    listener(everywhere) {
        /// Sets the domain (address family) explicitly: the `domain` argument of `socket(2)`.
        ///
        /// Default: inferred from each address. Once set, an address of another
        /// family is skipped when a name resolves to several, and is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) before any system
        /// call when none fits.
        ///
        /// # Examples
        ///
        /// ```
        /// use sockwright::{Domain, ListenerBuilder};
        ///
        /// let listener = ListenerBuilder::new().domain(Domain::Ipv4).listen("127.0.0.1:0")?;
        /// assert!(listener.local_addr()?.is_ipv4());
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(everywhere) {
        /// Sets the domain (address family) explicitly: the `domain` argument of `socket(2)`.
        ///
        /// Default: inferred from each address. Once set, the addresses of a
        /// name in another family are not tried, and a target with none in this
        /// family is an [`Error::InvalidConfig`](crate::Error::InvalidConfig)
        /// before any system call.
        ///
        /// # Examples
        ///
        /// ```
        /// use sockwright::{ConnectorBuilder, Domain};
        ///
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let port = server.local_addr()?.port();
        /// // Only the IPv4 address of the list is tried.
        /// let stream = ConnectorBuilder::new()
        ///     .domain(Domain::Ipv4)
        ///     .connect(&[format!("[::1]:{port}").parse()?, server.local_addr()?][..])?;
        /// assert!(stream.peer_addr()?.is_ipv4());
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn socket_type(socket_type: Type) |opts| opts.socket_type = Some(socket_type);
    listener(everywhere) {
        /// Sets the socket type explicitly: the `type` argument of `socket(2)`.
        ///
        /// Default: the type each finishing call implies ([`Type::Stream`] for
        /// [`listen`](Self::listen), [`Type::Datagram`] for [`bind_udp`](Self::bind_udp)).
        /// A type the call cannot use is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) before any system call.
        ///
        /// # Examples
        ///
        /// ```
        /// use sockwright::{ListenerBuilder, Type};
        ///
        /// let err = ListenerBuilder::new().socket_type(Type::Datagram).listen("127.0.0.1:0");
        /// assert!(err.is_err());
        /// ```
    }
    connector(everywhere) {
        /// Sets the socket type explicitly: the `type` argument of `socket(2)`.
        ///
        /// Default: the type each finishing call implies ([`Type::Stream`] for
        /// [`connect`](Self::connect), [`Type::Datagram`] for
        /// [`connect_udp`](Self::connect_udp)). A type the call cannot use is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) before any system call.
        ///
        /// # Examples
        ///
        /// ```
        /// use sockwright::{ConnectorBuilder, Type};
        ///
        /// let err = ConnectorBuilder::new().socket_type(Type::Stream).connect_udp("127.0.0.1:9");
        /// assert!(err.is_err());
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn protocol(protocol: Protocol) |opts| opts.protocol = protocol;
    listener(everywhere) {}
    connector(everywhere) {}
    both {
        /// Sets the protocol: the `protocol` argument of `socket(2)`.
        ///
        /// Default: [`Protocol::Default`] (`0`, the type's own protocol, as the C
        /// tutorial passes).
        ///
    }
    listener {
        /// # Examples
        ///
        /// ```
        /// use sockwright::{ListenerBuilder, Protocol};
        ///
        /// let listener = ListenerBuilder::new().protocol(Protocol::Tcp).listen("127.0.0.1:0")?;
        /// # drop(listener);
        /// # Ok::<(), sockwright::Error>(())
        /// ```
    }
    connector {
        /// # Examples
        ///
        /// ```
        /// use sockwright::{ConnectorBuilder, Protocol};
        ///
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = ConnectorBuilder::new().protocol(Protocol::Tcp).connect(server.local_addr()?)?;
        /// # drop(stream);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }

    fn mptcp(mptcp: Mptcp) |opts| opts.mptcp = mptcp;
    listener(everywhere) {
        /// Makes the listening socket a Multipath TCP one (`socket(2)` with
        /// `IPPROTO_MPTCP`), so that MPTCP clients can open more paths to it.
        /// Plain TCP clients are served as before: the kernel accepts them as
        /// TCP connections.
        ///
        /// Default: [`Mptcp::Off`]. With [`Mptcp::Prefer`] the listener is
        /// plain TCP, with a `debug` line saying why, where no MPTCP socket can
        /// be made; with [`Mptcp::Require`] the listen fails there. It applies
        /// to TCP listeners ([`Protocol::Default`] or [`Protocol::Tcp`]), on
        /// each address of [`listen_all`](Self::listen_all); Unix listeners and
        /// UDP sockets are made as without it.
        ///
        /// [`is_mptcp`](crate::is_mptcp) of an accepted stream says whether
        /// that client uses MPTCP.
        ///
    }
    connector(everywhere) {
        /// Makes each connecting socket a Multipath TCP one (`socket(2)` with
        /// `IPPROTO_MPTCP`), so that the connection can use several paths when
        /// the server speaks MPTCP; with a server that does not, it goes on as
        /// plain TCP.
        ///
        /// Default: [`Mptcp::Off`]. With [`Mptcp::Prefer`] each attempt is
        /// plain TCP, with a `debug` line saying why, where no MPTCP socket can
        /// be made; with [`Mptcp::Require`] the connect fails there. It applies
        /// to TCP connects ([`Protocol::Default`] or [`Protocol::Tcp`]), to every
        /// attempt of a Happy Eyeballs race; Unix and UDP connects are made as
        /// without it.
        ///
        /// [`is_mptcp`](crate::is_mptcp) of the stream says whether the
        /// connection became MPTCP.
        ///
    }
    both {
        /// # Errors
        ///
        /// With [`Mptcp::Require`]: [`Error::Create`](crate::Error::Create)
        /// naming the `net.mptcp.enabled` sysctl when the kernel makes no MPTCP
        /// socket (Linux), [`Error::Unsupported`](crate::Error::Unsupported)
        /// before any system call on other OSes.
        ///
        /// # Platform-specific behavior
        ///
        /// Linux 5.6 or later with `net.mptcp.enabled = 1` makes MPTCP sockets;
        /// other OSes have no MPTCP in the socket API.
        ///
    }
    listener {
        /// # Examples
        ///
        /// ```
        /// use sockwright::{ListenerBuilder, Mptcp};
        ///
        /// let listener = ListenerBuilder::new().mptcp(Mptcp::Prefer).listen("127.0.0.1:0")?;
        /// let client = std::net::TcpStream::connect(listener.local_addr()?)?;
        /// let (served, _) = listener.accept()?;
        /// // A plain TCP client is served as plain TCP.
        /// assert!(!sockwright::is_mptcp(&served)?);
        /// # drop(client);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector {
        /// # Examples
        ///
        /// ```
        /// use sockwright::{ConnectorBuilder, Mptcp};
        ///
        /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = ConnectorBuilder::new()
        ///     .mptcp(Mptcp::Prefer)
        ///     .connect(listener.local_addr()?)?;
        /// // The server is plain TCP: so is the connection.
        /// assert!(!sockwright::is_mptcp(&stream)?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }

    fn reuse_address(reuse: bool) |opts| opts.set.reuse_address = Some(reuse);
    listener(everywhere) {
        /// Sets `SO_REUSEADDR` before `bind`.
        ///
        /// Default: not set (the OS default, off). On Unix it lets a restarted
        /// server bind its port while connections of the old one linger in
        /// `TIME_WAIT`, which is what the C tutorial means by it.
        ///
        /// # Platform-specific behavior
        ///
        /// On Windows it lets *another* socket bind the same port while this one
        /// listens; servers there should use `exclusive_address_use` instead.
        ///
    }
    connector(everywhere) {
        /// Sets `SO_REUSEADDR` before the source address is bound: with a fixed
        /// source port ([`local_address`](Self::local_address)), a new connection
        /// may reuse it while the old one lingers in `TIME_WAIT`.
        ///
        /// Default: not set (the OS default, off).
        ///
    }
    both {
        /// It acts on IP sockets only: a Unix-domain bind never reads it (a
        /// path in use stays in use), so `listen_unix` and `connect_unix` refuse
        /// it and the [`Endpoint`](crate::Endpoint) calls leave it out for
        /// Unix endpoints.
        ///
    }
    listener {
        /// # Examples
        ///
        /// ```
        /// let listener = sockwright::ListenerBuilder::new().reuse_address(true).listen("127.0.0.1:0")?;
        /// assert!(socket2::SockRef::from(&listener).reuse_address()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector {
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().reuse_address(true).connect(server.local_addr()?)?;
        /// assert!(socket2::SockRef::from(&stream).reuse_address()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }

    fn reuse_port(reuse: bool) |opts| opts.set.reuse_port = Some(reuse);
    listener(cfg_reuse_port) {
        /// Sets `SO_REUSEPORT` before `bind`, as its own `setsockopt` call.
        ///
        /// Several listeners with this option may bind the same address and
        /// port. Default: not set (the OS default, off). It is a separate
        /// option from [`reuse_address`](Self::reuse_address): set both to get both.
        ///
        /// # Platform-specific behavior
        ///
        /// Linux spreads incoming connections across the listeners (of the
        /// same user); the BSDs and macOS give them to the last one bound.
        ///
        /// # Examples
        ///
        /// ```
        /// use sockwright::ListenerBuilder;
        ///
        /// let mut builder = ListenerBuilder::new();
        /// builder.reuse_port(true);
        /// let first = builder.listen("127.0.0.1:0")?;
        /// let second = builder.listen(first.local_addr()?)?; // the same port
        /// assert_eq!(first.local_addr()?, second.local_addr()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(cfg_reuse_port) {
        /// Sets `SO_REUSEPORT` before the source address is bound: several
        /// clients may bind the same source address and port, each connecting
        /// to a different peer.
        ///
        /// Default: not set (the OS default, off).
        ///
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().reuse_port(true).connect(server.local_addr()?)?;
        /// assert!(socket2::SockRef::from(&stream).reuse_port()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn exclusive_address_use(exclusive: bool) |opts| opts.set.exclusive_address_use = Some(exclusive);
    listener(cfg_windows) {
        /// Sets `SO_EXCLUSIVEADDRUSE` before `bind`: no other socket may bind
        /// this address and port, even with `SO_REUSEADDR`.
        ///
        /// Default: not set (the OS default, off). It cannot be combined with
        /// `reuse_address(true)` (Windows refuses the pair), which is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) before any system call.
        ///
        /// # Examples
        ///
        /// ```
        /// let listener = sockwright::ListenerBuilder::new()
        ///     .exclusive_address_use(true)
        ///     .listen("127.0.0.1:0")?;
        /// # drop(listener);
        /// # Ok::<(), sockwright::Error>(())
        /// ```
    }
    connector(cfg_windows) {
        /// Sets `SO_EXCLUSIVEADDRUSE` before the source address is bound: no
        /// other socket may bind that address and port while this one holds it.
        ///
        /// Default: not set (the OS default, off). It cannot be combined with
        /// `reuse_address(true)`, an [`Error::InvalidConfig`](crate::Error::InvalidConfig)
        /// before any system call.
        ///
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new()
        ///     .exclusive_address_use(true)
        ///     .connect(server.local_addr()?)?;
        /// # drop(stream);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn only_v6(only_v6: bool) |opts| opts.set.only_v6 = Some(only_v6);
    listener(everywhere) {
        /// Sets `IPV6_V6ONLY`: whether an IPv6 listener refuses IPv4 clients
        /// (seen as `::ffff:a.b.c.d` on a dual-stack socket).
        ///
        /// Default: not set, which leaves the OS default (off on Linux unless
        /// `net.ipv6.bindv6only` says otherwise; on on Windows and OpenBSD). Set
        /// it for an IPv4 address and that address is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Platform-specific behavior
        ///
        /// Linux turns it on by itself for a socket bound to a specific IPv6
        /// address such as `::1`; `only_v6(false)` matters on `[::]`.
        ///
        /// # Examples
        ///
        /// ```no_run
        /// // One socket for IPv6 and IPv4 clients.
        /// let listener = sockwright::ListenerBuilder::new().only_v6(false).listen("[::]:0")?;
        /// # drop(listener);
        /// # Ok::<(), sockwright::Error>(())
        /// ```
    }
    connector(everywhere) {
        /// Sets `IPV6_V6ONLY` on each IPv6 attempt: with it off, an IPv6 socket
        /// can also reach IPv4-mapped addresses (`::ffff:a.b.c.d`).
        ///
        /// Default: not set (the OS default). It applies to IPv6 addresses only:
        /// with it set, the IPv4 addresses of a name are not tried, and an IPv4
        /// target is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Examples
        ///
        /// ```no_run
        /// let server = std::net::TcpListener::bind("[::1]:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().only_v6(true).connect(server.local_addr()?)?;
        /// # drop(stream);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn nonblocking(nonblocking: bool) |opts| opts.nonblocking = Some(nonblocking);
    listener(everywhere) {
        /// Returns the socket in nonblocking mode (`O_NONBLOCK`).
        ///
        /// Default: blocking, as std's own constructors return. Set it to hand
        /// the listener to an event loop: tokio's `TcpListener::from_std` (and
        /// its kin) panics on a blocking socket ("Registering a blocking socket
        /// with the tokio runtime is unsupported"), and mio's and async-io's
        /// `from_std`-style calls require it too; see the crate docs'
        /// [Async runtimes](crate#async-runtimes). The async twins of the
        /// `tokio` feature (`listen_async`, `listen_all_async`,
        /// `listen_endpoint_async`...) always make their sockets nonblocking
        /// and do not use this setting.
        ///
        /// # Platform-specific behavior
        ///
        /// Where `socket(2)` takes `SOCK_NONBLOCK` (Linux, Android, the BSDs,
        /// illumos) the socket is created nonblocking, with no further call; on
        /// macOS one `ioctl(FIONBIO)` follows `socket(2)`, on Windows one
        /// `ioctlsocket(FIONBIO)`. A hook added with
        /// [`configure`](Self::configure) sees the socket already nonblocking.
        ///
        /// # Examples
        ///
        /// ```
        /// let listener = sockwright::ListenerBuilder::new().nonblocking(true).listen("127.0.0.1:0")?;
        /// assert_eq!(listener.accept().unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(everywhere) {
        /// Returns the socket in nonblocking mode (`O_NONBLOCK`).
        ///
        /// Default: blocking, as std's own constructors return. Set it to hand
        /// the stream to an event loop: tokio's `TcpStream::from_std` (and its
        /// kin) panics on a blocking socket. The connect itself still blocks the
        /// calling thread (bounded by [`connect_timeout`](Self::connect_timeout));
        /// the `tokio` feature's `connect_async` does not, and always returns a
        /// nonblocking stream whatever this says.
        ///
        /// # Platform-specific behavior
        ///
        /// Where `socket(2)` takes `SOCK_NONBLOCK` (Linux, Android, the BSDs,
        /// illumos) the socket is created nonblocking and its connect is waited
        /// for in `poll(2)`: no call changes its mode. On macOS one
        /// `ioctl(FIONBIO)` follows `socket(2)`. On Windows the connect blocks
        /// and one `ioctlsocket(FIONBIO)` follows it (`WSAPoll` before Windows 10
        /// version 2004 does not report a failed connect).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::io::Read;
        ///
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let mut stream = sockwright::ConnectorBuilder::new().nonblocking(true).connect(server.local_addr()?)?;
        /// assert_eq!(stream.read(&mut [0; 8]).unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn send_buffer_size(bytes: usize) |opts| opts.set.send_buffer_size = Some(bytes);
    listener(everywhere) {
        /// Sets `SO_SNDBUF`, the kernel send buffer in bytes, on the listening
        /// socket; accepted TCP connections start with it.
        ///
        /// Default: not set (the OS default). Zero, or a size that does not fit a
        /// C `int`, is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Platform-specific behavior
        ///
        /// Linux doubles the value (for bookkeeping) and caps it at
        /// `net.core.wmem_max`.
        ///
        /// # Examples
        ///
        /// ```
        /// let listener = sockwright::ListenerBuilder::new().send_buffer_size(64 * 1024).listen("127.0.0.1:0")?;
        /// assert!(socket2::SockRef::from(&listener).send_buffer_size()? >= 64 * 1024);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(everywhere) {
        /// Sets `SO_SNDBUF`, the kernel send buffer in bytes, before connecting.
        ///
        /// Default: not set (the OS default, which Linux grows on demand). Zero,
        /// or a size that does not fit a C `int`, is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Platform-specific behavior
        ///
        /// Linux doubles the value and caps it at `net.core.wmem_max`, and stops
        /// growing a buffer that was set.
        ///
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().send_buffer_size(64 * 1024).connect(server.local_addr()?)?;
        /// assert!(socket2::SockRef::from(&stream).send_buffer_size()? >= 64 * 1024);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn recv_buffer_size(bytes: usize) |opts| opts.set.recv_buffer_size = Some(bytes);
    listener(everywhere) {
        /// Sets `SO_RCVBUF`, the kernel receive buffer in bytes, before `listen`:
        /// TCP fixes its window scale at the handshake, so a large buffer must be
        /// set on the listener to take effect on accepted connections.
        ///
    }
    connector(everywhere) {
        /// Sets `SO_RCVBUF`, the kernel receive buffer in bytes, before
        /// connecting: TCP fixes its window scale in the SYN, so this is the
        /// only time a large buffer takes full effect.
        ///
    }
    both {
        /// Default: not set (the OS default). Zero, or a size that does not fit a
        /// C `int`, is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Platform-specific behavior
        ///
        /// Linux doubles the value and caps it at `net.core.rmem_max`.
        ///
    }
    listener {
        /// # Examples
        ///
        /// ```
        /// let listener = sockwright::ListenerBuilder::new().recv_buffer_size(64 * 1024).listen("127.0.0.1:0")?;
        /// assert!(socket2::SockRef::from(&listener).recv_buffer_size()? >= 64 * 1024);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector {
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().recv_buffer_size(64 * 1024).connect(server.local_addr()?)?;
        /// assert!(socket2::SockRef::from(&stream).recv_buffer_size()? >= 64 * 1024);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }

    fn ttl(ttl: u32) |opts| opts.set.ttl = Some(ttl);
    listener(everywhere) {
        /// Sets the time-to-live of the packets this socket sends: `IP_TTL` on
        /// IPv4, `IPV6_UNICAST_HOPS` on IPv6.
        ///
    }
    connector(everywhere) {
        /// Sets the time-to-live of every packet the connection sends, the SYN
        /// included: `IP_TTL` on IPv4, `IPV6_UNICAST_HOPS` on IPv6.
        ///
    }
    both {
        /// Default: not set (the OS default, usually 64). Accepted: 1 to 255;
        /// another value is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
    }
    listener {
        /// # Examples
        ///
        /// ```
        /// let socket = sockwright::ListenerBuilder::new().ttl(42).bind_udp("127.0.0.1:0")?;
        /// assert_eq!(socket.ttl()?, 42);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector {
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().ttl(42).connect(server.local_addr()?)?;
        /// assert_eq!(stream.ttl()?, 42);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }

    fn tos(tos: u32) |opts| opts.set.tos = Some(tos);
    listener(cfg_tos) {
        /// Sets the type of service / traffic class byte (DSCP and ECN) of the
        /// packets this socket sends: `IP_TOS` on IPv4, `IPV6_TCLASS` on IPv6.
        ///
        /// Default: not set (the OS default, 0). Accepted: 0 to 255; another
        /// value is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        /// On Linux, accepted TCP connections answer with it from their first
        /// packet.
        ///
        /// # Platform-specific behavior
        ///
        /// Where the OS has no `IPV6_TCLASS` (Windows, iOS), it applies to
        /// IPv4 addresses only, and an IPv6 address is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Examples
        ///
        /// ```
        /// // DSCP AF11, shifted past the two ECN bits.
        /// let socket = sockwright::ListenerBuilder::new().tos(10 << 2).bind_udp("127.0.0.1:0")?;
        /// assert_eq!(socket2::SockRef::from(&socket).tos_v4()?, 40);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(cfg_tos) {
        /// Sets the type of service / traffic class byte (DSCP and ECN) before
        /// connecting, so the SYN already carries it: `IP_TOS` on IPv4,
        /// `IPV6_TCLASS` on IPv6.
        ///
        /// Default: not set (the OS default, 0). Accepted: 0 to 255; another
        /// value is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Platform-specific behavior
        ///
        /// Where the OS has no `IPV6_TCLASS` (Windows, iOS), it applies to
        /// IPv4 addresses only: the IPv6 addresses of a name are not tried.
        ///
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// // DSCP EF (expedited forwarding), shifted past the two ECN bits.
        /// let stream = sockwright::ConnectorBuilder::new().tos(46 << 2).connect(server.local_addr()?)?;
        /// assert_eq!(socket2::SockRef::from(&stream).tos_v4()?, 184);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn mark(mark: u32) |opts| opts.set.mark = Some(mark);
    listener(cfg_linux) {
        /// Sets `SO_MARK`, the firewall mark of the packets this socket sends
        /// (policy routing, nftables matches).
        ///
        /// Default: not set (0). Needs `CAP_NET_ADMIN`; without it the
        /// finishing call fails with [`Error::SetOption`](crate::Error::SetOption)
        /// and `PermissionDenied`.
        ///
        /// # Examples
        ///
        /// ```no_run
        /// let listener = sockwright::ListenerBuilder::new().mark(7).listen("127.0.0.1:0")?;
        /// # drop(listener);
        /// # Ok::<(), sockwright::Error>(())
        /// ```
    }
    connector(cfg_linux) {
        /// Sets `SO_MARK` before connecting, so every packet of the
        /// connection, the SYN included, carries the firewall mark (policy
        /// routing, nftables matches).
        ///
        /// Default: not set (0). Needs `CAP_NET_ADMIN`; without it the attempt
        /// fails with [`Error::SetOption`](crate::Error::SetOption) and
        /// `PermissionDenied`.
        ///
        /// # Examples
        ///
        /// ```no_run
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().mark(7).connect(server.local_addr()?)?;
        /// # drop(stream);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn ip_transparent(transparent: bool) |opts| opts.set.ip_transparent = Some(transparent);
    listener(cfg_linux) {
        /// Sets `IP_TRANSPARENT` (or `IPV6_TRANSPARENT`) before `bind`: a
        /// transparent proxy may bind a foreign address and accept
        /// connections redirected to it by the firewall (TPROXY).
        ///
        /// Default: not set (off). Needs `CAP_NET_ADMIN` or `CAP_NET_RAW`.
        ///
        /// # Examples
        ///
        /// ```no_run
        /// let listener = sockwright::ListenerBuilder::new().ip_transparent(true).listen("127.0.0.1:0")?;
        /// # drop(listener);
        /// # Ok::<(), sockwright::Error>(())
        /// ```
    }
    connector(cfg_linux) {
        /// Sets `IP_TRANSPARENT` (or `IPV6_TRANSPARENT`) before the source
        /// address is bound: a transparent proxy may connect from a foreign
        /// source address ([`local_address`](Self::local_address)).
        ///
        /// Default: not set (off). Needs `CAP_NET_ADMIN` or `CAP_NET_RAW`.
        ///
        /// # Examples
        ///
        /// ```no_run
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().ip_transparent(true).connect(server.local_addr()?)?;
        /// # drop(stream);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn freebind(freebind: bool) |opts| opts.set.freebind = Some(freebind);
    listener(cfg_linux) {
        /// Sets `IP_FREEBIND` (or `IPV6_FREEBIND`) before `bind`: the listener
        /// may bind an address that is not (yet) configured on any interface.
        ///
        /// Default: not set (the OS default, off).
        ///
        /// # Examples
        ///
        /// ```
        /// let listener = sockwright::ListenerBuilder::new().freebind(true).listen("127.0.0.1:0")?;
        /// assert!(socket2::SockRef::from(&listener).freebind_v4()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(cfg_linux) {
        /// Sets `IP_FREEBIND` (or `IPV6_FREEBIND`) before the source address
        /// is bound: the source may be an address not (yet) configured on any
        /// interface.
        ///
        /// Default: not set (the OS default, off).
        ///
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().freebind(true).connect(server.local_addr()?)?;
        /// assert!(socket2::SockRef::from(&stream).freebind_v4()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn tcp_user_timeout(timeout: Duration) |opts| opts.set.tcp_user_timeout = Some(timeout);
    listener(cfg_linux) {
        /// Sets `TCP_USER_TIMEOUT` on the listening socket, which accepted
        /// connections inherit: how long sent data may stay unacknowledged
        /// before the connection is dropped.
        ///
        /// Default: not set (the OS's retransmission rules, about 15 minutes).
        /// Rounded up to whole milliseconds; zero or more than `u32::MAX`
        /// milliseconds (about 49.7 days; [`Duration::MAX`](std::time::Duration::MAX)
        /// included) is an [`Error::InvalidConfig`](crate::Error::InvalidConfig),
        /// before any system call. To set no limit, leave it unset.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        ///
        /// let listener = sockwright::ListenerBuilder::new()
        ///     .tcp_user_timeout(Duration::from_secs(30))
        ///     .listen("127.0.0.1:0")?;
        /// assert_eq!(socket2::SockRef::from(&listener).tcp_user_timeout()?, Some(Duration::from_secs(30)));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(cfg_linux) {
        /// Sets `TCP_USER_TIMEOUT` before connecting: how long sent data (the
        /// SYN included) may stay unacknowledged before the connection is
        /// dropped. Set before the connect, it also bounds the connect itself
        /// (with no [`connect_timeout`](Self::connect_timeout), a black-holed
        /// address fails after about this long instead of two minutes).
        ///
        /// Default: not set (the OS's retransmission rules). Rounded up to
        /// whole milliseconds; zero or more than `u32::MAX` milliseconds
        /// (about 49.7 days; [`Duration::MAX`] included) is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig), before any
        /// system call. To set no limit, leave it unset.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        ///
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new()
        ///     .tcp_user_timeout(Duration::from_secs(10))
        ///     .connect(server.local_addr()?)?;
        /// assert_eq!(socket2::SockRef::from(&stream).tcp_user_timeout()?, Some(Duration::from_secs(10)));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn tcp_notsent_lowat(bytes: u32) |opts| opts.set.tcp_notsent_lowat = Some(bytes);
    listener(cfg_linux) {
        /// Sets `TCP_NOTSENT_LOWAT` on the listening socket, which accepted
        /// connections inherit: the socket reports itself writable only while
        /// fewer than this many bytes wait unsent, keeping latency low for
        /// servers that pick what to send late.
        ///
        /// Default: not set (the OS default, `net.ipv4.tcp_notsent_lowat`).
        ///
        /// # Examples
        ///
        /// ```
        /// let listener = sockwright::ListenerBuilder::new().tcp_notsent_lowat(16 * 1024).listen("127.0.0.1:0")?;
        /// assert_eq!(socket2::SockRef::from(&listener).tcp_notsent_lowat()?, 16 * 1024);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(cfg_linux) {
        /// Sets `TCP_NOTSENT_LOWAT`: the stream reports itself writable only
        /// while fewer than this many bytes wait unsent, so a writer that
        /// picks what to send late keeps its data fresh.
        ///
        /// Default: not set (the OS default, `net.ipv4.tcp_notsent_lowat`).
        ///
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new()
        ///     .tcp_notsent_lowat(16 * 1024)
        ///     .connect(server.local_addr()?)?;
        /// assert_eq!(socket2::SockRef::from(&stream).tcp_notsent_lowat()?, 16 * 1024);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn busy_poll(duration: Duration) |opts| opts.set.busy_poll = Some(duration);
    listener(cfg_linux_only) {}
    connector(cfg_linux_only) {}
    both {
        /// Sets `SO_BUSY_POLL`: how long a blocking receive busy-polls the
        /// device queue before sleeping, trading CPU for latency.
        ///
    }
    listener {
        /// Default: not set (`net.core.busy_read`). Rounded up to whole
        /// microseconds; zero or more than `i32::MAX` microseconds (about 35
        /// minutes; [`Duration::MAX`](std::time::Duration::MAX) included) is
        /// an [`Error::InvalidConfig`](crate::Error::InvalidConfig). Raising
        /// it above the system default needs `CAP_NET_ADMIN`.
        ///
        /// # Examples
        ///
        /// ```no_run
        /// use std::time::Duration;
        ///
        /// let socket = sockwright::ListenerBuilder::new()
        ///     .busy_poll(Duration::from_micros(50))
        ///     .bind_udp("127.0.0.1:0")?;
        /// # drop(socket);
        /// # Ok::<(), sockwright::Error>(())
        /// ```
    }
    connector {
        /// Default: not set (`net.core.busy_read`). Rounded up to whole
        /// microseconds; zero or more than `i32::MAX` microseconds (about
        /// 35 minutes; [`Duration::MAX`] included) is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig). Raising it
        /// above the system default needs `CAP_NET_ADMIN`.
        ///
        /// # Examples
        ///
        /// ```no_run
        /// use std::time::Duration;
        ///
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new()
        ///     .busy_poll(Duration::from_micros(50))
        ///     .connect(server.local_addr()?)?;
        /// # drop(stream);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }

    fn cpu_affinity(cpu: usize) |opts| opts.set.cpu_affinity = Some(cpu);
    listener(cfg_linux_only) {
        /// Sets `SO_INCOMING_CPU`: with [`reuse_port`](Self::reuse_port), the
        /// kernel hands a connection or datagram to the listener whose CPU
        /// matches the one that received it, keeping each flow on one CPU.
        ///
    }
    connector(cfg_linux_only) {
        /// Sets `SO_INCOMING_CPU` on the client socket, the CPU the kernel
        /// should prefer for its receive processing hints.
        ///
    }
    both {
        /// Default: not set. A CPU number over `i32::MAX` is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
    }
    listener {
        /// # Examples
        ///
        /// ```
        /// let listener = sockwright::ListenerBuilder::new().cpu_affinity(0).listen("127.0.0.1:0")?;
        /// assert_eq!(socket2::SockRef::from(&listener).cpu_affinity()?, 0);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector {
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().cpu_affinity(0).connect(server.local_addr()?)?;
        /// # drop(stream);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }

    fn bind_device(interface: &str) |opts| opts.set.bind_device = Some(interface.to_owned());
    listener(cfg_bind_device) {
        /// Binds the socket to a network interface by name, before `bind`:
        /// only packets through that interface reach it, and its packets
        /// leave through it.
        ///
    }
    connector(cfg_bind_device) {
        /// Binds each attempt's socket to a network interface by name, before
        /// connecting: the connection's packets leave through that interface
        /// whatever the routing table says (a VPN, a second uplink).
        ///
    }
    both {
        /// Default: not set. A name that is empty, longer than 15 bytes or
        /// has a NUL is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Platform-specific behavior
        ///
        /// Linux and Android set `SO_BINDTODEVICE` (`CAP_NET_RAW` needed
        /// before Linux 5.7). macOS, iOS, illumos and Solaris look up the
        /// interface's index (`if_nametoindex`) and set `IP_BOUND_IF` or
        /// `IPV6_BOUND_IF`; an unknown name fails with `NotFound`.
        ///
    }
    listener {
        /// # Examples
        ///
        /// ```
        /// # #[cfg(target_os = "linux")] {
        /// let listener = sockwright::ListenerBuilder::new().bind_device("lo").listen("127.0.0.1:0")?;
        /// assert_eq!(socket2::SockRef::from(&listener).device()?.as_deref(), Some(&b"lo"[..]));
        /// # }
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector {
        /// # Examples
        ///
        /// ```
        /// # #[cfg(target_os = "linux")] {
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().bind_device("lo").connect(server.local_addr()?)?;
        /// assert_eq!(socket2::SockRef::from(&stream).device()?.as_deref(), Some(&b"lo"[..]));
        /// # }
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }

    fn bind_device_by_index(index: std::num::NonZeroU32) |opts| opts.set.bind_device_by_index = Some(index);
    listener(cfg_bind_device) {
        /// Binds the socket to the network interface with this index, before
        /// `bind`: `IP_BOUND_IF` / `IPV6_BOUND_IF` (Apple, illumos, Solaris)
        /// or `SO_BINDTOIFINDEX` (Linux, Android).
        ///
        /// Default: not set. Use it where the index is what a program knows
        /// (an IPv6 scope id, a route lookup).
        ///
        /// # Examples
        ///
        /// ```
        /// # #[cfg(target_os = "linux")] {
        /// use std::num::NonZeroU32;
        ///
        /// // Index 1 is the loopback interface on Linux.
        /// let lo = NonZeroU32::new(1).unwrap();
        /// let listener = sockwright::ListenerBuilder::new().bind_device_by_index(lo).listen("127.0.0.1:0")?;
        /// assert_eq!(socket2::SockRef::from(&listener).device()?.as_deref(), Some(&b"lo"[..]));
        /// # }
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(cfg_bind_device) {
        /// Binds each attempt's socket to the network interface with this
        /// index, before connecting: `IP_BOUND_IF` / `IPV6_BOUND_IF` (Apple,
        /// illumos, Solaris) or `SO_BINDTOIFINDEX` (Linux, Android).
        ///
        /// Default: not set.
        ///
        /// # Examples
        ///
        /// ```
        /// # #[cfg(target_os = "linux")] {
        /// use std::num::NonZeroU32;
        ///
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// // Index 1 is the loopback interface on Linux.
        /// let lo = NonZeroU32::new(1).unwrap();
        /// let stream = sockwright::ConnectorBuilder::new().bind_device_by_index(lo).connect(server.local_addr()?)?;
        /// assert_eq!(socket2::SockRef::from(&stream).device()?.as_deref(), Some(&b"lo"[..]));
        /// # }
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn tcp_congestion(algorithm: &str) |opts| opts.set.tcp_congestion = Some(algorithm.to_owned());
    listener(cfg_congestion) {
        /// Sets `TCP_CONGESTION` on the listening socket, which accepted
        /// connections inherit: the congestion control algorithm by name
        /// (`cubic`, `bbr`, `reno`...).
        ///
    }
    connector(cfg_congestion) {
        /// Sets `TCP_CONGESTION` before connecting: the congestion control
        /// algorithm by name (`cubic`, `bbr`, `reno`...), in force from the
        /// first segment.
        ///
    }
    both {
        /// Default: not set (the system default). A name that is empty, longer
        /// than 15 bytes or has a NUL is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig); one the
        /// kernel does not have (or does not allow this user) fails with
        /// [`Error::SetOption`](crate::Error::SetOption).
        ///
    }
    listener {
        /// # Examples
        ///
        /// ```
        /// let listener = sockwright::ListenerBuilder::new().tcp_congestion("reno").listen("127.0.0.1:0")?;
        /// assert!(socket2::SockRef::from(&listener).tcp_congestion()?.starts_with(b"reno"));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector {
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().tcp_congestion("reno").connect(server.local_addr()?)?;
        /// assert!(socket2::SockRef::from(&stream).tcp_congestion()?.starts_with(b"reno"));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }

    fn tcp_mss(mss: u32) |opts| opts.set.tcp_mss = Some(mss);
    listener(cfg_unix) {
        /// Sets `TCP_MAXSEG` before `listen`: the largest segment accepted
        /// connections announce and send.
        ///
    }
    connector(cfg_unix) {
        /// Sets `TCP_MAXSEG` before connecting: the maximum segment size the
        /// SYN announces and the connection sends (below the path MTU, for
        /// tunnels that drop ICMP).
        ///
    }
    both {
        /// Default: not set (from the path MTU). A value the kernel refuses
        /// (Linux: outside 88 to 32767) is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
    }
    listener {
        /// # Examples
        ///
        /// ```
        /// let listener = sockwright::ListenerBuilder::new().tcp_mss(1200).listen("127.0.0.1:0")?;
        /// # drop(listener);
        /// # Ok::<(), sockwright::Error>(())
        /// ```
    }
    connector {
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().tcp_mss(1200).connect(server.local_addr()?)?;
        /// assert!(socket2::SockRef::from(&stream).tcp_mss()? <= 1200);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }

    fn nodelay(nodelay: bool) |opts| opts.set.nodelay = Some(nodelay);
    listener(cfg_inherited) {
        /// Sets `TCP_NODELAY` on the listening socket, which accepted
        /// connections inherit: they send small writes at once (Nagle's
        /// algorithm off) without a `set_nodelay` per connection.
        ///
        /// Default: not set (the OS default, Nagle on).
        ///
        /// # Platform-specific behavior
        ///
        /// Linux, Android and Windows, where accepted sockets are shown to
        /// inherit it; elsewhere (the BSDs, macOS) there is no such setter,
        /// and each accepted stream's `set_nodelay` is the way.
        ///
        /// # Examples
        ///
        /// ```
        /// let listener = sockwright::ListenerBuilder::new().nodelay(true).listen("127.0.0.1:0")?;
        /// let _client = std::net::TcpStream::connect(listener.local_addr()?)?;
        /// let (conn, _) = listener.accept()?;
        /// assert!(conn.nodelay()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(everywhere) {
        /// Sets `TCP_NODELAY`: the stream sends small writes at once instead of
        /// waiting to coalesce them (Nagle's algorithm off).
        ///
        /// Default: not set (the OS default, Nagle on). TCP only: with
        /// [`connect_udp`](Self::connect_udp) or a Unix path it is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().nodelay(true).connect(server.local_addr()?)?;
        /// assert!(stream.nodelay()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn keepalive(keepalive: Keepalive) |opts| opts.set.keepalive = Some(keepalive);
    listener(cfg_inherited) {
        /// Turns TCP keepalive on (`SO_KEEPALIVE`, and each parameter given)
        /// on the listening socket, which accepted connections inherit: a
        /// server notices clients that vanished without closing.
        ///
        /// Default: not set (the OS default, off). See [`Keepalive`](crate::Keepalive) for each
        /// parameter, what each OS has and the longest time each takes: a
        /// longer one ([`Duration::MAX`](std::time::Duration::MAX) included)
        /// or more retries is an [`Error::InvalidConfig`](crate::Error::InvalidConfig)
        /// naming the option and its limit, before any system call.
        ///
        /// # Platform-specific behavior
        ///
        /// As for [`nodelay`](Self::nodelay): Linux, Android and Windows only.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        /// use sockwright::{Keepalive, ListenerBuilder};
        ///
        /// let listener = ListenerBuilder::new()
        ///     .keepalive(Keepalive::new().time(Duration::from_secs(60)))
        ///     .listen("127.0.0.1:0")?;
        /// let _client = std::net::TcpStream::connect(listener.local_addr()?)?;
        /// let (conn, _) = listener.accept()?;
        /// assert!(socket2::SockRef::from(&conn).keepalive()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(everywhere) {
        /// Turns TCP keepalive on (`SO_KEEPALIVE`, and each parameter given):
        /// an idle connection whose peer vanished is noticed and closed.
        ///
        /// Default: not set (the OS default, off). TCP only. See [`Keepalive`]
        /// for each parameter, what each OS has and the longest time each takes:
        /// a longer one ([`Duration::MAX`] included) or more retries is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) naming the
        /// option and its limit, before any system call.
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
    }
    both {}
    listener {}
    connector {}

    fn linger(linger: Option<Duration>) |opts| opts.set.linger = Some(linger);
    listener(cfg_inherited) {
        /// Sets `SO_LINGER` on the listening socket, which accepted
        /// connections inherit: `Some(d)` makes `close` wait up to `d` for
        /// unsent data, `Some(Duration::ZERO)` makes it reset the connection,
        /// `None` turns lingering off.
        ///
        /// Default: not set (off). Whole seconds, a fraction rounded up (so a
        /// short linger never becomes the zero that resets); more than the OS
        /// holds (`i32::MAX` s, 65,535 s on Windows;
        /// [`Duration::MAX`](std::time::Duration::MAX) included) is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig). Unix
        /// listeners take it too.
        ///
        /// # Platform-specific behavior
        ///
        /// As for [`nodelay`](Self::nodelay): Linux, Android and Windows only.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        ///
        /// let listener = sockwright::ListenerBuilder::new()
        ///     .linger(Some(Duration::from_secs(2)))
        ///     .listen("127.0.0.1:0")?;
        /// let _client = std::net::TcpStream::connect(listener.local_addr()?)?;
        /// let (conn, _) = listener.accept()?;
        /// assert_eq!(socket2::SockRef::from(&conn).linger()?, Some(Duration::from_secs(2)));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(everywhere) {
        /// Sets `SO_LINGER`: `Some(d)` makes `close` wait up to `d` for unsent
        /// data; `Some(Duration::ZERO)` makes it reset the connection at once;
        /// `None` turns lingering off.
        ///
        /// Default: not set (the OS default, off). TCP and Unix streams only.
        /// Whole seconds, a fraction rounded up, so a short linger never becomes
        /// the zero that resets the connection; more than the OS holds
        /// (`i32::MAX` s, 65,535 s on Windows; [`Duration::MAX`] included) is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
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
    }
    both {}
    listener {}
    connector {}

    fn broadcast(broadcast: bool) |opts| opts.set.broadcast = Some(broadcast);
    listener(everywhere) {
        /// Sets `SO_BROADCAST` on a UDP socket: it may send to broadcast
        /// addresses (`255.255.255.255`, a subnet's broadcast address).
        ///
        /// Default: not set (off). UDP over IPv4 only: with
        /// [`listen`](Self::listen), a Unix path or an IPv6 address it is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Examples
        ///
        /// ```
        /// let socket = sockwright::ListenerBuilder::new().broadcast(true).bind_udp("127.0.0.1:0")?;
        /// assert!(socket.broadcast()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(everywhere) {
        /// Sets `SO_BROADCAST` on the UDP socket of
        /// [`connect_udp`](Self::connect_udp): it may be connected to, and send
        /// to, a broadcast address.
        ///
        /// Default: not set (off). UDP over IPv4 only.
        ///
        /// # Examples
        ///
        /// ```
        /// let server = std::net::UdpSocket::bind("127.0.0.1:0")?;
        /// let socket = sockwright::ConnectorBuilder::new().broadcast(true).connect_udp(server.local_addr()?)?;
        /// assert!(socket.broadcast()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn multicast_loop(multicast_loop: bool) |opts| opts.set.multicast_loop = Some(multicast_loop);
    listener(everywhere) {
        /// Sets whether multicast datagrams this UDP socket sends are looped back
        /// to receivers on this host: `IP_MULTICAST_LOOP` on IPv4,
        /// `IPV6_MULTICAST_LOOP` on IPv6.
        ///
        /// Default: not set (the OS default, on). UDP only.
        ///
        /// # Examples
        ///
        /// ```
        /// let socket = sockwright::ListenerBuilder::new().multicast_loop(false).bind_udp("127.0.0.1:0")?;
        /// assert!(!socket.multicast_loop_v4()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(everywhere) {
        /// Sets whether multicast datagrams sent on the connected UDP socket are
        /// looped back to receivers on this host: `IP_MULTICAST_LOOP` on IPv4,
        /// `IPV6_MULTICAST_LOOP` on IPv6.
        ///
        /// Default: not set (the OS default, on). UDP only.
        ///
        /// # Examples
        ///
        /// ```
        /// let server = std::net::UdpSocket::bind("127.0.0.1:0")?;
        /// let socket = sockwright::ConnectorBuilder::new()
        ///     .multicast_loop(false)
        ///     .connect_udp(server.local_addr()?)?;
        /// assert!(!socket.multicast_loop_v4()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn multicast_ttl(ttl: u32) |opts| opts.set.multicast_ttl = Some(ttl);
    listener(everywhere) {
        /// Sets how many routers the multicast datagrams this UDP socket sends
        /// may cross: `IP_MULTICAST_TTL` on IPv4, `IPV6_MULTICAST_HOPS` on IPv6.
        ///
        /// Default: not set (the OS default, 1: the local network). Accepted: 0
        /// (this host only) to 255. UDP only.
        ///
        /// # Examples
        ///
        /// ```
        /// let socket = sockwright::ListenerBuilder::new().multicast_ttl(4).bind_udp("127.0.0.1:0")?;
        /// assert_eq!(socket.multicast_ttl_v4()?, 4);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(everywhere) {
        /// Sets how many routers the multicast datagrams sent on the connected
        /// UDP socket may cross: `IP_MULTICAST_TTL` on IPv4, `IPV6_MULTICAST_HOPS`
        /// on IPv6.
        ///
        /// Default: not set (the OS default, 1). Accepted: 0 to 255. UDP only.
        ///
        /// # Examples
        ///
        /// ```
        /// let server = std::net::UdpSocket::bind("127.0.0.1:0")?;
        /// let socket = sockwright::ConnectorBuilder::new()
        ///     .multicast_ttl(0)
        ///     .connect_udp(server.local_addr()?)?;
        /// assert_eq!(socket.multicast_ttl_v4()?, 0);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn multicast_if_v4(interface: Ipv4Addr) |opts| opts.set.multicast_if_v4 = Some(interface);
    listener(everywhere) {
        /// Sets the interface, by its IPv4 address, that IPv4 multicast
        /// datagrams from this UDP socket leave through (`IP_MULTICAST_IF`).
        ///
        /// Default: not set (the OS picks by route). UDP over IPv4 only.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::net::Ipv4Addr;
        ///
        /// let socket = sockwright::ListenerBuilder::new()
        ///     .multicast_if_v4(Ipv4Addr::LOCALHOST)
        ///     .bind_udp("127.0.0.1:0")?;
        /// assert_eq!(socket2::SockRef::from(&socket).multicast_if_v4()?, Ipv4Addr::LOCALHOST);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    connector(everywhere) {
        /// Sets the interface, by its IPv4 address, that the connected UDP
        /// socket's IPv4 multicast datagrams leave through (`IP_MULTICAST_IF`).
        ///
        /// Default: not set (the OS picks by route). UDP over IPv4 only.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::net::Ipv4Addr;
        ///
        /// let server = std::net::UdpSocket::bind("127.0.0.1:0")?;
        /// let socket = sockwright::ConnectorBuilder::new()
        ///     .multicast_if_v4(Ipv4Addr::LOCALHOST)
        ///     .connect_udp(server.local_addr()?)?;
        /// assert_eq!(socket2::SockRef::from(&socket).multicast_if_v4()?, Ipv4Addr::LOCALHOST);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
    }
    both {}
    listener {}
    connector {}

    fn multicast_if_v6(interface: u32) |opts| opts.set.multicast_if_v6 = Some(interface);
    listener(everywhere) {
        /// Sets the interface, by index, that IPv6 multicast datagrams from this
        /// UDP socket leave through (`IPV6_MULTICAST_IF`).
        ///
        /// Default: not set (the OS picks). UDP over IPv6 only.
        ///
        /// # Examples
        ///
        /// ```no_run
        /// let socket = sockwright::ListenerBuilder::new().multicast_if_v6(2).bind_udp("[::]:0")?;
        /// # drop(socket);
        /// # Ok::<(), sockwright::Error>(())
        /// ```
    }
    connector(everywhere) {
        /// Sets the interface, by index, that the connected UDP socket's IPv6
        /// multicast datagrams leave through (`IPV6_MULTICAST_IF`).
        ///
        /// Default: not set (the OS picks). UDP over IPv6 only.
        ///
        /// # Examples
        ///
        /// ```no_run
        /// let socket = sockwright::ConnectorBuilder::new()
        ///     .multicast_if_v6(2)
        ///     .connect_udp("[ff02::fb]:5353")?;
        /// # drop(socket);
        /// # Ok::<(), sockwright::Error>(())
        /// ```
    }
    both {}
    listener {}
    connector {}
}
