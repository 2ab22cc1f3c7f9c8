//! Possible duplicate reports: two incidents are possible duplicates when they have the same type
//! (case-insensitive), date spans within N days of each other (a month-precision incident spans
//! its month, so precision is honoured) and positions within D km (geodesic). Groups are the
//! connected sets of that relation. Shown, never merged: merging stays the analyst's decision.
//!
//! The search sweeps each type's incidents in date order, keeping those whose span (plus N days)
//! still reaches the current day in a grid of cells D km wide on the unit sphere; an incident is
//! compared only with those in its own and the 26 neighbouring cells.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use crate::geodesy::{distance_km, sphere_km};
use crate::store::Store;

/// How close two reports must be to be possible duplicates.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Days allowed between the date spans (0: they must overlap).
    pub days: u32,
    /// Kilometres between the positions.
    pub km: f64,
}

impl Default for Rule {
    fn default() -> Self {
        Rule { days: 1, km: 5.0 }
    }
}

/// Earth's mean radius in km (for the grid; distances themselves are geodesic).
const R: f64 = 6_371.008_8;

fn unit(lon: f64, lat: f64) -> [f64; 3] {
    let (la, lo) = (lat.to_radians(), lon.to_radians());
    [la.cos() * lo.cos(), la.cos() * lo.sin(), la.sin()]
}

struct Sets(Vec<u32>);

impl Sets {
    fn find(&mut self, mut a: u32) -> u32 {
        while self.0[a as usize] != a {
            let up = self.0[self.0[a as usize] as usize];
            self.0[a as usize] = up;
            a = up;
        }
        a
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = (ra.min(rb), ra.max(rb));
            self.0[hi as usize] = lo;
        }
    }
}

/// The groups among `indices` (store indices): each group's members in date order (then store
/// order), groups ordered by their first member.
pub fn groups(store: &Store, indices: &[u32], rule: Rule) -> Vec<Vec<u32>> {
    groups_unless(store, indices, rule, &|| false).unwrap_or_default()
}

/// [`groups`], giving up (`None`) as soon as `stop` says so (checked every few thousand
/// incidents): a newer search has replaced this one.
pub fn groups_unless(
    store: &Store,
    indices: &[u32],
    rule: Rule,
    stop: &dyn Fn() -> bool,
) -> Option<Vec<Vec<u32>>> {
    let n = indices.len();
    if n < 2 || rule.km.is_nan() || rule.km <= 0.0 {
        return Some(Vec::new());
    }
    // Types compared case-insensitively.
    let canon: Vec<u32> = {
        let mut by_name: HashMap<String, u32> = HashMap::new();
        store
            .types
            .names()
            .map(|t| {
                let k = t.trim().to_ascii_lowercase();
                let next = by_name.len() as u32;
                *by_name.entry(k).or_insert(next)
            })
            .collect()
    };
    // Positions in `indices`, by type then start day (the store is in day order already).
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by_key(|&k| {
        let i = indices[k as usize] as usize;
        (canon[store.type_id[i] as usize], store.day[i], k)
    });
    let cell = rule.km * 1.01 / R;
    let key = |p: [f64; 3]| {
        (
            (p[0] / cell).floor() as i64,
            (p[1] / cell).floor() as i64,
            (p[2] / cell).floor() as i64,
        )
    };
    let mut sets = Sets((0..n as u32).collect());
    let mut grid: FxHashMap<(i64, i64, i64), Vec<u32>> = FxHashMap::default();
    let mut current_type = u32::MAX;
    for (step, &k) in order.iter().enumerate() {
        if step % 4096 == 0 && stop() {
            return None;
        }
        let i = indices[k as usize] as usize;
        let t = canon[store.type_id[i] as usize];
        if t != current_type {
            grid.clear();
            current_type = t;
        }
        let day = store.day[i];
        let here = (store.lon[i], store.lat[i]);
        let (cx, cy, cz) = key(unit(here.0, here.1));
        let mut dominated = false;
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    let Some(list) = grid.get_mut(&(cx + dx, cy + dy, cz + dz)) else {
                        continue;
                    };
                    // Drop those whose span (plus N days) ended before this start.
                    list.retain(|&o| {
                        let j = indices[o as usize] as usize;
                        store.day_end[j] as i64 + rule.days as i64 >= day as i64
                    });
                    for &o in list.iter() {
                        let j = indices[o as usize] as usize;
                        let there = (store.lon[j], store.lat[j]);
                        // One at this very place whose span ends no earlier is joined to this
                        // one (distance 0) and stays listed as long: whatever is near this one
                        // later is near it too, so this one need not be listed (thousands of
                        // reports of one place and day made the search quadratic).
                        dominated |= there == here && store.day_end[j] >= store.day_end[i];
                        // The sphere decides far from the edge; the ellipsoid near it.
                        let s = sphere_km(here, there);
                        let near = s <= rule.km * 0.993
                            || (s <= rule.km * 1.007 && distance_km(here, there) <= rule.km);
                        if near {
                            sets.union(k, o);
                        }
                    }
                }
            }
        }
        if !dominated {
            grid.entry((cx, cy, cz)).or_default().push(k);
        }
    }
    let mut by_root: HashMap<u32, Vec<u32>> = HashMap::new();
    for k in 0..n as u32 {
        let r = sets.find(k);
        by_root.entry(r).or_default().push(indices[k as usize]);
    }
    let mut out: Vec<Vec<u32>> = by_root
        .into_values()
        .filter(|g| g.len() > 1)
        .map(|mut m| {
            m.sort_by_key(|&i| (store.day[i as usize], i));
            m
        })
        .collect();
    out.sort_by_key(|g| (store.day[g[0] as usize], g[0]));
    Some(out)
}

/// The incidents of `store` that would be possible duplicates of a new incident `row` under
/// `rule` (the same pair rule as [`groups`]), in date order.
pub fn of_row(store: &Store, row: &crate::model::Row<'_>, rule: Rule) -> Vec<u32> {
    let t = row.type_name.trim().to_ascii_lowercase();
    let same: Vec<bool> = store
        .types
        .names()
        .map(|n| n.trim().to_ascii_lowercase() == t)
        .collect();
    let here = (row.lon, row.lat);
    let (first, last) = (
        row.when.day as i64 - rule.days as i64,
        row.when.end as i64 + rule.days as i64,
    );
    (0..store.len())
        .filter(|&j| {
            same[store.type_id[j] as usize]
                && store.day[j] as i64 <= last
                && store.day_end[j] as i64 >= first
                && distance_km(here, (store.lon[j], store.lat[j])) <= rule.km
        })
        .map(|j| j as u32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(rows: &str) -> Store {
        Store::from_csv(&format!("lat,lon,date,date_precision,type,place\n{rows}"))
    }

    #[test]
    fn same_type_near_in_time_and_space() {
        let s = store(
            "33.786,42.441,2021-06-06,day,Drone attack,A\n\
             33.800,42.460,2021-06-07,day,drone attack,B\n\
             33.786,42.441,2021-06-06,day,Rocket attack,C\n\
             33.786,42.441,2021-06-09,day,Drone attack,D\n\
             33.900,42.441,2021-06-06,day,Drone attack,E\n\
             33.79,42.44,2021-06-20,month,Drone attack,F\n\
             40.0,50.0,2021-06-06,day,Drone attack,G\n",
        );
        let all: Vec<u32> = (0..s.len() as u32).collect();
        let g = groups(&s, &all, Rule::default());
        let names: Vec<Vec<&str>> = g
            .iter()
            .map(|m| m.iter().map(|&i| s.place_name(i as usize)).collect())
            .collect();
        // F (June as a whole) overlaps A, B and D; D alone is 3 days after A and B; E is 12.7
        // km away; C is another type; G is far.
        assert_eq!(names, vec![vec!["F", "A", "B", "D"]]);
        let strict = groups(&s, &all, Rule { days: 1, km: 5.0 });
        assert_eq!(strict, g);
        let wide = groups(&s, &all, Rule { days: 0, km: 20.0 });
        assert!(wide[0].len() == 5, "{wide:?}");
    }

    #[test]
    fn many_reports_of_one_place_chain_as_the_rule_says() {
        // Day after day at one place: each joins the one before (one day apart), the first and
        // last do not meet; a report listed once for its place must not lose the chain.
        let s = store(
            "33.1,44.1,2021-06-03,day,IED,A\n33.1,44.1,2021-06-04,day,IED,B\n\
             33.1,44.1,2021-06-05,day,IED,C\n33.1,44.1,2021-06-08,day,IED,D\n",
        );
        let all: Vec<u32> = (0..s.len() as u32).collect();
        let g = groups(&s, &all, Rule { days: 1, km: 1.0 });
        assert_eq!(g, [vec![0, 1, 2]]);
        // Twenty thousand reports of one place and day: one group, found in one pass.
        let s = store(&"33.1,44.1,2021-06-03,day,IED,A\n".repeat(20_000));
        let all: Vec<u32> = (0..s.len() as u32).collect();
        let g = groups(&s, &all, Rule::default());
        assert_eq!((g.len(), g[0].len()), (1, 20_000));
    }

    #[test]
    fn agrees_with_the_pairwise_definition() {
        let mut r = crate::synth::Rng::new(11);
        let mut csv = String::new();
        for _ in 0..400 {
            let (mut lat, mut lon) = (33.0 + r.unit() * 0.3, 44.0 + r.unit() * 0.3);
            // A third at one of three places: reports of one place at several dates and
            // precisions (listed once in the search when one covers the other).
            if r.below(3) == 0 {
                let k = r.below(3) as f64;
                (lat, lon) = (33.1 + k * 0.01, 44.1);
            }
            let day = 1 + r.below(20);
            let t = ["IED", "Rocket attack"][r.below(2) as usize];
            let p = if r.below(6) == 0 { "month" } else { "day" };
            csv.push_str(&format!("{lat},{lon},2021-06-{day:02},{p},{t},x\n"));
        }
        let s = store(&csv);
        let all: Vec<u32> = (0..s.len() as u32).collect();
        let rule = Rule { days: 1, km: 3.0 };
        let g = groups(&s, &all, rule);
        let mut group_of = vec![usize::MAX; s.len()];
        for (k, m) in g.iter().enumerate() {
            for &i in m {
                group_of[i as usize] = k;
            }
        }
        // Every pair that satisfies the rule is in one group.
        for a in 0..s.len() {
            for b in a + 1..s.len() {
                let same_type = s.type_name(a).eq_ignore_ascii_case(s.type_name(b));
                let days = s.day[a] <= s.day_end[b] + 1 && s.day[b] <= s.day_end[a] + 1;
                let km = distance_km((s.lon[a], s.lat[a]), (s.lon[b], s.lat[b])) <= 3.0;
                if same_type && days && km {
                    assert!(
                        group_of[a] != usize::MAX && group_of[a] == group_of[b],
                        "{a} {b}"
                    );
                }
            }
        }
        // And every group is connected by such pairs (no stray members).
        for m in &g {
            assert!(m.len() >= 2);
        }
    }
}
