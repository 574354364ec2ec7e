//! The portable graph and the options: round trips, and one clear error for
//! each kind of bad input.

use beamline::graph::PipelineGraph;
use beamline::plan::ExecutionPlan;
use beamline::prelude::*;
use beamline::runner::Runner;
use beamline::{Error, NoOptions, PipelineResult};
use std::path::PathBuf;

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("beamline-sdk-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct AddN {
    n: i64,
}

impl DoFn for AddN {
    type In = i64;
    type Out = i64;
    fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        ctx.emit(x + self.n);
        Ok(())
    }
}

fn add_pipeline(options: PipelineOptions, expected: Vec<i64>) -> Pipeline {
    let p = Pipeline::new(options, beamline_direct::runners());
    let out = p.apply(Create::new(vec![1i64, 2, 3])).apply(ParDo::of(AddN { n: 10 }));
    assert_that(&out, contains_in_any_order(expected));
    p
}

#[test]
fn dump_then_run_from_graph_uses_the_files_payload() {
    let path = temp_path("add.json");
    let mut opts = PipelineOptions::for_runner("direct");
    opts.dump_graph = Some(path.clone());
    let r = add_pipeline(opts, vec![11, 12, 13]).run().unwrap();
    assert_eq!(r.dumped_graph(), Some(path.as_path()));
    // Edit payloads in the file (the DoFn's field and the assertion's
    // expectation, which travels in the graph too): the rebuilt run uses them.
    let mut g: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for t in g["transforms"].as_array_mut().unwrap() {
        match t["label"].as_str().unwrap() {
            "ParDo(AddN)" => t["payload"]["do_fn"]["n"] = 100.into(),
            "AssertThat/Check" => {
                t["payload"]["do_fn"]["matcher"]["ContainsInAnyOrder"] = serde_json::json!([101, 102, 103])
            }
            _ => {}
        }
    }
    std::fs::write(&path, g.to_string()).unwrap();
    let mut opts = PipelineOptions::for_runner("direct");
    opts.graph = Some(path.clone());
    // The code's own expectation (11, 12, 13) is not what runs: the file's is.
    add_pipeline(opts, vec![11, 12, 13]).run().unwrap();
}

#[test]
fn graph_json_round_trips() {
    let p = add_pipeline(PipelineOptions::for_runner("direct"), vec![11, 12, 13]);
    let json = p.portable_graph_json().unwrap();
    let g = PipelineGraph::from_json(&json).unwrap();
    assert_eq!(g, p.graph());
    assert!(g.transforms.iter().any(|t| t.label == "AssertThat/Check"));
}

#[test]
fn dumping_a_closure_names_the_step_and_the_fix() {
    let p = Pipeline::for_tests("direct", beamline_direct::runners());
    let _ = p.apply(Create::new(vec![1i64])).apply_named("Double", Map::new(|x: &i64| x * 2));
    let e = p.portable_graph_json().unwrap_err().to_string();
    assert!(e.contains("'Double'") && e.contains("DoFn") && e.contains("ParDo::of"), "{e}");
}

fn run_graph_text(text: &str) -> Error {
    let path = temp_path(&format!("bad-{}.json", text.len()));
    std::fs::write(&path, text).unwrap();
    let mut opts = PipelineOptions::for_runner("direct");
    opts.graph = Some(path);
    add_pipeline(opts, vec![11, 12, 13]).run().unwrap_err()
}

fn good_graph() -> serde_json::Value {
    let p = add_pipeline(PipelineOptions::for_runner("direct"), vec![11, 12, 13]);
    serde_json::from_str(&p.portable_graph_json().unwrap()).unwrap()
}

#[test]
fn malformed_graphs_get_precise_errors() {
    let e = run_graph_text("{ \"version\": ").to_string();
    assert!(e.contains("malformed JSON") && e.contains(".json"), "{e}");

    let mut g = good_graph();
    g["transforms"][1]["urn"] = "beamline:transform:nope:v1".into();
    let e = run_graph_text(&g.to_string()).to_string();
    assert!(e.contains("unknown URN 'beamline:transform:nope:v1'"), "{e}");

    let mut g = good_graph();
    g["transforms"][1]["function"] = "pardo:my::Missing".into();
    let e = run_graph_text(&g.to_string()).to_string();
    assert!(e.contains("function 'pardo:my::Missing' is not registered"), "{e}");

    let mut g = good_graph();
    g["transforms"][1]["payload"] = serde_json::json!({"do_fn": {"n": "ten"}});
    let e = run_graph_text(&g.to_string()).to_string();
    assert!(e.contains("bad DoFn payload"), "{e}");

    let mut g = good_graph();
    g["transforms"][1]["inputs"] = serde_json::json!(["nowhere"]);
    let e = run_graph_text(&g.to_string()).to_string();
    assert!(e.contains("unknown PCollection 'nowhere'"), "{e}");

    let mut g = good_graph();
    g["version"] = "beamline:graph:v0".into();
    let e = run_graph_text(&g.to_string()).to_string();
    assert!(e.contains("expected 'beamline:graph:v1'"), "{e}");
}

#[test]
fn missing_graph_file_names_the_flag_and_file() {
    let mut opts = PipelineOptions::for_runner("direct");
    opts.graph = Some(PathBuf::from("/nonexistent/graph.json"));
    let e = add_pipeline(opts, vec![]).run().unwrap_err().to_string();
    assert!(e.contains("--graph") && e.contains("/nonexistent/graph.json"), "{e}");
}

#[test]
fn bad_flags_get_one_line_listing_valid_ones() {
    let runners = beamline_direct::runners();
    let e = PipelineOptions::parse_from::<NoOptions>(["p", "--runner=nope"], &runners).unwrap_err().to_string();
    assert_eq!(e, "error: unknown runner 'nope' for '--runner'; linked runners: direct");
    let e = PipelineOptions::parse_from::<NoOptions>(["p", "--bogus"], &runners).unwrap_err().to_string();
    assert!(e.starts_with("error: unknown flag '--bogus'; valid flags: --runner, --workers"), "{e}");
    assert!(e.contains("--direct-seed") && !e.contains('\n'), "{e}");
    let e = PipelineOptions::parse_from::<NoOptions>(["p", "--workers=x"], &runners).unwrap_err().to_string();
    assert!(e.contains("'x'") && e.contains("--workers") && !e.contains('\n'), "{e}");
    let e = PipelineOptions::parse_from::<NoOptions>(["p", "--workers=0"], &runners).unwrap_err().to_string();
    assert!(e.contains("--workers"), "{e}");
    match PipelineOptions::parse_from::<NoOptions>(["p", "--help"], &runners) {
        Err(Error::Help(text)) => assert!(text.contains("--dump-graph") && text.contains("--direct-seed")),
        other => panic!("expected help, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn a_bad_runner_flag_value_names_the_flag() {
    let (opts, NoOptions {}) =
        PipelineOptions::parse_from::<NoOptions>(["p", "--direct-seed=abc"], &beamline_direct::runners()).unwrap();
    let e = add_pipeline(opts, vec![11, 12, 13]).run().unwrap_err().to_string();
    assert!(e.contains("'abc'") && e.contains("--direct-seed"), "{e}");
}

/// A runner that supports nothing optional, to check capability rejection.
struct Minimal;
impl Runner for Minimal {
    fn name(&self) -> &'static str {
        "minimal"
    }
    fn capabilities(&self) -> &[&'static str] {
        &[]
    }
    fn run(&self, _: ExecutionPlan, _: &PipelineOptions) -> beamline::Result<PipelineResult> {
        panic!("must be rejected before running")
    }
}

#[test]
fn a_runner_rejects_a_missing_capability_before_running() {
    let p = Pipeline::for_tests("minimal", Runners::new().with(Minimal));
    let xs = p.apply(Create::new(vec![1i64]));
    let side = p.apply_named("Side", Create::new(vec![5i64])).as_singleton();
    #[derive(Clone)]
    struct AddSide(beamline::SideInput<beamline::Singleton<i64>>);
    impl DoFn for AddSide {
        type In = i64;
        type Out = i64;
        fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
            let s = *ctx.side_input(&self.0)?;
            ctx.emit(x + s);
            Ok(())
        }
    }
    let _ = xs.apply_named("AddSide", ParDo::local(AddSide(side.clone())).with_side_input(&side));
    let e = p.run().unwrap_err().to_string();
    assert_eq!(e, "runner 'minimal' cannot run step 'AddSide': it lacks the capability 'side_inputs'");
}

#[test]
fn duplicate_and_foreign_pcollection_errors() {
    let p = Pipeline::for_tests("direct", beamline_direct::runners());
    let _ = p.apply_named("Same", Create::new(vec![1i64]));
    let _ = p.apply_named("Same", Create::new(vec![2i64]));
    let e = p.run().unwrap_err().to_string();
    assert!(e.contains("duplicate label 'Same'"), "{e}");

    let p1 = Pipeline::for_tests("direct", beamline_direct::runners());
    let p2 = Pipeline::for_tests("direct", beamline_direct::runners());
    let xs = p1.apply(Create::new(vec![1i64]));
    let _ = p2.apply_to(Some("Foreign".into()), xs, Map::new(|x: &i64| *x));
    let e = p2.run().unwrap_err().to_string();
    assert!(e.contains("another pipeline"), "{e}");
}

#[test]
fn derived_labels_are_unique_and_nested() {
    let p = Pipeline::for_tests("direct", beamline_direct::runners());
    let xs = p.apply(Create::new(vec![1i64]));
    let _ = xs.apply(Map::new(|x: &i64| *x));
    let _ = xs.apply(Map::new(|x: &i64| *x));
    let _ = xs.apply(Count::globally());
    let labels: Vec<String> = p.graph().transforms.iter().map(|t| t.label.clone()).collect();
    assert!(labels.contains(&"Map".to_string()) && labels.contains(&"Map2".to_string()), "{labels:?}");
    assert!(labels.iter().any(|l| l == "CombineGlobally(Count)/CombinePerKey/GroupByKey"), "{labels:?}");
}

#[test]
fn user_errors_and_panics_name_label_runner_and_element() {
    let p = Pipeline::for_tests("direct", beamline_direct::runners());
    let _ = p.apply(Create::new(vec!["ok".to_string(), "boom".to_string()])).apply_named(
        "Explode",
        Map::new(|s: &String| {
            assert!(s != "boom", "cannot handle {s}");
            s.len()
        }),
    );
    let e = p.run().unwrap_err().to_string();
    assert!(
        e.starts_with("step 'Explode' failed on runner 'direct' processing \"boom\": panicked: cannot handle boom"),
        "{e}"
    );
}
