//! Socket activation against the real `systemd-socket-activate`, and
//! adopting descriptors that are not what was asked for.
//!
//! The `unsafe` adopting calls here meet their contract: each is given a
//! descriptor that is not the kind asked for (only inspected, left as it
//! was), or one whose owner gave it up with `into_raw_fd`.
//!
//! The activated half runs in a child: this test binary itself, started by
//! `systemd-socket-activate` with `--ignored --exact activated_child`, which
//! adopts the sockets named in `SOCKWRIGHT_ACTIVATED` and answers one client
//! on each with a line saying what it adopted. Skipped, saying why, where
//! `systemd-socket-activate` is not installed (Debian: package `systemd`),
//! except under CI, where it must be.
#![cfg(unix)]

mod handover;
mod launchers;
mod notify;

use crate::util;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::os::unix::io::{AsRawFd, IntoRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::Instant;

use crate::util::TempDir;
use crate::util::hello::{PROGRAM_LIMIT, Running, SERVER_OUTPUT, reserve_port, run};
use sockwright::activation::{self, ListenFds};
use sockwright::{Error, Listener, ListenerBuilder};

const CHILD_VAR: &str = "SOCKWRIGHT_ACTIVATED";

/// The child half: adopts each selector of `SOCKWRIGHT_ACTIVATED`
/// (comma-separated positions or names) in turn, accepts one client on it
/// and writes it one line, `SELECTOR fd=N name=NAME kind=tcp|unix
/// cloexec=0|1 untouched=FDS`, where `untouched` lists the passed
/// descriptors not yet adopted that are still not close-on-exec (as the
/// service manager passed them).
#[test]
#[ignore = "the child half of the activation tests; they run it under systemd-socket-activate"]
fn activated_child() {
    let Ok(selectors) = std::env::var(CHILD_VAR) else {
        eprintln!("skipped: {CHILD_VAR} is not set; this runs only under systemd-socket-activate");
        return;
    };
    // SAFETY: this child runs this one test; no other thread of it reads
    // the environment.
    let fds = unsafe { ListenFds::take_from_env() }.expect("read LISTEN_FDS");
    for var in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
        assert!(std::env::var_os(var).is_none(), "{var} still set");
    }
    let mut adopted = Vec::new();
    for selector in selectors.split(',') {
        let listener = match selector.parse::<usize>() {
            Ok(position) => fds.listener(position),
            Err(_) => fds.listener(selector),
        }
        .unwrap_or_else(|e| panic!("adopt {selector}: {e}"));
        let (fd, kind) = match &listener {
            Listener::Tcp(l) => (l.as_raw_fd(), "tcp"),
            Listener::Unix(l) => (l.as_raw_fd(), "unix"),
            other => panic!("unexpected listener {other:?}"),
        };
        adopted.push(fd);
        let name = fds
            .fds()
            .find(|f| f.fd() == fd)
            .and_then(|f| f.name().map(str::to_owned))
            .unwrap_or_else(|| "-".into());
        let untouched: Vec<String> = fds
            .fds()
            .map(|f| f.fd())
            .filter(|f| !adopted.contains(f) && !cloexec(*f))
            .map(|f| f.to_string())
            .collect();
        let (mut stream, _) = listener.accept().expect("accept");
        writeln!(
            stream,
            "{selector} fd={fd} name={name} kind={kind} cloexec={} untouched={}",
            u8::from(cloexec(fd)),
            untouched.join("+")
        )
        .expect("answer");
    }
}

fn cloexec(fd: RawFd) -> bool {
    // SAFETY: F_GETFD reads the descriptor's flags only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    assert!(flags >= 0, "fd {fd} is not open");
    flags & libc::FD_CLOEXEC != 0
}

/// Both descriptor flag words (`F_GETFD`, `F_GETFL`): equal before and after
/// means the descriptor was left as it was.
fn flags(fd: RawFd) -> (i32, i32) {
    // SAFETY: F_GETFD and F_GETFL read the descriptor's flags only.
    unsafe {
        (
            libc::fcntl(fd, libc::F_GETFD),
            libc::fcntl(fd, libc::F_GETFL),
        )
    }
}

fn clear_cloexec(fd: RawFd) {
    // SAFETY: F_SETFD changes only this descriptor's flags.
    assert_eq!(unsafe { libc::fcntl(fd, libc::F_SETFD, 0) }, 0);
}

/// Whether `systemd-socket-activate` runs here; says why not when it does not.
/// Under CI (`CI` set) it must: `.ci/run` installs it.
fn have_activate() -> bool {
    match Command::new("systemd-socket-activate")
        .arg("--version")
        .output()
    {
        Ok(out) if out.status.success() => true,
        other => {
            assert!(
                std::env::var_os("CI").is_none(),
                "systemd-socket-activate must run under CI: {other:?}"
            );
            eprintln!(
                "skipped: systemd-socket-activate cannot run here ({other:?}); Debian package systemd"
            );
            false
        }
    }
}

/// `systemd-socket-activate` with one `-l` per address, `--fdname` when any
/// is named, running this test binary's `activated_child` with `selectors`.
/// Returns once it listens on every address, or `None` if a bind failed
/// (a reserved port taken meanwhile): the caller retries.
fn activate(
    listen: &[(String, &str)],
    selectors: &str,
    program: Option<&[&str]>,
) -> Option<Running> {
    let mut command = Command::new("systemd-socket-activate");
    for (addr, _) in listen {
        command.arg("-l").arg(addr);
    }
    if listen.iter().any(|(_, name)| !name.is_empty()) {
        let names: Vec<&str> = listen.iter().map(|(_, n)| *n).collect();
        command.arg(format!("--fdname={}", names.join(":")));
    }
    match program {
        Some(program) => {
            command.args(program);
        }
        None => {
            command
                .arg(format!("--setenv={CHILD_VAR}={selectors}"))
                .arg(std::env::current_exe().unwrap())
                .args(["--ignored", "--exact"])
                .arg(util::test_path(module_path!(), "activated_child"))
                .arg("--nocapture");
        }
    }
    command.env_remove("RUST_LOG");
    let mut running = Running::start(&mut command);
    let deadline = Instant::now() + PROGRAM_LIMIT;
    let mut ready = 0;
    while ready < listen.len() {
        let (_, line) = running.next_line(deadline)?;
        if line.starts_with("Listening on ") {
            ready += 1;
        } else if line.starts_with("Failed") {
            return None;
        }
    }
    Some(running)
}

/// Retries [`activate`] with fresh ports (`PORT` in an address is replaced).
fn activate_with_ports(listen: &[(&str, &str)], selectors: &str) -> (Running, Vec<String>) {
    for _ in 0..5 {
        let addrs: Vec<(String, &str)> = listen
            .iter()
            .map(|(a, n)| (a.replace("PORT", &reserve_port().to_string()), *n))
            .collect();
        if let Some(running) = activate(&addrs, selectors, None) {
            return (running, addrs.into_iter().map(|(a, _)| a).collect());
        }
    }
    panic!("systemd-socket-activate could not bind a reserved port 5 times");
}

/// Connects to `addr` (a TCP address or a socket path) and reads the line
/// the child answers.
fn answer(addr: &str) -> String {
    let mut text = String::new();
    if addr.starts_with('/') {
        let mut s = UnixStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        s.set_read_timeout(Some(PROGRAM_LIMIT)).unwrap();
        s.read_to_string(&mut text).unwrap();
    } else {
        let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        s.set_read_timeout(Some(PROGRAM_LIMIT)).unwrap();
        s.read_to_string(&mut text).unwrap();
    }
    text.trim_end().to_owned()
}

fn child_passed(running: Running) {
    let finished = running.finish();
    assert!(
        finished.status.success() && finished.stdout.contains("1 passed"),
        "child failed: {finished:?}"
    );
}

#[test]
fn tcp_socket_by_position_without_names() {
    if !have_activate() {
        return;
    }
    let (running, addrs) = activate_with_ports(&[("127.0.0.1:PORT", "")], "0");
    assert_eq!(
        answer(&addrs[0]),
        "0 fd=3 name=- kind=tcp cloexec=1 untouched="
    );
    child_passed(running);
}

#[test]
fn tcp_socket_by_name() {
    if !have_activate() {
        return;
    }
    let (running, addrs) = activate_with_ports(&[("127.0.0.1:PORT", "web")], "web");
    assert_eq!(
        answer(&addrs[0]),
        "web fd=3 name=web kind=tcp cloexec=1 untouched="
    );
    child_passed(running);
}

#[test]
fn unix_socket_with_and_without_a_name() {
    if !have_activate() {
        return;
    }
    let dir = TempDir::new("activate-unix");
    for (name, selector) in [("", "0"), ("control", "control")] {
        let path = dir.join(&format!("s{}.sock", name.len()));
        let addrs = [(path.display().to_string(), name)];
        let running = activate(&addrs, selector, None).expect("bind a fresh path");
        let shown = if name.is_empty() { "-" } else { name };
        assert_eq!(
            answer(&addrs[0].0),
            format!("{selector} fd=3 name={shown} kind=unix cloexec=1 untouched=")
        );
        child_passed(running);
    }
}

#[test]
fn two_sockets_by_name_leave_the_other_untouched_until_asked() {
    if !have_activate() {
        return;
    }
    let dir = TempDir::new("activate-two");
    let path = dir.join("admin.sock").display().to_string();
    let listen = [("127.0.0.1:PORT", "web"), (path.as_str(), "admin")];
    // The second is asked for first; reading the variables made the first
    // close-on-exec too, as sd_listen_fds does, though it is not adopted yet.
    let (running, addrs) = activate_with_ports(&listen, "admin,web");
    // Connect to web first: it starts the child, which answers admin first.
    let mut web = TcpStream::connect(&addrs[0]).unwrap();
    web.set_read_timeout(Some(PROGRAM_LIMIT)).unwrap();
    assert_eq!(
        answer(&addrs[1]),
        "admin fd=4 name=admin kind=unix cloexec=1 untouched="
    );
    let mut text = String::new();
    web.read_to_string(&mut text).unwrap();
    assert_eq!(
        text.trim_end(),
        "web fd=3 name=web kind=tcp cloexec=1 untouched="
    );
    child_passed(running);
}

/// The tutorial's client in Python: `python3 -c` with the `socket` module.
const CLIENT_PY: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"Hello from client")
print("Hello message sent", flush=True)
print(s.recv(1023).decode("utf-8", "replace"), flush=True)
"#;

#[test]
fn the_example_server_under_socket_activation_answers_a_python_client() {
    if !have_activate() {
        return;
    }
    if Command::new("python3").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 must run under CI"
        );
        eprintln!("skipped: python3 cannot run here");
        return;
    }
    let server = util::example_binary("server").display().to_string();
    for (name, listen) in [("", "sd-listen"), ("hello", "sd-listen:hello")] {
        let (running, port) = (0..5)
            .find_map(|_| {
                let port = reserve_port();
                let addr = format!("127.0.0.1:{port}");
                let program = [server.as_str(), "--listen", listen];
                activate(&[(addr, name)], "", Some(&program[..])).map(|r| (r, port))
            })
            .expect("systemd-socket-activate could not bind a reserved port 5 times");
        let client = run(Command::new("python3")
            .arg("-c")
            .arg(CLIENT_PY)
            .arg(port.to_string()));
        assert!(client.status.success(), "{client:?}");
        assert_eq!(client.stdout, "Hello message sent\nHello from server\n");
        let served = running.finish();
        assert!(served.status.success(), "{served:?}");
        assert_eq!(served.stdout, SERVER_OUTPUT);
        assert!(
            served
                .stderr
                .contains(&format!("listening on 127.0.0.1:{port}")),
            "{served:?}"
        );
    }
}

#[test]
fn a_regular_file_is_refused_and_left_open() {
    let dir = TempDir::new("adopt-file");
    let path = dir.join("data");
    std::fs::write(&path, b"kept").unwrap();
    let mut file = File::open(&path).unwrap();
    let fd = file.as_raw_fd();
    clear_cloexec(fd);
    let before = flags(fd);
    // SAFETY: a regular file, not a listener: only inspected.
    let err = unsafe { activation::tcp_listener(fd) }.unwrap_err();
    assert!(matches!(err, Error::Adopt { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "adopt fd {fd}: it is a regular file, not a socket; a listening TCP socket was asked for"
        )
    );
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(flags(fd), before, "the file's flags changed");
    let mut text = String::new();
    file.read_to_string(&mut text).unwrap();
    assert_eq!(text, "kept");
}

#[test]
fn a_connected_socket_is_not_a_listener_and_keeps_working() {
    let (mut client, mut server) = util::tcp_pair();
    let fd = client.as_raw_fd();
    let before = flags(fd);
    // SAFETY: a connected socket, not a listener: only inspected.
    for err in unsafe {
        [
            activation::tcp_listener(fd).unwrap_err(),
            activation::listener(fd).unwrap_err(),
        ]
    } {
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "adopt fd {fd}: it is a non-listening IPv4 stream socket; a listening "
            )),
            "{text}"
        );
    }
    assert_eq!(flags(fd), before);
    client.write_all(b"still").unwrap();
    let mut buf = [0; 5];
    server.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"still");
}

#[test]
fn a_udp_socket_is_not_a_tcp_listener() {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let fd = udp.as_raw_fd();
    let before = flags(fd);
    // SAFETY: a UDP socket, asked for as a TCP listener: only inspected.
    let err = unsafe { activation::tcp_listener(fd) }.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "adopt fd {fd}: it is an IPv4 datagram socket; a listening TCP socket was asked for"
        )
    );
    assert_eq!(flags(fd), before);
    // SAFETY: an IPv4 socket, asked for as a Unix one: only inspected.
    let err = unsafe { activation::unix_datagram(fd) }.unwrap_err();
    assert!(
        err.to_string()
            .contains("a Unix-domain datagram socket was asked for"),
        "{err}"
    );
    // What it is asked as, it is: a UDP socket (adopted below, from a copy).
    let copy = udp.try_clone().unwrap().into_raw_fd();
    // SAFETY: `into_raw_fd` gave up the copy's only owner.
    let adopted = keep(unsafe { activation::udp_socket(copy) }.unwrap());
    assert_eq!(adopted.local_addr().unwrap(), udp.local_addr().unwrap());
}

/// Keeps an adopted socket open until the process ends. A number is adopted
/// once per process (as an inherited descriptor is); closing it here would
/// let another test's socket take the number and find it "adopted before".
fn keep<T: 'static>(adopted: T) -> &'static T {
    Box::leak(Box::new(adopted))
}

#[test]
fn a_closed_number_is_not_open() {
    for fd in [-1, i32::MAX - 1] {
        // SAFETY: neither number is open.
        let err = unsafe { activation::tcp_listener(fd) }.unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("adopt fd {fd}: not an open file descriptor")),
            "{text}"
        );
        assert_eq!(err.raw_os_error(), Some(libc::EBADF));
    }
}

#[test]
fn an_adopted_descriptor_is_close_on_exec_and_adopted_once() {
    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let fd = listener.into_raw_fd();
    clear_cloexec(fd);
    // SAFETY: `into_raw_fd` gave up the listener's only owner.
    let adopted = keep(unsafe { activation::tcp_listener(fd) }.unwrap());
    assert!(cloexec(fd), "adopted fd {fd} is not close-on-exec");
    assert_eq!(adopted.local_addr().unwrap(), addr);
    // SAFETY: `adopted` owns `fd`, but sockwright adopted it: the record
    // refuses the second adoption, which is what is tested.
    let again = unsafe { activation::tcp_listener(fd) }
        .unwrap_err()
        .to_string();
    assert_eq!(
        again,
        format!("adopt fd {fd}: it was adopted before: a descriptor is adopted once")
    );
    let _client = TcpStream::connect(addr).unwrap();
    adopted
        .set_nonblocking(false)
        .and_then(|()| adopted.accept())
        .expect("accept on the adopted listener");
}

#[test]
fn a_parsed_set_describes_descriptors_and_adopts_none() {
    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let fd = listener.as_raw_fd();
    let before = flags(fd);
    // A set whose last descriptor is `fd`, as if the environment said so.
    let pid = std::process::id();
    let count = (fd - activation::LISTEN_FDS_START + 1).to_string();
    let fds = ListenFds::parse(Some(&pid.to_string()), Some(&count), None, pid).unwrap();
    let position = fds.len() - 1;
    assert_eq!(fds.fds().nth(position).unwrap().fd(), fd);
    let err = fds.tcp_listener(position).unwrap_err();
    assert!(matches!(err, Error::Adopt { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "adopt fd {fd}: a set made by ListenFds::parse only describes descriptors; adopt \
             from ListenFds::from_env, or by number with the unsafe activation functions"
        )
    );
    assert!(fds.listener(position).is_err());
    assert_eq!(flags(fd), before, "the listener's flags changed");
    let addr = listener.local_addr().unwrap();
    let _client = TcpStream::connect(addr).unwrap();
    listener
        .accept()
        .expect("accept on the listener still owned here");
}

#[test]
fn an_fd_endpoint_is_adopted_only_where_the_builder_allows_it() {
    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let fd = listener.into_raw_fd();
    let before = flags(fd);
    let endpoint: sockwright::Endpoint = format!("fd:{fd}").parse().unwrap();
    let mut builder = ListenerBuilder::new();
    let err = builder.listen_endpoint(&endpoint).unwrap_err();
    assert!(matches!(err, Error::Adopt { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "adopt fd {fd}: this program does not take listening sockets by descriptor \
             number; use sd-listen or an address"
        )
    );
    assert_eq!(flags(fd), before, "a refused fd:N changed the descriptor");
    builder.nonblocking(true);
    // SAFETY: the only `fd:N` listened on names `fd`, whose owner gave it up.
    unsafe { builder.allow_fd_endpoints(true) };
    let adopted = keep(builder.listen_endpoint(&endpoint).unwrap());
    let Listener::Tcp(tcp) = adopted else {
        panic!("fd:{fd} adopted as {adopted:?}");
    };
    assert_eq!(tcp.as_raw_fd(), fd);
    assert_eq!(tcp.local_addr().unwrap(), addr);
    assert_ne!(
        flags(fd).1 & libc::O_NONBLOCK,
        0,
        "nonblocking was not applied"
    );
}

#[test]
fn the_example_server_listens_on_a_descriptor_named_by_number() {
    use std::os::unix::process::CommandExt;

    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let fd = listener.as_raw_fd();
    let mut command = Command::new(util::example_binary("server"));
    command.args(["--listen", &format!("fd:{fd}")]);
    // SAFETY: between fork and exec the closure calls only fcntl, which is
    // async-signal-safe, on the child's copy of `fd`: the child inherits
    // it, and the parent's stays close-on-exec for every other child.
    unsafe {
        command.pre_exec(move || {
            if libc::fcntl(fd, libc::F_SETFD, 0) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        })
    };
    let running = Running::start(&mut command);
    // The server's copy listens on after this one is closed.
    drop(listener);
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(PROGRAM_LIMIT)).unwrap();
    client.write_all(b"Hello from client").unwrap();
    let mut reply = String::new();
    client.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, "Hello from server");
    let served = running.finish();
    assert!(served.status.success(), "{served:?}");
    assert_eq!(served.stdout, SERVER_OUTPUT);
    assert!(
        served.stderr.contains(&format!("listening on {addr}")),
        "{served:?}"
    );
}
