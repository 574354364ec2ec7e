//! Side inputs of one ParDo instance: their contents, when each main window
//! can read them, and when their windows can be forgotten.

use crate::batch::Batch;
use crate::error::Result;
use crate::exec::{ParDoExec, SideInputView};
use crate::time::Timestamp;
use crate::window::{Window, WindowFn};
use std::sync::Arc;

/// Main input held until its side inputs are ready, and the side inputs' views.
///
/// A main element in window `w` is processed once every side input's
/// watermark has passed the side window `w` reads (a global or merging side
/// input: once it is complete), so it never sees a partial side window. A
/// side window is forgotten once the main input's watermark is past it by
/// more than the main input's allowed lateness and no held element reads
/// it. Views are rebuilt from the live windows only when new side data meets
/// main input that became ready, never at every watermark advance.
///
/// # Examples
/// ```
/// use beamline::engine::SideInputs;
/// use beamline::exec::Executable;
/// use beamline::prelude::*;
/// use beamline::{Batch, Singleton, Timestamp, WindowedValue};
/// #[derive(Clone)]
/// struct AddSide(SideInput<Singleton<i64>>);
/// impl DoFn for AddSide {
///     type In = i64;
///     type Out = i64;
///     fn process(&mut self, x: &i64, ctx: &mut ProcessContext<'_, i64>) -> Result<(), DoFnError> {
///         let s = *ctx.side_input(&self.0)?;
///         ctx.emit(x + s);
///         Ok(())
///     }
/// }
/// let p = Pipeline::for_tests("direct", beamline_direct::runners());
/// let side = p.apply_named("Side", Create::new(vec![5i64])).as_singleton();
/// let _ = p.apply(Create::new(vec![1i64])).apply(ParDo::local(AddSide(side.clone())).with_side_input(&side));
/// let plan = p.plan().unwrap();
/// let pardo = plan.nodes.iter().find_map(|n| match &n.exec {
///     Executable::ParDo(e) if !n.side_inputs.is_empty() => Some(e.clone()),
///     _ => None,
/// });
/// let mut sides = SideInputs::new(pardo.unwrap(), vec![WindowFn::global()], 0);
/// sides.hold(Batch::new(vec![WindowedValue::in_global(1i64)]));
/// assert!(sides.take_ready(Timestamp::MIN).unwrap().is_none(), "the side input is not complete");
/// sides.add_side(0, Batch::new(vec![WindowedValue::in_global(5i64)]));
/// sides.set_watermark(0, Timestamp::MAX);
/// let (_views, ready) = sides.take_ready(Timestamp::MIN).unwrap().unwrap();
/// assert_eq!(ready.len(), 1);
/// ```
pub struct SideInputs {
    exec: Arc<dyn ParDoExec>,
    side_fns: Vec<WindowFn>,
    main_lateness: i64,
    contents: Vec<Vec<Batch>>,
    watermarks: Vec<Timestamp>,
    held: Vec<Batch>,
    views: Option<Vec<SideInputView>>,
    /// Side data arrived since the views were built.
    stale: bool,
    complete: bool,
}

impl std::fmt::Debug for SideInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SideInputs").field("held", &self.held.len()).field("complete", &self.complete).finish()
    }
}

impl SideInputs {
    /// The side inputs of `exec`, windowed by `side_fns`; the main input
    /// accepts data `main_lateness` microseconds after a window's end.
    pub fn new(exec: Arc<dyn ParDoExec>, side_fns: Vec<WindowFn>, main_lateness: i64) -> Self {
        let n = side_fns.len();
        SideInputs {
            exec,
            side_fns,
            main_lateness,
            contents: vec![Vec::new(); n],
            watermarks: vec![Timestamp::MIN; n],
            held: Vec::new(),
            views: None,
            stale: true,
            complete: n == 0,
        }
    }

    /// Adds data of side input `k`.
    pub fn add_side(&mut self, k: usize, batch: Batch) {
        if let Some(c) = self.contents.get_mut(k) {
            if !batch.is_empty() {
                c.push(batch);
                self.stale = true;
            }
        }
    }

    /// Side input `k`'s watermark is now `watermark` ([`Timestamp::MAX`]: complete).
    pub fn set_watermark(&mut self, k: usize, watermark: Timestamp) {
        if let Some(w) = self.watermarks.get_mut(k) {
            *w = (*w).max(watermark);
        }
    }

    /// Holds main input until its side windows are ready.
    pub fn hold(&mut self, batch: Batch) {
        if !batch.is_empty() {
            self.held.push(batch);
        }
    }

    /// Whether main input is held.
    pub fn has_held(&self) -> bool {
        !self.held.is_empty()
    }

    /// The smallest timestamp of held input (the ParDo's output watermark waits for it).
    pub fn held_min_timestamp(&self) -> Option<Timestamp> {
        self.held.iter().filter_map(Batch::min_timestamp).min()
    }

    /// The final views, once every side input is complete and
    /// [`SideInputs::take_ready`] has seen it.
    pub fn final_views(&self) -> Option<&[SideInputView]> {
        if self.complete {
            self.views.as_deref().or(Some(&[]))
        } else {
            None
        }
    }

    /// Whether every side input is complete (views are final).
    pub fn is_complete(&self) -> bool {
        self.complete || self.watermarks.iter().all(|&w| w >= Timestamp::MAX)
    }

    /// The views and the held input now ready for them (everything, once the
    /// side inputs are complete); `None` when nothing is ready. Also forgets
    /// side windows no main element can read any more, given the main
    /// input's watermark.
    pub fn take_ready(&mut self, main_watermark: Timestamp) -> Result<Option<(Vec<SideInputView>, Vec<Batch>)>> {
        if self.is_complete() && !self.complete {
            // Every side input is complete: the final views, once, without a copy.
            let mut views = Vec::with_capacity(self.contents.len());
            for (k, contents) in self.contents.iter_mut().enumerate() {
                views.push(self.exec.prepare_side_input(k, std::mem::take(contents))?);
            }
            self.views = Some(views);
            self.complete = true;
        }
        if self.complete {
            let views = match &self.views {
                Some(v) => v.clone(),
                None => Vec::new(),
            };
            let held = std::mem::take(&mut self.held);
            return Ok(if held.is_empty() { None } else { Some((views, held)) });
        }
        self.prune(main_watermark);
        let mut ready = Vec::new();
        for b in &mut self.held {
            let now = b.extract_windows(&|w| window_ready(&self.side_fns, &self.watermarks, w));
            if !now.is_empty() {
                ready.push(now);
            }
        }
        self.held.retain(|b| !b.is_empty());
        if ready.is_empty() {
            return Ok(None);
        }
        if self.views.is_none() || self.stale {
            let mut views = Vec::with_capacity(self.contents.len());
            for (k, contents) in self.contents.iter().enumerate() {
                views.push(self.exec.prepare_side_input(k, contents.clone())?);
            }
            self.views = Some(views);
            self.stale = false;
        }
        Ok(self.views.clone().map(|v| (v, ready)))
    }

    /// Forgets side windows that no main element can read any more.
    fn prune(&mut self, main_watermark: Timestamp) {
        if main_watermark <= Timestamp::MIN {
            return;
        }
        let held_end = self.held.iter().filter_map(Batch::min_window_end).min().unwrap_or(Timestamp::MAX);
        let lateness = self.main_lateness;
        for contents in &mut self.contents {
            for b in contents.iter_mut() {
                let _gone = b.extract_windows(&|sw| {
                    *sw != Window::Global
                        && sw.max_timestamp().plus_micros(lateness) < main_watermark
                        && sw.max_timestamp() < held_end
                });
            }
            contents.retain(|b| !b.is_empty());
        }
    }

    /// Whether a main element in `w` can read its side windows now.
    pub fn is_ready(&self, w: &Window) -> bool {
        window_ready(&self.side_fns, &self.watermarks, w)
    }
}

/// Whether every side input's watermark has passed the side window that a
/// main element in `w` reads (global and merging side inputs: whether complete).
fn window_ready(side_fns: &[WindowFn], watermarks: &[Timestamp], w: &Window) -> bool {
    side_fns.iter().zip(watermarks).all(|(f, &wm)| {
        wm >= Timestamp::MAX
            || (!matches!(f, WindowFn::Global | WindowFn::Sessions { .. })
                && f.side_input_window(w).max_timestamp() < wm)
    })
}
