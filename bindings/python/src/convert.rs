//! Python values ⇄ JSON values, with the rules documented in python/README.md ("Value conversion").
//!
//! Python → JSON follows what posthog-python sends PostHog's server for the same call (so local answers
//! match the server's): `bool` before `int`; `int` as a JSON integer when it fits 64 bits, beyond that as
//! the JSON parser reads such a literal (a float), and out of the float range an error; non-finite floats
//! become `null` (posthog-python's serializer does the same); `datetime`/`date` become their
//! `isoformat()`, `UUID` its text, `Decimal` a float; `str`, `None`, `list`/`tuple` and `dict` as in JSON.
//! Anything else is a `TypeError` naming the property.

use std::borrow::Cow;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use serde_json::{Map, Number, Value};

/// Deepest nesting of lists/dicts converted (also stops self-referencing containers).
const MAX_DEPTH: usize = 128;

/// The UTF-8 text of a Python `str`, borrowed from the object (no copy). Fails for lone surrogates.
pub fn str_of<'a>(s: &'a Bound<'_, PyString>) -> PyResult<&'a str> {
    s.to_str()
}

/// The text of `obj` if it is a `str` (or a subclass), else `None`.
pub fn text_of<'a>(obj: &'a Bound<'_, PyAny>) -> PyResult<Option<&'a str>> {
    match obj.cast::<PyString>() {
        Ok(s) => str_of(s).map(Some),
        Err(_) => Ok(None),
    }
}

static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static UUID: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

pub fn datetime_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DATETIME.import(py, "datetime", "datetime")
}

/// A Python `int` as JSON: 64-bit integers exactly, larger ones as the JSON parser reads them (a float).
fn int_to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(Value::from(i));
    }
    if let Ok(u) = obj.extract::<u64>() {
        return Ok(Value::from(u));
    }
    let f: f64 = obj.extract().map_err(|_| PyValueError::new_err("integer is out of the range of JSON numbers"))?;
    match Number::from_f64(f) {
        Some(n) => Ok(Value::Number(n)),
        None => Err(PyValueError::new_err("integer is out of the range of JSON numbers")),
    }
}

fn float_to_json(f: f64) -> Value {
    // Non-finite floats: `null`, as posthog-python's request serializer sends them.
    Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)
}

/// Converts a property value. Errors name `what` (e.g. `person_properties['plan']`).
pub fn to_json(obj: &Bound<'_, PyAny>, what: &dyn Fn() -> String) -> PyResult<Value> {
    to_json_at(obj, 0, what)
}

fn to_json_at(obj: &Bound<'_, PyAny>, depth: usize, what: &dyn Fn() -> String) -> PyResult<Value> {
    // Exact types first: the common case costs one pointer comparison each.
    if let Ok(s) = obj.cast_exact::<PyString>() {
        return Ok(Value::String(str_of(s)?.to_owned()));
    }
    if obj.is_exact_instance_of::<PyBool>() {
        return Ok(Value::Bool(obj.is_truthy()?));
    }
    if obj.is_exact_instance_of::<PyInt>() {
        return int_to_json(obj).map_err(|e| PyValueError::new_err(format!("{}: {}", what(), e.value(obj.py()))));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(f) = obj.cast_exact::<PyFloat>() {
        return Ok(float_to_json(f.value()));
    }
    if depth >= MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "{}: nested more than {MAX_DEPTH} levels deep (or contains itself)",
            what()
        )));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = json_key(&k, what)?;
            let value = to_json_at(&v, depth + 1, what)?;
            map.insert(key.into_owned(), value);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        let mut out = Vec::with_capacity(l.len());
        for item in l.iter() {
            out.push(to_json_at(&item, depth + 1, what)?);
        }
        return Ok(Value::Array(out));
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        let mut out = Vec::with_capacity(t.len());
        for item in t.iter() {
            out.push(to_json_at(&item, depth + 1, what)?);
        }
        return Ok(Value::Array(out));
    }
    // Subclasses (str/int enums, float subclasses), then the types posthog-python serializes specially.
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(str_of(s)?.to_owned()));
    }
    if obj.is_instance_of::<PyInt>() {
        return int_to_json(obj).map_err(|e| PyValueError::new_err(format!("{}: {}", what(), e.value(obj.py()))));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(float_to_json(f.value()));
    }
    let py = obj.py();
    if obj.is_instance(DATETIME.import(py, "datetime", "datetime")?)?
        || obj.is_instance(DATE.import(py, "datetime", "date")?)?
    {
        let iso = obj.call_method0("isoformat")?;
        return Ok(Value::String(iso.extract::<String>()?));
    }
    if obj.is_instance(UUID.import(py, "uuid", "UUID")?)? {
        return Ok(Value::String(obj.str()?.extract::<String>()?));
    }
    if obj.is_instance(DECIMAL.import(py, "decimal", "Decimal")?)? {
        let f: f64 = obj.call_method0("__float__")?.extract()?;
        return Ok(float_to_json(f));
    }
    Err(PyTypeError::new_err(format!(
        "{}: cannot use a value of type {} (use str, int, float, bool, None, list, tuple, dict, datetime, date, UUID or Decimal)",
        what(),
        type_name(obj)
    )))
}

/// A dict key as JSON text, with `json.dumps`'s rules (str as is; int, float, bool and None as text).
fn json_key<'a>(k: &'a Bound<'_, PyAny>, what: &dyn Fn() -> String) -> PyResult<Cow<'a, str>> {
    if let Ok(s) = k.cast::<PyString>() {
        return str_of(s).map(Cow::Borrowed);
    }
    if k.is_exact_instance_of::<PyBool>() {
        return Ok(Cow::Borrowed(if k.is_truthy()? { "true" } else { "false" }));
    }
    if k.is_none() {
        return Ok(Cow::Borrowed("null"));
    }
    if k.is_instance_of::<PyInt>() {
        return Ok(Cow::Owned(k.call_method0("__index__")?.str()?.extract::<String>()?));
    }
    if let Ok(f) = k.cast::<PyFloat>() {
        // json.dumps writes non-finite float keys as its own literals, not as repr() does.
        let v = f.value();
        return Ok(match v {
            _ if v.is_nan() => Cow::Borrowed("NaN"),
            f64::INFINITY => Cow::Borrowed("Infinity"),
            f64::NEG_INFINITY => Cow::Borrowed("-Infinity"),
            _ => Cow::Owned(k.repr()?.extract::<String>()?),
        });
    }
    Err(PyTypeError::new_err(format!(
        "{}: dict keys must be str, int, float, bool or None, not {}",
        what(),
        type_name(k)
    )))
}

/// The text of an identifier (distinct id, group key) under the core's `identifier_text` rules:
/// `str` as is; `int` and `float` as their JSON text. `Ok(None)`: not an identifier (bool, None, …).
pub fn identifier(obj: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Some(str_of(s)?.to_owned()));
    }
    if obj.is_exact_instance_of::<PyBool>() {
        return Ok(None);
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Some(i.to_string()));
        }
        return Ok(hogflags::identifier_text(&int_to_json(obj)?));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return match Number::from_f64(f.value()) {
            Some(n) => Ok(hogflags::identifier_text(&Value::Number(n))),
            None => Err(PyValueError::new_err("a NaN or infinite float is not an identifier")),
        };
    }
    Ok(None)
}

/// A key as Python would show it (`'plan'`), for error messages.
pub fn key_repr(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// A JSON value (payload) as a fresh Python object.
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}
