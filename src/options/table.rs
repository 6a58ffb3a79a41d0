//! Every socket option either builder sets, each declared once.
//!
//! A declaration reads:
//!
//! ```text
//! field: ValueType {
//!     name: "C_OPTION" [/ "C_OPTION_ON_IPV6"],
//!     applies: which sockets (Applies::TCP, ::UDP.v4_only(), ...),
//!     phase: when it is set (Fresh: before bind and connect; Bound; Connected),
//!     check: |value| Ok(()) or Err("what is wrong"), run before any system call
//!            (left out for an option that takes every value of its type),
//!     set: |socket, domain, value| the setsockopt,
//! }
//! ```
//!
//! The order of the declarations is the order of the `setsockopt` calls.
//! An option that only some platforms have is set through `on_X!` (see
//! [`crate::platform`]); its setter exists only where `X` holds.
//!
//! Adding an option touches its declaration here, its setter (in
//! `options/setters.rs` when both builders have it) and one row of
//! `tests/it/options.rs`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use log::debug;
use socket2::Socket;

use super::{in_range, set_option_error, Applies, Decl, Phase, Side, TransportKind};
use crate::platform::has;
use crate::{sys, Address, Domain, Error, Keepalive, Result};

/// Generates [`Settings`], one field per option, and the few walks over
/// the options: each a straight sequence of `if let Some(value)` in
/// declaration order.
macro_rules! table {
    ($(
        $(#[$doc:meta])*
        $field:ident: $ty:ty {
            name: $name:literal $(/ $name_v6:literal)?,
            applies: $applies:expr,
            phase: $phase:ident,
            $(check: |$cv:ident| $check:expr,)?
            $(show: |$shv:ident| $show:expr,)?
            set: |$s:ident, $d:ident, $v:ident| $set:expr $(,)?
        }
    )*) => {
        /// The value of every option, `None` where it is not asked for.
        #[derive(Debug, Clone, Default)]
        pub(crate) struct Settings {
            $( $(#[$doc])* pub(crate) $field: Option<$ty>, )*
        }

        /// Each option's declaration, a constant named after its field.
        #[allow(non_upper_case_globals)]
        mod decl {
            use super::*;

            $(
                pub(super) const $field: Decl = Decl {
                    setter: stringify!($field),
                    name: $name,
                    name_v6: table!(@v6 $name $(, $name_v6)?),
                    applies: $applies,
                };
            )*
        }

        /// Every declaration, in table order.
        #[cfg(test)]
        const DECLS: &[&Decl] = &[$(&decl::$field),*];

        impl Settings {
            /// Checks each value given, before any system call, and gives
            /// the first option given, in table order, that `acts` says does
            /// not act on the socket: one visit per option. The first option
            /// in table order with a refused value is the error.
            ///
            /// `acts` reads one constant field of [`Applies`] (see
            /// [`Settings::check_for`]), so that in each copy of this walk
            /// every declaration's test folds to a constant and an option
            /// that acts on every socket costs only its `is_some`.
            fn check_where(
                &self,
                acts: impl Fn(Applies) -> bool,
            ) -> Result<Option<&'static Decl>> {
                // First one short line of tests: is any option given that
                // has a value check or does not act here? Usually none is,
                // and the walk below is skipped.
                let any = false $(
                    || ((table!(@checked $($cv)?) || !acts(decl::$field.applies))
                        && self.$field.is_some())
                )*;
                if !any {
                    return Ok(None);
                }
                let mut refused = None;
                $(
                    if self.$field.is_some() {
                        $(
                            if let Some($cv) = &self.$field {
                                $check.map_err(Error::invalid)?;
                            }
                        )?
                        if refused.is_none() && !acts(decl::$field.applies) {
                            refused = Some(&decl::$field);
                        }
                    }
                )*
                Ok(refused)
            }

            /// The declaration of the first option given, in table order,
            /// that `acts` says does not act on the socket: a closure that
            /// reads [`Applies`].
            fn first_refused(&self, acts: impl Fn(Applies) -> bool) -> Option<&'static Decl> {
                $(
                    if self.$field.is_some() && !acts(decl::$field.applies) {
                        return Some(&decl::$field);
                    }
                )*
                None
            }

            /// Forgets every option given that does not act on sockets of
            /// `transport`, handing each one's declaration to `skipped`
            /// first, in table order.
            pub(crate) fn drop_not_for(
                &mut self,
                transport: TransportKind,
                mut skipped: impl FnMut(&Decl),
            ) {
                $(
                    if self.$field.is_some() && !decl::$field.applies.to(transport) {
                        self.$field = None;
                        skipped(&decl::$field);
                    }
                )*
            }

            /// Sets each option given whose phase `now` accepts, in table
            /// order, with a `debug` line for each on the log target of
            /// `side`. As `acts` in `check_where`, `now` compares with one
            /// constant phase (see [`Settings::apply`]), so that each copy of
            /// this walk looks only at the options of its phase.
            fn apply_where(
                &self,
                now: impl Fn(Phase) -> bool,
                socket: &Socket,
                domain: Domain,
                addr: &Address,
                side: Side,
            ) -> Result<()> {
                $(
                    if let (true, Some($v)) = (now(Phase::$phase), &self.$field) {
                        #[allow(unused_variables, clippy::ptr_arg)]
                        fn set($s: &Socket, $d: Domain, $v: &$ty) -> io::Result<()> {
                            $set
                        }
                        let name = decl::$field.name(domain);
                        if let Err(source) = set(socket, domain, $v) {
                            return Err(set_option_error(name, addr, source));
                        }
                        table!(@log side.target(), name, $v, addr $(, |$shv| $show)?);
                    }
                )*
                Ok(())
            }
        }
    };
    // The log line of a value set: `set NAME=VALUE for ADDR`, or with an
    // option's own `show`, `set NAME (SHOWN) for ADDR`.
    (@log $target:expr, $name:ident, $value:ident, $addr:ident) => {
        debug!(target: $target, "set {}={:?} for {}", $name, $value, $addr)
    };
    (@log $target:expr, $name:ident, $value:ident, $addr:ident, |$shv:ident| $show:expr) => {{
        let $shv = $value;
        debug!(target: $target, "set {} ({}) for {}", $name, $show, $addr)
    }};
    (@checked) => { false };
    (@checked $cv:ident) => { true };
    (@v6 $name:literal) => { $name };
    (@v6 $name:literal, $v6:literal) => { $v6 };
}

// The walks that run on every socket made take their transport and phase
// as constants: each arm of the matches below is a copy of its walk that
// looks only at the options that could be refused there, or that are set
// then. The others run only for an endpoint, once per call.
impl Settings {
    /// Checks each value given, before any system call, and gives the first
    /// option given that does not apply to `transport`.
    pub(crate) fn check_for(&self, transport: TransportKind) -> Result<Option<&'static Decl>> {
        match transport {
            TransportKind::Tcp => self.check_where(|a| a.tcp),
            TransportKind::Udp => self.check_where(|a| a.udp),
            #[cfg(unix)]
            TransportKind::UnixStream => self.check_where(|a| a.unix_stream),
            #[cfg(unix)]
            TransportKind::UnixDatagram => self.check_where(|a| a.unix_datagram),
        }
    }

    /// Sets each option of `phase` given, in table order, with a `debug`
    /// line for each on the log target of `side`.
    pub(crate) fn apply(
        &self,
        phase: Phase,
        socket: &Socket,
        domain: Domain,
        addr: &Address,
        side: Side,
    ) -> Result<()> {
        match phase {
            Phase::Fresh => self.apply_where(|p| p == Phase::Fresh, socket, domain, addr, side),
            Phase::Bound => self.apply_where(|p| p == Phase::Bound, socket, domain, addr, side),
            Phase::Connected => {
                self.apply_where(|p| p == Phase::Connected, socket, domain, addr, side)
            }
        }
    }

    /// The first option given that does not apply to `transport`.
    pub(crate) fn not_for_transport(&self, transport: TransportKind) -> Option<&'static Decl> {
        self.first_refused(|a| a.to(transport))
    }

    /// The first option given that does not apply to sockets of `domain`:
    /// run for every socket made, so per family, as `check_for` is.
    pub(crate) fn not_for_family(&self, domain: Domain) -> Option<&'static Decl> {
        match domain {
            Domain::Ipv4 => self.first_refused(|a| a.v4),
            Domain::Ipv6 => self.first_refused(|a| a.v6),
            #[cfg(unix)]
            Domain::Unix => None,
        }
    }
}

/// Longest interface name `SO_BINDTODEVICE` takes (`IFNAMSIZ` less the NUL).
const MAX_DEVICE_NAME: usize = 15;
/// Longest congestion control name (`TCP_CA_NAME_MAX` less the NUL).
const MAX_CONGESTION_NAME: usize = 15;

/// A name the kernel takes as a C string of at most `max` bytes.
fn c_name(what: &str, name: &str, max: usize) -> std::result::Result<(), String> {
    if name.is_empty() || name.len() > max || name.contains('\0') {
        Err(format!(
            "{what} {name:?} must be 1 to {max} bytes with no NUL"
        ))
    } else {
        Ok(())
    }
}

/// A duration that is neither zero nor more than `max` of `unit`.
fn duration(
    what: &str,
    value: Duration,
    unit: Duration,
    max: u64,
) -> std::result::Result<(), String> {
    let limit = unit.saturating_mul(u32::try_from(max).unwrap_or(u32::MAX));
    if value.is_zero() {
        Err(format!("{what} must not be zero"))
    } else if sys::round_up(value, unit) > limit {
        Err(format!(
            "{what} {value:?} does not fit the OS type (at most {limit:?})"
        ))
    } else {
        Ok(())
    }
}

/// A size that is neither zero nor more than a C `int` holds.
fn size(what: &str, value: usize) -> std::result::Result<(), String> {
    match value {
        0 => Err(format!("{what} must not be zero")),
        n if i32::try_from(n).is_err() => Err(format!(
            "{what} {n} does not fit the OS type (at most {})",
            i32::MAX
        )),
        _ => Ok(()),
    }
}

const MS: Duration = Duration::from_millis(1);
const US: Duration = Duration::from_micros(1);
const SECOND: Duration = Duration::from_secs(1);

cfg_linux! {
    /// `duration` in whole `unit`s, rounded up (checked to fit by `check`).
    /// Only Linux options use it.
    fn whole(duration: Duration, unit: Duration) -> u32 {
        let units = sys::round_up(duration, unit).as_nanos() / unit.as_nanos();
        u32::try_from(units).unwrap_or(u32::MAX)
    }
}

table! {
    reuse_address: bool {
        name: "SO_REUSEADDR",
        // A Unix-domain bind never looks at it: a path in use stays in use.
        applies: Applies::INET,
        phase: Fresh,
        set: |s, d, v| s.set_reuse_address(*v),
    }
    reuse_port: bool {
        name: "SO_REUSEPORT",
        applies: Applies::INET,
        phase: Fresh,
        set: |s, d, v| on_reuse_port!(s.set_reuse_port(*v), "SO_REUSEPORT"),
    }
    exclusive_address_use: bool {
        name: "SO_EXCLUSIVEADDRUSE",
        applies: Applies::INET,
        phase: Fresh,
        set: |s, d, v| on_windows!(sys::set_exclusive_address_use(s, *v), "SO_EXCLUSIVEADDRUSE"),
    }
    only_v6: bool {
        name: "IPV6_V6ONLY",
        applies: Applies::INET.v6_only(),
        phase: Fresh,
        set: |s, d, v| s.set_only_v6(*v),
    }
    send_buffer_size: usize {
        name: "SO_SNDBUF",
        applies: Applies::ANY,
        phase: Fresh,
        check: |v| size("send_buffer_size (SO_SNDBUF)", *v),
        set: |s, d, v| s.set_send_buffer_size(*v),
    }
    recv_buffer_size: usize {
        name: "SO_RCVBUF",
        applies: Applies::ANY,
        phase: Fresh,
        check: |v| size("recv_buffer_size (SO_RCVBUF)", *v),
        set: |s, d, v| s.set_recv_buffer_size(*v),
    }
    ttl: u32 {
        name: "IP_TTL" / "IPV6_UNICAST_HOPS",
        applies: Applies::INET,
        phase: Fresh,
        check: |v| in_range("ttl", *v, 1..=255),
        set: |s, d, v| if d == Domain::Ipv6 { s.set_unicast_hops_v6(*v) } else { s.set_ttl_v4(*v) },
    }
    tos: u32 {
        name: "IP_TOS" / "IPV6_TCLASS",
        applies: if has::TCLASS { Applies::INET } else { Applies::INET.v4_only() },
        phase: Fresh,
        check: |v| in_range("tos", *v, 0..=255),
        set: |s, d, v| if d == Domain::Ipv6 {
            on_tclass!(s.set_tclass_v6(*v), "IPV6_TCLASS")
        } else {
            on_tos!(s.set_tos_v4(*v), "IP_TOS")
        },
    }
    mark: u32 {
        name: "SO_MARK",
        applies: Applies::INET,
        phase: Fresh,
        set: |s, d, v| on_linux!(s.set_mark(*v), "SO_MARK"),
    }
    ip_transparent: bool {
        name: "IP_TRANSPARENT" / "IPV6_TRANSPARENT",
        applies: Applies::INET,
        phase: Fresh,
        set: |s, d, v| on_linux!(if d == Domain::Ipv6 {
            s.set_ip_transparent_v6(*v)
        } else {
            s.set_ip_transparent_v4(*v)
        }, "IP_TRANSPARENT"),
    }
    freebind: bool {
        name: "IP_FREEBIND" / "IPV6_FREEBIND",
        applies: Applies::INET,
        phase: Fresh,
        set: |s, d, v| on_linux!(if d == Domain::Ipv6 {
            s.set_freebind_v6(*v)
        } else {
            s.set_freebind_v4(*v)
        }, "IP_FREEBIND"),
    }
    bind_device: String {
        name: "SO_BINDTODEVICE",
        applies: Applies::INET,
        phase: Fresh,
        check: |v| c_name("interface name", v, MAX_DEVICE_NAME),
        set: |s, d, v| on_bind_device!(sys::bind_device(s, d, v), "SO_BINDTODEVICE"),
    }
    bind_device_by_index: NonZeroU32 {
        name: "SO_BINDTOIFINDEX",
        applies: Applies::INET,
        phase: Fresh,
        set: |s, d, v| on_bind_device!(if d == Domain::Ipv6 {
            s.bind_device_by_index_v6(Some(*v))
        } else {
            s.bind_device_by_index_v4(Some(*v))
        }, "SO_BINDTOIFINDEX"),
    }
    nodelay: bool {
        name: "TCP_NODELAY",
        applies: Applies::TCP,
        phase: Fresh,
        set: |s, d, v| s.set_tcp_nodelay(*v),
    }
    keepalive: Keepalive {
        name: "SO_KEEPALIVE",
        applies: Applies::TCP,
        phase: Fresh,
        check: |v| check_keepalive(v),
        show: |v| crate::keepalive::Shown(v),
        // `SO_KEEPALIVE` once, then a call per parameter, each failure
        // named by its option.
        set: |s, d, v| {
            if v.time.is_none() && v.interval.is_none() && v.retries.is_none() {
                return s.set_keepalive(true);
            }
            sys::set_keepalive(s, v)
        },
    }
    linger: Option<Duration> {
        name: "SO_LINGER",
        applies: Applies::STREAMS,
        phase: Fresh,
        check: |v| match v {
            Some(d) if *d > sys::MAX_LINGER => Err(format!(
                "linger (SO_LINGER) {d:?} does not fit the OS type (at most {} s)",
                sys::MAX_LINGER.as_secs()
            )),
            _ => Ok(()),
        },
        set: |s, d, v| s.set_linger(v.map(|t| sys::round_up(t, sys::LINGER_UNIT))),
    }
    tcp_user_timeout: Duration {
        name: "TCP_USER_TIMEOUT",
        applies: Applies::TCP,
        phase: Fresh,
        check: |v| duration("tcp_user_timeout (TCP_USER_TIMEOUT)", *v, MS, u64::from(u32::MAX)),
        set: |s, d, v| on_linux!(s.set_tcp_user_timeout(Some(sys::round_up(*v, MS))), "TCP_USER_TIMEOUT"),
    }
    tcp_congestion: String {
        name: "TCP_CONGESTION",
        applies: Applies::TCP,
        phase: Fresh,
        check: |v| c_name("congestion control name", v, MAX_CONGESTION_NAME),
        set: |s, d, v| on_congestion!(s.set_tcp_congestion(v.as_bytes()), "TCP_CONGESTION"),
    }
    tcp_mss: u32 {
        name: "TCP_MAXSEG",
        applies: Applies::TCP,
        phase: Fresh,
        check: |v| in_range("tcp_mss (TCP_MAXSEG)", *v, sys::MSS_RANGE),
        set: |s, d, v| on_unix!(s.set_tcp_mss(*v), "TCP_MAXSEG"),
    }
    tcp_notsent_lowat: u32 {
        name: "TCP_NOTSENT_LOWAT",
        applies: Applies::TCP,
        phase: Fresh,
        set: |s, d, v| on_linux!(s.set_tcp_notsent_lowat(*v), "TCP_NOTSENT_LOWAT"),
    }
    tcp_fastopen: u32 {
        name: "TCP_FASTOPEN",
        applies: Applies::TCP,
        phase: Fresh,
        check: |v| in_range("tcp_fastopen (TCP_FASTOPEN) queue length", *v, 0..=i32::MAX as u32),
        set: |s, d, v| on_fastopen!(sys::set_tcp_fastopen(s, *v), "TCP_FASTOPEN"),
    }
    tcp_defer_accept: Duration {
        name: "TCP_DEFER_ACCEPT",
        applies: Applies::TCP,
        phase: Fresh,
        check: |v| duration("tcp_defer_accept (TCP_DEFER_ACCEPT)", *v, SECOND, i32::MAX as u64),
        set: |s, d, v| on_linux!(sys::set_tcp_defer_accept(s, whole(*v, SECOND)), "TCP_DEFER_ACCEPT"),
    }
    tcp_fastopen_connect: bool {
        name: "TCP_FASTOPEN_CONNECT",
        applies: Applies::TCP,
        phase: Fresh,
        set: |s, d, v| on_linux!(sys::set_tcp_fastopen_connect(s, *v), "TCP_FASTOPEN_CONNECT"),
    }
    busy_poll: Duration {
        name: "SO_BUSY_POLL",
        applies: Applies::INET,
        phase: Fresh,
        check: |v| duration("busy_poll (SO_BUSY_POLL)", *v, US, i32::MAX as u64),
        set: |s, d, v| on_linux_only!(s.set_busy_poll(whole(*v, US)), "SO_BUSY_POLL"),
    }
    cpu_affinity: usize {
        name: "SO_INCOMING_CPU",
        applies: Applies::INET,
        phase: Fresh,
        check: |v| in_range("cpu_affinity (SO_INCOMING_CPU)", *v, 0..=i32::MAX as usize),
        set: |s, d, v| on_linux_only!(s.set_cpu_affinity(*v), "SO_INCOMING_CPU"),
    }
    broadcast: bool {
        name: "SO_BROADCAST",
        applies: Applies::UDP.v4_only(),
        phase: Fresh,
        set: |s, d, v| s.set_broadcast(*v),
    }
    multicast_loop: bool {
        name: "IP_MULTICAST_LOOP" / "IPV6_MULTICAST_LOOP",
        applies: Applies::UDP,
        phase: Fresh,
        set: |s, d, v| if d == Domain::Ipv6 {
            s.set_multicast_loop_v6(*v)
        } else {
            s.set_multicast_loop_v4(*v)
        },
    }
    multicast_ttl: u32 {
        name: "IP_MULTICAST_TTL" / "IPV6_MULTICAST_HOPS",
        applies: Applies::UDP,
        phase: Fresh,
        check: |v| in_range("multicast_ttl", *v, 0..=255),
        set: |s, d, v| if d == Domain::Ipv6 {
            s.set_multicast_hops_v6(*v)
        } else {
            s.set_multicast_ttl_v4(*v)
        },
    }
    multicast_if_v4: Ipv4Addr {
        name: "IP_MULTICAST_IF",
        applies: Applies::UDP.v4_only(),
        phase: Fresh,
        set: |s, d, v| s.set_multicast_if_v4(v),
    }
    multicast_if_v6: u32 {
        name: "IPV6_MULTICAST_IF",
        applies: Applies::UDP.v6_only(),
        phase: Fresh,
        set: |s, d, v| s.set_multicast_if_v6(*v),
    }
    join_multicast_v4: Vec<(Ipv4Addr, Ipv4Addr)> {
        name: "IP_ADD_MEMBERSHIP",
        applies: Applies::UDP.v4_only(),
        phase: Bound,
        check: |v| multicast_groups("join_multicast_v4", "224.0.0.0/4", v.iter().map(|(group, _)| IpAddr::V4(*group))),
        set: |s, d, v| v.iter().try_for_each(|(group, interface)| s.join_multicast_v4(group, interface)),
    }
    join_multicast_v6: Vec<(Ipv6Addr, u32)> {
        name: "IPV6_ADD_MEMBERSHIP",
        applies: Applies::UDP.v6_only(),
        phase: Bound,
        check: |v| multicast_groups("join_multicast_v6", "ff00::/8", v.iter().map(|(group, _)| IpAddr::V6(*group))),
        set: |s, d, v| v.iter().try_for_each(|(group, index)| s.join_multicast_v6(group, *index)),
    }
    read_timeout: Duration {
        name: "SO_RCVTIMEO",
        applies: Applies::ANY,
        phase: Connected,
        check: |v| nonzero("read_timeout (SO_RCVTIMEO)", *v),
        set: |s, d, v| s.set_read_timeout(Some(sys::round_up(*v, sys::TIMEOUT_UNIT))),
    }
    write_timeout: Duration {
        name: "SO_SNDTIMEO",
        applies: Applies::ANY,
        phase: Connected,
        check: |v| nonzero("write_timeout (SO_SNDTIMEO)", *v),
        set: |s, d, v| s.set_write_timeout(Some(sys::round_up(*v, sys::TIMEOUT_UNIT))),
    }
    local_port_range: (u16, u16) {
        name: "IP_LOCAL_PORT_RANGE",
        applies: Applies::INET,
        phase: Fresh,
        check: |v| if v.0 == 0 || v.0 > v.1 {
            Err(format!("local_port_range (IP_LOCAL_PORT_RANGE) {}..={} is empty or starts at port 0", v.0, v.1))
        } else {
            Ok(())
        },
        set: |s, d, v| on_linux!(sys::set_local_port_range(s, v.0, v.1), "IP_LOCAL_PORT_RANGE"),
    }
}

/// Every group a `join_multicast_*` option lists is a multicast address
/// (in `range`); the first that is not is the error.
fn multicast_groups(
    setter: &str,
    range: &str,
    mut groups: impl Iterator<Item = IpAddr>,
) -> std::result::Result<(), String> {
    match groups.find(|group| !group.is_multicast()) {
        Some(group) => Err(format!(
            "{setter}: {group} is not a multicast group ({range})"
        )),
        None => Ok(()),
    }
}

fn nonzero(what: &str, value: Duration) -> std::result::Result<(), String> {
    if value.is_zero() {
        Err(format!("{what} must not be zero"))
    } else {
        Ok(())
    }
}

fn check_keepalive(ka: &Keepalive) -> std::result::Result<(), String> {
    if ka.time == Some(Duration::ZERO) || ka.interval == Some(Duration::ZERO) {
        return Err("keepalive durations must not be zero".into());
    }
    if ka.retries == Some(0) {
        return Err("keepalive retries (TCP_KEEPCNT) must not be zero".into());
    }
    let limits = &crate::keepalive::LIMITS;
    let times = [
        ("time", &limits.time, ka.time),
        ("interval", &limits.interval, ka.interval),
    ];
    for (what, limit, value) in times {
        match value {
            Some(value) if sys::round_up(value, limits.unit) > limit.max => {
                return Err(format!(
                    "keepalive {what} ({}) {value:?} is more than this OS takes (at most {:?})",
                    limit.option, limit.max
                ))
            }
            _ => {}
        }
    }
    match ka.retries {
        Some(retries) if retries > limits.retries.max => Err(format!(
            "keepalive retries ({}) {retries} is more than this OS takes (at most {})",
            limits.retries.option, limits.retries.max
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The crate docs' option table says, for each option, the transports
    /// its declaration here says it acts on.
    #[test]
    fn the_crate_docs_say_where_each_option_acts() {
        let docs = include_str!("../lib.rs");
        for decl in DECLS {
            let setter = format!("`{}`", decl.setter);
            let row = docs
                .lines()
                .filter(|l| l.starts_with("//! | "))
                .find(|l| {
                    let first = l.split('|').nth(1).unwrap_or("");
                    first.split(',').any(|s| s.trim() == setter)
                })
                .unwrap_or_else(|| panic!("no row for {setter} in the crate docs' option table"));
            let acts = row.split('|').nth(3).unwrap_or("").trim();
            let acts = acts.split(" (").next().unwrap_or("");
            let a = decl.applies;
            let want: Vec<&str> = [
                (a.tcp, "TCP"),
                (a.udp, "UDP"),
                (a.unix_stream, "Unix stream"),
                (a.unix_datagram, "Unix datagram"),
            ]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| *name)
            .collect();
            assert_eq!(acts, want.join(", "), "{setter}: {row}");
        }
    }

    #[test]
    fn checks_report_the_first_option_in_table_order() {
        let mut set = Settings::default();
        assert!(matches!(set.check_for(TransportKind::Udp), Ok(None)));
        assert!(set.not_for_transport(TransportKind::Udp).is_none());
        // Written in the reverse of table order: the first in the table is reported.
        set.ttl = Some(0);
        set.send_buffer_size = Some(0);
        let err = set.check_for(TransportKind::Tcp).unwrap_err().to_string();
        assert!(err.contains("send_buffer_size (SO_SNDBUF)"), "{err}");

        // A refused value comes first, even after an option that does not
        // apply: nodelay is before tcp_mss in the table.
        set.ttl = None;
        set.send_buffer_size = None;
        set.nodelay = Some(true);
        set.tcp_mss = Some(0);
        let err = set.check_for(TransportKind::Udp).unwrap_err().to_string();
        assert!(err.contains("tcp_mss (TCP_MAXSEG)"), "{err}");
        set.tcp_mss = None;

        // The walk for each transport and the one without value checks agree.
        set.multicast_ttl = Some(1);
        set.linger = Some(None);
        let kinds = [
            TransportKind::Tcp,
            TransportKind::Udp,
            #[cfg(unix)]
            TransportKind::UnixStream,
            #[cfg(unix)]
            TransportKind::UnixDatagram,
        ];
        let refused: Vec<_> = kinds
            .iter()
            .map(|k| set.check_for(*k).ok().flatten().map(|d| d.setter))
            .collect();
        let expected = [
            Some("multicast_ttl"),
            Some("nodelay"),
            #[cfg(unix)]
            Some("nodelay"),
            #[cfg(unix)]
            Some("nodelay"),
        ];
        assert_eq!(refused, expected);
        for kind in kinds {
            let checked = set.check_for(kind).ok().flatten().map(|d| d.setter);
            assert_eq!(checked, set.not_for_transport(kind).map(|d| d.setter));
        }
        assert!(matches!(set.check_for(TransportKind::Tcp), Ok(Some(_))));
        set.multicast_ttl = None;
        set.linger = None;
        let not_udp = set.not_for_transport(TransportKind::Udp).map(|d| d.setter);
        assert_eq!(not_udp, Some("nodelay"));
        assert!(set.not_for_transport(TransportKind::Tcp).is_none());

        set.broadcast = Some(true);
        let not_v6 = set.not_for_family(Domain::Ipv6).map(|d| d.setter);
        assert_eq!(not_v6, Some("broadcast"));
        // Written back to unset, it is not asked for.
        set.broadcast = None;
        assert!(set.not_for_family(Domain::Ipv6).is_none());
    }
}
