//! Progress and cancellation shared between a worker thread and whoever waits for it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Progress and cancellation of work running on another thread (loading, exporting, queries).
/// Loads count bytes read plus bytes parsed, out of twice the total size; exports count frames.
#[derive(Debug, Default)]
pub struct Control {
    /// Set to stop the work as soon as possible.
    pub cancel: AtomicBool,
    /// Work done so far.
    pub done: AtomicU64,
    /// Work in all.
    pub total: AtomicU64,
    /// What is happening now, in words ("frame 3 of 30", "waiting for tiles").
    message: Mutex<String>,
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

    /// Asks the work to stop.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
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
