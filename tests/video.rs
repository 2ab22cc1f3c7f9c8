//! Series as MP4 video: every file is read back with ffprobe (Debian's ffmpeg, installed by
//! .ci/deps.sh) and decoded with ffmpeg; sizes, frame counts, the profile, the colours of a
//! frame, the usage errors, and Cancel leaving no file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use incident_map::export::series::{SeriesSpec, write_series};
use incident_map::export::video::VideoSpec;
use incident_map::export::{ExportError, Exporter, Spec};
use incident_map::progress::Control;
use incident_map::source::{FETCH_LIMIT, Fetch};
use incident_map::view::offscreen::RendererChoice;
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

fn ok(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs an ffmpeg tool, or fails saying how to get it.
fn tool(name: &str, args: &[&str]) -> Output {
    Command::new(name).args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run {name} ({e}): install ffmpeg (Debian: apt-get install ffmpeg; .ci/deps.sh \
             does), the video tests read every MP4 back with it"
        )
    })
}

/// What ffprobe says of the first video stream, counting the frames by decoding them.
fn probe(mp4: &Path) -> serde_json::Value {
    let o = tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height,nb_read_frames,profile,pix_fmt",
            "-of",
            "json",
            mp4.to_str().unwrap(),
        ],
    );
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "ffprobe: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["streams"][0].clone()
}

/// ffmpeg decodes the whole file without a word of complaint.
fn decodes_cleanly(mp4: &Path) {
    let o = tool(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-i",
            mp4.to_str().unwrap(),
            "-f",
            "null",
            "-",
        ],
    );
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The top-level boxes of an MP4, in order.
fn boxes(mp4: &Path) -> Vec<String> {
    let b = std::fs::read(mp4).unwrap();
    let (mut at, mut v) = (0, Vec::new());
    while at + 8 <= b.len() {
        let size = u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        v.push(String::from_utf8_lossy(&b[at + 4..at + 8]).into_owned());
        assert!(size >= 8, "a box of {size} bytes");
        at += size;
    }
    assert_eq!(at, b.len(), "the boxes cover the file");
    v
}

fn check_stream(s: &serde_json::Value, (w, h): (u64, u64), frames: &str) {
    assert_eq!(s["codec_name"], "h264", "{s}");
    assert_eq!(s["profile"], "Constrained Baseline", "{s}");
    assert_eq!(s["pix_fmt"], "yuv420p", "{s}");
    assert_eq!(
        (s["width"].as_u64(), s["height"].as_u64()),
        (Some(w), Some(h))
    );
    assert_eq!(s["nb_read_frames"], frames, "{s}");
}

#[test]
fn a_series_as_mp4_plays_with_its_frames_and_hold() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = dir.path().join("june.mp4");
    let d = data();
    // 7 daily frames, at 4 a second with a 1.5 s hold: 7 + 6 frames. 360 rows are not a
    // multiple of 16: coded as 368, cropped back.
    let r = export(&[
        d.to_str().unwrap(),
        "--basemap",
        "offline",
        "--width",
        "640",
        "--height",
        "360",
        "--from",
        "2021-06-01",
        "--to",
        "2021-06-07",
        "--every",
        "day",
        "--video",
        mp4.to_str().unwrap(),
        "--fps",
        "4",
        "--hold",
        "1.5",
    ]);
    ok(&r);
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("7 frames"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    check_stream(&probe(&mp4), (640, 360), "13");
    decodes_cleanly(&mp4);
    assert_eq!(boxes(&mp4), ["ftyp", "moov", "mdat"], "moov before mdat");
    // Only the video: no PNG frames, no index, no temporary file.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["june.mp4"]);
}

/// Mean of each colour channel of a PNG, 0–255.
fn channel_means(p: &Path) -> [f64; 3] {
    let img = image::open(p).unwrap().to_rgb8();
    let mut sum = [0f64; 3];
    for px in img.pixels() {
        for c in 0..3 {
            sum[c] += f64::from(px[c]);
        }
    }
    let n = f64::from(img.width() * img.height());
    sum.map(|s| s / n)
}

#[test]
fn odd_sizes_grow_by_a_pixel_and_the_colours_stay() {
    let dir = tempfile::tempdir().unwrap();
    let (out, mp4) = (dir.path().join("m.png"), dir.path().join("m.mp4"));
    let d = data();
    ok(&export(&[
        d.to_str().unwrap(),
        "--basemap",
        "offline",
        "--width",
        "301",
        "--height",
        "201",
        "--from",
        "2021-06-04",
        "--to",
        "2021-06-06",
        "--every",
        "day",
        "--out",
        out.to_str().unwrap(),
        "--video",
        mp4.to_str().unwrap(),
        "--hold",
        "0",
    ]));
    check_stream(&probe(&mp4), (302, 202), "3");
    decodes_cleanly(&mp4);
    // The last video frame looks like the last PNG frame: no channel swapped, no tint.
    let last = dir.path().join("last.png");
    let o = tool(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-i",
            mp4.to_str().unwrap(),
            "-vf",
            "select=eq(n\\,2),crop=301:201:0:0",
            "-frames:v",
            "1",
            last.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (a, b) = (
        channel_means(&last),
        channel_means(&dir.path().join("m_0003.png")),
    );
    for c in 0..3 {
        assert!(
            (a[c] - b[c]).abs() < 2.0,
            "channel {c}: video {a:?}, PNG {b:?}"
        );
    }
}

#[test]
fn video_usage_errors_exit_2_and_say_why() {
    let d = data();
    let dir = tempfile::tempdir().unwrap();
    let mp4 = dir.path().join("v.mp4");
    let base = [d.to_str().unwrap(), "--video", mp4.to_str().unwrap()];
    let cases: [(&[&str], &str); 5] = [
        (&[], "--every"),
        (&["--every", "day", "--fps", "0"], "--fps"),
        (&["--every", "day", "--hold", "61"], "--hold"),
        (
            &["--every", "day", "--width", "4000", "--height", "3000"],
            "3840×2160",
        ),
        (&["--every", "day", "--hold", "-1"], "--hold"),
    ];
    for (extra, says) in cases {
        let mut args = base.to_vec();
        args.extend(extra);
        let o = export(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(says), "{extra:?} should mention {says}: {err}");
    }
    // --fps without --video is a mistake too.
    let o = export(&[d.to_str().unwrap(), "--every", "day", "--fps", "5"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!mp4.exists());
}

#[test]
fn cancel_leaves_no_video() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = dir.path().join("c.mp4");
    std::fs::write(&mp4, b"the previous file").unwrap();
    let ctl = Arc::new(Control::default());
    let source = incident_map::source::open(&[data()], &Default::default(), &ctl).unwrap();
    let inc = source
        .incidents(&Default::default(), &Fetch::up_to(FETCH_LIMIT), &ctl)
        .unwrap();
    let mut x = Exporter::new(&RendererChoice::from_env()).unwrap();
    let spec = Spec {
        width: 320,
        height: 240,
        base: BaseLayer::Offline,
        ..Spec::default()
    };
    let series = SeriesSpec {
        every: incident_map::date::Every::Day,
        cumulative: false,
        out: None,
        gif: None,
        video: Some(VideoSpec::new(mp4.clone())),
    };
    // Cancel once three frames are written.
    let watcher = {
        let ctl = ctl.clone();
        std::thread::spawn(move || {
            while ctl.done.load(Ordering::Relaxed) < 3 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            ctl.cancel();
        })
    };
    let r = write_series(&mut x, &inc.store, &inc.index(), &spec, &series, &ctl);
    watcher.join().unwrap();
    assert!(matches!(r, Err(ExportError::Cancelled)), "{r:?}");
    assert_eq!(std::fs::read(&mp4).unwrap(), b"the previous file");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file"
    );
}

/// The window on the bundled data, offline basemap, loaded.
fn bundled_app() -> incident_map::app::App {
    incident_map::app::App::loaded(
        incident_map::app::WindowOptions {
            files: vec![data()],
            base: Some(BaseLayer::Offline),
            ..Default::default()
        },
        Some(incident_map::app::Saved::default()),
    )
}

type Harness = egui_kittest::Harness<'static, incident_map::app::App>;

/// Steps the window until its export worker is done.
fn wait_for_export(h: &mut Harness) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while h.state().export.busy() {
        assert!(std::time::Instant::now() < end, "export did not finish");
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    h.run_steps(2);
}

/// Export dialog: a frame a day as MP4 video to `to`, started.
fn start_video_from_the_dialog(h: &mut Harness, to: &Path) {
    use egui_kittest::kittest::Queryable;
    h.state_mut().export.show = true;
    h.run_steps(2);
    h.get_by_label("Series").click();
    h.run();
    h.get_by_label("A frame a day").click();
    h.run();
    assert_eq!(
        h.state().export.path,
        "incident-map.mp4",
        "the file name follows the output (an MP4 unless told)"
    );
    h.get_by_label("MP4 video").click();
    h.run();
    {
        let f = &mut h.state_mut().export;
        f.path = to.display().to_string();
        f.series.fps = 4;
        f.series.hold = 1.0;
    }
    h.run_steps(2);
    h.get_by_label("Export").click();
    h.step();
    assert!(h.state().export.busy(), "the export runs on a worker");
}

#[test]
fn the_export_dialog_writes_the_command_lines_video_and_cancels() {
    use egui_kittest::kittest::Queryable;
    let day = |s| incident_map::date::parse_ymd(s).ok();
    let mut h = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut incident_map::app::App| app.ui(ui), {
            let mut app = bundled_app();
            app.set_dates(day("2021-06-01"), day("2021-06-05"));
            app
        });
    h.run_steps(4);
    let dir = tempfile::tempdir().unwrap();
    let from_window = dir.path().join("window.mp4");
    start_video_from_the_dialog(&mut h, &from_window);
    wait_for_export(&mut h);
    h.get_by_label_contains("Wrote 5 frames");
    // 5 days at 4 frames a second, held 1 s: 9 frames of the dialog's 1600 × 1000.
    check_stream(&probe(&from_window), (1600, 1000), "9");
    decodes_cleanly(&from_window);
    // The command line with the window's viewport gives the same bytes.
    let Some(incident_map::export::Viewport::Center { lat, lon, zoom }) = h.state().map.viewport()
    else {
        panic!("the map was drawn")
    };
    let (center, zoom) = (format!("{lat},{lon}"), zoom.to_string());
    let from_cli = dir.path().join("cli.mp4");
    let d = data();
    ok(&export(&[
        d.to_str().unwrap(),
        "--basemap",
        "offline",
        "--center",
        &center,
        "--zoom",
        &zoom,
        "--from",
        "2021-06-01",
        "--to",
        "2021-06-05",
        "--every",
        "day",
        "--video",
        from_cli.to_str().unwrap(),
        "--fps",
        "4",
        "--hold",
        "1",
    ]));
    assert!(
        std::fs::read(&from_window).unwrap() == std::fs::read(&from_cli).unwrap(),
        "the dialog and the command line give the same video"
    );
    // A year of days, cancelled after the first frames: no file.
    h.state_mut().set_dates(None, None);
    h.run_steps(2);
    let cancelled = dir.path().join("cancelled.mp4");
    h.state_mut().export.path = cancelled.display().to_string();
    h.run_steps(2);
    h.get_by_label("Export").click();
    h.step();
    while h
        .state()
        .export
        .job
        .as_ref()
        .is_some_and(|j| j.control.done.load(Ordering::Relaxed) < 2)
    {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    h.get_by_label("Cancel").click();
    wait_for_export(&mut h);
    h.get_by_label("Export cancelled");
    assert!(!cancelled.exists(), "a cancelled video leaves no file");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}: no temporary file");
}
