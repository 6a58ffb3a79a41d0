//! A listener that is either TCP or Unix-domain, for servers that take an
//! [`Endpoint`](crate::Endpoint) from their user.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
#[cfg(unix)]
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Duration;

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
    /// A Unix-domain stream (or seqpacket) listener.
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    Unix(UnixListener),
}

impl Listener {
    /// `accept(2)`: waits for the next client and returns its stream and address.
    ///
    /// A Unix-domain client is usually unnamed, shown as `(unnamed)`.
    ///
    /// # Errors
    ///
    /// The OS error of `accept`, as std reports it.
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
            #[cfg(unix)]
            Listener::Unix(l) => l.accept().map(|(s, a)| (Stream::Unix(s), unix_address(&a))),
        }
    }

    /// The address the listener is bound to (`getsockname(2)`).
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
            #[cfg(unix)]
            Listener::Unix(l) => l.local_addr().map(|a| unix_address(&a)),
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
            #[cfg(unix)]
            Listener::Unix(l) => l.set_nonblocking(nonblocking),
        }
    }
}

/// A connected stream of either family, from [`Listener::accept`]: reads
/// and writes like the std type inside it.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
///
/// let listener = sockwright::ListenerBuilder::new().listen_endpoint(&"127.0.0.1:0".parse()?)?;
/// let mut client = std::net::TcpStream::connect(listener.local_addr()?.to_string())?;
/// let (mut conn, _) = listener.accept()?;
/// conn.write_all(b"Hello from server")?;
/// let mut reply = [0; 17];
/// client.read_exact(&mut reply)?;
/// assert_eq!(&reply, b"Hello from server");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Stream {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A Unix-domain connection.
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    Unix(UnixStream),
}

/// Calls `$e` on the std stream inside, whichever it is.
macro_rules! each {
    ($stream:expr, $s:ident => $e:expr) => {
        match $stream {
            Stream::Tcp($s) => $e,
            #[cfg(unix)]
            Stream::Unix($s) => $e,
        }
    };
}

impl Stream {
    /// Sets the read timeout (`SO_RCVTIMEO`); `None` waits for ever.
    ///
    /// # Errors
    ///
    /// A zero duration, or the OS error of the call, as std reports them.
    /// A timeout longer than the OS holds, [`Duration::MAX`] included, is
    /// set as the longest it holds (std clamps it; no limit on Linux).
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = sockwright::ListenerBuilder::new().listen_endpoint(&"127.0.0.1:0".parse()?)?;
    /// let _client = std::net::TcpStream::connect(listener.local_addr()?.to_string())?;
    /// let (conn, _) = listener.accept()?;
    /// conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        each!(self, s => s.set_read_timeout(timeout))
    }

    /// Sets the write timeout (`SO_SNDTIMEO`); `None` waits for ever.
    ///
    /// # Errors
    ///
    /// A zero duration, or the OS error of the call, as std reports them.
    /// A timeout longer than the OS holds, [`Duration::MAX`] included, is
    /// set as the longest it holds (std clamps it; no limit on Linux).
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = sockwright::ListenerBuilder::new().listen_endpoint(&"127.0.0.1:0".parse()?)?;
    /// let _client = std::net::TcpStream::connect(listener.local_addr()?.to_string())?;
    /// let (conn, _) = listener.accept()?;
    /// conn.set_write_timeout(Some(std::time::Duration::from_secs(5)))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        each!(self, s => s.set_write_timeout(timeout))
    }

    /// Shuts down the reading, writing or both halves (`shutdown(2)`).
    ///
    /// # Errors
    ///
    /// The OS error of the call.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = sockwright::ListenerBuilder::new().listen_endpoint(&"127.0.0.1:0".parse()?)?;
    /// let _client = std::net::TcpStream::connect(listener.local_addr()?.to_string())?;
    /// let (conn, _) = listener.accept()?;
    /// conn.shutdown(std::net::Shutdown::Write)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        each!(self, s => s.shutdown(how))
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        each!(self, s => s.read(buf))
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        each!(self, s => s.read_vectored(bufs))
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        each!(self, s => s.write(buf))
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        each!(self, s => s.write_vectored(bufs))
    }

    fn flush(&mut self) -> io::Result<()> {
        each!(self, s => s.flush())
    }
}

/// A Unix socket address as the crate shows it: its path, the abstract
/// name (Linux) after a NUL byte, or empty for an unnamed socket.
#[cfg(unix)]
pub(crate) fn unix_address(addr: &std::os::unix::net::SocketAddr) -> Address {
    if let Some(path) = addr.as_pathname() {
        return Address::Unix(path.to_path_buf());
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        #[cfg(target_os = "android")]
        use std::os::android::net::SocketAddrExt;
        #[cfg(target_os = "linux")]
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::ffi::OsStrExt;
        if let Some(name) = addr.as_abstract_name() {
            let mut bytes = vec![0u8];
            bytes.extend_from_slice(name);
            return Address::Unix(std::ffi::OsStr::from_bytes(&bytes).into());
        }
    }
    Address::Unix(Default::default())
}
