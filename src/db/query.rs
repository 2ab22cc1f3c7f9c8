//! Questions a table answers on the server: the `check` summary and the cluster cells of a view,
//! under the same [`Filter`] as files (the SQL below mirrors [`crate::query`]).

use std::collections::BTreeMap;

use postgres::types::ToSql;

use super::schema::check_table;
use super::{DbError, DbSource};
use crate::cells::Cell;
use crate::query::Filter;
use crate::query::counts::{Aggregates, Part, Summary, TypeCount};
use crate::query::filters::{Sql, SqlValue};

/// A `WHERE` clause and its parameters: the filter list's SQL ([`Sql`]) and what the queries
/// here add to it.
pub type Where = Sql;

impl ToSql for SqlValue {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            SqlValue::SmallInt(v) => v.to_sql(ty, out),
            SqlValue::Int(v) => v.to_sql(ty, out),
            SqlValue::BigInt(v) => v.to_sql(ty, out),
            SqlValue::Float(v) => v.to_sql(ty, out),
            SqlValue::Text(v) => v.to_sql(ty, out),
            SqlValue::Texts(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        <i16 as ToSql>::accepts(ty)
            || <i32 as ToSql>::accepts(ty)
            || <i64 as ToSql>::accepts(ty)
            || <f64 as ToSql>::accepts(ty)
            || <String as ToSql>::accepts(ty)
            || <Vec<String> as ToSql>::accepts(ty)
    }

    postgres::types::to_sql_checked!();
}

/// The parameters of a clause, for a query.
pub fn refs(w: &Where) -> Vec<&(dyn ToSql + Sync)> {
    w.params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// The filter as SQL, as the filter list writes it (the same rules as files). On a table whose
/// spans are checked to be at most a year, the start of the span is bounded too, so the
/// (type, day) index serves date filters.
pub fn filter_sql(f: &Filter, db: &DbSource) -> Where {
    let attached = db.keeps_evidence().then(|| {
        format!(
            "coalesce({}, id::text) IN (SELECT incident FROM {})",
            super::schema::own_id_sql("record"),
            db.table.quoted_with("attached")
        )
    });
    Sql::of_table(f, db.spans_checked(), attached)
}

/// Connects and checks that the table is there and is an incident table.
pub fn open(db: &DbSource) -> Result<postgres::Client, DbError> {
    let mut c = db.connect()?;
    match check_table(&mut c, &db.table).map_err(|e| db.error(e))? {
        None => Err(DbError::MissingTable {
            table: db.table.to_string(),
            url: db.display.clone(),
        }),
        Some(missing) if !missing.is_empty() => Err(DbError::WrongColumns {
            table: db.table.to_string(),
            missing,
        }),
        Some(_) => {
            let checked: bool = c
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1)
                       AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%day_last - day_first%')",
                    &[&db.table.quoted()],
                )
                .map_err(|e| db.error(e))?
                .get(0);
            db.set_spans_checked(checked);
            let attached: bool = c
                .query_one(
                    "SELECT to_regclass($1) IS NOT NULL",
                    &[&db.table.quoted_with("attached")],
                )
                .map_err(|e| db.error(e))?
                .get(0);
            db.set_keeps_evidence(attached);
            Ok(c)
        }
    }
}

/// The count of each type in the whole table: from the summary's one cell at level 0 when this
/// role may read it, else counted from the incidents.
pub fn type_counts_on(
    c: &mut impl postgres::GenericClient,
    db: &DbSource,
) -> Result<BTreeMap<String, u64>, DbError> {
    let sql = if summary_usable(c, db)? {
        format!(
            // One cell at level 0 for each type, unless another tool wrote its own `morton`
            // (a negative one is a second cell): added up either way.
            "SELECT type, sum(n)::bigint FROM {} WHERE level = 0 GROUP BY type HAVING sum(n) > 0",
            db.table.quoted_with("cells")
        )
    } else {
        format!(
            "SELECT type, count(*) FROM {} GROUP BY type",
            db.table.quoted()
        )
    };
    Ok(c.query(&sql, &[])
        .map_err(|e| db.error(e))?
        .iter()
        .map(|r| (r.get(0), r.get::<_, i64>(1) as u64))
        .collect())
}

/// Whether the table has the summary `load` keeps and this role may read it.
fn summary_usable(c: &mut impl postgres::GenericClient, db: &DbSource) -> Result<bool, DbError> {
    Ok(c.query_one(
        "SELECT coalesce(has_table_privilege(to_regclass($1), 'SELECT'), false)",
        &[&db.table.quoted_with("cells")],
    )
    .map_err(|e| db.error(e))?
    .get(0))
}

/// The `check` summary of a table, computed by the server.
pub fn summary_on(c: &mut impl postgres::GenericClient, db: &DbSource) -> Result<Summary, DbError> {
    let e = |err| db.error(err);
    let t = db.table.quoted();
    let row = c
        .query_one(
            &format!(
                "SELECT count(*), min(day_first) - DATE '1970-01-01', max(day_last) - DATE '1970-01-01',
                        min(ST_X(geom)), min(ST_Y(geom)), max(ST_X(geom)), max(ST_Y(geom)),
                        count(*) FILTER (WHERE disputed) FROM {t}"
            ),
            &[],
        )
        .map_err(e)?;
    let n = row.get::<_, i64>(0) as u64;
    let days = match (row.get::<_, Option<i32>>(1), row.get::<_, Option<i32>>(2)) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    };
    let bbox = row
        .get::<_, Option<f64>>(3)
        .map(|x0| [x0, row.get(4), row.get(5), row.get(6)]);
    let types = type_counts_on(c, db)?;
    let files = vec![Part {
        file: db.display.clone(),
        format: "postgis".into(),
        incidents: n,
    }];
    Ok(Summary::new(
        n,
        row.get::<_, i64>(7) as u64,
        days,
        types,
        bbox,
        files,
    ))
}

/// The cells `[cx0, cx1] × [cy0, cy1]` at `level` (≤ 31) of the incidents matching `filter`,
/// on an open connection, in row then column order.
pub fn cells_on(
    c: &mut impl postgres::GenericClient,
    db: &DbSource,
    filter: &Filter,
    level: u32,
    ((cx0, cx1), (cy0, cy1)): ((u64, u64), (u64, u64)),
) -> Result<Vec<Cell>, DbError> {
    if let Some(cells) = summary_cells(c, db, filter, level, ((cx0, cx1), (cy0, cy1)))? {
        return Ok(cells);
    }
    let (sql, w) = cells_sql(db, filter, level, ((cx0, cx1), (cy0, cy1)));
    let rows = c.query(&sql, &refs(&w)).map_err(|e| db.error(e))?;
    Ok(cells_of_rows(&rows, level, ((cx0, cx1), (cy0, cy1))))
}

/// The question for the cells `[cx0, cx1] × [cy0, cy1]` at `level` from the incidents
/// themselves (grouped by cell key and type: on a distributed table each worker groups its
/// shards' rows and the coordinator adds the partial counts and sums), and its parameters.
pub fn cells_sql(
    db: &DbSource,
    filter: &Filter,
    level: u32,
    ((cx0, cx1), (cy0, cy1)): ((u64, u64), (u64, u64)),
) -> (String, Where) {
    let size = 1.0 / (1u64 << level) as f64;
    let mut w = filter_sql(filter, db);
    // The cells, a cell wider on every side, as a lon/lat box the GiST index can use (which
    // cell an incident is in is decided below from its key).
    let (x0, x1) = (
        ((cx0 as f64 - 1.0) * size).max(0.0),
        ((cx1 as f64 + 2.0) * size).min(1.0),
    );
    let (y0, y1) = (
        ((cy0 as f64 - 1.0) * size).max(0.0),
        ((cy1 as f64 + 2.0) * size).min(1.0),
    );
    // A filter's own box already bounds the rows (a second box makes the planner misjudge).
    if (x0, y0, x1, y1) != (0.0, 0.0, 1.0, 1.0) && filter.bbox.is_none() {
        use crate::projection::{lat_of, lon_of};
        w.envelope([lon_of(x0), lat_of(y1), lon_of(x1), lat_of(y0)]);
    }
    let shift = 62 - 2 * level as i32;
    let sql = format!(
        "SELECT morton >> {shift}, type, count(*), sum(mx::float8), sum(my::float8)
         FROM {} WHERE {} GROUP BY 1, 2",
        db.table.quoted(),
        w.text()
    );
    (sql, w)
}

/// Cells from rows of (cell key, type, count, Σx, Σy), those in `[cx0, cx1] × [cy0, cy1]`, in row
/// then column order: the incidents' and the summary's queries both answer in these columns.
fn cells_of_rows(
    rows: &[postgres::Row],
    level: u32,
    ((cx0, cx1), (cy0, cy1)): ((u64, u64), (u64, u64)),
) -> Vec<Cell> {
    let mut out: BTreeMap<(u64, u64), Cell> = BTreeMap::new();
    for r in rows {
        let key = r.get::<_, i64>(0) as u64;
        // The key holds the top 2·level bits of the 64-bit code, shifted down.
        let (cx, cy) = crate::cells::cell_of_code(key << (64 - 2 * level.max(1)), level);
        if cx < cx0 || cx > cx1 || cy < cy0 || cy > cy1 {
            continue;
        }
        out.entry((cy, cx))
            .or_insert_with(|| Cell::new(cx, cy))
            .add(
                r.get::<_, i64>(2) as u64,
                r.get(3),
                r.get(4),
                r.get::<_, &str>(1),
            );
    }
    out.into_values().collect()
}

/// The cells from the summary table `load` keeps, when it can answer: no filter but types, a
/// level it holds, and a table this role may read. `None` otherwise.
fn summary_cells(
    c: &mut impl postgres::GenericClient,
    db: &DbSource,
    filter: &Filter,
    level: u32,
    ((cx0, cx1), (cy0, cy1)): ((u64, u64), (u64, u64)),
) -> Result<Option<Vec<Cell>>, DbError> {
    let only_types = Filter {
        types: filter.types.clone(),
        ..Filter::default()
    };
    if level > super::schema::SUMMARY_LEVELS || *filter != only_types {
        return Ok(None);
    }
    if !summary_usable(c, db)? {
        return Ok(None);
    }
    let cells = db.table.quoted_with("cells");
    // Cells in a rectangle have Z-order keys between its corners' keys.
    let key = |cx: u64, cy: u64| crate::cells::code_of_cell(cx, cy, level) as i64;
    let mut w = filter_sql(&only_types, db);
    w.push("level = {1}", vec![SqlValue::SmallInt(level as i16)]);
    w.push("cell >= {1}", vec![SqlValue::BigInt(key(cx0, cy0))]);
    w.push("cell <= {1}", vec![SqlValue::BigInt(key(cx1, cy1))]);
    let sql = format!(
        "SELECT cell, type, n, sx, sy FROM {cells} WHERE {} AND n > 0",
        w.text()
    );
    let rows = c.query(&sql, &refs(&w)).map_err(|e| db.error(e))?;
    Ok(Some(cells_of_rows(&rows, level, ((cx0, cx1), (cy0, cy1)))))
}

/// The aggregates of `filter` (whose `types` are the shown types) on an open connection, and
/// the whole table's count of each type (asked in the same question as its size and day range:
/// the types' colours come from them).
pub fn aggregates_on(
    c: &mut impl postgres::GenericClient,
    db: &DbSource,
    filter: &Filter,
) -> Result<(Aggregates, BTreeMap<String, u64>), DbError> {
    let e = |err| db.error(err);
    let t = db.table.quoted();
    let whole = c
        .query(
            &format!(
                "SELECT type, count(*), min(day_first) - DATE '1970-01-01',
                        max(day_last) - DATE '1970-01-01' FROM {t} GROUP BY type"
            ),
            &[],
        )
        .map_err(e)?;
    let all_types: BTreeMap<String, u64> = whole
        .iter()
        .map(|r| (r.get(0), r.get::<_, i64>(1) as u64))
        .collect();
    let day_range = whole
        .iter()
        .filter_map(|r| Some((r.get::<_, Option<i32>>(2)?, r.get::<_, Option<i32>>(3)?)))
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)));
    let untyped = Filter {
        types: Vec::new(),
        ..filter.clone()
    };
    let w = filter_sql(&untyped, db);
    let mut types = c
        .query(
            &format!(
                "SELECT type, count(*), count(*) FILTER (WHERE disputed),
                        min(ST_X(geom)), min(ST_Y(geom)), max(ST_X(geom)), max(ST_Y(geom))
                 FROM {t} WHERE {} GROUP BY type ORDER BY type",
                w.text()
            ),
            &refs(&w),
        )
        .map_err(e)?
        .iter()
        .map(|r| TypeCount {
            name: r.get(0),
            count: r.get::<_, i64>(1) as u64,
            disputed: r.get::<_, i64>(2) as u64,
            bbox: [r.get(3), r.get(4), r.get(5), r.get(6)],
        })
        .collect::<Vec<_>>();
    // By name as Rust orders text (the server's collation may differ): files answer so too.
    types.sort_by(|a, b| a.name.cmp(&b.name));
    let undated = Filter {
        from: None,
        to: None,
        ..filter.clone()
    };
    let w = filter_sql(&undated, db);
    let days: Vec<(i32, i64)> = c
        .query(
            &format!(
                "SELECT day_first - DATE '1970-01-01', count(*) FROM {t} WHERE {} GROUP BY 1 ORDER BY 1",
                w.text()
            ),
            &refs(&w),
        )
        .map_err(e)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let first_day = days.first().map_or(0, |d| d.0);
    let mut day_counts = vec![0u32; days.last().map_or(0, |d| (d.0 - first_day + 1) as usize)];
    for (d, n) in days {
        day_counts[(d - first_day) as usize] = n as u32;
    }
    let aggregates = Aggregates {
        incidents: all_types.values().sum(),
        day_range,
        types,
        first_day,
        day_counts,
    };
    Ok((aggregates, all_types))
}
