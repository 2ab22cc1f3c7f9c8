//! Pixel snapshots of the window on the offline basemap, rendered with wgpu on Mesa's software
//! renderer (no display needed). Update with `UPDATE_SNAPSHOTS=1 cargo test --test snapshot`.

use egui_kittest::{Harness, SnapshotOptions};
use incident_map::app::{App, Saved, WindowOptions};
use incident_map::view::tiles::BaseLayer;

fn app_harness(size: egui::Vec2) -> Harness<'static, App> {
    let files =
        vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson")];
    let mut h = Harness::builder().with_size(size).wgpu().build_ui_state(
        |ui, app: &mut App| app.ui(ui),
        App::loaded(
            WindowOptions {
                files,
                base: Some(BaseLayer::Offline),
                ..Default::default()
            },
            Some(Saved::default()),
        ),
    );
    h.run_steps(5);
    settle_basemap(&mut h);
    h
}

/// Waits for the basemap's 1:10m rivers and lakes (the window loads them on a thread of their
/// own once the map is at their zoom) and draws again, so the picture does not depend on timing.
fn settle_basemap(h: &mut Harness<'static, App>) {
    incident_map::view::basemap::Basemap::shared().load_detail();
    h.run_steps(2);
}

fn options() -> SnapshotOptions {
    // Text anti-aliasing may differ by a few pixels between Mesa versions.
    SnapshotOptions::new().threshold(1.0).max_failed_pixels(400)
}

#[test]
fn main_window() {
    let mut h = app_harness(egui::vec2(1280.0, 800.0));
    h.snapshot_options("main_window", &options());
}

#[test]
fn selected_incident_and_narrow_dates() {
    let mut h = app_harness(egui::vec2(1280.0, 800.0));
    {
        let app = h.state_mut();
        app.set_dates(
            incident_map::date::parse_ymd("2021-06-01").ok(),
            incident_map::date::parse_ymd("2021-07-31").ok(),
        );
        app.refresh();
        let d = app.data.as_ref().unwrap();
        let i = (0..d.store.len())
            .find(|&i| d.store.date_string(i) == "2021-06-06")
            .unwrap();
        app.select(Some(i as u32));
    }
    h.run_steps(4);
    settle_basemap(&mut h);
    h.snapshot_options("selected_incident", &options());
}
