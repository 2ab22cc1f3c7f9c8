//! The real window UI driven with egui_kittest: filters, legend, map clicks and details.

#[allow(dead_code)] // each test file uses part of the helpers
mod common {
    pub mod kit;
}

use common::kit::drag;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use incident_map::app::{App, Saved, WindowOptions};
use incident_map::view::tiles::BaseLayer;

fn bundled() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson")
}

/// The app on the bundled data, offline basemap, loaded and laid out.
fn harness(size: egui::Vec2) -> Harness<'static, App> {
    harness_stepping(size, 0.25)
}

/// The same, with frames `dt` seconds apart (double-clicks need frames closer than 0.3 s).
fn harness_stepping(size: egui::Vec2, dt: f32) -> Harness<'static, App> {
    let mut h = Harness::builder()
        .with_size(size)
        .with_step_dt(dt)
        .build_ui_state(
            |ui, app: &mut App| app.ui(ui),
            App::loaded(
                WindowOptions {
                    files: vec![bundled()],
                    base: Some(BaseLayer::Offline),
                    ..Default::default()
                },
                Some(Saved::default()),
            ),
        );
    h.run_steps(4);
    h
}

#[test]
fn fits_all_incidents_on_first_load() {
    let h = harness(egui::vec2(1280.0, 800.0));
    let app = h.state();
    let s = app.map.screen.expect("map drawn");
    let d = app.data.as_ref().unwrap();
    for i in 0..d.store.len() {
        let p = s.lonlat_to_screen(d.store.lon[i], d.store.lat[i]);
        assert!(
            s.rect.contains(p),
            "incident {i} at {p:?} outside {:?} (zoom {})",
            s.rect,
            s.zoom
        );
    }
}

fn selected_label(h: &Harness<'_, App>) -> String {
    let n = h.state().sel.shown.len();
    let total = h.state().data.as_ref().map_or(0, |d| d.store.len());
    let text = format!("{n} of {total} incidents selected");
    // The status bar shows the same numbers.
    h.get_by_label(&text);
    text
}

#[test]
fn legend_toggles_a_type() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    assert_eq!(selected_label(&h), "83 of 83 incidents selected");
    let table_rows_before = h.state().sel.shown.indices.clone();
    h.get_by_label("Drone attack  8").click();
    h.run_steps(3);
    assert_eq!(selected_label(&h), "75 of 83 incidents selected");
    assert!(h.state().filters.hidden().contains("Drone attack"));
    assert_eq!(
        h.state().effective_filter().types.len(),
        4,
        "the window's filter is the CLI's Filter"
    );
    let d = h.state().data.as_ref().unwrap();
    assert!(
        h.state()
            .sel
            .shown
            .indices
            .iter()
            .all(|&i| d.store.type_name(i as usize) != "Drone attack")
    );
    assert!(h.state().sel.shown.indices.len() < table_rows_before.len());
    // The type list shows it unchecked, the legend struck through; clicking again restores it.
    h.get_by_label("Drone attack  8").click();
    h.run_steps(3);
    assert_eq!(selected_label(&h), "83 of 83 incidents selected");
}

#[test]
fn typed_dates_filter_the_list() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    let from = h.get_by_label("From");
    from.click();
    from.type_text("2021-06-05");
    h.run();
    h.key_press(egui::Key::Enter);
    h.run();
    let to = h.get_by_label("To");
    to.click();
    to.type_text("2021-06-06");
    h.run();
    h.key_press(egui::Key::Enter);
    h.run_steps(3);
    assert_eq!(selected_label(&h), "3 of 83 incidents selected");
    let f = h.state().effective_filter();
    assert_eq!(
        f,
        incident_map::query::Filter::default()
            .with_from("2021-06-05")
            .unwrap()
            .with_to("2021-06-06")
            .unwrap()
    );
    // The table lists exactly those, in date order.
    let d = h.state().data.as_ref().unwrap();
    let dates: Vec<String> = h
        .state()
        .sel
        .shown
        .indices
        .iter()
        .map(|&i| d.store.date_string(i as usize))
        .collect();
    assert_eq!(dates, vec!["2021-06-05", "2021-06-05", "2021-06-06"]);
    h.get_by_label("Baghdad International Airport");
    // A bad date is refused with a message and the filter is unchanged.
    let from = h.get_by_label("From");
    from.click();
    from.type_text("x");
    h.run();
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    h.get_by_label("Dates are YYYY-MM-DD");
    assert_eq!(h.state().sel.shown.len(), 3);
}

#[test]
fn clicking_an_incident_shows_its_source() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    // Zoom to Baghdad airport so its incidents are single symbols.
    {
        let app = h.state_mut();
        app.map.memory.center_at(walkers::lon_lat(44.2344, 33.2625));
        let _ = app.map.memory.set_zoom(15.0);
    }
    h.run_steps(3);
    let d = h.state().data.as_ref().unwrap();
    let target = h
        .state()
        .map
        .markers
        .iter()
        .find_map(|m| match &m.kind {
            incident_map::view::MarkerKind::Stack(_) => Some(m.pos),
            _ => None,
        })
        .expect("the airport's incidents are stacked at one coordinate");
    let _ = d;
    h.event(egui::Event::PointerMoved(target));
    h.run();
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: target,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: Default::default(),
        });
    }
    h.run_steps(3);
    let stack = h
        .state()
        .pick
        .stack
        .clone()
        .expect("stack expanded into a list");
    assert_eq!(stack.len(), 5);
    h.get_by_label("5 incidents at this exact place");
    // Pick the interception from the list: its details show the source and its link.
    let d = h.state().data.as_ref().unwrap();
    let i = *stack
        .iter()
        .find(|&&i| d.store.type_name(i as usize) == "Interception")
        .unwrap();
    let label = "2021-06-05  Interception  Baghdad International Airport";
    h.get_by_label(label).click();
    h.run_steps(2);
    assert_eq!(h.state().pick.selected, Some(i));
    h.get_by_label("SOFREP, \"Drone attacks against US interests in Iraq continue\"; AFP via Al Jazeera, 2021-06-06");
    // The link shows under Sources and again with the account that cites it.
    assert!(
        h.query_all_by_label(
            "https://www.aljazeera.com/news/2021/6/6/two-drones-shot-down-above-iraq-base-housing-us-troops-military"
        )
        .count()
            >= 1
    );
    h.get_by_label("date: day");
    h.get_by_label("location: exact");
    // Its sources disagree: the badge, and every account with its source.
    h.get_by_label("sources disagree: see the accounts");
    assert!(
        h.query_all_by_label("disputed").count() >= 2,
        "badge and table"
    );
    h.get_by_label_contains("disputed (sources disagree)");
    h.get_by_label_contains("Accounts (");
    assert!(h.query_all_by_label_contains("Col. Wayne Marotto").count() >= 2);
    // Esc clears the selection.
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert_eq!(h.state().pick.selected, None);
}

#[test]
fn clicking_a_single_symbol_selects_it() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    {
        let app = h.state_mut();
        app.map.memory.center_at(walkers::lon_lat(43.9632, 36.2376)); // Erbil airport
        let _ = app.map.memory.set_zoom(9.0);
        // Only 2021-02-15, the rocket attack.
        app.set_dates(
            incident_map::date::parse_ymd("2021-02-15").ok(),
            incident_map::date::parse_ymd("2021-02-15").ok(),
        );
    }
    h.run_steps(4);
    let m = h.state().map.markers.first().cloned().expect("one marker");
    let incident_map::view::MarkerKind::Incident(i) = m.kind else {
        panic!("expected a single incident, got {:?}", m.kind)
    };
    h.event(egui::Event::PointerMoved(m.pos));
    h.run();
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: m.pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: Default::default(),
        });
    }
    h.run_steps(3);
    assert_eq!(h.state().pick.selected, Some(i));
    h.get_by_label("Zhyan News Network, 2021-02-22; ESTA, 2021-02-22 (later figures); UPI, 2021-02-15 (first figures)");
    h.get_by_label("21:30 UTC+03:00");
}

#[test]
fn text_search_and_fit() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    let t = h.get_by_label("Text");
    t.click();
    t.type_text("erbil international airport");
    h.run_steps(3);
    assert_eq!(selected_label(&h), "4 of 83 incidents selected");
    h.get_by_label("Fit to filtered incidents").click();
    h.run_steps(3);
    let s = h.state().map.screen.unwrap();
    assert!(s.zoom > 9.0, "fitted to one airport: zoom {}", s.zoom);
}

#[test]
fn shortcuts_and_playback() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    let z = h.state().map.memory.zoom();
    h.key_press(egui::Key::Plus);
    h.run_steps(2);
    assert!((h.state().map.memory.zoom() - z - 1.0).abs() < 1e-9);
    h.key_press(egui::Key::Minus);
    h.run_steps(2);
    assert!((h.state().map.memory.zoom() - z).abs() < 1e-9);
    // Space starts playback: a window that slides forward as frames pass.
    h.key_press(egui::Key::Space);
    h.run_steps(1);
    assert!(h.state().timeline.playing);
    let start = h.state().filters.base().to.expect("playback sets a range");
    for _ in 0..30 {
        h.step();
    }
    let later = h.state().filters.base().to.expect("range");
    assert!(later > start, "playback advanced: {start} → {later}");
    assert!(h.state().sel.shown.len() < 83);
    h.key_press(egui::Key::Space);
    h.run_steps(1);
    assert!(!h.state().timeline.playing);
    // Ctrl+F focuses the search field.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    h.run_steps(2);
    assert!(h.get_by_label("Text").is_focused());
}

#[test]
fn state_is_restored_on_restart() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    h.state_mut().toggle_type("IED");
    h.state_mut()
        .set_dates(incident_map::date::parse_ymd("2021-06-01").ok(), None);
    h.state_mut().set_text("airport");
    h.run_steps(3);
    // Through the settings file, written atomically.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incident-map").join("settings.json");
    incident_map::app::save_settings(&path, &h.state().saved()).unwrap();
    let back = incident_map::app::load_settings(&path).expect("settings read back");
    std::fs::write(&path, "{ not json").unwrap();
    assert!(
        incident_map::app::load_settings(&path).is_none(),
        "a broken settings file is ignored"
    );
    assert_eq!(back.files, vec![bundled()]);
    let mut h2 = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(
            |ui, app: &mut App| app.ui(ui),
            App::loaded(
                WindowOptions {
                    base: Some(BaseLayer::Offline),
                    ..Default::default()
                },
                Some(back),
            ),
        );
    h2.run_steps(4);
    let a = h2.state();
    assert_eq!(a.effective_filter(), h.state().effective_filter());
    assert_eq!(a.sel.shown.len(), h.state().sel.shown.len());
    let (s1, s2) = (h.state().map.screen.unwrap(), a.map.screen.unwrap());
    assert!(
        (s1.zoom - s2.zoom).abs() < 1e-6 && (s1.cx - s2.cx).abs() < 1e-9,
        "viewport restored"
    );
    h2.get_by_label("From")
        .value()
        .filter(|v| v == "2021-06-01")
        .expect("date field restored");
}

#[test]
fn a_100_mb_line_does_not_hang_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("long.csv");
    let notes = "x".repeat(100 << 20);
    std::fs::write(&p, format!("lat,lon,date,type,notes\n33.3,44.4,2021-06-05,IED,\"{notes}\"\n33.4,44.5,2021-06-06,IED,short\n")).unwrap();
    drop(notes);
    let app = App::loaded(
        WindowOptions {
            files: vec![p],
            base: Some(BaseLayer::Offline),
            ..Default::default()
        },
        Some(Saved::default()),
    );
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app);
    h.run_steps(3);
    let long = *h.state().sel.shown.indices.first().expect("loaded");
    h.state_mut().select(Some(long));
    h.run_steps(2); // the record is parsed once here
    // Read once: the details hold it, and the next frames show the same, never read again.
    let first = match h.state().pick_details() {
        Some(Ok(d)) => d.description[0].len(),
        other => panic!("details not read: {:?}", other.map(|r| r.as_ref().err())),
    };
    assert_eq!(first, 100 << 20);
    // The frames go on (a generous bound: a window that re-read 100 MB a frame, or hung,
    // would not make ten; a busy machine still does).
    let end = std::time::Instant::now() + std::time::Duration::from_secs(60);
    for _ in 0..10 {
        h.step();
        assert!(std::time::Instant::now() < end, "the window hangs");
    }
    h.get_by_label_contains("more characters)");
    // The table never reads a record that large for its Source column.
    h.get_by_label_contains("(large record: see details)");
}

#[test]
fn only_http_links_from_data_are_links() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("hostile.csv");
    std::fs::write(
        &p,
        "lat,lon,date,type,place,source\n33.3,44.4,2021-06-05,IED,\"Bag\u{1b}[2Jhdad\u{202e}\",\"javascript:alert(1) file:///etc/passwd data:text/html,x https://ok.example/report\"\n",
    )
    .unwrap();
    let mut app = App::loaded(
        WindowOptions {
            files: vec![p],
            base: Some(BaseLayer::Offline),
            ..Default::default()
        },
        Some(Saved::default()),
    );
    app.select(Some(0));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app);
    h.run_steps(3);
    use egui::accesskit::Role;
    let links: Vec<String> = h
        .query_all_by_role(Role::Link)
        .filter_map(|n| n.accesskit_node().label())
        .collect();
    assert!(
        links.iter().any(|l| l == "https://ok.example/report"),
        "{links:?}"
    );
    assert!(
        links
            .iter()
            .all(|l| !l.contains("javascript") && !l.contains("file:") && !l.contains("data:")),
        "{links:?}"
    );
    // The other schemes are shown as text; control and bidi characters are gone.
    h.get_by_label("javascript:alert(1) file:///etc/passwd data:text/html,x");
    assert!(
        h.query_all_by_label("Bag [2Jhdad").count() >= 2,
        "cleaned in the details and the table"
    );
    assert!(
        h.query_by_label_contains("\u{1b}").is_none()
            && h.query_by_label_contains("\u{202e}").is_none()
    );
}

fn press(h: &mut Harness<'static, App>, pos: egui::Pos2, button: egui::PointerButton) {
    h.event(egui::Event::PointerMoved(pos));
    h.run_steps(1);
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos,
            button,
            pressed,
            modifiers: Default::default(),
        });
    }
}

#[test]
fn analyst_tools_draw_an_area_place_rings_measure_and_list_nearby() {
    use egui::PointerButton::{Primary, Secondary};
    let mut h = harness_stepping(egui::vec2(1280.0, 800.0), 1.0 / 60.0);
    let s = h.state().map.screen.unwrap();
    // Draw a triangle around Baghdad: click three vertices, double-click the last to close.
    h.get_by_label("Tools").click();
    h.run_steps(2);
    h.get_by_label("Draw an area of interest").click();
    h.run_steps(2);
    let tri = [(43.6, 32.9), (45.2, 32.9), (44.4, 34.2)];
    for &(lon, lat) in &tri[..2] {
        press(&mut h, s.lonlat_to_screen(lon, lat), Primary);
        h.run_steps(2);
    }
    // A double-click places the last vertex and closes the area.
    let last = s.lonlat_to_screen(tri[2].0, tri[2].1);
    press(&mut h, last, Primary);
    h.run_steps(1);
    press(&mut h, last, Primary);
    h.run_steps(3);
    let area = h.state().filters.base().within.clone().unwrap_or_else(|| {
        panic!(
            "the double-click closed no area: {:?} {:?}",
            h.state().analyst.mode,
            h.state().analyst.draft
        )
    });
    // What the user sees: the count under the area, from the same store.
    let store = h.state().data.as_ref().unwrap().store.clone();
    let inside = (0..store.len())
        .filter(|&i| area.contains(store.lon[i], store.lat[i]))
        .count();
    assert!(inside > 0 && inside < 83, "{inside}");
    assert_eq!(
        selected_label(&h),
        format!("{inside} of 83 incidents selected")
    );
    h.get_by_label_contains("Inside an area (");
    // Clear it from the filter panel.
    h.get_by_label("Clear").click();
    h.run_steps(3);
    assert_eq!(selected_label(&h), "83 of 83 incidents selected");

    // Right-click near Ain al-Asad → Range rings here… → Add rings (10, 25, 50 km).
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    let asad = s.lonlat_to_screen(42.441, 33.786);
    press(&mut h, asad, Secondary);
    h.run_steps(2);
    h.get_by_label("Range rings here…").click();
    h.run_steps(2);
    h.get_by_label("Add rings").click();
    h.run_steps(3);
    let app = h.state();
    assert_eq!(app.analyst.tools.rings.len(), 1);
    let counts = &app.analyst.ring_counts[0];
    assert_eq!(counts.len(), 3);
    assert!(counts[2] >= counts[0] && counts[2] > 0, "{counts:?}");
    let listed = format!(
        "— {} incidents",
        counts
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" / ")
    );
    h.get_by_label_contains(&listed);

    // Measure: M, then drag from Ain al-Asad to Baghdad airport.
    h.key_press(egui::Key::M);
    h.run_steps(1);
    let biap = s.lonlat_to_screen(44.2344, 33.2625);
    drag(&mut h, asad, biap);
    let (a, b) = h.state().analyst.ruler.expect("a ruler");
    let km = incident_map::geodesy::distance_km(a, b);
    assert!((km - 176.4).abs() < 6.0, "{km} km");
    h.get_by_label_contains(&format!("Ruler: {}", incident_map::geodesy::km_text(km)));

    // Incidents near here, with their distances.
    h.key_press(egui::Key::Escape);
    h.run_steps(1);
    press(&mut h, biap, Secondary);
    h.run_steps(2);
    h.get_by_label("Incidents near here").click();
    h.run_steps(3);
    let (_, list) = h.state().analyst.nearest.clone().expect("a list");
    assert!(list.windows(2).all(|w| w[0].1 <= w[1].1));
    assert!(
        list[0].1 < 1.0,
        "an incident at the airport itself: {:?}",
        list[0]
    );
}

#[test]
fn place_search_finds_towns_and_typed_coordinates() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    let center = |h: &Harness<'static, App>| h.state().map.screen.unwrap().center_lonlat();
    for (query, lat, lon, tol) in [
        ("Hadithah", 34.1366, 42.3773, 0.01),
        // (The window's font has no ′ ″; those forms are read too: see places.rs's tests.)
        ("33°47'10\"N 42°26'28\"E", 33.786, 42.441, 0.001),
        ("38SLC 5111 3835", f64::NAN, f64::NAN, 0.0),
    ] {
        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::K);
        h.run_steps(2);
        let field = h.get_by_label("Place or coordinates");
        field.type_text(query);
        h.run_steps(2);
        h.key_press(egui::Key::Enter);
        h.run_steps(3);
        let (clon, clat) = center(&h);
        if lat.is_nan() {
            // MGRS: where GeographicLib puts that grid square.
            let (want_lat, want_lon) = incident_map::places::parse_position(query).unwrap();
            assert!((clat - want_lat).abs() < 0.001 && (clon - want_lon).abs() < 0.001);
        } else {
            assert!(
                (clat - lat).abs() < tol && (clon - lon).abs() < tol,
                "{query}: {clat}, {clon}"
            );
        }
        assert!(h.state().map.screen.unwrap().zoom >= 10.9);
    }
}

#[test]
fn a_duplicate_group_opens_in_details() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    let n = h.state().data.as_ref().unwrap().store.len();
    h.state_mut().dupes.wait(n);
    h.run_steps(2);
    let (first, other) = {
        let app = h.state();
        let g = app
            .dupes
            .groups
            .first()
            .expect("the bundled data has a possible duplicate");
        (g[0], g[1])
    };
    let other_entry = {
        let s = &h.state().data.as_ref().unwrap().store;
        let o = other as usize;
        format!(
            "{}  {}  {}",
            s.date_string(o),
            s.type_name(o),
            s.place_name(o)
        )
    };
    h.state_mut().select(Some(first));
    h.run_steps(3);
    h.get_by_label_contains("Possible duplicates: 2 reports of this type within 1 day(s) and 5 km");
    // Clicking the other report opens it.
    h.get_by_label(&other_entry).click();
    h.run_steps(3);
    assert_eq!(h.state().pick.selected, Some(other));
}

#[test]
fn linked_incidents_are_drawn_and_listed() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    let (attack, launcher) = {
        let d = h.state().data.as_ref().unwrap();
        (d.links.ids["IQ-2021-002"], d.links.ids["IQ-2021-027"])
    };
    let s = h.state().data.as_ref().unwrap().store.clone();
    // The link is drawn between the two (both are shown).
    let seg = (
        (s.lon[attack as usize], s.lat[attack as usize]),
        (s.lon[launcher as usize], s.lat[launcher as usize]),
    );
    let links = &h.state().analyst.links;
    assert!(
        links.contains(&seg) || links.contains(&(seg.1, seg.0)),
        "{links:?}"
    );
    // Details list it; clicking it opens the launcher.
    h.state_mut().select(Some(attack));
    h.run_steps(3);
    h.get_by_label_contains("IQ-2021-027: 2021-02-16  Launcher found")
        .click();
    h.run_steps(3);
    assert_eq!(h.state().pick.selected, Some(launcher));
    // A filter that leaves only one end hides the link.
    h.state_mut().set_dates(
        incident_map::date::parse_ymd("2021-02-16").ok(),
        incident_map::date::parse_ymd("2021-02-16").ok(),
    );
    h.run_steps(3);
    assert!(!h.state().analyst.links.contains(&seg));
}

#[test]
fn a_saved_view_keeps_the_tools_and_the_area() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    let tmp = tempfile::tempdir().unwrap();
    let view = tmp.path().join("view.json");
    {
        let app = h.state_mut();
        app.analyst
            .tools
            .rings
            .push(incident_map::tools::Ring::parse("33.786,42.441,10,25").unwrap());
        app.analyst
            .tools
            .labels
            .push(incident_map::tools::Label::parse("33.3,44.4,Launch site").unwrap());
        app.analyst.tools.dupes.km = 8.0;
        app.filters.set_within(Some(
            incident_map::area::Area::from_geojson(
                r#"{"type":"Polygon","coordinates":[[[42,33],[45,33],[45,35],[42,35],[42,33]],[[43,33.5],[44,33.5],[44,34],[43,34],[43,33.5]]]}"#,
                "a",
            )
            .unwrap(),
        ));
        app.filters.set_near(Some(incident_map::query::Near {
            lat: 33.3,
            lon: 44.3,
            km: 120.0,
        }));
    }
    h.run_steps(3);
    let shown = h.state().sel.shown.len();
    h.state().save_view(&view).unwrap();
    let text = std::fs::read_to_string(&view).unwrap();
    assert!(
        text.contains("\"version\": 2") && text.contains("MultiPolygon"),
        "{text}"
    );
    // Another window opens it: the same tools, filter and count.
    let mut other = harness(egui::vec2(1280.0, 800.0));
    let ctx = other.ctx.clone();
    other.state_mut().open_view(&ctx, &view).unwrap();
    other.state_mut().finish_loading();
    other.run_steps(4);
    let (a, b) = (h.state(), other.state());
    assert_eq!(a.analyst.tools, b.analyst.tools);
    assert_eq!(a.filters.base().within, b.filters.base().within);
    assert_eq!(a.filters.base().near, b.filters.base().near);
    assert_eq!(b.sel.shown.len(), shown);
    // And the count is right, not only equal: 28 bundled incidents lie inside the area (the
    // box less its hole) and within 120 km of the point, counted independently with
    // GeographicLib's geodesics in Python; none is within 2 km of the circle's edge.
    assert_eq!(shown, 28);
}

#[test]
fn a_typed_actor_filters_and_a_saved_view_keeps_it() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    let t = h.get_by_label("Actor");
    t.click();
    t.type_text("saraya awliya al-dam");
    h.run_steps(3);
    // Two incidents name "Saraya Awliya al-Dam (claimed)" and one "(claimed, per The
    // Guardian via SOFREP)" in their actors.
    assert_eq!(selected_label(&h), "3 of 83 incidents selected");
    assert_eq!(
        h.state().effective_filter().actors,
        vec!["saraya awliya al-dam".to_string()]
    );
    // Two names: either matches (the field still has the focus; typed at its end).
    h.key_press(egui::Key::End);
    h.get_by_label("Actor").type_text(", Ashab al-Kahf");
    h.run_steps(3);
    assert_eq!(selected_label(&h), "4 of 83 incidents selected");
    let tmp = tempfile::tempdir().unwrap();
    let view = tmp.path().join("view.json");
    h.state().save_view(&view).unwrap();
    let text = std::fs::read_to_string(&view).unwrap();
    assert!(text.contains("\"actors\""), "{text}");
    let mut other = harness(egui::vec2(1280.0, 800.0));
    let ctx = other.ctx.clone();
    other.state_mut().open_view(&ctx, &view).unwrap();
    other.state_mut().finish_loading();
    other.run_steps(4);
    assert_eq!(selected_label(&other), "4 of 83 incidents selected");
    // The field shows the filter it took.
    assert!(
        other
            .query_all_by_value("saraya awliya al-dam, Ashab al-Kahf")
            .next()
            .is_some()
    );
}

#[test]
fn the_timeline_is_labelled_stacked_and_explains_a_bar() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    // The bundled data spans 2021: a label per month, the first with its year.
    h.get_by_label("Feb 2021");
    for m in ["Mar", "Jun", "Sep", "Dec"] {
        h.get_by_label(m);
    }
    // Bars by month; hover June: the period and its counts per type.
    h.state_mut().timeline.bin = incident_map::app::timeline::Bin::Month;
    h.run_steps(2);
    let jun = h.get_by_label("Jun").rect();
    let p = egui::pos2(jun.left() + 20.0, jun.top() - 25.0);
    h.event(egui::Event::PointerMoved(p));
    h.run_steps(3);
    let app = h.state();
    let s = &app.data.as_ref().unwrap().store;
    let june: Vec<usize> = (0..s.len())
        .filter(|&i| {
            let (y, m, _) = incident_map::date::civil_from_days(s.day[i]);
            (y, m) == (2021, 6)
        })
        .collect();
    let drones = june
        .iter()
        .filter(|&&i| s.type_name(i) == "Drone attack")
        .count();
    assert!(drones > 0);
    h.get_by_label_contains(&format!("2021-06-01 – 2021-06-30: {}", june.len()));
    h.get_by_label_contains(&format!("Drone attack: {drones}"));
}

/// Data of two days (the seed facts: the rocket shot down over Baghdad airport on 5 June 2021,
/// the drones over Ain al-Asad early on the 6th): the axis labels hours between the days.
#[test]
fn a_timeline_of_two_days_is_labelled_in_hours() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("two_days.csv");
    std::fs::write(
        &csv,
        "latitude,longitude,event_date,event_type\n\
         33.2625,44.2344,2021-06-05,Interception\n\
         33.786,42.441,2021-06-06T00:30:00+03:00,Interception\n",
    )
    .unwrap();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(
            |ui, app: &mut App| app.ui(ui),
            App::loaded(
                WindowOptions {
                    files: vec![csv],
                    base: Some(BaseLayer::Offline),
                    ..Default::default()
                },
                Some(Saved::default()),
            ),
        );
    h.run_steps(4);
    let five = h.get_by_label("5 Jun 2021").rect();
    let six = h.get_by_label("6 Jun").rect();
    // Hours on both days: 12:00 twice, the first between the two days' labels.
    let noons: Vec<egui::Rect> = h.query_all_by_label("12:00").map(|n| n.rect()).collect();
    assert_eq!(noons.len(), 2);
    assert!(five.left() < noons[0].left() && noons[0].left() < six.left());
    assert!(six.left() < noons[1].left());
}

#[test]
fn the_chart_window_saves_what_the_command_line_writes() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    let tmp = tempfile::tempdir().unwrap();
    let from_window = tmp.path().join("window.csv");
    h.get_by_label("Tools").click();
    h.run_steps(2);
    h.get_by_label("Chart…").click();
    h.run_steps(3);
    h.get_by_label("Months").click();
    h.run_steps(2);
    h.state_mut().chrome.chart.path = from_window.to_string_lossy().into_owned();
    h.run_steps(1);
    h.get_by_label("Save").click();
    h.run_steps(2);
    h.state_mut().chrome.chart.wait();
    h.run_steps(1);
    h.get_by_label_contains("Wrote ");
    let from_cli = tmp.path().join("cli.csv");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_incident-map"))
        .args([
            "chart",
            bundled().to_str().unwrap(),
            "--every",
            "month",
            "--out",
        ])
        .arg(&from_cli)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(
        std::fs::read(&from_window).unwrap(),
        std::fs::read(&from_cli).unwrap()
    );
}

#[test]
fn export_data_writes_what_filter_writes() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    let tmp = tempfile::tempdir().unwrap();
    h.state_mut().set_dates(
        incident_map::date::parse_ymd("2021-06-01").ok(),
        incident_map::date::parse_ymd("2021-06-30").ok(),
    );
    h.run_steps(2);
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Export data…").click();
    h.run_steps(2);
    h.get_by_label("GeoJSON").click();
    h.run_steps(1);
    let path = tmp.path().join("june.geojson");
    h.state_mut().chrome.data.path = path.to_string_lossy().into_owned();
    h.get_by_label("Write").click();
    h.run_steps(2);
    h.state_mut().chrome.data.wait();
    h.run_steps(1);
    h.get_by_label_contains("Wrote 12 incidents to");
    let cli = tmp.path().join("cli.geojson");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_incident-map"))
        .args([
            "filter",
            bundled().to_str().unwrap(),
            "--from",
            "2021-06-01",
            "--to",
            "2021-06-30",
        ])
        .args(["--format", "geojson", "--out"])
        .arg(&cli)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(std::fs::read(&path).unwrap(), std::fs::read(&cli).unwrap());
}

#[test]
fn the_view_menu_switches_to_the_heat_map() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    h.get_by_label("View").click();
    h.run_steps(2);
    h.get_by_label("Heat map (kernel density, one scale for every date)")
        .click();
    h.run_steps(3);
    let app = h.state();
    assert_eq!(app.map.layer, incident_map::density::Layer::Heat);
    assert!(app.map.markers.is_empty(), "a heat map, not symbols");
    // What is drawn instead is checked below: the heat at Baghdad airport.
    assert_eq!(app.saved().layer, incident_map::density::Layer::Heat);
    // At Baghdad airport, where the bundled data's incidents are thickest, the map is
    // coloured: compared with the same map when no incident is in the date range.
    let s = app.map.screen.expect("map drawn");
    let p = s.lonlat_to_screen(44.2344, 33.2625);
    let heat = h.render().expect("render");
    h.state_mut().set_dates(
        incident_map::date::parse_ymd("2030-01-01").ok(),
        incident_map::date::parse_ymd("2030-01-02").ok(),
    );
    h.run_steps(3);
    assert_eq!(h.state().sel.shown.len(), 0);
    let none = h.render().expect("render");
    let (a, b) = (
        heat.get_pixel(p.x as u32, p.y as u32),
        none.get_pixel(p.x as u32, p.y as u32),
    );
    let diff = (0..3)
        .map(|k| (a[k] as i32 - b[k] as i32).abs())
        .sum::<i32>();
    assert!(diff > 120, "heat {a:?} vs none {b:?}");
}

#[test]
fn the_view_menu_switches_to_the_density_layer() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    assert!(!h.state().map.markers.is_empty());
    h.get_by_label("View").click();
    h.run_steps(2);
    h.get_by_label("Density (hexagons, one scale for every date)")
        .click();
    h.run_steps(3);
    let app = h.state();
    assert_eq!(app.map.layer, incident_map::density::Layer::Hexbin);
    assert!(app.map.markers.is_empty(), "hexagons, not symbols");
    assert_eq!(
        app.saved().layer,
        incident_map::density::Layer::Hexbin,
        "kept for next time"
    );
    // What is drawn instead: hexagons. Baghdad airport's is coloured, against the same map
    // with no incident in the date range (no hexagon).
    let s = app.map.screen.expect("map drawn");
    let p = s.lonlat_to_screen(44.2344, 33.2625);
    let hexagons = h.render().expect("render");
    h.state_mut().set_dates(
        incident_map::date::parse_ymd("2030-01-01").ok(),
        incident_map::date::parse_ymd("2030-01-02").ok(),
    );
    h.run_steps(3);
    assert_eq!(h.state().sel.shown.len(), 0);
    let none = h.render().expect("render");
    let (a, b) = (
        hexagons.get_pixel(p.x as u32, p.y as u32),
        none.get_pixel(p.x as u32, p.y as u32),
    );
    let diff = (0..3)
        .map(|k| (a[k] as i32 - b[k] as i32).abs())
        .sum::<i32>();
    assert!(diff > 60, "hexagon {a:?} vs none {b:?}");
}

#[test]
fn esc_closes_find_a_place_and_other_dialogs() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    h.state_mut().select(Some(0));
    h.run_steps(2);
    // Find a place, with text typed and the field no longer focused: Esc still closes it.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::K);
    h.run_steps(2);
    h.get_by_label("Place or coordinates").type_text("Hadi");
    h.run_steps(2);
    h.key_press(egui::Key::Tab);
    h.run_steps(2);
    assert!(!h.get_by_label("Place or coordinates").is_focused());
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(!h.state().chrome.show_places);
    assert!(h.query_by_label("Place or coordinates").is_none());
    // …and only the dialog: the selection is kept until Esc is pressed with no dialog open.
    assert_eq!(h.state().pick.selected, Some(0));
    // The shortcuts and the Tools window: each press closes one.
    h.get_by_label("Help").click();
    h.run_steps(2);
    h.get_by_label("Shortcuts").click();
    h.run_steps(2);
    assert!(h.query_by_label("Show / hide the incident table").is_some());
    h.state_mut().analyst.show = true;
    h.run_steps(2);
    // The Tools menu and the Tools window's title.
    let tools = |h: &Harness<'static, App>| h.query_all_by_label("Tools").count();
    assert_eq!(tools(&h), 2);
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(h.query_by_label("Show / hide the incident table").is_none());
    assert_eq!(tools(&h), 2);
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert_eq!(tools(&h), 1);
    assert_eq!(h.state().pick.selected, Some(0));
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert_eq!(h.state().pick.selected, None);
}

#[test]
fn the_map_gets_most_of_the_window_and_the_table_folds_away() {
    let mut h = harness(egui::vec2(1280.0, 800.0));
    let map_height = |h: &Harness<'static, App>| h.state().map.screen.unwrap().rect.height();
    let with_table = map_height(&h);
    assert!(with_table >= 0.6 * 800.0, "map {with_table} px tall of 800");
    assert!(h.state().chrome.show_table);
    // T hides it (the map grows), T again brings it back.
    h.key_press(egui::Key::T);
    h.run_steps(3);
    assert!(!h.state().chrome.show_table);
    let without = map_height(&h);
    assert!(without > with_table + 80.0, "{without} vs {with_table}");
    assert!(!h.state().saved().show_table);
    h.key_press(egui::Key::T);
    h.run_steps(3);
    assert!(h.state().chrome.show_table);
    // The status bar's toggle does the same.
    h.get_by_label("Table").click();
    h.run_steps(3);
    assert!(!h.state().chrome.show_table);
    h.get_by_label("Table").click();
    h.run_steps(3);
    // Dragged taller, the height is kept for the next session, which opens with it.
    let top = h.state().map.screen.unwrap().rect.bottom() + 2.0;
    drag(
        &mut h,
        egui::pos2(640.0, top),
        egui::pos2(640.0, top - 100.0),
    );
    h.run_steps(3);
    let kept = h.state().saved().table_height;
    assert!(
        kept > incident_map::app::settings::TABLE_HEIGHT + 60.0,
        "table {kept} px after dragging its edge up by 100"
    );
    let shorter_map = map_height(&h);
    assert!(
        shorter_map < with_table - 60.0,
        "{shorter_map} vs {with_table}"
    );
    let saved = Saved {
        table_height: kept,
        ..Default::default()
    };
    let mut h2 = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(
            |ui, app: &mut App| app.ui(ui),
            App::loaded(
                WindowOptions {
                    files: vec![bundled()],
                    base: Some(BaseLayer::Offline),
                    ..Default::default()
                },
                Some(saved),
            ),
        );
    h2.run_steps(4);
    assert!((map_height(&h2) - shorter_map).abs() < 4.0);
}
