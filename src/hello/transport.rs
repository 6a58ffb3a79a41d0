//! What [`Exchange::run`](super::Exchange::run) and
//! [`Exchange::run_into`](super::Exchange::run_into) run over: a sealed
//! trait, implemented once per accepted type, that tells the exchange how
//! to set the stream's timeouts and how to name its peer.

use std::io::{self, Read, Write};
use std::net::TcpStream;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::Address;

/// A byte stream the hello exchange runs over: a [`TcpStream`], a
/// [`UnixStream`](std::os::unix::net::UnixStream), any other `Read + Write`
/// value wrapped in an [`Io`], one of these with its peer's name given in a
/// [`Named`], or a `&mut` of any of them.
///
/// A socket has its read and write timeouts set by the exchange
/// (`SO_RCVTIMEO`, `SO_SNDTIMEO`) and names its peer in errors by asking
/// the kernel (`getpeername(2)`), only when an error or a `debug` log line
/// needs it. An [`Io`] has no timeouts set and names its peer
/// [`Address::Unknown`]. This trait is sealed: the exchange needs to know
/// each type it accepts.
///
/// # Examples
///
/// ```
/// use std::io::Cursor;
/// use sockwright::hello::{Exchange, Io, Named};
///
/// // Any `Read + Write` value: here a peer that sent the greeting.
/// let mut wire = Io(Cursor::new(b"Hello from client".to_vec()));
/// assert_eq!(Exchange::server().run(&mut wire)?, b"Hello from client");
///
/// // A peer that sent nothing, named in the error.
/// let peer: std::net::SocketAddr = "127.0.0.1:9".parse()?;
/// let mut wire = Named::new(Io(Cursor::new(Vec::new())), peer);
/// let err = Exchange::server().run(&mut wire).unwrap_err();
/// assert!(err.to_string().starts_with("receive greeting from 127.0.0.1:9: "));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Transport: Read + Write + sealed::Sealed {}

pub(crate) mod sealed {
    use super::*;

    /// The calls an exchange makes on its stream besides reading and
    /// writing.
    pub trait Sealed {
        /// Whether the exchange sets this stream's timeouts.
        const TIMEOUTS: bool;
        /// Sets the read timeout and, with `write`, the write timeout too.
        fn set_timeouts(&self, timeout: Duration, write: bool) -> io::Result<()>;
        /// The peer's address, asked for only when it is shown.
        fn peer(&self) -> io::Result<Address>;
    }
}

/// A std stream: the exchange sets both its timeouts, and its peer is the
/// socket's (`getpeername(2)`), turned into an [`Address`] by `$shown`.
macro_rules! std_stream {
    ($stream:ty, $shown:expr) => {
        impl Transport for $stream {}

        impl sealed::Sealed for $stream {
            const TIMEOUTS: bool = true;
            #[inline]
            fn set_timeouts(&self, timeout: Duration, write: bool) -> io::Result<()> {
                self.set_read_timeout(Some(timeout))?;
                if write {
                    self.set_write_timeout(Some(timeout))?;
                }
                Ok(())
            }
            fn peer(&self) -> io::Result<Address> {
                self.peer_addr().map($shown)
            }
        }
    };
}

std_stream!(TcpStream, Address::Inet);
#[cfg(unix)]
std_stream!(UnixStream, |a: std::os::unix::net::SocketAddr| {
    crate::endpoint::unix_address(&a)
});

/// A stream borrowed, as for a [`Named`] that does not own it:
/// `Named::new(&mut stream, peer)`.
impl<S: Transport + ?Sized> Transport for &mut S {}

impl<S: Transport + ?Sized> sealed::Sealed for &mut S {
    const TIMEOUTS: bool = S::TIMEOUTS;
    fn set_timeouts(&self, timeout: Duration, write: bool) -> io::Result<()> {
        (**self).set_timeouts(timeout, write)
    }
    fn peer(&self) -> io::Result<Address> {
        (**self).peer()
    }
}

/// Any `Read + Write` value as a [`Transport`]: an in-memory stream, a TLS
/// stream, a pipe.
///
/// The exchange sets no timeout on it: a blocking read waits as long as the
/// value lets it, and a message other than the expected one completes only
/// at end of file or when the value's own read reports
/// [`WouldBlock`](io::ErrorKind::WouldBlock) or
/// [`TimedOut`](io::ErrorKind::TimedOut) after the first bytes. Its peer is
/// [`Address::Unknown`] unless it is wrapped in a [`Named`].
///
/// # Examples
///
/// ```
/// use std::io::Cursor;
/// use sockwright::hello::{Exchange, Io};
///
/// let mut wire = Io(Cursor::new(b"Hello from client".to_vec()));
/// let greeting = Exchange::server().run(&mut wire)?;
/// assert_eq!(greeting, b"Hello from client");
/// assert_eq!(&wire.0.get_ref()[17..], b"Hello from server");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Io<T>(pub T);

impl<T: Read> Read for Io<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<T: Write> Write for Io<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<T: Read + Write> Transport for Io<T> {}

impl<T> sealed::Sealed for Io<T> {
    const TIMEOUTS: bool = false;
    fn set_timeouts(&self, _: Duration, _: bool) -> io::Result<()> {
        Ok(())
    }
    fn peer(&self) -> io::Result<Address> {
        Ok(Address::Unknown)
    }
}

/// A [`Transport`] with its peer's name given, not asked for: no
/// `getpeername(2)`, and the name survives a peer that resets the
/// connection (whose socket can no longer report it).
///
/// Use it with the address `accept` or the connect returned, or to name the
/// peer of an [`Io`].
///
/// # Examples
///
/// ```
/// use std::thread;
/// use sockwright::hello::{Exchange, Named, SERVER_GREETING};
/// use sockwright::{ConnectorBuilder, ListenerBuilder};
///
/// let listener = ListenerBuilder::new().listen("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// let client = thread::spawn(move || -> sockwright::Result<Vec<u8>> {
///     let stream = ConnectorBuilder::new().connect(addr)?;
///     Exchange::client().run(&mut Named::new(stream, addr))
/// });
/// let (mut conn, peer) = listener.accept()?;
/// Exchange::server().run(&mut Named::new(&mut conn, peer))?;
/// assert_eq!(client.join().unwrap()?, SERVER_GREETING.as_bytes());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Named<S> {
    stream: S,
    peer: Address,
}

impl<S: Transport> Named<S> {
    /// `stream`, whose peer errors and log lines name `peer`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Cursor;
    /// use sockwright::hello::{Io, Named};
    /// use sockwright::Address;
    ///
    /// let wire = Named::new(Io(Cursor::new(Vec::new())), Address::Unknown);
    /// assert_eq!(wire.peer(), &Address::Unknown);
    /// ```
    pub fn new(stream: S, peer: impl Into<Address>) -> Named<S> {
        Named {
            stream,
            peer: peer.into(),
        }
    }

    /// The peer's name.
    ///
    /// # Examples
    ///
    /// See [`Named::new`].
    pub fn peer(&self) -> &Address {
        &self.peer
    }

    /// The stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Cursor;
    /// use sockwright::hello::{Io, Named};
    /// use sockwright::Address;
    ///
    /// let wire = Named::new(Io(Cursor::new(vec![1])), Address::Unknown);
    /// assert_eq!(wire.into_inner().0.into_inner(), [1]);
    /// ```
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// The stream, to read or write it outside the exchange.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Cursor;
    /// use sockwright::hello::{Io, Named};
    /// use sockwright::Address;
    ///
    /// let mut wire = Named::new(Io(Cursor::new(vec![1])), Address::Unknown);
    /// wire.get_mut().0.set_position(1);
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }
}

impl<S: Read> Read for Named<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.read(buf)
    }
}

impl<S: Write> Write for Named<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl<S: Transport> Transport for Named<S> {}

impl<S: Transport> sealed::Sealed for Named<S> {
    const TIMEOUTS: bool = S::TIMEOUTS;
    fn set_timeouts(&self, timeout: Duration, write: bool) -> io::Result<()> {
        self.stream.set_timeouts(timeout, write)
    }
    fn peer(&self) -> io::Result<Address> {
        Ok(self.peer.clone())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};

    use super::sealed::Sealed;

    #[test]
    fn a_unix_peer_on_an_abstract_name_is_shown_by_that_name() {
        let name = format!("sockwright-hello-peer-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixListener::bind_addr(&addr).unwrap();
        let client = UnixStream::connect_addr(&addr).unwrap();
        let (_served, _) = listener.accept().unwrap();
        assert_eq!(client.peer().unwrap().to_string(), format!("@{name}"));
    }
}
