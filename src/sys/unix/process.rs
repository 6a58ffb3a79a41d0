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

/// `sendmsg(2)` of one datagram to `addr` with `fds` attached as one
/// `SCM_RIGHTS` control message (none when `fds` is empty): how a process
/// gives descriptors to the service manager (`FDSTORE=1`).
#[allow(unsafe_code)]
pub(crate) fn send_with_fds(
    socket: &socket2::Socket,
    addr: &socket2::SockAddr,
    data: &[u8],
    fds: &[std::os::unix::io::BorrowedFd<'_>],
) -> io::Result<usize> {
    use std::os::unix::io::{AsRawFd, RawFd};
    let fd_bytes = std::mem::size_of_val(fds);
    let fd_len = u32::try_from(fd_bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "too many descriptors"))?;
    let space = if fds.is_empty() {
        0
    } else {
        // SAFETY: CMSG_SPACE only computes a size from its argument.
        (unsafe { libc::CMSG_SPACE(fd_len) }) as usize
    };
    // u64 words keep the buffer aligned for `cmsghdr`.
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: `msghdr` is a plain C struct for which all zeros is valid
    // (no name, no data, no control); the fields are set below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = addr.as_ptr() as *mut libc::c_void;
    msg.msg_namelen = addr.len();
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        msg.msg_control = control.as_mut_ptr().cast();
        #[allow(clippy::useless_conversion)]
        {
            msg.msg_controllen = space.try_into().unwrap_or(0);
        }
        // SAFETY: the control buffer holds CMSG_SPACE(fd_len) bytes, room
        // for one header and the descriptors, so CMSG_FIRSTHDR is not null
        // and CMSG_DATA points inside the buffer with room for them.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(fd_len) as _;
            let data = libc::CMSG_DATA(cmsg).cast::<RawFd>();
            for (i, fd) in fds.iter().enumerate() {
                data.add(i).write_unaligned(fd.as_raw_fd());
            }
        }
    }
    // SAFETY: `msg` points to the live address, iovec and control buffer
    // above, each with its length; sendmsg only reads them.
    let sent = unsafe { libc::sendmsg(socket.as_raw_fd(), &msg, 0) };
    if sent < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(sent as usize)
    }
}

/// `clock_gettime(CLOCK_MONOTONIC)`: the clock systemd's `MONOTONIC_USEC=`
/// counts on.
#[allow(unsafe_code)]
pub(crate) fn monotonic_now() -> io::Result<std::time::Duration> {
    // SAFETY: `timespec` is a plain C struct; all zeros is valid.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: `ts` is live and writable; clock_gettime only writes it.
    syscall(unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) })?;
    #[allow(clippy::unnecessary_cast)]
    Ok(std::time::Duration::new(
        ts.tv_sec as u64,
        ts.tv_nsec as u32,
    ))
}
