//! How the server reads a property or filter value: as text (D18: strings as they are, anything else as
//! compact JSON) and as a number. Every operator compares through these two, so they live apart from
//! the operators that use them.

use serde_json::Value;

/// The server's string form of a value: strings as they are, anything else as compact JSON.
pub(crate) fn to_text(value: &Value) -> std::borrow::Cow<'_, str> {
    match value {
        Value::String(s) => std::borrow::Cow::Borrowed(s),
        other => std::borrow::Cow::Owned(other.to_string()),
    }
}

/// The server's numeric form: numbers, or strings that parse fully as f64.
pub(crate) fn to_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        other => other.to_string().parse().ok(),
    }
}
