"""User metrics, at Beam's module path: ``from beamline.metrics import Metrics``."""

from beamline.metrics.metric import Metrics, MetricsFilter

__all__ = ["Metrics", "MetricsFilter"]
