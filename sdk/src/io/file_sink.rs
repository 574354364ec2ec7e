//! The sharded, atomic file write behind `WriteToText` and `WriteToJsonLines`
//! (Beam's `WriteFiles`): write each shard under a temporary name, then
//! rename every shard to its final name in one last step.
//!
//! The expansion is portable and uses only ParDo, GroupByKey, Impulse,
//! Flatten and (for windowed input) WindowInto:
//!
//! ```text
//! AssignShards ─ [GlobalWindow] ─ GroupByShard ─ WriteTempShards ─┐
//!                                      DoOnce ─ SeedFinalize ─────┴ CollectTempFiles ─ GatherTempFiles ─ Finalize
//! ```
//!
//! `GatherTempFiles` always holds one group (the seed guarantees it), so
//! `Finalize` runs exactly once even for an empty input and writes the shards
//! that received no line.

use crate::element::key_hash;
use crate::error::{DoFnError, Error};
use crate::pipeline::PCollection;
use crate::transforms::{ApplyExt, DoFn, Flatten, GroupByKey, Impulse, ParDo, ProcessContext, WindowInto};
use crate::window::{Window, WindowFn};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Beam's default shard name template.
pub(crate) const DEFAULT_TEMPLATE: &str = "-SSSSS-of-NNNNN";

/// Where and how the shards are written: the payload of the write steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ShardSpec {
    pub(crate) prefix: String,
    pub(crate) num_shards: u32,
    pub(crate) template: String,
    pub(crate) suffix: String,
    pub(crate) header: Option<String>,
}

impl ShardSpec {
    pub(crate) fn new(prefix: String) -> Self {
        ShardSpec { prefix, num_shards: 1, template: DEFAULT_TEMPLATE.into(), suffix: String::new(), header: None }
    }

    /// Shard count; 0 (the runner's choice in Beam) means 1 here.
    pub(crate) fn shards(&self) -> u32 {
        self.num_shards.max(1)
    }

    /// Why the spec cannot be written, if so.
    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        if self.prefix.is_empty() {
            return Err("the output prefix is empty".into());
        }
        if self.template.is_empty() {
            if self.shards() != 1 {
                return Err(format!(
                    "an empty shard name template names a single file, but {} shards were asked for",
                    self.shards()
                ));
            }
        } else if !self.template.contains('S') {
            return Err(format!(
                "the shard name template '{}' has no S+ run for the shard number (Beam's default is '{DEFAULT_TEMPLATE}')",
                self.template
            ));
        }
        for (what, text) in [("prefix", &self.prefix), ("suffix", &self.suffix)] {
            if text.contains('\n') {
                return Err(format!("the output {what} contains a newline"));
            }
        }
        Ok(())
    }

    /// The final name of shard `shard`: prefix, template with the first run of
    /// `S` replaced by the zero-padded shard number and the first run of `N` by
    /// the shard count, then suffix.
    pub(crate) fn file_name(&self, shard: u32) -> String {
        let mut name = self.prefix.clone();
        name.push_str(&replace_run(&replace_run(&self.template, 'S', shard), 'N', self.shards()));
        name.push_str(&self.suffix);
        name
    }

    /// The final name of shard `shard` of pane `pane` of `window`, for
    /// unbounded input: the prefix, the window's bounds in UTC, the pane
    /// (when it is a late one), then the shard template and the suffix, e.g.
    /// `counts-2026-01-01T00:00:00Z-2026-01-01T00:01:00Z-00000-of-00001`.
    pub(crate) fn windowed_file_name(&self, window: &Window, pane: u32, shard: u32) -> String {
        let mut name = self.prefix.clone();
        if let Window::Interval { start, end } = window {
            name.push_str(&format!("-{}-{}", start.to_utc_string(), end.to_utc_string()));
        }
        if pane > 0 {
            name.push_str(&format!("-pane-{pane}"));
        }
        name.push_str(&replace_run(&replace_run(&self.template, 'S', shard), 'N', self.shards()));
        name.push_str(&self.suffix);
        name
    }

    /// Every final name, in shard order.
    pub(crate) fn file_names(&self) -> Vec<String> {
        (0..self.shards()).map(|s| self.file_name(s)).collect()
    }

    /// The hidden directory, next to the output, holding shards being written.
    fn temp_dir(&self) -> PathBuf {
        let (dir, base) = match self.prefix.rsplit_once('/') {
            Some((dir, base)) => (if dir.is_empty() { "/" } else { dir }, base),
            None => (".", self.prefix.as_str()),
        };
        Path::new(dir).join(format!(".beamline-temp-{base}{}", self.suffix))
    }

    fn gzip(&self) -> bool {
        self.file_name(0).ends_with(".gz")
    }
}

/// `text` with its first run of `c` replaced by `n`, zero-padded to the run's length.
fn replace_run(text: &str, c: char, n: u32) -> String {
    let Some(start) = text.find(c) else { return text.to_string() };
    let len = text[start..].chars().take_while(|&x| x == c).count();
    format!("{}{n:0len$}{}", &text[..start], &text[start + len..])
}

/// A name no other writer uses: process id, time and a counter.
fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{:x}-{nanos:x}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Writes one shard under a fresh temporary name and returns that name; a
/// partial file is removed on failure.
fn write_temp_shard<'a>(
    spec: &ShardSpec,
    shard: u32,
    lines: impl Iterator<Item = &'a String>,
) -> std::result::Result<String, DoFnError> {
    let dir = spec.temp_dir();
    let path = dir.join(format!("{shard:05}-of-{:05}-{}", spec.shards(), unique_suffix()));
    let file = match File::create(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Creates the output directory too, as Beam does.
            std::fs::create_dir_all(&dir)
                .map_err(|e| DoFnError::new(format!("cannot create the directory {}: {e}", dir.display())))?;
            File::create(&path).map_err(|e| DoFnError::new(format!("cannot create {}: {e}", path.display())))?
        }
        Err(e) => return Err(DoFnError::new(format!("cannot create {}: {e}", path.display()))),
    };
    let result = (|| -> std::io::Result<()> {
        let out = BufWriter::with_capacity(1 << 20, file);
        if spec.gzip() {
            let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
            write_lines(&mut gz, spec.header.as_ref(), lines)?;
            gz.finish()?.flush()
        } else {
            let mut out = out;
            write_lines(&mut out, spec.header.as_ref(), lines)?;
            out.flush()
        }
    })();
    match result {
        Ok(()) => Ok(path.display().to_string()),
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            Err(DoFnError::new(format!("cannot write {}: {e}", path.display())))
        }
    }
}

fn write_lines<'a, W: Write>(
    out: &mut W,
    header: Option<&String>,
    lines: impl Iterator<Item = &'a String>,
) -> std::io::Result<()> {
    if let Some(h) = header {
        out.write_all(h.as_bytes())?;
        out.write_all(b"\n")?;
    }
    for line in lines {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Expands the write of `lines` into the transform being expanded; returns
/// the final file names.
pub(crate) fn expand_write(lines: PCollection<String>, spec: ShardSpec) -> PCollection<String> {
    let p = lines.pipeline().clone();
    if let Err(m) = spec.check() {
        p.fail(Error::Construction(format!("'{}': {m}", p.current_label())));
    }
    if !lines.is_bounded() {
        // Unbounded input: one set of shards per window and pane, each
        // appearing (atomically) when its window fires. The write groups its
        // lines with the default trigger, discarding fired panes, whatever the
        // input's: what came before a window's end goes to its on-time files,
        // each later arrival to a late pane's, and a line to one file only.
        // In the global window the on-time pane comes when the input ends (a
        // drain): the grouping says so with an explicit AfterWatermark, which
        // the check on a user's global-window GroupByKey lets through.
        let w = lines.windowing();
        let trigger = match w.window_fn {
            WindowFn::Global => crate::Trigger::after_watermark(),
            _ => crate::Trigger::Default,
        };
        let discarding = WindowInto::configure()
            .triggering(trigger)
            .discarding_fired_panes()
            .with_timestamp_combiner(w.timestamp_combiner)
            .with_allowed_lateness(Duration::from_micros(w.allowed_lateness.max(0) as u64));
        return lines
            .apply_named("Discarding", discarding)
            .apply_named("AssignShards", ParDo::of(AssignShardFn { num_shards: spec.shards(), next: None }))
            .apply_named("GroupByShard", GroupByKey::new())
            .apply_named("WriteTempShards", ParDo::of(WriteShardFn { spec: spec.clone(), written: Vec::new() }))
            .apply_named("GatherTempFiles", GroupByKey::new())
            .apply_named("FinalizeWindow", ParDo::of(FinalizeWindowFn { spec }));
    }
    let mut keyed =
        lines.apply_named("AssignShards", ParDo::of(AssignShardFn { num_shards: spec.shards(), next: None }));
    if keyed.windowing().window_fn != WindowFn::Global {
        // Every window goes to the same files, as in Beam's WriteToText.
        keyed = keyed.apply_named("GlobalWindow", WindowInto::new(WindowFn::global()));
    }
    let written = keyed
        .apply_named("GroupByShard", GroupByKey::new())
        .apply_named("WriteTempShards", ParDo::of(WriteShardFn { spec: spec.clone(), written: Vec::new() }));
    let seed = p.apply_named("DoOnce", Impulse).apply_named("SeedFinalize", ParDo::of(SeedFinalizeFn));
    vec![written, seed]
        .apply_named("CollectTempFiles", Flatten::new())
        .apply_named("GatherTempFiles", GroupByKey::new())
        .apply_named("Finalize", ParDo::of(FinalizeFn { spec }))
}

/// A shard written under a temporary name: `(shard, temp path)`; `None` is
/// the seed that makes `Finalize` run once.
type TempShard = Option<(u32, String)>;

/// Gives each line a shard number: round robin, from a start that depends on
/// the bundle's first line (so shards stay balanced however bundles fall).
#[derive(Clone, Serialize, Deserialize)]
struct AssignShardFn {
    num_shards: u32,
    #[serde(skip)]
    next: Option<u32>,
}

impl DoFn for AssignShardFn {
    type In = String;
    type Out = (u32, String);
    fn start_bundle(&mut self) -> Result<(), DoFnError> {
        self.next = None;
        Ok(())
    }
    #[inline]
    fn process(&mut self, line: &String, ctx: &mut ProcessContext<'_, (u32, String)>) -> Result<(), DoFnError> {
        let n = self.num_shards.max(1);
        let shard = *self.next.get_or_insert_with(|| (key_hash(line) % u64::from(n)) as u32);
        self.next = Some((shard + 1) % n);
        ctx.emit((shard, line.clone()));
        Ok(())
    }
    fn name(&self) -> String {
        "AssignShards".into()
    }
}

/// Writes each shard's lines to a temporary file.
///
/// On teardown, which runners call when the run ends (also after a
/// failure), it removes the temporary files it wrote that Finalize did not
/// rename: a failed run leaves nothing behind, not even hidden files.
#[derive(Clone, Serialize, Deserialize)]
struct WriteShardFn {
    spec: ShardSpec,
    #[serde(skip)]
    written: Vec<String>,
}

impl DoFn for WriteShardFn {
    type In = (u32, Vec<String>);
    type Out = (u64, TempShard);
    fn process(
        &mut self,
        shard: &(u32, Vec<String>),
        ctx: &mut ProcessContext<'_, (u64, TempShard)>,
    ) -> Result<(), DoFnError> {
        let path = write_temp_shard(&self.spec, shard.0, shard.1.iter())?;
        self.written.push(path.clone());
        ctx.metrics().inc_counter("lines_written", shard.1.len() as i64);
        // Keyed by the pane the shard's lines came in: each pane of a window
        // is finalized to files of its own, named by its index.
        let pane = ctx.pane().index();
        ctx.emit((pane, Some((shard.0, path))));
        Ok(())
    }
    fn teardown(&mut self) -> Result<(), DoFnError> {
        let mut left = false;
        for path in self.written.drain(..) {
            // Finalize renamed it on success; after a failure it is still here.
            left |= std::fs::remove_file(&path).is_ok();
        }
        if left {
            // Only if empty: another run may be writing the same output.
            let _ = std::fs::remove_dir(self.spec.temp_dir());
        }
        Ok(())
    }
    fn name(&self) -> String {
        "WriteTempShards".into()
    }
}

/// Emits the one seed element.
#[derive(Clone, Serialize, Deserialize)]
struct SeedFinalizeFn;

impl DoFn for SeedFinalizeFn {
    type In = ();
    type Out = (u64, TempShard);
    fn process(&mut self, _: &(), ctx: &mut ProcessContext<'_, (u64, TempShard)>) -> Result<(), DoFnError> {
        ctx.emit((0, None));
        Ok(())
    }
    fn name(&self) -> String {
        "SeedFinalize".into()
    }
}

/// Writes the shards nobody wrote, then renames every temporary file to its
/// final name and emits the final names in shard order.
#[derive(Clone, Serialize, Deserialize)]
struct FinalizeFn {
    spec: ShardSpec,
}

impl FinalizeFn {
    fn finalize(&self, temps: &[TempShard]) -> Result<Vec<String>, DoFnError> {
        finalize(&self.spec, temps, |shard| self.spec.file_name(shard))
    }
}

/// Writes the shards nobody wrote, then renames every temporary file to
/// `name(shard)`, all or nothing; returns the final names in shard order.
fn finalize(spec: &ShardSpec, temps: &[TempShard], name: impl Fn(u32) -> String) -> Result<Vec<String>, DoFnError> {
    {
        let mut by_shard: BTreeMap<u32, String> = BTreeMap::new();
        let mut extra = Vec::new();
        for (shard, path) in temps.iter().flatten() {
            if *shard >= spec.shards() || by_shard.contains_key(shard) {
                extra.push(path.clone()); // a retried bundle's duplicate
            } else {
                by_shard.insert(*shard, path.clone());
            }
        }
        for path in &extra {
            let _ = std::fs::remove_file(path);
        }
        let mut result = Ok(());
        for shard in 0..spec.shards() {
            if let std::collections::btree_map::Entry::Vacant(slot) = by_shard.entry(shard) {
                match write_temp_shard(spec, shard, std::iter::empty()) {
                    Ok(path) => {
                        slot.insert(path);
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
        }
        let mut renamed = Vec::new();
        if result.is_ok() {
            for (&shard, temp) in &by_shard {
                let fin = name(shard);
                match std::fs::rename(temp, &fin) {
                    Ok(()) => renamed.push(fin),
                    // Already renamed by an earlier attempt of this step.
                    Err(_) if !Path::new(temp).exists() && Path::new(&fin).exists() => renamed.push(fin),
                    Err(e) => {
                        result = Err(DoFnError::new(format!("cannot rename {temp} to {fin}: {e}")));
                        break;
                    }
                }
            }
        }
        if result.is_err() {
            // All or nothing: take back what was renamed, drop the temp files.
            for fin in &renamed {
                let _ = std::fs::remove_file(fin);
            }
            for temp in by_shard.values() {
                let _ = std::fs::remove_file(temp);
            }
        }
        // Succeeds only once the directory is empty (another writer may share it).
        let _ = std::fs::remove_dir(spec.temp_dir());
        result.map(|()| renamed)
    }
}

/// For unbounded input: renames one pane's temporary shards of one window
/// to names holding the window and the pane's index (from its pane info,
/// so a rerun or a second writer never shifts them).
#[derive(Clone, Serialize, Deserialize)]
struct FinalizeWindowFn {
    spec: ShardSpec,
}

impl DoFn for FinalizeWindowFn {
    type In = (u64, Vec<TempShard>);
    type Out = String;
    fn process(
        &mut self,
        group: &(u64, Vec<TempShard>),
        ctx: &mut ProcessContext<'_, String>,
    ) -> Result<(), DoFnError> {
        let window = ctx.window();
        let pane = u32::try_from(group.0).unwrap_or(u32::MAX);
        let files = finalize(&self.spec, &group.1, |shard| self.spec.windowed_file_name(&window, pane, shard))?;
        ctx.metrics().inc_counter("files_written", files.len() as i64);
        for f in files {
            ctx.emit(f);
        }
        Ok(())
    }
    fn name(&self) -> String {
        "FinalizeWindow".into()
    }
}

impl DoFn for FinalizeFn {
    /// Keyed by pane index: 0, the only pane of bounded input.
    type In = (u64, Vec<TempShard>);
    type Out = String;
    fn process(
        &mut self,
        group: &(u64, Vec<TempShard>),
        ctx: &mut ProcessContext<'_, String>,
    ) -> Result<(), DoFnError> {
        let files = self.finalize(&group.1)?;
        ctx.metrics().inc_counter("files_written", files.len() as i64);
        for f in files {
            ctx.emit(f);
        }
        Ok(())
    }
    fn name(&self) -> String {
        "Finalize".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(prefix: &str) -> ShardSpec {
        ShardSpec::new(prefix.into())
    }

    #[test]
    fn teardown_removes_the_temporary_shards_finalize_did_not_rename() {
        let dir = std::env::temp_dir().join(format!("beamline-sink-teardown-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let spec = spec(&dir.join("out").display().to_string());
        let line = "x".to_string();
        let mut f = WriteShardFn { spec: spec.clone(), written: Vec::new() };
        // One shard left behind by a failed run, one renamed by Finalize.
        let left = write_temp_shard(&spec, 0, std::iter::once(&line)).unwrap();
        f.written.push(left.clone());
        let renamed = write_temp_shard(&spec, 1, std::iter::once(&line)).unwrap();
        std::fs::rename(&renamed, dir.join("out-final")).unwrap();
        f.written.push(renamed);
        // Another run's file in the same temporary directory stays.
        let other = write_temp_shard(&spec, 0, std::iter::once(&line)).unwrap();
        f.teardown().unwrap();
        assert!(!Path::new(&left).exists(), "the failed run's shard is removed");
        assert!(Path::new(&other).exists(), "another run's shard stays");
        std::fs::remove_file(&other).unwrap();
        f.written.push(write_temp_shard(&spec, 2, std::iter::once(&line)).unwrap());
        f.teardown().unwrap();
        assert!(!spec.temp_dir().exists(), "the empty temporary directory is removed");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out-final")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn shard_names_follow_beam_templates() {
        let mut s = spec("out/counts");
        s.num_shards = 3;
        assert_eq!(
            s.file_names(),
            vec!["out/counts-00000-of-00003", "out/counts-00001-of-00003", "out/counts-00002-of-00003"]
        );
        s.template = "_SS_NNN".into();
        s.suffix = ".txt".into();
        assert_eq!(s.file_name(2), "out/counts_02_003.txt");
        s.template = "-S".into();
        s.num_shards = 12;
        assert_eq!(s.file_name(11), "out/counts-11.txt");
        s.num_shards = 0;
        assert_eq!(s.file_names(), vec!["out/counts-0.txt"]);
        s.template = String::new();
        assert_eq!(s.file_names(), vec!["out/counts.txt"]);
        assert!(s.check().is_ok());
    }

    #[test]
    fn bad_specs_are_explained() {
        let mut s = spec("out");
        s.template = String::new();
        s.num_shards = 2;
        assert!(s.check().unwrap_err().contains("empty shard name template"));
        s.template = "-NNN".into();
        assert!(s.check().unwrap_err().contains("no S+ run"));
        assert!(spec("").check().unwrap_err().contains("prefix is empty"));
    }

    #[test]
    fn temp_dir_is_hidden_next_to_the_output() {
        assert_eq!(spec("/tmp/x/out").temp_dir(), Path::new("/tmp/x/.beamline-temp-out"));
        assert_eq!(spec("out").temp_dir(), Path::new("./.beamline-temp-out"));
        let mut s = spec("res/");
        s.suffix = ".csv".into();
        assert_eq!(s.temp_dir(), Path::new("res/.beamline-temp-.csv"));
    }
}
