//! systemd: `calico-node.service` with every value inline (`-o systemd`), or
//! with the environment in a 0600 file beside it (`-o systemd-envfile`,
//! which cloud-init and Ignition carry as they are).

use super::EmitError;
use super::{Artifact, Secrets};
use crate::escape;
use crate::plan::{Mode, Origin, Plan};
use crate::render::{self, Engine, Extras};

/// Where the unit is installed on a host.
pub const UNIT_PATH: &str = "/etc/systemd/system/calico-node.service";

/// A unit runs the container attached: systemd is the supervisor.
fn attached(plan: &Plan) -> Plan {
    let mut unit_plan = plan.clone();
    unit_plan.mode = Mode::InitSystem;
    unit_plan
}

/// Refuse, naming the option, any value a systemd unit line cannot hold.
/// Whether a unit carries the variables' values on its lines.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Values {
    /// On the `ExecStart=` line (`-o systemd`).
    Inline,
    /// In the env file it reads (`-o systemd-envfile`).
    InEnvFile,
}

fn check_unit_values(plan: &Plan, engine: &Engine, values: Values) -> Result<(), EmitError> {
    if !engine.unit_path.starts_with('/') {
        return Err(EmitError::RelativeUnitRuntimePath {
            path: engine.unit_path.clone(),
        });
    }
    let env = plan
        .env
        .iter()
        .filter(|_| values == Values::Inline)
        .map(|v| (v.origin, v.value.as_str()));
    let volumes = plan.volumes.iter().map(|v| (v.origin, v.host.as_str()));
    let fixed = [
        (Origin::Flag("--node-image"), plan.image.as_str()),
        (Origin::Flag("--runtime-path"), engine.unit_path.as_str()),
    ];
    for (origin, value) in env.chain(volumes).chain(fixed) {
        if let Some(reason) = escape::systemd_refusal(value) {
            return Err(EmitError::Refused { origin, reason });
        }
    }
    Ok(())
}

fn unit_text(
    plan: &Plan,
    engine: &Engine,
    env_file: Option<&'static str>,
) -> Result<String, EmitError> {
    Ok(render::Context::owning(attached(plan), engine).render_with(
        "calico-node.service.j2",
        &Extras {
            env_file,
            ..Extras::default()
        },
    )?)
}

/// `calico-node.env`: the whole environment, secrets included (mode 0600).
pub fn env_file(plan: &Plan, engine: &Engine) -> Result<Artifact, EmitError> {
    let text = render::Context::new(plan, engine).render_with(
        "calico-node.env.j2",
        &Extras {
            secrets: true,
            ..Extras::default()
        },
    )?;
    Ok(Artifact::new("calico-node.env", 0o600, text).holding_secrets(Secrets::MayHold))
}

/// `-o systemd`: one world-readable unit, so no secret may be in the plan.
pub fn systemd(plan: &Plan, engine: &Engine) -> Result<Artifact, EmitError> {
    if let Some(secret) = plan.secrets().next() {
        return Err(EmitError::SecretInUnit {
            name: secret.name.clone(),
        });
    }
    check_unit_values(plan, engine, Values::Inline)?;
    Ok(Artifact::new(
        "calico-node.service",
        0o644,
        unit_text(plan, engine, None)?,
    ))
}

/// `-o systemd-envfile`: the env file, then the unit that reads it from
/// [`render::UNIT_ENV_FILE`].
pub fn systemd_envfile(plan: &Plan, engine: &Engine) -> Result<(Artifact, Artifact), EmitError> {
    check_unit_values(plan, engine, Values::InEnvFile)?;
    Ok((
        env_file(plan, engine)?,
        Artifact::new(
            "calico-node.service",
            0o644,
            unit_text(plan, engine, Some(render::UNIT_ENV_FILE))?,
        ),
    ))
}
