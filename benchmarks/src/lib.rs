//! Benchmarks: beamline pipelines against hand-written programs doing the same work.
//!
//! Machines here are shared and noisy, so a benchmark never reports one
//! absolute time alone: every repetition runs the hand-written baseline and
//! the pipeline (on each [`RunnerSetup`]) back to back, checks that their
//! outputs agree, and the report gives medians and pipeline/baseline ratios.
//!
//! A benchmark is a [`Workload`]: a baseline, a pipeline and a comparison of
//! their outputs. [`harness::measure`] times any workload on any runner
//! setup, each run in a fresh child process ([`harness::Subprocess`], so no
//! run inherits another's heap) or in this one ([`harness::InProcess`], for
//! tests); [`report`] turns the measurements into markdown. The workloads:
//! wordcount ([`wordcount::WordCount`]), CombinePerKey over generated pairs
//! ([`combine::CombinePerKeyBench`]), a chain of Maps
//! ([`map_chain::MapChain`]) and a per-key count with keyed state and timers
//! against the same count as a lifted combine
//! ([`stateful::StatefulCountBench`]). A workload may offer hand-written
//! parallel baselines ([`harness::Baseline::rayon`]): a setup with N workers is then
//! compared with the hand-written program on N threads. Each runner is one
//! more [`RunnerSetup`] (`direct`, `rayon-N`, `timely-N`); a timely cluster of
//! several processes is a [`cluster::Launch`] of the examples' `wordcount`
//! program, measured by the `timely-bench` program.
//!
//! # Examples
//! ```
//! use beamline_benchmarks::harness::{self, InProcess};
//! use beamline_benchmarks::{corpus, wordcount::WordCount, RunnerSetup};
//! let dir = std::env::temp_dir().join(format!("beamline-bench-doc-{}", std::process::id()));
//! let c = corpus::ensure(&corpus::CorpusSpec::zipf(20_000), &dir).unwrap();
//! let wc = WordCount::new(c);
//! let m = harness::measure(&wc, &[RunnerSetup::direct()], 1, &dir.join("scratch"), &InProcess).unwrap();
//! assert_eq!(m.setups.len(), 1);
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```
#![deny(missing_docs)]

pub mod cluster;
pub mod combine;
pub mod corpus;
mod error;
pub mod harness;
pub mod machine;
pub mod map_chain;
pub mod report;
mod setup;
pub mod stateful;
pub mod stats;
pub mod streaming;
pub mod units;
pub mod wordcount;

pub use error::{BenchError, Result};
pub use harness::Workload;
pub use setup::{linked_runners, RunnerSetup};
