//! Building pipelines: composite transforms and nested labels, label rules,
//! construction errors, and one pipeline holding every portable transform.

use crate::fns::{kvs, reify, secs, sort_group, strings, win, AddN, MeanFn, ModKey};
use crate::harness::{cell_dir, Expect, Test};
use beamline::graph::urns;
use beamline::graph::PipelineGraph;
use beamline::plan::capabilities::{self, MERGING_WINDOWS, MULTIPLE_OUTPUTS, SIDE_INPUTS};
use beamline::prelude::*;
use beamline::{Error, PipelineOptions, Singleton};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub(super) fn tests() -> Vec<Test> {
    vec![
        Test::new("empty_pipeline_runs", empty_pipeline_runs),
        Test::new("composite_nested_labels", composite_nested_labels),
        Test::new("composite_deeply_nested", composite_deeply_nested),
        Test::new("derived_labels_are_unique", derived_labels_are_unique),
        Test::new("duplicate_label_fails", duplicate_label_fails),
        Test::new("construction_error_reported_once", construction_error_reported_once),
        Test::new("pcollection_of_another_pipeline_fails", pcollection_of_another_pipeline_fails),
        Test::new("tagged_output_reserved_name_fails", tagged_output_reserved_name_fails).requires(&[MULTIPLE_OUTPUTS]),
        Test::new("graph_names_the_primitives", graph_names_the_primitives).requires(&[SIDE_INPUTS]),
        Test::new("runner_rejects_a_missing_capability", runner_rejects_a_missing_capability),
        Test::new("graph_round_trip_of_every_transform", graph_round_trip_of_every_transform).requires(&[
            SIDE_INPUTS,
            MULTIPLE_OUTPUTS,
            MERGING_WINDOWS,
        ]),
    ]
}

/// `AddOne` (a composite) inside `Pipeline` (a composite): labels nest.
struct AddTwice;
struct AddOne;

impl PTransform<PCollection<i64>> for AddOne {
    type Output = PCollection<i64>;
    fn default_label(&self) -> String {
        "AddOne".into()
    }
    fn expand(self, input: PCollection<i64>) -> PCollection<i64> {
        input.apply(ParDo::of(AddN { n: 1 }))
    }
}

impl PTransform<PCollection<i64>> for AddTwice {
    type Output = PCollection<i64>;
    fn default_label(&self) -> String {
        "AddTwice".into()
    }
    fn expand(self, input: PCollection<i64>) -> PCollection<i64> {
        input.apply(AddOne).apply(AddOne)
    }
}

fn labels(p: &Pipeline) -> Vec<String> {
    p.graph().transforms.into_iter().map(|t| t.label).collect()
}

fn has_labels(p: &Pipeline, want: &[&str]) -> Result<(), String> {
    let got = labels(p);
    match want.iter().find(|w| !got.iter().any(|g| g == *w)) {
        None => Ok(()),
        Some(w) => Err(format!("no step labelled '{w}'; labels: {got:?}")),
    }
}

fn composite_nested_labels(p: &Pipeline) -> Expect {
    let out = p.apply(Create::new(vec![1i64])).apply_named("Twice", AddTwice);
    assert_that(&out, contains_in_any_order(vec![3]));
    let check = has_labels(p, &["Twice", "Twice/AddOne", "Twice/AddOne/ParDo(AddN)", "Twice/AddOne2/ParDo(AddN)"]);
    let parents =
        p.graph().transforms.iter().find(|t| t.label == "Twice").map(|t| t.subtransforms.clone()).unwrap_or_default();
    let check = check.and_then(|()| {
        if parents == ["Twice/AddOne", "Twice/AddOne2"] {
            Ok(())
        } else {
            Err(format!("'Twice' lists sub-transforms {parents:?}"))
        }
    });
    Expect::success().and_built(check)
}

fn empty_pipeline_runs(_: &Pipeline) -> Expect {
    Expect::success()
}

/// Wraps `depth` levels of composites around one step.
struct Nest(usize);

impl PTransform<PCollection<i64>> for Nest {
    type Output = PCollection<i64>;
    fn default_label(&self) -> String {
        format!("L{}", self.0)
    }
    fn expand(self, input: PCollection<i64>) -> PCollection<i64> {
        match self.0 {
            0 => input.apply(ParDo::of(AddN { n: 1 })),
            d => input.apply(Nest(d - 1)),
        }
    }
}

fn composite_deeply_nested(p: &Pipeline) -> Expect {
    let out = p.apply(Create::new(vec![1i64])).apply(Nest(30));
    assert_that(&out, contains_in_any_order(vec![2]));
    let label: String = (0..=30).rev().map(|d| format!("L{d}/")).collect::<String>() + "ParDo(AddN)";
    Expect::success().and_built(has_labels(p, &[&label]))
}

fn derived_labels_are_unique(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![1i64]));
    let a = xs.apply(ParDo::of(AddN { n: 1 }));
    let b = xs.apply(ParDo::of(AddN { n: 2 }));
    let c = xs.apply(ParDo::of(AddN { n: 3 }));
    assert_that(&vec![a, b, c].apply(Flatten::new()), contains_in_any_order(vec![2, 3, 4]));
    Expect::success().and_built(has_labels(p, &["ParDo(AddN)", "ParDo(AddN)2", "ParDo(AddN)3"]))
}

fn duplicate_label_fails(p: &Pipeline) -> Expect {
    let _ = p.apply_named("Numbers", Create::new(vec![1i64]));
    let _ = p.apply_named("Numbers", Create::new(vec![2i64]));
    Expect::construction_error("duplicate label 'Numbers'")
}

/// The error says "pipeline construction:" once, however it is reached
/// (`run`, or dumping the graph first as the `+graph` column does).
fn construction_error_reported_once(p: &Pipeline) -> Expect {
    let _ = p.apply_named("Numbers", Create::new(vec![1i64]));
    let _ = p.apply_named("Numbers", Create::new(vec![2i64]));
    Expect::construction_error("duplicate label 'Numbers'").and_error(|e| {
        let text = e.to_string();
        if text.matches("pipeline construction:").count() == 1 {
            Ok(())
        } else {
            Err(format!("the message repeats its prefix: {text}"))
        }
    })
}

fn pcollection_of_another_pipeline_fails(p: &Pipeline) -> Expect {
    let other = Pipeline::new(p.options(), crate::runners());
    let foreign = other.apply(Create::new(vec![1i64]));
    let _ = p.apply(Create::new(vec![0i64]));
    let _ = p.apply_to(Some("Stray".into()), foreign, ParDo::of(AddN { n: 1 }));
    Expect::construction_error("'Stray' is applied to a PCollection of another pipeline")
}

#[derive(Clone, Serialize, Deserialize)]
struct Misnamed {
    tag: TupleTag<i64>,
}

impl DoFn for Misnamed {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        ctx.emit(*x);
        Ok(())
    }
}

fn tagged_output_reserved_name_fails(p: &Pipeline) -> Expect {
    let tag = TupleTag::<i64>::new("out");
    let _ = p
        .apply(Create::new(vec![1i64]))
        .apply_named("Split", ParDo::of(Misnamed { tag: tag.clone() }).with_output(&tag));
    Expect::construction_error("reserved name 'out'")
}

/// The graph shows each primitive under its URN and the per-key combine as a
/// composite a runner may lift.
fn graph_names_the_primitives(p: &Pipeline) -> Expect {
    let xs = p.apply(Create::new(vec![1i64, 2, 3]));
    let _ = p.apply(Impulse);
    let sums = xs.apply(ParDo::of(ModKey { k: 2 })).apply(Combine::per_key(Sum::<i64>::new()));
    let windowed = xs.apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))));
    let both = vec![xs.clone(), xs].apply(Flatten::new());
    let _ = both.apply(ParDo::of(ModKey { k: 3 })).apply(GroupByKey::new());
    assert_that(&sums, contains_in_any_order(vec![(0i64, 2i64), (1, 4)]));
    assert_that(&windowed, contains_in_any_order(vec![1, 2, 3]));
    let graph = p.graph();
    let urn_of = |label: &str| graph.transforms.iter().find(|t| t.label == label).map(|t| t.urn.clone());
    let want = [
        ("Create", urns::READ),
        ("Impulse", urns::IMPULSE),
        ("ParDo(ModKey)", urns::PAR_DO),
        ("CombinePerKey(Sum)", urns::COMBINE_PER_KEY),
        ("CombinePerKey(Sum)/GroupByKey", urns::GROUP_BY_KEY),
        ("WindowInto", urns::WINDOW_INTO),
        ("Flatten", urns::FLATTEN),
        ("GroupByKey", urns::GROUP_BY_KEY),
    ];
    let check = want.iter().try_for_each(|(label, urn)| match urn_of(label) {
        Some(u) if u == *urn => Ok(()),
        other => Err(format!("step '{label}' has URN {other:?}, expected {urn}; labels: {:?}", labels(p))),
    });
    Expect::success().and_built(check)
}

/// Main output: `x + offset`; tagged `small`: x when x < 3.
#[derive(Clone, Serialize, Deserialize)]
struct Everything {
    offset: SideInput<Singleton<i64>>,
    small: TupleTag<i64>,
}

impl DoFn for Everything {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        if *x < 3 {
            ctx.output(&self.small, *x)?;
        }
        let o = *ctx.side_input(&self.offset)?;
        ctx.emit(x + o);
        Ok(())
    }
}

/// Every portable transform in one pipeline; its `+graph` column is the
/// round trip of all of them together.
fn graph_round_trip_of_every_transform(p: &Pipeline) -> Expect {
    let xs = p.apply_named("Numbers", Create::timestamped((1..=6i64).map(|x| (x, secs(x * 4)))));
    let offset = p.apply_named("Offset", Create::new(vec![100i64])).as_singleton();
    let small = TupleTag::<i64>::new("small");
    let out = xs.apply(
        ParDo::of(Everything { offset: offset.clone(), small: small.clone() })
            .with_side_input(&offset)
            .with_output(&small),
    );
    assert_that(&out.main(), contains_in_any_order(101..=106i64));
    assert_that(&out.get(&small), contains_in_any_order(vec![1, 2]));
    let keyed = xs.apply(ParDo::of(ModKey { k: 2 }));
    assert_that(&keyed.apply(Keys::new()), contains_in_any_order(vec![1, 0, 1, 0, 1, 0]));
    assert_that(&keyed.apply(Values::new()), contains_in_any_order(1..=6i64));
    assert_that(
        &keyed.apply(KvSwap::new()).apply(Count::per_key()),
        contains_in_any_order((1..=6i64).map(|x| (x, 1u64))),
    );
    let grouped = keyed.apply(GroupByKey::new()).apply(sort_group());
    assert_that(&grouped, contains_in_any_order(vec![(0i64, vec![2i64, 4, 6]), (1, vec![1, 3, 5])]));
    assert_that(
        &grouped.apply(Combine::grouped_values(Sum::<i64>::new())),
        contains_in_any_order(vec![(0i64, 12i64), (1, 9)]),
    );
    assert_that(&keyed.apply(Combine::per_key(Sum::<i64>::new())), contains_in_any_order(vec![(0i64, 12i64), (1, 9)]));
    assert_that(&xs.apply(Combine::globally(MeanFn)), contains_in_any_order(vec![3.5f64]));
    assert_that(&xs.apply(Count::globally()), contains_in_any_order(vec![6u64]));
    let fixed = xs.apply_named("Fixed", WindowInto::new(WindowFn::fixed(Duration::from_secs(10))));
    assert_that(
        &fixed.apply_named("SumFixed", Combine::globally(Sum::<i64>::new())).apply(reify()),
        contains_in_any_order(vec![
            (3i64, win(0, 10).max_timestamp(), win(0, 10)),
            (7, win(10, 20).max_timestamp(), win(10, 20)),
            (11, win(20, 30).max_timestamp(), win(20, 30)),
        ]),
    );
    let sliding =
        xs.apply_named("Sliding", WindowInto::new(WindowFn::sliding(Duration::from_secs(10), Duration::from_secs(5))));
    assert_that_in_window(
        &sliding.apply_named("CountSliding", Count::per_element()),
        win(5, 15),
        contains_in_any_order(vec![(2i64, 1u64), (3, 1)]),
    );
    let sessions = keyed.apply_named("Sessions", WindowInto::new(WindowFn::sessions(Duration::from_secs(10))));
    assert_that(
        &sessions
            .apply_named("SessionSums", Combine::per_key(Sum::<i64>::new()))
            .apply_named("SessionWindows", reify()),
        contains_in_any_order(vec![
            ((0i64, 12i64), win(8, 34).max_timestamp(), win(8, 34)),
            ((1, 9), win(4, 30).max_timestamp(), win(4, 30)),
        ]),
    );
    let words = p.apply_named("Words", Create::new(strings(&["a", "b", "a"])));
    let units = p.apply(Impulse).apply(ParDo::of(UnitToWord));
    let all_words = vec![words, units].apply(Flatten::new());
    assert_that(
        &all_words.apply(Count::per_element()),
        contains_in_any_order(kvs(&[("a", 2u64), ("b", 1), ("impulse", 1)])),
    );
    let check = p.portable_graph_json().map(|_| ()).map_err(|e| format!("the pipeline should be portable: {e}"));
    Expect::success().and_built(check)
}

#[derive(Clone, Serialize, Deserialize)]
struct UnitToWord;

impl DoFn for UnitToWord {
    type In = ();
    type Out = String;
    fn process(&mut self, _: &(), ctx: &mut ProcessContext<'_, String>) -> Result<(), DoFnError> {
        ctx.emit("impulse".into());
        Ok(())
    }
}

fn needy(p: &Pipeline) {
    let xs = p.apply(Create::new(vec![1i64])).apply_named("Needy", ParDo::of(AddN { n: 1 }));
    assert_that(&xs, contains_in_any_order(vec![2]));
}

/// A graph whose step asks for a capability the runner lacks is rejected
/// with an error naming the runner, the step and the capability (never run
/// some other way). The graph is the test's own, edited.
fn runner_rejects_a_missing_capability(p: &Pipeline) -> Expect {
    needy(p);
    let options = p.options();
    let json = p.portable_graph_json();
    Expect::success().check(move |_| {
        let runner = crate::runners().get(&options.runner).map_err(|e| e.to_string())?;
        let Some(missing) = capabilities::ALL.iter().find(|c| !runner.capabilities().contains(c)) else {
            return Ok(()); // The runner has every capability: nothing to reject.
        };
        let json = json.as_ref().map_err(|e| e.to_string())?;
        let mut graph = PipelineGraph::from_json(json).map_err(|e| e.to_string())?;
        for t in graph.transforms.iter_mut().filter(|t| t.label == "Needy") {
            t.requirements.push(missing.to_string());
        }
        let path = cell_dir().with_extension("needy.json");
        std::fs::write(&path, graph.to_json().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        let q = Pipeline::new(PipelineOptions { graph: Some(path.clone()), ..options.clone() }, crate::runners());
        needy(&q);
        let result = q.run();
        let _ = std::fs::remove_file(&path);
        match result {
            Err(Error::Unsupported { runner: r, label, capability })
                if r == runner.name() && label == "Needy" && capability == *missing =>
            {
                Ok(())
            }
            Err(e) => Err(format!(
                "expected runner '{}' to reject step 'Needy' for lacking '{missing}', got: {e}",
                runner.name()
            )),
            Ok(_) => Err(format!("runner '{}' ran a step needing '{missing}', which it lacks", runner.name())),
        }
    })
}
