//! An incident as it is recorded or corrected: its original fields, in the order its file (or
//! table record) holds them, and its position; checked by the importers' own rules plus the
//! rules of recording (a date, a type, a position with its precision, a source).

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::import::row::{Issue, build};
use crate::model::{ColumnMap, LocPrecision, Role, Row};
use crate::store::Record;
use crate::store::record::value_text;

/// The fields a new incident file has, in order: the bundled data's (see data/README.md).
pub const NEW_FILE_COLUMNS: [&str; 19] = [
    "id",
    "date",
    "time",
    "utc_offset",
    "date_precision",
    "place",
    "admin1",
    "location_precision",
    "type",
    "category",
    "description",
    "fatalities",
    "injuries",
    "actors",
    "source",
    "source_url",
    "accounts",
    "related",
    "disputed",
];

/// What a source's records hold: their column names and what each means, and where the
/// position is.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// Column (or property) names, in order.
    pub columns: Vec<String>,
    /// What each means.
    pub map: ColumnMap,
    /// The position is in latitude/longitude columns (delimited text), not in a geometry.
    pub position_in_columns: bool,
}

impl Schema {
    /// The schema of `columns` as the importers detect it.
    pub fn of(columns: Vec<String>, map: ColumnMap, position_in_columns: bool) -> Schema {
        Schema {
            columns,
            map,
            position_in_columns,
        }
    }

    /// The schema of a new incident file (GeoJSON with the bundled data's fields).
    pub fn new_file() -> Schema {
        let columns: Vec<String> = NEW_FILE_COLUMNS.iter().map(|s| s.to_string()).collect();
        let map = crate::import::columns::detect(&columns, &Default::default()).unwrap_or_default();
        Schema::of(columns, map, false)
    }

    /// The schema with `names` it lacks added after its columns (a property a GeoJSON file
    /// or a table's records do not have yet), each with the role the importers will give it
    /// when the file is read again — unless a column already has that role, which keeps it
    /// (such a name is one of [`Schema::displacing`], which an edit refuses).
    pub fn with_fields<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Cow<'_, Schema> {
        let Some((columns, detected)) = self.extended(names) else {
            return Cow::Borrowed(self);
        };
        let mut map = self.map.clone();
        for c in self.columns.len()..columns.len() {
            let role = detected.role(c);
            if self.column(role).is_none() {
                map.put(role, c);
            }
        }
        map.assign_roles(&columns);
        Cow::Owned(Schema::of(columns, map, self.position_in_columns))
    }

    /// The names among `names` the schema lacks that would take a column's meaning when the
    /// file is read again (the importers prefer them: `date` over `timestamp`), each with that
    /// column: every other incident would then be read without it.
    pub fn displacing<'a>(
        &self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Vec<(String, String)> {
        let Some((columns, detected)) = self.extended(names) else {
            return Vec::new();
        };
        (self.columns.len()..columns.len())
            .filter_map(|c| {
                let role = detected.role(c);
                let one = !matches!(
                    role,
                    Role::Description | Role::Actor | Role::Source | Role::Area | Role::Other
                );
                let old = self.column(role).filter(|_| one)?;
                Some((columns[c].clone(), old.to_string()))
            })
            .collect()
    }

    /// Its columns with `names` it lacks added, and how the importers would read them all;
    /// `None` when it lacks none.
    fn extended<'a>(
        &self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Option<(Vec<String>, ColumnMap)> {
        let mut columns = self.columns.clone();
        for n in names {
            if !columns.iter().any(|c| c == n) {
                columns.push(n.to_string());
            }
        }
        if columns.len() == self.columns.len() {
            return None;
        }
        let detected =
            crate::import::columns::detect(&columns, &Default::default()).unwrap_or_default();
        Some((columns, detected))
    }

    /// The column of a role, when there is one.
    pub fn column(&self, role: Role) -> Option<&str> {
        (0..self.columns.len())
            .find(|&c| self.map.role(c) == role)
            .map(|c| self.columns[c].as_str())
    }

    /// Every column of a role, in order.
    pub fn columns_of(&self, role: Role) -> Vec<&str> {
        (0..self.columns.len())
            .filter(|&c| self.map.role(c) == role)
            .map(|c| self.columns[c].as_str())
            .collect()
    }

    /// Whether the data writes codes (ACLED: `1`/`2`/`3`) rather than names for precisions.
    pub fn coded_precisions(&self) -> bool {
        self.map.acled
    }
}

/// A reason a draft cannot be saved, with the field it concerns (`position` for the position).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldProblem {
    /// The field (column name), or `position`.
    pub field: String,
    /// Why.
    pub message: String,
}

/// Why a draft cannot be saved: every field's problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
pub struct Invalid(pub Vec<FieldProblem>);

/// An incident being edited.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// Its fields, in order (values as the record holds them: text for delimited files).
    pub fields: Vec<(String, Value)>,
    /// Longitude (NaN: none yet).
    pub lon: f64,
    /// Latitude (NaN: none yet).
    pub lat: f64,
}

impl Draft {
    /// A new incident of `schema`: every column, empty.
    pub fn empty(schema: &Schema) -> Draft {
        let blank = if schema.position_in_columns {
            Value::String(String::new())
        } else {
            Value::Null
        };
        Draft {
            fields: schema
                .columns
                .iter()
                .map(|c| (c.clone(), blank.clone()))
                .collect(),
            lon: f64::NAN,
            lat: f64::NAN,
        }
    }

    /// An incident's draft from its record and position.
    pub fn of_record(record: &Record, lon: f64, lat: f64) -> Draft {
        Draft {
            fields: record
                .fields
                .iter()
                .map(|f| (f.name.clone(), f.value.clone()))
                .collect(),
            lon,
            lat,
        }
    }

    /// The value of field `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The text of field `name` ("" when absent or null).
    pub fn text(&self, name: &str) -> String {
        self.get(name)
            .and_then(value_text)
            .map(Cow::into_owned)
            .unwrap_or_default()
    }

    /// The text of the first field of `role` ("" when none).
    pub fn role_text(&self, schema: &Schema, role: Role) -> String {
        schema
            .column(role)
            .map(|c| self.text(c))
            .unwrap_or_default()
    }

    /// Sets field `name` (added at the end when the draft lacks it).
    pub fn set(&mut self, name: &str, value: Value) {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.fields.push((name.to_string(), value)),
        }
    }

    /// Its own id as the data's links read one from a record
    /// ([`crate::links::incident_id`]): the first field named as an id, trimmed, if not empty.
    pub fn own_id(&self) -> Option<String> {
        self.fields
            .iter()
            .find(|(n, _)| {
                crate::links::ID_NAMES
                    .iter()
                    .any(|i| n.eq_ignore_ascii_case(i))
            })
            .map(|(n, _)| self.text(n).trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// Sets the first field of `role` to `text` (as [`Draft::set_text`]); returns whether the
    /// schema has such a field.
    pub fn set_role(&mut self, schema: &Schema, role: Role, text: &str) -> bool {
        let Some(c) = schema.column(role) else {
            return false;
        };
        let c = c.to_string();
        self.set_text(schema, &c, text);
        true
    }

    /// Sets field `name` from what a user typed: delimited text keeps text; other records keep
    /// counts as numbers, yes/no as booleans, JSON arrays and objects as such, and nothing as
    /// null.
    pub fn set_text(&mut self, schema: &Schema, name: &str, text: &str) {
        let schema = schema.with_fields([name]);
        let role = schema
            .columns
            .iter()
            .position(|c| c == name)
            .map_or(Role::Other, |c| schema.map.role(c));
        let t = text.trim();
        let value = if schema.position_in_columns {
            Value::String(text.to_string())
        } else if t.is_empty() {
            Value::Null
        } else if matches!(role, Role::Fatalities | Role::Injuries) {
            t.parse::<u64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(text.to_string()))
        } else if role == Role::Disputed && matches!(t, "true" | "false") {
            Value::Bool(t == "true")
        } else if (t.starts_with('[') || t.starts_with('{'))
            && let Ok(v) = serde_json::from_str::<Value>(t)
        {
            v
        } else {
            Value::String(text.to_string())
        };
        if schema.position_in_columns && matches!(role, Role::Latitude | Role::Longitude) {
            // The position follows its column, else the old position would be written back
            // over it; one that cannot be read leaves no position, and the column's own
            // problem is then named.
            let (limit, what) = match role {
                Role::Latitude => (90.0, "latitude"),
                _ => (180.0, "longitude"),
            };
            let v = crate::import::row::coordinate(text, limit, what).unwrap_or(f64::NAN);
            match role {
                Role::Latitude => self.lat = v,
                _ => self.lon = v,
            }
        }
        self.set(name, value);
    }

    /// The fields as a JSON object (GeoJSON properties; a table's record).
    pub fn properties(&self) -> Map<String, Value> {
        self.fields.iter().cloned().collect()
    }

    /// The draft with its position written into the latitude/longitude columns (delimited
    /// text keeps it there).
    fn with_position_in_columns(&self, schema: &Schema) -> Draft {
        let mut d = self.clone();
        if schema.position_in_columns && self.lon.is_finite() && self.lat.is_finite() {
            for (role, v, limit) in [
                (Role::Latitude, self.lat, 90.0),
                (Role::Longitude, self.lon, 180.0),
            ] {
                // A column that already says this position keeps its text ("30.0000" stays).
                if let Some(c) = schema.column(role)
                    && crate::import::row::coordinate(&self.text(c), limit, "").ok() != Some(v)
                {
                    d.set(c, Value::String(format_degrees(v)));
                }
            }
        }
        d
    }

    /// The draft as a record (each field with its role under `schema`), as it will be saved.
    pub fn record(&self, schema: &Schema) -> Record {
        let schema = &*schema.with_fields(self.fields.iter().map(|(n, _)| n.as_str()));
        let d = self.saved(schema);
        Record {
            fields: d
                .fields
                .into_iter()
                .map(|(name, value)| {
                    let role = schema
                        .columns
                        .iter()
                        .position(|c| *c == name)
                        .map_or(Role::Other, |c| schema.map.role(c));
                    crate::store::record::Field { name, value, role }
                })
                .collect(),
            geometry: None,
        }
    }

    /// The draft as it will be saved: its position where `schema` keeps it.
    /// Records that are not delimited text leave out what is empty (a cleared field goes).
    pub fn saved(&self, schema: &Schema) -> Draft {
        let mut d = self.with_position_in_columns(schema);
        if !schema.position_in_columns {
            d.fields.retain(|(_, v)| !v.is_null());
        }
        d
    }

    /// Checks the draft as it will be saved: the importers' rules (dates, coordinates, counts,
    /// precisions) and the rules of recording. Gives the validated row, or every problem.
    pub fn check(&self, schema: &Schema) -> Result<Row<'static>, Invalid> {
        // A field the file has nowhere else yet is checked by the role it will be read with.
        let original = schema;
        let schema = &*schema.with_fields(self.fields.iter().map(|(n, _)| n.as_str()));
        let d = self.with_position_in_columns(schema);
        let mut problems = Vec::new();
        let name = |c: Option<usize>, fallback: &str| {
            c.and_then(|c| schema.columns.get(c).cloned())
                .unwrap_or_else(|| fallback.to_string())
        };
        let texts: Vec<Option<String>> = schema
            .columns
            .iter()
            .map(|c| d.get(c).and_then(value_text).map(Cow::into_owned))
            .collect();
        let get = |i: usize| {
            texts
                .get(i)
                .cloned()
                .flatten()
                .filter(|t| !t.trim().is_empty())
                .map(Cow::Owned)
        };
        let point = (!schema.position_in_columns).then_some((self.lon, self.lat));
        // A latitude or longitude column that cannot be read names its own problem (the row
        // is built from it); "no position" would say it twice.
        let unreadable = |role: Role, limit: f64| {
            schema.column(role).is_some_and(|c| {
                let t = d.text(c);
                !t.trim().is_empty() && crate::import::row::coordinate(&t, limit, "").is_err()
            })
        };
        let named = schema.position_in_columns
            && (unreadable(Role::Latitude, 90.0) || unreadable(Role::Longitude, 180.0));
        if !named && (!self.lon.is_finite() || !self.lat.is_finite()) {
            problems.push(FieldProblem {
                field: "position".into(),
                message: "no position: type one (decimal, DMS or MGRS) or pick a place".into(),
            });
        }
        let row = match build(&schema.map, get, point.filter(|p| p.0.is_finite())) {
            Ok((row, warnings)) => {
                for Issue { column, message } in warnings {
                    problems.push(FieldProblem {
                        field: name(column, "position"),
                        message,
                    });
                }
                Some(row)
            }
            Err(Issue { column, message }) => {
                problems.push(FieldProblem {
                    field: name(column, "position"),
                    message,
                });
                None
            }
        };
        recording_rules(&d, schema, row.as_ref(), &mut problems);
        for (new, old) in original.displacing(self.fields.iter().map(|(n, _)| n.as_str())) {
            problems.push(FieldProblem {
                field: new.clone(),
                message: format!(
                    "the file would be read by {new} instead of {old} once it has this field (and its other incidents have none): set {old} instead"
                ),
            });
        }
        match row {
            Some(r) if problems.is_empty() => Ok(r),
            _ => Err(Invalid(problems)),
        }
    }
}

/// Degrees as files write them: up to six decimals (a tenth of a metre), no trailing zeros.
pub fn format_degrees(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// The rules of recording, beyond the importers': a date, a type, a location precision, and at
/// least one source (an http(s) URL, or a publisher and a date).
fn recording_rules(d: &Draft, schema: &Schema, row: Option<&Row<'_>>, out: &mut Vec<FieldProblem>) {
    let field = |role: Role, fallback: &str| schema.column(role).unwrap_or(fallback).to_string();
    let mut need = |role: Role, fallback: &str, message: &str| {
        // Delimited text cannot gain a column in place.
        let message = if schema.position_in_columns && schema.column(role).is_none() {
            format!(
                "{message}, and this file has no column for it: save a copy as GeoJSON to record it"
            )
        } else {
            message.to_string()
        };
        out.push(FieldProblem {
            field: field(role, fallback),
            message,
        })
    };
    if d.role_text(schema, Role::Date).trim().is_empty() {
        need(Role::Date, "date", "a date is needed (YYYY-MM-DD)");
    }
    if schema.column(Role::Type).is_none() || d.role_text(schema, Role::Type).trim().is_empty() {
        need(Role::Type, "type", "a type is needed");
    }
    let lp = LocPrecision::parse(&d.role_text(schema, Role::LocPrecision));
    if schema.column(Role::LocPrecision).is_none()
        || matches!(lp, None | Some(LocPrecision::Unknown))
        || row.is_some_and(|r| r.loc_precision == LocPrecision::Unknown)
    {
        need(
            Role::LocPrecision,
            "location_precision",
            "a location precision is needed: exact, near or region",
        );
    }
    let sources: Vec<String> = schema
        .columns_of(Role::Source)
        .iter()
        .map(|c| d.text(c))
        .collect();
    // ACLED names publishers only; its rows are dated by the event date they report.
    let acled_publisher = schema.map.acled
        && sources
            .iter()
            .any(|t| t.chars().filter(|c| c.is_alphabetic()).count() >= 2);
    if !source_ok(&sources) && !acled_publisher {
        need(
            Role::Source,
            "source",
            "a source is needed: an http(s) URL, or a publisher and a date",
        );
    }
}

/// Whether the source texts hold an http(s) URL, or a publisher (words) and a date (a year).
pub fn source_ok(texts: &[String]) -> bool {
    let url = texts.iter().any(|t| !crate::text::safe_links(t).is_empty());
    let dated = texts.iter().any(|t| {
        let year = t
            .split(|c: char| !c.is_ascii_digit())
            .any(|w| w.len() == 4 && w.parse::<u32>().is_ok_and(|y| (1900..=2100).contains(&y)));
        let words = t.chars().filter(|c| c.is_alphabetic()).count() >= 2;
        year && words
    });
    url || dated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(schema: &Schema) -> Draft {
        let mut d = Draft::empty(schema);
        d.lon = 44.2344;
        d.lat = 33.2625;
        for (k, v) in [
            ("date", "2021-06-05"),
            ("date_precision", "day"),
            ("type", "Interception"),
            ("location_precision", "exact"),
            ("place", "Baghdad International Airport"),
            ("source", "AFP via Al Jazeera, 2021-06-06"),
        ] {
            d.set(k, Value::String(v.into()));
        }
        d
    }

    #[test]
    fn a_complete_draft_is_a_row() {
        let s = Schema::new_file();
        let r = filled(&s).check(&s).unwrap();
        assert_eq!(r.type_name, "Interception");
        assert_eq!(r.loc_precision, LocPrecision::Exact);
        assert_eq!((r.lon, r.lat), (44.2344, 33.2625));
    }

    #[test]
    fn each_missing_part_is_named_beside_its_field() {
        let s = Schema::new_file();
        let problems = Draft::empty(&s).check(&s).unwrap_err().0;
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        for f in ["position", "date", "type", "location_precision", "source"] {
            assert!(fields.contains(&f), "{f}: {problems:?}");
        }
        // A source without a date or a URL is not enough; with a URL it is.
        let mut d = filled(&s);
        d.set("source", Value::String("AFP".into()));
        assert!(d.check(&s).is_err());
        d.set("source_url", Value::String("https://example.org/a".into()));
        assert!(d.check(&s).is_ok());
        // Casualties: unknown (empty) is not zero; a bad count is named.
        let mut d = filled(&s);
        assert_eq!(d.check(&s).unwrap().fatalities, -1);
        d.set_role(&s, Role::Fatalities, "0");
        assert_eq!(d.get("fatalities"), Some(&Value::from(0u64)));
        assert_eq!(d.check(&s).unwrap().fatalities, 0);
        d.set("date", Value::String("2021-02-30".into()));
        let p = d.check(&s).unwrap_err().0;
        assert_eq!(p[0].field, "date", "{p:?}");
    }

    #[test]
    fn delimited_text_keeps_the_position_in_its_columns() {
        let cols: Vec<String> = "date,type,latitude,longitude,location_precision,source"
            .split(',')
            .map(String::from)
            .collect();
        let map = crate::import::columns::detect(&cols, &Default::default()).unwrap();
        let s = Schema::of(cols, map, true);
        let mut d = Draft::empty(&s);
        d.lon = 42.441;
        d.lat = 33.786;
        d.set("date", Value::String("2021-06-06".into()));
        d.set("type", Value::String("Interception".into()));
        d.set("location_precision", Value::String("exact".into()));
        d.set("source", Value::String("SOFREP, 2021-06-06".into()));
        let r = d.check(&s).unwrap();
        assert_eq!((r.lon, r.lat), (42.441, 33.786));
        assert_eq!(d.saved(&s).text("latitude"), "33.786");
        assert_eq!(format_degrees(-0.0000001), "0");
        assert_eq!(format_degrees(44.12), "44.12");
    }
}
