//! Telling the service manager how the service stands: `sd_notify(3)`
//! over `NOTIFY_SOCKET`.
//!
//! Written on socket2 and one `sendmsg(2)` in `sys`, not on the `sd-notify`
//! crate: that crate passes descriptors (`FDSTORE=1`) only through a further
//! dependency (`sendfd`, its `fdstore` feature), while the one call needed
//! here is a few lines beside the crate's other `libc` calls; and the
//! runtime dependencies stay socket2, thiserror and log. One datagram per
//! notification, as `sd_notify` sends.

use std::fmt;
#[cfg(unix)]
use std::os::unix::io::{AsFd, BorrowedFd};
use std::time::Duration;

use crate::{Error, Result};

/// Where notifications go: the service manager's `NOTIFY_SOCKET`, read
/// once; a notifier made when the variable is unset sends nothing.
///
/// Each method sends one datagram, as `sd_notify(3)` does, from a Unix
/// datagram socket made for it (socket2's `Socket::new`, close-on-exec).
/// Under systemd, a unit of `Type=notify` waits for [`ready`](Self::ready);
/// `FileDescriptorStoreMax=` lets it keep descriptors
/// ([`store`](Self::store)) across a restart of the service, which passes
/// them back through `LISTEN_FDS` with their names.
///
/// # Examples
///
/// ```
/// use sockwright::activation::Notifier;
/// use sockwright::{Error, ListenerBuilder};
///
/// let listener = ListenerBuilder::new().listen("127.0.0.1:0")?;
/// match Notifier::from_env() {
///     // After the listener is up, before accepting: what Type=notify waits for.
///     Ok(notifier) => notifier.ready()?,
///     Err(Error::Unsupported { .. }) => {} // Windows
///     Err(e) => return Err(e.into()),
/// }
/// # drop(listener);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Platform-specific behavior
///
/// Unix only; an `@NAME` (abstract) socket on Linux and Android only. On
/// Windows, [`from_env`](Self::from_env) returns [`Error::Unsupported`].
pub struct Notifier {
    /// `NOTIFY_SOCKET` as set, and where it points; `None` when unset.
    #[cfg(unix)]
    target: Option<(String, socket2::SockAddr)>,
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Notifier");
        #[cfg(unix)]
        d.field("socket", &self.target.as_ref().map(|(shown, _)| shown));
        d.finish()
    }
}

impl Notifier {
    /// Reads `NOTIFY_SOCKET` and leaves it set: a path (`/run/systemd/notify`)
    /// or, on Linux, an abstract name written `@NAME`. Unset or empty means
    /// no service manager listens: every notification is then a no-op.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a value that is neither (such as
    /// `vsock:...`, which is not supported here) or is too long for a
    /// socket address; [`Error::Unsupported`] for `@NAME` outside Linux and
    /// on Windows.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// let notifier = sockwright::activation::Notifier::from_env()?;
    /// println!("notifying: {}", notifier.is_enabled());
    /// # }
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn from_env() -> Result<Notifier> {
        let value = std::env::var_os("NOTIFY_SOCKET");
        Self::for_socket(value.as_deref().unwrap_or_default())
    }

    /// A notifier for this `NOTIFY_SOCKET` value, as
    /// [`from_env`](Self::from_env) reads it; empty is none.
    #[cfg(unix)]
    pub(crate) fn for_socket(value: &std::ffi::OsStr) -> Result<Notifier> {
        use std::os::unix::ffi::OsStrExt;
        if value.is_empty() {
            return Ok(Notifier { target: None });
        }
        let shown = value.to_string_lossy().into_owned();
        let bytes = value.as_bytes();
        let path: std::path::PathBuf = match bytes[0] {
            b'/' => value.into(),
            b'@' => crate::listener::abstract_path(&bytes[1..])?,
            _ => {
                return Err(Error::invalid(format!(
                    "NOTIFY_SOCKET={} is not a socket path (starting with /) or an abstract name (@NAME)",
                    crate::bounded::shown::Quoted::with_limit(&shown, 64)
                )));
            }
        };
        let addr = socket2::SockAddr::unix(&path).map_err(|e| {
            Error::invalid(format!(
                "NOTIFY_SOCKET={}: {e}",
                crate::bounded::shown::Quoted::with_limit(&shown, 64)
            ))
        })?;
        Ok(Notifier {
            target: Some((shown, addr)),
        })
    }

    #[cfg(not(unix))]
    pub(crate) fn for_socket(_value: &std::ffi::OsStr) -> Result<Notifier> {
        Err(Error::Unsupported {
            what: "service manager notifications (NOTIFY_SOCKET)",
        })
    }

    /// Whether `NOTIFY_SOCKET` was set: whether notifications are sent.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// if sockwright::activation::Notifier::from_env()?.is_enabled() {
    ///     println!("started by a service manager that waits for READY=1");
    /// }
    /// # }
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn is_enabled(&self) -> bool {
        #[cfg(unix)]
        return self.target.is_some();
        #[cfg(not(unix))]
        false
    }

    /// Sends `state`, lines of `VARIABLE=value` as `sd_notify(3)` lists
    /// them, with no descriptor; the methods below send the usual ones.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for an empty state or one with a NUL byte;
    /// [`Error::Notify`] naming the socket and the state if the datagram
    /// cannot be sent (no one listens there: `ECONNREFUSED`, `ENOENT`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// let notifier = sockwright::activation::Notifier::from_env()?;
    /// notifier.notify("STATUS=warming caches\nEXTEND_TIMEOUT_USEC=30000000")?;
    /// # }
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn notify(&self, state: &str) -> Result<()> {
        self.send(state, &[])
    }

    /// `READY=1`: startup is finished; the listeners are up. Call it after
    /// building the listeners and before accepting. Under a
    /// [`Handover`](super::Handover), this is what the old process waits for.
    ///
    /// # Errors
    ///
    /// As for [`notify`](Self::notify).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// sockwright::activation::Notifier::from_env()?.ready()?;
    /// # }
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn ready(&self) -> Result<()> {
        self.notify("READY=1")
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=` (now on `CLOCK_MONOTONIC`), as a
    /// unit of `Type=notify-reload` expects: a reload has started; send
    /// [`ready`](Self::ready) once it is done.
    ///
    /// # Errors
    ///
    /// As for [`notify`](Self::notify).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// let notifier = sockwright::activation::Notifier::from_env()?;
    /// notifier.reloading()?;
    /// notifier.ready()?;
    /// # }
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn reloading(&self) -> Result<()> {
        if !self.is_enabled() {
            return Ok(());
        }
        #[cfg(unix)]
        let now = crate::sys::monotonic_now().unwrap_or(Duration::ZERO);
        #[cfg(not(unix))]
        let now = Duration::ZERO;
        self.notify(&format!("RELOADING=1\nMONOTONIC_USEC={}", now.as_micros()))
    }

    /// `STOPPING=1`: the service is shutting down.
    ///
    /// # Errors
    ///
    /// As for [`notify`](Self::notify).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// sockwright::activation::Notifier::from_env()?.stopping()?;
    /// # }
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn stopping(&self) -> Result<()> {
        self.notify("STOPPING=1")
    }

    /// `STATUS=text`: one line that `systemctl status` shows.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a text with a line break (it would start
    /// another variable); otherwise as for [`notify`](Self::notify).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// sockwright::activation::Notifier::from_env()?.status("serving 3 clients")?;
    /// # }
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn status(&self, text: &str) -> Result<()> {
        if text.contains(['\n', '\r']) {
            return Err(Error::invalid(
                "a STATUS= text is one line: it has a line break",
            ));
        }
        self.notify(&format!("STATUS={text}"))
    }

    /// `WATCHDOG=1`: the service is alive (`WatchdogSec=`).
    ///
    /// # Errors
    ///
    /// As for [`notify`](Self::notify).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// sockwright::activation::Notifier::from_env()?.watchdog()?;
    /// # }
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn watchdog(&self) -> Result<()> {
        self.notify("WATCHDOG=1")
    }

    /// `FDSTORE=1` and `FDNAME=name`, with `fds` passed as `SCM_RIGHTS`:
    /// the service manager keeps copies of the descriptors (a unit needs
    /// `FileDescriptorStoreMax=`) and passes them back, named, through
    /// `LISTEN_FDS` and `LISTEN_FDNAMES` when the service starts again, so
    /// its listeners outlive a `systemctl restart`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a name systemd does not take (at most
    /// 255 bytes of printable ASCII, no `:`) or no descriptor; otherwise as
    /// for [`notify`](Self::notify).
    ///
    /// # Examples
    ///
    /// ```
    /// use sockwright::activation::Notifier;
    /// use sockwright::ListenerBuilder;
    ///
    /// let listener = ListenerBuilder::new().listen("127.0.0.1:0")?;
    /// Notifier::from_env()?.store("web", &[&listener])?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub fn store(&self, name: &str, fds: &[&dyn AsFd]) -> Result<()> {
        if !super::is_descriptor_name(name) || name.is_empty() {
            return Err(Error::invalid(format!(
                "FDNAME={} is not a descriptor name ({})",
                crate::bounded::shown::Quoted::with_limit(name, 64),
                super::DESCRIPTOR_NAME_RULE
            )));
        }
        if fds.is_empty() {
            return Err(Error::invalid("FDSTORE=1 needs at least one descriptor"));
        }
        let fds: Vec<BorrowedFd<'_>> = fds.iter().map(|f| f.as_fd()).collect();
        self.send(&format!("FDSTORE=1\nFDNAME={name}"), &fds)
    }

    /// `MAINPID=pid`: the service's main process is now `pid`, as a process
    /// that hands over to a successor tells systemd (the unit needs
    /// `NotifyAccess=all` for the successor's own messages to count).
    ///
    /// # Errors
    ///
    /// As for [`notify`](Self::notify).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// sockwright::activation::Notifier::from_env()?.main_pid(std::process::id())?;
    /// # }
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn main_pid(&self, pid: u32) -> Result<()> {
        self.notify(&format!("MAINPID={pid}"))
    }

    #[cfg(unix)]
    fn send(&self, state: &str, fds: &[BorrowedFd<'_>]) -> Result<()> {
        if state.is_empty() || state.contains('\0') {
            return Err(Error::invalid(
                "a notification is one or more VARIABLE=value lines, without NUL bytes",
            ));
        }
        let Some((shown, addr)) = &self.target else {
            return Ok(());
        };
        let fail = |error: std::io::Error| Error::Notify {
            socket: shown.clone(),
            state: state.replace('\n', " "),
            error,
        };
        let socket = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::DGRAM, None)
            .map_err(fail)?;
        crate::sys::send_with_fds(&socket, addr, state.as_bytes(), fds).map_err(fail)?;
        log::debug!(target: "sockwright::notify", "notified {shown}: {}{}", state.replace('\n', " "),
            if fds.is_empty() { String::new() } else { format!(" with {} descriptors", fds.len()) });
        Ok(())
    }

    #[cfg(not(unix))]
    fn send(&self, _state: &str, _fds: &[()]) -> Result<()> {
        Ok(())
    }
}

/// `READY=1` to `NOTIFY_SOCKET`, read now: what a server calls once its
/// listeners are up, under systemd (`Type=notify`) or a
/// [`Handover`](super::Handover). A no-op when the variable is unset.
///
/// # Errors
///
/// As for [`Notifier::from_env`] and [`Notifier::ready`].
///
/// # Examples
///
/// ```
/// # #[cfg(unix)] {
/// let listener = sockwright::ListenerBuilder::new().listen("127.0.0.1:0")?;
/// sockwright::activation::notify_ready()?;
/// # drop(listener);
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn notify_ready() -> Result<()> {
    Notifier::from_env()?.ready()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn values_that_are_not_a_socket_say_so() {
        assert!(!Notifier::for_socket(OsStr::new("")).unwrap().is_enabled());
        for bad in ["vsock:2:1234", "run/notify", " /x"] {
            let err = Notifier::for_socket(OsStr::new(bad))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("is not a socket path (starting with /) or an abstract name"),
                "{bad}: {err}"
            );
        }
        let long = format!("/{}", "x".repeat(200));
        let err = Notifier::for_socket(OsStr::new(&long))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid configuration: NOTIFY_SOCKET=\"/xxx"),
            "{err}"
        );
    }

    #[test]
    fn a_state_reaches_a_path_socket_and_a_refused_one_names_the_socket() {
        let dir =
            std::env::temp_dir().join(format!("sockwright-notify-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify");
        let _ = std::fs::remove_file(&path);
        let receiver = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        let notifier = Notifier::for_socket(path.as_os_str()).unwrap();
        notifier.status("warming up").unwrap();
        notifier.reloading().unwrap();
        let mut buf = [0u8; 256];
        let n = receiver.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STATUS=warming up");
        let n = receiver.recv(&mut buf).unwrap();
        let text = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(text.starts_with("RELOADING=1\nMONOTONIC_USEC="), "{text}");
        let usec: u64 = text.rsplit('=').next().unwrap().parse().unwrap();
        assert!(usec > 0, "{text}");
        assert!(notifier.status("two\nlines").is_err());
        drop(receiver);
        std::fs::remove_file(&path).unwrap();
        let err = notifier.ready().unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("notify {} of READY=1: ", path.display())),
            "{shown}"
        );
        assert!(matches!(err, Error::Notify { .. }), "{err:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
