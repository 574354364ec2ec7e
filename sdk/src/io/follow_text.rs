//! `FollowText`: an unbounded source of the lines appended to files matching
//! a glob, and of the files that appear later (a log tailer).

use crate::batch::Batch;
use crate::element::WindowedValue;
use crate::error::{Error, Result};
use crate::exec::{Executable, NodeBuilder, ReadStatus, UnboundedReader, UnboundedSource};
use crate::pipeline::{PBegin, PCollection, PTransform, Primitive};
use crate::time::Timestamp;
use crate::window::{Window, WindowingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Lines a reader hands over per call.
const BATCH: usize = 4096;
/// Bytes read from one file per call.
const CHUNK: u64 = 4 << 20;

/// Follows the files matching a path or glob: emits every complete line
/// (ended by `\n`) already in them and every line appended later, and reads
/// files that start matching later, as an unbounded PCollection of `String`.
///
/// A line's event time is when it was read (ingestion time). The watermark is
/// the latest event time read minus the allowed out-of-orderness (default
/// none); when no line arrives for the idle timeout (default 1 s), the
/// watermark moves on with the clock, so a quiet source does not hold windows
/// open forever. Files are polled every poll interval (default 100 ms); a file
/// is assigned to one reader by a hash of its path. Lines must be UTF-8.
///
/// # Examples
/// ```
/// use beamline::io::FollowText;
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let lines = p.apply(FollowText::new("/var/log/app/*.log").poll_interval(std::time::Duration::from_millis(50)));
/// assert!(!lines.is_bounded());
/// ```
#[must_use = "a transform does nothing until applied"]
#[derive(Debug, Clone)]
pub struct FollowText {
    spec: Spec,
}

/// The source's settings: its payload in the portable graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Spec {
    pattern: String,
    poll_micros: i64,
    idle_micros: i64,
    out_of_order_micros: i64,
}

impl FollowText {
    /// Follows the files matching `pattern` (a path or a glob).
    pub fn new(pattern: impl Into<String>) -> Self {
        FollowText {
            spec: Spec {
                pattern: pattern.into(),
                poll_micros: 100_000,
                idle_micros: 1_000_000,
                out_of_order_micros: 0,
            },
        }
    }

    /// How often the files are checked for new lines and new files.
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.spec.poll_micros = crate::time::duration_micros(d).max(1);
        self
    }

    /// After this long without a new line the watermark follows the clock.
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.spec.idle_micros = crate::time::duration_micros(d);
        self
    }

    /// How far behind the latest event time the watermark stays.
    pub fn out_of_order(mut self, d: Duration) -> Self {
        self.spec.out_of_order_micros = crate::time::duration_micros(d);
        self
    }
}

impl PTransform<PBegin> for FollowText {
    type Output = PCollection<String>;

    fn default_label(&self) -> String {
        "FollowText".into()
    }

    fn expand(self, input: PBegin) -> PCollection<String> {
        let p = input.root().clone();
        if self.spec.pattern.is_empty() {
            p.fail(Error::Construction(format!("'{}': the file pattern is empty", p.current_label())));
        }
        let out = p.new_output::<String>("out", false, WindowingStrategy::default());
        let spec = self.spec;
        let payload = crate::graph::to_payload(&spec).unwrap_or_default();
        let builder: NodeBuilder = Arc::new(move |ctx| {
            let spec = if ctx.from_file {
                crate::graph::from_payload::<Spec>(ctx.payload)
                    .map_err(|e| Error::graph(ctx.label, format!("bad FollowText payload: {e}")))?
            } else {
                spec.clone()
            };
            Ok(Executable::ReadUnbounded(Arc::new(Follow { label: ctx.label.to_string(), spec: Arc::new(spec) })))
        });
        p.set_primitive(Primitive::read("follow_text".into(), payload, out.id(), builder));
        out
    }
}

struct Follow {
    label: String,
    spec: Arc<Spec>,
}

impl UnboundedSource for Follow {
    fn split(&self, desired: usize) -> Result<Vec<Box<dyn UnboundedReader>>> {
        // A pattern that cannot match is a user error worth reporting at once.
        glob::Pattern::new(&self.spec.pattern)
            .map_err(|e| Error::io(&self.label, &self.spec.pattern, std::io::Error::other(e.to_string())))?;
        let n = desired.max(1);
        Ok((0..n)
            .map(|k| {
                Box::new(Follower {
                    label: self.label.clone(),
                    spec: self.spec.clone(),
                    part: (k as u64, n as u64),
                    offsets: BTreeMap::new(),
                    last_poll: None,
                    last_line: Instant::now(),
                    max_seen: None,
                    watermark: Timestamp::MIN,
                }) as Box<dyn UnboundedReader>
            })
            .collect())
    }
}

/// Follows the files whose path hashes to `part.0` of `part.1`.
struct Follower {
    label: String,
    spec: Arc<Spec>,
    part: (u64, u64),
    /// Bytes consumed (up to the last complete line) per file.
    offsets: BTreeMap<String, u64>,
    last_poll: Option<Instant>,
    last_line: Instant,
    max_seen: Option<Timestamp>,
    watermark: Timestamp,
}

fn now() -> Timestamp {
    let d = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    Timestamp::from_micros(d.as_micros() as i64)
}

impl Follower {
    fn err(&self, path: &str, e: std::io::Error) -> Error {
        Error::io(&self.label, path, e)
    }

    fn my_files(&self) -> Result<Vec<String>> {
        let paths =
            glob::glob(&self.spec.pattern).map_err(|e| self.err(&self.spec.pattern, std::io::Error::other(e)))?;
        Ok(paths
            .filter_map(|p| p.ok())
            .filter(|p| p.is_file())
            .map(|p| p.display().to_string())
            .filter(|p| crate::element::key_hash(p) % self.part.1 == self.part.0)
            .collect())
    }

    /// Reads the complete lines appended to `path` since the last call, up to `room`.
    fn read_new_lines(&mut self, path: &str, room: usize, lines: &mut Vec<String>) -> Result<()> {
        let offset = *self.offsets.get(path).unwrap_or(&0);
        let mut file = std::fs::File::open(path).map_err(|e| self.err(path, e))?;
        let len = file.metadata().map_err(|e| self.err(path, e))?.len();
        if len < offset {
            // Truncated (rotated in place): start over.
            self.offsets.insert(path.to_string(), 0);
            return Ok(());
        }
        if len == offset {
            return Ok(());
        }
        file.seek(SeekFrom::Start(offset)).map_err(|e| self.err(path, e))?;
        let mut buf = Vec::new();
        file.take(CHUNK.min(len - offset)).read_to_end(&mut buf).map_err(|e| self.err(path, e))?;
        let mut consumed = 0;
        for line in buf.split_inclusive(|&b| b == b'\n') {
            if lines.len() >= room || line.last() != Some(&b'\n') {
                break; // full, or a line still being written
            }
            consumed += line.len();
            let text = std::str::from_utf8(&line[..line.len() - 1]).map_err(|e| {
                self.err(path, std::io::Error::new(std::io::ErrorKind::InvalidData, format!("line is not UTF-8: {e}")))
            })?;
            lines.push(text.strip_suffix('\r').unwrap_or(text).to_string());
        }
        self.offsets.insert(path.to_string(), offset + consumed as u64);
        Ok(())
    }
}

impl UnboundedReader for Follower {
    fn advance(&mut self, emit: &mut dyn FnMut(Batch) -> Result<()>) -> Result<ReadStatus> {
        let poll = Duration::from_micros(self.spec.poll_micros as u64);
        if let Some(last) = self.last_poll {
            if last.elapsed() < poll {
                return Ok(ReadStatus::Idle(poll - last.elapsed()));
            }
        }
        self.last_poll = Some(Instant::now());
        let mut lines = Vec::new();
        for path in self.my_files()? {
            if lines.len() >= BATCH {
                break;
            }
            self.read_new_lines(&path, BATCH, &mut lines)?;
        }
        let full = lines.len() >= BATCH;
        if lines.is_empty() {
            if self.last_line.elapsed() >= Duration::from_micros(self.spec.idle_micros.max(0) as u64) {
                // Quiet for the idle timeout: let the watermark follow the clock.
                self.watermark = self.watermark.max(now().plus_micros(-self.spec.out_of_order_micros));
            }
        } else {
            let ts = now();
            self.last_line = Instant::now();
            self.max_seen = Some(self.max_seen.map_or(ts, |m| m.max(ts)));
            self.watermark = self.watermark.max(ts.plus_micros(-self.spec.out_of_order_micros));
            emit(Batch::new(
                lines
                    .into_iter()
                    .map(|l| WindowedValue {
                        value: l,
                        timestamp: ts,
                        window: Window::Global,
                        pane: Default::default(),
                    })
                    .collect(),
            ))?;
        }
        if full {
            self.last_poll = None; // more is waiting: read again at once
            return Ok(ReadStatus::More);
        }
        Ok(ReadStatus::Idle(poll))
    }

    fn watermark(&self) -> Timestamp {
        self.watermark
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_appended_lines_and_new_files_and_waits_for_the_end_of_a_line() {
        let dir = std::env::temp_dir().join(format!("beamline-follow-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a.log");
        std::fs::write(&a, "one\ntwo\npart").unwrap();
        let spec = FollowText::new(format!("{}/*.log", dir.display())).poll_interval(Duration::from_micros(1)).spec;
        let mut r = Follow { label: "F".into(), spec: Arc::new(spec) }.split(1).unwrap().pop().unwrap();
        let read = |r: &mut Box<dyn UnboundedReader>| {
            let mut out = Vec::new();
            std::thread::sleep(Duration::from_millis(2));
            r.advance(&mut |b| {
                out.extend(b.downcast::<String>()?.into_iter().map(|v| v.value));
                Ok(())
            })
            .unwrap();
            out
        };
        assert_eq!(read(&mut r), ["one", "two"]);
        let before = r.watermark();
        assert!(before > Timestamp::MIN);
        std::fs::write(&a, "one\ntwo\npartial\r\nthree\n").unwrap();
        std::fs::write(dir.join("b.log"), "new file\n").unwrap();
        let mut got = read(&mut r);
        got.sort();
        assert_eq!(got, ["new file", "partial", "three"]);
        assert!(read(&mut r).is_empty());
        assert!(r.watermark() >= before);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
