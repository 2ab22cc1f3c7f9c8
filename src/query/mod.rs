//! Filtering: one [`Filter`] type for the CLI, the viewer and exports, producing a
//! [`Selection`] of incident indices plus counts per type and per day.

pub mod counts;
pub mod filters;

use crate::date::{Day, format_day, parse_ymd};
use crate::store::{ReadError, Store};
use crate::text::clip;

/// Longest date span an incident can have (a year), bounding the backwards scan for spans that
/// start before `from` but reach into it.
pub const MAX_SPAN_DAYS: Day = 366;

/// Why a box could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BBoxError {
    /// Not four numbers.
    #[error("'{0}' is not a box: give four numbers min_lon,min_lat,max_lon,max_lat")]
    NotFourNumbers(String),
    /// Edges out of order or off the map.
    #[error(
        "'{0}' is not a valid box (need -180 ≤ min_lon ≤ max_lon ≤ 180, -90 ≤ min_lat ≤ max_lat ≤ 90)"
    )]
    Invalid(String),
}

/// A geographic box in degrees. Written as `[min_lon, min_lat, max_lon, max_lat]` in every
/// file (settings, saved views); the object form of old settings files is still read.
#[derive(Debug, Clone, Copy, PartialEq)]
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
    /// A checked box from its edges.
    pub fn new(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64) -> Result<BBox, BBoxError> {
        let v = [min_lon, min_lat, max_lon, max_lat];
        if !v.iter().all(|x| x.is_finite())
            || min_lon > max_lon
            || min_lat > max_lat
            || min_lon < -180.0
            || max_lon > 180.0
            || min_lat < -90.0
            || max_lat > 90.0
        {
            return Err(BBoxError::Invalid(format!(
                "{min_lon},{min_lat},{max_lon},{max_lat}"
            )));
        }
        Ok(BBox {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        })
    }

    /// Parses `min_lon,min_lat,max_lon,max_lat`.
    pub fn parse(s: &str) -> Result<BBox, BBoxError> {
        let v: Vec<f64> = s
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| BBoxError::NotFourNumbers(clip(s)))?;
        let [a, b, c, d] = v[..] else {
            return Err(BBoxError::NotFourNumbers(clip(s)));
        };
        BBox::new(a, b, c, d).map_err(|_| BBoxError::Invalid(clip(s)))
    }

    /// `[min_lon, min_lat, max_lon, max_lat]`.
    pub fn to_array(self) -> [f64; 4] {
        [self.min_lon, self.min_lat, self.max_lon, self.max_lat]
    }

    /// Whether a point lies inside (edges included).
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        lon >= self.min_lon && lon <= self.max_lon && lat >= self.min_lat && lat <= self.max_lat
    }
}

impl serde::Serialize for BBox {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_array().serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for BBox {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Object {
            min_lon: f64,
            min_lat: f64,
            max_lon: f64,
            max_lat: f64,
        }
        let value = serde_json::Value::deserialize(d)?;
        let [a, b, c, e] = if value.is_object() {
            // Settings files before the shared schema.
            let o = Object::deserialize(value).map_err(D::Error::custom)?;
            [o.min_lon, o.min_lat, o.max_lon, o.max_lat]
        } else {
            <[f64; 4]>::deserialize(value).map_err(D::Error::custom)?
        };
        BBox::new(a, b, c, e).map_err(D::Error::custom)
    }
}

/// Filter dates as `YYYY-MM-DD` in every file; the day numbers of old settings files are read.
mod day_serde {
    use super::{Day, format_day, parse_ymd};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Day>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format_day(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Day>, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::String(t) => parse_ymd(&t).map(Some).map_err(D::Error::custom),
            // Settings files before the shared schema wrote day numbers.
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(n) if (-354_285..=2_932_896).contains(&n) => Ok(Some(n as Day)),
                _ => Err(D::Error::custom(format!("day number {n} is out of range"))),
            },
            other => Err(D::Error::custom(format!(
                "a date is \"YYYY-MM-DD\", not {other}"
            ))),
        }
    }
}

/// What to show. Empty fields do not filter. The one filter schema: the settings file, saved
/// views and the command line's FILTERS all read and write this type.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Filter {
    /// First day, inclusive.
    #[serde(with = "day_serde", skip_serializing_if = "Option::is_none")]
    pub from: Option<Day>,
    /// Last day, inclusive.
    #[serde(with = "day_serde", skip_serializing_if = "Option::is_none")]
    pub to: Option<Day>,
    /// Type names (case-insensitive); empty = all types.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// Words to find (case-insensitive) in place, notes, actors and sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Area.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bbox: Option<BBox>,
    /// Only incidents whose sources disagree.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disputed: bool,
    /// Only incidents within a distance of a point (geodesic, the edge included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub near: Option<Near>,
    /// Only incidents inside an area of interest (holes honoured, the boundary included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within: Option<crate::area::Area>,
    /// Only incidents with an actor containing one of these names (case-insensitive).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<String>,
    /// Only incidents with evidence attached (`true`) or without (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<bool>,
}

/// A type name no incident has (NUL is never in a type): the filter of "no type shown".
pub const NO_TYPE: &str = "\u{0}";

/// A point and a radius.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Near {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Radius in kilometres.
    pub km: f64,
}

impl Near {
    /// Whether `(lon, lat)` is within the radius: a box test, then the sphere where it is sure
    /// (the ellipsoid's geodesics differ from the mean sphere's by under 0.6%; 0.7% is the margin), then Karney.
    pub fn contains(&self, bounds: Option<[f64; 4]>, lon: f64, lat: f64) -> bool {
        if let Some([x0, y0, x1, y1]) = bounds
            && (lon < x0 || lon > x1 || lat < y0 || lat > y1)
        {
            return false;
        }
        let sphere = crate::geodesy::sphere_km((self.lon, self.lat), (lon, lat));
        if sphere < self.km * 0.993 {
            return true;
        }
        if sphere > self.km * 1.007 {
            return false;
        }
        crate::geodesy::distance_km((self.lon, self.lat), (lon, lat)) <= self.km
    }

    /// The box [`Near::contains`] tests first.
    pub fn bounds(&self) -> Option<[f64; 4]> {
        crate::geodesy::bounds_within((self.lon, self.lat), self.km)
    }
}

/// Why a filter is inconsistent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterError {
    /// A bad date.
    #[error(transparent)]
    Date(#[from] crate::date::DateError),
    /// A radius around a point that is not on the Earth.
    #[error(
        "the point {lat}, {lon} with a radius of {km} km is not a place on the Earth (latitude -90 to 90, longitude -180 to 180, radius more than 0 and at most 20100 km)"
    )]
    Near {
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
        /// Radius.
        km: f64,
    },
    /// The range ends before it starts.
    #[error("the start date {} is after the end date {}", format_day(*.from), format_day(*.to))]
    Reversed {
        /// Start.
        from: Day,
        /// End.
        to: Day,
    },
}

impl Filter {
    /// Sets `from` from `YYYY-MM-DD`.
    pub fn with_from(mut self, s: &str) -> Result<Self, FilterError> {
        self.from = Some(parse_ymd(s)?);
        Ok(self)
    }

    /// Sets `to` from `YYYY-MM-DD`.
    pub fn with_to(mut self, s: &str) -> Result<Self, FilterError> {
        self.to = Some(parse_ymd(s)?);
        Ok(self)
    }

    /// This filter with every part that `patch` sets replacing ours (flags over a saved view).
    pub fn patched(mut self, patch: &Filter) -> Filter {
        for d in filters::FILTERS {
            d.take(&mut self, patch);
        }
        self
    }

    /// Checks that every part is consistent (the date range is not reversed).
    pub fn check(&self) -> Result<(), FilterError> {
        filters::FILTERS.iter().try_for_each(|d| d.check(self))
    }

    /// The box the filter's own area covers (`within`, `near`, `bbox`, the tightest of those
    /// set), `[min_lon, min_lat, max_lon, max_lat]`.
    pub fn bounds(&self) -> Option<[f64; 4]> {
        filters::FILTERS
            .iter()
            .filter_map(|d| d.bounds(self))
            .reduce(|a, b| {
                let both = [
                    a[0].max(b[0]),
                    a[1].max(b[1]),
                    a[2].min(b[2]),
                    a[3].min(b[3]),
                ];
                // Areas that do not meet: the first one set frames the map.
                if both[0] <= both[2] && both[1] <= both[3] {
                    both
                } else {
                    a
                }
            })
    }

    /// The date range in words: "All dates", one day, "from …", "until …" or "a – b".
    pub fn date_range_text(&self) -> String {
        match (self.from, self.to) {
            (None, None) => "All dates".to_string(),
            (Some(a), Some(b)) if a == b => format_day(a),
            (Some(a), None) => format!("From {}", format_day(a)),
            (None, Some(b)) => format!("Until {}", format_day(b)),
            (Some(a), Some(b)) => format!("{} – {}", format_day(a), format_day(b)),
        }
    }

    /// The filter in words, one line per active part, dates first (captions and messages).
    pub fn describe_lines(&self) -> Vec<String> {
        filters::FILTERS
            .iter()
            .filter_map(|d| d.describe(self))
            .collect()
    }

    /// The filter in words on one line.
    pub fn describe(&self) -> String {
        self.describe_lines().join("; ")
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
    /// Selected incidents whose sources disagree.
    pub disputed: u32,
}

impl Selection {
    /// How many of the selected incidents `marks` marks (by store index; empty: none).
    pub fn marked(&self, marks: &[bool]) -> u32 {
        if marks.is_empty() {
            return 0;
        }
        self.indices
            .iter()
            .filter(|&&i| marks.get(i as usize).copied().unwrap_or(false))
            .count() as u32
    }

    /// Every incident of `store`, with its counts.
    pub fn all(store: &Store) -> Selection {
        let mut sel = Selection {
            indices: (0..store.len() as u32).collect(),
            type_counts: vec![0; store.types.len()],
            ..Default::default()
        };
        if let Some((first, last)) = store.day_range() {
            sel.first_day = first;
            sel.day_counts = vec![0; (last - first + 1).max(1) as usize];
        }
        for i in 0..store.len() {
            sel.type_counts[store.type_id[i] as usize] += 1;
            sel.disputed += store.disputed[i] as u32;
            if let Some(c) = sel
                .day_counts
                .get_mut((store.day[i] - sel.first_day) as usize)
            {
                *c += 1;
            }
        }
        sel
    }

    /// The part of this selection whose type is in `keep` (indexed by type id), with counts
    /// recomputed: cheaper than filtering the store again when only the type toggles differ.
    pub fn restrict_types(&self, store: &Store, keep: &[bool]) -> Selection {
        let mut out = Selection {
            indices: Vec::with_capacity(self.indices.len()),
            type_counts: vec![0; self.type_counts.len()],
            first_day: self.first_day,
            day_counts: vec![0; self.day_counts.len()],
            disputed: 0,
        };
        for &i in &self.indices {
            let k = store.type_id[i as usize] as usize;
            if keep.get(k).copied().unwrap_or(true) {
                out.indices.push(i);
                out.type_counts[k] += 1;
                out.disputed += store.disputed[i as usize] as u32;
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
    /// Applies a filter: every filter of the list that is set narrows the scan or tests each
    /// incident. Fails only when a search must read records from a file that has changed since
    /// it was loaded.
    pub fn select(&self, f: &Filter) -> Result<Selection, ReadError> {
        let (mut lo, mut hi) = (0, self.len());
        let mut tests = Vec::new();
        for d in filters::FILTERS.iter().filter(|d| d.is_set(f)) {
            if let Some((a, b)) = d.scan(f, self) {
                (lo, hi) = (lo.max(a), hi.min(b));
            }
            if let Some(t) = d.test(f, self)? {
                tests.push(t);
            }
        }
        let mut sel = Selection {
            type_counts: vec![0; self.types.len()],
            ..Default::default()
        };
        if let Some((first, last)) = self.day_range() {
            sel.first_day = first;
            sel.day_counts = vec![0; (last - first + 1).max(1) as usize];
        }
        let mut indices: Vec<u32> = (lo as u32..hi.max(lo) as u32).collect();
        for t in &tests {
            t.retain(&mut indices);
        }
        for &i in &indices {
            let i = i as usize;
            sel.type_counts[self.type_id[i] as usize] += 1;
            sel.disputed += self.disputed[i] as u32;
            if let Some(c) = sel
                .day_counts
                .get_mut((self.day[i] - sel.first_day) as usize)
            {
                *c += 1;
            }
        }
        sel.indices = indices;
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
    fn one_schema_reads_old_and_new_forms() {
        let f = Filter::default()
            .with_from("2021-06-05")
            .unwrap()
            .with_to("2021-06-06")
            .unwrap();
        let f = Filter {
            bbox: Some(BBox::parse("42,33,45,37").unwrap()),
            ..f
        };
        let text = serde_json::to_string(&f).unwrap();
        assert_eq!(
            text,
            r#"{"from":"2021-06-05","to":"2021-06-06","bbox":[42.0,33.0,45.0,37.0]}"#
        );
        assert_eq!(serde_json::from_str::<Filter>(&text).unwrap(), f);
        // Settings files written before: day numbers and a box object.
        let old = r#"{"from":18783,"to":18784,"types":[],"text":null,"bbox":{"min_lon":42.0,"min_lat":33.0,"max_lon":45.0,"max_lat":37.0}}"#;
        assert_eq!(serde_json::from_str::<Filter>(old).unwrap(), f);
        assert!(serde_json::from_str::<Filter>(r#"{"from":"2021-02-30"}"#).is_err());
        assert!(serde_json::from_str::<Filter>(r#"{"bbox":[5,0,1,1]}"#).is_err());
        assert!(serde_json::from_str::<Filter>(r#"{"colour":"red"}"#).is_err());
        assert!(matches!(
            Filter {
                from: f.to,
                to: f.from,
                ..Default::default()
            }
            .check(),
            Err(FilterError::Reversed { .. })
        ));
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
