//! The selected incident's evidence in the window. Everything that reads or writes the store
//! runs on a worker — the list of items, attaching (progress in bytes and Cancel), image
//! thumbnails, the copy handed to the system's viewer, a check of the store — and the UI thread
//! only draws what came back.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Receiver;

use super::editor::on_worker as spawn;

use crate::evidence::verify::Verified;
use crate::evidence::{self, Attach, Attached, EvidenceStore};
use crate::export::bundle::{BundleSpec, Bundled, write_bundle};
use crate::progress::Control;
use crate::source::{Key, Source};

/// An incident's evidence as read: its store, its name there and its items.
pub struct Shelf {
    /// The store.
    pub store: Arc<dyn EvidenceStore>,
    /// The incident's name in it.
    pub incident: String,
    /// The items attached now.
    pub items: Vec<Attached>,
}

/// Why the window's evidence work failed.
#[derive(Debug, thiserror::Error)]
pub enum ShelfError {
    /// The source could not say where the incident's evidence is.
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    /// The store failed.
    #[error(transparent)]
    Evidence(#[from] evidence::EvidenceError),
    /// The system's viewer (or file manager) could not be started.
    #[error("cannot hand {} to {}: {error}", .path.display(), .opener.display())]
    Opener {
        /// What was to be shown.
        path: PathBuf,
        /// The program.
        opener: PathBuf,
        /// Why.
        #[source]
        error: std::io::Error,
    },
}

/// What was read (or why not).
pub type ShelfRead = Result<Shelf, ShelfError>;

/// Files being attached.
pub struct Attaching {
    /// Progress in bytes, and Cancel.
    pub ctl: Arc<Control>,
    /// How many files.
    pub files: usize,
    rx: Receiver<Vec<String>>,
}

/// Bigger images are not read for a thumbnail.
const THUMB_MAX_BYTES: u64 = 40 << 20;
/// Thumbnail size (longest side, pixels).
const THUMB_SIDE: u32 = 96;

/// A thumbnail: shown, being decoded, or not possible.
enum Thumb {
    Ready(egui::TextureHandle),
    Waiting(Receiver<Option<egui::ColorImage>>),
    None,
}

/// The evidence part of the window.
#[derive(Default)]
pub struct EvidenceView {
    /// The selected incident's evidence, as read.
    pub shelf: Option<(Key, ShelfRead)>,
    shelf_rx: Option<(Key, Receiver<ShelfRead>)>,
    /// Files being attached.
    pub attaching: Option<Attaching>,
    /// The last check of a store: its location and what it found.
    pub verified: Option<(String, Result<Verified, ShelfError>)>,
    verify_rx: Option<(String, Receiver<Result<Verified, ShelfError>>)>,
    /// A store being checked: progress and Cancel.
    pub verifying: Option<Arc<Control>>,
    thumbs: HashMap<String, Thumb>,
    opened_rx: Option<Receiver<Result<PathBuf, ShelfError>>>,
    /// A message for the status bar.
    pub message: Option<String>,
    /// The reason typed for a detach, and the item it is for.
    pub detaching: Option<(String, String)>,
    /// The program items and folders are handed to (none: the system's).
    pub opener: Option<PathBuf>,
    /// A case bundle being written: progress and Cancel.
    pub bundling: Option<Arc<Control>>,
    bundle_rx: Option<Receiver<Result<Bundled, ShelfError>>>,
}

impl EvidenceView {
    /// Reads `key`'s evidence on a worker unless it is read or being read.
    pub fn ask(&mut self, source: &Arc<dyn Source>, key: Key, ctx: &egui::Context) {
        let have = self.shelf.as_ref().is_some_and(|(k, _)| *k == key);
        let asking = self.shelf_rx.as_ref().is_some_and(|(k, _)| *k == key);
        if have || asking {
            return;
        }
        let s = source.clone();
        self.shelf_rx = spawn("incident-map-evidence", ctx, move || {
            let ctl = Control::default();
            let (store, incident) = s.evidence_of(key, &ctl)?;
            let items = evidence::attached_to(&*store, &incident, &ctl)?;
            Ok(Shelf {
                store,
                incident,
                items,
            })
        })
        .map(|rx| (key, rx));
    }

    /// Forgets what was read (the data was read again: keys changed).
    pub fn forget(&mut self) {
        self.shelf = None;
        self.shelf_rx = None;
        self.detaching = None;
    }

    /// Attaches `files` to the incident `key` on a worker.
    pub fn attach(
        &mut self,
        source: &Arc<dyn Source>,
        key: Key,
        files: Vec<PathBuf>,
        by: String,
        tsa: Option<String>,
        ctx: &egui::Context,
    ) {
        if self.attaching.is_some() || files.is_empty() {
            return;
        }
        let ctl = Arc::new(Control::default());
        let (s, c, n) = (source.clone(), ctl.clone(), files.len());
        let rx = spawn("incident-map-attach", ctx, move || {
            let (store, incident) = match s.evidence_of(key, &c) {
                Ok(x) => x,
                Err(e) => return vec![e.to_string()],
            };
            let how = Attach {
                incident,
                by,
                ..Default::default()
            };
            let mut said = Vec::new();
            for f in &files {
                c.set_message(&format!(
                    "attaching {}",
                    f.file_name().unwrap_or_default().to_string_lossy()
                ));
                match evidence::attach(&*store, f, &how, &c) {
                    Ok(a) => said.push(format!(
                        "attached {} (sha256 {})",
                        a.item.name,
                        evidence::verify::short(&a.item.sha256)
                    )),
                    Err(evidence::EvidenceError::Cancelled) => {
                        said.push("attaching cancelled".into());
                        break;
                    }
                    Err(e) => said.push(e.to_string()),
                }
            }
            // Timestamped at the TSA of the settings, when one is set.
            if let Some(url) = &tsa {
                c.set_message("timestamping");
                match evidence::timestamp_pending(&*store, url, &how.by, &c) {
                    Ok(t) => said.extend(t),
                    Err(e) => said.push(e.to_string()),
                }
            }
            said
        });
        if let Some(rx) = rx {
            self.attaching = Some(Attaching { ctl, files: n, rx });
        }
    }

    /// Checks the shown incident's store on a worker.
    pub fn verify(&mut self, ctx: &egui::Context) {
        let Some((_, Ok(shelf))) = &self.shelf else {
            return;
        };
        if self.verifying.is_some() {
            return;
        }
        let store = shelf.store.clone();
        let ctl = Arc::new(Control::default());
        let (c, location) = (ctl.clone(), store.location());
        let by = crate::app::settings::editor_name();
        self.verify_rx = spawn("incident-map-verify", ctx, move || {
            let v = evidence::verify::verify(&*store, &c)?;
            let outcome = match v.failures().len() {
                0 => "all hold (checked in the window)".to_string(),
                n => format!("{n} failure(s) (checked in the window)"),
            };
            // The check is logged; a store that cannot be written is still checked.
            let _ = store.append(
                evidence::Entry::new(evidence::Action::Verified, &by, "").with_detail(&outcome),
            );
            Ok(v)
        })
        .map(|rx| (location, rx));
        self.verifying = Some(ctl);
    }

    /// Writes a case bundle of the incidents of `source` that `spec` chooses, on a worker.
    pub fn bundle(&mut self, source: &Arc<dyn Source>, spec: BundleSpec, ctx: &egui::Context) {
        if self.bundling.is_some() {
            return;
        }
        let ctl = Arc::new(Control::default());
        let (s, c) = (source.clone(), ctl.clone());
        self.bundle_rx = spawn("incident-map-bundle", ctx, move || {
            c.set_message("reading the incidents");
            let fetch = crate::source::Fetch::up_to(crate::source::FETCH_LIMIT);
            let inc = s.incidents(&spec.filter, &fetch, &c)?;
            c.set_message("writing the bag");
            Ok(write_bundle(&*s, &inc, &spec, &c)?)
        });
        if self.bundle_rx.is_some() {
            self.bundling = Some(ctl);
        }
    }

    /// Copies an item out read-only and hands it to the system's viewer, on a worker.
    pub fn open(&mut self, a: &Attached, by: String, ctx: &egui::Context) {
        let Some((_, Ok(shelf))) = &self.shelf else {
            return;
        };
        let (store, a, opener) = (shelf.store.clone(), a.clone(), self.opener.clone());
        self.opened_rx = spawn("incident-map-open", ctx, move || {
            let p = evidence::copy_to_open(&*store, &a, &by, &Control::default())?;
            show_with_system(&p, opener.as_deref())?;
            Ok(p)
        });
    }

    /// Detaches an item (the reason typed), on a worker; the list is read again after.
    pub fn detach(&mut self, a: &Attached, reason: String, by: String, ctx: &egui::Context) {
        let Some((_, Ok(shelf))) = &self.shelf else {
            return;
        };
        let (store, a) = (shelf.store.clone(), a.clone());
        let rx = spawn("incident-map-detach", ctx, move || {
            match evidence::detach(&*store, &a, &by, &reason) {
                Ok(_) => vec![format!("detached {}; the stored copy is kept", a.item.name)],
                Err(e) => vec![e.to_string()],
            }
        });
        if let Some(rx) = rx {
            self.attaching = Some(Attaching {
                ctl: Arc::new(Control::default()),
                files: 0,
                rx,
            });
        }
        self.detaching = None;
    }

    /// Whether the thumbnail of the item of hash `sha256` is ready to show.
    pub fn has_thumbnail(&self, sha256: &str) -> bool {
        matches!(self.thumbs.get(sha256), Some(Thumb::Ready(_)))
    }

    /// The thumbnail of an image item, decoded on a worker when first asked for.
    pub fn thumbnail(&mut self, a: &Attached, ctx: &egui::Context) -> Option<egui::TextureHandle> {
        if !crate::evidence::sniff::is_image(&a.item.media_type) || a.item.size > THUMB_MAX_BYTES {
            return None;
        }
        let sha = a.item.sha256.clone();
        if !self.thumbs.contains_key(&sha) {
            let Some((_, Ok(shelf))) = &self.shelf else {
                return None;
            };
            let (store, s) = (shelf.store.clone(), sha.clone());
            let rx = spawn("incident-map-thumbnail", ctx, move || decode(&*store, &s));
            self.thumbs
                .insert(sha.clone(), rx.map_or(Thumb::None, Thumb::Waiting));
        }
        let t = self.thumbs.get_mut(&sha)?;
        if let Thumb::Waiting(rx) = t
            && let Ok(img) = rx.try_recv()
        {
            *t = match img {
                Some(img) => Thumb::Ready(ctx.load_texture(
                    format!("evidence-{sha}"),
                    img,
                    egui::TextureOptions::LINEAR,
                )),
                None => Thumb::None,
            };
        }
        match t {
            Thumb::Ready(h) => Some(h.clone()),
            _ => None,
        }
    }

    /// What came back from the workers: whether the list must be read again.
    pub fn poll(&mut self) -> bool {
        if let Some((key, rx)) = &self.shelf_rx
            && let Ok(r) = rx.try_recv()
        {
            self.shelf = Some((*key, r));
            self.shelf_rx = None;
        }
        if let Some((location, rx)) = &self.verify_rx
            && let Ok(r) = rx.try_recv()
        {
            self.message = Some(match &r {
                Ok(v) if v.holds() => {
                    format!("Evidence verified: all {} item(s) hold", v.items.len())
                }
                Ok(v) => format!("Evidence verified: {} failure(s)", v.failures().len()),
                Err(e) => e.to_string(),
            });
            self.verified = Some((location.clone(), r));
            self.verify_rx = None;
            self.verifying = None;
        }
        if let Some(rx) = &self.opened_rx
            && let Ok(r) = rx.try_recv()
        {
            self.message = Some(match r {
                Ok(p) => format!("Opened a read-only copy: {}", p.display()),
                Err(e) => e.to_string(),
            });
            self.opened_rx = None;
        }
        if let Some(rx) = &self.bundle_rx
            && let Ok(r) = rx.try_recv()
        {
            self.message = Some(match r {
                Ok(b) => format!(
                    "Wrote the case bundle {}: {} incident(s), {} evidence item(s)",
                    b.path.display(),
                    b.incidents,
                    b.items
                ),
                Err(e) => format!("No case bundle written: {e}"),
            });
            self.bundle_rx = None;
            self.bundling = None;
        }
        let Some(a) = &self.attaching else {
            return false;
        };
        let Ok(said) = a.rx.try_recv() else {
            return false;
        };
        self.message = Some(said.join("; "));
        self.attaching = None;
        // Read the list again (and check again when asked).
        self.shelf = None;
        self.verified = None;
        true
    }
}

/// Reads a stored image and makes its thumbnail.
fn decode(store: &dyn EvidenceStore, sha256: &str) -> Option<egui::ColorImage> {
    let mut bytes = Vec::new();
    store.read(sha256, &mut bytes, &Control::default()).ok()?;
    let img = image::load_from_memory(&bytes).ok()?;
    let t = img.thumbnail(THUMB_SIDE, THUMB_SIDE).to_rgba8();
    Some(egui::ColorImage::from_rgba_unmultiplied(
        [t.width() as usize, t.height() as usize],
        t.as_raw(),
    ))
}

/// Hands a file (or a folder) to the system — its viewer, or its file manager — or to the
/// program `opener` names.
pub fn show_with_system(
    p: &std::path::Path,
    opener: Option<&std::path::Path>,
) -> Result<(), ShelfError> {
    let opener = opener.map_or_else(
        || {
            PathBuf::from(if cfg!(target_os = "macos") {
                "open"
            } else if cfg!(target_os = "windows") {
                "explorer"
            } else {
                "xdg-open"
            })
        },
        |o| o.to_path_buf(),
    );
    let mut child = std::process::Command::new(&opener)
        .arg(p)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|error| ShelfError::Opener {
            path: p.to_path_buf(),
            opener: opener.clone(),
            error,
        })?;
    // Waited for elsewhere: a viewer may stay open as long as it likes.
    std::thread::spawn(move || child.wait());
    Ok(())
}

impl super::App {
    /// What came back from the evidence workers, and the selected incident's evidence asked
    /// for when the details show it.
    pub(super) fn evidence_frame(&mut self) {
        if self.evidence.poll() {
            // The marks of incidents with evidence (the badge, the filter) are read again.
            self.read_again();
        }
        if let Some(m) = self.evidence.message.take() {
            self.chrome.message = Some(m);
        }
        if let (Some(key), Some(source)) = (self.selected_key(), self.source.clone())
            && matches!(self.pick.details.as_ref(), Some((_, Ok(_))))
        {
            self.evidence.ask(&source, key, &self.ctx.clone());
        }
    }

    /// Files dropped on the details panel while an incident is selected are attached to it;
    /// whether they were.
    pub(super) fn drop_evidence(&mut self, ctx: &egui::Context, files: &[PathBuf]) -> bool {
        let over = ctx
            .input(|i| i.pointer.latest_pos())
            .zip(self.chrome.details_rect)
            .is_some_and(|(p, r)| r.contains(p));
        if !over {
            return false;
        }
        self.attach_evidence(files.to_vec())
    }

    /// Attaches files to the selected incident; whether there was one to attach them to.
    pub fn attach_evidence(&mut self, files: Vec<PathBuf>) -> bool {
        let (Some(key), Some(source)) = (self.selected_key(), self.source.clone()) else {
            return false;
        };
        let by = self.editor_name();
        let tsa = Some(self.chrome.tsa.trim().to_string()).filter(|t| !t.is_empty());
        self.evidence
            .attach(&source, key, files, by, tsa, &self.ctx.clone());
        true
    }

    /// Asks where to write a case bundle of the filtered incidents (a `.zip`, or a new folder
    /// when the name has no `.zip`) and writes it, with the map.
    pub fn export_bundle(&mut self) {
        let Some(source) = self.source.clone() else {
            return;
        };
        if let Some(out) = rfd::FileDialog::new()
            .set_title("Export evidence bundle (BagIt)")
            .set_file_name("case.zip")
            .save_file()
        {
            let spec = BundleSpec {
                out,
                filter: self.effective_filter(),
                map: true,
                organization: None,
                contact: self.editor_name(),
            };
            self.evidence.bundle(&source, spec, &self.ctx.clone());
        }
    }

    /// Asks for files to attach (the system's dialog) and attaches them.
    pub fn pick_evidence(&mut self) {
        if let Some(files) = rfd::FileDialog::new()
            .set_title("Attach evidence")
            .pick_files()
        {
            self.attach_evidence(files);
        }
    }
}
