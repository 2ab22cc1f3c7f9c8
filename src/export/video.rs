//! A series as a video: H.264 (Constrained Baseline, 4:2:0, OpenH264 compiled from source) in an
//! MP4 that browsers and newsroom systems play. Frames are encoded one by one as they are
//! drawn, the encoded frames go to a temporary file, and the MP4 is written atomically at the
//! end, so memory does not grow with the number of frames and a Cancel leaves no file.

use std::path::{Path, PathBuf};

use image::RgbaImage;
use openh264::OpenH264API;
use openh264::Timestamp;
use openh264::encoder::{
    ColorPrimaries, Encoder, EncoderConfig, FrameRate, IntraFramePeriod, MatrixCoefficients,
    Profile, RateControlMode, TransferCharacteristics, UsageType, VuiConfig,
};
use openh264::formats::YUVSlices;

use super::ExportError;
use super::h264::{crop_sps, strip_start_code};
use super::mp4::{Mp4Writer, Track};
use crate::atomic::AtomicFile;

/// Frames a second unless told: two days a second reads as a date ticking by, with time to see
/// where the new incidents are.
pub const DEFAULT_FPS: u32 = 2;
/// Most frames a second.
pub const MAX_FPS: u32 = 60;
/// Seconds the last frame stays on screen unless told, so the end state can be read.
pub const DEFAULT_HOLD: f64 = 2.0;
/// Longest hold in seconds.
pub const MAX_HOLD: f64 = 60.0;
/// Largest frame OpenH264 encodes (H.264 level 5.1): the long side, then the short side.
pub const MAX_SIDES: (u32, u32) = (3840, 2160);

/// A video to write from a series.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoSpec {
    /// The MP4 file.
    pub path: PathBuf,
    /// Frames a second, 1 to [`MAX_FPS`]: each frame of the series is one video frame.
    pub fps: u32,
    /// Seconds the last frame is held, 0 to [`MAX_HOLD`] (whole frames at `fps`, rounded).
    pub hold: f64,
}

impl VideoSpec {
    /// A video at `path` with the default frame rate and hold.
    pub fn new(path: PathBuf) -> VideoSpec {
        VideoSpec {
            path,
            fps: DEFAULT_FPS,
            hold: DEFAULT_HOLD,
        }
    }

    /// Extra copies of the last frame that make the hold.
    pub fn hold_frames(&self) -> usize {
        (self.hold * f64::from(self.fps)).round().max(0.0) as usize
    }

    /// Checks the frame rate and the hold.
    pub fn check(&self) -> Result<(), VideoError> {
        if !(1..=MAX_FPS).contains(&self.fps) {
            return Err(VideoError::Fps(self.fps));
        }
        if !(0.0..=MAX_HOLD).contains(&self.hold) {
            return Err(VideoError::Hold(self.hold));
        }
        Ok(())
    }

    /// The video's frame size for images of `width`×`height` pixels: odd sides grow by one
    /// pixel (4:2:0 colour needs even sides), or [`VideoError::TooLarge`].
    pub fn frame_size(width: u32, height: u32) -> Result<(u32, u32), VideoError> {
        let (w, h) = (width + width % 2, height + height % 2);
        if w.max(h) > MAX_SIDES.0 || w.min(h) > MAX_SIDES.1 {
            return Err(VideoError::TooLarge { width, height });
        }
        Ok((w, h))
    }
}

/// Why a video could not be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VideoError {
    /// A frame rate out of range.
    #[error("a video has 1 to {MAX_FPS} frames a second (got {0})")]
    Fps(u32),
    /// A hold out of range.
    #[error("the last frame is held 0 to {MAX_HOLD} seconds (got {0})")]
    Hold(f64),
    /// Frames larger than the encoder takes.
    #[error(
        "video frames are at most 3840×2160 pixels (H.264 level 5.1); these are {width}×{height}"
    )]
    TooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// OpenH264 refused or failed.
    #[error("the H.264 encoder failed: {0}")]
    Encoder(String),
    /// The encoder's output lacks what an MP4 needs.
    #[error("the H.264 encoder gave {0}")]
    Stream(&'static str),
    /// The encoder's sequence parameter set could not be given its cropping.
    #[error(transparent)]
    Sps(#[from] super::h264::SpsError),
}

impl From<openh264::Error> for VideoError {
    fn from(e: openh264::Error) -> VideoError {
        VideoError::Encoder(e.to_string())
    }
}

/// An MP4 being written, frame by frame.
pub struct VideoWriter {
    spec: VideoSpec,
    encoder: Encoder,
    /// The last frame in YUV 4:2:0 (Y, then U, then V, at the coded size), kept for the hold.
    planes: Vec<u8>,
    /// The picture's size (even sides).
    size: (u32, u32),
    /// The size encoded: sides up to the next multiples of 16 (OpenH264 takes no other), the
    /// difference cropped off again in the SPS.
    coded: (u32, u32),
    mux: Mp4Writer,
    file: AtomicFile,
    sps: Option<Vec<u8>>,
    pps: Option<Vec<u8>>,
    sample: Vec<u8>,
}

impl VideoWriter {
    /// Starts the video of frames of `width`×`height` pixels (the file appears at
    /// [`VideoWriter::finish`]).
    pub fn create(spec: &VideoSpec, width: u32, height: u32) -> Result<VideoWriter, ExportError> {
        spec.check()?;
        let (w, h) = VideoSpec::frame_size(width, height)?;
        let coded = (w.next_multiple_of(16), h.next_multiple_of(16));
        let path = &spec.path;
        let file = AtomicFile::create(path).map_err(|e| ExportError::write(path, e))?;
        let mux = Mp4Writer::new(path.parent().unwrap_or(Path::new(".")))
            .map_err(|e| ExportError::write(path, e))?;
        let config = EncoderConfig::new()
            .profile(Profile::Baseline)
            .usage_type(UsageType::CameraVideoRealTime)
            // Constant quality (QP 26): a map's lines and text stay sharp whatever the frame
            // rate, and every frame is kept (no rate control dropping any).
            .rate_control_mode(RateControlMode::Off)
            .skip_frames(false)
            .max_frame_rate(FrameRate::from_hz(spec.fps as f32))
            // A keyframe every 5 s, so players can seek.
            .intra_frame_period(IntraFramePeriod::from_num_frames(spec.fps * 5))
            // The renderer has the other core.
            .num_threads(1)
            // What the RGB → YUV conversion does (BT.601 matrix, limited range) on sRGB colours.
            .vui(
                VuiConfig::bt601()
                    .color_primaries(ColorPrimaries::Bt709)
                    .transfer_characteristics(TransferCharacteristics::Bt709)
                    .matrix_coefficients(MatrixCoefficients::Smpte170M),
            );
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(VideoError::from)?;
        Ok(VideoWriter {
            spec: spec.clone(),
            encoder,
            planes: vec![0; (coded.0 * coded.1 * 3 / 2) as usize],
            size: (w, h),
            coded,
            mux,
            file,
            sps: None,
            pps: None,
            sample: Vec::new(),
        })
    }

    /// Encodes the next frame.
    pub fn add(&mut self, img: &RgbaImage) -> Result<(), ExportError> {
        rgba_to_i420(img, self.coded, &mut self.planes);
        self.encode()
    }

    /// Encodes the frame in `self.planes` and adds it to the file.
    fn encode(&mut self) -> Result<(), ExportError> {
        let n = self.mux.frames() as u64;
        let ms = n * 1000 / u64::from(self.spec.fps);
        let (w, h) = (self.coded.0 as usize, self.coded.1 as usize);
        let (y, uv) = self.planes.split_at(w * h);
        let (u, v) = uv.split_at(w * h / 4);
        let yuv = YUVSlices::new((y, u, v), (w, h), (w, w / 2, w / 2));
        let bits = self
            .encoder
            .encode_at(&yuv, Timestamp::from_millis(ms))
            .map_err(VideoError::from)?;
        self.sample.clear();
        let mut keyframe = false;
        for l in 0..bits.num_layers() {
            let Some(layer) = bits.layer(l) else { continue };
            for k in 0..layer.nal_count() {
                let Some(nal) = layer.nal_unit(k).map(strip_start_code) else {
                    continue;
                };
                match nal.first().map(|b| b & 0x1F) {
                    None => {}
                    Some(7) => keep(&mut self.sps, nal)?,
                    Some(8) => keep(&mut self.pps, nal)?,
                    Some(t) => {
                        keyframe |= t == 5;
                        self.sample
                            .extend_from_slice(&(nal.len() as u32).to_be_bytes());
                        self.sample.extend_from_slice(nal);
                    }
                }
            }
        }
        if self.sample.is_empty() {
            return Err(VideoError::Stream("no picture for a frame").into());
        }
        self.mux
            .write_sample(&self.sample, keyframe)
            .map_err(|e| ExportError::write(&self.spec.path, e))
    }

    /// Holds the last frame, writes the MP4 and puts it in place.
    pub fn finish(mut self) -> Result<(), ExportError> {
        if self.mux.frames() == 0 {
            return Err(VideoError::Stream("no frames").into());
        }
        for _ in 0..self.spec.hold_frames() {
            self.encode()?;
        }
        let (Some(sps), Some(pps)) = (self.sps.take(), self.pps.take()) else {
            return Err(VideoError::Stream("no parameter sets").into());
        };
        let (right, bottom) = (self.coded.0 - self.size.0, self.coded.1 - self.size.1);
        let sps = if right + bottom > 0 {
            crop_sps(&sps, right, bottom).map_err(VideoError::from)?
        } else {
            sps
        };
        let track = Track {
            width: self.size.0 as u16,
            height: self.size.1 as u16,
            timescale: self.spec.fps * 1000,
            frame_duration: 1000,
        };
        let path = self.spec.path;
        self.mux
            .finish(&track, &sps, &pps, &mut self.file)
            .map_err(|e| ExportError::write(&path, e))?;
        self.file.commit().map_err(|e| ExportError::write(&path, e))
    }
}

/// Keeps the first parameter set of its kind; the encoder repeats it before every keyframe,
/// and the MP4 carries it once (in `avcC`), so a different one later could not be told.
fn keep(slot: &mut Option<Vec<u8>>, nal: &[u8]) -> Result<(), VideoError> {
    match slot {
        None => {
            *slot = Some(nal.to_vec());
            Ok(())
        }
        Some(s) if s == nal => Ok(()),
        Some(_) => Err(VideoError::Stream("parameter sets that change midway")),
    }
}

/// `img` in YUV 4:2:0 at `size` (its last column and row repeated to fill it): BT.601
/// coefficients, limited range, rounded to nearest (OpenH264's own converter rounds down,
/// which tints white a little green), chroma from the mean of each 2×2 block.
fn rgba_to_i420(img: &RgbaImage, size: (u32, u32), planes: &mut [u8]) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (cw, ch) = (size.0 as usize, size.1 as usize);
    let raw = img.as_raw();
    let px = |x: usize, y: usize| {
        let i = (y.min(h - 1) * w + x.min(w - 1)) * 4;
        [raw[i], raw[i + 1], raw[i + 2]].map(i32::from)
    };
    let (yp, uv) = planes.split_at_mut(cw * ch);
    let (up, vp) = uv.split_at_mut(cw * ch / 4);
    for (y, row) in yp.chunks_exact_mut(cw).enumerate() {
        for (x, out) in row.iter_mut().enumerate() {
            let [r, g, b] = px(x, y);
            *out = (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) as u8;
        }
    }
    for cy in 0..ch / 2 {
        for cx in 0..cw / 2 {
            let mut sum = [0; 3];
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let p = px(2 * cx + dx, 2 * cy + dy);
                for c in 0..3 {
                    sum[c] += p[c];
                }
            }
            let [r, g, b] = sum.map(|s| (s + 2) / 4);
            let k = cy * (cw / 2) + cx;
            up[k] = (((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128) as u8;
            vp[k] = (((112 * r - 94 * g - 18 * b + 128) >> 8) + 128) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_sides_grow_to_even_and_large_frames_are_refused() {
        assert_eq!(VideoSpec::frame_size(1600, 1000).unwrap(), (1600, 1000));
        assert_eq!(VideoSpec::frame_size(301, 203).unwrap(), (302, 204));
        assert_eq!(VideoSpec::frame_size(2160, 3840).unwrap(), (2160, 3840));
        assert!(VideoSpec::frame_size(3841, 1000).is_err());
        assert!(VideoSpec::frame_size(3000, 3000).is_err());
        // White, black and red at their BT.601 values; the third column repeated into the
        // fourth.
        let colours = [[255, 255, 255], [0, 0, 0], [255, 0, 0]];
        let img = RgbaImage::from_fn(3, 1, |x, _| {
            let [r, g, b] = colours[x as usize];
            image::Rgba([r, g, b, 255])
        });
        let mut planes = vec![0; 4 * 2 * 3 / 2];
        rgba_to_i420(&img, (4, 2), &mut planes);
        assert_eq!(&planes[..8], [235, 16, 82, 82, 235, 16, 82, 82]);
        // Chroma: the mean of white and black is grey (128, 128); red is (90, 240).
        assert_eq!(&planes[8..], [128, 90, 128, 240]);
        let mut s = VideoSpec::new("x.mp4".into());
        assert_eq!(s.hold_frames(), 4);
        s.fps = 0;
        assert!(s.check().is_err());
        s.fps = 5;
        s.hold = -1.0;
        assert!(s.check().is_err());
    }
}
