//! The one drawing path shared by the window and the PNG exporter: basemap, incident layer
//! (clusters, stacks, symbols), legend, attribution, scale bar and caption.

pub mod basemap;
pub mod chart;
pub mod density;
pub mod layers;
pub mod map;
pub mod offscreen;
pub mod overlay;
pub mod painter;
pub mod palette;
pub mod record;
pub mod screen;
pub mod tiles;
pub mod tools;
pub mod viewport;

use egui::{Align2, Color32, FontId, Pos2, Shape, Stroke, Vec2};

use crate::cluster::{Cluster, ClusterIndex, ClusterSel};
use crate::store::Store;
pub use screen::Screen;

/// Nominal cluster cell size in pixels (a quadtree cell at zoom + 2 is 64 px).
const CELL_LEVELS_ABOVE_ZOOM: u32 = 2;
/// Clusters whose centres are closer than this many pixels are merged.
const MERGE_PX: f64 = 44.0;
/// Radius of a single incident's symbol.
pub const SYMBOL_RADIUS: f32 = 6.5;
/// The badge of a possible duplicate.
pub const DUPE: Color32 = Color32::from_rgb(0xFF, 0x8F, 0x00);
/// The badge of an incident with evidence attached.
pub const EVIDENCE: Color32 = Color32::from_rgb(0x1E, 0x3A, 0x8A);

/// What a marker on the map stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum MarkerKind {
    /// One incident (its store index).
    Incident(u32),
    /// Several incidents near each other: clicking zooms in.
    Cluster(Cluster),
    /// Several incidents at exactly the same coordinates: clicking lists them.
    Stack(Cluster),
}

/// A drawn marker, for hit testing.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// Centre on screen.
    pub pos: Pos2,
    /// Radius on screen.
    pub radius: f32,
    /// What it is.
    pub kind: MarkerKind,
}

/// Everything the incident layer needs.
pub struct IncidentLayer<'a> {
    /// The data.
    pub store: &'a Store,
    /// Its cluster index.
    pub index: &'a ClusterIndex,
    /// The filtered selection, prepared for clustering.
    pub sel: &'a ClusterSel,
    /// Clusters to draw instead of the selection's (a table's server cells).
    pub cells: Option<&'a [Cluster]>,
    /// Store index → group of possible duplicates (`u32::MAX`: none); empty: no badges.
    pub dupes: &'a [u32],
    /// Incident to highlight (selected in the table or on the map).
    pub highlight: Option<u32>,
}

/// Colour and symbol of a type id (`u32::MAX` = other types).
pub fn type_style(store: &Store, t: u32) -> (Color32, crate::style::Symbol) {
    if t == u32::MAX {
        (palette::OTHER, crate::style::Symbol::Circle)
    } else {
        palette::style(&store.colours, store.types.name(t))
    }
}

fn donut(c: Pos2, r_out: f32, r_in: f32, slices: &[(Color32, f32)]) -> Shape {
    use egui::epaint::{Mesh, Vertex, WHITE_UV};
    let total: f32 = slices.iter().map(|s| s.1).sum();
    let mut mesh = Mesh::default();
    let mut a0 = -std::f32::consts::FRAC_PI_2;
    for &(color, v) in slices {
        let sweep = std::f32::consts::TAU * v / total.max(1.0);
        let steps = ((sweep / 0.2).ceil() as usize).max(1);
        for k in 0..steps {
            let (t0, t1) = (
                a0 + sweep * k as f32 / steps as f32,
                a0 + sweep * (k + 1) as f32 / steps as f32,
            );
            let base = mesh.vertices.len() as u32;
            for (ang, r) in [(t0, r_out), (t1, r_out), (t1, r_in), (t0, r_in)] {
                mesh.vertices.push(Vertex {
                    pos: c + Vec2::angled(ang) * r,
                    uv: WHITE_UV,
                    color,
                });
            }
            mesh.indices
                .extend([base, base + 1, base + 2, base, base + 2, base + 3]);
        }
        a0 += sweep;
    }
    Shape::mesh(mesh)
}

/// Radius of a cluster marker holding `n` incidents.
pub fn cluster_radius(n: u32) -> f32 {
    11.0 + 4.0 * (n.max(1) as f32).log10()
}

/// Draws the selected incidents (clustered for the zoom) and returns the markers drawn.
pub fn draw_incidents(
    painter: &egui::Painter,
    s: &Screen,
    layer: &IncidentLayer<'_>,
) -> Vec<Marker> {
    let level = (s.zoom.round().max(0.0) as u32 + CELL_LEVELS_ABOVE_ZOOM).min(30);
    let view = s.visible(30.0);
    let mut clusters = match layer.cells {
        Some(c) => c.to_vec(),
        None => layer
            .index
            .clusters(layer.sel, view, level, MERGE_PX / s.scale()),
    };
    let mut out = Drawn {
        shapes: Vec::with_capacity(clusters.len() * 3),
        markers: Vec::with_capacity(clusters.len()),
    };
    // Biggest last, so they sit on top.
    clusters.sort_by_key(|c| c.count);
    for c in clusters {
        if let Some(i) = c.single {
            single(&mut out, s, layer, i as usize);
            continue;
        }
        let p = s.to_screen(c.x, c.y);
        let slices: Vec<(Color32, f32)> = c
            .types
            .iter()
            .map(|&(t, n)| (type_style(layer.store, t).0, n as f32))
            .collect();
        let label = if c.count >= 10_000 {
            format!("{}k", c.count / 1000)
        } else {
            c.count.to_string()
        };
        if c.stack {
            stack(&mut out, painter, layer, p, c, (&slices, label));
        } else {
            cluster(&mut out, painter, p, c, (&slices, label));
        }
    }
    if let Some(h) = layer
        .highlight
        .map(|h| h as usize)
        .filter(|&h| h < layer.store.len())
    {
        let p = s.lonlat_to_screen(layer.store.lon[h], layer.store.lat[h]);
        out.shapes.push(Shape::circle_stroke(
            p,
            SYMBOL_RADIUS + 5.0,
            Stroke::new(3.0, Color32::from_rgb(0x11, 0x11, 0x11)),
        ));
        out.shapes.push(Shape::circle_stroke(
            p,
            SYMBOL_RADIUS + 5.0,
            Stroke::new(1.5, Color32::from_rgb(0xFF, 0xD7, 0x00)),
        ));
    }
    painter.extend(out.shapes);
    out.markers
}

/// Shapes and markers drawn so far.
struct Drawn {
    shapes: Vec<Shape>,
    markers: Vec<Marker>,
}

/// One incident: its type's symbol, and the badge of a possible duplicate.
fn single(out: &mut Drawn, s: &Screen, layer: &IncidentLayer<'_>, i: usize) {
    let outline = Stroke::new(1.2, Color32::WHITE);
    let p = s.lonlat_to_screen(layer.store.lon[i], layer.store.lat[i]);
    let (color, sym) = type_style(layer.store, layer.store.type_id[i]);
    out.shapes
        .push(palette::symbol_shape(sym, p, SYMBOL_RADIUS, color, outline));
    if layer.dupes.get(i).is_some_and(|&g| g != u32::MAX) {
        // A possible duplicate: an amber badge at the symbol's upper right.
        let b = p + Vec2::new(SYMBOL_RADIUS, -SYMBOL_RADIUS);
        out.shapes.push(Shape::circle_filled(b, 3.8, DUPE));
        out.shapes.push(Shape::circle_stroke(
            b,
            3.8,
            Stroke::new(1.2, Color32::WHITE),
        ));
    }
    if layer.store.evidence.at(i) {
        // Evidence attached: a small dark-blue sheet at the symbol's upper left.
        let b = p + Vec2::new(-SYMBOL_RADIUS, -SYMBOL_RADIUS);
        let r = egui::Rect::from_center_size(b, Vec2::new(5.5, 7.0));
        out.shapes.push(Shape::rect_filled(r, 1.0, EVIDENCE));
        out.shapes.push(Shape::rect_stroke(
            r,
            1.0,
            Stroke::new(1.0, Color32::WHITE),
            egui::StrokeKind::Outside,
        ));
    }
    out.markers.push(Marker {
        pos: p,
        radius: SYMBOL_RADIUS + 2.0,
        kind: MarkerKind::Incident(i as u32),
    });
}

/// Incidents at the same coordinates: the dominant type's symbol with a count badge, and a
/// ring of the types when there are several.
fn stack(
    out: &mut Drawn,
    painter: &egui::Painter,
    layer: &IncidentLayer<'_>,
    p: Pos2,
    c: Cluster,
    (slices, label): (&[(Color32, f32)], String),
) {
    let dominant = c.types.iter().max_by_key(|t| t.1).map_or(u32::MAX, |t| t.0);
    let (color, sym) = type_style(layer.store, dominant);
    let r = SYMBOL_RADIUS + 2.5;
    out.shapes.push(Shape::circle_filled(
        p,
        r + 3.5,
        Color32::from_black_alpha(40),
    ));
    if slices.len() > 1 {
        // Several types at one place: a ring of their shares around the main symbol, as
        // clusters show theirs.
        out.shapes
            .push(Shape::circle_filled(p, r + 4.5, Color32::WHITE));
        out.shapes.push(donut(p, r + 4.0, r + 0.5, slices));
    }
    out.shapes.push(palette::symbol_shape(
        sym,
        p,
        r,
        color,
        Stroke::new(1.5, Color32::WHITE),
    ));
    let badge = p + Vec2::new(r, -r);
    let galley = painter.layout_no_wrap(label, FontId::proportional(10.0), Color32::WHITE);
    let br = galley.size().x.max(galley.size().y) / 2.0 + 2.5;
    out.shapes.push(Shape::circle_filled(
        badge,
        br,
        Color32::from_rgb(0x33, 0x33, 0x33),
    ));
    out.shapes.push(Shape::galley(
        badge - galley.size() / 2.0,
        galley,
        Color32::WHITE,
    ));
    out.markers.push(Marker {
        pos: p,
        radius: r + 4.0,
        kind: MarkerKind::Stack(c),
    });
}

/// Nearby incidents: a disc with a donut of their types and the count.
fn cluster(
    out: &mut Drawn,
    painter: &egui::Painter,
    p: Pos2,
    c: Cluster,
    (slices, label): (&[(Color32, f32)], String),
) {
    let r = cluster_radius(c.count);
    out.shapes.push(Shape::circle_filled(
        p,
        r + 1.0,
        Color32::from_black_alpha(50),
    ));
    out.shapes.push(Shape::circle_filled(
        p,
        r,
        Color32::from_rgba_unmultiplied(255, 255, 255, 235),
    ));
    out.shapes.push(donut(p, r, r - 4.5, slices));
    let galley = painter.layout_no_wrap(
        label,
        FontId::proportional(11.0),
        Color32::from_rgb(0x22, 0x22, 0x22),
    );
    out.shapes.push(Shape::galley(
        p - galley.size() / 2.0,
        galley,
        Color32::BLACK,
    ));
    out.markers.push(Marker {
        pos: p,
        radius: r,
        kind: MarkerKind::Cluster(c),
    });
}

/// The topmost marker under a screen point.
pub fn hit(markers: &[Marker], p: Pos2) -> Option<&Marker> {
    markers.iter().rev().find(|m| m.pos.distance(p) <= m.radius)
}

/// Text with a white halo, readable over any basemap.
pub fn halo_text(
    painter: &egui::Painter,
    pos: Pos2,
    anchor: Align2,
    text: &str,
    font: FontId,
    color: Color32,
) -> egui::Rect {
    let galley = painter.layout_no_wrap(text.to_string(), font, color);
    let rect = anchor.anchor_size(pos, galley.size());
    for d in [
        Vec2::new(-1.0, 0.0),
        Vec2::new(1.0, 0.0),
        Vec2::new(0.0, -1.0),
        Vec2::new(0.0, 1.0),
    ] {
        painter.galley_with_override_text_color(rect.min + d, galley.clone(), Color32::WHITE);
    }
    painter.galley(rect.min, galley, color);
    rect
}
