//! The word-count program (`--example wordcount`): reads text, counts the
//! words, writes `word: count` lines into sharded files.
//!
//! `ReadLines` → `CountWords/{ExtractWords, CountPerWord}` → `FormatCounts`
//! → `WriteCounts`; every step is portable, so `--dump-graph` and `--graph`
//! work.

use crate::summary::RunSummary;
use crate::{count_words, default_output, existing, format_counts, runners, SAMPLE_TEXT};
use beamline::io::{ReadFromText, WriteToText};
use beamline::{Pipeline, PipelineOptions, Result};

/// The word-count program's own flags.
///
/// # Examples
/// ```
/// use beamline::PipelineOptions;
/// use beamline_examples::wordcount::WordCountOptions;
/// let (_, o) = PipelineOptions::parse_from::<WordCountOptions>(
///     ["wordcount", "--input=in.txt", "--num-shards=3"],
///     &beamline_examples::runners(),
/// )
/// .unwrap();
/// assert_eq!((o.input.as_deref(), o.num_shards), (Some("in.txt"), 3));
/// ```
#[derive(clap::Args, Debug, Clone, Default)]
pub struct WordCountOptions {
    /// Text file or glob to read [default: the sample text in examples/data]
    #[arg(long, value_name = "FILE_OR_GLOB")]
    pub input: Option<String>,
    /// Prefix of the output files [default: <temp dir>/beamline-wordcount/counts]
    #[arg(long, value_name = "PREFIX")]
    pub output: Option<String>,
    /// Number of output files
    #[arg(long = "num-shards", value_name = "N", default_value_t = 1)]
    pub num_shards: u32,
}

/// Parses `args` (program name first) and runs the word count.
///
/// # Examples
/// ```
/// let dir = std::env::temp_dir().join(format!("beamline-doc-wordcount-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("in.txt"), "to be or\nnot to be\n").unwrap();
/// let summary = beamline_examples::wordcount::run([
///     "wordcount".to_string(),
///     format!("--input={}/in.txt", dir.display()),
///     format!("--output={}/out/counts", dir.display()),
/// ])
/// .unwrap();
/// let mut lines: Vec<String> =
///     std::fs::read_to_string(&summary.output_files[0]).unwrap().lines().map(String::from).collect();
/// lines.sort();
/// assert_eq!(lines, vec!["be: 2", "not: 1", "or: 1", "to: 2"]);
/// assert_eq!(summary.result.metrics().counter("ExtractWords", "words"), Some(6));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn run<I, S>(args: I) -> Result<RunSummary>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    let runners = runners();
    let (options, opts) = PipelineOptions::parse_from::<WordCountOptions>(args, &runners)?;
    run_pipeline(Pipeline::new(options, runners), opts)
}

/// Builds the word count on `p` (a new pipeline) and runs it.
///
/// # Examples
/// ```
/// use beamline::Pipeline;
/// use beamline_examples::wordcount::{run_pipeline, WordCountOptions};
/// let dir = std::env::temp_dir().join(format!("beamline-doc-wordcount-p-{}", std::process::id()));
/// let p = Pipeline::for_tests("direct", beamline_examples::runners());
/// let opts = WordCountOptions { output: Some(format!("{}/c", dir.display())), num_shards: 2, ..Default::default() };
/// let summary = run_pipeline(p, opts).unwrap();
/// assert_eq!(summary.output_files.len(), 2);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn run_pipeline(p: Pipeline, opts: WordCountOptions) -> Result<RunSummary> {
    let input = opts.input.unwrap_or_else(|| SAMPLE_TEXT.to_string());
    let output = opts.output.unwrap_or_else(|| default_output("beamline-wordcount"));
    let write = WriteToText::new(output).with_num_shards(opts.num_shards);
    let files = write.file_names();
    let lines = p.apply_named("ReadLines", ReadFromText::new(&input));
    let _written = format_counts(count_words(lines)).apply_named("WriteCounts", write);
    let result = p.run()?;
    let output_files = if result.dumped_graph().is_some() { Vec::new() } else { existing(files) };
    Ok(RunSummary { input, output_files, result })
}
