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

impl<'a> Target<'a> {
    /// The target `addr`, as given.
    pub(crate) fn new(addr: &'a dyn fmt::Debug) -> Target<'a> {
        Target(addr)
    }
}

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
    let mut usable: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|source| Error::Resolve {
            target: target.to_string(),
            family: None,
            source,
        })?
        .collect();
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
            family: None,
            source: io::Error::new(io::ErrorKind::NotFound, "no addresses found"),
        }));
    }
    debug!("resolved {target} to {usable:?}");
    Ok((target, usable))
}

/// The host name and port of a target given as a name: a string
/// `"host:port"` or a `(host, port)` tuple (of `&str` or `String`), read
/// from the target's `Debug` form, the one view of a `ToSocketAddrs` value
/// there is. `None` for everything else: a literal address (which needs no
/// lookup), a socket address, a list, or a text that does not look like a
/// plain name (escaped characters), all resolved the way std resolves them.
pub(crate) fn name_of<A: fmt::Debug + ?Sized>(addr: &A) -> Option<(String, u16)> {
    let text = format!("{addr:?}");
    let (host, port) = if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"'))
    {
        let (host, port) = inner.rsplit_once(':')?;
        (host, port.parse::<u16>().ok()?)
    } else {
        let inner = text.strip_prefix("(\"")?.strip_suffix(')')?;
        let (host, port) = inner.rsplit_once("\", ")?;
        (host, port.parse::<u16>().ok()?)
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    if host.is_empty() || !host.chars().all(plain) || host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    Some((host.to_owned(), port))
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
    target: Target<'_>,
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
            family: None,
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
    fn name_of_finds_names_and_leaves_literals_and_lists() {
        let name = |host: &str, port| Some((host.to_owned(), port));
        assert_eq!(name_of("example.com:443"), name("example.com", 443));
        assert_eq!(
            name_of(&"db-1.internal:5432".to_owned()),
            name("db-1.internal", 5432)
        );
        assert_eq!(name_of(&("localhost", 80u16)), name("localhost", 80));
        assert_eq!(
            name_of(&("svc_a.test".to_owned(), 8u16)),
            name("svc_a.test", 8)
        );
        for literal in [
            "127.0.0.1:80",
            "[::1]:80",
            "::1:80",
            "1.2.3.4:x",
            "host",
            ":80",
            "a b:80",
        ] {
            assert_eq!(name_of(literal), None, "{literal}");
        }
        assert_eq!(name_of(&("127.0.0.1", 80u16)), None);
        assert_eq!(name_of(&("x\"y", 80u16)), None);
        let addr: SocketAddr = "[::1]:9".parse().unwrap();
        assert_eq!(name_of(&addr), None);
        assert_eq!(name_of(&[addr][..]), None);
        let ip: std::net::IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(name_of(&(ip, 80u16)), None);
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
