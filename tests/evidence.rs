//! Evidence kept beside a data file (`DATA.evidence/`), through the real command line and the
//! library: attached files are copied untouched and read-only under their SHA-256 (the same
//! bytes once), their media type sniffed from the bytes; `verify` passes, then names a stored
//! copy with one byte flipped, a missing copy, an edited or removed custody line; detaching
//! keeps the copy and logs why; two writers chain their lines one after the other; a cancelled
//! attach leaves nothing.

mod common {
    pub mod tsa;
}

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use incident_map::evidence::dir::DirStore;
use incident_map::evidence::{self, Action, Attach, Entry, EvidenceStore};
use incident_map::progress::Control;
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_incident-map"))
        .args(args)
        .env("USER", "ana")
        .env("HOME", "/nonexistent")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("incident-map-test-cache"),
        )
        .output()
        .expect("run")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The command exited with `code` and said `text` (on either stream).
fn says(o: &Output, code: i32, text: &str) {
    let all = format!("{}{}", stdout(o), stderr(o));
    assert_eq!(o.status.code(), Some(code), "{all}");
    assert!(all.contains(text), "{text:?} not in: {all}");
}

fn ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(o), stderr(o));
}

/// A copy of the bundled data, a PNG named `.txt` and a text statement.
fn case() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("incidents.geojson");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson"),
        &data,
    )
    .unwrap();
    let photo = dir.path().join("photo.txt");
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend((0..5000u32).map(|i| (i * 7 % 251) as u8));
    std::fs::write(&photo, png).unwrap();
    let statement = dir.path().join("statement.txt");
    std::fs::write(
        &statement,
        "Security Media Cell: a drone fell near the base.\n",
    )
    .unwrap();
    (dir, data, photo, statement)
}

/// Attaches `file` to incident `id` of `data` with the command line.
fn attach(data: &Path, id: &str, file: &Path) {
    ok(&run(&["attach", s(data), "--id", id, s(file)]));
}

/// Makes a stored (read-only) file writable again, to tamper with it.
fn writable(p: &Path) {
    let mut perm = std::fs::metadata(p).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(p, perm).unwrap();
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn sha(p: &Path) -> String {
    evidence::custody::sha256_hex(&std::fs::read(p).unwrap())
}

fn items(data: &Path) -> Vec<Value> {
    let o = run(&["evidence", s(data), "--json"]);
    ok(&o);
    serde_json::from_str::<Value>(&stdout(&o))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn attached_files_are_kept_untouched_and_verify_names_what_changed() {
    let (_dir, data, photo, statement) = case();
    let before = (
        std::fs::read(&photo).unwrap(),
        std::fs::metadata(&photo).unwrap().modified().unwrap(),
    );
    let o = run(&[
        "attach",
        s(&data),
        "--id",
        "IQ-2021-018",
        s(&photo),
        s(&statement),
        "--captured-from",
        "https://apnews.com/article/example",
        "--note",
        "AP photo of the launch site",
    ]);
    ok(&o);
    assert!(stdout(&o).contains(&sha(&photo)), "{}", stdout(&o));
    // The same photo for another incident: stored once, attached twice.
    attach(&data, "IQ-2021-019", &photo);
    // The same bytes twice on one incident are refused, naming both.
    let o = run(&["attach", s(&data), "--id", "IQ-2021-018", s(&photo)]);
    says(&o, 1, "already attached to IQ-2021-018");

    // The originals are as they were.
    assert_eq!(std::fs::read(&photo).unwrap(), before.0);
    assert_eq!(
        std::fs::metadata(&photo).unwrap().modified().unwrap(),
        before.1
    );

    let store = data.with_file_name("incidents.geojson.evidence");
    let h = sha(&photo);
    let copy = store.join("objects").join(&h[..2]).join(&h);
    assert_eq!(std::fs::read(&copy).unwrap(), before.0);
    assert!(std::fs::metadata(&copy).unwrap().permissions().readonly());
    let objects: usize = std::fs::read_dir(store.join("objects"))
        .unwrap()
        .map(|d| std::fs::read_dir(d.unwrap().path()).unwrap().count())
        .sum();
    assert_eq!(objects, 2, "the photo stored once");

    let list = items(&data);
    assert_eq!(list.len(), 3);
    let first = &list[0];
    assert_eq!(first["incident"], "IQ-2021-018");
    assert_eq!(
        first["media_type"], "image/png",
        "sniffed, not from the name"
    );
    assert_eq!(first["name"], "photo.txt");
    assert_eq!(first["by"], "ana");
    assert_eq!(first["captured_from"], "https://apnews.com/article/example");
    assert_eq!(first["note"], "AP photo of the launch site");
    assert_eq!(first["size"], before.0.len() as u64);
    assert_eq!(list[1]["media_type"], "text/plain");
    assert_eq!(list[2]["incident"], "IQ-2021-019");

    let o = run(&["verify", s(&data)]);
    ok(&o);
    assert!(
        stdout(&o).contains("✔ 2 of 2 stored item(s) hash as recorded"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("the chain holds"), "{}", stdout(&o));

    // One byte flipped in a stored copy: named, with its incidents.
    writable(&copy);
    let mut bytes = std::fs::read(&copy).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&copy, &bytes).unwrap();
    let o = run(&["verify", s(&data)]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!(
            "photo.txt (sha256 {}) of IQ-2021-018, IQ-2021-019: the stored copy changed",
            &h[..12]
        )),
        "{out}"
    );
    assert!(stderr(&o).contains("1 failure(s)"), "{}", stderr(&o));

    // Missing: named too.
    std::fs::remove_file(&copy).unwrap();
    let o = run(&["verify", s(&data)]);
    says(&o, 1, "photo.txt (sha256");
    assert!(
        stdout(&o).contains("the stored copy is missing"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn the_custody_chain_names_the_line_that_was_changed_or_removed() {
    let (_dir, data, photo, statement) = case();
    attach(&data, "IQ-2021-018", &photo);
    attach(&data, "IQ-2021-044", &statement);
    let log = data.with_file_name("incidents.geojson.evidence/custody.jsonl");
    ok(&run(&["verify", s(&data)]));
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 3, "{text}");
    for (i, l) in lines.iter().enumerate() {
        let e: Value = serde_json::from_str(l).unwrap();
        assert_eq!(e["seq"], i as u64 + 1);
        let want = if i == 0 {
            evidence::custody::GENESIS.to_string()
        } else {
            evidence::custody::sha256_hex(lines[i - 1].as_bytes())
        };
        assert_eq!(e["prev"], want.as_str(), "line {}", i + 1);
    }
    assert!(lines.last().unwrap().contains("\"action\":\"verified\""));

    // Who added the photo, changed: the chain breaks at the next line.
    let edited = text.replacen("\"by\":\"ana\"", "\"by\":\"eve\"", 1);
    std::fs::write(&log, &edited).unwrap();
    let o = run(&["verify", s(&data)]);
    says(
        &o,
        1,
        "the chain breaks at line 2: it does not carry the hash of line 1",
    );

    // A line removed: the chain breaks where it was.
    let mut cut: Vec<&str> = text.lines().collect();
    cut.remove(1);
    std::fs::write(&log, cut.join("\n") + "\n").unwrap();
    let o = run(&["verify", s(&data)]);
    says(&o, 1, "the chain breaks at line 2");
    // …and the statement's copy is in no line any more.
    assert!(
        stdout(&o).contains(&format!(
            "stored copy {} is in no custody line",
            &sha(&statement)[..12]
        )),
        "{}",
        stdout(&o)
    );

    // Line ends converted (a Windows checkout): every line's bytes changed, the first names it.
    std::fs::write(&log, text.replace('\n', "\r\n")).unwrap();
    let o = run(&["verify", s(&data)]);
    says(
        &o,
        1,
        "the chain breaks at line 1: it holds a control character (U+000D)",
    );
    // Only the last line's end: no later line covers it, and it is still named.
    let mut last_cr = text.clone();
    last_cr.insert(text.len() - 1, '\r');
    std::fs::write(&log, &last_cr).unwrap();
    let o = run(&["verify", s(&data)]);
    says(
        &o,
        1,
        &format!(
            "the chain breaks at line {}: it holds a control character",
            lines.len()
        ),
    );
}

#[test]
fn detaching_keeps_the_copy_and_logs_why() {
    let (_dir, data, photo, _statement) = case();
    attach(&data, "IQ-2021-018", &photo);
    let h = sha(&photo);
    let o = run(&[
        "detach",
        s(&data),
        "--id",
        "IQ-2021-018",
        &h[..10],
        "--reason",
        "wrong incident: the photo shows the 2020 attack",
    ]);
    ok(&o);
    assert!(
        stderr(&o).contains("the stored copy is kept"),
        "{}",
        stderr(&o)
    );
    assert!(items(&data).is_empty());
    let store = data.with_file_name("incidents.geojson.evidence");
    assert!(store.join("objects").join(&h[..2]).join(&h).is_file());
    let log = std::fs::read_to_string(store.join("custody.jsonl")).unwrap();
    let last: Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["action"], "detached");
    assert_eq!(
        last["detail"],
        "wrong incident: the photo shows the 2020 attack"
    );
    // The copy is still checked, and a reason is required.
    ok(&run(&["verify", s(&data)]));
    let o = run(&["detach", s(&data), "--id", "IQ-2021-018", &h[..10]]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // An item that is not attached is named.
    let o = run(&[
        "detach",
        s(&data),
        "--id",
        "IQ-2021-018",
        &h[..10],
        "--reason",
        "again",
    ]);
    says(&o, 1, "no evidence");
}

#[test]
fn writers_chain_their_lines_one_after_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DirStore::beside(&dir.path().join("d.csv")));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    store
                        .append(
                            Entry::new(Action::Opened, &format!("w{t}"), &format!("I-{i}"))
                                .with_sha("ab"),
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    let lines = store.lines(&Control::default()).unwrap();
    assert_eq!(lines.len(), 100);
    assert_eq!(evidence::custody::first_break(&lines), None);
}

#[test]
fn a_cancelled_attach_leaves_nothing_and_a_large_one_streams() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("video.mp4");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        f.write_all(b"\0\0\0\x20ftypisom\0\0\x02\0").unwrap();
        let block: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 253) as u8).collect();
        for _ in 0..40 {
            f.write_all(&block).unwrap();
        }
    }
    let store = DirStore::beside(&dir.path().join("d.geojson"));
    let how = Attach {
        incident: "IQ-2021-001".into(),
        by: "ana".into(),
        ..Default::default()
    };
    let ctl = Control::default();
    ctl.cancel();
    assert!(matches!(
        evidence::attach(&store, &big, &how, &ctl),
        Err(evidence::EvidenceError::Cancelled)
    ));
    let left: Vec<_> = walk(store.root());
    assert!(left.is_empty(), "{left:?}");
    assert!(store.lines(&Control::default()).unwrap().is_empty());

    let ctl = Control::default();
    let a = evidence::attach(&store, &big, &how, &ctl).unwrap();
    assert_eq!(a.item.media_type, "video/mp4");
    assert_eq!(a.item.sha256, sha(&big));
    let size = std::fs::metadata(&big).unwrap().len();
    assert_eq!(ctl.done.load(std::sync::atomic::Ordering::Relaxed), size);
    assert_eq!(ctl.total.load(std::sync::atomic::Ordering::Relaxed), size);
    assert_eq!(
        walk(store.root()).len(),
        2,
        "the copy and the log, nothing else"
    );
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

/// The ids `filter` gives for `args`.
fn ids(data: &Path, args: &[&str]) -> Vec<String> {
    let mut a = vec!["filter", s(data), "--format", "geojson"];
    a.extend(args);
    let o = run(&a);
    ok(&o);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["id"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn the_evidence_filter_follows_attach_and_detach() {
    let (_dir, data, photo, statement) = case();
    assert!(ids(&data, &["--evidence", "has"]).is_empty());
    assert_eq!(ids(&data, &["--evidence", "none"]).len(), 83);
    attach(&data, "IQ-2021-018", &photo);
    attach(&data, "IQ-2021-044", &statement);
    let mut has = ids(&data, &["--evidence", "has"]);
    has.sort();
    assert_eq!(has, ["IQ-2021-018", "IQ-2021-044"]);
    assert_eq!(ids(&data, &["--evidence", "none"]).len(), 81);
    // Combined with another filter, and said in the caption's words.
    assert_eq!(
        ids(&data, &["--evidence", "has", "--type", "IED"]).len(),
        ids(&data, &["--type", "IED"])
            .iter()
            .filter(|i| has.contains(i))
            .count()
    );
    let h = sha(&statement);
    ok(&run(&[
        "detach",
        s(&data),
        "--id",
        "IQ-2021-044",
        &h[..12],
        "--reason",
        "duplicate upload",
    ]));
    assert_eq!(ids(&data, &["--evidence", "has"]), ["IQ-2021-018"]);
    let o = run(&["filter", s(&data), "--evidence", "maybe"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// The Library of Congress validator (`.ci/deps.sh` installs it), on a bag.
fn bagit_validates(bag: &Path) -> (bool, String) {
    let tool = std::env::var("INCIDENT_MAP_BAGIT")
        .unwrap_or_else(|_| "/opt/incident-map/bagit/bin/bagit.py".into());
    let o = Command::new(&tool)
        .args(["--validate", s(bag)])
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e} (run .ci/deps.sh)"));
    (o.status.success(), format!("{}{}", stdout(&o), stderr(&o)))
}

#[test]
fn a_case_bundle_is_a_bag_the_library_of_congress_validator_accepts() {
    let (dir, data, photo, statement) = case();
    attach(&data, "IQ-2021-018", &photo);
    attach(&data, "IQ-2021-044", &statement);
    let bag = dir.path().join("case");
    let o = run(&[
        "bundle",
        s(&data),
        "--evidence",
        "has",
        "--map",
        "--out",
        s(&bag),
        "--organization",
        "Newsroom OSINT desk",
    ]);
    ok(&o);
    assert!(
        stdout(&o).contains("2 incident(s), 2 evidence item(s)"),
        "{}",
        stdout(&o)
    );
    let (valid, said) = bagit_validates(&bag);
    assert!(valid, "{said}");

    let doc: Value =
        serde_json::from_slice(&std::fs::read(bag.join("data/incidents.geojson")).unwrap())
            .unwrap();
    let features = doc["features"].as_array().unwrap();
    assert_eq!(features.len(), 2);
    let refs = &features
        .iter()
        .find(|f| f["properties"]["id"] == "IQ-2021-018")
        .unwrap()["properties"]["evidence"];
    assert_eq!(refs[0]["sha256"], sha(&photo).as_str());
    assert_eq!(refs[0]["name"], "photo.txt");
    assert_eq!(refs[0]["media_type"], "image/png");
    assert_eq!(
        std::fs::read(bag.join("data").join(refs[0]["file"].as_str().unwrap())).unwrap(),
        std::fs::read(&photo).unwrap()
    );
    let custody = std::fs::read_to_string(bag.join("data/custody.jsonl")).unwrap();
    assert_eq!(custody.lines().count(), 2, "{custody}");
    assert!(
        std::fs::read(bag.join("data/map.png"))
            .unwrap()
            .starts_with(b"\x89PNG")
    );
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    for want in [
        "Source-Organization: Newsroom OSINT desk",
        "Contact-Name: ana",
        "Payload-Oxum: ",
        "Bagging-Date: ",
        "With evidence attached",
    ] {
        assert!(info.contains(want), "{want} in {info}");
    }
    // Each item's export is in the custody log, and the chain still holds.
    let log =
        std::fs::read_to_string(data.with_file_name("incidents.geojson.evidence/custody.jsonl"))
            .unwrap();
    assert_eq!(log.matches("\"action\":\"exported\"").count(), 2);
    ok(&run(&["verify", s(&data)]));

    // A bag is never written over anything.
    let o = run(&["bundle", s(&data), "--out", s(&bag)]);
    says(&o, 1, "already exists");
    // Opened as a source, the bag is checked first, then its incidents read; it is sealed.
    let o = run(&["check", s(&bag), "--json"]);
    ok(&o);
    assert_eq!(
        serde_json::from_slice::<Value>(&o.stdout).unwrap()["incidents"],
        2
    );
    let o = run(&[
        "edit",
        s(&bag.join("data/incidents.geojson")),
        "--id",
        "IQ-2021-018",
        "--set",
        "notes=x",
    ]);
    says(&o, 1, "sealed in a BagIt bag");
    let (valid, said) = bagit_validates(&bag);
    assert!(valid, "{said}");
    // Altered after writing, the validator refuses it, and so does opening it.
    writable(&bag.join("data/custody.jsonl"));
    std::fs::write(
        bag.join("data/custody.jsonl"),
        custody.replace("ana", "eve"),
    )
    .unwrap();
    assert!(!bagit_validates(&bag).0);
    let o = run(&["check", s(&bag)]);
    says(
        &o,
        1,
        "refused as a BagIt bag: data/custody.jsonl has changed",
    );
}

#[test]
fn hostile_bags_are_refused_naming_what_is_wrong() {
    let (dir, data, photo, _statement) = case();
    attach(&data, "IQ-2021-018", &photo);
    let good = dir.path().join("good");
    ok(&run(&["bundle", s(&data), "--out", s(&good)]));
    let copy = |name: &str| {
        let to = dir.path().join(name);
        ok(&Command::new("cp")
            .args(["-r", s(&good), s(&to)])
            .output()
            .unwrap());
        to
    };
    let refused = |bag: &Path, want: &str| {
        let o = run(&["check", s(bag)]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains(want), "{want}: {}", stderr(&o));
    };
    // A symlink in the payload (it could point anywhere).
    let b = copy("link");
    std::os::unix::fs::symlink("/etc/passwd", b.join("data/passwd")).unwrap();
    refused(&b, "data/passwd: a symbolic link");
    // A manifest line reaching outside the bag.
    let b = copy("dotdot");
    let m = b.join("manifest-sha256.txt");
    let text = std::fs::read_to_string(&m).unwrap();
    std::fs::write(
        &m,
        format!("{text}{}  data/../../etc/passwd\n", "0".repeat(64)),
    )
    .unwrap();
    refused(&b, "reaches outside the bag");
    // A file the manifest names that is not there.
    let b = copy("missing");
    std::fs::remove_file(b.join("data/custody.jsonl")).unwrap();
    refused(
        &b,
        "manifest-sha256.txt names data/custody.jsonl, which is not in the bag",
    );
    // A payload file no manifest names.
    let b = copy("extra");
    std::fs::write(b.join("data/extra.csv"), "a,b\n").unwrap();
    refused(
        &b,
        "data/extra.csv is in the bag but not in manifest-sha256.txt",
    );
    // A pipe.
    let b = copy("fifo");
    ok(&Command::new("mkfifo")
        .arg(b.join("data/pipe"))
        .output()
        .unwrap());
    refused(&b, "data/pipe: not a plain file");
    // A bag that lost its declaration is still refused as a bag (it was read as a plain folder,
    // unchecked), and a version this program does not know is named.
    let b = copy("undeclared");
    std::fs::remove_file(b.join("bagit.txt")).unwrap();
    refused(&b, "not a BagIt bag: bagit.txt is missing");
    let b = copy("future");
    std::fs::write(
        b.join("bagit.txt"),
        "BagIt-Version: 99.0\nTag-File-Character-Encoding: UTF-8\n",
    )
    .unwrap();
    refused(&b, "declares BagIt-Version 99.0");
}

#[test]
fn a_zipped_bundle_holds_the_same_bag() {
    let (dir, data, photo, _statement) = case();
    attach(&data, "IQ-2021-018", &photo);
    let zip = dir.path().join("case.zip");
    // Filters that match nothing: no empty bag is written.
    let o = run(&["bundle", s(&data), "--from", "2030-01-01", "--out", s(&zip)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("no incidents match the filters; nothing written"));
    assert!(!zip.exists());
    ok(&run(&[
        "bundle",
        s(&data),
        "--type",
        "Rocket attack",
        "--out",
        s(&zip),
    ]));
    let out = dir.path().join("unzipped");
    let mut a = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    a.extract(&out).unwrap();
    let bag = out.join("case");
    let (valid, said) = bagit_validates(&bag);
    assert!(valid, "{said}");
    let doc: Value =
        serde_json::from_slice(&std::fs::read(bag.join("data/incidents.geojson")).unwrap())
            .unwrap();
    assert_eq!(doc["features"].as_array().unwrap().len(), 19);
    assert!(bag.join("data/evidence").join(sha(&photo)).is_file());
    // Zipped, it opens too (unpacked once into the cache, checked whole); and its folder.
    let o = run(&["check", s(&zip), "--json"]);
    ok(&o);
    assert_eq!(
        serde_json::from_slice::<Value>(&o.stdout).unwrap()["incidents"],
        19
    );
    // An entry reaching outside the bag: refused before anything is unpacked.
    let evil = dir.path().join("evil.zip");
    let made = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\n\
             with zipfile.ZipFile(sys.argv[1], 'w') as z:\n\
             \x20   z.writestr('case/bagit.txt', 'BagIt-Version: 1.0\\n')\n\
             \x20   z.writestr('case/../../escaped.txt', 'x')\n",
            s(&evil),
        ])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    says(&run(&["check", s(&evil)]), 1, "reaches outside the bag");
    assert!(!dir.path().join("escaped.txt").exists());
    let o = run(&["check", s(&bag), "--json"]);
    ok(&o);
    assert_eq!(
        serde_json::from_slice::<Value>(&o.stdout).unwrap()["incidents"],
        19
    );
}

#[test]
fn a_bag_of_a_hundred_thousand_files_is_checked_in_bounded_time() {
    // A real bag (written by the program) with 100,000 more payload files, each listed.
    let (dir, data, _photo, _statement) = case();
    let bag = dir.path().join("big");
    ok(&run(&[
        "bundle",
        s(&data),
        "--type",
        "Interception",
        "--out",
        s(&bag),
    ]));
    let many = bag.join("data/many");
    std::fs::create_dir(&many).unwrap();
    let empty = evidence::custody::sha256_hex(b"");
    let mut manifest = std::fs::read_to_string(bag.join("manifest-sha256.txt")).unwrap();
    for i in 0..100_000 {
        std::fs::write(many.join(format!("{i}.bin")), b"").unwrap();
        manifest.push_str(&format!("{empty}  data/many/{i}.bin\n"));
    }
    std::fs::write(bag.join("manifest-sha256.txt"), &manifest).unwrap();
    // The tag manifest and the Payload-Oxum no longer hold: named, after every file was read.
    let o = run(&["check", s(&bag)]);
    says(&o, 1, "manifest-sha256.txt has changed");
    // Without them the bag holds, and loads its one data file.
    std::fs::remove_file(bag.join("tagmanifest-sha256.txt")).unwrap();
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    let info: String = info
        .lines()
        .filter(|l| !l.starts_with("Payload-Oxum"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(bag.join("bag-info.txt"), info).unwrap();
    let o = run(&["check", s(&bag), "--json"]);
    ok(&o);
    assert_eq!(
        serde_json::from_slice::<Value>(&o.stdout).unwrap()["incidents"],
        3
    );
}

#[test]
fn an_incident_without_an_id_is_named_by_its_line_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("reports.csv");
    std::fs::write(
        &data,
        "date,latitude,longitude,type,source\n\
         2021-06-06,33.786,42.441,Drone attack,https://sofrep.com/news/x\n\
         2021-06-05,33.2625,44.2344,Interception,https://www.voanews.com/x\n",
    )
    .unwrap();
    let note = dir.path().join("note.txt");
    std::fs::write(&note, "seen\n").unwrap();
    let o = run(&["attach", s(&data), "--line", "3", s(&note)]);
    ok(&o);
    assert!(
        stderr(&o).contains("has no id of its own"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("reports.csv:3"), "{}", stderr(&o));
    let list = items(&data);
    assert_eq!(list[0]["incident"], "reports.csv:3");
    let o = run(&["filter", s(&data), "--evidence", "has", "--format", "csv"]);
    ok(&o);
    assert!(stdout(&o).contains("Interception"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("Drone attack"), "{}", stdout(&o));
}

/// The token file of `name` in the store beside `data`, made writable to tamper with it.
fn token_file(data: &Path, name: &str) -> PathBuf {
    let p = data.with_file_name(format!("incidents.geojson.evidence/tokens/{name}.tsr"));
    writable(&p);
    p
}

#[test]
fn trusted_timestamps_verify_and_tokens_for_other_bytes_or_another_key_are_rejected() {
    let tsa = common::tsa::Tsa::start();
    let (_dir, data, photo, statement) = case();
    let o = run(&[
        "attach",
        s(&data),
        "--id",
        "IQ-2021-018",
        s(&photo),
        "--tsa",
        &tsa.url,
    ]);
    ok(&o);
    assert!(
        stderr(&o).contains("timestamped photo.txt at "),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("timestamped the custody log up to line 2"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "attach",
        s(&data),
        "--id",
        "IQ-2021-044",
        s(&statement),
        "--tsa",
        &tsa.url,
    ]);
    ok(&o);
    let cert = s(&tsa.cert).to_string();
    let o = run(&["verify", s(&data), "--tsa-cert", &cert]);
    ok(&o);
    assert!(
        stdout(&o).contains("✔ 4 of 4 timestamp token(s) hold (signatures checked"),
        "{}",
        stdout(&o)
    );
    let log =
        std::fs::read_to_string(data.with_file_name("incidents.geojson.evidence/custody.jsonl"))
            .unwrap();
    assert_eq!(
        log.matches("\"action\":\"timestamped\"").count(),
        4,
        "{log}"
    );

    // A token for other bytes: the statement's token put in place of the photo's.
    let (p, st) = (sha(&photo), sha(&statement));
    let original = std::fs::read(token_file(&data, &p)).unwrap();
    std::fs::copy(token_file(&data, &st), token_file(&data, &p)).unwrap();
    let o = run(&["verify", s(&data), "--tsa-cert", &cert]);
    says(
        &o,
        1,
        "timestamp of photo.txt: the token is for other bytes",
    );
    // A token for the photo, but signed by another TSA's key.
    let other = common::tsa::Tsa::start();
    let forged = incident_map::evidence::tsa::fetch(&other.url, &p).unwrap();
    std::fs::write(token_file(&data, &p), &forged).unwrap();
    let o = run(&["verify", s(&data), "--tsa-cert", &cert]);
    says(
        &o,
        1,
        "timestamp of photo.txt: the token's signature does not verify",
    );
    // Without the certificate only what it covers is checked (and said).
    let o = run(&["verify", s(&data)]);
    ok(&o);
    assert!(stdout(&o).contains("give --tsa-cert"), "{}", stdout(&o));
    std::fs::write(token_file(&data, &p), &original).unwrap();
    ok(&run(&["verify", s(&data), "--tsa-cert", &cert]));
    // A bundle carries the tokens: the items' and the log heads'.
    let bag = data.with_file_name("case");
    let o = run(&["bundle", s(&data), "--evidence", "has", "--out", s(&bag)]);
    ok(&o);
    assert!(bag.join(format!("data/tokens/{p}.tsr")).is_file());
    let heads = std::fs::read_dir(bag.join("data/tokens"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("head-")
        })
        .count();
    assert_eq!(heads, 2);
    let (valid, said) = bagit_validates(&bag);
    assert!(valid, "{said}");
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert!(info.contains("4 timestamp token(s)"), "{info}");
}

#[test]
fn an_unreachable_tsa_is_a_warning_and_the_item_is_timestamped_later() {
    let (_dir, data, photo, _statement) = case();
    // Nothing listens on port 9 of loopback.
    let o = run(&[
        "attach",
        s(&data),
        "--id",
        "IQ-2021-018",
        s(&photo),
        "--tsa",
        "http://127.0.0.1:9/tsr",
    ]);
    ok(&o);
    assert!(
        stderr(&o).contains("warning: photo.txt was not timestamped"),
        "{}",
        stderr(&o)
    );
    assert_eq!(items(&data).len(), 1, "the item is kept");
    let o = run(&["timestamp", s(&data)]);
    assert_eq!(o.status.code(), Some(2), "no TSA given: {}", stderr(&o));
    let tsa = common::tsa::Tsa::start();
    let o = run(&["timestamp", s(&data), "--tsa", &tsa.url]);
    ok(&o);
    assert!(
        stderr(&o).contains("timestamped photo.txt at "),
        "{}",
        stderr(&o)
    );
    let o = run(&["verify", s(&data), "--tsa-cert", s(&tsa.cert)]);
    ok(&o);
    assert!(
        stdout(&o).contains("✔ 2 of 2 timestamp token(s) hold"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_zip_bomb_is_refused_before_it_is_unpacked() {
    // A KMZ whose doc.kml unpacks to 1.1 GiB of zeros (about 1 MB packed), made by Python's
    // zipfile; the program must refuse it without unpacking, in bounded memory.
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.kmz");
    let made = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\n\
             with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n\
             \x20   with z.open('doc.kml', 'w', force_zip64=True) as f:\n\
             \x20       block = bytes(1 << 20)\n\
             \x20       for _ in range(1126): f.write(block)\n",
            s(&bomb),
        ])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(std::fs::metadata(&bomb).unwrap().len() < 5 << 20);
    // Peak memory of the whole process, from GNU time.
    let o = Command::new("/usr/bin/time")
        .args([
            "-f",
            "peak-kb %M",
            env!("CARGO_BIN_EXE_incident-map"),
            "check",
            s(&bomb),
        ])
        .output()
        .unwrap();
    says(&o, 1, "refused before unpacking (a zip bomb?)");
    let kb: u64 = stderr(&o)
        .lines()
        .find_map(|l| l.strip_prefix("peak-kb "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(kb < 200 * 1024, "peak {kb} KB");
}

/// A custody log emptied or deleted while the copies remain fails the check (it said "no
/// evidence is kept"); a log or a copy that is a pipe or a link is refused at once (the check
/// waited forever on a pipe, and hashed `/dev/zero` forever through a link).
#[test]
fn a_log_gone_or_a_store_holding_pipes_and_links_fails_verify() {
    let (dir, data, photo, _statement) = case();
    attach(&data, "IQ-2021-018", &photo);
    let store = dir.path().join("incidents.geojson.evidence");
    let log = store.join("custody.jsonl");
    let kept = std::fs::read(&log).unwrap();
    for gone in ["emptied", "deleted"] {
        if gone == "emptied" {
            std::fs::write(&log, "").unwrap();
        } else {
            std::fs::remove_file(&log).unwrap();
        }
        let o = run(&["verify", s(&data)]);
        assert_eq!(o.status.code(), Some(1), "{gone}: {}", stdout(&o));
        assert!(
            stdout(&o).contains("is in no custody line"),
            "{gone}: {}",
            stdout(&o)
        );
    }
    std::fs::remove_file(&log).ok();
    ok(&Command::new("mkfifo").arg(&log).output().unwrap());
    let o = run(&["verify", s(&data)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("custody.jsonl: not a plain file"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_file(&log).unwrap();
    std::fs::write(&log, &kept).unwrap();
    ok(&run(&["verify", s(&data)]));
    let copy = std::fs::read_dir(store.join("objects"))
        .unwrap()
        .flat_map(|fan| std::fs::read_dir(fan.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .next()
        .unwrap();
    std::fs::remove_file(&copy).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &copy).unwrap();
    let o = run(&["verify", s(&data)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a plain file"), "{}", stderr(&o));
}
