//! The per-family lookups of one connect, each on a thread of its own, and
//! how their answers reach the thread that runs the race.
//!
//! Each connect owns an [`Inbox`]: a list the answers are put in and the
//! writing end of a wake pair (see `sys::wake_pair`), whose other end the
//! race waits on together with its sockets. A lookup runs on its own thread
//! and holds the inboxes of the connects waiting for it only weakly: a
//! connect that ends (won, failed, timed out) drops its inbox and its wake
//! pair at once, and a lookup that answers later finds nobody to tell. A
//! blocking lookup cannot be stopped, so its thread lives until the answer;
//! connects that ask the same resolver the same question meanwhile share
//! that lookup ("in flight") instead of starting another, so a slow answer
//! costs one thread however many connects wait for it.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::thread::{self, JoinHandle};

use log::trace;
use socket2::Socket;

use crate::resolver::Source;
use crate::{sys, Domain, CONNECTOR_LOG};

/// One family's answer: the addresses (port 0) or the resolver's error.
pub(crate) type Answer = (Domain, io::Result<Vec<SocketAddr>>);

/// Where a connect's answers arrive.
struct Inbox {
    answers: Mutex<Vec<Answer>>,
    /// The end of the wake pair a lookup writes one byte to.
    wake: Socket,
}

impl Inbox {
    fn deliver(&self, family: Domain, answer: io::Result<Vec<SocketAddr>>) {
        lock(&self.answers).push((family, answer));
        // Nonblocking, and one byte per family at most: it never fills up.
        // A failed write can only mean the reading end is gone, and so is
        // the connect that would read it.
        let _ = (&self.wake).write(&[1]);
    }
}

/// What identifies a question: the resolver, the name, the family.
type Key = (usize, String, Domain);

/// The lookups in flight and the connects waiting for each.
fn flights() -> &'static Mutex<HashMap<Key, Vec<Weak<Inbox>>>> {
    static FLIGHTS: OnceLock<Mutex<HashMap<Key, Vec<Weak<Inbox>>>>> = OnceLock::new();
    FLIGHTS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// A lock that a panic elsewhere does not poison for good: the data (lists
/// of answers and waiters) is valid after any panic.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The lookups of one connect.
pub(crate) struct Lookups {
    inbox: Arc<Inbox>,
    /// The end of the wake pair the race waits on.
    reader: Socket,
    /// The threads this connect started, by family, until their answer is in.
    threads: Vec<(Domain, JoinHandle<()>)>,
    /// The families answered so far.
    answered: Vec<Domain>,
}

impl std::fmt::Debug for Lookups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookups")
            .field("answered", &self.answered)
            .finish_non_exhaustive()
    }
}

impl Lookups {
    /// Asks `source` for `name` in each of `families`, at once and at the
    /// same time. A question already in flight for another connect is
    /// joined, not asked again.
    ///
    /// # Errors
    ///
    /// Only if the wake pair cannot be made (out of descriptors); a thread
    /// that cannot be started is that family's failed answer.
    pub(crate) fn start(source: &Source, name: &str, families: &[Domain]) -> io::Result<Lookups> {
        let (reader, wake) = sys::wake_pair()?;
        reader.set_nonblocking(true)?;
        wake.set_nonblocking(true)?;
        let inbox = Arc::new(Inbox {
            answers: Mutex::new(Vec::new()),
            wake,
        });
        let mut threads = Vec::new();
        for &family in families {
            let key: Key = (source.identity(), name.to_ascii_lowercase(), family);
            let mut map = lock(flights());
            if let Some(waiting) = map.get_mut(&key) {
                waiting.retain(|w| w.strong_count() > 0);
                waiting.push(Arc::downgrade(&inbox));
                trace!(target: CONNECTOR_LOG, "joined the {family} lookup of {name} already in flight");
                continue;
            }
            map.insert(key.clone(), vec![Arc::downgrade(&inbox)]);
            drop(map);
            let (source, name_owned, asked) = (source.clone(), name.to_owned(), key.clone());
            let spawned = thread::Builder::new()
                .name("sockwright-resolve".into())
                .spawn(move || run(&source, &name_owned, family, asked));
            match spawned {
                Ok(handle) => threads.push((family, handle)),
                Err(err) => {
                    // Everyone who joined meanwhile learns it too.
                    let failed = Err(err);
                    let waiting = lock(flights()).remove(&key).unwrap_or_default();
                    for waiter in waiting.iter().filter_map(Weak::upgrade) {
                        waiter.deliver(family, copy(&failed));
                    }
                }
            }
        }
        Ok(Lookups {
            inbox,
            reader,
            threads,
            answered: Vec::new(),
        })
    }

    /// The socket that becomes readable when an answer arrives.
    pub(crate) fn wake_socket(&self) -> &Socket {
        &self.reader
    }

    /// The answers that arrived since the last call, in the order they came.
    pub(crate) fn take(&mut self) -> Vec<Answer> {
        let mut buf = [0u8; 16];
        while matches!((&self.reader).read(&mut buf), Ok(n) if n > 0) {}
        let answers = std::mem::take(&mut *lock(&self.inbox.answers));
        self.answered
            .extend(answers.iter().map(|(family, _)| *family));
        answers
    }
}

impl Drop for Lookups {
    /// Waits for the threads of this connect whose answer is in (they are
    /// ending, so this is brief) and leaves the others to end on their own
    /// once their answer comes: a blocking lookup cannot be stopped.
    fn drop(&mut self) {
        let unread: Vec<Domain> = lock(&self.inbox.answers).iter().map(|(f, _)| *f).collect();
        self.answered.extend(unread);
        for (family, handle) in self.threads.drain(..) {
            if self.answered.contains(&family) {
                let _ = handle.join();
            }
        }
    }
}

/// A lookup's thread: asks, then tells every connect still waiting.
fn run(source: &Source, name: &str, family: Domain, key: Key) {
    debug!("looking up {name} ({family})");
    let began = std::time::Instant::now();
    let answer = catch_unwind(AssertUnwindSafe(|| source.lookup(name, family)))
        .unwrap_or_else(|_| Err(io::Error::other("the resolver panicked")));
    let waiting = lock(flights()).remove(&key).unwrap_or_default();
    let still = waiting.iter().filter(|w| w.strong_count() > 0).count();
    match &answer {
        Ok(addrs) => trace!(
            target: CONNECTOR_LOG,
            "lookup of {name} ({family}) answered after {:?}: {addrs:?}; {still} connect(s) still waiting",
            began.elapsed()
        ),
        Err(err) => trace!(
            target: CONNECTOR_LOG,
            "lookup of {name} ({family}) failed after {:?}: {err}; {still} connect(s) still waiting",
            began.elapsed()
        ),
    }
    for inbox in waiting.iter().filter_map(Weak::upgrade) {
        inbox.deliver(family, copy(&answer));
    }
}

/// A copy of an answer for each connect that shares it.
fn copy(answer: &io::Result<Vec<SocketAddr>>) -> io::Result<Vec<SocketAddr>> {
    match answer {
        Ok(addrs) => Ok(addrs.clone()),
        Err(err) => Err(match err.raw_os_error() {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(err.kind(), err.to_string()),
        }),
    }
}
