//! The framing of a stream receive, with no I/O: bytes and the clock in,
//! a verdict out.
//!
//! Every rule of the `hello` module documentation's "Framing" section lives
//! here once: the expected message, a proper beginning of it, the quiet
//! gap, end of file, too long ([`Exchange::max_message`], or a caller's
//! buffer), and the overall deadline ([`Exchange::timeout`]), with their
//! error messages. Two drivers feed it, each with its own way of waiting:
//!
//! - [`Exchange`]'s blocking receive (`mod.rs`), which waits in `read` with
//!   the socket's read timeout set to what the framer asks for;
//! - [`Server`](super::Server)'s connections (`server/conn.rs`), which wait
//!   in the worker's readiness wait with a timer at [`Framer::until`].
//!
//! The framer never reads the clock: every call that depends on time takes
//! the instant as an argument, so its tests (and the `hello_receive` fuzz
//! target, which sees it under `cfg(fuzzing)`) run with made-up instants.
//!
//! Its items are `pub` in this private module only so that the fuzz target
//! can reach them; they are not part of the crate's API.

use std::io;
use std::time::{Duration, Instant};

use super::Exchange;
use crate::bounded::deadline::deadline;

/// What a receive does next, after the framer has seen what came in.
#[derive(Debug)]
pub enum Verdict {
    /// The message is complete: all the bytes received so far.
    Complete,
    /// More bytes are needed: wait for them until this instant (the quiet
    /// gap's end or the deadline, whichever is first), then ask again with
    /// [`Framer::waited`]; `None`: no limit.
    More(Option<Instant>),
    /// The receive failed, for the reason the error gives.
    Failed(io::Error),
}

/// One receive's framing state: when it runs out of time and whether (and
/// until when) a quiet gap may complete its message.
///
/// The bytes stay with the driver; each call is given all of them so far.
#[derive(Debug, Clone)]
pub struct Framer {
    /// The most bytes a message may have.
    limit: usize,
    /// When the receive runs out of time; `None` for a timeout too long
    /// for the clock (no limit).
    deadline: Option<Instant>,
    /// Whether the bytes so far are a message other than the expected one,
    /// which only end of file or a quiet gap completes.
    quiet: bool,
    /// When that gap ends, counted from the last byte; `None` for a gap too
    /// long for the clock (it never completes the message).
    quiet_until: Option<Instant>,
}

impl Framer {
    /// A receive starting at `now`, of a message of at most `limit` bytes,
    /// within `rules`' timeout.
    pub fn new(rules: &Exchange, limit: usize, now: Instant) -> Framer {
        Framer {
            limit,
            deadline: deadline(now, rules.timeout),
            quiet: false,
            quiet_until: None,
        }
    }

    /// The most bytes a message may have.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// When the driver must call [`waited`](Self::waited) at the latest if
    /// nothing arrives: the end of the quiet gap or the deadline, whichever
    /// is first; `None`: never.
    pub fn until(&self) -> Option<Instant> {
        match (self.quiet_until.filter(|_| self.quiet), self.deadline) {
            (Some(quiet), Some(deadline)) => Some(quiet.min(deadline)),
            (quiet, deadline) => quiet.or(deadline),
        }
    }

    /// New bytes came in at `now`: `len` bytes so far, of which `got` holds
    /// all (or, past the [`limit`](Self::limit), the first `limit`: a
    /// message too long is not looked at).
    pub fn received(&mut self, rules: &Exchange, len: usize, got: &[u8], now: Instant) -> Verdict {
        if len > self.limit {
            return Verdict::Failed(too_long(self.limit));
        }
        if is_expected(rules, got) {
            return Verdict::Complete;
        }
        if self.past_deadline(now) {
            return Verdict::Failed(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("message incomplete after {:?}", rules.timeout),
            ));
        }
        // A proper beginning of the expected message is that message still
        // arriving: no quiet gap ends it.
        self.quiet = expected_prefix(rules, got).is_none();
        self.quiet_until = if self.quiet {
            deadline(now, rules.quiet)
        } else {
            None
        };
        Verdict::More(self.until())
    }

    /// The peer closed its side after the bytes in `got`.
    pub fn end_of_file(&self, rules: &Exchange, got: &[u8]) -> Verdict {
        if got.is_empty() {
            return Verdict::Failed(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "peer closed the connection without sending anything",
            ));
        }
        if let Some(expect) = expected_prefix(rules, got) {
            return Verdict::Failed(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "peer closed the connection after {} of {} bytes",
                    got.len(),
                    expect.len()
                ),
            ));
        }
        Verdict::Complete
    }

    /// The driver waited (until [`until`](Self::until), or woke early, as
    /// for a signal) and nothing came in; `len` bytes so far, the clock at
    /// `now`. A whole quiet gap completes the message, one cut short by the
    /// deadline does not.
    pub fn waited(&self, rules: &Exchange, len: usize, now: Instant) -> Verdict {
        if self.quiet && len > 0 {
            if let Some(quiet) = self.quiet_until {
                let whole = self.deadline.is_none_or(|deadline| quiet <= deadline);
                if quiet <= now && whole {
                    return Verdict::Complete;
                }
            }
        }
        if self.past_deadline(now) {
            return Verdict::Failed(timed_out(rules.timeout, len));
        }
        Verdict::More(self.until())
    }

    /// The stream's own timeout ran out, on a stream whose timeouts the
    /// crate does not set: that stands for the whole wait. A message other
    /// than the expected one is complete; anything else timed out.
    pub fn wait_over(&self, rules: &Exchange, len: usize) -> Verdict {
        if self.quiet && len > 0 {
            return Verdict::Complete;
        }
        Verdict::Failed(timed_out(rules.timeout, len))
    }

    fn past_deadline(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|deadline| now >= deadline)
    }
}

/// Whether `got` is the expected message.
fn is_expected(rules: &Exchange, got: &[u8]) -> bool {
    rules.expect.as_deref() == Some(got)
}

/// The expected message, if `got` is a proper beginning of it.
fn expected_prefix<'a>(rules: &'a Exchange, got: &[u8]) -> Option<&'a [u8]> {
    rules
        .expect
        .as_deref()
        .filter(|e| e.len() > got.len() && e.starts_with(got))
}

/// The error for a receive that ran out of time after `len` bytes.
pub(crate) fn timed_out(timeout: Duration, len: usize) -> io::Error {
    let what = match len {
        0 => "nothing".to_owned(),
        _ => format!("only {len} bytes of its message"),
    };
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("peer sent {what} within {timeout:?}"),
    )
}

/// The error for a message (or datagram) longer than `max` bytes.
pub(crate) fn too_long(max: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("message longer than {max} bytes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hello::{CLIENT_GREETING, DEFAULT_MAX_MESSAGE};

    const MS: Duration = Duration::from_millis(1);

    fn server() -> Exchange {
        let mut ex = Exchange::server();
        ex.timeout(1000 * MS).quiet(100 * MS);
        ex
    }

    fn failed(verdict: Verdict) -> io::Error {
        match verdict {
            Verdict::Failed(e) => e,
            other => panic!("not failed: {other:?}"),
        }
    }

    fn more(verdict: Verdict) -> Option<Instant> {
        match verdict {
            Verdict::More(until) => until,
            other => panic!("not more: {other:?}"),
        }
    }

    #[test]
    fn the_expected_message_completes_however_it_is_split() {
        let ex = server();
        let t0 = Instant::now();
        let mut framer = Framer::new(&ex, DEFAULT_MAX_MESSAGE, t0);
        let greeting = CLIENT_GREETING.as_bytes();
        for len in 1..greeting.len() {
            let at = t0 + 10 * MS * len as u32;
            // A beginning of the greeting waits for the deadline, not a gap.
            assert_eq!(
                more(framer.received(&ex, len, &greeting[..len], at)),
                Some(t0 + 1000 * MS)
            );
        }
        assert!(matches!(
            framer.received(&ex, greeting.len(), greeting, t0 + 999 * MS),
            Verdict::Complete
        ));
    }

    #[test]
    fn another_message_completes_after_a_whole_quiet_gap() {
        let ex = server();
        let t0 = Instant::now();
        let mut framer = Framer::new(&ex, DEFAULT_MAX_MESSAGE, t0);
        assert_eq!(
            more(framer.received(&ex, b"hi".len(), b"hi", t0 + 10 * MS)),
            Some(t0 + 110 * MS)
        );
        // Each byte starts the gap over.
        assert_eq!(
            more(framer.received(&ex, b"hi there".len(), b"hi there", t0 + 50 * MS)),
            Some(t0 + 150 * MS)
        );
        assert_eq!(
            more(framer.waited(&ex, 8, t0 + 149 * MS)),
            Some(t0 + 150 * MS)
        );
        assert!(matches!(
            framer.waited(&ex, 8, t0 + 150 * MS),
            Verdict::Complete
        ));
        // A stream's own timeout stands for the gap.
        assert!(matches!(framer.wait_over(&ex, 8), Verdict::Complete));
    }

    #[test]
    fn a_quiet_gap_cut_short_by_the_deadline_times_out() {
        let ex = server();
        let t0 = Instant::now();
        let mut framer = Framer::new(&ex, DEFAULT_MAX_MESSAGE, t0);
        assert_eq!(
            more(framer.received(&ex, b"x".len(), b"x", t0 + 950 * MS)),
            Some(t0 + 1000 * MS)
        );
        let err = failed(framer.waited(&ex, 1, t0 + 1000 * MS));
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(
            err.to_string(),
            "peer sent only 1 bytes of its message within 1s"
        );
    }

    #[test]
    fn silence_times_out_at_the_deadline_and_not_before() {
        let ex = server();
        let t0 = Instant::now();
        let framer = Framer::new(&ex, DEFAULT_MAX_MESSAGE, t0);
        assert_eq!(framer.until(), Some(t0 + 1000 * MS));
        assert_eq!(
            more(framer.waited(&ex, 0, t0 + 999 * MS)),
            Some(t0 + 1000 * MS)
        );
        let err = failed(framer.waited(&ex, 0, t0 + 1000 * MS));
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(err.to_string(), "peer sent nothing within 1s");
        // Nothing yet, so a stream's own timeout is no quiet gap either.
        assert_eq!(
            failed(framer.wait_over(&ex, 0)).kind(),
            io::ErrorKind::TimedOut
        );
    }

    #[test]
    fn a_beginning_of_the_greeting_is_never_cut_short_by_a_gap() {
        let ex = server();
        let t0 = Instant::now();
        let mut framer = Framer::new(&ex, DEFAULT_MAX_MESSAGE, t0);
        more(framer.received(&ex, b"Hello".len(), b"Hello", t0));
        assert_eq!(
            more(framer.waited(&ex, 5, t0 + 500 * MS)),
            Some(t0 + 1000 * MS)
        );
        let err = failed(framer.wait_over(&ex, 5));
        assert_eq!(
            err.to_string(),
            "peer sent only 5 bytes of its message within 1s"
        );
    }

    #[test]
    fn bytes_after_the_deadline_are_an_incomplete_message() {
        let ex = server();
        let t0 = Instant::now();
        let mut framer = Framer::new(&ex, DEFAULT_MAX_MESSAGE, t0);
        let err = failed(framer.received(&ex, b"Hello".len(), b"Hello", t0 + 1000 * MS));
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(err.to_string(), "message incomplete after 1s");
        // The expected message itself still completes, however late.
        assert!(matches!(
            framer.received(
                &ex,
                CLIENT_GREETING.len(),
                CLIENT_GREETING.as_bytes(),
                t0 + 2000 * MS
            ),
            Verdict::Complete
        ));
    }

    #[test]
    fn end_of_file_completes_only_another_message() {
        let ex = server();
        let framer = Framer::new(&ex, DEFAULT_MAX_MESSAGE, Instant::now());
        let err = failed(framer.end_of_file(&ex, b""));
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(
            err.to_string(),
            "peer closed the connection without sending anything"
        );
        let err = failed(framer.end_of_file(&ex, b"Hello fr"));
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(
            err.to_string(),
            "peer closed the connection after 8 of 17 bytes"
        );
        assert!(matches!(framer.end_of_file(&ex, b"bye"), Verdict::Complete));
    }

    #[test]
    fn more_than_the_limit_fails_and_the_limit_itself_does_not() {
        let ex = server();
        let t0 = Instant::now();
        let mut framer = Framer::new(&ex, 8, t0);
        assert_eq!(framer.limit(), 8);
        more(framer.received(&ex, 8, &[b'z'; 8], t0));
        let err = failed(framer.received(&ex, 9, &[b'z'; 8], t0));
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(err.to_string(), "message longer than 8 bytes");
    }

    #[test]
    fn with_nothing_expected_any_message_waits_for_the_gap() {
        let mut ex = server();
        ex.expect(None::<Vec<u8>>);
        let t0 = Instant::now();
        let mut framer = Framer::new(&ex, DEFAULT_MAX_MESSAGE, t0);
        assert_eq!(
            more(framer.received(&ex, CLIENT_GREETING.len(), CLIENT_GREETING.as_bytes(), t0)),
            Some(t0 + 100 * MS)
        );
        assert!(matches!(
            framer.waited(&ex, 17, t0 + 100 * MS),
            Verdict::Complete
        ));
    }

    #[test]
    fn durations_past_the_clock_mean_no_limit() {
        let mut ex = server();
        ex.timeout(Duration::MAX).quiet(Duration::MAX);
        let t0 = Instant::now();
        let mut framer = Framer::new(&ex, DEFAULT_MAX_MESSAGE, t0);
        assert_eq!(framer.until(), None);
        assert_eq!(more(framer.received(&ex, b"hi".len(), b"hi", t0)), None);
        // A gap too long for the clock never completes the message.
        assert_eq!(more(framer.waited(&ex, 2, t0 + 3600 * 1000 * MS)), None);
        assert!(matches!(framer.end_of_file(&ex, b"hi"), Verdict::Complete));
    }
}
