//! The validated row every importer hands to the store.

use std::borrow::Cow;

use super::LocPrecision;
use crate::date::When;

/// A validated row, borrowing its strings from the input where it can.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    /// When it happened.
    pub when: When,
    /// WGS84 longitude.
    pub lon: f64,
    /// WGS84 latitude.
    pub lat: f64,
    /// Incident type ("" when the file has none).
    pub type_name: Cow<'a, str>,
    /// Parent category ("" when none).
    pub category: Cow<'a, str>,
    /// Place name ("" when none).
    pub place: Cow<'a, str>,
    /// Location precision.
    pub loc_precision: LocPrecision,
    /// Fatalities, -1 when not reported.
    pub fatalities: i32,
    /// Injuries, -1 when not reported.
    pub injuries: i32,
    /// Sources disagree about it.
    pub disputed: bool,
}
