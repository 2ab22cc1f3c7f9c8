//! The density layer: hexagons coloured by count on one scale for every date.

use super::{Layer, MapFrame};
use crate::view::map::Scene;

/// Density hexagons, when chosen.
pub struct Hexbin;

impl Layer for Hexbin {
    fn name(&self) -> &'static str {
        "density"
    }

    fn draw(&self, scene: &Scene<'_>, frame: &mut MapFrame<'_>) {
        if scene.heat.is_some() {
            return;
        }
        if let Some((bins, max)) = scene.density {
            crate::view::density::draw(frame.ui.painter(), &frame.screen, bins, max);
            frame.density_scale = Some(Ok(max));
        }
    }
}
