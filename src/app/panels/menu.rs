//! The menu bar: File, Edit, View, Tools and Help.

use crate::app::App;
use crate::view::tiles::BaseLayer;

/// The File menu.
fn file_menu(app: &mut App, ui: &mut egui::Ui) {
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
        && let Some(p) = crate::app::bundled_dataset()
    {
        app.open(&ui.ctx().clone(), vec![p]);
    }
    ui.separator();
    if ui.button("Export map…").clicked() {
        app.export.show = true;
    }
    if ui.button("Export data…").clicked() {
        app.chrome.data.show = true;
    }
    if ui
        .add_enabled(
            app.evidence.bundling.is_none(),
            egui::Button::new("Export evidence bundle…"),
        )
        .on_hover_text(
            "The filtered incidents, their evidence and custody lines, and the map, as a BagIt bag",
        )
        .clicked()
    {
        app.export_bundle();
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
}

/// File, View and Help menus.
pub fn menu_bar(app: &mut App, ui: &mut egui::Ui) {
    egui::Panel::top("menu").show(ui, |ui| {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| file_menu(app, ui));
            edit_menu(app, ui);
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
            crate::app::tools_panel::menu(app, ui);
            ui.menu_button("Help", |ui| {
                if ui.button("Shortcuts").clicked() {
                    app.chrome.settings.show_help = true;
                }
            });
        });
    });
}

/// The Edit menu: new incident, undo and redo, a new incident file, a copy as GeoJSON, and the
/// name edits are recorded under. What cannot be done says why.
fn edit_menu(app: &mut App, ui: &mut egui::Ui) {
    ui.menu_button("Edit", |ui| {
        let why = app.why_not_editable();
        let r = ui.add_enabled(why.is_none(), egui::Button::new("New incident…"));
        if r.clicked() {
            app.new_incident(None);
            ui.close();
        }
        if let Some(w) = &why {
            r.on_disabled_hover_text(w.as_str());
            ui.label(
                egui::RichText::new(format!("Editing is off: {w}"))
                    .weak()
                    .small(),
            );
        }
        let (undo, redo) = app.editor.can_undo();
        if ui
            .add_enabled(undo, egui::Button::new("Undo  (Ctrl+Z)"))
            .clicked()
        {
            app.undo();
            ui.close();
        }
        if ui
            .add_enabled(redo, egui::Button::new("Redo  (Ctrl+Shift+Z)"))
            .clicked()
        {
            app.redo();
            ui.close();
        }
        if ui
            .add_enabled(
                why.is_none(),
                egui::Button::new("Place incidents without a position…"),
            )
            .clicked()
        {
            app.place_unplaced();
            ui.close();
        }
        ui.separator();
        if ui.button("New incident file…").clicked() {
            app.editor.new_file = Some("incidents.geojson".into());
            ui.close();
        }
        if ui
            .add_enabled(
                app.data.is_some(),
                egui::Button::new("Save a copy as GeoJSON…"),
            )
            .clicked()
        {
            app.editor.save_copy = Some("copy.geojson".into());
            ui.close();
        }
        ui.separator();
        ui.horizontal(|ui| {
            let l = ui.label("Your name in the history");
            ui.add(
                egui::TextEdit::singleline(&mut app.chrome.editor)
                    .desired_width(120.0)
                    .hint_text(crate::edit::editor_name("")),
            )
            .labelled_by(l.id);
        });
        ui.horizontal(|ui| {
            let l = ui.label("Time-stamping authority");
            ui.add(
                egui::TextEdit::singleline(&mut app.chrome.tsa)
                    .desired_width(160.0)
                    .hint_text("none (an RFC 3161 URL)"),
            )
            .labelled_by(l.id);
        });
    });
}
