//! `incident-map load`: incidents from files into a PostGIS table, with `COPY`, in one
//! transaction (a failed load leaves the table as it was).

use std::io::Write;

use serde_json::{Map, Value};

use super::schema::{
    COLUMNS, TableName, check_table, create_sql, distribute_history_sql, distribute_sql, edit_sql,
    index_sql, statements, summary_sql,
};
use super::{DbError, DbSource};
use crate::cluster::morton;
use crate::date::format_day;
use crate::model::Role;
use crate::model::Row;
use crate::projection::{merc_x, merc_y};
use crate::store::{Record, Store};

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

impl LoadMode {
    /// Its name in the history.
    pub fn name(self) -> &'static str {
        match self {
            LoadMode::Create => "create",
            LoadMode::Replace => "replace",
            LoadMode::Append => "append",
        }
    }
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

/// The columns `load` and the writes fill, in [`COLUMNS`] order (without `id`), as text (`None`
/// for NULL): from the validated row, its record, and where it came from.
pub fn typed(row: &Row<'_>, record: &Record, origin: (&str, u32)) -> [Option<String>; 23] {
    let (lon, lat) = (row.lon, row.lat);
    let text = |role: Role| record.texts(role).join("\n");
    let json: Map<String, Value> = record
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.value.clone()))
        .collect();
    let w = &row.when;
    [
        Some(format!("SRID=4326;POINT({lon} {lat})")),
        Some(format_day(w.day)),
        Some(format_day(w.end)),
        w.minute.map(|m| m.to_string()),
        w.offset.map(|o| o.to_string()),
        Some(w.precision.name().to_string()),
        Some(row.loc_precision.name().to_string()),
        Some(row.type_name.to_string()),
        Some(row.category.to_string()),
        Some(row.place.to_string()),
        (row.fatalities >= 0).then(|| row.fatalities.to_string()),
        (row.injuries >= 0).then(|| row.injuries.to_string()),
        Some((if row.disputed { "t" } else { "f" }).to_string()),
        Some(text(Role::Description)),
        Some(text(Role::Actor)),
        Some(text(Role::Source)),
        Some(text(Role::Area)),
        Some(Value::Object(json).to_string()),
        Some(origin.0.to_string()),
        Some(origin.1.to_string()),
        Some(morton_key(lon, lat).to_string()),
        Some((merc_x(lon) as f32).to_string()),
        Some((merc_y(lat) as f32).to_string()),
    ]
}

/// One incident as a `COPY` line.
fn line(out: &mut String, store: &Store, i: usize, record: &crate::store::Record) {
    let origin = (
        store.files[store.file[i] as usize].name.as_str(),
        store.line[i],
    );
    for (k, c) in typed(&store.row(i), record, origin).iter().enumerate() {
        if k > 0 {
            out.push('\t');
        }
        match c {
            None => out.push_str("\\N"),
            Some(c) => field(out, c),
        }
    }
    out.push('\n');
}

/// Loads every incident of `store` into `table` (a new one made a Citus distributed table when
/// `distribute`); `progress` is told how many rows are done. Returns the number loaded.
pub fn load_into(
    db: &DbSource,
    store: &Store,
    (mode, distribute): (LoadMode, bool),
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
            super::write::upgrade(&mut tx, db)?;
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
        if distribute {
            tx.batch_execute(&distribute_sql(t))
                .map_err(|err| citus_error(db, err))?;
        }
    }
    // One history entry for the whole load (written below), not one per row.
    tx.batch_execute("SET LOCAL incident_map.bulk = 'on'")
        .map_err(e)?;
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
        finish_new(&mut tx, db, distribute)?;
    }
    tx.batch_execute("SET LOCAL incident_map.bulk = 'off'")
        .map_err(e)?;
    let files: Vec<&str> = store.files.iter().map(|f| f.name.as_str()).collect();
    tx.execute(
        &format!(
            "INSERT INTO {} (editor, op, after) VALUES ($1, 'load', $2::text::json)",
            t.quoted_with("history")
        ),
        &[
            &crate::edit::editor_name(""),
            &serde_json::json!({"mode": mode.name(), "incidents": n, "files": files}).to_string(),
        ],
    )
    .map_err(e)?;
    tx.commit().map_err(e)?;
    // VACUUM marks the pages all-visible, so the covering index answers without the heap.
    // One statement per call: VACUUM cannot run in the implicit block of several.
    client
        .batch_execute(&format!("VACUUM ANALYZE {}", t.quoted()))
        .map_err(e)?;
    if create && !distribute {
        client
            .batch_execute(&format!("ANALYZE {}", t.quoted_with("cells")))
            .map_err(e)?;
    }
    Ok(n)
}

/// A new table's indexes, summary and editing parts, once its rows are in (in the load's
/// transaction).
fn finish_new(
    tx: &mut postgres::Transaction<'_>,
    db: &DbSource,
    distribute: bool,
) -> Result<(), DbError> {
    let e = |err| db.error(err);
    let t: &TableName = &db.table;
    for s in statements(&index_sql(t)) {
        tx.batch_execute(s).map_err(e)?;
    }
    // Citus runs no transition-table trigger: a distributed table has no summary (its cell
    // questions are answered on the workers from the incidents).
    if !distribute {
        tx.batch_execute(&summary_sql(t)).map_err(e)?;
    }
    for s in statements(&edit_sql(t, !distribute)) {
        tx.batch_execute(s).map_err(e)?;
    }
    if distribute {
        tx.batch_execute(&distribute_history_sql(t)).map_err(e)?;
    }
    // A table replaced keeps its history: new ids come after every id it names.
    tx.batch_execute(&format!(
        "SELECT setval(pg_get_serial_sequence('{q}', 'id'),
                greatest((SELECT max(id) FROM {q}), (SELECT max(row_id) FROM {h}), 1))",
        q = t.quoted().replace('\'', "''"),
        h = t.quoted_with("history"),
    ))
    .map_err(e)?;
    Ok(())
}

/// A server without Citus, said so.
fn citus_error(db: &DbSource, err: postgres::Error) -> DbError {
    match db.error(err) {
        DbError::Server(m) if m.contains("create_distributed_table") => DbError::Server(format!(
            "--distribute needs the Citus extension on the server (CREATE EXTENSION citus, with \
             shared_preload_libraries = 'citus'): {m}"
        )),
        other => other,
    }
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
