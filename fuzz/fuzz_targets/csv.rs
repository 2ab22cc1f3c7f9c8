//! The CSV/ACLED importer on arbitrary bytes, then filtering and writing what loaded.
#![no_main]

use incident_map::import::{Overrides, csv};
use incident_map::query::Filter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(l) = csv::load("fuzz.csv", "fuzz.csv".into(), data.to_vec(), &Overrides::default(), 0) {
        let s = l.builder.finish(vec![l.source]);
        if let Ok(sel) = s.select(&Filter { text: Some("a".into()), ..Default::default() }) {
            let mut sink = Vec::new();
            let _ = incident_map::output::write_csv(&s, &sel, &mut sink);
            let _ = incident_map::output::write_geojson(&s, &sel, &mut sink);
        }
    }
});
