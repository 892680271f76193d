//! Loads a definitions document and prints every flag's value and reason for a few users.
//!
//! `cargo run -p hogflags --example demo -- examples/flags.json`

use hogflags::{Evaluation, EvaluationContext, FlagSnapshot, FlagValue};
use serde_json::json;

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "examples/flags.json".into());
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    let snapshot = match FlagSnapshot::from_json(&bytes) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot load {path}: {e}");
            std::process::exit(2);
        }
    };
    println!("loaded {} flags from {path}", snapshot.len());
    for s in snapshot.skipped() {
        println!("  skipped {}: {}", s.key, s.reason);
    }

    let now = chrono::Utc::now();
    let users = [
        EvaluationContext::new("ada@example.com")
            .with_person_property("email", "ada@example.com")
            .with_person_property("plan", "pro")
            .with_person_property("$os", "iOS")
            .with_person_property("$app_version", "2.5.1")
            .with_person_property("sessions_last_week", 31)
            .with_person_property("signed_up_at", json!((now - chrono::Duration::days(3)).to_rfc3339()))
            .with_group("company", "acme")
            .with_group_properties("company", [("seats".to_string(), json!(25))].into_iter().collect()),
        EvaluationContext::new("user-105")
            .with_person_property("email", "bob@bot.io")
            .with_person_property("plan", "free")
            .with_person_property("$os", "Android")
            .with_person_property("$app_version", "2.5.1")
            .with_person_property("sessions_last_week", 40)
            .with_person_property("signed_up_at", "2020-01-01"),
        EvaluationContext::new("anonymous-7"),
    ];
    for ctx in &users {
        println!("\n{}:", ctx.distinct_id());
        for (key, outcome) in snapshot.evaluate_all(ctx) {
            match outcome {
                Evaluation::Decided(r) => {
                    let value = match r.value {
                        FlagValue::Bool(b) => b.to_string(),
                        FlagValue::Variant(v) => format!("{v:?}"),
                    };
                    let payload = r.payload.map(|p| format!("  payload {p}")).unwrap_or_default();
                    let index = r.reason.condition_index.map(|i| format!(" #{i}")).unwrap_or_default();
                    println!("  {key:<18} {value:<10} {}{index}{payload}", r.reason.code);
                }
                Evaluation::Inconclusive(i) => println!("  {key:<18} ?          inconclusive: {i}"),
            }
        }
    }
}
