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
