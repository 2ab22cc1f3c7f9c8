//! Incidents as rows of a binary `COPY`: the server stores them without parsing text (the
//! position arrives as EWKB, dates, numbers and floats as their bits, texts and the record as
//! they are). Rows are encoded on a thread of their own while the server stores the chunk before.

use std::sync::mpsc::{Receiver, SyncSender};

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::{Map, Value};

use super::load::morton_key;
use super::schema::SUMMARY_LEVELS;
use crate::model::Role;
use crate::projection::{merc_x, merc_y};
use crate::store::record::{FieldRef, ValueRef, with_fields};
use crate::store::{Format, LoadedFile, ReadError, Record, Store};

/// The binary `COPY` header: signature, flags (none), header extension length (none).
pub const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The end of a binary `COPY`: a field count of -1.
pub const TRAILER: &[u8] = &[0xff, 0xff];

/// Days from the store's day zero (1970-01-01) to PostgreSQL's (2000-01-01).
const PG_DAY_ZERO: i32 = 10_957;
/// Bytes of encoded rows handed over at once.
const CHUNK: usize = 1 << 20;
/// Records read from the files at once: a pass in time order reads each file once per batch,
/// so a large batch (its raw records, some 30 MB for ACLED rows) reads the files a few times only.
const READ_BATCH: usize = 131_072;

/// Encoded rows and how many incidents they hold.
pub struct Chunk {
    /// Rows in binary `COPY` form.
    pub bytes: Vec<u8>,
    /// Incidents in them.
    pub rows: usize,
}

/// A field of fixed bytes.
fn fixed(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A field that may be NULL.
fn maybe<const N: usize>(out: &mut Vec<u8>, bytes: Option<[u8; N]>) {
    match bytes {
        Some(b) => fixed(out, &b),
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
    }
}

/// A field of variable length, written by `f` (its length is filled in after).
fn var(out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    f(out);
    let len = (out.len() - at - 4) as i32;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
}

/// A point as PostGIS reads it: little-endian EWKB with SRID 4326.
fn ewkb(lon: f64, lat: f64) -> [u8; 25] {
    let mut g = [0u8; 25];
    g[0] = 1;
    g[1..5].copy_from_slice(&0x2000_0001u32.to_le_bytes());
    g[5..9].copy_from_slice(&4326u32.to_le_bytes());
    g[9..17].copy_from_slice(&lon.to_le_bytes());
    g[17..25].copy_from_slice(&lat.to_le_bytes());
    g
}

/// The non-empty, trimmed texts of the fields with `role`, one a line (as [`Record::texts`]
/// joined by line breaks).
fn texts(out: &mut Vec<u8>, fields: &[FieldRef<'_>], role: Role) {
    let mut first = true;
    for f in fields.iter().filter(|f| f.role == role) {
        let t = f.value.text();
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        if !first {
            out.push(b'\n');
        }
        first = false;
        out.extend_from_slice(t.as_bytes());
    }
}

/// Whether no name is given twice.
fn names_distinct(fields: &[FieldRef<'_>]) -> bool {
    let mut seen = FxHashSet::with_capacity_and_hasher(fields.len(), Default::default());
    fields.iter().all(|f| seen.insert(f.name))
}

/// The record's fields as one JSON object, in file order; a name given twice keeps its first
/// place and its last value (as a JSON map built from the fields does).
pub fn record_json(out: &mut Vec<u8>, record: &Record) {
    let fields = record.field_refs();
    fields_json(out, &fields, names_distinct(&fields));
}

/// [`record_json`] of borrowed fields, told whether their names are `distinct`.
fn fields_json(out: &mut Vec<u8>, fields: &[FieldRef<'_>], distinct: bool) {
    let value = |v: &ValueRef<'_>| match v {
        ValueRef::Text(s) => Value::String(s.to_string()),
        ValueRef::Json(v) => (*v).clone(),
    };
    if !distinct {
        let json: Map<String, Value> = fields
            .iter()
            .map(|f| (f.name.to_string(), value(&f.value)))
            .collect();
        // Writing to a Vec cannot fail, and a JSON value always serialises.
        let _ = serde_json::to_writer(&mut *out, &json);
        return;
    }
    out.push(b'{');
    for (k, f) in fields.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        let _ = serde_json::to_writer(&mut *out, f.name);
        out.push(b':');
        let _ = match f.value {
            ValueRef::Text(s) => serde_json::to_writer(&mut *out, s),
            ValueRef::Json(v) => serde_json::to_writer(&mut *out, v),
        };
    }
    out.push(b'}');
}

/// Incident `i` of `store` as one row of [`super::schema::COLUMNS`] (with `id` first when given,
/// else without it), from its record's `fields` (`distinct`: no name given twice).
pub fn row(
    out: &mut Vec<u8>,
    (store, i): (&Store, usize),
    (fields, distinct): (&[FieldRef<'_>], bool),
    id: Option<i64>,
) {
    let r = store.row(i);
    let w = &r.when;
    let n: i16 = if id.is_some() { 24 } else { 23 };
    out.extend_from_slice(&n.to_be_bytes());
    if let Some(id) = id {
        fixed(out, &id.to_be_bytes());
    }
    fixed(out, &ewkb(r.lon, r.lat));
    fixed(out, &(w.day - PG_DAY_ZERO).to_be_bytes());
    fixed(out, &(w.end - PG_DAY_ZERO).to_be_bytes());
    maybe(out, w.minute.map(|m| (m as i16).to_be_bytes()));
    maybe(out, w.offset.map(i16::to_be_bytes));
    fixed(out, w.precision.name().as_bytes());
    fixed(out, r.loc_precision.name().as_bytes());
    fixed(out, r.type_name.as_bytes());
    fixed(out, r.category.as_bytes());
    fixed(out, r.place.as_bytes());
    maybe(out, (r.fatalities >= 0).then(|| r.fatalities.to_be_bytes()));
    maybe(out, (r.injuries >= 0).then(|| r.injuries.to_be_bytes()));
    fixed(out, &[u8::from(r.disputed)]);
    for role in [Role::Description, Role::Actor, Role::Source, Role::Area] {
        var(out, |o| texts(o, fields, role));
    }
    // `json` in binary form is its text.
    var(out, |o| fields_json(o, fields, distinct));
    fixed(out, store.files[store.file[i] as usize].name.as_bytes());
    fixed(out, &(store.line[i] as i32).to_be_bytes());
    fixed(out, &morton_key(r.lon, r.lat).to_be_bytes());
    fixed(out, &(merc_x(r.lon) as f32).to_be_bytes());
    fixed(out, &(merc_y(r.lat) as f32).to_be_bytes());
}

/// The order rows are sent in: by type, lower-cased (ASCII, as `lower` does in a database
/// with the C locale), then in store order (by date): the order of the largest index a load
/// builds, `(lower(type), day_first)` with its included columns. PostgreSQL's sort finds its
/// input already in order and the build takes 0.9 s instead of 1.5 s for 1M rows, where the
/// index on dates, the key and the GiST index take the same time either way (measured).
/// Other collations order the types differently: the rows of each type still come in order.
pub fn send_order(store: &Store) -> Vec<u32> {
    let mut lower: Vec<(String, u32)> = store
        .types
        .names()
        .zip(0u32..)
        .map(|(n, k)| (n.to_ascii_lowercase(), k))
        .collect();
    lower.sort();
    // Types equal once lower-cased share a rank, so their rows stay in date order together.
    let mut rank = vec![0i64; lower.len()];
    let mut r = 0;
    for (j, (name, k)) in lower.iter().enumerate() {
        if j > 0 && *name != lower[j - 1].0 {
            r += 1;
        }
        rank[*k as usize] = r;
    }
    crate::store::stable_order(store.len(), |i| rank[store.type_id[i] as usize])
}

/// Encodes every incident of `store`, in [`send_order`] (ids from 1 in store order when `ids`),
/// into chunks sent to `to` (their buffers, once written, may come back on `spare` to be
/// filled again); stops at the first record that cannot be read (sent as the error), or when
/// the receiver is gone.
pub fn encode_all(
    store: &Store,
    ids: bool,
    to: &SyncSender<Result<Chunk, ReadError>>,
    spare: &Receiver<Vec<u8>>,
) {
    let all = send_order(store);
    let buffer = || {
        spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK + (64 << 10)))
    };
    let mut chunk = Chunk {
        bytes: buffer(),
        rows: 0,
    };
    // Whether a delimited file's names are distinct depends on the file and the number of
    // fields only (the header's names, then `column_N`): asked once for each.
    let mut distinct: FxHashMap<(u16, usize), bool> = FxHashMap::default();
    let mut records = store.records_batched(&all, READ_BATCH);
    let mut encode =
        |i: u32, file: &LoadedFile, raw: Result<&[u8], &ReadError>, out: &mut Vec<u8>| {
            let raw = raw.map_err(Clone::clone)?;
            with_fields(file, raw, |fields| {
                let d = if file.format == Format::Csv {
                    *distinct
                        .entry((store.file[i as usize], fields.len()))
                        .or_insert_with(|| names_distinct(fields))
                } else {
                    names_distinct(fields)
                };
                let id = ids.then_some(i64::from(i) + 1);
                row(out, (store, i as usize), (fields, d), id);
            });
            Ok::<(), ReadError>(())
        };
    while let Some(done) = records.next_with(|i, file, raw| encode(i, file, raw, &mut chunk.bytes))
    {
        if let Err(e) = done {
            let _ = to.send(Err(e));
            return;
        }
        chunk.rows += 1;
        if chunk.bytes.len() >= CHUNK {
            let next = Chunk {
                bytes: buffer(),
                rows: 0,
            };
            if to.send(Ok(std::mem::replace(&mut chunk, next))).is_err() {
                return;
            }
        }
    }
    if chunk.rows > 0 {
        let _ = to.send(Ok(chunk));
    }
}

/// Count and sums of the Mercator positions of a cell's incidents of one type.
type Sums = (i64, f64, f64);

/// The summary cells of every incident of `store` (see [`super::schema::cells_sql`]) as rows of
/// a binary `COPY` of `(level, cell, type, n, sx, sy)`, sorted: the finest level counted from the
/// incidents (their stored `morton`, `mx`, `my`), the coarser ones summed from it, as
/// [`super::schema::cells_fill_sql`] does on the server.
pub fn cells(store: &Store) -> Vec<u8> {
    let max = SUMMARY_LEVELS;
    let mut finest: FxHashMap<(i64, u32), Sums> = FxHashMap::default();
    for i in 0..store.len() {
        let (lon, lat) = (store.lon[i], store.lat[i]);
        let cell = morton_key(lon, lat) >> (62 - 2 * max);
        let e = finest
            .entry((cell, store.type_id[i]))
            .or_insert((0, 0.0, 0.0));
        e.0 += 1;
        e.1 += f64::from(merc_x(lon) as f32);
        e.2 += f64::from(merc_y(lat) as f32);
    }
    let mut all: FxHashMap<(u32, i64, &str), Sums> = FxHashMap::default();
    for (&(cell, ty), &(n, sx, sy)) in &finest {
        let name = store.types.name(ty);
        for level in 0..=max {
            let e = all
                .entry((level, cell >> (2 * (max - level)), name))
                .or_insert((0, 0.0, 0.0));
            e.0 += n;
            e.1 += sx;
            e.2 += sy;
        }
    }
    let mut rows: Vec<_> = all.into_iter().collect();
    rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::with_capacity(rows.len() * 64);
    for ((level, cell, name), (n, sx, sy)) in rows {
        out.extend_from_slice(&6i16.to_be_bytes());
        fixed(&mut out, &(level as i16).to_be_bytes());
        fixed(&mut out, &cell.to_be_bytes());
        fixed(&mut out, name.as_bytes());
        fixed(&mut out, &n.to_be_bytes());
        fixed(&mut out, &sx.to_be_bytes());
        fixed(&mut out, &sy.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Field;

    fn field(name: &str, value: &str, role: Role) -> Field {
        Field {
            name: name.into(),
            value: Value::String(value.into()),
            role,
        }
    }

    /// Rows go by lower-cased type, then by date (ties in store order), every incident once.
    #[test]
    fn rows_are_sent_by_type_then_date() {
        let mut rng = crate::synth::Rng::new(0x5eed_0f7e_5700);
        let types = [
            "Rocket attack",
            "IED",
            "ied",
            "Drone attack",
            "Zebra",
            "Ölbrand",
        ];
        let mut text = String::from("lat,lon,date,type\n");
        for _ in 0..2000 {
            let r = rng.next_u64();
            text += &format!(
                "33.{},44.{},2021-{:02}-{:02},{}\n",
                r % 1000,
                (r >> 10) % 1000,
                1 + (r >> 20) % 12,
                1 + (r >> 30) % 28,
                types[((r >> 40) % 6) as usize]
            );
        }
        let store = Store::from_csv(&text);
        let order = send_order(&store);
        let mut seen = order.clone();
        seen.sort();
        assert_eq!(seen, (0..store.len() as u32).collect::<Vec<_>>());
        let key = |i: u32| {
            let i = i as usize;
            (store.type_name(i).to_ascii_lowercase(), store.day[i], i)
        };
        for w in order.windows(2) {
            assert!(
                key(w[0]) < key(w[1]),
                "{:?} before {:?}",
                key(w[0]),
                key(w[1])
            );
        }
        assert_eq!(store.type_name(order[0] as usize), "Drone attack");
    }

    #[test]
    fn records_are_json_objects_in_file_order() {
        let mut r = Record::default();
        r.fields
            .push(field("notes", " shot \"down\"\n", Role::Description));
        r.fields.push(field("a", "1", Role::Other));
        let mut out = Vec::new();
        record_json(&mut out, &r);
        let map: Map<String, Value> = r
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            Value::Object(map).to_string()
        );
        // A name given twice: its first place, its last value, as a map has it.
        r.fields.push(field("notes", "again", Role::Description));
        let mut out = Vec::new();
        record_json(&mut out, &r);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"notes":"again","a":"1"}"#
        );
        let mut out = Vec::new();
        texts(&mut out, &r.field_refs(), Role::Description);
        assert_eq!(out, b"shot \"down\"\nagain");
    }

    #[test]
    fn rows_from_borrowed_fields_are_those_from_records() {
        // A name given twice (read as `notes.1`), a value past the header, quotes, line breaks
        // and accents.
        let s = Store::from_csv(
            "lat,lon,date,type,notes,notes,actor1,actor2\n\
             33.2,44.2,2021-06-05,Interception,\"shot \"\"down\"\"\",again, AFP ,,x\n\
             33.3,44.3,2021-06-06,Attack,\"a\nb\",,Bé,C\n",
        );
        // Rows go out in `send_order` ("Attack" first), ids in store order.
        let all = send_order(&s);
        assert_eq!(all, vec![1, 0]);
        let (to, from) = std::sync::mpsc::sync_channel(4);
        let (_give_back, spare) = std::sync::mpsc::sync_channel(1);
        encode_all(&s, true, &to, &spare);
        drop(to);
        let encoded: Vec<u8> = from.iter().flat_map(|c| c.unwrap().bytes).collect();
        let mut expected = Vec::new();
        for (i, r) in s.records(&all) {
            let r = r.unwrap();
            let fields = r.field_refs();
            let d = names_distinct(&fields);
            row(
                &mut expected,
                (&s, i as usize),
                (&fields, d),
                Some(i64::from(i) + 1),
            );
        }
        assert_eq!(encoded, expected);
        let mut first = Vec::new();
        record_json(&mut first, &s.record(0).unwrap());
        let first = String::from_utf8(first).unwrap();
        assert!(
            first.contains(r#""notes":"shot \"down\"","notes.1":"again""#),
            "{first}"
        );
        assert!(first.contains(r#""column_9":"x""#), "{first}");
    }

    #[test]
    fn points_are_ewkb_with_their_srid() {
        let g = ewkb(44.25, -33.5);
        assert_eq!(&g[..9], &[1, 1, 0, 0, 0x20, 0xe6, 0x10, 0, 0]);
        assert_eq!(f64::from_le_bytes(g[9..17].try_into().unwrap()), 44.25);
        assert_eq!(f64::from_le_bytes(g[17..25].try_into().unwrap()), -33.5);
    }
}
