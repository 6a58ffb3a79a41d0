//! The tokio driver of a Happy Eyeballs connect (RFC 8305), for
//! [`ConnectorBuilder::connect_async`](crate::ConnectorBuilder::connect_async):
//! the race is the one the blocking driver runs, through the same
//! [`Attempts`]; only the wait differs. Each pending socket is handed to
//! tokio's reactor, the future polls them all for writability (the sign that
//! a connect has ended, one way or the other), and a tokio timer stands for
//! the time until the next attempt is due or the connect timeout runs out.

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::task::Poll;

use ::tokio::net::TcpStream;
use socket2::{SockRef, Socket};

use crate::connector::attempt::IoMode;
use crate::connector::gather::{self, ByName, no_answer};
use crate::listener::tokio::register;
use crate::race::attempts::{Attempt, Attempts, Next};
use crate::race::report::ConnectReport;
use crate::resolve::NamedTarget;
use crate::resolve::lookup::Lookups;
use crate::resolve::tokio::running;
use crate::{Address, ConnectorBuilder, Result, ToSocketAddrs};

/// Runs a race to its end in tokio's reactor and returns the first
/// connected stream (with what the race did), or every attempt's error in the order tried. While a
/// name is being resolved (`lookups`), its answers are waited for in the
/// same poll and given to the race as they come. A race of one address is a
/// single attempt bounded by the connect timeout.
pub(crate) async fn race<T: fmt::Display>(
    builder: &ConnectorBuilder,
    mut attempts: Attempts<'_, T>,
    mut lookups: Option<Lookups>,
) -> Result<(TcpStream, ConnectReport)> {
    let mut pending: Vec<Attempt<TcpStream>> = Vec::new();
    loop {
        let wait = match attempts.next() {
            Next::Won(winner) => {
                let winner = registered(winner)?;
                return won(builder, attempts, winner, pending);
            }
            Next::Pending(attempt) => {
                pending.push(registered(attempt)?);
                continue;
            }
            Next::Wait(wait) => wait,
            Next::Over => return Err(attempts.lost(pending)),
        };
        let mut timer = pin!(wait.map(::tokio::time::sleep));
        // Ready when an attempt has ended (the winner, or a failure that may
        // make the next attempt due at once), an answer came, or the wait is over.
        let waited = poll_fn(|cx| {
            let mut answered = false;
            if let Some(lookups) = lookups.as_mut() {
                for (family, answer) in lookups.poll_take(cx) {
                    attempts.answered(family, answer);
                    answered = true;
                }
            }
            let before = pending.len();
            let settled = attempts.settle(std::mem::take(&mut pending), |attempt| {
                match attempt.socket.poll_write_ready(cx) {
                    Poll::Pending => None,
                    Poll::Ready(Ok(())) => Some(ended(SockRef::from(&attempt.socket))),
                    Poll::Ready(Err(e)) => Some(Err(e)),
                }
            });
            pending = settled.pending;
            if settled.winner.is_some() || pending.len() < before || answered {
                return Poll::Ready(Ok(settled.winner));
            }
            match timer.as_mut().as_pin_mut().map(|timer| timer.poll(cx)) {
                Some(Poll::Ready(())) => Poll::Ready(Ok(None)),
                _ => Poll::Pending,
            }
        })
        .await;
        match waited {
            Ok(Some(winner)) => return won(builder, attempts, winner, pending),
            Ok(None) => {}
            Err(source) => return Err(attempts.wait_failed(&pending, source)),
        }
    }
}

/// Looks up `by` in each of its families at the same time and returns
/// every address once all answered, as the blocking connect does for the
/// sequential mode and datagram sockets (see [`gather::gathered`]), each
/// lookup recorded in `report` where there is one. The connect timeout
/// bounds the wait.
pub(crate) async fn lookup_all<A>(
    builder: &ConnectorBuilder,
    target: NamedTarget<'_, A>,
    by: &ByName,
    mut report: Option<&mut ConnectReport>,
) -> Result<Vec<SocketAddr>>
where
    A: ToSocketAddrs + ?Sized,
{
    running(&target)?;
    let shown = target.to_string();
    let mut lookups = Lookups::start_in_task(&builder.resolver, &by.name, &by.families);
    gather::asked(report.as_deref_mut(), &by.families);
    let deadline = builder
        .timeout()
        .and_then(|t| {
            crate::bounded::deadline::deadline(::tokio::time::Instant::now().into_std(), t)
        })
        .map(::tokio::time::Instant::from_std);
    let mut answers = Vec::new();
    while answers.len() < by.families.len() {
        let next = poll_fn(|cx| match lookups.poll_take(cx) {
            new if new.is_empty() => Poll::Pending,
            new => Poll::Ready(new),
        });
        let new = match deadline {
            Some(deadline) => ::tokio::time::timeout_at(deadline, next)
                .await
                .map_err(|_| no_answer(&shown))?,
            None => next.await,
        };
        answers.extend(gather::answered(
            report.as_deref_mut(),
            &by.name,
            by.port,
            new,
        ));
    }
    gather::gathered(builder, &shown, answers)
}

/// Hands an attempt's socket to tokio's reactor.
fn registered(attempt: Attempt<Socket>) -> Result<Attempt<TcpStream>> {
    let Attempt {
        index,
        addr,
        socket,
    } = attempt;
    let socket = register(TcpStream::from_std(socket.into()), &Address::Inet(addr))?;
    Ok(Attempt {
        index,
        addr,
        socket,
    })
}

/// Closes the losers at once and finishes the winner like any connected
/// socket, leaving it nonblocking.
fn won<T: fmt::Display>(
    builder: &ConnectorBuilder,
    attempts: Attempts<'_, T>,
    winner: Attempt<TcpStream>,
    losers: Vec<Attempt<TcpStream>>,
) -> Result<(TcpStream, ConnectReport)> {
    let report = attempts.won(&winner, losers);
    let shown = Address::Inet(winner.addr);
    let socket = SockRef::from(&winner.socket);
    // As in the blocking driver: a self-connect (an ephemeral source port
    // that met itself) fails the attempt rather than returning an echo.
    builder.check_self_connect(&socket, winner.addr)?;
    builder.connected(&socket, &shown, true, IoMode::Async)?;
    Ok((winner.socket, report))
}

/// How a connect that tokio reports writable ended: its pending error
/// (`SO_ERROR`), if it has one, and connected otherwise, as tokio's own
/// connect reads it. Write readiness on a connecting socket comes only once
/// the connect is over, so on success this is one `getsockopt` and the peer
/// is not read back.
pub(crate) fn ended(socket: SockRef<'_>) -> io::Result<()> {
    match socket.take_error()? {
        Some(err) => Err(err),
        None => Ok(()),
    }
}
