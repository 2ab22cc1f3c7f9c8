//! Individual incidents from a table, for `filter` (whose job is to write them) and `export`
//! (while few match): the rows matching a filter become an ordinary [`Store`] built from the
//! table's typed columns, with each row's original record (`json`: its fields in their order) kept as a GeoJSON feature in
//! memory for the record API, so every later stage works on them exactly as on a file.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::query::filter_sql;
use super::{DbError, DbSource};
use crate::date::When;
use crate::import::LoadResult;
use crate::model::{ColumnMap, DatePrecision, LocPrecision, Row};
use crate::query::Filter;
use crate::store::{Builder, Content, Format, LoadedFile, RecordRef};

/// Incidents fetched from a table, with their table ids (`ids[i]` is store index `i`'s).
pub struct Fetched {
    /// The incidents, as a store.
    pub result: LoadResult,
    /// Their `id`s.
    pub ids: Vec<i64>,
}

/// The incident whose table id is `id`, with its original record (the window's details).
pub fn fetch_id(
    c: &mut impl postgres::GenericClient,
    db: &DbSource,
    id: i64,
) -> Result<Fetched, DbError> {
    let mut w = filter_sql(&Filter::default(), db);
    w.push(
        "id = {1}",
        vec![crate::query::filters::SqlValue::BigInt(id)],
    );
    fetch_on(c, db, w, 1, &[], true)
}

/// The typed columns of a fetched row (see the query in [`fetch_on`]) as a validated row.
fn row_of(r: &postgres::Row, lon: f64, lat: f64) -> Row<'static> {
    let text = |k: usize| Cow::Owned(r.get::<_, String>(k));
    Row {
        when: When {
            day: r.get(2),
            end: r.get(3),
            precision: DatePrecision::parse(&r.get::<_, String>(6)).unwrap_or_default(),
            minute: r.get::<_, Option<i16>>(4).map(|m| m as u16),
            offset: r.get(5),
        },
        lon,
        lat,
        type_name: text(8),
        category: text(9),
        place: text(10),
        loc_precision: LocPrecision::parse(&r.get::<_, String>(7)).unwrap_or_default(),
        fatalities: r.get::<_, Option<i32>>(11).unwrap_or(-1),
        injuries: r.get::<_, Option<i32>>(12).unwrap_or(-1),
        disputed: r.get(15),
    }
}

/// At most `limit` incidents matching `w`, on an open connection; `types` are interned first
/// (in that order) so the store knows every type of the table; without `records` each incident's
/// record is left empty (the window reads it by id when asked).
pub fn fetch_on(
    c: &mut impl postgres::GenericClient,
    db: &DbSource,
    w: super::query::Where,
    limit: usize,
    types: &[String],
    records: bool,
) -> Result<Fetched, DbError> {
    let t = db.table.quoted();
    let count: i64 = c
        .query_one(
            &format!("SELECT count(*) FROM {t} WHERE {}", w.text()),
            &super::query::refs(&w),
        )
        .map_err(|e| db.error(e))?
        .get(0);
    if count as usize > limit {
        return Err(DbError::TooMany {
            count: count as u64,
            limit: limit as u64,
        });
    }
    let sql = format!(
        "SELECT ST_X(geom), ST_Y(geom), day_first - DATE '1970-01-01', day_last - DATE '1970-01-01',
                local_minute, utc_offset, date_precision, location_precision, type, category, place,
                fatalities, injuries, {record}, origin_line, disputed, id
         FROM {t} WHERE {}
         ORDER BY day_first, coalesce(local_minute, -1), origin_file, origin_line, id",
        w.text(),
        record = if records { "record::text" } else { "'{}'::text" },
    );
    let rows = c
        .query(&sql, &super::query::refs(&w))
        .map_err(|e| db.error(e))?;
    let mut bytes = Vec::new();
    let mut builder = Builder::with_capacity(rows.len());
    builder.intern_types(types);
    let mut ids = Vec::with_capacity(rows.len());
    let mut columns: Vec<String> = Vec::new();
    for r in &rows {
        let (lon, lat): (f64, f64) = (r.get(0), r.get(1));
        let record: String = r.get(13);
        if let Ok(m) = serde_json::from_str::<Map<String, Value>>(&record) {
            for k in m.keys() {
                if !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
        let start = bytes.len();
        // Coordinates written as JSON writes floats (33.0, not 33), as in a file.
        let coords = serde_json::to_string(&[lon, lat]).unwrap_or_default();
        bytes.extend_from_slice(
            format!(
                "{{\"type\":\"Feature\",\"geometry\":{{\"type\":\"Point\",\"coordinates\":{coords}}},\"properties\":{record}}}"
            )
            .as_bytes(),
        );
        let len = bytes.len() - start;
        bytes.push(b'\n');
        ids.push(r.get::<_, i64>(16));
        let row = row_of(r, lon, lat);
        builder.push(
            &row,
            RecordRef {
                file: 0,
                start: start as u64,
                len: len as u32,
                line: r.get::<_, i32>(14) as u32,
            },
        );
    }
    // Roles for the record's fields, by the same detection as files.
    let map = crate::import::columns::detect(&columns, &Default::default()).unwrap_or_else(|_| {
        let mut m = ColumnMap::default();
        m.assign_roles(&columns);
        m
    });
    let source = LoadedFile {
        path: db.display.clone().into(),
        name: db.display.clone(),
        format: Format::GeoJson,
        delimiter: b',',
        utf8: true,
        columns,
        map,
        content: Content::Memory(bytes.into()),
    };
    // The query's order is the store's (day, then local time with a missing time as -1, then
    // input order), so the store keeps it and `ids` stay aligned.
    Ok(Fetched {
        result: LoadResult {
            store: builder.finish(vec![source]),
            ..Default::default()
        },
        ids,
    })
}
