//! A native inventory read as the YAML parser streams it (`events.rs`):
//! each host entry becomes the host's options as soon as it is read, and
//! only that entry is ever held as YAML values. A whole document as values
//! (or as serde_yaml's list of events) took several times the memory of
//! its hosts. Anything that is not plainly a native inventory (another
//! top-level key, no `hosts`, a repeated key, anchors, tags, bad YAML)
//! makes this reader step aside: the caller then reads the document as
//! values, with the messages that path gives.

use super::super::Options;
use super::events::{Event, Events};
use super::{assemble, read_defaults, read_host};
use serde_yaml::{Mapping, Value};
use std::collections::HashSet;

/// The value that starts with `first` (already read): a scalar, or a whole
/// mapping or sequence. Deeper than the readers' limit it steps aside (the
/// text was measured before, `nesting.rs`; this keeps the recursion bounded
/// whatever that measure missed).
fn value(events: &mut Events, first: Event) -> Option<Value> {
    nested(events, first, 0)
}

fn nested(events: &mut Events, first: Event, depth: usize) -> Option<Value> {
    if depth > crate::nesting::MAX_DEPTH {
        return None;
    }
    match first {
        Event::Scalar(v) => Some(v),
        Event::MapStart => {
            let mut map = Mapping::new();
            loop {
                let key = match events.next()? {
                    Event::MapEnd => return Some(Value::Mapping(map)),
                    other => nested(events, other, depth + 1)?,
                };
                let next = events.next()?;
                let v = nested(events, next, depth + 1)?;
                if map.insert(key, v).is_some() {
                    return None; // a repeated key: serde_yaml's message
                }
            }
        }
        Event::SeqStart => {
            let mut items = Vec::new();
            loop {
                match events.next()? {
                    Event::SeqEnd => return Some(Value::Sequence(items)),
                    other => items.push(nested(events, other, depth + 1)?),
                }
            }
        }
        _ => None,
    }
}

/// What `hosts` held: each valid host's own options, and the hosts' errors.
type HostsRead = (
    Vec<(String, Vec<(String, super::OptValue)>)>,
    Vec<super::Problem>,
);

/// The `hosts` mapping, entry by entry.
fn hosts(events: &mut Events, options: &Options) -> Option<HostsRead> {
    let (mut found, mut errors, mut seen) = (Vec::new(), Vec::new(), HashSet::new());
    match events.next()? {
        Event::Scalar(Value::Null) => return Some((found, errors)),
        Event::MapStart => {}
        _ => return None,
    }
    loop {
        let key = match events.next()? {
            Event::MapEnd => return Some((found, errors)),
            other => value(events, other)?,
        };
        let next = events.next()?;
        let v = value(events, next)?;
        if !seen.insert(key.clone()) {
            return None;
        }
        found.extend(read_host(options, &key, &v, &mut errors));
    }
}

/// `text` read as a native inventory, or None when it is not plainly one
/// (or not valid YAML): then the caller reads it as YAML values.
pub fn stream(text: &str) -> Option<super::Inventory> {
    let options = Options::new();
    let mut events = Events::new(text)?;
    let (mut defaults, mut read) = (None, None);
    match events.next()? {
        Event::MapStart => {}
        _ => return None,
    }
    loop {
        match events.next()? {
            Event::MapEnd => break,
            Event::Scalar(Value::String(key)) if key == "defaults" && defaults.is_none() => {
                let next = events.next()?;
                defaults = Some(value(&mut events, next)?);
            }
            Event::Scalar(Value::String(key)) if key == "hosts" && read.is_none() => {
                read = Some(hosts(&mut events, &options)?);
            }
            _ => return None,
        }
    }
    let (Event::DocumentEnd, Event::StreamEnd) = (events.next()?, events.next()?) else {
        return None;
    };
    let (found, host_errors) = read?;
    let mut errors = Vec::new();
    let defaults = read_defaults(&options, defaults.as_ref(), &mut errors);
    Some(assemble(defaults, errors, found, host_errors))
}

#[cfg(test)]
mod tests {
    use super::super::super::parse_values as parse;
    use super::*;

    /// Whatever this reader takes, it reads as the value path does.
    #[test]
    fn streamed_equals_read_as_values() {
        for text in [
            "defaults: {node-image: img, as: 1}\nhosts:\n  a: {as: 64512}\n  b:\n",
            "hosts:\n  a: {ip: 192.0.2.1}\ndefaults: {ip: 192.0.2.9}\n",
            "hosts:\n  a: {foo: 1, as: [1]}\n  'b/c': {}\n  d: {}\n",
            "defaults: {out-dir: x}\nhosts: {a: {}}\n",
            "defaults: 3\nhosts: {a: }\n",
            "hosts:\n  a: 5\n  b: {init-system: yes}\n",
            "hosts:\n  a: {as: 1.10, ip: ~, init-system: True}\n  b: {as: 0x10, ip: \"10.0.0.1\"}\n",
            "hosts:\n  c: {as: +5, no-default-ippools: false}\n  d: {as: -5, name: .inf}\n  e: {name: '...'}\n",
            "hosts:\n  f: {as: [1, {x: 2}], name: null}\n  7: {}\n  g: {node-image: \"a: b\"}\n",
            "hosts:\n  h:\n    as: 64512\n    log-dir: |\n      /x\n",
            "hosts:\n  i: {as: 0123, ip: 10.0.0.1, ip6: 1.2, name: 1.2.3, node-image: 1e3}\n  j: {as: 0, name: 00}\n",
        ] {
            let streamed = stream(text).unwrap_or_else(|| panic!("not streamed: {text}"));
            let valued = parse("t", text).unwrap();
            assert_eq!(streamed.hosts, valued.hosts, "{text}");
            assert_eq!(streamed.errors, valued.errors, "{text}");
        }
    }

    #[test]
    fn anything_else_steps_aside() {
        for text in [
            "hosts:\n  a: {}\n  a: {}\n",
            "all: {hosts: {a: }}\n",
            "hosts: {a: }\nextra: 1\n",
            "defaults: {}\n",
            "hosts: [a, b]\n",
            "hosts: {a: [\n",
            "[1, 2]\n",
            "{\"_meta\": {\"hostvars\": {}}}",
            "hosts: {a: }\nhosts: {b: }\n",
            "hosts: {a: &x {as: 1}, b: *x}\n",
            "hosts: {a: !!str 1}\n",
            "hosts: {a: }\n---\nhosts: {b: }\n",
            "hosts: {a: {as: 1, as: 2}}\n",
            "hosts: {a: {as: 18446744073709551616}}\n",
        ] {
            assert!(stream(text).is_none(), "{text}");
        }
    }
}
