"""``Pipeline``: builds the graph through the native module and runs it on a
beamline runner (``--runner=direct|rayon|timely``)."""

import logging

from beamline import _native
from beamline.options.pipeline_options import DirectOptions, PipelineOptions
from beamline.pvalue import PBegin, PCollection, PValue

__all__ = ["Pipeline", "PipelineResult", "PipelineState"]

_LOGGER = logging.getLogger(__name__)


class PipelineState:
    """Beam's pipeline states (a beamline run ends DONE or raises)."""

    UNKNOWN = "UNKNOWN"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


class Pipeline:
    """A pipeline: ``with Pipeline(options=...) as p: p | ...`` runs it on leaving the block."""

    def __init__(self, runner=None, options=None, argv=None, display_data=None):
        if options is None:
            options = PipelineOptions(argv or [])
        elif not isinstance(options, PipelineOptions):
            raise ValueError("Parameter options, if specified, must be of type PipelineOptions. Received : %r" % (options,))
        if runner is not None:
            options._all_options["runner"] = runner
        self._options = options
        args = options._beamline_args(set(_native.known_flags()))
        workers = options.view_as(DirectOptions).direct_num_workers
        if workers and not any(a.startswith("--workers") for a in args):
            args.append("--workers=%d" % workers)
        names = _native.runner_names()
        runner_arg = [a for a in args if a.startswith("--runner=")]
        if runner_arg and runner_arg[0].split("=", 1)[1] not in names:
            raise ValueError("Unexpected pipeline runner: %s. Valid runners are %s (and Beam's DirectRunner, which means direct)."
                             % (runner_arg[0].split("=", 1)[1], ", ".join(names)))
        from beamline import _cluster

        self._args = _cluster.worker_args(args)
        self._native = _native.Pipeline(self._args)
        self._labels = set()
        from beamline.options.pipeline_options import TypeOptions

        # Read without view_as, which would record the defaults among the options.
        self._type_check = options._parse(TypeOptions).get("pipeline_type_check", True)
        self._scopes = []
        self._ran = False

    @property
    def options(self):
        return self._options

    @property
    def allow_unsafe_triggers(self):
        """Whether ``--allow_unsafe_triggers`` lifts the checks of triggers that may lose data."""
        return "--allow-unsafe-triggers" in self._args

    def __repr__(self):
        return "<Pipeline runner=%s>" % self._native.runner()

    # Building.
    def apply(self, transform, pvalueish=None, label=None):
        """Applies ``transform`` to ``pvalueish`` (the pipeline itself for roots)."""
        from beamline.transforms.ptransform import PTransform, _NamedPTransform

        if isinstance(transform, _NamedPTransform):
            return self.apply(transform.transform, pvalueish, label or transform.label)
        if not isinstance(transform, PTransform):
            raise TypeError("Expected a PTransform object, got %r" % (transform,))
        if pvalueish is None or pvalueish is self:
            pvalueish = PBegin(self)
        label = label or transform.label
        full = "/".join(self._scopes + [label])
        if full in self._labels:
            raise RuntimeError(
                'A transform with label "%s" already exists in the pipeline. To apply a transform with a specified '
                'label, write pvalue | "label" >> transform' % full)
        self._labels.add(full)
        transform._check_input(pvalueish)
        if self._type_check:
            transform.__dict__["_applying_label"] = label
            try:
                transform.type_check_inputs(pvalueish)
            finally:
                transform.__dict__.pop("_applying_label", None)
        native_apply = getattr(transform, "_native_apply", None)
        # A transform applied natively, or (when it has no native form, or its
        # _native_apply says NotImplemented for these arguments) a composite.
        result = NotImplemented if native_apply is None else native_apply(self, label, pvalueish)
        if result is NotImplemented:
            self._native.begin(label, _ids(pvalueish))
            self._scopes.append(label)
            try:
                result = transform.expand(pvalueish)
            except BaseException:
                # The composite is closed and the user's own exception propagates.
                self._scopes.pop()
                self._native.end([])
                raise
            self._scopes.pop()
            self._native.end(_ids(result))
        _set_element_types(transform, pvalueish, result)
        return result

    def _full_label(self, label):
        return "/".join(self._scopes + [label])

    def _pcoll(self, native_id, label):
        return PCollection(self, native_id, self._full_label(label))

    def __or__(self, transform):
        return self.apply(transform, PBegin(self))

    # Running.
    def run(self, test_runner_api="AUTO"):
        """Runs the pipeline and waits for it; an error in user code is raised with the step's label."""
        if self._ran:
            raise RuntimeError("this pipeline has already run")
        self._ran = True
        from beamline import _cluster

        launched = _cluster.maybe_launch(self)
        if launched is not None:
            return launched
        try:
            try:
                native_result = self._native.run()
            except Exception as e:  # noqa: BLE001 - re-raised below
                label = getattr(e, "_beamline_label", None)
                if label is None:
                    raise
                _reraise_with_label(e, label)
        except Exception as e:  # noqa: BLE001 - re-raised
            _cluster.report_error(e)
            raise
        _cluster.report(native_result)
        return PipelineResult(native_result)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, tb):
        if exc_type is None:
            self.run().wait_until_finish()
        return False

    def to_json(self):
        """The portable graph as JSON (as ``--dump-graph`` writes it)."""
        return self._native.graph_json()


def _set_element_types(transform, pvalueish, result):
    """The output's element type: the declared output hint, else what the transform infers
    from its input's (a PCollection's element type; several inputs as given)."""
    from beamline.typehints import typehints

    if not isinstance(result, PCollection):
        return
    if result.windowing is None:
        # Elements keep their windows unless the transform re-windows them.
        first = pvalueish if isinstance(pvalueish, PCollection) else next(
            (v for v in (pvalueish if isinstance(pvalueish, (tuple, list)) else []) if isinstance(v, PCollection)),
            None)
        if first is not None:
            result.windowing = first.windowing
    declared = transform.get_type_hints().simple_output()
    if declared is not None:
        result.element_type = declared
    elif not result._element_type_known():
        def infer():
            if isinstance(pvalueish, PCollection):
                given = pvalueish.element_type if pvalueish.element_type is not None else typehints.Any
            else:
                given = pvalueish
            return transform.infer_output_type(given)

        result._infer_element_type_later(infer)


def _reraise_with_label(e, label):
    """Raises ``e`` again as Beam does: the same type, the label appended, the original traceback."""
    message = "%s [while running '%s']" % (e, label)
    try:
        new = type(e)(message)
    except Exception:  # noqa: BLE001 - an exception type whose constructor takes other arguments
        raise RuntimeError("%s: %s" % (type(e).__name__, message)) from e
    raise new.with_traceback(e.__traceback__) from None


def _ids(pvalueish):
    if isinstance(pvalueish, PCollection):
        return [pvalueish._id]
    if isinstance(pvalueish, dict):
        return [i for v in pvalueish.values() for i in _ids(v)]
    if isinstance(pvalueish, (tuple, list)):
        return [i for v in pvalueish for i in _ids(v)]
    if hasattr(pvalueish, "_main") and hasattr(pvalueish, "_tagged"):
        return [i for v in pvalueish for i in _ids(v)]
    return []


class PipelineResult:
    """A finished run: its state and metrics."""

    def __init__(self, native_result, metrics=None):
        self._native = native_result
        self._metrics = metrics

    @property
    def state(self):
        return PipelineState.DONE

    def wait_until_finish(self, duration=None):
        return PipelineState.DONE

    def cancel(self):
        return PipelineState.DONE

    def metrics(self):
        from beamline.metrics.metric import MetricResults

        if self._metrics is None:
            self._metrics = MetricResults.from_native(self._native)
        return self._metrics

    def runner(self):
        return self._native.runner() if self._native is not None else ""
