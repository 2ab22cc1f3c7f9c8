//! Finding places: typed coordinates (decimal degrees, degrees-minutes-seconds, MGRS) and names
//! from the bundled GeoNames gazetteer of the Middle East (assets/gazetteer, CC BY 4.0) and the
//! data's own place names. The place search box (Ctrl+K) and `export --center` read positions
//! here.

use std::sync::OnceLock;

/// A place found by a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// What to show.
    pub label: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Where it came from ("coordinates", "GeoNames", "data").
    pub source: &'static str,
}

struct Place {
    name: String,
    /// The name and its other names, lower-cased and without diacritics, for matching.
    keys: Vec<String>,
    lat: f64,
    lon: f64,
    country: String,
    region: String,
    population: u64,
}

const GAZETTEER: &str = include_str!("../assets/gazetteer/middle-east.tsv");

fn gazetteer() -> &'static [Place] {
    static G: OnceLock<Vec<Place>> = OnceLock::new();
    G.get_or_init(|| {
        GAZETTEER
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                if f.len() < 7 {
                    return None;
                }
                let mut keys = vec![fold(f[0])];
                keys.extend(f[1].split(',').filter(|s| !s.is_empty()).map(fold));
                Some(Place {
                    name: f[0].to_string(),
                    keys,
                    lat: f[2].parse().ok()?,
                    lon: f[3].parse().ok()?,
                    country: f[4].to_string(),
                    region: f[5].to_string(),
                    population: f[6].parse().unwrap_or(0),
                })
            })
            .collect()
    })
}

/// Lower case without diacritics and with the apostrophes and dashes of transliterations
/// dropped, so "Ḩadīthah", "Hadithah" and "hadithah" match.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let base = match c {
            'À'..='Å' | 'à'..='å' | 'Ā' | 'ā' | 'Ă' | 'ă' | 'Ą' | 'ą' => 'a',
            'Ç' | 'ç' | 'Ć' | 'ć' | 'Č' | 'č' => 'c',
            'Ď' | 'ď' | 'Đ' | 'đ' | 'Ḍ' | 'ḍ' => 'd',
            'È'..='Ë' | 'è'..='ë' | 'Ē' | 'ē' | 'Ė' | 'ė' | 'Ę' | 'ę' | 'Ě' | 'ě' => {
                'e'
            }
            'Ğ' | 'ğ' | 'Ġ' | 'ġ' => 'g',
            'Ḩ' | 'ḩ' | 'Ḥ' | 'ḥ' | 'Ḫ' | 'ḫ' => 'h',
            'Ì'..='Ï' | 'ì'..='ï' | 'Ī' | 'ī' | 'İ' | 'ı' => 'i',
            'Ñ' | 'ñ' | 'Ń' | 'ń' | 'Ň' | 'ň' => 'n',
            'Ò'..='Ö' | 'ò'..='ö' | 'Ø' | 'ø' | 'Ō' | 'ō' => 'o',
            'Ř' | 'ř' => 'r',
            'Ś' | 'ś' | 'Ş' | 'ş' | 'Š' | 'š' | 'Ṣ' | 'ṣ' => 's',
            'Ţ' | 'ţ' | 'Ť' | 'ť' | 'Ṭ' | 'ṭ' => 't',
            'Ù'..='Ü' | 'ù'..='ü' | 'Ū' | 'ū' | 'Ů' | 'ů' => 'u',
            'Ý' | 'ý' | 'ÿ' => 'y',
            'Ź' | 'ź' | 'Ż' | 'ż' | 'Ž' | 'ž' | 'Ẓ' | 'ẓ' => 'z',
            '\'' | '’' | '‘' | 'ʼ' | 'ʿ' | 'ʾ' | '`' | '-' | '\u{331}' | '\u{327}' => {
                continue;
            }
            c => c,
        };
        out.extend(base.to_lowercase());
    }
    out
}

/// `s` with the letters the window's font lacks (Latin Extended Additional, e.g. "Ḩ", and
/// combining marks) replaced by their base letters, case kept: "Ḩadīthah" → "Hadīthah".
pub fn displayable(s: &str) -> String {
    s.chars()
        .filter(|c| !('\u{300}'..='\u{36F}').contains(c))
        .map(|c| {
            if ('\u{1E00}'..='\u{1EFF}').contains(&c) {
                let base = fold(&c.to_string()).chars().next().unwrap_or(c);
                if c.is_uppercase() {
                    base.to_ascii_uppercase()
                } else {
                    base
                }
            } else {
                c
            }
        })
        .collect()
}

/// A position typed as decimal degrees (`33.786, 42.441`, `33.786N 42.441E`),
/// degrees-minutes-seconds (`33°47′10″N 42°26′28″E`, `33 47 10 N 42 26 28 E`) or MGRS
/// (`38SLC 12345 67890`): `(lat, lon)`.
pub fn parse_position(s: &str) -> Option<(f64, f64)> {
    let s = s.trim();
    let valid = |p: &(f64, f64)| (-90.0..=90.0).contains(&p.0) && (-180.0..=180.0).contains(&p.1);
    parse_decimal(s)
        .filter(valid)
        .or_else(|| parse_dms(s).filter(valid))
        .or_else(|| parse_mgrs(s).filter(valid))
}

fn parse_decimal(s: &str) -> Option<(f64, f64)> {
    let parts: Vec<&str> = s
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 2 {
        return None;
    }
    let one = |p: &str| -> Option<(f64, Option<char>)> {
        let p = p.trim_end_matches('°');
        match p.chars().last()? {
            h @ ('N' | 'S' | 'E' | 'W' | 'n' | 's' | 'e' | 'w') => {
                let v: f64 = p[..p.len() - 1].trim_end_matches('°').parse().ok()?;
                Some((v, Some(h.to_ascii_uppercase())))
            }
            _ => Some((p.parse().ok()?, None)),
        }
    };
    let (a, ha) = one(parts[0])?;
    let (b, hb) = one(parts[1])?;
    signed(a, ha, b, hb)
}

/// Applies hemispheres; lat first unless the letters say otherwise.
fn signed(a: f64, ha: Option<char>, b: f64, hb: Option<char>) -> Option<(f64, f64)> {
    let sign = |v: f64, h: Option<char>| match h {
        Some('S' | 'W') => -v.abs(),
        _ => v,
    };
    match (ha, hb) {
        (Some('E' | 'W'), Some('N' | 'S')) => Some((sign(b, hb), sign(a, ha))),
        (Some('N' | 'S') | None, Some('E' | 'W') | None) => Some((sign(a, ha), sign(b, hb))),
        _ => None,
    }
}

/// Numbers of one coordinate, its hemisphere letter, and whether it began with a minus sign.
type Group = (Vec<f64>, Option<char>, bool);

fn parse_dms(s: &str) -> Option<(f64, f64)> {
    // Numbers and hemisphere letters, whatever the symbols between them.
    let mut groups: Vec<Group> = vec![(Vec::new(), None, false)];
    let mut num = String::new();
    let flush = |num: &mut String, groups: &mut Vec<Group>| -> Option<()> {
        if !num.is_empty() {
            let v: f64 = num.parse().ok()?;
            groups.last_mut()?.0.push(v);
            num.clear();
        }
        Some(())
    };
    for c in s.chars() {
        match c {
            '0'..='9' | '.' => num.push(c),
            // Letters other than the hemispheres' (an MGRS reference, a name): not degrees.
            c if c.is_alphabetic()
                && !matches!(c, 'N' | 'S' | 'E' | 'W' | 'n' | 's' | 'e' | 'w') =>
            {
                return None;
            }
            // A minus sign before a coordinate's first number makes it south or west.
            '-' | '−' if num.is_empty() && groups.last()?.0.is_empty() => {
                groups.last_mut()?.2 = true;
            }
            'N' | 'S' | 'E' | 'W' | 'n' | 's' | 'e' | 'w' => {
                flush(&mut num, &mut groups)?;
                groups.last_mut()?.1 = Some(c.to_ascii_uppercase());
                groups.push((Vec::new(), None, false));
            }
            ',' | ';' => {
                flush(&mut num, &mut groups)?;
                if !groups.last()?.0.is_empty() {
                    groups.push((Vec::new(), None, false));
                }
            }
            _ => flush(&mut num, &mut groups)?,
        }
    }
    flush(&mut num, &mut groups)?;
    let groups: Vec<_> = groups.into_iter().filter(|g| !g.0.is_empty()).collect();
    let deg = |v: &[f64], minus: bool| -> Option<f64> {
        let d = match v {
            [d, m, s] if *m < 60.0 && *s < 60.0 => d + m / 60.0 + s / 3600.0,
            [d, m] if *m < 60.0 => d + m / 60.0,
            [d] => *d,
            _ => return None,
        };
        Some(if minus { -d } else { d })
    };
    match &groups[..] {
        // A minus sign and a hemisphere letter together are a contradiction.
        [(_, Some(_), true), _] | [_, (_, Some(_), true)] => None,
        [(a, ha, ma), (b, hb, mb)] => signed(deg(a, *ma)?, *ha, deg(b, *mb)?, *hb),
        [(all, None, false)] if all.len() == 6 => {
            signed(deg(&all[..3], false)?, None, deg(&all[3..], false)?, None)
        }
        _ => None,
    }
}

fn parse_mgrs(s: &str) -> Option<(f64, f64)> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    // A zone is one or two digits then a letter (more digits would overflow the library's
    // zone arithmetic).
    let zone_digits = compact.chars().take_while(char::is_ascii_digit).count();
    if compact.len() < 5
        || !(1..=2).contains(&zone_digits)
        || !compact[zone_digits..].starts_with(|c: char| c.is_ascii_alphabetic())
    {
        return None;
    }
    let m = geoconvert::Mgrs::parse_str(&compact.to_ascii_uppercase()).ok()?;
    let p = m.to_latlon();
    Some((p.latitude(), p.longitude()))
}

/// Places matching `query`: a typed position first, then the data's places (`data`: name and
/// `(lon, lat)`), then the gazetteer's, best matches first (exact, then starting with, then
/// containing the query; bigger places first), at most `limit`.
pub fn search<'a>(
    query: &str,
    data: impl Iterator<Item = (&'a str, (f64, f64))>,
    limit: usize,
) -> Vec<Found> {
    let mut out = Vec::new();
    if let Some((lat, lon)) = parse_position(query) {
        out.push(Found {
            label: format!("{lat:.5}, {lon:.5}"),
            lat,
            lon,
            source: "coordinates",
        });
    }
    let q = fold(query.trim());
    if q.chars().count() < 2 {
        return out;
    }
    let rank = |k: &str| -> Option<u8> {
        if k == q {
            Some(0)
        } else if k.starts_with(&q) {
            Some(1)
        } else if k.contains(&q) {
            Some(2)
        } else {
            None
        }
    };
    let mut from_data: Vec<(u8, Found)> = data
        .filter_map(|(name, (lon, lat))| {
            let r = rank(&fold(name))?;
            Some((
                r,
                Found {
                    label: name.to_string(),
                    lat,
                    lon,
                    source: "data",
                },
            ))
        })
        .collect();
    from_data.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.label.cmp(&b.1.label)));
    out.extend(from_data.into_iter().map(|f| f.1).take(limit / 2));
    let mut from_gaz: Vec<(u8, u64, &Place)> = gazetteer()
        .iter()
        .filter_map(|p| {
            let r = p.keys.iter().filter_map(|k| rank(k)).min()?;
            Some((r, p.population, p))
        })
        .collect();
    from_gaz.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    for (_, _, p) in from_gaz {
        if out.len() >= limit {
            break;
        }
        let region = if p.region.is_empty() {
            String::new()
        } else {
            format!(", {}", p.region)
        };
        out.push(Found {
            label: displayable(&format!("{}{region} ({})", p.name, p.country)),
            lat: p.lat,
            lon: p.lon,
            source: "GeoNames",
        });
    }
    out.truncate(limit);
    out
}

/// Places in the bundled gazetteer.
pub fn gazetteer_len() -> usize {
    gazetteer().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_typed_form_of_ain_al_asad() {
        let want = (33.786, 42.441);
        let close = |p: Option<(f64, f64)>, tol: f64| {
            let Some((lat, lon)) = p else { return false };
            (lat - want.0).abs() < tol && (lon - want.1).abs() < tol
        };
        assert!(close(parse_position("33.786, 42.441"), 1e-9));
        assert!(close(parse_position("33.786 42.441"), 1e-9));
        assert!(close(parse_position("33.786N 42.441E"), 1e-9));
        assert!(close(parse_position("42.441E, 33.786N"), 1e-9));
        assert!(close(parse_position("33°47′10″N 42°26′28″E"), 2e-4));
        assert!(close(parse_position("33°47'10\"N, 42°26'28\"E"), 2e-4));
        assert!(close(parse_position("33 47 10 N 42 26 28 E"), 2e-4));
        assert_eq!(
            parse_position("33°30′S 70°40′W"),
            Some((-33.5, -(70.0 + 40.0 / 60.0)))
        );
        // MGRS of Ain al-Asad, from GeographicLib's GeoConvert (38S LC, 1 m precision).
        let mgrs =
            geoconvert::Mgrs::from_latlon(&geoconvert::LatLon::create(want.0, want.1).unwrap(), 5);
        let text = format!("{mgrs}");
        assert!(text.starts_with("38S"), "{text}");
        assert!(close(parse_position(&text), 1e-4), "{text}");
        let spaced = format!(
            "{} {} {} {}",
            &text[..3],
            &text[3..5],
            &text[5..10],
            &text[10..]
        );
        assert!(close(parse_position(&spaced), 1e-4), "{spaced}");
        // Signs and hemisphere letters on separate numbers.
        assert_eq!(
            parse_position("-33 30, -70 40"),
            Some((-33.5, -(70.0 + 40.0 / 60.0)))
        );
        assert!(close(parse_position("33.786 N 42.441 E"), 1e-9));
        assert_eq!(parse_position("-33 30 S, 70 40 W"), None);
        for bad in [
            "",
            "hello",
            "95, 10",
            "33.7",
            "33°61′N 42°E",
            "1 2 3",
            "12345678901",
            "123SLC1234512345",
        ] {
            assert_eq!(parse_position(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_match_without_diacritics_and_by_other_names() {
        assert_eq!(displayable("Ḩadīthah, Al Ḩillah"), "Hadīthah, Al Hillah");
        assert!(gazetteer_len() > 5000);
        let hits = search("haditha", std::iter::empty(), 5);
        assert!(
            hits.iter()
                .any(|f| f.label.starts_with("Hadīthah") && f.label.contains("(IQ)")),
            "{hits:?}"
        );
        let hits = search("Ramadi", std::iter::empty(), 3);
        assert!((hits[0].lat - 33.42).abs() < 0.1, "{hits:?}");
        let data = [("Ain al-Asad air base", (42.441, 33.786))];
        let hits = search("ain al-asad", data.iter().map(|(n, p)| (*n, *p)), 5);
        assert_eq!(hits[0].source, "data");
        let hits = search("33.786, 42.441", std::iter::empty(), 5);
        assert_eq!(hits[0].source, "coordinates");
    }
}
