//! Adopting a descriptor: the checks that it is the socket asked for, and
//! the record of the numbers taken.

#[cfg(unix)]
use std::net::{TcpListener, UdpSocket};
#[cfg(unix)]
use std::os::unix::net::{UnixDatagram, UnixListener};

use crate::{Error, Listener, Result};

/// Defines the public functions that adopt a descriptor as one type:
/// each checks that `fd` is the socket `$want` names (see [`adopt`]), then
/// hands it over as `$ty`.
macro_rules! adopt_as {
    ($($(#[$doc:meta])* pub unsafe fn $name:ident(fd) -> $ty:ty = $want:expr;)*) => {$(
        $(#[$doc])*
        #[cfg(unix)]
        #[cfg_attr(docsrs, doc(cfg(unix)))]
        #[allow(unsafe_code)]
        pub unsafe fn $name(fd: i32) -> Result<$ty> {
            // SAFETY: the caller's promise, passed on.
            unsafe { adopt(fd, None, $want) }.map(|(owned, _)| owned.into())
        }
    )*};
}

adopt_as! {
    /// Adopts descriptor `fd` as a TCP listener, after checking that it is a
    /// listening IPv4 or IPv6 stream socket, and sets it close-on-exec.
    ///
    /// This is for a descriptor the process inherited, whose number its user
    /// names (`fd:N`, or a launcher's convention). The descriptor is handed
    /// over: on success the returned listener owns it and closes it when
    /// dropped. A number can be adopted once per process, as an inherited
    /// descriptor is inherited once: asking again, even after the adopted
    /// value was dropped and the number reused, is an error. On failure the
    /// descriptor is left open and unchanged.
    ///
    /// # Safety
    ///
    /// If `fd` is an open socket of the kind asked for, the caller must own it
    /// and give it up: once this returns `Ok`, nothing else may use or close
    /// `fd`, neither a value that holds it (a `File`, a socket, an `OwnedFd`)
    /// nor another library that adopted it. The checks see what a descriptor
    /// is, not who owns it; the one misuse they catch is a number that
    /// sockwright adopted before. Two owners of one descriptor break I/O
    /// safety, as for [`FromRawFd::from_raw_fd`](std::os::unix::io::FromRawFd::from_raw_fd):
    /// when one closes it, the other goes on using a number that the OS may
    /// already have given to a file opened since.
    ///
    /// A descriptor that the process was started with, that its user names by
    /// number and that the program adopts nowhere else meets this.
    ///
    /// # Errors
    ///
    /// [`Error::Adopt`] naming `fd` and what it is: not open, not a socket
    /// (such as a regular file), a socket of another type or family, a socket
    /// that does not listen (such as a connected one), or adopted before;
    /// [`Error::Unsupported`] on Windows.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::io::{AsRawFd, IntoRawFd};
    /// use sockwright::{activation, ListenerBuilder};
    ///
    /// // A listening socket at a number with no owner, as a parent process passes it.
    /// let fd = ListenerBuilder::new().listen("127.0.0.1:0")?.into_raw_fd();
    /// // SAFETY: `into_raw_fd` gave up the only owner of `fd`.
    /// let listener = unsafe { activation::tcp_listener(fd)? };
    /// println!("adopted {}", listener.local_addr()?);
    ///
    /// let udp = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// // SAFETY: a UDP socket is not what is asked for: it is only inspected.
    /// let err = unsafe { activation::tcp_listener(udp.as_raw_fd()) }.unwrap_err();
    /// assert!(err.to_string().ends_with(
    ///     "it is an IPv4 datagram socket; a listening TCP socket was asked for"
    /// ), "{err}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn tcp_listener(fd) -> TcpListener = Want::TcpListener;

    /// Adopts descriptor `fd` as a UDP socket, after checking that it is an
    /// IPv4 or IPv6 datagram socket; as [`tcp_listener`] describes.
    ///
    /// # Errors
    ///
    /// As for [`tcp_listener`], for a UDP socket.
    ///
    /// # Safety
    ///
    /// As for [`tcp_listener`], for a UDP socket.
    ///
    /// # Examples
    ///
    /// ```
    /// // SAFETY: -1 is never an open descriptor.
    /// assert!(unsafe { sockwright::activation::udp_socket(-1) }.is_err());
    /// ```
    pub unsafe fn udp_socket(fd) -> UdpSocket = Want::Udp;

    /// Adopts descriptor `fd` as a Unix-domain listener, after checking that it
    /// is a listening Unix stream or seqpacket socket; as [`tcp_listener`]
    /// describes.
    ///
    /// # Errors
    ///
    /// As for [`tcp_listener`], for a Unix listener.
    ///
    /// # Safety
    ///
    /// As for [`tcp_listener`], for a Unix listener.
    ///
    /// # Examples
    ///
    /// ```
    /// // SAFETY: -1 is never an open descriptor.
    /// assert!(unsafe { sockwright::activation::unix_listener(-1) }.is_err());
    /// ```
    pub unsafe fn unix_listener(fd) -> UnixListener = Want::UnixListener;

    /// Adopts descriptor `fd` as a Unix-domain datagram socket; as
    /// [`tcp_listener`] describes.
    ///
    /// # Errors
    ///
    /// As for [`tcp_listener`], for a Unix datagram socket.
    ///
    /// # Safety
    ///
    /// As for [`tcp_listener`], for a Unix datagram socket.
    ///
    /// # Examples
    ///
    /// ```
    /// // SAFETY: -1 is never an open descriptor.
    /// assert!(unsafe { sockwright::activation::unix_datagram(-1) }.is_err());
    /// ```
    pub unsafe fn unix_datagram(fd) -> UnixDatagram = Want::UnixDatagram;
}

/// Adopts descriptor `fd` as whichever listener it is, TCP or Unix; as
/// [`tcp_listener`] describes.
///
/// # Errors
///
/// As for [`tcp_listener`], for a listening TCP or Unix socket.
///
/// # Safety
///
/// As for [`tcp_listener`], for a listening TCP or Unix socket.
///
/// # Examples
///
/// ```
/// // SAFETY: -1 is never an open descriptor.
/// assert!(unsafe { sockwright::activation::listener(-1) }.is_err());
/// ```
#[allow(unsafe_code)]
pub unsafe fn listener(fd: i32) -> Result<Listener> {
    // SAFETY: the caller's promise, passed on.
    unsafe { adopt_listener(fd, None) }
}

/// [`adopt`] as whichever listener `fd` is.
///
/// # Safety
///
/// As for [`tcp_listener`].
#[cfg(unix)]
#[allow(unsafe_code)]
pub(super) unsafe fn adopt_listener(fd: i32, name: Option<&str>) -> Result<Listener> {
    // adopt checked the family: an IP listener or a Unix one.
    // SAFETY: the caller's promise, passed on.
    let (owned, family) = unsafe { adopt(fd, name, Want::AnyListener) }?;
    Ok(if family == crate::sys::AF_UNIX {
        Listener::Unix(owned.into())
    } else {
        Listener::Tcp(owned.into())
    })
}

#[cfg(not(unix))]
#[allow(unsafe_code)]
pub(super) unsafe fn adopt_listener(_fd: i32, _name: Option<&str>) -> Result<Listener> {
    Err(Error::Unsupported {
        what: "adopting a socket by descriptor number",
    })
}

/// The kind of socket a caller asked for.
#[cfg(unix)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    TcpListener,
    Udp,
    UnixListener,
    UnixDatagram,
    AnyListener,
}

#[cfg(unix)]
impl Want {
    fn describe(self) -> &'static str {
        match self {
            Want::TcpListener => "a listening TCP socket",
            Want::Udp => "a UDP socket",
            Want::UnixListener => "a listening Unix-domain socket",
            Want::UnixDatagram => "a Unix-domain datagram socket",
            Want::AnyListener => "a listening TCP or Unix-domain socket",
        }
    }

    fn fits(self, ty: i32, family: i32, listening: bool) -> bool {
        use crate::sys::{AF_INET, AF_INET6, AF_UNIX, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM};
        let inet = family == AF_INET || family == AF_INET6;
        let unix = family == AF_UNIX;
        let unix_stream = unix && (ty == SOCK_STREAM || ty == SOCK_SEQPACKET);
        match self {
            Want::TcpListener => inet && ty == SOCK_STREAM && listening,
            Want::Udp => inet && ty == SOCK_DGRAM,
            Want::UnixListener => unix_stream && listening,
            Want::UnixDatagram => unix && ty == SOCK_DGRAM,
            Want::AnyListener => ((inet && ty == SOCK_STREAM) || unix_stream) && listening,
        }
    }
}

/// A socket as a person describes it: `a listening IPv4 stream socket`.
#[cfg(unix)]
fn describe_socket(ty: i32, family: i32, listening: bool) -> String {
    use crate::sys::{AF_INET, AF_INET6, AF_UNIX, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM};
    let family = match family {
        f if f == AF_INET => "IPv4".to_owned(),
        f if f == AF_INET6 => "IPv6".to_owned(),
        f if f == AF_UNIX => "Unix-domain".to_owned(),
        f => format!("family {f}"),
    };
    let ty = match ty {
        t if t == SOCK_STREAM => "stream".to_owned(),
        t if t == SOCK_DGRAM => "datagram".to_owned(),
        t if t == SOCK_SEQPACKET => "seqpacket".to_owned(),
        t => format!("type {t}"),
    };
    let state = match (listening, ty.as_str()) {
        (true, _) => "a listening ",
        (false, "stream" | "seqpacket") => "a non-listening ",
        // "an IPv4", "a Unix-domain".
        (false, _) if family.starts_with('I') => "an ",
        (false, _) => "a ",
    };
    format!("{state}{family} {ty} socket")
}

/// Numbers this process has adopted: each is adopted at most once, so no
/// two std values ever own the same descriptor.
#[cfg(unix)]
static CLAIMED: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

#[cfg(unix)]
pub(super) fn claimed(fd: i32) -> bool {
    CLAIMED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .contains(&fd)
}

#[cfg(not(unix))]
pub(super) fn claimed(_fd: i32) -> bool {
    false
}

/// Checks `fd` against `want`, then takes it: claimed, close-on-exec, owned.
/// Returns the descriptor, owned, and its family.
///
/// # Safety
///
/// As for [`tcp_listener`].
#[cfg(unix)]
#[allow(unsafe_code)]
pub(super) unsafe fn adopt(
    fd: i32,
    name: Option<&str>,
    want: Want,
) -> Result<(std::os::unix::io::OwnedFd, i32)> {
    let fail = |reason: String, source: Option<std::io::Error>| Error::Adopt {
        fd,
        name: name.map(str::to_owned),
        reason,
        error: source,
    };
    let facts = crate::sys::fd_facts(fd).map_err(|e| {
        if e.raw_os_error() == Some(libc::EBADF) {
            fail("not an open file descriptor".to_owned(), Some(e))
        } else {
            fail(format!("cannot inspect it: {e}"), Some(e))
        }
    })?;
    let (shown, family) = match facts {
        crate::sys::FdFacts::Other(what) => {
            return Err(fail(
                format!(
                    "it is {what}, not a socket; {} was asked for",
                    want.describe()
                ),
                None,
            ));
        }
        crate::sys::FdFacts::Socket {
            ty,
            family,
            listening,
        } => {
            let shown = describe_socket(ty, family, listening);
            if !want.fits(ty, family, listening) {
                return Err(fail(
                    format!("it is {shown}; {} was asked for", want.describe()),
                    None,
                ));
            }
            (shown, family)
        }
    };
    {
        let mut claimed = CLAIMED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if claimed.contains(&fd) {
            return Err(fail(
                "it was adopted before: a descriptor is adopted once".to_owned(),
                None,
            ));
        }
        claimed.push(fd);
    }
    // SAFETY: `fd` is a socket of the kind asked for, claimed just now;
    // the caller promised that nothing else owns it.
    match unsafe { crate::sys::adopt_fd(fd) } {
        Ok(owned) => {
            log::debug!(target: crate::LISTENER_LOG, "adopted fd {fd}{}: {shown}", super::NameSuffix(name));
            Ok((owned, family))
        }
        Err(e) => {
            CLAIMED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .retain(|&c| c != fd);
            Err(fail(
                format!("set close-on-exec (FD_CLOEXEC): {e}"),
                Some(e),
            ))
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn sockets_are_described_as_a_person_would() {
        use crate::sys::*;
        let cases = [
            (SOCK_STREAM, AF_INET, true, "a listening IPv4 stream socket"),
            (
                SOCK_STREAM,
                AF_INET6,
                false,
                "a non-listening IPv6 stream socket",
            ),
            (SOCK_DGRAM, AF_INET, false, "an IPv4 datagram socket"),
            (SOCK_DGRAM, AF_UNIX, false, "a Unix-domain datagram socket"),
            (SOCK_DGRAM, 16, false, "a family 16 datagram socket"),
        ];
        for (ty, family, listening, shown) in cases {
            assert_eq!(describe_socket(ty, family, listening), shown);
        }
    }
}
