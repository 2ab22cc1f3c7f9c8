//! Writes to an incident table, safely for a team: every update and delete names the version it
//! was decided on (`WHERE id = … AND version = …`); when another writer got there first nothing
//! is changed and their row comes back for the window to show side by side. The table's
//! triggers keep the version, the history and the precomputed cells, whoever writes; on a
//! distributed (Citus) table, which runs no history or statement trigger, the program records
//! its own writes in the history and notifies the windows itself, in the write's transaction.

use postgres::GenericClient;
use serde_json::Value;

use super::load::typed;
use super::schema::{COLUMNS, edit_sql};
use super::{DbError, DbSource};
use crate::edit::{Draft, HistoryEntry};
use crate::model::Row;
use crate::store::Record;

/// What a write did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Written: the row's id and its version now.
    Done {
        /// The row.
        id: i64,
        /// Its version.
        version: i64,
    },
    /// Someone else changed (or deleted: `None`) the row first; nothing was written.
    Conflict(Option<(Draft, i64)>),
}

/// Why this role cannot write the table, if it cannot.
pub fn read_only(c: &mut impl GenericClient, db: &DbSource) -> Result<Option<String>, DbError> {
    let row = c
        .query_one(
            "SELECT current_user::text, has_table_privilege(to_regclass($1), 'INSERT'),
                    has_table_privilege(to_regclass($1), 'UPDATE'),
                    has_table_privilege(to_regclass($1), 'DELETE')",
            &[&db.table.quoted()],
        )
        .map_err(|e| db.error(e))?;
    let (who, ins, upd, del): (String, bool, bool, bool) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    Ok((!(ins && upd && del)).then(|| {
        format!(
            "your database role {who} may only read table {}: editing needs INSERT, UPDATE and DELETE on it",
            db.table
        )
    }))
}

/// Brings a table made by an earlier version up to what editing needs (a version column, its
/// trigger, the history), in the caller's transaction. Only its owner may; others are told so.
pub fn upgrade(c: &mut impl GenericClient, db: &DbSource) -> Result<(), DbError> {
    let has: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1)
               AND attname = 'version' AND NOT attisdropped)
               AND to_regclass($2) IS NOT NULL",
            &[&db.table.quoted(), &db.table.quoted_with("history")],
        )
        .map_err(|e| db.error(e))?
        .get(0);
    if has {
        return Ok(());
    }
    c.batch_execute(&edit_sql(&db.table, true)).map_err(|e| match db.error(e) {
        DbError::Server(m) if m.contains("owner") || m.contains("permission") => DbError::Server(format!(
            "table {} was made by an earlier version of this program; its owner upgrades it with `incident-map load --upgrade --into URL --table {}` ({m})",
            db.table,
            db.table.name()
        )),
        other => other,
    })
}

/// The fields of the table's records, in order of appearance in its first thousand rows (as a
/// file's columns are its property keys in order of appearance); none when it is empty.
pub fn columns_on(c: &mut impl GenericClient, db: &DbSource) -> Result<Vec<String>, DbError> {
    let rows = c
        .query(
            &format!(
                "SELECT j.k FROM (SELECT id, record FROM {} ORDER BY id LIMIT 1000) r,
                   json_object_keys(r.record) WITH ORDINALITY AS j(k, n)
                 GROUP BY j.k ORDER BY min(r.id::numeric * 1000000 + j.n)",
                db.table.quoted()
            ),
            &[],
        )
        .map_err(|e| db.error(e))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The row ids of the incidents with evidence attached, sorted.
pub fn with_evidence_on(c: &mut impl GenericClient, db: &DbSource) -> Result<Vec<i64>, DbError> {
    let own = super::schema::own_id_sql("t.record");
    let rows = c
        .query(
            &format!(
                "SELECT DISTINCT t.id FROM {} a JOIN {} t ON coalesce({own}, t.id::text) = a.incident ORDER BY t.id",
                db.table.quoted_with("attached"),
                db.table.quoted()
            ),
            &[],
        )
        .map_err(|e| db.error(e))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// A row's incident name, as its history and its evidence name it: its own id, else its row id.
pub fn incident_name_on(
    c: &mut impl GenericClient,
    db: &DbSource,
    id: i64,
) -> Result<String, DbError> {
    let own = super::schema::own_id_sql("record");
    let row = c
        .query_opt(
            &format!(
                "SELECT coalesce({own}, id::text) FROM {} WHERE id = $1",
                db.table.quoted()
            ),
            &[&id],
        )
        .map_err(|e| db.error(e))?;
    row.map(|r| r.get(0))
        .ok_or_else(|| DbError::Server(format!("no row {id} in {}", db.table)))
}

/// The rows a command names: by the record's own id (the first of `id`, `event_id_cnty`,
/// `event_id`, `incident_id` it has), else by the row id; or by the line they were loaded from.
pub fn find_on(
    c: &mut impl GenericClient,
    db: &DbSource,
    by: &crate::edit::Find,
) -> Result<Vec<i64>, DbError> {
    use crate::edit::Find;
    let q = db.table.quoted();
    // Most data names its id in lower case: those rows are found by a quick test first.
    let quick = crate::links::ID_NAMES
        .iter()
        .map(|n| format!("record->>'{n}' = $1"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let own = super::schema::own_id_sql("record");
    let rows = match by {
        Find::Id(id) => {
            let mut rows = c
                .query(
                    &format!("SELECT id FROM {q} WHERE ({quick}) AND {own} = $1 ORDER BY id"),
                    &[id],
                )
                .map_err(|e| db.error(e))?;
            if rows.is_empty() {
                rows = c
                    .query(
                        &format!("SELECT id FROM {q} WHERE {own} = btrim($1) ORDER BY id"),
                        &[id],
                    )
                    .map_err(|e| db.error(e))?;
            }
            if rows.is_empty()
                && let Ok(n) = id.trim().parse::<i64>()
            {
                rows = c
                    .query(&format!("SELECT id FROM {q} WHERE id = $1"), &[&n])
                    .map_err(|e| db.error(e))?;
            }
            rows
        }
        Find::Line(n) => c
            .query(
                &format!("SELECT id FROM {q} WHERE origin_line = $1 ORDER BY id"),
                &[&(*n as i32)],
            )
            .map_err(|e| db.error(e))?,
    };
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// [`upgrade`] on its own (`load --upgrade`).
pub fn upgrade_table(db: &DbSource) -> Result<(), DbError> {
    let mut c = db.connect()?;
    let mut tx = c.transaction().map_err(|e| db.error(e))?;
    if super::schema::check_table(&mut tx, &db.table)
        .map_err(|e| db.error(e))?
        .is_none()
    {
        return Err(DbError::Server(format!("no table {}", db.table)));
    }
    upgrade(&mut tx, db)?;
    tx.commit().map_err(|e| db.error(e))
}

/// The row's draft (its record's fields, in order, and its position) and version.
pub fn draft_on(
    c: &mut impl GenericClient,
    db: &DbSource,
    id: i64,
) -> Result<Option<(Draft, i64)>, DbError> {
    let has_version: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1)
               AND attname = 'version' AND NOT attisdropped)",
            &[&db.table.quoted()],
        )
        .map_err(|e| db.error(e))?
        .get(0);
    let version = if has_version { "version" } else { "1::int8" };
    let row = c
        .query_opt(
            &format!(
                "SELECT record::text, ST_X(geom), ST_Y(geom), {version} FROM {} WHERE id = $1",
                db.table.quoted()
            ),
            &[&id],
        )
        .map_err(|e| db.error(e))?;
    Ok(row.map(|r| {
        let record: serde_json::Map<String, Value> =
            serde_json::from_str(&r.get::<_, String>(0)).unwrap_or_default();
        (
            Draft {
                fields: record.into_iter().collect(),
                lon: r.get(1),
                lat: r.get(2),
            },
            r.get(3),
        )
    }))
}

/// The type of each typed column ([`COLUMNS`] without `id`), which parameters are cast to.
const CASTS: [&str; 23] = [
    "geometry", "date", "date", "int2", "int2", "text", "text", "text", "text", "text", "int4",
    "int4", "bool", "text", "text", "text", "text", "json", "text", "int4", "int8", "float4",
    "float4",
];

/// Parameter `$n` as column `k`'s value (the geometry from EWKT, the rest cast from text).
fn value(k: usize, n: usize) -> String {
    match CASTS[k] {
        "geometry" => format!("ST_GeomFromEWKT(${n})"),
        t => format!("${n}::text::{t}"),
    }
}

/// Names the editor for the table's history, in the caller's transaction, and tells (in the
/// same question) whether the table's history trigger records the write that follows (else the
/// program must: a distributed table).
fn editor(c: &mut impl GenericClient, db: &DbSource, editor: &str) -> Result<bool, DbError> {
    let trigger: String = format!("{}_logged", db.table.name())
        .chars()
        .take(63)
        .collect();
    Ok(c.query_one(
        "SELECT set_config('incident_map.editor', $1, true) IS NOT NULL AND EXISTS (
           SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($2) AND tgname = $3)",
        &[&editor, &db.table.quoted(), &trigger],
    )
    .map_err(|e| db.error(e))?
    .get(0))
}

/// The SQL of a row's state as the history keeps it (as the history trigger writes it).
fn state_sql(row: &str) -> String {
    format!(
        "json_build_object('properties', {row}.record, 'position', json_build_array(ST_X({row}.geom), ST_Y({row}.geom)), 'version', {row}.version)::text"
    )
}

/// A row's state, locked for the write that follows (when it still has `version`; any version
/// when `None`). Asked apart from the write: Citus allows only immutable functions in a
/// distributed write's `RETURNING`.
fn state_on(
    c: &mut impl GenericClient,
    db: &DbSource,
    (id, version): (i64, Option<i64>),
) -> Result<Option<String>, DbError> {
    let t = db.table.quoted();
    Ok(c.query_opt(
        &format!(
            "SELECT {} FROM {t} WHERE id = $1 AND ($2::int8 IS NULL OR version = $2) FOR UPDATE",
            state_sql(&t)
        ),
        &[&id, &version],
    )
    .map_err(|e| db.error(e))?
    .map(|r| r.get(0)))
}

/// One write in the history, as the history trigger records it, and the change notification
/// (for a table whose triggers do neither).
fn record_write(
    c: &mut impl GenericClient,
    db: &DbSource,
    (op, id, who): (&str, i64, &str),
    (before, after): (Option<&str>, Option<&str>),
) -> Result<(), DbError> {
    let e = |err| db.error(err);
    let state = after.or(before).unwrap_or("{}");
    let name: Option<String> = c
        .query_one(
            &format!(
                "SELECT {}",
                super::schema::own_id_sql("($1::text::json -> 'properties')")
            ),
            &[&state],
        )
        .map_err(e)?
        .get(0);
    c.execute(
        &format!(
            "INSERT INTO {} (editor, op, row_id, incident, before, after)
             VALUES (nullif($1, ''), $2, $3, $4, $5::text::json, $6::text::json)",
            db.table.quoted_with("history")
        ),
        &[
            &who,
            &op,
            &id,
            &name.unwrap_or_else(|| id.to_string()),
            &before,
            &after,
        ],
    )
    .map_err(e)?;
    c.execute(
        "SELECT pg_notify($1, $2)",
        &[&db.table.channel(), &op.to_uppercase()],
    )
    .map_err(e)?;
    Ok(())
}

/// Inserts an incident (its validated row and record).
pub fn insert_on(
    c: &mut impl GenericClient,
    db: &DbSource,
    (row, record): (&Row<'_>, &Record),
    who: &str,
) -> Result<Outcome, DbError> {
    let logged = editor(c, db, who)?;
    let cols = &COLUMNS[..COLUMNS.len() - 1];
    let v = typed(row, record, ("", 0));
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) RETURNING id, version",
        db.table.quoted(),
        cols.iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", "),
        (0..CASTS.len())
            .map(|k| value(k, k + 1))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = v
        .iter()
        .map(|x| x as &(dyn postgres::types::ToSql + Sync))
        .collect();
    let r = c.query_one(&sql, &params).map_err(|e| db.error(e))?;
    let (id, version) = (r.get(0), r.get(1));
    if !logged {
        let after = state_on(c, db, (id, None))?;
        record_write(c, db, ("insert", id, who), (None, after.as_deref()))?;
    }
    Ok(Outcome::Done { id, version })
}

/// Updates row `id` as of `version`; another writer's change first is a conflict.
pub fn update_on(
    c: &mut impl GenericClient,
    db: &DbSource,
    (id, version): (i64, i64),
    (row, record): (&Row<'_>, &Record),
    who: &str,
) -> Result<Outcome, DbError> {
    let logged = editor(c, db, who)?;
    // What the row came from stays (origin_file, origin_line are not updated).
    let v = typed(row, record, ("", 0));
    let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = Vec::new();
    let mut set = Vec::new();
    for (k, (c, x)) in COLUMNS.iter().zip(v.iter()).enumerate() {
        if !c.starts_with("origin_") {
            params.push(x);
            set.push(format!("\"{c}\" = {}", value(k, params.len())));
        }
    }
    let n = params.len();
    let sql = format!(
        "UPDATE {} SET {} WHERE id = ${} AND version = ${} RETURNING version",
        db.table.quoted(),
        set.join(", "),
        n + 1,
        n + 2,
    );
    params.push(&id);
    params.push(&version);
    let before = match logged {
        true => None,
        false => Some(state_on(c, db, (id, Some(version)))?),
    };
    match c.query_opt(&sql, &params).map_err(|e| db.error(e))? {
        Some(r) => {
            if let Some(before) = before {
                let after = state_on(c, db, (id, None))?;
                let states = (before.as_deref(), after.as_deref());
                record_write(c, db, ("update", id, who), states)?;
            }
            Ok(Outcome::Done {
                id,
                version: r.get(0),
            })
        }
        None => Ok(Outcome::Conflict(draft_on(c, db, id)?)),
    }
}

/// Deletes row `id` as of `version`; another writer's change first is a conflict.
pub fn delete_on(
    c: &mut impl GenericClient,
    db: &DbSource,
    (id, version): (i64, i64),
    who: &str,
) -> Result<Outcome, DbError> {
    let before = match editor(c, db, who)? {
        true => None,
        false => Some(state_on(c, db, (id, Some(version)))?),
    };
    let n = c
        .execute(
            &format!(
                "DELETE FROM {} WHERE id = $1 AND version = $2",
                db.table.quoted()
            ),
            &[&id, &version],
        )
        .map_err(|e| db.error(e))?;
    if n == 1 {
        if let Some(before) = before {
            record_write(c, db, ("delete", id, who), (before.as_deref(), None))?;
        }
        Ok(Outcome::Done { id, version })
    } else {
        Ok(Outcome::Conflict(draft_on(c, db, id)?))
    }
}

/// The table's history (of row `id`, or all), oldest first.
pub fn history_on(
    c: &mut impl GenericClient,
    db: &DbSource,
    id: Option<i64>,
) -> Result<Vec<HistoryEntry>, DbError> {
    let h = db.table.quoted_with("history");
    let exists: bool = c
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&h])
        .map_err(|e| db.error(e))?
        .get(0);
    if !exists {
        return Ok(Vec::new());
    }
    let rows = c
        .query(
            &format!(
                "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                        role, editor, op, incident, before::text, after::text
                 FROM {h} WHERE $1::int8 IS NULL OR row_id = $1 ORDER BY seq"
            ),
            &[&id],
        )
        .map_err(|e| db.error(e))?;
    Ok(rows
        .iter()
        .map(|r| {
            let role: String = r.get(1);
            let editor: Option<String> = r.get(2);
            let json = |k: usize| {
                r.get::<_, Option<String>>(k)
                    .and_then(|t| serde_json::from_str(&t).ok())
            };
            HistoryEntry {
                at: r.get(0),
                editor: match editor {
                    Some(e) => format!("{e} ({role})"),
                    None => role,
                },
                op: r.get(3),
                incident: r.get(4),
                before: json(5),
                after: json(6),
            }
        })
        .collect())
}
