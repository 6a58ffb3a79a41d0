//! The per-family lookups of one connect, and how their answers reach the
//! thread or the task that runs the race.
//!
//! Each connect owns an [`AnswerInbox`]: a list the answers are put in and the
//! way to wake whoever waits for them: the writing end of a wake pair (see
//! `sys::wake_pair`), whose other end the blocking race waits on together
//! with its sockets, or the waker of the async task. The questions are asked
//! by the process-wide pool of lookup threads (see
//! [`lookup_pool`]), which holds the inboxes of the
//! connects waiting for an answer only weakly: a connect that ends (won,
//! failed, timed out, dropped) gives up its questions and drops its inbox
//! and its wake pair at once, so whatever descriptors a connect holds, it
//! holds only while it runs. A question nobody waits for any more leaves
//! the queue unasked; an answer that comes later finds nobody to tell.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
#[cfg(feature = "tokio")]
use std::task::Context;
use std::task::Waker;

use socket2::Socket;

use super::lookup_pool::{self, Key, lock};
use crate::resolve::resolver::Source;
use crate::{Domain, sys};

/// One family's answer: the addresses (port 0) or the resolver's error.
pub(crate) type Answer = (Domain, io::Result<Vec<SocketAddr>>);

/// Where a connect's answers arrive.
pub(crate) struct AnswerInbox {
    mail: Mutex<Mail>,
    /// The end of the wake pair a lookup writes one byte to (blocking
    /// connects); an async connect is woken through its task's waker.
    wake: Option<Socket>,
}

#[derive(Default)]
struct Mail {
    answers: Vec<Answer>,
    /// The waker of the task that last found no answer.
    waker: Option<Waker>,
}

impl AnswerInbox {
    pub(crate) fn deliver(&self, family: Domain, answer: io::Result<Vec<SocketAddr>>) {
        let waker = {
            let mut mail = lock(&self.mail);
            mail.answers.push((family, answer));
            mail.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        if let Some(wake) = &self.wake {
            // Nonblocking, and one byte per family at most: it never fills
            // up. A failed write can only mean the reading end is gone, and
            // so is the connect that would read it.
            let _ = (&*wake).write(&[1]);
        }
    }
}

/// The lookups of one connect.
pub(crate) struct Lookups {
    inbox: Arc<AnswerInbox>,
    /// The end of the wake pair the blocking race waits on.
    reader: Option<Socket>,
    /// The questions this connect asked or joined.
    asked: Vec<Key>,
}

impl std::fmt::Debug for Lookups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookups")
            .field("asked", &self.asked)
            .finish_non_exhaustive()
    }
}

impl Lookups {
    /// Asks `source` for `name` in each of `families`, at once and at the
    /// same time, for a connect that waits on [`wake_socket`](Self::wake_socket).
    /// A question already in flight for another connect is joined, not
    /// asked again.
    ///
    /// # Errors
    ///
    /// Only if the wake pair cannot be made (out of descriptors).
    pub(crate) fn start(source: &Source, name: &str, families: &[Domain]) -> io::Result<Lookups> {
        let (reader, wake) = sys::wake_pair()?;
        reader.set_nonblocking(true)?;
        wake.set_nonblocking(true)?;
        Ok(Lookups::ask(
            source,
            name,
            families,
            Some(wake),
            Some(reader),
        ))
    }

    /// As [`start`](Self::start), for an async task that waits with
    /// [`poll_take`](Self::poll_take): no descriptor at all.
    #[cfg(feature = "tokio")]
    pub(crate) fn start_in_task(source: &Source, name: &str, families: &[Domain]) -> Lookups {
        Lookups::ask(source, name, families, None, None)
    }

    fn ask(
        source: &Source,
        name: &str,
        families: &[Domain],
        wake: Option<Socket>,
        reader: Option<Socket>,
    ) -> Lookups {
        let inbox = Arc::new(AnswerInbox {
            mail: Mutex::new(Mail::default()),
            wake,
        });
        let asked = families
            .iter()
            .map(|&family| lookup_pool::ask(source, name, family, &inbox))
            .collect();
        Lookups {
            inbox,
            reader,
            asked,
        }
    }

    /// The socket that becomes readable when an answer arrives (`None` for
    /// lookups started in a task).
    pub(crate) fn wake_socket(&self) -> Option<&Socket> {
        self.reader.as_ref()
    }

    /// The answers that arrived since the last call, in the order they came.
    pub(crate) fn take(&mut self) -> Vec<Answer> {
        if let Some(reader) = &self.reader {
            let mut buf = [0u8; 16];
            while matches!((&*reader).read(&mut buf), Ok(n) if n > 0) {}
        }
        std::mem::take(&mut lock(&self.inbox.mail).answers)
    }

    /// The answers that arrived since the last call; none yet (an empty
    /// list) and the task is woken when one comes.
    #[cfg(feature = "tokio")]
    pub(crate) fn poll_take(&mut self, cx: &mut Context<'_>) -> Vec<Answer> {
        let mut mail = lock(&self.inbox.mail);
        if mail.answers.is_empty() {
            match &mut mail.waker {
                Some(waker) => waker.clone_from(cx.waker()),
                None => mail.waker = Some(cx.waker().clone()),
            }
        }
        std::mem::take(&mut mail.answers)
    }
}

impl Drop for Lookups {
    /// Gives up the questions still waited for: one that nobody else waits
    /// for and no thread has taken leaves the queue unasked.
    fn drop(&mut self) {
        lookup_pool::give_up(&self.asked, &self.inbox);
    }
}
