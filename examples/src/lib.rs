//! Example pipelines users copy from, and the pieces they share.
//!
//! The programs are in `examples/examples/` (run one with
//! `cargo run --release -p beamline-examples --example wordcount -- --help`);
//! their logic lives here so that tests and the benchmarks call it directly:
//! [`count_words`] and [`format_counts`] are the word-count steps,
//! [`wordcount::run`] and [`windowed_wordcount::run`] whole programs.

mod count_words;
pub mod fraud;
pub mod leaderboard;
pub mod streaming_wordcount;
mod summary;
pub mod windowed_wordcount;
pub mod wordcount;

pub use count_words::{count_words, format_count, format_counts, CountWords, ExtractWordsFn, FormatCountsFn};
pub use summary::RunSummary;

use beamline::Runners;

/// The sample text the examples read when given no `--input`: selected
/// sonnets of Shakespeare (public domain), shipped in `examples/data/`.
///
/// # Examples
/// ```
/// let text = std::fs::read_to_string(beamline_examples::SAMPLE_TEXT).unwrap();
/// assert!(text.contains("Shall I compare thee to a summer's day?"));
/// ```
pub const SAMPLE_TEXT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sonnets.txt");

/// The runners the examples link, chosen with `--runner=NAME`.
///
/// # Examples
/// ```
/// assert_eq!(beamline_examples::runners().names(), vec!["direct", "rayon", "timely"]);
/// ```
pub fn runners() -> Runners {
    beamline_direct::runners().with(beamline_rayon::RayonRunner).with(beamline_timely::TimelyRunner)
}

/// `<system temp dir>/<dir>/counts`: where an example writes by default.
pub(crate) fn default_output(dir: &str) -> String {
    std::env::temp_dir().join(dir).join("counts").display().to_string()
}

/// The files a run wrote: those of `names` that exist.
pub(crate) fn existing(names: Vec<String>) -> Vec<String> {
    names.into_iter().filter(|n| std::path::Path::new(n).is_file()).collect()
}
