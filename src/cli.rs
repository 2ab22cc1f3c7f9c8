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

use crate::date::format_day;
use crate::export::{ExportError, Viewport, ViewportError};
use crate::import::{FileError, LoadError, LoadResult, Overrides, load_paths};
use crate::output::OutFormat;
use crate::query::{BBox, Filter, FilterError, Near, Selection};
use crate::store::Store;
use crate::view::offscreen::RendererChoice;
use crate::view::tiles::BaseLayer;

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
    /// Filters the window starts with (over the last session's).
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// The base layer: at most one of these.
#[derive(Debug, Clone, Default, Args)]
#[group(multiple = false)]
pub struct BaseChoice {
    /// Base layer: OpenStreetMap tiles (offline basemap where tiles are missing) or only the offline basemap.
    #[arg(long, value_enum, value_name = "KIND")]
    pub basemap: Option<BasemapKind>,
    /// Another XYZ tile server: URL template with {z}, {x} and {y}.
    #[arg(long, value_name = "TEMPLATE", value_parser = parse_template)]
    pub tile_url: Option<String>,
    /// A local raster PMTiles archive as the base layer.
    #[arg(long, value_name = "FILE")]
    pub pmtiles: Option<PathBuf>,
    /// Only the bundled offline basemap (no tile requests); the same as --basemap offline.
    #[arg(long)]
    pub offline: bool,
}

/// Base layer choice, shared by the window and exports.
#[derive(Debug, Clone, Default, Args)]
pub struct BaseArgs {
    /// Which base layer.
    #[command(flatten)]
    pub choice: BaseChoice,
    /// Attribution the --tile-url server or --pmtiles data requires.
    #[arg(long, value_name = "TEXT")]
    pub tile_attribution: Option<String>,
}

/// `--basemap` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BasemapKind {
    /// OpenStreetMap tiles over the offline basemap.
    Osm,
    /// Only the offline basemap.
    Offline,
}

fn parse_template(s: &str) -> Result<String, String> {
    crate::view::tiles::check_template(s)
        .map(|_| s.trim().to_string())
        .map_err(|e| e.to_string())
}

impl BaseArgs {
    /// The base layer asked for, if any: the one function from flags to a [`BaseLayer`].
    pub fn base(&self) -> Result<Option<BaseLayer>, String> {
        let c = &self.choice;
        let attribution = self.tile_attribution.clone().unwrap_or_default();
        if self.tile_attribution.is_some() && c.tile_url.is_none() && c.pmtiles.is_none() {
            return Err("--tile-attribution goes with --tile-url or --pmtiles".into());
        }
        Ok(if c.offline || c.basemap == Some(BasemapKind::Offline) {
            Some(BaseLayer::Offline)
        } else if c.basemap == Some(BasemapKind::Osm) {
            Some(BaseLayer::Osm)
        } else if let Some(t) = &c.tile_url {
            Some(BaseLayer::Xyz {
                template: t.clone(),
                attribution,
            })
        } else {
            c.pmtiles.as_ref().map(|p| BaseLayer::PmTiles {
                path: p.clone(),
                attribution,
            })
        })
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
    /// Load incident files into a PostgreSQL/PostGIS table (schema in README).
    Load(LoadCmd),
    /// Print what the map draws at a zoom: clusters with counts per type, as JSON.
    Clusters(ClustersCmd),
    /// List possible duplicate reports: same type, dates within N days, places within D km.
    Dupes(DupesCmd),
    /// Incidents per day, week or month by type: a CSV table or a stacked bar chart PNG.
    Chart(ChartCmd),
}

/// `chart` arguments.
#[derive(Debug, Args)]
pub struct ChartCmd {
    /// Incident files or directories, or one table: 'postgresql://USER@HOST/DB?table=NAME'.
    #[arg(required = true, value_name = "SOURCE")]
    pub files: Vec<PathBuf>,
    /// Bar width.
    #[arg(long, value_enum)]
    pub every: crate::date::Every,
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

/// `dupes` arguments.
#[derive(Debug, Args)]
pub struct DupesCmd {
    /// Incident files or directories, or one table: 'postgresql://USER@HOST/DB?table=NAME'.
    #[arg(required = true, value_name = "SOURCE")]
    pub files: Vec<PathBuf>,
    /// Days allowed between two reports' date spans (0: they must overlap).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub days: u32,
    /// Kilometres allowed between two reports' positions (geodesic).
    #[arg(long, default_value_t = 5.0, value_name = "D", value_parser = parse_km)]
    pub km: f64,
    /// Print JSON: {"groups": [{"members": [{"file", "line", "date", "type", "place"}]}]}.
    #[arg(long)]
    pub json: bool,
    /// Filters (applied before grouping).
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// `load` arguments.
#[derive(Debug, Args)]
pub struct LoadCmd {
    /// Incident files or directories.
    #[arg(required = true, value_name = "FILE")]
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
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// `clusters` arguments.
#[derive(Debug, Args)]
pub struct ClustersCmd {
    /// Incident files or directories, or one table: 'postgresql://USER@HOST/DB?table=NAME'.
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Map zoom, 0–19.
    #[arg(long, value_parser = parse_zoom)]
    pub zoom: f64,
    /// Print JSON (the only output form).
    #[arg(long)]
    pub json: bool,
    /// Filters (--bbox also limits the view, as on the map).
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

fn parse_zoom(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(z) if (0.0..=19.0).contains(&z) => Ok(z),
        _ => Err(format!("'{s}' is not a zoom from 0 to 19")),
    }
}

/// `export` arguments.
#[derive(Debug, Args)]
pub struct ExportCmd {
    /// Incident files or directories, or one table URL (default: those of --view).
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
    /// Base layer.
    #[command(flatten)]
    pub base: BaseArgs,
    /// Graphics renderer: auto, vulkan, gl, software (Mesa's CPU renderers: the same pixels on any
    /// machine with the same Mesa), or part of an adapter's name. Default: $INCIDENT_MAP_RENDERER, else auto.
    #[arg(long, value_name = "NAME")]
    pub renderer: Option<String>,
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
    pub every: Option<crate::date::Every>,
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
    /// How incidents are drawn: symbols and clusters, density hexagons coloured on one scale
    /// for every date under the other filters, or a heat map (kernel density) on one scale for
    /// every date in the area drawn.
    #[arg(long, value_enum)]
    pub layer: Option<crate::density::Layer>,
    /// Small multiples: one panel per period FROM..TO (repeat, at least twice), side by side in
    /// one PNG, sharing the view and symbols, each with its own caption.
    #[arg(long = "compare", value_name = "FROM..TO", value_parser = parse_period, conflicts_with = "every")]
    pub compare: Vec<crate::export::compare::Period>,
    /// Range rings: LAT,LON,KM[,KM...] (geodesic circles labelled with their radius and the
    /// filtered incidents inside; repeatable).
    #[arg(long = "ring", value_name = "LAT,LON,KM[,KM...]", value_parser = parse_ring, allow_hyphen_values = true)]
    pub rings: Vec<crate::tools::Ring>,
    /// A text label: LAT,LON,TEXT (repeatable).
    #[arg(long = "label", value_name = "LAT,LON,TEXT", value_parser = parse_label, allow_hyphen_values = true)]
    pub labels: Vec<crate::tools::Label>,
    /// An arrow from the first point to the second: LAT,LON,LAT,LON (repeatable).
    #[arg(long = "arrow", value_name = "LAT,LON,LAT,LON", value_parser = parse_arrow, allow_hyphen_values = true)]
    pub arrows: Vec<crate::tools::Arrow>,
    /// Filters (--bbox also frames the map).
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

fn parse_latlon(s: &str) -> Result<(f64, f64), String> {
    crate::places::parse_position(s).ok_or_else(|| {
        format!(
            "'{s}' is not a position: LAT,LON in decimal degrees, degrees-minutes-seconds (33°47′10″N 42°26′28″E) or MGRS (38SLC 12345 67890)"
        )
    })
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
            type_column: self.type_column.clone(),
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
    #[arg(long, value_name = "BOX", value_parser = parse_bbox, allow_hyphen_values = true)]
    pub bbox: Option<BBox>,
    /// Only incidents whose sources disagree (see data/README.md: accounts, disputed).
    #[arg(long)]
    pub disputed: bool,
    /// Only incidents within --radius of this point (geodesic; the edge included).
    #[arg(long, value_name = "LAT,LON", value_parser = parse_latlon, allow_hyphen_values = true, requires = "radius")]
    pub near: Option<(f64, f64)>,
    /// Radius for --near, in kilometres.
    #[arg(long, value_name = "KM", value_parser = parse_km, requires = "near")]
    pub radius: Option<f64>,
    /// Only incidents inside the Polygon/MultiPolygon areas of a GeoJSON file (holes honoured).
    #[arg(long, value_name = "AREA.geojson", value_parser = parse_area)]
    pub within: Option<crate::area::Area>,
}

fn parse_period(s: &str) -> Result<crate::export::compare::Period, String> {
    crate::export::compare::Period::parse(s)
}

fn parse_ring(s: &str) -> Result<crate::tools::Ring, String> {
    crate::tools::Ring::parse(s).map_err(|e| e.to_string())
}

fn parse_label(s: &str) -> Result<crate::tools::Label, String> {
    crate::tools::Label::parse(s).map_err(|e| e.to_string())
}

fn parse_arrow(s: &str) -> Result<crate::tools::Arrow, String> {
    crate::tools::Arrow::parse(s).map_err(|e| e.to_string())
}

fn parse_km(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() && v <= 20_100.0 => Ok(v),
        _ => Err(format!(
            "'{s}' is not a distance in kilometres (more than 0, at most 20100)"
        )),
    }
}

fn parse_area(s: &str) -> Result<crate::area::Area, String> {
    crate::area::Area::read(std::path::Path::new(s)).map_err(|e| e.to_string())
}

fn parse_day(s: &str) -> Result<i32, String> {
    crate::date::parse_ymd(s).map_err(|e| e.to_string())
}

fn parse_bbox(s: &str) -> Result<BBox, String> {
    BBox::parse(s).map_err(|e| e.to_string())
}

impl FilterArgs {
    /// The one function from FILTERS flags to a [`Filter`]: the flags given replace those parts
    /// of `base` (a saved view's or the last session's filter, or the default). Fails, naming
    /// the flags, when the dates end up reversed.
    pub fn apply(&self, base: Filter) -> Result<Filter, String> {
        let f = base.overlay(&self.filter());
        f.check().map_err(|e| match e {
            FilterError::Reversed { from, to } => format!(
                "--from {} is after --to {}",
                format_day(from),
                format_day(to)
            ),
            other => other.to_string(),
        })?;
        Ok(f)
    }

    /// The flags given, as a filter (unchecked; see [`FilterArgs::apply`]).
    pub fn filter(&self) -> Filter {
        Filter {
            from: self.from,
            to: self.to,
            types: self.types.clone(),
            text: self.text.clone(),
            bbox: self.bbox,
            disputed: self.disputed,
            near: self
                .near
                .zip(self.radius)
                .map(|((lat, lon), km)| Near { lat, lon, km }),
            within: self.within.clone(),
        }
    }
}

/// `check` arguments.
#[derive(Debug, Args)]
pub struct CheckArgs {
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
        Some(Command::Load(a)) => load(&a, err),
        Some(Command::Clusters(a)) => clusters(&a, out, err),
        Some(Command::Dupes(a)) => dupes(&a, out, err),
        Some(Command::Chart(a)) => chart(&a, err),
        None => {
            // A table URL opens the table (alone); a bad one is a usage error now.
            let files: Vec<String> = cli
                .files
                .iter()
                .map(|f| f.to_string_lossy().into_owned())
                .collect();
            if let Err(m) = db_source(&files) {
                let _ = writeln!(err, "error: {m}");
                return USAGE;
            }
            if let Some(missing) = cli
                .files
                .iter()
                .find(|f| !f.exists() && !crate::db::is_db_url(&f.to_string_lossy()))
            {
                let _ = writeln!(
                    err,
                    "error: {}: no such file or directory, and not a command (check, filter)",
                    missing.display()
                );
                return USAGE;
            }
            if let Some(p) = &cli.base.choice.pmtiles
                && !p.is_file()
            {
                let _ = writeln!(err, "error: --pmtiles {}: no such file", p.display());
                return USAGE;
            }
            let base = match cli.base.base() {
                Ok(b) => b,
                Err(m) => {
                    let _ = writeln!(err, "error: {m}");
                    return USAGE;
                }
            };
            // Checked now so a mistake is a usage error, not a window that ignores it.
            if let Err(m) = cli.filter.apply(Filter::default()) {
                let _ = writeln!(err, "error: {m}");
                return USAGE;
            }
            crate::app::run_window(crate::app::WindowOptions {
                files: cli.files,
                base,
                filter: cli.filter.filter(),
                overrides: cli.columns.overrides(),
            })
        }
    }
}

/// Summary of a store for `check`.
pub fn summary_json(r: &LoadResult) -> serde_json::Value {
    let s = &r.store;
    let mut types: BTreeMap<&str, u64> = BTreeMap::new();
    for &k in &s.type_id {
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
                crate::store::Format::Kml => "kml",
                crate::store::Format::Shapefile => "shapefile",
                crate::store::Format::GeoPackage => "geopackage",
            };
            json!({"file": f.name, "format": format, "incidents": n})
        })
        .collect();
    json!({
        "incidents": s.len(),
        "disputed": s.disputed.iter().filter(|&&d| d).count(),
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

/// How many rows had problems, and the first five.
fn print_problem_summary(r: &LoadResult, err: &mut dyn Write) {
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

fn print_errors(r: &LoadResult, err: &mut dyn Write) {
    for e in &r.errors {
        let _ = writeln!(err, "{}", file_error_line(e));
    }
}

/// `incident-map check`.
pub fn check(a: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let sources: Vec<String> = a
        .files
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    match db_source(&sources) {
        Ok(Some(db)) => {
            if !a.json {
                let _ = writeln!(err, "error: a table is checked with --json");
                return USAGE;
            }
            return match crate::db::summary(&db) {
                Ok(v) => {
                    let _ = serde_json::to_writer(&mut *out, &v);
                    let _ = writeln!(out);
                    OK
                }
                Err(e) => {
                    let _ = writeln!(err, "error: {e}");
                    BAD_INPUT
                }
            };
        }
        Ok(None) => {}
        Err(m) => {
            let _ = writeln!(err, "error: {m}");
            return USAGE;
        }
    }
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
    for &k in &s.type_id {
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
    let f = match a.filter.apply(Filter::default()) {
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
    let r = match read_sources(&a.files, &a.columns, &f, usize::MAX) {
        Ok(r) => r,
        Err(code) => return report_source_error(code, err),
    };
    if !r.errors.is_empty() {
        print_errors(&r, err);
        let _ = writeln!(
            err,
            "error: nothing written because a file could not be loaded"
        );
        return BAD_INPUT;
    }
    print_problem_summary(&r, err);
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
    let res = match &a.out {
        Some(p) => crate::output::write_file(&r.store, &sel, a.format, p),
        None => {
            let mut buf = std::io::BufWriter::new(&mut *out);
            crate::output::write_as(&r.store, &sel, a.format, &mut buf)
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

/// Why sources could not be read: a usage error or a database error, already in words.
pub enum SourceError {
    /// Bad usage (exit 2).
    Usage(String),
    /// The database failed (exit 1).
    Db(crate::db::DbError),
}

fn report_source_error(e: SourceError, err: &mut dyn Write) -> i32 {
    match e {
        SourceError::Usage(m) => {
            let _ = writeln!(err, "error: {m}");
            USAGE
        }
        SourceError::Db(e) => {
            let _ = writeln!(err, "error: {e}");
            BAD_INPUT
        }
    }
}

/// Files, or the incidents of a table that match `filter` (at most `limit`).
fn read_sources(
    files: &[PathBuf],
    columns: &ColumnArgs,
    filter: &Filter,
    limit: usize,
) -> Result<LoadResult, SourceError> {
    let names: Vec<String> = files
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    match db_source(&names).map_err(SourceError::Usage)? {
        Some(db) => crate::db::fetch(&db, filter, limit).map_err(SourceError::Db),
        None => Ok(load_paths(files, &columns.overrides())),
    }
}

/// The table named among `sources`, if one is: a table is a source on its own.
fn db_source(sources: &[String]) -> Result<Option<crate::db::DbSource>, String> {
    let urls: Vec<&String> = sources.iter().filter(|s| crate::db::is_db_url(s)).collect();
    match (urls.len(), sources.len()) {
        (0, _) => Ok(None),
        (1, 1) => crate::db::DbSource::parse(urls[0])
            .map(Some)
            .map_err(|e| e.to_string()),
        _ => Err("a table is a source on its own: give one URL and no files".into()),
    }
}

/// `incident-map load`.
pub fn load(a: &LoadCmd, err: &mut dyn Write) -> i32 {
    use crate::db::{DbSource, LoadMode, schema::TableName};
    use std::io::IsTerminal;
    let table = match TableName::parse(&a.table) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "error: --table {e}");
            return USAGE;
        }
    };
    if !crate::db::is_db_url(&a.into) {
        let _ = writeln!(
            err,
            "error: --into takes postgresql://USER@HOST:PORT/DB, not '{}'",
            crate::text::clip(&crate::db::redact(&a.into))
        );
        return USAGE;
    }
    let db = match DbSource::with_table(&a.into, table, crate::db::redact(&a.into)) {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return USAGE;
        }
    };
    let r = load_paths(&a.files, &a.columns.overrides());
    if !r.errors.is_empty() {
        print_errors(&r, err);
        let _ = writeln!(
            err,
            "error: nothing loaded because a file could not be read"
        );
        return BAD_INPUT;
    }
    print_problem_summary(&r, err);
    let mode = if a.replace {
        LoadMode::Replace
    } else if a.append {
        LoadMode::Append
    } else {
        LoadMode::Create
    };
    let terminal = std::io::stderr().is_terminal();
    let mut last = std::time::Instant::now();
    let mut progress = |done: usize, total: usize| {
        if terminal && (last.elapsed().as_millis() >= 200 || done == total) {
            last = std::time::Instant::now();
            eprint!(
                "\rloading {done} of {total} incidents ({:.0} %)",
                100.0 * done as f64 / total.max(1) as f64
            );
        }
    };
    let t0 = std::time::Instant::now();
    let res = crate::db::load_into(&db, &r.store, mode, &mut progress);
    if terminal {
        eprintln!();
    }
    match res {
        Ok(n) => {
            let _ = writeln!(
                err,
                "loaded {n} incidents into {} ({} rows skipped) in {:.1} s",
                db.table,
                r.skipped,
                t0.elapsed().as_secs_f64()
            );
            OK
        }
        Err(crate::db::DbError::Exists(t)) => {
            let _ = writeln!(
                err,
                "error: table {t} already exists; add --replace to replace it or --append to add to it"
            );
            BAD_INPUT
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            BAD_INPUT
        }
    }
}

/// The sources read with the FILTERS applied (a table's matching rows fetched, up to
/// [`crate::db::fetch::FETCH_LIMIT`]): the data, the filter and the selection, or the exit code after the
/// message.
fn filtered_sources(
    files: &[PathBuf],
    columns: &ColumnArgs,
    filter: &FilterArgs,
    err: &mut dyn Write,
) -> Result<(LoadResult, Filter, Selection), i32> {
    let f = filter.apply(Filter::default()).map_err(|m| {
        let _ = writeln!(err, "error: {m}");
        USAGE
    })?;
    let r = read_sources(files, columns, &f, crate::db::fetch::FETCH_LIMIT)
        .map_err(|code| report_source_error(code, err))?;
    if !r.errors.is_empty() {
        print_errors(&r, err);
        return Err(BAD_INPUT);
    }
    print_problem_summary(&r, err);
    let sel = r.store.select(&f).map_err(|e| {
        let _ = writeln!(err, "error: {e}");
        BAD_INPUT
    })?;
    Ok((r, f, sel))
}

/// `incident-map chart`.
pub fn chart(a: &ChartCmd, err: &mut dyn Write) -> i32 {
    let ext = a
        .out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let png = match ext.as_deref() {
        Some("png") => true,
        Some("csv") => false,
        _ => {
            let _ = writeln!(
                err,
                "error: --out {} must end in .png or .csv",
                a.out.display()
            );
            return USAGE;
        }
    };
    if is_input(&a.out, &a.files) {
        let _ = writeln!(
            err,
            "error: --out {} is one of the input files; refusing to overwrite it",
            a.out.display()
        );
        return USAGE;
    }
    let (r, f, sel) = match filtered_sources(&a.files, &a.columns, &a.filter, err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let Some(c) = crate::chart::Chart::of(&r.store, &sel, a.every, f.from, f.to) else {
        let _ = writeln!(
            err,
            "error: nothing to chart: no incident matches, or the range has more than {} periods",
            crate::chart::MAX_PERIODS
        );
        return BAD_INPUT;
    };
    let written = if png {
        let title = a.title.clone().unwrap_or_else(|| {
            format!(
                "Incidents per {} — {}",
                match a.every {
                    crate::date::Every::Day => "day",
                    crate::date::Every::Week => "week",
                    crate::date::Every::Month => "month",
                },
                f.describe()
            )
        });
        let choice = a
            .renderer
            .as_deref()
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(RendererChoice::from_env);
        crate::export::Exporter::new(&choice)
            .and_then(|mut x| {
                let img = x.render_chart(&c, &title, a.width, a.height, 1)?;
                crate::export::write_png(
                    &a.out,
                    &img,
                    &crate::export::PngInfo::new(&x, Some(&title)),
                )
            })
            .map_err(|e| e.to_string())
    } else {
        crate::atomic::write_atomic(&a.out, |w| c.write_csv(w))
            .map_err(|e| format!("cannot write {}: {e}", a.out.display()))
    };
    match written {
        Ok(()) => {
            let _ = writeln!(
                err,
                "wrote {} ({} periods, {} incidents)",
                a.out.display(),
                c.periods.len(),
                c.total()
            );
            OK
        }
        Err(m) => {
            let _ = writeln!(err, "error: {m}");
            BAD_INPUT
        }
    }
}

/// `incident-map dupes`.
pub fn dupes(a: &DupesCmd, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let (r, _, sel) = match filtered_sources(&a.files, &a.columns, &a.filter, err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let s = &r.store;
    let rule = crate::dupes::Rule {
        days: a.days,
        km: a.km,
    };
    let groups = crate::dupes::groups(s, &sel.indices, rule);
    let member = |i: u32| {
        let i = i as usize;
        json!({
            "file": s.files[s.file[i] as usize].name,
            "line": s.line[i],
            "date": s.date_string(i),
            "type": s.type_name(i),
            "place": s.place_name(i),
        })
    };
    if a.json {
        let v = json!({"groups": groups.iter().map(|g| json!({"members": g.iter().map(|&i| member(i)).collect::<Vec<_>>()})).collect::<Vec<_>>()});
        let _ = serde_json::to_writer(&mut *out, &v);
        let _ = writeln!(out);
        return OK;
    }
    let in_groups: usize = groups.iter().map(Vec::len).sum();
    let _ = writeln!(
        out,
        "{} group(s) of possible duplicates ({in_groups} reports; same type, dates within {} day(s), within {} km)",
        groups.len(),
        a.days,
        a.km
    );
    for (k, g) in groups.iter().enumerate() {
        let _ = writeln!(out, "\ngroup {}:", k + 1);
        for &i in g {
            let i = i as usize;
            let _ = writeln!(
                out,
                "  {}  {}  {}  ({}:{})",
                s.date_string(i),
                crate::text::clean(s.type_name(i), false),
                crate::text::clean(s.place_name(i), false),
                s.files[s.file[i] as usize].name,
                s.line[i]
            );
        }
    }
    OK
}

/// `incident-map clusters`.
pub fn clusters(a: &ClustersCmd, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    use crate::cells::{file_cells, merge_cells, view_for};
    let f = match a.filter.apply(Filter::default()) {
        Ok(f) => f,
        Err(m) => {
            let _ = writeln!(err, "error: {m}");
            return USAGE;
        }
    };
    let (level, view, merge) = view_for(a.zoom, f.bbox);
    let cells = match db_source(&a.sources) {
        Err(m) => {
            let _ = writeln!(err, "error: {m}");
            return USAGE;
        }
        Ok(Some(db)) => match crate::db::cells(&db, &f, view, level) {
            Ok(c) => c,
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                return BAD_INPUT;
            }
        },
        Ok(None) => {
            let files: Vec<PathBuf> = a.sources.iter().map(PathBuf::from).collect();
            let r = load_paths(&files, &a.columns.overrides());
            if !r.errors.is_empty() {
                print_errors(&r, err);
                return BAD_INPUT;
            }
            let sel = match r.store.select(&f) {
                Ok(s) => s,
                Err(e) => {
                    let _ = writeln!(err, "error: {e}");
                    return BAD_INPUT;
                }
            };
            let index = crate::cluster::ClusterIndex::build(&r.store);
            file_cells(&r.store, &index, &sel, view, level)
        }
    };
    let clusters = merge_cells(cells, merge);
    let n: u64 = clusters.iter().map(|c| c.count).sum();
    let v = json!({"zoom": a.zoom, "incidents": n, "cells": clusters});
    let _ = serde_json::to_writer(&mut *out, &v);
    let _ = writeln!(out);
    OK
}

/// An export error as the command line says it: with the flags that set the value.
fn export_message(e: &ExportError) -> String {
    use crate::export::SizeError;
    match e {
        ExportError::Size(SizeError::Scale(s)) => format!("--scale must be 1, 2 or 3 (got {s})"),
        ExportError::Size(s @ SizeError::TooSmall { .. })
        | ExportError::Size(s @ SizeError::TooLarge { .. }) => {
            format!("{s} (--width, --height, --scale)")
        }
        ExportError::Viewport(ViewportError::OutsideMap { lat, lon, zoom }) => format!(
            "--center {lat},{lon} --zoom {zoom} is outside the map (latitude ±90, longitude ±180, zoom 0–19)"
        ),
        ExportError::TooManyFrames(n) => {
            format!(
                "--every gives {n} frames, too many (at most {}); use a longer period",
                crate::export::series::MAX_FRAMES
            )
        }
        other => other.to_string(),
    }
}

/// `incident-map export`.
pub fn export(a: &ExportCmd, err: &mut dyn Write) -> i32 {
    use crate::export::series::{SeriesSpec, write_series};
    use crate::export::{Exporter, PngInfo, Spec, view_file::ViewFile, write_png};
    let fail = |err: &mut dyn Write, code: i32, m: &str| {
        let _ = writeln!(err, "error: {m}");
        code
    };
    // Start from the view file, then apply the flags.
    let (mut files, mut spec) = match &a.view {
        Some(p) => match ViewFile::load(p).and_then(|v| {
            v.to_spec(p.parent().unwrap_or(std::path::Path::new(".")))
                .map_err(|error| crate::export::view_file::ViewFileError {
                    path: p.clone(),
                    error,
                })
        }) {
            Ok(x) => x,
            Err(e) => return fail(err, BAD_INPUT, &e.to_string()),
        },
        None => (Vec::new(), Spec::default()),
    };
    if !a.files.is_empty() {
        files = a.files.clone();
    }
    if files.is_empty() {
        return fail(err, USAGE, "no incident files: give FILE... or --view");
    }
    spec.filter = match a.filter.apply(spec.filter) {
        Ok(f) => f,
        Err(m) => return fail(err, USAGE, &m),
    };
    if let Some(b) = a.filter.bbox {
        spec.viewport = Viewport::BBox(b);
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
    match a.base.base() {
        Ok(Some(b)) => spec.base = b,
        Ok(None) => {}
        Err(m) => return fail(err, USAGE, &m),
    }
    spec.legend &= !a.no_legend;
    spec.caption &= !a.no_caption;
    if let Some(l) = a.layer {
        spec.layer = l;
    }
    spec.tools.rings.extend(a.rings.iter().cloned());
    spec.tools.labels.extend(a.labels.iter().cloned());
    spec.tools.arrows.extend(a.arrows.iter().cloned());
    if !(0.0..=600.0).contains(&a.tile_timeout) {
        return fail(
            err,
            USAGE,
            "--tile-timeout must be between 0 and 600 seconds",
        );
    }
    spec.tile_timeout = std::time::Duration::from_secs_f64(a.tile_timeout);
    if let Err(e) = spec.validate() {
        return fail(err, USAGE, &export_message(&e.into()));
    }
    if let Err(e) = spec.viewport.check() {
        return fail(err, USAGE, &export_message(&e.into()));
    }
    if let BaseLayer::PmTiles { path, .. } = &spec.base
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
    let r = match read_sources(
        &files,
        &a.columns,
        &spec.filter,
        crate::db::fetch::FETCH_LIMIT,
    ) {
        Ok(r) => r,
        Err(code) => return report_source_error(code, err),
    };
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
    let choice = a
        .renderer
        .as_deref()
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(RendererChoice::from_env);
    let mut exporter = match Exporter::new(&choice) {
        Ok(x) => x,
        Err(e) => return fail(err, BAD_INPUT, &export_message(&e)),
    };
    let index = crate::cluster::ClusterIndex::build(&r.store);
    let ctl = crate::progress::Control::default();
    if !a.compare.is_empty() {
        if a.compare.len() < 2 {
            return fail(err, USAGE, "--compare needs at least two periods");
        }
        return match crate::export::compare::render_compare(
            &mut exporter,
            &r.store,
            &index,
            &spec,
            &a.compare,
            &ctl,
        )
        .and_then(|(img, counts)| {
            write_png(
                &a.out,
                &img,
                &PngInfo::new(&exporter, spec.title.as_deref()),
            )
            .map(|_| (img, counts))
        }) {
            Ok((img, counts)) => {
                let _ = writeln!(
                    err,
                    "wrote {} ({}×{} px, {} panels: {} incidents)",
                    a.out.display(),
                    img.width(),
                    img.height(),
                    counts.len(),
                    counts
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(" / ")
                );
                OK
            }
            Err(e) => fail(err, BAD_INPUT, &export_message(&e)),
        };
    }
    match a.every {
        None => match exporter
            .render(&r.store, &index, &spec, &ctl)
            .and_then(|img| {
                write_png(
                    &a.out,
                    &img.image,
                    &PngInfo::new(&exporter, spec.title.as_deref()),
                )
                .map(|_| img)
            }) {
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
            Err(e) => fail(err, BAD_INPUT, &export_message(&e)),
        },
        Some(every) => {
            let series = SeriesSpec {
                every,
                cumulative: a.cumulative,
                out: a.out.clone(),
                gif: a.gif.clone().map(|g| (g, a.gif_delay)),
            };
            match write_series(&mut exporter, &r.store, &index, &spec, &series, &ctl) {
                Ok(done) => {
                    let _ = writeln!(
                        err,
                        "wrote {} frames and {}",
                        done.frames,
                        done.index.display()
                    );
                    OK
                }
                Err(e) => fail(err, BAD_INPUT, &export_message(&e)),
            }
        }
    }
}
