//! The one record API: an incident's original fields, read back from its file on demand, each
//! value labelled with its column's role. Details, the table, text search, the output writers and
//! the CLI all read original fields here and nowhere else; a new input format adds its reader
//! in [`parse`] and nothing else.

use std::borrow::Cow;
use std::sync::Arc;

use csv::{ByteRecord, ReaderBuilder};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::Store;
use super::file::{Format, LoadedFile, ReadError};
use crate::model::Role;
use crate::text::{contains_ci, decode, lower};

/// One original value.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Column or property name as in the file.
    pub name: String,
    /// The value: a string for delimited text, the JSON value for GeoJSON properties.
    pub value: Value,
    /// What the column means.
    pub role: Role,
}

impl Field {
    /// The value as text, as a CSV cell would hold it ("" for null).
    pub fn text(&self) -> Cow<'_, str> {
        value_text(&self.value).unwrap_or(Cow::Borrowed(""))
    }
}

/// An incident's original record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    /// Every original value, in file order.
    pub fields: Vec<Field>,
    /// The original geometry (GeoJSON only).
    pub geometry: Option<Value>,
}

impl Record {
    /// The non-empty texts of the fields with `role`.
    pub fn texts(&self, role: Role) -> Vec<String> {
        self.fields
            .iter()
            .filter(|f| f.role == role)
            .map(|f| f.text().trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// The field named `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Text of a property value as a CSV cell would hold it (`None` for null or absent).
pub fn value_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        other => Some(Cow::Owned(other.to_string())),
    }
}

#[derive(Deserialize)]
struct RawFeature {
    geometry: Option<Value>,
    properties: Option<Map<String, Value>>,
}

type CsvReader = csv::Reader<std::io::Cursor<Vec<u8>>>;

thread_local! {
    /// One reader per thread and delimiter, reused: building a CSV reader costs more than
    /// reading a typical record with it.
    static READER: std::cell::RefCell<Option<(u8, CsvReader, ByteRecord)>> =
        const { std::cell::RefCell::new(None) };
}

/// The thread's reader for `delimiter` (made when missing) and the one delimited record `raw`
/// read with it (`None` when it holds none).
fn csv_byte_record<'s>(
    slot: &'s mut Option<(u8, CsvReader, ByteRecord)>,
    delimiter: u8,
    raw: &[u8],
) -> Option<&'s ByteRecord> {
    if slot.as_ref().is_none_or(|(d, _, _)| *d != delimiter) {
        let rdr = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(std::io::Cursor::new(Vec::new()));
        *slot = Some((delimiter, rdr, ByteRecord::new()));
    }
    let (_, rdr, rec) = slot.as_mut()?;
    {
        let cur = rdr.get_mut();
        cur.get_mut().clear();
        cur.get_mut().extend_from_slice(raw);
    }
    // Seeking resets the parser, so each record starts from a clean state.
    rdr.seek(csv::Position::new()).ok()?;
    match rdr.read_byte_record(rec) {
        Ok(true) => Some(rec),
        _ => None,
    }
}

/// One original value, borrowed: what a [`Field`] holds, without a copy.
#[derive(Debug, Clone, Copy)]
pub struct FieldRef<'a> {
    /// Column or property name as in the file.
    pub name: &'a str,
    /// The value.
    pub value: ValueRef<'a>,
    /// What the column means.
    pub role: Role,
}

/// A borrowed value: a delimited text's cell, or a JSON value.
#[derive(Debug, Clone, Copy)]
pub enum ValueRef<'a> {
    /// A cell of delimited text (a JSON string).
    Text(&'a str),
    /// A property of a feature.
    Json(&'a Value),
}

impl ValueRef<'_> {
    /// The value as text, as [`Field::text`] gives it.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            ValueRef::Text(s) => Cow::Borrowed(s),
            ValueRef::Json(v) => value_text(v).unwrap_or(Cow::Borrowed("")),
        }
    }
}

impl Record {
    /// Its fields, borrowed.
    pub fn field_refs(&self) -> Vec<FieldRef<'_>> {
        self.fields
            .iter()
            .map(|f| FieldRef {
                name: &f.name,
                value: ValueRef::Json(&f.value),
                role: f.role,
            })
            .collect()
    }
}

/// Calls `f` with the fields of one record of `file` (its raw bytes), borrowed: the names,
/// values and roles [`parse`] gives, without building a [`Record`] (no copy of each name and
/// value: what a pass over every record, such as `load`'s, spends most of its time on).
pub fn with_fields<R>(file: &LoadedFile, raw: &[u8], f: impl FnOnce(&[FieldRef<'_>]) -> R) -> R {
    if file.format != Format::Csv {
        let record = parse(file, raw);
        return f(&record.field_refs());
    }
    READER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let values: Vec<Cow<'_, str>> = csv_byte_record(&mut slot, file.delimiter, raw)
            .map_or_else(Vec::new, |rec| rec.iter().map(decode).collect());
        let n = values.len().max(file.columns.len());
        // Values past the header keep a name so nothing is lost on export.
        let extra: Vec<String> = (file.columns.len()..n)
            .map(|c| format!("column_{}", c + 1))
            .collect();
        let fields: Vec<FieldRef<'_>> = (0..n)
            .map(|c| FieldRef {
                name: file
                    .columns
                    .get(c)
                    .unwrap_or_else(|| &extra[c - file.columns.len()]),
                value: ValueRef::Text(values.get(c).map_or("", |v| v)),
                role: file.map.role(c),
            })
            .collect();
        f(&fields)
    })
}

/// Parses the raw bytes of one record of `file`.
pub fn parse(file: &LoadedFile, raw: &[u8]) -> Record {
    let role_of = |name: &str| {
        file.columns
            .iter()
            .position(|c| c == name)
            .map_or(Role::Other, |c| file.map.role(c))
    };
    match file.format {
        // The borrowed fields, owned.
        Format::Csv => with_fields(file, raw, |fields| Record {
            fields: fields
                .iter()
                .map(|f| Field {
                    name: f.name.to_string(),
                    value: Value::String(f.value.text().into_owned()),
                    role: f.role,
                })
                .collect(),
            geometry: None,
        }),
        Format::GeoJson | Format::Kml | Format::Kmz | Format::Shapefile | Format::GeoPackage => {
            match serde_json::from_slice::<RawFeature>(raw) {
                Ok(f) => Record {
                    fields: f
                        .properties
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(name, value)| Field {
                            role: role_of(&name),
                            name,
                            value,
                        })
                        .collect(),
                    geometry: f.geometry.filter(|g| !g.is_null()),
                },
                Err(_) => Record::default(),
            }
        }
    }
}

/// Whether a record mentions `needle` (lowercase, non-empty) in a column whose role `pick`s.
fn mentions(file: &LoadedFile, raw: &[u8], pick: fn(Role) -> bool, needle: &str) -> bool {
    // Cheap rejection on the raw bytes; non-ASCII needles skip it (case folding differs), and
    // so do legacy-encoded files (the needle's bytes may be encoded differently).
    if needle.is_ascii() && !contains_ci(raw, needle.as_bytes()) {
        return false;
    }
    parse(file, raw)
        .fields
        .iter()
        .any(|f| pick(f.role) && lower(&f.text()).contains(needle))
}

/// Records per batch when reading many: bounds memory to a few MiB of raw records.
const BATCH: usize = 16_384;
/// Records closer than this in a file are read with one system call.
const GAP: u64 = 64 << 10;
/// Largest single read.
const MAX_READ: u64 = 8 << 20;

/// Raw records of one batch, read in file order and kept in request order.
#[derive(Default)]
struct Batch {
    arena: Vec<u8>,
    /// Per request position: range in `arena`, or why it could not be read.
    spans: Vec<Result<(usize, usize), ReadError>>,
}

impl Store {
    /// The raw bytes of incident `i`'s record, as its file holds them (checked to be the file
    /// that was loaded).
    pub fn raw_record(&self, i: usize) -> Result<Vec<u8>, ReadError> {
        let f = &self.files[self.file[i] as usize];
        let mut raw = Vec::new();
        f.read_into(self.rec_start[i], self.rec_len[i] as usize, &mut raw)?;
        Ok(raw)
    }

    /// The original record of incident `i`.
    pub fn record(&self, i: usize) -> Result<Record, ReadError> {
        let f = &self.files[self.file[i] as usize];
        let mut raw = Vec::new();
        f.read_into(self.rec_start[i], self.rec_len[i] as usize, &mut raw)?;
        Ok(parse(f, &raw))
    }

    /// The original records of `order`, in that order, read in batches sorted by file position
    /// (a few large reads instead of one per record).
    pub fn records<'a>(&'a self, order: &'a [u32]) -> Records<'a> {
        self.records_batched(order, BATCH)
    }

    /// [`Store::records`] reading `batch` records at a time: a whole-store pass in time order
    /// (records scattered over the file) reads the file once per batch, so larger batches read
    /// less, for more memory (the raw records of one batch).
    pub fn records_batched<'a>(&'a self, order: &'a [u32], batch: usize) -> Records<'a> {
        Records {
            store: self,
            order,
            pos: 0,
            batch: Batch::default(),
            batch_start: 0,
            size: batch.max(1),
        }
    }

    /// Reads the raw bytes of `order` (request order kept).
    fn read_batch(&self, order: &[u32], out: &mut Batch) {
        out.arena.clear();
        out.spans.clear();
        let mut by_pos: Vec<usize> = (0..order.len()).collect();
        by_pos.sort_unstable_by_key(|&k| {
            let i = order[k] as usize;
            (self.file[i], self.rec_start[i])
        });
        out.spans.resize(order.len(), Ok((0, 0)));
        let mut buf = Vec::new();
        let mut k = 0;
        while k < by_pos.len() {
            // A run of nearby records of one file, read at once.
            let first = order[by_pos[k]] as usize;
            let file = self.file[first];
            let start = self.rec_start[first];
            let mut end = start + self.rec_len[first] as u64;
            let mut m = k + 1;
            while m < by_pos.len() {
                let j = order[by_pos[m]] as usize;
                let (s, e) = (
                    self.rec_start[j],
                    self.rec_start[j] + self.rec_len[j] as u64,
                );
                if self.file[j] != file || s > end + GAP || e.max(end) - start > MAX_READ {
                    break;
                }
                end = end.max(e);
                m += 1;
            }
            buf.clear();
            let res = self.files[file as usize].read_into(start, (end - start) as usize, &mut buf);
            for &p in &by_pos[k..m] {
                let i = order[p] as usize;
                out.spans[p] = match &res {
                    Ok(()) => {
                        let s = (self.rec_start[i] - start) as usize;
                        let at = out.arena.len();
                        out.arena
                            .extend_from_slice(&buf[s..s + self.rec_len[i] as usize]);
                        Ok((at, self.rec_len[i] as usize))
                    }
                    Err(e) => Err(e.clone()),
                };
            }
            k = m;
        }
    }

    /// Incident indices in file order (file, then position): the order whole-store scans read in.
    fn file_order(&self) -> &[u32] {
        self.file_order.get_or_init(|| {
            let mut v: Vec<u32> = (0..self.len() as u32).collect();
            v.sort_unstable_by_key(|&i| (self.file[i as usize], self.rec_start[i as usize]));
            v
        })
    }

    /// Which incidents mention `needle` (lowercase, trimmed, non-empty) in a column whose role
    /// `pick` takes (`columns` names that choice): a bitset over incident indices. One pass over
    /// the files; the last few answers are cached, so the window's several selections per change
    /// read the files once.
    pub fn role_hits(
        &self,
        columns: &'static str,
        pick: fn(Role) -> bool,
        needle: &str,
    ) -> Result<Arc<Vec<u64>>, ReadError> {
        let mut cache = self.text_cache.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, _, bits)) = cache.iter().find(|(c, n, _)| *c == columns && n == needle) {
            return Ok(bits.clone());
        }
        let mut bits = vec![0u64; self.len().div_ceil(64)];
        // Files without such columns have nothing to search.
        let searchable: Vec<bool> = self
            .files
            .iter()
            .map(|f| (0..f.columns.len()).any(|c| pick(f.map.role(c))))
            .collect();
        let order: Vec<u32> = self
            .file_order()
            .iter()
            .copied()
            .filter(|&i| searchable[self.file[i as usize] as usize])
            .collect();
        let mut batch = Batch::default();
        for chunk in order.chunks(BATCH) {
            self.read_batch(chunk, &mut batch);
            for (k, &i) in chunk.iter().enumerate() {
                let (s, n) = batch.spans[k].clone()?;
                let f = &self.files[self.file[i as usize] as usize];
                if mentions(f, &batch.arena[s..s + n], pick, needle) {
                    bits[i as usize / 64] |= 1 << (i % 64);
                }
            }
        }
        let bits = Arc::new(bits);
        if cache.len() >= 4 {
            cache.remove(0);
        }
        cache.push((columns, needle.to_string(), bits.clone()));
        Ok(bits)
    }
}

/// Records read in batches; see [`Store::records`].
pub struct Records<'a> {
    store: &'a Store,
    order: &'a [u32],
    pos: usize,
    batch: Batch,
    batch_start: usize,
    /// Records per batch.
    size: usize,
}

impl Iterator for Records<'_> {
    type Item = (u32, Result<Record, ReadError>);

    fn next(&mut self) -> Option<Self::Item> {
        self.next_with(|i, file, raw| (i, raw.map(|raw| parse(file, raw)).map_err(Clone::clone)))
    }
}

impl Records<'_> {
    /// The next record as `f` takes it: its index, its file and its raw bytes (or why they
    /// could not be read), without parsing it (see [`with_fields`]).
    pub fn next_with<R>(
        &mut self,
        f: impl FnOnce(u32, &LoadedFile, Result<&[u8], &ReadError>) -> R,
    ) -> Option<R> {
        let i = *self.order.get(self.pos)?;
        if self.pos == self.batch_start + self.batch.spans.len() || self.batch.spans.is_empty() {
            self.batch_start = self.pos;
            let end = (self.pos + self.size).min(self.order.len());
            self.store
                .read_batch(&self.order[self.pos..end], &mut self.batch);
        }
        let k = self.pos - self.batch_start;
        self.pos += 1;
        let file = &self.store.files[self.store.file[i as usize] as usize];
        let raw = match &self.batch.spans[k] {
            Ok((s, n)) => Ok(&self.batch.arena[*s..*s + *n]),
            Err(e) => Err(e),
        };
        Some(f(i, file, raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_keep_every_value_with_its_role() {
        let s = Store::from_csv(
            "lat,lon,date,type,notes,source,extra\n33.2,44.2,2021-06-05,Interception,shot down,AFP,x,overflow\n",
        );
        let r = s.record(0).unwrap();
        let names: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "lat", "lon", "date", "type", "notes", "source", "extra", "column_8"
            ]
        );
        assert_eq!(r.texts(Role::Description), vec!["shot down"]);
        assert_eq!(r.texts(Role::Source), vec!["AFP"]);
        assert_eq!(r.get("type").unwrap().role, Role::Type);
        assert_eq!(r.get("column_8").unwrap().text(), "overflow");
    }

    #[test]
    fn a_file_changed_since_loading_is_reported_not_misread() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.csv");
        std::fs::write(
            &p,
            "lat,lon,date,notes,source\n1,1,2021-01-01,first,AFP\n2,2,2021-01-02,second,AP\n",
        )
        .unwrap();
        let r = crate::import::load_paths(std::slice::from_ref(&p), &Default::default());
        let s = r.store;
        assert_eq!(s.record(1).unwrap().texts(Role::Source), vec!["AP"]);
        // Rewritten in place with other values of a different length.
        std::fs::write(&p, "lat,lon,date,notes,source\n1,1,2021-01-01,x,y\n").unwrap();
        let err = s.record(1).unwrap_err();
        assert!(matches!(err, ReadError::Changed { .. }), "{err}");
        assert!(err.to_string().contains("c.csv"), "{err}");
        assert!(crate::details::details(&s, 1).is_err());
        let sel = s.select(&Default::default()).unwrap();
        let mut out = Vec::new();
        assert!(crate::output::write_csv(&s, &sel, &mut out).is_err());
        let text = crate::query::Filter {
            text: Some("second".into()),
            ..Default::default()
        };
        assert!(s.select(&text).is_err());
        // Truncated underneath: still an error, never a crash.
        std::fs::File::create(&p).unwrap();
        assert!(s.record(0).is_err());
    }

    #[test]
    fn batched_records_come_back_in_request_order() {
        let mut text = String::from("lat,lon,date,notes\n");
        for k in 0..40_000 {
            text.push_str(&format!("1,1,2021-01-{:02},row {k}\n", k % 28 + 1));
        }
        let s = Store::from_csv(&text);
        let order: Vec<u32> = (0..s.len() as u32).rev().step_by(3).collect();
        let got: Vec<(u32, String)> = s
            .records(&order)
            .map(|(i, r)| (i, r.unwrap().texts(Role::Description).remove(0)))
            .collect();
        assert_eq!(got.len(), order.len());
        for (i, note) in got {
            assert_eq!(note, format!("row {}", s.line[i as usize] - 2));
        }
    }
}
