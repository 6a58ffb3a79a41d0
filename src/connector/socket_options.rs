//! [`ConnectorBuilder`]'s own socket setters, those a listener does not
//! have. Each stores a value that the option table (`options/table.rs`)
//! validates and sets. The setters both builders have, and `configure`, are
//! in `options/setters.rs`.

use std::time::Duration;

use crate::ConnectorBuilder;

impl ConnectorBuilder {
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
            self.opts.set.local_port_range = Some((*range.start(), *range.end()));
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
