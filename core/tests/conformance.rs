//! Runs the shared conformance corpus (`tests/conformance/*.json`): every case, through `evaluate` and
//! through `evaluate_all`, comparing value, payload, reason and condition index (or the inconclusive kind).

use std::path::PathBuf;

use hogflags::{Evaluation, EvaluationContext, FlagSnapshot, FlagValue};
use serde_json::Value;

fn corpus_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/conformance"))
}

/// The shared corpus, plus the folder named by `HOGFLAGS_EXTRA_CORPUS` (e.g. the differential corpus).
fn corpus_files() -> Vec<PathBuf> {
    let mut dirs = vec![corpus_dir()];
    if let Some(extra) = std::env::var_os("HOGFLAGS_EXTRA_CORPUS") {
        dirs.push(PathBuf::from(extra));
    }
    let mut files: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap_or_else(|e| panic!("{d:?}: {e}")))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Compares one outcome with the case's `expected`; `Err` describes the difference.
fn check(outcome: &Evaluation<'_>, expected: &Value) -> Result<(), String> {
    match (outcome, expected.get("inconclusive")) {
        (Evaluation::Inconclusive(i), Some(kind)) => {
            if kind.as_str() == Some(i.kind.as_str()) {
                Ok(())
            } else {
                Err(format!("inconclusive {} (detail {:?}), want inconclusive {kind}", i.kind, i.detail))
            }
        }
        (Evaluation::Inconclusive(i), None) => Err(format!("inconclusive {i}, want {expected}")),
        (Evaluation::Decided(r), Some(kind)) => Err(format!(
            "decided {:?} ({} {:?}), want inconclusive {kind}",
            r.value, r.reason.code, r.reason.condition_index
        )),
        (Evaluation::Decided(r), None) => {
            let value = match r.value {
                FlagValue::Bool(b) => Value::Bool(b),
                FlagValue::Variant(v) => Value::String(v.into()),
            };
            let mut diffs = Vec::new();
            if expected.get("value") != Some(&value) {
                diffs.push(format!("value {value}, want {}", expected["value"]));
            }
            if let Some(p) = expected.get("payload") {
                let got = r.payload.cloned().unwrap_or(Value::Null);
                if &got != p {
                    diffs.push(format!("payload {got}, want {p}"));
                }
            }
            if let Some(reason) = expected.get("reason") {
                if reason.get("code").and_then(Value::as_str) != Some(r.reason.code.as_str()) {
                    diffs.push(format!("reason {}, want {}", r.reason.code, reason["code"]));
                }
                let want_index = reason.get("condition_index").and_then(Value::as_u64).map(|i| i as usize);
                if reason.get("condition_index").is_some() && want_index != r.reason.condition_index {
                    diffs.push(format!(
                        "condition_index {:?}, want {}",
                        r.reason.condition_index, reason["condition_index"]
                    ));
                }
            }
            if diffs.is_empty() {
                Ok(())
            } else {
                Err(diffs.join("; "))
            }
        }
    }
}

#[test]
fn conformance_corpus_passes_completely() {
    let files = corpus_files();
    assert!(!files.is_empty(), "no corpus files in {:?}", corpus_dir());
    let mut total = 0;
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let suite: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
        let definitions = serde_json::to_vec(&suite["definitions"]).unwrap();
        let snapshot = FlagSnapshot::from_json(&definitions).unwrap_or_else(|e| panic!("{name}: {e}"));
        let cases = suite["cases"].as_array().unwrap_or_else(|| panic!("{name}: no cases"));
        for case in cases {
            total += 1;
            let id = case["id"].as_str().unwrap_or("?");
            let flag = case["flag"].as_str().unwrap_or_else(|| panic!("{name}/{id}: no flag"));
            let ctx = EvaluationContext::from_json(&case["context"].to_string())
                .unwrap_or_else(|e| panic!("{name}/{id}: bad context: {e}"));
            let one = snapshot.evaluate(flag, &ctx);
            if let Err(why) = check(&one, &case["expected"]) {
                failures.push(format!("{name}/{id} [{flag}]: {why}"));
                continue;
            }
            // The bulk path must agree with the single-flag path.
            if snapshot.flag(flag).is_some() {
                let all = snapshot.evaluate_all(&ctx);
                let bulk = all.iter().find(|(k, _)| *k == flag).map(|(_, e)| *e).unwrap();
                if bulk != one {
                    failures.push(format!("{name}/{id} [{flag}]: evaluate_all gave {bulk:?}, evaluate gave {one:?}"));
                }
            }
        }
    }
    println!("conformance: {} cases in {} files, {} failed", total, files.len(), failures.len());
    assert!(failures.is_empty(), "{} of {total} cases failed:\n{}", failures.len(), failures.join("\n"));
    assert!(total >= 500, "the corpus must hold at least 500 cases, has {total}");
}
