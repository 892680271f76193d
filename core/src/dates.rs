//! Date operators (`is_date_before`, `is_date_after`, `is_date_exact`) with the server's parsing rules,
//! in UTC (the definitions carry no team time zone; UTC is the server's default).
//!
//! Filter values are parsed once at load time, except relative dates (`-7d`, `3m`), which are anchored to
//! "now" at evaluation. Formats outside the explicit list go to the same generic parser the server falls
//! back to (`dateparser`, naive input read as UTC); what that cannot read is not a date (no match).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

/// A parsed date filter value or property value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum DateSpec {
    Absolute(DateTime<Utc>),
    /// `number` units back from now; unit is one of `h d w m y`.
    Relative { number: i64, unit: u8 },
    /// Not a date (the filter does not match).
    Invalid,
}

impl DateSpec {
    pub(crate) fn resolve(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            DateSpec::Absolute(d) => Some(d),
            DateSpec::Relative { number, unit } => relative(now.naive_utc(), number, unit).map(|n| n.and_utc()),
            _ => None,
        }
    }
}

const NAIVE_DATETIME_FORMATS: &[&str] =
    &["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"];

/// `^-?([0-9]+)([hdwmy])$` with number < 10 000.
fn parse_relative(s: &str) -> Option<(i64, u8)> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (&unit, digits) = body.as_bytes().split_last()?;
    if !matches!(unit, b'h' | b'd' | b'w' | b'm' | b'y') || digits.is_empty() {
        return None;
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Leading zeros allowed; anything with more than 5 significant digits is ≥ 10 000.
    let significant = std::str::from_utf8(digits).ok()?.trim_start_matches('0');
    if significant.len() > 5 {
        return None;
    }
    let number: i64 = if significant.is_empty() { 0 } else { significant.parse().ok()? };
    (number < 10_000).then_some((number, unit))
}

fn last_day_of_month(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn relative(now: NaiveDateTime, number: i64, unit: u8) -> Option<NaiveDateTime> {
    match unit {
        b'h' => now.checked_sub_signed(Duration::try_hours(number)?),
        b'd' => now.checked_sub_signed(Duration::try_days(number)?),
        b'w' => now.checked_sub_signed(Duration::try_weeks(number)?),
        b'm' => {
            let mut r = now;
            for _ in 0..number {
                let (y, m) = if r.month() == 1 { (r.year() - 1, 12) } else { (r.year(), r.month() - 1) };
                let d = r.day().min(last_day_of_month(y, m));
                r = NaiveDate::from_ymd_opt(y, m, d)?.and_time(r.time());
            }
            Some(r)
        }
        b'y' => {
            let mut r = now;
            for _ in 0..number {
                let y = r.year() - 1;
                let d = if r.month() == 2 { r.day().min(last_day_of_month(y, 2)) } else { r.day() };
                r = NaiveDate::from_ymd_opt(y, r.month(), d)?.and_time(r.time());
            }
            Some(r)
        }
        _ => None,
    }
}

/// Parses a date string the way the server's filter side does (relative first, then RFC 3339, then a bare
/// date, then naive date-times, all naive forms in UTC).
pub(crate) fn parse_date_str(s: &str) -> DateSpec {
    if let Some((number, unit)) = parse_relative(s) {
        return DateSpec::Relative { number, unit };
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return DateSpec::Absolute(d.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(dt) = d.and_hms_opt(0, 0, 0) {
            return DateSpec::Absolute(dt.and_utc());
        }
    }
    for fmt in NAIVE_DATETIME_FORMATS {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            return DateSpec::Absolute(n.and_utc());
        }
    }
    match dateparser::parse_with_timezone(s, &Utc) {
        Ok(d) => DateSpec::Absolute(d),
        Err(_) => DateSpec::Invalid,
    }
}

/// A filter's date value: only strings can be dates.
pub(crate) fn parse_filter_value(v: &Value) -> DateSpec {
    match v.as_str() {
        Some(s) => parse_date_str(s),
        None => DateSpec::Invalid,
    }
}

/// Seconds since the epoch, fractional allowed, as the server converts them.
fn from_float_timestamp(value: f64) -> DateSpec {
    if !value.is_finite() {
        return DateSpec::Invalid;
    }
    let whole = value.floor();
    if whole < i64::MIN as f64 || whole > i64::MAX as f64 {
        return DateSpec::Invalid;
    }
    let nanos = ((value % 1.0) * 1_000_000_000.0).round();
    let nanos = if nanos <= 0.0 { 0 } else { nanos as u32 };
    match DateTime::from_timestamp(whole as i64, nanos) {
        Some(d) => DateSpec::Absolute(d),
        None => DateSpec::Invalid,
    }
}

/// A property's date value: numbers and numeric strings are Unix seconds; other strings parse like the
/// filter side; anything else is not a date.
pub(crate) fn parse_property_value(v: &Value) -> DateSpec {
    match v {
        Value::String(s) => match s.parse::<f64>() {
            Ok(n) => from_float_timestamp(n),
            Err(_) => parse_date_str(s),
        },
        Value::Number(n) => n.as_f64().map(from_float_timestamp).unwrap_or(DateSpec::Invalid),
        _ => DateSpec::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn relative_months_clamp_one_step_at_a_time() {
        let now = at(2024, 5, 31);
        let r = parse_date_str("-2m").resolve(now).unwrap();
        assert_eq!(r, at(2024, 3, 30));
        let r = parse_date_str("1m").resolve(at(2024, 3, 31)).unwrap();
        assert_eq!(r, at(2024, 2, 29));
    }

    #[test]
    fn relative_years_clamp_leap_day() {
        assert_eq!(parse_date_str("1y").resolve(at(2024, 2, 29)).unwrap(), at(2023, 2, 28));
    }

    #[test]
    fn relative_rejects_large_and_bad_units() {
        assert_eq!(parse_date_str("10000d"), DateSpec::Invalid);
        assert_eq!(parse_date_str("3x"), DateSpec::Invalid);
        assert!(matches!(parse_date_str("0009999d"), DateSpec::Relative { number: 9999, .. }));
    }

    #[test]
    fn absolute_forms() {
        assert_eq!(parse_date_str("2024-06-01"), DateSpec::Absolute(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()));
        assert_eq!(
            parse_date_str("2024-06-01T10:00:00+02:00"),
            DateSpec::Absolute(Utc.with_ymd_and_hms(2024, 6, 1, 8, 0, 0).unwrap())
        );
        assert_eq!(parse_date_str("2024-06-01 10:30"), DateSpec::Absolute(Utc.with_ymd_and_hms(2024, 6, 1, 10, 30, 0).unwrap()));
        assert_eq!(parse_date_str("not a date"), DateSpec::Invalid);
        assert_eq!(
            parse_date_str("Sat, 01 Jun 2024 10:00:00 +0000"),
            DateSpec::Absolute(Utc.with_ymd_and_hms(2024, 6, 1, 10, 0, 0).unwrap())
        );
    }

    #[test]
    fn property_numbers_are_seconds() {
        assert_eq!(parse_property_value(&Value::from(0)), DateSpec::Absolute(Utc.timestamp_opt(0, 0).unwrap()));
        assert_eq!(parse_property_value(&Value::from("86400")), DateSpec::Absolute(Utc.timestamp_opt(86400, 0).unwrap()));
        assert_eq!(parse_property_value(&Value::Bool(true)), DateSpec::Invalid);
    }
}
