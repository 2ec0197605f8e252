//! YAML parse events one at a time, from libyaml (the parser serde_yaml
//! itself runs on, through unsafe-libyaml). serde_yaml 0.9 reads a
//! document's whole list of events before deserializing any of it: about a
//! kilobyte a host, the bulk of a large fleet's memory. This reader holds
//! one event. It knows only what a plain native inventory uses (mappings,
//! sequences, untagged scalars); anything else (anchors, aliases, tags,
//! several documents, a parse error) is `None`, and the caller steps aside
//! to serde_yaml, whose messages are the documented ones.

use serde_yaml::Value;
use unsafe_libyaml as unsafe_yaml;

/// One event, as the native reader needs it.
pub enum Event {
    MapStart,
    MapEnd,
    SeqStart,
    SeqEnd,
    Scalar(Value),
    DocumentEnd,
    StreamEnd,
}

/// A libyaml parser over borrowed text.
pub struct Events<'t> {
    parser: Box<unsafe_yaml::yaml_parser_t>,
    _text: &'t str,
}

impl<'t> Events<'t> {
    /// The parser, past the stream's and the document's start.
    pub fn new(text: &'t str) -> Option<Events<'t>> {
        // SAFETY: the parser is initialized before use and deleted on drop;
        // its input is `text`, which outlives it (the borrow in `_text`).
        let parser = unsafe {
            let mut parser =
                Box::new(std::mem::MaybeUninit::<unsafe_yaml::yaml_parser_t>::uninit());
            if unsafe_yaml::yaml_parser_initialize(parser.as_mut_ptr()).fail {
                return None;
            }
            let mut parser =
                Box::from_raw(Box::into_raw(parser).cast::<unsafe_yaml::yaml_parser_t>());
            unsafe_yaml::yaml_parser_set_input_string(
                &mut *parser,
                text.as_ptr(),
                text.len() as u64,
            );
            parser
        };
        let mut events = Events {
            parser,
            _text: text,
        };
        events.expect(unsafe_yaml::YAML_STREAM_START_EVENT)?;
        events.expect(unsafe_yaml::YAML_DOCUMENT_START_EVENT)?;
        Some(events)
    }

    fn expect(&mut self, kind: unsafe_yaml::yaml_event_type_t) -> Option<()> {
        self.raw(|event| (event.type_ == kind).then_some(()))?
    }

    /// Parse one event and hand it to `read` (then free it).
    fn raw<T>(&mut self, read: impl FnOnce(&unsafe_yaml::yaml_event_t) -> T) -> Option<T> {
        // SAFETY: yaml_parser_parse fills `event` on success; it is read
        // only then, and deleted once read.
        unsafe {
            let mut event = std::mem::MaybeUninit::<unsafe_yaml::yaml_event_t>::uninit();
            if unsafe_yaml::yaml_parser_parse(&mut *self.parser, event.as_mut_ptr()).fail {
                return None;
            }
            let found = read(&*event.as_ptr());
            unsafe_yaml::yaml_event_delete(event.as_mut_ptr());
            Some(found)
        }
    }

    /// The next event, or None where this reader steps aside.
    pub fn next(&mut self) -> Option<Event> {
        self.raw(convert)?
    }
}

impl Drop for Events<'_> {
    fn drop(&mut self) {
        // SAFETY: the parser was initialized in `new`.
        unsafe { unsafe_yaml::yaml_parser_delete(&mut *self.parser) }
    }
}

/// An event of a plain native inventory, or None.
fn convert(event: &unsafe_yaml::yaml_event_t) -> Option<Event> {
    // SAFETY: each union field is read only for its own event type, as
    // libyaml documents; scalar bytes are `length` bytes at `value`.
    unsafe {
        match event.type_ {
            unsafe_yaml::YAML_MAPPING_START_EVENT => {
                let m = event.data.mapping_start;
                (m.anchor.is_null() && m.tag.is_null()).then_some(Event::MapStart)
            }
            unsafe_yaml::YAML_SEQUENCE_START_EVENT => {
                let s = event.data.sequence_start;
                (s.anchor.is_null() && s.tag.is_null()).then_some(Event::SeqStart)
            }
            unsafe_yaml::YAML_MAPPING_END_EVENT => Some(Event::MapEnd),
            unsafe_yaml::YAML_SEQUENCE_END_EVENT => Some(Event::SeqEnd),
            unsafe_yaml::YAML_DOCUMENT_END_EVENT => Some(Event::DocumentEnd),
            unsafe_yaml::YAML_STREAM_END_EVENT => Some(Event::StreamEnd),
            unsafe_yaml::YAML_SCALAR_EVENT => {
                let s = event.data.scalar;
                if !s.anchor.is_null() || !s.tag.is_null() {
                    return None;
                }
                let bytes = std::slice::from_raw_parts(s.value, s.length as usize);
                let text = std::str::from_utf8(bytes).ok()?;
                Some(Event::Scalar(
                    if s.style == unsafe_yaml::YAML_PLAIN_SCALAR_STYLE {
                        plain(text)?
                    } else {
                        Value::String(text.to_string())
                    },
                ))
            }
            _ => None,
        }
    }
}

/// A plain scalar's value as serde_yaml resolves it: null, a boolean, a
/// number, else a string. Only what could be a null, boolean or number is
/// handed to serde_yaml itself.
fn plain(text: &str) -> Option<Value> {
    if text == "-" || text.starts_with("---") || text.starts_with("...") {
        return None; // markers, read alone: leave them to serde_yaml
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    // The two shapes of an inventory's numbers and addresses, decided here
    // as serde_yaml decides them: a decimal integer without a leading zero,
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
    match serde_yaml::from_str::<Value>(text).ok()? {
        v @ (Value::Number(_) | Value::String(_) | Value::Null | Value::Bool(_)) => Some(v),
        _ => None,
    }
}
