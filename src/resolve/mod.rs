//! Turning what the user gave into addresses, and trying each one.
//!
//! - this file: a target as a user wrote it, resolved with std's resolver
//!   (`getaddrinfo`), filtered to the families the options allow, and the
//!   "try each address" loop of the listener and the sequential connector;
//! - [`target`]: [`ToSocketAddrs`], what a finishing call accepts;
//! - [`resolver`]: the [`Resolve`](crate::Resolve) trait, the fixed-table
//!   [`StaticResolver`](crate::StaticResolver) and the system resolver;
//! - [`lookup`]: a connect's per-family lookups and the inbox their answers
//!   arrive in; [`lookup_pool`]: the process-wide threads that ask them;
//! - `tokio` (with the `tokio` feature): resolution inside a task.

pub(crate) mod lookup;
mod lookup_pool;
pub(crate) mod resolver;
pub(crate) mod target;
#[cfg(feature = "tokio")]
pub(crate) mod tokio;

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs as _};

use log::debug;

use crate::options::Options;
use crate::resolve::target::{Given, ToSocketAddrs};
use crate::{Error, Result};

/// What the user asked to reach, and the log target of the builder that
/// asked: shown only when an error message or a log line shows it.
#[derive(Clone, Copy)]
pub(crate) struct UserTarget<'a> {
    addr: &'a dyn crate::resolve::target::sealed::ToTarget,
    /// `sockwright::listener` or `sockwright::connector`.
    pub(crate) log: &'static str,
}

impl<'a> UserTarget<'a> {
    pub(crate) fn new<A: ToSocketAddrs>(addr: &'a A, log: &'static str) -> UserTarget<'a> {
        UserTarget { addr, log }
    }

    /// What the target is.
    pub(crate) fn given(&self) -> Given<'a> {
        self.addr.given()
    }
}

impl fmt::Debug for UserTarget<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserTarget")
            .field("addr", &self.given())
            .field("log", &self.log)
            .finish()
    }
}

impl fmt::Display for UserTarget<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.given().fmt(f)
    }
}

/// The target as given, like [`UserTarget`], for a value whose type is known:
/// it can be sent to another thread when the value can, so a future that
/// holds it across a wait stays `Send`.
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
#[derive(Debug)]
pub(crate) struct NamedTarget<'a, A: ?Sized> {
    pub(crate) addr: &'a A,
    /// `sockwright::listener` or `sockwright::connector`.
    pub(crate) log: &'static str,
}

impl<'a, A: ?Sized> NamedTarget<'a, A> {
    /// `addr` as the user gave it, logged on `log`.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn new(addr: &'a A, log: &'static str) -> Self {
        NamedTarget { addr, log }
    }
}

impl<A: ?Sized> Clone for NamedTarget<'_, A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A: ?Sized> Copy for NamedTarget<'_, A> {}

impl<A: ToSocketAddrs + ?Sized> fmt::Display for NamedTarget<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.addr.given().fmt(f)
    }
}

/// A target as errors and log lines show it, with the log target of the
/// builder that asked.
pub(crate) trait ShownTarget: fmt::Display {
    /// `sockwright::listener` or `sockwright::connector`.
    fn log(&self) -> &'static str;
}

impl ShownTarget for UserTarget<'_> {
    fn log(&self) -> &'static str {
        self.log
    }
}

impl<T: ShownTarget + ?Sized> ShownTarget for &T {
    fn log(&self) -> &'static str {
        (**self).log()
    }
}

impl<A: ToSocketAddrs + ?Sized> ShownTarget for NamedTarget<'_, A> {
    fn log(&self) -> &'static str {
        self.log
    }
}

/// The usable addresses of a target. One address, by far the most common
/// case (a literal address, a name with one record), is held inline: a
/// build or connect to it allocates nothing.
#[derive(Debug)]
pub(crate) enum Addrs {
    One([SocketAddr; 1]),
    Many(Vec<SocketAddr>),
}

impl From<&[SocketAddr]> for Addrs {
    fn from(addrs: &[SocketAddr]) -> Addrs {
        match *addrs {
            [one] => Addrs::One([one]),
            _ => Addrs::Many(addrs.to_vec()),
        }
    }
}

impl std::ops::Deref for Addrs {
    type Target = [SocketAddr];

    fn deref(&self) -> &[SocketAddr] {
        match self {
            Addrs::One(one) => one,
            Addrs::Many(many) => many,
        }
    }
}

/// Resolves `target` and keeps the addresses the configuration can use.
///
/// Literal addresses need no system call, so a mismatch between them and
/// the configuration, or a string without a port, is reported before any;
/// a name is looked up by the system resolver.
pub(crate) fn resolve(target: UserTarget<'_>, opts: &Options) -> Result<Addrs> {
    resolve_then(target, opts, |addrs| Ok(Addrs::from(addrs)))
}

/// [`resolve`], handing the addresses to `then`: a single address is
/// handed over where it lies, not gathered into [`Addrs`] first.
#[inline]
pub(crate) fn resolve_then<T>(
    target: UserTarget<'_>,
    opts: &Options,
    then: impl FnOnce(&[SocketAddr]) -> Result<T>,
) -> Result<T> {
    match target.given() {
        Given::Name(host, port) => match (host, port).to_socket_addrs() {
            Ok(resolved) => usable_then(target, resolved, opts, then),
            Err(source) => Err(resolve_error(target, source)),
        },
        given => usable_then(target, literal(target, &given)?.iter().copied(), opts, then),
    }
}

/// The literal addresses of a target that is no name, or the error of a
/// string that cannot be a target.
pub(crate) fn literal<'g>(
    target: impl ShownTarget,
    given: &'g Given<'_>,
) -> Result<&'g [SocketAddr]> {
    match given {
        Given::Invalid(_, hint) => Err(resolve_error(
            target,
            io::Error::new(io::ErrorKind::InvalidInput, hint.clone()),
        )),
        _ => Ok(given.addrs().unwrap_or_default()),
    }
}

/// The error of a target that could not be resolved.
pub(crate) fn resolve_error(target: impl ShownTarget, source: io::Error) -> Error {
    Error::resolve(target.to_string(), source)
}

/// Keeps the addresses `target` resolved to that the configuration can use.
#[cfg(feature = "tokio")]
#[inline]
pub(crate) fn usable(
    target: impl ShownTarget,
    resolved: impl IntoIterator<Item = SocketAddr>,
    opts: &Options,
) -> Result<Addrs> {
    usable_then(target, resolved, opts, |addrs| Ok(Addrs::from(addrs)))
}

/// [`usable`], handing the addresses to `then`.
#[inline]
pub(crate) fn usable_then<T>(
    target: impl ShownTarget,
    resolved: impl IntoIterator<Item = SocketAddr>,
    opts: &Options,
    then: impl FnOnce(&[SocketAddr]) -> Result<T>,
) -> Result<T> {
    let mut resolved = resolved.into_iter();
    let first = resolved.next();
    let second = first.and_then(|_| resolved.next());
    if let (Some(a), None) = (first, second) {
        // One address, as a socket address or an IP literal gives: nothing
        // to gather.
        opts.check_inet(&a)?;
        if log::log_enabled!(target: target.log(), log::Level::Debug) {
            log_resolved(&target, &[a]);
        }
        return then(&[a]);
    }
    // Past a `None` the iterator is not asked again, as a `for` loop would not.
    let rest = second.map(|_| resolved);
    let mut first_mismatch = None;
    let mut many = Vec::new();
    for a in first
        .into_iter()
        .chain(second)
        .chain(rest.into_iter().flatten())
    {
        match opts.check_inet(&a) {
            Ok(()) => many.push(a),
            Err(e) => {
                first_mismatch.get_or_insert(e);
            }
        }
    }
    if many.is_empty() {
        return Err(first_mismatch.unwrap_or_else(|| Error::no_addresses(target.to_string())));
    }
    log_resolved(&target, &many);
    then(&many)
}

/// The `debug` line of a target resolved.
fn log_resolved(target: &dyn ShownTarget, usable: &[SocketAddr]) {
    debug!(target: target.log(), "resolved {target} to {usable:?}");
}

/// Drops the repeats of an address from `addrs`, keeping the first of each
/// in its place.
pub(crate) fn dedup(addrs: &mut Vec<SocketAddr>) {
    let mut seen = std::collections::HashSet::with_capacity(addrs.len());
    addrs.retain(|a| seen.insert(*a));
}

/// Runs `attempt` on each address in turn until one succeeds. One failure is
/// returned as it is; several become [`Error::AllAttemptsFailed`].
#[inline]
pub(crate) fn each<T>(
    target: impl ShownTarget,
    addrs: &[SocketAddr],
    mut attempt: impl FnMut(SocketAddr) -> Result<T>,
) -> Result<T> {
    // The usual case, one address: its error is returned as it is.
    if let [addr] = *addrs {
        return attempt(addr).map_err(|err| {
            debug!(target: target.log(), "{err}");
            err
        });
    }
    let mut errors = Vec::new();
    for &addr in addrs {
        match attempt(addr) {
            Ok(value) => return Ok(value),
            Err(err) => {
                debug!(target: target.log(), "{err}");
                errors.push(err);
            }
        }
    }
    all_failed(target.to_string(), errors)
}

/// Folds the per-address errors into one error.
pub(crate) fn all_failed<T>(target: String, errors: Vec<Error>) -> Result<T> {
    Err(failure(target, errors))
}

/// The one error for a target whose every address failed: one failure as
/// it is, several as [`Error::AllAttemptsFailed`] in the order given.
pub(crate) fn failure(target: String, mut errors: Vec<Error>) -> Error {
    match errors.len() {
        0 => Error::no_addresses(target),
        1 => errors.remove(0),
        _ => Error::AllAttemptsFailed {
            target,
            attempts: errors,
            report: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_filter_keeps_matching_family_and_rejects_none() {
        let mut opts = Options {
            domain: Some(crate::Domain::Ipv6),
            ..Options::default()
        };
        let both: &[SocketAddr] = &["127.0.0.1:1".parse().unwrap(), "[::1]:1".parse().unwrap()];
        let kept = resolve(UserTarget::new(&both, "t"), &opts).unwrap();
        assert_eq!(*kept, ["[::1]:1".parse::<SocketAddr>().unwrap()]);
        let err = resolve(UserTarget::new(&"127.0.0.1:1", "t"), &opts).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("IPv4 address 127.0.0.1:1 does not fit the IPv6 domain"),
            "{err}"
        );
        opts.domain = None;
        assert_eq!(*resolve(UserTarget::new(&both, "t"), &opts).unwrap(), *both);
        let three: &[SocketAddr] = &[both[0], both[1], "127.0.0.2:1".parse().unwrap()];
        assert_eq!(
            *resolve(UserTarget::new(&three, "t"), &opts).unwrap(),
            *three
        );
    }
}
