//! What the map draws at a zoom, as data: quadtree cells of the selected incidents (count,
//! Mercator centroid, count per type), merged where closer than the map merges them. The same
//! answer whether the incidents are in a file (counted here from the cluster index) or in a
//! PostGIS table (counted by the server, see [`crate::db`]): `incident-map clusters` prints it.

use std::collections::BTreeMap;

use crate::cluster::{ClusterIndex, merge_groups};
use crate::projection::{MercRect, lat_of, lon_of, merc_x, merc_y, world_px};
use crate::query::{BBox, Selection};
use crate::store::Store;

/// Cells are this many levels below the zoom (a cell at zoom + 2 is 64 px), as on the map.
pub const LEVELS_BELOW_ZOOM: u32 = 2;
/// Clusters whose centres are closer than this many pixels are merged, as on the map.
pub const MERGE_PX: f64 = 44.0;

/// One quadtree cell's selected incidents.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Column at the level.
    pub cx: u64,
    /// Row at the level.
    pub cy: u64,
    /// Incidents in it.
    pub count: u64,
    /// Sum of their Mercator x.
    pub sx: f64,
    /// Sum of their Mercator y.
    pub sy: f64,
    /// Incidents per type name.
    pub types: BTreeMap<String, u64>,
}

impl Cell {
    /// An empty cell.
    pub fn new(cx: u64, cy: u64) -> Cell {
        Cell {
            cx,
            cy,
            count: 0,
            sx: 0.0,
            sy: 0.0,
            types: BTreeMap::new(),
        }
    }

    /// Adds `n` incidents of type `kind` whose Mercator positions sum to `(sx, sy)`.
    pub fn add(&mut self, n: u64, sx: f64, sy: f64, kind: &str) {
        self.count += n;
        self.sx += sx;
        self.sy += sy;
        match self.types.get_mut(kind) {
            Some(c) => *c += n,
            None => {
                self.types.insert(kind.to_string(), n);
            }
        }
    }
}

/// One cluster as drawn.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClusterOut {
    /// Longitude of the centroid.
    pub lon: f64,
    /// Latitude of the centroid.
    pub lat: f64,
    /// Incidents.
    pub count: u64,
    /// Incidents per type.
    pub types: BTreeMap<String, u64>,
}

/// The quadtree level, the Mercator box and the merge distance for a zoom and an optional box
/// (the whole world without one).
pub fn view_for(zoom: f64, bbox: Option<BBox>) -> (u32, MercRect, f64) {
    let level = (zoom.round().max(0.0) as u32 + LEVELS_BELOW_ZOOM).min(30);
    let view = match bbox {
        Some(b) => MercRect {
            x0: merc_x(b.min_lon),
            y0: merc_y(b.max_lat),
            x1: merc_x(b.max_lon),
            y1: merc_y(b.min_lat),
        },
        None => MercRect {
            x0: 0.0,
            y0: 0.0,
            x1: 1.0,
            y1: 1.0,
        },
    };
    (level, view, MERGE_PX / world_px(zoom))
}

/// The cell range `[c0, c1]` (columns or rows) covering `[v0, v1]` at `level`.
pub fn cell_span(v0: f64, v1: f64, level: u32) -> (u64, u64) {
    let side = 1u64 << level;
    let c = |v: f64| ((v * side as f64).floor().clamp(0.0, (side - 1) as f64)) as u64;
    (c(v0), c(v1))
}

/// The column and row of a Morton code's cell at `level` (`level` ≤ 32).
pub fn cell_of_code(code: u64, level: u32) -> (u64, u64) {
    if level == 0 {
        return (0, 0);
    }
    let key = code >> (64 - 2 * level);
    (compact(key), compact(key >> 1))
}

/// The Morton key of cell `(cx, cy)` at `level` (the top `2·level` bits of its codes).
pub fn code_of_cell(cx: u64, cy: u64, level: u32) -> u64 {
    let mut k = 0u64;
    for b in 0..level.min(32) {
        k |= ((cx >> b) & 1) << (2 * b) | ((cy >> b) & 1) << (2 * b + 1);
    }
    k
}

/// Every other bit of `v`, packed (the inverse of the Morton spread).
fn compact(v: u64) -> u64 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF
}

/// Cells `[cx0, cx1] × [cy0, cy1]` at a quadtree level.
pub type CellSpan = ((u64, u64), (u64, u64));

/// The cells covering `view` at `level`.
pub fn span_of(view: MercRect, level: u32) -> CellSpan {
    (
        cell_span(view.x0, view.x1, level),
        cell_span(view.y0, view.y1, level),
    )
}

/// The cells of a store's selected incidents in `span` at `level`, in row then column order.
pub fn store_cells(
    store: &Store,
    index: &ClusterIndex,
    sel: &Selection,
    ((cx0, cx1), (cy0, cy1)): CellSpan,
    level: u32,
) -> Vec<Cell> {
    let mut cells: BTreeMap<(u64, u64), Cell> = BTreeMap::new();
    for &i in &sel.indices {
        let r = index.rank[i as usize] as usize;
        let (cx, cy) = cell_of_code(index.codes[r], level);
        if cx < cx0 || cx > cx1 || cy < cy0 || cy > cy1 {
            continue;
        }
        let (x, y) = index.xy[r];
        cells
            .entry((cy, cx))
            .or_insert_with(|| Cell::new(cx, cy))
            .add(1, x as f64, y as f64, store.type_name(i as usize));
    }
    cells.into_values().collect()
}

/// Cells merged as the map merges them, as clusters the map draws (a table's view in the
/// window): `type_id` names each type with the id the window's store gives it.
pub fn to_clusters(
    cells: &[&Cell],
    level: u32,
    merge: f64,
    type_id: impl Fn(&str) -> u32,
) -> Vec<crate::cluster::Cluster> {
    let size = 1.0 / (1u64 << level.min(62)) as f64;
    let points: Vec<(f64, f64, u64)> = cells
        .iter()
        .map(|c| (c.sx / c.count as f64, c.sy / c.count as f64, c.count))
        .collect();
    merge_groups(&points, merge)
        .into_iter()
        .map(|group| {
            let mut count = 0;
            let (mut sx, mut sy) = (0.0, 0.0);
            let mut types: BTreeMap<u32, u32> = BTreeMap::new();
            let mut bounds: Option<MercRect> = None;
            for &g in &group {
                let c = cells[g];
                count += c.count;
                sx += c.sx;
                sy += c.sy;
                for (t, n) in &c.types {
                    *types.entry(type_id(t)).or_default() += *n as u32;
                }
                let b = MercRect {
                    x0: c.cx as f64 * size,
                    y0: c.cy as f64 * size,
                    x1: (c.cx + 1) as f64 * size,
                    y1: (c.cy + 1) as f64 * size,
                };
                bounds = Some(match bounds {
                    None => b,
                    Some(a) => MercRect {
                        x0: a.x0.min(b.x0),
                        y0: a.y0.min(b.y0),
                        x1: a.x1.max(b.x1),
                        y1: a.y1.max(b.y1),
                    },
                });
            }
            crate::cluster::Cluster {
                count: count as u32,
                x: sx / count as f64,
                y: sy / count as f64,
                ranges: Vec::new(),
                single: None,
                stack: false,
                types: types.into_iter().collect(),
                bounds: bounds.unwrap_or(MercRect {
                    x0: 0.0,
                    y0: 0.0,
                    x1: 1.0,
                    y1: 1.0,
                }),
            }
        })
        .collect()
}

/// Merges cells as the map does and gives the clusters, biggest first (ties by position).
pub fn merge_cells(cells: Vec<Cell>, merge: f64) -> Vec<ClusterOut> {
    let points: Vec<(f64, f64, u64)> = cells
        .iter()
        .map(|c| (c.sx / c.count as f64, c.sy / c.count as f64, c.count))
        .collect();
    let mut out: Vec<ClusterOut> = merge_groups(&points, merge)
        .into_iter()
        .map(|group| {
            let count: u64 = group.iter().map(|&g| cells[g].count).sum();
            let (sx, sy) = group
                .iter()
                .fold((0.0, 0.0), |(x, y), &g| (x + cells[g].sx, y + cells[g].sy));
            let mut types = BTreeMap::new();
            for &g in &group {
                for (t, n) in &cells[g].types {
                    *types.entry(t.clone()).or_default() += n;
                }
            }
            // Six decimals (about 0.1 m): the same text whatever order the sums were made in.
            let round = |v: f64| (v * 1e6).round() / 1e6;
            ClusterOut {
                lon: round(lon_of(sx / count as f64)),
                lat: round(lat_of(sy / count as f64)),
                count,
                types,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.lat.total_cmp(&b.lat))
            .then(a.lon.total_cmp(&b.lon))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::morton;

    #[test]
    fn cells_of_codes_invert_the_morton_spread() {
        for (lon, lat) in [(42.441, 33.786), (-179.0, -80.0), (179.9, 84.0), (0.0, 0.0)] {
            let (x, y) = (merc_x(lon), merc_y(lat));
            let code = morton(x, y);
            for level in [0, 1, 5, 12, 20, 30] {
                let (cx, cy) = cell_of_code(code, level);
                let side = (1u64 << level) as f64;
                // The code quantises to 2^32 − 1 steps, so a point on a cell edge (0° is one)
                // may fall one cell lower than the exact floor.
                let near = |c: u64, v: f64| {
                    let want = (v * side).floor().min(side - 1.0) as u64;
                    c == want || c + 1 == want
                };
                assert!(near(cx, x), "{lon} {level}");
                assert!(near(cy, y), "{lat} {level}");
                if level > 0 {
                    assert_eq!(code_of_cell(cx, cy, level), code >> (64 - 2 * level));
                }
            }
        }
    }

    #[test]
    fn store_cells_agree_with_the_maps_clusters() {
        let s = Store::from_csv(
            "lat,lon,date,type\n33.786,42.441,2021-06-06,Interception\n33.786,42.441,2021-05-08,Drone attack\n33.2625,44.2344,2021-06-05,Interception\n36.2376,43.9632,2021-02-15,Rocket attack\n",
        );
        let index = ClusterIndex::build(&s);
        let sel = s.select(&Default::default()).unwrap();
        // Views the size of a screen at each zoom (the map never asks for more cells).
        for (zoom, bbox) in [
            (2.0, None),
            (5.0, None),
            (9.0, Some("40,32,46,37")),
            (14.0, Some("42.40,33.70,42.50,33.80")),
        ] {
            let bbox = bbox.map(|b| BBox::parse(b).unwrap());
            let (level, view, merge) = view_for(zoom, bbox);
            let ours = merge_cells(
                store_cells(&s, &index, &sel, span_of(view, level), level),
                merge,
            );
            let csel = index.select(&sel);
            let map = index.clusters(&csel, view, level, merge);
            let mut counts: Vec<u64> = map.iter().map(|c| c.count as u64).collect();
            counts.sort_unstable_by(|a, b| b.cmp(a));
            assert_eq!(
                ours.iter().map(|c| c.count).collect::<Vec<_>>(),
                counts,
                "zoom {zoom}"
            );
            assert!(!ours.is_empty());
        }
        let (level, view, merge) = view_for(14.0, None);
        let c = merge_cells(
            store_cells(&s, &index, &sel, span_of(view, level), level),
            merge,
        );
        assert_eq!(c[0].count, 2);
        assert_eq!(c[0].types["Drone attack"], 1);
        assert!((c[0].lat - 33.786).abs() < 1e-5 && (c[0].lon - 42.441).abs() < 1e-5);
    }
}
