//! The density layer: incidents counted in hexagons of a fixed size on the screen (at each whole
//! zoom level), coloured on a scale fixed over every date under the other filters, so playback
//! frames, series frames and small-multiple panels compare.

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

/// The colour of `count` on a scale up to `max`: light yellow to dark purple (viridis-like,
/// readable on the basemap and by colour-blind readers), on a square-root scale.
pub fn ramp(count: u32, max: u32) -> [u8; 3] {
    const STOPS: [[u8; 3]; 5] = [
        [0xFD, 0xE7, 0x25],
        [0x5E, 0xC9, 0x62],
        [0x21, 0x91, 0x8C],
        [0x3B, 0x52, 0x8B],
        [0x44, 0x01, 0x54],
    ];
    let t = if max == 0 {
        0.0
    } else {
        (count.min(max) as f64 / max as f64).sqrt()
    };
    let x = t * (STOPS.len() - 1) as f64;
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
