//! Writes through the files source: a change is spliced into the file it came from and every
//! other byte stays identical (GeoJSON, UTF-8 CSV, Windows-1252 CSV, a 1M-row CSV); a file
//! changed underneath is refused; a stale version is a conflict carrying theirs; the history
//! is appended beside the file; the store follows without reading the file again.

mod common {
    pub mod edits;
}

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::edits::key_of;
use incident_map::edit::{Draft, SpliceError};
use incident_map::model::Role;
use incident_map::progress::Control;
use incident_map::query::Filter;
use incident_map::source::{Edit, Fetch, Source, SourceError};
use serde_json::Value;

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson")
}

fn open(p: &Path) -> Arc<dyn Source> {
    incident_map::source::open(&[p.to_path_buf()], &Default::default(), &Control::default())
        .unwrap_or_else(|e| panic!("open {}: {e}", p.display()))
}

fn ctl() -> Control {
    Control::default()
}

fn count(src: &dyn Source) -> u64 {
    src.summary(&ctl()).unwrap().incidents
}

/// `new` is `old` with one span replaced: the span's old and new bytes.
fn one_span(old: &[u8], new: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let pre = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let room = old.len().min(new.len()) - pre;
    let suf = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(room)
        .take_while(|(a, b)| a == b)
        .count();
    (
        old[pre..old.len() - suf].to_vec(),
        new[pre..new.len() - suf].to_vec(),
    )
}

fn copy_bundled(dir: &Path) -> PathBuf {
    let p = dir.join("incidents.geojson");
    std::fs::copy(bundled(), &p).unwrap();
    p
}

#[test]
fn a_geojson_correction_changes_only_its_value() {
    let dir = tempfile::tempdir().unwrap();
    let p = copy_bundled(dir.path());
    let old = std::fs::read(&p).unwrap();
    let src = open(&p);
    let key = key_of(&*src, "id", "IQ-2021-018");
    let (mut draft, version) = src.draft(key, &ctl()).unwrap();
    let before = draft.text("actors");
    draft.set(
        "actors",
        Value::String("Revenge of al-Muhandis Brigade (claimed, AFP)".into()),
    );
    let w = src
        .write(
            &Edit::Update {
                key,
                version,
                draft,
            },
            "ana",
            &ctl(),
        )
        .unwrap();
    assert_eq!(w.key, Some(key));
    let new = std::fs::read(&p).unwrap();
    let (a, b) = one_span(&old, &new);
    // Only the value's characters changed: no reformatting, no reordering.
    assert!(
        before.contains(std::str::from_utf8(&a).unwrap()),
        "{:?} → {:?}",
        String::from_utf8_lossy(&a),
        String::from_utf8_lossy(&b)
    );
    assert!(
        String::from_utf8_lossy(&b).len() <= "Revenge of al-Muhandis Brigade (claimed, AFP)".len()
    );
    // The store followed: the same key reads the new value, and a fresh load agrees.
    let d = src.details(key, &ctl()).unwrap();
    assert_eq!(
        d.actors,
        vec!["Revenge of al-Muhandis Brigade (claimed, AFP)"]
    );
    let fresh = open(&p);
    let k = key_of(&*fresh, "id", "IQ-2021-018");
    assert_eq!(fresh.details(k, &ctl()).unwrap(), d);
    assert_eq!(count(&*fresh), count(&*src));
    // The history beside the file holds before and after, under the editor's name.
    let h = src.history(Some(key), &ctl()).unwrap();
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0].op, "update");
    assert_eq!(h[0].incident, "IQ-2021-018");
    assert!(h[0].editor.starts_with("ana"), "{}", h[0].editor);
    let text = |v: &Option<Value>| v.as_ref().unwrap()["properties"]["actors"].clone();
    assert_eq!(text(&h[0].before), Value::String(before));
    assert_eq!(
        text(&h[0].after),
        Value::String("Revenge of al-Muhandis Brigade (claimed, AFP)".into())
    );
    assert!(dir.path().join("incidents.geojson.history.jsonl").is_file());
}

/// A new incident for the bundled data's fields.
fn new_incident(src: &dyn Source) -> Draft {
    let schema = src.schema(&ctl()).unwrap();
    let mut d = Draft::empty(&schema);
    d.lon = 43.1;
    d.lat = 33.36;
    for (role, v) in [
        (Role::Date, "2021-07-01"),
        (Role::Type, "Rocket attack"),
        (Role::LocPrecision, "near"),
        (Role::Place, "Test place"),
        (Role::Source, "Reuters, 2021-07-01"),
    ] {
        assert!(d.set_role(&schema, role, v), "{role:?}");
    }
    d
}

#[test]
fn a_new_geojson_incident_is_added_and_a_deleted_one_removed_with_every_other_byte_kept() {
    let dir = tempfile::tempdir().unwrap();
    let p = copy_bundled(dir.path());
    let old = std::fs::read(&p).unwrap();
    let src = open(&p);
    let n = count(&*src);
    // A draft without what recording needs is refused, every reason named, nothing written.
    let schema = src.schema(&ctl()).unwrap();
    match src.write(&Edit::Insert(Draft::empty(&schema)), "", &ctl()) {
        Err(SourceError::Invalid(why)) => {
            let fields: Vec<&str> = why.0.iter().map(|p| p.field.as_str()).collect();
            for f in ["position", "date", "type", "location_precision", "source"] {
                assert!(fields.contains(&f), "{f}: {why}");
            }
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(&p).unwrap(), old);
    let w = src
        .write(&Edit::Insert(new_incident(&*src)), "", &ctl())
        .unwrap();
    let key = w.key.unwrap();
    let added = std::fs::read(&p).unwrap();
    let (a, b) = one_span(&old, &added);
    assert!(
        a.is_empty(),
        "nothing was replaced: {:?}",
        String::from_utf8_lossy(&a)
    );
    let b = String::from_utf8(b).unwrap();
    assert!(
        b.contains("\"Test place\"") && b.contains("\"Feature\""),
        "{b}"
    );
    // The new feature is written in the file's own style (one line, spaced like the others).
    assert_eq!(b.matches('\n').count(), 1, "{b}");
    assert!(b.contains("\"type\": \"Feature\""), "{b}");
    assert_eq!(count(&*src), n + 1);
    let d = src.details(key, &ctl()).unwrap();
    assert_eq!((d.place.as_str(), d.lon_lat), ("Test place", (43.1, 33.36)));
    assert_eq!(count(&*open(&p)), n + 1);
    // Deleting it gives back the file as it was, byte for byte.
    let (_, version) = src.draft(key, &ctl()).unwrap();
    src.write(&Edit::Delete { key, version }, "", &ctl())
        .unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), old);
    assert!(matches!(
        src.details(key, &ctl()),
        Err(SourceError::NoSuchIncident(_))
    ));
    // Deleting one from the middle removes only its line; the rest still reads.
    let mid = key_of(&*src, "id", "IQ-2021-042");
    let (_, version) = src.draft(mid, &ctl()).unwrap();
    src.write(&Edit::Delete { key: mid, version }, "", &ctl())
        .unwrap();
    let cut = std::fs::read(&p).unwrap();
    let (a, b) = one_span(&old, &cut);
    assert!(b.is_empty());
    let a = String::from_utf8(a).unwrap();
    assert!(
        a.contains("IQ-2021-042") && !a.contains("IQ-2021-043"),
        "{a}"
    );
    every_incident_reads_as_a_fresh_load(&*src, &p);
    let ops: Vec<String> = src
        .history(None, &ctl())
        .unwrap()
        .into_iter()
        .map(|e| e.op)
        .collect();
    assert_eq!(ops, ["insert", "delete", "delete"]);
}

/// Sets field `field` of the incident whose own id is `id` to the text `value`, through a
/// write from its version now.
fn set_field(src: &dyn Source, id: &str, field: &str, value: &str) {
    let key = key_of(src, "id", id);
    let (mut d, version) = src.draft(key, &ctl()).unwrap();
    d.set(field, Value::String(value.into()));
    src.write(
        &Edit::Update {
            key,
            version,
            draft: d,
        },
        "",
        &ctl(),
    )
    .unwrap();
}

/// Every incident the source holds reads the same as from a fresh load of the file.
fn every_incident_reads_as_a_fresh_load(src: &dyn Source, p: &Path) {
    let fresh = open(p);
    let all = |s: &dyn Source| {
        let inc = s
            .incidents(&Filter::default(), &Fetch::up_to(usize::MAX), &ctl())
            .unwrap();
        let mut v: Vec<String> = (0..inc.store.len() as u32)
            .map(|i| {
                let d = s.details(inc.key(i), &ctl()).unwrap();
                format!("{d:?}")
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(all(src), all(&*fresh));
}

const CSV_HEAD: &str = "id,date,type,latitude,longitude,location_precision,place,notes,source";

#[test]
fn a_utf8_csv_keeps_its_quoting_and_line_endings() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("team.csv");
    let old = format!(
        "{CSV_HEAD}\r\n\
         A1,2021-06-06,Interception,33.786,42.441,exact,\"Ain al-Asad, Anbar\",\"Two drones, shot \"\"down\"\"\",\"SOFREP, 2021-06-06\"\r\n\
         A2,2021-06-05,Rocket attack,33.2625,44.2344,near,Baghdad airport,\"multi\r\nline\",AFP 2021-06-05\r\n\
         A3,2021-06-07,IED,33.3,44.4,region,Qāʾim,note,https://example.org/a\r\n"
    );
    std::fs::write(&p, &old).unwrap();
    let src = open(&p);
    assert_eq!(count(&*src), 3);
    set_field(&*src, "A2", "place", "Baghdad International Airport");
    let new = std::fs::read_to_string(&p).unwrap();
    assert_eq!(
        new,
        old.replace("Baghdad airport", "Baghdad International Airport")
    );
    // A value that needs quoting is quoted; the rest of the row keeps its bytes.
    set_field(
        &*src,
        "A1",
        "notes",
        "Two drones; one \"shot\" down, one fell",
    );
    let newer = std::fs::read_to_string(&p).unwrap();
    assert_eq!(
        newer,
        new.replace(
            "\"Two drones, shot \"\"down\"\"\"",
            "\"Two drones; one \"\"shot\"\" down, one fell\""
        )
    );
    // Moving it writes the position columns; an insert appends a CRLF row in column order.
    let key = key_of(&*src, "id", "A1");
    let (mut d, version) = src.draft(key, &ctl()).unwrap();
    d.lon = 42.44;
    d.lat = 33.8;
    src.write(
        &Edit::Update {
            key,
            version,
            draft: d,
        },
        "",
        &ctl(),
    )
    .unwrap();
    let moved = std::fs::read_to_string(&p).unwrap();
    assert_eq!(moved, newer.replace("33.786,42.441", "33.8,42.44"));
    let w = src
        .write(&Edit::Insert(new_incident(&*src)), "", &ctl())
        .unwrap();
    let added = std::fs::read_to_string(&p).unwrap();
    assert_eq!(
        added,
        format!(
            "{moved},2021-07-01,Rocket attack,33.36,43.1,near,Test place,,\"Reuters, 2021-07-01\"\r\n"
        )
    );
    assert_eq!(
        src.details(w.key.unwrap(), &ctl()).unwrap().lon_lat,
        (43.1, 33.36)
    );
    // A deleted row goes with its line ending (CRLF, across its quoted line break).
    let key = key_of(&*src, "id", "A2");
    let (_, version) = src.draft(key, &ctl()).unwrap();
    src.write(&Edit::Delete { key, version }, "", &ctl())
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        added.replace(
            "A2,2021-06-05,Rocket attack,33.2625,44.2344,near,Baghdad International Airport,\"multi\r\nline\",AFP 2021-06-05\r\n",
            ""
        )
    );
    every_incident_reads_as_a_fresh_load(&*src, &p);
}

#[test]
fn a_windows_1252_csv_stays_windows_1252_and_refuses_what_it_cannot_hold() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("legacy.csv");
    let text = format!(
        "{CSV_HEAD}\n\
         B1,2021-06-06,Interception,33.786,42.441,exact,Café Ramadi,“quoted” note,Le Monde 2021-06-07\n\
         B2,2021-06-05,IED,33.3,44.4,region,Falluja,note,AFP 2021-06-05\n"
    );
    let old = encoding_rs::WINDOWS_1252.encode(&text).0.into_owned();
    std::fs::write(&p, &old).unwrap();
    let src = open(&p);
    let key = key_of(&*src, "id", "B2");
    let (mut d, version) = src.draft(key, &ctl()).unwrap();
    d.set("place", Value::String("Fallūja".into()));
    match src.write(
        &Edit::Update {
            key,
            version,
            draft: d.clone(),
        },
        "",
        &ctl(),
    ) {
        Err(SourceError::Splice(SpliceError::Unencodable { field, character })) => {
            assert_eq!((field.as_str(), character), ("place", 'ū'));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(&p).unwrap(), old, "nothing was written");
    d.set("place", Value::String("Fallûja près de Ramadi".into()));
    src.write(
        &Edit::Update {
            key,
            version,
            draft: d,
        },
        "",
        &ctl(),
    )
    .unwrap();
    let new = std::fs::read(&p).unwrap();
    let (a, b) = one_span(&old, &new);
    assert_eq!(a, b"uja");
    // û and è as single Windows-1252 bytes, never UTF-8.
    assert_eq!(b, b"\xfbja pr\xe8s de Ramadi");
    let d = src.details(key, &ctl()).unwrap();
    assert_eq!(d.place, "Fallûja près de Ramadi");
    assert_eq!(open(&p).details(key, &ctl()).unwrap().place, d.place);
}

#[test]
fn a_file_changed_underneath_is_refused_and_a_stale_version_is_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let p = copy_bundled(dir.path());
    let (mine, theirs) = (open(&p), open(&p));
    let key = key_of(&*mine, "id", "IQ-2021-044");
    // My window opened the form before their write.
    let (mut d2, v2) = mine.draft(key, &ctl()).unwrap();
    let (mut d1, v1) = theirs.draft(key, &ctl()).unwrap();
    assert_eq!(v1, v2);
    d1.set("injuries", Value::from(1));
    theirs
        .write(
            &Edit::Update {
                key,
                version: v1,
                draft: d1.clone(),
            },
            "bo",
            &ctl(),
        )
        .unwrap();
    let after_theirs = std::fs::read(&p).unwrap();
    // Saving over their write is refused: the file is theirs.
    d2.set("date", Value::String("2021-04-22".into()));
    match mine.write(
        &Edit::Update {
            key,
            version: v2,
            draft: d2.clone(),
        },
        "ana",
        &ctl(),
    ) {
        Err(SourceError::Changed { file }) => assert!(file.ends_with("incidents.geojson")),
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(&p).unwrap(), after_theirs);
    // Read again, the source holds their edit.
    assert!(mine.reload(&ctl()).unwrap());
    assert!(!mine.reload(&ctl()).unwrap());
    let k = key_of(&*mine, "id", "IQ-2021-044");
    assert_eq!(mine.details(k, &ctl()).unwrap().injuries, Some(1));
    // Re-applied there, my edit from the old version is a conflict that shows theirs.
    let key = k;
    match mine.write(
        &Edit::Update {
            key,
            version: v2,
            draft: d2.clone(),
        },
        "ana",
        &ctl(),
    ) {
        Err(SourceError::Conflict {
            theirs: Some(t),
            version,
            ..
        }) => {
            assert_eq!(t.get("injuries"), Some(&Value::from(1)));
            assert_ne!(version, v2);
            // Keeping mine over theirs is a choice, made with their version.
            d2.set("injuries", Value::from(1));
            mine.write(
                &Edit::Update {
                    key,
                    version,
                    draft: d2,
                },
                "ana",
                &ctl(),
            )
            .unwrap();
        }
        other => panic!("{other:?}"),
    }
    let d = mine.details(key, &ctl()).unwrap();
    assert_eq!((d.injuries, d.date.as_str()), (Some(1), "2021-04-22"));
    // Both values are in the history: theirs before, mine after.
    let h = mine.history(Some(key), &ctl()).unwrap();
    assert_eq!(h.len(), 2, "{h:?}");
    assert!(h[0].editor.starts_with("bo") && h[1].editor.starts_with("ana"));
    assert_eq!(h[1].before.as_ref().unwrap()["properties"]["injuries"], 1);
}

#[test]
fn two_writers_racing_on_one_file_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = copy_bundled(dir.path());
    let ids = ["IQ-2021-001", "IQ-2021-020"];
    for _ in 0..5 {
        let sources: Vec<Arc<dyn Source>> = vec![open(&p), open(&p)];
        let results: Vec<Result<(), SourceError>> = std::thread::scope(|s| {
            let handles: Vec<_> = sources
                .iter()
                .zip(ids)
                .map(|(src, id)| {
                    s.spawn(move || {
                        let key = key_of(&**src, "id", id);
                        let (mut d, version) = src.draft(key, &ctl()).unwrap();
                        let n = d.text("injuries").parse::<u64>().unwrap_or(0);
                        d.set("injuries", Value::from(n + 1));
                        src.write(
                            &Edit::Update {
                                key,
                                version,
                                draft: d,
                            },
                            id,
                            &ctl(),
                        )
                        .map(|_| ())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // Either both wrote one after the other (the second having waited and found the
        // file changed is refused), never one over the other.
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(SourceError::Changed { .. })))
            .count();
        assert!(
            results.iter().all(|r| r.is_ok() || refused > 0),
            "{results:?}"
        );
        for (r, id) in results.iter().zip(ids) {
            if r.is_err() {
                // The refused writer reloads and writes again.
                let src = open(&p);
                let key = key_of(&*src, "id", id);
                let (mut d, version) = src.draft(key, &ctl()).unwrap();
                let n = d.text("injuries").parse::<u64>().unwrap_or(0);
                d.set("injuries", Value::from(n + 1));
                src.write(
                    &Edit::Update {
                        key,
                        version,
                        draft: d,
                    },
                    id,
                    &ctl(),
                )
                .unwrap();
            }
        }
    }
    let src = open(&p);
    for id in ids {
        let d = src.details(key_of(&*src, "id", id), &ctl()).unwrap();
        assert_eq!(
            d.injuries,
            Some(5),
            "{id}: every one of five increments is there"
        );
    }
    assert_eq!(src.history(None, &ctl()).unwrap().len(), 10);
}

#[test]
fn formats_not_written_in_place_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.kml");
    std::fs::write(
        &p,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>Rocket attack</name>
<TimeStamp><when>2021-06-05</when></TimeStamp><Point><coordinates>44.2344,33.2625</coordinates></Point>
</Placemark></Document></kml>"#,
    )
    .unwrap();
    let src = open(&p);
    let why = src.read_only(&ctl()).unwrap();
    assert!(why.contains("save a copy as GeoJSON"), "{why}");
    let key = src
        .incidents(&Filter::default(), &Fetch::up_to(10), &ctl())
        .unwrap()
        .key(0);
    let (d, version) = src.draft(key, &ctl()).unwrap();
    assert!(matches!(
        src.write(
            &Edit::Update {
                key,
                version,
                draft: d
            },
            "",
            &ctl()
        ),
        Err(SourceError::ReadOnly(_))
    ));
    assert!(open(&bundled()).read_only(&ctl()).is_none());
}

#[test]
fn one_edit_in_a_million_row_csv_keeps_every_other_byte() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.csv");
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
        writeln!(w, "{CSV_HEAD}").unwrap();
        for i in 0..1_000_000u32 {
            writeln!(
                w,
                "R{i},2021-{:02}-{:02},IED,{:.4},{:.4},near,p{i},n,AFP 2021",
                1 + i % 12,
                1 + i % 28,
                30.0 + (i % 1000) as f64 / 100.0,
                40.0 + (i / 1000) as f64 / 100.0,
            )
            .unwrap();
        }
    }
    let old = std::fs::read(&p).unwrap();
    let src = open(&p);
    assert_eq!(count(&*src), 1_000_000);
    let inc = src
        .incidents(&Filter::default(), &Fetch::up_to(usize::MAX), &ctl())
        .unwrap();
    let i = (0..inc.store.len())
        .find(|&i| inc.store.line[i] == 500_002)
        .unwrap();
    let key = inc.key(i as u32);
    let (mut d, version) = src.draft(key, &ctl()).unwrap();
    assert_eq!(d.text("id"), "R500000");
    d.set("place", Value::String("corrected, with a comma".into()));
    src.write(
        &Edit::Update {
            key,
            version,
            draft: d,
        },
        "",
        &ctl(),
    )
    .unwrap();
    let new = std::fs::read(&p).unwrap();
    let (a, b) = one_span(&old, &new);
    assert_eq!(
        (a.as_slice(), b.as_slice()),
        (&b"p500000"[..], &b"\"corrected, with a comma\""[..])
    );
    assert_eq!(
        src.details(key, &ctl()).unwrap().place,
        "corrected, with a comma"
    );
    assert_eq!(count(&*src), 1_000_000);
}

fn bin(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_incident-map"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn the_command_line_adds_edits_deletes_and_shows_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let p = copy_bundled(dir.path());
    let f = p.to_str().unwrap();
    let old = std::fs::read(&p).unwrap();
    let o = bin(&[
        "add",
        f,
        "--date",
        "2021-07-01",
        "--type",
        "Rocket attack",
        "--at",
        "33°47′10″N 42°26′28″E",
        "--location-precision",
        "near",
        "--source",
        "Reuters, 2021-07-01",
        "--place",
        "Ain al-Asad air base",
        "--field",
        "id=IQ-2021-900",
        "--field",
        "fatalities=0",
        "--editor",
        "ana",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // What names it for the next command is printed.
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "--id IQ-2021-900"
    );
    let src = open(&p);
    let d = src
        .details(key_of(&*src, "id", "IQ-2021-900"), &ctl())
        .unwrap();
    assert_eq!(
        (d.fatalities, d.type_name.as_str()),
        (Some(0), "Rocket attack")
    );
    assert!((d.lon_lat.0 - 42.441111).abs() < 1e-6 && (d.lon_lat.1 - 33.786111).abs() < 1e-6);
    // Corrections: fields and the position; the same checks as the window's form.
    let o = bin(&[
        "edit",
        f,
        "--id",
        "IQ-2021-900",
        "--set",
        "fatalities=2",
        "--at",
        "33.8, 42.44",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = std::fs::read(&p).unwrap();
    let o = bin(&[
        "edit",
        f,
        "--id",
        "IQ-2021-900",
        "--set",
        "date=2021-02-30",
        "--set",
        "type=",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("date: impossible date 2021-02-30") && e.contains("type: a type is needed"),
        "{e}"
    );
    assert_eq!(
        std::fs::read(&p).unwrap(),
        before,
        "a refused edit writes nothing"
    );
    // Bad usage is 2; an incident that is not there is 1.
    assert_eq!(
        bin(&["edit", f, "--id", "IQ-2021-900"]).status.code(),
        Some(2)
    );
    assert_eq!(
        bin(&["edit", f, "--id", "IQ-2021-900", "--at", "north"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(bin(&["edit", f, "--set", "a=b"]).status.code(), Some(2));
    let o = bin(&["delete", f, "--id", "IQ-1999-000"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no incident IQ-1999-000"),
        "{}",
        stderr(&o)
    );
    let o = bin(&["delete", f, "--id", "IQ-2021-900"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&p).unwrap(),
        old,
        "added then deleted: the file as it was"
    );
    history_is_shown(f);
}

/// The history of the test above: text for people, JSON for pipelines, a deleted incident's
/// included.
fn history_is_shown(f: &str) {
    let o = bin(&["history", f, "--id", "IQ-2021-900"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("ana  insert  IQ-2021-900"), "{text}");
    assert!(text.contains("fatalities: 0 → 2"), "{text}");
    assert!(
        text.contains("position: 33.786111, 42.441111 → 33.8, 42.44"),
        "{text}"
    );
    let o = bin(&["history", f, "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let ops: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["insert", "update", "delete"]);
    // A damaged line of the log is named (file, line, why) and the others still show.
    let log = format!("{f}.history.jsonl");
    let mut text = std::fs::read(&log).unwrap();
    text.extend_from_slice(b"{\"at\": \"2021\n\xff\xfe\n");
    std::fs::write(&log, &text).unwrap();
    let o = bin(&["history", f, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
    let e = stderr(&o);
    assert!(
        e.contains(&format!("warning: {log}:4: not a history entry"))
            && e.contains(&format!("warning: {log}:5: not UTF-8 text; left out")),
        "{e}"
    );
}

#[test]
fn the_command_line_names_a_csv_row_by_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("a.csv");
    std::fs::write(
        &csv,
        format!("{CSV_HEAD}\nA1,2021-06-06,IED,33.3,44.4,near,x,,AFP 2021-06-06\n"),
    )
    .unwrap();
    let c = csv.to_str().unwrap();
    let o = bin(&["edit", c, "--line", "3", "--set", "place=Falluja"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no incident on line 3 ("),
        "{}",
        stderr(&o)
    );
    let o = bin(&["edit", c, "--line", "2", "--set", "place=Falluja"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        format!("{CSV_HEAD}\nA1,2021-06-06,IED,33.3,44.4,near,Falluja,,AFP 2021-06-06\n")
    );
    // Its latitude column moves it (the old position used to be written back over it, and the
    // edit said "saved"); one that is not a latitude is refused and nothing is written.
    let o = bin(&["edit", c, "--line", "2", "--set", "latitude=33.45"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        format!("{CSV_HEAD}\nA1,2021-06-06,IED,33.45,44.4,near,Falluja,,AFP 2021-06-06\n")
    );
    let o = bin(&["check", c, "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["bbox"][1], 33.45);
    for bad in ["latitude=abc", "latitude=95", "longitude=1e400"] {
        let o = bin(&["edit", c, "--line", "2", "--set", bad]);
        assert_eq!(o.status.code(), Some(1), "{bad}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains(bad.split('=').next().unwrap()), "{bad}: {e}");
    }
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .contains(",33.45,44.4,")
    );
    // Two answers for the position: refused as bad usage.
    let o = bin(&[
        "edit",
        c,
        "--line",
        "2",
        "--at",
        "1,1",
        "--set",
        "latitude=5",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("both give the position"));
}

#[test]
fn a_csv_header_naming_a_column_twice_keeps_both_values_apart() {
    // Two `notes` columns: the second is read as `notes.1` (as pandas reads it), so an edit of
    // either, or of another field, cannot write one column's value into the other.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("twice.csv");
    let head = "id,date,type,latitude,longitude,location_precision,notes,notes,source";
    let text = format!("{head}\nA1,2021-06-06,IED,33.3,44.4,near,first,second,AFP 2021-06-06\n");
    std::fs::write(&csv, &text).unwrap();
    let c = csv.to_str().unwrap();
    let o = bin(&["check", c]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "twice.csv: column 8 repeats the name of an earlier column: it is read as notes.1"
        ),
        "{out}"
    );
    let o = bin(&["edit", c, "--id", "A1", "--set", "type=Rocket attack"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = bin(&["edit", c, "--id", "A1", "--set", "notes.1=later"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        format!("{head}\nA1,2021-06-06,Rocket attack,33.3,44.4,near,first,later,AFP 2021-06-06\n")
    );
    // Both reach a GeoJSON export under their own names.
    let out = dir.path().join("out.geojson");
    let o = bin(&[
        "filter",
        c,
        "--format",
        "geojson",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let props = &v["features"][0]["properties"];
    assert_eq!(
        (props["notes"].as_str(), props["notes.1"].as_str()),
        (Some("first"), Some("later"))
    );
}

#[test]
fn editing_a_line_or_an_area_keeps_its_geometry() {
    // The incidents sit at the centroids of an area and a line; an edit of another field must
    // not turn them into points there (it did, and the history could not bring them back).
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("shapes.geojson");
    let text = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":"P1","date":"2021-01-01","type":"IED","location_precision":"region","source":"https://a.org"},"geometry":{"type":"Polygon","coordinates":[[[44,33],[45,33],[45,34],[44,33]]]}},
{"type":"Feature","properties":{"id":"L1","date":"2021-01-01","type":"IED","location_precision":"region","source":"https://a.org"},"geometry":{"type":"LineString","coordinates":[[44,33],[45,34]]}}
]}
"#;
    std::fs::write(&f, text).unwrap();
    let p = f.to_str().unwrap();
    for (id, set) in [("P1", "place=renamed"), ("L1", "place=road")] {
        let o = bin(&["edit", p, "--id", id, "--set", set]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let want = text
        .replace(
            r#""source":"https://a.org"},"geometry":{"type":"Polygon""#,
            r#""source":"https://a.org","place":"renamed"},"geometry":{"type":"Polygon""#,
        )
        .replace(
            r#""source":"https://a.org"},"geometry":{"type":"LineString""#,
            r#""source":"https://a.org","place":"road"},"geometry":{"type":"LineString""#,
        );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), want);
    // Moving one does make it a point where it was put.
    let o = bin(&["edit", p, "--id", "L1", "--at", "33.5,44.25"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
    assert_eq!(
        v["features"][1]["geometry"],
        serde_json::json!({"type": "Point", "coordinates": [44.25, 33.5]})
    );
    // A latitude set as a property would not move it (and would mislead exports): refused.
    let before = std::fs::read(&f).unwrap();
    let o = bin(&["edit", p, "--id", "L1", "--set", "latitude=5"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("keeps the position in its geometry; move it with --at"));
    assert_eq!(std::fs::read(&f).unwrap(), before);
}

#[test]
fn a_count_the_file_has_nowhere_yet_is_checked_and_written_as_a_number() {
    // No feature has `fatalities`: the new property is read back as the count, so it is
    // checked as one (whole, not negative) and written as a JSON number, not text.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("few.geojson");
    let text = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":"A1","date":"2021-01-01","type":"IED","location_precision":"near","source":"https://a.org"},"geometry":{"type":"Point","coordinates":[44,33]}}
]}
"#;
    std::fs::write(&f, text).unwrap();
    let p = f.to_str().unwrap();
    for bad in ["1.5", "many", "-2"] {
        let o = bin(&[
            "edit",
            p,
            "--id",
            "A1",
            "--set",
            &format!("fatalities={bad}"),
        ]);
        assert_eq!(o.status.code(), Some(1), "{bad}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("fatalities: '{bad}' is not a count")),
            "{}",
            stderr(&o)
        );
        assert_eq!(
            std::fs::read_to_string(&f).unwrap(),
            text,
            "nothing written"
        );
    }
    let o = bin(&["edit", p, "--id", "A1", "--set", "fatalities=3"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        text.replace(
            r#""source":"https://a.org"}"#,
            r#""source":"https://a.org","fatalities":3}"#
        )
    );
    let src = open(&f);
    let d = src.details(key_of(&*src, "id", "A1"), &ctl()).unwrap();
    assert_eq!(d.fatalities, Some(3));

    // A file that counts `deaths` and dates by `timestamp`: a new `fatalities` or `date` field
    // would be read in their place next time (the others' counts and dates lost): refused.
    let g = dir.path().join("deaths.geojson");
    let text = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":"B1","timestamp":"2021-01-01","type":"IED","location_precision":"near","source":"https://a.org","deaths":2},"geometry":{"type":"Point","coordinates":[44,33]}},
{"type":"Feature","properties":{"id":"B2","timestamp":"2021-01-02","type":"IED","location_precision":"near","source":"https://a.org","deaths":1},"geometry":{"type":"Point","coordinates":[44,33]}}
]}
"#;
    std::fs::write(&g, text).unwrap();
    let p = g.to_str().unwrap();
    for (set, old) in [("fatalities=3", "deaths"), ("date=2021-01-05", "timestamp")] {
        let o = bin(&["edit", p, "--id", "B1", "--set", set]);
        assert_eq!(o.status.code(), Some(1), "{set}: {}", stderr(&o));
        let name = set.split('=').next().unwrap();
        assert!(
            stderr(&o).contains(&format!(
                "{name}: the file would be read by {name} instead of {old}"
            )),
            "{}",
            stderr(&o)
        );
        assert_eq!(
            std::fs::read_to_string(&g).unwrap(),
            text,
            "nothing written"
        );
    }
    let o = bin(&["edit", p, "--id", "B1", "--set", "deaths=3"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn an_edit_whose_history_cannot_be_written_writes_nothing() {
    // A folder (or a pipe) where the history goes: refused before the data file is touched
    // (the edit used to be saved, and then said the history was not).
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("h.csv");
    let text = format!("{CSV_HEAD}\nA1,2021-06-06,IED,33.3,44.4,near,x,,AFP 2021-06-06\n");
    std::fs::write(&csv, &text).unwrap();
    std::fs::create_dir(dir.path().join("h.csv.history.jsonl")).unwrap();
    let o = bin(&[
        "edit",
        csv.to_str().unwrap(),
        "--id",
        "A1",
        "--set",
        "place=y",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("nothing was written") && stderr(&o).contains("is not a regular file"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), text);
}

#[test]
fn an_id_that_already_names_an_incident_is_refused() {
    // Two incidents of one id: `--id` could find neither again, and links would point at both.
    let dir = tempfile::tempdir().unwrap();
    let p = copy_bundled(dir.path());
    let f = p.to_str().unwrap();
    let before = std::fs::read(&p).unwrap();
    let add = |id: &str| {
        bin(&[
            "add",
            f,
            "--date",
            "2021-07-01",
            "--type",
            "IED",
            "--at",
            "33.3,44.4",
            "--location-precision",
            "near",
            "--source",
            "Reuters, 2021-07-01",
            "--field",
            &format!("id={id}"),
        ])
    };
    let o = add("IQ-2021-001");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("id IQ-2021-001 already names another incident"));
    let o = bin(&["edit", f, "--id", "IQ-2021-020", "--set", "id=IQ-2021-001"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(std::fs::read(&p).unwrap(), before, "nothing written");
    // A new id is fine, and an edit that keeps its own id is not a collision with itself.
    let o = add("IQ-2021-950");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = bin(&["edit", f, "--id", "IQ-2021-950", "--set", "place=x"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn history_prints_no_control_characters_from_the_data() {
    // A value with an escape sequence and a newline: shown, but it cannot drive the terminal
    // or split the listing.
    let dir = tempfile::tempdir().unwrap();
    let p = copy_bundled(dir.path());
    let f = p.to_str().unwrap();
    let o = bin(&[
        "edit",
        f,
        "--id",
        "IQ-2021-020",
        "--set",
        "place=\u{1b}[31mred\nline",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = bin(&["history", f]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains("[31mred"), "{text:?}");
}

#[test]
fn adding_to_a_csv_that_ends_inside_a_quote_is_refused() {
    // The last row opens a quote that never closes: a row appended would be swallowed by it
    // (the command used to say "added" and the row was never seen again).
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("u.csv");
    let text = format!(
        "{CSV_HEAD}\nA1,2021-06-06,IED,33.3,44.4,near,x,,AFP 2021-06-06\nA2,2021-06-07,\"IED\n"
    );
    std::fs::write(&csv, &text).unwrap();
    let o = bin(&[
        "add",
        csv.to_str().unwrap(),
        "--date",
        "2021-07-01",
        "--type",
        "Rocket attack",
        "--at",
        "33.786,42.441",
        "--location-precision",
        "near",
        "--source",
        "Reuters,2021-07-01",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("line 3 opens a quote that is never closed"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), text);
}

/// Waits until process `pid` has `file` open.
fn until_open(pid: u32, file: &Path) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let want = std::fs::canonicalize(file).unwrap();
    loop {
        let open = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l == want));
        if open {
            return;
        }
        assert!(
            std::time::Instant::now() < end,
            "the command never opened {}",
            file.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

#[test]
fn a_command_whose_file_changed_underneath_exits_1_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.csv");
    let mut text = format!("{CSV_HEAD}\n");
    for i in 0..300_000u32 {
        text += &format!(
            "R{i},2021-05-{:02},IED,33.{i:05},44.1,near,p{i},n,AFP 2021\n",
            1 + i % 28
        );
    }
    std::fs::write(&p, &text).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_incident-map"))
        .args([
            "edit",
            p.to_str().unwrap(),
            "--id",
            "R7",
            "--set",
            "place=mine",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Another program saves the file while the command is reading it.
    until_open(child.id(), &p);
    let theirs = text.replace(",p9,", ",theirs,");
    incident_map::atomic::write_atomic(&p, |w| std::io::Write::write_all(w, theirs.as_bytes()))
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("incident R7") && e.contains("nothing was written"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), theirs);
}

#[test]
fn a_file_saved_by_another_program_is_news_and_our_own_writes_are_not() {
    use incident_map::source::Change;
    let dir = tempfile::tempdir().unwrap();
    let p = copy_bundled(dir.path());
    let src = open(&p);
    let mut feed = src.watch().unwrap();
    let quiet = std::time::Duration::from_millis(300);
    assert_eq!(feed.wait(quiet), Change::Quiet);
    // Our own write is already held.
    let key = key_of(&*src, "id", "IQ-2021-001");
    let (mut d, version) = src.draft(key, &ctl()).unwrap();
    d.set("injuries", Value::from(2));
    src.write(
        &Edit::Update {
            key,
            version,
            draft: d,
        },
        "",
        &ctl(),
    )
    .unwrap();
    assert_eq!(feed.wait(quiet), Change::Quiet);
    // Another program's save is news; read again, the source holds it.
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("IQ-2021-020", "IQ-2021-020b");
    incident_map::atomic::write_atomic(&p, |w| std::io::Write::write_all(w, text.as_bytes()))
        .unwrap();
    assert_eq!(
        feed.wait(std::time::Duration::from_secs(5)),
        Change::Changed
    );
    assert!(src.reload(&ctl()).unwrap());
    key_of(&*src, "id", "IQ-2021-020b");
    assert_eq!(feed.wait(quiet), Change::Quiet);
}

#[test]
fn geocode_places_what_is_certain_and_lists_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("rows.csv");
    let text = format!(
        "{CSV_HEAD},admin1\n\
         U1,2021-06-06,IED,,,,Ramadi,roadside bomb,AFP 2021-06-06,Anbar\n\
         U2,2021-06-07,IED,,,,Highway at Latifiya,convoy,AFP 2021-06-07,Baghdad\n\
         U3,2021-06-08,Rocket attack,33.3,44.4,near,Baghdad,rockets,AFP 2021-06-08,Baghdad\n\
         U4,2021-06-09,IED,,,,Nowhereville,?,AFP 2021-06-09,\n"
    );
    std::fs::write(&p, &text).unwrap();
    let copy = dir.path().join("copy.csv");
    std::fs::copy(&p, &copy).unwrap();
    // --out: the file untouched, its incidents and the rows placed in a new GeoJSON.
    let out = dir.path().join("placed.geojson");
    let o = bin(&[
        "geocode",
        copy.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), text);
    let placed = open(&out);
    assert_eq!(count(&*placed), 3);
    // In place: two rows placed, each row's other bytes kept; the one not found is listed.
    let o = bin(&["geocode", p.to_str().unwrap(), "--editor", "ana"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let listed = String::from_utf8_lossy(&o.stdout);
    assert!(
        listed.contains("rows.csv:2\tRamadi\tRamadi, Anbar (IQ)"),
        "{listed}"
    );
    assert!(
        listed.contains("rows.csv:3\tHighway at Latifiya\tLatifiya, Baghdad (IQ)"),
        "{listed}"
    );
    assert!(
        listed.contains("rows.csv:5\tNowhereville\tno place of that name"),
        "{listed}"
    );
    assert_eq!(
        listed.lines().filter(|l| l.starts_with("placed\t")).count(),
        2
    );
    let now = std::fs::read_to_string(&p).unwrap();
    assert!(
        now.contains("U1,2021-06-06,IED,33.42056,43.30778,near,Ramadi,"),
        "{now}"
    );
    assert!(
        now.contains("U2,2021-06-07,IED,32.98,44.19,region,Highway at Latifiya,"),
        "{now}"
    );
    assert!(now.contains("U4,2021-06-09,IED,,,,Nowhereville,?,AFP 2021-06-09,\n"));
    let src = open(&p);
    assert_eq!(count(&*src), 3);
    assert_eq!(src.report().skipped, 1);
    let h = src.history(None, &ctl()).unwrap();
    assert_eq!(h.len(), 2);
    assert!(h.iter().all(|e| e.editor == "ana" && e.op == "update"));
    // Placing the same rows again finds nothing left to do but the unknown place.
    let o = bin(&["geocode", p.to_str().unwrap()]);
    let again = String::from_utf8_lossy(&o.stdout);
    assert!(
        again.trim().starts_with("to place\t") && again.lines().count() == 1,
        "{again}"
    );
}
