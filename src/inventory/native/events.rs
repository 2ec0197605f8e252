//! YAML parse events one at a time, from saphyr-parser: a safe, pure-Rust
//! YAML 1.2 parser that yields one event at a time. yaml_serde (like the
//! serde_yaml it continues) reads a document's whole list of events before
//! deserializing any of it: about a kilobyte a host, the bulk of a large
//! fleet's memory. This reader holds one event. It knows only what a plain
//! native inventory uses (mappings, sequences, untagged scalars); anything
//! else (anchors, aliases, tags, several documents, a parse error) is
//! `None`, and the caller steps aside to yaml_serde, whose messages are the
//! documented ones. So where the two parsers could differ, on anything
//! unusual, the value path decides; the tests in `stream.rs` hold them equal
//! on everything this reader takes.

use saphyr_parser::{Event as Parsed, Parser, ScalarStyle, Span, StrInput};
use yaml_serde::Value;

/// One event, as the native reader needs it.
pub enum Event {
    MapStart,
    MapEnd,
    SeqStart,
    SeqEnd,
    Scalar(Value),
    /// An empty plain scalar: a null as a value; as a key, libyaml refuses
    /// it in places saphyr-parser reads one, so there the reader steps aside.
    Empty,
    DocumentEnd,
    StreamEnd,
}

/// A parser over borrowed text.
pub struct Events<'t> {
    parser: Parser<'t, StrInput<'t>>,
    text: &'t str,
    /// Where the last collection start was looked up: its index in
    /// characters (saphyr-parser's unit) and in bytes. Events only move
    /// forward, so each lookup walks on from here.
    cursor: (usize, usize),
    /// For each open collection, the line a flow one (`{`, `[`) opened on.
    flow: Vec<Option<usize>>,
}

impl<'t> Events<'t> {
    /// The parser, past the stream's and the document's start.
    pub fn new(text: &'t str) -> Option<Events<'t>> {
        // Tabs are where YAML's parsers disagree most (libyaml refuses a
        // tab in some places of indentation saphyr-parser accepts): a text
        // with one is left to the value path.
        if text.contains('\t') {
            return None;
        }
        let mut events = Events {
            parser: Parser::new_from_str(text),
            text,
            cursor: (0, 0),
            flow: Vec::new(),
        };
        let Parsed::StreamStart = events.raw()? else {
            return None;
        };
        let Parsed::DocumentStart(_) = events.raw()? else {
            return None;
        };
        Some(events)
    }

    fn raw(&mut self) -> Option<Parsed<'t>> {
        Some(self.spanned()?.0)
    }

    fn spanned(&mut self) -> Option<(Parsed<'t>, Span)> {
        self.parser.next_event()?.ok()
    }

    /// The next event, or None where this reader steps aside.
    pub fn next(&mut self) -> Option<Event> {
        let (event, span) = self.spanned()?;
        match event {
            Parsed::MappingStart(..) | Parsed::SequenceStart(..) => {
                let opened = self.char_at(span.start.index());
                // Inside a flow collection all is flow (a single-pair
                // mapping in a sequence, `[a: b]`, opens on no bracket).
                let inherited = matches!(self.flow.last(), Some(Some(_)));
                let flow = inherited || matches!(opened, Some('{' | '['));
                self.flow.push(flow.then_some(span.start.line()));
            }
            // A flow collection over several lines is left to the value
            // path: libyaml refuses some line breaks in one (before a key's
            // `:`) that saphyr-parser reads.
            Parsed::MappingEnd | Parsed::SequenceEnd => {
                if let Some(Some(line)) = self.flow.pop()
                    && line != span.start.line()
                {
                    return None;
                }
            }
            _ => {}
        }
        let in_flow = matches!(self.flow.last(), Some(Some(_)));
        // libyaml refuses some `:` in a plain scalar in flow (`{a:?}`,
        // `{::1}`) where saphyr-parser reads one: any but those inside an
        // address (`fd00::1`, `a:b`) is left to the value path.
        if let (Parsed::Scalar(text, ScalarStyle::Plain, ..), true) = (&event, in_flow)
            && (text.starts_with(':') || !colons_of_an_address(text))
        {
            return None;
        }
        let event = convert(event, span)?;
        // In a flow collection libyaml refuses an empty value after a `:`
        // with no space (`{a:}`), which saphyr-parser reads as null: left to
        // the value path.
        if let (Event::Empty, true) = (&event, in_flow) {
            let at = span.start.index();
            let (here, after) = (self.char_at(at), self.char_at(at + 1));
            if here == Some(':') && !after.is_some_and(char::is_whitespace) {
                return None;
            }
        }
        Some(event)
    }

    /// The character at `index` (in characters), walking on from the
    /// cursor (events move forward, so each character is walked once).
    fn char_at(&mut self, index: usize) -> Option<char> {
        if index < self.cursor.0 {
            self.cursor = (0, 0); // never expected: then walk from the start
        }
        let (mut chars, mut bytes) = self.cursor;
        let mut rest = self.text.get(bytes..)?.chars();
        while chars < index {
            bytes += rest.next()?.len_utf8();
            chars += 1;
        }
        self.cursor = (chars, bytes);
        rest.next()
    }
}

/// Whether every `:` of `text` is followed by a letter, a digit or
/// another `:`, as in an IPv6 address (true when there is none).
fn colons_of_an_address(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(i, b)| {
        *b != b':'
            || bytes
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphanumeric() || *n == b':')
    })
}

/// An event of a plain native inventory, or None. A plain scalar over
/// several lines is left to the value path too: libyaml refuses some that
/// saphyr-parser folds (a key over two lines in a flow mapping).
fn convert(event: Parsed, span: Span) -> Option<Event> {
    match event {
        Parsed::Scalar(_, ScalarStyle::Plain, ..) if span.start.line() != span.end.line() => None,
        Parsed::MappingStart(0, None) => Some(Event::MapStart),
        Parsed::SequenceStart(0, None) => Some(Event::SeqStart),
        Parsed::MappingEnd => Some(Event::MapEnd),
        Parsed::SequenceEnd => Some(Event::SeqEnd),
        Parsed::DocumentEnd => Some(Event::DocumentEnd),
        Parsed::StreamEnd => Some(Event::StreamEnd),
        Parsed::Scalar(text, ScalarStyle::Plain, 0, None) if text.is_empty() => Some(Event::Empty),
        Parsed::Scalar(text, style, 0, None) => Some(Event::Scalar(match style {
            ScalarStyle::Plain => plain(&text)?,
            _ => Value::String(text.into_owned()),
        })),
        _ => None,
    }
}

/// A plain scalar's value as yaml_serde resolves it: null, a boolean, a
/// number, else a string. Only what could be a null, boolean or number is
/// handed to yaml_serde itself.
fn plain(text: &str) -> Option<Value> {
    if text == "-" || text.starts_with("---") || text.starts_with("...") {
        return None; // markers, read alone: leave them to yaml_serde
    }
    // A plain scalar never starts with an indicator; saphyr-parser reads
    // some such text (a `>` inside a flow mapping) where libyaml refuses it.
    if text.starts_with([
        ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`',
    ]) {
        return None;
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    // The two shapes of an inventory's numbers and addresses, decided here
    // as yaml_serde decides them: a decimal integer without a leading zero,
    // and dotted digits with two dots or more (never a number).
    let bytes = text.as_bytes();
    let decimal = bytes.iter().all(u8::is_ascii_digit) && (bytes[0] != b'0' || bytes.len() == 1);
    if let (true, Ok(n)) = (decimal, text.parse::<u64>()) {
        return Some(Value::Number(n.into()));
    }
    let dots = bytes.iter().filter(|b| **b == b'.').count();
    if dots >= 2 && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        return Some(Value::String(text.to_string()));
    }
    let numeric_start = text
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.'));
    if !numeric_start {
        return Some(Value::String(text.to_string()));
    }
    match yaml_serde::from_str::<Value>(text).ok()? {
        v @ (Value::Number(_) | Value::String(_) | Value::Null | Value::Bool(_)) => Some(v),
        _ => None,
    }
}
