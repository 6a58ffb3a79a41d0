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
//! - `connect_in_progress(&io::Error)`: whether a nonblocking connect goes on
//!   in the background.
//! - `poll_connecting(&[&Socket], wait_ms)`: the OS readiness wait (`poll(2)`,
//!   `WSAPoll`) on sockets with a connect under way; which ones are ready.
//!
//! The readiness wait is the crate's only `unsafe` code besides
//! `SO_EXCLUSIVEADDRUSE` on Windows: one small function per platform, each
//! `#[allow(unsafe_code)]` under the crate's `deny(unsafe_code)`.

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
