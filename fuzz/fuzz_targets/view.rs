//! The saved-view parser on arbitrary bytes: parse, turn into an export spec, write back.
#![no_main]

use incident_map::export::view_file::ViewFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = ViewFile::parse(data)
        && let Ok((files, spec)) = v.to_spec(std::path::Path::new("/base"))
    {
        let again = ViewFile::new(&files, &spec);
        let text = serde_json::to_string(&again).unwrap_or_default();
        assert!(ViewFile::parse(text.as_bytes()).is_ok(), "a written view parses again");
    }
});
