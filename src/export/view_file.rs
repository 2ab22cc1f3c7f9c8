//! Saved views: a small versioned JSON file naming the data, filters, viewport, image size, title
//! and base layer, which the window opens and `export --view` renders. The schema is in README.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Spec, Viewport};
use crate::date::{format_day, parse_ymd};
use crate::query::{BBox, Filter};
use crate::view::tiles::BaseLayer;

/// The schema version written and accepted.
pub const VERSION: u32 = 1;

/// Filters as written in a view file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilterJson {
    /// `YYYY-MM-DD`, inclusive.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    pub to: Option<String>,
    /// Type names (empty: all).
    pub types: Vec<String>,
    /// Text search.
    pub text: Option<String>,
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: Option<[f64; 4]>,
}

/// The viewport: a centre and zoom, or a box to fit, or neither (fit the incidents).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ViewJson {
    /// `[lat, lon]`.
    pub center: Option<[f64; 2]>,
    /// Zoom level (with `center`).
    pub zoom: Option<f64>,
    /// `[min_lon, min_lat, max_lon, max_lat]` to fit.
    pub bbox: Option<[f64; 4]>,
}

/// Image size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeJson {
    /// Width in logical points.
    pub width: u32,
    /// Height in logical points.
    pub height: u32,
    /// Pixels per point.
    #[serde(default = "one")]
    pub scale: u32,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

/// Base layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasemapJson {
    /// `osm`, `offline`, `xyz` or `pmtiles`.
    pub kind: String,
    /// URL template for `xyz`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tile_url: Option<String>,
    /// Archive for `pmtiles`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmtiles: Option<PathBuf>,
    /// Attribution for `xyz` and `pmtiles`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub attribution: String,
}

/// A saved view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewFile {
    /// Always 1.
    pub version: u32,
    /// Data files (relative paths are relative to the view file).
    #[serde(default)]
    pub files: Vec<PathBuf>,
    /// Filters.
    #[serde(default)]
    pub filter: FilterJson,
    /// Viewport.
    #[serde(default)]
    pub view: ViewJson,
    /// Image size.
    pub size: SizeJson,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Base layer.
    pub basemap: BasemapJson,
    /// Draw the legend.
    #[serde(default = "yes")]
    pub legend: bool,
    /// Draw the caption.
    #[serde(default = "yes")]
    pub caption: bool,
}

impl BasemapJson {
    /// From a base layer.
    pub fn from_base(b: &BaseLayer) -> BasemapJson {
        let (kind, tile_url, pmtiles, attribution) = match b {
            BaseLayer::Osm => ("osm", None, None, String::new()),
            BaseLayer::Offline => ("offline", None, None, String::new()),
            BaseLayer::Xyz {
                template,
                attribution,
            } => ("xyz", Some(template.clone()), None, attribution.clone()),
            BaseLayer::PmTiles { path, attribution } => {
                ("pmtiles", None, Some(path.clone()), attribution.clone())
            }
        };
        BasemapJson {
            kind: kind.into(),
            tile_url,
            pmtiles,
            attribution,
        }
    }

    /// As a base layer.
    pub fn base(&self, dir: &Path) -> Result<BaseLayer, String> {
        match self.kind.as_str() {
            "osm" => Ok(BaseLayer::Osm),
            "offline" => Ok(BaseLayer::Offline),
            "xyz" => {
                let t = self
                    .tile_url
                    .clone()
                    .ok_or("basemap \"xyz\" needs \"tile_url\"")?;
                crate::view::tiles::check_template(&t)?;
                Ok(BaseLayer::Xyz {
                    template: t,
                    attribution: self.attribution.clone(),
                })
            }
            "pmtiles" => {
                let p = self
                    .pmtiles
                    .clone()
                    .ok_or("basemap \"pmtiles\" needs \"pmtiles\"")?;
                Ok(BaseLayer::PmTiles {
                    path: dir.join(p),
                    attribution: self.attribution.clone(),
                })
            }
            other => Err(format!(
                "unknown basemap kind \"{other}\" (osm, offline, xyz, pmtiles)"
            )),
        }
    }
}

impl ViewFile {
    /// Describes an export of `files`.
    pub fn new(files: &[PathBuf], spec: &Spec) -> ViewFile {
        let f = &spec.filter;
        let view = match spec.viewport {
            Viewport::Fit => ViewJson::default(),
            Viewport::BBox(b) => ViewJson {
                bbox: Some(b),
                ..Default::default()
            },
            Viewport::Center { lat, lon, zoom } => ViewJson {
                center: Some([lat, lon]),
                zoom: Some(zoom),
                bbox: None,
            },
        };
        ViewFile {
            version: VERSION,
            files: files.to_vec(),
            filter: FilterJson {
                from: f.from.map(format_day),
                to: f.to.map(format_day),
                types: f.types.clone(),
                text: f.text.clone(),
                bbox: f.bbox.map(|b| [b.min_lon, b.min_lat, b.max_lon, b.max_lat]),
            },
            view,
            size: SizeJson {
                width: spec.width,
                height: spec.height,
                scale: spec.scale,
            },
            title: spec.title.clone(),
            basemap: BasemapJson::from_base(&spec.base),
            legend: spec.legend,
            caption: spec.caption,
        }
    }

    /// Reads and checks a view file.
    pub fn load(path: &Path) -> Result<ViewFile, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        ViewFile::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses and checks view-file bytes (the fuzzers' entry point).
    pub fn parse(bytes: &[u8]) -> Result<ViewFile, String> {
        if bytes.len() > 1 << 20 {
            return Err("a view file is at most 1 MiB".into());
        }
        let v: ViewFile = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if v.version != VERSION {
            return Err(format!(
                "view file version {} is not supported (expected {VERSION})",
                v.version
            ));
        }
        Ok(v)
    }

    /// Writes the view file atomically.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        crate::atomic::write_atomic(path, |w| w.write_all(text.as_bytes()))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// The files (resolved against `dir`) and the export spec it describes.
    pub fn to_spec(&self, dir: &Path) -> Result<(Vec<PathBuf>, Spec), String> {
        let day = |s: &Option<String>| s.as_deref().map(parse_ymd).transpose();
        let bbox = match self.filter.bbox {
            Some([a, b, c, d]) => Some(BBox::parse(&format!("{a},{b},{c},{d}"))?),
            None => None,
        };
        let filter = Filter {
            from: day(&self.filter.from)?,
            to: day(&self.filter.to)?,
            types: self.filter.types.clone(),
            text: self.filter.text.clone(),
            bbox,
        };
        let viewport = match (&self.view.center, self.view.zoom, &self.view.bbox) {
            (Some([lat, lon]), Some(zoom), _) => Viewport::Center {
                lat: *lat,
                lon: *lon,
                zoom,
            },
            (Some(_), None, _) => return Err("view \"center\" needs a \"zoom\"".into()),
            (None, _, Some(b)) => {
                BBox::parse(&format!("{},{},{},{}", b[0], b[1], b[2], b[3]))?;
                Viewport::BBox(*b)
            }
            _ => Viewport::Fit,
        };
        let spec = Spec {
            filter,
            viewport,
            width: self.size.width,
            height: self.size.height,
            scale: self.size.scale,
            title: self.title.clone(),
            base: self.basemap.base(dir)?,
            legend: self.legend,
            caption: self.caption,
            ..Spec::default()
        };
        spec.validate()?;
        Ok((self.files.iter().map(|f| dir.join(f)).collect(), spec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let spec = Spec {
            filter: Filter::default().with_from("2021-06-05").unwrap(),
            viewport: Viewport::Center {
                lat: 33.5,
                lon: 44.1,
                zoom: 7.25,
            },
            title: Some("Iraq, June 2021".into()),
            base: BaseLayer::Offline,
            ..Spec::default()
        };
        let v = ViewFile::new(&[PathBuf::from("data/incidents.geojson")], &spec);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.json");
        v.save(&p).unwrap();
        let back = ViewFile::load(&p).unwrap();
        assert_eq!(back, v);
        let (files, s) = back.to_spec(Path::new("/base")).unwrap();
        assert_eq!(files, vec![PathBuf::from("/base/data/incidents.geojson")]);
        assert_eq!(s, spec);
        std::fs::write(
            &p,
            r#"{"version":2,"size":{"width":800,"height":600},"basemap":{"kind":"osm"}}"#,
        )
        .unwrap();
        assert!(ViewFile::load(&p).unwrap_err().contains("version 2"));
        std::fs::write(
            &p,
            r#"{"version":1,"size":{"width":800,"height":600},"basemap":{"kind":"osm"},"extra":1}"#,
        )
        .unwrap();
        assert!(ViewFile::load(&p).unwrap_err().contains("extra"));
        std::fs::write(&p, r#"{"version":1,"size":{"width":800,"height":600},"basemap":{"kind":"osm"},"filter":{"from":"2021-02-30"}}"#).unwrap();
        assert!(
            ViewFile::load(&p)
                .unwrap()
                .to_spec(dir.path())
                .unwrap_err()
                .contains("impossible")
        );
    }
}
