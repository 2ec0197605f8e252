//! A native inventory read as the YAML parser streams it: each host entry
//! becomes the host's options as soon as it is read, and only that entry is
//! ever a YAML value. A whole document as YAML values took several times
//! the memory of its hosts (169 MiB for 100,000 hosts). Anything that is
//! not plainly a native inventory (another top-level key, no `hosts`, a
//! repeated host, bad YAML) makes this reader step aside: the caller then
//! reads the document as values, with the messages that path gives.

use super::super::Options;
use super::{OptValue, assemble, read_defaults, read_host};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_yaml::Value;
use std::collections::HashSet;

type OwnOptions = Vec<(String, OptValue)>;

/// The `hosts` mapping, read entry by entry.
struct Hosts<'o> {
    options: &'o Options,
}

/// What `hosts` held: each valid host's own options, the hosts' errors.
#[derive(Default)]
struct HostsRead {
    hosts: Vec<(String, OwnOptions)>,
    errors: Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Hosts<'_> {
    type Value = Option<HostsRead>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Hosts<'_> {
    /// None: not a mapping of hosts (the value path says what it is).
    type Value = Option<HostsRead>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a mapping of host names")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(HostsRead::default()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut read = HostsRead::default();
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<Value>()? {
            let value: Value = map.next_value()?;
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom("a host given twice"));
            }
            if let Some(host) = read_host(self.options, &key, &value, &mut read.errors) {
                read.hosts.push(host);
            }
        }
        Ok(Some(read))
    }

    // Any other kind of value: not for this reader.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// The whole document: `defaults` and `hosts` only.
struct Document<'o> {
    options: &'o Options,
}

/// What the document held, when it is plainly native.
struct DocumentRead {
    defaults: Option<Value>,
    hosts: HostsRead,
}

impl<'de> Visitor<'de> for Document<'_> {
    type Value = Option<DocumentRead>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a native inventory")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut defaults, mut hosts, mut native) = (None, None, true);
        while let Some(key) = map.next_key::<Value>()? {
            match key.as_str() {
                Some("defaults") if defaults.is_none() => defaults = Some(map.next_value()?),
                Some("hosts") if hosts.is_none() => {
                    let read = map.next_value_seed(Hosts {
                        options: self.options,
                    })?;
                    native &= read.is_some();
                    hosts = Some(read.unwrap_or_default());
                }
                _ => {
                    native = false;
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(match hosts {
            Some(hosts) if native => Some(DocumentRead { defaults, hosts }),
            _ => None,
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

impl<'de> DeserializeSeed<'de> for Document<'_> {
    type Value = Option<DocumentRead>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// `text` read as a native inventory, or None when it is not plainly one
/// (or not valid YAML): then the caller reads it as YAML values.
pub fn stream(text: &str) -> Option<super::Inventory> {
    let options = Options::new();
    let deserializer = serde_yaml::Deserializer::from_str(text);
    let read = Document { options: &options }
        .deserialize(deserializer)
        .ok()??;
    let mut errors = Vec::new();
    let defaults = read_defaults(&options, read.defaults.as_ref(), &mut errors);
    Some(assemble(
        defaults,
        errors,
        read.hosts.hosts,
        read.hosts.errors,
    ))
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
        ] {
            assert!(stream(text).is_none(), "{text}");
        }
    }
}
