"""Per-user activity sessions with keyed state and timers, written against
Apache Beam's Python API (``import beamline as beam``; with ``import
apache_beam as beam`` and Beam's paths it runs on Beam too).

Each user's clicks collect in a bag; an event-time timer, pushed back on
every click, fires once the user has been idle for ``--gap`` seconds of event
time and emits the session (user, clicks, first and last click). A
combining cell keeps each user's total clicks across sessions, and a
processing-time timer reports it every ``--report`` seconds while clicks
come. Run it:

  python examples/python/stateful_sessions.py --runner=timely --workers=2 --events=5000 --output=/tmp/sessions
  python examples/python/stateful_sessions.py --runner=timely --rate=500   # endless: Ctrl-C drains it
"""

import argparse
import logging

import beamline as beam
from beamline.coders import coders
from beamline.io.external.generate_sequence import GenerateSequence
from beamline.options.pipeline_options import PipelineOptions
from beamline.transforms.userstate import BagStateSpec
from beamline.transforms.userstate import CombiningValueStateSpec
from beamline.transforms.userstate import ReadModifyWriteStateSpec
from beamline.transforms.userstate import TimerSpec
from beamline.transforms.userstate import TimeDomain
from beamline.transforms.userstate import on_timer
from beamline.utils.timestamp import Duration
from beamline.utils.timestamp import Timestamp


class SessionizeClicks(beam.DoFn):
  """(user, click time in seconds) pairs into sessions per user."""

  CLICKS = BagStateSpec('clicks', coders.FloatCoder())
  TOTAL = CombiningValueStateSpec('total', sum)
  REPORTING = ReadModifyWriteStateSpec('reporting', coders.BooleanCoder())
  IDLE = TimerSpec('idle', TimeDomain.WATERMARK)
  REPORT = TimerSpec('report', TimeDomain.REAL_TIME)

  def __init__(self, gap, report_every):
    self.gap = gap
    self.report_every = report_every

  def process(
      self,
      element,
      ts=beam.DoFn.TimestampParam,
      clicks=beam.DoFn.StateParam(CLICKS),
      total=beam.DoFn.StateParam(TOTAL),
      reporting=beam.DoFn.StateParam(REPORTING),
      idle=beam.DoFn.TimerParam(IDLE),
      report=beam.DoFn.TimerParam(REPORT)):
    _, at = element
    clicks.add(at)
    total.add(1)
    # The session ends `gap` seconds after its latest click.
    latest = max(clicks.read())
    idle.set(Timestamp.of(latest) + Duration.of(self.gap))
    if not reporting.read():
      reporting.write(True)
      report.set(Timestamp.now() + Duration.of(self.report_every))

  @on_timer(IDLE)
  def session_ended(
      self,
      user=beam.DoFn.KeyParam,
      clicks=beam.DoFn.StateParam(CLICKS)):
    times = sorted(clicks.read())
    clicks.clear()
    yield 'session', user, len(times), times[0], times[-1]

  @on_timer(REPORT)
  def report_total(
      self,
      user=beam.DoFn.KeyParam,
      total=beam.DoFn.StateParam(TOTAL),
      reporting=beam.DoFn.StateParam(REPORTING)):
    reporting.clear()
    yield 'total', user, total.read()


def click(n, ts=beam.DoFn.TimestampParam):
  """Click n, at its generated event time (in seconds): users take turns of
  100 clicks (10 s), so each comes back after 50 turns (500 s) for a new session."""
  return 'user%02d' % ((n // 100 * 7919) % 50), ts.micros / 1e6


def run(argv=None):
  parser = argparse.ArgumentParser()
  parser.add_argument('--events', type=int, default=None,
                      help='Clicks to generate (default: endless)')
  parser.add_argument('--rate', type=float, default=1000,
                      help='Clicks per second')
  parser.add_argument('--gap', type=float, default=30,
                      help='Seconds of event time without a click that end a session')
  parser.add_argument('--report', type=float, default=5,
                      help='Seconds of processing time between reports of a user\'s total')
  parser.add_argument('--output', default=None,
                      help='Write the sessions to files with this prefix (default: log them)')
  args, pipeline_args = parser.parse_known_args(argv)

  with beam.Pipeline(options=PipelineOptions(pipeline_args)) as p:
    results = (
        p
        # One click every 0.1 s of event time, now and then 3 s out of order.
        | 'Clicks' >> GenerateSequence(
            0, args.events, elements_per_period=args.rate,
            timestamp_spacing=0.1, out_of_order=3, seed=7)
        | 'ToUserClick' >> beam.Map(click)
        | 'Sessionize' >> beam.ParDo(SessionizeClicks(args.gap, args.report)))
    sessions = results | 'Sessions' >> beam.Filter(lambda r: r[0] == 'session')
    totals = results | 'Totals' >> beam.Filter(lambda r: r[0] == 'total')
    _ = totals | 'LogTotals' >> beam.Map(lambda r: logging.info('%s has clicked %d times', r[1], r[2]))
    if args.output:
      _ = (
          sessions
          | 'Format' >> beam.MapTuple(lambda _, user, n, first, last: '%s,%d,%.1f,%.1f' % (user, n, first, last))
          | 'Window' >> beam.WindowInto(beam.window.FixedWindows(3600))
          | 'Write' >> beam.io.WriteToText(args.output))
    else:
      _ = sessions | 'LogSessions' >> beam.Map(lambda r: logging.info('session: %s', r[1:]))


if __name__ == '__main__':
  logging.getLogger().setLevel(logging.INFO)
  run()
