//! `argocd generate`: the generate command of an Argo CD config management plugin.
//!
//! Argo CD runs it in the application's source folder with the Application's plugin
//! parameters as `PARAM_<NAME>` and its plugin env as `ARGOCD_ENV_<NAME>` (docs: config
//! management plugins, build environment). Those become the flags of `render . --stdout
//! --fail-if-empty`, parsed by the same command line parser, so every rule of `render` holds:
//! output only when everything checked out, never an empty stream (Argo CD with auto-prune
//! would delete the application's resources), and never plaintext Secrets (`ARGOCD_APP_NAME`
//! is set, which `--secrets plaintext` refuses).

use super::{Failure, Outcome};
use crate::cli::{Cli, Command};
use clap::Parser as _;

/// The settings an Application can give, with the render flag each becomes.
const SETTINGS: [(&str, &str); 7] = [
    ("SECRETS", "--secrets"),
    ("SECRET_STORE", "--secret-store"),
    ("SECRET_STORE_KIND", "--secret-store-kind"),
    ("CERT", "--cert"),
    ("SCOPE", "--scope"),
    ("NAMESPACE", "--namespace"),
    ("STRICT_SECRETS", "--strict-secrets"),
];

/// The render arguments for the environment `vars` (name, value).
fn render_args(vars: &[(String, String)]) -> Result<Vec<String>, Failure> {
    // An empty value is an unset one: Argo CD may send announced parameters left blank.
    let lookup = |prefix: &str, name: &str| {
        vars.iter()
            .find(|(k, _)| k == &format!("{prefix}{name}"))
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    // Parameters Argo CD passes that this plugin does not know are mistakes in the
    // Application: say so rather than render something else than asked.
    for (key, _) in vars {
        let Some(name) = key.strip_prefix("PARAM_").or_else(|| key.strip_prefix("ARGOCD_ENV_"))
        else {
            continue;
        };
        if !SETTINGS.iter().any(|(setting, _)| *setting == name) {
            return Err(Failure(format!(
                "{key}: unknown setting `{name}`; the plugin takes {}",
                SETTINGS.map(|(s, _)| s).join(", ")
            )));
        }
    }
    let mut args: Vec<String> =
        ["kubectl-connections", "render", ".", "--stdout", "--fail-if-empty", "--color", "never"]
            .map(String::from)
            .to_vec();
    for (name, flag) in SETTINGS {
        let value = lookup("PARAM_", name).or_else(|| lookup("ARGOCD_ENV_", name)).or_else(|| {
            (name == "NAMESPACE")
                .then(|| lookup("", "ARGOCD_APP_NAMESPACE"))
                .flatten()
                .filter(|v| !v.is_empty())
        });
        match (name, value) {
            (_, None) => {}
            ("STRICT_SECRETS", Some(v)) if v == "true" => args.push(flag.into()),
            ("STRICT_SECRETS", Some(v)) if v == "false" => {}
            ("STRICT_SECRETS", Some(v)) => {
                return Err(Failure(format!("STRICT_SECRETS is `true` or `false`, not `{v}`")));
            }
            // `--flag=value`: a value that starts with `-` stays a value.
            (_, Some(v)) => args.push(format!("{flag}={v}")),
        }
    }
    Ok(args)
}

/// Runs `argocd generate`.
pub fn generate() -> Result<Outcome, Failure> {
    let mut vars: Vec<(String, String)> = Vec::new();
    for (name, value) in std::env::vars_os() {
        match (name.into_string(), value.into_string()) {
            (Ok(name), Ok(value)) => vars.push((name, value)),
            (Ok(name), Err(_)) if name.starts_with("PARAM_") || name.starts_with("ARGOCD_ENV_") => {
                return Err(Failure(format!("{name} is not valid UTF-8")));
            }
            // Other variables are not the plugin's to read.
            _ => {}
        }
    }
    let args = render_args(&vars)?;
    let cli = Cli::try_parse_from(&args).map_err(|e| {
        // clap's first line names the flag and the value; the rest is usage help for a
        // command line nobody typed.
        let message = e.to_string();
        let first = message.lines().next().unwrap_or_default().trim_start_matches("error: ");
        Failure(format!("the Application's plugin settings are not valid: {first}"))
    })?;
    match &cli.command {
        Command::Render(render) => super::render::run(render),
        _ => Err(Failure("internal: argocd generate did not build a render".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parameters_beat_env_and_the_app_namespace_is_the_default() {
        let args = render_args(&vars(&[
            ("ARGOCD_ENV_SECRETS", "reference"),
            ("PARAM_SECRETS", "external-secret"),
            ("PARAM_CERT", ""),
            ("ARGOCD_ENV_SECRET_STORE", "vault"),
            ("ARGOCD_APP_NAMESPACE", "shop"),
            ("PARAM_STRICT_SECRETS", "true"),
            ("HOME", "/home/argocd"),
        ]))
        .unwrap();
        let joined = args.join(" ");
        assert!(joined.contains("--secrets=external-secret"), "{joined}");
        assert!(joined.contains("--secret-store=vault"), "{joined}");
        assert!(joined.contains("--namespace=shop"), "{joined}");
        assert!(joined.contains("--strict-secrets"), "{joined}");
        assert!(!joined.contains("--cert"), "an empty parameter is unset: {joined}");
        assert!(joined.starts_with("kubectl-connections render . --stdout --fail-if-empty"));
    }

    #[test]
    fn unknown_settings_are_refused() {
        let err = render_args(&vars(&[("PARAM_OUT", "/tmp/x")])).unwrap_err();
        assert!(err.0.contains("unknown setting `OUT`"), "{}", err.0);
        let err = render_args(&vars(&[("PARAM_STRICT_SECRETS", "yes")])).unwrap_err();
        assert!(err.0.contains("`true` or `false`"), "{}", err.0);
    }
}
