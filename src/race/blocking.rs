//! The blocking driver of a Happy Eyeballs connect (RFC 8305), for
//! [`ConnectorBuilder::connect`]: the addresses of a name are tried in an
//! interleaved order, a new attempt starts every connection attempt delay
//! (or at once when the latest one fails) while the earlier ones go on, and
//! the first connection made wins. A name's addresses join the race as its
//! per-family lookups answer (RFC 8305, section 3).
//!
//! The calling thread waits for all pending sockets at once in the OS
//! readiness wait (`poll(2)`, `WSAPoll`), for no longer than the time until
//! the next attempt is due or the connect timeout runs out. The rules are in
//! [`schedule`](super::schedule), the attempts in [`Attempts`]; this file
//! only waits.

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use socket2::{SockRef, Socket};

use super::attempts::{Attempt, Attempts, Next};
use super::report::ConnectReport;
use crate::connector::attempt::{IoMode, outcome};
use crate::connector::gather::{self, no_answer};
use crate::resolve::lookup::Lookups;
use crate::sys::{self, Connecting};
use crate::{Address, ConnectorBuilder, Domain, Error, Result, resolve};

/// Races `addrs` (already resolved and checked) and returns the first
/// connected stream and what the race did, or every attempt's error in the
/// order tried (carrying the report even for one attempt when `reporting`).
pub(crate) fn connect(
    builder: &ConnectorBuilder,
    target: resolve::UserTarget<'_>,
    addrs: &[SocketAddr],
    reporting: bool,
) -> Result<(TcpStream, ConnectReport)> {
    let attempts = Attempts::new(builder, target, addrs).reporting(reporting);
    run(builder, attempts, None)
}

/// Looks up `name` once per family in `families`, at the same time, and
/// races its addresses as the answers arrive (RFC 8305, section 3).
pub(crate) fn connect_name(
    builder: &ConnectorBuilder,
    target: resolve::UserTarget<'_>,
    name: &str,
    port: u16,
    families: &[Domain],
    reporting: bool,
) -> Result<(TcpStream, ConnectReport)> {
    let mut lookups = builder.start_lookups(&target.to_string(), name, families)?;
    let attempts = Attempts::resolving(builder, target, name, port, families).reporting(reporting);
    run(builder, attempts, Some(&mut lookups))
}

/// Runs a race to its end: waits for the pending sockets and, while a name
/// is being resolved, for its answers, in one readiness wait.
fn run(
    builder: &ConnectorBuilder,
    mut attempts: Attempts<'_, resolve::UserTarget<'_>>,
    mut lookups: Option<&mut Lookups>,
) -> Result<(TcpStream, ConnectReport)> {
    let mut pending: Vec<Attempt<Socket>> = Vec::new();
    loop {
        match attempts.next() {
            Next::Won(winner) => return won(builder, attempts, winner, pending),
            Next::Pending(attempt) => pending.push(attempt),
            Next::Wait(wait) => {
                let sockets: Vec<&Socket> = pending.iter().map(|a| &a.socket).collect();
                let ms = crate::bounded::deadline::poll_millis(wait);
                let waited = match lookups.as_deref().and_then(Lookups::wake_socket) {
                    Some(wake) => sys::poll_connecting_or_woken(&sockets, wake, ms),
                    None => sys::poll_connecting(&sockets, ms).map(|ready| (ready, false)),
                };
                let (ready, woken) = match waited {
                    Ok(waited) => waited,
                    // Not expected with open sockets; the pending ones are closed.
                    Err(source) => return Err(attempts.wait_failed(&pending, source)),
                };
                if woken {
                    if let Some(lookups) = lookups.as_deref_mut() {
                        for (family, answer) in lookups.take() {
                            attempts.answered(family, answer);
                        }
                    }
                }
                // In the order the attempts started: the first one connected
                // wins; the failed ones leave the race.
                let mut ready = ready.into_iter();
                let settled = attempts.settle(pending, |attempt| {
                    match ready.next().unwrap_or(Connecting::Pending) {
                        Connecting::Pending => None,
                        // Writable with no error: connected, no `SO_ERROR` to read.
                        Connecting::Connected => Some(Ok(())),
                        Connecting::Failed => Some(outcome(SockRef::from(&attempt.socket))),
                    }
                });
                pending = settled.pending;
                if let Some(winner) = settled.winner {
                    return won(builder, attempts, winner, pending);
                }
            }
            Next::Over => return Err(attempts.lost(pending)),
        }
    }
}

/// Looks up `name` in `families` at the same time and returns every
/// address once all answered (see [`gather::gathered`]), each lookup
/// recorded in `report` where there is one. The connect timeout bounds the
/// wait.
pub(crate) fn lookup_all(
    builder: &ConnectorBuilder,
    target: &str,
    name: &str,
    port: u16,
    families: &[Domain],
    mut report: Option<&mut ConnectReport>,
) -> Result<Vec<SocketAddr>> {
    let mut lookups = builder.start_lookups(target, name, families)?;
    gather::asked(report.as_deref_mut(), families);
    let deadline = builder
        .timeout()
        .and_then(|t| crate::bounded::deadline::deadline(Instant::now(), t));
    let mut answers = Vec::new();
    while answers.len() < families.len() {
        let wait = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if wait == Some(Duration::ZERO) {
            return Err(no_answer(target));
        }
        let ms = crate::bounded::deadline::poll_millis(wait);
        let waited = match lookups.wake_socket() {
            Some(wake) => sys::poll_connecting_or_woken(&[], wake, ms).map(|_| ()),
            None => Err(std::io::Error::other("no wake socket")),
        };
        if let Err(source) = waited {
            return Err(Error::resolve(target.to_owned(), source));
        }
        answers.extend(gather::answered(
            report.as_deref_mut(),
            name,
            port,
            lookups.take(),
        ));
    }
    gather::gathered(builder, target, answers)
}

/// Closes the losers at once, puts the winner back in blocking mode and
/// finishes it like any connected socket.
fn won(
    builder: &ConnectorBuilder,
    attempts: Attempts<'_, resolve::UserTarget<'_>>,
    winner: Attempt<Socket>,
    losers: Vec<Attempt<Socket>>,
) -> Result<(TcpStream, ConnectReport)> {
    let report = attempts.won(&winner, losers);
    let shown = Address::Inet(winner.addr);
    let socket = winner.socket;
    // Every attempt of a race has an ephemeral source port (a fixed one
    // makes the connect sequential), so a self-connect, rare as it is,
    // fails the race rather than starting it again.
    builder.check_self_connect(&socket, winner.addr)?;
    // Nonblocking since `socket(2)`: one `ioctl(FIONBIO)` back to blocking,
    // none if a nonblocking stream was asked for.
    builder.connected(&socket, &shown, true, IoMode::Blocking)?;
    Ok((socket.into(), report))
}
