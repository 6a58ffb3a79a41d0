//! Handing listening sockets to a successor: restart or upgrade a server
//! without refusing a connection.

use std::ffi::{OsStr, OsString};
use std::os::unix::io::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{DESCRIPTOR_NAME_RULE, Notifier, env::VARS, is_descriptor_name};
use crate::{Error, Result};

/// How long [`Handover::start`] waits for the successor's `READY=1` unless
/// told otherwise: 10 seconds.
pub const DEFAULT_HANDOVER_TIMEOUT: Duration = Duration::from_secs(10);

/// The log target of a handover's steps.
const LOG: &str = "sockwright::handover";

/// Starts a successor (a new binary, or this one again) and hands it
/// listening sockets by name, then waits until it says it is ready.
///
/// The successor reads them as it reads systemd's, with
/// [`ListenFds::from_env`](super::ListenFds::from_env) (or an `sd-listen:NAME`
/// [`Endpoint`](crate::Endpoint)): they are at descriptors 3, 4, ... in the
/// order given, named in `LISTEN_FDNAMES`, and `LISTEN_PID` is its own
/// process ID. Its `NOTIFY_SOCKET` is a socket of this process, so its
/// ordinary [`notify_ready`](super::notify_ready) after building its
/// listeners, the call that tells systemd it is ready, is what
/// [`start`](Self::start) waits for.
///
/// What the server does around it:
///
/// 1. keeps accepting while [`start`](Self::start) runs: the accept queue
///    belongs to the socket, which both processes now hold, so a client
///    that connects meanwhile is answered by one of the two;
/// 2. on `Ok`, stops accepting, finishes the connections it holds and
///    exits (closing its copies; the successor's keep the sockets open);
/// 3. on `Err` (the successor could not start, exited, or was not ready in
///    time and was killed), keeps serving: the error says which.
///
/// The descriptors are placed between `fork` and `execve` with
/// async-signal-safe calls only, so this is safe in a threaded server.
///
/// # Examples
///
/// A successor that fails leaves the listener with this process:
///
/// ```
/// use sockwright::activation::Handover;
/// use sockwright::ListenerBuilder;
///
/// let listener = ListenerBuilder::new().listen("127.0.0.1:0")?;
/// let err = Handover::new("sh")
///     .args(["-c", "exit 3"])
///     .listener("web", &listener)
///     .start()
///     .unwrap_err();
/// assert!(err.to_string().contains("it exited (exit status: 3) before it said it was ready"), "{err}");
/// listener.set_nonblocking(true)?; // still ours, still listening
/// assert!(listener.accept().is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Restarting this very program, with its own command line:
///
/// ```no_run
/// use sockwright::activation::Handover;
/// use sockwright::ListenerBuilder;
///
/// let listener = ListenerBuilder::new().listen("127.0.0.1:8080")?;
/// // ... serve; then, on SIGHUP:
/// match Handover::restart()?.listener("web", &listener).start() {
///     Ok(successor) => println!("handed over to {}", successor.pid()), // finish and exit
///     Err(e) => eprintln!("still serving: {e}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Platform-specific behavior
///
/// Unix only (Linux, macOS, the BSDs): Windows passes sockets between
/// processes with `WSADuplicateSocket`, not by number.
///
/// Under systemd, the successor's notifications go to this process, not
/// to systemd: on success [`start`](Self::start) tells systemd the new main
/// process (`MAINPID=`), but the successor's later notifications
/// (`WATCHDOG=1`, `STOPPING=1`, and the `MAINPID=` of a handover of its
/// own) do not reach it. Under systemd, restart with `systemctl restart`
/// and keep the listeners in the fd store ([`Notifier::store`]) instead.
#[derive(Debug, Clone)]
pub struct Handover<'a> {
    program: OsString,
    args: Vec<OsString>,
    listeners: Vec<(String, BorrowedFd<'a>)>,
    timeout: Duration,
}

/// A successor that said it is ready: it has the listeners.
///
/// Its process is a child of this one; when this process exits, the
/// successor goes on (adopted by init or the service manager).
///
/// # Examples
///
/// See [`Handover`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Successor {
    pid: u32,
}

impl Successor {
    /// Its process ID.
    ///
    /// # Examples
    ///
    /// See [`Handover`].
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

impl<'a> Handover<'a> {
    /// A handover to `program` (looked up in `PATH` if it has no `/`), with
    /// no arguments and no listener yet, which waits at most
    /// [`DEFAULT_HANDOVER_TIMEOUT`] for the successor to be ready. The
    /// successor gets this process's environment, less the activation
    /// variables, which are set for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let handover = sockwright::activation::Handover::new("/usr/local/bin/server");
    /// # drop(handover);
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Handover<'a> {
        Handover {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            listeners: Vec::new(),
            timeout: DEFAULT_HANDOVER_TIMEOUT,
        }
    }

    /// A handover to this program again (`std::env::current_exe`), with its
    /// own arguments: a restart, or an upgrade when the binary was replaced.
    ///
    /// # Errors
    ///
    /// [`Error::Handover`] if the path of this program cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// let handover = sockwright::activation::Handover::restart()?;
    /// # drop(handover);
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn restart() -> Result<Handover<'a>> {
        let program = std::env::current_exe().map_err(|e| Error::Handover {
            program: "this program".to_owned(),
            reason: format!("find its path: {e}"),
            error: Some(e),
        })?;
        let mut handover = Handover::new(program);
        handover.args(std::env::args_os().skip(1));
        Ok(handover)
    }

    /// Adds an argument.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut handover = sockwright::activation::Handover::new("server");
    /// handover.arg("--forever");
    /// ```
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut handover = sockwright::activation::Handover::new("server");
    /// handover.args(["--listen", "sd-listen:web"]);
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Hands `socket` over under `name`: the next descriptor from 3 in the
    /// successor, named so in `LISTEN_FDNAMES` (`sd-listen:NAME`).
    ///
    /// The name follows systemd's rule (at most 255 bytes of printable
    /// ASCII, no `:`, not empty), checked by [`start`](Self::start).
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = sockwright::ListenerBuilder::new().listen("127.0.0.1:0")?;
    /// let mut handover = sockwright::activation::Handover::new("server");
    /// handover.listener("web", &listener);
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn listener(&mut self, name: &str, socket: &'a impl AsFd) -> &mut Self {
        self.listeners.push((name.to_owned(), socket.as_fd()));
        self
    }

    /// How long [`start`](Self::start) waits for the successor's `READY=1`
    /// before it kills it. Default: [`DEFAULT_HANDOVER_TIMEOUT`]; zero is an
    /// [`Error::InvalidConfig`].
    ///
    /// # Examples
    ///
    /// ```
    /// let mut handover = sockwright::activation::Handover::new("server");
    /// handover.timeout(std::time::Duration::from_secs(30));
    /// ```
    pub fn timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = timeout;
        self
    }

    /// Starts the successor with the listeners and waits until it says it
    /// is ready (`READY=1` on its `NOTIFY_SOCKET`), it exits, or the
    /// timeout passes; can be called again after a failure.
    ///
    /// 1. A Unix datagram socket is bound in a new directory of mode 0700
    ///    under the temporary directory: the successor's `NOTIFY_SOCKET`.
    /// 2. `fork`; the child puts the listeners at 3, 4, ..., writes its own
    ///    process ID into `LISTEN_PID`, and `execve`s the program with
    ///    `LISTEN_FDS`, `LISTEN_FDNAMES` and `NOTIFY_SOCKET` set.
    /// 3. The socket is read until `READY=1` comes; meanwhile `waitpid`
    ///    says whether the successor has exited.
    /// 4. On success, if this process has a `NOTIFY_SOCKET` of its own, it
    ///    sends `MAINPID=` with the successor's process ID there. The
    ///    directory is removed in every case.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] before anything starts: no listener, a
    /// name systemd does not take, a zero timeout. [`Error::Handover`]
    /// saying which step failed: the program could not be started (with the
    /// `execve` error, such as `No such file or directory`), it exited
    /// before it said it was ready (with its exit status), or it was not
    /// ready within the timeout (it is then killed). The listeners stay
    /// open and listening in this process in every case.
    ///
    /// # Examples
    ///
    /// See [`Handover`].
    pub fn start(&self) -> Result<Successor> {
        if self.listeners.is_empty() {
            return Err(Error::invalid("a handover needs at least one listener"));
        }
        if let Some((name, _)) = self
            .listeners
            .iter()
            .find(|(name, _)| name.is_empty() || !is_descriptor_name(name))
        {
            return Err(Error::invalid(format!(
                "listener name {} is not a descriptor name (not empty, {DESCRIPTOR_NAME_RULE})",
                crate::bounded::shown::Quoted::with_limit(name, 64)
            )));
        }
        if self.timeout.is_zero() {
            return Err(Error::invalid("a handover timeout must be above zero"));
        }
        let shown = Path::new(&self.program).display().to_string();
        let fail = |reason: String, error: Option<std::io::Error>| Error::Handover {
            program: shown.clone(),
            reason,
            error,
        };
        let os = |step: &str, e: std::io::Error| fail(format!("{step}: {e}"), Some(e));
        let path = find_program(&self.program)
            .ok_or_else(|| fail("start it: no such program in PATH".to_owned(), None))?;
        let place = ReadyPlace::new().map_err(|e| os("make its NOTIFY_SOCKET", e))?;
        let spawn = self.spawn(&path, &place.path);
        let fds: Vec<BorrowedFd<'_>> = self.listeners.iter().map(|(_, fd)| *fd).collect();
        let spawn = crate::sys::Spawn {
            path: spawn.0,
            argv: spawn.1,
            env: spawn.2,
            fds: &fds,
        };
        log::debug!(target: LOG, "starting {shown} with {} listeners; waiting up to {:?} for READY=1", fds.len(), self.timeout);
        let pid = crate::sys::spawn_with_fds(&spawn).map_err(|e| os("start it", e))?;
        let deadline = Instant::now() + self.timeout;
        let mut buf = [0u8; 4096];
        loop {
            if let Some(status) = crate::sys::try_wait(pid).map_err(|e| os("wait for it", e))? {
                return Err(fail(
                    format!("it exited ({status}) before it said it was ready"),
                    None,
                ));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let _ = crate::sys::kill(pid);
                let _ = crate::sys::wait_blocking(pid);
                return Err(fail(
                    format!(
                        "it did not say it was ready (READY=1) within {:?}; it was killed",
                        self.timeout
                    ),
                    None,
                ));
            }
            // Short waits, so that an exit is seen within 50 ms.
            let wait = left.min(Duration::from_millis(50));
            place
                .socket
                .set_read_timeout(Some(wait))
                .map_err(|e| os("wait for it", e))?;
            match place.socket.recv(&mut buf) {
                Ok(n) => {
                    let text = String::from_utf8_lossy(&buf[..n]);
                    log::debug!(target: LOG, "successor {pid} notified: {}", text.replace('\n', " "));
                    if text.lines().any(|line| line == "READY=1") {
                        break;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(os("read its NOTIFY_SOCKET", e)),
            }
        }
        log::debug!(target: LOG, "successor {pid} is ready");
        match Notifier::from_env().and_then(|n| n.main_pid(pid)) {
            Ok(()) => {}
            Err(e) => {
                log::warn!(target: LOG, "tell the service manager the new main process {pid}: {e}")
            }
        }
        Ok(Successor { pid })
    }

    /// The path, argv and environment for `spawn_with_fds`.
    fn spawn(
        &self,
        path: &Path,
        notify: &Path,
    ) -> (
        std::ffi::CString,
        Vec<std::ffi::CString>,
        Vec<std::ffi::CString>,
    ) {
        use std::os::unix::ffi::OsStrExt;
        // OS strings from the command line and the environment hold no NUL;
        // one given by the program is cut there.
        let c = |bytes: &[u8]| {
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            std::ffi::CString::new(&bytes[..end]).unwrap_or_default()
        };
        let argv = std::iter::once(self.program.as_os_str())
            .chain(self.args.iter().map(OsString::as_os_str))
            .map(|a| c(a.as_bytes()))
            .collect();
        let names: Vec<&str> = self.listeners.iter().map(|(n, _)| n.as_str()).collect();
        let mut env: Vec<std::ffi::CString> = std::env::vars_os()
            .filter(|(k, _)| !VARS.iter().any(|v| k == v) && k != "NOTIFY_SOCKET")
            .map(|(k, v)| {
                let mut kv = k.as_bytes().to_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                c(&kv)
            })
            .collect();
        env.push(c(format!("LISTEN_FDS={}", self.listeners.len()).as_bytes()));
        env.push(c(format!("LISTEN_FDNAMES={}", names.join(":")).as_bytes()));
        let mut notify_var = b"NOTIFY_SOCKET=".to_vec();
        notify_var.extend_from_slice(notify.as_os_str().as_bytes());
        env.push(c(&notify_var));
        (c(path.as_os_str().as_bytes()), argv, env)
    }
}

/// `program` as a path: itself if it has a `/`, else the first executable
/// file of that name in a `PATH` directory, as `execvp` looks it up.
fn find_program(program: &OsStr) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    if program.as_bytes().contains(&b'/') {
        return Some(program.into());
    }
    let dirs = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&dirs)
        .map(|dir| dir.join(program))
        .find(|path| {
            path.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The successor's `NOTIFY_SOCKET`: a datagram socket bound in a directory
/// of its own, mode 0700, so that only this user can send to it. Both are
/// removed when dropped.
struct ReadyPlace {
    dir: PathBuf,
    path: PathBuf,
    socket: std::os::unix::net::UnixDatagram,
}

impl ReadyPlace {
    fn new() -> std::io::Result<ReadyPlace> {
        use std::os::unix::fs::DirBuilderExt;
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = loop {
            let dir = std::env::temp_dir().join(format!(
                "sockwright-handover-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => break dir,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        };
        let path = dir.join("notify");
        let made = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::DGRAM, None)
            .and_then(|s| {
                s.bind(&socket2::SockAddr::unix(&path)?)?;
                Ok(s)
            });
        match made {
            Ok(socket) => Ok(ReadyPlace {
                dir,
                path,
                socket: socket.into(),
            }),
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                Err(e)
            }
        }
    }
}

impl Drop for ReadyPlace {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_dir(&self.dir);
    }
}
