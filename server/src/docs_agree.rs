//! The docs name what the code has: every `LATCHKEY_*` variable the code reads is in
//! docs/configuration.md and .env.example, and every island is in docs/architecture.md. A new
//! setting or island without its line fails here, not in a reader's hands.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The text of every Rust source file under `dir` but this one (whose patterns would match).
fn sources(dir: &Path, texts: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.is_dir() {
            sources(&path, texts);
        } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("server/src/docs_agree.rs") {
            texts.push(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
        }
    }
}

fn all_sources() -> Vec<String> {
    let mut texts = Vec::new();
    for dir in ["engine/src", "server/src", "app/src"] {
        sources(&root().join(dir), &mut texts);
    }
    texts
}

/// The identifier at the start of `text`.
fn ident(text: &str) -> String {
    text.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

#[test]
fn every_variable_the_code_reads_is_in_the_docs_and_the_example_file() {
    let mut names = BTreeSet::new();
    for text in all_sources() {
        for rest in text.split("\"LATCHKEY_").skip(1) {
            let name = ident(rest);
            // Only whole literals ("LATCHKEY_RATE_LIMIT_" + a kind is not one); the test harness's own are
            // documented with it.
            if rest[name.len()..].starts_with('"') && !name.starts_with("TEST_") {
                names.insert(format!("LATCHKEY_{name}"));
            }
        }
    }
    assert!(names.len() > 30 && names.contains("LATCHKEY_DATABASE_URL"), "the sources were read: {names:?}");
    let docs = read("docs/configuration.md");
    let example = read(".env.example");
    let example_names: BTreeSet<&str> = example
        .lines()
        .map(|line| line.trim_start_matches(['#', ' ']))
        .filter(|line| line.starts_with("LATCHKEY_") && line.contains('='))
        .filter_map(|line| line.split('=').next())
        .collect();
    // Read only to refuse it at start-up, with a sentence on what replaced it.
    let retired = ["LATCHKEY_JWT_SECRET"];
    for name in &names {
        assert!(docs.contains(&format!("`{name}`")), "{name} is read by the code but not in docs/configuration.md");
        if retired.contains(&name.as_str()) {
            assert!(!example_names.contains(name.as_str()), "{name} is retired: .env.example must not offer it");
        } else {
            assert!(example_names.contains(name.as_str()), "{name} is read by the code but not named in .env.example");
        }
    }
    for name in example_names {
        assert!(names.contains(name), ".env.example names {name}, which the code does not read");
    }
}

#[test]
fn every_island_is_in_the_architecture_table() {
    let mut islands = BTreeSet::new();
    for text in all_sources() {
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for (at, line) in lines.iter().enumerate() {
            let attribute = *line == "#[island]" || (line.starts_with("#[cfg_attr(") && line.ends_with(", island)]"));
            // The function the attribute (and any attribute after it) is on.
            let function = lines[at..].iter().find_map(|l| l.split_once("fn ").map(|(_, after)| ident(after)));
            if let (true, Some(name)) = (attribute, function) {
                islands.insert(name);
            }
        }
    }
    assert!(islands.contains("PasskeySignIn") && islands.len() >= 9, "the islands were found: {islands:?}");
    let architecture = read("docs/architecture.md");
    for island in islands {
        assert!(architecture.contains(&format!("| `{island}` |")), "island {island} is not in docs/architecture.md");
    }
}

/// Each path under `engine/src/`, `server/src/`, `app/src/` or `frontend/src/` that `text` names.
fn source_paths(text: &str) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    for crate_dir in ["engine/src/", "server/src/", "app/src/", "frontend/src/"] {
        for (at, _) in text.match_indices(crate_dir) {
            let path: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.' | '-'))
                .collect();
            paths.insert(path.trim_end_matches('.').to_owned());
        }
    }
    paths
}

#[test]
fn every_source_file_the_docs_name_exists() {
    let mut documents: Vec<String> = vec!["README.md".into(), "CONTRIBUTING.md".into(), "Makefile".into()];
    for entry in std::fs::read_dir(root().join("docs")).unwrap_or_else(|e| panic!("docs: {e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().is_some_and(|e| e == "md") {
            documents.push(format!("docs/{}", path.file_name().unwrap_or_default().to_string_lossy()));
        }
    }
    let mut named = 0;
    for document in documents.iter().filter(|d| root().join(d).exists()) {
        for path in source_paths(&read(document)) {
            named += 1;
            assert!(root().join(&path).exists(), "{document} names {path}, which does not exist");
        }
    }
    assert!(named > 20, "the documents were read ({named} paths)");
}

#[test]
fn the_default_log_filter_is_the_one_the_docs_give() {
    for doc in ["README.md", "docs/configuration.md", "docs/operations.md"] {
        let text = read(doc);
        assert!(
            text.contains(&format!("`{}`", crate::telemetry::DEFAULT_LOG_FILTER)),
            "{doc} should give RUST_LOG's default as `{}`",
            crate::telemetry::DEFAULT_LOG_FILTER
        );
    }
}
