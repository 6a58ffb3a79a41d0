//! The tests that count what the whole process holds (open descriptors in
//! `/proc/self/fd`, threads in `/proc/self/task`, the lookup pool's
//! threads) or change it for everyone (`RLIMIT_NOFILE`, the global
//! logger): each needs the process to itself while it runs, so they share
//! this program and run one after another.
//!
//! libtest cannot give them that: it runs tests on parallel threads, and
//! even with one test at a time it starts and ends a thread per test,
//! which a thread count would see. So this program has its own `main`
//! (`harness = false` in Cargo.toml) that runs each test on the main
//! thread, in the order listed below, and prints libtest's lines
//! (`test NAME ... ok`, `test result: ...`). It takes what cargo and the
//! tests themselves pass: name filters, `--skip`, `--exact`, `--ignored`
//! (`--include-ignored`), `--list`; `--nocapture` and `--test-threads`
//! change nothing (nothing is captured, one test runs at a time).
//!
//! `cargo test --test resources -- NAME` runs one of them with its figures.

#[path = "../util/mod.rs"]
mod util;

#[cfg(target_os = "linux")]
mod attempts_in_flight;
#[cfg(target_os = "linux")]
mod configure;
#[cfg(target_os = "linux")]
mod failed_builds;
#[cfg(target_os = "linux")]
mod happy_eyeballs;
#[cfg(feature = "hello")]
mod hello_concurrent;
#[cfg(all(feature = "hello", target_os = "linux"))]
mod hello_emfile;
#[cfg(all(feature = "hello", target_os = "linux"))]
mod hello_load;
#[cfg(all(feature = "hello", target_os = "linux"))]
mod hello_slowloris;
mod invalid_config;
#[cfg(target_os = "linux")]
mod resolver;
#[cfg(target_os = "linux")]
mod resolver_pool;
#[cfg(all(feature = "tokio", target_os = "linux"))]
mod resolver_pool_tokio;
#[cfg(all(feature = "tokio", target_os = "linux"))]
mod resolver_tokio;
mod self_connect;
#[cfg(all(feature = "tokio", target_os = "linux"))]
mod tokio_race;

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::time::Instant;

/// One test: its name (`module::function`), the function, and whether it
/// runs only when asked for with `--ignored` (a child another test starts).
struct Test {
    name: &'static str,
    run: fn(),
    ignored: bool,
}

/// `test!(module::function)`, or `test!(ignored module::function)`.
macro_rules! test {
    ($module:ident :: $function:ident) => {
        Test {
            name: concat!(stringify!($module), "::", stringify!($function)),
            run: $module::$function,
            ignored: false,
        }
    };
    (ignored $module:ident :: $function:ident) => {
        Test {
            name: concat!(stringify!($module), "::", stringify!($function)),
            run: $module::$function,
            ignored: true,
        }
    };
}

/// Every test, in the order they run.
fn tests() -> Vec<Test> {
    vec![
        test!(invalid_config::invalid_configurations_fail_early_saying_why_and_leak_nothing),
        test!(self_connect::connect_from_the_target_address_is_a_self_connect_error),
        #[cfg(target_os = "linux")]
        test!(self_connect::fixed_source_port_below_the_ephemeral_range_is_still_checked),
        #[cfg(target_os = "linux")]
        test!(configure::failing_hooks_leak_no_descriptor),
        #[cfg(target_os = "linux")]
        test!(failed_builds::failed_builds_leak_no_fd_and_no_thread),
        #[cfg(target_os = "linux")]
        test!(attempts_in_flight::many_addresses_hold_at_most_the_cap_and_give_a_short_error),
        #[cfg(target_os = "linux")]
        test!(happy_eyeballs::losing_attempts_leave_no_fd_and_no_thread),
        #[cfg(all(feature = "tokio", target_os = "linux"))]
        test!(tokio_race::dropping_connect_async_mid_race_leaves_no_fd),
        #[cfg(target_os = "linux")]
        test!(resolver::connects_that_win_before_the_slow_answer_leave_no_thread_and_no_fd),
        #[cfg(all(feature = "tokio", target_os = "linux"))]
        test!(resolver_tokio::dropping_connect_async_mid_lookup_leaves_no_fd),
        #[cfg(target_os = "linux")]
        test!(resolver_pool::a_resolver_that_never_answers_holds_at_most_the_cap_of_threads),
        #[cfg(all(feature = "tokio", target_os = "linux"))]
        test!(resolver_pool_tokio::connect_async_through_a_resolver_that_never_answers_holds_at_most_the_cap),
        #[cfg(feature = "hello")]
        test!(hello_concurrent::four_hundred_connections_half_silent_half_byte_by_byte),
        #[cfg(all(feature = "hello", target_os = "linux"))]
        test!(hello_concurrent::ten_thousand_connections_half_silent_half_byte_by_byte),
        #[cfg(all(feature = "hello", target_os = "linux"))]
        test!(ignored hello_concurrent::client_process),
        #[cfg(all(feature = "hello", target_os = "linux"))]
        test!(hello_concurrent::a_flood_of_resets_mid_greeting_leaves_nothing_behind),
        #[cfg(all(feature = "hello", unix))]
        test!(hello_concurrent::unix_clients_half_silent_half_byte_by_byte),
        #[cfg(all(feature = "hello", target_os = "linux"))]
        test!(hello_load::a_thousand_connections_fifty_stalled),
        #[cfg(all(feature = "hello", target_os = "linux"))]
        test!(hello_load::backlog_overflow_times_out_the_clients_beyond_the_queue),
        #[cfg(all(feature = "hello", target_os = "linux"))]
        test!(hello_slowloris::five_thousand_silent_connections_do_not_delay_honest_clients),
        // Last: it installs the global logger.
        #[cfg(all(feature = "hello", target_os = "linux"))]
        test!(hello_emfile::accept_survives_running_out_of_file_descriptors),
    ]
}

/// What the command line asks for.
#[derive(Default)]
struct Args {
    filters: Vec<String>,
    skip: Vec<String>,
    exact: bool,
    list: bool,
    ignored: bool,
    include_ignored: bool,
}

fn parse_args() -> Args {
    let mut args = Args::default();
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        match word.as_str() {
            "--exact" => args.exact = true,
            "--list" => args.list = true,
            "--ignored" => args.ignored = true,
            "--include-ignored" => args.include_ignored = true,
            // Nothing is captured and one test runs at a time anyway.
            "--nocapture" | "--show-output" | "-q" | "--quiet" => {}
            "--skip" => args.skip.extend(words.next()),
            "--test-threads" | "--format" | "--color" | "--logfile" => {
                words.next();
            }
            flag if flag.starts_with("--skip=") => {
                args.skip.push(flag["--skip=".len()..].to_owned())
            }
            flag if flag.starts_with("--test-threads=")
                || flag.starts_with("--format=")
                || flag.starts_with("--color=") => {}
            flag if flag.starts_with('-') => {
                eprintln!("ignoring {flag}: not a flag of this runner")
            }
            filter => args.filters.push(filter.to_owned()),
        }
    }
    args
}

fn main() -> ExitCode {
    let args = parse_args();
    let matches = |name: &str, pattern: &String| {
        if args.exact {
            name == pattern
        } else {
            name.contains(pattern.as_str())
        }
    };
    let chosen: Vec<Test> = tests()
        .into_iter()
        .filter(|t| args.filters.is_empty() || args.filters.iter().any(|f| matches(t.name, f)))
        .filter(|t| !args.skip.iter().any(|s| matches(t.name, s)))
        .collect();
    if args.list {
        for test in &chosen {
            println!("{}: test", test.name);
        }
        println!();
        println!("{} tests, 0 benchmarks", chosen.len());
        return ExitCode::SUCCESS;
    }
    let filtered_out = tests().len() - chosen.len();
    let started = Instant::now();
    println!();
    println!("running {} tests", chosen.len());
    let (mut passed, mut failed, mut ignored) = (Vec::new(), Vec::new(), 0);
    for test in &chosen {
        let runs = if args.include_ignored {
            true
        } else {
            test.ignored == args.ignored
        };
        if !runs {
            println!("test {} ... ignored", test.name);
            ignored += 1;
            continue;
        }
        println!("test {} ...", test.name);
        let began = Instant::now();
        let outcome = panic::catch_unwind(AssertUnwindSafe(test.run));
        let took = began.elapsed();
        match outcome {
            Ok(()) => {
                println!("test {} ... ok ({took:.2?})", test.name);
                passed.push(test.name);
            }
            Err(_) => {
                println!("test {} ... FAILED ({took:.2?})", test.name);
                failed.push(test.name);
            }
        }
    }
    if !failed.is_empty() {
        println!();
        println!("failures:");
        for name in &failed {
            println!("    {name}");
        }
    }
    println!();
    println!(
        "test result: {}. {} passed; {} failed; {ignored} ignored; 0 measured; {filtered_out} filtered out; finished in {:.2}s",
        if failed.is_empty() { "ok" } else { "FAILED" },
        passed.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    println!();
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(101)
    }
}
