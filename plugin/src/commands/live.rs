//! `list`, `get` and `describe`: from the cluster, or from a repository with `--repo`.

use super::{Failure, Outcome, print_stdout};
use crate::cli::{DescribeArgs, GetArgs, ListArgs, ListFormat, LiveArgs, ObjectFormat};
use crate::live::cluster::{self, CONNECTION, Cluster, Scope};
use crate::live::views::{self, Target};
use crate::live::{age, table};
use connections_core::diagnostic::{Diagnostic, Severity};
use connections_core::model::{Body, Model};

/// A model to show, with its findings.
pub struct View {
    /// The model.
    pub model: Model,
    /// Its findings.
    pub diagnostics: Vec<Diagnostic>,
    /// The namespace asked for.
    pub namespace: String,
    /// The cluster it came from, if live.
    pub cluster: Option<Cluster>,
    /// Kinds the user may not list (`Secret`, `ConfigMap`, ...): their references are unknown.
    pub forbidden: Vec<&'static str>,
}

/// Runs a future on a small runtime (the live commands are the only async code).
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> Result<T, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure(format!("cannot start the async runtime: {e}")))?;
    Ok(runtime.block_on(future))
}

/// Reads the model: the repository with `--repo`, else the cluster.
pub async fn view(
    live: &LiveArgs,
    scope_all: bool,
    selector: Option<&str>,
) -> Result<View, Failure> {
    if let Some(repo) = &live.repo {
        let namespace = live.namespace.clone().unwrap_or_else(|| "default".into());
        let input = crate::settings::Input {
            root: repo.clone(),
            lower: connections_core::model::LowerOptions {
                default_namespace: namespace.clone(),
                ..Default::default()
            },
            load: connections_loader::LoadOptions::default(),
            secrets: Default::default(),
        };
        // The views read the model and the findings; the rendered output is not needed.
        let checked = super::check_with(&input, None, super::Need::Findings)?;
        return Ok(View {
            model: checked.analysis.model,
            diagnostics: checked.analysis.diagnostics,
            namespace,
            cluster: None,
            forbidden: Vec::new(),
        });
    }
    let cluster = cluster::connect(&live.cluster, live.namespace.as_deref()).await?;
    let scope = if scope_all { Scope::All } else { Scope::Namespace(cluster.namespace.clone()) };
    let snapshot = cluster::snapshot(&cluster, &scope, selector).await?;
    if snapshot.missing.iter().any(|k| k.group == CONNECTION.group && k.kind == CONNECTION.kind) {
        return Err(Failure(format!(
            "the Connection CRD (connections.connections.dev) is not installed in the cluster of context {:?}; install it with: kubectl connections crd | kubectl apply -f -",
            cluster.context
        )));
    }
    let forbidden: Vec<&'static str> = snapshot.forbidden.iter().map(|k| k.kind).collect();
    // What cannot be listed cannot be called missing.
    let unknowable = |check: connections_core::checks::Check| {
        use connections_core::checks::Check::*;
        match check {
            DanglingSecretRef | MissingSecretKey => forbidden.contains(&"Secret"),
            DanglingConfigMapRef | MissingConfigMapKey => forbidden.contains(&"ConfigMap"),
            DanglingKubedirectorClusterRef => forbidden.contains(&"KubeDirectorCluster"),
            DanglingKubedirectorConnection => {
                forbidden.contains(&"Secret") || forbidden.contains(&"ConfigMap")
            }
            _ => false,
        }
    };
    let diagnostics =
        snapshot.analysis.diagnostics.into_iter().filter(|d| !unknowable(d.check)).collect();
    Ok(View {
        model: snapshot.analysis.model,
        diagnostics,
        namespace: cluster.namespace.clone(),
        cluster: Some(cluster),
        forbidden,
    })
}

/// One term of a label selector (kubectl's syntax, equality- and set-based).
fn selector_term_matches(term: &str, labels: &std::collections::BTreeMap<String, String>) -> bool {
    let term = term.trim();
    let set = |rest: &str| -> Vec<String> {
        rest.trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .split(',')
            .map(|v| v.trim().to_string())
            .collect()
    };
    if let Some((k, rest)) = term.split_once(" notin ") {
        return labels.get(k.trim()).is_none_or(|v| !set(rest).contains(v));
    }
    if let Some((k, rest)) = term.split_once(" in ") {
        return labels.get(k.trim()).is_some_and(|v| set(rest).contains(v));
    }
    if let Some((k, v)) = term.split_once("!=") {
        return labels.get(k.trim()).map(String::as_str) != Some(v.trim());
    }
    if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
        return labels.get(k.trim()).map(String::as_str) == Some(v.trim());
    }
    match term.strip_prefix('!') {
        Some(k) => !labels.contains_key(k.trim()),
        None => labels.contains_key(term),
    }
}

/// Splits a selector on the commas that are not inside `( )`.
fn selector_terms(selector: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    terms.into_iter().filter(|t| !t.trim().is_empty()).collect()
}

/// Applies a label selector to a repository model (the cluster applies it itself).
fn selected(root: &connections_core::syntax::Node, selector: Option<&str>) -> bool {
    let Some(selector) = selector else { return true };
    let labels = connections_core::render::configmeta::string_map(root, &["metadata", "labels"]);
    selector_terms(selector).into_iter().all(|term| selector_term_matches(term, &labels))
}

/// `kind/name` as the NAME column shows it: the group is added where the kind alone is
/// ambiguous (KubeETL's Connection beside ours).
fn short_name(object: &connections_core::model::Object) -> String {
    let kind = object.kind.value.to_ascii_lowercase();
    if object.group == "etl.dataworkz.nl" {
        format!("{kind}.{}/{}", object.group, object.name.value)
    } else {
        format!("{kind}/{}", object.name.value)
    }
}

/// `kind.group/name`, as `-o name` prints it.
fn resource_name(object: &connections_core::model::Object) -> String {
    let kind = object.kind.value.to_ascii_lowercase();
    if object.group.is_empty() {
        format!("{kind}/{}", object.name.value)
    } else {
        format!("{kind}.{}/{}", object.group, object.name.value)
    }
}

/// The object as JSON, without `managedFields`.
fn object_json(object: &connections_core::model::Object) -> serde_json::Value {
    let mut value = connections_core::render::emit::node_to_json(&object.root);
    if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("managedFields");
    }
    value
}

fn print_objects(objects: Vec<serde_json::Value>, yaml: bool, single: bool) -> Result<(), Failure> {
    let mut value = if single && objects.len() == 1 {
        objects.into_iter().next().unwrap_or_default()
    } else {
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects, "metadata": {"resourceVersion": ""}})
    };
    sort_keys(&mut value);
    let text = if yaml {
        connections_core::render::emit::to_yaml(&connections_core::render::emit::node_from_json(
            &value,
        ))
    } else {
        format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or_default())
    };
    print_stdout(&text)
}

/// Orders every map's keys, as kubectl prints objects (it marshals them as Go maps).
fn sort_keys(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.sort_keys();
            map.values_mut().for_each(sort_keys);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

/// A row of `list`: an object, or a Polyaxon agent connection (from `--repo`).
enum Row {
    Object(usize),
    Polyaxon(usize, usize),
}

/// Runs `list`.
pub fn list(args: &ListArgs) -> Result<Outcome, Failure> {
    block_on(async {
        let view = view(&args.live, args.all_namespaces, args.selector.as_deref()).await?;
        let model = &view.model;
        let live = view.cluster.is_some();
        let mut objects: Vec<usize> = (0..model.objects.len())
            .filter(|&i| views::listed(&model.objects[i]))
            .filter(|&i| {
                args.all_namespaces
                    || model.objects[i].namespace.is_none()
                    || model.objects[i].namespace_str() == view.namespace
            })
            .filter(|&i| live || selected(&model.objects[i].root, args.selector.as_deref()))
            .collect();
        objects.sort_by_key(|&i| {
            let o = &model.objects[i];
            (
                o.namespace_str().to_string(),
                o.kind.value.clone(),
                o.group.clone(),
                o.name.value.clone(),
            )
        });
        let mut rows: Vec<Row> = objects.into_iter().map(Row::Object).collect();
        if args.all_namespaces || view.namespace == model.default_namespace {
            for (c, config) in model.polyaxon.iter().enumerate() {
                for (i, connection) in config.connections.iter().enumerate() {
                    if connection.name.is_some()
                        && selected(&connection.node, args.selector.as_deref())
                    {
                        rows.push(Row::Polyaxon(c, i));
                    }
                }
            }
        }
        let json_of = |row: &Row| match row {
            Row::Object(i) => object_json(&model.objects[*i]),
            Row::Polyaxon(c, i) => connections_core::render::emit::node_to_json(
                &model.polyaxon[*c].connections[*i].node,
            ),
        };
        let name_of = |row: &Row| match row {
            Row::Object(i) => resource_name(&model.objects[*i]),
            Row::Polyaxon(c, i) => format!(
                "polyaxon/{}",
                model.polyaxon[*c].connections[*i].name.as_ref().map_or("", |n| n.value.as_str())
            ),
        };
        let place = if args.all_namespaces {
            "any namespace".to_string()
        } else {
            format!("namespace {}", view.namespace)
        };
        match &args.output {
            Some(ListFormat::Json) | Some(ListFormat::Yaml) => {
                print_objects(
                    rows.iter().map(json_of).collect(),
                    args.output == Some(ListFormat::Yaml),
                    false,
                )?;
            }
            Some(ListFormat::JsonPath(template)) => {
                let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": rows.iter().map(json_of).collect::<Vec<_>>(), "metadata": {"resourceVersion": ""}});
                print_stdout(&crate::live::jsonpath::apply(template, &list).map_err(Failure)?)?;
            }
            Some(ListFormat::Name) => {
                if rows.is_empty() {
                    super::print_stderr(&format!("No connections found in {place}.\n"));
                }
                print_stdout(
                    &rows.iter().map(|r| format!("{}\n", name_of(r))).collect::<String>(),
                )?;
            }
            None | Some(ListFormat::Wide) => {
                let wide = args.output == Some(ListFormat::Wide);
                let mut header = Vec::new();
                if args.all_namespaces {
                    header.push("NAMESPACE");
                }
                header.extend(["NAME", "TYPE", "REFERENCES", "STATUS", "AGE"]);
                if wide {
                    header.extend(["USED BY", "SOURCE"]);
                }
                if args.show_labels {
                    header.push("LABELS");
                }
                let now = std::time::SystemTime::now();
                let mut table_rows = Vec::new();
                for row in &rows {
                    let (namespace, name, kind, (found, total), findings, root, users, source) =
                        match row {
                            Row::Object(i) => {
                                let o = &model.objects[*i];
                                let users = if matches!(o.body, Body::Connection(_)) {
                                    views::users_of(model, *i).join(",")
                                } else {
                                    String::new()
                                };
                                let source = if o.group.is_empty() {
                                    o.kind.value.clone()
                                } else {
                                    o.group.clone()
                                };
                                (
                                    o.namespace_str().to_string(),
                                    short_name(o),
                                    views::type_of(o),
                                    views::reference_counts(model, *i),
                                    views::findings(model, *i, &view.diagnostics),
                                    &o.root,
                                    users,
                                    source,
                                )
                            }
                            Row::Polyaxon(c, i) => {
                                let p = &model.polyaxon[*c].connections[*i];
                                let kind = p
                                    .kind
                                    .as_ref()
                                    .map_or("<none>".to_string(), |k| k.value.clone());
                                (
                                    model.default_namespace.clone(),
                                    name_of(row),
                                    kind,
                                    views::polyaxon_reference_counts(model, *c, *i),
                                    Vec::new(),
                                    &p.node,
                                    String::new(),
                                    "polyaxon agent config".to_string(),
                                )
                            }
                        };
                    let errors = findings.iter().filter(|d| d.severity == Severity::Error).count();
                    let warnings =
                        findings.iter().filter(|d| d.severity == Severity::Warning).count();
                    let status = match (errors, warnings) {
                        (0, 0) => "OK".to_string(),
                        (0, w) => format!("{w} warning{}", if w == 1 { "" } else { "s" }),
                        (e, _) => format!("{e} error{}", if e == 1 { "" } else { "s" }),
                    };
                    let mut cells = Vec::new();
                    if args.all_namespaces {
                        cells.push(namespace);
                    }
                    cells.extend([
                        name,
                        kind,
                        format!("{found}/{total}"),
                        status,
                        age::of(root, now),
                    ]);
                    if wide {
                        cells.push(if users.is_empty() { "<none>".into() } else { users });
                        cells.push(source);
                    }
                    if args.show_labels {
                        let labels = connections_core::render::configmeta::string_map(
                            root,
                            &["metadata", "labels"],
                        );
                        let text: Vec<String> =
                            labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                        cells.push(if text.is_empty() { "<none>".into() } else { text.join(",") });
                    }
                    table_rows.push(cells);
                }
                if table_rows.is_empty() {
                    super::print_stderr(&format!("No connections found in {place}.\n"));
                } else {
                    print_stdout(&table::render(&header, &table_rows, args.no_headers))?;
                }
            }
        }
        Ok(Outcome::Success)
    })?
}

fn not_found(target: &Target, view: &View) -> Failure {
    let namespace = &view.namespace;
    let (kind, name) = match target {
        Target::Connection(n) => ("connection", n),
        Target::EtlConnection(n) => ("connection.etl.dataworkz.nl", n),
        Target::KubeDirectorCluster(n) => ("kdcluster", n),
        Target::LoftCluster(n) => ("cluster", n),
        Target::Polyaxon(n) => ("polyaxon", n),
    };
    let place = if matches!(target, Target::LoftCluster(_)) {
        String::new()
    } else {
        format!(" in namespace {namespace}")
    };
    let hint = if matches!(target, Target::Polyaxon(_)) && view.cluster.is_some() {
        " (agent connections are read from a Polyaxon agent config: pass --repo PATH)"
    } else {
        ""
    };
    Failure(format!("{kind}/{name} not found{place}{hint}"))
}

/// A Polyaxon agent connection named by a bare target, when no object has the name.
fn polyaxon_target(view: &View, target: &Target) -> Option<(usize, usize)> {
    let name = match target {
        Target::Polyaxon(name) => name,
        Target::Connection(name) if views::find(&view.model, target, &view.namespace).is_none() => {
            name
        }
        _ => return None,
    };
    match view.model.usable_connection(&view.namespace, name) {
        Some(connections_core::model::UsableConnection::Polyaxon(c, i)) => Some((c, i)),
        _ => None,
    }
}

fn print_object(
    value: serde_json::Value,
    name: &str,
    format: &ObjectFormat,
) -> Result<(), Failure> {
    match format {
        ObjectFormat::Name => print_stdout(&format!("{name}\n")),
        ObjectFormat::JsonPath(template) => {
            print_stdout(&crate::live::jsonpath::apply(template, &value).map_err(Failure)?)
        }
        ObjectFormat::Yaml => print_objects(vec![value], true, true),
        ObjectFormat::Json => print_objects(vec![value], false, true),
    }
}

/// Runs `get`.
pub fn get(args: &GetArgs) -> Result<Outcome, Failure> {
    let target = views::parse_target(&args.target)?;
    block_on(async {
        let view = view(&args.live, false, None).await?;
        if let Some((c, i)) = polyaxon_target(&view, &target) {
            let connection = &view.model.polyaxon[c].connections[i];
            let value = connections_core::render::emit::node_to_json(&connection.node);
            let name =
                format!("polyaxon/{}", connection.name.as_ref().map_or("", |n| n.value.as_str()));
            print_object(value, &name, &args.output)?;
            return Ok(Outcome::Success);
        }
        let index = views::find(&view.model, &target, &view.namespace)
            .ok_or_else(|| not_found(&target, &view))?;
        let object = &view.model.objects[index];
        print_object(object_json(object), &resource_name(object), &args.output)?;
        Ok(Outcome::Success)
    })?
}

/// Runs `describe`.
pub fn describe(args: &DescribeArgs) -> Result<Outcome, Failure> {
    if args.all_namespaces {
        return Err(Failure("a resource cannot be retrieved by name across all namespaces".into()));
    }
    let target = views::parse_target(&args.target)?;
    block_on(async {
        let view = view(&args.live, false, None).await?;
        if let Some((c, i)) = polyaxon_target(&view, &target) {
            print_stdout(&views::describe_polyaxon(&view.model, c, i, &view.forbidden))?;
            return Ok(Outcome::Success);
        }
        let index = views::find(&view.model, &target, &view.namespace)
            .ok_or_else(|| not_found(&target, &view))?;
        let text = match target {
            Target::Connection(_) | Target::EtlConnection(_) => {
                views::describe_connection(&view.model, index, &view.diagnostics, &view.forbidden)
            }
            Target::KubeDirectorCluster(_) => {
                views::describe_kubedirector(&view.model, index, &view.diagnostics, &view.forbidden)
            }
            Target::LoftCluster(_) => {
                let secret = loft_config_secret(&view, index).await?;
                views::describe_loft_cluster(&view.model, index, &secret, &view.diagnostics)
            }
            // `find` never answers for these: agent connections are not objects.
            Target::Polyaxon(_) => return Err(not_found(&target, &view)),
        };
        print_stdout(&text)?;
        Ok(Outcome::Success)
    })?
}

/// A Loft cluster's config Secret and the kubeconfig it holds, read into memory only: from the
/// repository (a Secret it holds in plaintext), else with one GET from the cluster.
async fn loft_config_secret(view: &View, index: usize) -> Result<views::ConfigSecret, Failure> {
    let spec = view.model.objects[index].root.get("spec");
    let text = |key: &str| {
        spec.and_then(|s| s.path(&["config", key])).and_then(|n| n.as_str()).map(str::to_string)
    };
    let (Some(name), namespace) = (text("secretName"), text("secretNamespace")) else {
        return Ok(views::ConfigSecret::default());
    };
    let namespace =
        namespace.unwrap_or_else(|| connections_core::render::loft::SECRET_NAMESPACE.to_string());
    let key = text("key").unwrap_or_else(|| "config".into());
    match &view.cluster {
        None => {
            let source = view.model.secret_sources(&namespace, &name).first().copied();
            let has_key = source.and_then(|s| match view.model.secret_keys(s) {
                Some(connections_core::model::SecretKeys::Known(keys)) => {
                    Some(keys.contains_key(&key))
                }
                _ => None,
            });
            let kubeconfig = source.and_then(|s| match &view.model.objects[s].body {
                Body::Secret(data) => {
                    data.values.get(&key).map(|v| String::from_utf8_lossy(v).into_owned())
                }
                _ => None,
            });
            Ok(views::ConfigSecret { found: source.is_some(), has_key, kubeconfig })
        }
        Some(cluster) => {
            let api: kube::Api<k8s_openapi::api::core::v1::Secret> =
                kube::Api::namespaced(cluster.client.clone(), &namespace);
            let what = format!("get secret {name} in namespace {namespace}");
            Ok(match cluster.read(&what, || api.get(&name)).await? {
                Ok(secret) => {
                    let kubeconfig = secret.data.as_ref().and_then(|d| {
                        d.get(&key).map(|v| String::from_utf8_lossy(&v.0).into_owned())
                    });
                    views::ConfigSecret {
                        found: true,
                        has_key: Some(kubeconfig.is_some()),
                        kubeconfig,
                    }
                }
                Err(_) => views::ConfigSecret::default(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn matches(selector: &str, pairs: &[(&str, &str)]) -> bool {
        let labels = labels(pairs);
        selector_terms(selector).into_iter().all(|t| selector_term_matches(t, &labels))
    }

    #[test]
    fn label_selectors_match_like_the_api_server() {
        let gold = [("tier", "gold"), ("env", "prod")];
        assert!(matches("tier=gold", &gold));
        assert!(matches("tier==gold,env", &gold));
        assert!(!matches("tier!=gold", &gold));
        assert!(matches("tier!=silver", &[]));
        assert!(matches("env in (prod, staging),tier", &gold));
        assert!(!matches("env in (staging)", &gold));
        assert!(!matches("env in (prod)", &[]));
        assert!(matches("env notin (staging)", &gold));
        assert!(matches("env notin (staging)", &[]));
        assert!(!matches("env notin (prod,staging)", &gold));
        assert!(matches("!owner", &gold));
        assert!(!matches("!tier", &gold));
        assert_eq!(selector_terms("a in (x,y),b"), vec!["a in (x,y)", "b"]);
    }
}
