//! The command line: argument definitions and one library function per subcommand.
//!
//! Exit codes: 0 success (rows may have been skipped), 1 bad input (a file could not be loaded or
//! written), 2 bad usage.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::atomic::write_atomic;
use crate::date::format_day;
use crate::import::{FileError, LoadError, LoadResult, Overrides, load_paths};
use crate::output::{OutFormat, write_csv, write_geojson};
use crate::query::{BBox, Filter};
use crate::store::Store;

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
    /// Incident files or directories to open in the window.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Base layer.
    #[command(flatten)]
    pub base: BaseArgs,
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// Base layer choice, shared by the window and exports.
#[derive(Debug, Clone, Default, Args)]
pub struct BaseArgs {
    /// Another XYZ tile server: URL template with {z}, {x} and {y}.
    #[arg(long, value_name = "TEMPLATE", value_parser = parse_template)]
    pub tile_url: Option<String>,
    /// Attribution the --tile-url server requires.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub tile_attribution: String,
    /// A local raster PMTiles archive as the base layer.
    #[arg(long, value_name = "FILE", conflicts_with = "tile_url")]
    pub pmtiles: Option<PathBuf>,
    /// Only the bundled offline basemap (no tile requests).
    #[arg(long, conflicts_with_all = ["tile_url", "pmtiles"])]
    pub offline: bool,
}

fn parse_template(s: &str) -> Result<String, String> {
    crate::view::tiles::check_template(s).map(|_| s.trim().to_string())
}

impl BaseArgs {
    /// The base layer asked for, if any.
    pub fn base(&self) -> Option<crate::view::tiles::BaseLayer> {
        use crate::view::tiles::BaseLayer;
        if self.offline {
            Some(BaseLayer::Offline)
        } else if let Some(t) = &self.tile_url {
            Some(BaseLayer::Xyz {
                template: t.clone(),
                attribution: self.tile_attribution.clone(),
            })
        } else {
            self.pmtiles.as_ref().map(|p| BaseLayer::PmTiles {
                path: p.clone(),
                attribution: self.tile_attribution.clone(),
            })
        }
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load incident files and summarise them: counts, dates, types, area and every problem.
    Check(CheckArgs),
    /// Write the incidents that match the filters as GeoJSON or CSV.
    Filter(FilterCmd),
    /// Render the map of the matching incidents to PNG (and series, GIF), without a display.
    Export(Box<ExportCmd>),
}

/// `export` arguments.
#[derive(Debug, Args)]
pub struct ExportCmd {
    /// Incident files or directories (default: those of --view).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The PNG to write (atomically). With --every: the name numbered frames are derived from.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// Width in logical points (default 1600).
    #[arg(long, value_parser = clap::value_parser!(u32).range(100..=12000))]
    pub width: Option<u32>,
    /// Height in logical points (default 1000).
    #[arg(long, value_parser = clap::value_parser!(u32).range(100..=12000))]
    pub height: Option<u32>,
    /// Pixels per point: 1, 2 or 3.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3))]
    pub scale: Option<u32>,
    /// Centre of the map, LAT,LON (with --zoom).
    #[arg(long, value_name = "LAT,LON", value_parser = parse_latlon, allow_hyphen_values = true, requires = "zoom", conflicts_with = "bbox")]
    pub center: Option<(f64, f64)>,
    /// Zoom level 0–19 (with --center).
    #[arg(long, requires = "center")]
    pub zoom: Option<f64>,
    /// Title drawn at the top left.
    #[arg(long)]
    pub title: Option<String>,
    /// Base layer: OpenStreetMap tiles (offline basemap where tiles are missing) or only the offline basemap.
    #[arg(long, value_enum)]
    pub basemap: Option<BasemapKind>,
    /// Other tile sources.
    #[command(flatten)]
    pub tiles: BaseArgs,
    /// Seconds to wait for tiles in all before drawing the offline basemap in their place.
    #[arg(long, value_name = "SECS", default_value_t = 20.0)]
    pub tile_timeout: f64,
    /// A saved view (JSON); flags given here override it.
    #[arg(long, value_name = "VIEW.json")]
    pub view: Option<PathBuf>,
    /// Leave out the legend.
    #[arg(long)]
    pub no_legend: bool,
    /// Leave out the caption (filters and count).
    #[arg(long)]
    pub no_caption: bool,
    /// Write one numbered PNG per period across the date range, plus an index CSV.
    #[arg(long, value_enum)]
    pub every: Option<crate::export::Every>,
    /// With --every: each frame shows everything from the start of the range.
    #[arg(long, requires = "every")]
    pub cumulative: bool,
    /// With --every: also write an animated GIF of the frames.
    #[arg(long, value_name = "PATH", requires = "every")]
    pub gif: Option<PathBuf>,
    /// Milliseconds per GIF frame.
    #[arg(long, default_value_t = 700, value_parser = clap::value_parser!(u32).range(20..=60000))]
    pub gif_delay: u32,
    /// Write the image even when no incident matches.
    #[arg(long)]
    pub allow_empty: bool,
    /// Filters (--bbox also frames the map).
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// `--basemap` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BasemapKind {
    /// OpenStreetMap tiles over the offline basemap.
    Osm,
    /// Only the offline basemap.
    Offline,
}

fn parse_latlon(s: &str) -> Result<(f64, f64), String> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("'{s}' is not LAT,LON"))?;
    match v[..] {
        [lat, lon] if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) => {
            Ok((lat, lon))
        }
        _ => Err(format!("'{s}' is not LAT,LON within ±90, ±180")),
    }
}

/// Column overrides shared by every command that reads files.
#[derive(Debug, Clone, Default, Args)]
pub struct ColumnArgs {
    /// Column (or GeoJSON property) holding latitude.
    #[arg(long, value_name = "COL")]
    pub lat: Option<String>,
    /// Column holding longitude.
    #[arg(long, value_name = "COL")]
    pub lon: Option<String>,
    /// Column holding the date.
    #[arg(long, value_name = "COL")]
    pub date: Option<String>,
    /// Column holding the incident type.
    #[arg(long = "type-column", value_name = "COL")]
    pub type_column: Option<String>,
}

impl ColumnArgs {
    /// As importer overrides.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            lat: self.lat.clone(),
            lon: self.lon.clone(),
            date: self.date.clone(),
            kind: self.type_column.clone(),
        }
    }
}

/// The filters, the same for every command.
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// First day to include, YYYY-MM-DD (inclusive, on the incident's local date).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    pub from: Option<i32>,
    /// Last day to include, YYYY-MM-DD (inclusive).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    pub to: Option<i32>,
    /// Incident type to include, as `check` lists it (repeatable; case-insensitive).
    #[arg(long = "type", value_name = "NAME")]
    pub types: Vec<String>,
    /// Words to find in place, notes, actors and sources (case-insensitive).
    #[arg(long, value_name = "WORDS")]
    pub text: Option<String>,
    /// Area: min_lon,min_lat,max_lon,max_lat.
    #[arg(long, value_name = "BOX", value_parser = BBox::parse, allow_hyphen_values = true)]
    pub bbox: Option<BBox>,
}

fn parse_day(s: &str) -> Result<i32, String> {
    crate::date::parse_ymd(s)
}

impl FilterArgs {
    /// As a [`Filter`]. Fails when `from` is after `to`.
    pub fn filter(&self) -> Result<Filter, String> {
        if let (Some(a), Some(b)) = (self.from, self.to)
            && a > b
        {
            return Err(format!(
                "--from {} is after --to {}",
                format_day(a),
                format_day(b)
            ));
        }
        Ok(Filter {
            from: self.from,
            to: self.to,
            types: self.types.clone(),
            text: self.text.clone(),
            bbox: self.bbox,
        })
    }
}

/// `check` arguments.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Incident files or directories.
    #[arg(required = true, value_name = "FILE")]
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

/// `filter` arguments.
#[derive(Debug, Args)]
pub struct FilterCmd {
    /// Incident files or directories.
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
        Some(Command::Check(a)) => check(&a, out, err),
        Some(Command::Filter(a)) => filter(&a, out, err),
        Some(Command::Export(a)) => export(&a, err),
        None => {
            if let Some(missing) = cli.files.iter().find(|f| !f.exists()) {
                let _ = writeln!(
                    err,
                    "error: {}: no such file or directory, and not a command (check, filter)",
                    missing.display()
                );
                return USAGE;
            }
            if let Some(p) = &cli.base.pmtiles
                && !p.is_file()
            {
                let _ = writeln!(err, "error: --pmtiles {}: no such file", p.display());
                return USAGE;
            }
            crate::app::run_window(crate::app::WindowOptions {
                files: cli.files,
                base: cli.base.base(),
                overrides: cli.columns.overrides(),
            })
        }
    }
}

/// Summary of a store for `check`.
pub fn summary_json(r: &LoadResult) -> serde_json::Value {
    let s = &r.store;
    let mut types: BTreeMap<&str, u64> = BTreeMap::new();
    for &k in &s.kind {
        *types.entry(s.types.name(k)).or_default() += 1;
    }
    let (date_min, date_max) = match s.day_range() {
        Some((a, b)) => (json!(format_day(a)), json!(format_day(b))),
        None => (json!(null), json!(null)),
    };
    let bbox = bbox_of(s).map_or(json!(null), |b| json!(b));
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
    let mut per_file = vec![0u64; s.files.len()];
    for &f in &s.file {
        per_file[f as usize] += 1;
    }
    let files: Vec<_> = s
        .files
        .iter()
        .zip(per_file)
        .map(|(f, n)| {
            let format = match f.format {
                crate::store::Format::Csv { .. } if f.map.acled => "acled-csv",
                crate::store::Format::Csv { .. } => "csv",
                crate::store::Format::GeoJson => "geojson",
            };
            json!({"file": f.name, "format": format, "incidents": n})
        })
        .collect();
    json!({
        "incidents": s.len(),
        "skipped": r.skipped,
        "date_min": date_min,
        "date_max": date_max,
        "types": types,
        "bbox": bbox,
        "files": files,
        "problems": problems,
        "errors": errors,
    })
}

/// `[min_lon, min_lat, max_lon, max_lat]` of all incidents.
pub fn bbox_of(s: &Store) -> Option<[f64; 4]> {
    if s.is_empty() {
        return None;
    }
    let fold = |v: &[f64]| {
        v.iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            })
    };
    let (x0, x1) = fold(&s.lon);
    let (y0, y1) = fold(&s.lat);
    Some([x0, y0, x1, y1])
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

fn print_errors(r: &LoadResult, err: &mut dyn Write) {
    for e in &r.errors {
        let _ = writeln!(err, "{}", file_error_line(e));
    }
}

/// `incident-map check`.
pub fn check(a: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let r = load_paths(&a.files, &a.columns.overrides());
    let code = if r.errors.is_empty() { OK } else { BAD_INPUT };
    if a.json {
        let mut v = summary_json(&r);
        if a.timings {
            let t = Instant::now();
            let clusters = crate::cluster::ClusterIndex::build(&r.store);
            let cluster_ms = t.elapsed().as_secs_f64() * 1000.0;
            drop(clusters);
            let ms = |v: f64| (v * 10.0).round() / 10.0;
            v["timings_ms"] = json!({"parse": ms(r.parse_ms), "index": ms(r.index_ms), "cluster": ms(cluster_ms)});
        }
        let _ = serde_json::to_writer(&mut *out, &v);
        let _ = writeln!(out);
        print_errors(&r, err);
        return code;
    }
    let s = &r.store;
    let _ = writeln!(
        out,
        "{} incidents loaded, {} rows skipped, from {} file(s)",
        s.len(),
        r.skipped,
        s.files.len()
    );
    if let Some((a, b)) = s.day_range() {
        let _ = writeln!(out, "dates: {} to {}", format_day(a), format_day(b));
    }
    if let Some([x0, y0, x1, y1]) = bbox_of(s) {
        let _ = writeln!(out, "area:  lon {x0} to {x1}, lat {y0} to {y1}");
    }
    let mut counts = vec![0u64; s.types.len()];
    for &k in &s.kind {
        counts[k as usize] += 1;
    }
    let mut types: Vec<(&str, u64)> = s.types.names().zip(counts).collect();
    types.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
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
    print_errors(&r, err);
    code
}

/// Whether `out` is one of the input files (never overwrite what the user gave us).
fn is_input(out: &std::path::Path, inputs: &[PathBuf]) -> bool {
    let Ok(o) = std::fs::canonicalize(out) else {
        return false;
    };
    let (files, _) = crate::import::expand(inputs);
    files
        .iter()
        .any(|f| std::fs::canonicalize(f).is_ok_and(|c| c == o))
}

/// `incident-map filter`.
pub fn filter(a: &FilterCmd, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let f = match a.filter.filter() {
        Ok(f) => f,
        Err(m) => {
            let _ = writeln!(err, "error: {m}");
            return USAGE;
        }
    };
    if let Some(p) = &a.out
        && is_input(p, &a.files)
    {
        let _ = writeln!(
            err,
            "error: --out {} is one of the input files; refusing to overwrite it",
            p.display()
        );
        return USAGE;
    }
    let r = load_paths(&a.files, &a.columns.overrides());
    if !r.errors.is_empty() {
        print_errors(&r, err);
        let _ = writeln!(
            err,
            "error: nothing written because a file could not be loaded"
        );
        return BAD_INPUT;
    }
    if !r.problems.is_empty() {
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
    for t in f.unknown_types(&r.store) {
        let _ = writeln!(err, "warning: no incidents of type '{t}' in the data");
    }
    let sel = match r.store.select(&f) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return BAD_INPUT;
        }
    };
    let write = |w: &mut dyn Write| {
        match a.format {
            OutFormat::Geojson => write_geojson(&r.store, &sel, w),
            OutFormat::Csv => write_csv(&r.store, &sel, w),
        }
        .map_err(|e| match e {
            crate::output::WriteError::Io(e) => e,
            other => std::io::Error::other(other),
        })
    };
    let res = match &a.out {
        Some(p) => write_atomic(p, write).map_err(|e| format!("cannot write {}: {e}", p.display())),
        None => {
            let mut buf = std::io::BufWriter::new(&mut *out);
            write(&mut buf)
                .and_then(|_| buf.flush())
                .map_err(|e| format!("cannot write to standard output: {e}"))
        }
    };
    match res {
        Ok(()) => {
            let _ = writeln!(
                err,
                "{} of {} incidents match ({})",
                sel.len(),
                r.store.len(),
                f.describe()
            );
            OK
        }
        Err(m) => {
            let _ = writeln!(err, "error: {m}");
            BAD_INPUT
        }
    }
}

/// `incident-map export`.
pub fn export(a: &ExportCmd, err: &mut dyn Write) -> i32 {
    use crate::export::{
        Spec, Viewport, frame_path, render, render_series, view_file::ViewFile, write_gif,
        write_png,
    };
    let fail = |err: &mut dyn Write, code: i32, m: &str| {
        let _ = writeln!(err, "error: {m}");
        code
    };
    // Start from the view file, then apply the flags.
    let (mut files, mut spec) = match &a.view {
        Some(p) => match ViewFile::load(p)
            .and_then(|v| v.to_spec(p.parent().unwrap_or(std::path::Path::new("."))))
        {
            Ok(x) => x,
            Err(m) => return fail(err, BAD_INPUT, &m),
        },
        None => (Vec::new(), Spec::default()),
    };
    if !a.files.is_empty() {
        files = a.files.clone();
    }
    if files.is_empty() {
        return fail(err, USAGE, "no incident files: give FILE... or --view");
    }
    let f = &a.filter;
    if let (Some(x), Some(y)) = (f.from, f.to)
        && x > y
    {
        return fail(err, USAGE, "--from is after --to");
    }
    if f.from.is_some() {
        spec.filter.from = f.from;
    }
    if f.to.is_some() {
        spec.filter.to = f.to;
    }
    if !f.types.is_empty() {
        spec.filter.types = f.types.clone();
    }
    if f.text.is_some() {
        spec.filter.text = f.text.clone();
    }
    if let Some(b) = f.bbox {
        spec.filter.bbox = Some(b);
        spec.viewport = Viewport::BBox([b.min_lon, b.min_lat, b.max_lon, b.max_lat]);
    }
    if let (Some((lat, lon)), Some(zoom)) = (a.center, a.zoom) {
        spec.viewport = Viewport::Center { lat, lon, zoom };
    }
    spec.width = a.width.unwrap_or(spec.width);
    spec.height = a.height.unwrap_or(spec.height);
    spec.scale = a.scale.unwrap_or(spec.scale);
    if a.title.is_some() {
        spec.title = a.title.clone();
    }
    if let Some(b) = a.tiles.base() {
        spec.base = b;
    }
    match a.basemap {
        Some(BasemapKind::Offline) => spec.base = crate::view::tiles::BaseLayer::Offline,
        Some(BasemapKind::Osm) => spec.base = crate::view::tiles::BaseLayer::Osm,
        None => {}
    }
    spec.legend &= !a.no_legend;
    spec.caption &= !a.no_caption;
    if !(0.0..=600.0).contains(&a.tile_timeout) {
        return fail(
            err,
            USAGE,
            "--tile-timeout must be between 0 and 600 seconds",
        );
    }
    spec.tile_timeout = std::time::Duration::from_secs_f64(a.tile_timeout);
    if let Err(m) = spec.validate() {
        return fail(err, USAGE, &m);
    }
    if let crate::view::tiles::BaseLayer::PmTiles { path, .. } = &spec.base
        && !path.is_file()
    {
        return fail(
            err,
            USAGE,
            &format!("--pmtiles {}: no such file", path.display()),
        );
    }
    for o in [Some(&a.out), a.gif.as_ref()].into_iter().flatten() {
        if is_input(o, &files) {
            return fail(
                err,
                USAGE,
                &format!(
                    "{} is one of the input files; refusing to overwrite it",
                    o.display()
                ),
            );
        }
    }
    let r = load_paths(&files, &a.columns.overrides());
    if !r.errors.is_empty() {
        print_errors(&r, err);
        return fail(
            err,
            BAD_INPUT,
            "nothing written because a file could not be loaded",
        );
    }
    for t in spec.filter.unknown_types(&r.store) {
        let _ = writeln!(err, "warning: no incidents of type '{t}' in the data");
    }
    let count = match r.store.select(&spec.filter) {
        Ok(s) => s.len(),
        Err(e) => return fail(err, BAD_INPUT, &e.to_string()),
    };
    if count == 0 && !a.allow_empty {
        return fail(
            err,
            BAD_INPUT,
            "no incidents match the filters; nothing written (--allow-empty writes the map anyway)",
        );
    }
    let index = crate::cluster::ClusterIndex::build(&r.store);
    match a.every {
        None => match render(&r.store, &index, &spec)
            .and_then(|img| write_png(&a.out, &img.image).map(|_| img))
        {
            Ok(img) => {
                let _ = writeln!(
                    err,
                    "wrote {} ({}×{} px, {} incidents)",
                    a.out.display(),
                    img.image.width(),
                    img.image.height(),
                    img.count
                );
                OK
            }
            Err(m) => fail(err, BAD_INPUT, &m),
        },
        Some(every) => {
            let frames = match render_series(&r.store, &index, &spec, every, a.cumulative) {
                Ok(f) => f,
                Err(m) => return fail(err, BAD_INPUT, &m),
            };
            let mut index_csv = String::from("period_start,period_end,file,incidents\n");
            for (k, fr) in frames.iter().enumerate() {
                let p = frame_path(&a.out, k + 1);
                if let Err(m) = write_png(&p, &fr.image) {
                    return fail(err, BAD_INPUT, &m);
                }
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                index_csv.push_str(&format!(
                    "{},{},{},{}\n",
                    format_day(fr.start),
                    format_day(fr.end),
                    name,
                    fr.count
                ));
            }
            let index_path = a.out.with_file_name(format!(
                "{}_index.csv",
                a.out
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "frames".into())
            ));
            if let Err(e) = write_atomic(&index_path, |w| w.write_all(index_csv.as_bytes())) {
                return fail(
                    err,
                    BAD_INPUT,
                    &format!("cannot write {}: {e}", index_path.display()),
                );
            }
            if let Some(g) = &a.gif
                && let Err(m) = write_gif(g, &frames, a.gif_delay)
            {
                return fail(err, BAD_INPUT, &m);
            }
            let _ = writeln!(
                err,
                "wrote {} frames and {}",
                frames.len(),
                index_path.display()
            );
            OK
        }
    }
}
