//! What a connect did, for [`ConnectorBuilder::connect_with_report`](crate::ConnectorBuilder::connect_with_report):
//! each lookup per family, the resolution delay, each attempt, the winner
//! and the total, with times since the connect began. The race runner
//! ([`Attempts`](super::attempts::Attempts)) records into it whichever
//! driver waits; this file holds the record and its timeline, no I/O.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::Domain;
use crate::bounded::shown::List;

/// What a connect did and when: each address family's lookup, the
/// resolution delay if it ran, each attempt with its start, end and
/// outcome, the winner and the total time. Returned by
/// [`ConnectorBuilder::connect_with_report`](crate::ConnectorBuilder::connect_with_report)
/// (and `connect_async_with_report`) with the stream, and by
/// [`Error::report`](crate::Error::report) with a failed connect's error.
///
/// Every time is measured from the start of the connect (a monotonic
/// clock). Its [`Display`](fmt::Display) is a timeline, one step a line:
///
/// ```text
/// connect localhost:8080
///       +0.0 ms  lookup IPv6 asked
///       +0.0 ms  lookup IPv4 asked
///       +0.4 ms  IPv4 answered: 127.0.0.1:8080
///       +0.4 ms  resolution delay: waiting up to 50ms for IPv6
///       +0.6 ms  IPv6 answered: [::1]:8080
///       +0.6 ms  attempt 1 to [::1]:8080 started
///     +250.9 ms  attempt 2 to 127.0.0.1:8080 started
///     +251.1 ms  attempt 2 to 127.0.0.1:8080 won
///     +251.1 ms  attempt 1 to [::1]:8080 cancelled
///   connected to 127.0.0.1:8080 in 251.1 ms
/// ```
///
/// # Examples
///
/// ```
/// use sockwright::ConnectorBuilder;
///
/// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let (stream, report) = ConnectorBuilder::new().connect_with_report(server.local_addr()?)?;
/// assert_eq!(report.attempts().len(), 1);
/// assert_eq!(report.winner().map(|a| a.addr()), Some(stream.peer_addr()?));
/// println!("{report}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectReport {
    target: String,
    /// When the connect began; `None` only in [`ConnectReport::empty`].
    began: Option<Instant>,
    lookups: Vec<LookupReport>,
    delay: Option<DelayReport>,
    attempts: Vec<AttemptReport>,
    winner: Option<usize>,
    total: Duration,
}

/// One address family's lookup of a name, in a [`ConnectReport`].
///
/// # Examples
///
/// ```
/// use sockwright::{ConnectorBuilder, StaticResolver};
///
/// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let resolver = StaticResolver::new().insert("api.internal", "127.0.0.1".parse()?);
/// let (_stream, report) = ConnectorBuilder::new()
///     .resolver(resolver)
///     .connect_with_report(("api.internal", server.local_addr()?.port()))?;
/// for lookup in report.lookups() {
///     println!("{}: {:?} {:?}", lookup.family(), lookup.addresses(), lookup.error());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LookupReport {
    family: Domain,
    asked: Duration,
    answered: Option<Duration>,
    addresses: Vec<SocketAddr>,
    error: Option<String>,
}

impl LookupReport {
    /// The family asked for: [`Domain::Ipv6`] (the AAAA question) or
    /// [`Domain::Ipv4`] (A).
    ///
    /// # Examples
    ///
    /// See [`LookupReport`].
    pub fn family(&self) -> Domain {
        self.family
    }

    /// When the question was asked, since the start of the connect.
    ///
    /// # Examples
    ///
    /// See [`LookupReport`].
    pub fn asked(&self) -> Duration {
        self.asked
    }

    /// When the answer came, or `None` if the connect ended first.
    ///
    /// # Examples
    ///
    /// See [`LookupReport`].
    pub fn answered(&self) -> Option<Duration> {
        self.answered
    }

    /// The addresses answered (with the connect's port), kept or not by
    /// the builder's domain; empty when the lookup failed.
    ///
    /// # Examples
    ///
    /// See [`LookupReport`].
    pub fn addresses(&self) -> &[SocketAddr] {
        &self.addresses
    }

    /// Why the lookup failed, as [`Error::Resolve`](crate::Error::Resolve)
    /// shows it; `None` if it answered or is still pending.
    ///
    /// # Examples
    ///
    /// See [`LookupReport`].
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// The resolution delay of a name's race (RFC 8305, section 3): the wait
/// for the preferred family once the other one answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DelayReport {
    began: Duration,
    limit: Duration,
    preferred: Domain,
    /// When it ran out with the preferred family still unanswered.
    expired: Option<Duration>,
}

/// How one attempt of a connect ended, in an [`AttemptReport`].
///
/// # Examples
///
/// ```
/// use sockwright::{AttemptOutcome, ConnectorBuilder};
///
/// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let (_stream, report) = ConnectorBuilder::new().connect_with_report(server.local_addr()?)?;
/// assert_eq!(report.attempts()[0].outcome(), Some(AttemptOutcome::Won));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// Connected first: this is the connection returned.
    Won,
    /// Failed: [`AttemptReport::error`] says why.
    Failed,
    /// Closed while still connecting, because another attempt won.
    Cancelled,
    /// Still connecting when the connect timeout ran out.
    TimedOut,
}

impl fmt::Display for AttemptOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AttemptOutcome::Won => "won",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Cancelled => "cancelled",
            AttemptOutcome::TimedOut => "timed out",
        })
    }
}

/// One attempt of a connect, in a [`ConnectReport`]: its address, when it
/// started and ended, and how.
///
/// # Examples
///
/// ```
/// use sockwright::ConnectorBuilder;
///
/// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let (_stream, report) = ConnectorBuilder::new().connect_with_report(server.local_addr()?)?;
/// let attempt = &report.attempts()[0];
/// assert_eq!(attempt.addr(), server.local_addr()?);
/// assert!(attempt.ended().unwrap() >= attempt.started());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttemptReport {
    /// Its place in the race's order.
    index: usize,
    addr: SocketAddr,
    started: Duration,
    ended: Option<Duration>,
    outcome: Option<AttemptOutcome>,
    error: Option<String>,
}

impl AttemptReport {
    /// The address connected to.
    ///
    /// # Examples
    ///
    /// See [`AttemptReport`].
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// When the attempt started (`socket(2)`), since the start of the
    /// connect.
    ///
    /// # Examples
    ///
    /// See [`AttemptReport`].
    pub fn started(&self) -> Duration {
        self.started
    }

    /// When it ended (connected, failed, cancelled or timed out), since the
    /// start of the connect.
    ///
    /// # Examples
    ///
    /// See [`AttemptReport`].
    pub fn ended(&self) -> Option<Duration> {
        self.ended
    }

    /// How it ended.
    ///
    /// # Examples
    ///
    /// See [`AttemptOutcome`].
    pub fn outcome(&self) -> Option<AttemptOutcome> {
        self.outcome
    }

    /// Why it failed, as its [`Error`](crate::Error) shows it, for a
    /// failed or timed-out attempt.
    ///
    /// # Examples
    ///
    /// See [`AttemptReport`].
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

impl ConnectReport {
    /// An empty report of a connect to `target` that begins at `began`.
    pub(crate) fn new(target: String, began: Instant) -> ConnectReport {
        ConnectReport {
            target,
            began: Some(began),
            ..ConnectReport::empty()
        }
    }

    /// A report of nothing, read from no clock: the report of a connect
    /// that was asked for none.
    pub(crate) fn empty() -> ConnectReport {
        ConnectReport {
            target: String::new(),
            began: None,
            lookups: Vec::new(),
            delay: None,
            attempts: Vec::new(),
            winner: None,
            total: Duration::ZERO,
        }
    }

    fn since(&self, now: Instant) -> Duration {
        self.began
            .map_or(Duration::ZERO, |began| now.saturating_duration_since(began))
    }

    /// `family`'s question was asked at `now`.
    pub(crate) fn asked(&mut self, family: Domain, now: Instant) {
        let asked = self.since(now);
        self.lookups.push(LookupReport {
            family,
            asked,
            answered: None,
            addresses: Vec::new(),
            error: None,
        });
    }

    /// `family`'s answer came at `now`: addresses, or why it failed.
    pub(crate) fn lookup_answered(
        &mut self,
        family: Domain,
        answer: Result<&[SocketAddr], String>,
        now: Instant,
    ) {
        let at = self.since(now);
        let Some(lookup) = self.lookups.iter_mut().find(|l| l.family == family) else {
            return;
        };
        lookup.answered = Some(at);
        match answer {
            Ok(addrs) => lookup.addresses = addrs.to_vec(),
            Err(why) => lookup.error = Some(why),
        }
    }

    /// The resolution delay began at `now`: up to `limit` for `preferred`.
    pub(crate) fn delay_began(&mut self, preferred: Domain, limit: Duration, now: Instant) {
        if self.delay.is_none() {
            self.delay = Some(DelayReport {
                began: self.since(now),
                limit,
                preferred,
                expired: None,
            });
        }
    }

    /// The resolution delay ran out at `now`: the race starts without the
    /// preferred family.
    pub(crate) fn delay_expired(&mut self, now: Instant) {
        let at = self.since(now);
        if let Some(delay) = &mut self.delay {
            delay.expired.get_or_insert(at);
        }
    }

    /// Attempt `index` (its place in the race's order) to `addr` started.
    pub(crate) fn attempt_started(&mut self, index: usize, addr: SocketAddr, now: Instant) {
        let started = self.since(now);
        self.attempts.push(AttemptReport {
            index,
            addr,
            started,
            ended: None,
            outcome: None,
            error: None,
        });
    }

    /// Attempt `index` ended at `now` as `outcome`, with its error's words.
    pub(crate) fn attempt_ended(
        &mut self,
        index: usize,
        outcome: AttemptOutcome,
        error: Option<String>,
        now: Instant,
    ) {
        let at = self.since(now);
        let Some(position) = self.attempts.iter().position(|a| a.index == index) else {
            return;
        };
        let attempt = &mut self.attempts[position];
        if attempt.outcome.is_some() {
            return;
        }
        attempt.ended = Some(at);
        attempt.outcome = Some(outcome);
        attempt.error = error;
        if outcome == AttemptOutcome::Won {
            self.winner = Some(position);
        }
    }

    /// The connect ended at `now`.
    pub(crate) fn finish(&mut self, now: Instant) {
        self.total = self.since(now);
    }

    /// Records one attempt of a connect that tries its addresses one at a
    /// time: number `index` to `addr`, started at `started`, ended now with
    /// `result`.
    pub(crate) fn record<T>(
        &mut self,
        index: usize,
        addr: SocketAddr,
        started: Instant,
        result: &crate::Result<T>,
    ) {
        let now = Instant::now();
        self.attempt_started(index, addr, started);
        let (outcome, error) = match result {
            Ok(_) => (AttemptOutcome::Won, None),
            Err(err) if err.kind() == std::io::ErrorKind::TimedOut => {
                (AttemptOutcome::TimedOut, Some(err.to_string()))
            }
            Err(err) => (AttemptOutcome::Failed, Some(err.to_string())),
        };
        self.attempt_ended(index, outcome, error, now);
        self.finish(now);
    }

    /// `err`, the error of the connect this report is of, carrying it:
    /// an [`Error::AllAttemptsFailed`](crate::Error::AllAttemptsFailed)
    /// takes it as it is; with `single` (`connect_with_report`), the error
    /// of one attempt becomes a list of that one, so that the report
    /// reaches the caller too. An error before any attempt (a lookup, the
    /// configuration) is returned as it is.
    pub(crate) fn attach(self, err: crate::Error, single: bool) -> crate::Error {
        match err {
            crate::Error::AllAttemptsFailed {
                target, attempts, ..
            } => crate::Error::AllAttemptsFailed {
                target,
                attempts,
                report: Some(Box::new(self)),
            },
            one if single
                && !self.attempts.is_empty()
                && !matches!(
                    one,
                    crate::Error::Resolve { .. }
                        | crate::Error::InvalidConfig { .. }
                        | crate::Error::Unsupported { .. }
                ) =>
            {
                crate::Error::AllAttemptsFailed {
                    target: self.target.clone(),
                    attempts: vec![one],
                    report: Some(Box::new(self)),
                }
            }
            one => one,
        }
    }

    /// The target as the connect was given it: `localhost:8080`,
    /// `[::1]:443`.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let addr = server.local_addr()?;
    /// let (_stream, report) = sockwright::ConnectorBuilder::new().connect_with_report(addr)?;
    /// assert_eq!(report.target(), addr.to_string());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Each family's lookup of a name, in the order asked; empty for a
    /// literal address, and for a name that the system resolver looks up
    /// for a connect one address at a time
    /// ([`happy_eyeballs(false)`](crate::ConnectorBuilder::happy_eyeballs)
    /// without a [`resolver`](crate::ConnectorBuilder::resolver) of the
    /// program's own), which std resolves in one call for both families.
    ///
    /// # Examples
    ///
    /// See [`LookupReport`].
    pub fn lookups(&self) -> &[LookupReport] {
        &self.lookups
    }

    /// When the resolution delay began (since the start), if it ran: the
    /// non-preferred family answered first and the connect waited for the
    /// preferred one (RFC 8305, section 3).
    ///
    /// # Examples
    ///
    /// ```
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let (_stream, report) = sockwright::ConnectorBuilder::new()
    ///     .connect_with_report(server.local_addr()?)?;
    /// // A literal address is not looked up.
    /// assert_eq!(report.resolution_delay(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resolution_delay(&self) -> Option<Duration> {
        self.delay.map(|d| d.began)
    }

    /// Each attempt, in the order started.
    ///
    /// # Examples
    ///
    /// See [`AttemptReport`].
    pub fn attempts(&self) -> &[AttemptReport] {
        &self.attempts
    }

    /// The attempt that connected, if one did.
    ///
    /// # Examples
    ///
    /// See [`ConnectReport`].
    pub fn winner(&self) -> Option<&AttemptReport> {
        self.winner.and_then(|w| self.attempts.get(w))
    }

    /// How long the whole connect took.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let (_stream, report) = sockwright::ConnectorBuilder::new()
    ///     .connect_with_report(server.local_addr()?)?;
    /// assert!(report.total() >= report.attempts()[0].started());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn total(&self) -> Duration {
        self.total
    }
}

/// A duration in milliseconds with one decimal: `251.1 ms`.
fn millis(duration: Duration) -> String {
    let tenths = duration.as_micros() / 100;
    format!("{}.{} ms", tenths / 10, tenths % 10)
}

/// A time since the start, right-aligned so that the steps line up.
struct Ms(Duration);

impl fmt::Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>11}", format!("+{}", millis(self.0)))
    }
}

impl fmt::Display for ConnectReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Each step: its time, its rank among steps at the same time (the
        // losers closed after the winner), its words.
        let mut lines: Vec<(Duration, u8, String)> = Vec::new();
        for lookup in &self.lookups {
            lines.push((lookup.asked, 0, format!("lookup {} asked", lookup.family)));
            if let Some(at) = lookup.answered {
                let text = match &lookup.error {
                    Some(why) => format!("{} failed: {why}", lookup.family),
                    None if lookup.addresses.is_empty() => {
                        format!("{} answered: no address", lookup.family)
                    }
                    None => format!(
                        "{} answered: {}",
                        lookup.family,
                        List(&lookup.addresses, ", ")
                    ),
                };
                lines.push((at, 0, text));
            }
        }
        if let Some(delay) = &self.delay {
            lines.push((
                delay.began,
                0,
                format!(
                    "resolution delay: waiting up to {:?} for {}",
                    delay.limit, delay.preferred
                ),
            ));
            if let Some(at) = delay.expired {
                lines.push((
                    at,
                    0,
                    format!("resolution delay over without {}", delay.preferred),
                ));
            }
        }
        for (n, attempt) in self.attempts.iter().enumerate() {
            let name = format!("attempt {} to {}", n + 1, attempt.addr);
            lines.push((attempt.started, 0, format!("{name} started")));
            if let (Some(at), Some(outcome)) = (attempt.ended, attempt.outcome) {
                let text = match &attempt.error {
                    Some(why) => format!("{name} {outcome}: {why}"),
                    None => format!("{name} {outcome}"),
                };
                let rank = u8::from(outcome == AttemptOutcome::Cancelled);
                lines.push((at, rank, text));
            }
        }
        // Stable: steps of one time and rank keep the order they were recorded in.
        lines.sort_by_key(|(at, rank, _)| (*at, *rank));
        writeln!(f, "connect {}", self.target)?;
        for (at, _, text) in &lines {
            writeln!(f, "  {}  {text}", Ms(*at))?;
        }
        match self.winner() {
            Some(winner) => write!(
                f,
                "  connected to {} in {}",
                winner.addr,
                millis(self.total)
            ),
            None => write!(f, "  no connection after {}", millis(self.total)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeline_orders_steps_by_time_and_names_the_winner() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let mut report = ConnectReport::new("localhost:80".into(), start);
        report.asked(Domain::Ipv6, at(0));
        report.asked(Domain::Ipv4, at(0));
        report.lookup_answered(Domain::Ipv4, Ok(&[v4]), at(1));
        report.delay_began(Domain::Ipv6, Duration::from_millis(50), at(1));
        report.lookup_answered(Domain::Ipv6, Ok(&[v6]), at(2));
        report.attempt_started(0, v6, at(2));
        report.attempt_started(1, v4, at(252));
        report.attempt_ended(1, AttemptOutcome::Won, None, at(253));
        report.attempt_ended(0, AttemptOutcome::Cancelled, None, at(253));
        report.finish(at(253));
        let text = report.to_string();
        println!("{text}");
        let expected = [
            "connect localhost:80",
            "      +0.0 ms  lookup IPv6 asked",
            "      +0.0 ms  lookup IPv4 asked",
            "      +1.0 ms  IPv4 answered: 127.0.0.1:80",
            "      +1.0 ms  resolution delay: waiting up to 50ms for IPv6",
            "      +2.0 ms  IPv6 answered: [::1]:80",
            "      +2.0 ms  attempt 1 to [::1]:80 started",
            "    +252.0 ms  attempt 2 to 127.0.0.1:80 started",
            "    +253.0 ms  attempt 2 to 127.0.0.1:80 won",
            "    +253.0 ms  attempt 1 to [::1]:80 cancelled",
            "  connected to 127.0.0.1:80 in 253.0 ms",
        ];
        assert_eq!(text.lines().collect::<Vec<_>>(), expected);
        assert_eq!(report.winner().unwrap().addr(), v4);
        assert_eq!(report.resolution_delay(), Some(Duration::from_millis(1)));
    }

    #[test]
    fn a_recorded_attempt_has_its_outcome_and_error() {
        let start = Instant::now();
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let mut report = ConnectReport::new("x".into(), start);
        let refused: crate::Result<()> = Err(crate::Error::Connect {
            addr: crate::Address::Inet(addr),
            error: std::io::ErrorKind::ConnectionRefused.into(),
        });
        report.record(0, addr, start, &refused);
        report.record(1, addr, start, &Ok(()));
        assert_eq!(report.attempts()[0].outcome(), Some(AttemptOutcome::Failed));
        assert!(report.attempts()[0].error().unwrap().contains("refused"));
        assert_eq!(report.winner().map(|a| a.started()), Some(Duration::ZERO));
        assert!(report.total() >= report.attempts()[1].ended().unwrap());
    }
}
