//! Text handling shared by the importers, the record reader and the views: decoding legacy
//! encodings, shortening values for messages, making untrusted text safe to lay out, finding
//! safe links, and case-insensitive matching.

use std::borrow::Cow;

/// The encoding used for text that is not valid UTF-8: what Excel and most Western Windows
/// software write. Every byte decodes, and “ ” ’ – € keep their meaning (Latin-1 would turn them
/// into C1 control characters).
pub const LEGACY_ENCODING: &encoding_rs::Encoding = encoding_rs::WINDOWS_1252;

/// `s` as a number when it is a plain decimal (an optional sign, digits, an optional `.` and
/// digits; at most 15 digits in all), exactly as `str::parse::<f64>` gives it: an integer below
/// 2^53 divided by a power of ten that is itself exact is correctly rounded (Clinger's fast
/// path). None for anything else, to be parsed the general way. Coordinates and counts of
/// every row go through it.
#[inline]
pub fn plain_decimal(s: &str) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let b = s.as_bytes();
    let (negative, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let (mut m, mut n, mut point) = (0u64, 0usize, None);
    for (i, &c) in digits.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                m = m * 10 + u64::from(c - b'0');
                n += 1;
                if n > 15 {
                    return None;
                }
            }
            b'.' if point.is_none() => point = Some(i),
            _ => return None,
        }
    }
    if n == 0 {
        return None;
    }
    let decimals = point.map_or(0, |p| digits.len() - p - 1);
    let v = m as f64 / POW10[decimals];
    Some(if negative { -v } else { v })
}

/// `s` without leading and trailing whitespace, as [`str::trim`], with no work for the usual
/// field that starts and ends with printable ASCII (no whitespace there: every other byte of a
/// whitespace character is outside it). Runs for several fields of every row of a file.
#[inline]
pub fn trim(s: &str) -> &str {
    let printable = |b: Option<&u8>| b.is_none_or(|&b| b > b' ' && b < 0x7f);
    if printable(s.as_bytes().first()) && printable(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// `s` in ASCII lower case (itself when it has no upper-case letter, else written into `buf`),
/// for matching against short names (precision codes, yes/no) without allocating for every
/// row; `None` when it is longer than `buf` (so it is none of them).
pub fn ascii_lower<'a>(s: &'a str, buf: &'a mut [u8; 16]) -> Option<&'a str> {
    let out = buf.get_mut(..s.len())?;
    if !s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some(s); // most codes ("1", "day") are lower case already
    }
    out.copy_from_slice(s.as_bytes());
    out.make_ascii_lowercase();
    std::str::from_utf8(out).ok()
}

/// Decodes a field: UTF-8 when valid, otherwise [`LEGACY_ENCODING`].
pub fn decode(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => LEGACY_ENCODING.decode_without_bom_handling(b).0,
    }
}

/// A value shortened to 40 characters for a message ("…" marks the cut).
pub fn clip(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Longest text shown for one field before it is cut (untrusted data can be huge).
pub const MAX_FIELD_CHARS: usize = 2_000;

/// Makes untrusted text safe to lay out: control characters become spaces (newlines and tabs
/// kept in multi-line text), bidirectional overrides are dropped, and very long text is cut with
/// a note.
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

/// Lower-cases with Unicode rules (what text search compares).
pub fn lower(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// ASCII-case-insensitive substring test; `needle` must already be lowercase.
pub fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    if hay.len() < needle.len() {
        return false;
    }
    let first = needle[0];
    let upper = first.to_ascii_uppercase();
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let rest = &hay[i..=hay.len() - needle.len()];
        let Some(off) = memchr::memchr2(first, upper, rest) else {
            return false;
        };
        let at = i + off;
        if hay[at..at + needle.len()]
            .iter()
            .zip(needle)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
        {
            return true;
        }
        i = at + 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit for bit what `str::parse::<f64>` gives, on random plain decimals of every length
    /// (and none for what is not one).
    #[test]
    fn plain_decimals_parse_as_std() {
        let mut rng = crate::synth::Rng::new(0x05ee_d0ff_10a7);
        for _ in 0..300_000 {
            let r = rng.next_u64();
            let digit = |k: u64| char::from(b'0' + ((r >> (k % 60)) % 10) as u8);
            let mut s = String::from(["", "-", "+"][(r % 3) as usize]);
            for k in 0..(r >> 8) % 11 {
                s.push(digit(k * 7 + 1));
            }
            if !(r >> 12).is_multiple_of(3) {
                s.push('.');
                for k in 0..(r >> 16) % 12 {
                    s.push(digit(k * 5 + 3));
                }
            }
            let std = s.parse::<f64>().ok();
            match plain_decimal(&s) {
                Some(v) => assert_eq!(Some(v.to_bits()), std.map(f64::to_bits), "{s:?}"),
                None => assert!(
                    std.is_none() || s.matches(char::is_numeric).count() > 15,
                    "{s:?}"
                ),
            }
        }
        for s in [
            "", "-", ".", "+.", "1e5", "1..2", "0x10", " 1", "1,5", "inf", "NaN",
        ] {
            assert_eq!(plain_decimal(s), None, "{s:?}");
        }
        assert_eq!(
            plain_decimal("-0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(plain_decimal("33.786"), Some(33.786));
        assert_eq!(plain_decimal("5."), Some(5.0));
        assert_eq!(plain_decimal(".5"), Some(0.5));
    }

    /// The same as `str::trim` on every mix of printable ASCII, ASCII and Unicode whitespace
    /// (NBSP, NEL, ideographic space), control bytes and other letters at either end.
    #[test]
    fn trim_is_str_trim() {
        let ends = [
            "", "a", " ", "\t", "\r\n", "\u{a0}", "\u{85}", "\u{3000}", "\u{1f}", "\u{7f}", "é",
            "~",
        ];
        for a in ends {
            for b in ends {
                for mid in ["", "x", " y ", "\u{a0}"] {
                    let s = format!("{a}{mid}{b}");
                    assert_eq!(trim(&s), s.trim(), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn windows_1252_keeps_typographic_characters() {
        // “Ain al-Asad” – €5 ’ in Windows-1252 bytes.
        let b = b"\x93Ain al-Asad\x94 \x96 \x805 \x92";
        assert_eq!(decode(b), "“Ain al-Asad” – €5 ’");
        assert!(matches!(decode("été".as_bytes()), Cow::Borrowed("été")));
    }

    #[test]
    fn untrusted_text_is_cleaned() {
        assert_eq!(clean("a\u{0}b\u{1b}[2Jc", false), "a b [2Jc");
        assert_eq!(clean("line\nnext", true), "line\nnext");
        assert_eq!(clean("line\nnext", false), "line next");
        assert_eq!(clean("x\u{202E}y", false), "xy");
        let long = "z".repeat(5000);
        let c = clean(&long, false);
        assert!(c.len() < 2100 && c.ends_with("(3000 more characters)"));
        assert_eq!(clip(&"a".repeat(50)), format!("{}…", "a".repeat(40)));
    }

    #[test]
    fn links_are_http_only() {
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
    fn case_insensitive_search() {
        assert!(contains_ci(b"Ain AL-ASAD air base", b"al-asad"));
        assert!(!contains_ci(b"abc", b"abcd"));
        assert!(contains_ci(b"xxaAb", b"ab"));
    }
}
