//! Every socket option either builder sets, each declared once.
//!
//! A declaration reads:
//!
//! ```text
//! field: ValueType { "C_OPTION" [/ "C_OPTION_ON_IPV6"], sockets, phase,
//!     [check: |value [, what]| Ok(()) or Err("what is wrong"),]
//!     [show: |value| how the log line shows it,]
//!     set [on_X [/ on_Y]]: |socket, value [, domain]| the setsockopt [/ the one on IPv6] }
//! ```
//!
//! - sockets: which sockets it acts on (`Applies::TCP`, `Applies::UDP.v4_only()`, ...);
//! - phase: when it is set (`Fresh`: before bind and connect; `Bound`; `Connected`);
//! - `check`: run before any system call (left out for an option that takes
//!   every value of its type); `what` names the option in its message, as
//!   `setter (C_OPTION)`;
//! - `set`: one call, or a method call on the socket for IPv4 (and Unix)
//!   sockets `/` one for IPv6 sockets, chosen by the socket's domain; `domain`
//!   is there for a call that needs it.
//!
//! The order of the declarations is the order of the `setsockopt` calls.
//! An option that only some platforms have names the `on_X!` of its
//! condition after `set` (`set on_linux: ...`, see [`crate::platform`]): its
//! setter exists only where `X` holds, and elsewhere the call is an error
//! naming the row's first C option. A pair (`set on_tos / on_tclass: ...`)
//! gates the IPv4 call and the IPv6 call each with its own, and each error
//! names its own option.
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

use super::{Applies, Decl, Phase, Side, TransportKind, in_range, set_option_error};
use crate::platform::has;
use crate::{Address, Domain, Error, Keepalive, Result, sys};

/// Generates [`Settings`], one field per option, and the few walks over
/// the options: each a straight sequence of `if let Some(value)` in
/// declaration order.
macro_rules! table {
    ($(
        $(#[$doc:meta])*
        $field:ident: $ty:ty { $name:literal $(/ $name_v6:literal)?, $applies:expr, $phase:ident,
            $(check: |$cv:ident $(, $what:ident)?| $check:expr,)?
            $(show: |$shv:ident| $show:expr,)?
            set $($gate:ident $(/ $gate_v6:ident)?)?: |$s:ident, $v:ident $(, $d:ident)?| $($set:tt)+
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
                                $(let $what = concat!(stringify!($field), " (", $name, ")");)?
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
                        fn set($s: &Socket, domain: Domain, $v: &$ty) -> io::Result<()> {
                            $(let $d = domain;)?
                            table!(@set domain, $name $(/ $name_v6)?, [$($gate $(/ $gate_v6)?)?], $($set)+)
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
    // A row's `set`: one call, or an IPv4 `/` an IPv6 method call chosen by
    // the domain; behind the row's `on_X!`, which names the row's first C
    // option, or behind one `on_X!` for each call, each naming its own.
    (@set $d:ident, $($name:literal)/+, [], $s4:ident.$m4:ident $a4:tt / $s6:ident.$m6:ident $a6:tt) => {
        if $d == Domain::Ipv6 { $s6.$m6 $a6 } else { $s4.$m4 $a4 }
    };
    (@set $d:ident, $($name:literal)/+, [], $set:expr) => { $set };
    (@set $d:ident, $name:literal $(/ $name_v6:literal)?, [$gate:ident], $($set:tt)+) => {
        $gate!(table!(@set $d, $name, [], $($set)+), $name)
    };
    (
        @set $d:ident, $name:literal / $name_v6:literal, [$gate:ident / $gate_v6:ident],
        $s4:ident.$m4:ident $a4:tt / $s6:ident.$m6:ident $a6:tt
    ) => {
        if $d == Domain::Ipv6 { $gate_v6!($s6.$m6 $a6, $name_v6) } else { $gate!($s4.$m4 $a4, $name) }
    };
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
    reuse_address: bool { "SO_REUSEADDR", Applies::INET, Fresh,
        // A Unix-domain bind never looks at it: a path in use stays in use.
        set: |s, v| s.set_reuse_address(*v)
    }
    reuse_port: bool { "SO_REUSEPORT", Applies::INET, Fresh,
        set on_reuse_port: |s, v| s.set_reuse_port(*v)
    }
    exclusive_address_use: bool { "SO_EXCLUSIVEADDRUSE", Applies::INET, Fresh,
        set on_windows: |s, v| sys::set_exclusive_address_use(s, *v)
    }
    only_v6: bool { "IPV6_V6ONLY", Applies::INET.v6_only(), Fresh,
        set: |s, v| s.set_only_v6(*v)
    }
    send_buffer_size: usize { "SO_SNDBUF", Applies::ANY, Fresh,
        check: |v, what| size(what, *v),
        set: |s, v| s.set_send_buffer_size(*v)
    }
    recv_buffer_size: usize { "SO_RCVBUF", Applies::ANY, Fresh,
        check: |v, what| size(what, *v),
        set: |s, v| s.set_recv_buffer_size(*v)
    }
    ttl: u32 { "IP_TTL" / "IPV6_UNICAST_HOPS", Applies::INET, Fresh,
        check: |v| in_range("ttl", *v, 1..=255),
        set: |s, v| s.set_ttl_v4(*v) / s.set_unicast_hops_v6(*v)
    }
    tos: u32 { "IP_TOS" / "IPV6_TCLASS",
        if has::TCLASS { Applies::INET } else { Applies::INET.v4_only() }, Fresh,
        check: |v| in_range("tos", *v, 0..=255),
        set on_tos / on_tclass: |s, v| s.set_tos_v4(*v) / s.set_tclass_v6(*v)
    }
    mark: u32 { "SO_MARK", Applies::INET, Fresh,
        set on_linux: |s, v| s.set_mark(*v)
    }
    ip_transparent: bool { "IP_TRANSPARENT" / "IPV6_TRANSPARENT", Applies::INET, Fresh,
        set on_linux: |s, v| s.set_ip_transparent_v4(*v) / s.set_ip_transparent_v6(*v)
    }
    freebind: bool { "IP_FREEBIND" / "IPV6_FREEBIND", Applies::INET, Fresh,
        set on_linux: |s, v| s.set_freebind_v4(*v) / s.set_freebind_v6(*v)
    }
    bind_device: String { "SO_BINDTODEVICE", Applies::INET, Fresh,
        check: |v| c_name("interface name", v, MAX_DEVICE_NAME),
        set on_bind_device: |s, v, d| sys::bind_device(s, d, v)
    }
    bind_device_by_index: NonZeroU32 { "SO_BINDTOIFINDEX", Applies::INET, Fresh,
        set on_bind_device: |s, v| s.bind_device_by_index_v4(Some(*v)) / s.bind_device_by_index_v6(Some(*v))
    }
    nodelay: bool { "TCP_NODELAY", Applies::TCP, Fresh,
        set: |s, v| s.set_tcp_nodelay(*v)
    }
    keepalive: Keepalive { "SO_KEEPALIVE", Applies::TCP, Fresh,
        check: |v| check_keepalive(v),
        show: |v| crate::keepalive::Shown(v),
        // `SO_KEEPALIVE` once, then a call per parameter, each failure
        // named by its option.
        set: |s, v| {
            if v.time.is_none() && v.interval.is_none() && v.retries.is_none() {
                return s.set_keepalive(true);
            }
            sys::set_keepalive(s, v)
        }
    }
    linger: Option<Duration> { "SO_LINGER", Applies::STREAMS, Fresh,
        check: |v, what| match v {
            Some(d) if *d > sys::MAX_LINGER => Err(format!(
                "{what} {d:?} does not fit the OS type (at most {} s)",
                sys::MAX_LINGER.as_secs()
            )),
            _ => Ok(()),
        },
        set: |s, v| s.set_linger(v.map(|t| sys::round_up(t, sys::LINGER_UNIT)))
    }
    tcp_user_timeout: Duration { "TCP_USER_TIMEOUT", Applies::TCP, Fresh,
        check: |v, what| duration(what, *v, MS, u64::from(u32::MAX)),
        set on_linux: |s, v| s.set_tcp_user_timeout(Some(sys::round_up(*v, MS)))
    }
    tcp_congestion: String { "TCP_CONGESTION", Applies::TCP, Fresh,
        check: |v| c_name("congestion control name", v, MAX_CONGESTION_NAME),
        set on_congestion: |s, v| s.set_tcp_congestion(v.as_bytes())
    }
    tcp_mss: u32 { "TCP_MAXSEG", Applies::TCP, Fresh,
        check: |v, what| in_range(what, *v, sys::MSS_RANGE),
        set on_unix: |s, v| s.set_tcp_mss(*v)
    }
    tcp_notsent_lowat: u32 { "TCP_NOTSENT_LOWAT", Applies::TCP, Fresh,
        set on_linux: |s, v| s.set_tcp_notsent_lowat(*v)
    }
    tcp_fastopen: u32 { "TCP_FASTOPEN", Applies::TCP, Fresh,
        check: |v| in_range("tcp_fastopen (TCP_FASTOPEN) queue length", *v, 0..=i32::MAX as u32),
        set on_fastopen: |s, v| sys::set_tcp_fastopen(s, *v)
    }
    tcp_defer_accept: Duration { "TCP_DEFER_ACCEPT", Applies::TCP, Fresh,
        check: |v, what| duration(what, *v, SECOND, i32::MAX as u64),
        set on_linux: |s, v| sys::set_tcp_defer_accept(s, whole(*v, SECOND))
    }
    tcp_fastopen_connect: bool { "TCP_FASTOPEN_CONNECT", Applies::TCP, Fresh,
        set on_linux: |s, v| sys::set_tcp_fastopen_connect(s, *v)
    }
    busy_poll: Duration { "SO_BUSY_POLL", Applies::INET, Fresh,
        check: |v, what| duration(what, *v, US, i32::MAX as u64),
        set on_linux_only: |s, v| s.set_busy_poll(whole(*v, US))
    }
    cpu_affinity: usize { "SO_INCOMING_CPU", Applies::INET, Fresh,
        check: |v, what| in_range(what, *v, 0..=i32::MAX as usize),
        set on_linux_only: |s, v| s.set_cpu_affinity(*v)
    }
    broadcast: bool { "SO_BROADCAST", Applies::UDP.v4_only(), Fresh,
        set: |s, v| s.set_broadcast(*v)
    }
    multicast_loop: bool { "IP_MULTICAST_LOOP" / "IPV6_MULTICAST_LOOP", Applies::UDP, Fresh,
        set: |s, v| s.set_multicast_loop_v4(*v) / s.set_multicast_loop_v6(*v)
    }
    multicast_ttl: u32 { "IP_MULTICAST_TTL" / "IPV6_MULTICAST_HOPS", Applies::UDP, Fresh,
        check: |v| in_range("multicast_ttl", *v, 0..=255),
        set: |s, v| s.set_multicast_ttl_v4(*v) / s.set_multicast_hops_v6(*v)
    }
    multicast_if_v4: Ipv4Addr { "IP_MULTICAST_IF", Applies::UDP.v4_only(), Fresh,
        set: |s, v| s.set_multicast_if_v4(v)
    }
    multicast_if_v6: u32 { "IPV6_MULTICAST_IF", Applies::UDP.v6_only(), Fresh,
        set: |s, v| s.set_multicast_if_v6(*v)
    }
    join_multicast_v4: Vec<(Ipv4Addr, Ipv4Addr)> { "IP_ADD_MEMBERSHIP", Applies::UDP.v4_only(), Bound,
        check: |v| multicast_groups("join_multicast_v4", "224.0.0.0/4", v.iter().map(|(group, _)| IpAddr::V4(*group))),
        set: |s, v| v.iter().try_for_each(|(group, interface)| s.join_multicast_v4(group, interface))
    }
    join_multicast_v6: Vec<(Ipv6Addr, u32)> { "IPV6_ADD_MEMBERSHIP", Applies::UDP.v6_only(), Bound,
        check: |v| multicast_groups("join_multicast_v6", "ff00::/8", v.iter().map(|(group, _)| IpAddr::V6(*group))),
        set: |s, v| v.iter().try_for_each(|(group, index)| s.join_multicast_v6(group, *index))
    }
    read_timeout: Duration { "SO_RCVTIMEO", Applies::ANY, Connected,
        check: |v, what| nonzero(what, *v),
        set: |s, v| s.set_read_timeout(Some(sys::os_timeout(*v)))
    }
    write_timeout: Duration { "SO_SNDTIMEO", Applies::ANY, Connected,
        check: |v, what| nonzero(what, *v),
        set: |s, v| s.set_write_timeout(Some(sys::os_timeout(*v)))
    }
    local_port_range: (u16, u16) { "IP_LOCAL_PORT_RANGE", Applies::INET, Fresh,
        check: |v, what| if v.0 == 0 || v.0 > v.1 {
            Err(format!("{what} {}..={} is empty or starts at port 0", v.0, v.1))
        } else {
            Ok(())
        },
        set on_linux: |s, v| sys::set_local_port_range(s, v.0, v.1)
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
                ));
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
