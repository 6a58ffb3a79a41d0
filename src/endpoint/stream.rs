//! A connected stream of either family: what
//! [`Listener::accept`](crate::Listener::accept) and
//! [`ConnectorBuilder::connect_endpoint`](crate::ConnectorBuilder::connect_endpoint)
//! return.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{Shutdown, TcpStream};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::Address;

stream_of_either_family! {
    /// A connected stream of either family, from [`Listener::accept`](crate::Listener::accept) and
    /// [`ConnectorBuilder::connect_endpoint`](crate::ConnectorBuilder::connect_endpoint):
    /// reads and writes like the std type inside it.
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
    pub enum Stream {
        Tcp(TcpStream),
        Unix(UnixStream),
    }

    /// The address of the peer (`getpeername(2)`): an IP address and
    /// port, or a Unix path (a Unix client is usually unnamed, shown as
    /// `(unnamed)`).
    ///
    /// # Errors
    ///
    /// The OS error of `getpeername`, such as `NotConnected`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{ConnectorBuilder, ListenerBuilder};
    ///
    /// let listener = ListenerBuilder::new().listen_endpoint(&"127.0.0.1:0".parse()?)?;
    /// let endpoint = listener.local_addr()?.to_string().parse()?;
    /// let client = ConnectorBuilder::new().connect_endpoint(&endpoint)?;
    /// assert_eq!(client.peer_addr()?, listener.local_addr()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn peer_addr;

    /// The address of this end (`getsockname(2)`).
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{ConnectorBuilder, ListenerBuilder};
    ///
    /// let listener = ListenerBuilder::new().listen_endpoint(&"127.0.0.1:0".parse()?)?;
    /// let endpoint = listener.local_addr()?.to_string().parse()?;
    /// let client = ConnectorBuilder::new().connect_endpoint(&endpoint)?;
    /// let (_conn, peer) = listener.accept()?;
    /// assert_eq!(client.local_addr()?, peer);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn local_addr;
}

impl Stream {
    /// A second handle on the same connection (`fcntl(F_DUPFD_CLOEXEC)`,
    /// `WSADuplicateSocketW` on Windows), for reading on one thread and
    /// writing on another.
    ///
    /// # Errors
    ///
    /// The OS error of the call, such as `EMFILE` when the process is out
    /// of descriptors.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use sockwright::{ConnectorBuilder, ListenerBuilder};
    ///
    /// let listener = ListenerBuilder::new().listen_endpoint(&"127.0.0.1:0".parse()?)?;
    /// let client = ConnectorBuilder::new().connect_endpoint(&listener.local_addr()?.to_string().parse()?)?;
    /// let mut writer = client.try_clone()?;
    /// let (mut conn, _) = listener.accept()?;
    /// writer.write_all(b"hi")?;
    /// let mut buf = [0; 2];
    /// conn.read_exact(&mut buf)?;
    /// assert_eq!(&buf, b"hi");
    /// # drop(client);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_clone(&self) -> io::Result<Stream> {
        match self {
            Stream::Tcp(s) => s.try_clone().map(Stream::Tcp),
            #[cfg(unix)]
            Stream::Unix(s) => s.try_clone().map(Stream::Unix),
        }
    }

    /// Switches the stream between blocking and nonblocking reads and
    /// writes (`O_NONBLOCK`, `FIONBIO` on Windows).
    ///
    /// # Errors
    ///
    /// The OS error of the call.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// use sockwright::{ConnectorBuilder, ListenerBuilder};
    ///
    /// let listener = ListenerBuilder::new().listen_endpoint(&"127.0.0.1:0".parse()?)?;
    /// let mut client = ConnectorBuilder::new().connect_endpoint(&listener.local_addr()?.to_string().parse()?)?;
    /// client.set_nonblocking(true)?;
    /// assert_eq!(client.read(&mut [0; 1]).unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        each!(Stream, self, s => s.set_nonblocking(nonblocking))
    }

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
        each!(Stream, self, s => s.set_read_timeout(timeout))
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
        each!(Stream, self, s => s.set_write_timeout(timeout))
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
        each!(Stream, self, s => s.shutdown(how))
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        each!(Stream, self, s => s.read(buf))
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        each!(Stream, self, s => s.read_vectored(bufs))
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        each!(Stream, self, s => s.write(buf))
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        each!(Stream, self, s => s.write_vectored(bufs))
    }

    fn flush(&mut self) -> io::Result<()> {
        each!(Stream, self, s => s.flush())
    }
}

/// A Unix socket address as the crate shows it: its path, the abstract
/// name (Linux) after a NUL byte, or empty for an unnamed socket.
#[cfg(unix)]
pub(crate) fn unix_address(addr: &std::os::unix::net::SocketAddr) -> Address {
    if let Some(path) = addr.as_pathname() {
        return Address::Unix(path.to_path_buf());
    }
    match crate::sys::abstract_name(addr) {
        Some(name) => {
            use std::os::unix::ffi::OsStrExt;
            let mut bytes = vec![0u8];
            bytes.extend_from_slice(name);
            Address::Unix(std::ffi::OsStr::from_bytes(&bytes).into())
        }
        None => Address::Unix(Default::default()),
    }
}

/// A socket address of either family as the crate's [`Address`].
pub(crate) trait IntoAddress {
    /// The [`Address`] this socket address is.
    fn into_address(self) -> Address;
}

impl IntoAddress for std::net::SocketAddr {
    fn into_address(self) -> Address {
        Address::Inet(self)
    }
}

#[cfg(unix)]
impl IntoAddress for std::os::unix::net::SocketAddr {
    fn into_address(self) -> Address {
        unix_address(&self)
    }
}
