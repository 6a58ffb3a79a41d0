//! Resolution inside a tokio task: `tokio::net::lookup_host`, after a
//! check that a runtime is running, for the async finishing calls.

use std::fmt;
use std::io;

use crate::options::Options;
use crate::resolve::target::Given;
use crate::resolve::{self, NamedTarget};
use crate::{Error, Result, ToSocketAddrs};

/// Resolves `target` without blocking the runtime and keeps the addresses
/// the configuration can use; first checks that a runtime is running, since
/// tokio's resolver and reactor need one, and that a string names a port.
pub(crate) async fn lookup<A>(target: NamedTarget<'_, A>, opts: &Options) -> Result<resolve::Addrs>
where
    A: ToSocketAddrs + ?Sized,
{
    running(&target)?;
    let given = target.addr.given();
    let Given::Name(host, port) = given else {
        return resolve::usable(
            target,
            resolve::literal(target, &given)?.iter().copied(),
            opts,
        );
    };
    let found = ::tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| resolve::resolve_error(target, source))?;
    resolve::usable(target, found, opts)
}

/// Whether a tokio runtime is running on this thread: without one, tokio
/// panics where this returns [`Error::Register`].
pub(crate) fn running(target: &impl fmt::Display) -> Result<()> {
    ::tokio::runtime::Handle::try_current()
        .map(drop)
        .map_err(|e| Error::Register {
            target: target.to_string(),
            error: io::Error::other(e),
        })
}
