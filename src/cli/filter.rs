//! `incident-map filter`: the incidents that match the filters, written as GeoJSON, CSV, KML or
//! KMZ with every original field.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::args::{ColumnArgs, FilterArgs};
use super::{BAD_INPUT, OK, fail, filter_of, matching, open_all, refuse_input, warn_unknown_types};
use crate::output::OutFormat;

/// `filter` arguments.
#[derive(Debug, Args)]
pub struct FilterCmd {
    /// Incident files or directories, or one table: 'postgresql://USER@HOST/DB?table=NAME'.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: OutFormat,
    /// Write here (atomically) instead of to standard output.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// `incident-map filter`.
pub fn run(a: &FilterCmd, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match write(a, out, err) {
        Ok(code) | Err(code) => code,
    }
}

fn write(a: &FilterCmd, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, i32> {
    let f = filter_of(&a.filter, err)?;
    if let Some(p) = &a.out {
        refuse_input(p, &a.files, "--out", err)?;
    }
    let src = open_all(&a.files, &a.columns, "nothing written", err)?;
    warn_unknown_types(&f, &*src, err);
    let inc = matching(&*src, &f, usize::MAX, err)?;
    let (store, sel) = (&*inc.store, &inc.selection);
    let res = match &a.out {
        Some(p) => crate::output::write_file(store, sel, a.format, p),
        None => {
            let mut buf = std::io::BufWriter::new(&mut *out);
            crate::output::write_as(store, sel, a.format, &mut buf)
                .and_then(|_| Ok(buf.flush()?))
                .map_err(|error| crate::output::OutputError {
                    target: crate::output::Target::Stdout,
                    error,
                })
        }
    };
    if let Err(e) = res {
        return Err(fail(err, BAD_INPUT, e));
    }
    let total = match src.summary(&crate::progress::Control::default()) {
        Ok(s) => s.incidents,
        Err(_) => sel.len() as u64,
    };
    let _ = writeln!(
        err,
        "{} of {total} incidents match ({})",
        sel.len(),
        f.describe()
    );
    Ok(OK)
}
