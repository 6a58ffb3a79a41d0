//! Running a test again inside Linux namespaces that the test makes with
//! `unshare` (as root), with a file of the test's own bind-mounted over a
//! system file such as `/etc/resolv.conf` or `/etc/hosts`: the system
//! resolver inside reads the test's file, and nothing outside sees it.
//!
//! The test calls [`inside`] first: when it is true, it is the run inside
//! and makes its checks; otherwise it says why it cannot run
//! ([`hosts_not_from`], [`cannot_unshare`]) or starts the run inside with
//! [`run_inside`].

use std::path::Path;
use std::process::{Command, Stdio};

/// Set in the environment of the run inside the namespaces.
const INSIDE: &str = "SOCKWRIGHT_TEST_INSIDE_NAMESPACE";

/// Whether this process is the run inside the namespaces.
pub fn inside() -> bool {
    std::env::var_os(INSIDE).is_some()
}

/// Why host names are not looked up through `source` (`dns`, `files`)
/// here, if `/etc/nsswitch.conf` says they are not.
pub fn hosts_not_from(source: &str) -> Option<String> {
    let nsswitch = std::fs::read_to_string("/etc/nsswitch.conf").unwrap_or_default();
    let line = nsswitch
        .lines()
        .find(|l| l.trim_start().starts_with("hosts:"))?;
    if line.split_whitespace().any(|w| w == source) {
        return None;
    }
    let file = if source == "files" {
        "read /etc/hosts"
    } else {
        "resolve through DNS"
    };
    Some(format!("/etc/nsswitch.conf does not {file} ({line})"))
}

/// Why the namespaces cannot be made here, if they cannot: a mount
/// namespace, and with `network` a network namespace whose loopback is up.
pub fn cannot_unshare(network: bool) -> Option<String> {
    let mut command = Command::new("unshare");
    if network {
        command.args([
            "-m",
            "-n",
            "--propagation",
            "private",
            "ip",
            "link",
            "set",
            "lo",
            "up",
        ]);
    } else {
        command.args(["-m", "--propagation", "private", "true"]);
    }
    match command.stderr(Stdio::piped()).output() {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "cannot make {} (root{} needed): {}",
            if network {
                "a mount and network namespace with loopback up"
            } else {
                "a mount namespace"
            },
            if network { " and iproute2" } else { "" },
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!("cannot run unshare (util-linux): {e}")),
    }
}

/// Runs the test named `test` (its full name, see `util::test_path`) of
/// this program again, alone, inside new namespaces where `file` is
/// mounted over `target` (and, with `network`, a network namespace of its
/// own with loopback up); prints what it printed and fails if it failed.
pub fn run_inside(test: &str, network: bool, file: &Path, target: &str) {
    let unshare: &[&str] = if network {
        &["-m", "-n", "--propagation", "private", "sh", "-c"]
    } else {
        &["-m", "--propagation", "private", "sh", "-c"]
    };
    let script = format!(
        r#"{}mount --bind "$1" {target} && shift && exec "$@""#,
        if network { "ip link set lo up && " } else { "" }
    );
    let out = Command::new("unshare")
        .args(unshare)
        .arg(script)
        .arg("sh")
        .arg(file)
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .output()
        .expect("run the test inside the namespaces");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "the checks inside the namespaces failed"
    );
}

/// Runs `case` on a new thread in a network namespace of its own
/// (`unshare(CLONE_NEWNET)` moves that thread alone, and the namespace ends
/// with it), with loopback up and `sysctl` (a file under `/proc/sys` and
/// its value) written there first; `None`, with the reason on stderr,
/// where that cannot be done here (not root, no `ip`, a kernel without the
/// sysctl).
pub fn on_own_netns_thread<T: Send + 'static>(
    sysctl: (&'static str, String),
    case: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    std::thread::spawn(move || {
        // SAFETY: unshare takes flags only; it moves this thread alone into
        // a new network namespace, which ends with the thread.
        #[allow(unsafe_code)]
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            eprintln!(
                "skipped: unshare(CLONE_NEWNET): {} (needs root)",
                std::io::Error::last_os_error()
            );
            return None;
        }
        // A child inherits this thread's namespace.
        let up = Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status();
        if !matches!(up, Ok(s) if s.success()) {
            eprintln!("skipped: `ip link set lo up` in the namespace: {up:?}");
            return None;
        }
        let (file, value) = sysctl;
        if let Err(e) = std::fs::write(file, &value) {
            eprintln!("skipped: write {value} to {file}: {e}");
            return None;
        }
        Some(case())
    })
    .join()
    .unwrap()
}
