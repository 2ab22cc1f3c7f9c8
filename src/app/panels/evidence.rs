//! The Evidence section of the details panel: the selected incident's items (thumbnail for
//! images, name, type, size, short hash, when and who), Open / Copy hash / Show in folder /
//! Detach… on each, Attach evidence… (or files dropped on the panel) with progress and Cancel,
//! and Verify evidence, whose ✔ / ✖ with the reason is shown beside each item.

use egui::{Color32, RichText};

use crate::app::App;
use crate::app::evidence::EvidenceView;
use crate::evidence::Attached;
use crate::evidence::verify::{Outcome, Verified, short};

/// What the user asked for in the section.
pub enum Action {
    /// Pick files to attach.
    Pick,
    /// Open a read-only copy.
    Open(Attached),
    /// Open the folder holding the stored copy.
    ShowFolder(std::path::PathBuf),
    /// Check the store.
    Verify,
    /// Cancel the attaching or the check.
    Cancel,
    /// Start typing a reason to detach the item (its hash).
    AskDetach(String),
    /// Detach with the reason typed.
    Detach(Attached, String),
}

/// Size in words.
fn size(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.0} KB", n as f64 / 1024.0),
        n => format!("{n} bytes"),
    }
}

/// The check's word on one item, when the store was checked.
fn check_of<'a>(v: Option<&'a Verified>, sha: &str) -> Option<&'a Outcome> {
    v?.items
        .iter()
        .find(|c| c.item.sha256 == sha)
        .map(|c| &c.outcome)
}

/// The section; `can` says whether evidence may be added (a source is open).
pub fn evidence(app: &mut App, ui: &mut egui::Ui) -> Vec<Action> {
    let mut out = Vec::new();
    let ctx = ui.ctx().clone();
    let ev = &mut app.evidence;
    let n = match &ev.shelf {
        Some((_, Ok(s))) => s.items.len().to_string(),
        _ => "…".into(),
    };
    egui::CollapsingHeader::new(format!("Evidence ({n})"))
        .id_salt("evidence")
        .default_open(true)
        .show(ui, |ui| {
            progress(ev, ui, &mut out);
            let verified = match (&ev.verified, &ev.shelf) {
                (Some((loc, Ok(v))), Some((_, Ok(s)))) if *loc == s.store.location() => {
                    Some(v.clone())
                }
                _ => None,
            };
            let items = match &ev.shelf {
                None => {
                    ui.label(RichText::new("Reading the evidence…").weak());
                    return;
                }
                Some((_, Err(e))) => {
                    ui.colored_label(Color32::from_rgb(0xB0, 0x30, 0x20), e.to_string());
                    return;
                }
                Some((_, Ok(s))) => s.items.clone(),
            };
            if items.is_empty() {
                ui.label(RichText::new("No evidence attached. Drop files here, or:").weak());
            }
            for a in &items {
                item(ev, ui, a, verified.as_ref(), &ctx, &mut out);
            }
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(
                        ev.attaching.is_none(),
                        egui::Button::new("Attach evidence…"),
                    )
                    .clicked()
                {
                    out.push(Action::Pick);
                }
                if !items.is_empty()
                    && ui
                        .add_enabled(ev.verifying.is_none(), egui::Button::new("Verify evidence"))
                        .on_hover_text("Hash every stored copy again and walk the custody log")
                        .clicked()
                {
                    out.push(Action::Verify);
                }
            });
            if let Some(v) = &verified {
                summary(ui, v);
            }
        });
    out
}

/// Attaching or checking under way: progress and Cancel.
fn progress(ev: &EvidenceView, ui: &mut egui::Ui, out: &mut Vec<Action>) {
    let running = ev
        .attaching
        .as_ref()
        .map(|a| (a.ctl.clone(), format!("Attaching {} file(s)", a.files)))
        .or_else(|| ev.verifying.clone().map(|c| (c, "Verifying".to_string())));
    if let Some((ctl, what)) = running {
        ui.horizontal(|ui| {
            ui.add(
                egui::ProgressBar::new(ctl.fraction())
                    .desired_width(140.0)
                    .text(what),
            );
            if ui.button("Cancel").clicked() {
                out.push(Action::Cancel);
            }
        });
    }
}

/// One item: its thumbnail, words, check and buttons.
fn item(
    ev: &mut EvidenceView,
    ui: &mut egui::Ui,
    a: &Attached,
    verified: Option<&Verified>,
    ctx: &egui::Context,
    out: &mut Vec<Action>,
) {
    let thumb = ev.thumbnail(a, ctx);
    ui.horizontal(|ui| {
        if let Some(t) = thumb {
            ui.add(egui::Image::new(&t).max_size(egui::vec2(64.0, 64.0)));
        }
        ui.vertical(|ui| {
            ui.label(RichText::new(&a.item.name).strong());
            ui.label(
                RichText::new(format!(
                    "{}  {}  sha256 {}",
                    a.item.media_type,
                    size(a.item.size),
                    short(&a.item.sha256)
                ))
                .small(),
            );
            ui.label(
                RichText::new(format!("added {} by {}", a.added, a.by))
                    .small()
                    .weak(),
            );
            if !a.item.captured_from.is_empty() {
                ui.label(RichText::new(format!("from {}", a.item.captured_from)).small());
            }
            if !a.item.note.is_empty() {
                ui.label(RichText::new(&a.item.note).small().italics());
            }
            match check_of(verified, &a.item.sha256) {
                Some(Outcome::Holds) => {
                    ui.colored_label(Color32::from_rgb(0x20, 0x80, 0x30), "✔ hashes as recorded");
                }
                Some(Outcome::Changed { now, .. }) => {
                    ui.colored_label(
                        Color32::from_rgb(0xB0, 0x30, 0x20),
                        format!("✖ the stored copy changed (now {})", short(now)),
                    );
                }
                Some(Outcome::Missing) => {
                    ui.colored_label(
                        Color32::from_rgb(0xB0, 0x30, 0x20),
                        "✖ the stored copy is missing",
                    );
                }
                None => {}
            }
            if let Some(t) =
                verified.and_then(|v| v.tokens.iter().find(|t| t.sha256 == a.item.sha256))
            {
                match (&t.failure, &t.time) {
                    (None, Some(time)) => {
                        ui.colored_label(
                            Color32::from_rgb(0x20, 0x80, 0x30),
                            format!("✔ timestamped {time} (RFC 3161)"),
                        );
                    }
                    (Some(f), _) => {
                        ui.colored_label(
                            Color32::from_rgb(0xB0, 0x30, 0x20),
                            format!("✖ timestamp: {f}"),
                        );
                    }
                    _ => {}
                }
            }
        });
    });
    buttons(ev, ui, a, out);
    ui.separator();
}

/// Open, Copy hash, Show in folder, Detach….
fn buttons(ev: &mut EvidenceView, ui: &mut egui::Ui, a: &Attached, out: &mut Vec<Action>) {
    let program = crate::evidence::is_executable(&a.item.media_type, &a.item.name);
    let folder = match &ev.shelf {
        Some((_, Ok(s))) => s.store.path_of(&a.item.sha256),
        _ => None,
    };
    ui.horizontal(|ui| {
        let open = ui.add_enabled(!program, egui::Button::new("Open").small());
        if open.clicked() {
            out.push(Action::Open(a.clone()));
        }
        open.on_disabled_hover_text("A program: never run from the evidence store");
        if ui.small_button("Copy hash").clicked() {
            ui.ctx().copy_text(a.item.sha256.clone());
        }
        let show = ui.add_enabled(
            folder.is_some(),
            egui::Button::new("Show in folder").small(),
        );
        if show.clicked()
            && let Some(p) = &folder
        {
            out.push(Action::ShowFolder(p.parent().unwrap_or(p).to_path_buf()));
        }
        show.on_disabled_hover_text("Kept in the database");
        if ui.small_button("Detach…").clicked() {
            out.push(Action::AskDetach(a.item.sha256.clone()));
        }
    });
    if let Some((sha, reason)) = &mut ev.detaching
        && *sha == a.item.sha256
    {
        ui.horizontal(|ui| {
            ui.label("Why:");
            ui.add(
                egui::TextEdit::singleline(reason)
                    .desired_width(150.0)
                    .hint_text("reason, for the custody log"),
            );
            let ok = !reason.trim().is_empty();
            if ui.add_enabled(ok, egui::Button::new("Detach")).clicked() {
                out.push(Action::Detach(a.clone(), reason.clone()));
            }
        });
    }
}

/// The check of the store in a line or two.
fn summary(ui: &mut egui::Ui, v: &Verified) {
    if v.holds() {
        ui.colored_label(
            Color32::from_rgb(0x20, 0x80, 0x30),
            format!(
                "✔ verified: {} item(s), custody log of {} line(s) intact",
                v.items.len(),
                v.lines
            ),
        );
        return;
    }
    for f in v.failures() {
        ui.colored_label(Color32::from_rgb(0xB0, 0x30, 0x20), format!("✖ {f}"));
    }
}
