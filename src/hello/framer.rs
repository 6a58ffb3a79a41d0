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
//! the instant as an argument (or, for [`Framer::received`], a function
//! that gives it, called only when the verdict depends on time), so its
//! tests (and the `hello_receive` fuzz target, which sees it under
//! `cfg(fuzzing)`) run with made-up instants.
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
    #[inline]
    pub fn new(rules: &Exchange, limit: usize, now: Instant) -> Framer {
        Framer {
            limit,
            deadline: deadline(now, rules.timeout),
            quiet: false,
            quiet_until: None,
        }
    }

    /// The most bytes a message may have.
    #[inline]
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

    /// New bytes came in: `len` bytes so far, of which `got` holds all (or,
    /// past the [`limit`](Self::limit), the first `limit`: a message too
    /// long is not looked at). `now` gives the time they came in; it is
    /// called only when the message is not complete, so that an exchange
    /// whose first read brings the expected message reads no clock for it.
    #[inline]
    pub fn received(
        &mut self,
        rules: &Exchange,
        len: usize,
        got: &[u8],
        now: impl FnOnce() -> Instant,
    ) -> Verdict {
        if len > self.limit {
            return Verdict::Failed(too_long(self.limit));
        }
        if is_expected(rules, got) {
            return Verdict::Complete;
        }
        let now = now();
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
#[inline]
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

    /// The server's rules with a 1 s timeout and a 100 ms quiet gap.
    fn server() -> Exchange {
        let mut ex = Exchange::server();
        ex.timeout(1000 * MS).quiet(100 * MS);
        ex
    }

    /// One receive: a framer under `ex` begun at `t0`. Times are given in
    /// milliseconds after `t0`.
    struct Receive {
        ex: Exchange,
        t0: Instant,
        framer: Framer,
    }

    impl Receive {
        fn new(ex: Exchange, limit: usize) -> Receive {
            let t0 = Instant::now();
            let framer = Framer::new(&ex, limit, t0);
            Receive { ex, t0, framer }
        }

        fn server() -> Receive {
            Receive::new(server(), DEFAULT_MAX_MESSAGE)
        }

        fn at(&self, ms: u32) -> Instant {
            self.t0 + ms * MS
        }

        /// The verdict once the bytes so far are all of `got`, at `ms`.
        fn received(&mut self, got: &[u8], ms: u32) -> Verdict {
            let now = self.at(ms);
            self.framer.received(&self.ex, got.len(), got, || now)
        }

        /// The verdict when `len` bytes came and nothing more until `ms`.
        fn waited(&self, len: usize, ms: u32) -> Verdict {
            self.framer.waited(&self.ex, len, self.at(ms))
        }

        fn wait_over(&self, len: usize) -> Verdict {
            self.framer.wait_over(&self.ex, len)
        }

        fn end_of_file(&self, got: &[u8]) -> Verdict {
            self.framer.end_of_file(&self.ex, got)
        }
    }

    /// Checks that `verdict` failed with an error of `kind` saying `text`.
    fn fails(verdict: Verdict, kind: io::ErrorKind, text: &str) {
        match verdict {
            Verdict::Failed(err) => {
                assert_eq!((err.kind(), err.to_string().as_str()), (kind, text));
            }
            other => panic!("not failed: {other:?}"),
        }
    }

    /// What `verdict` waits for: `Some(until)`, or `None` for no limit.
    fn more(verdict: Verdict) -> Option<Instant> {
        match verdict {
            Verdict::More(until) => until,
            other => panic!("not more: {other:?}"),
        }
    }

    fn completes(verdict: Verdict) {
        assert!(matches!(verdict, Verdict::Complete), "{verdict:?}");
    }

    #[test]
    fn the_clock_is_read_only_for_a_message_still_arriving() {
        let mut r = Receive::server();
        let (ex, t0) = (r.ex.clone(), r.t0);
        let mut reads = 0;
        let mut clock = || {
            reads += 1;
            t0
        };
        let greeting = CLIENT_GREETING.as_bytes();
        more(r.framer.received(&ex, 5, &greeting[..5], &mut clock));
        completes(r.framer.received(&ex, greeting.len(), greeting, &mut clock));
        assert_eq!(reads, 1, "one read, for the first five bytes only");
    }

    #[test]
    fn the_expected_message_completes_however_it_is_split() {
        let mut r = Receive::server();
        let greeting = CLIENT_GREETING.as_bytes();
        for len in 1..greeting.len() {
            // A beginning of the greeting waits for the deadline, not a gap.
            let verdict = r.received(&greeting[..len], 10 * len as u32);
            assert_eq!(more(verdict), Some(r.at(1000)), "{len} bytes");
        }
        completes(r.received(greeting, 999));
    }

    #[test]
    fn another_message_completes_after_a_whole_quiet_gap() {
        let mut r = Receive::server();
        assert_eq!(more(r.received(b"hi", 10)), Some(r.at(110)));
        // Each byte starts the gap over.
        assert_eq!(more(r.received(b"hi there", 50)), Some(r.at(150)));
        assert_eq!(more(r.waited(8, 149)), Some(r.at(150)));
        completes(r.waited(8, 150));
        // A stream's own timeout stands for the gap.
        completes(r.wait_over(8));
    }

    #[test]
    fn a_quiet_gap_cut_short_by_the_deadline_times_out() {
        let mut r = Receive::server();
        assert_eq!(more(r.received(b"x", 950)), Some(r.at(1000)));
        let text = "peer sent only 1 bytes of its message within 1s";
        fails(r.waited(1, 1000), io::ErrorKind::TimedOut, text);
    }

    #[test]
    fn silence_times_out_at_the_deadline_and_not_before() {
        let r = Receive::server();
        assert_eq!(r.framer.until(), Some(r.at(1000)));
        assert_eq!(more(r.waited(0, 999)), Some(r.at(1000)));
        let text = "peer sent nothing within 1s";
        fails(r.waited(0, 1000), io::ErrorKind::TimedOut, text);
        // Nothing yet, so a stream's own timeout is no quiet gap either.
        fails(r.wait_over(0), io::ErrorKind::TimedOut, text);
    }

    #[test]
    fn a_beginning_of_the_greeting_is_never_cut_short_by_a_gap() {
        let mut r = Receive::server();
        more(r.received(b"Hello", 0));
        assert_eq!(more(r.waited(5, 500)), Some(r.at(1000)));
        let text = "peer sent only 5 bytes of its message within 1s";
        fails(r.wait_over(5), io::ErrorKind::TimedOut, text);
    }

    #[test]
    fn bytes_after_the_deadline_are_an_incomplete_message() {
        let mut r = Receive::server();
        let text = "message incomplete after 1s";
        fails(r.received(b"Hello", 1000), io::ErrorKind::TimedOut, text);
        // The expected message itself still completes, however late.
        completes(r.received(CLIENT_GREETING.as_bytes(), 2000));
    }

    #[test]
    fn end_of_file_completes_only_another_message() {
        let r = Receive::server();
        let eof = io::ErrorKind::UnexpectedEof;
        let text = "peer closed the connection without sending anything";
        fails(r.end_of_file(b""), eof, text);
        let text = "peer closed the connection after 8 of 17 bytes";
        fails(r.end_of_file(b"Hello fr"), eof, text);
        completes(r.end_of_file(b"bye"));
    }

    #[test]
    fn more_than_the_limit_fails_and_the_limit_itself_does_not() {
        let mut r = Receive::new(server(), 8);
        assert_eq!(r.framer.limit(), 8);
        more(r.received(&[b'z'; 8], 0));
        let nine = r.framer.received(&r.ex, 9, &[b'z'; 8], || r.t0);
        fails(
            nine,
            io::ErrorKind::InvalidData,
            "message longer than 8 bytes",
        );
    }

    #[test]
    fn with_nothing_expected_any_message_waits_for_the_gap() {
        let mut ex = server();
        ex.expect(None::<Vec<u8>>);
        let mut r = Receive::new(ex, DEFAULT_MAX_MESSAGE);
        assert_eq!(
            more(r.received(CLIENT_GREETING.as_bytes(), 0)),
            Some(r.at(100))
        );
        completes(r.waited(17, 100));
    }

    #[test]
    fn durations_past_the_clock_mean_no_limit() {
        let mut ex = server();
        ex.timeout(Duration::MAX).quiet(Duration::MAX);
        let mut r = Receive::new(ex, DEFAULT_MAX_MESSAGE);
        assert_eq!(r.framer.until(), None);
        assert_eq!(more(r.received(b"hi", 0)), None);
        // A gap too long for the clock never completes the message.
        assert_eq!(more(r.waited(2, 3600 * 1000)), None);
        completes(r.end_of_file(b"hi"));
    }
}
