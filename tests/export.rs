//! `incident-map export` on real files: sizes, scale, determinism, filters, atomicity, errors,
//! series and GIF, saved views, and the window's export matching the CLI's.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use egui_kittest::SnapshotOptions;
use egui_kittest::kittest::{NodeT, Queryable};
use incident_map::app::{App, Saved, WindowOptions};
use incident_map::view::tiles::BaseLayer;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

fn export(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_incident-map"))
        .arg("export")
        .args(args)
        .output()
        .expect("run")
}

/// View files are checked as the command line is: tools off the Earth or more than can be
/// drawn, and a radius that is not one, are refused with the file named (they used to hang the
/// export, or panic on the graphics card's buffer limit); an endless device given as the view
/// is read no further than a view file's size.
#[test]
fn view_files_with_tools_that_cannot_be_drawn_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = data().join("incidents.geojson");
    let out = dir.path().join("map.png");
    let view = |name: &str, filter: &str, tools: &str| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            format!(
                r#"{{"version": 2, "files": [{:?}], "filter": {filter}, "view": {{}},
                "size": {{"width": 300, "height": 200, "scale": 1}}, "basemap": {{"kind": "offline"}},
                "legend": true, "caption": true, "tools": {tools}}}"#,
                data.to_str().unwrap()
            ),
        )
        .unwrap();
        p
    };
    let radii = (1..=1001)
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(",");
    for (name, filter, tools, says) in [
        (
            "arrow.json",
            "{}",
            r#"{"arrows": [{"from": [33.3, 44.2], "to": [1e308, 1e308]}]}"#,
            "arrow 1: its point is not",
        ),
        (
            "rings.json",
            "{}",
            &*format!(r#"{{"rings": [{{"lat": 33.7, "lon": 42.4, "km": [{radii}]}}]}}"#),
            "more radii than a map can carry (at most 1000)",
        ),
        (
            "radius.json",
            "{}",
            r#"{"rings": [{"lat": 33.7, "lon": 42.4, "km": [10, -5]}]}"#,
            "range ring 1: a radius is not more than 0",
        ),
        (
            "near.json",
            r#"{"near": {"lat": 33.2, "lon": 44.2, "km": -60}}"#,
            "{}",
            "is not a place on the Earth",
        ),
    ] {
        let v = view(name, filter, tools);
        let o = export(&[
            "--view",
            v.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name}: {e}");
        assert!(e.contains(name) && e.contains(says), "{name}: {e}");
    }
    assert!(!out.exists());
    // The command line's own limit: a ring of more radii than can be drawn is bad usage.
    let o = export(&[
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--ring",
        &format!("33.7,42.4,{radii}"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // An endless device is read only to the size a view file can have (it used to be read
    // until memory ran out).
    let o = export(&["--view", "/dev/zero", "--out", out.to_str().unwrap()]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("/dev/zero") && e.contains("at most 1 MiB"),
        "{e}"
    );
}

/// `--out` naming a symbolic link writes the file it points to (the link stays); naming a
/// device writes into it (it used to be replaced by a regular file: `/dev/null` too, as root).
#[test]
fn export_to_a_link_or_a_device_keeps_the_link_and_the_device() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.png");
    std::fs::write(&target, "previous").unwrap();
    let link = dir.path().join("link.png");
    std::os::unix::fs::symlink("target.png", &link).unwrap();
    let d = data().join("incidents.geojson");
    let mut args = vec![d.to_str().unwrap(), "--out", link.to_str().unwrap()];
    args.extend(SMALL_OFFLINE);
    ok(&export(&args));
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(size_of(&target), (400, 300));
    args[2] = "/dev/null";
    ok(&export(&args));
    assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
    // Into a pipe: /dev/stdout names it (its link text is no path).
    args[2] = "/dev/stdout";
    let o = export(&args);
    ok(&o);
    assert!(
        o.stdout.starts_with(b"\x89PNG\r\n"),
        "{} bytes",
        o.stdout.len()
    );
    assert_eq!(image::load_from_memory(&o.stdout).unwrap().width(), 400);
}

/// A small image on the offline basemap.
const SMALL_OFFLINE: [&str; 6] = ["--basemap", "offline", "--width", "400", "--height", "300"];

fn ok(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The window on the bundled data, offline basemap, loaded.
fn bundled_app() -> App {
    App::loaded(
        WindowOptions {
            files: vec![data()],
            base: Some(BaseLayer::Offline),
            ..Default::default()
        },
        Some(Saved::default()),
    )
}

fn size_of(p: &Path) -> (u32, u32) {
    let img = image::open(p).expect("a PNG");
    (img.width(), img.height())
}

#[test]
fn size_scale_and_determinism() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.png");
    let b = dir.path().join("b.png");
    let d = data();
    let args = |out: &Path| {
        vec![
            d.to_str().unwrap().to_string(),
            "--out".into(),
            out.to_str().unwrap().into(),
            "--basemap".into(),
            "offline".into(),
            "--width".into(),
            "640".into(),
            "--height".into(),
            "400".into(),
        ]
    };
    let a_args = args(&a);
    ok(&export(
        &a_args.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    assert_eq!(size_of(&a), (640, 400));
    let b_args = args(&b);
    ok(&export(
        &b_args.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "same inputs, same bytes"
    );
    let mut s2 = args(&b);
    s2.extend(["--scale".into(), "2".into()]);
    ok(&export(&s2.iter().map(String::as_str).collect::<Vec<_>>()));
    assert_eq!(size_of(&b), (1280, 800));
    // Default size.
    ok(&export(&[
        d.to_str().unwrap(),
        "--out",
        a.to_str().unwrap(),
        "--basemap",
        "offline",
    ]));
    assert_eq!(size_of(&a), (1600, 1000));
}

/// A successful export in a bare environment (no `XDG_RUNTIME_DIR`, no display, as in CI and
/// containers) prints its one line and nothing that looks like an error; the PNG records the
/// program and the renderer.
#[test]
fn a_successful_export_prints_no_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clean.png");
    let o = Command::new(env!("CARGO_BIN_EXE_incident-map"))
        .args(["export", data().to_str().unwrap(), "--out"])
        .arg(&out)
        .args(SMALL_OFFLINE)
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("wrote "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.to_lowercase().contains("error"), "{err}");
    assert!(o.stdout.is_empty());
    let text = incident_map::export::png_text(&std::fs::read(&out).unwrap());
    let get = |k: &str| {
        text.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        get("Software"),
        Some(format!("incident-map {}", env!("CARGO_PKG_VERSION")))
    );
    let renderer = get("Source").expect("the renderer is recorded");
    assert!(renderer.contains(" on "), "{renderer}");
}

/// No usable adapter is an error that says what was tried and what to install, never a panic;
/// a broken Vulkan driver falls back to GL.
#[test]
fn no_adapter_is_a_clear_error_and_broken_vulkan_falls_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("map.png");
    let run = |envs: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_incident-map"));
        c.args(["export", data().to_str().unwrap(), "--out"])
            .arg(&out)
            .args(SMALL_OFFLINE);
        for (k, v) in envs {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    // DX12 does not exist on Linux: nothing can draw.
    let o = run(&[("WGPU_BACKEND", "dx12")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no graphics adapter"), "{err}");
    assert!(err.contains("tried: Vulkan"), "{err}");
    assert!(
        err.contains("apt install") && err.contains("mesa-vulkan-drivers"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists());
    // Vulkan without drivers: GL draws instead, and the PNG says so.
    let o = run(&[("VK_DRIVER_FILES", "/nonexistent/icd.json")]);
    ok(&o);
    let text = incident_map::export::png_text(&std::fs::read(&out).unwrap());
    assert!(
        text.iter()
            .any(|(k, v)| k == "Source" && v.contains("on Gl")),
        "{text:?}"
    );
}

#[test]
fn filters_change_the_picture() {
    let dir = tempfile::tempdir().unwrap();
    let d = data();
    let all = dir.path().join("all.png");
    let ied = dir.path().join("ied.png");
    let common = [
        "--basemap",
        "offline",
        "--width",
        "600",
        "--height",
        "400",
        "--bbox",
        "40,30,48,38",
    ];
    let mut a = vec![d.to_str().unwrap(), "--out", all.to_str().unwrap()];
    a.extend(common);
    ok(&export(&a));
    let mut b = vec![
        d.to_str().unwrap(),
        "--out",
        ied.to_str().unwrap(),
        "--type",
        "IED",
    ];
    b.extend(common);
    let o = export(&b);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("47 incidents"));
    assert_ne!(std::fs::read(&all).unwrap(), std::fs::read(&ied).unwrap());
}

#[test]
fn failures_leave_the_existing_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("map.png");
    std::fs::write(&out, b"previous").unwrap();
    let d = data();
    let d = d.to_str().unwrap();
    let o = out.to_str().unwrap();
    let jpg = dir.path().join("map.jpg").to_string_lossy().into_owned();
    for (args, code) in [
        (vec![d, "--out", o, "--scale", "4"], 2),
        (vec![d, "--out", o, "--width", "10"], 2),
        (vec![d, "--out", o, "--center", "95,40", "--zoom", "5"], 2),
        (
            vec![
                d,
                "--out",
                o,
                "--basemap",
                "offline",
                "--from",
                "2030-01-01",
            ],
            1,
        ),
        (
            vec![
                d,
                "--out",
                o,
                "--basemap",
                "offline",
                "--type",
                "Nonexistent",
            ],
            1,
        ),
        (vec![d, "--out", o, "--view", "/nonexistent/view.json"], 1),
        (vec![d, "--out", jpg.as_str(), "--basemap", "offline"], 2),
        (vec!["/nonexistent.csv", "--out", o], 1),
        (vec!["--out", o], 2),
    ] {
        let r = export(&args);
        assert_eq!(
            r.status.code(),
            Some(code),
            "{args:?}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert!(!String::from_utf8_lossy(&r.stderr).is_empty());
        assert_eq!(std::fs::read(&out).unwrap(), b"previous", "{args:?}");
    }
    // An unwritable destination is an error (exit 1) with the path named.
    let r = export(&[
        d,
        "--out",
        "/nonexistent-dir/map.png",
        "--basemap",
        "offline",
    ]);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("/nonexistent-dir/map.png"));
    // --allow-empty writes a map with no incidents.
    ok(&export(&[
        d,
        "--out",
        o,
        "--basemap",
        "offline",
        "--from",
        "2030-01-01",
        "--allow-empty",
        "--center",
        "33,44",
        "--zoom",
        "6",
    ]));
    assert_eq!(size_of(&out), (1600, 1000));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary files left"
    );
}

#[test]
fn series_with_index_and_gif() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("june.png");
    let gif = dir.path().join("june.gif");
    let d = data();
    let mut args = vec![d.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend(SMALL_OFFLINE);
    args.extend([
        "--from",
        "2021-05-01",
        "--to",
        "2021-07-31",
        "--every",
        "month",
    ]);
    args.extend(["--cumulative", "--gif", gif.to_str().unwrap()]);
    let r = export(&args);
    ok(&r);
    let index = std::fs::read_to_string(dir.path().join("june_index.csv")).unwrap();
    assert_eq!(
        index,
        "period_start,period_end,file,incidents\n2021-05-01,2021-05-31,june_0001.png,11\n2021-06-01,2021-06-30,june_0002.png,23\n2021-07-01,2021-07-31,june_0003.png,34\n"
    );
    for k in 1..=3 {
        assert_eq!(
            size_of(&dir.path().join(format!("june_{k:04}.png"))),
            (400, 300)
        );
    }
    let bytes = std::fs::read(&gif).unwrap();
    assert!(bytes.starts_with(b"GIF89a"));
    use image::AnimationDecoder;
    let frames = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(bytes))
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    assert_eq!(frames.len(), 3);
    // Windowed (not cumulative): June alone.
    let mut args = vec![d.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend(SMALL_OFFLINE);
    args.extend([
        "--from",
        "2021-06-01",
        "--to",
        "2021-06-30",
        "--every",
        "week",
    ]);
    let r = export(&args);
    ok(&r);
    let index = std::fs::read_to_string(dir.path().join("june_index.csv")).unwrap();
    let counts: Vec<&str> = index
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    assert_eq!(counts, vec!["3", "5", "3", "1", "0"]);
}

#[test]
fn saved_view_renders_like_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let view = dir.path().join("view.json");
    std::fs::write(
        &view,
        format!(
            r#"{{"version":1,"files":["{}"],"filter":{{"from":"2021-06-01","to":"2021-07-31","types":["Interception"]}},
            "view":{{"center":[33.5,43.5],"zoom":6.5}},"size":{{"width":500,"height":400,"scale":1}},
            "title":"Interceptions","basemap":{{"kind":"offline"}}}}"#,
            data().join("incidents.geojson").display()
        ),
    )
    .unwrap();
    let a = dir.path().join("a.png");
    let b = dir.path().join("b.png");
    ok(&export(&[
        "--view",
        view.to_str().unwrap(),
        "--out",
        a.to_str().unwrap(),
    ]));
    let f = data().join("incidents.geojson");
    ok(&export(&[
        f.to_str().unwrap(),
        "--out",
        b.to_str().unwrap(),
        "--from",
        "2021-06-01",
        "--to",
        "2021-07-31",
        "--type",
        "Interception",
        "--center",
        "33.5,43.5",
        "--zoom",
        "6.5",
        "--width",
        "500",
        "--height",
        "400",
        "--title",
        "Interceptions",
        "--basemap",
        "offline",
    ]));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

/// Steps the window until its export worker is done.
fn wait_for_export(h: &mut egui_kittest::Harness<'_, App>) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while h.state().export.busy() {
        assert!(std::time::Instant::now() < end, "export did not finish");
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    h.run_steps(2);
}

/// The real dialog: File → Export map…, a preset, a title, a file name, Export.
fn export_from_the_dialog(h: &mut egui_kittest::Harness<'static, App>, to: &std::path::Path) {
    h.get_by_label("File").click();
    h.run();
    h.get_by_label("Export map…").click();
    h.run_steps(2);
    h.get_by_label("size").click();
    h.run();
    h.get_by_label("A4 landscape, 150 dpi (1754 × 1240)")
        .click();
    h.run();
    let title = h.get_by_label("Title");
    title.click();
    title.type_text("From the window");
    h.run();
    let field = h
        .query_all_by_label("File")
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::TextInput)
        .expect("the file field");
    field.click();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run();
    h.query_all_by_label("File")
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::TextInput)
        .expect("the file field")
        .type_text(to.to_str().unwrap());
    h.run();
    h.get_by_label("Export").click();
    h.step();
    assert!(h.state().export.busy(), "the export runs on a worker");
}

#[test]
fn window_export_equals_cli_export() {
    let mut app = bundled_app();
    let mut h = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), {
            app.toggle_type("IED");
            app.set_dates(
                incident_map::date::parse_ymd("2021-03-01").ok(),
                incident_map::date::parse_ymd("2021-07-31").ok(),
            );
            app
        });
    h.run_steps(4);
    let dir = tempfile::tempdir().unwrap();
    let from_window = dir.path().join("window.png");
    export_from_the_dialog(&mut h, &from_window);
    wait_for_export(&mut h);
    h.get_by_label_contains("Wrote ");
    h.get_by_label_contains("(1754×1240 px");
    // The same export from the command line, with the window's viewport and filters as flags.
    let f = h.state().effective_filter();
    let Some(incident_map::export::Viewport::Center { lat, lon, zoom }) = h.state().map.viewport()
    else {
        panic!("the map was drawn")
    };
    let d = data();
    let center = format!("{lat},{lon}");
    let zoom = zoom.to_string();
    let from_cli = dir.path().join("cli.png");
    let mut args = vec![
        d.to_str().unwrap(),
        "--out",
        from_cli.to_str().unwrap(),
        "--from",
        "2021-03-01",
        "--to",
        "2021-07-31",
        "--center",
        &center,
        "--zoom",
        &zoom,
        "--width",
        "1754",
        "--height",
        "1240",
        "--title",
        "From the window",
        "--basemap",
        "offline",
    ];
    for t in &f.types {
        args.extend(["--type", t.as_str()]);
    }
    ok(&export(&args));
    assert_eq!(
        std::fs::read(&from_window).unwrap(),
        std::fs::read(&from_cli).unwrap(),
        "window and CLI give the same image"
    );
    // A saved view renders the same image, and opens again with the same filters.
    let view = dir.path().join("view.json");
    h.state().save_view(&view).unwrap();
    let from_view = dir.path().join("view.png");
    ok(&export(&[
        "--view",
        view.to_str().unwrap(),
        "--out",
        from_view.to_str().unwrap(),
    ]));
    assert_eq!(
        std::fs::read(&from_view).unwrap(),
        std::fs::read(&from_cli).unwrap()
    );
    let mut app2 = bundled_app();
    app2.open_view(&egui::Context::default(), &view).unwrap();
    app2.finish_loading();
    assert_eq!(app2.effective_filter(), f);
}

#[test]
fn the_window_keeps_drawing_while_an_export_waits_for_tiles() {
    // A tile server that accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let mut app = bundled_app();
    app.export.preset = 3;
    let mut h = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app);
    h.run_steps(3);
    let base = BaseLayer::Xyz {
        template: format!("http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png"),
        attribution: "hanging".into(),
    };
    let ctx = h.ctx.clone();
    h.state_mut().set_base(&ctx, base);
    h.state_mut().export.show = true;
    h.run_steps(2);
    h.get_by_label("Export").click();
    h.step();
    // Frames keep coming while the worker waits for tiles that never arrive (until its 20 s
    // tile timeout): ten frames drawn, the export still running after each.
    for _ in 0..10 {
        h.step();
        assert!(h.state().export.busy(), "a frame waited for the export");
    }
    // The worker says what it waits for (a loaded machine may take a while to get there).
    let t = std::time::Instant::now();
    while h.query_by_label_contains("waiting for tiles").is_none() {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(15),
            "no 'waiting for tiles'"
        );
        h.step();
        assert!(h.state().export.busy(), "a frame waited for the export");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // Cancel stops it, with a message.
    h.get_by_label("Cancel").click();
    h.step();
    wait_for_export(&mut h);
    h.get_by_label("Export cancelled");
}

/// The caption sits on a backdrop, so basemap labels never run through it (an export of 5–6
/// June 2021 at the default size once printed "Kayseri" across the date line).
#[test]
fn the_caption_has_a_backdrop() {
    let store = incident_map::import::load_paths(&[data()], &Default::default()).store;
    let index = incident_map::cluster::ClusterIndex::build(&store);
    let spec = incident_map::export::Spec {
        base: BaseLayer::Offline,
        filter: incident_map::query::Filter::default()
            .with_from("2021-06-05")
            .unwrap()
            .with_to("2021-06-06")
            .unwrap(),
        ..Default::default()
    };
    let img = incident_map::export::render(&store, &index, &spec)
        .unwrap()
        .image;
    // Inside the backdrop's corner, where no text is: nearly white, not the land colour or a
    // city label.
    for (x, y) in [(13, 13), (14, 40), (60, 13)] {
        let p = img.get_pixel(x, y);
        assert!(
            p[0] >= 245 && p[1] >= 245 && p[2] >= 245,
            "({x},{y}): {p:?}"
        );
    }
    let opts = SnapshotOptions::new().threshold(1.0).max_failed_pixels(400);
    egui_kittest::image_snapshot_options(&img, "export_caption", &opts);
}

/// Several incidents of different types at one place show their mix: a ring of type colours
/// around the stack (Baghdad airport: rockets, an interception, drones).
#[test]
fn a_stack_of_mixed_types_shows_its_mix() {
    use incident_map::view::palette::style;
    let store = incident_map::import::load_paths(&[data()], &Default::default()).store;
    let index = incident_map::cluster::ClusterIndex::build(&store);
    let spec = incident_map::export::Spec {
        base: BaseLayer::Offline,
        viewport: incident_map::export::Viewport::Center {
            lat: 33.2625,
            lon: 44.2344,
            zoom: 15.0,
        },
        width: 400,
        height: 300,
        legend: false,
        caption: false,
        ..Default::default()
    };
    let img = incident_map::export::render(&store, &index, &spec)
        .unwrap()
        .image;
    let close = |p: &image::Rgba<u8>, c: egui::Color32| {
        (p[0] as i32 - c.r() as i32).abs() <= 10
            && (p[1] as i32 - c.g() as i32).abs() <= 10
            && (p[2] as i32 - c.b() as i32).abs() <= 10
    };
    let mut seen = std::collections::BTreeSet::new();
    for k in 0..72 {
        let a = k as f32 * std::f32::consts::TAU / 72.0;
        let (x, y) = (200.0 + 11.0 * a.cos(), 150.0 + 11.0 * a.sin());
        let p = img.get_pixel(x.round() as u32, y.round() as u32);
        for t in ["Rocket attack", "Interception", "Drone attack"] {
            if close(p, style(&store.colours, t).0) {
                seen.insert(t);
            }
        }
    }
    assert!(seen.len() >= 2, "ring colours seen: {seen:?}");
}

#[test]
fn export_snapshots() {
    let d = data();
    let store = incident_map::import::load_paths(&[d], &Default::default()).store;
    let index = incident_map::cluster::ClusterIndex::build(&store);
    let opts = SnapshotOptions::new().threshold(1.0).max_failed_pixels(400);
    let spec = incident_map::export::Spec {
        base: BaseLayer::Offline,
        width: 900,
        height: 600,
        title: Some("Attacks on US interests in Iraq, 2021".into()),
        ..Default::default()
    };
    let r = incident_map::export::render(&store, &index, &spec).unwrap();
    egui_kittest::image_snapshot_options(&r.image, "export_offline", &opts);
    let world = incident_map::export::Spec {
        viewport: incident_map::export::Viewport::Center {
            lat: 20.0,
            lon: 20.0,
            zoom: 1.3,
        },
        scale: 2,
        width: 600,
        height: 400,
        ..spec
    };
    let r = incident_map::export::render(&store, &index, &world).unwrap();
    egui_kittest::image_snapshot_options(&r.image, "export_world_2x", &opts);
}

/// Whether a pixel near `(x, y)` (within 3 px) has about colour `c`.
fn drawn_near(img: &image::RgbaImage, x: f64, y: f64, c: egui::Color32) -> bool {
    let close = |p: &image::Rgba<u8>| {
        (p[0] as i32 - c.r() as i32).abs() <= 25
            && (p[1] as i32 - c.g() as i32).abs() <= 25
            && (p[2] as i32 - c.b() as i32).abs() <= 25
    };
    (-3..=3).any(|dy| {
        (-3..=3).any(|dx| {
            let (px, py) = (x.round() as i64 + dx, y.round() as i64 + dy);
            px >= 0
                && py >= 0
                && (px as u32) < img.width()
                && (py as u32) < img.height()
                && close(img.get_pixel(px as u32, py as u32))
        })
    })
}

#[test]
fn rings_arrows_areas_and_the_near_circle_are_drawn_where_they_belong() {
    use incident_map::geodesy::destination;
    use incident_map::projection::{merc_x, merc_y, world_px};
    use incident_map::view::tools::{AREA, NEAR, RING};
    let tmp = tempfile::tempdir().unwrap();
    let area = tmp.path().join("area.geojson");
    std::fs::write(
        &area,
        r#"{"type":"Polygon","coordinates":[[[42.0,33.5],[43.0,33.5],[43.0,34.1],[42.0,34.1],[42.0,33.5]]]}"#,
    )
    .unwrap();
    let out = tmp.path().join("tools.png");
    let data = data();
    ok(&export(&[
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--basemap",
        "offline",
        "--width",
        "600",
        "--height",
        "400",
        // The centre as degrees-minutes-seconds (the same point as 33.786,42.441).
        "--center",
        "33°47′9.6″N 42°26′27.6″E",
        "--zoom",
        "8",
        "--no-legend",
        "--no-caption",
        "--ring",
        "33.786,42.441,25,50",
        "--arrow",
        "33.3,43.0,33.7,42.6",
        "--label",
        "33.6,42.0,Launch area",
        "--within",
        area.to_str().unwrap(),
        "--near",
        "33.786,42.441",
        "--radius",
        "70",
    ]));
    let img = image::open(&out).unwrap().to_rgba8();
    let world = world_px(8.0);
    let (cx, cy) = (merc_x(42.441), merc_y(33.786));
    let px = |lon: f64, lat: f64| {
        (
            300.0 + (merc_x(lon) - cx) * world,
            200.0 + (merc_y(lat) - cy) * world,
        )
    };
    // Each ring passes through its geodesic north, east, south and west points.
    for km in [25.0, 50.0] {
        for bearing in [0.0, 90.0, 180.0, 270.0] {
            let (lon, lat) = destination((42.441, 33.786), bearing, km);
            let (x, y) = px(lon, lat);
            assert!(drawn_near(&img, x, y, RING), "{km} km ring at {bearing}°");
        }
    }
    // The near filter's circle, and the area's edges (the middle of its west side).
    let (lon, lat) = destination((42.441, 33.786), 45.0, 70.0);
    let (x, y) = px(lon, lat);
    assert!(drawn_near(&img, x, y, NEAR), "near circle");
    let (x, y) = px(42.0, 33.8);
    assert!(drawn_near(&img, x, y, AREA), "area outline");
    // Without the tools the same pixels are not ring-coloured.
    let plain = tmp.path().join("plain.png");
    ok(&export(&[
        data.to_str().unwrap(),
        "--out",
        plain.to_str().unwrap(),
        "--basemap",
        "offline",
        "--width",
        "600",
        "--height",
        "400",
        "--center",
        "33.786,42.441",
        "--zoom",
        "8",
        "--no-legend",
        "--no-caption",
    ]));
    let plain = image::open(&plain).unwrap().to_rgba8();
    let (lon, lat) = destination((42.441, 33.786), 90.0, 50.0);
    let (x, y) = px(lon, lat);
    assert!(!drawn_near(&plain, x, y, RING));
    // Bad tools are usage errors.
    let o = export(&[data.to_str().unwrap(), "--out", "x.png", "--ring", "33,42"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn exports_draw_links_between_related_incidents() {
    use incident_map::projection::{merc_x, merc_y, world_px};
    use incident_map::view::tools::LINK;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("links.png");
    let data = data();
    // Erbil: the 15 February 2021 rocket attack and the launch site found the next day.
    let (a, b) = ((43.9632, 36.2376), (43.75, 36.12));
    ok(&export(&[
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--basemap",
        "offline",
        "--width",
        "600",
        "--height",
        "400",
        "--center",
        "36.18,43.86",
        "--zoom",
        "11",
        "--no-legend",
        "--no-caption",
    ]));
    let img = image::open(&out).unwrap().to_rgba8();
    let world = world_px(11.0);
    let (cx, cy) = (merc_x(43.86), merc_y(36.18));
    let px = |lon: f64, lat: f64| {
        (
            300.0 + (merc_x(lon) - cx) * world,
            200.0 + (merc_y(lat) - cy) * world,
        )
    };
    let (pa, pb) = (px(a.0, a.1), px(b.0, b.1));
    // Dashed: most points along the line, away from the symbols, are on a dash.
    let hits = (3..=17)
        .filter(|k| {
            let t = *k as f64 / 20.0;
            drawn_near(
                &img,
                pa.0 + (pb.0 - pa.0) * t,
                pa.1 + (pb.1 - pa.1) * t,
                LINK,
            )
        })
        .count();
    assert!(hits >= 10, "{hits} of 15 points on the link");
}

#[test]
fn small_multiples_share_the_view_and_caption_each_period() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("compare.png");
    let data = data();
    let o = export(&[
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--basemap",
        "offline",
        "--width",
        "1000",
        "--height",
        "400",
        "--compare",
        "2021-02-01..2021-03-31",
        "--compare",
        "2021-06-01..2021-07-31",
    ]);
    ok(&o);
    // The count of each panel is that period's own.
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("2 panels: 22 / 23 incidents"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let img = image::open(&out).unwrap().to_rgba8();
    assert!(
        (996..=1000).contains(&img.width()) && img.height() == 400,
        "{}x{}",
        img.width(),
        img.height()
    );
    // The panels share the view: the basemap is the same in both (pixels away from incidents,
    // legends and captions), and the incidents differ.
    let half = img.width() / 2;
    let same_basemap = (0..40)
        .map(|k| (20 + k * 11, 380))
        .filter(|&(x, y)| img.get_pixel(x, y) == img.get_pixel(x + half + 2, y))
        .count();
    assert!(same_basemap >= 30, "{same_basemap} of 40");
    let differ = (0..img.height())
        .flat_map(|y| (0..half - 4).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y) != img.get_pixel(x + half + 2, y))
        .count();
    assert!(differ > 500, "{differ}");
    // Usage errors: one period, or with a series.
    let o = export(&[
        data.to_str().unwrap(),
        "--out",
        "x.png",
        "--compare",
        "2021-02-01..2021-03-31",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = export(&[
        data.to_str().unwrap(),
        "--out",
        "x.png",
        "--compare",
        "2021-02-01..2021-03-31",
        "--compare",
        "2021-06-01..2021-07-31",
        "--every",
        "month",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_export_dialog_offers_small_multiples() {
    let mut h = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), bundled_app());
    h.run_steps(4);
    let dir = tempfile::tempdir().unwrap();
    let from_window = dir.path().join("window.png");
    {
        let app = h.state_mut();
        app.export.show = true;
        app.export.preset = 1; // 1920 × 1080
        app.export.compare = "2021-02-01..2021-03-31\n2021-06-01..2021-07-31".into();
        app.export.path = from_window.to_string_lossy().into_owned();
    }
    h.run_steps(2);
    h.get_by_label("Export").click();
    h.step();
    wait_for_export(&mut h);
    h.get_by_label_contains("Wrote ");
    let Some(incident_map::export::Viewport::Center { lat, lon, zoom }) = h.state().map.viewport()
    else {
        panic!("the map was drawn")
    };
    let (center, zoom) = (format!("{lat},{lon}"), zoom.to_string());
    let from_cli = dir.path().join("cli.png");
    let d = data();
    ok(&export(&[
        d.to_str().unwrap(),
        "--out",
        from_cli.to_str().unwrap(),
        "--center",
        &center,
        "--zoom",
        &zoom,
        "--width",
        "1920",
        "--height",
        "1080",
        "--basemap",
        "offline",
        "--compare",
        "2021-02-01..2021-03-31",
        "--compare",
        "2021-06-01..2021-07-31",
    ]));
    assert_eq!(
        std::fs::read(&from_window).unwrap(),
        std::fs::read(&from_cli).unwrap(),
        "the dialog and the command line give the same small multiples"
    );
}

#[test]
fn the_density_scale_covers_every_date() {
    use incident_map::density::{Hexbin, ramp};
    use incident_map::projection::{merc_x, merc_y, world_px};
    let tmp = tempfile::tempdir().unwrap();
    let data = data();
    // One day with a single incident (2021-02-15, Erbil airport), drawn as density.
    let out = tmp.path().join("one_day.png");
    ok(&export(&[
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--basemap",
        "offline",
        "--width",
        "400",
        "--height",
        "300",
        "--center",
        "36.2376,43.9632",
        "--zoom",
        "8",
        "--from",
        "2021-02-15",
        "--to",
        "2021-02-15",
        "--layer",
        "hexbin",
        "--no-legend",
        "--no-caption",
    ]));
    let img = image::open(&out).unwrap().to_rgba8();
    // Its hexagon's colour is a count of 1 on the scale of every date (light), not the top of
    // a scale of its own (the darkest).
    let store =
        incident_map::import::load_paths(std::slice::from_ref(&data), &Default::default()).store;
    let all: Vec<u32> = (0..store.len() as u32).collect();
    let max = Hexbin::of(&store, &all, 8).max();
    assert!(max > 1);
    let (x, y) = (
        200.0 + (merc_x(43.9632) - merc_x(43.9632)) * world_px(8.0),
        150.0 + (merc_y(36.2376) - merc_y(36.2376)) * world_px(8.0),
    );
    let p = img.get_pixel(x as u32, y as u32);
    let expect = ramp(1, max);
    let darkest = ramp(max, max);
    let dist = |c: [u8; 3]| {
        (p[0] as i32 - c[0] as i32).abs()
            + (p[1] as i32 - c[1] as i32).abs()
            + (p[2] as i32 - c[2] as i32).abs()
    };
    assert!(dist(expect) < 60, "{p:?} vs {expect:?}");
    assert!(dist(darkest) > 150, "{p:?}");
}

/// The heat map's scale too covers every date: one incident on its own day is drawn light, as
/// one of the several at its place over the year, not as the top of a scale of its own.
#[test]
fn the_heat_map_scale_covers_every_date() {
    use incident_map::density::ramp_at;
    let tmp = tempfile::tempdir().unwrap();
    let data = data();
    let shot = |name: &str, dates: &[&str]| {
        let out = tmp.path().join(name);
        let mut args = vec![
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--basemap",
            "offline",
            "--width",
            "400",
            "--height",
            "300",
            "--center",
            "36.2376,43.9632",
            "--zoom",
            "8",
            "--layer",
            "heat",
            "--no-legend",
            "--no-caption",
        ];
        args.extend_from_slice(dates);
        ok(&export(&args));
        image::open(&out).unwrap().to_rgba8()
    };
    // 2021-02-15: the rockets on Erbil airport, its only incident that day.
    let one_day = shot(
        "one_day.png",
        &["--from", "2021-02-15", "--to", "2021-02-15"],
    );
    let every_day = shot("every_day.png", &[]);
    let (p, q) = (one_day.get_pixel(200, 150), every_day.get_pixel(200, 150));
    let land = incident_map::view::basemap::LAND;
    // The ramp's darkest, as drawn over land (215/255 opaque).
    let [r, g, b] = ramp_at(1.0);
    let mix = |c: u8, l: u8| (c as f32 * 215.0 / 255.0 + l as f32 * 40.0 / 255.0) as i32;
    let darkest = [mix(r, land.r()), mix(g, land.g()), mix(b, land.b())];
    let dist = |p: &image::Rgba<u8>, c: [i32; 3]| {
        (p[0] as i32 - c[0]).abs() + (p[1] as i32 - c[1]).abs() + (p[2] as i32 - c[2]).abs()
    };
    assert!(dist(p, darkest) > 150, "one day drawn as the top: {p:?}");
    let lightness = |p: &image::Rgba<u8>| p[0] as i32 + p[1] as i32 + p[2] as i32;
    assert!(
        lightness(p) > lightness(q) + 60,
        "one incident lighter than the year's: {p:?} vs {q:?}"
    );
    assert_ne!(p.0, [land.r(), land.g(), land.b(), 255], "drawn at all");
}

#[test]
fn allow_empty_frames_the_filters_own_area_else_the_data_else_the_default_view() {
    use incident_map::export::Spec;
    use incident_map::query::{Filter, Near};
    let dir = tempfile::tempdir().unwrap();
    // An area in the Syrian desert where the bundled data has no incident.
    let area = dir.path().join("area.geojson");
    std::fs::write(
        &area,
        r#"{"type":"Polygon","coordinates":[[[38.0,34.0],[39.0,34.0],[39.0,35.0],[38.0,35.0],[38.0,34.0]]]}"#,
    )
    .unwrap();
    let d = data();
    for flags in [
        vec!["--within", area.to_str().unwrap()],
        vec!["--near", "34.5,38.5", "--radius", "20"],
        vec!["--bbox", "38,34,39,35"],
        vec!["--type", "No such type"],
    ] {
        let out = dir.path().join("empty.png");
        let mut args = vec![
            d.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--basemap",
            "offline",
            "--width",
            "300",
            "--height",
            "200",
        ];
        args.extend(&flags);
        // Without --allow-empty: refused, nothing written.
        let o = export(&args);
        assert_eq!(o.status.code(), Some(1), "{flags:?}");
        assert!(!out.exists());
        args.push("--allow-empty");
        ok(&export(&args));
        assert!(out.exists(), "{flags:?}");
        std::fs::remove_file(&out).unwrap();
    }
    // Where the map is: the filter's area, else the data's extent, else the default view.
    let r = incident_map::import::load_paths(&[data()], &Default::default());
    let store = &r.store;
    let none = incident_map::query::Selection::default();
    let centre = |f: Filter, s: &incident_map::store::Store| {
        let spec = Spec {
            filter: f,
            width: 600,
            height: 400,
            ..Default::default()
        };
        spec.resolve(s, &none).unwrap()
    };
    let within = incident_map::area::Area::read(&area).unwrap();
    let (lon, lat, zoom) = centre(
        Filter {
            within: Some(within),
            ..Default::default()
        },
        store,
    );
    assert!(
        (lon - 38.5).abs() < 0.05 && (lat - 34.5).abs() < 0.1,
        "{lon},{lat}"
    );
    assert!(zoom > 6.0, "a 1° box fills the map: zoom {zoom}");
    let (lon, lat, zoom) = centre(
        Filter {
            near: Some(Near {
                lat: 34.5,
                lon: 38.5,
                km: 20.0,
            }),
            ..Default::default()
        },
        store,
    );
    assert!(
        (lon - 38.5).abs() < 0.01 && (lat - 34.5).abs() < 0.01,
        "{lon},{lat}"
    );
    assert!(zoom > 8.0, "a 20 km circle fills the map: zoom {zoom}");
    // No area: the data's extent (Iraq and around).
    let (lon, lat, _) = centre(Filter::default(), store);
    let b = store.bbox().unwrap();
    assert!((lon - (b[0] + b[2]) / 2.0).abs() < 0.5, "{lon}");
    assert!(lat > b[1] && lat < b[3], "{lat}");
    // No data either: the default view.
    let empty = incident_map::store::Store::default();
    let (lon, lat, zoom) = centre(Filter::default(), &empty);
    let (dl, dt) = incident_map::view::viewport::DEFAULT_CENTER;
    assert_eq!(
        (lon, lat, zoom),
        (dl, dt, incident_map::view::viewport::DEFAULT_ZOOM)
    );
}

/// Types `text` into the dialog's file field (replacing what is there).
fn set_file_field(h: &mut egui_kittest::Harness<'static, App>, text: &str) {
    let field = |h: &egui_kittest::Harness<'static, App>| {
        h.query_all_by_label("File")
            .find(|n| n.accesskit_node().role() == egui::accesskit::Role::TextInput)
            .expect("the file field")
            .click()
    };
    field(h);
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run();
    h.query_all_by_label("File")
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::TextInput)
        .expect("the file field")
        .type_text(text);
    h.run();
}

#[test]
fn the_export_dialog_writes_vectors_and_prints_on_paper() {
    let mut h = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1280.0, 900.0))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), bundled_app());
    h.run_steps(4);
    let dir = tempfile::tempdir().unwrap();
    h.get_by_label("File").click();
    h.run();
    h.get_by_label("Export map…").click();
    h.run_steps(2);
    // PDF: the file name follows the format.
    h.get_by_label("Format").click();
    h.run();
    h.get_by_label("PDF (vectors, text as text)").click();
    h.run();
    assert!(
        h.state().export.path.ends_with(".pdf"),
        "{}",
        h.state().export.path
    );
    h.get_by_label("Paper").click();
    h.run();
    h.get_by_label("A4").click();
    h.run();
    h.get_by_label_contains("A4, vectors");
    let pdf = dir.path().join("window.pdf");
    set_file_field(&mut h, pdf.to_str().unwrap());
    h.get_by_label("Export").click();
    h.step();
    wait_for_export(&mut h);
    h.get_by_label_contains("Wrote ");
    let info = std::process::Command::new("pdfinfo")
        .arg(&pdf)
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.contains("841.9") && info.contains("595.2") && info.contains("(A4)"),
        "{info}"
    );
    let text = std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("Legend"));
    // PNG on the same paper at 100 dpi: the paper's pixels.
    h.get_by_label("Format").click();
    h.run();
    h.get_by_label("PNG (picture)").click();
    h.run();
    h.state_mut().export.print.dpi = 100;
    h.run();
    h.get_by_label_contains("A4 at 100 dpi: 1169 × 827 px");
    let png = dir.path().join("window.png");
    set_file_field(&mut h, png.to_str().unwrap());
    h.get_by_label("Export").click();
    h.step();
    wait_for_export(&mut h);
    assert_eq!(image::image_dimensions(&png).unwrap(), (1169, 827));
}
