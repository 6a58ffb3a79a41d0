//! The address named in errors and log lines.

use std::fmt;
use std::net::SocketAddr;
#[cfg(unix)]
use std::path::PathBuf;

/// The address a failed step was working on, as shown in [`Error`](crate::Error) messages.
///
/// # Examples
///
/// ```
/// use sockwright::Address;
///
/// let addr = Address::from("0.0.0.0:8080".parse::<std::net::SocketAddr>()?);
/// assert_eq!(addr.to_string(), "0.0.0.0:8080");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Address {
    /// An IPv4 or IPv6 socket address.
    Inet(SocketAddr),
    /// A Unix-domain socket path (empty for an unnamed socket).
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    Unix(PathBuf),
    /// An address that could not be read back when the error was made,
    /// such as the peer of a connection that it has just reset; shown as
    /// `(unknown address)`.
    Unknown,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Inet(addr) => addr.fmt(f),
            #[cfg(unix)]
            Address::Unix(path) if path.as_os_str().is_empty() => f.write_str("(unnamed)"),
            #[cfg(unix)]
            Address::Unix(path) => path.display().fmt(f),
            Address::Unknown => f.write_str("(unknown address)"),
        }
    }
}

impl From<SocketAddr> for Address {
    fn from(addr: SocketAddr) -> Self {
        Address::Inet(addr)
    }
}

#[cfg(unix)]
impl From<PathBuf> for Address {
    fn from(path: PathBuf) -> Self {
        Address::Unix(path)
    }
}

#[cfg(unix)]
impl From<&std::path::Path> for Address {
    fn from(path: &std::path::Path) -> Self {
        Address::Unix(path.to_path_buf())
    }
}
