"""Wordcount written the Beam way with built-in transforms only.

``FlatMap(str.split)`` and ``combiners.Count.PerElement()``: beamline runs the
whole pipeline in Rust (no Python callable is called per element). The same
program runs on apache-beam; only the module that ``beam`` names differs
(``--sdk=beamline``, the default, or ``--sdk=apache_beam``). Every other flag
goes to ``PipelineOptions``:

    python wordcount_builtins.py --input FILE --output PREFIX --runner=rayon --workers=2
    python wordcount_builtins.py --sdk=apache_beam --input FILE --output PREFIX --runner=DirectRunner

Writes ``str((word, count))`` lines to ``PREFIX-SSSSS-of-NNNNN``.
"""

import argparse
import importlib


def run(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--sdk", default="beamline", choices=["beamline", "apache_beam"])
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    known, pipeline_args = parser.parse_known_args(argv)
    beam = importlib.import_module(known.sdk)
    PipelineOptions = importlib.import_module(known.sdk + ".options.pipeline_options").PipelineOptions

    with beam.Pipeline(options=PipelineOptions(pipeline_args)) as p:
        (p
         | "Read" >> beam.io.ReadFromText(known.input)
         | "Split" >> beam.FlatMap(str.split)
         | "Count" >> beam.combiners.Count.PerElement()
         | "Write" >> beam.io.WriteToText(known.output))


if __name__ == "__main__":
    run()
