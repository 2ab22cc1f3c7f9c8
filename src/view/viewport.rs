//! Where the map looks: the one viewport schema of settings, saved views and exports.

use serde::{Deserialize, Serialize};

use super::Screen;
use crate::query::BBox;

/// The map's starting centre (lon, lat) and zoom before any data is fitted: Iraq.
pub const DEFAULT_CENTER: (f64, f64) = (44.0, 33.3);
/// The starting zoom.
pub const DEFAULT_ZOOM: f64 = 5.0;

/// Where the map looks. Written as `{}` (fit the incidents), `{"bbox": [min_lon, min_lat,
/// max_lon, max_lat]}` or `{"center": [lat, lon], "zoom": z}`; the `[lon, lat, zoom]` of old
/// settings files is still read.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Viewport {
    /// Fit the filtered incidents, with a margin.
    #[default]
    Fit,
    /// Fit a box.
    BBox(BBox),
    /// A centre and zoom.
    Center {
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
        /// Zoom.
        zoom: f64,
    },
}

/// Why a viewport cannot be shown.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ViewportError {
    /// A centre or zoom off the map.
    #[error(
        "centre {lat},{lon} at zoom {zoom} is outside the map (latitude ±90, longitude ±180, zoom 0–19)"
    )]
    OutsideMap {
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
        /// Zoom.
        zoom: f64,
    },
}

#[derive(Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ViewJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    center: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    zoom: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bbox: Option<BBox>,
}

impl Serialize for Viewport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = match *self {
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
        v.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Viewport {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = serde_json::Value::deserialize(d)?;
        let v = if value.is_array() {
            // Settings files before the shared schema: `[lon, lat, zoom]`.
            let (lon, lat, zoom) =
                <(f64, f64, f64)>::deserialize(value).map_err(D::Error::custom)?;
            Viewport::Center { lat, lon, zoom }
        } else {
            let v = ViewJson::deserialize(value).map_err(D::Error::custom)?;
            match (v.center, v.zoom, v.bbox) {
                (Some([lat, lon]), Some(zoom), _) => Viewport::Center { lat, lon, zoom },
                (Some(_), None, _) => return Err(D::Error::custom("\"center\" needs a \"zoom\"")),
                (None, _, Some(b)) => Viewport::BBox(b),
                _ => Viewport::Fit,
            }
        };
        v.check().map_err(D::Error::custom)?;
        Ok(v)
    }
}

impl Viewport {
    /// Checks a centre and zoom.
    pub fn check(&self) -> Result<(), ViewportError> {
        if let Viewport::Center { lat, lon, zoom } = *self
            && (!(-90.0..=90.0).contains(&lat)
                || !(-180.0..=180.0).contains(&lon)
                || !(0.0..=19.0).contains(&zoom))
        {
            return Err(ViewportError::OutsideMap { lat, lon, zoom });
        }
        Ok(())
    }

    /// The centre (lon, lat) and zoom for a map of `width` × `height` points. `fit` is the box
    /// to fit (the incidents', else the filter's area, else the data's); without one, the default
    /// view.
    pub fn resolve(
        &self,
        fit: Option<[f64; 4]>,
        width: f32,
        height: f32,
    ) -> Result<(f64, f64, f64), ViewportError> {
        self.check()?;
        let rect = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(width, height));
        let fit_box = |b: [f64; 4]| {
            // Keep a margin for the caption (top-left), legend (top-right) and scale bar.
            let s = Screen::fit(rect, b, (width.min(height) * 0.12).max(40.0), 16.0);
            let (lon, lat) = s.center_lonlat();
            (lon, lat, s.zoom)
        };
        match *self {
            Viewport::Center { lat, lon, zoom } => Ok((lon, lat, zoom)),
            Viewport::BBox(b) => Ok(fit_box(b.to_array())),
            Viewport::Fit => {
                let Some(b) = fit else {
                    return Ok((DEFAULT_CENTER.0, DEFAULT_CENTER.1, DEFAULT_ZOOM));
                };
                // A single place still gets some context around it.
                let pad = 0.05;
                Ok(fit_box([b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_schema_for_settings_and_views() {
        let c = Viewport::Center {
            lat: 33.5,
            lon: 44.1,
            zoom: 7.25,
        };
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(text, r#"{"center":[33.5,44.1],"zoom":7.25}"#);
        assert_eq!(serde_json::from_str::<Viewport>(&text).unwrap(), c);
        assert_eq!(
            serde_json::from_str::<Viewport>("[44.1,33.5,7.25]").unwrap(),
            c
        );
        assert_eq!(
            serde_json::from_str::<Viewport>("{}").unwrap(),
            Viewport::Fit
        );
        let b = serde_json::from_str::<Viewport>(r#"{"bbox":[40,30,48,38]}"#).unwrap();
        assert_eq!(b, Viewport::BBox(BBox::parse("40,30,48,38").unwrap()));
        assert!(serde_json::from_str::<Viewport>(r#"{"center":[95,40],"zoom":5}"#).is_err());
        assert!(serde_json::from_str::<Viewport>(r#"{"center":[33,40]}"#).is_err());
    }
}
