//! `incident-map chart`: incidents per day, week or month by type, as a CSV table or a stacked
//! bar chart PNG.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::args::{ColumnArgs, FilterArgs};
use super::{BAD_INPUT, OK, USAGE, fail, filter_of, matching, open_all, refuse_input};
use crate::chart::Chart;
use crate::date::Every;
use crate::view::offscreen::RendererChoice;

/// `chart` arguments.
#[derive(Debug, Args)]
pub struct ChartCmd {
    /// Incident files or directories, or one table: 'postgresql://USER@HOST/DB?table=NAME'.
    #[arg(required = true, value_name = "SOURCE")]
    pub files: Vec<PathBuf>,
    /// Bar width.
    #[arg(long, value_enum)]
    pub every: Every,
    /// Output: a .csv table or a .png chart (written atomically).
    #[arg(long, value_name = "chart.png|chart.csv")]
    pub out: PathBuf,
    /// The chart's title (PNG; default: the filter in words).
    #[arg(long)]
    pub title: Option<String>,
    /// PNG size in points.
    #[arg(long, default_value_t = 1200, value_parser = clap::value_parser!(u32).range(300..=8000))]
    pub width: u32,
    /// PNG height in points.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u32).range(200..=8000))]
    pub height: u32,
    /// Graphics renderer for the PNG (as for export).
    #[arg(long, value_name = "NAME")]
    pub renderer: Option<String>,
    /// Filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// `incident-map chart`.
pub fn run(a: &ChartCmd, err: &mut dyn Write) -> i32 {
    match write(a, err) {
        Ok(code) | Err(code) => code,
    }
}

fn write(a: &ChartCmd, err: &mut dyn Write) -> Result<i32, i32> {
    let ext = a
        .out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("png" | "csv") => {}
        _ => {
            let m = format!("--out {} must end in .png or .csv", a.out.display());
            return Err(fail(err, USAGE, m));
        }
    }
    refuse_input(&a.out, &a.files, "--out", err)?;
    let f = filter_of(&a.filter, err)?;
    let src = open_all(&a.files, &a.columns, "nothing written", err)?;
    let inc = matching(&*src, &f, crate::source::FETCH_LIMIT, err)?;
    let Some(c) = Chart::of(&inc.store, &inc.selection, a.every, f.from, f.to) else {
        let m = format!(
            "nothing to chart: no incident matches, or the range has more than {} periods",
            crate::chart::MAX_PERIODS
        );
        return Err(fail(err, BAD_INPUT, m));
    };
    let title = a
        .title
        .clone()
        .unwrap_or_else(|| format!("Incidents per {} — {}", a.every.name(), f.describe()));
    let choice = a
        .renderer
        .as_deref()
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(RendererChoice::from_env);
    let written = crate::export::write_chart(&c, &title, &a.out, (a.width, a.height), &choice);
    if let Err(e) = written {
        return Err(fail(err, BAD_INPUT, e));
    }
    let _ = writeln!(
        err,
        "wrote {} ({} periods, {} incidents)",
        a.out.display(),
        c.periods.len(),
        c.total()
    );
    Ok(OK)
}
