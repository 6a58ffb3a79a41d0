//! The rules of a Happy Eyeballs connect (RFC 8305, sections 4 and 5),
//! without any socket: the order in which addresses are tried, when the next
//! attempt is due, and when the whole race is over.
//!
//! Each driver (the blocking one in [`blocking`](super::blocking)) runs a
//! [`Race`] through [`Attempts`](super::attempts::Attempts): it reports the events it
//! sees (an attempt started, an attempt failed) with the clock, and does what
//! [`Race::step`] says; this module never touches the network, so its unit
//! tests need none.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::{Domain, Error, Result};

/// The delay the RFC recommends between two attempts when nothing better is known.
pub(crate) const DEFAULT_DELAY: Duration = Duration::from_millis(250);
/// The RFC's floor: the delay MUST NOT be less than 10 ms.
pub(crate) const MIN_DELAY: Duration = Duration::from_millis(10);
/// The RFC's recommended ceiling for the delay.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(2);
/// How many attempts of one race may be in flight at once unless the
/// builder says otherwise. RFC 8305 leaves the number open; why 4 is in
/// [`ConnectorBuilder::max_attempts_in_flight`](crate::ConnectorBuilder::max_attempts_in_flight).
pub(crate) const DEFAULT_IN_FLIGHT: usize = 4;

/// The builder's race settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RaceSettings {
    pub(crate) enabled: bool,
    pub(crate) delay: Duration,
    pub(crate) family: Domain,
    pub(crate) first_count: usize,
    /// The most attempts in flight at once.
    pub(crate) in_flight: usize,
    /// RFC 8305's Resolution Delay (see [`super::resolution`]).
    pub(crate) resolution_delay: Duration,
    /// Whether a setter wrote the delays, the family or the count; the
    /// defaults need no check.
    pub(crate) written: bool,
}

impl Default for RaceSettings {
    fn default() -> RaceSettings {
        RaceSettings {
            enabled: true,
            delay: DEFAULT_DELAY,
            family: Domain::Ipv6,
            first_count: 1,
            in_flight: DEFAULT_IN_FLIGHT,
            resolution_delay: super::resolution::DEFAULT_DELAY,
            written: false,
        }
    }
}

impl RaceSettings {
    /// Checks the settings before any system call.
    ///
    /// Valid settings cost a few comparisons; the errors are built out of line.
    #[inline]
    pub(crate) fn validate(&self) -> Result<()> {
        if !self.written {
            return Ok(());
        }
        let valid = (MIN_DELAY..=MAX_DELAY).contains(&self.delay)
            && matches!(self.family, Domain::Ipv4 | Domain::Ipv6)
            && self.first_count != 0
            && self.in_flight > self.first_count
            && (super::resolution::MIN_DELAY..=super::resolution::MAX_DELAY)
                .contains(&self.resolution_delay);
        if valid {
            return Ok(());
        }
        self.invalid()
    }

    /// The error of settings that [`validate`](Self::validate) rejects.
    fn invalid(&self) -> Result<()> {
        validate(self.delay, self.family, self.first_count)?;
        validate_in_flight(self.in_flight, self.first_count)?;
        super::resolution::validate(self.resolution_delay)
    }
}

/// Checks the race settings before any system call.
#[inline]
pub(crate) fn validate(delay: Duration, family: Domain, first_count: usize) -> Result<()> {
    if delay < MIN_DELAY || delay > MAX_DELAY {
        return Err(Error::invalid(format!(
            "connection attempt delay {delay:?} is outside {MIN_DELAY:?}..={MAX_DELAY:?} (RFC 8305)"
        )));
    }
    if !matches!(family, Domain::Ipv4 | Domain::Ipv6) {
        return Err(Error::invalid(format!(
            "preferred address family must be IPv4 or IPv6, not {family}"
        )));
    }
    if first_count == 0 {
        return Err(Error::invalid(
            "first address family count must be at least 1",
        ));
    }
    Ok(())
}

/// Checks the cap on attempts in flight: above the first address family
/// count, so that the first attempt of the other family never waits for
/// one of the preferred family to fail.
pub(crate) fn validate_in_flight(in_flight: usize, first_count: usize) -> Result<()> {
    if in_flight <= first_count {
        return Err(Error::invalid(format!(
            "max attempts in flight ({in_flight}) must be above the first address family count \
             ({first_count}), or the other family waits for an attempt to fail"
        )));
    }
    Ok(())
}

/// Orders `addrs` for the race (RFC 8305, section 4): `first_count`
/// addresses of the preferred family, then one of the other family and one
/// of the preferred family in turn; when one family runs out, the rest of
/// the other follows. Within a family the resolver's order is kept.
pub(crate) fn interleave(
    addrs: &[SocketAddr],
    preferred: Domain,
    first_count: usize,
) -> Vec<SocketAddr> {
    let (mut first, mut second): (Vec<_>, Vec<_>) = addrs
        .iter()
        .partition(|a| Domain::for_address(a) == preferred);
    first.reverse();
    second.reverse();
    let mut order = Vec::with_capacity(addrs.len());
    for _ in 0..first_count {
        match first.pop() {
            Some(a) => order.push(a),
            None => break,
        }
    }
    loop {
        match (second.pop(), first.pop()) {
            (None, None) => break,
            (a, b) => order.extend(a.into_iter().chain(b)),
        }
    }
    order
}

/// What the caller should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RaceStep {
    /// Start an attempt to this address (the `index`-th in the order).
    Start { index: usize, addr: SocketAddr },
    /// Wait for a pending attempt to finish, at most this long (`None`: no limit).
    Wait(Option<Duration>),
    /// The connect timeout ran out: every pending attempt has timed out.
    TimedOut,
    /// Every address was tried and every attempt failed.
    Exhausted,
}

/// The state of one race: which addresses are left, how many attempts are
/// pending, when the next one is due and when the whole race ends.
///
/// At most `cap` attempts are pending at once. When that many are, the next
/// attempt waits, however long it has been due, until one of them fails;
/// none is abandoned to make room (RFC 8305, section 5: starting a new
/// attempt does not affect the earlier ones), so each attempt keeps its full
/// chance to connect, and an attempt that was due while the race was full
/// starts as soon as one fails.
///
/// The addresses not yet tried are `order[next..]`: addresses learnt while
/// the race runs (RFC 8305, section 3: a second answer arriving late) belong
/// there, merged into the interleaved order, without touching the attempts
/// already started; [`Race::step`] then offers them like any other.
#[derive(Debug)]
pub(crate) struct Race {
    order: Vec<SocketAddr>,
    next: usize,
    pending: usize,
    /// The most attempts pending at once.
    cap: usize,
    delay: Duration,
    next_due: Option<Instant>,
    deadline: Option<Instant>,
    /// Whether more addresses may still come (an answer is awaited).
    expecting: bool,
}

impl Race {
    /// A race over `order` (already interleaved), starting at `now`, with
    /// `delay` between attempts, at most `cap` of them (at least 1) pending
    /// at once and `timeout` bounding the whole race.
    pub(crate) fn new(
        order: Vec<SocketAddr>,
        delay: Duration,
        cap: usize,
        now: Instant,
        timeout: Option<Duration>,
    ) -> Race {
        Race {
            order,
            next: 0,
            pending: 0,
            cap: cap.max(1),
            delay,
            next_due: Some(now),
            deadline: timeout.and_then(|t| crate::bounded::deadline::deadline(now, t)),
            expecting: false,
        }
    }

    /// Says whether more addresses may still come: while they may, a race
    /// with nothing left to try and nothing pending waits instead of ending.
    pub(crate) fn expect(&mut self, more: bool) {
        self.expecting = more;
    }

    /// Adds addresses learnt while the race runs (RFC 8305, section 3) to
    /// the ones not yet tried, in the interleaved order of section 4: the
    /// first one not yet tried is of the family other than the latest one
    /// tried (or, before any attempt, the `preferred` family with its
    /// `first_count`), then the families alternate. The attempts already
    /// started keep their places.
    pub(crate) fn add(&mut self, addrs: &[SocketAddr], preferred: Domain, first_count: usize) {
        let mut untried: Vec<SocketAddr> = self.order.split_off(self.next);
        untried.extend(addrs.iter().filter(|a| !self.order.contains(a)));
        crate::resolve::dedup(&mut untried);
        let merged = match self.order.last() {
            None => interleave(&untried, preferred, first_count),
            Some(last) => {
                let other = match Domain::for_address(last) {
                    Domain::Ipv4 => Domain::Ipv6,
                    _ => Domain::Ipv4,
                };
                interleave(&untried, other, 1)
            }
        };
        self.order.extend(merged);
    }

    /// How many addresses the race knows, tried or not.
    pub(crate) fn known(&self) -> usize {
        self.order.len()
    }

    /// What to do at `now`.
    pub(crate) fn step(&self, now: Instant) -> RaceStep {
        if self.deadline.is_some_and(|d| now >= d) {
            return RaceStep::TimedOut;
        }
        // Addresses left, and room for one more attempt.
        let left = self.next < self.order.len() && self.pending < self.cap;
        if left && (self.pending == 0 || self.next_due.is_some_and(|due| now >= due)) {
            return RaceStep::Start {
                index: self.next,
                addr: self.order[self.next],
            };
        }
        if self.pending == 0 && !self.expecting {
            return RaceStep::Exhausted;
        }
        let due = if left { self.next_due } else { None };
        let until = [due, self.deadline].into_iter().flatten().min();
        RaceStep::Wait(until.map(|t| t.saturating_duration_since(now)))
    }

    /// Records that the attempt [`RaceStep::Start`] asked for began at `now`:
    /// the next one is due a delay later.
    pub(crate) fn started(&mut self, now: Instant) {
        self.next += 1;
        self.pending += 1;
        self.next_due = crate::bounded::deadline::deadline(now, self.delay);
    }

    /// Records that attempt `index` failed at `now`. If it was the latest
    /// one started, the next attempt is due at once rather than after the
    /// rest of the delay; if the race was full, the next attempt, if it is
    /// due, starts now that there is room.
    pub(crate) fn failed(&mut self, index: usize, now: Instant) {
        self.pending = self.pending.saturating_sub(1);
        if index + 1 == self.next {
            self.next_due = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    /// A race of `list` with the default delay and attempts in flight,
    /// started at `t0`, with a deadline `timeout` after it.
    fn race_with_timeout(list: &[&str], t0: Instant, timeout: Duration) -> Race {
        Race::new(
            addrs(list),
            DEFAULT_DELAY,
            DEFAULT_IN_FLIGHT,
            t0,
            Some(timeout),
        )
    }

    const V6A: &str = "[2001:db8::a]:443";
    const V6B: &str = "[2001:db8::b]:443";
    const V6C: &str = "[2001:db8::c]:443";
    const V4A: &str = "192.0.2.1:443";
    const V4B: &str = "192.0.2.2:443";
    const V4C: &str = "192.0.2.3:443";

    #[test]
    fn interleave_alternates_families_by_the_first_family_count_keeping_resolver_order() {
        use Domain::{Ipv4, Ipv6};
        let mixed: &[&str] = &[V4A, V4B, V6A, V6B, V4C];
        let v6_first: &[&str] = &[V6A, V6B, V6C, V4A, V4B];
        let v4_only: &[&str] = &[V4C, V4A, V4B];
        // (resolved, preferred family, first family count, expected order)
        let cases: &[(&[&str], Domain, usize, &[&str])] = &[
            // Alternates, starting with the preferred family.
            (mixed, Ipv6, 1, &[V6A, V4A, V6B, V4B, V4C]),
            (mixed, Ipv4, 1, &[V4A, V6A, V4B, V6B, V4C]),
            // The first family count is honoured.
            (v6_first, Ipv6, 2, &[V6A, V6B, V4A, V6C, V4B]),
            (v6_first, Ipv4, 2, &[V4A, V4B, V6A, V6B, V6C]),
            // A count larger than the family: all of it, then the other family.
            (v6_first, Ipv6, 10, v6_first),
            // A single family stays in resolver order.
            (v4_only, Ipv6, 1, v4_only),
            (v4_only, Ipv4, 2, v4_only),
            (&[], Ipv6, 1, &[]),
        ];
        for &(resolved, preferred, count, expected) in cases {
            assert_eq!(
                interleave(&addrs(resolved), preferred, count),
                addrs(expected),
                "{resolved:?} preferring {preferred} with count {count}"
            );
        }
    }

    #[test]
    fn default_settings_are_valid_and_written_ones_are_checked() {
        let mut settings = RaceSettings::default();
        assert!(
            settings.invalid().is_ok(),
            "the defaults pass the full check"
        );
        assert!(settings.validate().is_ok());
        settings.first_count = 0;
        settings.written = true;
        let err = settings.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            RaceSettings {
                first_count: 0,
                ..RaceSettings::default()
            }
            .invalid()
            .unwrap_err()
            .to_string()
        );
    }

    #[test]
    fn validate_takes_the_rfc_range_and_rejects_the_rest() {
        let ms = Duration::from_millis;
        for ok in [ms(10), ms(100), DEFAULT_DELAY, ms(2000)] {
            validate(ok, Domain::Ipv6, 1).unwrap();
        }
        for bad in [
            Duration::ZERO,
            ms(9),
            Duration::from_micros(9_999),
            ms(2001),
        ] {
            let err = validate(bad, Domain::Ipv6, 1).unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
            assert!(
                err.to_string().contains("connection attempt delay"),
                "{err}"
            );
        }
        let err = validate(DEFAULT_DELAY, Domain::Ipv4, 0).unwrap_err();
        assert!(err.to_string().contains("at least 1"), "{err}");
        #[cfg(unix)]
        {
            let err = validate(DEFAULT_DELAY, Domain::Unix, 1).unwrap_err();
            assert!(err.to_string().contains("IPv4 or IPv6, not Unix"), "{err}");
        }
    }

    fn started(race: &mut Race, now: Instant) -> SocketAddr {
        match race.step(now) {
            RaceStep::Start { addr, .. } => {
                race.started(now);
                addr
            }
            other => panic!("expected a start, got {other:?}"),
        }
    }

    /// A race of three addresses with `delay` between attempts and no
    /// deadline, its first `starts` attempts begun one delay apart from `t0`.
    fn three_started(t0: Instant, delay: Duration, starts: u32) -> Race {
        let mut race = Race::new(addrs(&[V6A, V4A, V6B]), delay, DEFAULT_IN_FLIGHT, t0, None);
        for n in 0..starts {
            started(&mut race, t0 + delay * n);
        }
        race
    }

    #[test]
    fn next_attempt_is_due_one_delay_after_the_last_start() {
        let t0 = Instant::now();
        let delay = Duration::from_millis(250);
        let mut race = Race::new(addrs(&[V6A, V4A, V6B]), delay, DEFAULT_IN_FLIGHT, t0, None);
        assert_eq!(started(&mut race, t0), V6A.parse().unwrap());
        assert_eq!(race.step(t0), RaceStep::Wait(Some(delay)));
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!(
            race.step(t1),
            RaceStep::Wait(Some(Duration::from_millis(150)))
        );
        let t2 = t0 + delay;
        assert_eq!(started(&mut race, t2), V4A.parse().unwrap());
        assert_eq!(race.step(t2), RaceStep::Wait(Some(delay)));
        let t3 = t2 + delay;
        assert_eq!(started(&mut race, t3), V6B.parse().unwrap());
        // Nothing left to start and no timeout: wait for the pending ones without a limit.
        assert_eq!(race.step(t3), RaceStep::Wait(None));
    }

    #[test]
    fn failure_of_the_latest_attempt_starts_the_next_at_once() {
        let (t0, delay) = (Instant::now(), Duration::from_millis(250));
        let mut race = three_started(t0, delay, 1);
        let t1 = t0 + Duration::from_millis(5);
        race.failed(0, t1);
        assert_eq!(started(&mut race, t1), V4A.parse().unwrap());
    }

    #[test]
    fn failure_of_an_older_attempt_keeps_the_schedule() {
        let (t0, delay) = (Instant::now(), Duration::from_millis(250));
        let mut race = three_started(t0, delay, 2);
        // The first attempt fails while the second is still pending: the
        // third stays due one delay after the second began.
        let t1 = t0 + delay + Duration::from_millis(50);
        race.failed(0, t1);
        assert_eq!(
            race.step(t1),
            RaceStep::Wait(Some(Duration::from_millis(200)))
        );
    }

    #[test]
    fn everything_failed_is_exhausted() {
        let t0 = Instant::now();
        let mut race = Race::new(
            addrs(&[V6A, V4A]),
            DEFAULT_DELAY,
            DEFAULT_IN_FLIGHT,
            t0,
            None,
        );
        started(&mut race, t0);
        race.failed(0, t0);
        started(&mut race, t0);
        race.failed(1, t0);
        assert_eq!(race.step(t0), RaceStep::Exhausted);
    }

    #[test]
    fn the_timeout_bounds_the_whole_race() {
        let t0 = Instant::now();
        let delay = Duration::from_millis(250);
        let timeout = Duration::from_millis(400);
        let mut race = Race::new(
            addrs(&[V6A, V4A, V6B]),
            delay,
            DEFAULT_IN_FLIGHT,
            t0,
            Some(timeout),
        );
        started(&mut race, t0);
        started(&mut race, t0 + delay);
        // The next attempt would be due at 500 ms, after the deadline: wait
        // only until the deadline.
        let t1 = t0 + Duration::from_millis(300);
        assert_eq!(
            race.step(t1),
            RaceStep::Wait(Some(Duration::from_millis(100)))
        );
        assert_eq!(race.step(t0 + timeout), RaceStep::TimedOut);
        assert_eq!(race.step(t0 + Duration::from_secs(9)), RaceStep::TimedOut);
    }

    #[test]
    fn a_timeout_shorter_than_the_delay_caps_the_first_wait() {
        let t0 = Instant::now();
        let timeout = Duration::from_millis(100);
        let mut race = race_with_timeout(&[V6A, V4A], t0, timeout);
        started(&mut race, t0);
        assert_eq!(race.step(t0), RaceStep::Wait(Some(timeout)));
    }

    #[test]
    fn a_huge_timeout_means_no_deadline() {
        let t0 = Instant::now();
        let mut race = race_with_timeout(&[V6A], t0, Duration::MAX);
        started(&mut race, t0);
        assert_eq!(race.step(t0), RaceStep::Wait(None));
    }

    #[test]
    fn a_race_expecting_answers_waits_instead_of_ending() {
        let t0 = Instant::now();
        let timeout = Duration::from_secs(1);
        let mut race = race_with_timeout(&[], t0, timeout);
        race.expect(true);
        assert_eq!(race.step(t0), RaceStep::Wait(Some(timeout)));
        race.add(&addrs(&[V4A]), Domain::Ipv6, 1);
        assert_eq!(started(&mut race, t0), V4A.parse().unwrap());
        race.failed(0, t0);
        // Everything tried failed, but an answer may still come.
        assert_eq!(race.step(t0), RaceStep::Wait(Some(timeout)));
        race.expect(false);
        assert_eq!(race.step(t0), RaceStep::Exhausted);
        let mut race = race_with_timeout(&[], t0, timeout);
        race.expect(true);
        assert_eq!(race.step(t0 + timeout), RaceStep::TimedOut);
    }

    #[test]
    fn late_answers_join_in_the_interleaved_order() {
        let t0 = Instant::now();
        let delay = Duration::from_millis(250);
        // A first: IPv4 tried alone after the resolution delay.
        let mut race = Race::new(Vec::new(), delay, DEFAULT_IN_FLIGHT, t0, None);
        race.add(&addrs(&[V4A, V4B]), Domain::Ipv6, 1);
        assert_eq!(started(&mut race, t0), V4A.parse().unwrap());
        // AAAA arrives: IPv6 next, then the families alternate.
        race.add(&addrs(&[V6A, V6B]), Domain::Ipv6, 1);
        assert_eq!(race.known(), 4);
        // The next attempt is still due one delay after the last start.
        assert_eq!(race.step(t0), RaceStep::Wait(Some(delay)));
        let t1 = t0 + delay;
        assert_eq!(started(&mut race, t1), V6A.parse().unwrap());
        assert_eq!(started(&mut race, t1 + delay), V4B.parse().unwrap());
        assert_eq!(started(&mut race, t1 + delay * 2), V6B.parse().unwrap());

        // AAAA first, A late: after an IPv6 attempt, IPv4 comes next.
        let mut race = Race::new(Vec::new(), delay, DEFAULT_IN_FLIGHT, t0, None);
        race.add(&addrs(&[V6A, V6B]), Domain::Ipv6, 1);
        assert_eq!(started(&mut race, t0), V6A.parse().unwrap());
        race.add(&addrs(&[V4A, V4B, V6A]), Domain::Ipv6, 1);
        assert_eq!(
            race.known(),
            4,
            "an address already known is not added twice"
        );
        assert_eq!(started(&mut race, t1), V4A.parse().unwrap());
        assert_eq!(started(&mut race, t1 + delay), V6B.parse().unwrap());
        assert_eq!(started(&mut race, t1 + delay * 2), V4B.parse().unwrap());
    }

    #[test]
    fn an_answer_after_every_attempt_failed_starts_at_once() {
        let t0 = Instant::now();
        let mut race = Race::new(Vec::new(), DEFAULT_DELAY, DEFAULT_IN_FLIGHT, t0, None);
        race.expect(true);
        race.add(&addrs(&[V6A]), Domain::Ipv6, 1);
        started(&mut race, t0);
        let t1 = t0 + Duration::from_millis(5);
        race.failed(0, t1);
        assert_eq!(race.step(t1), RaceStep::Wait(None));
        race.add(&addrs(&[V4A]), Domain::Ipv6, 1);
        assert_eq!(started(&mut race, t1), V4A.parse().unwrap());
    }

    #[test]
    fn a_full_race_waits_for_a_failure_before_the_next_attempt() {
        let t0 = Instant::now();
        let delay = Duration::from_millis(10);
        let timeout = Duration::from_secs(2);
        let mut race = Race::new(addrs(&[V6A, V4A, V6B, V4B]), delay, 2, t0, Some(timeout));
        started(&mut race, t0);
        let t1 = t0 + delay;
        started(&mut race, t1);
        // Two pending, the cap: the third is due at 20 ms but waits for a
        // failure, so the wait runs to the deadline only.
        let t2 = t0 + Duration::from_millis(500);
        assert_eq!(
            race.step(t2),
            RaceStep::Wait(Some(timeout - Duration::from_millis(500)))
        );
        // The older attempt fails: the overdue third starts at once.
        race.failed(0, t2);
        assert_eq!(started(&mut race, t2), V6B.parse().unwrap());
        assert_eq!(
            race.step(t2),
            RaceStep::Wait(Some(timeout - Duration::from_millis(500)))
        );
        // The latest fails: the fourth starts at once, again two pending.
        race.failed(2, t2);
        assert_eq!(started(&mut race, t2), V4B.parse().unwrap());
        assert_eq!(
            race.step(t2),
            RaceStep::Wait(Some(timeout - Duration::from_millis(500)))
        );
        assert_eq!(race.step(t0 + timeout), RaceStep::TimedOut);
    }

    #[test]
    fn room_in_a_full_race_keeps_the_delay_since_the_last_start() {
        let t0 = Instant::now();
        let delay = Duration::from_millis(250);
        let mut race = Race::new(addrs(&[V6A, V4A, V6B]), delay, 2, t0, None);
        started(&mut race, t0);
        started(&mut race, t0 + delay);
        let full = t0 + Duration::from_millis(300);
        assert_eq!(
            race.step(full),
            RaceStep::Wait(None),
            "no room: no due time to wait for"
        );
        // The older one fails before the delay since the last start is over:
        // the third still waits for its turn, due at 500 ms.
        let t1 = t0 + Duration::from_millis(400);
        race.failed(0, t1);
        assert_eq!(
            race.step(t1),
            RaceStep::Wait(Some(Duration::from_millis(100)))
        );
        assert_eq!(started(&mut race, t0 + delay * 2), V6B.parse().unwrap());
    }

    #[test]
    fn a_thousand_black_holes_never_hold_more_than_the_cap() {
        let t0 = Instant::now();
        let delay = Duration::from_millis(10);
        let order: Vec<SocketAddr> = (0..1000u32)
            .map(|i| SocketAddr::from((std::net::Ipv4Addr::from(0xc000_0200 + i), 443)))
            .collect();
        let mut race = Race::new(
            order,
            delay,
            DEFAULT_IN_FLIGHT,
            t0,
            Some(Duration::from_secs(20)),
        );
        let mut most = 0;
        let mut started_count = 0;
        let mut now = t0;
        // No attempt ever answers: step through the clock as a driver would.
        for _ in 0..10_000 {
            match race.step(now) {
                RaceStep::Start { .. } => {
                    race.started(now);
                    started_count += 1;
                }
                RaceStep::Wait(Some(wait)) => now += wait,
                RaceStep::Wait(None) => panic!("a race with a deadline always has one"),
                RaceStep::TimedOut => break,
                RaceStep::Exhausted => panic!("nothing failed"),
            }
            most = most.max(race.pending);
        }
        assert_eq!(race.step(now), RaceStep::TimedOut);
        assert_eq!(most, DEFAULT_IN_FLIGHT);
        assert_eq!(started_count, DEFAULT_IN_FLIGHT);
    }

    #[test]
    fn the_cap_must_leave_room_for_the_other_family() {
        validate_in_flight(2, 1).unwrap();
        validate_in_flight(DEFAULT_IN_FLIGHT, 1).unwrap();
        for (cap, count) in [(1, 1), (2, 2), (0, 1), (4, 9)] {
            let err = validate_in_flight(cap, count).unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
            assert!(err.to_string().contains("max attempts in flight"), "{err}");
        }
        let settings = RaceSettings {
            in_flight: 1,
            written: true,
            ..RaceSettings::default()
        };
        assert!(settings.validate().is_err());
    }
}
