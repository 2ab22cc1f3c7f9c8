//! Opening a source on a background thread with progress and Cancel, so the window never
//! freezes: files are loaded, then the source is asked for all its incidents — a source that
//! holds more than the window keeps answers "too many", and the window then asks it view by view.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};

use crate::import::Overrides;
use crate::progress::Control;
use crate::query::Filter;
use crate::source::{Fetch, Incidents, OpenError, Source, SourceError};

/// What opening (or reading again) produced.
pub struct Opened {
    /// The source, or why it could not be opened.
    pub source: Result<Arc<dyn Source>, OpenError>,
    /// All its incidents (their index and links worked out), or why the window cannot hold
    /// them (`TooMany`: ask view by view).
    pub incidents: Result<Incidents, SourceError>,
    /// What was opened, as asked.
    pub files: Vec<PathBuf>,
    /// A reading again after a change: the view and the selection stay.
    pub again: bool,
}

/// An opening in progress.
pub struct Loader {
    /// Progress and cancel flag shared with the thread.
    pub control: Arc<Control>,
    rx: Receiver<Opened>,
    /// The files being opened.
    pub files: Vec<PathBuf>,
    /// Whether an open source is being read again (its incidents stay shown meanwhile).
    pub again: bool,
}

/// All the incidents of `src` if at most `limit` are to be fetched one by one, with their
/// cluster index and links worked out here, off the UI thread.
fn all_incidents(src: &dyn Source, limit: usize, ctl: &Control) -> Result<Incidents, SourceError> {
    let inc = src.incidents(&Filter::default(), &Fetch::up_to(limit), ctl)?;
    drop((inc.index(), inc.links()));
    Ok(inc)
}

impl Loader {
    /// Starts opening `files` (or a table URL) on a new thread, holding at most `limit`
    /// incidents fetched one by one; `ctx` is asked to repaint as progress is made.
    pub fn open(files: Vec<PathBuf>, ov: Overrides, limit: usize, ctx: egui::Context) -> Loader {
        let list = files.clone();
        Loader::spawn(files, false, ctx, move |ctl| {
            let source = crate::source::open(&list, &ov, ctl);
            let incidents = match &source {
                Ok(s) => all_incidents(&**s, limit, ctl),
                Err(_) => Err(SourceError::Cancelled),
            };
            Opened {
                source,
                incidents,
                files: list,
                again: false,
            }
        })
    }

    /// Reads the incidents of an open source again (it changed).
    pub fn again(source: Arc<dyn Source>, limit: usize, ctx: egui::Context) -> Loader {
        let files = source.arguments();
        let list = files.clone();
        Loader::spawn(files, true, ctx, move |ctl| Opened {
            incidents: source
                .reload(ctl)
                .and_then(|_| all_incidents(&*source, limit, ctl)),
            source: Ok(source),
            files: list,
            again: true,
        })
    }

    fn spawn(
        files: Vec<PathBuf>,
        again: bool,
        ctx: egui::Context,
        work: impl FnOnce(&Control) -> Opened + Send + 'static,
    ) -> Loader {
        let control = Arc::new(Control::default());
        let (tx, rx) = channel();
        let ctl = control.clone();
        let spawned = std::thread::Builder::new()
            .name("incident-map-loader".into())
            .spawn(move || {
                let _ = tx.send(work(&ctl));
                ctx.request_repaint();
            });
        if spawned.is_err() {
            control.cancel();
        }
        Loader {
            control,
            rx,
            files,
            again,
        }
    }

    /// The result, once the thread is done.
    pub fn poll(&self) -> Option<Opened> {
        self.rx.try_recv().ok()
    }

    /// Asks the thread to stop (a question running on a server is cancelled there, from a
    /// thread of its own: that may wait for the server).
    pub fn cancel(&self) {
        self.control.cancel_soon();
    }

    /// Waits for the result (tests and headless use).
    pub fn wait(self) -> Option<Opened> {
        self.rx.recv().ok()
    }
}
