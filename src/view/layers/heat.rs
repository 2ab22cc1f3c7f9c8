//! The heat map: kernel density on one scale for every date in the area computed.

use super::{Layer, MapFrame};
use crate::view::map::Scene;

/// The heat map, when chosen.
pub struct Heat;

impl Layer for Heat {
    fn name(&self) -> &'static str {
        "heat"
    }

    fn draw(&self, scene: &Scene<'_>, frame: &mut MapFrame<'_>) {
        // The heat map kept for this map (not for its place on screen, which moves when a panel
        // is resized); forgotten while another layer is drawn.
        let id = frame.id.with("heat-layer");
        let Some(h) = &scene.heat else {
            crate::view::density::forget_heat(frame.ui.ctx(), id);
            return;
        };
        let painter = frame.ui.painter().clone();
        let max =
            crate::view::density::draw_heat(&painter, &frame.screen, h, id, scene.interactive);
        frame.density_scale = Some(Err(max));
    }
}
