//! A TCP connect that would connect a socket to itself (a simultaneous open
//! when nothing listens on the port and the local port is the same) is
//! closed and reported as `Error::SelfConnect`, never returned as a stream
//! that echoes every write back.

use std::net::{SocketAddr, TcpListener};

use sockwright::{ConnectorBuilder, Error};

/// A loopback port that nothing listens on: bound, read back, released.
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
}

pub fn connect_from_the_target_address_is_a_self_connect_error() {
    #[cfg(target_os = "linux")]
    let fds = crate::util::fd_count();
    let addr = free_port();
    let err = ConnectorBuilder::new()
        .local_address(addr)
        .connect(addr)
        .expect_err("a stream connected to itself was returned");
    println!("{err}");
    #[cfg(target_os = "linux")]
    {
        // Linux completes the simultaneous open: the check is what stops it.
        assert!(matches!(err, Error::SelfConnect { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!("connect {addr}: connected to itself (nothing listens there)")
        );
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        assert!(err.io_error().is_none());
        // The socket was closed, not leaked.
        assert_eq!(crate::util::fd_count(), fds);
    }
    #[cfg(not(target_os = "linux"))]
    assert!(
        matches!(err, Error::SelfConnect { .. } | Error::Connect { .. }),
        "{err}"
    );
}

/// A source port below the ephemeral range (where the builder skips the
/// check for an ephemeral source port) and an unspecified source address:
/// the socket still meets itself, and the check still catches it.
#[cfg(target_os = "linux")]
pub fn fixed_source_port_below_the_ephemeral_range_is_still_checked() {
    // Bound, read back and released: nothing listens there.
    let addr = match crate::util::listener_below_ephemeral_range() {
        Ok(listener) => listener.local_addr().unwrap(),
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let source = SocketAddr::from(([0, 0, 0, 0], addr.port()));
    let err = ConnectorBuilder::new()
        .local_address(source)
        .connect(addr)
        .expect_err("a stream connected to itself was returned");
    assert!(matches!(err, Error::SelfConnect { .. }), "{err}");
}
