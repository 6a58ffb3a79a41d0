//! Every platform condition the crate uses, each written once.
//!
//! For a condition `X`, [`platforms!`] defines:
//! - `cfg_X! { items }`: the items, each under `#[cfg(X)]` and, on docs.rs,
//!   `#[doc(cfg(X))]`, so a setter's badge can never disagree with the code
//!   that compiles it;
//! - `on_X!(expr, "NAME")`: `expr` where `X` holds, otherwise an
//!   [`Unsupported`](std::io::ErrorKind::Unsupported) error naming the
//!   option `NAME`. It is a last line of defence: an option a platform lacks
//!   has no setter there, so the error is never reached through the public API.
//! - `X: bool`, a constant in [`has`], for code that only needs to know;
//! - `cfg_not_X! { items }`: the items where `X` does not hold, such as the
//!   fallback of a function that `cfg_X!` defines.
//!
//! Code outside `sys/` names a platform only through these.

/// Defines the macros and the constant of each condition (see the module
/// docs). `$d` is a literal `$`, so the inner macros can have repetitions.
macro_rules! platforms {
    ($d:tt $( $name:ident => $item:ident / $not_item:ident, $expr:ident, ($($pred:tt)*); )*) => {
        $(
            #[allow(unused_macros)]
            macro_rules! $item {
                ($d($d i:item)*) => {
                    $d(
                        #[cfg($($pred)*)]
                        #[cfg_attr(docsrs, doc(cfg($($pred)*)))]
                        $d i
                    )*
                };
            }
            #[allow(unused_macros)]
            macro_rules! $not_item {
                ($d($d i:item)*) => {
                    $d(
                        #[cfg(not($($pred)*))]
                        $d i
                    )*
                };
            }
            #[allow(unused_macros)]
            macro_rules! $expr {
                ($d e:expr, $d option:literal) => {{
                    #[cfg($($pred)*)]
                    let result: std::io::Result<()> = $d e;
                    #[cfg(not($($pred)*))]
                    let result: std::io::Result<()> = Err(crate::sys::unsupported($d option));
                    result
                }};
            }
        )*

        /// Whether each platform condition holds on this target.
        #[allow(dead_code)]
        pub(crate) mod has {
            $( pub(crate) const $name: bool = cfg!($($pred)*); )*
        }
    };
}

platforms! { $
    UNIX => cfg_unix / cfg_not_unix, on_unix, (unix);
    WINDOWS => cfg_windows / cfg_not_windows, on_windows, (windows);
    // Linux and Android: one kernel, one set of socket options.
    LINUX => cfg_linux / cfg_not_linux, on_linux, (any(target_os = "linux", target_os = "android"));
    // socket2 has these for Linux alone (not Android).
    LINUX_ONLY => cfg_linux_only / cfg_not_linux_only, on_linux_only, (target_os = "linux");
    // Apple's systems: `TCP_KEEPALIVE` for the keepalive time.
    APPLE => cfg_apple / cfg_not_apple, on_apple, (any(
        target_os = "macos", target_os = "ios", target_os = "tvos", target_os = "watchos",
        target_os = "visionos"
    ));
    // TCP_KEEPINTVL and TCP_KEEPCNT: the keepalive interval and count.
    KEEPALIVE_DETAILS => cfg_keepalive_details / cfg_not_keepalive_details, on_keepalive_details, (any(
        target_os = "android", target_os = "dragonfly", target_os = "freebsd",
        target_os = "fuchsia", target_os = "illumos", target_os = "ios", target_os = "linux",
        target_os = "macos", target_os = "netbsd", target_os = "tvos", target_os = "watchos"
    ));
    // SOCK_NONBLOCK taken by socket(2) (socket2's `Type::nonblocking`).
    SOCK_NONBLOCK => cfg_sock_nonblock / cfg_not_sock_nonblock, on_sock_nonblock, (any(
        target_os = "android", target_os = "dragonfly", target_os = "freebsd",
        target_os = "fuchsia", target_os = "illumos", target_os = "linux", target_os = "netbsd",
        target_os = "openbsd"
    ));
    // FreeBSD and DragonFly: keepalive times counted in milliseconds.
    FREEBSD_LIKE => cfg_freebsd_like / cfg_not_freebsd_like, on_freebsd_like, (any(target_os = "freebsd", target_os = "dragonfly"));
    REUSE_PORT => cfg_reuse_port / cfg_not_reuse_port, on_reuse_port,
        (all(unix, not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))));
    // SO_BINDTODEVICE by name (Linux), or IP_BOUND_IF / IPV6_BOUND_IF by the
    // index of a named interface (Apple, illumos, Solaris).
    BIND_DEVICE => cfg_bind_device / cfg_not_bind_device, on_bind_device, (any(
        target_os = "linux", target_os = "android",
        target_os = "macos", target_os = "ios", target_os = "tvos", target_os = "watchos",
        target_os = "visionos", target_os = "illumos", target_os = "solaris"
    ));
    // Binding to an interface index: IP_BOUND_IF (Apple, illumos, Solaris),
    // SO_BINDTOIFINDEX (Linux).
    BOUND_IF => cfg_bound_if / cfg_not_bound_if, on_bound_if, (any(
        target_os = "macos", target_os = "ios", target_os = "tvos", target_os = "watchos",
        target_os = "visionos", target_os = "illumos", target_os = "solaris"
    ));
    // TCP_CONGESTION.
    CONGESTION => cfg_congestion / cfg_not_congestion, on_congestion, (any(target_os = "linux", target_os = "freebsd"));
    // TCP_FASTOPEN on a listening socket.
    FASTOPEN => cfg_fastopen / cfg_not_fastopen, on_fastopen, (any(
        target_os = "linux", target_os = "android", target_os = "macos", target_os = "ios",
        target_os = "freebsd", windows
    ));
    // IP_TOS: everywhere socket2 has it.
    TOS => cfg_tos / cfg_not_tos, on_tos, (not(any(
        target_os = "fuchsia", target_os = "redox", target_os = "solaris", target_os = "haiku"
    )));
    // IPV6_TCLASS: the IPv6 traffic class, the other half of `tos`.
    TCLASS => cfg_tclass / cfg_not_tclass, on_tclass, (any(
        target_os = "android", target_os = "dragonfly", target_os = "freebsd",
        target_os = "linux", target_os = "macos", target_os = "netbsd", target_os = "openbsd",
        target_os = "illumos"
    ));
    // A call for the credentials of a Unix socket's peer: SO_PEERCRED
    // (Linux, Android, OpenBSD), getpeereid (Apple, FreeBSD, DragonFly, NetBSD).
    PEER_CRED => cfg_peer_cred / cfg_not_peer_cred, on_peer_cred, (any(
        target_os = "linux", target_os = "android", target_os = "openbsd",
        target_os = "macos", target_os = "ios", target_os = "tvos", target_os = "watchos",
        target_os = "visionos", target_os = "freebsd", target_os = "dragonfly",
        target_os = "netbsd"
    ));
    // A call for how a TCP connection is doing: TCP_INFO (Linux, Android,
    // FreeBSD), TCP_CONNECTION_INFO (Apple), SIO_TCP_INFO (Windows).
    TCP_INFO => cfg_tcp_info / cfg_not_tcp_info, on_tcp_info, (any(
        target_os = "linux", target_os = "android", target_os = "freebsd",
        target_os = "macos", target_os = "ios", target_os = "tvos", target_os = "watchos",
        target_os = "visionos", windows
    ));
    // A connect's source port chosen at connect rather than at bind, for a
    // source address with port 0: IP_BIND_ADDRESS_NO_PORT (Linux),
    // SO_REUSE_UNICASTPORT (Windows).
    DEFER_SOURCE_PORT => cfg_defer_source_port / cfg_not_defer_source_port, on_defer_source_port,
        (any(target_os = "linux", target_os = "android", windows));
    // Listening-socket options that accepted sockets are shown to inherit
    // (tests/it/options.rs reads them back from an accepted socket).
    INHERITED => cfg_inherited / cfg_not_inherited, on_inherited, (any(target_os = "linux", target_os = "android", windows));
}
