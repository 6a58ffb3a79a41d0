//! What each form of [`Endpoint`] opens, written once for both builders'
//! `listen_endpoint` and `connect_endpoint` and their async twins.

#[cfg(unix)]
use std::borrow::Cow;
use std::net::SocketAddr;
#[cfg(unix)]
use std::path::Path;

use super::Endpoint;
use crate::options::TransportKind;
use crate::{Error, Result};

/// The socket an [`Endpoint`] names, as a finishing call opens it.
#[derive(Debug)]
pub(crate) enum Opens<'a> {
    /// TCP at one address.
    Inet(SocketAddr),
    /// TCP at every address of a host name, on one port.
    Host((&'a str, u16)),
    /// A Unix-domain socket at a path: for an abstract name (`@NAME`),
    /// the name after a NUL byte.
    #[cfg(unix)]
    Unix(Cow<'a, Path>),
    /// A listening socket another process made: `sd-listen`, `fd:N`.
    Passed,
}

impl Endpoint {
    /// What this endpoint opens; [`Error::Unsupported`] for a form this
    /// platform has no socket for.
    pub(crate) fn opens(&self) -> Result<Opens<'_>> {
        Ok(match self {
            Endpoint::Inet(addr) => Opens::Inet(*addr),
            Endpoint::Host(host, port) => Opens::Host((host.as_str(), *port)),
            #[cfg(unix)]
            Endpoint::Unix(path) => Opens::Unix(Cow::Borrowed(path)),
            #[cfg(unix)]
            Endpoint::Abstract(name) => {
                Opens::Unix(crate::listener::abstract_path(name.as_bytes())?.into())
            }
            Endpoint::Inherited(_) | Endpoint::Fd(_) => Opens::Passed,
            #[cfg(not(unix))]
            Endpoint::Unix(_) | Endpoint::Abstract(_) => return Err(unsupported(self)),
        })
    }

    /// The transport of the socket this endpoint opens, which decides the
    /// options that act on it; `None` for a socket another process made
    /// and for a form this platform has no socket for.
    pub(crate) fn transport(&self) -> Option<TransportKind> {
        match self {
            Endpoint::Inet(_) | Endpoint::Host(..) => Some(TransportKind::Tcp),
            #[cfg(unix)]
            Endpoint::Unix(_) | Endpoint::Abstract(_) => Some(TransportKind::UnixStream),
            _ => None,
        }
    }
}

/// The error of an endpoint this platform has no socket for.
pub(crate) fn unsupported(endpoint: &Endpoint) -> Error {
    match endpoint {
        Endpoint::Abstract(_) => Error::Unsupported {
            what: crate::listener::ABSTRACT_NAMES,
        },
        _ => Error::Unsupported {
            what: "Unix-domain sockets",
        },
    }
}
