//! Filtering: one [`Filter`] type for the CLI, the viewer and exports, producing a
//! [`Selection`] of incident indices plus counts per type and per day.

use crate::date::{Day, format_day, parse_ymd};
use crate::store::{ReadError, Store};
use crate::text::lower;

/// Longest date span an incident can have (a year), bounding the backwards scan for spans that
/// start before `from` but reach into it.
const MAX_SPAN_DAYS: Day = 366;

/// A geographic box in degrees.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BBox {
    /// West edge.
    pub min_lon: f64,
    /// South edge.
    pub min_lat: f64,
    /// East edge.
    pub max_lon: f64,
    /// North edge.
    pub max_lat: f64,
}

impl BBox {
    /// Parses `min_lon,min_lat,max_lon,max_lat`.
    pub fn parse(s: &str) -> Result<BBox, String> {
        let v: Vec<f64> = s
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("'{s}' is not a box: give min_lon,min_lat,max_lon,max_lat"))?;
        let [min_lon, min_lat, max_lon, max_lat] = v[..] else {
            return Err(format!(
                "'{s}' is not a box: give four numbers min_lon,min_lat,max_lon,max_lat"
            ));
        };
        let b = BBox {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        };
        if !v.iter().all(|x| x.is_finite())
            || min_lon > max_lon
            || min_lat > max_lat
            || min_lon < -180.0
            || max_lon > 180.0
            || min_lat < -90.0
            || max_lat > 90.0
        {
            return Err(format!(
                "'{s}' is not a valid box (need -180 ≤ min_lon ≤ max_lon ≤ 180, -90 ≤ min_lat ≤ max_lat ≤ 90)"
            ));
        }
        Ok(b)
    }

    /// Whether a point lies inside (edges included).
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        lon >= self.min_lon && lon <= self.max_lon && lat >= self.min_lat && lat <= self.max_lat
    }
}

/// What to show. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Filter {
    /// First day, inclusive.
    pub from: Option<Day>,
    /// Last day, inclusive.
    pub to: Option<Day>,
    /// Type names (case-insensitive); empty = all types.
    pub types: Vec<String>,
    /// Words to find (case-insensitive) in place, notes, actors and sources.
    pub text: Option<String>,
    /// Area.
    pub bbox: Option<BBox>,
}

impl Filter {
    /// Sets `from` from `YYYY-MM-DD`.
    pub fn with_from(mut self, s: &str) -> Result<Self, String> {
        self.from = Some(parse_ymd(s)?);
        Ok(self)
    }

    /// Sets `to` from `YYYY-MM-DD`.
    pub fn with_to(mut self, s: &str) -> Result<Self, String> {
        self.to = Some(parse_ymd(s)?);
        Ok(self)
    }

    /// Type names given that match no type in the store.
    pub fn unknown_types(&self, store: &Store) -> Vec<String> {
        self.types
            .iter()
            .filter(|t| {
                !store
                    .types
                    .names()
                    .any(|n| n.eq_ignore_ascii_case(t.trim()))
            })
            .cloned()
            .collect()
    }

    /// Human description of the active filters ("all incidents" when none).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        match (self.from, self.to) {
            (Some(a), Some(b)) => parts.push(format!("{} to {}", format_day(a), format_day(b))),
            (Some(a), None) => parts.push(format!("from {}", format_day(a))),
            (None, Some(b)) => parts.push(format!("until {}", format_day(b))),
            (None, None) => {}
        }
        if !self.types.is_empty() {
            parts.push(format!("types: {}", self.types.join(", ")));
        }
        if let Some(t) = &self.text {
            parts.push(format!("text: \"{t}\""));
        }
        if let Some(b) = &self.bbox {
            parts.push(format!(
                "area: {},{},{},{}",
                b.min_lon, b.min_lat, b.max_lon, b.max_lat
            ));
        }
        if parts.is_empty() {
            "all incidents".into()
        } else {
            parts.join("; ")
        }
    }
}

/// The result of a filter: indices into the store (ascending, hence in time order) and counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Selected incident indices.
    pub indices: Vec<u32>,
    /// Count per type id (indexed like [`Store::types`]).
    pub type_counts: Vec<u32>,
    /// Day of `day_counts[0]`.
    pub first_day: Day,
    /// Selected incidents per day (by the start of their span), from `first_day` on.
    pub day_counts: Vec<u32>,
}

impl Selection {
    /// The part of this selection whose type is in `keep` (indexed by type id), with counts
    /// recomputed: cheaper than filtering the store again when only the type toggles differ.
    pub fn restrict_types(&self, store: &Store, keep: &[bool]) -> Selection {
        let mut out = Selection {
            indices: Vec::with_capacity(self.indices.len()),
            type_counts: vec![0; self.type_counts.len()],
            first_day: self.first_day,
            day_counts: vec![0; self.day_counts.len()],
        };
        for &i in &self.indices {
            let k = store.kind[i as usize] as usize;
            if keep.get(k).copied().unwrap_or(true) {
                out.indices.push(i);
                out.type_counts[k] += 1;
                if let Some(c) = out
                    .day_counts
                    .get_mut((store.day[i as usize] - self.first_day) as usize)
                {
                    *c += 1;
                }
            }
        }
        out
    }

    /// `[min_lon, min_lat, max_lon, max_lat]` of the selected incidents.
    pub fn bbox(&self, store: &Store) -> Option<[f64; 4]> {
        let mut it = self
            .indices
            .iter()
            .map(|&i| (store.lon[i as usize], store.lat[i as usize]));
        let (x, y) = it.next()?;
        Some(it.fold([x, y, x, y], |b, (x, y)| {
            [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)]
        }))
    }

    /// Number of incidents selected.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

impl Store {
    /// Applies a filter. Fails only when a text search must read records from a file that has
    /// changed since it was loaded.
    pub fn select(&self, f: &Filter) -> Result<Selection, ReadError> {
        let n = self.len();
        // Date range: the store is sorted by span start, so `to` bounds the end of the scan and
        // `from` (minus the longest span) bounds its start.
        let hi = match f.to {
            Some(to) => self.day.partition_point(|&d| d <= to),
            None => n,
        };
        let lo = match f.from {
            Some(from) => self
                .day
                .partition_point(|&d| d < from.saturating_sub(MAX_SPAN_DAYS)),
            None => 0,
        };
        let type_ok: Option<Vec<bool>> = (!f.types.is_empty()).then(|| {
            self.types
                .names()
                .map(|name| f.types.iter().any(|t| t.trim().eq_ignore_ascii_case(name)))
                .collect()
        });
        let needle = f
            .text
            .as_deref()
            .map(|t| lower(t.trim()))
            .filter(|t| !t.is_empty());
        let (place_hit, text_hit): (Vec<bool>, _) = match &needle {
            Some(nd) => (
                self.places
                    .names()
                    .map(|p| lower(p).contains(nd.as_str()))
                    .collect(),
                Some(self.text_hits(nd)?),
            ),
            None => (Vec::new(), None),
        };
        let mut sel = Selection {
            type_counts: vec![0; self.types.len()],
            ..Default::default()
        };
        if let Some((first, last)) = self.day_range() {
            sel.first_day = first;
            sel.day_counts = vec![0; (last - first + 1).max(1) as usize];
        }
        for i in lo..hi.max(lo) {
            if let Some(from) = f.from
                && self.day_end[i] < from
            {
                continue;
            }
            if let Some(ok) = &type_ok
                && !ok[self.kind[i] as usize]
            {
                continue;
            }
            if let Some(b) = &f.bbox
                && !b.contains(self.lon[i], self.lat[i])
            {
                continue;
            }
            if let Some(hits) = &text_hit
                && !place_hit[self.place[i] as usize]
                && hits[i / 64] & (1 << (i % 64)) == 0
            {
                continue;
            }
            sel.indices.push(i as u32);
            sel.type_counts[self.kind[i] as usize] += 1;
            if let Some(c) = sel
                .day_counts
                .get_mut((self.day[i] - sel.first_day) as usize)
            {
                *c += 1;
            }
        }
        Ok(sel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(rows: &str) -> Store {
        Store::from_csv(&format!(
            "lat,lon,date,date_precision,type,place,notes\n{rows}"
        ))
    }

    #[test]
    fn date_range_is_inclusive_and_month_spans_overlap() {
        let s = store(
            "1,1,2021-06-05,day,Rocket attack,BIAP,a\n1,1,2021-06-06,day,Interception,Ain al-Asad,b\n\
             1,1,2021-06-20,month,IED,Anbar,c\n1,1,2021-07-01,day,IED,X,d\n",
        );
        let f = Filter::default()
            .with_from("2021-06-05")
            .unwrap()
            .with_to("2021-06-06")
            .unwrap();
        let sel = s.select(&f).unwrap();
        let names: Vec<&str> = sel
            .indices
            .iter()
            .map(|&i| s.place_name(i as usize))
            .collect();
        assert_eq!(names, vec!["Anbar", "BIAP", "Ain al-Asad"]);
        let f = Filter::default()
            .with_from("2021-06-07")
            .unwrap()
            .with_to("2021-06-30")
            .unwrap();
        assert_eq!(
            s.select(&f)
                .unwrap()
                .indices
                .iter()
                .map(|&i| s.place_name(i as usize))
                .collect::<Vec<_>>(),
            vec!["Anbar"]
        );
        let f = Filter::default()
            .with_from("2021-07-02")
            .unwrap()
            .with_to("2021-07-30")
            .unwrap();
        assert_eq!(s.select(&f).unwrap().len(), 0);
    }

    #[test]
    fn types_text_and_bbox() {
        let s = store(
            "33.2,44.2,2021-06-05,day,Rocket attack,BIAP,launcher found West Baghdad\n33.8,42.4,2021-06-06,day,Interception,Ain al-Asad,C-RAM\n",
        );
        let f = Filter {
            types: vec!["interception".into()],
            ..Default::default()
        };
        let sel = s.select(&f).unwrap();
        assert_eq!(sel.len(), 1);
        assert_eq!(
            sel.type_counts[s.types.get("Interception").unwrap() as usize],
            1
        );
        assert_eq!(
            sel.type_counts[s.types.get("Rocket attack").unwrap() as usize],
            0
        );
        let f = Filter {
            text: Some("west BAGHDAD".into()),
            ..Default::default()
        };
        assert_eq!(s.select(&f).unwrap().indices, vec![0]);
        let f = Filter {
            text: Some("asad".into()),
            ..Default::default()
        };
        assert_eq!(s.select(&f).unwrap().indices, vec![1]);
        let f = Filter {
            bbox: Some(BBox::parse("42,33.5,43,34").unwrap()),
            ..Default::default()
        };
        assert_eq!(s.select(&f).unwrap().indices, vec![1]);
        assert!(BBox::parse("1,2,3").is_err());
        assert!(BBox::parse("5,2,3,4").is_err());
    }

    #[test]
    fn day_counts_follow_selection() {
        let s =
            store("1,1,2021-06-05,day,A,p,n\n1,1,2021-06-05,day,A,p,n\n1,1,2021-06-07,day,B,p,n\n");
        let sel = s.select(&Filter::default()).unwrap();
        assert_eq!(sel.day_counts, vec![2, 0, 1]);
        let sel = s
            .select(&Filter {
                types: vec!["B".into()],
                ..Default::default()
            })
            .unwrap();
        assert_eq!(sel.day_counts, vec![0, 0, 1]);
    }
}
