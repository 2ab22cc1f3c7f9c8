//! Encoding time of the video export, apart from drawing: the PNG frames of a series (made by
//! `benches/video.sh`) encoded again with the export's `VideoWriter`, one after the other.
//! Usage: `cargo bench --bench video -- DIR` (DIR holds `*_0001.png`, `*_0002.png`, …).

use std::time::Instant;

use incident_map::export::video::{VideoSpec, VideoWriter};

fn main() {
    let Some(dir) = std::env::args().skip(1).find(|a| !a.starts_with('-')) else {
        eprintln!("usage: cargo bench --bench video -- DIR_OF_PNG_FRAMES");
        return;
    };
    let mut frames: Vec<_> = std::fs::read_dir(&dir)
        .expect("the frames' folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    frames.sort();
    let images: Vec<_> = frames
        .iter()
        .map(|p| image::open(p).expect("a PNG").to_rgba8())
        .collect();
    let Some(first) = images.first() else {
        eprintln!("no PNG frames in {dir}");
        return;
    };
    let out = tempfile::tempdir().expect("a temporary folder");
    let mut spec = VideoSpec::new(out.path().join("bench.mp4"));
    spec.hold = 0.0;
    let t0 = Instant::now();
    let mut v = VideoWriter::create(&spec, first.width(), first.height()).expect("an encoder");
    for img in &images {
        v.add(img).expect("encoded");
    }
    let encoded = t0.elapsed();
    v.finish().expect("written");
    let all = t0.elapsed();
    let bytes = std::fs::metadata(&spec.path).map_or(0, |m| m.len());
    println!(
        "{} frames of {}×{}: {:.1} ms a frame to encode, {:.1} ms to write the MP4 ({} kB, {:.1} kB a frame)",
        images.len(),
        first.width(),
        first.height(),
        encoded.as_secs_f64() * 1000.0 / images.len() as f64,
        (all - encoded).as_secs_f64() * 1000.0,
        bytes / 1000,
        bytes as f64 / 1000.0 / images.len() as f64
    );
}
