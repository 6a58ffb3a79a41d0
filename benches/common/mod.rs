//! The measurement and report code of both benchmark programs
//! (benches/compare.rs and benches/serve.rs), each of which declares
//! `mod common;`: interleaved variants, the nearest-rank quantile, and the
//! PASS/FAIL lines printed at the end.
//!
//! Each program uses only some of these, so unused ones are allowed.
#![allow(dead_code)]

use std::error::Error;
use std::process::ExitCode;

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
