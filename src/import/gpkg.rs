//! GeoPackage (`.gpkg`, OGC 12-128r18): an SQLite database. Every feature layer listed in
//! `gpkg_contents` is read in order; each row becomes a GeoJSON feature in memory (its columns as
//! properties, its geometry decoded from the GeoPackage binary header + WKB), then goes through
//! the GeoJSON importer and the usual column detection, as KML and shapefiles do. So a Point is
//! the incident's position and any other geometry its centroid, with a problem noted. Positions
//! are reprojected to WGS 84 from the layer's spatial reference system: WGS 84, Web Mercator or a
//! WGS 84 / UTM zone; another system is a clear error. A row's "line" is its number, counted
//! across the layers in order.

use std::path::PathBuf;

use rusqlite::types::ValueRef;
use serde_json::{Map, Value, json};

use super::crs::{Crs, crs_of};
use super::{FileError, LoadError, Overrides, ParsedFile};

/// Nested collections deeper than this are refused (a crafted file could otherwise recurse
/// without end).
const MAX_DEPTH: u32 = 16;

/// Why a GeoPackage geometry could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryError {
    /// The blob ends too early.
    #[error("truncated geometry")]
    Truncated,
    /// A position the coordinate system does not have.
    #[error("position ({x}, {y}) is outside its coordinate system")]
    Outside {
        /// Easting or longitude.
        x: f64,
        /// Northing or latitude.
        y: f64,
    },
    /// Collections inside collections, too deep.
    #[error("geometry collections nested too deep")]
    TooDeep,
    /// A byte order that is neither 0 nor 1.
    #[error("bad WKB byte order {0}")]
    ByteOrder(u8),
    /// A geometry type code that is not WKB's.
    #[error("unknown WKB geometry type {0}")]
    UnknownType(u32),
    /// A type WKB has that is not read (curves, surfaces).
    #[error("WKB geometry type {0} (curves and surfaces are not read)")]
    Unread(u32),
    /// A part of the wrong type in a multi-geometry.
    #[error("a {part} inside a {whole}")]
    WrongPart {
        /// What the part is.
        part: String,
        /// What holds it.
        whole: &'static str,
    },
    /// No `GP` header.
    #[error("not a GeoPackage geometry (no GP header)")]
    NoHeader,
    /// The extended geometry flag.
    #[error("an extended GeoPackage geometry")]
    Extended,
    /// An envelope code that does not exist.
    #[error("bad envelope indicator {0}")]
    Envelope(u8),
}

/// Why a GeoPackage's layers could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LayerError {
    /// A GeoPackage table is missing.
    #[error("no {0} table (an SQLite database, not a GeoPackage)")]
    NoTable(&'static str),
    /// The GeoPackage tables could not be read.
    #[error("its GeoPackage tables cannot be read ({0})")]
    Tables(String),
    /// The layers could not be listed.
    #[error("cannot read its layers: {0}")]
    Layers(String),
    /// No feature layer.
    #[error("it holds no feature layers")]
    NoLayers,
    /// A layer that is a view (which a crafted file could make endless), or missing.
    #[error("layer {0} is a view or missing; only tables are read")]
    NotATable(String),
    /// A coordinate system that is not reprojected.
    #[error(
        "layer {layer}: its coordinate system ({system}) is not one this program reprojects: WGS 84, Web Mercator or UTM"
    )]
    System {
        /// The layer.
        layer: String,
        /// Its system as the file names it.
        system: String,
    },
}

/// A WKB reader over one geometry: positions come out reprojected, as GeoJSON.
struct Wkb<'a> {
    b: &'a [u8],
    at: usize,
    crs: Crs,
}

impl Wkb<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], GeometryError> {
        let s = self
            .b
            .get(self.at..self.at.saturating_add(n))
            .ok_or(GeometryError::Truncated)?;
        self.at += n;
        Ok(s)
    }

    fn u32(&mut self, le: bool) -> Result<u32, GeometryError> {
        let s: [u8; 4] = self
            .take(4)?
            .try_into()
            .map_err(|_| GeometryError::Truncated)?;
        Ok(if le {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        })
    }

    fn f64(&mut self, le: bool) -> Result<f64, GeometryError> {
        let s: [u8; 8] = self
            .take(8)?
            .try_into()
            .map_err(|_| GeometryError::Truncated)?;
        Ok(if le {
            f64::from_le_bytes(s)
        } else {
            f64::from_be_bytes(s)
        })
    }

    /// A count of items of at least `size` bytes each, checked against what is left (a crafted
    /// count must not reserve memory the file does not hold).
    fn count(&mut self, le: bool, size: usize) -> Result<usize, GeometryError> {
        let n = self.u32(le)? as usize;
        if n.saturating_mul(size) > self.b.len() - self.at {
            return Err(GeometryError::Truncated);
        }
        Ok(n)
    }

    /// One position (Z and M dropped), reprojected; `None` for an empty point (NaN).
    fn position(&mut self, le: bool, dims: usize) -> Result<Option<Value>, GeometryError> {
        let x = self.f64(le)?;
        let y = self.f64(le)?;
        for _ in 2..dims {
            self.f64(le)?;
        }
        if x.is_nan() && y.is_nan() {
            return Ok(None);
        }
        let (lon, lat) = self
            .crs
            .to_wgs84(x, y)
            .ok_or(GeometryError::Outside { x, y })?;
        Ok(Some(json!([lon, lat])))
    }

    fn positions(&mut self, le: bool, dims: usize) -> Result<Vec<Value>, GeometryError> {
        let n = self.count(le, dims * 8)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.extend(self.position(le, dims)?);
        }
        Ok(out)
    }

    /// One geometry as GeoJSON (`Null` when empty).
    fn geometry(&mut self, depth: u32) -> Result<Value, GeometryError> {
        if depth > MAX_DEPTH {
            return Err(GeometryError::TooDeep);
        }
        let le = match self.take(1)?[0] {
            0 => false,
            1 => true,
            b => return Err(GeometryError::ByteOrder(b)),
        };
        let code = self.u32(le)?;
        // ISO WKB adds 1000 (Z), 2000 (M) or 3000 (ZM); extended WKB sets high bits instead.
        let (kind, z, m) = if code & 0xE000_0000 != 0 {
            if code & 0x2000_0000 != 0 {
                self.u32(le)?; // an SRID
            }
            (
                code & 0xFFFF,
                code & 0x8000_0000 != 0,
                code & 0x4000_0000 != 0,
            )
        } else if code / 1000 <= 3 {
            (
                code % 1000,
                matches!(code / 1000, 1 | 3),
                matches!(code / 1000, 2 | 3),
            )
        } else {
            return Err(GeometryError::UnknownType(code));
        };
        let dims = 2 + z as usize + m as usize;
        let parts = |w: &mut Self, name: &'static str, each: u32| -> Result<Value, GeometryError> {
            let n = w.count(le, 5)?;
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let g = w.geometry(depth + 1)?;
                match g.get("type").and_then(Value::as_str) {
                    Some(t) if each == 0 || t == name.trim_start_matches("Multi") => {
                        if each == 0 {
                            out.push(g);
                        } else {
                            out.push(g["coordinates"].clone());
                        }
                    }
                    None => {}
                    Some(t) => {
                        return Err(GeometryError::WrongPart {
                            part: t.to_string(),
                            whole: name,
                        });
                    }
                }
            }
            Ok(match (each, out.is_empty()) {
                (_, true) => Value::Null,
                (0, _) => json!({"type": name, "geometries": out}),
                _ => json!({"type": name, "coordinates": out}),
            })
        };
        Ok(match kind {
            1 => match self.position(le, dims)? {
                Some(p) => json!({"type": "Point", "coordinates": p}),
                None => Value::Null,
            },
            2 => {
                let p = self.positions(le, dims)?;
                if p.is_empty() {
                    Value::Null
                } else {
                    json!({"type": "LineString", "coordinates": p})
                }
            }
            3 => {
                let n = self.count(le, 4)?;
                let mut rings = Vec::with_capacity(n);
                for _ in 0..n {
                    let r = self.positions(le, dims)?;
                    if !r.is_empty() {
                        rings.push(Value::Array(r));
                    }
                }
                if rings.is_empty() {
                    Value::Null
                } else {
                    json!({"type": "Polygon", "coordinates": rings})
                }
            }
            4 => parts(self, "MultiPoint", 1)?,
            5 => parts(self, "MultiLineString", 1)?,
            6 => parts(self, "MultiPolygon", 1)?,
            7 => parts(self, "GeometryCollection", 0)?,
            k => return Err(GeometryError::Unread(k)),
        })
    }
}

/// A GeoPackage geometry blob as GeoJSON (`Null` when empty): the `GP` header (version, flags,
/// SRS id, envelope), then WKB.
fn geometry(blob: &[u8], crs: Crs) -> Result<Value, GeometryError> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err(GeometryError::NoHeader);
    }
    let flags = blob[3];
    if flags & 0x20 != 0 {
        return Err(GeometryError::Extended);
    }
    if flags & 0x10 != 0 {
        return Ok(Value::Null);
    }
    let envelope = match (flags >> 1) & 7 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        e => return Err(GeometryError::Envelope(e)),
    };
    let mut w = Wkb {
        b: blob.get(8 + envelope..).ok_or(GeometryError::Truncated)?,
        at: 0,
        crs,
    };
    w.geometry(0)
}

/// A GeoPackage geometry blob as GeoJSON in WGS 84 coordinates (`Null` when empty): what the
/// reader does with each row's geometry, for fuzzers and tests.
pub fn geometry_json(blob: &[u8]) -> Result<Value, GeometryError> {
    geometry(blob, Crs::Wgs84)
}

/// A column's value as JSON (blobs other than the geometry are left out).
fn value(v: ValueRef<'_>) -> Option<Value> {
    Some(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => json!(n),
        ValueRef::Real(x) => json!(x),
        ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
        ValueRef::Blob(_) => return None,
    })
}

/// An SQL identifier, quoted.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A feature layer: its table, geometry column and coordinate system.
struct Layer {
    table: String,
    column: String,
    crs: Crs,
}

/// Whether `name` is a table (not a view, which a crafted file could make endless).
/// Whether `name` is a table of the database (not a view, not missing); a database that cannot
/// be read says why (a damaged file is not "no such table").
fn is_table(db: &rusqlite::Connection, name: &str) -> Result<bool, LayerError> {
    match db.query_row(
        "SELECT type FROM sqlite_master WHERE name = ?1 COLLATE NOCASE",
        [name],
        |r| r.get::<_, String>(0),
    ) {
        Ok(t) => Ok(t == "table"),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(false),
        Err(e) => Err(LayerError::Tables(e.to_string())),
    }
}

/// The feature layers in `gpkg_contents` order, with their systems resolved, and notes on those
/// left out (a view, or a table listed but missing), unless none is left.
fn layers(db: &rusqlite::Connection) -> Result<(Vec<Layer>, Vec<String>), LayerError> {
    for t in [
        "gpkg_contents",
        "gpkg_geometry_columns",
        "gpkg_spatial_ref_sys",
    ] {
        if !is_table(db, t)? {
            return Err(LayerError::NoTable(t));
        }
    }
    let mut q = db
        .prepare(
            "SELECT c.table_name, g.column_name, g.srs_id, s.organization, \
                    s.organization_coordsys_id, s.definition, s.srs_name \
             FROM gpkg_contents c \
             JOIN gpkg_geometry_columns g ON g.table_name = c.table_name \
             LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id \
             WHERE c.data_type = 'features' ORDER BY c.rowid",
        )
        .map_err(|e| LayerError::Tables(e.to_string()))?;
    type Row = (
        String,
        String,
        i64,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = q
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| LayerError::Layers(e.to_string()))?;
    if rows.is_empty() {
        return Err(LayerError::NoLayers);
    }
    let mut tables = Vec::with_capacity(rows.len());
    for r in &rows {
        tables.push(is_table(db, &r.0)?);
    }
    let mut tables = tables.into_iter();
    let (rows, left_out): (Vec<Row>, Vec<Row>) = rows
        .into_iter()
        .partition(|_| tables.next().unwrap_or(false));
    if rows.is_empty() {
        return Err(LayerError::NotATable(left_out[0].0.clone()));
    }
    let notes = left_out
        .into_iter()
        .map(|r| format!("layer {} is a view or missing; only tables are read", r.0))
        .collect();
    let layers = rows
        .into_iter()
        .map(|(table, column, srs, org, code, def, srs_name)| {
            let crs = match (srs, org.as_deref(), code) {
                // 0: "undefined geographic coordinate reference system" (the standard's WGS 84).
                (0, _, _) => Some(Crs::Wgs84),
                (_, Some(o), Some(c)) if o.eq_ignore_ascii_case("EPSG") => Crs::from_epsg(c),
                _ => def.as_deref().and_then(|d| crs_of(d).ok()),
            };
            let name = match (org, code) {
                (Some(o), Some(c)) if c >= 0 => format!("{o}:{c}"),
                _ => format!("srs_id {srs}"),
            };
            let name = srs_name.map_or(name.clone(), |n| format!("{n}, {name}"));
            crs.map(|crs| Layer {
                table: table.clone(),
                column,
                crs,
            })
            .ok_or(LayerError::System {
                layer: table,
                system: name,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok((layers, notes))
}

/// Why a layer's rows could not be read.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("{0}")]
    Sql(#[from] rusqlite::Error),
    #[error("its columns cannot be listed")]
    Columns,
}

/// Reads the rows of `layer` into `features`, counting `line`s on (a row, a line).
fn read_layer(
    db: &rusqlite::Connection,
    layer: &Layer,
    several: bool,
    (features, line): (&mut super::geojson::Synthesized, &mut u64),
) -> Result<(), ReadError> {
    let read = ReadError::Sql;
    let sql = format!("SELECT * FROM {}", ident(&layer.table));
    let mut q = db.prepare(&sql).map_err(read)?;
    // Column names from the table's description (`table_xinfo`, which lists generated
    // columns too), read as values: rusqlite's name API panics on a name that is not UTF-8
    // (found by the fuzzer).
    let names: Vec<String> = {
        let mut info = db
            .prepare(&format!("PRAGMA table_xinfo({})", ident(&layer.table)))
            .map_err(read)?;
        let rows = info
            .query_map([], |r| {
                // `SELECT *` leaves out only hidden columns (1); generated ones (2, 3) are in.
                let hidden: i64 = r.get(6)?;
                Ok((hidden != 1).then(|| match r.get_ref(1) {
                    Ok(ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
                    _ => String::new(),
                }))
            })
            .map_err(read)?;
        rows.filter_map(Result::transpose)
            .collect::<Result<_, _>>()
            .map_err(read)?
    };
    if names.len() != q.column_count() {
        return Err(ReadError::Columns);
    }
    let mut rows = q.query([]).map_err(read)?;
    while let Some(row) = rows.next().map_err(read)? {
        *line += 1;
        let mut props = Map::new();
        let mut geom = Value::Null;
        let mut problem = None;
        for (i, n) in names.iter().enumerate() {
            let v = row.get_ref(i).map_err(read)?;
            if n.eq_ignore_ascii_case(&layer.column) {
                if let ValueRef::Blob(b) = v {
                    match geometry(b, layer.crs) {
                        Ok(g) => geom = g,
                        Err(e) => problem = Some(e),
                    }
                }
            } else if let Some(v) = value(v) {
                props.insert(n.clone(), v);
            }
        }
        if several {
            props.insert("layer".into(), json!(layer.table));
        }
        match problem {
            Some(e) => features.skip(*line, Some(&layer.column), e.to_string()),
            None => features.push(
                *line,
                &json!({"type": "Feature", "geometry": geom, "properties": props}),
            ),
        }
    }
    Ok(())
}

/// Reads a GeoPackage already read into `bytes`.
pub fn load(
    name: &str,
    path: PathBuf,
    bytes: Vec<u8>,
    ov: &Overrides,
    file: u16,
) -> Result<ParsedFile, FileError> {
    let err = |m: String| FileError {
        file: name.to_string(),
        error: LoadError::GeoPackage(m),
    };
    let mut bytes = bytes;
    // A database left in WAL mode (header bytes 18–19 = 2) cannot be opened from memory: read it
    // as a rollback-journal one. What is still in a `-wal` file beside it is not read.
    if bytes.len() >= 20 && bytes[18] == 2 && bytes[19] == 2 {
        bytes[18] = 1;
        bytes[19] = 1;
    }
    let mut db = rusqlite::Connection::open_in_memory().map_err(|e| err(e.to_string()))?;
    db.deserialize_read_exact(rusqlite::MAIN_DB, &bytes[..], bytes.len(), true)
        .map_err(|e| err(format!("not an SQLite database ({e})")))?;
    let (layers, notes) = layers(&db).map_err(|e| err(e.to_string()))?;
    let several = layers.len() > 1;
    let mut features = super::geojson::Synthesized::new();
    for note in notes {
        features.note(0, note);
    }
    let mut line = 0u64;
    let mut first_failure = None;
    for layer in &layers {
        // A layer that cannot be read is left out with a note and the others still load.
        if let Err(e) = read_layer(&db, layer, several, (&mut features, &mut line)) {
            let why = format!("layer {}: {e}", layer.table);
            features.note(0, format!("{why}; the rest of it was not read"));
            first_failure.get_or_insert(why);
        }
    }
    // Nothing read, and a layer failed: that failure is the file's error.
    if let Some(why) = first_failure.filter(|_| features.is_empty()) {
        return Err(err(why));
    }
    features.load(name, path, crate::store::Format::GeoPackage, ov, file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wkb_point(le: bool, code: u32, xy: &[f64]) -> Vec<u8> {
        let mut v = vec![le as u8];
        let c = if le {
            code.to_le_bytes()
        } else {
            code.to_be_bytes()
        };
        v.extend(c);
        for x in xy {
            v.extend(if le { x.to_le_bytes() } else { x.to_be_bytes() });
        }
        v
    }

    fn gp(envelope: u8, wkb: &[u8]) -> Vec<u8> {
        let mut v = b"GP\0".to_vec();
        v.push(1 | (envelope << 1));
        v.extend(4326i32.to_le_bytes());
        v.extend(vec![0u8; [0, 32, 48, 48, 64][envelope as usize]]);
        v.extend(wkb);
        v
    }

    #[test]
    fn points_in_every_flavour() {
        let want = json!({"type": "Point", "coordinates": [42.441, 33.786]});
        for (le, code, xy) in [
            (true, 1, vec![42.441, 33.786]),
            (false, 1, vec![42.441, 33.786]),
            (true, 1001, vec![42.441, 33.786, 100.0]),
            (true, 3001, vec![42.441, 33.786, 100.0, 5.0]),
            (true, 0x8000_0001, vec![42.441, 33.786, 100.0]),
        ] {
            for env in [0, 1, 2, 4] {
                let b = gp(env, &wkb_point(le, code, &xy));
                assert_eq!(geometry(&b, Crs::Wgs84), Ok(want.clone()), "{code} {env}");
            }
        }
        // Empty: the flag, or NaN coordinates.
        let mut b = gp(0, &wkb_point(true, 1, &[f64::NAN, f64::NAN]));
        assert_eq!(geometry(&b, Crs::Wgs84), Ok(Value::Null));
        b[3] |= 0x10;
        assert_eq!(geometry(&b, Crs::Wgs84), Ok(Value::Null));
    }

    #[test]
    fn collections_and_bad_blobs() {
        // A MultiPoint of two points.
        let mut w = vec![1u8];
        w.extend(4u32.to_le_bytes());
        w.extend(2u32.to_le_bytes());
        w.extend(wkb_point(true, 1, &[1.0, 2.0]));
        w.extend(wkb_point(true, 1, &[3.0, 4.0]));
        assert_eq!(
            geometry(&gp(0, &w), Crs::Wgs84),
            Ok(json!({"type": "MultiPoint", "coordinates": [[1.0, 2.0], [3.0, 4.0]]}))
        );
        // Truncated, a huge count, no header, a curve, deep nesting: errors, never a panic.
        assert!(geometry(&gp(0, &w[..w.len() - 3]), Crs::Wgs84).is_err());
        let mut huge = vec![1u8];
        huge.extend(2u32.to_le_bytes());
        huge.extend(u32::MAX.to_le_bytes());
        assert!(geometry(&gp(0, &huge), Crs::Wgs84).is_err());
        assert!(geometry(b"XX\0\x01\0\0\0\0", Crs::Wgs84).is_err());
        assert!(geometry(&gp(0, &wkb_point(true, 8, &[])), Crs::Wgs84).is_err());
        let mut deep = Vec::new();
        for _ in 0..40 {
            deep.push(1u8);
            deep.extend(7u32.to_le_bytes());
            deep.extend(1u32.to_le_bytes());
        }
        assert!(geometry(&gp(0, &deep), Crs::Wgs84).is_err());
    }
}
