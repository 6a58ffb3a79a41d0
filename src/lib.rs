//! Explicit socket builders: the C socket tutorial, done carefully, returning
//! plain `std` types.
//!
//! The classic C server makes four calls, `socket → setsockopt → bind →
//! listen`, then `accept`s; the client makes two, `socket → connect`.
//! sockwright keeps those steps and makes each one explicit:
//!
//! - [`ListenerBuilder`] builds the server side and returns a
//!   [`TcpListener`](std::net::TcpListener), a [`UdpSocket`](std::net::UdpSocket),
//!   or (on Unix) a `UnixListener` / `UnixDatagram`.
//! - [`ConnectorBuilder`] builds the client side and returns a
//!   [`TcpStream`](std::net::TcpStream), a connected `UdpSocket`, or a `UnixStream`.
//! - Every failure is an [`Error`] that names the step and the address, such
//!   as `bind 0.0.0.0:8080: address already in use (os error 98)`.
//! - [`hello`] carries the tutorial's exchange itself, `Hello from client` /
//!   `Hello from server`, wire-compatible with the C programs:
//!   [`hello::Exchange`] runs one side on a stream or socket, and
//!   [`hello::Server`] serves it to many clients at once.
//!
//! Because the results are std types, they work anywhere: with std, with
//! tokio's `from_std` (set [`nonblocking`](ListenerBuilder::nonblocking)), or
//! with your own code.
//!
//! # From the C calls to the builder
//!
//! | C | sockwright |
//! |---|---|
//! | `socket(AF_INET, SOCK_STREAM, 0)` | inferred from the address and the finishing call; explicit with [`domain`](ListenerBuilder::domain), [`socket_type`](ListenerBuilder::socket_type), [`protocol`](ListenerBuilder::protocol) |
//! | `setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, ...)` | [`reuse_address`](ListenerBuilder::reuse_address) |
//! | `setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, ...)` | `reuse_port` (Unix), a separate call |
//! | `bind(fd, addr)` | the address given to [`listen`](ListenerBuilder::listen) or [`bind_udp`](ListenerBuilder::bind_udp) |
//! | `listen(fd, 3)` | [`backlog`](ListenerBuilder::backlog) |
//! | `accept(fd)` | [`TcpListener::accept`](std::net::TcpListener::accept) on the result |
//! | `connect(fd, addr)` | [`ConnectorBuilder::connect`] (each attempt on a fresh socket; several addresses race as RFC 8305 describes, see [`happy_eyeballs`](ConnectorBuilder::happy_eyeballs)) |
//!
//! The tutorial writes `setsockopt(fd, SOL_SOCKET, SO_REUSEADDR | SO_REUSEPORT, ...)`.
//! Option names are not flags: on Linux `SO_REUSEADDR | SO_REUSEPORT` is
//! `2 | 15 = 15`, so only `SO_REUSEPORT` is set. Here each option is its own
//! `setsockopt` call.
//!
//! # Examples
//!
//! A server and a client on loopback, trading the tutorial's greetings:
//!
//! ```
//! use std::io::{Read, Write};
//! use sockwright::{ConnectorBuilder, ListenerBuilder};
//!
//! let listener = ListenerBuilder::new()
//!     .reuse_address(true)
//!     .backlog(3)
//!     .listen("127.0.0.1:0")?;
//! let mut client = ConnectorBuilder::new().connect(listener.local_addr()?)?;
//! let (mut server, _) = listener.accept()?;
//!
//! client.write_all(b"Hello from client")?;
//! let mut greeting = [0; 17];
//! server.read_exact(&mut greeting)?;
//! server.write_all(b"Hello from server")?;
//! let mut reply = [0; 17];
//! client.read_exact(&mut reply)?;
//! assert_eq!(&reply, b"Hello from server");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Logging
//!
//! The library logs each step through the [`log`](https://docs.rs/log) facade:
//! a `debug` line when a socket is created, each option set, the socket
//! bound, listening or connected, and each attempt of a Happy Eyeballs race
//! started, failed, won or cancelled. It never installs a logger. In a library,
//! that is all there is to know; in an executable, install one (for example
//! `env_logger`) and run with `RUST_LOG=debug` to see the same story as the
//! tutorial's four steps.
//!
//! # Platform-specific behavior
//!
//! | | Linux | macOS, BSDs | Windows |
//! |---|---|---|---|
//! | `reuse_port` | yes (load-balanced) | yes | no |
//! | `exclusive_address_use` | no | no | yes |
//! | `bind_device`, `freebind` | yes | no | no |
//! | Unix-domain sockets, `Type::SeqPacket` | yes | yes | no |
//! | `Protocol::Mptcp` | yes | no | no |
//! | `only_v6` default | off | off (on for OpenBSD) | on |
//!
//! `SO_REUSEADDR` means different things: on Unix it allows binding a port
//! whose old connections linger in `TIME_WAIT`; on Windows it allows another
//! socket to bind a port in use, which is why Windows servers should use
//! `exclusive_address_use` instead. Every socket is created close-on-exec
//! (not inherited by child processes) and, on Apple platforms, with
//! `SO_NOSIGPIPE`.
//!
//! A dual-stack socket (one IPv6 socket that also serves IPv4 clients, seen
//! as `::ffff:a.b.c.d`) binds `::` with `only_v6(false)`; Linux turns
//! `only_v6` on by itself for a socket bound to a specific IPv6 address
//! such as `::1`.
//!
//! Options a platform lacks have no setter there, so asking for them does not
//! compile; values that are out of range fail with [`Error::InvalidConfig`]
//! before any system call.
#![deny(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![doc(test(attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod address;
mod connect;
mod connector;
mod error;
pub mod hello;
mod keepalive;
mod kind;
mod listener;
mod options;
mod resolve;
mod resolver;
mod sys;

pub use address::Address;
pub use connector::ConnectorBuilder;
pub use error::{Error, Result};
pub use keepalive::Keepalive;
pub use kind::{Domain, Protocol, Type};
pub use listener::ListenerBuilder;
pub use resolver::{Resolve, StaticResolver};
