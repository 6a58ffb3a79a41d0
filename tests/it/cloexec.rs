//! Every kind of socket the builders return is close-on-exec (Unix) or not
//! inheritable (Windows): a child process started while it is open does not
//! get it.
#![cfg(any(unix, windows))]

#[cfg(unix)]
use crate::util;

use std::net::{TcpListener, TcpStream, UdpSocket};

use sockwright::{ConnectorBuilder, ListenerBuilder};

/// One socket of each kind the crate returns, by name, with the peers they
/// talk to (kept open, not checked: they are std's or the test's own).
struct Sockets {
    tcp_listener: TcpListener,
    udp: UdpSocket,
    tcp_stream: TcpStream,
    connected_udp: UdpSocket,
    #[cfg(unix)]
    unix: UnixSockets,
    _peers: Peers,
}

#[cfg(unix)]
struct UnixSockets {
    listener: std::os::unix::net::UnixListener,
    datagram: std::os::unix::net::UnixDatagram,
    stream: std::os::unix::net::UnixStream,
    _dir: util::TempDir,
}

struct Peers {
    _accepted: TcpStream,
    _udp_server: UdpSocket,
}

fn open_every_kind() -> Sockets {
    let tcp_listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let udp = ListenerBuilder::new().bind_udp("127.0.0.1:0").unwrap();
    let tcp_stream = ConnectorBuilder::new()
        .connect(tcp_listener.local_addr().unwrap())
        .unwrap();
    let (accepted, _) = tcp_listener.accept().unwrap();
    let udp_server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let connected_udp = ConnectorBuilder::new()
        .connect_udp(udp_server.local_addr().unwrap())
        .unwrap();
    Sockets {
        tcp_listener,
        udp,
        tcp_stream,
        connected_udp,
        #[cfg(unix)]
        unix: open_unix_kinds(),
        _peers: Peers {
            _accepted: accepted,
            _udp_server: udp_server,
        },
    }
}

#[cfg(unix)]
fn open_unix_kinds() -> UnixSockets {
    let dir = util::TempDir::new("cloexec");
    let listener = ListenerBuilder::new()
        .listen_unix(dir.join("stream.sock"))
        .unwrap();
    let datagram = ListenerBuilder::new()
        .bind_unix_datagram(dir.join("dgram.sock"))
        .unwrap();
    let stream = ConnectorBuilder::new()
        .connect_unix(dir.join("stream.sock"))
        .unwrap();
    UnixSockets {
        listener,
        datagram,
        stream,
        _dir: dir,
    }
}

#[cfg(unix)]
mod unix {
    use std::os::fd::{AsRawFd, RawFd};

    use super::Sockets;

    impl Sockets {
        /// Each socket the crate returned, by kind, with its descriptor.
        pub fn fds(&self) -> Vec<(&'static str, RawFd)> {
            vec![
                ("TcpListener", self.tcp_listener.as_raw_fd()),
                ("UdpSocket from bind_udp", self.udp.as_raw_fd()),
                ("TcpStream", self.tcp_stream.as_raw_fd()),
                ("connected UdpSocket", self.connected_udp.as_raw_fd()),
                ("UnixListener", self.unix.listener.as_raw_fd()),
                ("UnixDatagram", self.unix.datagram.as_raw_fd()),
                ("UnixStream", self.unix.stream.as_raw_fd()),
            ]
        }
    }

    /// `fcntl(fd, F_GETFD) & FD_CLOEXEC`.
    #[allow(unsafe_code)]
    pub fn is_cloexec(fd: RawFd) -> bool {
        // SAFETY: F_GETFD reads the descriptor flags of an fd the caller holds open.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        assert!(flags >= 0, "fcntl: {}", std::io::Error::last_os_error());
        flags & libc::FD_CLOEXEC != 0
    }
}

#[cfg(unix)]
#[test]
fn every_socket_has_fd_cloexec() {
    let sockets = open_every_kind();
    for (kind, fd) in sockets.fds() {
        assert!(unix::is_cloexec(fd), "{kind} (fd {fd}) lacks FD_CLOEXEC");
    }
    // The control: the same check sees a cleared flag.
    let control = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    control.set_cloexec(false).unwrap();
    assert!(!unix::is_cloexec(std::os::fd::AsRawFd::as_raw_fd(&control)));
}

/// End to end: a child started while every socket is open does not have any
/// of them. Sockets are matched by their `socket:[inode]` identity (from
/// `/proc/PID/fd`), not by fd number, since the child may reuse numbers. A
/// control socket with close-on-exec cleared is seen in the child, so the
/// check can fail.
#[cfg(target_os = "linux")]
#[test]
fn a_child_process_inherits_none_of_the_sockets() {
    use std::collections::BTreeSet;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::process::{Command, Stdio};

    fn identity(pid: u32, fd: i32) -> String {
        let link = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap();
        link.to_string_lossy().into_owned()
    }

    let sockets = open_every_kind();
    let control = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    control.set_cloexec(false).unwrap();
    let me = std::process::id();

    // `read` keeps the shell waiting on its stdin until the test is done
    // looking; `spawn` returns once the child has called exec.
    let mut child = Command::new("/bin/sh")
        .args(["-c", "read line"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn /bin/sh");
    let inherited: BTreeSet<String> = std::fs::read_dir(format!("/proc/{}/fd", child.id()))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.unwrap().path()).ok())
        .map(|l| l.to_string_lossy().into_owned())
        .collect();
    child.stdin.take().unwrap().write_all(b"done\n").unwrap();
    assert!(child.wait().unwrap().success());

    let control_id = identity(me, control.as_raw_fd());
    assert!(
        inherited.contains(&control_id),
        "control: a socket without close-on-exec ({control_id}) was not inherited; \
         the child had {inherited:?}"
    );
    let leaked: Vec<String> = sockets
        .fds()
        .into_iter()
        .map(|(kind, fd)| (kind, identity(me, fd)))
        .filter(|(_, id)| inherited.contains(id))
        .map(|(kind, id)| format!("{kind} ({id})"))
        .collect();
    eprintln!(
        "child had {} descriptors; {} of the crate's 7 sockets among them",
        inherited.len(),
        leaked.len()
    );
    assert!(leaked.is_empty(), "inherited by the child: {leaked:?}");
}

#[cfg(windows)]
mod windows {
    use std::os::windows::io::{AsRawSocket, RawSocket};

    use super::Sockets;

    impl Sockets {
        /// Each socket the crate returned, by kind, with its handle.
        pub fn handles(&self) -> Vec<(&'static str, RawSocket)> {
            vec![
                ("TcpListener", self.tcp_listener.as_raw_socket()),
                ("UdpSocket from bind_udp", self.udp.as_raw_socket()),
                ("TcpStream", self.tcp_stream.as_raw_socket()),
                ("connected UdpSocket", self.connected_udp.as_raw_socket()),
            ]
        }
    }

    /// `GetHandleInformation(handle) & HANDLE_FLAG_INHERIT`.
    #[allow(unsafe_code)]
    pub fn is_inheritable(socket: RawSocket) -> bool {
        use windows_sys::Win32::Foundation::{GetHandleInformation, HANDLE, HANDLE_FLAG_INHERIT};
        let mut flags = 0u32;
        // SAFETY: the socket handle is open while the caller holds the
        // socket; `flags` is a live u32.
        let ok = unsafe { GetHandleInformation(socket as HANDLE, &mut flags) };
        assert!(
            ok != 0,
            "GetHandleInformation: {}",
            std::io::Error::last_os_error()
        );
        flags & HANDLE_FLAG_INHERIT != 0
    }
}

#[cfg(windows)]
#[test]
fn every_socket_is_not_inheritable() {
    use std::os::windows::io::AsRawSocket;

    let sockets = open_every_kind();
    for (kind, handle) in sockets.handles() {
        assert!(
            !windows::is_inheritable(handle),
            "{kind} (handle {handle}) is inheritable"
        );
    }
    // The control: the same check sees an inheritable handle.
    let control = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    control.set_no_inherit(false).unwrap();
    assert!(windows::is_inheritable(control.as_raw_socket()));
}
