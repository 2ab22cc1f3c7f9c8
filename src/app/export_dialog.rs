//! "Export PNG…", "Save view…" and "Open view…" in the window. Exports go through the same
//! renderer as `incident-map export`, so the window and the command line give the same image.

use std::path::PathBuf;

use egui::{Color32, RichText};

use super::App;
use super::panels::clean;
use crate::export::view_file::ViewFile;
use crate::export::{Spec, Viewport, render, write_png};

/// Size presets: name and logical size (`None`: the map's current size).
pub const PRESETS: [(&str, Option<(u32, u32)>); 5] = [
    ("Current view", None),
    ("1920 × 1080 (HD)", Some((1920, 1080))),
    ("1600 × 1000", Some((1600, 1000))),
    ("1200 × 1200 (square)", Some((1200, 1200))),
    ("A4 landscape, 150 dpi (1754 × 1240)", Some((1754, 1240))),
];

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
}

impl App {
    /// The export the dialog describes: the window's filters, its current centre and zoom, the
    /// chosen size, scale, title and base layer.
    pub fn export_spec(&self) -> Spec {
        let f = &self.export;
        let (w, h) = PRESETS[f.preset.min(PRESETS.len() - 1)]
            .1
            .or_else(|| {
                self.screen.map(|s| {
                    (
                        s.rect.width().round().max(100.0) as u32,
                        s.rect.height().round().max(100.0) as u32,
                    )
                })
            })
            .unwrap_or((1600, 1000));
        let viewport = match self.screen {
            Some(s) => {
                let (lon, lat) = s.center_lonlat();
                Viewport::Center {
                    lat,
                    lon,
                    zoom: s.zoom,
                }
            }
            None => Viewport::Fit,
        };
        Spec {
            filter: self.effective_filter(),
            viewport,
            width: w,
            height: h,
            scale: f.scale.clamp(1, 3),
            title: (!f.title.trim().is_empty()).then(|| f.title.trim().to_string()),
            base: self.base.clone(),
            legend: f.legend,
            caption: f.caption,
            ..Spec::default()
        }
    }

    /// Renders the current export spec.
    pub fn render_export(&self, spec: &Spec) -> Result<crate::export::Rendered, String> {
        let d = self.data.as_ref().ok_or("no data loaded")?;
        render(&d.store, &d.index, spec)
    }

    /// Writes the export to `path`.
    pub fn export_png(&mut self, path: &std::path::Path) -> Result<String, String> {
        let spec = self.export_spec();
        let r = self.render_export(&spec)?;
        write_png(path, &r.image)?;
        Ok(format!(
            "Wrote {} ({}×{} px, {} incidents)",
            path.display(),
            r.image.width(),
            r.image.height(),
            r.count
        ))
    }

    /// Saves the current view (files, filters, viewport, size, title, base layer).
    pub fn save_view(&self, path: &std::path::Path) -> Result<(), String> {
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
    pub fn open_view(&mut self, ctx: &egui::Context, path: &std::path::Path) -> Result<(), String> {
        let v = ViewFile::load(path)?;
        let (files, spec) = v.to_spec(path.parent().unwrap_or(std::path::Path::new(".")))?;
        self.filter = crate::query::Filter {
            types: Vec::new(),
            ..spec.filter.clone()
        };
        self.from_text = spec
            .filter
            .from
            .map(crate::date::format_day)
            .unwrap_or_default();
        self.to_text = spec
            .filter
            .to
            .map(crate::date::format_day)
            .unwrap_or_default();
        self.text_query = spec.filter.text.clone().unwrap_or_default();
        self.view_types = Some(spec.filter.types.clone());
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
            self.memory.center_at(walkers::lon_lat(lon, lat));
            let _ = self.memory.set_zoom(zoom);
        }
        if !files.is_empty() {
            self.open(ctx, files);
        } else if let (Some(types), Some(d)) = (self.view_types.take(), &self.data) {
            self.hidden = d
                .store
                .types
                .names()
                .filter(|n| !types.is_empty() && !types.iter().any(|t| t.eq_ignore_ascii_case(n)))
                .map(String::from)
                .collect();
        }
        self.pending_fit = matches!(spec.viewport, Viewport::Fit);
        self.changed();
        Ok(())
    }
}

/// The export, save-view and open-view windows.
pub fn windows(app: &mut App, ctx: &egui::Context) {
    let mut open = app.export.show;
    egui::Window::new("Export PNG")
        .open(&mut open)
        .resizable(false)
        .default_width(420.0)
        .show(ctx, |ui| {
            egui::ComboBox::from_label("size")
                .selected_text(PRESETS[app.export.preset].0)
                .show_ui(ui, |ui| {
                    for (k, (name, _)) in PRESETS.iter().enumerate() {
                        ui.selectable_value(&mut app.export.preset, k, *name);
                    }
                });
            ui.horizontal(|ui| {
                ui.label("Scale");
                for s in 1..=3 {
                    ui.radio_value(&mut app.export.scale, s, format!("{s}×"));
                }
            });
            let lab = ui.label("Title");
            ui.text_edit_singleline(&mut app.export.title)
                .labelled_by(lab.id);
            ui.checkbox(&mut app.export.legend, "Legend");
            ui.checkbox(&mut app.export.caption, "Caption (dates, types, count)");
            let spec = app.export_spec();
            ui.label(
                RichText::new(format!(
                    "{} × {} px, centred on the current view",
                    spec.width * spec.scale,
                    spec.height * spec.scale
                ))
                .weak(),
            );
            if ui.button("Preview").clicked() {
                let small = Spec {
                    scale: 1,
                    ..spec.clone()
                };
                match app.render_export(&small) {
                    Ok(r) => {
                        let img = egui::ColorImage::from_rgba_unmultiplied(
                            [r.image.width() as usize, r.image.height() as usize],
                            r.image.as_raw(),
                        );
                        app.export.preview = Some(ctx.load_texture(
                            "export-preview",
                            img,
                            egui::TextureOptions::LINEAR,
                        ));
                    }
                    Err(e) => app.export.message = Some((false, e)),
                }
            }
            if let Some(t) = &app.export.preview {
                let size = t.size_vec2();
                let k = (400.0 / size.x).min(260.0 / size.y).min(1.0);
                ui.image((t.id(), size * k));
            }
            ui.separator();
            let lab = ui.label("File");
            ui.horizontal(|ui| {
                ui.text_edit_singleline(&mut app.export.path)
                    .labelled_by(lab.id);
                if ui.button("Choose…").clicked()
                    && let Some(p) = rfd::FileDialog::new()
                        .add_filter("PNG", &["png"])
                        .set_file_name("incident-map.png")
                        .save_file()
                {
                    app.export.path = p.display().to_string();
                }
            });
            if ui.button("Export").clicked() {
                let p = PathBuf::from(app.export.path.trim());
                app.export.message = Some(match app.export_png(&p) {
                    Ok(m) => (true, m),
                    Err(e) => (false, e),
                });
            }
            if let Some((ok, m)) = &app.export.message {
                let color = if *ok {
                    Color32::from_rgb(0x2E, 0x7D, 0x32)
                } else {
                    Color32::from_rgb(0xC0, 0x20, 0x20)
                };
                ui.colored_label(color, clean(m, false));
            }
        });
    app.export.show = open;

    for save in [true, false] {
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
                    app.message = None;
                    app.export.message = Some((true, m));
                    open = false;
                }
                Err(e) => app.message = Some(e),
            }
        }
        if save {
            app.export.show_save_view = open;
        } else {
            app.export.show_open_view = open;
        }
    }
}
