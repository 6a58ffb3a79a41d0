//! The race runner: [`Attempts`] runs the [`schedule`] of a connect, hands
//! each attempt it starts to the driver that waits ([`blocking`](super::blocking),
//! or `tokio`), takes the answers of a name's lookups as they come
//! ([`resolution`](super::resolution)), and gathers the errors into the one
//! error a caller sees.
//!
//! A driver only waits: it asks [`Attempts::next`] what to do, keeps the
//! pending sockets in whatever form its wait needs, and reports each one
//! its wait says is done to [`Attempts::settle`].

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use socket2::Socket;

use super::report::{AttemptOutcome, ConnectReport};
use super::resolution::Resolution;
use super::schedule::{self, Race, RaceStep};
use crate::bounded::shown::List;
use crate::connector::attempt::{Begun, begin, timed_out};
use crate::{Address, ConnectorBuilder, Domain, Error, resolve};

/// One attempt of a race: its place in the order tried (for the error
/// list), its address, and its socket in the form the driver waits on.
#[derive(Debug)]
pub(crate) struct Attempt<S> {
    pub(crate) index: usize,
    pub(crate) addr: SocketAddr,
    pub(crate) socket: S,
}

/// The pending attempts after [`Attempts::settle`]: the winner, if one
/// connected, and the attempts still under way (the losers if there is a winner).
#[derive(Debug)]
pub(crate) struct Settled<S> {
    pub(crate) winner: Option<Attempt<S>>,
    pub(crate) pending: Vec<Attempt<S>>,
}

/// What a driver does next, as [`Attempts::next`] says.
#[derive(Debug)]
pub(crate) enum Next {
    /// This attempt connected at once (possible on loopback): it wins.
    Won(Attempt<Socket>),
    /// This attempt's connect is under way: wait for it with the others.
    Pending(Attempt<Socket>),
    /// Wait for a pending attempt to finish, at most this long (`None`: no limit).
    Wait(Option<Duration>),
    /// The race is lost: every address failed, or the connect timeout ran
    /// out. [`Attempts::lost`] gives the error.
    Over,
}

/// One Happy Eyeballs race as both drivers run it: the schedule, the
/// attempts it starts, and the errors of the ones that failed.
#[derive(Debug)]
pub(crate) struct Attempts<'b, T> {
    builder: &'b ConnectorBuilder,
    target: T,
    race: Race,
    errors: Vec<(usize, Error)>,
    began: Instant,
    /// Whether the connect timeout ended the race (rather than every
    /// address failing).
    timed_out: bool,
    /// For a name resolved one family at a time: the name, the port, and
    /// which answers may enter the race when.
    resolving: Option<Resolving>,
    /// What happened when, for `connect_with_report` and a lost race's error.
    report: ConnectReport,
    /// Whether a lost race's error carries the report even when one
    /// attempt failed (`connect_with_report`), not only when several did.
    reporting: bool,
}

/// The families asked, for a log line: `IPv6 and IPv4`.
struct Families<'a>(&'a [Domain]);

impl fmt::Display for Families<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, family) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" and ")?;
            }
            write!(f, "{family}")?;
        }
        Ok(())
    }
}

/// A name being resolved per family while its race runs.
#[derive(Debug)]
struct Resolving {
    name: String,
    port: u16,
    resolution: Resolution,
}

impl<'b, T: fmt::Display> Attempts<'b, T> {
    /// A race over `addrs` (resolved and checked), in the order the
    /// builder's race settings give, starting now.
    pub(crate) fn new(builder: &'b ConnectorBuilder, target: T, addrs: &[SocketAddr]) -> Self {
        let settings = &builder.race;
        let order = schedule::interleave(addrs, settings.family, settings.first_count);
        if order.len() > 1 {
            connector_debug!(
                "racing {target} (RFC 8305): order [{}], {:?} between attempts",
                List(&order, ", "),
                settings.delay
            );
        }
        let began = Instant::now();
        Attempts {
            report: ConnectReport::new(target.to_string(), began),
            race: Race::new(
                order,
                settings.delay,
                settings.in_flight,
                began,
                builder.timeout(),
            ),
            builder,
            target,
            errors: Vec::new(),
            began,
            timed_out: false,
            resolving: None,
            reporting: false,
        }
    }

    /// Makes a lost race's error carry the report even for one failed
    /// attempt, for `connect_with_report`.
    pub(crate) fn reporting(mut self, on: bool) -> Self {
        self.reporting = on;
        self
    }

    /// A race over the addresses of `name` that are still being looked up
    /// in `families`, starting now: the answers come through
    /// [`answered`](Self::answered) and enter the race as RFC 8305,
    /// section 3, says. The connect timeout bounds resolution and race.
    pub(crate) fn resolving(
        builder: &'b ConnectorBuilder,
        target: T,
        name: &str,
        port: u16,
        families: &[Domain],
    ) -> Self {
        let settings = &builder.race;
        let began = Instant::now();
        let mut race = Race::new(
            Vec::new(),
            settings.delay,
            settings.in_flight,
            began,
            builder.timeout(),
        );
        race.expect(true);
        connector_debug!(
            "racing {target} (RFC 8305) as the {} answers for {name} come: {:?} between attempts, {:?} resolution delay",
            Families(families),
            settings.delay,
            settings.resolution_delay
        );
        let mut report = ConnectReport::new(target.to_string(), began);
        for &family in families {
            report.asked(family, began);
        }
        Attempts {
            report,
            race,
            builder,
            target,
            errors: Vec::new(),
            began,
            timed_out: false,
            resolving: Some(Resolving {
                name: name.to_owned(),
                port,
                resolution: Resolution::new(families, settings.family, settings.resolution_delay),
            }),
            reporting: false,
        }
    }

    /// Records one family's answer for the name being resolved; its
    /// addresses enter the race when [`next`](Self::next) says so. A family
    /// that failed is logged and kept for the error of a lost race.
    pub(crate) fn answered(&mut self, family: Domain, answer: io::Result<Vec<SocketAddr>>) {
        let Some(resolving) = &mut self.resolving else {
            return;
        };
        let now = Instant::now();
        let answer = match answer {
            Ok(mut addrs) => {
                addrs.retain(|a| match self.builder.opts.check_inet(a) {
                    Ok(()) => true,
                    Err(err) => {
                        connector_debug!("{} ({family}): {a} left out: {err}", resolving.name);
                        false
                    }
                });
                for addr in &mut addrs {
                    addr.set_port(resolving.port);
                }
                connector_debug!(
                    "{} ({family}) answered after {:?}: [{}]",
                    resolving.name,
                    self.began.elapsed(),
                    List(&addrs, ", ")
                );
                self.report.lookup_answered(family, Ok(&addrs), now);
                Ok(addrs)
            }
            Err(source) => {
                let err = Error::Resolve {
                    target: resolving.name.clone(),
                    family: Some(family),
                    error: source,
                };
                connector_debug!("{err}");
                self.report
                    .lookup_answered(family, Err(err.to_string()), now);
                Err(err)
            }
        };
        resolving.resolution.answered(family, answer, now);
        if resolving.resolution.holding() {
            let settings = &self.builder.race;
            self.report
                .delay_began(settings.family, settings.resolution_delay, now);
            connector_debug!(
                "{}: waiting up to {:?} for the {} answer (RFC 8305 resolution delay)",
                resolving.name,
                self.builder.race.resolution_delay,
                self.builder.race.family
            );
        }
    }

    /// Gives the race the answers that may enter it now, and tells it
    /// whether more may come.
    fn release(&mut self, now: Instant) {
        let Some(resolving) = &mut self.resolving else {
            return;
        };
        let holding = resolving.resolution.holding();
        let new = resolving.resolution.release(now);
        if !new.is_empty() {
            let settings = &self.builder.race;
            let before = self.race.known();
            if holding {
                self.report.delay_expired(now);
                connector_debug!(
                    "{}: no {} answer within the resolution delay; starting with [{}]",
                    resolving.name,
                    settings.family,
                    List(&new, ", ")
                );
            }
            self.race.add(&new, settings.family, settings.first_count);
            if before > 0 {
                connector_debug!("[{}] joined the race for {}", List(&new, ", "), self.target);
            }
        }
        self.race.expect(resolving.resolution.pending());
    }

    /// The end of the resolution delay, if it is running and comes before `wait` ends.
    fn shorten(&self, wait: Option<Duration>, now: Instant) -> Option<Duration> {
        let due = self
            .resolving
            .as_ref()
            .and_then(|r| r.resolution.next_due())
            .map(|t| t.saturating_duration_since(now));
        match (wait, due) {
            (Some(w), Some(d)) => Some(w.min(d)),
            (w, d) => w.or(d),
        }
    }

    /// Asks the schedule what to do now; starts the attempt it asks for.
    pub(crate) fn next(&mut self) -> Next {
        loop {
            let now = Instant::now();
            self.release(now);
            let (index, addr) = match self.race.step(now) {
                RaceStep::Start { index, addr } => (index, addr),
                RaceStep::Wait(wait) => return Next::Wait(self.shorten(wait, now)),
                RaceStep::TimedOut => {
                    self.timed_out = true;
                    return Next::Over;
                }
                RaceStep::Exhausted => return Next::Over,
            };
            self.race.started(now);
            self.report.attempt_started(index, addr, now);
            connector_debug!(
                "attempt {} to {addr} ({}) started",
                index + 1,
                Domain::for_address(&addr)
            );
            match begin(self.builder, addr) {
                Ok(Begun::Connected(socket)) => {
                    return Next::Won(Attempt {
                        index,
                        addr,
                        socket,
                    });
                }
                Ok(Begun::Pending(socket)) => {
                    return Next::Pending(Attempt {
                        index,
                        addr,
                        socket,
                    });
                }
                Err(err) => self.failed(index, err),
            }
        }
    }

    /// Goes through the pending attempts in the order they started, asking
    /// `done` how each one ended (`None`: still pending): the first one
    /// connected is the winner; the failed ones are recorded and leave the
    /// race (the next attempt is then due at once if the latest one failed).
    /// `done` is not asked about the attempts after a winner.
    pub(crate) fn settle<S>(
        &mut self,
        pending: Vec<Attempt<S>>,
        mut done: impl FnMut(&Attempt<S>) -> Option<io::Result<()>>,
    ) -> Settled<S> {
        let mut winner = None;
        let mut rest = Vec::with_capacity(pending.len());
        for attempt in pending {
            if winner.is_some() {
                rest.push(attempt);
                continue;
            }
            match done(&attempt) {
                None => rest.push(attempt),
                Some(Ok(())) => winner = Some(attempt),
                Some(Err(source)) => {
                    let err = Error::Connect {
                        addr: Address::Inet(attempt.addr),
                        error: source,
                    };
                    self.failed(attempt.index, err);
                }
            }
        }
        Settled {
            winner,
            pending: rest,
        }
    }

    /// The error of a readiness wait that failed (not expected with open
    /// sockets): a connect error for the first pending attempt, or, with
    /// none pending, a resolve error for the target. Every socket is closed.
    pub(crate) fn wait_failed<S>(&self, pending: &[Attempt<S>], source: io::Error) -> Error {
        match pending.first() {
            Some(attempt) => Error::Connect {
                addr: Address::Inet(attempt.addr),
                error: source,
            },
            None => Error::resolve(self.target.to_string(), source),
        }
    }

    /// Records a failed attempt: the next one is due at once if it was the latest.
    fn failed(&mut self, index: usize, err: Error) {
        connector_debug!("attempt {} failed: {err}", index + 1);
        let now = Instant::now();
        self.report
            .attempt_ended(index, AttemptOutcome::Failed, Some(err.to_string()), now);
        self.race.failed(index, now);
        self.errors.push((index, err));
    }

    /// Ends a won race: logs the winner, closes every loser at once, and
    /// returns what happened.
    pub(crate) fn won<S>(mut self, winner: &Attempt<S>, losers: Vec<Attempt<S>>) -> ConnectReport {
        connector_debug!(
            "attempt {} to {} won after {:?}",
            winner.index + 1,
            winner.addr,
            self.began.elapsed()
        );
        let now = Instant::now();
        self.report
            .attempt_ended(winner.index, AttemptOutcome::Won, None, now);
        for loser in losers {
            connector_debug!("attempt {} to {} cancelled", loser.index + 1, loser.addr);
            drop(loser.socket);
            self.report
                .attempt_ended(loser.index, AttemptOutcome::Cancelled, None, now);
        }
        self.report.finish(now);
        self.report
    }

    /// Ends a lost race: the attempts still pending (the connect timeout
    /// ran out) fail with `TimedOut` and are closed; the error lists every
    /// attempt in the order tried.
    pub(crate) fn lost<S>(mut self, pending: Vec<Attempt<S>>) -> Error {
        for attempt in pending {
            let err = Error::Connect {
                addr: Address::Inet(attempt.addr),
                error: match self.builder.timeout() {
                    Some(after) => timed_out(after),
                    None => io::ErrorKind::TimedOut.into(),
                },
            };
            connector_debug!("attempt {} cancelled: {err}", attempt.index + 1);
            self.report.attempt_ended(
                attempt.index,
                AttemptOutcome::TimedOut,
                Some(err.to_string()),
                Instant::now(),
            );
            self.errors.push((attempt.index, err));
        }
        self.report.finish(Instant::now());
        let report = self.report;
        self.errors.sort_by_key(|(index, _)| *index);
        let mut errors: Vec<Error> = self.errors.into_iter().map(|(_, e)| e).collect();
        if let Some(mut resolving) = self.resolving {
            let resolution = &mut resolving.resolution;
            if errors.is_empty() {
                // No attempt ended: the timeout ran out before an address
                // came, or before the first one could be tried.
                let timeout = self.builder.timeout().unwrap_or_default();
                let why = if resolution.pending() {
                    format!("no address within the connect timeout ({timeout:?})")
                } else if self.timed_out {
                    format!("the connect timeout ({timeout:?}) ran out before any attempt")
                } else {
                    return resolution.no_address(&self.target.to_string());
                };
                return Error::resolve(
                    self.target.to_string(),
                    io::Error::new(io::ErrorKind::TimedOut, why),
                );
            }
            let resolve_errors = resolution.take_errors();
            if !resolve_errors.is_empty() {
                errors.extend(resolve_errors);
                return Error::AllAttemptsFailed {
                    target: self.target.to_string(),
                    attempts: errors,
                    report: Some(Box::new(report)),
                };
            }
        }
        report.attach(
            resolve::failure(self.target.to_string(), errors),
            self.reporting,
        )
    }
}
