//! Series: one frame per day, week or month across a date range, all with the same viewport,
//! drawn by one renderer and streamed out as they are made (each frame is written as a PNG,
//! added to the GIF and encoded into the video on a second thread while the next one is
//! drawn), so memory stays flat however many frames there are.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::sync_channel;

use image::RgbaImage;

use super::video::{VideoSpec, VideoWriter};
use super::{ExportError, Exporter, PngInfo, Spec, Viewport, write_png};
use crate::atomic::{AtomicFile, write_atomic};
use crate::cluster::ClusterIndex;
use crate::date::{Day, Every, format_day, periods};
use crate::progress::Control;
use crate::query::Filter;
use crate::store::Store;

/// Most frames in one series.
pub const MAX_FRAMES: usize = 5000;

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

/// The index file of a series: `map.png` → `map_index.csv`.
pub fn index_path(out: &Path) -> PathBuf {
    out.with_file_name(format!(
        "{}_index.csv",
        out.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "frames".into())
    ))
}

/// What a series is made of and where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSpec {
    /// Period length.
    pub every: Every,
    /// Each frame shows everything from the start of the range.
    pub cumulative: bool,
    /// The name numbered PNG frames and the index CSV are named after (none: no PNG frames).
    pub out: Option<PathBuf>,
    /// An animated GIF to write, with milliseconds per frame.
    pub gif: Option<(PathBuf, u32)>,
    /// An MP4 video to write.
    pub video: Option<VideoSpec>,
}

/// What a series wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesDone {
    /// Frames written.
    pub frames: usize,
    /// The index CSV, written with the PNG frames.
    pub index: Option<PathBuf>,
}

impl SeriesDone {
    /// What was written, in words: "30 frames, map_index.csv, map.mp4 (2 fps, 2 s hold)".
    pub fn describe(&self, series: &SeriesSpec) -> String {
        let mut parts = vec![format!("{} frames", self.frames)];
        if let Some(i) = &self.index {
            parts.push(i.display().to_string());
        }
        if let Some((g, _)) = &series.gif {
            parts.push(g.display().to_string());
        }
        if let Some(v) = &series.video {
            parts.push(format!(
                "{} ({} fps, {} s hold)",
                v.path.display(),
                v.fps,
                v.hold
            ));
        }
        parts.join(", ")
    }
}

struct Frame {
    k: usize,
    start: Day,
    end: Day,
    /// The picture, when a PNG, GIF or video is written.
    image: Option<RgbaImage>,
    /// The layers' shapes, when the frames are SVG or PDF.
    drawing: Option<super::vector::Drawing>,
    count: usize,
}

/// Where the frames go, each optional: numbered PNGs (named after a path), a GIF (with its
/// milliseconds a frame), a video.
struct Sinks<'a> {
    pngs: Option<(&'a Path, &'a PngInfo)>,
    /// Numbered SVG files (named after a path), or the pages of one PDF.
    vectors: Option<(&'a Path, &'a mut super::vector::PdfPages)>,
    gif: Option<(&'a mut AtomicFile, u32)>,
    video: Option<&'a mut VideoWriter>,
}

/// Writes the frames as they come: PNG files, GIF frames, video frames and the index's rows
/// (returned).
fn write_frames(
    rx: std::sync::mpsc::Receiver<Frame>,
    sinks: Sinks<'_>,
    ctl: &Control,
) -> Result<String, ExportError> {
    let mut rows = String::from("period_start,period_end,file,incidents\n");
    let delay = sinks.gif.as_ref().map_or(0, |g| g.1);
    let mut enc = match sinks.gif {
        Some((f, _)) => {
            let mut e = image::codecs::gif::GifEncoder::new_with_speed(f, 10);
            e.set_repeat(image::codecs::gif::Repeat::Infinite)
                .map_err(|e| ExportError::Encode(e.to_string()))?;
            Some(e)
        }
        None => None,
    };
    let mut video = sinks.video;
    let mut vectors = sinks.vectors;
    for f in rx {
        let mut row = |name: &str| {
            rows.push_str(&format!(
                "{},{},{name},{}\n",
                format_day(f.start),
                format_day(f.end),
                f.count
            ))
        };
        if let (Some((out, pages)), Some(d)) = (vectors.as_mut(), &f.drawing) {
            if super::vector::is_pdf(out) {
                pages.add(d).map_err(|e| ExportError::write(out, e))?;
                row(&format!("page {}", pages.len()));
            } else {
                let p = frame_path(out, f.k + 1);
                super::vector::write(&p, d)?;
                row(&file_name(&p));
            }
        }
        let Some(image) = f.image else {
            ctl.advance(1);
            continue;
        };
        if let Some(v) = video.as_deref_mut() {
            v.add(&image)?;
        }
        if let Some((out, info)) = sinks.pngs {
            let p = frame_path(out, f.k + 1);
            write_png(&p, &image, info)?;
            row(&file_name(&p));
        }
        if let Some(e) = enc.as_mut() {
            let frame =
                image::Frame::from_parts(image, 0, 0, image::Delay::from_numer_denom_ms(delay, 1));
            e.encode_frame(frame)
                .map_err(|e| ExportError::Encode(e.to_string()))?;
        }
        ctl.advance(1);
    }
    Ok(rows)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Draws the frames of periods `ps` (each period alone, or from `from` on when cumulative) and
/// hands each to the writer thread running `write`, which works while the next one is drawn:
/// as a picture when `raster`, as layers of shapes when `vector`.
fn draw_frames(
    exporter: &mut Exporter,
    (store, index): (&Store, &ClusterIndex),
    fixed: &Spec,
    (ps, from, cumulative): (&[(Day, Day)], Day, bool),
    (raster, vector): (bool, bool),
    ctl: &Control,
    write: impl FnOnce(std::sync::mpsc::Receiver<Frame>) -> Result<String, ExportError> + Send,
) -> Result<String, ExportError> {
    let (tx, rx) = sync_channel::<Frame>(1);
    std::thread::scope(|sc| {
        let writer = sc.spawn(|| write(rx));
        let mut drawn = Ok(());
        for (k, &(a, b)) in ps.iter().enumerate() {
            ctl.set_message(&format!("frame {} of {}", k + 1, ps.len()));
            let f = Filter {
                from: Some(if cumulative { from } else { a }),
                to: Some(b),
                ..fixed.filter.clone()
            };
            let frame_spec = Spec {
                filter: f,
                ..fixed.clone()
            };
            let frame = (|| {
                let r = raster
                    .then(|| exporter.render(store, index, &frame_spec, ctl))
                    .transpose()?;
                let d = vector
                    .then(|| exporter.render_layers(store, index, &frame_spec, ctl))
                    .transpose()?;
                Ok(Frame {
                    k,
                    start: a,
                    end: b,
                    count: r
                        .as_ref()
                        .map(|r| r.count)
                        .or(d.as_ref().map(|d| d.count))
                        .unwrap_or(0),
                    image: r.map(|r| r.image),
                    drawing: d,
                })
            })();
            match frame {
                Ok(frame) => {
                    if tx.send(frame).is_err() {
                        break; // the writer failed: its error is reported below
                    }
                }
                Err(e) => {
                    drawn = Err(e);
                    break;
                }
            }
        }
        drop(tx);
        let rows = writer
            .join()
            .unwrap_or_else(|_| Err(ExportError::Encode("the writer thread failed".into())));
        drawn.and(rows)
    })
}

/// Draws and writes a series: numbered PNGs with `<name>_index.csv`, a GIF, an MP4, any of
/// them. Progress on `ctl` counts frames; Cancel stops after the frame being drawn (PNG frames
/// already written stay; the GIF, the video and the index are not written).
pub fn write_series(
    exporter: &mut Exporter,
    store: &Store,
    index: &ClusterIndex,
    spec: &Spec,
    series: &SeriesSpec,
    ctl: &Control,
) -> Result<SeriesDone, ExportError> {
    if series.out.is_none() && series.gif.is_none() && series.video.is_none() {
        return Err(ExportError::NoSeriesOutput);
    }
    let (d0, d1) = store.day_range().ok_or(ExportError::NoData)?;
    let (from, to) = (spec.filter.from.unwrap_or(d0), spec.filter.to.unwrap_or(d1));
    if from > to {
        return Err(ExportError::EmptyRange);
    }
    let ps = periods(from, to, series.every);
    if ps.len() > MAX_FRAMES {
        return Err(ExportError::TooManyFrames(ps.len()));
    }
    spec.validate()?;
    // Checked before anything is drawn: the frame rate, the hold, the size.
    let mut video = match &series.video {
        Some(v) => {
            let (w, h) = spec.pixel_size();
            Some(VideoWriter::create(v, w, h)?)
        }
        None => None,
    };
    // One viewport for all frames: by default, fitted to the whole range's incidents.
    let all = store.select(&spec.filter)?;
    let (lon, lat, zoom) = spec.resolve(store, &all)?;
    let fixed = Spec {
        viewport: Viewport::Center { lat, lon, zoom },
        ..spec.clone()
    };
    ctl.total.store(ps.len() as u64, Ordering::Relaxed);
    let info = PngInfo::new(exporter, spec.title.as_deref());
    let mut gif = match &series.gif {
        Some((p, _)) => Some(AtomicFile::create(p).map_err(|e| ExportError::write(p, e))?),
        None => None,
    };
    let vector_out = series
        .out
        .as_deref()
        .filter(|o| super::vector::is_vector(o));
    let mut pages = super::vector::PdfPages::new();
    let sinks = Sinks {
        pngs: series
            .out
            .as_deref()
            .filter(|_| vector_out.is_none())
            .map(|o| (o, &info)),
        vectors: vector_out.map(|o| (o, &mut pages)),
        gif: gif.as_mut().zip(series.gif.as_ref().map(|g| g.1)),
        video: video.as_mut(),
    };
    let written = draw_frames(
        exporter,
        (store, index),
        &fixed,
        (&ps, from, series.cumulative),
        (
            vector_out.is_none() || series.gif.is_some() || series.video.is_some(),
            vector_out.is_some(),
        ),
        ctl,
        |rx| write_frames(rx, sinks, ctl),
    )?;
    if let Some(v) = video {
        ctl.set_message("finishing the video");
        v.finish()?;
    }
    if let Some(out) = vector_out.filter(|o| super::vector::is_pdf(o)) {
        let bytes = pages.finish();
        write_atomic(out, |w| w.write_all(&bytes)).map_err(|e| ExportError::write(out, e))?;
    }
    if let Some(f) = gif
        && let Some((p, _)) = &series.gif
    {
        f.commit().map_err(|e| ExportError::write(p, e))?;
    }
    let index_file = match &series.out {
        Some(out) => {
            let p = index_path(out);
            write_atomic(&p, |w| w.write_all(written.as_bytes()))
                .map_err(|e| ExportError::write(&p, e))?;
            Some(p)
        }
        None => None,
    };
    Ok(SeriesDone {
        frames: ps.len(),
        index: index_file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::days_from_civil;

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
        assert_eq!(
            index_path(Path::new("/x/map.png")),
            PathBuf::from("/x/map_index.csv")
        );
    }
}
