//! `ListenFds`: the variables of `sd_listen_fds(3)`, read and checked.

use std::fmt;
#[cfg(unix)]
use std::net::{TcpListener, UdpSocket};
#[cfg(unix)]
use std::os::unix::net::{UnixDatagram, UnixListener};

#[cfg(unix)]
use super::adopt::{adopt, Want};
use super::adopt::adopt_listener;
use super::{claimed, is_descriptor_name, InheritedFd, Select, DESCRIPTOR_NAME_RULE, LISTEN_FDS_START};
use crate::{Error, Listener, Result};

/// The sockets a service manager passed to this process (`LISTEN_FDS`),
/// read as `sd_listen_fds(3)` specifies; see the [module docs](self).
///
/// Reading the environment changes no descriptor; each socket is checked
/// and adopted only when asked for, once.
///
/// Two sets are equal when they describe the same descriptors and names and
/// come from the same source: a set read by [`from_env`](Self::from_env),
/// which can adopt, never equals one that [`parse`](Self::parse) made from
/// the same values, which cannot. To ask whether a socket was passed, use
/// [`is_empty`](Self::is_empty).
///
/// # Examples
///
/// ```
/// use sockwright::activation::ListenFds;
///
/// // What `systemd-socket-activate -l 8080 --fdname web ./server` sets, for process 42:
/// let fds = ListenFds::parse(Some("42"), Some("1"), Some("web"), 42)?;
/// assert_eq!(fds.len(), 1);
/// assert_eq!(fds.fds().next().unwrap().name(), Some("web"));
/// # Ok::<(), sockwright::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenFds {
    /// How many descriptors, from `LISTEN_FDS_START`.
    count: usize,
    /// One name per descriptor when `LISTEN_FDNAMES` was set, else empty;
    /// never longer than the variable itself, whatever the count says.
    names: Vec<Option<String>>,
    /// Read from this process's environment, whose protocol vouches for the
    /// descriptors; a set from [`parse`](Self::parse) only describes them.
    vouched: bool,
}

impl ListenFds {
    /// Reads `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES`, and leaves them set.
    ///
    /// None of them set means no socket was passed: an empty set, not an
    /// error, so that a server can fall back to listening on its own. The
    /// values are checked as [`parse`](Self::parse) describes, and each
    /// descriptor must be open (`fcntl(F_GETFD)`, which changes nothing).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a value that is not valid UTF-8 or that
    /// [`parse`](Self::parse) rejects, or a count past the descriptors that
    /// are open; [`Error::Unsupported`] on Windows.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{activation::ListenFds, Error};
    ///
    /// match ListenFds::from_env() {
    ///     Ok(fds) => println!("{} sockets passed", fds.len()),
    ///     Err(Error::Unsupported { .. }) => println!("no socket activation here (Windows)"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn from_env() -> Result<ListenFds> {
        Self::read_env(false)
    }

    /// Like [`from_env`](Self::from_env), and then removes the three
    /// variables, whatever the result, so that child processes do not see
    /// them (`sd_listen_fds(1)`).
    ///
    /// A program that only wants its children not to see them can keep
    /// [`from_env`](Self::from_env), which is safe, and start each child
    /// with [`Command::env_remove`](std::process::Command::env_remove).
    ///
    /// # Safety
    ///
    /// As for [`std::env::remove_var`], which this calls: on Unix, no other
    /// thread may read or write the environment while it runs, other than
    /// through `std::env`. C code reads it without the lock that `std::env`
    /// takes (`getaddrinfo`, `getenv` in another library), and a read that
    /// meets a removal is a data race. Calling it first in `main`,
    /// before any thread starts, meets this. On Windows it is always safe.
    ///
    /// # Errors
    ///
    /// As for [`from_env`](Self::from_env).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::{activation::ListenFds, Error};
    ///
    /// // SAFETY: this program has started no thread.
    /// match unsafe { ListenFds::take_from_env() } {
    ///     Ok(fds) => println!("{} sockets passed", fds.len()),
    ///     Err(Error::Unsupported { .. }) => println!("no socket activation here (Windows)"),
    ///     Err(e) => return Err(e),
    /// }
    /// assert!(std::env::var_os("LISTEN_FDS").is_none());
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    #[allow(unsafe_code)]
    pub unsafe fn take_from_env() -> Result<ListenFds> {
        Self::read_env(true)
    }

    /// Reads the variables, and removes them when `unset`: then the
    /// caller must meet the contract of [`take_from_env`](Self::take_from_env).
    #[cfg(unix)]
    fn read_env(unset: bool) -> Result<ListenFds> {
        const VARS: [&str; 3] = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"];
        let values = VARS.map(std::env::var_os);
        if unset {
            for var in VARS {
                std::env::remove_var(var);
            }
        }
        let mut text: [Option<&str>; 3] = [None; 3];
        for ((var, value), slot) in VARS.iter().zip(&values).zip(&mut text) {
            if let Some(value) = value {
                *slot = Some(value.to_str().ok_or_else(|| {
                    Error::invalid(format!("{var} is not valid UTF-8: {value:?}"))
                })?);
            }
        }
        let mut fds = Self::parse(text[0], text[1], text[2], std::process::id())?;
        fds.vouched = true;
        // Stops at the first closed number, so a huge count costs little.
        if let Some(closed) = fds.fds().find(|f| !crate::sys::fd_is_open(f.fd)) {
            return Err(Error::invalid(format!(
                "LISTEN_FDS={} names descriptors from {LISTEN_FDS_START} but fd {} is not open",
                fds.len(),
                closed.fd
            )));
        }
        log::debug!(target: "sockwright::listener", "{} sockets passed by the service manager", fds.len());
        Ok(fds)
    }

    #[cfg(not(unix))]
    fn read_env(unset: bool) -> Result<ListenFds> {
        if unset {
            for var in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
                std::env::remove_var(var);
            }
        }
        Err(Error::Unsupported {
            what: "socket activation (LISTEN_FDS)",
        })
    }

    /// Checks the three values as `sd_listen_fds(3)` specifies, without
    /// reading the environment or touching any descriptor: `this_pid` is
    /// the process asking (`std::process::id()`).
    ///
    /// The set describes descriptors and adopts none: values that did not
    /// come from this process's environment are no promise that the
    /// descriptors are its to take, so its adopting methods fail with
    /// [`Error::Adopt`]. Adopt from [`from_env`](Self::from_env), or adopt a
    /// number with the `unsafe` [`listener`] and its kin.
    ///
    /// 1. None of the three set: no sockets (an empty set).
    /// 2. `LISTEN_PID` and `LISTEN_FDS` are both set, each a decimal number
    ///    of ASCII digits only; `LISTEN_PID` is `this_pid`.
    /// 3. `LISTEN_FDS` descriptors start at [`LISTEN_FDS_START`]; the last
    ///    number fits a C `int`.
    /// 4. `LISTEN_FDNAMES`, if set, holds exactly one name per descriptor,
    ///    separated by `:` (an empty name is no name), each a name systemd
    ///    gives: at most 255 bytes of printable ASCII (space to `~`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] saying which rule a value breaks, with the
    /// value quoted (cut short if long).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::activation::ListenFds;
    ///
    /// assert!(ListenFds::parse(None, None, None, 42)?.is_empty());
    /// let err = ListenFds::parse(Some("41"), Some("1"), None, 42).unwrap_err();
    /// assert!(err.to_string().contains("LISTEN_PID=41 is not this process (42)"), "{err}");
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn parse(
        listen_pid: Option<&str>,
        listen_fds: Option<&str>,
        listen_fdnames: Option<&str>,
        this_pid: u32,
    ) -> Result<ListenFds> {
        let (pid, count) = match (listen_pid, listen_fds) {
            (None, None) => {
                return match listen_fdnames {
                    None => Ok(ListenFds::default()),
                    Some(_) => Err(Error::invalid(
                        "LISTEN_FDNAMES is set but LISTEN_PID and LISTEN_FDS are not",
                    )),
                }
            }
            (Some(_), None) => {
                return Err(Error::invalid("LISTEN_PID is set but LISTEN_FDS is not"))
            }
            (None, Some(_)) => {
                return Err(Error::invalid("LISTEN_FDS is set but LISTEN_PID is not"))
            }
            (Some(pid), Some(count)) => (pid, count),
        };
        let pid = digits(pid)
            .filter(|&p| p != 0 && p <= u64::from(u32::MAX))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "LISTEN_PID={} is not a process ID (a decimal number from 1)",
                    EnvQuoted(pid)
                ))
            })?;
        if pid != u64::from(this_pid) {
            return Err(Error::invalid(format!(
                "LISTEN_PID={pid} is not this process ({this_pid}): the sockets were passed to another process"
            )));
        }
        let max = (i32::MAX - LISTEN_FDS_START + 1) as u64;
        let n = digits(count).filter(|&n| n <= max).ok_or_else(|| {
            Error::invalid(format!(
                "LISTEN_FDS={} is not a count of descriptors (a decimal number from 0 to {max})",
                EnvQuoted(count)
            ))
        })? as usize;
        let mut names: Vec<Option<String>> = Vec::new();
        if let Some(list) = listen_fdnames {
            let given: Vec<&str> = if list.is_empty() && n == 0 {
                Vec::new()
            } else {
                list.split(':').collect()
            };
            if given.len() != n {
                return Err(Error::invalid(format!(
                    "LISTEN_FDNAMES={} has {} names for LISTEN_FDS={n} descriptors",
                    EnvQuoted(list),
                    given.len()
                )));
            }
            for (i, name) in given.iter().enumerate() {
                if !is_descriptor_name(name) {
                    return Err(Error::invalid(format!(
                        "LISTEN_FDNAMES name {} ({}) is not a descriptor name ({DESCRIPTOR_NAME_RULE})",
                        i + 1,
                        EnvQuoted(name)
                    )));
                }
                names.push(Some((*name).to_owned()).filter(|n| !n.is_empty()));
            }
        }
        Ok(ListenFds {
            count: n,
            names,
            vouched: false,
        })
    }

    /// The descriptor at `position`, if there is one.
    fn get(&self, position: usize) -> Option<InheritedFd> {
        (position < self.count).then(|| InheritedFd {
            // position < count <= i32::MAX - 2, so the sum fits.
            fd: LISTEN_FDS_START + position as i32,
            name: self.names.get(position).cloned().flatten(),
        })
    }

    /// The descriptors passed, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// let fds = sockwright::activation::ListenFds::parse(Some("1"), Some("2"), None, 1)?;
    /// let numbers: Vec<i32> = fds.fds().map(|f| f.fd()).collect();
    /// assert_eq!(numbers, [3, 4]);
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn fds(&self) -> impl Iterator<Item = InheritedFd> + '_ {
        (0..self.count).filter_map(|i| self.get(i))
    }

    /// How many descriptors were passed.
    ///
    /// # Examples
    ///
    /// ```
    /// let fds = sockwright::activation::ListenFds::parse(Some("1"), Some("2"), None, 1)?;
    /// assert_eq!(fds.len(), 2);
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no descriptor was passed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sockwright::activation::ListenFds::parse(None, None, None, 1)?.is_empty());
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The descriptor `which` selects; fails if there is none.
    fn select(&self, which: Select<'_>) -> Result<InheritedFd> {
        let found = match which {
            Select::Position(i) => self.get(i),
            Select::Name(name) => {
                let mut named = (0..self.names.len())
                    .filter(|&i| self.names[i].as_deref() == Some(name))
                    .filter_map(|i| self.get(i));
                let first = named.clone().next();
                named.find(|f| !claimed(f.fd)).or(first)
            }
        };
        found.ok_or_else(|| {
            let passed = match (self.count, self.names.is_empty()) {
                (0, _) => "no sockets were passed (LISTEN_FDS is not set or 0)".to_owned(),
                (n, true) => format!("{n} passed, without names (LISTEN_FDNAMES is not set)"),
                (n, false) => {
                    let names: Vec<_> = self
                        .names
                        .iter()
                        .map(|n| {
                            crate::bounded::shown::Cut::new(n.as_deref().unwrap_or("(unnamed)"))
                        })
                        .collect();
                    format!(
                        "{n} passed, named {}",
                        crate::bounded::shown::List(&names, ", ")
                    )
                }
            };
            Error::invalid(format!("no {which}: {passed}"))
        })
    }

    /// Adopts the selected socket as a TCP listener: an IPv4 or IPv6 stream
    /// socket that listens.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] if nothing was passed at that position or
    /// with that name; [`Error::Adopt`] if the descriptor is not a listening
    /// TCP socket or was adopted before, or if [`parse`](Self::parse) made
    /// the set; [`Error::Unsupported`] on Windows.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::activation::ListenFds;
    ///
    /// let fds = ListenFds::parse(None, None, None, std::process::id())?;
    /// let err = fds.tcp_listener("web").unwrap_err();
    /// assert!(err.to_string().contains("no sockets were passed"), "{err}");
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub fn tcp_listener<'a>(&self, which: impl Into<Select<'a>>) -> Result<TcpListener> {
        self.take(which.into(), Want::TcpListener)
            .map(|(owned, _)| owned.into())
    }

    /// Adopts the selected socket as a UDP socket: an IPv4 or IPv6 datagram socket.
    ///
    /// # Errors
    ///
    /// As for [`tcp_listener`](Self::tcp_listener), for a UDP socket.
    ///
    /// # Examples
    ///
    /// ```
    /// let fds = sockwright::activation::ListenFds::parse(None, None, None, 1)?;
    /// assert!(fds.udp_socket(0).is_err());
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub fn udp_socket<'a>(&self, which: impl Into<Select<'a>>) -> Result<UdpSocket> {
        self.take(which.into(), Want::Udp)
            .map(|(owned, _)| owned.into())
    }

    /// Adopts the selected socket as a Unix-domain listener: a Unix stream
    /// or seqpacket socket that listens.
    ///
    /// # Errors
    ///
    /// As for [`tcp_listener`](Self::tcp_listener), for a Unix listener.
    ///
    /// # Examples
    ///
    /// ```
    /// let fds = sockwright::activation::ListenFds::parse(None, None, None, 1)?;
    /// assert!(fds.unix_listener("control").is_err());
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub fn unix_listener<'a>(&self, which: impl Into<Select<'a>>) -> Result<UnixListener> {
        self.take(which.into(), Want::UnixListener)
            .map(|(owned, _)| owned.into())
    }

    /// Adopts the selected socket as a Unix-domain datagram socket.
    ///
    /// # Errors
    ///
    /// As for [`tcp_listener`](Self::tcp_listener), for a Unix datagram socket.
    ///
    /// # Examples
    ///
    /// ```
    /// let fds = sockwright::activation::ListenFds::parse(None, None, None, 1)?;
    /// assert!(fds.unix_datagram(0).is_err());
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub fn unix_datagram<'a>(&self, which: impl Into<Select<'a>>) -> Result<UnixDatagram> {
        self.take(which.into(), Want::UnixDatagram)
            .map(|(owned, _)| owned.into())
    }

    /// Adopts the selected socket as whichever listener it is: TCP or Unix.
    ///
    /// # Errors
    ///
    /// As for [`tcp_listener`](Self::tcp_listener), for a listening TCP or
    /// Unix socket.
    ///
    /// # Examples
    ///
    /// ```
    /// let fds = sockwright::activation::ListenFds::parse(None, None, None, 1)?;
    /// assert!(fds.listener(0).is_err());
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    #[allow(unsafe_code)]
    pub fn listener<'a>(&self, which: impl Into<Select<'a>>) -> Result<Listener> {
        let fd = self.vouched(which.into())?;
        // SAFETY: the service manager passed `fd` to this process for it
        // (`vouched`), and `adopt` hands each number out once.
        unsafe { adopt_listener(fd.fd, fd.name()) }
    }

    /// The descriptor `which` selects, if this set may hand it out: one
    /// read from the environment, not made by [`parse`](Self::parse).
    fn vouched(&self, which: Select<'_>) -> Result<InheritedFd> {
        let fd = self.select(which)?;
        if cfg!(unix) && !self.vouched {
            return Err(Error::Adopt {
                fd: fd.fd,
                name: fd.name,
                reason: "a set made by ListenFds::parse only describes descriptors; adopt from \
                         ListenFds::from_env, or by number with the unsafe activation functions"
                    .to_owned(),
                error: None,
            });
        }
        Ok(fd)
    }

    /// Selects, checks and adopts one socket of this set.
    #[cfg(unix)]
    #[allow(unsafe_code)]
    fn take(&self, which: Select<'_>, want: Want) -> Result<(std::os::unix::io::OwnedFd, i32)> {
        let fd = self.vouched(which)?;
        // SAFETY: as in `listener`.
        unsafe { adopt(fd.fd, fd.name(), want) }
    }
}

/// Digits only, as a number; `None` for anything else (empty, a sign,
/// spaces, too many digits).
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A value from the environment, quoted and cut to 64 characters (it sits
/// inside a reason).
struct EnvQuoted<'a>(&'a str);

impl fmt::Display for EnvQuoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::bounded::shown::Quoted::with_limit(self.0, 64).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(result: Result<ListenFds>) -> String {
        match result {
            Err(Error::InvalidConfig { reason, .. }) => reason,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn nothing_set_is_no_sockets() {
        assert!(ListenFds::parse(None, None, None, 1).unwrap().is_empty());
    }

    #[test]
    fn a_set_that_can_adopt_never_equals_a_parsed_one() {
        let parsed = ListenFds::parse(Some("7"), Some("2"), Some("a:b"), 7).unwrap();
        let read = ListenFds {
            vouched: true,
            ..parsed.clone()
        };
        assert_eq!(parsed, parsed.clone());
        assert_ne!(parsed, read);
        assert_eq!(
            read.fds().collect::<Vec<_>>(),
            parsed.fds().collect::<Vec<_>>()
        );
    }

    #[test]
    fn counts_and_names_map_to_descriptors_from_three() {
        let fds = ListenFds::parse(Some("99"), Some("3"), Some("web::admin"), 99).unwrap();
        let got: Vec<(i32, Option<String>)> = fds
            .fds()
            .map(|f| (f.fd(), f.name().map(str::to_owned)))
            .collect();
        let want = |n: Option<&str>| n.map(str::to_owned);
        assert_eq!(
            got,
            [(3, want(Some("web"))), (4, None), (5, want(Some("admin")))]
        );
        let none = ListenFds::parse(Some("99"), Some("0"), Some(""), 99).unwrap();
        assert!(none.is_empty());
        let zero = ListenFds::parse(Some("99"), Some("0"), None, 99).unwrap();
        assert!(zero.is_empty());
    }

    #[test]
    fn hostile_values_are_errors_that_say_which() {
        /// LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, and what the error says.
        type Case<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, &'a str);
        let cases: &[Case<'_>] = &[
            (
                Some("7"),
                None,
                None,
                "LISTEN_PID is set but LISTEN_FDS is not",
            ),
            (
                None,
                Some("1"),
                None,
                "LISTEN_FDS is set but LISTEN_PID is not",
            ),
            (None, None, Some("web"), "LISTEN_FDNAMES is set but"),
            (
                Some("abc"),
                Some("1"),
                None,
                "LISTEN_PID=\"abc\" is not a process ID",
            ),
            (
                Some(""),
                Some("1"),
                None,
                "LISTEN_PID=\"\" is not a process ID",
            ),
            (
                Some("0"),
                Some("1"),
                None,
                "LISTEN_PID=\"0\" is not a process ID",
            ),
            (Some("+7"), Some("1"), None, "is not a process ID"),
            (Some(" 7"), Some("1"), None, "is not a process ID"),
            (Some("4294967296"), Some("1"), None, "is not a process ID"),
            (
                Some("99999999999999999999"),
                Some("1"),
                None,
                "is not a process ID",
            ),
            (
                Some("8"),
                Some("1"),
                None,
                "LISTEN_PID=8 is not this process (7)",
            ),
            (
                Some("7"),
                Some("-1"),
                None,
                "LISTEN_FDS=\"-1\" is not a count",
            ),
            (
                Some("7"),
                Some("1x"),
                None,
                "LISTEN_FDS=\"1x\" is not a count",
            ),
            (Some("7"), Some("2147483646"), None, "is not a count"),
            (
                Some("7"),
                Some("2"),
                Some("web"),
                "has 1 names for LISTEN_FDS=2",
            ),
            (
                Some("7"),
                Some("1"),
                Some("a:b"),
                "has 2 names for LISTEN_FDS=1",
            ),
            (
                Some("7"),
                Some("0"),
                Some("web"),
                "has 1 names for LISTEN_FDS=0",
            ),
            (
                Some("7"),
                Some("1"),
                Some("we\nb"),
                "name 1 (\"we\\nb\") is not a descriptor name",
            ),
            (
                Some("7"),
                Some("2"),
                Some("web:caf\u{e9}"),
                "name 2 (\"caf\u{e9}\") is not a descriptor name (at most 255 bytes of printable ASCII, no ':')",
            ),
            (
                Some("7"),
                Some("1"),
                Some("a\u{202e}b"),
                "name 1 (\"a\\u{202e}b\") is not a descriptor name",
            ),
        ];
        for (pid, fds, names, expected) in cases {
            let got = reason(ListenFds::parse(*pid, *fds, *names, 7));
            assert!(got.contains(expected), "{pid:?} {fds:?} {names:?}: {got}");
        }
        let long = "x".repeat(256);
        let got = reason(ListenFds::parse(Some("7"), Some("1"), Some(&long), 7));
        assert!(
            got.contains("at most 255 bytes") && got.contains("(256 bytes)"),
            "{got}"
        );
    }

    #[test]
    fn the_largest_count_ends_at_int_max_without_allocating_per_descriptor() {
        let max = (i32::MAX - 2).to_string();
        let fds = ListenFds::parse(Some("7"), Some(&max), None, 7).unwrap();
        assert_eq!(fds.len(), (i32::MAX - 2) as usize);
        assert_eq!(fds.get(fds.len() - 1).unwrap().fd(), i32::MAX);
        assert!(fds.get(fds.len()).is_none());
        let err = reason(ListenFds::parse(Some("7"), Some(&max), Some("a"), 7));
        assert!(
            err.contains(&format!("has 1 names for LISTEN_FDS={max}")),
            "{err}"
        );
    }

    #[test]
    fn selection_errors_list_what_was_passed() {
        let fds = ListenFds::parse(Some("7"), Some("2"), Some("web:"), 7).unwrap();
        let err = fds.select(Select::Name("api")).unwrap_err().to_string();
        assert!(err.contains("no inherited socket named \"api\": "), "{err}");
        assert!(err.contains("2 passed, named web, (unnamed)"), "{err}");
        let err = fds.select(Select::Position(2)).unwrap_err().to_string();
        assert!(err.contains("no inherited socket at position 2"), "{err}");
        assert_eq!(fds.select(Select::Position(1)).unwrap().fd(), 4);
    }

    #[test]
    fn a_long_list_of_names_and_a_long_name_stay_short_in_errors() {
        let names: Vec<String> = (0..1000).map(|i| format!("n{i}")).collect();
        let fds = ListenFds::parse(Some("7"), Some("1000"), Some(&names.join(":")), 7).unwrap();
        let wanted = "w".repeat(100_000);
        let err = fds.select(Select::Name(&wanted)).unwrap_err().to_string();
        assert!(err.len() < 1024, "{} bytes: {err}", err.len());
        assert!(err.contains("\"…(100000 bytes)"), "{err}");
        assert!(
            err.ends_with(
                "1000 passed, named n0, n1, n2, n3, n4, n5, ... and 992 more, n998, n999"
            ),
            "{err}"
        );
    }

    #[test]
    fn quoted_cuts_long_values_on_a_char_boundary() {
        let text = "é".repeat(100);
        let shown = EnvQuoted(&text).to_string();
        assert!(shown.ends_with("\"…(200 bytes)"), "{shown}");
        assert_eq!(EnvQuoted("ab").to_string(), "\"ab\"");
    }

}
