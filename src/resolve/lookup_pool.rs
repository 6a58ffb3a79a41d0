//! The process-wide pool that asks the questions of every connect to a
//! name: at most [`MAX_LOOKUP_THREADS`] threads, started on demand, taking
//! questions from one queue in the order they were asked, and ending after
//! [`IDLE`] without a question, so that an idle process holds none.
//!
//! A question is a resolver, a name and a family. Connects that ask one
//! already queued or under way join it ("in flight") instead of asking it
//! again. A question whose every asker has given up (won, failed, timed
//! out, dropped) leaves the queue without being asked; one already under
//! way cannot be stopped, and its thread takes the next question once the
//! answer comes. So a DNS outage, or a [`Resolve`](crate::Resolve) that
//! never returns, holds at most [`MAX_LOOKUP_THREADS`] threads (and the
//! resolver's own descriptors on them), however many connects ask.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::thread;
use std::time::{Duration, Instant};

use log::trace;

use super::lookup::AnswerInbox;
use crate::resolve::resolver::{MAX_LOOKUP_THREADS, Source};
use crate::{CONNECTOR_LOG, Domain};

/// How long a lookup thread waits for a question before it ends.
pub(crate) const IDLE: Duration = Duration::from_secs(1);

/// What identifies a question: the resolver, the name (lowercase), the family.
pub(crate) type Key = (usize, String, Domain);

/// One question, queued or under way, and the connects waiting for it.
struct Flight {
    /// Its place in the queue while it waits there.
    ticket: u64,
    source: Source,
    /// The name as the first connect gave it.
    name: String,
    waiting: Vec<Weak<AnswerInbox>>,
    /// Taken by a thread: its askers can no longer take it back.
    asked: bool,
}

#[derive(Default)]
struct State {
    flights: HashMap<Key, Flight>,
    /// The questions not yet taken by a thread, by ticket (oldest first).
    queue: BTreeMap<u64, Key>,
    next_ticket: u64,
    /// The lookup threads alive, how many of them wait for a question, and
    /// how many have answered theirs and will look at the queue next.
    threads: usize,
    idle: usize,
    returning: usize,
}

struct Pool {
    state: Mutex<State>,
    /// Signalled when a question joins the queue.
    work: Condvar,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(State::default()),
        work: Condvar::new(),
    })
}

/// A lock that a panic elsewhere does not poison for good: the data (lists
/// of answers and waiters, counts) is valid after any panic.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether a waiter is still there and is not `inbox`.
fn other_live(waiter: &Weak<AnswerInbox>, inbox: &Arc<AnswerInbox>) -> bool {
    waiter.strong_count() > 0 && !std::ptr::eq(waiter.as_ptr(), Arc::as_ptr(inbox))
}

/// Asks `source` for `name` in `family` on behalf of `inbox`, or joins the
/// same question already queued or under way. Returns the question's key,
/// which [`give_up`] takes.
pub(crate) fn ask(source: &Source, name: &str, family: Domain, inbox: &Arc<AnswerInbox>) -> Key {
    let key: Key = (source.identity(), name.to_ascii_lowercase(), family);
    let pool = pool();
    let mut state = lock(&pool.state);
    if let Some(flight) = state.flights.get_mut(&key) {
        flight.waiting.retain(|w| w.strong_count() > 0);
        flight.waiting.push(Arc::downgrade(inbox));
        trace!(target: CONNECTOR_LOG, "joined the {family} lookup of {name} already in flight");
        return key;
    }
    let ticket = state.next_ticket;
    state.next_ticket += 1;
    state.flights.insert(
        key.clone(),
        Flight {
            ticket,
            source: source.clone(),
            name: name.to_owned(),
            waiting: vec![Arc::downgrade(inbox)],
            asked: false,
        },
    );
    state.queue.insert(ticket, key.clone());
    if state.queue.len() <= state.idle + state.returning {
        pool.work.notify_one();
        return key;
    }
    if state.threads >= MAX_LOOKUP_THREADS {
        trace!(
            target: CONNECTOR_LOG,
            "all {MAX_LOOKUP_THREADS} lookup threads are busy: the {family} lookup of {name} waits in the queue ({} queued)",
            state.queue.len()
        );
        return key;
    }
    state.threads += 1;
    drop(state);
    let spawned = thread::Builder::new()
        .name("sockwright-resolve".into())
        .spawn(work);
    if let Err(err) = spawned {
        let mut state = lock(&pool.state);
        state.threads -= 1;
        if state.threads == 0 {
            // Nobody left to ask the queued questions: each fails now, and
            // every connect waiting for one learns it.
            let queued = std::mem::take(&mut state.queue);
            let flights: Vec<(Domain, Flight)> = queued
                .into_values()
                .filter_map(|key| Some((key.2, state.flights.remove(&key)?)))
                .collect();
            drop(state);
            let failed = Err(err);
            for (family, flight) in flights {
                for waiter in flight.waiting.iter().filter_map(Weak::upgrade) {
                    waiter.deliver(family, copy(&failed));
                }
            }
        }
    }
    key
}

/// Takes `inbox` off the waiters of the questions `keys`; a question left
/// with nobody waiting that no thread has taken yet leaves the queue.
pub(crate) fn give_up(keys: &[Key], inbox: &Arc<AnswerInbox>) {
    let mut state = lock(&pool().state);
    for key in keys {
        let Some(flight) = state.flights.get_mut(key) else {
            continue;
        };
        flight.waiting.retain(|w| other_live(w, inbox));
        if flight.waiting.is_empty() && !flight.asked {
            let ticket = flight.ticket;
            state.flights.remove(key);
            state.queue.remove(&ticket);
            trace!(
                target: CONNECTOR_LOG,
                "the {} lookup of {} left the queue unasked: nobody waits for it",
                key.2,
                key.1
            );
        }
    }
}

/// A lookup thread: takes the oldest question somebody still waits for,
/// asks it, tells every connect still waiting, and ends after [`IDLE`]
/// without a question.
fn work() {
    let pool = pool();
    let mut state = lock(&pool.state);
    loop {
        if let Some((_, key)) = state.queue.pop_first() {
            let Some(flight) = state.flights.get_mut(&key) else {
                continue;
            };
            flight.waiting.retain(|w| w.strong_count() > 0);
            if flight.waiting.is_empty() {
                state.flights.remove(&key);
                continue;
            }
            flight.asked = true;
            let (source, name) = (flight.source.clone(), flight.name.clone());
            drop(state);
            answer(&source, &name, key);
            state = lock(&pool.state);
            state.returning -= 1;
            continue;
        }
        state.idle += 1;
        let (guard, waited) = pool
            .work
            .wait_timeout(state, IDLE)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state = guard;
        state.idle -= 1;
        if waited.timed_out() && state.queue.is_empty() {
            state.threads -= 1;
            return;
        }
    }
}

/// Asks one question and tells every connect still waiting for it.
fn answer(source: &Source, name: &str, key: Key) {
    let family = key.2;
    connector_debug!("looking up {name} ({family})");
    let began = Instant::now();
    let answer = catch_unwind(AssertUnwindSafe(|| source.lookup(name, family)))
        .unwrap_or_else(|_| Err(io::Error::other("the resolver panicked")));
    let waiting = {
        let mut state = lock(&pool().state);
        state.returning += 1;
        state.flights.remove(&key).map(|flight| flight.waiting)
    }
    .unwrap_or_default();
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
