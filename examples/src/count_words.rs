//! Word counting, the pieces every word-count example shares.

use beamline::prelude::*;
use serde::{Deserialize, Serialize};

/// Splits each line into words at Unicode whitespace (as
/// [`str::split_whitespace`]) and emits every word.
///
/// Metrics (per step): `words` counts the words emitted, `empty_lines` the
/// lines holding no word. They are tallied in fields and reported once per
/// bundle, so counting costs nothing per word.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_examples::ExtractWordsFn;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let words = p.apply(Create::new(vec!["to be\tor".to_string(), "  ".into()])).apply(ParDo::of(ExtractWordsFn::default()));
/// assert_that(&words, contains_in_any_order(vec!["to".to_string(), "be".into(), "or".into()]));
/// let result = p.run().unwrap();
/// assert_eq!(result.metrics().counter("ParDo(ExtractWordsFn)", "words"), Some(3));
/// assert_eq!(result.metrics().counter("ParDo(ExtractWordsFn)", "empty_lines"), Some(1));
/// ```
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ExtractWordsFn {
    #[serde(skip)]
    words: i64,
    #[serde(skip)]
    empty_lines: i64,
}

impl DoFn for ExtractWordsFn {
    type In = String;
    type Out = String;
    #[inline]
    fn process(&mut self, line: &String, ctx: &mut ProcessContext<'_, String>) -> Result<(), DoFnError> {
        let mut n = 0;
        for word in line.split_whitespace() {
            ctx.emit(word.to_string());
            n += 1;
        }
        self.words += n;
        if n == 0 {
            self.empty_lines += 1;
        }
        Ok(())
    }
    fn finish_bundle(&mut self, ctx: &mut FinishBundleContext<'_, String>) -> Result<(), DoFnError> {
        let metrics = ctx.metrics();
        metrics.inc_counter("words", std::mem::take(&mut self.words));
        metrics.inc_counter("empty_lines", std::mem::take(&mut self.empty_lines));
        Ok(())
    }
}

/// Counts the words of lines: `CountWords/ExtractWords` ([`ExtractWordsFn`])
/// then `CountWords/CountPerWord` (`Count::per_element`). Portable.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_examples::CountWords;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let counts = p.apply(Create::new(vec!["a b a".to_string()])).apply(CountWords);
/// assert_that(&counts, contains_in_any_order(vec![("a".to_string(), 2u64), ("b".to_string(), 1)]));
/// p.run().unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default)]
#[must_use = "a transform does nothing until applied"]
pub struct CountWords;

impl PTransform<PCollection<String>> for CountWords {
    type Output = PCollection<(String, u64)>;
    fn default_label(&self) -> String {
        "CountWords".into()
    }
    fn expand(self, lines: PCollection<String>) -> PCollection<(String, u64)> {
        lines
            .apply_named("ExtractWords", ParDo::of(ExtractWordsFn::default()))
            .apply_named("CountPerWord", Count::per_element())
    }
}

/// Applies [`CountWords`] to `lines`: each distinct word with its number of
/// occurrences. On ASCII text it agrees with
/// `tr -s ' \n' '\n' | sort | uniq -c`.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_examples::count_words;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let counts = count_words(p.apply(Create::new(vec!["the cat".to_string(), "the end".into()])));
/// assert_that(
///     &counts,
///     contains_in_any_order(vec![("the".to_string(), 2u64), ("cat".into(), 1), ("end".into(), 1)]),
/// );
/// p.run().unwrap();
/// ```
pub fn count_words(lines: PCollection<String>) -> PCollection<(String, u64)> {
    lines.apply(CountWords)
}

/// The output line for one word: `word: count`.
///
/// # Examples
/// ```
/// assert_eq!(beamline_examples::format_count("tea", 3), "tea: 3");
/// ```
pub fn format_count(word: &str, count: u64) -> String {
    format!("{word}: {count}")
}

/// Formats `(word, count)` as `word: count` ([`format_count`]).
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_examples::FormatCountsFn;
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let lines = p.apply(Create::new(vec![("a".to_string(), 2u64)])).apply(ParDo::of(FormatCountsFn));
/// assert_that(&lines, contains_in_any_order(vec!["a: 2".to_string()]));
/// p.run().unwrap();
/// ```
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct FormatCountsFn;

impl DoFn for FormatCountsFn {
    type In = (String, u64);
    type Out = String;
    #[inline]
    fn process(&mut self, wc: &(String, u64), ctx: &mut ProcessContext<'_, String>) -> Result<(), DoFnError> {
        ctx.emit(format_count(&wc.0, wc.1));
        Ok(())
    }
}

/// Applies [`FormatCountsFn`] under the label `FormatCounts`.
///
/// # Examples
/// ```
/// use beamline::prelude::*;
/// use beamline_examples::{count_words, format_counts};
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let lines = format_counts(count_words(p.apply(Create::new(vec!["x x".to_string()]))));
/// assert_that(&lines, contains_in_any_order(vec!["x: 2".to_string()]));
/// p.run().unwrap();
/// ```
pub fn format_counts(counts: PCollection<(String, u64)>) -> PCollection<String> {
    counts.apply_named("FormatCounts", ParDo::of(FormatCountsFn))
}
