//! The table of filtered incidents (virtualised: 1M rows), selection shared with the map.

use egui::{RichText, Sense};

use super::clean;
use crate::app::App;

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

fn cell(ui: &mut egui::Ui, text: impl Into<egui::WidgetText>) {
    ui.add(egui::Label::new(text).truncate().selectable(false));
}

/// The table of filtered incidents, sorted by date, synced with the map.
pub fn table(app: &mut App, ui: &mut egui::Ui) {
    let mut sources = std::mem::take(&mut app.pick.sources);
    table_rows(app, ui, &mut sources);
    app.pick.sources = sources;
}

/// One row's cells.
fn cells(
    row: &mut egui_extras::TableRow<'_, '_>,
    s: &crate::store::Store,
    i: usize,
    sources: &mut SourceCache,
) {
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
        // The panel sets the height (egui_extras would keep at least 200 px of rows).
        .min_scrolled_height(0.0)
        .max_scroll_height(f32::INFINITY)
        .auto_shrink(false)
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
            row.set_selected(app.pick.selected == Some(i as u32));
            cells(&mut row, &d.store, i, sources);
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
