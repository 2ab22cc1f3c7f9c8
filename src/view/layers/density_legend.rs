//! The density layer's scale: hexagon counts or the heat map's ramp.

use super::{Layer, MapFrame};
use crate::view::map::Scene;

/// The scale of the density layer drawn, if any.
pub struct DensityLegend;

impl Layer for DensityLegend {
    fn name(&self) -> &'static str {
        "density legend"
    }

    fn draw(&self, _scene: &Scene<'_>, frame: &mut MapFrame<'_>) {
        let r = frame.screen.rect;
        match frame.density_scale {
            Some(Ok(count)) => crate::view::density::legend(frame.ui.painter(), r, count),
            Some(Err(heat)) => crate::view::density::heat_legend(frame.ui.painter(), r, heat),
            None => {}
        }
    }
}
