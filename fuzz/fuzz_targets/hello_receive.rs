//! The hello framer (the rules both `Exchange` and `Server` receive by), fed
//! arbitrary peers with an arbitrary clock.
//!
//! Each input describes the rules (the expected message or none,
//! `max_message`, the timeout and the quiet gap, each sometimes too long
//! for the clock) and a peer: bytes split at chosen points, each part
//! arriving after a chosen pause, with waits (a driver's timer firing at a
//! chosen instant or at the one the framer asked for), a stream's own
//! timeout, and end of file among them. The target reads the parts as the
//! drivers do (never more than `max_message + 1` bytes in all) and checks,
//! at every step, what the framing rules of the `hello` module
//! documentation promise:
//!
//! - nothing panics;
//! - a message completes only when it is the expected one, or (when it is
//!   not a beginning of the expected one, or none is expected) at end of
//!   file, at a stream's own timeout, or after a whole quiet gap within the
//!   deadline;
//! - no more than `max_message` bytes are ever held in a message that is
//!   complete or still arriving: one byte more fails it as too long;
//! - a receive fails only for a rule: end of file before anything or inside
//!   the expected message, too long, or out of time at or past the deadline;
//! - a wait asked for ends after the instant it is asked at, so a driver
//!   never spins.
//!
//! The framer is reached through `sockwright::hello::FuzzFramer`, which
//! exists only under `cfg(fuzzing)` (set by cargo fuzz).
#![no_main]

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use sockwright::hello::{Exchange, FuzzFramer as Framer, FuzzVerdict as Verdict};

/// What happens next on the wire, after a pause.
#[derive(Debug)]
enum Event {
    /// Bytes arrive, `pause` after the previous event.
    Data(Vec<u8>, Duration),
    /// The driver's timer fires `pause` after the previous event.
    Wait(Duration),
    /// The driver's timer fires at the instant the framer asked for.
    WaitAsked,
    /// A stream whose timeouts the crate does not set reports a timeout.
    WaitOver,
    /// The peer closes its side.
    Eof,
}

fn bytes(u: &mut Unstructured<'_>, max: usize) -> Result<Vec<u8>> {
    let len = u.int_in_range(0..=max)?;
    // Mostly greeting-like bytes, so that expected messages are often met.
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        out.push(match u.int_in_range(0..=2)? {
            0 => *u.choose(b"Hello from client")?,
            _ => u.arbitrary()?,
        });
    }
    Ok(out)
}

fn duration(u: &mut Unstructured<'_>) -> Result<Duration> {
    Ok(match u.int_in_range(0..=7)? {
        0 => Duration::MAX,
        1 => Duration::from_nanos(u.int_in_range(1..=1000)?),
        _ => Duration::from_millis(u.int_in_range(1..=3000)?),
    })
}

fn pause(u: &mut Unstructured<'_>) -> Result<Duration> {
    Ok(match u.int_in_range(0..=3)? {
        0 => Duration::ZERO,
        1 => Duration::from_nanos(u.int_in_range(1..=1000)?),
        _ => Duration::from_millis(u.int_in_range(0..=2000)?),
    })
}

/// Whether `got` is a proper beginning of the expected message.
fn inside_expected(expect: Option<&[u8]>, got: &[u8]) -> bool {
    expect.is_some_and(|e| e.len() > got.len() && e.starts_with(got))
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let expect: Option<Vec<u8>> = match u.int_in_range(0..=3)? {
        0 => None,
        1 => Some(bytes(u, 40)?),
        _ => Some(b"Hello from client".to_vec()),
    };
    let max_message = match u.int_in_range(0..=2)? {
        0 => u.int_in_range(1..=20)?,
        1 => 17,
        _ => u.int_in_range(1..=2048)?,
    };
    let (timeout, quiet) = (duration(u)?, duration(u)?);
    let mut rules = Exchange::server();
    rules
        .expect(expect.clone())
        .max_message(max_message)
        .timeout(timeout)
        .quiet(quiet);
    let expect = expect.as_deref();

    let start = Instant::now();
    let deadline = start.checked_add(timeout);
    let past_deadline = |now: Instant| deadline.is_some_and(|d| now >= d);
    let mut framer = Framer::new(&rules, max_message, start);
    let mut now = start;
    // The instant of the last bytes, and what the framer last asked for.
    let mut last_data: Option<Instant> = None;
    let mut asked = framer.until();
    let mut buf: Vec<u8> = Vec::new();
    let mut len = 0usize;

    for _ in 0..64 {
        let event = match u.int_in_range(0..=9)? {
            0..=4 => Event::Data(bytes(u, 64)?, pause(u)?),
            5 => Event::Wait(pause(u)?),
            6 | 7 => Event::WaitAsked,
            8 => Event::WaitOver,
            _ => Event::Eof,
        };
        let verdict = match &event {
            Event::Data(chunk, pause) => {
                if chunk.is_empty() {
                    continue;
                }
                now = now.checked_add(*pause).unwrap_or(now);
                // A driver reads at most one byte past the limit in all.
                let room = max_message + 1 - len;
                let n = chunk.len().min(room);
                buf.extend_from_slice(&chunk[..n]);
                len += n;
                last_data = Some(now);
                let got = &buf[..len.min(framer.limit())];
                framer.received(&rules, len, got, || now)
            }
            Event::Wait(pause) => {
                now = now.checked_add(*pause).unwrap_or(now);
                framer.waited(&rules, len, now)
            }
            Event::WaitAsked => {
                let Some(at) = asked else { continue };
                now = now.max(at);
                framer.waited(&rules, len, now)
            }
            Event::WaitOver => framer.wait_over(&rules, len),
            Event::Eof => framer.end_of_file(&rules, &buf[..len.min(max_message)]),
        };
        let got = &buf[..len.min(max_message)];
        match verdict {
            Verdict::Complete => {
                assert!(
                    len <= max_message,
                    "complete with {len} bytes, max {max_message}"
                );
                let is_expected = expect == Some(got);
                let other = !got.is_empty() && !inside_expected(expect, got);
                match event {
                    Event::Data(..) => {
                        assert!(is_expected, "complete on bytes that are not expected")
                    }
                    Event::Eof | Event::WaitOver => {
                        assert!(
                            other,
                            "complete at end of file or a timeout inside the expected message"
                        )
                    }
                    Event::Wait(_) | Event::WaitAsked => {
                        assert!(other, "complete at a timer inside the expected message");
                        let last = last_data.expect("bytes arrived");
                        let gap_end = last.checked_add(quiet).expect("a gap the clock holds");
                        assert!(gap_end <= now, "complete before the quiet gap ended");
                        assert!(
                            deadline.is_none_or(|d| gap_end <= d),
                            "complete by a gap the deadline cut short"
                        );
                    }
                }
                return Ok(());
            }
            Verdict::Failed(err) => {
                let text = err.to_string();
                assert!(!text.is_empty() && !text.ends_with('.'), "{text:?}");
                match err.kind() {
                    ErrorKind::InvalidData => {
                        assert!(len > max_message, "too long at {len} bytes: {text}")
                    }
                    ErrorKind::UnexpectedEof => assert!(
                        matches!(event, Event::Eof)
                            && (got.is_empty() || inside_expected(expect, got)),
                        "{text}"
                    ),
                    ErrorKind::TimedOut => {
                        if !matches!(event, Event::WaitOver) {
                            assert!(past_deadline(now), "timed out before the deadline: {text}");
                        }
                        assert!(
                            !matches!(event, Event::WaitOver)
                                || got.is_empty()
                                || inside_expected(expect, got),
                            "a stream's timeout after another message is its end: {text}"
                        );
                    }
                    other => panic!("unexpected kind {other:?}: {text}"),
                }
                return Ok(());
            }
            Verdict::More(until) => {
                assert!(
                    len <= max_message,
                    "still receiving {len} bytes, max {max_message}"
                );
                assert!(
                    !matches!(event, Event::Eof | Event::WaitOver),
                    "more after the end"
                );
                // (An empty expected message is never met: no read brings
                // zero bytes but end of file.)
                assert!(
                    got.is_empty() || expect != Some(got),
                    "the expected message is not complete"
                );
                if let Some(at) = until {
                    assert!(at > now, "asked to wait until {at:?}, not after {now:?}");
                }
                assert_eq!(until, framer.until());
                asked = until;
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
