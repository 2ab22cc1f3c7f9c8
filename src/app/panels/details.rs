//! The details panel: the selected incident with every field, its accounts, links and possible
//! duplicates, an expanded stack, and load problems.

use egui::{Color32, RichText, Stroke, vec2};

use super::clean;
use crate::app::{App, Data};
use crate::details::Details;
use crate::text::safe_links;

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

/// What a click in the details panel asks for.
enum Action {
    /// Select this incident (and scroll the table to it).
    Select(u32),
    /// Close the stack's list.
    CloseStack,
    /// Open the range rings form around a position.
    Rings((f64, f64)),
    /// Open the form on the selected incident.
    Edit,
    /// Ask to delete the selected incident.
    Delete,
    /// Restore the selected incident to a version of its history.
    Restore(crate::edit::Draft),
    /// Open the list of rows without a position.
    Place,
}

/// The details panel: the selected incident, an expanded stack, and load problems.
pub fn details(app: &mut App, ui: &mut egui::Ui) {
    app.read_details();
    let mut actions = Vec::new();
    let mut evidence_actions = Vec::new();
    let mut shown = false;
    egui::ScrollArea::vertical()
        .id_salt("details-scroll")
        .show(ui, |ui| {
            ui.heading("Details");
            let Some(d) = &app.data else {
                ui.label("No data loaded.");
                return;
            };
            if let Some(stack) = &app.pick.stack {
                actions.extend(stack_list(ui, d, stack, app.pick.selected));
            }
            match app.pick.selected {
                None => {
                    ui.label("Click an incident on the map or in the table.");
                }
                // Read once per selection, not every frame (records can be huge); a source
                // asked by key answers on a worker.
                Some(i) => match app.pick.details.as_ref() {
                    Some((k, Ok(r))) if *k == i => {
                        let group = app.dupes.group(i).map(|g| (g, app.dupes.rule));
                        actions.extend(edit_buttons(ui, app.why_not_editable()));
                        actions.extend(incident(ui, d, i, r, group));
                        let key = d.incidents.key(i);
                        let h = app.editor.history.as_ref().filter(|(k, _)| *k == key);
                        actions.extend(history(ui, h.map(|(_, h)| h)));
                        shown = true;
                    }
                    Some((k, Err(e))) if *k == i => {
                        ui.colored_label(
                            Color32::from_rgb(0xB0, 0x30, 0x20),
                            clean(&e.to_string(), false),
                        );
                    }
                    _ => {
                        ui.label(RichText::new("Reading the record…").weak());
                    }
                },
            }
            if shown {
                evidence_actions = super::evidence::evidence(app, ui);
            }
            ui.separator();
            if let Some(d) = &app.data
                && problems(ui, d)
            {
                actions.push(Action::Place);
            }
        });
    evidence_done(app, evidence_actions);
    for a in actions {
        match a {
            Action::Select(j) => {
                app.pick.selected = Some(j);
                app.pick.scroll_table = true;
            }
            Action::CloseStack => app.pick.stack = None,
            Action::Edit => app.edit_selected(),
            Action::Delete => app.delete_selected(),
            Action::Place => app.place_unplaced(),
            Action::Restore(d) => {
                if let Some(key) = app.selected_key() {
                    app.restore(key, d);
                }
            }
            Action::Rings(at) => {
                app.analyst.ring_form = Some(crate::app::analyst::PointForm {
                    at,
                    text: "10, 25, 50".into(),
                    ink: Default::default(),
                });
                app.analyst.show = true;
            }
        }
    }
}

/// What was asked in the Evidence section.
fn evidence_done(app: &mut App, actions: Vec<super::evidence::Action>) {
    use super::evidence::Action as E;
    let ctx = app.ctx.clone();
    for a in actions {
        match a {
            E::Pick => app.pick_evidence(),
            E::Open(item) => {
                let by = app.editor_name();
                app.evidence.open(&item, by, &ctx);
            }
            E::ShowFolder(p) => {
                let opener = app.evidence.opener.clone();
                if let Err(e) = crate::app::evidence::show_with_system(&p, opener.as_deref()) {
                    app.chrome.message = Some(e.to_string());
                }
            }
            E::Verify => app.evidence.verify(&ctx),
            E::Cancel => {
                if let Some(a) = &app.evidence.attaching {
                    a.ctl.cancel();
                }
                if let Some(c) = &app.evidence.verifying {
                    c.cancel();
                }
            }
            E::AskDetach(sha) => app.evidence.detaching = Some((sha, String::new())),
            E::Detach(item, reason) => {
                let by = app.editor_name();
                app.evidence.detach(&item, reason, by, &ctx);
            }
        }
    }
}

/// Edit… and Delete…, or why not.
fn edit_buttons(ui: &mut egui::Ui, why_not: Option<String>) -> Vec<Action> {
    let mut out = Vec::new();
    ui.horizontal(|ui| {
        let on = why_not.is_none();
        let e = ui.add_enabled(on, egui::Button::new("Edit…"));
        let d = ui.add_enabled(on, egui::Button::new("Delete…"));
        if e.clicked() {
            out.push(Action::Edit);
        }
        if d.clicked() {
            out.push(Action::Delete);
        }
        if let Some(w) = &why_not {
            e.on_disabled_hover_text(w.as_str());
            d.on_disabled_hover_text(w.as_str());
        }
    });
    if let Some(w) = why_not {
        ui.label(RichText::new(format!("Editing is off: {w}")).weak().small());
    }
    out
}

/// The incident's history: each edit with what it changed, and a way back to before it.
fn history(ui: &mut egui::Ui, h: Option<&crate::app::editor::HistoryRead>) -> Vec<Action> {
    let mut out = Vec::new();
    let n = match h {
        Some(Ok(v)) => v.len().to_string(),
        _ => "…".into(),
    };
    ui.collapsing(format!("History ({n})"), |ui| match h {
        None => {
            ui.label(RichText::new("Reading the history…").weak());
        }
        Some(Err(e)) => {
            ui.colored_label(
                Color32::from_rgb(0xB0, 0x30, 0x20),
                clean(&e.to_string(), false),
            );
        }
        Some(Ok(v)) if v.is_empty() => {
            ui.label(RichText::new("No edits recorded.").weak());
        }
        Some(Ok(v)) => {
            for e in v.iter().rev() {
                ui.label(
                    RichText::new(format!("{}  {}  {}", e.at, clean(&e.editor, false), e.op))
                        .strong(),
                );
                for c in e.changes() {
                    ui.label(
                        RichText::new(format!(
                            "{}: {} -> {}",
                            c.field,
                            if c.before.is_empty() {
                                "(none)".into()
                            } else {
                                clean(&c.before, false)
                            },
                            if c.after.is_empty() {
                                "(none)".into()
                            } else {
                                clean(&c.after, false)
                            },
                        ))
                        .small(),
                    );
                }
                if let Some(b) = e.before.as_ref().and_then(crate::edit::draft_of_history)
                    && ui
                        .small_button("Restore the version before this edit")
                        .clicked()
                {
                    out.push(Action::Restore(b));
                }
                ui.separator();
            }
        }
    });
    out
}

/// The incidents at one place, to pick from.
fn stack_list(ui: &mut egui::Ui, d: &Data, stack: &[u32], selected: Option<u32>) -> Vec<Action> {
    let mut out = Vec::new();
    ui.label(RichText::new(format!("{} incidents at this exact place", stack.len())).strong());
    egui::ScrollArea::vertical()
        .id_salt("stack")
        .max_height(180.0)
        .show_rows(ui, 18.0, stack.len(), |ui, rows| {
            for k in rows {
                let i = stack[k];
                if ui
                    .selectable_label(selected == Some(i), clean(&d.line(i), false))
                    .clicked()
                {
                    out.push(Action::Select(i));
                }
            }
        });
    if ui.small_button("Close list").clicked() {
        out.push(Action::CloseStack);
    }
    ui.separator();
    out
}

/// The selected incident: what, when, where, how sure, casualties, links, duplicates, texts,
/// sources, accounts and every field.
fn incident(
    ui: &mut egui::Ui,
    d: &Data,
    i: u32,
    r: &Details,
    group: Option<(&[u32], crate::dupes::Rule)>,
) -> Vec<Action> {
    let mut out = Vec::new();
    summary(ui, r);
    if ui
        .small_button("Range rings around this incident…")
        .clicked()
    {
        out.push(Action::Rings(r.lon_lat));
    }
    out.extend(related(ui, d, r));
    if let Some((group, rule)) = group {
        out.extend(duplicates(ui, d, i, group, rule));
    }
    texts(ui, r);
    accounts(ui, r);
    fields(ui, r);
    out
}

/// Type, category, date and time, place, precisions, position, casualties, disputed.
fn summary(ui: &mut egui::Ui, r: &Details) {
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
}

/// Related incidents, clickable when they are in the data.
fn related(ui: &mut egui::Ui, d: &Data, r: &Details) -> Option<Action> {
    if r.related.is_empty() {
        return None;
    }
    ui.label(RichText::new("Related incidents").strong());
    let mut go = None;
    for id in &r.related {
        match d.links.ids.get(id) {
            Some(&j) => {
                if ui
                    .link(clean(&format!("{id}: {}", d.line(j)), false))
                    .clicked()
                {
                    go = Some(Action::Select(j));
                }
            }
            None => {
                ui.label(format!("{} (not in the data)", clean(id, false)));
            }
        }
    }
    go
}

/// The group of possible duplicates the incident is in.
fn duplicates(
    ui: &mut egui::Ui,
    d: &Data,
    i: u32,
    group: &[u32],
    rule: crate::dupes::Rule,
) -> Option<Action> {
    let mut go = None;
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
                if ui
                    .selectable_label(j == i, clean(&d.line(j), false))
                    .clicked()
                    && j != i
                {
                    go = Some(Action::Select(j));
                }
            }
            ui.label(
                RichText::new("Shown, never merged: merging is your decision.")
                    .small()
                    .weak(),
            );
        });
    go
}

/// Description, actors and sources.
fn texts(ui: &mut egui::Ui, r: &Details) {
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
}

/// Each source's account.
fn accounts(ui: &mut egui::Ui, r: &Details) {
    if r.accounts.is_empty() {
        return;
    }
    ui.separator();
    ui.label(RichText::new(format!("Accounts ({})", r.accounts.len())).strong());
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

/// Every original field, and where the record is.
fn fields(ui: &mut egui::Ui, r: &Details) {
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

/// Files that could not be loaded and row problems.
fn problems(ui: &mut egui::Ui, d: &Data) -> bool {
    let mut place = false;
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
            let unplaced = problems
                .iter()
                .filter(|p| {
                    p.skipped
                        && (p.message.starts_with("missing l")
                            || p.message == "feature has no geometry")
                })
                .count();
            if unplaced > 0
                && ui
                    .button(format!("Place them… ({unplaced} without a position)"))
                    .clicked()
            {
                place = true;
            }
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
    place
}
