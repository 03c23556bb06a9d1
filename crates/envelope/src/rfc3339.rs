//! RFC 3339 timestamps: parsing any offset into a UTC instant, and the two canonical renderings
//! the bundle formats sign (v1: `+00:00` suffix, v3: `Z` suffix).

use nucleus_lineage::quoted::Quoted;
use thiserror::Error;

/// A UTC instant with nanosecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    /// Seconds since the Unix epoch (may be negative).
    pub unix_seconds: i64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub nanos: u32,
}

/// Why a timestamp string is not RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("timestamp {} is not RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)): {reason}", Quoted(.input))]
pub struct TimestampError {
    /// The rejected input.
    pub input: String,
    /// What was wrong.
    pub reason: &'static str,
}

fn digits(s: &[u8], at: usize, n: usize) -> Option<u32> {
    let part = s.get(at..at + n)?;
    let mut v = 0u32;
    for &c in part {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl Instant {
    /// Parses an RFC 3339 date-time with any UTC offset (`T`/`t` separator, `Z`/`z` or
    /// `±HH:MM`, up to nine fractional digits).
    pub fn parse(input: &str) -> Result<Self, TimestampError> {
        let err = |reason| TimestampError {
            input: input.to_owned(),
            reason,
        };
        let s = input.as_bytes();
        if s.len() < 20 {
            return Err(err("too short"));
        }
        let year = digits(s, 0, 4).ok_or_else(|| err("bad year"))?;
        let month = digits(s, 5, 2).ok_or_else(|| err("bad month"))?;
        let day = digits(s, 8, 2).ok_or_else(|| err("bad day"))?;
        let hour = digits(s, 11, 2).ok_or_else(|| err("bad hour"))?;
        let minute = digits(s, 14, 2).ok_or_else(|| err("bad minute"))?;
        let second = digits(s, 17, 2).ok_or_else(|| err("bad second"))?;
        if s[4] != b'-' || s[7] != b'-' || s[13] != b':' || s[16] != b':' {
            return Err(err("bad separator"));
        }
        if s[10] != b'T' && s[10] != b't' {
            return Err(err("missing T"));
        }
        let year = i64::from(year);
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(err("date out of range"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(err("time out of range"));
        }
        let mut i = 19;
        let mut nanos = 0u32;
        if s.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < s.len() && s[i].is_ascii_digit() {
                i += 1;
            }
            let frac = &s[start..i];
            if frac.is_empty() || frac.len() > 9 {
                return Err(err("fraction must have 1 to 9 digits"));
            }
            for k in 0..9 {
                nanos = nanos * 10 + frac.get(k).map_or(0, |c| u32::from(c - b'0'));
            }
        }
        let offset_seconds: i64 = match &s[i..] {
            [b'Z'] | [b'z'] => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let oh = digits(s, i + 1, 2).ok_or_else(|| err("bad offset"))?;
                let om = digits(s, i + 4, 2).ok_or_else(|| err("bad offset"))?;
                if oh > 23 || om > 59 {
                    return Err(err("offset out of range"));
                }
                let v = i64::from(oh * 3600 + om * 60);
                if *sign == b'-' { -v } else { v }
            }
            _ => return Err(err("bad or missing offset")),
        };
        let days = days_from_civil(year, month, day);
        let unix_seconds =
            days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_seconds;
        Ok(Instant {
            unix_seconds,
            nanos,
        })
    }

    /// Builds an instant from Unix milliseconds.
    pub fn from_unix_millis(ms: i64) -> Self {
        Instant {
            unix_seconds: ms.div_euclid(1000),
            nanos: (ms.rem_euclid(1000) as u32) * 1_000_000,
        }
    }

    fn render(&self, suffix: &str) -> String {
        let days = self.unix_seconds.div_euclid(86_400);
        let secs = self.unix_seconds.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut out = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        );
        let n = self.nanos;
        if n != 0 {
            if n % 1_000_000 == 0 {
                out.push_str(&format!(".{:03}", n / 1_000_000));
            } else if n % 1_000 == 0 {
                out.push_str(&format!(".{:06}", n / 1_000));
            } else {
                out.push_str(&format!(".{n:09}"));
            }
        }
        out.push_str(suffix);
        out
    }

    /// The v1 signed form: UTC, 0/3/6/9 fractional digits, `+00:00` suffix.
    pub fn to_v1_string(&self) -> String {
        self.render("+00:00")
    }

    /// The canonical v3 form: UTC, 0/3/6/9 fractional digits, `Z` suffix.
    pub fn to_canonical_string(&self) -> String {
        self.render("Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_fractions_normalise() {
        let a = Instant::parse("2026-06-03T00:34:55.1029380+02:00").unwrap();
        assert_eq!(a.to_v1_string(), "2026-06-02T22:34:55.102938+00:00");
        assert_eq!(a.to_canonical_string(), "2026-06-02T22:34:55.102938Z");
        let b = Instant::parse("1970-01-01T00:00:00Z").unwrap();
        assert_eq!(b.unix_seconds, 0);
        assert_eq!(b.to_v1_string(), "1970-01-01T00:00:00+00:00");
        let c = Instant::parse("2000-02-29T23:59:59.5-00:30").unwrap();
        assert_eq!(c.to_canonical_string(), "2000-03-01T00:29:59.500Z");
        let d = Instant::parse("1969-12-31T23:59:59.000000001Z").unwrap();
        assert_eq!(d.unix_seconds, -1);
        assert_eq!(d.to_canonical_string(), "1969-12-31T23:59:59.000000001Z");
    }

    #[test]
    fn malformed_timestamps_are_rejected() {
        for bad in [
            "2026-02-30T00:00:00Z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00.0000000001Z",
            "2026-01-01T00:00:00+0200",
            "2026-01-01T00:00:00Zjunk",
        ] {
            assert!(Instant::parse(bad).is_err(), "{bad}");
        }
    }
}
