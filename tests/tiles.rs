//! Tiles from a real HTTP server on 127.0.0.1, started by each test: good tiles, 404, 500,
//! garbage bytes and slow answers. The window keeps working and shows the offline basemap
//! wherever tiles are missing; every request carries our User-Agent.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use incident_map::app::{App, Saved, WindowOptions};
use incident_map::view::tiles::{BaseLayer, TrackedTiles, http_tiles_with, user_agent};

/// Requests seen: (path, user agent).
type Log = Arc<Mutex<Vec<(String, String)>>>;

fn png_tile() -> Vec<u8> {
    let img = image::RgbaImage::from_pixel(256, 256, image::Rgba([255, 0, 255, 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    v.extend_from_slice(&body);
    v.extend_from_slice(&crc32(&body).to_be_bytes());
    v
}

/// A 100-byte PNG that declares 30000 × 30000 RGBA pixels (3.6 GB decoded).
fn png_bomb() -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&30_000u32.to_be_bytes());
    ihdr.extend_from_slice(&30_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    // A tiny zlib stream (a few zero bytes) as the start of the image data.
    png.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
    ));
    png.extend(chunk(b"IEND", &[]));
    png
}

fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

fn answer(mut s: TcpStream, log: Log, tile: Arc<Vec<u8>>) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut r = BufReader::new(match s.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut first = String::new();
    if r.read_line(&mut first).is_err() {
        return;
    }
    let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut ua = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("user-agent:") {
            ua = line[line.len() - v.len()..].trim().to_string();
        }
    }
    log.lock().unwrap().push((path.clone(), ua));
    let mode = path.split('/').nth(1).unwrap_or("");
    let (status, body): (&str, Vec<u8>) = match mode {
        "ok" => ("200 OK", tile.to_vec()),
        "404" => ("404 Not Found", b"no such tile".to_vec()),
        "500" => ("500 Internal Server Error", b"boom".to_vec()),
        "garbage" => (
            "200 OK",
            (0..5000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
        ),
        "slow" => {
            std::thread::sleep(Duration::from_secs(3));
            ("200 OK", tile.to_vec())
        }
        "truncated" => ("200 OK", tile[..tile.len() / 2].to_vec()),
        "429" => {
            let body = b"slow down";
            let head = format!(
                "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(body);
            return;
        }
        "bomb" => ("200 OK", png_bomb()),
        "hang" => {
            // Never answer (the connection stays open until the test ends, at most 120 s).
            std::thread::sleep(Duration::from_secs(120));
            return;
        }
        _ => ("400 Bad Request", Vec::new()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(&body);
}

/// Serves on 127.0.0.1 for at most `secs` seconds and 400 connections.
fn server(secs: u64) -> (u16, Log) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = l.local_addr().expect("addr").port();
    l.set_nonblocking(true).expect("nonblocking");
    let log: Log = Arc::default();
    let tile = Arc::new(png_tile());
    let lg = log.clone();
    std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(secs);
        let mut served = 0;
        while Instant::now() < end && served < 400 {
            match l.accept() {
                Ok((s, _)) => {
                    let _ = s.set_nonblocking(false);
                    served += 1;
                    let (lg, tile) = (lg.clone(), tile.clone());
                    std::thread::spawn(move || answer(s, lg, tile));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    (port, log)
}

fn harness(mode: &str, port: u16, wgpu: bool) -> Harness<'static, App> {
    let files =
        vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson")];
    let app = App::loaded(
        WindowOptions {
            files,
            base: Some(BaseLayer::Offline),
            ..Default::default()
        },
        Some(Saved::default()),
    );
    let b = Harness::builder().with_size(egui::vec2(1100.0, 720.0));
    let b = if wgpu { b.wgpu() } else { b };
    let mut h = b.build_ui_state(|ui, app: &mut App| app.ui(ui), app);
    let template = format!("http://127.0.0.1:{port}/{mode}/{{z}}/{{x}}/{{y}}.png");
    let tiles = http_tiles_with(&template, &h.ctx, None).expect("tiles");
    h.state_mut().set_tiles(
        BaseLayer::Xyz {
            template,
            attribution: "Test tiles".into(),
        },
        TrackedTiles::new(Box::new(tiles)),
    );
    h.run_steps(3);
    h
}

/// Steps until no download is in progress (or `secs` pass); returns the last tile status.
fn settle(h: &mut Harness<'static, App>, secs: u64) -> (usize, usize, usize) {
    let end = Instant::now() + Duration::from_secs(secs);
    let mut quiet = 0;
    loop {
        h.step();
        let st = h.state().tile_status().expect("tiles in use");
        quiet = if st.0 > 0 && st.2 == 0 { quiet + 1 } else { 0 };
        if quiet >= 5 || Instant::now() > end {
            return st;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Colour of the map at a point away from markers and overlays (left middle of the map).
fn map_pixel(h: &mut Harness<'static, App>) -> [u8; 3] {
    let img = h.render().expect("render");
    let s = h.state().map.screen.expect("map");
    let p = s.rect.left_top() + egui::vec2(40.0, s.rect.height() * 0.5);
    let ppp = h.ctx.pixels_per_point();
    let px = img.get_pixel((p.x * ppp) as u32, (p.y * ppp) as u32);
    [px[0], px[1], px[2]]
}

fn assert_ui_still_works(h: &mut Harness<'static, App>) {
    h.get_by_label("Drone attack  8").click();
    h.run_steps(3);
    assert_eq!(h.state().sel.shown.len(), 75);
    h.get_by_label("Drone attack  8").click();
    h.run_steps(3);
    assert_eq!(h.state().sel.shown.len(), 83);
}

#[test]
fn good_tiles_are_drawn_and_carry_our_user_agent() {
    let (port, log) = server(30);
    let mut h = harness("ok", port, true);
    let (requested, shown, _) = settle(&mut h, 20);
    assert!(
        requested > 0 && shown == requested,
        "{shown}/{requested} tiles shown"
    );
    h.get_by_label_contains("all tiles shown");
    assert_eq!(map_pixel(&mut h), [255, 0, 255], "the tile's magenta");
    let seen = log.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|(_, ua)| *ua == user_agent()), "{seen:?}");
    assert!(user_agent().starts_with("incident-map/"));
    assert_ui_still_works(&mut h);
}

#[test]
fn failing_servers_leave_the_offline_basemap() {
    for mode in ["404", "500", "garbage", "truncated"] {
        let (port, log) = server(30);
        let mut h = harness(mode, port, true);
        let (requested, shown, _) = settle(&mut h, 15);
        assert!(requested > 0, "{mode}");
        assert_eq!(shown, 0, "{mode}: nothing to show");
        assert!(
            !log.lock().unwrap().is_empty(),
            "{mode}: the server was asked"
        );
        h.get_by_label_contains("offline basemap shown");
        // The map shows the offline basemap (land or sea colours), not a blank.
        let [r, g, b] = map_pixel(&mut h);
        let rgb = egui::Color32::from_rgb(r, g, b);
        assert!(
            rgb == incident_map::view::basemap::LAND || rgb == incident_map::view::basemap::SEA,
            "{mode}: {rgb:?}"
        );
        assert_ui_still_works(&mut h);
    }
}

#[test]
fn slow_tiles_do_not_block_the_window() {
    let (port, _log) = server(30);
    let mut h = harness("slow", port, false);
    // Downloads take 3 s each; the UI answers meanwhile (had the frames waited for the tiles,
    // they would be shown by now).
    h.run_steps(2);
    let (_, shown, loading) = h.state().tile_status().expect("tiles");
    assert!(loading > 0 && shown == 0, "still downloading");
    h.get_by_label_contains("loading, offline basemap meanwhile");
    assert_ui_still_works(&mut h);
    let (requested, shown, _) = settle(&mut h, 20);
    assert!(shown > 0 && shown <= requested);
}

/// The bundled data and its cluster index, for exports.
fn bundled_store() -> (
    incident_map::store::Store,
    incident_map::cluster::ClusterIndex,
) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let store = incident_map::import::load_paths(&[dir], &Default::default()).store;
    let index = incident_map::cluster::ClusterIndex::build(&store);
    (store, index)
}

/// A raster PMTiles archive of magenta tiles, zoom 0–3.
fn pmtiles_archive(path: &std::path::Path) {
    let png = png_tile();
    let f = std::fs::File::create(path).expect("create");
    let mut w = pmtiles::PmTilesWriter::new(pmtiles::TileType::Png)
        .tile_compression(pmtiles::Compression::None)
        .max_zoom(3)
        .create(f)
        .expect("writer");
    for z in 0..=3u8 {
        for x in 0..(1u32 << z) {
            for y in 0..(1u32 << z) {
                w.add_tile(pmtiles::TileCoord::new(z, x, y).expect("coord"), &png)
                    .expect("tile");
            }
        }
    }
    w.finalize().expect("finalize");
}

#[test]
fn pmtiles_archive_is_drawn_offline() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("magenta.pmtiles");
    pmtiles_archive(&archive);
    let (store, index) = bundled_store();
    let spec = incident_map::export::Spec {
        base: BaseLayer::PmTiles {
            path: archive.clone(),
            attribution: "Test archive".into(),
        },
        viewport: incident_map::export::Viewport::Center {
            lat: 20.0,
            lon: 20.0,
            zoom: 2.5,
        },
        width: 400,
        height: 300,
        caption: false,
        legend: false,
        tile_timeout: Duration::from_secs(15),
        ..Default::default()
    };
    let img = incident_map::export::render(&store, &index, &spec)
        .unwrap()
        .image;
    let px = img.get_pixel(30, 150);
    assert_eq!(
        [px[0], px[1], px[2]],
        [255, 0, 255],
        "the archive's tile is drawn"
    );
    // Not an archive: a clear error, no panic.
    let bad = dir.path().join("bad.pmtiles");
    std::fs::write(&bad, b"not a pmtiles file").unwrap();
    let spec = incident_map::export::Spec {
        base: BaseLayer::PmTiles {
            path: bad,
            attribution: String::new(),
        },
        ..spec
    };
    assert!(
        incident_map::export::render(&store, &index, &spec)
            .err()
            .unwrap()
            .to_string()
            .contains("not a PMTiles archive")
    );
}

#[test]
fn rate_limits_bombs_refusals_and_hangs() {
    // 429 with Retry-After: each tile is asked for once, not hammered.
    let (port, log) = server(30);
    let mut h = harness("429", port, true);
    // Until every tile asked for was answered (polled), then as many frames again: none is
    // asked for twice.
    settle(&mut h, 30);
    for _ in 0..30 {
        h.step();
    }
    let seen = log.lock().unwrap().clone();
    let mut paths: Vec<&String> = seen.iter().map(|(p, _)| p).collect();
    let asked = paths.len();
    paths.sort();
    paths.dedup();
    assert!(
        asked > 0 && asked == paths.len(),
        "{asked} requests for {} tiles",
        paths.len()
    );
    assert_eq!(h.state().tile_status().unwrap().1, 0);
    let px = map_pixel(&mut h);
    let rgb = egui::Color32::from_rgb(px[0], px[1], px[2]);
    assert!(rgb == incident_map::view::basemap::LAND || rgb == incident_map::view::basemap::SEA);

    // A decompression bomb: refused, memory stays bounded.
    let before = peak_rss_mb();
    let (port, _log) = server(30);
    let mut h = harness("bomb", port, true);
    let (_, shown, _) = settle(&mut h, 15);
    assert_eq!(shown, 0);
    assert!(
        peak_rss_mb() < before + 1024,
        "peak RSS grew from {before} MB to {} MB",
        peak_rss_mb()
    );
    assert_ui_still_works(&mut h);

    // Connection refused: nothing listens on the port.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut h = harness("ok", port, false);
    let (requested, shown, _) = settle(&mut h, 15);
    assert!(requested > 0 && shown == 0);
    h.get_by_label_contains("offline basemap shown");
    assert_ui_still_works(&mut h);

    // A server that never answers: the window keeps working; an export gives up after its
    // tile timeout and draws the offline basemap.
    let (port, _log) = server(30);
    let mut h = harness("hang", port, false);
    h.run_steps(3);
    assert!(h.state().tile_status().unwrap().2 > 0, "downloads pending");
    assert_ui_still_works(&mut h);
    assert!(
        h.state().tile_status().unwrap().2 > 0,
        "the UI waited for tiles"
    );
    let (store, index) = bundled_store();
    let spec = incident_map::export::Spec {
        base: BaseLayer::Xyz {
            template: format!("http://127.0.0.1:{port}/hang/{{z}}/{{x}}/{{y}}.png"),
            attribution: "Test".into(),
        },
        width: 300,
        height: 200,
        tile_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    // The server holds each request for 120 s: an export that ends, within a generous minute,
    // gave up after its own timeout.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(incident_map::export::render(&store, &index, &spec));
    });
    let img = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the export gave up waiting for tiles")
        .unwrap()
        .image;
    // The offline basemap shows where the tiles never came (a few pixels, in case a border
    // or a symbol passes through one).
    let basemap = (0..8u32).any(|k| {
        let px = img.get_pixel(5 + 3 * k, 100 + 5 * k);
        let rgb = egui::Color32::from_rgb(px[0], px[1], px[2]);
        rgb == incident_map::view::basemap::LAND || rgb == incident_map::view::basemap::SEA
    });
    assert!(basemap, "no basemap pixel");
}
