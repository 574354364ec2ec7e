//! The conformance suite as a test target (`harness = false`): every test on
//! every runner; see the crate docs of `beamline-conformance-tests`.

fn main() -> std::process::ExitCode {
    beamline_conformance_tests::run_cli()
}
