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
            lower: connections_core::model::LowerOptions { default_namespace: namespace.clone() },
            load: connections_loader::LoadOptions::default(),
        };
        let checked = super::check(&input)?;
        return Ok(View {
            model: checked.analysis.model,
            diagnostics: checked.analysis.diagnostics,
            namespace,
            cluster: None,
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
    Ok(View {
        model: snapshot.analysis.model,
        diagnostics: snapshot.analysis.diagnostics,
        namespace: cluster.namespace.clone(),
        cluster: Some(cluster),
    })
}

/// Applies a label selector to a repository model (the cluster applies it itself).
fn selected(object: &connections_core::model::Object, selector: Option<&str>) -> bool {
    let Some(selector) = selector else { return true };
    let labels =
        connections_core::render::configmeta::string_map(&object.root, &["metadata", "labels"]);
    selector.split(',').map(str::trim).filter(|s| !s.is_empty()).all(|term| {
        if let Some((k, v)) = term.split_once("!=") {
            labels.get(k.trim()).map(String::as_str) != Some(v.trim())
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            labels.get(k.trim()).map(String::as_str) == Some(v.trim())
        } else if let Some(k) = term.strip_prefix('!') {
            !labels.contains_key(k.trim())
        } else {
            labels.contains_key(term)
        }
    })
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
    let value = if single && objects.len() == 1 {
        objects.into_iter().next().unwrap_or_default()
    } else {
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects, "metadata": {"resourceVersion": ""}})
    };
    let text = if yaml {
        connections_core::render::emit::to_yaml(&connections_core::render::emit::node_from_json(
            &value,
        ))
    } else {
        format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or_default())
    };
    print_stdout(&text)
}

/// Runs `list`.
pub fn list(args: &ListArgs) -> Result<Outcome, Failure> {
    block_on(async {
        let view = view(&args.live, args.all_namespaces, args.selector.as_deref()).await?;
        let model = &view.model;
        let mut rows: Vec<usize> = (0..model.objects.len())
            .filter(|&i| views::listed(&model.objects[i]))
            .filter(|&i| {
                args.all_namespaces
                    || model.objects[i].namespace.is_none()
                    || model.objects[i].namespace_str() == view.namespace
            })
            .filter(|&i| {
                view.cluster.is_some() || selected(&model.objects[i], args.selector.as_deref())
            })
            .collect();
        rows.sort_by_key(|&i| {
            let o = &model.objects[i];
            (o.namespace_str().to_string(), o.kind.value.clone(), o.name.value.clone())
        });
        match args.output {
            Some(ListFormat::Json) | Some(ListFormat::Yaml) => {
                let objects = rows.iter().map(|&i| object_json(&model.objects[i])).collect();
                print_objects(objects, args.output == Some(ListFormat::Yaml), false)?;
            }
            Some(ListFormat::Name) => {
                let text: String = rows
                    .iter()
                    .map(|&i| format!("{}\n", resource_name(&model.objects[i])))
                    .collect();
                print_stdout(&text)?;
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
                let now = std::time::SystemTime::now();
                let mut table_rows = Vec::new();
                for &i in &rows {
                    let o = &model.objects[i];
                    let (found, total) = views::reference_counts(model, i);
                    let findings = views::findings(model, i, &view.diagnostics);
                    let errors = findings.iter().filter(|d| d.severity == Severity::Error).count();
                    let warnings =
                        findings.iter().filter(|d| d.severity == Severity::Warning).count();
                    let status = match (errors, warnings) {
                        (0, 0) => "OK".to_string(),
                        (0, w) => format!("{w} warning{}", if w == 1 { "" } else { "s" }),
                        (e, _) => format!("{e} error{}", if e == 1 { "" } else { "s" }),
                    };
                    let mut row = Vec::new();
                    if args.all_namespaces {
                        row.push(o.namespace_str().to_string());
                    }
                    row.push(format!("{}/{}", o.kind.value.to_ascii_lowercase(), o.name.value));
                    row.push(views::type_of(o));
                    row.push(format!("{found}/{total}"));
                    row.push(status);
                    row.push(age::of(&o.root, now));
                    if wide {
                        let users = if matches!(o.body, Body::Connection(_)) {
                            views::users_of(model, i).join(",")
                        } else {
                            String::new()
                        };
                        row.push(if users.is_empty() { "<none>".into() } else { users });
                        row.push(if o.group.is_empty() {
                            o.kind.value.clone()
                        } else {
                            o.group.clone()
                        });
                    }
                    table_rows.push(row);
                }
                if table_rows.is_empty() {
                    let place = if args.all_namespaces {
                        "any namespace".to_string()
                    } else {
                        format!("namespace {}", view.namespace)
                    };
                    super::print_stderr(&format!("No connections found in {place}.\n"));
                } else {
                    print_stdout(&table::render(&header, &table_rows, args.no_headers))?;
                }
            }
        }
        Ok(Outcome::Success)
    })?
}

fn not_found(target: &Target, namespace: &str) -> Failure {
    let (kind, name) = match target {
        Target::Connection(n) => ("connection", n),
        Target::KubeDirectorCluster(n) => ("kdcluster", n),
        Target::LoftCluster(n) => ("cluster", n),
    };
    let place = if matches!(target, Target::LoftCluster(_)) {
        String::new()
    } else {
        format!(" in namespace {namespace}")
    };
    Failure(format!("{kind}/{name} not found{place}"))
}

/// Runs `get`.
pub fn get(args: &GetArgs) -> Result<Outcome, Failure> {
    let target = views::parse_target(&args.target)?;
    block_on(async {
        let view = view(&args.live, false, None).await?;
        let index = views::find(&view.model, &target, &view.namespace)
            .ok_or_else(|| not_found(&target, &view.namespace))?;
        print_objects(
            vec![object_json(&view.model.objects[index])],
            args.output == ObjectFormat::Yaml,
            true,
        )?;
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
        let index = views::find(&view.model, &target, &view.namespace)
            .ok_or_else(|| not_found(&target, &view.namespace))?;
        let text = match target {
            Target::Connection(_) => {
                views::describe_connection(&view.model, index, &view.diagnostics)
            }
            Target::KubeDirectorCluster(_) => {
                views::describe_kubedirector(&view.model, index, &view.diagnostics)
            }
            Target::LoftCluster(_) => {
                let secret = loft_config_secret(&view, index).await?;
                views::describe_loft_cluster(&view.model, index, &secret, &view.diagnostics)
            }
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
    let namespace = namespace.unwrap_or_else(|| view.model.default_namespace.clone());
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
            Ok(match cluster.call(&what, api.get(&name)).await? {
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
