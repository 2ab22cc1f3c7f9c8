//! Loading files on a background thread with progress and cancel, so the window never freezes.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, channel};

use crate::cluster::ClusterIndex;
use crate::import::{Control, LoadResult, Overrides, load_paths_with};

/// A finished load: the data and its cluster index.
pub struct Loaded {
    /// What was loaded.
    pub result: LoadResult,
    /// Its cluster index.
    pub index: ClusterIndex,
    /// Links between related incidents.
    pub links: crate::links::Links,
    /// The files asked for.
    pub files: Vec<PathBuf>,
}

/// A load in progress.
pub struct Loader {
    /// Progress and cancel flag shared with the thread.
    pub control: Arc<Control>,
    rx: Receiver<Loaded>,
    /// The files being loaded.
    pub files: Vec<PathBuf>,
}

impl Loader {
    /// Starts loading `files` on a new thread; `ctx` is asked to repaint as progress is made.
    pub fn start(files: Vec<PathBuf>, ov: Overrides, ctx: egui::Context) -> Loader {
        let control = Arc::new(Control::default());
        let (tx, rx) = channel();
        let ctl = control.clone();
        let list = files.clone();
        let spawned = std::thread::Builder::new()
            .name("incident-map-loader".into())
            .spawn(move || {
                let result = load_paths_with(&list, &ov, &ctl);
                let (index, links) = if result.cancelled {
                    (ClusterIndex::default(), Default::default())
                } else {
                    (
                        ClusterIndex::build(&result.store),
                        crate::links::links(&result.store),
                    )
                };
                let _ = tx.send(Loaded {
                    result,
                    index,
                    links,
                    files: list,
                });
                ctx.request_repaint();
            });
        if spawned.is_err() {
            control.cancel.store(true, Ordering::Relaxed);
        }
        Loader { control, rx, files }
    }

    /// The result, once the thread is done.
    pub fn poll(&self) -> Option<Loaded> {
        self.rx.try_recv().ok()
    }

    /// Asks the thread to stop.
    pub fn cancel(&self) {
        self.control.cancel.store(true, Ordering::Relaxed);
    }

    /// Waits for the result (tests and headless use).
    pub fn wait(self) -> Option<Loaded> {
        self.rx.recv().ok()
    }
}
