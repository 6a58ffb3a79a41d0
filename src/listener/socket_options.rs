//! [`ListenerBuilder`]'s own socket setters, those a connector does not
//! have. Each stores a value that the option table (`options/table.rs`)
//! validates and sets. The setters both builders have, and `configure`, are
//! in `options/setters.rs`.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::ListenerBuilder;

impl ListenerBuilder {
    cfg_linux! {
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
            self.opts.set.tcp_defer_accept = Some(timeout);
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
            self.opts.set.tcp_fastopen = Some(queue_len);
            self
        }
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
        crate::options::add(&mut self.opts.set.join_multicast_v4, (group, interface));
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
        crate::options::add(&mut self.opts.set.join_multicast_v6, (group, interface));
        self
    }
}
