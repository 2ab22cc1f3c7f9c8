//! The scale bar, bottom left.

use super::{Layer, MapFrame};
use crate::view::map::Scene;

/// The scale bar.
pub struct ScaleBar;

impl Layer for ScaleBar {
    fn name(&self) -> &'static str {
        "scale bar"
    }

    fn draw(&self, _scene: &Scene<'_>, frame: &mut MapFrame<'_>) {
        crate::view::overlay::scale_bar(frame.ui.painter(), &frame.screen);
    }
}
