//! Command-line parsing for the hello examples, on top of `lexopt`.
//!
//! Each function takes the arguments (without the program name) and returns
//! a configuration, [`Parsed::Help`], or an [`ArgError`] saying what is
//! wrong. They touch no socket and never panic, whatever the arguments.
//!
//! Each option is written `--name VALUE` or `--name=VALUE`; an option given
//! twice, an unknown option, a stray argument or a combination that cannot
//! work (such as `--udp` with `--unix`) is an error.

use std::ffi::OsString;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use lexopt::Arg;
use sockwright::hello::{CLIENT_GREETING, DEFAULT_MAX_MESSAGE, DEFAULT_TIMEOUT, SERVER_GREETING};

/// The tutorial's port.
pub const DEFAULT_PORT: u16 = 8080;

/// The tutorial's backlog.
pub const DEFAULT_BACKLOG: u32 = 3;

/// The longest timeout accepted: one day.
pub const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// `--help` of the server example.
pub const SERVER_USAGE: &str = "\
Usage: server [OPTIONS]

Waits for clients, reads each one's greeting, prints it and answers, like the
C tutorial's server. Prints `listening on ADDRESS` to stderr once ready; for
each client, its message on one line of stdout, then `Hello message sent`.

Options:
  --addr IP[:PORT]  address to listen on, [IP]:PORT for IPv6 [default: 0.0.0.0]
  --port N          port to listen on, 0 for any free one [default: 8080]
  --message TEXT    the reply [default: Hello from server]
  --backlog N       listen(2) backlog [default: 3]
  --count N         serve N clients, then exit [default: 1]
  --forever         serve clients until killed, many at once
  --max-clients N   clients in progress at once, beyond which the rest wait
                    in the accept queue [default: 16384]
  --timeout SECS    time each client has to send its greeting [default: 5]
  --reuse-port      also set SO_REUSEPORT, so that several servers share the
                    port and the kernel splits the clients between them
                    (Unix only)
  --no-reuse        do not set SO_REUSEADDR (set by default, so that a restarted
                    server can bind while old connections linger)
  --udp             answer UDP datagrams instead of TCP connections
  --unix PATH       listen on a Unix-domain socket at PATH (Unix only)
  --listen ENDPOINT listen where ENDPOINT says, instead of --addr, --port,
                    --udp or --unix: HOST:PORT, [IPV6]:PORT, unix:PATH, /PATH,
                    ./PATH, @NAME (Linux abstract), sd-listen (the first
                    socket systemd passed), sd-listen:NAME, fd:N
  -h, --help        print this help
";

/// `--help` of the client example.
pub const CLIENT_USAGE: &str = "\
Usage: client [OPTIONS]

Connects to a hello server, sends the greeting and prints the reply, like the
C tutorial's client: `Hello message sent`, then the server's message.

Options:
  --addr HOST[:PORT] server name or address, [IPv6]:PORT with a port
                     [default: 127.0.0.1]
  --port N           server port [default: 8080]
  --message TEXT     the greeting [default: Hello from client]
  --bind IP[:PORT]   local address to connect from
  --timeout SECS     time allowed to connect and for the reply [default: 5]
  --udp              use UDP datagrams instead of a TCP connection
  --unix PATH        connect to a Unix-domain socket at PATH (Unix only)
  -h, --help         print this help
";

/// `--help` of the hello example.
pub const HELLO_USAGE: &str = "\
Usage: hello

Runs the tutorial's server on an ephemeral loopback port and its client in
one process, and prints both sides of the exchange. Set RUST_LOG=debug to see
each socket step.

Options:
  -h, --help        print this help
";

/// What the arguments ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed<T> {
    /// Run with this configuration.
    Run(T),
    /// Print the usage text and exit successfully.
    Help,
}

/// How the examples talk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// TCP (the default).
    Tcp,
    /// UDP datagrams.
    Udp,
    /// A Unix-domain stream socket at this path.
    Unix(PathBuf),
    /// A stream listener where a `--listen` endpoint says (server only).
    Endpoint(sockwright::Endpoint),
}

/// How many clients the server serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// This many, then exit.
    Clients(u64),
    /// Until killed.
    Forever,
}

/// The server example's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    pub addr: IpAddr,
    pub port: u16,
    pub message: String,
    pub backlog: u32,
    pub count: Count,
    pub timeout: Duration,
    /// `hello::Server::max_clients`, when given.
    pub max_clients: Option<usize>,
    /// `SO_REUSEADDR`, on unless `--no-reuse`.
    pub reuse_address: bool,
    /// `SO_REUSEPORT`, only with `--reuse-port`.
    pub reuse_port: bool,
    pub transport: Transport,
}

/// The client example's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    pub host: String,
    pub port: u16,
    pub message: String,
    pub bind: Option<SocketAddr>,
    pub timeout: Duration,
    pub transport: Transport,
}

/// Why the arguments were rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError(pub String);

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ArgError {}

fn err<T>(message: impl Into<String>) -> Result<T, ArgError> {
    Err(ArgError(message.into()))
}

/// Parses the server example's arguments.
pub fn parse_server<I>(args: I) -> Result<Parsed<ServerConfig>, ArgError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut config = ServerConfig {
        addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        port: DEFAULT_PORT,
        message: SERVER_GREETING.to_owned(),
        backlog: DEFAULT_BACKLOG,
        count: Count::Clients(1),
        timeout: DEFAULT_TIMEOUT,
        max_clients: None,
        reuse_address: true,
        reuse_port: false,
        transport: Transport::Tcp,
    };
    let mut unix = None;
    let mut udp = false;
    let mut count = None;
    let mut forever = false;
    let mut addr_port = None;
    let mut listen = None;
    let mut options = Options::new(args);
    while let Some(name) = options.next()? {
        match name.as_str() {
            "--help" => return Ok(Parsed::Help),
            "--addr" => {
                let value = options.value(&name)?;
                let (ip, port) = ip_and_port(&name, &value)?;
                config.addr = ip;
                addr_port = port;
            }
            "--port" => config.port = number(&name, &options.value(&name)?, 0, 65_535)? as u16,
            "--message" => config.message = message(&name, &options.value(&name)?)?,
            "--backlog" => {
                config.backlog = number(&name, &options.value(&name)?, 0, i32::MAX as u64)? as u32
            }
            "--count" => count = Some(number(&name, &options.value(&name)?, 1, u64::MAX)?),
            "--forever" => forever = true,
            "--timeout" => config.timeout = timeout(&name, &options.value(&name)?)?,
            "--max-clients" => {
                let max = number(&name, &options.value(&name)?, 1, u32::MAX as u64)?;
                config.max_clients = Some(max as usize);
            }
            "--reuse-port" => config.reuse_port = true,
            "--no-reuse" => config.reuse_address = false,
            "--udp" => udp = true,
            "--unix" => unix = Some(path(&name, &options.value(&name)?)?),
            "--listen" => listen = Some(endpoint(&name, &options.value(&name)?)?),
            _ => return err(unknown(&name)),
        }
    }
    if let Some(port) = addr_port {
        options.none_of(&["--port"], "--addr IP:PORT")?;
        config.port = port;
    }
    config.count = match (count, forever) {
        (Some(_), true) => return err("--count and --forever cannot be combined"),
        (Some(n), false) => Count::Clients(n),
        (None, true) => Count::Forever,
        (None, false) => Count::Clients(1),
    };
    config.transport = transport(udp, unix)?;
    if let Some(endpoint) = listen {
        options.none_of(&["--addr", "--port", "--udp", "--unix"], "--listen")?;
        config.transport = Transport::Endpoint(endpoint);
    }
    if let Transport::Unix(_) = config.transport {
        options.none_of(
            &["--addr", "--port", "--no-reuse", "--reuse-port"],
            "--unix",
        )?;
    }
    if config.transport == Transport::Udp {
        options.none_of(&["--backlog", "--max-clients"], "--udp")?;
    }
    if config.reuse_port && !config.reuse_address {
        return err("--reuse-port and --no-reuse cannot be combined");
    }
    Ok(Parsed::Run(config))
}

/// Parses the client example's arguments.
pub fn parse_client<I>(args: I) -> Result<Parsed<ClientConfig>, ArgError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut config = ClientConfig {
        host: "127.0.0.1".to_owned(),
        port: DEFAULT_PORT,
        message: CLIENT_GREETING.to_owned(),
        bind: None,
        timeout: DEFAULT_TIMEOUT,
        transport: Transport::Tcp,
    };
    let mut unix = None;
    let mut udp = false;
    let mut addr_port = None;
    let mut options = Options::new(args);
    while let Some(name) = options.next()? {
        match name.as_str() {
            "--help" => return Ok(Parsed::Help),
            "--addr" => {
                let (host, port) = host_and_port(&name, &options.value(&name)?)?;
                config.host = host;
                addr_port = port;
            }
            "--port" => config.port = number(&name, &options.value(&name)?, 1, 65_535)? as u16,
            "--message" => config.message = message(&name, &options.value(&name)?)?,
            "--bind" => config.bind = Some(bind(&name, &options.value(&name)?)?),
            "--timeout" => config.timeout = timeout(&name, &options.value(&name)?)?,
            "--udp" => udp = true,
            "--unix" => unix = Some(path(&name, &options.value(&name)?)?),
            _ => return err(unknown(&name)),
        }
    }
    if let Some(port) = addr_port {
        options.none_of(&["--port"], "--addr HOST:PORT")?;
        config.port = port;
    }
    config.transport = transport(udp, unix)?;
    if let Transport::Unix(_) = config.transport {
        options.none_of(&["--addr", "--port", "--bind"], "--unix")?;
    }
    Ok(Parsed::Run(config))
}

/// Parses the hello example's arguments: only `--help`.
pub fn parse_hello<I>(args: I) -> Result<Parsed<()>, ArgError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut options = Options::new(args);
    match options.next()? {
        None => Ok(Parsed::Run(())),
        Some(name) if name == "--help" => {
            // Anything after it, such as `--help=1`, is still checked.
            options.next()?;
            Ok(Parsed::Help)
        }
        Some(name) => err(unknown(&name)),
    }
}

/// The command line, option by option, with each option's name recorded to
/// reject repeats and conflicts.
struct Options {
    parser: lexopt::Parser,
    seen: Vec<String>,
}

impl Options {
    fn new<I>(args: I) -> Options
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        Options {
            parser: lexopt::Parser::from_args(args),
            seen: Vec::new(),
        }
    }

    /// The next option's name with its dashes (`-h` is `--help`), or `None`
    /// at the end.
    fn next(&mut self) -> Result<Option<String>, ArgError> {
        let name = match self.parser.next() {
            Ok(None) => return Ok(None),
            Ok(Some(Arg::Short('h'))) => "--help".to_owned(),
            Ok(Some(Arg::Short(c))) => format!("-{c}"),
            Ok(Some(Arg::Long(name))) => format!("--{name}"),
            Ok(Some(Arg::Value(value))) => {
                return err(format!(
                    "unexpected argument '{}' (see --help)",
                    value.to_string_lossy()
                ))
            }
            Err(lexopt::Error::UnexpectedValue { option, .. }) => {
                return err(format!("{option} takes no value"))
            }
            Err(other) => return err(other.to_string()),
        };
        if self.seen.contains(&name) {
            return err(format!("{name} given more than once"));
        }
        self.seen.push(name.clone());
        Ok(Some(name))
    }

    /// The value of the option just returned, which must be valid UTF-8.
    fn value(&mut self, name: &str) -> Result<String, ArgError> {
        match self.parser.value() {
            Ok(value) => value.into_string().or_else(|value| {
                err(format!(
                    "{name}: {:?} is not valid UTF-8",
                    value.to_string_lossy()
                ))
            }),
            Err(_) => err(format!("{name} needs a value (see --help)")),
        }
    }

    fn none_of(&self, names: &[&str], with: &str) -> Result<(), ArgError> {
        match names.iter().find(|n| self.seen.iter().any(|s| s == *n)) {
            Some(name) => err(format!("{name} does not apply with {with}")),
            None => Ok(()),
        }
    }
}

fn unknown(name: &str) -> String {
    format!("unknown option {name} (see --help)")
}

fn transport(udp: bool, unix: Option<PathBuf>) -> Result<Transport, ArgError> {
    match (udp, unix) {
        (true, Some(_)) => err("--udp and --unix cannot be combined"),
        (true, None) => Ok(Transport::Udp),
        (false, Some(path)) => Ok(Transport::Unix(path)),
        (false, None) => Ok(Transport::Tcp),
    }
}

fn number(name: &str, value: &str, min: u64, max: u64) -> Result<u64, ArgError> {
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => err(format!(
            "{name} must be a whole number from {min} to {max}, not '{value}'"
        )),
    }
}

/// `IP`, `IP:PORT` or `[IPv6]:PORT`.
fn ip_and_port(name: &str, value: &str) -> Result<(IpAddr, Option<u16>), ArgError> {
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok((addr.ip(), Some(addr.port())));
    }
    match value.parse() {
        Ok(ip) => Ok((ip, None)),
        Err(_) => err(format!(
            "{name} must be an IPv4 or IPv6 address, optionally with :PORT \
             (IPv6 with a port as [IP]:PORT), not '{value}'"
        )),
    }
}

/// `HOST`, `HOST:PORT`, an IPv6 address, or `[IPv6]:PORT`.
fn host_and_port(name: &str, value: &str) -> Result<(String, Option<u16>), ArgError> {
    let invalid = || {
        err(format!(
            "{name} must be HOST or HOST:PORT (IPv6 with a port as [IP]:PORT), not '{value}'"
        ))
    };
    if value.is_empty() || value.contains(char::is_whitespace) {
        return invalid();
    }
    if value.parse::<IpAddr>().is_ok() {
        return Ok((value.to_owned(), None));
    }
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok((addr.ip().to_string(), Some(addr.port())));
    }
    // An IPv6 address with a scope (`fe80::1%eth0`), left to the resolver.
    if let Some((ip, scope)) = value.split_once('%') {
        if ip.parse::<std::net::Ipv6Addr>().is_ok() && !scope.is_empty() {
            return Ok((value.to_owned(), None));
        }
    }
    match value.rsplit_once(':') {
        None => Ok((value.to_owned(), None)),
        Some((host, port)) if !host.is_empty() && !host.contains([':', '[', ']']) => {
            match port.parse::<u16>() {
                Ok(port) if port != 0 => Ok((host.to_owned(), Some(port))),
                _ => invalid(),
            }
        }
        Some(_) => invalid(),
    }
}

fn bind(name: &str, value: &str) -> Result<SocketAddr, ArgError> {
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(addr);
    }
    match value.parse::<IpAddr>() {
        Ok(ip) => Ok(SocketAddr::new(ip, 0)),
        Err(_) => err(format!(
            "{name} must be IP or IP:PORT (IPv6 with a port as [IP]:PORT), not '{value}'"
        )),
    }
}

fn message(name: &str, value: &str) -> Result<String, ArgError> {
    if value.is_empty() || value.len() > DEFAULT_MAX_MESSAGE {
        return err(format!(
            "{name} must be 1 to {DEFAULT_MAX_MESSAGE} bytes, not {}",
            value.len()
        ));
    }
    Ok(value.to_owned())
}

fn timeout(name: &str, value: &str) -> Result<Duration, ArgError> {
    let invalid = || {
        err(format!(
            "{name} must be a number of seconds above 0 and at most {MAX_TIMEOUT_SECS}, not '{value}'"
        ))
    };
    let secs: f64 = match value.parse() {
        Ok(secs) => secs,
        Err(_) => return invalid(),
    };
    // Also rejects NaN; a positive value too small for a nanosecond is zero.
    if !(secs > 0.0 && secs <= MAX_TIMEOUT_SECS) {
        return invalid();
    }
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => invalid(),
    }
}

/// Where to listen, in any form [`sockwright::Endpoint`] reads.
fn endpoint(name: &str, value: &str) -> Result<sockwright::Endpoint, ArgError> {
    value
        .parse()
        .map_err(|e: sockwright::EndpointParseError| ArgError(format!("{name}: {e}")))
}

fn path(name: &str, value: &str) -> Result<PathBuf, ArgError> {
    if value.is_empty() || value.contains('\0') {
        return err(format!("{name} must be a non-empty path without NUL bytes"));
    }
    Ok(PathBuf::from(value))
}
