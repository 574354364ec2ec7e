//! Counts an endless stream of words per fixed event-time window, printing
//! each window's counts as the watermark passes its end.
//!
//! ```text
//! cargo run --release -p beamline-examples --example streaming_wordcount -- \
//!     --runner=timely [--workers=N] [--rate=1000] [--window-secs=1] [--events=N] [--max-duration=30s]
//! ```
//!
//! Each line reads `[window start, window end) word: count`. It runs until
//! Ctrl-C (or SIGTERM), then drains: the sources stop, every open window
//! fires and prints, and it exits 0. The pipeline is
//! `beamline_examples::streaming_wordcount::build`.

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    beamline::exit_on_error(beamline_examples::streaming_wordcount::run(std::env::args_os()).map(|result| {
        let printed = result.metrics().counter("PrintCounts", "printed").unwrap_or(0);
        eprintln!("drained: printed {printed} window count(s)");
    }))
}
