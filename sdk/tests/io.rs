//! File IO end to end: real temp files, pipelines on the direct runner.
//! (Test names contain `io` so that `cargo test -p beamline io` runs them.)

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh, empty directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "beamline-io-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

mod io_read_text {
    use crate::TempDir;
    use beamline::io::*;
    use beamline::testing::{assert_that, contains_in_any_order};
    use beamline::{Map, Pipeline};
    use std::io::Write;

    fn pipeline() -> Pipeline {
        Pipeline::for_tests("direct", beamline_direct::runners())
    }

    fn strings(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn glob_over_several_files_with_gz_crlf_empty_and_no_final_newline() {
        let dir = TempDir::new("read-glob");
        dir.write("a.txt", b"one\ntwo\n");
        dir.write("b.txt", b"three\r\nfour\r\n\r\nfive");
        dir.write("c.txt", b"");
        dir.write("d.txt.gz", &gzip(b"six\nseven"));
        dir.write("skip.csv", b"not me\n");
        std::fs::create_dir(dir.0.join("sub.txt")).unwrap(); // a directory matching the glob is skipped
        let p = pipeline();
        let lines = p.apply(ReadFromText::new(dir.path("*.txt*")));
        assert_that(
            &lines,
            contains_in_any_order(strings(&["one", "two", "three", "four", "", "five", "six", "seven"])),
        );
        p.run().unwrap();
    }

    #[test]
    fn concatenated_gzip_members_are_all_read() {
        let dir = TempDir::new("read-multigz");
        let mut bytes = gzip(b"a\nb\n");
        bytes.extend(gzip(b"c\n"));
        let path = dir.write("f.gz", &bytes);
        let p = pipeline();
        assert_that(&p.apply(ReadFromText::new(path)), contains_in_any_order(strings(&["a", "b", "c"])));
        p.run().unwrap();
    }

    #[test]
    fn empty_file_gives_no_lines() {
        let dir = TempDir::new("read-empty");
        let path = dir.write("empty.txt", b"");
        let p = pipeline();
        assert_that(&p.apply(ReadFromText::new(path)), beamline::testing::is_empty());
        p.run().unwrap();
    }

    #[test]
    fn a_big_file_read_in_many_splits_gives_each_line_once() {
        let dir = TempDir::new("read-big");
        let expected: Vec<String> = (0..50_000).map(|i| format!("{i}:{}", "z".repeat(i % 31))).collect();
        let path = dir.write("big.txt", (expected.join("\n") + "\n").as_bytes());
        let p = pipeline();
        let lines = p.apply(ReadFromText::new(path).with_min_bundle_size(1000));
        assert_that(&lines, contains_in_any_order(expected));
        p.run().unwrap();
    }

    #[test]
    fn missing_input_is_one_line_naming_step_and_pattern() {
        let dir = TempDir::new("read-missing");
        let pattern = dir.path("missing-*.txt");
        let p = pipeline();
        let _ = p.apply_named("ReadLogs", ReadFromText::new(&pattern)).apply(Map::new(|s: &String| s.len()));
        let e = p.run().unwrap_err().to_string();
        assert_eq!(e, format!("step 'ReadLogs': {pattern}: no file matches this path or pattern"));
    }

    #[test]
    fn invalid_utf8_is_an_error_naming_file_and_line() {
        let dir = TempDir::new("read-utf8");
        let path = dir.write("bad.txt", b"fine\nalso fine\nnot \xc3\x28 fine\n");
        let p = pipeline();
        let _ = p.apply(ReadFromText::new(&path));
        let e = p.run().unwrap_err().to_string();
        assert!(e.starts_with(&format!("step 'ReadFromText': {path}: line 3 is not valid UTF-8")), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn graph_round_trip_reads_the_pattern_from_the_payload() {
        let dir = TempDir::new("read-graph");
        let path = dir.write("f.txt", b"x\ny\n");
        let p = pipeline();
        let _ = p.apply(ReadFromText::new(&path));
        let json = p.portable_graph_json().unwrap();
        assert!(json.contains("io:read_text") && json.contains("f.txt"), "{json}");
    }
}

mod io_write_text {
    use crate::TempDir;
    use beamline::io::*;
    use beamline::testing::{assert_that, contains_in_any_order};
    use beamline::{Create, DoFn, Map, ParDo, ProcessContext, WindowInto, WithTimestamps};
    use beamline::{DoFnError, Pipeline, Timestamp, WindowFn};
    use serde::{Deserialize, Serialize};
    use std::io::Read;

    fn pipeline() -> Pipeline {
        Pipeline::for_tests("direct", beamline_direct::runners())
    }

    fn lines(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("line {i}")).collect()
    }

    fn read(path: &str) -> String {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Names of everything under `dir`, hidden entries included.
    fn listing(dir: &std::path::Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn writes_shards_with_names_header_and_suffix_and_returns_them() {
        let dir = TempDir::new("write-shards");
        let prefix = dir.path("out/counts"); // `out/` does not exist yet
        let w = WriteToText::new(&prefix).with_num_shards(3).with_suffix(".csv").with_header("word,count");
        let names = w.file_names();
        let p = pipeline();
        let files = p.apply(Create::new(lines(100))).apply(w);
        assert_that(&files, contains_in_any_order(names.clone()));
        p.run().unwrap();
        assert_eq!(
            listing(&dir.0.join("out")),
            vec!["counts-00000-of-00003.csv", "counts-00001-of-00003.csv", "counts-00002-of-00003.csv"]
        );
        let mut all = Vec::new();
        for name in &names {
            let text = read(name);
            let mut it = text.lines();
            assert_eq!(it.next(), Some("word,count"));
            let shard: Vec<String> = it.map(String::from).collect();
            assert!((30..=36).contains(&shard.len()), "unbalanced shard of {} lines", shard.len());
            assert!(text.ends_with('\n'));
            all.extend(shard);
        }
        all.sort();
        let mut expected = lines(100);
        expected.sort();
        assert_eq!(all, expected);
    }

    #[test]
    fn default_is_one_file_with_lines_in_arrival_order() {
        let dir = TempDir::new("write-one");
        let prefix = dir.path("out");
        let p = pipeline();
        let _ = p.apply(Create::new(lines(10))).apply(WriteToText::new(&prefix));
        // The direct runner shuffles, so only the set of lines is fixed.
        p.run().unwrap();
        let text = read(&format!("{prefix}-00000-of-00001"));
        let mut got: Vec<&str> = text.lines().collect();
        got.sort();
        let expected = lines(10);
        let mut expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        expected.sort();
        assert_eq!(got, expected);
        assert_eq!(listing(&dir.0), vec!["out-00000-of-00001"], "the temp directory is removed");
    }

    #[test]
    fn empty_input_still_writes_every_shard() {
        let dir = TempDir::new("write-empty");
        let prefix = dir.path("e");
        let p = pipeline();
        let files = p
            .apply(Create::new(Vec::<String>::new()))
            .apply(WriteToText::new(&prefix).with_num_shards(2).with_header("h"));
        assert_that(
            &files,
            contains_in_any_order(vec![format!("{prefix}-00000-of-00002"), format!("{prefix}-00001-of-00002")]),
        );
        p.run().unwrap();
        assert_eq!(read(&format!("{prefix}-00000-of-00002")), "h\n");
        assert_eq!(read(&format!("{prefix}-00001-of-00002")), "h\n");
    }

    #[test]
    fn no_template_names_a_single_file() {
        let dir = TempDir::new("write-notemplate");
        let prefix = dir.path("result");
        let p = pipeline();
        let _ = p
            .apply(Create::new(vec!["x".to_string()]))
            .apply(WriteToText::new(&prefix).with_shard_name_template("").with_suffix(".txt"));
        p.run().unwrap();
        assert_eq!(read(&format!("{prefix}.txt")), "x\n");
    }

    #[test]
    fn gz_suffix_compresses() {
        let dir = TempDir::new("write-gz");
        let prefix = dir.path("z");
        let p = pipeline();
        let _ = p.apply(Create::new(vec!["a".to_string()])).apply(WriteToText::new(&prefix).with_suffix(".gz"));
        p.run().unwrap();
        let mut text = String::new();
        let file = std::fs::File::open(format!("{prefix}-00000-of-00001.gz")).unwrap();
        flate2::read::GzDecoder::new(file).read_to_string(&mut text).unwrap();
        assert_eq!(text, "a\n");
    }

    #[test]
    fn windowed_input_goes_to_the_same_files() {
        let dir = TempDir::new("write-windowed");
        let prefix = dir.path("w");
        let p = pipeline();
        let _ = p
            .apply(Create::new(vec![1i64, 70, 130]))
            .apply(WithTimestamps::new(|s: &i64| Timestamp::from_secs(*s)))
            .apply(WindowInto::new(WindowFn::fixed(std::time::Duration::from_secs(60))))
            .apply(Map::new(|s: &i64| s.to_string()))
            .apply(WriteToText::new(&prefix));
        p.run().unwrap();
        let mut got: Vec<String> = read(&format!("{prefix}-00000-of-00001")).lines().map(String::from).collect();
        got.sort();
        assert_eq!(got, vec!["1", "130", "70"]);
    }

    /// Fails on the line "boom" (after having passed others).
    #[derive(Clone, Serialize, Deserialize)]
    struct FailOn(String);
    impl DoFn for FailOn {
        type In = String;
        type Out = String;
        fn process(&mut self, x: &String, ctx: &mut ProcessContext<'_, String>) -> Result<(), DoFnError> {
            if *x == self.0 {
                return Err(DoFnError::new("boom"));
            }
            ctx.emit(x.clone());
            Ok(())
        }
    }

    #[test]
    fn a_failing_pipeline_leaves_no_output_file() {
        let dir = TempDir::new("write-fail");
        let prefix = dir.path("out/never");
        let mut input = lines(10_000);
        input.push("boom".into());
        let p = pipeline();
        let _ = p
            .apply(Create::new(input))
            .apply(ParDo::of(FailOn("boom".into())))
            .apply(WriteToText::new(&prefix).with_num_shards(4));
        let e = p.run().unwrap_err().to_string();
        assert!(e.contains("boom"), "{e}");
        let left: Vec<String> = if dir.0.join("out").exists() { listing(&dir.0.join("out")) } else { Vec::new() };
        assert!(left.iter().all(|n| !n.starts_with("never")), "final files after a failure: {left:?}");
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    #[test]
    fn an_unwritable_destination_is_an_error_and_leaves_nothing() {
        let dir = TempDir::new("write-unwritable");
        // A file where the output directory should be.
        dir.write("blocker", b"");
        let prefix = dir.path("blocker/out");
        let p = pipeline();
        let _ = p.apply(Create::new(lines(3))).apply(WriteToText::new(&prefix));
        let e = p.run().unwrap_err().to_string();
        assert!(e.contains("WriteToText/WriteTempShards") && e.contains("blocker"), "{e}");
        assert!(!e.contains('\n'));
        assert_eq!(listing(&dir.0), vec!["blocker"]);
    }

    #[test]
    fn a_bad_template_is_a_construction_error() {
        let p = pipeline();
        let _ =
            p.apply(Create::new(lines(1))).apply(WriteToText::new("x").with_num_shards(2).with_shard_name_template(""));
        let e = p.run().unwrap_err().to_string();
        assert!(e.contains("'WriteToText'") && e.contains("empty shard name template"), "{e}");
    }

    #[test]
    fn the_write_is_portable() {
        let dir = TempDir::new("write-graph");
        let p = pipeline();
        let _ = p.apply(Create::new(lines(1))).apply(WriteToText::new(dir.path("o")));
        let json = p.portable_graph_json().unwrap();
        for step in [
            "WriteToText/AssignShards",
            "WriteToText/GroupByShard",
            "WriteToText/WriteTempShards",
            "WriteToText/Finalize",
        ] {
            assert!(json.contains(step), "{step} missing");
        }
    }
}

mod io_json_lines {
    use crate::TempDir;
    use beamline::io::*;

    use beamline::testing::{assert_that, contains_in_any_order};
    use beamline::Create;
    use beamline::Pipeline;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Rec {
        name: String,
        n: i64,
        tags: Vec<String>,
    }

    fn recs(k: usize) -> Vec<Rec> {
        (0..k).map(|i| Rec { name: format!("r\"{i}\"\n"), n: i as i64 - 50, tags: vec!["é".repeat(i % 3)] }).collect()
    }

    #[test]
    fn json_lines_round_trip_through_shards_and_gzip() {
        let dir = TempDir::new("jsonl-roundtrip");
        for suffix in [".jsonl", ".jsonl.gz"] {
            let prefix = dir.path("recs");
            let p = Pipeline::for_tests("direct", beamline_direct::runners());
            let _ = p
                .apply(Create::new(recs(200)))
                .apply(WriteToJsonLines::new(&prefix).with_num_shards(3).with_suffix(suffix));
            p.run().unwrap();
            let p = Pipeline::for_tests("direct", beamline_direct::runners());
            let back = p
                .apply(ReadFromJsonLines::<Rec>::new(format!("{prefix}-*-of-00003{suffix}")).with_min_bundle_size(100));
            assert_that(&back, contains_in_any_order(recs(200)));
            p.run().unwrap();
        }
    }

    #[test]
    fn a_malformed_line_names_file_and_line() {
        let dir = TempDir::new("jsonl-malformed");
        let mut text = String::new();
        for i in 0..500 {
            text.push_str(&format!("{{\"name\":\"x\",\"n\":{i},\"tags\":[]}}\n"));
        }
        text.push_str("{\"name\":\"x\",\"n\":oops}\n");
        let path = dir.write("bad.jsonl", text.as_bytes());
        for min_bundle in [1_000_000, 1000] {
            let p = Pipeline::for_tests("direct", beamline_direct::runners());
            let _ = p.apply_named("ReadRecs", ReadFromJsonLines::<Rec>::new(&path).with_min_bundle_size(min_bundle));
            let e = p.run().unwrap_err().to_string();
            assert!(e.starts_with(&format!("step 'ReadRecs': {path}: line 501 is not valid JSON for ")), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
