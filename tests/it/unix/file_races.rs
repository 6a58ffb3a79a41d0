//! A user who can write to a directory on a socket's path cannot make a
//! root server chmod or remove a file elsewhere: `mode` and
//! `remove_stale_socket` work through one handle on the directory and never
//! follow the path again.
//!
//! Each race runs an attacker as `nobody` (uid 65534): this test binary
//! itself, started through `setpriv` with `--ignored --exact attacker`,
//! swapping directory entries in a loop for a bounded time, while root
//! listens in a loop. Each race is first run against a copy of the old
//! calls (`lstat`, `connect`, `unlink` and `chmod` by path), written here,
//! to show that the attack works and the test can fail; the figures of both
//! are printed. Skipped, saying why, when the tests do not run as root or
//! `setpriv` cannot run.
#![cfg(target_os = "linux")]

use crate::util;

use std::ffi::CString;
use std::io::{BufRead, BufReader};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::TempDir;
use sockwright::ListenerBuilder;

const ATTACK_VAR: &str = "SOCKWRIGHT_ATTACK";
const NOBODY: u32 = 65534;
/// How long the old calls are given to lose (they stop at [`ENOUGH_LOSSES`]).
const OLD_PHASE: Duration = Duration::from_millis(2500);
/// How long the new calls are attacked.
const NEW_PHASE: Duration = Duration::from_millis(2000);
const ENOUGH_LOSSES: u32 = 5;

fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

/// The attacker, run as nobody. `SOCKWRIGHT_ATTACK` is one of
/// - `entry|DIR|TARGET|MS`: whenever `DIR/s.sock` is a socket file,
///   replace it with a symbolic link to `TARGET` (`rename` over it);
/// - `parent|DIR|-|MS`: exchange `DIR/sub` and `DIR/alt` (a directory and
///   a symbolic link to another directory) with `renameat2(RENAME_EXCHANGE)`;
/// - `check|PATH|-|0`: listen on `PATH` with `remove_stale_socket(true)`
///   once and print the error.
///
/// It prints `READY uid=N` when it starts and `DONE swaps=N` at the end.
#[test]
#[ignore = "the attacker of the race tests; they run it as nobody"]
fn attacker() {
    let Ok(spec) = std::env::var(ATTACK_VAR) else {
        eprintln!("skipped: {ATTACK_VAR} is not set; this runs only as the race tests' attacker");
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let [kind, dir, target, ms] = parts[..] else {
        panic!("bad {ATTACK_VAR}: {spec}");
    };
    let dir = PathBuf::from(dir);
    let until = Instant::now() + Duration::from_millis(ms.parse().unwrap());
    // SAFETY: geteuid has no preconditions.
    println!("READY uid={}", unsafe { libc::geteuid() });
    let mut swaps = 0u64;
    match kind {
        "entry" => {
            let entry = dir.join("s.sock");
            let spare = dir.join("spare");
            while Instant::now() < until {
                let is_socket =
                    std::fs::symlink_metadata(&entry).is_ok_and(|m| m.file_type().is_socket());
                if is_socket {
                    let _ = std::os::unix::fs::symlink(target, &spare);
                    if std::fs::rename(&spare, &entry).is_ok() {
                        swaps += 1;
                    }
                }
            }
        }
        "parent" => {
            let (a, b) = (c_path(&dir.join("sub")), c_path(&dir.join("alt")));
            while Instant::now() < until {
                // SAFETY: both paths are NUL-terminated and live across the
                // call; renameat2 reads them.
                let rc = unsafe {
                    libc::syscall(
                        libc::SYS_renameat2,
                        libc::AT_FDCWD,
                        a.as_ptr(),
                        libc::AT_FDCWD,
                        b.as_ptr(),
                        libc::RENAME_EXCHANGE,
                    )
                };
                assert_eq!(rc, 0, "exchange: {}", std::io::Error::last_os_error());
                swaps += 1;
            }
        }
        "check" => {
            let err = ListenerBuilder::new()
                .remove_stale_socket(true)
                .listen_unix(&dir)
                .map(drop)
                .unwrap_err();
            println!("RESULT {err}");
        }
        other => panic!("unknown attack {other}"),
    }
    println!("DONE swaps={swaps}");
}

/// Runs [`attacker`] as nobody; `None` (with a printed skip) where that
/// cannot be done.
fn as_nobody(spec: &str) -> Option<(Child, BufReader<std::process::ChildStdout>)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: not root, so no attacker can run as another uid");
        return None;
    }
    // A copy of this binary that nobody can run (the checkout may sit
    // under a directory only root can enter). Kept for the process's life.
    static BIN: std::sync::OnceLock<(TempDir, PathBuf)> = std::sync::OnceLock::new();
    let (_, exe) = BIN.get_or_init(|| {
        let bin = TempDir::new("races-bin");
        std::fs::set_permissions(bin.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let exe = bin.join("attacker");
        std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        (bin, exe)
    });
    let uid = NOBODY.to_string();
    let child = Command::new("setpriv")
        .args([
            format!("--reuid={uid}"),
            format!("--regid={uid}"),
            "--clear-groups".into(),
            "--".into(),
        ])
        .arg(exe)
        .args(["--ignored", "--exact"])
        .arg(util::test_path(module_path!(), "attacker"))
        .arg("--nocapture")
        .env(ATTACK_VAR, spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            eprintln!("skipped: setpriv cannot run here: {e}");
            return None;
        }
    };
    let mut out = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            let status = child.wait().unwrap();
            eprintln!("skipped: setpriv could not run the attacker as nobody: {status:?}");
            return None;
        }
        if let Some(uid) = line.trim().strip_prefix("READY uid=") {
            assert_eq!(
                uid,
                NOBODY.to_string(),
                "the attacker does not run as nobody"
            );
            return Some((child, out));
        }
    }
}

/// Ends the attacker (ours, by its handle) and returns its swap count.
fn stop(mut child: Child, out: BufReader<std::process::ChildStdout>) -> String {
    let _ = child.kill();
    let _ = child.wait();
    out.lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("DONE ").map(str::to_owned))
        .unwrap_or_else(|| "stopped".into())
}

fn running(child: &mut Child) -> bool {
    matches!(child.try_wait(), Ok(None))
}

fn mode_of(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

fn chown_to_nobody(path: &Path) {
    std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY)).unwrap();
}

/// The old `mode`: `bind`, then `chmod` by path (which follows a symbolic
/// link put there), then `listen`.
fn old_listen_with_mode(path: &Path, mode: u32) -> std::io::Result<socket2::Socket> {
    let socket = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)?;
    socket.bind(&socket2::SockAddr::unix(path)?)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    socket.listen(16)?;
    Ok(socket)
}

/// The old stale check: `lstat`, a refused `connect`, then `unlink`, each
/// by the whole path.
fn old_remove_if_stale(path: &Path) {
    let is_socket = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket());
    if !is_socket {
        return;
    }
    let refused = std::os::unix::net::UnixStream::connect(path)
        .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused);
    if refused {
        let _ = std::fs::remove_file(path);
    }
}

/// A race's count: rounds run, rounds in which a file outside the socket
/// was changed or removed, and listens that failed.
#[derive(Debug, Default)]
struct Tally {
    rounds: u32,
    lost: u32,
    failed: u32,
}

#[test]
fn mode_never_reaches_a_file_that_the_socket_entry_is_swapped_for() {
    let base = TempDir::new("race-mode");
    let victim = base.join("secret");
    std::fs::write(&victim, b"secret").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    let dir = base.join("attacker");
    std::fs::create_dir(&dir).unwrap();
    chown_to_nobody(&dir);
    let path = dir.join("s.sock");
    // SAFETY: umask has no preconditions; 0o022 removes bits from 0o666,
    // so the new calls need their chmod after bind.
    unsafe { libc::umask(0o022) };
    let spec = format!(
        "entry|{}|{}|{}",
        dir.display(),
        victim.display(),
        OLD_PHASE.as_millis()
    );

    let phase = |listen: &dyn Fn(&Path) -> bool, stop_early: bool, spec: &str| {
        let (mut child, out) = as_nobody(spec)?;
        let mut tally = Tally::default();
        while running(&mut child) && !(stop_early && tally.lost >= ENOUGH_LOSSES) {
            // The harness clears the entry (unlink does not follow it).
            let _ = std::fs::remove_file(&path);
            if !listen(&path) {
                tally.failed += 1;
            }
            tally.rounds += 1;
            if mode_of(&victim) != 0o600 {
                tally.lost += 1;
                std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
            }
        }
        Some((tally, stop(child, out)))
    };
    let Some((old, old_swaps)) = phase(&|p| old_listen_with_mode(p, 0o666).is_ok(), true, &spec)
    else {
        return;
    };
    let spec = format!(
        "entry|{}|{}|{}",
        dir.display(),
        victim.display(),
        NEW_PHASE.as_millis()
    );
    let new_listen = |p: &Path| {
        ListenerBuilder::new()
            .mode(0o666)
            .remove_stale_socket(true)
            .listen_unix(p)
            .is_ok()
    };
    let (new, new_swaps) = phase(&new_listen, false, &spec).unwrap();
    eprintln!("socket entry swapped for a link to a root 0600 file, with mode(0o666):");
    eprintln!("  old calls: {old:?}, attacker {old_swaps}");
    eprintln!("  new calls: {new:?}, attacker {new_swaps}");
    assert!(
        old.lost > 0,
        "the attack never won against the old calls: {old:?}"
    );
    assert_eq!(new.lost, 0, "{new:?}");
    assert!(
        new.rounds > new.failed,
        "the new calls never listened: {new:?}"
    );
    assert_eq!(mode_of(&victim), 0o600);
}

#[test]
fn remove_stale_never_removes_a_file_that_a_parent_is_swapped_to() {
    let base = TempDir::new("race-parent");
    let elsewhere = base.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let kept = elsewhere.join("s.sock");
    let write_kept = || {
        // The old calls may have bound a socket there after removing it.
        let _ = std::fs::remove_file(&kept);
        std::fs::write(&kept, b"keep").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o600)).unwrap();
    };
    write_kept();
    let dir = base.join("attacker");
    std::fs::create_dir(&dir).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("alt")).unwrap();
    for p in [dir.clone(), dir.join("sub")] {
        chown_to_nobody(&p);
    }
    let path = dir.join("sub").join("s.sock");
    let kept_intact = || {
        std::fs::symlink_metadata(&kept)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o7777 == 0o600)
            && std::fs::read(&kept).is_ok_and(|b| b == b"keep")
    };

    let phase = |listen: &dyn Fn(&Path) -> bool, stop_early: bool, ms: Duration| {
        let spec = format!("parent|{}|-|{}", dir.display(), ms.as_millis());
        let (mut child, out) = as_nobody(&spec)?;
        let mut tally = Tally::default();
        while running(&mut child) && !(stop_early && tally.lost >= ENOUGH_LOSSES) {
            if !listen(&path) {
                tally.failed += 1;
            }
            tally.rounds += 1;
            if !kept_intact() {
                tally.lost += 1;
                write_kept();
            }
        }
        Some((tally, stop(child, out)))
    };
    // Each round leaves a stale socket (the listener is closed at once)
    // for the next round's check.
    let old_listen = |p: &Path| {
        old_remove_if_stale(p);
        socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)
            .and_then(|s| s.bind(&socket2::SockAddr::unix(p)?).map(|()| s))
            .and_then(|s| s.listen(16))
            .is_ok()
    };
    let Some((old, old_swaps)) = phase(&old_listen, true, OLD_PHASE) else {
        return;
    };
    let new_listen = |p: &Path| {
        ListenerBuilder::new()
            .remove_stale_socket(true)
            .mode(0o666)
            .listen_unix(p)
            .is_ok()
    };
    let (new, new_swaps) = phase(&new_listen, false, NEW_PHASE).unwrap();
    eprintln!(
        "parent directory swapped for a link to a directory with a root file of the socket's name:"
    );
    eprintln!("  old calls: {old:?}, attacker {old_swaps}");
    eprintln!("  new calls: {new:?}, attacker {new_swaps}");
    assert!(
        old.lost > 0,
        "the attack never won against the old calls: {old:?}"
    );
    assert_eq!(new.lost, 0, "{new:?}");
    assert!(
        new.rounds > new.failed,
        "the new calls never listened: {new:?}"
    );
    assert!(kept_intact());
}

/// The kernel's table of sockets answers an unprivileged process: nobody's
/// stale check on root's live server says a server is listening, and the
/// server sees no connection.
#[test]
fn an_unprivileged_check_sees_a_live_server_without_connecting() {
    let dir = TempDir::new("race-check");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let path = dir.join("live.sock");
    let listener = ListenerBuilder::new()
        .mode(0o666)
        .nonblocking(true)
        .listen_unix(&path)
        .unwrap();
    let Some((mut child, out)) = as_nobody(&format!("check|{}|-|0", path.display())) else {
        return;
    };
    let result: Vec<String> = out.lines().map_while(Result::ok).collect();
    child.wait().unwrap();
    eprintln!("nobody's check: {result:?}");
    let line = result
        .iter()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap();
    assert!(
        line.contains("a server is listening on this socket file"),
        "{line}"
    );
    let err = listener.accept().unwrap_err();
    assert_eq!(
        err.kind(),
        std::io::ErrorKind::WouldBlock,
        "a connection came in"
    );
}
