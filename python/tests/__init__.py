"""beamline's pytest suite (a package, so its module names never clash with tests/conformance/)."""
