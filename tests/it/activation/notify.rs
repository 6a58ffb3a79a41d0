//! Readiness and the fd store (`activation::Notifier`): the example server,
//! started with this test's own `NOTIFY_SOCKET` (an abstract name, then a
//! path), stores its listener there (`FDSTORE=1`, `FDNAME=server`, the
//! descriptor passed with `SCM_RIGHTS`) and then says `READY=1`, by which
//! time its listener is up. The stored descriptor is checked to be the very
//! socket the server listens on: the same inode.
#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::hello::{Running, SERVER_OUTPUT};
use crate::util::{TempDir, example_binary};
use sockwright::hello::{CLIENT_GREETING, SERVER_GREETING};

/// One datagram and the descriptors that came with it (`recvmsg(2)` with
/// room for 8 of them in an `SCM_RIGHTS` message).
fn receive(socket: &UnixDatagram) -> (String, Vec<OwnedFd>) {
    let mut data = [0u8; 4096];
    let mut control = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data; all zeros is valid, set below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    // SAFETY: every pointer in `msg` points to a live buffer of its length.
    let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    assert!(n >= 0, "recvmsg: {}", std::io::Error::last_os_error());
    assert_eq!(
        msg.msg_flags & libc::MSG_CTRUNC,
        0,
        "control message cut short"
    );
    let mut fds = Vec::new();
    // SAFETY: the CMSG_* walk stays within msg_controllen; each SCM_RIGHTS
    // payload holds descriptors now open in this process, owned once each.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let len = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let data = libc::CMSG_DATA(cmsg).cast::<i32>();
                for i in 0..len / 4 {
                    fds.push(OwnedFd::from_raw_fd(data.add(i).read_unaligned()));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    (
        String::from_utf8_lossy(&data[..n as usize]).into_owned(),
        fds,
    )
}

fn inode(path: String) -> u64 {
    std::fs::metadata(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .ino()
}

/// Starts the example server with `NOTIFY_SOCKET=notify_socket`, receives
/// what it sends there, and checks it against the server.
fn server_notifies(socket: &UnixDatagram, notify_socket: &str) {
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut server = Running::start(
        Command::new(example_binary("server"))
            .args(["--addr", "127.0.0.1", "--port", "0"])
            .env("NOTIFY_SOCKET", notify_socket),
    );
    let (store, fds) = receive(socket);
    assert_eq!(store, "FDSTORE=1\nFDNAME=server");
    assert_eq!(fds.len(), 1, "one listener stored");
    let (ready, none) = receive(socket);
    assert_eq!(ready, "READY=1");
    assert!(none.is_empty());
    let took = started.elapsed();
    let addr = server.listening_addr();
    // The stored descriptor is the server's listening socket itself. Read
    // while the server runs: it ends once it has served the client below.
    let stored = inode(format!("/proc/self/fd/{}", fds[0].as_raw_fd()));
    let listening = inode(format!("/proc/{}/fd/3", server.child.id()));
    assert_eq!(stored, listening, "the same socket");
    let stored_addr = socket2::SockRef::from(&fds[0])
        .local_addr()
        .unwrap()
        .as_socket()
        .unwrap();
    assert_eq!(stored_addr.to_string(), addr);
    // READY=1 came after the listener was up: a client is served now.
    let mut client = TcpStream::connect(&addr).unwrap();
    client.write_all(CLIENT_GREETING.as_bytes()).unwrap();
    let mut reply = String::new();
    client.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, SERVER_GREETING);
    let finished = server.finish();
    assert!(finished.status.success(), "{finished:?}");
    assert_eq!(finished.stdout, SERVER_OUTPUT);
    eprintln!(
        "NOTIFY_SOCKET={notify_socket}: FDSTORE=1 with socket inode {stored} and READY=1 within {took:?}"
    );
}

#[test]
fn an_abstract_notify_socket_gets_the_stored_listener_then_ready() {
    let name = format!("sockwright-test-notify-{}", std::process::id());
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let socket = UnixDatagram::bind_addr(&addr).unwrap();
    server_notifies(&socket, &format!("@{name}"));
}

#[test]
fn a_path_notify_socket_gets_the_stored_listener_then_ready() {
    let dir = TempDir::new("notify-path");
    let path = dir.join("notify");
    let socket = UnixDatagram::bind(&path).unwrap();
    server_notifies(&socket, &path.display().to_string());
}
