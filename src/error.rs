//! The crate's error type.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use crate::bounded::shown::{AllAddresses, Cut, List};
use crate::{Address, Domain, Protocol, Type};

/// A specialized [`Result`](std::result::Result) for sockwright operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while building, binding, listening, connecting
/// or exchanging greetings.
///
/// Each variant names the step that failed and the address it was working on.
/// The message ends with the operating system's reason, so the message alone
/// tells `bind 0.0.0.0:8080: address already in use (os error 98)` from
/// `connect 127.0.0.1:8080: connection refused (os error 111)`.
///
/// # The error chain
///
/// The message shows the cause whole: the [`io::Error`]'s text, then the
/// text of each error in its own [`source`](std::error::Error::source)
/// chain (an error that a [`configure`](crate::ListenerBuilder::configure)
/// hook or a [`Resolve`](crate::Resolve) wrapped), each after a `: `. So
/// `source()` returns `None`, and an error reporter that prints the whole
/// chain (anyhow's `{:#}` or `{:?}`, a `source()` loop) shows each fact
/// once. The [`io::Error`] itself stays in the variant's `error` field for
/// programs that match on it, and [`Error::io_error`] returns it from any
/// variant.
///
/// [`Error::kind`] gives the [`io::ErrorKind`], and `From<Error> for io::Error`
/// keeps it, so `?` works in functions returning `io::Result`; see that impl
/// for how to reach the OS error code from the converted error.
///
/// # Examples
///
/// ```
/// use std::io::ErrorKind;
/// use sockwright::{ListenerBuilder, Error};
///
/// let first = ListenerBuilder::new().listen("127.0.0.1:0")?;
/// let port = first.local_addr()?.port();
/// let err = ListenerBuilder::new().listen(("127.0.0.1", port)).unwrap_err();
/// assert!(matches!(err, Error::Bind { .. }));
/// assert_eq!(err.kind(), ErrorKind::AddrInUse);
/// assert!(err.to_string().starts_with(&format!("bind 127.0.0.1:{port}: ")));
/// // The OS reason ends the message, and is not repeated as a source.
/// assert!(std::error::Error::source(&err).is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration cannot work; found before any system call.
    ///
    /// Shown as `invalid configuration: REASON`.
    #[error("invalid configuration: {reason}")]
    #[non_exhaustive]
    InvalidConfig {
        /// What is wrong, in words.
        reason: String,
    },

    /// The configuration asks for something this platform does not have;
    /// found before any system call.
    ///
    /// Shown as `WHAT is not supported on this platform`.
    #[error("{what} is not supported on this platform")]
    #[non_exhaustive]
    Unsupported {
        /// The option or feature asked for.
        what: &'static str,
    },

    /// Name resolution failed or found no address, or the target cannot be
    /// an address at all (such as `127.0.0.1` with no port, reported as
    /// `missing port` before any system call).
    ///
    /// When a name is looked up one address family at a time and only one
    /// family fails, the connect goes on with the other; that family's
    /// error then appears only if no connection can be made, after the
    /// attempts of [`Error::AllAttemptsFailed`].
    ///
    /// Shown as `resolve TARGET: REASON`, or `resolve NAME (FAMILY): REASON`
    /// for one family's lookup.
    #[error("resolve {}{}: {}", Cut::new(.target), Family(*.family), Cause(.error))]
    #[non_exhaustive]
    Resolve {
        /// The target as a person writes it: `localhost:8080`,
        /// `no-such-host.invalid:80`, `[::1]:80`; for one family's lookup,
        /// the name alone.
        target: String,
        /// The address family whose lookup failed (IPv6 for the AAAA
        /// question, IPv4 for A), or `None` when the whole target failed.
        family: Option<Domain>,
        /// The resolver's error.
        error: io::Error,
    },

    /// `socket(2)` failed.
    ///
    /// Shown as `create DOMAIN TYPE socket (PROTOCOL) for ADDR: REASON`.
    #[error("create {domain} {socket_type} socket ({protocol}) for {addr}: {}", Cause(.error))]
    #[non_exhaustive]
    Create {
        /// The address the socket was for.
        addr: Address,
        /// The domain asked for.
        domain: Domain,
        /// The type asked for.
        socket_type: Type,
        /// The protocol asked for.
        protocol: Protocol,
        /// The OS error.
        error: io::Error,
    },

    /// `setsockopt(2)` failed for one option.
    ///
    /// Shown as `set OPTION on socket for ADDR: REASON`.
    #[error("set {option} on socket for {addr}: {}", Cause(.error))]
    #[non_exhaustive]
    SetOption {
        /// The address the socket was for.
        addr: Address,
        /// The option, by its C name (`SO_REUSEADDR`, `TCP_NODELAY`, ...).
        option: &'static str,
        /// The OS error.
        error: io::Error,
    },

    /// Reading what the kernel knows of a connected socket failed
    /// (`getsockopt(2)`, or `WSAIoctl` on Windows), in [`peer_cred`](crate::peer_cred)
    /// or [`tcp_info`](crate::tcp_info).
    ///
    /// Shown as `get OPTION of socket for ADDR: REASON`.
    #[error("get {option} of socket for {addr}: {}", Cause(.error))]
    #[non_exhaustive]
    GetOption {
        /// The socket's peer (for a Unix socket whose peer has no path,
        /// its own path).
        addr: Address,
        /// The option or call, by its C name (`SO_PEERCRED`, `TCP_INFO`,
        /// `SIO_TCP_INFO`, ...).
        option: &'static str,
        /// The OS error; [`io::ErrorKind::Unsupported`] when this system
        /// lacks the call.
        error: io::Error,
    },

    /// A [`configure`](crate::ListenerBuilder::configure) hook returned an
    /// error; the socket it was given is closed.
    ///
    /// Shown as `configure ADDR: REASON`.
    #[error("configure {addr}: {}", Cause(.error))]
    #[non_exhaustive]
    Configure {
        /// The address the socket was about to be bound or connected to.
        addr: Address,
        /// The hook's error.
        error: io::Error,
    },

    /// `bind(2)` failed.
    ///
    /// Shown as `bind ADDR: REASON`, with a hint for a link-local IPv6
    /// address that has no scope id.
    #[error("bind {addr}: {}{}", Cause(.error), ScopeHint(.addr))]
    #[non_exhaustive]
    Bind {
        /// The address being bound.
        addr: Address,
        /// The OS error.
        error: io::Error,
    },

    /// `listen(2)` failed.
    ///
    /// Shown as `listen on ADDR (backlog N): REASON`.
    #[error("listen on {addr} (backlog {backlog}): {}", Cause(.error))]
    #[non_exhaustive]
    Listen {
        /// The bound address.
        addr: Address,
        /// The backlog passed to `listen`.
        backlog: i32,
        /// The OS error.
        error: io::Error,
    },

    /// `connect(2)` failed or timed out.
    ///
    /// Shown as `connect ADDR: REASON`: `connect 127.0.0.1:80: timed out
    /// after 1s` when the connect timeout ran out, with a hint for a
    /// link-local IPv6 address that has no scope id.
    #[error("connect {addr}: {}{}", Cause(.error), ScopeHint(.addr))]
    #[non_exhaustive]
    Connect {
        /// The address being connected to.
        addr: Address,
        /// The OS error; [`io::ErrorKind::TimedOut`] when the connect timeout
        /// ran out, its message saying after how long.
        error: io::Error,
    },

    /// Handing a socket to an async runtime failed: no runtime is running
    /// on this thread, or its reactor would not take the socket (tokio's
    /// `from_std`, with the `tokio` feature).
    ///
    /// Shown as `register TARGET with the async runtime: REASON`.
    #[error("register {} with the async runtime: {}", Cut::new(.target), Cause(.error))]
    #[non_exhaustive]
    Register {
        /// What the socket is for: the address it is bound or connected
        /// to, or the target as given when no socket was made yet.
        target: String,
        /// Why it failed.
        error: io::Error,
    },

    /// A TCP connect ended connected to itself: its local address is the
    /// peer address. Nothing listened on the port, and the kernel completed
    /// a TCP simultaneous open of the socket with itself; such a stream
    /// echoes every write back to its reader. The socket is closed.
    ///
    /// With an ephemeral local port the connect is first made again on a
    /// fresh socket (twice at most), since the kernel picks another port;
    /// with a fixed one ([`local_address`](crate::ConnectorBuilder::local_address)
    /// with a port) it fails at once. Its [`kind`](Error::kind) is
    /// [`ConnectionRefused`](io::ErrorKind::ConnectionRefused), what the
    /// connect would have met had the socket not been its own peer.
    ///
    /// The local address is read back (`getsockname`) only where it can be
    /// the peer's: with a fixed local port, when it is the target's port;
    /// with an ephemeral one, when the target's port lies in the range the
    /// kernel picks ephemeral ports from. On Linux that range
    /// (`net.ipv4.ip_local_port_range`) is read once per process, so a
    /// connect to a server's usual port (80, 443, 5432, ...) makes no extra
    /// call; elsewhere every TCP connect is checked.
    ///
    /// Shown as `connect ADDR: connected to itself (nothing listens there)`.
    #[error("connect {addr}: connected to itself (nothing listens there)")]
    #[non_exhaustive]
    SelfConnect {
        /// The address being connected to, which is also the local address.
        addr: Address,
    },

    /// A name resolved to several addresses and each one failed; from
    /// [`connect_with_report`](crate::ConnectorBuilder::connect_with_report),
    /// also one address that failed, so that the error carries the report.
    ///
    /// [`Error::attempts`] returns each address's own error (each naming its
    /// step and address), in the order tried, followed by the
    /// [`Error::Resolve`] of an address family whose lookup failed, if one
    /// did. The message lists them, so
    /// [`source`](std::error::Error::source) returns `None` rather than any
    /// one of them.
    ///
    /// Shown as `TARGET: all N addresses failed: ERROR; ERROR`, or `TARGET:
    /// 1 address failed: ERROR; ERROR` when one address was tried and a
    /// family's lookup failed; N counts the addresses only. The
    /// message stays short whatever their number: past 8 errors it shows the
    /// first 6, `... and N more`, then the last 2 (so it still ends with the
    /// last reason), as in `all 5,000 addresses failed: ...`; every error
    /// is kept in [`Error::attempts`].
    #[error("{}: {}", Cut::new(.target), FailedAttempts(.attempts))]
    #[non_exhaustive]
    AllAttemptsFailed {
        /// The target as a person writes it.
        target: String,
        /// One error per address tried, in order.
        attempts: Vec<Error>,
        /// When each attempt started and ended (see [`Error::report`]): for
        /// a Happy Eyeballs race, and for every connect of
        /// [`connect_with_report`](crate::ConnectorBuilder::connect_with_report);
        /// `None` for addresses that `connect` tried one at a time.
        report: Option<Box<crate::ConnectReport>>,
    },

    /// `accept(2)` failed.
    ///
    /// Shown as `accept on ADDR: REASON`.
    #[error("accept on {addr}: {}", Cause(.error))]
    #[non_exhaustive]
    Accept {
        /// The listening address.
        addr: Address,
        /// The OS error.
        error: io::Error,
    },

    /// A file descriptor passed by a service manager or named by number
    /// cannot be used as the socket asked for; it was left open and unchanged.
    ///
    /// See [`activation`](crate::activation).
    ///
    /// Shown as `adopt fd FD[ (named "NAME")]: REASON`.
    #[error("adopt fd {fd}{}: {reason}", crate::activation::NameSuffix(.name.as_deref()))]
    #[non_exhaustive]
    Adopt {
        /// The descriptor number.
        fd: i32,
        /// Its name from `LISTEN_FDNAMES`, if it was selected by one.
        name: Option<String>,
        /// What it is and what was asked for, such as `it is a regular
        /// file, not a socket; a listening TCP socket was asked for`.
        reason: String,
        /// The OS error, when a system call failed (such as `EBADF` for a
        /// number that is not open).
        error: Option<io::Error>,
    },

    /// A notification to the service manager (`NOTIFY_SOCKET`) could not
    /// be sent.
    ///
    /// See [`activation::Notifier`](crate::activation::Notifier).
    ///
    /// Shown as `notify SOCKET of STATE: REASON`, such as `notify
    /// /run/systemd/notify of READY=1: Connection refused (os error 111)`.
    #[error("notify {socket} of {state}: {}", Cause(.error))]
    #[non_exhaustive]
    Notify {
        /// `NOTIFY_SOCKET` as it was set: a path or `@NAME`.
        socket: String,
        /// The state sent, its lines joined by spaces: `READY=1`,
        /// `FDSTORE=1 FDNAME=web`.
        state: String,
        /// The OS error.
        error: io::Error,
    },

    /// Handing listeners over to a successor failed; the listeners are
    /// still this process's, and it can keep serving.
    ///
    /// See `activation::Handover` (Unix).
    ///
    /// Shown as `hand listeners over to PROGRAM: REASON`, such as `hand
    /// listeners over to ./server: it exited (exit status: 1) before it
    /// said it was ready`.
    #[error("hand listeners over to {program}: {reason}")]
    #[non_exhaustive]
    Handover {
        /// The successor's program, as given.
        program: String,
        /// What went wrong, ending with the OS reason where there is one.
        reason: String,
        /// The OS error, when a system call failed.
        error: Option<io::Error>,
    },

    /// A step of a [`hello`](crate::hello) exchange failed.
    ///
    /// Shown as `STEP PEER: REASON`, such as `receive greeting from
    /// 127.0.0.1:5000: peer sent nothing within 5s`.
    #[cfg(feature = "hello")]
    #[cfg_attr(docsrs, doc(cfg(feature = "hello")))]
    #[error("{step} {peer}: {}", Cause(.error))]
    #[non_exhaustive]
    Exchange {
        /// What was being done.
        step: crate::hello::Step,
        /// The peer's address.
        peer: Address,
        /// The cause; [`io::ErrorKind::TimedOut`] when the peer was too slow
        /// to send (or [`io::ErrorKind::WouldBlock`] when a send timed out on
        /// Unix), [`io::ErrorKind::UnexpectedEof`] when it closed early,
        /// [`io::ErrorKind::InvalidData`] when it sent too much, and the OS
        /// error otherwise, such as [`io::ErrorKind::ConnectionReset`] when
        /// it reset the connection.
        error: io::Error,
    },
}

impl Error {
    /// The [`io::ErrorKind`] that best describes the failure.
    ///
    /// This is the kind of the OS error where there is one,
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) for an invalid configuration,
    /// [`Unsupported`](io::ErrorKind::Unsupported) for a missing platform
    /// feature, [`ConnectionRefused`](io::ErrorKind::ConnectionRefused) for a
    /// [self-connect](Error::SelfConnect), and the kind of the last attempt
    /// when every address failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use sockwright::ListenerBuilder;
    ///
    /// let err = ListenerBuilder::new().backlog(u32::MAX).listen("127.0.0.1:0").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// ```
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            Error::InvalidConfig { .. } => io::ErrorKind::InvalidInput,
            Error::Unsupported { .. } => io::ErrorKind::Unsupported,
            Error::SelfConnect { .. } => io::ErrorKind::ConnectionRefused,
            Error::Adopt { error: None, .. } => io::ErrorKind::InvalidInput,
            Error::Handover { error: None, .. } => io::ErrorKind::Other,
            _ => self
                .io_error()
                .map_or(io::ErrorKind::Other, io::Error::kind),
        }
    }

    /// The OS error code behind the failure, if there is one.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::ListenerBuilder;
    ///
    /// let err = ListenerBuilder::new().backlog(u32::MAX).listen("127.0.0.1:0").unwrap_err();
    /// assert_eq!(err.raw_os_error(), None);
    /// ```
    pub fn raw_os_error(&self) -> Option<i32> {
        self.io_error().and_then(io::Error::raw_os_error)
    }

    /// The underlying [`io::Error`], if the failure came from the OS or the
    /// peer; for [`Error::AllAttemptsFailed`], the last attempt's.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::ConnectorBuilder;
    ///
    /// let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// // Nothing listens there any more: the connect is refused.
    /// let err = ConnectorBuilder::new().connect(("127.0.0.1", port)).unwrap_err();
    /// assert!(err.io_error().is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            Error::InvalidConfig { .. } | Error::Unsupported { .. } | Error::SelfConnect { .. } => {
                None
            }
            Error::Adopt { error, .. } | Error::Handover { error, .. } => error.as_ref(),
            Error::AllAttemptsFailed { attempts, .. } => attempts
                .iter()
                .rev()
                .find(|e| !matches!(e, Error::Resolve { .. }))
                .or(attempts.last())
                .and_then(Error::io_error),
            Error::Resolve { error, .. }
            | Error::Create { error, .. }
            | Error::SetOption { error, .. }
            | Error::GetOption { error, .. }
            | Error::Configure { error, .. }
            | Error::Bind { error, .. }
            | Error::Listen { error, .. }
            | Error::Connect { error, .. }
            | Error::Register { error, .. }
            | Error::Accept { error, .. }
            | Error::Notify { error, .. } => Some(error),
            #[cfg(feature = "hello")]
            Error::Exchange { error, .. } => Some(error),
        }
    }

    /// Each address's error when a name resolved to several addresses and
    /// every one failed ([`Error::AllAttemptsFailed`]), in the order tried;
    /// empty for every other error.
    ///
    /// All of them, however many: the message shows at most 8, this list
    /// keeps the rest. Each one holds its address and an OS error code
    /// (no allocation), 64 bytes on a 64-bit target, so 5,000 attempts
    /// cost 320 KB for as long as the error lives.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::ConnectorBuilder;
    /// use std::net::SocketAddr;
    ///
    /// // Two ports nobody listens on any more, tried one after the other.
    /// let free = || -> std::io::Result<SocketAddr> {
    ///     std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
    /// };
    /// let targets = [free()?, free()?];
    /// let err = ConnectorBuilder::new().connect(&targets[..]).unwrap_err();
    /// assert_eq!(err.attempts().len(), 2);
    /// for attempt in err.attempts() {
    ///     assert_eq!(attempt.kind(), std::io::ErrorKind::ConnectionRefused);
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn attempts(&self) -> &[Error] {
        match self {
            Error::AllAttemptsFailed { attempts, .. } => attempts,
            _ => &[],
        }
    }

    /// What a failed Happy Eyeballs race did and when: each lookup, each
    /// attempt with its start, end and outcome, and the total (see
    /// [`ConnectReport`](crate::ConnectReport)). `Some` for an
    /// [`Error::AllAttemptsFailed`] of a race or of
    /// [`connect_with_report`](crate::ConnectorBuilder::connect_with_report),
    /// whose attempts appear there in the same order as in
    /// [`Error::attempts`]; `None` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::ConnectorBuilder;
    /// use std::net::SocketAddr;
    ///
    /// let free = || -> std::io::Result<SocketAddr> {
    ///     std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
    /// };
    /// let targets = [free()?, free()?];
    /// let err = ConnectorBuilder::new().connect(&targets[..]).unwrap_err();
    /// let report = err.report().expect("two addresses race");
    /// assert_eq!(report.attempts().len(), 2);
    /// for attempt in report.attempts() {
    ///     assert!(attempt.ended().is_some() && attempt.error().is_some());
    /// }
    /// println!("{report}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn report(&self) -> Option<&crate::ConnectReport> {
        match self {
            Error::AllAttemptsFailed { report, .. } => report.as_deref(),
            _ => None,
        }
    }

    /// [`Error::Resolve`] for a whole target.
    pub(crate) fn resolve(target: impl Into<String>, error: io::Error) -> Error {
        Error::Resolve {
            target: target.into(),
            family: None,
            error,
        }
    }

    /// [`Error::Resolve`] for a target that resolved to nothing.
    pub(crate) fn no_addresses(target: impl Into<String>) -> Error {
        Error::resolve(
            target,
            io::Error::new(io::ErrorKind::NotFound, "no addresses found"),
        )
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Error {
        Error::InvalidConfig {
            reason: reason.into(),
        }
    }
}

/// Converts to an [`io::Error`] of the same [`kind`](Error::kind) whose
/// message is this error's message, with this error as its payload.
///
/// An [`io::Error`] holds either an OS error code or a payload, never both,
/// so the converted error's own [`raw_os_error`](io::Error::raw_os_error) is
/// `None`. The code is one step away: [`io::Error::get_ref`] (or
/// [`into_inner`](io::Error::into_inner)) returns this error, whose
/// [`Error::raw_os_error`] has it. The step and address are kept that way
/// too, where an `io::Error` built from the code alone would lose them.
///
/// # Examples
///
/// ```
/// use std::io;
///
/// let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let err = sockwright::ListenerBuilder::new()
///     .listen(taken.local_addr()?)
///     .unwrap_err();
/// let code = err.raw_os_error();
/// let io: io::Error = err.into();
/// assert_eq!(io.kind(), io::ErrorKind::AddrInUse);
/// let inner = io.get_ref().and_then(|e| e.downcast_ref::<sockwright::Error>());
/// assert_eq!(inner.and_then(sockwright::Error::raw_os_error), code);
/// assert!(code.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        io::Error::new(err.kind(), err)
    }
}

/// After the OS reason for a link-local IPv6 address without a scope id
/// (`[fe80::1]:80`), which the OS cannot route: a hint saying how to write
/// one. Empty for any other address.
struct ScopeHint<'a>(&'a Address);

impl fmt::Display for ScopeHint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Address::Inet(SocketAddr::V6(v6))
                if v6.scope_id() == 0 && (v6.ip().segments()[0] & 0xffc0) == 0xfe80 =>
            {
                write!(
                    f,
                    " (missing scope id: write [{}%INTERFACE]:{})",
                    v6.ip(),
                    v6.port()
                )
            }
            _ => Ok(()),
        }
    }
}

/// Shows an OS error the way the rest of the message reads: lowercase first
/// letter, unless the first word is an acronym (`OS Error 10042` stays as it
/// is); then each error of its own `source()` chain after a `: `, so the
/// message holds every fact and the error needs no source of its own.
pub(crate) struct Cause<'a>(pub(crate) &'a io::Error);

impl fmt::Display for Cause<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string();
        let mut chars = text.chars();
        let acronym = text.chars().nth(1).is_some_and(char::is_uppercase);
        match chars.next() {
            Some(first) if !acronym => {
                for lower in first.to_lowercase() {
                    f.write_fmt(format_args!("{lower}"))?;
                }
                f.write_str(chars.as_str())?;
            }
            _ => f.write_str(&text)?,
        }
        let mut next = std::error::Error::source(self.0);
        while let Some(cause) = next {
            write!(f, ": {cause}")?;
            next = cause.source();
        }
        Ok(())
    }
}

/// ` (IPv6)` after the name of one family's failed lookup; nothing for a
/// whole target.
struct Family(Option<Domain>);

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(family) => write!(f, " ({family})"),
            None => Ok(()),
        }
    }
}

/// The attempts of [`Error::AllAttemptsFailed`]: how many addresses failed,
/// then each error, as `all 2 addresses failed: a: why; b: why`.
struct FailedAttempts<'a>(&'a [Error]);

impl fmt::Display for FailedAttempts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A failed family's lookup is listed but is not an address.
        let tried = self
            .0
            .iter()
            .filter(|e| !matches!(e, Error::Resolve { .. }))
            .count();
        write!(f, "{} failed: ", AllAddresses(tried))?;
        List(self.0, "; ").fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_step_address_and_lowercase_reason() {
        let err = Error::Bind {
            addr: Address::Inet("0.0.0.0:8080".parse().unwrap()),
            error: io::Error::new(io::ErrorKind::AddrInUse, "Address already in use"),
        };
        assert_eq!(err.to_string(), "bind 0.0.0.0:8080: address already in use");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        let io: io::Error = err.into();
        assert_eq!(io.kind(), io::ErrorKind::AddrInUse);
        assert!(io.to_string().starts_with("bind 0.0.0.0:8080"));
    }

    #[test]
    fn cause_lowercases_a_word_but_not_an_acronym() {
        let shown = |text: &str| Cause(&io::Error::other(text)).to_string();
        assert_eq!(shown("Connection refused"), "connection refused");
        assert_eq!(
            shown("OS Error 10042 (FormatMessageW() returned error 317)"),
            "OS Error 10042 (FormatMessageW() returned error 317)"
        );
        assert_eq!(shown("A"), "a");
        assert_eq!(shown(""), "");
    }

    #[test]
    fn all_attempts_lists_each_in_order() {
        let one = |a: &str, kind| Error::Connect {
            addr: Address::Inet(a.parse().unwrap()),
            error: io::Error::from(kind),
        };
        let err = Error::AllAttemptsFailed {
            target: "localhost:1".into(),
            attempts: vec![
                one("[::1]:1", io::ErrorKind::ConnectionRefused),
                one("127.0.0.1:1", io::ErrorKind::TimedOut),
            ],
            report: None,
        };
        let text = err.to_string();
        let v6 = text.find("connect [::1]:1: connection refused").unwrap();
        let v4 = text.find("connect 127.0.0.1:1: timed out").unwrap();
        assert!(text.starts_with("localhost:1: all 2 addresses failed: "));
        assert!(v6 < v4);
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    /// An error with a source of its own, as a custom `io::Error` payload
    /// may have: the chain must reach `inner` once.
    #[derive(Debug)]
    struct Outer(io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("outer layer")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    fn os(code: i32) -> io::Error {
        io::Error::from_raw_os_error(code)
    }

    fn inet(text: &str) -> Address {
        Address::Inet(text.parse().unwrap())
    }

    /// A custom `io::Error` whose payload has a source of its own, OS error
    /// `code`: its chain shows "outer layer" and then that error.
    fn layered(code: i32) -> io::Error {
        io::Error::other(Outer(os(code)))
    }

    /// The OS reason of error `code` as a message ends with it.
    fn reason(code: i32) -> String {
        Cause(&os(code)).to_string()
    }

    /// One row of [`every_variant`]: an error and the facts its chain must
    /// show exactly once.
    fn row(err: Error, facts: &[&str]) -> (Error, Vec<String>) {
        (err, facts.iter().map(|&fact| fact.to_owned()).collect())
    }

    /// One error of each variant, with the facts its chain must show exactly
    /// once. `name` matches every variant without a wildcard, so a new
    /// variant does not compile until it is named there and added here.
    fn every_variant() -> Vec<(Error, Vec<String>)> {
        #[cfg_attr(not(feature = "hello"), allow(unused_mut))]
        let mut all = vec![
            row(
                Error::invalid("backlog 4294967295 does not fit an i32"),
                &["backlog 4294967295 does not fit an i32"],
            ),
            row(
                Error::Unsupported {
                    what: "keepalive retries",
                },
                &["keepalive retries"],
            ),
            row(
                Error::Resolve {
                    target: "no-such-host.invalid:80".into(),
                    family: None,
                    error: layered(2),
                },
                &["no-such-host.invalid:80", "outer layer", &reason(2)],
            ),
            row(
                Error::Create {
                    addr: inet("127.0.0.1:80"),
                    domain: Domain::Ipv4,
                    socket_type: Type::Stream,
                    protocol: Protocol::Tcp,
                    error: os(24),
                },
                &["127.0.0.1:80", &reason(24)],
            ),
            row(
                Error::SetOption {
                    addr: inet("127.0.0.1:80"),
                    option: "SO_RCVBUF",
                    error: os(22),
                },
                &["SO_RCVBUF", "127.0.0.1:80", &reason(22)],
            ),
            row(
                Error::GetOption {
                    addr: inet("127.0.0.1:80"),
                    option: "TCP_INFO",
                    error: os(95),
                },
                &["get TCP_INFO", "127.0.0.1:80", &reason(95)],
            ),
            row(
                Error::Configure {
                    addr: inet("127.0.0.1:80"),
                    error: layered(13),
                },
                &["configure 127.0.0.1:80", "outer layer", &reason(13)],
            ),
            row(
                Error::Bind {
                    addr: inet("0.0.0.0:8080"),
                    error: os(98),
                },
                &["0.0.0.0:8080", &reason(98)],
            ),
            row(
                Error::Listen {
                    addr: inet("[::1]:8080"),
                    backlog: 3,
                    error: os(95),
                },
                &["[::1]:8080", &reason(95)],
            ),
            row(
                Error::Connect {
                    addr: inet("127.0.0.1:8080"),
                    error: os(111),
                },
                &["127.0.0.1:8080", &reason(111)],
            ),
            row(
                Error::Register {
                    target: "127.0.0.1:80".into(),
                    error: layered(12),
                },
                &[
                    "register 127.0.0.1:80 with the async runtime",
                    "outer layer",
                    &reason(12),
                ],
            ),
            row(
                Error::SelfConnect {
                    addr: inet("127.0.0.1:40000"),
                },
                &["127.0.0.1:40000"],
            ),
            row(
                Error::AllAttemptsFailed {
                    target: "localhost:8080".into(),
                    attempts: vec![
                        Error::Connect {
                            addr: inet("[::1]:8080"),
                            error: os(111),
                        },
                        Error::Connect {
                            addr: inet("127.0.0.1:8080"),
                            error: io::Error::new(io::ErrorKind::TimedOut, "timed out after 1s"),
                        },
                    ],
                    report: None,
                },
                &[
                    "localhost:8080",
                    "[::1]:8080",
                    "127.0.0.1:8080",
                    &reason(111),
                    "timed out after 1s",
                ],
            ),
            row(
                Error::Accept {
                    addr: inet("0.0.0.0:8080"),
                    error: os(24),
                },
                &["0.0.0.0:8080", &reason(24)],
            ),
            row(
                Error::Adopt {
                    fd: 7,
                    name: Some("web".into()),
                    reason: "not an open file descriptor".into(),
                    error: Some(os(9)),
                },
                &["adopt fd 7", "\"web\"", "not an open file descriptor"],
            ),
            row(
                Error::Notify {
                    socket: "@notify".into(),
                    state: "READY=1".into(),
                    error: os(111),
                },
                &["notify @notify of READY=1", "os error 111"],
            ),
            row(
                Error::Handover {
                    program: "./server".into(),
                    reason: format!("start it: {}", os(2)),
                    error: Some(os(2)),
                },
                &["hand listeners over to ./server: start it", "os error 2"],
            ),
        ];
        #[cfg(feature = "hello")]
        all.push(row(
            Error::Exchange {
                step: crate::hello::Step::ReceiveGreeting,
                peer: inet("127.0.0.1:5000"),
                error: io::Error::new(io::ErrorKind::TimedOut, "peer sent nothing within 5s"),
            },
            &[
                "receive greeting from",
                "127.0.0.1:5000",
                "peer sent nothing within 5s",
            ],
        ));
        let mut named: Vec<&str> = all.iter().map(|(e, _)| name(e)).collect();
        named.sort_unstable();
        named.dedup();
        assert_eq!(named.len(), all.len(), "one error of each variant");
        all
    }

    fn name(err: &Error) -> &'static str {
        match err {
            Error::InvalidConfig { .. } => "InvalidConfig",
            Error::Unsupported { .. } => "Unsupported",
            Error::Resolve { .. } => "Resolve",
            Error::Create { .. } => "Create",
            Error::SetOption { .. } => "SetOption",
            Error::GetOption { .. } => "GetOption",
            Error::Configure { .. } => "Configure",
            Error::Bind { .. } => "Bind",
            Error::Listen { .. } => "Listen",
            Error::Connect { .. } => "Connect",
            Error::Register { .. } => "Register",
            Error::SelfConnect { .. } => "SelfConnect",
            Error::AllAttemptsFailed { .. } => "AllAttemptsFailed",
            Error::Accept { .. } => "Accept",
            Error::Adopt { .. } => "Adopt",
            Error::Notify { .. } => "Notify",
            Error::Handover { .. } => "Handover",
            #[cfg(feature = "hello")]
            Error::Exchange { .. } => "Exchange",
        }
    }

    #[test]
    fn every_variant_shows_each_fact_once_through_a_chain_printer() {
        for (err, facts) in every_variant() {
            let variant = name(&err);
            let mut chain = vec![err.to_string()];
            let mut next = std::error::Error::source(&err);
            while let Some(cause) = next {
                chain.push(cause.to_string());
                next = cause.source();
            }
            let looped = chain.join("\n");
            println!("{variant}: source() loop: {chain:?}");
            let err = anyhow::Error::new(err);
            let alternate = format!("{err:#}");
            let debug = format!("{err:?}");
            println!("{variant}: anyhow {{:#}}: {alternate}");
            for (printer, text) in [
                ("source() loop", &looped),
                ("{:#}", &alternate),
                ("{:?}", &debug),
            ] {
                // Case aside: a cause shown in a message starts lowercase.
                let text = text.to_lowercase();
                for fact in &facts {
                    assert_eq!(
                        text.matches(fact.to_lowercase().as_str()).count(),
                        1,
                        "{variant} through {printer}: {fact:?} not exactly once in {text:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_message_holds_the_causes_chain_and_there_is_no_source() {
        let err = Error::Bind {
            addr: inet("127.0.0.1:1"),
            error: os(98),
        };
        assert!(std::error::Error::source(&err).is_none());
        let err = Error::Resolve {
            target: "x:1".into(),
            family: None,
            error: layered(2),
        };
        assert!(std::error::Error::source(&err).is_none());
        assert_eq!(
            err.to_string(),
            format!("resolve x:1: outer layer: {}", os(2))
        );
    }

    #[test]
    fn all_attempts_are_reachable_and_not_a_source() {
        let (err, _) = every_variant()
            .into_iter()
            .find(|(e, _)| matches!(e, Error::AllAttemptsFailed { .. }))
            .unwrap();
        assert_eq!(err.attempts().len(), 2);
        assert_eq!(err.attempts()[0].raw_os_error(), Some(111));
        assert!(std::error::Error::source(&err).is_none());
        assert!(Error::invalid("x").attempts().is_empty());
    }

    #[test]
    fn io_error_keeps_the_kind_and_reaches_the_os_code() {
        #[cfg(unix)]
        const REFUSED: i32 = libc::ECONNREFUSED;
        #[cfg(windows)]
        const REFUSED: i32 = windows_sys::Win32::Networking::WinSock::WSAECONNREFUSED;
        let err = Error::Connect {
            addr: inet("127.0.0.1:1"),
            error: os(REFUSED),
        };
        let text = err.to_string();
        let io = io::Error::from(err);
        assert_eq!(io.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(io.to_string(), text);
        let inner = io
            .get_ref()
            .and_then(|e| e.downcast_ref::<Error>())
            .unwrap();
        assert_eq!(inner.raw_os_error(), Some(REFUSED));
        // std's chain from the io::Error: its payload's source, none here.
        assert!(std::error::Error::source(&io).is_none());
        let back = io.into_inner().unwrap().downcast::<Error>().unwrap();
        assert!(matches!(*back, Error::Connect { .. }));
    }

    #[test]
    fn link_local_without_scope_gets_a_hint() {
        let err = Error::Bind {
            addr: inet("[fe80::1]:80"),
            error: os(22),
        };
        assert_eq!(
            err.to_string(),
            format!(
                "bind [fe80::1]:80: {} (missing scope id: write [fe80::1%INTERFACE]:80)",
                Cause(&os(22))
            )
        );
        for fine in ["[fe80::1%2]:80", "[::1]:80", "[fec0::1]:80", "127.0.0.1:80"] {
            let err = Error::Connect {
                addr: inet(fine),
                error: os(22),
            };
            assert!(!err.to_string().contains("scope"), "{err}");
        }
    }

    #[test]
    fn errors_are_send_sync_static() {
        fn check<T: std::error::Error + Send + Sync + 'static>() {}
        check::<Error>();
    }

    #[test]
    fn an_attempt_costs_what_the_attempts_docs_say() {
        // `Error::attempts` documents 64 bytes per attempt: one `Error`
        // with an inline address and an OS error code.
        let size = std::mem::size_of::<Error>();
        eprintln!("an Error is {size} bytes");
        assert!(size <= 64, "an Error is {size} bytes");
    }

    #[test]
    fn a_failed_family_is_named_listed_last_and_not_counted_as_an_address() {
        let family = Error::Resolve {
            target: "db.internal".into(),
            family: Some(Domain::Ipv6),
            error: io::Error::other("No address associated with hostname"),
        };
        assert_eq!(
            family.to_string(),
            "resolve db.internal (IPv6): no address associated with hostname"
        );
        let err = Error::AllAttemptsFailed {
            target: "db.internal:5432".into(),
            attempts: vec![
                Error::Connect {
                    addr: inet("127.0.0.1:5432"),
                    error: io::ErrorKind::ConnectionRefused.into(),
                },
                family,
            ],
            report: None,
        };
        assert_eq!(
            err.to_string(),
            "db.internal:5432: 1 address failed: connect 127.0.0.1:5432: connection refused; \
             resolve db.internal (IPv6): no address associated with hostname"
        );
        // The kind is the connect's, not the resolver's.
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    }
}
