//! Multi-zoom clustering for millions of incidents.
//!
//! Incidents are sorted once along a Z-order (Morton) curve of their Web Mercator position. Every
//! quadtree cell at every zoom is then a contiguous range of that order, found by binary search.
//! A filter change turns the selection into a bitset over that order with per-word prefix counts,
//! coordinate sums and per-type counts, so that any cell's count, centroid and type breakdown
//! cost O(1) — clustering a screen is a few hundred lookups whatever the number of incidents, and
//! the clusters always reflect the current filter.

pub use crate::projection::MercRect;
use crate::projection::{merc_x, merc_y};
use crate::query::Selection;
use crate::store::Store;

/// Types given their own per-type counts (the donut slices); the rest count as "other".
pub const MAX_TYPED: usize = 15;

fn spread(v: u32) -> u64 {
    let mut x = v as u64;
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

fn to_u32(v: f64) -> u32 {
    (v.clamp(0.0, 1.0) * 4_294_967_295.0) as u32
}

/// Morton code of a Mercator position (x bits in even positions).
pub fn morton(x: f64, y: f64) -> u64 {
    spread(to_u32(x)) | (spread(to_u32(y)) << 1)
}

/// The static part of the index: built once per loaded data set.
#[derive(Debug, Clone, Default)]
pub struct ClusterIndex {
    /// Rank → incident index, in Morton order.
    pub order: Vec<u32>,
    /// Rank → Morton code (ascending).
    pub codes: Vec<u64>,
    /// Incident index → rank.
    pub rank: Vec<u32>,
    /// Rank → Mercator x, y.
    pub xy: Vec<(f32, f32)>,
    /// Type ids that get their own counts, most frequent first.
    pub typed: Vec<u32>,
    /// For each of `typed`: bitset over ranks of incidents of that type.
    type_bits: Vec<Vec<u64>>,
}

/// The per-filter part: which ranks are selected, with prefix sums per 64-rank word.
#[derive(Debug, Clone, Default)]
pub struct ClusterSel {
    bits: Vec<u64>,
    cnt: Vec<u32>,
    sx: Vec<f64>,
    sy: Vec<f64>,
    type_cnt: Vec<Vec<u32>>,
    /// Number of selected incidents.
    pub total: u32,
}

/// One cluster (or single incident) on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Selected incidents in it.
    pub count: u32,
    /// Mercator centroid of those incidents.
    pub x: f64,
    /// Mercator centroid y.
    pub y: f64,
    /// Rank ranges it covers.
    pub ranges: Vec<(usize, usize)>,
    /// The incident, when the cluster holds exactly one.
    pub single: Option<u32>,
    /// All its incidents share one exact position (a stack to expand into a list).
    pub stack: bool,
    /// Counts per type id for [`ClusterIndex::typed`] types, then `(u32::MAX, n)` for the rest.
    pub types: Vec<(u32, u32)>,
    /// Mercator bounds of its cells.
    pub bounds: MercRect,
}

impl ClusterIndex {
    /// Builds the index for every incident of the store.
    pub fn build(store: &Store) -> ClusterIndex {
        let n = store.len();
        let mut keyed: Vec<(u64, u32)> = (0..n)
            .map(|i| (morton(merc_x(store.lon[i]), merc_y(store.lat[i])), i as u32))
            .collect();
        keyed.sort_unstable();
        let mut rank = vec![0u32; n];
        let mut codes = Vec::with_capacity(n);
        let mut order = Vec::with_capacity(n);
        let mut xy = Vec::with_capacity(n);
        for (r, &(c, i)) in keyed.iter().enumerate() {
            rank[i as usize] = r as u32;
            codes.push(c);
            order.push(i);
            xy.push((
                merc_x(store.lon[i as usize]) as f32,
                merc_y(store.lat[i as usize]) as f32,
            ));
        }
        drop(keyed);
        let mut totals = vec![0u64; store.types.len()];
        for &k in &store.type_id {
            totals[k as usize] += 1;
        }
        let mut typed: Vec<u32> = (0..totals.len() as u32)
            .filter(|&t| totals[t as usize] > 0)
            .collect();
        typed.sort_by(|a, b| totals[*b as usize].cmp(&totals[*a as usize]).then(a.cmp(b)));
        typed.truncate(MAX_TYPED);
        let words = n.div_ceil(64);
        let mut slot = vec![usize::MAX; store.types.len()];
        for (s, &t) in typed.iter().enumerate() {
            slot[t as usize] = s;
        }
        let mut type_bits = vec![vec![0u64; words]; typed.len()];
        for (r, &i) in order.iter().enumerate() {
            let s = slot[store.type_id[i as usize] as usize];
            if s != usize::MAX {
                type_bits[s][r / 64] |= 1 << (r % 64);
            }
        }
        ClusterIndex {
            order,
            codes,
            rank,
            xy,
            typed,
            type_bits,
        }
    }

    /// Number of indexed incidents.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Prepares a selection for clustering.
    pub fn select(&self, sel: &Selection) -> ClusterSel {
        let n = self.len();
        let words = n.div_ceil(64);
        let mut bits = vec![0u64; words];
        for &i in &sel.indices {
            let r = self.rank[i as usize] as usize;
            bits[r / 64] |= 1 << (r % 64);
        }
        let mut cnt = Vec::with_capacity(words + 1);
        let mut sx = Vec::with_capacity(words + 1);
        let mut sy = Vec::with_capacity(words + 1);
        let (mut c, mut x, mut y) = (0u32, 0f64, 0f64);
        for (w, &word) in bits.iter().enumerate() {
            cnt.push(c);
            sx.push(x);
            sy.push(y);
            c += word.count_ones();
            let mut m = word;
            while m != 0 {
                let r = w * 64 + m.trailing_zeros() as usize;
                let (px, py) = self.xy[r];
                x += px as f64;
                y += py as f64;
                m &= m - 1;
            }
        }
        cnt.push(c);
        sx.push(x);
        sy.push(y);
        let type_cnt = self
            .type_bits
            .iter()
            .map(|tb| {
                let mut acc = 0u32;
                let mut v = Vec::with_capacity(words + 1);
                for (w, &word) in bits.iter().enumerate() {
                    v.push(acc);
                    acc += (word & tb[w]).count_ones();
                }
                v.push(acc);
                v
            })
            .collect();
        ClusterSel {
            bits,
            cnt,
            sx,
            sy,
            type_cnt,
            total: c,
        }
    }

    /// Clusters of the selected incidents inside `view` at quadtree `level` (cells of
    /// `1 / 2^level` Mercator units), with clusters closer than `merge` Mercator units merged.
    pub fn clusters(
        &self,
        sel: &ClusterSel,
        view: MercRect,
        level: u32,
        merge: f64,
    ) -> Vec<Cluster> {
        let level = level.min(31);
        let side = 1u64 << level;
        let cell = 1.0 / side as f64;
        let clampc = |v: f64| (v / cell).floor().clamp(0.0, (side - 1) as f64) as u64;
        let (cx0, cx1, cy0, cy1) = (
            clampc(view.x0),
            clampc(view.x1),
            clampc(view.y0),
            clampc(view.y1),
        );
        // A guard for absurd requests: never more than 64k cells.
        if (cx1 - cx0 + 1).saturating_mul(cy1 - cy0 + 1) > 65_536 {
            return Vec::new();
        }
        let mut out = Vec::new();
        for cy in cy0..=cy1 {
            for cx in cx0..=cx1 {
                let (a, b) = self.cell_range_aligned(level, cx, cy);
                let count = sel.count(a, b);
                if count == 0 {
                    continue;
                }
                let (sx, sy) = sel.sum(self, a, b);
                let bounds = MercRect {
                    x0: cx as f64 * cell,
                    y0: cy as f64 * cell,
                    x1: (cx + 1) as f64 * cell,
                    y1: (cy + 1) as f64 * cell,
                };
                out.push(self.make(
                    sel,
                    vec![(a, b)],
                    count,
                    sx / count as f64,
                    sy / count as f64,
                    bounds,
                ));
            }
        }
        if merge > 0.0 {
            out = self.merge(sel, out, merge);
        }
        out
    }

    /// Rank range `[a, b)` of quadtree cell `(cx, cy)` at `level`.
    fn cell_range_aligned(&self, level: u32, cx: u64, cy: u64) -> (usize, usize) {
        if level == 0 {
            return (0, self.codes.len());
        }
        // Cell (cx, cy) at `level` covers 32-bit coordinates with those top `level` bits.
        let shift = 32 - level;
        let lo = spread((cx << shift) as u32) | (spread((cy << shift) as u32) << 1);
        let span = 1u64 << (2 * shift);
        let a = self.codes.partition_point(|&c| c < lo);
        let b = match lo.checked_add(span) {
            Some(h) => self.codes.partition_point(|&c| c < h),
            None => self.codes.len(),
        };
        (a, b)
    }

    fn make(
        &self,
        sel: &ClusterSel,
        ranges: Vec<(usize, usize)>,
        count: u32,
        x: f64,
        y: f64,
        bounds: MercRect,
    ) -> Cluster {
        let first = ranges.iter().find_map(|&(a, b)| sel.first(a, b));
        let last = ranges.iter().rev().find_map(|&(a, b)| sel.last(a, b));
        let single = if count == 1 {
            first.map(|r| self.order[r])
        } else {
            None
        };
        let stack = count > 1
            && matches!((first, last), (Some(f), Some(l)) if self.codes[f] == self.codes[l]);
        let mut types: Vec<(u32, u32)> = Vec::new();
        let mut typed_sum = 0;
        for (s, &t) in self.typed.iter().enumerate() {
            let c: u32 = ranges
                .iter()
                .map(|&(a, b)| sel.type_count(self, s, a, b))
                .sum();
            if c > 0 {
                types.push((t, c));
                typed_sum += c;
            }
        }
        if count > typed_sum {
            types.push((u32::MAX, count - typed_sum));
        }
        Cluster {
            count,
            x,
            y,
            ranges,
            single,
            stack,
            types,
            bounds,
        }
    }

    fn merge(&self, sel: &ClusterSel, cl: Vec<Cluster>, merge: f64) -> Vec<Cluster> {
        let points: Vec<(f64, f64, u64)> = cl.iter().map(|c| (c.x, c.y, c.count as u64)).collect();
        merge_groups(&points, merge)
            .into_iter()
            .map(|group| {
                if let [only] = group[..] {
                    return cl[only].clone();
                }
                let count: u32 = group.iter().map(|&g| cl[g].count).sum();
                let x = group
                    .iter()
                    .map(|&g| cl[g].x * cl[g].count as f64)
                    .sum::<f64>()
                    / count as f64;
                let y = group
                    .iter()
                    .map(|&g| cl[g].y * cl[g].count as f64)
                    .sum::<f64>()
                    / count as f64;
                let mut ranges: Vec<(usize, usize)> = group
                    .iter()
                    .flat_map(|&g| cl[g].ranges.iter().copied())
                    .collect();
                ranges.sort_unstable();
                let b = group.iter().fold(cl[group[0]].bounds, |m, &g| {
                    let o = cl[g].bounds;
                    MercRect {
                        x0: m.x0.min(o.x0),
                        y0: m.y0.min(o.y0),
                        x1: m.x1.max(o.x1),
                        y1: m.y1.max(o.y1),
                    }
                });
                self.make(sel, ranges, count, x, y, b)
            })
            .collect()
    }

    /// Incident indices of the selected incidents in a cluster, in Morton (not time) order.
    pub fn members(&self, sel: &ClusterSel, c: &Cluster, limit: usize) -> Vec<u32> {
        let mut out = Vec::new();
        for &(a, b) in &c.ranges {
            let mut r = a;
            while r < b && out.len() < limit {
                match sel.next_set(r, b) {
                    Some(s) => {
                        out.push(self.order[s]);
                        r = s + 1;
                    }
                    None => break,
                }
            }
        }
        out
    }
}

/// Groups points `(x, y, count)` as the map merges clusters: biggest first (ties in the given
/// order), each taking every later point closer than `merge`. Files and database tables both
/// group through here, so they merge alike.
pub fn merge_groups(points: &[(f64, f64, u64)], merge: f64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(points[i].2));
    if merge <= 0.0 {
        return order.into_iter().map(|i| vec![i]).collect();
    }
    let mut taken = vec![false; points.len()];
    let r2 = merge * merge;
    let mut out = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if taken[i] {
            continue;
        }
        taken[i] = true;
        let mut group = vec![i];
        for &j in &order[k + 1..] {
            if !taken[j] {
                let (dx, dy) = (points[j].0 - points[i].0, points[j].1 - points[i].1);
                if dx * dx + dy * dy < r2 {
                    taken[j] = true;
                    group.push(j);
                }
            }
        }
        out.push(group);
    }
    out
}

fn mask_from(bit: usize) -> u64 {
    if bit >= 64 { 0 } else { !0u64 << bit }
}

impl ClusterSel {
    /// Selected count in rank range `[a, b)`.
    pub fn count(&self, a: usize, b: usize) -> u32 {
        if a >= b {
            return 0;
        }
        self.prefix(b) - self.prefix(a)
    }

    fn prefix(&self, r: usize) -> u32 {
        let (w, bit) = (r / 64, r % 64);
        let mut c = self.cnt[w];
        if bit > 0 {
            c += (self.bits[w] & !mask_from(bit)).count_ones();
        }
        c
    }

    fn sum(&self, idx: &ClusterIndex, a: usize, b: usize) -> (f64, f64) {
        let part = |r: usize| -> (f64, f64) {
            let (w, bit) = (r / 64, r % 64);
            let (mut x, mut y) = (self.sx[w], self.sy[w]);
            if bit > 0 {
                let mut m = self.bits[w] & !mask_from(bit);
                while m != 0 {
                    let p = idx.xy[w * 64 + m.trailing_zeros() as usize];
                    x += p.0 as f64;
                    y += p.1 as f64;
                    m &= m - 1;
                }
            }
            (x, y)
        };
        let (bx, by) = part(b);
        let (ax, ay) = part(a);
        (bx - ax, by - ay)
    }

    fn type_count(&self, idx: &ClusterIndex, s: usize, a: usize, b: usize) -> u32 {
        let tc = &self.type_cnt[s];
        let tb = &idx.type_bits[s];
        let prefix = |r: usize| {
            let (w, bit) = (r / 64, r % 64);
            let mut c = tc[w];
            if bit > 0 {
                c += (self.bits[w] & tb[w] & !mask_from(bit)).count_ones();
            }
            c
        };
        if a >= b { 0 } else { prefix(b) - prefix(a) }
    }

    /// Every selected rank, in Morton order (neighbours on the map come one after another).
    pub fn ranks(&self) -> impl Iterator<Item = usize> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, &word)| {
            let mut m = word;
            std::iter::from_fn(move || {
                if m == 0 {
                    return None;
                }
                let b = m.trailing_zeros() as usize;
                m &= m - 1;
                Some(w * 64 + b)
            })
        })
    }

    /// First selected rank in `[a, b)`.
    pub fn next_set(&self, a: usize, b: usize) -> Option<usize> {
        let mut r = a;
        while r < b {
            let (w, bit) = (r / 64, r % 64);
            let m = self.bits[w] & mask_from(bit);
            if m != 0 {
                let s = w * 64 + m.trailing_zeros() as usize;
                return (s < b).then_some(s);
            }
            r = (w + 1) * 64;
        }
        None
    }

    fn first(&self, a: usize, b: usize) -> Option<usize> {
        self.next_set(a, b)
    }

    fn last(&self, a: usize, b: usize) -> Option<usize> {
        if a >= b {
            return None;
        }
        let mut r = b; // exclusive
        while r > a {
            let end = r - 1;
            let (w, bit) = (end / 64, end % 64);
            let keep = if bit == 63 {
                !0u64
            } else {
                (1u64 << (bit + 1)) - 1
            };
            let m = self.bits[w] & keep;
            if m != 0 {
                let s = w * 64 + 63 - m.leading_zeros() as usize;
                return (s >= a).then_some(s);
            }
            r = w * 64;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Filter;

    fn store(rows: &str) -> Store {
        Store::from_csv(&format!("lat,lon,date,type\n{rows}"))
    }

    const WORLD: MercRect = MercRect {
        x0: 0.0,
        y0: 0.0,
        x1: 1.0,
        y1: 1.0,
    };

    fn iraq() -> MercRect {
        MercRect {
            x0: merc_x(42.0),
            y0: merc_y(37.0),
            x1: merc_x(45.0),
            y1: merc_y(33.0),
        }
    }

    #[test]
    fn cells_count_and_split_by_zoom() {
        let s = store(
            "33.786,42.441,2021-06-06,Interception\n33.786,42.441,2021-05-08,Drone attack\n\
             33.786,42.441,2021-03-03,Rocket attack\n33.2625,44.2344,2021-06-05,Interception\n\
             36.2376,43.9632,2021-02-15,Rocket attack\n",
        );
        let idx = ClusterIndex::build(&s);
        let all = idx.select(&s.select(&Filter::default()).unwrap());
        assert_eq!(all.total, 5);
        // One cell for the world at level 0.
        let c = idx.clusters(&all, WORLD, 0, 0.0);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].count, 5);
        let by_type: u32 = c[0].types.iter().map(|t| t.1).sum();
        assert_eq!(by_type, 5);
        // Fine cells separate the three places; Ain al-Asad is a stack of three.
        let c = idx.clusters(&all, iraq(), 12, 0.0);
        let mut counts: Vec<u32> = c.iter().map(|c| c.count).collect();
        counts.sort_unstable();
        assert_eq!(counts, vec![1, 1, 3]);
        let stack = c.iter().find(|c| c.count == 3).unwrap();
        assert!(stack.stack);
        assert_eq!(idx.members(&all, stack, 10).len(), 3);
        assert!(
            c.iter()
                .filter(|c| c.count == 1)
                .all(|c| c.single.is_some() && !c.stack)
        );
        // Merging with a large radius brings them back together.
        assert_eq!(idx.clusters(&all, iraq(), 12, 0.5).len(), 1);
        assert!(
            idx.clusters(&all, WORLD, 16, 0.0).is_empty(),
            "too many cells is refused"
        );
    }

    #[test]
    fn clusters_follow_the_filter() {
        let s = store(
            "33.786,42.441,2021-06-06,Interception\n33.786,42.441,2021-05-08,Drone attack\n36.2,43.9,2021-02-15,IED\n",
        );
        let idx = ClusterIndex::build(&s);
        let f = Filter {
            types: vec!["Interception".into()],
            ..Default::default()
        };
        let sel = idx.select(&s.select(&f).unwrap());
        let c = idx.clusters(&sel, iraq(), 10, 0.0);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].count, 1);
        assert_eq!(
            c[0].single.map(|i| s.type_name(i as usize)),
            Some("Interception")
        );
        // A view that misses the incident finds nothing.
        let east = MercRect {
            x0: 0.9,
            y0: 0.3,
            x1: 1.0,
            y1: 0.4,
        };
        assert!(idx.clusters(&sel, east, 10, 0.0).is_empty());
    }

    #[test]
    fn bit_ranges_are_exact() {
        // 200 points on a line: check counts over arbitrary ranges against brute force.
        let rows: String = (0..200)
            .map(|i| {
                format!(
                    "{},{},2021-01-01,T{}\n",
                    (i % 50) as f64 * 0.5,
                    i as f64 * 0.7 - 60.0,
                    i % 3
                )
            })
            .collect();
        let s = store(&rows);
        let idx = ClusterIndex::build(&s);
        let f = Filter {
            types: vec!["T1".into(), "T2".into()],
            ..Default::default()
        };
        let ssel = s.select(&f).unwrap();
        let sel = idx.select(&ssel);
        let selected: std::collections::HashSet<u32> = ssel.indices.iter().copied().collect();
        for (a, b) in [
            (0, 200),
            (3, 70),
            (64, 128),
            (63, 65),
            (100, 100),
            (199, 200),
        ] {
            let brute = (a..b).filter(|&r| selected.contains(&idx.order[r])).count() as u32;
            assert_eq!(sel.count(a, b), brute, "{a}..{b}");
        }
    }
}
