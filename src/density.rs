//! The density layers: incidents counted in hexagons of a fixed size on the screen (at each whole
//! zoom level), coloured on a scale fixed over every date under the other filters, so playback
//! frames, series frames and small-multiple panels compare; or a heat map, the incidents' kernel
//! density on a fine grid, on a scale fixed over every date in the area drawn.

use rustc_hash::FxHashMap;

use crate::projection::{merc_x, merc_y};
use crate::store::Store;

/// Which layer draws the incidents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
pub enum Layer {
    /// Symbols, clusters and stacks.
    #[default]
    Points,
    /// Hexagons coloured by count.
    Hexbin,
    /// A heat map: kernel density (Gaussian, σ = 10 points).
    Heat,
}

/// Hexagon radius in screen points.
pub const HEX_RADIUS: f64 = 14.0;

/// Hexagon counts at one whole zoom level.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hexbin {
    /// The zoom level the grid is laid out at.
    pub zoom: i32,
    /// Axial coordinates `(q, r)` and the incidents in each hexagon.
    pub cells: Vec<((i32, i32), u32)>,
}

/// World pixels at `zoom` (256 · 2^zoom).
fn world(zoom: i32) -> f64 {
    256.0 * 2f64.powi(zoom)
}

/// The hexagon holding world pixel `(x, y)` (pointy-top axial coordinates, cube rounding).
fn hex_of(x: f64, y: f64) -> (i32, i32) {
    let q = (3f64.sqrt() / 3.0 * x - y / 3.0) / HEX_RADIUS;
    let r = (2.0 / 3.0 * y) / HEX_RADIUS;
    let s = -q - r;
    let (mut rq, mut rr, rs) = (q.round(), r.round(), s.round());
    let (dq, dr, ds) = ((rq - q).abs(), (rr - r).abs(), (rs - s).abs());
    if dq > dr && dq > ds {
        rq = -rr - rs;
    } else if dr > ds {
        rr = -rq - rs;
    }
    (rq as i32, rr as i32)
}

/// The centre of hexagon `(q, r)` in Mercator units at `zoom`.
pub fn center(zoom: i32, (q, r): (i32, i32)) -> (f64, f64) {
    let x = HEX_RADIUS * 3f64.sqrt() * (q as f64 + r as f64 / 2.0);
    let y = HEX_RADIUS * 1.5 * r as f64;
    let w = world(zoom);
    (x / w, y / w)
}

/// Hexagon radius in Mercator units at `zoom`.
pub fn radius(zoom: i32) -> f64 {
    HEX_RADIUS / world(zoom)
}

impl Hexbin {
    /// Counts `indices` of `store` at `zoom` (clamped to 0–19).
    pub fn of(store: &Store, indices: &[u32], zoom: i32) -> Hexbin {
        Hexbin::of_merc(
            indices.iter().map(|&i| {
                let i = i as usize;
                (merc_x(store.lon[i]), merc_y(store.lat[i]))
            }),
            zoom,
        )
    }

    /// Counts a selection prepared for clustering, in Morton order with the Mercator positions
    /// the cluster index keeps (no trigonometry, and neighbours one after another: the window's
    /// way).
    pub fn of_index(
        index: &crate::cluster::ClusterIndex,
        sel: &crate::cluster::ClusterSel,
        zoom: i32,
    ) -> Hexbin {
        Hexbin::of_merc(
            sel.ranks().map(|r| {
                let (x, y) = index.xy[r];
                (x as f64, y as f64)
            }),
            zoom,
        )
    }

    /// Counts Mercator positions at `zoom` (clamped to 0–19).
    pub fn of_merc(points: impl Iterator<Item = (f64, f64)>, zoom: i32) -> Hexbin {
        let zoom = zoom.clamp(0, 19);
        let w = world(zoom);
        let mut m: FxHashMap<(i32, i32), u32> = FxHashMap::default();
        // Runs of points in one hexagon (common: incidents coded to one place) skip the map.
        let mut last: Option<((i32, i32), u32)> = None;
        for (x, y) in points {
            let h = hex_of(x * w, y * w);
            match &mut last {
                Some((lh, n)) if *lh == h => *n += 1,
                _ => {
                    if let Some((lh, n)) = last.take() {
                        *m.entry(lh).or_default() += n;
                    }
                    last = Some((h, 1));
                }
            }
        }
        if let Some((lh, n)) = last {
            *m.entry(lh).or_default() += n;
        }
        let mut cells: Vec<((i32, i32), u32)> = m.into_iter().collect();
        cells.sort_unstable();
        Hexbin { zoom, cells }
    }

    /// The largest count.
    pub fn max(&self) -> u32 {
        self.cells.iter().map(|c| c.1).max().unwrap_or(0)
    }
}

/// The hexagon of every incident of a cluster index at one zoom, the hexagons numbered in
/// order, so that counting a selection is adding up (no geometry and no hashing per count: the
/// window counts again on every frame of a timeline drag).
#[derive(Debug, Clone)]
pub struct HexSlots {
    /// The zoom level the grid is laid out at (0–19).
    pub zoom: i32,
    /// Per rank of the index, its hexagon's number.
    slot: Vec<u32>,
    /// The hexagons, sorted.
    hexes: Vec<(i32, i32)>,
}

impl HexSlots {
    /// Places every incident of `index` at `zoom` (clamped to 0–19).
    pub fn of_index(index: &crate::cluster::ClusterIndex, zoom: i32) -> HexSlots {
        let zoom = zoom.clamp(0, 19);
        let w = world(zoom);
        let hex: Vec<(i32, i32)> = index
            .xy
            .iter()
            .map(|&(x, y)| hex_of(x as f64 * w, y as f64 * w))
            .collect();
        let mut hexes = hex.clone();
        hexes.sort_unstable();
        hexes.dedup();
        let slot = hex
            .iter()
            .map(|h| hexes.binary_search(h).unwrap_or(0) as u32)
            .collect();
        HexSlots { zoom, slot, hexes }
    }

    /// Counts a selection of the same index: the same as [`Hexbin::of_index`], faster.
    pub fn count(&self, sel: &crate::cluster::ClusterSel) -> Hexbin {
        let mut n = vec![0u32; self.hexes.len()];
        for r in sel.ranks() {
            if let Some(&s) = self.slot.get(r) {
                n[s as usize] += 1;
            }
        }
        Hexbin {
            zoom: self.zoom,
            cells: self
                .hexes
                .iter()
                .zip(n)
                .filter(|&(_, c)| c > 0)
                .map(|(&h, c)| (h, c))
                .collect(),
        }
    }
}

/// Heat map grid cell, in screen points at its whole zoom level.
pub const HEAT_CELL: f64 = 4.0;
/// Heat map kernel: a Gaussian of this standard deviation, in screen points, cut just beyond 3σ.
pub const HEAT_SIGMA: f64 = 10.0;
/// The kernel's reach in cells (3σ, rounded up: 8 cells, 3.2σ).
const HEAT_REACH: i64 = (3.0 * HEAT_SIGMA / HEAT_CELL) as i64 + 1;

/// A heat map: the kernel density of incidents on a grid of [`HEAT_CELL`]-point cells at one
/// whole zoom level, over an area of cells. In units of incidents: a lone incident scores 1 at
/// its own cell, and e^-1/2 ≈ 0.61 one σ away.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatGrid {
    /// The zoom level the grid is laid out at (0–19).
    pub zoom: i32,
    /// The first cell column and row (cells from the world's west and north edges).
    pub x0: i64,
    /// The first cell row.
    pub y0: i64,
    /// Columns.
    pub w: usize,
    /// Rows.
    pub h: usize,
    /// Densities, row by row.
    pub v: Vec<f32>,
}

impl HeatGrid {
    /// Cells per world side at `zoom`.
    pub fn cells(zoom: i32) -> f64 {
        world(zoom.clamp(0, 19)) / HEAT_CELL
    }

    /// The density of `points` (Mercator units) over cells `[x0, x1) × [y0, y1)` at `zoom`
    /// (incidents up to the kernel's reach outside count too).
    pub fn of(
        points: impl Iterator<Item = (f64, f64)>,
        zoom: i32,
        area: (i64, i64, i64, i64),
    ) -> HeatGrid {
        let zoom = zoom.clamp(0, 19);
        let (w, h) = size(area);
        let mut v = Vec::with_capacity(w * h);
        field(points, zoom, area, |row| v.extend_from_slice(row));
        HeatGrid {
            zoom,
            x0: area.0,
            y0: area.1,
            w,
            h,
            v,
        }
    }

    /// The highest density of `points` over the area, without keeping the grid.
    pub fn max_of(
        points: impl Iterator<Item = (f64, f64)>,
        zoom: i32,
        area: (i64, i64, i64, i64),
    ) -> f32 {
        let mut max = 0f32;
        field(points, zoom.clamp(0, 19), area, |row| {
            max = row.iter().copied().fold(max, f32::max)
        });
        max
    }

    /// The highest density.
    pub fn max(&self) -> f32 {
        self.v.iter().copied().fold(0.0, f32::max)
    }
}

/// Columns and rows of an area of cells.
fn size((x0, y0, x1, y1): (i64, i64, i64, i64)) -> (usize, usize) {
    ((x1 - x0).max(0) as usize, (y1 - y0).max(0) as usize)
}

/// The kernel density over an area, handed out row by row: the points counted into cells (with
/// the kernel's reach around), then two passes of a 1-D kernel, the Gaussian being separable;
/// the counts are freed before the second pass, which keeps one row at a time.
fn field(
    points: impl Iterator<Item = (f64, f64)>,
    zoom: i32,
    area: (i64, i64, i64, i64),
    mut row_out: impl FnMut(&[f32]),
) {
    let n = HeatGrid::cells(zoom);
    let r = HEAT_REACH;
    let (w, h) = size(area);
    let (ww, hh) = (w + 2 * r as usize, h + 2 * r as usize);
    let mut count = vec![0f32; ww * hh];
    for (x, y) in points {
        let cx = (x * n).floor() as i64 - (area.0 - r);
        let cy = (y * n).floor() as i64 - (area.1 - r);
        if (0..ww as i64).contains(&cx) && (0..hh as i64).contains(&cy) {
            count[cy as usize * ww + cx as usize] += 1.0;
        }
    }
    let k: Vec<f32> = (-r..=r)
        .map(|d| {
            let p = d as f64 * HEAT_CELL / HEAT_SIGMA;
            (-0.5 * p * p).exp() as f32
        })
        .collect();
    // Across: every row, only the columns kept.
    let mut across = vec![0f32; w * hh];
    for row in 0..hh {
        let src = &count[row * ww..(row + 1) * ww];
        if src.iter().all(|&c| c == 0.0) {
            continue;
        }
        for col in 0..w {
            let win = &src[col..col + k.len()];
            across[row * w + col] = win.iter().zip(&k).map(|(a, b)| a * b).sum();
        }
    }
    drop(count);
    // Down: only the rows kept.
    let mut out = vec![0f32; w];
    for row in 0..h {
        out.fill(0.0);
        for (j, kj) in k.iter().enumerate() {
            let src = &across[(row + j) * w..(row + j + 1) * w];
            for (o, &a) in out.iter_mut().zip(src) {
                *o += a * kj;
            }
        }
        row_out(&out);
    }
}

/// The colour of `count` on a scale up to `max`: light yellow to dark purple (viridis-like,
/// readable on the basemap and by colour-blind readers), on a square-root scale.
pub fn ramp(count: u32, max: u32) -> [u8; 3] {
    let t = if max == 0 {
        0.0
    } else {
        (count.min(max) as f64 / max as f64).sqrt()
    };
    ramp_at(t)
}

/// The colour at `t` in [0, 1] along the ramp (already on the square-root scale).
pub fn ramp_at(t: f64) -> [u8; 3] {
    const STOPS: [[u8; 3]; 5] = [
        [0xFD, 0xE7, 0x25],
        [0x5E, 0xC9, 0x62],
        [0x21, 0x91, 0x8C],
        [0x3B, 0x52, 0x8B],
        [0x44, 0x01, 0x54],
    ];
    let x = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let k = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - k as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    [mix(a[0], b[0]), mix(a[1], b[1]), mix(a[2], b[2])]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_point_falls_in_the_hexagon_whose_centre_is_nearest() {
        let mut r = crate::synth::Rng::new(4);
        for _ in 0..5000 {
            let (x, y) = (r.unit() * 10_000.0, r.unit() * 10_000.0);
            let h = hex_of(x, y);
            let c = center(0, h);
            let (cx, cy) = (c.0 * 256.0, c.1 * 256.0);
            let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
            assert!(d <= HEX_RADIUS + 1e-9, "{x} {y} {d}");
            // No neighbour is nearer.
            for (dq, dr) in [(1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1)] {
                let n = center(0, (h.0 + dq, h.1 + dr));
                let dn = ((x - n.0 * 256.0).powi(2) + (y - n.1 * 256.0).powi(2)).sqrt();
                assert!(dn + 1e-9 >= d);
            }
        }
    }

    #[test]
    fn slots_count_what_the_hexbin_counts() {
        let mut csv = String::from("lat,lon,date,type\n");
        let mut r = crate::synth::Rng::new(9);
        for k in 0..3000 {
            let (lat, lon) = (29.0 + r.unit() * 8.0, 39.0 + r.unit() * 9.0);
            csv += &format!("{lat},{lon},2021-{:02}-10,T{}\n", 1 + k % 12, k % 3);
        }
        let s = Store::from_csv(&csv);
        let index = crate::cluster::ClusterIndex::build(&s);
        let filters = [
            crate::query::Filter::default(),
            crate::query::Filter::default()
                .with_from("2021-03-01")
                .unwrap()
                .with_to("2021-05-31")
                .unwrap(),
        ];
        for zoom in [0, 5, 9, 14] {
            let slots = HexSlots::of_index(&index, zoom);
            for f in &filters {
                let sel = index.select(&s.select(f).unwrap());
                let want = Hexbin::of_index(&index, &sel, zoom);
                assert!(!want.cells.is_empty());
                assert_eq!(slots.count(&sel), want, "zoom {zoom}");
            }
        }
    }

    #[test]
    fn a_lone_incident_scores_one_and_the_kernel_is_a_gaussian() {
        let zoom = 8;
        let n = HeatGrid::cells(zoom);
        // An incident in the middle of cell (1000, 2000).
        let p = ((1000.5) / n, (2000.5) / n);
        let g = HeatGrid::of(std::iter::once(p), zoom, (990, 1990, 1011, 2011));
        let at = |x: i64, y: i64| g.v[(y - g.y0) as usize * g.w + (x - g.x0) as usize];
        assert!((at(1000, 2000) - 1.0).abs() < 1e-6);
        assert!((g.max() - 1.0).abs() < 1e-6);
        // Symmetric; σ = 2.5 cells: 5 cells away e^-2.
        assert_eq!(at(995, 2000), at(1005, 2000));
        assert_eq!(at(1000, 1995), at(1000, 2005));
        assert!((at(1005, 2000) - (-2.0f32).exp()).abs() < 1e-6);
        assert!((at(1003, 2004) - at(1003, 2000) * at(1000, 2004)).abs() < 1e-6);
        // Beyond the kernel's reach: nothing; an incident just outside the area still counts.
        assert_eq!(at(990, 2000), 0.0);
        let g2 = HeatGrid::of(std::iter::once(p), zoom, (1003, 1990, 1020, 2011));
        assert!(g2.v[(2000 - g2.y0) as usize * g2.w] > 0.0);
        // Two incidents in one cell: twice; the max without the grid is the grid's max.
        let g3 = HeatGrid::of([p, p].into_iter(), zoom, (990, 1990, 1011, 2011));
        assert!((g3.max() - 2.0).abs() < 1e-6);
        let far = (p.0 + 3.0 / n, p.1 + 1.0 / n);
        let g4 = HeatGrid::of([p, far, far].into_iter(), zoom, (990, 1990, 1011, 2011));
        assert_eq!(
            HeatGrid::max_of([p, far, far].into_iter(), zoom, (990, 1990, 1011, 2011)),
            g4.max()
        );
        // An empty area: no cells, no panic.
        assert!(
            HeatGrid::of(std::iter::once(p), zoom, (5, 5, 5, 9))
                .v
                .is_empty()
        );
    }

    #[test]
    fn counts_and_the_ramp() {
        let s = Store::from_csv(
            "lat,lon,date,type\n33.786,42.441,2021-06-06,A\n33.786,42.441,2021-06-07,A\n30,47,2021-06-07,B\n",
        );
        let all: Vec<u32> = (0..3).collect();
        let h = Hexbin::of(&s, &all, 8);
        assert_eq!(h.cells.len(), 2);
        assert_eq!(h.max(), 2);
        assert_eq!(ramp(0, 10), [0xFD, 0xE7, 0x25]);
        assert_eq!(ramp(10, 10), [0x44, 0x01, 0x54]);
        assert_eq!(
            ramp(20, 10),
            ramp(10, 10),
            "counts beyond the scale saturate"
        );
    }
}
