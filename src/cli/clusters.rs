//! `incident-map clusters`: what the map draws at a zoom — clusters with their counts per type —
//! as JSON, from any source (a table counts them on its server).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::args::{ColumnArgs, FilterArgs, zoom};
use super::{BAD_INPUT, OK, fail, filter_of, open_all};
use crate::cells::{merge_cells, span_of, view_for};
use crate::progress::Control;

/// `clusters` arguments.
#[derive(Debug, Args)]
pub struct ClustersCmd {
    /// Incident files or directories, or one table: 'postgresql://USER@HOST/DB?table=NAME'.
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<PathBuf>,
    /// Map zoom, 0–19.
    #[arg(long, value_parser = zoom)]
    pub zoom: f64,
    /// Print JSON (the only output form).
    #[arg(long)]
    pub json: bool,
    /// Filters (--bbox also limits the view, as on the map).
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Column overrides.
    #[command(flatten)]
    pub columns: ColumnArgs,
}

/// `incident-map clusters`.
pub fn run(a: &ClustersCmd, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let (f, src) = match filter_of(&a.filter, err).and_then(|f| {
        let src = open_all(&a.sources, &a.columns, "nothing counted", err)?;
        Ok((f, src))
    }) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let (level, view, merge) = view_for(a.zoom, f.bbox);
    let cells = match src.cells(&f, level, span_of(view, level), &Control::default()) {
        Ok(c) => c,
        Err(e) => return fail(err, BAD_INPUT, e),
    };
    let clusters = merge_cells(cells, merge);
    let n: u64 = clusters.iter().map(|c| c.count).sum();
    let v = json!({"zoom": a.zoom, "incidents": n, "cells": clusters});
    let _ = serde_json::to_writer(&mut *out, &v);
    let _ = writeln!(out);
    OK
}
