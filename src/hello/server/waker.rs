//! Wakes a worker from its readiness wait: a pair of connected sockets, the
//! receiving one in the worker's wait.
//!
//! Unix uses a Unix-domain stream pair; Windows, whose `WSAPoll` takes only
//! sockets and has no socket pair, two UDP sockets on loopback connected to
//! each other.

use std::io;
#[cfg(unix)]
use std::io::{Read, Write};
#[cfg(windows)]
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
#[cfg(unix)]
use std::os::unix::net::UnixStream;

use crate::sys::{self, Interest, PollFd};

#[cfg(unix)]
type End = UnixStream;
#[cfg(windows)]
type End = UdpSocket;

/// The sending end, kept by whoever hands the worker its connections.
#[derive(Debug)]
pub(super) struct Waker(End);

/// The receiving end, in the worker's readiness wait.
#[derive(Debug)]
pub(super) struct Wakeup(End);

/// A connected pair, both ends nonblocking.
pub(super) fn pair() -> io::Result<(Waker, Wakeup)> {
    let (tx, rx) = ends()?;
    tx.set_nonblocking(true)?;
    rx.set_nonblocking(true)?;
    Ok((Waker(tx), Wakeup(rx)))
}

#[cfg(unix)]
fn ends() -> io::Result<(End, End)> {
    UnixStream::pair()
}

#[cfg(windows)]
fn ends() -> io::Result<(End, End)> {
    let bind = |ip: SocketAddr| -> io::Result<(End, End)> {
        let a = UdpSocket::bind(ip)?;
        let b = UdpSocket::bind(ip)?;
        a.connect(b.local_addr()?)?;
        b.connect(a.local_addr()?)?;
        Ok((a, b))
    };
    bind((Ipv4Addr::LOCALHOST, 0).into()).or_else(|_| bind((Ipv6Addr::LOCALHOST, 0).into()))
}

impl Waker {
    /// Makes the worker's next (or current) wait return. A full socket
    /// buffer means wake-ups are already waiting, which is as good.
    pub(super) fn wake(&self) {
        #[cfg(unix)]
        let _ = (&self.0).write(&[1]);
        #[cfg(windows)]
        let _ = self.0.send(&[1]);
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
        loop {
            #[cfg(unix)]
            let got = (&self.0).read(&mut buf);
            #[cfg(windows)]
            let got = self.0.recv(&mut buf);
            match got {
                Ok(n) if n > 0 => continue,
                _ => break,
            }
        }
    }
}
