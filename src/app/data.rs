//! The window's data: opening a source (on the loader's thread), holding its incidents — all of
//! them when the window can hold them, else asking the source view by view ([`Remote`]) — and
//! what the filters select from them. The window never asks which kind of source it has.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::filters::Stale;
use super::loader::{Loader, Opened};
use super::remote::Remote;
use super::{App, Data, Pick, dupes_job};
use crate::date::Day;
use crate::query::{Filter, Selection};
use crate::source::{Change, Incidents, Source, SourceError};
use crate::view::Screen;
use crate::view::overlay::{LegendEntry, legend_entries};

/// A source's change feed followed on a thread: the window reads its incidents again when
/// someone changed them.
pub struct Watcher {
    changed: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Watcher {
    /// Follows `source`'s changes, if it has a feed; `ctx` is repainted on each.
    pub fn start(source: &dyn Source, ctx: &egui::Context) -> Option<Watcher> {
        let mut feed = source.watch()?;
        let changed = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s, ctx) = (changed.clone(), stop.clone(), ctx.clone());
        std::thread::Builder::new()
            .name("incident-map-watch".into())
            .spawn(move || {
                while !s.load(Ordering::SeqCst) {
                    if feed.wait(std::time::Duration::from_millis(250)) == Change::Changed {
                        c.store(true, Ordering::SeqCst);
                        ctx.request_repaint();
                    }
                }
            })
            .ok()?;
        Some(Watcher { changed, stop })
    }

    /// Whether a change came since the last call.
    pub fn take(&self) -> bool {
        self.changed.swap(false, Ordering::SeqCst)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Data {
    /// "date  type  place" of store index `i` (lists, prompts).
    pub fn line(&self, i: u32) -> String {
        let i = i as usize;
        format!(
            "{}  {}  {}",
            self.store.date_string(i),
            self.store.type_name(i),
            self.store.place_name(i)
        )
    }

    /// Incidents of `source` held by the window (`records`: whether their records came with
    /// them).
    pub fn of(inc: Incidents, source: Option<&dyn Source>, records: bool) -> Data {
        let report = source.map(|s| (*s.report()).clone()).unwrap_or_default();
        // What opens the source again, without any password (settings, saved views).
        let files = source.map(|s| s.arguments()).unwrap_or_default();
        Data {
            store: inc.store.clone(),
            index: inc.index(),
            links: inc.links(),
            incidents: inc,
            problems: report.problems,
            errors: report.errors,
            skipped: report.skipped,
            files,
            records,
        }
    }
}

impl App {
    /// Starts opening `files` (or one table URL) in the background, replacing the current data
    /// when done.
    pub fn open(&mut self, ctx: &egui::Context, files: Vec<PathBuf>) {
        if let Some(l) = &self.loader {
            l.cancel();
        }
        self.loader = Some(Loader::open(
            files,
            self.overrides.clone(),
            self.resident_limit,
            ctx.clone(),
        ));
        self.map.pending_fit = true;
        self.map.fitted_rect = None;
    }

    /// Takes what the loader produced: all the incidents, or a source to ask view by view.
    pub(super) fn accept(&mut self, done: Opened) {
        let source = match done.source {
            Ok(s) => s,
            Err(crate::source::OpenError::Cancelled) => {
                self.chrome.message =
                    Some("Loading cancelled; the previous data stays open.".into());
                return;
            }
            Err(e) => {
                self.chrome.message = Some(e.to_string());
                return;
            }
        };
        match done.incidents {
            Ok(inc) => self.hold(source, inc, done.again),
            Err(SourceError::Cancelled) => {
                // The incident a write asked to select may not be among those held.
                self.editor.select_after = None;
                self.chrome.message = Some(if done.again {
                    "Reading again cancelled; the incidents shown are as read before.".into()
                } else {
                    "Loading cancelled; the previous data stays open.".into()
                });
            }
            // Too many to hold, or the source failed: it is asked view by view, and a fault
            // shows with Retry.
            Err(_) => self.ask_by_view(source),
        }
    }

    /// Holds all the incidents of `source`.
    fn hold(&mut self, source: Arc<dyn Source>, inc: Incidents, again: bool) {
        let report = source.report();
        if inc.store.is_empty() && !report.errors.is_empty() && self.data.is_some() && !again {
            self.chrome.message = Some(format!(
                "Could not load: {}",
                report
                    .errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
            return;
        }
        self.chrome.message = (!report.errors.is_empty()).then(|| {
            format!(
                "{} file(s) could not be loaded — see Problems",
                report.errors.len()
            )
        });
        // A reading again keeps the selection (by key) and what is shown.
        let selected = self
            .pick
            .selected
            .zip(self.data.as_ref())
            .map(|(i, d)| d.incidents.key(i));
        self.filters.data_loaded(&inc.store);
        self.dupes = dupes_job::Dupes::default();
        self.analyst.data_replaced();
        self.remote = None;
        if !again || self.watch.is_none() {
            self.watch = super::data::Watcher::start(&*source, &self.ctx);
        }
        self.data = Some(Data::of(inc, Some(&*source), true));
        // Keys of what was read before may name other incidents now.
        self.evidence.forget();
        if !again {
            self.editor.source_opened(&source, &self.ctx);
        }
        self.source = Some(source.clone());
        self.pick = Pick::default();
        if again {
            // After a write, the incident written; else the selection as it was.
            let key = self.editor.select_after.take().or(selected);
            self.pick.selected = key.and_then(|k| self.data.as_ref()?.incidents.position(k));
            self.pick.scroll_table = self.pick.selected.is_some();
            let who = self.editor_name();
            self.editor
                .data_read_again(&source, &who, &self.ctx.clone());
        }
    }

    /// Asks `source` view by view: counts, cells, the few incidents in view.
    fn ask_by_view(&mut self, source: Arc<dyn Source>) {
        self.watch = None;
        self.editor.source_opened(&source, &self.ctx);
        self.remote = Some(Remote::start(source.clone(), &self.ctx));
        self.data = Some(Data::of(Incidents::empty(), Some(&*source), false));
        self.evidence.forget();
        self.source = Some(source);
        self.pick = Pick::default();
        self.filters.data_loaded(&crate::store::Store::default());
        self.dupes = dupes_job::Dupes::default();
        self.analyst.data_replaced();
    }

    /// Reads the incidents again when the source says they changed (and nothing is loading).
    pub(super) fn watch_frame(&mut self) {
        if self.loader.is_some() || !self.watch.as_ref().is_some_and(|w| w.take()) {
            return;
        }
        if let Some(s) = &self.source {
            self.loader = Some(Loader::again(
                s.clone(),
                self.resident_limit,
                self.ctx.clone(),
            ));
        }
    }

    /// Replaces the incidents held with those a view question fetched (the selection follows
    /// its key).
    fn set_view_incidents(&mut self, inc: Incidents) {
        let Some(r) = &mut self.remote else { return };
        let selected = self
            .pick
            .selected
            .zip(self.data.as_ref())
            .map(|(i, d)| d.incidents.key(i));
        // The whole table's colours once the source knows them (a view's fetch may have come
        // before its aggregates, with the colours of its own rows).
        let mut inc = inc;
        if let Some(c) = self.source.as_ref().and_then(|s| s.known_colours())
            && inc.store.colours != c
        {
            Arc::make_mut(&mut inc.store).colours = c;
        }
        let inc = if inc.store.types.len() < r.types.len() {
            // Every type of the source, so the legend and the type filter know them all; the
            // incidents fetched without the new types are read again.
            r.forget_view();
            let mut b = crate::store::Builder::with_capacity(0);
            b.intern_types(&r.types);
            let mut e = Incidents::empty();
            let mut store = b.finish(Vec::new());
            store.colours = inc.store.colours.clone();
            e.store = Arc::new(store);
            e
        } else {
            inc
        };
        self.filters.data_loaded(&inc.store);
        self.dupes = dupes_job::Dupes::default();
        self.analyst.data_replaced();
        self.data = Some(Data::of(inc, self.source.as_deref(), false));
        let position = selected.and_then(|k| self.data.as_ref()?.incidents.position(k));
        let details = self.pick.details.take();
        self.pick.stack = None;
        self.pick.selected = position;
        // Details read by key stay: they do not depend on where the incident sits.
        if let (Some(i), Some((_, d))) = (position, details) {
            self.pick.details = Some((i, d));
        }
    }

    /// Gives the held store the table's colours, which its aggregates just brought.
    fn table_colours(&mut self) {
        let Some(c) = self.source.as_ref().and_then(|s| s.known_colours()) else {
            return;
        };
        if let Some(d) = &mut self.data
            && d.store.colours != c
        {
            Arc::make_mut(&mut d.incidents.store).colours = c;
            d.store = d.incidents.store.clone();
        }
    }

    /// One frame of a source asked view by view: answers in, questions out.
    pub(super) fn remote_frame(&mut self) {
        let Some(r) = &mut self.remote else { return };
        let news = r.poll();
        let selected_key = self
            .pick
            .selected
            .zip(self.data.as_ref())
            .map(|(i, d)| d.incidents.key(i));
        if let Some((key, d)) = news.details
            && selected_key == Some(key)
            && let Some(i) = self.pick.selected
        {
            self.pick.details = Some((i, Ok(d)));
        }
        // New types: the store must know them at once (legend, type list); the incidents in
        // view are read again with them.
        let known = self.data.as_ref().map_or(0, |d| d.store.types.len());
        let grown = known < r.types.len();
        if news.counts {
            self.filters.invalidate();
            self.table_colours();
        }
        match news.data {
            Some(inc) => self.set_view_incidents(inc),
            None if grown => self.set_view_incidents(Incidents::empty()),
            None => {}
        }
        let filter = self.effective_filter();
        let (Some(d), Some(r)) = (&self.data, &mut self.remote) else {
            return;
        };
        let store = d.store.clone();
        let empty = r.frame(&filter, self.map.screen.as_ref(), |n| {
            store.types.get(n).unwrap_or(u32::MAX)
        });
        if empty {
            self.set_view_incidents(Incidents::empty());
        }
        // Details of the selected incident are read by key when its record did not come.
        if let (Some(i), Some(d)) = (self.pick.selected, &self.data)
            && !d.records
            && self.pick.details.as_ref().is_none_or(|(k, _)| *k != i)
            && let Some(r) = &mut self.remote
        {
            r.ask_details(d.incidents.key(i));
        }
    }

    /// What the details panel shows for the selected incident, once read.
    pub fn pick_details(&self) -> Option<&Result<crate::details::Details, SourceError>> {
        let (k, d) = self.pick.details.as_ref()?;
        (Some(*k) == self.pick.selected).then_some(d)
    }

    /// Reads the details of the selected incident from the incidents held, when their records
    /// came with them (otherwise they are asked by key: [`App::remote_frame`]).
    pub fn read_details(&mut self) {
        let (Some(i), Some(d)) = (self.pick.selected, &self.data) else {
            return;
        };
        if d.records && self.pick.details.as_ref().is_none_or(|(k, _)| *k != i) {
            let r = crate::details::details(&d.store, i as usize).map_err(SourceError::from);
            self.pick.details = Some((i, r));
        }
    }

    /// Blocks until a pending load finishes (tests, headless rendering).
    pub fn finish_loading(&mut self) {
        if let Some(l) = self.loader.take()
            && let Some(done) = l.wait()
        {
            self.accept(done);
        }
    }

    /// Incidents selected by the filters and incidents in all (a table's come from the server).
    pub fn counts(&self) -> (u64, u64) {
        if let Some(r) = &self.remote {
            return match &r.agg {
                Some((_, a)) => (a.shown(|n| !self.filters.is_hidden(n)).0, a.incidents),
                None => (0, 0),
            };
        }
        (
            self.sel.shown.len() as u64,
            self.data.as_ref().map_or(0, |d| d.store.len() as u64),
        )
    }

    /// First and last day of the data.
    pub fn day_range(&self) -> Option<(Day, Day)> {
        match &self.remote {
            Some(r) => r.agg.as_ref().and_then(|a| a.1.day_range),
            None => self.data.as_ref().and_then(|d| d.store.day_range()),
        }
    }

    /// Adds files to those open.
    pub fn add(&mut self, ctx: &egui::Context, files: Vec<PathBuf>) {
        let mut all = self
            .data
            .as_ref()
            .map(|d| d.files.clone())
            .unwrap_or_default();
        for f in files {
            if !all.contains(&f) {
                all.push(f);
            }
        }
        self.open(ctx, all);
    }

    /// The load in progress, if any.
    pub fn loader(&self) -> Option<&Loader> {
        self.loader.as_ref()
    }

    /// The full filter, in the command line's terms (types listed when some are switched off).
    pub fn effective_filter(&self) -> Filter {
        self.filters
            .effective(self.data.as_ref().map(|d| &*d.store))
    }

    /// Recomputes what the filters select, when they went stale.
    pub fn refresh(&mut self) {
        let stale = self.filters.take_stale();
        if stale == Stale::Nothing {
            return;
        }
        let Some(d) = &self.data else { return };
        let s = &*d.store;
        let keep: Vec<bool> = s
            .types
            .names()
            .map(|n| !self.filters.is_hidden(n))
            .collect();
        let base = self.filters.base().clone();
        let undated = Filter {
            from: None,
            to: None,
            ..base.clone()
        };
        let bars = stale == Stale::All || self.sel.timeline.day_counts.is_empty();
        let undated = if bars { Some(s.select(&undated)) } else { None };
        let facet = match (s.select(&base), undated.transpose()) {
            (Ok(f), Ok(u)) => {
                if let Some(u) = u {
                    self.sel.timeline = u.restrict_types(s, &keep);
                    self.sel.timeline_generation += 1;
                    self.sel.stacks = Some(super::timeline::Stacks::of(
                        s,
                        &self.sel.timeline.indices,
                        self.sel.timeline.first_day,
                        self.sel.timeline.day_counts.len(),
                    ));
                }
                f
            }
            (Err(e), _) | (_, Err(e)) => {
                // What was shown stays; the message says why it cannot change.
                self.chrome.message = Some(e.to_string());
                return;
            }
        };
        self.sel.shown = facet.restrict_types(s, &keep);
        self.sel.generation += 1;
        self.sel.facet = facet;
        self.sel.clusters = d.index.select(&self.sel.shown);
        if self.remote.is_none() {
            self.analyst.recount(s, &self.sel.shown);
            self.analyst.links = crate::links::shown_segments(s, &d.links, &self.sel.shown.indices);
            self.dupes.rule = self.analyst.tools.dupes;
            self.dupes
                .start(d.store.clone(), self.sel.shown.indices.clone(), &self.ctx);
        }
        if let Some(r) = &self.remote
            && let Some((_, a)) = &r.agg
        {
            // A table's counts are the server's, over the whole table.
            let mut counts = vec![0u32; s.types.len()];
            for t in &a.types {
                if let Some(id) = s.types.get(&t.name) {
                    counts[id as usize] = t.count as u32;
                }
            }
            self.sel.facet.type_counts = counts;
            self.sel.shown.disputed = a.shown(|n| !self.filters.is_hidden(n)).1 as u32;
            self.sel.timeline_generation += 1;
            self.sel.timeline = Selection {
                first_day: a.first_day,
                day_counts: a.day_counts.clone(),
                ..Default::default()
            };
        }
        if let Some(i) = self.pick.selected
            && self.sel.shown.indices.binary_search(&i).is_err()
        {
            self.pick.selected = None;
        }
    }

    /// Moves the map to show the filtered incidents.
    pub fn fit_to_selection(&mut self) {
        let Some(d) = &self.data else { return };
        let bbox = match &self.remote {
            Some(r) => r
                .agg
                .as_ref()
                .and_then(|a| a.1.shown(|n| !self.filters.is_hidden(n)).2),
            None => self.sel.shown.bbox(&d.store),
        };
        let Some(bbox) = bbox else {
            return;
        };
        let rect = self
            .map
            .screen
            .map(|s| s.rect)
            .unwrap_or(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(900.0, 600.0),
            ));
        let s = Screen::fit(rect, bbox, 40.0, 14.0);
        let (lon, lat) = s.center_lonlat();
        self.map.center_on(lon, lat, Some(s.zoom));
    }

    /// Legend rows: every type with its count under the other filters.
    pub fn legend_entries(&self) -> Vec<LegendEntry> {
        match &self.data {
            Some(d) => legend_entries(&d.store, &self.sel.facet.type_counts, |n| {
                self.filters.is_hidden(n)
            }),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::WindowOptions;
    use crate::view::tiles::BaseLayer;

    /// A reading again that is cancelled leaves the incidents as they were read (not a switch
    /// to asking the source view by view) and says so.
    #[test]
    fn a_cancelled_reading_again_keeps_the_incidents_and_says_so() {
        let bundled = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson");
        let mut app = App::loaded(
            WindowOptions {
                files: vec![bundled],
                base: Some(BaseLayer::Offline),
                ..Default::default()
            },
            None,
        );
        let all = app.counts();
        assert!(all.1 > 0);
        let source = app.source.clone().unwrap();
        app.accept(Opened {
            source: Ok(source),
            incidents: Err(SourceError::Cancelled),
            files: Vec::new(),
            again: true,
        });
        assert_eq!(app.counts(), all);
        assert!(app.remote.is_none(), "not asked view by view");
        assert_eq!(
            app.chrome.message.as_deref(),
            Some("Reading again cancelled; the incidents shown are as read before.")
        );
    }
}
