//! Counts the words of text files and writes `word: count` lines.
//!
//! ```text
//! cargo run --release -p beamline-examples --example wordcount -- \
//!     --input=FILE_OR_GLOB --output=PREFIX [--num-shards=N] [--runner=direct]
//! ```
//!
//! With no `--input` it counts the sample text in `examples/data/`; with no
//! `--output` it writes under `<temp dir>/beamline-wordcount/counts`. It
//! prints the metrics (words, empty lines, ...) and the files it wrote.
//! `--dump-graph=g.json` writes the portable graph instead of running;
//! `--graph=g.json` runs that graph. The pipeline itself is
//! `beamline_examples::wordcount::run_pipeline`.

use beamline::Pipeline;
use beamline_examples::wordcount::{run_pipeline, WordCountOptions};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    beamline::exit_on_error(run())
}

fn run() -> beamline::Result<()> {
    let (p, opts) = Pipeline::from_args_with::<WordCountOptions>(beamline_examples::runners())?;
    print!("{}", run_pipeline(p, opts)?);
    Ok(())
}
