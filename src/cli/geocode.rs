//! `incident-map geocode FILE [--out FILE.geojson]`: the rows that name a place but have no
//! position get one where the place search finds it without doubt (through the same writes as
//! every edit: checked, spliced into the file, recorded in its history), and the rest are
//! listed with their candidates. With `--out`, FILE is left as it is: its incidents and the
//! rows placed are written to a new GeoJSON.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::{BAD_INPUT, OK, fail, open_all};
use crate::progress::Control;
use crate::source::{Edit, Source, Unplaced, placed};

/// `geocode` arguments.
#[derive(Debug, Args)]
pub struct GeocodeCmd {
    /// The GeoJSON or CSV file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Write the incidents and the rows placed to this new GeoJSON instead of into FILE.
    #[arg(long, value_name = "FILE.geojson")]
    pub out: Option<PathBuf>,
    /// Your name for the history.
    #[arg(long, value_name = "NAME")]
    pub editor: Option<String>,
}

/// Where each unplaced row goes: the place found without doubt, or the candidates.
fn decide(
    rows: Vec<Unplaced>,
    near: Option<(f64, f64)>,
) -> Vec<(Unplaced, Result<crate::places::Found, Vec<String>>)> {
    rows.into_iter()
        .map(|u| {
            let c = crate::places::candidates(&u.place, &u.area, near, 5);
            let d = match crate::places::unambiguous(&c, near) {
                Some(f) => Ok(f.clone()),
                None => Err(c
                    .iter()
                    .map(|f| format!("{} ({}, {})", f.label, f.lat, f.lon))
                    .collect()),
            };
            (u, d)
        })
        .collect()
}

/// The source the placed rows are written to: FILE, or a GeoJSON copy of its incidents.
fn target(
    a: &GeocodeCmd,
    src: Arc<dyn Source>,
    err: &mut dyn Write,
) -> Result<Arc<dyn Source>, i32> {
    let Some(out) = &a.out else {
        return Ok(src);
    };
    super::refuse_input(out, std::slice::from_ref(&a.file), "--out", err)?;
    let ctl = Control::default();
    let inc = src
        .incidents(
            &Default::default(),
            &crate::source::Fetch::up_to(usize::MAX),
            &ctl,
        )
        .map_err(|e| fail(err, BAD_INPUT, e))?;
    crate::output::write_file(
        &inc.store,
        &inc.selection,
        crate::output::OutFormat::Geojson,
        out,
    )
    .map_err(|e| fail(err, BAD_INPUT, e))?;
    open_all(
        std::slice::from_ref(out),
        &Default::default(),
        "nothing placed",
        err,
    )
}

/// `incident-map geocode`.
pub fn run(a: &GeocodeCmd, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let src = match open_all(
        std::slice::from_ref(&a.file),
        &Default::default(),
        "nothing placed",
        err,
    ) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let ctl = Control::default();
    let rows = match src.unplaced(&ctl) {
        Ok(r) => r,
        Err(e) => return fail(err, BAD_INPUT, e),
    };
    if rows.is_empty() {
        let _ = writeln!(err, "no row names a place without a position");
        return OK;
    }
    // Where the file's other incidents are: places far from them are not meant.
    let near = src
        .summary(&ctl)
        .ok()
        .and_then(|s| s.bbox)
        .map(|b| ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0));
    let decided = decide(rows, near);
    let dest = match target(a, src.clone(), err) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let who = a
        .editor
        .clone()
        .unwrap_or_else(crate::app::settings::editor_name);
    let schema = match src.schema(&ctl) {
        Ok(s) => s,
        Err(e) => return fail(err, BAD_INPUT, e),
    };
    let (mut done, mut left) = (0, 0);
    for (u, d) in &decided {
        match d {
            Ok(f) => {
                let draft = placed(u, f, &schema);
                let edit = if a.out.is_some() {
                    // The copy: a new incident of the GeoJSON, its fields as they were.
                    let mut g = draft.clone();
                    g.fields
                        .retain(|(_, v)| !v.is_null() && v.as_str() != Some(""));
                    Edit::Insert(g)
                } else {
                    Edit::Update {
                        key: u.key,
                        version: u.version,
                        draft,
                    }
                };
                match dest.write(&edit, &who, &ctl) {
                    Ok(_) => {
                        done += 1;
                        let _ = writeln!(
                            out,
                            "placed\t{}\t{}\t{}\t{}, {}",
                            u.origin, u.place, f.label, f.lat, f.lon
                        );
                    }
                    Err(e) => {
                        left += 1;
                        let _ = writeln!(out, "not placed\t{}\t{}\t{e}", u.origin, u.place);
                    }
                }
            }
            Err(candidates) => {
                left += 1;
                let c = if candidates.is_empty() {
                    "no place of that name".to_string()
                } else {
                    candidates.join("; ")
                };
                let _ = writeln!(out, "to place\t{}\t{}\t{c}", u.origin, u.place);
            }
        }
    }
    let _ = writeln!(
        err,
        "{done} row(s) placed{}, {left} left to place (in the window: Edit → Place incidents without a position…)",
        a.out
            .as_ref()
            .map_or(String::new(), |p| format!(" into {}", p.display()))
    );
    OK
}
