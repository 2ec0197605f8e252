//! Calico releases: what `node run` is at each calicoctl release from v3.1
//! to the newest this tool knows. calicoctl changed the command in a few
//! steps (docs/releases.md gives each, read from calicoctl's source at the
//! release tags); a [`Profile`] is one step: which variables and mounts,
//! which options, the datastore's default, the errors' wording and the
//! usage text. Without `--calico-version` the profile is [`DEFAULT`]:
//! v3.2's behaviour with the extensions this tool always had (so every
//! output made without the option stays as it was). A leaf: it knows
//! releases, nothing of the plan or the command line.

pub mod health;

use std::fmt;

/// A release `vMAJOR.MINOR.PATCH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

const fn v3(minor: u32, patch: u32) -> Release {
    Release {
        major: 3,
        minor,
        patch,
    }
}

/// The oldest release served.
pub const OLDEST: Release = v3(1, 0);
/// The newest release this tool knows.
pub const NEWEST: Release = v3(32, 1);

/// A `--calico-version` that is not a release we serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseError {
    /// Not `vX.Y.Z` or `X.Y.Z`.
    NotARelease(String),
    /// Before v3.1.
    TooOld(Release),
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        use crate::error::executing;
        match self {
            ReleaseError::NotARelease(text) => executing(
                f,
                format_args!(
                    "--calico-version {text:?} is not a Calico release: give one as vX.Y.Z or X.Y.Z, from {OLDEST} on (for example {NEWEST})"
                ),
            ),
            ReleaseError::TooOld(release) => executing(
                f,
                format_args!(
                    "--calico-version {release} is older than {OLDEST}, the oldest release served: give one from {OLDEST} on"
                ),
            ),
        }
    }
}

impl Release {
    /// `vX.Y.Z` or `X.Y.Z`, each part a decimal number without sign or
    /// leading zero (as Calico tags its releases).
    pub fn parse(text: &str) -> Result<Release, ReleaseError> {
        let bad = || ReleaseError::NotARelease(text.to_string());
        let digits = text.strip_prefix('v').unwrap_or(text);
        let parts: Vec<&str> = digits.split('.').collect();
        let [major, minor, patch] = parts[..] else {
            return Err(bad());
        };
        let number = |part: &str| -> Option<u32> {
            let plain = !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_digit())
                && (part == "0" || !part.starts_with('0'));
            plain.then(|| part.parse().ok()).flatten()
        };
        let (Some(major), Some(minor), Some(patch)) = (number(major), number(minor), number(patch))
        else {
            return Err(bad());
        };
        let release = Release {
            major,
            minor,
            patch,
        };
        if release < OLDEST {
            return Err(ReleaseError::TooOld(release));
        }
        Ok(release)
    }
}

/// How a release passes `ETCD_DISCOVERY_SRV`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoverySrv {
    /// Never (v3.1 to v3.7).
    Never,
    /// When the configuration sets it (this tool without a release).
    WhenSet,
    /// Always, empty when unset (v3.8 on).
    Always,
}

/// One step of `node run`: what every release from `first` to the next
/// step's does.
#[derive(Debug, PartialEq, Eq)]
pub struct Profile {
    /// The first release of the step (None: [`DEFAULT`]).
    pub first: Option<Release>,
    /// The libnetwork plugin's options, variables and mounts.
    pub libnetwork: bool,
    pub discovery_srv: DiscoverySrv,
    /// `--felix-config` taken.
    pub felix_config: bool,
    /// Without `datastoreType` the datastore is etcdv3; from v3.17 it is
    /// etcdv3 only with etcd endpoints (else kubernetes, which upstream's
    /// `node run` refuses).
    pub etcd_by_default: bool,
    /// `--allow-version-mismatch` taken (and ignored).
    pub allow_version_mismatch: bool,
    /// `gobgp` a backend.
    pub gobgp: bool,
    /// `CALICO_MANAGE_CNI=false` passed.
    pub manage_cni: bool,
    /// The conntrack warning spelled `nf_conntrack_max` (earlier
    /// `nf_contrack_max`).
    pub conntrack_spelled: bool,
    /// The errors `node run` returns start in lower case.
    pub lower_case: bool,
    /// Upstream's `node run --help` (None: this tool's own text).
    pub usage: Option<&'static str>,
}

/// Without `--calico-version`: v3.2, with `--felix-config` and
/// `ETCD_DISCOVERY_SRV` (when set) as this tool always took them.
pub const DEFAULT: Profile = Profile {
    first: None,
    libnetwork: true,
    discovery_srv: DiscoverySrv::WhenSet,
    felix_config: true,
    etcd_by_default: true,
    allow_version_mismatch: false,
    gobgp: true,
    manage_cni: false,
    conntrack_spelled: false,
    lower_case: false,
    usage: None,
};

const V3_1: Profile = Profile {
    first: Some(v3(1, 0)),
    discovery_srv: DiscoverySrv::Never,
    felix_config: false,
    usage: Some(include_str!("../../templates/upstream/node-run-v3.1.txt")),
    ..DEFAULT
};

const V3_8: Profile = Profile {
    first: Some(v3(8, 0)),
    discovery_srv: DiscoverySrv::Always,
    ..V3_1
};

const V3_9: Profile = Profile {
    first: Some(v3(9, 0)),
    libnetwork: false,
    usage: Some(include_str!("../../templates/upstream/node-run-v3.9.txt")),
    ..V3_8
};

const V3_13: Profile = Profile {
    first: Some(v3(13, 0)),
    felix_config: true,
    usage: Some(include_str!("../../templates/upstream/node-run-v3.13.txt")),
    ..V3_9
};

const V3_17: Profile = Profile {
    first: Some(v3(17, 0)),
    etcd_by_default: false,
    usage: Some(include_str!("../../templates/upstream/node-run-v3.17.txt")),
    ..V3_13
};

const V3_20_2: Profile = Profile {
    first: Some(v3(20, 2)),
    allow_version_mismatch: true,
    usage: Some(include_str!(
        "../../templates/upstream/node-run-v3.20.2.txt"
    )),
    ..V3_17
};

const V3_22: Profile = Profile {
    first: Some(v3(22, 0)),
    gobgp: false,
    usage: Some(include_str!("../../templates/upstream/node-run-v3.22.txt")),
    ..V3_20_2
};

const V3_28: Profile = Profile {
    first: Some(v3(28, 0)),
    manage_cni: true,
    conntrack_spelled: true,
    usage: Some(include_str!("../../templates/upstream/node-run-v3.28.txt")),
    ..V3_22
};

const V3_31: Profile = Profile {
    first: Some(v3(31, 0)),
    lower_case: true,
    ..V3_28
};

/// Every step, oldest first.
pub const STEPS: [&Profile; 9] = [
    &V3_1, &V3_8, &V3_9, &V3_13, &V3_17, &V3_20_2, &V3_22, &V3_28, &V3_31,
];

/// Whether `name` (a long option, without dashes) is one of `node run`'s
/// under `profile`; this tool's own options are in every release.
pub fn takes_option(profile: &Profile, name: &str) -> bool {
    match name {
        "disable-docker-networking"
        | "docker-networking-ifprefix"
        | "use-docker-networking-container-labels" => profile.libnetwork,
        "felix-config" => profile.felix_config,
        "allow-version-mismatch" => profile.allow_version_mismatch,
        _ => true,
    }
}

/// What `--calico-version` asks for, as served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    /// The release asked for (None: no `--calico-version`).
    pub asked: Option<Release>,
    pub profile: &'static Profile,
}

/// No `--calico-version`: v3.2, as upstream's own.
impl Default for Served {
    fn default() -> Served {
        Served {
            asked: None,
            profile: &DEFAULT,
        }
    }
}

impl Served {
    /// The profile for `calico_version` (None: [`DEFAULT`]).
    pub fn new(calico_version: Option<&str>) -> Result<Served, ReleaseError> {
        let Some(text) = calico_version else {
            return Ok(Served {
                asked: None,
                profile: &DEFAULT,
            });
        };
        let asked = Release::parse(text)?;
        let profile = STEPS
            .iter()
            .rev()
            .find(|p| p.first.is_some_and(|first| first <= asked))
            .copied()
            .unwrap_or(&V3_1);
        Ok(Served {
            asked: Some(asked),
            profile,
        })
    }

    /// The warning for a release newer than the newest known, if it is.
    pub fn newer_than_known(&self) -> Option<String> {
        let asked = self.asked.filter(|r| *r > NEWEST)?;
        Some(format!(
            "WARNING: calicoctl {asked} is newer than the newest release this tool knows ({NEWEST}); serving {asked} as {NEWEST}."
        ))
    }

    /// The default `--node-image`: the release's own, else `:latest`.
    pub fn image(&self) -> String {
        match self.asked {
            Some(release) => format!("quay.io/calico/node:{release}"),
            None => "quay.io/calico/node:latest".to_string(),
        }
    }
}

impl std::error::Error for ReleaseError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(text: &str) -> &'static Profile {
        Served::new(Some(text)).unwrap().profile
    }

    #[test]
    fn releases_parse_with_or_without_v() {
        assert_eq!(Release::parse("v3.28.0"), Ok(v3(28, 0)));
        assert_eq!(Release::parse("3.2.8"), Ok(v3(2, 8)));
        for bad in [
            "",
            "v3",
            "v3.28",
            "3.28.0.1",
            "v3.28.x",
            "v03.28.0",
            "3.28.0-0.dev",
            "V3.28.0",
            "v3.+1.0",
            " v3.28.0",
        ] {
            assert_eq!(
                Release::parse(bad),
                Err(ReleaseError::NotARelease(bad.to_string())),
                "{bad}"
            );
        }
        assert_eq!(
            Release::parse("v3.0.12"),
            Err(ReleaseError::TooOld(v3(0, 12)))
        );
        assert_eq!(
            Release::parse("2.6.0"),
            Err(ReleaseError::TooOld(Release {
                major: 2,
                minor: 6,
                patch: 0
            }))
        );
    }

    #[test]
    fn each_step_starts_where_releases_md_says() {
        // Both sides of every boundary.
        let cases = [
            ("v3.1.0", &V3_1),
            ("v3.7.5", &V3_1),
            ("v3.8.0", &V3_8),
            ("v3.8.9", &V3_8),
            ("v3.9.0", &V3_9),
            ("v3.12.3", &V3_9),
            ("v3.13.0", &V3_13),
            ("v3.16.10", &V3_13),
            ("v3.17.0", &V3_17),
            ("v3.20.1", &V3_17),
            ("v3.20.2", &V3_20_2),
            ("v3.21.6", &V3_20_2),
            ("v3.22.0", &V3_22),
            ("v3.27.5", &V3_22),
            ("v3.28.0", &V3_28),
            ("v3.30.7", &V3_28),
            ("v3.31.0", &V3_31),
            ("v3.32.1", &V3_31),
            ("v3.40.0", &V3_31),
            ("v4.0.0", &V3_31),
        ];
        for (text, profile) in cases {
            assert_eq!(served(text), profile, "{text}");
        }
        assert!(!served("v3.8.9").manage_cni && served("v3.28.0").manage_cni);
        assert!(served("v3.21.0").gobgp && !served("v3.22.0").gobgp);
    }

    #[test]
    fn the_image_is_pinned_to_the_release_asked_and_newer_ones_warn() {
        let s = Served::new(Some("3.29.4")).unwrap();
        assert_eq!(s.image(), "quay.io/calico/node:v3.29.4");
        assert_eq!(s.newer_than_known(), None);
        let none = Served::new(None).unwrap();
        assert_eq!(none.image(), "quay.io/calico/node:latest");
        assert_eq!(none.profile, &DEFAULT);
        let newer = Served::new(Some("v3.33.0")).unwrap();
        assert_eq!(newer.image(), "quay.io/calico/node:v3.33.0");
        assert_eq!(
            newer.newer_than_known().unwrap(),
            "WARNING: calicoctl v3.33.0 is newer than the newest release this tool knows (v3.32.1); serving v3.33.0 as v3.32.1."
        );
    }
}
