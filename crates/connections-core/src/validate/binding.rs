//! Service Binding checks: the value of the `connections.dev/projection` annotation, and the
//! well-known entries of every binding where the repository shows their values (a
//! Connection's settings, a ConfigMap, a Secret committed in plaintext).
//!
//! Each connection is checked once however many workloads bind it, against the same entry
//! plan the renderer mounts ([`crate::render::binding::plan`]), so a finding is about a file
//! the application will really read. Messages name the entry, the key and the object; never
//! the value.

use super::*;
use crate::binding::{self, PROJECTION_ANNOTATION, PROJECTIONS};
use crate::render::binding::{Entry, SourceKind};
use crate::source::Span;
use crate::syntax::Node;

pub(super) fn binding_checks(model: &Model, out: &mut Vec<Diagnostic>) {
    let mut checked = HashSet::new();
    for object in &model.objects {
        let Body::Workload(workload) = &object.body else { continue };
        if let Some(projection) = &workload.projection
            && !PROJECTIONS.contains(&projection.value.as_str())
        {
            let allowed =
                PROJECTIONS.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
            let mut finding = Diagnostic::new(
                Check::InvalidProjection,
                projection.span,
                format!(
                    "unknown projection `{}`: `{PROJECTION_ANNOTATION}` accepts {allowed}",
                    projection.value
                ),
            )
            .path(format!("metadata.annotations.{PROJECTION_ANNOTATION}"))
            .label("unknown projection");
            finding = finding.help(match closest(&projection.value, PROJECTIONS.iter().copied()) {
                Some(p) => format!("did you mean `{p}`? Without the annotation, connections become environment variables"),
                None => "remove the annotation to get environment variables".to_string(),
            });
            out.push(finding);
        }
        if !workload.is_service_binding() {
            continue;
        }
        for used in &workload.uses {
            if let Some(UsableConnection::Object(c)) =
                model.usable_connection(object.namespace_str(), &used.value)
                && checked.insert(c)
            {
                entry_checks(model, c, out);
            }
        }
    }
}

/// Checks the constrained entries of the binding of Connection `index`.
fn entry_checks(model: &Model, index: usize, out: &mut Vec<Diagnostic>) {
    let object = &model.objects[index];
    let Body::Connection(connection) = &object.body else { return };
    let Some(settings) = crate::render::generate::settings_configmap(model, index) else { return };
    let plan = crate::render::binding::plan(model, index, connection, &settings);
    for entry in &plan.entries {
        if !binding::CONSTRAINED_ENTRIES.contains(&entry.path.as_str()) {
            continue;
        }
        let Some(value) = visible_value(model, index, connection, entry) else { continue };
        let Some(Err(reason)) = binding::check_entry(&entry.path, value.bytes.as_slice()) else {
            continue;
        };
        out.push(
            Diagnostic::new(
                Check::InvalidBindingEntry,
                value.span,
                format!(
                    "entry `{}` of service binding `{}` (read from {}): {reason}",
                    entry.path, object.name.value, value.from
                ),
            )
            .path(value.path)
            .label(format!("invalid `{}`", entry.path))
            .help(help(&entry.path)),
        );
    }
}

fn help(entry: &str) -> &'static str {
    match entry {
        "port" => "write the port number alone, for example `5432`",
        "host" => {
            "write the host name or IP address alone, for example `pg.data.svc`; put the port in `port`"
        }
        "uri" => {
            "write an absolute URI such as `postgresql://pg.data.svc:5432/sales`, percent-encoding reserved characters"
        }
        "certificates" => {
            "paste the whole PEM chain, each certificate from `-----BEGIN CERTIFICATE-----` to `-----END CERTIFICATE-----`"
        }
        _ => "paste the whole PEM key, from `-----BEGIN ... PRIVATE KEY-----` to its END line",
    }
}

/// A value the repository shows, with where it is written.
struct Visible {
    bytes: Vec<u8>,
    span: Span,
    path: String,
    /// The object and key, for the message.
    from: String,
}

/// The value of an entry, if the repository holds it in plaintext.
fn visible_value(
    model: &Model,
    index: usize,
    connection: &ConnectionModel,
    entry: &Entry,
) -> Option<Visible> {
    let ns = model.objects[index].namespace_str();
    let key = &entry.key;
    match entry.source.kind {
        SourceKind::Settings => {
            if let Some((_, node)) = connection.schema.iter().find(|(k, _)| &k.value == key) {
                // `invalid-connection-schema` already checks a schema's `port` and `uri`.
                if matches!(key.as_str(), "port" | "uri") {
                    return None;
                }
                let text = node.as_scalar().map(|s| s.text.to_string())?;
                return Some(Visible {
                    bytes: text.into_bytes(),
                    span: node.span,
                    path: join("spec.schema", key),
                    from: "the Connection's `spec.schema`".to_string(),
                });
            }
            let credential = connection.credentials.iter().find(|c| &c.name.value == key)?;
            let Some(CredentialValue::Inline(value)) = &credential.value else { return None };
            Some(Visible {
                bytes: value.value.clone().into_bytes(),
                span: value.span,
                path: join(&credential.path, "value"),
                from: "the Connection's inline credential".to_string(),
            })
        }
        SourceKind::Secret => {
            let name = &entry.source.name;
            let secret = model.secret_sources(ns, name).iter().copied().find_map(|i| match &model
                .objects[i]
                .body
            {
                Body::Secret(data) => Some((i, data)),
                _ => None,
            });
            let (i, data) = secret?;
            let bytes = data.values.get(key)?.clone();
            let (span, path) = value_site(&model.objects[i].root, &["stringData", "data"], key)
                .unwrap_or((*data.keys.get(key)?, join("data", key)));
            Some(Visible { bytes, span, path, from: format!("Secret `{name}`, key `{key}`") })
        }
        SourceKind::ConfigMap => {
            let name = &entry.source.name;
            let i = model.configmap(ns, name)?;
            let Body::ConfigMap(data) = &model.objects[i].body else { return None };
            let bytes = data.data.get(key)?.clone().into_bytes();
            let (span, path) = value_site(&model.objects[i].root, &["data"], key)?;
            Some(Visible { bytes, span, path, from: format!("ConfigMap `{name}`, key `{key}`") })
        }
    }
    .filter(|v| !v.bytes.is_empty()) // an empty value is a placeholder, not a value to judge
}

/// Where `key`'s value is written under the first of `fields` that has it.
fn value_site(root: &Node, fields: &[&str], key: &str) -> Option<(Span, String)> {
    fields.iter().find_map(|field| {
        let value = root.get(field)?.get(key)?;
        Some((value.span, join(field, key)))
    })
}
