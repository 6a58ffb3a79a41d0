//! Deadlines and waits from the durations a user gives, up to
//! [`Duration::MAX`].
//!
//! Every `Instant + Duration` in the crate is [`deadline`]: a sum past what
//! the clock can hold is `None`, "no limit", never a panic (`Instant + d`
//! panics on overflow). Every wait handed to `poll(2)` / `WSAPoll` is
//! [`poll_millis`]: whole milliseconds rounded up, clamped to `i32::MAX`.

use std::time::{Duration, Instant};

/// The instant `after` from `now`, or `None` when that lies past anything
/// the clock can hold (a duration such as [`Duration::MAX`], meaning "no
/// limit").
#[inline]
pub(crate) fn deadline(now: Instant, after: Duration) -> Option<Instant> {
    now.checked_add(after)
}

/// A wait in whole milliseconds for `poll(2)` / `WSAPoll`: rounded up, so
/// the wait never ends before the moment it waits for (a wait rounded down
/// would wake early and poll again with nothing to do: 999 µs is 1 ms, not a
/// 0 ms busy loop), `-1` for no limit, and at most `i32::MAX` (about 24.8
/// days; a longer wait wakes then and waits again).
pub(crate) fn poll_millis(wait: Option<Duration>) -> i32 {
    match wait {
        None => -1,
        Some(d) => {
            let ms = d.as_nanos().div_ceil(1_000_000);
            i32::try_from(ms).unwrap_or(i32::MAX)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_past_the_clock_is_no_limit() {
        let now = Instant::now();
        assert_eq!(deadline(now, Duration::MAX), None);
        assert_eq!(deadline(now, Duration::from_secs(u64::MAX)), None);
        let second = Duration::from_secs(1);
        assert_eq!(deadline(now, second), Some(now + second));
        assert_eq!(deadline(now, Duration::ZERO), Some(now));
    }

    #[test]
    fn poll_millis_rounds_up_and_clamps() {
        assert_eq!(poll_millis(None), -1);
        assert_eq!(poll_millis(Some(Duration::ZERO)), 0);
        assert_eq!(poll_millis(Some(Duration::from_nanos(1))), 1);
        assert_eq!(poll_millis(Some(Duration::from_micros(1))), 1);
        assert_eq!(poll_millis(Some(Duration::from_micros(999))), 1);
        assert_eq!(poll_millis(Some(Duration::from_millis(250))), 250);
        assert_eq!(poll_millis(Some(Duration::from_micros(250_001))), 251);
        assert_eq!(
            poll_millis(Some(Duration::from_secs(u64::from(u32::MAX)))),
            i32::MAX
        );
        assert_eq!(poll_millis(Some(Duration::MAX)), i32::MAX);
    }
}
