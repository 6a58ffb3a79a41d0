//! TCP keepalive parameters.

use std::fmt;
use std::time::Duration;

use crate::platform::has;

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
/// Each OS takes values up to a limit of its own, checked before any system
/// call: a value above it (such as [`Duration::MAX`]) is an
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig) naming the option and
/// the limit. There is no "no limit" for these options; to send no probes,
/// leave keepalive off.
///
/// | OS | `time` | `interval` | `retries` |
/// |----|--------|------------|-----------|
/// | Linux, Android | 32,767 s (`TCP_KEEPIDLE`) | 32,767 s (`TCP_KEEPINTVL`) | 127 (`TCP_KEEPCNT`) |
/// | macOS, iOS | 4,294,967 s (`TCP_KEEPALIVE`) | 4,294,967 s | 2,147,483,647 |
/// | FreeBSD, DragonFly | 4,294,967 s (`TCP_KEEPIDLE`, counted in ticks of 1 ms) | 4,294,967 s | 2,147,483,647 |
/// | Windows | 4,294,967.295 s (`SIO_KEEPALIVE_VALS`, counted in ms) | 4,294,967.295 s | 255 (`TCP_KEEPCNT`) |
/// | elsewhere | 2,147,483,647 s (a C `int`) | 2,147,483,647 s | 2,147,483,647 |
///
/// Where the kernel still refuses a value (a limit of its own configuration),
/// the [`Error::SetOption`](crate::Error::SetOption) names the option that
/// failed (`set TCP_KEEPIDLE on ...`).
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
    /// Each OS takes a longest time (32,767 s on Linux; see [`Keepalive`]):
    /// a longer one, [`Duration::MAX`] included, is an
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) from the
    /// finishing call, before any system call.
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
    /// Each OS takes a longest interval (32,767 s on Linux; see
    /// [`Keepalive`]): a longer one, [`Duration::MAX`] included, is an
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) from the
    /// finishing call, before any system call.
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
    /// Each OS takes a most (127 on Linux, 255 on Windows; see
    /// [`Keepalive`]): more is an
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) from the
    /// finishing call, before any system call.
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

/// The keepalive options of this OS and the values each takes, checked
/// before any system call (see [`Keepalive`]'s table). Every platform's
/// limits are written here, once.
#[derive(Debug)]
pub(crate) struct Limits {
    /// The unit `time` and `interval` are counted in; a finer value is
    /// rounded up to it.
    pub(crate) unit: Duration,
    /// `time`, the longest once rounded up.
    pub(crate) time: Limit<Duration>,
    /// `interval`, the longest once rounded up.
    pub(crate) interval: Limit<Duration>,
    /// `retries`, the most probes.
    pub(crate) retries: Limit<u32>,
}

/// What this OS takes for one keepalive parameter.
#[derive(Debug)]
pub(crate) struct Limit<T> {
    /// The option that sets it.
    pub(crate) option: &'static str,
    /// The most it takes.
    pub(crate) max: T,
}

/// What a C `int` of seconds holds, where no smaller limit is known.
const INT_SECONDS: Duration = Duration::from_secs(i32::MAX as u64);

/// `UINT32_MAX / 1000` seconds: macOS and FreeBSD keep these times in
/// 32-bit counts of milliseconds (macOS's `TCP_RETRANSHZ`; FreeBSD's ticks
/// at its default `hz` of 1000) and refuse what does not fit (`EINVAL`).
const MILLISECOND_COUNT: Duration = Duration::from_secs(u32::MAX as u64 / 1000);

/// The limits of a Unix TCP stack: `TCP_KEEPINTVL` and `TCP_KEEPCNT` for
/// the interval and the count, both times in whole seconds and with the
/// same longest value.
const fn unix(time_option: &'static str, max: Duration, max_retries: u32) -> Limits {
    Limits {
        unit: Duration::from_secs(1),
        time: Limit {
            option: time_option,
            max,
        },
        interval: Limit {
            option: "TCP_KEEPINTVL",
            max,
        },
        retries: Limit {
            option: "TCP_KEEPCNT",
            max: max_retries,
        },
    }
}

/// Windows' `SIO_KEEPALIVE_VALS`, which sets both times at once, each a
/// `ULONG` of milliseconds.
const KEEPALIVE_VALS: Limit<Duration> = Limit {
    option: "SIO_KEEPALIVE_VALS",
    max: Duration::from_millis(u32::MAX as u64),
};

pub(crate) const LIMITS: Limits = if has::LINUX {
    // MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT (include/net/tcp.h).
    unix("TCP_KEEPIDLE", Duration::from_secs(32_767), 127)
} else if has::APPLE {
    unix("TCP_KEEPALIVE", MILLISECOND_COUNT, i32::MAX as u32)
} else if has::FREEBSD_LIKE {
    unix("TCP_KEEPIDLE", MILLISECOND_COUNT, i32::MAX as u32)
} else if has::WINDOWS {
    // `TCP_KEEPCNT` refuses more than 255.
    Limits {
        unit: Duration::from_millis(1),
        time: KEEPALIVE_VALS,
        interval: KEEPALIVE_VALS,
        retries: Limit {
            option: "TCP_KEEPCNT",
            max: 255,
        },
    }
} else {
    unix("TCP_KEEPIDLE", INT_SECONDS, i32::MAX as u32)
};

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
