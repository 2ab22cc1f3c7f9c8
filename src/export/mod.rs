//! PNG export: the window's map view ([`crate::view::map::show`]) drawn off-screen
//! ([`Offscreen`]), with title, caption, legend, scale bar and attribution. Also series of
//! frames (one per day, week or month) streamed to disk as they are drawn, animated GIFs and
//! MP4 videos.
//!
//! An [`Exporter`] keeps its renderer and tiles, so a series draws every frame with one device.
//! Work checks a [`Control`] for Cancel and reports progress to it, so the window can run exports
//! on a worker thread.

pub mod bundle;
pub mod compare;
pub mod h264;
pub mod mp4;
pub mod paper;
pub mod series;
pub mod vector;
pub mod video;
pub mod view_file;

use std::path::Path;
use std::time::{Duration, Instant};

use image::RgbaImage;
use walkers::{MapMemory, lon_lat};

use crate::cluster::{ClusterIndex, ClusterSel};
use crate::progress::Control;
use crate::query::{Filter, Selection};
use crate::store::{ReadError, Store};
use crate::view::map::{Caption, Scene, show};
use crate::view::offscreen::{Offscreen, RenderError, RendererChoice};
use crate::view::overlay::{LegendEntry, legend_entries};
use crate::view::tiles::{BaseLayer, TileError, TrackedTiles, make_tiles};
pub use crate::view::viewport::{Viewport, ViewportError};

/// Everything an export needs besides the data.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Filters.
    pub filter: Filter,
    /// View.
    pub viewport: Viewport,
    /// Width in logical points.
    pub width: u32,
    /// Height in logical points.
    pub height: u32,
    /// Pixels per point (1, 2 or 3).
    pub scale: u32,
    /// Optional title.
    pub title: Option<String>,
    /// Base layer.
    pub base: BaseLayer,
    /// Draw the legend.
    pub legend: bool,
    /// Draw the caption (filters and count).
    pub caption: bool,
    /// How long to wait for tiles in all.
    pub tile_timeout: Duration,
    /// Rings, labels and arrows.
    pub tools: crate::tools::Tools,
    /// Symbols or the density layer.
    pub layer: crate::density::Layer,
    /// A print size: paper, orientation and resolution (then `width` and `height` are its
    /// layout's points and `scale` is not used).
    pub print: Option<paper::Print>,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            filter: Filter::default(),
            viewport: Viewport::Fit,
            width: 1600,
            height: 1000,
            scale: 1,
            title: None,
            base: BaseLayer::Osm,
            legend: true,
            caption: true,
            tile_timeout: Duration::from_secs(20),
            tools: crate::tools::Tools::default(),
            layer: crate::density::Layer::Points,
            print: None,
        }
    }
}

/// Largest image side in pixels (memory stays bounded: 12k × 12k RGBA is 576 MiB).
pub const MAX_PIXELS_SIDE: u32 = 12_000;

/// Most pixels in a printed PNG (A0 at 300 dpi is 139.5 million: 558 MB as RGBA).
pub const MAX_PRINT_PIXELS: u64 = 160_000_000;

/// An image size that cannot be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// Scale other than 1, 2, 3.
    #[error("scale must be 1, 2 or 3 (got {0})")]
    Scale(u32),
    /// Under 100 points a side.
    #[error("image size {width}×{height} is too small (at least 100×100)")]
    TooSmall {
        /// Width in points.
        width: u32,
        /// Height in points.
        height: u32,
    },
    /// A print with more than [`MAX_PRINT_PIXELS`] pixels (as PNG).
    #[error("a {paper} print at {dpi} dpi is {width}×{height} pixels, more than {} million; choose a lower resolution, or PDF or SVG (vectors at any size)", MAX_PRINT_PIXELS / 1_000_000)]
    PrintTooLarge {
        /// The paper's name.
        paper: &'static str,
        /// Dots per inch.
        dpi: u32,
        /// Pixels across.
        width: u32,
        /// Pixels down.
        height: u32,
    },
    /// A resolution outside [`paper::DPI_RANGE`].
    #[error("resolution {0} dpi is outside 72–1200")]
    Dpi(u32),
    /// Over [`MAX_PIXELS_SIDE`] pixels a side.
    #[error("image size {width}×{height} at scale {scale} exceeds {MAX_PIXELS_SIDE} pixels a side")]
    TooLarge {
        /// Width in points.
        width: u32,
        /// Height in points.
        height: u32,
        /// Pixels per point.
        scale: u32,
    },
}

/// Why an export failed. Messages never name command-line flags: the CLI adds them.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExportError {
    /// A size that cannot be drawn.
    #[error(transparent)]
    Size(#[from] SizeError),
    /// A viewport that cannot be shown.
    #[error(transparent)]
    Viewport(#[from] ViewportError),
    /// A record could not be read back (text search).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// No graphics adapter, or it failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The base layer cannot be used.
    #[error(transparent)]
    Tiles(#[from] TileError),
    /// A file could not be written.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The image could not be encoded.
    #[error("cannot encode the image: {0}")]
    Encode(String),
    /// A series longer than [`series::MAX_FRAMES`].
    #[error("{0} frames is too many (at most {max}); use a longer period", max = series::MAX_FRAMES)]
    TooManyFrames(usize),
    /// A series with nothing to write.
    #[error("a series needs PNG frames, a GIF or a video to write")]
    NoSeriesOutput,
    /// A series over an empty range.
    #[error("the date range is empty")]
    EmptyRange,
    /// Nothing loaded.
    #[error("no incidents loaded")]
    NoData,
    /// The user pressed Cancel.
    #[error("export cancelled")]
    Cancelled,
    /// The video could not be made.
    #[error(transparent)]
    Video(#[from] video::VideoError),
}

impl ExportError {
    /// A write failure of `path`.
    pub fn write(path: &Path, e: impl std::fmt::Display) -> ExportError {
        ExportError::Write {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}

impl Spec {
    /// Pixels per point of the image: the print's, else the scale.
    pub fn pixels_per_point(&self) -> f32 {
        match &self.print {
            Some(p) => p.pixels_per_point(),
            None => self.scale as f32,
        }
    }

    /// The layout's size in points (a print's exactly its pixels over its pixels per point).
    pub fn points(&self) -> egui::Vec2 {
        match &self.print {
            Some(p) => p.points_exact().into(),
            None => egui::vec2(self.width as f32, self.height as f32),
        }
    }

    /// The image's width and height in pixels.
    pub fn pixel_size(&self) -> (u32, u32) {
        match &self.print {
            Some(p) => p.pixels(),
            None => (self.width * self.scale, self.height * self.scale),
        }
    }

    /// Sets the print size (and the layout's points it gives).
    pub fn set_print(&mut self, print: paper::Print) {
        (self.width, self.height) = print.points();
        self.print = Some(print);
    }

    /// Checks the size of a PNG (vector exports have no pixels).
    pub fn validate_pixels(&self) -> Result<(), SizeError> {
        if let Some(p) = &self.print {
            let (width, height) = p.pixels();
            if width as u64 * height as u64 > MAX_PRINT_PIXELS {
                return Err(SizeError::PrintTooLarge {
                    paper: p.paper.name(),
                    dpi: p.dpi,
                    width,
                    height,
                });
            }
        }
        Ok(())
    }

    /// Checks sizes.
    pub fn validate(&self) -> Result<(), SizeError> {
        if let Some(p) = &self.print {
            if !paper::DPI_RANGE.contains(&p.dpi) {
                return Err(SizeError::Dpi(p.dpi));
            }
            return Ok(());
        }
        if !(1..=3).contains(&self.scale) {
            return Err(SizeError::Scale(self.scale));
        }
        if self.width < 100 || self.height < 100 {
            return Err(SizeError::TooSmall {
                width: self.width,
                height: self.height,
            });
        }
        if self.width * self.scale > MAX_PIXELS_SIDE || self.height * self.scale > MAX_PIXELS_SIDE {
            return Err(SizeError::TooLarge {
                width: self.width,
                height: self.height,
                scale: self.scale,
            });
        }
        Ok(())
    }

    /// The centre (lon, lat) and zoom the viewport resolves to for a selection. With nothing
    /// selected (`--allow-empty`) a fitted map frames the filter's own area (`--within`,
    /// `--near`, `--bbox`), else the data's extent, else the default view.
    pub fn resolve(&self, store: &Store, sel: &Selection) -> Result<(f64, f64, f64), ExportError> {
        let fit = sel
            .bbox(store)
            .or_else(|| self.filter.bounds())
            .or_else(|| store.bbox());
        Ok(self
            .viewport
            .resolve(fit, self.width as f32, self.height as f32)?)
    }
}

/// A rendered image and how many incidents it shows.
pub struct Rendered {
    /// The pixels.
    pub image: RgbaImage,
    /// Incidents matching the filter.
    pub count: usize,
}

/// Caption lines for a filter and count: the filter in words, then the count.
pub fn caption_lines(filter: &Filter, count: usize) -> Vec<String> {
    let mut lines = filter.describe_lines();
    lines.push(format!(
        "{count} incident{}",
        if count == 1 { "" } else { "s" }
    ));
    lines
}

/// What one image shows.
struct Stage<'a> {
    store: &'a Store,
    index: &'a ClusterIndex,
    csel: ClusterSel,
    legend: Vec<LegendEntry>,
    disputed: u32,
    evidence: u32,
    caption: Option<Caption>,
    attribution: (String, Option<String>),
    memory: MapMemory,
    tools: crate::view::tools::ToolShapes,
    density: Option<(crate::density::Hexbin, u32)>,
    /// The heat map's scale selection (every date) and this render's key.
    heat: Option<(ClusterSel, u64)>,
    /// Where the layers' shapes are kept, for a vector export.
    record: Option<crate::view::record::Recorder>,
}

impl Stage<'_> {
    fn ui(&mut self, ui: &mut egui::Ui, tiles: Option<&mut TrackedTiles>) {
        // The whole image is the map.
        let full = ui.ctx().content_rect();
        let mut ui = ui.new_child(egui::UiBuilder::new().max_rect(full));
        ui.set_clip_rect(full);
        egui::CentralPanel::no_frame().show(&mut ui, |ui| {
            let scene = Scene {
                cells: None,
                dupes: &[],
                data: Some((self.store, self.index)),
                sel: &self.csel,
                highlight: None,
                legend: self.legend.clone(),
                disputed: self.disputed,
                evidence: self.evidence,
                attribution: self.attribution.clone(),
                interactive: false,
                pan: false,
                caption: self.caption.clone(),
                tools: Some(&self.tools),
                density: self.density.as_ref().map(|(b, m)| (b, *m)),
                heat: self
                    .heat
                    .as_ref()
                    .map(|(every, key)| crate::view::density::HeatInput {
                        index: self.index,
                        sel: &self.csel,
                        every_date: every,
                        key: (*key, *key),
                    }),
                record: self.record.as_ref(),
            };
            show(ui, tiles, &mut self.memory, &scene);
        });
    }
}

/// Frames drawn before the picture is taken, so that every overlay has settled into place.
const SETTLE_STEPS: usize = 3;

/// How long no more tiles must have come, with none downloading, before the missing ones are
/// taken for errors. walkers counts a download only once its thread has taken the request, and
/// hands over one finished tile a frame: a frame with nothing downloading can still have tiles
/// on their way (an SVG export of a busy machine once took its picture with none).
const TILES_QUIET: Duration = Duration::from_millis(300);

/// Draws exports, keeping one renderer (and the base layer's tiles) between images.
pub struct Exporter {
    off: Offscreen,
    tiles: Option<(BaseLayer, Option<TrackedTiles>)>,
    /// The links of the last store drawn (its address and size), read once per store: a series
    /// draws many frames of one store.
    links: Option<(usize, usize, std::sync::Arc<crate::links::Links>)>,
}

impl Exporter {
    /// An exporter on the chosen renderer.
    pub fn new(choice: &RendererChoice) -> Result<Exporter, ExportError> {
        Ok(Exporter {
            off: Offscreen::new(choice)?,
            tiles: None,
            links: None,
        })
    }

    /// Renders `chart` as a stacked bar chart image of `width` × `height` points at `scale`.
    pub fn render_chart(
        &mut self,
        chart: &crate::chart::Chart,
        title: &str,
        width: u32,
        height: u32,
        scale: u32,
    ) -> Result<RgbaImage, ExportError> {
        let size = egui::vec2(width as f32, height as f32);
        for _ in 0..SETTLE_STEPS {
            self.off.step(size, scale as f32, |ui| {
                let rect = ui.ctx().content_rect();
                crate::view::chart::draw(ui.painter(), rect, chart, title);
            });
        }
        Ok(self.off.render()?)
    }

    /// The links of `store`, read once.
    fn links_of(&mut self, store: &Store) -> std::sync::Arc<crate::links::Links> {
        let key = (store as *const Store as usize, store.len());
        match &self.links {
            Some((a, n, l)) if (*a, *n) == key => l.clone(),
            _ => {
                let l = std::sync::Arc::new(crate::links::links(store));
                self.links = Some((key.0, key.1, l.clone()));
                l
            }
        }
    }

    /// The graphics adapter drawing the images.
    pub fn adapter(&self) -> &str {
        &self.off.adapter
    }

    /// What one image of `spec` shows: the selection `sel` of `store` seen from `memory` at
    /// `zoom`, with its legend, caption, density layer and tools.
    fn stage<'a>(
        &mut self,
        store: &'a Store,
        index: &'a ClusterIndex,
        spec: &Spec,
        sel: &Selection,
        (memory, zoom): (MapMemory, f64),
    ) -> Result<Stage<'a>, ExportError> {
        Ok(Stage {
            store,
            index,
            csel: index.select(sel),
            legend: if spec.legend {
                legend_entries(store, &sel.type_counts, |_| false)
            } else {
                Vec::new()
            },
            disputed: if spec.legend { sel.disputed } else { 0 },
            evidence: if spec.legend {
                sel.marked(&store.evidence.get())
            } else {
                0
            },
            caption: spec
                .caption
                .then(|| Caption {
                    title: spec.title.clone(),
                    lines: caption_lines(&spec.filter, sel.len()),
                })
                .or_else(|| {
                    spec.title.clone().map(|t| Caption {
                        title: Some(t),
                        lines: Vec::new(),
                    })
                }),
            attribution: spec.base.attribution(),
            memory,
            heat: match spec.layer {
                crate::density::Layer::Heat => {
                    // The scale covers every date under the other filters, as the hexagons'.
                    static RENDERS: std::sync::atomic::AtomicU64 =
                        std::sync::atomic::AtomicU64::new(0);
                    let undated = Filter {
                        from: None,
                        to: None,
                        ..spec.filter.clone()
                    };
                    let every = index.select(&store.select(&undated)?);
                    let key = RENDERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    Some((every, u64::MAX - key))
                }
                _ => None,
            },
            density: match spec.layer {
                crate::density::Layer::Points | crate::density::Layer::Heat => None,
                crate::density::Layer::Hexbin => {
                    // The scale covers every date under the other filters, so frames and
                    // panels of different periods compare.
                    let z = zoom.round() as i32;
                    let undated = Filter {
                        from: None,
                        to: None,
                        ..spec.filter.clone()
                    };
                    let scale = store.select(&undated)?;
                    let max = crate::density::Hexbin::of(store, &scale.indices, z).max();
                    Some((crate::density::Hexbin::of(store, &sel.indices, z), max))
                }
            },
            tools: crate::view::tools::ToolShapes {
                ring_counts: crate::tools::ring_counts(store, sel, &spec.tools.rings),
                tools: spec.tools.clone(),
                near: spec.filter.near,
                within: spec.filter.within.clone(),
                links: crate::links::shown_segments(store, &self.links_of(store), &sel.indices),
                ..Default::default()
            },
            record: None,
        })
    }

    /// Renders one image of `spec`. Waits for tiles up to the spec's timeout (missing tiles show
    /// the offline basemap); Cancel on `ctl` stops it.
    pub fn render(
        &mut self,
        store: &Store,
        index: &ClusterIndex,
        spec: &Spec,
        ctl: &Control,
    ) -> Result<Rendered, ExportError> {
        spec.validate_pixels()?;
        let (count, _) = self.draw(store, index, spec, ctl, false)?;
        Ok(Rendered {
            image: self.off.render()?,
            count,
        })
    }

    /// The layers of one image of `spec` as the shapes they drew (vector exports: SVG, PDF),
    /// with the raster images (tiles) they use.
    pub fn render_layers(
        &mut self,
        store: &Store,
        index: &ClusterIndex,
        spec: &Spec,
        ctl: &Control,
    ) -> Result<vector::Drawing, ExportError> {
        let (count, layers) = self.draw(store, index, spec, ctl, true)?;
        Ok(vector::Drawing {
            width: spec.points().x,
            height: spec.points().y,
            layers,
            images: self.off.images(),
            count,
            print: spec.print,
        })
    }

    /// Draws frames of `spec` until the tiles have settled, then the last one (recorded layer
    /// by layer when `record`). Gives the incidents shown and the layers recorded.
    fn draw(
        &mut self,
        store: &Store,
        index: &ClusterIndex,
        spec: &Spec,
        ctl: &Control,
        record: bool,
    ) -> Result<(usize, Vec<crate::view::record::LayerShapes>), ExportError> {
        spec.validate()?;
        let sel = store.select(&spec.filter)?;
        let (lon, lat, zoom) = spec.resolve(store, &sel)?;
        let mut memory = MapMemory::default();
        memory.center_at(lon_lat(lon, lat));
        // Checked by the viewport already.
        let _ = memory.set_zoom(zoom.clamp(0.0, 19.0));
        // Tiles loaded before images were kept are loaded again: the vector export embeds them.
        if self.off.keep_images(record) || self.tiles.as_ref().is_none_or(|(b, _)| *b != spec.base)
        {
            let t = make_tiles(&spec.base, self.off.ctx())?;
            self.tiles = Some((spec.base.clone(), t));
        }
        let mut stage = self.stage(store, index, spec, &sel, (memory, zoom))?;
        let size = spec.points();
        let end = Instant::now() + spec.tile_timeout;
        let mut quiet = 0;
        let mut steps = 0;
        // Tiles shown in the last frame, and since when that many.
        let mut shown = (usize::MAX, Instant::now());
        loop {
            let mut tiles = self.tiles.as_mut().and_then(|(_, t)| t.as_mut());
            self.off.step(size, spec.pixels_per_point(), |ui| {
                stage.ui(ui, tiles.as_deref_mut())
            });
            steps += 1;
            if ctl.cancelled() {
                return Err(ExportError::Cancelled);
            }
            // Done when every tile is shown, or nothing has been downloading and no tile has
            // come for a while (errors), or the time is up: missing tiles then show the offline
            // basemap.
            let settled = match self.tiles.as_ref().and_then(|(_, t)| t.as_ref()) {
                None => true,
                Some(t) => {
                    if t.shown != shown.0 {
                        shown = (t.shown, Instant::now());
                    }
                    let stalled = t.in_progress() == 0 && shown.1.elapsed() >= TILES_QUIET;
                    t.requested > 0 && (t.shown == t.requested || stalled)
                }
            };
            quiet = if settled { quiet + 1 } else { 0 };
            if (quiet >= SETTLE_STEPS && steps >= SETTLE_STEPS) || Instant::now() >= end {
                break;
            }
            if !settled {
                ctl.set_message("waiting for tiles");
                std::thread::sleep(Duration::from_millis(15));
            }
        }
        stage.record = record.then(Default::default);
        let mut tiles = self.tiles.as_mut().and_then(|(_, t)| t.as_mut());
        self.off.step(size, spec.pixels_per_point(), |ui| {
            stage.ui(ui, tiles.as_deref_mut())
        });
        let layers = stage.record.take().map(|r| r.take()).unwrap_or_default();
        Ok((sel.len(), layers))
    }
}

/// Why a chart was not written.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The PNG could not be drawn or written.
    #[error(transparent)]
    Png(#[from] ExportError),
    /// The CSV could not be written.
    #[error("cannot write {path}: {error}", path = .path.display())]
    Csv {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        error: std::io::Error,
    },
}

/// Writes `chart` to `path` atomically: a stacked bar chart PNG of `size` points (titled) when
/// the name ends in `.png`, else the CSV table. The window's Chart dialog and `chart` share it.
pub fn write_chart(
    chart: &crate::chart::Chart,
    title: &str,
    path: &Path,
    size: (u32, u32),
    choice: &RendererChoice,
) -> Result<(), ChartError> {
    let png = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if png {
        let mut x = Exporter::new(choice)?;
        let img = x.render_chart(chart, title, size.0, size.1, 1)?;
        write_png(path, &img, &PngInfo::new(&x, Some(title)))?;
        Ok(())
    } else {
        crate::atomic::write_atomic(path, |w| chart.write_csv(w)).map_err(|error| ChartError::Csv {
            path: path.to_path_buf(),
            error,
        })
    }
}

/// Renders one image with a new exporter on the renderer chosen by the environment (tests and
/// single images).
pub fn render(store: &Store, index: &ClusterIndex, spec: &Spec) -> Result<Rendered, ExportError> {
    Exporter::new(&RendererChoice::from_env())?.render(store, index, spec, &Control::default())
}

/// Text recorded in every PNG: the program and the adapter that drew it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PngInfo {
    /// `incident-map x.y.z`.
    pub software: String,
    /// The graphics adapter.
    pub renderer: String,
    /// The title, if any.
    pub title: Option<String>,
}

impl PngInfo {
    /// The record for images drawn by `exporter`.
    pub fn new(exporter: &Exporter, title: Option<&str>) -> PngInfo {
        PngInfo {
            software: format!("incident-map {}", env!("CARGO_PKG_VERSION")),
            renderer: exporter.adapter().to_string(),
            title: title.map(str::to_string),
        }
    }
}

/// Encodes an image as PNG with its [`PngInfo`] in text chunks. Deterministic: the same pixels
/// and info give the same bytes.
pub fn png_bytes(img: &RgbaImage, info: &PngInfo) -> Result<Vec<u8>, ExportError> {
    let enc = |e: png::EncodingError| ExportError::Encode(e.to_string());
    let mut out = Vec::new();
    {
        let mut e = png::Encoder::new(&mut out, img.width(), img.height());
        e.set_color(png::ColorType::Rgba);
        e.set_depth(png::BitDepth::Eight);
        e.set_compression(png::Compression::Fast);
        e.add_text_chunk("Software".into(), info.software.clone())
            .map_err(enc)?;
        e.add_text_chunk("Source".into(), info.renderer.clone())
            .map_err(enc)?;
        if let Some(t) = &info.title {
            e.add_itxt_chunk("Title".into(), t.clone()).map_err(enc)?;
        }
        let mut w = e.write_header().map_err(enc)?;
        w.write_image_data(img.as_raw()).map_err(enc)?;
        w.finish().map_err(enc)?;
    }
    Ok(out)
}

/// Writes a PNG atomically.
pub fn write_png(path: &Path, img: &RgbaImage, info: &PngInfo) -> Result<(), ExportError> {
    let bytes = png_bytes(img, info)?;
    crate::atomic::write_atomic(path, |w| w.write_all(&bytes))
        .map_err(|e| ExportError::write(path, e))
}

/// The text chunks of a PNG file (keyword, text), as [`png_bytes`] writes them.
pub fn png_text(bytes: &[u8]) -> Vec<(String, String)> {
    let d = png::Decoder::new(std::io::Cursor::new(bytes));
    let Ok(r) = d.read_info() else {
        return Vec::new();
    };
    let info = r.info();
    let mut v: Vec<(String, String)> = info
        .uncompressed_latin1_text
        .iter()
        .map(|c| (c.keyword.clone(), c.text.clone()))
        .collect();
    v.extend(
        info.utf8_text
            .iter()
            .filter_map(|c| c.get_text().ok().map(|t| (c.keyword.clone(), t))),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caption_and_sizes() {
        let f = Filter::default()
            .with_from("2021-06-05")
            .unwrap()
            .with_to("2021-06-06")
            .unwrap();
        assert_eq!(
            caption_lines(&f, 3),
            vec!["2021-06-05 – 2021-06-06".to_string(), "3 incidents".into()]
        );
        assert!(
            Spec {
                scale: 4,
                ..Default::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            Spec {
                width: 50,
                ..Default::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            Spec {
                width: 5000,
                scale: 3,
                ..Default::default()
            }
            .validate()
            .is_err()
        );
        assert!(Spec::default().validate().is_ok());
    }

    #[test]
    fn png_records_program_and_renderer() {
        let img = RgbaImage::from_pixel(3, 2, image::Rgba([1, 2, 3, 255]));
        let info = PngInfo {
            software: "incident-map 9".into(),
            renderer: "llvmpipe on Vulkan (software)".into(),
            title: Some("Ain al-Asad – June".into()),
        };
        let a = png_bytes(&img, &info).unwrap();
        assert_eq!(a, png_bytes(&img, &info).unwrap(), "deterministic");
        let text = png_text(&a);
        assert!(text.contains(&("Software".into(), "incident-map 9".into())));
        assert!(text.contains(&("Source".into(), "llvmpipe on Vulkan (software)".into())));
        assert!(text.contains(&("Title".into(), "Ain al-Asad – June".into())));
        let back = image::load_from_memory(&a).unwrap().to_rgba8();
        assert_eq!(back, img);
    }
}
