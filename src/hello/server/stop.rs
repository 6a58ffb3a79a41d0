//! Stopping a running server's accept loop from another thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::waker::{self, Waker, Wakeup};
use crate::{Error, Result};

/// Tells a running [`Server`](super::Server) to stop accepting: it then
/// serves the clients it has accepted to the end and returns.
///
/// What a server does when it hands its listener over to a successor
/// ([`activation::Handover`](crate::activation::Handover)): the listening
/// socket stays open for the successor (no `shutdown(2)`, which would end
/// it for both processes), and this process stops taking clients from it.
/// A clone stops the same servers.
///
/// The accept loop sees the stop while it waits for a client: give it a
/// listener in nonblocking mode (`set_nonblocking(true)`), whose wait is a
/// `poll(2)` that the stop wakes. A blocking `accept` sees it only after
/// its next client.
///
/// # Examples
///
/// ```
/// use sockwright::hello::{Exchange, Server, Stop};
/// use sockwright::ListenerBuilder;
///
/// let listener = ListenerBuilder::new().nonblocking(true).listen("127.0.0.1:0")?;
/// let stop = Stop::new()?;
/// let mut server = Server::new(Exchange::server());
/// server.stop_on(&stop);
/// std::thread::scope(|scope| {
///     let serving = scope.spawn(|| server.serve_tcp(&listener, |_| {}));
///     stop.stop();
///     let summary = serving.join().unwrap()?;
///     assert_eq!(summary.accepted, 0);
///     Ok::<(), sockwright::Error>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Stop(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    stopped: AtomicBool,
    waker: Waker,
    wakeup: Wakeup,
}

impl Stop {
    /// A stop not yet given: a flag and a wake pair (`socketpair(2)`, a
    /// loopback UDP pair on Windows) that the accept loop's wait watches.
    ///
    /// # Errors
    ///
    /// [`Error::Create`] if the wake pair cannot be made (out of descriptors).
    ///
    /// # Examples
    ///
    /// ```
    /// let stop = sockwright::hello::Stop::new()?;
    /// assert!(!stop.is_stopped());
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn new() -> Result<Stop> {
        // The pair sys::wake_pair makes: socketpair(2), or UDP on loopback.
        #[cfg(unix)]
        let (domain, socket_type) = (crate::Domain::Unix, crate::Type::Stream);
        #[cfg(not(unix))]
        let (domain, socket_type) = (crate::Domain::Ipv4, crate::Type::Datagram);
        let (waker, wakeup) = waker::pair().map_err(|error| Error::Create {
            addr: crate::Address::Unknown,
            domain,
            socket_type,
            protocol: crate::Protocol::Default,
            error,
        })?;
        Ok(Stop(Arc::new(Inner {
            stopped: AtomicBool::new(false),
            waker,
            wakeup,
        })))
    }

    /// Stops every server this was given to: each stops accepting, finishes
    /// its clients and returns. Returns at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let stop = sockwright::hello::Stop::new()?;
    /// stop.stop();
    /// assert!(stop.is_stopped());
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn stop(&self) {
        self.0.stopped.store(true, Ordering::SeqCst);
        self.0.waker.wake();
    }

    /// Whether [`stop`](Self::stop) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!sockwright::hello::Stop::new()?.is_stopped());
    /// # Ok::<(), sockwright::Error>(())
    /// ```
    pub fn is_stopped(&self) -> bool {
        self.0.stopped.load(Ordering::SeqCst)
    }

    /// The entry for a readiness wait that returns once stopped.
    pub(super) fn poll_fd(&self) -> crate::sys::PollFd {
        self.0.wakeup.poll_fd()
    }
}

impl PartialEq for Stop {
    fn eq(&self, other: &Stop) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Stop {}
