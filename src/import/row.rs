//! One row's fields → the incident model, with validation. Shared by every importer.

use std::borrow::Cow;

use crate::date::{parse_offset, parse_time_of_day, parse_when};
use crate::model::{ColumnMap, DatePrecision, LocPrecision, Row};
use crate::text::clip;

/// Why a row was rejected, or what is doubtful about a kept one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The column concerned.
    pub column: Option<usize>,
    /// The reason in words.
    pub message: String,
}

fn issue(column: Option<usize>, message: String) -> Issue {
    Issue { column, message }
}

/// Type name used for rows whose file has no type column or an empty type.
pub const UNSPECIFIED: &str = "Unspecified";

/// Why a value of a row could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// Nothing there.
    #[error("missing {0}")]
    Missing(&'static str),
    /// Not a number.
    #[error("{what} '{text}' is not a number")]
    NotANumber {
        /// Which value.
        what: &'static str,
        /// As written.
        text: String,
    },
    /// NaN or infinite.
    #[error("{what} '{text}' is not a finite number")]
    NotFinite {
        /// Which value.
        what: &'static str,
        /// As written.
        text: String,
    },
    /// Outside `[-limit, limit]`.
    #[error("{what} {value} is outside [-{limit}, {limit}]")]
    Outside {
        /// Which value.
        what: &'static str,
        /// The value.
        value: f64,
        /// Its limit.
        limit: f64,
    },
    /// Not a count of people.
    #[error("'{0}' is not a count")]
    NotACount(String),
}

/// Parses a coordinate, refusing NaN, infinities and values outside `[-limit, limit]`.
pub fn coordinate(s: &str, limit: f64, what: &'static str) -> Result<f64, ValueError> {
    let t = crate::text::trim(s);
    if t.is_empty() {
        return Err(ValueError::Missing(what));
    }
    // A decimal comma (common in `;`-separated European spreadsheets) is accepted.
    let v: f64 = match crate::text::plain_decimal(t)
        .ok_or(())
        .or_else(|_| t.parse::<f64>())
    {
        Ok(v) => Ok(v),
        Err(_) if t.matches(',').count() == 1 && !t.contains('.') => {
            t.replace(',', ".").parse::<f64>()
        }
        Err(e) => Err(e),
    }
    .map_err(|_| ValueError::NotANumber {
        what,
        text: clip(t),
    })?;
    if !v.is_finite() {
        return Err(ValueError::NotFinite {
            what,
            text: clip(t),
        });
    }
    if v.abs() > limit {
        return Err(ValueError::Outside {
            what,
            value: v,
            limit,
        });
    }
    Ok(v)
}

fn count(s: Option<Cow<'_, str>>) -> Result<i32, ValueError> {
    let Some(s) = s else { return Ok(-1) };
    let t = crate::text::trim(&s);
    if t.is_empty() {
        return Ok(-1);
    }
    match crate::text::plain_decimal(t)
        .ok_or(())
        .or_else(|_| t.parse::<f64>())
    {
        // Whole numbers only ("3.0" from a float column is 3; "1.5" people is a mistake,
        // not 1).
        Ok(v) if v.is_finite() && v >= 0.0 && v < i32::MAX as f64 && v.fract() == 0.0 => {
            Ok(v as i32)
        }
        _ => Err(ValueError::NotACount(clip(t))),
    }
}

/// Builds a row from field accessor `get` (column index → text). `point` is a geometry's
/// coordinate (GeoJSON) that wins over lat/lon columns unless the user overrode them.
/// Returns the row with its warnings, or the reason it was skipped.
pub fn build<'a>(
    c: &ColumnMap,
    get: impl Fn(usize) -> Option<Cow<'a, str>>,
    point: Option<(f64, f64)>,
) -> Result<(Row<'a>, Vec<Issue>), Issue> {
    let field = |i: Option<usize>| i.and_then(&get);
    let mut warnings = Vec::new();

    let (lon, lat) = match point {
        Some(p) => p,
        None => {
            let lat_s = field(c.lat).ok_or_else(|| issue(c.lat, "missing latitude".into()))?;
            let lon_s = field(c.lon).ok_or_else(|| issue(c.lon, "missing longitude".into()))?;
            let lat =
                coordinate(&lat_s, 90.0, "latitude").map_err(|e| issue(c.lat, e.to_string()))?;
            let lon =
                coordinate(&lon_s, 180.0, "longitude").map_err(|e| issue(c.lon, e.to_string()))?;
            (lon, lat)
        }
    };
    if lon == 0.0 && lat == 0.0 {
        warnings.push(issue(
            c.lat,
            "location is 0,0, likely a missing location".into(),
        ));
    }

    let date_s = field(c.date).ok_or_else(|| issue(c.date, "missing date".into()))?;
    let mut when = parse_when(&date_s).map_err(|e| issue(c.date, e.to_string()))?;
    if let Some(t) = field(c.time).filter(|t| !crate::text::trim(t).is_empty()) {
        match parse_time_of_day(&t) {
            Some(m) if when.minute.is_none() => when.minute = Some(m),
            Some(_) => {}
            None => warnings.push(issue(
                c.time,
                format!("time '{}' is not HH:MM; ignored", clip(&t)),
            )),
        }
    }
    if let Some(o) = field(c.offset).filter(|o| !crate::text::trim(o).is_empty()) {
        match parse_offset(&o) {
            Some(v) => when.offset = Some(v),
            None => warnings.push(issue(
                c.offset,
                format!("UTC offset '{}' not understood; ignored", clip(&o)),
            )),
        }
    }
    if let Some(p) = field(c.date_precision).filter(|p| !crate::text::trim(p).is_empty()) {
        match DatePrecision::parse(&p) {
            Some(p) => when = when.with_precision(p),
            None => warnings.push(issue(
                c.date_precision,
                format!("date precision '{}' not understood", clip(&p)),
            )),
        }
    }
    let loc_precision = match field(c.loc_precision) {
        Some(p) => LocPrecision::parse(&p).unwrap_or_else(|| {
            warnings.push(issue(
                c.loc_precision,
                format!("location precision '{}' not understood", clip(&p)),
            ));
            LocPrecision::Unknown
        }),
        None => LocPrecision::Unknown,
    };
    let fatalities = count(field(c.fatalities)).unwrap_or_else(|m| {
        warnings.push(issue(c.fatalities, m.to_string()));
        -1
    });
    let injuries = count(field(c.injuries)).unwrap_or_else(|m| {
        warnings.push(issue(c.injuries, m.to_string()));
        -1
    });
    let disputed = field(c.disputed).is_some_and(|v| {
        matches!(
            crate::text::ascii_lower(crate::text::trim(&v), &mut [0; 16]),
            Some("true" | "yes" | "y" | "1" | "disputed")
        )
    });
    let trimmed = |v: Option<Cow<'a, str>>| -> Cow<'a, str> {
        match v {
            Some(Cow::Borrowed(s)) => Cow::Borrowed(crate::text::trim(s)),
            Some(Cow::Owned(s)) => Cow::Owned(s.trim().to_string()),
            None => Cow::Borrowed(""),
        }
    };
    let mut type_name = trimmed(field(c.type_column));
    if type_name.is_empty() {
        type_name = Cow::Borrowed(UNSPECIFIED);
    }
    Ok((
        Row {
            when,
            lon,
            lat,
            type_name,
            category: trimmed(field(c.category)),
            place: trimmed(field(c.place)),
            loc_precision,
            fatalities,
            injuries,
            disputed,
        },
        warnings,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::columns::{Overrides, detect};

    fn run(header: &str, row: &str) -> Result<(Row<'static>, Vec<Issue>), Issue> {
        let h: Vec<String> = header.split(',').map(String::from).collect();
        let c = detect(&h, &Overrides::default()).unwrap();
        let fields: Vec<String> = row.split(',').map(String::from).collect();
        build(
            &c,
            move |i| fields.get(i).map(|s| Cow::Owned(s.clone())),
            None,
        )
    }

    #[test]
    fn validates_coordinates() {
        assert!(
            run("lat,lon,date", "91,10,2021-01-01")
                .unwrap_err()
                .message
                .contains("outside")
        );
        assert!(
            run("lat,lon,date", "10,-180.5,2021-01-01")
                .unwrap_err()
                .message
                .contains("outside")
        );
        assert!(
            run("lat,lon,date", "NaN,10,2021-01-01")
                .unwrap_err()
                .message
                .contains("finite")
        );
        assert!(
            run("lat,lon,date", "inf,10,2021-01-01")
                .unwrap_err()
                .message
                .contains("finite")
        );
        assert!(
            run("lat,lon,date", ",10,2021-01-01")
                .unwrap_err()
                .message
                .contains("missing")
        );
        let (_, w) = run("lat,lon,date", "0,0,2021-01-01").unwrap();
        assert!(w[0].message.contains("0,0"));
    }

    #[test]
    fn separate_time_offset_and_precision_columns() {
        let (r, w) = run(
            "lat,lon,date,time,utc_offset,date_precision",
            "33.786,42.441,2021-06-06,00:30,+03:00,day",
        )
        .unwrap();
        assert!(w.is_empty());
        assert_eq!((r.when.minute, r.when.offset), (Some(30), Some(180)));
        let (r, _) = run("lat,lon,date,date_precision", "1,1,2021-06-15,month").unwrap();
        assert_eq!(r.when.precision, DatePrecision::Month);
        assert_eq!(r.when.end - r.when.day, 29);
    }

    #[test]
    fn empty_type_is_unspecified_and_bad_counts_warn() {
        let (r, w) = run("lat,lon,date,type,fatalities", "1,1,2021-06-15,,many").unwrap();
        assert_eq!(r.type_name, UNSPECIFIED);
        assert_eq!(r.fatalities, -1);
        assert_eq!(w.len(), 1);
        // A float column's whole numbers are counts; a fraction is not (not truncated to 1).
        let (r, w) = run("lat,lon,date,fatalities,injuries", "1,1,2021-06-15,3.0,1.5").unwrap();
        assert_eq!((r.fatalities, r.injuries), (3, -1));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].message, "'1.5' is not a count");
    }
}
