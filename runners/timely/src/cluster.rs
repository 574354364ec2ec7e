//! Clusters of processes: the flags that describe one, and telling which
//! process was lost when a connection breaks.
//!
//! Every process runs the same program with `--processes=N`,
//! `--process-index=I` and `--hosts=FILE`; timely connects them. When a peer
//! dies, timely's receive thread for it panics (its thread is named
//! `timely:recv-<process>`) and poisons the queues of the local workers, which
//! then panic too. A panic hook notes which process was lost and keeps those
//! expected panics quiet, so the run fails with one message naming it.

use beamline::{Error, PipelineOptions, Result};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

/// The cluster this process belongs to (one process when not clustered).
#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    pub(crate) processes: usize,
    pub(crate) index: usize,
    pub(crate) addresses: Vec<String>,
}

fn options_error(message: String) -> Error {
    Error::Options(format!("error: {message}"))
}

impl Cluster {
    pub(crate) fn from_options(options: &PipelineOptions) -> Result<Self> {
        let processes: usize = options.runner_flag("processes", 1)?;
        let index: usize = options.runner_flag("process-index", 0)?;
        let hosts: String = options.runner_flag("hosts", String::new())?;
        if processes == 0 {
            return Err(options_error("'--processes' must be at least 1".into()));
        }
        if index >= processes {
            return Err(options_error(format!(
                "'--process-index={index}' is out of range for '--processes={processes}' (0 to {})",
                processes - 1
            )));
        }
        if processes == 1 {
            return Ok(Cluster { processes, index, addresses: Vec::new() });
        }
        if hosts.is_empty() {
            return Err(options_error(format!(
                "'--processes={processes}' needs '--hosts=FILE' listing one host:port per process"
            )));
        }
        let text = std::fs::read_to_string(&hosts)
            .map_err(|e| options_error(format!("'--hosts': cannot read {hosts}: {e}")))?;
        let addresses: Vec<String> =
            text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect();
        if addresses.len() != processes {
            return Err(options_error(format!(
                "'--hosts' file {hosts} lists {} addresses, but '--processes={processes}' needs one per process",
                addresses.len()
            )));
        }
        if let Some(bad) =
            addresses.iter().find(|a| a.rsplit_once(':').is_none_or(|(_, port)| port.parse::<u16>().is_err()))
        {
            return Err(options_error(format!("'--hosts' file {hosts}: '{bad}' is not host:port")));
        }
        Ok(Cluster { processes, index, addresses })
    }
}

/// The lost process plus one; 0 while none was lost.
static LOST: AtomicUsize = AtomicUsize::new(0);

/// Installs (once) the panic hook that notes a lost peer.
pub(crate) fn watch_for_lost_processes() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("");
            let peer = name.strip_prefix("timely:recv-").or_else(|| name.strip_prefix("timely:send-"));
            if let Some(process) = peer.and_then(|p| p.parse::<usize>().ok()) {
                let _ = LOST.compare_exchange(0, process + 1, Ordering::AcqRel, Ordering::Acquire);
                return;
            }
            // What follows a lost peer: poisoned queues in the workers, and
            // the failed network threads when the runner joins them.
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let expected = ["MergeQueue poisoned", "Send thread panic", "Recv thread panic"];
            if LOST.load(Ordering::Acquire) != 0 && expected.iter().any(|e| message.contains(e)) {
                return;
            }
            previous(info);
        }));
    });
}

/// The process whose connection broke, if one did.
pub(crate) fn lost_process() -> Option<usize> {
    LOST.load(Ordering::Acquire).checked_sub(1)
}
