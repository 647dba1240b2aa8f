//! Workloads: where each kind keeps its pod template, and the Secret and ConfigMap references
//! a pod spec makes (env, envFrom, volumes, projected volumes, image pull secrets).

use super::fields::{Fields, index, join};
use super::{KeyNeed, Reference, Referrer, TargetKind};
use crate::source::Spanned;
use crate::syntax::Node;

/// `(pod spec path, pod metadata path)` for a workload kind, or `None` for other kinds.
pub fn pod_paths(
    group: &str,
    kind: &str,
) -> Option<(&'static [&'static str], &'static [&'static str])> {
    match (group, kind) {
        ("", "Pod") => Some((&["spec"], &["metadata"])),
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job")
        | ("", "ReplicationController") => {
            Some((&["spec", "template", "spec"], &["spec", "template", "metadata"]))
        }
        ("batch", "CronJob") => Some((
            &["spec", "jobTemplate", "spec", "template", "spec"],
            &["spec", "jobTemplate", "spec", "template", "metadata"],
        )),
        _ => None,
    }
}

/// Collects the Secret and ConfigMap references of a pod spec.
pub struct PodRefs<'a, 'd> {
    /// Reads fields and records wrong types.
    pub fields: &'a mut Fields<'d>,
    /// Who refers.
    pub from: Referrer,
    /// The pod's namespace.
    pub namespace: &'a str,
    /// Where references go.
    pub out: &'a mut Vec<Reference>,
}

impl PodRefs<'_, '_> {
    fn push(
        &mut self,
        target: TargetKind,
        name: Spanned<String>,
        path: String,
        keys: Vec<KeyNeed>,
        optional: bool,
    ) {
        self.out.push(Reference {
            from: self.from,
            target,
            namespace: self.namespace.to_string(),
            name,
            path,
            keys,
            optional,
        });
    }

    /// Walks a pod spec at `path`.
    pub fn pod_spec(&mut self, spec: &Node, path: &str) {
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            let items = self.fields.seq(spec, list, path);
            for (i, container) in items.iter().enumerate() {
                let cpath = index(&join(path, list), i);
                if let Some(container) = self.fields.map_node(container, &cpath) {
                    self.container(container, &cpath);
                }
            }
        }
        let volumes = self.fields.seq(spec, "volumes", path);
        for (i, volume) in volumes.iter().enumerate() {
            let vpath = index(&join(path, "volumes"), i);
            if let Some(volume) = self.fields.map_node(volume, &vpath) {
                self.volume(volume, &vpath);
            }
        }
        let pulls = self.fields.seq(spec, "imagePullSecrets", path);
        for (i, pull) in pulls.iter().enumerate() {
            let ppath = index(&join(path, "imagePullSecrets"), i);
            if let Some(pull) = self.fields.map_node(pull, &ppath)
                && let Some(name) = self.fields.string(pull, "name", &ppath)
            {
                self.push(TargetKind::Secret, name, join(&ppath, "name"), Vec::new(), false);
            }
        }
    }

    fn container(&mut self, container: &Node, path: &str) {
        let env = self.fields.seq(container, "env", path);
        for (i, var) in env.iter().enumerate() {
            let epath = index(&join(path, "env"), i);
            let Some(var) = self.fields.map_node(var, &epath) else { continue };
            let Some(from) = self.fields.map(var, "valueFrom", &epath) else { continue };
            let fpath = join(&epath, "valueFrom");
            for (field, target) in
                [("secretKeyRef", TargetKind::Secret), ("configMapKeyRef", TargetKind::ConfigMap)]
            {
                if let Some(r) = self.fields.map(from, field, &fpath) {
                    self.key_ref(r, &join(&fpath, field), target);
                }
            }
        }
        let env_from = self.fields.seq(container, "envFrom", path);
        for (i, source) in env_from.iter().enumerate() {
            let spath = index(&join(path, "envFrom"), i);
            let Some(source) = self.fields.map_node(source, &spath) else { continue };
            for (field, target) in
                [("secretRef", TargetKind::Secret), ("configMapRef", TargetKind::ConfigMap)]
            {
                if let Some(r) = self.fields.map(source, field, &spath) {
                    let rpath = join(&spath, field);
                    let optional = self.fields.boolean(r, "optional", &rpath).unwrap_or(false);
                    if let Some(name) = self.fields.string(r, "name", &rpath) {
                        self.push(target, name, join(&rpath, "name"), Vec::new(), optional);
                    }
                }
            }
        }
    }

    fn key_ref(&mut self, r: &Node, path: &str, target: TargetKind) {
        let optional = self.fields.boolean(r, "optional", path).unwrap_or(false);
        let key = self.fields.string(r, "key", path);
        if let Some(name) = self.fields.string(r, "name", path) {
            let keys =
                key.map(|key| KeyNeed { key, path: join(path, "key") }).into_iter().collect();
            self.push(target, name, join(path, "name"), keys, optional);
        }
    }

    fn items(&mut self, source: &Node, path: &str) -> Vec<KeyNeed> {
        let items = self.fields.seq(source, "items", path);
        let mut keys = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let ipath = index(&join(path, "items"), i);
            if let Some(item) = self.fields.map_node(item, &ipath)
                && let Some(key) = self.fields.string(item, "key", &ipath)
            {
                keys.push(KeyNeed { key, path: join(&ipath, "key") });
            }
        }
        keys
    }

    fn volume(&mut self, volume: &Node, path: &str) {
        if let Some(secret) = self.fields.map(volume, "secret", path) {
            let spath = join(path, "secret");
            let optional = self.fields.boolean(secret, "optional", &spath).unwrap_or(false);
            let keys = self.items(secret, &spath);
            if let Some(name) = self.fields.string(secret, "secretName", &spath) {
                self.push(TargetKind::Secret, name, join(&spath, "secretName"), keys, optional);
            }
        }
        if let Some(cm) = self.fields.map(volume, "configMap", path) {
            let cpath = join(path, "configMap");
            self.named_source(cm, &cpath, TargetKind::ConfigMap);
        }
        if let Some(projected) = self.fields.map(volume, "projected", path) {
            let ppath = join(path, "projected");
            let sources = self.fields.seq(projected, "sources", &ppath);
            for (i, source) in sources.iter().enumerate() {
                let spath = index(&join(&ppath, "sources"), i);
                let Some(source) = self.fields.map_node(source, &spath) else { continue };
                for (field, target) in
                    [("secret", TargetKind::Secret), ("configMap", TargetKind::ConfigMap)]
                {
                    if let Some(s) = self.fields.map(source, field, &spath) {
                        self.named_source(s, &join(&spath, field), target);
                    }
                }
            }
        }
    }

    fn named_source(&mut self, source: &Node, path: &str, target: TargetKind) {
        let optional = self.fields.boolean(source, "optional", path).unwrap_or(false);
        let keys = self.items(source, path);
        if let Some(name) = self.fields.string(source, "name", path) {
            self.push(target, name, join(path, "name"), keys, optional);
        }
    }
}
