//! MP4 (ISO/IEC 14496-12 and -15) holding one H.264 video track, laid out for the web: `moov`
//! before `mdat` ("fast start"), so a browser or a newsroom system can start playing before the
//! whole file has arrived. Samples stream into an unnamed temporary file as they come; only
//! their sizes and keyframe numbers stay in memory (8 bytes a frame at most), and the finished
//! file is `ftyp` + `moov` + `mdat`, the samples copied in from the temporary file.
//!
//! Our own ~200 lines rather than a muxer crate: the maintained ones keep every sample in memory
//! until the end (the fast start needs the sizes first) and the streaming one writes `moov`
//! last; one video track with one chunk per sample is a short, fixed list of boxes, and the tests
//! read every file back with ffprobe and decode it with ffmpeg.

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::path::Path;

/// The track's shape and timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Track {
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Time units a second.
    pub timescale: u32,
    /// Time units a frame (every frame lasts as long).
    pub frame_duration: u32,
}

/// H.264 samples on their way into an MP4 file.
pub struct Mp4Writer {
    spill: BufWriter<File>,
    sizes: Vec<u32>,
    keyframes: Vec<u32>,
    payload: u64,
}

impl Mp4Writer {
    /// Starts a file whose samples wait in an unnamed temporary file in `dir` (the target's
    /// folder: the copy at the end then stays on one disk, and a crash leaves nothing behind).
    pub fn new(dir: &Path) -> io::Result<Mp4Writer> {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        Ok(Mp4Writer {
            spill: BufWriter::with_capacity(1 << 20, tempfile::tempfile_in(dir)?),
            sizes: Vec::new(),
            keyframes: Vec::new(),
            payload: 0,
        })
    }

    /// Adds one frame: its NAL units, each after its length in 4 bytes (the `avcC` form).
    pub fn write_sample(&mut self, avcc: &[u8], keyframe: bool) -> io::Result<()> {
        let size = u32::try_from(avcc.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a frame over 4 GiB"))?;
        self.spill.write_all(avcc)?;
        self.sizes.push(size);
        if keyframe {
            self.keyframes.push(self.sizes.len() as u32);
        }
        self.payload += u64::from(size);
        Ok(())
    }

    /// Frames written so far.
    pub fn frames(&self) -> usize {
        self.sizes.len()
    }

    /// Writes the whole file to `out`: `ftyp`, `moov` (with the sequence and picture parameter
    /// sets, without start codes), `mdat` with the samples.
    pub fn finish(
        self,
        track: &Track,
        sps: &[u8],
        pps: &[u8],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if self.sizes.is_empty() || sps.len() < 4 || pps.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no frames or no parameter sets to write",
            ));
        }
        let ftyp = boxed(b"ftyp", &ftyp_body());
        // 64-bit offsets once the samples reach 4 GiB (the boxes before them are far smaller).
        let large = self.payload + (1 << 24) > u64::from(u32::MAX);
        let mdat_header = if large { 16 } else { 8 };
        let probe = moov(track, sps, pps, &self.sizes, &self.keyframes, 0, large);
        let first = (ftyp.len() + probe.len() + mdat_header) as u64;
        let moov = moov(track, sps, pps, &self.sizes, &self.keyframes, first, large);
        out.write_all(&ftyp)?;
        out.write_all(&moov)?;
        if large {
            out.write_all(&1u32.to_be_bytes())?;
            out.write_all(b"mdat")?;
            out.write_all(&(self.payload + 16).to_be_bytes())?;
        } else {
            out.write_all(&((self.payload + 8) as u32).to_be_bytes())?;
            out.write_all(b"mdat")?;
        }
        let mut spill = self.spill.into_inner().map_err(|e| e.into_error())?;
        spill.rewind()?;
        let copied = io::copy(&mut io::BufReader::with_capacity(1 << 20, spill), out)?;
        if copied != self.payload {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the temporary file of samples came back short",
            ));
        }
        Ok(())
    }
}

/// A box: size, type, body.
fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(body.len() + 8);
    b.extend_from_slice(&((body.len() + 8) as u32).to_be_bytes());
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

/// A full box: a box whose body starts with a version (0 here) and 24 bits of flags.
fn full(kind: &[u8; 4], flags: u32, body: &[u8]) -> Vec<u8> {
    let mut b = (flags & 0x00FF_FFFF).to_be_bytes().to_vec();
    b.extend_from_slice(body);
    boxed(kind, &b)
}

/// Big-endian numbers into a body.
#[derive(Default)]
struct Body(Vec<u8>);

impl Body {
    fn u16(mut self, v: u16) -> Body {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u32(mut self, v: u32) -> Body {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn bytes(mut self, v: &[u8]) -> Body {
        self.0.extend_from_slice(v);
        self
    }
    /// The identity transformation matrix of `mvhd` and `tkhd`.
    fn matrix(self) -> Body {
        [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000]
            .into_iter()
            .fold(self, Body::u32)
    }
}

fn ftyp_body() -> Vec<u8> {
    Body::default()
        .bytes(b"isom")
        .u32(0x200)
        .bytes(b"isomiso2avc1mp41")
        .0
}

/// `moov` with the chunk offsets counted from `first` (where the first sample lands).
fn moov(
    track: &Track,
    sps: &[u8],
    pps: &[u8],
    sizes: &[u32],
    keyframes: &[u32],
    first: u64,
    large: bool,
) -> Vec<u8> {
    let duration =
        (sizes.len() as u64 * u64::from(track.frame_duration)).min(u64::from(u32::MAX)) as u32;
    let mvhd = Body::default()
        .u32(0) // creation time: none, so the same export gives the same bytes
        .u32(0)
        .u32(track.timescale)
        .u32(duration)
        .u32(0x0001_0000) // rate 1.0
        .u16(0x0100) // volume 1.0
        .bytes(&[0; 10])
        .matrix()
        .bytes(&[0; 24])
        .u32(2); // next track id
    let tkhd = Body::default()
        .u32(0)
        .u32(0)
        .u32(1) // track id
        .u32(0)
        .u32(duration)
        .bytes(&[0; 8])
        .u16(0) // layer
        .u16(0) // alternate group
        .u16(0) // volume: a video track has none
        .u16(0)
        .matrix()
        .u32(u32::from(track.width) << 16)
        .u32(u32::from(track.height) << 16);
    let mdhd = Body::default()
        .u32(0)
        .u32(0)
        .u32(track.timescale)
        .u32(duration)
        .u16(0x55C4) // language "und"
        .u16(0);
    let hdlr = Body::default()
        .u32(0)
        .bytes(b"vide")
        .bytes(&[0; 12])
        .bytes(b"VideoHandler\0");
    let mdia = [
        full(b"mdhd", 0, &mdhd.0),
        full(b"hdlr", 0, &hdlr.0),
        boxed(
            b"minf",
            &minf(track, sps, pps, sizes, keyframes, first, large),
        ),
    ]
    .concat();
    let trak = [full(b"tkhd", 3, &tkhd.0), boxed(b"mdia", &mdia)].concat();
    boxed(
        b"moov",
        &[full(b"mvhd", 0, &mvhd.0), boxed(b"trak", &trak)].concat(),
    )
}

/// `minf`: the video header, the data reference (this file) and the sample tables.
fn minf(
    track: &Track,
    sps: &[u8],
    pps: &[u8],
    sizes: &[u32],
    keyframes: &[u32],
    first: u64,
    large: bool,
) -> Vec<u8> {
    let vmhd = full(b"vmhd", 1, &[0; 8]);
    let url = full(b"url ", 1, &[]); // flag 1: the samples are in this file
    let dinf = boxed(
        b"dinf",
        &full(b"dref", 0, &[&1u32.to_be_bytes()[..], &url].concat()),
    );
    let n = sizes.len() as u32;
    let stts = Body::default().u32(1).u32(n).u32(track.frame_duration);
    let stss = keyframes
        .iter()
        .fold(Body::default().u32(keyframes.len() as u32), |b, &k| {
            b.u32(k)
        });
    let stsz = sizes
        .iter()
        .fold(Body::default().u32(0).u32(n), |b, &s| b.u32(s));
    // One sample a chunk: each chunk's offset is where its sample starts.
    let stsc = Body::default().u32(1).u32(1).u32(1).u32(1);
    let mut offsets = Body::default().u32(n);
    let mut at = first;
    for &s in sizes {
        offsets = if large {
            offsets.bytes(&at.to_be_bytes())
        } else {
            offsets.u32(at as u32)
        };
        at += u64::from(s);
    }
    let stbl = [
        full(b"stsd", 0, &stsd(track, sps, pps)),
        full(b"stts", 0, &stts.0),
        full(b"stss", 0, &stss.0),
        full(b"stsz", 0, &stsz.0),
        full(b"stsc", 0, &stsc.0),
        full(if large { b"co64" } else { b"stco" }, 0, &offsets.0),
    ]
    .concat();
    [vmhd, dinf, boxed(b"stbl", &stbl)].concat()
}

/// `stsd` with one `avc1` entry and its `avcC` (profile, level, the parameter sets).
fn stsd(track: &Track, sps: &[u8], pps: &[u8]) -> Vec<u8> {
    let avcc = Body::default()
        .bytes(&[1, sps[1], sps[2], sps[3]])
        .bytes(&[0xFF, 0xE1]) // 4-byte NAL lengths; one SPS
        .u16(sps.len() as u16)
        .bytes(sps)
        .bytes(&[1]) // one PPS
        .u16(pps.len() as u16)
        .bytes(pps);
    let avc1 = Body::default()
        .bytes(&[0; 6])
        .u16(1) // data reference index
        .bytes(&[0; 16])
        .u16(track.width)
        .u16(track.height)
        .u32(0x0048_0000) // 72 dpi
        .u32(0x0048_0000)
        .u32(0)
        .u16(1) // one frame a sample
        .bytes(&[0; 32]) // no compressor name
        .u16(0x0018) // colour, no alpha
        .u16(0xFFFF)
        .bytes(&boxed(b"avcC", &avcc.0));
    [&1u32.to_be_bytes()[..], &boxed(b"avc1", &avc1.0)].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Box types and sizes at the top level of `bytes`.
    fn top(bytes: &[u8]) -> Vec<(String, u64)> {
        let mut at = 0;
        let mut v = Vec::new();
        while at + 8 <= bytes.len() {
            let mut size = u64::from(u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()));
            if size == 1 {
                size = u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap());
            }
            v.push((String::from_utf8_lossy(&bytes[at + 4..at + 8]).into(), size));
            at += size as usize;
        }
        assert_eq!(at, bytes.len(), "the boxes cover the file");
        v
    }

    #[test]
    fn moov_comes_first_and_offsets_point_at_the_samples() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = Mp4Writer::new(dir.path()).unwrap();
        let samples: [&[u8]; 3] = [b"\0\0\0\x02\x65\x01", b"\0\0\0\x01\x41", b"\0\0\0\x01\x42"];
        for (k, s) in samples.iter().enumerate() {
            w.write_sample(s, k == 0).unwrap();
        }
        assert_eq!(w.frames(), 3);
        let track = Track {
            width: 64,
            height: 48,
            timescale: 2000,
            frame_duration: 1000,
        };
        let mut out = Vec::new();
        w.finish(
            &track,
            &[0x67, 0x42, 0xC0, 0x1F, 0xAA],
            &[0x68, 0xCE],
            &mut out,
        )
        .unwrap();
        let boxes = top(&out);
        let kinds: Vec<&str> = boxes.iter().map(|b| b.0.as_str()).collect();
        assert_eq!(kinds, ["ftyp", "moov", "mdat"]);
        assert!(out.ends_with(&samples.concat()));
        // The first chunk offset (stco's first entry) is where the samples start.
        let stco = out.windows(4).position(|w| w == b"stco").unwrap();
        let first = u32::from_be_bytes(out[stco + 12..stco + 16].try_into().unwrap()) as usize;
        assert_eq!(first, out.len() - samples.concat().len());
        assert_eq!(&out[first..first + 6], samples[0]);
        // Nothing left in the folder: the temporary file had no name.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
