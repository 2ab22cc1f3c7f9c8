//! SVG and PDF exports are real vectors drawn by the PNG's drawing path: rendered back with
//! standard tools (librsvg's `rsvg-convert`, poppler's `pdftoppm`) they match the PNG of the same
//! view; their text is text (`<text>`, and `pdftotext` finds it); each layer is a named group;
//! tiles are embedded images clipped to the map; nothing is a picture of the whole map.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use incident_map::view::tiles::BaseLayer;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_incident-map")
}

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson")
}

/// Runs a tool the test needs (installed by `.ci/deps.sh`), failing with what to install.
fn tool(name: &str, package: &str, args: &[&str]) -> std::process::Output {
    let out = Command::new(name).args(args).output().unwrap_or_else(|e| {
        panic!("{name} is needed ({e}): apt-get install {package} (as .ci/deps.sh does)")
    });
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The share of pixels whose colour differs by more than 64 in some channel, and the mean
/// absolute difference per channel.
fn difference(a: &Path, b: &Path) -> (f64, f64) {
    let a = image::open(a).unwrap().to_rgb8();
    let b = image::open(b).unwrap().to_rgb8();
    // Renderers may round a page's last pixel differently.
    let (w, h) = (a.width().min(b.width()), a.height().min(b.height()));
    assert!(
        a.width().abs_diff(b.width()) <= 1 && a.height().abs_diff(b.height()) <= 1,
        "same size: {:?} {:?}",
        a.dimensions(),
        b.dimensions()
    );
    let a = image::imageops::crop_imm(&a, 0, 0, w, h).to_image();
    let b = image::imageops::crop_imm(&b, 0, 0, w, h).to_image();
    let (mut far, mut sum) = (0usize, 0u64);
    for (p, q) in a.pixels().zip(b.pixels()) {
        let d: Vec<u32> = (0..3).map(|k| p[k].abs_diff(q[k]) as u32).collect();
        sum += d.iter().map(|&v| v as u64).sum::<u64>();
        if d.iter().any(|&v| v > 64) {
            far += 1;
        }
    }
    let n = (w * h) as f64;
    eprintln!(
        "{far} of {n} pixels differ by more than 64, mean {}",
        sum as f64 / (3.0 * n)
    );
    (far as f64 / n, sum as f64 / (3.0 * n))
}

/// The PDF drawn by poppler at `dpi` (its first page), beside it.
fn pdf_to_png(pdf: &Path, dpi: u32) -> PathBuf {
    let stem = pdf.with_extension("from-pdf");
    let dpi = dpi.to_string();
    tool(
        "pdftoppm",
        "poppler-utils",
        &[
            "-png",
            "-r",
            &dpi,
            "-singlefile",
            pdf.to_str().unwrap(),
            stem.to_str().unwrap(),
        ],
    );
    stem.with_extension("png")
}

/// The SVG drawn by librsvg on white, beside it.
fn svg_to_png(svg: &Path) -> PathBuf {
    let out = svg.with_extension("from-svg.png");
    tool(
        "rsvg-convert",
        "librsvg2-bin",
        &[
            "-b",
            "white",
            svg.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    out
}

fn export(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    let o = Command::new(bin())
        .args([
            "export",
            "--width",
            "900",
            "--height",
            "600",
            "--basemap",
            "offline",
        ])
        .args(["--title", "Attacks on US interests in Iraq, 2021", "--out"])
        .arg(&out)
        .arg(bundled())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

#[test]
fn svg_and_pdf_are_vectors_that_look_like_the_png() {
    let dir = tempfile::tempdir().unwrap();
    let png = export(dir.path(), "map.png");
    let svg = export(dir.path(), "map.svg");
    let pdf = export(dir.path(), "map.pdf");

    // The SVG: text as text, layers as named groups, no raster picture of the map.
    let text = std::fs::read_to_string(&svg).unwrap();
    for layer in [
        "basemap",
        "links",
        "incidents",
        "scale bar",
        "caption",
        "legend",
        "attribution",
    ] {
        assert!(
            text.contains(&format!("inkscape:label=\"{layer}\"")),
            "layer {layer} is a group"
        );
    }
    assert!(text.contains("inkscape:groupmode=\"layer\""));
    for words in [
        "Legend",
        "Rocket attack  19",
        "Attacks on US interests in Iraq, 2021",
        "Baghdad",
    ] {
        assert!(
            text.contains(&format!(">{words}</text>")),
            "{words} is a <text>"
        );
    }
    assert!(
        !text.contains("<image"),
        "the offline map has no raster image"
    );
    assert!(text.matches("<circle").count() > 20 && text.matches("<polyline").count() > 40);
    // Drawn by librsvg, it is the PNG (text is set in whatever font the system has: Ubuntu
    // Light is egui's own, so small differences sit in the letters).
    let (far, mean) = difference(&png, &svg_to_png(&svg));
    assert!(
        far < 0.04 && mean < 6.0,
        "SVG vs PNG: {far:.4} far, mean {mean:.2}"
    );

    // The PDF: the same, with the font embedded, so its text is found and it draws alike.
    let fonts = tool("pdffonts", "poppler-utils", &[pdf.to_str().unwrap()]);
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    assert!(
        fonts.contains("Ubuntu-Light") && fonts.contains(" yes "),
        "{fonts}"
    );
    let images = tool(
        "pdfimages",
        "poppler-utils",
        &["-list", pdf.to_str().unwrap()],
    );
    assert_eq!(
        String::from_utf8_lossy(&images.stdout).lines().count(),
        2,
        "no raster image in the PDF (only pdfimages' header)"
    );
    let words = tool("pdftotext", "poppler-utils", &[pdf.to_str().unwrap(), "-"]);
    let words = String::from_utf8_lossy(&words.stdout);
    for w in [
        "Legend",
        "IED 47",
        "Rocket attack 19",
        "13 disputed (sources disagree)",
        "Attacks on US interests in Iraq, 2021",
        "83 incidents",
        "Natural Earth",
    ] {
        assert!(words.contains(w), "pdftotext finds {w:?} in:\n{words}");
    }
    let (far, mean) = difference(&png, &pdf_to_png(&pdf, 72));
    assert!(
        far < 0.025 && mean < 4.0,
        "PDF vs PNG: {far:.4} far, mean {mean:.2}"
    );
}

/// A 256-px tile in four coloured quarters, so a tile drawn out of place shows.
fn quartered_tile() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(256, 256, |x, y| match (x < 128, y < 128) {
        (true, true) => image::Rgba([220, 40, 40, 255]),
        (false, true) => image::Rgba([40, 160, 60, 255]),
        (true, false) => image::Rgba([40, 60, 200, 255]),
        (false, false) => image::Rgba([230, 200, 40, 255]),
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn tiles_are_embedded_clipped_images_in_their_own_layer() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("quarters.pmtiles");
    let png = quartered_tile();
    let f = std::fs::File::create(&archive).unwrap();
    let mut w = pmtiles::PmTilesWriter::new(pmtiles::TileType::Png)
        .tile_compression(pmtiles::Compression::None)
        .max_zoom(3)
        .create(f)
        .unwrap();
    for z in 0..=3u8 {
        for x in 0..(1u32 << z) {
            for y in 0..(1u32 << z) {
                w.add_tile(pmtiles::TileCoord::new(z, x, y).unwrap(), &png)
                    .unwrap();
            }
        }
    }
    w.finalize().unwrap();
    let store = incident_map::import::load_paths(&[bundled()], &Default::default()).store;
    let index = incident_map::cluster::ClusterIndex::build(&store);
    let spec = incident_map::export::Spec {
        base: BaseLayer::PmTiles {
            path: archive,
            attribution: "Test archive".into(),
        },
        viewport: incident_map::export::Viewport::Center {
            lat: 20.0,
            lon: 20.0,
            zoom: 2.5,
        },
        width: 500,
        height: 360,
        tile_timeout: Duration::from_secs(15),
        ..Default::default()
    };
    let mut x = incident_map::export::Exporter::new(&Default::default()).unwrap();
    let raster = x
        .render(&store, &index, &spec, &Default::default())
        .unwrap();
    let png_path = dir.path().join("tiles.png");
    raster.image.save(&png_path).unwrap();
    let drawing = x
        .render_layers(&store, &index, &spec, &Default::default())
        .unwrap();
    let svg_path = dir.path().join("tiles.svg");
    incident_map::export::vector::write(&svg_path, &drawing).unwrap();
    let text = std::fs::read_to_string(&svg_path).unwrap();
    let tiles = text
        .split("inkscape:label=\"tiles\">")
        .nth(1)
        .expect("a tiles layer")
        .split("inkscape:groupmode=\"layer\"")
        .next()
        .unwrap();
    assert!(tiles.matches("<image").count() >= 4, "tiles are images");
    assert!(tiles.contains("clip-path=\"url(#c"), "clipped to the map");
    assert!(text.contains(">Test archive"), "the attribution is text");
    let (far, mean) = difference(&png_path, &svg_to_png(&svg_path));
    assert!(
        far < 0.04 && mean < 6.0,
        "SVG vs PNG: {far:.4} far, mean {mean:.2}"
    );
}

fn export_args(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let o = Command::new(bin())
        .args(["export", "--basemap", "offline", "--title", "Print test"])
        .args(args)
        .arg("--out")
        .arg(&out)
        .arg(bundled())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

#[test]
fn print_sizes_give_the_paper_in_pixels_and_in_pdf_points() {
    let dir = tempfile::tempdir().unwrap();
    // A4 at 150 dpi: 1240 × 1754 pixels; landscape turns it.
    let png = export_args(dir.path(), "a4.png", &["--paper", "A4", "--dpi", "150"]);
    assert_eq!(image::image_dimensions(&png).unwrap(), (1240, 1754));
    let png = export_args(
        dir.path(),
        "a4l.png",
        &["--paper", "a4", "--landscape", "--dpi", "150"],
    );
    assert_eq!(image::image_dimensions(&png).unwrap(), (1754, 1240));
    // The PDF's page is the paper.
    let pdf = export_args(dir.path(), "letter.pdf", &["--paper", "letter"]);
    let info = tool("pdfinfo", "poppler-utils", &[pdf.to_str().unwrap()]);
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("pts (letter)"), "{info}");
    // The SVG says its size in millimetres.
    let svg = export_args(dir.path(), "a3.svg", &["--paper", "A3", "--landscape"]);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("width=\"420mm\" height=\"297mm\""));
    // Bad usage is refused, naming the flags.
    for bad in [
        &["--paper", "B5"][..],
        &["--paper", "A4", "--width", "800"][..],
        &["--dpi", "300"][..],
        &["--paper", "A4", "--dpi", "5000"][..],
    ] {
        let o = Command::new(bin())
            .args(["export", "--basemap", "offline", "--out"])
            .arg(dir.path().join("bad.png"))
            .args(bad)
            .arg(bundled())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
    }
    // A0 at 600 dpi as PNG would be 558 million pixels: refused with the way out.
    let o = Command::new(bin())
        .args([
            "export",
            "--basemap",
            "offline",
            "--paper",
            "A0",
            "--dpi",
            "600",
        ])
        .arg("--out")
        .arg(dir.path().join("huge.png"))
        .arg(bundled())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("PDF or SVG"), "{err}");
    assert!(!dir.path().join("huge.png").exists());
}

/// A print larger than one tile of the renderer (4096 pixels) is drawn tile by tile into one
/// image: it matches the PDF of the same print drawn by poppler at the same resolution (a tile
/// out of place, or a seam, would not).
#[test]
fn a_print_beyond_one_tile_is_drawn_in_tiles_that_join() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--paper", "A1", "--dpi", "130"];
    let png = export_args(dir.path(), "a1.png", &args);
    let (w, h) = image::image_dimensions(&png).unwrap();
    assert_eq!((w, h), (3040, 4304));
    assert!(h > incident_map::view::offscreen::TILE);
    let pdf = export_args(dir.path(), "a1.pdf", &args);
    let (far, mean) = difference(&png, &pdf_to_png(&pdf, 130));
    assert!(
        far < 0.02 && mean < 3.0,
        "tiled PNG vs PDF: {far:.4} far, mean {mean:.2}"
    );
}

#[test]
fn small_multiples_give_a_pdf_page_per_panel_and_svg_groups() {
    let dir = tempfile::tempdir().unwrap();
    let periods = [
        "--compare",
        "2021-02-01..2021-03-31",
        "--compare",
        "2021-06-01..2021-07-31",
        "--compare",
        "2021-08-01..2021-09-30",
    ];
    let mut args = vec!["--width", "1500", "--height", "600"];
    args.extend(periods);
    let pdf = export_args(dir.path(), "panels.pdf", &args);
    let info = tool("pdfinfo", "poppler-utils", &[pdf.to_str().unwrap()]);
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("Pages:           3"), "{info}");
    // Each page is its panel: its own period in its caption.
    for (page, words) in [
        (1, "2021-02-01 – 2021-03-31"),
        (3, "2021-08-01 – 2021-09-30"),
    ] {
        let p = page.to_string();
        let text = tool(
            "pdftotext",
            "poppler-utils",
            &["-f", &p, "-l", &p, pdf.to_str().unwrap(), "-"],
        );
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains(words), "page {page}: {text}");
    }
    let svg = export_args(dir.path(), "panels.svg", &args);
    let text = std::fs::read_to_string(&svg).unwrap();
    for (k, label) in [(1, "2021-02-01..2021-03-31"), (3, "2021-08-01..2021-09-30")] {
        assert!(text.contains(&format!("id=\"panel-{k}\"")));
        assert!(text.contains(&format!("inkscape:label=\"{label}\"")));
        assert!(text.contains(&format!("id=\"p{k}-incidents\"")));
    }
    // Drawn back, the SVG is the PNG of the same small multiples.
    let png = export_args(dir.path(), "panels.png", &args);
    let (far, mean) = difference(&png, &svg_to_png(&svg));
    assert!(
        far < 0.04 && mean < 6.0,
        "SVG vs PNG: {far:.4} far, mean {mean:.2}"
    );
}

#[test]
fn a_series_as_pdf_has_a_page_a_frame_and_as_svg_a_file_a_frame() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--width",
        "600",
        "--height",
        "400",
        "--every",
        "month",
        "--from",
        "2021-04-01",
        "--to",
        "2021-06-30",
    ];
    let pdf = export_args(dir.path(), "months.pdf", &args);
    let info = tool("pdfinfo", "poppler-utils", &[pdf.to_str().unwrap()]);
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("Pages:           3"), "{info}");
    let page2 = tool(
        "pdftotext",
        "poppler-utils",
        &["-f", "2", "-l", "2", pdf.to_str().unwrap(), "-"],
    );
    assert!(String::from_utf8_lossy(&page2.stdout).contains("2021-05-01 – 2021-05-31"));
    let index = std::fs::read_to_string(dir.path().join("months_index.csv")).unwrap();
    assert!(index.contains("2021-05-01,2021-05-31,page 2,"), "{index}");
    export_args(dir.path(), "months.svg", &args);
    for k in 1..=3 {
        let f = dir.path().join(format!("months_{k:04}.svg"));
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            text.contains("inkscape:label=\"incidents\""),
            "{}",
            f.display()
        );
    }
    assert!(!dir.path().join("months_0004.svg").exists());
}

#[test]
fn rings_labels_and_arrows_are_vectors_in_the_tools_layer() {
    let dir = tempfile::tempdir().unwrap();
    let svg = export_args(
        dir.path(),
        "tools.svg",
        &[
            "--width",
            "900",
            "--height",
            "600",
            "--ring",
            "33.786,42.441,25,50",
            "--label",
            "33.2625,44.2344,Baghdad airport",
            "--arrow",
            "33.786,42.441,33.2625,44.2344",
        ],
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    let tools = text
        .split("inkscape:label=\"tools\">")
        .nth(1)
        .expect("a tools layer")
        .split("inkscape:groupmode=\"layer\"")
        .next()
        .unwrap();
    assert!(tools.contains(">Baghdad airport<"), "the label is text");
    assert!(
        tools.contains(">25 km · ") && tools.contains(">50 km · "),
        "ring labels"
    );
    // The rings are lines, not pictures.
    assert!(tools.matches("<polyline").count() + tools.matches("<polygon").count() >= 2);
    assert!(!tools.contains("<image"));
}
