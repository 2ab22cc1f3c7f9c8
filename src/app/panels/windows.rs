//! Small windows: other tiles (XYZ, PMTiles), open a path, keyboard shortcuts.

use std::path::PathBuf;

use egui::Color32;

use super::clean;
use crate::app::App;
use crate::view::tiles::{BaseLayer, OSM_ATTRIBUTION, OSM_TEMPLATE, check_template};

/// Text fields of the settings and "open path" dialogs.
#[derive(Debug, Clone, Default)]
pub struct SettingsForm {
    /// Whether the tile settings window is open.
    pub show_tiles: bool,
    /// XYZ template being edited.
    pub xyz: String,
    /// Its attribution.
    pub xyz_attribution: String,
    /// PMTiles path being edited.
    pub pmtiles: String,
    /// PMTiles attribution.
    pub pmtiles_attribution: String,
    /// Error of the last attempt.
    pub error: Option<String>,
    /// Whether the "open path" window is open.
    pub show_open_path: bool,
    /// Path typed there.
    pub open_path: String,
    /// Whether the shortcuts window is open.
    pub show_help: bool,
}

impl SettingsForm {
    /// Fields filled from the current base layer.
    pub fn from_base(b: &BaseLayer) -> SettingsForm {
        let mut f = SettingsForm {
            xyz: OSM_TEMPLATE.into(),
            xyz_attribution: OSM_ATTRIBUTION.into(),
            ..Default::default()
        };
        match b {
            BaseLayer::Xyz {
                template,
                attribution,
            } => {
                f.xyz = template.clone();
                f.xyz_attribution = attribution.clone();
            }
            BaseLayer::PmTiles { path, attribution } => {
                f.pmtiles = path.display().to_string();
                f.pmtiles_attribution = attribution.clone();
            }
            _ => {}
        }
        f
    }
}

/// Floating windows: other tiles, open path, shortcuts.
pub fn windows(app: &mut App, ctx: &egui::Context) {
    let mut open = app.chrome.settings.show_tiles;
    egui::Window::new("Other tiles")
        .open(&mut open)
        .resizable(false)
        .show(ctx, |ui| {
            ui.label("XYZ tile server (URL with {z}, {x}, {y})");
            ui.text_edit_singleline(&mut app.chrome.settings.xyz);
            ui.label("Attribution it requires");
            ui.text_edit_singleline(&mut app.chrome.settings.xyz_attribution);
            if ui.button("Use XYZ server").clicked() {
                match check_template(&app.chrome.settings.xyz) {
                    Ok(()) => {
                        let base = if app.chrome.settings.xyz.trim() == OSM_TEMPLATE {
                            BaseLayer::Osm
                        } else {
                            BaseLayer::Xyz {
                                template: app.chrome.settings.xyz.trim().into(),
                                attribution: app.chrome.settings.xyz_attribution.clone(),
                            }
                        };
                        app.set_base(ctx, base);
                        app.chrome.settings.error =
                            app.map.tiles_error.as_ref().map(|e| e.to_string());
                    }
                    Err(e) => app.chrome.settings.error = Some(e.to_string()),
                }
            }
            ui.separator();
            ui.label("Raster PMTiles archive (offline)");
            ui.text_edit_singleline(&mut app.chrome.settings.pmtiles);
            ui.label("Attribution of its data");
            ui.text_edit_singleline(&mut app.chrome.settings.pmtiles_attribution);
            ui.horizontal(|ui| {
                if ui.button("Choose…").clicked()
                    && let Some(p) = rfd::FileDialog::new()
                        .add_filter("PMTiles", &["pmtiles"])
                        .pick_file()
                {
                    app.chrome.settings.pmtiles = p.display().to_string();
                }
                if ui.button("Use PMTiles").clicked() {
                    let base = BaseLayer::PmTiles {
                        path: PathBuf::from(app.chrome.settings.pmtiles.trim()),
                        attribution: app.chrome.settings.pmtiles_attribution.clone(),
                    };
                    app.set_base(ctx, base);
                    app.chrome.settings.error = app.map.tiles_error.as_ref().map(|e| e.to_string());
                }
            });
            if let Some(e) = &app.chrome.settings.error {
                ui.colored_label(Color32::from_rgb(0xC0, 0x20, 0x20), clean(e, false));
            }
        });
    app.chrome.settings.show_tiles = open;

    let mut open = app.chrome.settings.show_open_path;
    let mut go = false;
    egui::Window::new("Open path")
        .open(&mut open)
        .resizable(false)
        .show(ctx, |ui| {
            ui.label("File or directory to open (when no file dialog is available)");
            let r = ui.text_edit_singleline(&mut app.chrome.settings.open_path);
            go = ui.button("Open").clicked()
                || (r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)));
        });
    if go && !app.chrome.settings.open_path.trim().is_empty() {
        let p = PathBuf::from(app.chrome.settings.open_path.trim());
        app.open(ctx, vec![p]);
        open = false;
    }
    app.chrome.settings.show_open_path = open;

    let mut open = app.chrome.settings.show_help;
    egui::Window::new("Shortcuts")
        .open(&mut open)
        .resizable(false)
        .show(ctx, |ui| {
            egui::Grid::new("keys").num_columns(2).show(ui, |ui| {
                for (k, v) in [
                    ("Ctrl+O", "Open files"),
                    ("Ctrl+F", "Search text"),
                    ("+ / −", "Zoom in / out"),
                    ("Space", "Play / pause the timeline"),
                    ("Ctrl+K", "Find a place"),
                    ("M", "Measure"),
                    ("T", "Show / hide the incident table"),
                    ("Ctrl+Z / Ctrl+Shift+Z", "Undo / redo an edit"),
                    ("Esc", "Close a dialog, else clear the selection"),
                    ("Double-click timeline", "All dates"),
                    ("Drag files onto the window", "Add them"),
                ] {
                    ui.strong(k);
                    ui.label(v);
                    ui.end_row();
                }
            });
        });
    app.chrome.settings.show_help = open;
}
