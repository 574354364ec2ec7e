//! Checks of the direct runner's own duties (it is the one that catches
//! user mistakes): they run on the direct runner only.

use crate::harness::{cell_token, Expect, Test};
use beamline::coder::Coder;
use beamline::prelude::*;
use beamline::Error;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

pub(super) fn tests() -> Vec<Test> {
    [
        Test::new("direct_detects_a_mutating_dofn", direct_detects_a_mutating_dofn),
        Test::new("direct_round_trips_elements_through_coders", direct_round_trips_elements_through_coders),
        Test::new("direct_shuffles_bundle_order", direct_shuffles_bundle_order),
        Test::new("direct_reports_coder_errors", direct_reports_coder_errors),
    ]
    .into_iter()
    .map(|t| t.only_on(&["direct"]))
    .collect()
}

/// An element with interior mutability, so a DoFn can (wrongly) change its input.
#[derive(Debug, Serialize, Deserialize)]
struct Counter(AtomicI64);

impl Clone for Counter {
    fn clone(&self) -> Self {
        Counter(AtomicI64::new(self.0.load(Ordering::Relaxed)))
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Sneaky;

impl DoFn for Sneaky {
    type In = Counter;
    type Out = i64;
    fn process(&mut self, c: &Counter, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        ctx.emit(c.0.fetch_add(1, Ordering::Relaxed));
        Ok(())
    }
}

fn direct_detects_a_mutating_dofn(p: &Pipeline) -> Expect {
    let _ = p.apply(Create::new(vec![Counter(AtomicI64::new(1))])).apply_named("Sneaky", ParDo::of(Sneaky));
    Expect::user_error("Sneaky", "mutated its input")
}

/// A type whose serialization drops a field: after the direct runner's coder
/// round trip the next step sees it reset, as it would across processes.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Lossy {
    v: i64,
    #[serde(skip)]
    cache: Option<i64>,
}

#[derive(Clone, Serialize, Deserialize)]
struct MakeLossy;

impl DoFn for MakeLossy {
    type In = i64;
    type Out = Lossy;
    fn process(&mut self, v: &i64, ctx: &mut ProcessContext<'_, Lossy>) -> Result<(), DoFnError> {
        ctx.emit(Lossy { v: *v, cache: Some(*v) });
        Ok(())
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct ReadCache;

impl DoFn for ReadCache {
    type In = Lossy;
    type Out = (i64, Option<i64>);
    fn process(&mut self, l: &Lossy, ctx: &mut ProcessContext<'_, (i64, Option<i64>)>) -> Result<(), DoFnError> {
        ctx.emit((l.v, l.cache));
        Ok(())
    }
}

fn direct_round_trips_elements_through_coders(p: &Pipeline) -> Expect {
    let out = p.apply(Create::new(vec![1i64, 2])).apply(ParDo::of(MakeLossy)).apply(ParDo::of(ReadCache));
    assert_that(&out, contains_in_any_order(vec![(1, None), (2, None)]));
    Expect::success()
}

static SEEN: Mutex<Option<HashMap<u64, Vec<i64>>>> = Mutex::new(None);

/// Records the order it sees elements in.
#[derive(Clone, Serialize, Deserialize)]
struct RecordOrder {
    token: u64,
}

impl DoFn for RecordOrder {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        if let Ok(mut g) = SEEN.lock() {
            g.get_or_insert_with(HashMap::new).entry(self.token).or_default().push(*x);
        }
        ctx.emit(*x);
        Ok(())
    }
}

/// The direct runner shuffles bundles and elements (from `--direct-seed`), so
/// code that depends on order fails there first.
fn direct_shuffles_bundle_order(p: &Pipeline) -> Expect {
    let token = cell_token();
    // Enough elements for hundreds of bundles: their order is shuffled.
    let _ = p.apply(Create::new(0..100_000i64)).apply(ParDo::of(RecordOrder { token }));
    Expect::success().check(move |_| {
        let seen = SEEN.lock().ok().and_then(|mut g| g.as_mut().and_then(|m| m.remove(&token))).unwrap_or_default();
        if seen.len() != 100_000 {
            return Err(format!("saw {} elements, expected 100000", seen.len()));
        }
        if seen.windows(2).all(|w| w[0] < w[1]) {
            return Err("elements arrived in input order: the direct runner did not shuffle".into());
        }
        Ok(())
    })
}

/// A coder that cannot encode 13.
struct NoThirteen;

impl Coder<i64> for NoThirteen {
    fn encode(&self, v: &i64, out: &mut Vec<u8>) -> Result<(), String> {
        if *v == 13 {
            return Err("13 is not encodable".into());
        }
        out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn decode(&self, b: &[u8]) -> Result<i64, String> {
        Ok(i64::from_le_bytes(b.try_into().map_err(|_| format!("expected 8 bytes, got {}", b.len()))?))
    }
    fn name(&self) -> String {
        "conformance:coder:no_thirteen:v1".into()
    }
}

/// The direct runner encodes every element, so a coder that fails is caught
/// (a runner that never leaves the process may never call it).
fn direct_reports_coder_errors(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![12i64])).apply_named("Plus1", ParDo::of(crate::fns::AddN { n: 1 }));
    xs.set_coder(NoThirteen);
    Expect::error(|e| match e {
        Error::Coder { label, message } if label == "Plus1" && message.contains("13 is not encodable") => Ok(()),
        other => Err(format!("expected a coder error of 'Plus1', got: {other}")),
    })
}
