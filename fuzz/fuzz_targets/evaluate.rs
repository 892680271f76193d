//! A definitions document and a context (split at the first 0xFF byte): evaluation of every flag, one by
//! one and in bulk, must never panic and the two paths must agree.
#![no_main]
use hogflags::{EvaluationContext, FlagSnapshot};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0xFF).unwrap_or(data.len());
    let (doc, rest) = data.split_at(split);
    let Ok(snap) = FlagSnapshot::from_json(doc) else { return };
    let ctx_text = std::str::from_utf8(rest.get(1..).unwrap_or_default()).unwrap_or("{}");
    let ctx = EvaluationContext::from_json(ctx_text).unwrap_or_else(|_| EvaluationContext::new(""));
    let all = snap.evaluate_all(&ctx);
    for (key, bulk) in all {
        assert_eq!(snap.evaluate(key, &ctx), bulk, "evaluate and evaluate_all disagree on {key}");
    }
});
