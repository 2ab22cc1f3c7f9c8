//! The GeoPackage importer on arbitrary bytes (as a whole file, which SQLite checks), and the
//! geometry decoder (the `GP` header and WKB) on the same bytes as a blob.
#![no_main]

use incident_map::import::{Overrides, gpkg};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gpkg::geometry_json(data);
    if let Ok(l) = gpkg::load("fuzz.gpkg", "fuzz.gpkg".into(), data.to_vec(), &Overrides::default(), 0) {
        let _ = l.builder.finish(vec![l.source]);
    }
});
