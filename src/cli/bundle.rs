//! `incident-map bundle`: a case bundle as a BagIt bag (RFC 8493) of the incidents matching the
//! filters, their evidence and custody lines (see `export::bundle`).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::args::{ColumnArgs, FilterArgs};
use super::edit::editor;
use super::{BAD_INPUT, OK, fail, filter_of, matching, open_all};
use crate::export::bundle::{BundleSpec, write_bundle};
use crate::progress::Control;
use crate::source::FETCH_LIMIT;

/// `bundle` arguments.
#[derive(Debug, Args)]
pub struct BundleCmd {
    /// Incident files or directories, or one table URL.
    #[arg(required = true, value_name = "SOURCE")]
    pub files: Vec<PathBuf>,
    /// The bag to write: a new directory, or a `.zip` file.
    #[arg(long, value_name = "DIR|case.zip")]
    pub out: PathBuf,
    /// Also the map of the filtered view (data/map.png, offline basemap).
    #[arg(long)]
    pub map: bool,
    /// Source-Organization in bag-info.txt.
    #[arg(long, value_name = "TEXT")]
    pub organization: Option<String>,
    /// Contact-Name in bag-info.txt (default: the settings' editor name, else your login).
    #[arg(long, value_name = "NAME")]
    pub editor: Option<String>,
    /// Filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// `incident-map bundle`.
pub fn run(a: &BundleCmd, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let f = match filter_of(&a.filter, err) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let src = match open_all(&a.files, &a.columns, "nothing written", err) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let inc = match matching(&*src, &f, FETCH_LIMIT, err) {
        Ok(i) => i,
        Err(code) => return code,
    };
    // A case bundle of nothing is a mistake in the filters, not a case.
    match inc.store.select(&f) {
        Ok(sel) if sel.is_empty() => {
            return fail(
                err,
                BAD_INPUT,
                "no incidents match the filters; nothing written",
            );
        }
        Ok(_) => {}
        Err(e) => return fail(err, BAD_INPUT, e),
    }
    let spec = BundleSpec {
        out: a.out.clone(),
        filter: f,
        map: a.map,
        organization: a.organization.clone(),
        contact: editor(&a.editor),
    };
    match write_bundle(&*src, &inc, &spec, &Control::default()) {
        Ok(b) => {
            let _ = writeln!(
                out,
                "wrote {}: {} incident(s), {} evidence item(s), {} custody line(s)",
                b.path.display(),
                b.incidents,
                b.items,
                b.lines
            );
            OK
        }
        Err(e) => fail(err, BAD_INPUT, e),
    }
}
