//! `incident-map load`: incidents from files into a PostGIS table, with `COPY`, in one
//! transaction (a failed load leaves the table as it was).

use std::io::Write;

use serde_json::{Map, Value};

use super::schema::{COLUMNS, TableName, check_table, create_sql, index_sql, summary_sql};
use super::{DbError, DbSource};
use crate::cluster::morton;
use crate::date::format_day;
use crate::model::Role;
use crate::projection::{merc_x, merc_y};
use crate::store::Store;

/// What to do with an existing table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    /// Refuse it.
    Create,
    /// Drop it and load anew (in the same transaction).
    Replace,
    /// Add to it.
    Append,
}

/// Appends `s` to `out` escaped for `COPY … FROM STDIN` text format.
fn field(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// The key clusters group by: the Morton code of the local cluster index without its last two
/// bits (31 bits per axis, so it fits a non-negative `bigint`).
pub fn morton_key(lon: f64, lat: f64) -> i64 {
    (morton(merc_x(lon), merc_y(lat)) >> 2) as i64
}

/// One incident as a `COPY` line.
fn line(out: &mut String, store: &Store, i: usize, record: &crate::store::Record) {
    let null = "\\N";
    let (lon, lat) = (store.lon[i], store.lat[i]);
    let text = |role: Role| record.texts(role).join("\n");
    let json: Map<String, Value> = record
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.value.clone()))
        .collect();
    let opt = |v: i64, none: bool| {
        if none {
            null.to_string()
        } else {
            v.to_string()
        }
    };
    let cols: [String; 23] = [
        format!("SRID=4326;POINT({lon} {lat})"),
        format_day(store.day[i]),
        format_day(store.day_end[i]),
        opt(store.minute[i] as i64, store.minute[i] < 0),
        opt(store.offset[i] as i64, store.offset[i] == i16::MIN),
        store.date_precision[i].name().to_string(),
        store.loc_precision[i].name().to_string(),
        store.type_name(i).to_string(),
        store.category_name(i).to_string(),
        store.place_name(i).to_string(),
        opt(store.fatalities[i] as i64, store.fatalities[i] < 0),
        opt(store.injuries[i] as i64, store.injuries[i] < 0),
        (if store.disputed[i] { "t" } else { "f" }).to_string(),
        text(Role::Description),
        text(Role::Actor),
        text(Role::Source),
        text(Role::Area),
        Value::Object(json).to_string(),
        store.files[store.file[i] as usize].name.clone(),
        store.line[i].to_string(),
        morton_key(lon, lat).to_string(),
        (merc_x(lon) as f32).to_string(),
        (merc_y(lat) as f32).to_string(),
    ];
    for (k, c) in cols.iter().enumerate() {
        if k > 0 {
            out.push('\t');
        }
        if c == null {
            out.push_str(c);
        } else {
            field(out, c);
        }
    }
    out.push('\n');
}

/// Loads every incident of `store` into `table`; `progress` is told how many rows are done.
/// Returns the number loaded.
pub fn load_into(
    db: &DbSource,
    store: &Store,
    mode: LoadMode,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<usize, DbError> {
    let mut client = db.connect()?;
    let e = |err| db.error(err);
    let t: &TableName = &db.table;
    let mut tx = client.transaction().map_err(e)?;
    let existing = check_table(&mut tx, t).map_err(e)?;
    let create = match (existing, mode) {
        (Some(_), LoadMode::Create) => return Err(DbError::Exists(t.to_string())),
        (Some(missing), LoadMode::Append) => {
            if !missing.is_empty() {
                return Err(DbError::WrongColumns {
                    table: t.to_string(),
                    missing,
                });
            }
            false
        }
        (Some(_), LoadMode::Replace) => {
            tx.batch_execute(&format!(
                "DROP TABLE {} CASCADE; DROP TABLE IF EXISTS {}",
                t.quoted(),
                t.quoted_with("cells")
            ))
            .map_err(e)?;
            true
        }
        (None, _) => true,
    };
    if create {
        tx.batch_execute("CREATE EXTENSION IF NOT EXISTS postgis")
            .map_err(e)?;
        tx.batch_execute(&create_sql(t)).map_err(e)?;
    }
    let cols = &COLUMNS[..COLUMNS.len() - 1];
    let sql = format!(
        "COPY {} ({}) FROM STDIN",
        t.quoted(),
        cols.iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let all: Vec<u32> = (0..store.len() as u32).collect();
    let n = all.len();
    {
        let mut w = tx.copy_in(&sql).map_err(e)?;
        let mut buf = String::with_capacity(1 << 20);
        for (done, (i, r)) in store.records(&all).enumerate() {
            let r = r.map_err(|e| DbError::Server(e.to_string()))?;
            line(&mut buf, store, i as usize, &r);
            if buf.len() >= 1 << 20 {
                w.write_all(buf.as_bytes())
                    .map_err(|e| DbError::Server(e.to_string()))?;
                buf.clear();
                progress(done + 1, n);
            }
        }
        w.write_all(buf.as_bytes())
            .map_err(|e| DbError::Server(e.to_string()))?;
        w.finish().map_err(e)?;
    }
    progress(n, n);
    if create {
        tx.batch_execute(&index_sql(t)).map_err(e)?;
        tx.batch_execute(&summary_sql(t)).map_err(e)?;
    }
    tx.commit().map_err(e)?;
    // VACUUM marks the pages all-visible, so the covering index answers without the heap.
    // One statement per call: VACUUM cannot run in the implicit block of several.
    client
        .batch_execute(&format!("VACUUM ANALYZE {}", t.quoted()))
        .map_err(e)?;
    if create {
        client
            .batch_execute(&format!("ANALYZE {}", t.quoted_with("cells")))
            .map_err(e)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_is_escaped() {
        let mut s = String::new();
        field(&mut s, "a\tb\nc\\d\re");
        assert_eq!(s, "a\\tb\\nc\\\\d\\re");
    }
}
