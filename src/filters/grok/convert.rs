//! Ruby's `String#to_i` and `String#to_f`, which `%{…:int}` and `%{…:float}` apply.
//!
//! Both read the longest numeric prefix after optional whitespace and never fail: `"12abc"`
//! is 12, `"-"` is 0, `"1.5"` as an int is 1, `"1_000"` is 1000. No allocation unless the
//! float text contains underscores.

/// Ruby's whitespace for number parsing: space, `\t`, `\n`, `\v`, `\f`, `\r`.
fn skip_space(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .count();
    &s[n..]
}

/// The length of a run of digits in which single underscores may separate digits.
fn digits_len(s: &[u8]) -> usize {
    let mut i = 0;
    while i < s.len() {
        let separator = s[i] == b'_' && i > 0 && s.get(i + 1).is_some_and(u8::is_ascii_digit);
        if !(s[i].is_ascii_digit() || separator) {
            break;
        }
        i += 1;
    }
    i
}

/// `String#to_i`. Values beyond `i64` saturate (Ruby would switch to a Bignum).
pub fn ruby_to_i(s: &str) -> i64 {
    let s = skip_space(s.as_bytes());
    let (negative, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut value: i64 = 0;
    for &b in &s[..digits_len(s)] {
        if b == b'_' {
            continue;
        }
        let digit = i64::from(b - b'0');
        value = value.saturating_mul(10);
        value = if negative {
            value.saturating_sub(digit)
        } else {
            value.saturating_add(digit)
        };
    }
    value
}

/// `String#to_f`: `[+-]digits[.digits][e[+-]digits]`; a fraction or exponent counts only
/// when digits follow it (`"1."` is 1.0, `"1e"` is 1.0, `".5"` is 0.5).
pub fn ruby_to_f(s: &str) -> f64 {
    let s = skip_space(s.as_bytes());
    let mut end = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    let int_len = digits_len(&s[end..]);
    end += int_len;
    let mut has_digits = int_len > 0;
    if s.get(end) == Some(&b'.') {
        let frac = digits_len(&s[end + 1..]);
        if frac > 0 {
            end += 1 + frac;
            has_digits = true;
        }
    }
    if !has_digits {
        return 0.0;
    }
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(s.get(end + 1), Some(b'+' | b'-')));
        let exp = digits_len(&s[end + 1 + sign..]);
        if exp > 0 {
            end += 1 + sign + exp;
        }
    }
    // The prefix is ASCII by construction.
    let text = std::str::from_utf8(&s[..end]).unwrap_or("0");
    let parsed = if text.contains('_') {
        text.replace('_', "").parse()
    } else {
        text.parse()
    };
    parsed.unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_i_reads_a_prefix() {
        for (input, expected) in [
            ("12abc", 12),
            ("-", 0),
            ("", 0),
            ("1.5", 1),
            ("  -42", -42),
            ("+7", 7),
            ("1_000", 1000),
            ("1__0", 1),
            ("_1", 0),
            ("0x1A", 0),
            ("99999999999999999999", i64::MAX),
            ("-99999999999999999999", i64::MIN),
        ] {
            assert_eq!(ruby_to_i(input), expected, "{input:?}");
        }
    }

    #[test]
    fn to_f_reads_a_prefix() {
        for (input, expected) in [
            ("1.5", 1.5),
            ("1.", 1.0),
            (".5", 0.5),
            ("-2.5e3x", -2500.0),
            ("1e", 1.0),
            ("abc", 0.0),
            ("-", 0.0),
            ("1_0.2_5", 10.25),
            ("Infinity", 0.0),
            (" \t3", 3.0),
        ] {
            assert_eq!(ruby_to_f(input), expected, "{input:?}");
        }
    }
}
