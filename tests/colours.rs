//! Types outside the designed classes get distinct colours from a categorical palette, in order
//! of frequency in the whole data, the same under any filter and on every load — for a
//! PostGIS table too, whatever rows a question fetched first.

#[allow(dead_code)] // the harness serves every database test; this file uses part of it
mod common {
    pub mod kit;
    pub mod pg;
}

use std::path::PathBuf;
use std::sync::Arc;

use incident_map::import::load_paths;
use incident_map::query::Filter;
use incident_map::style::{CATEGORICAL, Rgb, TypeColours};
use palette::color_difference::Ciede2000;
use palette::{IntoColor, Lab, Srgb};

fn lab(c: Rgb) -> Lab {
    Srgb::new(c[0], c[1], c[2])
        .into_format::<f32>()
        .into_linear()
        .into_color()
}

fn delta_e(a: Rgb, b: Rgb) -> f32 {
    lab(a).difference(lab(b))
}

/// The la-riots types that were four similar greens and tans, and four more, with falling counts.
const TYPES: [&str; 8] = [
    "Homicide",
    "Death",
    "Not riot-related",
    "Officer-involved shooting",
    "Looting",
    "Arson",
    "Assault",
    "Curfew violation",
];

fn csv_with_types(dir: &tempfile::TempDir) -> PathBuf {
    let mut text = String::from("lat,lon,date,type,source\n");
    for (k, t) in TYPES.iter().enumerate() {
        for n in 0..(20 - 2 * k) {
            text.push_str(&format!(
                "34.{:02},-118.{:02},1992-04-{:02},{t},LA Times 1992-05-01\n",
                k * 7 + n % 5,
                n,
                29 + n % 2
            ));
        }
    }
    let p = dir.path().join("riots.csv");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_palette_is_distinguishable_and_apart_from_the_designed_colours() {
    for (i, &a) in CATEGORICAL.iter().enumerate() {
        for &b in &CATEGORICAL[i + 1..] {
            assert!(delta_e(a, b) >= 20.0, "{a:?} vs {b:?}: {}", delta_e(a, b));
        }
        for designed in [
            "Drone attack",
            "Rocket attack",
            "IED",
            "Armed clash",
            "Interception",
        ] {
            let d = incident_map::style::style(designed).0;
            assert!(delta_e(a, d) >= 10.0, "{a:?} vs {designed}");
        }
    }
}

#[test]
fn the_first_eight_other_types_are_pairwise_distinguishable_and_stable() {
    let dir = tempfile::tempdir().unwrap();
    let file = csv_with_types(&dir);
    let store = load_paths(std::slice::from_ref(&file), &Default::default()).store;
    assert_eq!(store.len(), (0..8).map(|k| 20 - 2 * k).sum::<usize>());
    let colour = |s: &incident_map::store::Store, t: &str| s.colours.style(t).0;
    let got: Vec<Rgb> = TYPES.iter().map(|t| colour(&store, t)).collect();
    for i in 0..got.len() {
        for j in i + 1..got.len() {
            let d = delta_e(got[i], got[j]);
            assert!(d >= 20.0, "{} vs {}: ΔE00 {d}", TYPES[i], TYPES[j]);
        }
    }
    // In order of frequency: the most frequent type has the palette's first colour.
    assert_eq!(got[0], CATEGORICAL[0]);
    assert_eq!(got[7], CATEGORICAL[7]);
    // The same data loaded again gives the same colours.
    let again = load_paths(&[file], &Default::default()).store;
    assert_eq!(again.colours, store.colours);
    // A filter leaving only the rarer types changes no colour: the legend the window and the
    // exports draw uses the data's colours.
    let filter = Filter {
        types: vec!["Arson".into(), "Assault".into()],
        ..Default::default()
    };
    let sel = store.select(&filter).unwrap();
    assert!(!sel.indices.is_empty() && sel.indices.len() < store.len());
    let legend = incident_map::view::overlay::legend_entries(&store, &sel.type_counts, |_| false);
    let arson = legend
        .iter()
        .find(|e| e.name == "Arson")
        .expect("in the legend");
    let [r, g, b] = colour(&store, "Arson");
    assert_eq!(arson.style.0, egui::Color32::from_rgb(r, g, b));
    // Colours do not depend on the order types first appear in: only on their counts.
    assert_eq!(
        TypeColours::from_counts([("B", 3), ("A", 5)]),
        TypeColours::from_counts([("A", 5), ("B", 3)])
    );
}

/// A table's colours are those of its whole data: the incidents fetched for a filter leaving
/// only rare types, and the window asking the table view by view, colour every type as the file
/// does (not by the few rows fetched).
#[test]
fn a_table_colours_types_by_its_whole_data() {
    use incident_map::progress::Control;
    use incident_map::source::{Fetch, Source};

    let dir = tempfile::tempdir().unwrap();
    let file = csv_with_types(&dir);
    let of_file = load_paths(std::slice::from_ref(&file), &Default::default())
        .store
        .colours;
    let pg = common::pg::Pg::start();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_incident-map"))
        .args(["load", file.to_str().unwrap(), "--into", &pg.url()])
        .args(["--table", "riots"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rare = Filter {
        types: vec!["Arson".into(), "Assault".into()],
        ..Default::default()
    };
    // A fetch (the command line's and the export dialog's way) in a fresh session.
    let url = pg.table_url("riots");
    let src: Arc<dyn Source> = incident_map::source::open(
        &[url.clone().into()],
        &Default::default(),
        &Control::default(),
    )
    .unwrap();
    let inc = src
        .incidents(&rare, &Fetch::up_to(1000), &Control::default())
        .unwrap();
    assert!(inc.store.len() < 30, "only the rare types fetched");
    assert_eq!(inc.store.colours, of_file);
    // The window asking view by view, filtered to the rare types from the start.
    let mut h = common::kit::table_window(&url, rare);
    let held = |h: &egui_kittest::Harness<'static, incident_map::app::App>| {
        let s = h.state();
        s.remote.as_ref()?.agg.as_ref()?;
        Some(s.data.as_ref()?.store.colours.clone())
    };
    let same = |h: &_| held(h).is_some_and(|c| c == of_file);
    common::kit::step_until(&mut h, 20, "the file's colours", same, held);
    // The rows the window holds are the rare types' only, yet coloured as in the file.
    let s = h.state();
    let store = &s.data.as_ref().unwrap().store;
    assert!(store.len() < 30);
    assert_eq!(store.colours.style("Arson"), of_file.style("Arson"));
}
