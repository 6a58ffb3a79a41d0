//! Error messages as a user reads them: one table of real failures whose
//! `to_string()` names the step and the target as a person writes it
//! (tuple, string, IPv6, scope-less link-local, abstract and path targets),
//! each printed through anyhow and a `source()` loop without a repeated fact,
//! and the conversion to `io::Error`.

use std::io;
use std::net::{Ipv6Addr, SocketAddr, TcpListener};
use std::time::Duration;

use crate::util::{full_listener, has_ipv6_loopback, refused_port};
use sockwright::{ConnectorBuilder, Error, ListenerBuilder};

/// The error's chain as a `source()` loop prints it, one line per error.
fn chain(err: &Error) -> Vec<String> {
    let mut lines = vec![err.to_string()];
    let mut next = std::error::Error::source(err);
    while let Some(cause) = next {
        lines.push(cause.to_string());
        next = cause.source();
    }
    lines
}

/// Checks `err`'s message against `want` and that every chain printer shows
/// it once, with nothing added: the OS reason is part of the message, not
/// a second line.
fn check(what: &str, err: Error, want: &str) {
    let text = err.to_string();
    println!("{what:<32} {text}");
    assert_eq!(text, want, "{what}");
    assert_eq!(chain(&err), [want], "{what}: source() loop");
    let err = anyhow::Error::new(err);
    assert_eq!(format!("{err:#}"), want, "{what}: anyhow {{:#}}");
    let debug = format!("{err:?}");
    assert!(
        !debug.contains("Caused by"),
        "{what}: anyhow {{:?}}: {debug}"
    );
    assert!(debug.starts_with(want), "{what}: anyhow {{:?}}: {debug}");
}

/// The OS's text for an error code, as the messages show it: lowercase
/// first letter (Linux: `address already in use (os error 98)`).
fn reason(kind: io::ErrorKind) -> String {
    let code = match kind {
        io::ErrorKind::AddrInUse => libc_code("EADDRINUSE"),
        io::ErrorKind::ConnectionRefused => libc_code("ECONNREFUSED"),
        io::ErrorKind::NotFound => libc_code("ENOENT"),
        io::ErrorKind::InvalidInput => libc_code("EINVAL"),
        other => panic!("no code for {other:?}"),
    };
    let text = io::Error::from_raw_os_error(code).to_string();
    // As messages show a cause: the first letter lowercased, unless the
    // first word is an acronym (Windows' "OS Error 10048 ...").
    let acronym = text.chars().nth(1).is_some_and(char::is_uppercase);
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if !acronym => first.to_lowercase().chain(chars).collect(),
        _ => text,
    }
}

#[cfg(unix)]
fn libc_code(name: &str) -> i32 {
    match name {
        "EADDRINUSE" => libc::EADDRINUSE,
        "ECONNREFUSED" => libc::ECONNREFUSED,
        "ENOENT" => libc::ENOENT,
        "EINVAL" => libc::EINVAL,
        _ => unreachable!(),
    }
}

#[cfg(windows)]
fn libc_code(name: &str) -> i32 {
    match name {
        "EADDRINUSE" => 10048,
        "ECONNREFUSED" => 10061,
        "ENOENT" => 2,
        "EINVAL" => 10022,
        _ => unreachable!(),
    }
}

#[test]
fn string_targets_without_a_port_say_missing_port() {
    let listener = ListenerBuilder::new();
    for (given, want) in [
        (
            "127.0.0.1",
            "resolve 127.0.0.1: missing port (write 127.0.0.1:PORT)",
        ),
        (
            "localhost",
            "resolve localhost: missing port (write localhost:PORT)",
        ),
        ("::1", "resolve ::1: missing port (write [::1]:PORT)"),
        ("[::1]", "resolve [::1]: missing port (write [::1]:PORT)"),
    ] {
        let err = listener.listen(given).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        check(&format!("listen({given:?})"), err, want);
        let err = ConnectorBuilder::new()
            .connect(given.to_owned())
            .unwrap_err();
        check(&format!("connect({given:?}.to_owned())"), err, want);
    }
}

#[test]
fn tuple_string_and_ipv6_targets_read_as_written() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let in_use = reason(io::ErrorKind::AddrInUse);
    check(
        "listen((\"127.0.0.1\", port))",
        ListenerBuilder::new()
            .listen(("127.0.0.1", port))
            .unwrap_err(),
        &format!("bind 127.0.0.1:{port}: {in_use}"),
    );
    check(
        "listen(\"127.0.0.1:PORT\")",
        ListenerBuilder::new()
            .listen(format!("127.0.0.1:{port}"))
            .unwrap_err(),
        &format!("bind 127.0.0.1:{port}: {in_use}"),
    );

    let (_held, refused) = refused_port();
    let port = refused.port();
    let refused_text = reason(io::ErrorKind::ConnectionRefused);
    check(
        "connect((\"127.0.0.1\", port))",
        ConnectorBuilder::new()
            .connect(("127.0.0.1", port))
            .unwrap_err(),
        &format!("connect 127.0.0.1:{port}: {refused_text}"),
    );

    // Two addresses, tried one after the other: the target is the list.
    let (_held2, second) = refused_port();
    let both = [refused, second];
    let err = ConnectorBuilder::new()
        .happy_eyeballs(false)
        .connect(&both[..])
        .unwrap_err();
    assert_eq!(err.attempts().len(), 2);
    check(
        "connect(&[a, b][..])",
        err,
        &format!(
            "[{refused}, {second}]: all 2 addresses failed: connect {refused}: {refused_text}; \
             connect {second}: {refused_text}"
        ),
    );

    if !has_ipv6_loopback() {
        println!("skipped the [::1] rows: this host has no IPv6 loopback");
        return;
    }
    let taken = TcpListener::bind("[::1]:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    check(
        "listen((Ipv6Addr::LOCALHOST, port))",
        ListenerBuilder::new()
            .listen((Ipv6Addr::LOCALHOST, port))
            .unwrap_err(),
        &format!("bind [::1]:{port}: {in_use}"),
    );
    drop(taken);
    // Nothing listens on the port just freed... unless another program took
    // it meanwhile, in which case there is nothing to check.
    match ConnectorBuilder::new().connect(("::1", port)) {
        Err(err) => check(
            "connect((\"::1\", port))",
            err,
            &format!("connect [::1]:{port}: {refused_text}"),
        ),
        Ok(_) => println!("skipped the [::1] connect row: the port was taken meanwhile"),
    }
}

/// A link-local IPv6 address has no meaning without its interface: the OS
/// refuses to bind one without a scope id, and the message says what is
/// missing. No packet is sent: the bind fails in the kernel.
#[test]
fn link_local_without_scope_id_says_missing_scope_id() {
    let addr: SocketAddr = "[fe80::1]:0".parse().unwrap();
    let err = ListenerBuilder::new().listen(addr).unwrap_err();
    if let Error::Create { .. } = err {
        println!("skipped: this host cannot create IPv6 sockets ({err})");
        return;
    }
    assert!(matches!(err, Error::Bind { .. }), "{err}");
    let hint = "(missing scope id: write [fe80::1%INTERFACE]:0)";
    let text = err.to_string();
    assert!(text.starts_with("bind [fe80::1]:0: "), "{text}");
    assert!(text.ends_with(hint), "{text}");
    #[cfg(target_os = "linux")]
    {
        let want = format!(
            "bind [fe80::1]:0: {} {hint}",
            reason(io::ErrorKind::InvalidInput)
        );
        check("listen(\"[fe80::1]:0\")", err, &want);
    }
}

#[cfg(unix)]
#[test]
fn path_targets_are_the_path() {
    let dir = crate::util::TempDir::new("errors");
    let path = dir.join("missing-dir").join("server.sock");
    let err = ListenerBuilder::new().listen_unix(&path).unwrap_err();
    check(
        "listen_unix(PATH)",
        err,
        &format!(
            "bind {}: {}",
            path.display(),
            reason(io::ErrorKind::NotFound)
        ),
    );
    let err = ConnectorBuilder::new().connect_unix(&path).unwrap_err();
    check(
        "connect_unix(PATH)",
        err,
        &format!(
            "connect {}: {}",
            path.display(),
            reason(io::ErrorKind::NotFound)
        ),
    );
}

/// Linux's abstract names start with a NUL byte; messages show `@name`.
#[cfg(target_os = "linux")]
#[test]
fn abstract_targets_are_shown_with_an_at_sign() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let name = format!("sockwright-errors-{}", std::process::id());
    let mut bytes = vec![0u8];
    bytes.extend_from_slice(name.as_bytes());
    let path = std::path::PathBuf::from(OsStr::from_bytes(&bytes));
    let first = match ListenerBuilder::new().listen_unix(&path) {
        Ok(listener) => listener,
        Err(err) => {
            // A builder that takes abstract names another way rejects this
            // spelling; its message must still not carry the NUL byte.
            let text = err.to_string();
            assert!(!text.contains('\0'), "{text:?}");
            println!("skipped: a leading NUL is not an abstract name here ({text})");
            return;
        }
    };
    let err = ListenerBuilder::new().listen_unix(&path).unwrap_err();
    check(
        "listen_unix(\"\\0name\") twice",
        err,
        &format!("bind @{name}: {}", reason(io::ErrorKind::AddrInUse)),
    );
    drop(first);
}

/// A connect timeout says after how long. Linux drops a SYN at a full
/// accept queue, so the connect waits for its whole timeout.
#[test]
fn a_connect_timeout_says_its_duration() {
    let Some(full) = full_listener(Duration::from_millis(200)) else {
        println!("skipped: this kernel does not drop SYNs at a full accept queue");
        return;
    };
    let err = ConnectorBuilder::new()
        .connect_timeout(Duration::from_millis(300))
        .connect(full.addr)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    check(
        "connect to a full queue",
        err,
        &format!("connect {}: timed out after 300ms", full.addr),
    );
}

#[test]
fn io_error_keeps_kind_and_reaches_the_os_code() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let err = ListenerBuilder::new()
        .listen(taken.local_addr().unwrap())
        .unwrap_err();
    let code = err.raw_os_error();
    assert!(code.is_some(), "{err}");
    let text = err.to_string();
    let io: io::Error = err.into();
    assert_eq!(io.kind(), io::ErrorKind::AddrInUse);
    assert_eq!(io.to_string(), text);
    let inner = io
        .get_ref()
        .and_then(|e| e.downcast_ref::<Error>())
        .expect("the sockwright error inside");
    assert_eq!(inner.raw_os_error(), code);
    // Through anyhow, the converted error still prints its facts once.
    assert_eq!(format!("{:#}", anyhow::Error::new(io)), text);
}

/// Checks that a message about a huge input is short, names its step, cuts
/// the input with its length and still ends with the reason.
#[cfg(unix)]
fn check_cut(what: &str, message: &str, step: &str, length: usize, reason: &str) {
    eprintln!("{what}: {} bytes: {message}", message.len());
    assert!(message.len() < 1024, "{what}: {} bytes", message.len());
    assert!(message.starts_with(step), "{what}: {message}");
    assert!(
        message.contains(&format!("…({length} bytes)")),
        "{what}: {message}"
    );
    assert!(message.ends_with(reason), "{what}: {message}");
}

#[cfg(unix)]
#[test]
fn a_huge_path_or_name_is_cut_in_the_message() {
    // A 1 MiB path: no socket path is that long, and the message says so
    // without repeating it.
    let path = format!("/tmp/{}", "p".repeat((1 << 20) - 5));
    let err = ConnectorBuilder::new().connect_unix(&path).unwrap_err();
    check_cut(
        "connect_unix to a 1 MiB path",
        &err.to_string(),
        "invalid configuration: Unix socket path /tmp/ppp",
        1 << 20,
        "bytes this platform allows",
    );
    // The length once, in the cut, then the limit.
    #[cfg(target_os = "linux")]
    assert!(
        err.to_string()
            .ends_with("…(1048576 bytes), longer than the 107 bytes this platform allows"),
        "{err}"
    );
    let err = ListenerBuilder::new().listen_unix(&path).unwrap_err();
    check_cut(
        "listen_unix on a 1 MiB path",
        &err.to_string(),
        "invalid configuration: Unix socket path /tmp/ppp",
        1 << 20,
        "bytes this platform allows",
    );
    // A 100 KB host name: the resolver refuses it, the message stays short.
    let name = "h".repeat(100_000);
    for (what, result) in [
        (
            "connect to a 100 KB name",
            ConnectorBuilder::new()
                .connect((name.as_str(), 80))
                .map(drop),
        ),
        (
            "sequential connect to a 100 KB name",
            ConnectorBuilder::new()
                .happy_eyeballs(false)
                .connect((name.as_str(), 80))
                .map(drop),
        ),
        (
            "listen on a 100 KB name",
            ListenerBuilder::new().listen((name.as_str(), 80)).map(drop),
        ),
    ] {
        let err = result.unwrap_err();
        let io = err.io_error().expect("an OS or resolver reason");
        // The message shows the reason with its first letter in lower case.
        let reason = io.to_string();
        check_cut(what, &err.to_string(), "resolve hhh", 100_003, &reason[1..]);
    }
}
