//! Date, time and offset parsing on arbitrary text; a parsed date must format back to a real day.
#![no_main]

use incident_map::date::{format_day, parse_offset, parse_time_of_day, parse_when, parse_ymd};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(w) = parse_when(s) {
            assert!(w.day <= w.end);
            assert_eq!(parse_ymd(&format_day(w.day)), Ok(w.day));
        }
        let _ = parse_time_of_day(s);
        let _ = parse_offset(s);
    }
});
