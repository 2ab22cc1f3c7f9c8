//! The menu bar: File, Edit, View, Tools and Help.

use crate::app::App;
use crate::view::tiles::BaseLayer;

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
                    && let Some(p) = crate::app::bundled_dataset()
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
            crate::app::tools_panel::menu(app, ui);
            ui.menu_button("Help", |ui| {
                if ui.button("Shortcuts").clicked() {
                    app.chrome.settings.show_help = true;
                }
            });
        });
    });
}
