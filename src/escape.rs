//! Escaping for every target syntax the emitters write, one routine per syntax.
//!
//! Templates never build quoted text themselves: they hand each value to the
//! filter for their syntax, and that filter is the only code that knows the
//! syntax's rules. A value that a syntax cannot carry safely is refused here.

use std::borrow::Cow;

/// A line of a message (stderr, a `--check` report, a live check's
/// difference) with every control character in one visible form, Rust's
/// own escapes (`\n`, `\r`, `\t`, `\0`, `\u{1b}`, `\u{85}`): a value
/// echoed in a message can neither start a new line (which a CI runner
/// could read as a workflow command) nor reach a terminal as an escape.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            shown.extend(c.escape_debug());
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

/// Quote one word for a POSIX shell so that `sh` reads back exactly `word`.
///
/// Words made only of characters no shell treats specially are returned as
/// they are, so plain commands look exactly like upstream's; anything else is
/// wrapped in single quotes, with each embedded `'` written as `'\''`.
pub fn shell_word(word: &str) -> Cow<'_, str> {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_".contains(&b));
    if plain {
        return Cow::Borrowed(word);
    }
    let mut quoted = String::with_capacity(word.len() + 2);
    quoted.push('\'');
    for c in word.chars() {
        if c == '\'' {
            quoted.push_str("'\\''");
        } else {
            quoted.push(c);
        }
    }
    quoted.push('\'');
    Cow::Owned(quoted)
}

/// Why a systemd unit line cannot hold `value`, if it cannot.
///
/// systemd joins lines ending in `\` and has no quoting for a line break,
/// and control characters would make the unit unreadable; a lone `;` was a
/// command separator in older releases.
pub fn systemd_refusal(value: &str) -> Option<&'static str> {
    if value.contains(['\n', '\r']) {
        Some("a systemd unit line cannot hold a line break")
    } else if value.chars().any(|c| c.is_control() && c != '\t') {
        Some("a systemd unit line cannot hold a control character")
    } else if value == ";" {
        Some("a systemd unit line cannot hold a lone ';'")
    } else {
        None
    }
}

/// Quote one argument of a systemd `Exec*=` line so that systemd passes
/// exactly `word` to the program: `%` specifiers and `$` expansion are
/// escaped (`%%`, `$$`), and anything but plain characters is wrapped in
/// double quotes with `\` and `"` escaped. (Units build their lines with
/// [`systemd_word_into`].)
#[cfg(test)]
pub fn systemd_word(word: &str) -> Result<String, &'static str> {
    let mut out = String::with_capacity(word.len() + 2);
    systemd_word_into(&mut out, word)?;
    Ok(out)
}

/// [`systemd_word`], appended to `out` (a unit line is built word by word
/// without a string for each).
pub fn systemd_word_into(out: &mut String, word: &str) -> Result<(), &'static str> {
    // Most words are plain and need nothing: one pass over the bytes.
    let untouched = !word.is_empty()
        && word.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'@' | b'+' | b'=' | b':' | b',' | b'.' | b'/' | b'-' | b'_'
                )
        });
    if untouched {
        out.push_str(word);
        return Ok(());
    }
    if let Some(reason) = systemd_refusal(word) {
        return Err(reason);
    }
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_$".contains(&b));
    if !plain {
        out.push('"');
    }
    for c in word.chars() {
        match c {
            '%' => out.push_str("%%"),
            '$' => out.push_str("$$"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            _ => out.push(c),
        }
    }
    if !plain {
        out.push('"');
    }
    Ok(())
}

/// One `NAME=value` line of an environment file, read the same by systemd's
/// `EnvironmentFile=` and by a POSIX shell's `.`: plain values bare, others
/// double-quoted with `\`, `"`, `` ` `` and `$` escaped (a line break inside
/// the quotes is kept by both).
pub fn env_file_line(name: &str, value: &str) -> String {
    let quoted = match shell_word(value) {
        Cow::Borrowed(v) => v.to_string(),
        Cow::Owned(_) => {
            let mut out = String::with_capacity(value.len() + 2);
            out.push('"');
            for c in value.chars() {
                if matches!(c, '\\' | '"' | '`' | '$') {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
            out
        }
    };
    format!("{name}={quoted}")
}

/// A YAML double-quoted scalar holding exactly `value`.
pub fn yaml_scalar(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control()
                || c == '\u{feff}'
                || c == '\u{2028}'
                || c == '\u{2029}'
                || c == '\u{85}' =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A compose file value: compose interpolates `$` before YAML is read, so a
/// literal `$` is written `$$`, then the result is a YAML scalar.
pub fn compose_scalar(value: &str) -> String {
    yaml_scalar(&value.replace('$', "$$"))
}

/// Why a podman Quadlet line cannot hold `value` as written (`Image=`,
/// `Volume=`), if it cannot: the unit line rules; a closing backslash
/// continues the line; Quadlet trims blanks around a value, and drops a
/// closing double quote of an image (seen with podman 5's generator), so
/// double quotes are refused too.
pub fn quadlet_refusal(value: &str) -> Option<&'static str> {
    if let Some(reason) = systemd_refusal(value) {
        Some(reason)
    } else if value.trim() != value {
        Some("a Quadlet value cannot start or end with a blank")
    } else if value.contains('"') {
        Some("a Quadlet value cannot hold a double quote")
    } else if value.ends_with('\\') {
        Some("a Quadlet value cannot end with a backslash (it would continue the line)")
    } else {
        None
    }
}

/// `%` and `$` doubled: Quadlet copies values into the unit it generates,
/// where systemd would read them as specifiers and variables.
fn quadlet_literal(value: &str) -> String {
    value.replace('%', "%%").replace('$', "$$")
}

/// A Quadlet value taken as written (`Image=`, `Volume=`, `ContainerName=`):
/// no quoting, only `%` and `$` doubled.
pub fn quadlet_value(value: &str) -> Result<String, &'static str> {
    match quadlet_refusal(value) {
        Some(reason) => Err(reason),
        None => Ok(quadlet_literal(value)),
    }
}

/// One word of a Quadlet `Environment=` line, which Quadlet reads as
/// systemd's `Environment=`: double-quoted, `\` and `"` escaped (Quadlet
/// undoes that), `%` and `$` doubled (systemd undoes that).
pub fn quadlet_env_word(name: &str, value: &str) -> Result<String, &'static str> {
    if let Some(reason) = systemd_refusal(value) {
        return Err(reason);
    }
    let mut out = String::from("\"");
    for c in quadlet_literal(&format!("{name}={value}")).chars() {
        if matches!(c, '\\' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// One `NAME=value` line of a file podman reads with `--env-file`: the
/// value as it is, to the end of the line (podman does not unquote it).
/// Refused: a line break, and a value starting with a quote or ending or
/// starting with a blank, which podman 5 reads differently.
pub fn podman_env_file_line(name: &str, value: &str) -> Result<String, &'static str> {
    if value.contains(['\n', '\r', '\0']) {
        return Err("a podman env file line cannot hold a line break");
    }
    if value.starts_with(['"', '\'']) || value.trim() != value {
        return Err(
            "a podman env file value cannot start with a quote or start or end with a blank",
        );
    }
    Ok(format!("{name}={value}"))
}

/// The longest unit line Ignition accepts, in bytes without the line break
/// (its unit parser refuses 2048 and more; systemd itself takes far longer).
pub const IGNITION_UNIT_LINE_MAX: usize = 2047;

/// The first line of `unit` that Ignition cannot carry, if any.
pub fn ignition_unit_refusal(unit: &str) -> Option<&str> {
    unit.lines().find(|l| l.len() > IGNITION_UNIT_LINE_MAX)
}

/// Standard base64 (RFC 4648, padded): Kubernetes Secret `data` values.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An RFC 2397 `data:` URL holding exactly `bytes` (Ignition file contents).
pub fn data_url(bytes: &[u8]) -> String {
    format!("data:;base64,{}", base64(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_bare() {
        assert_eq!(
            shell_word("NODENAME=node-1.example"),
            "NODENAME=node-1.example"
        );
        assert_eq!(
            shell_word("/var/log/calico:/var/log/calico"),
            "/var/log/calico:/var/log/calico"
        );
        assert_eq!(shell_word("--restart=always"), "--restart=always");
    }

    #[test]
    fn special_words_are_single_quoted() {
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word("$(id)"), "'$(id)'");
        assert_eq!(shell_word("~root"), "'~root'");
        assert_eq!(shell_word("nœud"), "'nœud'");
        assert_eq!(shell_word("a\nb"), "'a\nb'");
    }

    #[test]
    fn systemd_words() {
        assert_eq!(systemd_word("NODENAME=n1").unwrap(), "NODENAME=n1");
        assert_eq!(systemd_word("100%").unwrap(), "100%%");
        assert_eq!(systemd_word("$HOME").unwrap(), "$$HOME");
        assert_eq!(systemd_word("a b").unwrap(), "\"a b\"");
        assert_eq!(systemd_word("say \"\\\"").unwrap(), "\"say \\\"\\\\\\\"\"");
        assert_eq!(systemd_word("").unwrap(), "\"\"");
        assert!(systemd_word("a\nb").is_err());
        assert!(systemd_word("a\u{7}b").is_err());
        assert!(systemd_word(";").is_err());
    }

    #[test]
    fn env_file_lines() {
        assert_eq!(env_file_line("A", "plain"), "A=plain");
        assert_eq!(env_file_line("A", ""), "A=\"\"");
        assert_eq!(
            env_file_line("A", "x $y `z` \"q\" \\"),
            "A=\"x \\$y \\`z\\` \\\"q\\\" \\\\\""
        );
    }

    #[test]
    fn yaml_scalars() {
        assert_eq!(yaml_scalar("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(compose_scalar("$HOME"), "\"$$HOME\"");
    }

    #[test]
    fn quadlet_values_and_environment_words() {
        assert_eq!(quadlet_value("/a b/100%$x").unwrap(), "/a b/100%%$$x");
        assert!(quadlet_value(" lead").is_err());
        assert!(quadlet_value("a\nb").is_err());
        assert_eq!(
            quadlet_env_word("A", "x \"q\" \\ 5% $H").unwrap(),
            "\"A=x \\\"q\\\" \\\\ 5%% $$H\""
        );
        assert_eq!(
            podman_env_file_line("P", "pa$$ w'o\"rd").unwrap(),
            "P=pa$$ w'o\"rd"
        );
        assert!(podman_env_file_line("P", "\"quoted\"").is_err());
        assert!(podman_env_file_line("P", "a\nb").is_err());
    }

    #[test]
    fn ignition_unit_lines() {
        let fits = "x".repeat(IGNITION_UNIT_LINE_MAX);
        assert_eq!(ignition_unit_refusal(&format!("a\n{fits}\n")), None);
        let long = format!("{fits}y");
        assert_eq!(
            ignition_unit_refusal(&format!("a\n{long}\n")),
            Some(long.as_str())
        );
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        // RFC 4648, section 10.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
        assert_eq!(data_url(b"A=1\n"), "data:;base64,QT0xCg==");
    }
}
