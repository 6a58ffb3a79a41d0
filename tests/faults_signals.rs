//! A signal that interrupts a blocking call does not surface as a spurious
//! `Interrupted` error: not in a connect, not in an accept on a built
//! listener, not in the hello exchange's reads and writes.
//!
//! The test installs a `SIGUSR1` handler without `SA_RESTART`, so a blocking
//! system call that the signal hits returns `EINTR`; it waits (through
//! `/proc/self/task/TID/syscall`) until the thread under test is inside the
//! blocking call, then sends the signal to that thread only. Control cases
//! show that the same procedure makes a bare `connect(2)`, `accept(2)` and
//! `recv(2)` fail with `Interrupted`, so the other cases cannot pass without
//! the signal landing.
//!
//! Linux on x86_64 and aarch64 only (system call numbers).
//!
//! A test program of its own: the handler it installs is the whole
//! process's (every blocking call in the process would then end with
//! `EINTR` on a signal), and it reads every thread's system call in
//! `/proc/self/task`; tests of other files must not run beside it.
#![cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]

mod util;

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::UdpSocket;
use std::os::unix::thread::JoinHandleExt;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use sockwright::hello::{CLIENT_GREETING, Exchange, SERVER_GREETING};
use sockwright::{ConnectorBuilder, ListenerBuilder};
use util::{full_listener, tcp_pair};

/// System call numbers this file waits in.
#[cfg(target_arch = "x86_64")]
mod nr {
    pub const CONNECT: &[u64] = &[42];
    pub const POLL: &[u64] = &[7, 271];
    /// `accept`, `accept4`.
    pub const ACCEPT: &[u64] = &[43, 288];
    /// `recvfrom`, which `recv(3)` calls.
    pub const RECV: &[u64] = &[45];
    /// `sendto`, which `send(3)` calls.
    pub const SEND: &[u64] = &[44];
}
#[cfg(target_arch = "aarch64")]
mod nr {
    pub const CONNECT: &[u64] = &[203];
    pub const POLL: &[u64] = &[73];
    pub const ACCEPT: &[u64] = &[202, 242];
    pub const RECV: &[u64] = &[207];
    pub const SEND: &[u64] = &[206];
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

/// Installs the handler, runs `work` on a new thread named `name`, and
/// returns its handle and its kernel thread id.
fn spawn_to_interrupt<T: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> (JoinHandle<T>, String) {
    install_handler();
    let handle = thread::Builder::new()
        .name(name.to_owned())
        .spawn(work)
        .unwrap();
    let tid = wait_for_task(name);
    (handle, tid)
}

/// Runs `work` on a new thread, waits until that thread is blocked in one of
/// the system calls `nrs`, and sends it `SIGUSR1`. Returns the thread handle,
/// for the caller to unblock (if needed) and join.
fn interrupt<T: Send + 'static>(
    name: &str,
    nrs: &'static [u64],
    work: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    let (handle, tid) = spawn_to_interrupt(name, work);
    wait_until_in_syscall(&tid, nrs);
    signal(&handle);
    handle
}

/// Sends `SIGUSR1` to the thread of `handle` and waits for the handler to run.
fn signal<T>(handle: &JoinHandle<T>) {
    let before = SIGNALS.load(Ordering::SeqCst);
    // SAFETY: the handle is held and not joined, so its pthread_t is valid
    // (a thread that has already ended gets `ESRCH`).
    let sent = unsafe { libc::pthread_kill(handle.as_pthread_t(), libc::SIGUSR1) };
    assert_eq!(sent, 0, "pthread_kill failed");
    let deadline = Instant::now() + Duration::from_secs(5);
    while SIGNALS.load(Ordering::SeqCst) == before {
        assert!(Instant::now() < deadline, "the signal handler never ran");
        thread::yield_now();
    }
}

/// Runs `work` on a new thread and signals it each time it is back in one
/// of the system calls `nrs`, at most `max` times and no more often than
/// every `pace`, until it ends. Returns its result and the signals sent.
fn keep_interrupting<T: Send + 'static>(
    name: &str,
    nrs: &'static [u64],
    pace: Duration,
    max: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> (T, usize) {
    let (handle, tid) = spawn_to_interrupt(name, work);
    let file = format!("/proc/self/task/{tid}/syscall");
    let mut sent = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while sent < max && !handle.is_finished() && Instant::now() < deadline {
        let text = fs::read_to_string(&file).unwrap_or_default();
        let current = text.split_whitespace().next().and_then(|n| n.parse().ok());
        if current.is_some_and(|n| nrs.contains(&n)) {
            signal(&handle);
            sent += 1;
            thread::sleep(pace);
        } else {
            thread::sleep(Duration::from_millis(1));
        }
    }
    (handle.join().unwrap(), sent)
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
fn wait_until_in_syscall(tid: &str, nrs: &[u64]) {
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
    let dir = util::TempDir::new("signals-unix");
    let path = dir.join("full.sock");
    let (listener, _queued) = util::full_unix_listener(&path);
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

/// The control for accepts: a bare `accept(2)` hit by the signal fails with
/// `Interrupted`.
#[test]
fn control_a_bare_accept_is_interrupted() {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(8).unwrap();
    let handle = interrupt("sig-accept-ctl", nr::ACCEPT, move || {
        socket.accept().map(|_| ())
    });
    let err = handle.join().unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Interrupted, "{err}");
}

/// `accept` on a built listener (std's `TcpListener::accept`, which retries
/// `EINTR`) keeps waiting through a signal and returns the next connection.
#[test]
fn accept_on_a_built_listener_survives_a_signal() {
    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = interrupt("sig-accept", nr::ACCEPT, move || listener.accept());
    let client = ConnectorBuilder::new().connect(addr).unwrap();
    let (_conn, from) = handle.join().unwrap().expect("accept after a signal");
    assert_eq!(from, client.local_addr().unwrap());
}

/// The same for a built Unix listener.
#[test]
fn accept_on_a_built_unix_listener_survives_a_signal() {
    let dir = util::TempDir::new("signals-accept");
    let path = dir.join("accept.sock");
    let listener = ListenerBuilder::new().listen_unix(&path).unwrap();
    let handle = interrupt("sig-accept-unix", nr::ACCEPT, move || listener.accept());
    let _client = ConnectorBuilder::new().connect_unix(&path).unwrap();
    handle.join().unwrap().expect("accept after a signal");
}

/// The control for reads: std's `TcpStream::read` does not retry `EINTR`,
/// so a read hit by the signal fails with `Interrupted`.
#[test]
fn control_a_bare_read_is_interrupted() {
    let (_client, mut server) = tcp_pair();
    let handle = interrupt("sig-read-ctl", nr::RECV, move || server.read(&mut [0; 16]));
    let err = handle.join().unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Interrupted, "{err}");
}

/// The hello server waiting for a greeting keeps waiting through a signal,
/// and answers the greeting that comes after it.
#[test]
fn exchange_read_survives_a_signal() {
    let (mut client, mut server) = tcp_pair();
    let handle = interrupt("sig-read", nr::RECV, move || {
        Exchange::server().run(&mut server)
    });
    client.write_all(CLIENT_GREETING.as_bytes()).unwrap();
    let got = handle.join().unwrap().expect("exchange after a signal");
    assert_eq!(got, CLIENT_GREETING.as_bytes());
    let mut reply = [0; 17];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, SERVER_GREETING.as_bytes());
}

/// Signals arriving again and again, each sooner than the timeout, do not
/// hold a receive from a silent peer open past its timeout.
#[test]
fn repeated_signals_do_not_stretch_the_exchange_timeout() {
    let (_silent, mut server) = tcp_pair();
    let timeout = Duration::from_secs(1);
    let ((result, took), sent) = keep_interrupting(
        "sig-repeat",
        nr::RECV,
        Duration::from_millis(200),
        20,
        move || {
            let started = Instant::now();
            let result = Exchange::server().timeout(timeout).run(&mut server);
            (result, started.elapsed())
        },
    );
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(sent >= 2, "only {sent} signals landed");
    assert!(
        took >= timeout && took <= timeout + Duration::from_millis(1500),
        "timed out after {took:?} and {sent} signals (timeout {timeout:?})"
    );
    eprintln!("{sent} signals; timed out after {took:?}");
}

/// The hello client blocked sending a message larger than the socket
/// buffers keeps sending through a signal, and completes.
#[test]
fn exchange_write_survives_a_signal() {
    let (mut client, mut server) = tcp_pair();
    let big = vec![b'w'; 8 << 20];
    let message = big.clone();
    let handle = interrupt("sig-write", nr::SEND, move || {
        Exchange::client()
            .message(message)
            .max_message(8 << 20)
            .run(&mut client)
    });
    let mut got = vec![0; big.len()];
    server.read_exact(&mut got).unwrap();
    assert!(got == big, "the message arrived changed");
    server.write_all(SERVER_GREETING.as_bytes()).unwrap();
    let reply = handle.join().unwrap().expect("exchange after a signal");
    assert_eq!(reply, SERVER_GREETING.as_bytes());
}

/// The UDP server waiting for a datagram keeps waiting through a signal.
#[test]
fn udp_exchange_survives_a_signal() {
    let socket = ListenerBuilder::new().bind_udp("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let handle = interrupt("sig-udp", nr::RECV, move || {
        Exchange::server().run_udp(&socket)
    });
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.send_to(CLIENT_GREETING.as_bytes(), addr).unwrap();
    let (got, from) = handle.join().unwrap().expect("exchange after a signal");
    assert_eq!(got, CLIENT_GREETING.as_bytes());
    assert_eq!(from, client.local_addr().unwrap());
}
