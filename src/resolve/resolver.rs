//! Name resolution one address family at a time: the [`Resolve`] trait a
//! program implements to bring its own resolver, the fixed-table
//! [`StaticResolver`], the system resolver used by default, and
//! [`MAX_LOOKUP_THREADS`], the cap on the threads that ask them.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::{Domain, sys};

/// The most threads that look names up at once, in the whole process: 512.
///
/// Every connect to a name ([`ConnectorBuilder::connect`](crate::ConnectorBuilder::connect),
/// `connect_async`, `connect_udp`) asks its questions (one per address
/// family) through one process-wide pool of lookup threads, which calls
/// `getaddrinfo` or the builder's [`Resolve`]. The pool starts a thread
/// only when a question finds none free, never more than this many, and a
/// thread that has had no question for a second ends, so an idle process
/// holds none. Beyond the cap, questions wait in one queue, oldest first.
///
/// Why a cap: a lookup cannot be stopped, so during a DNS outage each
/// thread waits for the resolver's own timeout (glibc: 5 s per try, and
/// each holds a socket of its own meanwhile) long after the connects that
/// asked have timed out. Without a cap, thousands of connects in flight
/// would hold thousands of threads and descriptors. 512 is the size of
/// tokio's blocking pool, where `tokio::net::lookup_host` runs, and close
/// to Go's limit of 500 concurrent lookups.
///
/// What bounds the cost:
///
/// - connects that ask the same resolver the same question (name and
///   family) while it is queued or under way share one lookup;
/// - a question whose every asker has given up (won, failed, timed out, or
///   a dropped `connect_async`) leaves the queue without being asked;
/// - a connect holds descriptors of its own for the lookups only while it
///   runs (a blocking connect: one socket pair to be woken by; an async
///   connect: none) and releases them when it returns.
///
/// So with the cap reached, further connects to names wait in the queue and
/// fail at their [`connect_timeout`](crate::ConnectorBuilder::connect_timeout)
/// if no thread frees up in time.
///
/// # Examples
///
/// ```
/// assert_eq!(sockwright::MAX_LOOKUP_THREADS, 512);
/// ```
pub const MAX_LOOKUP_THREADS: usize = 512;

/// A resolver that looks up the addresses of a name in one address family.
///
/// [`ConnectorBuilder::resolver`](crate::ConnectorBuilder::resolver) takes
/// one. A connect to a name asks it once per family it needs, IPv6 (the
/// AAAA question) and IPv4 (the A question), each on a thread of the
/// process-wide lookup pool ([`MAX_LOOKUP_THREADS`]), at the same time,
/// and feeds the race with each answer as it arrives (see
/// [`happy_eyeballs`](crate::ConnectorBuilder::happy_eyeballs)). A resolver of another crate (hickory-resolver, a
/// service-discovery client) plugs in by calling its own lookup for the
/// family asked and returning the addresses.
///
/// `lookup` may block; it runs on a lookup thread. A connect does not
/// wait for an answer it no longer needs: once it has won or failed, a
/// lookup still under way finishes on its thread and its answer is dropped,
/// and a question not yet taken by a thread is dropped unasked.
/// Connects that ask the same resolver the same question while a lookup is
/// queued or under way share that lookup instead of starting another, so a
/// slow answer costs one thread, not one per connect.
///
/// A lookup that never returns holds one of the [`MAX_LOOKUP_THREADS`]
/// (512) threads for good; once all are held, further lookups wait in the
/// queue and connects to names fail at their
/// [`connect_timeout`](crate::ConnectorBuilder::connect_timeout) (or wait
/// for ever without one). Bound your own lookups with a timeout.
///
/// # The system resolver
///
/// Without a resolver of the program's own, a lookup is `getaddrinfo`,
/// once per family:
/// - **Linux (glibc).** `getaddrinfo` with `AF_INET6` sends the AAAA
///   question only, with `AF_INET` the A question only (checked by this
///   crate's tests against a DNS server of their own, glibc 2.36); with
///   both families at once (`AF_UNSPEC`, what std's `ToSocketAddrs` asks)
///   it returns nothing until both answers are in, which is why sockwright
///   asks per family. It honours `/etc/nsswitch.conf` (`/etc/hosts` first)
///   and `/etc/resolv.conf`: `timeout` and `attempts` bound each lookup;
///   `single-request` changes nothing here (it orders the two questions of
///   one `AF_UNSPEC` call); with `no-aaaa` the IPv6 lookup fails at once
///   ("no address associated with hostname", after an A question of its
///   own), so the race starts on the A answer without waiting the
///   Resolution Delay. A lookup cannot be stopped: once a connect is
///   over, a lookup still waiting finishes on its thread (bounded by the
///   resolver's own timeout, 5 s per try by default), and connects asking the
///   same question meanwhile share it, so a slow answer costs one thread. A
///   question not yet taken by a thread is dropped unasked once its connects
///   are over, so a DNS outage holds at most [`MAX_LOOKUP_THREADS`] threads
///   (each with the resolver's socket), however many connects time out.
/// - **Other Unix (macOS, the BSDs, musl).** The same two `getaddrinfo`
///   calls; whether each sends only its own question is the resolver's
///   business (POSIX only says which addresses come back). The same limits:
///   a lookup cannot be stopped, and its timeout is the resolver's.
/// - **Windows.** `getaddrinfo` from Winsock, once per family, through the
///   DNS Client service and its cache; the same limits.
/// - **Everywhere.** No resolver here reports TTLs or SVCB/HTTPS records, and
///   no lookup is cached by sockwright. Targets that are addresses (a
///   `SocketAddr`, a list, an `IpAddr` with a port; see [`ToSocketAddrs`](crate::ToSocketAddrs))
///   are used as they are, with no lookup.
///   A resolver of the program's own (hickory-resolver, a service-discovery
///   client) plugs in through this trait; [`StaticResolver`] is a fixed
///   table for tests.
///
/// # Examples
///
/// A resolver that sends every name to loopback:
///
/// ```
/// use std::io;
/// use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
/// use sockwright::{ConnectorBuilder, Domain, Resolve};
///
/// #[derive(Debug)]
/// struct Loopback;
///
/// impl Resolve for Loopback {
///     fn lookup(&self, _name: &str, family: Domain) -> io::Result<Vec<IpAddr>> {
///         Ok(match family {
///             Domain::Ipv6 => vec![IpAddr::V6(Ipv6Addr::LOCALHOST)],
///             _ => vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
///         })
///     }
/// }
///
/// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let port = server.local_addr()?.port();
/// let stream = ConnectorBuilder::new()
///     .resolver(Loopback)
///     .connect(("anything.example", port))?;
/// assert_eq!(stream.peer_addr()?, server.local_addr()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Resolve: Send + Sync + 'static {
    /// The addresses of `name` in `family` ([`Domain::Ipv6`] or
    /// [`Domain::Ipv4`], never another), best first.
    ///
    /// An empty list means the name has no address of that family; an
    /// error means the question could not be answered. Either way, the
    /// connect goes on with the other family's addresses; addresses of the
    /// other family in the answer are ignored.
    ///
    /// # Errors
    ///
    /// Whatever the resolver reports; it appears in the connect's error,
    /// naming the name and the family, only when no connection can be made.
    fn lookup(&self, name: &str, family: Domain) -> io::Result<Vec<IpAddr>>;
}

/// A resolver that answers from a fixed table of names and addresses,
/// without any system call: for tests, examples, and names a program knows
/// in advance.
///
/// Names match without regard to ASCII case and to a trailing dot. A name
/// not in the table is an [`io::ErrorKind::NotFound`] error; a name with no
/// address of the family asked is an empty answer.
///
/// # Examples
///
/// ```
/// use sockwright::{ConnectorBuilder, StaticResolver};
///
/// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let resolver = StaticResolver::new()
///     .insert("db.internal", "::1".parse()?)
///     .insert("db.internal", "127.0.0.1".parse()?);
/// let stream = ConnectorBuilder::new()
///     .resolver(resolver)
///     .connect(("db.internal", server.local_addr()?.port()))?;
/// // Nothing listens on [::1]: the IPv6 attempt is refused, IPv4 wins.
/// assert_eq!(stream.peer_addr()?, server.local_addr()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    table: HashMap<String, Vec<IpAddr>>,
}

impl StaticResolver {
    /// An empty table.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{Domain, Resolve, StaticResolver};
    ///
    /// let err = StaticResolver::new().lookup("nowhere.example", Domain::Ipv4).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// ```
    pub fn new() -> StaticResolver {
        StaticResolver::default()
    }

    /// Adds `addr` to the addresses of `name`, after the ones already there.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{Domain, Resolve, StaticResolver};
    ///
    /// let table = StaticResolver::new()
    ///     .insert("Db.Internal.", "192.0.2.7".parse()?)
    ///     .insert("db.internal", "2001:db8::7".parse()?);
    /// assert_eq!(table.lookup("db.internal", Domain::Ipv4)?, ["192.0.2.7".parse::<std::net::IpAddr>()?]);
    /// assert_eq!(table.lookup("DB.internal", Domain::Ipv6)?.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn insert(mut self, name: &str, addr: IpAddr) -> StaticResolver {
        self.table.entry(key(name)).or_default().push(addr);
        self
    }
}

impl Resolve for StaticResolver {
    fn lookup(&self, name: &str, family: Domain) -> io::Result<Vec<IpAddr>> {
        let addrs = self.table.get(&key(name)).ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "name not in the resolver's table")
        })?;
        Ok(addrs
            .iter()
            .copied()
            .filter(|a| family_of(a) == family)
            .collect())
    }
}

/// The table's key for a name: lowercase ASCII, no trailing dot.
fn key(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

fn family_of(addr: &IpAddr) -> Domain {
    match addr {
        IpAddr::V4(_) => Domain::Ipv4,
        IpAddr::V6(_) => Domain::Ipv6,
    }
}

/// Where a connect's answers come from: the system resolver (one
/// `getaddrinfo` per family) or the program's own [`Resolve`].
#[derive(Clone, Default)]
pub(crate) enum Source {
    #[default]
    System,
    Custom(Arc<dyn Resolve>),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::System => f.write_str("System"),
            Source::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

impl Source {
    /// Asks the question for one family; the addresses come back with port
    /// 0, only those of `family`, without duplicates.
    pub(crate) fn lookup(&self, name: &str, family: Domain) -> io::Result<Vec<SocketAddr>> {
        let mut addrs: Vec<SocketAddr> = match self {
            Source::System => sys::lookup(name, family)?,
            Source::Custom(resolver) => resolver
                .lookup(name, family)?
                .into_iter()
                .map(|ip| SocketAddr::new(ip, 0))
                .collect(),
        };
        addrs.retain(|a| Domain::for_address(a) == family);
        crate::resolve::dedup(&mut addrs);
        Ok(addrs)
    }

    /// Which resolver this is, for sharing lookups: connects that ask the
    /// same resolver the same question share one lookup.
    pub(crate) fn identity(&self) -> usize {
        match self {
            Source::System => 0,
            Source::Custom(resolver) => Arc::as_ptr(resolver).cast::<u8>() as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_table_answers_per_family_and_ignores_case_and_dot() {
        let table = StaticResolver::new()
            .insert("a.test", "192.0.2.1".parse().unwrap())
            .insert("A.TEST.", "2001:db8::1".parse().unwrap())
            .insert("a.test", "192.0.2.2".parse().unwrap());
        let v4: Vec<IpAddr> = vec!["192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap()];
        assert_eq!(table.lookup("a.test", Domain::Ipv4).unwrap(), v4);
        assert_eq!(
            table.lookup("a.Test.", Domain::Ipv6).unwrap(),
            vec!["2001:db8::1".parse::<IpAddr>().unwrap()]
        );
        let only_v4 = StaticResolver::new().insert("b.test", "192.0.2.9".parse().unwrap());
        assert!(only_v4.lookup("b.test", Domain::Ipv6).unwrap().is_empty());
        let err = only_v4.lookup("c.test", Domain::Ipv6).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[derive(Debug)]
    struct Mixed;

    impl Resolve for Mixed {
        fn lookup(&self, _: &str, _: Domain) -> io::Result<Vec<IpAddr>> {
            Ok(vec![
                "192.0.2.1".parse().unwrap(),
                "2001:db8::1".parse().unwrap(),
                "192.0.2.1".parse().unwrap(),
            ])
        }
    }

    #[test]
    fn custom_answers_keep_the_family_asked_once_each() {
        let source = Source::Custom(Arc::new(Mixed));
        assert_eq!(
            source.lookup("x", Domain::Ipv4).unwrap(),
            vec!["192.0.2.1:0".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(
            source.lookup("x", Domain::Ipv6).unwrap(),
            vec!["[2001:db8::1]:0".parse::<SocketAddr>().unwrap()]
        );
    }
}
