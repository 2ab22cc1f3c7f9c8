//! Saved views: a small versioned JSON file naming the data, filters, viewport, image size, title
//! and base layer, which the window opens and `export --view` renders. Its filter, viewport and
//! base layer are the same serde types the settings file and the command line use. The schema
//! is in README.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{SizeError, Spec, Viewport};
use crate::query::Filter;
use crate::tools::Tools;
use crate::view::tiles::BaseLayer;

/// The schema version written (version 1 files, without tools, still open).
pub const VERSION: u32 = 2;

/// Largest view file read.
const MAX_BYTES: usize = 1 << 20;

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

/// A saved view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewFile {
    /// The schema version.
    pub version: u32,
    /// Data files (relative paths are relative to the view file).
    #[serde(default)]
    pub files: Vec<PathBuf>,
    /// Filters.
    #[serde(default)]
    pub filter: Filter,
    /// Viewport.
    #[serde(default)]
    pub view: Viewport,
    /// Image size.
    pub size: SizeJson,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Base layer (a relative PMTiles path is relative to the view file).
    pub basemap: BaseLayer,
    /// Draw the legend.
    #[serde(default = "yes")]
    pub legend: bool,
    /// Draw the caption.
    #[serde(default = "yes")]
    pub caption: bool,
    /// Rings, labels and arrows (version 2).
    #[serde(default, skip_serializing_if = "Tools::is_default")]
    pub tools: Tools,
    /// Symbols or the density layer (version 2).
    #[serde(default, skip_serializing_if = "is_points")]
    pub layer: crate::density::Layer,
}

fn is_points(l: &crate::density::Layer) -> bool {
    *l == crate::density::Layer::Points
}

/// Why a view file cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ViewError {
    /// It cannot be read.
    #[error("{0}")]
    Io(String),
    /// Larger than any view file.
    #[error("a view file is at most 1 MiB")]
    TooLarge,
    /// Not valid JSON for the schema.
    #[error("{0}")]
    Parse(String),
    /// Another schema version.
    #[error("view file version {0} is not supported (expected 1 or {VERSION})")]
    Version(u32),
    /// Values that cannot be drawn.
    #[error(transparent)]
    Size(#[from] SizeError),
    /// Tools that cannot be drawn.
    #[error("tools: {0}")]
    Tools(#[from] crate::tools::ToolsError),
    /// The filter's dates are reversed.
    #[error(transparent)]
    Filter(#[from] crate::query::FilterError),
}

/// A view file that could not be used, and which.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {error}", path.display())]
pub struct ViewFileError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub error: ViewError,
}

impl ViewFile {
    /// Describes an export of `files`.
    pub fn new(files: &[PathBuf], spec: &Spec) -> ViewFile {
        ViewFile {
            version: VERSION,
            files: files.to_vec(),
            filter: spec.filter.clone(),
            view: spec.viewport,
            size: SizeJson {
                width: spec.width,
                height: spec.height,
                scale: spec.scale,
            },
            title: spec.title.clone(),
            basemap: spec.base.clone(),
            legend: spec.legend,
            caption: spec.caption,
            tools: spec.tools.clone(),
            layer: spec.layer,
        }
    }

    /// Reads and checks a view file.
    pub fn load(path: &Path) -> Result<ViewFile, ViewFileError> {
        let err = |error| ViewFileError {
            path: path.to_path_buf(),
            error,
        };
        let bytes = crate::atomic::read_small(path, MAX_BYTES as u64).map_err(|e| {
            err(match e.kind() {
                std::io::ErrorKind::FileTooLarge => ViewError::TooLarge,
                _ => ViewError::Io(e.to_string()),
            })
        })?;
        ViewFile::parse(&bytes).map_err(err)
    }

    /// Parses and checks view-file bytes (the fuzzers' entry point).
    pub fn parse(bytes: &[u8]) -> Result<ViewFile, ViewError> {
        if bytes.len() > MAX_BYTES {
            return Err(ViewError::TooLarge);
        }
        // Editors on Windows often save UTF-8 with a byte-order mark.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        #[derive(Deserialize)]
        struct Version {
            version: Option<u32>,
        }
        // The version first, so a newer file says so instead of naming an unknown field.
        if let Ok(Version { version: Some(v) }) = serde_json::from_slice::<Version>(bytes)
            && !(1..=VERSION).contains(&v)
        {
            return Err(ViewError::Version(v));
        }
        let v: ViewFile =
            serde_json::from_slice(bytes).map_err(|e| ViewError::Parse(e.to_string()))?;
        if !(1..=VERSION).contains(&v.version) {
            return Err(ViewError::Version(v.version));
        }
        Ok(v)
    }

    /// Writes the view file atomically.
    pub fn save(&self, path: &Path) -> Result<(), ViewFileError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| ViewFileError {
            path: path.to_path_buf(),
            error: ViewError::Parse(e.to_string()),
        })?;
        crate::atomic::write_atomic(path, |w| w.write_all(text.as_bytes())).map_err(|e| {
            ViewFileError {
                path: path.to_path_buf(),
                error: ViewError::Io(e.to_string()),
            }
        })
    }

    /// The files (resolved against `dir`) and the export spec it describes.
    pub fn to_spec(&self, dir: &Path) -> Result<(Vec<PathBuf>, Spec), ViewError> {
        self.filter.check()?;
        self.tools.check()?;
        let base = match &self.basemap {
            BaseLayer::PmTiles { path, attribution } => BaseLayer::PmTiles {
                path: dir.join(path),
                attribution: attribution.clone(),
            },
            other => other.clone(),
        };
        let spec = Spec {
            filter: self.filter.clone(),
            viewport: self.view,
            width: self.size.width,
            height: self.size.height,
            scale: self.size.scale,
            title: self.title.clone(),
            base,
            legend: self.legend,
            caption: self.caption,
            tools: self.tools.clone(),
            layer: self.layer,
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
    fn a_byte_order_mark_is_passed_over() {
        let text = br#"{"version": 2, "files": [], "filter": {}, "view": {},
            "size": {"width": 300, "height": 200, "scale": 1}, "basemap": {"kind": "offline"},
            "legend": true, "caption": true}"#;
        let plain = ViewFile::parse(text).unwrap();
        assert_eq!(
            ViewFile::parse(&[b"\xEF\xBB\xBF".as_slice(), text].concat()).unwrap(),
            plain
        );
    }

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
            tools: Tools {
                rings: vec![crate::tools::Ring::parse("33.786,42.441,10,25").unwrap()],
                labels: vec![crate::tools::Label::parse("33.3,44.4,Launcher").unwrap()],
                arrows: vec![crate::tools::Arrow::parse("33.3,44.2,33.78,42.45").unwrap()],
                dupes: crate::dupes::Rule { days: 2, km: 10.0 },
            },
            ..Spec::default()
        };
        let spec = Spec {
            filter: Filter {
                near: Some(crate::query::Near {
                    lat: 33.3,
                    lon: 44.3,
                    km: 60.0,
                }),
                within: Some(
                    crate::area::Area::from_geojson(
                        r#"{"type":"Polygon","coordinates":[[[40,32],[45,32],[45,35],[40,32]]]}"#,
                        "a",
                    )
                    .unwrap(),
                ),
                ..spec.filter
            },
            ..spec
        };
        let v = ViewFile::new(&[PathBuf::from("data/incidents.geojson")], &spec);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.json");
        v.save(&p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(r#""from": "2021-06-05""#), "{text}");
        let back = ViewFile::load(&p).unwrap();
        assert_eq!(back, v);
        let (files, s) = back.to_spec(Path::new("/base")).unwrap();
        assert_eq!(files, vec![PathBuf::from("/base/data/incidents.geojson")]);
        assert_eq!(s, spec);
        let bad = |text: &str| {
            std::fs::write(&p, text).unwrap();
            ViewFile::load(&p).and_then(|v| {
                v.to_spec(dir.path()).map_err(|error| ViewFileError {
                    path: p.clone(),
                    error,
                })
            })
        };
        // The duplicate rule alone is kept too.
        let only_rule = ViewFile::new(
            &[],
            &Spec {
                tools: Tools {
                    dupes: crate::dupes::Rule { days: 3, km: 10.0 },
                    ..Default::default()
                },
                ..Spec::default()
            },
        );
        let text = serde_json::to_string(&only_rule).unwrap();
        assert_eq!(
            ViewFile::parse(text.as_bytes()).unwrap(),
            only_rule,
            "{text}"
        );
        let e = bad(r#"{"version":3,"size":{"width":800,"height":600},"basemap":{"kind":"osm"}}"#)
            .unwrap_err();
        assert!(e.to_string().contains("version 3"), "{e}");
        assert!(e.to_string().contains("v.json"), "{e}");
        let e = bad(
            r#"{"version":1,"size":{"width":800,"height":600},"basemap":{"kind":"osm"},"extra":1}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("extra"), "{e}");
        let e = bad(r#"{"version":1,"size":{"width":800,"height":600},"basemap":{"kind":"osm"},"filter":{"from":"2021-02-30"}}"#).unwrap_err();
        assert!(e.to_string().contains("impossible"), "{e}");
        let e = bad(r#"{"version":1,"size":{"width":800,"height":600},"basemap":{"kind":"osm"},"filter":{"from":"2021-06-07","to":"2021-06-05"}}"#).unwrap_err();
        assert!(e.to_string().contains("after"), "{e}");
    }

    /// A view written by the first version of this program (before the shared schema).
    #[test]
    fn v1_views_still_open() {
        let old = r#"{
  "version": 1,
  "files": ["incidents.geojson"],
  "filter": {"from": "2021-03-01", "to": "2021-07-31", "types": ["Drone attack", "Rocket attack"], "text": null, "bbox": null},
  "view": {"center": [33.9, 43.2], "zoom": 6.75, "bbox": null},
  "size": {"width": 1754, "height": 1240, "scale": 1},
  "title": "From the window",
  "basemap": {"kind": "pmtiles", "pmtiles": "tiles/iraq.pmtiles", "attribution": "© OSM"},
  "legend": true,
  "caption": false
}"#;
        let v = ViewFile::parse(old.as_bytes()).unwrap();
        let (files, s) = v.to_spec(Path::new("/views")).unwrap();
        assert_eq!(files, vec![PathBuf::from("/views/incidents.geojson")]);
        assert_eq!(s.filter.types.len(), 2);
        assert_eq!(
            s.viewport,
            Viewport::Center {
                lat: 33.9,
                lon: 43.2,
                zoom: 6.75
            }
        );
        assert_eq!(
            s.base,
            BaseLayer::PmTiles {
                path: "/views/tiles/iraq.pmtiles".into(),
                attribution: "© OSM".into()
            }
        );
        assert!(!s.caption);
    }
}
