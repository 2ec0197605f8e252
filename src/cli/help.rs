//! Reads the help texts in `templates/`, the one place where every command
//! and option is described. `--help` prints them as they are (they mirror
//! upstream's docopt layout); completions and man pages take their
//! descriptions from them through [`options`] and [`sections`].

/// One option of an `Options:` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionHelp {
    /// The long name without dashes (`ip-autodetection-method`), if any.
    pub long: Option<String>,
    /// The short letter, if any.
    pub short: Option<char>,
    /// A positional argument's name (`SHELL` for `<SHELL>`).
    pub positional: Option<String>,
    /// The value's name (`AS_NUM` for `--as=<AS_NUM>`), if it has one.
    pub value_name: Option<String>,
    /// The description, one paragraph per line of the text that starts a
    /// new item (a `>` list entry or a `[default: ...]` note).
    pub paragraphs: Vec<String>,
}

impl OptionHelp {
    /// The first sentence, for completion menus.
    pub fn summary(&self) -> String {
        let first = self.paragraphs.first().map(String::as_str).unwrap_or("");
        match first.find(". ") {
            Some(end) => first[..=end].to_string(),
            None => first.to_string(),
        }
    }

    /// Every paragraph, separated by blank lines, with the `[default: X]` note left out when
    /// `drop_default` (clap shows the default itself).
    pub fn long_text(&self, drop_default: bool) -> String {
        self.paragraphs
            .iter()
            .filter(|p| !(drop_default && p.starts_with("[default:")))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

/// The column where descriptions start in every help text.
const DESCRIPTION_COLUMN: usize = 27;

/// The lines of the section headed `title:` (up to the next heading).
pub fn section<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
    let heading = format!("{title}:");
    text.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect()
}

/// The forms under `Usage:`, each on one line (a form's wrapped lines
/// joined), as a man page's synopsis shows them: with their placeholders.
pub fn usage(text: &str) -> Vec<String> {
    let mut forms: Vec<String> = Vec::new();
    for line in section(text, "Usage") {
        let body = line.trim();
        if body.starts_with("calicoctl") {
            forms.push(join_words(std::iter::once(body)));
        } else if let Some(form) = forms.last_mut().filter(|_| !body.is_empty()) {
            form.push(' ');
            form.push_str(&join_words(std::iter::once(body)));
        }
    }
    forms
}

/// The paragraph under `Description:`, as one line.
pub fn description(text: &str) -> String {
    join_words(section(text, "Description").iter().copied())
}

/// Lines joined with single spaces, runs of spaces collapsed.
fn join_words<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    lines
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The options of a help text's `Options:` section, in order.
pub fn options(text: &str) -> Vec<OptionHelp> {
    let mut found: Vec<OptionHelp> = Vec::new();
    for line in section(text, "Options") {
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        if body.is_empty() {
            continue;
        }
        if indent < DESCRIPTION_COLUMN && body.starts_with(['-', '<']) {
            // The description starts at its column, or on the next line
            // when the option is wider than that.
            let (spec, rest) = match line.get(..DESCRIPTION_COLUMN) {
                Some(head) if head.ends_with(' ') => (head.trim(), &line[DESCRIPTION_COLUMN..]),
                _ => (body, ""),
            };
            found.push(parse_spec(spec));
            if !rest.trim().is_empty() {
                push_line(found.last_mut().unwrap(), rest.trim());
            }
        } else if let Some(current) = found.last_mut() {
            push_line(current, body);
        }
    }
    found
}

fn parse_spec(spec: &str) -> OptionHelp {
    let mut help = OptionHelp {
        long: None,
        short: None,
        positional: None,
        value_name: None,
        paragraphs: Vec::new(),
    };
    for word in spec.split_whitespace() {
        if let Some(long) = word.strip_prefix("--") {
            let name = long.split(['=', '<']).next().unwrap_or(long);
            help.long = Some(name.to_string());
            help.value_name = long
                .split_once("=<")
                .map(|(_, v)| v.trim_end_matches('>').to_string());
        } else if let Some(short) = word.strip_prefix('-') {
            help.short = short.chars().next();
        } else if let Some(name) = word.strip_prefix('<') {
            help.positional = Some(name.trim_end_matches('>').to_string());
        }
    }
    help
}

/// Add one line of description: a `>` entry or a `[default:` note starts a
/// paragraph, anything else continues the current one.
fn push_line(help: &mut OptionHelp, line: &str) {
    // A `[default: ...]` note after text on the same line is its own paragraph.
    if let Some(at) = line.find("[default:").filter(|at| *at > 0) {
        push_line(help, line[..at].trim_end());
        push_line(help, &line[at..]);
        return;
    }
    let starts_item = line.starts_with('>') || line.starts_with("[default:");
    let words = join_words(std::iter::once(line));
    match help.paragraphs.last_mut() {
        Some(last) if !starts_item => {
            last.push(' ');
            last.push_str(&words);
        }
        _ => help.paragraphs.push(words),
    }
}

/// The `Commands:` section of the top-level usage: command words and what
/// each does (`("node run", "Start ...")`).
pub fn commands(text: &str) -> Vec<(String, String)> {
    section(text, "Commands")
        .iter()
        .filter_map(|line| {
            let body = line.trim_start();
            let at = body.find("  ")?;
            Some((
                body[..at].to_string(),
                join_words(std::iter::once(&body[at..])),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Usage:
  tool [--a=<X>]

Options:
  -h --help                Show this screen.
     --long-one=<VALUE>
                           First sentence.  Second
                           sentence.
                           > item one
                             more of it
                           [default: x]
  -c --config=<CONFIG>     Path.
     --exactly-wide=<PATH> Fills the column.  [default: y]
     <SHELL>               A shell.

Description:
  Does
  things.
";

    #[test]
    fn options_are_read_with_their_paragraphs() {
        let found = options(TEXT);
        assert_eq!(found.len(), 5);
        assert_eq!(found[3].long.as_deref(), Some("exactly-wide"));
        assert_eq!(
            found[3].paragraphs,
            vec!["Fills the column.", "[default: y]"]
        );
        assert_eq!(found[4].positional.as_deref(), Some("SHELL"));
        assert_eq!(found[0].long.as_deref(), Some("help"));
        assert_eq!(found[0].short, Some('h'));
        assert_eq!(found[1].long.as_deref(), Some("long-one"));
        assert_eq!(found[1].value_name.as_deref(), Some("VALUE"));
        assert_eq!(found[0].value_name, None);
        assert_eq!(
            found[1].paragraphs,
            vec![
                "First sentence. Second sentence.",
                "> item one more of it",
                "[default: x]"
            ]
        );
        assert_eq!(found[1].summary(), "First sentence.");
        assert_eq!(
            found[1].long_text(true),
            "First sentence. Second sentence.\n\n> item one more of it"
        );
        assert_eq!(found[2].short, Some('c'));
        assert_eq!(found[2].paragraphs, vec!["Path."]);
    }

    #[test]
    fn description_and_commands() {
        assert_eq!(description(TEXT), "Does things.");
        let usage = "Commands:\n  node run   Start it.\n  version    Say it.\n\nSee.\n";
        assert_eq!(
            commands(usage),
            vec![
                ("node run".to_string(), "Start it.".to_string()),
                ("version".to_string(), "Say it.".to_string())
            ]
        );
    }
}
