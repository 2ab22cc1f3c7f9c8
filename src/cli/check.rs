//! `incident-map check`: the summary of a source — counts, dates, types, area — and every
//! problem found while loading it.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde_json::json;

use super::args::ColumnArgs;
use super::{BAD_INPUT, OK, fail, open, print_errors};
use crate::progress::Control;
use crate::query::Filter;
use crate::query::counts::Summary;
use crate::source::{Fetch, Report, Source};

/// `check` arguments.
#[derive(Debug, Args)]
pub struct CheckCmd {
    /// Incident files or directories, or one table: 'postgresql://USER@HOST/DB?table=NAME'.
    #[arg(required = true, value_name = "SOURCE")]
    pub files: Vec<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Add load timings (milliseconds) to the JSON.
    #[arg(long)]
    pub timings: bool,
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// `incident-map check`.
pub fn run(a: &CheckCmd, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let src = match open(&a.files, &a.columns, err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let sum = match src.summary(&Control::default()) {
        Ok(s) => s,
        Err(e) => return fail(err, BAD_INPUT, e),
    };
    let r = &*src.report();
    if a.json {
        let v = summary_json(&sum, r, a.timings.then(|| timings(&*src)).flatten());
        let _ = serde_json::to_writer(&mut *out, &v);
        let _ = writeln!(out);
    } else {
        print_text(&sum, r, out);
    }
    print_errors(r, err);
    if r.errors.is_empty() { OK } else { BAD_INPUT }
}

/// Load timings of files (parse, sort, cluster index), in milliseconds; none for a table.
fn timings(src: &dyn Source) -> Option<serde_json::Value> {
    // The incidents first: a summary left them in file order, and the date order's time is in
    // the report once they are in it.
    let all = src
        .incidents(&Filter::default(), &Fetch::up_to(0), &Control::default())
        .ok()?;
    let (parse, index) = src.report().timings?;
    let t = Instant::now();
    drop(all.index());
    let cluster = t.elapsed().as_secs_f64() * 1000.0;
    let ms = |v: f64| (v * 10.0).round() / 10.0;
    Some(json!({"parse": ms(parse), "index": ms(index), "cluster": ms(cluster)}))
}

/// What `check --json` prints: the summary, the problems and the files that failed.
pub fn summary_json(
    sum: &Summary,
    r: &Report,
    timings: Option<serde_json::Value>,
) -> serde_json::Value {
    let mut v = serde_json::to_value(sum).unwrap_or_default();
    let problems: Vec<_> = r
        .problems
        .iter()
        .map(|p| json!({"file": p.file, "line": p.line, "column": p.column, "message": p.message, "skipped": p.skipped}))
        .collect();
    let errors: Vec<_> = r
        .errors
        .iter()
        .map(|e| json!({"file": e.file, "message": e.error.to_string()}))
        .collect();
    v["problems"] = json!(problems);
    v["errors"] = json!(errors);
    if let Some(t) = timings {
        v["timings_ms"] = t;
    }
    v
}

fn print_text(sum: &Summary, r: &Report, out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "{} incidents loaded, {} rows skipped, from {} file(s)",
        sum.incidents,
        sum.skipped,
        sum.files.len()
    );
    if let (Some(a), Some(b)) = (&sum.date_min, &sum.date_max) {
        let _ = writeln!(out, "dates: {a} to {b}");
    }
    if let Some([x0, y0, x1, y1]) = sum.bbox {
        let _ = writeln!(out, "area:  lon {x0} to {x1}, lat {y0} to {y1}");
    }
    let mut types: Vec<(&String, &u64)> = sum.types.iter().collect();
    types.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    if !types.is_empty() {
        let _ = writeln!(out, "types:");
        let w = types.iter().map(|t| t.0.chars().count()).max().unwrap_or(0);
        for (name, n) in types {
            let _ = writeln!(out, "  {name:<w$}  {n}");
        }
    }
    if !r.problems.is_empty() {
        let _ = writeln!(out, "problems ({}):", r.problems.len());
        for p in &r.problems {
            let _ = writeln!(out, "  {p}");
        }
    }
}
