//! The hello receive path, fed arbitrary peers through an in-memory stream.
//!
//! Each input describes an exchange (which side, its message, what it
//! expects, `max_message`, and a normal or an already-expired timeout) and a
//! peer: the byte chunks it sends, split anywhere, with `Interrupted`,
//! `WouldBlock`, `TimedOut` and failing reads among them, then end of file;
//! and how the stream takes writes (partially, interrupted, or failing).
//! `Exchange::run_io` must never panic, and its result must be what the
//! framing rules of the `hello` module documentation give for that peer, as
//! worked out here independently:
//!
//! - a message completes when the bytes received equal the expected message,
//!   at end of file after something that is not a proper beginning of the
//!   expected message, or at a `WouldBlock`/`TimedOut` read (the quiet gap of
//!   a stream whose timeouts the crate does not set) after such bytes;
//! - end of file before anything, or inside the expected message, is
//!   `UnexpectedEof`; a timeout read otherwise is `TimedOut`; more than
//!   `max_message` bytes is `InvalidData`; other read errors pass through;
//!   `Interrupted` is retried;
//! - the client sends first; the server replies only to a complete message;
//!   an invalid configuration touches nothing.
//!
//! With an expired timeout the receive may also end in `TimedOut` early.
#![no_main]

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::time::Duration;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use sockwright::hello::{Exchange, Role, Step};
use sockwright::{Address, Error};

/// What the peer's side of the stream does on one read.
#[derive(Debug, Clone)]
enum ReadEvent {
    Data(Vec<u8>),
    Fail(ErrorKind),
}

/// What the stream does with one write.
#[derive(Debug, Clone, Copy)]
enum WriteEvent {
    Take(usize),
    Fail(ErrorKind),
}

/// The in-memory stream: scripted reads (end of file once they run out)
/// and scripted writes (taking everything once they run out).
struct Wire {
    reads: VecDeque<ReadEvent>,
    writes: VecDeque<WriteEvent>,
    written: Vec<u8>,
    read_calls: usize,
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_calls += 1;
        assert!(!buf.is_empty(), "read into an empty buffer");
        match self.reads.pop_front() {
            None => Ok(0),
            Some(ReadEvent::Fail(kind)) => Err(kind.into()),
            Some(ReadEvent::Data(mut chunk)) => {
                let n = chunk.len().min(buf.len());
                buf[..n].copy_from_slice(&chunk[..n]);
                if n < chunk.len() {
                    self.reads.push_front(ReadEvent::Data(chunk.split_off(n)));
                }
                Ok(n)
            }
        }
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.writes.pop_front() {
            None => {
                self.written.extend_from_slice(buf);
                Ok(buf.len())
            }
            Some(WriteEvent::Fail(kind)) => Err(kind.into()),
            Some(WriteEvent::Take(n)) => {
                let n = n.min(buf.len());
                self.written.extend_from_slice(&buf[..n]);
                Ok(n)
            }
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The outcome the documentation gives.
#[derive(Debug, PartialEq)]
enum Expected {
    Invalid,
    Message(Vec<u8>),
    /// The step that failed and the error's kind.
    Failed(Step, ErrorKind),
}

struct Case {
    role: Role,
    message: Vec<u8>,
    expect: Option<Vec<u8>>,
    max_message: usize,
    expired: bool,
    reads: Vec<ReadEvent>,
    writes: Vec<WriteEvent>,
}

const READ_ERRORS: [ErrorKind; 6] = [
    ErrorKind::Interrupted,
    ErrorKind::WouldBlock,
    ErrorKind::TimedOut,
    ErrorKind::ConnectionReset,
    ErrorKind::BrokenPipe,
    ErrorKind::Other,
];

const WRITE_ERRORS: [ErrorKind; 4] = [
    ErrorKind::Interrupted,
    ErrorKind::WouldBlock,
    ErrorKind::BrokenPipe,
    ErrorKind::WriteZero,
];

fn bytes(u: &mut Unstructured<'_>, max: usize) -> Result<Vec<u8>> {
    let len = u.int_in_range(0..=max)?;
    // Mostly greeting-like bytes, so that expected messages are often met.
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        out.push(match u.int_in_range(0..=3)? {
            0 => *u.choose(b"Hello from client")?,
            1 => *u.choose(b"Hello from server")?,
            _ => u.arbitrary()?,
        });
    }
    Ok(out)
}

fn case(u: &mut Unstructured<'_>) -> Result<Case> {
    let role = if u.arbitrary()? {
        Role::Client
    } else {
        Role::Server
    };
    let max_message = match u.int_in_range(0..=3)? {
        0 => u.int_in_range(1..=20)?,
        1 => 17,
        _ => u.int_in_range(1..=2048)?,
    };
    let message = match u.int_in_range(0..=2)? {
        0 => bytes(u, 40)?,
        _ => b"Hello from somebody".to_vec(),
    };
    let expect = match u.int_in_range(0..=3)? {
        0 => None,
        1 => Some(bytes(u, 40)?),
        _ => Some(
            match role {
                Role::Client => "Hello from server",
                _ => "Hello from client",
            }
            .as_bytes()
            .to_vec(),
        ),
    };
    // The peer: mostly the expected message, cut anywhere, or bytes of its own.
    let mut sent = match u.int_in_range(0..=2)? {
        0 => bytes(u, 3000)?,
        _ => {
            let mut m = expect.clone().unwrap_or_default();
            m.extend(bytes(u, 8)?);
            m
        }
    };
    let cut = u.int_in_range(0..=sent.len())?;
    if u.arbitrary()? {
        sent.truncate(cut);
    }
    let mut reads = Vec::new();
    let mut rest = &sent[..];
    while !rest.is_empty() && reads.len() < 256 {
        if u.ratio(1, 6)? {
            reads.push(ReadEvent::Fail(*u.choose(&READ_ERRORS)?));
        }
        let n = u.int_in_range(1..=rest.len())?;
        reads.push(ReadEvent::Data(rest[..n].to_vec()));
        rest = &rest[n..];
    }
    while u.ratio(1, 4)? && reads.len() < 300 {
        reads.push(ReadEvent::Fail(*u.choose(&READ_ERRORS)?));
    }
    let mut writes = Vec::new();
    while u.ratio(1, 2)? && writes.len() < 64 {
        writes.push(if u.ratio(1, 3)? {
            WriteEvent::Fail(*u.choose(&WRITE_ERRORS)?)
        } else {
            WriteEvent::Take(u.int_in_range(1..=8)?)
        });
    }
    Ok(Case {
        role,
        message,
        expect,
        max_message,
        expired: u.ratio(1, 8)?,
        reads,
        writes,
    })
}

/// Whether `got` is a proper beginning of the expected message.
fn inside_expected(expect: &Option<Vec<u8>>, got: &[u8]) -> bool {
    expect
        .as_ref()
        .is_some_and(|e| e.len() > got.len() && e.starts_with(got))
}

/// What `write_all` makes of `message` over the scripted writes: the bytes
/// written and, if it fails, the error's kind.
fn model_send(message: &[u8], writes: &mut VecDeque<WriteEvent>) -> (Vec<u8>, Option<ErrorKind>) {
    let mut written = Vec::new();
    while written.len() < message.len() {
        let left = &message[written.len()..];
        match writes.pop_front() {
            None => written.extend_from_slice(left),
            Some(WriteEvent::Take(n)) => written.extend_from_slice(&left[..n.min(left.len())]),
            Some(WriteEvent::Fail(ErrorKind::Interrupted)) => {}
            Some(WriteEvent::Fail(kind)) => return (written, Some(kind)),
        }
    }
    (written, None)
}

/// The receive, as the documentation describes it.
fn model_receive(case: &Case) -> std::result::Result<Vec<u8>, ErrorKind> {
    let mut reads: VecDeque<ReadEvent> = case.reads.iter().cloned().collect();
    let room = case.max_message + 1;
    let mut got = Vec::new();
    loop {
        match reads.pop_front() {
            None if got.is_empty() || inside_expected(&case.expect, &got) => {
                return Err(ErrorKind::UnexpectedEof)
            }
            None => return Ok(got),
            Some(ReadEvent::Fail(ErrorKind::Interrupted)) => {}
            Some(ReadEvent::Fail(ErrorKind::WouldBlock | ErrorKind::TimedOut)) => {
                if !got.is_empty() && !inside_expected(&case.expect, &got) {
                    return Ok(got);
                }
                return Err(ErrorKind::TimedOut);
            }
            Some(ReadEvent::Fail(kind)) => return Err(kind),
            Some(ReadEvent::Data(mut chunk)) => {
                let n = chunk.len().min(room - got.len());
                got.extend_from_slice(&chunk[..n]);
                if n < chunk.len() {
                    reads.push_front(ReadEvent::Data(chunk.split_off(n)));
                }
                if got.len() > case.max_message {
                    return Err(ErrorKind::InvalidData);
                }
                if case.expect.as_deref() == Some(&got[..]) {
                    return Ok(got);
                }
            }
        }
    }
}

/// The whole exchange as documented: its outcome and the bytes written.
fn model(case: &Case) -> (Expected, Vec<u8>) {
    if case.message.is_empty() || case.message.len() > case.max_message {
        return (Expected::Invalid, Vec::new());
    }
    let (send_step, receive_step) = match case.role {
        Role::Client => (Step::SendGreeting, Step::ReceiveReply),
        _ => (Step::SendReply, Step::ReceiveGreeting),
    };
    let mut writes: VecDeque<WriteEvent> = case.writes.iter().copied().collect();
    let mut written = Vec::new();
    if case.role == Role::Client {
        let (w, failed) = model_send(&case.message, &mut writes);
        written = w;
        if let Some(kind) = failed {
            return (Expected::Failed(send_step, kind), written);
        }
    }
    let got = match model_receive(case) {
        Ok(got) => got,
        Err(kind) => return (Expected::Failed(receive_step, kind), written),
    };
    if case.role == Role::Server {
        let (w, failed) = model_send(&case.message, &mut writes);
        written = w;
        if let Some(kind) = failed {
            return (Expected::Failed(send_step, kind), written);
        }
    }
    (Expected::Message(got), written)
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let case = case(u)?;
    let mut ex = match case.role {
        Role::Client => Exchange::client(),
        _ => Exchange::server(),
    };
    ex.message(case.message.clone())
        .expect(case.expect.clone())
        .max_message(case.max_message)
        // No timeout is set on an in-memory stream; these bound only the
        // receive's own clock. An expired one is a nanosecond long.
        .timeout(if case.expired {
            Duration::from_nanos(1)
        } else {
            Duration::from_secs(3600)
        })
        .quiet(Duration::from_millis(1));
    let mut wire = Wire {
        reads: case.reads.iter().cloned().collect(),
        writes: case.writes.iter().copied().collect(),
        written: Vec::new(),
        read_calls: 0,
    };
    let peer = Address::Inet(([127, 0, 0, 1], 9).into());
    let result = ex.run_io(&mut wire, &peer);
    let (expected, written) = model(&case);

    let actual = match &result {
        Ok(got) => {
            assert!(
                got.len() <= case.max_message,
                "{} bytes returned",
                got.len()
            );
            Expected::Message(got.clone())
        }
        Err(Error::InvalidConfig { .. }) => Expected::Invalid,
        Err(err @ Error::Exchange { step, .. }) => {
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("{step} 127.0.0.1:9: ")),
                "message does not name the step and the peer: {text}"
            );
            Expected::Failed(*step, err.kind())
        }
        Err(other) => panic!("unexpected error {other}"),
    };
    if actual == expected {
        assert_eq!(wire.written, written, "bytes written");
    } else {
        // An expired timeout may end the receive early, and nothing else.
        let receive_step = match case.role {
            Role::Client => Step::ReceiveReply,
            _ => Step::ReceiveGreeting,
        };
        assert!(
            case.expired && actual == Expected::Failed(receive_step, ErrorKind::TimedOut),
            "expected {expected:?}, got {actual:?} for reads {:?}, writes {:?}",
            case.reads,
            case.writes
        );
    }
    if expected == Expected::Invalid {
        assert_eq!(wire.read_calls, 0, "read despite an invalid configuration");
        assert!(
            wire.written.is_empty(),
            "wrote despite an invalid configuration"
        );
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
