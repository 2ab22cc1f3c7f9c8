//! The filter panel: one widget per filter of the list ([`crate::query::filters::FILTERS`]),
//! then the types with their counts.

use egui::{Color32, RichText, Sense, Stroke, vec2};

use super::clean;
use crate::app::App;
use crate::date::parse_ymd;
use crate::view::palette;

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

/// A filter's widget in the panel.
type Widget = fn(&mut App, &mut egui::Ui);

/// The widget of each filter of the list, by its name, in the panel's order. A filter of the
/// list without one here shows as its caption line with Clear when set (`generic`).
const WIDGETS: &[(&str, Widget)] = &[
    ("dates", dates),
    ("text", text),
    ("actors", actors),
    ("disputed", disputed),
    ("evidence", evidence),
    ("near", near),
    ("within", within),
    ("types", types),
];

/// The filter panel: each filter's widget, then the counts.
pub fn filters(app: &mut App, ui: &mut egui::Ui) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.heading("Filters");
        for (_, w) in WIDGETS.iter().filter(|(n, _)| *n != "types") {
            w(app, ui);
        }
        generic(app, ui);
        types(app, ui);
        ui.separator();
        let (shown, total) = app.counts();
        ui.label(format!("{shown} of {total} incidents"));
        if ui.button("Fit to filtered incidents").clicked() {
            app.fit_to_selection();
        }
    });
}

/// Filters with no widget of their own: their line, with Clear, when set (a saved view's box).
fn generic(app: &mut App, ui: &mut egui::Ui) {
    let f = app.filters.base().clone();
    for d in crate::query::filters::FILTERS {
        if WIDGETS.iter().any(|(n, _)| *n == d.name()) || !d.is_set(&f) {
            continue;
        }
        ui.horizontal_wrapped(|ui| {
            ui.label(d.describe(&f).unwrap_or_default());
            if ui.small_button("Clear").clicked() {
                app.filters.update(|f| d.clear(f));
            }
        });
    }
}

fn dates(app: &mut App, ui: &mut egui::Ui) {
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
}

fn text(app: &mut App, ui: &mut egui::Ui) {
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
}

fn actors(app: &mut App, ui: &mut egui::Ui) {
    let lab = ui.label("Actor");
    let typed = app.filters.typed("actors", |f| f.actors.join(", "));
    let r = ui
        .add(egui::TextEdit::singleline(typed).hint_text("names, separated by commas"))
        .labelled_by(lab.id);
    if r.changed() {
        let names: Vec<String> = typed
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        app.filters.update(|f| f.actors = names);
    }
}

fn disputed(app: &mut App, ui: &mut egui::Ui) {
    let mut disputed = app.filters.base().disputed;
    if ui
        .checkbox(&mut disputed, "Disputed only (sources disagree)")
        .changed()
    {
        app.filters.set_disputed(disputed);
    }
}

fn evidence(app: &mut App, ui: &mut egui::Ui) {
    let now = app.filters.base().evidence;
    let word = |e: Option<bool>| match e {
        None => "with or without",
        Some(true) => "with evidence attached",
        Some(false) => "without evidence",
    };
    ui.horizontal(|ui| {
        let l = ui.label("Evidence");
        let mut pick = now;
        egui::ComboBox::from_id_salt("evidence-filter")
            .selected_text(word(now))
            .show_ui(ui, |ui| {
                for e in [None, Some(true), Some(false)] {
                    ui.selectable_value(&mut pick, e, word(e));
                }
            })
            .response
            .labelled_by(l.id);
        if pick != now {
            app.filters.update(|f| f.evidence = pick);
        }
    });
}

fn near(app: &mut App, ui: &mut egui::Ui) {
    crate::app::tools_panel::near_line(app, ui);
}

fn within(app: &mut App, ui: &mut egui::Ui) {
    crate::app::tools_panel::within_line(app, ui);
}

fn types(app: &mut App, ui: &mut egui::Ui) {
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
    for e in app.legend_entries() {
        let (color, sym) = e.style;
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_of_the_list_shows_in_the_panel() {
        // Each has its widget, or its line with Clear (`generic`): none is invisible. A widget
        // names a filter of the list.
        for (n, _) in WIDGETS {
            assert!(
                crate::query::filters::FILTERS
                    .iter()
                    .any(|d| d.name() == *n),
                "{n}"
            );
        }
    }
}
