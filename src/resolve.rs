//! Turning what the user gave into addresses, and trying each one.

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use log::debug;

use crate::options::Options;
use crate::{Error, Result};

/// What the user asked to reach, as given, and the log target of the
/// builder that asked: formatted only when an error message or a log line
/// shows it, so a build that succeeds pays nothing for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    addr: &'a dyn fmt::Debug,
    /// `sockwright::listener` or `sockwright::connector`.
    pub(crate) log: &'static str,
}

impl<'a> Target<'a> {
    pub(crate) fn new(addr: &'a dyn fmt::Debug, log: &'static str) -> Target<'a> {
        Target { addr, log }
    }
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe(self.addr))
    }
}

/// The target as given, like [`Target`], for a value whose type is known:
/// it can be sent to another thread when the value can, so a future that
/// holds it across a wait stays `Send`.
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
#[derive(Debug)]
pub(crate) struct Named<'a, A: ?Sized> {
    pub(crate) addr: &'a A,
    /// `sockwright::listener` or `sockwright::connector`.
    pub(crate) log: &'static str,
}

impl<A: ?Sized> Clone for Named<'_, A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A: ?Sized> Copy for Named<'_, A> {}

impl<A: fmt::Debug + ?Sized> fmt::Display for Named<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe(self.addr))
    }
}

/// A target as errors and log lines show it, with the log target of the
/// builder that asked.
pub(crate) trait Shown: fmt::Display {
    /// `sockwright::listener` or `sockwright::connector`.
    fn log(&self) -> &'static str;
}

impl Shown for Target<'_> {
    fn log(&self) -> &'static str {
        self.log
    }
}

impl<T: Shown + ?Sized> Shown for &T {
    fn log(&self) -> &'static str {
        (**self).log()
    }
}

impl<A: fmt::Debug + ?Sized> Shown for Named<'_, A> {
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

/// Resolves `addr`, which `target` shows in error messages and log lines,
/// and keeps the addresses the configuration can use.
///
/// A literal address is parsed without a system call, so a mismatch between
/// it and the configuration, or a literal without a port, is reported before
/// any.
#[inline]
pub(crate) fn resolve<A>(target: Target<'_>, addr: &A, opts: &Options) -> Result<Addrs>
where
    A: ToSocketAddrs + fmt::Debug,
{
    resolve_then(target, addr, opts, |addrs| Ok(Addrs::from(addrs)))
}

/// [`resolve`], handing the addresses to `then`: a single address is
/// handed over where it lies, not gathered into [`Addrs`] first.
#[inline]
pub(crate) fn resolve_then<A, T>(
    target: impl Shown + Copy,
    addr: &A,
    opts: &Options,
    then: impl FnOnce(&[SocketAddr]) -> Result<T>,
) -> Result<T>
where
    A: ToSocketAddrs + fmt::Debug,
{
    port_given(addr, target)?;
    match addr.to_socket_addrs() {
        Ok(resolved) => usable_then(target, resolved, opts, then),
        Err(source) => Err(resolve_error(target, source)),
    }
}

/// The error of a target the system resolver could not resolve.
#[cold]
#[inline(never)]
fn resolve_error(target: impl Shown, source: io::Error) -> Error {
    Error::Resolve {
        target: target.to_string(),
        family: None,
        source,
    }
}

/// Fails, before any system call, for a string target without a port.
#[inline]
pub(crate) fn port_given<A: fmt::Debug + ?Sized>(addr: &A, target: impl Shown) -> Result<()> {
    // Only a string can lack its port; other targets are not formatted.
    let string = matches!(
        std::any::type_name::<A>().trim_start_matches('&'),
        "str" | "alloc::string::String"
    );
    match string.then(|| missing_port(addr)).flatten() {
        Some(hint) => Err(Error::Resolve {
            target: target.to_string(),
            family: None,
            source: io::Error::new(io::ErrorKind::InvalidInput, hint),
        }),
        None => Ok(()),
    }
}

/// Keeps the addresses `target` resolved to that the configuration can use.
#[cfg(feature = "tokio")]
#[inline]
pub(crate) fn usable(
    target: impl Shown,
    resolved: impl IntoIterator<Item = SocketAddr>,
    opts: &Options,
) -> Result<Addrs> {
    usable_then(target, resolved, opts, |addrs| Ok(Addrs::from(addrs)))
}

/// [`usable`], handing the addresses to `then`.
#[inline]
pub(crate) fn usable_then<T>(
    target: impl Shown,
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
        return Err(first_mismatch.unwrap_or_else(|| Error::Resolve {
            target: target.to_string(),
            family: None,
            source: io::Error::new(io::ErrorKind::NotFound, "no addresses found"),
        }));
    }
    log_resolved(&target, &many);
    then(&many)
}

/// The `debug` line of a target resolved.
#[cold]
#[inline(never)]
fn log_resolved(target: &dyn Shown, usable: &[SocketAddr]) {
    debug!(target: target.log(), "resolved {target} to {usable:?}");
}

/// The host name and port of a target given as a name: a string
/// `"host:port"` or a `(host, port)` tuple (of `&str` or `String`), read
/// from the target's `Debug` form, the one view of a `ToSocketAddrs` value
/// there is. `None` for everything else: a literal address (which needs no
/// lookup), a socket address, a list, or a text that does not look like a
/// plain name (escaped characters), all resolved the way std resolves them.
///
/// Only a string or a `(string, port)` tuple is formatted (known by its type
/// name, as for a missing port), so a connect to anything else formats
/// nothing unless a log line or an error shows it.
#[inline]
pub(crate) fn name_of<A: fmt::Debug + ?Sized>(addr: &A) -> Option<(String, u16)> {
    let named = matches!(
        std::any::type_name::<A>().trim_start_matches('&'),
        "str" | "alloc::string::String" | "(&str, u16)" | "(alloc::string::String, u16)"
    );
    if !named {
        return None;
    }
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

/// For a string target that has no port (`127.0.0.1`, `::1`, `[::1]`,
/// `localhost`), what to write instead; `None` for anything else.
fn missing_port<A: fmt::Debug + ?Sized>(addr: &A) -> Option<String> {
    let text = format!("{addr:?}");
    let given = unquote(&text)?;
    let host = given
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(given);
    if host.parse::<std::net::Ipv6Addr>().is_ok() {
        Some(format!("missing port (write [{host}]:PORT)"))
    } else if !given.is_empty() && !given.contains(':') {
        Some(format!("missing port (write {given}:PORT)"))
    } else {
        None
    }
}

/// The text inside a string's `Debug` quotes, if `text` is one.
fn unquote(text: &str) -> Option<&str> {
    text.strip_prefix('"').and_then(|t| t.strip_suffix('"'))
}

/// The target as a person writes it, from its `Debug` form: `localhost:80`,
/// not `"localhost:80"`; `localhost:80` and `[::1]:80`, not
/// `("localhost", 80)` and `(V6(::1), 80)`.
fn describe<A: fmt::Debug + ?Sized>(addr: &A) -> String {
    let text = format!("{addr:?}");
    if let Some(inner) = unquote(&text) {
        return inner.to_owned();
    }
    // A (host, port) tuple: host a quoted name, an IP address, or an
    // `IpAddr` shown as `V4(..)` / `V6(..)`.
    let pair = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .and_then(|t| t.rsplit_once(", "))
        .filter(|(_, port)| port.parse::<u16>().is_ok());
    if let Some((host, port)) = pair {
        let host = unquote(host)
            .or_else(|| host.strip_prefix("V4(").and_then(|h| h.strip_suffix(')')))
            .or_else(|| host.strip_prefix("V6(").and_then(|h| h.strip_suffix(')')))
            .unwrap_or(host);
        return if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
    }
    // A long list of socket addresses: its first and last few.
    let list = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .map(|t| t.split(", ").collect::<Vec<_>>())
        .filter(|items| {
            items.len() > crate::shown::LISTED
                && items.iter().all(|i| i.parse::<SocketAddr>().is_ok())
        });
    if let Some(items) = list {
        return format!("[{}]", crate::shown::List(&items, ", "));
    }
    text
}

/// Runs `attempt` on each address in turn until one succeeds. One failure is
/// returned as it is; several become [`Error::AllAttemptsFailed`].
#[inline]
pub(crate) fn each<T>(
    target: impl Shown,
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
    fn describe_writes_targets_as_a_person_does() {
        use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
        assert_eq!(describe("localhost:80"), "localhost:80");
        assert_eq!(describe(&("localhost", 80u16)), "localhost:80");
        assert_eq!(describe(&("localhost".to_owned(), 80u16)), "localhost:80");
        assert_eq!(describe(&("::1", 80u16)), "[::1]:80");
        let v4 = Ipv4Addr::LOCALHOST;
        assert_eq!(describe(&(v4, 8080u16)), "127.0.0.1:8080");
        assert_eq!(describe(&(IpAddr::V4(v4), 8080u16)), "127.0.0.1:8080");
        assert_eq!(describe(&(Ipv6Addr::LOCALHOST, 1u16)), "[::1]:1");
        assert_eq!(
            describe(&(IpAddr::V6(Ipv6Addr::LOCALHOST), 1u16)),
            "[::1]:1"
        );
        let addr: SocketAddr = "[::1]:9".parse().unwrap();
        assert_eq!(describe(&addr), "[::1]:9");
        let list = [addr, "127.0.0.1:9".parse().unwrap()];
        assert_eq!(describe(&&list[..]), "[[::1]:9, 127.0.0.1:9]");
        let long: Vec<SocketAddr> = (1..=5000u16)
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
            .collect();
        assert_eq!(
            describe(&&long[..]),
            "[127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3, 127.0.0.1:4, 127.0.0.1:5, 127.0.0.1:6, \
             ... and 4,992 more, 127.0.0.1:4999, 127.0.0.1:5000]"
        );
    }

    #[test]
    fn missing_port_only_for_a_string_without_one() {
        assert_eq!(
            missing_port("127.0.0.1").as_deref(),
            Some("missing port (write 127.0.0.1:PORT)")
        );
        assert_eq!(
            missing_port("::1").as_deref(),
            Some("missing port (write [::1]:PORT)")
        );
        assert_eq!(
            missing_port("[::1]").as_deref(),
            Some("missing port (write [::1]:PORT)")
        );
        assert_eq!(
            missing_port("localhost").as_deref(),
            Some("missing port (write localhost:PORT)")
        );
        for fine in ["127.0.0.1:1", "[::1]:1", "localhost:80", "host:port", ""] {
            assert_eq!(missing_port(fine), None, "{fine}");
        }
        assert_eq!(missing_port(&("localhost", 1u16)), None);
    }

    #[test]
    fn domain_filter_keeps_matching_family_and_rejects_none() {
        let mut opts = Options {
            domain: Some(crate::Domain::Ipv6),
            ..Options::default()
        };
        let both: &[SocketAddr] = &["127.0.0.1:1".parse().unwrap(), "[::1]:1".parse().unwrap()];
        let kept = resolve(Target::new(&both, "t"), &both, &opts).unwrap();
        assert_eq!(*kept, ["[::1]:1".parse::<SocketAddr>().unwrap()]);
        let err = resolve(Target::new(&"127.0.0.1:1", "t"), &"127.0.0.1:1", &opts).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("IPv4 address 127.0.0.1:1 does not fit the IPv6 domain"),
            "{err}"
        );
        opts.domain = None;
        assert_eq!(
            *resolve(Target::new(&both, "t"), &both, &opts).unwrap(),
            *both
        );
        let three: &[SocketAddr] = &[both[0], both[1], "127.0.0.2:1".parse().unwrap()];
        assert_eq!(
            *resolve(Target::new(&three, "t"), &three, &opts).unwrap(),
            *three
        );
    }
}
