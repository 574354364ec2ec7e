//! Keeps a runner thread's Python thread state alive between calls.
//!
//! Attaching to Python from a thread that has no thread state creates one
//! (and its frame stack, an mmap), and detaching destroys it again: a few
//! microseconds each time. A stateful DoFn calls Python once per element,
//! so each runner thread keeps one thread state for as long as it lives.

use pyo3::ffi;
use std::cell::RefCell;

/// The thread state this thread made, released when the thread ends.
struct Kept {
    gstate: ffi::PyGILState_STATE,
    tstate: *mut ffi::PyThreadState,
}

impl Drop for Kept {
    fn drop(&mut self) {
        // SAFETY: on the thread that made them (a thread-local's destructor),
        // while the interpreter runs (runner threads end inside a run).
        unsafe {
            ffi::PyEval_RestoreThread(self.tstate);
            ffi::PyGILState_Release(self.gstate);
        }
    }
}

thread_local! {
    static KEPT: RefCell<Option<Kept>> = const { RefCell::new(None) };
}

/// Makes this thread's Python thread state outlive the next detach. Threads
/// that already have one (the main thread, Python's own) are left alone.
pub(crate) fn keep() {
    KEPT.with(|k| {
        if k.borrow().is_some() {
            return;
        }
        // SAFETY: the GIL is not held here (runners call user code with it
        // released); Ensure takes it with a new thread state, SaveThread
        // releases it and keeps the state, with Ensure's count at one.
        unsafe {
            if ffi::Py_IsInitialized() == 0 || !ffi::PyGILState_GetThisThreadState().is_null() {
                return;
            }
            let gstate = ffi::PyGILState_Ensure();
            let tstate = ffi::PyEval_SaveThread();
            *k.borrow_mut() = Some(Kept { gstate, tstate });
        }
    });
}
