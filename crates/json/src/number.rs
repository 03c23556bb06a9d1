//! Numbers that are not 64-bit integers, kept as written and handled in decimal.
//!
//! serde_json reads such a number into the nearest `f64` and writes that back in its
//! shortest round-trip form. For a number with at most 15 significant digits in the normal
//! `f64` range, those digits *are* the shortest round-trip form (every such decimal survives
//! a trip through `f64`), so the canonical text is the same digits laid out the way
//! serde_json lays them out: no floating-point code is needed, which keeps the browser
//! verifier small. Numbers beyond that are refused for canonical writing rather than
//! guessed at.

/// `2^1024 - 2^970`, the exact midpoint between `f64::MAX` and `2^1024`: a decimal at or
/// above it rounds to infinity, which serde_json reports as "number out of range".
const OVERFLOW_DIGITS: &str = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
/// `OVERFLOW_DIGITS` has this many digits before the decimal point.
const OVERFLOW_POINT: i64 = 309;
/// Most significant digits a number may have to be written canonically.
pub const MAX_CANONICAL_DIGITS: usize = 15;

/// Why a number cannot be written in serde_json's canonical form here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// More significant digits than an `f64` keeps for certain.
    #[error(
        "number {0} has more than 15 significant digits; its canonical form depends on how the \
         writer's JSON library rounds it to a double, so it is refused"
    )]
    TooPrecise(String),
    /// Below the normal `f64` range, where fewer digits survive a round trip.
    #[error("number {0} is below the normal double range (1e-307); it is refused")]
    Subnormal(String),
}

/// A decimal taken apart: `±0.d1d2…dn × 10^point`, with no leading or trailing zero digit
/// (`digits` is empty for zero).
pub(crate) struct Decimal {
    negative: bool,
    digits: String,
    point: i64,
}

impl Decimal {
    /// Splits a number that matched the JSON grammar.
    pub(crate) fn of(text: &str) -> Decimal {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], &unsigned[at + 1..]),
            None => (unsigned, "0"),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        // Saturates: an exponent this far out is out of range or rounds to zero either way.
        let exponent = exponent
            .trim_start_matches('+')
            .strip_prefix('-')
            .map_or_else(
                || saturating_decimal(exponent.trim_start_matches('+')),
                |magnitude| -saturating_decimal(magnitude),
            );
        let all = int.bytes().chain(frac.bytes());
        let leading = all.clone().take_while(|&b| b == b'0').count();
        let digits: String = all.skip(leading).map(char::from).collect();
        let digits = digits.trim_end_matches('0').to_owned();
        let point = int.len() as i64 - leading as i64 + exponent;
        Decimal {
            negative,
            digits,
            point,
        }
    }

    /// Whether the nearest `f64` is infinite (serde_json: "number out of range").
    pub(crate) fn overflows_f64(&self) -> bool {
        !self.digits.is_empty()
            && (self.point > OVERFLOW_POINT
                || (self.point == OVERFLOW_POINT && self.digits.as_str() >= OVERFLOW_DIGITS))
    }

    /// Appends the number as serde_json writes the nearest `f64`: the shortest round-trip
    /// digits, as a plain decimal with at least one fractional digit when the decimal
    /// exponent is in -5..16 (`100.0`, `0.001`), else in exponent form with a signed exponent
    /// (`1e+21`, `1.5e-7`).
    pub(crate) fn write_canonical(&self, out: &mut String, text: &str) -> Result<(), NumberError> {
        // Below half the smallest subnormal, the nearest double is zero.
        if self.digits.is_empty() || self.point < -323 {
            out.push_str(if self.negative { "-0.0" } else { "0.0" });
            return Ok(());
        }
        if self.digits.len() > MAX_CANONICAL_DIGITS {
            return Err(NumberError::TooPrecise(text.to_owned()));
        }
        if self.point < -306 {
            return Err(NumberError::Subnormal(text.to_owned()));
        }
        let digits = self.digits.as_str();
        let len = digits.len() as i64;
        let point = self.point;
        if self.negative {
            out.push('-');
        }
        if (len..=16).contains(&point) {
            out.push_str(digits);
            out.extend(std::iter::repeat_n('0', (point - len) as usize));
            out.push_str(".0");
        } else if (1..=16).contains(&point) {
            let (int, frac) = digits.split_at(point as usize);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        } else if (-4..=0).contains(&point) {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.push_str(digits);
        } else {
            let (first, rest) = digits.split_at(1);
            out.push_str(first);
            if !rest.is_empty() {
                out.push('.');
                out.push_str(rest);
            }
            out.push('e');
            out.push(if point > 0 { '+' } else { '-' });
            crate::write::write_u64(out, (point - 1).unsigned_abs());
        }
        Ok(())
    }
}

/// The decimal value of `digits`, saturating at one billion.
fn saturating_decimal(digits: &str) -> i64 {
    digits.bytes().fold(0i64, |acc, d| {
        (acc * 10 + i64::from(d - b'0')).min(1_000_000_000)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn canonical(text: &str) -> Result<String, NumberError> {
        let mut out = String::new();
        Decimal::of(text).write_canonical(&mut out, text)?;
        Ok(out)
    }

    fn serde_json_text(text: &str) -> Option<String> {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .map(|v| v.to_string())
    }

    #[test]
    fn writes_what_serde_json_writes() {
        for text in [
            "0.0",
            "-0.0",
            "0e5",
            "-0",
            "1.0",
            "-1.5",
            "100.0",
            "2.5",
            "0.1",
            "0.001",
            "0.0001",
            "0.00001",
            "1e-5",
            "1.5e-7",
            "1e15",
            "1e16",
            "1E17",
            "1e21",
            "123456789012345e6",
            "1234567890.12345",
            "9.99999999999999e307",
            "1e-307",
            "1e308",
            "1.7976931348623e308",
            "1e-400",
            "-1e-400",
            "0.000100",
            "100000000000000000000",
            "-922337203685477000000",
            "1e+2",
            "12.5E-1",
        ] {
            assert_eq!(canonical(text).ok(), serde_json_text(text), "{text}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_be_sure_of() {
        assert_eq!(
            canonical("0.30000000000000004"),
            Err(NumberError::TooPrecise("0.30000000000000004".into()))
        );
        assert_eq!(
            canonical("1234567890123456e2"),
            Err(NumberError::TooPrecise("1234567890123456e2".into()))
        );
        // An integer beyond 64 bits is a double to serde_json, and 2^64 has 20 digits.
        assert_eq!(
            canonical("18446744073709551616"),
            Err(NumberError::TooPrecise("18446744073709551616".into()))
        );
        assert_eq!(
            canonical("4.9e-324"),
            Err(NumberError::Subnormal("4.9e-324".into()))
        );
        assert_eq!(canonical("1e-307").as_deref(), Ok("1e-307"));
        // Trailing zeros are not significant.
        assert_eq!(canonical("1.50000000000000000000").as_deref(), Ok("1.5"));
    }

    #[test]
    fn overflow_is_where_the_nearest_double_is_infinite() {
        for (text, overflows) in [
            ("1.7976931348623157e308", false),
            ("1.7976931348623159e308", true),
            ("1e309", true),
            ("-1e309", true),
            ("0e999", false),
            ("1e999999999999999999999", true),
            ("1e-999999999999999999999", false),
        ]
        .into_iter()
        .map(|(t, o)| (t.to_owned(), o))
        .chain([
            // The exact midpoint rounds to even, which is 2^1024: infinite.
            (format!("0.{OVERFLOW_DIGITS}e309"), true),
            (
                format!("0.{}1e309", &OVERFLOW_DIGITS[..OVERFLOW_DIGITS.len() - 1]),
                false,
            ),
            (format!("0.{OVERFLOW_DIGITS}1e309"), true),
        ]) {
            let text = text.as_str();
            assert_eq!(Decimal::of(text).overflows_f64(), overflows, "{text}");
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(text).is_err(),
                overflows,
                "serde_json on {text}"
            );
        }
    }

    proptest! {
        #[test]
        fn up_to_15_digits_match_serde_json(
            negative in any::<bool>(),
            digits in "[1-9][0-9]{0,14}",
            split in 0usize..16,
            exp in -300i32..290,
        ) {
            let split = split.min(digits.len());
            let text = format!(
                "{}{}.{}0e{exp}",
                if negative { "-" } else { "" },
                &digits[..split].parse::<u64>().map_or("0".to_string(), |v| v.to_string()),
                &digits[split..],
            );
            prop_assert_eq!(canonical(&text).ok(), serde_json_text(&text), "{}", text);
        }

        #[test]
        fn shortest_forms_of_doubles_round_trip(bits in any::<u64>()) {
            let value = f64::from_bits(bits);
            prop_assume!(value.is_finite() && (value == 0.0 || value.abs() >= 1e-307));
            let text = serde_json::Value::from(value).to_string();
            match canonical(&text) {
                Ok(ours) => prop_assert_eq!(ours, text),
                Err(NumberError::TooPrecise(_)) => {
                    let significant = text
                        .split(['e', 'E'])
                        .next()
                        .unwrap()
                        .trim_start_matches('-')
                        .replace('.', "")
                        .trim_matches('0')
                        .len();
                    prop_assert!(significant > 15, "{}", text);
                }
                Err(other) => prop_assert!(false, "{}: {}", text, other),
            }
        }
    }
}
