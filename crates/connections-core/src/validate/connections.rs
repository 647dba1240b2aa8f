//! Connections: types, credentials (KubeETL's webhook rules), schemas (Polyaxon's strict
//! schemas and per-type checks), scopes, and the generated settings ConfigMap.

use super::*;

pub(super) fn connection_checks(
    model: &Model,
    i: usize,
    connection: &ConnectionModel,
    out: &mut Vec<Diagnostic>,
) {
    let object = &model.objects[i];
    let ns = object.namespace_str();
    let connection_type = connection
        .type_name
        .as_ref()
        .and_then(|t| model.connection_type(connection.flavour, ns, &t.value));
    match (&connection.type_name, connection.flavour) {
        (None, Flavour::Ours) => out.push(
            Diagnostic::new(Check::InvalidConnection, object.name.span, format!("Connection `{}` has no `spec.type`", object.name.value))
                .path("spec.type")
                .label("no type")
                .help("set `spec.type` to a Polyaxon kind (postgres, s3, git, registry, ...), `Opaque`, or a ConnectionType name"),
        ),
        (Some(t), Flavour::Ours) if !is_builtin_type(&t.value) && connection_type.is_none() => out.push(
            Diagnostic::new(
                Check::InvalidConnection,
                t.span,
                format!("unknown connection type `{}`: not a Polyaxon kind, not `Opaque`, and no ConnectionType `{}` in namespace `{ns}`", t.value, t.value),
            )
            .path("spec.type")
            .label("unknown type")
            .help(match closest(&t.value, polyaxon::KINDS.iter().copied()) {
                Some(k) => format!("did you mean `{k}`?"),
                None => "declare a ConnectionType of that name, or use a Polyaxon kind".to_string(),
            }),
        ),
        (None, Flavour::KubeEtl) => out.push(
            Diagnostic::new(Check::InvalidConnection, object.name.span, "Unknown ConnectionType: ")
                .path("spec.type")
                .label("no `spec.type`")
                .help("KubeETL looks `spec.type` up as a ConnectionType in the Connection's namespace"),
        ),
        (Some(t), Flavour::KubeEtl) if connection_type.is_none() => out.push(
            Diagnostic::new(Check::InvalidConnection, t.span, format!("Unknown ConnectionType: {}", t.value))
                .path("spec.type")
                .label("no ConnectionType of this name in the namespace")
                .help("KubeETL looks the type up by name in the Connection's namespace"),
        ),
        _ => {}
    }
    let type_fields: BTreeMap<&str, bool> = connection_type
        .and_then(|t| match &model.objects[t].body {
            Body::ConnectionType(t) => {
                Some(t.fields.iter().map(|f| (f.name.value.as_str(), f.sensitive)).collect())
            }
            _ => None,
        })
        .unwrap_or_default();
    for credential in &connection.credentials {
        let sensitive =
            type_fields.get(credential.name.value.as_str()).copied().unwrap_or_else(|| {
                connection_type.is_none() && is_sensitive_name(&credential.name.value)
            });
        let inline_span = match &credential.value {
            Some(CredentialValue::Inline(v)) => Some(v.span),
            Some(CredentialValue::ConfigMapKey { name, .. }) => Some(name.span),
            _ => None,
        };
        if sensitive && let Some(span) = inline_span {
            let how = if matches!(credential.value, Some(CredentialValue::Inline(_))) {
                "inline"
            } else {
                "from a ConfigMap"
            };
            out.push(
                Diagnostic::new(
                    Check::InlineSensitiveCredential,
                    span,
                    format!(
                        "spec.credentials.{}: Invalid value: Field is sensitive, only SecretKeyRef is allowed (it is set {how})",
                        credential.name.value
                    ),
                )
                .path(&credential.path)
                .label("sensitive value outside a Secret")
                .help("use `valueFrom: {secretKeyRef: {name: ..., key: ...}}`; the Secret can be a SealedSecret or an ExternalSecret"),
            );
        }
        if credential.value.is_none() && !credential.written {
            out.push(
                Diagnostic::new(
                    Check::InvalidConnection,
                    credential.name.span,
                    format!(
                        "credential `{}` sets neither a non-empty `value` nor `valueFrom`, so it resolves to nothing",
                        credential.name.value
                    ),
                )
                .path(&credential.path)
                .label("empty credential"),
            );
        }
    }
    env_name_checks(connection, "spec", out);
    if let (Some(t), Some(type_index)) = (&connection.type_name, connection_type)
        && let Body::ConnectionType(type_model) = &model.objects[type_index].body
    {
        credential_rules(connection, type_model, &t.value, object.name.span, out);
    }
    if connection.flavour == Flavour::Ours {
        schema_checks(connection, "spec", out);
        substitution_markers(model, object, connection, out);
        generated_key_conflicts(object.name.value.as_str(), connection, out);
        let generated = crate::render::generate::settings_configmap_name(&object.name.value);
        if let Err(reason) = crate::rules::dns1123_subdomain(&generated) {
            out.push(
                Diagnostic::new(
                    Check::InvalidName,
                    object.name.span,
                    format!("the generated ConfigMap name `{generated}` {reason}"),
                )
                .path("metadata.name")
                .label("name too long for the generated ConfigMap")
                .help("shorten the Connection's name"),
            );
        }
        if let Some(cm) = model.configmap(ns, &generated)
            && model.objects[cm]
                .root
                .path(&["metadata", "annotations", crate::render::generate::GENERATED_FROM])
                .is_none()
        {
            out.push(
                Diagnostic::new(
                    Check::DuplicateObject,
                    model.objects[cm].name.span,
                    format!("ConfigMap `{generated}` is generated for Connection `{}`, but the repository declares it too", object.name.value),
                )
                .path("metadata.name")
                .label("clashes with a generated ConfigMap")
                .related(object.name.span, "the Connection")
                .help("rename this ConfigMap: render writes `<connection>-connection` itself"),
            );
        }
    }
}

/// Keys of the generated `<connection>-connection` ConfigMap must be unique and valid.
fn generated_key_conflicts(name: &str, connection: &ConnectionModel, out: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<String, Span> = BTreeMap::new();
    for reserved in ["type", "provider"] {
        seen.insert(reserved.to_string(), Span::SYNTHETIC);
    }
    let inline = connection.credentials.iter().filter_map(|c| match &c.value {
        Some(CredentialValue::Inline(_)) => Some((&c.name, c.path.clone())),
        _ => None,
    });
    let schema = connection.schema.iter().map(|(k, _)| (k, join("spec.schema", &k.value)));
    for (key, path) in schema.chain(inline) {
        if let Err(reason) = crate::rules::data_key(&key.value) {
            out.push(
                Diagnostic::new(
                    Check::InvalidConnection,
                    key.span,
                    format!("setting `{}` cannot be a key of the generated ConfigMap `{name}-connection`: it {reason}", key.value),
                )
                .path(&path)
                .label("invalid key"),
            );
            continue;
        }
        if let Some(first) = seen.insert(key.value.clone(), key.span) {
            let mut d = Diagnostic::new(
                Check::InvalidConnection,
                key.span,
                format!("setting `{}` would be written twice into the generated ConfigMap `{name}-connection`", key.value),
            )
            .path(&path)
            .label("duplicate setting");
            d = if first.is_real() {
                d.related(first, "first set here")
            } else {
                d.help(format!("`{}` is reserved for the connection's {}", key.value, key.value))
            };
            out.push(d);
        }
    }
}

pub(super) fn scope_check(
    model: &Model,
    workload: usize,
    connection: usize,
    span: Span,
    out: &mut Vec<Diagnostic>,
) {
    let Body::Connection(c) = &model.objects[connection].body else { return };
    if c.scopes.is_empty() {
        return;
    }
    let w = &model.objects[workload];
    if c.scopes.iter().any(|(kind, name)| *kind == w.kind.value && *name == w.name.value) {
        return;
    }
    let allowed: Vec<String> = c.scopes.iter().map(|(k, n)| format!("{k}/{n}")).collect();
    out.push(
        Diagnostic::new(
            Check::ConnectionScopeViolation,
            span,
            format!(
                "{} `{}` may not use connection `{}`: its scopes allow only {}",
                w.kind.value,
                w.name.value,
                model.objects[connection].name.value,
                allowed.join(", ")
            ),
        )
        .path(format!("metadata.annotations.{}", crate::model::USE_ANNOTATION))
        .label("outside the connection's scopes")
        .related(model.objects[connection].name.span, "connection declared here")
        .help(format!(
            "add `{{kind: {}, name: {}}}` to the Connection's `spec.scopes`",
            w.kind.value, w.name.value
        )),
    );
}

pub(super) fn polyaxon_checks(model: &Model, out: &mut Vec<Diagnostic>) {
    for config in &model.polyaxon {
        let mut names: BTreeMap<&str, Span> = BTreeMap::new();
        for connection in &config.connections {
            if let Some(kind) = &connection.kind
                && !polyaxon::is_kind(&kind.value)
            {
                out.push(
                    Diagnostic::new(
                        Check::InvalidConnection,
                        kind.span,
                        format!("Connection with kind {} is not supported.", kind.value),
                    )
                    .path(join(&connection.path, "kind"))
                    .label("unknown Polyaxon kind")
                    .help(
                        match closest(&kind.value, polyaxon::KINDS.iter().copied()) {
                            Some(k) => format!("did you mean `{k}`?"),
                            None => format!("Polyaxon kinds are: {}", polyaxon::KINDS.join(", ")),
                        },
                    ),
                );
            }
            if connection.kind.as_ref().is_some_and(|k| polyaxon::is_kind(&k.value)) {
                schema_checks(&connection.model, &connection.path, out);
            }
            env_name_checks(&connection.model, &connection.path, out);
            for (field, present) in
                [("name", connection.name.is_some()), ("kind", connection.kind.is_some())]
            {
                if !present {
                    out.push(
                        Diagnostic::new(
                            Check::InvalidConnection,
                            polyaxon::connection_span(connection),
                            format!("this Polyaxon connection has no `{field}`"),
                        )
                        .path(join(&connection.path, field))
                        .label(format!("`{field}` missing"))
                        .help("every Polyaxon connection needs a `name` and a `kind`"),
                    );
                }
            }
            if let Some(name) = &connection.name
                && let Some(first) = names.insert(&name.value, name.span)
            {
                out.push(
                    Diagnostic::new(
                        Check::InvalidConnection,
                        name.span,
                        format!("A connection with name `{}` must be unique.", name.value),
                    )
                    .path(join(&connection.path, "name"))
                    .label("duplicate name")
                    .related(first, "first used here"),
                );
            }
        }
    }
}

/// The names of a connection's own `env` entries, which are injected verbatim.
pub(super) fn env_name_checks(connection: &ConnectionModel, path: &str, out: &mut Vec<Diagnostic>) {
    for (i, var) in connection.env.iter().enumerate() {
        if let Some(name) = var.get("name")
            && let Some(text) = name.as_str()
            && let Err(reason) = crate::rules::env_var_name(text)
        {
            out.push(
                Diagnostic::new(
                    Check::InvalidEnvName,
                    name.span,
                    format!("environment variable name {reason}"),
                )
                .path(format!("{path}.env[{i}].name"))
                .label("not a valid environment variable name"),
            );
        }
    }
}

/// KubeETL's admission webhook rules (formats.md §3.3), for any connection whose type is a
/// ConnectionType: extra fields, and the length (in bytes) and unanchored RE2 regex of inline
/// values; `valueFrom` values are never content-checked. `required` is not enforced upstream;
/// we warn.
pub(super) fn credential_rules(
    connection: &ConnectionModel,
    connection_type: &ConnectionTypeModel,
    type_name: &str,
    span: Span,
    out: &mut Vec<Diagnostic>,
) {
    for credential in &connection.credentials {
        let field = connection_type.fields.iter().find(|f| f.name.value == credential.name.value);
        let Some(field) = field else {
            if !connection_type.allow_extra_fields {
                let known: Vec<&str> =
                    connection_type.fields.iter().map(|f| f.name.value.as_str()).collect();
                out.push(
                    Diagnostic::new(
                        Check::InvalidCredential,
                        credential.name.span,
                        format!(
                            "spec.credentials.{}: Invalid value: ConnectionType does not allow extra fields",
                            credential.name.value
                        ),
                    )
                    .path(&credential.path)
                    .label(format!("not a field of ConnectionType `{type_name}`"))
                    .help(match closest(&credential.name.value, known.iter().copied()) {
                        Some(c) => format!("did you mean `{c}`? its fields are: {}", known.join(", ")),
                        None => format!("its fields are: {}; or set `allowExtraFields: true` on the type", known.join(", ")),
                    }),
                );
            }
            continue;
        };
        let Some(CredentialValue::Inline(value)) = &credential.value else { continue };
        let len = value.value.len() as i64;
        let mut problems = Vec::new();
        if let Some(max) = &field.max_length
            && len > max.value
        {
            problems.push(("Value above MaxLength", format!("at most {} bytes", max.value)));
        }
        if let Some(min) = &field.min_length
            && len < min.value
        {
            problems.push(("Value below MinLength", format!("at least {} bytes", min.value)));
        }
        if let Some(pattern) = &field.regex
            && let Ok(re) = crate::re2::compile(&pattern.value)
            && !re.is_match(&value.value)
        {
            problems.push((
                "Value does not match regex pattern",
                format!("a match of `{}` (unanchored)", pattern.value),
            ));
        }
        for (message, rule) in problems {
            out.push(
                Diagnostic::new(
                    Check::InvalidCredential,
                    value.span,
                    format!("spec.credentials.{}: Invalid value: {message}", credential.name.value),
                )
                .path(join(&credential.path, "value"))
                .label(format!("must be {rule}"))
                .help(format!(
                    "ConnectionType `{type_name}` requires {rule} for `{}`",
                    credential.name.value
                )),
            );
        }
    }
    for field in connection_type.fields.iter().filter(|f| f.required) {
        if !connection.credentials.iter().any(|c| c.name.value == field.name.value && c.written) {
            out.push(
                Diagnostic::new(
                    Check::MissingRequiredCredential,
                    span,
                    format!(
                        "credential `{}` is required by ConnectionType `{type_name}` but not set (KubeETL lets this through; the consumer will miss it)",
                        field.name.value
                    ),
                )
                .path("spec.credentials")
                .label(format!("no `{}`", field.name.value))
                .related(field.name.span, "required here"),
            );
        }
    }
}

/// A ConnectionType's own problems: a regex that does not compile.
pub(super) fn connection_type_checks(
    connection_type: &ConnectionTypeModel,
    out: &mut Vec<Diagnostic>,
) {
    for (i, field) in connection_type.fields.iter().enumerate() {
        if let Some(env) = &field.env_name
            && let Err(reason) = crate::rules::env_var_name(&env.value)
        {
            out.push(
                Diagnostic::new(
                    Check::InvalidEnvName,
                    env.span,
                    format!("envName `{}` {reason}", env.value),
                )
                .path(format!("spec.fields[{i}].envName"))
                .label("not a valid environment variable name"),
            );
        }
        if let Some(pattern) = &field.regex
            && let Err(reason) = crate::re2::compile(&pattern.value)
        {
            out.push(
                Diagnostic::new(
                    Check::InvalidConnection,
                    pattern.span,
                    format!("regex of field `{}` does not compile: {reason}", field.name.value),
                )
                .path(format!("spec.fields[{i}].validation.regex"))
                .label("invalid RE2 regex")
                .help("KubeETL uses Go's RE2 syntax: no look-around or back-references"),
            );
        }
    }
}

/// Types whose consumers need a `host` (unless a `uri` or `url` says it all).
const HOST_TYPES: &[&str] = &[
    "postgres",
    "mysql",
    "mariadb",
    "mssql",
    "oracle",
    "vertica",
    "redis",
    "mongo",
    "mongodb",
    "cassandra",
    "presto",
    "hive_metastore",
    "hive_server2",
    "ftp",
    "samba",
    "ssh",
    "grpc",
    "hdfs",
    "amqp",
    "kafka",
];

/// Types whose `url` is an HTTP(S) endpoint.
const HTTP_TYPES: &[&str] = &[
    "http",
    "https",
    "webhook",
    "slack",
    "discord",
    "mattermost",
    "hipchat",
    "pagerduty",
    "jenkins",
];

/// Checks on the `schema` of a connection of a well-known type: Polyaxon's strict schemas for
/// its kinds, then ports, URLs and required hosts.
/// Values that hold `${` (see [`Check::SubstitutionMarker`]): what the generated ConfigMap
/// carries (decided by the same function render uses, so the two cannot disagree), and `env`
/// entries, which are copied into workloads.
fn substitution_markers(
    model: &Model,
    object: &crate::model::Object,
    connection: &ConnectionModel,
    out: &mut Vec<Diagnostic>,
) {
    use crate::render::generate::{FLUX_SUBSTITUTE_DISABLED, SUBSTITUTION_MARKER};
    let generated = crate::render::generate::settings_configmap_name(&object.name.value);
    let data = crate::render::generate::settings_data(model, object, connection);
    for key in data.iter().filter(|(_, v)| v.contains(SUBSTITUTION_MARKER)).map(|(k, _)| k) {
        // Where the value was written.
        let (span, path) = match key.as_str() {
            "type" if connection.type_name.is_some() => {
                (connection.type_name.as_ref().map(|t| t.span), "spec.type".to_string())
            }
            "provider" if connection.provider.is_some() => {
                (connection.provider.as_ref().map(|p| p.span), "spec.provider".to_string())
            }
            _ => match connection.schema.iter().find(|(k, _)| &k.value == key) {
                Some((_, value)) => (Some(value.span), join("spec.schema", key)),
                None => match connection.credentials.iter().find(|c| &c.name.value == key) {
                    Some(credential) => (Some(credential.name.span), credential.path.clone()),
                    None => (None, "metadata.name".to_string()),
                },
            },
        };
        out.push(
            Diagnostic::new(
                Check::SubstitutionMarker,
                span.unwrap_or(object.name.span),
                format!("setting `{key}` holds `${{`, which Flux's post-build substitution would replace in the generated ConfigMap `{generated}` and in the Connection"),
            )
            .path(path)
            .label("`${` kept as written")
            .help(format!(
                "both are rendered with the annotation `{}: {}`, so Flux leaves them alone",
                FLUX_SUBSTITUTE_DISABLED.0, FLUX_SUBSTITUTE_DISABLED.1
            )),
        );
    }
    for (i, entry) in connection.env.iter().enumerate() {
        if !crate::render::generate::holds_substitution_marker(entry) {
            continue;
        }
        let name = entry.get("name").and_then(crate::syntax::Node::as_str).unwrap_or("?");
        out.push(
            Diagnostic::new(
                Check::SubstitutionMarker,
                entry.span,
                format!("env entry `{name}` holds `${{` and is copied into the workloads that use this connection, where Flux's post-build substitution replaces it"),
            )
            .path(format!("spec.env[{i}]"))
            .label("substituted by Flux in the workloads")
            .help("write `$${` for a literal `${`, or move the value into the connection's settings (its generated ConfigMap is protected)"),
        );
    }
}

/// Checks on the `schema` of a connection of a well-known type: Polyaxon's strict schemas for
/// its kinds, then ports, URLs and required hosts.
pub(super) fn schema_checks(connection: &ConnectionModel, path: &str, out: &mut Vec<Diagnostic>) {
    let Some(type_name) = &connection.type_name else { return };
    let kind = type_name.value.as_str();
    if polyaxon::is_kind(kind) {
        polyaxon::check_schema(type_name, connection.schema_node.as_ref(), path, out);
    }
    if connection.flavour == Flavour::Polyaxon {
        return; // Polyaxon itself checks only its strict schemas; so do we
    }
    // The schema is written to a ConfigMap: nothing secret belongs in it.
    for (key, value) in &connection.schema {
        if is_sensitive_name(&key.value) && !value.is_null() {
            out.push(
                Diagnostic::new(
                    Check::InlineSensitiveCredential,
                    key.span,
                    format!("schema setting `{}` looks secret, and the schema is written to a ConfigMap in plaintext", key.value),
                )
                .path(join(&join(path, "schema"), &key.value))
                .label("secret in a ConfigMap")
                .help(format!(
                    "move it to `credentials` with `valueFrom: {{secretKeyRef: {{name: ..., key: {}}}}}`",
                    key.value
                )),
            );
        }
    }
    let setting = |key: &str| connection.schema.iter().find(|(k, _)| k.value == key);
    let schema_path = join(path, "schema");
    if let Some((_, port)) = setting("port") {
        let number = match port.as_scalar().map(|s| s.resolve()) {
            Some(crate::syntax::Resolved::Int(text)) => text.parse::<i64>().ok(),
            Some(crate::syntax::Resolved::Str(text)) => text.parse::<i64>().ok(),
            _ => None,
        };
        if !number.is_some_and(|p| (1..=65535).contains(&p)) {
            out.push(
                Diagnostic::new(
                    Check::InvalidConnectionSchema,
                    port.span,
                    "`port` must be a number from 1 to 65535",
                )
                .path(join(&schema_path, "port"))
                .label("not a port"),
            );
        }
    }
    for key in ["url", "uri", "endpoint"] {
        let Some((_, value)) = setting(key) else { continue };
        let Some(text) = value.as_str() else { continue };
        if let Some(problem) = url_problem(kind, key, text) {
            out.push(
                Diagnostic::new(
                    Check::InvalidConnectionSchema,
                    value.span,
                    format!("`{key}` {problem}"),
                )
                .path(join(&schema_path, key))
                .label("not a usable URL"),
            );
        }
    }
    if HOST_TYPES.contains(&kind) && ["host", "uri", "url"].iter().all(|k| setting(k).is_none()) {
        let span = connection
            .schema_node
            .as_ref()
            .filter(|n| n.span.is_real())
            .map_or(type_name.span, |n| n.span);
        out.push(
            Diagnostic::new(Check::InvalidConnectionSchema, span, format!("a {kind} connection needs `host` (or `uri`) in its schema"))
                .path(join(&schema_path, "host"))
                .label("no host")
                .help("consumers get the settings as environment variables; without a host they cannot connect"),
        );
    }
}

/// Why a URL setting is unusable, if it is.
fn url_problem(kind: &str, key: &str, text: &str) -> Option<String> {
    // git accepts scp-like addresses (`git@host:org/repo.git`); registries are often written
    // without a scheme (`registry.example.com/team`).
    if kind == "git" && !text.contains("://") {
        let scp =
            regex::Regex::new(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:.+$").expect("a valid pattern");
        return (!scp.is_match(text)).then(|| {
            "is neither a URL nor an scp-like git address (`git@host:org/repo.git`)".to_string()
        });
    }
    let candidate = if kind == "registry" && !text.contains("://") {
        format!("https://{text}")
    } else {
        text.to_string()
    };
    match url::Url::parse(&candidate) {
        Err(e) => Some(format!("does not parse as a URL: {e}")),
        Ok(url) if HTTP_TYPES.contains(&kind) && !matches!(url.scheme(), "http" | "https") => {
            Some(format!("must be an http(s) URL for a {kind} connection, not `{}:`", url.scheme()))
        }
        Ok(url) if url.host_str().is_none_or(str::is_empty) && key != "uri" => {
            Some("has no host".to_string())
        }
        Ok(_) => None,
    }
}
