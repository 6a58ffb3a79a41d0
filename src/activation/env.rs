//! `ListenFds`: the variables of `sd_listen_fds(3)`, read and checked.

use std::fmt;
#[cfg(unix)]
use std::net::{TcpListener, UdpSocket};
#[cfg(unix)]
use std::os::unix::net::{UnixDatagram, UnixListener};

use super::adopt::adopt_listener;
#[cfg(unix)]
use super::adopt::{Want, adopt};
use super::{
    DESCRIPTOR_NAME_RULE, InheritedFd, LISTEN_FDS_START, Select, claimed, is_descriptor_name,
};
use crate::{Error, Listener, Result};

/// The sockets a service manager passed to this process (`LISTEN_FDS`),
/// read as `sd_listen_fds(3)` specifies; see the [module docs](crate::activation).
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenFds {
    /// The first descriptor: [`LISTEN_FDS_START`], or `LISTEN_FDS_FIRST_FD`.
    first: i32,
    /// How many descriptors, from `first`.
    count: usize,
    /// One name per descriptor when `LISTEN_FDNAMES` was set, else empty;
    /// never longer than the variable itself, whatever the count says.
    names: Vec<Option<String>>,
    /// Read from this process's environment, whose protocol vouches for the
    /// descriptors; a set from [`parse`](Self::parse) only describes them.
    vouched: bool,
    /// Why the set is empty although variables were set: the sockets were
    /// passed to another process (`LISTEN_PID`, `LISTEN_PIDFDID`).
    not_ours: Option<String>,
}

impl Default for ListenFds {
    fn default() -> ListenFds {
        ListenFds {
            first: LISTEN_FDS_START,
            count: 0,
            names: Vec::new(),
            vouched: false,
            not_ours: None,
        }
    }
}

/// The variables `sd_listen_fds(3)` and its kin read, as text.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Vars<'a> {
    pub(crate) pid: Option<&'a str>,
    pub(crate) fds: Option<&'a str>,
    pub(crate) fdnames: Option<&'a str>,
    pub(crate) first_fd: Option<&'a str>,
    pub(crate) pidfdid: Option<&'a str>,
}

/// Every variable [`ListenFds`] reads, in the order of [`Vars`]'s fields.
pub(crate) const VARS: [&str; 5] = [
    "LISTEN_PID",
    "LISTEN_FDS",
    "LISTEN_FDNAMES",
    "LISTEN_FDS_FIRST_FD",
    "LISTEN_PIDFDID",
];

/// Defines the methods of [`ListenFds`] that adopt the selected socket as
/// one type: each checks that it is the socket `$want` names, then hands
/// it over as `$ty`.
macro_rules! take_as {
    ($($(#[$doc:meta])* pub fn $name:ident(which) -> $ty:ty = $want:expr;)*) => {$(
        $(#[$doc])*
        #[cfg(unix)]
        #[cfg_attr(docsrs, doc(cfg(unix)))]
        pub fn $name<'a>(&self, which: impl Into<Select<'a>>) -> Result<$ty> {
            self.take(which.into(), $want).map(|(owned, _)| owned.into())
        }
    )*};
}

impl ListenFds {
    /// Reads the activation variables and leaves them set: `LISTEN_PID`,
    /// `LISTEN_FDS`, `LISTEN_FDNAMES`, `LISTEN_FDS_FIRST_FD` and
    /// `LISTEN_PIDFDID`.
    ///
    /// None of them set means no socket was passed: an empty set, not an
    /// error, so that a server can fall back to listening on its own. So
    /// does a `LISTEN_PID` that names another process, or a
    /// `LISTEN_PIDFDID` that is not this process's pidfd (the variables
    /// were meant for a parent, and are left as they are). Otherwise the
    /// values are checked as [`parse`](Self::parse) describes (a
    /// `LISTEN_FDS_FIRST_FD`, as systemfd and listenfd set it, moves the
    /// first descriptor from 3), and each descriptor must be open
    /// (`fcntl(F_GETFD)`).
    ///
    /// Every passed descriptor that this process has not adopted yet is
    /// then made close-on-exec (`fcntl(F_SETFD, FD_CLOEXEC)`), adopted or
    /// not, as `sd_listen_fds(3)` does: a child the server starts does not
    /// keep the listening sockets open, so a child that outlives the server
    /// does not keep its port bound.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a value that is not valid UTF-8 or that
    /// [`parse`](Self::parse) rejects, or a count past the descriptors that
    /// are open; [`Error::Unsupported`] on Windows.
    ///
    /// # Platform-specific behavior
    ///
    /// `LISTEN_PIDFDID` (set by systemd 258 and later) is checked on Linux
    /// 6.9 and later, where a pidfd has an inode number of its own
    /// (pidfs); elsewhere it is ignored, as systemd ignores it.
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

    /// Like [`from_env`](Self::from_env), and then removes the variables,
    /// whatever the result but a set meant for another process, so that
    /// child processes do not see them (`sd_listen_fds(1)`).
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
        let values = VARS.map(std::env::var_os);
        let mut text: [Option<&str>; 5] = [None; 5];
        let mut bad = None;
        for ((var, value), slot) in VARS.iter().zip(&values).zip(&mut text) {
            if let Some(value) = value {
                match value.to_str() {
                    Some(value) => *slot = Some(value),
                    None => {
                        bad.get_or_insert_with(|| {
                            Error::invalid(format!("{var} is not valid UTF-8: {value:?}"))
                        });
                    }
                }
            }
        }
        let vars = Vars {
            pid: text[0],
            fds: text[1],
            fdnames: text[2],
            first_fd: text[3],
            pidfdid: text[4],
        };
        let parsed = match bad {
            Some(e) => Err(e),
            None => Self::parse_vars(vars, std::process::id(), crate::sys::pidfd_id_self),
        };
        if unset && !parsed.as_ref().is_ok_and(|f| f.not_ours.is_some()) {
            remove_vars();
        }
        let mut fds = parsed?;
        if let Some(why) = &fds.not_ours {
            log::debug!(target: crate::LISTENER_LOG, "no sockets passed to this process: {why}");
            return Ok(fds);
        }
        fds.vouched = true;
        // Stops at the first closed number, so a huge count costs little.
        if let Some(closed) = fds.fds().find(|f| !crate::sys::fd_is_open(f.fd)) {
            return Err(Error::invalid(format!(
                "LISTEN_FDS={} names descriptors from {} but fd {} is not open",
                fds.len(),
                fds.first,
                closed.fd
            )));
        }
        for fd in fds.fds().filter(|f| !claimed(f.fd)) {
            if let Err(e) = crate::sys::set_cloexec(fd.fd) {
                return Err(Error::Adopt {
                    fd: fd.fd,
                    name: fd.name,
                    reason: format!("set close-on-exec (FD_CLOEXEC): {e}"),
                    error: Some(e),
                });
            }
        }
        log::debug!(target: crate::LISTENER_LOG, "{} sockets passed by the service manager, from fd {}", fds.len(), fds.first);
        Ok(fds)
    }

    #[cfg(not(unix))]
    fn read_env(unset: bool) -> Result<ListenFds> {
        if unset {
            remove_vars();
        }
        Err(Error::Unsupported {
            what: "socket activation (LISTEN_FDS)",
        })
    }

    /// Checks the three values as `sd_listen_fds(3)` reads them, without
    /// reading the environment or touching any descriptor: `this_pid` is
    /// the process asking (`std::process::id()`).
    ///
    /// The set describes descriptors and adopts none: values that did not
    /// come from this process's environment are no promise that the
    /// descriptors are its to take, so its adopting methods fail with
    /// [`Error::Adopt`]. Adopt from [`from_env`](Self::from_env), or adopt a
    /// number with the `unsafe` [`listener`](super::listener) and its kin.
    ///
    /// 1. None of the three set: no sockets (an empty set).
    /// 2. `LISTEN_PID`, if set, is a decimal number of ASCII digits only.
    ///    If it is not `this_pid`, the sockets were passed to another
    ///    process: no sockets, whatever the other two say.
    /// 3. `LISTEN_FDS` is set (a `LISTEN_PID` or `LISTEN_FDNAMES` without it
    ///    is an error), a decimal number; without `LISTEN_PID` it is
    ///    accepted, as `systemfd --no-pid` passes sockets.
    /// 4. `LISTEN_FDS` descriptors start at [`LISTEN_FDS_START`]; the last
    ///    number fits a C `int`.
    /// 5. `LISTEN_FDNAMES`, if set, holds exactly one name per descriptor,
    ///    separated by `:` (an empty name is no name), each a name systemd
    ///    gives: at most 255 bytes of printable ASCII (space to `~`), no `:`.
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
    /// // Meant for process 41, a parent of this one: nothing for 42.
    /// assert!(ListenFds::parse(Some("41"), Some("1"), None, 42)?.is_empty());
    /// // systemfd --no-pid: no LISTEN_PID.
    /// assert_eq!(ListenFds::parse(None, Some("1"), None, 42)?.len(), 1);
    /// let err = ListenFds::parse(Some("42"), Some("x"), None, 42).unwrap_err();
    /// assert!(err.to_string().contains("LISTEN_FDS=\"x\" is not a count"), "{err}");
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn parse(
        listen_pid: Option<&str>,
        listen_fds: Option<&str>,
        listen_fdnames: Option<&str>,
        this_pid: u32,
    ) -> Result<ListenFds> {
        let vars = Vars {
            pid: listen_pid,
            fds: listen_fds,
            fdnames: listen_fdnames,
            ..Vars::default()
        };
        Self::parse_vars(vars, this_pid, || None)
    }

    /// [`parse`](Self::parse) with the two variables it does not take:
    /// `LISTEN_FDS_FIRST_FD` and `LISTEN_PIDFDID`, checked against
    /// `this_pidfd_id` (called only when that variable is set; `None` where
    /// the platform cannot say).
    pub(crate) fn parse_vars(
        vars: Vars<'_>,
        this_pid: u32,
        this_pidfd_id: impl FnOnce() -> Option<u64>,
    ) -> Result<ListenFds> {
        if let Some(pid) = vars.pid {
            let pid = digits(pid)
                .filter(|&p| p != 0 && p <= u64::from(u32::MAX))
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "LISTEN_PID={} is not a process ID (a decimal number from 1)",
                        EnvQuoted(pid)
                    ))
                })?;
            if pid != u64::from(this_pid) {
                return Ok(ListenFds {
                    not_ours: Some(format!(
                        "LISTEN_PID={pid} names another process, not this one ({this_pid})"
                    )),
                    ..ListenFds::default()
                });
            }
        }
        let Some(count) = vars.fds else {
            let set = [
                ("LISTEN_PID", vars.pid),
                ("LISTEN_FDNAMES", vars.fdnames),
                ("LISTEN_FDS_FIRST_FD", vars.first_fd),
                ("LISTEN_PIDFDID", vars.pidfdid),
            ];
            return match set.iter().find(|(_, v)| v.is_some()) {
                None => Ok(ListenFds::default()),
                Some((var, _)) => Err(Error::invalid(format!(
                    "{var} is set but LISTEN_FDS is not"
                ))),
            };
        };
        if let Some(id) = vars.pidfdid {
            let id = digits(id).ok_or_else(|| {
                Error::invalid(format!(
                    "LISTEN_PIDFDID={} is not a pidfd inode number (a decimal number)",
                    EnvQuoted(id)
                ))
            })?;
            if let Some(ours) = this_pidfd_id() {
                if ours != id {
                    return Ok(ListenFds {
                        not_ours: Some(format!(
                            "LISTEN_PIDFDID={id} names another process, not this one ({ours})"
                        )),
                        ..ListenFds::default()
                    });
                }
            }
        }
        let first = match vars.first_fd {
            None => LISTEN_FDS_START,
            Some(text) => digits(text)
                .and_then(|f| i32::try_from(f).ok())
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "LISTEN_FDS_FIRST_FD={} is not a descriptor number (a decimal number from 0 to {})",
                        EnvQuoted(text),
                        i32::MAX
                    ))
                })?,
        };
        let max = (i32::MAX - first) as u64 + 1;
        let n = digits(count).filter(|&n| n <= max).ok_or_else(|| {
            Error::invalid(format!(
                "LISTEN_FDS={} is not a count of descriptors (a decimal number from 0 to {max})",
                EnvQuoted(count)
            ))
        })? as usize;
        let mut names: Vec<Option<String>> = Vec::new();
        if let Some(list) = vars.fdnames {
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
            first,
            count: n,
            names,
            vouched: false,
            not_ours: None,
        })
    }

    /// The descriptor at `position`, if there is one.
    fn get(&self, position: usize) -> Option<InheritedFd> {
        (position < self.count).then(|| InheritedFd {
            // position < count <= i32::MAX - first + 1, so the sum fits.
            fd: self.first + position as i32,
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
                (0, _) => match &self.not_ours {
                    Some(why) => format!("no sockets were passed to this process ({why})"),
                    None => "no sockets were passed (LISTEN_FDS is not set or 0)".to_owned(),
                },
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

    take_as! {
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
        pub fn tcp_listener(which) -> TcpListener = Want::TcpListener;

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
        pub fn udp_socket(which) -> UdpSocket = Want::Udp;

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
        pub fn unix_listener(which) -> UnixListener = Want::UnixListener;

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
        pub fn unix_datagram(which) -> UnixDatagram = Want::UnixDatagram;
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

    /// Adopts every passed socket not adopted yet, each as whichever
    /// listener it is, in order: what the `sd-listen:*`
    /// [`Endpoint`](crate::Endpoint) listens on.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] if no socket is left to adopt;
    /// [`Error::Adopt`] for the first descriptor that is not a listening TCP
    /// or Unix socket (the ones before it are adopted and closed again), or
    /// if [`parse`](Self::parse) made the set; [`Error::Unsupported`] on
    /// Windows.
    ///
    /// # Examples
    ///
    /// ```
    /// let fds = sockwright::activation::ListenFds::parse(None, None, None, 1)?;
    /// let err = fds.listeners().unwrap_err();
    /// assert!(err.to_string().contains("no sockets were passed"), "{err}");
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    #[allow(unsafe_code)]
    pub fn listeners(&self) -> Result<Vec<Listener>> {
        let left: Vec<InheritedFd> = self.fds().filter(|f| !claimed(f.fd)).collect();
        if left.is_empty() {
            return self
                .select(Select::Position(self.count))
                .map(|_| Vec::new());
        }
        let mut all = Vec::with_capacity(left.len());
        for fd in left {
            let fd = self.vouched(Select::Position((fd.fd - self.first) as usize))?;
            // SAFETY: as in `listener`.
            all.push(unsafe { adopt_listener(fd.fd, fd.name()) }?);
        }
        Ok(all)
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

/// Removes the activation variables from the environment. Called only
/// by `read_env(true)`, that is by [`ListenFds::take_from_env`].
fn remove_vars() {
    for var in VARS {
        // SAFETY: only `take_from_env` gets here, and its caller promises
        // that no other thread reads or writes the environment while it
        // runs (its `# Safety`).
        #[allow(unsafe_code)]
        unsafe {
            std::env::remove_var(var)
        };
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

    fn vars<'a>(pid: Option<&'a str>, fds: &'a str) -> Vars<'a> {
        Vars {
            pid,
            fds: Some(fds),
            ..Vars::default()
        }
    }

    #[test]
    fn sockets_for_another_process_are_none_for_this_one() {
        // Whatever else is set: the variables were a parent's.
        let fds = ListenFds::parse(Some("8"), Some("x"), Some("a:b"), 7).unwrap();
        assert!(fds.is_empty());
        let err = fds.select(Select::Position(0)).unwrap_err().to_string();
        assert!(
            err.contains("no sockets were passed to this process (LISTEN_PID=8 names another process, not this one (7))"),
            "{err}"
        );
        let pidfd = Vars {
            pidfdid: Some("1234"),
            ..vars(Some("7"), "1")
        };
        assert!(
            ListenFds::parse_vars(pidfd, 7, || Some(99))
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            ListenFds::parse_vars(pidfd, 7, || Some(1234))
                .unwrap()
                .len(),
            1
        );
        // Where the platform cannot say, the variable is not held against the set.
        assert_eq!(ListenFds::parse_vars(pidfd, 7, || None).unwrap().len(), 1);
        let bad = Vars {
            pidfdid: Some("-1"),
            ..vars(Some("7"), "1")
        };
        let err = reason(ListenFds::parse_vars(bad, 7, || Some(1)));
        assert!(
            err.contains("LISTEN_PIDFDID=\"-1\" is not a pidfd inode number"),
            "{err}"
        );
    }

    #[test]
    fn no_pid_is_the_systemfd_form_and_first_fd_moves_the_start() {
        let fds = ListenFds::parse(None, Some("2"), Some("a:b"), 7).unwrap();
        assert_eq!(fds.fds().map(|f| f.fd()).collect::<Vec<_>>(), [3, 4]);
        let moved = Vars {
            first_fd: Some("10"),
            ..vars(None, "2")
        };
        let fds = ListenFds::parse_vars(moved, 7, || None).unwrap();
        assert_eq!(fds.fds().map(|f| f.fd()).collect::<Vec<_>>(), [10, 11]);
        let max = Vars {
            first_fd: Some("2147483647"),
            ..vars(None, "1")
        };
        let fds = ListenFds::parse_vars(max, 7, || None).unwrap();
        assert_eq!(fds.get(0).unwrap().fd(), i32::MAX);
        let past = Vars {
            first_fd: Some("2147483647"),
            ..vars(None, "2")
        };
        let err = reason(ListenFds::parse_vars(past, 7, || None));
        assert!(
            err.contains(
                "LISTEN_FDS=\"2\" is not a count of descriptors (a decimal number from 0 to 1)"
            ),
            "{err}"
        );
        for bad in ["-1", "x", "2147483648", ""] {
            let v = Vars {
                first_fd: Some(bad),
                ..vars(None, "1")
            };
            let err = reason(ListenFds::parse_vars(v, 7, || None));
            assert!(err.contains("LISTEN_FDS_FIRST_FD="), "{bad}: {err}");
        }
        let alone = Vars {
            first_fd: Some("3"),
            ..Vars::default()
        };
        let err = reason(ListenFds::parse_vars(alone, 7, || None));
        assert!(
            err.contains("LISTEN_FDS_FIRST_FD is set but LISTEN_FDS is not"),
            "{err}"
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
