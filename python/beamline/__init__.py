"""beamline: Apache Beam's Python API on beamline's Rust runners.

``import beamline as beam`` and write a Beam pipeline; ``--runner=direct``
(the default, also Beam's ``DirectRunner``), ``--runner=rayon`` (every core)
or ``--runner=timely`` (threads and clusters of processes) runs it.
"""

from beamline import coders, io, metrics, pvalue, typehints  # noqa: F401
from beamline.pipeline import Pipeline  # noqa: F401
from beamline.pvalue import Row, TaggedOutput  # noqa: F401
from beamline.transforms import combiners, trigger, window  # noqa: F401
from beamline.transforms.core import (  # noqa: F401
    CallableWrapperCombineFn, CoGroupByKey, CombineFn, CombineGlobally, CombinePerKey, CombineValues, Create, DoFn,
    Filter, FlatMap, FlatMapTuple, Flatten, GroupByKey, Impulse, Map, MapTuple, ParDo, Partition, PartitionFn,
    WindowInto, Windowing)
from beamline.transforms.ptransform import PTransform, ptransform_fn  # noqa: F401
from beamline.transforms.stats import ApproximateQuantiles, ApproximateUnique  # noqa: F401
from beamline.transforms.util import (  # noqa: F401
    BatchElements, Distinct, GroupBy, GroupIntoBatches, Keys, KvSwap, Regex, RemoveDuplicates, Reshuffle, Select,
    ToString, Values, WithKeys)

__version__ = "0.1.0"
