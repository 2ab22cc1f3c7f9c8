//! KML (Google Earth): Placemarks become GeoJSON features in memory, then go through the GeoJSON
//! importer and the usual column detection, so a KML file behaves like any other source.
//!
//! - Point geometry; other geometries (LineString, Polygon's outer boundary, the first part of a
//!   MultiGeometry) use their centroid, with a problem noted, as for GeoJSON.
//! - `TimeStamp/when` becomes the `timestamp` field; a `TimeSpan` its `begin`, with the
//!   precision the span says (a whole month, a whole year, a Monday-to-Sunday week).
//! - `name`, `description`, `ExtendedData/Data` and `SchemaData/SimpleData` become fields.
//! - Placemarks in nested Folders are all read. The features are laid out on the lines of their
//!   Placemarks, so problems name the KML's own lines.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::{FileError, LoadError, Overrides, ParsedFile};
use crate::date::{civil_from_days, days_from_civil, parse_ymd};

fn child<'a>(n: roxmltree::Node<'a, 'a>, tag: &str) -> Option<roxmltree::Node<'a, 'a>> {
    n.children().find(|c| c.tag_name().name() == tag)
}

fn text_of(n: roxmltree::Node<'_, '_>) -> String {
    n.descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect::<String>()
        .trim()
        .to_string()
}

/// `lon,lat[,alt]` tuples.
fn coords(text: &str) -> Vec<[f64; 2]> {
    text.split_whitespace()
        .filter_map(|t| {
            let mut it = t.split(',');
            let lon = it.next()?.trim().parse().ok()?;
            let lat = it.next()?.trim().parse().ok()?;
            Some([lon, lat])
        })
        .collect()
}

/// The Placemark's geometry as GeoJSON.
fn geometry(pm: roxmltree::Node<'_, '_>) -> Value {
    let g = pm.descendants().find(|d| {
        matches!(
            d.tag_name().name(),
            "Point" | "LineString" | "LinearRing" | "Polygon"
        )
    });
    let Some(g) = g else {
        return Value::Null;
    };
    let pts = |n: roxmltree::Node<'_, '_>| {
        n.descendants()
            .find(|d| d.tag_name().name() == "coordinates")
            .map(|c| coords(&text_of(c)))
            .unwrap_or_default()
    };
    match g.tag_name().name() {
        "Point" => match pts(g).first() {
            Some(p) => json!({"type": "Point", "coordinates": p}),
            None => Value::Null,
        },
        "Polygon" => {
            let outer = g
                .descendants()
                .find(|d| d.tag_name().name() == "outerBoundaryIs")
                .map(pts)
                .unwrap_or_default();
            json!({"type": "Polygon", "coordinates": [outer]})
        }
        _ => json!({"type": "LineString", "coordinates": pts(g)}),
    }
}

/// How deep elements may nest. The XML parser descends recursively, so a file nested far
/// deeper (tens of thousands of levels) would overflow the stack; real KML nests a few Folders.
const MAX_NESTING: usize = 500;
/// How many attributes one element may have. The XML parser compares each attribute with every
/// earlier one (no two may share a name), so 100,000 of them took minutes; KML uses a few.
const MAX_ATTRIBUTES: usize = 256;

/// The encoding an XML declaration (`<?xml … encoding="…"?>`) at the start of `body` names.
fn declared_encoding(body: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let decl = body.strip_prefix(b"<?xml")?;
    let decl = &decl[..decl.windows(2).position(|w| w == b"?>")?];
    let at = decl.windows(8).position(|w| w == b"encoding")? + 8;
    let rest = decl[at..]
        .trim_ascii_start()
        .strip_prefix(b"=")?
        .trim_ascii_start();
    let quote = *rest.first().filter(|q| matches!(q, b'"' | b'\''))?;
    let label = &rest[1..1 + rest[1..].iter().position(|&b| b == quote)?];
    encoding_rs::Encoding::for_label(label)
}

/// The index just after the next `pat` in `text` from `from` (or the end).
fn after(text: &[u8], from: usize, pat: &[u8]) -> usize {
    text.get(from..)
        .and_then(|t| t.windows(pat.len()).position(|w| w == pat))
        .map_or(text.len(), |p| from + p + pat.len())
}

/// The index just after a DOCTYPE (or other `<!` declaration) whose name starts at `from`,
/// passing over quoted text, comments and its bracketed internal subset; `None` when the
/// subset declares an entity.
fn doctype_end(text: &[u8], from: usize) -> Option<usize> {
    let (mut quote, mut brackets, mut k) = (None, 0usize, from);
    while k < text.len() {
        let b = text[k];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if text[k..].starts_with(b"<!--") => {
                k = after(text, k + 4, b"-->");
                continue;
            }
            None if text[k..].starts_with(b"<!ENTITY") => return None,
            None => match b {
                b'"' | b'\'' => quote = Some(b),
                b'[' => brackets += 1,
                b']' => brackets = brackets.saturating_sub(1),
                b'>' if brackets == 0 => return Some(k + 1),
                _ => {}
            },
        }
        k += 1;
    }
    Some(text.len())
}

/// Why the XML `text` is refused before it is parsed: elements nested deeper than
/// [`MAX_NESTING`], or one with more than [`MAX_ATTRIBUTES`] attributes (comments, CDATA
/// sections, processing instructions, the DOCTYPE and quoted attribute values are passed over,
/// so only real elements count).
fn unparseable_shape(text: &[u8]) -> Option<String> {
    let after = |from: usize, pat: &[u8]| after(text, from, pat);
    // The index just after the `>` closing a start tag opened before `from`, outside quotes;
    // whether the tag closes itself (`/>`); and its attributes (its `=` outside quotes).
    let close = |from: usize| {
        let (mut quote, mut attributes) = (None, 0);
        for (k, &b) in text.iter().enumerate().skip(from) {
            match (quote, b) {
                (Some(q), _) if b == q => quote = None,
                (Some(_), _) => {}
                (None, b'"' | b'\'') => quote = Some(b),
                (None, b'=') => attributes += 1,
                (None, b'>') => return (k + 1, k > 0 && text[k - 1] == b'/', attributes),
                _ => {}
            }
        }
        (text.len(), false, attributes)
    };
    let (mut depth, mut i) = (0usize, 0usize);
    while let Some(p) = text
        .get(i..)
        .and_then(|t| t.iter().position(|&b| b == b'<'))
    {
        let at = i + p;
        let rest = &text[at..];
        i = if rest.starts_with(b"<!--") {
            after(at + 4, b"-->")
        } else if rest.starts_with(b"<![CDATA[") {
            after(at + 9, b"]]>")
        } else if rest.starts_with(b"<?") {
            after(at + 2, b"?>")
        } else if rest.starts_with(b"<!") {
            // A DOCTYPE: entities would bring markup in that this scan cannot see (KML declares
            // none), and comments in its internal subset may hold quotes.
            match doctype_end(text, at + 2) {
                Some(end) => end,
                None => {
                    return Some("a DOCTYPE that declares entities (KML has none)".into());
                }
            }
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            after(at + 2, b">")
        } else {
            let (end, empty, attributes) = close(at + 1);
            if attributes > MAX_ATTRIBUTES {
                return Some(format!(
                    "an element with more than {MAX_ATTRIBUTES} attributes"
                ));
            }
            if !empty {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(format!("elements nested more than {MAX_NESTING} deep"));
                }
            }
            end
        };
    }
    None
}

/// The date of a `TimeSpan`, written with the precision the span has.
fn span_date(begin: &str, end: &str, props: &mut Map<String, Value>) {
    let day = |s: &str| parse_ymd(s.get(..10).unwrap_or(s));
    match (day(begin), day(end)) {
        (Ok(b), Ok(e)) => {
            let (y, m, d) = civil_from_days(b);
            let (ye, me, _) = civil_from_days(e);
            let next_month = if m == 12 {
                days_from_civil(y + 1, 1, 1)
            } else {
                days_from_civil(y, m + 1, 1)
            };
            if d == 1 && m == 1 && e == days_from_civil(y + 1, 1, 1) - 1 {
                props.insert("timestamp".into(), json!(format!("{y:04}")));
            } else if d == 1 && (ye, me) == (y, m) && e == next_month - 1 {
                props.insert("timestamp".into(), json!(format!("{y:04}-{m:02}")));
            } else {
                props.insert("timestamp".into(), json!(begin));
                if e - b == 6 && (b + 3).rem_euclid(7) == 0 {
                    props
                        .entry("date_precision")
                        .or_insert_with(|| json!("week"));
                }
            }
        }
        _ => {
            props.insert("timestamp".into(), json!(begin));
        }
    }
}

/// Reads a KMZ (a zip archive): its `doc.kml`, else its first `.kml` entry.
pub fn load_kmz(
    name: &str,
    path: PathBuf,
    bytes: Vec<u8>,
    ov: &Overrides,
    file: u16,
) -> Result<ParsedFile, FileError> {
    use std::io::Read;
    let err = |m: String| FileError {
        file: name.to_string(),
        error: LoadError::Kml(m),
    };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| err(format!("not a readable KMZ archive ({e})")))?;
    let names: Vec<String> = zip.file_names().map(String::from).collect();
    let entry = names
        .iter()
        .find(|n| n.eq_ignore_ascii_case("doc.kml"))
        .or_else(|| {
            names
                .iter()
                .find(|n| n.to_ascii_lowercase().ends_with(".kml"))
        })
        .ok_or_else(|| err("the KMZ archive holds no .kml file".into()))?
        .clone();
    let mut f = zip
        .by_name(&entry)
        .map_err(|e| err(format!("cannot read {entry} in the archive ({e})")))?;
    // A KML of more than 1 GiB is not a KMZ anyone made for this; one the archive says
    // unpacks to more is refused before a byte is unpacked (a zip bomb).
    if f.size() > MAX_ENTRY {
        return Err(err(crate::import::bag::too_big(
            &entry,
            f.size(),
            MAX_ENTRY,
        )));
    }
    // No more than the archive says: an entry that unpacks to more is damaged or crafted (a
    // zip bomb that lies about its size), and is refused once it passes what it declared.
    let declared = f.size();
    let mut kml = Vec::new();
    (&mut f)
        .take(declared + 1)
        .read_to_end(&mut kml)
        .map_err(|e| err(format!("cannot read {entry} in the archive ({e})")))?;
    if kml.len() as u64 > declared {
        return Err(err(format!(
            "{entry} unpacks to more than the {declared} bytes its archive says (a damaged or crafted archive)"
        )));
    }
    let mut loaded = load(name, path, kml, ov, file)?;
    loaded.source.format = crate::store::Format::Kmz;
    Ok(loaded)
}

/// The most an archive's entry may unpack to.
const MAX_ENTRY: u64 = 1 << 30;

/// Parses KML bytes; the records are kept in memory as the GeoJSON features they become.
pub fn load(
    name: &str,
    path: PathBuf,
    bytes: Vec<u8>,
    ov: &Overrides,
    file: u16,
) -> Result<ParsedFile, FileError> {
    let err = |e: LoadError| FileError {
        file: name.to_string(),
        error: e,
    };
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let text: std::borrow::Cow<'_, str> = match std::str::from_utf8(body) {
        Ok(t) => t.into(),
        // Not UTF-8: the XML declaration may name the legacy encoding it is in (ISO-8859-1,
        // Windows-1252, …); else it is an error.
        Err(e) => match declared_encoding(body) {
            Some(enc) if enc != encoding_rs::UTF_8 => enc.decode_without_bom_handling(body).0,
            _ => return Err(err(LoadError::Kml(format!("not UTF-8 text ({e})")))),
        },
    };
    let text = &*text;
    if let Some(why) = unparseable_shape(text.as_bytes()) {
        return Err(err(LoadError::Kml(why)));
    }
    let doc = roxmltree::Document::parse_with_options(
        text,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .map_err(|e| err(LoadError::Kml(e.to_string())))?;
    if doc.root_element().tag_name().name() != "kml" {
        return Err(err(LoadError::Kml(format!(
            "the root element is <{}>, not <kml>",
            doc.root_element().tag_name().name()
        ))));
    }
    let mut features = super::geojson::Synthesized::new();
    for pm in doc
        .descendants()
        .filter(|n| n.tag_name().name() == "Placemark")
    {
        let mut props = Map::new();
        for tag in ["name", "description"] {
            if let Some(n) = child(pm, tag) {
                props.insert(tag.into(), json!(text_of(n)));
            }
        }
        if let Some(ts) = child(pm, "TimeStamp")
            && let Some(w) = child(ts, "when")
        {
            props.insert("timestamp".into(), json!(text_of(w)));
        }
        if let Some(sp) = child(pm, "TimeSpan") {
            let begin = child(sp, "begin").map(text_of).unwrap_or_default();
            let end = child(sp, "end").map(text_of).unwrap_or_default();
            if !begin.is_empty() {
                span_date(&begin, &end, &mut props);
            }
        }
        if let Some(ext) = child(pm, "ExtendedData") {
            for d in ext.descendants() {
                let field = match d.tag_name().name() {
                    "Data" => child(d, "value").map(text_of),
                    "SimpleData" => Some(text_of(d)),
                    _ => None,
                };
                if let (Some(v), Some(k)) = (field, d.attribute("name")) {
                    props.insert(k.to_string(), json!(v));
                }
            }
        }
        let feature = json!({"type": "Feature", "geometry": geometry(pm), "properties": props});
        let at = doc.text_pos_at(pm.range().start).row;
        features.push(at as u64, &feature);
    }
    if features.is_empty() {
        return Err(err(LoadError::NoFeatures));
    }
    features.load(name, path, crate::store::Format::Kml, ov, file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placemarks_times_fields_and_folders() {
        let kml = r##"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
<Document>
  <Folder><name>Anbar</name>
    <Folder>
      <Placemark>
        <name>Drones over Ain al-Asad</name>
        <description>Two drones shot down</description>
        <TimeStamp><when>2021-06-06T00:30:00+03:00</when></TimeStamp>
        <ExtendedData><Data name="type"><value>Interception</value></Data></ExtendedData>
        <Point><coordinates>42.441,33.786,0</coordinates></Point>
      </Placemark>
    </Folder>
  </Folder>
  <Placemark>
    <name>June (month)</name>
    <TimeSpan><begin>2021-06-01</begin><end>2021-06-30</end></TimeSpan>
    <ExtendedData><SchemaData schemaUrl="#s"><SimpleData name="type">IED</SimpleData></SchemaData></ExtendedData>
    <LineString><coordinates>44,33 45,34</coordinates></LineString>
  </Placemark>
  <Placemark>
    <name>No date</name>
    <ExtendedData><Data name="type"><value>IED</value></Data></ExtendedData>
    <Point><coordinates>44,33</coordinates></Point>
  </Placemark>
</Document>
</kml>"##;
        let l = load(
            "t.kml",
            "t.kml".into(),
            kml.as_bytes().to_vec(),
            &Default::default(),
            0,
        )
        .unwrap();
        let s = l.builder.finish(vec![l.source]);
        assert_eq!(s.len(), 2);
        let i = (0..2).find(|&i| s.type_name(i) == "Interception").unwrap();
        assert_eq!(s.date_string(i), "2021-06-06");
        assert_eq!(s.minute[i], 30);
        let j = 1 - i;
        assert_eq!(s.date_precision[j].name(), "month");
        // Problems name the KML's lines: the line string's centroid, the undated placemark.
        let lines: Vec<u64> = l.problems.iter().map(|p| p.line).collect();
        assert!(lines.contains(&15), "{:?}", l.problems);
        assert!(lines.contains(&21), "{:?}", l.problems);
        assert!(matches!(
            load(
                "x.kml",
                "x.kml".into(),
                b"<html/>".to_vec(),
                &Default::default(),
                0
            ),
            Err(FileError {
                error: LoadError::Kml(_),
                ..
            })
        ));
    }

    #[test]
    fn a_legacy_encoding_the_declaration_names_is_read() {
        let kml = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<kml><Document><Placemark>\
            <name>Caf\u{e9} Ramad\u{ee}</name><TimeStamp><when>2021-06-01</when></TimeStamp>\
            <ExtendedData><Data name=\"type\"><value>IED</value></Data></ExtendedData>\
            <Point><coordinates>44.1,33.1</coordinates></Point></Placemark></Document></kml>";
        let (latin1, _, _) = encoding_rs::WINDOWS_1252.encode(kml);
        assert!(std::str::from_utf8(&latin1).is_err());
        let Ok(l) = load(
            "l.kml",
            "l.kml".into(),
            latin1.into_owned(),
            &Overrides::default(),
            0,
        ) else {
            panic!("a Latin-1 KML that says so was refused");
        };
        let s = l.builder.finish(vec![l.source]);
        assert_eq!(s.len(), 1);
        assert_eq!(s.place_name(0), "Caf\u{e9} Ramad\u{ee}");
        // Not UTF-8 and naming no other encoding: an error, as before.
        let bare = b"<kml><Document><Placemark><name>\xe9</name></Placemark></Document></kml>";
        assert!(
            load(
                "b.kml",
                "b.kml".into(),
                bare.to_vec(),
                &Overrides::default(),
                0
            )
            .is_err()
        );
    }

    #[test]
    fn nesting_is_counted_on_elements_only_and_a_deep_file_is_refused() {
        let nest = |n: usize, inner: &str| {
            format!(
                "<?xml version=\"1.0\"?><!DOCTYPE kml [<!-- it's --><!ELEMENT kml ANY>]><kml><Document>{}{inner}{}</Document></kml>",
                "<Folder a=\"<b>\">".repeat(n),
                "</Folder>".repeat(n)
            )
        };
        // Markup-like text in CDATA, comments and attribute values counts for nothing.
        let cdata = "<![CDATA[<br><br><p>]]><!-- <x><y> --><Placemark/>";
        assert_eq!(unparseable_shape(nest(498, cdata).as_bytes()), None);
        assert_eq!(
            unparseable_shape(nest(499, cdata).as_bytes()).as_deref(),
            Some("elements nested more than 500 deep")
        );
        // Entities could bring markup in unseen: a DOCTYPE declaring one is refused.
        let entity = format!(
            "<!DOCTYPE kml [<!ENTITY e \"{}\">]><kml>&e;</kml>",
            "<a>".repeat(20_000) + &"</a>".repeat(20_000)
        );
        assert_eq!(
            unparseable_shape(entity.as_bytes()).as_deref(),
            Some("a DOCTYPE that declares entities (KML has none)")
        );
        // Attributes are counted outside quotes ("a=b" in a value is text).
        let attrs = |n: usize| {
            let a: String = (0..n).map(|k| format!(" a{k}=\"x=y\"")).collect();
            format!("<kml><Placemark{a}/></kml>")
        };
        assert_eq!(unparseable_shape(attrs(256).as_bytes()), None);
        assert_eq!(
            unparseable_shape(attrs(257).as_bytes()).as_deref(),
            Some("an element with more than 256 attributes")
        );
        let deep = nest(20_000, "");
        let Err(e) = load(
            "deep.kml",
            "deep.kml".into(),
            deep.into_bytes(),
            &Overrides::default(),
            0,
        ) else {
            panic!("a file nested 20,000 deep was read");
        };
        assert_eq!(
            e.to_string(),
            "deep.kml: not readable KML: elements nested more than 500 deep"
        );
    }
}
