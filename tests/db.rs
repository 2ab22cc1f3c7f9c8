//! A PostGIS table as a source, against a real PostgreSQL + PostGIS cluster the test starts in a
//! temporary directory on loopback (see `common/pg.rs`): `load`, then `check` and `clusters`
//! give the same answers for the table as for the files; loads are atomic; a read-only role can
//! browse; failures are clear messages that never show the password.

#[allow(dead_code)] // each test file uses part of the helpers
mod common {
    pub mod edits;
    pub mod kit;
    pub mod pg;
    pub mod summary;
    pub mod tsa;
}

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::pg::{PASSWORD, Pg};
use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_incident-map"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
}

fn json(o: &Output) -> Value {
    ok(o);
    serde_json::from_slice(&o.stdout).expect("JSON")
}

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson")
}

fn synthetic(dir: &Path, rows: u64) -> PathBuf {
    let p = dir.join("synth.csv");
    let mut v = Vec::new();
    incident_map::synth::write_acled_csv(rows, 7, &mut v).unwrap();
    std::fs::write(&p, v).unwrap();
    p
}

fn load(file: &Path, url: &str, table: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "load",
        file.to_str().unwrap(),
        "--into",
        url,
        "--table",
        table,
    ];
    args.extend(extra);
    run(&args)
}

/// `png` of the bundled data or its table: the same export from each.
fn png(src: &str, out: &Path) -> Vec<u8> {
    ok(&run(&[
        "export",
        src,
        "--out",
        out.to_str().unwrap(),
        "--basemap",
        "offline",
        "--width",
        "500",
        "--height",
        "400",
        "--from",
        "2021-03-01",
        "--title",
        "Table",
    ]));
    std::fs::read(out).unwrap()
}

/// The table's precomputed cells (no filter) answer what its incidents (a date filter that
/// keeps everything skips the summary) answer.
fn same_as_incidents(pg: &Pg, table: &str) {
    let t = pg.table_url(table);
    for zoom in ["1", "5", "9"] {
        let a = json(&run(&["clusters", &t, "--zoom", zoom, "--json"]));
        let b = json(&run(&[
            "clusters",
            &t,
            "--zoom",
            zoom,
            "--from",
            "1900-01-01",
            "--json",
        ]));
        assert_eq!(a, b, "{table} zoom {zoom}");
    }
}

#[test]
fn a_table_answers_like_the_files_it_was_loaded_from() {
    let pg = Pg::start();
    let tmp = tempfile::tempdir().unwrap();
    let synth = synthetic(tmp.path(), 20_000);
    let url = pg.url();
    loads_and_summaries(&pg, &synth);
    same_clusters(&pg, &synth, tmp.path());
    same_features_and_images(&pg, tmp.path());
    summaries_follow_changes(&pg);
    loads_are_atomic(&pg, &url);
    a_reader_browses(&pg, tmp.path());
    passwords_as_libpq_reads_them(&pg, tmp.path());
    faults_are_clear(&pg);
}

/// `load` each file into a table; `check` says the same of both.
fn loads_and_summaries(pg: &Pg, synth: &Path) {
    let url = pg.url();
    for (file, table) in [(bundled(), "bundled"), (synth.to_path_buf(), "synth")] {
        let o = load(&file, &url, table, &[]);
        ok(&o);
        assert!(stderr(&o).contains("loaded "), "{}", stderr(&o));
        assert!(!stderr(&o).contains(PASSWORD));
        let from_file = json(&run(&["check", file.to_str().unwrap(), "--json"]));
        let from_table = json(&run(&["check", &pg.table_url(table), "--json"]));
        common::summary::assert_same(&from_file, &from_table, table);
        assert!(!from_table.to_string().contains(PASSWORD));
        cells_as_the_server_counts_them(pg, table);
        // COPY FREEZE left every page all-visible: the covering index answers without the heap,
        // with no VACUUM after the load.
        assert_eq!(
            pg.query_count(&format!(
                "SELECT (relallvisible = relpages AND relpages > 0)::int::int8 FROM pg_class WHERE relname = '{table}'"
            )),
            1,
            "{table}"
        );
    }
}

/// The summary cells `load` computed on its side are those the server counts from the rows
/// (the finest level grouped, the coarser ones summed from it).
fn cells_as_the_server_counts_them(pg: &Pg, table: &str) {
    let max = incident_map::db::schema::SUMMARY_LEVELS;
    let differ = pg.query_count(&format!(
        "WITH f AS (SELECT morton >> (62 - 2 * {max}) AS cell, type, count(*) AS n,
                           sum(mx::float8) AS sx, sum(my::float8) AS sy FROM {table} GROUP BY 1, 2),
              a AS (SELECT l AS level, cell >> (2 * ({max} - l)) AS cell, type, sum(n) AS n,
                           sum(sx) AS sx, sum(sy) AS sy
                    FROM f, generate_series(0, {max}) l GROUP BY 1, 2, 3)
         SELECT count(*) FROM {table}_cells c FULL JOIN a USING (level, cell, type)
         WHERE c.n IS NULL OR a.n IS NULL OR c.n <> a.n
            OR abs(c.sx - a.sx) > 1e-9 OR abs(c.sy - a.sy) > 1e-9"
    ));
    assert_eq!(differ, 0, "{table}: cells that differ from the rows' own");
    assert!(pg.query_count(&format!("SELECT count(*) FROM {table}_cells")) > 0);
}

/// The cluster query: the same cells, counts, centroids and types at every zoom and filter.
fn same_clusters(pg: &Pg, synth: &Path, tmp: &Path) {
    let area = tmp.join("area.geojson");
    std::fs::write(
        &area,
        r#"{"type":"Polygon","coordinates":[[[40.5,32.5],[43.9,32.5],[43.9,34.6],[40.5,34.6],[40.5,32.5]],
            [[42.3,33.7],[42.6,33.7],[42.6,33.9],[42.3,33.9],[42.3,33.7]]]}"#,
    )
    .unwrap();
    let area_s = area.to_string_lossy().into_owned();
    let cases: Vec<Vec<&str>> = vec![
        vec!["--near", "33.3,44.3", "--radius", "60"],
        vec!["--within", area_s.as_str(), "--type", "Air/drone strike"],
        vec![],
        vec!["--from", "2019-01-01", "--to", "2020-06-30"],
        vec!["--type", "Air/drone strike", "--type", "armed clash"],
        vec!["--text", "baghdad"],
        vec!["--disputed"],
        vec!["--bbox", "42,32,45.5,35"],
        vec![
            "--from",
            "2021-01-01",
            "--type",
            "Attack",
            "--bbox",
            "40,29,49,38",
        ],
    ];
    for (file, table) in [(bundled(), "bundled"), (synth.to_path_buf(), "synth")] {
        let t = pg.table_url(table);
        for zoom in ["1", "5", "8.6", "13"] {
            for extra in &cases {
                let mut a = vec!["clusters", file.to_str().unwrap(), "--zoom", zoom, "--json"];
                a.extend(extra);
                let mut b = vec!["clusters", t.as_str(), "--zoom", zoom, "--json"];
                b.extend(extra);
                let (fa, fb) = (json(&run(&a)), json(&run(&b)));
                assert_eq!(fa, fb, "{table} zoom {zoom} {extra:?}");
            }
        }
    }
    let world = json(&run(&[
        "clusters",
        &pg.table_url("synth"),
        "--zoom",
        "7",
        "--json",
    ]));
    assert_eq!(world["incidents"], 20_000);
    assert!(world["cells"].as_array().unwrap().len() > 1);
    let cell = &world["cells"][0];
    assert!(cell["lon"].is_f64() && cell["lat"].is_f64() && cell["count"].is_u64());
    let per_type: u64 = cell["types"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(per_type, cell["count"].as_u64().unwrap());
}

/// `filter` and `export` read the table like the file: the same features, the same PNG bytes.
fn same_features_and_images(pg: &Pg, tmp: &Path) {
    let bundled_s = bundled().to_string_lossy().into_owned();
    for extra in [
        vec![],
        vec!["--from", "2021-06-01", "--type", "interception"],
    ] {
        let mut a = vec!["filter", bundled_s.as_str(), "--format", "geojson"];
        a.extend(&extra);
        let t = pg.table_url("bundled");
        let mut b = vec!["filter", t.as_str(), "--format", "geojson"];
        b.extend(&extra);
        let (fa, fb) = (json(&run(&a)), json(&run(&b)));
        assert!(!fa["features"].as_array().unwrap().is_empty());
        assert_eq!(fa["features"], fb["features"], "{extra:?}");
    }
    assert_eq!(
        png(&bundled_s, &tmp.join("file.png")),
        png(&pg.table_url("bundled"), &tmp.join("table.png")),
        "the same image from a file and from its table"
    );

    // A statement timeout is a clear error.
    let slow = format!(
        "{}?options=-c%20statement_timeout%3D1&table=synth",
        pg.url()
    );
    let o = run(&["clusters", &slow, "--zoom", "13", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cancelled the query"), "{}", stderr(&o));
}

/// The precomputed cells follow every change, whoever makes it.
fn summaries_follow_changes(pg: &Pg) {
    pg.sql(
        "INSERT INTO synth (geom, day_first, day_last, date_precision, location_precision, type)
         VALUES (ST_SetSRID(ST_MakePoint(44.4, 33.3), 4326), '2021-06-07', '2021-06-07', 'day',
                 'exact', 'Attack');
         UPDATE synth SET geom = ST_SetSRID(ST_MakePoint(43.1, 36.3), 4326) WHERE id % 97 = 0;
         UPDATE synth SET type = 'Grenade' WHERE id % 89 = 0;
         DELETE FROM synth WHERE id % 101 = 0;",
    );
    same_as_incidents(pg, "synth");
    // Another tool's role with only INSERT on the table can add rows (the triggers keep the
    // summary with the table owner's rights).
    pg.sql("CREATE ROLE writer LOGIN PASSWORD 'writer-pw'; GRANT INSERT ON synth TO writer;");
    let mut w = postgres::Client::connect(&pg.url_as("writer", Some("writer-pw")), postgres::NoTls)
        .expect("writer connects");
    w.batch_execute(
        "INSERT INTO synth (geom, day_first, day_last, date_precision, location_precision, type)
         VALUES (ST_SetSRID(ST_MakePoint(43.2, 33.9), 4326), '2021-06-08', '2021-06-08', 'day',
                 'exact', 'Armed clash')",
    )
    .expect("a writer with INSERT only");
    same_as_incidents(pg, "synth");
}

/// An existing table is refused without --replace or --append; --append adds; --replace starts
/// again (also over a summary left without its table); a load that fails half-way leaves the
/// table as it was.
fn loads_are_atomic(pg: &Pg, url: &str) {
    let o = load(&bundled(), url, "bundled", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("already exists") && stderr(&o).contains("--replace"),
        "{}",
        stderr(&o)
    );
    ok(&load(&bundled(), url, "bundled", &["--append"]));
    let v = json(&run(&["check", &pg.table_url("bundled"), "--json"]));
    assert_eq!(v["incidents"], 166);

    // A summary left by an earlier table of the name (dropped by hand) is not taken for the
    // new table's: refused, or dropped with --replace.
    pg.sql("CREATE TABLE stray_cells (level int, cell bigint, type text, n bigint)");
    let o = load(&bundled(), url, "stray", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("\"stray_cells\" is left from an earlier table")
            && stderr(&o).contains("--replace"),
        "{}",
        stderr(&o)
    );
    ok(&load(&bundled(), url, "stray", &["--replace"]));
    let v = json(&run(&["check", &pg.table_url("stray"), "--json"]));
    assert_eq!(v["incidents"], 83);
    let file = json(&run(&["check", &bundled().to_string_lossy(), "--json"]));
    assert_eq!(v["types"], file["types"]);
    same_as_incidents(pg, "bundled");
    ok(&load(&bundled(), url, "bundled", &["--replace"]));
    let v = json(&run(&["check", &pg.table_url("bundled"), "--json"]));
    assert_eq!(v["incidents"], 83);
    let o = run(&[
        "load",
        "x.csv",
        "--into",
        url,
        "--table",
        "t",
        "--replace",
        "--append",
    ]);
    assert_eq!(o.status.code(), Some(2));

    // A load that fails half-way leaves the table as it was (one transaction): a trigger
    // refuses rows after the tenth line of the file.
    pg.sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.origin_line > 10 THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN NEW; END $$;
         CREATE TRIGGER refuse BEFORE INSERT ON bundled FOR EACH ROW EXECUTE FUNCTION refuse();",
    );
    let o = load(&bundled(), url, "bundled", &["--append"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("refused by test"), "{}", stderr(&o));
    let v = json(&run(&["check", &pg.table_url("bundled"), "--json"]));
    assert_eq!(v["incidents"], 83, "nothing of the failed load remains");
    pg.sql("DROP TRIGGER refuse ON bundled");
}

/// A read-only role browses (check, clusters, filter, export) and cannot load.
fn a_reader_browses(pg: &Pg, tmp: &Path) {
    pg.sql(
        "CREATE ROLE reader LOGIN PASSWORD 'read-only-pw';
         GRANT SELECT ON bundled, synth TO reader;",
    );
    let reader = format!("{}?table=synth", pg.url_as("reader", Some("read-only-pw")));
    let v = json(&run(&["check", &reader, "--json"]));
    let owner = json(&run(&["check", &pg.table_url("synth"), "--json"]));
    assert_eq!(v["incidents"], owner["incidents"]);
    // Without SELECT on the precomputed cells the reader's answer comes from the incidents,
    // and it is the same.
    let clusters = |url: &str| {
        json(&run(&[
            "clusters", url, "--zoom", "6", "--type", "Attack", "--json",
        ]))
    };
    let c = clusters(&reader);
    assert!(c["incidents"].as_u64().unwrap() > 0);
    assert_eq!(c, clusters(&pg.table_url("synth")));
    // The reader filters and exports too, with the owner's results.
    let reader_bundled = format!(
        "{}?table=bundled",
        pg.url_as("reader", Some("read-only-pw"))
    );
    let features = |url: &str| {
        json(&run(&[
            "filter",
            url,
            "--format",
            "geojson",
            "--type",
            "Interception",
        ]))["features"]
            .clone()
    };
    let mine = features(&reader_bundled);
    assert!(!mine.as_array().unwrap().is_empty());
    assert_eq!(mine, features(&pg.table_url("bundled")));
    assert_eq!(
        png(&reader_bundled, &tmp.join("reader.png")),
        png(&pg.table_url("bundled"), &tmp.join("owner.png")),
        "the reader's export is the owner's"
    );
    let o = load(
        &bundled(),
        &pg.url_as("reader", Some("read-only-pw")),
        "mine",
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("permission denied"), "{}", stderr(&o));
}

/// Passwords from PGPASSWORD and from a password file, as libpq reads them.
fn passwords_as_libpq_reads_them(pg: &Pg, tmp: &Path) {
    let bare = format!("{}?table=bundled", pg.url_as("reader", None));
    let o = bin()
        .args(["check", &bare, "--json"])
        .env("PGPASSWORD", "read-only-pw")
        .env("PGPASSFILE", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(json(&o)["incidents"], 83);
    let pgpass = tmp.join("pgpass");
    std::fs::write(
        &pgpass,
        format!("127.0.0.1:{}:postgres:reader:read-only-pw\n", pg.port),
    )
    .unwrap();
    let o = bin()
        .args(["check", &bare, "--json"])
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", &pgpass)
        .output()
        .unwrap();
    assert_eq!(json(&o)["incidents"], 83);
}

/// Faults: each a clear message and exit 1, the password never shown; a connection dropped
/// in the middle of a query; the server down.
fn faults_are_clear(pg: &Pg) {
    let wrong = format!(
        "{}?table=bundled",
        pg.url_as("reader", Some("not-the-password"))
    );
    let o = run(&["check", &wrong, "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("refused the user or password"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("not-the-password"));
    let o = run(&["check", &pg.table_url("nowhere"), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("table nowhere does not exist"),
        "{}",
        stderr(&o)
    );
    // Distributing on a server without Citus: said, and nothing is left behind.
    let o = load(&bundled(), &pg.url(), "spread", &["--distribute"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--distribute needs the Citus extension on the server"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        pg.query_count("SELECT count(*) FROM pg_class WHERE relname LIKE 'spread%'"),
        0
    );
    pg.sql("CREATE TABLE notes (id int, body text)");
    let o = run(&["clusters", &pg.table_url("notes"), "--zoom", "4", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("not an incident table"),
        "{}",
        stderr(&o)
    );
    let o = run(&["check", &format!("{}?table=a;drop", pg.url()), "--json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not a table name"), "{}", stderr(&o));
    assert!(!stderr(&o).contains(PASSWORD));
    // The connection dropped in the middle of a query: a view that takes two seconds, and the
    // server ends our session half-way.
    pg.sql("CREATE VIEW slow AS SELECT b.* FROM bundled b, pg_sleep(2) AS s");
    let killer = {
        let url = pg.url();
        std::thread::spawn(move || {
            // As soon as the query runs (polled; never a fixed wait), end its session.
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            loop {
                let ended = c
                    .query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                         WHERE state = 'active' AND query LIKE '%slow%' AND pid <> pg_backend_pid()",
                        &[],
                    )
                    .unwrap()
                    .len();
                if ended > 0 || std::time::Instant::now() > deadline {
                    return ended;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
    };
    let o = run(&["clusters", &pg.table_url("slow"), "--zoom", "5", "--json"]);
    assert!(killer.join().unwrap() >= 1, "a session was ended");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("terminating connection") || stderr(&o).contains("connection was lost"),
        "{}",
        stderr(&o)
    );
    pg.stop();
    let o = run(&["check", &pg.table_url("bundled"), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot connect to"), "{}", stderr(&o));
    assert!(!stderr(&o).contains(PASSWORD), "{}", stderr(&o));
    let _ = pg.log();
}

/// TLS through rustls: `require` encrypts, `verify-full` checks the certificate against the
/// root given, a wrong root is refused, and a server that insists on TLS refuses plain text.
#[test]
fn tls_is_used_and_verified() {
    let pg = Pg::start();
    let tmp = tempfile::tempdir().unwrap();
    ok(&load(&bundled(), &pg.url(), "bundled", &[]));
    let ca = pg.require_tls();
    let base = pg.table_url("bundled");
    let check = |extra: &str| run(&["check", &format!("{base}&{extra}"), "--json"]);
    let o = check("sslmode=disable");
    assert_eq!(o.status.code(), Some(1), "plain text is refused");
    assert!(
        stderr(&o).contains("no pg_hba.conf entry") || stderr(&o).contains("refused"),
        "{}",
        stderr(&o)
    );
    assert_eq!(json(&check("sslmode=require"))["incidents"], 83);
    assert_eq!(json(&check("sslmode=prefer"))["incidents"], 83);
    let full = format!("sslmode=verify-full&sslrootcert={}", ca.display());
    assert_eq!(json(&check(&full))["incidents"], 83);
    let chain = format!("sslmode=verify-ca&sslrootcert={}", ca.display());
    assert_eq!(json(&check(&chain))["incidents"], 83);
    // Another CA: the server's certificate does not chain to it.
    let other = tmp.path().join("other.pem");
    {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let c = CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap();
        std::fs::write(&other, c.pem()).unwrap();
    }
    let o = check(&format!(
        "sslmode=verify-full&sslrootcert={}",
        other.display()
    ));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).to_lowercase().contains("certificate"),
        "{}",
        stderr(&o)
    );
    let o = check("sslmode=verify-full&sslrootcert=/nonexistent/ca.pem");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/nonexistent/ca.pem"), "{}", stderr(&o));
    assert!(!stderr(&o).contains(PASSWORD));
}

/// TLS as libpq does it: `prefer` and `require` encrypt without verifying when no root
/// certificate is given, so an old self-signed X.509 version 1 certificate (as Citus makes)
/// connects; `verify-ca` and `verify-full` keep verifying and refuse it, saying why.
#[test]
fn a_self_signed_version_1_certificate_is_accepted_unverified_only() {
    let pg = Pg::start();
    ok(&load(&bundled(), &pg.url(), "bundled", &[]));
    let cert = pg.require_tls_v1();
    let base = pg.table_url("bundled");
    let check = |extra: &str| run(&["check", &format!("{base}&{extra}"), "--json"]);
    assert_eq!(json(&check("sslmode=require"))["incidents"], 83);
    assert_eq!(json(&check("sslmode=prefer"))["incidents"], 83);
    // The default (prefer) too, and the window's and other commands' connections alike.
    assert_eq!(json(&run(&["check", &base, "--json"]))["incidents"], 83);
    for mode in ["verify-ca", "verify-full"] {
        let o = check(&format!("sslmode={mode}&sslrootcert={}", cert.display()));
        assert_eq!(
            o.status.code(),
            Some(1),
            "{mode} accepted a version 1 certificate"
        );
        assert!(
            stderr(&o).contains("X.509 version 1 certificate, which cannot be verified"),
            "{mode}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains(PASSWORD));
    }
}

mod window {
    //! The window on a table, driven by egui_kittest: server counts, the incidents in view,
    //! details by id, a row inserted by someone else shown within 2 s, and faults with Retry.

    use std::time::{Duration, Instant};

    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use incident_map::app::App;

    use super::common::kit;
    use super::common::pg::Pg;
    use super::{bundled, load, ok};

    /// A window on the table at `url` that asks it view by view (as it does a table too large
    /// to hold), whatever its size.
    fn window(url: &str) -> Harness<'static, App> {
        kit::table_window(url, Default::default())
    }

    /// Clicks the node labelled `label` once it stays where it is over two frames (answers
    /// arriving may lay the legend out again).
    fn click_when_still(h: &mut Harness<'static, App>, label: &str) {
        let t = Instant::now();
        loop {
            let before = h.get_by_label(label).rect();
            h.run_steps(2);
            if h.get_by_label(label).rect() == before {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "{label} keeps moving"
            );
        }
        h.get_by_label(label).click();
    }

    /// Steps the window until `done` holds; panics after `secs` with what the status bar said.
    fn until(
        h: &mut Harness<'static, App>,
        secs: u64,
        what: &str,
        done: impl Fn(&Harness<'static, App>) -> bool,
    ) -> Duration {
        kit::step_until(h, secs, what, done, |h| {
            (
                h.state().counts(),
                h.state()
                    .remote
                    .as_ref()
                    .and_then(|r| r.error.as_ref().map(|e| e.to_string())),
            )
        })
    }

    fn shows(h: &Harness<'static, App>, label: &str) -> bool {
        h.query_by_label(label).is_some()
    }

    /// The window's status bar shows `text` (in part) with Retry.
    fn reported(h: &mut Harness<'static, App>, what: &str, text: &str) {
        until(h, 20, what, |h| h.query_by_label_contains(text).is_some());
        assert!(shows(h, "Retry"), "{what}: no Retry");
    }

    #[test]
    fn the_window_reports_each_fault_and_cancels_what_is_superseded() {
        let pg = Pg::start();
        ok(&load(&bundled(), &pg.url(), "iq", &[]));
        // Wrong password: said, never shown.
        let mut h = window(&format!(
            "{}?table=iq",
            pg.url_as(super::common::pg::USER, Some("not-the-password"))
        ));
        reported(&mut h, "wrong password", "refused the user or password");
        assert!(h.query_by_label_contains("not-the-password").is_none());
        // A table that is not an incident table.
        pg.sql("CREATE TABLE other (a int)");
        let mut h = window(&pg.table_url("other"));
        reported(&mut h, "wrong columns", "is not an incident table");
        // A view that answers slowly: each question sleeps 3 s on the server.
        pg.sql("CREATE VIEW slow AS SELECT i.* FROM iq i CROSS JOIN pg_sleep(3) AS s");
        let timeout = format!(
            "{}?options=-c%20statement_timeout%3D200&table=slow",
            pg.url()
        );
        let mut h = window(&timeout);
        reported(&mut h, "statement timeout", "cancelled the query");
        // While slow questions run the window keeps drawing; a question superseded by a newer
        // one (a text search typed) is cancelled on the server, not left to finish.
        let mut h = window(&pg.table_url("slow"));
        for _ in 0..5 {
            h.step();
        }
        let running = |pg: &Pg| {
            pg.query_count(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE '%slow%'",
            )
        };
        until(&mut h, 10, "slow questions running", |h| {
            h.state().remote.is_some() && running(&pg) >= 1
        });
        // Frames are drawn while one question (3 s on the server) runs: the same question, by
        // its session and start time, is still running after them. A window that waited for
        // its questions would draw none meanwhile.
        let question = |pg: &Pg| {
            pg.query_count(
                "SELECT coalesce((SELECT pid::int8 * 1000000
                                         + (extract(epoch FROM query_start) * 1000)::int8 % 1000000
                 FROM pg_stat_activity
                 WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE '%slow%'
                 ORDER BY query_start DESC LIMIT 1), -1)",
            )
        };
        let before = question(&pg);
        for _ in 0..5 {
            h.step();
        }
        let running_still = pg.query_count(&format!(
            "SELECT count(*) FROM pg_stat_activity
             WHERE state = 'active' AND query LIKE '%slow%'
               AND pid::int8 * 1000000
                   + (extract(epoch FROM query_start) * 1000)::int8 % 1000000 = {before}"
        ));
        assert!(
            before >= 0 && running_still == 1,
            "the frames waited for the question"
        );
        let before = pg
            .log()
            .matches("canceling statement due to user request")
            .count();
        h.state_mut().set_text("baghdad");
        until(&mut h, 5, "superseded question cancelled", |_| {
            pg.log()
                .matches("canceling statement due to user request")
                .count()
                > before
        });
    }

    /// A type named on the command line applies once the table's types are known.
    fn a_named_type_applies_once_known(pg: &Pg) {
        let types = vec!["drone attack".into()];
        let filter = incident_map::query::Filter {
            types,
            ..Default::default()
        };
        let mut typed = kit::table_window(&pg.table_url("live"), filter);
        until(&mut typed, 20, "named type on a table", |h| {
            shows(h, "8 of 83 incidents selected")
        });
    }

    #[test]
    fn the_window_shows_a_table_live_and_survives_faults() {
        let pg = Pg::start();
        let url = pg.url();
        // A fault first: the table is missing. The status bar says so, with Retry.
        let mut h = window(&pg.table_url("live"));
        until(&mut h, 20, "missing table reported", |h| {
            shows(
                h,
                "table live does not exist in postgresql://incident@127.0.0.1",
            ) || h
                .query_by_label_contains("table live does not exist")
                .is_some()
        });
        assert!(shows(&h, "Retry"));
        ok(&load(&bundled(), &url, "live", &[]));
        h.get_by_label("Retry").click();
        until(&mut h, 20, "server counts", |h| {
            shows(h, "83 of 83 incidents selected")
        });
        // The settings keep the table's URL, never its password.
        let saved = serde_json::to_string(&h.state().saved()).unwrap();
        assert!(saved.contains("?table=live"), "{saved}");
        assert!(!saved.contains(super::PASSWORD), "{saved}");
        // The legend counts are the server's aggregates.
        until(&mut h, 5, "legend", |h| shows(h, "Drone attack  8"));
        a_named_type_applies_once_known(&pg);
        // Fitted to the data, few are in view: they are fetched one by one and listed.
        until(&mut h, 20, "incidents in view fetched", |h| {
            let a = h.state();
            !a.remote.as_ref().unwrap().drawing_cells && a.data.as_ref().unwrap().store.len() == 83
        });
        // A type switched off in the legend: the server counts again. (Clicked once every
        // answer is in, so the legend is not laid out again under the pointer.)
        let answered =
            |h: &Harness<'static, App>| h.state().remote.as_ref().unwrap().pending() == 0;
        until(&mut h, 20, "questions answered", answered);
        click_when_still(&mut h, "Drone attack  8");
        until(&mut h, 20, "type filter pushed down", |h| {
            shows(h, "75 of 83 incidents selected")
        });
        until(&mut h, 20, "questions answered", answered);
        click_when_still(&mut h, "Drone attack  8");
        until(&mut h, 20, "type back", |h| {
            shows(h, "83 of 83 incidents selected")
        });
        // Details are read by id.
        let place = {
            let a = h.state();
            let s = &a.data.as_ref().unwrap().store;
            s.place_name(0).to_string()
        };
        h.state_mut().select(Some(0));
        until(&mut h, 20, "details by id", |h| {
            // The sources come from the record, which the incidents in view are fetched without.
            matches!(h.state().pick_details(), Some(Ok(d)) if d.place == place && !d.sources.is_empty())
        });
        // Someone else inserts a row with SQL (the table's trigger fills its cluster key).
        pg.sql(
            "INSERT INTO live (geom, day_first, day_last, date_precision, location_precision, type, place)
             VALUES (ST_SetSRID(ST_MakePoint(44.2344, 33.2625), 4326), '2021-06-07', '2021-06-07',
                     'day', 'exact', 'Rocket attack', 'Baghdad International Airport')",
        );
        let took = until(&mut h, 10, "inserted row shown", |h| {
            shows(h, "84 of 84 incidents selected")
        });
        assert!(took < Duration::from_secs(2), "the change took {took:?}");
        until(&mut h, 10, "inserted row fetched", |h| {
            h.state().data.as_ref().unwrap().store.len() == 84
        });
        // The connection dropped in the middle: a message with Retry; what was shown stays.
        pg.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE pid <> pg_backend_pid() AND datname = current_database()",
        );
        click_when_still(&mut h, "Drone attack  8");
        until(&mut h, 20, "dropped connection reported", |h| {
            h.state().remote.as_ref().unwrap().error.is_some()
        });
        assert!(shows(&h, "Retry"));
        assert_eq!(h.state().data.as_ref().unwrap().store.len(), 84);
        h.get_by_label("Retry").click();
        until(&mut h, 20, "back after Retry", |h| {
            shows(h, "76 of 84 incidents selected")
        });
        // The server down: the same, and the window keeps what it showed.
        pg.stop();
        click_when_still(&mut h, "Drone attack  8");
        until(&mut h, 30, "server down reported", |h| {
            h.query_by_label_contains("cannot connect").is_some()
                || h.query_by_label_contains("connection").is_some()
        });
        assert!(shows(&h, "Retry"));
        assert_eq!(h.state().data.as_ref().unwrap().store.len(), 84);
    }

    #[test]
    fn a_small_table_is_held_whole_with_every_tool_and_follows_changes() {
        let pg = Pg::start();
        ok(&load(&bundled(), &pg.url(), "small", &[]));
        let mut h = kit::table_window_holding(&pg.table_url("small"), Default::default(), 1000);
        until(&mut h, 20, "held whole", |h| {
            h.state()
                .data
                .as_ref()
                .is_some_and(|d| d.store.len() == 83 && d.records)
        });
        assert!(h.state().remote.is_none(), "not asked view by view");
        until(&mut h, 10, "counts", |h| {
            shows(h, "83 of 83 incidents selected")
        });
        // Held with its records: the tools that need the incidents work on a table too —
        // the links between related incidents and the details, read locally.
        assert!(!h.state().data.as_ref().unwrap().links.pairs.is_empty());
        let last = 82;
        h.state_mut().select(Some(last));
        let key = h.state().data.as_ref().unwrap().incidents.key(last);
        until(&mut h, 5, "details", |h| {
            matches!(h.state().pick_details(), Some(Ok(_)))
        });
        // Another window (SQL) adds a row: read again, within a deadline.
        pg.sql(
            "INSERT INTO small (geom, day_first, day_last, date_precision, location_precision, type, place)
             VALUES (ST_SetSRID(ST_MakePoint(44.2344, 33.2625), 4326), '2021-06-07', '2021-06-07',
                     'day', 'exact', 'Rocket attack', 'Baghdad International Airport')",
        );
        until(&mut h, 20, "the change read again", |h| {
            shows(h, "84 of 84 incidents selected")
        });
        assert!(h.state().remote.is_none());
        // The selected incident stays selected (by its key) across the reading, though the new
        // row comes before it.
        let a = h.state();
        let now = a.pick.selected.expect("still selected");
        assert_eq!(a.data.as_ref().unwrap().incidents.key(now), key);
        assert_eq!(now, last + 1);
        // Past the window's limit the same table is asked view by view.
        let h2 = kit::table_window_holding(&pg.table_url("small"), Default::default(), 10);
        let mut h2 = h2;
        until(&mut h2, 20, "asked view by view", |h| {
            h.state().remote.is_some() && shows(h, "84 of 84 incidents selected")
        });
    }
}

mod edits {
    //! Writes to a table, safely for a team: two connections racing on one row end with one
    //! conflict and both values in the history; edits made with SQL are in the history too; a
    //! role that may only read is told why it cannot write; a table made by an earlier version
    //! is upgraded by its owner (on first write, or `load --upgrade`) and other writers are told
    //! how.

    use std::sync::{Arc, Barrier};

    use incident_map::progress::Control;
    use incident_map::source::{Edit, Key, Source, SourceError};
    use serde_json::Value;

    use super::common::pg::{PASSWORD, Pg};
    use super::{bundled, load, ok, run, stderr};

    fn open(url: &str) -> Arc<dyn Source> {
        incident_map::source::open(&[url.into()], &Default::default(), &Control::default()).unwrap()
    }

    /// The table id of the incident whose own id is `id`.
    fn key_of(src: &dyn Source, id: &str) -> Key {
        super::common::edits::key_of(src, "id", id)
    }

    #[test]
    fn racing_writers_lose_nothing_and_readers_are_told_why() {
        let pg = Pg::start();
        ok(&load(&bundled(), &pg.url(), "team", &[]));
        let url = pg.table_url("team");
        let (a, b) = (open(&url), open(&url));
        let key = key_of(&*a, "IQ-2021-080");
        let ctl = Control::default();
        // Both start from the same version, and write at once.
        let (base, version) = a.draft(key, &ctl).unwrap();
        let barrier = Barrier::new(2);
        let results: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = [(&a, "night of 18/19 December"), (&b, "18 December")]
                .into_iter()
                .map(|(src, when)| {
                    let mut d = base.clone();
                    d.set("description", Value::String(when.into()));
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        let edit = Edit::Update {
                            key,
                            version,
                            draft: d,
                        };
                        src.write(&edit, when, &Control::default())
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let conflicts: Vec<_> = results
            .iter()
            .filter_map(|r| match r {
                Err(SourceError::Conflict {
                    theirs, version, ..
                }) => Some((theirs, *version)),
                _ => None,
            })
            .collect();
        assert_eq!(conflicts.len(), 1, "{results:?}");
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        // The loser sees theirs, and keeps mine with their version: both are in the history.
        let (theirs, now) = conflicts[0];
        let theirs = theirs.as_ref().unwrap().text("description");
        let mine = if theirs == "18 December" {
            "night of 18/19 December"
        } else {
            "18 December"
        };
        let mut d = base.clone();
        d.set("description", Value::String(mine.into()));
        a.write(
            &Edit::Update {
                key,
                version: now,
                draft: d,
            },
            mine,
            &ctl,
        )
        .unwrap();
        let h = a.history(Some(key), &ctl).unwrap();
        let after: Vec<String> = h
            .iter()
            .map(|e| e.after.as_ref().unwrap()["properties"]["description"].to_string())
            .collect();
        assert_eq!(after, [format!("{theirs:?}"), format!("{mine:?}")], "{h:?}");
        // An edit made with SQL counts: a new version, recorded with the role that made it.
        pg.sql(&format!(
            "UPDATE team SET place = 'Baghdad' WHERE id = {}",
            key.0
        ));
        let (_, v) = a.draft(key, &ctl).unwrap();
        assert_eq!(v, now + 2);
        let last = a.history(Some(key), &ctl).unwrap().pop().unwrap();
        assert_eq!(
            (last.op.as_str(), last.editor.as_str()),
            ("update", "incident")
        );
        // The load itself is one entry.
        let all = a.history(None, &ctl).unwrap();
        assert_eq!(all[0].op, "load");
        assert_eq!(all[0].after.as_ref().unwrap()["incidents"], 83);
        a_reader_is_told_why(&pg, &*a, key);
    }

    /// A reader is told why it cannot write; a write is refused by the server.
    fn a_reader_is_told_why(pg: &Pg, a: &dyn Source, key: Key) {
        let ctl = Control::default();
        pg.sql(&format!(
            "CREATE ROLE reader LOGIN PASSWORD '{PASSWORD}'; GRANT SELECT ON team TO reader"
        ));
        let reader = open(&format!(
            "{}?table=team",
            pg.url_as("reader", Some(PASSWORD))
        ));
        let why = reader.read_only(&ctl).unwrap();
        assert!(why.contains("reader may only read table team"), "{why}");
        let (d, v) = reader.draft(key, &ctl).unwrap();
        assert!(
            reader
                .write(
                    &Edit::Update {
                        key,
                        version: v,
                        draft: d
                    },
                    "",
                    &ctl
                )
                .is_err()
        );
        assert_eq!(a.draft(key, &ctl).unwrap().1, v);
    }

    #[test]
    fn a_table_from_an_earlier_version_is_upgraded_by_its_owner() {
        let pg = Pg::start();
        for t in ["old", "older"] {
            ok(&load(&bundled(), &pg.url(), t, &[]));
            // What the previous version made: no version, no history.
            pg.sql(&format!(
                "DROP TRIGGER {t}_logged ON {t}; DROP TRIGGER {t}_bumped ON {t};
                 ALTER TABLE {t} DROP COLUMN version; DROP TABLE {t}_history"
            ));
        }
        // A writer that does not own it is told who upgrades it, and how.
        pg.sql(&format!(
            "CREATE ROLE editor LOGIN PASSWORD '{PASSWORD}';
             GRANT SELECT, INSERT, UPDATE, DELETE ON old TO editor"
        ));
        let editor = open(&format!(
            "{}?table=old",
            pg.url_as("editor", Some(PASSWORD))
        ));
        assert!(editor.read_only(&Control::default()).is_none());
        let ctl = Control::default();
        let key = key_of(&*editor, "IQ-2021-036");
        let (mut d, v) = editor.draft(key, &ctl).unwrap();
        assert_eq!(v, 1);
        d.set("admin1", Value::String("Basra province".into()));
        let e = editor
            .write(
                &Edit::Update {
                    key,
                    version: v,
                    draft: d.clone(),
                },
                "",
                &ctl,
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("load --upgrade --into URL --table old"), "{e}");
        // Its owner's first write upgrades it, in the same transaction.
        let owner = open(&pg.table_url("old"));
        let w = owner
            .write(
                &Edit::Update {
                    key,
                    version: v,
                    draft: d,
                },
                "",
                &ctl,
            )
            .unwrap();
        assert_eq!(w.version, 2);
        assert_eq!(owner.history(Some(key), &ctl).unwrap().len(), 1);
        // Or `load --upgrade`, once.
        let o = run(&["load", "--upgrade", "--into", &pg.url(), "--table", "older"]);
        ok(&o);
        assert!(stderr(&o).contains("ready for editing"), "{}", stderr(&o));
        assert_eq!(pg.query_count("SELECT max(version) FROM older"), 1);
        pg.sql("UPDATE older SET place = 'x' WHERE id = 1");
        assert_eq!(pg.query_count("SELECT count(*) FROM older_history"), 1);
        assert_eq!(pg.query_count("SELECT version FROM older WHERE id = 1"), 2);
    }

    #[test]
    fn the_command_line_writes_to_a_table() {
        let pg = Pg::start();
        ok(&load(&bundled(), &pg.url(), "cli", &[]));
        let url = pg.table_url("cli");
        let o = run(&[
            "add",
            &url,
            "--date",
            "2021-07-01",
            "--type",
            "Rocket attack",
            "--at",
            "33.36, 43.1",
            "--location-precision",
            "near",
            "--source",
            "https://example.org/report",
            "--place",
            "Test place",
            "--editor",
            "ana",
        ]);
        ok(&o);
        // No own id given: the row id names it.
        let handle = String::from_utf8_lossy(&o.stdout).trim().to_string();
        let id = handle.strip_prefix("--id ").unwrap().to_string();
        assert_eq!(
            pg.query_count(&format!(
                "SELECT count(*) FROM cli WHERE id = {id} AND place = 'Test place'"
            )),
            1
        );
        ok(&run(&[
            "edit",
            &url,
            "--id",
            &id,
            "--set",
            "fatalities=3",
            "--editor",
            "bo",
        ]));
        assert_eq!(
            pg.query_count(&format!("SELECT fatalities::int8 FROM cli WHERE id = {id}")),
            3
        );
        ok(&run(&[
            "edit",
            &url,
            "--id",
            "IQ-2021-036",
            "--set",
            "admin1=Dhi Qar",
        ]));
        let o = run(&[
            "edit",
            &url,
            "--id",
            "IQ-2021-036",
            "--set",
            "date=yesterday",
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        ok(&run(&["delete", &url, "--id", &id]));
        assert_eq!(
            pg.query_count(&format!("SELECT count(*) FROM cli WHERE id = {id}")),
            0
        );
        let o = run(&["history", &url, "--id", &id]);
        ok(&o);
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        let ops: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with(' '))
            .map(|l| l.split("  ").nth(2).unwrap())
            .collect();
        assert_eq!(ops, ["insert", "update", "delete"], "{text}");
        assert!(
            text.contains("ana (incident)") && text.contains("bo (incident)"),
            "{text}"
        );
        assert!(text.contains("fatalities: ∅ → 3"), "{text}");
        let o = run(&["history", &url, "--id", "IQ-2021-036", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v[0]["after"]["properties"]["admin1"], "Dhi Qar");
        assert_eq!(v[0]["before"]["properties"]["admin1"], "Basra");
    }
}

mod evidence {
    //! Evidence kept with a table: `attach` streams files into `NAME_evidence_chunk` (1 MiB
    //! rows), stored once; `verify` passes, then names a chunk changed behind the append-only
    //! trigger's back and an edited custody row; the trigger refuses plain updates and deletes;
    //! a role that may only read is told it cannot attach.

    use super::common::pg::Pg;
    use super::{bundled, load, ok, run, stderr};

    fn out(o: &std::process::Output) -> String {
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    #[test]
    fn a_table_keeps_evidence_and_verify_names_what_changed() {
        let pg = Pg::start();
        ok(&load(&bundled(), &pg.url(), "ev", &[]));
        let url = pg.table_url("ev");
        let dir = tempfile::tempdir().unwrap();
        // A video of 3.5 MiB (four chunk rows) and a statement.
        let video = dir.path().join("clip.bin");
        let mut bytes = b"\0\0\0\x20ftypisom\0\0\x02\0".to_vec();
        bytes.extend((0..(7u32 << 19)).map(|i| (i % 241) as u8));
        std::fs::write(&video, &bytes).unwrap();
        let statement = dir.path().join("statement.txt");
        std::fs::write(&statement, "Statement of the Security Media Cell\n").unwrap();
        let sha = incident_map::evidence::custody::sha256_hex(&bytes);

        let o = run(&[
            "attach",
            &url,
            "--id",
            "IQ-2021-018",
            video.to_str().unwrap(),
            statement.to_str().unwrap(),
            "--editor",
            "ana",
        ]);
        ok(&o);
        ok(&run(&[
            "attach",
            &url,
            "--id",
            "IQ-2021-019",
            video.to_str().unwrap(),
        ]));
        assert_eq!(
            pg.query_count("SELECT count(*) FROM ev_evidence"),
            2,
            "stored once"
        );
        assert_eq!(
            pg.query_count(&format!(
                "SELECT count(*) FROM ev_evidence_chunk WHERE sha256 = '{sha}'"
            )),
            4
        );
        let list = run(&["evidence", &url, "--json"]);
        ok(&list);
        let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 3);
        assert_eq!(v[0]["media_type"], "video/mp4");
        assert_eq!(v[0]["by"], "ana");
        assert_eq!(v[0]["size"], bytes.len() as u64);
        let o = run(&["verify", &url]);
        ok(&o);
        assert!(
            out(&o).contains("✔ 2 of 2 stored item(s) hash as recorded"),
            "{}",
            out(&o)
        );

        // The filter and the badge's marks, from the table's view of what is attached.
        let ids = |which: &str| -> Vec<String> {
            let o = run(&["filter", &url, "--evidence", which, "--format", "geojson"]);
            ok(&o);
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            let mut ids: Vec<String> = v["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["properties"]["id"].as_str().unwrap().to_string())
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(ids("has"), ["IQ-2021-018", "IQ-2021-019"]);
        assert_eq!(ids("none").len(), 81);
        let src = incident_map::source::open(
            &[url.clone().into()],
            &Default::default(),
            &incident_map::progress::Control::default(),
        )
        .unwrap();
        let inc = src
            .incidents(
                &Default::default(),
                &incident_map::source::Fetch::up_to(1000),
                &incident_map::progress::Control::default(),
            )
            .unwrap();
        assert_eq!(inc.store.evidence.get().iter().filter(|&&m| m).count(), 2);

        tampering_is_caught(&pg, &url, &sha);
        a_reader_may_look(&pg, &statement);
    }

    #[test]
    fn a_table_keeps_timestamp_tokens_that_verify() {
        let pg = Pg::start();
        ok(&load(&bundled(), &pg.url(), "stamped", &[]));
        let url = pg.table_url("stamped");
        let tsa = super::common::tsa::Tsa::start();
        let dir = tempfile::tempdir().unwrap();
        let note = dir.path().join("statement.txt");
        std::fs::write(&note, "Statement of the Security Media Cell\n").unwrap();
        let o = run(&[
            "attach",
            &url,
            "--id",
            "IQ-2021-018",
            note.to_str().unwrap(),
            "--tsa",
            &tsa.url,
        ]);
        ok(&o);
        assert!(
            stderr(&o).contains("timestamped statement.txt at"),
            "{}",
            stderr(&o)
        );
        assert_eq!(
            pg.query_count("SELECT count(*) FROM stamped_evidence_token"),
            2
        );
        let o = run(&["verify", &url, "--tsa-cert", tsa.cert.to_str().unwrap()]);
        ok(&o);
        assert!(
            out(&o).contains("✔ 2 of 2 timestamp token(s) hold"),
            "{}",
            out(&o)
        );
        // A token swapped for the head's (behind the append-only trigger's back): named.
        pg.sql(
            "ALTER TABLE stamped_evidence_token DISABLE TRIGGER append_only;
             UPDATE stamped_evidence_token SET token = (SELECT token FROM stamped_evidence_token
               WHERE name LIKE 'head-%') WHERE name NOT LIKE 'head-%'",
        );
        let o = run(&["verify", &url, "--tsa-cert", tsa.cert.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            out(&o).contains("timestamp of statement.txt: the token is for other bytes"),
            "{}",
            out(&o)
        );
    }

    /// The append-only trigger refuses changes; an owner who goes round it is caught.
    fn tampering_is_caught(pg: &Pg, url: &str, sha: &str) {
        // The trigger keeps the tables append-only.
        let mut c = postgres::Client::connect(&pg.url(), postgres::NoTls).unwrap();
        let refused = c
            .batch_execute("UPDATE ev_custody SET line = 'x' WHERE seq = 1")
            .unwrap_err();
        assert!(
            format!("{refused:?}").contains("append-only"),
            "{refused:?}"
        );
        let refused = c
            .batch_execute("DELETE FROM ev_evidence_chunk")
            .unwrap_err();
        assert!(
            format!("{refused:?}").contains("append-only"),
            "{refused:?}"
        );

        // An owner who goes round it is caught: one byte of the video, then a custody line.
        pg.sql(&format!(
            "ALTER TABLE ev_evidence_chunk DISABLE TRIGGER append_only;
             UPDATE ev_evidence_chunk SET bytes = set_byte(bytes, 10, get_byte(bytes, 10) # 1)
               WHERE sha256 = '{sha}' AND n = 2;"
        ));
        let o = run(&["verify", url]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            out(&o).contains(&format!(
                "clip.bin (sha256 {}) of IQ-2021-018, IQ-2021-019: the stored copy changed",
                &sha[..12]
            )),
            "{}",
            out(&o)
        );
        pg.sql(
            "ALTER TABLE ev_custody DISABLE TRIGGER append_only;
             UPDATE ev_custody SET line = replace(line, '\"by\":\"ana\"', '\"by\":\"eve\"') WHERE seq = 2;",
        );
        let o = run(&["verify", url]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            out(&o).contains("the chain breaks at line 3"),
            "{}",
            out(&o)
        );
    }

    /// A reader may look, not attach.
    fn a_reader_may_look(pg: &Pg, statement: &std::path::Path) {
        // A reader may look, not attach.
        pg.sql(
            "CREATE ROLE looker LOGIN PASSWORD 'look-pw';
             GRANT SELECT ON ev, ev_evidence, ev_evidence_chunk, ev_custody TO looker;",
        );
        let looker = format!("{}?table=ev", pg.url_as("looker", Some("look-pw")));
        let o = run(&["evidence", &looker]);
        ok(&o);
        assert_eq!(out(&o).lines().count(), 3);
        let o = run(&[
            "attach",
            &looker,
            "--id",
            "IQ-2021-044",
            statement.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("permission denied"), "{}", stderr(&o));
    }
}
