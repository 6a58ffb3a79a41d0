//! Multipath TCP: `Mptcp::Prefer` falls back to TCP where MPTCP is off,
//! `Mptcp::Require` fails naming the sysctl, and `is_mptcp` tells which a
//! connection became. Each case runs on a thread of its own in a network
//! namespace of its own (`unshare(CLONE_NEWNET)`, which ends with the
//! thread), with `net.mptcp.enabled` set there.
//!
//! A `configure` hook on a socket that `Mptcp::Prefer` made MPTCP sees
//! `Protocol::Mptcp`, and `Protocol::Default` where it fell back to TCP.
//!
//! `cargo test --test it connector::mptcp:: -- --nocapture` prints what each end reports.

use sockwright::{ConnectorBuilder, Error, Mptcp};

#[cfg(target_os = "linux")]
mod netns {
    use std::sync::{Arc, Mutex};

    use sockwright::{
        ConnectorBuilder, Error, ListenerBuilder, Mptcp, Protocol, SocketRef, is_mptcp,
    };

    /// Every log line, to look for the fallback's reason.
    struct Recorder(Mutex<Vec<String>>);

    static LOG: Recorder = Recorder(Mutex::new(Vec::new()));

    impl log::Log for Recorder {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            let line = format!("{}: {}", record.target(), record.args());
            self.0.lock().unwrap().push(line);
        }
        fn flush(&self) {}
    }

    fn install_log() {
        if log::set_logger(&LOG).is_ok() {
            log::set_max_level(log::LevelFilter::Debug);
        }
    }

    /// Log lines recorded so far that contain `text`.
    fn logged(text: &str) -> Vec<String> {
        LOG.0
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(text))
            .cloned()
            .collect()
    }

    /// A listener made with `listen` on 127.0.0.1, its address, and whether
    /// each end of a connection to it made with `connect` runs MPTCP
    /// (client, accepted stream).
    fn connected(
        listen: Mptcp,
        connect: Mptcp,
    ) -> (std::net::TcpListener, std::net::SocketAddr, bool, bool) {
        let listener = ListenerBuilder::new()
            .mptcp(listen)
            .listen("127.0.0.1:0")
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let client = ConnectorBuilder::new()
            .mptcp(connect)
            .connect(addr)
            .unwrap();
        let (served, _) = listener.accept().unwrap();
        let ends = (is_mptcp(&client).unwrap(), is_mptcp(&served).unwrap());
        (listener, addr, ends.0, ends.1)
    }

    /// Runs `case` on a new thread in a new network namespace with loopback up
    /// and `net.mptcp.enabled` set to `enabled`; `None` (with the reason on
    /// stderr) where that cannot be done here.
    fn in_netns<T: Send + 'static>(
        enabled: bool,
        case: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let value = if enabled { "1" } else { "0" };
        crate::util::namespace::on_own_netns_thread(
            ("/proc/sys/net/mptcp/enabled", value.to_owned()),
            case,
        )
    }

    /// A `configure` hook that records the protocol its socket says, and
    /// where it is recorded.
    fn protocol_seen() -> (
        impl Fn(SocketRef<'_>) -> std::io::Result<()> + Send + Sync + 'static,
        Arc<Mutex<Option<Protocol>>>,
    ) {
        let seen = Arc::new(Mutex::new(None));
        let record = Arc::clone(&seen);
        let hook = move |socket: SocketRef<'_>| {
            *record.lock().unwrap() = Some(socket.protocol());
            Ok(())
        };
        (hook, seen)
    }

    #[test]
    fn with_mptcp_off_prefer_connects_over_tcp_and_says_why_and_require_names_the_sysctl() {
        // The global logger records the fallback's reason: a process of its own.
        if !crate::util::in_own_process() {
            return;
        }
        install_log();
        let Some(()) = in_netns(false, || {
            let (_listener, addr, c, s) = connected(Mptcp::Prefer, Mptcp::Prefer);
            eprintln!("net.mptcp.enabled=0, prefer: client MPTCP {c}, server MPTCP {s}");
            assert!(!c && !s);
            let why = logged("plain TCP for");
            eprintln!("log: {why:?}");
            assert!(
                why.iter().any(|l| l.starts_with("sockwright::connector: ")
                    && l.contains(&addr.to_string())
                    && l.contains("net.mptcp.enabled")),
                "{why:?}"
            );
            assert!(
                why.iter().any(|l| l.starts_with("sockwright::listener: ")),
                "{why:?}"
            );

            let err = ConnectorBuilder::new()
                .mptcp(Mptcp::Require)
                .connect(addr)
                .unwrap_err();
            eprintln!("require, connect: {err}");
            assert!(matches!(err, Error::Create { .. }), "{err:?}");
            let text = err.to_string();
            assert!(
                text.contains("net.mptcp.enabled") && text.contains("MPTCP"),
                "{text}"
            );
            // It ends with the OS reason.
            assert!(
                text.ends_with(&format!("(os error {})", libc::ENOPROTOOPT)),
                "{text}"
            );
            let err = ListenerBuilder::new()
                .mptcp(Mptcp::Require)
                .listen("127.0.0.1:0")
                .unwrap_err();
            eprintln!("require, listen: {err}");
            assert!(err.to_string().contains("net.mptcp.enabled"), "{err}");
        }) else {
            return;
        };
    }

    #[test]
    fn with_mptcp_on_both_ends_report_mptcp_and_a_plain_peer_falls_back() {
        // The global logger records the fallback's reason: a process of its own.
        if !crate::util::in_own_process() {
            return;
        }
        install_log();
        let Some(()) = in_netns(true, || {
            let (listener, addr, c, s) = connected(Mptcp::Require, Mptcp::Prefer);
            eprintln!("net.mptcp.enabled=1, prefer to require: client MPTCP {c}, server MPTCP {s}");
            assert!(c && s);

            // A plain TCP client of the MPTCP listener: both ends say TCP.
            let plain = std::net::TcpStream::connect(addr).unwrap();
            let (served, _) = listener.accept().unwrap();
            let (c, s) = (is_mptcp(&plain).unwrap(), is_mptcp(&served).unwrap());
            eprintln!("plain client: client MPTCP {c}, server MPTCP {s}");
            assert!(!c && !s);

            // An MPTCP client of a plain listener falls back too.
            let tcp_listener = ListenerBuilder::new().listen("127.0.0.1:0").unwrap();
            let client = ConnectorBuilder::new()
                .mptcp(Mptcp::Require)
                .connect(tcp_listener.local_addr().unwrap())
                .unwrap();
            let c = is_mptcp(&client).unwrap();
            eprintln!("plain server: client MPTCP {c}");
            assert!(!c);

            // A configure hook sees the protocol the socket was made with.
            let (hook, seen) = protocol_seen();
            let listener = ListenerBuilder::new()
                .mptcp(Mptcp::Prefer)
                .configure(hook)
                .listen("127.0.0.1:0")
                .unwrap();
            let (hook, seen_connector) = protocol_seen();
            let client = ConnectorBuilder::new()
                .mptcp(Mptcp::Prefer)
                .configure(hook)
                .connect(listener.local_addr().unwrap())
                .unwrap();
            let seen = (*seen.lock().unwrap(), *seen_connector.lock().unwrap());
            eprintln!("prefer: configure hooks saw protocol {seen:?} (listener, connector)");
            assert!(is_mptcp(&client).unwrap());
            assert_eq!(seen, (Some(Protocol::Mptcp), Some(Protocol::Mptcp)));

            // An option MPTCP sockets refuse: prefer makes the socket TCP
            // and says why; require fails naming the option.
            let (hook, seen) = protocol_seen();
            let client = ConnectorBuilder::new()
                .mptcp(Mptcp::Prefer)
                .ttl(64)
                .configure(hook)
                .connect(addr)
                .unwrap();
            let c = is_mptcp(&client).unwrap();
            let why = logged("MPTCP sockets refuse");
            let seen = *seen.lock().unwrap();
            eprintln!("prefer with ttl: client MPTCP {c}, hook saw {seen:?}; log: {why:?}");
            assert!(!c);
            assert_eq!(seen, Some(Protocol::Default));
            assert!(why.iter().any(|l| l.contains("ttl (IP_TTL)")), "{why:?}");
            let err = ConnectorBuilder::new()
                .mptcp(Mptcp::Require)
                .ttl(64)
                .connect(addr)
                .unwrap_err();
            eprintln!("require with ttl: {err}");
            assert!(
                matches!(
                    err,
                    Error::SetOption {
                        option: "IP_TTL",
                        ..
                    }
                ),
                "{err:?}"
            );
        }) else {
            return;
        };
    }
}

#[test]
fn require_where_the_platform_has_no_mptcp_is_unsupported_before_any_call() {
    if cfg!(target_os = "linux") {
        eprintln!("skipped: Linux has MPTCP (the namespace cases cover it)");
        return;
    }
    let err = ConnectorBuilder::new()
        .mptcp(Mptcp::Require)
        .connect("127.0.0.1:1")
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
}
