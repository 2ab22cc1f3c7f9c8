#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
//! incident-map: a fast, offline-capable viewer and exporter for publicly reported security
//! incidents.
//!
//! The data half flows one way: [`import`] parses and validates files into a columnar
//! [`store::Store`]; [`query`] filters it into a [`query::Selection`]; [`output`] writes a
//! selection back out; [`cli`] wires these to the command line.

pub mod app;
pub mod area;
pub mod atomic;
pub mod cells;
pub mod chart;
pub mod cli;
pub mod cluster;
pub mod date;
pub mod db;
pub mod density;
pub mod details;
pub mod dupes;
pub mod edit;
pub mod evidence;
pub mod export;
pub mod geodesy;
pub mod import;
pub mod links;
pub mod model;
pub mod output;
pub mod places;
pub mod progress;
pub mod projection;
pub mod query;
pub mod source;
pub mod store;
pub mod style;
pub mod synth;
pub mod text;
pub mod tools;
pub mod view;
