"""The floor: wordcount in plain Python with ``collections.Counter``, one process.

    python wordcount_counter.py --input FILE --output PREFIX

Writes ``str((word, count))`` lines to ``PREFIX-00000-of-00001``.
"""

import argparse
import collections


def run(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    counts = collections.Counter()
    with open(args.input, encoding="utf-8") as f:
        for line in f:
            counts.update(line.split())
    with open(args.output + "-00000-of-00001", "w", encoding="utf-8") as out:
        for kv in counts.items():
            out.write("%s\n" % (kv,))


if __name__ == "__main__":
    run()
