//! Reading back the words other tools wrote: a POSIX shell command line
//! (an old calicoctl's `--dryrun`, a provisioning script's `docker run`),
//! a systemd `ExecStart=` (systemd's own quoting, `$$`, `%%` and
//! `${VAR}` from the unit's environment) and an environment file as
//! systemd's `EnvironmentFile=` reads it. Only what can be read without
//! running anything: a shell expansion (`$VAR`, `$(...)`, a backquote, a
//! glob) is refused, since its value is the shell's, not the text's.

use std::collections::HashMap;

/// Why words could not be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WordsError {
    /// A quote left open at the end.
    Unterminated,
    /// Something a shell would expand when it ran the line.
    Expansion(String),
    /// A variable the unit's environment does not set.
    Unset(String),
}

impl std::fmt::Display for WordsError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            WordsError::Unterminated => f.write_str("a quote is not closed"),
            WordsError::Expansion(what) => write!(
                f,
                "{what} would be expanded by the shell that runs the line: give the line as it runs"
            ),
            WordsError::Unset(name) => write!(
                f,
                "${{{name}}} is not set by the unit's Environment= or the --env-file files"
            ),
        }
    }
}

/// The words of one POSIX shell command (line continuations joined).
pub fn shell_words(text: &str) -> Result<Vec<String>, WordsError> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => words.extend(word.take()),
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(next) => word.get_or_insert_default().push(next),
            },
            '\'' => {
                let w = word.get_or_insert_default();
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err(WordsError::Unterminated),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_default();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => w.push(e),
                            Some('\n') => {}
                            Some(other) => {
                                w.push('\\');
                                w.push(other);
                            }
                            None => return Err(WordsError::Unterminated),
                        },
                        Some(e @ ('$' | '`')) => return Err(expansion(e, chars.peek())),
                        Some(c) => w.push(c),
                        None => return Err(WordsError::Unterminated),
                    }
                }
            }
            '$' | '`' => return Err(expansion(c, chars.peek())),
            '*' | '?' | '[' | '~' | ';' | '&' | '|' | '<' | '>' | '(' | ')' => {
                return Err(WordsError::Expansion(format!("'{c}'")));
            }
            c => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

fn expansion(c: char, next: Option<&char>) -> WordsError {
    let what = match (c, next) {
        ('`', _) => "a backquote".to_string(),
        ('$', Some('(')) => "a command substitution $(...)".to_string(),
        _ => "a variable ($...)".to_string(),
    };
    WordsError::Expansion(what)
}

/// The words of a systemd `Exec*=` value, as systemd splits them: double
/// and single quotes, C escapes, `$$` and `%%` (another specifier kept as
/// written); `${NAME}` inside a word and
/// `$NAME` as a whole word from `env` (a whole-word `$NAME` split at
/// blanks, as systemd does).
pub fn systemd_words(
    value: &str,
    env: &HashMap<String, String>,
) -> Result<Vec<String>, WordsError> {
    let mut words = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(words);
        }
        words.extend(systemd_word(&mut chars, env)?);
    }
}

/// The word at `chars` (at its first character): one word, or a
/// whole-word `$NAME`'s value split at blanks.
fn systemd_word(
    chars: &mut std::iter::Peekable<std::str::Chars>,
    env: &HashMap<String, String>,
) -> Result<Vec<String>, WordsError> {
    let mut word = String::new();
    let mut split_whole: Option<String> = None;
    let quote = chars.next_if(|c| *c == '"' || *c == '\'');
    let whole_start = quote.is_none() && chars.peek() == Some(&'$');
    loop {
        let Some(c) = chars.next() else {
            if quote.is_some() {
                return Err(WordsError::Unterminated);
            }
            break;
        };
        match c {
            c if Some(c) == quote => break,
            c if quote.is_none() && c.is_whitespace() => break,
            '\\' => word.push(match chars.next() {
                Some('n') => '\n',
                Some('t') => '\t',
                Some(other) => other,
                None => return Err(WordsError::Unterminated),
            }),
            // Another specifier's value is the unit's own (%n, %t): kept
            // as written, so a value holding one differs.
            '%' => match chars.next() {
                Some(other) if other != '%' => word.extend(['%', other]),
                Some(_) => word.push('%'),
                None => return Err(WordsError::Unterminated),
            },
            '$' => match chars.peek() {
                Some('$') => {
                    chars.next();
                    word.push('$');
                }
                Some('{') => {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    word.push_str(lookup(env, &name)?);
                }
                _ if whole_start && word.is_empty() => {
                    let name: String = std::iter::from_fn(|| {
                        chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_')
                    })
                    .collect();
                    split_whole = Some(lookup(env, &name)?.to_string());
                }
                _ => word.push('$'),
            },
            c => word.push(c),
        }
    }
    Ok(match split_whole {
        Some(value) if word.is_empty() => value.split_whitespace().map(str::to_string).collect(),
        Some(value) => vec![value + &word],
        None => vec![word],
    })
}

fn lookup<'e>(env: &'e HashMap<String, String>, name: &str) -> Result<&'e str, WordsError> {
    env.get(name)
        .map(String::as_str)
        .ok_or_else(|| WordsError::Unset(name.to_string()))
}

/// The assignments of an environment file as systemd reads it: `NAME=value`
/// lines, `#` and `;` comments, a value in double quotes (with `\`
/// escapes, spanning lines) or single quotes, a bare value with a
/// trailing `\` continuing it.
pub fn env_file(text: &str) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    let mut chars = text.chars().peekable();
    let to_line_end = |chars: &mut std::iter::Peekable<std::str::Chars>| {
        for c in chars.by_ref() {
            if c == '\n' {
                break;
            }
        }
    };
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else {
            return vars;
        };
        if first == '#' || first == ';' {
            to_line_end(&mut chars);
            continue;
        }
        let name: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != '\n')).collect();
        if chars.next() != Some('=') {
            continue;
        }
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        let mut value = String::new();
        match chars.next_if(|c| *c == '"' || *c == '\'') {
            Some(quote) => {
                while let Some(c) = chars.next() {
                    match c {
                        c if c == quote => break,
                        '\\' if quote == '"' => value.extend(chars.next()),
                        c => value.push(c),
                    }
                }
                to_line_end(&mut chars);
            }
            None => {
                while let Some(c) = chars.next() {
                    match c {
                        '\n' => break,
                        '\\' if chars.peek() == Some(&'\n') => {
                            chars.next();
                        }
                        c => value.push(c),
                    }
                }
                value.truncate(value.trim_end().len());
            }
        }
        vars.push((name.trim().to_string(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(text: &str) -> Vec<String> {
        shell_words(text).unwrap()
    }

    #[test]
    fn shell_words_as_sh_reads_them() {
        assert_eq!(
            sh("docker run \\\n  -e 'A=x y' -e \"B=\\$q\\\"\" C\\ D"),
            ["docker", "run", "-e", "A=x y", "-e", "B=$q\"", "C D"]
        );
        assert_eq!(sh("a '' b"), ["a", "", "b"]);
        for bad in ["a $HOME", "a \"$(x)\"", "a `x`", "a *", "a; b", "'open"] {
            assert!(shell_words(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn systemd_words_as_systemd_reads_them() {
        let env: HashMap<String, String> = [("A", "one two"), ("B", "b")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let words = systemd_words(r#"/bin/sh -c "echo $$x %%" $A x${B}y 'q "r"'"#, &env).unwrap();
        assert_eq!(
            words,
            ["/bin/sh", "-c", "echo $x %", "one", "two", "xby", "q \"r\""]
        );
        assert_eq!(systemd_words("a %n", &env).unwrap(), ["a", "%n"]);
        assert_eq!(
            systemd_words("a ${C}", &env),
            Err(WordsError::Unset("C".into()))
        );
    }

    #[test]
    fn env_files_as_ours_write_them() {
        let text =
            "# comment\nA=plain\nB=\"q \\\"x\\\" $y\"\nC=\"two\nlines\"\nD=''\n  E = spaced\n";
        let vars = env_file(text);
        let get = |n: &str| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("A"), Some("plain"));
        assert_eq!(get("B"), Some("q \"x\" $y"));
        assert_eq!(get("C"), Some("two\nlines"));
        assert_eq!(get("D"), Some(""));
        assert_eq!(get("E"), Some("spaced"));
    }
}
