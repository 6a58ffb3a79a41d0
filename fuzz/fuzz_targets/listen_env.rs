//! Arbitrary `LISTEN_PID` / `LISTEN_FDS` / `LISTEN_FDNAMES` values for
//! `ListenFds::parse`: every call returns a set or an error and never
//! panics; a set with sockets is one `sd_listen_fds(3)` allows: meant for
//! this process (or, as `systemfd --no-pid` passes them, for whoever reads
//! it), counted by `LISTEN_FDS`, named by printable names without `:`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwright::activation::{LISTEN_FDS_START, ListenFds};

fuzz_target!(|data: &[u8]| {
    // The first byte says which variables are set (bits 0..2); then four
    // bytes of this process's ID; then the values, separated by NUL bytes.
    let Some((&set, rest)) = data.split_first() else {
        return;
    };
    let (pid, rest) = match rest.split_first_chunk::<4>() {
        Some((pid, rest)) => (u32::from_le_bytes(*pid), rest),
        None => (0, rest),
    };
    let mut parts = rest.split(|b| *b == 0).map(String::from_utf8_lossy);
    let mut next = |bit: u8| {
        let value = parts.next().unwrap_or_default().into_owned();
        (set & bit != 0).then_some(value)
    };
    let (listen_pid, listen_fds, names) = (next(1), next(2), next(4));

    let Ok(fds) = ListenFds::parse(
        listen_pid.as_deref(),
        listen_fds.as_deref(),
        names.as_deref(),
        pid,
    ) else {
        return;
    };
    if fds.is_empty() {
        return;
    }
    if let Some(listen_pid) = &listen_pid {
        assert_eq!(listen_pid.parse::<u32>().ok(), Some(pid));
    }
    assert_eq!(listen_fds.unwrap().parse::<usize>().ok(), Some(fds.len()));
    // Descriptors run from 3, one apart; look at a bounded number of them.
    for (i, fd) in fds.fds().take(1000).enumerate() {
        assert_eq!(i64::from(fd.fd()), i64::from(LISTEN_FDS_START) + i as i64);
        if let Some(name) = fd.name() {
            assert!(!name.is_empty() && name.len() <= 255 && !name.contains(':'));
            assert!(name.bytes().all(|b| (b' '..=b'~').contains(&b)));
        }
    }
    if let Some(names) = names {
        assert_eq!(names.split(':').count(), fds.len());
    }
});
