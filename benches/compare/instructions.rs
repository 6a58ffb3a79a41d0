//! The **instructions** group: user-space instructions per operation,
//! sockwright against the same work written by hand, counted by valgrind's
//! cachegrind.
//!
//! A time on a shared machine moves with everything else that runs there; an
//! instruction count does not. Cachegrind runs this bench program again, with
//! [`CHILD_VAR`] naming one operation and how often to run it; the child sets
//! up what the operation needs (a server, for an exchange), runs it that many
//! times and exits. Each operation is counted twice, `FEW` and `MANY` times,
//! and the per-operation figure is the difference divided by `MANY - FEW`:
//! the program's start, the set-up and the first run's one-time work (the
//! allocator's first pages, lazy symbol binding) cancel out.
//!
//! Only user space is counted: valgrind runs the program's instructions on a
//! simulated CPU and the kernel's work in each system call is not among them
//! (the system-call audit, `tests/syscalls.rs`, counts those calls).
//! Without valgrind the group is skipped, with the reason printed.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, ExitCode};

use sockwright::hello::Exchange;
use sockwright::{ConnectorBuilder, ListenerBuilder};

use super::{
    await_close, expect_reply, hello_server, server_listener, socket2_listener, std_client,
    std_server, Fallible, Plan, Receive, Report, SequentialServer,
};

/// The variable that makes this program a counted child: `NAME:COUNT`.
pub const CHILD_VAR: &str = "SOCKWRIGHT_BENCH_COUNT";

/// The most a sockwright operation may cost, relative to the hand-written one.
const MAX_RATIO: f64 = 1.02;

/// The operations counted, in pairs: (what, sockwright's, hand-written's).
const PAIRS: [(&str, &str, &str); 3] = [
    (
        "listener build (reuse-address, reuse-port (Unix), backlog, bind, listen, drop) vs socket2",
        "listener-sockwright",
        "listener-socket2",
    ),
    (
        "exchange, run (connect, greeting, reply, close; both sides, 5 s timeouts) vs std",
        "exchange-sockwright",
        "exchange-std",
    ),
    (
        "exchange, run_into a 64-byte stack buffer (as run, allocating nothing) vs std",
        "exchange-sockwright-into",
        "exchange-std",
    ),
];

pub fn group(plan: &Plan, report: &mut Report) -> Fallible<()> {
    // Counts do not depend on the machine's load: a quick run counts fewer
    // operations, not less precisely.
    let (few, many) = if plan.quick { (5, 25) } else { (20, 220) };
    match Command::new("valgrind").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            println!(
                "\ninstructions: skipped: valgrind --version failed ({})",
                out.status
            );
            return Ok(());
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            println!("\ninstructions: skipped: valgrind is not installed");
            return Ok(());
        }
        Err(e) => return Err(format!("running valgrind: {e}").into()),
    }
    println!(
        "\n## instructions (user-space instructions per operation, counted by cachegrind: \
         ({many} runs - {few} runs) / {})",
        many - few
    );
    println!(
        "{:<92} {:>12} {:>12} {:>7}",
        "operation", "sockwright", "hand-written", "ratio"
    );
    for (what, ours, theirs) in PAIRS {
        let ours_count = per_op(ours, few, many)?;
        let theirs_count = per_op(theirs, few, many)?;
        let ratio = ours_count / theirs_count;
        println!("{what:<92} {ours_count:>12.0} {theirs_count:>12.0} {ratio:>7.3}");
        report.check(
            !plan.quick,
            ratio <= MAX_RATIO,
            format!(
                "instructions: {ours} / {theirs} = {ratio:.3} ({ours_count:.0} / \
                 {theirs_count:.0} per operation; needs <= {MAX_RATIO})"
            ),
        );
    }
    Ok(())
}

/// Instructions per run of operation `name`.
fn per_op(name: &str, few: u64, many: u64) -> Fallible<f64> {
    let a = count(name, few)?;
    let b = count(name, many)?;
    Ok((b as f64 - a as f64) / (many - few) as f64)
}

/// The instructions that the whole child program executes running `name`
/// `times` times.
fn count(name: &str, times: u64) -> Fallible<u64> {
    let exe = std::env::current_exe()?;
    let out = Command::new("valgrind")
        .args([
            "--tool=cachegrind",
            "--cache-sim=no",
            "--branch-sim=no",
            "--cachegrind-out-file=/dev/null",
        ])
        .arg(exe)
        .env(CHILD_VAR, format!("{name}:{times}"))
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "{name} x{times} under cachegrind failed ({}): {}",
            out.status,
            stderr.trim()
        )
        .into());
    }
    // The summary line: `==PID== I   refs:      1,234,567`.
    let refs = stderr
        .lines()
        .find_map(|line| {
            line.split_once("I   refs:")
                .map(|(_, n)| n.trim().replace(',', ""))
        })
        .ok_or_else(|| format!("no instruction count in cachegrind's output: {stderr}"))?;
    Ok(refs.parse()?)
}

/// The child: runs the operation named in `spec` (`NAME:COUNT`) and exits.
pub fn child(spec: &str) -> ExitCode {
    match run_child(spec) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{spec}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_child(spec: &str) -> Fallible<()> {
    let (name, times) = spec
        .split_once(':')
        .ok_or_else(|| format!("{CHILD_VAR} must be NAME:COUNT, not {spec:?}"))?;
    let times: u64 = times.parse()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let backlog = ListenerBuilder::DEFAULT_BACKLOG;
    match name {
        "listener-sockwright" => {
            let builder = super::setup_builder(backlog);
            for _ in 0..times {
                drop(builder.listen(addr)?);
            }
        }
        "listener-socket2" => {
            for _ in 0..times {
                drop(socket2_listener(addr, backlog)?);
            }
        }
        "exchange-sockwright" | "exchange-sockwright-into" => {
            let receive = if name == "exchange-sockwright" {
                Receive::Vec
            } else {
                Receive::Into
            };
            let server = hello_server(receive)?;
            let connector = ConnectorBuilder::new();
            let client = Exchange::client();
            for _ in 0..times {
                let mut stream = connector.connect(server.addr)?;
                match receive {
                    Receive::Vec => expect_reply(&client.run(&mut stream)?)?,
                    Receive::Into => {
                        let mut reply = [0; 64];
                        let n = client.run_into(&mut stream, &mut reply)?;
                        expect_reply(&reply[..n])?;
                    }
                }
                await_close(&mut stream)?;
            }
            server.stop()?;
        }
        "exchange-std" => {
            let server = SequentialServer::start(server_listener(TcpListener::bind)?, std_server);
            for _ in 0..times {
                let mut stream = TcpStream::connect(server.addr)?;
                let reply = std_client(&mut stream)?;
                expect_reply(&reply)?;
                await_close(&mut stream)?;
            }
            server.stop()?;
        }
        other => return Err(format!("unknown operation {other:?}").into()),
    }
    Ok(())
}
