//! Who is at the other end of a Unix socket.

use super::UnixConnection;
use crate::{Error, Result};

/// The credentials of a Unix socket's peer, as the kernel recorded them
/// when the connection was made (for a connecting client) or when the
/// server called `listen` (for a listening one): [`peer_cred`] returns it.
///
/// # Examples
///
/// ```
/// use std::os::unix::net::UnixStream;
///
/// let (ours, _theirs) = UnixStream::pair()?;
/// let cred = sockwright::peer_cred(&ours)?;
/// // Both ends are this process.
/// # #[cfg(any(target_os = "linux", target_os = "macos"))]
/// assert_eq!(cred.pid(), Some(std::process::id()));
/// println!("uid {} gid {}", cred.uid(), cred.gid());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(unix)))]
pub struct PeerCred {
    uid: u32,
    gid: u32,
    pid: Option<u32>,
}

impl PeerCred {
    /// The peer's effective user id.
    ///
    /// # Examples
    ///
    /// ```
    /// let (ours, _theirs) = std::os::unix::net::UnixStream::pair()?;
    /// let uid = sockwright::peer_cred(&ours)?.uid();
    /// println!("the peer runs as uid {uid}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// The peer's effective group id.
    ///
    /// # Examples
    ///
    /// ```
    /// let (ours, _theirs) = std::os::unix::net::UnixStream::pair()?;
    /// let gid = sockwright::peer_cred(&ours)?.gid();
    /// println!("the peer runs as gid {gid}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn gid(&self) -> u32 {
        self.gid
    }

    /// The peer's process id, where the platform gives it.
    ///
    /// # Platform-specific behavior
    ///
    /// Linux, Android and OpenBSD (`SO_PEERCRED`), Apple's systems
    /// (`LOCAL_PEERPID`) and FreeBSD 13 and later (`LOCAL_PEERCRED`) give
    /// it; DragonFly, NetBSD and older FreeBSD do not, and this is `None`
    /// there. On Linux it is also `None` when the peer's process is not in
    /// this process' PID namespace.
    ///
    /// A process id can be reused once its process has ended; on Linux,
    /// [`peer_pidfd`](crate::peer_pidfd) names the process itself.
    ///
    /// # Examples
    ///
    /// ```
    /// let (ours, _theirs) = std::os::unix::net::UnixStream::pair()?;
    /// if let Some(pid) = sockwright::peer_cred(&ours)?.pid() {
    ///     println!("the peer is process {pid}");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }
}

/// The credentials of the peer of a connected Unix stream: user, group and,
/// where the platform gives it, process.
///
/// Takes std's [`UnixStream`](std::os::unix::net::UnixStream), tokio's
/// (with the `tokio` feature), or an endpoint's [`Stream`](crate::Stream)
/// or `AsyncStream` (`tokio` feature) (see [`UnixConnection`]).
///
/// Maps to `getsockopt(SOL_SOCKET, SO_PEERCRED)` on Linux, Android and
/// OpenBSD; `getpeereid(3)` on macOS, iOS, FreeBSD, DragonFly and NetBSD,
/// with `getsockopt(SOL_LOCAL, LOCAL_PEERPID)` for the pid on Apple's
/// systems and `getsockopt(SOL_LOCAL, LOCAL_PEERCRED)` on FreeBSD.
///
/// # Errors
///
/// - [`Error::InvalidConfig`] for an endpoint stream that holds a TCP
///   connection;
/// - [`Error::Unsupported`] where the platform has no such call (illumos,
///   Solaris, ...);
/// - [`Error::GetOption`] when the call fails, such as for a socket that is
///   not connected.
///
/// # Platform-specific behavior
///
/// See [`PeerCred::pid`] for where the pid is known. Windows has no std
/// Unix stream, so this function does not exist there.
///
/// # Examples
///
/// ```
/// use std::os::unix::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("sockwright-cred-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("sock");
/// # let _ = std::fs::remove_file(&path);
/// let listener = UnixListener::bind(&path)?;
/// let _client = UnixStream::connect(&path)?;
/// let (served, _) = listener.accept()?;
/// let cred = sockwright::peer_cred(&served)?;
/// assert_eq!(cred.uid(), std::fs::metadata(&path).map(|m| {
///     use std::os::unix::fs::MetadataExt;
///     m.uid()
/// })?);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn peer_cred<S: UnixConnection + ?Sized>(stream: &S) -> Result<PeerCred> {
    let (socket, addr) = stream.unix_socket()?;
    if !crate::platform::has::PEER_CRED {
        return Err(Error::Unsupported {
            what: "reading a Unix peer's credentials",
        });
    }
    let ids = crate::sys::peer_ids(&socket).map_err(|error| Error::GetOption {
        addr,
        option: crate::sys::PEER_CRED_CALL,
        error,
    })?;
    Ok(PeerCred {
        uid: ids.uid,
        gid: ids.gid,
        pid: ids.pid,
    })
}

cfg_linux! {
/// A pidfd of the peer of a connected Unix stream: a descriptor that refers
/// to the peer's process itself, not to its pid, so it cannot be confused
/// with a later process that reuses the number (see `pidfd_open(2)`). It
/// is close-on-exec.
///
/// Maps to `getsockopt(SOL_SOCKET, SO_PEERPIDFD)` (Linux 6.5).
///
/// # Errors
///
/// - [`Error::InvalidConfig`] for an endpoint stream that holds a TCP
///   connection;
/// - [`Error::GetOption`] when the call fails; its [`kind`](Error::kind) is
///   [`Unsupported`](std::io::ErrorKind::Unsupported) on a kernel older
///   than 6.5, and the OS error (`ESRCH`) when the peer's process has
///   already ended.
///
/// # Examples
///
/// ```
/// use std::os::fd::AsRawFd;
///
/// let (ours, _theirs) = std::os::unix::net::UnixStream::pair()?;
/// match sockwright::peer_pidfd(&ours) {
///     Ok(pidfd) => println!("peer pidfd {}", pidfd.as_raw_fd()),
///     Err(e) if e.kind() == std::io::ErrorKind::Unsupported => println!("{e}"),
///     Err(e) => return Err(e.into()),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn peer_pidfd<S: UnixConnection + ?Sized>(stream: &S) -> Result<std::os::fd::OwnedFd> {
    let (socket, addr) = stream.unix_socket()?;
    crate::sys::peer_pidfd(&socket).map_err(|error| Error::GetOption {
        addr,
        option: "SO_PEERPIDFD",
        error,
    })
}
}
