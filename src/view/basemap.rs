//! The offline basemap: Natural Earth land, coastlines and borders and GeoNames cities, bundled in
//! the binary and drawn as meshes and lines wherever tiles are missing.
//!
//! Land polygons are triangulated once (earcut, in Mercator units); a frame only transforms the
//! vertices of the polygons in view. Two levels of detail: 1:110m below zoom 3, 1:50m above.

use std::sync::OnceLock;

use egui::epaint::{Mesh, Vertex, WHITE_UV};
use egui::{Align2, Color32, FontId, Pos2, Rect, Shape, Stroke};
use geo::TriangulateEarcut;

use super::screen::Screen;
use crate::projection::{MercRect, merc_x, merc_y};

/// Sea colour.
pub const SEA: Color32 = Color32::from_rgb(0xCF, 0xDD, 0xE6);
/// Land colour.
pub const LAND: Color32 = Color32::from_rgb(0xF4, 0xF1, 0xEA);
const COAST: Color32 = Color32::from_rgb(0x8F, 0xA6, 0xB5);
const BORDER: Color32 = Color32::from_rgb(0xA8, 0x92, 0xA8);
const CITY: Color32 = Color32::from_rgb(0x4A, 0x4A, 0x4A);

/// Attribution for the offline layer (GeoNames asks for credit; Natural Earth is public domain).
pub const ATTRIBUTION: &str = "Natural Earth · GeoNames";

#[derive(Debug, Clone, Copy)]
struct Bounds {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Bounds {
    fn empty() -> Bounds {
        Bounds {
            x0: f64::INFINITY,
            y0: f64::INFINITY,
            x1: f64::NEG_INFINITY,
            y1: f64::NEG_INFINITY,
        }
    }
    fn add(&mut self, x: f64, y: f64) {
        self.x0 = self.x0.min(x);
        self.y0 = self.y0.min(y);
        self.x1 = self.x1.max(x);
        self.y1 = self.y1.max(y);
    }
    fn meets(&self, v: &MercRect) -> bool {
        self.x1 >= v.x0 && self.x0 <= v.x1 && self.y1 >= v.y0 && self.y0 <= v.y1
    }
}

/// One land polygon: its triangles.
#[derive(Debug)]
struct Poly {
    bounds: Bounds,
    /// Range into `Lod::verts`.
    verts: std::ops::Range<usize>,
    /// Range into `Lod::tris` (indices relative to `verts.start`).
    tris: std::ops::Range<usize>,
    /// Crosses the antimeridian: unwrapped east of it, so also drawn one world to the west.
    wraps: bool,
}

#[derive(Debug, Default)]
struct Lod {
    verts: Vec<(f64, f64)>,
    tris: Vec<u32>,
    polys: Vec<Poly>,
    coast: Vec<(Bounds, Vec<(f64, f64)>)>,
    borders: Vec<(Bounds, Vec<(f64, f64)>)>,
}

/// A city label.
#[derive(Debug, Clone)]
struct City {
    name: String,
    x: f64,
    y: f64,
    population: u64,
}

/// The loaded offline basemap.
#[derive(Debug)]
pub struct Basemap {
    coarse: Lod,
    fine: Lod,
    cities: Vec<City>,
}

fn lonlats(v: &serde_json::Value) -> Vec<(f64, f64)> {
    v.as_array()
        .map(|pts| {
            pts.iter()
                .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Makes a ring's longitudes continuous across the antimeridian (Natural Earth's merged shapes
/// of Russia and Fiji jump from +180 to -180). A ring that goes round the pole (Antarctica) is
/// left alone. Returns whether the ring was unwrapped.
fn unwrap_ring(r: &mut [(f64, f64)]) -> bool {
    let mut shift = 0.0;
    let mut out = Vec::with_capacity(r.len());
    let mut prev = match r.first() {
        Some(p) => p.0,
        None => return false,
    };
    for &(lon, lat) in r.iter() {
        let d = lon - prev;
        if d > 180.0 {
            shift -= 360.0;
        } else if d < -180.0 {
            shift += 360.0;
        }
        prev = lon;
        out.push((lon + shift, lat));
    }
    if shift != 0.0 || !out.iter().any(|p| p.0 > 180.0 || p.0 < -180.0) {
        return false; // circles the pole, or never crossed
    }
    let min = out.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let k = if min < -180.0 { 360.0 } else { 0.0 };
    for (dst, src) in r.iter_mut().zip(out) {
        *dst = (src.0 + k, src.1);
    }
    true
}

fn to_merc(pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
    pts.iter()
        .map(|&(lon, lat)| (merc_x(lon), merc_y(lat)))
        .collect()
}

/// Lines split where they jump across the antimeridian.
fn split_lines(v: &serde_json::Value, out: &mut Vec<(Bounds, Vec<(f64, f64)>)>) {
    for f in v["features"].as_array().into_iter().flatten() {
        for line in f["geometry"]["coordinates"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let pts = lonlats(line);
            let mut start = 0;
            for k in 1..=pts.len() {
                if k == pts.len() || (pts[k].0 - pts[k - 1].0).abs() > 180.0 {
                    if k - start >= 2 {
                        let part = to_merc(&pts[start..k]);
                        let mut b = Bounds::empty();
                        part.iter().for_each(|&(x, y)| b.add(x, y));
                        out.push((b, part));
                    }
                    start = k;
                }
            }
        }
    }
}

fn load_lod(land: &str, coast: &str, borders: &str) -> Lod {
    let mut lod = Lod::default();
    let land: serde_json::Value = serde_json::from_str(land).unwrap_or_default();
    for f in land["features"].as_array().into_iter().flatten() {
        let mut rings: Vec<Vec<(f64, f64)>> = f["geometry"]["coordinates"]
            .as_array()
            .into_iter()
            .flatten()
            .map(lonlats)
            .filter(|r| r.len() >= 4)
            .collect();
        if rings.is_empty() {
            continue;
        }
        let mut wraps = false;
        for r in &mut rings {
            wraps |= unwrap_ring(r);
        }
        let rings: Vec<Vec<(f64, f64)>> = rings.iter().map(|r| to_merc(r)).collect();
        let to_ls = |r: &Vec<(f64, f64)>| {
            geo::LineString::from(
                r.iter()
                    .map(|&(x, y)| geo::coord! {x: x, y: y})
                    .collect::<Vec<_>>(),
            )
        };
        let polygon = geo::Polygon::new(to_ls(&rings[0]), rings[1..].iter().map(to_ls).collect());
        let tri = polygon.earcut_triangles_raw();
        let vstart = lod.verts.len();
        let tstart = lod.tris.len();
        lod.verts.extend(tri.vertices.iter().map(|c| (c[0], c[1])));
        lod.tris
            .extend(tri.triangle_indices.iter().map(|&i| i as u32));
        let mut bounds = Bounds::empty();
        rings.iter().flatten().for_each(|&(x, y)| bounds.add(x, y));
        lod.polys.push(Poly {
            bounds,
            verts: vstart..lod.verts.len(),
            tris: tstart..lod.tris.len(),
            wraps,
        });
    }
    split_lines(
        &serde_json::from_str(coast).unwrap_or_default(),
        &mut lod.coast,
    );
    split_lines(
        &serde_json::from_str(borders).unwrap_or_default(),
        &mut lod.borders,
    );
    lod
}

fn load_cities(csv_text: &str) -> Vec<City> {
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    rdr.records()
        .flatten()
        .filter_map(|r| {
            let lat: f64 = r.get(2)?.parse().ok()?;
            let lon: f64 = r.get(3)?.parse().ok()?;
            Some(City {
                name: r.get(0)?.to_string(),
                x: merc_x(lon),
                y: merc_y(lat),
                population: r.get(4)?.parse().ok()?,
            })
        })
        .collect()
}

impl Basemap {
    /// Parses and triangulates the bundled data.
    pub fn load() -> Basemap {
        Basemap {
            coarse: load_lod(
                include_str!("../../assets/basemap/land-110m.geojson"),
                include_str!("../../assets/basemap/coast-110m.geojson"),
                include_str!("../../assets/basemap/borders-110m.geojson"),
            ),
            fine: load_lod(
                include_str!("../../assets/basemap/land-50m.geojson"),
                include_str!("../../assets/basemap/coast-50m.geojson"),
                include_str!("../../assets/basemap/borders-50m.geojson"),
            ),
            cities: load_cities(include_str!("../../assets/basemap/cities.csv")),
        }
    }

    /// The process-wide basemap, loaded on first use.
    pub fn shared() -> &'static Basemap {
        static MAP: OnceLock<Basemap> = OnceLock::new();
        MAP.get_or_init(Basemap::load)
    }

    /// Number of land polygons at the fine level (for tests).
    pub fn polygon_count(&self) -> usize {
        self.fine.polys.len()
    }

    /// Shapes for the sea, land, coastlines and borders of a view.
    pub fn shapes(&self, s: &Screen) -> Vec<Shape> {
        let mut out = vec![Shape::rect_filled(s.rect, 0.0, SEA)];
        let lod = if s.zoom < 3.0 {
            &self.coarse
        } else {
            &self.fine
        };
        let view = s.visible(2.0);
        // Land: one mesh of the triangles of visible polygons (wrapping ones also one world west).
        let mut mesh = Mesh::default();
        for p in &lod.polys {
            for shift in [0.0, -1.0] {
                if shift != 0.0 && !p.wraps {
                    continue;
                }
                let b = Bounds {
                    x0: p.bounds.x0 + shift,
                    x1: p.bounds.x1 + shift,
                    ..p.bounds
                };
                if !b.meets(&view) {
                    continue;
                }
                let base = mesh.vertices.len() as u32;
                mesh.vertices
                    .extend(lod.verts[p.verts.clone()].iter().map(|&(x, y)| Vertex {
                        pos: s.to_screen(x + shift, y),
                        uv: WHITE_UV,
                        color: LAND,
                    }));
                mesh.indices
                    .extend(lod.tris[p.tris.clone()].iter().map(|&i| base + i));
            }
        }
        out.push(Shape::mesh(mesh));
        // Thin lines: simplify to whole pixels so a frame never strokes more points than pixels.
        let line = |pts: &[(f64, f64)]| -> Vec<Pos2> {
            let mut v: Vec<Pos2> = Vec::with_capacity(pts.len());
            for &(x, y) in pts {
                let p = s.to_screen(x, y);
                if v.last()
                    .is_none_or(|q: &Pos2| (q.x - p.x).abs() >= 1.0 || (q.y - p.y).abs() >= 1.0)
                {
                    v.push(p);
                }
            }
            v
        };
        for (lines, stroke) in [
            (&lod.coast, Stroke::new(0.8, COAST)),
            (&lod.borders, Stroke::new(0.8, BORDER)),
        ] {
            for (_, pts) in lines.iter().filter(|(b, _)| b.meets(&view)) {
                let pts = line(pts);
                if pts.len() >= 2 {
                    out.push(Shape::line(pts, stroke));
                }
            }
        }
        out
    }

    /// City labels for a view, biggest first, leaving out any that would overlap one already
    /// placed.
    pub fn labels(&self, s: &Screen, painter: &egui::Painter) -> Vec<Shape> {
        let min_pop: u64 = match s.zoom {
            z if z < 3.0 => 8_000_000,
            z if z < 4.0 => 4_000_000,
            z if z < 5.0 => 2_000_000,
            z if z < 6.0 => 1_000_000,
            _ => 0,
        };
        let view = s.visible(0.0);
        let mut placed: Vec<Rect> = Vec::new();
        let mut out = Vec::new();
        let font = FontId::proportional(11.0);
        for c in self.cities.iter().filter(|c| c.population >= min_pop) {
            if c.x < view.x0 || c.x > view.x1 || c.y < view.y0 || c.y > view.y1 {
                continue;
            }
            let p = s.to_screen(c.x, c.y);
            let galley = painter.layout_no_wrap(c.name.clone(), font.clone(), CITY);
            let rect = Align2::LEFT_CENTER
                .anchor_size(p + egui::vec2(5.0, 0.0), galley.size())
                .expand(2.0);
            let dot = Rect::from_center_size(p, egui::vec2(6.0, 6.0));
            if placed
                .iter()
                .any(|r| r.intersects(rect) || r.intersects(dot))
            {
                continue;
            }
            placed.push(rect);
            placed.push(dot);
            out.push(Shape::circle_filled(p, 2.2, CITY));
            out.push(Shape::galley_with_override_text_color(
                rect.min + egui::vec2(2.0, 2.0),
                galley,
                CITY,
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn antimeridian_rings_unwrap_and_polar_rings_do_not() {
        let mut fiji = vec![
            (179.0, -16.0),
            (180.0, -16.5),
            (-179.5, -16.6),
            (-179.0, -16.0),
            (179.0, -16.0),
        ];
        assert!(unwrap_ring(&mut fiji));
        assert!(
            fiji.iter().all(|p| p.0 >= 179.0 && p.0 <= 181.0),
            "{fiji:?}"
        );
        let mut antarctica = vec![
            (-180.0, -84.0),
            (0.0, -70.0),
            (180.0, -84.0),
            (180.0, -90.0),
            (-180.0, -90.0),
            (-180.0, -84.0),
        ];
        let before = antarctica.clone();
        assert!(!unwrap_ring(&mut antarctica));
        assert_eq!(antarctica, before);
    }

    #[test]
    fn loads_and_triangulates() {
        let b = Basemap::load();
        assert!(b.polygon_count() > 1000);
        assert!(!b.coarse.polys.is_empty());
        assert!(b.cities.iter().any(|c| c.name == "Baghdad"));
        // A view of Iraq has land, coast and borders.
        let rect = Rect::from_min_size(Pos2::ZERO, egui::vec2(800.0, 600.0));
        let s = Screen::new(rect, 44.0, 33.5, 5.0);
        let shapes = b.shapes(&s);
        let land = shapes.iter().find_map(|sh| {
            if let Shape::Mesh(m) = sh {
                Some(m.indices.len())
            } else {
                None
            }
        });
        assert!(land.unwrap_or(0) > 100);
        assert!(shapes.len() > 5);
    }
}
