//! When the answers of a per-family resolution may enter the race (RFC 8305,
//! section 3), without any thread or socket: the caller reports each answer
//! and the clock, and is told which addresses to add to the race and when
//! to look again. Its unit tests need no network and no real waiting.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::{Domain, Error, Result};

/// The wait for the preferred family's answer once the other family has
/// answered: RFC 8305 recommends 50 ms.
pub(crate) const DEFAULT_DELAY: Duration = Duration::from_millis(50);
/// The shortest resolution delay accepted: 1 ms (0 would not wait at all,
/// which `happy_eyeballs(false)`-style ordering does not need a setting for).
pub(crate) const MIN_DELAY: Duration = Duration::from_millis(1);
/// The longest resolution delay accepted: 2 s, the ceiling RFC 8305 gives
/// the connection attempt delay; longer waits defeat the point.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(2);

/// Checks the resolution delay before any system call.
#[inline]
pub(crate) fn validate(delay: Duration) -> Result<()> {
    if delay < MIN_DELAY || delay > MAX_DELAY {
        return Err(Error::invalid(format!(
            "resolution delay {delay:?} is outside {MIN_DELAY:?}..={MAX_DELAY:?} (RFC 8305)"
        )));
    }
    Ok(())
}

/// One family's question.
#[derive(Debug)]
enum Question {
    /// Not asked (the configured domain rules the family out).
    NotAsked,
    /// Asked, no answer yet.
    Pending,
    /// Answered (addresses or an error).
    Answered,
}

/// The state of one resolution: which answers are in, which addresses are
/// held back, and whether the race has started.
#[derive(Debug)]
pub(crate) struct Resolution {
    preferred: Domain,
    delay: Duration,
    v6: Question,
    v4: Question,
    /// Addresses answered but not yet given to the race.
    held: Vec<SocketAddr>,
    /// When the held addresses are released even without the preferred answer.
    hold_until: Option<Instant>,
    /// Whether the race has started (later answers join it at once).
    started: bool,
    /// Each failed family's error, in the order they came.
    errors: Vec<Error>,
}

impl Resolution {
    /// A resolution that asks for `families` (IPv6, IPv4 or both) and
    /// prefers `preferred` (RFC 8305: IPv6), waiting at most `delay` for the
    /// preferred answer once the other is in.
    pub(crate) fn new(families: &[Domain], preferred: Domain, delay: Duration) -> Resolution {
        let question = |family| {
            if families.contains(&family) {
                Question::Pending
            } else {
                Question::NotAsked
            }
        };
        Resolution {
            preferred,
            delay,
            v6: question(Domain::Ipv6),
            v4: question(Domain::Ipv4),
            held: Vec::new(),
            hold_until: None,
            started: false,
            errors: Vec::new(),
        }
    }

    fn question(&mut self, family: Domain) -> &mut Question {
        if family == Domain::Ipv6 {
            &mut self.v6
        } else {
            &mut self.v4
        }
    }

    /// Records the answer for `family` at `now`: its addresses, or the error
    /// (already naming the name and the family). A failed family counts as
    /// an empty answer: the other family goes on.
    pub(crate) fn answered(
        &mut self,
        family: Domain,
        answer: std::result::Result<Vec<SocketAddr>, Error>,
        now: Instant,
    ) {
        let question = self.question(family);
        if !matches!(question, Question::Pending) {
            return;
        }
        *question = Question::Answered;
        let addrs = match answer {
            Ok(addrs) => addrs,
            Err(err) => {
                self.errors.push(err);
                Vec::new()
            }
        };
        let had_any = !self.held.is_empty();
        self.held.extend(addrs);
        if !self.started && family != self.preferred && !had_any && !self.held.is_empty() {
            self.hold_until = crate::bounded::deadline::deadline(now, self.delay);
        }
    }

    /// Whether an answer may still come.
    pub(crate) fn pending(&self) -> bool {
        matches!(self.v6, Question::Pending) || matches!(self.v4, Question::Pending)
    }

    /// The addresses to add to the race at `now`, if any: before the race,
    /// all that are in once the preferred family answered (or failed, or was
    /// not asked) or the resolution delay since the other family's answer
    /// ran out; after it started, every new answer at once. The order
    /// within the batch is the resolver's; the race interleaves it.
    pub(crate) fn release(&mut self, now: Instant) -> Vec<SocketAddr> {
        if self.held.is_empty() {
            return Vec::new();
        }
        let preferred_in = !matches!(self.question(self.preferred), Question::Pending);
        let delay_over = self.hold_until.is_some_and(|t| now >= t);
        if self.started || preferred_in || delay_over {
            self.started = true;
            self.hold_until = None;
            return std::mem::take(&mut self.held);
        }
        Vec::new()
    }

    /// When [`release`](Self::release) may have something new without a new
    /// answer: the end of the resolution delay, if it is running.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.hold_until
    }

    /// Whether the resolution delay is running: addresses are held while
    /// the preferred family's answer is awaited.
    pub(crate) fn holding(&self) -> bool {
        self.hold_until.is_some()
            && !self.started
            && matches!(
                if self.preferred == Domain::Ipv6 {
                    &self.v6
                } else {
                    &self.v4
                },
                Question::Pending
            )
    }

    /// The errors of the families that failed, taken out.
    /// The preferred family's first, whatever order they came in.
    pub(crate) fn take_errors(&mut self) -> Vec<Error> {
        let preferred = self.preferred;
        let mut errors = std::mem::take(&mut self.errors);
        errors.sort_by_key(
            |e| !matches!(e, Error::Resolve { family: Some(f), .. } if *f == preferred),
        );
        errors
    }

    /// The error for a resolution that gave no address at all (see
    /// [`no_address`]).
    pub(crate) fn no_address(&mut self, target: &str) -> Error {
        no_address(target, self.take_errors())
    }
}

/// The error for a name that gave no address at all, from each family's
/// error (preferred family first): the one family's error, both families'
/// causes (`resolve NAME:PORT: IPv6: cause; IPv4: cause`), or "no addresses
/// found".
pub(crate) fn no_address(target: &str, mut errors: Vec<Error>) -> Error {
    match errors.len() {
        0 => Error::no_addresses(target.to_owned()),
        1 => errors.remove(0),
        _ => {
            let kind = errors.last().map_or(io::ErrorKind::Other, Error::kind);
            let causes: Vec<String> = errors.iter().map(family_cause).collect();
            Error::resolve(target.to_owned(), io::Error::new(kind, causes.join("; ")))
        }
    }
}

/// `IPv6: cause` from a per-family resolve error.
fn family_cause(err: &Error) -> String {
    match err {
        Error::Resolve {
            family: Some(family),
            error: source,
            ..
        } => format!("{family}: {}", crate::error::Cause(source)),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Domain::{Ipv4, Ipv6};

    const BOTH: &[Domain] = &[Ipv6, Ipv4];
    const V6: &str = "[2001:db8::1]:0";
    const V4: &str = "192.0.2.1:0";

    fn a(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    /// A resolution of both families preferring `preferred`, begun now.
    fn both(preferred: Domain) -> (Instant, Resolution) {
        (
            Instant::now(),
            Resolution::new(BOTH, preferred, DEFAULT_DELAY),
        )
    }

    /// The answer of `family`: its one address.
    fn answer(family: Domain) -> std::result::Result<Vec<SocketAddr>, Error> {
        Ok(a(&[if family == Ipv6 { V6 } else { V4 }]))
    }

    /// What `r` releases at `at` once `family` answered its address then.
    fn answered_at(r: &mut Resolution, family: Domain, at: Instant) -> Vec<SocketAddr> {
        r.answered(family, answer(family), at);
        r.release(at)
    }

    fn failed(family: Domain) -> std::result::Result<Vec<SocketAddr>, Error> {
        failed_with(family, "no such name")
    }

    /// `family`'s lookup failed with `NotFound` and the resolver's `text`.
    fn failed_with(family: Domain, text: &str) -> std::result::Result<Vec<SocketAddr>, Error> {
        Err(Error::Resolve {
            target: "x.test".into(),
            family: Some(family),
            error: io::Error::new(io::ErrorKind::NotFound, text),
        })
    }

    #[test]
    fn the_preferred_answer_first_starts_at_once() {
        let (t0, mut r) = both(Ipv6);
        assert_eq!(answered_at(&mut r, Ipv6, t0), a(&[V6]));
        assert!(r.pending());
        // The late A answer joins at once.
        let t1 = t0 + Duration::from_secs(3);
        assert_eq!(answered_at(&mut r, Ipv4, t1), a(&[V4]));
        assert!(!r.pending());
    }

    #[test]
    fn the_other_answer_first_waits_the_resolution_delay() {
        let (t0, mut r) = both(Ipv6);
        assert!(answered_at(&mut r, Ipv4, t0).is_empty());
        assert!(r.holding());
        assert_eq!(r.next_due(), Some(t0 + DEFAULT_DELAY));
        let almost = t0 + DEFAULT_DELAY - Duration::from_millis(1);
        assert!(r.release(almost).is_empty());
        assert_eq!(r.release(t0 + DEFAULT_DELAY), a(&[V4]));
        assert_eq!(r.next_due(), None);
        // AAAA after the race started joins it.
        let t1 = t0 + Duration::from_secs(3);
        assert_eq!(answered_at(&mut r, Ipv6, t1), a(&[V6]));
    }

    #[test]
    fn the_preferred_answer_within_the_delay_starts_both_together() {
        let (t0, mut r) = both(Ipv6);
        r.answered(Ipv4, answer(Ipv4), t0);
        let t1 = t0 + Duration::from_millis(20);
        assert!(r.release(t1).is_empty());
        r.answered(Ipv6, answer(Ipv6), t1);
        assert!(!r.holding());
        assert_eq!(r.release(t1), a(&[V4, V6]));
    }

    #[test]
    fn a_first_answer_holds_back_until_the_other_family_answers_at_once() {
        // (preferred family, family answering first, its answer, the other
        // family's answer, released once both answered)
        let cases = [
            // A failed or empty preferred answer does not hold the other.
            (Ipv6, Ipv6, Ok(Vec::new()), answer(Ipv4), a(&[V4])),
            (Ipv6, Ipv6, failed(Ipv6), answer(Ipv4), a(&[V4])),
            // A preferred IPv4 swaps the roles.
            (Ipv4, Ipv6, answer(Ipv6), answer(Ipv4), a(&[V6, V4])),
        ];
        for (preferred, first, first_answer, other_answer, released) in cases {
            let other = if first == Ipv6 { Ipv4 } else { Ipv6 };
            let (t0, mut r) = both(preferred);
            r.answered(first, first_answer, t0);
            assert!(
                r.release(t0).is_empty(),
                "{first} first, {preferred} preferred"
            );
            r.answered(other, other_answer, t0);
            assert_eq!(
                r.release(t0),
                released,
                "{first} first, {preferred} preferred"
            );
        }
    }

    #[test]
    fn one_family_asked_needs_no_delay() {
        let t0 = Instant::now();
        let mut r = Resolution::new(&[Ipv4], Ipv6, DEFAULT_DELAY);
        assert_eq!(answered_at(&mut r, Ipv4, t0), a(&[V4]));
        assert!(!r.pending());
    }

    #[test]
    fn errors_name_each_family_and_both_failing_is_one_resolve_error() {
        let (t0, mut r) = both(Ipv6);
        r.answered(Ipv4, failed(Ipv4), t0);
        r.answered(Ipv6, failed(Ipv6), t0);
        assert!(!r.pending());
        assert!(r.release(t0).is_empty());
        let err = r.no_address("x.test:80");
        assert!(matches!(err, Error::Resolve { family: None, .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "resolve x.test:80: IPv6: no such name; IPv4: no such name"
        );
        assert_eq!(err.kind(), io::ErrorKind::NotFound);

        // The resolver's own capital is lowered in each family's cause, not
        // only at the start of the joined message.
        let capital = |family| failed_with(family, "Name or service not known");
        let (_, mut r) = both(Ipv6);
        r.answered(Ipv6, capital(Ipv6), t0);
        r.answered(Ipv4, capital(Ipv4), t0);
        assert_eq!(
            r.no_address("x.test:80").to_string(),
            "resolve x.test:80: IPv6: name or service not known; IPv4: name or service not known"
        );

        let mut r = Resolution::new(BOTH, Ipv6, DEFAULT_DELAY);
        r.answered(Ipv6, failed(Ipv6), t0);
        r.answered(Ipv4, Ok(Vec::new()), t0);
        let err = r.no_address("x.test:80");
        assert_eq!(err.to_string(), "resolve x.test (IPv6): no such name");
    }

    #[test]
    fn a_second_answer_for_a_family_is_ignored() {
        let (t0, mut r) = both(Ipv6);
        r.answered(Ipv6, answer(Ipv6), t0);
        r.answered(Ipv6, Ok(a(&[V6, V6])), t0);
        assert_eq!(r.release(t0), a(&[V6]));
    }

    #[test]
    fn validate_takes_1ms_to_2s() {
        for ok in [MIN_DELAY, DEFAULT_DELAY, MAX_DELAY] {
            validate(ok).unwrap();
        }
        for bad in [Duration::ZERO, Duration::from_micros(999), MAX_DELAY * 2] {
            let err = validate(bad).unwrap_err();
            assert!(err.to_string().contains("resolution delay"), "{err}");
        }
    }
}
