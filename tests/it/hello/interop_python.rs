//! The examples and the library against Python peers (`python3 -c` with the
//! `socket` module), a second independent implementation of the tutorial's
//! programs: one `recv` of at most 1023 bytes, no framing, no half-close.
//!
//! Skipped, saying why, where `python3` cannot be run. The server binds
//! 127.0.0.1 on the port given as its argument and prints `ready` on stderr
//! once it listens.
#![cfg(unix)]

use std::process::Command;
use std::sync::OnceLock;

use crate::util::hello::{
    example_client_with, example_server_with, library_client_with, library_server_with,
};

const SERVER_PY: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(3)
print("ready", file=sys.stderr, flush=True)
conn, _ = s.accept()
data = conn.recv(1023)
print(data.decode("utf-8", "replace"), flush=True)
conn.sendall(b"Hello from server")
print("Hello message sent", flush=True)
conn.close()
s.close()
"#;

const CLIENT_PY: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    print("Connection Failed", flush=True)
    sys.exit(255)
s.sendall(b"Hello from client")
print("Hello message sent", flush=True)
data = s.recv(1023)
print(data.decode("utf-8", "replace"), flush=True)
s.close()
"#;

/// Whether `python3` runs here; says why not when it does not.
fn have_python() -> bool {
    static HAVE: OnceLock<bool> = OnceLock::new();
    *HAVE.get_or_init(|| match Command::new("python3").arg("--version").output() {
        Ok(output) if output.status.success() => true,
        Ok(output) => {
            eprintln!("skipped: python3 --version failed: {output:?}");
            false
        }
        Err(e) => {
            eprintln!("skipped: cannot run python3: {e}");
            false
        }
    })
}

fn python(script: &str, port: u16) -> Command {
    let mut command = Command::new("python3");
    command.arg("-c").arg(script).arg(port.to_string());
    command
}

fn py_server(port: u16) -> Command {
    python(SERVER_PY, port)
}

fn py_client(port: u16) -> Command {
    python(CLIENT_PY, port)
}

#[test]
fn python_client_with_example_server() {
    if have_python() {
        example_server_with(&py_client);
    }
}

#[test]
fn example_client_with_python_server() {
    if have_python() {
        example_client_with(&py_server);
    }
}

#[test]
fn python_client_with_library_server() {
    if have_python() {
        library_server_with(&py_client);
    }
}

#[test]
fn library_client_with_python_server() {
    if have_python() {
        library_client_with(&py_server);
    }
}
