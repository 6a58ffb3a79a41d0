//! `cargo run --example unix_server -- /tmp/sockwright-demo/app.sock`
//!
//! A Unix-domain server whose socket file only its group may use.
//!
//! ```text
//! cargo run --example unix_server                  # in a fresh temporary directory
//! cargo run --example unix_server -- /run/app/app.sock
//! ```
//!
//! Whoever may write a socket file may connect to it. `mode(0o660)` gives the
//! file that mode with no moment in which it is more open and without a
//! `chmod` by path, which could be redirected by whoever can write to the
//! directory; a directory the program creates is made `0700` and opened
//! (`0755`) once the socket is ready. A socket file left by a server that
//! died is replaced (`remove_stale_socket`); a live server's is not. The
//! program serves one client of its own, prints what it sent, and removes the
//! file.

use std::path::PathBuf;

use clap::Parser;

/// Listens on a Unix-domain socket file of mode 0660, serves one client of
/// its own, prints what it sent, and removes the file.
#[derive(Debug, Parser)]
#[command(name = "unix_server")]
struct Args {
    /// The socket file; its directory is created (mode 0755) if missing.
    /// Without it, a fresh directory under the temporary directory
    #[arg(value_name = "PATH")]
    path: Option<PathBuf>,
}

#[cfg(unix)]
fn main() -> std::process::ExitCode {
    let args = Args::parse();
    env_logger::init();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(unix)]
fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    use sockwright::{ConnectorBuilder, ListenerBuilder};
    use std::fs;
    use std::io::{Read, Write};
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};

    let path = match &args.path {
        Some(path) => path.clone(),
        None => std::env::temp_dir()
            .join(format!("sockwright-unix-server-{}", std::process::id()))
            .join("server.sock"),
    };
    let dir = path.parent().ok_or("the socket path needs a directory")?;
    let created = !dir.exists();
    if created {
        fs::DirBuilder::new().mode(0o700).create(dir)?;
    }
    let listener = ListenerBuilder::new()
        .remove_stale_socket(true)
        .mode(0o660)
        .listen_unix(&path)?;
    if created {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
    }
    let mode = fs::metadata(&path)?.permissions().mode() & 0o777;
    println!("listening on {} (mode {mode:o})", path.display());

    let mut client = ConnectorBuilder::new().connect_unix(&path)?;
    client.write_all(b"ping")?;
    let (mut conn, _) = listener.accept()?;
    let mut got = [0; 4];
    conn.read_exact(&mut got)?;
    println!("served one client: {}", String::from_utf8_lossy(&got));

    drop(listener);
    fs::remove_file(&path)?;
    if created {
        // The socket's directory, with the lock file that
        // `remove_stale_socket` keeps beside the socket (`server.sock.lock`).
        fs::remove_dir_all(dir)?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn main() {
    let _ = Args::parse().path;
    eprintln!("Unix-domain sockets are not available on this platform");
}
