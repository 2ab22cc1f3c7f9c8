//! Drawing the analyst's marks (range rings, labels, arrows), the filter's area of interest and
//! radius, the ruler and an area being drawn: the window and exports call the same function.

use egui::{Align2, Color32, FontId, Pos2, Shape, Stroke, Vec2};

use super::{Screen, halo_text};
use crate::area::Area;
use crate::geodesy::{bearing_deg, circle, destination, distance_km, km_text};
use crate::query::Near;
use crate::tools::{Ink, Tools};

/// What to draw over the incidents.
#[derive(Debug, Clone, Default)]
pub struct ToolShapes {
    /// Rings, labels and arrows.
    pub tools: Tools,
    /// Per ring and radius, the filtered incidents inside.
    pub ring_counts: Vec<Vec<u64>>,
    /// The filter's radius.
    pub near: Option<Near>,
    /// The filter's area.
    pub within: Option<Area>,
    /// A measurement from one `(lon, lat)` to another.
    pub ruler: Option<((f64, f64), (f64, f64))>,
    /// An area being drawn: its vertices so far, `(lon, lat)`.
    pub draft: Vec<(f64, f64)>,
    /// Links between related incidents, `(lon, lat)` to `(lon, lat)`.
    pub links: Vec<crate::links::Segment>,
}

/// An ink's colour.
pub fn ink_color(i: Ink) -> Color32 {
    match i {
        Ink::Black => Color32::from_rgb(0x22, 0x22, 0x22),
        Ink::Red => Color32::from_rgb(0xC6, 0x28, 0x28),
        Ink::Blue => Color32::from_rgb(0x15, 0x65, 0xC0),
        Ink::Green => Color32::from_rgb(0x2E, 0x7D, 0x32),
        Ink::Orange => Color32::from_rgb(0xEF, 0x6C, 0x00),
        Ink::Purple => Color32::from_rgb(0x6A, 0x1B, 0x9A),
    }
}

/// Range rings.
pub const RING: Color32 = Color32::from_rgb(0x1A, 0x23, 0x7E);
/// Areas of interest.
pub const AREA: Color32 = Color32::from_rgb(0x8E, 0x24, 0xAA);
/// The near filter's circle.
pub const NEAR: Color32 = Color32::from_rgb(0x00, 0x69, 0x7C);
/// Links between related incidents.
pub const LINK: Color32 = Color32::from_rgb(0x37, 0x47, 0x4F);
/// The ruler.
pub const RULER: Color32 = Color32::from_rgb(0x21, 0x21, 0x21);

/// A line with a white halo under it, so it reads over any basemap.
fn halo_line(shapes: &mut Vec<Shape>, pts: Vec<Pos2>, width: f32, color: Color32) {
    if pts.len() < 2 {
        return;
    }
    shapes.push(Shape::line(
        pts.clone(),
        Stroke::new(width + 2.5, Color32::from_white_alpha(200)),
    ));
    shapes.push(Shape::line(pts, Stroke::new(width, color)));
}

fn ring_points(s: &Screen, center: (f64, f64), km: f64) -> Vec<Pos2> {
    // Enough vertices that a ring looks round at any size it is drawn.
    circle(center, km, 180)
        .into_iter()
        .map(|(lon, lat)| s.lonlat_to_screen(lon, lat))
        .collect()
}

/// Points along the geodesic from `a` to `b`, so long measurements follow the true path.
fn geodesic_points(s: &Screen, a: (f64, f64), b: (f64, f64)) -> Vec<Pos2> {
    let d = distance_km(a, b);
    let bearing = bearing_deg(a, b);
    let n = ((d / 20.0).ceil() as usize).clamp(1, 64);
    // Every longitude within 180° of the start's, the end's too, so a line across the
    // antimeridian stays short.
    let unwrap = |mut lon: f64| {
        while lon - a.0 > 180.0 {
            lon -= 360.0;
        }
        while lon - a.0 < -180.0 {
            lon += 360.0;
        }
        lon
    };
    let mut pts: Vec<Pos2> = (0..n)
        .map(|k| {
            let (lon, lat) = destination(a, bearing, d * k as f64 / n as f64);
            s.lonlat_to_screen(unwrap(lon), lat)
        })
        .collect();
    pts.push(s.lonlat_to_screen(unwrap(b.0), b.1));
    pts
}

/// Draws the links between related incidents (under the incidents: they must not cross a
/// cluster's count).
pub fn draw_links(painter: &egui::Painter, s: &Screen, links: &[crate::links::Segment]) {
    let mut shapes = Vec::new();
    for &(a, b) in links {
        // Dashed, so a link never reads as a road or a border.
        let pts = geodesic_points(s, a, b);
        for w in pts.windows(2) {
            shapes.extend(Shape::dashed_line(
                w,
                Stroke::new(3.0, Color32::from_white_alpha(180)),
                6.0,
                4.0,
            ));
            shapes.extend(Shape::dashed_line(w, Stroke::new(1.6, LINK), 6.0, 4.0));
        }
    }
    painter.extend(shapes);
}

/// Text to draw over the shapes: where, anchored how, what, in which colour.
type Text = (Pos2, Align2, String, Color32);

/// Draws `o` (all but the links) on `painter` for the view `s`.
pub fn draw(painter: &egui::Painter, s: &Screen, o: &ToolShapes) {
    let mut shapes = Vec::new();
    let mut texts: Vec<Text> = Vec::new();
    if let Some(a) = &o.within {
        for poly in &a.polygons {
            for ring in poly {
                let mut pts: Vec<Pos2> = ring
                    .iter()
                    .map(|p| s.lonlat_to_screen(p[0], p[1]))
                    .collect();
                if let Some(&f) = pts.first() {
                    pts.push(f);
                }
                halo_line(&mut shapes, pts, 2.0, AREA);
            }
        }
    }
    if let Some(n) = &o.near {
        let pts = ring_points(s, (n.lon, n.lat), n.km);
        halo_line(&mut shapes, pts, 2.0, NEAR);
        let top = destination((n.lon, n.lat), 0.0, n.km);
        texts.push((
            s.lonlat_to_screen(top.0, top.1) - Vec2::new(0.0, 3.0),
            Align2::CENTER_BOTTOM,
            format!("filter: within {}", km_text(n.km)),
            NEAR,
        ));
    }
    rings(s, o, &mut shapes, &mut texts);
    arrows(s, o, &mut shapes);
    if !o.draft.is_empty() {
        let mut pts: Vec<Pos2> = o
            .draft
            .iter()
            .map(|p| s.lonlat_to_screen(p.0, p.1))
            .collect();
        for &p in &pts {
            shapes.push(Shape::circle_filled(p, 4.0, AREA));
        }
        if pts.len() > 2 {
            pts.push(pts[0]);
        }
        halo_line(&mut shapes, pts, 1.5, AREA);
    }
    ruler(s, o, &mut shapes, &mut texts);
    painter.extend(shapes);
    for l in &o.tools.labels {
        halo_text(
            painter,
            s.lonlat_to_screen(l.lon, l.lat),
            Align2::CENTER_CENTER,
            &l.text,
            FontId::proportional(14.0),
            ink_color(l.ink),
        );
    }
    for (p, align, text, color) in texts {
        halo_text(painter, p, align, &text, FontId::proportional(12.0), color);
    }
}

/// Range rings, each labelled with its radius and the incidents inside, and their centres.
fn rings(s: &Screen, o: &ToolShapes, shapes: &mut Vec<Shape>, texts: &mut Vec<Text>) {
    for (r, ring) in o.tools.rings.iter().enumerate() {
        let c = (ring.lon, ring.lat);
        let cp = s.lonlat_to_screen(c.0, c.1);
        for (k, &km) in ring.km.iter().enumerate() {
            halo_line(shapes, ring_points(s, c, km), 1.6, RING);
            let top = destination(c, 0.0, km);
            let count = o
                .ring_counts
                .get(r)
                .and_then(|v| v.get(k))
                .map_or(String::new(), |n| {
                    format!(" · {n} incident{}", if *n == 1 { "" } else { "s" })
                });
            texts.push((
                s.lonlat_to_screen(top.0, top.1) + Vec2::new(0.0, 2.0),
                Align2::CENTER_TOP,
                format!("{}{count}", km_label(km)),
                RING,
            ));
        }
        // The centre: a small dot, under what it marks rather than over it.
        shapes.push(Shape::circle_filled(cp, 2.5, RING));
    }
}

/// Arrows along the geodesic, with their heads.
fn arrows(s: &Screen, o: &ToolShapes, shapes: &mut Vec<Shape>) {
    for a in &o.tools.arrows {
        let color = ink_color(a.ink);
        let pts = geodesic_points(s, (a.from[1], a.from[0]), (a.to[1], a.to[0]));
        let (Some(&head), Some(&before)) = (pts.last(), pts.iter().rev().nth(1)) else {
            continue;
        };
        halo_line(shapes, pts.clone(), 2.5, color);
        let dir = (head - before).normalized();
        if dir.is_finite() {
            let side = Vec2::new(-dir.y, dir.x);
            let tri = vec![
                head,
                head - dir * 13.0 + side * 6.0,
                head - dir * 13.0 - side * 6.0,
            ];
            shapes.push(Shape::convex_polygon(
                tri,
                color,
                Stroke::new(1.0, Color32::WHITE),
            ));
        }
    }
}

/// The ruler along the geodesic, with its distance and initial bearing.
fn ruler(s: &Screen, o: &ToolShapes, shapes: &mut Vec<Shape>, texts: &mut Vec<Text>) {
    let Some((a, b)) = o.ruler else { return };
    let pts = geodesic_points(s, a, b);
    let end = pts.last().copied();
    halo_line(shapes, pts, 2.0, RULER);
    if let Some(end) = end {
        shapes.push(Shape::circle_filled(
            s.lonlat_to_screen(a.0, a.1),
            3.5,
            RULER,
        ));
        shapes.push(Shape::circle_filled(end, 3.5, RULER));
        texts.push((
            end + Vec2::new(8.0, -8.0),
            Align2::LEFT_BOTTOM,
            format!(
                "{} · bearing {:.1}°",
                km_text(distance_km(a, b)),
                bearing_deg(a, b)
            ),
            RULER,
        ));
    }
}

/// `25 km` or `2.5 km`.
fn km_label(km: f64) -> String {
    if km.fract() == 0.0 {
        format!("{km:.0} km")
    } else {
        format!("{km} km")
    }
}
