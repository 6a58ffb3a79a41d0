//! [`ConnectorBuilder`]'s socket setters. Each stores a value that the
//! option table (`options/table.rs`) validates and sets; the docs speak of what the
//! option does for a client socket, on each attempt of a connect.

use std::io;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use crate::{ConnectorBuilder, Domain, Keepalive, Mptcp, Protocol, SocketRef, Type};

impl ConnectorBuilder {
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
    pub fn domain(&mut self, domain: Domain) -> &mut Self {
        self.opts.domain = Some(domain);
        self
    }

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
    pub fn socket_type(&mut self, socket_type: Type) -> &mut Self {
        self.opts.socket_type = Some(socket_type);
        self
    }

    /// Sets the protocol: the `protocol` argument of `socket(2)`.
    ///
    /// Default: [`Protocol::Default`] (`0`, the type's own protocol, as the C
    /// tutorial passes).
    ///
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
    pub fn protocol(&mut self, protocol: Protocol) -> &mut Self {
        self.opts.protocol = protocol;
        self
    }

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
    pub fn mptcp(&mut self, mptcp: Mptcp) -> &mut Self {
        self.opts.mptcp = mptcp;
        self
    }

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
    pub fn configure<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn(SocketRef<'_>) -> io::Result<()> + Send + Sync + 'static,
    {
        self.opts.hooks.push(Arc::new(f));
        self
    }

    /// Sets `SO_REUSEADDR` before the source address is bound: with a fixed
    /// source port ([`local_address`](Self::local_address)), a new connection
    /// may reuse it while the old one lingers in `TIME_WAIT`.
    ///
    /// Default: not set (the OS default, off).
    ///
    /// It acts on IP sockets only: a Unix-domain bind never reads it (a
    /// path in use stays in use), so `listen_unix` and `connect_unix` refuse
    /// it and the [`Endpoint`](crate::Endpoint) calls leave it out for
    /// Unix endpoints.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = sockwright::ConnectorBuilder::new().reuse_address(true).connect(server.local_addr()?)?;
    /// assert!(socket2::SockRef::from(&stream).reuse_address()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reuse_address(&mut self, reuse: bool) -> &mut Self {
        *self.opts.set.reuse_address() = Some(reuse);
        self
    }

    cfg_reuse_port! {
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
        pub fn reuse_port(&mut self, reuse: bool) -> &mut Self {
            *self.opts.set.reuse_port() = Some(reuse);
            self
        }
    }

    cfg_windows! {
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
        pub fn exclusive_address_use(&mut self, exclusive: bool) -> &mut Self {
            *self.opts.set.exclusive_address_use() = Some(exclusive);
            self
        }
    }

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
    pub fn only_v6(&mut self, only_v6: bool) -> &mut Self {
        *self.opts.set.only_v6() = Some(only_v6);
        self
    }

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
    pub fn nonblocking(&mut self, nonblocking: bool) -> &mut Self {
        self.opts.nonblocking = Some(nonblocking);
        self
    }

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
    pub fn send_buffer_size(&mut self, bytes: usize) -> &mut Self {
        *self.opts.set.send_buffer_size() = Some(bytes);
        self
    }

    /// Sets `SO_RCVBUF`, the kernel receive buffer in bytes, before
    /// connecting: TCP fixes its window scale in the SYN, so this is the
    /// only time a large buffer takes full effect.
    ///
    /// Default: not set (the OS default). Zero, or a size that does not fit a
    /// C `int`, is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
    ///
    /// # Platform-specific behavior
    ///
    /// Linux doubles the value and caps it at `net.core.rmem_max`.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = sockwright::ConnectorBuilder::new().recv_buffer_size(64 * 1024).connect(server.local_addr()?)?;
    /// assert!(socket2::SockRef::from(&stream).recv_buffer_size()? >= 64 * 1024);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn recv_buffer_size(&mut self, bytes: usize) -> &mut Self {
        *self.opts.set.recv_buffer_size() = Some(bytes);
        self
    }

    /// Sets the time-to-live of every packet the connection sends, the SYN
    /// included: `IP_TTL` on IPv4, `IPV6_UNICAST_HOPS` on IPv6.
    ///
    /// Default: not set (the OS default, usually 64). Accepted: 1 to 255;
    /// another value is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
    ///
    /// # Examples
    ///
    /// ```
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = sockwright::ConnectorBuilder::new().ttl(42).connect(server.local_addr()?)?;
    /// assert_eq!(stream.ttl()?, 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ttl(&mut self, ttl: u32) -> &mut Self {
        *self.opts.set.ttl() = Some(ttl);
        self
    }

    cfg_tos! {
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
        pub fn tos(&mut self, tos: u32) -> &mut Self {
            *self.opts.set.tos() = Some(tos);
            self
        }
    }

    cfg_linux! {
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
        pub fn mark(&mut self, mark: u32) -> &mut Self {
            *self.opts.set.mark() = Some(mark);
            self
        }

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
        pub fn ip_transparent(&mut self, transparent: bool) -> &mut Self {
            *self.opts.set.ip_transparent() = Some(transparent);
            self
        }

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
        pub fn freebind(&mut self, freebind: bool) -> &mut Self {
            *self.opts.set.freebind() = Some(freebind);
            self
        }

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
        pub fn tcp_user_timeout(&mut self, timeout: Duration) -> &mut Self {
            *self.opts.set.tcp_user_timeout() = Some(timeout);
            self
        }

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
        pub fn tcp_notsent_lowat(&mut self, bytes: u32) -> &mut Self {
            *self.opts.set.tcp_notsent_lowat() = Some(bytes);
            self
        }

        /// Sets `TCP_FASTOPEN_CONNECT` before connecting: `connect` returns at
        /// once, and the first write goes out with the SYN when the client
        /// holds a Fast Open cookie for the server (a normal handshake
        /// otherwise). Set after a connect, Linux refuses it.
        ///
        /// Default: not set (off). Linux sends Fast Open only when bit 0 of
        /// `net.ipv4.tcp_fastopen` is set (the default).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::io::Write;
        ///
        /// let server = sockwright::ListenerBuilder::new().tcp_fastopen(16).listen("127.0.0.1:0")?;
        /// let mut stream = sockwright::ConnectorBuilder::new()
        ///     .tcp_fastopen_connect(true)
        ///     .connect(server.local_addr()?)?;
        /// stream.write_all(b"hello")?;
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn tcp_fastopen_connect(&mut self, fastopen: bool) -> &mut Self {
            *self.opts.set.tcp_fastopen_connect() = Some(fastopen);
            self
        }
    }

    cfg_linux! {
        /// Sets `IP_LOCAL_PORT_RANGE`: the range this connection's ephemeral
        /// source port is picked from, instead of the whole system range
        /// (`net.ipv4.ip_local_port_range`), for each attempt's socket.
        ///
        /// Default: not set (the system range). The kernel keeps the range
        /// within the system's. With a [`local_address`](Self::local_address)
        /// of port 0 the port is picked at `connect` (the connector sets
        /// `IP_BIND_ADDRESS_NO_PORT` before `bind`), so the range is shared
        /// across destinations: each port can serve one connection per
        /// destination.
        ///
        /// # Errors
        ///
        /// An empty range, or one that starts at port 0, is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) before any
        /// system call. A kernel before 6.3 refuses the option:
        /// [`Error::SetOption`](crate::Error::SetOption) naming
        /// `IP_LOCAL_PORT_RANGE`.
        ///
        /// # Platform-specific behavior
        ///
        /// Linux only (6.3 and later).
        ///
        /// # Examples
        ///
        /// ```no_run
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new()
        ///     .local_port_range(40000..=40999)
        ///     .connect(server.local_addr()?)?;
        /// assert!((40000..=40999).contains(&stream.local_addr()?.port()));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn local_port_range(&mut self, range: std::ops::RangeInclusive<u16>) -> &mut Self {
            *self.opts.set.local_port_range() = Some((*range.start(), *range.end()));
            self
        }
    }

    cfg_linux_only! {
        /// Sets `SO_BUSY_POLL`: how long a blocking receive busy-polls the
        /// device queue before sleeping, trading CPU for latency.
        ///
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
        pub fn busy_poll(&mut self, duration: Duration) -> &mut Self {
            *self.opts.set.busy_poll() = Some(duration);
            self
        }

        /// Sets `SO_INCOMING_CPU` on the client socket, the CPU the kernel
        /// should prefer for its receive processing hints.
        ///
        /// Default: not set. A CPU number over `i32::MAX` is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().cpu_affinity(0).connect(server.local_addr()?)?;
        /// # drop(stream);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn cpu_affinity(&mut self, cpu: usize) -> &mut Self {
            *self.opts.set.cpu_affinity() = Some(cpu);
            self
        }
    }

    cfg_bind_device! {
        /// Binds each attempt's socket to a network interface by name, before
        /// connecting: the connection's packets leave through that interface
        /// whatever the routing table says (a VPN, a second uplink).
        ///
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
        pub fn bind_device(&mut self, interface: &str) -> &mut Self {
            *self.opts.set.bind_device() = Some(interface.to_owned());
            self
        }

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
        pub fn bind_device_by_index(&mut self, index: std::num::NonZeroU32) -> &mut Self {
            *self.opts.set.bind_device_by_index() = Some(index);
            self
        }
    }

    cfg_congestion! {
        /// Sets `TCP_CONGESTION` before connecting: the congestion control
        /// algorithm by name (`cubic`, `bbr`, `reno`...), in force from the
        /// first segment.
        ///
        /// Default: not set (the system default). A name that is empty, longer
        /// than 15 bytes or has a NUL is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig); one the
        /// kernel does not have (or does not allow this user) fails with
        /// [`Error::SetOption`](crate::Error::SetOption).
        ///
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().tcp_congestion("reno").connect(server.local_addr()?)?;
        /// assert!(socket2::SockRef::from(&stream).tcp_congestion()?.starts_with(b"reno"));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn tcp_congestion(&mut self, algorithm: &str) -> &mut Self {
            *self.opts.set.tcp_congestion() = Some(algorithm.to_owned());
            self
        }
    }

    cfg_unix! {
        /// Sets `TCP_MAXSEG` before connecting: the maximum segment size the
        /// SYN announces and the connection sends (below the path MTU, for
        /// tunnels that drop ICMP).
        ///
        /// Default: not set (from the path MTU). A value the kernel refuses
        /// (Linux: outside 88 to 32767) is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Examples
        ///
        /// ```
        /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
        /// let stream = sockwright::ConnectorBuilder::new().tcp_mss(1200).connect(server.local_addr()?)?;
        /// assert!(socket2::SockRef::from(&stream).tcp_mss()? <= 1200);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn tcp_mss(&mut self, mss: u32) -> &mut Self {
            *self.opts.set.tcp_mss() = Some(mss);
            self
        }
    }

    /// Sets `SO_RCVTIMEO`: a blocking read on the returned socket waits at
    /// most this long, then fails with `WouldBlock` (Unix) or `TimedOut`
    /// (Windows).
    ///
    /// Default: none (wait forever). Zero is an
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig). It is set once
    /// the socket is connected.
    ///
    /// # Platform-specific behavior
    ///
    /// The OS holds whole microseconds (Unix) or milliseconds (Windows); a
    /// finer timeout is rounded up, never down to "no timeout". A longer
    /// timeout than the OS holds, [`Duration::MAX`] included, becomes the
    /// longest it holds: a `timeval` of `time_t::MAX` seconds on Unix, which
    /// Linux takes as no limit, and `u32::MAX` milliseconds (about 49.7
    /// days) on Windows.
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
        *self.opts.set.read_timeout() = Some(timeout);
        self
    }

    /// Sets `SO_SNDTIMEO`: a blocking write on the returned socket waits at
    /// most this long.
    ///
    /// Default: none (wait forever). Zero is an
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig). It is set once
    /// the socket is connected, so it never bounds the connect itself (Linux
    /// would end a blocking connect after `SO_SNDTIMEO` with "operation now
    /// in progress"); [`connect_timeout`](Self::connect_timeout) does that.
    ///
    /// # Platform-specific behavior
    ///
    /// As for [`read_timeout`](Self::read_timeout): rounded up to whole
    /// microseconds (Unix) or milliseconds (Windows), and [`Duration::MAX`]
    /// is the longest wait the OS holds (no limit on Linux).
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
        *self.opts.set.write_timeout() = Some(timeout);
        self
    }

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
    pub fn nodelay(&mut self, nodelay: bool) -> &mut Self {
        *self.opts.set.nodelay() = Some(nodelay);
        self
    }

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
    pub fn keepalive(&mut self, keepalive: Keepalive) -> &mut Self {
        *self.opts.set.keepalive() = Some(keepalive);
        self
    }

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
    pub fn linger(&mut self, linger: Option<Duration>) -> &mut Self {
        *self.opts.set.linger() = Some(linger);
        self
    }

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
    pub fn broadcast(&mut self, broadcast: bool) -> &mut Self {
        *self.opts.set.broadcast() = Some(broadcast);
        self
    }

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
    pub fn multicast_loop(&mut self, multicast_loop: bool) -> &mut Self {
        *self.opts.set.multicast_loop() = Some(multicast_loop);
        self
    }

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
    pub fn multicast_ttl(&mut self, ttl: u32) -> &mut Self {
        *self.opts.set.multicast_ttl() = Some(ttl);
        self
    }

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
    pub fn multicast_if_v4(&mut self, interface: Ipv4Addr) -> &mut Self {
        *self.opts.set.multicast_if_v4() = Some(interface);
        self
    }

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
    pub fn multicast_if_v6(&mut self, interface: u32) -> &mut Self {
        *self.opts.set.multicast_if_v6() = Some(interface);
        self
    }
}
