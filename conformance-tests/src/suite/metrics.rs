//! Metrics reported by DoFns: counters, distributions, gauges, addressed by
//! (nested) step labels and read from `PipelineResult::metrics()`.

use crate::fns::AddN;
use crate::harness::{Expect, Test};
use beamline::metrics::DistributionResult;
use beamline::plan::capabilities::METRICS;
use beamline::prelude::*;
use serde::{Deserialize, Serialize};

pub(super) fn tests() -> Vec<Test> {
    [
        Test::new("metrics_counters", metrics_counters),
        Test::new("metrics_distribution", metrics_distribution),
        Test::new("metrics_gauge", metrics_gauge),
        Test::new("metrics_from_finish_bundle", metrics_from_finish_bundle),
        Test::new("metrics_nested_labels", metrics_nested_labels),
        Test::new("metrics_same_dofn_two_steps", metrics_same_dofn_two_steps),
        Test::new("metrics_many_elements", metrics_many_elements),
    ]
    .into_iter()
    .map(|t| t.requires(&[METRICS]))
    .collect()
}

/// Reports every kind of metric about the numbers it sees.
#[derive(Clone, Serialize, Deserialize)]
struct Measure;

impl DoFn for Measure {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        let m = ctx.metrics();
        m.inc_counter("elements", 1);
        if x % 2 != 0 {
            m.inc_counter("odd", 1);
        }
        m.inc_counter("total", *x);
        m.update_distribution("values", *x);
        m.set_gauge("constant", 42);
        ctx.emit(*x);
        Ok(())
    }
}

fn measured(p: &Pipeline, xs: Vec<i64>) -> PCollection<i64> {
    p.apply(Create::new(xs)).apply_named("Measure", ParDo::of(Measure))
}

fn metrics_counters(p: &Pipeline) -> Expect {
    let out = measured(p, vec![1, 2, 3, 4, 5, -6]);
    assert_that(&out, contains_in_any_order(vec![1, 2, 3, 4, 5, -6]));
    Expect::success()
        .counter("Measure", "elements", 6)
        .counter("Measure", "odd", 3)
        .counter("Measure", "total", 9)
        .check(|r| match r.metrics().counter("Measure", "never") {
            None => Ok(()),
            Some(v) => Err(format!("a counter never incremented reads {v}")),
        })
}

fn metrics_distribution(p: &Pipeline) -> Expect {
    let _ = measured(p, vec![5, -3, 10, 0]);
    Expect::success().check(|r| {
        let want = DistributionResult { count: 4, sum: 12, min: -3, max: 10 };
        match r.metrics().distribution("Measure", "values") {
            Some(d) if d == want => Ok(()),
            other => Err(format!("distribution 'values': expected {want:?}, got {other:?}")),
        }
    })
}

fn metrics_gauge(p: &Pipeline) -> Expect {
    let _ = measured(p, (0..100).collect());
    Expect::success().check(|r| match r.metrics().gauge("Measure", "constant") {
        Some(42) => Ok(()),
        other => Err(format!("gauge 'constant': expected 42, got {other:?}")),
    })
}

/// Counts bundles from `finish_bundle`.
#[derive(Clone, Default, Serialize, Deserialize)]
struct PerBundle {
    #[serde(skip)]
    seen: i64,
}

impl DoFn for PerBundle {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        self.seen += 1;
        ctx.emit(*x);
        Ok(())
    }
    fn finish_bundle(&mut self, ctx: &mut FinishBundleContext<'_, i64>) -> Result<(), DoFnError> {
        ctx.metrics().inc_counter("seen_at_finish", std::mem::take(&mut self.seen));
        ctx.metrics().update_distribution("bundle_size", 1);
        Ok(())
    }
}

fn metrics_from_finish_bundle(p: &Pipeline) -> Expect {
    let _ = p.apply(Create::new(0..3000i64)).apply_named("PerBundle", ParDo::of(PerBundle::default()));
    Expect::success().counter("PerBundle", "seen_at_finish", 3000).check(|r| {
        match r.metrics().distribution("PerBundle", "bundle_size") {
            Some(d) if d.count >= 1 => Ok(()),
            other => Err(format!("expected at least one bundle, got {other:?}")),
        }
    })
}

/// A composite of composites holding the measured step.
struct Outer;
struct Inner;

impl PTransform<PCollection<i64>> for Inner {
    type Output = PCollection<i64>;
    fn default_label(&self) -> String {
        "Inner".into()
    }
    fn expand(self, input: PCollection<i64>) -> PCollection<i64> {
        input.apply_named("Add", ParDo::of(AddN { n: 1 })).apply_named("Measure", ParDo::of(Measure))
    }
}

impl PTransform<PCollection<i64>> for Outer {
    type Output = PCollection<i64>;
    fn default_label(&self) -> String {
        "Outer".into()
    }
    fn expand(self, input: PCollection<i64>) -> PCollection<i64> {
        input.apply(Inner)
    }
}

fn metrics_nested_labels(p: &Pipeline) -> Expect {
    let out = p.apply(Create::new(vec![1i64, 2])).apply(Outer);
    assert_that(&out, contains_in_any_order(vec![2, 3]));
    Expect::success().counter("Outer/Inner/Measure", "elements", 2).counter("Inner/Measure", "elements", 2).check(|r| {
        let steps: Vec<&str> = r.metrics().counters().map(|(s, _, _)| s).collect();
        if steps.iter().all(|s| *s == "Outer/Inner/Measure") {
            Ok(())
        } else {
            Err(format!("counters reported under steps {steps:?}, expected only 'Outer/Inner/Measure'"))
        }
    })
}

fn metrics_same_dofn_two_steps(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![1i64, 2, 3]));
    let _ = xs.apply_named("First", ParDo::of(Measure));
    let _ = xs.apply(ParDo::of(AddN { n: 1 })).apply_named("Second", ParDo::of(Measure));
    Expect::success().counter("First", "elements", 3).counter("Second", "total", 9)
}

fn metrics_many_elements(p: &Pipeline) -> Expect {
    let _ = measured(p, (1..=100_000).collect());
    Expect::success().counter("Measure", "elements", 100_000).counter("Measure", "total", 5_000_050_000).check(|r| {
        match r.metrics().distribution("Measure", "values") {
            Some(d) if d.count == 100_000 && d.min == 1 && d.max == 100_000 => Ok(()),
            other => Err(format!("distribution 'values' over 1..=100000: got {other:?}")),
        }
    })
}
