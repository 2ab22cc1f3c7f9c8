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

/// Writes the selection in `format` to `w` (write errors as I/O errors).
pub fn write_as(
    store: &Store,
    sel: &Selection,
    format: OutFormat,
    w: &mut dyn Write,
) -> io::Result<()> {
    match format {
        OutFormat::Geojson => write_geojson(store, sel, w),
        OutFormat::Csv => write_csv(store, sel, w),
    }
    .map_err(|e| match e {
        WriteError::Io(e) => e,
        other => io::Error::other(other),
    })
}

/// Writes the selection in `format` to `path` atomically (temporary file + rename: on any
/// error the previous file is untouched).
pub fn write_file(
    store: &Store,
    sel: &Selection,
    format: OutFormat,
    path: &std::path::Path,
) -> Result<(), String> {
    crate::atomic::write_atomic(path, |w| write_as(store, sel, format, w))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
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
    let mut used = vec![false; store.files.len()];
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
        .all(|f| matches!(f.format, Format::Csv { .. }) && f.columns == files[0].columns);
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
    if files
        .iter()
        .any(|f| f.format == Format::GeoJson && (f.map.lat.is_none() || f.map.lon.is_none()))
    {
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
        if file.format == Format::GeoJson && (file.map.lat.is_none() || file.map.lon.is_none()) {
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
