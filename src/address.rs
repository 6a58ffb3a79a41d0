//! The address named in errors and log lines.

use std::fmt;
use std::net::SocketAddr;
#[cfg(unix)]
use std::path::PathBuf;

#[cfg(unix)]
use crate::bounded::shown::Cut;

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
    /// A Unix-domain socket path (empty for an unnamed socket). A path whose
    /// first byte is NUL is a Linux abstract name, shown as `@name`.
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
            Address::Unix(path) => UnixPath(path).fmt(f),
            Address::Unknown => f.write_str("(unknown address)"),
        }
    }
}

/// A Unix socket path as every message shows it: `(unnamed)` when empty,
/// `@name` for a Linux abstract name (first byte NUL), else the path, cut
/// when it is too long to be a socket's (which is what an error may be about)
/// rather than echoed whole.
#[cfg(unix)]
pub(crate) struct UnixPath<'a>(pub(crate) &'a std::path::Path);

#[cfg(unix)]
impl fmt::Display for UnixPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use std::os::unix::ffi::OsStrExt;
        match self.0.as_os_str().as_bytes().split_first() {
            None => f.write_str("(unnamed)"),
            Some((0, name)) => write!(f, "@{}", Cut::new(Abstract(name))),
            _ => Cut::new(self.0.display()).fmt(f),
        }
    }
}

/// A name in Linux's abstract namespace (one that starts with a NUL byte,
/// left out here), shown after `@` as `ss` and `netstat` do, with any other
/// NUL or control byte escaped.
#[cfg(unix)]
struct Abstract<'a>(&'a [u8]);

#[cfg(unix)]
impl fmt::Display for Abstract<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                if c.is_control() {
                    write!(f, "{}", c.escape_default())?;
                } else {
                    write!(f, "{c}")?;
                }
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_shown_as_a_person_writes_it() {
        let inet = |s: &str| Address::Inet(s.parse().unwrap()).to_string();
        assert_eq!(inet("127.0.0.1:80"), "127.0.0.1:80");
        assert_eq!(inet("[::1]:80"), "[::1]:80");
        assert_eq!(inet("[fe80::1%2]:80"), "[fe80::1%2]:80");
        assert_eq!(Address::Unknown.to_string(), "(unknown address)");
        #[cfg(unix)]
        {
            use std::ffi::OsStr;
            use std::os::unix::ffi::OsStrExt;
            let unix = |b: &[u8]| Address::Unix(OsStr::from_bytes(b).into()).to_string();
            assert_eq!(unix(b"/run/app.sock"), "/run/app.sock");
            assert_eq!(unix(b""), "(unnamed)");
            assert_eq!(unix(b"\0app"), "@app");
            assert_eq!(unix(b"\0a\0b\n\xff"), "@a\\u{0}b\\n\\xff");
            assert!(!unix(b"\0app").contains('\0'));
        }
    }
}
