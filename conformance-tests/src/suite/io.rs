//! File IO: `ReadFromText`, `WriteToText`, `ReadFromJsonLines`,
//! `WriteToJsonLines`. Each cell works in a directory of its own
//! ([`cell_dir`]), which the harness removes afterwards.

use crate::fns::{secs, strings};
use crate::harness::{cell_dir, Expect, Test};
use beamline::io::{ReadFromJsonLines, ReadFromText, WriteToJsonLines, WriteToText};
use beamline::plan::capabilities::SIDE_INPUTS;
use beamline::prelude::*;
use beamline::{Error, PipelineOptions};
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(super) fn tests() -> Vec<Test> {
    vec![
        Test::new("io_read_text", io_read_text),
        Test::new("io_read_text_splits_a_large_file", io_read_text_splits_a_large_file).requires(&[SIDE_INPUTS]),
        Test::new("io_read_text_gzip", io_read_text_gzip),
        Test::new("io_read_text_missing_file_fails", io_read_text_missing_file_fails),
        Test::new("io_read_text_invalid_utf8_fails", io_read_text_invalid_utf8_fails),
        Test::new("io_write_text_shards", io_write_text_shards),
        Test::new("io_write_text_header_single_file", io_write_text_header_single_file),
        Test::new("io_write_text_empty_input", io_write_text_empty_input),
        Test::new("io_write_text_windowed_input", io_write_text_windowed_input),
        Test::new("io_write_then_read_gzip", io_write_then_read_gzip),
        Test::new("io_read_json_lines", io_read_json_lines),
        Test::new("io_read_json_lines_malformed_fails", io_read_json_lines_malformed_fails),
        Test::new("io_json_lines_round_trip", io_json_lines_round_trip),
    ]
}

/// This cell's directory, created.
fn dir() -> PathBuf {
    let d = cell_dir();
    let _ = std::fs::create_dir_all(&d);
    d
}

fn write(path: &Path, bytes: &[u8]) {
    if let Err(e) = std::fs::write(path, bytes) {
        panic!("cannot write the test input {}: {e}", path.display());
    }
}

fn gzip(path: &Path, text: &str) {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let bytes = enc.write_all(text.as_bytes()).and_then(|()| enc.finish());
    match bytes {
        Ok(b) => write(path, &b),
        Err(e) => panic!("cannot gzip {}: {e}", path.display()),
    }
}

fn glob(d: &Path, pattern: &str) -> String {
    format!("{}/{pattern}", d.display())
}

fn io_read_text(p: &Pipeline) -> Expect {
    let d = dir();
    write(&d.join("a.txt"), b"hello world\nbye\n");
    write(&d.join("b.txt"), b"last line, no newline");
    write(&d.join("c.txt"), b"crlf line\r\nlone\rcr\n\n");
    write(&d.join("empty.txt"), b"");
    write(&d.join("d.txt"), "ünïcödé 🦀\n日本\n".as_bytes());
    write(&d.join(".hidden.txt"), b"hidden\n");
    write(&d.join("other.csv"), b"not matched\n");
    let lines = p.apply(ReadFromText::new(glob(&d, "*.txt")));
    assert_that(
        &lines,
        contains_in_any_order(strings(&[
            "hello world",
            "bye",
            "last line, no newline",
            "crlf line",
            "lone\rcr",
            "",
            "ünïcödé 🦀",
            "日本",
        ])),
    );
    Expect::success()
}

/// Parses the number after the last space.
#[derive(Clone, Serialize, Deserialize)]
struct LastNumber;

impl DoFn for LastNumber {
    type In = String;
    type Out = i64;
    fn process(&mut self, line: &String, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
        let n = line.rsplit(' ').next().unwrap_or_default().parse::<i64>()?;
        ctx.emit(n);
        Ok(())
    }
}

/// A file read in many byte ranges gives every line exactly once.
fn io_read_text_splits_a_large_file(p: &Pipeline) -> Expect {
    let n = 200_000i64;
    let d = dir();
    let text: String = (0..n).map(|i| format!("line {i}\n")).collect();
    write(&d.join("big.txt"), text.as_bytes());
    let nums =
        p.apply(ReadFromText::new(glob(&d, "big.txt")).with_min_bundle_size(64 << 10)).apply(ParDo::of(LastNumber));
    assert_that(&nums.apply(Count::globally()), contains_in_any_order(vec![n as u64]));
    assert_that(&nums.apply(Combine::globally(Sum::<i64>::new())), contains_in_any_order(vec![n * (n - 1) / 2]));
    Expect::success()
}

fn io_read_text_gzip(p: &Pipeline) -> Expect {
    let d = dir();
    gzip(&d.join("a.txt.gz"), "zipped one\nzipped two\n");
    write(&d.join("b.txt"), b"plain\n");
    let lines = p.apply(ReadFromText::new(glob(&d, "*.txt*")));
    assert_that(&lines, contains_in_any_order(strings(&["zipped one", "zipped two", "plain"])));
    Expect::success()
}

fn io_read_text_missing_file_fails(p: &Pipeline) -> Expect {
    let pattern = glob(&dir(), "nothing-here-*.txt");
    let _ = p.apply_named("ReadLogs", ReadFromText::new(pattern.clone()));
    Expect::error(move |e| {
        let want = format!("step 'ReadLogs': {pattern}: no file matches this path or pattern");
        if e.to_string() == want {
            Ok(())
        } else {
            Err(format!("expected the error {want:?}, got {:?}", e.to_string()))
        }
    })
}

fn io_read_text_invalid_utf8_fails(p: &Pipeline) -> Expect {
    let path = dir().join("bad.txt");
    write(&path, b"fine\nbad \xff byte\nfine again\n");
    let _ = p.apply_named("Read", ReadFromText::new(path.display().to_string()));
    let path = path.display().to_string();
    Expect::error(move |e| {
        let text = e.to_string();
        if matches!(e, Error::Io { .. })
            && text.contains("step 'Read'")
            && text.contains(&path)
            && text.contains("line 2")
        {
            Ok(())
        } else {
            Err(format!("expected an IO error of step 'Read' naming {path} and line 2, got: {text}"))
        }
    })
}

/// The lines of every file `names`, or what is wrong.
fn read_lines(names: &[String]) -> Result<Vec<String>, String> {
    let mut all = Vec::new();
    for n in names {
        let text = std::fs::read_to_string(n).map_err(|e| format!("cannot read {n}: {e}"))?;
        all.extend(text.lines().map(String::from));
    }
    Ok(all)
}

fn same_lines(mut got: Vec<String>, mut want: Vec<String>) -> Result<(), String> {
    got.sort();
    want.sort();
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "the files hold {} lines {:?}…, expected {} lines {:?}…",
            got.len(),
            &got[..got.len().min(5)],
            want.len(),
            &want[..want.len().min(5)]
        ))
    }
}

/// No temporary file or directory is left next to the output.
fn no_leftovers(d: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(d).map_err(|e| format!("cannot list {}: {e}", d.display()))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || name.contains("tmp") || name.contains("temp") {
            return Err(format!("left behind: {}", e.path().display()));
        }
    }
    Ok(())
}

fn io_write_text_shards(p: &Pipeline) -> Expect {
    let d = dir().join("out");
    let lines: Vec<String> = (0..100).map(|i| format!("line {i}")).collect();
    let write = WriteToText::new(format!("{}/part", d.display())).with_num_shards(3).with_suffix(".txt");
    let names = write.file_names();
    let files = p.apply(Create::new(lines.clone())).apply(write);
    assert_that(&files, contains_in_any_order(names.clone()));
    Expect::success().check(move |_| {
        same_lines(read_lines(&names)?, lines.clone())?;
        no_leftovers(&d)
    })
}

fn io_write_text_header_single_file(p: &Pipeline) -> Expect {
    let d = dir();
    let write = WriteToText::new(format!("{}/report", d.display()))
        .with_shard_name_template("")
        .with_suffix(".csv")
        .with_header("word,count");
    let names = write.file_names();
    let files = p.apply(Create::new(strings(&["a,1", "b,2"]))).apply(write);
    assert_that(&files, contains_in_any_order(vec![format!("{}/report.csv", d.display())]));
    Expect::success().check(move |_| {
        let lines = read_lines(&names)?;
        if lines.first().map(String::as_str) != Some("word,count") {
            return Err(format!("the file does not start with its header: {lines:?}"));
        }
        same_lines(lines[1..].to_vec(), strings(&["a,1", "b,2"]))
    })
}

fn io_write_text_empty_input(p: &Pipeline) -> Expect {
    let d = dir();
    let write = WriteToText::new(format!("{}/none", d.display())).with_num_shards(2);
    let names = write.file_names();
    let files = p.apply(Create::new(Vec::<String>::new())).apply(write);
    assert_that(&files, contains_in_any_order(names.clone()));
    Expect::success().check(move |_| same_lines(read_lines(&names)?, Vec::new()))
}

fn io_write_text_windowed_input(p: &Pipeline) -> Expect {
    let d = dir();
    let write = WriteToText::new(format!("{}/windowed", d.display()));
    let names = write.file_names();
    let files = p
        .apply(Create::timestamped(vec![("early".to_string(), secs(1)), ("late".to_string(), secs(100))]))
        .apply(WindowInto::new(WindowFn::fixed(Duration::from_secs(10))))
        .apply(write);
    assert_that(&files, contains_in_any_order(names.clone()));
    Expect::success().check(move |_| same_lines(read_lines(&names)?, strings(&["early", "late"])))
}

/// Options for a second pipeline on the same runner (not from a graph file).
fn again(p: &Pipeline) -> PipelineOptions {
    PipelineOptions { graph: None, dump_graph: None, ..p.options() }
}

/// Runs a pipeline reading `read` back on the same runner, expecting `lines`.
fn read_back(options: &PipelineOptions, read: ReadFromText, lines: Vec<String>) -> Result<(), String> {
    let q = Pipeline::new(options.clone(), crate::runners());
    assert_that(&q.apply(read), contains_in_any_order(lines));
    q.run().map(|_| ()).map_err(|e| format!("reading the files back: {e}"))
}

fn io_write_then_read_gzip(p: &Pipeline) -> Expect {
    let d = dir();
    let lines: Vec<String> = (0..1000).map(|i| format!("zipped {i} ✓")).collect();
    let write = WriteToText::new(format!("{}/z", d.display())).with_num_shards(2).with_suffix(".txt.gz");
    let files = p.apply(Create::new(lines.clone())).apply(write);
    assert_that(&files.apply(Count::globally().without_defaults()), contains_in_any_order(vec![2u64]));
    let (options, pattern) = (again(p), glob(&d, "z-*-of-00002.txt.gz"));
    Expect::success().check(move |_| read_back(&options, ReadFromText::new(pattern.clone()), lines.clone()))
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Sale {
    item: String,
    cents: u64,
    tags: Vec<String>,
    note: Option<String>,
}

fn sales() -> Vec<Sale> {
    vec![
        Sale { item: "tea".into(), cents: 250, tags: vec![], note: None },
        Sale {
            item: "cake \"deluxe\"".into(),
            cents: 400,
            tags: strings(&["sweet", "ünï"]),
            note: Some("a\nb".into()),
        },
        Sale { item: String::new(), cents: u64::MAX, tags: strings(&[""]), note: Some(String::new()) },
    ]
}

fn io_read_json_lines(p: &Pipeline) -> Expect {
    let path = dir().join("pairs.jsonl");
    write(&path, b"[\"a\", 1]\n\n   \n[\"b\",2]\r\n[\"\\u00e9\", 3]");
    let xs = p.apply(ReadFromJsonLines::<(String, u32)>::new(path.display().to_string()));
    assert_that(&xs, contains_in_any_order(vec![("a".to_string(), 1u32), ("b".into(), 2), ("é".into(), 3)]));
    Expect::success()
}

fn io_read_json_lines_malformed_fails(p: &Pipeline) -> Expect {
    let path = dir().join("bad.jsonl");
    write(&path, b"{\"item\":\"tea\",\"cents\":250,\"tags\":[],\"note\":null}\n{\"item\": 5}\n");
    let _ = p.apply_named("ReadSales", ReadFromJsonLines::<Sale>::new(path.display().to_string()));
    let path = path.display().to_string();
    Expect::error(move |e| {
        let text = e.to_string();
        if text.contains("step 'ReadSales'") && text.contains(&path) && text.contains("line 2") {
            Ok(())
        } else {
            Err(format!("expected an error of step 'ReadSales' naming {path} and line 2, got: {text}"))
        }
    })
}

fn io_json_lines_round_trip(p: &Pipeline) -> Expect {
    let d = dir();
    let write =
        WriteToJsonLines::<Sale>::new(format!("{}/sales", d.display())).with_num_shards(2).with_suffix(".jsonl");
    let files = p.apply(Create::new(sales())).apply(write);
    assert_that(&files.apply(Count::globally().without_defaults()), contains_in_any_order(vec![2u64]));
    let (options, pattern) = (again(p), glob(&d, "sales-*.jsonl"));
    Expect::success().check(move |_| {
        let q = Pipeline::new(options.clone(), crate::runners());
        assert_that(&q.apply(ReadFromJsonLines::<Sale>::new(pattern.clone())), contains_in_any_order(sales()));
        q.run().map(|_| ()).map_err(|e| format!("reading the files back: {e}"))
    })
}
