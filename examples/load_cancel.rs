//! Measures progress and cancel latency on a big file: `cargo run --release --example load_cancel -- FILE SECS`.
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(file), Some(secs)) = (args.get(1), args.get(2).and_then(|s| s.parse::<f64>().ok()))
    else {
        eprintln!("usage: load_cancel FILE SECS");
        std::process::exit(2);
    };
    let ctl = std::sync::Arc::new(incident_map::import::Control::default());
    let c = ctl.clone();
    let f = std::path::PathBuf::from(file);
    let t = Instant::now();
    let h = std::thread::spawn(move || {
        incident_map::import::load_paths_with(&[f], &Default::default(), &c)
    });
    std::thread::sleep(Duration::from_secs_f64(secs));
    println!("progress after {secs} s: {:.1} %", ctl.fraction() * 100.0);
    let asked = Instant::now();
    ctl.cancel.store(true, Ordering::Relaxed);
    let r = h.join().map(|r| r.cancelled).unwrap_or(false);
    println!(
        "cancelled: {r}, {} ms after the request ({} ms in all)",
        asked.elapsed().as_millis(),
        t.elapsed().as_millis()
    );
}
