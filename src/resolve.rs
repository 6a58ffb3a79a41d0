//! Turning what the user gave into addresses, and trying each one.

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use log::debug;

use crate::options::Options;
use crate::{Error, Result};

/// What the user asked to reach, as given: formatted only when an error
/// message or a log line shows it, so a build that succeeds pays nothing
/// for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a>(&'a dyn fmt::Debug);

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe(self.0))
    }
}

/// Resolves `addr`, keeps the addresses the configuration can use, and
/// returns them with the target for error messages.
///
/// A literal address is parsed without a system call, so a mismatch between
/// it and the configuration is reported before any.
pub(crate) fn resolve<'a, A>(addr: &'a A, opts: &Options) -> Result<(Target<'a>, Vec<SocketAddr>)>
where
    A: ToSocketAddrs + fmt::Debug,
{
    let target = Target(addr);
    let found: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|source| Error::Resolve {
            target: target.to_string(),
            source,
        })?
        .collect();
    Ok((target, usable(target, found, opts)?))
}

/// Keeps the addresses `target` resolved to that the configuration can use.
pub(crate) fn usable(
    target: impl fmt::Display,
    mut usable: Vec<SocketAddr>,
    opts: &Options,
) -> Result<Vec<SocketAddr>> {
    let mut first_mismatch = None;
    usable.retain(|a| match opts.check_inet(a) {
        Ok(()) => true,
        Err(e) => {
            first_mismatch.get_or_insert(e);
            false
        }
    });
    if usable.is_empty() {
        return Err(first_mismatch.unwrap_or_else(|| Error::Resolve {
            target: target.to_string(),
            source: io::Error::new(io::ErrorKind::NotFound, "no addresses found"),
        }));
    }
    debug!("resolved {target} to {usable:?}");
    Ok(usable)
}

/// The target as given, like [`Target`], for a value whose type is known:
/// it can be sent to another thread when the value can, so a future that
/// holds it across a wait stays `Send`.
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
#[derive(Debug)]
pub(crate) struct Named<'a, A: ?Sized>(pub(crate) &'a A);

impl<A: ?Sized> Clone for Named<'_, A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A: ?Sized> Copy for Named<'_, A> {}

impl<A: fmt::Debug + ?Sized> fmt::Display for Named<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe(self.0))
    }
}

/// The target as a user would write it: `localhost:80`, not `"localhost:80"`.
fn describe<A: fmt::Debug + ?Sized>(addr: &A) -> String {
    let text = format!("{addr:?}");
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner.to_owned(),
        None => text,
    }
}

/// Runs `attempt` on each address in turn until one succeeds. One failure is
/// returned as it is; several become [`Error::AllAttemptsFailed`].
pub(crate) fn each<T>(
    target: impl fmt::Display,
    addrs: &[SocketAddr],
    mut attempt: impl FnMut(SocketAddr) -> Result<T>,
) -> Result<T> {
    let mut errors = Vec::new();
    for &addr in addrs {
        match attempt(addr) {
            Ok(value) => return Ok(value),
            Err(err) => {
                debug!("{err}");
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
        0 => Error::Resolve {
            target,
            source: io::Error::new(io::ErrorKind::NotFound, "no addresses found"),
        },
        1 => errors.remove(0),
        _ => Error::AllAttemptsFailed {
            target,
            attempts: errors,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_drops_string_quotes_only() {
        assert_eq!(describe("localhost:80"), "localhost:80");
        assert_eq!(describe(&("localhost", 80u16)), r#"("localhost", 80)"#);
        let addr: SocketAddr = "[::1]:9".parse().unwrap();
        assert_eq!(describe(&addr), "[::1]:9");
    }

    #[test]
    fn domain_filter_keeps_matching_family_and_rejects_none() {
        let mut opts = Options {
            domain: Some(crate::Domain::Ipv6),
            ..Options::default()
        };
        let both: &[SocketAddr] = &["127.0.0.1:1".parse().unwrap(), "[::1]:1".parse().unwrap()];
        let (_, kept) = resolve(&both, &opts).unwrap();
        assert_eq!(kept, vec!["[::1]:1".parse::<SocketAddr>().unwrap()]);
        let err = resolve(&"127.0.0.1:1", &opts).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("IPv4 address 127.0.0.1:1 does not fit the IPv6 domain"),
            "{err}"
        );
        opts.domain = None;
        assert_eq!(resolve(&both, &opts).unwrap().1.len(), 2);
    }
}
