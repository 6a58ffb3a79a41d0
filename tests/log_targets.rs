//! What the library logs, seen through a logger installed by this test as
//! an application would: every line under one of the targets a user filters
//! by (`sockwright::listener`, `sockwright::connector`, `sockwright::hello`),
//! a line that starts each connect with its target and timeout, and no
//! line at all while logging is off.
//!
//! A test program of its own, with one test function: the logger and its
//! level are global to the process, set once, and every test in a process
//! would log through them.

use std::sync::Mutex;
use std::time::Duration;

use log::{Level, LevelFilter, Log, Metadata, Record};
use sockwright::{ConnectorBuilder, Keepalive, ListenerBuilder};

/// Every record logged: (target, level, module path, message).
struct Recorder(Mutex<Vec<(String, Level, String, String)>>);

impl Log for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &Record<'_>) {
        self.0.lock().unwrap().push((
            record.target().to_owned(),
            record.level(),
            record.module_path().unwrap_or("").to_owned(),
            record.args().to_string(),
        ));
    }

    fn flush(&self) {}
}

static RECORDER: Recorder = Recorder(Mutex::new(Vec::new()));

fn take() -> Vec<(String, Level, String, String)> {
    std::mem::take(&mut *RECORDER.0.lock().unwrap())
}

#[test]
fn log_lines_use_the_user_facing_targets() {
    log::set_logger(&RECORDER).expect("no other logger in this test binary");

    // Off: a connect logs nothing.
    log::set_max_level(LevelFilter::Off);
    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stream = ConnectorBuilder::new().connect(addr).unwrap();
    drop((stream, listener.accept().unwrap()));
    assert!(take().is_empty());

    log::set_max_level(LevelFilter::Trace);
    let listener = ListenerBuilder::new()
        .reuse_address(true)
        .listen(("127.0.0.1", 0))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let listened = take();
    #[cfg_attr(not(feature = "hello"), allow(unused_mut))]
    let mut stream = ConnectorBuilder::new()
        .connect_timeout(Duration::from_secs(2))
        .connect(("127.0.0.1", port))
        .unwrap();
    let connected = take();
    #[cfg(feature = "hello")]
    let exchanged = {
        use sockwright::hello::Exchange;
        let (mut server, _) = listener.accept().unwrap();
        let peer = std::thread::spawn(move || Exchange::server().run(&mut server));
        Exchange::client().run(&mut stream).unwrap();
        peer.join().unwrap().unwrap();
        take()
    };
    drop(stream);

    for (target, level, module, message) in &listened {
        println!("{target} {level} [{module}] {message}");
    }
    for (target, level, module, message) in &connected {
        println!("{target} {level} [{module}] {message}");
    }
    assert!(!listened.is_empty() && !connected.is_empty());

    // Every line, whichever file logs it (the option code is shared by
    // both builders), is under the target of the builder that asked.
    let checked = |lines: &[(String, Level, String, String)], want: &str| {
        for (target, _, module, message) in lines {
            assert_eq!(target, want, "{message:?} from {module}");
        }
    };
    checked(&listened, "sockwright::listener");
    checked(&connected, "sockwright::connector");
    assert!(
        listened
            .iter()
            .any(|(t, _, _, m)| t == "sockwright::listener"
                && m.starts_with(&format!("listening on 127.0.0.1:{port}"))),
        "{listened:#?}"
    );

    // The first line of a connect says what it waits for and how long,
    // the target written as a person writes it.
    let (target, level, _, first) = &connected[0];
    assert_eq!(
        (target.as_str(), *level, first.as_str()),
        (
            "sockwright::connector",
            Level::Debug,
            format!("connecting to 127.0.0.1:{port} (timeout 2s)").as_str()
        )
    );
    assert!(
        connected
            .iter()
            .any(|(_, _, _, m)| m.starts_with("connected ")
                && m.ends_with(&format!("127.0.0.1:{port}"))),
        "{connected:#?}"
    );

    // A keepalive setting reads as a person writes it, not as a struct.
    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    take();
    let mut keepalive = Keepalive::new()
        .time(Duration::from_secs(60))
        .interval(Duration::from_secs(10));
    // The retry count is TCP_KEEPCNT, which Wine's Windows does not have.
    if cfg!(unix) {
        keepalive = keepalive.retries(5);
    }
    let stream = ConnectorBuilder::new()
        .keepalive(keepalive)
        .connect(addr)
        .unwrap();
    drop(stream);
    let kept = take();
    let probes = if cfg!(unix) { ", 5 probes" } else { "" };
    let want = format!("set SO_KEEPALIVE (idle 60s, interval 10s{probes}) for {addr}");
    assert!(kept.iter().any(|(_, _, _, m)| *m == want), "{kept:#?}");

    // listen_all counts its addresses as a sentence does.
    drop(ListenerBuilder::new().listen_all("127.0.0.1:0").unwrap());
    let one = take();
    assert!(
        one.iter()
            .any(|(_, _, _, m)| m == "listening on 1 address of 127.0.0.1:0"),
        "{one:#?}"
    );
    #[cfg(target_os = "linux")]
    {
        let two: &[std::net::SocketAddr] = &[
            "127.0.0.1:0".parse().unwrap(),
            "127.0.0.2:0".parse().unwrap(),
        ];
        drop(ListenerBuilder::new().listen_all(two).unwrap());
        let both = take();
        assert!(
            both.iter()
                .any(|(_, _, _, m)| m.starts_with("listening on all 2 addresses of ")),
            "{both:#?}"
        );
    }

    #[cfg(feature = "hello")]
    {
        for (target, level, module, message) in &exchanged {
            println!("{target} {level} [{module}] {message}");
        }
        assert!(!exchanged.is_empty());
        checked(&exchanged, "sockwright::hello");
    }
}
