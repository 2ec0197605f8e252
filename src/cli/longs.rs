//! Long options as a release's docopt reads them: an exact name, or an
//! unambiguous prefix of one among the options *that release* has. Which
//! options a release has changes what a prefix means (`--d` is ambiguous
//! while the docker networking options exist, `--dryrun` once they are
//! gone; `--a` is `--as` until `--allow-version-mismatch` arrives), so
//! words are expanded here against the release's list before clap reads
//! them; an option the release does not have is unknown, as there.

/// One long option: its name without dashes, and whether it takes a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Long {
    pub name: String,
    pub takes_value: bool,
}

/// Why words are not options of the release (upstream's line follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unknown;

/// The long option `word` (without its dashes and value) names, if one.
fn resolve<'a>(name: &str, longs: &'a [Long]) -> Result<&'a Long, Unknown> {
    if let Some(exact) = longs.iter().find(|l| l.name == name) {
        return Ok(exact);
    }
    let mut matching = longs.iter().filter(|l| l.name.starts_with(name));
    match (matching.next(), matching.next()) {
        (Some(only), None) if !name.is_empty() => Ok(only),
        _ => Err(Unknown),
    }
}

/// `words` with every long option spelled in full; a value given as the
/// next word is kept as it is. Short options and other words are left to
/// clap (`-c FILE` and `-o FORMAT` take the next word as their value).
pub fn expand(words: &[String], longs: &[Long]) -> Result<Vec<String>, Unknown> {
    let mut out = Vec::with_capacity(words.len());
    let mut rest = words.iter();
    while let Some(word) = rest.next() {
        if word == "--" {
            out.push(word.clone());
            out.extend(rest.cloned());
            break;
        }
        if let Some(body) = word.strip_prefix("--") {
            let (name, value) = match body.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (body, None),
            };
            let long = resolve(name, longs)?;
            match (value, long.takes_value) {
                (Some(value), true) => out.push(format!("--{}={value}", long.name)),
                (Some(_), false) => return Err(Unknown),
                (None, _) => out.push(format!("--{}", long.name)),
            }
            if value.is_none() && long.takes_value {
                out.extend(rest.next().cloned());
            }
            continue;
        }
        out.push(word.clone());
        if matches!(word.as_str(), "-c" | "-o") {
            out.extend(rest.next().cloned());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn longs() -> Vec<Long> {
        let l = |name: &str, takes_value| Long {
            name: name.to_string(),
            takes_value,
        };
        vec![
            l("ip", true),
            l("ip6", true),
            l("as", true),
            l("dryrun", false),
            l("disable-docker-networking", false),
            l("name", true),
        ]
    }

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn exact_names_win_and_unique_prefixes_expand() {
        let got = expand(
            &words(&["--ip", "10.0.0.1", "--ip6=fd00::1", "--dry", "--a=1"]),
            &longs(),
        );
        assert_eq!(
            got.unwrap(),
            words(&["--ip", "10.0.0.1", "--ip6=fd00::1", "--dryrun", "--as=1"])
        );
    }

    #[test]
    fn ambiguous_unknown_and_misused_options_are_unknown() {
        for bad in [
            &["--d"][..],
            &["--i", "x"],
            &["--bogus"],
            &["--dryrun=yes"],
            &["--"][..0],
        ] {
            if bad.is_empty() {
                continue;
            }
            assert_eq!(expand(&words(bad), &longs()), Err(Unknown), "{bad:?}");
        }
        // Once the docker networking option is gone, `--d` is `--dryrun`.
        let fewer: Vec<Long> = longs()
            .into_iter()
            .filter(|l| l.name != "disable-docker-networking")
            .collect();
        assert_eq!(
            expand(&words(&["--d"]), &fewer).unwrap(),
            words(&["--dryrun"])
        );
    }

    #[test]
    fn values_are_kept_as_given_even_when_they_look_like_options() {
        let got = expand(
            &words(&["--name", "--dryrun", "-c", "--x", "--", "--ip"]),
            &longs(),
        );
        assert_eq!(
            got.unwrap(),
            words(&["--name", "--dryrun", "-c", "--x", "--", "--ip"])
        );
    }
}
