//! `incident-map [FILE...]` with no command: the map window, after checking what can be checked
//! here (a mistake is a usage error, not a window that ignores it).

use std::io::Write;
use std::path::PathBuf;

use super::args::{BaseArgs, ColumnArgs, FilterArgs, filter_message};
use super::{USAGE, fail};
use crate::query::Filter;
use crate::source::OpenError;

/// Opens the window on `files` (or the last session's, or the bundled data).
pub fn run(
    files: Vec<PathBuf>,
    base: &BaseArgs,
    filter: &FilterArgs,
    columns: &ColumnArgs,
    err: &mut dyn Write,
) -> i32 {
    match crate::source::check(&files) {
        Ok(()) => {}
        Err(OpenError::NotFound(p)) => {
            let m = format!(
                "{}: no such file or directory, and not a command (check, filter)",
                p.display()
            );
            return fail(err, USAGE, m);
        }
        Err(e) => return fail(err, USAGE, e),
    }
    if let Some(why) = base
        .choice
        .pmtiles
        .as_deref()
        .and_then(super::args::pmtiles_problem)
    {
        return fail(err, USAGE, why);
    }
    let base = match base.base() {
        Ok(b) => b,
        Err(e) => return fail(err, USAGE, e),
    };
    if let Err(e) = filter.apply(Filter::default()) {
        return fail(err, USAGE, filter_message(&e));
    }
    crate::app::run_window(crate::app::WindowOptions {
        files,
        base,
        filter: filter.filter(),
        overrides: columns.overrides(),
        ..Default::default()
    })
}
