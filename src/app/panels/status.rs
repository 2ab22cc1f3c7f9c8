//! The loading bar (progress and Cancel) and the status bar: cursor, counts, distance, the
//! source asked view by view, zoom, tiles, messages.

use egui::Color32;

use super::clean;
use crate::app::App;

/// Progress bar and Cancel while files load. Data read again (a write, someone else's change)
/// shows its progress in the status bar instead: a bar appearing above the panels would move
/// every button under the user's pointer while the incidents stay on show.
pub fn loading_bar(app: &mut App, ui: &mut egui::Ui) {
    let Some(l) = app.loader().filter(|l| !l.again) else {
        return;
    };
    let frac = l.control.fraction();
    let names = l
        .files
        .iter()
        .map(|f| {
            f.file_name()
                .map_or(f.display().to_string(), |n| n.to_string_lossy().into())
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut cancel = false;
    egui::Panel::top("loading").show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!("Loading {}", clean(&names, false)));
            ui.add(
                egui::ProgressBar::new(frac)
                    .show_percentage()
                    .desired_width(260.0),
            );
            cancel = ui.button("Cancel").clicked();
        });
    });
    if cancel {
        l.cancel();
    }
    ui.ctx()
        .request_repaint_after(std::time::Duration::from_millis(100));
}

/// The state of a source asked view by view: questions in flight, incidents in view, or the
/// fault with Retry.
fn table_status(r: &mut crate::app::remote::Remote, ui: &mut egui::Ui) {
    if let Some(e) = &r.error {
        ui.colored_label(
            Color32::from_rgb(0xB0, 0x30, 0x20),
            clean(&e.to_string(), false),
        );
        if ui.button("Retry").clicked() {
            r.retry();
        }
        return;
    }
    let pending = r.pending();
    let text = match (pending, r.in_view) {
        (0, Some(n)) if !r.drawing_cells => format!("{n} in view, listed"),
        (0, Some(n)) => format!("{n} in view, clustered by the source"),
        (0, None) => "asked view by view".to_string(),
        (p, _) => format!("{p} question(s) to the source…"),
    };
    ui.label(text).on_hover_text(clean(r.source.name(), false));
}

/// Work running beside the map, in the status bar: its progress bar and a Cancel button
/// (whether it was clicked).
fn work(ui: &mut egui::Ui, fraction: f32, text: String, width: f32) -> bool {
    ui.separator();
    ui.add(
        egui::ProgressBar::new(fraction)
            .desired_width(width)
            .text(text),
    );
    ui.small_button("Cancel").clicked()
}

/// Cursor position, counts and tile status.
pub fn status_bar(app: &mut App, ui: &mut egui::Ui) {
    egui::Panel::bottom("status").show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.toggle_value(&mut app.chrome.show_table, "Table")
                .on_hover_text("Show or hide the incident table (T); drag its top edge to resize");
            ui.separator();
            match app.map.cursor {
                Some((lon, lat)) => ui.monospace(format!("{lat:>9.5}, {lon:>10.5}")),
                None => ui.monospace(format!("{:>21}", "")),
            };
            ui.separator();
            let (shown, total) = app.counts();
            ui.label(format!("{shown} of {total} incidents selected"));
            if let (Some(i), Some(cursor), Some(d)) = (app.pick.selected, app.map.cursor, &app.data)
                && (i as usize) < d.store.len()
            {
                let at = (d.store.lon[i as usize], d.store.lat[i as usize]);
                ui.separator();
                ui.label(format!(
                    "{} from the selected incident",
                    crate::geodesy::km_text(crate::geodesy::distance_km(at, cursor))
                ));
            }
            if let Some(r) = &mut app.remote {
                ui.separator();
                table_status(r, ui);
            }
            if let Some(l) = app.loader().filter(|l| l.again) {
                if work(
                    ui,
                    l.control.fraction(),
                    "reading the data again".into(),
                    190.0,
                ) {
                    l.cancel();
                }
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(100));
            }
            if let Some(c) = &app.evidence.bundling {
                let text = format!("case bundle: {}", c.message());
                if work(ui, c.fraction(), text, 120.0) {
                    c.cancel();
                }
            }
            if let Some(s) = &app.map.screen {
                ui.separator();
                ui.label(format!("zoom {:.1}", s.zoom));
            }
            ui.separator();
            match (&app.map.tiles, &app.map.tiles_error) {
                (_, Some(e)) => ui.colored_label(
                    Color32::from_rgb(0xB0, 0x30, 0x20),
                    format!(
                        "tiles unavailable: {} — offline basemap",
                        clean(&e.to_string(), false)
                    ),
                ),
                (Some(t), None) => {
                    let loading = t.in_progress();
                    let missing = t.requested.saturating_sub(t.shown);
                    let text = if missing == 0 {
                        format!("{}: all tiles shown", app.map.base.label())
                    } else if loading > 0 {
                        format!(
                            "{}: {loading} loading, offline basemap meanwhile",
                            app.map.base.label()
                        )
                    } else {
                        format!(
                            "{}: {missing} tile(s) unavailable — offline basemap shown",
                            app.map.base.label()
                        )
                    };
                    ui.label(text)
                }
                (None, None) => ui.label("Offline basemap"),
            };
            if let Some(m) = &app.chrome.message {
                ui.separator();
                ui.colored_label(Color32::from_rgb(0xB0, 0x30, 0x20), clean(m, false));
            }
        });
    });
}
