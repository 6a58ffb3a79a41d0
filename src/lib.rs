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
//! - Listeners come from anywhere a server's user may say: an [`Endpoint`]
//!   string (`127.0.0.1:8080`, `unix:/run/app.sock`, `@app`, `sd-listen:web`,
//!   `fd:3`, once the program vouches for numbered descriptors) through
//!   [`ListenerBuilder::listen_endpoint`], sockets passed by a
//!   service manager ([`activation`]), and every address of a name on one port
//!   ([`ListenerBuilder::listen_all`]). A server tells systemd it is ready and
//!   keeps its listeners in the fd store ([`activation::Notifier`]), and
//!   restarts or upgrades without refusing a connection by handing them to
//!   its successor (`activation::Handover`, Unix). Clients reach the same strings with
//!   [`ConnectorBuilder::connect_endpoint`], which returns a [`Stream`].
//! - [`hello`] (the default `hello` feature) carries the tutorial's exchange
//!   itself, `Hello from client` / `Hello from server`, wire-compatible with
//!   the C programs: [`hello::Exchange`] runs one side on a stream or socket,
//!   and [`hello::Server`] serves it to many clients at once.
//!
//! Because the results are std types, they work anywhere: with std, with an
//! async runtime (see [Async runtimes](#async-runtimes)), or with your own code.
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
//! | `getaddrinfo(name, ...)` | done by [`ConnectorBuilder::connect`] once per address family, or by a [`Resolve`] of your own; see [Happy Eyeballs](#happy-eyeballs) |
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
//! # Async runtimes
//!
//! **tokio**: with the `tokio` cargo feature (off by default), every
//! finishing call has an async twin that returns tokio's type, made by the
//! same code with the same options and errors, and always nonblocking.
//! This table is the whole list:
//!
//! | blocking | async (`tokio` feature) | returns |
//! |---|---|---|
//! | `ConnectorBuilder::connect` | `connect_async` | `tokio::net::TcpStream` |
//! | `ConnectorBuilder::connect_with_report` | `connect_async_with_report` | `(tokio::net::TcpStream, ConnectReport)` |
//! | `ConnectorBuilder::connect_udp` | `connect_udp_async` | `tokio::net::UdpSocket` |
//! | `ConnectorBuilder::connect_unix` | `connect_unix_async` | `tokio::net::UnixStream` |
//! | `ConnectorBuilder::connect_endpoint` | `connect_endpoint_async` | `AsyncStream` (TCP or Unix) |
//! | `ListenerBuilder::listen` | `listen_async` | `tokio::net::TcpListener` |
//! | `ListenerBuilder::listen_all` | `listen_all_async` | `Vec<tokio::net::TcpListener>` |
//! | `ListenerBuilder::bind_udp` | `bind_udp_async` | `tokio::net::UdpSocket` |
//! | `ListenerBuilder::listen_unix` | `listen_unix_async` | `tokio::net::UnixListener` |
//! | `ListenerBuilder::bind_unix_datagram` | `bind_unix_datagram_async` | `tokio::net::UnixDatagram` |
//! | `ListenerBuilder::listen_endpoint` | `listen_endpoint_async` | `AsyncListener` (TCP, TCP on every address of a name, or Unix), whose `accept` gives an `AsyncStream` |
//!
//! With the `axum` feature, `axum::serve` takes an `AsyncListener` as it
//! is.
//!
//! **A std socket handed to tokio's `from_std` must be built with
//! [`nonblocking(true)`](ListenerBuilder::nonblocking)**: tokio panics at
//! start-up on a blocking one ("Registering a blocking socket with the
//! tokio runtime is unsupported"). The async twins need no such care; use
//! `from_std` for a value no twin makes.
//!
//! ```toml
//! sockwright = { version = "0.1", features = ["tokio"] }
//! ```
//!
//! `connect_async` runs the same Happy Eyeballs race as `connect`, driven by
//! tokio's reactor, so no runtime thread waits; dropping the future closes
//! every socket it opened. Calling the blocking `connect` inside a runtime
//! instead would
//! stall the runtime's thread for as long as the connect takes (on a
//! current-thread runtime, every task).
//!
//! **smol / async-io, mio and other event loops**: use the blocking calls
//! with [`nonblocking(true)`](ListenerBuilder::nonblocking) and hand the std
//! value over: `async_io::Async::new_nonblocking(listener)`,
//! `mio::net::TcpListener::from_std(listener)`, and so on for the other
//! types. A socket built that way is nonblocking from the builder's own
//! `ioctl`, so the hand-over needs no further system call. A connect blocks
//! until it is done (bounded by
//! [`connect_timeout`](ConnectorBuilder::connect_timeout)); run it on the
//! runtime's blocking pool (`smol::unblock`, `blocking::unblock`) when the
//! peer is not on the same machine. `tests/it/runtimes.rs` runs both hand-overs.
//!
//! ```
//! use std::io::{ErrorKind, Read};
//! use sockwright::{ConnectorBuilder, ListenerBuilder};
//!
//! // What an event loop's `from_std` expects: nonblocking sockets, which
//! // answer `WouldBlock` where a blocking one would wait.
//! let listener = ListenerBuilder::new().nonblocking(true).listen("127.0.0.1:0")?;
//! assert_eq!(listener.accept().unwrap_err().kind(), ErrorKind::WouldBlock);
//! let mut client = ConnectorBuilder::new().nonblocking(true).connect(listener.local_addr()?)?;
//! assert_eq!(client.read(&mut [0; 1]).unwrap_err().kind(), ErrorKind::WouldBlock);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Logging
//!
//! The library logs each step through the [`log`](https://docs.rs/log) facade:
//! a `debug` line when a socket is created, each option set, the socket
//! bound, listening or connected, each lookup of a name (per address
//! family: asked, answered or failed, and the Resolution Delay when it
//! starts), and each attempt of a Happy Eyeballs race started, failed, won
//! or cancelled. Every connect starts with a line that
//! says what it waits for and how long, so a connect that hangs is not
//! silence: `connecting to localhost:8080 (timeout 2s)`. The targets are
//! what a user filters by, whichever file logs:
//!
//! - `sockwright::listener` for [`ListenerBuilder`],
//! - `sockwright::connector` for [`ConnectorBuilder`], its races included,
//! - `sockwright::hello` for the [`hello`] exchange and server.
//!
//! It never installs a logger, and formats nothing while a level is off. In
//! a library, that is all there is to know; in an executable, install one
//! (for example `env_logger`) and run with `RUST_LOG=debug`, or
//! `RUST_LOG=sockwright::connector=debug`, to see the same story as the
//! tutorial's steps.
//!
//! # Happy Eyeballs
//!
//! [`ConnectorBuilder::connect`] to a name that has IPv6 and IPv4 addresses
//! races them as RFC 8305 ("Happy Eyeballs Version 2") describes, so that a
//! slow DNS answer or a broken route of one family costs milliseconds, not
//! the minutes of a timeout. The steps, the defaults, why racing is the
//! default and what the sequential mode still offers are in
//! [`ConnectorBuilder::happy_eyeballs`]; what the system resolver does on
//! each OS is in [`Resolve`](Resolve#the-system-resolver).
//!
//! # Stale Unix socket files
//!
//! A server that dies leaves its socket file behind, and the next `bind` on
//! that path fails with `AddrInUse`. With
//! [`remove_stale_socket(true)`](ListenerBuilder::remove_stale_socket),
//! `listen_unix` and `bind_unix_datagram` first do this:
//!
//! 1. `open(2)` the path's directory (`O_DIRECTORY`); every step below
//!    names the file in it by its last name, through this handle, and never
//!    follows a symbolic link there;
//! 2. take the lock file `NAME.lock` beside the socket file:
//!    `openat(O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK)`, mode `0o600`, a
//!    regular file, then `flock(LOCK_EX | LOCK_NB)`, tried again for up to
//!    5 s (a pause of 1 ms, doubling up to 10 ms) while another start holds
//!    it (Solaris and illumos: `fcntl(F_SETLK)`, a lock of the process,
//!    so there it keeps out other processes but not other threads);
//! 3. `fstatat(AT_SYMLINK_NOFOLLOW)`: anything but a socket file is left
//!    for `bind` to report (and it says what is in the way);
//! 4. ask who holds the socket file. On Linux and Android, the kernel's
//!    table of Unix sockets (`NETLINK_SOCK_DIAG`, which needs no privilege)
//!    lists every socket bound to it, by device and inode, and whether it
//!    listens; nothing connects. Where no socket of this network namespace
//!    holds it, a nonblocking `connect(2)` confirms it (a stale file refuses
//!    it; a server of another namespace sharing the directory answers it).
//!    Where the table cannot be read, and on other platforms, the
//!    `connect(2)` alone decides: refused (`ECONNREFUSED`) is stale. A file
//!    that a socket holds is not removed: the call fails with
//!    [`Error::Bind`] and `AddrInUse`, saying "a server is listening on
//!    this socket file" (or that a process has bound it and does not
//!    listen yet, or that a datagram socket is bound to it);
//! 5. `fstatat` again: still the same socket file (device and inode), or
//!    nothing is removed; then `unlinkat(2)` in the directory held open;
//! 6. `socket`, options, `bind`, and `listen` (for a stream socket) as
//!    usual; the lock is released once the socket listens (or is bound, for
//!    a datagram socket).
//!
//! The lock is needed only from the check until `listen`: once the winner
//! listens, the next start's check sees a live server. So of several
//! processes starting on one stale path at once, one wins and the others
//! are told a server is listening there. The lock file is left in place
//! (removing it would let two starts lock two different files); it is
//! empty and harmless, and the next start reuses it.
//!
//! What is left open:
//! - The probe `connect` (platforms other than Linux and Android, or where
//!   the kernel's table cannot be read) is a client of a live server: a
//!   stream server sees one connection that closes at once, and a server
//!   that has bound the path but does not listen yet refuses it, so its
//!   file is taken for stale.
//! - A start that does not use this option takes no lock, so it can bind
//!   the path between steps 5 and 6 of one that does; the latter's `bind`
//!   then fails with `AddrInUse`.
//! - Steps 3 to 5 name the file in one directory. A user who can write to
//!   that very directory can swap the entry between step 5's `fstatat` and
//!   its `unlinkat`; what they can put there is already theirs to remove.
//!   Which directory the handle holds is decided once, at step 1: a parent
//!   swapped for a link before it can make the check run (and the lock
//!   file be created) in another directory, where the same rules apply: a
//!   file that is not a stale socket file is never removed.
//!
//! # Socket options
//!
//! Each setter stores a value; the finishing call checks every value before
//! any system call, then sets each option asked for with its own
//! `setsockopt(2)`, in the order of this table, and nothing for options not
//! asked for. L is [`ListenerBuilder`], C is [`ConnectorBuilder`]. "Later"
//! says whether setting the option on the returned std value (through
//! `socket2::SockRef`) would do the same: for most options here it would
//! not, because the option must be in place before `bind`, `listen` or
//! `connect` (or the SYN) to act.
//!
//! | setter | OS option | acts on | on | platforms | later |
//! |---|---|---|---|---|---|
//! | `reuse_address` | `SO_REUSEADDR` | TCP, UDP | L, C | all | no: before `bind` |
//! | `reuse_port` | `SO_REUSEPORT` | TCP, UDP | L, C | Unix but Solaris, illumos | no: before `bind` |
//! | `exclusive_address_use` | `SO_EXCLUSIVEADDRUSE` | TCP, UDP | L, C | Windows | no: before `bind` |
//! | `only_v6` | `IPV6_V6ONLY` | TCP, UDP (IPv6) | L, C | all | no: before `bind` |
//! | `send_buffer_size`, `recv_buffer_size` | `SO_SNDBUF`, `SO_RCVBUF` | TCP, UDP, Unix stream, Unix datagram | L, C | all | partly: the window scale is fixed at the handshake |
//! | `ttl` | `IP_TTL`, `IPV6_UNICAST_HOPS` | TCP, UDP | L, C | all; not MPTCP¹ | partly: not for the SYN |
//! | `tos` | `IP_TOS`, `IPV6_TCLASS` | TCP, UDP | L, C | all but Solaris (IPv4 only on Windows, iOS); not `IPV6_TCLASS` on MPTCP¹ | partly: not for the SYN |
//! | `mark` | `SO_MARK` | TCP, UDP | L, C | Linux | partly: not for the SYN |
//! | `ip_transparent` | `IP_TRANSPARENT`, `IPV6_TRANSPARENT` | TCP, UDP | L, C | Linux | no: before `bind` |
//! | `freebind` | `IP_FREEBIND`, `IPV6_FREEBIND` | TCP, UDP | L, C | Linux | no: before `bind` |
//! | `bind_device`, `bind_device_by_index` | `SO_BINDTODEVICE`, `IP_BOUND_IF` | TCP, UDP | L, C | Linux, Apple, illumos, Solaris | no: before `bind` and `connect` |
//! | `nodelay` | `TCP_NODELAY` | TCP | C; L on Linux, Windows | all | yes (per accepted stream) |
//! | `keepalive` | `SO_KEEPALIVE`, `TCP_KEEPIDLE`... | TCP | C; L on Linux, Windows | all | yes (per accepted stream) |
//! | `linger` | `SO_LINGER` | TCP, Unix stream | C; L on Linux, Windows | all | yes (per accepted stream) |
//! | `tcp_user_timeout` | `TCP_USER_TIMEOUT` | TCP | L, C | Linux; not MPTCP¹ | no: it bounds the connect only if set before |
//! | `tcp_congestion` | `TCP_CONGESTION` | TCP | L, C | Linux, FreeBSD | yes |
//! | `tcp_mss` | `TCP_MAXSEG` | TCP | L, C | Unix | no: announced in the SYN |
//! | `tcp_notsent_lowat` | `TCP_NOTSENT_LOWAT` | TCP | L, C | Linux | yes |
//! | `tcp_fastopen` | `TCP_FASTOPEN` | TCP | L | Linux, macOS, iOS, FreeBSD, Windows | no: before `listen` |
//! | `tcp_defer_accept` | `TCP_DEFER_ACCEPT` | TCP | L | Linux | no: before `listen` |
//! | `tcp_fastopen_connect` | `TCP_FASTOPEN_CONNECT` | TCP | C | Linux | no: refused after `connect` |
//! | `busy_poll` | `SO_BUSY_POLL` | TCP, UDP | L, C | Linux | yes |
//! | `cpu_affinity` | `SO_INCOMING_CPU` | TCP, UDP | L, C | Linux | partly: before `listen` for reuse-port groups |
//! | `broadcast` | `SO_BROADCAST` | UDP (IPv4) | L, C (UDP) | all | yes |
//! | `multicast_loop`, `multicast_ttl` | `IP_MULTICAST_LOOP`, `IP_MULTICAST_TTL` (IPv6: `_LOOP`, `_HOPS`) | UDP | L, C (UDP) | all | yes |
//! | `multicast_if_v4`, `multicast_if_v6` | `IP_MULTICAST_IF`, `IPV6_MULTICAST_IF` | UDP | L, C (UDP) | all | yes |
//! | `join_multicast_v4`, `join_multicast_v6` | `IP_ADD_MEMBERSHIP`, `IPV6_ADD_MEMBERSHIP` | UDP | L (UDP) | all | yes, after `bind` (where the builder joins) |
//! | `local_port_range` | `IP_LOCAL_PORT_RANGE` | TCP, UDP | C | Linux (6.3 and later) | no: the port is picked at `bind` or `connect` |
//! | `read_timeout`, `write_timeout` | `SO_RCVTIMEO`, `SO_SNDTIMEO` | TCP, UDP, Unix stream, Unix datagram | C | all | yes (set after `connect`) |
//! | `nonblocking` | `O_NONBLOCK` (`FIONBIO`) | TCP, UDP, Unix stream, Unix datagram | L, C | all | yes |
//! | `mode` (L) | `fchmod(2)`, `chmod(2)` | a Unix socket file (not `@NAME`) | L | Unix | partly: until then the umask's mode lets clients in |
//!
//! ¹ Linux's MPTCP sockets (6.18) refuse these options (`EOPNOTSUPP`,
//! `ENOPROTOOPT`); every other option here acts on them as on TCP. With
//! [`Mptcp::Prefer`] a socket asked for one of them is made plain TCP, with
//! a `debug` line naming the option; with [`Mptcp::Require`] the kernel's
//! refusal is the error, [`Error::SetOption`] naming the option.
//!
//! "Acts on" is the one rule for where an option goes, declared once per
//! option in the crate. A direct call (`listen`, `listen_unix`,
//! `connect_udp`...) with an option that does not act on its socket
//! (nodelay on a datagram socket, a multicast join on TCP, an IP option on
//! a Unix path) is an [`Error::InvalidConfig`] before any system call. An
//! [`Endpoint`] call ([`ListenerBuilder::listen_endpoint`],
//! [`ConnectorBuilder::connect_endpoint`] and their async twins), whose
//! transport is the user's choice, leaves such an option out instead, with
//! one `debug` line each (`skipped nodelay (TCP_NODELAY) for @app: it does
//! not act on Unix stream sockets`), so that one builder serves every
//! endpoint. An option that applies to one address family only makes the
//! builder skip the addresses of the other (and fail if none is left).
//!
//! For anything else, [`ListenerBuilder::configure`] and
//! [`ConnectorBuilder::configure`] take a hook that runs on each socket
//! after these options and before `bind` or `connect`, with a [`SocketRef`]
//! that any socket library can use (`AsFd`/`AsSocket`):
//!
//! ```
//! use sockwright::ConnectorBuilder;
//!
//! let server = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let stream = ConnectorBuilder::new()
//!     .configure(|socket| socket2::SockRef::from(&socket).set_tcp_nodelay(true))
//!     .connect(server.local_addr()?)?;
//! assert!(stream.nodelay()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Platform-specific behavior
//!
//! | | Linux | macOS, BSDs | Windows |
//! |---|---|---|---|
//! | Unix-domain sockets, `Type::SeqPacket` | yes | yes | no |
//! | `Protocol::Mptcp`, `Mptcp::Require` | yes | no | no |
//! | `Mptcp::Prefer` | MPTCP where `net.mptcp.enabled = 1` | TCP | TCP |
//! | `peer_cred` | uid, gid, pid (`SO_PEERCRED`), `peer_pidfd` | uid, gid (`getpeereid`); pid on macOS, OpenBSD | no Unix streams in std |
//! | `tcp_info` | `TCP_INFO` | `TCP_CONNECTION_INFO` (macOS), `TCP_INFO` (FreeBSD); `Unsupported` on other BSDs | `SIO_TCP_INFO` (Windows 10 1703+; `Unsupported` under Wine) |
//! | source port of `local_address(ip:0)` | picked at `connect` (`IP_BIND_ADDRESS_NO_PORT`) | at `bind` | at `connect` (`SO_REUSE_UNICASTPORT`) |
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
//!
//! # Unsafe API
//!
//! Three kinds of call are `unsafe`, each for a promise about the process
//! that only the program can make, and each says it under `# Safety`:
//! adopting a descriptor by number ([`activation::tcp_listener`] and its
//! kin), letting a builder do so for `fd:N` endpoints
//! ([`ListenerBuilder::allow_fd_endpoints`]), and removing the activation
//! variables from the environment ([`activation::ListenFds::take_from_env`],
//! as [`std::env::remove_var`] is). Everything else is safe; the crate's own
//! system calls sit in one private module.
//!
//! # Features
//!
//! - `hello` (default): the [`hello`] module and [`Error::Exchange`].
//! - `tokio` (off): the async twins of the finishing calls (`connect_async`,
//!   `listen_async`, `listen_endpoint_async`, ...), returning tokio's types,
//!   and `AsyncListener` and `AsyncStream`; see
//!   [Async runtimes](#async-runtimes).
//! - `axum` (off; turns on `tokio`): axum 0.8's `axum::serve::Listener` for
//!   `AsyncListener`, so that `axum::serve(listener, app)` serves whatever
//!   endpoint the user wrote (TCP, every address of a name, a Unix path, an
//!   abstract name). `examples/axum.rs` serves one app on TCP and on a
//!   Unix path.
//!
//! With `default-features = false` the crate is the builders alone:
//!
//! ```toml
//! [dependencies]
//! sockwright = { version = "0.1", default-features = false }
//! ```
#![cfg_attr(
    not(feature = "hello"),
    doc = "\n\n[`hello`]: #features\n[`hello::Exchange`]: #features\n[`hello::Server`]: #features\n[`Error::Exchange`]: #features"
)]
#![deny(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![doc(test(attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
mod platform;

/// `log::debug!` with the target a user filters the client side by
/// ([`CONNECTOR_LOG`]), whichever file of the connector, the race or the
/// lookups logs.
macro_rules! connector_debug {
    ($($arg:tt)+) => {
        log::debug!(target: $crate::CONNECTOR_LOG, $($arg)+)
    };
}

pub mod activation;
mod address;
mod bounded;
mod connector;
mod endpoint;
mod error;
#[cfg(feature = "hello")]
#[cfg_attr(docsrs, doc(cfg(feature = "hello")))]
pub mod hello;
mod inspect;
mod keepalive;
mod listener;
mod options;
mod race;
mod resolve;
mod socket_kind;
mod socket_ref;
mod sys;

/// The log target of the listener side: what a user filters by
/// (`RUST_LOG=sockwright::listener=debug`), whichever file logs.
pub(crate) const LISTENER_LOG: &str = "sockwright::listener";
/// The log target of the connector side, Happy Eyeballs races included.
pub(crate) const CONNECTOR_LOG: &str = "sockwright::connector";
/// The log target of the hello exchange and server.
#[cfg(feature = "hello")]
pub(crate) const HELLO_LOG: &str = "sockwright::hello";

pub use address::Address;
pub use connector::ConnectorBuilder;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use endpoint::tokio::{AsyncListener, AsyncStream};
pub use endpoint::{Endpoint, EndpointParseError, Listener, Stream};
pub use error::{Error, Result};
#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
pub use inspect::{PeerCred, UnixConnection, peer_cred};
pub use inspect::{TcpConnection, TcpInfo, is_mptcp, tcp_info};
cfg_linux! {
    pub use inspect::peer_pidfd;
}
pub use keepalive::Keepalive;
pub use listener::ListenerBuilder;
pub use race::report::{AttemptOutcome, AttemptReport, ConnectReport, LookupReport};
pub use resolve::resolver::{MAX_LOOKUP_THREADS, Resolve, StaticResolver};
pub use resolve::target::ToSocketAddrs;
pub use socket_kind::{Domain, Mptcp, Protocol, Type};
pub use socket_ref::{Purpose, SocketRef};
