//! The custody log: one JSON object a line, append-only, each line carrying the SHA-256 of the
//! line before it (`prev`; the first line's is 64 zeros), so any change to a past line — an
//! edit, a deletion, lines swapped — breaks the chain at the first line after it. Hashes are of
//! the line's bytes as stored (without its line end): nothing is re-serialised to check them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::EvidenceError;

/// The `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What was done with evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// A file attached to an incident (the line holds the item).
    Added,
    /// A copy handed to the system's viewer.
    Opened,
    /// Written into a case bundle (the detail names it).
    Exported,
    /// The store checked (the detail gives the outcome).
    Verified,
    /// A trusted timestamp obtained for an item or the log's head.
    Timestamped,
    /// An item taken off its incident (the stored copy kept; the detail says why).
    Detached,
}

impl Action {
    /// The action in words, as in the log.
    pub fn word(self) -> &'static str {
        match self {
            Action::Added => "added",
            Action::Opened => "opened",
            Action::Exported => "exported",
            Action::Verified => "verified",
            Action::Timestamped => "timestamped",
            Action::Detached => "detached",
        }
    }
}

/// What an `added` line records of the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemMeta {
    /// SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Media type sniffed from its bytes.
    pub media_type: String,
    /// Its file name when attached.
    pub name: String,
    /// The URL it was captured from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub captured_from: String,
    /// A note.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// One line of the custody log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Its number, from 1 (the line it is on).
    pub seq: u64,
    /// When (UTC, `YYYY-MM-DDTHH:MM:SSZ`).
    pub time: String,
    /// What was done.
    pub action: Action,
    /// Who did it (the editor name of the settings, else the OS user).
    pub by: String,
    /// The incident concerned (none for the whole store).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub incident: String,
    /// The item concerned (its hash; none for the whole store).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sha256: String,
    /// The item, on an `added` line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemMeta>,
    /// Why, or the outcome (a detach's reason, a bundle's path, a check's result).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// SHA-256 of the line before, as stored.
    pub prev: String,
}

impl Entry {
    /// An entry of `action` by `by` on `incident`, numbered and chained when appended.
    pub fn new(action: Action, by: &str, incident: &str) -> Entry {
        Entry {
            seq: 0,
            time: crate::edit::utc_now(),
            action,
            by: by.to_string(),
            incident: incident.to_string(),
            sha256: String::new(),
            item: None,
            detail: String::new(),
            prev: String::new(),
        }
    }

    /// The same, about `item` (its hash too).
    pub fn with_item(mut self, item: ItemMeta) -> Entry {
        self.sha256 = item.sha256.clone();
        self.item = Some(item);
        self
    }

    /// The same, about the item of hash `sha256`.
    pub fn with_sha(mut self, sha256: &str) -> Entry {
        self.sha256 = sha256.to_string();
        self
    }

    /// The same, with a reason or an outcome.
    pub fn with_detail(mut self, detail: &str) -> Entry {
        self.detail = detail.to_string();
        self
    }
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// `entry` numbered and chained after `last` (the log's last line as stored, none when empty),
/// and its line (without line end).
pub fn chain(last: Option<(u64, &str)>, mut entry: Entry) -> (Entry, String) {
    let (seq, prev) = match last {
        Some((seq, line)) => (seq + 1, sha256_hex(line.as_bytes())),
        None => (1, GENESIS.to_string()),
    };
    entry.seq = seq;
    entry.prev = prev;
    // Serialising our own struct cannot fail.
    let line = serde_json::to_string(&entry).unwrap_or_default();
    (entry, line)
}

/// Reads line `n` (from 1) of `log`.
pub fn parse(log: &str, n: usize, line: &str) -> Result<Entry, EvidenceError> {
    serde_json::from_str(line).map_err(|e| EvidenceError::BadLine {
        log: log.to_string(),
        line: n,
        reason: format!("not a custody entry ({e})"),
    })
}

/// Where the chain first breaks, and why; `None` when every line follows the one before.
pub fn first_break(lines: &[String]) -> Option<(usize, String)> {
    let mut prev = GENESIS.to_string();
    for (i, l) in lines.iter().enumerate() {
        let n = i + 1;
        // Lines are written as compact JSON, which escapes U+0000–U+001F (and only those): one
        // raw (a carriage return from converted line ends, too) is a change, even where JSON
        // would read past it and on the last line, which no later line's hash covers.
        if let Some(b) = l.bytes().find(|&b| b < 0x20) {
            return Some((
                n,
                format!(
                    "it holds a control character (U+{b:04X}) that no line is written with (its bytes were changed)"
                ),
            ));
        }
        let e: Entry = match serde_json::from_str(l) {
            Ok(e) => e,
            Err(e) => return Some((n, format!("not a custody entry ({e})"))),
        };
        if e.prev != prev {
            return Some((
                n,
                if n == 1 {
                    "the first line does not start the chain (a line before it was removed?)"
                        .to_string()
                } else {
                    format!(
                        "it does not carry the hash of line {} (line {} was changed or removed, or lines were inserted)",
                        n - 1,
                        n - 1
                    )
                },
            ));
        }
        if e.seq != n as u64 {
            return Some((n, format!("it says it is line {}, not {n}", e.seq)));
        }
        prev = sha256_hex(l.as_bytes());
    }
    None
}

/// The hash of the log's last line (its head), which a timestamp of the log covers.
pub fn head(lines: &[String]) -> Option<String> {
    lines.last().map(|l| sha256_hex(l.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: usize) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for i in 0..n {
            let last = lines.last().map(|l| (i as u64, l.as_str()));
            let (_, l) = chain(
                last,
                Entry::new(Action::Opened, "ana", "IQ-1").with_sha("ab"),
            );
            lines.push(l);
        }
        lines
    }

    #[test]
    fn a_chain_holds_and_breaks_at_the_line_after_a_change() {
        let lines = log(4);
        assert_eq!(first_break(&lines), None);
        assert!(lines[0].contains(GENESIS));
        // An edit of line 2 breaks the chain at line 3.
        let mut edited = lines.clone();
        edited[1] = edited[1].replace("ana", "bob");
        assert_eq!(first_break(&edited).map(|b| b.0), Some(3));
        // A deleted line 2: line 3 (now second) does not follow line 1.
        let mut cut = lines.clone();
        cut.remove(1);
        assert_eq!(first_break(&cut).map(|b| b.0), Some(2));
        // The first line removed.
        assert_eq!(first_break(&lines[1..]).map(|b| b.0), Some(1));
        // A carriage return after the last line (line ends converted), or inside one.
        let mut crlf = lines.clone();
        crlf[3].push('\r');
        let b = first_break(&crlf).unwrap();
        assert_eq!(b.0, 4);
        assert!(b.1.contains("U+000D"), "{}", b.1);
        let mut tab = lines.clone();
        tab[1] = tab[1].replacen(',', ",\t", 1);
        assert_eq!(first_break(&tab).map(|b| b.0), Some(2));
        // What JSON leaves raw (DEL, C1 controls such as U+0085 in a pasted note) is written
        // that way, and holds.
        let mut odd: Vec<String> = Vec::new();
        for (i, note) in ["don\u{92}t", "shot\u{85}.png", "del\u{7f}"]
            .into_iter()
            .enumerate()
        {
            let last = odd.last().map(|l| (i as u64, l.as_str()));
            let (_, l) = chain(
                last,
                Entry::new(Action::Opened, "ana", "IQ-1").with_detail(note),
            );
            assert!(l.contains(note), "{l}");
            odd.push(l);
        }
        assert_eq!(first_break(&odd), None);
        // Garbage.
        let mut bad = lines;
        bad[3] = "{".into();
        assert_eq!(first_break(&bad).map(|b| b.0), Some(4));
    }
}
