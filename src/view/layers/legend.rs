//! The legend, top right: every type with its count (clickable in the window).

use super::{Layer, MapFrame};
use crate::view::map::Scene;

/// The legend.
pub struct Legend;

impl Layer for Legend {
    fn name(&self) -> &'static str {
        "legend"
    }

    fn draw(&self, scene: &Scene<'_>, frame: &mut MapFrame<'_>) {
        frame.legend_clicked = crate::view::overlay::legend(
            frame.ui,
            frame.screen.rect,
            &scene.legend,
            (scene.disputed, scene.evidence),
            scene.interactive,
        );
    }
}
