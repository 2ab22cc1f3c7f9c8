//! Recording what each layer of the map draws, as egui shapes before they are tessellated: the
//! vector exports (SVG, PDF) turn the same shapes the PNG rasterises into vector primitives, one
//! named group per layer.

use std::cell::RefCell;
use std::collections::HashMap;

use egui::epaint::ClippedShape;
use egui::{Context, LayerId};

/// The shapes of one layer of the map, in paint order.
#[derive(Debug, Clone)]
pub struct LayerShapes {
    /// The layer's name (`basemap`, `tiles`, `incidents`, `legend`…).
    pub name: &'static str,
    /// What it drew.
    pub shapes: Vec<ClippedShape>,
}

/// Collects the layers' shapes during one frame.
#[derive(Debug, Default)]
pub struct Recorder {
    layers: RefCell<Vec<LayerShapes>>,
}

/// How many shapes each egui layer holds now.
pub type Marks = HashMap<LayerId, usize>;

/// egui's layers in paint order (the background one first, then the areas bottom to top).
fn layer_ids(ctx: &Context) -> Vec<LayerId> {
    let mut ids = vec![LayerId::background()];
    ids.extend(ctx.memory(|m| m.layer_ids().collect::<Vec<_>>()));
    ids.sort_by_key(|l| l.order);
    ids.dedup();
    ids
}

/// The shapes every egui layer holds now.
pub fn marks(ctx: &Context) -> Marks {
    let ids = layer_ids(ctx);
    ctx.graphics(|g| {
        ids.iter()
            .filter_map(|&id| Some((id, g.get(id)?.all_entries().len())))
            .collect()
    })
}

/// The shapes added since `before`, bottom layers first.
pub fn since(ctx: &Context, before: &Marks) -> Vec<ClippedShape> {
    let ids = layer_ids(ctx);
    ctx.graphics(|g| {
        let mut out = Vec::new();
        for id in ids {
            if let Some(list) = g.get(id) {
                let from = before.get(&id).copied().unwrap_or(0);
                out.extend(list.all_entries().skip(from).cloned());
            }
        }
        out
    })
}

impl Recorder {
    /// Adds a layer's shapes.
    pub fn push(&self, name: &'static str, shapes: Vec<ClippedShape>) {
        self.layers.borrow_mut().push(LayerShapes { name, shapes });
    }

    /// Forgets what was recorded (a new frame starts).
    pub fn clear(&self) {
        self.layers.borrow_mut().clear();
    }

    /// What was recorded.
    pub fn take(&self) -> Vec<LayerShapes> {
        std::mem::take(&mut self.layers.borrow_mut())
    }
}
