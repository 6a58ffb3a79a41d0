//! [`ConnectorBuilder`]'s own socket setters, those a listener does not
//! have, and its `configure` hook. Each stores a value that the option
//! table (`options/table.rs`) validates and sets. The setters both builders
//! have are in `options/setters.rs`.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::{ConnectorBuilder, SocketRef};

impl ConnectorBuilder {
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

    cfg_linux! {
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
            self.opts.set.tcp_fastopen_connect = Some(fastopen);
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
        self.opts.set.read_timeout = Some(timeout);
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
        self.opts.set.write_timeout = Some(timeout);
        self
    }
}
