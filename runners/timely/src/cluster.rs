//! Clusters of processes: the flags that describe one, and telling which
//! process was lost when a connection breaks.
//!
//! Every process runs the same program with `--processes=N`,
//! `--process-index=I` and `--hosts=FILE`; timely connects them. When a peer
//! dies, timely's receive thread for it panics (its thread is named
//! `timely:recv-<process>`) and poisons the queues of the local workers, which
//! then panic too. A panic hook notes which process was lost and keeps those
//! expected panics quiet, so the run fails with one message naming it.

use beamline::metrics::MetricResults;
use beamline::{Error, PipelineOptions, Result};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};
use timely::communication::{Hooks, WorkerGuards};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::vec::input::Handle as InputHandle;
use timely::dataflow::operators::{Operator, Probe};
use timely::dataflow::ProbeHandle;

/// The cluster this process belongs to (one process when not clustered).
#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    pub(crate) processes: usize,
    pub(crate) index: usize,
    pub(crate) addresses: Vec<String>,
    /// How long to wait for every process to connect.
    pub(crate) connect_timeout: Duration,
}

fn options_error(message: String) -> Error {
    Error::Options(format!("error: {message}"))
}

impl Cluster {
    pub(crate) fn from_options(options: &PipelineOptions) -> Result<Self> {
        let processes: usize = options.runner_flag("processes", 1)?;
        let index: usize = options.runner_flag("process-index", 0)?;
        let hosts: String = options.runner_flag("hosts", String::new())?;
        let timeout: String = options.runner_flag("timely-connect-timeout", "60s".to_string())?;
        let connect_timeout = crate::stop::parse_duration(&timeout).ok_or_else(|| {
            options_error(format!(
                "invalid value '{timeout}' for '--timely-connect-timeout': expected a duration like 60s"
            ))
        })?;
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
            return Ok(Cluster { processes, index, addresses: Vec::new(), connect_timeout });
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
        Ok(Cluster { processes, index, addresses, connect_timeout })
    }

    /// Connects to every other process (this one connects to those before
    /// it and accepts those after it), giving up after the connect timeout
    /// with an error naming the processes missing; then starts `threads`
    /// workers running `func` on timely's networking.
    pub(crate) fn execute<F>(&self, threads: usize, func: F) -> Result<WorkerGuards<()>>
    where
        F: Fn(&mut timely::worker::Worker) + Send + Sync + 'static,
    {
        let sockets = self.connect()?;
        let clones = sockets.iter().flatten().filter_map(|s| s.try_clone().ok()).collect();
        *OPEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = clones;
        let hooks = Hooks::default();
        let process = ProcessBuilder::new_typed_vector(threads, hooks.refill.clone(), hooks.spill.clone());
        let (builders, guard) = initialize_networking_from_sockets(process, sockets, self.index, threads, hooks)
            .map_err(|e| cluster_error(format!("cannot start the network threads: {e}")))?;
        let builders = builders.into_iter().map(AllocatorBuilder::Tcp).collect();
        timely::execute::execute_from(builders, Box::new(guard), timely::WorkerConfig::default(), func)
            .map_err(|e| cluster_error(format!("cannot start the workers: {e}")))
    }

    fn connect(&self) -> Result<Vec<Option<TcpStream>>> {
        let deadline = Instant::now() + self.connect_timeout;
        let me = &self.addresses[self.index];
        let listener = TcpListener::bind(me).map_err(|e| cluster_error(format!("cannot listen on {me}: {e}")))?;
        listener.set_nonblocking(true).map_err(|e| cluster_error(format!("cannot listen on {me}: {e}")))?;
        let earlier: Vec<(usize, String)> = self.addresses[..self.index].iter().cloned().enumerate().collect();
        let index = self.index as u64;
        let connecting = std::thread::spawn(move || -> std::result::Result<Vec<TcpStream>, usize> {
            let mut streams = Vec::new();
            for (peer, address) in earlier {
                loop {
                    if let Ok(mut stream) = TcpStream::connect(&address) {
                        if stream.set_nodelay(true).is_ok() && stream.write_all(&index.to_le_bytes()).is_ok() {
                            streams.push(stream);
                            break;
                        }
                    }
                    if Instant::now() >= deadline {
                        return Err(peer);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            Ok(streams)
        });
        let mut later: Vec<Option<TcpStream>> = (self.index + 1..self.processes).map(|_| None).collect();
        while later.iter().any(Option::is_none) && Instant::now() < deadline {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    let mut id = [0u8; 8];
                    let greeted = stream.set_nonblocking(false).is_ok()
                        && stream.set_read_timeout(Some(Duration::from_secs(5))).is_ok()
                        && stream.read_exact(&mut id).is_ok()
                        && stream.set_read_timeout(None).is_ok()
                        && stream.set_nodelay(true).is_ok();
                    let peer = u64::from_le_bytes(id) as usize;
                    if greeted && peer > self.index && peer < self.processes {
                        later[peer - self.index - 1] = Some(stream);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(cluster_error(format!("accepting connections on {me}: {e}"))),
            }
        }
        let missing = |peer: usize| {
            cluster_error(format!(
                "process {peer} of the cluster ({}) did not connect within {:?} (--timely-connect-timeout)",
                self.addresses[peer], self.connect_timeout
            ))
        };
        if let Some(k) = later.iter().position(Option::is_none) {
            return Err(missing(self.index + 1 + k));
        }
        let earlier = connecting.join().map_err(|_| cluster_error("the connecting thread failed".into()))?;
        let earlier = earlier.map_err(missing)?;
        let mut sockets: Vec<Option<TcpStream>> = earlier.into_iter().map(Some).collect();
        sockets.push(None);
        sockets.extend(later);
        Ok(sockets)
    }
}

/// This process's connections to its peers, to close when it fails.
static OPEN: std::sync::Mutex<Vec<TcpStream>> = std::sync::Mutex::new(Vec::new());

/// Closes this process's connections to its peers: after a failure here,
/// they stop ("lost process N") instead of waiting for this one forever, and
/// this process's network threads end, so its run returns the failure.
pub(crate) fn close_connections() {
    for stream in OPEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner).drain(..) {
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
}

fn cluster_error(message: String) -> Error {
    Error::Runner { runner: "timely".into(), message }
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

/// Sends this worker's metrics to the first worker of every process and
/// returns, on those, everything they received: the cluster's metrics (other
/// workers get an empty set back).
pub(crate) fn gather_metrics(
    worker: &mut timely::worker::Worker,
    mine: MetricResults,
    threads: usize,
    processes: usize,
) -> MetricResults {
    let gathered = Rc::new(RefCell::new(MetricResults::default()));
    let mut input = InputHandle::<u64, (u64, MetricResults)>::new();
    let probe = ProbeHandle::new();
    let into = gathered.clone();
    worker.dataflow::<u64, _, _>(|scope| {
        input
            .to_stream(scope)
            .unary::<CapacityContainerBuilder<Vec<()>>, _, _, _>(
                Exchange::new(|(to, _): &(u64, MetricResults)| *to),
                "GatherMetrics",
                move |_, _| {
                    move |input, _output| {
                        input.for_each(|_, data| {
                            for (_, m) in data.drain(..) {
                                into.borrow_mut().merge_results(m);
                            }
                        });
                    }
                },
            )
            .probe_with(&probe);
    });
    for process in 0..processes {
        input.send(((process * threads) as u64, mine.clone()));
    }
    input.close();
    while !probe.done() {
        worker.step_or_park(Some(Duration::from_millis(20)));
    }
    gathered.take()
}
