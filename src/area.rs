//! Areas of interest: polygons (with holes) in longitude/latitude that filter incidents. An area
//! is read from GeoJSON (Polygon or MultiPolygon geometries, in a Feature, a FeatureCollection or
//! bare) or drawn in the window, and is saved as a GeoJSON MultiPolygon inside the filter.
//!
//! Containment is tested with the even-odd rule over each polygon's rings (holes honoured) and
//! counts boundary points as inside. Edges are bucketed into latitude bands, so a point meets only
//! the few edges of its band: 1M points against a 100-vertex polygon take milliseconds.

use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why an area file cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AreaError {
    /// Not GeoJSON.
    #[error("{file}: not GeoJSON ({message})")]
    Json {
        /// The file.
        file: String,
        /// The parser's words.
        message: String,
    },
    /// No Polygon or MultiPolygon in it.
    #[error("{file}: no Polygon or MultiPolygon geometry in it")]
    NoPolygon {
        /// The file.
        file: String,
    },
    /// A ring that is not a ring.
    #[error("{file}: a polygon ring needs at least 3 positions with valid longitude and latitude")]
    BadRing {
        /// The file.
        file: String,
    },
    /// Unreadable.
    #[error("cannot read {file}: {message}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
}

/// Polygons → rings (the first the outer one) → `[lon, lat]` positions.
type Rings = Vec<Vec<Vec<[f64; 2]>>>;

/// The largest area file read (a detailed country outline is a few MiB).
pub const MAX_AREA_BYTES: u64 = 256 << 20;

/// An area of interest.
#[derive(Debug, Clone, Default)]
pub struct Area {
    /// The polygons.
    pub polygons: Rings,
    index: OnceLock<Vec<Banded>>,
}

impl PartialEq for Area {
    fn eq(&self, other: &Area) -> bool {
        self.polygons == other.polygons
    }
}

/// One polygon's edges by latitude band.
#[derive(Debug, Clone)]
struct Banded {
    bbox: [f64; 4],
    lat0: f64,
    band: f64,
    /// Per band: edges `(x0, y0, x1, y1)` that overlap it.
    bands: Vec<Vec<[f64; 4]>>,
    /// A GRID × GRID grid over the bbox: cells no edge's box touches are wholly inside
    /// (`INSIDE`) or outside (`OUTSIDE`); the rest (`EDGE`) need the band test.
    grid: Vec<u8>,
}

const GRID: usize = 64;
const OUTSIDE: u8 = 0;
const INSIDE: u8 = 1;
const EDGE: u8 = 2;

impl Banded {
    fn new(rings: &[Vec<[f64; 2]>]) -> Banded {
        let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        let mut edges = Vec::new();
        for ring in rings {
            for w in 0..ring.len() {
                let a = ring[w];
                let b = ring[(w + 1) % ring.len()];
                if a == b {
                    continue;
                }
                bbox = [
                    bbox[0].min(a[0]),
                    bbox[1].min(a[1]),
                    bbox[2].max(a[0]),
                    bbox[3].max(a[1]),
                ];
                edges.push([a[0], a[1], b[0], b[1]]);
            }
        }
        let n = edges.len().clamp(1, 4096);
        let lat0 = bbox[1];
        let band = ((bbox[3] - bbox[1]) / n as f64).max(1e-12);
        let mut bands = vec![Vec::new(); n];
        let (gw, gh) = (
            ((bbox[2] - bbox[0]) / GRID as f64).max(1e-12),
            ((bbox[3] - bbox[1]) / GRID as f64).max(1e-12),
        );
        let gcell =
            |v: f64, o: f64, w: f64| (((v - o) / w).floor().max(0.0) as usize).min(GRID - 1);
        let mut grid = vec![OUTSIDE; GRID * GRID];
        for e in &edges {
            let (gx0, gx1) = (
                gcell(e[0].min(e[2]), bbox[0], gw),
                gcell(e[0].max(e[2]), bbox[0], gw),
            );
            let (gy0, gy1) = (
                gcell(e[1].min(e[3]), bbox[1], gh),
                gcell(e[1].max(e[3]), bbox[1], gh),
            );
            for gy in gy0..=gy1 {
                for gx in gx0..=gx1 {
                    grid[gy * GRID + gx] = EDGE;
                }
            }
        }
        for e in edges {
            let (lo, hi) = (e[1].min(e[3]), e[1].max(e[3]));
            let b0 = (((lo - lat0) / band).floor().max(0.0) as usize).min(n - 1);
            let b1 = (((hi - lat0) / band).floor().max(0.0) as usize).min(n - 1);
            for b in &mut bands[b0..=b1] {
                b.push(e);
            }
        }
        let mut b = Banded {
            bbox,
            lat0,
            band,
            bands,
            grid,
        };
        // A cell no edge touches is all inside or all outside: its centre says which.
        for gy in 0..GRID {
            for gx in 0..GRID {
                if b.grid[gy * GRID + gx] != EDGE {
                    let cx = bbox[0] + (gx as f64 + 0.5) * gw;
                    let cy = bbox[1] + (gy as f64 + 0.5) * gh;
                    b.grid[gy * GRID + gx] = if b.crossing_test(cx, cy) {
                        INSIDE
                    } else {
                        OUTSIDE
                    };
                }
            }
        }
        b
    }

    fn contains(&self, x: f64, y: f64) -> bool {
        let b = self.bbox;
        if x < b[0] || x > b[2] || y < b[1] || y > b[3] {
            return false;
        }
        let gw = (b[2] - b[0]) / GRID as f64;
        let gh = (b[3] - b[1]) / GRID as f64;
        if gw > 0.0 && gh > 0.0 {
            let gx = (((x - b[0]) / gw) as usize).min(GRID - 1);
            let gy = (((y - b[1]) / gh) as usize).min(GRID - 1);
            match self.grid[gy * GRID + gx] {
                INSIDE => return true,
                OUTSIDE => return false,
                _ => {}
            }
        }
        self.crossing_test(x, y)
    }

    /// The exact test: even-odd crossings of the point's band's edges, boundary inside.
    fn crossing_test(&self, x: f64, y: f64) -> bool {
        let n = self.bands.len();
        let k = (((y - self.lat0) / self.band).floor().max(0.0) as usize).min(n - 1);
        let mut inside = false;
        for &[x0, y0, x1, y1] in &self.bands[k] {
            if (y0 > y) == (y1 > y) {
                // No crossing; the point can only lie on the edge at one of its ends' heights.
                if (y == y0 || y == y1)
                    && x >= x0.min(x1)
                    && x <= x0.max(x1)
                    && (y0 == y1 || x == if y == y0 { x0 } else { x1 })
                {
                    return true;
                }
                continue;
            }
            // Half-open in y, so a vertex is counted once.
            let xi = x0 + (y - y0) * (x1 - x0) / (y1 - y0);
            if (x - xi).abs() <= 1e-12 * (1.0 + xi.abs()) {
                return true;
            }
            if x < xi {
                inside = !inside;
            }
        }
        inside
    }
}

impl Area {
    /// An area from polygons (rings of `[lon, lat]`; closing positions optional).
    pub fn new(polygons: Rings) -> Area {
        let polygons = polygons
            .into_iter()
            .map(|p| {
                p.into_iter()
                    .map(|mut r| {
                        if r.len() > 1 && r.first() == r.last() {
                            r.pop();
                        }
                        r
                    })
                    .filter(|r| r.len() >= 3)
                    .collect::<Vec<_>>()
            })
            .filter(|p: &Vec<_>| !p.is_empty())
            .collect();
        Area {
            polygons,
            index: OnceLock::new(),
        }
    }

    /// Reads an area from a GeoJSON file (a regular file of at most [`MAX_AREA_BYTES`]).
    pub fn read(path: &std::path::Path) -> Result<Area, AreaError> {
        let file = path.display().to_string();
        let io = |message: String| AreaError::Io {
            file: file.clone(),
            message,
        };
        let bytes =
            crate::atomic::read_small(path, MAX_AREA_BYTES).map_err(|e| io(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| io("not UTF-8 text".into()))?;
        Area::from_geojson(&text, &file)
    }

    /// Reads an area from GeoJSON text (`file` names it in errors).
    pub fn from_geojson(text: &str, file: &str) -> Result<Area, AreaError> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| AreaError::Json {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let mut polygons = Rings::new();
        collect(&v, &mut polygons).map_err(|BadRing| AreaError::BadRing {
            file: file.to_string(),
        })?;
        if polygons.is_empty() {
            return Err(AreaError::NoPolygon {
                file: file.to_string(),
            });
        }
        Ok(Area::new(polygons))
    }

    /// The area as a GeoJSON MultiPolygon geometry (rings closed).
    pub fn to_geojson(&self) -> serde_json::Value {
        let coords: Vec<Vec<Vec<[f64; 2]>>> = self
            .polygons
            .iter()
            .map(|p| {
                p.iter()
                    .map(|r| {
                        let mut r = r.clone();
                        if let Some(&f) = r.first() {
                            r.push(f);
                        }
                        r
                    })
                    .collect()
            })
            .collect();
        serde_json::json!({"type": "MultiPolygon", "coordinates": coords})
    }

    fn index(&self) -> &[Banded] {
        self.index
            .get_or_init(|| self.polygons.iter().map(|p| Banded::new(p)).collect())
    }

    /// Whether `(lon, lat)` is inside (or on the boundary of) any polygon.
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        self.index().iter().any(|b| b.contains(lon, lat))
    }

    /// `[min_lon, min_lat, max_lon, max_lat]`.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        self.index().iter().map(|b| b.bbox).reduce(|a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        })
    }

    /// Vertices in all rings.
    pub fn vertices(&self) -> usize {
        self.polygons.iter().flatten().map(Vec::len).sum()
    }
}

/// A ring that is not three or more positions on the map (the file's error names the file).
#[derive(Debug)]
struct BadRing;

fn ring(v: &serde_json::Value) -> Result<Vec<[f64; 2]>, BadRing> {
    let pts = v.as_array().ok_or(BadRing)?;
    let mut out = Vec::with_capacity(pts.len());
    for p in pts {
        let (x, y) = match p.as_array().map(|a| a.as_slice()) {
            Some([x, y, ..]) => (x.as_f64().ok_or(BadRing)?, y.as_f64().ok_or(BadRing)?),
            _ => return Err(BadRing),
        };
        if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
            return Err(BadRing);
        }
        out.push([x, y]);
    }
    if out.len() < 3 {
        return Err(BadRing);
    }
    Ok(out)
}

fn polygon(v: &serde_json::Value) -> Result<Vec<Vec<[f64; 2]>>, BadRing> {
    v.as_array().ok_or(BadRing)?.iter().map(ring).collect()
}

fn collect(v: &serde_json::Value, out: &mut Rings) -> Result<(), BadRing> {
    match v.get("type").and_then(|t| t.as_str()) {
        Some("FeatureCollection") => {
            for f in v
                .get("features")
                .and_then(|f| f.as_array())
                .into_iter()
                .flatten()
            {
                collect(f, out)?;
            }
        }
        Some("Feature") => {
            if let Some(g) = v.get("geometry") {
                collect(g, out)?;
            }
        }
        Some("GeometryCollection") => {
            for g in v
                .get("geometries")
                .and_then(|g| g.as_array())
                .into_iter()
                .flatten()
            {
                collect(g, out)?;
            }
        }
        Some("Polygon") => out.push(polygon(v.get("coordinates").ok_or(BadRing)?)?),
        Some("MultiPolygon") => {
            for p in v
                .get("coordinates")
                .and_then(|c| c.as_array())
                .ok_or(BadRing)?
            {
                out.push(polygon(p)?);
            }
        }
        _ => {}
    }
    Ok(())
}

impl Serialize for Area {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_geojson().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Area {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Area, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let mut polygons = Rings::new();
        collect(&v, &mut polygons).map_err(|BadRing| {
            serde::de::Error::custom("an area's rings need 3 valid positions")
        })?;
        if polygons.is_empty() {
            return Err(serde::de::Error::custom(
                "an area must be a Polygon or MultiPolygon",
            ));
        }
        Ok(Area::new(polygons))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_edges_and_multipolygons() {
        let a = Area::from_geojson(
            r#"{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[
                [[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]],
                [[[20,20],[30,20],[25,30],[20,20]]]]}}"#,
            "a.geojson",
        )
        .unwrap();
        assert!(a.contains(1.0, 1.0));
        assert!(!a.contains(5.0, 5.0), "in the hole");
        assert!(a.contains(4.0, 5.0), "on the hole's edge");
        assert!(
            a.contains(10.0, 5.0) && a.contains(0.0, 0.0),
            "on the outer edge"
        );
        assert!(!a.contains(10.5, 5.0));
        assert!(a.contains(25.0, 25.0) && !a.contains(21.0, 29.0));
        assert_eq!(a.vertices(), 11);
        // The saved form reads back the same.
        let back: Area = serde_json::from_value(a.to_geojson()).unwrap();
        assert_eq!(back, a);
        assert!(matches!(
            Area::from_geojson(r#"{"type":"Point","coordinates":[1,2]}"#, "p.geojson"),
            Err(AreaError::NoPolygon { .. })
        ));
        assert!(matches!(
            Area::from_geojson("{", "x.geojson"),
            Err(AreaError::Json { .. })
        ));
    }

    #[test]
    fn banded_test_agrees_with_geo() {
        use geo::{Contains, Coord, LineString, Polygon};
        // A jagged 100-vertex star.
        let mut r = crate::synth::Rng::new(3);
        let ring: Vec<[f64; 2]> = (0..100)
            .map(|k| {
                let t = std::f64::consts::TAU * k as f64 / 100.0;
                let rad = 1.0 + r.unit() * 2.0;
                [44.0 + rad * t.cos(), 33.0 + rad * t.sin()]
            })
            .collect();
        let a = Area::new(vec![vec![ring.clone()]]);
        let g = Polygon::new(
            LineString::from(
                ring.iter()
                    .map(|p| Coord { x: p[0], y: p[1] })
                    .collect::<Vec<_>>(),
            ),
            vec![],
        );
        for _ in 0..20_000 {
            let (x, y) = (41.0 + r.unit() * 6.0, 30.0 + r.unit() * 6.0);
            assert_eq!(
                a.contains(x, y),
                g.contains(&geo::Point::new(x, y)),
                "{x} {y}"
            );
        }
    }
}
