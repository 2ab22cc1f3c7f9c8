//! What a filter selects, in counts: the legend's and the timeline's aggregates and the `check`
//! summary. Every source gives the same answers in these types (files count here, a table on
//! its server).

use std::collections::BTreeMap;

use super::Selection;
use crate::date::{Day, format_day};
use crate::store::Store;

/// One type's incidents under a filter (all filters but the types).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TypeCount {
    /// The type as stored.
    pub name: String,
    /// Incidents.
    pub count: u64,
    /// Of which disputed.
    pub disputed: u64,
    /// `[min_lon, min_lat, max_lon, max_lat]` of them.
    pub bbox: [f64; 4],
}

/// What the window's legend, status bar and timeline show under a filter.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Aggregates {
    /// Incidents in the source.
    pub incidents: u64,
    /// First and last day in the source.
    pub day_range: Option<(Day, Day)>,
    /// Every type with its count under all filters but the types, by name.
    pub types: Vec<TypeCount>,
    /// Day of `day_counts[0]`.
    pub first_day: Day,
    /// Incidents per day (by the start of their span) under all filters but the dates, from
    /// the first day with one to the last.
    pub day_counts: Vec<u32>,
}

impl Aggregates {
    /// Incidents, disputed incidents and their bbox, over the types `shown` says.
    pub fn shown(&self, shown: impl Fn(&str) -> bool) -> (u64, u64, Option<[f64; 4]>) {
        let mut out = (0, 0, None::<[f64; 4]>);
        for t in self.types.iter().filter(|t| shown(&t.name)) {
            out.0 += t.count;
            out.1 += t.disputed;
            let b = t.bbox;
            out.2 = Some(match out.2 {
                None => b,
                Some(a) => [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ],
            });
        }
        out
    }
}

/// One file (or table) in a summary.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Part {
    /// As the user named it.
    pub file: String,
    /// `csv`, `acled-csv`, `geojson`, `kml`, `shapefile`, `geopackage` or `postgis`.
    pub format: String,
    /// Incidents from it.
    pub incidents: u64,
}

/// The `check` summary of a source: what `check --json` prints.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Incidents.
    pub incidents: u64,
    /// Of which disputed.
    pub disputed: u64,
    /// Rows skipped while loading.
    pub skipped: u64,
    /// First day, `YYYY-MM-DD`.
    pub date_min: Option<String>,
    /// Last day (end of the latest span).
    pub date_max: Option<String>,
    /// Incidents per type.
    pub types: BTreeMap<String, u64>,
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: Option<[f64; 4]>,
    /// The files (or the table).
    pub files: Vec<Part>,
}

impl Summary {
    /// A summary from counts and a day range (nothing skipped).
    pub fn new(
        incidents: u64,
        disputed: u64,
        days: Option<(Day, Day)>,
        types: BTreeMap<String, u64>,
        bbox: Option<[f64; 4]>,
        files: Vec<Part>,
    ) -> Summary {
        Summary {
            incidents,
            disputed,
            skipped: 0,
            date_min: days.map(|d| format_day(d.0)),
            date_max: days.map(|d| format_day(d.1)),
            types,
            bbox,
            files,
        }
    }
}

/// A filter's counts from a store's selections (files, and tables' fetched rows): types under
/// `facet` (all filters but the types), days under `undated` (all but the dates).
pub fn aggregates_of(store: &Store, facet: &Selection, undated: &Selection) -> Aggregates {
    let mut types: Vec<TypeCount> = store
        .types
        .names()
        .map(|n| TypeCount {
            name: n.to_string(),
            count: 0,
            disputed: 0,
            bbox: [f64::INFINITY, f64::INFINITY, -f64::INFINITY, -f64::INFINITY],
        })
        .collect();
    for &i in &facet.indices {
        let i = i as usize;
        let t = &mut types[store.type_id[i] as usize];
        t.count += 1;
        t.disputed += store.disputed[i] as u64;
        let (x, y) = (store.lon[i], store.lat[i]);
        t.bbox = [
            t.bbox[0].min(x),
            t.bbox[1].min(y),
            t.bbox[2].max(x),
            t.bbox[3].max(y),
        ];
    }
    types.retain(|t| t.count > 0);
    types.sort_by(|a, b| a.name.cmp(&b.name));
    // Days from the first to the last with an incident (as a table's answer has them).
    let first = undated.day_counts.iter().position(|&c| c > 0);
    let last = undated.day_counts.iter().rposition(|&c| c > 0);
    let (first_day, day_counts) = match (first, last) {
        (Some(a), Some(b)) => (
            undated.first_day + a as Day,
            undated.day_counts[a..=b].to_vec(),
        ),
        _ => (0, Vec::new()),
    };
    Aggregates {
        incidents: store.len() as u64,
        day_range: store.day_range(),
        types,
        first_day,
        day_counts,
    }
}
