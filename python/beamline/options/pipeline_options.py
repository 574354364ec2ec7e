"""``PipelineOptions`` parsed from ``sys.argv``-style flags, as in Beam.

Each options class declares its flags with ``_add_argparse_args``; ``view_as``
gives one class's view of all the flags. Flags no class declares pass through
to beamline's runners when they know them (``--workers``, ``--rayon-...``,
``--timely-...``, ``--processes``, ...) and are discarded with Beam's warning
otherwise.
"""

import argparse
import logging

__all__ = ["PipelineOptions", "StandardOptions", "SetupOptions", "DirectOptions", "BeamlineOptions", "TypeOptions",
           "DebugOptions", "GoogleCloudOptions", "WorkerOptions"]

_LOGGER = logging.getLogger(__name__)


class _BeamArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        raise ValueError("Invalid pipeline option: %s" % message)


class PipelineOptions:
    """Options of a pipeline: ``PipelineOptions(['--runner=rayon'], workers=2)``."""

    def __init__(self, flags=None, **kwargs):
        if isinstance(flags, str):
            raise ValueError("PipelineOptions takes a list of flags, not a string: %r" % flags)
        self._flags = list(flags or [])
        self._all_options = dict(kwargs)
        self._views = {}

    @classmethod
    def _add_argparse_args(cls, parser):
        pass

    @classmethod
    def from_dictionary(cls, options):
        flags = []
        for k, v in options.items():
            if isinstance(v, bool):
                if v:
                    flags.append("--%s" % k)
            elif isinstance(v, list):
                flags.extend("--%s=%s" % (k, x) for x in v)
            else:
                flags.append("--%s=%s" % (k, v))
        return cls(flags)

    def _parse(self, cls):
        parser = _BeamArgumentParser(allow_abbrev=False, add_help=False)
        cls._add_argparse_args(parser)
        known, _ = parser.parse_known_args(self._flags)
        values = vars(known)
        for k in values:
            if k in self._all_options:
                values[k] = self._all_options[k]
        return values

    def view_as(self, cls):
        """This pipeline's options as seen by the options class ``cls``."""
        view = self._views.get(cls)
        if view is None:
            view = cls.__new__(cls)
            view._flags = self._flags
            view._all_options = self._all_options
            view._views = self._views
            for k, v in self._parse(cls).items():
                self._all_options.setdefault(k, v)
            self._views[cls] = view
        return view

    def get_all_options(self, drop_default=False, retain_unknown_options=False):
        parser = _BeamArgumentParser(allow_abbrev=False, add_help=False)
        for cls in _all_subclasses(PipelineOptions):
            try:
                cls._add_argparse_args(parser)
            except argparse.ArgumentError:
                pass
        known, unknown = parser.parse_known_args(self._flags)
        result = vars(known)
        result.update(self._all_options)
        if drop_default:
            result = {k: v for k, v in result.items() if v is not None and v is not False}
        return result

    def display_data(self):
        return self.get_all_options(drop_default=True)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._all_options:
            return self._all_options[name]
        for cls in _all_subclasses(PipelineOptions):
            values = self._parse(cls)
            if name in values:
                self._all_options[name] = values[name]
                return values[name]
        raise AttributeError("'%s' object has no attribute '%s'" % (type(self).__name__, name))

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self._all_options[name] = value

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, self.get_all_options(drop_default=True))

    # What the runner gets.
    def _beamline_args(self, known_flags):
        """Flags for the native pipeline: ``--runner`` and every flag the runners know."""
        std = self.view_as(StandardOptions)
        runner = std.runner
        args = []
        if runner is not None:
            args.append("--runner=%s" % _runner_name(runner))
        discarded = []
        declared = _declared_flags()
        i = 0
        flags = self._flags
        while i < len(flags):
            f = flags[i]
            i += 1
            if not f.startswith("--"):
                continue
            name, eq, value = f[2:].partition("=")
            norm = name.replace("_", "-")
            if norm == "runner":
                if not eq and i < len(flags) and not flags[i].startswith("--"):
                    i += 1
                continue
            if norm in known_flags:
                if not eq and i < len(flags) and not flags[i].startswith("--"):
                    value, eq = flags[i], "="
                    i += 1
                args.append("--%s%s%s" % (norm, "=" if eq else "", value))
            elif name not in declared and norm not in declared:
                discarded.append(f)
        for k, v in self._all_options.items():
            norm = k.replace("_", "-")
            if norm in known_flags and norm != "runner" and v is not None and not any(a.startswith("--%s=" % norm) for a in args):
                if isinstance(v, bool):
                    # A switch: given when true, once.
                    if v and "--%s" % norm not in args:
                        args.append("--%s" % norm)
                    continue
                args.append("--%s=%s" % (norm, v))
        if discarded:
            _LOGGER.warning("Discarding unparseable args: %s", discarded)
        return args


def _runner_name(runner):
    if not isinstance(runner, str):
        runner = type(runner).__name__
    lowered = runner.lower()
    for suffix in ("runner",):
        if lowered.endswith(suffix) and lowered != suffix:
            lowered = lowered[: -len(suffix)]
    aliases = {"direct": "direct", "bundlebaseddirect": "direct", "fnapi": "direct", "swappingdirect": "direct",
               "rayon": "rayon", "timely": "timely"}
    return aliases.get(lowered, runner)


def _all_subclasses(cls):
    seen = []
    stack = [cls]
    while stack:
        c = stack.pop()
        for s in c.__subclasses__():
            if s not in seen:
                seen.append(s)
                stack.append(s)
    return seen


def _declared_flags():
    parser = _BeamArgumentParser(allow_abbrev=False, add_help=False)
    for cls in _all_subclasses(PipelineOptions):
        try:
            cls._add_argparse_args(parser)
        except argparse.ArgumentError:
            pass
    names = set()
    for action in parser._actions:
        for s in action.option_strings:
            names.add(s.lstrip("-"))
    return names


class StandardOptions(PipelineOptions):
    """``--runner`` (direct, rayon, timely; Beam's ``DirectRunner`` means direct) and ``--streaming``."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--runner", help="Pipeline runner: direct (default), rayon or timely.")
        parser.add_argument("--streaming", default=False, action="store_true")


class SetupOptions(PipelineOptions):
    """Beam's setup options (accepted; the code travels by cloudpickle either way)."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--save_main_session", default=False, action="store_true")
        parser.add_argument("--requirements_file", default=None)
        parser.add_argument("--setup_file", default=None)
        parser.add_argument("--pickle_library", default="default")


class DirectOptions(PipelineOptions):
    """Beam's direct-runner options; ``--direct_num_workers`` sets ``--workers``."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--direct_num_workers", type=int, default=None)
        parser.add_argument("--direct_running_mode", default="in_memory")


class TypeOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        # As in Beam: type hints are checked when the pipeline is built unless --no_pipeline_type_check.
        parser.add_argument("--no_pipeline_type_check", dest="pipeline_type_check", default=True,
                            action="store_false")
        parser.add_argument("--pipeline_type_check", dest="pipeline_type_check", action="store_true")
        parser.add_argument("--type_check_strictness", default="DEFAULT_TO_ANY",
                            choices=["ALL_REQUIRED", "DEFAULT_TO_ANY"])
        parser.add_argument("--runtime_type_check", default=False, action="store_true")
        # As in Beam: build pipelines whose triggers may lose data (the Rust engine's check is lifted).
        parser.add_argument("--allow_unsafe_triggers", default=False, action="store_true")


class DebugOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--experiments", "--experiment", action="append", default=None)


class GoogleCloudOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--project", default=None)
        parser.add_argument("--job_name", default=None)
        parser.add_argument("--temp_location", default=None)
        parser.add_argument("--region", default=None)


class WorkerOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--num_workers", type=int, default=None)


class BeamlineOptions(PipelineOptions):
    """beamline's own flags, also accepted with underscores: ``--workers``, ``--processes``, ..."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--workers", type=int, default=None)
        parser.add_argument("--processes", type=int, default=None)
