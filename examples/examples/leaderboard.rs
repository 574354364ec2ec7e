//! Per-team scores in fixed event-time windows with early, on-time and late
//! results (triggers, accumulating panes).
//!
//! ```text
//! cargo run --release -p beamline-examples --example leaderboard -- --runner=timely --events=2000 [--rate=R] [--output=PREFIX]
//! ```
//!
//! Each pane prints as `[start, end) team: score (TIMING #index)`. The
//! pipeline is `beamline_examples::leaderboard::build`.

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    beamline::exit_on_error(beamline_examples::leaderboard::run(std::env::args_os()).map(|result| {
        let m = result.metrics();
        let n = |name| m.counter("PrintPanes", name).unwrap_or(0);
        println!(
            "{} early, {} on-time and {} late pane(s) on runner {}",
            n("early"),
            n("on_time"),
            n("late"),
            result.runner()
        );
    }))
}
