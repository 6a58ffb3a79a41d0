//! A listener that is either TCP or Unix-domain, for servers that take an
//! [`Endpoint`](crate::Endpoint) from their user.

use std::io;
use std::net::{TcpListener, TcpStream};
#[cfg(unix)]
use std::os::unix::net::UnixListener;

use super::stream::Stream;
#[cfg(unix)]
use super::stream::unix_address;
use crate::Address;

/// A listening socket of either family: what
/// [`ListenerBuilder::listen_endpoint`](crate::ListenerBuilder::listen_endpoint)
/// and [`activation`](crate::activation) return when the kind is up to the
/// user.
///
/// Match on it to reach the std type, or use [`accept`](Self::accept),
/// whose [`Stream`] reads and writes either kind.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use sockwright::{Endpoint, ListenerBuilder};
///
/// let endpoint: Endpoint = "127.0.0.1:0".parse()?;
/// let listener = ListenerBuilder::new().listen_endpoint(&endpoint)?;
/// let mut client = std::net::TcpStream::connect(listener.local_addr()?.to_string())?;
/// let (mut conn, _peer) = listener.accept()?;
/// client.write_all(b"hi")?;
/// let mut buf = [0; 2];
/// conn.read_exact(&mut buf)?;
/// assert_eq!(&buf, b"hi");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Listener {
    /// A TCP listener.
    Tcp(TcpListener),
    /// TCP listeners on one port, one per address of a name (an endpoint
    /// such as `localhost:8080` whose name has an IPv6 and an IPv4
    /// address), as [`ListenerBuilder::listen_all`](crate::ListenerBuilder::listen_all)
    /// makes them: [`accept`](Self::accept) takes a client from whichever
    /// is ready.
    TcpAll(Vec<TcpListener>),
    /// A Unix-domain stream (or seqpacket) listener.
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    Unix(UnixListener),
}

impl Listener {
    /// Several TCP listeners as one; a single one is [`Tcp`](Self::Tcp).
    pub(crate) fn tcp_all(mut all: Vec<TcpListener>) -> Listener {
        if all.len() == 1 {
            return Listener::Tcp(all.remove(0));
        }
        Listener::TcpAll(all)
    }

    /// `accept(2)`: waits for the next client and returns its stream and address.
    ///
    /// A Unix-domain client is usually unnamed, shown as `(unnamed)`. For
    /// [`TcpAll`](Self::TcpAll), `poll(2)` (`WSAPoll`) first waits until
    /// one of the listeners has a client, and that one accepts it.
    ///
    /// # Errors
    ///
    /// The OS error of `accept` (or `poll`), as std reports it.
    ///
    /// # Platform-specific behavior
    ///
    /// On Windows, where a socket's mode cannot be read back, a
    /// [`TcpAll`](Self::TcpAll) listener set nonblocking still waits in
    /// `WSAPoll` for a client; elsewhere it answers `WouldBlock` at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = sockwright::ListenerBuilder::new().listen_endpoint(&"127.0.0.1:0".parse()?)?;
    /// let _client = std::net::TcpStream::connect(listener.local_addr()?.to_string())?;
    /// let (_stream, peer) = listener.accept()?;
    /// assert!(peer.to_string().starts_with("127.0.0.1:"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn accept(&self) -> io::Result<(Stream, Address)> {
        match self {
            Listener::Tcp(l) => l.accept().map(|(s, a)| (Stream::Tcp(s), Address::Inet(a))),
            Listener::TcpAll(all) => {
                accept_any(all).map(|(s, a)| (Stream::Tcp(s), Address::Inet(a)))
            }
            #[cfg(unix)]
            Listener::Unix(l) => l.accept().map(|(s, a)| (Stream::Unix(s), unix_address(&a))),
        }
    }

    /// The address the listener is bound to (`getsockname(2)`); for
    /// [`TcpAll`](Self::TcpAll), the first listener's.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = sockwright::ListenerBuilder::new().listen_endpoint(&"127.0.0.1:0".parse()?)?;
    /// assert!(listener.local_addr()?.to_string().starts_with("127.0.0.1:"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<Address> {
        match self {
            Listener::Tcp(l) => l.local_addr().map(Address::Inet),
            Listener::TcpAll(all) => first(all)?.local_addr().map(Address::Inet),
            #[cfg(unix)]
            Listener::Unix(l) => l.local_addr().map(|a| unix_address(&a)),
        }
    }

    /// Every address the listener is bound to (`getsockname(2)` on each
    /// socket): one, or one per listener of [`TcpAll`](Self::TcpAll).
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = sockwright::ListenerBuilder::new().listen_endpoint(&"127.0.0.1:0".parse()?)?;
    /// assert_eq!(listener.local_addrs()?, [listener.local_addr()?]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn local_addrs(&self) -> io::Result<Vec<Address>> {
        match self {
            Listener::TcpAll(all) => all
                .iter()
                .map(|l| l.local_addr().map(Address::Inet))
                .collect(),
            _ => self.local_addr().map(|a| vec![a]),
        }
    }

    /// Switches the listener between blocking and nonblocking `accept`
    /// (`O_NONBLOCK`, `FIONBIO` on Windows).
    ///
    /// # Errors
    ///
    /// The OS error of the call.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = sockwright::ListenerBuilder::new().listen_endpoint(&"127.0.0.1:0".parse()?)?;
    /// listener.set_nonblocking(true)?;
    /// assert_eq!(listener.accept().unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.set_nonblocking(nonblocking),
            Listener::TcpAll(all) => all.iter().try_for_each(|l| l.set_nonblocking(nonblocking)),
            #[cfg(unix)]
            Listener::Unix(l) => l.set_nonblocking(nonblocking),
        }
    }
}

/// The first of several listeners; an empty list (which no call of this
/// crate makes) is an error, not a panic.
fn first(all: &[TcpListener]) -> io::Result<&TcpListener> {
    all.first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no listener in the list"))
}

/// `accept(2)` on whichever of `all` has a client: `poll(2)` (`WSAPoll`)
/// waits until one is readable, then that one accepts. A listener set
/// nonblocking is not waited for: each is asked once, and `WouldBlock`
/// comes back when none has a client.
fn accept_any(all: &[TcpListener]) -> io::Result<(TcpStream, std::net::SocketAddr)> {
    use crate::sys::{self, Interest};

    if all.len() == 1 {
        return all[0].accept();
    }
    let mut fds: Vec<sys::PollFd> = all
        .iter()
        .map(|l| sys::poll_fd(l, Interest::Read))
        .collect();
    loop {
        // A nonblocking listener answers at once; a blocking one waits here.
        let wait = if nonblocking(first(all)?) { 0 } else { -1 };
        if sys::poll(&mut fds, wait)? == 0 && wait == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        for (l, fd) in all.iter().zip(&fds) {
            if sys::is_ready(fd) {
                return l.accept();
            }
        }
    }
}

/// Whether `listener` is in nonblocking mode (`fcntl(F_GETFL)`). Windows
/// cannot read the mode back: there a listener is taken as blocking.
fn nonblocking(listener: &TcpListener) -> bool {
    #[cfg(unix)]
    return socket2::SockRef::from(listener)
        .nonblocking()
        .unwrap_or(false);
    #[cfg(not(unix))]
    return {
        let _ = listener;
        false
    };
}
