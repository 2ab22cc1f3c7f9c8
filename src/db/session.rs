//! A table kept open for the window: two worker threads ask the server (one the aggregates and
//! records, the other cluster cells per tile and the few incidents in view, so a slow count never
//! holds up the map), and a third listens for the change trigger's `NOTIFY`. Questions come and
//! answers go over channels; nothing here blocks the caller. A question that a newer one of the
//! same kind supersedes is dropped before it runs, or cancelled on the server while it runs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::fetch::{Fetched, fetch_id, fetch_on};
use super::query::{Aggregates, aggregates_on, cells_on, filter_sql};
use super::{DbError, DbSource, open};
use crate::cells::Cell;
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
    pub fn cells(&self) -> ((u64, u64), (u64, u64)) {
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
    /// The incidents under a filter inside a box (at most `usize`), without their records;
    /// every type of the table (the `Vec`) is interned first.
    View(Filter, BBox, usize, Vec<String>),
    /// One incident with its original record.
    Record(i64),
}

impl Ask {
    fn kind(&self) -> usize {
        match self {
            Ask::Aggregates(_) => 0,
            Ask::Tile(..) => 1,
            Ask::View(..) => 2,
            Ask::Record(_) => 3,
        }
    }

    /// Tiles and views share the map's worker; aggregates and records the other.
    fn lane(&self) -> usize {
        match self {
            Ask::Aggregates(_) | Ask::Record(_) => 0,
            Ask::Tile(..) | Ask::View(..) => 1,
        }
    }
}

/// An answer, with the question it answers.
pub enum Answer {
    /// [`Ask::Aggregates`].
    Aggregates(Filter, Result<Aggregates, DbError>),
    /// [`Ask::Tile`].
    Tile(Filter, TileKey, Result<Vec<Cell>, DbError>),
    /// [`Ask::View`].
    View(Filter, BBox, Box<Result<Fetched, DbError>>),
    /// [`Ask::Record`].
    Record(i64, Box<Result<Fetched, DbError>>),
    /// Someone changed the table: what was asked before may be out of date.
    Changed,
}

struct Job {
    ask: Ask,
    generation: u64,
}

/// The running question of a lane: its kind, generation and how to cancel it.
type Running = Mutex<Option<(usize, u64, postgres::CancelToken)>>;

struct Shared {
    db: DbSource,
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

/// An open table: ask, then poll for answers.
pub struct Session {
    shared: Arc<Shared>,
    lanes: [Sender<Job>; 2],
    answers: Receiver<Answer>,
}

impl Session {
    /// Starts the workers and the change listener for `db`; `wake` is called after every answer
    /// (the window asks for a repaint).
    pub fn start(db: DbSource, wake: Box<dyn Fn() + Send + Sync>) -> Session {
        let (out, answers) = channel();
        let shared = Arc::new(Shared {
            db,
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
                .name(format!("incident-map-db-{lane}"))
                .spawn(move || work(&sh, lane, rx));
            tx
        });
        let sh = shared.clone();
        let _ = std::thread::Builder::new()
            .name("incident-map-db-listen".into())
            .spawn(move || listen(&sh));
        Session {
            shared,
            lanes,
            answers,
        }
    }

    /// Asks a question, superseding every earlier question of the same kind: those not yet
    /// started are dropped and a running one is cancelled on the server. Tiles supersede
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
        let older = move |r: &Option<(usize, u64, postgres::CancelToken)>| matches!(r, Some((k, g, _)) if *k == kind && *g < generation);
        if !self.shared.running[lane].lock().is_ok_and(|r| older(&r)) {
            return;
        }
        // Cancelling connects to the server: never on the caller's thread. The lane's lock is
        // held while the request goes out, and the question checked again under it, so the
        // cancel cannot land on the next question of the connection (the worker takes the same
        // lock before it starts one).
        let sh = self.shared.clone();
        let _ = std::thread::Builder::new()
            .name("incident-map-db-cancel".into())
            .spawn(move || {
                if let Ok(r) = sh.running[lane].lock()
                    && older(&r)
                    && let Some((_, _, t)) = &*r
                {
                    sh.db.cancel(t);
                }
            });
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
    let mut client: Option<postgres::Client> = None;
    for job in rx {
        if sh.stop.load(Ordering::SeqCst) {
            return;
        }
        let kind = job.ask.kind();
        if !sh.current(kind, job.generation) {
            continue;
        }
        let c = match client.as_mut() {
            Some(c) => c,
            None => match open(&sh.db) {
                Ok(c) => client.insert(c),
                Err(e) => {
                    sh.send(failed(job.ask, e));
                    continue;
                }
            },
        };
        if let Ok(mut r) = sh.running[lane].lock() {
            *r = Some((kind, job.generation, c.cancel_token()));
        }
        // Superseded while it was being set up: not worth starting.
        if !sh.current(kind, job.generation) {
            if let Ok(mut r) = sh.running[lane].lock() {
                *r = None;
            }
            continue;
        }
        let mut answer = run(sh, c, job.ask.clone());
        // A cancel meant for an earlier question can still reach this one (the server handles
        // cancel requests asynchronously): a question that is still wanted is asked again.
        if sh.current(kind, job.generation) && cancelled(&answer) && !c.is_closed() {
            answer = run(sh, c, job.ask);
        }
        if let Ok(mut r) = sh.running[lane].lock() {
            *r = None;
        }
        if client.as_ref().is_some_and(|c| c.is_closed()) {
            client = None;
        }
        // A superseded question's answer (often "canceling statement") is not news.
        if sh.current(kind, job.generation) {
            sh.send(answer);
        }
    }
}

fn run(sh: &Shared, c: &mut postgres::Client, ask: Ask) -> Answer {
    let db = &sh.db;
    match ask {
        Ask::Aggregates(f) => {
            let r = aggregates_on(c, db, &f);
            Answer::Aggregates(f, r)
        }
        Ask::Tile(f, t) => {
            let r = cells_on(c, db, &f, t.level, t.cells());
            Answer::Tile(f, t, r)
        }
        Ask::View(f, b, limit, types) => {
            // The view's box within the filter's own, if it has one.
            let bbox = match f.bbox {
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
            };
            let inside = Filter {
                bbox: Some(bbox),
                ..f.clone()
            };
            let r = fetch_on(c, db, filter_sql(&inside, db), limit, &types, false);
            Answer::View(f, b, Box::new(r))
        }
        Ask::Record(id) => Answer::Record(id, Box::new(fetch_id(c, db, id))),
    }
}

/// Whether the server cancelled the question on a cancel request (a statement timeout says so
/// in other words, and is reported, not asked again).
fn cancelled(a: &Answer) -> bool {
    let e = match a {
        Answer::Aggregates(_, Err(e)) | Answer::Tile(_, _, Err(e)) => e,
        Answer::View(_, _, r) | Answer::Record(_, r) => match &**r {
            Err(e) => e,
            Ok(_) => return false,
        },
        _ => return false,
    };
    matches!(e, DbError::Timeout(m) if m.contains("user request"))
}

fn failed(ask: Ask, e: DbError) -> Answer {
    match ask {
        Ask::Aggregates(f) => Answer::Aggregates(f, Err(e)),
        Ask::Tile(f, t) => Answer::Tile(f, t, Err(e)),
        Ask::View(f, b, ..) => Answer::View(f, b, Box::new(Err(e))),
        Ask::Record(id) => Answer::Record(id, Box::new(Err(e))),
    }
}

/// Listens for the change trigger's notifications; reconnects every 2 s when the connection is
/// lost (the workers report the fault itself).
fn listen(sh: &Shared) {
    let channel = sh.db.table.channel();
    let mut was_lost = false;
    while !sh.stop.load(Ordering::SeqCst) {
        let Ok(mut c) = sh.db.connect() else {
            pause(sh, Duration::from_secs(2));
            continue;
        };
        if c.batch_execute(&format!("LISTEN \"{channel}\"")).is_err() {
            pause(sh, Duration::from_secs(2));
            continue;
        }
        // Back after a loss: whatever happened meanwhile is news.
        if std::mem::take(&mut was_lost) {
            sh.send(Answer::Changed);
        }
        let mut lost = false;
        while !lost && !sh.stop.load(Ordering::SeqCst) {
            let mut changed = false;
            {
                let mut n = c.notifications();
                let mut it = n.timeout_iter(Duration::from_millis(250));
                loop {
                    match postgres::fallible_iterator::FallibleIterator::next(&mut it) {
                        Ok(Some(_)) => changed = true,
                        Ok(None) => break,
                        Err(_) => {
                            lost = true;
                            break;
                        }
                    }
                }
            }
            if changed {
                sh.send(Answer::Changed);
            }
            lost |= c.is_closed();
        }
        was_lost = lost;
        if lost {
            pause(sh, Duration::from_secs(2));
        }
    }
}

fn pause(sh: &Shared, d: Duration) {
    let end = std::time::Instant::now() + d;
    while std::time::Instant::now() < end && !sh.stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
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
