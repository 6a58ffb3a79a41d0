//! Platform-specific socket options.
//!
//! Each backend provides the same functions; an option a platform lacks is
//! never asked for there, because its builder setter does not exist, and the
//! backend answers [`io::ErrorKind::Unsupported`] as a last line of defence.
//!
//! - `set_reuse_port(&Socket, bool)`: `SO_REUSEPORT`.
//! - `set_exclusive_address_use(&Socket, bool)`: `SO_EXCLUSIVEADDRUSE`.
//! - `bind_device(&Socket, &[u8])`: `SO_BINDTODEVICE`.
//! - `set_freebind(&Socket, Domain, bool)`: `IP_FREEBIND` / `IPV6_FREEBIND`,
//!   with the option's name.
//! - `keepalive(&Keepalive)`: the `TcpKeepalive` this platform can express.
//! - `connect_in_progress(&io::Error)`: whether a nonblocking connect goes on
//!   in the background.
//! - `poll_connecting(&[&Socket], Option<&Socket>, wait_ms)`: the OS
//!   readiness wait (`poll(2)`, `WSAPoll`) on sockets with a connect under
//!   way and on the wake socket of a name's lookups; which ones are ready.
//! - `wake_pair()`: the two sockets through which a lookup's thread wakes
//!   that wait (`socketpair(2)`; a loopback UDP pair on Windows).
//! - `lookup(name, Domain)`: `getaddrinfo` for one address family.
//!
//! The readiness wait and `getaddrinfo` are the crate's only `unsafe` code
//! besides `SO_EXCLUSIVEADDRUSE` on Windows: small functions per platform,
//! each `#[allow(unsafe_code)]` under the crate's `deny(unsafe_code)`.
//! - `TIMEOUT_UNIT`: the finest `SO_RCVTIMEO` / `SO_SNDTIMEO` the OS takes.
//! - `MAX_LINGER`: the longest `SO_LINGER` the OS's `linger` struct holds.

#[cfg_attr(unix, path = "unix.rs")]
#[cfg_attr(windows, path = "windows.rs")]
mod imp;

pub(crate) use imp::*;

/// `SO_LINGER` counts whole seconds everywhere.
pub(crate) const LINGER_UNIT: std::time::Duration = std::time::Duration::from_secs(1);

/// `duration` rounded up to a whole multiple of `unit` (at most a second).
///
/// socket2 truncates durations to the unit each option counts in, and for
/// several options zero means something else (no timeout, reset on close)
/// or is refused; rounding up keeps every value at least as long as asked.
pub(crate) fn round_up(
    duration: std::time::Duration,
    unit: std::time::Duration,
) -> std::time::Duration {
    let unit = unit.as_nanos();
    let below = duration.as_nanos() % unit;
    if below == 0 {
        duration
    } else {
        // `unit - below` is less than `unit`, at most a second: it fits.
        duration.saturating_add(std::time::Duration::from_nanos((unit - below) as u64))
    }
}

#[allow(dead_code)]
pub(crate) fn unsupported(what: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        format!("{what} is not available on this platform"),
    )
}
