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

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use log::debug;
use socket2::Socket;

use super::{in_range, set_option_error, Applies, Decl, Phase, Side, TransportKind};
use crate::platform::has;
use crate::{sys, Address, Domain, Error, Keepalive, Result};

/// Generates [`Values`], the writers of [`Settings`] and each option's
/// functions from the declarations.
///
/// Each option has a bit in [`Settings::asked`], set by the option's
/// writer, so that every walk over the options (validation, the checks of
/// transport and family, each phase's `setsockopt`s) visits only the
/// options asked for, in declaration order, and a build that asks for none
/// of a walk's options pays one comparison for it. A walk calls each
/// option's own function through a table indexed by its position: one loop
/// over a `match` of every option would have the compiler load and prepare
/// every field before the loop.
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
        pub(crate) struct Values {
            $( $(#[$doc])* pub(crate) $field: Option<$ty>, )*
        }

        /// Each option's position in the table: its bit in
        /// [`Settings::asked`] is `1 << position`.
        #[allow(non_camel_case_types, clippy::enum_variant_names)]
        #[derive(Clone, Copy)]
        enum Position {
            $( $field, )*
        }

        /// Each option's declaration and functions, in a module named
        /// after its field.
        mod by_option {
            $(
                #[allow(non_upper_case_globals)]
                pub(super) mod $field {
                    use super::super::*;

                    /// This option's bit in [`Settings::asked`].
                    // An option whose setter exists only on other platforms
                    // is never written here.
                    #[allow(dead_code)]
                    pub(crate) const BIT: u64 = 1 << Position::$field as u32;

                    pub(crate) const DECL: Decl = Decl {
                        setter: stringify!($field),
                        name: $name,
                        name_v6: table!(@v6 $name $(, $name_v6)?),
                        applies: $applies,
                        phase: Phase::$phase,
                        checked: table!(@checked $($check)?),
                    };

                    /// Whether a value is given.
                    pub(crate) fn given(values: &Values) -> bool {
                        values.$field.is_some()
                    }

                    /// Forgets the value given, if any.
                    pub(crate) fn clear(values: &mut Values) {
                        values.$field = None;
                    }

                    /// Checks the value given, if any.
                    pub(crate) fn check(values: &Values) -> std::result::Result<(), String> {
                        $(
                            if let Some($cv) = &values.$field {
                                return $check;
                            }
                        )?
                        let _ = values;
                        Ok(())
                    }

                    /// Sets the value given, if any, on `socket`.
                    pub(crate) fn apply(
                        values: &Values,
                        socket: &Socket,
                        domain: Domain,
                    ) -> io::Result<()> {
                        #[allow(unused_variables, clippy::ptr_arg)]
                        fn set($s: &Socket, $d: Domain, $v: &$ty) -> io::Result<()> {
                            $set
                        }
                        match &values.$field {
                            Some(value) => set(socket, domain, value),
                            None => Ok(()),
                        }
                    }

                    /// The log line of the value set, if any.
                    pub(crate) fn log(
                        values: &Values,
                        domain: Domain,
                        addr: &Address,
                        target: &str,
                    ) {
                        if let Some(value) = &values.$field {
                            let name = DECL.name(domain);
                            table!(@log target, name, value, addr $(, |$shv| $show)?);
                        }
                    }
                }
            )*
        }

        /// Every option's functions, indexed by position.
        const OPTIONS: &[Functions] = &[$(
            Functions {
                decl: &by_option::$field::DECL,
                given: by_option::$field::given,
                clear: by_option::$field::clear,
                check: by_option::$field::check,
                apply: by_option::$field::apply,
                log: by_option::$field::log,
            },
        )*];

        impl Settings {
            $(
                /// The value of this option, to be written: marks it asked for.
                #[allow(dead_code)] // a setter that exists only on other platforms
                pub(crate) fn $field(&mut self) -> &mut Option<$ty> {
                    self.asked |= by_option::$field::BIT;
                    &mut self.values.$field
                }
            )*
        }
    };
    // The log line of a value set: `set NAME=VALUE for ADDR`, or with an
    // option's own `show`, `set NAME (SHOWN) for ADDR`.
    (@log $target:ident, $name:ident, $value:ident, $addr:ident) => {
        debug!(target: $target, "set {}={:?} for {}", $name, $value, $addr)
    };
    (@log $target:ident, $name:ident, $value:ident, $addr:ident, |$shv:ident| $show:expr) => {{
        let $shv = $value;
        debug!(target: $target, "set {} ({}) for {}", $name, $show, $addr)
    }};
    (@checked) => { false };
    (@checked $check:expr) => { true };
    (@v6 $name:literal) => { $name };
    (@v6 $name:literal, $v6:literal) => { $v6 };
}

/// The options asked for: their values, and a bit for each that was
/// written (see [`table`]).
#[derive(Clone, Default)]
pub(crate) struct Settings {
    values: Values,
    /// Bit `1 << position` for each option written. An option never
    /// written has its bit clear and its value `None`.
    asked: u64,
}

impl std::ops::Deref for Settings {
    type Target = Values;

    fn deref(&self) -> &Values {
        &self.values
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.values.fmt(f)
    }
}

/// One option's declaration and functions, as [`table`] makes them.
struct Functions {
    decl: &'static Decl,
    /// Whether a value is given.
    given: fn(&Values) -> bool,
    /// Forgets the value given.
    clear: fn(&mut Values),
    /// Checks the value given, if any.
    check: fn(&Values) -> std::result::Result<(), String>,
    /// Sets the value given, if any.
    apply: fn(&Values, &Socket, Domain) -> io::Result<()>,
    /// Logs the value set, if any, at `debug` level.
    log: fn(&Values, Domain, &Address, &str),
}

// Every option has a bit of a `u64`.
const _: () = assert!(OPTIONS.len() <= 64);

/// The options whose bits are set in `bits`, lowest bit first: in table
/// order.
fn positions(mut bits: u64) -> impl Iterator<Item = &'static Functions> {
    std::iter::from_fn(move || {
        if bits == 0 {
            return None;
        }
        let position = bits.trailing_zeros();
        bits &= bits - 1;
        Some(&OPTIONS[position as usize])
    })
}

impl Settings {
    /// Checks each value asked for, before any system call. Options that
    /// take every value of their type are not visited.
    #[inline]
    pub(crate) fn validate(&self) -> Result<()> {
        if self.asked & CHECKED == 0 {
            return Ok(());
        }
        positions(self.asked & CHECKED)
            .try_for_each(|option| (option.check)(&self.values).map_err(Error::invalid))
    }

    /// Whether [`validate`](Self::validate) and
    /// [`not_for_transport`](Self::not_for_transport) are sure to pass for
    /// `transport`, and no option asked for is checked against another: a
    /// few bit tests that let the usual build skip the walks.
    #[inline]
    pub(crate) fn plain_for(&self, transport: TransportKind) -> bool {
        const CROSS_CHECKED: u64 = by_option::exclusive_address_use::BIT;
        self.asked & (CHECKED | CROSS_CHECKED | !transport_bits(transport)) == 0
    }

    /// The declaration of the first option given among `bits`.
    #[inline]
    fn first_among(&self, bits: u64) -> Option<&'static Decl> {
        if self.asked & bits == 0 {
            return None;
        }
        positions(self.asked & bits)
            .find(|option| (option.given)(&self.values))
            .map(|option| option.decl)
    }

    /// The first option given that does not apply to `transport`.
    #[inline]
    pub(crate) fn not_for_transport(&self, transport: TransportKind) -> Option<&'static Decl> {
        self.first_among(!transport_bits(transport))
    }

    /// Forgets every option given that does not act on sockets of
    /// `transport`, handing each one's declaration to `skipped` first, in
    /// table order.
    pub(crate) fn drop_not_for(
        &mut self,
        transport: TransportKind,
        mut skipped: impl FnMut(&Decl),
    ) {
        let bits = self.asked & !transport_bits(transport);
        for option in positions(bits) {
            if (option.given)(&self.values) {
                skipped(option.decl);
            }
            (option.clear)(&mut self.values);
        }
        self.asked &= !bits;
    }

    /// The first option given that does not apply to sockets of `domain`.
    #[inline]
    pub(crate) fn not_for_family(&self, domain: Domain) -> Option<&'static Decl> {
        self.first_among(!family_bits(domain))
    }

    /// Sets each option of `phase` given, in declaration order, logging
    /// each to the log target of `side`.
    pub(crate) fn apply(
        &self,
        phase: Phase,
        socket: &Socket,
        domain: Domain,
        addr: &Address,
        side: Side,
    ) -> Result<()> {
        // A `for` loop rather than `try_for_each`, whose closure the
        // compiler may leave as a function of its own.
        for option in positions(self.asked & phase_bits(phase)) {
            if let Err(source) = (option.apply)(&self.values, socket, domain) {
                return Err(set_option_error(option.decl.name(domain), addr, source));
            }
            if log::log_enabled!(target: side.target(), log::Level::Debug) {
                (option.log)(&self.values, domain, addr, side.target());
            }
        }
        Ok(())
    }
}

/// The bits of the options whose declarations pass `keep`.
macro_rules! bits_where {
    (|$decl:ident| $keep:expr) => {{
        let mut bits = 0;
        let mut i = 0;
        while i < OPTIONS.len() {
            let $decl = OPTIONS[i].decl;
            if $keep {
                bits |= 1 << i;
            }
            i += 1;
        }
        bits
    }};
}

/// The options whose values are checked.
const CHECKED: u64 = bits_where!(|d| d.checked);

/// The bits of the options set in `phase`.
fn phase_bits(phase: Phase) -> u64 {
    const FRESH: u64 = bits_where!(|d| matches!(d.phase, Phase::Fresh));
    const BOUND: u64 = bits_where!(|d| matches!(d.phase, Phase::Bound));
    const CONNECTED: u64 = bits_where!(|d| matches!(d.phase, Phase::Connected));
    match phase {
        Phase::Fresh => FRESH,
        Phase::Bound => BOUND,
        Phase::Connected => CONNECTED,
    }
}

/// The bits of the options that apply to sockets of `transport`.
fn transport_bits(transport: TransportKind) -> u64 {
    const TCP: u64 = bits_where!(|d| d.applies.tcp);
    const UDP: u64 = bits_where!(|d| d.applies.udp);
    #[cfg(unix)]
    const UNIX_STREAM: u64 = bits_where!(|d| d.applies.unix_stream);
    #[cfg(unix)]
    const UNIX_DATAGRAM: u64 = bits_where!(|d| d.applies.unix_datagram);
    match transport {
        TransportKind::Tcp => TCP,
        TransportKind::Udp => UDP,
        #[cfg(unix)]
        TransportKind::UnixStream => UNIX_STREAM,
        #[cfg(unix)]
        TransportKind::UnixDatagram => UNIX_DATAGRAM,
    }
}

/// The bits of the options that apply to sockets of `domain`.
fn family_bits(domain: Domain) -> u64 {
    const V4: u64 = bits_where!(|d| d.applies.v4);
    const V6: u64 = bits_where!(|d| d.applies.v6);
    match domain {
        Domain::Ipv4 => V4,
        Domain::Ipv6 => V6,
        #[cfg(unix)]
        Domain::Unix => u64::MAX,
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

/// `duration` in whole `unit`s, rounded up (checked to fit by `check`).
/// Only Linux-only options use it.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn whole(duration: Duration, unit: Duration) -> u32 {
    let units = sys::round_up(duration, unit).as_nanos() / unit.as_nanos();
    u32::try_from(units).unwrap_or(u32::MAX)
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
        check: |v| match v.iter().find(|(group, _)| !group.is_multicast()) {
            Some((group, _)) => Err(format!(
                "join_multicast_v4: {group} is not a multicast group (224.0.0.0/4)"
            )),
            None => Ok(()),
        },
        set: |s, d, v| v.iter().try_for_each(|(group, interface)| s.join_multicast_v4(group, interface)),
    }
    join_multicast_v6: Vec<(Ipv6Addr, u32)> {
        name: "IPV6_ADD_MEMBERSHIP",
        applies: Applies::UDP.v6_only(),
        phase: Bound,
        check: |v| match v.iter().find(|(group, _)| !group.is_multicast()) {
            Some((group, _)) => Err(format!(
                "join_multicast_v6: {group} is not a multicast group (ff00::/8)"
            )),
            None => Ok(()),
        },
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
        ("time", limits.time_option, ka.time, limits.max_time),
        (
            "interval",
            limits.interval_option,
            ka.interval,
            limits.max_interval,
        ),
    ];
    for (what, option, value, max) in times {
        match value {
            Some(value) if sys::round_up(value, limits.unit) > max => {
                return Err(format!(
                    "keepalive {what} ({option}) {value:?} is more than this OS takes (at most {max:?})"
                ))
            }
            _ => {}
        }
    }
    match ka.retries {
        Some(retries) if retries > limits.max_retries => Err(format!(
            "keepalive retries ({}) {retries} is more than this OS takes (at most {})",
            limits.retries_option, limits.max_retries
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
        for option in OPTIONS {
            let decl = option.decl;
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
    fn walks_visit_the_options_asked_for_in_table_order() {
        let mut set = Settings::default();
        assert!(set.validate().is_ok());
        assert!(set.not_for_transport(TransportKind::Udp).is_none());
        // Written in the reverse of table order: the first in the table is reported.
        *set.ttl() = Some(0);
        *set.send_buffer_size() = Some(0);
        let err = set.validate().unwrap_err().to_string();
        assert!(err.contains("send_buffer_size (SO_SNDBUF)"), "{err}");

        *set.nodelay() = Some(true);
        let not_udp = set.not_for_transport(TransportKind::Udp).map(|d| d.setter);
        assert_eq!(not_udp, Some("nodelay"));
        assert!(set.not_for_transport(TransportKind::Tcp).is_none());

        *set.broadcast() = Some(true);
        let not_v6 = set.not_for_family(Domain::Ipv6).map(|d| d.setter);
        assert_eq!(not_v6, Some("broadcast"));
        // Written back to unset, it is not asked for.
        *set.broadcast() = None;
        assert!(set.not_for_family(Domain::Ipv6).is_none());
    }
}
