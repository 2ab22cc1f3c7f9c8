//! Saving one edit: into a 1M-row ACLED-like CSV (target ≤ 1 s: the changed row is spliced in,
//! the untouched bytes are copied around it, the file is never parsed again) and, when
//! `INCIDENT_MAP_BENCH_TABLE` names a table URL (`postgresql://…?table=NAME`, e.g. 10M rows
//! loaded by `bash benches/db_clusters.sh URL NAME --load 10000000`), into that table (target
//! ≤ 50 ms: a versioned UPDATE, its triggers keeping the version, the history and the cells).
//!
//! `cargo bench --bench edit`

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use incident_map::progress::Control;
use incident_map::query::Filter;
use incident_map::source::{Edit, Fetch, Key, Source};
use serde_json::Value;

fn open(arg: &str) -> Arc<dyn Source> {
    incident_map::source::open(
        &[PathBuf::from(arg)],
        &Default::default(),
        &Control::default(),
    )
    .expect("open")
}

/// Writes `key` again and again, its notes alternating between two texts (each write from the
/// version the previous one left).
fn bench_writes(c: &mut Criterion, name: &str, src: &dyn Source, key: Key, field: &str) {
    let ctl = Control::default();
    let (mut draft, mut version) = src.draft(key, &ctl).expect("draft");
    let mut flip = false;
    let mut g = c.benchmark_group("edit");
    g.sample_size(10);
    g.bench_function(name, |b| {
        b.iter(|| {
            flip = !flip;
            let text = if flip {
                "edited by the bench"
            } else {
                "edited again"
            };
            draft.set(field, Value::String(text.into()));
            let w = src
                .write(
                    &Edit::Update {
                        key,
                        version,
                        draft: draft.clone(),
                    },
                    "bench",
                    &ctl,
                )
                .expect("write");
            version = w.version;
        })
    });
    g.finish();
}

fn bench_csv(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = dir.path().join("synth.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).expect("create"));
    incident_map::synth::write_acled_csv(1_000_000, 1, &mut f).expect("generate");
    drop(f);
    let src = open(p.to_str().expect("path"));
    let inc = src
        .incidents(
            &Filter::default(),
            &Fetch::up_to(usize::MAX),
            &Control::default(),
        )
        .expect("incidents");
    // A row in the middle of the file.
    let mid = (0..inc.store.len())
        .min_by_key(|&i| inc.store.line[i].abs_diff(500_000))
        .expect("rows");
    bench_writes(
        c,
        "one_row_of_a_1m_row_csv",
        &*src,
        inc.key(mid as u32),
        "notes",
    );
}

fn bench_table(c: &mut Criterion) {
    let Ok(url) = std::env::var("INCIDENT_MAP_BENCH_TABLE") else {
        eprintln!("INCIDENT_MAP_BENCH_TABLE not set: the table edit is not measured");
        return;
    };
    let src = open(&url);
    let rows = src
        .summary(&Control::default())
        .map(|s| s.incidents)
        .unwrap_or(0);
    // The row in the middle, by the table's own key (its `id`): finding a row by the data's
    // id is not what is measured.
    let key = incident_map::source::Key((rows / 2).max(1) as i64);
    bench_writes(
        c,
        &format!("one_row_of_a_{rows}_row_table"),
        &*src,
        key,
        "notes",
    );
}

criterion_group!(benches, bench_csv, bench_table);
criterion_main!(benches);
