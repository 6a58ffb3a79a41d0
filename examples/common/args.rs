//! Command-line parsing for the hello examples.
//!
//! Pure functions from the arguments (without the program name) to a
//! configuration, [`Parsed::Help`], or an [`ArgError`] saying what is wrong.
//! They touch no socket and never panic, whatever the arguments.
//!
//! Each option is written `--name VALUE` or `--name=VALUE`; an option given
//! twice, an unknown option, a stray argument or a combination that cannot
//! work (such as `--udp` with `--unix`) is an error.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

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
  --addr IP         address to listen on [default: 0.0.0.0]
  --port N          port to listen on, 0 for any free one [default: 8080]
  --message TEXT    the reply [default: Hello from server]
  --backlog N       listen(2) backlog [default: 3]
  --count N         serve N clients, then exit [default: 1]
  --forever         serve clients until killed, many at once
  --max-clients N   clients in progress at once, beyond which the rest wait
                    in the accept queue [default: 16384]
  --timeout SECS    time each client has to send its greeting [default: 5]
  --no-reuse        set neither SO_REUSEADDR nor (Unix) SO_REUSEPORT
  --udp             answer UDP datagrams instead of TCP connections
  --unix PATH       listen on a Unix-domain socket at PATH (Unix only)
  -h, --help        print this help
";

/// `--help` of the client example.
pub const CLIENT_USAGE: &str = "\
Usage: client [OPTIONS]

Connects to a hello server, sends the greeting and prints the reply, like the
C tutorial's client: `Hello message sent`, then the server's message.

Options:
  --addr HOST       server name or address [default: 127.0.0.1]
  --port N          server port [default: 8080]
  --message TEXT    the greeting [default: Hello from client]
  --bind IP[:PORT]  local address to connect from
  --timeout SECS    time allowed to connect and for the reply [default: 5]
  --udp             use UDP datagrams instead of a TCP connection
  --unix PATH       connect to a Unix-domain socket at PATH (Unix only)
  -h, --help        print this help
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
    /// `SO_REUSEADDR` and (Unix) `SO_REUSEPORT`, each its own option.
    pub reuse: bool,
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
pub fn parse_server(args: &[String]) -> Result<Parsed<ServerConfig>, ArgError> {
    let mut seen = Seen::default();
    let mut config = ServerConfig {
        addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        port: DEFAULT_PORT,
        message: SERVER_GREETING.to_owned(),
        backlog: DEFAULT_BACKLOG,
        count: Count::Clients(1),
        timeout: DEFAULT_TIMEOUT,
        max_clients: None,
        reuse: true,
        transport: Transport::Tcp,
    };
    let mut unix = None;
    let mut udp = false;
    let mut count = None;
    let mut forever = false;
    let mut words = Words::new(args);
    while let Some(option) = words.next_option()? {
        seen.once(&option)?;
        match option.name {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--addr" => config.addr = ip(&option, words.value(&option)?)?,
            "--port" => config.port = number(&option, words.value(&option)?, 0, 65_535)? as u16,
            "--message" => config.message = message(&option, words.value(&option)?)?,
            "--backlog" => {
                config.backlog = number(&option, words.value(&option)?, 0, i32::MAX as u64)? as u32
            }
            "--count" => count = Some(number(&option, words.value(&option)?, 1, u64::MAX)?),
            "--forever" => forever = words.flag(&option, true)?,
            "--timeout" => config.timeout = timeout(&option, words.value(&option)?)?,
            "--max-clients" => {
                let max = number(&option, words.value(&option)?, 1, u32::MAX as u64)?;
                config.max_clients = Some(max as usize);
            }
            "--no-reuse" => config.reuse = !words.flag(&option, true)?,
            "--udp" => udp = words.flag(&option, true)?,
            "--unix" => unix = Some(path(&option, words.value(&option)?)?),
            _ => return err(unknown(&option)),
        }
    }
    config.count = match (count, forever) {
        (Some(_), true) => return err("--count and --forever cannot be combined"),
        (Some(n), false) => Count::Clients(n),
        (None, true) => Count::Forever,
        (None, false) => Count::Clients(1),
    };
    config.transport = transport(udp, unix)?;
    if let Transport::Unix(_) = config.transport {
        seen.none_of(&["--addr", "--port", "--no-reuse"], "--unix")?;
    }
    if config.transport == Transport::Udp {
        seen.none_of(&["--backlog", "--max-clients"], "--udp")?;
    }
    Ok(Parsed::Run(config))
}

/// Parses the client example's arguments.
pub fn parse_client(args: &[String]) -> Result<Parsed<ClientConfig>, ArgError> {
    let mut seen = Seen::default();
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
    let mut words = Words::new(args);
    while let Some(option) = words.next_option()? {
        seen.once(&option)?;
        match option.name {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--addr" => config.host = host(&option, words.value(&option)?)?,
            "--port" => config.port = number(&option, words.value(&option)?, 1, 65_535)? as u16,
            "--message" => config.message = message(&option, words.value(&option)?)?,
            "--bind" => config.bind = Some(bind(&option, words.value(&option)?)?),
            "--timeout" => config.timeout = timeout(&option, words.value(&option)?)?,
            "--udp" => udp = words.flag(&option, true)?,
            "--unix" => unix = Some(path(&option, words.value(&option)?)?),
            _ => return err(unknown(&option)),
        }
    }
    config.transport = transport(udp, unix)?;
    if let Transport::Unix(_) = config.transport {
        seen.none_of(&["--addr", "--port", "--bind"], "--unix")?;
    }
    Ok(Parsed::Run(config))
}

/// Parses the hello example's arguments: only `--help`.
pub fn parse_hello(args: &[String]) -> Result<Parsed<()>, ArgError> {
    let mut words = Words::new(args);
    match words.next_option()? {
        None => Ok(Parsed::Run(())),
        Some(option) if matches!(option.name, "-h" | "--help") => words.flag(&option, Parsed::Help),
        Some(option) => err(unknown(&option)),
    }
}

/// One option as written: `--name` with the value given after `=`, if any.
struct Given<'a> {
    name: &'a str,
    inline: Option<&'a str>,
}

/// Walks the arguments, option by option.
struct Words<'a> {
    args: std::slice::Iter<'a, String>,
}

impl<'a> Words<'a> {
    fn new(args: &'a [String]) -> Words<'a> {
        Words { args: args.iter() }
    }

    /// The next option, or `None` at the end.
    fn next_option(&mut self) -> Result<Option<Given<'a>>, ArgError> {
        let Some(word) = self.args.next() else {
            return Ok(None);
        };
        if word == "-h" {
            return Ok(Some(Given {
                name: "-h",
                inline: None,
            }));
        }
        if !word.starts_with("--") || word == "--" {
            return err(format!("unexpected argument '{word}' (see --help)"));
        }
        Ok(Some(match word.split_once('=') {
            Some((name, value)) => Given {
                name,
                inline: Some(value),
            },
            None => Given {
                name: word,
                inline: None,
            },
        }))
    }

    /// The value of an option that takes one.
    fn value(&mut self, option: &Given<'a>) -> Result<&'a str, ArgError> {
        match option.inline {
            Some(value) => Ok(value),
            None => match self.args.next() {
                Some(value) => Ok(value),
                None => err(format!("{} needs a value (see --help)", option.name)),
            },
        }
    }

    /// Checks that a flag was given no value, and returns `set`.
    fn flag<T>(&self, option: &Given<'_>, set: T) -> Result<T, ArgError> {
        match option.inline {
            Some(_) => err(format!("{} takes no value", option.name)),
            None => Ok(set),
        }
    }
}

/// The options given so far, to reject repeats and conflicts.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn once(&mut self, option: &Given<'_>) -> Result<(), ArgError> {
        if self.0.iter().any(|s| s == option.name) {
            return err(format!("{} given more than once", option.name));
        }
        self.0.push(option.name.to_owned());
        Ok(())
    }

    fn none_of(&self, names: &[&str], with: &str) -> Result<(), ArgError> {
        match names.iter().find(|n| self.0.iter().any(|s| s == *n)) {
            Some(name) => err(format!("{name} does not apply with {with}")),
            None => Ok(()),
        }
    }
}

fn unknown(option: &Given<'_>) -> String {
    format!("unknown option {} (see --help)", option.name)
}

fn transport(udp: bool, unix: Option<PathBuf>) -> Result<Transport, ArgError> {
    match (udp, unix) {
        (true, Some(_)) => err("--udp and --unix cannot be combined"),
        (true, None) => Ok(Transport::Udp),
        (false, Some(path)) => Ok(Transport::Unix(path)),
        (false, None) => Ok(Transport::Tcp),
    }
}

fn number(option: &Given<'_>, value: &str, min: u64, max: u64) -> Result<u64, ArgError> {
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => err(format!(
            "{} must be a whole number from {min} to {max}, not '{value}'",
            option.name
        )),
    }
}

fn ip(option: &Given<'_>, value: &str) -> Result<IpAddr, ArgError> {
    value.parse().or_else(|_| {
        err(format!(
            "{} must be an IPv4 or IPv6 address, not '{value}'",
            option.name
        ))
    })
}

fn host(option: &Given<'_>, value: &str) -> Result<String, ArgError> {
    if value.is_empty() || value.contains(char::is_whitespace) {
        return err(format!(
            "{} must be a host name or an IP address, not '{value}'",
            option.name
        ));
    }
    Ok(value.to_owned())
}

fn bind(option: &Given<'_>, value: &str) -> Result<SocketAddr, ArgError> {
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(addr);
    }
    match value.parse::<IpAddr>() {
        Ok(ip) => Ok(SocketAddr::new(ip, 0)),
        Err(_) => err(format!(
            "{} must be IP or IP:PORT (IPv6 with a port as [IP]:PORT), not '{value}'",
            option.name
        )),
    }
}

fn message(option: &Given<'_>, value: &str) -> Result<String, ArgError> {
    if value.is_empty() || value.len() > DEFAULT_MAX_MESSAGE {
        return err(format!(
            "{} must be 1 to {DEFAULT_MAX_MESSAGE} bytes, not {}",
            option.name,
            value.len()
        ));
    }
    Ok(value.to_owned())
}

fn timeout(option: &Given<'_>, value: &str) -> Result<Duration, ArgError> {
    let invalid = || {
        err(format!(
            "{} must be a number of seconds above 0 and at most {MAX_TIMEOUT_SECS}, not '{value}'",
            option.name
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

fn path(option: &Given<'_>, value: &str) -> Result<PathBuf, ArgError> {
    if value.is_empty() || value.contains('\0') {
        return err(format!(
            "{} must be a non-empty path without NUL bytes",
            option.name
        ));
    }
    Ok(PathBuf::from(value))
}
