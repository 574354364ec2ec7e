//! Sources and sinks. File IO: text and JSON lines, read by path or glob (splittable, gzip by
//! extension) and written as sharded files that appear atomically.
//!
//! Reads are `Read` primitives whose payload is the file pattern; writes are
//! portable composites (Beam's `WriteFiles`: write temporary shards, then
//! rename them all in one finalizing step). `GenerateSequence` (numbered,
//! timestamped elements) and `FollowText` (lines appended to files) are
//! unbounded sources for streaming pipelines.

mod file_sink;
mod file_source;
mod follow_text;
mod generate_sequence;
mod read_from_json_lines;
mod read_from_text;
mod test_stream;
mod write_to_json_lines;
mod write_to_text;

pub use follow_text::FollowText;
pub use generate_sequence::GenerateSequence;
pub use read_from_json_lines::ReadFromJsonLines;
pub use read_from_text::ReadFromText;
pub use test_stream::TestStream;
pub use write_to_json_lines::WriteToJsonLines;
pub use write_to_text::WriteToText;

/// Writes `bytes` to `path` through a temporary file renamed on success, so a
/// failure leaves nothing half-written.
pub(crate) fn write_atomically(path: &str, label: &str, bytes: &[u8]) -> crate::Result<()> {
    let tmp = format!("{path}.beamline-tmp-{}", std::process::id());
    let res = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(crate::Error::io(label, path, e));
    }
    Ok(())
}
