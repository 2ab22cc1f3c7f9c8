//! Linked incidents: a `related` column or property lists the ids of other incidents (a launcher
//! found → the attack it fired). Links are read once per load from the records of files that
//! have such a column, and drawn as lines between the incidents by the window and exports.

use std::collections::HashMap;

use crate::model::Role;
use crate::store::Store;

/// A line between two incidents, `(lon, lat)` to `(lon, lat)`.
pub type Segment = ((f64, f64), (f64, f64));

/// Names an id column may have (case-insensitive).
/// The names of the column that holds an incident's own id.
pub const ID_NAMES: [&str; 4] = ["id", "event_id", "event_id_cnty", "incident_id"];

/// An incident's own id (the `id`, `event_id`, `event_id_cnty` or `incident_id` field), if it
/// has one.
pub fn incident_id(fields: &[crate::store::Field]) -> Option<String> {
    fields
        .iter()
        .find(|f| ID_NAMES.iter().any(|n| f.name.eq_ignore_ascii_case(n)))
        .map(|f| f.text().trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The links of a store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Links {
    /// Pairs of store indices (smaller first), each once, in order.
    pub pairs: Vec<(u32, u32)>,
    /// Incident id → store index, for the incidents of files that link.
    pub ids: HashMap<String, u32>,
    /// Ids named in a `related` value that no incident has.
    pub missing: Vec<String>,
}

/// The ids in a `related` value: a JSON array, or text separated by `;`, `,` or spaces.
pub fn ids_of(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|x| crate::store::record::value_text(x).map(|t| t.trim().to_string()))
            .filter(|t| !t.is_empty())
            .collect(),
        serde_json::Value::String(s) => s
            .split([';', ',', ' '])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}

/// Reads the links of `store`: nothing is read unless a file has a related column; then every
/// file's ids are read, so a file can link to incidents of another.
pub fn links(store: &Store) -> Links {
    let linking: Vec<bool> = store
        .files
        .iter()
        .map(|f| {
            f.columns
                .iter()
                .enumerate()
                .any(|(c, _)| f.map.role(c) == Role::Related)
        })
        .collect();
    if !linking.iter().any(|&l| l) {
        return Links::default();
    }
    let order: Vec<u32> = (0..store.len() as u32).collect();
    let mut ids = HashMap::new();
    let mut related: Vec<(u32, Vec<String>)> = Vec::new();
    for (i, r) in store.records(&order) {
        let Ok(r) = r else { continue };
        if let Some(f) = r
            .fields
            .iter()
            .find(|f| ID_NAMES.iter().any(|n| f.name.eq_ignore_ascii_case(n)))
        {
            let id = f.text().trim().to_string();
            if !id.is_empty() {
                ids.entry(id).or_insert(i);
            }
        }
        if let Some(f) = r.fields.iter().find(|f| f.role == Role::Related) {
            let list = ids_of(&f.value);
            if !list.is_empty() {
                related.push((i, list));
            }
        }
    }
    let mut pairs = Vec::new();
    let mut missing = Vec::new();
    for (i, list) in related {
        for id in list {
            match ids.get(&id) {
                Some(&j) if j != i => pairs.push((i.min(j), i.max(j))),
                Some(_) => {}
                None => missing.push(id),
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    missing.sort();
    missing.dedup();
    Links {
        pairs,
        ids,
        missing,
    }
}

/// The links whose both ends are in `shown` (sorted store indices), as `(lon, lat)` pairs.
pub fn shown_segments(store: &Store, links: &Links, shown: &[u32]) -> Vec<Segment> {
    links
        .pairs
        .iter()
        .filter(|(a, b)| shown.binary_search(a).is_ok() && shown.binary_search(b).is_ok())
        .map(|&(a, b)| {
            let (a, b) = (a as usize, b as usize);
            ((store.lon[a], store.lat[a]), (store.lon[b], store.lat[b]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_data_links_what_its_sources_link() {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/incidents.geojson");
        let r = crate::import::load_paths(&[p], &Default::default());
        let l = links(&r.store);
        assert!(!l.pairs.is_empty());
        assert!(l.missing.is_empty(), "{:?}", l.missing);
        // Erbil, 15 February 2021: the rocket attack and the launch site found the next day.
        let (a, b) = (l.ids["IQ-2021-002"], l.ids["IQ-2021-027"]);
        assert!(l.pairs.contains(&(a.min(b), a.max(b))));
        let s = Store::from_csv(
            "lat,lon,date,type,id,related\n1,1,2021-01-01,A,x,\"y; z\"\n2,2,2021-01-02,B,y,x\n",
        );
        let l = links(&s);
        assert_eq!(l.pairs, vec![(0, 1)]);
        assert_eq!(l.missing, vec!["z".to_string()]);
        // Across files: launches link to attacks listed in another file.
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (
            dir.path().join("attacks.csv"),
            dir.path().join("launches.csv"),
        );
        std::fs::write(
            &a,
            "id,lat,lon,date,type\nA1,33,44,2021-01-01,Rocket attack\n",
        )
        .unwrap();
        std::fs::write(
            &b,
            "id,lat,lon,date,type,related\nL1,33.1,44.1,2021-01-02,Launcher found,A1\n",
        )
        .unwrap();
        let r = crate::import::load_paths(&[a, b], &Default::default());
        let l = links(&r.store);
        assert_eq!(l.pairs.len(), 1, "{l:?}");
        assert!(l.missing.is_empty());
    }
}
