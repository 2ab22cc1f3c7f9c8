//! Writing selected incidents back out: GeoJSON or CSV, keeping every original column. Records
//! are read back from their files through the record API.

use std::io::{self, Write};

use serde_json::{Map, Value};

use crate::query::Selection;
use crate::store::{Format, ReadError, Record, Store};

/// Output formats of `filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutFormat {
    /// An RFC 7946 FeatureCollection.
    Geojson,
    /// CSV with the original columns.
    Csv,
    /// KML for Google Earth: a style per type, times for the time slider, every field.
    Kml,
    /// The same KML zipped (`doc.kml` in a KMZ archive).
    Kmz,
}

/// Why writing failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// An incident's record could not be read back.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The destination refused the bytes.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Where output went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A file.
    File(std::path::PathBuf),
    /// Standard output.
    Stdout,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::File(p) => write!(f, "{}", p.display()),
            Target::Stdout => write!(f, "to standard output"),
        }
    }
}

/// Writing to a destination failed: where, and why (a record not read back, or the bytes
/// refused).
#[derive(Debug, thiserror::Error)]
#[error("cannot write {target}: {error}")]
pub struct OutputError {
    /// Where.
    pub target: Target,
    /// Why.
    #[source]
    pub error: WriteError,
}

/// Writes the selection in `format` to `w`.
pub fn write_as(
    store: &Store,
    sel: &Selection,
    format: OutFormat,
    w: &mut dyn Write,
) -> Result<(), WriteError> {
    match format {
        OutFormat::Geojson => write_geojson(store, sel, w),
        OutFormat::Csv => write_csv(store, sel, w),
        OutFormat::Kml => write_kml(store, sel, w),
        OutFormat::Kmz => write_kmz(store, sel, w),
    }
}

/// Writes the selection in `format` to `path` atomically (temporary file + rename: on any
/// error the previous file is untouched).
pub fn write_file(
    store: &Store,
    sel: &Selection,
    format: OutFormat,
    path: &std::path::Path,
) -> Result<(), OutputError> {
    crate::atomic::write_atomic(path, |w| write_as(store, sel, format, w)).map_err(|error| {
        OutputError {
            target: Target::File(path.to_path_buf()),
            error,
        }
    })
}

fn point(store: &Store, i: usize) -> Value {
    serde_json::json!({"type": "Point", "coordinates": [store.lon[i], store.lat[i]]})
}

/// Writes the selection as a FeatureCollection. Features from GeoJSON keep their original
/// geometry and property values; rows from CSV become Points with every column as a string
/// property.
pub fn write_geojson(store: &Store, sel: &Selection, w: &mut dyn Write) -> Result<(), WriteError> {
    w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[")?;
    for (k, (i, r)) in store.records(&sel.indices).enumerate() {
        let r = r?;
        let i = i as usize;
        w.write_all(if k == 0 { b"\n" } else { b",\n" })?;
        let properties: Map<String, Value> =
            r.fields.into_iter().map(|f| (f.name, f.value)).collect();
        let feature = serde_json::json!({
            "type": "Feature",
            "geometry": r.geometry.unwrap_or_else(|| point(store, i)),
            "properties": properties,
        });
        serde_json::to_writer(&mut *w, &feature).map_err(io::Error::from)?;
    }
    w.write_all(b"\n]}\n")?;
    Ok(())
}

/// The output header: the single input header when every selected row comes from CSV files
/// with identical headers, otherwise the union of column names in order of appearance, with
/// `longitude`/`latitude` added for GeoJSON rows whose coordinates live in the geometry.
fn header(store: &Store, sel: &Selection) -> (Vec<String>, bool) {
    // The files the selection comes from; none selected: every file's columns (a header with
    // no rows is still the header a pipeline expects).
    let mut used = vec![sel.indices.is_empty(); store.files.len()];
    for &i in &sel.indices {
        used[store.file[i as usize] as usize] = true;
    }
    let files: Vec<_> = store
        .files
        .iter()
        .zip(used)
        .filter(|(_, u)| *u)
        .map(|(f, _)| f)
        .collect();
    let all_csv_same = files
        .iter()
        .all(|f| f.format == Format::Csv && f.columns == files[0].columns);
    if let (true, Some(f)) = (all_csv_same, files.first()) {
        return (f.columns.clone(), true);
    }
    let mut cols: Vec<String> = Vec::new();
    for f in &files {
        for c in &f.columns {
            if !cols.contains(c) {
                cols.push(c.clone());
            }
        }
    }
    if files.iter().any(|f| {
        matches!(
            f.format,
            Format::GeoJson | Format::Kml | Format::Shapefile | Format::GeoPackage
        ) && (f.map.lat.is_none() || f.map.lon.is_none())
    }) {
        for c in ["longitude", "latitude"] {
            if !cols.iter().any(|x| x == c) {
                cols.push(c.into());
            }
        }
    }
    (cols, false)
}

/// Writes the selection as CSV keeping every original column (see [`header`]).
pub fn write_csv(store: &Store, sel: &Selection, w: &mut dyn Write) -> Result<(), WriteError> {
    let (cols, same) = header(store, sel);
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(w);
    out.write_record(&cols).map_err(io::Error::from)?;
    let (lon_slot, lat_slot) = (
        cols.iter().position(|c| c == "longitude"),
        cols.iter().position(|c| c == "latitude"),
    );
    let mut row = vec![String::new(); cols.len()];
    for (i, r) in store.records(&sel.indices) {
        let r: Record = r?;
        let i = i as usize;
        if same {
            // One header for all: the record as it was, values past the header included.
            let mut fields: Vec<String> = r.fields.iter().map(|f| f.text().into_owned()).collect();
            fields.resize(fields.len().max(cols.len()), String::new());
            out.write_record(&fields).map_err(io::Error::from)?;
            continue;
        }
        row.iter_mut().for_each(String::clear);
        for f in &r.fields {
            if let Some(s) = cols.iter().position(|c| *c == f.name) {
                row[s] = f.text().into_owned();
            }
        }
        let file = &store.files[store.file[i] as usize];
        if matches!(
            file.format,
            Format::GeoJson | Format::Kml | Format::Shapefile | Format::GeoPackage
        ) && (file.map.lat.is_none() || file.map.lon.is_none())
        {
            if let Some(s) = lon_slot {
                row[s] = store.lon[i].to_string();
            }
            if let Some(s) = lat_slot {
                row[s] = store.lat[i].to_string();
            }
        }
        out.write_record(&row).map_err(io::Error::from)?;
    }
    out.flush()?;
    Ok(())
}

/// Text safe inside an XML element or attribute.
pub(crate) fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 allows no other control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A field's value as ExtendedData text: text as it is; lists of plain values joined by "; ";
/// anything else as JSON.
fn field_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Google Earth's icon for a symbol.
fn icon(sym: crate::style::Symbol) -> &'static str {
    use crate::style::Symbol;
    match sym {
        Symbol::Circle => "placemark_circle.png",
        Symbol::Square => "square.png",
        Symbol::Diamond => "open-diamond.png",
        Symbol::TriangleUp | Symbol::TriangleDown => "triangle.png",
        Symbol::Hexagon => "polygon.png",
    }
}

/// The incident's time for Google Earth's time slider: a `TimeStamp` for a day (with the local
/// time and offset when known), a `TimeSpan` for a week, month or year.
fn kml_time(store: &Store, i: usize) -> String {
    use crate::date::format_day;
    let (d, e) = (store.day[i], store.day_end[i]);
    if d == e {
        let when = match (store.minute[i], store.offset[i]) {
            (m, o) if m >= 0 && o != i16::MIN => {
                let sign = if o < 0 { '-' } else { '+' };
                format!(
                    "{}T{:02}:{:02}:00{sign}{:02}:{:02}",
                    format_day(d),
                    m / 60,
                    m % 60,
                    o.unsigned_abs() / 60,
                    o.unsigned_abs() % 60
                )
            }
            _ => format_day(d),
        };
        format!("<TimeStamp><when>{when}</when></TimeStamp>")
    } else {
        format!(
            "<TimeSpan><begin>{}</begin><end>{}</end></TimeSpan>",
            format_day(d),
            format_day(e)
        )
    }
}

/// Writes the selection as KMZ: the KML of [`write_kml`] as `doc.kml`, deflated.
pub fn write_kmz(store: &Store, sel: &Selection, w: &mut dyn Write) -> Result<(), WriteError> {
    let mut kml = Vec::new();
    write_kml(store, sel, &mut kml)?;
    let mut zip = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("doc.kml", options)
        .map_err(io::Error::other)?;
    zip.write_all(&kml)?;
    let bytes = zip.finish().map_err(io::Error::other)?.into_inner();
    w.write_all(&bytes)?;
    Ok(())
}

/// Writes the selection as KML: one style per type in the legend's colours and symbols, a time
/// for Google Earth's slider, and every original field in ExtendedData.
pub fn write_kml(store: &Store, sel: &Selection, w: &mut dyn Write) -> Result<(), WriteError> {
    let mut w = io::BufWriter::new(w);
    writeln!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<kml xmlns=\"http://www.opengis.net/kml/2.2\">\n<Document>\n<name>incident-map</name>"
    )?;
    let mut used: Vec<u32> = sel
        .indices
        .iter()
        .map(|&i| store.type_id[i as usize])
        .collect();
    used.sort_unstable();
    used.dedup();
    for &t in &used {
        let (color, sym) = store.colours.style(store.types.name(t));
        // KML colours are aabbggrr.
        writeln!(
            w,
            "<Style id=\"type{t}\"><IconStyle><color>ff{:02x}{:02x}{:02x}</color><scale>1.1</scale><Icon><href>http://maps.google.com/mapfiles/kml/shapes/{}</href></Icon></IconStyle></Style>",
            color[2],
            color[1],
            color[0],
            icon(sym)
        )?;
    }
    for (i, r) in store.records(&sel.indices) {
        let r = r?;
        let i = i as usize;
        let place = store.place_name(i);
        let name = if place.is_empty() {
            store.type_name(i).to_string()
        } else {
            format!("{} — {place}", store.type_name(i))
        };
        write!(w, "<Placemark><name>{}</name>", xml(&name))?;
        if let Some(d) = r.texts(crate::model::Role::Description).first() {
            write!(w, "<description>{}</description>", xml(d))?;
        }
        write!(
            w,
            "<styleUrl>#type{}</styleUrl>{}",
            store.type_id[i],
            kml_time(store, i)
        )?;
        write!(w, "<ExtendedData>")?;
        for f in &r.fields {
            write!(
                w,
                "<Data name=\"{}\"><value>{}</value></Data>",
                xml(&f.name),
                xml(&field_text(&f.value))
            )?;
        }
        writeln!(
            w,
            "</ExtendedData><Point><coordinates>{},{}</coordinates></Point></Placemark>",
            store.lon[i], store.lat[i]
        )?;
    }
    writeln!(w, "</Document>\n</kml>")?;
    w.flush()?;
    Ok(())
}
