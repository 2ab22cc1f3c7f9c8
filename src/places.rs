//! Finding places: typed coordinates (decimal degrees, degrees-minutes-seconds, MGRS) and names
//! from the bundled GeoNames gazetteer of the Middle East (assets/gazetteer, CC BY 4.0) and the
//! data's own place names. The place search box (Ctrl+K) and `export --center` read positions
//! here.

use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// A place found by a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// What to show.
    pub label: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Where it came from ("coordinates", "GeoNames", "places" for the alias list, "data").
    pub source: &'static str,
    /// Its first-level division (GeoNames, the alias list), when known.
    pub region: String,
    /// How well its name matched: 0 exactly, 1 its start, 2 inside it, 3 one typo away.
    pub tier: u8,
    /// It stands for an area (a governorate, a district), not a town or a site.
    pub area: bool,
    /// It lies in the area a row to place names ([`candidates`]).
    pub in_area: bool,
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
    /// From the alias list (ranked with the data's places, before GeoNames).
    alias: bool,
    /// It stands for an area (the alias list's governorates and areas).
    area: bool,
}

const GAZETTEER: &str = include_str!("../assets/gazetteer/middle-east.tsv");

/// Places GeoNames lacks that the reporting names (air bases, towns, governorates), with the
/// spellings it uses: `assets/gazetteer/aliases.tsv`.
const ALIASES: &str = include_str!("../assets/gazetteer/aliases.tsv");

/// The places of a gazetteer file (`alias`: from the alias list).
fn read_places(text: &str, alias: bool) -> impl Iterator<Item = Place> + '_ {
    text.lines().skip(1).filter_map(move |l| {
        let f: Vec<&str> = l.split('\t').collect();
        if f.len() < 7 {
            return None;
        }
        let mut keys = vec![match_key(f[0])];
        keys.extend(f[1].split(',').filter(|s| !s.is_empty()).map(match_key));
        keys.retain(|k| !k.is_empty());
        keys.sort();
        keys.dedup();
        Some(Place {
            name: f[0].to_string(),
            keys,
            lat: f[2].parse().ok()?,
            lon: f[3].parse().ok()?,
            country: f[4].to_string(),
            region: f[5].to_string(),
            population: if alias { 0 } else { f[6].parse().unwrap_or(0) },
            alias,
            area: alias && (f[6].starts_with("governorate") || f[6].starts_with("area")),
        })
    })
}

fn gazetteer() -> &'static [Place] {
    static G: OnceLock<Vec<Place>> = OnceLock::new();
    G.get_or_init(|| {
        read_places(ALIASES, true)
            .chain(read_places(GAZETTEER, false))
            .collect()
    })
}

/// The form a name is matched in: [`fold`]ed (case, Latin diacritics, apostrophes), Arabic
/// script normalised (harakat and tatweel dropped, alef forms, alef maqsura, ta marbuta, Persian
/// and Kurdish letters), hyphens and spaces taken as word breaks, the Arabic article dropped from
/// the front of a word (al-, el-, ad-, ar-, as-, at-, az-, an-, ash-…, ال), the words joined,
/// then common transliteration variants folded: ain/ayn/ein, ai/ei/ey → ay, ou/oo → u, ee/ie → i,
/// a word's final h after a vowel, q → k, and double letters. "Ain Al-Assad", "Ayn al-Asad" and
/// "عين الأسد" all become "aynasad"; "al-Hillah" and "Hilla" "hila".
pub fn match_key(s: &str) -> String {
    let folded = fold(&arabic(s).replace(['-', '–', '—', '_', '/', '.'], " "));
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = String::with_capacity(folded.len());
    for (k, w) in words.iter().enumerate() {
        if ARTICLES.contains(w) && k + 1 < words.len() {
            continue;
        }
        let w = w
            .strip_prefix("ال")
            .filter(|rest| rest.chars().count() >= 2)
            .unwrap_or(w);
        // A final h after a vowel is often written or not: "Nasiriyah", "Nasiriya".
        let w = match w.strip_suffix('h') {
            Some(rest) if rest.ends_with(['a', 'e', 'i', 'u']) => rest,
            _ => w,
        };
        out.push_str(w);
    }
    let mut s = out;
    for (from, to) in [
        ("ain", "ayn"),
        ("ein", "ayn"),
        ("ai", "ay"),
        ("ei", "ay"),
        ("ey", "ay"),
        ("ou", "u"),
        ("oo", "u"),
        ("ee", "i"),
        ("ie", "i"),
        ("q", "k"),
    ] {
        if s.contains(from) {
            s = s.replace(from, to);
        }
    }
    let mut last = None;
    s.chars()
        .filter(|&c| {
            let keep = Some(c) != last;
            last = Some(c);
            keep
        })
        .collect()
}

/// The Arabic article as transliterations write it (a word of its own once hyphens are breaks).
const ARTICLES: [&str; 16] = [
    "al", "el", "ad", "ar", "as", "at", "az", "an", "ash", "ath", "adh", "ed", "er", "es", "et",
    "ez",
];

/// Arabic script in one form: harakat, superscript alef and tatweel dropped; أ إ آ ٱ → ا,
/// ى and Persian ی → ي, ة and Kurdish ە → ه, ؤ → و, ئ → ي, Persian ک → ك.
fn arabic(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\u{64B}'..='\u{65F}' | '\u{670}' | '\u{640}'))
        .map(|c| match c {
            'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
            'ى' | 'ی' | 'ئ' => 'ي',
            'ة' | 'ە' => 'ه',
            'ؤ' => 'و',
            'ک' => 'ك',
            c => c,
        })
        .collect()
}

/// Whether `a` and `b` differ by at most one edit (a letter inserted, deleted, replaced, or two
/// neighbours swapped).
fn one_typo(a: &str, b: &str) -> bool {
    // Most names are far longer or shorter than the query: no need to look at their letters.
    if a.len().abs_diff(b.len()) > 4 {
        return false;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let pre = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[pre..], &b[pre..]);
    match (ra.len(), rb.len()) {
        (0, 0) => true,
        (x, y) if x == y => {
            ra[1..] == rb[1..] || (x >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        (x, y) if x > y => ra[1..] == *rb,
        _ => rb[1..] == *ra,
    }
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
            // Any other letter with marks: its base letter.
            c if !c.is_ascii() && c.is_alphabetic() => {
                let mut d = std::iter::once(c)
                    .nfd()
                    .filter(|m| !('\u{300}'..='\u{36F}').contains(m));
                match (d.next(), d.next()) {
                    (Some(b), None) if b.is_ascii() => b,
                    _ => c,
                }
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
                // Its base letter (canonical decomposition), case kept.
                std::iter::once(c).nfd().next().unwrap_or(c)
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

/// Places matching `query`: a typed position first, then names, each compared in its
/// [`match_key`] form: exact matches, then names starting with the query, then names
/// containing it, then names one typo away; within each, the data's own places and the alias
/// list before GeoNames, then the places nearest the data, then the biggest. At most `limit`.
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
            region: String::new(),
            tier: 0,
            area: false,
            in_area: false,
        });
    }
    let q = match_key(query.trim());
    if q.chars().count() < 2 {
        return out;
    }
    let typos = q.chars().count() >= 4;
    let rank = |k: &str| -> Option<u8> {
        if k == q {
            Some(0)
        } else if k.starts_with(&q) {
            Some(1)
        } else if k.contains(&q) {
            Some(2)
        } else if typos && one_typo(k, &q) {
            Some(3)
        } else {
            None
        }
    };
    // (tier, from the data or the alias list first, distance to the data, bigger first, found)
    let mut hits: Vec<(u8, u8, f64, u64, Found)> = Vec::new();
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
    for (name, (lon, lat)) in data {
        sx += lon;
        sy += lat;
        n += 1.0;
        if let Some(r) = rank(&match_key(name)) {
            let f = Found {
                label: name.to_string(),
                lat,
                lon,
                source: "data",
                region: String::new(),
                tier: r,
                area: false,
                in_area: false,
            };
            hits.push((r, 0, 0.0, 0, f));
        }
    }
    let centre = (n > 0.0).then(|| (sx / n, sy / n));
    let away = |lon: f64, lat: f64| centre.map_or(0.0, |c| (lon - c.0).hypot(lat - c.1));
    for p in gazetteer() {
        let Some(r) = p.keys.iter().filter_map(|k| rank(k)).min() else {
            continue;
        };
        let region = if p.region.is_empty() {
            String::new()
        } else {
            format!(", {}", p.region)
        };
        let f = Found {
            label: displayable(&format!("{}{region} ({})", p.name, p.country)),
            lat: p.lat,
            lon: p.lon,
            source: if p.alias { "places" } else { "GeoNames" },
            region: p.region.clone(),
            tier: r,
            area: p.area,
            in_area: false,
        };
        hits.push((r, u8::from(!p.alias), away(p.lon, p.lat), p.population, f));
    }
    hits.sort_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then(a.2.total_cmp(&b.2))
            .then(b.3.cmp(&a.3))
            .then(a.4.label.cmp(&b.4.label))
    });
    // The data's places once each (many incidents share a place).
    let mut seen = std::collections::HashSet::new();
    for h in hits {
        if out.len() >= limit {
            break;
        }
        if h.4.source == "data" && !seen.insert(h.4.label.clone()) {
            continue;
        }
        out.push(h.4);
    }
    out
}

/// Where a row that names `place` (and `area`, its province or district, when given) but has
/// no position may be: the places of the gazetteer and the alias list its name matches
/// (the whole name, else each of its comma-separated parts, so "Highway at Latifiya, south of
/// Baghdad" finds Latifiya), those in the area named first, then as [`search`] ranks them.
pub fn candidates(place: &str, area: &str, near: Option<(f64, f64)>, limit: usize) -> Vec<Found> {
    let mut found = search(place, std::iter::empty(), limit);
    if found.is_empty() {
        for part in place.split([',', ';', '(', ')']) {
            let part = part.trim();
            // "Highway at Latifiya": the words after a preposition name the place.
            let words: Vec<&str> = part.split_whitespace().collect();
            let tail = words
                .iter()
                .rposition(|w| {
                    matches!(
                        w.to_ascii_lowercase().as_str(),
                        "at" | "in" | "near" | "of" | "outside"
                    )
                })
                .map(|k| words[k + 1..].join(" "))
                .unwrap_or_default();
            for q in [part.to_string(), tail] {
                if q.chars().count() >= 3 {
                    found.extend(search(&q, std::iter::empty(), limit));
                }
            }
            if !found.is_empty() {
                break;
            }
        }
    }
    found.retain(|f| f.source != "coordinates");
    let a = match_key(area);
    let in_area = |f: &Found| {
        !a.is_empty() && {
            let r = match_key(&f.region);
            !r.is_empty() && (r.contains(&a) || a.contains(&r))
        }
    };
    let away = |f: &Found| near.map_or(0.0, |(lon, lat)| (f.lon - lon).hypot(f.lat - lat));
    found.sort_by(|x, y| {
        (!in_area(x), x.tier)
            .cmp(&(!in_area(y), y.tier))
            .then(away(x).total_cmp(&away(y)))
    });
    found.dedup_by(|x, y| x.lat == y.lat && x.lon == y.lon);
    for f in &mut found {
        f.in_area = in_area(f);
    }
    found.truncate(limit);
    found
}

/// The one place [`candidates`] points to without doubt: its name matches exactly, and so do
/// no other places but within 10 km of it — among those in the area the row names when it
/// names one, else among those within 500 km of `near` (the data's other incidents) when
/// given, else anywhere.
pub fn unambiguous(candidates: &[Found], near: Option<(f64, f64)>) -> Option<&Found> {
    let exact: Vec<&Found> = candidates.iter().filter(|f| f.tier == 0).collect();
    let close = |f: &&Found| {
        near.is_none_or(|(lon, lat)| {
            crate::geodesy::distance_km((lon, lat), (f.lon, f.lat)) <= 500.0
        })
    };
    let pool: Vec<&Found> = if exact.iter().any(|f| f.in_area) {
        exact.into_iter().filter(|f| f.in_area).collect()
    } else {
        exact.into_iter().filter(close).collect()
    };
    let first = *pool.first()?;
    pool.iter()
        .all(|f| crate::geodesy::distance_km((first.lon, first.lat), (f.lon, f.lat)) <= 10.0)
        .then_some(first)
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
        assert_eq!((hits[0].lat, hits[0].lon), (33.786, 42.441), "{hits:?}");
        assert!(hits.iter().any(|h| h.source == "data"), "{hits:?}");
        let hits = search("33.786, 42.441", std::iter::empty(), 5);
        assert_eq!(hits[0].source, "coordinates");
    }
}

#[cfg(test)]
mod variants {
    use super::*;

    /// The bundled data's places, each at its first incident.
    fn data_places() -> Vec<(String, (f64, f64))> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson");
        let r = crate::import::load_paths(&[p], &Default::default());
        let s = &r.store;
        let mut out: Vec<(String, (f64, f64))> = Vec::new();
        for i in 0..s.len() {
            let name = s.place_name(i).to_string();
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, (s.lon[i], s.lat[i])));
            }
        }
        out
    }

    /// Real spellings of Iraqi and Syrian places, each with where it is written (a report,
    /// GeoNames' alternate names or the bundled data), and the place meant
    /// (`tests/data/place_variants.tsv`): the place meant comes first. Two spellings of Abu
    /// Ghraib found in reports ("Abu Ghreb", "Abu Ghareeb") are two edits from every name the
    /// gazetteer has and are not found; they are left out.
    #[test]
    fn real_spellings_find_the_place_meant_first() {
        let data = data_places();
        let table = include_str!("../tests/data/place_variants.tsv");
        let mut missed = Vec::new();
        let mut rows = 0;
        for l in table.lines().skip(1) {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(
                f.len() == 5 && !f[4].trim().is_empty(),
                "a source for every row: {l}"
            );
            let (lat, lon): (f64, f64) = (f[1].parse().unwrap(), f[2].parse().unwrap());
            let hits = search(f[0], data.iter().map(|(n, p)| (n.as_str(), *p)), 5);
            let first = hits.first();
            if !first.is_some_and(|h| (h.lat - lat).abs() < 0.06 && (h.lon - lon).abs() < 0.06) {
                missed.push(format!("{} → {:?}", f[0], first.map(|h| &h.label)));
            }
            rows += 1;
        }
        assert!(rows >= 25, "{rows} rows");
        assert!(missed.is_empty(), "{missed:#?}");
    }

    #[test]
    fn matching_folds_what_people_type_and_ranks_typos_last() {
        for (a, b) in [
            ("Ain Al-Assad", "Ayn al-Asad"),
            ("al-Hillah", "Hilla"),
            ("Deir ez-Zour", "Dayr az Zur"),
            ("عين الأسد", "عين الاسد"),
            ("ٱلْفَلُّوجَة", "الفلوجة"),
            ("Qaim", "Al-Kaim"),
        ] {
            assert_eq!(match_key(a), match_key(b), "{a} / {b}");
        }
        assert!(one_typo("tikrit", "takrit") && one_typo("abc", "acb") && !one_typo("ab", "ba c"));
        // An exact name before one a typo away.
        let hits = search("Basra", std::iter::empty(), 10);
        assert!(hits[0].label.starts_with("Basrah"), "{hits:?}");
        let typo = search("Basrq", std::iter::empty(), 10);
        assert!(
            typo.iter().any(|h| h.label.starts_with("Basrah")),
            "{typo:?}"
        );
    }
}
