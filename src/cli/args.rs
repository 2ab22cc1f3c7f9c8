//! Arguments several commands share: the base layer, column overrides, and the value parsers
//! of flags. Each parser turns text into the library's own type (or its typed error).

use std::path::PathBuf;

use clap::Args;

use crate::import::Overrides;
use crate::query::{Filter, FilterError};
use crate::view::tiles::BaseLayer;

/// A flag value that is not what the flag takes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArgError {
    /// Not a zoom level.
    #[error("'{0}' is not a zoom from 0 to 19")]
    Zoom(String),
    /// Not a position.
    #[error(
        "'{0}' is not a position: LAT,LON in decimal degrees, degrees-minutes-seconds (33°47′10″N 42°26′28″E) or MGRS (38SLC 12345 67890)"
    )]
    Position(String),
    /// Not a distance.
    #[error("'{0}' is not a distance in kilometres (more than 0, at most 20100)")]
    Km(String),
    /// `--tile-attribution` without a tile source it belongs to.
    #[error("--tile-attribution goes with --tile-url or --pmtiles")]
    AttributionAlone,
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

/// A position: decimal, degrees-minutes-seconds or MGRS.
pub fn latlon(s: &str) -> Result<(f64, f64), ArgError> {
    crate::places::parse_position(s).ok_or_else(|| ArgError::Position(s.to_string()))
}

/// A distance in kilometres: more than 0, at most 20,100 (half way round the Earth).
pub fn km(s: &str) -> Result<f64, ArgError> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() && v <= 20_100.0 => Ok(v),
        _ => Err(ArgError::Km(s.to_string())),
    }
}

/// An area of interest read from a GeoJSON file.
pub fn area(s: &str) -> Result<crate::area::Area, crate::area::AreaError> {
    crate::area::Area::read(std::path::Path::new(s))
}

/// A day, `YYYY-MM-DD`.
pub fn day(s: &str) -> Result<i32, crate::date::DateError> {
    crate::date::parse_ymd(s)
}

/// A box, `min_lon,min_lat,max_lon,max_lat`.
pub fn bbox(s: &str) -> Result<crate::query::BBox, crate::query::BBoxError> {
    crate::query::BBox::parse(s)
}

/// The filters, the same for every command.
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// First day to include, YYYY-MM-DD (inclusive, on the incident's local date).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = day)]
    pub from: Option<i32>,
    /// Last day to include, YYYY-MM-DD (inclusive).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = day)]
    pub to: Option<i32>,
    /// Incident type to include, as `check` lists it (repeatable; case-insensitive).
    #[arg(long = "type", value_name = "NAME")]
    pub types: Vec<String>,
    /// Words to find in place, notes, actors and sources (case-insensitive).
    #[arg(long, value_name = "WORDS")]
    pub text: Option<String>,
    /// Area: min_lon,min_lat,max_lon,max_lat.
    #[arg(long, value_name = "BOX", value_parser = bbox, allow_hyphen_values = true)]
    pub bbox: Option<crate::query::BBox>,
    /// Only incidents whose sources disagree (see data/README.md: accounts, disputed).
    #[arg(long)]
    pub disputed: bool,
    /// Only incidents within --radius of this point (geodesic; the edge included).
    #[arg(long, value_name = "LAT,LON", value_parser = latlon, allow_hyphen_values = true, requires = "radius")]
    pub near: Option<(f64, f64)>,
    /// Radius for --near, in kilometres.
    #[arg(long, value_name = "KM", value_parser = km, requires = "near")]
    pub radius: Option<f64>,
    /// Only incidents inside the Polygon/MultiPolygon areas of a GeoJSON file (holes honoured).
    #[arg(long, value_name = "AREA.geojson", value_parser = area)]
    pub within: Option<crate::area::Area>,
}

impl FilterArgs {
    /// The one function from FILTERS flags to a [`Filter`]: the flags given replace those parts
    /// of `base` (a saved view's or the last session's filter, or the default). Fails when the
    /// dates end up reversed.
    pub fn apply(&self, base: Filter) -> Result<Filter, FilterError> {
        let f = base.overlay(&self.filter());
        f.check()?;
        Ok(f)
    }

    /// The flags given, as a filter (unchecked; see [`FilterArgs::apply`]).
    pub fn filter(&self) -> Filter {
        Filter {
            from: self.from,
            to: self.to,
            types: self.types.clone(),
            text: self.text.clone(),
            bbox: self.bbox,
            disputed: self.disputed,
            near: self
                .near
                .zip(self.radius)
                .map(|((lat, lon), km)| crate::query::Near { lat, lon, km }),
            within: self.within.clone(),
        }
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
