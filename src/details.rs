//! An incident's full record for display: every original column, and the description, actors
//! and sources picked out of them by their roles.

use crate::date::format_day;
use crate::model::Role;
use crate::store::{ReadError, Store};

/// One incident, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Details {
    /// `YYYY-MM-DD`, or the span for coarse precisions.
    pub date: String,
    /// Local time `HH:MM` with the UTC offset when known.
    pub time: Option<String>,
    /// Date precision name.
    pub date_precision: &'static str,
    /// Type.
    pub type_name: String,
    /// Category ("" if none).
    pub category: String,
    /// Place as reported.
    pub place: String,
    /// Location precision name.
    pub loc_precision: &'static str,
    /// Longitude, latitude.
    pub lon_lat: (f64, f64),
    /// Fatalities and injuries, when reported.
    pub fatalities: Option<i32>,
    /// Injuries when reported.
    pub injuries: Option<i32>,
    /// Description or notes.
    pub description: Vec<String>,
    /// Actors.
    pub actors: Vec<String>,
    /// Source texts (publishers, dates, URLs).
    pub sources: Vec<String>,
    /// Every original column, in file order.
    pub fields: Vec<(String, String)>,
    /// Sources disagree about it.
    pub disputed: bool,
    /// Each source's account, when the data gives them.
    pub accounts: Vec<Account>,
    /// Ids of related incidents.
    pub related: Vec<String>,
    /// File and line of the record.
    pub origin: String,
}

/// What one source says about an incident (the `accounts` property; see data/README.md).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(default)]
pub struct Account {
    /// Publisher and date.
    pub source: String,
    /// Where to read it.
    pub source_url: Option<String>,
    /// The date it gives.
    pub date: Option<String>,
    /// The local time it gives.
    pub time: Option<String>,
    /// The UTC offset of that time.
    pub utc_offset: Option<String>,
    /// Killed, as it reports.
    pub fatalities: Option<f64>,
    /// Injured, as it reports.
    pub injuries: Option<f64>,
    /// What it says, in our words.
    pub claim: Option<String>,
}

impl Account {
    /// Date, time and casualties in one line ("2021-06-06 00:15 +03:00 · killed 0 · injured 2").
    pub fn facts(&self) -> String {
        let mut parts = Vec::new();
        let when: Vec<&str> = [&self.date, &self.time, &self.utc_offset]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if !when.is_empty() {
            parts.push(when.join(" "));
        }
        if let Some(f) = self.fatalities {
            parts.push(format!("killed {f}"));
        }
        if let Some(i) = self.injuries {
            parts.push(format!("injured {i}"));
        }
        parts.join(" · ")
    }
}

/// Accounts from a field: a JSON array (GeoJSON) or JSON text (a CSV cell). Unreadable text
/// gives none.
fn accounts_of(v: &serde_json::Value) -> Vec<Account> {
    let parsed;
    let v = match v {
        serde_json::Value::String(s) => match serde_json::from_str(s) {
            Ok(p) => {
                parsed = p;
                &parsed
            }
            Err(_) => return Vec::new(),
        },
        other => other,
    };
    serde_json::from_value(v.clone()).unwrap_or_default()
}

/// Formats minutes after midnight and an optional UTC offset.
pub fn format_time(minute: i16, offset: i16) -> Option<String> {
    if minute < 0 {
        return None;
    }
    let mut s = format!("{:02}:{:02}", minute / 60, minute % 60);
    if offset != i16::MIN {
        let sign = if offset < 0 { '-' } else { '+' };
        let o = offset.unsigned_abs();
        s.push_str(&format!(" UTC{sign}{:02}:{:02}", o / 60, o % 60));
    }
    Some(s)
}

/// Everything about incident `i`, its original fields read back from its file.
pub fn details(store: &Store, i: usize) -> Result<Details, ReadError> {
    let record = store.record(i)?;
    let description = record.texts(Role::Description);
    let actors = record.texts(Role::Actor);
    let sources = record.texts(Role::Source);
    let fields = record
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.text().into_owned()))
        .collect();
    let accounts = record
        .fields
        .iter()
        .find(|f| f.role == Role::Accounts)
        .map(|f| accounts_of(&f.value))
        .unwrap_or_default();
    let related = record
        .fields
        .iter()
        .find(|f| f.role == Role::Related)
        .map(|f| crate::links::ids_of(&f.value))
        .unwrap_or_default();
    let date = if store.day[i] == store.day_end[i] {
        format_day(store.day[i])
    } else {
        format!(
            "{} – {}",
            format_day(store.day[i]),
            format_day(store.day_end[i])
        )
    };
    let f = &store.files[store.file[i] as usize];
    Ok(Details {
        date,
        time: format_time(store.minute[i], store.offset[i]),
        date_precision: store.date_precision[i].name(),
        type_name: store.type_name(i).to_string(),
        category: store.category_name(i).to_string(),
        place: store.place_name(i).to_string(),
        loc_precision: store.loc_precision[i].name(),
        lon_lat: (store.lon[i], store.lat[i]),
        fatalities: (store.fatalities[i] >= 0).then_some(store.fatalities[i]),
        injuries: (store.injuries[i] >= 0).then_some(store.injuries[i]),
        description,
        actors,
        sources,
        fields,
        disputed: store.disputed[i],
        accounts,
        related,
        origin: format!("{}:{}", f.name, store.line[i]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::text::safe_links;

    #[test]
    fn times() {
        assert_eq!(format_time(30, 180).as_deref(), Some("00:30 UTC+03:00"));
        assert_eq!(format_time(-1, 0), None);
        assert_eq!(format_time(754, i16::MIN).as_deref(), Some("12:34"));
    }

    #[test]
    fn details_of_bundled_incident() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        let r = crate::import::load_paths(&[dir], &Default::default());
        let s = &r.store;
        let i = (0..s.len())
            .find(|&i| s.date_string(i) == "2021-06-06")
            .unwrap();
        let d = details(s, i).unwrap();
        assert_eq!(d.time.as_deref(), Some("00:30 UTC+03:00"));
        assert_eq!(d.type_name, "Interception");
        assert_eq!(d.loc_precision, "exact");
        assert_eq!(d.fatalities, Some(0));
        assert!(d.sources.iter().any(|s| s.contains("SOFREP")));
        assert!(
            d.sources
                .iter()
                .flat_map(|s| safe_links(s))
                .any(|l| l.starts_with("https://sofrep.com/"))
        );
        assert!(d.description[0].contains("C-RAM"));
        assert!(d.fields.iter().any(|(k, _)| k == "id"));
    }
}
