//! Helpers shared by the hello tests: running a program with its output read
//! line by line, reserving loopback ports, and the interop scenarios run
//! against the C and Python peers.
//!
//! The example binaries are found with `util::example_binary`.
//!
//! Each test file uses only some of these, so unused ones are allowed.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use sockwright::hello::{CLIENT_GREETING, Exchange, SERVER_GREETING, Server};
use sockwright::{ConnectorBuilder, ListenerBuilder};

use crate::util::example_binary;

/// How long any single program in these tests may run before it is killed
/// and the test fails.
pub const PROGRAM_LIMIT: Duration = Duration::from_secs(30);

/// A loopback port that was free a moment ago: bound to `127.0.0.1:0`, read
/// back, closed. Another program may take it before it is used, so callers
/// retry with a fresh one when a bind fails.
pub fn reserve_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("reserve a loopback port")
        .port()
}

/// Which output a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Out,
    Err,
}

/// A running program whose stdout and stderr are read line by line on two
/// threads. Killed when dropped, if still running.
pub struct Running {
    pub child: Child,
    lines: Receiver<(Stream, Option<String>)>,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
    open: usize,
}

/// What a program printed, and how it ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Running {
    /// Starts `command` with piped output (and stdin closed).
    pub fn start(command: &mut Command) -> Running {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {command:?}: {e}"));
        let (sender, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        for (which, pipe) in [
            (Stream::Out, Box::new(out) as Box<dyn Read + Send>),
            (Stream::Err, Box::new(err)),
        ] {
            let sender = sender.clone();
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    match line {
                        Ok(line) => {
                            if sender.send((which, Some(line))).is_err() {
                                return;
                            }
                        }
                        Err(_) => break,
                    }
                }
                let _ = sender.send((which, None));
            });
        }
        Running {
            child,
            lines,
            stdout: Vec::new(),
            stderr: Vec::new(),
            open: 2,
        }
    }

    /// Reads the next line from either output, waiting until `deadline`.
    /// Returns `None` at the deadline or when both outputs are closed.
    pub fn next_line(&mut self, deadline: Instant) -> Option<(Stream, String)> {
        while self.open > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((which, Some(line))) => {
                    match which {
                        Stream::Out => self.stdout.push(line.clone()),
                        Stream::Err => self.stderr.push(line.clone()),
                    }
                    return Some((which, line));
                }
                Ok((_, None)) => self.open -= 1,
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => self.open = 0,
            }
        }
        None
    }

    /// Waits for `listening on ADDRESS` on stderr and returns the address.
    pub fn listening_addr(&mut self) -> String {
        let deadline = Instant::now() + PROGRAM_LIMIT;
        while let Some((which, line)) = self.next_line(deadline) {
            if let (Stream::Err, Some(addr)) = (which, line.strip_prefix("listening on ")) {
                // Not part of what the tests compare.
                self.stderr.pop();
                return addr.to_owned();
            }
        }
        panic!(
            "no 'listening on' line; stdout {:?}, stderr {:?}",
            self.stdout, self.stderr
        );
    }

    /// Waits for a line on stderr equal to `want`; false if the program
    /// closed its output (exited) or the deadline passed first.
    pub fn wait_for_stderr(&mut self, want: &str, deadline: Instant) -> bool {
        while let Some((which, line)) = self.next_line(deadline) {
            if which == Stream::Err && line == want {
                return true;
            }
        }
        false
    }

    /// Waits for the program to end (at most [`PROGRAM_LIMIT`]) and returns
    /// all it printed.
    pub fn finish(mut self) -> Finished {
        let deadline = Instant::now() + PROGRAM_LIMIT;
        while self.next_line(deadline).is_some() {}
        if self.open > 0 {
            let _ = self.child.kill();
            panic!(
                "program still running after {PROGRAM_LIMIT:?}; stdout {:?}, stderr {:?}",
                self.stdout, self.stderr
            );
        }
        let status = self.child.wait().expect("wait for program");
        Finished {
            status,
            stdout: join_lines(&self.stdout),
            stderr: join_lines(&self.stderr),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn join_lines(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Runs `command` to its end and returns what it printed.
pub fn run(command: &mut Command) -> Finished {
    Running::start(command).finish()
}

/// What the tutorial's server prints for one client.
pub const SERVER_OUTPUT: &str = "Hello from client\nHello message sent\n";

/// What the tutorial's client prints.
pub const CLIENT_OUTPUT: &str = "Hello message sent\nHello from server\n";

/// Starts a foreign server (`server(port)` makes its command) on a reserved
/// port, retrying with a fresh port when it cannot bind. The program prints
/// `ready` on stderr once it listens.
pub fn start_foreign_server(server: &dyn Fn(u16) -> Command) -> (Running, u16) {
    let mut failures = Vec::new();
    for _ in 0..5 {
        let port = reserve_port();
        let mut running = Running::start(&mut server(port));
        if running.wait_for_stderr("ready", Instant::now() + PROGRAM_LIMIT) {
            return (running, port);
        }
        // It exited (most likely the port was taken meanwhile): try another.
        failures.push(running.finish());
    }
    panic!("the server never started: {failures:?}");
}

/// The example server with a foreign client (`client(port)`).
pub fn example_server_with(client: &dyn Fn(u16) -> Command) {
    let mut server = Running::start(
        Command::new(example_binary("server"))
            .args(["--addr", "127.0.0.1", "--port", "0"])
            .env_remove("RUST_LOG"),
    );
    let addr: SocketAddr = server.listening_addr().parse().unwrap();
    let client = run(&mut client(addr.port()));
    assert_eq!(client.stdout, CLIENT_OUTPUT, "{client:?}");
    assert!(client.status.success(), "{client:?}");
    let server = server.finish();
    assert_eq!(server.stdout, SERVER_OUTPUT, "{server:?}");
    assert!(server.status.success(), "{server:?}");
}

/// The example client with a foreign server (`server(port)`).
pub fn example_client_with(server: &dyn Fn(u16) -> Command) {
    let (server, port) = start_foreign_server(server);
    let client = run(Command::new(example_binary("client"))
        .args(["--port", &port.to_string()])
        .env_remove("RUST_LOG"));
    assert_eq!(client.stdout, CLIENT_OUTPUT, "{client:?}");
    assert_eq!(client.stderr, "", "{client:?}");
    assert!(client.status.success(), "{client:?}");
    let server = server.finish();
    assert_eq!(server.stdout, SERVER_OUTPUT, "{server:?}");
    assert!(server.status.success(), "{server:?}");
}

/// The library's [`Server`] with a foreign client.
pub fn library_server_with(client: &dyn Fn(u16) -> Command) {
    let listener = ListenerBuilder::new()
        .backlog(3)
        .listen("127.0.0.1:0")
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let mut messages = Vec::new();
        let summary = Server::new(Exchange::server())
            .clients(1)
            .serve_tcp(&listener, |outcome| {
                messages.push(outcome.result.map_err(|e| e.to_string()))
            })
            .unwrap();
        (summary, messages)
    });
    let client = run(&mut client(port));
    assert_eq!(client.stdout, CLIENT_OUTPUT, "{client:?}");
    assert!(client.status.success(), "{client:?}");
    let (summary, messages) = server.join().unwrap();
    assert_eq!(messages, [Ok(CLIENT_GREETING.as_bytes().to_vec())]);
    assert_eq!((summary.accepted, summary.succeeded), (1, 1));
}

/// The library's client-side [`Exchange`] with a foreign server.
pub fn library_client_with(server: &dyn Fn(u16) -> Command) {
    let (server, port) = start_foreign_server(server);
    let mut stream = ConnectorBuilder::new()
        .connect(("127.0.0.1", port))
        .unwrap();
    let reply = Exchange::client().run(&mut stream).unwrap();
    assert_eq!(reply, SERVER_GREETING.as_bytes());
    drop(stream);
    let server = server.finish();
    assert_eq!(server.stdout, SERVER_OUTPUT, "{server:?}");
    assert!(server.status.success(), "{server:?}");
}

/// Connects to `addr` and sends `bytes`, one write.
pub fn send_raw(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(bytes).expect("write");
    stream
}

/// What [`load`] saw.
#[derive(Debug)]
pub struct Load {
    /// Clients that received the server's greeting.
    pub served: usize,
    /// Why the others did not, one line each.
    pub failures: Vec<String>,
    /// From the first connect to the last reply.
    pub elapsed: Duration,
    /// The silent connections, still open.
    pub stalled: Vec<TcpStream>,
}

/// Puts `addr` under load: opens `stalled` connections that never send
/// anything, then `clients` more, all held open at once by `workers`
/// threads; then sends every client's greeting, then reads every reply.
/// Each client reads with `reply_timeout`, so the whole run is bounded.
pub fn load(
    addr: SocketAddr,
    clients: usize,
    stalled: usize,
    workers: usize,
    reply_timeout: Duration,
) -> Load {
    let start = Instant::now();
    let stalled: Vec<TcpStream> = (0..stalled)
        .map(|_| TcpStream::connect(addr).expect("connect a silent client"))
        .collect();
    let per_worker = clients.div_ceil(workers);
    let (counts, failures): (Vec<usize>, Vec<Vec<String>>) = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let n = per_worker.min(clients.saturating_sub(w * per_worker));
                scope.spawn(move || serve_many(addr, n, reply_timeout))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("load worker panicked"))
            .unzip()
    });
    Load {
        served: counts.iter().sum(),
        failures: failures.into_iter().flatten().collect(),
        elapsed: start.elapsed(),
        stalled,
    }
}

/// One load worker: `n` connections open together, greetings, replies.
fn serve_many(addr: SocketAddr, n: usize, reply_timeout: Duration) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        match TcpStream::connect(addr) {
            Ok(stream) => streams.push(stream),
            Err(e) => failures.push(format!("connect: {e}")),
        }
    }
    streams.retain_mut(|s| match s.write_all(CLIENT_GREETING.as_bytes()) {
        Ok(()) => true,
        Err(e) => {
            failures.push(format!("send: {e}"));
            false
        }
    });
    let mut served = 0;
    for mut stream in streams {
        let mut reply = Vec::new();
        let result = stream
            .set_read_timeout(Some(reply_timeout))
            .and_then(|()| (&mut stream).take(64).read_to_end(&mut reply));
        match result {
            Ok(_) if reply == SERVER_GREETING.as_bytes() => served += 1,
            Ok(_) => failures.push(format!("reply {:?}", String::from_utf8_lossy(&reply))),
            Err(e) => failures.push(format!("receive: {e} after {reply:?}")),
        }
    }
    (served, failures)
}

/// Peak resident memory of process `pid` in KiB (`VmHWM` in
/// `/proc/PID/status`).
#[cfg(target_os = "linux")]
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}
