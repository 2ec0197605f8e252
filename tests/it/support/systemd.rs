//! Reading systemd unit files the way systemd documents it, written from
//! systemd.service(5) and systemd.syntax(7), not from our escaping code.

/// Split a systemd `Exec*=` value as systemd documents it: `%%` is `%`,
/// words split on blanks, double and single quotes group, C escapes are
/// decoded, then `$$` is `$`. Written from systemd.service(5), not from our
/// escaping code, so that the two can disagree.
pub fn systemd_exec_words(value: &str) -> Vec<String> {
    assert!(
        !value.replace("%%", "").contains('%'),
        "unexpected specifier in {value}"
    );
    let value = value.replace("%%", "%");
    let mut words = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match (c, quote) {
                ('\\', _) => match chars.next().expect("escape at end of line") {
                    'n' => word.push('\n'),
                    't' => word.push('\t'),
                    's' => word.push(' '),
                    other @ ('\\' | '"' | '\'') => word.push(other),
                    other => panic!("systemd would not know the escape \\{other} in {value}"),
                },
                ('"' | '\'', None) => quote = Some(c),
                (q, Some(open)) if q == open => quote = None,
                (' ' | '\t', None) => break,
                (c, _) => word.push(c),
            }
        }
        assert!(quote.is_none(), "unbalanced quotes in {value}");
        words.push(word.replace("$$", "$"));
    }
    words
}

/// The `key=` line of a unit, continuation lines joined.
pub fn unit_line(unit: &str, key: &str) -> String {
    let joined = unit.replace("\\\n", " ");
    let line = joined
        .lines()
        .find(|l| l.starts_with(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}="));
    line[key.len() + 1..].to_string()
}
