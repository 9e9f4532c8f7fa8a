//! Times and durations as models write them: Unix timestamps, RFC 3339, `now`, `now-1h`,
//! `-30m`; durations in Prometheus's syntax (`90s`, `1h30m`, `2d`) or plain seconds.

use super::error::HttpToolError;

/// Parses a duration: Prometheus syntax (`500ms`, `15s`, `5m`, `1h30m`, `2d`, `1w`, `1y`) or a
/// plain number of seconds (`30`, `2.5`). Returns seconds.
pub fn parse_duration(what: &'static str, text: &str) -> Result<f64, HttpToolError> {
    let t = text.trim();
    let bad = || {
        HttpToolError::invalid(
            what,
            format!(
                "{text:?} is not a duration; write it like 30s, 5m, 1h30m, 2d or a number of seconds"
            ),
        )
    };
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = t.parse::<f64>() {
        return if secs.is_finite() && secs >= 0.0 {
            Ok(secs)
        } else {
            Err(bad())
        };
    }
    let mut total = 0.0;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let (num, tail) = rest.split_at(digits);
        let n: f64 = num.parse().map_err(|_| bad())?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let factor = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            "w" => 604_800.0,
            "y" => 31_536_000.0,
            _ => return Err(bad()),
        };
        total += n * factor;
        rest = tail;
    }
    Ok(total)
}

/// Parses a point in time relative to `now` (Unix seconds): `now`, `now-1h`, `now+5m`, `-30m`
/// (ago), a Unix timestamp in seconds (`1712345678`, `1712345678.5`), or RFC 3339
/// (`2026-01-10T12:00:00Z`). Returns Unix seconds.
pub fn parse_time(what: &'static str, text: &str, now: f64) -> Result<f64, HttpToolError> {
    let t = text.trim();
    let bad = |why: &str| {
        HttpToolError::invalid(
            what,
            format!(
                "{text:?} is not a time{why}; use a Unix timestamp in seconds, RFC 3339 \
                 (2026-01-10T12:00:00Z), now, or now-1h"
            ),
        )
    };
    if t.is_empty() || t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    let relative = t
        .strip_prefix("now")
        .map(str::trim_start)
        .or_else(|| t.starts_with('-').then_some(t));
    if let Some(rel) = relative {
        let (sign, dur) = match rel.split_at_checked(1) {
            Some(("-", d)) => (-1.0, d),
            Some(("+", d)) => (1.0, d),
            _ => return Err(bad("")),
        };
        // A bare negative number is not "seconds ago" but a bad timestamp.
        if dur.trim().parse::<f64>().is_ok() && !t.starts_with("now") {
            return Err(bad(" (negative timestamp)"));
        }
        return Ok(now + sign * parse_duration(what, dur)?);
    }
    if let Ok(secs) = t.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 {
            return Err(bad(""));
        }
        if secs > 1.0e11 {
            return Err(bad(" (it looks like milliseconds; divide by 1000)"));
        }
        return Ok(secs);
    }
    match t.parse::<jiff::Timestamp>() {
        Ok(ts) => Ok(ts.as_millisecond() as f64 / 1000.0),
        Err(_) => Err(bad("")),
    }
}

/// The current time in Unix seconds.
pub fn now_unix() -> f64 {
    jiff::Timestamp::now().as_millisecond() as f64 / 1000.0
}

/// Unix seconds as Prometheus takes them (`1712345678.5`).
pub fn unix_param(secs: f64) -> String {
    let s = format!("{secs:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Unix seconds as RFC 3339 in UTC, to the second.
pub fn rfc3339(secs: f64) -> String {
    match jiff::Timestamp::from_millisecond((secs * 1000.0) as i64) {
        Ok(ts) => ts
            .round(jiff::Unit::Second)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| ts.to_string()),
        Err(_) => format!("{secs}"),
    }
}

/// A short duration for people and models: `45s`, `12m`, `1h30m`, `3d`.
pub fn short_duration(secs: f64) -> String {
    let s = secs.round().max(0.0) as u64;
    match s {
        0..=119 if secs < 1.0 && secs > 0.0 => format!("{}ms", (secs * 1000.0).round()),
        0..=119 => format!("{s}s"),
        120..=7199 => {
            if s.is_multiple_of(60) || s >= 600 {
                format!("{}m", s / 60)
            } else {
                format!("{}m{}s", s / 60, s % 60)
            }
        }
        7200..=172_799 => {
            let (h, m) = (s / 3600, (s % 3600) / 60);
            if m == 0 {
                format!("{h}h")
            } else {
                format!("{h}h{m}m")
            }
        }
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("step", "15s").unwrap(), 15.0);
        assert_eq!(parse_duration("step", "1h30m").unwrap(), 5400.0);
        assert_eq!(parse_duration("step", "500ms").unwrap(), 0.5);
        assert_eq!(parse_duration("step", "2d").unwrap(), 172_800.0);
        assert_eq!(parse_duration("step", "30").unwrap(), 30.0);
        assert_eq!(parse_duration("step", " 2.5 ").unwrap(), 2.5);
        for bad in ["", "abc", "5x", "m5", "-5s", "1h-"] {
            let e = parse_duration("step", bad).unwrap_err();
            assert!(e.to_string().contains("invalid step"), "{bad}: {e}");
        }
    }

    #[test]
    fn times() {
        let now = 1_700_000_000.0;
        assert_eq!(parse_time("start", "now", now).unwrap(), now);
        assert_eq!(parse_time("start", "", now).unwrap(), now);
        assert_eq!(parse_time("start", "now-1h", now).unwrap(), now - 3600.0);
        assert_eq!(parse_time("start", "now - 5m", now).unwrap(), now - 300.0);
        assert_eq!(parse_time("start", "now+1m", now).unwrap(), now + 60.0);
        assert_eq!(parse_time("start", "-30m", now).unwrap(), now - 1800.0);
        assert_eq!(
            parse_time("start", "1699990000", now).unwrap(),
            1_699_990_000.0
        );
        assert_eq!(
            parse_time("start", "2023-11-14T22:13:20Z", now).unwrap(),
            1_700_000_000.0
        );
        let ms = parse_time("start", "1700000000000", now).unwrap_err();
        assert!(ms.to_string().contains("milliseconds"), "{ms}");
        assert!(parse_time("start", "yesterday", now).is_err());
        assert!(parse_time("start", "-1700000000", now).is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(unix_param(1_700_000_000.0), "1700000000");
        assert_eq!(unix_param(1_700_000_000.25), "1700000000.25");
        assert_eq!(rfc3339(1_700_000_000.0), "2023-11-14T22:13:20Z");
        assert_eq!(short_duration(45.0), "45s");
        assert_eq!(short_duration(150.0), "2m30s");
        assert_eq!(short_duration(3600.0), "60m");
        assert_eq!(short_duration(5400.0 * 2.0), "3h");
        assert_eq!(short_duration(86_400.0 * 3.0), "3d");
    }
}
