//! [`ListenerBuilder`]'s socket setters. Each stores a value that the
//! option table (`options/table.rs`) validates and sets; the docs speak of what the
//! option does for a listening (or bound datagram) socket.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use crate::{Domain, ListenerBuilder, Mptcp, Protocol, SocketRef, Type};

impl ListenerBuilder {
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
    pub fn domain(&mut self, domain: Domain) -> &mut Self {
        self.opts.domain = Some(domain);
        self
    }

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
    /// use sockwright::{ListenerBuilder, Protocol};
    ///
    /// let listener = ListenerBuilder::new().protocol(Protocol::Tcp).listen("127.0.0.1:0")?;
    /// # drop(listener);
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn protocol(&mut self, protocol: Protocol) -> &mut Self {
        self.opts.protocol = protocol;
        self
    }

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
    pub fn mptcp(&mut self, mptcp: Mptcp) -> &mut Self {
        self.opts.mptcp = mptcp;
        self
    }

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
    pub fn configure<F>(&mut self, f: F) -> &mut Self
    where
        F: Fn(SocketRef<'_>) -> io::Result<()> + Send + Sync + 'static,
    {
        self.opts.hooks.push(Arc::new(f));
        self
    }

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
    /// It acts on IP sockets only: a Unix-domain bind never reads it (a
    /// path in use stays in use), so `listen_unix` and `connect_unix` refuse
    /// it and the [`Endpoint`](crate::Endpoint) calls leave it out for
    /// Unix endpoints.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = sockwright::ListenerBuilder::new().reuse_address(true).listen("127.0.0.1:0")?;
    /// assert!(socket2::SockRef::from(&listener).reuse_address()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reuse_address(&mut self, reuse: bool) -> &mut Self {
        *self.opts.set.reuse_address() = Some(reuse);
        self
    }

    cfg_reuse_port! {
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
        pub fn reuse_port(&mut self, reuse: bool) -> &mut Self {
            *self.opts.set.reuse_port() = Some(reuse);
            self
        }
    }

    cfg_windows! {
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
        pub fn exclusive_address_use(&mut self, exclusive: bool) -> &mut Self {
            *self.opts.set.exclusive_address_use() = Some(exclusive);
            self
        }
    }

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
    pub fn only_v6(&mut self, only_v6: bool) -> &mut Self {
        *self.opts.set.only_v6() = Some(only_v6);
        self
    }

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
    pub fn nonblocking(&mut self, nonblocking: bool) -> &mut Self {
        self.opts.nonblocking = Some(nonblocking);
        self
    }

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
    pub fn send_buffer_size(&mut self, bytes: usize) -> &mut Self {
        *self.opts.set.send_buffer_size() = Some(bytes);
        self
    }

    /// Sets `SO_RCVBUF`, the kernel receive buffer in bytes, before `listen`:
    /// TCP fixes its window scale at the handshake, so a large buffer must be
    /// set on the listener to take effect on accepted connections.
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
    /// let listener = sockwright::ListenerBuilder::new().recv_buffer_size(64 * 1024).listen("127.0.0.1:0")?;
    /// assert!(socket2::SockRef::from(&listener).recv_buffer_size()? >= 64 * 1024);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn recv_buffer_size(&mut self, bytes: usize) -> &mut Self {
        *self.opts.set.recv_buffer_size() = Some(bytes);
        self
    }

    /// Sets the time-to-live of the packets this socket sends: `IP_TTL` on
    /// IPv4, `IPV6_UNICAST_HOPS` on IPv6.
    ///
    /// Default: not set (the OS default, usually 64). Accepted: 1 to 255;
    /// another value is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
    ///
    /// # Examples
    ///
    /// ```
    /// let socket = sockwright::ListenerBuilder::new().ttl(42).bind_udp("127.0.0.1:0")?;
    /// assert_eq!(socket.ttl()?, 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ttl(&mut self, ttl: u32) -> &mut Self {
        *self.opts.set.ttl() = Some(ttl);
        self
    }

    cfg_tos! {
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
        pub fn tos(&mut self, tos: u32) -> &mut Self {
            *self.opts.set.tos() = Some(tos);
            self
        }
    }

    cfg_linux! {
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
        pub fn mark(&mut self, mark: u32) -> &mut Self {
            *self.opts.set.mark() = Some(mark);
            self
        }

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
        pub fn ip_transparent(&mut self, transparent: bool) -> &mut Self {
            *self.opts.set.ip_transparent() = Some(transparent);
            self
        }

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
        pub fn freebind(&mut self, freebind: bool) -> &mut Self {
            *self.opts.set.freebind() = Some(freebind);
            self
        }

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
        pub fn tcp_user_timeout(&mut self, timeout: std::time::Duration) -> &mut Self {
            *self.opts.set.tcp_user_timeout() = Some(timeout);
            self
        }

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
        pub fn tcp_notsent_lowat(&mut self, bytes: u32) -> &mut Self {
            *self.opts.set.tcp_notsent_lowat() = Some(bytes);
            self
        }

        /// Sets `TCP_DEFER_ACCEPT` before `listen`: `accept` returns a
        /// connection only once its first data has arrived (or the time is up),
        /// so a server is not woken by clients that connect and stay silent.
        ///
        /// Default: not set (off). Linux counts whole seconds (rounded up) and
        /// turns them into SYN-ACK retransmissions; zero or more than
        /// `i32::MAX` seconds ([`Duration::MAX`](std::time::Duration::MAX)
        /// included) is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        ///
        /// let listener = sockwright::ListenerBuilder::new()
        ///     .tcp_defer_accept(Duration::from_secs(5))
        ///     .listen("127.0.0.1:0")?;
        /// # drop(listener);
        /// # Ok::<(), sockwright::Error>(())
        /// ```
        pub fn tcp_defer_accept(&mut self, timeout: std::time::Duration) -> &mut Self {
            *self.opts.set.tcp_defer_accept() = Some(timeout);
            self
        }
    }

    cfg_linux_only! {
        /// Sets `SO_BUSY_POLL`: how long a blocking receive busy-polls the
        /// device queue before sleeping, trading CPU for latency.
        ///
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
        pub fn busy_poll(&mut self, duration: std::time::Duration) -> &mut Self {
            *self.opts.set.busy_poll() = Some(duration);
            self
        }

        /// Sets `SO_INCOMING_CPU`: with [`reuse_port`](Self::reuse_port), the
        /// kernel hands a connection or datagram to the listener whose CPU
        /// matches the one that received it, keeping each flow on one CPU.
        ///
        /// Default: not set. A CPU number over `i32::MAX` is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Examples
        ///
        /// ```
        /// let listener = sockwright::ListenerBuilder::new().cpu_affinity(0).listen("127.0.0.1:0")?;
        /// assert_eq!(socket2::SockRef::from(&listener).cpu_affinity()?, 0);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn cpu_affinity(&mut self, cpu: usize) -> &mut Self {
            *self.opts.set.cpu_affinity() = Some(cpu);
            self
        }
    }

    cfg_bind_device! {
        /// Binds the socket to a network interface by name, before `bind`:
        /// only packets through that interface reach it, and its packets
        /// leave through it.
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
        /// let listener = sockwright::ListenerBuilder::new().bind_device("lo").listen("127.0.0.1:0")?;
        /// assert_eq!(socket2::SockRef::from(&listener).device()?.as_deref(), Some(&b"lo"[..]));
        /// # }
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn bind_device(&mut self, interface: &str) -> &mut Self {
            *self.opts.set.bind_device() = Some(interface.to_owned());
            self
        }

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
        pub fn bind_device_by_index(&mut self, index: std::num::NonZeroU32) -> &mut Self {
            *self.opts.set.bind_device_by_index() = Some(index);
            self
        }
    }

    cfg_congestion! {
        /// Sets `TCP_CONGESTION` on the listening socket, which accepted
        /// connections inherit: the congestion control algorithm by name
        /// (`cubic`, `bbr`, `reno`...).
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
        /// let listener = sockwright::ListenerBuilder::new().tcp_congestion("reno").listen("127.0.0.1:0")?;
        /// assert!(socket2::SockRef::from(&listener).tcp_congestion()?.starts_with(b"reno"));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn tcp_congestion(&mut self, algorithm: &str) -> &mut Self {
            *self.opts.set.tcp_congestion() = Some(algorithm.to_owned());
            self
        }
    }

    cfg_unix! {
        /// Sets `TCP_MAXSEG` before `listen`: the largest segment accepted
        /// connections announce and send.
        ///
        /// Default: not set (from the path MTU). A value the kernel refuses
        /// (Linux: outside 88 to 32767) is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Examples
        ///
        /// ```
        /// let listener = sockwright::ListenerBuilder::new().tcp_mss(1200).listen("127.0.0.1:0")?;
        /// # drop(listener);
        /// # Ok::<(), sockwright::Error>(())
        /// ```
        pub fn tcp_mss(&mut self, mss: u32) -> &mut Self {
            *self.opts.set.tcp_mss() = Some(mss);
            self
        }
    }

    cfg_fastopen! {
        /// Turns on TCP Fast Open for this listener (`TCP_FASTOPEN` before
        /// `listen`): a client that holds a cookie may send data with its
        /// SYN, and `accept` returns the connection with that data already
        /// readable.
        ///
        /// `queue_len` bounds the Fast Open requests waiting for `accept`;
        /// 0 turns Fast Open off. Default: not set (off). A length over
        /// `i32::MAX` is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Platform-specific behavior
        ///
        /// Linux uses the length, and serves Fast Open only when bit 1 of
        /// `net.ipv4.tcp_fastopen` is set. On macOS, FreeBSD and Windows the
        /// option is on or off and the length only says which.
        ///
        /// # Examples
        ///
        /// (Not run as a test: Wine, which runs the Windows tests, lacks the option.)
        ///
        /// ```no_run
        /// let listener = sockwright::ListenerBuilder::new().tcp_fastopen(256).listen("127.0.0.1:0")?;
        /// # drop(listener);
        /// # Ok::<(), sockwright::Error>(())
        /// ```
        pub fn tcp_fastopen(&mut self, queue_len: u32) -> &mut Self {
            *self.opts.set.tcp_fastopen() = Some(queue_len);
            self
        }
    }

    cfg_inherited! {
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
        pub fn nodelay(&mut self, nodelay: bool) -> &mut Self {
            *self.opts.set.nodelay() = Some(nodelay);
            self
        }

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
        pub fn keepalive(&mut self, keepalive: crate::Keepalive) -> &mut Self {
            *self.opts.set.keepalive() = Some(keepalive);
            self
        }

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
        pub fn linger(&mut self, linger: Option<std::time::Duration>) -> &mut Self {
            *self.opts.set.linger() = Some(linger);
            self
        }
    }

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
    pub fn broadcast(&mut self, broadcast: bool) -> &mut Self {
        *self.opts.set.broadcast() = Some(broadcast);
        self
    }

    /// Joins the IPv4 multicast group `group` on the interface with address
    /// `interface` (`IP_ADD_MEMBERSHIP`), right after `bind` and before the
    /// socket is returned. Call it again to join several groups.
    ///
    /// `Ipv4Addr::UNSPECIFIED` as the interface lets the OS choose. A
    /// `group` outside `224.0.0.0/4`, a TCP listener, a Unix path or an IPv6
    /// address is an [`Error::InvalidConfig`](crate::Error::InvalidConfig)
    /// before any system call. Bind the group's port on the group address
    /// (or `0.0.0.0`), with [`reuse_address`](Self::reuse_address) when
    /// several receivers share it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::{Ipv4Addr, UdpSocket};
    /// use sockwright::ListenerBuilder;
    ///
    /// let group = Ipv4Addr::new(239, 255, 0, 42);
    /// let receiver = ListenerBuilder::new()
    ///     .reuse_address(true)
    ///     .join_multicast_v4(group, Ipv4Addr::LOCALHOST)
    ///     .bind_udp((group, 0))?;
    /// let sender = UdpSocket::bind("127.0.0.1:0")?;
    /// sender.set_multicast_loop_v4(true)?;
    /// socket2::SockRef::from(&sender).set_multicast_if_v4(&Ipv4Addr::LOCALHOST)?;
    /// sender.send_to(b"hello, group", receiver.local_addr()?)?;
    /// let mut buf = [0; 16];
    /// let n = receiver.recv(&mut buf)?;
    /// assert_eq!(&buf[..n], b"hello, group");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join_multicast_v4(&mut self, group: Ipv4Addr, interface: Ipv4Addr) -> &mut Self {
        self.opts
            .set
            .join_multicast_v4()
            .get_or_insert_with(Vec::new)
            .push((group, interface));
        self
    }

    /// Joins the IPv6 multicast group `group` on the interface with index
    /// `interface` (`IPV6_ADD_MEMBERSHIP`), right after `bind` and before the
    /// socket is returned. Call it again to join several groups.
    ///
    /// Interface 0 lets the OS choose. A `group` outside `ff00::/8`, a TCP
    /// listener, a Unix path or an IPv4 address is an
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) before any
    /// system call.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::net::Ipv6Addr;
    ///
    /// // The all-nodes group of interface 2.
    /// let group: Ipv6Addr = "ff02::1".parse()?;
    /// let socket = sockwright::ListenerBuilder::new()
    ///     .join_multicast_v6(group, 2)
    ///     .bind_udp("[::]:5353")?;
    /// # drop(socket);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join_multicast_v6(&mut self, group: Ipv6Addr, interface: u32) -> &mut Self {
        self.opts
            .set
            .join_multicast_v6()
            .get_or_insert_with(Vec::new)
            .push((group, interface));
        self
    }

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
    pub fn multicast_loop(&mut self, multicast_loop: bool) -> &mut Self {
        *self.opts.set.multicast_loop() = Some(multicast_loop);
        self
    }

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
    pub fn multicast_ttl(&mut self, ttl: u32) -> &mut Self {
        *self.opts.set.multicast_ttl() = Some(ttl);
        self
    }

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
    pub fn multicast_if_v4(&mut self, interface: Ipv4Addr) -> &mut Self {
        *self.opts.set.multicast_if_v4() = Some(interface);
        self
    }

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
    pub fn multicast_if_v6(&mut self, interface: u32) -> &mut Self {
        *self.opts.set.multicast_if_v6() = Some(interface);
        self
    }
}
