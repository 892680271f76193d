//! Any bytes as a definitions document: loading must return a snapshot or a typed error, never panic,
//! and every loaded flag must evaluate.
#![no_main]
use hogflags::{EvaluationContext, FlagSnapshot};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(snap) = FlagSnapshot::from_json(data) {
        let ctx = EvaluationContext::new("fuzz-user");
        let _ = snap.evaluate_all(&ctx);
    }
});
