//! KubeDirector: connected ConfigMaps and Secrets must carry the grouping label, or
//! KubeDirector leaves them out of configmeta without a word (formats.md §1).

use super::*;
use crate::source::Spanned;

pub(super) fn kubedirector_dangling(
    r: &Reference,
    who: &str,
    kind: &str,
    help: String,
) -> Diagnostic {
    Diagnostic::new(
        Check::DanglingKubedirectorConnection,
        r.name.span,
        format!(
            "{who} connects {kind} `{}`, which is not declared in namespace `{}`; KubeDirector would leave it out of configmeta without a word",
            r.name.value, r.namespace
        ),
    )
    .path(&r.path)
    .label(format!("no such {kind}"))
    .help(help)
}

/// `<subject> no label `<label>`, so KubeDirector leaves it out ...`: the finding for a
/// connected object (in the repository or, with --cluster-check, in the cluster) that lacks
/// its grouping label. `list` is `configmaps` or `secrets`, `help` says where to add it.
#[allow(clippy::too_many_arguments)]
fn unlabelled(
    check: Check,
    subject: String,
    label: &str,
    cluster: &str,
    list: &str,
    i: usize,
    name: &Spanned<String>,
    help: String,
) -> Diagnostic {
    Diagnostic::new(
        check,
        name.span,
        format!(
            "{subject} no label `{label}`, so KubeDirector leaves it out of the configmeta of `{cluster}` without a word"
        ),
    )
    .path(format!("spec.connections.{list}[{i}]"))
    .label("will be skipped")
    .help(help)
}

/// Labels KubeDirector needs, and what the rendered configmeta cannot know.
pub(super) fn kubedirector_checks(
    model: &Model,
    index: usize,
    external: &dyn ExternalObjects,
    out: &mut Vec<Diagnostic>,
) {
    use crate::render::configmeta::{
        CM_TYPE_LABEL, SECRET_TYPE_LABEL, secret_labels, secret_metadata_path, string_map,
    };
    let object = &model.objects[index];
    let Body::KubeDirectorCluster(spec) = &object.body else { return };
    let ns = object.namespace_str();
    for (i, name) in spec.configmaps.iter().enumerate() {
        let Some(cm) = model.configmap(ns, &name.value) else {
            // Found in the cluster (--cluster-check): its labels decide too.
            if let Some(live) = external.has(TargetKind::ConfigMap, ns, &name.value)
                && !live.labels.contains_key(CM_TYPE_LABEL)
            {
                out.push(unlabelled(
                    Check::UnlabelledKubedirectorConfigmap,
                    format!("ConfigMap `{}` (in the cluster) has", name.value),
                    CM_TYPE_LABEL,
                    &object.name.value,
                    "configmaps",
                    i,
                    name,
                    format!(
                        "add `{CM_TYPE_LABEL}: <type>` to the labels of ConfigMap `{}`",
                        name.value
                    ),
                ));
            }
            continue;
        };
        let cm = &model.objects[cm];
        if !string_map(&cm.root, &["metadata", "labels"]).contains_key(CM_TYPE_LABEL) {
            out.push(
                unlabelled(
                    Check::UnlabelledKubedirectorConfigmap,
                    format!("ConfigMap `{}` has", name.value),
                    CM_TYPE_LABEL,
                    &object.name.value,
                    "configmaps",
                    i,
                    name,
                    format!(
                        "add `{CM_TYPE_LABEL}: <type>` to `metadata.labels` of ConfigMap `{}`",
                        name.value
                    ),
                )
                .related(cm.name.span, "the ConfigMap"),
            );
        }
    }
    for (i, name) in spec.secrets.iter().enumerate() {
        let Some(&source) = model.secret_sources(ns, &name.value).first() else {
            if let Some(live) = external.has(TargetKind::Secret, ns, &name.value)
                && !live.labels.contains_key(SECRET_TYPE_LABEL)
            {
                out.push(unlabelled(
                    Check::UnlabelledKubedirectorSecret,
                    format!("Secret `{}` (in the cluster) has", name.value),
                    SECRET_TYPE_LABEL,
                    &object.name.value,
                    "secrets",
                    i,
                    name,
                    format!(
                        "add `{SECRET_TYPE_LABEL}: <type>` to the labels of Secret `{}`",
                        name.value
                    ),
                ));
            }
            continue;
        };
        let source = &model.objects[source];
        if !secret_labels(source).contains_key(SECRET_TYPE_LABEL) {
            let labels_at = secret_metadata_path(source).join(".");
            out.push(
                unlabelled(
                    Check::UnlabelledKubedirectorSecret,
                    format!("Secret `{}` will have", name.value),
                    SECRET_TYPE_LABEL,
                    &object.name.value,
                    "secrets",
                    i,
                    name,
                    format!(
                        "add `{SECRET_TYPE_LABEL}: <type>` to `{labels_at}.labels` of {} `{}`",
                        source.kind.value, source.name.value
                    ),
                )
                .related(source.name.span, format!("declared by this {}", source.kind.value)),
            );
        } else if !matches!(source.body, Body::Secret(_)) {
            out.push(
                Diagnostic::new(
                    Check::KubedirectorSecretValuesUnknown,
                    name.span,
                    format!(
                        "the values of Secret `{}` are only known in the cluster ({} `{}`); the rendered configmeta of `{}` has `\"data\":null` for it",
                        name.value, source.kind.value, source.name.value, object.name.value
                    ),
                )
                .path(format!("spec.connections.secrets[{i}]"))
                .label("values known only in the cluster"),
            );
        }
    }
    for (i, name) in spec.clusters.iter().enumerate() {
        if model.kubedirector_cluster(ns, &name.value).is_some() {
            out.push(
                Diagnostic::new(
                    Check::KubedirectorClusterFilledInCluster,
                    name.span,
                    format!(
                        "the configmeta entry of connected cluster `{}` is built by KubeDirector in the cluster, from its pods and status; the rendered configmeta leaves it out",
                        name.value
                    ),
                )
                .path(format!("spec.connections.clusters[{i}]"))
                .label("filled in the cluster"),
            );
        }
    }
}
