//! `incident-map dupes`: possible duplicate reports — the same type, dates within N days,
//! places within D km — in groups, as text or JSON.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::args::{ColumnArgs, FilterArgs};
use super::{OK, filter_of, matching, open_all};
use crate::query::filters::km;
use crate::store::Store;

/// `dupes` arguments.
#[derive(Debug, Args)]
pub struct DupesCmd {
    /// Incident files or directories, or one table: 'postgresql://USER@HOST/DB?table=NAME'.
    #[arg(required = true, value_name = "SOURCE")]
    pub files: Vec<PathBuf>,
    /// Days allowed between two reports' date spans (0: they must overlap).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub days: u32,
    /// Kilometres allowed between two reports' positions (geodesic).
    #[arg(long, default_value_t = 5.0, value_name = "D", value_parser = km)]
    pub km: f64,
    /// Print JSON: {"groups": [{"members": [{"file", "line", "date", "type", "place"}]}]}.
    #[arg(long)]
    pub json: bool,
    /// Filters (applied before grouping).
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// `incident-map dupes`.
pub fn run(a: &DupesCmd, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let inc = match filter_of(&a.filter, err).and_then(|f| {
        let src = open_all(&a.files, &a.columns, "nothing listed", err)?;
        matching(&*src, &f, crate::source::FETCH_LIMIT, err)
    }) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let s = &*inc.store;
    let rule = crate::dupes::Rule {
        days: a.days,
        km: a.km,
    };
    let groups = crate::dupes::groups(s, &inc.selection.indices, rule);
    if a.json {
        let member = |i: u32| {
            let i = i as usize;
            json!({
                "file": s.files[s.file[i] as usize].name,
                "line": s.line[i],
                "date": s.date_string(i),
                "type": s.type_name(i),
                "place": s.place_name(i),
            })
        };
        let v = json!({"groups": groups.iter().map(|g| json!({"members": g.iter().map(|&i| member(i)).collect::<Vec<_>>()})).collect::<Vec<_>>()});
        let _ = serde_json::to_writer(&mut *out, &v);
        let _ = writeln!(out);
    } else {
        print_text(s, &groups, a, out);
    }
    OK
}

fn print_text(s: &Store, groups: &[Vec<u32>], a: &DupesCmd, out: &mut dyn Write) {
    let in_groups: usize = groups.iter().map(Vec::len).sum();
    let _ = writeln!(
        out,
        "{} group(s) of possible duplicates ({in_groups} reports; same type, dates within {} day(s), within {} km)",
        groups.len(),
        a.days,
        a.km
    );
    for (k, g) in groups.iter().enumerate() {
        let _ = writeln!(out, "\ngroup {}:", k + 1);
        for &i in g {
            let i = i as usize;
            let _ = writeln!(
                out,
                "  {}  {}  {}  ({}:{})",
                s.date_string(i),
                crate::text::clean(s.type_name(i), false),
                crate::text::clean(s.place_name(i), false),
                s.files[s.file[i] as usize].name,
                s.line[i]
            );
        }
    }
}
