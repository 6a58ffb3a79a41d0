//! Socket configuration shared by both builders: validation before any
//! system call, then one `setsockopt` per option asked for, then the
//! `configure` hooks.
//!
//! Every option is declared once, in [`table`]: its C name, the sockets it
//! applies to, when it is set, how its value is checked and how it is set.
//! From that one declaration come the field that stores it, its validation,
//! the check that it fits the socket, the `setsockopt` and the log line. A
//! builder's setter only stores the value.

mod checked;
mod setters;
mod table;

pub(crate) use checked::Checked;

use std::fmt;
use std::io;
use std::net::SocketAddr;
#[cfg(unix)]
use std::path::Path;
use std::sync::Arc;

use log::debug;
use socket2::Socket;

use crate::socket_kind::SocketRequest;
use crate::{Address, Domain, Error, Protocol, Purpose, Result, SocketRef, Type, sys};

pub(crate) use table::Settings;

/// When an option is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// On a fresh socket, before `bind` and `connect`; the hooks run last.
    Fresh,
    /// Right after `bind`, before `listen` or the socket is returned.
    Bound,
    /// Once the socket is connected.
    Connected,
}

/// The kinds of socket an option applies to.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(unix), allow(dead_code))] // no Unix sockets to apply to
pub(crate) struct Applies {
    tcp: bool,
    udp: bool,
    unix_stream: bool,
    unix_datagram: bool,
    v4: bool,
    v6: bool,
}

impl Applies {
    /// Every socket.
    pub(crate) const ANY: Applies = Applies {
        tcp: true,
        udp: true,
        unix_stream: true,
        unix_datagram: true,
        v4: true,
        v6: true,
    };
    /// IP sockets, TCP and UDP.
    pub(crate) const INET: Applies = Applies {
        unix_stream: false,
        unix_datagram: false,
        ..Applies::ANY
    };
    /// TCP sockets.
    pub(crate) const TCP: Applies = Applies {
        udp: false,
        ..Applies::INET
    };
    /// UDP sockets.
    pub(crate) const UDP: Applies = Applies {
        tcp: false,
        ..Applies::INET
    };
    /// Connection-oriented sockets: TCP and Unix streams.
    pub(crate) const STREAMS: Applies = Applies {
        udp: false,
        unix_datagram: false,
        ..Applies::ANY
    };

    /// Whether these include sockets of `transport`.
    pub(crate) fn to(self, transport: TransportKind) -> bool {
        match transport {
            TransportKind::Tcp => self.tcp,
            TransportKind::Udp => self.udp,
            #[cfg(unix)]
            TransportKind::UnixStream => self.unix_stream,
            #[cfg(unix)]
            TransportKind::UnixDatagram => self.unix_datagram,
        }
    }

    /// The same sockets, IPv4 only.
    pub(crate) const fn v4_only(self) -> Applies {
        Applies { v6: false, ..self }
    }

    /// The same sockets, IPv6 only.
    pub(crate) const fn v6_only(self) -> Applies {
        Applies { v4: false, ..self }
    }
}

/// One option's declaration: what [`table`] says of it.
#[derive(Debug)]
pub(crate) struct Decl {
    /// The setter's name, as the user wrote it.
    pub(crate) setter: &'static str,
    /// The C option set on IPv4 and Unix sockets.
    pub(crate) name: &'static str,
    /// The C option set on IPv6 sockets (the same for most options).
    pub(crate) name_v6: &'static str,
    pub(crate) applies: Applies,
}

impl Decl {
    /// The C option this declaration sets on a socket of `domain`.
    pub(crate) fn name(&self, domain: Domain) -> &'static str {
        if domain == Domain::Ipv6 {
            self.name_v6
        } else {
            self.name
        }
    }
}

/// A socket's transport, which decides which options apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransportKind {
    Tcp,
    Udp,
    #[cfg(unix)]
    UnixStream,
    #[cfg(unix)]
    UnixDatagram,
}

impl TransportKind {
    /// The transport of a socket of type `ty` for `place`.
    pub(crate) const fn of(ty: Type, place: Place<'_>) -> TransportKind {
        let stream = ty.is_connection_oriented();
        match place {
            #[cfg(unix)]
            Place::Unix(_) if stream => TransportKind::UnixStream,
            #[cfg(unix)]
            Place::Unix(_) => TransportKind::UnixDatagram,
            _ if stream => TransportKind::Tcp,
            _ => TransportKind::Udp,
        }
    }

    /// The sockets of this transport, as a log line says them.
    pub(crate) fn shown(self) -> &'static str {
        match self {
            TransportKind::Tcp => "TCP sockets",
            TransportKind::Udp => "UDP sockets",
            #[cfg(unix)]
            TransportKind::UnixStream => "Unix stream sockets",
            #[cfg(unix)]
            TransportKind::UnixDatagram => "Unix datagram sockets",
        }
    }
}

/// Where a finishing call's socket goes: the IP network or a Unix path.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Place<'a> {
    Inet,
    #[cfg(unix)]
    Unix(&'a Path),
    #[cfg(not(unix))]
    #[allow(dead_code)]
    Never(std::marker::PhantomData<&'a ()>),
}

/// Which builder a socket is made by: its log lines go to that target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Side {
    Listener,
    #[default]
    Connector,
}

impl Side {
    /// What the builder on this side does with the socket's address.
    fn purpose(self) -> Purpose {
        match self {
            Side::Listener => Purpose::Bind,
            Side::Connector => Purpose::Connect,
        }
    }

    /// The log target a user filters by.
    pub(crate) fn target(self) -> &'static str {
        match self {
            Side::Listener => crate::LISTENER_LOG,
            Side::Connector => crate::CONNECTOR_LOG,
        }
    }
}

/// What the socket about to be bound or connected is for, as a hook sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prepared<'a> {
    pub(crate) domain: Domain,
    pub(crate) socket_type: Type,
    pub(crate) protocol: Protocol,
    pub(crate) addr: &'a Address,
}

/// A `configure` hook.
pub(crate) type HookFn = dyn Fn(SocketRef<'_>) -> io::Result<()> + Send + Sync;

/// The `configure` hooks, in the order they were added.
#[derive(Clone, Default)]
pub(crate) struct Hooks(Vec<Arc<HookFn>>);

impl Hooks {
    pub(crate) fn push(&mut self, hook: Arc<HookFn>) {
        self.0.push(hook);
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} configure hook(s)", self.0.len())
    }
}

/// The configuration both builders carry. `None` means "leave the OS default".
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    pub(crate) side: Side,
    pub(crate) domain: Option<Domain>,
    pub(crate) socket_type: Option<Type>,
    pub(crate) protocol: Protocol,
    /// Multipath TCP for IP stream sockets (`crate::socket_kind::open_socket`).
    pub(crate) mptcp: crate::Mptcp,
    pub(crate) nonblocking: Option<bool>,
    /// Every socket option, declared in [`table`].
    pub(crate) set: Settings,
    pub(crate) hooks: Hooks,
}

impl Options {
    /// Options for the builder on `side`, all unset.
    pub(crate) fn new(side: Side) -> Options {
        Options {
            side,
            ..Options::default()
        }
    }

    /// Checks what can be checked without an address: values in range,
    /// combinations that cannot work, and options that do not apply to the
    /// kind of socket the finishing call makes.
    pub(crate) fn validate(&self, implied: Type, place: Place<'_>) -> Result<()> {
        let ty = self.socket_type.unwrap_or(implied);
        if ty.is_connection_oriented() != implied.is_connection_oriented() {
            return Err(Error::invalid(format!(
                "a {ty} socket cannot be used where a {implied} socket is needed"
            )));
        }
        match (self.protocol, ty) {
            (Protocol::Tcp | Protocol::Mptcp, Type::Stream)
            | (Protocol::Udp, Type::Datagram)
            | (Protocol::Default, _) => {}
            (protocol, ty) => {
                return Err(Error::invalid(format!(
                    "protocol {protocol} does not go with a {ty} socket"
                )));
            }
        }
        let mptcp = self.protocol == Protocol::Mptcp || self.mptcp == crate::Mptcp::Require;
        if mptcp && !crate::platform::has::LINUX_ONLY {
            return Err(Error::Unsupported {
                what: "multipath TCP (IPPROTO_MPTCP)",
            });
        }
        let stream = implied.is_connection_oriented();
        let transport = TransportKind::of(implied, place);
        // One walk checks the values and finds an option that does not
        // apply; a refused value is reported before the other checks and an
        // option that does not apply after them.
        let refused = self.set.check_for(transport)?;
        if let Some(ka) = &self.set.keepalive {
            if !crate::sys::KEEPALIVE_DETAILS && (ka.interval.is_some() || ka.retries.is_some()) {
                return Err(Error::Unsupported {
                    what: "keepalive interval and retries (TCP_KEEPINTVL, TCP_KEEPCNT)",
                });
            }
        }
        if self.set.exclusive_address_use == Some(true) && self.set.reuse_address == Some(true) {
            return Err(Error::invalid(
                "exclusive_address_use (SO_EXCLUSIVEADDRUSE) and reuse_address (SO_REUSEADDR) exclude each other",
            ));
        }
        #[cfg(unix)]
        if let Place::Unix(path) = place {
            if self.protocol != Protocol::Default {
                return Err(Error::invalid(format!(
                    "protocol {} does not go with Unix path {}",
                    self.protocol,
                    crate::address::UnixPath(path)
                )));
            }
        }
        match refused {
            None => Ok(()),
            Some(decl) => {
                // Formatted only for the error: a build that passes allocates nothing here.
                let shown = match place {
                    Place::Inet if stream => "a stream socket".to_owned(),
                    Place::Inet => "a datagram socket".to_owned(),
                    #[cfg(unix)]
                    Place::Unix(path) => {
                        format!("Unix path {}", crate::address::UnixPath(path))
                    }
                    #[cfg(not(unix))]
                    Place::Never(_) => unreachable!("no Unix paths on this platform"),
                };
                Err(Error::invalid(format!(
                    "{} ({}) does not apply to {shown}",
                    decl.setter, decl.name
                )))
            }
        }
    }

    /// These options less those that cannot act on a socket of
    /// `transport` (as the table declares), with one `debug` line for each
    /// option left out, naming `endpoint`; `None` when every option given
    /// acts there. A protocol (MPTCP) on a Unix socket is left out alike.
    /// What an endpoint's finishing call uses, where a direct call refuses
    /// such an option.
    pub(crate) fn for_transport(
        &self,
        transport: TransportKind,
        endpoint: &dyn fmt::Display,
    ) -> Option<Options> {
        #[cfg(unix)]
        let unix = matches!(
            transport,
            TransportKind::UnixStream | TransportKind::UnixDatagram
        );
        #[cfg(not(unix))]
        let unix = false;
        let protocol = unix && self.protocol != Protocol::Default;
        if self.set.not_for_transport(transport).is_none() && !protocol {
            return None;
        }
        let target = self.side.target();
        let mut opts = self.clone();
        opts.set.drop_not_for(transport, |decl| {
            debug!(
                target: target,
                "skipped {} ({}) for {endpoint}: it does not act on {}",
                decl.setter,
                decl.name,
                transport.shown()
            );
        });
        if protocol {
            debug!(
                target: target,
                "skipped protocol {} for {endpoint}: it does not act on {}",
                self.protocol,
                transport.shown()
            );
            opts.protocol = Protocol::Default;
        }
        Some(opts)
    }

    /// Checks that an IP address fits the configured domain and options.
    #[inline]
    pub(crate) fn check_inet(&self, addr: &SocketAddr) -> Result<()> {
        let family = Domain::for_address(addr);
        let fits = self.domain.is_none_or(|domain| domain == family)
            && !self.seqpacket()
            && self.set.not_for_family(family).is_none();
        if fits {
            return Ok(());
        }
        self.inet_mismatch(addr)
    }

    /// Whether the socket type set is seqpacket, which needs a Unix path.
    #[inline]
    fn seqpacket(&self) -> bool {
        #[cfg(unix)]
        return self.socket_type == Some(Type::SeqPacket);
        #[cfg(not(unix))]
        return false;
    }

    /// The error of an address that [`check_inet`](Self::check_inet) rejects.
    fn inet_mismatch(&self, addr: &SocketAddr) -> Result<()> {
        let family = Domain::for_address(addr);
        match self.domain {
            Some(domain) if domain != family => {
                return Err(Error::invalid(format!(
                    "{family} address {addr} does not fit the {domain} domain"
                )));
            }
            _ => {}
        }
        #[cfg(unix)]
        if self.socket_type == Some(Type::SeqPacket) {
            return Err(Error::invalid(format!(
                "seqpacket sockets need a Unix path, not {addr}"
            )));
        }
        match self.set.not_for_family(family) {
            None => Ok(()),
            Some(decl) => Err(Error::invalid(format!(
                "{} ({}) does not apply to {family} address {addr}",
                decl.setter,
                decl.name(family)
            ))),
        }
    }

    /// Checks that a Unix path fits the configured domain and this
    /// platform's `sun_path`.
    #[cfg(unix)]
    pub(crate) fn check_unix(&self, path: &Path) -> Result<()> {
        use std::os::unix::ffi::OsStrExt;

        if let Some(domain) = self.domain.filter(|d| *d != Domain::Unix) {
            return Err(Error::invalid(format!(
                "Unix path {} does not fit the {domain} domain",
                crate::address::UnixPath(path)
            )));
        }
        let len = path.as_os_str().len();
        // A file path needs room for its closing NUL; an abstract name
        // (first byte NUL) does not.
        let max = match path.as_os_str().as_bytes().first() {
            Some(0) => crate::sys::SUN_PATH_LEN,
            _ => crate::sys::SUN_PATH_LEN - 1,
        };
        if len > max {
            let shown = crate::address::UnixPath(path);
            // A path too long to show whole is cut with its length already.
            return Err(Error::invalid(if len <= crate::bounded::shown::LIMIT {
                format!(
                    "Unix socket path {shown} is {len} bytes, longer than the {max} this platform allows"
                )
            } else {
                format!(
                    "Unix socket path {shown}, longer than the {max} bytes this platform allows"
                )
            }));
        }
        Ok(())
    }

    /// `socket(2)`: a fresh socket, close-on-exec and (where the OS has it)
    /// no SIGPIPE, nonblocking or not as `nonblocking` says, with every
    /// [`Phase::Fresh`] option set and then every `configure` hook run.
    /// The hooks see the protocol the socket was made with, which is
    /// MPTCP when [`Mptcp`](crate::Mptcp) made it so.
    ///
    /// A nonblocking socket gets `SOCK_NONBLOCK` at `socket(2)` where the OS
    /// takes it (Linux, Android, the BSDs, illumos): no further call. Where
    /// it does not (macOS, Windows), one `ioctl(FIONBIO)` / `ioctlsocket`
    /// follows.
    #[inline]
    pub(crate) fn create_with(
        &self,
        domain: Domain,
        implied: Type,
        addr: &Address,
        nonblocking: bool,
    ) -> Result<Socket> {
        let ty = self.socket_type.unwrap_or(implied);
        let (os_type, set_later) = match (nonblocking, sys::nonblocking_type(ty.to_socket2())) {
            (true, Some(with_flag)) => (with_flag, false),
            (later, _) => (ty.to_socket2(), later),
        };
        let opened = crate::socket_kind::open_socket(&SocketRequest {
            domain,
            os_type,
            ty,
            protocol: self.protocol,
            mptcp: self.mptcp,
            target: self.side.target(),
            addr,
            options: &self.set,
        });
        let (socket, protocol) = match opened {
            Ok(made) => made,
            Err((protocol, source)) => {
                return Err(self.create_error(domain, ty, protocol, addr, source));
            }
        };
        if set_later {
            set_result("O_NONBLOCK", addr, sys::set_nonblocking(&socket, true))?;
        }
        if log::log_enabled!(target: self.side.target(), log::Level::Debug) {
            self.log_created(domain, ty, protocol, addr, nonblocking);
        }
        self.set
            .apply(Phase::Fresh, &socket, domain, addr, self.side)?;
        let prepared = Prepared {
            domain,
            socket_type: ty,
            protocol,
            addr,
        };
        for hook in &self.hooks.0 {
            hook(SocketRef::new(&socket, prepared, self.side.purpose())).map_err(|source| {
                Error::Configure {
                    addr: addr.clone(),
                    error: source,
                }
            })?;
            debug!(target: self.side.target(), "ran configure hook for {addr}");
        }
        Ok(socket)
    }

    /// The `debug` line of a socket [`create_with`](Self::create_with) made.
    fn log_created(
        &self,
        domain: Domain,
        ty: Type,
        protocol: Protocol,
        addr: &Address,
        nonblocking: bool,
    ) {
        debug!(
            target: self.side.target(),
            "created {domain} {ty} socket ({}{}) for {addr}",
            protocol,
            if nonblocking { ", nonblocking" } else { "" }
        );
    }

    /// The error of a failed `socket(2)`, built apart from the calls that
    /// succeed.
    fn create_error(
        &self,
        domain: Domain,
        ty: Type,
        protocol: Protocol,
        addr: &Address,
        source: io::Error,
    ) -> Error {
        Error::Create {
            addr: addr.clone(),
            domain,
            socket_type: ty,
            protocol,
            error: source,
        }
    }

    /// Puts a socket that [`create_with`](Self::create_with) made with
    /// `nonblocking_now` in the mode asked for, with one `ioctl(FIONBIO)`
    /// (`ioctlsocket`) when the two differ and none when they agree. Unset
    /// means blocking, the mode of a fresh socket.
    #[inline]
    pub(crate) fn finish_nonblocking(
        &self,
        socket: &Socket,
        addr: &Address,
        nonblocking_now: bool,
    ) -> Result<()> {
        let wanted = self.nonblocking == Some(true);
        if wanted != nonblocking_now {
            set_result("O_NONBLOCK", addr, sys::set_nonblocking(socket, wanted))?;
            debug!(target: self.side.target(), "set nonblocking={wanted} for {addr}");
        }
        Ok(())
    }

    /// `bind(2)` with the error naming the address.
    #[inline]
    pub(crate) fn bind(
        &self,
        socket: &Socket,
        sockaddr: &socket2::SockAddr,
        addr: &Address,
    ) -> Result<()> {
        if let Err(source) = socket.bind(sockaddr) {
            return Err(bind_error(addr, source));
        }
        if log::log_enabled!(target: self.side.target(), log::Level::Debug) {
            log_bound(self.side.target(), addr);
        }
        Ok(())
    }
}

/// The `debug` line of a socket bound to `addr`.
fn log_bound(target: &str, addr: &Address) {
    debug!(target: target, "bound {addr}");
}

/// The error of a failed `bind(2)`, built apart from the calls that succeed.
fn bind_error(addr: &Address, source: io::Error) -> Error {
    Error::Bind {
        addr: addr.clone(),
        error: source,
    }
}

/// Maps the result of one `setsockopt` to [`Error::SetOption`].
#[inline]
pub(crate) fn set_result(
    option: &'static str,
    addr: &Address,
    result: io::Result<()>,
) -> Result<()> {
    match result {
        Ok(()) => Ok(()),
        Err(source) => Err(set_option_error(option, addr, source)),
    }
}

/// The error of a failed `setsockopt`, built apart from the calls that
/// succeed. An option set by several calls names the one that failed
/// ([`failed_call`]) instead of `option`.
pub(crate) fn set_option_error(option: &'static str, addr: &Address, source: io::Error) -> Error {
    let (option, source) = match source.downcast::<FailedCall>() {
        Ok(failed) => (failed.option, failed.source),
        Err(source) => (option, source),
    };
    Error::SetOption {
        addr: addr.clone(),
        option,
        error: source,
    }
}

/// Marks `source` as the failure of the call that sets `option`, for a
/// table entry that makes several calls (keepalive: `TCP_KEEPIDLE`,
/// `TCP_KEEPINTVL`, `TCP_KEEPCNT`), so that [`set_option_error`] names
/// that option rather than the entry's. The kind is kept.
pub(crate) fn failed_call(option: &'static str, source: io::Error) -> io::Error {
    io::Error::new(source.kind(), FailedCall { option, source })
}

/// The payload of [`failed_call`]; never seen outside the crate.
#[derive(Debug)]
struct FailedCall {
    option: &'static str,
    source: io::Error,
}

impl fmt::Display for FailedCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "set {}: {}", self.option, self.source)
    }
}

impl std::error::Error for FailedCall {}

/// Adds `item` to an option that takes a list, such as the groups to join.
pub(crate) fn add<T>(list: &mut Option<Vec<T>>, item: T) {
    list.get_or_insert_with(Vec::new).push(item);
}

/// Checks that `value` lies in `range`, naming the option otherwise.
pub(crate) fn in_range<T>(
    what: &str,
    value: T,
    range: std::ops::RangeInclusive<T>,
) -> std::result::Result<(), String>
where
    T: PartialOrd + fmt::Debug,
{
    if range.contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{what} {value:?} is outside {:?}..={:?}",
            range.start(),
            range.end()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_call_is_named_by_its_option_and_keeps_its_os_error() {
        let addr = Address::Inet("127.0.0.1:9".parse().unwrap());
        let einval = io::Error::from_raw_os_error(22);
        let err = set_option_error("SO_KEEPALIVE", &addr, failed_call("TCP_KEEPCNT", einval));
        let shown = err.to_string();
        assert!(
            shown.starts_with("set TCP_KEEPCNT on socket for 127.0.0.1:9: "),
            "{shown}"
        );
        assert_eq!(shown.matches("TCP_KEEPCNT").count(), 1, "{shown}");
        match err {
            Error::SetOption { error: source, .. } => assert_eq!(source.raw_os_error(), Some(22)),
            other => panic!("{other:?}"),
        }

        let plain = set_option_error("SO_KEEPALIVE", &addr, io::Error::other("refused"));
        assert!(
            plain
                .to_string()
                .starts_with("set SO_KEEPALIVE on socket for "),
            "{plain}"
        );
    }
}
