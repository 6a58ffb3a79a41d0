//! The measurement and report code of both benchmark programs
//! (benches/compare.rs and benches/serve.rs), each of which declares
//! `mod common;`: interleaved variants, groups measured in several fresh
//! processes, the nearest-rank quantile, the sign test's interval of a
//! median, and the PASS/FAIL lines printed at the end.
//!
//! Each program uses only some of these, so unused ones are allowed.
#![allow(dead_code)]

use std::error::Error;
use std::process::{Command, ExitCode, Stdio};

pub type Fallible<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// One variant of a group: a name and a closure that returns one sample.
pub struct Variant<'a> {
    pub name: String,
    pub sample: Box<dyn FnMut() -> Fallible<f64> + 'a>,
}

impl<'a> Variant<'a> {
    pub fn new(name: impl Into<String>, sample: impl FnMut() -> Fallible<f64> + 'a) -> Variant<'a> {
        Variant {
            name: name.into(),
            sample: Box::new(sample),
        }
    }
}

/// The variants' names, in order.
pub fn names(variants: &[Variant<'_>]) -> Vec<String> {
    variants.iter().map(|v| v.name.clone()).collect()
}

/// Runs one warm-up round, then `rounds` rounds of every variant in turn;
/// returns each variant's samples in round order. Each round starts one
/// variant later than the one before (A B C, B C A, C A B, ...), so that no
/// variant always runs first or always follows the same one.
pub fn interleave(variants: &mut [Variant<'_>], rounds: usize) -> Fallible<Vec<Vec<f64>>> {
    let n = variants.len();
    let mut samples = vec![Vec::with_capacity(rounds); n];
    for round in 0..=rounds {
        for k in 0..n {
            let i = (round + k) % n;
            let variant = &mut variants[i];
            let sample = (variant.sample)().map_err(|e| format!("{}: {e}", variant.name))?;
            if round > 0 {
                samples[i].push(sample);
            }
        }
    }
    Ok(samples)
}

/// What a group measured: its variants' names and each variant's samples,
/// one per round, the first `per_process` rounds from one process, the
/// next `per_process` from the next, and so on; plus the errors that did
/// not stop the measurement (a reference that could not start).
pub struct Measured {
    pub names: Vec<String>,
    pub samples: Vec<Vec<f64>>,
    pub per_process: usize,
    pub errors: Vec<String>,
}

impl Measured {
    /// The samples of `variants`, all measured in this process.
    pub fn here(variants: &[Variant<'_>], samples: Vec<Vec<f64>>) -> Measured {
        Measured {
            names: names(variants),
            per_process: samples.first().map_or(0, Vec::len),
            samples,
            errors: Vec::new(),
        }
    }
}

/// The variable that makes a bench program a child of another: it holds
/// `GROUP ROUNDS`, and the child measures only that group, for that many
/// rounds, and prints what it measured (see [`reply`]).
const CHILD: &str = "SOCKWRIGHT_BENCH_CHILD";

/// The group and the rounds a parent asked this process to measure, when
/// it is a child.
pub fn child_request() -> Option<(String, usize)> {
    let request = std::env::var(CHILD).ok()?;
    let (group, rounds) = request.split_once(' ')?;
    Some((group.to_owned(), rounds.parse().ok()?))
}

/// Prints, in a child, what it measured for the parent to read: a
/// `variant NAME` line per variant, then a `samples V V ...` line for each,
/// and an `error TEXT` line for each error. Other lines the group printed
/// while it measured are passed on by the parent (the first child's).
pub fn reply(measured: Fallible<Measured>) -> ExitCode {
    match measured {
        Ok(m) => {
            for (name, samples) in m.names.iter().zip(&m.samples) {
                println!("variant\t{name}");
                let shown: Vec<String> = samples.iter().map(f64::to_string).collect();
                println!("samples\t{}", shown.join(" "));
            }
            for error in &m.errors {
                println!("error\t{error}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            println!("error\t{err}");
            ExitCode::FAILURE
        }
    }
}

/// Measures a group in `processes` fresh processes one after the other,
/// `rounds` rounds each, by running this bench program again with
/// [`CHILD`] set; with one process, runs `here` in this one instead.
///
/// Where a program's code and data lie in memory, and which cache sets and
/// branch-predictor entries they share with the kernel's, changes from one
/// process to the next; it can make the same code 1 or 2% faster or slower
/// for a process's whole life (the setup group's `again` row shows it). A
/// ratio measured in one process has that error whatever its number of
/// rounds, so an interval taken over the rounds of one process is too
/// narrow: a check judges the ratio over several processes instead (see
/// [`median_interval`]).
pub fn in_processes(
    group: &str,
    processes: usize,
    rounds: usize,
    here: impl FnOnce(usize) -> Fallible<Measured>,
) -> Fallible<Measured> {
    if processes <= 1 {
        return here(rounds);
    }
    let program = std::env::current_exe()?;
    let mut all = Measured {
        names: Vec::new(),
        samples: Vec::new(),
        per_process: rounds,
        errors: Vec::new(),
    };
    for process in 0..processes {
        let output = Command::new(&program)
            .env(CHILD, format!("{group} {rounds}"))
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()?;
        let text = String::from_utf8_lossy(&output.stdout);
        let (mut names, mut samples) = (Vec::new(), Vec::new());
        for line in text.lines() {
            match line.split_once('\t') {
                Some(("variant", name)) => names.push(name.to_owned()),
                Some(("samples", values)) => samples.push(
                    values
                        .split(' ')
                        .map(str::parse)
                        .collect::<Result<Vec<f64>, _>>()?,
                ),
                Some(("error", error)) if !all.errors.iter().any(|e| e == error) => {
                    all.errors.push(error.to_owned())
                }
                Some(("error", _)) => {}
                _ if process == 0 => println!("{line}"),
                _ => {}
            }
        }
        if !output.status.success() {
            return Err(format!(
                "{group}: child process {process} failed ({}): {}",
                output.status,
                all.errors.join("; ")
            )
            .into());
        }
        if samples.len() != names.len() || samples.iter().any(|s| s.len() != rounds) {
            return Err(format!("{group}: child process {process} sent incomplete samples").into());
        }
        if process == 0 {
            all.names = names;
            all.samples = samples;
        } else if names != all.names {
            return Err(format!("{group}: child process {process} measured other variants").into());
        } else {
            for (all, more) in all.samples.iter_mut().zip(samples) {
                all.extend(more);
            }
        }
    }
    Ok(all)
}

/// A 95% confidence interval for the median of `values` (the sign test's:
/// it assumes nothing about how they spread): the k-th smallest and k-th
/// largest value, k the largest for which a binomial(n, 1/2) count falls
/// below k with a chance of at most 2.5%. With fewer than 6 values even
/// the smallest to the largest covers less than 95%; that is the interval
/// given then.
pub fn median_interval(values: &[f64]) -> (f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    // `below` is the chance that at most j values lie below the median.
    let (mut below, mut ln_choose, ln_all) = (0.0, 0.0_f64, n as f64 * 0.5_f64.ln());
    let mut k = 0;
    for j in 0..n / 2 {
        below += (ln_choose + ln_all).exp();
        if below > 0.025 {
            break;
        }
        k = j;
        ln_choose += ((n - j) as f64).ln() - ((j + 1) as f64).ln();
    }
    (sorted[k], sorted[n - 1 - k])
}

/// The `q` quantile of `samples` (nearest rank).
pub fn percentile(samples: &[f64], q: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank]
}

/// The PASS/FAIL lines and errors, printed at the end.
#[derive(Default)]
pub struct Report {
    lines: Vec<String>,
    failed: bool,
}

impl Report {
    /// A check; a miss fails the run when `binding`.
    pub fn check(&mut self, binding: bool, pass: bool, what: String) {
        let verdict = match (pass, binding) {
            (true, _) => "PASS",
            (false, true) => "FAIL",
            (false, false) => "MISS (quick run: noted, not failed)",
        };
        self.failed |= !pass && binding;
        self.lines.push(format!("{verdict} {what}"));
    }

    pub fn note(&mut self, what: String) {
        self.lines.push(format!("INFO {what}"));
    }

    pub fn error(&mut self, what: String) {
        self.failed = true;
        self.lines.push(format!("FAIL error: {what}"));
    }

    /// Prints the lines; the exit code is a failure when a binding check
    /// missed or an error was recorded. A quick run that passed ends with
    /// `quick_note`, which says where the ratios are judged instead.
    pub fn finish(self, quick: bool, quick_note: &str) -> ExitCode {
        println!("\n## checks");
        for line in &self.lines {
            println!("{line}");
        }
        if self.failed {
            ExitCode::FAILURE
        } else {
            if quick {
                println!("{quick_note}");
            }
            ExitCode::SUCCESS
        }
    }
}
