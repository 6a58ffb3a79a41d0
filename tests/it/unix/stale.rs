//! `remove_stale_socket(true)` decides without being a client: a live
//! server's path is refused with words that say so and the server sees no
//! connection, starters racing on one stale path have exactly one winner, a
//! socket bound but not yet listening is left in place, and a device at the
//! path is named.
#![cfg(unix)]

use std::os::unix::fs::FileTypeExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crate::util::{self, TempDir};
use sockwright::{Error, ListenerBuilder};

/// A stale socket file at `path`: bound, listened on, closed (unless one
/// is there already), and refusing connections (see [`util::await_stale`]).
fn stale_socket(path: &Path) {
    if std::fs::symlink_metadata(path).is_err() {
        drop(ListenerBuilder::new().listen_unix(path).unwrap());
    }
    assert!(
        std::fs::symlink_metadata(path)
            .unwrap()
            .file_type()
            .is_socket()
    );
    util::await_stale(path);
}

fn assert_live_server_error(err: &Error) {
    assert!(matches!(err, Error::Bind { .. }), "{err:?}");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("a server is listening on this socket file"),
        "{text}"
    );
}

/// 100 stale checks on a live `hello::Server`'s path: each one is refused
/// with "a server is listening", and the server (which serves one client)
/// serves the one real client that comes after them, so none of the checks
/// was a client of it.
#[cfg(all(target_os = "linux", feature = "hello"))]
#[test]
fn a_live_server_is_left_alone_and_never_connected_to() {
    use sockwright::hello::{Exchange, SERVER_GREETING, Server};

    let dir = TempDir::new("stale-live");
    let path = dir.join("live.sock");
    let listener = ListenerBuilder::new().listen_unix(&path).unwrap();
    let ino = std::fs::metadata(&path).unwrap().ino();
    let server = std::thread::spawn(move || {
        let mut peers = Vec::new();
        let summary = Server::default()
            .clients(1)
            .serve_unix(&listener, |outcome| peers.push(outcome.result.is_ok()))
            .unwrap();
        (summary, peers)
    });
    let started = Instant::now();
    for _ in 0..100 {
        let err = ListenerBuilder::new()
            .remove_stale_socket(true)
            .listen_unix(&path)
            .unwrap_err();
        assert_live_server_error(&err);
    }
    let checks = started.elapsed();
    assert_eq!(
        std::fs::metadata(&path).unwrap().ino(),
        ino,
        "the file was replaced"
    );
    let mut client = UnixStream::connect(&path).unwrap();
    assert_eq!(
        Exchange::client().run(&mut client).unwrap(),
        SERVER_GREETING.as_bytes()
    );
    let (summary, peers) = server.join().unwrap();
    eprintln!(
        "100 stale checks on a live server in {checks:?}: server {summary:?}, outcomes {peers:?}"
    );
    assert_eq!(summary.accepted, 1, "{summary:?}");
    assert_eq!(summary.failed, 0, "{summary:?}");
    assert_eq!(peers, [true]);
}

/// Four starters on one stale path, 500 rounds: exactly one listens each
/// round, and the others are told that a server is listening there.
#[test]
fn one_of_several_starters_on_a_stale_path_wins() {
    const STARTERS: usize = 4;
    const ROUNDS: usize = 500;
    let dir = TempDir::new("stale-race");
    let path = Arc::new(dir.join("race.sock"));
    let started = Instant::now();
    let mut rounds = 0;
    for _ in 0..ROUNDS {
        if started.elapsed() > Duration::from_secs(8) {
            break;
        }
        stale_socket(&path);
        let barrier = Arc::new(Barrier::new(STARTERS));
        let starters: Vec<_> = (0..STARTERS)
            .map(|_| {
                let (path, barrier) = (Arc::clone(&path), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    ListenerBuilder::new()
                        .remove_stale_socket(true)
                        .listen_unix(&*path)
                })
            })
            .collect();
        let results: Vec<_> = starters.into_iter().map(|t| t.join().unwrap()).collect();
        let winners = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "round {rounds}: {results:?}");
        for err in results.iter().filter_map(|r| r.as_ref().err()) {
            if cfg!(target_os = "linux") {
                assert_live_server_error(err);
            } else {
                assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
            }
        }
        rounds += 1;
        // The winner's listener closes here, leaving a stale file (which
        // `stale_socket` waits for).
    }
    eprintln!(
        "{rounds} rounds of {STARTERS} starters in {:?}: one winner each",
        started.elapsed()
    );
    assert!(rounds >= 50, "only {rounds} rounds ran");
    // The lock file is left beside the socket.
    assert!(dir.join("race.sock.lock").is_file());
}

/// A socket that another process has bound and not yet listened on, or a
/// bound datagram socket, holds its file: the file is not removed, and the
/// error says who holds it.
#[test]
fn a_bound_socket_that_does_not_listen_yet_is_not_removed() {
    let dir = TempDir::new("stale-bound");
    for (kind, name, words) in [
        (
            socket2::Type::STREAM,
            "bound.sock",
            "a process has bound this socket file and does not listen on it yet",
        ),
        (
            socket2::Type::DGRAM,
            "dgram.sock",
            "a datagram socket of a running process is bound to this socket file",
        ),
    ] {
        let path = dir.join(name);
        let holder = socket2::Socket::new(socket2::Domain::UNIX, kind, None).unwrap();
        holder
            .bind(&socket2::SockAddr::unix(&path).unwrap())
            .unwrap();
        let ino = std::fs::symlink_metadata(&path).unwrap().ino();
        for builder in [
            ListenerBuilder::new().remove_stale_socket(true).clone(),
            ListenerBuilder::new(),
        ] {
            let err = builder.listen_unix(&path).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
            if cfg!(target_os = "linux") {
                assert!(err.to_string().contains(words), "{err}");
            }
            assert_eq!(
                std::fs::symlink_metadata(&path).unwrap().ino(),
                ino,
                "{name} was removed"
            );
        }
        // Once the holder listens, a connect reaches it through the file.
        if kind == socket2::Type::STREAM {
            holder.listen(1).unwrap();
            UnixStream::connect(&path).unwrap();
        }
    }
}

/// A character device at the path is named in the error and left in place.
/// Making one needs root (`mknod`); skipped, saying why, otherwise.
#[test]
fn a_character_device_in_the_way_is_named() {
    use std::os::unix::ffi::OsStrExt;

    let dir = TempDir::new("stale-device");
    let path = dir.join("dev.sock");
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c_path` is NUL-terminated; mknod makes one device node
    // (the same numbers as /dev/null).
    let rc = unsafe { libc::mknod(c_path.as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(1, 3)) };
    if rc != 0 {
        eprintln!(
            "skipped: mknod cannot make a character device here: {}",
            std::io::Error::last_os_error()
        );
        return;
    }
    for builder in [
        ListenerBuilder::new(),
        ListenerBuilder::new().remove_stale_socket(true).clone(),
    ] {
        let err = builder.listen_unix(&path).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "bind {}: a character device is in the way",
                path.display()
            )),
            "{err}"
        );
    }
    assert!(
        std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

/// A stale socket file: a plain listen says so (Linux), and with
/// `remove_stale_socket(true)` it is removed and the path listened on, with
/// the mode asked for.
#[test]
fn a_stale_socket_file_is_removed_and_replaced() {
    let dir = TempDir::new("stale-plain");
    let path = dir.join("old.sock");
    stale_socket(&path);
    let err = ListenerBuilder::new().listen_unix(&path).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
    if cfg!(target_os = "linux") {
        assert!(err.to_string().contains("no socket here holds"), "{err}");
    }
    let listener = ListenerBuilder::new()
        .remove_stale_socket(true)
        .mode(0o600)
        .listen_unix(&path)
        .unwrap();
    let _client = UnixStream::connect(&path).unwrap();
    listener.accept().unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o7777, 0o600);
}
