//! One client's exchange as a state machine driven by readiness: the
//! greeting taken in whatever parts it arrives, then the reply, each step
//! without blocking and without a thread of its own.
//!
//! The framing is the [`Framer`]'s, which [`Exchange`]'s blocking receive
//! drives too; only the waiting differs: here the worker's readiness wait
//! and a timer at the framer's next instant.

use std::io;
use std::time::Instant;

use log::{Level, debug, log_enabled, trace};

use super::super::framer::{Framer, Verdict};
use super::super::{Exchange, exchange_error};
use super::ServedStream;
use crate::bounded::deadline::deadline;
use crate::sys::Interest;
use crate::{Address, HELLO_LOG, Result};

/// What a connection needs next.
#[derive(Debug)]
pub(super) enum ConnStep {
    /// To wait until its socket is ready for this, or its timer runs out.
    Wait(Interest),
    /// Nothing: its exchange is over, with the peer's message or an error.
    Done(Result<Vec<u8>>),
}

/// One connection in progress.
#[derive(Debug)]
pub(super) struct Conn<S> {
    pub(super) stream: S,
    pub(super) peer: Address,
    /// The bytes received so far; allocated only once some arrive, so a
    /// silent connection holds no buffer.
    received: Vec<u8>,
    /// The receive's framing, and its deadline.
    framer: Framer,
    /// When the reply runs out of time, once it is under way; `None` for a
    /// timeout too long for the clock to hold (no limit).
    deadline: Option<Instant>,
    /// Bytes of the reply sent, once the message is complete.
    sent: Option<usize>,
}

impl<S: ServedStream> Conn<S> {
    pub(super) fn new(stream: S, peer: Address, exchange: &Exchange, now: Instant) -> Conn<S> {
        Conn {
            stream,
            peer,
            received: Vec::new(),
            framer: Framer::new(exchange, exchange.max_message, now),
            deadline: None,
            sent: None,
        }
    }

    /// When [`on_timer`](Self::on_timer) must run next; `None`: never.
    pub(super) fn timer(&self) -> Option<Instant> {
        match self.sent {
            None => self.framer.until(),
            Some(_) => self.deadline,
        }
    }

    /// The socket is ready (or in error): reads or writes what it can.
    /// `scratch` holds at least [`Exchange::max_message`] + 1 bytes.
    pub(super) fn on_ready(&mut self, exchange: &Exchange, scratch: &mut [u8]) -> ConnStep {
        if self.sent.is_some() {
            return self.send(exchange);
        }
        let room = exchange.max_message + 1 - self.received.len();
        let n = loop {
            match self.stream.read(&mut scratch[..room]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return ConnStep::Wait(Interest::Read);
                }
                Err(e) => return self.receive_failed(exchange, e),
            }
        };
        let verdict = if n == 0 {
            self.framer.end_of_file(exchange, &self.received)
        } else {
            self.received.extend_from_slice(&scratch[..n]);
            let len = self.received.len();
            trace!(target: HELLO_LOG, "read {n} bytes ({len} so far)");
            self.framer
                .received(exchange, len, &self.received, Instant::now)
        };
        self.follow(exchange, verdict)
    }

    /// The timer ran out (or woke early): the quiet gap has completed the
    /// message, or the time is up.
    pub(super) fn on_timer(&mut self, exchange: &Exchange, now: Instant) -> ConnStep {
        if self.sent.is_some() {
            if self.deadline.is_none_or(|deadline| now < deadline) {
                return ConnStep::Wait(Interest::Write);
            }
            let e = io::Error::new(
                io::ErrorKind::TimedOut,
                format!("reply not sent within {:?}", exchange.timeout),
            );
            return ConnStep::Done(Err(exchange_error(
                exchange.role.send_step(),
                self.peer.clone(),
                e,
            )));
        }
        let verdict = self.framer.waited(exchange, self.received.len(), now);
        self.follow(exchange, verdict)
    }

    /// Does what the framer decided.
    fn follow(&mut self, exchange: &Exchange, verdict: Verdict) -> ConnStep {
        match verdict {
            Verdict::Complete => self.complete(exchange),
            Verdict::More(_) => ConnStep::Wait(Interest::Read),
            Verdict::Failed(e) => self.receive_failed(exchange, e),
        }
    }

    /// The message is complete: sends the reply, with the timeout starting
    /// over for it.
    fn complete(&mut self, exchange: &Exchange) -> ConnStep {
        if log_enabled!(target: HELLO_LOG, Level::Debug) {
            debug!(target: HELLO_LOG, "received {} bytes from {}", self.received.len(), self.peer);
        }
        self.sent = Some(0);
        self.deadline = deadline(Instant::now(), exchange.timeout);
        self.send(exchange)
    }

    fn send(&mut self, exchange: &Exchange) -> ConnStep {
        let mut sent = self.sent.unwrap_or(0);
        while sent < exchange.message.len() {
            match self.stream.write(&exchange.message[sent..]) {
                Ok(0) => {
                    let e = io::Error::from(io::ErrorKind::WriteZero);
                    return self.send_failed(exchange, e);
                }
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.sent = Some(sent);
                    return ConnStep::Wait(Interest::Write);
                }
                Err(e) => return self.send_failed(exchange, e),
            }
        }
        if log_enabled!(target: HELLO_LOG, Level::Debug) {
            debug!(target: HELLO_LOG, "sent {} bytes to {}", exchange.message.len(), self.peer);
        }
        ConnStep::Done(Ok(std::mem::take(&mut self.received)))
    }

    fn receive_failed(&self, exchange: &Exchange, e: io::Error) -> ConnStep {
        ConnStep::Done(Err(exchange_error(
            exchange.role.receive_step(),
            self.peer.clone(),
            e,
        )))
    }

    fn send_failed(&self, exchange: &Exchange, e: io::Error) -> ConnStep {
        ConnStep::Done(Err(exchange_error(
            exchange.role.send_step(),
            self.peer.clone(),
            e,
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    use super::*;
    use crate::hello::{CLIENT_GREETING, SERVER_GREETING};
    use crate::sys;

    /// A client stream and the server's nonblocking end in a `Conn`.
    fn pair(exchange: &Exchange) -> (TcpStream, Conn<TcpStream>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, peer) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        let conn = Conn::new(server, Address::Inet(peer), exchange, Instant::now());
        (client, conn)
    }

    /// A [`pair`] whose server end has read `bytes` from the client and
    /// waits to read more.
    fn after_reading(exchange: &Exchange, bytes: &[u8]) -> (TcpStream, Conn<TcpStream>) {
        let (mut client, mut conn) = pair(exchange);
        send(&mut client, &conn, bytes);
        waits_to_read(ready(&mut conn, exchange));
        (client, conn)
    }

    /// Waits (at most 5 s) until the server's end is readable.
    fn readable(conn: &Conn<TcpStream>) {
        let mut fds = [conn.stream.poll_fd(Interest::Read)];
        let deadline = Instant::now() + Duration::from_secs(5);
        while !sys::is_ready(&fds[0]) {
            assert!(Instant::now() < deadline, "never readable");
            sys::poll(&mut fds, 100).unwrap();
        }
    }

    fn send(client: &mut TcpStream, conn: &Conn<TcpStream>, bytes: &[u8]) {
        client.write_all(bytes).unwrap();
        readable(conn);
    }

    /// `on_ready` with a scratch buffer of its own, as large as `exchange`
    /// needs: one byte past its largest message.
    fn ready(conn: &mut Conn<TcpStream>, exchange: &Exchange) -> ConnStep {
        conn.on_ready(exchange, &mut vec![0; exchange.max_message + 1])
    }

    fn waits_to_read(step: ConnStep) {
        assert!(matches!(step, ConnStep::Wait(Interest::Read)), "{step:?}");
    }

    fn message_of(step: ConnStep) -> Vec<u8> {
        match step {
            ConnStep::Done(Ok(message)) => message,
            other => panic!("{other:?}"),
        }
    }

    fn error_of(step: ConnStep) -> crate::Error {
        match step {
            ConnStep::Done(Err(e)) => e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn greeting_in_parts_is_answered_when_complete() {
        let exchange = Exchange::server();
        let (mut client, mut conn) = pair(&exchange);
        waits_to_read(ready(&mut conn, &exchange));
        let (head, tail) = CLIENT_GREETING.as_bytes().split_at(5);
        send(&mut client, &conn, head);
        waits_to_read(ready(&mut conn, &exchange));
        // A beginning of the greeting: a quiet gap does not end it.
        let gap_later = Instant::now() + 2 * exchange.quiet;
        waits_to_read(conn.on_timer(&exchange, gap_later));
        send(&mut client, &conn, tail);
        assert_eq!(
            message_of(ready(&mut conn, &exchange)),
            CLIENT_GREETING.as_bytes()
        );
        let mut reply = [0; SERVER_GREETING.len()];
        client.read_exact(&mut reply).unwrap();
        assert_eq!(&reply, SERVER_GREETING.as_bytes());
    }

    #[test]
    fn another_message_completes_after_the_quiet_gap() {
        let exchange = Exchange::server();
        let (_client, mut conn) = after_reading(&exchange, b"hi there");
        let quiet = conn.timer().expect("quiet gap armed");
        let early = quiet - Duration::from_millis(1);
        waits_to_read(conn.on_timer(&exchange, early));
        assert_eq!(message_of(conn.on_timer(&exchange, quiet)), b"hi there");
    }

    #[test]
    fn silence_times_out_at_the_deadline() {
        let mut exchange = Exchange::server();
        exchange.timeout(Duration::from_secs(2));
        let (_client, mut conn) = pair(&exchange);
        let deadline = conn.timer().expect("a deadline");
        waits_to_read(conn.on_timer(&exchange, deadline - Duration::from_millis(1)));
        let err = error_of(conn.on_timer(&exchange, deadline));
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(
            err.to_string().contains("peer sent nothing within 2s"),
            "{err}"
        );
    }

    #[test]
    fn end_of_file_mid_greeting_and_oversized_messages_fail() {
        let exchange = Exchange::server();
        let (client, mut conn) = after_reading(&exchange, b"Hello fr");
        client.shutdown(std::net::Shutdown::Write).unwrap();
        readable(&conn);
        let err = error_of(ready(&mut conn, &exchange));
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("after 8 of 17 bytes"), "{err}");

        let mut small = Exchange::server();
        small.max_message(32);
        let (mut client, mut conn) = pair(&small);
        send(&mut client, &conn, &[b'x'; 40]);
        let step = loop {
            match ready(&mut conn, &small) {
                ConnStep::Wait(_) => readable(&conn),
                done => break done,
            }
        };
        let err = error_of(step);
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("longer than 32 bytes"), "{err}");
    }
}
