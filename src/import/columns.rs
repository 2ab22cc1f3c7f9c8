//! Which column holds what: detection by common names, ACLED's layout, and user overrides.
//! The result is the model's [`ColumnMap`], which the loaded file keeps so that the record reader
//! can label every value with its role.

use super::LoadError;
use crate::model::ColumnMap;
use crate::model::columns::normalize;

/// User overrides for column detection (`--lat --lon --date --type-column`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Column holding latitude.
    pub lat: Option<String>,
    /// Column holding longitude.
    pub lon: Option<String>,
    /// Column holding the date.
    pub date: Option<String>,
    /// Column holding the incident type.
    pub type_column: Option<String>,
}

/// ACLED exports are recognised by these columns all being present.
const ACLED_MARKERS: [&str; 5] = [
    "event_id_cnty",
    "event_date",
    "sub_event_type",
    "time_precision",
    "geo_precision",
];

fn find(names: &[String], wanted: &[&str]) -> Option<usize> {
    wanted
        .iter()
        .find_map(|w| names.iter().position(|n| n == w))
}

fn resolve(names: &[String], raw: &[String], wanted: &str) -> Result<usize, LoadError> {
    let w = normalize(wanted);
    raw.iter()
        .position(|n| n == wanted)
        .or_else(|| names.iter().position(|n| *n == w))
        .ok_or_else(|| LoadError::UnknownColumn {
            wanted: wanted.to_string(),
            columns: raw.to_vec(),
        })
}

/// The header with each name that repeats an earlier one made distinct (`notes`, `notes.1`,
/// `notes.2`, skipping names the header already has), so that every value of a
/// record has a name of its own: an edit, an export or a lookup by name cannot mistake one
/// column for the other. Gives the names and, for each renamed column, its index and new name.
pub fn distinct(header: Vec<String>) -> (Vec<String>, Vec<(usize, String)>) {
    let mut seen: std::collections::HashSet<String> = header.iter().cloned().collect();
    let mut earlier = std::collections::HashSet::new();
    let mut out: Vec<String> = Vec::with_capacity(header.len());
    let mut renamed = Vec::new();
    for (i, name) in header.iter().enumerate() {
        if earlier.insert(name.as_str()) {
            out.push(name.clone());
            continue;
        }
        let new = (1..)
            .map(|k| format!("{name}.{k}"))
            .find(|n| !seen.contains(n))
            .unwrap_or_default();
        seen.insert(new.clone());
        renamed.push((i, new.clone()));
        out.push(new);
    }
    (out, renamed)
}

/// Detects columns from header names, applies overrides, and gives every column its role. Fails
/// only when an override names a column that does not exist.
pub fn detect(header: &[String], ov: &Overrides) -> Result<ColumnMap, LoadError> {
    let names: Vec<String> = header.iter().map(|h| normalize(h)).collect();
    let acled = ACLED_MARKERS.iter().all(|m| names.iter().any(|n| n == m));
    let mut c = if acled {
        acled_layout(&names)
    } else {
        generic_layout(&names)
    };
    if let Some(o) = &ov.lat {
        c.lat = Some(resolve(&names, header, o)?);
    }
    if let Some(o) = &ov.lon {
        c.lon = Some(resolve(&names, header, o)?);
    }
    if let Some(o) = &ov.date {
        c.date = Some(resolve(&names, header, o)?);
        if c.time == c.date {
            c.time = None;
        }
    }
    if let Some(o) = &ov.type_column {
        let k = resolve(&names, header, o)?;
        if c.category.is_none() && c.type_column.is_some() && c.type_column != Some(k) {
            c.category = c.type_column;
        }
        c.type_column = Some(k);
    }
    c.assign_roles(header);
    Ok(c)
}

fn acled_layout(n: &[String]) -> ColumnMap {
    let f = |w: &str| find(n, &[w]);
    ColumnMap {
        lat: f("latitude"),
        lon: f("longitude"),
        date: f("event_date"),
        date_precision: f("time_precision"),
        type_column: f("sub_event_type"),
        category: f("event_type"),
        place: f("location"),
        loc_precision: f("geo_precision"),
        fatalities: f("fatalities"),
        acled: true,
        ..Default::default()
    }
}

fn generic_layout(n: &[String]) -> ColumnMap {
    let lat = find(n, &["latitude", "lat", "y", "lat_dd", "latitude_dd"]);
    let lon = find(
        n,
        &[
            "longitude",
            "lon",
            "lng",
            "long",
            "x",
            "lon_dd",
            "longitude_dd",
        ],
    );
    let date = find(n, &["event_date", "date", "datetime", "date_time"])
        .or_else(|| {
            n.iter()
                .position(|s| s.ends_with("_date") && !s.contains("precision"))
        })
        .or_else(|| find(n, &["timestamp", "time", "when", "occurred", "occurred_at"]));
    let time =
        find(n, &["time", "local_time", "time_local", "event_time"]).filter(|&t| Some(t) != date);
    let kind = find(
        n,
        &[
            "event_type",
            "type",
            "incident_type",
            "attack_type",
            "category",
            "kind",
        ],
    );
    let category = find(
        n,
        &["category", "event_category", "parent_type", "disorder_type"],
    )
    .filter(|&c| Some(c) != kind);
    ColumnMap {
        lat,
        lon,
        date,
        time,
        offset: find(n, &["utc_offset", "offset", "tz_offset", "timezone_offset"]),
        date_precision: find(n, &["date_precision", "time_precision", "precision_date"]),
        type_column: kind,
        category,
        place: find(
            n,
            &[
                "place",
                "location",
                "place_name",
                "location_name",
                "site",
                "name",
                "city",
                "town",
            ],
        ),
        loc_precision: find(
            n,
            &[
                "location_precision",
                "geo_precision",
                "loc_precision",
                "precision_location",
            ],
        ),
        fatalities: find(
            n,
            &["fatalities", "deaths", "killed", "dead", "fatality_count"],
        ),
        injuries: find(n, &["injuries", "injured", "wounded", "injury_count"]),
        disputed: find(n, &["disputed", "is_disputed"]),
        accounts: find(n, &["accounts"]),
        related: find(n, &["related", "related_ids", "linked"]),
        acled: false,
        roles: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    fn h(s: &str) -> Vec<String> {
        s.split(',').map(String::from).collect()
    }

    #[test]
    fn repeated_names_are_made_distinct() {
        let (names, renamed) = distinct(h("a,notes,notes,notes.1,notes,,"));
        assert_eq!(names, h("a,notes,notes.2,notes.1,notes.3,,.1"));
        assert_eq!(
            renamed,
            [
                (2, "notes.2".into()),
                (4, "notes.3".into()),
                (6, ".1".into())
            ]
        );
        assert_eq!(distinct(h("a,b")), (h("a,b"), vec![]));
    }

    #[test]
    fn detects_generic_names() {
        let c = detect(
            &h("id,Lat,LNG,Incident Date,Type,notes"),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            (c.lat, c.lon, c.date, c.type_column),
            (Some(1), Some(2), Some(3), Some(4))
        );
        assert_eq!(c.text_columns().collect::<Vec<_>>(), vec![5]);
        assert_eq!(c.role(5), Role::Description);
        assert!(!c.acled);
    }

    #[test]
    fn time_is_a_date_only_without_a_date_column() {
        let c = detect(&h("latitude,longitude,time,mag"), &Overrides::default()).unwrap();
        assert_eq!((c.date, c.time), (Some(2), None));
        let c = detect(&h("latitude,longitude,date,time"), &Overrides::default()).unwrap();
        assert_eq!((c.date, c.time), (Some(2), Some(3)));
    }

    #[test]
    fn acled_maps_sub_event_type_under_event_type() {
        let header = "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,location,latitude,longitude,geo_precision,source,notes,fatalities,source_scale,civilian_targeting";
        let c = detect(&h(header), &Overrides::default()).unwrap();
        assert!(c.acled);
        assert_eq!(
            (c.type_column, c.category, c.date_precision, c.loc_precision),
            (Some(6), Some(5), Some(3), Some(11))
        );
        assert_eq!(c.text_columns().collect::<Vec<_>>(), vec![7, 12, 13]);
    }

    #[test]
    fn overrides_win_and_unknown_override_fails() {
        let ov = Overrides {
            lat: Some("northing".into()),
            lon: Some("easting".into()),
            ..Default::default()
        };
        let c = detect(&h("easting,northing,lat,lon,date"), &ov).unwrap();
        assert_eq!((c.lat, c.lon), (Some(1), Some(0)));
        let ov = Overrides {
            date: Some("nope".into()),
            ..Default::default()
        };
        assert!(
            detect(&h("lat,lon"), &ov)
                .unwrap_err()
                .to_string()
                .contains("nope")
        );
    }
}
