//! The shortest word count (Beam's MinimalWordCount): read, split, count,
//! format, write.
//!
//! ```text
//! cargo run --release -p beamline-examples --example minimal_wordcount
//! ```
//!
//! It reads the sample text in `examples/data/` and writes
//! `<temp dir>/beamline-minimal-wordcount/counts-00000-of-00001`. Its steps
//! are closures, so it runs in-process only (no `--dump-graph`); see the
//! `wordcount` example for the portable version.

use beamline::io::{ReadFromText, WriteToText};
use beamline::prelude::*;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    beamline::exit_on_error(run())
}

fn run() -> beamline::Result<()> {
    let output = std::env::temp_dir().join("beamline-minimal-wordcount").join("counts").display().to_string();
    let p = Pipeline::from_args(beamline_direct::runners())?;
    let _files = p
        .apply(ReadFromText::new(beamline_examples::SAMPLE_TEXT))
        .apply(FlatMap::new(|line: &String| line.split_whitespace().map(String::from).collect::<Vec<_>>()))
        .apply(Count::per_element())
        .apply(Map::new(|(word, count): &(String, u64)| format!("{word}: {count}")))
        .apply(WriteToText::new(&output));
    p.run()?;
    println!("wrote {output}-00000-of-00001");
    Ok(())
}
