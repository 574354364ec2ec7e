//! In-pipeline assertions, in the spirit of Beam's `assert_that`.
//!
//! An assertion is part of the pipeline, so it runs on any runner: the
//! asserted PCollection is read whole as a side input by a single check step,
//! which fails the run with expected against actual.

mod assert_that;

pub use assert_that::{
    assert_that, assert_that_in_window, contains_in_any_order, is_empty, satisfies, Matcher, SatisfiesFn,
};
