//! The title and caption of exports, top left.

use super::{Layer, MapFrame};
use crate::view::map::Scene;

/// Title and caption (exports).
pub struct Caption;

impl Layer for Caption {
    fn name(&self) -> &'static str {
        "caption"
    }

    fn draw(&self, scene: &Scene<'_>, frame: &mut MapFrame<'_>) {
        if let Some(c) = &scene.caption {
            let r = frame.screen.rect;
            crate::view::overlay::caption(frame.ui.painter(), r, c.title.as_deref(), &c.lines);
        }
    }
}
