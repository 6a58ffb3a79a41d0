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

/// A program to start with descriptors at 3, 4, ...: what
/// [`spawn_with_fds`] needs, all built before `fork`, so that the child
/// allocates nothing.
pub(crate) struct Spawn<'a> {
    /// The program's path, already looked up in `PATH` where it had no `/`.
    pub(crate) path: std::ffi::CString,
    /// `argv`, the program's name first.
    pub(crate) argv: Vec<std::ffi::CString>,
    /// The environment, without `LISTEN_PID`, which the child adds.
    pub(crate) env: Vec<std::ffi::CString>,
    /// The descriptors, to be 3, 4, ... in the child.
    pub(crate) fds: &'a [std::os::unix::io::BorrowedFd<'a>],
}

/// Starts `spawn` with `fork` and `execve`, its descriptors at 3, 4, ...
/// and `LISTEN_PID` set to the child's own process ID; returns the child's
/// process ID once `execve` has succeeded, or the `execve` error.
///
/// Why by hand, and not with `std::process::Command`: `LISTEN_PID` must
/// name the child, which only the child knows before `exec`, and setting a
/// variable there (`setenv`) may allocate, which is not async-signal-safe
/// in a child of a threaded process. So the environment is built before
/// `fork` with room for the number, and between `fork` and `execve` the
/// child calls only async-signal-safe functions (`getpid`, `dup2`,
/// `sigprocmask`, `signal`, `execve`, `write`, `_exit`) and writes the
/// digits into memory it already has. `Command` with `pre_exec` could place
/// the descriptors, but its own error pipe may sit at one of the numbers
/// 3, 4, ... that `dup2` would then replace; here every descriptor the
/// parent keeps (the copies, the error pipe) is first moved above them.
#[allow(unsafe_code)]
pub(crate) fn spawn_with_fds(spawn: &Spawn<'_>) -> io::Result<u32> {
    use std::os::unix::io::{AsRawFd, FromRawFd, OwnedFd};
    const PREFIX: &[u8] = b"LISTEN_PID=";
    let n = i32::try_from(spawn.fds.len())
        .ok()
        .filter(|n| *n <= i32::MAX - 4)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "too many descriptors"))?;
    let above = 3 + n;
    let high = |fd: i32| -> io::Result<OwnedFd> {
        // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor, at `above` or
        // higher, for the open file of `fd`; it reads no memory.
        let new = syscall(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, above) })?;
        // SAFETY: `new` was just made and nothing else owns it.
        Ok(unsafe { OwnedFd::from_raw_fd(new) })
    };
    let copies = spawn
        .fds
        .iter()
        .map(|fd| high(fd.as_raw_fd()))
        .collect::<io::Result<Vec<OwnedFd>>>()?;
    let mut pipe = [0 as libc::c_int; 2];
    // SAFETY: `pipe` has room for the two descriptors pipe(2) writes.
    #[cfg(not(target_vendor = "apple"))]
    syscall(unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: as above. Close-on-exec follows at once (macOS has no pipe2).
    #[cfg(target_vendor = "apple")]
    syscall(unsafe { libc::pipe(pipe.as_mut_ptr()) })?;
    // SAFETY: both were just made by pipe(2); nothing else owns them.
    let (read_end, write_low) =
        unsafe { (OwnedFd::from_raw_fd(pipe[0]), OwnedFd::from_raw_fd(pipe[1])) };
    set_cloexec(read_end.as_raw_fd())?;
    // The child's end, above the numbers it fills, close-on-exec.
    let write_end = high(write_low.as_raw_fd())?;
    drop(write_low);

    // LISTEN_PID=, then room for any pid's digits and the closing NUL.
    let mut pid_var = vec![0u8; PREFIX.len() + 21];
    pid_var[..PREFIX.len()].copy_from_slice(PREFIX);
    let mut argv: Vec<*const libc::c_char> = spawn.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = spawn.env.iter().map(|e| e.as_ptr()).collect();
    envp.push(pid_var.as_ptr().cast());
    envp.push(std::ptr::null());
    let pid_digits = pid_var.as_mut_ptr().wrapping_add(PREFIX.len());
    let sources: Vec<libc::c_int> = copies.iter().map(AsRawFd::as_raw_fd).collect();
    // SAFETY: `sigset_t` is plain data; sigemptyset initialises it.
    let mut empty: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `empty` is live and writable.
    unsafe { libc::sigemptyset(&mut empty) };
    let report = write_end.as_raw_fd();

    // SAFETY: fork(2) has no memory arguments. In the child, only
    // async-signal-safe calls follow, on memory built above (no allocation,
    // no lock): see `exec_child`.
    let pid = syscall(unsafe { libc::fork() })?;
    if pid == 0 {
        // SAFETY: in the child of fork: every pointer points into memory
        // the parent built before fork, which the child has a copy of.
        unsafe {
            exec_child(
                &spawn.path,
                &argv,
                &envp,
                pid_digits,
                &sources,
                &empty,
                report,
            )
        }
    }
    drop(write_end);
    drop(copies);
    let mut errno = [0u8; 4];
    let mut got = 0;
    while got < errno.len() {
        // SAFETY: reads into the rest of `errno`, whose length is passed.
        let r = unsafe {
            libc::read(
                read_end.as_raw_fd(),
                errno[got..].as_mut_ptr().cast(),
                errno.len() - got,
            )
        };
        match r {
            0 => break,
            r if r > 0 => got += r as usize,
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
    if got == 0 {
        // The pipe closed at execve: the program runs.
        return Ok(pid as u32);
    }
    // The child failed before or at execve and exits: reap it.
    let _ = wait_blocking(pid as u32);
    Err(io::Error::from_raw_os_error(i32::from_ne_bytes(errno)))
}

/// The child's half of [`spawn_with_fds`]: writes its pid into
/// `LISTEN_PID=`, moves the descriptors to 3, 4, ... (`dup2` leaves the new
/// numbers without close-on-exec), unblocks every signal, gives `SIGPIPE`
/// back its default action (Rust programs ignore it, and an ignored signal
/// stays ignored across `execve`), and runs the program. If `execve` fails,
/// its `errno` goes to `report` and the child exits with 127.
///
/// # Safety
///
/// Called only in the child of `fork`; the pointers are valid, the arrays
/// end with a null pointer, and `pid_digits` has room for 20 digits.
#[allow(unsafe_code)]
unsafe fn exec_child(
    path: &std::ffi::CStr,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    pid_digits: *mut u8,
    sources: &[libc::c_int],
    empty: &libc::sigset_t,
    report: libc::c_int,
) -> ! {
    // SAFETY: getpid is async-signal-safe; the digits go into the room the
    // parent left in `LISTEN_PID=`, ending before its closing NUL.
    unsafe {
        let mut pid = libc::getpid() as u64;
        let mut digits = [0u8; 20];
        let mut len = 0;
        loop {
            digits[len] = b'0' + (pid % 10) as u8;
            len += 1;
            pid /= 10;
            if pid == 0 {
                break;
            }
        }
        for i in 0..len {
            *pid_digits.add(i) = digits[len - 1 - i];
        }
    }
    let mut failed = false;
    for (i, &source) in sources.iter().enumerate() {
        // SAFETY: dup2 is async-signal-safe and takes no memory; every
        // source is above the numbers it fills, so none is overwritten.
        if unsafe { libc::dup2(source, 3 + i as libc::c_int) } < 0 {
            failed = true;
            break;
        }
    }
    // SAFETY: sigprocmask and signal are async-signal-safe; `empty` is an
    // initialised signal set; execve gets null-terminated arrays.
    unsafe {
        if !failed {
            libc::sigprocmask(libc::SIG_SETMASK, empty, std::ptr::null_mut());
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
        }
        // Reads errno; a raw OS error is stored inline, not allocated.
        let errno = io::Error::last_os_error().raw_os_error().unwrap_or(0);
        let bytes = errno.to_ne_bytes();
        libc::write(report, bytes.as_ptr().cast(), bytes.len());
        libc::_exit(127)
    }
}

/// How a child ended, as `waitpid` reports it.
pub(crate) type ExitStatus = std::process::ExitStatus;

/// `waitpid(pid, WNOHANG)`: how the child ended, or `None` while it runs.
#[allow(unsafe_code)]
pub(crate) fn try_wait(pid: u32) -> io::Result<Option<ExitStatus>> {
    use std::os::unix::process::ExitStatusExt;
    let mut status = 0;
    // SAFETY: `status` is live and writable; waitpid writes it.
    let r = syscall(unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) })?;
    Ok((r != 0).then(|| ExitStatus::from_raw(status)))
}

/// `waitpid(pid, 0)`, again after a signal: how the child ended.
#[allow(unsafe_code)]
pub(crate) fn wait_blocking(pid: u32) -> io::Result<ExitStatus> {
    use std::os::unix::process::ExitStatusExt;
    loop {
        let mut status = 0;
        // SAFETY: as in `try_wait`.
        match syscall(unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) }) {
            Ok(_) => return Ok(ExitStatus::from_raw(status)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// `kill(pid, SIGKILL)`.
#[allow(unsafe_code)]
pub(crate) fn kill(pid: u32) -> io::Result<()> {
    // SAFETY: kill takes no memory.
    syscall(unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) }).map(drop)
}
