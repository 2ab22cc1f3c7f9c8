//! Load and filter speed on synthetic ACLED-like data (see `incident_map::synth`).
//!
//! `cargo bench --bench store`. Targets (issue 2): a filter change (date range + one type) over
//! 1M loaded incidents ≤ 10 ms; (issue 10) a 100-vertex area over 1M ≤ 50 ms. Whole-process `check` on 1M rows: `benches/check_1m.sh`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use incident_map::import::{Overrides, load_bytes};
use incident_map::query::Filter;
use incident_map::store::Store;

fn csv(rows: u64) -> Vec<u8> {
    let mut v = Vec::new();
    incident_map::synth::write_acled_csv(rows, 1, &mut v).expect("generate");
    v
}

fn load(bytes: Vec<u8>) -> Store {
    let l = load_bytes(
        "synth.csv",
        "synth.csv".into(),
        bytes,
        &Overrides::default(),
        0,
    )
    .expect("load");
    l.builder.finish(vec![l.source])
}

fn bench_load(c: &mut Criterion) {
    let bytes = csv(100_000);
    let mut g = c.benchmark_group("load");
    g.sample_size(20);
    g.throughput(criterion::Throughput::Bytes(bytes.len() as u64));
    g.bench_function("acled_csv_100k", |b| {
        b.iter_batched(
            || bytes.clone(),
            |v| black_box(load(v).len()),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn bench_filter(c: &mut Criterion) {
    let store = load(csv(1_000_000));
    let mut g = c.benchmark_group("filter_1m");
    let f = Filter::default()
        .with_from("2019-01-01")
        .and_then(|f| f.with_to("2021-12-31"))
        .map(|f| Filter {
            types: vec!["Air/drone strike".into()],
            ..f
        })
        .expect("filter");
    g.bench_function("date_range_and_one_type", |b| {
        b.iter(|| black_box(store.select(&f).map_or(0, |s| s.len())))
    });
    let narrow = Filter::default()
        .with_from("2021-06-01")
        .and_then(|f| f.with_to("2021-06-30"))
        .expect("filter");
    g.bench_function("one_month", |b| {
        b.iter(|| black_box(store.select(&narrow).map_or(0, |s| s.len())))
    });
    g.bench_function("everything", |b| {
        b.iter(|| black_box(store.select(&Filter::default()).map_or(0, |s| s.len())))
    });
    let bbox = Filter {
        bbox: incident_map::query::BBox::parse("42,33,45,35").ok(),
        ..Default::default()
    };
    g.bench_function("bbox", |b| {
        b.iter(|| black_box(store.select(&bbox).map_or(0, |s| s.len())))
    });
    // Issue 10: a 100-vertex area of interest over Iraq (target ≤ 50 ms), and a 100 km radius.
    let mut r = incident_map::synth::Rng::new(5);
    let ring: Vec<[f64; 2]> = (0..100)
        .map(|k| {
            let t = std::f64::consts::TAU * k as f64 / 100.0;
            let rad = 2.0 + r.unit() * 2.5;
            [43.5 + rad * t.cos(), 33.0 + rad * t.sin()]
        })
        .collect();
    let within = Filter {
        within: Some(incident_map::area::Area::new(vec![vec![ring]])),
        ..Default::default()
    };
    g.bench_function("within_100_vertex_area", |b| {
        b.iter(|| black_box(store.select(&within).map_or(0, |s| s.len())))
    });
    let near = Filter {
        near: Some(incident_map::query::Near {
            lat: 33.3,
            lon: 44.4,
            km: 100.0,
        }),
        ..Default::default()
    };
    g.bench_function("near_100_km", |b| {
        b.iter(|| black_box(store.select(&near).map_or(0, |s| s.len())))
    });
    g.finish();
    let all: Vec<u32> = (0..store.len() as u32).collect();
    // Issue 11: the density layer's hexagons for 1M incidents at a country zoom (counted once per
    // selection and whole zoom level, then drawn from the counts).
    let mut g = c.benchmark_group("density_1m");
    let index = incident_map::cluster::ClusterIndex::build(&store);
    let csel = index.select(&store.select(&Filter::default()).expect("select"));
    g.bench_function("hexbin_zoom_7", |b| {
        b.iter(|| {
            black_box(
                incident_map::density::Hexbin::of_index(&index, &csel, 7)
                    .cells
                    .len(),
            )
        })
    });
    g.finish();
    // Issue 10: possible duplicates among 1M incidents, default rule (target ≤ 2 s).
    let mut g = c.benchmark_group("dupes_1m");
    g.sample_size(10);
    g.bench_function("default_rule", |b| {
        b.iter(|| {
            black_box(
                incident_map::dupes::groups(&store, &all, incident_map::dupes::Rule::default())
                    .len(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench_load, bench_filter);
criterion_main!(benches);
