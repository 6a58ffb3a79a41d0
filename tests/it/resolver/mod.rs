//! Connects to a name: the race starts from the first answer (with the
//! test's own resolvers), and the system resolver against a DNS server of
//! the test's own, answering late or never.

mod blocking;
mod outage;
mod system;
mod tokio;
