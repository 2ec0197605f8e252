//! The JSON Schema of the native inventory, for editors and linters
//! (`calicoctl node fleet --schema`). It is made from the very definitions
//! the reader checks against: the options a host may set and whether each
//! is a flag (`host_options`, from `node run`'s parser), the host-name rule,
//! and the descriptions of `node run --help`. So an inventory the schema
//! accepts has no unknown key and no value of a wrong type, as `node
//! fleet` reads it; what a value means (an address, an AS number) is still
//! `node run`'s validation, and the schema says so only in descriptions.

use crate::cli::{self, help};
use serde_json::{Map, Value, json};

/// The schema of one host's (or the defaults') options.
fn options_schema() -> Value {
    let helps = help::options(cli::HELP);
    let mut properties = Map::new();
    for (name, flag) in super::host_options() {
        let description = helps
            .iter()
            .find(|h| h.long.as_deref() == Some(name.as_str()))
            .map(|h| h.long_text(false).replace('\n', " "))
            .unwrap_or_default();
        let schema = if name == "env" {
            json!({
                "type": ["object", "null"],
                "description": format!("{description} A mapping of names to values, merged by name over the defaults' (the host's value wins); null passes a variable by name."),
                "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                "additionalProperties": {"type": ["string", "integer", "boolean", "null"]},
            })
        } else if flag {
            json!({"type": ["boolean", "null"], "description": description})
        } else {
            // Strings; integers for numbers such as `as: 64512` (a decimal
            // number is refused: YAML reads `1.10` as 1.1); null unsets.
            json!({"type": ["string", "integer", "null"], "description": description})
        };
        properties.insert(name, schema);
    }
    json!({
        "type": "object",
        "description": "node run's long options without the dashes; flags take true or false; null unsets a default.",
        "properties": properties,
        "additionalProperties": false,
    })
}

/// The whole schema, as pretty JSON text with a final newline.
pub fn native_schema() -> String {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "calicoctl node fleet inventory (native)",
        "description": "Every host of a fleet and its calicoctl node run options; made by 'calicoctl node fleet --schema'.",
        "type": "object",
        "properties": {
            "defaults": {
                "description": "Options for every host; a host's own keys override them.",
                "anyOf": [{"$ref": "#/$defs/options"}, {"type": "null"}],
            },
            "hosts": {
                "description": "Each host by name (its output directory): its options, or nothing.",
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$", "maxLength": 253},
                "additionalProperties": {"anyOf": [{"$ref": "#/$defs/options"}, {"type": "null"}]},
            },
        },
        "required": ["hosts"],
        "additionalProperties": false,
        "$defs": {"options": options_schema()},
    });
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_host_option_is_described_and_invocation_options_are_not_there() {
        let schema: Value = serde_json::from_str(&native_schema()).unwrap();
        let props = schema["$defs"]["options"]["properties"]
            .as_object()
            .unwrap();
        assert_eq!(props.len(), super::super::host_options().len());
        for (name, p) in props {
            assert!(!p["description"].as_str().unwrap().is_empty(), "{name}");
        }
        for invocation in [
            "dryrun",
            "output",
            "out-dir",
            "template-source",
            "check",
            "color",
            "modes",
            "pin-ip",
        ] {
            assert!(!props.contains_key(invocation), "{invocation}");
        }
        assert_eq!(
            props["no-default-ippools"]["type"],
            json!(["boolean", "null"])
        );
        assert_eq!(props["as"]["type"], json!(["string", "integer", "null"]));
    }
}
