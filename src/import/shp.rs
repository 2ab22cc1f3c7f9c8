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
            // No more than the archive says it holds (a lying entry is refused).
            let declared = f.size();
            let mut v = Vec::new();
            (&mut f).take(declared + 1).read_to_end(&mut v).ok()?;
            (v.len() as u64 <= declared).then_some(v)
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

/// Why a shapefile record, or the `.dbf` beside it, cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum RecordError {
    #[error("no shapefile header")]
    NoHeader,
    #[error("the record's length ({0} words) runs past the end of the .shp")]
    RunsPast(i32),
    #[error("an empty record")]
    Empty,
    #[error("its part and point counts are missing or negative")]
    Counts,
    #[error("its point count is missing or negative")]
    PointCount,
    #[error("{0}, more than its {1} bytes hold")]
    TooShort(String, u64),
    #[error("its part starts are not ascending from 0 within its {0} points")]
    Parts(u64),
    #[error("unknown shape type {0}")]
    Kind(i32),
    #[error("unreadable shape ({0})")]
    Shape(String),
    #[error("its header gives no place for the records")]
    NoRoom,
    #[error("its field descriptors do not end where its header says")]
    Descriptors,
    #[error("its fields ({0} bytes) do not fill its records ({1} bytes with the deletion flag)")]
    Widths(usize, usize),
    #[error("its date field {0} is {1} bytes, not 8")]
    DateWidth(String, usize),
    #[error("its field {0} is {1} bytes, narrower than its type's {2}")]
    Narrow(String, usize, usize),
    #[error("no attributes: the .dbf {}", held_text(*.0, *.1))]
    NoAttributes(usize, usize),
    #[error("not a dBase date (eight digits)")]
    NotADate,
    #[error("unreadable in the .dbf: {0}")]
    Dbf(String),
}

/// What a `.dbf` of `declared` records holds when `held` are there.
fn held_text(held: usize, declared: usize) -> String {
    if held < declared {
        format!("ends after {held} of the {declared} records it declares")
    } else {
        format!("holds only {held}")
    }
}

/// The records of a `.shp`, in order: each one's content (its shape type first), or why it
/// cannot be read. A record whose length runs past the end is the last one (no later record
/// can be found); the file itself must have the shapefile's header.
fn shp_records(shp: &[u8]) -> Result<Vec<Result<&[u8], RecordError>>, RecordError> {
    if shp.len() < 100 || shp[..4] != 9994i32.to_be_bytes() {
        return Err(RecordError::NoHeader);
    }
    // Records run to the length the header gives (in 16-bit words), where it is a length
    // within the file: bytes after it are not records.
    let said = i32::from_be_bytes([shp[24], shp[25], shp[26], shp[27]]);
    let end = usize::try_from(said)
        .ok()
        .map(|w| w.saturating_mul(2))
        .filter(|&e| (100..=shp.len()).contains(&e))
        .unwrap_or(shp.len());
    let shp = &shp[..end];
    let mut out = Vec::new();
    let mut at = 100;
    while at + 8 <= shp.len() {
        let words = i32::from_be_bytes([shp[at + 4], shp[at + 5], shp[at + 6], shp[at + 7]]);
        let end = usize::try_from(words)
            .ok()
            .and_then(|w| (at + 8).checked_add(w * 2))
            .filter(|&end| end <= shp.len());
        let Some(end) = end else {
            out.push(Err(RecordError::RunsPast(words)));
            break;
        };
        out.push(Ok(&shp[at + 8..end]));
        at = end;
    }
    Ok(out)
}

/// The shape of one record's content. Its counts are checked against its length first: the
/// shapefile reader allocates what a record declares (a lying count would take gigabytes) and
/// takes part indices on trust.
fn read_shape(content: &[u8]) -> Result<shapefile::Shape, RecordError> {
    use shapefile::ReadableShape;
    let int = |k: usize| {
        content
            .get(k..k + 4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let count = |k: usize| int(k).and_then(|n| u64::try_from(n).ok());
    let len = content.len() as u64;
    let too_short = |what: String| RecordError::TooShort(what, len);
    let kind = int(0).ok_or(RecordError::Empty)?;
    match kind {
        0 | 1 | 11 | 21 => {}
        3 | 5 | 13 | 15 | 23 | 25 | 31 => {
            let (Some(parts), Some(points)) = (count(36), count(40)) else {
                return Err(RecordError::Counts);
            };
            // A multipatch has a type per part after the part indices.
            let per_part = if kind == 31 { 8 } else { 4 };
            if 44 + per_part * parts + 16 * points > len {
                return Err(too_short(format!("{parts} parts of {points} points")));
            }
            // Part k starts at point index k: the first at 0, then ascending, none past the end.
            let mut last = 0;
            for p in 0..parts as usize {
                match count(44 + 4 * p) {
                    Some(s) if s >= last && s <= points && (p > 0 || s == 0) => last = s,
                    _ => {
                        return Err(RecordError::Parts(points));
                    }
                }
            }
        }
        8 | 18 | 28 => match count(36) {
            Some(points) if 40 + 16 * points <= len => {}
            Some(points) => return Err(too_short(format!("{points} points"))),
            None => return Err(RecordError::PointCount),
        },
        other => return Err(RecordError::Kind(other)),
    }
    shapefile::Shape::read_from(&mut Cursor::new(content), content.len() as i32)
        .map_err(|e| RecordError::Shape(e.to_string()))
}

/// Checks what the dBase reader takes on trust in a `.dbf` header: where the records start
/// (after the 32-byte header, the field descriptors and their terminator, and for Visual
/// FoxPro a 263-byte backlink), their size, and fields wide enough for what their type reads.
fn check_dbf_header(dbf: &[u8], layout: &DbfLayout) -> Result<(), RecordError> {
    let least = 33 + backlink(dbf);
    if dbf.len() < 32 || layout.first < least || layout.first > dbf.len() || layout.size == 0 {
        return Err(RecordError::NoRoom);
    }
    if dbf.get(32 + 32 * layout.fields.len()) != Some(&0x0d) {
        return Err(RecordError::Descriptors);
    }
    let widths: usize = layout.fields.iter().map(|f| f.width).sum();
    if widths + 1 != layout.size {
        // The dBase reader steps by the fields' widths: records of another size are misread.
        return Err(RecordError::Widths(widths, layout.size));
    }
    // The widths the reader slices each type at without checking (a date is read as eight
    // digits; booleans, integers, doubles, currency, date-times and memo references at fixed
    // sizes): a narrower field would panic it.
    for f in &layout.fields {
        let least = match f.kind {
            b'L' => 1,
            b'I' | b'M' => 4,
            b'B' | b'Y' | b'T' => 8,
            b'D' if f.width != 8 => return Err(RecordError::DateWidth(f.name.clone(), f.width)),
            _ => 0,
        };
        if f.width < least {
            return Err(RecordError::Narrow(f.name.clone(), f.width, least));
        }
    }
    Ok(())
}

/// The bytes of Visual FoxPro's backlink between a `.dbf`'s field descriptors and its records
/// (none in other versions).
fn backlink(dbf: &[u8]) -> usize {
    if matches!(dbf.first(), Some(0x30..=0x32)) {
        263
    } else {
        0
    }
}

/// A `.dbf` field: its name, type letter, offset in a record (after the deletion flag) and
/// width.
struct DbfField {
    name: String,
    kind: u8,
    offset: usize,
    width: usize,
}

/// Where a `.dbf`'s records are: how many, the first's offset and each one's size.
struct DbfLayout {
    records: usize,
    first: usize,
    size: usize,
    deleted: Vec<bool>,
    fields: Vec<DbfField>,
}

impl DbfLayout {
    fn of(dbf: &[u8]) -> DbfLayout {
        let u16_at = |k: usize| {
            dbf.get(k..k + 2)
                .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
        };
        let records =
            dbf.get(4..8)
                .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])) as usize;
        let first = u16_at(8) as usize;
        // Field descriptors of 32 bytes from byte 32 (name, type at 11, width at 16), as many
        // as fit before the terminator byte (and Visual FoxPro's backlink) that precede the
        // first record — the dBase reader's own count; a record's fields follow its deletion
        // flag.
        let count = first.saturating_sub(33 + backlink(dbf)) / 32;
        let mut fields = Vec::new();
        let mut offset = 1;
        for d in dbf
            .get(32..)
            .unwrap_or_default()
            .chunks_exact(32)
            .take(count)
        {
            let name = d[..11].split(|&b| b == 0).next().unwrap_or_default();
            fields.push(DbfField {
                name: String::from_utf8_lossy(name).into_owned(),
                kind: d[11],
                offset,
                width: d[16] as usize,
            });
            offset += d[16] as usize;
        }
        // Some writers leave the deletion flag out of the record size; the reader (and this)
        // count it in.
        let size = match u16_at(10) as usize {
            s if s + 1 == offset => offset,
            s => s,
        };
        // The deletion flag of each whole record there is ('*': deleted).
        let deleted = (0..if size == 0 { 0 } else { records })
            .map_while(|k| {
                (first + (k + 1) * size <= dbf.len()).then(|| dbf[first + k * size] == b'*')
            })
            .collect();
        DbfLayout {
            records,
            first,
            size,
            deleted,
            fields,
        }
    }
}

/// The attributes of record `k` (`None`: deleted), or the column and reason it cannot be read.
fn dbf_record(
    (dbf, raw): (&mut dbase::Reader<Cursor<&[u8]>>, &[u8]),
    layout: &DbfLayout,
    k: usize,
) -> Result<Option<dbase::Record>, (Option<String>, RecordError)> {
    let held = layout.deleted.len();
    let missing = || (None, RecordError::NoAttributes(held, layout.records));
    match layout.deleted.get(k) {
        None => return Err(missing()),
        Some(true) => return Ok(None),
        Some(false) => {}
    }
    let at = layout.first + k * layout.size;
    for f in layout.fields.iter().filter(|f| f.kind == b'D') {
        // The reader slices a date's trimmed text at fixed places: eight digits, or none.
        let text = &raw[at + f.offset..at + f.offset + f.width];
        if !(text.iter().all(u8::is_ascii_digit) || text.iter().all(|&b| b == b' ' || b == 0)) {
            return Err((Some(f.name.clone()), RecordError::NotADate));
        }
    }
    dbf.seek(k)
        .map_err(|e| (None, RecordError::Dbf(e.to_string())))?;
    match dbf.iter_records().next() {
        Some(Ok(record)) => Ok(Some(record)),
        Some(Err(e)) => Err((
            e.field().as_ref().map(|f| f.name().to_string()),
            RecordError::Dbf(e.kind().to_string()),
        )),
        None => Err(missing()),
    }
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
    let records = shp_records(&parts.shp).map_err(|e| err(format!("not a readable .shp ({e})")))?;
    let layout = DbfLayout::of(&parts.dbf);
    check_dbf_header(&parts.dbf, &layout).map_err(|e| err(format!("not a readable .dbf ({e})")))?;
    let mut dbf = dbase::Reader::new(Cursor::new(&parts.dbf[..]))
        .map_err(|e| err(format!("not a readable .dbf ({e})")))?;
    let order: Vec<String> = dbf.fields().iter().map(|f| f.name().to_string()).collect();
    let mut features = super::geojson::Synthesized::new();
    for (k, content) in records.into_iter().enumerate() {
        // Record k + 1 on line k + 1, so problems name the record.
        let line = k as u64 + 1;
        let shape = match content.and_then(read_shape) {
            Ok(shape) => shape,
            Err(reason) => {
                features.skip(line, None, reason.to_string());
                continue;
            }
        };
        let record = match dbf_record((&mut dbf, &parts.dbf), &layout, k) {
            Ok(Some(record)) => record,
            // Deleted in the .dbf: the feature was removed.
            Ok(None) => continue,
            Err((column, reason)) => {
                features.skip(line, column.as_deref(), reason.to_string());
                continue;
            }
        };
        let mut fields: std::collections::HashMap<String, dbase::FieldValue> =
            record.into_iter().collect();
        let mut props = Map::new();
        for n in &order {
            if let Some(v) = fields.remove(n) {
                props.insert(n.clone(), field_value(v));
            }
        }
        let geometry = shape_geometry(&shape, crs);
        features.push(
            line,
            &json!({"type": "Feature", "geometry": geometry, "properties": props}),
        );
    }
    features.load(name, path, crate::store::Format::Shapefile, ov, file)
}
