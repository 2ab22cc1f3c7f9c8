//! The window's panels: menu, filters, details, table, timeline, status bar and dialogs.

use std::path::PathBuf;

use egui::{Color32, RichText, Sense, Stroke, vec2};

use super::App;
use crate::date::parse_ymd;
use crate::text::safe_links;
use crate::view::palette;
use crate::view::tiles::{BaseLayer, OSM_ATTRIBUTION, OSM_TEMPLATE, check_template};

pub use crate::text::clean;

/// The table's Source column: each row's source text, read from its record once.
#[derive(Debug, Default)]
pub struct SourceCache {
    texts: std::collections::HashMap<u32, String>,
}

impl SourceCache {
    /// Forgets everything (new data).
    pub fn clear(&mut self) {
        self.texts.clear();
    }

    /// The sources of incident `i` as one line.
    pub fn get(&mut self, store: &crate::store::Store, i: u32) -> &str {
        if self.texts.len() > 50_000 {
            self.texts.clear();
        }
        self.texts.entry(i).or_insert_with(|| {
            // Reading a record costs its size; a table row never reads a huge one.
            if store.rec_len[i as usize] > 64 * 1024 {
                return "(large record: see details)".into();
            }
            match store.record(i as usize) {
                Ok(r) => clean(&r.texts(crate::model::Role::Source).join("; "), false),
                Err(e) => clean(&e.to_string(), false),
            }
        })
    }
}

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

/// File, View and Help menus.
pub fn menu_bar(app: &mut App, ui: &mut egui::Ui) {
    egui::Panel::top("menu").show(ui, |ui| {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open…  (Ctrl+O)").clicked() {
                    app.open_dialog(&ui.ctx().clone(), false);
                }
                if ui.button("Add files…").clicked() {
                    app.open_dialog(&ui.ctx().clone(), true);
                }
                if ui.button("Open path…").clicked() {
                    app.chrome.settings.show_open_path = true;
                }
                if ui.button("Open bundled dataset").clicked()
                    && let Some(p) = super::bundled_dataset()
                {
                    app.open(&ui.ctx().clone(), vec![p]);
                }
                ui.separator();
                if ui.button("Export PNG…").clicked() {
                    app.export.show = true;
                }
                if ui.button("Export data…").clicked() {
                    app.chrome.data.show = true;
                }
                if ui.button("Save view…").clicked() {
                    app.export.show_save_view = true;
                }
                if ui.button("Open view…").clicked() {
                    app.export.show_open_view = true;
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("View", |ui| {
                let ctx = ui.ctx().clone();
                ui.label("Incidents");
                use crate::density::Layer;
                ui.radio_value(&mut app.map.layer, Layer::Points, "Symbols and clusters");
                ui.radio_value(
                    &mut app.map.layer,
                    Layer::Hexbin,
                    "Density (hexagons, one scale for every date)",
                );
                ui.radio_value(
                    &mut app.map.layer,
                    Layer::Heat,
                    "Heat map (kernel density, one scale for every date)",
                );
                ui.separator();
                ui.label("Base layer");
                if ui
                    .radio(
                        matches!(app.map.base, BaseLayer::Osm),
                        "OpenStreetMap (online, offline fallback)",
                    )
                    .clicked()
                {
                    app.set_base(&ctx, BaseLayer::Osm);
                }
                if ui
                    .radio(
                        matches!(app.map.base, BaseLayer::Offline),
                        "Offline basemap (Natural Earth)",
                    )
                    .clicked()
                {
                    app.set_base(&ctx, BaseLayer::Offline);
                }
                if ui
                    .radio(
                        matches!(
                            app.map.base,
                            BaseLayer::Xyz { .. } | BaseLayer::PmTiles { .. }
                        ),
                        "Other tiles…",
                    )
                    .clicked()
                {
                    app.chrome.settings.show_tiles = true;
                }
                ui.separator();
                if ui.button("Fit to filtered incidents").clicked() {
                    app.fit_to_selection();
                }
                ui.checkbox(&mut app.chrome.show_table, "Incident table");
            });
            super::tools_panel::menu(app, ui);
            ui.menu_button("Help", |ui| {
                if ui.button("Shortcuts").clicked() {
                    app.chrome.settings.show_help = true;
                }
            });
        });
    });
}

/// Progress bar and Cancel while files load.
pub fn loading_bar(app: &mut App, ui: &mut egui::Ui) {
    let Some(l) = &app.loader() else { return };
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
fn table_status(r: &mut super::remote::Remote, ui: &mut egui::Ui) {
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

/// Cursor position, counts and tile status.
pub fn status_bar(app: &mut App, ui: &mut egui::Ui) {
    egui::Panel::bottom("status").show(ui, |ui| {
        ui.horizontal(|ui| {
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

/// A date text field; returns whether to apply it now, and whether it holds a date.
fn date_field(ui: &mut egui::Ui, label: &str, text: &mut String) -> (bool, bool) {
    let valid = text.trim().is_empty() || parse_ymd(text).is_ok();
    let lab = ui.label(label);
    let mut edit = egui::TextEdit::singleline(text)
        .desired_width(96.0)
        .hint_text("YYYY-MM-DD");
    if !valid {
        edit = edit.text_color(Color32::from_rgb(0xC0, 0x20, 0x20));
    }
    let r = ui.add(edit).labelled_by(lab.id);
    let commit = r.lost_focus() || (r.has_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)));
    (commit, valid)
}

/// The filter panel: dates, types, text, counts.
pub fn filters(app: &mut App, ui: &mut egui::Ui) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.heading("Filters");
        ui.label(RichText::new("Dates (inclusive)").strong());
        let mut commit = false;
        egui::Grid::new("dates").num_columns(2).show(ui, |ui| {
            commit |= date_field(ui, "From", &mut app.filters.from_text).0;
            ui.end_row();
            commit |= date_field(ui, "To", &mut app.filters.to_text).0;
            ui.end_row();
        });
        if commit {
            app.filters.commit_typed_dates();
        }
        if let Err(e) = app.filters.typed_dates() {
            ui.colored_label(Color32::from_rgb(0xC0, 0x20, 0x20), "Dates are YYYY-MM-DD")
                .on_hover_text(e.to_string());
        }
        let f = app.filters.base();
        if (f.from.is_some() || f.to.is_some()) && ui.button("All dates").clicked() {
            app.set_dates(None, None);
        }
        ui.separator();
        ui.label(RichText::new("Search").strong());
        let lab = ui.label("Text");
        let r = ui
            .add(
                egui::TextEdit::singleline(&mut app.filters.text_query)
                    .hint_text("place, notes, actors, source (Ctrl+F)"),
            )
            .labelled_by(lab.id);
        if app.chrome.focus_search {
            r.request_focus();
            app.chrome.focus_search = false;
        }
        if r.changed() {
            let q = app.filters.text_query.clone();
            app.set_text(&q);
        }
        let mut disputed = app.filters.base().disputed;
        if ui
            .checkbox(&mut disputed, "Disputed only (sources disagree)")
            .changed()
        {
            app.filters.set_disputed(disputed);
        }
        super::tools_panel::filter_lines(app, ui);
        ui.separator();
        ui.horizontal(|ui| {
            ui.label(RichText::new("Types").strong());
            if ui.small_button("All").clicked() {
                app.filters.show_all_types();
            }
            if ui.small_button("None").clicked()
                && let Some(d) = &app.data
            {
                app.filters.hide_all_types(&d.store);
            }
        });
        let entries = app.legend_entries();
        for e in entries {
            let (color, sym) = palette::style(&e.name);
            ui.horizontal(|ui| {
                let (r, _) = ui.allocate_exact_size(vec2(14.0, 14.0), Sense::hover());
                ui.painter().add(palette::symbol_shape(
                    sym,
                    r.center(),
                    5.0,
                    color,
                    Stroke::new(1.0, Color32::WHITE),
                ));
                let mut shown = e.shown;
                if ui
                    .checkbox(
                        &mut shown,
                        format!("{} ({})", clean(&e.name, false), e.count),
                    )
                    .changed()
                {
                    app.toggle_type(&e.name);
                }
            });
        }
        ui.separator();
        let (shown, total) = app.counts();
        ui.label(format!("{shown} of {total} incidents"));
        if ui.button("Fit to filtered incidents").clicked() {
            app.fit_to_selection();
        }
    });
}

fn badge(ui: &mut egui::Ui, text: &str, approximate: bool) {
    let color = if approximate {
        Color32::from_rgb(0xB3, 0x6B, 0x00)
    } else {
        Color32::from_rgb(0x2E, 0x7D, 0x32)
    };
    egui::Frame::new()
        .stroke(Stroke::new(1.0, color))
        .corner_radius(3.0)
        .inner_margin(vec2(4.0, 0.0))
        .show(ui, |ui| {
            ui.label(RichText::new(text).small().color(color));
        });
}

/// A source: its text without the URLs, then each http(s) URL as a link that opens in the
/// system browser. Other schemes stay in the text and are never opened.
fn links(ui: &mut egui::Ui, text: &str) {
    let cleaned = clean(text, false);
    let urls = safe_links(&cleaned);
    let mut rest = cleaned.clone();
    for u in &urls {
        rest = rest.replace(u.as_str(), "");
    }
    let rest = rest
        .trim_matches(|c: char| c.is_whitespace() || c == ';' || c == ',')
        .to_string();
    if !rest.is_empty() {
        ui.label(rest);
    }
    for u in urls {
        ui.hyperlink_to(RichText::new(u.clone()).small(), u);
    }
}

/// The "disputed" badge (details panel, table).
fn disputed_badge(ui: &mut egui::Ui) {
    let color = crate::view::overlay::DISPUTED;
    egui::Frame::new()
        .stroke(Stroke::new(1.0, color))
        .corner_radius(3.0)
        .inner_margin(vec2(4.0, 0.0))
        .show(ui, |ui| {
            ui.label(RichText::new("disputed").small().color(color));
        });
}

/// The details panel: the selected incident, an expanded stack, and load problems.
pub fn details(app: &mut App, ui: &mut egui::Ui) {
    app.read_details();
    egui::ScrollArea::vertical()
        .id_salt("details-scroll")
        .show(ui, |ui| {
            ui.heading("Details");
            let Some(d) = &app.data else {
                ui.label("No data loaded.");
                return;
            };
            if let Some(stack) = app.pick.stack.clone() {
                ui.label(
                    RichText::new(format!("{} incidents at this exact place", stack.len()))
                        .strong(),
                );
                egui::ScrollArea::vertical()
                    .id_salt("stack")
                    .max_height(180.0)
                    .show_rows(ui, 18.0, stack.len(), |ui, rows| {
                        for k in rows {
                            let i = stack[k];
                            let text = format!(
                                "{}  {}  {}",
                                d.store.date_string(i as usize),
                                d.store.type_name(i as usize),
                                d.store.place_name(i as usize)
                            );
                            if ui
                                .selectable_label(app.pick.selected == Some(i), clean(&text, false))
                                .clicked()
                            {
                                app.pick.selected = Some(i);
                                app.pick.scroll_table = true;
                            }
                        }
                    });
                if ui.small_button("Close list").clicked() {
                    app.pick.stack = None;
                }
                ui.separator();
            }
            match app.pick.selected {
                None => {
                    ui.label("Click an incident on the map or in the table.");
                }
                Some(i) => {
                    // Read once per selection, not every frame (records can be huge).
                    if app.pick.details.as_ref().is_none_or(|(k, _)| *k != i) {
                        // Asked of the source by key, on a worker.
                        ui.label(RichText::new("Reading the record…").weak());
                        return;
                    }
                    let r = match app.pick.details.as_ref() {
                        Some((_, Ok(r))) => r,
                        Some((_, Err(e))) => {
                            ui.colored_label(
                                Color32::from_rgb(0xB0, 0x30, 0x20),
                                clean(&e.to_string(), false),
                            );
                            return;
                        }
                        None => return,
                    };
                    ui.label(RichText::new(clean(&r.type_name, false)).heading());
                    if !r.category.is_empty() {
                        ui.label(RichText::new(clean(&r.category, false)).weak());
                    }
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(&r.date).strong());
                        if let Some(t) = &r.time {
                            ui.label(t);
                        }
                    });
                    ui.label(clean(&r.place, false));
                    ui.horizontal(|ui| {
                        let dp = r.date_precision;
                        badge(ui, &format!("date: {dp}"), dp != "day");
                        let lp = r.loc_precision;
                        badge(ui, &format!("location: {lp}"), lp != "exact");
                    });
                    ui.label(
                        RichText::new(format!("{:.5}, {:.5}", r.lon_lat.1, r.lon_lat.0))
                            .monospace()
                            .small(),
                    );
                    let cas = match (r.fatalities, r.injuries) {
                        (None, None) => "Casualties not reported".to_string(),
                        (f, i) => format!(
                            "Killed: {} · Injured: {}",
                            f.map_or("not reported".into(), |v| v.to_string()),
                            i.map_or("not reported".into(), |v| v.to_string())
                        ),
                    };
                    ui.label(cas);
                    if r.disputed {
                        ui.horizontal(|ui| {
                            disputed_badge(ui);
                            ui.label(RichText::new("sources disagree: see the accounts").small());
                        });
                    }
                    if ui
                        .small_button("Range rings around this incident…")
                        .clicked()
                    {
                        app.analyst.ring_form = Some(super::analyst::PointForm {
                            at: r.lon_lat,
                            text: "10, 25, 50".into(),
                            ink: Default::default(),
                        });
                        app.analyst.show = true;
                    }
                    if !r.related.is_empty() {
                        ui.label(RichText::new("Related incidents").strong());
                        let mut go = None;
                        for id in &r.related {
                            match d.links.ids.get(id) {
                                Some(&j) => {
                                    let text = format!(
                                        "{id}: {}  {}  {}",
                                        d.store.date_string(j as usize),
                                        d.store.type_name(j as usize),
                                        d.store.place_name(j as usize)
                                    );
                                    if ui.link(clean(&text, false)).clicked() {
                                        go = Some(j);
                                    }
                                }
                                None => {
                                    ui.label(format!("{} (not in the data)", clean(id, false)));
                                }
                            }
                        }
                        if let Some(j) = go {
                            app.pick.selected = Some(j);
                            app.pick.scroll_table = true;
                        }
                    }
                    if let Some(group) = app.dupes.group(i) {
                        let rule = app.dupes.rule;
                        egui::Frame::new()
                            .stroke(Stroke::new(1.0, crate::view::DUPE))
                            .corner_radius(3.0)
                            .inner_margin(vec2(6.0, 4.0))
                            .show(ui, |ui| {
                                ui.label(
                                    RichText::new(format!(
                                        "Possible duplicates: {} reports of this type within {} day(s) and {} km",
                                        group.len(),
                                        rule.days,
                                        rule.km
                                    ))
                                    .strong(),
                                );
                                for &j in group {
                                    let text = format!(
                                        "{}  {}  {}",
                                        d.store.date_string(j as usize),
                                        d.store.type_name(j as usize),
                                        d.store.place_name(j as usize)
                                    );
                                    if ui
                                        .selectable_label(j == i, clean(&text, false))
                                        .clicked()
                                        && j != i
                                    {
                                        app.pick.selected = Some(j);
                                        app.pick.scroll_table = true;
                                    }
                                }
                                ui.label(
                                    RichText::new("Shown, never merged: merging is your decision.")
                                        .small()
                                        .weak(),
                                );
                            });
                    }
                    for desc in &r.description {
                        ui.separator();
                        ui.label(clean(desc, true));
                    }
                    if !r.actors.is_empty() {
                        ui.separator();
                        ui.label(RichText::new("Actors").strong());
                        for a in &r.actors {
                            ui.label(clean(a, false));
                        }
                    }
                    ui.separator();
                    ui.label(RichText::new("Sources").strong());
                    if r.sources.is_empty() {
                        ui.label("No source given in the data.");
                    }
                    for s in &r.sources {
                        links(ui, s);
                    }
                    if !r.accounts.is_empty() {
                        ui.separator();
                        ui.label(
                            RichText::new(format!("Accounts ({})", r.accounts.len())).strong(),
                        );
                        for (k, a) in r.accounts.iter().enumerate() {
                            if k > 0 {
                                ui.add_space(4.0);
                            }
                            links(ui, &a.source);
                            if let Some(u) = &a.source_url {
                                links(ui, u);
                            }
                            let facts = a.facts();
                            if !facts.is_empty() {
                                ui.label(RichText::new(clean(&facts, false)).small().strong());
                            }
                            if let Some(c) = &a.claim {
                                ui.label(RichText::new(clean(c, true)).small());
                            }
                        }
                    }
                    egui::CollapsingHeader::new(format!("All {} fields", r.fields.len()))
                        .id_salt("fields")
                        .show(ui, |ui| {
                            egui::Grid::new("fields-grid")
                                .num_columns(2)
                                .striped(true)
                                .show(ui, |ui| {
                                    for (k, v) in &r.fields {
                                        ui.label(RichText::new(clean(k, false)).small().strong());
                                        ui.label(RichText::new(clean(v, true)).small());
                                        ui.end_row();
                                    }
                                });
                            ui.label(
                                RichText::new(format!("from {}", clean(&r.origin, false)))
                                    .small()
                                    .weak(),
                            );
                        });
                }
            }
            ui.separator();
            let n = d.problems.len() + d.errors.len();
            egui::CollapsingHeader::new(format!("Load problems ({n})"))
                .id_salt("problems")
                .default_open(!d.errors.is_empty())
                .show(ui, |ui| {
                    if n == 0 {
                        ui.label("None.");
                    }
                    for e in &d.errors {
                        ui.colored_label(
                            Color32::from_rgb(0xB0, 0x30, 0x20),
                            clean(&e.to_string(), false),
                        );
                    }
                    let problems = &d.problems;
                    egui::ScrollArea::vertical()
                        .id_salt("problem-list")
                        .max_height(240.0)
                        .show_rows(ui, 16.0, problems.len(), |ui, rows| {
                            for k in rows {
                                ui.label(
                                    RichText::new(clean(&problems[k].to_string(), false))
                                        .small()
                                        .monospace(),
                                );
                            }
                        });
                });
        });
}

/// The timeline with its playback controls.
pub fn timeline_panel(app: &mut App, ui: &mut egui::Ui) {
    let Some((first, _)) = app.day_range() else {
        ui.label("Timeline: no data");
        return;
    };
    ui.horizontal(|ui| {
        let label = if app.timeline.playing {
            "Pause"
        } else {
            "Play"
        };
        if ui.button(label).on_hover_text("Space").clicked() {
            app.toggle_play();
        }
        egui::ComboBox::from_label("mode")
            .selected_text(if app.timeline.cumulative {
                "Cumulative"
            } else {
                "Sliding window"
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut app.timeline.cumulative, false, "Sliding window");
                ui.selectable_value(&mut app.timeline.cumulative, true, "Cumulative");
            });
        egui::ComboBox::from_label("speed")
            .selected_text(speed_name(app.timeline.days_per_second))
            .show_ui(ui, |ui| {
                for v in [1.0, 7.0, 30.0, 91.0, 365.0] {
                    ui.selectable_value(&mut app.timeline.days_per_second, v, speed_name(v));
                }
            });
        egui::ComboBox::from_label("bars")
            .selected_text(format!("{:?}", app.timeline.bin))
            .show_ui(ui, |ui| {
                use super::timeline::Bin;
                for b in [Bin::Auto, Bin::Day, Bin::Week, Bin::Month] {
                    ui.selectable_value(&mut app.timeline.bin, b, format!("{b:?}"));
                }
            });
        ui.label(RichText::new(app.filters.base().date_range_text()).strong());
        ui.label(
            RichText::new("drag to select, double-click to clear")
                .weak()
                .small(),
        );
    });
    let counts = app.sel.timeline.day_counts.clone();
    let first = if app.sel.timeline.day_counts.is_empty() {
        first
    } else {
        app.sel.timeline.first_day
    };
    let (mut f, mut t) = (app.filters.base().from, app.filters.base().to);
    let stacks = if app.remote.is_some() {
        None
    } else {
        app.sel.stacks.as_ref()
    };
    if app
        .timeline
        .show(ui, &counts, first, stacks, &mut f, &mut t)
    {
        app.set_dates(f, t);
    }
}

fn speed_name(v: f64) -> &'static str {
    match v as i64 {
        1 => "1 day/s",
        7 => "1 week/s",
        30 => "1 month/s",
        91 => "1 quarter/s",
        _ => "1 year/s",
    }
}

fn cell(ui: &mut egui::Ui, text: impl Into<egui::WidgetText>) {
    ui.add(egui::Label::new(text).truncate().selectable(false));
}

/// The table of filtered incidents, sorted by date, synced with the map.
pub fn table(app: &mut App, ui: &mut egui::Ui) {
    let mut sources = std::mem::take(&mut app.pick.sources);
    table_rows(app, ui, &mut sources);
    app.pick.sources = sources;
}

fn table_rows(app: &mut App, ui: &mut egui::Ui, sources: &mut SourceCache) {
    use egui_extras::{Column, TableBuilder};
    let Some(d) = &app.data else { return };
    let rows = &app.sel.shown.indices;
    let mut clicked = None;
    let scroll_to = if app.pick.scroll_table {
        app.pick.selected.and_then(|s| rows.binary_search(&s).ok())
    } else {
        None
    };
    app.pick.scroll_table = false;
    let mut tb = TableBuilder::new(ui)
        .striped(true)
        .resizable(true)
        .sense(Sense::click())
        .column(Column::exact(86.0))
        .column(Column::exact(48.0))
        .column(Column::initial(170.0).at_least(60.0))
        .column(Column::initial(200.0).at_least(60.0))
        .column(Column::exact(110.0))
        .column(Column::exact(60.0))
        .column(Column::exact(86.0))
        .column(Column::remainder().at_least(80.0));
    if let Some(r) = scroll_to {
        tb = tb.scroll_to_row(r, Some(egui::Align::Center));
    }
    tb.header(18.0, |mut h| {
        for name in [
            "Date",
            "Time",
            "Type",
            "Place",
            "Precision",
            "Killed",
            "Accounts",
            "Source",
        ] {
            h.col(|ui| {
                ui.strong(name);
            });
        }
    })
    .body(|body| {
        body.rows(18.0, rows.len(), |mut row| {
            let i = rows[row.index()] as usize;
            let s = &d.store;
            row.set_selected(app.pick.selected == Some(i as u32));
            row.col(|ui| {
                cell(ui, s.date_string(i));
            });
            row.col(|ui| {
                cell(
                    ui,
                    crate::details::format_time(s.minute[i], i16::MIN).unwrap_or_default(),
                );
            });
            row.col(|ui| {
                cell(ui, clean(s.type_name(i), false));
            });
            row.col(|ui| {
                cell(ui, clean(s.place_name(i), false));
            });
            row.col(|ui| {
                cell(
                    ui,
                    format!(
                        "{} / {}",
                        s.date_precision[i].name(),
                        s.loc_precision[i].name()
                    ),
                );
            });
            row.col(|ui| {
                if s.fatalities[i] >= 0 {
                    cell(ui, s.fatalities[i].to_string());
                }
            });
            row.col(|ui| {
                if s.disputed[i] {
                    cell(
                        ui,
                        RichText::new("disputed").color(crate::view::overlay::DISPUTED),
                    );
                }
            });
            row.col(|ui| {
                cell(ui, sources.get(s, i as u32));
            });
            if row.response().clicked() {
                clicked = Some(i as u32);
            }
        });
    });
    if let Some(i) = clicked {
        app.pick.selected = Some(i);
        app.pick.stack = None;
        if let Some(d) = &app.data {
            let (lon, lat) = (d.store.lon[i as usize], d.store.lat[i as usize]);
            if let Some(s) = app.map.screen
                && !s.rect.shrink(30.0).contains(s.lonlat_to_screen(lon, lat))
            {
                app.map.memory.center_at(walkers::lon_lat(lon, lat));
            }
        }
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
                    ("Esc", "Clear the selection"),
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
