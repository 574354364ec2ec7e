//! Pipeline options from the command line.
//!
//! The standard flags (`--runner`, `--workers`, `--dump-graph`, `--graph`),
//! the linked runners' own flags, and the user's typed options (any
//! `clap::Args` struct) parse together; a bad flag gives one line naming it
//! and listing the valid ones.

use crate::error::{Error, Result};
use crate::runner::Runners;
use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The options every pipeline understands.
///
/// # Examples
/// ```
/// use beamline::{NoOptions, PipelineOptions};
/// let (o, NoOptions {}) =
///     PipelineOptions::parse_from::<NoOptions>(["prog", "--workers=3"], &beamline_direct::runners()).unwrap();
/// assert_eq!(o.workers, Some(3));
/// assert_eq!(o.runner, "direct");
/// let e = PipelineOptions::parse_from::<NoOptions>(["prog", "--wrkers=3"], &beamline_direct::runners()).unwrap_err();
/// assert!(e.to_string().contains("'--wrkers'"));
/// ```
#[derive(Args, Debug, Clone, Default)]
pub struct PipelineOptions {
    /// Runner to execute the pipeline on.
    #[arg(long, default_value = "direct")]
    pub runner: String,
    /// Parallelism: worker threads (default: what the runner picks).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Write the pipeline's portable graph (JSON) to PATH and exit.
    #[arg(long = "dump-graph", value_name = "PATH")]
    pub dump_graph: Option<PathBuf>,
    /// Run the graph in PATH (written by --dump-graph) instead of the one built in code.
    #[arg(long = "graph", value_name = "PATH")]
    pub graph: Option<PathBuf>,
    /// Build pipelines whose triggers may lose data (a trigger that finishes
    /// while late data may still come), as Beam's `--allow_unsafe_triggers`.
    #[arg(long = "allow-unsafe-triggers")]
    pub allow_unsafe_triggers: bool,
    /// Runner-specific flags by name (`direct-seed` → `"7"`).
    #[arg(skip)]
    pub runner_flags: BTreeMap<String, String>,
}

/// Use when a program has no options of its own.
#[derive(Args, Debug, Clone, Default)]
pub struct NoOptions {}

impl PipelineOptions {
    /// Options for tests: the given runner, everything else default.
    pub fn for_runner(runner: &str) -> Self {
        PipelineOptions { runner: runner.to_string(), ..Default::default() }
    }

    /// Parses `args` (the first is the program name) into pipeline options and
    /// the user's options `U`. `--help` yields [`Error::Help`] with the text.
    pub fn parse_from<U: Args + FromArgMatches>(
        args: impl IntoIterator<Item = impl Into<std::ffi::OsString> + Clone>,
        runners: &Runners,
    ) -> Result<(Self, U)> {
        let mut cmd = Command::new("pipeline").no_binary_name(false);
        cmd = PipelineOptions::augment_args(cmd);
        cmd = U::augment_args(cmd);
        let mut flags = Vec::new();
        for r in runners.iter() {
            for f in r.flags() {
                cmd = cmd.arg(Arg::new(f.name).long(f.name).help(f.help).default_value(f.default));
                flags.push(f.name);
            }
        }
        let valid: Vec<String> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .chain(std::iter::once("--help".to_string()))
            .collect();
        let m: ArgMatches = match cmd.clone().try_get_matches_from(args) {
            Ok(m) => m,
            Err(e) => return Err(one_line(e, &valid, &mut cmd)),
        };
        let mut opts = PipelineOptions::from_arg_matches(&m).map_err(|e| Error::Options(first_line(&e)))?;
        let user = U::from_arg_matches(&m).map_err(|e| Error::Options(first_line(&e)))?;
        for f in flags {
            if let Some(v) = m.get_one::<String>(f) {
                opts.runner_flags.insert(f.to_string(), v.clone());
            }
        }
        if opts.workers == Some(0) {
            return Err(Error::Options("error: invalid value '0' for '--workers': must be at least 1".into()));
        }
        runners.get(&opts.runner)?;
        Ok((opts, user))
    }

    /// A runner flag's value parsed as `T`, with the flag named on error.
    pub fn runner_flag<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T>
    where
        T::Err: std::fmt::Display,
    {
        match self.runner_flags.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|e| Error::Options(format!("error: invalid value '{v}' for '--{name}': {e}"))),
        }
    }

    /// A count-like runner flag, refused (naming the flag) when it is 0.
    ///
    /// # Examples
    /// ```
    /// use beamline::PipelineOptions;
    /// let mut o = PipelineOptions::for_runner("direct");
    /// assert_eq!(o.positive_runner_flag("parts", 8).unwrap(), 8);
    /// o.runner_flags.insert("parts".into(), "0".into());
    /// assert_eq!(o.positive_runner_flag("parts", 8).unwrap_err().to_string(), "error: '--parts' must be at least 1");
    /// ```
    pub fn positive_runner_flag(&self, name: &str, default: usize) -> Result<usize> {
        match self.runner_flag(name, default)? {
            0 => Err(Error::Options(format!("error: '--{name}' must be at least 1"))),
            n => Ok(n),
        }
    }

    /// `--workers`, or every core of the machine when it is not given.
    ///
    /// # Examples
    /// ```
    /// let mut o = beamline::PipelineOptions::for_runner("direct");
    /// assert!(o.workers_or_every_core() >= 1);
    /// o.workers = Some(3);
    /// assert_eq!(o.workers_or_every_core(), 3);
    /// ```
    pub fn workers_or_every_core(&self) -> usize {
        self.workers.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).max(1)
    }
}

fn first_line(e: &clap::Error) -> String {
    e.to_string().lines().next().unwrap_or("error: bad command line").to_string()
}

fn one_line(e: clap::Error, valid: &[String], cmd: &mut Command) -> Error {
    use clap::error::{ContextKind, ErrorKind};
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            Error::Help(cmd.render_long_help().to_string())
        }
        ErrorKind::UnknownArgument => {
            let arg = e.get(ContextKind::InvalidArg).map(|v| v.to_string()).unwrap_or_default();
            let name = arg.split('=').next().unwrap_or(&arg).to_string();
            Error::Options(format!("error: unknown flag '{name}'; valid flags: {}", valid.join(", ")))
        }
        _ => Error::Options(format!("{}; valid flags: {}", first_line(&e), valid.join(", "))),
    }
}
