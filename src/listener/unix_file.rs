//! The file of a Unix socket bound to a path: the stale check and its lock
//! ([`ListenerBuilder::remove_stale_socket`](crate::ListenerBuilder::remove_stale_socket)),
//! the mode ([`ListenerBuilder::mode`](crate::ListenerBuilder::mode)), and
//! the words for what is in the way of `bind`.
//!
//! Every look at the path's last name, and every change to it, goes through
//! one handle on its directory ([`crate::sys::Dir`]) and never follows a
//! symbolic link: another user who can write to a directory on the way
//! cannot make this code chmod or remove a file elsewhere.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::OwnedFd;
use std::path::Path;
use std::time::{Duration, Instant};

use log::debug;
use socket2::Socket;

use crate::sys::{Dir, FileFacts, FileKind};
use crate::{Address, Error, LISTENER_LOG, Result};

/// How long a start waits for the lock file that another start holds.
const LOCK_WAIT: Duration = Duration::from_secs(5);
/// The longest pause between two tries of that lock; the first is 1 ms,
/// and each next one twice as long, up to this.
const LOCK_RETRY: Duration = Duration::from_millis(10);

/// Held from the stale check until the socket listens: the lock file's
/// `flock`, released when this is dropped. Empty unless
/// `remove_stale_socket` is on.
#[derive(Debug)]
pub(crate) struct StartLock {
    _lock: Option<OwnedFd>,
}

impl StartLock {
    /// No lock: nothing to release.
    pub(crate) fn none() -> StartLock {
        StartLock { _lock: None }
    }
}

/// The directory of a socket path, opened once, and the name in it.
#[derive(Debug)]
pub(crate) struct SocketFile {
    dir: Dir,
    name: OsString,
}

/// Who holds a socket file, as far as this process can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// A socket listens on it.
    Listening,
    /// A datagram socket is bound to it (only the kernel's table tells, so
    /// only `cfg_linux!` code makes it).
    #[allow(dead_code)]
    Datagram,
    /// A stream socket is bound to it and does not listen yet (only the
    /// kernel's table tells, so only `cfg_linux!` code makes it).
    #[allow(dead_code)]
    BoundNotListening,
    /// No socket holds it: stale.
    Nobody,
    /// The check could not tell; the file is left in place.
    Unknown,
}

impl SocketFile {
    /// Opens the directory of `path` (`open(O_DIRECTORY)`; `.` for a bare
    /// name). A path whose last part names no file (`/`, `..`, a trailing
    /// slash) is invalid here.
    pub(crate) fn open(path: &Path, shown: &Address) -> Result<SocketFile> {
        let bytes = path.as_os_str().as_bytes();
        let (dir, name) = match bytes.iter().rposition(|&b| b == b'/') {
            Some(0) => (&b"/"[..], &bytes[1..]),
            Some(at) => (&bytes[..at], &bytes[at + 1..]),
            None => (&b"."[..], bytes),
        };
        if name.is_empty() || name == b"." || name == b".." {
            return Err(Error::invalid(format!(
                "Unix socket path {shown} names no file: its last part is empty, . or .."
            )));
        }
        let dir = Dir::open(Path::new(OsStr::from_bytes(dir))).map_err(|source| Error::Bind {
            addr: shown.clone(),
            error: io::Error::new(
                source.kind(),
                format!("open its directory: {}", crate::error::Cause(&source)),
            ),
        })?;
        Ok(SocketFile {
            dir,
            name: OsStr::from_bytes(name).to_os_string(),
        })
    }

    /// Takes the start lock, `NAME.lock` beside the socket file, waiting at
    /// most [`LOCK_WAIT`] for another start that holds it.
    pub(crate) fn lock(&self, shown: &Address) -> Result<StartLock> {
        let mut lock_name = self.name.clone();
        lock_name.push(".lock");
        let lock_error = |kind: io::ErrorKind, what: String| Error::Bind {
            addr: shown.clone(),
            error: io::Error::new(kind, what),
        };
        let shown_lock = Path::new(&lock_name).display().to_string();
        let fd = self.dir.open_lock(&lock_name).map_err(|e| {
            lock_error(
                e.kind(),
                format!(
                    "open lock file {shown_lock} beside it: {}",
                    crate::error::Cause(&e)
                ),
            )
        })?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match crate::sys::try_lock(&fd) {
                Ok(true) => {
                    log::trace!(target: LISTENER_LOG, "holding lock file {shown_lock} for {shown}");
                    return Ok(StartLock { _lock: Some(fd) });
                }
                Ok(false) if started.elapsed() < LOCK_WAIT => {
                    if pause == Duration::from_millis(1) {
                        debug!(
                            target: LISTENER_LOG,
                            "waiting up to {LOCK_WAIT:?} for lock file {shown_lock}, held by another start on {shown}"
                        );
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(LOCK_RETRY);
                }
                Ok(false) => {
                    return Err(lock_error(
                        io::ErrorKind::TimedOut,
                        format!(
                            "another process held lock file {shown_lock} for {LOCK_WAIT:?} (a start on the same path that does not finish); timed out"
                        ),
                    ));
                }
                Err(e) => {
                    return Err(lock_error(
                        e.kind(),
                        format!("lock {shown_lock}: {}", crate::error::Cause(&e)),
                    ));
                }
            }
        }
    }

    /// Removes the file if it is a socket file that no socket holds: two
    /// `fstatat` that agree on the file, the holder check between them, then
    /// `unlinkat`. A socket file that a socket holds is an error that says
    /// who holds it; anything else is left for `bind` to report.
    pub(crate) fn remove_if_stale(
        &self,
        sockaddr: &socket2::SockAddr,
        shown: &Address,
    ) -> Result<()> {
        let bind_error = |source: io::Error| Error::Bind {
            addr: shown.clone(),
            error: source,
        };
        let Some(found) = self.dir.stat(&self.name).map_err(bind_error)? else {
            log::trace!(target: LISTENER_LOG, "no file at {shown}; nothing to remove");
            return Ok(());
        };
        if found.kind != FileKind::Socket {
            log::trace!(target: LISTENER_LOG, "{shown} is not a socket file; left for bind to report");
            return Ok(());
        }
        match held(&found, sockaddr, shown) {
            Held::Nobody => {}
            Held::Unknown => return Ok(()),
            held => return Err(bind_error(held_error(held))),
        }
        match self.dir.stat(&self.name).map_err(bind_error)? {
            Some(again) if again.kind == FileKind::Socket && again.id == found.id => {}
            _ => {
                debug!(target: LISTENER_LOG, "the socket file at {shown} changed during the check; left in place");
                return Ok(());
            }
        }
        match self.dir.unlink(&self.name) {
            Ok(()) => {
                debug!(target: LISTENER_LOG, "removed stale socket file {shown}");
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(bind_error(source)),
        }
    }

    /// Gives the file that `socket` was just bound to exactly `mode`, without
    /// following the path again (see [`crate::sys::Dir::chmod_socket_file`]).
    /// On failure the file is removed if it is still ours; an entry that is
    /// not ours is left as it is.
    pub(crate) fn set_mode(&self, socket: &Socket, mode: u32, shown: &Address) -> Result<()> {
        let chmod_error = |source: io::Error| Error::SetOption {
            addr: shown.clone(),
            option: "chmod",
            error: source,
        };
        let after = self.dir.stat(&self.name).map_err(chmod_error)?;
        if crate::platform::has::LINUX
            && matches!(after, Some(f) if f.kind == FileKind::Socket && f.mode == mode)
        {
            // fchmod before bind gave it: the umask removed nothing.
            debug!(target: LISTENER_LOG, "{shown} has mode {mode:#o} from bind");
            return Ok(());
        }
        let ours = our_file(socket, shown);
        match self.chmod(mode, ours) {
            Ok(true) => {
                debug!(target: LISTENER_LOG, "set mode {mode:#o} on {shown}");
                Ok(())
            }
            // Not our file: another process replaced the entry during bind.
            // Nothing is changed, and our socket is closed by the caller.
            Ok(false) => Err(chmod_error(io::Error::other(
                "the directory entry changed during bind (another process replaced the socket file); nothing was changed",
            ))),
            Err(e) => {
                // The file is ours, made by this bind: do not leave it behind.
                let made = ours.or(after
                    .filter(|f| f.kind == FileKind::Socket)
                    .map(|f| (f.id.dev, f.id.ino)));
                self.remove_ours(made);
                Err(chmod_error(e))
            }
        }
    }

    cfg_linux! {
        fn chmod(&self, mode: u32, ours: Option<(u64, u64)>) -> io::Result<bool> {
            self.dir.chmod_socket_file(&self.name, mode, ours)
        }
    }

    cfg_not_linux! {
        fn chmod(&self, mode: u32, _: Option<(u64, u64)>) -> io::Result<bool> {
            self.dir.chmod_socket_file(&self.name, mode)
        }
    }

    /// Removes the entry if it is still the socket file `made`.
    fn remove_ours(&self, made: Option<(u64, u64)>) {
        let Some((dev, ino)) = made else {
            return;
        };
        if let Ok(Some(now)) = self.dir.stat(&self.name) {
            if now.kind == FileKind::Socket
                && now.id.dev == dev
                && (now.id.ino == ino || now.id.ino & 0xffff_ffff == ino)
            {
                let _ = self.dir.unlink(&self.name);
            }
        }
    }
}

cfg_linux! {
    /// The file (device, inode) our socket is bound to, from the kernel's
    /// table of sockets (Linux); `None` where it cannot be read.
    fn our_file(socket: &Socket, shown: &Address) -> Option<(u64, u64)> {
        match crate::sys::bound_file(socket) {
            Ok(Some(file)) => Some(file),
            Ok(None) => None,
            Err(e) => {
                debug!(
                    target: LISTENER_LOG,
                    "sock_diag cannot say which file {shown}'s socket is bound to ({e}); the mode goes to the entry if it is a socket file"
                );
                None
            }
        }
    }
}

cfg_not_linux! {
    fn our_file(_: &Socket, _: &Address) -> Option<(u64, u64)> {
        None
    }
}

cfg_linux! {
    /// Who holds the socket file `found`. Linux reads the kernel's table of
    /// sockets; where that cannot be read, and on other platforms, a
    /// nonblocking `connect` probes it.
    fn held(found: &FileFacts, sockaddr: &socket2::SockAddr, shown: &Address) -> Held {
        match crate::sys::holders_of(found.id.dev, found.id.ino) {
            Ok(holders) if holders.iter().any(|h| h.listening) => Held::Listening,
            Ok(holders) if holders.iter().any(|h| h.datagram) => Held::Datagram,
            Ok(holders) if !holders.is_empty() => Held::BoundNotListening,
            // No socket of this network namespace holds it. One of another
            // namespace still can: the probe tells a listening one apart; a
            // stale file refuses it, and no server sees it.
            Ok(_) => probe(sockaddr, shown),
            Err(e) => {
                debug!(
                    target: LISTENER_LOG,
                    "sock_diag cannot list Unix sockets ({e}); probing {shown} with a connect"
                );
                probe(sockaddr, shown)
            }
        }
    }
}

cfg_not_linux! {
    fn held(_: &FileFacts, sockaddr: &socket2::SockAddr, shown: &Address) -> Held {
        probe(sockaddr, shown)
    }
}

/// A nonblocking stream `connect`: refused is stale, connected is a live
/// server (which sees one connection that closes at once).
fn probe(sockaddr: &socket2::SockAddr, shown: &Address) -> Held {
    let probe = Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)
        .and_then(|probe| probe.set_nonblocking(true).map(|()| probe))
        .and_then(|probe| probe.connect(sockaddr));
    match probe {
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Held::Nobody,
        Ok(()) => Held::Listening,
        Err(e) => {
            debug!(target: LISTENER_LOG, "socket file {shown} left in place: connect says {e}");
            Held::Unknown
        }
    }
}

/// The bind error for a socket file that a socket holds.
fn held_error(held: Held) -> io::Error {
    let what = match held {
        Held::Listening => "a server is listening on this socket file",
        Held::Datagram => "a datagram socket of a running process is bound to this socket file",
        Held::BoundNotListening => {
            "a process has bound this socket file and does not listen on it yet"
        }
        Held::Nobody | Held::Unknown => "a socket file is in the way",
    };
    io::Error::new(
        io::ErrorKind::AddrInUse,
        format!("{what} (stop that process or choose another path); address in use"),
    )
}

/// A `bind` that failed with `EADDRINUSE` because a file is at the path
/// says what file: "a regular file is in the way", "a server is listening
/// on this socket file". Reads the entry with `lstat` (no link followed) and,
/// for a socket file on Linux, the kernel's table of sockets; it connects
/// nothing and changes nothing.
pub(crate) fn in_the_way(path: &Path, err: Error) -> Error {
    match err {
        Error::Bind {
            addr,
            error: source,
        } => Error::Bind {
            error: what_is_in_the_way(path, &source).unwrap_or(source),
            addr,
        },
        other => other,
    }
}

/// The error that says what file at `path` made `bind` fail with
/// `source`; `None` where the failure is not `EADDRINUSE` or nothing
/// known is there, and the OS error stands.
fn what_is_in_the_way(path: &Path, source: &io::Error) -> Option<io::Error> {
    use std::fs::FileType;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    if source.kind() != io::ErrorKind::AddrInUse {
        return None;
    }
    let meta = std::fs::symlink_metadata(path).ok()?;
    let kind = meta.file_type();
    if kind.is_socket() {
        return Some(socket_in_the_way(meta.dev(), meta.ino()));
    }
    /// Whether a file is of one kind, and how a person names that kind.
    type Kind = (fn(&FileType) -> bool, &'static str);
    let kinds: [Kind; 6] = [
        (FileType::is_file, "a regular file"),
        (FileType::is_dir, "a directory"),
        (FileType::is_symlink, "a symbolic link"),
        (FileType::is_char_device, "a character device"),
        (FileType::is_block_device, "a block device"),
        (FileType::is_fifo, "a named pipe (FIFO)"),
    ];
    let (_, what) = kinds.iter().find(|(is, _)| is(&kind))?;
    Some(io::Error::new(
        io::ErrorKind::AddrInUse,
        format!(
            "{what} is in the way (a socket file cannot be made there; remove it or choose another path)"
        ),
    ))
}

cfg_linux! {
    fn socket_in_the_way(dev: u64, ino: u64) -> io::Error {
        let holders = crate::sys::holders_of(dev, ino).unwrap_or_default();
        if holders.iter().any(|h| h.listening) {
            held_error(Held::Listening)
        } else if holders.iter().any(|h| h.datagram) {
            held_error(Held::Datagram)
        } else if !holders.is_empty() {
            held_error(Held::BoundNotListening)
        } else {
            stale_in_the_way()
        }
    }
}

cfg_not_linux! {
    fn socket_in_the_way(_: u64, _: u64) -> io::Error {
        io::Error::new(
            io::ErrorKind::AddrInUse,
            "a socket file is in the way (a live server's, or a stale one that remove_stale_socket(true) removes); address in use",
        )
    }
}

cfg_linux! {
    fn stale_in_the_way() -> io::Error {
        io::Error::new(
            io::ErrorKind::AddrInUse,
            "a socket file that no socket here holds is in the way (a stale one: remove_stale_socket(true) removes it); address in use",
        )
    }
}
