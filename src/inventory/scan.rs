//! Looking at an inventory's files before Ansible does. Ansible treats an
//! executable file in an inventory as a program to run, a YAML file with
//! `plugin:` as a plugin's configuration (whose Jinja runs commands), and
//! an `ansible.cfg` as its configuration (which may enable plugins from
//! the tree). Confined, Ansible would not run any of them, but would not
//! read them as the user meant either: so each is refused here, naming the
//! file and `--allow-inventory-code`, before Ansible starts. Every file
//! Ansible would read must also be a file ([`crate::input`]'s rules): a
//! link leading out of the inventory's directory, a fifo or device, a file
//! over the input cap are refused, so that Ansible never reads the
//! runner's files (and quotes them in its errors) for the tree.

use super::error::{Code, ReadError};
use crate::input::{InputError, MAX_INPUT, NotAFile, Refusal};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The most entries an inventory tree may have, and how deep it may go.
const MAX_ENTRIES: usize = 100_000;
const MAX_DEPTH: usize = 32;

/// The vars directories Ansible reads beside an inventory file (and in an
/// inventory directory): data, whatever their files are named.
const VARS_DIRS: [&str; 2] = ["group_vars", "host_vars"];

struct Scan {
    /// The real path of the inventory's directory.
    root: PathBuf,
    /// The same, as the user gave it (for messages).
    shown: PathBuf,
    entries: usize,
}

fn refuse(file: &Path, why: InputError) -> ReadError {
    ReadError::NotAFile {
        label: file.display().to_string(),
        why,
    }
}

fn code(file: &Path, what: Code) -> ReadError {
    ReadError::Code {
        file: file.to_path_buf(),
        what,
    }
}

/// Whether a YAML text's top level is a plugin's configuration.
fn is_plugin_config(text: &str) -> bool {
    if crate::nesting::check(text).is_err() {
        return false;
    }
    yaml_serde::from_str::<yaml_serde::Value>(text)
        .ok()
        .and_then(|doc| doc.as_mapping().map(|m| m.contains_key("plugin")))
        .unwrap_or(false)
}

impl Scan {
    /// One entry at `path`; `vars` when it is below a vars directory.
    fn entry(&mut self, path: &Path, depth: usize, vars: bool) -> Result<(), ReadError> {
        self.entries += 1;
        if self.entries > MAX_ENTRIES || depth > MAX_DEPTH {
            return Err(ReadError::TooManyFiles {
                label: self.shown.display().to_string(),
                max: MAX_ENTRIES,
                depth: MAX_DEPTH,
            });
        }
        let meta = std::fs::symlink_metadata(path).map_err(|e| refuse(path, InputError::Io(e)))?;
        let kind = meta.file_type();
        if kind.is_symlink() {
            let real = std::fs::canonicalize(path).map_err(|e| refuse(path, InputError::Io(e)))?;
            if !real.starts_with(&self.root) {
                let dir = self.shown.clone();
                return Err(refuse(
                    path,
                    InputError::Refused(Refusal::LinkOutside { dir }),
                ));
            }
            // What it leads to is in the tree: looked at as itself (the
            // depth bounds a loop of links).
            return self.entry(&real, depth + 1, vars);
        }
        if kind.is_dir() {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let vars = vars || VARS_DIRS.contains(&name);
            return self.dir(path, depth + 1, vars);
        }
        let not = if kind.is_fifo() {
            Some(NotAFile::Fifo)
        } else if kind.is_socket() {
            Some(NotAFile::Socket)
        } else if kind.is_block_device() || kind.is_char_device() {
            Some(NotAFile::Device)
        } else {
            None
        };
        if let Some(not) = not {
            return Err(refuse(path, InputError::Refused(Refusal::NotAFile(not))));
        }
        if meta.len() > MAX_INPUT {
            return Err(refuse(
                path,
                InputError::Refused(Refusal::TooLarge { size: meta.len() }),
            ));
        }
        self.file(path, meta.permissions().mode(), vars)
    }

    /// A regular file: code, or data.
    fn file(&self, path: &Path, mode: u32, vars: bool) -> Result<(), ReadError> {
        if path.file_name().is_some_and(|n| n == "ansible.cfg") {
            return Err(code(path, Code::Config));
        }
        if vars {
            return Ok(());
        }
        if mode & 0o111 != 0 {
            return Err(code(path, Code::Executable));
        }
        let yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "yml" | "yaml" | "json"));
        if yaml {
            let text = crate::input::read_text(path).map_err(|e| refuse(path, e))?;
            if text.as_deref().is_some_and(is_plugin_config) {
                return Err(code(path, Code::Plugin));
            }
        }
        Ok(())
    }

    fn dir(&mut self, dir: &Path, depth: usize, vars: bool) -> Result<(), ReadError> {
        let listing = std::fs::read_dir(dir).map_err(|e| refuse(dir, InputError::Io(e)))?;
        let mut names = Vec::new();
        for entry in listing {
            let entry = entry.map_err(|e| refuse(dir, InputError::Io(e)))?;
            names.push(entry.file_name());
            if names.len() > MAX_ENTRIES {
                break;
            }
        }
        names.sort();
        for name in names {
            self.entry(&dir.join(name), depth, vars)?;
        }
        Ok(())
    }
}

/// Look at every file of the inventory directory `dir`.
pub fn directory(dir: &Path) -> Result<(), ReadError> {
    let root = std::fs::canonicalize(dir).map_err(|e| refuse(dir, InputError::Io(e)))?;
    let mut scan = Scan {
        root,
        shown: dir.to_path_buf(),
        entries: 0,
    };
    scan.dir(dir, 0, false)
}

/// Look at what Ansible reads beside the inventory file `file`: its vars
/// directories and an `ansible.cfg`.
pub fn beside(file: &Path) -> Result<(), ReadError> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let root = std::fs::canonicalize(dir).map_err(|e| refuse(dir, InputError::Io(e)))?;
    let mut scan = Scan {
        root,
        shown: dir.to_path_buf(),
        entries: 0,
    };
    let config = file.with_file_name("ansible.cfg");
    if std::fs::symlink_metadata(&config).is_ok() {
        return Err(code(&config, Code::Config));
    }
    for vars in VARS_DIRS {
        let path = dir.join(vars);
        if std::fs::symlink_metadata(&path).is_ok() {
            scan.entry(&path, 0, true)?;
        }
    }
    Ok(())
}
