//! Platform-specific socket options.
//!
//! Each backend provides the same functions; an option a platform lacks is
//! never asked for there, because its builder setter does not exist, and the
//! backend answers [`io::ErrorKind::Unsupported`] as a last line of defence.
//!
//! - `set_reuse_port(&Socket, bool)`: `SO_REUSEPORT`.
//! - `set_exclusive_address_use(&Socket, bool)`: `SO_EXCLUSIVEADDRUSE`.
//! - `bind_device(&Socket, &[u8])`: `SO_BINDTODEVICE`.
//! - `set_freebind(&Socket, Domain, bool)`: `IP_FREEBIND` / `IPV6_FREEBIND`,
//!   with the option's name.
//! - `keepalive(&Keepalive)`: the `TcpKeepalive` this platform can express.
//! - `TIMEOUT_UNIT`: the finest `SO_RCVTIMEO` / `SO_SNDTIMEO` the OS takes.

#[cfg_attr(unix, path = "unix.rs")]
#[cfg_attr(windows, path = "windows.rs")]
mod imp;

pub(crate) use imp::*;

#[allow(dead_code)]
pub(crate) fn unsupported(what: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        format!("{what} is not available on this platform"),
    )
}
