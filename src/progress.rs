//! Progress and cancellation shared between a worker thread and whoever waits for it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What stops work that cannot look at the flag itself (a query running on a server).
type Canceller = Box<dyn Fn() + Send + Sync>;

/// Progress and cancellation of work running on another thread (loading, exporting, queries).
/// Loads count bytes read plus bytes parsed, out of twice the total size; exports count frames.
#[derive(Default)]
pub struct Control {
    /// Set to stop the work as soon as possible.
    pub cancel: AtomicBool,
    /// Work done so far.
    pub done: AtomicU64,
    /// Work in all.
    pub total: AtomicU64,
    /// What is happening now, in words ("frame 3 of 30", "waiting for tiles").
    message: Mutex<String>,
    /// Run by [`Control::cancel`] while set: the work in progress registers how to stop it.
    canceller: Mutex<Option<Canceller>>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("cancel", &self.cancel)
            .field("done", &self.done)
            .field("total", &self.total)
            .field("message", &self.message())
            .finish_non_exhaustive()
    }
}

impl Control {
    /// Fraction done in [0, 1].
    pub fn fraction(&self) -> f32 {
        let t = self.total.load(Ordering::Relaxed);
        if t == 0 {
            0.0
        } else {
            (self.done.load(Ordering::Relaxed) as f64 / t as f64).min(1.0) as f32
        }
    }

    /// Whether cancellation was asked for.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Records `n` more units of work done.
    pub fn advance(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    /// Asks the work to stop, running the canceller the work registered (which may block, e.g.
    /// to reach a server: call it from a thread that may wait).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
        let c = self.canceller.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = c.as_ref() {
            f();
        }
    }

    /// Asks the work to stop from a thread of its own: the canceller may wait for a server,
    /// and the caller (the UI thread) must not.
    pub fn cancel_soon(self: &std::sync::Arc<Self>) {
        self.cancel.store(true, Ordering::Relaxed);
        let c = self.clone();
        let _ = std::thread::Builder::new()
            .name("incident-map-cancel".into())
            .spawn(move || c.cancel());
    }

    /// Runs `work` with `canceller` registered: a [`Control::cancel`] meanwhile runs it. When
    /// `work` returns, a cancel that is running has finished (so it cannot reach later work).
    pub fn with_canceller<T>(&self, canceller: Canceller, work: impl FnOnce() -> T) -> T {
        *self.canceller.lock().unwrap_or_else(|p| p.into_inner()) = Some(canceller);
        let out = work();
        *self.canceller.lock().unwrap_or_else(|p| p.into_inner()) = None;
        out
    }

    /// Says what is happening now.
    pub fn set_message(&self, m: &str) {
        let mut g = self.message.lock().unwrap_or_else(|p| p.into_inner());
        if *g != m {
            g.clear();
            g.push_str(m);
        }
    }

    /// What is happening now ("" when nothing was said).
    pub fn message(&self) -> String {
        self.message
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
