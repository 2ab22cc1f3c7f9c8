//! CPU frame time of the whole window (egui UI + tessellation) with 1M incidents, and the
//! cluster index build. `cargo bench --bench frame`.
//!
//! Targets (issue 3): median frame ≤ 8 ms at world, country and city zoom while panning, and
//! while dragging the timeline (every frame a new date range: filter, re-cluster, draw).

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use incident_map::app::{App, Saved, WindowOptions};
use incident_map::cluster::ClusterIndex;
use incident_map::view::tiles::BaseLayer;
use walkers::lon_lat;

const ROWS: u64 = 1_000_000;

fn app_with_1m(ctx: &egui::Context) -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("synth.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).expect("create"));
    incident_map::synth::write_acled_csv(ROWS, 1, &mut f).expect("generate");
    drop(f);
    let mut app = App::new(
        ctx,
        WindowOptions {
            files: vec![p],
            base: Some(BaseLayer::Offline),
            ..Default::default()
        },
        Some(Saved::default()),
    );
    app.finish_loading();
    (app, dir)
}

fn input(t: f64) -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1600.0, 1000.0),
        )),
        time: Some(t),
        ..Default::default()
    }
}

/// Runs one full frame: UI pass plus tessellation.
fn frame(ctx: &egui::Context, app: &mut App, t: f64) -> usize {
    let out = ctx.run_ui(input(t), |ui| app.ui(ui));
    let prims = ctx.tessellate(out.shapes, out.pixels_per_point);
    prims.len()
}

fn median_ms(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn bench_frames(c: &mut Criterion) {
    let ctx = egui::Context::default();
    let (mut app, _dir) = app_with_1m(&ctx);
    for k in 0..5 {
        frame(&ctx, &mut app, k as f64 * 0.016);
    }
    let mut g = c.benchmark_group("frame_1m");
    g.sample_size(30);
    for (name, lon, lat, zoom) in [
        ("world", 10.0, 20.0, 1.5),
        ("country", 44.0, 33.3, 6.0),
        ("city", 44.36, 33.31, 12.0),
        // Issue 21: zoom 5 over Europe, where the offline roads are densest.
        ("europe_z5", 10.0, 48.0, 5.0),
    ] {
        let mut t = 1.0;
        let mut k = 0u32;
        g.bench_function(format!("pan_{name}"), |b| {
            b.iter(|| {
                k += 1;
                // A small pan every frame, as while dragging.
                let d = (k % 20) as f64 * 0.002 * 2f64.powf(6.0 - zoom);
                app.map.memory.center_at(lon_lat(lon + d, lat));
                let _ = app.map.memory.set_zoom(zoom);
                t += 0.016;
                black_box(frame(&ctx, &mut app, t))
            })
        });
    }
    app.map.memory.center_at(lon_lat(44.0, 33.3));
    let _ = app.map.memory.set_zoom(6.0);
    let (first, _) = app
        .data
        .as_ref()
        .and_then(|d| d.store.day_range())
        .expect("data");
    let mut k = 0;
    let mut t = 100.0;
    g.bench_function("timeline_drag_country", |b| {
        b.iter(|| {
            k += 1;
            // A one-year window sliding by a week per frame, as while dragging the brush.
            let from = first + (k % 400) * 7;
            app.set_dates(Some(from), Some(from + 365));
            t += 0.016;
            black_box(frame(&ctx, &mut app, t))
        })
    });
    // Issue 11: the density layers at a country zoom, panning and while dragging the timeline
    // (every frame a new selection: hexagons counted again, or a new heat map). The heat map pans
    // in larger steps: it is computed again only when the view leaves the area it covers.
    use incident_map::density::Layer;
    for (layer, name, steps, step) in [
        (Layer::Hexbin, "hexbin", 20, 0.002),
        (Layer::Heat, "heat", 40, 0.05),
    ] {
        app.set_dates(None, None);
        app.map.layer = layer;
        let mut k = 0u32;
        g.bench_function(format!("{name}_pan_country"), |b| {
            b.iter(|| {
                k += 1;
                let d = (k % steps) as f64 * step;
                app.map.memory.center_at(lon_lat(44.0 + d, 33.3));
                t += 0.016;
                black_box(frame(&ctx, &mut app, t))
            })
        });
        app.map.memory.center_at(lon_lat(44.0, 33.3));
        let mut k = 0;
        g.bench_function(format!("{name}_timeline_drag_country"), |b| {
            b.iter(|| {
                k += 1;
                let from = first + (k % 400) * 7;
                app.set_dates(Some(from), Some(from + 365));
                t += 0.016;
                black_box(frame(&ctx, &mut app, t))
            })
        });
    }
    app.set_dates(None, None);
    app.map.layer = incident_map::density::Layer::Points;
    g.finish();

    // The same numbers as medians of plain wall-clock runs, for the README.
    let mut report = Vec::new();
    for (name, lon, lat, zoom) in [
        ("world", 10.0, 20.0, 1.5),
        ("country", 44.0, 33.3, 6.0),
        ("city", 44.36, 33.31, 12.0),
    ] {
        let mut v = Vec::new();
        for k in 0..60 {
            app.map.memory.center_at(lon_lat(
                lon + (k % 20) as f64 * 0.002 * 2f64.powf(6.0 - zoom),
                lat,
            ));
            let _ = app.map.memory.set_zoom(zoom);
            let s = Instant::now();
            frame(&ctx, &mut app, 200.0 + k as f64 * 0.016);
            v.push(s.elapsed().as_secs_f64() * 1000.0);
        }
        report.push(format!("pan {name}: median {:.2} ms", median_ms(v)));
    }
    eprintln!(
        "frame medians (1M incidents, 1600x1000): {}",
        report.join(", ")
    );
}

/// Issue 11: the offline basemap's load (1:110m and 1:50m land, water, borders and cities, on
/// the first frame) and the 1:10m rivers and lakes (on a thread of their own, when first needed).
fn bench_basemap(c: &mut Criterion) {
    use incident_map::view::basemap::Basemap;
    let mut g = c.benchmark_group("basemap");
    g.sample_size(10);
    g.bench_function("load", |b| {
        b.iter(|| black_box(Basemap::load().polygon_count()))
    });
    g.bench_function("load_detail", |b| {
        b.iter_batched(
            Basemap::load,
            |m| {
                m.load_detail();
                black_box(m.detail_loaded())
            },
            criterion::BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn bench_cluster_build(c: &mut Criterion) {
    let mut v = Vec::new();
    incident_map::synth::write_acled_csv(ROWS, 1, &mut v).expect("generate");
    let l = incident_map::import::load_bytes("s.csv", "s.csv".into(), v, &Default::default(), 0)
        .expect("load");
    let store = l.builder.finish(vec![l.source]);
    let mut g = c.benchmark_group("cluster_1m");
    g.sample_size(10);
    g.bench_function("build_index", |b| {
        b.iter(|| black_box(ClusterIndex::build(&store).len()))
    });
    let idx = ClusterIndex::build(&store);
    let sel = store.select(&Default::default()).expect("select");
    g.bench_function("select_all", |b| {
        b.iter(|| black_box(idx.select(&sel).total))
    });
    g.finish();
}

criterion_group!(benches, bench_basemap, bench_cluster_build, bench_frames);
criterion_main!(benches);
