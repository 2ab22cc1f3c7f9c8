//! The command line: the clap arguments ([`args`]) and one file per command, each a library
//! function with its own test. Every command opens its data with [`crate::source::open`] and
//! asks the [`Source`] it gets, whatever its kind.
//!
//! Exit codes: 0 success (rows may have been skipped), 1 bad input (a file could not be loaded or
//! written, a database failed), 2 bad usage.

pub mod args;
pub mod bundle;
pub mod chart;
pub mod check;
pub mod clusters;
pub mod dupes;
pub mod edit;
pub mod evidence;
pub mod export;
pub mod filter;
pub mod geocode;
pub mod load;
pub mod window;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::import::{FileError, LoadError};
use crate::progress::Control;
use crate::query::Filter;
use crate::source::{Fetch, Incidents, OpenError, Report, Source};
use args::{BaseArgs, ColumnArgs, FilterArgs};

/// Exit code for success.
pub const OK: i32 = 0;
/// Exit code for bad input.
pub const BAD_INPUT: i32 = 1;
/// Exit code for bad usage.
pub const USAGE: i32 = 2;

/// incident-map: load, check, filter and map publicly reported security incidents.
///
/// With no command it opens the map window on FILEs (or, with none, the last session's files or
/// the bundled dataset).
#[derive(Debug, Parser)]
#[command(
    name = "incident-map",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do (none: open the window).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Incident files or directories to open in the window, or one table URL.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Base layer.
    #[command(flatten)]
    pub base: BaseArgs,
    /// Filters the window starts with (over the last session's).
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load incident files and summarise them: counts, dates, types, area and every problem.
    Check(check::CheckCmd),
    /// Write the incidents that match the filters as GeoJSON, CSV, KML or KMZ.
    Filter(filter::FilterCmd),
    /// Render the map of the matching incidents to PNG (and series, GIF), without a display.
    Export(Box<export::ExportCmd>),
    /// Load incidents into a PostgreSQL/PostGIS table (schema in README).
    Load(load::LoadCmd),
    /// Print what the map draws at a zoom: clusters with counts per type, as JSON.
    Clusters(clusters::ClustersCmd),
    /// List possible duplicate reports: same type, dates within N days, places within D km.
    Dupes(dupes::DupesCmd),
    /// Incidents per day, week or month by type: a CSV table or a stacked bar chart PNG.
    Chart(chart::ChartCmd),
    /// Record a new incident in a GeoJSON or CSV file or a table (checked like the window's form).
    Add(edit::AddCmd),
    /// Correct an incident: set fields, or move it.
    Edit(edit::EditCmd),
    /// Delete an incident.
    Delete(edit::DeleteCmd),
    /// The edits recorded for a file or a table (or one incident).
    History(edit::HistoryCmd),
    /// Give a position to the rows that name a place but have none, where the place is certain.
    Geocode(geocode::GeocodeCmd),
    /// Attach evidence files to an incident: copied into the evidence store with their SHA-256.
    Attach(evidence::AttachCmd),
    /// List the evidence kept with a file or table (or one incident).
    Evidence(evidence::EvidenceCmd),
    /// Take an item of evidence off its incident (the stored copy is kept; the reason logged).
    Detach(evidence::DetachCmd),
    /// Check the evidence: every stored file hashed again, the custody log's chain walked.
    Verify(evidence::VerifyCmd),
    /// Timestamp the evidence not yet timestamped, and the custody log's head (RFC 3161).
    Timestamp(evidence::TimestampCmd),
    /// A case bundle as a BagIt bag: the matching incidents, their evidence and custody lines.
    Bundle(bundle::BundleCmd),
}

/// Parses `args` (including the program name) and runs the command, writing to `out`/`err`.
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { USAGE } else { OK };
            let text = e.render().to_string();
            let _ = if e.use_stderr() {
                err.write_all(text.as_bytes())
            } else {
                out.write_all(text.as_bytes())
            };
            return code;
        }
    };
    match cli.command {
        Some(Command::Check(a)) => check::run(&a, out, err),
        Some(Command::Filter(a)) => filter::run(&a, out, err),
        Some(Command::Export(a)) => export::run(&a, err),
        Some(Command::Load(a)) => load::run(&a, err),
        Some(Command::Clusters(a)) => clusters::run(&a, out, err),
        Some(Command::Dupes(a)) => dupes::run(&a, out, err),
        Some(Command::Chart(a)) => chart::run(&a, err),
        Some(Command::Add(a)) => edit::run_add(&a, out, err),
        Some(Command::Edit(a)) => edit::run_edit(&a, err),
        Some(Command::Delete(a)) => edit::run_delete(&a, err),
        Some(Command::History(a)) => edit::run_history(&a, out, err),
        Some(Command::Geocode(a)) => geocode::run(&a, out, err),
        Some(Command::Attach(a)) => evidence::run_attach(&a, out, err),
        Some(Command::Evidence(a)) => evidence::run_list(&a, out, err),
        Some(Command::Detach(a)) => evidence::run_detach(&a, err),
        Some(Command::Verify(a)) => evidence::run_verify(&a, out, err),
        Some(Command::Timestamp(a)) => evidence::run_timestamp(&a, err),
        Some(Command::Bundle(a)) => bundle::run(&a, out, err),
        None => window::run(cli.files, &cli.base, &cli.filter, &cli.columns, err),
    }
}

/// Writes `error: {m}` and gives `code`.
fn fail(err: &mut dyn Write, code: i32, m: impl std::fmt::Display) -> i32 {
    let _ = writeln!(err, "error: {m}");
    code
}

/// The flags that fix a load error, for the command line's messages.
fn flag_hint(e: &LoadError) -> &'static str {
    match e {
        LoadError::NoCoordinates { .. } => "; name them with --lat and --lon",
        LoadError::NoDate { .. } => "; name it with --date",
        LoadError::UnknownColumn { .. } => " (check --lat, --lon, --date and --type-column)",
        _ => "",
    }
}

/// A load error as the command line prints it.
pub fn file_error_line(e: &FileError) -> String {
    format!("error: {e}{}", flag_hint(&e.error))
}

/// How many rows had problems, and the first five.
fn print_problem_summary(r: &Report, err: &mut dyn Write) {
    if r.problems.is_empty() {
        return;
    }
    let _ = writeln!(
        err,
        "{} problem(s) while loading ({} rows skipped); first:",
        r.problems.len(),
        r.skipped
    );
    for p in r.problems.iter().take(5) {
        let _ = writeln!(err, "  {p}");
    }
}

fn print_errors(r: &Report, err: &mut dyn Write) {
    for e in &r.errors {
        let _ = writeln!(err, "{}", file_error_line(e));
    }
}

/// Whether `out` is one of the input files (never overwrite what the user gave us).
fn is_input(out: &Path, inputs: &[PathBuf]) -> bool {
    let Ok(o) = std::fs::canonicalize(out) else {
        return false;
    };
    let (files, _) = crate::import::expand(inputs);
    files
        .iter()
        .any(|f| std::fs::canonicalize(f).is_ok_and(|c| c == o))
}

/// Refuses to write over an input, naming the flag.
fn refuse_input(
    out: &Path,
    inputs: &[PathBuf],
    flag: &str,
    err: &mut dyn Write,
) -> Result<(), i32> {
    if is_input(out, inputs) {
        let flag = if flag.is_empty() {
            String::new()
        } else {
            format!("{flag} ")
        };
        return Err(fail(
            err,
            USAGE,
            format!(
                "{flag}{} is one of the input files; refusing to overwrite it",
                out.display()
            ),
        ));
    }
    Ok(())
}

/// Opens the sources a command names. A bad table URL, or a table with files, is bad usage.
fn open(
    args: &[PathBuf],
    columns: &ColumnArgs,
    err: &mut dyn Write,
) -> Result<Arc<dyn Source>, i32> {
    crate::source::open(args, &columns.overrides(), &Control::default()).map_err(|e| match e {
        OpenError::Cancelled => fail(err, BAD_INPUT, e),
        other => fail(err, USAGE, other),
    })
}

/// Opens the sources and refuses to go on when a file could not be loaded (`what` says what
/// was not done), after printing the row problems' summary.
fn open_all(
    args: &[PathBuf],
    columns: &ColumnArgs,
    what: &str,
    err: &mut dyn Write,
) -> Result<Arc<dyn Source>, i32> {
    let src = open(args, columns, err)?;
    let r = &*src.report();
    if !r.errors.is_empty() {
        print_errors(r, err);
        return Err(fail(
            err,
            BAD_INPUT,
            format!("{what} because a file could not be loaded"),
        ));
    }
    print_problem_summary(r, err);
    Ok(src)
}

/// The incidents of `src` matching `f`, at most `limit` fetched one by one.
fn matching(
    src: &dyn Source,
    f: &Filter,
    limit: usize,
    err: &mut dyn Write,
) -> Result<Incidents, i32> {
    src.incidents(f, &Fetch::up_to(limit), &Control::default())
        .map_err(|e| fail(err, BAD_INPUT, e))
}

/// The FILTERS flags over the default filter, or the usage error.
fn filter_of(a: &FilterArgs, err: &mut dyn Write) -> Result<Filter, i32> {
    a.apply(Filter::default())
        .map_err(|e| fail(err, USAGE, args::filter_message(&e)))
}

/// Warns about types named in the filter that no incident has.
fn warn_unknown_types(f: &Filter, src: &dyn Source, err: &mut dyn Write) {
    if f.types.is_empty() {
        return;
    }
    let Ok(s) = src.summary(&Control::default()) else {
        return;
    };
    for t in &f.types {
        if !s.types.keys().any(|n| n.eq_ignore_ascii_case(t.trim())) {
            let _ = writeln!(err, "warning: no incidents of type '{t}' in the data");
        }
    }
}
