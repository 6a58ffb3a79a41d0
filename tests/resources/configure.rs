//! A failing `configure` hook closes its socket: 10,000 failures across the
//! listener, the connector and a race leave the open descriptors as they were.
//! It runs in `tests/resources`, in a process of its own, so no other test opens
//! descriptors meanwhile.
#![cfg(target_os = "linux")]

use crate::util;

use std::io;
use std::net::{SocketAddr, TcpListener};

use sockwright::{ConnectorBuilder, ListenerBuilder};

fn denied() -> io::Error {
    io::Error::from(io::ErrorKind::PermissionDenied)
}

/// 10,000 failing hooks across the listener, the connector and the race
/// leave the open descriptors as they were.
pub fn failing_hooks_leak_no_descriptor() {
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let two = [
        "[::1]:9".parse::<SocketAddr>().unwrap(),
        live.local_addr().unwrap(),
    ];
    let mut listener = ListenerBuilder::new();
    listener.configure(|_| Err(denied()));
    let mut connector = ConnectorBuilder::new();
    connector.configure(|_| Err(denied()));
    let before = util::fd_count();
    for i in 0..10_000 {
        let err = match i % 4 {
            0 => listener.listen("127.0.0.1:0").map(drop),
            1 => listener.bind_udp("127.0.0.1:0").map(drop),
            2 => connector.connect(live.local_addr().unwrap()).map(drop),
            _ => connector.connect(&two[..]).map(drop),
        }
        .unwrap_err();
        assert!(err.to_string().contains("configure "), "{err}");
    }
    let after = util::fd_count();
    eprintln!("10,000 failing hooks: open fds {before} before, {after} after");
    assert_eq!(before, after);
}
