//! The runner-agnostic conformance suite.
