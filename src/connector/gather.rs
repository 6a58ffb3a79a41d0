//! A name given as `"host:port"` or `(host, port)`, looked up once per
//! family ([`ByName`]), and the answers gathered into one list of
//! addresses: what the sequential mode (no Happy Eyeballs) and datagram
//! sockets try in order.

use std::io;
use std::net::SocketAddr;

use crate::bounded::shown::List;
use crate::race::resolution;
use crate::resolve::lookup;
use crate::resolve::target::Given;
use crate::{ConnectorBuilder, Domain, Error, Result, ToSocketAddrs, Type};

/// A name to look up once per family, and how to connect to its addresses,
/// as [`ConnectorBuilder::by_name`] decides for every driver.
#[derive(Debug)]
pub(crate) struct ByName {
    pub(crate) name: String,
    pub(crate) port: u16,
    /// The families asked, the preferred one first.
    pub(crate) families: Vec<Domain>,
    /// Whether the addresses race as they come (RFC 8305, section 3), or
    /// are all gathered first and tried one after another.
    pub(crate) race: bool,
}

impl ConnectorBuilder {
    /// Whether `addr` is a name this crate looks up itself, once per
    /// family: for a TCP race, or whenever a resolver of the program's own
    /// is set. `None` for a literal address, a socket address, a list, or a
    /// sequential or datagram connect through the system resolver, all
    /// resolved the way std resolves them.
    pub(crate) fn by_name<A: ToSocketAddrs + ?Sized>(
        &self,
        addr: &A,
        implied: Type,
    ) -> Option<ByName> {
        let Given::Name(name, port) = addr.given() else {
            return None;
        };
        let name = name.to_owned();
        let families = self.families();
        let race = implied == Type::Stream && self.race.enabled && !self.fixed_source_port();
        (!families.is_empty() && (race || self.custom_resolver())).then_some(ByName {
            name,
            port,
            families,
            race,
        })
    }

    /// Starts the lookups of `name` in `families` with this builder's
    /// resolver, for a blocking connect that waits on their wake socket.
    pub(crate) fn start_lookups(
        &self,
        target: &str,
        name: &str,
        families: &[Domain],
    ) -> Result<lookup::Lookups> {
        lookup::Lookups::start(&self.resolver, name, families)
            .map_err(|source| Error::resolve(target.to_owned(), source))
    }
}

/// The error of a lookup that gave no answer within the connect timeout.
pub(crate) fn no_answer(target: &str) -> Error {
    Error::resolve(
        target.to_owned(),
        io::Error::new(
            io::ErrorKind::TimedOut,
            "no answer within the connect timeout",
        ),
    )
}

/// Every address of a name once each family asked has answered, the
/// preferred family first, with `port` set: for the sequential mode and
/// for datagram sockets, which do not race. A failed family is logged;
/// only when no family gave an address is it the error.
pub(crate) fn gathered(
    builder: &ConnectorBuilder,
    target: &str,
    name: &str,
    port: u16,
    mut answers: Vec<lookup::Answer>,
) -> Result<Vec<SocketAddr>> {
    let preferred = builder.race.family;
    answers.sort_by_key(|(family, _)| *family != preferred);
    let mut addrs = Vec::new();
    let mut errors = Vec::new();
    for (family, answer) in answers {
        match answer {
            Ok(found) => addrs.extend(found.into_iter().map(|mut a| {
                a.set_port(port);
                a
            })),
            Err(source) => {
                let err = Error::Resolve {
                    target: name.to_owned(),
                    family: Some(family),
                    error: source,
                };
                connector_debug!("{err}");
                errors.push(err);
            }
        }
    }
    if addrs.is_empty() {
        return Err(resolution::no_address(target, errors));
    }
    connector_debug!("resolved {target} to [{}]", List(&addrs, ", "));
    Ok(addrs)
}
