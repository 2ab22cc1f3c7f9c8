//! Shapefiles: a `.shp` with its `.dbf` (and `.prj`, `.shx`) beside it, or a `.zip` holding them.
//! Each record becomes a GeoJSON feature in memory (its attributes as properties), then goes
//! through the GeoJSON importer and the usual column detection, as KML does. Positions are
//! reprojected to WGS 84 from what the `.prj` says: geographic WGS 84, Web Mercator, or UTM (any
//! zone, north or south); other systems are a clear error. A record's "line" is its number.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use shapefile::dbase;

use super::crs::{Crs, crs_of};
use super::{FileError, LoadError, Overrides, ParsedFile};

fn field_value(v: dbase::FieldValue) -> Value {
    use dbase::FieldValue as F;
    match v {
        F::Character(s) => s.map(|s| json!(s.trim_end())).unwrap_or(Value::Null),
        F::Numeric(n) => n.map(|n| json!(n)).unwrap_or(Value::Null),
        F::Float(n) => n.map(|n| json!(n)).unwrap_or(Value::Null),
        F::Logical(b) => b.map(|b| json!(b)).unwrap_or(Value::Null),
        F::Date(d) => d
            .map(|d| json!(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())))
            .unwrap_or(Value::Null),
        F::Integer(n) => json!(n),
        F::Double(n) | F::Currency(n) => json!(n),
        F::Memo(s) => json!(s),
        F::DateTime(d) => {
            let day = d.date();
            json!(format!(
                "{:04}-{:02}-{:02}",
                day.year(),
                day.month(),
                day.day()
            ))
        }
    }
}

/// A shape as a GeoJSON geometry, reprojected (`Null` when it has no position): points as
/// Points, polylines as (Multi)LineStrings, polygons as (Multi)Polygons — each outer ring
/// (clockwise, as the format has it) with the holes (counter-clockwise) that follow it — so the
/// GeoJSON importer names the shape and takes the right centroid.
fn shape_geometry(shape: &shapefile::Shape, crs: Crs) -> Value {
    use shapefile::Shape as S;
    let pos = |x: f64, y: f64| crs.to_wgs84(x, y).map(|(lon, lat)| json!([lon, lat]));
    let line = |pts: &mut dyn Iterator<Item = (f64, f64)>| -> Vec<Value> {
        pts.filter_map(|(x, y)| pos(x, y)).collect()
    };
    let lines = |parts: Vec<Vec<Value>>| -> Value {
        let parts: Vec<Vec<Value>> = parts.into_iter().filter(|p| p.len() >= 2).collect();
        match parts.len() {
            0 => Value::Null,
            1 => json!({"type": "LineString", "coordinates": parts[0]}),
            _ => json!({"type": "MultiLineString", "coordinates": parts}),
        }
    };
    // Rings with their signed areas (negative: clockwise, an outer ring).
    let polygons = |rings: Vec<(Vec<Value>, f64)>| -> Value {
        let mut polys: Vec<Vec<Vec<Value>>> = Vec::new();
        for (ring, area) in rings.into_iter().filter(|r| r.0.len() >= 4) {
            match polys.last_mut() {
                Some(p) if area > 0.0 => p.push(ring),
                _ => polys.push(vec![ring]),
            }
        }
        match polys.len() {
            0 => Value::Null,
            1 => json!({"type": "Polygon", "coordinates": polys[0]}),
            _ => json!({"type": "MultiPolygon", "coordinates": polys}),
        }
    };
    let area = |pts: &[(f64, f64)]| -> f64 {
        pts.windows(2)
            .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
            .sum::<f64>()
            / 2.0
    };
    let ring = |pts: Vec<(f64, f64)>| (line(&mut pts.iter().copied()), area(&pts));
    let point = |x: f64, y: f64| {
        pos(x, y).map_or(Value::Null, |p| json!({"type": "Point", "coordinates": p}))
    };
    let multipoint = |pts: Vec<Value>| match pts.len() {
        0 => Value::Null,
        _ => json!({"type": "MultiPoint", "coordinates": pts}),
    };
    match shape {
        S::Point(p) => point(p.x, p.y),
        S::PointM(p) => point(p.x, p.y),
        S::PointZ(p) => point(p.x, p.y),
        S::Polyline(l) => lines(
            l.parts()
                .iter()
                .map(|p| line(&mut p.iter().map(|q| (q.x, q.y))))
                .collect(),
        ),
        S::PolylineM(l) => lines(
            l.parts()
                .iter()
                .map(|p| line(&mut p.iter().map(|q| (q.x, q.y))))
                .collect(),
        ),
        S::PolylineZ(l) => lines(
            l.parts()
                .iter()
                .map(|p| line(&mut p.iter().map(|q| (q.x, q.y))))
                .collect(),
        ),
        S::Polygon(g) => polygons(
            g.rings()
                .iter()
                .map(|r| ring(r.points().iter().map(|q| (q.x, q.y)).collect()))
                .collect(),
        ),
        S::PolygonM(g) => polygons(
            g.rings()
                .iter()
                .map(|r| ring(r.points().iter().map(|q| (q.x, q.y)).collect()))
                .collect(),
        ),
        S::PolygonZ(g) => polygons(
            g.rings()
                .iter()
                .map(|r| ring(r.points().iter().map(|q| (q.x, q.y)).collect()))
                .collect(),
        ),
        S::Multipoint(m) => multipoint(line(&mut m.points().iter().map(|q| (q.x, q.y)))),
        S::MultipointM(m) => multipoint(line(&mut m.points().iter().map(|q| (q.x, q.y)))),
        S::MultipointZ(m) => multipoint(line(&mut m.points().iter().map(|q| (q.x, q.y)))),
        // Multipatches (3-D surfaces) are not incident positions.
        S::Multipatch(_) | S::NullShape => Value::Null,
    }
}

/// The parts of a shapefile, in memory.
struct Parts {
    shp: Vec<u8>,
    dbf: Vec<u8>,
    prj: Option<String>,
}

/// Why a shapefile's parts could not be read.
#[derive(Debug, thiserror::Error)]
enum PartsError {
    #[error("not a readable zip archive ({0})")]
    Zip(#[from] zip::result::ZipError),
    #[error("the archive holds no .shp file")]
    NoShp,
    #[error("cannot read the .shp in the archive (unreadable, or it unpacks to more than 1 GiB)")]
    ShpUnread,
    #[error("the archive holds no .dbf beside the .shp")]
    NoDbfInArchive,
    #[error("no .dbf beside the .shp (its attributes, dates among them)")]
    NoDbf,
    #[error("cannot read {}: {error}", .path.display())]
    DbfUnread {
        path: PathBuf,
        error: std::io::Error,
    },
}

fn read_parts(path: &Path, bytes: Vec<u8>) -> Result<Parts, PartsError> {
    if bytes.starts_with(b"PK\x03\x04") {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes))?;
        let names: Vec<String> = zip.file_names().map(String::from).collect();
        let shp = names
            .iter()
            .find(|n| n.to_ascii_lowercase().ends_with(".shp"))
            .ok_or(PartsError::NoShp)?
            .clone();
        let stem = &shp[..shp.len() - 4];
        let mut entry = |ext: &str| -> Option<Vec<u8>> {
            let name = names
                .iter()
                .find(|n| {
                    n.len() == stem.len() + 4
                        && n.starts_with(stem)
                        && n.to_ascii_lowercase().ends_with(ext)
                })?
                .clone();
            let mut f = zip.by_name(&name).ok()?;
            // Refused before unpacking when the archive says it is bigger (a zip bomb).
            if f.size() > 1 << 30 {
                return None;
            }
            let mut v = Vec::new();
            (&mut f).take(1 << 30).read_to_end(&mut v).ok()?;
            Some(v)
        };
        let shp_bytes = entry(".shp").ok_or(PartsError::ShpUnread)?;
        let dbf = entry(".dbf").ok_or(PartsError::NoDbfInArchive)?;
        let prj = entry(".prj").map(|v| String::from_utf8_lossy(&v).into_owned());
        return Ok(Parts {
            shp: shp_bytes,
            dbf,
            prj,
        });
    }
    let sibling = |ext: &str| -> Option<PathBuf> {
        [ext.to_string(), ext.to_ascii_uppercase()]
            .into_iter()
            .map(|e| path.with_extension(e))
            .find(|p| p.is_file())
    };
    let dbf = sibling("dbf").ok_or(PartsError::NoDbf)?;
    let dbf = std::fs::read(&dbf).map_err(|error| PartsError::DbfUnread { path: dbf, error })?;
    let prj = sibling("prj").and_then(|p| std::fs::read_to_string(p).ok());
    Ok(Parts {
        shp: bytes,
        dbf,
        prj,
    })
}

/// Reads a shapefile (`.shp` with its siblings, or a `.zip` of them).
pub fn load(
    name: &str,
    path: PathBuf,
    bytes: Vec<u8>,
    ov: &Overrides,
    file: u16,
) -> Result<ParsedFile, FileError> {
    let err = |m: String| FileError {
        file: name.to_string(),
        error: LoadError::Shapefile(m),
    };
    // A .zip holding KML rather than a shapefile is a KMZ by another name.
    if bytes.starts_with(b"PK\x03\x04")
        && let Ok(z) = zip::ZipArchive::new(Cursor::new(&bytes[..]))
        && !z
            .file_names()
            .any(|n| n.to_ascii_lowercase().ends_with(".shp"))
        && z.file_names()
            .any(|n| n.to_ascii_lowercase().ends_with(".kml"))
    {
        return super::kml::load_kmz(name, path, bytes, ov, file);
    }
    let parts = read_parts(&path, bytes).map_err(|e| err(e.to_string()))?;
    let crs = match &parts.prj {
        Some(p) => crs_of(p).map_err(|e| err(e.to_string()))?,
        None => Crs::Wgs84,
    };
    let shapes = shapefile::ShapeReader::new(Cursor::new(parts.shp))
        .map_err(|e| err(format!("not a readable .shp ({e})")))?;
    let dbf = dbase::Reader::new(Cursor::new(parts.dbf))
        .map_err(|e| err(format!("not a readable .dbf ({e})")))?;
    let order: Vec<String> = dbf.fields().iter().map(|f| f.name().to_string()).collect();
    let mut reader = shapefile::Reader::new(shapes, dbf);
    let mut features = super::geojson::Synthesized::new();
    for (k, item) in reader.iter_shapes_and_records().enumerate() {
        let (shape, record) = item.map_err(|e| err(format!("record {}: {e}", k + 1)))?;
        let mut fields: std::collections::HashMap<String, dbase::FieldValue> =
            record.into_iter().collect();
        let mut props = Map::new();
        for n in &order {
            if let Some(v) = fields.remove(n) {
                props.insert(n.clone(), field_value(v));
            }
        }
        let geometry = shape_geometry(&shape, crs);
        // Record k + 1 on line k + 1, so problems name the record.
        features.push(
            k as u64 + 1,
            &json!({"type": "Feature", "geometry": geometry, "properties": props}),
        );
    }
    features.load(name, path, crate::store::Format::Shapefile, ov, file)
}
