//! `incident-map attach`, `evidence`, `detach` and `verify`: evidence kept with incidents from
//! the command line, through the same stores and custody log as the window.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::edit::{Which, editor, incident, source};
use super::{BAD_INPUT, OK, fail};
use crate::evidence::verify::{Verified, short};
use crate::evidence::{self, Action, Attach, Entry, EvidenceStore};
use crate::progress::Control;

/// `attach` arguments.
#[derive(Debug, Args)]
pub struct AttachCmd {
    /// The file (GeoJSON, CSV…) or table URL holding the incident.
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,
    /// Which incident.
    #[command(flatten)]
    pub which: Which,
    /// The files to attach (copied into the evidence store; never changed).
    #[arg(value_name = "FILE", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// The URL the files were captured from.
    #[arg(long, value_name = "URL")]
    pub captured_from: Option<String>,
    /// A note kept with each file.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Your name for the custody log (default: the settings' editor name, else your login).
    #[arg(long, value_name = "NAME")]
    pub editor: Option<String>,
    /// A time-stamping authority (RFC 3161) to timestamp each item and the custody log's head
    /// (default: the settings' TSA; none by default).
    #[arg(long, value_name = "URL")]
    pub tsa: Option<String>,
}

/// `timestamp` arguments.
#[derive(Debug, Args)]
pub struct TimestampCmd {
    /// The file(s) or table URL whose evidence is timestamped.
    #[arg(value_name = "SOURCE", required = true, num_args = 1..)]
    pub source: Vec<PathBuf>,
    /// The time-stamping authority (RFC 3161) (default: the settings' TSA).
    #[arg(long, value_name = "URL")]
    pub tsa: Option<String>,
    /// Your name for the custody log.
    #[arg(long, value_name = "NAME")]
    pub editor: Option<String>,
}

/// `evidence` arguments.
#[derive(Debug, Args)]
pub struct EvidenceCmd {
    /// The file or table URL.
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,
    /// Only this incident's evidence (its id).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// One JSON array of the items.
    #[arg(long)]
    pub json: bool,
}

/// `detach` arguments.
#[derive(Debug, Args)]
pub struct DetachCmd {
    /// The file or table URL.
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,
    /// Which incident.
    #[command(flatten)]
    pub which: Which,
    /// The item's SHA-256 (or its first 8 digits or more).
    #[arg(value_name = "SHA256")]
    pub sha256: String,
    /// Why it is detached (kept in the custody log; the stored copy stays).
    #[arg(long, value_name = "TEXT", required = true)]
    pub reason: String,
    /// Your name for the custody log.
    #[arg(long, value_name = "NAME")]
    pub editor: Option<String>,
}

/// `verify` arguments.
#[derive(Debug, Args)]
pub struct VerifyCmd {
    /// The file(s) or table URL whose evidence is checked.
    #[arg(value_name = "SOURCE", required = true, num_args = 1..)]
    pub source: Vec<PathBuf>,
    /// What was found as JSON.
    #[arg(long)]
    pub json: bool,
    /// Your name for the custody log.
    #[arg(long, value_name = "NAME")]
    pub editor: Option<String>,
    /// The time-stamping authority's certificate (PEM): timestamp tokens' signatures are checked
    /// against it (without it, only what each token covers is).
    #[arg(long, value_name = "PEM")]
    pub tsa_cert: Option<PathBuf>,
}

/// `incident-map attach`.
pub fn run_attach(a: &AttachCmd, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    for f in &a.files {
        if !f.is_file() {
            return fail(err, BAD_INPUT, format!("{}: not a file", f.display()));
        }
    }
    let (src, key, what) = match incident(&a.source, &a.which, err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let ctl = Control::default();
    let (store, name) = match src.evidence_of(key, &ctl) {
        Ok(x) => x,
        Err(e) => return fail(err, BAD_INPUT, format!("{what}: {e}")),
    };
    if let Some((_, line)) = name.rsplit_once(':')
        && line.parse::<u32>().is_ok()
        && !crate::source::is_table(&a.source.to_string_lossy())
    {
        let _ = writeln!(
            err,
            "warning: {what} has no id of its own: its evidence is named {name}, by its line, which \
             moves when rows above it are added or deleted; give it an id first \
             (incident-map edit … --set id=…) to keep them together"
        );
    }
    let how = Attach {
        incident: name,
        by: editor(&a.editor),
        captured_from: a.captured_from.clone().unwrap_or_default(),
        note: a.note.clone().unwrap_or_default(),
    };
    let mut code = OK;
    for f in &a.files {
        match evidence::attach(&*store, f, &how, &ctl) {
            Ok(x) => {
                let _ = writeln!(
                    out,
                    "{}  sha256 {}  {} bytes  {}  attached to {}",
                    f.display(),
                    x.item.sha256,
                    x.item.size,
                    x.item.media_type,
                    x.incident
                );
            }
            Err(e) => code = fail(err, BAD_INPUT, e),
        }
    }
    if let Some(url) = tsa_url(&a.tsa) {
        match evidence::timestamp_pending(&*store, &url, &how.by, &ctl) {
            Ok(said) => said.iter().for_each(|l| {
                let _ = writeln!(err, "{l}");
            }),
            Err(e) => code = fail(err, BAD_INPUT, e),
        }
    }
    let _ = writeln!(err, "evidence store: {}", store.location());
    code
}

/// The TSA given, else the settings' (none by default).
fn tsa_url(given: &Option<String>) -> Option<String> {
    given
        .clone()
        .or_else(crate::app::settings::tsa_url)
        .filter(|u| !u.trim().is_empty())
}

/// `incident-map timestamp`: every item without a token, and the log's head.
pub fn run_timestamp(a: &TimestampCmd, err: &mut dyn Write) -> i32 {
    let Some(url) = tsa_url(&a.tsa) else {
        return fail(
            err,
            super::USAGE,
            "no time-stamping authority: give --tsa URL (or set one in the window's settings)",
        );
    };
    let src = match super::open_all(&a.source, &Default::default(), "nothing timestamped", err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (ctl, by) = (Control::default(), editor(&a.editor));
    let mut warned = false;
    for store in src.evidence_stores() {
        match store.lines(&ctl) {
            Ok(l) if l.is_empty() => continue,
            Ok(_) => {}
            Err(e) => return fail(err, BAD_INPUT, e),
        }
        match evidence::timestamp_pending(&*store, &url, &by, &ctl) {
            Ok(said) => {
                for l in said {
                    warned |= l.starts_with("warning");
                    let _ = writeln!(err, "{l}");
                }
            }
            Err(e) => return fail(err, BAD_INPUT, e),
        }
    }
    if warned { BAD_INPUT } else { OK }
}

/// `incident-map evidence`.
pub fn run_list(a: &EvidenceCmd, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let src = match source(&a.source, err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let ctl = Control::default();
    let mut all = Vec::new();
    for store in src.evidence_stores() {
        let lines = match store.lines(&ctl) {
            Ok(l) => l,
            Err(e) => return fail(err, BAD_INPUT, e),
        };
        match evidence::attached(&store.location(), &lines) {
            Ok(items) => all.extend(
                items
                    .into_iter()
                    .filter(|x| a.id.as_ref().is_none_or(|id| &x.incident == id)),
            ),
            Err(e) => return fail(err, BAD_INPUT, e),
        }
    }
    if a.json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&all).unwrap_or_default()
        );
        return OK;
    }
    for x in &all {
        // Names, notes and editors are the data's: control characters (a newline, an escape
        // sequence) must not split a row or drive the terminal.
        let line = format!(
            "{}  {}  {}  {} bytes  {}  added {} by {}{}{}",
            x.incident,
            short(&x.item.sha256),
            x.item.name,
            x.item.size,
            x.item.media_type,
            x.added,
            x.by,
            if x.item.captured_from.is_empty() {
                String::new()
            } else {
                format!("  from {}", x.item.captured_from)
            },
            if x.item.note.is_empty() {
                String::new()
            } else {
                format!("  ({})", x.item.note)
            },
        );
        let _ = writeln!(out, "{}", crate::text::clean(&line, false));
    }
    OK
}

/// `incident-map detach`.
pub fn run_detach(a: &DetachCmd, err: &mut dyn Write) -> i32 {
    if a.reason.trim().is_empty() {
        return fail(err, super::USAGE, "say why with --reason");
    }
    let (src, key, what) = match incident(&a.source, &a.which, err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let ctl = Control::default();
    let r = src
        .evidence_of(key, &ctl)
        .map_err(|e| format!("{what}: {e}"))
        .and_then(|(store, name)| {
            let x = evidence::find(&*store, &name, &a.sha256, &ctl).map_err(|e| e.to_string())?;
            evidence::detach(&*store, &x, &editor(&a.editor), &a.reason)
                .map_err(|e| e.to_string())?;
            Ok(x)
        });
    match r {
        Ok(x) => {
            let _ = writeln!(
                err,
                "detached {} (sha256 {}) from {}; the stored copy is kept",
                x.item.name, x.item.sha256, x.incident
            );
            OK
        }
        Err(e) => fail(err, BAD_INPUT, e),
    }
}

/// The lines `verify` prints for one store.
fn report(v: &Verified, out: &mut dyn Write) {
    let failures = v.failures();
    let good = v
        .items
        .iter()
        .filter(|c| c.outcome == evidence::verify::Outcome::Holds)
        .count();
    let _ = writeln!(out, "{}", v.store);
    let _ = writeln!(
        out,
        "  {} {good} of {} stored item(s) hash as recorded",
        if good == v.items.len() { "✔" } else { "✘" },
        v.items.len()
    );
    if v.broken.is_none() {
        let _ = writeln!(
            out,
            "  ✔ custody log: {} line(s), the chain holds{}",
            v.lines,
            v.head
                .as_ref()
                .map(|h| format!(" (head sha256 {h})"))
                .unwrap_or_default()
        );
    }
    let held = v.tokens.iter().filter(|t| t.failure.is_none()).count();
    if !v.tokens.is_empty() {
        let _ = writeln!(
            out,
            "  {} {held} of {} timestamp token(s) hold{}",
            if held == v.tokens.len() { "✔" } else { "✘" },
            v.tokens.len(),
            if v.signatures {
                " (signatures checked with the TSA certificate given)"
            } else {
                " (what each covers; give --tsa-cert to check their signatures)"
            }
        );
    }
    for f in failures {
        let _ = writeln!(out, "  ✘ {f}");
    }
}

/// `incident-map verify`: exits 1 when anything fails.
pub fn run_verify(a: &VerifyCmd, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let src = match super::open_all(&a.source, &Default::default(), "nothing checked", err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let ctl = Control::default();
    let by = editor(&a.editor);
    // A certificate is a few kilobytes: read no more than 1 MiB of whatever is named.
    let read_cert = |p: &PathBuf| {
        crate::atomic::read_small(p, 1 << 20).and_then(|b| {
            String::from_utf8(b)
                .map_err(|_| std::io::Error::other("not a PEM certificate (not text)"))
        })
    };
    let cert = match a.tsa_cert.as_ref().map(read_cert).transpose() {
        Ok(c) => c,
        Err(e) => {
            let p = a.tsa_cert.as_ref().map(|p| p.display().to_string());
            return fail(err, BAD_INPUT, format!("{}: {e}", p.unwrap_or_default()));
        }
    };
    let mut all: Vec<Verified> = Vec::new();
    for store in src.evidence_stores() {
        let v = match evidence::verify::verify_with(&*store, cert.as_deref(), &ctl) {
            Ok(v) => v,
            Err(e) => return fail(err, BAD_INPUT, e),
        };
        // Copies with no log (emptied or deleted) are evidence too, and fail the check.
        if v.lines > 0 || !v.unlogged.is_empty() {
            log_check(&*store, &v, &by, err);
            all.push(v);
        }
    }
    if a.json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&all).unwrap_or_default()
        );
    } else if all.is_empty() {
        let _ = writeln!(out, "no evidence is kept with {}", src.name());
    } else {
        all.iter().for_each(|v| report(v, out));
    }
    let failed: usize = all.iter().map(|v| v.failures().len()).sum();
    if failed > 0 {
        return fail(err, BAD_INPUT, format!("{failed} failure(s)"));
    }
    OK
}

/// The check in the custody log (said, not fatal, when the log cannot be written: a check of
/// a copy on read-only media is still a check).
fn log_check(store: &dyn EvidenceStore, v: &Verified, by: &str, err: &mut dyn Write) {
    let outcome = match v.failures().len() {
        0 => format!(
            "{} item(s) and {} line(s): all hold",
            v.items.len(),
            v.lines
        ),
        n => format!("{n} failure(s): {}", v.failures().join("; ")),
    };
    let e = Entry::new(Action::Verified, by, "").with_detail(&outcome);
    if let Err(e) = store.append(e) {
        let _ = writeln!(err, "warning: the check was not logged: {e}");
    }
}
