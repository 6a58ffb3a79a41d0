//! The blocking driver of a Happy Eyeballs connect (RFC 8305), for
//! [`ConnectorBuilder::connect`]: the addresses of a name are tried in an
//! interleaved order, a new attempt starts every connection attempt delay
//! (or at once when the latest one fails) while the earlier ones go on, and
//! the first connection made wins.
//!
//! The calling thread waits for all pending sockets at once in the OS
//! readiness wait (`poll(2)`, `WSAPoll`), for no longer than the time until
//! the next attempt is due or the connect timeout runs out. The rules are in
//! [`schedule`](super::schedule), the attempts in [`Attempts`]; this file
//! only waits.

use std::net::{SocketAddr, TcpStream};

use socket2::{SockRef, Socket};

use super::{outcome, schedule, Attempt, Attempts, Io, Next};
use crate::sys::{self, Connecting};
use crate::{resolve, Address, ConnectorBuilder, Error, Result};

/// Races `addrs` (already resolved and checked) and returns the first
/// connected stream, or every attempt's error in the order tried.
pub(crate) fn connect(
    builder: &ConnectorBuilder,
    target: resolve::Target<'_>,
    addrs: &[SocketAddr],
) -> Result<TcpStream> {
    let mut attempts = Attempts::new(builder, target, addrs);
    let mut pending: Vec<Attempt<Socket>> = Vec::new();
    loop {
        match attempts.next() {
            Next::Won(winner) => return won(builder, attempts, winner, pending),
            Next::Pending(attempt) => pending.push(attempt),
            Next::Wait(wait) => {
                let sockets: Vec<&Socket> = pending.iter().map(|a| &a.socket).collect();
                let ready = match sys::poll_connecting(&sockets, schedule::poll_millis(wait)) {
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

/// Closes the losers at once, puts the winner back in blocking mode and
/// finishes it like any connected socket.
fn won(
    builder: &ConnectorBuilder,
    attempts: Attempts<'_, resolve::Target<'_>>,
    winner: Attempt<Socket>,
    losers: Vec<Attempt<Socket>>,
) -> Result<TcpStream> {
    attempts.won(&winner, losers);
    let shown = Address::Inet(winner.addr);
    let socket = winner.socket;
    // Every attempt of a race has an ephemeral source port (a fixed one
    // makes the connect sequential), so a self-connect, rare as it is,
    // fails the race rather than starting it again.
    super::check_self_connect(&socket, winner.addr)?;
    // Nonblocking since `socket(2)`: one `ioctl(FIONBIO)` back to blocking,
    // none if a nonblocking stream was asked for.
    builder.connected(&socket, &shown, true, Io::Blocking)?;
    Ok(socket.into())
}
