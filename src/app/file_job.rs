//! A file written on a worker thread (the Chart and Export data windows): the UI thread starts
//! it and polls for the line to show when it is done.

use std::sync::mpsc::{Receiver, channel};

/// A write in progress, if any; its error type is `E`.
pub struct FileJob<E>(Option<Receiver<Result<String, E>>>);

impl<E> Default for FileJob<E> {
    fn default() -> Self {
        FileJob(None)
    }
}

impl<E: std::fmt::Display + Send + 'static> FileJob<E> {
    /// Runs `work` on a thread named `name`; `ctx` is repainted when it is done. Its message (or
    /// error) is what [`FileJob::poll`] hands back.
    pub fn start(
        &mut self,
        name: &str,
        ctx: &egui::Context,
        work: impl FnOnce() -> Result<String, E> + Send + 'static,
    ) {
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _ = tx.send(work());
                ctx.request_repaint();
            });
        self.0 = spawned.is_ok().then_some(rx);
    }

    /// The finished write's message, once.
    pub fn poll(&mut self) -> Option<String> {
        let r = self.0.as_ref()?.try_recv().ok()?;
        self.0 = None;
        Some(r.unwrap_or_else(|e| e.to_string()))
    }

    /// Waits for the write (tests).
    pub fn wait(&mut self) -> Option<String> {
        let r = self.0.take()?.recv().ok()?;
        Some(r.unwrap_or_else(|e| e.to_string()))
    }
}
