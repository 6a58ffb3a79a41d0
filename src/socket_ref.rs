//! The socket a `configure` hook is handed.

use std::fmt;

use socket2::Socket;

use crate::options::Prepared;
use crate::{Address, Domain, Protocol, Type};

/// What the socket a hook configures is about to do.
///
/// # Examples
///
/// ```
/// use sockwright::{ListenerBuilder, Purpose};
///
/// let listener = ListenerBuilder::new()
///     .configure(|socket| {
///         assert_eq!(socket.purpose(), Purpose::Bind);
///         Ok(())
///     })
///     .listen("127.0.0.1:0")?;
/// # drop(listener);
/// # Ok::<(), sockwright::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Purpose {
    /// It will be bound to [`SocketRef::address`] (a [`ListenerBuilder`](crate::ListenerBuilder) socket).
    Bind,
    /// It will be connected to [`SocketRef::address`] (a [`ConnectorBuilder`](crate::ConnectorBuilder) socket).
    Connect,
}

/// A borrowed socket that a builder has created and configured, handed to a
/// [`configure`](crate::ListenerBuilder::configure) hook before `bind(2)`
/// or `connect(2)`.
///
/// It implements `AsFd` and `AsRawFd` on Unix, `AsSocket` and `AsRawSocket`
/// on Windows, so any socket library can set an option on it, whatever its
/// version: `socket2::SockRef::from(&socket)`, `nix::sys::socket::setsockopt(&socket, ...)`,
/// or a raw `setsockopt` on `socket.as_raw_fd()`. It also says what the
/// socket is: its [`domain`](Self::domain), [`socket_type`](Self::socket_type),
/// [`protocol`](Self::protocol), and the [`address`](Self::address) it is
/// about to be bound or connected to.
///
/// The hook must leave the socket open and must not bind, connect or listen
/// it: the builder does that next.
///
/// # Examples
///
/// ```
/// use sockwright::{ConnectorBuilder, Domain};
///
/// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let stream = ConnectorBuilder::new()
///     .configure(|socket| {
///         assert_eq!(socket.domain(), Domain::Ipv4);
///         // Any option, through the caller's own socket2.
///         socket2::SockRef::from(&socket).set_tcp_nodelay(true)
///     })
///     .connect(server.local_addr()?)?;
/// assert!(stream.nodelay()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SocketRef<'a> {
    socket: &'a Socket,
    prepared: Prepared<'a>,
    purpose: Purpose,
}

impl<'a> SocketRef<'a> {
    pub(crate) fn new(socket: &'a Socket, prepared: Prepared<'a>, purpose: Purpose) -> Self {
        SocketRef {
            socket,
            prepared,
            purpose,
        }
    }

    /// The socket's domain (address family), as passed to `socket(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{Domain, ListenerBuilder};
    ///
    /// let listener = ListenerBuilder::new()
    ///     .configure(|socket| {
    ///         assert_eq!(socket.domain(), Domain::Ipv4);
    ///         Ok(())
    ///     })
    ///     .listen("127.0.0.1:0")?;
    /// # drop(listener);
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn domain(&self) -> Domain {
        self.prepared.domain
    }

    /// The socket's type, as passed to `socket(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{ListenerBuilder, Type};
    ///
    /// let socket = ListenerBuilder::new()
    ///     .configure(|socket| {
    ///         assert_eq!(socket.socket_type(), Type::Datagram);
    ///         Ok(())
    ///     })
    ///     .bind_udp("127.0.0.1:0")?;
    /// # drop(socket);
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn socket_type(&self) -> Type {
        self.prepared.socket_type
    }

    /// The socket's protocol, as passed to `socket(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{ListenerBuilder, Protocol};
    ///
    /// let listener = ListenerBuilder::new()
    ///     .protocol(Protocol::Tcp)
    ///     .configure(|socket| {
    ///         assert_eq!(socket.protocol(), Protocol::Tcp);
    ///         Ok(())
    ///     })
    ///     .listen("127.0.0.1:0")?;
    /// # drop(listener);
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn protocol(&self) -> Protocol {
        self.prepared.protocol
    }

    /// The address the socket is about to be bound to (a listener) or
    /// connected to (a connector): one attempt's address when a name
    /// resolves to several.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{Address, ConnectorBuilder};
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let target = server.local_addr()?;
    /// let stream = ConnectorBuilder::new()
    ///     .configure(move |socket| {
    ///         assert_eq!(socket.address(), &Address::Inet(target));
    ///         Ok(())
    ///     })
    ///     .connect(target)?;
    /// # drop(stream);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn address(&self) -> &Address {
        self.prepared.addr
    }

    /// Whether the socket is about to be bound (a listener) or connected
    /// (a connector) to [`address`](Self::address).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{ConnectorBuilder, Purpose};
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = ConnectorBuilder::new()
    ///     .configure(|socket| {
    ///         assert_eq!(socket.purpose(), Purpose::Connect);
    ///         Ok(())
    ///     })
    ///     .connect(server.local_addr()?)?;
    /// # drop(stream);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }
}

impl fmt::Debug for SocketRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketRef")
            .field("socket", self.socket)
            .field("domain", &self.prepared.domain)
            .field("socket_type", &self.prepared.socket_type)
            .field("protocol", &self.prepared.protocol)
            .field("address", self.prepared.addr)
            .field("purpose", &self.purpose)
            .finish()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for SocketRef<'_> {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for SocketRef<'_> {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.socket.as_raw_fd()
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsSocket for SocketRef<'_> {
    fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
        self.socket.as_socket()
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsRawSocket for SocketRef<'_> {
    fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
        self.socket.as_raw_socket()
    }
}
