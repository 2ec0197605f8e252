//! Which reader an inventory goes to. Ansible is the source of truth for
//! what an Ansible inventory means (`group_vars/`, `host_vars/`, INI,
//! directories, scripts, plugins, priorities), so wherever
//! `ansible-inventory` is on `PATH` every Ansible inventory is resolved by
//! running it (`ansible-inventory -i FILE --list`) and reading its JSON
//! (`ansible_json.rs`). Our native YAML never goes to Ansible, and
//! `--list` output given to us is read as it is. Without Ansible, our own
//! YAML reader stays for Ansible YAML inventories, and everything it cannot
//! read in full (vars directories beside the file, INI, directories,
//! scripts, plugins) is refused naming what to install: never a partial
//! read.

use super::confined::{self, InventoryCode};
use super::error::{AnsibleFault, Code, OnlyAnsible, ReadError};
use super::{Inventory, ansible_json, ansible_yaml, kind_of, native, scan};
use crate::input::{InputError, MAX_INPUT, Refusal};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use yaml_serde::{Mapping, Value};

/// An inventory read, and what to say about how on stderr.
pub struct Resolved {
    pub inventory: Inventory,
    pub note: Option<String>,
}

/// `ansible-inventory` on `PATH`, if there.
pub fn ansible_inventory() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("ansible-inventory"))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// What an inventory's text is.
enum Kind {
    /// A native inventory, already read as it streamed.
    NativeRead(Inventory),
    Native(Mapping),
    AnsibleList(Value),
    AnsibleYaml(Mapping),
    /// Not ours to read: a plugin's configuration (`plugin: ...`), not a
    /// YAML mapping (INI, a script), or broken YAML.
    Other(OnlyAnsible),
    /// Broken YAML in a file named as YAML or JSON (the reason): ours to
    /// report, as Ansible would not read it either.
    BadYaml(String),
}

/// What `text` is; `yaml_named` when its file name ends in `.yaml`,
/// `.yml` or `.json`.
fn classify(text: &str, yaml_named: bool) -> Kind {
    if let Some(inventory) = native::stream(text) {
        return Kind::NativeRead(inventory);
    }
    let doc: Value = match yaml_serde::from_str(text) {
        Ok(doc) => doc,
        Err(e) if yaml_named => return Kind::BadYaml(e.to_string()),
        Err(_) => return Kind::Other(OnlyAnsible::NotYaml),
    };
    if ansible_json::recognise(&doc) {
        return Kind::AnsibleList(doc);
    }
    let Value::Mapping(top) = doc else {
        return Kind::Other(OnlyAnsible::NotMapping(kind_of(&doc)));
    };
    let native = top.contains_key("hosts")
        && top
            .keys()
            .all(|k| matches!(k.as_str(), Some("hosts" | "defaults")));
    if native {
        Kind::Native(top)
    } else if top.contains_key("plugin") {
        Kind::Other(OnlyAnsible::Plugin)
    } else {
        Kind::AnsibleYaml(top)
    }
}

/// The inventory's bytes: a file as [`crate::input`] reads one, stdin up
/// to the same cap.
fn read_text(path: &str) -> Result<(String, Vec<u8>), ReadError> {
    if path != "-" {
        let label = path.to_string();
        return match crate::input::read(Path::new(path)) {
            Ok(bytes) => Ok((label, bytes)),
            Err(InputError::Io(error)) => Err(ReadError::CannotRead { label, error }),
            Err(why) => Err(ReadError::NotAFile { label, why }),
        };
    }
    let label = "(stdin)".to_string();
    let mut bytes = Vec::new();
    let read = std::io::stdin().take(MAX_INPUT + 1).read_to_end(&mut bytes);
    match read {
        Err(error) => Err(ReadError::CannotRead { label, error }),
        Ok(n) if n as u64 > MAX_INPUT => Err(ReadError::NotAFile {
            label,
            why: InputError::Refused(Refusal::TooLarge { size: n as u64 }),
        }),
        Ok(_) => Ok((label, bytes)),
    }
}

/// Read the inventory named by `--inventory` (`-` for stdin), with
/// `ansible` (the `ansible-inventory` program) where installed, running
/// the inventory's code only where `code` allows it.
pub fn read(
    path: &str,
    ansible: Option<&Path>,
    code: InventoryCode,
) -> Result<Resolved, ReadError> {
    let is_dir = path != "-" && Path::new(path).is_dir();
    if is_dir {
        let Some(program) = ansible else {
            return Err(ReadError::NeedsAnsible {
                label: path.to_string(),
                what: OnlyAnsible::Directory,
            });
        };
        if code == InventoryCode::Refused {
            scan::directory(Path::new(path))?;
        }
        return resolve(program, Path::new(path), path, code);
    }
    let (label, bytes) = read_text(path)?;
    let executable =
        path != "-" && std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
    let text = String::from_utf8(bytes);
    if let Ok(text) = &text {
        crate::nesting::check(text).map_err(|deep| ReadError::TooDeep {
            label: label.clone(),
            deep,
        })?;
    }
    let yaml_named = [".yaml", ".yml", ".json"]
        .iter()
        .any(|ext| path.to_ascii_lowercase().ends_with(ext));
    let kind = match (&text, executable) {
        (Ok(_), true) => Kind::Other(OnlyAnsible::Executable),
        (Ok(text), false) => classify(text, yaml_named),
        (Err(_), _) => Kind::Other(OnlyAnsible::NotUtf8),
    };
    if code == InventoryCode::Refused {
        let what = match &kind {
            Kind::Other(OnlyAnsible::Executable) => Some(Code::Executable),
            Kind::Other(OnlyAnsible::Plugin) => Some(Code::Plugin),
            _ => None,
        };
        if let Some(what) = what {
            let file = PathBuf::from(&label);
            return Err(ReadError::Code { file, what });
        }
    }
    let plain = |inventory| {
        Ok(Resolved {
            inventory,
            note: None,
        })
    };
    match (kind, ansible) {
        (Kind::NativeRead(inventory), _) => plain(non_empty(inventory, &label)?),
        (Kind::Native(top), _) => plain(non_empty(native::parse(top), &label)?),
        (Kind::AnsibleList(doc), _) => plain(non_empty(ansible_json::parse(&doc), &label)?),
        (Kind::BadYaml(reason), _) => Err(ReadError::BadYaml { label, reason }),
        (_, Some(program)) if path != "-" => {
            if code == InventoryCode::Refused {
                scan::beside(Path::new(path))?;
            }
            resolve(program, Path::new(path), &label, code)
        }
        (_, Some(program)) => resolve_stdin(program, text.unwrap_or_default().as_bytes(), code),
        (Kind::AnsibleYaml(top), None) => {
            refuse_vars_dirs(path, &label)?;
            let top = ansible_yaml::merged(top).map_err(|reason| ReadError::BadYaml {
                label: label.clone(),
                reason,
            })?;
            plain(non_empty(ansible_yaml::parse(&top), &label)?)
        }
        (Kind::Other(what), None) => Err(ReadError::NeedsAnsible { label, what }),
    }
}

fn non_empty(inventory: Inventory, label: &str) -> Result<Inventory, ReadError> {
    if inventory.hosts.is_empty() && inventory.errors.is_empty() {
        return Err(ReadError::NoHosts {
            label: label.to_string(),
        });
    }
    Ok(inventory)
}

/// Without Ansible, `group_vars/` or `host_vars/` beside a YAML inventory
/// would be silently dropped: refuse instead.
fn refuse_vars_dirs(path: &str, label: &str) -> Result<(), ReadError> {
    if path == "-" {
        return Ok(());
    }
    let dir = Path::new(path).parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    for vars in ["group_vars", "host_vars"] {
        if dir.join(vars).is_dir() {
            return Err(ReadError::NeedsAnsible {
                label: label.to_string(),
                what: OnlyAnsible::VarsBeside(vars),
            });
        }
    }
    Ok(())
}

/// Ansible's own message from `ansible-inventory`'s stderr, on one line:
/// its error, and the reason the plugin for this kind of file gave
/// (`yaml` or `ini`; else the first plugin's).
fn ansible_message(stderr: &str, plugin: &str) -> String {
    let text = stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    let error = text
        .find("ERROR!")
        .map(|i| text[i + "ERROR!".len()..].trim().to_string())
        .or_else(|| {
            text.find("[ERROR]:")
                .map(|i| text[i + 8..].trim().to_string())
        })
        .unwrap_or_else(|| text.clone());
    let error = error
        .split(" [WARNING]")
        .next()
        .unwrap_or_default()
        .to_string();
    let preferred = text
        .match_indices("* Failed to parse")
        .map(|(i, _)| i)
        .find(|i| {
            let rest = &text[*i..];
            let end = rest.find(" plugin:").unwrap_or(rest.len());
            rest[..end].ends_with(&format!("with {plugin}"))
        });
    let reason = preferred
        .or_else(|| text.find("* Failed to parse"))
        .map(|i| {
            let rest = &text[i + 2..];
            rest.split(" [WARNING]")
                .next()
                .unwrap_or(rest)
                .split(" ERROR!")
                .next()
                .unwrap_or(rest)
        });
    let mut line = match reason {
        Some(reason) => format!("{error} ({reason})"),
        None => error,
    };
    if line.len() > 600 {
        let mut end = 600;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
        line.push_str("...");
    }
    line
}

/// Run `ansible-inventory -i <path> --list` and read its answer. An
/// inventory source Ansible cannot parse is an error, not a warning and an
/// empty inventory (Ansible's default).
fn resolve(
    program: &Path,
    path: &Path,
    label: &str,
    code: InventoryCode,
) -> Result<Resolved, ReadError> {
    let output = confined::run(program, path, label, code)?;
    let how = match code {
        InventoryCode::Refused => "Ansible's own resolver, confined: data only",
        InventoryCode::Allowed => "Ansible's own resolver, running the inventory's code",
    };
    let fail = |what: AnsibleFault| ReadError::Ansible {
        label: label.to_string(),
        what,
    };
    if !output.success {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let yaml = [".yaml", ".yml", ".json"]
            .iter()
            .any(|ext| path.to_string_lossy().to_ascii_lowercase().ends_with(ext));
        let plugin = if yaml { "yaml" } else { "ini" };
        return Err(fail(AnsibleFault::Failed(ansible_message(&stderr, plugin))));
    }
    let text = String::from_utf8(output.stdout).map_err(|_| fail(AnsibleFault::NotUtf8))?;
    crate::nesting::check(&text).map_err(|deep| fail(AnsibleFault::TooDeep(deep)))?;
    let doc: Value =
        yaml_serde::from_str(&text).map_err(|e| fail(AnsibleFault::NotJson(e.to_string())))?;
    if !ansible_json::recognise(&doc) {
        return Err(fail(AnsibleFault::NotList));
    }
    Ok(Resolved {
        inventory: non_empty(ansible_json::parse(&doc), label)?,
        note: Some(format!(
            "Reading inventory {label} with {} ({how}).",
            program.display()
        )),
    })
}

/// An inventory on stdin that only Ansible can read: staged as a file in
/// a private temporary directory of a random name (0700; Ansible reads
/// sources by path), removed with it afterwards. Only what this run made
/// is removed.
fn resolve_stdin(program: &Path, bytes: &[u8], code: InventoryCode) -> Result<Resolved, ReadError> {
    let fail = |error: std::io::Error| ReadError::CannotStage {
        dir: std::env::temp_dir(),
        error,
    };
    let dir = tempfile::Builder::new()
        .prefix("calicoctl-inventory-")
        .tempdir()
        .map_err(fail)?;
    let path = dir.path().join("inventory");
    std::fs::write(&path, bytes).map_err(fail)?;
    let result = resolve(program, &path, "(stdin)", code);
    let _ = dir.close();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansible_messages_become_one_line() {
        let stderr = "[WARNING]:  * Failed to parse /tmp/bad.ini with ini plugin: not enough\nvalues to unpack (expected 3, got 2)\nERROR! Completely failed to parse inventory source /tmp/bad.ini\n";
        assert_eq!(
            ansible_message(stderr, "ini"),
            "Completely failed to parse inventory source /tmp/bad.ini (Failed to parse /tmp/bad.ini with ini plugin: not enough values to unpack (expected 3, got 2))"
        );
        assert_eq!(
            ansible_message(
                "ERROR! Completely failed to parse inventory source /x\n",
                "ini"
            ),
            "Completely failed to parse inventory source /x"
        );
    }

    #[test]
    fn kinds_by_content() {
        assert!(matches!(
            classify("hosts: {a: }", true),
            Kind::NativeRead(_)
        ));
        assert!(matches!(
            classify("all: {hosts: {a: }}", true),
            Kind::AnsibleYaml(_)
        ));
        assert!(matches!(
            classify("plugin: aws_ec2\n", true),
            Kind::Other(OnlyAnsible::Plugin)
        ));
        assert!(matches!(classify("[workers]\nw1\n", false), Kind::Other(_)));
        assert!(matches!(
            classify("hosts: {a: , a: }", true),
            Kind::BadYaml(_)
        ));
        assert!(matches!(
            classify("w1 ansible_host=1.2.3.4\n", false),
            Kind::Other(_)
        ));
        assert!(matches!(
            classify(r#"{"_meta": {"hostvars": {}}, "all": {}}"#, false),
            Kind::AnsibleList(_)
        ));
    }
}
