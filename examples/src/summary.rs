//! What an example run reports.

use beamline::PipelineResult;
use std::fmt;

/// What a run of an example did: the input read, the files written and the
/// pipeline's result (with its metrics).
///
/// `Display` prints what the example programs print.
///
/// # Examples
/// ```
/// let dir = std::env::temp_dir().join(format!("beamline-doc-summary-{}", std::process::id()));
/// let out = format!("--output={}/counts", dir.display());
/// let summary = beamline_examples::wordcount::run(["wordcount", out.as_str()]).unwrap();
/// assert_eq!(summary.output_files.len(), 1);
/// assert!(summary.to_string().contains("counter CountWords/ExtractWords words:"));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The file or glob read.
    pub input: String,
    /// The files written, in shard order (empty when only the graph was dumped).
    pub output_files: Vec<String>,
    /// The pipeline's result: the runner and the metrics.
    pub result: PipelineResult,
}

impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = self.result.dumped_graph() {
            return writeln!(f, "wrote the pipeline graph to {} (run it with --graph={0})", path.display());
        }
        writeln!(f, "read {} on the {} runner", self.input, self.result.runner())?;
        write!(f, "{}", self.result.metrics())?;
        writeln!(f, "wrote {} file(s):", self.output_files.len())?;
        for file in &self.output_files {
            writeln!(f, "  {file}")?;
        }
        Ok(())
    }
}
