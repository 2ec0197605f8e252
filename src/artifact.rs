//! A rendered file, as the emitters make it and the out-dir writer and
//! checker take it: its name, mode and text, and whether a file of its
//! kind can hold a secret. Its own module, importing nothing of ours, so
//! that `outdir/` reads files without depending on the emitters.

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub file_name: String,
    pub mode: u32,
    pub text: String,
    /// Whether a file of this kind can hold a secret's value, whatever
    /// this plan holds: its `--check` diff is never shown (neither side).
    pub secrets: Secrets,
}

/// Whether a kind of file can hold a secret's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secrets {
    /// Never (a world-readable unit, a script, a compose file...).
    Never,
    /// The env files, cloud-init's user-data, Ignition's config, the
    /// DaemonSet's manifest: some plans put credentials there.
    MayHold,
}

impl Artifact {
    pub fn new(file_name: &str, mode: u32, mut text: String) -> Artifact {
        // A rendered text has grown by doubling; a fleet holds thousands of
        // them until all hosts are valid, so give the slack back.
        text.shrink_to_fit();
        Artifact {
            file_name: file_name.to_string(),
            mode,
            text,
            secrets: Secrets::Never,
        }
    }

    /// The same, of a kind that can hold secrets or not.
    pub fn holding_secrets(self, secrets: Secrets) -> Artifact {
        Artifact { secrets, ..self }
    }
}
