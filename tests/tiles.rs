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

fn assert_ui_still_works(h: &mut Harness<'static, App>) {
    h.get_by_label("Drone attack  5").click();
    h.run_steps(3);
    assert_eq!(h.state().selection.len(), 14);
    h.get_by_label("Drone attack  5").click();
    h.run_steps(3);
    assert_eq!(h.state().selection.len(), 19);
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
    let img = h.render().expect("render");
    // A point of the map away from markers and overlays is the tile's magenta.
    let s = h.state().screen.expect("map");
    let p = s.rect.left_top() + egui::vec2(40.0, s.rect.height() * 0.5);
    let px = img.get_pixel(
        (p.x * h.ctx.pixels_per_point()) as u32,
        (p.y * h.ctx.pixels_per_point()) as u32,
    );
    assert_eq!([px[0], px[1], px[2]], [255, 0, 255], "tile pixel at {p:?}");
    let seen = log.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|(_, ua)| *ua == user_agent()), "{seen:?}");
    assert!(user_agent().starts_with("incident-map/"));
    assert_ui_still_works(&mut h);
}

#[test]
fn failing_servers_leave_the_offline_basemap() {
    for mode in ["404", "500", "garbage"] {
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
        let img = h.render().expect("render");
        let s = h.state().screen.expect("map");
        let p = s.rect.left_top() + egui::vec2(40.0, s.rect.height() * 0.5);
        let px = img.get_pixel(
            (p.x * h.ctx.pixels_per_point()) as u32,
            (p.y * h.ctx.pixels_per_point()) as u32,
        );
        let rgb = egui::Color32::from_rgb(px[0], px[1], px[2]);
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
    // Downloads take 3 s each; the UI answers meanwhile.
    let t = Instant::now();
    h.run_steps(2);
    let (_, shown, loading) = h.state().tile_status().expect("tiles");
    assert!(loading > 0 && shown == 0, "still downloading");
    h.get_by_label_contains("loading, offline basemap meanwhile");
    assert_ui_still_works(&mut h);
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "the UI waited for tiles"
    );
    let (requested, shown, _) = settle(&mut h, 20);
    assert!(shown > 0 && shown <= requested);
}
