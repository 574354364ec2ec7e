"""Apache Beam's wordcount, unchanged but for its first import.

    python examples/python/wordcount.py --output /tmp/counts [--input 'data/*.txt'] [--runner=rayon|timely]
        [--workers=2] [--processes=2]
"""

import argparse
import logging
import os
import re

import beamline as beam
from beamline.io import ReadFromText, WriteToText
from beamline.options.pipeline_options import PipelineOptions, SetupOptions

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sonnets.txt")


class WordExtractingDoFn(beam.DoFn):
    """Parse each line of input text into words."""

    def process(self, element):
        """Returns an iterator over the words of this element."""
        return re.findall(r"[\w\']+", element, re.UNICODE)


def run(argv=None, save_main_session=True):
    """Main entry point; defines and runs the wordcount pipeline."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", dest="input", default=SAMPLE, help="Input file to process.")
    parser.add_argument("--output", dest="output", required=True, help="Output file to write results to.")
    known_args, pipeline_args = parser.parse_known_args(argv)

    pipeline_options = PipelineOptions(pipeline_args)
    pipeline_options.view_as(SetupOptions).save_main_session = save_main_session

    with beam.Pipeline(options=pipeline_options) as p:
        lines = p | "Read" >> ReadFromText(known_args.input)

        counts = (
            lines
            | "Split" >> (beam.ParDo(WordExtractingDoFn()).with_output_types(str))
            | "PairWithOne" >> beam.Map(lambda x: (x, 1))
            | "GroupAndSum" >> beam.CombinePerKey(sum))

        def format_result(word, count):
            return "%s: %d" % (word, count)

        output = counts | "Format" >> beam.MapTuple(format_result)

        output | "Write" >> WriteToText(known_args.output)


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.INFO)
    run()
