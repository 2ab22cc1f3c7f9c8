//! The editing windows: the incident form (every field of the data model, each with its reason
//! when it cannot be saved; the possible duplicates prompt), confirmations of a deletion and a
//! move, the conflict (theirs and mine side by side, field by field), a file changed underneath,
//! edits that could not be re-applied, a new incident file and a copy saved as GeoJSON.

use egui::{Color32, RichText};

use super::clean;
use crate::app::App;
use crate::app::editor::{Account, Form, Request, Target};
use crate::edit::draft::format_degrees;
use crate::model::Role;
use crate::source::Edit;

const ERROR: Color32 = Color32::from_rgb(0xB0, 0x30, 0x20);

/// Every editing window that is open.
pub fn edit_windows(app: &mut App, ctx: &egui::Context) {
    form_window(app, ctx);
    confirm_delete(app, ctx);
    confirm_move(app, ctx);
    conflict_window(app, ctx);
    changed_window(app, ctx);
    unapplied_window(app, ctx);
    new_file_window(app, ctx);
    save_copy_window(app, ctx);
    place_window(app, ctx);
}

/// Place incidents without a position: each row with the places its name matches (those in
/// the area it names first, then those nearest the data); a click places it there.
fn place_window(app: &mut App, ctx: &egui::Context) {
    let Some(list) = &app.editor.placing else {
        return;
    };
    let mut open = true;
    let mut act: Option<(usize, Option<usize>)> = None;
    let busy = app.editor.busy();
    egui::Window::new("Place incidents without a position")
        .open(&mut open)
        .default_width(560.0)
        .default_height(420.0)
        .vscroll(true)
        .show(ctx, |ui| match list {
            Err(e) => {
                ui.colored_label(ERROR, clean(&e.to_string(), false));
            }
            Ok(rows) if rows.is_empty() => {
                ui.label("No row names a place without a position (or they are still being read).");
            }
            Ok(rows) => {
                ui.label(format!(
                    "{} row(s) name a place but have no position. Placing one writes its position, a location precision fitting the place and a note of where it came from.",
                    rows.len()
                ));
                for (k, p) in rows.iter().enumerate() {
                    ui.separator();
                    let area = if p.row.area.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", p.row.area)
                    };
                    ui.label(RichText::new(format!("{}  {}{area}", p.row.origin, clean(&p.row.place, false))).strong());
                    if p.candidates.is_empty() {
                        ui.label(RichText::new("No place of that name in the gazetteer.").weak());
                    }
                    for (c, f) in p.candidates.iter().enumerate() {
                        ui.horizontal(|ui| {
                            let label = format!(
                                "{}  {}, {}{}",
                                clean(&f.label, false),
                                format_degrees(f.lat),
                                format_degrees(f.lon),
                                if f.in_area { "  in the area named" } else { "" }
                            );
                            if ui.add_enabled(!busy, egui::Button::new("Place here")).clicked() {
                                act = Some((k, Some(c)));
                            }
                            ui.label(label);
                        });
                    }
                    if ui.small_button("Type a position…").clicked() {
                        act = Some((k, None));
                    }
                }
            }
        });
    if !open {
        app.editor.placing = None;
    }
    match act {
        Some((k, Some(c))) => app.place_at(k, c),
        Some((k, None)) => app.place_by_hand(k),
        None => {}
    }
}

/// A field's label: its name, and what it means when the name does not say.
fn label(f: &crate::app::editor::FormField) -> String {
    let meaning = match f.role {
        Role::Date => "date",
        Role::Time => "local time",
        Role::UtcOffset => "UTC offset",
        Role::DatePrecision => "date precision",
        Role::Type => "type",
        Role::Category => "category",
        Role::Place => "place",
        Role::LocPrecision => "location precision",
        Role::Fatalities => "fatalities",
        Role::Injuries => "injuries",
        Role::Description => "description",
        Role::Actor => "actors",
        Role::Source => "source",
        Role::Area => "area",
        Role::Disputed => "disputed",
        Role::Related => "related ids",
        _ => "",
    };
    let n = f.name.replace('_', " ");
    if meaning.is_empty() || n.eq_ignore_ascii_case(meaning) {
        n
    } else {
        format!("{n} ({meaning})")
    }
}

/// A hint of what to type.
fn hint(role: Role, coded: bool) -> &'static str {
    match role {
        Role::Date => "YYYY-MM-DD",
        Role::Time => "HH:MM (local)",
        Role::UtcOffset => "+03:00",
        Role::Fatalities | Role::Injuries => "empty: not reported (0 is zero)",
        Role::Source => "publisher and date, or an http(s) URL",
        Role::Related => "ids, separated by ;",
        Role::LocPrecision if coded => "1 exact, 2 near, 3 region",
        _ => "",
    }
}

/// One field's widget.
fn field_widget(
    ui: &mut egui::Ui,
    f: &mut crate::app::editor::FormField,
    (types, coded): (&[String], bool),
    label: egui::Id,
) {
    let id = ui.make_persistent_id(("field", &f.name));
    match f.role {
        Role::DatePrecision | Role::LocPrecision if !coded => {
            let options: &[&str] = if f.role == Role::DatePrecision {
                &["day", "week", "month", "year"]
            } else {
                &["exact", "near", "region"]
            };
            egui::ComboBox::from_id_salt(id)
                .selected_text(if f.text.is_empty() {
                    "—"
                } else {
                    f.text.as_str()
                })
                .show_ui(ui, |ui| {
                    for o in options {
                        ui.selectable_value(&mut f.text, o.to_string(), *o);
                    }
                })
                .response
                .labelled_by(label);
        }
        Role::Disputed => {
            let mut on = matches!(f.text.trim(), "true" | "yes" | "1");
            if ui
                .checkbox(&mut on, "sources disagree")
                .labelled_by(label)
                .changed()
            {
                f.text = if on { "true".into() } else { String::new() };
            }
        }
        Role::Type => {
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(&mut f.text).desired_width(170.0))
                    .labelled_by(label)
                    .on_hover_text("a type of the data, or a new one");
                egui::ComboBox::from_id_salt(id)
                    .selected_text("types")
                    .width(60.0)
                    .show_ui(ui, |ui| {
                        for t in types {
                            ui.selectable_value(&mut f.text, t.clone(), clean(t, false));
                        }
                    });
            });
        }
        Role::Description => {
            ui.add(
                egui::TextEdit::multiline(&mut f.text)
                    .desired_rows(2)
                    .desired_width(260.0),
            )
            .labelled_by(label);
        }
        _ => {
            ui.add(
                egui::TextEdit::singleline(&mut f.text)
                    .desired_width(260.0)
                    .hint_text(hint(f.role, coded)),
            )
            .labelled_by(label);
        }
    }
}

/// The reason beside a field, when there is one.
fn reason(ui: &mut egui::Ui, form: &Form, field: &str) {
    if form.tried
        && let Some(m) = form.problem(field)
    {
        ui.label(RichText::new(m).color(ERROR).small());
    }
}

/// The accounts: each with its own source.
fn accounts(ui: &mut egui::Ui, list: &mut Vec<Account>) {
    let mut remove = None;
    for (k, a) in list.iter_mut().enumerate() {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            egui::Grid::new(("account", k))
                .num_columns(2)
                .show(ui, |ui| {
                    for (name, text) in [
                        ("Source", &mut a.source),
                        ("URL", &mut a.source_url),
                        ("Date", &mut a.date),
                        ("Fatalities", &mut a.fatalities),
                        ("Injuries", &mut a.injuries),
                        ("What it says", &mut a.claim),
                    ] {
                        let l = ui.label(name);
                        ui.add(egui::TextEdit::singleline(text).desired_width(220.0))
                            .labelled_by(l.id);
                        ui.end_row();
                    }
                });
            if ui.small_button("Remove this account").clicked() {
                remove = Some(k);
            }
        });
    }
    if let Some(k) = remove {
        list.remove(k);
    }
    if ui.button("Add an account").clicked() {
        list.push(Account::default());
    }
}

/// The place search inside the form: picks the position (and the place's name when empty).
fn place_picker(ui: &mut egui::Ui, form: &mut Form) {
    ui.horizontal(|ui| {
        let l = ui.label("Find a place");
        ui.add(
            egui::TextEdit::singleline(&mut form.place_query)
                .desired_width(200.0)
                .hint_text("Ramadi · Ain al-Asad"),
        )
        .labelled_by(l.id);
    });
    if form.place_query.trim().chars().count() < 2 {
        return;
    }
    let hits = crate::places::search(&form.place_query, std::iter::empty(), 6);
    let mut picked = None;
    for h in &hits {
        if ui
            .selectable_label(
                false,
                format!("{}  —  {}", clean(&h.label, false), h.source),
            )
            .clicked()
        {
            picked = Some(h.clone());
        }
    }
    if let Some(h) = picked {
        form.position = format!("{}, {}", format_degrees(h.lat), format_degrees(h.lon));
        if let Some(p) = form.field_mut(Role::Place)
            && p.text.trim().is_empty()
        {
            p.text = h.label.split(',').next().unwrap_or("").trim().to_string();
        }
        form.place_query.clear();
    }
}

/// What the form asks: save, add anyway, add as an account of another, close.
enum FormAction {
    Save,
    AddAnyway,
    AccountOf(u32),
    Close,
}

/// The possible duplicates of a new incident: add it anyway, or as another account of one.
fn duplicates_prompt(
    ui: &mut egui::Ui,
    form: &Form,
    lines: &[(u32, String)],
) -> Option<FormAction> {
    let mut action = None;
    let d = form.duplicates.as_ref()?;
    ui.label(
        RichText::new(format!(
            "{} possible duplicate(s) under the duplicate rule:",
            d.len()
        ))
        .strong(),
    );
    for (i, line) in lines {
        ui.horizontal(|ui| {
            ui.label(clean(line, false));
            if ui.button("Add as another account of this").clicked() {
                action = Some(FormAction::AccountOf(*i));
            }
        });
    }
    if ui.button("Add anyway").clicked() {
        action = Some(FormAction::AddAnyway);
    }
    action
}

/// The form's fields: the position, every field of the data, the place search, the accounts.
fn form_fields(ui: &mut egui::Ui, form: &mut Form) {
    let coded = form.schema.coded_precisions();
    egui::Grid::new("incident-form")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            let l = ui.label("Position");
            ui.vertical(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut form.position)
                        .desired_width(260.0)
                        .hint_text("33.786, 42.441 · 33 47 10 N 42 26 28 E · 38SLC…"),
                )
                .labelled_by(l.id);
                reason(ui, form, "position");
            });
            ui.end_row();
            let types = form.types.clone();
            let mut fields = std::mem::take(&mut form.fields);
            for f in &mut fields {
                let l = ui.label(label(f));
                ui.vertical(|ui| {
                    field_widget(ui, f, (&types, coded), l.id);
                    reason(ui, form, &f.name);
                });
                ui.end_row();
            }
            form.fields = fields;
        });
    place_picker(ui, form);
    if form.schema.column(Role::Accounts).is_some() {
        ui.collapsing(format!("Accounts ({})", form.accounts.len()), |ui| {
            accounts(ui, &mut form.accounts);
        });
    }
}

/// The incident form.
fn form_window(app: &mut App, ctx: &egui::Context) {
    let busy = app.editor.busy();
    let lines: Vec<(u32, String)> = app
        .editor
        .form
        .as_ref()
        .and_then(|f| f.duplicates.as_ref())
        .map(|d| d.iter().map(|&i| (i, app.incident_line(i))).collect())
        .unwrap_or_default();
    let Some(form) = &mut app.editor.form else {
        return;
    };
    let title = match form.target {
        Target::New => "New incident",
        Target::Existing { .. } => "Edit incident",
    };
    // Once a save was tried, the reasons follow what is typed.
    if form.tried {
        form.check();
    }
    let mut action = None;
    let mut open = true;
    egui::Window::new(title)
        .open(&mut open)
        .default_width(460.0)
        .show(ctx, |ui| {
            // The fields scroll; the prompt and the buttons stay in view.
            let room = (ui.ctx().content_rect().height() - 260.0).max(160.0);
            egui::ScrollArea::vertical()
                .max_height(room)
                .show(ui, |ui| form_fields(ui, form));
            ui.separator();
            if let Some(a) = duplicates_prompt(ui, form, &lines) {
                action = Some(a);
            }
            ui.horizontal(|ui| {
                let save = ui.add_enabled(!busy, egui::Button::new("Save"));
                if save.clicked() {
                    action = Some(FormAction::Save);
                }
                if ui.button("Cancel").clicked() {
                    action = Some(FormAction::Close);
                }
                if busy {
                    ui.spinner();
                    ui.label("Saving…");
                }
            });
            if form.tried && !form.problems.is_empty() {
                ui.label(
                    RichText::new(format!(
                        "Not saved: {} field(s) need attention",
                        form.problems.len()
                    ))
                    .color(ERROR),
                );
            }
        });
    if !open {
        action = Some(FormAction::Close);
    }
    match action {
        Some(FormAction::Save) => app.save_form(false),
        Some(FormAction::AddAnyway) => app.save_form(true),
        Some(FormAction::AccountOf(i)) => app.add_as_account_of(i),
        Some(FormAction::Close) => app.editor.form = None,
        None => {}
    }
}

/// Confirmation of a deletion.
fn confirm_delete(app: &mut App, ctx: &egui::Context) {
    let Some((key, version, draft, what)) = app.editor.confirm_delete.clone() else {
        return;
    };
    let mut answer = None;
    egui::Window::new("Delete incident")
        .collapsible(false)
        .show(ctx, |ui| {
            ui.label(format!("Delete {}?", clean(&what, false)));
            ui.label(RichText::new("Undo (Ctrl+Z) brings it back; the history keeps it.").weak());
            ui.horizontal(|ui| {
                if ui.button("Delete").clicked() {
                    answer = Some(true);
                }
                if ui.button("Cancel").clicked() {
                    answer = Some(false);
                }
            });
        });
    match answer {
        Some(true) => {
            app.editor.confirm_delete = None;
            app.write(Request::new(
                Edit::Delete { key, version },
                (Some(draft), None),
                &format!("deletion of {what}"),
            ));
        }
        Some(false) => app.editor.confirm_delete = None,
        None => {}
    }
}

/// Confirmation of a move (an incident dragged on the map).
fn confirm_move(app: &mut App, ctx: &egui::Context) {
    let Some((key, version, draft, (lon, lat))) = app.editor.confirm_move.clone() else {
        return;
    };
    let mut answer = None;
    egui::Window::new("Move incident")
        .collapsible(false)
        .show(ctx, |ui| {
            ui.label(format!(
                "Move it from {}, {} to {}, {}?",
                format_degrees(draft.lat),
                format_degrees(draft.lon),
                format_degrees(lat),
                format_degrees(lon)
            ));
            ui.horizontal(|ui| {
                if ui.button("Move").clicked() {
                    answer = Some(true);
                }
                if ui.button("Cancel").clicked() {
                    answer = Some(false);
                }
            });
        });
    match answer {
        Some(true) => {
            app.editor.confirm_move = None;
            let mut moved = draft.clone();
            (moved.lon, moved.lat) = (lon, lat);
            app.write(Request::new(
                Edit::Update {
                    key,
                    version,
                    draft: moved.clone(),
                },
                (Some(draft), Some(moved)),
                "the move",
            ));
        }
        Some(false) => app.editor.confirm_move = None,
        None => {}
    }
}

/// Theirs and mine, field by field.
fn conflict_window(app: &mut App, ctx: &egui::Context) {
    let Some(c) = &mut app.editor.conflict else {
        return;
    };
    let mut answer: Option<Option<bool>> = None;
    egui::Window::new("Someone else changed this incident")
        .collapsible(false)
        .default_width(620.0)
        .vscroll(true)
        .show(ctx, |ui| {
            if c.theirs.is_none() {
                ui.label("They deleted it. Add yours back as a new incident, or leave it deleted.");
                ui.horizontal(|ui| {
                    if ui.button("Add mine again").clicked() {
                        answer = Some(Some(true));
                    }
                    if ui.button("Leave it deleted").clicked() {
                        answer = Some(None);
                    }
                });
                return;
            }
            ui.label("Nothing was overwritten. Choose, field by field, what to keep:");
            egui::Grid::new("conflict")
                .striped(true)
                .num_columns(4)
                .show(ui, |ui| {
                    ui.label(RichText::new("field").strong());
                    ui.label(RichText::new("theirs").strong());
                    ui.label(RichText::new("mine").strong());
                    ui.label(RichText::new("keep").strong());
                    ui.end_row();
                    for (name, theirs, mine, keep_mine) in &mut c.fields {
                        ui.label(name.as_str());
                        ui.label(clean(theirs, false));
                        ui.label(clean(mine, false));
                        ui.horizontal(|ui| {
                            ui.radio_value(keep_mine, false, "theirs");
                            ui.radio_value(keep_mine, true, "mine");
                        });
                        ui.end_row();
                    }
                });
            ui.horizontal(|ui| {
                if ui.button("Keep mine").clicked() {
                    answer = Some(Some(true));
                }
                if ui.button("Take theirs").clicked() {
                    answer = Some(None);
                }
                if ui.button("Save my choices").clicked() {
                    answer = Some(Some(false));
                }
            });
        });
    let Some(answer) = answer else { return };
    let draft = match answer {
        None => None,
        Some(true) => {
            for f in &mut c.fields {
                f.3 = true;
            }
            Some(c.merged())
        }
        Some(false) => Some(c.merged()),
    };
    if let Some(s) = app.source.clone() {
        let who = app.editor_name();
        app.editor.resolve(&s, &who, draft, &ctx.clone());
    }
}

/// A file changed underneath: read it again and re-apply the edit.
fn changed_window(app: &mut App, ctx: &egui::Context) {
    let Some((_, message)) = &app.editor.changed else {
        return;
    };
    let message = message.clone();
    let mut answer = None;
    egui::Window::new("The file changed on disk")
        .collapsible(false)
        .show(ctx, |ui| {
            ui.label(clean(&message, false));
            ui.label("Read it again and apply your edit where its incident still is?");
            ui.horizontal(|ui| {
                if ui.button("Reload and re-apply").clicked() {
                    answer = Some(true);
                }
                if ui.button("Not now").clicked() {
                    answer = Some(false);
                }
            });
        });
    match answer {
        Some(true) => {
            app.editor.reload_and_reapply();
            app.read_again();
        }
        Some(false) => app.editor.changed = None,
        None => {}
    }
}

/// Edits that could not be re-applied: shown, never silently dropped.
fn unapplied_window(app: &mut App, ctx: &egui::Context) {
    if app.editor.unapplied.is_empty() {
        return;
    }
    let mut act = None;
    egui::Window::new("Edits not re-applied").show(ctx, |ui| {
        for (k, p) in app.editor.unapplied.iter().enumerate() {
            ui.horizontal(|ui| {
                ui.label(format!(
                    "{}: {}",
                    p.request.what,
                    p.why.as_deref().unwrap_or("not re-applied")
                ));
                if p.request.after.is_some() && ui.button("Add it as a new incident").clicked() {
                    act = Some((k, true));
                }
                if ui.button("Discard").clicked() {
                    act = Some((k, false));
                }
            });
        }
    });
    if let Some((k, add)) = act {
        let p = app.editor.unapplied.remove(k);
        if add && let Some(d) = p.request.after {
            app.write(Request::new(
                Edit::Insert(d.clone()),
                (None, Some(d)),
                &p.request.what,
            ));
        }
    }
}

/// A path typed, with a button; gives the path when the button is clicked.
fn path_window(
    ctx: &egui::Context,
    title: &str,
    text: &mut String,
    button: &str,
) -> Option<Option<String>> {
    let mut out = None;
    let mut open = true;
    egui::Window::new(title)
        .open(&mut open)
        .collapsible(false)
        .show(ctx, |ui| {
            let l = ui.label("File (.geojson)");
            ui.add(egui::TextEdit::singleline(text).desired_width(320.0))
                .labelled_by(l.id);
            if ui.button(button).clicked() && !text.trim().is_empty() {
                out = Some(Some(text.trim().to_string()));
            }
        });
    if !open {
        out = Some(None);
    }
    out
}

/// File → New incident file.
fn new_file_window(app: &mut App, ctx: &egui::Context) {
    let Some(text) = &mut app.editor.new_file else {
        return;
    };
    match path_window(ctx, "New incident file", text, "Create") {
        Some(Some(p)) => match app.create_incident_file(p.into()) {
            Ok(()) => app.editor.new_file = None,
            Err(e) => app.chrome.message = Some(e.to_string()),
        },
        Some(None) => app.editor.new_file = None,
        None => {}
    }
}

/// Save a copy as GeoJSON (formats not written in place), and continue there.
fn save_copy_window(app: &mut App, ctx: &egui::Context) {
    let Some(text) = &mut app.editor.save_copy else {
        return;
    };
    match path_window(ctx, "Save a copy as GeoJSON", text, "Save") {
        Some(Some(p)) => match app.save_copy_as_geojson(p.into()) {
            Ok(()) => app.editor.save_copy = None,
            Err(e) => app.chrome.message = Some(e.to_string()),
        },
        Some(None) => app.editor.save_copy = None,
        None => {}
    }
}
