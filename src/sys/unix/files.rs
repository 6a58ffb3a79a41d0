//! Unix backend, the files of Unix sockets: a directory opened once and
//! the calls on one name in it, locks, and (Linux) the kernel's table of
//! Unix sockets (`NETLINK_SOCK_DIAG`).

use std::io;

use std::os::unix::io::AsRawFd;

#[cfg(any(target_os = "linux", target_os = "android"))]
use socket2::Socket;

use super::syscall;

/// What kind of file a directory entry is (`st_mode & S_IFMT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Socket,
    Regular,
    Directory,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Other,
}

/// The facts of one file that the Unix socket file code compares: its kind,
/// its identity and its permission bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileFacts {
    pub(crate) kind: FileKind,
    pub(crate) id: FileId,
    pub(crate) mode: u32,
}

/// Which file a file is: two names with the same device and inode name
/// the same file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileId {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
}

#[allow(clippy::unnecessary_cast)]
fn facts(st: &libc::stat) -> FileFacts {
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFSOCK => FileKind::Socket,
        libc::S_IFREG => FileKind::Regular,
        libc::S_IFDIR => FileKind::Directory,
        libc::S_IFLNK => FileKind::Symlink,
        libc::S_IFCHR => FileKind::CharDevice,
        libc::S_IFBLK => FileKind::BlockDevice,
        libc::S_IFIFO => FileKind::Fifo,
        _ => FileKind::Other,
    };
    FileFacts {
        kind,
        id: FileId {
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
        },
        mode: (st.st_mode as u32) & 0o7777,
    }
}

/// A file name for the `*at` calls: the bytes of `name` and a NUL.
fn c_name(name: &std::ffi::OsStr) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(name.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in a file name"))
}

/// A directory opened once (`open(O_RDONLY | O_DIRECTORY | O_CLOEXEC)`), so
/// that every look at a name in it, and every change to it, concerns that
/// directory, whatever happens to the path that led to it afterwards: the
/// `*at` calls (`fstatat`, `unlinkat`, `openat`) resolve only the last
/// name, and do not follow it where it is a symbolic link.
#[derive(Debug)]
pub(crate) struct Dir {
    fd: std::os::unix::io::OwnedFd,
}

impl Dir {
    /// Opens `path` (symbolic links in it are followed, as `bind` follows them).
    #[allow(unsafe_code)]
    pub(crate) fn open(path: &std::path::Path) -> io::Result<Dir> {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::io::FromRawFd;

        let path = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in a path"))?;
        // SAFETY: `path` is a NUL-terminated string that lives across the
        // call; open reads it and returns a new descriptor or -1.
        let fd = syscall(unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        })?;
        // SAFETY: `fd` was just returned by open and nothing else owns it.
        Ok(Dir {
            fd: unsafe { std::os::unix::io::OwnedFd::from_raw_fd(fd) },
        })
    }

    /// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`: the entry itself (a
    /// symbolic link is reported as one); `None` where there is none.
    #[allow(unsafe_code)]
    pub(crate) fn stat(&self, name: &std::ffi::OsStr) -> io::Result<Option<FileFacts>> {
        let name = c_name(name)?;
        // SAFETY: an all-zero `stat` is a valid value of this C struct.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: the directory descriptor is open for the borrow of `self`,
        // `name` is NUL-terminated, and `st` is writable; fstatat writes
        // one `stat` there.
        let rc = unsafe {
            libc::fstatat(
                self.fd.as_raw_fd(),
                name.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        match syscall(rc) {
            Ok(_) => Ok(Some(facts(&st))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `unlinkat(dir, name, 0)`: removes the entry (never a directory, and
    /// a symbolic link itself, not what it points to).
    #[allow(unsafe_code)]
    pub(crate) fn unlink(&self, name: &std::ffi::OsStr) -> io::Result<()> {
        let name = c_name(name)?;
        // SAFETY: the descriptor is open for the borrow of `self` and `name`
        // is NUL-terminated; unlinkat only reads it.
        syscall(unsafe { libc::unlinkat(self.fd.as_raw_fd(), name.as_ptr(), 0) }).map(drop)
    }

    /// Opens (creating it, mode 0o600, where it is missing) the lock file
    /// `name`: `openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK
    /// | O_CLOEXEC)`, then `fstat` on the handle must say regular file (a
    /// FIFO or device put there is refused, and O_NONBLOCK keeps its open
    /// from waiting).
    #[allow(unsafe_code)]
    pub(crate) fn open_lock(
        &self,
        name: &std::ffi::OsStr,
    ) -> io::Result<std::os::unix::io::OwnedFd> {
        use std::os::unix::io::FromRawFd;

        let name = c_name(name)?;
        let flags =
            libc::O_RDWR | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
        // SAFETY: the descriptor is open for the borrow of `self`, `name` is
        // NUL-terminated; the mode is passed as the variadic argument
        // O_CREAT reads, promoted to an unsigned int.
        let fd = syscall(unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                name.as_ptr(),
                flags,
                0o600 as libc::c_uint,
            )
        })?;
        // SAFETY: `fd` was just returned by openat and nothing else owns it.
        let fd = unsafe { std::os::unix::io::OwnedFd::from_raw_fd(fd) };
        if fstat(fd.as_raw_fd())?.kind != FileKind::Regular {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the lock file is not a regular file",
            ));
        }
        Ok(fd)
    }

    /// Sets `mode` on the socket file `name` without following a symbolic
    /// link: `fchmodat(dir, name, mode, AT_SYMLINK_NOFOLLOW)` after an
    /// `fstatat` that says socket file; `Ok(false)`, and nothing changed,
    /// where the entry is not a socket file.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    #[allow(unsafe_code)]
    pub(crate) fn chmod_socket_file(&self, name: &std::ffi::OsStr, mode: u32) -> io::Result<bool> {
        let Some(found) = self.stat(name)? else {
            return Ok(false);
        };
        if found.kind != FileKind::Socket {
            return Ok(false);
        }
        let cname = c_name(name)?;
        // SAFETY: the descriptor is open for the borrow of `self` and `name`
        // is NUL-terminated; fchmodat reads it and changes one file's mode.
        syscall(unsafe {
            libc::fchmodat(
                self.fd.as_raw_fd(),
                cname.as_ptr(),
                mode as libc::mode_t,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        })?;
        Ok(true)
    }

    /// Sets `mode` on the socket file `name` only if it is `ours` (the file
    /// our socket is bound to, by device and inode) or, where that is not
    /// known (`None`), a socket file (`ours` has the low 32 bits of the inode,
    /// all that the kernel's table reports): `openat(dir, name, O_PATH |
    /// O_NOFOLLOW)`, `fstat` on that handle, then `chmod` of
    /// `/proc/self/fd/N`, which reaches exactly the inode of the handle
    /// (`fchmod` on an `O_PATH` handle is `EBADF`). An entry that is not
    /// the right file gives `Ok(false)`, and nothing is changed.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[allow(unsafe_code)]
    pub(crate) fn chmod_socket_file(
        &self,
        name: &std::ffi::OsStr,
        mode: u32,
        ours: Option<(u64, u64)>,
    ) -> io::Result<bool> {
        use std::os::unix::io::FromRawFd;

        let cname = c_name(name)?;
        // SAFETY: the descriptor is open for the borrow of `self`, `cname`
        // is NUL-terminated; openat returns a new descriptor or -1.
        let fd = syscall(unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                cname.as_ptr(),
                libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        })?;
        // SAFETY: `fd` was just returned by openat and nothing else owns it.
        let fd = unsafe { std::os::unix::io::OwnedFd::from_raw_fd(fd) };
        let found = fstat(fd.as_raw_fd())?;
        let right = found.kind == FileKind::Socket
            && ours
                .is_none_or(|(dev, ino)| found.id.dev == dev && found.id.ino & 0xffff_ffff == ino);
        if !right {
            return Ok(false);
        }
        let link = std::ffi::CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: `link` is NUL-terminated; chmod reads it. The handle stays
        // open until after the call, so the link names its inode.
        syscall(unsafe { libc::chmod(link.as_ptr(), mode as libc::mode_t) })?;
        Ok(true)
    }
}

/// `fstat(2)` on a descriptor.
#[allow(unsafe_code)]
fn fstat(fd: i32) -> io::Result<FileFacts> {
    // SAFETY: an all-zero `stat` is a valid value of this C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: the caller keeps `fd` open during the call; `st` is writable
    // and fstat writes one `stat` there.
    syscall(unsafe { libc::fstat(fd, &mut st) })?;
    Ok(facts(&st))
}

/// Tries once to take an exclusive lock on the lock file `fd`: `Ok(false)`
/// where another open file holds it. `flock(LOCK_EX | LOCK_NB)`, released
/// when `fd` closes.
#[cfg(not(any(target_os = "solaris", target_os = "illumos")))]
#[allow(unsafe_code)]
pub(crate) fn try_lock(fd: &std::os::unix::io::OwnedFd) -> io::Result<bool> {
    // SAFETY: `fd` is open for the borrow; flock takes no memory of ours.
    match syscall(unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(e),
    }
}

/// Tries once to take an exclusive lock on the lock file `fd`: `Ok(false)`
/// where another process holds it. Solaris and illumos have no `flock`:
/// `fcntl(F_SETLK, F_WRLCK)`, a lock of the process (threads of one process
/// do not exclude each other), released when `fd` closes.
#[cfg(any(target_os = "solaris", target_os = "illumos"))]
#[allow(unsafe_code)]
pub(crate) fn try_lock(fd: &std::os::unix::io::OwnedFd) -> io::Result<bool> {
    // SAFETY: an all-zero `flock` is a valid value of this C struct: the
    // whole file from offset 0.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as _;
    lock.l_whence = libc::SEEK_SET as _;
    // SAFETY: `fd` is open for the borrow, `lock` lives across the call.
    match syscall(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETLK, &lock) }) {
        Ok(_) => Ok(true),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES | libc::EAGAIN)) => Ok(false),
        Err(e) => Err(e),
    }
}

cfg_linux! {
/// One Unix socket that holds a file, from the kernel's table of sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Holder {
    /// The socket is listening (`TCP_LISTEN`).
    pub(crate) listening: bool,
    /// `SOCK_DGRAM`.
    pub(crate) datagram: bool,
}

/// The sockets bound to the file (`dev`, `ino`), read from the kernel's
/// table of Unix sockets in this network namespace (`NETLINK_SOCK_DIAG`,
/// `unix_diag_req` with `UDIAG_SHOW_VFS`, a dump). Connects nothing.
pub(crate) fn holders_of(dev: u64, ino: u64) -> io::Result<Vec<Holder>> {
    let mut found = Vec::new();
    sock_diag(None, |entry| {
        // The kernel reports the low 32 bits of the inode.
        if entry.vfs == Some((dev, ino & 0xffff_ffff)) {
            found.push(Holder {
                listening: entry.state == TCP_LISTEN,
                datagram: entry.kind == libc::SOCK_DGRAM as u8,
            });
        }
    })?;
    Ok(found)
}

/// The file (device, inode) that `socket` is bound to, from the kernel's
/// table (`NETLINK_SOCK_DIAG`, one socket asked for by its inode, which is
/// `fstat(socket).st_ino`); `None` for a socket bound to no file.
pub(crate) fn bound_file(socket: &Socket) -> io::Result<Option<(u64, u64)>> {
    let ino = u32::try_from(fstat(socket.as_raw_fd())?.id.ino)
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    let mut vfs = None;
    sock_diag(Some(ino), |entry| {
        if entry.ino == ino {
            vfs = entry.vfs;
        }
    })?;
    Ok(vfs)
}

const TCP_LISTEN: u8 = 10;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const UDIAG_SHOW_VFS: u32 = 0x2;
const UNIX_DIAG_VFS: u16 = 1;
const NLMSG_HDRLEN: usize = 16;

/// One socket of a `NETLINK_SOCK_DIAG` answer.
struct DiagEntry {
    kind: u8,
    state: u8,
    ino: u32,
    /// The file it is bound to, as `stat` reports its device and inode.
    vfs: Option<(u64, u64)>,
}

fn u16_at(buf: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(buf.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

/// Asks the kernel for its Unix sockets (all of them, or the one whose
/// inode is `ino`) with their files, and calls `each` for every answer.
fn sock_diag(ino: Option<u32>, mut each: impl FnMut(DiagEntry)) -> io::Result<()> {
    use std::io::Read;

    let netlink = Socket::new(
        socket2::Domain::from(libc::AF_NETLINK),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::from(libc::NETLINK_SOCK_DIAG)),
    )?;
    let flags = libc::NLM_F_REQUEST as u16 | if ino.is_none() { libc::NLM_F_DUMP as u16 } else { 0 };
    let mut request = Vec::with_capacity(40);
    request.extend_from_slice(&40u32.to_ne_bytes()); // nlmsg_len
    request.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes()); // nlmsg_type
    request.extend_from_slice(&flags.to_ne_bytes()); // nlmsg_flags
    request.extend_from_slice(&1u32.to_ne_bytes()); // nlmsg_seq
    request.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid
    request.push(libc::AF_UNIX as u8); // sdiag_family
    request.push(0); // sdiag_protocol
    request.extend_from_slice(&0u16.to_ne_bytes()); // pad
    request.extend_from_slice(&u32::MAX.to_ne_bytes()); // udiag_states: all
    request.extend_from_slice(&ino.unwrap_or(0).to_ne_bytes()); // udiag_ino
    request.extend_from_slice(&UDIAG_SHOW_VFS.to_ne_bytes()); // udiag_show
    let cookie = if ino.is_some() { u32::MAX } else { 0 }; // no cookie check
    request.extend_from_slice(&cookie.to_ne_bytes());
    request.extend_from_slice(&cookie.to_ne_bytes());
    // Unconnected, a netlink socket sends to the kernel.
    netlink.send(&request)?;
    let malformed = || io::Error::new(io::ErrorKind::InvalidData, "a malformed sock_diag answer");
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = (&netlink).read(&mut buf)?;
        let mut at = 0;
        while at + NLMSG_HDRLEN <= n {
            let len = u32_at(&buf, at).ok_or_else(malformed)? as usize;
            let kind = u16_at(&buf, at + 4).ok_or_else(malformed)?;
            if len < NLMSG_HDRLEN || at + len > n {
                return Err(malformed());
            }
            let msg = &buf[at + NLMSG_HDRLEN..at + len];
            match kind {
                k if k == libc::NLMSG_DONE as u16 => return Ok(()),
                k if k == libc::NLMSG_ERROR as u16 => {
                    let errno = u32_at(msg, 0).ok_or_else(malformed)? as i32;
                    return if errno == 0 {
                        Ok(())
                    } else {
                        Err(io::Error::from_raw_os_error(-errno))
                    };
                }
                SOCK_DIAG_BY_FAMILY => each(diag_entry(msg).ok_or_else(malformed)?),
                _ => {}
            }
            at += (len + 3) & !3;
        }
        if ino.is_some() {
            // One socket asked for: one answer, no NLMSG_DONE.
            return Ok(());
        }
    }
}

/// Reads one `unix_diag_msg` and its attributes.
fn diag_entry(msg: &[u8]) -> Option<DiagEntry> {
    let kind = *msg.get(1)?;
    let state = *msg.get(2)?;
    let ino = u32_at(msg, 4)?;
    let mut vfs = None;
    let mut at = 16;
    while at + 4 <= msg.len() {
        let len = usize::from(u16_at(msg, at)?);
        let attr = u16_at(msg, at + 2)?;
        if len < 4 || at + len > msg.len() {
            return None;
        }
        if attr == UNIX_DIAG_VFS && len >= 12 {
            let vfs_ino = u32_at(msg, at + 4)?;
            let kernel_dev = u32_at(msg, at + 8)?;
            // The kernel's dev_t is MAJOR << 20 | MINOR; stat's st_dev is
            // the C library's encoding.
            let dev = libc::makedev(kernel_dev >> 20, kernel_dev & 0xfffff);
            vfs = Some((dev as u64, u64::from(vfs_ino)));
        }
        at += (len + 3) & !3;
    }
    Some(DiagEntry { kind, state, ino, vfs })
}
}
