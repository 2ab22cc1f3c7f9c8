//! `incident-map add`, `edit`, `delete` and `history`: recording and correcting incidents from
//! the command line, through the same source writes as the window (the same validation, the
//! byte-preserving file writes, a table's versioned writes, the history). A write that finds
//! the file or the row changed underneath exits 1, naming the incident, and changes nothing.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::{BAD_INPUT, OK, USAGE, fail, open_all};
use crate::edit::{Draft, HistoryEntry, Schema};
use crate::model::Role;
use crate::progress::Control;
use crate::source::{Edit, Find, Key, Source, SourceError};

/// A field given as `NAME=VALUE`.
fn field(s: &str) -> Result<(String, String), super::args::ArgError> {
    match s.split_once('=') {
        Some((n, v)) if !n.trim().is_empty() => Ok((n.trim().to_string(), v.to_string())),
        _ => Err(super::args::ArgError::Field(s.to_string())),
    }
}

/// `add` arguments.
#[derive(Debug, Args)]
pub struct AddCmd {
    /// The file (GeoJSON or CSV) or table URL to add to.
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,
    /// Date: YYYY-MM-DD (or a date-time with its offset).
    #[arg(long, value_name = "DATE")]
    pub date: String,
    /// Type (e.g. "Rocket attack").
    #[arg(long = "type", value_name = "TYPE")]
    pub type_name: String,
    /// Position: decimal degrees ("33.786, 42.441"), DMS or MGRS.
    #[arg(long, value_name = "POSITION", allow_hyphen_values = true)]
    pub at: String,
    /// How precise the position is: exact, near or region.
    #[arg(long, value_name = "PRECISION")]
    pub location_precision: String,
    /// A source: an http(s) URL, or a publisher and a date ("AFP, 2021-04-23").
    #[arg(long = "source", value_name = "TEXT")]
    pub source_text: Option<String>,
    /// Place as reported.
    #[arg(long, value_name = "TEXT")]
    pub place: Option<String>,
    /// Description.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Any other field (repeatable), e.g. --field fatalities=2.
    #[arg(long = "field", value_name = "NAME=VALUE", value_parser = field)]
    pub fields: Vec<(String, String)>,
    /// Your name for the history (default: the settings' editor name, else your login).
    #[arg(long, value_name = "NAME")]
    pub editor: Option<String>,
}

/// How `edit` and `delete` name the incident.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Which {
    /// The data's own id (id, event_id_cnty, event_id, incident_id) or a table's row id.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// The line its record starts on in the file.
    #[arg(long, value_name = "N")]
    pub line: Option<u32>,
}

impl Which {
    fn find(&self) -> Find {
        match (&self.id, self.line) {
            (Some(id), _) => Find::Id(id.clone()),
            (None, Some(n)) => Find::Line(n),
            (None, None) => Find::Line(0),
        }
    }
}

/// `edit` arguments.
#[derive(Debug, Args)]
pub struct EditCmd {
    /// The file (GeoJSON or CSV) or table URL.
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,
    /// Which incident.
    #[command(flatten)]
    pub which: Which,
    /// A field's new value (repeatable; an empty value clears it).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = field)]
    pub set: Vec<(String, String)>,
    /// Move it: decimal degrees, DMS or MGRS.
    #[arg(long, value_name = "POSITION", allow_hyphen_values = true)]
    pub at: Option<String>,
    /// Your name for the history.
    #[arg(long, value_name = "NAME")]
    pub editor: Option<String>,
}

/// `delete` arguments.
#[derive(Debug, Args)]
pub struct DeleteCmd {
    /// The file (GeoJSON or CSV) or table URL.
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,
    /// Which incident.
    #[command(flatten)]
    pub which: Which,
    /// Your name for the history.
    #[arg(long, value_name = "NAME")]
    pub editor: Option<String>,
}

/// `history` arguments.
#[derive(Debug, Args)]
pub struct HistoryCmd {
    /// The file or table URL.
    #[arg(value_name = "SOURCE")]
    pub source: PathBuf,
    /// Only this incident (its own id, or a table's row id), deleted ones included.
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Every entry as JSON, one array.
    #[arg(long)]
    pub json: bool,
}

/// The editor's name: given, else the window's setting, else the login.
pub(super) fn editor(given: &Option<String>) -> String {
    given
        .clone()
        .unwrap_or_else(crate::app::settings::editor_name)
}

/// Opens the one source a command writes to.
pub(super) fn source(p: &PathBuf, err: &mut dyn Write) -> Result<Arc<dyn Source>, i32> {
    open_all(
        std::slice::from_ref(p),
        &Default::default(),
        "nothing written",
        err,
    )
}

/// The position a user typed, or the usage error.
fn position(s: &str, err: &mut dyn Write) -> Result<(f64, f64), i32> {
    crate::places::parse_position(s).ok_or_else(|| {
        fail(
            err,
            USAGE,
            format!("--at '{s}' is not a position (decimal degrees, DMS or MGRS)"),
        )
    })
}

/// A write's error as the command line says it (a stale write names the incident).
fn write_failed(err: &mut dyn Write, what: &str, e: SourceError) -> i32 {
    match e {
        SourceError::Invalid(why) => {
            let _ = writeln!(err, "error: {what} was not saved:");
            for p in why.0 {
                let _ = writeln!(err, "  {}: {}", p.field, p.message);
            }
            BAD_INPUT
        }
        SourceError::Conflict { .. } | SourceError::Changed { .. } => fail(
            err,
            BAD_INPUT,
            format!("{what} changed underneath (by someone else); nothing was written: {e}"),
        ),
        other => fail(err, BAD_INPUT, format!("{what}: {other}")),
    }
}

/// How a later command names the incident: its own id, else its row id (a table) or line.
fn handle(src: &dyn Source, key: Key, draft: &Draft) -> String {
    let own = crate::links::ID_NAMES
        .iter()
        .map(|n| draft.text(n))
        .find(|t| !t.trim().is_empty());
    match own {
        Some(id) => format!("--id {}", id.trim()),
        None if crate::source::is_table(src.name()) => format!("--id {key}"),
        None => match src.details(key, &Control::default()) {
            Ok(d) => format!("--line {}", d.origin.rsplit(':').next().unwrap_or("")),
            Err(_) => format!("--id {key}"),
        },
    }
}

/// Sets the role's field, or a field of its usual name when the data has none.
fn set(d: &mut Draft, schema: &Schema, role: Role, name: &str, text: &str) {
    if !d.set_role(schema, role, text) {
        d.set_text(schema, name, text);
    }
}

/// `incident-map add`.
pub fn run_add(a: &AddCmd, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let (lat, lon) = match position(&a.at, err) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let src = match source(&a.source, err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let ctl = Control::default();
    let schema = match src.schema(&ctl) {
        Ok(s) => s,
        Err(e) => return fail(err, BAD_INPUT, e),
    };
    let mut d = Draft::empty(&schema);
    (d.lon, d.lat) = (lon, lat);
    set(&mut d, &schema, Role::Date, "date", &a.date);
    set(&mut d, &schema, Role::Type, "type", &a.type_name);
    let lp = &a.location_precision;
    set(
        &mut d,
        &schema,
        Role::LocPrecision,
        "location_precision",
        lp,
    );
    for (role, name, v) in [
        (Role::Source, "source", &a.source_text),
        (Role::Place, "place", &a.place),
        (Role::Description, "description", &a.description),
    ] {
        if let Some(v) = v {
            set(&mut d, &schema, role, name, v);
        }
    }
    for (n, v) in &a.fields {
        d.set_text(&schema, n, v);
    }
    if let Err(code) = id_is_free(&*src, &d, None, err) {
        return code;
    }
    match src.write(&Edit::Insert(d.clone()), &editor(&a.editor), &ctl) {
        Ok(w) => {
            let key = w.key.unwrap_or(Key(-1));
            let h = handle(&*src, key, &d);
            let _ = writeln!(err, "added the incident to {} ({h})", src.name());
            let _ = writeln!(out, "{h}");
            OK
        }
        Err(e) => write_failed(err, "the incident", e),
    }
}

/// The one incident `which` names, or the error.
fn the_one(src: &dyn Source, which: &Which, err: &mut dyn Write) -> Result<Key, i32> {
    let by = which.find();
    match src.find(&by, &Control::default()) {
        Ok(keys) if keys.len() == 1 => Ok(keys[0]),
        Ok(keys) if keys.is_empty() => {
            let what = match &by {
                Find::Id(_) => format!("no {by}"),
                // A line that holds no incident (a skipped row can be fixed only in the file).
                Find::Line(n) => {
                    format!("no incident on line {n} (a row skipped on loading has none)")
                }
            };
            Err(fail(err, BAD_INPUT, format!("{what} in {}", src.name())))
        }
        Ok(keys) => Err(fail(
            err,
            BAD_INPUT,
            format!(
                "{} incidents match ({by}); name it by --line instead",
                keys.len()
            ),
        )),
        Err(e) => Err(fail(err, BAD_INPUT, e)),
    }
}

/// The source a command writes to, the incident it names, and how to name it in messages.
pub(super) fn incident(
    p: &PathBuf,
    which: &Which,
    err: &mut dyn Write,
) -> Result<(Arc<dyn Source>, Key, String), i32> {
    let src = source(p, err)?;
    let key = the_one(&*src, which, err)?;
    Ok((src, key, which.find().to_string()))
}

/// `incident-map edit`.
pub fn run_edit(a: &EditCmd, err: &mut dyn Write) -> i32 {
    if a.set.is_empty() && a.at.is_none() {
        return fail(
            err,
            USAGE,
            "nothing to change: give --set NAME=VALUE or --at",
        );
    }
    let moved = match a.at.as_deref().map(|s| position(s, err)).transpose() {
        Ok(p) => p,
        Err(code) => return code,
    };
    let (src, key, what) = match incident(&a.source, &a.which, err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let ctl = Control::default();
    let (schema, (mut d, version)) = match src
        .schema(&ctl)
        .and_then(|s| Ok((s, src.draft(key, &ctl)?)))
    {
        Ok(x) => x,
        Err(e) => return fail(err, BAD_INPUT, format!("{what}: {e}")),
    };
    if let Some(why) = position_sets(&schema, &a.set, moved.is_some()) {
        return fail(err, USAGE, why);
    }
    let id_before = d.own_id();
    for (n, v) in &a.set {
        d.set_text(&schema, n, v);
    }
    // Only a changed id can collide (the check reads every record).
    if d.own_id() != id_before
        && let Err(code) = id_is_free(&*src, &d, Some(key), err)
    {
        return code;
    }
    if let Some((lat, lon)) = moved {
        (d.lon, d.lat) = (lon, lat);
    }
    match src.write(
        &Edit::Update {
            key,
            version,
            draft: d,
        },
        &editor(&a.editor),
        &ctl,
    ) {
        Ok(_) => {
            let _ = writeln!(err, "saved {what} in {}", src.name());
            OK
        }
        Err(e) => write_failed(err, &what, e),
    }
}

/// Refuses a draft whose own id already names another incident than `this` (an id must name
/// one: `--id` then finds one, and links point at one). Ids are compared as the data's links
/// read them.
fn id_is_free(
    src: &dyn Source,
    d: &Draft,
    this: Option<Key>,
    err: &mut dyn Write,
) -> Result<(), i32> {
    let Some(id) = d.own_id() else {
        return Ok(());
    };
    match src.find(&Find::Id(id.clone()), &Control::default()) {
        Ok(keys) if keys.iter().any(|k| Some(*k) != this) => Err(fail(
            err,
            BAD_INPUT,
            format!(
                "id {id} already names another incident in {}; nothing was written",
                src.name()
            ),
        )),
        Ok(_) => Ok(()),
        Err(e) => Err(fail(err, BAD_INPUT, e)),
    }
}

/// Why `--set` of a latitude or longitude cannot be done here: the file keeps the position in
/// its geometry (a property of that name would only mislead exports; `--at` moves it), or
/// `--at` gives the position too (two answers to one question).
fn position_sets(schema: &Schema, set: &[(String, String)], at: bool) -> Option<String> {
    let (name, _) = set.iter().find(|(n, _)| {
        let role = schema
            .columns
            .iter()
            .position(|c| c == n)
            .map(|c| schema.map.role(c));
        matches!(role, Some(Role::Latitude | Role::Longitude))
            // Names that say a position whatever the file (`x` and `y` only where they are the
            // file's position columns: elsewhere they may be anything).
            || matches!(
                crate::model::columns::normalize(n).as_str(),
                "latitude" | "lat" | "longitude" | "lon" | "lng" | "long"
            )
    })?;
    Some(if !schema.position_in_columns {
        format!("--set {name}: this file keeps the position in its geometry; move it with --at")
    } else if at {
        format!("--set {name} and --at both give the position; give one")
    } else {
        return None;
    })
}

/// `incident-map delete`.
pub fn run_delete(a: &DeleteCmd, err: &mut dyn Write) -> i32 {
    let (src, key, what) = match incident(&a.source, &a.which, err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let ctl = Control::default();
    let version = match src.draft(key, &ctl) {
        Ok((_, v)) => v,
        Err(e) => return fail(err, BAD_INPUT, format!("{what}: {e}")),
    };
    match src.write(&Edit::Delete { key, version }, &editor(&a.editor), &ctl) {
        Ok(_) => {
            let _ = writeln!(err, "deleted {what} from {}", src.name());
            OK
        }
        Err(e) => write_failed(err, &what, e),
    }
}

/// One history entry as a paragraph: when, who, what, then each field changed.
pub fn history_text(e: &HistoryEntry) -> String {
    let mut s = format!("{}  {}  {}", e.at, e.editor, e.op);
    if !e.incident.is_empty() {
        s += &format!("  {}", e.incident);
    }
    if e.op == "load" {
        if let Some(a) = &e.after {
            s += &format!("  {a}");
        }
        return s;
    }
    for c in e.changes() {
        let clip = |t: &str| crate::text::clip(t).replace('\n', " ");
        s += &format!(
            "\n    {}: {} → {}",
            c.field,
            if c.before.is_empty() {
                "∅".into()
            } else {
                clip(&c.before)
            },
            if c.after.is_empty() {
                "∅".into()
            } else {
                clip(&c.after)
            },
        );
    }
    s
}

/// `incident-map history`.
pub fn run_history(a: &HistoryCmd, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let src = match source(&a.source, err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let ctl = Control::default();
    let mut entries = match src.history(None, &ctl) {
        Ok(h) => h,
        Err(e) => return fail(err, BAD_INPUT, e),
    };
    if let Some(id) = &a.id {
        entries.retain(|e| e.incident == *id);
    }
    // A file's history: lines that are no entry are named (a table's history is typed).
    if a.source.is_file()
        && let Ok((_, bad)) = crate::edit::read_history_checked(&a.source)
    {
        let log = crate::edit::history_path(&a.source);
        for (line, why) in bad {
            let _ = writeln!(err, "warning: {}:{line}: {why}; left out", log.display());
        }
    }
    if a.json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&entries).unwrap_or_default()
        );
    } else {
        for e in &entries {
            // Values and editors are the data's: no control character reaches the terminal.
            let text = history_text(e);
            let lines: Vec<String> = text.lines().map(|l| crate::text::clean(l, false)).collect();
            let _ = writeln!(out, "{}", lines.join("\n"));
        }
        if entries.is_empty() {
            let _ = writeln!(err, "no edits recorded");
        }
    }
    OK
}
