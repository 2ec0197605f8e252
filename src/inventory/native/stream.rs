//! A native inventory read as the YAML parser streams it (`events.rs`):
//! each host entry becomes the host's options as soon as it is read, and
//! only that entry is ever held as YAML values. A whole document as values
//! (or as yaml_serde's list of events) took several times the memory of
//! its hosts. Anything that is not plainly a native inventory (another
//! top-level key, no `hosts`, a repeated key, anchors, tags, bad YAML)
//! makes this reader step aside: the caller then reads the document as
//! values, with the messages that path gives.

use super::super::Options;
use super::events::{Event, Events};
use super::{assemble, read_defaults, read_host};
use std::collections::HashSet;
use yaml_serde::{Mapping, Value};

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
        Event::Empty => Some(Value::Null),
        Event::MapStart => {
            let mut map = Mapping::new();
            loop {
                let key = match events.next()? {
                    Event::MapEnd => return Some(Value::Mapping(map)),
                    Event::Empty => return None,
                    other => nested(events, other, depth + 1)?,
                };
                let next = events.next()?;
                let v = nested(events, next, depth + 1)?;
                if map.insert(key, v).is_some() {
                    return None; // a repeated key: yaml_serde's message
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
        Event::Scalar(Value::Null) | Event::Empty => return Some((found, errors)),
        Event::MapStart => {}
        _ => return None,
    }
    loop {
        let key = match events.next()? {
            Event::MapEnd => return Some((found, errors)),
            Event::Empty => return None,
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
    use super::super::super::{parse as read, parse_values as parse};
    use super::*;

    /// Whatever this reader takes, it reads as the value path does.
    #[test]
    fn streamed_equals_read_as_values() {
        for text in [
            "defaults: {node-image: img, as: 1}\nhosts:\n  a: {as: 64512}\n  b:\n",
            "hosts:\n  a: {ip: 192.0.2.1}\ndefaults: {ip: 192.0.2.9}\n",
            "hosts:\n  a: {foo: 1, as: [1]}\n  'b/c': {}\n  d: {}\n",
            "defaults: {out-dir: x}\nhosts: {a: {}}\n",
            "defaults: 3\nhosts:\n  a:\n",
            "hosts:\n  a: 5\n  b: {init-system: yes}\n",
            "hosts:\n  a: {as: 1.10, ip: ~, init-system: True}\n  b: {as: 0x10, ip: \"10.0.0.1\"}\n",
            "hosts:\n  c: {as: +5, no-default-ippools: false}\n  d: {as: -5, name: .inf}\n  e: {name: '...'}\n",
            "hosts:\n  f: {as: [1, {x: 2}], name: null}\n  7: {}\n  g: {node-image: \"a: b\"}\n",
            "hosts:\n  h:\n    as: 64512\n    log-dir: |\n      /x\n",
            "hosts:\n  i: {as: 0123, ip: 10.0.0.1, ip6: 1.2, name: 1.2.3, node-image: 1e3}\n  j: {as: 0, name: 00}\n",
            "---\n# a comment\nhosts:\n  k: {as: 1}  # trailing\n...\n",
            "hosts:\n  l:\n    name: a b\n    node-image: \"x\\ty\"\n  m: {name: 'it''s'}\n",
            "hosts:\n  n: {as: 0o17, name: -x, ip: 0.1, node-image: .5}\n  \"o\": {log-dir: \"/a\"}\n",
            "hosts:\n  p: {env: [A=1, \"B=2\"], as: 12_3}\n  q: {name: [], as: {}}\n",
            "hosts:\n  r: {ip6: fd00::1, name: a:b}\n  s: [fd00::2]\n",
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
            "hosts:\n  o: {log-dir: >\n      /a\n    }\n",
            "hosts:\n  l:\n    name: a\n      b\n",
        ] {
            assert!(stream(text).is_none(), "{text}");
        }
    }

    /// Two parsers read the same text: saphyr-parser here, libyaml behind
    /// yaml_serde on the value path. Random texts made of YAML's pieces,
    /// odd ones included: whatever this reader takes, the value path reads
    /// to the same hosts and errors.
    #[test]
    fn random_texts_read_alike_or_step_aside() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
        const PIECES: &[&str] = &[
            "\n", "\n  ", "\n    ", " ", "\t", "a:", "b: ", "as: ", "name: ", "env: ", "1", "0x1",
            "1.2.3", "'x'", "\"y\"", "'it''s'", "\"\\t\"", "{", "}", "[", "]", ", ", ": ", "-",
            "- ", ">", "|", "? ", "# c", "&a ", "*a", "!t ", "%", "@", "`", "~", "---\n", "...\n",
            "fd00::1", "a:b", "::", ":1", "true", "null", ".inf", "a b", "\\", "\u{e9}", "\r\n",
        ];
        let text = (
            prop::sample::select(vec!["hosts:\n  ", "defaults: {}\nhosts:\n  ", "hosts: {"]),
            prop::collection::vec(prop::sample::select(PIECES), 0..24),
        )
            .prop_map(|(head, pieces)| format!("{head}{}\n", pieces.concat()));
        let config = Config {
            cases: 20_000,
            failure_persistence: None,
            ..Config::default()
        };
        let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
        let mut runner = TestRunner::new_with_rng(config, rng);
        let streamed = std::cell::Cell::new(0);
        runner
            .run(&text, |text| {
                if stream(&text).is_some() {
                    streamed.set(streamed.get() + 1);
                    let both = (read("t", &text), parse("t", &text));
                    match both {
                        (Ok(read), Ok(valued)) => {
                            prop_assert_eq!(&read.hosts, &valued.hosts, "{:?}", text);
                            prop_assert_eq!(&read.errors, &valued.errors, "{:?}", text);
                        }
                        (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                        (a, b) => prop_assert!(false, "{text:?}: {:?} but {:?}", a.err(), b.err()),
                    }
                }
                Ok(())
            })
            .unwrap();
        // The comparison ran on a fair share of the texts, not on none.
        let streamed = streamed.get();
        assert!(streamed > 1000, "only {streamed} texts streamed");
    }
}
