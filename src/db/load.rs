//! `incident-map load`: incidents from files into a PostGIS table, with `COPY`, in one
//! transaction (a failed load leaves the table as it was).
//!
//! A new table is filled bare (no key, index or trigger: `COPY` then writes whole pages, frozen
//! and marked all-visible, as the table is new in this transaction), rows encoded in binary on a
//! second thread while the server stores them; the key, the indexes, the summary cells and the
//! triggers follow, and `ANALYZE`, all before the commit.

use std::io::Write;
use std::sync::mpsc::sync_channel;

use postgres::Transaction;

use super::copy::{self, Chunk};
use super::schema::{
    COLUMNS, TableName, cells_sql, cells_triggers_sql, check_table, create_sql,
    distribute_history_sql, distribute_sql, edit_sql, index_sql, statements, triggers_sql,
};
use super::{DbError, DbSource};
use crate::cluster::morton;
use crate::date::format_day;
use crate::model::Role;
use crate::model::Row;
use crate::projection::{merc_x, merc_y};
use crate::store::{ReadError, Record, Store};

/// Memory for the index builds and `ANALYZE` of a load (the server's default, 64 MB, sorts the
/// larger indexes on disk).
const INDEX_MEMORY: &str = "256MB";

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
    let mut json = Vec::new();
    super::copy::record_json(&mut json, record);
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
        Some(String::from_utf8_lossy(&json).into_owned()),
        Some(origin.0.to_string()),
        Some(origin.1.to_string()),
        Some(morton_key(lon, lat).to_string()),
        Some((merc_x(lon) as f32).to_string()),
        Some((merc_y(lat) as f32).to_string()),
    ]
}

/// Checks the table against `mode`: drops it for `Replace`, brings it up to date for `Append`.
/// Returns whether the table is to be created.
fn prepare(tx: &mut Transaction<'_>, db: &DbSource, mode: LoadMode) -> Result<bool, DbError> {
    let e = |err| db.error(err);
    let t = &db.table;
    match (check_table(tx, t).map_err(e)?, mode) {
        (Some(_), LoadMode::Create) => Err(DbError::Exists(t.to_string())),
        (Some(missing), LoadMode::Append) => {
            if !missing.is_empty() {
                return Err(DbError::WrongColumns {
                    table: t.to_string(),
                    missing,
                });
            }
            super::write::upgrade(tx, db)?;
            Ok(false)
        }
        (Some(_), LoadMode::Replace) => {
            tx.batch_execute(&format!(
                "DROP TABLE {} CASCADE; DROP TABLE IF EXISTS {}",
                t.quoted(),
                t.quoted_with("cells")
            ))
            .map_err(e)?;
            Ok(true)
        }
        (None, mode) => {
            // A summary without its table (dropped by hand) would answer for the new one.
            let cells = t.quoted_with("cells");
            let stray: bool = tx
                .query_one("SELECT to_regclass($1) IS NOT NULL", &[&cells])
                .map_err(e)?
                .get(0);
            match (stray, mode) {
                (false, _) => Ok(true),
                (true, LoadMode::Replace) => {
                    tx.batch_execute(&format!("DROP TABLE {cells}"))
                        .map_err(e)?;
                    Ok(true)
                }
                (true, _) => Err(DbError::StraySummary(cells)),
            }
        }
    }
}

/// The `COPY` statement: binary; a new table gets the ids too (1, 2, … in store order, as its
/// identity would give them) and, unless distributed (Citus's shards are not new to `COPY`),
/// its rows frozen.
fn copy_sql(t: &TableName, (new, distribute): (bool, bool)) -> String {
    let cols = if new {
        &COLUMNS[COLUMNS.len() - 1..]
    } else {
        &[][..]
    }
    .iter()
    .chain(&COLUMNS[..COLUMNS.len() - 1])
    .map(|c| format!("\"{c}\""))
    .collect::<Vec<_>>()
    .join(", ");
    let freeze = if new && !distribute { ", FREEZE" } else { "" };
    format!(
        "COPY {} ({cols}) FROM STDIN (FORMAT binary{freeze})",
        t.quoted()
    )
}

/// Streams every incident of `store` through `sql`: a second thread encodes the rows while this
/// one hands them to the server. `progress` is told how many rows are done. For a new table
/// (`new`: ids given) a third computes the summary cells meanwhile and they are returned (rows of
/// a binary `COPY`).
fn copy_rows(
    tx: &mut Transaction<'_>,
    db: &DbSource,
    sql: &str,
    store: &Store,
    new: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Option<Vec<u8>>, DbError> {
    let n = store.len();
    let io = |e: std::io::Error| DbError::Server(e.to_string());
    let (to, from) = sync_channel::<Result<Chunk, ReadError>>(4);
    // Buffers written go back to the encoder, to be filled again.
    let (give_back, spare) = sync_channel::<Vec<u8>>(8);
    std::thread::scope(|s| {
        s.spawn(move || copy::encode_all(store, new, &to, &spare));
        let cells = new.then(|| s.spawn(|| copy::cells(store)));
        // `from` is dropped on any early return, which stops the encoder.
        let from = from;
        let mut w = tx.copy_in(sql).map_err(|e| db.error(e))?;
        w.write_all(copy::HEADER).map_err(io)?;
        let mut done = 0;
        for chunk in from {
            let chunk = chunk.map_err(|e| DbError::Server(e.to_string()))?;
            w.write_all(&chunk.bytes).map_err(io)?;
            let mut bytes = chunk.bytes;
            bytes.clear();
            let _ = give_back.try_send(bytes);
            done += chunk.rows;
            progress(done, n);
        }
        w.write_all(copy::TRAILER).map_err(io)?;
        w.finish().map_err(|e| db.error(e))?;
        cells
            .map(|h| h.join())
            .transpose()
            .map_err(|_| DbError::Server("the summary cells could not be computed".into()))
    })
}

/// Writes the summary cells computed by [`copy::cells`] into a new `<table>_cells`.
fn fill_cells(tx: &mut Transaction<'_>, db: &DbSource, cells: &[u8]) -> Result<(), DbError> {
    let t = &db.table;
    tx.batch_execute(&cells_sql(t)).map_err(|e| db.error(e))?;
    let mut w = tx
        .copy_in(&format!(
            "COPY {} (level, cell, type, n, sx, sy) FROM STDIN (FORMAT binary, FREEZE)",
            t.quoted_with("cells")
        ))
        .map_err(|e| db.error(e))?;
    let io = |e: std::io::Error| DbError::Server(e.to_string());
    w.write_all(copy::HEADER).map_err(io)?;
    w.write_all(cells).map_err(io)?;
    w.write_all(copy::TRAILER).map_err(io)?;
    w.finish().map_err(|e| db.error(e))?;
    Ok(())
}

/// What a new table gets once its rows are in: the key and indexes, the summary `cells`, the
/// triggers (so they keep the summary and history from now on), ids after every id its history
/// names, the change notice the load's own insert did not send, and fresh statistics. A
/// distributed table (`cells` none) gets the row triggers Citus runs on its shards only, and its
/// history as a reference table; every statement goes alone (Citus sends each on to the shards
/// by its text).
fn finish_new_table(
    tx: &mut Transaction<'_>,
    db: &DbSource,
    cells: Option<&[u8]>,
) -> Result<(), DbError> {
    let e = |err| db.error(err);
    let t = &db.table;
    let each = |tx: &mut Transaction<'_>, script: &str| {
        statements(script)
            .into_iter()
            .try_for_each(|s| tx.batch_execute(s).map_err(|err| db.error(err)))
    };
    tx.batch_execute(&format!(
        "SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'"
    ))
    .map_err(e)?;
    each(tx, &index_sql(t, cells.is_some()))?;
    if let Some(cells) = cells {
        fill_cells(tx, db, cells)?;
        tx.batch_execute(&cells_triggers_sql(t)).map_err(e)?;
    }
    each(tx, &triggers_sql(t, cells.is_some()))?;
    each(tx, &edit_sql(t, cells.is_some()))?;
    if cells.is_none() {
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
    tx.execute("SELECT pg_notify($1, 'INSERT')", &[&t.channel()])
        .map_err(e)?;
    // The rows are frozen and all-visible already (COPY FREEZE): no VACUUM needed for the
    // covering index to answer without the heap.
    if cells.is_none() {
        return Ok(());
    }
    tx.batch_execute(&format!(
        "ANALYZE {}; ANALYZE {}",
        t.quoted(),
        t.quoted_with("cells")
    ))
    .map_err(e)
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
    let create = prepare(&mut tx, db, mode)?;
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
    let n = store.len();
    let sql = copy_sql(t, (create, distribute));
    let cells = copy_rows(&mut tx, db, &sql, store, create, progress)?;
    progress(n, n);
    if create {
        // A distributed table keeps no summary (its cells are counted on the workers).
        let cells = cells.filter(|_| !distribute);
        finish_new_table(&mut tx, db, cells.as_deref())?;
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
    if !create || distribute {
        // VACUUM marks the new pages all-visible, so the covering index answers without the
        // heap. One statement per call: VACUUM cannot run in the implicit block of several.
        client
            .batch_execute(&format!("VACUUM ANALYZE {}", t.quoted()))
            .map_err(e)?;
    }
    Ok(n)
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
