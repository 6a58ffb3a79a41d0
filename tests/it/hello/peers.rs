//! Hostile peers against both sides of the hello exchange: refused, reset
//! part way, half-closed, silent, slow, endless, oversized and non-UTF-8.
//!
//! Each case runs the side under test (`Exchange::server()` on an accepted
//! stream, or `Exchange::client()` on a connected one) on the test thread,
//! while the hostile peer plays the other end on its own thread. Every case
//! checks the documented outcome (the bytes, or the error's kind, step and
//! peer) and how long it took. The stream cases run over TCP and, on Unix,
//! over Unix-domain streams; the datagram cases over UDP.

use crate::util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::sync::{Arc, Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::refused_port;
use sockwright::hello::{
    CLIENT_GREETING, DEFAULT_MAX_MESSAGE, Exchange, Io, Named, Role, SERVER_GREETING,
};
use sockwright::{ConnectorBuilder, Error, ListenerBuilder};

/// Slack allowed on top of a timeout for scheduling on a busy machine.
const MARGIN: Duration = Duration::from_millis(1500);

/// How long each read or write of a hostile peer may block, at most.
const PEER_PATIENCE: Duration = Duration::from_secs(20);

// --- counting the bytes a thread allocates ------------------------------------

/// The system allocator, counting the bytes each thread asks for.
struct Counting;

thread_local! {
    // Already `const`; some clippy versions say otherwise when std is
    // built from source.
    #[allow(clippy::missing_const_for_thread_local)]
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    // `try_with`: allocations during thread teardown are not counted.
    let _ = ALLOCATED.try_with(|a| a.set(a.get().saturating_add(bytes)));
}

fn allocated() -> usize {
    ALLOCATED.with(Cell::get)
}

// SAFETY: every call is passed on to `System` unchanged, with the
// caller's arguments and so under the caller's own contract; counting
// touches only a thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size.saturating_sub(layout.size()));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

// --- the transports ---------------------------------------------------------------

/// A stream transport the cases run over.
trait Wire: Read + Write + Send + Sized + 'static {
    /// A connected pair made through a listener: (client end, server end).
    fn pair() -> (Self, Self);
    fn run(ex: &Exchange, stream: &mut Self) -> sockwright::Result<Vec<u8>>;
    fn shutdown_write(&self);
    /// The peer's address as the crate's errors show it.
    fn peer_name(&self) -> String;
    /// Bounds each read and each write of the hostile peer.
    fn set_timeouts(&self, timeout: Duration);
}

impl Wire for TcpStream {
    fn pair() -> (Self, Self) {
        util::tcp_pair()
    }
    /// Names the peer as a server that has it from `accept` does, so the
    /// name survives a reset; `run` alone is checked in
    /// `reset_without_a_known_peer_is_named_unknown`.
    fn run(ex: &Exchange, stream: &mut Self) -> sockwright::Result<Vec<u8>> {
        let peer = stream.peer_addr().unwrap();
        ex.run(&mut Named::new(stream, peer))
    }
    fn shutdown_write(&self) {
        self.shutdown(Shutdown::Write).unwrap();
    }
    fn peer_name(&self) -> String {
        self.peer_addr().unwrap().to_string()
    }
    fn set_timeouts(&self, timeout: Duration) {
        self.set_read_timeout(Some(timeout)).unwrap();
        self.set_write_timeout(Some(timeout)).unwrap();
    }
}

#[cfg(unix)]
impl Wire for std::os::unix::net::UnixStream {
    fn pair() -> (Self, Self) {
        let dir = util::TempDir::new("peers");
        let path = dir.join("hello.sock");
        let listener = ListenerBuilder::new().listen_unix(&path).unwrap();
        let client = ConnectorBuilder::new().connect_unix(&path).unwrap();
        let (server, _) = listener.accept().unwrap();
        (client, server)
    }
    fn run(ex: &Exchange, stream: &mut Self) -> sockwright::Result<Vec<u8>> {
        ex.run(stream)
    }
    fn shutdown_write(&self) {
        self.shutdown(Shutdown::Write).unwrap();
    }
    fn peer_name(&self) -> String {
        let addr = self.peer_addr().unwrap();
        match addr.as_pathname() {
            Some(path) => path.display().to_string(),
            None => "(unnamed)".to_owned(),
        }
    }
    fn set_timeouts(&self, timeout: Duration) {
        self.set_read_timeout(Some(timeout)).unwrap();
        self.set_write_timeout(Some(timeout)).unwrap();
    }
}

/// What the side under test got, and what the hostile peer returned.
struct Outcome<T> {
    result: sockwright::Result<Vec<u8>>,
    took: Duration,
    /// The peer as the side under test names it.
    peer: String,
    /// Bytes the side under test allocated while it ran.
    allocated: usize,
    hostile: T,
}

/// Runs `ex` on its end of a fresh pair while `hostile` plays the other end
/// on its own thread; then closes the tested end and waits for `hostile`.
fn face<W: Wire, T: Send + 'static>(
    ex: &Exchange,
    hostile: impl FnOnce(W) -> T + Send + 'static,
) -> Outcome<T> {
    let (client, server) = W::pair();
    let (mut ours, theirs) = if ex.role() == Role::Client {
        (client, server)
    } else {
        (server, client)
    };
    let peer = ours.peer_name();
    theirs.set_timeouts(PEER_PATIENCE);
    let handle = thread::spawn(move || hostile(theirs));
    let before = allocated();
    let started = Instant::now();
    let result = W::run(ex, &mut ours);
    let took = started.elapsed();
    let allocated = allocated() - before;
    drop(ours);
    let hostile = handle.join().expect("the hostile peer panicked");
    Outcome {
        result,
        took,
        peer,
        allocated,
        hostile,
    }
}

/// Reads until end of file (the tested side closed), each read within
/// [`PEER_PATIENCE`].
fn drain<W: Wire>(mut stream: W) -> Vec<u8> {
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got);
    got
}

/// Writes `bytes` one at a time, `pause` apart; stops at the first error.
fn drip<W: Wire>(stream: &mut W, bytes: &[u8], pause: Duration) {
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            thread::sleep(pause);
        }
        if stream.write_all(&[*byte]).is_err() {
            return;
        }
    }
}

/// The hostile server's first move: take the client's greeting.
fn take_greeting<W: Wire>(stream: &mut W) {
    let mut greeting = [0; 17];
    stream.read_exact(&mut greeting).unwrap();
    assert_eq!(&greeting, CLIENT_GREETING.as_bytes());
}

fn receive_step(ex: &Exchange) -> &'static str {
    if ex.role() == Role::Client {
        "receive reply from"
    } else {
        "receive greeting from"
    }
}

/// Asserts that the outcome is an exchange error of one of `kinds`, naming
/// the receive step and the peer, and returns its message.
fn assert_fails<T>(out: &Outcome<T>, ex: &Exchange, kinds: &[ErrorKind]) -> String {
    let err = match &out.result {
        Ok(got) => panic!(
            "{:?} side: expected {kinds:?}, got Ok({:?})",
            ex.role(),
            String::from_utf8_lossy(got)
        ),
        Err(err) => err,
    };
    let text = err.to_string();
    assert!(matches!(err, Error::Exchange { .. }), "{text}");
    assert!(kinds.contains(&err.kind()), "kind {:?}: {text}", err.kind());
    let prefix = format!("{} {}: ", receive_step(ex), out.peer);
    assert!(text.starts_with(&prefix), "{text:?} lacks {prefix:?}");
    text
}

fn assert_got<T>(out: &Outcome<T>, expected: &[u8]) {
    match &out.result {
        Ok(got) => assert_eq!(got, expected, "{}", String::from_utf8_lossy(got)),
        Err(err) => panic!(
            "expected {:?}, got {err}",
            String::from_utf8_lossy(expected)
        ),
    }
}

fn assert_took_between(took: Duration, low: Duration, high: Duration, what: &str) {
    assert!(
        took >= low && took <= high,
        "{what}: took {took:?}, not within {low:?}..={high:?}"
    );
}

fn server() -> Exchange {
    Exchange::server()
}

fn client() -> Exchange {
    Exchange::client()
}

/// Runs a case for each stream transport, as `name::tcp` and `name::unix`.
macro_rules! on_streams {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[test]
            fn tcp() {
                super::$case::<std::net::TcpStream>();
            }
            #[cfg(unix)]
            #[test]
            fn unix() {
                super::$case::<std::os::unix::net::UnixStream>();
            }
        }
    )*};
}

on_streams!(
    half_closed_after_message,
    half_closed_before_message,
    silent,
    byte_at_a_time,
    slow_loris,
    oversized,
    non_utf8,
);

// --- the stream cases ---------------------------------------------------------------

/// A peer that sends its message and then shuts down its write side still
/// gets a complete exchange; a message other than the greeting ends at the
/// end of file, without waiting for the quiet gap.
fn half_closed_after_message<W: Wire>() {
    let out = face(&server(), |mut peer: W| {
        peer.write_all(CLIENT_GREETING.as_bytes()).unwrap();
        peer.shutdown_write();
        drain(peer)
    });
    assert_got(&out, CLIENT_GREETING.as_bytes());
    assert_eq!(
        out.hostile,
        SERVER_GREETING.as_bytes(),
        "reply after half-close"
    );

    let out = face(&client(), |mut peer: W| {
        take_greeting(&mut peer);
        peer.write_all(SERVER_GREETING.as_bytes()).unwrap();
        peer.shutdown_write();
        drain(peer)
    });
    assert_got(&out, SERVER_GREETING.as_bytes());

    let patient = Duration::from_secs(30);
    let out = face(server().quiet(patient), |mut peer: W| {
        peer.write_all(b"Hi").unwrap();
        peer.shutdown_write();
        drain(peer)
    });
    assert_got(&out, b"Hi");
    assert!(out.took < MARGIN, "waited {:?} after end of file", out.took);
    assert_eq!(out.hostile, SERVER_GREETING.as_bytes());

    let out = face(client().quiet(patient), |mut peer: W| {
        take_greeting(&mut peer);
        peer.write_all(b"Howdy").unwrap();
        peer.shutdown_write();
        drain(peer)
    });
    assert_got(&out, b"Howdy");
    assert!(out.took < MARGIN, "waited {:?} after end of file", out.took);
}

/// A peer that shuts down its write side before sending anything, or part
/// way through the greeting, is an `UnexpectedEof` at once, and the server
/// does not reply to it.
fn half_closed_before_message<W: Wire>() {
    let ex = server();
    let out = face(&ex, |peer: W| {
        peer.shutdown_write();
        drain(peer)
    });
    let text = assert_fails(&out, &ex, &[ErrorKind::UnexpectedEof]);
    assert!(text.contains("without sending anything"), "{text}");
    assert!(out.took < MARGIN, "took {:?}", out.took);
    assert!(
        out.hostile.is_empty(),
        "replied to a peer that sent nothing"
    );

    let out = face(&ex, |mut peer: W| {
        peer.write_all(b"Hello fr").unwrap();
        peer.shutdown_write();
        drain(peer)
    });
    let text = assert_fails(&out, &ex, &[ErrorKind::UnexpectedEof]);
    assert!(text.contains("after 8 of 17 bytes"), "{text}");
    assert!(out.hostile.is_empty(), "replied to a truncated greeting");

    let ex = client();
    let out = face(&ex, |mut peer: W| {
        take_greeting(&mut peer);
        peer.shutdown_write();
        drain(peer)
    });
    let text = assert_fails(&out, &ex, &[ErrorKind::UnexpectedEof]);
    assert!(text.contains("without sending anything"), "{text}");

    let out = face(&ex, |mut peer: W| {
        take_greeting(&mut peer);
        peer.write_all(b"Hello fr").unwrap();
        peer.shutdown_write();
        drain(peer)
    });
    let text = assert_fails(&out, &ex, &[ErrorKind::UnexpectedEof]);
    assert!(text.contains("after 8 of 17 bytes"), "{text}");
}

/// A peer that sends nothing, or stops part way, is a `TimedOut` no earlier
/// than the timeout and not much later.
fn silent<W: Wire>() {
    let timeout = Duration::from_millis(300);
    let ex = server().timeout(timeout).clone();
    let out = face(&ex, drain::<W>);
    let text = assert_fails(&out, &ex, &[ErrorKind::TimedOut]);
    assert!(text.contains("peer sent nothing within 300ms"), "{text}");
    assert_took_between(out.took, timeout, timeout + MARGIN, "silent client");
    assert!(out.hostile.is_empty(), "replied to a silent peer");

    let out = face(&ex, |mut peer: W| {
        peer.write_all(b"Hello fr").unwrap();
        drain(peer)
    });
    let text = assert_fails(&out, &ex, &[ErrorKind::TimedOut]);
    assert!(text.contains("only 8 bytes"), "{text}");
    assert_took_between(out.took, timeout, timeout + MARGIN, "stalled client");

    let ex = client().timeout(timeout).clone();
    let out = face(&ex, |mut peer: W| {
        take_greeting(&mut peer);
        drain(peer)
    });
    assert_fails(&out, &ex, &[ErrorKind::TimedOut]);
    assert_took_between(out.took, timeout, timeout + MARGIN, "silent server");
}

/// A message sent one byte at a time, with pauses shorter than the quiet
/// gap, arrives whole.
fn byte_at_a_time<W: Wire>() {
    let pause = Duration::from_millis(20);
    let out = face(&server(), move |mut peer: W| {
        drip(&mut peer, CLIENT_GREETING.as_bytes(), pause);
        drain(peer)
    });
    assert_got(&out, CLIENT_GREETING.as_bytes());
    assert_eq!(out.hostile, SERVER_GREETING.as_bytes());

    let out = face(&client(), move |mut peer: W| {
        take_greeting(&mut peer);
        drip(&mut peer, SERVER_GREETING.as_bytes(), pause);
        drain(peer)
    });
    assert_got(&out, SERVER_GREETING.as_bytes());

    // Not the expected greeting: only the quiet gap ends it, and each pause
    // is shorter than that gap.
    let other = b"Greetings, slow server";
    let quiet = Duration::from_secs(1);
    let out = face(server().quiet(quiet), move |mut peer: W| {
        drip(&mut peer, other, pause);
        drain(peer)
    });
    assert_got(&out, other);
    assert!(
        out.took >= pause * (other.len() as u32 - 2) + quiet,
        "ended after {:?}, before the last byte's quiet gap",
        out.took
    );
    assert_eq!(out.hostile, SERVER_GREETING.as_bytes());
}

/// A peer that keeps sending one byte at a time, each sooner than the quiet
/// gap, cannot hold the receive open past its timeout.
fn slow_loris<W: Wire>() {
    let timeout = Duration::from_secs(1);
    let pause = Duration::from_millis(50);
    // Never-ending, as far as the side under test can tell: it stops only
    // when its writes fail (the tested side closed) or after 400 bytes.
    let endless = [b'x'; 400];
    for ex in [server(), client()] {
        let ex = ex.clone().timeout(timeout).quiet(timeout / 2).clone();
        let role = ex.role();
        let out = face(&ex, move |mut peer: W| {
            if role == Role::Client {
                take_greeting(&mut peer);
            }
            drip(&mut peer, &endless, pause);
        });
        let text = assert_fails(&out, &ex, &[ErrorKind::TimedOut]);
        assert!(
            text.contains("within 1s") || text.contains("after 1s"),
            "{text}"
        );
        assert_took_between(out.took, timeout, timeout + MARGIN, "slow loris");
    }
}

/// More than `max_message` bytes is an `InvalidData` at once; exactly
/// `max_message` is accepted.
fn oversized<W: Wire>() {
    let flood = vec![b'x'; 1 << 20];
    for ex in [server(), client()] {
        let role = ex.role();
        let sent = flood.clone();
        let out = face(&ex, move |mut peer: W| {
            if role == Role::Client {
                take_greeting(&mut peer);
            }
            // Fails once the tested side has given up and closed.
            let _ = peer.write_all(&sent);
        });
        let text = assert_fails(&out, &ex, &[ErrorKind::InvalidData]);
        assert!(text.contains("longer than 1024 bytes"), "{text}");
        assert!(out.took < MARGIN, "took {:?}", out.took);
    }

    for (len, ok) in [(64, true), (65, false)] {
        let out = face(server().max_message(64), move |mut peer: W| {
            peer.write_all(&vec![b'y'; len]).unwrap();
            peer.shutdown_write();
            drain(peer)
        });
        assert_eq!(out.result.is_ok(), ok, "{len} bytes with max_message 64");
        if ok {
            assert_got(&out, &[b'y'; 64]);
        }
    }
}

/// Bytes that are not UTF-8 (with a NUL among them) are returned as they
/// are, whichever side receives them and however the message ends; an
/// expected message that is not UTF-8 completes as soon as it arrives.
fn non_utf8<W: Wire>() {
    // The log is read through the process's one logger, which no other
    // test may share.
    if !crate::util::in_own_process() {
        return;
    }
    let logs = capture_logs();
    let odd: &'static [u8] = b"\xff\xfe\x00Hello\xc3\x28\x80";
    let out = face(&server(), move |mut peer: W| {
        peer.write_all(odd).unwrap();
        peer.shutdown_write();
        drain(peer)
    });
    assert_got(&out, odd);
    assert_eq!(out.hostile, SERVER_GREETING.as_bytes());

    let out = face(&client(), move |mut peer: W| {
        take_greeting(&mut peer);
        peer.write_all(odd).unwrap();
        drain(peer)
    });
    assert_got(&out, odd);

    let patient = Duration::from_secs(30);
    let out = face(
        server().expect(Some(odd)).quiet(patient).message(odd),
        move |mut peer: W| {
            peer.write_all(odd).unwrap();
            let mut reply = vec![0; odd.len()];
            peer.read_exact(&mut reply).unwrap();
            reply
        },
    );
    assert_got(&out, odd);
    assert!(
        out.took < MARGIN,
        "waited {:?} for an expected message",
        out.took
    );
    assert_eq!(out.hostile, odd, "a non-UTF-8 reply is sent as it is");

    // Shown to a person, the bytes need a lossy conversion; the crate's own
    // log lines carry counts, never the peer's bytes.
    let shown = String::from_utf8_lossy(odd);
    assert!(shown.contains("Hello") && shown.contains('\u{fffd}'));
    let logged = logs.text();
    assert!(logged.contains("received 11 bytes"), "log:\n{logged}");
    assert!(
        !logged.contains("Hello\u{fffd}"),
        "log shows the bytes:\n{logged}"
    );
}

// --- cases that apply to TCP only ---------------------------------------------------

/// Closes with `SO_LINGER` 0, so the kernel sends a reset instead of a FIN.
fn reset(stream: TcpStream) {
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
}

/// A peer that resets the connection part way is an error at once, naming
/// the step and the peer (whose address the socket can no longer report).
#[test]
fn reset_mid_exchange() {
    let pause = Duration::from_millis(100);
    let patient = Duration::from_secs(30);
    let ex = server().timeout(patient).clone();
    for sent in [&b""[..], b"Hello fr"] {
        let out = face(&ex, move |mut peer: TcpStream| {
            peer.write_all(sent).unwrap();
            thread::sleep(pause);
            reset(peer);
        });
        // Linux reports the reset itself; a platform may instead report
        // the end of the stream.
        let text = assert_fails(&out, &ex, &[ErrorKind::ConnectionReset]);
        assert!(out.took < MARGIN + pause, "took {:?}", out.took);
        eprintln!("server side, reset after {} bytes: {text}", sent.len());
    }

    let ex = client().timeout(patient).clone();
    let out = face(&ex, move |mut peer: TcpStream| {
        take_greeting(&mut peer);
        peer.write_all(b"Hello fr").unwrap();
        thread::sleep(pause);
        reset(peer);
    });
    let text = assert_fails(&out, &ex, &[ErrorKind::ConnectionReset]);
    assert!(out.took < MARGIN + pause, "took {:?}", out.took);
    eprintln!("client side, reset after 8 bytes: {text}");
}

/// `run` on a `TcpStream` reads the peer's address only when an error names it; after a
/// reset there is none left to read (Linux), and the error says so rather
/// than showing a made-up address.
#[cfg(target_os = "linux")]
#[test]
fn reset_without_a_known_peer_is_named_unknown() {
    let (mut peer, mut server) = TcpStream::pair();
    peer.write_all(b"Hello fr").unwrap();
    reset(peer);
    let err = Exchange::server()
        .timeout(Duration::from_secs(30))
        .run(&mut server)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    assert!(
        err.to_string()
            .starts_with("receive greeting from (unknown address): "),
        "{err}"
    );
}

/// A client whose server is gone gets a connect error naming the address.
#[test]
fn refused_tcp_connect_names_the_address() {
    let (_holder, addr) = refused_port();
    let err = ConnectorBuilder::new()
        .connect_timeout(Duration::from_secs(30))
        .connect(addr)
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    assert!(
        err.to_string().starts_with(&format!("connect {addr}: ")),
        "{err}"
    );
}

/// The memory an exchange allocates is bounded by `max_message`, whatever
/// the peer sends.
#[test]
fn memory_does_not_depend_on_what_the_peer_sends() {
    for max in [DEFAULT_MAX_MESSAGE, 64 * 1024] {
        // Just over the limit, then 16 MiB.
        for flood in [max + 1, 16 << 20] {
            let out = face(server().max_message(max), move |mut peer: TcpStream| {
                // Fails once the tested side has given up and closed (or,
                // under Wine, which does not always wake a blocked send on a
                // reset, once the write timeout runs out).
                peer.set_write_timeout(Some(Duration::from_secs(2)))
                    .unwrap();
                let _ = peer.write_all(&vec![b'z'; flood]);
            });
            let kind = out.result.as_ref().map(Vec::len).map_err(Error::kind);
            assert_eq!(kind, Err(ErrorKind::InvalidData), "{flood} bytes");
            eprintln!(
                "max_message {max}: peer sent {flood} bytes, exchange allocated {} bytes",
                out.allocated
            );
            assert!(
                out.allocated <= max + 1 + 8 * 1024,
                "allocated {} bytes for max_message {max} against {flood} bytes",
                out.allocated
            );
        }
    }
}

/// Into a caller's buffer, a TCP exchange allocates nothing on either side,
/// whether the greeting comes whole or a byte at a time (the receive loop).
#[test]
fn run_into_allocates_nothing() {
    for (role, drip_pause) in [
        (Role::Server, None),
        (Role::Client, None),
        (Role::Server, Some(Duration::from_millis(5))),
        (Role::Client, Some(Duration::from_millis(5))),
    ] {
        let (client, server) = util::tcp_pair();
        // `sent`: what the peer sends the side under test.
        let (ex, mut ours, mut theirs, sent) = match role {
            Role::Server => (Exchange::server(), server, client, CLIENT_GREETING),
            _ => (Exchange::client(), client, server, SERVER_GREETING),
        };
        theirs.set_timeouts(PEER_PATIENCE);
        let peer = thread::spawn(move || {
            if role == Role::Client {
                take_greeting(&mut theirs);
            }
            match drip_pause {
                Some(pause) => drip(&mut theirs, sent.as_bytes(), pause),
                None => theirs.write_all(sent.as_bytes()).unwrap(),
            }
            if role == Role::Server {
                let mut reply = [0; 17];
                theirs.read_exact(&mut reply).unwrap();
                assert_eq!(&reply, SERVER_GREETING.as_bytes());
            }
        });
        let mut buf = [0; 64];
        let before = allocated();
        let n = ex.run_into(&mut ours, &mut buf).unwrap();
        let allocated = allocated() - before;
        peer.join().expect("the peer panicked");
        assert_eq!(&buf[..n], sent.as_bytes(), "{role:?} {drip_pause:?}");
        assert_eq!(
            allocated, 0,
            "{role:?} {drip_pause:?}: allocated {allocated} bytes"
        );
    }
}

// --- Unix-domain specifics ------------------------------------------------------------

/// A Unix path whose server is gone (a stale socket file) is refused, naming
/// the path.
#[cfg(unix)]
#[test]
fn refused_unix_connect_names_the_path() {
    let dir = util::TempDir::new("peers-refused");
    let path = dir.join("gone.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let err = ConnectorBuilder::new()
        .connect_timeout(Duration::from_secs(30))
        .connect_unix(&path)
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    let prefix = format!("connect {}: ", path.display());
    assert!(err.to_string().starts_with(&prefix), "{err}");
}

/// A server at a path that is not UTF-8 is named, lossily, in the error of
/// a client it leaves waiting.
#[cfg(unix)]
#[test]
fn non_utf8_unix_path_is_shown_in_errors() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let dir = util::TempDir::new("peers-path");
    let path = dir.path().join(OsStr::from_bytes(b"\xff\xfe.sock"));
    let listener = ListenerBuilder::new().listen_unix(&path).unwrap();
    let mut stream = ConnectorBuilder::new().connect_unix(&path).unwrap();
    let (_silent, _) = listener.accept().unwrap();
    let err = Exchange::client()
        .timeout(Duration::from_millis(100))
        .run(&mut stream)
        .unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{text}");
    assert!(text.contains("\u{fffd}\u{fffd}.sock: "), "{text}");
}

// --- datagrams --------------------------------------------------------------------

fn udp() -> UdpSocket {
    ListenerBuilder::new().bind_udp("127.0.0.1:0").unwrap()
}

fn assert_udp_fails(
    result: sockwright::Result<(Vec<u8>, SocketAddr)>,
    step: &str,
    peer: SocketAddr,
    kind: ErrorKind,
) -> String {
    let err = result.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Exchange { .. }), "{text}");
    assert_eq!(err.kind(), kind, "{text}");
    assert!(
        text.starts_with(&format!("{step} {peer}: ")),
        "{text:?} does not name {peer}"
    );
    text
}

/// A datagram longer than `max_message` is an `InvalidData` naming its
/// sender, on either side; one of exactly `max_message` bytes is accepted.
#[test]
fn udp_oversized_datagram() {
    let server_socket = udp();
    let addr = server_socket.local_addr().unwrap();
    let sender = udp();
    let from = sender.local_addr().unwrap();
    let ex = server().max_message(64).clone();
    for len in [65, 60_000] {
        sender.send_to(&vec![b'x'; len], addr).unwrap();
        let err = ex.run_udp(&server_socket).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::Exchange { .. }), "{text}");
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{text}");
        assert!(text.contains("longer than 64 bytes"), "{text}");
        // Windows does not tell who sent a datagram that is too long (Wine
        // sometimes does): the server then names its own address.
        let named = if cfg!(windows) {
            &[from, addr][..]
        } else {
            &[from][..]
        };
        assert!(
            named
                .iter()
                .any(|n| text.starts_with(&format!("receive greeting from {n}: "))),
            "{text:?} names neither of {named:?}"
        );
    }
    sender.send_to(&[b'y'; 64], addr).unwrap();
    let (got, peer) = ex.run_udp(&server_socket).unwrap();
    assert_eq!((got, peer), (vec![b'y'; 64], from));

    // The client side, against a server that answers with 2,000 bytes.
    let hostile = udp();
    let hostile_addr = hostile.local_addr().unwrap();
    let client_socket = ConnectorBuilder::new().connect_udp(hostile_addr).unwrap();
    let answer = thread::spawn(move || {
        let mut buf = [0; 64];
        let (_, from) = hostile.recv_from(&mut buf).unwrap();
        hostile.send_to(&[b'z'; 2000], from).unwrap();
    });
    let result = client().run_udp(&client_socket);
    answer.join().unwrap();
    let text = assert_udp_fails(
        result,
        "receive reply from",
        hostile_addr,
        ErrorKind::InvalidData,
    );
    assert!(text.contains("longer than 1024 bytes"), "{text}");
}

/// Nothing within the timeout is a `TimedOut` on either side, as for streams.
#[test]
fn udp_silent_peer() {
    let timeout = Duration::from_millis(300);
    let server_socket = udp();
    let addr = server_socket.local_addr().unwrap();
    let started = Instant::now();
    let result = server().timeout(timeout).run_udp(&server_socket);
    let took = started.elapsed();
    let text = assert_udp_fails(result, "receive greeting from", addr, ErrorKind::TimedOut);
    assert!(text.contains("within 300ms"), "{text}");
    assert_took_between(took, timeout, timeout + MARGIN, "udp server");

    // The client side: the server socket is bound but never answers.
    let client_socket = ConnectorBuilder::new().connect_udp(addr).unwrap();
    let started = Instant::now();
    let result = client().timeout(timeout).run_udp(&client_socket);
    let took = started.elapsed();
    assert_udp_fails(result, "receive reply from", addr, ErrorKind::TimedOut);
    assert_took_between(took, timeout, timeout + MARGIN, "udp client");
}

/// A client's socket is connected to its server: a datagram from anyone
/// else never reaches it, even one carrying the expected reply.
#[test]
fn udp_client_ignores_other_senders() {
    // On Linux, on an address of loopback that no other test uses: the
    // connected client would take an ICMP "port unreachable" quoting a
    // datagram that another test's socket, on the same port a moment
    // before, sent to the same address (`ECONNREFUSED` on its receive), as
    // it did once with eight tests at once. Under Wine the server's reply
    // from that address did not reach the client, so elsewhere the test
    // stays on 127.0.0.1.
    let here = if cfg!(target_os = "linux") {
        "127.77.0.1:0"
    } else {
        "127.0.0.1:0"
    };
    let own = || ListenerBuilder::new().bind_udp(here).unwrap();
    let server_socket = own();
    let addr = server_socket.local_addr().unwrap();
    let stranger = own();
    let client_socket = ConnectorBuilder::new().connect_udp(addr).unwrap();
    let client_addr = client_socket.local_addr().unwrap();

    // Only the stranger answers: the client waits out its timeout.
    stranger
        .send_to(SERVER_GREETING.as_bytes(), client_addr)
        .unwrap();
    let timeout = Duration::from_millis(300);
    let result = client().timeout(timeout).run_udp(&client_socket);
    assert_udp_fails(result, "receive reply from", addr, ErrorKind::TimedOut);

    // The stranger answers first, then the server: the client takes the
    // server's reply.
    let server = thread::spawn(move || {
        let mut buf = [0; 64];
        let (_, from) = server_socket.recv_from(&mut buf).unwrap();
        stranger.send_to(b"Hello from a stranger", from).unwrap();
        server_socket
            .send_to(SERVER_GREETING.as_bytes(), from)
            .unwrap();
    });
    let (got, from) = client().run_udp(&client_socket).unwrap();
    server.join().unwrap();
    assert_eq!(got, SERVER_GREETING.as_bytes());
    assert_eq!(from, addr);
}

/// A datagram may be empty; it is then an empty message, and is answered.
#[test]
fn udp_empty_datagram_is_an_empty_message() {
    let server_socket = udp();
    let addr = server_socket.local_addr().unwrap();
    let sender = udp();
    sender.send_to(&[], addr).unwrap();
    let (got, from) = server().run_udp(&server_socket).unwrap();
    assert!(got.is_empty());
    assert_eq!(from, sender.local_addr().unwrap());
    let mut buf = [0; 64];
    sender
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (n, _) = sender.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], SERVER_GREETING.as_bytes());
}

/// A client whose UDP server is gone learns it from the ICMP error: the
/// receive is refused at once rather than waiting out its timeout. (Windows
/// reports the same ICMP error as a reset instead.)
#[cfg(unix)]
#[test]
fn udp_refused() {
    let gone = udp();
    let addr = gone.local_addr().unwrap();
    drop(gone);
    let client_socket = ConnectorBuilder::new().connect_udp(addr).unwrap();
    let started = Instant::now();
    let result = client()
        .timeout(Duration::from_secs(30))
        .run_udp(&client_socket);
    let took = started.elapsed();
    assert_udp_fails(
        result,
        "receive reply from",
        addr,
        ErrorKind::ConnectionRefused,
    );
    assert!(took < MARGIN, "took {took:?}");
}

// --- logs ------------------------------------------------------------------------------

/// Everything logged in this process, from the first call on.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

/// Room for the log; lines past it are dropped, so that logging never
/// allocates for the log's own growth.
const LOG_ROOM: usize = 1 << 20;

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut log = self.0.lock().unwrap();
        if log.len() + buf.len() <= LOG_ROOM {
            log.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs a logger at `trace` level that keeps every line in memory.
fn capture_logs() -> Logs {
    static ONCE: Once = Once::new();
    static LOGS: Mutex<Option<Logs>> = Mutex::new(None);
    ONCE.call_once(|| {
        let logs = Logs(Arc::new(Mutex::new(Vec::with_capacity(LOG_ROOM))));
        env_logger::Builder::new()
            .parse_filters("trace")
            .target(env_logger::Target::Pipe(Box::new(logs.clone())))
            .init();
        *LOGS.lock().unwrap() = Some(logs);
    });
    LOGS.lock().unwrap().clone().unwrap()
}

// --- limits of the configuration and of the reader ------------------------------------

/// A read that a signal interrupts again and again cannot keep the receive
/// past its timeout, even over a reader whose timeouts the crate cannot set.
#[test]
fn endless_interruptions_end_at_the_timeout() {
    struct Interrupted(Instant);
    impl Read for Interrupted {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            // Bounded: gives up with end of file after a while.
            if self.0.elapsed() > PEER_PATIENCE {
                return Ok(0);
            }
            Err(ErrorKind::Interrupted.into())
        }
    }
    impl Write for Interrupted {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let timeout = Duration::from_millis(200);
    let peer = sockwright::Address::Inet("127.0.0.1:9".parse().unwrap());
    let started = Instant::now();
    let err = server()
        .timeout(timeout)
        .run(&mut Named::new(Io(Interrupted(started)), peer))
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert_took_between(took, timeout, timeout + MARGIN, "interrupted reads");
}

/// A `max_message` too large for a buffer one byte longer is a
/// configuration error, not a panic.
#[test]
fn max_message_too_large_for_a_buffer_is_rejected() {
    let peer = sockwright::Address::Inet("127.0.0.1:9".parse().unwrap());
    for max in [usize::MAX, isize::MAX as usize] {
        let mut wire = std::io::Cursor::new(CLIENT_GREETING.as_bytes().to_vec());
        let err = server()
            .max_message(max)
            .run(&mut Named::new(Io(&mut wire), peer.clone()))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
        assert_eq!(wire.position(), 0, "nothing was read");
    }
    let socket = udp();
    let err = server()
        .max_message(usize::MAX)
        .run_udp(&socket)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
}
