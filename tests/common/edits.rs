//! Helpers shared by the tests that write through sources.

use incident_map::progress::Control;
use incident_map::query::Filter;
use incident_map::source::{Fetch, Key, Source};

/// The key of the incident whose field `field` is `value` (its records fetched).
pub fn key_of(src: &dyn Source, field: &str, value: &str) -> Key {
    let inc = src
        .incidents(
            &Filter::default(),
            &Fetch::up_to(usize::MAX),
            &Control::default(),
        )
        .unwrap();
    (0..inc.store.len())
        .find(|&i| {
            inc.store
                .record(i)
                .unwrap()
                .get(field)
                .is_some_and(|f| f.text() == value)
        })
        .map(|i| inc.key(i as u32))
        .unwrap_or_else(|| panic!("{}: no incident with {field} = {value}", src.name()))
}
