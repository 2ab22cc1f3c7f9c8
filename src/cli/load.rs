//! `incident-map load`: a source's incidents into a PostgreSQL/PostGIS table, in one
//! transaction, with the indexes, the change trigger and the precomputed cells.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::args::ColumnArgs;
use super::{BAD_INPUT, OK, USAGE, fail, matching, open_all};
use crate::db::{DbError, DbSource, LoadMode, schema::TableName};
use crate::query::Filter;

/// `load` arguments.
#[derive(Debug, Args)]
pub struct LoadCmd {
    /// Incident files or directories (or a table to copy).
    #[arg(required_unless_present = "upgrade", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The database: postgresql://USER@HOST:PORT/DB (password from the URL, PGPASSWORD or ~/.pgpass).
    #[arg(long, value_name = "URL")]
    pub into: String,
    /// The table to create (or replace, or append to).
    #[arg(long, value_name = "NAME")]
    pub table: String,
    /// Replace an existing table (in the same transaction: it stays as it was if the load fails).
    #[arg(long, conflicts_with = "append")]
    pub replace: bool,
    /// Add to an existing table.
    #[arg(long)]
    pub append: bool,
    /// Make the new table a Citus distributed table (hashed on id; needs the citus extension).
    #[arg(long, conflicts_with_all = ["append", "upgrade"])]
    pub distribute: bool,
    /// Bring a table made by an earlier version up to what editing needs (a version per row,
    /// the history): its owner runs this once; nothing is loaded.
    #[arg(long, conflicts_with_all = ["replace", "append", "files"])]
    pub upgrade: bool,
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// The table `load` writes, or the usage error.
fn destination(a: &LoadCmd, err: &mut dyn Write) -> Result<DbSource, i32> {
    let table = TableName::parse(&a.table).map_err(|e| fail(err, USAGE, format!("--table {e}")))?;
    if !crate::db::is_db_url(&a.into) {
        return Err(fail(
            err,
            USAGE,
            format!(
                "--into takes postgresql://USER@HOST:PORT/DB, not '{}'",
                crate::text::clip(&crate::db::redact(&a.into))
            ),
        ));
    }
    DbSource::with_table(&a.into, table, crate::db::redact(&a.into))
        .map_err(|e| fail(err, USAGE, e))
}

/// `incident-map load`.
pub fn run(a: &LoadCmd, err: &mut dyn Write) -> i32 {
    let db = match destination(a, err) {
        Ok(d) => d,
        Err(code) => return code,
    };
    if a.upgrade {
        return match crate::db::write::upgrade_table(&db) {
            Ok(()) => {
                let _ = writeln!(err, "table {} is ready for editing", db.table);
                OK
            }
            Err(e) => fail(err, BAD_INPUT, e),
        };
    }
    let (skipped, inc) =
        match open_all(&a.files, &a.columns, "nothing loaded", err).and_then(|src| {
            let inc = matching(&*src, &Filter::default(), usize::MAX, err)?;
            Ok((src.report().skipped, inc))
        }) {
            Ok(x) => x,
            Err(code) => return code,
        };
    let mode = if a.replace {
        LoadMode::Replace
    } else if a.append {
        LoadMode::Append
    } else {
        LoadMode::Create
    };
    let t0 = std::time::Instant::now();
    let res = crate::db::load_into(&db, &inc.store, (mode, a.distribute), &mut progress());
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprintln!();
    }
    match res {
        Ok(n) => {
            let _ = writeln!(
                err,
                "loaded {n} incidents into {} ({skipped} rows skipped) in {:.1} s",
                db.table,
                t0.elapsed().as_secs_f64()
            );
            OK
        }
        Err(DbError::Exists(t)) => fail(
            err,
            BAD_INPUT,
            format!(
                "table {t} already exists; add --replace to replace it or --append to add to it"
            ),
        ),
        Err(e) => fail(err, BAD_INPUT, e),
    }
}

/// Progress on a terminal, at most five times a second.
fn progress() -> impl FnMut(usize, usize) {
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut last = std::time::Instant::now();
    move |done: usize, total: usize| {
        if terminal && (last.elapsed().as_millis() >= 200 || done == total) {
            last = std::time::Instant::now();
            eprint!(
                "\rloading {done} of {total} incidents ({:.0} %)",
                100.0 * done as f64 / total.max(1) as f64
            );
        }
    }
}
