//! What the kernel tells about a connected socket: `peer_cred` (and on
//! Linux `peer_pidfd`) of a Unix stream, `tcp_info` of a TCP stream.
//!
//! `cargo test --test it inspect:: -- --nocapture` prints the figures read.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use sockwright::{Stream, tcp_info};

/// A connected loopback TCP pair (client, served).
fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (served, _) = listener.accept().unwrap();
    (client, served)
}

#[test]
fn tcp_info_after_an_exchange_has_a_round_trip_time_above_zero() {
    let (mut client, mut served) = tcp_pair();
    // A few round trips, so that the kernel has acknowledgements to time.
    for _ in 0..5 {
        client.write_all(b"ping").unwrap();
        served.read_exact(&mut [0; 4]).unwrap();
        served.write_all(b"pong").unwrap();
        client.read_exact(&mut [0; 4]).unwrap();
    }
    let info = match tcp_info(&client) {
        // Windows before 10 version 1703, and Wine, have no SIO_TCP_INFO.
        Err(err) if cfg!(windows) && err.kind() == std::io::ErrorKind::Unsupported => {
            eprintln!("tcp_info is unsupported here: {err}");
            assert!(err.to_string().contains("SIO_TCP_INFO"), "{err}");
            return;
        }
        info => info.unwrap(),
    };
    eprintln!("tcp_info after 5 round trips on loopback: {info:?}");
    if !cfg!(any(
        target_os = "linux",
        target_os = "macos",
        target_os = "freebsd",
        windows
    )) {
        return;
    }
    let rtt = info.rtt().expect("a round-trip time on this platform");
    assert!(rtt > Duration::ZERO, "rtt {rtt:?}");
    assert!(rtt < Duration::from_secs(1), "rtt {rtt:?} on loopback");
    if cfg!(target_os = "linux") {
        assert!(info.mss().unwrap() > 0);
        assert!(info.congestion_window().unwrap() >= u64::from(info.mss().unwrap()));
        // Loopback's MTU is 65536 on Linux.
        assert!(info.path_mtu().unwrap() > 1000, "{:?}", info.path_mtu());
        assert_eq!(info.retransmits(), Some(0));
        // Every byte was acknowledged (the reads above saw them).
        assert_eq!(info.bytes_in_flight(), Some(0));
    }
}

#[test]
fn tcp_info_takes_an_endpoint_stream_and_names_a_unix_one_in_the_error() {
    let (client, _served) = tcp_pair();
    // Read through the endpoint stream as through the std one (Wine has
    // no SIO_TCP_INFO: the same error either way).
    let direct = tcp_info(&client).map(|i| i.mss()).map_err(|e| e.kind());
    let stream = Stream::Tcp(client);
    let through = tcp_info(&stream).map(|i| i.mss()).map_err(|e| e.kind());
    assert_eq!(through, direct);
    #[cfg(unix)]
    {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let err = tcp_info(&Stream::Unix(a)).unwrap_err();
        eprintln!("tcp_info of a Unix stream: {err}");
        assert!(
            matches!(err, sockwright::Error::InvalidConfig { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("Unix socket"), "{err}");
    }
}

#[cfg(feature = "tokio")]
#[test]
fn tcp_info_takes_a_tokio_stream() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let _served = listener.accept().await.unwrap();
        // The tokio stream is read as the std one is.
        let std_client = client.into_std().unwrap();
        let through_std = tcp_info(&std_client).map(|i| i.mss());
        let client = tokio::net::TcpStream::from_std(std_client).unwrap();
        assert_eq!(tcp_info(&client).map(|i| i.mss()).ok(), through_std.ok());
    });
}

#[cfg(unix)]
mod unix {
    use super::*;
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::PathBuf;
    use std::process::{Command, Stdio};
    use std::time::Instant;

    use sockwright::{Error, peer_cred};

    /// A directory of this test's own, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let path = std::env::temp_dir()
                .join(format!("sockwright-inspect-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir(&path).unwrap();
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn peer_cred_of_a_pair_is_this_process() {
        let (a, _b) = UnixStream::pair().unwrap();
        let cred = peer_cred(&a).unwrap();
        eprintln!("peer_cred of a socketpair: {cred:?}");
        // SAFETY: geteuid and getegid take nothing and cannot fail.
        #[allow(unsafe_code)]
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        assert_eq!((cred.uid(), cred.gid()), (uid, gid));
        if cfg!(any(
            target_os = "linux",
            target_os = "macos",
            target_os = "openbsd"
        )) {
            assert_eq!(cred.pid(), Some(std::process::id()));
        }
        // The endpoint stream gives the same.
        assert_eq!(peer_cred(&Stream::Unix(a)).unwrap(), cred);
    }

    #[test]
    fn peer_cred_of_a_tcp_endpoint_stream_says_it_needs_a_unix_socket() {
        let (client, _served) = tcp_pair();
        let peer = client.peer_addr().unwrap();
        let err = peer_cred(&Stream::Tcp(client)).unwrap_err();
        eprintln!("peer_cred of a TCP stream: {err}");
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains(&peer.to_string()) && text.contains("Unix socket"),
            "{text}"
        );
    }

    /// The client runs as `nobody` through `setpriv`; the server sees that
    /// uid and gid, the client's pid, and (Linux 6.5+) a pidfd whose
    /// process is the client.
    #[test]
    fn a_client_run_as_another_user_is_reported_with_its_uid_and_pid() {
        // SAFETY: geteuid takes nothing and cannot fail.
        #[allow(unsafe_code)]
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: setpriv --reuid needs root");
            return;
        }
        if Command::new("setpriv").arg("--version").output().is_err() {
            eprintln!("skipped: setpriv is not installed");
            return;
        }
        // A python the other user may run: not one under root's home.
        let Some(python) = ["/usr/bin/python3", "/usr/local/bin/python3"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
        else {
            eprintln!("skipped: no python3 in /usr/bin or /usr/local/bin");
            return;
        };
        let dir = TempDir::new("setpriv");
        let path = dir.0.join("sock");
        let listener = UnixListener::bind(&path).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
        let (uid, gid) = (65534u32, 65534u32);
        // Connects, then waits for one byte (or the end) before it exits.
        let script = "import socket, sys\n\
                      s = socket.socket(socket.AF_UNIX)\n\
                      s.connect(sys.argv[1])\n\
                      s.recv(1)\n";
        let mut child = Command::new("setpriv")
            .args([
                &format!("--reuid={uid}"),
                &format!("--regid={gid}"),
                "--clear-groups",
                python,
                "-c",
                script,
            ])
            .arg(&path)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        listener.set_nonblocking(true).unwrap();
        let started = Instant::now();
        let mut served = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if started.elapsed() > Duration::from_secs(10) {
                        let _ = child.kill();
                        panic!("the client did not connect within 10s");
                    }
                    if let Some(status) = child.try_wait().unwrap() {
                        panic!("the client ended before connecting: {status}");
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        served.set_nonblocking(false).unwrap();
        let cred = peer_cred(&served).unwrap();
        eprintln!(
            "client pid {} as {uid}:{gid}: peer_cred {cred:?}",
            child.id()
        );
        assert_eq!(cred.uid(), uid);
        assert_eq!(cred.gid(), gid);
        if cfg!(any(
            target_os = "linux",
            target_os = "macos",
            target_os = "openbsd"
        )) {
            // setpriv executes python in its own process.
            assert_eq!(cred.pid(), Some(child.id()));
        }
        #[cfg(target_os = "linux")]
        check_pidfd(&served, child.id());
        served.write_all(b"x").unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "client: {status}");
    }

    /// The pidfd of the peer names the client's process: its fdinfo says
    /// `Pid:` and the client's pid.
    #[cfg(target_os = "linux")]
    fn check_pidfd(served: &UnixStream, pid: u32) {
        use std::os::fd::AsRawFd;
        match sockwright::peer_pidfd(served) {
            Ok(pidfd) => {
                let fdinfo =
                    std::fs::read_to_string(format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd()))
                        .unwrap();
                let line = fdinfo
                    .lines()
                    .find(|l| l.starts_with("Pid:"))
                    .unwrap_or_else(|| panic!("no Pid: line in a pidfd's fdinfo: {fdinfo}"));
                eprintln!("pidfd {}: {line}", pidfd.as_raw_fd());
                // SAFETY: F_GETFD reads the descriptor's flags only; the
                // descriptor is open for the borrow of `pidfd`.
                #[allow(unsafe_code)]
                let flags = unsafe { libc::fcntl(pidfd.as_raw_fd(), libc::F_GETFD) };
                assert!(
                    flags & libc::FD_CLOEXEC != 0,
                    "the pidfd is not close-on-exec"
                );
                assert_eq!(
                    line.split_whitespace().nth(1),
                    Some(pid.to_string().as_str())
                );
            }
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                eprintln!("pidfd not checked: {e}");
            }
            Err(e) => panic!("peer_pidfd: {e}"),
        }
    }
}
