//! A source asked view by view, when it holds more incidents than the window keeps (a large
//! PostGIS table). For the visible viewport and zoom the window asks it for cluster cells under
//! the current filter (tile by tile, cached per filter and tile), and only where few incidents
//! remain in view ([`VIEW_LIMIT`]) for those incidents themselves. The legend, status bar and
//! timeline show the source's aggregates; details are read by key. Every question runs on a
//! [`Session`] worker; the UI thread only polls answers. A change the source reports refreshes
//! what is shown.

use std::collections::{HashMap, HashSet};

use std::sync::Arc;

use crate::cells::{Cell, cell_span, to_clusters};
use crate::cluster::Cluster;
use crate::details::Details;
use crate::projection::{MercRect, lat_of, lon_of};
use crate::query::counts::Aggregates;
use crate::query::{BBox, Filter};
use crate::source::session::{Answer, Ask, Session, TileKey};
use crate::source::{Fetch, Incidents, Key, Source, SourceError};
use crate::view::Screen;

/// Incidents are fetched one by one only when at most this many are in view.
pub const VIEW_LIMIT: usize = 3000;
/// Cached tiles kept before the cache starts over.
const MAX_TILES: usize = 4096;

/// What the window must do after a frame's answers.
#[derive(Default)]
pub struct News {
    /// The incidents in view arrived (or went: too many to list), replacing the data.
    pub data: Option<Incidents>,
    /// Aggregates arrived: counts and the timeline change.
    pub counts: bool,
    /// Details asked for by key.
    pub details: Option<(Key, Details)>,
}

/// The source's state in the window.
pub struct Remote {
    /// The source.
    pub source: Arc<dyn Source>,
    session: Session,
    tiles: HashMap<(String, TileKey), Vec<Cell>>,
    /// Tiles from before a change notification, drawn until their fresh copy arrives.
    old_tiles: HashMap<(String, TileKey), Vec<Cell>>,
    asked_tiles: HashSet<(String, TileKey)>,
    tiles_for: Option<(String, u32)>,
    /// The latest aggregates and the filter they answer.
    pub agg: Option<(String, Aggregates)>,
    agg_asked: Option<String>,
    /// The filter and box of the incidents the window's store holds (none: it holds none).
    pub view: Option<(String, BBox)>,
    view_asked: Option<(String, BBox)>,
    view_stale: bool,
    /// View questions that found more than [`VIEW_LIMIT`] incidents in their box.
    too_many: Vec<(String, BBox)>,
    details_asked: Option<Key>,
    /// Every type seen in the source, in the order the window's store interns them.
    pub types: Vec<String>,
    /// The fault that stopped the questions (Retry asks again).
    pub error: Option<SourceError>,
    /// Clusters to draw when the store does not hold the incidents in view.
    pub clusters: Vec<Cluster>,
    /// Whether the map draws [`Remote::clusters`] rather than the store.
    pub drawing_cells: bool,
    /// Incidents in view under the filter (from the cells), once known.
    pub in_view: Option<u64>,
}

fn key(f: &Filter) -> String {
    serde_json::to_string(f).unwrap_or_default()
}

impl Remote {
    /// Starts asking `source`; `ctx` is repainted when answers arrive.
    pub fn start(source: Arc<dyn Source>, ctx: &egui::Context) -> Remote {
        let ctx = ctx.clone();
        let session = Session::start(source.clone(), Box::new(move || ctx.request_repaint()));
        Remote {
            source,
            session,
            tiles: HashMap::new(),
            old_tiles: HashMap::new(),
            asked_tiles: HashSet::new(),
            tiles_for: None,
            agg: None,
            agg_asked: None,
            view: None,
            view_asked: None,
            view_stale: false,
            too_many: Vec::new(),
            details_asked: None,
            types: Vec::new(),
            error: None,
            clusters: Vec::new(),
            drawing_cells: true,
            in_view: None,
        }
    }

    /// The incidents in view must be read again (the store no longer holds them).
    pub fn forget_view(&mut self) {
        self.view = None;
        self.view_asked = None;
        self.view_stale = true;
    }

    /// Asks again after a fault.
    pub fn retry(&mut self) {
        self.error = None;
        self.asked_tiles.clear();
        self.agg_asked = None;
        self.view_asked = None;
        self.details_asked = None;
    }

    /// Questions still unanswered (for the status bar).
    pub fn pending(&self) -> usize {
        self.asked_tiles.len()
            + self.agg_asked.is_some() as usize
            + self.view_asked.is_some() as usize
            + self.details_asked.is_some() as usize
    }

    /// Takes the answers that arrived.
    pub fn poll(&mut self) -> News {
        let mut news = News::default();
        for a in self.session.poll() {
            match a {
                Answer::Aggregates(f, r) => {
                    let k = key(&f);
                    if self.agg_asked.as_ref() == Some(&k) {
                        self.agg_asked = None;
                    }
                    match r {
                        Ok(a) => {
                            for t in &a.types {
                                if !self.types.contains(&t.name) {
                                    self.types.push(t.name.clone());
                                    // The store must know every type: read the view again.
                                    self.view_stale = true;
                                }
                            }
                            self.agg = Some((k, a));
                            news.counts = true;
                        }
                        Err(e) => self.error = Some(e),
                    }
                }
                Answer::Tile(f, t, r) => {
                    let k = (key(&f), t);
                    self.asked_tiles.remove(&k);
                    match r {
                        Ok(cells) => {
                            self.old_tiles.remove(&k);
                            if self.tiles.len() >= MAX_TILES {
                                self.tiles.clear();
                            }
                            self.tiles.insert(k, cells);
                        }
                        Err(e) => self.error = Some(e),
                    }
                }
                Answer::View(f, b, r) => {
                    let k = (key(&f), b);
                    if self.view_asked.as_ref() == Some(&k) {
                        self.view_asked = None;
                    }
                    match *r {
                        Ok(inc) => {
                            self.view = Some(k);
                            self.view_stale = false;
                            news.data = Some(inc);
                        }
                        // The widened box held too many: the map keeps the source's cells
                        // (the visible box alone is asked next).
                        Err(SourceError::TooMany { .. }) => {
                            if self.too_many.len() >= 64 {
                                self.too_many.clear();
                            }
                            self.too_many.push(k);
                        }
                        Err(e) => self.error = Some(e),
                    }
                }
                Answer::Details(key, r) => {
                    if self.details_asked == Some(key) {
                        self.details_asked = None;
                    }
                    match *r {
                        Ok(d) => news.details = Some((key, d)),
                        Err(e) => self.error = Some(e),
                    }
                }
                Answer::Changed => {
                    self.old_tiles.extend(self.tiles.drain());
                    self.asked_tiles.clear();
                    self.tiles_for = None;
                    self.agg_asked = None;
                    // Counts are asked again below; the view too, once the cells are in.
                    self.agg = self.agg.take().map(|(_, a)| (String::new(), a));
                    self.view_stale = true;
                    self.view_asked = None;
                }
            }
        }
        news
    }

    /// Asks for the details of the incident `key` (once).
    pub fn ask_details(&mut self, key: Key) {
        if self.error.is_none() && self.details_asked != Some(key) {
            self.details_asked = Some(key);
            self.session.ask(Ask::Details(key), true);
        }
    }

    /// Asks what the view `screen` under `filter` needs and works out what to draw.
    /// `type_id` gives a type name's id in the window's store. Returns true when the store
    /// must be emptied (too many incidents in view to list them).
    pub fn frame(
        &mut self,
        filter: &Filter,
        screen: Option<&Screen>,
        type_id: impl Fn(&str) -> u32,
    ) -> bool {
        let k = key(filter);
        let asking = self.error.is_none();
        if asking
            && self.agg.as_ref().is_none_or(|a| a.0 != k)
            && self.agg_asked.as_ref() != Some(&k)
        {
            self.agg_asked = Some(k.clone());
            self.session.ask(Ask::Aggregates(filter.clone()), true);
        }
        let Some(s) = screen else { return false };
        let level = (s.zoom.round().max(0.0) as u32 + crate::cells::LEVELS_BELOW_ZOOM).min(30);
        let vis = s.visible(30.0);
        let (cx0, cx1) = cell_span(vis.x0, vis.x1, level);
        let (cy0, cy1) = cell_span(vis.y0, vis.y1, level);
        let (t0, t1) = (
            TileKey::of_cell(level, cx0, cy0),
            TileKey::of_cell(level, cx1, cy1),
        );
        if (t1.tx - t0.tx + 1) * (t1.ty - t0.ty + 1) > 256 {
            return false;
        }
        let mut supersede = self.tiles_for.as_ref() != Some(&(k.clone(), level));
        if supersede && asking {
            self.tiles_for = Some((k.clone(), level));
            // The workers drop the tiles asked before without answering: ask them again when
            // they are wanted again.
            self.asked_tiles
                .retain(|(tk, t)| *tk == k && t.level == level);
        }
        let mut cells: Vec<&Cell> = Vec::new();
        let mut complete = true;
        let mut any = false;
        for ty in t0.ty..=t1.ty {
            for tx in t0.tx..=t1.tx {
                let t = TileKey { level, tx, ty };
                let tk = (k.clone(), t);
                let got = match self.tiles.get(&tk) {
                    Some(c) => Some(c),
                    None => {
                        complete = false;
                        if asking && !self.asked_tiles.contains(&tk) {
                            self.session.ask(Ask::Tile(filter.clone(), t), supersede);
                            supersede = false;
                            self.asked_tiles.insert(tk.clone());
                        }
                        self.old_tiles.get(&tk)
                    }
                };
                if let Some(got) = got {
                    any = true;
                    cells
                        .extend(got.iter().filter(|c| {
                            (cx0..=cx1).contains(&c.cx) && (cy0..=cy1).contains(&c.cy)
                        }));
                }
            }
        }
        let count: u64 = cells.iter().map(|c| c.count).sum();
        let clusters = (any || complete)
            .then(|| to_clusters(&cells, level, crate::cells::MERGE_PX / s.scale(), type_id));
        self.in_view = complete.then_some(count);
        let few = complete && count as usize <= VIEW_LIMIT;
        let mut empty_store = false;
        if few {
            self.list_view(filter, &k, vis, asking);
        } else {
            self.drawing_cells = true;
            if complete && self.view.is_some() {
                self.view = None;
                empty_store = true;
            }
        }
        if self.drawing_cells
            && let Some(c) = clusters
        {
            self.clusters = c;
        }
        empty_store
    }

    /// Few incidents are in view: holds them, or asks for them (the box around the view, unless
    /// that held too many: then the view itself, and if even that did, none). The map draws the
    /// source's cells until they are here.
    fn list_view(&mut self, filter: &Filter, k: &str, vis: MercRect, asking: bool) {
        let refused = |b: &BBox| self.too_many.iter().any(|(tk, tb)| *tk == k && tb == b);
        let (wide, tight) = (around(vis), exact(vis));
        let want = [wide, tight].into_iter().find(|b| !refused(b));
        let held = !self.view_stale
            && self
                .view
                .as_ref()
                .is_some_and(|(vk, b)| *vk == k && covers(b, &vis));
        if held {
            self.drawing_cells = false;
        } else {
            let asked = self
                .view_asked
                .as_ref()
                .is_some_and(|(vk, b)| *vk == k && covers(b, &vis));
            if asking
                && !asked
                && let Some(want) = want
            {
                self.view_asked = Some((k.to_string(), want));
                let fetch = Fetch {
                    limit: VIEW_LIMIT,
                    records: false,
                    types: self.types.clone(),
                    view: true,
                };
                self.session
                    .ask(Ask::View(filter.clone(), want, fetch), true);
            }
            self.drawing_cells = true;
        }
    }
}

/// The box of `vis` widened by half its size each way (so small pans need no new question),
/// as longitudes and latitudes.
fn around(vis: MercRect) -> BBox {
    let (w, h) = (vis.x1 - vis.x0, vis.y1 - vis.y0);
    let x0 = (vis.x0 - w / 2.0).max(0.0);
    let x1 = (vis.x1 + w / 2.0).min(1.0);
    let y0 = (vis.y0 - h / 2.0).max(0.0);
    let y1 = (vis.y1 + h / 2.0).min(1.0);
    BBox {
        min_lon: lon_of(x0),
        min_lat: lat_of(y1),
        max_lon: lon_of(x1),
        max_lat: lat_of(y0),
    }
}

/// The box of `vis` itself (within the world), as longitudes and latitudes.
fn exact(vis: MercRect) -> BBox {
    BBox {
        min_lon: lon_of(vis.x0.max(0.0)),
        min_lat: lat_of(vis.y1.min(1.0)),
        max_lon: lon_of(vis.x1.min(1.0)),
        max_lat: lat_of(vis.y0.max(0.0)),
    }
}

/// Whether `b` holds all of `vis`.
fn covers(b: &BBox, vis: &MercRect) -> bool {
    let (x0, x1) = (vis.x0.max(0.0), vis.x1.min(1.0));
    let (y0, y1) = (vis.y0.max(0.0), vis.y1.min(1.0));
    b.min_lon <= lon_of(x0)
        && b.max_lon >= lon_of(x1)
        && b.max_lat >= lat_of(y0)
        && b.min_lat <= lat_of(y1)
}
