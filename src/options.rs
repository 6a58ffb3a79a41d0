//! Configuration shared by both builders: validation before any system call,
//! then one `setsockopt` per option asked for.

use std::net::SocketAddr;

use log::debug;
use socket2::Socket;

use crate::{sys, Address, Domain, Error, Protocol, Result, Type};

/// The options both builders carry. `None` means "leave the OS default".
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    pub(crate) domain: Option<Domain>,
    pub(crate) socket_type: Option<Type>,
    pub(crate) protocol: Protocol,
    pub(crate) reuse_address: Option<bool>,
    pub(crate) reuse_port: Option<bool>,
    pub(crate) exclusive_address_use: Option<bool>,
    pub(crate) only_v6: Option<bool>,
    pub(crate) nonblocking: Option<bool>,
    pub(crate) send_buffer_size: Option<usize>,
    pub(crate) recv_buffer_size: Option<usize>,
    pub(crate) ttl: Option<u32>,
    pub(crate) bind_device: Option<String>,
    pub(crate) freebind: Option<bool>,
}

/// Longest interface name `SO_BINDTODEVICE` takes (`IFNAMSIZ` less the NUL).
const MAX_DEVICE_NAME: usize = 15;

impl Options {
    /// Checks what can be checked without an address: values in range and
    /// combinations that cannot work on any address.
    pub(crate) fn validate(&self, implied: Type) -> Result<()> {
        let ty = self.socket_type.unwrap_or(implied);
        if ty.is_connection_oriented() != implied.is_connection_oriented() {
            return Err(Error::invalid(format!(
                "a {ty} socket cannot be used where a {implied} socket is needed"
            )));
        }
        match (self.protocol, ty) {
            (Protocol::Tcp | Protocol::Mptcp, Type::Stream)
            | (Protocol::Udp, Type::Datagram)
            | (Protocol::Default, _) => {}
            (protocol, ty) => {
                return Err(Error::invalid(format!(
                    "protocol {protocol} does not go with a {ty} socket"
                )))
            }
        }
        if self.protocol == Protocol::Mptcp && !cfg!(target_os = "linux") {
            return Err(Error::Unsupported {
                what: "multipath TCP (IPPROTO_MPTCP)",
            });
        }
        for (name, size) in [
            ("send buffer size (SO_SNDBUF)", self.send_buffer_size),
            ("receive buffer size (SO_RCVBUF)", self.recv_buffer_size),
        ] {
            match size {
                Some(0) => return Err(Error::invalid(format!("{name} must not be zero"))),
                Some(n) if i32::try_from(n).is_err() => {
                    return Err(Error::invalid(format!(
                        "{name} {n} does not fit the OS type (at most {})",
                        i32::MAX
                    )))
                }
                _ => {}
            }
        }
        if self.exclusive_address_use == Some(true) && self.reuse_address == Some(true) {
            return Err(Error::invalid(
                "exclusive-address-use (SO_EXCLUSIVEADDRUSE) and reuse-address (SO_REUSEADDR) exclude each other",
            ));
        }
        if let Some(ttl) = self.ttl {
            if !(1..=255).contains(&ttl) {
                return Err(Error::invalid(format!("TTL {ttl} is outside 1..=255")));
            }
        }
        if let Some(device) = &self.bind_device {
            if device.is_empty() || device.len() > MAX_DEVICE_NAME || device.contains('\0') {
                return Err(Error::invalid(format!(
                    "interface name {device:?} must be 1 to {MAX_DEVICE_NAME} bytes with no NUL"
                )));
            }
        }
        Ok(())
    }

    /// Checks that an IP address fits the configured domain and options.
    pub(crate) fn check_inet(&self, addr: &SocketAddr) -> Result<()> {
        let family = Domain::for_address(addr);
        match self.domain {
            Some(domain) if domain != family => {
                return Err(Error::invalid(format!(
                    "{family} address {addr} does not fit the {domain} domain"
                )))
            }
            _ => {}
        }
        #[cfg(unix)]
        if self.socket_type == Some(Type::SeqPacket) {
            return Err(Error::invalid(format!(
                "seqpacket sockets need a Unix path, not {addr}"
            )));
        }
        if self.only_v6.is_some() && family == Domain::Ipv4 {
            return Err(Error::invalid(format!(
                "only-v6 (IPV6_V6ONLY) set for IPv4 address {addr}"
            )));
        }
        Ok(())
    }

    /// Checks that a Unix path fits the configured domain and options.
    #[cfg(unix)]
    pub(crate) fn check_unix(&self, path: &std::path::Path) -> Result<()> {
        if let Some(domain) = self.domain.filter(|d| *d != Domain::Unix) {
            return Err(Error::invalid(format!(
                "Unix path {} does not fit the {domain} domain",
                path.display()
            )));
        }
        if self.protocol != Protocol::Default {
            return Err(Error::invalid(format!(
                "protocol {} does not go with Unix path {}",
                self.protocol,
                path.display()
            )));
        }
        let ip_only = [
            ("only-v6 (IPV6_V6ONLY)", self.only_v6.is_some()),
            ("TTL", self.ttl.is_some()),
            ("reuse-port (SO_REUSEPORT)", self.reuse_port.is_some()),
            ("freebind (IP_FREEBIND)", self.freebind.is_some()),
            (
                "bind-to-device (SO_BINDTODEVICE)",
                self.bind_device.is_some(),
            ),
        ];
        if let Some((name, _)) = ip_only.iter().find(|(_, set)| *set) {
            return Err(Error::invalid(format!(
                "{name} does not apply to Unix path {}",
                path.display()
            )));
        }
        Ok(())
    }

    /// `socket(2)`: a fresh socket, close-on-exec and (where the OS has it) no SIGPIPE.
    pub(crate) fn create(&self, domain: Domain, implied: Type, addr: &Address) -> Result<Socket> {
        let ty = self.socket_type.unwrap_or(implied);
        let socket = Socket::new(
            domain.to_socket2(),
            ty.to_socket2(),
            self.protocol.to_socket2(),
        )
        .map_err(|source| Error::Create {
            addr: addr.clone(),
            domain,
            socket_type: ty,
            protocol: self.protocol,
            source,
        })?;
        debug!(
            "created {domain} {ty} socket ({}) for {addr}",
            self.protocol
        );
        Ok(socket)
    }

    /// One `setsockopt` per option asked for, in a fixed order.
    pub(crate) fn apply(&self, socket: &Socket, domain: Domain, addr: &Address) -> Result<()> {
        let set =
            |option: &'static str, result: std::io::Result<()>| set_result(option, addr, result);
        if let Some(on) = self.reuse_address {
            set("SO_REUSEADDR", socket.set_reuse_address(on))?;
            debug!("set SO_REUSEADDR={on} for {addr}");
        }
        if let Some(on) = self.reuse_port {
            set("SO_REUSEPORT", sys::set_reuse_port(socket, on))?;
            debug!("set SO_REUSEPORT={on} for {addr}");
        }
        if let Some(on) = self.exclusive_address_use {
            set(
                "SO_EXCLUSIVEADDRUSE",
                sys::set_exclusive_address_use(socket, on),
            )?;
            debug!("set SO_EXCLUSIVEADDRUSE={on} for {addr}");
        }
        if let Some(on) = self.only_v6 {
            set("IPV6_V6ONLY", socket.set_only_v6(on))?;
            debug!("set IPV6_V6ONLY={on} for {addr}");
        }
        if let Some(size) = self.send_buffer_size {
            set("SO_SNDBUF", socket.set_send_buffer_size(size))?;
            debug!("set SO_SNDBUF={size} for {addr}");
        }
        if let Some(size) = self.recv_buffer_size {
            set("SO_RCVBUF", socket.set_recv_buffer_size(size))?;
            debug!("set SO_RCVBUF={size} for {addr}");
        }
        if let Some(ttl) = self.ttl {
            if domain == Domain::Ipv6 {
                set("IPV6_UNICAST_HOPS", socket.set_unicast_hops_v6(ttl))?;
                debug!("set IPV6_UNICAST_HOPS={ttl} for {addr}");
            } else {
                set("IP_TTL", socket.set_ttl_v4(ttl))?;
                debug!("set IP_TTL={ttl} for {addr}");
            }
        }
        if let Some(device) = &self.bind_device {
            set(
                "SO_BINDTODEVICE",
                sys::bind_device(socket, device.as_bytes()),
            )?;
            debug!("set SO_BINDTODEVICE={device} for {addr}");
        }
        if let Some(on) = self.freebind {
            let (option, result) = sys::set_freebind(socket, domain, on);
            set(option, result)?;
            debug!("set {option}={on} for {addr}");
        }
        Ok(())
    }

    /// `ioctl(FIONBIO)` when nonblocking mode was asked for.
    pub(crate) fn apply_nonblocking(&self, socket: &Socket, addr: &Address) -> Result<()> {
        if let Some(on) = self.nonblocking {
            set_result("O_NONBLOCK", addr, socket.set_nonblocking(on))?;
            debug!("set nonblocking={on} for {addr}");
        }
        Ok(())
    }
}

/// Maps the result of one `setsockopt` to [`Error::SetOption`].
pub(crate) fn set_result(
    option: &'static str,
    addr: &Address,
    result: std::io::Result<()>,
) -> Result<()> {
    result.map_err(|source| Error::SetOption {
        addr: addr.clone(),
        option,
        source,
    })
}

/// `bind(2)` with the error naming the address.
pub(crate) fn bind(socket: &Socket, sockaddr: &socket2::SockAddr, addr: &Address) -> Result<()> {
    socket.bind(sockaddr).map_err(|source| Error::Bind {
        addr: addr.clone(),
        source,
    })?;
    debug!("bound {addr}");
    Ok(())
}

/// The setters both builders share, with documentation and examples written
/// once. `$b` is the builder's name, `$setup` a hidden line that prepares the
/// example, and `$finish` the finishing call the example makes; the `_v6`
/// pair does the same on IPv6 loopback.
macro_rules! common_setters {
    ($b:literal, $setup:literal, $finish:literal, $setup_v6:literal, $finish_v6:literal) => {
        /// Sets the domain (address family) explicitly: the `domain` argument of `socket(2)`.
        ///
        /// By default the domain is inferred from each address. Once set, an
        /// address of another family is skipped when a name resolves to several,
        /// and rejected with [`Error::InvalidConfig`](crate::Error::InvalidConfig)
        /// before any system call when none fits.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("use sockwright::{", $b, ", Domain};")]
        #[doc = $setup]
        #[doc = concat!("let sock = ", $b, "::new().domain(Domain::Ipv4)", $finish, "?;")]
        /// assert!(sock.local_addr()?.is_ipv4());
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn domain(&mut self, domain: crate::Domain) -> &mut Self {
            self.opts.domain = Some(domain);
            self
        }

        /// Sets the socket type explicitly: the `type` argument of `socket(2)`.
        ///
        /// By default each finishing call implies its type. Setting a type the
        /// call cannot use (such as [`Type::Datagram`](crate::Type::Datagram)
        /// before a stream call) is an [`Error::InvalidConfig`](crate::Error::InvalidConfig)
        /// found before any system call.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("use sockwright::{", $b, ", Type};")]
        #[doc = $setup]
        #[doc = concat!("let sock = ", $b, "::new().socket_type(Type::Stream)", $finish, "?;")]
        /// # drop(sock);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn socket_type(&mut self, socket_type: crate::Type) -> &mut Self {
            self.opts.socket_type = Some(socket_type);
            self
        }

        /// Sets the protocol: the `protocol` argument of `socket(2)`.
        ///
        /// Default: [`Protocol::Default`](crate::Protocol::Default) (`0`, the
        /// type's own protocol, as the C tutorial passes).
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("use sockwright::{", $b, ", Protocol};")]
        #[doc = $setup]
        #[doc = concat!("let sock = ", $b, "::new().protocol(Protocol::Tcp)", $finish, "?;")]
        /// # drop(sock);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn protocol(&mut self, protocol: crate::Protocol) -> &mut Self {
            self.opts.protocol = protocol;
            self
        }

        /// Sets `SO_REUSEADDR` before `bind`.
        ///
        /// Default: not set (the OS default, off).
        ///
        /// # Platform-specific behavior
        ///
        /// On Unix it lets a new socket bind a port whose old connections are in
        /// `TIME_WAIT`. On Windows it lets *another* socket bind the same port
        /// while this one uses it; prefer `exclusive_address_use` there.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("use sockwright::", $b, ";")]
        #[doc = $setup]
        #[doc = concat!("let sock = ", $b, "::new().reuse_address(true)", $finish, "?;")]
        /// assert!(socket2::SockRef::from(&sock).reuse_address()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn reuse_address(&mut self, reuse: bool) -> &mut Self {
            self.opts.reuse_address = Some(reuse);
            self
        }

        /// Sets `SO_REUSEPORT` before `bind`, as its own `setsockopt` call.
        ///
        /// Several sockets with this option may bind the same address and port;
        /// on Linux the kernel spreads incoming connections across them.
        /// Default: not set (the OS default, off). This is a separate option
        /// from `reuse_address`: set both to get both.
        ///
        /// # Platform-specific behavior
        ///
        /// Unix only (not Solaris or illumos). Linux balances connections
        /// between listeners of the same user; BSDs and macOS let the last one
        /// bound receive them.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("use sockwright::", $b, ";")]
        #[doc = $setup]
        #[doc = concat!("let sock = ", $b, "::new().reuse_port(true)", $finish, "?;")]
        /// assert!(socket2::SockRef::from(&sock).reuse_port()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        #[cfg(all(
            unix,
            not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
        ))]
        #[cfg_attr(
            docsrs,
            doc(cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos")))))
        )]
        pub fn reuse_port(&mut self, reuse: bool) -> &mut Self {
            self.opts.reuse_port = Some(reuse);
            self
        }

        /// Sets `SO_EXCLUSIVEADDRUSE` before `bind`: no other socket may bind
        /// this address and port, even with `SO_REUSEADDR`.
        ///
        /// Default: not set (the OS default, off).
        ///
        /// # Platform-specific behavior
        ///
        /// Windows only. It cannot be combined with `reuse_address(true)`
        /// (Windows refuses the pair), which the builder reports before any
        /// system call.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("use sockwright::", $b, ";")]
        #[doc = $setup]
        #[doc = concat!("let sock = ", $b, "::new().exclusive_address_use(true)", $finish, "?;")]
        /// # drop(sock);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        #[cfg(windows)]
        #[cfg_attr(docsrs, doc(cfg(windows)))]
        pub fn exclusive_address_use(&mut self, exclusive: bool) -> &mut Self {
            self.opts.exclusive_address_use = Some(exclusive);
            self
        }

        /// Sets `IPV6_V6ONLY`: whether an IPv6 socket refuses IPv4-mapped traffic.
        ///
        /// Default: not set, which leaves the OS default (off on Linux unless
        /// `net.ipv6.bindv6only` says otherwise, on on Windows and OpenBSD).
        /// Setting it for an IPv4 address is an
        /// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Platform-specific behavior
        ///
        /// Linux turns it on by itself when the socket binds a specific IPv6
        /// address (such as `::1`, not `::` or an IPv4-mapped one), which
        /// cannot receive IPv4 traffic anyway: reading it back then says on
        /// whatever was set. Turn it off on a socket bound to `::` to accept
        /// IPv4-mapped peers.
        ///
        /// # Examples
        ///
        /// ```no_run
        #[doc = concat!("use sockwright::", $b, ";")]
        #[doc = $setup_v6]
        #[doc = concat!("let sock = ", $b, "::new().only_v6(true)", $finish_v6, "?;")]
        /// # drop(sock);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn only_v6(&mut self, only_v6: bool) -> &mut Self {
            self.opts.only_v6 = Some(only_v6);
            self
        }

        /// Puts the returned socket in nonblocking mode (`ioctl(FIONBIO)`).
        ///
        /// Default: blocking, as std's own constructors return. Set this to
        /// hand the socket to an event loop (for example mio's or async-io's,
        /// which require nonblocking sockets; see the crate's "Async
        /// runtimes"). The async calls of the `tokio` feature always make
        /// their sockets nonblocking and do not use this setting.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("use sockwright::", $b, ";")]
        #[doc = $setup]
        #[doc = concat!("let sock = ", $b, "::new().nonblocking(true)", $finish, "?;")]
        /// # drop(sock);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn nonblocking(&mut self, nonblocking: bool) -> &mut Self {
            self.opts.nonblocking = Some(nonblocking);
            self
        }

        /// Sets `SO_SNDBUF`, the kernel send buffer size in bytes.
        ///
        /// Default: not set (the OS default). Zero, or a size that does not fit
        /// a C `int`, is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Platform-specific behavior
        ///
        /// Linux doubles the value it is given (for bookkeeping) and clamps it to
        /// `net.core.wmem_max`; read it back to see what was granted.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("use sockwright::", $b, ";")]
        #[doc = $setup]
        #[doc = concat!("let sock = ", $b, "::new().send_buffer_size(64 * 1024)", $finish, "?;")]
        /// assert!(socket2::SockRef::from(&sock).send_buffer_size()? >= 64 * 1024);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn send_buffer_size(&mut self, bytes: usize) -> &mut Self {
            self.opts.send_buffer_size = Some(bytes);
            self
        }

        /// Sets `SO_RCVBUF`, the kernel receive buffer size in bytes.
        ///
        /// Default: not set (the OS default). Zero, or a size that does not fit
        /// a C `int`, is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Platform-specific behavior
        ///
        /// Linux doubles the value it is given and clamps it to
        /// `net.core.rmem_max`.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("use sockwright::", $b, ";")]
        #[doc = $setup]
        #[doc = concat!("let sock = ", $b, "::new().recv_buffer_size(64 * 1024)", $finish, "?;")]
        /// assert!(socket2::SockRef::from(&sock).recv_buffer_size()? >= 64 * 1024);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn recv_buffer_size(&mut self, bytes: usize) -> &mut Self {
            self.opts.recv_buffer_size = Some(bytes);
            self
        }

        /// Sets the time-to-live of outgoing packets: `IP_TTL` on IPv4,
        /// `IPV6_UNICAST_HOPS` on IPv6.
        ///
        /// Default: not set (the OS default, usually 64). A value outside
        /// `1..=255` is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("use sockwright::", $b, ";")]
        #[doc = $setup]
        #[doc = concat!("let sock = ", $b, "::new().ttl(42)", $finish, "?;")]
        /// assert_eq!(socket2::SockRef::from(&sock).ttl_v4()?, 42);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn ttl(&mut self, ttl: u32) -> &mut Self {
            self.opts.ttl = Some(ttl);
            self
        }

        /// Binds the socket to a network interface: `SO_BINDTODEVICE`.
        ///
        /// Only packets through that interface reach the socket, and its
        /// packets leave through it. Default: not set. A name longer than 15
        /// bytes is an [`Error::InvalidConfig`](crate::Error::InvalidConfig).
        ///
        /// # Platform-specific behavior
        ///
        /// Linux and Android. Needs `CAP_NET_RAW` on kernels before 5.7.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("use sockwright::", $b, ";")]
        #[doc = $setup]
        #[doc = concat!("let sock = ", $b, "::new().bind_device(\"lo\")", $finish, "?;")]
        /// assert_eq!(socket2::SockRef::from(&sock).device()?.as_deref(), Some(&b"lo"[..]));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        #[cfg(any(target_os = "linux", target_os = "android"))]
        #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
        pub fn bind_device(&mut self, interface: &str) -> &mut Self {
            self.opts.bind_device = Some(interface.to_owned());
            self
        }

        /// Sets `IP_FREEBIND` (or `IPV6_FREEBIND`): allow binding an address
        /// that is not (yet) configured on any interface.
        ///
        /// Default: not set (the OS default, off).
        ///
        /// # Platform-specific behavior
        ///
        /// Linux and Android.
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("use sockwright::", $b, ";")]
        #[doc = $setup]
        #[doc = concat!("let sock = ", $b, "::new().freebind(true)", $finish, "?;")]
        /// assert!(socket2::SockRef::from(&sock).freebind_v4()?);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        #[cfg(any(target_os = "linux", target_os = "android"))]
        #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
        pub fn freebind(&mut self, freebind: bool) -> &mut Self {
            self.opts.freebind = Some(freebind);
            self
        }
    };
}

pub(crate) use common_setters;
