//! THE list of filters. Each entry defines its filter once: the FILTERS flags of every command
//! (clap arguments), how the flags fill the serde [`Filter`], how a saved filter takes the flags
//! given over it, the test of an incident on the store, the SQL a table answers it with, its
//! line in captions, and the cases the source conformance suite asks every engine. A new filter
//! is a field of [`Filter`], one entry here (and its widget in the window's filter panel).

use std::sync::Arc;

use clap::{Arg, ArgAction, ArgMatches};

use super::{BBox, Filter, FilterError, MAX_SPAN_DAYS, NO_TYPE, Near};
use crate::date::parse_ymd;
use crate::model::Role;
use crate::store::{ReadError, Store};
use crate::text::lower;

/// A test of incidents (by store index), prepared for one selection. It is applied to a whole
/// list of candidates at once, so its per-incident test is inlined in the loop (no call per
/// incident through a pointer).
pub struct Test<'a>(Box<Retain<'a>>);

/// Keeps the candidates (store indices) that pass a test.
type Retain<'a> = dyn Fn(&mut Vec<u32>) + Send + Sync + 'a;

impl<'a> Test<'a> {
    /// The test of one incident.
    pub fn new(t: impl Fn(usize) -> bool + Send + Sync + 'a) -> Test<'a> {
        Test(Box::new(move |v: &mut Vec<u32>| {
            v.retain(|&i| t(i as usize))
        }))
    }

    /// Keeps the candidates that pass.
    pub fn retain(&self, candidates: &mut Vec<u32>) {
        (self.0)(candidates)
    }
}

/// One filter, defined once.
pub trait FilterDef: Sync {
    /// Its name (the serde field, in messages).
    fn name(&self) -> &'static str;
    /// Its command-line flags.
    fn args(&self) -> Vec<Arg>;
    /// Fills `f` from the flags given (only what was given).
    fn read(&self, m: &ArgMatches, f: &mut Filter);
    /// Whether `f` sets it.
    fn is_set(&self, f: &Filter) -> bool;
    /// Takes its part from `patch` into `f`, when `patch` sets it (flags over a saved view).
    fn take(&self, f: &mut Filter, patch: &Filter);
    /// Clears its part of `f`.
    fn clear(&self, f: &mut Filter);
    /// Checks that the part is consistent.
    fn check(&self, _f: &Filter) -> Result<(), FilterError> {
        Ok(())
    }
    /// Its line in captions and messages, when set (the dates always have one: "All dates").
    fn describe(&self, f: &Filter) -> Option<String>;
    /// The box its area covers, when it is an area (`[min_lon, min_lat, max_lon, max_lat]`).
    fn bounds(&self, _f: &Filter) -> Option<[f64; 4]> {
        None
    }
    /// The incident indices (a range of the time-sorted store) that can match at all.
    fn scan(&self, _f: &Filter, _s: &Store) -> Option<(usize, usize)> {
        None
    }
    /// The test of an incident on `s`, when set (records may be read to prepare it).
    fn test<'a>(&self, f: &'a Filter, s: &'a Store) -> Result<Option<Test<'a>>, ReadError>;
    /// The SQL clauses a table answers it with (its schema in README).
    fn sql(&self, f: &Filter, w: &mut Sql);
    /// Filters the conformance suite asks every engine, on the bundled data.
    fn cases(&self) -> Vec<Filter>;
}

/// Every filter, in caption order.
pub static FILTERS: &[&dyn FilterDef] = &[
    &Dates, &Types, &Text, &Area, &Disputed, &Nearby, &Within, &Actors, &Evidence,
];

/// A value an SQL clause is given as a parameter (never as text).
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// `int2`.
    SmallInt(i16),
    /// `int4`.
    Int(i32),
    /// `int8`.
    BigInt(i64),
    /// `float8`.
    Float(f64),
    /// `text`.
    Text(String),
    /// `text[]`.
    Texts(Vec<String>),
}

/// A `WHERE` clause under construction: clauses (joined with AND) and their parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sql {
    clauses: Vec<String>,
    /// The parameters, `$1` first.
    pub params: Vec<SqlValue>,
    /// The table bounds an incident's span to a year (`day_last - day_first ≤ 366`): a date
    /// filter may then bound the start of the span too, so an index on it serves.
    pub spans_bounded: bool,
    /// The test that a row has evidence attached, in the table's terms (none: the table keeps
    /// no evidence).
    pub attached: Option<String>,
}

impl Sql {
    /// An empty clause (`TRUE`).
    pub fn new(spans_bounded: bool) -> Sql {
        Sql {
            spans_bounded,
            ..Sql::default()
        }
    }

    /// Adds `clause`, in which `{1}`, `{2}`, … stand for `values` (each as often as needed).
    pub fn push(&mut self, clause: &str, values: Vec<SqlValue>) {
        let mut c = clause.to_string();
        for (k, v) in values.into_iter().enumerate() {
            self.params.push(v);
            c = c.replace(
                &format!("{{{}}}", k + 1),
                &format!("${}", self.params.len()),
            );
        }
        self.clauses.push(c);
    }

    /// `geom && ST_MakEnvelope(…)`: a box the spatial index serves (points on its edges are in).
    pub fn envelope(&mut self, [x0, y0, x1, y1]: [f64; 4]) {
        self.push(
            "geom && ST_MakeEnvelope({1}, {2}, {3}, {4}, 4326)",
            vec![
                SqlValue::Float(x0),
                SqlValue::Float(y0),
                SqlValue::Float(x1),
                SqlValue::Float(y1),
            ],
        );
    }

    /// The clauses joined with `AND` (`TRUE` when none).
    pub fn text(&self) -> String {
        if self.clauses.is_empty() {
            "TRUE".into()
        } else {
            self.clauses.join(" AND ")
        }
    }

    /// The clauses of `f`, as every filter of the list writes them.
    pub fn of(f: &Filter, spans_bounded: bool) -> Sql {
        Sql::of_table(f, spans_bounded, None)
    }

    /// The same, for a table whose rows with evidence `attached` tells.
    pub fn of_table(f: &Filter, spans_bounded: bool, attached: Option<String>) -> Sql {
        let mut w = Sql::new(spans_bounded);
        w.attached = attached;
        for d in FILTERS {
            if d.is_set(f) {
                d.sql(f, &mut w);
            }
        }
        w
    }
}

/// `LIKE` pattern for a substring, with `%`, `_` and `\` taken literally.
pub fn like(needle: &str) -> String {
    let mut s = String::from("%");
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

/// A flag value that is not what the flag takes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// Not a position.
    #[error(
        "'{0}' is not a position: LAT,LON in decimal degrees, degrees-minutes-seconds (33°47′10″N 42°26′28″E) or MGRS (38SLC 12345 67890)"
    )]
    Position(String),
    /// Not a distance.
    #[error("'{0}' is not a distance in kilometres (more than 0, at most 20100)")]
    Km(String),
}

/// A position: decimal, degrees-minutes-seconds or MGRS (`--near`, `--center`).
pub fn latlon(s: &str) -> Result<(f64, f64), ValueError> {
    crate::places::parse_position(s).ok_or_else(|| ValueError::Position(s.to_string()))
}

/// A distance in kilometres: more than 0, at most 20,100 (half way round the Earth).
pub fn km(s: &str) -> Result<f64, ValueError> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() && v <= 20_100.0 => Ok(v),
        _ => Err(ValueError::Km(s.to_string())),
    }
}

fn area_arg(s: &str) -> Result<crate::area::Area, crate::area::AreaError> {
    crate::area::Area::read(std::path::Path::new(s))
}

/// Dates: `--from` and `--to`, inclusive, on the incident's own local dates; a coarse date
/// matches when its span overlaps the range.
struct Dates;

impl FilterDef for Dates {
    fn name(&self) -> &'static str {
        "dates"
    }
    fn args(&self) -> Vec<Arg> {
        vec![
            Arg::new("from")
                .long("from")
                .value_name("YYYY-MM-DD")
                .value_parser(parse_ymd)
                .help("First day to include, YYYY-MM-DD (inclusive, on the incident's local date)"),
            Arg::new("to")
                .long("to")
                .value_name("YYYY-MM-DD")
                .value_parser(parse_ymd)
                .help("Last day to include, YYYY-MM-DD (inclusive)"),
        ]
    }
    fn read(&self, m: &ArgMatches, f: &mut Filter) {
        f.from = m.get_one::<i32>("from").copied();
        f.to = m.get_one::<i32>("to").copied();
    }
    fn is_set(&self, f: &Filter) -> bool {
        f.from.is_some() || f.to.is_some()
    }
    fn take(&self, f: &mut Filter, patch: &Filter) {
        f.from = patch.from.or(f.from);
        f.to = patch.to.or(f.to);
    }
    fn check(&self, f: &Filter) -> Result<(), FilterError> {
        match (f.from, f.to) {
            (Some(from), Some(to)) if from > to => Err(FilterError::Reversed { from, to }),
            _ => Ok(()),
        }
    }
    fn clear(&self, f: &mut Filter) {
        (f.from, f.to) = (None, None);
    }
    fn describe(&self, f: &Filter) -> Option<String> {
        Some(f.date_range_text())
    }
    fn scan(&self, f: &Filter, s: &Store) -> Option<(usize, usize)> {
        // The store is sorted by span start: `to` bounds the end of the scan, and `from` (minus
        // the longest span) its start.
        let hi =
            f.to.map_or(s.len(), |to| s.day.partition_point(|&d| d <= to));
        let lo = f.from.map_or(0, |from| {
            s.day
                .partition_point(|&d| d < from.saturating_sub(MAX_SPAN_DAYS))
        });
        Some((lo, hi.max(lo)))
    }
    fn test<'a>(&self, f: &'a Filter, s: &'a Store) -> Result<Option<Test<'a>>, ReadError> {
        Ok(f.from
            .map(|from| Test::new(move |i: usize| s.day_end[i] >= from)))
    }
    fn sql(&self, f: &Filter, w: &mut Sql) {
        if let Some(from) = f.from {
            w.push(
                "day_last >= DATE '1970-01-01' + {1}::int4",
                vec![SqlValue::Int(from)],
            );
            // Implied by the table's span check (tables made before it have none: no bound).
            if w.spans_bounded {
                w.push(
                    "day_first >= DATE '1970-01-01' + {1}::int4",
                    vec![SqlValue::Int(from.saturating_sub(MAX_SPAN_DAYS))],
                );
            }
        }
        if let Some(to) = f.to {
            w.push(
                "day_first <= DATE '1970-01-01' + {1}::int4",
                vec![SqlValue::Int(to)],
            );
        }
    }
    fn cases(&self) -> Vec<Filter> {
        let day = |s: &str| parse_ymd(s).ok();
        vec![
            Filter {
                from: day("2021-06-01"),
                to: day("2021-06-30"),
                ..Filter::default()
            },
            Filter {
                from: day("2021-06-06"),
                to: day("2021-06-06"),
                ..Filter::default()
            },
            Filter {
                from: day("2021-10-01"),
                ..Filter::default()
            },
            Filter {
                to: day("2021-03-31"),
                ..Filter::default()
            },
        ]
    }
}

/// Types: `--type NAME` (repeatable), as `check` lists them, case-insensitive.
struct Types;

impl FilterDef for Types {
    fn name(&self) -> &'static str {
        "types"
    }
    fn args(&self) -> Vec<Arg> {
        vec![
            Arg::new("type")
                .long("type")
                .value_name("NAME")
                .action(ArgAction::Append)
                .help(
                    "Incident type to include, as `check` lists it (repeatable; case-insensitive)",
                ),
        ]
    }
    fn read(&self, m: &ArgMatches, f: &mut Filter) {
        f.types = m
            .get_many::<String>("type")
            .map(|v| v.cloned().collect())
            .unwrap_or_default();
    }
    fn is_set(&self, f: &Filter) -> bool {
        !f.types.is_empty()
    }
    fn take(&self, f: &mut Filter, patch: &Filter) {
        if self.is_set(patch) {
            f.types = patch.types.clone();
        }
    }
    fn clear(&self, f: &mut Filter) {
        f.types.clear();
    }
    fn describe(&self, f: &Filter) -> Option<String> {
        if f.types.is_empty() {
            None
        } else if f.types.iter().all(|t| t == NO_TYPE) {
            Some("Types: none".into())
        } else {
            Some(format!("Types: {}", f.types.join(", ")))
        }
    }
    fn test<'a>(&self, f: &'a Filter, s: &'a Store) -> Result<Option<Test<'a>>, ReadError> {
        let ok: Vec<bool> = s
            .types
            .names()
            .map(|name| f.types.iter().any(|t| t.trim().eq_ignore_ascii_case(name)))
            .collect();
        Ok(Some(Test::new(move |i| ok[s.type_id[i] as usize])))
    }
    fn sql(&self, f: &Filter, w: &mut Sql) {
        // The name no type has (every type switched off) is no text a server takes: it matches
        // nothing, and so does a list of only that.
        let lower: Vec<String> = f
            .types
            .iter()
            .filter(|t| t.as_str() != NO_TYPE)
            .map(|t| t.trim().to_ascii_lowercase())
            .collect();
        if lower.is_empty() {
            w.push("FALSE", Vec::new());
        } else {
            w.push("lower(type) = ANY({1})", vec![SqlValue::Texts(lower)]);
        }
    }
    fn cases(&self) -> Vec<Filter> {
        let types = |t: &[&str]| Filter {
            types: t.iter().map(|s| s.to_string()).collect(),
            ..Filter::default()
        };
        vec![
            types(&["Drone attack"]),
            types(&["rocket attack", "IED"]),
            types(&[NO_TYPE]),
        ]
    }
}

/// The words of `needle`, trimmed and lower-cased, when there are any.
fn needle(t: &str) -> Option<String> {
    Some(lower(t.trim())).filter(|t| !t.is_empty())
}

/// Whether bit `i` is set.
fn bit(bits: &[u64], i: usize) -> bool {
    bits[i / 64] & (1 << (i % 64)) != 0
}

/// Text: `--text WORDS` in the place or a text column (description, actors, sources, area).
struct Text;

impl FilterDef for Text {
    fn name(&self) -> &'static str {
        "text"
    }
    fn args(&self) -> Vec<Arg> {
        vec![
            Arg::new("text")
                .long("text")
                .value_name("WORDS")
                .help("Words to find in place, notes, actors and sources (case-insensitive)"),
        ]
    }
    fn read(&self, m: &ArgMatches, f: &mut Filter) {
        f.text = m.get_one::<String>("text").cloned();
    }
    fn is_set(&self, f: &Filter) -> bool {
        f.text.is_some()
    }
    fn take(&self, f: &mut Filter, patch: &Filter) {
        if self.is_set(patch) {
            f.text = patch.text.clone();
        }
    }
    fn clear(&self, f: &mut Filter) {
        f.text = None;
    }
    fn describe(&self, f: &Filter) -> Option<String> {
        f.text.as_ref().map(|t| format!("Matching \"{t}\""))
    }
    fn test<'a>(&self, f: &'a Filter, s: &'a Store) -> Result<Option<Test<'a>>, ReadError> {
        let Some(nd) = f.text.as_deref().and_then(needle) else {
            return Ok(None);
        };
        let place: Vec<bool> = s.places.names().map(|p| lower(p).contains(&nd)).collect();
        let hits: Arc<Vec<u64>> = s.role_hits("text", Role::is_text, &nd)?;
        Ok(Some(Test::new(move |i| {
            place[s.place[i] as usize] || bit(&hits, i)
        })))
    }
    fn sql(&self, f: &Filter, w: &mut Sql) {
        if let Some(t) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            w.push(
                "(place ILIKE {1} OR description ILIKE {1} OR actors ILIKE {1} OR source ILIKE {1} OR area ILIKE {1})",
                vec![SqlValue::Text(like(t))],
            );
        }
    }
    fn cases(&self) -> Vec<Filter> {
        let text = |t: &str| Filter {
            text: Some(t.into()),
            ..Filter::default()
        };
        vec![text("baghdad"), text("C-RAM"), text("asad"), text("Anbar")]
    }
}

/// A box: `--bbox min_lon,min_lat,max_lon,max_lat`, edges included.
struct Area;

impl FilterDef for Area {
    fn name(&self) -> &'static str {
        "bbox"
    }
    fn args(&self) -> Vec<Arg> {
        vec![
            Arg::new("bbox")
                .long("bbox")
                .value_name("BOX")
                .value_parser(BBox::parse)
                .allow_hyphen_values(true)
                .help("Area: min_lon,min_lat,max_lon,max_lat"),
        ]
    }
    fn read(&self, m: &ArgMatches, f: &mut Filter) {
        f.bbox = m.get_one::<BBox>("bbox").copied();
    }
    fn is_set(&self, f: &Filter) -> bool {
        f.bbox.is_some()
    }
    fn take(&self, f: &mut Filter, patch: &Filter) {
        f.bbox = patch.bbox.or(f.bbox);
    }
    fn clear(&self, f: &mut Filter) {
        f.bbox = None;
    }
    fn describe(&self, f: &Filter) -> Option<String> {
        f.bbox.map(|b| {
            format!(
                "Area: {},{},{},{}",
                b.min_lon, b.min_lat, b.max_lon, b.max_lat
            )
        })
    }
    fn bounds(&self, f: &Filter) -> Option<[f64; 4]> {
        f.bbox.map(|b| b.to_array())
    }
    fn test<'a>(&self, f: &'a Filter, s: &'a Store) -> Result<Option<Test<'a>>, ReadError> {
        Ok(f.bbox
            .map(|b| Test::new(move |i: usize| b.contains(s.lon[i], s.lat[i]))))
    }
    fn sql(&self, f: &Filter, w: &mut Sql) {
        if let Some(b) = f.bbox {
            w.envelope(b.to_array());
        }
    }
    fn cases(&self) -> Vec<Filter> {
        vec![Filter {
            bbox: BBox::parse("43.9,33.0,44.7,33.6").ok(),
            ..Filter::default()
        }]
    }
}

/// `--disputed`: only incidents whose sources disagree.
struct Disputed;

impl FilterDef for Disputed {
    fn name(&self) -> &'static str {
        "disputed"
    }
    fn args(&self) -> Vec<Arg> {
        vec![
            Arg::new("disputed")
                .long("disputed")
                .action(ArgAction::SetTrue)
                .help("Only incidents whose sources disagree (see data/README.md: accounts, disputed)"),
        ]
    }
    fn read(&self, m: &ArgMatches, f: &mut Filter) {
        f.disputed = m.get_flag("disputed");
    }
    fn is_set(&self, f: &Filter) -> bool {
        f.disputed
    }
    fn take(&self, f: &mut Filter, patch: &Filter) {
        f.disputed |= patch.disputed;
    }
    fn clear(&self, f: &mut Filter) {
        f.disputed = false;
    }
    fn describe(&self, f: &Filter) -> Option<String> {
        f.disputed.then(|| "Disputed accounts only".into())
    }
    fn test<'a>(&self, f: &'a Filter, s: &'a Store) -> Result<Option<Test<'a>>, ReadError> {
        Ok(f.disputed.then(|| Test::new(move |i: usize| s.disputed[i])))
    }
    fn sql(&self, _f: &Filter, w: &mut Sql) {
        w.push("disputed", Vec::new());
    }
    fn cases(&self) -> Vec<Filter> {
        vec![Filter {
            disputed: true,
            ..Filter::default()
        }]
    }
}

/// `--near LAT,LON --radius KM`: within a geodesic distance of a point, the edge included.
struct Nearby;

impl FilterDef for Nearby {
    fn name(&self) -> &'static str {
        "near"
    }
    fn args(&self) -> Vec<Arg> {
        vec![
            Arg::new("near")
                .long("near")
                .value_name("LAT,LON")
                .value_parser(latlon)
                .allow_hyphen_values(true)
                .requires("radius")
                .help("Only incidents within --radius of this point (geodesic; the edge included)"),
            Arg::new("radius")
                .long("radius")
                .value_name("KM")
                .value_parser(km)
                .requires("near")
                .help("Radius for --near, in kilometres"),
        ]
    }
    fn read(&self, m: &ArgMatches, f: &mut Filter) {
        let at = m.get_one::<(f64, f64)>("near").copied();
        let km = m.get_one::<f64>("radius").copied();
        f.near = at.zip(km).map(|((lat, lon), km)| Near { lat, lon, km });
    }
    fn is_set(&self, f: &Filter) -> bool {
        f.near.is_some()
    }
    fn check(&self, f: &Filter) -> Result<(), FilterError> {
        match f.near {
            Some(n)
                if !((-90.0..=90.0).contains(&n.lat)
                    && (-180.0..=180.0).contains(&n.lon)
                    && km(&n.km.to_string()).is_ok()) =>
            {
                Err(FilterError::Near {
                    lat: n.lat,
                    lon: n.lon,
                    km: n.km,
                })
            }
            _ => Ok(()),
        }
    }
    fn take(&self, f: &mut Filter, patch: &Filter) {
        f.near = patch.near.or(f.near);
    }
    fn clear(&self, f: &mut Filter) {
        f.near = None;
    }
    fn describe(&self, f: &Filter) -> Option<String> {
        f.near.map(|n| {
            format!(
                "Within {} of {:.4}, {:.4}",
                crate::geodesy::km_text(n.km),
                n.lat,
                n.lon
            )
        })
    }
    fn bounds(&self, f: &Filter) -> Option<[f64; 4]> {
        f.near.and_then(|n| n.bounds())
    }
    fn test<'a>(&self, f: &'a Filter, s: &'a Store) -> Result<Option<Test<'a>>, ReadError> {
        Ok(f.near.map(|n| {
            let b = n.bounds();
            Test::new(move |i: usize| n.contains(b, s.lon[i], s.lat[i]))
        }))
    }
    fn sql(&self, f: &Filter, w: &mut Sql) {
        let Some(n) = f.near else { return };
        // The same box as files test first (for the index), then the geodesic distance on the
        // ellipsoid (PostGIS geography measures with Karney's method, as geo does here).
        if let Some(b) = n.bounds() {
            w.envelope(b);
        }
        w.push(
            "ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint({1}, {2}), 4326)::geography, {3}, true)",
            vec![
                SqlValue::Float(n.lon),
                SqlValue::Float(n.lat),
                SqlValue::Float(n.km * 1000.0),
            ],
        );
    }
    fn cases(&self) -> Vec<Filter> {
        vec![Filter {
            near: Some(Near {
                lat: 33.2625,
                lon: 44.2344,
                km: 25.0,
            }),
            ..Filter::default()
        }]
    }
}

/// `--within AREA.geojson`: inside an area of interest (holes honoured, the boundary included).
struct Within;

impl FilterDef for Within {
    fn name(&self) -> &'static str {
        "within"
    }
    fn args(&self) -> Vec<Arg> {
        vec![
            Arg::new("within")
                .long("within")
                .value_name("AREA.geojson")
                .value_parser(area_arg)
                .help("Only incidents inside the Polygon/MultiPolygon areas of a GeoJSON file (holes honoured)"),
        ]
    }
    fn read(&self, m: &ArgMatches, f: &mut Filter) {
        f.within = m.get_one::<crate::area::Area>("within").cloned();
    }
    fn is_set(&self, f: &Filter) -> bool {
        f.within.is_some()
    }
    fn take(&self, f: &mut Filter, patch: &Filter) {
        if self.is_set(patch) {
            f.within = patch.within.clone();
        }
    }
    fn clear(&self, f: &mut Filter) {
        f.within = None;
    }
    fn describe(&self, f: &Filter) -> Option<String> {
        f.within
            .as_ref()
            .map(|a| format!("Inside an area ({} vertices)", a.vertices()))
    }
    fn bounds(&self, f: &Filter) -> Option<[f64; 4]> {
        f.within.as_ref().and_then(|a| a.bbox())
    }
    fn test<'a>(&self, f: &'a Filter, s: &'a Store) -> Result<Option<Test<'a>>, ReadError> {
        Ok(f.within
            .as_ref()
            .map(|a| Test::new(move |i: usize| a.contains(s.lon[i], s.lat[i]))))
    }
    fn sql(&self, f: &Filter, w: &mut Sql) {
        let Some(a) = &f.within else { return };
        if let Some(b) = a.bbox() {
            w.envelope(b);
        }
        // ST_Intersects counts the boundary as inside, as files do.
        w.push(
            "ST_Intersects(geom, ST_SetSRID(ST_GeomFromGeoJSON({1}), 4326))",
            vec![SqlValue::Text(a.to_geojson().to_string())],
        );
    }
    fn cases(&self) -> Vec<Filter> {
        // The Baghdad belt, with a hole over the airport.
        let geojson = r#"{"type":"Polygon","coordinates":[
            [[43.9,33.0],[44.7,33.0],[44.7,33.6],[43.9,33.6],[43.9,33.0]],
            [[44.2,33.24],[44.27,33.24],[44.27,33.29],[44.2,33.29],[44.2,33.24]]]}"#;
        let area = crate::area::Area::from_geojson(geojson, "case").ok();
        vec![Filter {
            within: area,
            ..Filter::default()
        }]
    }
}

/// `--actor NAME` (repeatable): an actor column (ACLED `actor1`, `actor2`, `assoc_actor_*`, the
/// bundled data's `actors`) contains one of the names, case-insensitive.
struct Actors;

impl FilterDef for Actors {
    fn name(&self) -> &'static str {
        "actors"
    }
    fn args(&self) -> Vec<Arg> {
        vec![
            Arg::new("actor")
                .long("actor")
                .value_name("NAME")
                .action(ArgAction::Append)
                .help("Only incidents with an actor containing NAME (repeatable: any of them; case-insensitive)"),
        ]
    }
    fn read(&self, m: &ArgMatches, f: &mut Filter) {
        f.actors = m
            .get_many::<String>("actor")
            .map(|v| v.cloned().collect())
            .unwrap_or_default();
    }
    fn is_set(&self, f: &Filter) -> bool {
        f.actors.iter().any(|a| needle(a).is_some())
    }
    fn take(&self, f: &mut Filter, patch: &Filter) {
        if self.is_set(patch) {
            f.actors = patch.actors.clone();
        }
    }
    fn clear(&self, f: &mut Filter) {
        f.actors.clear();
    }
    fn describe(&self, f: &Filter) -> Option<String> {
        self.is_set(f)
            .then(|| format!("Actors: {}", f.actors.join(", ")))
    }
    fn test<'a>(&self, f: &'a Filter, s: &'a Store) -> Result<Option<Test<'a>>, ReadError> {
        let mut any = vec![0u64; s.len().div_ceil(64)];
        for nd in f.actors.iter().filter_map(|a| needle(a)) {
            let hits = s.role_hits("actors", |r| r == Role::Actor, &nd)?;
            for (a, h) in any.iter_mut().zip(hits.iter()) {
                *a |= h;
            }
        }
        Ok(Some(Test::new(move |i| bit(&any, i))))
    }
    fn sql(&self, f: &Filter, w: &mut Sql) {
        let patterns: Vec<String> = f
            .actors
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .map(like)
            .collect();
        w.push("actors ILIKE ANY({1})", vec![SqlValue::Texts(patterns)]);
    }
    fn cases(&self) -> Vec<Filter> {
        let actors = |a: &[&str]| Filter {
            actors: a.iter().map(|s| s.to_string()).collect(),
            ..Filter::default()
        };
        vec![
            actors(&["saraya awliya al-dam"]),
            actors(&["C-RAM"]),
            actors(&["Ashab al-Kahf", "iraqi security forces"]),
        ]
    }
}

/// `--evidence has|none`: incidents with evidence attached, or without.
struct Evidence;

impl FilterDef for Evidence {
    fn name(&self) -> &'static str {
        "evidence"
    }
    fn args(&self) -> Vec<Arg> {
        vec![
            Arg::new("evidence")
                .long("evidence")
                .value_name("has|none")
                .value_parser(["has", "none"])
                .help("Only incidents with evidence attached (has) or without (none)"),
        ]
    }
    fn read(&self, m: &ArgMatches, f: &mut Filter) {
        f.evidence = m.get_one::<String>("evidence").map(|v| v == "has");
    }
    fn is_set(&self, f: &Filter) -> bool {
        f.evidence.is_some()
    }
    fn take(&self, f: &mut Filter, patch: &Filter) {
        if patch.evidence.is_some() {
            f.evidence = patch.evidence;
        }
    }
    fn clear(&self, f: &mut Filter) {
        f.evidence = None;
    }
    fn describe(&self, f: &Filter) -> Option<String> {
        f.evidence.map(|has| {
            if has {
                "With evidence attached".into()
            } else {
                "Without evidence".into()
            }
        })
    }
    fn test<'a>(&self, f: &'a Filter, s: &'a Store) -> Result<Option<Test<'a>>, ReadError> {
        let Some(want) = f.evidence else {
            return Ok(None);
        };
        let marks = s.evidence.get();
        Ok(Some(Test::new(move |i| {
            marks.get(i).copied().unwrap_or(false) == want
        })))
    }
    fn sql(&self, f: &Filter, w: &mut Sql) {
        let Some(want) = f.evidence else { return };
        match (w.attached.clone(), want) {
            (Some(t), true) => w.push(&t, Vec::new()),
            (Some(t), false) => w.push(&format!("NOT ({t})"), Vec::new()),
            (None, true) => w.push("FALSE", Vec::new()),
            (None, false) => {}
        }
    }
    fn cases(&self) -> Vec<Filter> {
        let with = |has| Filter {
            evidence: Some(has),
            ..Filter::default()
        };
        vec![with(true), with(false)]
    }
}

/// The cases of every filter, each alone, then several combined.
pub fn conformance_cases() -> Vec<Filter> {
    let mut all: Vec<Filter> = FILTERS.iter().flat_map(|d| d.cases()).collect();
    // Every filter's first case together, and each pair of neighbours in the list.
    let firsts: Vec<Filter> = FILTERS
        .iter()
        .filter_map(|d| d.cases().into_iter().next())
        .collect();
    let combined = |cases: &[Filter]| cases.iter().fold(Filter::default(), |f, c| f.patched(c));
    all.push(combined(&firsts));
    for pair in firsts.windows(2) {
        all.push(combined(pair));
    }
    all.push(Filter {
        from: parse_ymd("2021-01-01").ok(),
        to: parse_ymd("2021-12-31").ok(),
        types: vec!["Rocket attack".into(), "Drone attack".into()],
        text: Some("base".into()),
        ..Filter::default()
    });
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_is_parameters_never_text() {
        let f = Filter {
            text: Some("50%_off' OR 1=1 --".into()),
            types: vec!["IED".into()],
            ..Filter::default().with_from("2021-06-01").unwrap()
        };
        let w = Sql::of(&f, true);
        let sql = w.text();
        assert!(!sql.contains("OR 1=1"), "{sql}");
        // from (two bounds: the span and the index's), types, text.
        assert_eq!(w.params.len(), 4);
        assert!(sql.contains("$4") && !sql.contains("$5"), "{sql}");
        assert_eq!(like("50%_off"), "%50\\%\\_off%");
        // The text's one parameter serves its five columns.
        assert_eq!(sql.matches("$4").count(), 5, "{sql}");
    }

    #[test]
    fn every_filter_has_cases_that_set_it() {
        for d in FILTERS {
            let cases = d.cases();
            assert!(!cases.is_empty(), "{}", d.name());
            for c in &cases {
                assert!(d.is_set(c), "{}: {c:?}", d.name());
                assert!(d.describe(c).is_some(), "{}", d.name());
            }
        }
    }
}
