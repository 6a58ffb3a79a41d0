//! Helpers shared by the test programs (`tests/it`, `tests/resources` and
//! the single files beside them, each of which declares this folder as its
//! `util` module): counting the process's open file descriptors and
//! threads, loopback connection pairs, provoking refused and timed-out
//! connects on loopback, black holes for the Happy Eyeballs tests, private
//! temporary directories; and in submodules the hello tests' programs and
//! peers (`hello`), running a test again inside namespaces of its own
//! (`namespace`), and the resolver tests' fixtures and the cases they share
//! (`resolver`, `resolver_cases`).
//!
//! This folder has no `main.rs`, so cargo does not build it as a test
//! program of its own. Each program uses only some of these, so unused ones
//! are allowed.
#![allow(dead_code)]

use std::fs;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use socket2::{Domain, Socket, Type};
use sockwright::{ConnectorBuilder, Error, ListenerBuilder};

#[cfg(feature = "hello")]
pub mod hello;
#[cfg(target_os = "linux")]
pub mod namespace;
pub mod resolver;
pub mod resolver_cases;

/// The name libtest knows a test by, for `--exact` when a test runs its
/// own program again: the test's module path (`module_path!()`) without
/// the program's name, then the function.
pub fn test_path(module: &str, function: &str) -> String {
    match module.split_once("::") {
        Some((_, path)) => format!("{path}::{function}"),
        None => function.to_owned(),
    }
}

/// Runs the calling test again, alone, in a process of its own: for a test
/// that needs what is the whole process's, such as the global logger, in a
/// program whose other tests run beside it. Returns `true` in that process,
/// where the caller then makes its checks; in the first, returns `false`
/// once the run in its own process has passed (and fails the test if it
/// did not). The test is found by its thread's name, which libtest gives
/// each test.
pub fn in_own_process() -> bool {
    const VAR: &str = "SOCKWRIGHT_TEST_OWN_PROCESS";
    let name = std::thread::current()
        .name()
        .expect("libtest names the thread of each test")
        .to_owned();
    if std::env::var(VAR).is_ok_and(|v| v == name) {
        return true;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &name, "--nocapture", "--test-threads=1"])
        .env(VAR, &name)
        .output()
        .expect("run the test again in a process of its own");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{name} failed in its own process");
    assert!(
        stdout.contains("1 passed"),
        "{name} did not run in its own process"
    );
    false
}

/// Shows the crate's `debug` lines (the race's, the resolver's) with
/// `RUST_LOG=debug cargo test --test NAME -- --nocapture`.
pub fn init_log() {
    let _ = env_logger::builder().is_test(true).try_init();
}

/// A current-thread tokio runtime with its I/O and timer drivers.
#[cfg(feature = "tokio")]
pub fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("current-thread runtime")
}

/// The address and the kind of a connect error; panics on any other error.
pub fn connect_error_for(err: &Error) -> (SocketAddr, io::ErrorKind) {
    let Error::Connect { addr, .. } = err else {
        panic!("expected a connect error, got {err}");
    };
    (addr.to_string().parse().unwrap(), err.kind())
}

/// Checks that `err` lists one timed-out connect to each of `addrs`, in
/// that order.
pub fn check_each_attempt_timed_out(err: &Error, addrs: &[SocketAddr]) {
    let Error::AllAttemptsFailed { attempts, .. } = err else {
        panic!("expected AllAttemptsFailed, got {err}");
    };
    let tried: Vec<_> = attempts.iter().map(connect_error_for).collect();
    let expected: Vec<_> = addrs
        .iter()
        .map(|a| (*a, io::ErrorKind::TimedOut))
        .collect();
    assert_eq!(tried, expected, "{err}");
}

/// Open file descriptors of this process (Linux: the entries of `/proc/self/fd`,
/// less the one `read_dir` itself holds while listing).
#[cfg(target_os = "linux")]
pub fn fd_count() -> usize {
    let n = fs::read_dir("/proc/self/fd")
        .expect("list /proc/self/fd")
        .count();
    n - 1
}

/// Threads of this process (Linux: the entries of `/proc/self/task`).
#[cfg(target_os = "linux")]
pub fn thread_count() -> usize {
    fs::read_dir("/proc/self/task")
        .expect("list /proc/self/task")
        .count()
}

/// Threads of this process that look names up for sockwright: those named
/// `sockwright-resolve` (Linux: `/proc/self/task/*/comm`, which keeps the
/// first 15 bytes of a name).
#[cfg(target_os = "linux")]
pub fn lookup_thread_count() -> usize {
    fs::read_dir("/proc/self/task")
        .expect("list /proc/self/task")
        .filter_map(|task| fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == "sockwright-reso")
        .count()
}

/// A loopback TCP port on which connects are refused, held for as long as the
/// returned socket lives: the socket is bound but never listens, so the
/// kernel answers every SYN with a reset and no other program can take the
/// port meanwhile.
pub fn refused_port() -> (Socket, SocketAddr) {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .expect("bind 127.0.0.1:0");
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    (socket, addr)
}

/// A TCP connection on loopback made with the crate's builders:
/// (client end, accepted end).
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let client = ConnectorBuilder::new()
        .connect(listener.local_addr().unwrap())
        .unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

/// A listener whose accept queue is full and is never drained, with the
/// connections that fill it. Linux drops a SYN that arrives at a full accept
/// queue, so a further connect to [`FullListener::addr`] waits until its
/// timeout runs out.
pub struct FullListener {
    pub listener: TcpListener,
    pub addr: SocketAddr,
    pub queued: Vec<TcpStream>,
}

/// Builds a [`FullListener`] on 127.0.0.1: backlog 0, then connects (each
/// bounded by `probe`) until one times out. Returns `None` if none timed out
/// within 64 connects, meaning this kernel does not drop SYNs at a full queue.
pub fn full_listener(probe: Duration) -> Option<FullListener> {
    full_listener_at("127.0.0.1:0", probe)
}

/// [`full_listener`] on another loopback address, such as `[::1]:0`.
pub fn full_listener_at(addr: &str, probe: Duration) -> Option<FullListener> {
    let listener = ListenerBuilder::new()
        .backlog(0)
        .listen(addr)
        .expect("listen with backlog 0");
    let addr = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    for _ in 0..64 {
        match ConnectorBuilder::new().connect_timeout(probe).connect(addr) {
            Ok(stream) => queued.push(stream),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                return Some(FullListener {
                    listener,
                    addr,
                    queued,
                });
            }
            Err(e) => panic!("unexpected error while filling the accept queue: {e}"),
        }
    }
    None
}

/// Whether this host has an IPv6 loopback to bind.
pub fn has_ipv6_loopback() -> bool {
    TcpListener::bind("[::1]:0").is_ok()
}

/// A `127.0.0.1` listener on a port below the kernel's ephemeral range
/// (`net.ipv4.ip_local_port_range`), where servers listen: no connect's
/// ephemeral source port can be it. `Err` says why there is none.
#[cfg(target_os = "linux")]
#[allow(dead_code)]
pub fn listener_below_ephemeral_range() -> Result<TcpListener, String> {
    let path = "/proc/sys/net/ipv4/ip_local_port_range";
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let low: u32 = text
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("{path} reads {text:?}"))?;
    let below = low.saturating_sub(1024);
    if below == 0 {
        return Err(format!(
            "the ephemeral range starts at {low}: no unprivileged port is below it"
        ));
    }
    // A start that differs per process, so test binaries running at once
    // rarely try the same ports; at most 500 tries.
    let start = std::process::id() % below;
    for i in 0..below.min(500) {
        let port = 1024 + (start + i) % below;
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port as u16)) {
            return Ok(listener);
        }
    }
    Err(format!("no free 127.0.0.1 port below {low} in 500 tries"))
}

/// A black-holed `[::1]:P` and a live `127.0.0.1:P` on the same port, as a
/// name with one address of each family would resolve (a name has one port
/// for both families); `None` (with the reason printed) on a host without
/// IPv6 loopback.
#[cfg(target_os = "linux")]
pub fn black_hole_v6_and_live_v4() -> Option<(FullListener, TcpListener)> {
    if !has_ipv6_loopback() {
        eprintln!("skipped: this host has no IPv6 loopback (::1)");
        return None;
    }
    // The port is free on ::1 but may be taken on 127.0.0.1: a few tries.
    for _ in 0..20 {
        let hole = full_listener_at("[::1]:0", Duration::from_millis(200))
            .expect("no SYN dropped at a full accept queue on [::1]");
        if let Ok(live) = TcpListener::bind(("127.0.0.1", hole.addr.port())) {
            return Some((hole, live));
        }
    }
    panic!("no port free on both [::1] and 127.0.0.1 in 20 tries");
}

/// Two black holes, on `[::1]` and on `127.0.0.1` (in that order), each
/// found with connects bounded by `probe`; `None` (with the reason printed)
/// on a host without IPv6 loopback.
#[cfg(target_os = "linux")]
pub fn black_holes_v6_and_v4(probe: Duration) -> Option<(FullListener, FullListener)> {
    if !has_ipv6_loopback() {
        eprintln!("skipped: this host has no IPv6 loopback (::1)");
        return None;
    }
    let hole6 = full_listener_at("[::1]:0", probe).expect("no SYN dropped on [::1]");
    let hole4 = full_listener(probe).expect("no SYN dropped on 127.0.0.1");
    Some((hole6, hole4))
}

/// A fresh directory under the system temporary directory, removed with
/// everything in it when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("sockwright-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create temporary directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Calls `done` every millisecond until it returns true, for at most
/// `limit`; says whether it did.
///
/// For what another process settles and nothing signals: with tests
/// running at once, a child that another test's thread is starting holds a
/// copy of every descriptor between `fork` and `exec`, so a listener closed
/// here can listen on in it for a moment, and a file written here cannot be
/// executed (`ETXTBSY`) until that child execs.
pub fn poll_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits, at most 5 s, until the Unix socket file at `path` refuses a
/// `connect`: until the listener that a test closed is closed everywhere
/// (see [`poll_until`]).
#[cfg(unix)]
pub fn await_stale(path: &Path) {
    let refused = || {
        std::os::unix::net::UnixStream::connect(path)
            .is_err_and(|e| e.kind() == io::ErrorKind::ConnectionRefused)
    };
    assert!(
        poll_until(Duration::from_secs(5), refused),
        "{} still accepts connections 5 s after its listener closed",
        path.display()
    );
}

/// A Unix listener at `path` with backlog 0 whose accept queue is full and is
/// never drained, with the connections that fill it: a further connect waits
/// (Linux) until the server accepts one.
#[cfg(target_os = "linux")]
pub fn full_unix_listener(
    path: &Path,
) -> (
    std::os::unix::net::UnixListener,
    Vec<std::os::unix::net::UnixStream>,
) {
    let listener = ListenerBuilder::new()
        .backlog(0)
        .listen_unix(path)
        .expect("listen with backlog 0");
    let mut queued = Vec::new();
    let connector = {
        let mut b = ConnectorBuilder::new();
        b.connect_timeout(Duration::from_millis(100));
        b
    };
    loop {
        match connector.connect_unix(path) {
            Ok(stream) => queued.push(stream),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return (listener, queued),
            Err(e) => panic!("unexpected error while filling the accept queue: {e}"),
        }
        assert!(
            queued.len() < 64,
            "the accept queue of a backlog-0 Unix listener never filled"
        );
    }
}

/// `getsockopt(level, name)` for an `int` option socket2 has no getter for.
#[cfg(windows)]
#[allow(unsafe_code)]
pub fn sockopt_int(
    socket: &impl std::os::windows::io::AsRawSocket,
    level: i32,
    name: i32,
) -> io::Result<i32> {
    use windows_sys::Win32::Networking::WinSock::{
        SOCKET, SOCKET_ERROR, WSAGetLastError, getsockopt,
    };
    let mut value: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as i32;
    // SAFETY: the handle is valid while `socket` is borrowed; `value` and
    // `len` are live locals and `len` holds the size of `value`.
    let rc = unsafe {
        getsockopt(
            socket.as_raw_socket() as SOCKET,
            level,
            name,
            (&mut value as *mut i32).cast(),
            &mut len,
        )
    };
    if rc == SOCKET_ERROR {
        // SAFETY: reads this thread's last Winsock error; no arguments.
        return Err(io::Error::from_raw_os_error(unsafe { WSAGetLastError() }));
    }
    Ok(value)
}

/// `getsockopt(SOL_SOCKET, SO_EXCLUSIVEADDRUSE)`; socket2 has no getter for it.
#[cfg(windows)]
pub fn exclusive_address_use(socket: &impl std::os::windows::io::AsRawSocket) -> io::Result<bool> {
    use windows_sys::Win32::Networking::WinSock::{SO_EXCLUSIVEADDRUSE, SOL_SOCKET};
    Ok(sockopt_int(socket, SOL_SOCKET, SO_EXCLUSIVEADDRUSE)? != 0)
}

/// Lowers this process's soft limit on open files to `limit` (a higher one
/// only) and returns the soft limit it had, which [`raise_nofile`] gives
/// back.
#[cfg(target_os = "linux")]
pub fn lower_nofile(limit: u64) -> u64 {
    let mut current = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut current), 0);
        let before = current.rlim_cur;
        if before > limit {
            current.rlim_cur = limit;
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &current), 0);
        }
        before
    }
}

/// Raises this process's limit on open files (`RLIMIT_NOFILE`) to at least
/// `needed`, the hard limit too where the process may (as root). Returns
/// why not when it cannot, for the test to print as its reason to skip.
#[cfg(target_os = "linux")]
pub fn raise_nofile(needed: u64) -> Result<(), String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(format!("getrlimit: {}", io::Error::last_os_error()));
        }
        if limit.rlim_cur >= needed {
            return Ok(());
        }
        let raised = libc::rlimit {
            rlim_cur: needed,
            rlim_max: limit.rlim_max.max(needed),
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
            return Ok(());
        }
    }
    Err(format!(
        "needs {needed} open files; the limit is {} (hard {}) and cannot be raised: {}",
        limit.rlim_cur,
        limit.rlim_max,
        io::Error::last_os_error()
    ))
}

/// A field of `/proc/self/status` in KiB, such as `VmHWM` (peak resident
/// set size) or `VmRSS`.
#[cfg(target_os = "linux")]
pub fn status_kib(field: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// The path of an example binary, built by `cargo test` next to the test
/// binaries (`target/<profile>/examples/NAME`).
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test binary directory");
    let path = deps
        .join("..")
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "example binary {} is missing: build the examples first (plain `cargo test` does, \
         or `cargo build --examples`)",
        path.display()
    );
    path
}
