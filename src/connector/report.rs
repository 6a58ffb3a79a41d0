//! [`ConnectorBuilder::connect_with_report`]: a connect that also says what
//! it did. The race runner records a Happy Eyeballs race whichever driver
//! waits; a connect that tries its addresses one at a time is recorded here,
//! attempt by attempt.

use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

use crate::connector::attempt::IoMode;
use crate::race::{self, report::ConnectReport};
use crate::{CONNECTOR_LOG, ConnectorBuilder, Result, ToSocketAddrs, Type, resolve};

impl ConnectorBuilder {
    /// Connects as [`connect`](Self::connect) does, and returns the stream
    /// together with a [`ConnectReport`] of what happened: each address
    /// family's lookup of a name (asked, answered or failed, when, the
    /// addresses), the resolution delay if it ran, each attempt (address,
    /// start, end, outcome), the winner and the total time.
    ///
    /// The report's [`Display`](std::fmt::Display) is a timeline, with times
    /// in milliseconds since the start; `examples/client.rs --explain`
    /// prints it. The connect itself is the same as `connect`'s: the same
    /// system calls, the same errors.
    ///
    /// # Errors
    ///
    /// As for [`connect`](Self::connect), except that once an attempt was
    /// made the error is always an
    /// [`Error::AllAttemptsFailed`](crate::Error::AllAttemptsFailed), even
    /// for one address (a list of that one attempt's error), so that it
    /// carries the report: [`Error::report`](crate::Error::report) gives
    /// each attempt's timings. An error before any attempt (the
    /// configuration, a name that did not resolve) is as `connect` returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{ConnectorBuilder, StaticResolver};
    ///
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let resolver = StaticResolver::new().insert("api.internal", "127.0.0.1".parse()?);
    /// let (stream, report) = ConnectorBuilder::new()
    ///     .resolver(resolver)
    ///     .connect_with_report(("api.internal", server.local_addr()?.port()))?;
    /// // Each family was asked; the IPv4 answer won.
    /// assert_eq!(report.lookups().len(), 2);
    /// assert_eq!(report.winner().map(|a| a.addr()), Some(stream.peer_addr()?));
    /// println!("{report}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect_with_report<A>(&self, addr: A) -> Result<(TcpStream, ConnectReport)>
    where
        A: ToSocketAddrs,
    {
        let (stream, report) = self.connect_stream(addr, true)?;
        Ok((
            stream,
            report.map_or_else(ConnectReport::empty, |report| *report),
        ))
    }

    /// The connect of both [`connect`](Self::connect) and
    /// [`connect_with_report`](Self::connect_with_report). With `reporting`,
    /// the report records each step, an error carries it, and it is
    /// returned; without, there is none.
    pub(super) fn connect_stream(
        &self,
        addr: impl ToSocketAddrs,
        reporting: bool,
    ) -> Result<(TcpStream, Reported)> {
        self.validate_inet(Type::Stream)?;
        let target = resolve::UserTarget::new(&addr, CONNECTOR_LOG);
        self.log_start(&target);
        // Read only for a report: a plain connect reads no clock.
        let began = reporting.then(Instant::now);
        if let Some(by) = self.by_name(&addr, Type::Stream) {
            if by.race {
                let (stream, report) = race::blocking::connect_name(
                    self,
                    target,
                    &by.name,
                    by.port,
                    &by.families,
                    reporting,
                )?;
                return Ok((stream, reported(report, reporting)));
            }
            // The report, where there is one, records the lookups too.
            let mut tried = OneAtATime::new(target, began);
            let report = tried.report.as_deref_mut();
            let shown = target.to_string();
            let addrs =
                race::blocking::lookup_all(self, &shown, &by.name, by.port, &by.families, report)?;
            return self.one_at_a_time(tried, &addrs);
        }
        resolve::resolve_then(target, &self.opts, |addrs| {
            if self.races(target, addrs.len()) {
                let (stream, report) = race::blocking::connect(self, target, addrs, reporting)?;
                return Ok((stream, reported(report, reporting)));
            }
            self.one_at_a_time(OneAtATime::new(target, began), addrs)
        })
    }

    /// Tries `addrs` one after another, as `connect` does without a race,
    /// recording each attempt in `tried`.
    fn one_at_a_time(
        &self,
        mut tried: OneAtATime<resolve::UserTarget<'_>>,
        addrs: &[SocketAddr],
    ) -> Result<(TcpStream, Reported)> {
        for (index, &addr) in addrs.iter().enumerate() {
            let started = tried.clock();
            let made = self.attempt(addr, Type::Stream, IoMode::Blocking);
            if let Some(socket) = tried.ended(index, addr, started, made) {
                return Ok((socket.into(), tried.report));
            }
        }
        Err(tried.failure())
    }
}

/// The report of a connect, where one was asked for: boxed, so that a
/// connect without one moves a pointer's worth of it around, not a whole
/// empty report.
pub(crate) type Reported = Option<Box<ConnectReport>>;

/// `report` where `reporting` asked for it.
pub(crate) fn reported(report: ConnectReport, reporting: bool) -> Reported {
    reporting.then(|| Box::new(report))
}

/// The attempts of a connect that tries its addresses one after another,
/// blocking or async: each one's error, and with a report each one in it.
pub(crate) struct OneAtATime<S> {
    /// What the user asked to reach, shown only in a report or an error.
    target: S,
    errors: Vec<crate::Error>,
    /// The report, where one is asked for.
    pub(crate) report: Reported,
}

impl<S: std::fmt::Display> OneAtATime<S> {
    /// Reporting when `began` is given. Nothing is formatted here without a
    /// report: a connect that succeeds and reports nothing shows its target
    /// nowhere, and reads the clock nowhere.
    pub(crate) fn new(target: S, began: Option<Instant>) -> OneAtATime<S> {
        OneAtATime {
            report: began.map(|began| Box::new(ConnectReport::new(target.to_string(), began))),
            target,
            errors: Vec::new(),
        }
    }

    /// The start of an attempt, for the report: `None` without one.
    pub(crate) fn clock(&self) -> Option<Instant> {
        self.report.as_ref().map(|_| Instant::now())
    }

    /// Takes in the end of the attempt `index` at `addr`, begun at
    /// `started` (as [`clock`](Self::clock) gave it): what it made, or
    /// `None` after keeping its error.
    pub(crate) fn ended<T>(
        &mut self,
        index: usize,
        addr: SocketAddr,
        started: Option<Instant>,
        made: Result<T>,
    ) -> Option<T> {
        if let (Some(report), Some(started)) = (&mut self.report, started) {
            report.record(index, addr, started, &made);
        }
        match made {
            Ok(made) => Some(made),
            Err(err) => {
                connector_debug!("{err}");
                self.errors.push(err);
                None
            }
        }
    }

    /// The error of a connect whose every attempt failed: as
    /// [`resolve::failure`] folds it and, with `reporting`, carrying the
    /// report.
    pub(crate) fn failure(self) -> crate::Error {
        let err = resolve::failure(self.target.to_string(), self.errors);
        match self.report {
            Some(report) => report.attach(err, true),
            None => err,
        }
    }
}
