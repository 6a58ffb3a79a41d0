//! Wakes a worker from its readiness wait: the crate's wake pair
//! (`sys::wake_pair`: `socketpair(2)`, or a loopback UDP pair on Windows,
//! whose `WSAPoll` takes only sockets), the receiving end in the worker's
//! wait.

use std::io::{self, Read, Write};

use socket2::Socket;

use crate::sys::{self, Interest, PollFd};

/// The sending end, kept by whoever hands the worker its connections.
#[derive(Debug)]
pub(super) struct Waker(Socket);

/// The receiving end, in the worker's readiness wait.
#[derive(Debug)]
pub(super) struct Wakeup(Socket);

/// A connected pair, both ends nonblocking.
pub(super) fn pair() -> io::Result<(Waker, Wakeup)> {
    let (rx, tx) = sys::wake_pair()?;
    tx.set_nonblocking(true)?;
    rx.set_nonblocking(true)?;
    Ok((Waker(tx), Wakeup(rx)))
}

impl Waker {
    /// Makes the worker's next (or current) wait return. A full socket
    /// buffer means wake-ups are already waiting, which is as good.
    pub(super) fn wake(&self) {
        let _ = (&self.0).write(&[1]);
    }
}

impl Wakeup {
    pub(super) fn poll_fd(&self) -> PollFd {
        sys::poll_fd(&self.0, Interest::Read)
    }

    /// Takes every wake-up waiting.
    pub(super) fn drain(&self) {
        let mut buf = [0; 64];
        // Bounded: the buffer holds a finite number of wake-ups, and a
        // failed or empty read ends the loop.
        while let Ok(1..) = (&self.0).read(&mut buf) {}
    }
}
