//! The examples' argument parsing (`examples/common/args.rs`): defaults,
//! every option in both spellings, and the errors for bad input.

#[path = "../examples/common/args.rs"]
#[allow(dead_code)]
mod args;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use args::{
    parse_client, parse_hello, parse_server, ClientConfig, Count, Parsed, ServerConfig, Transport,
};

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

fn server(line: &str) -> ServerConfig {
    match parse_server(words(line)) {
        Ok(Parsed::Run(config)) => config,
        other => panic!("{line:?}: {other:?}"),
    }
}

fn client(line: &str) -> ClientConfig {
    match parse_client(words(line)) {
        Ok(Parsed::Run(config)) => config,
        other => panic!("{line:?}: {other:?}"),
    }
}

fn server_error(line: &str) -> String {
    match parse_server(words(line)) {
        Err(err) => err.to_string(),
        other => panic!("{line:?} was accepted: {other:?}"),
    }
}

fn client_error(line: &str) -> String {
    match parse_client(words(line)) {
        Err(err) => err.to_string(),
        other => panic!("{line:?} was accepted: {other:?}"),
    }
}

#[test]
fn server_defaults_mirror_the_tutorial() {
    assert_eq!(
        server(""),
        ServerConfig {
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 8080,
            message: "Hello from server".into(),
            backlog: 3,
            count: Count::Clients(1),
            timeout: Duration::from_secs(5),
            max_clients: None,
            reuse_address: true,
            reuse_port: false,
            transport: Transport::Tcp,
        }
    );
}

#[test]
fn server_options_in_both_spellings() {
    let config = server(
        "--addr ::1 --port=0 --message hi --backlog 1024 --count=7 --timeout 0.25 --no-reuse",
    );
    assert_eq!(config.addr, "::1".parse::<IpAddr>().unwrap());
    assert_eq!(config.port, 0);
    assert_eq!(config.message, "hi");
    assert_eq!(config.backlog, 1024);
    assert_eq!(config.count, Count::Clients(7));
    assert_eq!(config.timeout, Duration::from_millis(250));
    assert!(!config.reuse_address && !config.reuse_port);
    assert_eq!(config.max_clients, None);
    assert_eq!(server("--max-clients 256").max_clients, Some(256));
    let config = server("--reuse-port");
    assert!(config.reuse_address && config.reuse_port);
    assert_eq!(server("--forever").count, Count::Forever);
    assert_eq!(server("--udp").transport, Transport::Udp);
    assert_eq!(
        server("--unix /tmp/x.sock").transport,
        Transport::Unix(PathBuf::from("/tmp/x.sock"))
    );
    // A value may itself look like an option, and may contain '='.
    assert_eq!(server("--message --forever").message, "--forever");
    assert_eq!(server("--message=a=b").message, "a=b");
}

#[test]
fn client_defaults_and_options() {
    let config = client("");
    assert_eq!(
        (config.host.as_str(), config.port, config.message.as_str()),
        ("127.0.0.1", 8080, "Hello from client")
    );
    assert_eq!((config.bind, config.transport), (None, Transport::Tcp));
    let config = client("--addr localhost --port 9 --bind 127.0.0.2 --timeout 3 --udp");
    assert_eq!(config.host, "localhost");
    assert_eq!(config.port, 9);
    assert_eq!(config.bind, Some(SocketAddr::from(([127, 0, 0, 2], 0))));
    assert_eq!(config.timeout, Duration::from_secs(3));
    assert_eq!(config.transport, Transport::Udp);
    // `--addr HOST:PORT`: the port is the one given, not the default
    // glued onto a host name.
    for (addr, host, port) in [
        ("127.0.0.1:80", "127.0.0.1", 80),
        ("localhost:9000", "localhost", 9000),
        ("[::1]:443", "::1", 443),
        ("::1", "::1", 8080),
        ("fe80::1%2", "fe80::1%2", 8080),
    ] {
        let config = client(&format!("--addr {addr}"));
        assert_eq!((config.host.as_str(), config.port), (host, port), "{addr}");
    }
    let config = server("--addr [::1]:0");
    assert_eq!((config.addr, config.port), ("::1".parse().unwrap(), 0));
    assert_eq!(
        client("--bind [::1]:4000").bind,
        Some("[::1]:4000".parse().unwrap())
    );
}

#[test]
fn help_wins_wherever_it_is_an_option() {
    for line in ["--help", "-h", "--port 1 --help", "--help --bogus"] {
        assert_eq!(parse_server(words(line)), Ok(Parsed::Help), "{line}");
        assert_eq!(parse_client(words(line)), Ok(Parsed::Help), "{line}");
    }
    assert_eq!(parse_hello(words("--help")), Ok(Parsed::Help));
    assert_eq!(parse_hello(Vec::<String>::new()), Ok(Parsed::Run(())));
    assert!(parse_hello(words("--port 1")).is_err());
    assert!(parse_hello(words("--help=1")).is_err());
}

#[test]
fn bad_values_say_what_is_wrong() {
    let cases = [
        ("--port", "--port needs a value (see --help)"),
        (
            "--port 65536",
            "--port must be a whole number from 0 to 65535, not '65536'",
        ),
        (
            "--port -1",
            "--port must be a whole number from 0 to 65535, not '-1'",
        ),
        (
            "--addr localhost",
            "--addr must be an IPv4 or IPv6 address, optionally with :PORT \
             (IPv6 with a port as [IP]:PORT), not 'localhost'",
        ),
        (
            "--addr 127.0.0.1:80 --port 81",
            "--port does not apply with --addr IP:PORT",
        ),
        (
            "--reuse-port --no-reuse",
            "--reuse-port and --no-reuse cannot be combined",
        ),
        (
            "--backlog 2147483648",
            "--backlog must be a whole number from 0 to 2147483647, not '2147483648'",
        ),
        (
            "--count 0",
            "--count must be a whole number from 1 to 18446744073709551615, not '0'",
        ),
        ("--message=", "--message must be 1 to 1024 bytes, not 0"),
        ("--forever=yes", "--forever takes no value"),
        ("--bogus", "unknown option --bogus (see --help)"),
        ("extra", "unexpected argument 'extra' (see --help)"),
        ("--port 1 --port 2", "--port given more than once"),
        (
            "--count 2 --forever",
            "--count and --forever cannot be combined",
        ),
        ("--udp --unix /tmp/s", "--udp and --unix cannot be combined"),
        (
            "--unix /tmp/s --port 1",
            "--port does not apply with --unix",
        ),
        ("--udp --backlog 5", "--backlog does not apply with --udp"),
        (
            "--udp --max-clients 5",
            "--max-clients does not apply with --udp",
        ),
        (
            "--max-clients 0",
            "--max-clients must be a whole number from 1 to 4294967295, not '0'",
        ),
    ];
    for (line, want) in cases {
        assert_eq!(server_error(line), want, "{line}");
    }
    for timeout in ["0", "-1", "nan", "inf", "1e300", "86401", "1e-12", "soon"] {
        let err = server_error(&format!("--timeout {timeout}"));
        assert!(
            err.starts_with("--timeout must be a number of seconds"),
            "{timeout}: {err}"
        );
    }
    let long = "x".repeat(1025);
    assert_eq!(
        server_error(&format!("--message {long}")),
        "--message must be 1 to 1024 bytes, not 1025"
    );

    assert_eq!(
        client_error("--port 0"),
        "--port must be a whole number from 1 to 65535, not '0'"
    );
    assert_eq!(
        client_error("--bind 1.2.3"),
        "--bind must be IP or IP:PORT (IPv6 with a port as [IP]:PORT), not '1.2.3'"
    );
    assert_eq!(
        client_error("--unix /tmp/s --bind 127.0.0.1"),
        "--bind does not apply with --unix"
    );
    assert_eq!(
        parse_client(&["--addr".to_owned(), "two words".to_owned()])
            .unwrap_err()
            .to_string(),
        "--addr must be HOST or HOST:PORT (IPv6 with a port as [IP]:PORT), not 'two words'"
    );
    for bad in [
        "host:",
        "host:port",
        "host:0",
        "host:65536",
        "[::1]",
        "::1:x:",
    ] {
        assert!(
            client_error(&format!("--addr {bad}")).starts_with("--addr must be HOST or HOST:PORT"),
            "{bad}"
        );
    }
    assert_eq!(
        client_error("--addr localhost:80 --port 81"),
        "--port does not apply with --addr HOST:PORT"
    );
    assert!(client_error("--unix=").contains("non-empty path"));
}

#[test]
fn server_listen_takes_every_endpoint_form() {
    use sockwright::Endpoint;
    for text in [
        "127.0.0.1:8080",
        "[::1]:0",
        "localhost:8080",
        "unix:/tmp/x.sock",
        "/tmp/x.sock",
        "./x.sock",
        "@hello",
        "sd-listen",
        "sd-listen:web",
        "fd:3",
    ] {
        let want: Endpoint = text.parse().unwrap();
        assert_eq!(
            server(&format!("--listen {text}")).transport,
            Transport::Endpoint(want.clone()),
            "{text}"
        );
        assert_eq!(
            server(&format!("--listen={text} --count 2")).transport,
            Transport::Endpoint(want),
            "{text}"
        );
    }
    let err = server_error("--listen localhost");
    assert!(
        err.starts_with("--listen: invalid endpoint \"localhost\": missing port"),
        "{err}"
    );
    assert!(err.ends_with("sd-listen, sd-listen:NAME, fd:N"), "{err}");
    for (line, want) in [
        (
            "--listen sd-listen --port 1",
            "--port does not apply with --listen",
        ),
        (
            "--listen sd-listen --addr ::1",
            "--addr does not apply with --listen",
        ),
        (
            "--listen sd-listen --udp",
            "--udp does not apply with --listen",
        ),
        (
            "--listen sd-listen --unix /x",
            "--unix does not apply with --listen",
        ),
        (
            "--listen fd:3 --listen fd:4",
            "--listen given more than once",
        ),
    ] {
        assert_eq!(server_error(line), want, "{line}");
    }
    assert_eq!(
        client_error("--listen sd-listen"),
        "unknown option --listen (see --help)"
    );
}
