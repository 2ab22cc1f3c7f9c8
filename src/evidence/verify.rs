//! Checking a store: every stored copy hashed again and compared with the hash its `added` line
//! recorded, the custody chain walked line by line, and stored copies no line accounts for
//! named. (Timestamp tokens are checked where they are kept, with the TSA's certificate.)

use std::collections::BTreeMap;

use serde::Serialize;

use super::custody::{self, Action};
use super::{EvidenceError, EvidenceStore, ItemMeta};
use crate::progress::Control;

/// What became of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Outcome {
    /// The stored copy hashes as recorded.
    Holds,
    /// The stored copy's bytes are not those recorded.
    Changed {
        /// Its hash now.
        now: String,
        /// Its size now.
        size: u64,
    },
    /// No stored copy.
    Missing,
}

/// One item checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// The incidents it was attached to (each `added` line).
    pub incidents: Vec<String>,
    /// The item as its first `added` line recorded it.
    pub item: ItemMeta,
    /// What the check found.
    pub outcome: Outcome,
}

/// What a check of a store found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// The store.
    pub store: String,
    /// Each item, in the order first added.
    pub items: Vec<Checked>,
    /// Lines in the custody log.
    pub lines: usize,
    /// The first line where the chain breaks, and why.
    pub broken: Option<(usize, String)>,
    /// The SHA-256 of the log's last line.
    pub head: Option<String>,
    /// Stored copies that no `added` line accounts for.
    pub unlogged: Vec<String>,
    /// Each timestamp token checked.
    pub tokens: Vec<TokenCheck>,
    /// Whether the tokens' signatures were checked (a TSA certificate was given).
    pub signatures: bool,
}

/// One timestamp token checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenCheck {
    /// What it stamps: an item's name, or the custody log up to a line.
    pub what: String,
    /// The hash it should cover.
    pub sha256: String,
    /// The time it gives, when it holds.
    pub time: Option<String>,
    /// Why it does not hold.
    pub failure: Option<String>,
}

impl Verified {
    /// Every failure, in words naming the incident, the item and the line.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.items {
            let what = format!(
                "{} (sha256 {}) of {}",
                c.item.name,
                short(&c.item.sha256),
                c.incidents.join(", ")
            );
            match &c.outcome {
                Outcome::Holds => {}
                Outcome::Changed { now, size } => out.push(format!(
                    "{what}: the stored copy changed: it hashes to {} ({size} bytes, {} recorded)",
                    short(now),
                    c.item.size
                )),
                Outcome::Missing => out.push(format!("{what}: the stored copy is missing")),
            }
        }
        if let Some((line, why)) = &self.broken {
            out.push(format!(
                "custody log: the chain breaks at line {line}: {why}"
            ));
        }
        for t in self.tokens.iter().filter(|t| t.failure.is_some()) {
            out.push(format!(
                "timestamp of {}: {}",
                t.what,
                t.failure.as_deref().unwrap_or_default()
            ));
        }
        for s in &self.unlogged {
            out.push(format!(
                "stored copy {} is in no custody line (a line was removed?)",
                short(s)
            ));
        }
        out
    }

    /// Whether everything holds.
    pub fn holds(&self) -> bool {
        self.failures().is_empty()
    }
}

/// The first 12 digits of a hash.
pub fn short(sha256: &str) -> &str {
    &sha256[..sha256.len().min(12)]
}

/// Checks `store` (progress in bytes hashed; Cancel stops it), its tokens' imprints only.
pub fn verify(store: &dyn EvidenceStore, ctl: &Control) -> Result<Verified, EvidenceError> {
    verify_with(store, None, ctl)
}

/// Checks `store`, and its timestamp tokens' signatures against the TSA certificate `cert_pem`
/// when one is given.
pub fn verify_with(
    store: &dyn EvidenceStore,
    cert_pem: Option<&str>,
    ctl: &Control,
) -> Result<Verified, EvidenceError> {
    let lines = store.lines(ctl)?;
    let mut items: BTreeMap<String, (usize, Checked)> = BTreeMap::new();
    for l in &lines {
        let Ok(e) = serde_json::from_str::<custody::Entry>(l) else {
            continue;
        };
        if e.action != Action::Added {
            continue;
        }
        let Some(item) = e.item else { continue };
        let order = items.len();
        let c = items.entry(item.sha256.clone()).or_insert((
            order,
            Checked {
                incidents: Vec::new(),
                item,
                outcome: Outcome::Holds,
            },
        ));
        if !c.1.incidents.contains(&e.incident) {
            c.1.incidents.push(e.incident);
        }
    }
    let total: u64 = items.values().map(|c| c.1.item.size).sum();
    ctl.total
        .fetch_add(total, std::sync::atomic::Ordering::Relaxed);
    for (sha, (_, c)) in items.iter_mut() {
        c.outcome = match store.read(sha, &mut std::io::sink(), ctl) {
            Ok(s) if &s.sha256 == sha => Outcome::Holds,
            Ok(s) => Outcome::Changed {
                now: s.sha256,
                size: s.size,
            },
            Err(EvidenceError::Missing { .. }) => Outcome::Missing,
            Err(e) => return Err(e),
        };
    }
    let unlogged = store
        .stored(ctl)?
        .into_iter()
        .filter(|s| !items.contains_key(s))
        .collect();
    let mut checked: Vec<(usize, Checked)> = items.into_values().collect();
    checked.sort_by_key(|c| c.0);
    let items: Vec<Checked> = checked.into_iter().map(|c| c.1).collect();
    let tokens = check_tokens(store, &items, &lines, cert_pem)?;
    Ok(Verified {
        store: store.location(),
        items,
        lines: lines.len(),
        broken: custody::first_break(&lines),
        head: custody::head(&lines),
        unlogged,
        tokens,
        signatures: cert_pem.is_some(),
    })
}

/// Each token kept: the item (or log head) it stamps, its imprint, and its signature.
fn check_tokens(
    store: &dyn EvidenceStore,
    items: &[Checked],
    lines: &[String],
    cert_pem: Option<&str>,
) -> Result<Vec<TokenCheck>, EvidenceError> {
    let mut out = Vec::new();
    for name in store.tokens()? {
        let Some(token) = store.token(&name)? else {
            continue;
        };
        let (sha, what) = match name.strip_prefix("head-") {
            Some(h) => {
                // A head is the hash of one line of the log: the log up to that line.
                let n = lines
                    .iter()
                    .position(|l| custody::sha256_hex(l.as_bytes()) == h);
                let what = match n {
                    Some(n) => format!("the custody log up to line {}", n + 1),
                    None => "a custody log head no line of the log has".to_string(),
                };
                (h.to_string(), what)
            }
            None => {
                let what = items
                    .iter()
                    .find(|c| c.item.sha256 == name)
                    .map_or_else(|| format!("item {}", short(&name)), |c| c.item.name.clone());
                (name.clone(), what)
            }
        };
        let r = super::tsa::check(&token, &sha, cert_pem);
        let mut failure = r.as_ref().err().map(|e| e.to_string());
        if failure.is_none() && what.starts_with("a custody log head no line") {
            failure = Some(
                "it stamps a state of the log that is not there (lines changed or removed)".into(),
            );
        }
        out.push(TokenCheck {
            what,
            sha256: sha,
            time: r.ok().map(|s| s.time),
            failure,
        });
    }
    Ok(out)
}
