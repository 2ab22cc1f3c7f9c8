//! Base layers: OpenStreetMap tiles, another XYZ server, a PMTiles archive, or only the offline
//! basemap. Whatever tiles do not arrive leave the offline basemap visible underneath.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use walkers::sources::{Attribution, TileSource};
use walkers::{HeaderValue, HttpOptions, HttpTiles, PmTiles, TileId, TilePiece, Tiles};

use super::basemap;

/// The User-Agent sent to tile servers: OSM blocks library defaults and asks for contact details.
pub fn user_agent() -> String {
    format!(
        "incident-map/{} (+{})",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_REPOSITORY")
    )
}

/// OpenStreetMap's tile URL template.
pub const OSM_TEMPLATE: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
/// OpenStreetMap's required attribution.
pub const OSM_ATTRIBUTION: &str = "© OpenStreetMap contributors";
/// Where the OSM attribution links to.
pub const OSM_COPYRIGHT: &str = "https://www.openstreetmap.org/copyright";

/// Why a base layer cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// A URL template that is not http(s).
    #[error("tile URL '{0}' must start with http:// or https://")]
    Scheme(String),
    /// A URL template without one of `{{z}}`, `{{x}}`, `{{y}}`.
    #[error("tile URL '{template}' lacks {missing}")]
    Placeholder {
        /// The template.
        template: String,
        /// What is missing.
        missing: &'static str,
    },
    /// A User-Agent header the HTTP library refuses.
    #[error("invalid User-Agent: {0}")]
    UserAgent(String),
    /// The PMTiles archive cannot be opened.
    #[error("{path}: {message}")]
    PmTiles {
        /// The archive.
        path: String,
        /// Why.
        message: String,
    },
}

/// Which base layer the map shows. Written as `{"kind": "osm"}`, `{"kind": "offline"}`,
/// `{"kind": "xyz", "tile_url": …, "attribution": …}` or `{"kind": "pmtiles", "pmtiles": …,
/// "attribution": …}` in settings and saved views; the form of old settings files is still read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BaseLayer {
    /// OpenStreetMap standard tiles over the offline basemap.
    #[default]
    Osm,
    /// Only the bundled offline basemap.
    Offline,
    /// Another XYZ tile server.
    Xyz {
        /// URL template with `{z}`, `{x}` and `{y}`.
        template: String,
        /// Attribution the server requires.
        attribution: String,
    },
    /// A local raster PMTiles archive.
    PmTiles {
        /// The archive.
        path: PathBuf,
        /// Attribution of its data.
        attribution: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum BaseJson {
    // Braces, so that unknown fields are refused here too.
    Osm {},
    Offline {},
    Xyz {
        tile_url: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        attribution: String,
    },
    Pmtiles {
        pmtiles: PathBuf,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        attribution: String,
    },
}

/// The externally tagged form settings files had before the shared schema.
#[derive(Deserialize)]
enum LegacyBase {
    Osm,
    Offline,
    Xyz {
        template: String,
        attribution: String,
    },
    PmTiles {
        path: PathBuf,
        attribution: String,
    },
}

impl Serialize for BaseLayer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.clone() {
            BaseLayer::Osm => BaseJson::Osm {},
            BaseLayer::Offline => BaseJson::Offline {},
            BaseLayer::Xyz {
                template,
                attribution,
            } => BaseJson::Xyz {
                tile_url: template,
                attribution,
            },
            BaseLayer::PmTiles { path, attribution } => BaseJson::Pmtiles {
                pmtiles: path,
                attribution,
            },
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for BaseLayer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = serde_json::Value::deserialize(d)?;
        let legacy = value.is_string()
            || value
                .as_object()
                .is_some_and(|o| o.len() == 1 && !o.contains_key("kind"));
        let base = if legacy {
            match LegacyBase::deserialize(value).map_err(D::Error::custom)? {
                LegacyBase::Osm => BaseLayer::Osm,
                LegacyBase::Offline => BaseLayer::Offline,
                LegacyBase::Xyz {
                    template,
                    attribution,
                } => BaseLayer::Xyz {
                    template,
                    attribution,
                },
                LegacyBase::PmTiles { path, attribution } => {
                    BaseLayer::PmTiles { path, attribution }
                }
            }
        } else {
            match BaseJson::deserialize(value).map_err(D::Error::custom)? {
                BaseJson::Osm {} => BaseLayer::Osm,
                BaseJson::Offline {} => BaseLayer::Offline,
                BaseJson::Xyz {
                    tile_url,
                    attribution,
                } => BaseLayer::Xyz {
                    template: tile_url,
                    attribution,
                },
                BaseJson::Pmtiles {
                    pmtiles,
                    attribution,
                } => BaseLayer::PmTiles {
                    path: pmtiles,
                    attribution,
                },
            }
        };
        if let BaseLayer::Xyz { template, .. } = &base {
            check_template(template).map_err(D::Error::custom)?;
        }
        Ok(base)
    }
}

impl BaseLayer {
    /// Attribution text and link for the map corner (the offline basemap is always credited,
    /// since it shows wherever tiles are missing).
    pub fn attribution(&self) -> (String, Option<String>) {
        match self {
            BaseLayer::Osm => (
                format!("{OSM_ATTRIBUTION} | {}", basemap::ATTRIBUTION),
                Some(OSM_COPYRIGHT.into()),
            ),
            BaseLayer::Offline => (basemap::ATTRIBUTION.into(), None),
            BaseLayer::Xyz { attribution, .. } | BaseLayer::PmTiles { attribution, .. } => {
                let a = if attribution.trim().is_empty() {
                    "tiles: unattributed source"
                } else {
                    attribution.trim()
                };
                (format!("{a} | {}", basemap::ATTRIBUTION), None)
            }
        }
    }

    /// Short name for menus and the status bar.
    pub fn label(&self) -> &'static str {
        match self {
            BaseLayer::Osm => "OpenStreetMap",
            BaseLayer::Offline => "Offline basemap",
            BaseLayer::Xyz { .. } => "Custom XYZ tiles",
            BaseLayer::PmTiles { .. } => "PMTiles archive",
        }
    }
}

/// An attribution that also credits OpenStreetMap, for a map that draws the offline basemap's
/// roads (OpenStreetMap data under the ODbL): "© OpenStreetMap contributors" first, as with OSM's
/// tiles, linked to OSM's copyright page unless the attribution has a link of its own. One that
/// credits OpenStreetMap already (OSM's tiles) is left as it is.
pub fn with_osm_credit(attribution: &(String, Option<String>)) -> (String, Option<String>) {
    let (text, url) = attribution;
    if text.contains(OSM_ATTRIBUTION) {
        return attribution.clone();
    }
    (
        format!("{OSM_ATTRIBUTION} | {text}"),
        url.clone().or_else(|| Some(OSM_COPYRIGHT.into())),
    )
}

/// Checks an XYZ URL template.
pub fn check_template(t: &str) -> Result<(), TileError> {
    let t = t.trim();
    if !(t.starts_with("http://") || t.starts_with("https://")) {
        return Err(TileError::Scheme(crate::text::clip(t)));
    }
    for k in ["{z}", "{x}", "{y}"] {
        if !t.contains(k) {
            return Err(TileError::Placeholder {
                template: crate::text::clip(t),
                missing: k,
            });
        }
    }
    Ok(())
}

/// An XYZ server from a URL template.
struct Template {
    template: String,
}

impl TileSource for Template {
    fn tile_url(&self, id: TileId) -> String {
        self.template
            .replace("{z}", &id.zoom.to_string())
            .replace("{x}", &id.x.to_string())
            .replace("{y}", &id.y.to_string())
    }

    fn attribution(&self) -> Attribution {
        // The view draws the attribution itself.
        Attribution {
            text: "",
            url: "",
            logo_light: None,
            logo_dark: None,
        }
    }
}

/// The tile cache directory for a template (under the XDG cache dir).
pub fn cache_dir(template: &str) -> Option<PathBuf> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in template.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let name = if template == OSM_TEMPLATE {
        "osm".to_string()
    } else {
        format!("xyz-{h:016x}")
    };
    dirs::cache_dir().map(|d| d.join("incident-map").join("tiles").join(name))
}

/// HTTP tiles from `template` with our User-Agent, the disk cache and default parallelism.
pub fn http_tiles(template: &str, ctx: &egui::Context) -> Result<HttpTiles, TileError> {
    http_tiles_with(template, ctx, cache_dir(template))
}

/// [`http_tiles`] with a chosen cache directory (`None`: no disk cache).
pub fn http_tiles_with(
    template: &str,
    ctx: &egui::Context,
    cache: Option<PathBuf>,
) -> Result<HttpTiles, TileError> {
    check_template(template)?;
    let ua =
        HeaderValue::from_str(&user_agent()).map_err(|e| TileError::UserAgent(e.to_string()))?;
    let options = HttpOptions {
        cache,
        user_agent: Some(ua),
        ..Default::default()
    };
    Ok(HttpTiles::with_options(
        Template {
            template: template.trim().to_string(),
        },
        options,
        ctx.clone(),
    ))
}

/// Tiles from a local raster PMTiles archive (256-pixel tiles).
pub fn pmtiles(path: &Path, ctx: &egui::Context) -> Result<PmTiles, TileError> {
    let err = |message: String| TileError::PmTiles {
        path: path.display().to_string(),
        message,
    };
    let f = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let mut magic = [0u8; 7];
    std::io::Read::read_exact(&mut &f, &mut magic)
        .map_err(|_| err("not a PMTiles archive".into()))?;
    if &magic != b"PMTiles" {
        return Err(err("not a PMTiles archive".into()));
    }
    Ok(PmTiles::with_style_and_tile_size(
        path,
        Default::default(),
        256,
        ctx.clone(),
    ))
}

/// Builds the tiles of a base layer (`None` for the offline basemap alone).
pub fn make_tiles(
    layer: &BaseLayer,
    ctx: &egui::Context,
) -> Result<Option<TrackedTiles>, TileError> {
    let inner: Box<dyn Tiles + Send> = match layer {
        BaseLayer::Offline => return Ok(None),
        BaseLayer::Osm => Box::new(http_tiles(OSM_TEMPLATE, ctx)?),
        BaseLayer::Xyz { template, .. } => Box::new(http_tiles(template, ctx)?),
        BaseLayer::PmTiles { path, .. } => Box::new(pmtiles(path, ctx)?),
    };
    Ok(Some(TrackedTiles {
        inner,
        requested: 0,
        shown: 0,
    }))
}

/// Tiles that count, per frame, how many were asked for and how many could be shown.
pub struct TrackedTiles {
    inner: Box<dyn Tiles + Send>,
    /// Tiles asked for since [`TrackedTiles::reset`].
    pub requested: usize,
    /// Of those, how many were available.
    pub shown: usize,
}

impl TrackedTiles {
    /// Wraps tiles.
    pub fn new(inner: Box<dyn Tiles + Send>) -> TrackedTiles {
        TrackedTiles {
            inner,
            requested: 0,
            shown: 0,
        }
    }

    /// Starts a new frame's count.
    pub fn reset(&mut self) {
        self.requested = 0;
        self.shown = 0;
    }

    /// Tiles still downloading.
    pub fn in_progress(&self) -> usize {
        self.inner.stats().in_progress
    }
}

impl Tiles for TrackedTiles {
    fn at(&mut self, tile_id: TileId) -> Option<TilePiece> {
        self.requested += 1;
        let t = self.inner.at(tile_id);
        if t.is_some() {
            self.shown += 1;
        }
        t
    }

    fn attribution(&self) -> Attribution {
        self.inner.attribution()
    }

    fn tile_size(&self) -> u32 {
        self.inner.tile_size()
    }

    fn stats(&self) -> walkers::Stats {
        self.inner.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_and_agent() {
        assert!(check_template("https://a/{z}/{x}/{y}.png").is_ok());
        assert!(check_template("https://a/{z}/{x}.png").is_err());
        assert!(check_template("file:///{z}/{x}/{y}").is_err());
        let t = Template {
            template: "http://h/{z}/{x}/{y}.png".into(),
        };
        assert_eq!(
            t.tile_url(TileId {
                x: 3,
                y: 5,
                zoom: 4
            }),
            "http://h/4/3/5.png"
        );
        assert!(user_agent().starts_with("incident-map/0."));
        assert!(user_agent().contains("(+https://"));
        assert!(
            BaseLayer::Osm
                .attribution()
                .0
                .contains("© OpenStreetMap contributors")
        );
    }

    #[test]
    fn one_schema_for_base_layers_old_settings_still_read() {
        let xyz = BaseLayer::Xyz {
            template: "http://127.0.0.1:1/{z}/{x}/{y}.png".into(),
            attribution: "Local".into(),
        };
        let text = serde_json::to_string(&xyz).unwrap();
        assert_eq!(
            text,
            r#"{"kind":"xyz","tile_url":"http://127.0.0.1:1/{z}/{x}/{y}.png","attribution":"Local"}"#
        );
        assert_eq!(serde_json::from_str::<BaseLayer>(&text).unwrap(), xyz);
        let old =
            r#"{"Xyz":{"template":"http://127.0.0.1:1/{z}/{x}/{y}.png","attribution":"Local"}}"#;
        assert_eq!(serde_json::from_str::<BaseLayer>(old).unwrap(), xyz);
        assert_eq!(
            serde_json::from_str::<BaseLayer>(r#""Osm""#).unwrap(),
            BaseLayer::Osm
        );
        assert_eq!(
            serde_json::from_str::<BaseLayer>(r#"{"kind":"offline"}"#).unwrap(),
            BaseLayer::Offline
        );
        let pm = r#"{"kind":"pmtiles","pmtiles":"a.pmtiles"}"#;
        assert_eq!(
            serde_json::from_str::<BaseLayer>(pm).unwrap(),
            BaseLayer::PmTiles {
                path: "a.pmtiles".into(),
                attribution: String::new()
            }
        );
        for bad in [
            r#"{"kind":"xyz","tile_url":"ftp://x/{z}/{x}/{y}"}"#,
            r#"{"kind":"bing"}"#,
            r#"{"kind":"osm","extra":1}"#,
        ] {
            assert!(serde_json::from_str::<BaseLayer>(bad).is_err(), "{bad}");
        }
    }
}
