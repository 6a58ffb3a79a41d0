//! TCP keepalive parameters.

use std::fmt;
use std::time::Duration;

/// TCP keepalive settings, for both builders: the connections that
/// [`ConnectorBuilder::keepalive`](crate::ConnectorBuilder::keepalive) makes,
/// and those accepted from a listener built with `ListenerBuilder::keepalive`
/// (Linux, Android and Windows, where accepted connections inherit it).
///
/// Turning keepalive on sets `SO_KEEPALIVE`; each parameter given here sets
/// its own option (`TCP_KEEPIDLE`, `TCP_KEEPINTVL`, `TCP_KEEPCNT` on Linux;
/// `SIO_KEEPALIVE_VALS` on Windows). A parameter left unset keeps the OS
/// default.
///
/// # Platform-specific behavior
///
/// `interval` and `retries` exist on Linux, Android, the BSDs, macOS, iOS,
/// illumos and Windows; asking for them elsewhere is an
/// [`Error::Unsupported`](crate::Error::Unsupported) before any system call.
/// Zero durations and zero retries are an
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig).
///
/// Unix counts `time` and `interval` in whole seconds, Windows in
/// milliseconds: a finer duration is rounded up (Linux refuses the zero that
/// rounding down to whole seconds would give).
///
/// Windows sets `time` and `interval` together (`SIO_KEEPALIVE_VALS`): when
/// any parameter is given, one of the two left unset takes Windows' own
/// default (2 hours, 1 second), and a changed system-wide default is not
/// seen.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sockwright::Keepalive;
///
/// let ka = Keepalive::new()
///     .time(Duration::from_secs(60))
///     .interval(Duration::from_secs(10))
///     .retries(5);
/// assert_eq!(ka.time, Some(Duration::from_secs(60)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Keepalive {
    /// Idle time before the first probe (`TCP_KEEPIDLE`, `TCP_KEEPALIVE` on macOS).
    pub time: Option<Duration>,
    /// Time between probes (`TCP_KEEPINTVL`).
    pub interval: Option<Duration>,
    /// Unanswered probes before the connection is dropped (`TCP_KEEPCNT`).
    pub retries: Option<u32>,
}

impl Keepalive {
    /// Keepalive on, every parameter at the OS default.
    ///
    /// # Examples
    ///
    /// ```
    /// let ka = sockwright::Keepalive::new();
    /// assert_eq!(ka.time, None);
    /// ```
    pub const fn new() -> Keepalive {
        Keepalive {
            time: None,
            interval: None,
            retries: None,
        }
    }

    /// Sets the idle time before the first probe.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let ka = sockwright::Keepalive::new().time(Duration::from_secs(30));
    /// assert_eq!(ka.time, Some(Duration::from_secs(30)));
    /// ```
    pub const fn time(mut self, time: Duration) -> Keepalive {
        self.time = Some(time);
        self
    }

    /// Sets the time between probes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let ka = sockwright::Keepalive::new().interval(Duration::from_secs(5));
    /// assert_eq!(ka.interval, Some(Duration::from_secs(5)));
    /// ```
    pub const fn interval(mut self, interval: Duration) -> Keepalive {
        self.interval = Some(interval);
        self
    }

    /// Sets how many unanswered probes drop the connection.
    ///
    /// # Examples
    ///
    /// ```
    /// let ka = sockwright::Keepalive::new().retries(3);
    /// assert_eq!(ka.retries, Some(3));
    /// ```
    pub const fn retries(mut self, retries: u32) -> Keepalive {
        self.retries = Some(retries);
        self
    }
}

/// A keepalive setting as a log line says it: `idle 60s, interval 10s, 5
/// probes`, each parameter left unset left out, `OS default timings` when
/// all are.
pub(crate) struct Shown<'a>(pub(crate) &'a Keepalive);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Keepalive {
            time,
            interval,
            retries,
        } = self.0;
        let mut sep = "";
        if let Some(time) = time {
            write!(f, "idle {time:?}")?;
            sep = ", ";
        }
        if let Some(interval) = interval {
            write!(f, "{sep}interval {interval:?}")?;
            sep = ", ";
        }
        match retries {
            Some(1) => write!(f, "{sep}1 probe")?,
            Some(n) => write!(f, "{sep}{n} probes")?,
            None if sep.is_empty() => f.write_str("OS default timings")?,
            None => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_reads_as_a_person_writes_it() {
        let secs = Duration::from_secs;
        let all = Keepalive::new()
            .time(secs(60))
            .interval(secs(10))
            .retries(5);
        assert_eq!(Shown(&all).to_string(), "idle 60s, interval 10s, 5 probes");
        let some = Keepalive::new()
            .interval(Duration::from_millis(1500))
            .retries(1);
        assert_eq!(Shown(&some).to_string(), "interval 1.5s, 1 probe");
        assert_eq!(
            Shown(&Keepalive::new().time(secs(7))).to_string(),
            "idle 7s"
        );
        assert_eq!(Shown(&Keepalive::new()).to_string(), "OS default timings");
    }
}
