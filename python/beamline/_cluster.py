"""``--runner=timely --processes=N`` from one command: starts N worker processes
of the same program (each its own interpreter), one per process index on
loopback, and waits for them. Process 0 reports the cluster's metrics."""

import json
import os
import socket
import subprocess
import sys
import tempfile

_ENV_INDEX = "BEAMLINE_PROCESS_INDEX"
_ENV_HOSTS = "BEAMLINE_HOSTS"
_ENV_RESULT = "BEAMLINE_RESULT_FILE"
_ENV_ERROR = "BEAMLINE_ERROR_FILE"


def _flag(args, name):
    for a in args:
        if a.startswith("--%s=" % name):
            return a.split("=", 1)[1]
    return None


def _free_ports(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def worker_args(args):
    """The flags of a worker started by a driver: its index and the hosts file."""
    index = os.environ.get(_ENV_INDEX)
    if index is None or _flag(args, "process-index") is not None:
        return args
    return list(args) + ["--process-index=%s" % index, "--hosts=%s" % os.environ[_ENV_HOSTS]]


def maybe_launch(pipeline):
    """Runs the cluster when this process is its driver; ``None`` when it should run itself."""
    args = pipeline._args
    processes = _flag(args, "processes")
    if processes is None or int(processes) <= 1 or _flag(args, "process-index") is not None:
        return None
    if os.environ.get(_ENV_INDEX) is not None:
        return None
    n = int(processes)
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    if script is None:
        raise RuntimeError("--processes=%d starts the program once per process: run it as a script or module, "
                           "not from an interactive session or -c" % n)
    with tempfile.TemporaryDirectory(prefix="beamline-cluster-") as tmp:
        hosts = os.path.join(tmp, "hosts")
        with open(hosts, "w") as f:
            f.write("".join("127.0.0.1:%d\n" % p for p in _free_ports(n)))
        result_file = os.path.join(tmp, "result.json")
        procs = []
        for i in range(n):
            env = dict(os.environ, **{_ENV_INDEX: str(i), _ENV_HOSTS: hosts,
                                      _ENV_ERROR: os.path.join(tmp, "error-%d.pickle" % i)})
            if i == 0:
                env[_ENV_RESULT] = result_file
            argv = [sys.executable, os.path.abspath(script)] + sys.argv[1:]
            # A session of their own: a Ctrl-C in the terminal reaches the
            # driver only, which passes it on once (a second signal makes a
            # worker exit at once instead of draining).
            procs.append(subprocess.Popen(argv, env=env, start_new_session=True))
        codes = _wait_forwarding_signals(procs)
        errors = [_read_error(os.path.join(tmp, "error-%d.pickle" % i)) for i in range(n)]
        errors = [e for e in errors if e is not None]
        # The user's exception first: its peers fail after it, with "lost process".
        from beamline._native import PipelineError

        errors.sort(key=lambda e: isinstance(e, PipelineError))
        if errors:
            raise errors[0]
        if any(codes):
            failed = [i for i, c in enumerate(codes) if c]
            raise RuntimeError("the cluster failed: process(es) %s exited with %s (their errors are above)"
                               % (failed, [codes[i] for i in failed]))
        from beamline.metrics.metric import MetricResults
        from beamline.pipeline import PipelineResult

        metrics = None
        if os.path.exists(result_file):
            with open(result_file) as f:
                data = json.load(f)

            class _Stored:
                def counters(self):
                    return [tuple(x) for x in data["counters"]]

                def distributions(self):
                    return [tuple(x) for x in data["distributions"]]

                def gauges(self):
                    return [tuple(x) for x in data["gauges"]]

                def runner(self):
                    return "timely"

            metrics = MetricResults.from_native(_Stored())
        result = PipelineResult(None, metrics)
    return result


def _wait_forwarding_signals(procs):
    """Waits for the workers; SIGINT and SIGTERM sent to the driver go to each
    worker still running (an unbounded pipeline drains on the first)."""
    import signal
    import threading

    def forward(signum, frame):
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, forward)
    try:
        return [p.wait() for p in procs]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def report(native_result):
    """In worker 0 of a driven cluster: writes the metrics for the driver."""
    path = os.environ.get(_ENV_RESULT)
    if path:
        with open(path, "w") as f:
            json.dump({"counters": native_result.counters(), "distributions": native_result.distributions(),
                       "gauges": native_result.gauges()}, f)


def report_error(e):
    """In a worker of a driven cluster: keeps the exception for the driver to raise."""
    path = os.environ.get(_ENV_ERROR)
    if not path:
        return
    import cloudpickle

    try:
        data = cloudpickle.dumps(e.with_traceback(None))
    except Exception:  # noqa: BLE001 - an exception that does not pickle
        data = cloudpickle.dumps(RuntimeError("%s: %s" % (type(e).__name__, e)))
    with open(path, "wb") as f:
        f.write(data)


def _read_error(path):
    if not os.path.exists(path):
        return None
    import pickle

    with open(path, "rb") as f:
        return pickle.load(f)
