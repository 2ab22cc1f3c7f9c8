//! Drawing the density layers: the hexagons of a [`Hexbin`] in the colours of their counts on a
//! fixed scale, or the heat map of a [`HeatGrid`] as an image; and the scale's legend. The window
//! and exports draw through here.

use egui::{Align2, Color32, FontId, Pos2, Rect, Shape, Stroke, pos2, vec2};

use super::Screen;
use crate::cluster::{ClusterIndex, ClusterSel};
use crate::density::{HeatGrid, Hexbin, center, radius, ramp, ramp_at};

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

/// What the heat map draws from.
pub struct HeatInput<'a> {
    /// The cluster index (Mercator positions in Morton order).
    pub index: &'a ClusterIndex,
    /// The incidents shown.
    pub sel: &'a ClusterSel,
    /// The incidents of every date under the other filters: the scale's.
    pub every_date: &'a ClusterSel,
    /// Changes whenever either selection does: the computed map is kept until then.
    pub key: (u64, u64),
}

/// A heat map computed for an area: its key, the area's cells, its scale and its image.
#[derive(Clone)]
struct HeatCache {
    key: (u64, u64, i32, (i64, i64, i64, i64)),
    /// The highest density of every date over the area (kept while only the dates change).
    every_max: f32,
    max: f32,
    texture: egui::TextureHandle,
}

/// The heat map as an image: the ramp's colours on the square-root scale, fading to clear
/// where there is (almost) nothing.
fn heat_image(g: &HeatGrid, max: f32) -> egui::ColorImage {
    if g.w == 0 || g.h == 0 {
        return egui::ColorImage::new([1, 1], vec![Color32::TRANSPARENT]);
    }
    // Colours by density over the scale's top, in 1024 steps (the square root and the ramp
    // once per step, not once per cell: the window makes an image on every timeline frame).
    const STEPS: usize = 1024;
    let lut: Vec<Color32> = (0..=STEPS)
        .map(|k| {
            let t = k as f32 / STEPS as f32;
            if t < 0.002 {
                return Color32::TRANSPARENT;
            }
            let t = t.sqrt();
            let [r, gg, b] = ramp_at(t as f64);
            let a = (t * 4.0).min(1.0) * 215.0;
            Color32::from_rgba_unmultiplied(r, gg, b, a as u8)
        })
        .collect();
    let scale = if max > 0.0 { STEPS as f32 / max } else { 0.0 };
    let pixels =
        g.v.iter()
            .map(|&v| lut[((v * scale) as usize).min(STEPS)])
            .collect();
    egui::ColorImage::new([g.w, g.h], pixels)
}

/// The Mercator positions of a selection, in the index's order.
fn points<'a>(
    index: &'a ClusterIndex,
    sel: &'a ClusterSel,
) -> impl Iterator<Item = (f64, f64)> + 'a {
    sel.ranks().map(move |r| {
        let (x, y) = index.xy[r];
        (x as f64, y as f64)
    })
}

/// Forgets the heat map kept for the map `id` (its grid's image), when another layer is drawn.
pub fn forget_heat(ctx: &egui::Context, id: egui::Id) {
    ctx.data_mut(|d| d.remove::<HeatCache>(id));
}

/// Draws the heat map of the view and returns its scale's top; `id` is the map's (one map is
/// kept per id). In the window (`margin`) the map covers the view and half a view around it
/// (edges on a 32-cell lattice) and is computed again only when a selection or the whole zoom
/// level changes or the view leaves that area, so panning reuses it; an export covers just the
/// view. The scale is the highest density of every date over the same area, so frames of
/// different dates compare.
pub fn draw_heat(
    painter: &egui::Painter,
    s: &Screen,
    input: &HeatInput<'_>,
    id: egui::Id,
    margin: bool,
) -> f32 {
    let zoom = (s.zoom.round() as i32).clamp(0, 19);
    let n = HeatGrid::cells(zoom);
    let v = s.visible(0.0);
    let view = (
        (v.x0 * n).floor() as i64,
        (v.y0 * n).floor() as i64,
        ((v.x1 * n).ceil() as i64).max((v.x0 * n).floor() as i64 + 1),
        ((v.y1 * n).ceil() as i64).max((v.y0 * n).floor() as i64 + 1),
    );
    let cached: Option<HeatCache> = painter.ctx().data(|d| d.get_temp(id));
    let fits =
        |a: (i64, i64, i64, i64)| a.0 <= view.0 && a.1 <= view.1 && a.2 >= view.2 && a.3 >= view.3;
    let cache = match cached {
        Some(c)
            if (c.key.0, c.key.1, c.key.2) == (input.key.0, input.key.1, zoom) && fits(c.key.3) =>
        {
            c
        }
        old => {
            let (hw, hh) = ((view.2 - view.0) / 2, (view.3 - view.1) / 2);
            let lattice = |c: i64, up: bool| {
                let q = c.div_euclid(32) * 32;
                if up && q < c { q + 32 } else { q }
            };
            // The area kept while it covers the view; else the view and half a view around.
            let area = match &old {
                Some(c) if c.key.2 == zoom && fits(c.key.3) => c.key.3,
                _ if !margin => view,
                _ => (
                    lattice(view.0 - hw, false),
                    lattice(view.1 - hh, false),
                    lattice(view.2 + hw, true),
                    lattice(view.3 + hh, true),
                ),
            };
            let grid = HeatGrid::of(points(input.index, input.sel), zoom, area);
            let every_max = match &old {
                Some(c) if (c.key.1, c.key.2, c.key.3) == (input.key.1, zoom, area) => c.every_max,
                _ => HeatGrid::max_of(points(input.index, input.every_date), zoom, area),
            };
            let max = every_max.max(grid.max());
            let image = heat_image(&grid, max);
            let texture = match old {
                Some(c) => {
                    let mut t = c.texture;
                    t.set(image, egui::TextureOptions::LINEAR);
                    t
                }
                None => {
                    painter
                        .ctx()
                        .load_texture("heat-layer", image, egui::TextureOptions::LINEAR)
                }
            };
            let c = HeatCache {
                key: (input.key.0, input.key.1, zoom, area),
                every_max,
                max,
                texture,
            };
            painter.ctx().data_mut(|d| d.insert_temp(id, c.clone()));
            c
        }
    };
    let (x0, y0, x1, y1) = cache.key.3;
    let corner = |cx: i64, cy: i64| s.to_screen(cx as f64 / n, cy as f64 / n);
    painter.image(
        cache.texture.id(),
        Rect::from_min_max(corner(x0, y0), corner(x1, y1)),
        Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
        Color32::WHITE,
    );
    cache.max
}

/// The scale's legend in the map's lower left, above the scale bar: for hexagons.
pub fn legend(painter: &egui::Painter, map: Rect, max: u32) {
    scale_legend(painter, map, "incidents per hexagon", max.to_string());
}

/// The heat map's legend: its unit is incidents (a lone one scores 1 at its place).
pub fn heat_legend(painter: &egui::Painter, map: Rect, max: f32) {
    scale_legend(
        painter,
        map,
        "incident density (kernel)",
        format!("{max:.1}"),
    );
}

fn scale_legend(painter: &egui::Painter, map: Rect, title: &str, top: String) {
    let (w, h) = (170.0, 10.0);
    let origin = pos2(map.left() + 12.0, map.bottom() - 58.0);
    let back = Rect::from_min_size(origin - vec2(6.0, 20.0), vec2(w + 12.0, h + 40.0));
    painter.rect_filled(back, 4.0, Color32::from_white_alpha(225));
    painter.text(
        origin - vec2(0.0, 4.0),
        Align2::LEFT_BOTTOM,
        title,
        FontId::proportional(11.0),
        Color32::from_rgb(0x22, 0x22, 0x22),
    );
    let steps = 34;
    for k in 0..steps {
        let t0 = k as f32 / steps as f32;
        let [r, g, b] = ramp_at(t0 as f64);
        painter.rect_filled(
            Rect::from_min_size(origin + vec2(t0 * w, 0.0), vec2(w / steps as f32 + 0.5, h)),
            0.0,
            Color32::from_rgb(r, g, b),
        );
    }
    for (t, label) in [(0.0, "0".to_string()), (1.0, top)] {
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
