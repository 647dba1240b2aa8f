//! `diff --against-cluster`: the live counterpart of each rendered object, reduced to what the
//! render sets, and the objects render generated earlier that it no longer generates.
//!
//! Requests: one discovery request per API group version, one list per kind and namespace of
//! the rendered objects, and, to find the deleted ones, one list by our `managed-by` label per
//! kind render generates and namespace the render writes to (cluster-wide for cluster-scoped
//! kinds) where no list of that kind and namespace was made already. Secret values are kept in memory only to be hashed by
//! the diff; they are never printed.

use super::cluster::{Cluster, Scope, SecretValues};
use crate::commands::Failure;
use connections_core::diff::{
    ObjectId, object_yaml, project_live, stored_object, strip_server_fields,
};
use connections_core::render::generate::MANAGED_BY;
use kube::api::ApiResource;
use kube::core::GroupVersion;
use std::collections::{BTreeMap, BTreeSet};

/// Both sides of the comparison, by path, and what could not be compared.
#[derive(Default)]
pub struct ClusterSides {
    /// The live objects (projected), keyed like the render.
    pub live: BTreeMap<String, String>,
    /// The rendered objects as the API server would store them.
    pub rendered: BTreeMap<String, String>,
    /// What was left out, and why (printed as notes).
    pub notes: Vec<String>,
}

/// Rendered objects of one kind by namespace: path, identity and the object as stored.
type ByNamespace = BTreeMap<Option<String>, Vec<(String, ObjectId, serde_json::Value)>>;

/// A kind as the cluster serves it.
struct Served {
    resource: ApiResource,
    namespaced: bool,
}

/// Looks a group version's kinds up; `None` when the cluster does not serve it.
async fn discover(
    cluster: &Cluster,
    api_version: &str,
) -> Result<Option<BTreeMap<String, Served>>, Failure> {
    let gv: GroupVersion =
        api_version.parse().map_err(|e| Failure(format!("apiVersion {api_version:?}: {e}")))?;
    let what = format!("discover the kinds of {api_version}");
    let group = match cluster
        .read_passing(&what, &[404], || kube::discovery::pinned_group(&cluster.client, &gv))
        .await?
    {
        Ok(group) => group,
        Err(_) => return Ok(None),
    };
    Ok(Some(
        group
            .versioned_resources(&gv.version)
            .into_iter()
            .map(|(resource, caps)| {
                let namespaced = caps.scope == kube::discovery::Scope::Namespaced;
                (resource.kind.clone(), Served { resource, namespaced })
            })
            .collect(),
    ))
}

fn identity(value: &serde_json::Value) -> Option<(Option<String>, String)> {
    let name = value.pointer("/metadata/name")?.as_str()?.to_string();
    let namespace =
        value.pointer("/metadata/namespace").and_then(|n| n.as_str()).map(str::to_string);
    Some((namespace, name))
}

/// Reads the live side of every rendered object (files that are not objects, such as
/// configmeta, are noted and left out).
pub async fn cluster_sides(
    cluster: &Cluster,
    rendered: &BTreeMap<String, String>,
) -> Result<ClusterSides, Failure> {
    let mut sides = ClusterSides::default();
    // Rendered objects by API version, kind and namespace.
    let mut wanted: BTreeMap<(String, String), ByNamespace> = BTreeMap::new();
    let mut configmeta = 0;
    for (path, text) in rendered {
        if path == "kustomization.yaml" {
            continue;
        }
        if path.ends_with(".json") {
            configmeta += 1;
            continue;
        }
        let Some((id, value)) = stored_object(text) else {
            sides.notes.push(format!("{path} is not a Kubernetes object; not compared"));
            continue;
        };
        sides.rendered.insert(path.clone(), object_yaml(&value));
        wanted
            .entry((id.api_version.clone(), id.kind.clone()))
            .or_default()
            .entry(id.namespace.clone())
            .or_default()
            .push((path.clone(), id, value));
    }
    if configmeta > 0 {
        sides.notes.push(format!(
            "{configmeta} configmeta file{} not compared: KubeDirector writes configmeta into its pods, not the API (compare with --base or --against)",
            if configmeta == 1 { "" } else { "s" }
        ));
    }
    let namespaces: BTreeSet<String> =
        wanted.values().flat_map(|by_ns| by_ns.keys().flatten().cloned()).collect();
    let mut discovered: BTreeMap<String, Option<BTreeMap<String, Served>>> = BTreeMap::new();
    // Lists made, by API version, kind and namespace (`None`: the whole cluster).
    let mut listed: BTreeMap<(String, String, Option<String>), Vec<serde_json::Value>> =
        BTreeMap::new();
    let mut rendered_ids: BTreeSet<(String, String, Option<String>, String)> = BTreeSet::new();
    for ((api_version, kind), by_namespace) in &wanted {
        if !discovered.contains_key(api_version) {
            discovered.insert(api_version.clone(), discover(cluster, api_version).await?);
        }
        let Some(served) = discovered[api_version].as_ref().and_then(|kinds| kinds.get(kind))
        else {
            let count: usize = by_namespace.values().map(Vec::len).sum();
            let objects = if count == 1 {
                "its object shows".to_string()
            } else {
                format!("its {count} objects show")
            };
            sides.notes.push(format!(
                "the cluster does not serve {kind} ({api_version}): {objects} as created (is its CRD installed?)"
            ));
            continue;
        };
        for (namespace, objects) in by_namespace {
            let namespace = namespace.clone().filter(|_| served.namespaced);
            let items = list(cluster, served, namespace.as_deref(), None).await?;
            let mut by_name: BTreeMap<&str, &serde_json::Value> = BTreeMap::new();
            for item in &items {
                if let Some(name) = item.pointer("/metadata/name").and_then(|n| n.as_str()) {
                    by_name.insert(name, item);
                }
            }
            for (path, id, desired) in objects {
                rendered_ids.insert((
                    id.api_version.clone(),
                    id.kind.clone(),
                    id.namespace.clone(),
                    id.name.clone(),
                ));
                if let Some(live) = by_name.get(id.name.as_str()) {
                    let mut live = (*live).clone();
                    strip_server_fields(&mut live);
                    sides.live.insert(path.clone(), object_yaml(&project_live(desired, &live)));
                }
            }
            listed.insert((api_version.clone(), kind.clone(), namespace), items);
        }
    }
    // Objects carrying our label that the render no longer produces are deleted: looked for in
    // the namespaces the render writes to (other teams' output in other namespaces is not
    // this render's), and cluster-wide for cluster-scoped kinds.
    let selector = format!("{}={}", MANAGED_BY.0, MANAGED_BY.1);
    for (api_version, kind) in GENERATED_KINDS {
        let (api_version, kind) = (api_version.to_string(), kind.to_string());
        if !discovered.contains_key(&api_version) {
            discovered.insert(api_version.clone(), discover(cluster, &api_version).await?);
        }
        let Some(served) = discovered[&api_version].as_ref().and_then(|kinds| kinds.get(&kind))
        else {
            continue;
        };
        let scopes: Vec<Option<String>> = if served.namespaced {
            namespaces.iter().cloned().map(Some).collect()
        } else {
            vec![None]
        };
        for namespace in scopes {
            let key = (api_version.clone(), kind.clone(), namespace.clone());
            let items = match listed.get(&key) {
                Some(items) => items.clone(),
                None => list(cluster, served, namespace.as_deref(), Some(&selector)).await?,
            };
            for mut live in items {
                let labelled = live
                    .pointer(&format!("/metadata/labels/{}", MANAGED_BY.0.replace('/', "~1")))
                    .and_then(|v| v.as_str())
                    == Some(MANAGED_BY.1);
                let Some((namespace, name)) = identity(&live) else { continue };
                if !labelled
                    || rendered_ids.contains(&(
                        api_version.clone(),
                        kind.clone(),
                        namespace.clone(),
                        name.clone(),
                    ))
                {
                    continue;
                }
                let id = ObjectId {
                    api_version: api_version.clone(),
                    kind: kind.clone(),
                    namespace,
                    name,
                };
                strip_server_fields(&mut live);
                let mut path = id.path();
                if sides.rendered.contains_key(&path) {
                    path = format!("{path} (live)");
                }
                sides.live.insert(path, object_yaml(&live));
            }
        }
    }
    Ok(sides)
}

/// The kinds render generates (and labels as its own).
const GENERATED_KINDS: &[(&str, &str)] =
    &[("v1", "ConfigMap"), ("v1", "Secret"), ("storage.loft.sh/v1", "Cluster")];

/// Lists a served kind in a namespace (or the whole cluster), keeping Secret values for hashing.
async fn list(
    cluster: &Cluster,
    served: &Served,
    namespace: Option<&str>,
    selector: Option<&str>,
) -> Result<Vec<serde_json::Value>, Failure> {
    let scope = namespace.map_or(Scope::All, |ns| Scope::Namespace(ns.to_string()));
    match cluster
        .list_resource(
            &served.resource,
            served.namespaced,
            &scope,
            selector,
            &[],
            SecretValues::KeepForHashing,
        )
        .await?
    {
        Ok(items) => Ok(items),
        Err(code) => Err(Failure(format!("listing {} answered {code}", served.resource.kind))),
    }
}
