//! Writing selected incidents back out: GeoJSON or CSV, keeping every original column.

use std::io::{self, Write};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::import::csv::read_record;
use crate::query::Selection;
use crate::store::{Format, Store};

/// Output formats of `filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutFormat {
    /// An RFC 7946 FeatureCollection.
    Geojson,
    /// CSV with the original columns.
    Csv,
}

#[derive(Deserialize)]
struct RawFeature<'a> {
    #[serde(borrow)]
    geometry: Option<&'a RawValue>,
    #[serde(borrow)]
    properties: Option<&'a RawValue>,
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Writes the selection as a FeatureCollection. Features from GeoJSON keep their original
/// geometry and properties verbatim; rows from CSV become Points with every column as a
/// string property.
pub fn write_geojson(store: &Store, sel: &Selection, w: &mut dyn Write) -> io::Result<()> {
    w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[")?;
    for (k, &i) in sel.indices.iter().enumerate() {
        let i = i as usize;
        w.write_all(if k == 0 { b"\n" } else { b",\n" })?;
        let f = &store.files[store.file[i] as usize];
        let point = format!(
            "{{\"type\":\"Point\",\"coordinates\":[{},{}]}}",
            store.lon[i], store.lat[i]
        );
        match f.format {
            Format::GeoJson => {
                let raw = std::str::from_utf8(store.raw(i)).unwrap_or("{}");
                let rf: Option<RawFeature> = serde_json::from_str(raw).ok();
                let geometry = rf
                    .as_ref()
                    .and_then(|r| r.geometry)
                    .map(|g| g.get().to_string());
                let geometry = geometry.filter(|g| g != "null").unwrap_or(point);
                let props = rf
                    .as_ref()
                    .and_then(|r| r.properties)
                    .map_or("{}", |p| p.get());
                write!(
                    w,
                    "{{\"type\":\"Feature\",\"geometry\":{geometry},\"properties\":{props}}}"
                )?;
            }
            Format::Csv { delimiter } => {
                let fields = read_record(&f.bytes, store.rec_start[i] as usize, delimiter);
                write!(
                    w,
                    "{{\"type\":\"Feature\",\"geometry\":{point},\"properties\":{{"
                )?;
                for (c, name) in f.columns.iter().enumerate() {
                    if c > 0 {
                        w.write_all(b",")?;
                    }
                    let v = fields.get(c).map_or("", String::as_str);
                    write!(w, "{}:{}", json_str(name), json_str(v))?;
                }
                w.write_all(b"}}")?;
            }
        }
    }
    w.write_all(b"\n]}\n")
}

/// The output header: the single input header when every selected row comes from CSV files
/// with identical headers, otherwise the union of column names in order of appearance, with
/// `longitude`/`latitude` added for GeoJSON rows whose coordinates live in the geometry.
fn header(store: &Store, sel: &Selection) -> Vec<String> {
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
        return f.columns.clone();
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
    cols
}

/// Writes the selection as CSV keeping every original column (see [`header`]).
pub fn write_csv(store: &Store, sel: &Selection, w: &mut dyn Write) -> io::Result<()> {
    let cols = header(store, sel);
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(w);
    out.write_record(&cols)?;
    // Per file: where each of its columns goes in the output.
    let slots: Vec<Vec<Option<usize>>> = store
        .files
        .iter()
        .map(|f| {
            f.columns
                .iter()
                .map(|c| cols.iter().position(|x| x == c))
                .collect()
        })
        .collect();
    let (lon_slot, lat_slot) = (
        cols.iter().position(|c| c == "longitude"),
        cols.iter().position(|c| c == "latitude"),
    );
    let mut row = vec![String::new(); cols.len()];
    for &i in &sel.indices {
        let i = i as usize;
        let fi = store.file[i] as usize;
        let f = &store.files[fi];
        row.iter_mut().for_each(String::clear);
        match f.format {
            Format::Csv { delimiter } => {
                let fields = read_record(&f.bytes, store.rec_start[i] as usize, delimiter);
                if cols.len() == f.columns.len()
                    && slots[fi].iter().enumerate().all(|(a, b)| Some(a) == *b)
                {
                    // Same header: copy the record as is (keeps duplicate column names).
                    let mut fields = fields;
                    fields.resize(cols.len(), String::new());
                    out.write_record(&fields)?;
                    continue;
                }
                for (c, v) in fields.into_iter().enumerate() {
                    if let Some(Some(s)) = slots[fi].get(c) {
                        row[*s] = v;
                    }
                }
            }
            Format::GeoJson => {
                let (props, _) = crate::import::geojson::read_feature(store.raw(i));
                for (c, name) in f.columns.iter().enumerate() {
                    if let (Some(Some(s)), Some(v)) = (slots[fi].get(c), props.get(name)) {
                        row[*s] = crate::import::geojson::value_text(v)
                            .map(|t| t.into_owned())
                            .unwrap_or_default();
                    }
                }
                if f.map.lat.is_none() || f.map.lon.is_none() {
                    if let Some(s) = lon_slot {
                        row[s] = store.lon[i].to_string();
                    }
                    if let Some(s) = lat_slot {
                        row[s] = store.lat[i].to_string();
                    }
                }
            }
        }
        out.write_record(&row)?;
    }
    out.flush()?;
    Ok(())
}
