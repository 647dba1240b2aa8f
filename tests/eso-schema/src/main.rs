//! `eso-schema-check FILE.json...`: each file an ExternalSecret as JSON; fails unless every
//! one deserialises into the `external-secrets.io/v1` types generated from the upstream CRD
//! (enums, required fields, value types) with no field the CRD does not define.

use kcr_external_secrets_io::v1::externalsecrets::ExternalSecret;
use std::process::ExitCode;

fn check(text: &str) -> Result<(), String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if value["apiVersion"] != "external-secrets.io/v1" || value["kind"] != "ExternalSecret" {
        return Err(format!(
            "not an external-secrets.io/v1 ExternalSecret: {} {}",
            value["apiVersion"], value["kind"]
        ));
    }
    let mut unknown = Vec::new();
    let parsed: Result<ExternalSecret, _> =
        serde_ignored::deserialize(&value, |path| unknown.push(path.to_string()));
    parsed.map_err(|e| e.to_string())?;
    unknown.retain(|p| p != "apiVersion" && p != "kind");
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(format!("fields the CRD does not define: {unknown:?}"))
    }
}

fn main() -> ExitCode {
    let mut failed = false;
    for file in std::env::args().skip(1) {
        let result =
            std::fs::read_to_string(&file).map_err(|e| e.to_string()).and_then(|t| check(&t));
        if let Err(e) = result {
            println!("{file}: {e}");
            failed = true;
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
