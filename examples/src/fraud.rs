//! The fraud check (`--example fraud`): a card is flagged when its spend
//! within a span of event time passes a limit.
//!
//! `Transactions` (`GenerateSequence` turned into card payments, or a CSV file
//! with `--input`) → `ByCard` → `CheckSpend`, a stateful ParDo: each card keeps
//! its recent payments in ordered-list state and sets an event-time timer at
//! each payment's time. When the watermark passes it, every earlier payment
//! has arrived, so the sum over the span ending there is final: over the
//! limit, the card is flagged. The timer then clears the payments too old to
//! matter, so a card's state never outgrows one span. The answer is the same
//! on every runner, bounded or not.

use crate::runners;
use beamline::io::{GenerateSequence, ReadFromText, WriteToText};
use beamline::prelude::*;
use beamline::state::{OrderedListState, StateSpecs, TimerFamily};
use beamline::{key_hash, Error, PipelineOptions, PipelineResult, Result};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The fraud check's own flags.
#[derive(clap::Args, Debug, Clone)]
pub struct FraudOptions {
    /// Payments to read: CSV lines `seconds,card,cents` (default: generated payments).
    #[arg(long, value_name = "FILE")]
    pub input: Option<String>,
    /// Generated payments (without `--input`).
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    pub events: u64,
    /// Generated payments per second (0: as fast as possible).
    #[arg(long, value_name = "PER_SECOND", default_value_t = 0.0)]
    pub rate: f64,
    /// Distinct cards of the generated payments.
    #[arg(long, value_name = "N", default_value_t = 200,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub cards: u64,
    /// The span of event time spend is summed over, in minutes.
    #[arg(long, value_name = "MINUTES", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub minutes: u64,
    /// The spend (in cents) that, passed within the span, flags a card.
    #[arg(long, value_name = "CENTS", default_value_t = 100_000)]
    pub limit: u64,
    /// Write the alerts (`card,seconds,cents` lines) as text shards with this prefix.
    #[arg(long, value_name = "PREFIX")]
    pub output: Option<String>,
}

/// A payment: card and amount in cents (its time is the element's timestamp).
pub type Payment = (String, u64);

/// An alert: card, the instant its spend passed the limit (µs), the spend in the span.
pub type Alert = (String, i64, u64);

/// Makes generated payment `n`: one of `cards` cards, 1 to 400 dollars, one second apart.
///
/// # Examples
/// ```
/// use beamline_examples::fraud::GeneratePaymentFn;
/// use beamline::prelude::*;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let pays = p.apply(Create::new(vec![0u64, 1])).apply(ParDo::of(GeneratePaymentFn { cards: 3 }));
/// assert_that(&pays, satisfies(|v: &[(String, u64)]| if v.len() == 2 { Ok(()) } else { Err(format!("{v:?}")) }));
/// p.run().unwrap();
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GeneratePaymentFn {
    /// Distinct cards.
    pub cards: u64,
}

impl DoFn for GeneratePaymentFn {
    type In = u64;
    type Out = Payment;
    fn process(&mut self, n: &u64, ctx: &mut ProcessContext<'_, Payment>) -> Result<(), DoFnError> {
        let (card, cents) = payment(*n, self.cards);
        ctx.emit((card, cents));
        Ok(())
    }
}

/// Generated payment `n`: its card and amount (fixed hashes of `n`).
pub fn payment(n: u64, cards: u64) -> Payment {
    let h = key_hash(&n);
    (format!("card-{:04}", h % cards), 100 + (h >> 32) % 40_000)
}

/// Parses a CSV line `seconds,card,cents` into a timestamped payment.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ParsePaymentFn;

impl DoFn for ParsePaymentFn {
    type In = String;
    type Out = Payment;
    fn process(&mut self, line: &String, ctx: &mut ProcessContext<'_, Payment>) -> Result<(), DoFnError> {
        if line.trim().is_empty() || line.starts_with('#') {
            return Ok(());
        }
        let bad = || DoFnError::new(format!("expected `seconds,card,cents`, got {line:?}"));
        let mut fields = line.split(',').map(str::trim);
        let (Some(secs), Some(card), Some(cents), None) = (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(bad());
        };
        let secs: i64 = secs.parse().map_err(|_| bad())?;
        let cents: u64 = cents.parse().map_err(|_| bad())?;
        ctx.emit_with_timestamp((card.to_string(), cents), Timestamp::from_secs(secs));
        Ok(())
    }
}

/// The check: payments kept per card in ordered-list state; an event-time
/// timer per payment instant sums the span ending there once the watermark
/// has passed it, flags the card over the limit, and clears what is too old.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CheckSpendFn {
    /// The span, in microseconds.
    pub span: i64,
    /// The limit, in cents.
    pub limit: u64,
    payments: OrderedListState<u64>,
    checks: TimerFamily,
}

impl CheckSpendFn {
    /// The check over `span` with `limit` cents.
    pub fn new(span: Duration, limit: u64) -> Self {
        CheckSpendFn { span: span.as_micros() as i64, limit, ..Default::default() }
    }
}

impl StatefulDoFn for CheckSpendFn {
    type Key = String;
    type Value = u64;
    type Out = Alert;

    fn declare(&mut self, specs: &mut StateSpecs) {
        self.payments = specs.ordered_list("payments");
        self.checks = specs.timer_family("checks", TimeDomain::EventTime);
    }

    fn process(
        &mut self,
        _card: &String,
        cents: &u64,
        ctx: &mut StateContext<'_, String, Alert>,
    ) -> Result<(), DoFnError> {
        let at = ctx.timestamp();
        ctx.ordered_list(&self.payments)?.add(at, *cents);
        // One check per distinct instant (a timer of the family per instant).
        ctx.timer_family(&self.checks, &at.as_micros().to_string())?.set(at)
    }

    fn on_timer(&mut self, timer: &FiredTimer, ctx: &mut StateContext<'_, String, Alert>) -> Result<(), DoFnError> {
        let at = timer.timestamp();
        let from = at.plus_micros(-self.span + 1);
        let mut payments = ctx.ordered_list(&self.payments)?;
        let spend: u64 = payments.read_range(from, at.plus_micros(1)).iter().map(|(_, c)| c).sum();
        // Later checks look back from later instants: older payments no longer count.
        payments.clear_range(Timestamp::MIN, from);
        if spend > self.limit {
            let card = ctx.key().clone();
            ctx.emit((card, at.as_micros(), spend));
        }
        Ok(())
    }
}

/// The alerts of the payments the brute-force way: for each card and each
/// distinct payment instant, the sum over the span ending there. What the
/// pipeline must give; tests compare with it.
pub fn expected_alerts(payments: &[(Payment, i64)], span: i64, limit: u64) -> Vec<Alert> {
    let mut by_card: std::collections::BTreeMap<&str, Vec<(i64, u64)>> = Default::default();
    for ((card, cents), at) in payments {
        by_card.entry(card).or_default().push((*at, *cents));
    }
    let mut alerts = Vec::new();
    for (card, mut pays) in by_card {
        pays.sort();
        let mut instants: Vec<i64> = pays.iter().map(|p| p.0).collect();
        instants.dedup();
        for at in instants {
            let spend: u64 = pays.iter().filter(|(t, _)| *t > at - span && *t <= at).map(|p| p.1).sum();
            if spend > limit {
                alerts.push((card.to_string(), at, spend));
            }
        }
    }
    alerts
}

/// Formats an alert as `card,seconds,cents`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FormatAlertFn {
    #[serde(skip)]
    alerts: i64,
}

impl DoFn for FormatAlertFn {
    type In = Alert;
    type Out = String;
    fn process(&mut self, (card, at, spend): &Alert, ctx: &mut ProcessContext<'_, String>) -> Result<(), DoFnError> {
        self.alerts += 1;
        ctx.emit(format!("{card},{},{spend}", at.div_euclid(1_000_000)));
        Ok(())
    }
    fn finish_bundle(&mut self, ctx: &mut FinishBundleContext<'_, String>) -> Result<(), DoFnError> {
        ctx.metrics().inc_counter("alerts", std::mem::take(&mut self.alerts));
        Ok(())
    }
}

/// Builds the pipeline on `p`; returns the alerts.
pub fn build(p: &Pipeline, opts: &FraudOptions) -> PCollection<Alert> {
    let payments = match &opts.input {
        Some(path) => p
            .apply_named("ReadPayments", ReadFromText::new(path.clone()))
            .apply_named("ParsePayments", ParDo::of(ParsePaymentFn)),
        None => p
            .apply_named(
                "Transactions",
                GenerateSequence::new()
                    .count(opts.events)
                    .rate(opts.rate)
                    .event_times(Timestamp::from_secs(0), Duration::from_secs(1)),
            )
            .apply_named("ToPayments", ParDo::of(GeneratePaymentFn { cards: opts.cards })),
    };
    let span = Duration::from_secs(opts.minutes * 60);
    let alerts = payments.apply_named("CheckSpend", StatefulParDo::of(CheckSpendFn::new(span, opts.limit)));
    let lines = alerts.apply_named("FormatAlerts", ParDo::of(FormatAlertFn::default()));
    if let Some(prefix) = &opts.output {
        let _written = lines.apply_named("WriteAlerts", WriteToText::new(prefix.clone()));
    }
    alerts
}

/// Parses `args` (program name first), builds and runs the pipeline.
///
/// # Examples
/// ```
/// let result = beamline_examples::fraud::run(["fraud", "--events=2000", "--cards=20", "--limit=200000"]).unwrap();
/// assert!(result.metrics().counter("FormatAlerts", "alerts").unwrap_or(0) > 0);
/// ```
pub fn run<I, T>(args: I) -> Result<PipelineResult>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let runners = runners();
    let (options, opts) = PipelineOptions::parse_from::<FraudOptions>(args, &runners)?;
    if opts.input.as_deref().is_some_and(|i| !std::path::Path::new(i).exists() && !i.contains('*')) {
        return Err(Error::Options(format!("error: '--input': no such file: {}", opts.input.unwrap_or_default())));
    }
    let p = Pipeline::new(options, runners);
    let _alerts = build(&p, &opts);
    p.run()
}
