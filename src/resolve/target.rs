//! What a finishing call accepts as its target: [`ToSocketAddrs`], a sealed
//! trait implemented once per accepted type, each impl knowing what its
//! value is (a name to look up, literal addresses, or a string that cannot
//! be a target) and how a person writes it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// A target that the builders' finishing calls accept: the same types as
/// std's [`ToSocketAddrs`](std::net::ToSocketAddrs), and
/// [`Vec<SocketAddr>`].
///
/// | Type | Looked up? | Shown in errors as |
/// |---|---|---|
/// | [`SocketAddr`], [`SocketAddrV4`], [`SocketAddrV6`] | no | `127.0.0.1:80`, `[::1]:80` |
/// | `(IpAddr, u16)`, `(Ipv4Addr, u16)`, `(Ipv6Addr, u16)` | no | `127.0.0.1:80`, `[::1]:80` |
/// | `&str`, `String`: `HOST:PORT`, `[IPV6]:PORT` | a literal address no; a name yes | as written |
/// | `(&str, u16)`, `(String, u16)` | a literal address no; a name yes | `localhost:80`, `[::1]:80` |
/// | `&[SocketAddr]`, `Vec<SocketAddr>` | no | `[127.0.0.1:80, [::1]:80]` |
/// | `&T` for each of these | as `T` | as `T` |
///
/// A name (`localhost:8080`, `("db.internal", 5432)`) is looked up once per
/// address family when the connector races the families (RFC 8305) or a
/// [`resolver`](crate::ConnectorBuilder::resolver) of the program's own is
/// set, and by the system resolver otherwise; literal addresses are used as
/// they are, with no system call. A string without a port (`localhost`,
/// `::1`) fails before any system call, with a hint: `missing port (write
/// localhost:PORT)`.
///
/// The trait is sealed: it cannot be implemented outside this crate, so a
/// finishing call always knows which of these it was given. Every target is
/// `Send + Sync`, so the futures of the async finishing calls are `Send`.
///
/// # Examples
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddr};
/// use sockwright::ListenerBuilder;
///
/// let builder = ListenerBuilder::new();
/// let a = builder.listen("127.0.0.1:0")?;
/// let b = builder.listen((Ipv4Addr::LOCALHOST, 0))?;
/// let c = builder.listen(SocketAddr::from(([127, 0, 0, 1], 0)))?;
/// let d = builder.listen(&[a.local_addr()?, "127.0.0.1:0".parse()?][..])?;
///
/// let err = builder.listen("localhost").unwrap_err();
/// assert_eq!(err.to_string(), "resolve localhost: missing port (write localhost:PORT)");
/// # drop((b, c, d));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait ToSocketAddrs: sealed::ToTarget + Send + Sync {}

pub mod sealed {
    /// What a target is; implemented once per accepted type.
    pub trait ToTarget {
        /// This value, as the builders read it.
        fn given(&self) -> super::Given<'_>;
    }
}

/// What a target is, as its type and value say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given<'a> {
    /// One literal address: nothing to look up.
    One(SocketAddr),
    /// Several literal addresses, in the order given.
    Many(&'a [SocketAddr]),
    /// A host name and port, to look up.
    Name(&'a str, u16),
    /// A string that cannot be a target, and what to write instead.
    Invalid(&'a str, String),
}

impl Given<'_> {
    /// The literal addresses, if this is no name.
    pub(crate) fn addrs(&self) -> Option<&[SocketAddr]> {
        match self {
            Given::One(one) => Some(std::slice::from_ref(one)),
            Given::Many(many) => Some(many),
            Given::Name(..) | Given::Invalid(..) => None,
        }
    }
}

impl fmt::Display for Given<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Given::One(addr) => addr.fmt(f),
            Given::Many(addrs) => write!(f, "[{}]", crate::bounded::shown::List(addrs, ", ")),
            Given::Name(host, port) if host.contains(':') => write!(f, "[{host}]:{port}"),
            Given::Name(host, port) => write!(f, "{host}:{port}"),
            Given::Invalid(text, _) => f.write_str(text),
        }
    }
}

/// A `HOST:PORT` or `[IPV6]:PORT` string, read as std reads it: a literal
/// socket address, else a name and a port; a string with no port is refused
/// with what to write instead.
fn parse(text: &str) -> Given<'_> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Given::One(addr);
    }
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    if bare.parse::<Ipv6Addr>().is_ok() {
        return Given::Invalid(text, format!("missing port (write [{bare}]:PORT)"));
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        let hint = if text.is_empty() {
            "empty target (write HOST:PORT)".to_owned()
        } else {
            format!("missing port (write {text}:PORT)")
        };
        return Given::Invalid(text, hint);
    };
    let Ok(port) = port.parse::<u16>() else {
        return Given::Invalid(text, "invalid port value".to_owned());
    };
    if host.is_empty() {
        return Given::Invalid(text, "missing host before ':PORT'".to_owned());
    }
    // `[fe80::1%eth0]:80`: an address std cannot parse, which the resolver
    // reads without its brackets.
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Given::Name(host, port)
}

/// A `(host, port)` pair: a literal address, else a name.
fn pair(host: &str, port: u16) -> Given<'_> {
    match host.parse::<IpAddr>() {
        Ok(ip) => Given::One(SocketAddr::new(ip, port)),
        Err(_) => Given::Name(host, port),
    }
}

macro_rules! targets {
    ($($ty:ty => |$v:ident| $given:expr;)*) => {
        $(
            impl ToSocketAddrs for $ty {}
            impl sealed::ToTarget for $ty {
                fn given(&self) -> Given<'_> {
                    let $v = self;
                    $given
                }
            }
        )*
    };
}

targets! {
    SocketAddr => |a| Given::One(*a);
    SocketAddrV4 => |a| Given::One((*a).into());
    SocketAddrV6 => |a| Given::One((*a).into());
    (IpAddr, u16) => |a| Given::One(SocketAddr::new(a.0, a.1));
    (Ipv4Addr, u16) => |a| Given::One(SocketAddr::new(a.0.into(), a.1));
    (Ipv6Addr, u16) => |a| Given::One(SocketAddr::new(a.0.into(), a.1));
    str => |s| parse(s);
    String => |s| parse(s);
    (&str, u16) => |a| pair(a.0, a.1);
    (String, u16) => |a| pair(&a.0, a.1);
    [SocketAddr] => |a| Given::Many(a);
    Vec<SocketAddr> => |a| Given::Many(a);
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}

impl<T: ToSocketAddrs + ?Sized> sealed::ToTarget for &T {
    fn given(&self) -> Given<'_> {
        (**self).given()
    }
}

#[cfg(test)]
mod tests {
    use super::sealed::ToTarget;
    use super::*;

    #[test]
    fn each_type_says_what_it_is() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        let list = [v4, v6];
        fn check(target: &dyn ToTarget, expected: Given<'_>, shown: &str) {
            let given = target.given();
            assert_eq!(given, expected);
            assert_eq!(given.to_string(), shown);
        }
        check(&v4, Given::One(v4), "127.0.0.1:80");
        check(
            &SocketAddrV4::new(Ipv4Addr::LOCALHOST, 80),
            Given::One(v4),
            "127.0.0.1:80",
        );
        check(
            &SocketAddrV6::new(Ipv6Addr::LOCALHOST, 80, 0, 0),
            Given::One(v6),
            "[::1]:80",
        );
        check(
            &(IpAddr::from(Ipv6Addr::LOCALHOST), 80u16),
            Given::One(v6),
            "[::1]:80",
        );
        check(
            &(Ipv4Addr::LOCALHOST, 80u16),
            Given::One(v4),
            "127.0.0.1:80",
        );
        check(&(Ipv6Addr::LOCALHOST, 80u16), Given::One(v6), "[::1]:80");
        check(&"127.0.0.1:80", Given::One(v4), "127.0.0.1:80");
        check(&"[::1]:80", Given::One(v6), "[::1]:80");
        check(
            &"localhost:80",
            Given::Name("localhost", 80),
            "localhost:80",
        );
        check(
            &"localhost:80".to_owned(),
            Given::Name("localhost", 80),
            "localhost:80",
        );
        check(
            &("localhost", 80u16),
            Given::Name("localhost", 80),
            "localhost:80",
        );
        check(&("db".to_owned(), 5u16), Given::Name("db", 5), "db:5");
        check(&("::1", 80u16), Given::One(v6), "[::1]:80");
        check(
            &("weird:name", 80u16),
            Given::Name("weird:name", 80),
            "[weird:name]:80",
        );
        check(&&list[..], Given::Many(&list), "[127.0.0.1:80, [::1]:80]");
        check(
            &list.to_vec(),
            Given::Many(&list),
            "[127.0.0.1:80, [::1]:80]",
        );
        check(&&&"localhost:1", Given::Name("localhost", 1), "localhost:1");
        check(
            &"[fe80::1%lo]:80",
            Given::Name("fe80::1%lo", 80),
            "[fe80::1%lo]:80",
        );
    }

    #[test]
    fn a_string_that_cannot_be_a_target_says_what_to_write() {
        for (text, hint) in [
            ("localhost", "missing port (write localhost:PORT)"),
            ("127.0.0.1", "missing port (write 127.0.0.1:PORT)"),
            ("::1", "missing port (write [::1]:PORT)"),
            ("[::1]", "missing port (write [::1]:PORT)"),
            ("", "empty target (write HOST:PORT)"),
            ("localhost:http", "invalid port value"),
            ("localhost:65536", "invalid port value"),
            (":80", "missing host before ':PORT'"),
        ] {
            assert_eq!(
                text.given(),
                Given::Invalid(text, hint.to_owned()),
                "{text}"
            );
            assert_eq!(text.given().to_string(), text);
        }
    }

    #[test]
    fn a_long_list_is_shown_with_a_count_of_the_rest() {
        let list: Vec<SocketAddr> = (1..=5000)
            .map(|port| SocketAddr::from(([127, 0, 0, 1], port)))
            .collect();
        assert_eq!(
            list.given().to_string(),
            "[127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3, 127.0.0.1:4, 127.0.0.1:5, 127.0.0.1:6, \
             ... and 4,992 more, 127.0.0.1:4999, 127.0.0.1:5000]"
        );
    }
}
