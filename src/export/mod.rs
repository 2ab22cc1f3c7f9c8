//! PNG export: the window's map view rendered off-screen through egui's wgpu renderer (Mesa's
//! software renderer on machines without a GPU or display), with title, caption, legend, scale
//! bar and attribution. Also series of frames (one per day, week or month) and animated GIFs.

pub mod view_file;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use image::RgbaImage;
use walkers::{MapMemory, lon_lat};

use crate::cluster::{ClusterIndex, ClusterSel};
use crate::date::{Day, civil_from_days, days_from_civil, format_day};
use crate::query::{Filter, Selection};
use crate::store::Store;
use crate::view::Screen;
use crate::view::map::{Caption, Scene, show};
use crate::view::overlay::LegendEntry;
use crate::view::tiles::{BaseLayer, TrackedTiles, make_tiles};

/// Where the map looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Viewport {
    /// Fit the filtered incidents, with a margin.
    Fit,
    /// Fit a box `[min_lon, min_lat, max_lon, max_lat]`.
    BBox([f64; 4]),
    /// A centre and zoom.
    Center {
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
        /// Zoom.
        zoom: f64,
    },
}

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
        }
    }
}

/// Largest image side in pixels (memory stays bounded: 16k × 16k RGBA is 1 GiB).
pub const MAX_PIXELS_SIDE: u32 = 12_000;

impl Spec {
    /// Checks sizes.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=3).contains(&self.scale) {
            return Err(format!("--scale must be 1, 2 or 3 (got {})", self.scale));
        }
        if self.width < 100 || self.height < 100 {
            return Err(format!(
                "image size {}×{} is too small (at least 100×100)",
                self.width, self.height
            ));
        }
        if self.width * self.scale > MAX_PIXELS_SIDE || self.height * self.scale > MAX_PIXELS_SIDE {
            return Err(format!(
                "image size {}×{} at scale {} exceeds {MAX_PIXELS_SIDE} pixels a side",
                self.width, self.height, self.scale
            ));
        }
        Ok(())
    }
}

/// A rendered image and how many incidents it shows.
pub struct Rendered {
    /// The pixels.
    pub image: RgbaImage,
    /// Incidents matching the filter.
    pub count: usize,
}

/// Caption lines for a filter and count.
pub fn caption_lines(filter: &Filter, count: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let dates = match (filter.from, filter.to) {
        (None, None) => "All dates".to_string(),
        (Some(a), Some(b)) if a == b => format_day(a),
        (a, b) => format!(
            "{} – {}",
            a.map(format_day).unwrap_or("…".into()),
            b.map(format_day).unwrap_or("…".into())
        ),
    };
    lines.push(dates);
    if !filter.types.is_empty() {
        lines.push(format!("Types: {}", filter.types.join(", ")));
    }
    if let Some(t) = &filter.text {
        lines.push(format!("Matching \"{t}\""));
    }
    lines.push(format!(
        "{count} incident{}",
        if count == 1 { "" } else { "s" }
    ));
    lines
}

/// Legend rows for a selection: shown types with their counts, most frequent first.
pub fn legend_for(store: &Store, sel: &Selection) -> Vec<LegendEntry> {
    let mut v: Vec<LegendEntry> = sel
        .type_counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(t, &c)| LegendEntry {
            type_id: t as u32,
            name: store.types.name(t as u32).to_string(),
            count: c,
            shown: true,
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
    v
}

struct Stage<'a> {
    store: &'a Store,
    index: &'a ClusterIndex,
    csel: ClusterSel,
    legend: Vec<LegendEntry>,
    caption: Option<Caption>,
    attribution: (String, Option<String>),
    memory: MapMemory,
    tiles: Option<TrackedTiles>,
    screen: Option<Screen>,
}

impl Stage<'_> {
    fn ui(&mut self, ui: &mut egui::Ui) {
        // The whole image is the map: draw over the test harness's outer margin.
        let full = ui.ctx().content_rect();
        let mut ui = ui.new_child(egui::UiBuilder::new().max_rect(full));
        ui.set_clip_rect(full);
        egui::CentralPanel::no_frame().show(&mut ui, |ui| {
            let scene = Scene {
                data: Some((self.store, self.index)),
                sel: &self.csel,
                highlight: None,
                legend: self.legend.clone(),
                attribution: self.attribution.clone(),
                interactive: false,
                caption: self.caption.clone(),
            };
            let shown = show(ui, self.tiles.as_mut(), &mut self.memory, &scene);
            self.screen = Some(shown.screen);
        });
    }
}

/// The view (centre lon/lat and zoom) a viewport resolves to for a selection and size.
pub fn resolve_viewport(
    store: &Store,
    sel: &Selection,
    vp: Viewport,
    width: u32,
    height: u32,
) -> Result<(f64, f64, f64), String> {
    let rect = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(width as f32, height as f32));
    let fit = |b: [f64; 4]| {
        // Keep a margin for the caption (top-left), legend (top-right) and scale bar.
        let s = Screen::fit(rect, b, (width.min(height) as f32 * 0.12).max(40.0), 16.0);
        let (lon, lat) = s.center_lonlat();
        (lon, lat, s.zoom)
    };
    match vp {
        Viewport::Center { lat, lon, zoom } => {
            if !(-90.0..=90.0).contains(&lat)
                || !(-180.0..=180.0).contains(&lon)
                || !(0.0..=19.0).contains(&zoom)
            {
                return Err(format!(
                    "--center {lat},{lon} --zoom {zoom} is outside the map (lat ±90, lon ±180, zoom 0–19)"
                ));
            }
            Ok((lon, lat, zoom))
        }
        Viewport::BBox(b) => Ok(fit(b)),
        Viewport::Fit => {
            let b = sel
                .bbox(store)
                .ok_or("no incidents match the filters, so there is nothing to fit the map to")?;
            // A single place still gets some context around it.
            let pad = 0.05;
            Ok(fit([b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad]))
        }
    }
}

/// Renders one image.
pub fn render(store: &Store, index: &ClusterIndex, spec: &Spec) -> Result<Rendered, String> {
    spec.validate()?;
    let sel = store.select(&spec.filter).map_err(|e| e.to_string())?;
    let (lon, lat, zoom) = resolve_viewport(store, &sel, spec.viewport, spec.width, spec.height)?;
    let mut memory = MapMemory::default();
    memory.center_at(lon_lat(lon, lat));
    memory
        .set_zoom(zoom.clamp(0.0, 19.0))
        .map_err(|_| format!("zoom {zoom} is out of range"))?;
    let stage = Stage {
        store,
        index,
        csel: index.select(&sel),
        legend: if spec.legend {
            legend_for(store, &sel)
        } else {
            Vec::new()
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
        tiles: None,
        screen: None,
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(spec.width as f32, spec.height as f32))
        .with_pixels_per_point(spec.scale as f32)
        .with_accessibility_check(false)
        .wgpu()
        .build_ui_state(|ui, st: &mut Stage<'_>| st.ui(ui), stage);
    // Tiles belong to the context that renders them.
    h.state_mut().tiles = make_tiles(&spec.base, &h.ctx)?;
    let end = Instant::now() + spec.tile_timeout;
    let mut quiet = 0;
    loop {
        h.step();
        let Some(t) = &h.state().tiles else { break };
        // Done when every tile is shown, or nothing has been downloading for a few frames
        // (errors), or the time is up: missing tiles then show the offline basemap.
        let settled = t.requested > 0 && (t.shown == t.requested || t.in_progress() == 0);
        quiet = if settled { quiet + 1 } else { 0 };
        if quiet >= 3 || Instant::now() >= end {
            break;
        }
        std::thread::sleep(Duration::from_millis(15));
    }
    h.step();
    let image = h.render()?;
    Ok(Rendered {
        image,
        count: sel.len(),
    })
}

/// Encodes an image as PNG (deterministic: same pixels, same bytes).
pub fn png_bytes(img: &RgbaImage) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgba8,
        )
        .map_err(|e| e.to_string())?;
    Ok(out)
}

use image::ImageEncoder as _;

/// Writes a PNG atomically.
pub fn write_png(path: &Path, img: &RgbaImage) -> Result<(), String> {
    let bytes = png_bytes(img)?;
    crate::atomic::write_atomic(path, |w| w.write_all(&bytes))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Period length of a series.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
pub enum Every {
    /// One frame per day.
    Day,
    /// One frame per ISO week (Monday to Sunday).
    Week,
    /// One frame per calendar month.
    Month,
}

/// The periods `[start, end]` covering `[from, to]`.
pub fn periods(from: Day, to: Day, every: Every) -> Vec<(Day, Day)> {
    let mut out = Vec::new();
    let mut d = match every {
        Every::Day => from,
        Every::Week => from - (from + 3).rem_euclid(7),
        Every::Month => {
            let (y, m, _) = civil_from_days(from);
            days_from_civil(y, m, 1)
        }
    };
    while d <= to {
        let next = match every {
            Every::Day => d + 1,
            Every::Week => d + 7,
            Every::Month => {
                let (y, m, _) = civil_from_days(d);
                if m == 12 {
                    days_from_civil(y + 1, 1, 1)
                } else {
                    days_from_civil(y, m + 1, 1)
                }
            }
        };
        out.push((d.max(from), (next - 1).min(to)));
        d = next;
    }
    out
}

/// Numbered file name for frame `k` of a series: `map.png` → `map_0001.png`.
pub fn frame_path(out: &Path, k: usize) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "frame".into());
    let ext = out
        .extension()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "png".into());
    out.with_file_name(format!("{stem}_{k:04}.{ext}"))
}

/// One frame of a series.
pub struct Frame {
    /// Period start.
    pub start: Day,
    /// Period end.
    pub end: Day,
    /// The image.
    pub image: RgbaImage,
    /// Incidents shown.
    pub count: usize,
}

/// Renders a series: one frame per period across the filter's date range (or the data's), each
/// showing that period (or, `cumulative`, everything from the start up to it). The viewport is
/// the same for every frame: by default, fitted to the whole range's incidents.
pub fn render_series(
    store: &Store,
    index: &ClusterIndex,
    spec: &Spec,
    every: Every,
    cumulative: bool,
) -> Result<Vec<Frame>, String> {
    let (d0, d1) = store.day_range().ok_or("no incidents loaded")?;
    let (from, to) = (spec.filter.from.unwrap_or(d0), spec.filter.to.unwrap_or(d1));
    if from > to {
        return Err("the date range is empty".into());
    }
    let ps = periods(from, to, every);
    if ps.len() > 5000 {
        return Err(format!(
            "{} frames is too many (at most 5000); use a longer period",
            ps.len()
        ));
    }
    // One viewport for all frames.
    let all = store.select(&spec.filter).map_err(|e| e.to_string())?;
    let (lon, lat, zoom) = resolve_viewport(store, &all, spec.viewport, spec.width, spec.height)?;
    let fixed = Spec {
        viewport: Viewport::Center { lat, lon, zoom },
        ..spec.clone()
    };
    ps.into_iter()
        .map(|(a, b)| {
            let f = Filter {
                from: Some(if cumulative { from } else { a }),
                to: Some(b),
                ..spec.filter.clone()
            };
            let r = render(
                store,
                index,
                &Spec {
                    filter: f,
                    ..fixed.clone()
                },
            )?;
            Ok(Frame {
                start: a,
                end: b,
                image: r.image,
                count: r.count,
            })
        })
        .collect()
}

/// Writes an animated GIF of the frames (atomically), `delay_ms` per frame.
pub fn write_gif(path: &Path, frames: &[Frame], delay_ms: u32) -> Result<(), String> {
    use image::codecs::gif::{GifEncoder, Repeat};
    let mut bytes = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut bytes, 10);
        enc.set_repeat(Repeat::Infinite)
            .map_err(|e| e.to_string())?;
        for f in frames {
            let frame = image::Frame::from_parts(
                f.image.clone(),
                0,
                0,
                image::Delay::from_numer_denom_ms(delay_ms, 1),
            );
            enc.encode_frame(frame).map_err(|e| e.to_string())?;
        }
    }
    crate::atomic::write_atomic(path, |w| w.write_all(&bytes))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_cover_the_range() {
        let a = days_from_civil(2021, 6, 5);
        let b = days_from_civil(2021, 8, 2);
        let m = periods(a, b, Every::Month);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0], (a, days_from_civil(2021, 6, 30)));
        assert_eq!(m[2], (days_from_civil(2021, 8, 1), b));
        let w = periods(a, b, Every::Week);
        assert_eq!(w[0].0, a);
        assert_eq!(w[1].0, days_from_civil(2021, 6, 7)); // a Monday
        assert_eq!(periods(a, a + 2, Every::Day).len(), 3);
        assert_eq!(
            frame_path(Path::new("/x/map.png"), 7),
            PathBuf::from("/x/map_0007.png")
        );
    }

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
}
