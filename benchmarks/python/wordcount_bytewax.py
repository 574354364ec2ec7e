"""Wordcount as a bytewax dataflow with the same callables as the Beam version.

    python -m bytewax.run "wordcount_bytewax:get_flow('FILE', 'PREFIX')"

(with this directory on ``PYTHONPATH``; one worker, bytewax's default).
Writes ``str((word, count))`` lines to ``PREFIX-00000-of-00001``.
"""

import bytewax.operators as op
from bytewax.connectors.files import FileSink, FileSource
from bytewax.dataflow import Dataflow


def get_flow(input_path, output_prefix):
    flow = Dataflow("wordcount")
    lines = op.input("read", flow, FileSource(input_path))
    words = op.flat_map("split", lines, lambda line: line.split())
    pairs = op.map("pair", words, lambda w: (w, 1))
    counts = op.reduce_final("sum", pairs, lambda a, b: a + b)
    # FileSink takes (key, line) pairs; the Beam programs' WriteToText writes str(element).
    lines_out = op.map("format", counts, lambda kv: (kv[0], "%s" % (kv,)))
    op.output("write", lines_out, FileSink(output_prefix + "-00000-of-00001"))
    return flow
