//! Comparing two `check --json` answers.

use serde_json::Value;

/// Asserts that two `check --json` answers describe the same data: counts, dates, types and
/// area (not the files they came from).
pub fn assert_same(a: &Value, b: &Value, what: &str) {
    for k in [
        "incidents",
        "disputed",
        "date_min",
        "date_max",
        "types",
        "bbox",
    ] {
        assert_eq!(a[k], b[k], "{what}: {k}");
    }
}
