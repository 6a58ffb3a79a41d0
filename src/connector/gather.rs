//! A name given as `"host:port"` or `(host, port)`, looked up once per
//! family ([`ByName`]), and the answers gathered into one list of
//! addresses: what the sequential mode (no Happy Eyeballs) and datagram
//! sockets try in order.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use crate::bounded::shown::List;
use crate::race::report::ConnectReport;
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

/// One family's answer as [`gathered`] takes it: the addresses with the
/// port set, or the error that names the name and the family.
pub(crate) type Gathered = (Domain, Result<Vec<SocketAddr>>);

/// Records in `report`, where there is one, that each of `families` was
/// asked now.
pub(crate) fn asked(report: Option<&mut ConnectReport>, families: &[Domain]) {
    if let Some(report) = report {
        let now = Instant::now();
        for &family in families {
            report.asked(family, now);
        }
    }
}

/// Takes in the answers for `name` that just came in: each address gets
/// `port`, each failure becomes its error, and `report`, where there is
/// one, records each answer as of now.
pub(crate) fn answered(
    mut report: Option<&mut ConnectReport>,
    name: &str,
    port: u16,
    answers: Vec<lookup::Answer>,
) -> Vec<Gathered> {
    let now = Instant::now();
    let mut taken = Vec::with_capacity(answers.len());
    for (family, answer) in answers {
        let answer = match answer {
            Ok(mut found) => {
                for a in &mut found {
                    a.set_port(port);
                }
                Ok(found)
            }
            Err(source) => Err(Error::Resolve {
                target: name.to_owned(),
                family: Some(family),
                error: source,
            }),
        };
        if let Some(report) = report.as_deref_mut() {
            let shown = answer.as_deref().map_err(ToString::to_string);
            report.lookup_answered(family, shown, now);
        }
        taken.push((family, answer));
    }
    taken
}

/// Every address of a name once each family asked has answered, the
/// preferred family first: for the sequential mode and for datagram
/// sockets, which do not race. A failed family is logged; only when no
/// family gave an address is it the error.
pub(crate) fn gathered(
    builder: &ConnectorBuilder,
    target: &str,
    mut answers: Vec<Gathered>,
) -> Result<Vec<SocketAddr>> {
    let preferred = builder.race.family;
    answers.sort_by_key(|(family, _)| *family != preferred);
    let mut addrs = Vec::new();
    let mut errors = Vec::new();
    for (_, answer) in answers {
        match answer {
            Ok(found) => addrs.extend(found),
            Err(err) => {
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
