//! Semantic-version operators with the server's canonicalisation: one leading `v` stripped, missing
//! minor/patch padded with 0, leading zeros dropped from numeric parts, pre-release kept (SemVer order).
//! Range operators (`~`, `^`, wildcard) are evaluated as `semver` crate requirements, as the server does.

use semver::{Version, VersionReq};
use serde_json::Value;

use crate::values::to_text;

fn normalize(version: &str) -> &str {
    version.strip_prefix('v').unwrap_or(version).trim()
}

fn strip_leading_zeros(part: &str) -> &str {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return part;
    }
    let t = part.trim_start_matches('0');
    if t.is_empty() {
        "0"
    } else {
        t
    }
}

fn canonicalize(version: &str) -> String {
    let (core, suffix) = match version.find(['-', '+']) {
        Some(i) => version.split_at(i),
        None => (version, ""),
    };
    let mut parts: Vec<&str> = core.split('.').map(strip_leading_zeros).collect();
    while parts.len() < 3 {
        parts.push("0");
    }
    format!("{}{}", parts.join("."), suffix)
}

/// A JSON value as a version, or `None` if it is not one.
pub(crate) fn parse_version(value: &Value) -> Option<Version> {
    let text = to_text(value);
    Version::parse(&canonicalize(normalize(&text))).ok()
}

/// The requirement a range operator's filter value stands for.
pub(crate) fn parse_requirement(op: RangeOp, value: &Value) -> Option<VersionReq> {
    let text = to_text(value);
    let normalized = normalize(&text);
    let requirement = match op {
        RangeOp::Tilde => format!("~{}", canonicalize(normalized)),
        RangeOp::Caret => format!("^{}", canonicalize(normalized)),
        RangeOp::Wildcard => normalized
            .split('.')
            .map(strip_leading_zeros)
            .collect::<Vec<_>>()
            .join(".")
            .replace('*', "x"),
    };
    VersionReq::parse(&requirement).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeOp {
    Tilde,
    Caret,
    Wildcard,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_forms() {
        assert_eq!(parse_version(&json!("v1.2")), Some(Version::new(1, 2, 0)));
        assert_eq!(parse_version(&json!("3.08")), Some(Version::new(3, 8, 0)));
        assert_eq!(parse_version(&json!("V1.2.3")), None);
        assert_eq!(parse_version(&json!("1.2.3.4")), None);
        assert!(parse_version(&json!("1.2.3-alpha")).unwrap() < Version::new(1, 2, 3));
    }

    #[test]
    fn ranges() {
        let tilde = parse_requirement(RangeOp::Tilde, &json!("1.2.3")).unwrap();
        assert!(tilde.matches(&Version::new(1, 2, 9)));
        assert!(!tilde.matches(&Version::new(1, 3, 0)));
        let wild = parse_requirement(RangeOp::Wildcard, &json!("1.*")).unwrap();
        assert!(wild.matches(&Version::new(1, 9, 0)));
        assert!(!wild.matches(&Version::new(2, 0, 0)));
        let any = parse_requirement(RangeOp::Wildcard, &json!("*")).unwrap();
        assert!(any.matches(&Version::new(0, 0, 1)));
    }
}
