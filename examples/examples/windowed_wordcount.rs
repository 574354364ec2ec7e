//! Counts words per fixed event-time window.
//!
//! ```text
//! cargo run --release -p beamline-examples --example windowed_wordcount -- \
//!     [--input=FILE_OR_GLOB] [--output=PREFIX] [--window-minutes=10] [--num-shards=N]
//! ```
//!
//! Lines get made-up event times (within two hours, from a hash of the
//! line), fall into fixed windows, and each output line reads
//! `[window start, window end) word: count`. With no `--output` it writes
//! under `<temp dir>/beamline-windowed-wordcount/counts`. The pipeline is
//! `beamline_examples::windowed_wordcount::run_pipeline`.

use beamline::Pipeline;
use beamline_examples::windowed_wordcount::{run_pipeline, WindowedWordCountOptions};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    beamline::exit_on_error(run())
}

fn run() -> beamline::Result<()> {
    let (p, opts) = Pipeline::from_args_with::<WindowedWordCountOptions>(beamline_examples::runners())?;
    print!("{}", run_pipeline(p, opts)?);
    Ok(())
}
