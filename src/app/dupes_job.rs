//! Possible duplicates among the filtered incidents, found on a worker thread whenever the
//! selection changes (the UI thread only polls), for the map's badges and the details panel.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, channel};

use crate::dupes::{Rule, groups_unless};
use crate::store::Store;

/// The groups of the current selection, and the search in progress.
#[derive(Default)]
pub struct Dupes {
    /// Groups of store indices, each in date order.
    pub groups: Vec<Vec<u32>>,
    /// Store index → its group in `groups`, or `u32::MAX`.
    pub group_of: Vec<u32>,
    /// The rule used.
    pub rule: Rule,
    job: Option<Receiver<Vec<Vec<u32>>>>,
    /// The newest search; older ones stop when they see it has moved on.
    generation: Arc<AtomicU64>,
}

impl Dupes {
    /// Starts a search over `indices` of `store`; a newer one stops an older one.
    pub fn start(&mut self, store: Arc<Store>, indices: Vec<u32>, ctx: &egui::Context) {
        let (tx, rx) = channel();
        let rule = self.rule;
        let ctx = ctx.clone();
        let generation = self.generation.clone();
        let mine = generation.fetch_add(1, Ordering::SeqCst) + 1;
        let spawned = std::thread::Builder::new()
            .name("incident-map-dupes".into())
            .spawn(move || {
                let moved_on = || generation.load(Ordering::SeqCst) != mine;
                if let Some(g) = groups_unless(&store, &indices, rule, &moved_on) {
                    let _ = tx.send(g);
                    ctx.request_repaint();
                }
            });
        self.job = spawned.is_ok().then_some(rx);
    }

    /// Takes a finished search; `n` is the store's size.
    pub fn poll(&mut self, n: usize) {
        let Some(rx) = &self.job else { return };
        if let Ok(g) = rx.try_recv() {
            self.group_of = vec![u32::MAX; n];
            for (k, m) in g.iter().enumerate() {
                for &i in m {
                    if let Some(slot) = self.group_of.get_mut(i as usize) {
                        *slot = k as u32;
                    }
                }
            }
            self.groups = g;
            self.job = None;
        }
    }

    /// Waits for a search in progress (tests).
    pub fn wait(&mut self, n: usize) {
        if let Some(rx) = self.job.take()
            && let Ok(g) = rx.recv()
        {
            let (tx, again) = channel();
            let _ = tx.send(g);
            self.job = Some(again);
            self.poll(n);
        }
    }

    /// The group of incident `i`, if it has one.
    pub fn group(&self, i: u32) -> Option<&[u32]> {
        let k = *self.group_of.get(i as usize)?;
        self.groups.get(k as usize).map(Vec::as_slice)
    }
}
