//! Drawing the density layer: the hexagons of a [`Hexbin`] in the colours of their counts on a
//! fixed scale, and the scale's legend. The window and exports draw through here.

use egui::{Align2, Color32, FontId, Pos2, Rect, Shape, Stroke, pos2, vec2};

use super::Screen;
use crate::density::{Hexbin, center, radius, ramp};

/// Draws the hexagons in view.
pub fn draw(painter: &egui::Painter, s: &Screen, bins: &Hexbin, max: u32) {
    let r = (radius(bins.zoom) * s.scale()) as f32;
    let view = s.rect.expand(r * 2.0);
    let mut shapes = Vec::new();
    for &(h, n) in &bins.cells {
        let (x, y) = center(bins.zoom, h);
        let c = s.to_screen(x, y);
        if !view.contains(c) {
            continue;
        }
        let pts: Vec<Pos2> = (0..6)
            .map(|k| {
                let a = std::f32::consts::PI / 180.0 * (60.0 * k as f32 + 30.0);
                c + vec2(a.cos(), a.sin()) * (r - 0.5)
            })
            .collect();
        let [cr, cg, cb] = ramp(n, max);
        shapes.push(Shape::convex_polygon(
            pts,
            Color32::from_rgba_unmultiplied(cr, cg, cb, 215),
            Stroke::new(0.6, Color32::from_white_alpha(160)),
        ));
    }
    painter.extend(shapes);
}

/// The scale's legend in the map's lower left, above the scale bar.
pub fn legend(painter: &egui::Painter, map: Rect, max: u32) {
    let (w, h) = (170.0, 10.0);
    let origin = pos2(map.left() + 12.0, map.bottom() - 58.0);
    let back = Rect::from_min_size(origin - vec2(6.0, 20.0), vec2(w + 12.0, h + 40.0));
    painter.rect_filled(back, 4.0, Color32::from_white_alpha(225));
    painter.text(
        origin - vec2(0.0, 4.0),
        Align2::LEFT_BOTTOM,
        "incidents per hexagon",
        FontId::proportional(11.0),
        Color32::from_rgb(0x22, 0x22, 0x22),
    );
    let steps = 34;
    for k in 0..steps {
        let t0 = k as f32 / steps as f32;
        let count = ((t0 as f64).powi(2) * max as f64).round() as u32;
        let [r, g, b] = ramp(count, max);
        painter.rect_filled(
            Rect::from_min_size(origin + vec2(t0 * w, 0.0), vec2(w / steps as f32 + 0.5, h)),
            0.0,
            Color32::from_rgb(r, g, b),
        );
    }
    for (t, label) in [(0.0, "0".to_string()), (1.0, max.to_string())] {
        painter.text(
            origin + vec2(t * w, h + 2.0),
            if t == 0.0 {
                Align2::LEFT_TOP
            } else {
                Align2::RIGHT_TOP
            },
            label,
            FontId::proportional(11.0),
            Color32::from_rgb(0x22, 0x22, 0x22),
        );
    }
}
