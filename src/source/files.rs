//! Files as a source: CSV (ACLED included), GeoJSON, KML/KMZ, shapefiles and GeoPackages, loaded
//! once into the columnar store; every question is answered from it in this process.

use std::path::PathBuf;
use std::sync::Arc;

use super::{Derived, Fetch, Incidents, Key, OpenError, Report, Source, SourceError, Watch};
use crate::cells::{Cell, CellSpan, store_cells};
use crate::details::Details;
use crate::import::{LoadResult, Overrides, load_paths_with};
use crate::progress::Control;
use crate::query::Filter;
use crate::query::counts::{Aggregates, Part, Summary, aggregates_of};
use crate::store::{Format, Store};

/// Loaded files.
pub struct Files {
    args: Vec<PathBuf>,
    name: String,
    report: Report,
    store: Arc<Store>,
    derived: Arc<Derived>,
}

/// The files engine's opener: takes any arguments (it is asked last).
pub fn open(args: &[PathBuf], ov: &Overrides, ctl: &Control) -> Option<super::Opened> {
    let r = load_paths_with(args, ov, ctl);
    if r.cancelled {
        return Some(Err(OpenError::Cancelled));
    }
    Some(Ok(Arc::new(Files::new(args.to_vec(), r))))
}

/// The files engine's check: every path exists.
pub fn check(args: &[PathBuf]) -> Option<Result<(), OpenError>> {
    Some(match args.iter().find(|p| !p.exists()) {
        Some(p) => Err(OpenError::NotFound(p.clone())),
        None => Ok(()),
    })
}

impl Files {
    /// The source of what was loaded from `args`.
    pub fn new(args: Vec<PathBuf>, r: LoadResult) -> Files {
        let name = args
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Files {
            args,
            name,
            report: Report {
                problems: r.problems,
                errors: r.errors,
                skipped: r.skipped,
                timings: Some((r.parse_ms, r.index_ms)),
            },
            store: Arc::new(r.store),
            derived: Default::default(),
        }
    }

    /// The loaded store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    fn select(&self, f: &Filter) -> Result<crate::query::Selection, SourceError> {
        Ok(self.store.select(f)?)
    }
}

/// How `check` names a loaded file's format.
fn format_name(f: &crate::store::LoadedFile) -> &'static str {
    match f.format {
        Format::Csv if f.map.acled => "acled-csv",
        Format::Csv => "csv",
        Format::GeoJson => "geojson",
        Format::Kml | Format::Kmz => "kml",
        Format::Shapefile => "shapefile",
        Format::GeoPackage => "geopackage",
    }
}

impl Source for Files {
    fn name(&self) -> &str {
        &self.name
    }

    fn arguments(&self) -> Vec<PathBuf> {
        self.args.clone()
    }

    fn report(&self) -> &Report {
        &self.report
    }

    fn summary(&self, _ctl: &Control) -> Result<Summary, SourceError> {
        let s = &*self.store;
        let mut counts = vec![0u64; s.types.len()];
        for &k in &s.type_id {
            counts[k as usize] += 1;
        }
        let types = s
            .types
            .names()
            .zip(counts)
            .map(|(n, c)| (n.to_string(), c))
            .collect();
        let mut per_file = vec![0u64; s.files.len()];
        for &f in &s.file {
            per_file[f as usize] += 1;
        }
        let files = s
            .files
            .iter()
            .zip(per_file)
            .map(|(f, n)| Part {
                file: f.name.clone(),
                format: format_name(f).into(),
                incidents: n,
            })
            .collect();
        let mut sum = Summary::new(
            s.len() as u64,
            s.disputed.iter().filter(|&&d| d).count() as u64,
            s.day_range(),
            types,
            s.bbox(),
            files,
        );
        sum.skipped = self.report.skipped as u64;
        Ok(sum)
    }

    fn incidents(
        &self,
        filter: &Filter,
        _fetch: &Fetch,
        _ctl: &Control,
    ) -> Result<Incidents, SourceError> {
        let sel = self.select(filter)?;
        Ok(Incidents::indexed(
            self.store.clone(),
            sel,
            self.derived.clone(),
        ))
    }

    fn aggregates(&self, filter: &Filter, _ctl: &Control) -> Result<Aggregates, SourceError> {
        let facet = self.select(&Filter {
            types: Vec::new(),
            ..filter.clone()
        })?;
        let undated = self.select(&Filter {
            from: None,
            to: None,
            ..filter.clone()
        })?;
        Ok(aggregates_of(&self.store, &facet, &undated))
    }

    fn cells(
        &self,
        filter: &Filter,
        level: u32,
        span: CellSpan,
        _ctl: &Control,
    ) -> Result<Vec<Cell>, SourceError> {
        let sel = self.select(filter)?;
        let index =
            Incidents::indexed(self.store.clone(), Default::default(), self.derived.clone())
                .index();
        Ok(store_cells(&self.store, &index, &sel, span, level))
    }

    fn details(&self, key: Key, _ctl: &Control) -> Result<Details, SourceError> {
        if key.0 < 0 || key.0 as usize >= self.store.len() {
            return Err(SourceError::NoSuchIncident(key));
        }
        Ok(crate::details::details(&self.store, key.0 as usize)?)
    }

    fn watch(&self) -> Option<Box<dyn Watch>> {
        None
    }
}
