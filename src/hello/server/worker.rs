//! A worker thread: many connections in one readiness wait, each with its
//! timer in one heap.
//!
//! The worker keeps, for its connections, three structures side by side:
//!
//! 1. a slab of connection states, indexed by a key that stays fixed for
//!    the connection's life;
//! 2. the readiness wait's entries (`pollfd` / `WSAPOLLFD`), entry 0 being
//!    its wake-up socket, and beside them the slab key of each entry; a
//!    finished connection's entry is swapped out, so adding and removing
//!    are O(1) and the wait never sees a closed socket;
//! 3. a min-heap of timers: (instant, key, connection id). Each connection
//!    that needs a timer (one whose timeout is too long for the clock has
//!    none) has one armed at or before the instant it needs
//!    ([`Conn::timer`]); a timer that fires early is armed again, and one
//!    left by a finished connection (whose id no longer matches) is
//!    dropped when it comes up, so changing a deadline never searches the
//!    heap; when those left by finished connections outnumber the live
//!    ones, they are dropped in one pass.
//!
//! Each turn takes the connections handed over, waits until a socket is
//! ready or the earliest timer is due, serves the ready sockets, then the
//! timers that are due.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use log::{debug, warn};

use super::super::{Exchange, Step as HelloStep, exchange_error};
use super::conn::{Conn, ConnStep};
use super::waker::{self, Waker, Wakeup};
use super::{Outcome, Reporter, ServedStream, panic_message};
use crate::HELLO_LOG;
use crate::bounded::deadline::poll_millis;
use crate::sys::{self, Interest, PollFd};

/// A worker as the accepting thread sees it: where to put connections.
#[derive(Debug)]
pub(super) struct Worker<S> {
    inbox: Mutex<Inbox<S>>,
    /// Set when a wake-up is on its way, so that a burst of connections
    /// costs one.
    notified: AtomicBool,
    waker: Waker,
    /// Connections handed to this worker and not yet finished.
    load: AtomicUsize,
}

#[derive(Debug)]
struct Inbox<S> {
    /// Connections whose first read found no complete greeting, with what
    /// they wait for.
    new: Vec<(Conn<S>, Interest)>,
    /// No more connections will come: end once the last one is served.
    closing: bool,
}

impl<S> Worker<S> {
    /// A worker and the wake-up end its thread waits on.
    pub(super) fn new() -> io::Result<(Worker<S>, Wakeup)> {
        let (waker, wakeup) = waker::pair()?;
        let worker = Worker {
            inbox: Mutex::new(Inbox {
                new: Vec::new(),
                closing: false,
            }),
            notified: AtomicBool::new(false),
            waker,
            load: AtomicUsize::new(0),
        };
        Ok((worker, wakeup))
    }

    fn lock(&self) -> MutexGuard<'_, Inbox<S>> {
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Connections handed over and not finished.
    pub(super) fn load(&self) -> usize {
        self.load.load(Ordering::Relaxed)
    }

    /// Hands a connection to this worker, in nonblocking mode, waiting for
    /// `interest`.
    pub(super) fn hand(&self, conn: Conn<S>, interest: Interest) {
        self.load.fetch_add(1, Ordering::Relaxed);
        self.lock().new.push((conn, interest));
        self.wake();
    }

    /// Tells the worker to end once its connections are served.
    pub(super) fn close(&self) {
        self.lock().closing = true;
        self.notified.store(true, Ordering::SeqCst);
        self.waker.wake();
    }

    fn wake(&self) {
        if !self.notified.swap(true, Ordering::SeqCst) {
            self.waker.wake();
        }
    }
}

/// One connection in the slab.
struct Entry<S> {
    conn: Conn<S>,
    /// Unique among this worker's connections, so that a timer left by a
    /// finished connection never fires for the next one in its slot.
    id: u64,
    /// The earliest timer in the heap for this connection, if any.
    armed: Option<Instant>,
    /// Its index in the readiness wait's entries.
    pos: usize,
}

/// The worker's connections and their timers.
struct Conns<S> {
    slab: Vec<Option<Entry<S>>>,
    free: Vec<usize>,
    /// The readiness wait's entries; 0 is the wake-up socket.
    fds: Vec<PollFd>,
    /// The slab key of each entry of `fds` (entry 0: none).
    keys: Vec<usize>,
    timers: BinaryHeap<Reverse<(Instant, usize, u64)>>,
    next_id: u64,
}

impl<S: ServedStream> Conns<S> {
    fn new(wakeup: &Wakeup) -> Conns<S> {
        Conns {
            slab: Vec::new(),
            free: Vec::new(),
            fds: vec![wakeup.poll_fd()],
            keys: vec![usize::MAX],
            timers: BinaryHeap::new(),
            next_id: 0,
        }
    }

    fn len(&self) -> usize {
        self.fds.len() - 1
    }

    fn insert(&mut self, conn: Conn<S>, interest: Interest) {
        let armed = conn.timer();
        let id = self.next_id;
        self.next_id += 1;
        let pos = self.fds.len();
        self.fds.push(conn.stream.poll_fd(interest));
        let entry = Entry {
            conn,
            id,
            armed,
            pos,
        };
        let key = match self.free.pop() {
            Some(key) => {
                self.slab[key] = Some(entry);
                key
            }
            None => {
                self.slab.push(Some(entry));
                self.slab.len() - 1
            }
        };
        self.keys.push(key);
        if let Some(due) = armed {
            self.timers.push(Reverse((due, key, id)));
        }
    }

    fn remove(&mut self, key: usize) -> Conn<S> {
        let entry = self.slab[key].take().expect("a live connection");
        self.free.push(key);
        self.fds.swap_remove(entry.pos);
        self.keys.swap_remove(entry.pos);
        if let Some(&moved) = self.keys.get(entry.pos) {
            if let Some(other) = self.slab[moved].as_mut() {
                other.pos = entry.pos;
            }
        }
        entry.conn
    }

    /// After a step that waits: the socket's interest and the timer.
    fn wait(&mut self, key: usize, interest: Interest) {
        let Some(entry) = self.slab[key].as_mut() else {
            return;
        };
        sys::set_interest(&mut self.fds[entry.pos], interest);
        let Some(due) = entry.conn.timer() else {
            return;
        };
        if entry.armed.is_none_or(|armed| due < armed) {
            entry.armed = Some(due);
            self.timers.push(Reverse((due, key, entry.id)));
        }
    }

    /// Drops the timers of finished connections once they outnumber the
    /// live ones, so that a busy worker's heap holds O(connections) entries
    /// rather than one per connection finished within a timeout.
    fn prune_timers(&mut self) {
        if self.timers.len() <= 2 * self.len() + 1024 {
            return;
        }
        let slab = &self.slab;
        self.timers.retain(|Reverse((due, key, id))| {
            slab[*key]
                .as_ref()
                .is_some_and(|entry| entry.id == *id && entry.armed == Some(*due))
        });
    }

    /// How long the wait may last: until the earliest timer, in whole
    /// milliseconds rounded up (`-1`: no timer).
    fn wait_ms(&self, now: Instant) -> i32 {
        let left = self
            .timers
            .peek()
            .map(|Reverse((due, _, _))| due.saturating_duration_since(now));
        poll_millis(left)
    }
}

/// Runs a worker until it is closed and its last connection is served.
pub(super) fn run<S: ServedStream, F: FnMut(Outcome) + Send>(
    worker: &Worker<S>,
    wakeup: Wakeup,
    exchange: &Exchange,
    reporter: &Reporter<'_, F>,
) {
    let mut conns = Conns::new(&wakeup);
    let mut scratch = vec![0; exchange.max_message + 1];
    let finish = |conn: Conn<S>, result| {
        let Conn { stream, peer, .. } = conn;
        drop(stream);
        worker.load.fetch_sub(1, Ordering::Relaxed);
        reporter.report(Outcome { peer, result });
    };
    loop {
        // 1. The connections handed over since the last turn. The flag is
        // cleared first, so that a connection handed over after the take
        // sends a wake-up of its own.
        worker.notified.store(false, Ordering::SeqCst);
        let (new, closing) = {
            let mut inbox = worker.lock();
            (std::mem::take(&mut inbox.new), inbox.closing)
        };
        for (conn, interest) in new {
            conns.insert(conn, interest);
        }
        if closing && conns.len() == 0 {
            debug!(target: HELLO_LOG, "hello worker done");
            return;
        }

        // 2. The wait.
        let wait = conns.wait_ms(Instant::now());
        if let Err(e) = sys::poll(&mut conns.fds, wait) {
            // No wait is possible: every connection here fails, rather than
            // the worker spinning on them.
            warn!(target: HELLO_LOG,
                "hello worker cannot wait for its {} connections: {e}",
                conns.len()
            );
            let keys: Vec<usize> = conns.keys[1..].to_vec();
            for key in keys {
                let conn = conns.remove(key);
                let err = io::Error::new(e.kind(), e.to_string());
                let result = Err(exchange_error(HelloStep::Wait, conn.peer.clone(), err));
                finish(conn, result);
            }
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        let now = Instant::now();

        // 3. The ready sockets, from the last entry down, so that an entry
        // swapped into a finished one's place has already been seen.
        if sys::is_ready(&conns.fds[0]) {
            wakeup.drain();
        }
        for pos in (1..conns.fds.len()).rev() {
            if !sys::is_ready(&conns.fds[pos]) {
                continue;
            }
            let key = conns.keys[pos];
            let Some(entry) = conns.slab[key].as_mut() else {
                continue;
            };
            match step(&mut entry.conn, |c| c.on_ready(exchange, &mut scratch)) {
                ConnStep::Wait(interest) => conns.wait(key, interest),
                ConnStep::Done(result) => {
                    let conn = conns.remove(key);
                    finish(conn, result);
                }
            }
        }

        // 4. The timers that are due.
        while let Some(&Reverse((due, key, id))) = conns.timers.peek() {
            if due > now {
                break;
            }
            conns.timers.pop();
            let Some(entry) = conns.slab[key].as_mut() else {
                continue;
            };
            if entry.id != id || entry.armed != Some(due) {
                continue;
            }
            match entry.conn.timer() {
                Some(needed) if needed <= now => {}
                needed => {
                    entry.armed = needed;
                    if let Some(needed) = needed {
                        conns.timers.push(Reverse((needed, key, id)));
                    }
                    continue;
                }
            }
            match step(&mut entry.conn, |c| c.on_timer(exchange, now)) {
                ConnStep::Wait(interest) => {
                    // Armed afresh: this timer is spent.
                    let entry = conns.slab[key].as_mut().expect("a live connection");
                    entry.armed = entry.conn.timer();
                    if let Some(due) = entry.armed {
                        conns.timers.push(Reverse((due, key, entry.id)));
                    }
                    conns.wait(key, interest);
                }
                ConnStep::Done(result) => {
                    let conn = conns.remove(key);
                    finish(conn, result);
                }
            }
        }
        conns.prune_timers();
    }
}

/// Runs one step of a connection, containing a panic as a failed exchange.
pub(super) fn step<S: ServedStream>(
    conn: &mut Conn<S>,
    f: impl FnOnce(&mut Conn<S>) -> ConnStep,
) -> ConnStep {
    match panic::catch_unwind(AssertUnwindSafe(|| f(conn))) {
        Ok(step) => step,
        Err(panic) => ConnStep::Done(Err(exchange_error(
            HelloStep::Serve,
            conn.peer.clone(),
            io::Error::other(format!("panicked: {}", panic_message(&*panic))),
        ))),
    }
}
