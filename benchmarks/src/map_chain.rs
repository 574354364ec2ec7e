//! A chain of `Map` steps: what one fused element-wise step costs.
//!
//! `N` `u64` values are generated in the pipeline (`Create`d chunk indexes,
//! then [`GenerateValuesFn`]: [`value`] of each element index), go through
//! `k` `Map(step)`s and are summed (`Combine::globally(Sum)`); the
//! hand-written loop does the same in one `for`. The cost of a step is
//! `(time(k maps) − time(0 maps)) / (k · N)` ([`per_step_section`]), which
//! takes out the generation, the sum and the runner's fixed costs.

use crate::combine::{splitmix64, verify_lines, write_line, CHUNK};
use crate::error::{BenchError, Result};
use crate::harness::{self, Baseline, Measurement, Workload};
use crate::setup::{linked_runners, RunnerSetup};
use crate::stats::Summary;
use crate::units::count_label;
use beamline::io::WriteToText;
use beamline::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::path::Path;

/// The most a fused `Map` step may cost, in nanoseconds per element (the project's goal).
pub const STEP_GOAL_NS: f64 = 1.0;

/// The name (prefix) of the output files.
const OUTPUT: &str = "sum";

/// The `i`th generated value: the top 32 bits of `splitmix64(i)`.
///
/// # Examples
/// ```
/// assert!(beamline_benchmarks::map_chain::value(3) < 1 << 32);
/// ```
#[inline]
pub fn value(i: u64) -> u64 {
    splitmix64(i) >> 32
}

/// One step: xor-shift, multiply, keep 32 bits. The xor-shift keeps a compiler
/// from folding a chain of steps into one (as it would a chain of affine
/// maps), and the 32-bit result keeps the final sum of 100 M values from overflowing.
///
/// # Examples
/// ```
/// use beamline_benchmarks::map_chain::step;
/// assert!(step(u64::from(u32::MAX)) < 1 << 32);
/// assert_ne!(step(step(5)), step(5));
/// ```
#[inline]
pub fn step(x: u64) -> u64 {
    ((x ^ (x >> 7)).wrapping_mul(0x9E37_79B9)) & 0xFFFF_FFFF
}

/// Emits the values of a chunk: for chunk `c`, [`value`]`(i)` for every `i`
/// in `c * CHUNK .. min((c + 1) * CHUNK, elements)`.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_benchmarks::map_chain::{value, GenerateValuesFn};
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let xs = p.apply(Create::new(vec![0u64])).apply(ParDo::of(GenerateValuesFn::new(3)));
/// assert_that(&xs, contains_in_any_order((0..3).map(value).collect::<Vec<_>>()));
/// p.run().unwrap();
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GenerateValuesFn {
    elements: u64,
}

impl GenerateValuesFn {
    /// `elements` values in all.
    pub fn new(elements: u64) -> Self {
        GenerateValuesFn { elements }
    }
}

impl DoFn for GenerateValuesFn {
    type In = u64;
    type Out = u64;
    #[inline]
    fn process(&mut self, chunk: &u64, ctx: &mut ProcessContext<'_, u64>) -> std::result::Result<(), DoFnError> {
        let start = chunk * CHUNK;
        for i in start..(start + CHUNK).min(self.elements) {
            ctx.emit(value(i));
        }
        Ok(())
    }
}

/// `elements` generated values through `steps` `Map(step)`s, then summed.
#[derive(Debug, Clone)]
pub struct MapChain {
    elements: u64,
    steps: usize,
}

impl MapChain {
    /// `elements` values through `steps` maps.
    pub fn new(elements: u64, steps: usize) -> Result<Self> {
        if elements == 0 {
            return Err(BenchError::Invalid("elements must be at least 1".into()));
        }
        Ok(MapChain { elements, steps })
    }
}

impl Workload for MapChain {
    fn name(&self) -> String {
        format!("map chain {} × {} steps", count_label(self.elements), self.steps)
    }

    fn input_description(&self) -> String {
        format!(
            "{} u64 values generated in the pipeline ({} Create'd chunk indexes × {CHUNK}, top 32 bits of \
             splitmix64 of the index), {} Map(step) steps, Combine::globally(Sum)",
            self.elements,
            self.elements.div_ceil(CHUNK),
            self.steps
        )
    }

    fn items(&self) -> u64 {
        self.elements
    }

    fn unit(&self) -> &'static str {
        "elements"
    }

    fn run_baseline(&self, _b: &Baseline, out_dir: &Path) -> Result<()> {
        write_line(&out_dir.join(OUTPUT), &format!("sum={}", hand_written(self.elements, self.steps)))
    }

    fn run_pipeline(&self, setup: &RunnerSetup, out_dir: &Path) -> Result<()> {
        let p = Pipeline::new(setup.options(), linked_runners());
        let mut xs = p
            .apply_named("Chunks", Create::new(0..self.elements.div_ceil(CHUNK)))
            .apply_named("Generate", ParDo::of(GenerateValuesFn::new(self.elements)));
        for i in 0..self.steps {
            xs = xs.apply_named(&format!("Step{i}"), Map::new(|x: &u64| step(*x)));
        }
        let _files = xs
            .apply_named("Sum", Combine::globally(Sum::<u64>::new()))
            .apply_named("Format", Map::new(|s: &u64| format!("sum={s}")))
            .apply_named("WriteSum", WriteToText::new(out_dir.join(OUTPUT).display().to_string()));
        p.run().map_err(|source| BenchError::Pipeline { setup: setup.name.clone(), source })?;
        Ok(())
    }

    fn verify(&self, variant: &str, baseline_dir: &Path, actual_dir: &Path) -> Result<()> {
        verify_lines(&self.name(), variant, baseline_dir, actual_dir)
    }
}

/// The hand-written loop: generate, `steps` steps, sum.
///
/// # Examples
/// ```
/// use beamline_benchmarks::map_chain::{hand_written, step, value};
/// assert_eq!(hand_written(2, 1), step(value(0)) + step(value(1)));
/// ```
pub fn hand_written(elements: u64, steps: usize) -> u64 {
    let mut sum = 0u64;
    for i in 0..elements {
        let mut x = value(i);
        for _ in 0..steps {
            x = step(x);
        }
        sum += x;
    }
    sum
}

/// The markdown section giving each variant's cost per element per step,
/// `(median time(k steps) − median time(0 steps)) / (k · N)` in nanoseconds,
/// from measurements of [`MapChain`]s over the same `N` (`steps[i]` is the
/// step count of `ms[i]`); empty without a 0-step measurement.
///
/// # Examples
/// ```
/// assert_eq!(beamline_benchmarks::map_chain::per_step_section(&[], &[]), "");
/// ```
pub fn per_step_section(ms: &[Measurement], steps: &[usize]) -> String {
    let Some(zero) = steps.iter().position(|&k| k == 0) else { return String::new() };
    let base = &ms[zero];
    let mut variants: Vec<(String, bool)> = base.baselines.iter().map(|(b, _)| (b.name.clone(), false)).collect();
    variants.extend(base.setups.iter().map(|(s, _)| (s.name.clone(), true)));
    let median_of = |me: &Measurement, name: &str| -> Option<f64> {
        let samples = me
            .baselines
            .iter()
            .find(|(b, _)| b.name == name)
            .map(|(_, s)| s)
            .or_else(|| me.setups.iter().find(|(s, _)| s.name == name).map(|(_, s)| s))?;
        Some(Summary::of(samples)?.median)
    };
    let mut s = String::new();
    let _ = writeln!(s, "## Map chains: nanoseconds per element per step\n");
    let _ = writeln!(
        s,
        "(median time with k maps − median time with 0 maps) / (k × {} elements). The goal for the pipeline \
         (rayon setups): at most {STEP_GOAL_NS} ns per element per step once fused. The hand-written loop is \
         for reference (the compiler may vectorize it). With 2 workers the figure is wall time, so it is \
         about half the CPU cost.\n",
        count_label(base.items)
    );
    let mut header = "| variant | 0-map time s |".to_string();
    let mut rule = "| --- | ---: |".to_string();
    for &k in steps.iter().filter(|&&k| k > 0) {
        let _ = write!(header, " {k} maps: ns/elem/step |");
        rule.push_str(" ---: |");
    }
    header.push_str(" goal |");
    rule.push_str(" --- |");
    let _ = writeln!(s, "{header}\n{rule}");
    for (name, is_pipeline) in variants {
        let Some(t0) = median_of(base, &name) else { continue };
        let mut row = format!("| {name} | {t0:.3} |");
        let mut worst = f64::NEG_INFINITY;
        for (me, &k) in ms.iter().zip(steps).filter(|(_, &k)| k > 0) {
            match median_of(me, &name) {
                Some(t) => {
                    let ns = (t - t0) / (k as f64 * base.items as f64) * 1e9;
                    worst = worst.max(ns);
                    let _ = write!(row, " {ns:.2} |");
                }
                None => row.push_str(" |"),
            }
        }
        let verdict = match (is_pipeline, worst <= STEP_GOAL_NS) {
            (false, _) => "(reference)",
            (true, true) => "met",
            (true, false) => "**NOT met**",
        };
        let _ = writeln!(row, " {verdict} |");
        s.push_str(&row);
    }
    s.push('\n');
    s
}

/// The quick check: `elements` values through each of `steps` maps, one
/// repetition in this process on `rayon-1` and `rayon-2` (and the direct
/// runner); outputs compared, no timing asserted.
///
/// # Examples
/// ```
/// let dir = std::env::temp_dir().join(format!("beamline-map-chain-doc-{}", std::process::id()));
/// let ms = beamline_benchmarks::map_chain::quick_check(&dir, 25_000, &[0, 2]).unwrap();
/// assert!(beamline_benchmarks::map_chain::per_step_section(&ms, &[0, 2]).contains("rayon-2"));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn quick_check(dir: &Path, elements: u64, steps: &[usize]) -> Result<Vec<Measurement>> {
    let setups = vec![RunnerSetup::direct(), RunnerSetup::rayon(1), RunnerSetup::rayon(2)];
    steps
        .iter()
        .map(|&k| harness::measure(&MapChain::new(elements, k)?, &setups, 1, &dir.join("scratch"), &harness::InProcess))
        .collect()
}
