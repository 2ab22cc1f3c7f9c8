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
use openh264::formats::{RgbaSliceU8, YUVBuffer};

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
    /// The last frame in YUV, kept for the hold.
    yuv: YUVBuffer,
    /// Room for a frame grown to the coded size.
    padded: Vec<u8>,
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
            yuv: YUVBuffer::new(coded.0 as usize, coded.1 as usize),
            padded: Vec::new(),
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
        let (w, h) = self.coded;
        let dims = (w as usize, h as usize);
        if img.dimensions() == self.coded {
            self.yuv.read_rgba8(RgbaSliceU8::new(img.as_raw(), dims));
        } else {
            pad_into(img, self.coded, &mut self.padded);
            self.yuv.read_rgba8(RgbaSliceU8::new(&self.padded, dims));
        }
        self.encode()
    }

    /// Encodes the frame in `self.yuv` and adds it to the file.
    fn encode(&mut self) -> Result<(), ExportError> {
        let n = self.mux.frames() as u64;
        let ms = n * 1000 / u64::from(self.spec.fps);
        let bits = self
            .encoder
            .encode_at(&self.yuv, Timestamp::from_millis(ms))
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

/// `img` grown to `size`, its last column and row repeated.
fn pad_into(img: &RgbaImage, size: (u32, u32), out: &mut Vec<u8>) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (pw, ph) = (size.0 as usize, size.1 as usize);
    out.clear();
    out.reserve(pw * ph * 4);
    let raw = img.as_raw();
    for y in 0..ph {
        let row = &raw[y.min(h - 1) * w * 4..][..w * 4];
        out.extend_from_slice(row);
        for _ in w..pw {
            out.extend_from_slice(&row[(w - 1) * 4..]);
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
        let img = RgbaImage::from_fn(3, 1, |x, _| image::Rgba([x as u8, 0, 0, 255]));
        let mut out = Vec::new();
        pad_into(&img, (4, 2), &mut out);
        let reds: Vec<u8> = out.chunks(4).map(|p| p[0]).collect();
        assert_eq!(reds, [0, 1, 2, 2, 0, 1, 2, 2]);
        let mut s = VideoSpec::new("x.mp4".into());
        assert_eq!(s.hold_frames(), 4);
        s.fps = 0;
        assert!(s.check().is_err());
        s.fps = 5;
        s.hold = -1.0;
        assert!(s.check().is_err());
    }
}
