//! What sits on top of the map: legend, attribution, scale bar, title and caption.

use egui::{Align2, Color32, FontId, Rect, Sense, Stroke, Vec2, pos2, vec2};

use super::screen::Screen;
use super::{halo_text, palette};

/// One legend row.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    /// Type id in the store.
    pub type_id: u32,
    /// Type name.
    pub name: String,
    /// Incidents of this type under the current filters (ignoring the type toggles).
    pub count: u32,
    /// Whether the type is shown.
    pub shown: bool,
    /// Its colour and symbol.
    pub style: (Color32, crate::style::Symbol),
}

/// The legend rows: every type with incidents under the filters (`counts`, by type id), and
/// every hidden type even without, most frequent first. The window and exports both use this.
pub fn legend_entries(
    store: &crate::store::Store,
    counts: &[u32],
    hidden: impl Fn(&str) -> bool,
) -> Vec<LegendEntry> {
    let mut v: Vec<LegendEntry> = store
        .types
        .names()
        .enumerate()
        .map(|(t, name)| LegendEntry {
            type_id: t as u32,
            name: name.to_string(),
            count: counts.get(t).copied().unwrap_or(0),
            shown: !hidden(name),
            style: palette::style(&store.colours, name),
        })
        .filter(|e| e.count > 0 || !e.shown)
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
    v
}

/// Draws the legend in the top-right corner of `map`. Returns the type whose row was clicked
/// (only when `interactive`).
pub fn legend(
    ui: &egui::Ui,
    map: Rect,
    entries: &[LegendEntry],
    (disputed, evidence): (u32, u32),
    interactive: bool,
) -> Option<u32> {
    if entries.is_empty() {
        return None;
    }
    let mut clicked = None;
    egui::Area::new(egui::Id::unique("incident-map-legend"))
        .order(egui::Order::Middle)
        .pivot(Align2::RIGHT_TOP)
        .fixed_pos(map.right_top() + vec2(-10.0, 10.0))
        .constrain_to(map)
        .interactable(interactive)
        .show(ui.ctx(), |ui| {
            egui::Frame::new()
                .fill(Color32::from_rgba_unmultiplied(255, 255, 255, 235))
                .stroke(Stroke::new(1.0, Color32::from_gray(190)))
                .corner_radius(4.0)
                .inner_margin(8.0)
                .show(ui, |ui| {
                    ui.style_mut().visuals.override_text_color = Some(Color32::from_gray(30));
                    ui.label(
                        egui::RichText::new("Legend")
                            .strong()
                            .size(12.0)
                            .color(Color32::from_gray(30)),
                    );
                    for e in entries {
                        let row = ui.horizontal(|ui| {
                            let (r, _) = ui.allocate_exact_size(vec2(16.0, 16.0), Sense::hover());
                            let (color, sym) = e.style;
                            let color = if e.shown {
                                color
                            } else {
                                Color32::from_gray(200)
                            };
                            ui.painter().add(palette::symbol_shape(
                                sym,
                                r.center(),
                                5.5,
                                color,
                                Stroke::new(1.0, Color32::WHITE),
                            ));
                            let text = egui::RichText::new(format!(
                                "{}  {}",
                                crate::text::clean(&e.name, false),
                                e.count
                            ))
                            .size(12.0);
                            let text = if e.shown {
                                text
                            } else {
                                text.strikethrough().color(Color32::from_gray(150))
                            };
                            ui.add(egui::Label::new(text).selectable(false))
                        });
                        if interactive {
                            let resp = ui.interact(
                                row.response.rect,
                                egui::Id::unique(("incident-map-legend-row", e.type_id)),
                                Sense::click(),
                            );
                            let resp = resp.on_hover_text(if e.shown {
                                "Click to hide this type"
                            } else {
                                "Click to show this type"
                            });
                            if resp.clicked() {
                                clicked = Some(e.type_id);
                            }
                        }
                    }
                    if evidence > 0 {
                        evidence_line(ui, evidence);
                    }
                    if disputed > 0 {
                        ui.add(
                            egui::Label::new(
                                egui::RichText::new(format!(
                                    "{disputed} disputed (sources disagree)"
                                ))
                                .size(11.0)
                                .color(DISPUTED),
                            )
                            .selectable(false),
                        );
                    }
                });
        });
    clicked
}

/// The line under the legend for incidents with evidence: the map's badge and how many.
fn evidence_line(ui: &mut egui::Ui, n: u32) {
    ui.horizontal(|ui| {
        let (r, _) = ui.allocate_exact_size(vec2(16.0, 14.0), Sense::hover());
        let sheet = Rect::from_center_size(r.center(), vec2(5.5, 7.0));
        ui.painter().rect_filled(sheet, 1.0, crate::view::EVIDENCE);
        ui.painter().rect_stroke(
            sheet,
            1.0,
            Stroke::new(1.0, Color32::WHITE),
            egui::StrokeKind::Outside,
        );
        ui.add(
            egui::Label::new(
                egui::RichText::new(format!("{n} with evidence attached"))
                    .size(11.0)
                    .color(crate::view::EVIDENCE),
            )
            .selectable(false),
        );
    });
}

/// The colour of the "disputed" badge.
pub const DISPUTED: Color32 = Color32::from_rgb(0xB3, 0x3C, 0x00);

/// Draws the attribution in the bottom-right corner. In the window it is a link.
pub fn attribution(ui: &egui::Ui, map: Rect, text: &str, url: Option<&str>, interactive: bool) {
    egui::Area::new(egui::Id::unique("incident-map-attribution"))
        .order(egui::Order::Middle)
        .pivot(Align2::RIGHT_BOTTOM)
        .fixed_pos(map.right_bottom())
        .constrain_to(map)
        .interactable(interactive)
        .show(ui.ctx(), |ui| {
            egui::Frame::new()
                .fill(Color32::from_rgba_unmultiplied(255, 255, 255, 210))
                .inner_margin(vec2(5.0, 2.0))
                .show(ui, |ui| {
                    ui.style_mut().visuals.override_text_color = Some(Color32::from_gray(40));
                    let rich = egui::RichText::new(text).size(11.0);
                    match url {
                        Some(u) if interactive => {
                            ui.hyperlink_to(rich, u);
                        }
                        _ => {
                            ui.add(egui::Label::new(rich).selectable(false));
                        }
                    }
                });
        });
}

/// A "nice" length (1, 2 or 5 × 10^k metres) that fits in `max_px` pixels.
pub fn nice_scale(metres_per_px: f64, max_px: f64) -> (f64, f64) {
    let max_m = metres_per_px * max_px;
    let mut best = 1.0;
    let mut k = 1.0;
    while k <= 1e8 {
        for m in [1.0, 2.0, 5.0] {
            if m * k <= max_m {
                best = m * k;
            }
        }
        k *= 10.0;
    }
    (best, best / metres_per_px)
}

/// Draws a scale bar in the bottom-left corner of the map.
pub fn scale_bar(painter: &egui::Painter, s: &Screen) {
    let (metres, px) = nice_scale(s.metres_per_pixel(), 120.0);
    let label = if metres >= 1000.0 {
        format!("{} km", metres / 1000.0)
    } else {
        format!("{metres} m")
    };
    let base = pos2(s.rect.left() + 12.0, s.rect.bottom() - 14.0);
    let end = base + vec2(px as f32, 0.0);
    let ink = Color32::from_gray(30);
    for (stroke, color) in [(4.0, Color32::WHITE), (1.6, ink)] {
        let st = Stroke::new(stroke, color);
        painter.line_segment([base, end], st);
        painter.line_segment([base, base - vec2(0.0, 6.0)], st);
        painter.line_segment([end, end - vec2(0.0, 6.0)], st);
    }
    halo_text(
        painter,
        base + vec2(px as f32 / 2.0, -5.0),
        Align2::CENTER_BOTTOM,
        &label,
        FontId::proportional(11.0),
        ink,
    );
}

/// The caption's backdrop, like the legend's: basemap labels never run through the text.
pub const CAPTION_BACKDROP: Color32 = Color32::from_rgba_premultiplied(235, 235, 235, 235);

/// Draws a title and caption block on a backdrop in the top-left corner; returns its rectangle.
pub fn caption(painter: &egui::Painter, map: Rect, title: Option<&str>, lines: &[String]) -> Rect {
    let ink = Color32::from_gray(20);
    let mut galleys = Vec::new();
    if let Some(t) = title.filter(|t| !t.is_empty()) {
        galleys.push((
            painter.layout_no_wrap(t.to_string(), FontId::proportional(20.0), ink),
            4.0,
        ));
    }
    for l in lines {
        galleys.push((
            painter.layout_no_wrap(l.clone(), FontId::proportional(12.0), ink),
            2.0,
        ));
    }
    let origin = pos2(map.left() + 10.0, map.top() + 10.0);
    if galleys.is_empty() {
        return Rect::from_min_size(origin, Vec2::ZERO);
    }
    let pad = 8.0;
    let width = galleys.iter().map(|(g, _)| g.size().x).fold(0.0, f32::max);
    let height: f32 = galleys.iter().map(|(g, gap)| g.size().y + gap).sum::<f32>() - 2.0;
    let rect = Rect::from_min_size(origin, vec2(width + 2.0 * pad, height + 2.0 * pad));
    painter.rect(
        rect,
        4.0,
        CAPTION_BACKDROP,
        Stroke::new(1.0, Color32::from_gray(190)),
        egui::StrokeKind::Inside,
    );
    let mut y = rect.top() + pad;
    for (g, gap) in galleys {
        let h = g.size().y;
        painter.galley(pos2(rect.left() + pad, y), g, ink);
        y += h + gap;
    }
    rect
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_scale_lengths() {
        assert_eq!(nice_scale(100.0, 120.0).0, 10_000.0);
        assert_eq!(nice_scale(1.0, 120.0).0, 100.0);
        assert_eq!(nice_scale(30.0, 120.0).0, 2000.0);
    }
}
