//! Place and river names of the offline basemap, kept clear of the incidents' markers: under
//! the symbols (with the basemap), over a density layer (so they stay readable).

use super::{Layer, MapFrame};
use crate::view::map::Scene;

/// Place and river names.
pub struct PlaceNames;

impl Layer for PlaceNames {
    fn name(&self) -> &'static str {
        "place names"
    }

    fn draw(&self, _scene: &Scene<'_>, frame: &mut MapFrame<'_>) {
        let avoid: Vec<egui::Rect> = frame
            .markers
            .iter()
            .map(|m| egui::Rect::from_center_size(m.pos, egui::Vec2::splat(2.0 * m.radius + 4.0)))
            .collect();
        let labels = crate::view::basemap::Basemap::shared().labels(
            &frame.screen,
            frame.ui.painter(),
            &avoid,
        );
        if frame.density_scale.is_some() {
            frame.ui.painter().extend(labels);
        } else {
            frame.under_tiles.extend(labels);
        }
    }
}
