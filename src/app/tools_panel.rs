//! The Tools menu and windows: the pointer mode (browse, measure, draw or edit an area, arrow),
//! forms for rings, labels and the near filter, the lists of what is placed (each deletable),
//! loading an area of interest, and "Incidents near here".

use egui::{Color32, RichText};

use super::App;
use super::analyst::Mode;
use crate::geodesy::km_text;
use crate::text::clean;
use crate::tools::Ink;

const WARN: Color32 = Color32::from_rgb(0xB0, 0x30, 0x20);

/// The Tools menu.
pub fn menu(app: &mut App, ui: &mut egui::Ui) {
    ui.menu_button("Tools", |ui| {
        if ui.button("Tools window").clicked() {
            app.analyst.show = true;
            ui.close();
        }
        if ui.button("Measure  (M)").clicked() {
            app.analyst.mode = Mode::Measure;
            ui.close();
        }
        if ui.button("Draw an area of interest").clicked() {
            app.analyst.start_area();
            app.analyst.show = true;
            ui.close();
        }
        if ui.button("Place search  (Ctrl+K)").clicked() {
            app.chrome.show_places = true;
            ui.close();
        }
        if ui.button("Chart…").clicked() {
            app.chrome.chart.show = true;
            ui.close();
        }
    });
}

/// The near filter's line in the filter panel: its circle, with Clear.
pub fn near_line(app: &mut App, ui: &mut egui::Ui) {
    if let Some(n) = app.filters.base().near {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "Within {} of {:.4}, {:.4}",
                km_text(n.km),
                n.lat,
                n.lon
            ));
            if ui.small_button("Clear").clicked() {
                app.filters.set_near(None);
            }
        });
    }
}

/// The area of interest's line in the filter panel, with Edit and Clear.
pub fn within_line(app: &mut App, ui: &mut egui::Ui) {
    if let Some(a) = app.filters.base().within.clone() {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("Inside an area ({} vertices)", a.vertices()));
            if ui.small_button("Edit").clicked() {
                app.analyst.edit_area(&a);
                app.analyst.show = true;
            }
            if ui.small_button("Clear").clicked() {
                app.filters.set_within(None);
                app.analyst.draft.clear();
                if app.analyst.mode == Mode::EditArea {
                    app.analyst.mode = Mode::Browse;
                }
            }
        });
    }
}

fn mode_buttons(app: &mut App, ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        let t = &mut app.analyst;
        for (m, name, tip) in [
            (Mode::Browse, "Browse", "drag pans, click selects"),
            (Mode::Measure, "Measure", "drag to measure (M)"),
            (
                Mode::DrawArea,
                "Draw area",
                "click the vertices, double-click to close",
            ),
            (Mode::EditArea, "Edit area", "drag a vertex"),
            (Mode::Arrow, "Arrow", "click the tail, then the head"),
        ] {
            if ui
                .selectable_label(t.mode == m, name)
                .on_hover_text(tip)
                .clicked()
            {
                if m == Mode::DrawArea {
                    t.start_area();
                } else {
                    t.mode = m;
                }
            }
        }
    });
    let hint = match app.analyst.mode {
        Mode::Browse => "Right-click the map for rings, labels, distances and nearby incidents.",
        Mode::Measure => "Drag on the map to measure (geodesic, WGS84).",
        Mode::DrawArea => "Click the vertices; double-click to close the area (Esc cancels).",
        Mode::EditArea => "Drag a vertex to move it.",
        Mode::Arrow => "Click the arrow's tail, then its head.",
    };
    ui.label(RichText::new(hint).weak());
}

/// The Tools window and "Incidents near here".
pub fn windows(app: &mut App, ctx: &egui::Context) {
    let mut open = app.analyst.show;
    egui::Window::new("Tools")
        .open(&mut open)
        .default_width(320.0)
        .show(ctx, |ui| tools_body(app, ui));
    app.analyst.show = open;
    nearest_window(app, ctx);
}

fn tools_body(app: &mut App, ui: &mut egui::Ui) {
    mode_buttons(app, ui);
    if let Some(m) = &app.analyst.message {
        ui.colored_label(WARN, m);
    }
    ui.separator();
    ruler_line(app, ui);
    forms(app, ui);
    ui.separator();
    placed(app, ui);
    ui.separator();
    dupe_rule(app, ui);
    ui.separator();
    area_file(app, ui);
}

/// The ruler's measure, with Clear.
fn ruler_line(app: &mut App, ui: &mut egui::Ui) {
    match app.analyst.ruler_text() {
        Some(t) => {
            ui.horizontal(|ui| {
                ui.label(RichText::new(format!("Ruler: {t}")).strong());
                if ui.small_button("Clear").clicked() {
                    app.analyst.ruler = None;
                }
            });
        }
        None => {
            ui.label("Ruler: none (Measure, then drag on the map)");
        }
    }
}

/// The forms the context menu opens: rings, a label, the near filter.
fn forms(app: &mut App, ui: &mut egui::Ui) {
    let mut add_rings = false;
    if let Some(f) = &mut app.analyst.ring_form {
        ui.separator();
        ui.label(format!("Range rings at {:.5}, {:.5}", f.at.1, f.at.0));
        ui.horizontal(|ui| {
            let lab = ui.label("Radii (km)");
            let r = ui.text_edit_singleline(&mut f.text).labelled_by(lab.id);
            add_rings = ui.button("Add rings").clicked()
                || (r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)));
        });
    }
    if add_rings {
        app.analyst.add_rings();
        app.filters.invalidate();
    }
    let mut add_label = false;
    if let Some(f) = &mut app.analyst.label_form {
        ui.separator();
        ui.label(format!("Label at {:.5}, {:.5}", f.at.1, f.at.0));
        ui.horizontal(|ui| {
            let lab = ui.label("Text");
            ui.text_edit_singleline(&mut f.text).labelled_by(lab.id);
        });
        ui.horizontal(|ui| {
            egui::ComboBox::from_label("colour")
                .selected_text(f.ink.name())
                .show_ui(ui, |ui| {
                    for i in Ink::ALL {
                        ui.selectable_value(&mut f.ink, i, i.name());
                    }
                });
            add_label = ui.button("Add label").clicked();
        });
    }
    if add_label {
        app.analyst.add_label();
    }
    let mut apply_near = false;
    if let Some(f) = &mut app.analyst.near_form {
        ui.separator();
        ui.label(format!("Filter near {:.5}, {:.5}", f.at.1, f.at.0));
        ui.horizontal(|ui| {
            let lab = ui.label("Radius (km)");
            ui.text_edit_singleline(&mut f.text).labelled_by(lab.id);
            apply_near = ui.button("Apply").clicked();
        });
    }
    if apply_near && let Some(n) = app.analyst.near_from_form() {
        app.filters.set_near(Some(n));
    }
}

/// What is placed on the map: rings (with their counts), labels and arrows, each with Delete.
fn placed(app: &mut App, ui: &mut egui::Ui) {
    let mut drop_ring = None;
    for (k, r) in app.analyst.tools.rings.iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            let radii: Vec<String> = r.km.iter().map(|v| format!("{v}")).collect();
            let counts = app
                .analyst
                .ring_counts
                .get(k)
                .map(|c| {
                    c.iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(" / ")
                })
                .unwrap_or_default();
            ui.label(format!(
                "Rings {:.4}, {:.4}: {} km — {} incidents",
                r.lat,
                r.lon,
                radii.join(", "),
                counts
            ));
            if ui.small_button("Delete").clicked() {
                drop_ring = Some(k);
            }
        });
    }
    if let Some(k) = drop_ring {
        app.analyst.tools.rings.remove(k);
        app.filters.invalidate();
    }
    let mut drop_label = None;
    for (k, l) in app.analyst.tools.labels.iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "Label “{}” ({})",
                clean(&l.text, false),
                l.ink.name()
            ));
            if ui.small_button("Delete").clicked() {
                drop_label = Some(k);
            }
        });
    }
    if let Some(k) = drop_label {
        app.analyst.tools.labels.remove(k);
    }
    let mut drop_arrow = None;
    for (k, a) in app.analyst.tools.arrows.iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "Arrow {:.3}, {:.3} to {:.3}, {:.3}",
                a.from[0], a.from[1], a.to[0], a.to[1]
            ));
            if ui.small_button("Delete").clicked() {
                drop_arrow = Some(k);
            }
        });
    }
    if let Some(k) = drop_arrow {
        app.analyst.tools.arrows.remove(k);
    }
    if app.analyst.tools.is_empty() {
        ui.label(RichText::new("No rings, labels or arrows yet.").weak());
    }
}

/// The rule of possible duplicates.
fn dupe_rule(app: &mut App, ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        let rule = &mut app.analyst.tools.dupes;
        ui.label("Possible duplicates: same type, within");
        let a = ui.add(
            egui::DragValue::new(&mut rule.days)
                .range(0..=60)
                .suffix(" day(s)"),
        );
        ui.label("and");
        let b = ui.add(
            egui::DragValue::new(&mut rule.km)
                .range(0.1..=500.0)
                .speed(0.1)
                .suffix(" km"),
        );
        if a.changed() || b.changed() {
            app.filters.invalidate();
        }
    });
}

/// An area of interest read from a GeoJSON file.
fn area_file(app: &mut App, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        let lab = ui.label("Area file");
        ui.text_edit_singleline(&mut app.chrome.area_path)
            .labelled_by(lab.id);
        if ui.button("Load area").clicked() {
            let p = std::path::PathBuf::from(app.chrome.area_path.trim());
            match crate::area::Area::read(&p) {
                Ok(a) => {
                    app.filters.set_within(Some(a));
                    app.analyst.message = None;
                }
                Err(e) => app.analyst.message = Some(e.to_string()),
            }
        }
    });
}

fn nearest_window(app: &mut App, ctx: &egui::Context) {
    let Some((at, list)) = app.analyst.nearest.clone() else {
        return;
    };
    let mut open = true;
    let mut pick = None;
    egui::Window::new("Incidents near here")
        .open(&mut open)
        .default_width(360.0)
        .show(ctx, |ui| {
            ui.label(format!(
                "Nearest filtered incidents to {:.5}, {:.5}",
                at.1, at.0
            ));
            let Some(d) = &app.data else { return };
            if list.is_empty() {
                ui.label("No filtered incidents.");
            }
            egui::ScrollArea::vertical()
                .max_height(300.0)
                .show(ui, |ui| {
                    for &(i, km) in list.iter().filter(|&&(i, _)| (i as usize) < d.store.len()) {
                        let s = &d.store;
                        let text = format!(
                            "{}  {}  {}  {}",
                            km_text(km),
                            s.date_string(i as usize),
                            s.type_name(i as usize),
                            s.place_name(i as usize)
                        );
                        if ui
                            .selectable_label(app.pick.selected == Some(i), clean(&text, false))
                            .clicked()
                        {
                            pick = Some(i);
                        }
                    }
                });
        });
    if let Some(i) = pick {
        app.select(Some(i));
    }
    if !open {
        app.analyst.nearest = None;
    }
}

/// The place search box (Ctrl+K): gazetteer places, the data's own place names and typed
/// coordinates (decimal, DMS, MGRS); choosing one centres the map there.
pub fn place_search(app: &mut App, ctx: &egui::Context) {
    if !app.chrome.show_places {
        return;
    }
    let mut open = true;
    let mut go = None;
    egui::Window::new("Find a place")
        .open(&mut open)
        .default_width(380.0)
        .anchor(egui::Align2::CENTER_TOP, egui::vec2(0.0, 60.0))
        .show(ctx, |ui| {
            let lab = ui.label("Place or coordinates");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut app.chrome.place_query)
                        .hint_text("Ramadi · 33.786, 42.441 · 33°47'10\"N 42°26'28\"E · 38SLC…"),
                )
                .labelled_by(lab.id);
            if !r.has_focus() && app.chrome.place_query.is_empty() {
                r.request_focus();
            }
            let hits = match &app.data {
                Some(d) => {
                    let s = &d.store;
                    // Each of the data's places once, at its first incident.
                    let mut first = vec![None; s.places.len()];
                    for i in 0..s.len() {
                        let p = s.place[i] as usize;
                        if first[p].is_none() {
                            first[p] = Some((s.lon[i], s.lat[i]));
                        }
                    }
                    crate::places::search(
                        &app.chrome.place_query,
                        s.places
                            .names()
                            .zip(first)
                            .filter(|(n, _)| !n.is_empty())
                            .filter_map(|(n, p)| p.map(|p| (n, p))),
                        12,
                    )
                }
                None => crate::places::search(&app.chrome.place_query, std::iter::empty(), 12),
            };
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if enter && let Some(f) = hits.first() {
                go = Some(f.clone());
            }
            for f in &hits {
                let text = format!("{}  —  {}", clean(&f.label, false), f.source);
                if ui.selectable_label(false, text).clicked() {
                    go = Some(f.clone());
                }
            }
            if hits.is_empty() && app.chrome.place_query.trim().chars().count() >= 2 {
                ui.label(RichText::new("Nothing found").weak());
            }
            ui.label(
                RichText::new(format!(
                    "{} GeoNames places (CC BY 4.0) and the data's own places",
                    crate::places::gazetteer_len()
                ))
                .small()
                .weak(),
            );
        });
    if let Some(f) = go {
        let zoom = app.map.screen.map_or(11.0, |s| s.zoom.max(11.0));
        app.map.center_on(f.lon, f.lat, Some(zoom));
        app.analyst.context_at = None;
        app.chrome.message = Some(format!("Centred on {}", f.label));
        open = false;
    }
    if !open {
        app.chrome.show_places = false;
        app.chrome.place_query.clear();
    }
}

/// The Chart window (View → Chart…): incidents per day, week or month by type for the
/// filtered incidents, drawn as `incident-map chart` draws it; Copy CSV, Save CSV, Save PNG.
pub fn chart_window(app: &mut App, ctx: &egui::Context) {
    if !app.chrome.chart.show {
        return;
    }
    let mut open = true;
    egui::Window::new("Chart")
        .open(&mut open)
        .default_size([760.0, 420.0])
        .show(ctx, |ui| {
            let form = &mut app.chrome.chart;
            ui.horizontal(|ui| {
                use crate::date::Every;
                for (e, name) in [(Every::Day, "Days"), (Every::Week, "Weeks"), (Every::Month, "Months")] {
                    ui.selectable_value(&mut form.every, e, name);
                }
            });
            let chart = match &app.data {
                Some(d) if app.remote.is_none() => {
                    let f = app.filters.base();
                    form.chart(app.sel.generation, |every| {
                        crate::chart::Chart::of(&d.store, &app.sel.shown, every, f.from, f.to)
                    })
                }
                _ => None,
            };
            let Some(chart) = chart else {
                ui.label("Nothing to chart (no filtered incidents; a table is charted with `incident-map chart`).");
                return;
            };
            let title = form.title(&app.filters.base().describe());
            let (rect, _) = ui.allocate_exact_size(
                egui::vec2(ui.available_width(), (ui.available_height() - 60.0).max(200.0)),
                egui::Sense::hover(),
            );
            crate::view::chart::draw(&ui.painter_at(rect), rect, &chart, &title);
            ui.horizontal(|ui| {
                if ui.button("Copy CSV").clicked() {
                    let mut v = Vec::new();
                    if chart.write_csv(&mut v).is_ok() {
                        ui.ctx().copy_text(String::from_utf8_lossy(&v).into_owned());
                        form.message = Some("Copied the CSV".into());
                    }
                }
                let lab = ui.label("Save to");
                ui.text_edit_singleline(&mut form.path).labelled_by(lab.id);
                if ui.button("Save").clicked() {
                    form.save(chart.clone(), title.clone(), ui.ctx());
                }
            });
            form.poll();
            if let Some(m) = &form.message {
                ui.label(RichText::new(m).weak());
            }
        });
    if !open {
        app.chrome.chart.show = false;
    }
}

/// File → Export data…: the filtered incidents as CSV or GeoJSON.
pub fn data_window(app: &mut App, ctx: &egui::Context) {
    if !app.chrome.data.show {
        return;
    }
    let mut open = true;
    let mut save = false;
    egui::Window::new("Export data")
        .open(&mut open)
        .resizable(false)
        .show(ctx, |ui| {
            let (shown, _) = app.counts();
            ui.label(format!(
                "The {shown} filtered incidents, with every original field"
            ));
            let form = &mut app.chrome.data;
            ui.horizontal(|ui| {
                use crate::output::OutFormat;
                for (f, name, ext) in [
                    (OutFormat::Csv, "CSV", "csv"),
                    (OutFormat::Geojson, "GeoJSON", "geojson"),
                    (OutFormat::Kml, "KML", "kml"),
                    (OutFormat::Kmz, "KMZ", "kmz"),
                ] {
                    if ui.selectable_value(&mut form.format, f, name).clicked() {
                        // Follow the format in the file name.
                        let p = std::path::PathBuf::from(form.path.trim());
                        form.path = p.with_extension(ext).to_string_lossy().into_owned();
                    }
                }
            });
            ui.horizontal(|ui| {
                let lab = ui.label("File");
                ui.text_edit_singleline(&mut form.path).labelled_by(lab.id);
            });
            save = ui.button("Write").clicked();
            form.poll();
            if let Some(m) = &form.message {
                ui.label(RichText::new(m).weak());
            }
        });
    if save && let Some(s) = app.source.clone() {
        let f = app.effective_filter();
        app.chrome.data.save(s, f, ctx);
    }
    if !open {
        app.chrome.data.show = false;
    }
}
