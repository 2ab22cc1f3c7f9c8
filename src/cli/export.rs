//! `incident-map export`: the map of the matching incidents as a PNG drawn off-screen (the
//! window's drawing path), or a series of frames, a GIF and a video, or small multiples.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::args::{BaseArgs, ColumnArgs, FilterArgs, filter_message};
use super::{BAD_INPUT, OK, USAGE, fail, matching, open_all, refuse_input, warn_unknown_types};
use crate::export::compare::Period;
use crate::export::series::{SeriesSpec, write_series};
use crate::export::video::{VideoError, VideoSpec};
use crate::export::view_file::ViewFile;
use crate::export::{ExportError, Exporter, PngInfo, Spec, Viewport, ViewportError, write_png};
use crate::query::Filter;
use crate::query::filters::latlon;
use crate::source::Incidents;
use crate::view::offscreen::RendererChoice;
use crate::view::tiles::BaseLayer;

/// `export` arguments.
#[derive(Debug, Args)]
pub struct ExportCmd {
    /// Incident files or directories, or one table URL (default: those of --view).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The image to write (atomically): PNG, or SVG / PDF (real vectors: layers as groups, text
    /// as text) by the name's extension. With --every: the name numbered frames are derived from
    /// (optional with --gif or --video).
    #[arg(long, value_name = "PATH", required_unless_present_any = ["gif", "video"])]
    pub out: Option<PathBuf>,
    /// Width in logical points (default 1600).
    #[arg(long, value_parser = clap::value_parser!(u32).range(100..=12000))]
    pub width: Option<u32>,
    /// Height in logical points (default 1000).
    #[arg(long, value_parser = clap::value_parser!(u32).range(100..=12000))]
    pub height: Option<u32>,
    /// Pixels per point: 1, 2 or 3.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3), conflicts_with = "paper")]
    pub scale: Option<u32>,
    /// A print size instead of --width/--height: A4, A3, A2, A1, A0, letter or tabloid
    /// (portrait). The layout is the same on every paper; symbols, text and lines grow with it.
    #[arg(long, value_name = "PAPER", conflicts_with_all = ["width", "height"])]
    pub paper: Option<crate::export::paper::Paper>,
    /// With --paper: the long side across.
    #[arg(long, requires = "paper")]
    pub landscape: bool,
    /// With --paper: the printer's resolution in dots per inch (PNG pixels; default 300).
    #[arg(long, requires = "paper", value_parser = clap::value_parser!(u32).range(72..=1200))]
    pub dpi: Option<u32>,
    /// Centre of the map, LAT,LON (with --zoom).
    #[arg(long, value_name = "LAT,LON", value_parser = latlon, allow_hyphen_values = true, requires = "zoom", conflicts_with = "bbox")]
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
    /// With --every: also write an MP4 video of the frames (H.264, plays in browsers).
    #[arg(long, value_name = "PATH.mp4", requires = "every")]
    pub video: Option<PathBuf>,
    /// Video frames a second, 1–60 (each period is one frame; default 2).
    #[arg(long, value_name = "N", requires = "video", value_parser = clap::value_parser!(u32).range(1..=60))]
    pub fps: Option<u32>,
    /// Seconds the video holds its last frame, 0–60 (default 2).
    #[arg(
        long,
        value_name = "SECONDS",
        requires = "video",
        allow_negative_numbers = true
    )]
    pub hold: Option<f64>,
    /// Write the image even when no incident matches (the map then frames the filter's area,
    /// else the data, else the default view).
    #[arg(long)]
    pub allow_empty: bool,
    /// How incidents are drawn: symbols and clusters, density hexagons coloured on one scale
    /// for every date under the other filters, or a heat map (kernel density) on one scale for
    /// every date in the area drawn.
    #[arg(long, value_enum)]
    pub layer: Option<crate::density::Layer>,
    /// Small multiples: one panel per period FROM..TO (repeat, at least twice), side by side in
    /// one PNG, sharing the view and symbols, each with its own caption.
    #[arg(long = "compare", value_name = "FROM..TO", value_parser = Period::parse, conflicts_with = "every")]
    pub compare: Vec<Period>,
    /// Range rings: LAT,LON,KM[,KM...] (geodesic circles labelled with their radius and the
    /// filtered incidents inside; repeatable).
    #[arg(long = "ring", value_name = "LAT,LON,KM[,KM...]", value_parser = crate::tools::Ring::parse, allow_hyphen_values = true)]
    pub rings: Vec<crate::tools::Ring>,
    /// A text label: LAT,LON,TEXT (repeatable).
    #[arg(long = "label", value_name = "LAT,LON,TEXT", value_parser = crate::tools::Label::parse, allow_hyphen_values = true)]
    pub labels: Vec<crate::tools::Label>,
    /// An arrow from the first point to the second: LAT,LON,LAT,LON (repeatable).
    #[arg(long = "arrow", value_name = "LAT,LON,LAT,LON", value_parser = crate::tools::Arrow::parse, allow_hyphen_values = true)]
    pub arrows: Vec<crate::tools::Arrow>,
    /// Filters (--bbox also frames the map).
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
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
        ExportError::Video(v @ VideoError::TooLarge { .. }) => {
            format!("{v} (--width, --height, --scale)")
        }
        ExportError::Video(VideoError::Fps(_)) => "--fps must be 1 to 60".into(),
        ExportError::Video(VideoError::Hold(_)) => "--hold must be 0 to 60 seconds".into(),
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
pub fn run(a: &ExportCmd, err: &mut dyn Write) -> i32 {
    match export(a, err) {
        Ok(code) | Err(code) => code,
    }
}

fn export(a: &ExportCmd, err: &mut dyn Write) -> Result<i32, i32> {
    // The image's format is its name's: another extension (.jpg, .bmp) would get a PNG under a
    // name that says otherwise. No extension (a pipe, /dev/stdout) is a PNG.
    if a.every.is_none()
        && let Some(ext) = a.out.as_ref().and_then(|o| o.extension())
    {
        let e = ext.to_string_lossy().to_ascii_lowercase();
        if !matches!(e.as_str(), "png" | "svg" | "pdf") {
            return Err(fail(
                err,
                USAGE,
                format!("--out: .{e} is not a format written here; name a .png, .svg or .pdf"),
            ));
        }
    }
    let (files, spec) = spec_of(a, err)?;
    for o in [a.out.as_ref(), a.gif.as_ref(), a.video.as_ref()]
        .into_iter()
        .flatten()
    {
        refuse_input(o, &files, "", err)?;
    }
    if let Some(v) = video_spec(a) {
        v.check()
            .and_then(|_| VideoSpec::frame_size(spec.width * spec.scale, spec.height * spec.scale))
            .map_err(|e| fail(err, USAGE, export_message(&e.into())))?;
    }
    if a.compare.len() == 1 {
        return Err(fail(err, USAGE, "--compare needs at least two periods"));
    }
    let src = open_all(&files, &a.columns, "nothing written", err)?;
    warn_unknown_types(&spec.filter, &*src, err);
    let inc = matching(
        &*src,
        &wanted(&spec.filter, &a.compare),
        crate::source::FETCH_LIMIT,
        err,
    )?;
    let count = match inc.store.select(&spec.filter) {
        Ok(s) => s.len(),
        Err(e) => return Err(fail(err, BAD_INPUT, e)),
    };
    if count == 0 && !a.allow_empty {
        return Err(fail(
            err,
            BAD_INPUT,
            "no incidents match the filters; nothing written (--allow-empty writes the map anyway)",
        ));
    }
    let choice = a
        .renderer
        .as_deref()
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(RendererChoice::from_env);
    let mut x = Exporter::new(&choice).map_err(|e| fail(err, BAD_INPUT, export_message(&e)))?;
    let done = if !a.compare.is_empty() {
        compare(a, &mut x, &inc, &spec)
    } else if let Some(every) = a.every {
        series(a, every, &mut x, &inc, &spec)
    } else {
        single(a, &mut x, &inc, &spec)
    };
    match done {
        Ok(line) => {
            let _ = writeln!(err, "{line}");
            Ok(OK)
        }
        Err(e) => Err(fail(err, BAD_INPUT, export_message(&e))),
    }
}

/// The incidents an export needs: the filter's, over every compared period.
fn wanted(f: &Filter, periods: &[Period]) -> Filter {
    if periods.is_empty() {
        return f.clone();
    }
    Filter {
        from: periods.iter().map(|p| p.from).min(),
        to: periods.iter().map(|p| p.to).max(),
        ..f.clone()
    }
}

/// The input files and the spec: a saved view's (if any), then the flags over it.
fn spec_of(a: &ExportCmd, err: &mut dyn Write) -> Result<(Vec<PathBuf>, Spec), i32> {
    let (mut files, mut spec) = match &a.view {
        Some(p) => ViewFile::load(p)
            .and_then(|v| {
                v.to_spec(p.parent().unwrap_or(std::path::Path::new(".")))
                    .map_err(|error| crate::export::view_file::ViewFileError {
                        path: p.clone(),
                        error,
                    })
            })
            .map_err(|e| fail(err, BAD_INPUT, e))?,
        None => (Vec::new(), Spec::default()),
    };
    if !a.files.is_empty() {
        files = a.files.clone();
    }
    if files.is_empty() {
        return Err(fail(
            err,
            USAGE,
            "no incident files: give FILE... or --view",
        ));
    }
    spec.filter = a
        .filter
        .apply(spec.filter)
        .map_err(|e| fail(err, USAGE, filter_message(&e)))?;
    apply_flags(a, &mut spec, err)?;
    Ok((files, spec))
}

/// The flags over the spec, checked (a mistake is bad usage, its message names the flags).
fn apply_flags(a: &ExportCmd, spec: &mut Spec, err: &mut dyn Write) -> Result<(), i32> {
    if let Some(b) = a.filter.bbox() {
        spec.viewport = Viewport::BBox(b);
    }
    if let (Some((lat, lon)), Some(zoom)) = (a.center, a.zoom) {
        spec.viewport = Viewport::Center { lat, lon, zoom };
    }
    spec.width = a.width.unwrap_or(spec.width);
    spec.height = a.height.unwrap_or(spec.height);
    spec.scale = a.scale.unwrap_or(spec.scale);
    if let Some(paper) = a.paper {
        spec.set_print(crate::export::paper::Print {
            paper,
            landscape: a.landscape,
            dpi: a.dpi.unwrap_or(300),
        });
    }
    if a.title.is_some() {
        spec.title = a.title.clone();
    }
    if let Some(b) = a.base.base().map_err(|e| fail(err, USAGE, e))? {
        spec.base = b;
    }
    spec.legend &= !a.no_legend;
    spec.caption &= !a.no_caption;
    if let Some(l) = a.layer {
        spec.layer = l;
    }
    spec.tools.rings.extend(a.rings.iter().cloned());
    spec.tools.labels.extend(a.labels.iter().cloned());
    spec.tools.arrows.extend(a.arrows.iter().cloned());
    spec.tools
        .check()
        .map_err(|e| fail(err, USAGE, format!("--ring, --label, --arrow: {e}")))?;
    if !(0.0..=600.0).contains(&a.tile_timeout) {
        return Err(fail(
            err,
            USAGE,
            "--tile-timeout must be between 0 and 600 seconds",
        ));
    }
    spec.tile_timeout = std::time::Duration::from_secs_f64(a.tile_timeout);
    spec.validate()
        .map_err(|e| fail(err, USAGE, export_message(&e.into())))?;
    spec.viewport
        .check()
        .map_err(|e| fail(err, USAGE, export_message(&e.into())))?;
    if let BaseLayer::PmTiles { path, .. } = &spec.base
        && let Some(why) = super::args::pmtiles_problem(path)
    {
        return Err(fail(err, USAGE, why));
    }
    Ok(())
}

fn single(
    a: &ExportCmd,
    x: &mut Exporter,
    inc: &Incidents,
    spec: &Spec,
) -> Result<String, ExportError> {
    let out = a.out.as_ref().ok_or(ExportError::NoSeriesOutput)?;
    if crate::export::vector::is_vector(out) {
        let counts = crate::export::vector::write_map(
            x,
            (&inc.store, &inc.index()),
            spec,
            &[],
            (out, &Default::default()),
        )?;
        return Ok(format!(
            "wrote {} ({}×{} pt, vectors, {} incidents)",
            out.display(),
            spec.points().x.round(),
            spec.points().y.round(),
            counts.iter().sum::<usize>()
        ));
    }
    let img = x.render(&inc.store, &inc.index(), spec, &Default::default())?;
    write_png(out, &img.image, &PngInfo::new(x, spec.title.as_deref()))?;
    Ok(format!(
        "wrote {} ({}×{} px, {} incidents)",
        out.display(),
        img.image.width(),
        img.image.height(),
        img.count
    ))
}

fn compare(
    a: &ExportCmd,
    x: &mut Exporter,
    inc: &Incidents,
    spec: &Spec,
) -> Result<String, ExportError> {
    let out = a.out.as_ref().ok_or(ExportError::NoSeriesOutput)?;
    let list = |counts: &[usize]| {
        counts
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(" / ")
    };
    if crate::export::vector::is_vector(out) {
        let counts = crate::export::vector::write_map(
            x,
            (&inc.store, &inc.index()),
            spec,
            &a.compare,
            (out, &Default::default()),
        )?;
        return Ok(format!(
            "wrote {} ({} panels: {} incidents)",
            out.display(),
            counts.len(),
            list(&counts)
        ));
    }
    let (img, counts) = crate::export::compare::render_compare(
        x,
        &inc.store,
        &inc.index(),
        spec,
        &a.compare,
        &Default::default(),
    )?;
    write_png(out, &img, &PngInfo::new(x, spec.title.as_deref()))?;
    Ok(format!(
        "wrote {} ({}×{} px, {} panels: {} incidents)",
        out.display(),
        img.width(),
        img.height(),
        counts.len(),
        list(&counts)
    ))
}

/// The video the flags ask for, if any.
fn video_spec(a: &ExportCmd) -> Option<VideoSpec> {
    let mut v = VideoSpec::new(a.video.clone()?);
    v.fps = a.fps.unwrap_or(v.fps);
    v.hold = a.hold.unwrap_or(v.hold);
    Some(v)
}

fn series(
    a: &ExportCmd,
    every: crate::date::Every,
    x: &mut Exporter,
    inc: &Incidents,
    spec: &Spec,
) -> Result<String, ExportError> {
    let series = SeriesSpec {
        every,
        cumulative: a.cumulative,
        out: a.out.clone(),
        gif: a.gif.clone().map(|g| (g, a.gif_delay)),
        video: video_spec(a),
    };
    let done = write_series(
        x,
        &inc.store,
        &inc.index(),
        spec,
        &series,
        &Default::default(),
    )?;
    Ok(format!("wrote {}", done.describe(&series)))
}
