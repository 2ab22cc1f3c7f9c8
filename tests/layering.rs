//! The layering of `src/` as a test: every `crate::` path (in `use` or in code) of library code
//! is read, and an import that goes up the layers below, or that closes a cycle between
//! top-level modules, fails with the file and the modules named. Unit tests
//! (`#[cfg(test)]` items) may use anything: they are not part of the library.
//!
//! README's Layout section states the same order; the test checks that it does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules from the bottom up. A module may use modules of its own layer and of the
/// layers below it, never above; within a layer, no cycles.
const LAYERS: &[&[&str]] = &[
    &[
        "text",
        "date",
        "model",
        "projection",
        "geodesy",
        "area",
        "atomic",
        "progress",
        "style",
    ],
    &["store"],
    &["import", "synth"],
    &[
        "query", "cluster", "cells", "density", "dupes", "links", "details", "chart", "places",
        "tools",
    ],
    &["output", "edit"],
    &["evidence"],
    &["db"],
    &["source"],
    &["view"],
    &["export"],
    &["app"],
    &["cli"],
];

/// The layers as README writes them: `a, b < c < …`.
fn layers_line() -> String {
    LAYERS
        .iter()
        .map(|l| l.join(", "))
        .collect::<Vec<_>>()
        .join(" < ")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The library code of a file: unit-test items (`#[cfg(test)]` and what follows it, to the
/// closing brace at the attribute's indentation, as rustfmt lays it out) and comments removed.
fn library_code(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.trim() == "#[cfg(test)]" {
            let indent = l.len() - l.trim_start().len();
            let mut j = i + 1;
            if !lines.get(j).is_some_and(|n| n.trim_end().ends_with(';')) {
                let close = format!("{}}}", " ".repeat(indent));
                while j < lines.len() && lines[j].trim_end() != close {
                    j += 1;
                }
            }
            i = j + 1;
            continue;
        }
        let code = match l.find("//") {
            // `//` inside a string literal ("http://…") is not a comment.
            Some(k) if l[..k].matches('"').count().is_multiple_of(2) => &l[..k],
            _ => l,
        };
        out.push_str(code);
        out.push('\n');
        i += 1;
    }
    out
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules a file's code names: `crate::m`, `crate::{m, n::…}`, and `super::`
/// paths that climb to the crate root (`path` is the file's module path).
fn named_modules(code: &str, path: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(k) = rest.find("crate::") {
        let before = rest[..k].chars().last();
        rest = &rest[k + "crate::".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue; // `my_crate::`, not `crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of a group: at brace depth 0, after `{` or `,`.
            let mut depth = 0;
            let mut expect = true;
            for (idx, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => expect = true,
                    c if expect && depth == 0 && (c.is_ascii_alphabetic() || c == '_') => {
                        out.insert(ident_at(&group[idx..]).to_string());
                        expect = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident_at(rest).to_string());
        }
    }
    // `super::super::x` from `a/b.rs` (module a::b) names crate-level `x`.
    let mut rest = code;
    while let Some(k) = rest.find("super::") {
        let before = rest[..k].chars().last();
        let mut tail = &rest[k..];
        rest = &rest[k + "super::".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let mut hops = 0;
        while let Some(t) = tail.strip_prefix("super::") {
            hops += 1;
            tail = t;
        }
        if hops == path.len() {
            out.insert(ident_at(tail).to_string());
        }
    }
    out
}

/// Module path of a file under `src/` (`app/mod.rs` → [app], `app/panels.rs` → [app, panels]).
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" {
        parts.push(stem.to_string());
    }
    parts
}

#[test]
fn imports_follow_the_layers_and_close_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rank: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(k, l)| l.iter().map(move |m| (*m, k)))
        .collect();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut modules = BTreeSet::new();
    let mut wrong = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        if rel == Path::new("lib.rs") || rel == Path::new("main.rs") {
            continue;
        }
        let path = module_path(rel);
        let top = path[0].clone();
        modules.insert(top.clone());
        let code = library_code(&std::fs::read_to_string(f).unwrap());
        for m in named_modules(&code, &path) {
            if m != top && m != "self" {
                edges
                    .entry((top.clone(), m))
                    .or_insert_with(|| rel.display().to_string());
            }
        }
    }
    for m in &modules {
        if !rank.contains_key(m.as_str()) {
            wrong.push(format!(
                "src/{m}: a top-level module in no layer; add it to LAYERS and README"
            ));
        }
    }
    for ((a, b), file) in &edges {
        if let (Some(ra), Some(rb)) = (rank.get(a.as_str()), rank.get(b.as_str()))
            && rb > ra
        {
            wrong.push(format!(
                "src/{file}: `{a}` (layer {}) uses `{b}` (layer {}), a layer above it",
                ra + 1,
                rb + 1
            ));
        }
    }
    // Cycles: a module that reaches itself.
    let next = |m: &str| -> Vec<String> {
        edges
            .keys()
            .filter(|(a, _)| a == m)
            .map(|(_, b)| b.clone())
            .collect()
    };
    for start in &modules {
        // Depth-first from `start`, remembering the path, looking for `start` again.
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((m, trail)) = stack.pop() {
            for n in next(&m) {
                if &n == start {
                    let mut cycle = trail.clone();
                    cycle.push(n.clone());
                    // Each cycle once: from its smallest module.
                    if trail.iter().min() == Some(start) {
                        wrong.push(format!("import cycle: {}", cycle.join(" → ")));
                    }
                } else if seen.insert(n.clone()) {
                    let mut t = trail.clone();
                    t.push(n.clone());
                    stack.push((n, t));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the layering ({}) is broken:\n  {}",
        layers_line(),
        wrong.join("\n  ")
    );
}

#[test]
fn readme_states_the_same_layers() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let line = layers_line();
    assert!(
        readme.contains(&line),
        "README's Layout must state the layers as the test holds them:\n{line}"
    );
}

#[test]
fn the_reader_finds_what_it_should() {
    let code = library_code(
        "use crate::{a::X, b, c::{d, e}};\nuse super::super::f;\n// crate::g\nfn x() { crate::h::y(); \"http://crate::i\"; }\n#[cfg(test)]\nmod tests {\n    use crate::j;\n}\n",
    );
    let found = named_modules(&code, &["m".into(), "n".into()]);
    let want: BTreeSet<String> = ["a", "b", "c", "f", "h", "i"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    // `crate::i` inside a string counts (harmless: such strings do not occur); comments and
    // unit tests do not.
    assert_eq!(found, want);
}

/// The error types a `Result<…>` in `code` names, for each `Result<T, E>` written with two
/// parameters.
fn result_errors(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(k) = rest.find("Result<") {
        let before = rest[..k].chars().last();
        rest = &rest[k + "Result<".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue; // `io::Result<` has one parameter; `MyResult<` is not ours to read
        }
        let (mut depth, mut comma, mut end) = (0i32, None, None);
        for (i, c) in rest.char_indices() {
            match c {
                '<' | '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                '>' if depth == 0 => {
                    end = Some(i);
                    break;
                }
                '>' => depth -= 1,
                ',' if depth == 0 => comma = Some(i),
                _ => {}
            }
        }
        if let (Some(c), Some(e)) = (comma, end) {
            out.push(rest[c + 1..e].trim().to_string());
        }
    }
    out
}

#[test]
fn library_errors_are_typed() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for f in &files {
        let code = library_code(&std::fs::read_to_string(f).unwrap());
        for e in result_errors(&code) {
            if e == "String" || e == "()" || e == "&str" || e == "&'static str" {
                wrong.push(format!("{}: Result<_, {e}>", f.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "untyped errors:\n  {}",
        wrong.join("\n  ")
    );
    assert_eq!(
        result_errors("fn a() -> Result<Vec<(u8, u8)>, String> {} fn b() -> io::Result<()>"),
        vec!["String".to_string()]
    );
}
