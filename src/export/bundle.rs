//! Case bundles: the incidents matching a filter as a BagIt bag (RFC 8493) — as GeoJSON, each
//! with its evidence references, the evidence files themselves, the custody lines that concern
//! them, and optionally the map of the filtered view — for an editor or a court. Each item is
//! read out of its store and checked against its recorded hash on the way (a changed copy stops
//! the bundle), and each is logged as `exported`. Written by `incident-map bundle` and the
//! window's File → Export evidence bundle….

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use crate::evidence::bag::BagWriter;
use crate::evidence::{self, Action, Attached, Entry, EvidenceError, EvidenceStore};
use crate::progress::Control;
use crate::source::{Incidents, Source};

/// An item going into the bag: its store and what its log says.
struct Going {
    store: Arc<dyn EvidenceStore>,
    item: Attached,
}

/// What a bag holds, in numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundled {
    /// Where it is.
    pub path: PathBuf,
    /// Incidents.
    pub incidents: usize,
    /// Evidence items.
    pub items: usize,
    /// Custody lines.
    pub lines: usize,
}

/// What a case bundle is made of.
#[derive(Debug, Clone)]
pub struct BundleSpec {
    /// The bag to write: a new directory, or a `.zip` file.
    pub out: PathBuf,
    /// The filter the incidents were chosen by (for bag-info.txt and the map).
    pub filter: crate::query::Filter,
    /// Whether the map of the filtered view goes in too.
    pub map: bool,
    /// Source-Organization.
    pub organization: Option<String>,
    /// Contact-Name, and who the custody lines name.
    pub contact: String,
}

/// Writes the case bundle of the incidents `inc` of `src`; `ctl` may cancel while items are
/// copied.
pub fn write_bundle(
    src: &dyn Source,
    inc: &Incidents,
    spec: &BundleSpec,
    ctl: &Control,
) -> Result<Bundled, EvidenceError> {
    let (a, f, by) = (spec, &spec.filter, spec.contact.as_str());
    let (mut features, going, lines) = gather(src, inc, ctl)?;
    let mut bag = BagWriter::create(&a.out)?;
    let mut doc = serde_json::json!({"type": "FeatureCollection", "features": []});
    doc["features"] = Value::Array(std::mem::take(&mut features));
    let text = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    bag.add_bytes("data/incidents.geojson", &text)?;
    for g in going.values() {
        let sha = g.item.item.sha256.clone();
        let store = g.store.clone();
        let got = bag.add_streamed(&format!("data/evidence/{sha}"), &mut |w| {
            store.read(&sha, w, ctl).map(|_| ())
        })?;
        if got != sha {
            return Err(EvidenceError::Changed {
                name: g.item.item.name.clone(),
                sha256: sha,
                now: got,
            });
        }
    }
    let custody: String = lines.iter().map(|l| format!("{l}\n")).collect();
    bag.add_bytes("data/custody.jsonl", custody.as_bytes())?;
    let tokens = add_tokens(&mut bag, &going)?;
    if a.map {
        bag.add_bytes("data/map.png", &map_png(inc, f)?)?;
    }
    let mut info = Vec::new();
    if let Some(o) = &spec.organization {
        info.push(("Source-Organization".to_string(), o.clone()));
    }
    info.push(("Contact-Name".into(), by.to_string()));
    info.push((
        "External-Description".into(),
        format!(
            "incident-map case bundle of {}: {} incident(s) matching {}; {} evidence item(s); {} timestamp token(s)",
            src.name(),
            inc.selection.indices.len(),
            crate::export::caption_lines(f, inc.selection.indices.len()).join("; "),
            going.len(),
            tokens
        ),
    ));
    info.push((
        "Bag-Software-Agent".into(),
        format!("incident-map {}", env!("CARGO_PKG_VERSION")),
    ));
    let path = bag.finish(&info)?;
    for g in going.values() {
        g.store.append(
            Entry::new(Action::Exported, by, &g.item.incident)
                .with_sha(&g.item.item.sha256)
                .with_detail(&format!("in the case bundle {}", path.display())),
        )?;
    }
    Ok(Bundled {
        path,
        incidents: inc.selection.indices.len(),
        items: going.len(),
        lines: lines.len(),
    })
}

/// The timestamp tokens of the items going in, and of their stores' custody-log heads (which
/// cover the whole log the sender keeps), under `data/tokens/`; how many.
fn add_tokens(
    bag: &mut BagWriter,
    going: &BTreeMap<String, Going>,
) -> Result<usize, EvidenceError> {
    let mut n = 0;
    let mut stores: Vec<&Arc<dyn EvidenceStore>> = Vec::new();
    for (sha, g) in going {
        if let Some(t) = g.store.token(sha)? {
            bag.add_bytes(&format!("data/tokens/{sha}.tsr"), &t)?;
            n += 1;
        }
        if !stores.iter().any(|s| s.location() == g.store.location()) {
            stores.push(&g.store);
        }
    }
    for store in stores {
        for name in store
            .tokens()?
            .into_iter()
            .filter(|t| t.starts_with("head-"))
        {
            if let Some(t) = store.token(&name)? {
                bag.add_bytes(&format!("data/tokens/{name}.tsr"), &t)?;
                n += 1;
            }
        }
    }
    Ok(n)
}

/// The features (with their `evidence` references), the items to copy (by hash), and the
/// custody lines that concern the incidents.
#[allow(clippy::type_complexity)]
fn gather(
    src: &dyn Source,
    inc: &Incidents,
    ctl: &Control,
) -> Result<(Vec<Value>, BTreeMap<String, Going>, Vec<String>), EvidenceError> {
    let mut buf = Vec::new();
    crate::output::write_geojson(&inc.store, &inc.selection, &mut buf)
        .map_err(|e| EvidenceError::Engine(Box::new(e)))?;
    let doc: Value = serde_json::from_slice(&buf).unwrap_or(Value::Null);
    let mut features = doc["features"].as_array().cloned().unwrap_or_default();
    // What each store holds, by incident.
    let mut held: HashMap<String, Vec<(Arc<dyn EvidenceStore>, Attached)>> = HashMap::new();
    let mut logs: Vec<(Arc<dyn EvidenceStore>, Vec<String>)> = Vec::new();
    for store in src.evidence_stores() {
        let lines = store.lines(ctl)?;
        for x in evidence::attached(&store.location(), &lines)? {
            held.entry(x.incident.clone())
                .or_default()
                .push((store.clone(), x));
        }
        logs.push((store, lines));
    }
    let mut going = BTreeMap::new();
    let mut names = std::collections::HashSet::new();
    for (k, &i) in inc.selection.indices.iter().enumerate() {
        if held.is_empty() {
            break;
        }
        let (_, name) = src
            .evidence_of(inc.key(i), ctl)
            .map_err(|e| EvidenceError::Engine(Box::new(e)))?;
        let refs: Vec<Value> = held
            .get(&name)
            .into_iter()
            .flatten()
            .map(|(store, x)| {
                going.entry(x.item.sha256.clone()).or_insert(Going {
                    store: store.clone(),
                    item: x.clone(),
                });
                serde_json::json!({
                    "file": format!("evidence/{}", x.item.sha256),
                    "sha256": x.item.sha256, "name": x.item.name, "media_type": x.item.media_type,
                    "size": x.item.size, "added": x.added, "by": x.by,
                    "captured_from": x.item.captured_from, "note": x.item.note,
                })
            })
            .collect();
        if let Some(p) = features.get_mut(k).and_then(|f| f.get_mut("properties"))
            && let Some(o) = p.as_object_mut()
        {
            o.insert("evidence".into(), Value::Array(refs));
        }
        names.insert(name);
    }
    let lines = logs
        .iter()
        .flat_map(|(_, l)| l.iter())
        .filter(|l| serde_json::from_str::<Entry>(l).is_ok_and(|e| names.contains(&e.incident)))
        .cloned()
        .collect();
    Ok((features, going, lines))
}

/// The map of the filtered view on the offline basemap, as PNG bytes.
fn map_png(inc: &Incidents, f: &crate::query::Filter) -> Result<Vec<u8>, EvidenceError> {
    let failed = |e: crate::export::ExportError| {
        EvidenceError::io(
            std::path::Path::new("data/map.png"),
            std::io::Error::other(e),
        )
    };
    let spec = crate::export::Spec {
        filter: f.clone(),
        base: crate::view::tiles::BaseLayer::Offline,
        ..Default::default()
    };
    let mut exporter =
        crate::export::Exporter::new(&crate::view::offscreen::RendererChoice::from_env())
            .map_err(failed)?;
    let r = exporter
        .render(&inc.store, &inc.index(), &spec, &Control::default())
        .map_err(failed)?;
    crate::export::png_bytes(&r.image, &crate::export::PngInfo::new(&exporter, None))
        .map_err(failed)
}
