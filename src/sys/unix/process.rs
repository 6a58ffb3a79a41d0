//! Unix backend, processes: the descriptor flags, pidfd identity, passing
//! descriptors over a Unix socket (`SCM_RIGHTS`) and starting a successor
//! with descriptors at fixed numbers (`fork` + `execve`).

use std::io;

use super::syscall;

/// Sets `FD_CLOEXEC` on `fd`, keeping its other descriptor flags
/// (`fcntl(F_GETFD)`, then `F_SETFD` if the flag was not set).
#[allow(unsafe_code)]
pub(crate) fn set_cloexec(fd: i32) -> io::Result<()> {
    // SAFETY: F_GETFD reads the descriptor's flags only; a number that is
    // not open gives EBADF.
    let flags = syscall(unsafe { libc::fcntl(fd, libc::F_GETFD) })?;
    if flags & libc::FD_CLOEXEC == 0 {
        // SAFETY: F_SETFD with an int argument changes only this
        // descriptor's flags.
        syscall(unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) })?;
    }
    Ok(())
}

/// The inode number of a pidfd for this process, which systemd passes as
/// `LISTEN_PIDFDID`: `pidfd_open(getpid())`, then `fstat` of it, kept only
/// where the pidfd lives on pidfs (Linux 6.9 and later, `fstatfs` says
/// `PID_FS_MAGIC`), whose inode numbers name a process for good. `None`
/// where it cannot be known (older kernels, a seccomp filter).
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(unsafe_code)]
pub(crate) fn pidfd_id_self() -> Option<u64> {
    use std::os::unix::io::{AsRawFd, FromRawFd, OwnedFd};
    const PID_FS_MAGIC: i64 = 0x5049_4446;
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor
    // or -1; no memory is passed.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    let raw = i32::try_from(raw).ok().filter(|&fd| fd >= 0)?;
    // SAFETY: the descriptor was just returned by pidfd_open; nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: `statfs` is a plain C struct for which all zeros is valid;
    // fstatfs writes it for the open descriptor.
    let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `fs` is a live, writable statfs; the descriptor is open.
    syscall(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut fs) }).ok()?;
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    if i64::from(fs.f_type as i64) != PID_FS_MAGIC {
        return None;
    }
    // SAFETY: as for statfs, a plain C struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a live, writable stat; the descriptor is open.
    syscall(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) }).ok()?;
    #[allow(clippy::unnecessary_cast)]
    Some(st.st_ino as u64)
}

/// No pidfd inode numbers here: `LISTEN_PIDFDID` cannot be checked.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn pidfd_id_self() -> Option<u64> {
    None
}
