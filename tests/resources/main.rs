//! The tests that count what the whole process holds (open descriptors in
//! `/proc/self/fd`, threads in `/proc/self/task`, the lookup pool's
//! threads) or change it for everyone (`RLIMIT_NOFILE`, the global
//! logger): each needs a process to itself while it runs.
//!
//! libtest cannot give them that: it runs tests on parallel threads of one
//! process, and even with one test at a time it starts and ends a thread
//! per test, which a thread count would see. So this program has its own
//! `main` (`harness = false` in Cargo.toml) that runs each test in a
//! process of its own: this program again, told by the variable
//! [`CHILD`] which one test to run on its main thread. The tests mostly
//! wait (on timeouts, on peers), so several of these processes run at once:
//! as many as `--test-threads` or `RUST_TEST_THREADS` say, else one per CPU,
//! as with libtest. A test run alone (`cargo test --test resources -- NAME`)
//! runs in this process itself, its output shown as it comes.
//!
//! It prints libtest's lines (`test NAME ... ok`, `test result: ...`), each
//! test's output (stdout and stderr, in the order written) after its line,
//! and takes what cargo and the tests themselves pass: name filters,
//! `--skip`, `--exact`, `--ignored` (`--include-ignored`), `--list`,
//! `--test-threads`; `--nocapture` changes nothing (every output is shown).
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

use std::fs::{self, File};
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

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

/// Every test, in the order they start.
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
    /// `--test-threads N`: how many tests run at once.
    threads: Option<usize>,
}

/// A positive number of tests to run at once, as libtest reads
/// `--test-threads` and `RUST_TEST_THREADS`.
fn threads(text: &str) -> usize {
    match text.parse() {
        Ok(n) if n > 0 => n,
        _ => panic!("the number of test threads must be a positive number, not {text:?}"),
    }
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
            // Every test's output is shown anyway.
            "--nocapture" | "--show-output" | "-q" | "--quiet" => {}
            "--skip" => args.skip.extend(words.next()),
            "--test-threads" => args.threads = words.next().map(|n| threads(&n)),
            "--format" | "--color" | "--logfile" => {
                words.next();
            }
            flag if flag.starts_with("--skip=") => {
                args.skip.push(flag["--skip=".len()..].to_owned())
            }
            flag if flag.starts_with("--test-threads=") => {
                args.threads = Some(threads(&flag["--test-threads=".len()..]))
            }
            flag if flag.starts_with("--format=") || flag.starts_with("--color=") => {}
            flag if flag.starts_with('-') => {
                eprintln!("ignoring {flag}: not a flag of this runner")
            }
            filter => args.filters.push(filter.to_owned()),
        }
    }
    args
}

/// The variable that makes this program run the one test it names, on its
/// main thread, and nothing else: set for each process the runner starts.
const CHILD: &str = "SOCKWRIGHT_RESOURCES_TEST";

fn main() -> ExitCode {
    if let Ok(name) = std::env::var(CHILD) {
        // Not passed on to the programs the test itself starts.
        // SAFETY: the first thing `main` does, before this process starts
        // any thread, so nothing else reads or writes the environment.
        unsafe { std::env::remove_var(CHILD) };
        let test = tests()
            .into_iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("{CHILD}={name:?} names no test"));
        // A panic ends this process with status 101, and the runner sees it.
        (test.run)();
        return ExitCode::SUCCESS;
    }
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
    let threads = args
        .threads
        .unwrap_or_else(|| match std::env::var("RUST_TEST_THREADS") {
            Ok(n) => threads(&n),
            Err(_) => thread::available_parallelism().map_or(1, |n| n.get()),
        });
    let started = Instant::now();
    println!();
    println!("running {} tests", chosen.len());
    let (mut to_run, mut ignored) = (Vec::new(), 0);
    for test in &chosen {
        let runs = if args.include_ignored {
            true
        } else {
            test.ignored == args.ignored
        };
        if runs {
            to_run.push(test);
        } else {
            println!("test {} ... ignored", test.name);
            ignored += 1;
        }
    }
    let (mut passed, mut failed) = (Vec::new(), Vec::new());
    let mut record = |name: &'static str, ok: bool, took: Duration| {
        if ok {
            println!("test {name} ... ok ({took:.2?})");
            passed.push(name);
        } else {
            println!("test {name} ... FAILED ({took:.2?})");
            failed.push(name);
        }
    };
    if let [test] = to_run[..] {
        println!("test {} ...", test.name);
        let began = Instant::now();
        let outcome = panic::catch_unwind(AssertUnwindSafe(test.run));
        record(test.name, outcome.is_ok(), began.elapsed());
    } else {
        let mut waiting = to_run.into_iter().enumerate();
        let mut running: Vec<Running> = Vec::new();
        loop {
            while running.len() < threads {
                let Some((n, test)) = waiting.next() else {
                    break;
                };
                running.push(Running::start(test.name, n));
            }
            if running.is_empty() {
                break;
            }
            thread::sleep(Duration::from_millis(5));
            let mut i = 0;
            while i < running.len() {
                match running[i].process.try_wait() {
                    Ok(None) => i += 1,
                    status => {
                        let done = running.swap_remove(i);
                        let ok = status.is_ok_and(|s| s.is_some_and(|s| s.success()));
                        record(done.name, ok, done.began.elapsed());
                        print!("{}", done.output());
                    }
                }
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

/// A test running in a process of its own, its stdout and stderr going to
/// one file, in the order written.
struct Running {
    name: &'static str,
    process: std::process::Child,
    output: PathBuf,
    began: Instant,
}

impl Running {
    /// Starts this program again to run the test `name`; `n` makes its
    /// output file's name unique.
    fn start(name: &'static str, n: usize) -> Running {
        let output = std::env::temp_dir().join(format!(
            "sockwright-resources-{}-{n}.out",
            std::process::id()
        ));
        let file =
            File::create(&output).unwrap_or_else(|e| panic!("create {}: {e}", output.display()));
        let process = Command::new(std::env::current_exe().expect("current_exe"))
            .env(CHILD, name)
            .stdin(Stdio::null())
            .stdout(
                file.try_clone()
                    .expect("a second handle on the output file"),
            )
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("start the process of {name}: {e}"));
        Running {
            name,
            process,
            output,
            began: Instant::now(),
        }
    }

    /// What the test wrote, once it has ended; its file is removed.
    fn output(&self) -> String {
        let text = fs::read(&self.output).unwrap_or_default();
        let _ = fs::remove_file(&self.output);
        String::from_utf8_lossy(&text).into_owned()
    }
}
