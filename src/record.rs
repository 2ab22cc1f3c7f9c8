//! An incident's full record for display: every original column, and the description, actors
//! and sources picked out of them.

use crate::date::format_day;
use crate::import::csv::read_record;
use crate::import::geojson::{read_feature, value_text};
use crate::store::{Format, Store};

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
    pub kind: String,
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
    /// File and line of the record.
    pub origin: String,
}

/// Longest text shown for one field before it is cut (untrusted data can be huge).
pub const MAX_FIELD_CHARS: usize = 2_000;

/// Makes untrusted text safe to lay out: control characters become spaces (newlines and tabs
/// kept in multi-line text), and very long text is cut with a note.
pub fn clean(s: &str, multiline: bool) -> String {
    let mut out: String = s
        .chars()
        .take(MAX_FIELD_CHARS)
        .map(|c| {
            if c.is_control() && !(multiline && (c == '\n' || c == '\t')) {
                ' '
            } else {
                c
            }
        })
        .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect();
    let n = s.chars().count();
    if n > MAX_FIELD_CHARS {
        out.push_str(&format!("… ({} more characters)", n - MAX_FIELD_CHARS));
    }
    out
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

fn role(column: &str) -> Option<u8> {
    let c = column.to_ascii_lowercase();
    if ["note", "desc", "summary", "detail"]
        .iter()
        .any(|w| c.contains(w))
    {
        Some(0)
    } else if ["actor", "perpetrator", "target"]
        .iter()
        .any(|w| c.contains(w))
    {
        Some(1)
    } else if ["source", "url", "publisher", "link"]
        .iter()
        .any(|w| c.contains(w))
        && !c.contains("scale")
    {
        Some(2)
    } else {
        None
    }
}

/// The original columns of incident `i`.
pub fn fields(store: &Store, i: usize) -> Vec<(String, String)> {
    let f = &store.files[store.file[i] as usize];
    match f.format {
        Format::Csv { delimiter } => {
            let values = read_record(&f.bytes, store.rec_start[i] as usize, delimiter);
            f.columns
                .iter()
                .cloned()
                .zip(values.into_iter().chain(std::iter::repeat(String::new())))
                .collect()
        }
        Format::GeoJson => {
            let (props, _) = read_feature(store.raw(i));
            props
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        value_text(v).map(|t| t.into_owned()).unwrap_or_default(),
                    )
                })
                .collect()
        }
    }
}

/// Everything about incident `i`.
pub fn details(store: &Store, i: usize) -> Details {
    let fields = fields(store, i);
    let mut description = Vec::new();
    let mut actors = Vec::new();
    let mut sources = Vec::new();
    for (k, v) in &fields {
        if v.trim().is_empty() {
            continue;
        }
        match role(k) {
            Some(0) => description.push(v.trim().to_string()),
            Some(1) => actors.push(v.trim().to_string()),
            Some(2) => sources.push(v.trim().to_string()),
            _ => {}
        }
    }
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
    Details {
        date,
        time: format_time(store.minute[i], store.offset[i]),
        date_precision: store.date_precision[i].name(),
        kind: store.type_name(i).to_string(),
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
        origin: format!("{}:{}", f.name, store.line[i]),
    }
}

/// The links in a text that may be opened: only `http://` and `https://` URLs. Anything else
/// (`javascript:`, `file:`, `data:`) stays plain text.
pub fn safe_links(text: &str) -> Vec<String> {
    text.split(|c: char| {
        c.is_whitespace() || c == ';' || c == ',' || c == '|' || c == '"' || c == '<' || c == '>'
    })
    .map(|t| t.trim_matches(|c: char| c == '(' || c == ')' || c == '[' || c == ']' || c == '.'))
    .filter(|t| {
        let l = t.to_ascii_lowercase();
        (l.starts_with("http://") || l.starts_with("https://"))
            && t.len() > 8
            && !t.chars().any(char::is_control)
    })
    .map(str::to_string)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_links() {
        assert_eq!(format_time(30, 180).as_deref(), Some("00:30 UTC+03:00"));
        assert_eq!(format_time(-1, 0), None);
        assert_eq!(format_time(754, i16::MIN).as_deref(), Some("12:34"));
        assert_eq!(
            safe_links(
                "SOFREP https://sofrep.com/x; javascript:alert(1) file:///etc/passwd data:text/html,x HTTP://A.b/c"
            ),
            vec![
                "https://sofrep.com/x".to_string(),
                "HTTP://A.b/c".to_string()
            ]
        );
    }

    #[test]
    fn details_of_bundled_incident() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        let r = crate::import::load_paths(&[dir], &Default::default());
        let s = &r.store;
        let i = (0..s.len())
            .find(|&i| s.date_string(i) == "2021-06-06")
            .unwrap();
        let d = details(s, i);
        assert_eq!(d.time.as_deref(), Some("00:30 UTC+03:00"));
        assert_eq!(d.kind, "Interception");
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
