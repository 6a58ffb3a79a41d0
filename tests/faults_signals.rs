//! A signal that interrupts a blocking call does not surface as a spurious
//! `Interrupted` error.
//!
//! The test installs a `SIGUSR1` handler without `SA_RESTART`, so a blocking
//! system call that the signal hits returns `EINTR`; it waits (through
//! `/proc/self/task/TID/syscall`) until the thread under test is inside the
//! blocking call, then sends the signal to that thread only. A control case
//! shows that the same procedure makes a bare `connect(2)` fail with
//! `Interrupted`, so the other cases cannot pass without the signal landing.
//!
//! Linux on x86_64 and aarch64 only (system call numbers).
#![cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]

mod faults_util;

use std::fs;
use std::io::ErrorKind;
use std::os::unix::thread::JoinHandleExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use faults_util::full_listener;
use sockwright::ConnectorBuilder;

/// System call numbers this file waits in.
#[cfg(target_arch = "x86_64")]
mod nr {
    pub const CONNECT: &[u64] = &[42];
    pub const POLL: &[u64] = &[7, 271];
}
#[cfg(target_arch = "aarch64")]
mod nr {
    pub const CONNECT: &[u64] = &[203];
    pub const POLL: &[u64] = &[73];
}

static SIGNALS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, Ordering::SeqCst);
}

/// Installs the no-op `SIGUSR1` handler, without `SA_RESTART`.
fn install_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: a zeroed `sigaction` is a valid value to fill in; the
        // handler only increments an atomic, which is async-signal-safe.
        let result = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = 0;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut())
        };
        assert_eq!(result, 0, "sigaction failed");
    });
}

/// Runs `work` on a new thread, waits until that thread is blocked in one of
/// the system calls `nrs`, and sends it `SIGUSR1`. Returns the thread handle,
/// for the caller to unblock (if needed) and join.
fn interrupt<T: Send + 'static>(
    name: &str,
    nrs: &'static [u64],
    work: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    install_handler();
    let handle = thread::Builder::new()
        .name(name.to_owned())
        .spawn(work)
        .unwrap();
    let tid = wait_for_task(name);
    wait_until_in_syscall(tid, nrs);
    let before = SIGNALS.load(Ordering::SeqCst);
    // SAFETY: the thread is alive (it is blocked in a system call and
    // its handle is held), so its pthread_t is valid.
    let sent = unsafe { libc::pthread_kill(handle.as_pthread_t(), libc::SIGUSR1) };
    assert_eq!(sent, 0, "pthread_kill failed");
    let deadline = Instant::now() + Duration::from_secs(5);
    while SIGNALS.load(Ordering::SeqCst) == before {
        assert!(Instant::now() < deadline, "the signal handler never ran");
        thread::yield_now();
    }
    handle
}

/// The kernel thread id of this process's thread called `name`.
fn wait_for_task(name: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        for task in fs::read_dir("/proc/self/task").unwrap().flatten() {
            let comm = fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.trim_end() == name {
                return task.file_name().to_string_lossy().into_owned();
            }
        }
        assert!(Instant::now() < deadline, "thread {name} never started");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Polls `/proc/self/task/TID/syscall` until the thread sits in one of `nrs`.
fn wait_until_in_syscall(tid: String, nrs: &[u64]) {
    let file = format!("/proc/self/task/{tid}/syscall");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = fs::read_to_string(&file).unwrap_or_default();
        let current = text.split_whitespace().next().and_then(|n| n.parse().ok());
        if current.is_some_and(|n| nrs.contains(&n)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "thread {tid} never blocked in {nrs:?}; last: {text:?}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// The control: a bare blocking `connect(2)` hit by the signal fails with
/// `Interrupted`. Without this, the cases below could pass because the
/// signal missed.
#[test]
fn control_a_bare_connect_is_interrupted() {
    let full = full_listener(Duration::from_millis(200)).expect("no SYN dropped at a full queue");
    let addr: socket2::SockAddr = full.addr.into();
    let handle = interrupt("sig-control", nr::CONNECT, move || {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
        socket.connect(&addr)
    });
    let err = handle.join().unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Interrupted, "{err}");
}

/// A blocking connect (no connect timeout) hit by the signal keeps waiting
/// and connects once the server makes room.
#[test]
fn blocking_connect_survives_a_signal() {
    let full = full_listener(Duration::from_millis(200)).expect("no SYN dropped at a full queue");
    let addr = full.addr;
    let handle = interrupt("sig-connect", nr::CONNECT, move || {
        ConnectorBuilder::new().connect(addr)
    });
    drop(full.listener.accept().unwrap());
    let stream = handle.join().unwrap().expect("connect after a signal");
    assert_eq!(stream.peer_addr().unwrap(), addr);
}

/// A connect with a timeout waits in `poll(2)`; a signal there neither ends
/// it early nor turns into an error.
#[test]
fn connect_with_timeout_survives_a_signal() {
    let full = full_listener(Duration::from_millis(200)).expect("no SYN dropped at a full queue");
    let addr = full.addr;
    let handle = interrupt("sig-connect-to", nr::POLL, move || {
        ConnectorBuilder::new()
            .connect_timeout(Duration::from_secs(20))
            .connect(addr)
    });
    drop(full.listener.accept().unwrap());
    let stream = handle.join().unwrap().expect("connect after a signal");
    assert_eq!(stream.peer_addr().unwrap(), addr);
}

/// A Unix connect with a timeout waits in `connect(2)` for room in a full
/// accept queue; a signal there does not end it.
#[test]
fn unix_connect_with_timeout_survives_a_signal() {
    let dir = faults_util::TempDir::new("signals-unix");
    let path = dir.join("full.sock");
    let (listener, _queued) = faults_util::full_unix_listener(&path);
    let target = path.clone();
    let handle = interrupt("sig-unix", nr::CONNECT, move || {
        ConnectorBuilder::new()
            .connect_timeout(Duration::from_secs(20))
            .connect_unix(&target)
    });
    drop(listener.accept().unwrap());
    handle.join().unwrap().expect("connect after a signal");
}

/// A Happy Eyeballs connect waits for its pending attempts in `poll(2)`; a
/// signal there neither ends the race nor turns into an error.
#[test]
fn happy_eyeballs_race_survives_a_signal() {
    let first = full_listener(Duration::from_millis(200)).expect("no SYN dropped at a full queue");
    let second = full_listener(Duration::from_millis(200)).expect("no SYN dropped at a full queue");
    let targets = [first.addr, second.addr];
    let handle = interrupt("sig-race", nr::POLL, move || {
        ConnectorBuilder::new().connect(&targets[..])
    });
    // Room in the second queue: its attempt's resent SYN gets in.
    drop(second.listener.accept().unwrap());
    let stream = handle.join().unwrap().expect("race after a signal");
    assert_eq!(stream.peer_addr().unwrap(), second.addr);
}
