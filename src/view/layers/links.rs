//! Links between related incidents: dashed lines under the incidents.

use super::{Layer, MapFrame};
use crate::view::map::Scene;

/// Links between related incidents.
pub struct Links;

impl Layer for Links {
    fn name(&self) -> &'static str {
        "links"
    }

    fn draw(&self, scene: &Scene<'_>, frame: &mut MapFrame<'_>) {
        if let Some(t) = scene.tools {
            crate::view::tools::draw_links(frame.ui.painter(), &frame.screen, &t.links);
        }
    }
}
