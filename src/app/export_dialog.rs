//! "Export map…", "Save view…" and "Open view…" in the window. Exports (an image, small
//! multiples, or a series as PNG frames, a GIF or an MP4 video) go through the same
//! [`Exporter`] as `incident-map export`, so the window and the command line give the same
//! files; they run on a worker thread with progress and Cancel, so the map keeps drawing while
//! an export waits for tiles.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};

use egui::{Color32, RichText};

use super::App;
use super::panels::clean;
use super::series_form::{SeriesForm, SeriesOutput};
use crate::export::compare::Period;
use crate::export::series::{SeriesSpec, write_series};
use crate::export::view_file::{ViewFile, ViewFileError};
use crate::export::{ExportError, Exporter, PngInfo, Spec, Viewport, write_png};
use crate::progress::Control;
use crate::source::{FETCH_LIMIT, Fetch, Source, SourceError};
use crate::view::offscreen::RendererChoice;

/// Size presets: name and logical size (`None`: the map's current size).
pub const PRESETS: [(&str, Option<(u32, u32)>); 5] = [
    ("Current view", None),
    ("1920 × 1080 (HD)", Some((1920, 1080))),
    ("1600 × 1000", Some((1600, 1000))),
    ("1200 × 1200 (square)", Some((1200, 1200))),
    ("A4 landscape, 150 dpi (1754 × 1240)", Some((1754, 1240))),
];

/// What a worker was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum JobKind {
    /// A small image for the dialog.
    Preview,
    /// The PNG at this path.
    Png(PathBuf),
    /// A series of frames (PNGs, a GIF or a video).
    Series(SeriesSpec),
}

/// What a worker produced.
enum JobDone {
    Preview(image::RgbaImage),
    Written(String),
}

/// Why an export in the window failed: the source could not give the incidents, or drawing or
/// writing failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The source failed.
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    /// Drawing or writing failed.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// The worker stopped without an answer.
    #[error("the export thread stopped")]
    Stopped,
}

/// An export running on a worker thread.
pub struct ExportJob {
    /// Progress, message and Cancel.
    pub control: Arc<Control>,
    /// What it does.
    pub kind: JobKind,
    rx: Receiver<Result<JobDone, JobError>>,
}

impl ExportJob {
    /// Starts drawing `spec` on a new thread; `ctx` is asked to repaint when it is done. The
    /// worker asks `source` for the incidents (every compared period's), as the command line's
    /// export does, and draws those.
    pub fn start(
        source: Arc<dyn Source>,
        spec: Spec,
        periods: Vec<Period>,
        kind: JobKind,
        ctx: egui::Context,
    ) -> ExportJob {
        let control = Arc::new(Control::default());
        let (tx, rx) = channel();
        let ctl = control.clone();
        let job = kind.clone();
        let spawned = std::thread::Builder::new()
            .name("incident-map-export".into())
            .spawn(move || {
                let _ = tx.send(draw(&*source, &spec, &periods, &job, &ctl));
                ctx.request_repaint();
            });
        if spawned.is_err() {
            control.cancel();
        }
        ExportJob { control, kind, rx }
    }
}

/// The worker's job: the incidents, the renderer, the image, and the file if one is asked for.
fn draw(
    source: &dyn Source,
    spec: &Spec,
    periods: &[Period],
    job: &JobKind,
    ctl: &Control,
) -> Result<JobDone, JobError> {
    ctl.set_message("reading the incidents");
    // Small multiples need every period's incidents.
    let wanted = match (
        periods.iter().map(|p| p.from).min(),
        periods.iter().map(|p| p.to).max(),
    ) {
        (Some(from), Some(to)) => crate::query::Filter {
            from: Some(from),
            to: Some(to),
            ..spec.filter.clone()
        },
        _ => spec.filter.clone(),
    };
    let inc = source.incidents(&wanted, &Fetch::up_to(FETCH_LIMIT), ctl)?;
    ctl.set_message("starting the renderer");
    let mut x = Exporter::new(&RendererChoice::from_env())?;
    ctl.set_message("drawing");
    let (store, index) = (&inc.store, inc.index());
    if let JobKind::Png(p) = job
        && crate::export::vector::is_vector(p)
    {
        return vector_file(&mut x, (store, &index), spec, periods, (p, ctl));
    }
    let png = match job {
        JobKind::Series(series) => {
            let done = write_series(&mut x, store, &index, spec, series, ctl)?;
            return Ok(JobDone::Written(format!("Wrote {}", done.describe(series))));
        }
        JobKind::Preview => None,
        JobKind::Png(p) => Some(p),
    };
    let img = if periods.len() >= 2 {
        let (image, counts) =
            crate::export::compare::render_compare(&mut x, store, &index, spec, periods, ctl)?;
        crate::export::Rendered {
            image,
            count: counts.iter().sum(),
        }
    } else {
        x.render(store, &index, spec, ctl)?
    };
    let Some(p) = png else {
        return Ok(JobDone::Preview(img.image));
    };
    write_png(p, &img.image, &PngInfo::new(&x, spec.title.as_deref()))?;
    Ok(JobDone::Written(format!(
        "Wrote {} ({}×{} px, {} incidents)",
        p.display(),
        img.image.width(),
        img.image.height(),
        img.count
    )))
}

/// Writes an SVG or PDF: one image, or small multiples (a PDF page, or an SVG group, each).
fn vector_file(
    x: &mut Exporter,
    (store, index): (&crate::store::Store, &crate::cluster::ClusterIndex),
    spec: &Spec,
    periods: &[Period],
    (p, ctl): (&Path, &Control),
) -> Result<JobDone, JobError> {
    let count: usize =
        crate::export::vector::write_map(x, (store, index), spec, periods, (p, ctl))?
            .iter()
            .sum();
    Ok(JobDone::Written(format!(
        "Wrote {} (vectors, {count} incidents)",
        p.display()
    )))
}

/// State of the export, save-view and open-view windows.
#[derive(Default)]
pub struct ExportForm {
    /// Export window open.
    pub show: bool,
    /// Index into [`PRESETS`].
    pub preset: usize,
    /// Pixels per point.
    pub scale: u32,
    /// Title.
    pub title: String,
    /// Draw the legend.
    pub legend: bool,
    /// Draw the caption.
    pub caption: bool,
    /// Where to write the PNG.
    pub path: String,
    /// Periods for small multiples, `FROM..TO` one per line (two or more: one panel each).
    pub compare: String,
    /// A series instead of one image.
    pub series: SeriesForm,
    /// Format and print size.
    pub print: super::print_form::PrintForm,
    /// Preview texture.
    pub preview: Option<egui::TextureHandle>,
    /// Outcome of the last action.
    pub message: Option<(bool, String)>,
    /// Save-view window open.
    pub show_save_view: bool,
    /// Open-view window open.
    pub show_open_view: bool,
    /// Path for save/open view.
    pub view_path: String,
    /// The export running, if any.
    pub job: Option<ExportJob>,
}

impl ExportForm {
    /// Defaults: 1600×1000, 1×, legend and caption on.
    pub fn new() -> ExportForm {
        ExportForm {
            preset: 2,
            scale: 1,
            legend: true,
            caption: true,
            path: "incident-map.png".into(),
            view_path: "view.json".into(),
            ..Default::default()
        }
    }

    /// Takes the worker's result when it is done.
    pub fn poll(&mut self, ctx: &egui::Context) {
        let Some(job) = &self.job else { return };
        let r = match job.rx.try_recv() {
            Ok(r) => r,
            Err(std::sync::mpsc::TryRecvError::Empty) => {
                // Keep the progress line moving.
                ctx.request_repaint_after(std::time::Duration::from_millis(100));
                return;
            }
            Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(JobError::Stopped),
        };
        self.job = None;
        self.message = Some(match r {
            Ok(JobDone::Preview(img)) => {
                let ci = egui::ColorImage::from_rgba_unmultiplied(
                    [img.width() as usize, img.height() as usize],
                    img.as_raw(),
                );
                self.preview =
                    Some(ctx.load_texture("export-preview", ci, egui::TextureOptions::LINEAR));
                (true, "Preview ready".into())
            }
            Ok(JobDone::Written(m)) => (true, m),
            Err(
                JobError::Export(ExportError::Cancelled) | JobError::Source(SourceError::Cancelled),
            ) => (false, "Export cancelled".into()),
            Err(e) => (false, e.to_string()),
        });
    }

    /// Whether an export is running.
    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    /// Blocks until the running export is done and takes its result (tests, headless use).
    pub fn finish(&mut self, ctx: &egui::Context) {
        while self.job.is_some() {
            self.poll(ctx);
            if self.job.is_some() {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
}

impl App {
    /// The export the dialog describes: the window's filters, its current centre and zoom, the
    /// chosen size, scale, title and base layer.
    pub fn export_spec(&self) -> Spec {
        let f = &self.export;
        let (w, h) = PRESETS[f.preset.min(PRESETS.len() - 1)]
            .1
            .or_else(|| {
                self.map.screen.map(|s| {
                    (
                        s.rect.width().round().max(100.0) as u32,
                        s.rect.height().round().max(100.0) as u32,
                    )
                })
            })
            .unwrap_or((1600, 1000));
        let mut spec = Spec {
            filter: self.effective_filter(),
            viewport: self.map.viewport().unwrap_or(Viewport::Fit),
            width: w,
            height: h,
            scale: f.scale.clamp(1, 3),
            title: (!f.title.trim().is_empty()).then(|| f.title.trim().to_string()),
            base: self.map.base.clone(),
            legend: f.legend,
            caption: f.caption,
            tools: self.analyst.tools.clone(),
            layer: self.map.layer,
            ..Spec::default()
        };
        f.print.apply(&mut spec);
        spec
    }

    /// Starts an export (a preview or a PNG) on a worker.
    pub fn start_export(&mut self, ctx: &egui::Context, kind: JobKind) {
        let Some(source) = self.source.clone() else {
            self.export.message = Some((false, "No data loaded".into()));
            return;
        };
        if let Some(j) = &self.export.job {
            j.control.cancel_soon();
        }
        let mut spec = self.export_spec();
        if kind == JobKind::Preview {
            // A small picture of the same layout.
            spec.scale = 1;
            if let Some(p) = &mut spec.print {
                p.dpi = 72;
            }
        }
        let periods: Result<Vec<_>, _> = self
            .export
            .compare
            .split(['\n', ',', ';'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(crate::export::compare::Period::parse)
            .collect();
        let periods = match periods {
            Ok(p) if p.len() == 1 => {
                self.export.message =
                    Some((false, "Compare needs two periods or more (or none)".into()));
                return;
            }
            Ok(p) if !p.is_empty() && matches!(kind, JobKind::Series(_)) => {
                self.export.message = Some((
                    false,
                    "Compare periods or a series, not both (clear the periods or choose One image)"
                        .into(),
                ));
                return;
            }
            Ok(p) => p,
            Err(e) => {
                self.export.message = Some((false, e.to_string()));
                return;
            }
        };
        self.export.message = None;
        self.export.job = Some(ExportJob::start(source, spec, periods, kind, ctx.clone()));
    }

    /// Saves the current view (files, filters, viewport, size, title, base layer).
    pub fn save_view(&self, path: &Path) -> Result<(), ViewFileError> {
        let files = self
            .data
            .as_ref()
            .map(|d| d.files.clone())
            .unwrap_or_default();
        let files: Vec<PathBuf> = files
            .iter()
            .map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone()))
            .collect();
        ViewFile::new(&files, &self.export_spec()).save(path)
    }

    /// Opens a saved view: its files, filters, viewport, base layer and export settings.
    pub fn open_view(&mut self, ctx: &egui::Context, path: &Path) -> Result<(), ViewFileError> {
        let v = ViewFile::load(path)?;
        let (files, spec) =
            v.to_spec(path.parent().unwrap_or(Path::new(".")))
                .map_err(|error| ViewFileError {
                    path: path.to_path_buf(),
                    error,
                })?;
        self.filters.apply(spec.filter.clone());
        self.analyst.tools = spec.tools.clone();
        self.export.title = spec.title.clone().unwrap_or_default();
        self.export.scale = spec.scale;
        self.export.legend = spec.legend;
        self.export.caption = spec.caption;
        self.export.preset = PRESETS
            .iter()
            .position(|p| p.1 == Some((spec.width, spec.height)))
            .unwrap_or(0);
        self.set_base(ctx, spec.base.clone());
        if let Viewport::Center { lat, lon, zoom } = spec.viewport {
            self.map.center_on(lon, lat, Some(zoom));
        }
        if !files.is_empty() {
            self.open(ctx, files);
        } else if let Some(d) = &self.data {
            self.filters.data_loaded(&d.store);
        }
        self.map.pending_fit = matches!(spec.viewport, Viewport::Fit);
        Ok(())
    }
}

fn outcome(ui: &mut egui::Ui, ok: bool, m: &str) {
    let color = if ok {
        Color32::from_rgb(0x2E, 0x7D, 0x32)
    } else {
        Color32::from_rgb(0xC0, 0x20, 0x20)
    };
    ui.colored_label(color, clean(m, false));
}

/// The Export map, Save view and Open view windows.
pub fn windows(app: &mut App, ctx: &egui::Context) {
    let mut open = app.export.show;
    egui::Window::new("Export map")
        .open(&mut open)
        .resizable(false)
        .default_width(420.0)
        .show(ctx, |ui| export_window(app, ctx, ui));
    app.export.show = open;
    for save in [true, false] {
        view_window(app, ctx, save);
    }
}

/// The Export map window's contents.
fn export_window(app: &mut App, ctx: &egui::Context, ui: &mut egui::Ui) {
    let busy = app.export.busy();
    ui.add_enabled_ui(!busy, |ui| export_options(&mut app.export, ui));
    let spec = app.export_spec();
    let (w, h) = spec.pixel_size();
    let size = match (&spec.print, app.export.print.format) {
        (Some(p), super::print_form::Format::Png) => {
            format!("{} at {} dpi: {w} × {h} px", p.paper.name(), p.dpi)
        }
        (Some(p), _) => format!("{}, vectors", p.paper.name()),
        (None, super::print_form::Format::Png) => format!("{w} × {h} px"),
        (None, _) => format!("{} × {} pt, vectors", spec.width, spec.height),
    };
    ui.label(RichText::new(format!("{size}, centred on the current view")).weak());
    if ui
        .add_enabled(!busy, egui::Button::new("Preview"))
        .clicked()
    {
        app.start_export(ctx, JobKind::Preview);
    }
    if let Some(t) = &app.export.preview {
        let size = t.size_vec2();
        let k = (400.0 / size.x).min(260.0 / size.y).min(1.0);
        ui.image((t.id(), size * k));
    }
    ui.separator();
    let lab = ui.label("File");
    ui.add_enabled_ui(!busy, |ui| {
        ui.horizontal(|ui| {
            ui.text_edit_singleline(&mut app.export.path)
                .labelled_by(lab.id);
            let ext = match app.export.series.every {
                Some(_) if app.export.series.output != SeriesOutput::Frames => {
                    app.export.series.output.extension()
                }
                _ => app.export.print.format.extension(),
            };
            if ui.button("Choose…").clicked()
                && let Some(p) = rfd::FileDialog::new()
                    .add_filter(ext.to_uppercase(), &[ext])
                    .set_file_name(format!("incident-map.{ext}"))
                    .save_file()
            {
                app.export.path = p.display().to_string();
            }
        });
    });
    if ui.add_enabled(!busy, egui::Button::new("Export")).clicked() {
        let p = PathBuf::from(app.export.path.trim());
        let kind = match app.export.series.spec(&p) {
            Some(s) => JobKind::Series(s),
            None => JobKind::Png(p),
        };
        app.start_export(ctx, kind);
    }
    if let Some(job) = &app.export.job {
        progress(ui, job);
    }
    if let Some((ok, m)) = &app.export.message {
        outcome(ui, *ok, m);
    }
}

/// Size, scale, title, legend, caption and the periods to compare.
fn export_options(f: &mut ExportForm, ui: &mut egui::Ui) {
    egui::ComboBox::from_label("size")
        .selected_text(PRESETS[f.preset].0)
        .show_ui(ui, |ui| {
            for (k, (name, _)) in PRESETS.iter().enumerate() {
                ui.selectable_value(&mut f.preset, k, *name);
            }
        });
    ui.horizontal(|ui| {
        ui.label("Scale");
        for s in 1..=3 {
            ui.radio_value(&mut f.scale, s, format!("{s}×"));
        }
    });
    let lab = ui.label("Title");
    ui.text_edit_singleline(&mut f.title).labelled_by(lab.id);
    ui.checkbox(&mut f.legend, "Legend");
    ui.checkbox(&mut f.caption, "Caption (dates, types, count)");
    let lab = ui.label("Compare periods (FROM..TO, one per line; two or more give one panel each)");
    ui.add(
        egui::TextEdit::multiline(&mut f.compare)
            .desired_rows(2)
            .hint_text("2021-02-01..2021-03-31\n2021-06-01..2021-07-31"),
    )
    .labelled_by(lab.id);
    f.print.ui(ui, &mut f.path);
    let frames = f.print.format.extension();
    f.series.ui(ui, &mut f.path, frames);
}

/// What the running export does, with Cancel.
fn progress(ui: &mut egui::Ui, job: &ExportJob) {
    ui.horizontal(|ui| {
        ui.spinner();
        let what = match &job.kind {
            JobKind::Preview => "Preview".to_string(),
            JobKind::Png(p) => format!("Exporting {}", p.display()),
            JobKind::Series(s) => {
                let p = s
                    .video
                    .as_ref()
                    .map(|v| &v.path)
                    .or(s.gif.as_ref().map(|g| &g.0))
                    .or(s.out.as_ref());
                format!(
                    "Exporting {}",
                    p.map(|p| p.display().to_string()).unwrap_or_default()
                )
            }
        };
        let m = job.control.message();
        ui.label(clean(
            &if m.is_empty() {
                what
            } else {
                format!("{what}: {m}")
            },
            false,
        ));
        if ui.button("Cancel").clicked() {
            job.control.cancel_soon();
        }
    });
}

/// The Save view (`save`) or Open view window.
fn view_window(app: &mut App, ctx: &egui::Context, save: bool) {
    let mut open = if save {
        app.export.show_save_view
    } else {
        app.export.show_open_view
    };
    let title = if save { "Save view" } else { "Open view" };
    let mut go = false;
    egui::Window::new(title)
        .open(&mut open)
        .resizable(false)
        .show(ctx, |ui| {
            ui.label(if save {
                "Files, filters, viewport, size, title and base layer, as JSON (see README)"
            } else {
                "A view saved by this program"
            });
            let lab = ui.label("View file");
            ui.horizontal(|ui| {
                ui.text_edit_singleline(&mut app.export.view_path)
                    .labelled_by(lab.id);
                if ui.button("Choose…").clicked() {
                    let d = rfd::FileDialog::new().add_filter("View", &["json"]);
                    let p = if save {
                        d.set_file_name("view.json").save_file()
                    } else {
                        d.pick_file()
                    };
                    if let Some(p) = p {
                        app.export.view_path = p.display().to_string();
                    }
                }
            });
            go = ui.button(if save { "Save" } else { "Open" }).clicked();
        });
    if go {
        let p = PathBuf::from(app.export.view_path.trim());
        let r = if save {
            app.save_view(&p).map(|_| format!("Saved {}", p.display()))
        } else {
            app.open_view(ctx, &p)
                .map(|_| format!("Opened {}", p.display()))
        };
        match r {
            Ok(m) => {
                app.chrome.message = None;
                app.export.message = Some((true, m));
                open = false;
            }
            Err(e) => app.chrome.message = Some(e.to_string()),
        }
    }
    if save {
        app.export.show_save_view = open;
    } else {
        app.export.show_open_view = open;
    }
}
