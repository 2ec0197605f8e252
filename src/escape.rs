//! Escaping for every target syntax the emitters write, one routine per syntax.
//!
//! Templates never build quoted text themselves: they hand each value to the
//! filter for their syntax, and that filter is the only code that knows the
//! syntax's rules. A value that a syntax cannot carry safely is refused here.

use std::borrow::Cow;

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

/// Quote every word of a command and join them with single spaces.
pub fn shell_command<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| shell_word(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
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
    fn command_joins_quoted_words() {
        assert_eq!(shell_command(&["echo", "a b", "c"]), "echo 'a b' c");
    }
}
