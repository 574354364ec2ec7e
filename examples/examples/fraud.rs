//! Flags cards whose spend within a span of event time passes a limit, with
//! keyed state and event-time timers.
//!
//! ```text
//! cargo run --release -p beamline-examples --example fraud -- [--runner=direct|timely] [--events=N] [--rate=R]
//! cargo run --release -p beamline-examples --example fraud -- --input=examples/data/payments.csv [--runner=rayon]
//! ```
//!
//! It prints how many alerts it raised; `--output=PREFIX` also writes them
//! as `card,seconds,cents` lines. The pipeline is `beamline_examples::fraud::build`.

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    beamline::exit_on_error(beamline_examples::fraud::run(std::env::args_os()).map(|result| {
        let alerts = result.metrics().counter("FormatAlerts", "alerts").unwrap_or(0);
        println!("{alerts} alert(s) on runner {}", result.runner());
    }))
}
