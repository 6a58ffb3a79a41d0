//! `ConnectorBuilder`: the source address is honoured, connect timeouts end
//! in `TimedOut` on time, every failed address of a name is listed in order,
//! and the UDP and Unix finishing calls connect.

mod faults_util;

#[cfg(target_os = "linux")]
use std::io::ErrorKind;
#[cfg(target_os = "linux")]
use std::time::{Duration, Instant};

#[cfg(target_os = "linux")]
use faults_util::{full_unix_listener, TempDir};
#[cfg(target_os = "linux")]
use sockwright::ConnectorBuilder;

/// A connect timeout finer than the OS's `SO_SNDTIMEO` unit (one
/// microsecond) still bounds a Unix connect to a full accept queue: rounded
/// down it would be zero, which means "wait forever". The connect runs on a
/// thread so that a regression fails the test instead of hanging it.
#[cfg(target_os = "linux")]
#[test]
fn sub_microsecond_unix_connect_timeout_still_times_out() {
    let dir = TempDir::new("connector-tiny");
    let path = dir.join("full.sock");
    let (_listener, _queued) = full_unix_listener(&path);
    let (tx, rx) = std::sync::mpsc::channel();
    let target = path.clone();
    std::thread::spawn(move || {
        let started = Instant::now();
        let result = ConnectorBuilder::new()
            .connect_timeout(Duration::from_nanos(1))
            .connect_unix(&target);
        let _ = tx.send((result.map(drop), started.elapsed()));
    });
    let (result, took) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a 1 ns connect timeout did not end the connect within 10 s");
    let err = result.expect_err("connected to a full accept queue");
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("connect {}: ", path.display())),
        "{err}"
    );
    eprintln!("1 ns Unix connect timeout ended after {took:?}");
}
