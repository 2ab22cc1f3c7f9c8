//! The BagIt manifest reader and the custody-log chain walker on arbitrary bytes: never a panic;
//! a manifest that is read names only paths inside the bag.
#![no_main]

use incident_map::import::bag::parse_manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = parse_manifest(data, "manifest-sha256.txt") {
        for (path, sha) in &m {
            assert!(!path.starts_with('/') && !path.split('/').any(|p| p == ".."), "{path}");
            assert_eq!(sha.len(), 64);
        }
    }
    let lines: Vec<String> = String::from_utf8_lossy(data)
        .lines()
        .map(str::to_string)
        .collect();
    let _ = incident_map::evidence::custody::first_break(&lines);
    let _ = incident_map::evidence::attached("custody.jsonl", &lines);
});
