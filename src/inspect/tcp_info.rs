//! How a TCP connection is doing.

use std::time::Duration;

use super::TcpConnection;
use crate::sys::TcpFigures;
use crate::{Error, Result};

/// What the kernel knows of a TCP connection at one moment: its round-trip
/// time, congestion window, retransmissions and the like. [`tcp_info`]
/// returns it.
///
/// Each figure is an `Option`: `None` where the platform does not give it
/// (see each method's "Platform-specific behavior").
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let mut client = std::net::TcpStream::connect(listener.local_addr()?)?;
/// let (mut served, _) = listener.accept()?;
/// client.write_all(b"ping")?;
/// served.read_exact(&mut [0; 4])?;
/// let info = match sockwright::tcp_info(&client) {
///     Ok(info) => info,
///     // Where the OS has no such call (Wine's Windows).
///     Err(e) if e.kind() == std::io::ErrorKind::Unsupported => return Ok(()),
///     Err(e) => return Err(e.into()),
/// };
/// println!("{info:?}");
/// # #[cfg(target_os = "linux")]
/// assert!(info.rtt().is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TcpInfo {
    figures: TcpFigures,
}

/// One accessor's doc example: the same few lines for each figure.
macro_rules! figure_example {
    ($method:ident) => {
        concat!(
            "```\n",
            "let listener = std::net::TcpListener::bind(\"127.0.0.1:0\")?;\n",
            "let stream = std::net::TcpStream::connect(listener.local_addr()?)?;\n",
            "let info = match sockwright::tcp_info(&stream) {\n",
            "    Ok(info) => info,\n",
            "    // Where the OS has no such call (Wine's Windows).\n",
            "    Err(e) if e.kind() == std::io::ErrorKind::Unsupported => return Ok(()),\n",
            "    Err(e) => return Err(e.into()),\n",
            "};\n",
            "println!(\"{:?}\", info.",
            stringify!($method),
            "());\n",
            "# Ok::<(), Box<dyn std::error::Error>>(())\n",
            "```"
        )
    };
}

impl TcpInfo {
    /// The smoothed round-trip time.
    ///
    /// # Platform-specific behavior
    ///
    /// Linux and FreeBSD count it in microseconds (`tcpi_rtt`), Apple's
    /// systems in milliseconds (`tcpi_srtt`), Windows in microseconds
    /// (`RttUs`). Before the first acknowledgement it may be an initial
    /// guess or zero.
    ///
    /// # Examples
    ///
    #[doc = figure_example!(rtt)]
    pub fn rtt(&self) -> Option<Duration> {
        self.figures.rtt
    }

    /// The round-trip time's variance (mean deviation).
    ///
    /// # Platform-specific behavior
    ///
    /// `tcpi_rttvar` on Linux, FreeBSD and Apple's systems; `None` on
    /// Windows.
    ///
    /// # Examples
    ///
    #[doc = figure_example!(rtt_var)]
    pub fn rtt_var(&self) -> Option<Duration> {
        self.figures.rtt_var
    }

    /// How many segments were sent again since the connection began.
    ///
    /// # Platform-specific behavior
    ///
    /// `tcpi_total_retrans` on Linux, `tcpi_snd_rexmitpack` on FreeBSD;
    /// `None` on Apple's systems and Windows, which count bytes.
    ///
    /// # Examples
    ///
    #[doc = figure_example!(retransmits)]
    pub fn retransmits(&self) -> Option<u64> {
        self.figures.retransmits
    }

    /// The congestion window, in bytes.
    ///
    /// # Platform-specific behavior
    ///
    /// Linux counts it in segments (`tcpi_snd_cwnd`): this is that count
    /// times the sending segment size. Other platforms give bytes.
    ///
    /// # Examples
    ///
    #[doc = figure_example!(congestion_window)]
    pub fn congestion_window(&self) -> Option<u64> {
        self.figures.congestion_window
    }

    /// The maximum segment size the connection sends, in bytes.
    ///
    /// # Examples
    ///
    #[doc = figure_example!(mss)]
    pub fn mss(&self) -> Option<u32> {
        self.figures.mss
    }

    /// The path MTU the connection uses, in bytes.
    ///
    /// # Platform-specific behavior
    ///
    /// Linux only (`tcpi_pmtu`); `None` elsewhere.
    ///
    /// # Examples
    ///
    #[doc = figure_example!(path_mtu)]
    pub fn path_mtu(&self) -> Option<u32> {
        self.figures.path_mtu
    }

    /// Bytes sent and not yet acknowledged.
    ///
    /// # Platform-specific behavior
    ///
    /// Windows gives it (`BytesInFlight`). Linux counts segments: this is
    /// the kernel's packets in flight (unacknowledged, less those known
    /// lost or selectively acknowledged, plus retransmissions) times the
    /// sending segment size. `None` on FreeBSD and Apple's systems.
    ///
    /// # Examples
    ///
    #[doc = figure_example!(bytes_in_flight)]
    pub fn bytes_in_flight(&self) -> Option<u64> {
        self.figures.bytes_in_flight
    }

    /// The most recent delivery rate the kernel measured, in bytes per
    /// second.
    ///
    /// # Platform-specific behavior
    ///
    /// Linux 4.9 and later only (`tcpi_delivery_rate`); `None` elsewhere.
    ///
    /// # Examples
    ///
    #[doc = figure_example!(delivery_rate)]
    pub fn delivery_rate(&self) -> Option<u64> {
        self.figures.delivery_rate
    }
}

/// What the kernel knows of a TCP connection now: round-trip time and its
/// variance, retransmissions, congestion window, segment size, path MTU,
/// bytes in flight and delivery rate, each where the platform gives it.
///
/// Takes std's [`TcpStream`](std::net::TcpStream), tokio's (with the
/// `tokio` feature), or an endpoint's [`Stream`](crate::Stream) or
/// `AsyncStream` (`tokio` feature) (see [`TcpConnection`]).
///
/// Maps to `getsockopt(IPPROTO_TCP, TCP_INFO)` on Linux, Android and
/// FreeBSD, `getsockopt(IPPROTO_TCP, TCP_CONNECTION_INFO)` on Apple's
/// systems and `WSAIoctl(SIO_TCP_INFO)` on Windows.
///
/// # Errors
///
/// - [`Error::InvalidConfig`] for an endpoint stream that holds a Unix
///   connection;
/// - [`Error::Unsupported`] on a platform without such a call (OpenBSD,
///   NetBSD, illumos, ...);
/// - [`Error::GetOption`] when the call fails. On Windows before 10 version
///   1703, and under Wine, which do not have `SIO_TCP_INFO`, its
///   [`kind`](Error::kind) is [`Unsupported`](std::io::ErrorKind::Unsupported).
///
/// # Platform-specific behavior
///
/// See each [`TcpInfo`] method for the fields a platform leaves `None`.
///
/// # Examples
///
/// ```
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let stream = std::net::TcpStream::connect(listener.local_addr()?)?;
/// match sockwright::tcp_info(&stream) {
///     Ok(info) => {
///         if let Some(rtt) = info.rtt() {
///             println!("round trip {rtt:?}");
///         }
///     }
///     // Where the OS has no such call (Wine's Windows).
///     Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {}
///     Err(e) => return Err(e.into()),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn tcp_info<S: TcpConnection + ?Sized>(stream: &S) -> Result<TcpInfo> {
    let (socket, addr) = stream.tcp_socket()?;
    if !crate::platform::has::TCP_INFO {
        return Err(Error::Unsupported { what: "TCP_INFO" });
    }
    let figures = crate::sys::tcp_figures(&socket).map_err(|error| Error::GetOption {
        addr,
        option: TCP_INFO_CALL,
        error,
    })?;
    Ok(TcpInfo { figures })
}

/// The call named in a failure's message.
const TCP_INFO_CALL: &str = if crate::platform::has::WINDOWS {
    "SIO_TCP_INFO"
} else if crate::platform::has::APPLE {
    "TCP_CONNECTION_INFO"
} else {
    "TCP_INFO"
};
