//! Calendar dates as day numbers, and the date formats incident data arrives in.
//!
//! Days are counted from 1970-01-01 (day 0) in the incident's own local calendar: an incident
//! reported at 00:30 local time on 6 June belongs to 6 June whatever its UTC offset.

use crate::text::clip;

/// Why a date could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not the strict `YYYY-MM-DD` form.
    #[error("'{0}' is not a date in the form YYYY-MM-DD")]
    NotYmd(String),
    /// A month or day that does not exist (`2021-02-30`).
    #[error("impossible date {0}")]
    Impossible(String),
    /// Outside the years 1000–9999.
    #[error("year {0} is out of range (1000 to 9999)")]
    YearOutOfRange(i32),
    /// Nothing there.
    #[error("missing date")]
    Missing,
    /// No known form.
    #[error("unrecognised date '{0}'")]
    Unrecognised(String),
    /// A date-time whose time part is not understood.
    #[error("unrecognised time in '{0}'")]
    BadTime(String),
    /// An epoch time outside the years 1000–9999.
    #[error("epoch time {0} is out of range")]
    EpochOutOfRange(String),
    /// `dd/mm/yyyy` or `mm/dd/yyyy`: both are possible.
    #[error("ambiguous date '{0}': day/month order unknown (use YYYY-MM-DD)")]
    Ambiguous(String),
}

/// Days since 1970-01-01 in the proleptic Gregorian calendar.
pub type Day = i32;

/// How precisely an incident's date is known. Ordered from finest to coarsest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum DatePrecision {
    /// The exact day is known.
    #[default]
    Day = 0,
    /// Only the week is known (ACLED `time_precision` 2).
    Week = 1,
    /// Only the month is known.
    Month = 2,
    /// Only the year is known.
    Year = 3,
}

impl DatePrecision {
    /// The lowercase name used in files and JSON.
    pub fn name(self) -> &'static str {
        match self {
            DatePrecision::Day => "day",
            DatePrecision::Week => "week",
            DatePrecision::Month => "month",
            DatePrecision::Year => "year",
        }
    }

    /// Reads a precision column value: a name (`day`, `exact`, `month`, ...) or an ACLED code
    /// (1 = day, 2 = week, 3 = month).
    pub fn parse(s: &str) -> Option<DatePrecision> {
        match crate::text::ascii_lower(crate::text::trim(s), &mut [0; 16])? {
            "1" | "day" | "exact" | "d" => Some(DatePrecision::Day),
            "2" | "week" | "w" => Some(DatePrecision::Week),
            "3" | "month" | "m" => Some(DatePrecision::Month),
            "4" | "year" | "y" => Some(DatePrecision::Year),
            _ => None,
        }
    }
}

/// A parsed "when": the span of days the incident may fall on, plus time and offset if known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    /// First day of the span (the day itself for day precision).
    pub day: Day,
    /// Last day of the span, inclusive.
    pub end: Day,
    /// How precisely the date is known.
    pub precision: DatePrecision,
    /// Local time of day in minutes after midnight, if reported.
    pub minute: Option<u16>,
    /// UTC offset in minutes, if reported.
    pub offset: Option<i16>,
}

impl When {
    /// A single known day with no time.
    pub fn on(day: Day) -> When {
        When {
            day,
            end: day,
            precision: DatePrecision::Day,
            minute: None,
            offset: None,
        }
    }

    /// Re-express this date at a coarser precision (ACLED's `time_precision`, a precision
    /// column): the span widens around the coded date. Finer precisions than the parsed one
    /// are ignored because the text itself says less.
    pub fn with_precision(self, p: DatePrecision) -> When {
        if p <= self.precision {
            return self;
        }
        let (y, m, _) = civil_from_days(self.day);
        let (day, end) = match p {
            DatePrecision::Day => (self.day, self.day),
            // ACLED codes week-precision events on a day inside that week.
            DatePrecision::Week => (self.day - 3, self.day + 3),
            DatePrecision::Month => {
                let first = days_from_civil(y, m, 1);
                (first, first + days_in_month(y, m) as i32 - 1)
            }
            DatePrecision::Year => (days_from_civil(y, 1, 1), days_from_civil(y, 12, 31)),
        };
        When {
            day,
            end,
            precision: p,
            ..self
        }
    }
}

/// Days from 1970-01-01 to the given civil date (Howard Hinnant's algorithm; tested against
/// jiff). Hand-written because it runs once per row on million-row files.
pub fn days_from_civil(y: i32, m: u8, d: u8) -> Day {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date (year, month, day) of a day number.
pub fn civil_from_days(z: Day) -> (i32, u8, u8) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Number of days in a month of a year.
pub fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Formats a day number as `YYYY-MM-DD`.
pub fn format_day(day: Day) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses a strict `YYYY-MM-DD` (the form of filter dates everywhere).
pub fn parse_ymd(s: &str) -> Result<Day, DateError> {
    let b = s.trim().as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(DateError::NotYmd(clip(s)));
    }
    let (y, m, d) = (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]));
    match (y, m, d) {
        (Some(y), Some(m), Some(d)) => checked_day(y as i32, m, d),
        _ => Err(DateError::NotYmd(clip(s))),
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |a, &c| a * 10 + (c - b'0') as u32))
}

fn checked_day(y: i32, m: u32, d: u32) -> Result<Day, DateError> {
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m as u8) as u32 {
        return Err(DateError::Impossible(format!("{y:04}-{m:02}-{d:02}")));
    }
    if !(1000..=9999).contains(&y) {
        return Err(DateError::YearOutOfRange(y));
    }
    Ok(days_from_civil(y, m as u8, d as u8))
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month_from_name(s: &str) -> Option<u32> {
    let s = s.trim_end_matches('.').to_ascii_lowercase();
    if s.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(&s) && (s.len() == 3 || s.len() == m.len() || s == "sept"))
        .map(|i| i as u32 + 1)
}

/// Parses a time of day `HH:MM[:SS[.fff]]` into minutes after midnight.
pub fn parse_time_of_day(s: &str) -> Option<u16> {
    let b = s.trim().as_bytes();
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let h = digits(&b[0..2])?;
    let m = digits(&b[3..5])?;
    if b.len() > 5 {
        if b[5] != b':' || b.len() < 8 {
            return None;
        }
        let sec = digits(&b[6..8])?;
        let rest = &b[8..];
        if sec > 60
            || !(rest.is_empty() || (rest[0] == b'.' && rest[1..].iter().all(u8::is_ascii_digit)))
        {
            return None;
        }
    }
    (h < 24 && m < 60).then_some((h * 60 + m) as u16)
}

/// Parses a UTC offset: `Z`, `UTC`, `+03:00`, `+0300`, `+03`, `-04:30`.
pub fn parse_offset(s: &str) -> Option<i16> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") || s.eq_ignore_ascii_case("gmt")
    {
        return Some(0);
    }
    let s = s.strip_prefix("UTC").unwrap_or(s);
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let rest = rest.replace(':', "");
    let (h, m) = match rest.len() {
        1 | 2 => (digits(rest.as_bytes())?, 0),
        4 => (
            digits(&rest.as_bytes()[..2])?,
            digits(&rest.as_bytes()[2..])?,
        ),
        _ => return None,
    };
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m) as i16)
}

/// Parses a date as found in incident files: ISO 8601 dates (`2021-06-06`), months (`2021-06`),
/// years (`2021`), date-times with or without an offset (`2021-06-06T00:30:00+03:00`), `6 June
/// 2021`, `June 6, 2021`, `June 2021`, `dd/mm/yyyy` when the order is unambiguous, `dd.mm.yyyy`,
/// and epoch seconds or milliseconds (integers of 9+ digits; 12+ digits are milliseconds).
///
/// The returned day is the local date as written; an epoch value has no local date, so its
/// UTC date is used with offset 0.
pub fn parse_when(s: &str) -> Result<When, DateError> {
    let t = crate::text::trim(s);
    if t.is_empty() {
        return Err(DateError::Missing);
    }
    let b = t.as_bytes();
    // ISO 8601 first: most files' dates, told apart by two bytes (a `-` after four digits is
    // none of the numbers below).
    if b.len() >= 7 && b[4] == b'-' && b[..4].iter().all(u8::is_ascii_digit) {
        let y = digits(&b[0..4]).unwrap_or(0) as i32;
        if b.len() == 7 {
            let m = digits(&b[5..7]).ok_or_else(|| DateError::Unrecognised(clip(t)))?;
            checked_day(y, m, 1)?;
            return Ok(
                When::on(days_from_civil(y, m as u8, 1)).with_precision(DatePrecision::Month)
            );
        }
        if b.len() >= 10 && b[7] == b'-' {
            let (m, d) = match (digits(&b[5..7]), digits(&b[8..10])) {
                (Some(m), Some(d)) => (m, d),
                _ => return Err(DateError::Unrecognised(clip(t))),
            };
            let day = checked_day(y, m, d)?;
            if b.len() == 10 {
                return Ok(When::on(day));
            }
            if b[10] == b'T' || b[10] == b' ' {
                return iso_time(day, &t[11..]).ok_or_else(|| DateError::BadTime(clip(t)));
            }
        }
        return Err(DateError::Unrecognised(clip(t)));
    }
    // Numbers: a year, or epoch seconds / milliseconds.
    let num = t.strip_prefix('-').unwrap_or(t);
    let int_part = num.split('.').next().unwrap_or("");
    if !int_part.is_empty()
        && int_part.bytes().all(|c| c.is_ascii_digit())
        && num
            .split('.')
            .nth(1)
            .is_none_or(|f| f.bytes().all(|c| c.is_ascii_digit()))
        && num.matches('.').count() <= 1
    {
        if int_part.len() == 4 && num.len() == 4 {
            let y = digits(b).unwrap_or(0) as i32;
            checked_day(y, 1, 1)?;
            return Ok(When::on(days_from_civil(y, 1, 1)).with_precision(DatePrecision::Year));
        }
        if int_part.len() >= 9 {
            return epoch(t, int_part.len() >= 12);
        }
        return Err(DateError::Unrecognised(clip(t)));
    }
    // Numeric day/month/year with / or . separators.
    if let Some(w) = slashed(t)? {
        return Ok(w);
    }
    // Words: "6 June 2021", "June 6, 2021", "June 2021", "06-Jun-2021".
    words(t).ok_or_else(|| DateError::Unrecognised(clip(t)))?
}

fn epoch(t: &str, millis: bool) -> Result<When, DateError> {
    let v: f64 = t.parse().map_err(|_| DateError::Unrecognised(clip(t)))?;
    let secs = if millis { v / 1000.0 } else { v };
    // Keep to years 1000..9999 so that every day number is a real calendar date.
    if !(-30_610_224_000.0..=253_402_300_799.0).contains(&secs) {
        return Err(DateError::EpochOutOfRange(clip(t)));
    }
    let secs = secs.floor() as i64;
    let day = secs.div_euclid(86_400) as Day;
    let minute = (secs.rem_euclid(86_400) / 60) as u16;
    Ok(When {
        minute: Some(minute),
        offset: Some(0),
        ..When::on(day)
    })
}

fn iso_time(day: Day, rest: &str) -> Option<When> {
    // Split the offset off the time: Z, +hh:mm, -hh:mm, or " UTC".
    let rest = rest.trim();
    let cut = rest
        .char_indices()
        .skip(4)
        .find(|&(_, c)| c == 'Z' || c == 'z' || c == '+' || c == '-' || c == ' ')
        .map(|(i, _)| i);
    let (time, off) = match cut {
        Some(i) => (&rest[..i], Some(rest[i..].trim())),
        None => (rest, None),
    };
    let time = if time.len() == 5 || time.len() >= 8 {
        time.to_string()
    } else {
        return None;
    };
    let minute = parse_time_of_day(&time)?;
    let offset = match off {
        Some(o) => Some(parse_offset(o)?),
        None => None,
    };
    Some(When {
        minute: Some(minute),
        offset,
        ..When::on(day)
    })
}

fn slashed(t: &str) -> Result<Option<When>, DateError> {
    let sep = if t.contains('/') {
        '/'
    } else if t.contains('.') {
        '.'
    } else {
        return Ok(None);
    };
    let parts: Vec<&str> = t.split(sep).collect();
    if parts.len() != 3 || parts[2].len() != 4 {
        return Ok(None);
    }
    let (a, b, y) = match (
        digits(parts[0].as_bytes()),
        digits(parts[1].as_bytes()),
        digits(parts[2].as_bytes()),
    ) {
        (Some(a), Some(b), Some(y)) => (a, b, y as i32),
        _ => return Ok(None),
    };
    // dd.mm.yyyy is the European form and is never month-first.
    let (d, m) = if sep == '.' || a > 12 {
        (a, b)
    } else if b > 12 || a == b {
        (b, a)
    } else {
        return Err(DateError::Ambiguous(clip(t)));
    };
    checked_day(y, m, d).map(|day| Some(When::on(day)))
}

fn words(t: &str) -> Option<Result<When, DateError>> {
    let toks: Vec<&str> = t
        .split(|c: char| c.is_whitespace() || c == ',' || c == '-')
        .filter(|s| !s.is_empty())
        .collect();
    let num = |s: &str| -> Option<u32> {
        let s = s.trim_end_matches(|c: char| c.is_ascii_alphabetic()); // 6th, 1st
        digits(s.as_bytes())
    };
    match toks.as_slice() {
        [d, m, y] if month_from_name(m).is_some() => {
            let (d, y) = (num(d)?, digits(y.as_bytes())?);
            Some(checked_day(y as i32, month_from_name(m)?, d).map(When::on))
        }
        [m, d, y] if month_from_name(m).is_some() => {
            let (d, y) = (num(d)?, digits(y.as_bytes())?);
            Some(checked_day(y as i32, month_from_name(m)?, d).map(When::on))
        }
        [m, y] if month_from_name(m).is_some() && y.len() == 4 => {
            let (m, y) = (month_from_name(m)?, digits(y.as_bytes())? as i32);
            Some(checked_day(y, m, 1).map(|day| When::on(day).with_precision(DatePrecision::Month)))
        }
        _ => None,
    }
}

/// A calendar period: the bars of a chart, the frames of a series.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Every {
    /// One frame per day.
    Day,
    /// One frame per ISO week (Monday to Sunday).
    Week,
    /// One frame per calendar month.
    Month,
}

impl Every {
    /// The period in words: "day", "week" or "month".
    pub fn name(self) -> &'static str {
        match self {
            Every::Day => "day",
            Every::Week => "week",
            Every::Month => "month",
        }
    }
}

/// The periods `[start, end]` covering `[from, to]`.
pub fn periods(from: Day, to: Day, every: Every) -> Vec<(Day, Day)> {
    let mut out = Vec::new();
    let mut d = match every {
        Every::Day => from,
        Every::Week => from - (from + 3).rem_euclid(7),
        Every::Month => {
            let (y, m, _) = civil_from_days(from);
            days_from_civil(y, m, 1)
        }
    };
    while d <= to {
        let next = match every {
            Every::Day => d + 1,
            Every::Week => d + 7,
            Every::Month => {
                let (y, m, _) = civil_from_days(d);
                if m == 12 {
                    days_from_civil(y + 1, 1, 1)
                } else {
                    days_from_civil(y, m + 1, 1)
                }
            }
        };
        out.push((d.max(from), (next - 1).min(to)));
        d = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_agree_with_jiff_on_every_day() {
        // Every day from 1000-01-01 to 9999-12-31, both ways: jiff walks the calendar one day
        // at a time, and our day numbers must count along with it.
        let start = jiff::civil::date(1000, 1, 1);
        let epoch = jiff::civil::date(1970, 1, 1);
        let first = start
            .since((jiff::Unit::Day, epoch))
            .map(|s| s.get_days())
            .unwrap_or(i32::MAX);
        assert_eq!(days_from_civil(1000, 1, 1), first);
        let mut date = start;
        let mut day = first;
        let last = jiff::civil::date(9999, 12, 31);
        let mut count = 0u32;
        loop {
            let (y, m, d) = (date.year() as i32, date.month() as u8, date.day() as u8);
            assert_eq!(days_from_civil(y, m, d), day, "{date}");
            assert_eq!(civil_from_days(day), (y, m, d), "{date}");
            count += 1;
            if date == last {
                break;
            }
            date = date.tomorrow().unwrap_or(last);
            day += 1;
        }
        assert_eq!(count, 3_287_182);
        assert_eq!(format_day(day), "9999-12-31");
    }

    #[test]
    fn parses_common_forms() {
        let d = days_from_civil(2021, 6, 6);
        assert_eq!(parse_when("2021-06-06").map(|w| w.day), Ok(d));
        assert_eq!(parse_when("06 June 2021").map(|w| w.day), Ok(d));
        assert_eq!(parse_when("6 Jun 2021").map(|w| w.day), Ok(d));
        assert_eq!(parse_when("June 6, 2021").map(|w| w.day), Ok(d));
        assert_eq!(
            parse_when("13/06/2021").map(|w| w.day),
            Ok(days_from_civil(2021, 6, 13))
        );
        assert_eq!(
            parse_when("06/13/2021").map(|w| w.day),
            Ok(days_from_civil(2021, 6, 13))
        );
        assert!(matches!(
            parse_when("06/07/2021"),
            Err(DateError::Ambiguous(_))
        ));
    }

    #[test]
    fn date_times_keep_local_date_time_and_offset() {
        let w = parse_when("2021-06-06T00:30:00+03:00").unwrap();
        assert_eq!(w.day, days_from_civil(2021, 6, 6));
        assert_eq!(w.minute, Some(30));
        assert_eq!(w.offset, Some(180));
        let w = parse_when("2021-06-05 21:30Z").unwrap();
        assert_eq!((w.minute, w.offset), (Some(21 * 60 + 30), Some(0)));
        let w = parse_when("2021-06-06 00:30").unwrap();
        assert_eq!((w.minute, w.offset), (Some(30), None));
    }

    #[test]
    fn epochs_are_utc() {
        // 2021-06-05T21:30:00Z
        let w = parse_when("1622928600000").unwrap();
        assert_eq!(w.day, days_from_civil(2021, 6, 5));
        assert_eq!(w.minute, Some(21 * 60 + 30));
        assert_eq!(parse_when("1622928600").unwrap().day, w.day);
        assert!(parse_when("99999999999999999999999").is_err());
    }

    #[test]
    fn coarse_precisions_span() {
        let w = parse_when("2021-06").unwrap();
        assert_eq!(
            (w.day, w.end),
            (days_from_civil(2021, 6, 1), days_from_civil(2021, 6, 30))
        );
        assert_eq!(w.precision, DatePrecision::Month);
        let w = parse_when("2020").unwrap();
        assert_eq!(w.end - w.day, 365);
        let w = parse_when("June 2021").unwrap();
        assert_eq!(w.precision, DatePrecision::Month);
    }

    #[test]
    fn rejects_impossible_and_garbage() {
        assert_eq!(
            parse_when("2021-02-30"),
            Err(DateError::Impossible("2021-02-30".into()))
        );
        assert!(parse_when("2021-13-01").is_err());
        assert!(parse_when("31 February 2021").is_err());
        assert!(parse_when("yesterday").is_err());
        assert!(parse_when("").is_err());
        assert!(parse_when("NaN").is_err());
        assert!(parse_when("2021-06-06T25:00").is_err());
        assert!(parse_ymd("2021-6-6").is_err());
    }
}
