//! Edits as byte ranges of a file: a changed GeoJSON feature keeps its own text but for the
//! values that changed; a changed CSV row keeps every unchanged field's bytes (its quoting, its
//! encoding); a new feature or row is written in the file's own style; a removed one is cut with
//! its separator. Nothing else of the file is touched.

use std::ops::Range;

use serde_json::{Map, Value};

use super::draft::{Draft, format_degrees};
use crate::text::decode;

/// Why an edit cannot be written into the file's bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpliceError {
    /// The record is not the JSON object a feature is.
    #[error("the feature's text is not a JSON object")]
    NotAnObject,
    /// The file has no features array to add to.
    #[error("no \"features\" array to add the incident to")]
    NoFeatures,
    /// A character the file's encoding (Windows-1252) cannot hold.
    #[error(
        "field {field}: '{character}' cannot be written in this file's encoding (Windows-1252); nothing was changed"
    )]
    Unencodable {
        /// The field.
        field: String,
        /// The character.
        character: char,
    },
    /// The file ends inside a quoted field: a row appended would become part of it.
    #[error(
        "line {0} opens a quote that is never closed, so a row added after it would become part of that field; close the quote first (nothing was changed)"
    )]
    OpenQuote(u64),
    /// A field the file has no column for.
    #[error(
        "this file has no column {0}; save a copy as GeoJSON to record it (nothing was changed)"
    )]
    NoColumn(String),
}

/// One change of a file's bytes: `range` replaced by `bytes` (an empty range inserts, empty
/// bytes cut).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    /// The bytes replaced.
    pub range: Range<usize>,
    /// What replaces them.
    pub bytes: Vec<u8>,
}

// ---------------------------------------------------------------- JSON spans

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The end of the string starting at `b[i] == '"'`.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The end of the JSON value starting at `i`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']') && !b[j].is_ascii_whitespace()
            {
                j += 1;
            }
            Some(j)
        }
    }
}

/// A member of a JSON object: its key, where the member starts (the key's quote) and where its
/// value is.
#[derive(Debug, Clone)]
struct Member {
    key: String,
    start: usize,
    value: Range<usize>,
}

/// The members of the object at `b[i] == '{'`, and where its closing brace is.
fn members(b: &[u8], i: usize) -> Option<(Vec<Member>, usize)> {
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let mut out = Vec::new();
    let mut j = skip_ws(b, i + 1);
    loop {
        match *b.get(j)? {
            b'}' => return Some((out, j)),
            b',' => j = skip_ws(b, j + 1),
            b'"' => {
                let end = string_end(b, j)?;
                let key: String = serde_json::from_slice(&b[j..end]).ok()?;
                let colon = skip_ws(b, end);
                if b.get(colon) != Some(&b':') {
                    return None;
                }
                let vs = skip_ws(b, colon + 1);
                let ve = value_end(b, vs)?;
                out.push(Member {
                    key,
                    start: j,
                    value: vs..ve,
                });
                j = skip_ws(b, ve);
            }
            _ => return None,
        }
    }
}

/// How a file writes JSON: `, ` and `: ` (Python's default) or `,` and `:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonStyle {
    spaced: bool,
}

impl JsonStyle {
    /// The style of some of the file's JSON text.
    pub fn of(sample: &[u8]) -> JsonStyle {
        JsonStyle {
            spaced: sample.windows(3).any(|w| w == b"\": "),
        }
    }

    /// `v` written in this style.
    pub fn write(&self, v: &Value) -> Vec<u8> {
        if !self.spaced {
            return serde_json::to_vec(v).unwrap_or_default();
        }
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, Spaced);
        let _ = serde::Serialize::serialize(v, &mut ser);
        out
    }

    fn comma(&self) -> &'static [u8] {
        if self.spaced { b", " } else { b"," }
    }

    fn colon(&self) -> &'static [u8] {
        if self.spaced { b": " } else { b":" }
    }
}

/// Python's `json.dumps` separators.
struct Spaced;

impl serde_json::ser::Formatter for Spaced {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

/// The point geometry of a draft.
fn point(d: &Draft) -> Value {
    serde_json::json!({"type": "Point", "coordinates": [d.lon, d.lat]})
}

/// A new feature of `draft`, in `style`.
pub fn new_feature(draft: &Draft, style: JsonStyle) -> Vec<u8> {
    let mut f = Map::new();
    f.insert("type".into(), Value::String("Feature".into()));
    f.insert("geometry".into(), point(draft));
    f.insert("properties".into(), Value::Object(draft.properties()));
    style.write(&Value::Object(f))
}

/// The edited feature: `original`'s text with the values that changed replaced, the properties
/// the draft lacks removed and the new ones added at the end; its geometry replaced only when
/// the position moved.
pub fn edit_feature(original: &[u8], draft: &Draft) -> Result<Vec<u8>, SpliceError> {
    let style = JsonStyle::of(original);
    let start = skip_ws(original, 0);
    let (top, _) = members(original, start).ok_or(SpliceError::NotAnObject)?;
    let mut splices: Vec<Splice> = Vec::new();
    // The geometry: only when the position changed — compared with the position the importer
    // gives it (a line's or an area's centroid), so an edit of another field keeps a line or
    // an area as it is (it used to become a point at its centroid).
    let geometry = top.iter().find(|m| m.key == "geometry");
    let old: Option<Value> =
        geometry.and_then(|g| serde_json::from_slice(&original[g.value.clone()]).ok());
    let old_pos = old
        .as_ref()
        .and_then(crate::import::geojson::geometry_position);
    if old_pos != Some((draft.lon, draft.lat)) {
        match geometry {
            Some(g) => splices.push(Splice {
                range: g.value.clone(),
                bytes: style.write(&point(draft)),
            }),
            None => return Err(SpliceError::NotAnObject),
        }
    }
    // The properties.
    let props = top.iter().find(|m| m.key == "properties");
    match props.and_then(|p| members(original, p.value.start).map(|m| (p, m))) {
        Some((_, (members, close))) => {
            property_splices(original, &members, close, draft, style, &mut splices)
        }
        None => match props {
            // `null` (or another value): the whole object written.
            Some(p) => splices.push(Splice {
                range: p.value.clone(),
                bytes: style.write(&Value::Object(draft.properties())),
            }),
            None => return Err(SpliceError::NotAnObject),
        },
    }
    Ok(apply(original, splices))
}

/// The splices that make the properties `members` (closing at `close`) the draft's: changed
/// values replaced, new members added at the end; when a member is gone, the whole object is
/// written again (in the draft's order).
fn property_splices(
    b: &[u8],
    members: &[Member],
    close: usize,
    draft: &Draft,
    style: JsonStyle,
    out: &mut Vec<Splice>,
) {
    if members.iter().any(|m| draft.get(&m.key).is_none()) {
        let open = members.first().map_or(close, |m| {
            b[..m.start]
                .iter()
                .rposition(|&c| c == b'{')
                .unwrap_or(m.start)
        });
        out.push(Splice {
            range: open..close + 1,
            bytes: style.write(&Value::Object(draft.properties())),
        });
        return;
    }
    for m in members {
        let old: Option<Value> = serde_json::from_slice(&b[m.value.clone()]).ok();
        match draft.get(&m.key) {
            Some(v) if old.as_ref() != Some(v) => out.push(Splice {
                range: m.value.clone(),
                bytes: style.write(v),
            }),
            _ => {}
        }
    }
    let mut added = Vec::new();
    for (name, v) in &draft.fields {
        if members.iter().any(|m| &m.key == name) {
            continue;
        }
        if !members.is_empty() || !added.is_empty() {
            added.extend_from_slice(style.comma());
        }
        added.extend(serde_json::to_vec(name).unwrap_or_default());
        added.extend_from_slice(style.colon());
        added.extend(style.write(v));
    }
    if !added.is_empty() {
        let at = members.last().map_or(close, |m| m.value.end);
        out.push(Splice {
            range: at..at,
            bytes: added,
        });
    }
}

/// `b` with `splices` (non-overlapping) applied.
pub fn apply(b: &[u8], mut splices: Vec<Splice>) -> Vec<u8> {
    splices.sort_by_key(|s| (s.range.start, s.range.end));
    let mut out = Vec::with_capacity(b.len());
    let mut at = 0;
    for s in splices {
        if s.range.start < at {
            continue;
        }
        out.extend_from_slice(&b[at..s.range.start]);
        out.extend_from_slice(&s.bytes);
        at = s.range.end;
    }
    out.extend_from_slice(&b[at..]);
    out
}

/// The features array of a GeoJSON FeatureCollection: where it opens and closes, and each
/// element's range.
pub fn features_of(file: &[u8]) -> Result<(usize, usize, Vec<Range<usize>>), SpliceError> {
    let bom = if file.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let start = skip_ws(file, bom);
    let (top, _) = members(file, start).ok_or(SpliceError::NoFeatures)?;
    let f = top
        .iter()
        .find(|m| m.key == "features")
        .ok_or(SpliceError::NoFeatures)?;
    let open = f.value.start;
    if file.get(open) != Some(&b'[') {
        return Err(SpliceError::NoFeatures);
    }
    let close = f.value.end - 1;
    let mut out = Vec::new();
    let mut i = skip_ws(file, open + 1);
    while i < close {
        if file[i] == b',' {
            i = skip_ws(file, i + 1);
            continue;
        }
        let end = value_end(file, i).ok_or(SpliceError::NoFeatures)?;
        out.push(i..end);
        i = skip_ws(file, end);
    }
    Ok((open, close, out))
}

/// Where the JSON value at `b[i]` ends (one past it).
pub fn value_end_at(b: &[u8], i: usize) -> Option<usize> {
    value_end(b, skip_ws(b, i))
}

/// The range of the record that starts on line `line` (1-based) of a file: a GeoJSON feature,
/// or a delimited-text record (to its line break, as the importer reads it: a CRLF record ends
/// at its `\r`).
pub fn record_at_line(
    file: &[u8],
    line: u64,
    geojson: bool,
    delimiter: u8,
) -> Option<Range<usize>> {
    let start = if line <= 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', file).nth(line as usize - 2)? + 1
    };
    if geojson {
        let (_, _, features) = features_of(file).ok()?;
        let end_of_line = memchr::memchr(b'\n', &file[start..]).map_or(file.len(), |e| start + e);
        return features
            .into_iter()
            .find(|f| f.start >= start && f.start < end_of_line.max(start + 1));
    }
    record_at(file, start, delimiter)
}

/// The range of the delimited-text record at byte `start`.
pub fn record_at(file: &[u8], start: usize, delimiter: u8) -> Option<Range<usize>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(file.get(start..)?);
    let mut rec = csv::ByteRecord::new();
    if !rdr.read_byte_record(&mut rec).ok()? {
        return None;
    }
    Some(start..start + rdr.position().byte() as usize)
}

/// Where a new feature goes in a GeoJSON file: after the last feature, with the separator the
/// file uses between features (`,` and the white space before its first feature, when it has
/// only one), or (none yet) just inside the `features` array. Gives the splice and where the
/// feature starts in its bytes.
pub fn feature_insert(file: &[u8], feature: Vec<u8>) -> Result<(Splice, usize), SpliceError> {
    let (open, _, features) = features_of(file)?;
    let Some(last) = features.last() else {
        let mut bytes = b"\n".to_vec();
        bytes.extend(feature);
        return Ok((
            Splice {
                range: open + 1..open + 1,
                bytes,
            },
            1,
        ));
    };
    let sep: Vec<u8> = match features.get(1) {
        Some(second) => file[features[0].end..second.start].to_vec(),
        None => {
            let mut s = b",".to_vec();
            s.extend_from_slice(&file[open + 1..features[0].start]);
            s
        }
    };
    let at = sep.len();
    let mut bytes = sep;
    bytes.extend(feature);
    Ok((
        Splice {
            range: last.end..last.end,
            bytes,
        },
        at,
    ))
}

/// The cut that removes the feature at `range` of a GeoJSON file with one separator (the one
/// before it, or after it for the first).
pub fn feature_cut(file: &[u8], range: Range<usize>) -> Result<Splice, SpliceError> {
    let (_, _, features) = features_of(file)?;
    let k = features
        .iter()
        .position(|f| *f == range)
        .ok_or(SpliceError::NotAnObject)?;
    let cut = if k > 0 {
        features[k - 1].end..range.end
    } else if let Some(next) = features.get(1) {
        range.start..next.start
    } else {
        range
    };
    Ok(Splice {
        range: cut,
        bytes: Vec::new(),
    })
}

// ---------------------------------------------------------------- delimited text

/// The raw byte ranges of a record's fields (quotes included), split at `delimiter` outside
/// quotes.
pub fn csv_fields(raw: &[u8], delimiter: u8) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, &c) in raw.iter().enumerate() {
        match c {
            b'"' => quoted = !quoted,
            c if c == delimiter && !quoted => {
                out.push(start..i);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(start..raw.len());
    out
}

/// How a delimited file writes: its delimiter, line ending, and whether it is Windows-1252.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvStyle {
    /// Field delimiter.
    pub delimiter: u8,
    /// `\r\n` rather than `\n`.
    pub crlf: bool,
    /// Windows-1252 rather than UTF-8.
    pub legacy: bool,
}

impl CsvStyle {
    /// The style of a file from its first line and whether all of it is UTF-8.
    pub fn of(head: &[u8], delimiter: u8, utf8: bool) -> CsvStyle {
        let crlf = head
            .iter()
            .position(|&c| c == b'\n')
            .is_some_and(|n| n > 0 && head[n - 1] == b'\r');
        CsvStyle {
            delimiter,
            crlf,
            legacy: !utf8,
        }
    }

    /// The line ending.
    pub fn eol(&self) -> &'static [u8] {
        if self.crlf { b"\r\n" } else { b"\n" }
    }

    /// One field's bytes: quoted when it must be, in the file's encoding.
    fn field(&self, name: &str, text: &str) -> Result<Vec<u8>, SpliceError> {
        let needs = text
            .bytes()
            .any(|c| c == self.delimiter || c == b'"' || c == b'\n' || c == b'\r')
            || text.starts_with(' ')
            || text.ends_with(' ');
        let t = if needs {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_string()
        };
        if !self.legacy {
            return Ok(t.into_bytes());
        }
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&t);
        if unmappable {
            let character = t
                .chars()
                .find(|c| {
                    let mut b = [0; 4];
                    encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut b)).2
                })
                .unwrap_or('?');
            return Err(SpliceError::Unencodable {
                field: name.to_string(),
                character,
            });
        }
        Ok(bytes.into_owned())
    }
}

/// The text of a field value as a delimited file holds it.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A record's bytes for `draft` in the file's `columns`: an unchanged field keeps its bytes
/// (from `original`, when editing), a changed one is written in the file's style.
pub fn csv_record(
    columns: &[String],
    original: Option<&[u8]>,
    draft: &Draft,
    style: CsvStyle,
) -> Result<Vec<u8>, SpliceError> {
    if let Some((name, _)) = draft
        .fields
        .iter()
        .find(|(n, v)| !columns.contains(n) && !cell(Some(v)).is_empty())
    {
        return Err(SpliceError::NoColumn(name.clone()));
    }
    let spans = original.map(|o| csv_fields(o, style.delimiter));
    let mut out = Vec::new();
    let n = columns.len().max(spans.as_ref().map_or(0, Vec::len));
    for c in 0..n {
        if c > 0 {
            out.push(style.delimiter);
        }
        let raw = original
            .zip(spans.as_ref().and_then(|s| s.get(c)))
            .map(|(o, r)| &o[r.clone()]);
        let name = columns
            .get(c)
            .cloned()
            .unwrap_or_else(|| format!("column_{}", c + 1));
        let want = cell(draft.get(&name));
        match raw {
            Some(raw) if unquote(raw, style) == want => out.extend_from_slice(raw),
            // A value past the header the draft does not name stays as it was.
            Some(raw) if columns.get(c).is_none() => out.extend_from_slice(raw),
            _ => out.extend(style.field(&name, &want)?),
        }
    }
    Ok(out)
}

/// A raw field's text (quotes removed, doubled quotes undone, decoded).
fn unquote(raw: &[u8], style: CsvStyle) -> String {
    let inner = if raw.len() >= 2 && raw[0] == b'"' && raw[raw.len() - 1] == b'"' {
        &raw[1..raw.len() - 1]
    } else {
        raw
    };
    let text = if style.legacy {
        encoding_rs::WINDOWS_1252.decode(inner).0.into_owned()
    } else {
        decode(inner).into_owned()
    };
    if raw.first() == Some(&b'"') {
        text.replace("\"\"", "\"")
    } else {
        text
    }
}

/// Degrees for a CSV cell (as [`format_degrees`]).
pub fn degrees(v: f64) -> String {
    format_degrees(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(json: &str) -> Draft {
        let f: Value = serde_json::from_str(json).unwrap();
        let c = &f["geometry"]["coordinates"];
        Draft {
            fields: f["properties"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            lon: c[0].as_f64().unwrap(),
            lat: c[1].as_f64().unwrap(),
        }
    }

    const F: &str = r#"{"type": "Feature", "geometry": {"type": "Point", "coordinates": [44.3, 33.45]}, "properties": {"id": "IQ-1", "date": "2021-01-04", "place": "Baghdad–Samarra road", "fatalities": 0, "accounts": [{"source": "A", "date": "2021-01-04"}]}}"#;

    #[test]
    fn a_changed_value_is_the_only_change() {
        let mut d = draft(F);
        d.set("place", Value::String("Near Samarra".into()));
        let out = edit_feature(F.as_bytes(), &d).unwrap();
        let want = F.replace("\"Baghdad–Samarra road\"", "\"Near Samarra\"");
        assert_eq!(String::from_utf8(out).unwrap(), want);
        // Nothing changed: the same bytes.
        assert_eq!(edit_feature(F.as_bytes(), &draft(F)).unwrap(), F.as_bytes());
    }

    #[test]
    fn moved_added_and_removed_in_the_files_style() {
        let mut d = draft(F);
        d.lon = 44.31;
        d.fields.retain(|(k, _)| k != "fatalities");
        d.set("actors", Value::String("Kata'ib \"X\"".into()));
        let out = String::from_utf8(edit_feature(F.as_bytes(), &d).unwrap()).unwrap();
        assert!(out.contains(r#""coordinates": [44.31, 33.45]"#), "{out}");
        assert!(!out.contains("fatalities"), "{out}");
        assert!(out.ends_with(r#", "actors": "Kata'ib \"X\""}}"#), "{out}");
        assert!(out.starts_with(r#"{"type": "Feature", "geometry": {"type": "Point""#));
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["properties"]["accounts"][0]["source"], "A");
        // Compact files stay compact.
        let compact = serde_json::to_string(&serde_json::from_str::<Value>(F).unwrap()).unwrap();
        let out = String::from_utf8(edit_feature(compact.as_bytes(), &d).unwrap()).unwrap();
        assert!(out.contains(r#""actors":"Kata'ib"#), "{out}");
    }

    #[test]
    fn features_are_added_and_cut_with_their_separator() {
        let file = "{\"type\":\"FeatureCollection\",\"features\":[\n{\"a\":1},\n{\"a\":2}\n]}\n";
        let b = file.as_bytes();
        let (add, at) = feature_insert(b, b"{\"a\":3}".to_vec()).unwrap();
        assert_eq!(&add.bytes[at..], b"{\"a\":3}");
        assert_eq!(
            String::from_utf8(apply(b, vec![add])).unwrap(),
            file.replace("{\"a\":2}\n", "{\"a\":2},\n{\"a\":3}\n")
        );
        let range = |s: &str| {
            let i = file.find(s).unwrap();
            i..i + s.len()
        };
        let cut = |s| String::from_utf8(apply(b, vec![feature_cut(b, range(s)).unwrap()])).unwrap();
        assert_eq!(cut("{\"a\":2}"), file.replace(",\n{\"a\":2}", ""));
        assert_eq!(cut("{\"a\":1}"), file.replace("{\"a\":1},\n", ""));
        // Into an empty collection, and after a lone feature.
        let empty = b"{\"type\":\"FeatureCollection\",\"features\":[\n]}\n";
        let (add, _) = feature_insert(empty, b"{\"a\":1}".to_vec()).unwrap();
        let one = apply(empty, vec![add]);
        assert_eq!(
            one,
            b"{\"type\":\"FeatureCollection\",\"features\":[\n{\"a\":1}\n]}\n"
        );
        let (add, _) = feature_insert(&one, b"{\"a\":2}".to_vec()).unwrap();
        assert_eq!(
            apply(&one, vec![add]),
            b"{\"type\":\"FeatureCollection\",\"features\":[\n{\"a\":1},\n{\"a\":2}\n]}\n"
        );
    }

    #[test]
    fn csv_rows_keep_their_bytes_and_encoding() {
        let cols: Vec<String> = ["id", "place", "notes"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let style = CsvStyle::of(b"id;place;notes\r\n", b';', true);
        assert!(style.crlf);
        let raw = b"7;\"Ain al-Asad\";\"said \"\"two\"\"\"";
        let mut d = Draft {
            fields: vec![
                ("id".into(), Value::String("7".into())),
                ("place".into(), Value::String("Ain al-Asad".into())),
                ("notes".into(), Value::String("said \"two\"".into())),
            ],
            lon: 0.0,
            lat: 0.0,
        };
        assert_eq!(csv_record(&cols, Some(raw), &d, style).unwrap(), raw);
        d.set("id", Value::String("8; 9".into()));
        assert_eq!(
            csv_record(&cols, Some(raw), &d, style).unwrap(),
            b"\"8; 9\";\"Ain al-Asad\";\"said \"\"two\"\"\""
        );
        // Windows-1252: encoded so; a character it has not is refused, naming the field.
        let legacy = CsvStyle::of(b"a\n", b',', false);
        d.set("place", Value::String("Mosul – west".into()));
        let out = csv_record(
            &cols,
            None,
            &d,
            CsvStyle {
                delimiter: b';',
                ..legacy
            },
        )
        .unwrap();
        assert!(out.windows(3).any(|w| w == b" \x96 "), "{out:?}");
        d.set("notes", Value::String("عين الأسد".into()));
        assert!(matches!(
            csv_record(&cols, None, &d, CsvStyle { delimiter: b';', ..legacy }),
            Err(SpliceError::Unencodable { field, .. }) if field == "notes"
        ));
        // A field the file has no column for is refused.
        d.set("accounts", Value::String("[]".into()));
        assert!(matches!(
            csv_record(&cols, None, &d, style),
            Err(SpliceError::NoColumn(c)) if c == "accounts"
        ));
    }
}
