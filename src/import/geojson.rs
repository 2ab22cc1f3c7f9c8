//! GeoJSON (RFC 7946) FeatureCollections and single Features.
//!
//! Features are first taken as raw JSON slices so that each incident keeps the byte range of its
//! original feature; properties go through the same column detection as CSV headers.

use std::path::PathBuf;

use geo::Centroid;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::columns::{Overrides, detect};
use super::row::{self, Issue};
use super::{FileError, LoadError, ParsedFile};
use crate::model::Problem;
use crate::store::record::value_text;
use crate::store::{Builder, Content, Format, LoadedFile, RecordRef};

#[derive(Deserialize)]
struct Top<'a> {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(borrow)]
    features: Option<Vec<&'a RawValue>>,
}

/// One feature as read: geometry left as JSON until it is needed (not at all when the
/// position comes from properties; a malformed one is then no reason to skip the feature).
#[derive(Deserialize)]
pub struct Feature<'a> {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(borrow)]
    geometry: Option<&'a RawValue>,
    /// The feature's properties.
    pub properties: Option<Map<String, Value>>,
}

fn json_error(e: &serde_json::Error) -> LoadError {
    LoadError::Json {
        line: e.line() as u64,
        column: e.column() as u64,
        truncated: e.is_eof(),
        message: e.to_string(),
    }
}

/// Why a feature's geometry gives no point.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryError {
    /// A position that is not two finite numbers.
    #[error("invalid geometry: every position needs a finite longitude and latitude")]
    Positions,
    /// Not a GeoJSON geometry.
    #[error("invalid geometry: {0}")]
    Invalid(String),
    /// A geometry with no position.
    #[error("empty {0} geometry")]
    Empty(String),
    /// A position off the map.
    #[error(transparent)]
    Coordinate(#[from] row::ValueError),
}

/// A feature's point and the note it comes with (a centroid's), or why it has none.
type Located = Result<((f64, f64), Option<String>), GeometryError>;

/// The point of a geometry: itself for a Point, the centroid otherwise (with a note). Takes
/// the geometry by value: it is converted as it goes, and gone once its point is known.
fn point_of(g: super::geometry::Geom) -> Located {
    let (geo, name) = g.into_geo()?;
    let (p, note) = match geo {
        geo::Geometry::Point(p) => (p, None),
        other => (
            other.centroid().ok_or(GeometryError::Empty(name.clone()))?,
            Some(format!("{name} geometry: using its centroid")),
        ),
    };
    let (lon, lat) = (p.x(), p.y());
    let lon = row::coordinate(&lon.to_string(), 180.0, "longitude")?;
    let lat = row::coordinate(&lat.to_string(), 90.0, "latitude")?;
    Ok(((lon, lat), note))
}

/// The position the importer gives a feature of geometry `g` (a Point's, else the centroid),
/// as `(lon, lat)`: what an edit compares with to tell whether the incident was moved.
pub fn geometry_position(g: &Value) -> Option<(f64, f64)> {
    let g = <super::geometry::Geom as Deserialize>::deserialize(g).ok()?;
    point_of(g).ok().map(|(p, _)| p)
}

/// Loads a GeoJSON file already read into `bytes` (kept in memory for reading records back).
pub fn load(
    name: &str,
    path: PathBuf,
    bytes: Vec<u8>,
    ov: &Overrides,
    file: u16,
) -> Result<ParsedFile, FileError> {
    let bytes: std::sync::Arc<[u8]> = bytes.into();
    load_from(name, path, &bytes.clone(), Content::Memory(bytes), ov, file)
}

/// GeoJSON features made from another format (KML, shapefiles), each laid out on the line of the
/// record it came from, so problems name the original's lines; loaded as GeoJSON kept in memory.
pub(super) struct Synthesized {
    out: String,
    line: u64,
    count: usize,
    /// Records the other format's reader could not turn into a feature: (line, column, reason).
    skipped: Vec<(u64, Option<String>, String)>,
    /// What the reader left out that is no record (a layer): (line, reason).
    notes: Vec<(u64, String)>,
}

impl Synthesized {
    /// No features yet.
    pub(super) fn new() -> Synthesized {
        Synthesized {
            out: String::from("{\"type\":\"FeatureCollection\",\"features\":["),
            line: 1,
            count: 0,
            skipped: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Reports the record on `line` as skipped, for `reason`.
    pub(super) fn skip(&mut self, line: u64, column: Option<&str>, reason: String) {
        self.skipped.push((line, column.map(String::from), reason));
    }

    /// Notes what was left out that is no record (`line` 0: the whole file).
    pub(super) fn note(&mut self, line: u64, reason: String) {
        self.notes.push((line, reason));
    }

    /// Adds `feature` starting on `line` (lines only grow).
    pub(super) fn push(&mut self, line: u64, feature: &serde_json::Value) {
        if self.count > 0 {
            self.out.push(',');
        }
        while self.line < line {
            self.out.push('\n');
            self.line += 1;
        }
        self.out.push_str(&feature.to_string());
        self.count += 1;
    }

    /// Whether no feature was added.
    pub(super) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Loads the features as GeoJSON, reporting `format` as the file's.
    pub(super) fn load(
        mut self,
        name: &str,
        path: PathBuf,
        format: Format,
        ov: &Overrides,
        file: u16,
    ) -> Result<ParsedFile, FileError> {
        self.out.push_str("]}");
        let bytes: std::sync::Arc<[u8]> = self.out.into_bytes().into();
        let mut l = load_from(name, path, &bytes.clone(), Content::Memory(bytes), ov, file)?;
        l.source.format = format;
        l.skipped += self.skipped.len();
        l.problems.extend(
            self.skipped
                .into_iter()
                .map(|(line, column, message)| Problem {
                    file: name.to_string(),
                    line,
                    column,
                    message,
                    skipped: true,
                })
                .chain(self.notes.into_iter().map(|(line, message)| Problem {
                    file: name.to_string(),
                    line,
                    column: None,
                    message,
                    skipped: false,
                })),
        );
        l.problems.sort_by_key(|p| p.line);
        Ok(l)
    }
}

/// Row problems of one file as they are found, and the rows skipped.
struct Found<'a> {
    name: &'a str,
    problems: Vec<Problem>,
    skipped: usize,
}

impl Found<'_> {
    fn add(&mut self, line: u64, column: Option<String>, message: String, skipped: bool) {
        self.problems.push(Problem {
            file: self.name.to_string(),
            line,
            column,
            message,
            skipped,
        });
        self.skipped += skipped as usize;
    }
}

/// The features of a FeatureCollection (or the one Feature), unparsed.
fn raw_features(body: &[u8]) -> Result<Vec<&RawValue>, LoadError> {
    let top: Top = serde_json::from_slice(body).map_err(|e| json_error(&e))?;
    match (top.kind.as_deref(), top.features) {
        (Some("FeatureCollection"), Some(f)) => Ok(f),
        (Some("FeatureCollection"), None) => Err(LoadError::NoFeatures),
        (Some("Feature"), _) => Ok(vec![
            serde_json::from_slice(body).map_err(|e| json_error(&e))?,
        ]),
        (Some(other), _) => Err(LoadError::NotGeoJsonType(other.to_string())),
        (None, _) => Err(LoadError::NotGeoJson),
    }
}

/// Every feature parsed once, with where it is in `bytes` and the line it starts on.
/// A feature as kept until its row is built: its properties, and the point of its geometry
/// (`None`: it has none, or the position comes from properties), worked out as it is read so
/// that no geometry is held (one of millions of vertices took 50 times its size).
struct Parsed {
    properties: Option<Map<String, Value>>,
    point: Option<Located>,
}

fn parse_features(
    raws: Vec<&RawValue>,
    (bytes, file): (&[u8], u16),
    use_props: bool,
    found: &mut Found<'_>,
) -> Vec<(RecordRef, Parsed)> {
    let mut features = Vec::with_capacity(raws.len());
    let (mut line, mut counted) = (1u64, 0usize);
    for raw in raws {
        let start = raw.get().as_ptr() as usize - bytes.as_ptr() as usize;
        line += memchr::memchr_iter(b'\n', &bytes[counted..start]).count() as u64;
        counted = start;
        let at = RecordRef {
            file,
            start: start as u64,
            len: raw.get().len() as u32,
            line: line as u32,
        };
        match serde_json::from_str::<Feature>(raw.get()) {
            Ok(f) if f.kind.as_deref() == Some("Feature") => {
                let point = match f.geometry {
                    Some(g) if !use_props => Some(
                        serde_json::from_str::<super::geometry::Geom>(g.get())
                            .map_err(|e| GeometryError::Invalid(e.to_string()))
                            .and_then(point_of),
                    ),
                    _ => None,
                };
                let properties = f.properties;
                features.push((at, Parsed { properties, point }));
            }
            Ok(_) => found.add(
                line,
                None,
                "not a Feature (\"type\" must be \"Feature\")".into(),
                true,
            ),
            Err(e) => found.add(line, None, format!("invalid feature: {e}"), true),
        }
    }
    features
}

/// Property keys in order of first appearance.
fn columns_of(features: &[(RecordRef, Parsed)]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (_, f) in features {
        for k in f.properties.iter().flat_map(|p| p.keys()) {
            if seen.insert(k.as_str()) {
                columns.push(k.clone());
            }
        }
    }
    columns
}

/// Validates every feature into the builder (a bad one is a problem and skipped).
fn build_rows(
    features: &[(RecordRef, Parsed)],
    columns: &[String],
    map: &crate::model::ColumnMap,
    found: &mut Found<'_>,
) -> Builder {
    let mut builder = Builder::with_capacity(features.len());
    let col_name = |c: Option<usize>| c.and_then(|c| columns.get(c).cloned());
    for (at, f) in features {
        let line = at.line as u64;
        let props = f.properties.as_ref();
        let get = |i: usize| props.and_then(|p| p.get(&columns[i])).and_then(value_text);
        let point = match &f.point {
            Some(Ok((p, note))) => {
                if let Some(n) = note {
                    found.add(line, None, n.clone(), false);
                }
                Some(*p)
            }
            Some(Err(e)) => {
                found.add(line, None, e.to_string(), true);
                continue;
            }
            None if map.lat.is_some() && map.lon.is_some() => None,
            _ => {
                found.add(line, None, "feature has no geometry".into(), true);
                continue;
            }
        };
        match row::build(map, get, point) {
            Ok((r, warnings)) => {
                for Issue { column, message } in warnings {
                    found.add(line, col_name(column), message, false);
                }
                builder.push(&r, *at);
            }
            Err(Issue { column, message }) => found.add(line, col_name(column), message, true),
        }
    }
    builder
}

/// Parses `bytes`, the whole of a file whose records will be read back from `content`.
pub fn load_from(
    name: &str,
    path: PathBuf,
    bytes: &[u8],
    content: Content,
    ov: &Overrides,
    file: u16,
) -> Result<ParsedFile, FileError> {
    let err = |e: LoadError| FileError {
        file: name.to_string(),
        error: e,
    };
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let raws = raw_features(body).map_err(err)?;
    let mut found = Found {
        name,
        problems: Vec::new(),
        skipped: 0,
    };
    let use_props = ov.lat.is_some() || ov.lon.is_some();
    let features = parse_features(raws, (bytes, file), use_props, &mut found);
    let columns = columns_of(&features);
    let map = detect(&columns, ov).map_err(err)?;
    let builder = build_rows(&features, &columns, &map, &mut found);
    drop(features);
    let source = LoadedFile {
        path,
        name: name.to_string(),
        format: Format::GeoJson,
        delimiter: b',',
        utf8: true,
        columns,
        map,
        content,
    };
    Ok(ParsedFile {
        builder,
        source,
        problems: found.problems,
        skipped: found.skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(s: &str) -> Result<ParsedFile, FileError> {
        load(
            "t.geojson",
            "t.geojson".into(),
            s.as_bytes().to_vec(),
            &Overrides::default(),
            0,
        )
    }

    #[test]
    fn points_polygons_and_epoch_times() {
        let s = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Point","coordinates":[44.2344,33.2625]},"properties":{"time":1622928600000,"type":"Interception"}},
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,2],[0,2],[0,0]]]},"properties":{"time":1622928600000,"type":"IED"}},
{"type":"Feature","geometry":{"type":"Point","coordinates":[200,33]},"properties":{"time":1622928600000}}
]}"#;
        let l = load_str(s).unwrap();
        assert_eq!(l.builder.len(), 2);
        assert_eq!(l.skipped, 1);
        let lines: Vec<(u64, bool)> = l.problems.iter().map(|p| (p.line, p.skipped)).collect();
        assert_eq!(lines, vec![(3, false), (4, true)]);
        let store = l.builder.finish(vec![l.source]);
        assert_eq!(store.date_string(0), "2021-06-05");
        assert_eq!((store.lon[1], store.lat[1]), (1.0, 1.0));
        let r = store.record(0).unwrap();
        assert_eq!(r.get("type").unwrap().text(), "Interception");
        assert_eq!(r.geometry.unwrap()["type"], "Point");
    }

    #[test]
    fn short_positions_are_problems_not_panics() {
        // Found by cargo-fuzz: a one-number position inside a polygon.
        let s = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[43,33],[43,34],[42.34],[42,33]]]},"properties":{"time":1623015000000}},
{"type":"Feature","geometry":{"type":"Point","coordinates":[44]},"properties":{"time":1623015000000}},
{"type":"Feature","geometry":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,"x"]}]},"properties":{"time":1623015000000}},
{"type":"Feature","geometry":{"type":"Point","coordinates":[44,33]},"properties":{"time":1623015000000}}
]}"#;
        let l = load_str(s).unwrap();
        assert_eq!(l.builder.len(), 1);
        assert_eq!(l.skipped, 3);
        assert!(
            l.problems
                .iter()
                .all(|p| p.message.contains("invalid geometry"))
        );
    }

    #[test]
    fn a_position_from_properties_reads_no_geometry() {
        // With --lat/--lon the geometry is not read at all: a malformed one skips nothing.
        let s = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"GeometryCollection","geometries":{}},"properties":{"y":33.5,"x":44.25,"time":1623015000000}}
]}"#;
        let ov = Overrides {
            lat: Some("y".into()),
            lon: Some("x".into()),
            ..Default::default()
        };
        let l = load(
            "t.geojson",
            "t.geojson".into(),
            s.as_bytes().to_vec(),
            &ov,
            0,
        )
        .unwrap();
        assert_eq!((l.builder.len(), l.skipped), (1, 0));
        // Without them, that geometry is the feature's problem, named as one.
        let l = load_str(s).unwrap();
        assert_eq!(l.skipped, 1);
        assert!(
            l.problems[0]
                .message
                .contains("invalid geometry: not a GeoJSON geometry object")
        );
    }

    #[test]
    fn truncated_and_wrong_json_fail_the_file() {
        assert!(
            load_str(r#"{"type":"FeatureCollection","features":[{"type":"Fea"#)
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
        assert!(
            load_str(r#"{"type":"Topology"}"#)
                .unwrap_err()
                .to_string()
                .contains("Topology")
        );
        assert!(load_str("[1,2]").is_err());
        let deep = "[".repeat(100_000);
        assert!(load_str(&deep).is_err());
    }
}
