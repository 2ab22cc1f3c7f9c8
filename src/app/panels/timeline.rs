//! The timeline panel: histogram, brush and playback controls.

use egui::RichText;

use crate::app::App;

/// The timeline with its playback controls.
pub fn timeline_panel(app: &mut App, ui: &mut egui::Ui) {
    let Some((first, _)) = app.day_range() else {
        ui.label("Timeline: no data");
        return;
    };
    ui.horizontal(|ui| {
        let label = if app.timeline.playing {
            "Pause"
        } else {
            "Play"
        };
        if ui.button(label).on_hover_text("Space").clicked() {
            app.toggle_play();
        }
        egui::ComboBox::from_label("mode")
            .selected_text(if app.timeline.cumulative {
                "Cumulative"
            } else {
                "Sliding window"
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut app.timeline.cumulative, false, "Sliding window");
                ui.selectable_value(&mut app.timeline.cumulative, true, "Cumulative");
            });
        egui::ComboBox::from_label("speed")
            .selected_text(speed_name(app.timeline.days_per_second))
            .show_ui(ui, |ui| {
                for v in [1.0, 7.0, 30.0, 91.0, 365.0] {
                    ui.selectable_value(&mut app.timeline.days_per_second, v, speed_name(v));
                }
            });
        egui::ComboBox::from_label("bars")
            .selected_text(format!("{:?}", app.timeline.bin))
            .show_ui(ui, |ui| {
                use crate::app::timeline::Bin;
                for b in [Bin::Auto, Bin::Day, Bin::Week, Bin::Month] {
                    ui.selectable_value(&mut app.timeline.bin, b, format!("{b:?}"));
                }
            });
        ui.label(RichText::new(app.filters.base().date_range_text()).strong());
        ui.label(
            RichText::new("drag to select, double-click to clear")
                .weak()
                .small(),
        );
    });
    let counts = app.sel.timeline.day_counts.clone();
    let first = if app.sel.timeline.day_counts.is_empty() {
        first
    } else {
        app.sel.timeline.first_day
    };
    let (mut f, mut t) = (app.filters.base().from, app.filters.base().to);
    let stacks = if app.remote.is_some() {
        None
    } else {
        app.sel.stacks.as_ref()
    };
    if app
        .timeline
        .show(ui, &counts, first, stacks, &mut f, &mut t)
    {
        app.set_dates(f, t);
    }
}

fn speed_name(v: f64) -> &'static str {
    match v as i64 {
        1 => "1 day/s",
        7 => "1 week/s",
        30 => "1 month/s",
        91 => "1 quarter/s",
        _ => "1 year/s",
    }
}
