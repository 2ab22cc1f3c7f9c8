//! The KML importer on arbitrary bytes, then writing what loaded (KML included).
#![no_main]

use incident_map::import::{Overrides, kml};
use incident_map::query::Filter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(l) = kml::load("fuzz.kml", "fuzz.kml".into(), data.to_vec(), &Overrides::default(), 0) {
        let s = l.builder.finish(vec![l.source]);
        if let Ok(sel) = s.select(&Filter { text: Some("a".into()), ..Default::default() }) {
            let mut sink = Vec::new();
            let _ = incident_map::output::write_csv(&s, &sel, &mut sink);
            let _ = incident_map::output::write_kml(&s, &sel, &mut sink);
        }
    }
});
