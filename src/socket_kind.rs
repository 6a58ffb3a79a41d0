//! The three values that `socket(domain, type, protocol)` takes.

use std::fmt;
use std::net::SocketAddr;

/// The address family of a socket: the `domain` argument of `socket(2)`.
///
/// A builder infers the domain from the address it is given; set it with
/// [`ListenerBuilder::domain`](crate::ListenerBuilder::domain) or
/// [`ConnectorBuilder::domain`](crate::ConnectorBuilder::domain) to make it
/// explicit, and an address of another family is then rejected before any
/// system call.
///
/// # Examples
///
/// ```
/// use sockwright::Domain;
///
/// let addr: std::net::SocketAddr = "[::1]:8080".parse()?;
/// assert_eq!(Domain::for_address(&addr), Domain::Ipv6);
/// assert_eq!(Domain::Ipv4.to_string(), "IPv4");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Domain {
    /// `AF_INET`: IPv4.
    Ipv4,
    /// `AF_INET6`: IPv6, and IPv4 through IPv4-mapped addresses unless only-v6 is set.
    Ipv6,
    /// `AF_UNIX`: Unix-domain sockets named by a filesystem path.
    ///
    /// # Platform-specific behavior
    ///
    /// Only on Unix; std has no Unix-socket types on Windows.
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    Unix,
}

impl Domain {
    /// The domain an IP socket address belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::Domain;
    ///
    /// let addr: std::net::SocketAddr = "127.0.0.1:80".parse()?;
    /// assert_eq!(Domain::for_address(&addr), Domain::Ipv4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_address(addr: &SocketAddr) -> Domain {
        match addr {
            SocketAddr::V4(_) => Domain::Ipv4,
            SocketAddr::V6(_) => Domain::Ipv6,
        }
    }

    pub(crate) fn to_socket2(self) -> socket2::Domain {
        match self {
            Domain::Ipv4 => socket2::Domain::IPV4,
            Domain::Ipv6 => socket2::Domain::IPV6,
            #[cfg(unix)]
            Domain::Unix => socket2::Domain::UNIX,
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Domain::Ipv4 => "IPv4",
            Domain::Ipv6 => "IPv6",
            #[cfg(unix)]
            Domain::Unix => "Unix",
        })
    }
}

/// The communication semantics of a socket: the `type` argument of `socket(2)`.
///
/// Each finishing call implies a type (`listen` and `connect` a stream,
/// `bind_udp` and `connect_udp` a datagram socket). Setting one explicitly
/// makes a mismatch, such as `listen` on a datagram socket, an error before any
/// system call, and selects [`Type::SeqPacket`] for Unix sockets.
///
/// # Examples
///
/// ```
/// use sockwright::Type;
///
/// assert_eq!(Type::Stream.to_string(), "stream");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Type {
    /// `SOCK_STREAM`: a reliable byte stream (TCP, Unix streams).
    Stream,
    /// `SOCK_DGRAM`: unreliable datagrams (UDP, Unix datagrams).
    Datagram,
    /// `SOCK_SEQPACKET`: reliable, ordered, message-preserving (Unix sockets).
    ///
    /// # Platform-specific behavior
    ///
    /// Only on Unix, and only with [`Domain::Unix`]: the listener is a
    /// [`UnixListener`](std::os::unix::net::UnixListener) whose accepted
    /// streams read one message per `read`.
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    SeqPacket,
}

impl Type {
    pub(crate) fn to_socket2(self) -> socket2::Type {
        match self {
            Type::Stream => socket2::Type::STREAM,
            Type::Datagram => socket2::Type::DGRAM,
            #[cfg(unix)]
            Type::SeqPacket => socket2::Type::SEQPACKET,
        }
    }

    /// Whether the type is connection-oriented (accepts `listen`).
    pub(crate) const fn is_connection_oriented(self) -> bool {
        !matches!(self, Type::Datagram)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Stream => "stream",
            Type::Datagram => "datagram",
            #[cfg(unix)]
            Type::SeqPacket => "seqpacket",
        })
    }
}

/// The transport protocol: the `protocol` argument of `socket(2)`.
///
/// The default, [`Protocol::Default`], passes `0` as the C tutorial does and
/// lets the OS pick the type's protocol (TCP for IP streams, UDP for IP
/// datagrams).
///
/// # Examples
///
/// ```
/// use sockwright::{ListenerBuilder, Protocol};
///
/// let listener = ListenerBuilder::new()
///     .protocol(Protocol::Tcp)
///     .listen("127.0.0.1:0")?;
/// assert_ne!(listener.local_addr()?.port(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// `0`: the default protocol of the socket type.
    #[default]
    Default,
    /// `IPPROTO_TCP`. Only with IP stream sockets.
    Tcp,
    /// `IPPROTO_UDP`. Only with IP datagram sockets.
    Udp,
    /// `IPPROTO_MPTCP`: Multipath TCP. Only with IP stream sockets.
    ///
    /// # Platform-specific behavior
    ///
    /// Linux only (kernel 5.6 or later with `net.mptcp.enabled = 1`);
    /// elsewhere the builder returns [`Error::Unsupported`](crate::Error::Unsupported)
    /// before any system call.
    Mptcp,
}

impl Protocol {
    pub(crate) fn to_socket2(self) -> Option<socket2::Protocol> {
        match self {
            Protocol::Default => None,
            Protocol::Tcp => Some(socket2::Protocol::TCP),
            Protocol::Udp => Some(socket2::Protocol::UDP),
            Protocol::Mptcp => mptcp(),
        }
    }
}

cfg_linux_only! {
    fn mptcp() -> Option<socket2::Protocol> {
        Some(socket2::Protocol::MPTCP)
    }
}

cfg_not_linux_only! {
    /// Rejected by validation before any socket is created.
    fn mptcp() -> Option<socket2::Protocol> {
        None
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Default => "default protocol",
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Mptcp => "MPTCP",
        })
    }
}

/// Whether a TCP socket is made as a Multipath TCP one (`IPPROTO_MPTCP`),
/// set on either builder with `mptcp`
/// ([`ListenerBuilder::mptcp`](crate::ListenerBuilder::mptcp),
/// [`ConnectorBuilder::mptcp`](crate::ConnectorBuilder::mptcp)).
///
/// It applies to IP stream sockets whose [`Protocol`] is left at
/// [`Default`](Protocol::Default) or [`Tcp`](Protocol::Tcp): a listener's,
/// and every attempt of a connect (each address of a Happy Eyeballs race).
/// Unix and datagram sockets are made as they would be without it. An MPTCP
/// socket whose peer does not speak MPTCP works as plain TCP;
/// [`is_mptcp`](crate::is_mptcp) says which a connection became.
///
/// # Examples
///
/// ```
/// use sockwright::{ConnectorBuilder, ListenerBuilder, Mptcp};
///
/// // MPTCP where the kernel has it on, TCP elsewhere.
/// let listener = ListenerBuilder::new().mptcp(Mptcp::Prefer).listen("127.0.0.1:0")?;
/// let stream = ConnectorBuilder::new()
///     .mptcp(Mptcp::Prefer)
///     .connect(listener.local_addr()?)?;
/// println!("MPTCP: {}", sockwright::is_mptcp(&stream)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Mptcp {
    /// Plain TCP (or whatever [`Protocol`] says): the default.
    #[default]
    Off,
    /// MPTCP where the system can make an MPTCP socket, plain TCP where it
    /// cannot, with a `debug` line saying why: MPTCP turned off
    /// (`net.mptcp.enabled = 0` on Linux), a kernel built without it, or
    /// another OS.
    Prefer,
    /// MPTCP or nothing: where the socket cannot be made, the finishing call
    /// fails with [`Error::Create`](crate::Error::Create) whose message names
    /// the cause (on Linux, the `net.mptcp.enabled` sysctl); on other OSes,
    /// [`Error::Unsupported`](crate::Error::Unsupported) before any system
    /// call.
    Require,
}

/// What socket to open and for what: the arguments of [`open_socket`],
/// made once by the finishing call and passed by reference.
#[derive(Debug)]
pub(crate) struct SocketRequest<'a> {
    pub(crate) domain: Domain,
    /// `ty` as `socket(2)` takes it, with its flags (`SOCK_NONBLOCK`).
    pub(crate) os_type: socket2::Type,
    pub(crate) ty: Type,
    pub(crate) protocol: Protocol,
    pub(crate) mptcp: Mptcp,
    /// The log target of the fallback's `debug` line.
    pub(crate) target: &'static str,
    /// The address the socket is for, as that line names it.
    pub(crate) addr: &'a crate::Address,
    /// The options asked for: some are refused by MPTCP sockets.
    pub(crate) options: &'a crate::options::Settings,
}

/// `socket(2)` for the request's `domain` and `os_type`, made as MPTCP
/// when its `mptcp` asks and it applies; the socket and the protocol it
/// was made with, or the protocol tried and the error.
///
/// The one place of the fallback rule: with [`Mptcp::Prefer`], the errors
/// that mean "no MPTCP here", or an option asked for that MPTCP sockets
/// refuse (see [`refused_by_mptcp`]), make a plain socket instead, with a
/// `debug` line on `target` naming `addr`.
#[inline]
pub(crate) fn open_socket(
    request: &SocketRequest<'_>,
) -> Result<(socket2::Socket, Protocol), (Protocol, std::io::Error)> {
    // The common case, MPTCP off, is one test before `socket(2)`.
    if request.mptcp == Mptcp::Off {
        return plain_socket(request, request.protocol);
    }
    open_maybe_mptcp(request)
}

/// `socket(2)` for the request's domain and type, with `protocol`.
#[inline]
fn plain_socket(
    request: &SocketRequest<'_>,
    protocol: Protocol,
) -> Result<(socket2::Socket, Protocol), (Protocol, std::io::Error)> {
    let domain = request.domain.to_socket2();
    match socket2::Socket::new(domain, request.os_type, protocol.to_socket2()) {
        Ok(socket) => Ok((socket, protocol)),
        Err(error) => Err((protocol, error)),
    }
}

/// [`open_socket`] when `mptcp` is `Prefer` or `Require`.
fn open_maybe_mptcp(
    request: &SocketRequest<'_>,
) -> Result<(socket2::Socket, Protocol), (Protocol, std::io::Error)> {
    let SocketRequest {
        domain,
        protocol,
        target,
        addr,
        ..
    } = *request;
    let plain = |protocol: Protocol| plain_socket(request, protocol);
    let inet = matches!(domain, Domain::Ipv4 | Domain::Ipv6);
    let tcp = matches!(protocol, Protocol::Default | Protocol::Tcp);
    if !inet || request.ty != Type::Stream || !tcp {
        return plain(protocol);
    }
    if !crate::platform::has::LINUX_ONLY {
        // `Require` was refused by validation; `Prefer` falls back.
        log::debug!(
            target: target,
            "plain TCP for {addr}: MPTCP is not available on this platform"
        );
        return plain(protocol);
    }
    if request.mptcp == Mptcp::Prefer {
        if let Some(option) = refused_by_mptcp(request.options, domain) {
            log::debug!(
                target: target,
                "plain TCP for {addr}: MPTCP sockets refuse {option}, which is asked for"
            );
            return plain(protocol);
        }
    }
    match plain(Protocol::Mptcp) {
        Ok(made) => Ok(made),
        Err((_, error)) if crate::sys::mptcp_unavailable(&error) => match request.mptcp {
            Mptcp::Require => Err((
                Protocol::Mptcp,
                std::io::Error::new(error.kind(), MptcpOff(error)),
            )),
            _ => {
                log::debug!(
                    target: target,
                    "plain TCP for {addr}: no MPTCP socket here ({}; is sysctl net.mptcp.enabled 0?)",
                    crate::error::Cause(&error)
                );
                plain(protocol)
            }
        },
        Err(failed) => Err(failed),
    }
}

/// The first option asked for that Linux's MPTCP sockets refuse (Linux
/// 6.18: `IP_TTL`, `IPV6_UNICAST_HOPS`, `IPV6_TCLASS` with
/// `EOPNOTSUPP`; `TCP_USER_TIMEOUT` with `ENOPROTOOPT`), as the crate docs'
/// option table says. With [`Mptcp::Prefer`] such a socket is made plain
/// TCP, as it would be without MPTCP; with [`Mptcp::Require`] the kernel's
/// refusal is the error, naming the option.
fn refused_by_mptcp(options: &crate::options::Settings, domain: Domain) -> Option<&'static str> {
    if options.ttl.is_some() {
        Some(if domain == Domain::Ipv6 {
            "ttl (IPV6_UNICAST_HOPS)"
        } else {
            "ttl (IP_TTL)"
        })
    } else if options.tcp_user_timeout.is_some() {
        Some("tcp_user_timeout (TCP_USER_TIMEOUT)")
    } else if options.tos.is_some() && domain == Domain::Ipv6 {
        Some("tos (IPV6_TCLASS)")
    } else {
        None
    }
}

/// Why an MPTCP socket cannot be made, ending with the OS error.
#[derive(Debug)]
struct MptcpOff(std::io::Error);

impl fmt::Display for MptcpOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MPTCP is off or missing in this kernel (sysctl net.mptcp.enabled): {}",
            crate::error::Cause(&self.0)
        )
    }
}

/// The OS error is in the message, so it is not a source too.
impl std::error::Error for MptcpOff {}
