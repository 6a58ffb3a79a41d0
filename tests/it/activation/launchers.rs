//! The example server under the launchers people use: the real
//! `systemd-socket-activate` with `--fdname`, the systemfd forms (no
//! `LISTEN_PID`; `LISTEN_FDS_FIRST_FD`), and variables meant for another
//! process, which mean no socket was passed.
//!
//! The systemd cases are skipped, saying why, where
//! `systemd-socket-activate` is not installed (Debian: package `systemd`),
//! except under CI, where it must be.
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Instant;

use crate::util::example_binary;
use crate::util::hello::{PROGRAM_LIMIT, Running, SERVER_OUTPUT, reserve_port};
use sockwright::ListenerBuilder;
use sockwright::hello::{CLIENT_GREETING, SERVER_GREETING};

use super::have_activate;

/// `systemd-socket-activate -l 127.0.0.1:PORT [--fdname=NAME] PROGRAM...`,
/// once it listens; retried with a fresh port when the reserved one was
/// taken meanwhile. Returns it and the address.
fn activate(fdname: Option<&str>, program: &[&str]) -> (Running, String) {
    for _ in 0..5 {
        let addr = format!("127.0.0.1:{}", reserve_port());
        let mut command = Command::new("systemd-socket-activate");
        command.arg("-l").arg(&addr);
        if let Some(name) = fdname {
            command.arg(format!("--fdname={name}"));
        }
        command.args(program).env_remove("RUST_LOG");
        let mut running = Running::start(&mut command);
        let deadline = Instant::now() + PROGRAM_LIMIT;
        while let Some((_, line)) = running.next_line(deadline) {
            if line.starts_with("Listening on ") {
                return (running, addr);
            }
            if line.starts_with("Failed") {
                break;
            }
        }
    }
    panic!("systemd-socket-activate could not bind a reserved port 5 times");
}

/// One client exchange with the server at `addr`.
fn greet(addr: &str) {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream.set_read_timeout(Some(PROGRAM_LIMIT)).unwrap();
    stream.write_all(CLIENT_GREETING.as_bytes()).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, SERVER_GREETING);
}

fn served_one(running: Running) {
    let finished = running.finish();
    assert!(finished.status.success(), "{finished:?}");
    assert_eq!(finished.stdout, SERVER_OUTPUT);
}

#[test]
fn under_systemd_socket_activate_with_a_name() {
    if !have_activate() {
        return;
    }
    let server = example_binary("server");
    let server = server.to_str().unwrap();
    let (running, addr) = activate(Some("web"), &[server, "--listen", "sd-listen:web"]);
    greet(&addr);
    served_one(running);
}

#[test]
fn without_listen_pid_as_systemfd_no_pid_passes_it() {
    if !have_activate() {
        return;
    }
    let server = example_binary("server");
    let script = format!(
        "unset LISTEN_PID; exec {} --listen sd-listen",
        server.display()
    );
    let (running, addr) = activate(None, &["sh", "-c", &script]);
    greet(&addr);
    served_one(running);
}

#[test]
fn a_listen_pid_of_another_process_means_no_socket_was_passed() {
    if !have_activate() {
        return;
    }
    let server = example_binary("server");
    // Process 1 is never this server.
    let script = format!("LISTEN_PID=1 exec {} --listen sd-listen", server.display());
    let (running, addr) = activate(None, &["sh", "-c", &script]);
    // The first client starts the server, which finds nothing for it.
    let _ = TcpStream::connect(&addr);
    let finished = running.finish();
    assert!(!finished.status.success(), "{finished:?}");
    assert!(
        finished.stderr.contains(
            "no inherited socket at position 0: no sockets were passed to this process \
             (LISTEN_PID=1 names another process, not this one ("
        ),
        "{}",
        finished.stderr
    );
    eprintln!("{}", finished.stderr.trim_end());
}

/// Whether descriptor `fd` of process `pid` is close-on-exec: the `flags`
/// line of `/proc/PID/fdinfo/FD` (octal) has `O_CLOEXEC`.
fn cloexec_in(pid: u32, fd: i32) -> bool {
    let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).unwrap();
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .map(|f| i64::from_str_radix(f.trim(), 8).unwrap())
        .unwrap();
    flags & i64::from(libc::O_CLOEXEC) != 0
}

/// Starts the example server with `args` and `listeners` passed as
/// systemfd passes them: at numbers from `first`, named by
/// `LISTEN_FDS_FIRST_FD`, without `LISTEN_PID`.
fn start_passed(listeners: &[&std::net::TcpListener], first: i32, args: &[&str]) -> Running {
    let count = listeners.len() as i32;
    for (i, listener) in listeners.iter().enumerate() {
        let at = first + i as i32;
        // SAFETY: dup3 onto a number this test does not use, close-on-exec
        // so that no other test's child inherits it; the copy is closed
        // below, after the server started.
        assert_eq!(
            unsafe { libc::dup3(listener.as_raw_fd(), at, libc::O_CLOEXEC) },
            at
        );
    }
    let mut command = Command::new(example_binary("server"));
    command
        .args(args)
        .env("LISTEN_FDS", count.to_string())
        .env("LISTEN_FDS_FIRST_FD", first.to_string())
        .env_remove("LISTEN_PID")
        .env_remove("LISTEN_FDNAMES")
        .env_remove("RUST_LOG");
    // SAFETY: the closure calls only fcntl, which is async-signal-safe, on
    // the child's own descriptor table.
    unsafe {
        command.pre_exec(move || {
            for fd in first..first + count {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let running = Running::start(&mut command);
    for fd in first..first + count {
        // SAFETY: closes the copies made above, and nothing else.
        unsafe { libc::close(fd) };
    }
    running
}

#[test]
fn listen_fds_first_fd_moves_the_first_and_every_passed_one_becomes_close_on_exec() {
    // Two listeners, as systemfd passes them; the server takes the first.
    let a = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let b = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let first = 900;
    let addr = a.local_addr().unwrap().to_string();
    let mut running = start_passed(&[&a, &b], first, &["--listen", "sd-listen", "--count", "1"]);
    assert_eq!(running.listening_addr(), addr);
    let pid = running.child.id();
    // Adopted or not, each passed descriptor is close-on-exec now.
    assert!(cloexec_in(pid, first), "the adopted one");
    assert!(cloexec_in(pid, first + 1), "the one not adopted");
    greet(&addr);
    served_one(running);
    eprintln!(
        "LISTEN_FDS=2 LISTEN_FDS_FIRST_FD={first}, no LISTEN_PID: served on fd {first}, fds {first} and {} close-on-exec",
        first + 1
    );
}

#[test]
fn sd_listen_star_serves_every_passed_socket() {
    let a = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let b = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let addrs = [
        a.local_addr().unwrap().to_string(),
        b.local_addr().unwrap().to_string(),
    ];
    // `--count 1` counts per listener: one client on each.
    let mut running = start_passed(&[&a, &b], 910, &["--listen", "sd-listen:*", "--count", "1"]);
    let mut listening = [running.listening_addr(), running.listening_addr()];
    listening.sort();
    let mut want = addrs.clone();
    want.sort();
    assert_eq!(listening, want);
    for addr in &addrs {
        greet(addr);
    }
    let finished = running.finish();
    assert!(finished.status.success(), "{finished:?}");
    assert_eq!(finished.stdout, SERVER_OUTPUT.repeat(2));
}
