//! The vocabulary of the incident model: precisions, column roles, the validated row the
//! importers hand to the store, and load problems. Plain Rust: the store and the importers both
//! depend on it, and it depends on neither.

pub mod columns;
pub mod row;

use std::fmt;

pub use columns::{ColumnMap, Role};
pub use row::Row;

/// Date precision is part of the date vocabulary; re-exported here beside the location's.
pub use crate::date::DatePrecision;

/// How precisely an incident's location is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum LocPrecision {
    /// The exact site (a base, an airport, a checkpoint).
    Exact = 0,
    /// Near a named town or site.
    Near = 1,
    /// Only the region (province, district) is known.
    Region = 2,
    /// The file does not say.
    #[default]
    Unknown = 3,
}

impl LocPrecision {
    /// The lowercase name used in files and JSON.
    pub fn name(self) -> &'static str {
        match self {
            LocPrecision::Exact => "exact",
            LocPrecision::Near => "near",
            LocPrecision::Region => "region",
            LocPrecision::Unknown => "unknown",
        }
    }

    /// Reads a precision column value: a name or an ACLED `geo_precision` code (1 = the
    /// town/site itself, 2 = near it, 3 = only the region).
    pub fn parse(s: &str) -> Option<LocPrecision> {
        match crate::text::ascii_lower(crate::text::trim(s), &mut [0; 16])? {
            "1" | "exact" | "site" | "exact site" | "point" => Some(LocPrecision::Exact),
            "2" | "near" | "town" | "near town" | "approximate" => Some(LocPrecision::Near),
            "3" | "region" | "province" | "district" | "admin" => Some(LocPrecision::Region),
            "" | "unknown" => Some(LocPrecision::Unknown),
            _ => None,
        }
    }
}

/// Something wrong with one row (or one file) of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file as the user named it.
    pub file: String,
    /// 1-based physical line where the record starts (0 when it concerns the whole file).
    pub line: u64,
    /// The column concerned, when one is.
    pub column: Option<String>,
    /// What is wrong, in words.
    pub message: String,
    /// Whether the row was left out (a warning keeps the row).
    pub skipped: bool,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0 concerns the whole file: no line to name, and no row kept.
        match self.line {
            0 => write!(f, "{}: ", self.file)?,
            line => write!(f, "{}:{line}: ", self.file)?,
        }
        if let Some(c) = &self.column {
            write!(f, "{c}: ")?;
        }
        write!(f, "{}", self.message)?;
        if !self.skipped && self.line > 0 {
            write!(f, " (kept)")?;
        }
        Ok(())
    }
}
