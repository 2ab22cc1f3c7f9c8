//! A source asked from the window without blocking it: two worker threads ask the questions (one
//! the aggregates and details, the other cluster cells per tile and the few incidents in view,
//! so a slow count never holds up the map), and a third follows the source's change feed.
//! Questions come and answers go over channels. A question that a newer one of the same kind
//! supersedes is dropped before it runs, or cancelled while it runs (on the server, for a
//! table). Any [`Source`] works here: the window never asks which kind it has.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Change, Fetch, Incidents, Key, Source, SourceError};
use crate::cells::{Cell, CellSpan};
use crate::details::Details;
use crate::progress::Control;
use crate::query::counts::Aggregates;
use crate::query::{BBox, Filter};

/// A quadtree tile whose cells are asked for together: the cells at `level` whose top
/// `level - TILE_LEVELS` bits are `(tx, ty)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileKey {
    /// Cell level.
    pub level: u32,
    /// Tile column (at `level - TILE_LEVELS`, or 0).
    pub tx: u64,
    /// Tile row.
    pub ty: u64,
}

/// A tile is 2^3 × 2^3 cells: a screen needs a few tiles, each one query.
pub const TILE_LEVELS: u32 = 3;

impl TileKey {
    /// The tile holding cell `(cx, cy)` at `level`.
    pub fn of_cell(level: u32, cx: u64, cy: u64) -> TileKey {
        let s = TILE_LEVELS.min(level);
        TileKey {
            level,
            tx: cx >> s,
            ty: cy >> s,
        }
    }

    /// Its cell columns and rows (inclusive).
    pub fn cells(&self) -> CellSpan {
        let s = TILE_LEVELS.min(self.level);
        let n = 1u64 << s;
        (
            (self.tx << s, (self.tx << s) + n - 1),
            (self.ty << s, (self.ty << s) + n - 1),
        )
    }
}

/// A question for the server.
#[derive(Debug, Clone)]
pub enum Ask {
    /// Counts for the legend, status bar and timeline under a filter.
    Aggregates(Filter),
    /// Cluster cells of one tile under a filter.
    Tile(Filter, TileKey),
    /// The incidents under a filter inside a box, fetched as asked.
    View(Filter, BBox, Fetch),
    /// One incident's details.
    Details(Key),
}

impl Ask {
    fn kind(&self) -> usize {
        match self {
            Ask::Aggregates(_) => 0,
            Ask::Tile(..) => 1,
            Ask::View(..) => 2,
            Ask::Details(_) => 3,
        }
    }

    /// Tiles and views share the map's worker; aggregates and details the other.
    fn lane(&self) -> usize {
        match self {
            Ask::Aggregates(_) | Ask::Details(_) => 0,
            Ask::Tile(..) | Ask::View(..) => 1,
        }
    }
}

/// An answer, with the question it answers.
pub enum Answer {
    /// [`Ask::Aggregates`].
    Aggregates(Filter, Result<Aggregates, SourceError>),
    /// [`Ask::Tile`].
    Tile(Filter, TileKey, Result<Vec<Cell>, SourceError>),
    /// [`Ask::View`].
    View(Filter, BBox, Box<Result<Incidents, SourceError>>),
    /// [`Ask::Details`].
    Details(Key, Box<Result<Details, SourceError>>),
    /// Someone changed the source: what was asked before may be out of date.
    Changed,
}

struct Job {
    ask: Ask,
    generation: u64,
}

/// The running question of a lane: its kind, generation and its control (to cancel it).
type Running = Mutex<Option<(usize, u64, Arc<Control>)>>;

struct Shared {
    source: Arc<dyn Source>,
    /// The newest generation per kind of question; older ones are superseded.
    generations: [AtomicU64; 4],
    running: [Running; 2],
    stop: AtomicBool,
    out: Mutex<Sender<Answer>>,
    wake: Box<dyn Fn() + Send + Sync>,
}

impl Shared {
    fn send(&self, a: Answer) {
        if let Ok(tx) = self.out.lock() {
            let _ = tx.send(a);
        }
        (self.wake)();
    }

    fn current(&self, kind: usize, generation: u64) -> bool {
        self.generations[kind].load(Ordering::SeqCst) <= generation
    }
}

/// An open source: ask, then poll for answers.
pub struct Session {
    shared: Arc<Shared>,
    lanes: [Sender<Job>; 2],
    answers: Receiver<Answer>,
}

impl Session {
    /// Starts the workers and the change listener for `source`; `wake` is called after every
    /// answer (the window asks for a repaint).
    pub fn start(source: Arc<dyn Source>, wake: Box<dyn Fn() + Send + Sync>) -> Session {
        let (out, answers) = channel();
        let shared = Arc::new(Shared {
            source,
            generations: Default::default(),
            running: Default::default(),
            stop: AtomicBool::new(false),
            out: Mutex::new(out),
            wake,
        });
        let lanes = [0, 1].map(|lane| {
            let (tx, rx) = channel::<Job>();
            let sh = shared.clone();
            let _ = std::thread::Builder::new()
                .name(format!("incident-map-ask-{lane}"))
                .spawn(move || work(&sh, lane, rx));
            tx
        });
        let sh = shared.clone();
        let _ = std::thread::Builder::new()
            .name("incident-map-watch".into())
            .spawn(move || listen(&sh));
        Session {
            shared,
            lanes,
            answers,
        }
    }

    /// Asks a question, superseding every earlier question of the same kind: those not yet
    /// started are dropped and a running one is cancelled. Tiles supersede
    /// nothing (a panned map still wants the tiles it asked for) unless `supersede` is set.
    pub fn ask(&self, ask: Ask, supersede: bool) {
        let kind = ask.kind();
        let generation = if supersede || kind != 1 {
            let g = self.shared.generations[kind].fetch_add(1, Ordering::SeqCst) + 1;
            self.cancel_older(ask.lane(), kind, g);
            g
        } else {
            self.shared.generations[kind].load(Ordering::SeqCst)
        };
        let _ = self.lanes[ask.lane()].send(Job { ask, generation });
    }

    /// Drops and cancels every question of the kind of `ask` asked so far.
    fn cancel_older(&self, lane: usize, kind: usize, generation: u64) {
        let running = self.shared.running[lane]
            .lock()
            .ok()
            .and_then(|r| r.clone())
            .filter(|(k, g, _)| *k == kind && *g < generation);
        let Some((_, _, ctl)) = running else { return };
        // Cancelling may reach a server (it connects): never on the caller's thread. The
        // question's own control is cancelled, so the cancel cannot reach a later question.
        let _ = std::thread::Builder::new()
            .name("incident-map-cancel".into())
            .spawn(move || ctl.cancel());
    }

    /// The answers that arrived since the last call.
    pub fn poll(&self) -> Vec<Answer> {
        self.answers.try_iter().collect()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for lane in 0..2 {
            for kind in 0..4 {
                let g = self.shared.generations[kind].fetch_add(1, Ordering::SeqCst) + 1;
                self.cancel_older(lane, kind, g);
            }
        }
    }
}

fn work(sh: &Shared, lane: usize, rx: Receiver<Job>) {
    for job in rx {
        if sh.stop.load(Ordering::SeqCst) {
            return;
        }
        let kind = job.ask.kind();
        if !sh.current(kind, job.generation) {
            continue;
        }
        let mut answer = run_once(sh, lane, &job);
        // A cancel meant for an earlier question can still reach this one (a server handles
        // cancel requests asynchronously): a question that is still wanted is asked again.
        if sh.current(kind, job.generation) && cancelled(&answer) {
            answer = run_once(sh, lane, &job);
        }
        // A superseded question's answer (often "cancelled") is not news.
        if sh.current(kind, job.generation) && !cancelled(&answer) {
            sh.send(answer);
        }
    }
}

/// Runs a job with a control of its own, registered as the lane's running question.
fn run_once(sh: &Shared, lane: usize, job: &Job) -> Answer {
    let ctl = Arc::new(Control::default());
    if let Ok(mut r) = sh.running[lane].lock() {
        *r = Some((job.ask.kind(), job.generation, ctl.clone()));
    }
    // Superseded while it was being set up: not worth starting.
    let answer = if sh.current(job.ask.kind(), job.generation) {
        run(sh, job.ask.clone(), &ctl)
    } else {
        failed(job.ask.clone(), SourceError::Cancelled)
    };
    if let Ok(mut r) = sh.running[lane].lock() {
        *r = None;
    }
    answer
}

fn run(sh: &Shared, ask: Ask, ctl: &Control) -> Answer {
    let src = &*sh.source;
    match ask {
        Ask::Aggregates(f) => {
            let r = src.aggregates(&f, ctl);
            Answer::Aggregates(f, r)
        }
        Ask::Tile(f, t) => {
            let r = src.cells(&f, t.level, t.cells(), ctl);
            Answer::Tile(f, t, r)
        }
        Ask::View(f, b, fetch) => {
            let inside = Filter {
                bbox: Some(within(f.bbox, b)),
                ..f.clone()
            };
            let r = src.incidents(&inside, &fetch, ctl);
            Answer::View(f, b, Box::new(r))
        }
        Ask::Details(key) => Answer::Details(key, Box::new(src.details(key, ctl))),
    }
}

/// The view's box within the filter's own, if it has one.
fn within(filter_box: Option<BBox>, b: BBox) -> BBox {
    match filter_box {
        Some(u)
            if u.max_lon >= b.min_lon
                && u.min_lon <= b.max_lon
                && u.max_lat >= b.min_lat
                && u.min_lat <= b.max_lat =>
        {
            BBox {
                min_lon: u.min_lon.max(b.min_lon),
                min_lat: u.min_lat.max(b.min_lat),
                max_lon: u.max_lon.min(b.max_lon),
                max_lat: u.max_lat.min(b.max_lat),
            }
        }
        Some(u) => u,
        None => b,
    }
}

/// Whether the question was cancelled (a superseded one, or one hit by a late cancel).
fn cancelled(a: &Answer) -> bool {
    let e = match a {
        Answer::Aggregates(_, Err(e)) | Answer::Tile(_, _, Err(e)) => e,
        Answer::View(_, _, r) => match &**r {
            Err(e) => e,
            Ok(_) => return false,
        },
        Answer::Details(_, r) => match &**r {
            Err(e) => e,
            Ok(_) => return false,
        },
        _ => return false,
    };
    *e == SourceError::Cancelled
}

fn failed(ask: Ask, e: SourceError) -> Answer {
    match ask {
        Ask::Aggregates(f) => Answer::Aggregates(f, Err(e)),
        Ask::Tile(f, t) => Answer::Tile(f, t, Err(e)),
        Ask::View(f, b, _) => Answer::View(f, b, Box::new(Err(e))),
        Ask::Details(key) => Answer::Details(key, Box::new(Err(e))),
    }
}

/// Follows the source's change feed until the session stops.
fn listen(sh: &Shared) {
    let Some(mut feed) = sh.source.watch() else {
        return;
    };
    while !sh.stop.load(Ordering::SeqCst) {
        if feed.wait(Duration::from_millis(250)) == Change::Changed
            && !sh.stop.load(Ordering::SeqCst)
        {
            sh.send(Answer::Changed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_hold_their_cells() {
        let t = TileKey::of_cell(9, 300, 200);
        assert_eq!((t.tx, t.ty), (37, 25));
        let ((x0, x1), (y0, y1)) = t.cells();
        assert!((x0..=x1).contains(&300) && (y0..=y1).contains(&200));
        assert_eq!((x1 - x0, y1 - y0), (7, 7));
        // Below the tile size, one tile is the whole world.
        let t = TileKey::of_cell(2, 3, 1);
        assert_eq!((t.tx, t.ty, t.cells()), (0, 0, ((0, 3), (0, 3))));
    }
}
