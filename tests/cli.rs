//! The binary on real files: exit codes, counts and problem line numbers.

mod common {
    pub mod summary;
}

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_incident-map"))
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run incident-map")
}

fn check_json(files: &[&Path]) -> (i32, Value) {
    let mut c = bin();
    c.arg("check").arg("--json").args(files);
    let o = c.output().expect("run");
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)));
    (o.status.code().unwrap_or(-1), v)
}

/// (line, skipped) of every problem.
fn problem_lines(v: &Value) -> Vec<(u64, bool)> {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["line"].as_u64().unwrap(), p["skipped"].as_bool().unwrap()))
        .collect()
}

/// The types the bundled data may use (data/README.md lists them).
const BUNDLED_TYPES: [&str; 5] = [
    "Rocket attack",
    "Drone attack",
    "IED",
    "Interception",
    "Launcher found",
];

/// Every rule the bundled data keeps, as messages naming the incident; none when all hold.
fn data_violations(fc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let features = fc["features"].as_array().cloned().unwrap_or_default();
    for f in &features {
        let p = &f["properties"];
        let id = p["id"].as_str().unwrap_or("?").to_string();
        let text = |k: &str| p[k].as_str().map(str::trim).unwrap_or("");
        // A source: an http(s) URL, or a publisher with a date.
        let source = text("source");
        let url = text("source_url");
        let has_date = source
            .split(|c: char| !c.is_ascii_digit() && c != '-')
            .any(|w| {
                w.len() >= 4
                    && w[..4]
                        .parse::<u32>()
                        .is_ok_and(|y| (2020..=2023).contains(&y))
            });
        if source.is_empty() {
            out.push(format!("{id}: no source"));
        } else if !(url.starts_with("https://") || url.starts_with("http://") || has_date) {
            out.push(format!(
                "{id}: source has neither an http(s) URL nor a date"
            ));
        }
        if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
            out.push(format!("{id}: source_url is not http(s)"));
        }
        if !["day", "week", "month", "year"].contains(&text("date_precision")) {
            out.push(format!("{id}: no date precision"));
        }
        if !["exact", "near", "region"].contains(&text("location_precision")) {
            out.push(format!("{id}: no location precision"));
        }
        let c = &f["geometry"]["coordinates"];
        let (lon, lat) = (c[0].as_f64().unwrap_or(0.0), c[1].as_f64().unwrap_or(0.0));
        if !(38.79..=48.57).contains(&lon) || !(29.06..=37.38).contains(&lat) {
            out.push(format!("{id}: {lon},{lat} is outside Iraq"));
        }
        if !BUNDLED_TYPES.contains(&text("type")) {
            out.push(format!("{id}: type '{}' is not documented", text("type")));
        }
        if text("date").is_empty() || text("place").is_empty() || text("description").is_empty() {
            out.push(format!("{id}: no date, place or description"));
        }
    }
    // The four seed incidents, exactly as the design notes give them.
    let seed = |id: &str| {
        features
            .iter()
            .find(|f| f["properties"]["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let checks: [(&str, &str, Value); 13] = [
        ("IQ-2021-012", "/properties/date", json_str("2021-06-06")),
        ("IQ-2021-012", "/properties/time", json_str("00:30")),
        ("IQ-2021-012", "/properties/utc_offset", json_str("+03:00")),
        ("IQ-2021-012", "/properties/type", json_str("Interception")),
        (
            "IQ-2021-012",
            "/geometry/coordinates",
            serde_json::json!([42.441, 33.786]),
        ),
        (
            "IQ-2021-012",
            "/properties/fatalities",
            serde_json::json!(0),
        ),
        ("IQ-2021-010", "/properties/date", json_str("2021-06-05")),
        ("IQ-2021-010", "/properties/type", json_str("Interception")),
        (
            "IQ-2021-010",
            "/geometry/coordinates",
            serde_json::json!([44.2344, 33.2625]),
        ),
        (
            "IQ-2021-011",
            "/properties/type",
            json_str("Launcher found"),
        ),
        (
            "IQ-2021-011",
            "/properties/location_precision",
            json_str("region"),
        ),
        ("IQ-2021-009", "/properties/date", json_str("2021-05-08")),
        ("IQ-2021-009", "/properties/type", json_str("Drone attack")),
    ];
    for (id, ptr, want) in checks {
        if seed(id).pointer(ptr) != Some(&want) {
            out.push(format!("seed {id}: {ptr} is not {want}"));
        }
    }
    out
}

fn json_str(s: &str) -> Value {
    Value::String(s.into())
}

#[test]
fn bundled_dataset_keeps_its_rules_and_a_copy_with_any_violation_fails() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let (code, v) = check_json(&[&dir]);
    assert_eq!(code, 0);
    assert_eq!(v["skipped"], 0);
    assert_eq!(v["problems"].as_array().unwrap().len(), 0);
    let fc: Value =
        serde_json::from_slice(&std::fs::read(dir.join("incidents.geojson")).unwrap()).unwrap();
    assert_eq!(data_violations(&fc), Vec::<String>::new());
    assert_eq!(v["incidents"], fc["features"].as_array().unwrap().len());
    assert!(v["disputed"].as_u64().unwrap() >= 5);
    // One violation at a time, each caught.
    let k = 30; // an ordinary incident
    type Mutation = Box<dyn Fn(&mut Value)>;
    let mutations: Vec<(&str, Mutation)> = vec![
        (
            "no source",
            Box::new(move |f| {
                f["features"][k]["properties"]["source"] = json_str("");
            }),
        ),
        (
            "neither an http(s) URL nor a date",
            Box::new(move |f| {
                f["features"][k]["properties"]["source_url"] = json_str("");
                f["features"][k]["properties"]["source"] = json_str("Some newspaper");
            }),
        ),
        (
            "no date precision",
            Box::new(move |f| {
                f["features"][k]["properties"]["date_precision"] = Value::Null;
            }),
        ),
        (
            "no location precision",
            Box::new(move |f| {
                f["features"][k]["properties"]["location_precision"] = json_str("somewhere");
            }),
        ),
        (
            "outside Iraq",
            Box::new(move |f| {
                f["features"][k]["geometry"]["coordinates"] = serde_json::json!([51.4, 35.7]);
            }),
        ),
        (
            "is not documented",
            Box::new(move |f| {
                f["features"][k]["properties"]["type"] = json_str("Airstrike");
            }),
        ),
        (
            "seed IQ-2021-012",
            Box::new(|f| {
                let fs = f["features"].as_array_mut().unwrap();
                for x in fs.iter_mut() {
                    if x["properties"]["id"] == "IQ-2021-012" {
                        x["properties"]["time"] = json_str("00:45");
                    }
                }
            }),
        ),
    ];
    for (what, m) in mutations {
        let mut copy = fc.clone();
        m(&mut copy);
        let v = data_violations(&copy);
        assert_eq!(v.len(), 1, "{what}: {v:?}");
        assert!(v[0].contains(what), "{what}: {v:?}");
    }
}

#[test]
fn disputed_incidents_are_counted_filtered_and_keep_their_accounts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let (_, all) = check_json(&[&dir]);
    let o = run(&[
        "filter",
        dir.to_str().unwrap(),
        "--disputed",
        "--format",
        "geojson",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let features = v["features"].as_array().unwrap();
    assert_eq!(features.len() as u64, all["disputed"].as_u64().unwrap());
    assert!(features.iter().all(|f| f["properties"]["disputed"] == true));
    // The rocket toward Baghdad airport: the seed's account and the spokesman's, both kept.
    let rocket = features
        .iter()
        .find(|f| f["properties"]["id"] == "IQ-2021-010")
        .expect("IQ-2021-010 is disputed");
    let accounts = rocket["properties"]["accounts"].as_array().unwrap();
    assert!(accounts.len() >= 2);
    assert!(
        accounts
            .iter()
            .all(|a| a["source"].as_str().is_some_and(|s| !s.is_empty()))
    );
    // A CSV can say the same with a `disputed` column.
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("d.csv");
    std::fs::write(
        &p,
        "lat,lon,date,type,disputed,accounts\n33,44,2021-06-05,IED,yes,\"[{\"\"source\"\":\"\"A\"\"}]\"\n33,44,2021-06-06,IED,,\n",
    )
    .unwrap();
    let (_, v) = check_json(&[&p]);
    assert_eq!(v["disputed"], 1);
}

#[test]
fn generic_csv_summary() {
    let (code, v) = check_json(&[&data("generic.csv")]);
    assert_eq!(code, 0);
    assert_eq!(v["incidents"], 4);
    assert_eq!(v["date_min"], "2021-04-01");
    assert_eq!(v["date_max"], "2021-06-06");
    assert_eq!(v["types"]["Drone attack"], 2);
    assert_eq!(
        v["bbox"],
        serde_json::json!([42.441, 33.2625, 44.2344, 36.2376])
    );
}

#[test]
fn acled_columns_are_mapped() {
    let (code, v) = check_json(&[&data("acled.csv")]);
    assert_eq!(code, 0);
    assert_eq!(v["files"][0]["format"], "acled-csv");
    assert_eq!(v["types"]["Air/drone strike"], 1);
    assert_eq!(v["types"]["Remote explosive/landmine/IED"], 1);
    // time_precision 3: the whole month of June.
    assert_eq!(v["date_min"], "2021-06-01");
    assert_eq!(v["date_max"], "2021-06-30");
    // category (event_type) is searchable by type name only; text search reaches notes and actors.
    let o = run(&[
        "filter",
        data("acled.csv").to_str().unwrap(),
        "--text",
        "islamic state",
        "--format",
        "csv",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("IRQ3"));
}

#[test]
fn bad_coordinates_are_skipped_with_their_lines() {
    let (code, v) = check_json(&[&data("bad_coords.csv")]);
    assert_eq!(code, 0);
    assert_eq!(v["incidents"], 3);
    assert_eq!(v["skipped"], 5);
    assert_eq!(
        problem_lines(&v),
        vec![
            (3, true),
            (4, true),
            (5, true),
            (6, true),
            (7, true),
            (9, false)
        ]
    );
    let msgs: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap())
        .collect();
    assert!(msgs[0].contains("latitude 95"), "{msgs:?}");
    assert!(msgs[1].contains("longitude 200"));
    assert!(msgs[2].contains("finite"));
    assert!(msgs[5].contains("0,0"));
}

#[test]
fn impossible_dates_are_skipped() {
    let (code, v) = check_json(&[&data("bad_dates.csv")]);
    assert_eq!(code, 0);
    assert_eq!(v["incidents"], 1);
    assert_eq!(v["skipped"], 5);
    assert_eq!(
        problem_lines(&v),
        vec![(2, true), (3, true), (4, true), (5, true), (7, true)]
    );
    assert!(
        v["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("impossible date 2021-02-30")
    );
    assert_eq!(v["problems"][0]["column"], "date");
}

#[test]
fn a_filter_that_matches_nothing_still_writes_the_csv_header() {
    let f = data("acled.csv");
    let o = run(&[
        "filter",
        f.to_str().unwrap(),
        "--from",
        "2030-01-01",
        "--format",
        "csv",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let header = std::fs::read_to_string(&f)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(String::from_utf8_lossy(&o.stdout), format!("{header}\n"));
}

#[test]
fn a_row_with_values_past_the_header_is_kept_and_named() {
    // An unquoted comma in "Ramadi, Anbar" gives the row a sixth value; trailing empty fields
    // (as some exports write on every row) are no sign of anything.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("extra.csv");
    std::fs::write(
        &f,
        "lat,lon,date,type,place\n33.1,44.1,2021-06-01,IED,Baghdad\n\
         33.2,44.2,2021-06-02,IED,Ramadi, Anbar\n33.3,44.3,2021-06-03,IED,Hit,,\n",
    )
    .unwrap();
    let (code, v) = check_json(&[&f]);
    assert_eq!((code, v["incidents"].as_u64()), (0, Some(3)));
    assert_eq!(problem_lines(&v), [(3, false)]);
    assert!(
        v["problems"][0]["message"].as_str().unwrap().starts_with(
            "has 6 fields, the header has 5: the values past its last column are kept"
        )
    );
}

#[test]
fn unreadable_files_exit_1_and_name_the_file() {
    for (name, reason) in [
        ("empty.csv", "empty file"),
        ("garbage.csv", "binary"),
        ("truncated.geojson", "truncated JSON"),
        ("not_geojson.json", "Topology"),
    ] {
        let o = run(&["check", data(name).to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(name) && err.contains(reason), "{name}: {err}");
    }
    let o = run(&["check", "/nonexistent/file.csv"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/file.csv: no such file"));
}

#[test]
fn a_bad_file_does_not_stop_the_others() {
    let (code, v) = check_json(&[&data("generic.csv"), &data("empty.csv"), &data("acled.csv")]);
    assert_eq!(code, 1);
    assert_eq!(v["incidents"], 7);
    assert_eq!(
        v["errors"][0]["file"].as_str().unwrap(),
        data("empty.csv").to_str().unwrap()
    );
}

#[test]
fn bom_semicolons_crlf_and_decimal_commas() {
    let (code, v) = check_json(&[&data("bom_semicolon_crlf.csv")]);
    assert_eq!(code, 0);
    assert_eq!(v["incidents"], 3);
    assert_eq!(v["types"]["Interception"], 2);
    assert_eq!(problem_lines(&v), vec![(6, true)]);
}

#[test]
fn multiline_fields_keep_physical_line_numbers() {
    let (_, v) = check_json(&[&data("multiline.csv")]);
    assert_eq!(v["incidents"], 3);
    assert_eq!(problem_lines(&v), vec![(6, true)]);
}

#[test]
fn unclosed_quote_is_reported_where_it_starts() {
    let (code, v) = check_json(&[&data("unclosed_quote.csv")]);
    assert_eq!(code, 0);
    assert_eq!(v["incidents"], 1);
    assert_eq!(problem_lines(&v), vec![(3, true)]);
    assert!(
        v["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("never closed")
    );
}

#[test]
fn latin1_is_read_and_noted() {
    let (code, v) = check_json(&[&data("latin1.csv")]);
    assert_eq!(code, 0);
    assert_eq!(v["incidents"], 2);
    assert_eq!(problem_lines(&v), vec![(2, false)]);
    let o = run(&[
        "filter",
        data("latin1.csv").to_str().unwrap(),
        "--text",
        "ramádi",
        "--format",
        "csv",
    ]);
    assert!(String::from_utf8(o.stdout).unwrap().contains("Ramádi"));
}

#[test]
fn geojson_epoch_times_and_geometries() {
    let (code, v) = check_json(&[&data("usgs.geojson")]);
    assert_eq!(code, 0);
    assert_eq!(v["incidents"], 2);
    assert_eq!(v["date_min"], "2021-06-05");
    assert_eq!(v["date_max"], "2021-06-06");
    // Polygon → centroid (kept, noted); null geometry and bad time → skipped.
    assert_eq!(problem_lines(&v), vec![(3, false), (4, true), (5, true)]);
}

#[test]
fn multi_megabyte_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big_field.csv");
    let big = "x".repeat(5 << 20);
    std::fs::write(&p, format!("lat,lon,date,notes\n33,44,2021-06-01,\"{big}\"\n34,45,2021-06-02,small\n95,45,2021-06-03,bad\n")).unwrap();
    let (code, v) = check_json(&[&p]);
    assert_eq!(code, 0);
    assert_eq!(v["incidents"], 2);
    assert_eq!(problem_lines(&v), vec![(4, true)]);
}

#[test]
fn filter_writes_matching_incidents() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let o = run(&[
        "filter",
        dir.to_str().unwrap(),
        "--from",
        "2021-06-05",
        "--to",
        "2021-06-06",
        "--format",
        "geojson",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<&str> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["IQ-2021-010", "IQ-2021-011", "IQ-2021-012"]);
    // Original properties survive verbatim.
    assert_eq!(v["features"][2]["properties"]["time"], "00:30");

    let o = run(&[
        "filter",
        dir.to_str().unwrap(),
        "--type",
        "rocket attack",
        "--type",
        "IED",
        "--bbox",
        "40,32,45,34",
        "--format",
        "csv",
    ]);
    let out = String::from_utf8(o.stdout).unwrap();
    let rows: Vec<&str> = out.lines().collect();
    assert!(rows[0].starts_with("id,date,"));
    assert!(
        rows[1..]
            .iter()
            .all(|r| r.contains("Rocket attack") || r.contains(",IED,"))
    );
    assert_eq!(rows.len(), 1 + 39, "{out}");
}

#[test]
fn filter_csv_round_trips_every_original_column() {
    let o = run(&[
        "filter",
        data("acled.csv").to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let original = std::fs::read_to_string(data("acled.csv")).unwrap();
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(out.lines().next(), original.lines().next());
    // Sorted by date: IRQ2 (month span starting 1 June), IRQ1 (6 June), IRQ3 (10 June).
    let ids: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids, vec!["IRQ2", "IRQ1", "IRQ3"]);
    // Re-reading the output gives the same summary.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("again.csv");
    std::fs::write(&p, &out).unwrap();
    let (_, a) = check_json(&[&data("acled.csv")]);
    let (_, b) = check_json(&[&p]);
    assert_eq!(a["types"], b["types"]);
    assert_eq!(a["bbox"], b["bbox"]);
}

#[test]
fn filter_out_is_atomic_and_never_overwrites_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.geojson");
    std::fs::write(&out, "previous").unwrap();
    // A file that cannot be loaded: nothing written, old file intact.
    let o = run(&[
        "filter",
        data("empty.csv").to_str().unwrap(),
        "--format",
        "geojson",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous");
    // Success replaces it.
    let o = run(&[
        "filter",
        data("generic.csv").to_str().unwrap(),
        "--format",
        "geojson",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["features"].as_array().unwrap().len(), 4);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // Writing over an input is refused.
    let input = dir.path().join("in.csv");
    std::fs::copy(data("generic.csv"), &input).unwrap();
    let o = run(&[
        "filter",
        input.to_str().unwrap(),
        "--format",
        "csv",
        "--out",
        input.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        std::fs::read(&input).unwrap(),
        std::fs::read(data("generic.csv")).unwrap()
    );
    // An unwritable destination exits 1.
    let o = run(&[
        "filter",
        data("generic.csv").to_str().unwrap(),
        "--format",
        "csv",
        "--out",
        "/nonexistent-dir/x.csv",
    ]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["check"],
        vec!["filter", "x.csv"],
        vec!["filter", "x.csv", "--format", "xml"],
        vec!["filter", "x.csv", "--format", "csv", "--from", "2021-02-30"],
        vec!["filter", "x.csv", "--format", "csv", "--bbox", "1,2,3"],
        vec![
            "filter",
            "x.csv",
            "--format",
            "csv",
            "--from",
            "2021-06-02",
            "--to",
            "2021-06-01",
        ],
        vec!["frobnicate"],
    ] {
        let o = run(&args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// The window without a display or a graphics adapter says why and what to install, with exit
/// 1 and no backtrace.
#[test]
fn the_window_without_display_or_adapter_says_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    let o = bin()
        .arg("--offline")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("WGPU_BACKEND", "dx12")
        .env("XDG_CONFIG_HOME", home.path())
        .env("XDG_CACHE_HOME", home.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot open the window"), "{err}");
    assert!(err.contains("apt install"), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

/// Conflicting flags are usage errors that name both; a reversed range reads the same in every
/// command, because one function turns FILTERS into a filter.
#[test]
fn conflicting_flags_name_both_and_messages_agree() {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let d = d.to_str().unwrap();
    for (a, b) in [
        ("--tile-url", "--basemap"),
        ("--pmtiles", "--basemap"),
        ("--offline", "--tile-url"),
    ] {
        let mut args = vec!["export", d, "--out", "/tmp/never-written.png"];
        for flag in [a, b] {
            args.push(flag);
            match flag {
                "--tile-url" => args.push("http://127.0.0.1:9/{z}/{x}/{y}.png"),
                "--pmtiles" => args.push("tiles.pmtiles"),
                "--basemap" => args.push("osm"),
                _ => {}
            }
        }
        let o = run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(a) && err.contains(b), "{args:?}: {err}");
    }
    let reversed = ["--from", "2021-06-07", "--to", "2021-06-05"];
    let mut messages = Vec::new();
    for cmd in [
        vec!["filter", d, "--format", "csv"],
        vec!["export", d, "--out", "/tmp/never-written.png"],
    ] {
        let mut args = cmd.clone();
        args.extend(reversed);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2));
        messages.push(String::from_utf8_lossy(&o.stderr).into_owned());
    }
    assert_eq!(messages[0], messages[1]);
    assert_eq!(
        messages[0].trim(),
        "error: --from 2021-06-07 is after --to 2021-06-05"
    );
}

#[test]
fn column_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("odd.csv");
    std::fs::write(
        &p,
        "northing,easting,when_it_happened,what\n33.1,44.1,2021-06-01,IED\n",
    )
    .unwrap();
    let o = run(&["check", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "no lat/lon detected");
    assert!(String::from_utf8_lossy(&o.stderr).contains("--lat"));
    let o = run(&[
        "check",
        "--json",
        "--lat",
        "northing",
        "--lon",
        "easting",
        "--date",
        "when_it_happened",
        "--type-column",
        "what",
        p.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["types"]["IED"], 1);
}

#[cfg(unix)]
#[test]
fn fifos_and_dangling_links_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.csv");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo (coreutils) runs");
    assert!(made.success(), "mkfifo failed: {made}");
    let o = run(&["check", fifo.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("pipe.csv: not a regular file"));
    let link = dir.path().join("gone.csv");
    std::os::unix::fs::symlink(dir.path().join("nowhere.csv"), &link).unwrap();
    let o = run(&["check", link.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("gone.csv: no such file or directory"));
}

#[test]
fn fuzz_found_geometry_is_a_problem_with_its_line() {
    let (code, v) = check_json(&[&data("fuzz_crash_short_position.geojson")]);
    assert_eq!(code, 0);
    assert_eq!(v["incidents"], 1);
    let lines = problem_lines(&v);
    assert!(lines.contains(&(3, true)), "{lines:?}");
    assert!(
        v["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["message"].as_str().unwrap().contains("invalid geometry"))
    );
}

/// An unreadable file: run as `nobody` (CI runs as root, which may read anything).
#[cfg(unix)]
#[test]
fn unreadable_file_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix("incident-map-perm")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let secret = dir.path().join("secret.csv");
    std::fs::copy(data("generic.csv"), &secret).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    let bin = env!("CARGO_BIN_EXE_incident-map");
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    let o = if is_root {
        // The binary must be reachable by `nobody`: copy it next to the file.
        let exe = dir.path().join("incident-map");
        std::fs::copy(bin, &exe).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&exe)
            .args(["check", secret.to_str().unwrap()])
            .output()
            .unwrap()
    } else {
        Command::new(bin)
            .args(["check", secret.to_str().unwrap()])
            .output()
            .unwrap()
    };
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("secret.csv: permission denied"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Rectangles as a GeoJSON Polygon: the first the outer ring, the rest holes.
fn rect_polygon(rects: &[[f64; 4]]) -> String {
    let rings: Vec<Value> = rects
        .iter()
        .map(|&[x0, y0, x1, y1]| {
            serde_json::json!([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
        })
        .collect();
    serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": rings}}
    ]})
    .to_string()
}

fn features(args: &[&str]) -> Vec<Value> {
    let o = run(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["features"].as_array().unwrap().clone()
}

fn lon_lat(f: &Value) -> (f64, f64) {
    let c = &f["geometry"]["coordinates"];
    (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
}

#[test]
fn near_and_within_filter_like_the_geometry_says() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson");
    let data = data.to_str().unwrap();
    let all = features(&["filter", data, "--format", "geojson"]);
    // Anbar as a box, with a hole around Ain al-Asad air base.
    let tmp = tempfile::tempdir().unwrap();
    let area = tmp.path().join("anbar.geojson");
    let (outer, hole) = ([40.5, 32.5, 43.9, 34.6], [42.3, 33.7, 42.6, 33.9]);
    std::fs::write(&area, rect_polygon(&[outer, hole])).unwrap();
    let inside = |(x, y): (f64, f64), r: [f64; 4]| x >= r[0] && x <= r[2] && y >= r[1] && y <= r[3];
    let got = features(&[
        "filter",
        data,
        "--within",
        area.to_str().unwrap(),
        "--format",
        "geojson",
    ]);
    let want: Vec<&Value> = all
        .iter()
        .filter(|f| inside(lon_lat(f), outer) && !inside(lon_lat(f), hole))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got.iter().collect::<Vec<_>>(), want);
    // Near Ain al-Asad: the geodesic distance, checked against the sphere (within 0.5%).
    let (lat, lon, km): (f64, f64, f64) = (33.786, 42.441, 15.0);
    let got = features(&[
        "filter",
        data,
        "--near",
        "33.786,42.441",
        "--radius",
        "15",
        "--format",
        "geojson",
    ]);
    let sphere = |(x, y): (f64, f64)| {
        let (p1, p2) = (lat.to_radians(), y.to_radians());
        let (dp, dl) = (p2 - p1, (x - lon).to_radians());
        let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * 6371.0088 * h.sqrt().asin()
    };
    assert!(got.len() >= 5, "{}", got.len());
    for f in &all {
        let d = sphere(lon_lat(f));
        if d < km * 0.995 {
            assert!(got.contains(f), "{d} km");
        } else if d > km * 1.005 {
            assert!(!got.contains(f), "{d} km");
        }
    }
    // The same filters in clusters, and in the caption of an export.
    let o = run(&[
        "clusters",
        data,
        "--near",
        "33.786,42.441",
        "--radius",
        "15",
        "--zoom",
        "6",
        "--json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["incidents"].as_u64().unwrap() as usize, got.len());
    // Usage errors: a radius without a point, an area file that is not there or not a polygon.
    let o = run(&["filter", data, "--near", "33.786,42.441"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["filter", data, "--within", "/nonexistent/area.geojson"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/area.geojson"));
    let point = tmp.path().join("point.geojson");
    std::fs::write(&point, r#"{"type":"Point","coordinates":[42,33]}"#).unwrap();
    let o = run(&["filter", data, "--within", point.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no Polygon"));
}

#[test]
fn dupes_lists_groups_of_possible_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("reports.csv");
    std::fs::write(
        &csv,
        "date,date_precision,type,lat,lon,place\n\
         2021-06-07,day,Drone attack,33.800,42.460,Ain al-Asad (second report)\n\
         2021-06-06,day,drone attack,33.786,42.441,Ain al-Asad air base\n\
         2021-06-06,day,Rocket attack,33.786,42.441,Ain al-Asad air base\n\
         2021-06,month,Drone attack,33.79,42.44,Anbar (June)\n\
         2021-06-05,day,Rocket attack,33.2625,44.2344,Baghdad airport\n\
         2021-06-05,day,Rocket attack,33.27,44.24,BIAP\n\
         2021-06-20,day,Rocket attack,33.2625,44.2344,Baghdad airport later\n",
    )
    .unwrap();
    let f = csv.to_str().unwrap();
    let o = run(&["dupes", f, "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let groups: Vec<Vec<(String, u64)>> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            g["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    assert!(m["file"].as_str().unwrap().ends_with("reports.csv"));
                    assert!(m["type"].is_string() && m["date"].is_string());
                    (
                        m["place"].as_str().unwrap().to_string(),
                        m["line"].as_u64().unwrap(),
                    )
                })
                .collect()
        })
        .collect();
    // Members in date order (the month-precision report starts on the 1st); groups by their
    // first member's date; a different type or a later date is not a duplicate.
    assert_eq!(
        groups,
        vec![
            vec![
                ("Anbar (June)".to_string(), 5),
                ("Ain al-Asad air base".to_string(), 3),
                ("Ain al-Asad (second report)".to_string(), 2),
            ],
            vec![("Baghdad airport".to_string(), 6), ("BIAP".to_string(), 7)],
        ]
    );
    // Tighter rules split them; a filter applies first.
    let o = run(&["dupes", f, "--json", "--km", "0.5", "--days", "0"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["groups"].as_array().unwrap().len(), 1, "{v}");
    let o = run(&["dupes", f, "--json", "--type", "Rocket attack"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["groups"].as_array().unwrap().len(), 1);
    // Text for people; usage errors exit 2.
    let o = run(&["dupes", f]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.starts_with("2 group(s) of possible duplicates (5 reports"),
        "{text}"
    );
    assert_eq!(run(&["dupes", f, "--km", "-1"]).status.code(), Some(2));
}

#[test]
fn chart_writes_every_period_by_type_as_csv_and_png() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson");
    let data = data.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("months.csv");
    let o = run(&[
        "chart",
        data,
        "--every",
        "month",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[..2], ["period_start", "period_end"]);
    assert_eq!(header.last().unwrap(), "total");
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    // Every month of 2021, the empty ones too; the types add up to the total, 83 in all.
    assert_eq!(rows.len(), 12);
    assert_eq!(&rows[10][0], "2021-11-01");
    assert_eq!(&rows[10][1], "2021-11-30");
    let mut all = 0;
    for row in &rows {
        let n = row.len();
        let sum: u64 = (2..n - 1).map(|k| row[k].parse::<u64>().unwrap()).sum();
        assert_eq!(sum, row[n - 1].parse::<u64>().unwrap());
        all += sum;
    }
    assert_eq!(all, 83);
    // The same filters as everywhere; a PNG with axis, bars and legend.
    let png = tmp.path().join("weeks.png");
    let o = run(&[
        "chart",
        data,
        "--every",
        "week",
        "--type",
        "IED",
        "--out",
        png.to_str().unwrap(),
        "--width",
        "800",
        "--height",
        "400",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let img = image::open(&png).unwrap().to_rgba8();
    assert_eq!((img.width(), img.height()), (800, 400));
    let ied = incident_map::view::palette::style(&Default::default(), "IED").0;
    let bars = img
        .pixels()
        .filter(|p| p[0] == ied.r() && p[1] == ied.g() && p[2] == ied.b())
        .count();
    assert!(bars > 1000, "{bars} IED-coloured pixels");
    // Usage errors.
    assert_eq!(
        run(&["chart", data, "--every", "week", "--out", "x.txt"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&["chart", data, "--out", "x.csv"]).status.code(),
        Some(2)
    );
}

#[test]
fn kml_written_by_filter_reads_back_as_the_same_incidents() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson");
    let data = data.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let kml = tmp.path().join("incidents.kml");
    let o = run(&[
        "filter",
        data,
        "--format",
        "kml",
        "--out",
        kml.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&kml).unwrap();
    // A style per type in the legend's colours (aabbggrr), times for Google Earth's slider, and
    // the original fields.
    let ied = incident_map::view::palette::style(&Default::default(), "IED").0;
    assert!(text.contains(&format!(
        "<color>ff{:02x}{:02x}{:02x}</color>",
        ied.b(),
        ied.g(),
        ied.r()
    )));
    assert!(
        text.contains("<TimeStamp><when>2021-06-06T00:30:00+03:00</when></TimeStamp>"),
        "a local time with its offset"
    );
    assert!(text.contains("<Data name=\"source_url\">"));
    // Read back: the same summary and the same clusters at every zoom.
    let (_, a) = check_json(&[Path::new(data)]);
    let (code, b) = check_json(&[&kml]);
    assert_eq!(code, 0);
    common::summary::assert_same(&a, &b, "kml");
    assert_eq!(b["files"][0]["format"], "kml");
    // The same zipped: a KMZ reads back the same.
    let kmz = tmp.path().join("incidents.kmz");
    let o = run(&[
        "filter",
        data,
        "--format",
        "kmz",
        "--out",
        kmz.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(std::fs::read(&kmz).unwrap().starts_with(b"PK\x03\x04"));
    assert!(
        std::fs::metadata(&kmz).unwrap().len() < text.len() as u64 / 2,
        "deflated"
    );
    let (code, z) = check_json(&[&kmz]);
    assert_eq!(code, 0);
    common::summary::assert_same(&a, &z, "kmz");
    // A KMZ renamed .zip is still read as KML.
    let as_zip = tmp.path().join("incidents.zip");
    std::fs::copy(&kmz, &as_zip).unwrap();
    let (code, z) = check_json(&[&as_zip]);
    assert_eq!((code, &z["incidents"]), (0, &a["incidents"]));
    let bad_zip = tmp.path().join("bad.kmz");
    std::fs::write(&bad_zip, b"PK\x03\x04 not really a zip").unwrap();
    let o = run(&["check", bad_zip.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.kmz"));
    for zoom in ["3", "7", "11"] {
        let c = |src: &str| {
            let o = run(&["clusters", src, "--zoom", zoom, "--json"]);
            serde_json::from_slice::<Value>(&o.stdout).unwrap()
        };
        assert_eq!(c(data), c(kml.to_str().unwrap()), "zoom {zoom}");
    }
}

#[test]
fn a_kml_without_placemarks_or_not_kml_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty.kml");
    std::fs::write(
        &empty,
        "<kml xmlns=\"http://www.opengis.net/kml/2.2\"><Document/></kml>",
    )
    .unwrap();
    let o = run(&["check", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("empty.kml"));
    let broken = tmp.path().join("broken.kml");
    std::fs::write(&broken, "<kml><Document><Placemark></kml>").unwrap();
    let o = run(&["check", broken.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not readable KML"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn kml_from_other_software_is_read_with_problems_on_its_own_lines() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kml");
    let problems = |f: &str| {
        let (code, v) = check_json(&[&dir.join(f)]);
        assert_eq!(code, 0, "{v}");
        v["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["line"].as_u64().unwrap(),
                    p["message"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    // GDAL's fixtures: placemarks with times but no geometry, with fields but no dates, and a
    // KML 2.1 document with HTML in its description.
    let p = problems("gxtimestamp.kml");
    assert_eq!(p.iter().map(|x| x.0).collect::<Vec<_>>(), vec![4, 11]);
    assert!(p.iter().all(|x| x.1.contains("geometry")), "{p:?}");
    let p = problems("extended_data_without_schema_data.kml");
    assert_eq!(p.iter().map(|x| x.0).collect::<Vec<_>>(), vec![4, 18]);
    assert!(p.iter().all(|x| x.1.contains("date")), "{p:?}");
    let p = problems("placemark.kml");
    assert_eq!(p.iter().map(|x| x.0).collect::<Vec<_>>(), vec![3]);
}

#[test]
fn geopackages_from_gdal_are_read_and_reprojected() {
    // Written by GDAL 3.12 (pyogrio) with positions projected by PROJ, from six incidents of the
    // bundled data: see tests/data/gpkg/make_fixtures.py.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gpkg");
    let bundled: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson"),
        )
        .unwrap(),
    )
    .unwrap();
    // The bundled position of each (date, place).
    let at: std::collections::HashMap<(String, String), (f64, f64)> = bundled["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = &f["properties"];
            let c = &f["geometry"]["coordinates"];
            (
                (
                    p["date"].as_str().unwrap().to_string(),
                    p["place"].as_str().unwrap().to_string(),
                ),
                (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()),
            )
        })
        .collect();
    for (f, centroids) in [
        ("incidents_wgs84.gpkg", 0),
        ("incidents_utm38n.gpkg", 0),
        ("two_layers_webmerc.gpkg", 3),
    ] {
        let (code, v) = check_json(&[&dir.join(f)]);
        assert_eq!(code, 0, "{f}: {v}");
        assert_eq!(v["incidents"], 6, "{f}");
        assert_eq!(v["files"][0]["format"], "geopackage");
        assert_eq!(v["types"]["IED"], 2, "{f}: event_type detected");
        assert_eq!(v["types"]["Interception"], 1, "{f}");
        assert_eq!(
            (v["date_min"].as_str(), v["date_max"].as_str()),
            (Some("2021-01-04"), Some("2021-06-05"))
        );
        let notes = v["problems"].as_array().unwrap();
        assert_eq!(notes.len(), centroids, "{f}: {notes:?}");
        assert!(
            notes
                .iter()
                .all(|p| p["message"].as_str().unwrap().contains("Polygon geometry"))
        );
        // Every incident where the bundled data has it (polygons: their centroid, the centre).
        let o = run(&[
            "filter",
            dir.join(f).to_str().unwrap(),
            "--format",
            "geojson",
        ]);
        assert_eq!(o.status.code(), Some(0));
        let out: Value = serde_json::from_slice(&o.stdout).unwrap();
        let feats = out["features"].as_array().unwrap();
        assert_eq!(feats.len(), 6);
        for g in feats {
            let p = &g["properties"];
            let key = (
                p["event_date"].as_str().unwrap().to_string(),
                p["location"].as_str().unwrap().to_string(),
            );
            let (lon, lat) = at[&key];
            // The original geometry is written back: a polygon's box is centred on the place.
            let g = &g["geometry"];
            let corners: Vec<&Value> = match g["type"].as_str() {
                Some("Polygon") => g["coordinates"][0].as_array().unwrap()[..4]
                    .iter()
                    .collect(),
                _ => vec![&g["coordinates"]],
            };
            let mean = |k: usize| {
                corners.iter().map(|c| c[k].as_f64().unwrap()).sum::<f64>() / corners.len() as f64
            };
            let (x, y) = (mean(0), mean(1));
            assert!(
                (x - lon).abs() < 1e-7 && (y - lat).abs() < 1e-7,
                "{f} {key:?}: {x},{y} vs {lon},{lat}"
            );
            // Unknown fatalities stay unknown; the layer is named when there are several.
            let fat = &bundled["features"]
                .as_array()
                .unwrap()
                .iter()
                .find(|b| {
                    b["properties"]["date"] == p["event_date"]
                        && b["properties"]["place"] == p["location"]
                })
                .unwrap()["properties"]["fatalities"];
            assert_eq!(p["fatalities"].as_f64(), fat.as_f64(), "{f} {key:?}");
            assert_eq!(p.get("layer").is_some(), f.starts_with("two_layers"));
        }
    }
}

#[test]
fn geopackages_in_other_systems_wal_mode_views_and_plain_sqlite() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gpkg");
    // Another coordinate system is a clear error naming the file, the layer and the system.
    let o = run(&[
        "check",
        dir.join("incidents_karbala.gpkg").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("incidents_karbala.gpkg")
            && e.contains("layer incidents")
            && e.contains("EPSG:3393"),
        "{e}"
    );
    // A GeoPackage left in WAL mode (as QGIS often leaves them) reads the same; a layer that is
    // a view (which could be endless) is refused by name.
    let tmp = tempfile::tempdir().unwrap();
    let wal = tmp.path().join("wal.gpkg");
    std::fs::copy(dir.join("incidents_wgs84.gpkg"), &wal).unwrap();
    {
        let db = rusqlite::Connection::open(&wal).unwrap();
        let mode: String = db
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
    assert_eq!(std::fs::read(&wal).unwrap()[18..20], [2, 2]);
    let (code, v) = check_json(&[&wal]);
    assert_eq!((code, v["incidents"].as_u64()), (0, Some(6)), "{v}");
    // A generated column (GeoPackage allows them) is read like the others.
    let generated = tmp.path().join("generated.gpkg");
    std::fs::copy(dir.join("incidents_wgs84.gpkg"), &generated).unwrap();
    rusqlite::Connection::open(&generated)
        .unwrap()
        .execute_batch(
            "ALTER TABLE incidents ADD COLUMN month TEXT \
             GENERATED ALWAYS AS (substr(event_date, 1, 7)) VIRTUAL;",
        )
        .unwrap();
    let o = run(&[
        "filter",
        generated.to_str().unwrap(),
        "--format",
        "csv",
        "--from",
        "2021-06-05",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let csv = String::from_utf8_lossy(&o.stdout);
    assert!(csv.lines().next().unwrap().contains("month"), "{csv}");
    assert!(csv.contains(",2021-06,"), "{csv}");
    let view = tmp.path().join("view.gpkg");
    std::fs::copy(dir.join("incidents_wgs84.gpkg"), &view).unwrap();
    rusqlite::Connection::open(&view)
        .unwrap()
        .execute_batch(
            "ALTER TABLE incidents RENAME TO incidents_t; \
             CREATE VIEW incidents AS SELECT * FROM incidents_t;",
        )
        .unwrap();
    let o = run(&["check", view.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("layer incidents is a view"), "{e}");
    // Not a GeoPackage: an SQLite database without its tables.
    let plain = tmp.path().join("plain.gpkg");
    let mut bytes = std::fs::read(dir.join("incidents_wgs84.gpkg")).unwrap();
    bytes.truncate(100);
    std::fs::write(&plain, &bytes).unwrap();
    let o = run(&["check", plain.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("plain.gpkg") && e.contains("GeoPackage"), "{e}");
    // A damaged database says so (it was reported as one without the GeoPackage tables).
    let damaged = tmp.path().join("damaged.gpkg");
    let mut bytes = std::fs::read(dir.join("incidents_wgs84.gpkg")).unwrap();
    bytes[100..400].fill(0xa5);
    std::fs::write(&damaged, &bytes).unwrap();
    let o = run(&["check", damaged.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("database disk image is malformed") && !e.contains("no gpkg_contents"),
        "{e}"
    );
}

#[test]
fn a_geopackage_loads_its_tables_beside_a_view_or_a_missing_layer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gpkg");
    let tmp = tempfile::tempdir().unwrap();
    // Beside a table, a view or a layer listed but missing is left out with a note, and the
    // table still loads (one such layer used to refuse the whole file).
    let beside = tmp.path().join("beside.gpkg");
    std::fs::copy(dir.join("incidents_wgs84.gpkg"), &beside).unwrap();
    rusqlite::Connection::open(&beside)
        .unwrap()
        .execute_batch(
            "CREATE VIEW v AS SELECT * FROM incidents; \
             INSERT INTO gpkg_contents (table_name, data_type, srs_id) VALUES ('v', 'features', 4326), ('gone', 'features', 4326); \
             INSERT INTO gpkg_geometry_columns SELECT 'v', column_name, geometry_type_name, srs_id, z, m FROM gpkg_geometry_columns WHERE table_name = 'incidents'; \
             INSERT INTO gpkg_geometry_columns SELECT 'gone', column_name, geometry_type_name, srs_id, z, m FROM gpkg_geometry_columns WHERE table_name = 'incidents';",
        )
        .unwrap();
    let (code, v) = check_json(&[&beside]);
    assert_eq!((code, v["incidents"].as_u64()), (0, Some(6)), "{v}");
    let notes: Vec<(u64, bool, &str)> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["skipped"].as_bool().unwrap(),
                p["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        notes,
        [
            (
                0,
                false,
                "layer v is a view or missing; only tables are read"
            ),
            (
                0,
                false,
                "layer gone is a view or missing; only tables are read"
            ),
        ]
    );
}

/// A copy of a shapefile of tests/data/shapefile (`from`) as `name` in `tmp`, its .shp and .dbf
/// changed by `shp` and `dbf`, checked: the exit code, incidents loaded, and the rows skipped
/// (line, "column: reason").
fn damaged_shapefile(
    tmp: &Path,
    (name, from): (&str, &str),
    shp: &dyn Fn(&mut Vec<u8>),
    dbf: &dyn Fn(&mut Vec<u8>),
) -> (i32, u64, Vec<(u64, String)>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/shapefile");
    for ext in ["shp", "dbf", "prj"] {
        let mut b = std::fs::read(dir.join(format!("{from}.{ext}"))).unwrap();
        match ext {
            "shp" => shp(&mut b),
            "dbf" => dbf(&mut b),
            _ => {}
        }
        std::fs::write(tmp.join(format!("{name}.{ext}")), b).unwrap();
    }
    let (code, v) = check_json(&[&tmp.join(format!("{name}.shp"))]);
    let problems = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["skipped"] == true)
        .map(|p| {
            let col = p["column"]
                .as_str()
                .map(|c| format!("{c}: "))
                .unwrap_or_default();
            (
                p["line"].as_u64().unwrap(),
                format!("{col}{}", p["message"].as_str().unwrap()),
            )
        })
        .collect();
    (code, v["incidents"].as_u64().unwrap_or(0), problems)
}

fn put(b: &mut [u8], at: usize, v: i32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn keep(_: &mut Vec<u8>) {}

#[test]
fn a_damaged_shp_loads_its_good_records_and_names_the_bad_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let damaged = |name, from, shp: &dyn Fn(&mut Vec<u8>)| {
        damaged_shapefile(tmp.path(), (name, from), shp, &keep)
    };
    let one = |line: u64, why: &str| vec![(line, why.to_string())];
    // Point records of 28 bytes from byte 100, the type first; records 1 and 3 still load.
    let got = damaged("unknown", "incidents_utm38n", &|b| put(b, 128 + 8, 77));
    assert_eq!(got, (0, 2, one(2, "unknown shape type 77")));
    // Polygons of 2 parts and 10 points: counts that lie (the reader would allocate 16 GiB, or
    // overflow on parts in the wrong order) are the record's problem, not the file's.
    let got = damaged("lying", "areas_wgs84", &|b| put(b, 100 + 8 + 36, i32::MAX));
    let why = "2147483647 parts of 10 points, more than its 212 bytes hold";
    assert_eq!(got, (0, 1, one(1, why)));
    let got = damaged("parts", "areas_wgs84", &|b| put(b, 320 + 8 + 44, 7));
    let why = "its part starts are not ascending from 0 within its 10 points";
    assert_eq!(got, (0, 1, one(2, why)));
    let got = damaged("negative", "areas_wgs84", &|b| put(b, 320 + 8 + 40, -1));
    let why = "its part and point counts are missing or negative";
    assert_eq!(got, (0, 1, one(2, why)));
    // A record whose length runs past the end: the ones before it load.
    let got = damaged("long", "incidents_utm38n", &|b| b[156 + 7] = 99);
    let why = "the record's length (99 words) runs past the end of the .shp";
    assert_eq!(got, (0, 2, one(3, why)));
}

#[test]
fn a_damaged_dbf_loses_only_its_bad_rows_or_is_refused_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let damaged = |name, dbf: &dyn Fn(&mut Vec<u8>)| {
        damaged_shapefile(tmp.path(), (name, "incidents_utm38n"), &keep, dbf)
    };
    let one = |line: u64, why: &str| vec![(line, why.to_string())];
    // dBase records of 114 bytes from byte 161, the date (D) first: a bad value skips its row
    // only, naming the column; a .dbf cut short names what is missing.
    let got = damaged("baddate", &|b| {
        b[161 + 114 + 1..161 + 114 + 9].copy_from_slice(b"20x1ab01")
    });
    let why = "event_date: not a dBase date (eight digits)";
    assert_eq!(got, (0, 2, one(2, why)));
    let got = damaged("short", &|b| b.truncate(161 + 2 * 114));
    let why = "no attributes: the .dbf ends after 2 of the 3 records it declares";
    assert_eq!(got, (0, 2, one(3, why)));
    // A record size that leaves out the deletion flag (some writers do) is read as the flag
    // and the fields.
    let got = damaged("flagless", &|b| {
        b[10..12].copy_from_slice(&113u16.to_le_bytes())
    });
    assert_eq!(got, (0, 3, vec![]));
    // A field narrower than its type reads (an integer of 2 bytes) is refused, not a panic.
    let (code, _, _) = damaged("narrow", &|b| {
        b[32 + 32 * 2 + 16] = 63;
        b[32 + 32 * 3 + 11] = b'I';
        b[32 + 32 * 3 + 16] = 2;
    });
    assert_eq!(code, 1);
    let o = run(&["check", tmp.path().join("narrow.shp").to_str().unwrap()]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("its field fatalities is 2 bytes, narrower than its type's 4"),
        "{e}"
    );
    // Headers the dBase reader would panic on, or misread every record by, refuse the file.
    for (name, change, why) in [
        ("header", 8, "its header gives no place for the records"),
        (
            "widths",
            32 + 32 * 3 + 16,
            "its fields (109 bytes) do not fill its records",
        ),
    ] {
        let (code, _, _) = damaged(name, &|b| match change {
            8 => b[8..10].copy_from_slice(&10u16.to_le_bytes()),
            _ => b[change] = 1,
        });
        assert_eq!(code, 1, "{name}");
        let o = run(&[
            "check",
            tmp.path().join(format!("{name}.shp")).to_str().unwrap(),
        ]);
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(&format!("{name}.shp")) && e.contains(why), "{e}");
    }
}

#[test]
fn shapefiles_are_reprojected_from_utm_and_web_mercator() {
    // Made with pyshp (a standard shapefile writer) from three incidents of the bundled data,
    // in UTM zone 38N and in Web Mercator (zipped); see tests/data/shapefile/README.md.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/shapefile");
    let want = [(42.441, 33.2625), (44.2344, 36.2376)];
    for f in ["incidents_utm38n.shp", "incidents_webmerc.zip"] {
        let (code, v) = check_json(&[&dir.join(f)]);
        assert_eq!(code, 0, "{f}: {v}");
        assert_eq!(v["incidents"], 3, "{f}");
        assert_eq!(
            v["types"]["Rocket attack"], 2,
            "{f}: ACLED-like columns detected"
        );
        assert_eq!(v["date_min"], "2021-02-15");
        let b: Vec<f64> = v["bbox"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        for (got, w) in [
            (b[0], want[0].0),
            (b[1], want[0].1),
            (b[2], want[1].0),
            (b[3], want[1].1),
        ] {
            assert!((got - w).abs() < 1e-6, "{f}: {b:?}");
        }
        assert_eq!(v["files"][0]["format"], "shapefile");
    }
    // Polygons (pyshp): named as such, at their centroids — a square with a hole around Ain
    // al-Asad, two squares either side of Baghdad airport.
    let (code, v) = check_json(&[&dir.join("areas_wgs84.shp")]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["incidents"], 2);
    let notes: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        notes,
        [
            "Polygon geometry: using its centroid",
            "MultiPolygon geometry: using its centroid"
        ]
    );
    let b: Vec<f64> = v["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    // The hole, east of the square's centre, pulls the centroid west.
    let ain_al_asad = 42.441 - 0.0004 * 0.005 / 0.0012;
    for (got, w) in b.iter().zip([ain_al_asad, 33.2625, 44.2344, 33.786]) {
        assert!((got - w).abs() < 1e-9, "{b:?}");
    }
    // Other coordinate systems are a clear error naming the file and the system.
    let o = run(&["check", dir.join("incidents_karbala.shp").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("incidents_karbala.shp") && e.contains("Karbala_1979_UTM_Zone_38N"),
        "{e}"
    );
}

#[test]
fn actor_filter_matches_any_actor_column_of_the_bundled_data_and_acled() {
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson");
    let b = bundled.to_str().unwrap();
    let ids = |o: &Output| -> Vec<String> {
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    // Case-insensitive, a part of the name, in the `actors` property.
    let one = run(&[
        "filter",
        b,
        "--format",
        "geojson",
        "--actor",
        "SARAYA awliya",
    ]);
    assert_eq!(ids(&one).len(), 3, "{:?}", ids(&one));
    assert!(String::from_utf8_lossy(&one.stderr).contains("Actors: SARAYA awliya"));
    // Repeated: any of the names.
    let two = run(&[
        "filter",
        b,
        "--format",
        "geojson",
        "--actor",
        "saraya awliya",
        "--actor",
        "ashab al-kahf",
    ]);
    assert_eq!(ids(&two).len(), 4);
    // With the other filters.
    let both = run(&[
        "filter",
        b,
        "--format",
        "geojson",
        "--actor",
        "unidentified",
        "--type",
        "Drone attack",
    ]);
    assert!(!ids(&both).is_empty());
    // ACLED: actor1, actor2 and assoc_actor_* are actor columns; an actor only in actor2 counts.
    let dir = tempfile::tempdir().unwrap();
    let acled = dir.path().join("acled.csv");
    std::fs::write(
        &acled,
        "event_id_cnty,event_date,event_type,sub_event_type,actor1,assoc_actor_1,actor2,assoc_actor_2,latitude,longitude,notes\n\
         IRQ1,2021-06-05,Explosions/Remote violence,Air/drone strike,Unidentified Armed Group (Iraq),,Military Forces of the United States (2021-),,33.78,42.44,a\n\
         IRQ2,2021-06-06,Explosions/Remote violence,Shelling/artillery/missile attack,Unidentified Armed Group (Iraq),Kataib Hezbollah,Civilians (Iraq),,33.26,44.23,b\n\
         IRQ3,2021-06-07,Battles,Armed clash,Military Forces of Iraq (2020-),,Islamic State (Iraq),,34.3,43.1,c\n",
    )
    .unwrap();
    let a = acled.to_str().unwrap();
    let csv_ids = |args: &[&str]| -> String {
        let mut all = vec!["filter", a, "--format", "csv"];
        all.extend(args);
        let o = run(&all);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(csv_ids(&["--actor", "united states"]), "IRQ1");
    assert_eq!(csv_ids(&["--actor", "kataib"]), "IRQ2");
    assert_eq!(
        csv_ids(&["--actor", "islamic state", "--actor", "civilians"]),
        "IRQ2 IRQ3"
    );
    assert_eq!(csv_ids(&["--actor", "nobody"]), "");
}
