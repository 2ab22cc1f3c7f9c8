//! Helpers shared by the window's kittest files.

use egui_kittest::Harness;
use incident_map::app::App;

/// A drag with the primary button from `from` to `to`, in ten steps.
pub fn drag(h: &mut Harness<'static, App>, from: egui::Pos2, to: egui::Pos2) {
    let button = egui::PointerButton::Primary;
    h.event(egui::Event::PointerMoved(from));
    h.run_steps(1);
    h.event(egui::Event::PointerButton {
        pos: from,
        button,
        pressed: true,
        modifiers: Default::default(),
    });
    h.run_steps(1);
    for k in 1..=10 {
        h.event(egui::Event::PointerMoved(
            from + (to - from) * (k as f32 / 10.0),
        ));
        h.run_steps(1);
    }
    h.event(egui::Event::PointerButton {
        pos: to,
        button,
        pressed: false,
        modifiers: Default::default(),
    });
    h.run_steps(2);
}

/// A 1280 × 800 window on the table at `url` under `filter`, asking it view by view (as it
/// asks a table too large to hold) whatever its size, on the offline basemap.
pub fn table_window(url: &str, filter: incident_map::query::Filter) -> Harness<'static, App> {
    table_window_holding(url, filter, 0)
}

/// [`table_window`], holding the table when it has at most `limit` incidents.
pub fn table_window_holding(
    url: &str,
    filter: incident_map::query::Filter,
    limit: usize,
) -> Harness<'static, App> {
    let app = App::new(
        &egui::Context::default(),
        incident_map::app::WindowOptions {
            files: vec![url.into()],
            base: Some(incident_map::view::tiles::BaseLayer::Offline),
            resident_limit: Some(limit),
            filter,
            ..Default::default()
        },
        Some(incident_map::app::Saved::default()),
    );
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app)
}

/// Steps the window until `done` holds; fails after `secs` with `what` and `state` of it.
/// Returns how long it took.
pub fn step_until<T: std::fmt::Debug>(
    h: &mut Harness<'static, App>,
    secs: u64,
    what: &str,
    done: impl Fn(&Harness<'static, App>) -> bool,
    state: impl Fn(&Harness<'static, App>) -> T,
) -> std::time::Duration {
    let t = std::time::Instant::now();
    while !done(h) {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(secs),
            "{what}: not within {secs} s: {:?}",
            state(h)
        );
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    t.elapsed()
}
