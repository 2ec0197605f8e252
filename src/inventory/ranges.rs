//! Host ranges, as Ansible expands them in its YAML and INI inventories:
//! `w[01:03]` is w01, w02, w03 (a leading zero pads to the width of the
//! bounds, which must then be equally long), `[a:c]` runs over letters
//! (a-z then A-Z), `[1:10:2]` takes a step, an empty start is 0, and a name
//! with several ranges expands the first, then each result again. Only our
//! own reader needs this: where `ansible-inventory` is installed, it expands
//! them itself. `tests/ansible_inventory.rs` holds the two equal.

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The names `pattern` stands for (itself when it has no range).
pub fn expand(pattern: &str) -> Result<Vec<String>, String> {
    let Some(open) = pattern.find('[') else {
        return Ok(vec![pattern.to_string()]);
    };
    let Some(close) = pattern[open..].find(']').map(|i| open + i) else {
        return Err(format!("{pattern}: a host range needs a closing ']'"));
    };
    let (head, range, tail) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    let bounds: Vec<&str> = range.split(':').collect();
    let (begin, end, step) = match bounds[..] {
        [b, e] => (b, e, "1"),
        [b, e, s] => (b, e, s),
        _ => {
            return Err(format!(
                "{pattern}: a host range must be [begin:end] or [begin:end:step]"
            ));
        }
    };
    let begin = if begin.is_empty() { "0" } else { begin };
    if end.is_empty() {
        return Err(format!("{pattern}: a host range must give its end"));
    }
    let step: usize = step
        .parse()
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| format!("{pattern}: a host range's step must be a positive number"))?;
    let mut names = Vec::new();
    for item in sequence(pattern, begin, end, step)? {
        let name = format!("{head}{item}{tail}");
        names.extend(expand(&name)?);
    }
    Ok(names)
}

/// The items of one range, as text.
fn sequence(pattern: &str, begin: &str, end: &str, step: usize) -> Result<Vec<String>, String> {
    let width = if begin.len() > 1 && begin.starts_with('0') {
        if begin.len() != end.len() {
            return Err(format!(
                "{pattern}: a zero-padded host range needs begin and end of one width"
            ));
        }
        begin.len()
    } else {
        0
    };
    let letter = |s: &str| (s.len() == 1).then(|| LETTERS.find(s)).flatten();
    if let (Some(b), Some(e)) = (letter(begin), letter(end)) {
        if b > e {
            return Err(format!("{pattern}: a host range must have begin <= end"));
        }
        return Ok(LETTERS[b..=e]
            .chars()
            .step_by(step)
            .map(|c| format!("{c:0>width$}"))
            .collect());
    }
    let number = |s: &str| {
        s.parse::<u64>()
            .map_err(|_| format!("{pattern}: a host range runs over numbers or single letters"))
    };
    let (b, e) = (number(begin)?, number(end)?);
    if e.saturating_sub(b) > 1_000_000 {
        return Err(format!(
            "{pattern}: a host range of more than a million hosts"
        ));
    }
    Ok((b..=e)
        .step_by(step)
        .map(|n| format!("{n:0>width$}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::expand;

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
    fn bad_ranges_are_refused() {
        for bad in [
            "w[1:]", "w[01:3]", "w[c:a]", "w[1:2:0]", "w[1]", "w[1:2", "w[x:10]",
        ] {
            assert!(expand(bad).is_err(), "{bad}");
        }
    }
}
