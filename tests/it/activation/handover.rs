//! Handing listeners to a successor (`activation::Handover`): the example
//! server restarted 20 times on `SIGHUP` while clients keep exchanging
//! greetings, successors that fail, and a successor that reads what it was
//! given through `ListenFds::from_env`, as it reads systemd's.
//!
//! The successor of the library tests is this test binary itself, run with
//! `--ignored --exact successor_child`, which adopts the socket named `web`,
//! says `READY=1`, and answers one client with what it saw. Linux: the
//! checks read `/proc`.
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::example_binary;
use crate::util::hello::{Running, Stream};
use sockwright::activation::{self, Handover, ListenFds};
use sockwright::hello::{CLIENT_GREETING, SERVER_GREETING};
use sockwright::{Error, ListenerBuilder};

/// The successor half: adopts `web` from the environment (which checks
/// `LISTEN_PID` against this process), says it is ready, and answers one
/// client with `pid=PID listen_pid=PID ino=INODE cloexec=0|1`.
#[test]
#[ignore = "the successor half of the handover tests; they start it"]
fn successor_child() {
    if std::env::var_os("LISTEN_FDS").is_none() {
        eprintln!("skipped: LISTEN_FDS is not set; this runs only as a handover's successor");
        return;
    }
    let listen_pid = std::env::var("LISTEN_PID").unwrap_or_default();
    let fds = ListenFds::from_env().expect("read LISTEN_FDS");
    let listener = fds.tcp_listener("web").expect("adopt web");
    activation::notify_ready().expect("READY=1");
    let ino = std::fs::metadata(format!("/proc/self/fd/{}", listener.as_raw_fd()))
        .map(|m| m.ino())
        .unwrap_or(0);
    // SAFETY: F_GETFD reads the descriptor's flags only.
    let flags = unsafe { libc::fcntl(listener.as_raw_fd(), libc::F_GETFD) };
    let (mut stream, _) = listener.accept().expect("accept");
    writeln!(
        stream,
        "pid={} listen_pid={listen_pid} ino={ino} cloexec={}",
        std::process::id(),
        u8::from(flags & libc::FD_CLOEXEC != 0)
    )
    .expect("answer");
}

fn successor(listener: &std::net::TcpListener) -> Result<activation::Successor, Error> {
    let exe = std::env::current_exe().unwrap();
    Handover::new(exe)
        .args([
            "--ignored",
            "--exact",
            &crate::util::test_path(module_path!(), "successor_child"),
            "--nocapture",
        ])
        .listener("web", listener)
        .timeout(Duration::from_secs(10))
        .start()
}

fn socket_inode(fd: i32) -> u64 {
    std::fs::metadata(format!("/proc/self/fd/{fd}"))
        .unwrap()
        .ino()
}

#[test]
fn the_successor_reads_the_socket_as_systemd_passes_it() {
    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let started = Instant::now();
    let successor = successor(&listener).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "successor {} ready in {:?}",
        successor.pid(),
        started.elapsed()
    );
    let mut stream = TcpStream::connect(addr).unwrap();
    // Both hold the socket; only the successor accepts.
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let want = format!(
        "pid={pid} listen_pid={pid} ino={} cloexec=1",
        socket_inode(listener.as_raw_fd()),
        pid = successor.pid()
    );
    assert_eq!(text.trim_end(), want);
    // The listener is still this process's, and still listens.
    listener.set_nonblocking(true).unwrap();
    assert_eq!(
        listener.accept().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
}

/// Whether the listener still takes clients in this process.
fn still_serving(listener: &std::net::TcpListener) {
    let addr = listener.local_addr().unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    let (mut accepted, _) = listener.accept().unwrap();
    accepted.write_all(b"still here").unwrap();
    let mut buf = [0; 10];
    client.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"still here");
}

#[test]
fn a_successor_that_exits_at_once_leaves_the_server_serving() {
    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let started = Instant::now();
    let err = Handover::new("sh")
        .args(["-c", "exit 3"])
        .listener("web", &listener)
        .start()
        .unwrap_err();
    eprintln!("failed in {:?}: {err}", started.elapsed());
    assert!(matches!(err, Error::Handover { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "hand listeners over to sh: it exited (exit status: 3) before it said it was ready"
    );
    still_serving(&listener);
}

#[test]
fn a_successor_that_never_says_it_is_ready_is_killed_and_the_server_serves_on() {
    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let started = Instant::now();
    let err = Handover::new("sleep")
        .arg("30")
        .listener("web", &listener)
        .timeout(Duration::from_millis(300))
        .start()
        .unwrap_err();
    let took = started.elapsed();
    eprintln!("failed in {took:?}: {err}");
    assert_eq!(
        err.to_string(),
        "hand listeners over to sleep: it did not say it was ready (READY=1) within 300ms; it was killed"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    still_serving(&listener);
}

#[test]
fn a_successor_that_cannot_start_says_why() {
    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let err = Handover::new("/nonexistent/server")
        .listener("web", &listener)
        .start()
        .unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with(
            "hand listeners over to /nonexistent/server: start it: No such file or directory"
        ),
        "{shown}"
    );
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    let err = Handover::new("sh")
        .listener("a:b", &listener)
        .start()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("listener name \"a:b\" is not a descriptor name"),
        "{err}"
    );
    let err = Handover::new("sh").start().unwrap_err();
    assert!(
        err.to_string().contains("needs at least one listener"),
        "{err}"
    );
    still_serving(&listener);
}

/// One client exchange: the greeting out, the reply back, within 5 s.
fn exchange(addr: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(CLIENT_GREETING.as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut reply = Vec::new();
    stream
        .read_to_end(&mut reply)
        .map_err(|e| format!("receive: {e}"))?;
    if reply != SERVER_GREETING.as_bytes() {
        return Err(format!("reply {:?}", String::from_utf8_lossy(&reply)));
    }
    Ok(())
}

/// The open descriptors of process `pid`: each number and what it links
/// to (`socket:[INODE]`, `pipe:[INODE]`, a path), by number.
fn fds_of(pid: u32) -> Vec<(String, String)> {
    let mut fds: Vec<(String, String)> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let target = std::fs::read_link(e.path()).ok()?;
                    Some((
                        e.file_name().to_string_lossy().into_owned(),
                        target.to_string_lossy().into_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    fds.sort();
    fds
}

/// What must be the same in every server: its descriptors other than the
/// sockets of its clients and its workers' wake pairs (which come and go
/// with the load), and how many descriptors hold the listening socket.
fn fixed_fds(pid: u32, listener: &str) -> (Vec<(String, String)>, usize) {
    let all = fds_of(pid);
    let held = all.iter().filter(|(_, t)| t == listener).count();
    let others = all
        .into_iter()
        .filter(|(_, t)| !t.starts_with("socket:"))
        .collect();
    (others, held)
}

/// [`fixed_fds`] once they hold still: a descriptor a server holds for a
/// moment of its own (std opens `/proc/self/cgroup` and a cgroup file when
/// it counts the CPUs for the workers) is gone a moment later, where one
/// passed down by a restart stays. Read until two reads 10 ms apart agree,
/// at most 100 times.
fn settled_fds(pid: u32, listener: &str) -> (Vec<(String, String)>, usize) {
    let mut last = fixed_fds(pid, listener);
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(10));
        let now = fixed_fds(pid, listener);
        if now == last {
            break;
        }
        last = now;
    }
    last
}

/// Whether `pid` has exited (gone, or a zombie waiting to be reaped).
fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn twenty_restarts_under_load_refuse_reset_and_drop_no_connection() {
    const RESTARTS: usize = 20;
    const CLIENTS: usize = 3;
    const LIMIT: Duration = Duration::from_secs(12);
    let started = Instant::now();
    let mut server = Running::start(
        Command::new(example_binary("server"))
            .args(["--forever", "--addr", "127.0.0.1", "--port", "0"])
            .env_remove("NOTIFY_SOCKET")
            .env_remove("LISTEN_FDS"),
    );
    let addr: SocketAddr = server.listening_addr().parse().unwrap();
    let first = server.child.id();
    // The listening socket, as the first server's descriptor 3 links to it.
    let listener = fds_of(first)
        .into_iter()
        .find(|(n, _)| n == "3")
        .map(|(_, t)| t)
        .expect("the first server's fd 3");
    let baseline = settled_fds(first, &listener);
    assert_eq!(baseline.1, 1, "{:?}", fds_of(first));
    let done = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (done, served, failures) = (done.clone(), served.clone(), failures.clone());
            std::thread::spawn(move || {
                // Bounded in count and in time.
                for _ in 0..20_000 {
                    if done.load(Ordering::Relaxed) || started.elapsed() > LIMIT {
                        break;
                    }
                    match exchange(addr) {
                        Ok(()) => {
                            served.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => failures.lock().unwrap().push(e),
                    }
                }
            })
        })
        .collect();
    let mut pid = first;
    let mut restarts = Vec::new();
    for round in 0..RESTARTS {
        let before = served.load(Ordering::Relaxed);
        let asked = Instant::now();
        // SAFETY: kill sends a signal to the server this test started (or
        // its successor); it takes no memory.
        assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGHUP) }, 0);
        let want = format!("restarted: old pid {pid}, new pid ");
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut next = None;
        while let Some((which, line)) = server.next_line(deadline) {
            if which == Stream::Err {
                if let Some(new) = line.strip_prefix(&want) {
                    next = Some(new.parse::<u32>().unwrap());
                    break;
                }
                assert!(!line.starts_with("error"), "round {round}: {line}");
            }
        }
        let new = next.unwrap_or_else(|| panic!("round {round}: no restart line"));
        let handed = asked.elapsed();
        // The old process finishes its clients and exits.
        while !exited(pid) {
            assert!(
                asked.elapsed() < Duration::from_secs(10),
                "round {round}: old server {pid} still running"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        // Only the new one holds the socket now: an exchange is its.
        exchange(addr).unwrap_or_else(|e| panic!("round {round}: new server {new}: {e}"));
        assert_eq!(
            settled_fds(new, &listener),
            baseline,
            "round {round}: new server's descriptors {:?}",
            fds_of(new)
        );
        restarts.push((
            handed,
            asked.elapsed(),
            served.load(Ordering::Relaxed) - before,
        ));
        pid = new;
    }
    // Let the clients meet the last server too, then stop them.
    let last = served.load(Ordering::Relaxed);
    while served.load(Ordering::Relaxed) < last + 10 && started.elapsed() < LIMIT {
        std::thread::sleep(Duration::from_millis(5));
    }
    done.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    // SAFETY: as above; the last server is not this test's child.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    let failures = failures.lock().unwrap();
    let total = served.load(Ordering::Relaxed);
    let slowest = restarts.iter().map(|r| r.1).max().unwrap();
    let handed: Vec<u128> = restarts.iter().map(|r| r.0.as_millis()).collect();
    eprintln!(
        "{RESTARTS} restarts with {CLIENTS} clients in {:?}: {total} exchanges, {} failed; \
         handover (SIGHUP to READY=1) ms {handed:?}; slowest round to old exit {slowest:?}; \
         in each server 1 descriptor of the listener and the same {} others that are not sockets",
        started.elapsed(),
        failures.len(),
        baseline.0.len()
    );
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    assert!(
        restarts.iter().all(|r| r.2 > 0),
        "some round saw no exchange: {:?}",
        restarts.iter().map(|r| r.2).collect::<Vec<_>>()
    );
}
