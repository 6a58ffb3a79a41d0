//! Sockets that another process opened: socket activation and descriptors
//! named by number.
//!
//! A service manager such as systemd (or `systemd-socket-activate`,
//! `systemfd` during development) binds and listens the sockets itself and
//! starts the server with them open from descriptor 3 on, described by three
//! environment variables, as `sd_listen_fds(3)` specifies:
//!
//! - `LISTEN_PID`: the process the sockets are for; any other process
//!   (such as a child that inherited the environment) must not use them;
//! - `LISTEN_FDS`: how many there are, at descriptors `3`, `4`, ...;
//! - `LISTEN_FDNAMES` (optional): their names, separated by `:`, one per
//!   descriptor (`FileDescriptorName=` in a socket unit, `--fdname` of
//!   `systemd-socket-activate`).
//!
//! [`ListenFds`] reads them and hands out each socket once, by position or
//! by name; [`tcp_listener`], [`unix_listener`], [`udp_socket`],
//! [`unix_datagram`] and [`listener`] adopt a descriptor whose number the user
//! names (the `fd:N` [`Endpoint`](crate::Endpoint)).
//!
//! Adopting by number is `unsafe`. A returned value owns its descriptor and
//! closes it when dropped, so nothing else may own the same one: a second
//! owner would go on using a number that the OS may already have given to a
//! file opened since. The `sd_listen_fds(3)` protocol promises that the
//! descriptors it announces were passed to this process for it
//! (`LISTEN_PID`), so [`ListenFds::from_env`] hands them out safely, each at
//! most once. A number from a flag or a configuration file comes with no such
//! promise, so only the program can make it. [`ListenFds::parse`] only
//! describes descriptors: its sets adopt nothing.
//!
//! Before a descriptor becomes a std value it is checked: `fstat(2)` says it
//! is a socket, and `getsockopt(2)` that its type (`SO_TYPE`), family
//! (`SO_DOMAIN`, or `getsockname(2)` where the OS lacks it) and, for a
//! listener, `SO_ACCEPTCONN` fit what was asked. A wrong descriptor is an
//! [`Error::Adopt`] naming its number and what it is; it is left open and
//! unchanged. An adopted descriptor is set close-on-exec and from then on
//! belongs to the returned value, which closes it when dropped. Descriptors
//! that were not asked for are never closed or changed.
//!
//! # Examples
//!
//! A server that listens where systemd says, or on a port of its own when
//! started by hand:
//!
//! ```
//! # #[cfg(unix)] {
//! use sockwright::activation::ListenFds;
//! use sockwright::ListenerBuilder;
//!
//! let fds = ListenFds::from_env()?;
//! let listener = if fds.is_empty() {
//!     ListenerBuilder::new().listen("127.0.0.1:0")?
//! } else {
//!     fds.tcp_listener(0)?
//! };
//! println!("listening on {}", listener.local_addr()?);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Run it under `systemd-socket-activate -l 127.0.0.1:8080 ./server`, or
//! with `--fdname web` and `fds.tcp_listener("web")`.
//!
//! # Platform-specific behavior
//!
//! Unix only. On Windows, [`ListenFds::from_env`] and every adopting call
//! return [`Error::Unsupported`]: Windows passes sockets between processes
//! with `WSADuplicateSocket`, not by number. macOS's launchd passes sockets
//! through `launch_activate_socket(3)`, not these variables; it is not
//! supported here (a launchd job can still name a descriptor with `fd:N`).

use std::fmt;
#[cfg(unix)]
use std::net::{TcpListener, UdpSocket};
#[cfg(unix)]
use std::os::unix::net::{UnixDatagram, UnixListener};

use crate::{Error, Listener, Result};

/// The first descriptor a service manager passes: `SD_LISTEN_FDS_START`.
pub const LISTEN_FDS_START: i32 = 3;

/// The longest name `LISTEN_FDNAMES` may give a descriptor, as systemd
/// limits `FileDescriptorName=`.
const MAX_NAME: usize = 255;

/// What systemd takes as a descriptor name (`FileDescriptorName=`,
/// `--fdname`): at most 255 bytes of printable ASCII (space to `~`), no `:`,
/// which separates the names in `LISTEN_FDNAMES`.
pub(crate) fn is_descriptor_name(name: &str) -> bool {
    name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b':')
}

/// The rule [`is_descriptor_name`] checks, as an error message says it.
pub(crate) const DESCRIPTOR_NAME_RULE: &str = "at most 255 bytes of printable ASCII, no ':'";

/// One descriptor passed by the service manager: its number and its name
/// from `LISTEN_FDNAMES`, if the variable was set.
///
/// # Examples
///
/// ```
/// use sockwright::activation::ListenFds;
///
/// let fds = ListenFds::parse(Some("42"), Some("2"), Some("web:admin"), 42)?;
/// let second = fds.fds().nth(1).unwrap();
/// assert_eq!((second.fd(), second.name()), (4, Some("admin")));
/// # Ok::<(), sockwright::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InheritedFd {
    fd: i32,
    name: Option<String>,
}

impl InheritedFd {
    /// The descriptor number.
    ///
    /// # Examples
    ///
    /// ```
    /// let fds = sockwright::activation::ListenFds::parse(Some("7"), Some("1"), None, 7)?;
    /// assert_eq!(fds.fds().next().unwrap().fd(), 3);
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn fd(&self) -> i32 {
        self.fd
    }

    /// Its name from `LISTEN_FDNAMES`; `None` when the variable was not set
    /// or gave this descriptor an empty name.
    ///
    /// # Examples
    ///
    /// ```
    /// let fds = sockwright::activation::ListenFds::parse(Some("7"), Some("1"), None, 7)?;
    /// assert_eq!(fds.fds().next().unwrap().name(), None);
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// Which inherited socket to take: by position (`0` is descriptor 3) or by
/// name. Made from a `usize` or a `&str`.
///
/// A name given to several descriptors selects the first of them that has
/// not been adopted yet, so asking again yields the next.
///
/// # Examples
///
/// ```
/// use sockwright::activation::Select;
///
/// assert_eq!(Select::from(0), Select::Position(0));
/// assert_eq!(Select::from("web"), Select::Name("web"));
/// assert_eq!(Select::from("web").to_string(), "inherited socket named \"web\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Select<'a> {
    /// The descriptor at this position: `LISTEN_FDS_START + position`.
    Position(usize),
    /// The first descriptor not yet adopted that `LISTEN_FDNAMES` gives this name.
    Name(&'a str),
}

impl From<usize> for Select<'_> {
    fn from(position: usize) -> Self {
        Select::Position(position)
    }
}

impl<'a> From<&'a str> for Select<'a> {
    fn from(name: &'a str) -> Self {
        Select::Name(name)
    }
}

impl fmt::Display for Select<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Select::Position(i) => write!(f, "inherited socket at position {i}"),
            Select::Name(name) => write!(
                f,
                "inherited socket named {}",
                crate::bounded::shown::Quoted::new(name)
            ),
        }
    }
}

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

/// Adopts descriptor `fd` as a TCP listener, after checking that it is a
/// listening IPv4 or IPv6 stream socket, and sets it close-on-exec.
///
/// This is for a descriptor the process inherited, whose number its user
/// names (`fd:N`, or a launcher's convention). The descriptor is handed
/// over: on success the returned listener owns it and closes it when
/// dropped. A number can be adopted once per process, as an inherited
/// descriptor is inherited once: asking again, even after the adopted
/// value was dropped and the number reused, is an error. On failure the
/// descriptor is left open and unchanged.
///
/// # Safety
///
/// If `fd` is an open socket of the kind asked for, the caller must own it
/// and give it up: once this returns `Ok`, nothing else may use or close
/// `fd`, neither a value that holds it (a `File`, a socket, an `OwnedFd`)
/// nor another library that adopted it. The checks see what a descriptor
/// is, not who owns it; the one misuse they catch is a number that
/// sockwright adopted before. Two owners of one descriptor break I/O
/// safety, as for [`FromRawFd::from_raw_fd`](std::os::unix::io::FromRawFd::from_raw_fd):
/// when one closes it, the other goes on using a number that the OS may
/// already have given to a file opened since.
///
/// A descriptor that the process was started with, that its user names by
/// number and that the program adopts nowhere else meets this.
///
/// # Errors
///
/// [`Error::Adopt`] naming `fd` and what it is: not open, not a socket
/// (such as a regular file), a socket of another type or family, a socket
/// that does not listen (such as a connected one), or adopted before;
/// [`Error::Unsupported`] on Windows.
///
/// # Examples
///
/// ```
/// use std::os::unix::io::{AsRawFd, IntoRawFd};
/// use sockwright::{activation, ListenerBuilder};
///
/// // A listening socket at a number with no owner, as a parent process passes it.
/// let fd = ListenerBuilder::new().listen("127.0.0.1:0")?.into_raw_fd();
/// // SAFETY: `into_raw_fd` gave up the only owner of `fd`.
/// let listener = unsafe { activation::tcp_listener(fd)? };
/// println!("adopted {}", listener.local_addr()?);
///
/// let udp = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// // SAFETY: a UDP socket is not what is asked for: it is only inspected.
/// let err = unsafe { activation::tcp_listener(udp.as_raw_fd()) }.unwrap_err();
/// assert!(err.to_string().ends_with(
///     "it is an IPv4 datagram socket; a listening TCP socket was asked for"
/// ), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
#[allow(unsafe_code)]
pub unsafe fn tcp_listener(fd: i32) -> Result<TcpListener> {
    // SAFETY: the caller's promise, passed on.
    unsafe { adopt(fd, None, Want::TcpListener) }.map(|(owned, _)| owned.into())
}

/// Adopts descriptor `fd` as a UDP socket, after checking that it is an
/// IPv4 or IPv6 datagram socket; as [`tcp_listener`] describes.
///
/// # Errors
///
/// As for [`tcp_listener`], for a UDP socket.
///
/// # Safety
///
/// As for [`tcp_listener`], for a UDP socket.
///
/// # Examples
///
/// ```
/// // SAFETY: -1 is never an open descriptor.
/// assert!(unsafe { sockwright::activation::udp_socket(-1) }.is_err());
/// ```
#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
#[allow(unsafe_code)]
pub unsafe fn udp_socket(fd: i32) -> Result<UdpSocket> {
    // SAFETY: the caller's promise, passed on.
    unsafe { adopt(fd, None, Want::Udp) }.map(|(owned, _)| owned.into())
}

/// Adopts descriptor `fd` as a Unix-domain listener, after checking that it
/// is a listening Unix stream or seqpacket socket; as [`tcp_listener`]
/// describes.
///
/// # Errors
///
/// As for [`tcp_listener`], for a Unix listener.
///
/// # Safety
///
/// As for [`tcp_listener`], for a Unix listener.
///
/// # Examples
///
/// ```
/// // SAFETY: -1 is never an open descriptor.
/// assert!(unsafe { sockwright::activation::unix_listener(-1) }.is_err());
/// ```
#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
#[allow(unsafe_code)]
pub unsafe fn unix_listener(fd: i32) -> Result<UnixListener> {
    // SAFETY: the caller's promise, passed on.
    unsafe { adopt(fd, None, Want::UnixListener) }.map(|(owned, _)| owned.into())
}

/// Adopts descriptor `fd` as a Unix-domain datagram socket; as
/// [`tcp_listener`] describes.
///
/// # Errors
///
/// As for [`tcp_listener`], for a Unix datagram socket.
///
/// # Safety
///
/// As for [`tcp_listener`], for a Unix datagram socket.
///
/// # Examples
///
/// ```
/// // SAFETY: -1 is never an open descriptor.
/// assert!(unsafe { sockwright::activation::unix_datagram(-1) }.is_err());
/// ```
#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
#[allow(unsafe_code)]
pub unsafe fn unix_datagram(fd: i32) -> Result<UnixDatagram> {
    // SAFETY: the caller's promise, passed on.
    unsafe { adopt(fd, None, Want::UnixDatagram) }.map(|(owned, _)| owned.into())
}

/// Adopts descriptor `fd` as whichever listener it is, TCP or Unix; as
/// [`tcp_listener`] describes.
///
/// # Errors
///
/// As for [`tcp_listener`], for a listening TCP or Unix socket.
///
/// # Safety
///
/// As for [`tcp_listener`], for a listening TCP or Unix socket.
///
/// # Examples
///
/// ```
/// // SAFETY: -1 is never an open descriptor.
/// assert!(unsafe { sockwright::activation::listener(-1) }.is_err());
/// ```
#[allow(unsafe_code)]
pub unsafe fn listener(fd: i32) -> Result<Listener> {
    // SAFETY: the caller's promise, passed on.
    unsafe { adopt_listener(fd, None) }
}

/// [`adopt`] as whichever listener `fd` is.
///
/// # Safety
///
/// As for [`tcp_listener`].
#[cfg(unix)]
#[allow(unsafe_code)]
unsafe fn adopt_listener(fd: i32, name: Option<&str>) -> Result<Listener> {
    // adopt checked the family: an IP listener or a Unix one.
    // SAFETY: the caller's promise, passed on.
    let (owned, family) = unsafe { adopt(fd, name, Want::AnyListener) }?;
    Ok(if family == crate::sys::AF_UNIX {
        Listener::Unix(owned.into())
    } else {
        Listener::Tcp(owned.into())
    })
}

#[cfg(not(unix))]
#[allow(unsafe_code)]
unsafe fn adopt_listener(_fd: i32, _name: Option<&str>) -> Result<Listener> {
    Err(Error::Unsupported {
        what: "adopting a socket by descriptor number",
    })
}

/// The kind of socket a caller asked for.
#[cfg(unix)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    TcpListener,
    Udp,
    UnixListener,
    UnixDatagram,
    AnyListener,
}

#[cfg(unix)]
impl Want {
    fn describe(self) -> &'static str {
        match self {
            Want::TcpListener => "a listening TCP socket",
            Want::Udp => "a UDP socket",
            Want::UnixListener => "a listening Unix-domain socket",
            Want::UnixDatagram => "a Unix-domain datagram socket",
            Want::AnyListener => "a listening TCP or Unix-domain socket",
        }
    }

    fn fits(self, ty: i32, family: i32, listening: bool) -> bool {
        use crate::sys::{AF_INET, AF_INET6, AF_UNIX, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM};
        let inet = family == AF_INET || family == AF_INET6;
        let unix = family == AF_UNIX;
        let unix_stream = unix && (ty == SOCK_STREAM || ty == SOCK_SEQPACKET);
        match self {
            Want::TcpListener => inet && ty == SOCK_STREAM && listening,
            Want::Udp => inet && ty == SOCK_DGRAM,
            Want::UnixListener => unix_stream && listening,
            Want::UnixDatagram => unix && ty == SOCK_DGRAM,
            Want::AnyListener => ((inet && ty == SOCK_STREAM) || unix_stream) && listening,
        }
    }
}

/// A socket as a person describes it: `a listening IPv4 stream socket`.
#[cfg(unix)]
fn describe_socket(ty: i32, family: i32, listening: bool) -> String {
    use crate::sys::{AF_INET, AF_INET6, AF_UNIX, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM};
    let family = match family {
        f if f == AF_INET => "IPv4".to_owned(),
        f if f == AF_INET6 => "IPv6".to_owned(),
        f if f == AF_UNIX => "Unix-domain".to_owned(),
        f => format!("family {f}"),
    };
    let ty = match ty {
        t if t == SOCK_STREAM => "stream".to_owned(),
        t if t == SOCK_DGRAM => "datagram".to_owned(),
        t if t == SOCK_SEQPACKET => "seqpacket".to_owned(),
        t => format!("type {t}"),
    };
    let state = match (listening, ty.as_str()) {
        (true, _) => "a listening ",
        (false, "stream" | "seqpacket") => "a non-listening ",
        // "an IPv4", "a Unix-domain".
        (false, _) if family.starts_with('I') => "an ",
        (false, _) => "a ",
    };
    format!("{state}{family} {ty} socket")
}

/// Numbers this process has adopted: each is adopted at most once, so no
/// two std values ever own the same descriptor.
#[cfg(unix)]
static CLAIMED: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

#[cfg(unix)]
fn claimed(fd: i32) -> bool {
    CLAIMED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .contains(&fd)
}

#[cfg(not(unix))]
fn claimed(_fd: i32) -> bool {
    false
}

/// Checks `fd` against `want`, then takes it: claimed, close-on-exec, owned.
/// Returns the descriptor, owned, and its family.
///
/// # Safety
///
/// As for [`tcp_listener`].
#[cfg(unix)]
#[allow(unsafe_code)]
unsafe fn adopt(
    fd: i32,
    name: Option<&str>,
    want: Want,
) -> Result<(std::os::unix::io::OwnedFd, i32)> {
    let fail = |reason: String, source: Option<std::io::Error>| Error::Adopt {
        fd,
        name: name.map(str::to_owned),
        reason,
        error: source,
    };
    let facts = crate::sys::fd_facts(fd).map_err(|e| {
        if e.raw_os_error() == Some(libc::EBADF) {
            fail("not an open file descriptor".to_owned(), Some(e))
        } else {
            fail(format!("cannot inspect it: {e}"), Some(e))
        }
    })?;
    let (shown, family) = match facts {
        crate::sys::FdFacts::Other(what) => {
            return Err(fail(
                format!(
                    "it is {what}, not a socket; {} was asked for",
                    want.describe()
                ),
                None,
            ))
        }
        crate::sys::FdFacts::Socket {
            ty,
            family,
            listening,
        } => {
            let shown = describe_socket(ty, family, listening);
            if !want.fits(ty, family, listening) {
                return Err(fail(
                    format!("it is {shown}; {} was asked for", want.describe()),
                    None,
                ));
            }
            (shown, family)
        }
    };
    {
        let mut claimed = CLAIMED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if claimed.contains(&fd) {
            return Err(fail(
                "it was adopted before: a descriptor is adopted once".to_owned(),
                None,
            ));
        }
        claimed.push(fd);
    }
    // SAFETY: `fd` is a socket of the kind asked for, claimed just now;
    // the caller promised that nothing else owns it.
    match unsafe { crate::sys::adopt_fd(fd) } {
        Ok(owned) => {
            log::debug!(target: "sockwright::listener", "adopted fd {fd}{}: {shown}", NameSuffix(name));
            Ok((owned, family))
        }
        Err(e) => {
            CLAIMED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .retain(|&c| c != fd);
            Err(fail(
                format!("set close-on-exec (FD_CLOEXEC): {e}"),
                Some(e),
            ))
        }
    }
}

/// ` (named web)` after a descriptor number, or nothing.
pub(crate) struct NameSuffix<'a>(pub(crate) Option<&'a str>);

impl fmt::Display for NameSuffix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(name) => write!(f, " (named {})", crate::bounded::shown::Quoted::new(name)),
            None => Ok(()),
        }
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

    #[cfg(unix)]
    #[test]
    fn sockets_are_described_as_a_person_would() {
        use crate::sys::*;
        assert_eq!(
            describe_socket(SOCK_STREAM, AF_INET, true),
            "a listening IPv4 stream socket"
        );
        assert_eq!(
            describe_socket(SOCK_STREAM, AF_INET6, false),
            "a non-listening IPv6 stream socket"
        );
        assert_eq!(
            describe_socket(SOCK_DGRAM, AF_INET, false),
            "an IPv4 datagram socket"
        );
        assert_eq!(
            describe_socket(SOCK_DGRAM, AF_UNIX, false),
            "a Unix-domain datagram socket"
        );
        assert_eq!(
            describe_socket(SOCK_DGRAM, 16, false),
            "a family 16 datagram socket"
        );
    }
}
