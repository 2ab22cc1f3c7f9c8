//! The evidence store of a table: `NAME_evidence` (one row per stored item: its hash and size),
//! `NAME_evidence_chunk` (its bytes in 1 MiB chunks, so a large file is streamed in and out
//! with flat memory) and `NAME_custody` (the custody log, one line a row, numbered). Made on
//! first use. Rows of all three may only be added: a trigger refuses updates and deletes (an
//! owner who disables it still breaks the chain, which `verify` names).

use std::io::{Read, Write};

use super::{DbError, DbSource};
use crate::evidence::custody::{self, Entry};
use crate::evidence::{EvidenceError, EvidenceStore, Stored};
use crate::progress::Control;

/// A database failure as an evidence error.
fn engine(e: DbError) -> EvidenceError {
    EvidenceError::Engine(Box::new(e))
}

impl From<DbError> for EvidenceError {
    fn from(e: DbError) -> EvidenceError {
        engine(e)
    }
}

/// Uploads under way in this process (each has its own name until its hash is known).
static UPLOADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Bytes a chunk holds.
const CHUNK: usize = 1 << 20;

/// A table's evidence.
#[derive(Debug, Clone)]
pub struct TableStore {
    db: DbSource,
}

impl TableStore {
    /// The evidence of the table `db` names.
    pub fn new(db: DbSource) -> TableStore {
        TableStore { db }
    }

    fn names(&self) -> (String, String, String) {
        let t = &self.db.table;
        (
            t.quoted_with("evidence"),
            t.quoted_with("evidence_chunk"),
            t.quoted_with("custody"),
        )
    }

    /// The tables, their append-only trigger, made if missing.
    fn create_sql(&self) -> String {
        let (items, chunks, log) = self.names();
        let guard = self.db.table.quoted_with("evidence_append_only");
        format!(
            "CREATE TABLE IF NOT EXISTS {items} (
  sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{{64}}$'),
  size bigint NOT NULL,
  stored_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  stored_by text NOT NULL DEFAULT session_user
);
CREATE TABLE IF NOT EXISTS {chunks} (
  sha256 text NOT NULL,
  n integer NOT NULL,
  bytes bytea NOT NULL,
  PRIMARY KEY (sha256, n)
);
CREATE TABLE IF NOT EXISTS {log} (
  seq bigint PRIMARY KEY,
  line text NOT NULL
);
CREATE TABLE IF NOT EXISTS {tokens} (
  name text PRIMARY KEY,
  token bytea NOT NULL,
  stored_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE OR REPLACE FUNCTION {json}(line text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN RETURN line::jsonb; EXCEPTION WHEN others THEN RETURN NULL; END $$;
CREATE OR REPLACE VIEW {attached} AS
  WITH e AS (SELECT seq, {json}(line) AS j FROM {log})
  SELECT a.j->>'incident' AS incident, a.j->>'sha256' AS sha256 FROM e a
  WHERE a.j->>'action' = 'added' AND NOT EXISTS (
    SELECT 1 FROM e d WHERE d.j->>'action' = 'detached' AND d.seq > a.seq
      AND d.j->>'incident' = a.j->>'incident' AND d.j->>'sha256' = a.j->>'sha256');
CREATE OR REPLACE FUNCTION {guard}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'evidence and its custody log are append-only (% on %)', TG_OP, TG_TABLE_NAME;
END $$;
CREATE OR REPLACE FUNCTION {guard_chunk}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Bytes still arriving (named until their hash is known) may be renamed or dropped.
  IF OLD.sha256 LIKE 'incoming-%' THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'evidence and its custody log are append-only (% on %)', TG_OP, TG_TABLE_NAME;
END $$;
DROP TRIGGER IF EXISTS append_only ON {items};
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {items} FOR EACH ROW EXECUTE FUNCTION {guard}();
DROP TRIGGER IF EXISTS append_only ON {chunks};
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {chunks} FOR EACH ROW EXECUTE FUNCTION {guard_chunk}();
DROP TRIGGER IF EXISTS append_only ON {tokens};
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {tokens} FOR EACH ROW EXECUTE FUNCTION {guard}();
DROP TRIGGER IF EXISTS append_only ON {log};
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {log} FOR EACH ROW EXECUTE FUNCTION {guard}();",
            guard_chunk = self.db.table.quoted_with("evidence_chunk_append_only"),
            json = self.db.table.quoted_with("custody_json"),
            tokens = self.db.table.quoted_with("evidence_token"),
            attached = self.db.table.quoted_with("attached"),
        )
    }

    /// Whether the relation `quoted` is there.
    fn has(&self, c: &mut postgres::Client, quoted: &str) -> Result<bool, DbError> {
        let row = c
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&quoted])
            .map_err(|e| self.db.error(e))?;
        Ok(row.get(0))
    }

    /// Whether the tables are there yet.
    fn exists(&self, c: &mut postgres::Client) -> Result<bool, DbError> {
        let (_, _, log) = self.names();
        let row = c
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&log])
            .map_err(|e| self.db.error(e))?;
        Ok(row.get(0))
    }

    fn made(&self) -> Result<postgres::Client, DbError> {
        let mut c = self.db.connect()?;
        if !self.exists(&mut c)? {
            c.batch_execute(&self.create_sql())
                .map_err(|e| self.db.error(e))?;
        }
        // Filters by evidence from now on (the source's copies share the flag).
        self.db.set_keeps_evidence(true);
        Ok(c)
    }
}

impl EvidenceStore for TableStore {
    fn location(&self) -> String {
        format!("{} (table {})", self.db.display, self.names().2)
    }

    fn lines(&self, _ctl: &Control) -> Result<Vec<String>, EvidenceError> {
        let mut c = self.db.connect()?;
        if !self.exists(&mut c)? {
            return Ok(Vec::new());
        }
        let log = self.names().2;
        let rows = c
            .query(&format!("SELECT line FROM {log} ORDER BY seq"), &[])
            .map_err(|e| self.db.error(e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn append(&self, entry: Entry) -> Result<Entry, EvidenceError> {
        let mut c = self.made()?;
        let log = self.names().2;
        let err = |e| engine(self.db.error(e));
        let mut tx = c.transaction().map_err(err)?;
        // One writer at a time: each line chains to the one before.
        tx.batch_execute(&format!("LOCK TABLE {log} IN EXCLUSIVE MODE"))
            .map_err(err)?;
        let last = tx
            .query_opt(
                &format!("SELECT seq, line FROM {log} ORDER BY seq DESC LIMIT 1"),
                &[],
            )
            .map_err(err)?
            .map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, String>(1)));
        let (entry, line) = custody::chain(last.as_ref().map(|(n, l)| (*n, l.as_str())), entry);
        tx.execute(
            &format!("INSERT INTO {log} (seq, line) VALUES ($1, $2)"),
            &[&(entry.seq as i64), &line],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(entry)
    }

    fn put(&self, from: &mut dyn Read, ctl: &Control) -> Result<Stored, EvidenceError> {
        let mut c = self.made()?;
        let (items, chunks, _) = self.names();
        let err = |e| engine(self.db.error(e));
        let mut tx = c.transaction().map_err(err)?;
        // The bytes go in under a name of their own until their hash is known; the whole is
        // one transaction, so a failed or cancelled upload leaves nothing.
        let incoming = format!(
            "incoming-{}-{}-{}",
            std::process::id(),
            crate::edit::utc_now(),
            UPLOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut sink = ChunkWriter {
            db: &self.db,
            tx: &mut tx,
            sql: format!("INSERT INTO {chunks} (sha256, n, bytes) VALUES ($1, $2, $3)"),
            key: &incoming,
            buf: Vec::with_capacity(CHUNK),
            n: 0,
        };
        let stored =
            crate::evidence::hash::copy_hashing(from, &mut sink, ("the file", "the table"), ctl)?;
        sink.flush().map_err(|e| EvidenceError::Io {
            path: self.location(),
            error: e,
        })?;
        let there = tx
            .query_opt(
                &format!("SELECT 1 FROM {items} WHERE sha256 = $1"),
                &[&stored.sha256],
            )
            .map_err(err)?
            .is_some();
        if there {
            // Stored already: the new copy goes with the transaction.
            tx.rollback().map_err(err)?;
            return Ok(stored);
        }
        tx.execute(
            &format!("UPDATE {chunks} SET sha256 = $1 WHERE sha256 = $2"),
            &[&stored.sha256, &incoming],
        )
        .map_err(err)?;
        tx.execute(
            &format!("INSERT INTO {items} (sha256, size) VALUES ($1, $2) ON CONFLICT DO NOTHING"),
            &[&stored.sha256, &(stored.size as i64)],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(stored)
    }

    fn read(
        &self,
        sha256: &str,
        to: &mut (dyn Write + Send),
        ctl: &Control,
    ) -> Result<Stored, EvidenceError> {
        let mut c = self.db.connect()?;
        let missing = || self.missing(sha256);
        if !self.exists(&mut c)? {
            return Err(missing());
        }
        let (items, chunks, _) = self.names();
        let err = |e| engine(self.db.error(e));
        if c.query_opt(
            &format!("SELECT 1 FROM {items} WHERE sha256 = $1"),
            &[&sha256],
        )
        .map_err(err)?
        .is_none()
        {
            return Err(missing());
        }
        // Rows are streamed (a portal), not fetched all at once.
        let rows = c
            .query_raw(
                &format!("SELECT bytes FROM {chunks} WHERE sha256 = $1 ORDER BY n"),
                [sha256],
            )
            .map_err(err)?;
        let mut reader = ChunkReader {
            db: &self.db,
            rows,
            buf: Vec::new(),
            at: 0,
        };
        crate::evidence::hash::copy_hashing(&mut reader, to, (&self.location(), "the copy"), ctl)
    }

    fn stored(&self, _ctl: &Control) -> Result<Vec<String>, EvidenceError> {
        let mut c = self.db.connect()?;
        if !self.exists(&mut c)? {
            return Ok(Vec::new());
        }
        let items = self.names().0;
        let rows = c
            .query(&format!("SELECT sha256 FROM {items} ORDER BY sha256"), &[])
            .map_err(|e| self.db.error(e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn path_of(&self, _sha256: &str) -> Option<std::path::PathBuf> {
        None
    }

    fn put_token(&self, name: &str, token: &[u8]) -> Result<(), EvidenceError> {
        let mut c = self.made()?;
        let t = self.db.table.quoted_with("evidence_token");
        // Older stores made before tokens: the table comes now.
        c.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {t} (name text PRIMARY KEY, token bytea NOT NULL,
               stored_at timestamptz NOT NULL DEFAULT clock_timestamp())"
        ))
        .map_err(|e| self.db.error(e))?;
        c.execute(
            &format!("INSERT INTO {t} (name, token) VALUES ($1, $2) ON CONFLICT DO NOTHING"),
            &[&name, &token],
        )
        .map_err(|e| self.db.error(e))?;
        Ok(())
    }

    fn token(&self, name: &str) -> Result<Option<Vec<u8>>, EvidenceError> {
        let mut c = self.db.connect()?;
        let t = self.db.table.quoted_with("evidence_token");
        if !self.has(&mut c, &t)? {
            return Ok(None);
        }
        let row = c
            .query_opt(&format!("SELECT token FROM {t} WHERE name = $1"), &[&name])
            .map_err(|e| self.db.error(e))?;
        Ok(row.map(|r| r.get(0)))
    }

    fn tokens(&self) -> Result<Vec<String>, EvidenceError> {
        let mut c = self.db.connect()?;
        let t = self.db.table.quoted_with("evidence_token");
        if !self.has(&mut c, &t)? {
            return Ok(Vec::new());
        }
        let rows = c
            .query(&format!("SELECT name FROM {t} ORDER BY name"), &[])
            .map_err(|e| self.db.error(e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

/// Writes bytes into chunk rows of 1 MiB.
struct ChunkWriter<'a, 't> {
    db: &'a DbSource,
    tx: &'a mut postgres::Transaction<'t>,
    sql: String,
    key: &'a str,
    buf: Vec<u8>,
    n: i32,
}

impl ChunkWriter<'_, '_> {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.tx
            .execute(&self.sql, &[&self.key, &self.n, &self.buf])
            .map_err(|e| std::io::Error::other(self.db.error(e)))?;
        self.n += 1;
        self.buf.clear();
        Ok(())
    }
}

impl Write for ChunkWriter<'_, '_> {
    fn write(&mut self, mut b: &[u8]) -> std::io::Result<usize> {
        let len = b.len();
        while !b.is_empty() {
            let take = (CHUNK - self.buf.len()).min(b.len());
            self.buf.extend_from_slice(&b[..take]);
            b = &b[take..];
            if self.buf.len() == CHUNK {
                self.send()?;
            }
        }
        Ok(len)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Reads the chunk rows of one item in order.
struct ChunkReader<'a> {
    db: &'a DbSource,
    rows: postgres::RowIter<'a>,
    buf: Vec<u8>,
    at: usize,
}

impl Read for ChunkReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        use postgres::fallible_iterator::FallibleIterator;
        while self.at == self.buf.len() {
            let next = self.rows.next();
            match next.map_err(|e| std::io::Error::other(self.db.error(e)))? {
                Some(r) => {
                    self.buf = r.get(0);
                    self.at = 0;
                }
                None => return Ok(0),
            }
        }
        let n = (self.buf.len() - self.at).min(out.len());
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
