//! A Happy Eyeballs connect (RFC 8305): the addresses of a name are tried
//! in an interleaved order, a new attempt starts every connection attempt
//! delay (or at once when the latest one fails) while the earlier ones go
//! on, and the first connection made wins.
//!
//! Each attempt is a socket prepared exactly like a sequential attempt
//! (every builder option, the source address of its family), then connected
//! without blocking. One thread waits for all pending sockets at once in the
//! OS readiness wait (`poll(2)`, `WSAPoll`), for no longer than the time
//! until the next attempt is due or the connect timeout runs out. The rules
//! (order, schedule, deadline) are in [`crate::race`]; this file only runs them.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use log::debug;
use socket2::Socket;

use crate::options::set_result;
use crate::race::{self, Race, Step};
use crate::{
    connector, resolve, sys, Address, ConnectorBuilder, Domain, Error, Result, Type, CONNECTOR_LOG,
};

/// An attempt whose connect is under way.
struct Attempt {
    /// Its place in the order tried, for the error list.
    index: usize,
    addr: SocketAddr,
    socket: Socket,
}

/// How a nonblocking connect began.
enum Begun {
    /// Connected at once (possible on loopback).
    Connected(Socket),
    /// Going on in the background.
    Pending(Socket),
}

/// Races `addrs` (already resolved and checked) and returns the first
/// connected stream, or every attempt's error in the order tried.
pub(crate) fn connect(
    builder: &ConnectorBuilder,
    settings: &race::Settings,
    target: resolve::Target<'_>,
    addrs: &[SocketAddr],
) -> Result<TcpStream> {
    let order = race::interleave(addrs, settings.family, settings.first_count);
    debug!(
        target: CONNECTOR_LOG,
        "racing {target} (RFC 8305): order {order:?}, {:?} between attempts",
        settings.delay
    );
    let began = Instant::now();
    let mut race = Race::new(order, settings.delay, began, builder.timeout());
    let mut pending: Vec<Attempt> = Vec::new();
    let mut errors: Vec<(usize, Error)> = Vec::new();
    loop {
        let now = Instant::now();
        match race.step(now) {
            Step::Start { index, addr } => {
                race.started(now);
                debug!(
                    target: CONNECTOR_LOG,
                    "attempt {} to {addr} ({}) started",
                    index + 1,
                    Domain::for_address(&addr)
                );
                match begin(builder, addr) {
                    Ok(Begun::Connected(socket)) => {
                        let attempt = Attempt {
                            index,
                            addr,
                            socket,
                        };
                        return won(builder, attempt, pending, began);
                    }
                    Ok(Begun::Pending(socket)) => pending.push(Attempt {
                        index,
                        addr,
                        socket,
                    }),
                    Err(err) => {
                        debug!(target: CONNECTOR_LOG, "attempt {} failed: {err}", index + 1);
                        race.failed(index, Instant::now());
                        errors.push((index, err));
                    }
                }
            }
            Step::Wait(wait) => {
                let sockets: Vec<&Socket> = pending.iter().map(|a| &a.socket).collect();
                let ready = match sys::poll_connecting(&sockets, race::poll_millis(wait)) {
                    Ok(ready) => ready,
                    // Not expected with open sockets (a wait means at least one is
                    // pending); the pending ones are closed.
                    Err(source) => {
                        return Err(Error::Connect {
                            addr: Address::Inet(pending[0].addr),
                            source,
                        })
                    }
                };
                let (winner, rest) = settle(&mut race, pending, &ready, &mut errors);
                pending = rest;
                if let Some(winner) = winner {
                    return won(builder, winner, pending, began);
                }
            }
            Step::TimedOut => {
                for attempt in pending.drain(..) {
                    let err = Error::Connect {
                        addr: Address::Inet(attempt.addr),
                        source: match builder.timeout() {
                            Some(after) => connector::timed_out(after),
                            None => io::ErrorKind::TimedOut.into(),
                        },
                    };
                    debug!(target: CONNECTOR_LOG, "attempt {} cancelled: {err}", attempt.index + 1);
                    errors.push((attempt.index, err));
                }
                break;
            }
            Step::Exhausted => break,
        }
    }
    errors.sort_by_key(|(index, _)| *index);
    resolve::all_failed(
        target.to_string(),
        errors.into_iter().map(|(_, e)| e).collect(),
    )
}

/// Looks at the attempts the readiness wait reported, in the order they
/// started: the first one connected is the winner; the failed ones are
/// recorded and leave the race. Returns the winner, if any, and the attempts
/// still pending (which lose if there is a winner).
fn settle(
    race: &mut Race,
    pending: Vec<Attempt>,
    ready: &[bool],
    errors: &mut Vec<(usize, Error)>,
) -> (Option<Attempt>, Vec<Attempt>) {
    let now = Instant::now();
    let mut winner = None;
    let mut rest = Vec::with_capacity(pending.len());
    for (attempt, &is_ready) in pending.into_iter().zip(ready) {
        if !is_ready || winner.is_some() {
            rest.push(attempt);
            continue;
        }
        match outcome(&attempt.socket) {
            Ok(()) => winner = Some(attempt),
            Err(source) => {
                let err = Error::Connect {
                    addr: Address::Inet(attempt.addr),
                    source,
                };
                debug!(target: CONNECTOR_LOG, "attempt {} failed: {err}", attempt.index + 1);
                race.failed(attempt.index, now);
                errors.push((attempt.index, err));
            }
        }
    }
    (winner, rest)
}

/// Prepares a socket for `addr` like any attempt, then starts a nonblocking connect.
fn begin(builder: &ConnectorBuilder, addr: SocketAddr) -> Result<Begun> {
    let socket = builder.prepare(addr, Type::Stream)?;
    let shown = Address::Inet(addr);
    set_result("O_NONBLOCK", &shown, socket.set_nonblocking(true))?;
    match socket.connect(&addr.into()) {
        Ok(()) => Ok(Begun::Connected(socket)),
        // A signal during a nonblocking connect leaves it going on in the background.
        Err(e) if sys::connect_in_progress(&e) || e.kind() == io::ErrorKind::Interrupted => {
            Ok(Begun::Pending(socket))
        }
        Err(source) => Err(Error::Connect {
            addr: shown,
            source,
        }),
    }
}

/// How a socket that the readiness wait reported ended: the pending error
/// (`SO_ERROR`) if there is one, otherwise connected if it has a peer.
fn outcome(socket: &Socket) -> io::Result<()> {
    if let Some(err) = socket.take_error()? {
        return Err(err);
    }
    socket.peer_addr().map(drop)
}

/// Closes the losers at once, puts the winner back in blocking mode and
/// finishes it like any connected socket.
fn won(
    builder: &ConnectorBuilder,
    winner: Attempt,
    losers: Vec<Attempt>,
    began: Instant,
) -> Result<TcpStream> {
    let Attempt {
        index,
        addr,
        socket,
    } = winner;
    debug!(
        target: CONNECTOR_LOG,
        "attempt {} to {addr} won after {:?}",
        index + 1,
        began.elapsed()
    );
    for loser in losers {
        debug!(target: CONNECTOR_LOG, "attempt {} to {} cancelled", loser.index + 1, loser.addr);
        drop(loser.socket);
    }
    // Every attempt has an ephemeral source port (a fixed one makes the
    // connect sequential), so a self-connect is rare enough here to fail
    // the race rather than start it again.
    connector::check_self_connect(&socket, addr)?;
    let shown = Address::Inet(addr);
    set_result("O_NONBLOCK", &shown, socket.set_nonblocking(false))?;
    builder.connected(&socket, &shown)?;
    Ok(socket.into())
}
