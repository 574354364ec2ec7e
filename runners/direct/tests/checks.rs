//! The direct runner's checks: each catches a user bug, and each can be turned off.

use beamline::prelude::*;
use beamline::{NoOptions, PipelineOptions};
use serde::{Deserialize, Serialize, Serializer};
use std::sync::{Arc, Mutex};

fn pipeline(flags: &[&str]) -> Pipeline {
    let mut args = vec!["test"];
    args.extend_from_slice(flags);
    let (opts, NoOptions {}) = PipelineOptions::parse_from::<NoOptions>(args, &beamline_direct::runners()).unwrap();
    Pipeline::new(opts, beamline_direct::runners())
}

/// An element with interior mutability: a DoFn can change it through `&`.
#[derive(Debug, Clone, Deserialize)]
struct Shared(#[serde(with = "locked")] Arc<Mutex<i64>>);

mod locked {
    use super::*;
    pub(super) fn serialize<S: Serializer>(v: &Arc<Mutex<i64>>, s: S) -> Result<S::Ok, S::Error> {
        v.lock().unwrap().serialize(s)
    }
    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Arc<Mutex<i64>>, D::Error> {
        Ok(Arc::new(Mutex::new(i64::deserialize(d)?)))
    }
}

impl Serialize for Shared {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        locked::serialize(&self.0, s)
    }
}

fn mutating(p: &Pipeline) {
    let _ = p.apply(Create::new(vec![Shared(Arc::new(Mutex::new(1)))])).apply_named(
        "Sneaky",
        Map::new(|s: &Shared| {
            *s.0.lock().unwrap() += 1;
            0u8
        }),
    );
}

#[test]
fn immutability_check_catches_a_dofn_that_mutates_its_input() {
    let p = pipeline(&[]);
    mutating(&p);
    let e = p.run().unwrap_err().to_string();
    assert!(e.contains("step 'Sneaky'") && e.contains("mutated its input"), "{e}");
}

#[test]
fn immutability_check_can_be_turned_off() {
    let p = pipeline(&["--direct-immutability-check=false"]);
    mutating(&p);
    p.run().unwrap();
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Lossy {
    kept: i64,
    #[serde(skip)]
    dropped: i64,
}

fn lossy(p: &Pipeline, expect_dropped: i64) {
    let xs = p.apply(Create::new(vec![1i64])).apply(Map::new(|x: &i64| Lossy { kept: *x, dropped: 7 }));
    assert_that(&xs.apply(Map::new(|l: &Lossy| l.dropped)), contains_in_any_order(vec![expect_dropped]));
}

#[test]
fn coder_check_round_trips_every_element() {
    // A field the coder does not carry is lost, as it would be across processes.
    let p = pipeline(&[]);
    lossy(&p, 0);
    p.run().unwrap();
    let p = pipeline(&["--direct-coder-check=false"]);
    lossy(&p, 7);
    p.run().unwrap();
}

#[derive(Debug, Clone, Deserialize)]
struct Unencodable;
impl Serialize for Unencodable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("no encoding for this value"))
    }
}

#[test]
fn coder_failures_name_the_step() {
    let p = pipeline(&[]);
    let _ = p.apply(Create::new(vec![1i64])).apply_named("MakeBad", Map::new(|_: &i64| Unencodable));
    let e = p.run().unwrap_err().to_string();
    assert!(e.contains("coder of 'MakeBad'") && e.contains("cannot encode Unencodable"), "{e}");
}

/// Collects the order elements arrive in, to see the shuffle.
fn arrival_order(flags: &[&str]) -> Vec<i64> {
    let p = pipeline(flags);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let _ = p.apply(Create::new(0..100_000i64)).apply(Map::new(move |x: &i64| {
        s.lock().unwrap().push(*x);
        *x
    }));
    p.run().unwrap();
    let v = seen.lock().unwrap().clone();
    v
}

#[test]
fn bundle_order_is_shuffled_from_the_seed() {
    let a = arrival_order(&["--direct-seed=1"]);
    let b = arrival_order(&["--direct-seed=1"]);
    let c = arrival_order(&["--direct-seed=2"]);
    let plain = arrival_order(&["--direct-shuffle=false"]);
    assert_eq!(a, b, "the same seed gives the same order");
    assert_ne!(a, c, "another seed gives another order");
    assert_eq!(plain, (0..100_000).collect::<Vec<_>>());
    let mut sorted = a.clone();
    sorted.sort();
    assert_eq!(sorted, plain, "every element exactly once");
}

#[derive(Clone, Default, Serialize, Deserialize)]
struct Lifecycle;

impl DoFn for Lifecycle {
    type In = i64;
    type Out = i64;
    fn setup(&mut self) -> Result<(), DoFnError> {
        Ok(())
    }
    fn start_bundle(&mut self) -> Result<(), DoFnError> {
        Ok(())
    }
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        ctx.metrics().inc_counter("processed", 1);
        ctx.emit(*x);
        Ok(())
    }
    fn finish_bundle(&mut self, ctx: &mut FinishBundleContext<'_, i64>) -> Result<(), DoFnError> {
        ctx.metrics().inc_counter("bundles", 1);
        Ok(())
    }
    fn teardown(&mut self) -> Result<(), DoFnError> {
        Err(DoFnError::new("teardown failed on purpose"))
    }
}

#[test]
fn teardown_errors_surface_after_the_run() {
    let p = pipeline(&[]);
    let _ = p.apply(Create::new(0..10i64)).apply(ParDo::of(Lifecycle));
    let e = p.run().unwrap_err().to_string();
    assert!(e.contains("ParDo(Lifecycle)") && e.contains("<teardown>") && e.contains("on purpose"), "{e}");
}
