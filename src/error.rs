//! The crate's error type.

use std::fmt;
use std::io;

use crate::{Address, Domain, Protocol, Type};

/// A specialized [`Result`](std::result::Result) for sockwright operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while building, binding, listening, connecting
/// or exchanging greetings.
///
/// Each variant names the step that failed and the address it was working on.
/// The message ends with the operating system's reason, so the message alone
/// tells `bind 0.0.0.0:8080: address already in use (os error 98)` from
/// `connect 127.0.0.1:8080: connection refused (os error 111)`. The
/// underlying [`io::Error`] is also kept as the [`source`](std::error::Error::source),
/// for programs that match on it; error reporters that print the whole chain
/// will therefore show the reason twice, so print the message alone.
///
/// [`Error::kind`] gives the [`io::ErrorKind`], and `From<Error> for io::Error`
/// keeps it, so `?` works in functions returning `io::Result`.
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
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration cannot work; found before any system call.
    #[error("invalid configuration: {reason}")]
    #[non_exhaustive]
    InvalidConfig {
        /// What is wrong, in words.
        reason: String,
    },

    /// The configuration asks for something this platform does not have;
    /// found before any system call.
    #[error("{what} is not supported on this platform")]
    #[non_exhaustive]
    Unsupported {
        /// The option or feature asked for.
        what: &'static str,
    },

    /// Name resolution failed or found no address.
    #[error("resolve {target}: {}", Cause(source))]
    #[non_exhaustive]
    Resolve {
        /// The name that was resolved, as given.
        target: String,
        /// The resolver's error.
        source: io::Error,
    },

    /// `socket(2)` failed.
    #[error(
        "create {domain} {socket_type} socket ({protocol}) for {addr}: {}",
        Cause(source)
    )]
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
        source: io::Error,
    },

    /// `setsockopt(2)` failed for one option.
    #[error("set {option} on socket for {addr}: {}", Cause(source))]
    #[non_exhaustive]
    SetOption {
        /// The address the socket was for.
        addr: Address,
        /// The option, by its C name (`SO_REUSEADDR`, `TCP_NODELAY`, ...).
        option: &'static str,
        /// The OS error.
        source: io::Error,
    },

    /// A [`configure`](crate::ListenerBuilder::configure) hook returned an
    /// error; the socket it was given is closed.
    #[error("configure {addr}: {}", Cause(source))]
    #[non_exhaustive]
    Configure {
        /// The address the socket was about to be bound or connected to.
        addr: Address,
        /// The hook's error.
        source: io::Error,
    },

    /// `bind(2)` failed.
    #[error("bind {addr}: {}", Cause(source))]
    #[non_exhaustive]
    Bind {
        /// The address being bound.
        addr: Address,
        /// The OS error.
        source: io::Error,
    },

    /// `listen(2)` failed.
    #[error("listen on {addr} (backlog {backlog}): {}", Cause(source))]
    #[non_exhaustive]
    Listen {
        /// The bound address.
        addr: Address,
        /// The backlog passed to `listen`.
        backlog: i32,
        /// The OS error.
        source: io::Error,
    },

    /// `connect(2)` failed or timed out.
    #[error("connect {addr}: {}", Cause(source))]
    #[non_exhaustive]
    Connect {
        /// The address being connected to.
        addr: Address,
        /// The OS error; [`io::ErrorKind::TimedOut`] when the connect timeout ran out.
        source: io::Error,
    },

    /// Handing a socket to an async runtime failed: no runtime is running
    /// on this thread, or its reactor would not take the socket (tokio's
    /// `from_std`, with the `tokio` feature).
    #[error("register {target} with the async runtime: {}", Cause(source))]
    #[non_exhaustive]
    Register {
        /// What the socket is for: the address it is bound or connected
        /// to, or the target as given when no socket was made yet.
        target: String,
        /// Why it failed.
        source: io::Error,
    },

    /// A name resolved to several addresses and each one failed.
    ///
    /// `attempts` holds each address's own error (each naming its step and
    /// address), in the order tried.
    #[error("{target}: all {} addresses failed: {}", attempts.len(), List(attempts))]
    #[non_exhaustive]
    AllAttemptsFailed {
        /// The target as given.
        target: String,
        /// One error per address tried, in order.
        attempts: Vec<Error>,
    },

    /// `accept(2)` failed.
    #[error("accept on {addr}: {}", Cause(source))]
    #[non_exhaustive]
    Accept {
        /// The listening address.
        addr: Address,
        /// The OS error.
        source: io::Error,
    },

    /// A step of a [`hello`](crate::hello) exchange failed.
    #[error("{step} {peer}: {}", Cause(source))]
    #[non_exhaustive]
    Exchange {
        /// What was being done, such as `receive greeting from`.
        step: &'static str,
        /// The peer's address.
        peer: Address,
        /// The cause; [`io::ErrorKind::TimedOut`] when the peer was too slow
        /// to send (or [`io::ErrorKind::WouldBlock`] when a send timed out on
        /// Unix), [`io::ErrorKind::UnexpectedEof`] when it closed early,
        /// [`io::ErrorKind::InvalidData`] when it sent too much, and the OS
        /// error otherwise, such as [`io::ErrorKind::ConnectionReset`] when
        /// it reset the connection.
        source: io::Error,
    },
}

impl Error {
    /// The [`io::ErrorKind`] that best describes the failure.
    ///
    /// This is the kind of the OS error where there is one,
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) for an invalid configuration,
    /// [`Unsupported`](io::ErrorKind::Unsupported) for a missing platform
    /// feature, and the kind of the last attempt when every address failed.
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

    /// The underlying [`io::Error`], if the failure came from the OS or the peer.
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
            Error::InvalidConfig { .. } | Error::Unsupported { .. } => None,
            Error::AllAttemptsFailed { attempts, .. } => attempts.last().and_then(Error::io_error),
            Error::Resolve { source, .. }
            | Error::Create { source, .. }
            | Error::SetOption { source, .. }
            | Error::Configure { source, .. }
            | Error::Bind { source, .. }
            | Error::Listen { source, .. }
            | Error::Connect { source, .. }
            | Error::Register { source, .. }
            | Error::Accept { source, .. }
            | Error::Exchange { source, .. } => Some(source),
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Error {
        Error::InvalidConfig {
            reason: reason.into(),
        }
    }
}

impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        io::Error::new(err.kind(), err)
    }
}

/// Shows an OS error the way the rest of the message reads: lowercase first
/// letter, unless the first word is an acronym (`OS Error 10042` stays as it is).
struct Cause<'a>(&'a io::Error);

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
                f.write_str(chars.as_str())
            }
            _ => f.write_str(&text),
        }
    }
}

/// Shows the attempts of [`Error::AllAttemptsFailed`] as `a: why; b: why`.
struct List<'a>(&'a [Error]);

impl fmt::Display for List<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, err) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            err.fmt(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_step_address_and_lowercase_reason() {
        let err = Error::Bind {
            addr: Address::Inet("0.0.0.0:8080".parse().unwrap()),
            source: io::Error::new(io::ErrorKind::AddrInUse, "Address already in use"),
        };
        assert_eq!(err.to_string(), "bind 0.0.0.0:8080: address already in use");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        let io: io::Error = err.into();
        assert_eq!(io.kind(), io::ErrorKind::AddrInUse);
        assert!(io.to_string().starts_with("bind 0.0.0.0:8080"));
    }

    #[test]
    fn cause_lowercases_a_word_but_not_an_acronym() {
        let shown = |text: &str| Cause(&io::Error::new(io::ErrorKind::Other, text)).to_string();
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
            source: io::Error::from(kind),
        };
        let err = Error::AllAttemptsFailed {
            target: "localhost:1".into(),
            attempts: vec![
                one("[::1]:1", io::ErrorKind::ConnectionRefused),
                one("127.0.0.1:1", io::ErrorKind::TimedOut),
            ],
        };
        let text = err.to_string();
        let v6 = text.find("connect [::1]:1: connection refused").unwrap();
        let v4 = text.find("connect 127.0.0.1:1: timed out").unwrap();
        assert!(text.starts_with("localhost:1: all 2 addresses failed: "));
        assert!(v6 < v4);
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn errors_are_send_sync_static() {
        fn check<T: std::error::Error + Send + Sync + 'static>() {}
        check::<Error>();
    }
}
