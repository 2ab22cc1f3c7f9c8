//! The analyst's tools: rings, areas, the near circle, labels, arrows, the ruler.

use super::{Layer, MapFrame};
use crate::view::map::Scene;

/// The analyst's tools.
pub struct Tools;

impl Layer for Tools {
    fn name(&self) -> &'static str {
        "tools"
    }

    fn draw(&self, scene: &Scene<'_>, frame: &mut MapFrame<'_>) {
        if let Some(t) = scene.tools {
            crate::view::tools::draw(frame.ui.painter(), &frame.screen, t);
        }
    }
}
