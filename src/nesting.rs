//! How deep a YAML or JSON text nests, measured before any parser sees it.
//! Inventories and configurations may come from a pull request, and the
//! parsers beneath us are not safe on deep input: libyaml's scanner keeps
//! one entry per open flow collection and walks them all at every token
//! (quadratic: 200,000 `[` took 90 s), and a reader that recurses per level
//! runs out of stack. One pass over the bytes here, linear in the text,
//! refuses anything nested deeper than [`MAX_DEPTH`] first.
//!
//! The measure is YAML's own structure, read lightly: flow collections
//! (`[`/`{` where a node starts, and any inside a flow collection), block
//! collections (each deeper indentation, and each compact `- ` or `? `
//! entry on a line), with quoted scalars, comments and block scalars (`|`,
//! `>`) skipped. It can only over-count where a document is already
//! malformed, so a well-formed inventory within the limit always passes.

/// The deepest nesting any reader accepts. Inventories and configurations
/// need a handful of levels; Ansible's group trees a few more.
pub const MAX_DEPTH: usize = 64;

/// Where a text went past [`MAX_DEPTH`]: its 1-based line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    pub line: usize,
}

impl std::fmt::Display for TooDeep {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "nested deeper than {MAX_DEPTH} levels (line {})",
            self.line
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    Single,
    Double,
    Comment,
}

struct Scan {
    flow: usize,
    /// Columns of the open block collections' entries.
    block: Vec<usize>,
    /// Inside a block scalar whose parent line was indented this much.
    block_scalar: Option<usize>,
    line: usize,
}

impl Scan {
    fn deep(&self) -> Result<(), TooDeep> {
        if self.flow + self.block.len() > MAX_DEPTH {
            Err(TooDeep { line: self.line })
        } else {
            Ok(())
        }
    }

    /// A block node starts at `column`: close what it is not inside of,
    /// then open it (`opens`: it is a block collection's entry, not a
    /// flow collection standing alone on its line).
    fn block_node(&mut self, column: usize, opens: bool) -> Result<(), TooDeep> {
        while self.block.last().is_some_and(|&c| c > column) {
            self.block.pop();
        }
        if opens && self.block.last() != Some(&column) {
            self.block.push(column);
        }
        self.deep()
    }

    /// The start of a line outside any flow collection and quoted scalar:
    /// its indentation and compact entries. Returns where scanning goes on.
    fn line_start(&mut self, text: &[u8], mut i: usize) -> Result<usize, TooDeep> {
        let start = i;
        while i < text.len() && text[i] == b' ' {
            i += 1;
        }
        let blank = i >= text.len() || matches!(text[i], b'\n' | b'\r' | b'#');
        if let Some(parent) = self.block_scalar {
            if blank || i - start > parent {
                return Ok(skip_line(text, i));
            }
            self.block_scalar = None;
        }
        if blank {
            return Ok(i);
        }
        self.block_node(i - start, !matches!(text[i], b'[' | b'{'))?;
        // Compact entries: in `- - x` and `- ? k` each indicator after the
        // first opens a deeper collection.
        let entry = |i: usize| {
            matches!(text[i], b'-' | b'?')
                && text
                    .get(i + 1)
                    .is_none_or(|b| matches!(b, b' ' | b'\n' | b'\r'))
        };
        while i < text.len() && entry(i) {
            i += 1;
            while i < text.len() && text[i] == b' ' {
                i += 1;
            }
            if i < text.len() && entry(i) {
                self.block_node(i - start, true)?;
            }
        }
        Ok(i)
    }
}

fn skip_line(text: &[u8], mut i: usize) -> usize {
    while i < text.len() && text[i] != b'\n' {
        i += 1;
    }
    i
}

/// Whether a node can start at `i` (what comes before is a separator).
fn node_start(text: &[u8], i: usize, flow: usize) -> bool {
    i == 0
        || matches!(
            text[i - 1],
            b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b','
        )
        || (flow > 0 && text[i - 1] == b':')
}

/// Refuse `text` if it nests deeper than [`MAX_DEPTH`] (see the module
/// comment); linear in its length.
pub fn check(text: &str) -> Result<(), TooDeep> {
    let text = text.as_bytes();
    let mut scan = Scan {
        flow: 0,
        block: Vec::new(),
        block_scalar: None,
        line: 1,
    };
    let mut mode = Mode::Plain;
    let mut i = scan.line_start(text, 0)?;
    while i < text.len() {
        let b = text[i];
        if b == b'\n' {
            scan.line += 1;
            if mode == Mode::Comment {
                mode = Mode::Plain;
            }
            i += 1;
            if mode == Mode::Plain && scan.flow == 0 {
                i = scan.line_start(text, i)?;
            }
            continue;
        }
        match mode {
            Mode::Comment => {}
            Mode::Single if b == b'\'' => {
                if text.get(i + 1) == Some(&b'\'') {
                    i += 1;
                } else {
                    mode = Mode::Plain;
                }
            }
            Mode::Double if b == b'\\' => i += 1,
            Mode::Double if b == b'"' => mode = Mode::Plain,
            Mode::Single | Mode::Double => {}
            Mode::Plain => mode = plain(&mut scan, text, i, b)?,
        }
        i += 1;
    }
    Ok(())
}

/// One byte outside quotes and comments: what mode follows it.
fn plain(scan: &mut Scan, text: &[u8], i: usize, b: u8) -> Result<Mode, TooDeep> {
    let starts = node_start(text, i, scan.flow);
    match b {
        b'#' if i == 0 || matches!(text[i - 1], b' ' | b'\t') => return Ok(Mode::Comment),
        b'\'' if starts => return Ok(Mode::Single),
        b'"' if starts => return Ok(Mode::Double),
        b'[' | b'{' if starts || scan.flow > 0 => {
            scan.flow += 1;
            scan.deep()?;
        }
        b']' | b'}' if scan.flow > 0 => scan.flow -= 1,
        b'|' | b'>' if starts && scan.flow == 0 => {
            let indent = line_indent(text, i);
            scan.block_scalar = Some(indent);
        }
        _ => {}
    }
    Ok(Mode::Plain)
}

/// The indentation of the line holding byte `i`.
fn line_indent(text: &[u8], i: usize) -> usize {
    let start = text[..i]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    text[start..].iter().take_while(|&&b| b == b' ').count()
}

impl std::error::Error for TooDeep {}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(text: &str) -> bool {
        check(text).is_ok()
    }

    #[test]
    fn ordinary_documents_pass() {
        for text in [
            "hosts:\n  a: {}\n  b:\n    ip: 10.0.0.1\n",
            "{\"_meta\": {\"hostvars\": {\"a\": {\"x\": [1, 2]}}}, \"all\": {\"children\": [\"ungrouped\"]}}",
            "all:\n  hosts:\n    web[01:50].example.com:\n  children:\n    g:\n      hosts: {a: }\n",
            "a: 'it''s [[[[ not nested'\nb: \"[[[[\\\" still text\"\nc: x # [[[[ a comment\n",
            "script: |\n  [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\nnext: 1\n",
            "",
        ] {
            assert!(depth_ok(text), "{text}");
        }
    }

    #[test]
    fn the_limit_is_exact_in_flow_and_block_style() {
        let flow = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(depth_ok(&flow(MAX_DEPTH)));
        assert_eq!(check(&flow(MAX_DEPTH + 1)), Err(TooDeep { line: 1 }));
        let compact = |n: usize| format!("{}x\n", "- ".repeat(n));
        assert!(depth_ok(&compact(MAX_DEPTH)));
        assert!(!depth_ok(&compact(MAX_DEPTH + 1)));
        let indented = |n: usize| {
            (0..n)
                .map(|d| format!("{}k{d}:\n", " ".repeat(d)))
                .collect::<String>()
        };
        assert!(depth_ok(&indented(MAX_DEPTH)));
        assert_eq!(
            check(&indented(MAX_DEPTH + 1)).unwrap_err().line,
            MAX_DEPTH + 1
        );
    }

    #[test]
    fn a_million_levels_are_refused_at_once() {
        for text in [
            "[".repeat(1_000_000),
            "{\"a\":".repeat(1_000_000),
            "- ".repeat(1_000_000),
        ] {
            assert!(!depth_ok(&text));
        }
    }
}
