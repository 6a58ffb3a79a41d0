//! `axum::serve::Listener` for [`AsyncListener`]: `axum::serve` on
//! whatever endpoint the user wrote. The only code behind the `axum`
//! feature.

use std::io;
use std::time::Duration;

use super::tokio::{AsyncListener, AsyncStream};
use crate::{Address, LISTENER_LOG};

/// How long [`accept`](axum::serve::Listener::accept) waits after an error
/// that is not one connection's (such as `EMFILE`: out of descriptors)
/// before it accepts again, as axum's own listeners do.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// `axum::serve(listener, app)` for a listener of any endpoint: TCP, every
/// address of a name, a Unix path or an abstract name.
///
/// axum's `accept` cannot fail, so an error of `accept(2)` is logged and
/// the call goes on: at once after an error of one connection (refused,
/// aborted or reset before it was taken), after a second after any other
/// (out of descriptors, out of memory), as axum's own TCP listener does.
///
/// # Examples
///
/// ```no_run
/// use axum::{routing::get, Router};
/// use sockwright::{Endpoint, ListenerBuilder};
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // From a `--listen` flag: `127.0.0.1:3000`, `unix:/run/app.sock`, `@app`...
/// let endpoint: Endpoint = "unix:/run/app.sock".parse()?;
/// let listener = ListenerBuilder::new().listen_endpoint_async(&endpoint).await?;
/// let app = Router::new().route("/", get(|| async { "Hello from server" }));
/// axum::serve(listener, app).await?;
/// # Ok(())
/// # }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum::serve::Listener for AsyncListener {
    type Io = AsyncStream;
    type Addr = Address;

    async fn accept(&mut self) -> (AsyncStream, Address) {
        loop {
            match AsyncListener::accept(self).await {
                Ok(accepted) => return accepted,
                Err(err) if one_connection(&err) => {
                    log::debug!(target: LISTENER_LOG, "accept: {err}; accepting the next client");
                }
                Err(err) => {
                    log::error!(
                        target: LISTENER_LOG,
                        "accept: {err}; accepting again in {RETRY_AFTER:?}"
                    );
                    ::tokio::time::sleep(RETRY_AFTER).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Address> {
        AsyncListener::local_addr(self)
    }
}

/// Whether `err` ended one connection only, so that the next `accept` may
/// go ahead at once.
fn one_connection(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
