//! Unix socket files done right: a mode in place before any client can
//! connect, an empty path refused, a file or directory in the way named as
//! such, and Linux abstract names.
//!
//! The other-uid checks run a client as `nobody` (uid 65534): this test
//! binary itself, started through `setpriv` (or `runuser`) with `--ignored
//! --exact other_uid_client`. Skipped, saying why, when the tests do not run
//! as root or neither tool is there.
#![cfg(unix)]

use crate::util;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::util::TempDir;
use sockwright::{Endpoint, Error, Listener, ListenerBuilder};

const CLIENT_VAR: &str = "SOCKWRIGHT_OTHER_UID";
const NOBODY: u32 = 65534;

/// The other-uid half: connects to (`stream:PATH`) or sends to
/// (`dgram:PATH`) the socket in `SOCKWRIGHT_OTHER_UID` and prints
/// `RESULT uid=N ok` or `RESULT uid=N errno=E`.
#[test]
#[ignore = "the other-uid half of the mode tests; they run it as nobody"]
fn other_uid_client() {
    let Ok(what) = std::env::var(CLIENT_VAR) else {
        eprintln!("skipped: {CLIENT_VAR} is not set; this runs only as the mode tests' client");
        return;
    };
    let (kind, path) = what.split_once(':').expect("KIND:PATH");
    let result = match kind {
        "stream" => UnixStream::connect(path).map(drop),
        "dgram" => UnixDatagram::unbound().and_then(|s| s.send_to(b"hi", path).map(drop)),
        other => panic!("unknown kind {other}"),
    };
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    match result {
        Ok(()) => println!("RESULT uid={uid} ok"),
        Err(e) => println!("RESULT uid={uid} errno={}", e.raw_os_error().unwrap_or(-1)),
    }
}

/// Runs [`other_uid_client`] as nobody against `path`: `Some(Ok(()))` if it
/// reached the socket, `Some(Err(errno))` if not, `None` (with a printed
/// skip) where no client can be run as another uid.
fn as_nobody(kind: &str, path: &Path) -> Option<Result<(), i32>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: not root, so no client can run as another uid");
        return None;
    }
    // A copy of this test binary where nobody can run it: the checkout
    // itself may sit under a directory only root can enter (such as /root).
    let bin = TempDir::new("nobody-bin");
    std::fs::set_permissions(bin.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = bin.join("client");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let uid = NOBODY.to_string();
    let tools: [(&str, Vec<String>); 2] = [
        (
            "setpriv",
            vec![
                format!("--reuid={uid}"),
                format!("--regid={uid}"),
                "--clear-groups".into(),
                "--".into(),
            ],
        ),
        ("runuser", vec!["-u".into(), "nobody".into(), "--".into()]),
    ];
    for (tool, args) in tools {
        let run = || {
            Command::new(tool)
                .args(&args)
                .arg(&exe)
                .args(["--ignored", "--exact"])
                .arg(util::test_path(module_path!(), "other_uid_client"))
                .arg("--nocapture")
                .env(CLIENT_VAR, format!("{kind}:{}", path.display()))
                .output()
        };
        // Executing the fresh copy fails with ETXTBSY while a child that
        // another test's thread started holds it open for writing (see
        // `util::poll_until`): such a run is tried again, for up to 2 s.
        let mut output = run();
        let busy = |o: &std::io::Result<std::process::Output>| {
            o.as_ref()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stderr).contains("Text file busy"))
        };
        util::poll_until(Duration::from_secs(2), || {
            if busy(&output) {
                output = run();
            }
            !busy(&output)
        });
        let Ok(output) = output else {
            continue;
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let Some(line) = stdout.lines().find_map(|l| l.strip_prefix("RESULT ")) else {
            eprintln!(
                "skipped: {tool} could not run the client as nobody: {:?} {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
            return None;
        };
        let (who, outcome) = line.split_once(' ').unwrap();
        assert_eq!(
            who,
            format!("uid={NOBODY}"),
            "the client did not run as nobody"
        );
        return Some(match outcome.strip_prefix("errno=") {
            Some(errno) => Err(errno.parse().unwrap()),
            None => Ok(()),
        });
    }
    eprintln!("skipped: neither setpriv nor runuser can be run here");
    None
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn the_file_has_exactly_the_mode_when_listen_returns() {
    let dir = TempDir::new("mode");
    for mode in [0o600, 0o660, 0o666, 0o777] {
        let path = dir.join(&format!("s{mode:o}.sock"));
        let listener = ListenerBuilder::new()
            .mode(mode)
            .listen_unix(&path)
            .unwrap();
        assert_eq!(mode_of(&path), mode, "stream socket at {mode:o}");
        drop(listener);
        let dgram_path = dir.join(&format!("d{mode:o}.sock"));
        let _dgram = ListenerBuilder::new()
            .mode(mode)
            .bind_unix_datagram(&dgram_path)
            .unwrap();
        assert_eq!(mode_of(&dgram_path), mode, "datagram socket at {mode:o}");
    }
}

#[test]
fn a_connect_before_listen_is_refused_whatever_the_mode() {
    // What makes chmod between bind and listen enough for stream sockets.
    let dir = TempDir::new("mode-refused");
    let path = dir.join("bound.sock");
    let socket = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&socket2::SockAddr::unix(&path).unwrap())
        .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
    let err = UnixStream::connect(&path).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
    socket.listen(1).unwrap();
    UnixStream::connect(&path).unwrap();
}

#[test]
fn a_client_of_another_uid_never_connects_to_a_0o600_socket() {
    let dir = TempDir::new("mode-uid");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let open = dir.join("open.sock");
    let _open = ListenerBuilder::new()
        .mode(0o666)
        .listen_unix(&open)
        .unwrap();
    // The control: the same client reaches a socket whose mode lets it in.
    let Some(reached) = as_nobody("stream", &open) else {
        return;
    };
    assert_eq!(
        reached,
        Ok(()),
        "nobody could not connect to a 0o666 socket"
    );

    let closed = dir.join("closed.sock");
    let _closed = ListenerBuilder::new()
        .mode(0o600)
        .listen_unix(&closed)
        .unwrap();
    assert_eq!(as_nobody("stream", &closed), Some(Err(libc::EACCES)));
}

#[test]
fn a_sender_of_another_uid_never_reaches_a_0o600_datagram_socket() {
    let dir = TempDir::new("mode-uid-dgram");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let open = dir.join("open.sock");
    let open_socket = ListenerBuilder::new()
        .mode(0o666)
        .bind_unix_datagram(&open)
        .unwrap();
    let Some(reached) = as_nobody("dgram", &open) else {
        return;
    };
    assert_eq!(reached, Ok(()), "nobody could not send to a 0o666 socket");
    let mut buf = [0; 2];
    assert_eq!(open_socket.recv(&mut buf).unwrap(), 2);

    let closed = dir.join("closed.sock");
    let _closed = ListenerBuilder::new()
        .mode(0o600)
        .bind_unix_datagram(&closed)
        .unwrap();
    assert_eq!(as_nobody("dgram", &closed), Some(Err(libc::EACCES)));
}

#[test]
fn a_mode_out_of_range_or_on_an_abstract_name_is_invalid() {
    let dir = TempDir::new("mode-invalid");
    let err = ListenerBuilder::new()
        .mode(0o10000)
        .listen_unix(dir.join("s.sock"))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
    assert!(
        err.to_string().contains("0o10000 has bits above 0o7777"),
        "{err}"
    );
    assert!(!dir.join("s.sock").exists());
    #[cfg(target_os = "linux")]
    {
        let endpoint: Endpoint = format!("@sockwright-mode-{}", std::process::id())
            .parse()
            .unwrap();
        // A direct call with an abstract name keeps its error...
        let name = format!("\0sockwright-mode-{}", std::process::id());
        let err = ListenerBuilder::new()
            .mode(0o600)
            .listen_unix(&name)
            .unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        assert!(err.to_string().contains("it has no file"), "{err}");
        // ...while an endpoint skips the mode, which cannot act there.
        let listener = ListenerBuilder::new()
            .mode(0o600)
            .listen_endpoint(&endpoint)
            .unwrap();
        drop(listener);
    }
}

#[test]
fn an_empty_path_is_invalid_not_a_random_name() {
    let builder = ListenerBuilder::new();
    let stream = builder.listen_unix("").unwrap_err();
    let dgram = builder.bind_unix_datagram("").unwrap_err();
    for err in [stream, dgram] {
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        assert!(err.to_string().contains("empty Unix socket path"), "{err}");
    }
}

#[test]
fn a_regular_file_or_a_directory_in_the_way_is_named() {
    let dir = TempDir::new("in-the-way");
    let file = dir.join("file");
    std::fs::write(&file, b"data").unwrap();
    let subdir = dir.join("dir");
    std::fs::create_dir(&subdir).unwrap();
    for (path, what) in [(&file, "a regular file"), (&subdir, "a directory")] {
        for err in [
            ListenerBuilder::new().listen_unix(path).unwrap_err(),
            ListenerBuilder::new()
                .remove_stale_socket(true)
                .bind_unix_datagram(path)
                .unwrap_err(),
        ] {
            assert!(matches!(err, Error::Bind { .. }), "{err:?}");
            assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("bind {}: {what} is in the way", path.display())),
                "{text}"
            );
        }
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"data");
    assert!(subdir.is_dir());
    // A live server's socket in the way is named as such.
    let live = dir.join("live.sock");
    let _server = ListenerBuilder::new().listen_unix(&live).unwrap();
    let err = ListenerBuilder::new().listen_unix(&live).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    #[cfg(target_os = "linux")]
    assert!(
        err.to_string()
            .contains("a server is listening on this socket file"),
        "{err}"
    );
}

#[test]
fn unix_and_path_endpoints_listen_on_the_file() {
    let dir = TempDir::new("endpoint-unix");
    let path = dir.join("e.sock");
    let endpoint: Endpoint = format!("unix:{}", path.display()).parse().unwrap();
    let listener = ListenerBuilder::new()
        .mode(0o600)
        .listen_endpoint(&endpoint)
        .unwrap();
    assert!(matches!(listener, Listener::Unix(_)));
    assert_eq!(mode_of(&path), 0o600);
    assert_eq!(
        listener.local_addr().unwrap().to_string(),
        path.display().to_string()
    );
    let mut client = UnixStream::connect(&path).unwrap();
    let (mut conn, _) = listener.accept().unwrap();
    std::io::Write::write_all(&mut client, b"hi").unwrap();
    let mut buf = [0; 2];
    std::io::Read::read_exact(&mut conn, &mut buf).unwrap();
    assert_eq!(&buf, b"hi");
}

#[cfg(target_os = "linux")]
#[test]
fn an_abstract_endpoint_listens_without_a_file() {
    use std::os::linux::net::SocketAddrExt;

    let name = format!("sockwright-test-{}", std::process::id());
    let endpoint: Endpoint = format!("@{name}").parse().unwrap();
    assert_eq!(endpoint.to_string(), format!("@{name}"));
    let listener = ListenerBuilder::new().listen_endpoint(&endpoint).unwrap();
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let _client = UnixStream::connect_addr(&addr).unwrap();
    let (_conn, _) = listener.accept().unwrap();
    // The same name again is in use.
    let err = ListenerBuilder::new()
        .listen_endpoint(&endpoint)
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
}

/// The mode's order of calls, read with `strace`: `fchmod` before `bind`
/// (Linux), then, because the umask took bits away, `chmod` of the handle
/// opened on the file (`/proc/self/fd/N`, never the socket's path), then
/// `listen`. Skipped, saying why, where strace cannot run.
#[cfg(target_os = "linux")]
#[test]
fn the_mode_is_set_between_bind_and_listen() {
    let dir = TempDir::new("mode-strace");
    let path = dir.join("traced.sock");
    let log = dir.join("trace");
    let traceable = Command::new("strace")
        .args(["-f", "-o", "/dev/null", "true"])
        .output();
    if !matches!(&traceable, Ok(out) if out.status.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "strace must run under CI: {traceable:?}"
        );
        eprintln!("skipped: strace cannot trace here: {traceable:?}");
        return;
    }
    let out = Command::new("strace")
        .args(["-f", "-qq", "-e"])
        .arg("trace=socket,fchmod,bind,chmod,fchmodat,listen,openat")
        .arg("-o")
        .arg(&log)
        .arg(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact"])
        .arg(util::test_path(module_path!(), "mode_child"))
        .arg("--nocapture")
        .env(CLIENT_VAR, &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "the traced listener failed: {out:?}");
    let trace = std::fs::read_to_string(&log).unwrap();
    let shown = path.display().to_string();
    // The calls on the socket and its path, in order, by name.
    let calls: Vec<&str> = trace
        .lines()
        .filter(|l| {
            l.contains("AF_UNIX")
                || l.contains(&shown)
                || l.contains("chmod(")
                || l.contains("chmodat")
                || l.contains("listen(")
        })
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter_map(|call| call.split('(').next())
        .collect();
    let shown_calls = format!("{calls:?} in\n{trace}");
    assert_eq!(calls.len(), 5, "{shown_calls}");
    assert_eq!(calls[..3], ["socket", "fchmod", "bind"], "{shown_calls}");
    assert_eq!(calls[3..], ["chmod", "listen"], "{shown_calls}");
    assert!(
        trace.contains("fchmod(") && trace.contains(", 0666)"),
        "{trace}"
    );
    // The chmod reaches the file through the handle that was checked.
    assert!(trace.contains("chmod(\"/proc/self/fd/"), "{trace}");
    assert!(
        trace.contains("O_NOFOLLOW") && trace.contains("O_PATH"),
        "{trace}"
    );
}

/// The traced half of [`the_mode_is_set_between_bind_and_listen`].
#[test]
#[ignore = "run under strace by the_mode_is_set_between_bind_and_listen"]
fn mode_child() {
    let Some(path) = std::env::var_os(CLIENT_VAR) else {
        eprintln!("skipped: {CLIENT_VAR} is not set; this runs only under strace");
        return;
    };
    // SAFETY: umask has no preconditions; 0o022 removes bits from 0o666.
    unsafe { libc::umask(0o022) };
    let _listener = ListenerBuilder::new()
        .mode(0o666)
        .listen_unix(&path)
        .unwrap();
}
