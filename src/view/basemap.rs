//! The offline basemap: Natural Earth land, lakes, rivers, coastlines and borders and GeoNames
//! cities, bundled in the binary and drawn as meshes and lines wherever tiles are missing.
//!
//! Land and lake polygons are triangulated once (earcut, in Mercator units); a frame only
//! transforms the vertices of the polygons in view. Levels of detail follow the zoom: 1:110m
//! below zoom 3, 1:50m above, and from zoom 5 the rivers and lakes at 1:10m (loaded on a
//! thread of their own, so start-up does not wait for them), with the major roads
//! (OpenStreetMap data, ODbL: whoever draws them credits OpenStreetMap, see [`Drawn::roads`]).

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
const RIVER: Color32 = Color32::from_rgb(0x9D, 0xBD, 0xD6);
const HALO: Color32 = Color32::from_rgba_premultiplied(200, 199, 195, 200);
const RIVER_TEXT: Color32 = Color32::from_rgb(0x3E, 0x6E, 0x9C);
const BORDER: Color32 = Color32::from_rgb(0xA8, 0x92, 0xA8);
const CITY: Color32 = Color32::from_rgb(0x4A, 0x4A, 0x4A);
/// Road colour close in: a muted tan, warmer than the borders and rivers and paler than the
/// incidents' orange symbols.
const ROAD: Color32 = Color32::from_rgb(0xCC, 0x9E, 0x78);

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

/// One filled polygon: its triangles.
#[derive(Debug)]
struct Poly {
    bounds: Bounds,
    /// Range into `Fill::verts`.
    verts: std::ops::Range<usize>,
    /// Range into `Fill::tris` (indices relative to `verts.start`).
    tris: std::ops::Range<usize>,
    /// Crosses the antimeridian: unwrapped east of it, so also drawn one world to the west.
    wraps: bool,
}

/// Triangulated polygons of one colour (land, or lakes).
#[derive(Debug, Default)]
struct Fill {
    verts: Vec<(f64, f64)>,
    tris: Vec<u32>,
    polys: Vec<Poly>,
}

/// Lines of one kind, each with its bounds, in Mercator units.
type Lines = Vec<(Bounds, Vec<(f64, f64)>)>;

/// One level of detail of the basemap.
#[derive(Debug, Default)]
struct Lod {
    land: Fill,
    lakes: Fill,
    coast: Lines,
    borders: Lines,
    rivers: Lines,
}

/// Rivers and lakes at 1:10m and the major roads, drawn from `DETAIL_ZOOM`; loaded apart from
/// the rest so that start-up does not wait for them.
#[derive(Debug, Default)]
struct Detail {
    lakes: Fill,
    rivers: Lines,
    /// Per line of `rivers`, its river's name ("" when unnamed).
    names: Vec<std::sync::Arc<str>>,
    /// Roads, in pieces of at most `ROAD_PIECE` points, from `NEAR_ROAD_ZOOM`.
    roads: Lines,
    /// The long through routes only, coarser, below `NEAR_ROAD_ZOOM`: the whole network there
    /// is a tangle of short lines that costs milliseconds a frame to draw.
    roads_far: Lines,
}

/// A city label.
#[derive(Debug, Clone)]
struct City {
    name: String,
    x: f64,
    y: f64,
    population: u64,
}

/// Zoom from which the 1:50m level is drawn.
const FINE_ZOOM: f64 = 3.0;
/// Zoom from which the 1:10m rivers and lakes and the roads are drawn.
pub const DETAIL_ZOOM: f64 = 5.0;
/// Zoom from which every major road is drawn (the long through routes only before).
const NEAR_ROAD_ZOOM: f64 = 7.0;

/// The loaded offline basemap.
#[derive(Debug)]
pub struct Basemap {
    coarse: Lod,
    fine: Lod,
    detail: OnceLock<Detail>,
    detail_started: std::sync::Once,
    cities: Vec<City>,
}

/// The part of a GeoJSON FeatureCollection the basemap reads: Polygon and MultiLineString
/// coordinates have the same shape (a list of point lists). Typed, so that parsing is fast.
#[derive(serde::Deserialize)]
struct Collection {
    features: Vec<Feature>,
}

#[derive(serde::Deserialize)]
struct Feature {
    geometry: Geometry,
    #[serde(default)]
    properties: Props,
}

#[derive(serde::Deserialize, Default)]
struct Props {
    #[serde(default)]
    name: Option<String>,
}

#[derive(serde::Deserialize)]
struct Geometry {
    coordinates: Vec<Vec<(f64, f64)>>,
}

fn parts(geojson: &str) -> impl Iterator<Item = Vec<Vec<(f64, f64)>>> {
    named_parts(geojson).map(|(_, c)| c)
}

/// Each feature's name (empty when none) and coordinates.
fn named_parts(geojson: &str) -> impl Iterator<Item = (String, Vec<Vec<(f64, f64)>>)> {
    serde_json::from_str::<Collection>(geojson)
        .map(|c| c.features)
        .unwrap_or_default()
        .into_iter()
        .map(|f| {
            (
                f.properties.name.unwrap_or_default(),
                f.geometry.coordinates,
            )
        })
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

/// The lines of a MultiLineString collection, split where they jump across the antimeridian.
fn load_lines(geojson: &str) -> Lines {
    load_named_lines(geojson).0
}

/// The lines of a MultiLineString collection with, per line, its feature's name.
fn load_named_lines(geojson: &str) -> (Lines, Vec<std::sync::Arc<str>>) {
    let mut out = Lines::new();
    let mut names = Vec::new();
    for (name, lines) in named_parts(geojson) {
        let name: std::sync::Arc<str> = name.into();
        for pts in lines {
            let mut start = 0;
            for k in 1..=pts.len() {
                if k == pts.len() || (pts[k].0 - pts[k - 1].0).abs() > 180.0 {
                    if k - start >= 2 {
                        let part = to_merc(&pts[start..k]);
                        let mut b = Bounds::empty();
                        part.iter().for_each(|&(x, y)| b.add(x, y));
                        out.push((b, part));
                        names.push(name.clone());
                    }
                    start = k;
                }
            }
        }
    }
    (out, names)
}

/// The polygons of a Polygon collection, triangulated once (earcut, in Mercator units).
fn load_fill(geojson: &str) -> Fill {
    let mut fill = Fill::default();
    for rings in parts(geojson) {
        let mut rings: Vec<Vec<(f64, f64)>> = rings.into_iter().filter(|r| r.len() >= 4).collect();
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
        let vstart = fill.verts.len();
        let tstart = fill.tris.len();
        fill.verts.extend(tri.vertices.iter().map(|c| (c[0], c[1])));
        fill.tris
            .extend(tri.triangle_indices.iter().map(|&i| i as u32));
        let mut bounds = Bounds::empty();
        rings.iter().flatten().for_each(|&(x, y)| bounds.add(x, y));
        fill.polys.push(Poly {
            bounds,
            verts: vstart..fill.verts.len(),
            tris: tstart..fill.tris.len(),
            wraps,
        });
    }
    fill
}

/// Loads one level of detail from its bundled files.
macro_rules! lod {
    ($res:literal) => {
        Lod {
            land: load_fill(include_str!(concat!(
                "../../assets/basemap/land-",
                $res,
                ".geojson"
            ))),
            lakes: load_fill(include_str!(concat!(
                "../../assets/basemap/lakes-",
                $res,
                ".geojson"
            ))),
            coast: load_lines(include_str!(concat!(
                "../../assets/basemap/coast-",
                $res,
                ".geojson"
            ))),
            borders: load_lines(include_str!(concat!(
                "../../assets/basemap/borders-",
                $res,
                ".geojson"
            ))),
            rivers: load_lines(include_str!(concat!(
                "../../assets/basemap/rivers-",
                $res,
                ".geojson"
            ))),
        }
    };
}

/// Roads are cut into pieces of at most this many points: a view then transforms only the
/// pieces whose bounds meet it, not every point of a road that crosses a continent.
const ROAD_PIECE: usize = 32;

/// One line of the roads file (see `assets/tools/make_roads.py`): the first point, then steps
/// to each next one, as `lon,lat` in thousandths of a degree. `None` if a step is malformed.
fn road_points(line: &str) -> Option<Vec<(f64, f64)>> {
    let (mut lon, mut lat) = (0i64, 0i64);
    let mut pts = Vec::new();
    for step in line.split_ascii_whitespace() {
        let (dx, dy) = step.split_once(',')?;
        lon += dx.parse::<i64>().ok()?;
        lat += dy.parse::<i64>().ok()?;
        pts.push((merc_x(lon as f64 / 1000.0), merc_y(lat as f64 / 1000.0)));
    }
    Some(pts)
}

/// The roads of the roads file, in pieces of at most `ROAD_PIECE` points (each piece starting
/// where the one before ends, so the road stays unbroken).
fn load_roads(text: &str) -> Lines {
    let mut out = Lines::new();
    for pts in text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(road_points)
    {
        let mut start = 0;
        while start + 1 < pts.len() {
            let end = (start + ROAD_PIECE).min(pts.len());
            let mut b = Bounds::empty();
            pts[start..end].iter().for_each(|&(x, y)| b.add(x, y));
            out.push((b, pts[start..end].to_vec()));
            start = end - 1;
        }
    }
    out
}

fn load_detail_data() -> Detail {
    let (rivers, names) = load_named_lines(include_str!("../../assets/basemap/rivers-10m.geojson"));
    Detail {
        lakes: load_fill(include_str!("../../assets/basemap/lakes-10m.geojson")),
        rivers,
        names,
        roads: load_roads(include_str!("../../assets/basemap/roads.txt")),
        roads_far: load_roads(include_str!("../../assets/basemap/roads-far.txt")),
    }
}

/// The road stroke at a zoom: thin and pale from afar, where roads are many (Europe at zoom 5
/// would be a net of orange) and only show how places connect; fuller closer in. Opaque, so
/// that the ends the pieces of a road share do not show as darker dots.
fn road_stroke(zoom: f64) -> Stroke {
    let t = ((zoom - DETAIL_ZOOM) / 3.0).clamp(0.0, 1.0) as f32;
    let k = 0.5 + 0.5 * t; // share of the road colour over the land's
    let mix = |land: u8, road: u8| (land as f32 + (road as f32 - land as f32) * k).round() as u8;
    let color = Color32::from_rgb(
        mix(LAND.r(), ROAD.r()),
        mix(LAND.g(), ROAD.g()),
        mix(LAND.b(), ROAD.b()),
    );
    let width = (0.6 + 0.2 * (zoom - DETAIL_ZOOM)).clamp(0.6, 1.6) as f32;
    Stroke::new(width, color)
}

/// Zoom from which rivers are named.
const RIVER_LABEL_ZOOM: f64 = 6.0;

/// The longest run of consecutive points of `pts` inside `view`, and its length.
fn longest_run(pts: &[Pos2], view: Rect) -> (&[Pos2], f32) {
    let (mut best, mut start, mut len, mut best_len) = ((0, 0), 0, 0.0f32, 0.0f32);
    for k in 0..pts.len() {
        if !view.contains(pts[k]) {
            start = k + 1;
            len = 0.0;
            continue;
        }
        if k > start {
            len += pts[k].distance(pts[k - 1]);
        }
        if len > best_len {
            best_len = len;
            best = (start, k);
        }
    }
    if best_len == 0.0 {
        return (&[], 0.0);
    }
    (&pts[best.0..=best.1], best_len)
}

/// The point `frac` of the way along `run` (of length `len`), and the direction of the run over
/// about 60 points around it, turned so that text along it reads upright.
fn point_along(run: &[Pos2], len: f32, frac: f32) -> (Pos2, f32) {
    let mut acc = 0.0;
    let mut mid = run.len() - 1;
    for k in 1..run.len() {
        acc += run[k].distance(run[k - 1]);
        if acc >= len * frac {
            mid = k;
            break;
        }
    }
    let reach = |step: isize| {
        let mut k = mid as isize;
        let mut d = 0.0;
        while d < 30.0 && k + step >= 0 && ((k + step) as usize) < run.len() {
            d += run[(k + step) as usize].distance(run[k as usize]);
            k += step;
        }
        run[k as usize]
    };
    let (a, b) = (reach(-1), reach(1));
    let mut angle = (b.y - a.y).atan2(b.x - a.x);
    if angle > std::f32::consts::FRAC_PI_2 {
        angle -= std::f32::consts::PI;
    } else if angle < -std::f32::consts::FRAC_PI_2 {
        angle += std::f32::consts::PI;
    }
    (run[mid], angle)
}

/// Names along the rivers in view: each river once, the longest in view first, on the first of
/// its stretches (longest first) and places along them (middle first) where the name crosses no
/// label already placed.
fn river_labels(
    s: &Screen,
    painter: &egui::Painter,
    w: &Detail,
    placed: &mut Vec<Rect>,
) -> Vec<Shape> {
    let view = s.visible(0.0);
    let inner = s.rect.shrink(8.0);
    // Per river: its stretches in view (screen points) with their lengths.
    type Stretch = (Vec<Pos2>, f32);
    let mut rivers: Vec<(&str, Vec<Stretch>)> = Vec::new();
    for ((b, pts), name) in w.rivers.iter().zip(&w.names) {
        if name.is_empty() || name.as_ref() == "River" || !b.meets(&view) {
            continue;
        }
        let screen: Vec<Pos2> = pts.iter().map(|&(x, y)| s.to_screen(x, y)).collect();
        let (run, len) = longest_run(&screen, inner);
        if run.len() < 2 {
            continue;
        }
        let stretch = (run.to_vec(), len);
        match rivers.iter_mut().find(|r| r.0 == name.as_ref()) {
            Some(r) => r.1.push(stretch),
            None => rivers.push((name, vec![stretch])),
        }
    }
    for r in &mut rivers {
        r.1.sort_by(|a, b| b.1.total_cmp(&a.1));
    }
    rivers.sort_by(|a, b| b.1[0].1.total_cmp(&a.1[0].1));
    let font = FontId::proportional(11.0);
    let mut out = Vec::new();
    for (name, stretches) in rivers {
        let galley = painter.layout_no_wrap(name.to_string(), font.clone(), RIVER_TEXT);
        let size = galley.size();
        let spot = stretches
            .iter()
            .filter(|(_, len)| *len >= size.x * 1.5)
            .flat_map(|(run, len)| [0.5, 0.35, 0.65, 0.2, 0.8].map(|f| point_along(run, *len, f)))
            .find_map(|(at, angle)| {
                // The rotated text's bounds, for overlaps.
                let (c, si) = (angle.cos().abs(), angle.sin().abs());
                let bounds = Rect::from_center_size(
                    at,
                    egui::vec2(size.x * c + size.y * si, size.x * si + size.y * c),
                );
                (!placed.iter().any(|r| r.intersects(bounds))).then_some((at, angle, bounds))
            });
        let Some((at, angle, bounds)) = spot else {
            continue;
        };
        placed.push(bounds);
        labelled(&mut out, at - size / 2.0, galley, RIVER_TEXT, angle);
    }
    out
}

/// A label with a light halo (the text drawn around it, pale, first), so it reads over rivers,
/// borders and the density layers; turned `angle` radians about its centre.
fn labelled(
    out: &mut Vec<Shape>,
    pos: Pos2,
    galley: std::sync::Arc<egui::Galley>,
    color: Color32,
    angle: f32,
) {
    let text = |at: Pos2, c: Color32| {
        Shape::Text(
            egui::epaint::TextShape::new(at, galley.clone(), c)
                .with_override_text_color(c)
                .with_angle_and_anchor(angle, Align2::CENTER_CENTER),
        )
    };
    for (dx, dy) in [(-1.0, 0.0), (1.0, 0.0), (0.0, -1.0), (0.0, 1.0)] {
        out.push(text(pos + egui::vec2(dx, dy), HALO));
    }
    out.push(text(pos, color));
}

/// One mesh of the triangles of the polygons in view (wrapping ones also one world west).
fn fill_mesh(s: &Screen, view: &MercRect, fill: &Fill, color: Color32) -> Shape {
    let mut mesh = Mesh::default();
    for p in &fill.polys {
        for shift in [0.0, -1.0] {
            if shift != 0.0 && !p.wraps {
                continue;
            }
            let b = Bounds {
                x0: p.bounds.x0 + shift,
                x1: p.bounds.x1 + shift,
                ..p.bounds
            };
            if !b.meets(view) {
                continue;
            }
            let base = mesh.vertices.len() as u32;
            mesh.vertices
                .extend(fill.verts[p.verts.clone()].iter().map(|&(x, y)| Vertex {
                    pos: s.to_screen(x + shift, y),
                    uv: WHITE_UV,
                    color,
                }));
            mesh.indices
                .extend(fill.tris[p.tris.clone()].iter().map(|&i| base + i));
        }
    }
    Shape::mesh(mesh)
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

/// What the basemap drew for a view.
#[derive(Debug)]
pub struct Drawn {
    /// Sea, land, water, lines: bottom to top.
    pub shapes: Vec<Shape>,
    /// Whether any road was drawn: roads are OpenStreetMap data (ODbL), so the map's attribution
    /// must then credit "© OpenStreetMap contributors".
    pub roads: bool,
}

/// Strokes the lines whose bounds meet `view`. Thin lines: each is first simplified to whole
/// pixels, so a frame never strokes more points than pixels.
fn stroke_lines(out: &mut Vec<Shape>, s: &Screen, view: &MercRect, lines: &Lines, stroke: Stroke) {
    for (_, pts) in lines.iter().filter(|(b, _)| b.meets(view)) {
        let mut v: Vec<Pos2> = Vec::with_capacity(pts.len());
        for &(x, y) in pts {
            let p = s.to_screen(x, y);
            if v.last()
                .is_none_or(|q: &Pos2| (q.x - p.x).abs() >= 1.0 || (q.y - p.y).abs() >= 1.0)
            {
                v.push(p);
            }
        }
        if v.len() >= 2 {
            out.push(Shape::line(v, stroke));
        }
    }
}

impl Basemap {
    /// Parses and triangulates the bundled data (the 1:10m water waits for `detail`).
    pub fn load() -> Basemap {
        Basemap {
            coarse: lod!("110m"),
            fine: lod!("50m"),
            detail: OnceLock::new(),
            detail_started: std::sync::Once::new(),
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
        self.fine.land.polys.len()
    }

    /// Starts loading the 1:10m rivers and lakes and the roads on a thread of their own, once;
    /// `ready` is called when they are (the window asks for a repaint).
    pub fn load_detail_in_background(&'static self, ready: impl FnOnce() + Send + 'static) {
        self.detail_started.call_once(|| {
            let spawned = std::thread::Builder::new()
                .name("basemap-detail".into())
                .spawn(move || {
                    self.detail.get_or_init(load_detail_data);
                    ready();
                });
            if spawned.is_err() {
                self.detail.get_or_init(load_detail_data);
            }
        });
    }

    /// Loads the 1:10m rivers and lakes and the roads now (waiting for a load already under
    /// way).
    pub fn load_detail(&self) {
        self.detail.get_or_init(load_detail_data);
    }

    /// Whether the 1:10m rivers and lakes and the roads are loaded.
    pub fn detail_loaded(&self) -> bool {
        self.detail.get().is_some()
    }

    /// Shapes for the sea, land, lakes, rivers, coastlines, roads and borders of a view. At
    /// `DETAIL_ZOOM` and closer the 1:10m rivers and lakes and the roads are drawn: loaded here
    /// first when `wait` (exports must not depend on timing), else only once loaded (the 1:50m
    /// water and no roads until then).
    pub fn shapes(&self, s: &Screen, wait: bool) -> Drawn {
        let mut out = vec![Shape::rect_filled(s.rect, 0.0, SEA)];
        let lod = if s.zoom < FINE_ZOOM {
            &self.coarse
        } else {
            &self.fine
        };
        let detail = match s.zoom >= DETAIL_ZOOM {
            true if wait => Some(self.detail.get_or_init(load_detail_data)),
            true => self.detail.get(),
            false => None,
        };
        let (lakes, rivers) = match detail {
            Some(w) => (&w.lakes, &w.rivers),
            None => (&lod.lakes, &lod.rivers),
        };
        let view = s.visible(2.0);
        out.push(fill_mesh(s, &view, &lod.land, LAND));
        out.push(fill_mesh(s, &view, lakes, SEA));
        let river_width = if detail.is_some() { 1.1 } else { 0.8 };
        stroke_lines(&mut out, s, &view, rivers, Stroke::new(river_width, RIVER));
        stroke_lines(&mut out, s, &view, &lod.coast, Stroke::new(0.8, COAST));
        // Roads over the coast (a coastal road stays whole), under the borders.
        let before = out.len();
        if let Some(d) = detail {
            let roads = match s.zoom >= NEAR_ROAD_ZOOM {
                true => &d.roads,
                false => &d.roads_far,
            };
            stroke_lines(&mut out, s, &view, roads, road_stroke(s.zoom));
        }
        let roads = out.len() > before;
        stroke_lines(&mut out, s, &view, &lod.borders, Stroke::new(0.8, BORDER));
        Drawn { shapes: out, roads }
    }

    /// City labels for a view, biggest first, leaving out any that would overlap one already
    /// placed; from zoom 6, river names too, clear of the labels and of `avoid` (the incidents'
    /// markers: a river's name can go anywhere along it, a city's cannot).
    pub fn labels(&self, s: &Screen, painter: &egui::Painter, avoid: &[Rect]) -> Vec<Shape> {
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
            labelled(&mut out, rect.min + egui::vec2(2.0, 2.0), galley, CITY, 0.0);
        }
        if let Some(w) = self.detail.get().filter(|_| s.zoom >= RIVER_LABEL_ZOOM) {
            placed.extend_from_slice(avoid);
            out.extend(river_labels(s, painter, w, &mut placed));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::{lat_of, lon_of};

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
        assert!(!b.coarse.land.polys.is_empty());
        assert!(b.cities.iter().any(|c| c.name == "Baghdad"));
        // A view of Iraq has land, lakes, coast and borders.
        let rect = Rect::from_min_size(Pos2::ZERO, egui::vec2(800.0, 600.0));
        let s = Screen::new(rect, 44.0, 33.5, 4.0);
        let shapes = b.shapes(&s, true).shapes;
        let meshes: Vec<usize> = shapes
            .iter()
            .filter_map(|sh| match sh {
                Shape::Mesh(m) => Some(m.indices.len()),
                _ => None,
            })
            .collect();
        assert_eq!(meshes.len(), 2, "land, then lakes");
        assert!(meshes[0] > 100 && meshes[1] > 10, "{meshes:?}");
        assert!(shapes.len() > 5);
    }

    /// Screen points of the river lines drawn in a view.
    fn river_points(shapes: &[Shape]) -> Vec<Pos2> {
        shapes
            .iter()
            .filter_map(|sh| match sh {
                Shape::Path(p) if p.stroke.color == egui::epaint::ColorMode::Solid(RIVER) => {
                    Some(p.points.clone())
                }
                _ => None,
            })
            .flatten()
            .collect()
    }

    #[test]
    fn rivers_follow_the_zoom_and_the_tigris_runs_through_baghdad() {
        let b = Basemap::load();
        let rect = Rect::from_min_size(Pos2::ZERO, egui::vec2(800.0, 600.0));
        let (lon, lat) = (44.38, 33.32); // Baghdad
        let at = |zoom: f64, wait: bool| {
            let s = Screen::new(rect, lon, lat, zoom);
            let pts = river_points(&b.shapes(&s, wait).shapes);
            // The nearest river point to the centre (Baghdad), in km.
            let km_per_px = 40_075.0 * lat.to_radians().cos() / (256.0 * 2f64.powf(zoom));
            let near = pts
                .iter()
                .map(|p| p.distance(rect.center()) as f64 * km_per_px)
                .fold(f64::INFINITY, f64::min);
            (pts.len(), near)
        };
        let (coarse, _) = at(2.0, true);
        let (fine, fine_near) = at(4.0, true);
        // Without waiting, a window draws the 1:50m until the 1:10m has loaded.
        assert!(!b.detail_loaded());
        let (before, _) = at(8.0, false);
        assert!(!b.detail_loaded());
        let (detail, detail_near) = at(8.0, true);
        assert!(b.detail_loaded());
        assert!(coarse > 0 && fine > coarse, "{coarse} {fine}");
        assert!(
            detail > before,
            "1:10m at zoom 8: {detail} points, 1:50m {before}"
        );
        assert!(fine_near < 10.0, "{fine_near} km");
        assert!(detail_near < 3.0, "{detail_near} km");
    }

    #[test]
    fn lakes_are_water_at_every_level() {
        let b = Basemap::load();
        // Lake Tharthar, north-west of Baghdad: inside a lake polygon at 1:50m and 1:10m.
        let (x, y) = (merc_x(43.3), merc_y(34.0));
        let inside = |fill: &Fill| {
            fill.polys.iter().any(|p| {
                let v = &fill.verts[p.verts.clone()];
                fill.tris[p.tris.clone()].chunks(3).any(|t| {
                    let [a, b2, c] = [v[t[0] as usize], v[t[1] as usize], v[t[2] as usize]];
                    let side = |p: (f64, f64), q: (f64, f64)| {
                        (q.0 - p.0) * (y - p.1) - (q.1 - p.1) * (x - p.0)
                    };
                    let (d1, d2, d3) = (side(a, b2), side(b2, c), side(c, a));
                    (d1 >= 0.0 && d2 >= 0.0 && d3 >= 0.0) || (d1 <= 0.0 && d2 <= 0.0 && d3 <= 0.0)
                })
            })
        };
        assert!(inside(&b.fine.lakes));
        assert!(inside(&load_detail_data().lakes));
    }

    #[test]
    fn the_tigris_and_the_euphrates_are_named_from_zoom_6() {
        let b = Basemap::load();
        b.load_detail();
        let rect = Rect::from_min_size(Pos2::ZERO, egui::vec2(900.0, 600.0));
        let names = |zoom: f64| {
            let mut texts = Vec::new();
            let ctx = egui::Context::default();
            let mut out = ctx.run_ui(Default::default(), |ui| {
                let s = Screen::new(rect, 44.0, 33.3, zoom);
                for sh in b.labels(&s, ui.painter(), &[]) {
                    if let Shape::Text(t) = sh
                        && t.fallback_color == RIVER_TEXT
                    {
                        texts.push(t.galley.text().to_string());
                    }
                }
            });
            out.textures_delta.clear();
            texts
        };
        assert!(names(5.0).is_empty(), "no river names below zoom 6");
        for zoom in [6.0, 7.0] {
            let n = names(zoom);
            assert!(
                n.iter().any(|t| t == "Tigris") && n.iter().any(|t| t == "Euphrates"),
                "zoom {zoom}: {n:?}"
            );
            let mut unique = n.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), n.len(), "each river named once: {n:?}");
        }
    }

    /// The road lines drawn in a view at `zoom`, as screen paths.
    fn road_paths(shapes: &[Shape], zoom: f64) -> Vec<Vec<Pos2>> {
        let road = egui::epaint::ColorMode::Solid(road_stroke(zoom).color);
        shapes
            .iter()
            .filter_map(|sh| match sh {
                Shape::Path(p) if p.stroke.color == road => Some(p.points.clone()),
                _ => None,
            })
            .collect()
    }

    /// Geodesic distance (km) from `at` (lon, lat) to the nearest road drawn in `s`: the nearest
    /// point of each drawn segment on screen (Mercator is conformal: the nearest there is the
    /// nearest on the ground at this scale), measured on the ellipsoid.
    fn nearest_road_km(s: &Screen, paths: &[Vec<Pos2>], at: (f64, f64)) -> f64 {
        let p = s.lonlat_to_screen(at.0, at.1);
        paths
            .iter()
            .flat_map(|path| path.windows(2))
            .map(|seg| {
                let (a, d) = (seg[0], seg[1] - seg[0]);
                let t = ((p - a).dot(d) / d.length_sq().max(f32::EPSILON)).clamp(0.0, 1.0);
                crate::geodesy::distance_km(at, s.to_lonlat(a + d * t))
            })
            .fold(f64::INFINITY, f64::min)
    }

    #[test]
    fn a_road_passes_baghdad_airport_at_zoom_8_and_none_is_drawn_below_zoom_5() {
        let b = Basemap::load();
        let rect = Rect::from_min_size(Pos2::ZERO, egui::vec2(800.0, 600.0));
        let airport = (44.2344, 33.2625); // Baghdad International Airport
        let at = |zoom: f64| {
            let s = Screen::new(rect, airport.0, airport.1, zoom);
            let drawn = b.shapes(&s, true);
            let paths = road_paths(&drawn.shapes, zoom);
            (
                drawn.roads,
                nearest_road_km(&s, &paths, airport),
                paths.len(),
            )
        };
        let (roads, near, lines) = at(8.0);
        assert!(roads && lines > 10, "zoom 8: {lines} road lines");
        assert!(
            near < 2.0,
            "nearest road to the airport at zoom 8: {near:.2} km"
        );
        let (roads, _, lines) = at(5.0);
        assert!(roads && lines > 10, "zoom 5: {lines} road lines");
        // Below zoom 7 the long through routes only, coarser: far fewer lines.
        let ((_, _, far), (_, _, near)) = (at(6.9), at(7.0));
        assert!(
            far * 2 < near && far > 10,
            "zoom 6.9: {far} road lines, zoom 7: {near}"
        );
        for zoom in [3.0, 4.9] {
            let (roads, _, lines) = at(zoom);
            assert!(!roads && lines == 0, "zoom {zoom}: {lines} road lines");
        }
        // The window draws no roads before they have loaded in the background.
        let fresh = Basemap::load();
        let s = Screen::new(rect, airport.0, airport.1, 8.0);
        let drawn = fresh.shapes(&s, false);
        assert!(!drawn.roads && road_paths(&drawn.shapes, 8.0).is_empty());
    }

    #[test]
    fn roads_load_whole_and_in_pieces() {
        // Polylines and points written by make_roads.py, cut into pieces that share their ends.
        for (text, lines, points) in [
            (
                include_str!("../../assets/basemap/roads.txt"),
                126_232,
                432_636,
            ),
            (
                include_str!("../../assets/basemap/roads-far.txt"),
                20_938,
                115_190,
            ),
        ] {
            let roads = load_roads(text);
            let n: usize = roads.iter().map(|(_, p)| p.len()).sum();
            // Each piece after a polyline's first repeats one point: the points are the file's.
            assert_eq!(n - (roads.len() - lines), points, "{} pieces", roads.len());
            assert!(
                roads
                    .iter()
                    .all(|(_, p)| p.len() >= 2 && p.len() <= ROAD_PIECE)
            );
        }
        // First point absolute, then steps: lon 44.234, lat 33.262 and a step of (+0.003, -0.006).
        let pts = road_points("44234,33262 3,-6").unwrap_or_default();
        assert_eq!(pts.len(), 2);
        assert!(
            (lon_of(pts[1].0) - 44.237).abs() < 1e-9 && (lat_of(pts[1].1) - 33.256).abs() < 1e-9
        );
        assert!(road_points("44234,33262 3;-6").is_none());
    }

    /// The texts drawn by one export-like frame of the map (no data) at `zoom` over Baghdad.
    fn map_texts(base: &crate::view::tiles::BaseLayer, zoom: f64) -> Vec<String> {
        let sel = crate::cluster::ClusterSel::default();
        let scene = crate::view::map::Scene {
            data: None,
            sel: &sel,
            dupes: &[],
            cells: None,
            highlight: None,
            legend: Vec::new(),
            disputed: 0,
            evidence: 0,
            attribution: base.attribution(),
            interactive: false,
            pan: false,
            caption: None,
            tools: None,
            density: None,
            heat: None,
            record: None,
        };
        let mut memory = walkers::MapMemory::default();
        memory.center_at(walkers::lon_lat(44.2344, 33.2625));
        let _ = memory.set_zoom(zoom);
        let ctx = egui::Context::default();
        let input = || egui::RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, egui::vec2(800.0, 600.0))),
            ..Default::default()
        };
        let mut texts = Vec::new();
        // The attribution is an area: it shows from the second frame on.
        for _ in 0..3 {
            let mut out = ctx.run_ui(input(), |ui| {
                crate::view::map::show(ui, None, &mut memory, &scene);
            });
            // No renderer takes the font texture here.
            out.textures_delta.clear();
            texts = out
                .shapes
                .iter()
                .filter_map(|c| match &c.shape {
                    Shape::Text(t) => Some(t.galley.text().to_string()),
                    _ => None,
                })
                .collect();
        }
        texts
    }

    #[test]
    fn the_attribution_credits_openstreetmap_whenever_roads_are_drawn() {
        use crate::view::tiles::{BaseLayer, OSM_ATTRIBUTION};
        let credits = |base: &BaseLayer, zoom: f64| {
            let texts = map_texts(base, zoom);
            let a = texts
                .iter()
                .find(|t| t.contains(ATTRIBUTION))
                .unwrap_or_else(|| panic!("no attribution at zoom {zoom}: {texts:?}"));
            (a.clone(), a.matches(OSM_ATTRIBUTION).count())
        };
        let (text, osm) = credits(&BaseLayer::Offline, 8.0);
        assert_eq!(osm, 1, "offline, zoom 8: {text}");
        assert_eq!(text, format!("{OSM_ATTRIBUTION} | {ATTRIBUTION}"));
        let (text, osm) = credits(&BaseLayer::Offline, 3.0);
        assert_eq!((text.as_str(), osm), (ATTRIBUTION, 0), "offline, zoom 3");
        // OSM's tiles credit OpenStreetMap at every zoom, once.
        for zoom in [3.0, 8.0] {
            let (text, osm) = credits(&BaseLayer::Osm, zoom);
            assert_eq!(osm, 1, "OSM tiles, zoom {zoom}: {text}");
        }
        // Other tiles keep their own credit; the roads under them add OpenStreetMap's.
        let xyz = BaseLayer::Xyz {
            template: "http://127.0.0.1:9/{z}/{x}/{y}.png".into(),
            attribution: "Test tiles".into(),
        };
        let (text, _) = credits(&xyz, 8.0);
        assert_eq!(
            text,
            format!("{OSM_ATTRIBUTION} | Test tiles | {ATTRIBUTION}")
        );
        let (text, osm) = credits(&xyz, 3.0);
        assert_eq!(
            (text.as_str(), osm),
            ("Test tiles | Natural Earth · GeoNames", 0)
        );
    }
}
