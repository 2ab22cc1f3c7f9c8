//! Arguments several commands share: the base layer, column overrides, and the value parsers
//! of flags. Each parser turns text into the library's own type (or its typed error).

use std::path::PathBuf;

use clap::Args;

use crate::import::Overrides;
use crate::query::filters::FILTERS;
use crate::query::{Filter, FilterError};
use crate::view::tiles::BaseLayer;

/// A flag value that is not what the flag takes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArgError {
    /// Not a zoom level.
    #[error("'{0}' is not a zoom from 0 to 19")]
    Zoom(String),
    /// `--tile-attribution` without a tile source it belongs to.
    #[error("--tile-attribution goes with --tile-url or --pmtiles")]
    AttributionAlone,
    /// Not `NAME=VALUE`.
    #[error("'{0}' is not NAME=VALUE")]
    Field(String),
}

/// The base layer: at most one of these.
#[derive(Debug, Clone, Default, Args)]
#[group(multiple = false)]
pub struct BaseChoice {
    /// Base layer: OpenStreetMap tiles (offline basemap where tiles are missing) or only the offline basemap.
    #[arg(long, value_enum, value_name = "KIND")]
    pub basemap: Option<BasemapKind>,
    /// Another XYZ tile server: URL template with {z}, {x} and {y}.
    #[arg(long, value_name = "TEMPLATE", value_parser = template)]
    pub tile_url: Option<String>,
    /// A local raster PMTiles archive as the base layer.
    #[arg(long, value_name = "FILE")]
    pub pmtiles: Option<PathBuf>,
    /// Only the bundled offline basemap (no tile requests); the same as --basemap offline.
    #[arg(long)]
    pub offline: bool,
}

/// Base layer choice, shared by the window and exports.
#[derive(Debug, Clone, Default, Args)]
pub struct BaseArgs {
    /// Which base layer.
    #[command(flatten)]
    pub choice: BaseChoice,
    /// Attribution the --tile-url server or --pmtiles data requires.
    #[arg(long, value_name = "TEXT")]
    pub tile_attribution: Option<String>,
}

/// `--basemap` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BasemapKind {
    /// OpenStreetMap tiles over the offline basemap.
    Osm,
    /// Only the offline basemap.
    Offline,
}

fn template(s: &str) -> Result<String, crate::view::tiles::TileError> {
    crate::view::tiles::check_template(s).map(|_| s.trim().to_string())
}

impl BaseArgs {
    /// The base layer asked for, if any: the one function from flags to a [`BaseLayer`].
    pub fn base(&self) -> Result<Option<BaseLayer>, ArgError> {
        let c = &self.choice;
        let attribution = self.tile_attribution.clone().unwrap_or_default();
        if self.tile_attribution.is_some() && c.tile_url.is_none() && c.pmtiles.is_none() {
            return Err(ArgError::AttributionAlone);
        }
        Ok(if c.offline || c.basemap == Some(BasemapKind::Offline) {
            Some(BaseLayer::Offline)
        } else if c.basemap == Some(BasemapKind::Osm) {
            Some(BaseLayer::Osm)
        } else if let Some(t) = &c.tile_url {
            Some(BaseLayer::Xyz {
                template: t.clone(),
                attribution,
            })
        } else {
            c.pmtiles.as_ref().map(|p| BaseLayer::PmTiles {
                path: p.clone(),
                attribution,
            })
        })
    }
}

/// Column overrides shared by every command that reads files.
#[derive(Debug, Clone, Default, Args)]
pub struct ColumnArgs {
    /// Column (or GeoJSON property) holding latitude.
    #[arg(long, value_name = "COL")]
    pub lat: Option<String>,
    /// Column holding longitude.
    #[arg(long, value_name = "COL")]
    pub lon: Option<String>,
    /// Column holding the date.
    #[arg(long, value_name = "COL")]
    pub date: Option<String>,
    /// Column holding the incident type.
    #[arg(long = "type-column", value_name = "COL")]
    pub type_column: Option<String>,
}

impl ColumnArgs {
    /// As importer overrides.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            lat: self.lat.clone(),
            lon: self.lon.clone(),
            date: self.date.clone(),
            type_column: self.type_column.clone(),
        }
    }
}

/// A zoom level, 0–19.
pub fn zoom(s: &str) -> Result<f64, ArgError> {
    match s.trim().parse::<f64>() {
        Ok(z) if (0.0..=19.0).contains(&z) => Ok(z),
        _ => Err(ArgError::Zoom(s.to_string())),
    }
}

/// The filters, the same for every command: the flags of every filter of the list
/// ([`crate::query::filters::FILTERS`]), read into the one [`Filter`].
#[derive(Debug, Clone, Default)]
pub struct FilterArgs(Filter);

impl clap::Args for FilterArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        FILTERS
            .iter()
            .flat_map(|d| d.args())
            .fold(cmd, |c, a| c.arg(a))
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for FilterArgs {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut f = Filter::default();
        for d in FILTERS {
            d.read(m, &mut f);
        }
        Ok(FilterArgs(f))
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl FilterArgs {
    /// The one function from FILTERS flags to a [`Filter`]: the flags given replace those parts
    /// of `base` (a saved view's or the last session's filter, or the default). Fails when the
    /// result is inconsistent (the dates reversed).
    pub fn apply(&self, base: Filter) -> Result<Filter, FilterError> {
        let f = base.patched(&self.0);
        f.check()?;
        Ok(f)
    }

    /// The flags given, as a filter (unchecked; see [`FilterArgs::apply`]).
    pub fn filter(&self) -> Filter {
        self.0.clone()
    }

    /// The `--bbox` given, if any (it also frames an export).
    pub fn bbox(&self) -> Option<crate::query::BBox> {
        self.0.bbox
    }
}

/// A filter error in the command line's words (with the flags that set it).
pub fn filter_message(e: &FilterError) -> String {
    match e {
        FilterError::Reversed { from, to } => format!(
            "--from {} is after --to {}",
            crate::date::format_day(*from),
            crate::date::format_day(*to)
        ),
        other => other.to_string(),
    }
}

/// Why `--pmtiles PATH` cannot be read, if it cannot: a PMTiles archive is read by ranges, so it
/// must be a regular file (a device or a pipe is not one).
pub fn pmtiles_problem(p: &std::path::Path) -> Option<String> {
    let why = match std::fs::metadata(p) {
        Err(_) => "no such file",
        Ok(m) if m.is_dir() => "is a directory",
        Ok(m) if !m.is_file() => "not a regular file (an archive is read by ranges)",
        Ok(_) => return None,
    };
    Some(format!("--pmtiles {}: {why}", p.display()))
}
