//! The source conformance suite: every engine implementing `source::Source` is asked the same
//! questions as the files it was made from, and must give the same answers — the summary, the
//! matching incidents, the aggregates and the cluster cells at four zooms for every case of
//! every filter of the list (each alone, and combined), and every matching incident's details
//! by key. The PostGIS engine runs against a real PostgreSQL + PostGIS cluster started for the
//! test (`common/pg.rs`). A new engine passes this suite or is not done: add it to `engines`.

#[allow(dead_code)] // each test file uses part of the helpers
mod common {
    pub mod citus;
    pub mod edits;
    pub mod kit;
    pub mod pg;
    pub mod summary;
}

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::pg::Pg;
use incident_map::cells::{span_of, view_for};
use incident_map::edit::Draft;
use incident_map::model::Role;
use incident_map::progress::Control;
use incident_map::query::Filter;
use incident_map::query::filters::conformance_cases;
use incident_map::source::{Edit, Fetch, Incidents, Key, Source, SourceError};
use serde_json::Value;

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson")
}

/// An ACLED-like file: actor1/actor2/assoc_actor columns, time precision codes, many types.
fn synthetic(dir: &Path) -> PathBuf {
    let p = dir.join("synth.csv");
    let mut v = Vec::new();
    incident_map::synth::write_acled_csv(3000, 11, &mut v).unwrap();
    std::fs::write(&p, v).unwrap();
    p
}

fn open(args: &[PathBuf]) -> Arc<dyn Source> {
    incident_map::source::open(args, &Default::default(), &Control::default())
        .unwrap_or_else(|e| panic!("open {args:?}: {e}"))
}

/// Loads `file` into table `name` with the program's own `load` (and `extra` flags).
fn load(pg: &Pg, file: &Path, name: &str, extra: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_incident-map"))
        .args([
            "load",
            file.to_str().unwrap(),
            "--into",
            &pg.url(),
            "--table",
            name,
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Every engine made from `file`, by name (files are the reference): a PostGIS table, and a
/// distributed table on a Citus coordinator with two workers when Citus is installed.
fn engines(pg: &Pg, file: &Path, table: &str) -> Vec<(&'static str, Arc<dyn Source>)> {
    load(pg, file, table, &[]);
    let mut all = vec![("postgis", open(&[PathBuf::from(pg.table_url(table))]))];
    if let Some(citus) = common::citus::shared() {
        let c = &citus.coordinator;
        load(c, file, table, &["--distribute"]);
        assert_eq!(
            c.query_count(&format!(
                "SELECT count(*) FROM citus_tables
                 WHERE table_name = '{table}'::regclass AND citus_table_type = 'distributed'"
            )),
            1,
            "{table} is distributed"
        );
        all.push(("citus", open(&[PathBuf::from(c.table_url(table))])));
    }
    all
}

/// An incident's typed values, as one comparable line.
fn row(inc: &Incidents, i: u32) -> String {
    let s = &*inc.store;
    let i = i as usize;
    format!(
        "{}..{} {} {} {:?} {:?} {:?} {} {} {} {} {} {} line {}",
        s.day[i],
        s.day_end[i],
        s.minute[i],
        s.offset[i],
        s.date_precision[i],
        s.loc_precision[i],
        s.type_name(i),
        s.category_name(i),
        s.place_name(i),
        s.lon[i],
        s.lat[i],
        s.fatalities[i],
        s.injuries[i],
        s.line[i],
    ) + if s.disputed[i] { " disputed" } else { "" }
}

fn rows(inc: &Incidents) -> Vec<(String, u32)> {
    let mut v: Vec<(String, u32)> = inc
        .selection
        .indices
        .iter()
        .map(|&i| (row(inc, i), i))
        .collect();
    v.sort();
    v
}

fn incidents(src: &dyn Source, f: &Filter) -> Incidents {
    src.incidents(f, &Fetch::up_to(usize::MAX), &Control::default())
        .unwrap_or_else(|e| panic!("{}: incidents of {f:?}: {e}", src.name()))
}

/// The same summary, but for where it came from.
fn same_summary(reference: &dyn Source, engine: &dyn Source, name: &str) {
    let ctl = Control::default();
    let (mut a, mut b) = (
        reference.summary(&ctl).unwrap(),
        engine.summary(&ctl).unwrap(),
    );
    a.files.clear();
    b.files.clear();
    a.skipped = 0;
    assert_eq!(a, b, "{name}: summary");
}

/// The same cells at four zooms over the whole world and over the data (counts and types
/// exactly, centroids to a micrometre of the map).
fn same_cells(reference: &dyn Source, engine: &dyn Source, f: &Filter, name: &str) {
    let ctl = Control::default();
    for zoom in [2.0, 5.0, 8.0, 11.0] {
        let (level, view, _) = view_for(zoom, f.bbox);
        let span = span_of(view, level);
        let a = reference.cells(f, level, span, &ctl).unwrap();
        let b = engine.cells(f, level, span, &ctl).unwrap();
        assert_eq!(a.len(), b.len(), "{name}: cells at zoom {zoom} of {f:?}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (x.cx, x.cy, x.count, &x.types),
                (y.cx, y.cy, y.count, &y.types),
                "{name}: zoom {zoom}, {f:?}"
            );
            assert!(
                (x.sx - y.sx).abs() < 1e-9 * x.count as f64
                    && (x.sy - y.sy).abs() < 1e-9 * x.count as f64,
                "{name}: centroid at zoom {zoom}, {f:?}"
            );
        }
    }
}

/// Every matching incident's details by key, the same but for where the record lives.
fn same_details(
    reference: &dyn Source,
    engine: &dyn Source,
    (ra, rb): (&Incidents, &Incidents),
    name: &str,
    lines: bool,
) {
    let ctl = Control::default();
    let by_record = |inc: &Incidents| {
        let mut v: Vec<(String, u32)> = inc
            .selection
            .indices
            .iter()
            .map(|&i| (format!("{:?}", inc.store.record(i as usize).unwrap()), i))
            .collect();
        v.sort();
        v
    };
    // Matched by their line, or (lines differ) by their records.
    let (pa, pb) = if lines {
        (rows(ra), rows(rb))
    } else {
        (by_record(ra), by_record(rb))
    };
    for ((line_a, i), (_, j)) in pa.iter().zip(pb.iter()) {
        let mut a = reference.details(ra.key(*i), &ctl).unwrap();
        let mut b = engine.details(rb.key(*j), &ctl).unwrap();
        // Where the record lives differs (file:line, table:line); the line is the same.
        let line = |o: &str| o.rsplit(':').next().unwrap_or("").to_string();
        if lines {
            assert_eq!(line(&a.origin), line(&b.origin), "{name}: {line_a}");
        }
        a.origin.clear();
        b.origin.clear();
        assert_eq!(a, b, "{name}: details of {line_a}");
    }
}

/// The suite: `engine` must answer every question as `reference` (files) does.
fn conforms(reference: &dyn Source, engine: &dyn Source, name: &str) {
    conforms_with(reference, engine, name, true);
}

/// [`conforms`], comparing where each incident came from (its line) only when `lines` (an
/// incident added by an edit has a line in the file, none in a table).
fn conforms_with(reference: &dyn Source, engine: &dyn Source, name: &str, lines: bool) {
    same_summary(reference, engine, name);
    let ctl = Control::default();
    let cases = conformance_cases();
    let mut matched = 0;
    for f in &cases {
        let (a, b) = (incidents(reference, f), incidents(engine, f));
        let (ra, rb) = (rows(&a), rows(&b));
        let text = |r: &[(String, u32)]| {
            let mut v: Vec<String> = r
                .iter()
                .map(|x| match x.0.split_once(" line ") {
                    Some((a, b)) if !lines => {
                        a.to_string() + b.split_once(' ').map_or("", |(_, rest)| rest)
                    }
                    _ => x.0.clone(),
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(text(&ra), text(&rb), "{name}: incidents of {f:?}");
        matched += ra.len();
        assert_eq!(
            reference.aggregates(f, &ctl).unwrap(),
            engine.aggregates(f, &ctl).unwrap(),
            "{name}: aggregates of {f:?}"
        );
        same_cells(reference, engine, f, name);
        same_details(reference, engine, (&a, &b), name, lines);
    }
    // The cases select something: a suite of empty answers would prove nothing.
    assert!(
        matched > cases.len(),
        "{name}: the cases match too little ({matched})"
    );
    // A key that is not there is an error, not a panic or another incident.
    assert!(engine.details(incident_map::source::Key(-7), &ctl).is_err());
}

#[test]
fn every_engine_answers_like_the_files_on_the_bundled_data() {
    let pg = Pg::start();
    let files = open(&[bundled()]);
    for (name, engine) in engines(&pg, &bundled(), "bundled") {
        conforms(&*files, &*engine, name);
    }
}

#[test]
fn every_engine_answers_like_the_files_on_acled_like_data() {
    let pg = Pg::start();
    let dir = tempfile::tempdir().unwrap();
    let file = synthetic(dir.path());
    let files = open(std::slice::from_ref(&file));
    for (name, engine) in engines(&pg, &file, "acled") {
        conforms(&*files, &*engine, name);
    }
}

/// The key of the incident whose own `id` is `id`.
fn key_of(src: &dyn Source, id: &str) -> Key {
    common::edits::key_of(src, "id", id)
}

/// The same edits through a source: a correction, a new incident, a deletion, and a write from
/// a stale version (a conflict that carries theirs); gives the ops of the history of the
/// incident edited twice.
fn edit_through(src: &dyn Source, new: &Draft) -> Vec<String> {
    let ctl = Control::default();
    let name = src.name().to_string();
    let key = key_of(src, "IQ-2021-018");
    let (mut d, version) = src.draft(key, &ctl).unwrap();
    d.set(
        "actors",
        Value::String("Revenge of al-Muhandis Brigade (claimed, AFP)".into()),
    );
    let w = src
        .write(
            &Edit::Update {
                key,
                version,
                draft: d,
            },
            "ana",
            &ctl,
        )
        .unwrap_or_else(|e| panic!("{name}: update: {e}"));
    assert_ne!(w.version, version, "{name}: a write gives a new version");
    let added = src
        .write(&Edit::Insert(new.clone()), "ana", &ctl)
        .unwrap_or_else(|e| panic!("{name}: insert: {e}"));
    assert_eq!(
        src.details(added.key.unwrap(), &ctl).unwrap().place,
        "Test place",
        "{name}"
    );
    let gone = key_of(src, "IQ-2021-042");
    let (_, version) = src.draft(gone, &ctl).unwrap();
    src.write(&Edit::Delete { key: gone, version }, "ana", &ctl)
        .unwrap_or_else(|e| panic!("{name}: delete: {e}"));
    assert!(src.details(gone, &ctl).is_err(), "{name}: deleted");
    let key = stale_write(src, gone);
    let h = src.history(Some(key), &ctl).unwrap();
    assert!(
        h.iter().all(|e| e.incident == "IQ-2021-044"),
        "{name}: {h:?}"
    );
    assert!(
        h[0].editor.contains("bo") && h[1].editor.contains("ana"),
        "{name}: {h:?}"
    );
    assert_eq!(
        h[1].before.as_ref().unwrap()["properties"]["injuries"],
        1,
        "{name}"
    );
    h.into_iter().map(|e| e.op).collect()
}

/// Two edits of IQ-2021-044 from the same version: the second is refused with the first's
/// values, then written over them by choice; a stale edit of the deleted `gone` is refused.
fn stale_write(src: &dyn Source, gone: Key) -> Key {
    let ctl = Control::default();
    let name = src.name().to_string();
    let key = key_of(src, "IQ-2021-044");
    let (d, version) = src.draft(key, &ctl).unwrap();
    let (mut first, mut second) = (d.clone(), d);
    first.set("injuries", Value::from(1));
    src.write(
        &Edit::Update {
            key,
            version,
            draft: first,
        },
        "bo",
        &ctl,
    )
    .unwrap();
    second.set("date", Value::String("2021-04-22".into()));
    match src.write(
        &Edit::Update {
            key,
            version,
            draft: second.clone(),
        },
        "ana",
        &ctl,
    ) {
        Err(SourceError::Conflict {
            theirs: Some(t),
            version: now,
            ..
        }) => {
            assert_eq!(t.get("injuries"), Some(&Value::from(1)), "{name}");
            second.set("injuries", Value::from(1));
            src.write(
                &Edit::Update {
                    key,
                    version: now,
                    draft: second,
                },
                "ana",
                &ctl,
            )
            .unwrap();
        }
        other => panic!("{name}: a stale write must conflict, not {other:?}"),
    }
    // A deleted incident's stale edit is a conflict too (theirs: gone).
    let (d, _) = src.draft(key_of(src, "IQ-2021-001"), &ctl).unwrap();
    assert!(
        matches!(
            src.write(
                &Edit::Update {
                    key: gone,
                    version: 1,
                    draft: d
                },
                "ana",
                &ctl
            ),
            Err(SourceError::Conflict { theirs: None, .. } | SourceError::NoSuchIncident(_))
        ),
        "{name}"
    );
    key
}

#[test]
fn every_engine_writes_like_the_files() {
    let pg = Pg::start();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("incidents.geojson");
    std::fs::copy(bundled(), &copy).unwrap();
    let files = open(std::slice::from_ref(&copy));
    let schema = files.schema(&Control::default()).unwrap();
    let mut new = Draft::empty(&schema);
    new.lon = 43.1;
    new.lat = 33.36;
    for (role, v) in [
        (Role::Date, "2021-07-01"),
        (Role::Type, "Rocket attack"),
        (Role::LocPrecision, "near"),
        (Role::Place, "Test place"),
        (Role::Source, "Reuters, 2021-07-01"),
    ] {
        assert!(new.set_role(&schema, role, v));
    }
    for (k, (name, engine)) in engines(&pg, &copy, "edited").into_iter().enumerate() {
        assert_eq!(
            engine.schema(&Control::default()).unwrap(),
            schema,
            "{name}"
        );
        assert!(engine.read_only(&Control::default()).is_none(), "{name}");
        let ops = edit_through(&*engine, &new);
        // Each engine's edits are made on a fresh copy of the file too.
        let again = dir.path().join(format!("incidents-{k}.geojson"));
        std::fs::copy(bundled(), &again).unwrap();
        let files = open(&[again]);
        assert_eq!(edit_through(&*files, &new), ops, "{name}: history");
        conforms_with(&*files, &*engine, name, false);
    }
}

/// On a Citus cluster (coordinator + two workers): the cluster cells of a distributed table are
/// aggregated on the workers, shard by shard (EXPLAIN), the coordinator adding the partial
/// counts; `load --append` adds to it; another tool's insert without the cluster key gets it
/// from the row trigger, which Citus runs on the shard, as the program computes it.
#[test]
fn a_distributed_table_aggregates_on_the_workers_and_takes_appends_and_inserts() {
    let Some(citus) = common::citus::shared() else {
        eprintln!("skipped: {}", common::citus::missing().unwrap_or_default());
        return;
    };
    let c = &citus.coordinator;
    load(c, &bundled(), "spread", &["--distribute"]);
    let db = incident_map::db::DbSource::parse(&c.table_url("spread")).unwrap();
    let mut client = db.connect().unwrap();
    let (sql, w) =
        incident_map::db::query::cells_sql(&db, &Filter::default(), 5, ((0, 31), (0, 31)));
    let plan: Vec<String> = client
        .query(
            &format!("EXPLAIN {sql}"),
            &incident_map::db::query::refs(&w),
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let plan = plan.join("\n");
    assert!(plan.contains("Custom Scan (Citus Adaptive)"), "{plan}");
    assert!(plan.contains("Task Count: 32"), "{plan}");
    let (_, task) = plan.split_once("->  Task").expect("a task");
    assert!(
        citus
            .workers
            .iter()
            .any(|w| task.contains(&format!("port={}", w.port))),
        "the task runs on a worker: {plan}"
    );
    assert!(
        task.contains("Aggregate") && task.contains("Group Key: (morton >> 52), type"),
        "the cells are grouped on the worker: {plan}"
    );
    same_commands(&c.table_url("spread"));
    // Appended: twice the file, the same types.
    load(c, &bundled(), "spread", &["--append"]);
    let table = open(&[PathBuf::from(c.table_url("spread"))]);
    let files = open(&[bundled()]);
    let (t, f) = (
        table.summary(&Control::default()).unwrap(),
        files.summary(&Control::default()).unwrap(),
    );
    assert_eq!(t.incidents, 2 * f.incidents);
    assert!(f.types.iter().all(|(k, n)| t.types[k] == 2 * n), "{t:?}");
    // Another tool's insert: the keys come from the trigger on the shard.
    c.sql(
        "INSERT INTO spread (geom, day_first, day_last, date_precision, location_precision, type)
         VALUES (ST_SetSRID(ST_MakePoint(44.2344, 33.2625), 4326), '2021-06-05', '2021-06-05',
                 'day', 'exact', 'Rocket attack')",
    );
    let key = client
        .query_one(
            "SELECT morton FROM spread WHERE origin_file = '' AND place = ''",
            &[],
        )
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(key, incident_map::db::load::morton_key(44.2344, 33.2625));
    // Another tool's update counts the version up (the row trigger, on the shard), and a move
    // gives the row its new key.
    c.sql(
        "UPDATE spread SET geom = ST_SetSRID(ST_MakePoint(42.441, 33.786), 4326) WHERE place = ''",
    );
    let row = client
        .query_one(
            "SELECT morton, version FROM spread WHERE origin_file = '' AND place = ''",
            &[],
        )
        .unwrap();
    assert_eq!(
        row.get::<_, i64>(0),
        incident_map::db::load::morton_key(42.441, 33.786)
    );
    assert_eq!(row.get::<_, i64>(1), 2);
    assert_eq!(
        table.summary(&Control::default()).unwrap().incidents,
        2 * f.incidents + 1
    );
}

/// The commands a user runs give the same answers on the table at `url` as on the bundled file
/// it was loaded from: `check`, `clusters` (zooms 3 and 9, with and without a filter), `filter`
/// (GeoJSON features), `dupes`, and the same PNG from `export`.
fn same_commands(url: &str) {
    let file = bundled().to_string_lossy().into_owned();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_incident-map"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        o.stdout
    };
    let json = |args: &[&str]| serde_json::from_slice::<Value>(&run(args)).unwrap();
    let (a, b) = (
        json(&["check", &file, "--json"]),
        json(&["check", url, "--json"]),
    );
    common::summary::assert_same(&a, &b, "check");
    let dir = tempfile::tempdir().unwrap();
    let png = |src: &str, name: &str| {
        let out = dir.path().join(name);
        let o = out.to_str().unwrap();
        run(&[
            "export",
            src,
            "--out",
            o,
            "--basemap",
            "offline",
            "--width",
            "500",
            "--height",
            "400",
        ]);
        std::fs::read(out).unwrap()
    };
    assert_eq!(png(&file, "file.png"), png(url, "table.png"), "export");
    for extra in [
        &[][..],
        &["--from", "2021-06-01", "--type", "interception"][..],
    ] {
        for zoom in ["3", "9"] {
            let cmd = |src: &str| {
                let mut a = vec!["clusters", src, "--zoom", zoom, "--json"];
                a.extend(extra);
                json(&a)
            };
            assert_eq!(cmd(&file), cmd(url), "clusters at zoom {zoom} {extra:?}");
        }
        let features = |src: &str| {
            let mut a = vec!["filter", src, "--format", "geojson"];
            a.extend(extra);
            json(&a)["features"].clone()
        };
        assert_eq!(features(&file), features(url), "filter {extra:?}");
    }
    let groups = |src: &str| {
        let v = json(&["dupes", src, "--days", "3", "--km", "30", "--json"]);
        let mut g: Vec<String> = v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let mut m: Vec<String> = g["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| format!("{} {} {}", m["date"], m["type"], m["place"]))
                    .collect();
                m.sort();
                m.join(" | ")
            })
            .collect();
        g.sort();
        g
    };
    let g = groups(&file);
    assert!(!g.is_empty(), "the bundled data has possible duplicates");
    assert_eq!(g, groups(url), "dupes");
}

/// The window on a distributed table, asked view by view as a large table is: the server's
/// counts, the legend, and the incidents in view, as for a plain table.
#[test]
fn the_window_shows_a_distributed_table() {
    use egui_kittest::kittest::Queryable;
    let Some(citus) = common::citus::shared() else {
        eprintln!("skipped: {}", common::citus::missing().unwrap_or_default());
        return;
    };
    let c = &citus.coordinator;
    load(c, &bundled(), "shown", &["--distribute"]);
    let mut h = common::kit::table_window(&c.table_url("shown"), Filter::default());
    let done = |h: &egui_kittest::Harness<'static, incident_map::app::App>| {
        h.query_by_label("83 of 83 incidents selected").is_some()
            && h.query_by_label("Drone attack  8").is_some()
            && h.state().data.as_ref().is_some_and(|d| d.store.len() == 83)
    };
    common::kit::step_until(&mut h, 30, "the window on a distributed table", done, |h| {
        h.state().counts()
    });
}
