//! Host ranges, as Ansible expands them in its YAML and INI inventories:
//! `w[01:03]` is w01, w02, w03 (a leading zero pads to the width of the
//! bounds, which must then be equally long), `[a:c]` runs over letters
//! (a-z then A-Z), `[1:10:2]` takes a step, an empty start is 0, and a name
//! with several ranges expands the first, then each result again. Only our
//! own reader needs this: where `ansible-inventory` is installed, it expands
//! them itself. `tests/it/ansible_inventory.rs` holds the two equal.

use super::error::{RangeError, RangeFault};

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The most names one pattern, or one inventory, may make.
pub const MAX_NAMES: u64 = 1_000_000;

/// One `[begin:end:step]` of a pattern, with the text around it.
struct Range<'a> {
    head: &'a str,
    begin: &'a str,
    end: &'a str,
    step: usize,
    tail: &'a str,
}

/// The first range of `pattern` (None: it has none).
fn first_range(pattern: &str) -> Result<Option<Range<'_>>, RangeError> {
    let fail = |fault| RangeError {
        pattern: pattern.to_string(),
        fault,
    };
    let Some(open) = pattern.find('[') else {
        return Ok(None);
    };
    let Some(close) = pattern[open..].find(']').map(|i| open + i) else {
        return Err(fail(RangeFault::NoClose));
    };
    let bounds: Vec<&str> = pattern[open + 1..close].split(':').collect();
    let (begin, end, step) = match bounds[..] {
        [b, e] => (b, e, "1"),
        [b, e, s] => (b, e, s),
        _ => {
            return Err(fail(RangeFault::Shape));
        }
    };
    let begin = if begin.is_empty() { "0" } else { begin };
    if end.is_empty() {
        return Err(fail(RangeFault::NoEnd));
    }
    let step: usize = step
        .parse()
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| fail(RangeFault::Step))?;
    Ok(Some(Range {
        head: &pattern[..open],
        begin,
        end,
        step,
        tail: &pattern[close + 1..],
    }))
}

/// How many names `pattern` makes, counted without making them: the
/// product of its ranges' lengths (each range applies to every name the
/// ones before it made). Saturates past [`MAX_NAMES`].
pub fn count(pattern: &str) -> Result<u64, RangeError> {
    let mut total: u64 = 1;
    let mut rest = pattern;
    while let Some(range) = first_range(rest)? {
        let letter = |s: &str| (s.len() == 1).then(|| LETTERS.find(s)).flatten();
        let span = match (letter(range.begin), letter(range.end)) {
            (Some(b), Some(e)) => (e as u64).checked_sub(b as u64),
            _ => match (range.begin.parse::<u64>(), range.end.parse::<u64>()) {
                (Ok(b), Ok(e)) => e.checked_sub(b),
                _ => Some(0),
            },
        };
        let len = span.map_or(0, |s| (s / range.step as u64).saturating_add(1));
        total = total.saturating_mul(len).min(MAX_NAMES + 1);
        rest = range.tail;
    }
    Ok(total)
}

/// The names `pattern` stands for (itself when it has no range); more
/// than [`MAX_NAMES`] is refused before any is made.
pub fn expand(pattern: &str) -> Result<Vec<String>, RangeError> {
    if count(pattern)? > MAX_NAMES {
        return Err(RangeError {
            pattern: pattern.to_string(),
            fault: RangeFault::TooMany(MAX_NAMES),
        });
    }
    expand_counted(pattern)
}

fn expand_counted(pattern: &str) -> Result<Vec<String>, RangeError> {
    let Some(Range {
        head,
        begin,
        end,
        step,
        tail,
    }) = first_range(pattern)?
    else {
        return Ok(vec![pattern.to_string()]);
    };
    let mut names = Vec::new();
    for item in sequence(pattern, begin, end, step)? {
        let name = format!("{head}{item}{tail}");
        names.extend(expand_counted(&name)?);
    }
    Ok(names)
}

/// The items of one range, as text.
fn sequence(pattern: &str, begin: &str, end: &str, step: usize) -> Result<Vec<String>, RangeError> {
    let fail = |fault| RangeError {
        pattern: pattern.to_string(),
        fault,
    };
    let width = if begin.len() > 1 && begin.starts_with('0') {
        if begin.len() != end.len() {
            return Err(fail(RangeFault::Widths));
        }
        begin.len()
    } else {
        0
    };
    let letter = |s: &str| (s.len() == 1).then(|| LETTERS.find(s)).flatten();
    if let (Some(b), Some(e)) = (letter(begin), letter(end)) {
        if b > e {
            return Err(fail(RangeFault::Backwards));
        }
        return Ok(LETTERS[b..=e]
            .chars()
            .step_by(step)
            .map(|c| format!("{c:0>width$}"))
            .collect());
    }
    let number = |s: &str| s.parse::<u64>().map_err(|_| fail(RangeFault::NotNumbers));
    let (b, e) = (number(begin)?, number(end)?);
    if e.saturating_sub(b) > 1_000_000 {
        return Err(fail(RangeFault::OverAMillion));
    }
    Ok((b..=e)
        .step_by(step)
        .map(|n| format!("{n:0>width$}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::expand;
    use crate::inventory::error::RangeFault;

    #[test]
    fn ranges_expand_as_ansible_documents() {
        assert_eq!(expand("w[01:03]").unwrap(), ["w01", "w02", "w03"]);
        assert_eq!(expand("[a:c].x").unwrap(), ["a.x", "b.x", "c.x"]);
        assert_eq!(expand("n[1:10:4]").unwrap(), ["n1", "n5", "n9"]);
        assert_eq!(expand("n[:2]").unwrap(), ["n0", "n1", "n2"]);
        assert_eq!(
            expand("r[1:2]-[a:b]").unwrap(),
            ["r1-a", "r1-b", "r2-a", "r2-b"]
        );
        assert_eq!(expand("plain").unwrap(), ["plain"]);
        assert_eq!(expand("n[8:11]").unwrap(), ["n8", "n9", "n10", "n11"]);
    }

    #[test]
    fn names_are_counted_in_all_before_any_is_made() {
        assert_eq!(super::count("r[1:2]-[a:c]-[0:9:5]").unwrap(), 12);
        assert_eq!(super::count("plain").unwrap(), 1);
        assert_eq!(super::count("w[5:1]").unwrap(), 0);
        for explosive in [
            "r[0:999999]-[0:999999]",
            "[0:999][0:999][0:9]",
            "a[a:Z][a:Z][a:Z][a:Z]",
            "[0:18446744073709551615]",
        ] {
            let e = expand(explosive).unwrap_err();
            assert_eq!(e.fault, RangeFault::TooMany(1_000_000), "{e}");
            assert_eq!(
                e.to_string(),
                format!("{explosive}: a host pattern of more than 1000000 hosts")
            );
        }
        assert_eq!(expand("[0:999][0:999]").unwrap().len(), 1_000_000);
    }

    /// Seeded patterns of every shape: counting never panics, and expanding
    /// makes exactly the names counted or refuses (past the bound, before
    /// making any).
    #[test]
    fn random_patterns_expand_to_what_they_count() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let (mut expanded, mut refused, mut malformed) = (0, 0, 0);
        for _ in 0..3000 {
            let mut p = String::from("h");
            for _ in 0..=next(4) {
                p += &match next(6) {
                    0 => format!("[{}:{}]", next(20), next(u64::MAX)),
                    1 => format!("[0{}:{:02}:{}]", next(9), next(100), next(4)),
                    2 => format!(
                        "[{}:{}]",
                        ["a", "Z", "q"][next(3) as usize],
                        ["b", "z", "Z"][next(3) as usize]
                    ),
                    3 => ["[", "]", "[1:", "[:]", "[1:2:3:4]", "[-1:2]"][next(6) as usize]
                        .to_string(),
                    _ => format!("[{}:{}]", next(50), next(200)),
                };
                p += ["", "-", "."][next(3) as usize];
            }
            let Ok(n) = super::count(&p) else {
                malformed += 1;
                assert!(expand(&p).is_err(), "{p}");
                continue;
            };
            if n > super::MAX_NAMES {
                refused += 1;
                assert_eq!(
                    expand(&p).unwrap_err().fault,
                    RangeFault::TooMany(super::MAX_NAMES),
                    "{p}"
                );
            } else if n <= 50_000 {
                match expand(&p) {
                    Ok(names) => {
                        expanded += 1;
                        assert_eq!(names.len() as u64, n, "{p}");
                    }
                    Err(_) => malformed += 1,
                }
            }
        }
        // Each kind is reached more than 300 times by this seed.
        assert!(
            expanded > 300 && refused > 300 && malformed > 300,
            "{expanded} {refused} {malformed}"
        );
    }

    #[test]
    fn bad_ranges_are_refused() {
        for bad in [
            "w[1:]", "w[01:3]", "w[c:a]", "w[1:2:0]", "w[1]", "w[1:2", "w[x:10]",
        ] {
            assert!(expand(bad).is_err(), "{bad}");
        }
    }
}
