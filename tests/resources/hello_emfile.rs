//! `hello::Server` keeps serving after `accept` fails with `EMFILE`.
//!
//! It runs in `tests/resources`, in a process of its own (it also installs
//! the global logger, which stays), because it lowers the process's limit on
//! open files, which would disturb any test running beside it.
#![cfg(target_os = "linux")]

use std::fs::File;
use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::mpsc::{self, Sender};
use std::thread;
use std::time::Duration;

use log::{Level, Log, Metadata, Record};
use sockwright::ListenerBuilder;
use sockwright::hello::{Exchange, SERVER_GREETING, Server};

/// Tells the test when the server has logged a failed accept.
struct AcceptFailures(Mutex<Option<Sender<String>>>);

impl Log for AcceptFailures {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= Level::Warn
    }
    fn log(&self, record: &Record<'_>) {
        let text = record.args().to_string();
        if text.starts_with("accept on ") {
            if let Some(sender) = &*self.0.lock().unwrap() {
                let _ = sender.send(text);
            }
        }
    }
    fn flush(&self) {}
}

pub fn accept_survives_running_out_of_file_descriptors() {
    let (sender, failures) = mpsc::channel();
    let logger: &'static AcceptFailures =
        Box::leak(Box::new(AcceptFailures(Mutex::new(Some(sender)))));
    log::set_logger(logger).unwrap();
    log::set_max_level(log::LevelFilter::Warn);

    let listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();

    // Use up every descriptor. (Linux reserves the descriptor of an
    // `accept` before it waits for a connection, so a server that enters
    // `accept` now fails at once.)
    let limit_before = crate::util::lower_nofile(256);
    let mut filler = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(file) => filler.push(file),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
                break;
            }
        }
        assert!(filler.len() < 256, "the limit of 256 files did not apply");
    }
    let server = thread::spawn(move || {
        Server::new(Exchange::server())
            .clients(1)
            .serve_tcp(&listener, |_| {})
    });
    let failure = failures
        .recv_timeout(Duration::from_secs(20))
        .expect("the server logs the failed accept");
    assert!(failure.contains("(os error 24)"), "{failure}");
    // The OS reason reads as the rest of the line: `too many open files`.
    assert!(failure.contains(": too many open files"), "{failure}");
    println!("logged: {failure}");

    // Once descriptors are free again, the server accepts and serves.
    drop(filler);
    let mut stream = TcpStream::connect(addr).unwrap();
    let reply = Exchange::client().run(&mut stream).unwrap();
    assert_eq!(reply, SERVER_GREETING.as_bytes());
    let summary = server.join().unwrap().unwrap();
    assert_eq!((summary.accepted, summary.succeeded), (1, 1));
    assert!(summary.accept_errors >= 1, "{summary:?}");
    println!("{summary:?}");
    crate::util::raise_nofile(limit_before).unwrap();
}
