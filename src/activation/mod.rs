//! Sockets that another process opened: socket activation and descriptors
//! named by number.
//!
//! A service manager such as systemd (or `systemd-socket-activate`,
//! `systemfd` during development) binds and listens the sockets itself and
//! starts the server with them open from descriptor 3 on, described by
//! environment variables, read here as `sd_listen_fds(3)` reads them:
//!
//! - `LISTEN_PID`: the process the sockets are for. When it names another
//!   process (a child that inherited its parent's environment), nothing was
//!   passed to this one, and the variables are left alone. Unset, with
//!   `LISTEN_FDS` set, is accepted: the form `systemfd --no-pid` passes
//!   (cargo-watch and watchexec reloads);
//! - `LISTEN_FDS`: how many there are, at descriptors `3`, `4`, ...;
//! - `LISTEN_FDNAMES` (optional): their names, separated by `:`, one per
//!   descriptor (`FileDescriptorName=` in a socket unit, `--fdname` of
//!   `systemd-socket-activate`), each at most 255 bytes of printable ASCII,
//!   no `:`;
//! - `LISTEN_FDS_FIRST_FD` (optional, the systemfd and listenfd convention):
//!   the first descriptor, instead of 3;
//! - `LISTEN_PIDFDID` (optional, systemd 258 and later): the inode number
//!   of a pidfd for the process the sockets are for, which closes the race
//!   of a reused process ID; where the platform can check it (Linux 6.9 and
//!   later) and it is not this process's, nothing was passed.
//!
//! [`ListenFds`] reads them, makes every passed descriptor close-on-exec (as
//! `sd_listen_fds` does: a child the server starts does not keep a port
//! bound), and hands out each socket once, by position, by name or all at
//! once ([`ListenFds::listeners`], the `sd-listen:*` endpoint);
//! [`tcp_listener`], [`unix_listener`], [`udp_socket`], [`unix_datagram`] and
//! [`listener`] adopt a descriptor whose number the user names (the `fd:N`
//! [`Endpoint`](crate::Endpoint)).
//!
//! The other direction, from the server: [`Notifier`] tells the service
//! manager that the server is ready (`READY=1`, which a `Type=notify` unit
//! waits for), reloading, stopping, alive, and stores listeners in its fd
//! store (`FDSTORE=1`), which keeps them across a `systemctl restart`; and
//! [`Handover`] starts a successor (a new binary, or this one again) with the
//! listeners, waits for its `READY=1`, and leaves the old process to finish
//! its clients and exit: a restart or upgrade that refuses no connection.
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
//! [`Error::Adopt`](crate::Error::Adopt) naming its number and what it is; it is left open and
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
//! A restart by handover, in the old process, once the listener is up and
//! the server serves it (see [`Handover`] for the steps around it):
//!
//! ```no_run
//! # #[cfg(unix)] {
//! use sockwright::activation::Handover;
//! use sockwright::ListenerBuilder;
//!
//! let listener = ListenerBuilder::new().listen("127.0.0.1:8080")?;
//! let successor = Handover::restart()?.listener("web", &listener).start()?;
//! println!("new pid {}: stop accepting, finish the clients, exit", successor.pid());
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! and in the new one (the same program), before accepting:
//!
//! ```
//! # #[cfg(unix)] {
//! use sockwright::activation::{notify_ready, ListenFds};
//! use sockwright::ListenerBuilder;
//!
//! let fds = ListenFds::from_env()?;
//! let listener = match fds.tcp_listener("web") {
//!     Ok(listener) => listener,                                  // handed over
//!     Err(_) => ListenerBuilder::new().listen("127.0.0.1:0")?, // first start
//! };
//! notify_ready()?; // the old process, or systemd, waits for this
//! # drop(listener);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Platform-specific behavior
//!
//! Unix only. On Windows, [`ListenFds::from_env`], [`Notifier::from_env`]
//! and every adopting call return [`Error::Unsupported`](crate::Error::Unsupported), and `Handover` is
//! absent: Windows passes sockets between processes with
//! `WSADuplicateSocket`, not by number. macOS's launchd passes sockets
//! through `launch_activate_socket(3)`, not these variables; it is not
//! supported here (a launchd job can still name a descriptor with `fd:N`).

use std::fmt;

mod adopt;
mod env;
#[cfg(unix)]
mod handover;
mod notify;

use adopt::claimed;
pub use adopt::listener;
#[cfg(unix)]
pub use adopt::{tcp_listener, udp_socket, unix_datagram, unix_listener};
pub use env::ListenFds;
#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
pub use handover::{DEFAULT_HANDOVER_TIMEOUT, Handover, Successor};
pub use notify::{Notifier, notify_ready};

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

/// Which inherited socket to take: by position (`0` is the first, descriptor
/// 3 unless `LISTEN_FDS_FIRST_FD` says otherwise) or by
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
    /// The descriptor at this position: the first passed (3, or
    /// `LISTEN_FDS_FIRST_FD`) plus `position`.
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
