//! No input bytes may panic the importers: deterministic mutations of the test corpus
//! (truncations, byte flips, inserted quotes, delimiters, line breaks and nesting).

use std::path::Path;

use incident_map::import::{Overrides, load_bytes};
use incident_map::synth::Rng;

fn mutate(src: &[u8], r: &mut Rng) -> Vec<u8> {
    let mut b = src.to_vec();
    for _ in 0..1 + r.below(4) {
        let at = if b.is_empty() {
            0
        } else {
            r.below(b.len() as u64) as usize
        };
        match r.below(7) {
            0 => b.truncate(at),
            1 if !b.is_empty() => b[at] = r.below(256) as u8,
            2 => b.insert(at, b'"'),
            3 => b.insert(at, [b',', b';', b'\t', b'\n', b'\r'][r.below(5) as usize]),
            4 => {
                let tok: &[u8] = [
                    &b"NaN"[..],
                    b"1e400",
                    b"-0",
                    b"2021-02-29",
                    b"\xff\xfe",
                    b"{",
                    b"[[[[",
                    b"null",
                    b"\"\"",
                ][r.below(9) as usize];
                b.splice(at..at, tok.iter().copied());
            }
            5 if !b.is_empty() => {
                let end = (at + r.below(64) as usize).min(b.len());
                b.drain(at..end);
            }
            _ => {
                let end = (at + r.below(32) as usize).min(b.len());
                let dup = b[at..end].to_vec();
                b.splice(at..at, dup);
            }
        }
    }
    b
}

#[test]
fn mutated_corpus_never_panics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    // Every file, those in sub-directories (the KML fixtures) too.
    let mut files = Vec::new();
    let mut dirs = vec![dir];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson"));
    files.sort();
    let mut r = Rng::new(42);
    let mut loaded = 0;
    for f in &files {
        let src = std::fs::read(f).unwrap();
        for _ in 0..300 {
            let bytes = mutate(&src, &mut r);
            let res = std::panic::catch_unwind(|| {
                load_bytes("m", "m".into(), bytes.clone(), &Overrides::default(), 0).map(|l| {
                    let s = l.builder.finish(vec![l.source]);
                    // Exercise read-back and filtering too.
                    let sel = s
                        .select(&incident_map::query::Filter {
                            text: Some("a".into()),
                            ..Default::default()
                        })
                        .unwrap();
                    let mut sink = Vec::new();
                    incident_map::output::write_csv(&s, &sel, &mut sink).unwrap();
                    incident_map::output::write_geojson(&s, &sel, &mut sink).unwrap();
                    s.len()
                })
            });
            match res {
                Ok(Ok(_)) => loaded += 1,
                Ok(Err(_)) => {}
                Err(_) => {
                    let keep = std::env::temp_dir().join("incident-map-panic.bin");
                    std::fs::write(&keep, &bytes).unwrap();
                    panic!(
                        "panic on a mutation of {} (saved to {})",
                        f.display(),
                        keep.display()
                    );
                }
            }
        }
    }
    assert!(
        loaded > 1000,
        "mutations should mostly still load ({loaded})"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for deep in [
        "[".repeat(1_000_000),
        "{\"a\":".repeat(200_000),
        format!(
            "{{\"type\":\"FeatureCollection\",\"features\":[{}",
            "[".repeat(500_000)
        ),
    ] {
        let r = load_bytes(
            "deep.json",
            "deep.json".into(),
            deep.into_bytes(),
            &Overrides::default(),
            0,
        );
        assert!(r.is_err());
    }
    // KML's XML parser descends recursively: a deep file is refused before it is parsed.
    let kml = format!(
        "<kml><Document>{}<Placemark/>{}</Document></kml>",
        "<Folder>".repeat(100_000),
        "</Folder>".repeat(100_000)
    );
    let r = load_bytes(
        "deep.kml",
        "deep.kml".into(),
        kml.into_bytes(),
        &Overrides::default(),
        0,
    );
    assert!(r.is_err());
}

/// Shapefiles: the `.shp` or the `.dbf` beside it mutated (counts that lie, part indices out of
/// order, headers that leave no room): errors or problems, never a panic or an allocation of
/// what a record merely declares.
#[test]
fn mutated_shapefiles_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/shapefile");
    let tmp = tempfile::tempdir().unwrap();
    let mut r = Rng::new(7);
    let mut loaded = 0;
    for name in ["areas_wgs84", "incidents_utm38n"] {
        let shp = std::fs::read(dir.join(format!("{name}.shp"))).unwrap();
        let dbf = std::fs::read(dir.join(format!("{name}.dbf"))).unwrap();
        let at = tmp.path().join(format!("{name}.shp"));
        for k in 0..300 {
            // Mostly small changes of one side, so most records stay readable.
            let (shp, dbf) = if k % 2 == 0 {
                (flip(&shp, &mut r), dbf.clone())
            } else {
                (shp.clone(), flip(&dbf, &mut r))
            };
            std::fs::write(at.with_extension("dbf"), &dbf).unwrap();
            let res = std::panic::catch_unwind(|| {
                load_bytes(name, at.clone(), shp.clone(), &Overrides::default(), 0)
                    .map(|l| l.builder.finish(vec![l.source]).len())
            });
            match res {
                Ok(Ok(n)) if n > 0 => loaded += 1,
                Ok(_) => {}
                Err(_) => {
                    let keep = std::env::temp_dir().join("incident-map-panic.shp");
                    std::fs::write(&keep, &shp).unwrap();
                    std::fs::write(keep.with_extension("dbf"), &dbf).unwrap();
                    panic!(
                        "panic on a mutation of {name} (saved to {})",
                        keep.display()
                    );
                }
            }
        }
    }
    assert!(
        loaded > 200,
        "mutations should mostly still load ({loaded})"
    );
}

/// One to four bytes set to values that matter in binary headers and counts.
fn flip(src: &[u8], r: &mut Rng) -> Vec<u8> {
    let mut b = src.to_vec();
    for _ in 0..1 + r.below(4) {
        let at = r.below(b.len() as u64) as usize;
        b[at] = [0x00, 0xff, 0x7f, 0x80, 0x01, r.below(256) as u8][r.below(6) as usize];
    }
    b
}

/// GeoPackage geometry blobs (the `GP` header and WKB) as GDAL wrote them, mutated: errors, never
/// a panic (the whole-file mutations above rarely reach a blob intact enough to be decoded).
#[test]
fn mutated_geopackage_geometries_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gpkg");
    let db = rusqlite::Connection::open_with_flags(
        dir.join("two_layers_webmerc.gpkg"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut blobs: Vec<Vec<u8>> = Vec::new();
    for table in ["points", "areas"] {
        let mut q = db.prepare(&format!("SELECT geom FROM {table}")).unwrap();
        let rows = q.query_map([], |r| r.get::<_, Vec<u8>>(0)).unwrap();
        blobs.extend(rows.map(Result::unwrap));
    }
    assert_eq!(blobs.len(), 6);
    for b in &blobs {
        assert!(incident_map::import::gpkg::geometry_json(b).is_ok());
    }
    let mut r = Rng::new(7);
    let mut decoded = 0;
    for k in 0..20_000 {
        let b = mutate(&blobs[k % blobs.len()], &mut r);
        let res = std::panic::catch_unwind(|| incident_map::import::gpkg::geometry_json(&b));
        match res {
            Ok(Ok(_)) => decoded += 1,
            Ok(Err(_)) => {}
            Err(_) => panic!("panicked on {b:?}"),
        }
    }
    assert!(decoded > 100, "{decoded} mutated blobs still decoded");
}

/// Found by the fuzzer: a GeoPackage whose layer has a column name that is not UTF-8 made
/// rusqlite panic while listing the columns. Now the name is read lossily and the file loads.
#[test]
fn a_column_name_that_is_not_utf8_does_not_panic() {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gpkg/fuzz_crash_column_name.gpkg");
    let bytes = std::fs::read(&p).unwrap();
    let r = std::panic::catch_unwind(|| {
        load_bytes("crash.gpkg", p.clone(), bytes, &Overrides::default(), 0)
            .map(|l| l.builder.finish(vec![l.source]).len())
    })
    .expect("no panic");
    assert_eq!(r.ok(), Some(3), "the crash file's points layer loads");
}

/// A KMZ whose archive says its KML is 100 bytes while it unpacks to megabytes (a zip bomb that
/// lies about its size) is refused once it passes what it declared, not read to 1 GiB.
#[test]
fn a_kmz_that_lies_about_its_size_is_refused_at_the_size_it_declares() {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("doc.kml", deflated).unwrap();
    zip.write_all(b"<kml><Document>").unwrap();
    zip.write_all(&vec![b' '; 4 << 20]).unwrap();
    zip.write_all(b"</Document></kml>").unwrap();
    let mut bytes = zip.finish().unwrap().into_inner();
    // The uncompressed size in the local header (byte 22) and the central directory (24).
    let local = 0;
    let central = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    bytes[local + 22..local + 26].copy_from_slice(&100u32.to_le_bytes());
    bytes[central + 24..central + 28].copy_from_slice(&100u32.to_le_bytes());
    let Err(e) = load_bytes(
        "lying.kmz",
        "lying.kmz".into(),
        bytes,
        &Overrides::default(),
        0,
    ) else {
        panic!("a lying KMZ was read");
    };
    assert!(
        e.to_string()
            .contains("doc.kml unpacks to more than the 100 bytes its archive says"),
        "{e}"
    );
}
