//! File IO: text and JSON lines, read by file or glob, written atomically.

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
