//! The registry of checks: stable ids, default severities and their documentation.
//!
//! Ids are a contract (users filter on them, CI annotations show them): never rename one.
//! `kubectl connections explain ID` and `docs/checks.md` are generated from this table.

use crate::diagnostic::Severity;

/// The documentation of one check, in fixed sections.
#[derive(Clone, Copy, Debug)]
pub struct CheckDocs {
    /// One line: what the check finds.
    pub summary: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// A small input that triggers it.
    pub example: &'static str,
    /// How to fix it.
    pub fix: &'static str,
}

macro_rules! checks {
    ($( $variant:ident = $id:literal, $severity:ident, {
        summary: $summary:literal,
        why: $why:literal,
        example: $example:literal,
        fix: $fix:literal $(,)?
    } )*) => {
        /// Every check the tool runs.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Check { $(
            #[doc = $summary]
            $variant,
        )* }

        impl Check {
            /// All checks, in documentation order.
            pub const ALL: &'static [Check] = &[$(Check::$variant),*];

            /// The stable kebab-case id.
            pub fn id(self) -> &'static str {
                match self { $(Check::$variant => $id,)* }
            }

            /// The default severity.
            pub fn severity(self) -> Severity {
                match self { $(Check::$variant => Severity::$severity,)* }
            }

            /// The documentation.
            pub fn docs(self) -> CheckDocs {
                match self { $(Check::$variant => CheckDocs {
                    summary: $summary, why: $why, example: $example, fix: $fix,
                },)* }
            }
        }
    };
}

checks! {
    YamlSyntax = "yaml-syntax", Error, {
        summary: "A file is not valid YAML (or JSON), or not valid UTF-8.",
        why: "kubectl, Argo CD and Flux refuse the whole file; nothing in it is applied.",
        example: "metadata:\n  name: [unclosed\n",
        fix: "Correct the syntax at the position shown. Quote values that contain `: ` or start with a YAML indicator such as `*`, `&` or `{`.",
    }
    DuplicateKey = "duplicate-key", Error, {
        summary: "A mapping has the same key twice.",
        why: "YAML forbids it, and readers disagree about which value wins: kubectl rejects the file, other tools keep the last value silently.",
        example: "data:\n  host: a\n  host: b\n",
        fix: "Remove one of the two entries.",
    }
    AmbiguousYamlScalar = "ambiguous-yaml-scalar", Warning, {
        summary: "A plain scalar that kubectl (YAML 1.1) reads differently from YAML 1.2 tools, in a field that should hold a string.",
        why: "kubectl applying a file reads plain `on`, `yes`, `y`, `off`, `no` and `n` as booleans and `0777` as the octal number 511 (YAML 1.1), while kustomize, Argo CD, Flux and editors read the strings (YAML 1.2). The same file then works in one pipeline and is rejected, or stores a value nobody wrote, in another. Render keeps such scalars as written, so it changes nothing for either reader. (Where neither reading is a string, as with `5432` or `0777` in ConfigMap data, the finding is `invalid-field-type`.)",
        example: "kind: ConfigMap\ndata:\n  tls: on\n",
        fix: "Quote the value: `tls: \"on\"`.",
    }
    InvalidFieldType = "invalid-field-type", Error, {
        summary: "A field holds the wrong type of value (for example a list where a string is expected).",
        why: "The API server rejects the object, or the renderer cannot understand the field.",
        example: "kind: ConfigMap\ndata:\n  port: 5432\n",
        fix: "Give the field the type shown in the message; quote numbers and booleans that are meant as strings.",
    }
    InvalidObject = "invalid-object", Error, {
        summary: "A Kubernetes object lacks `apiVersion`, `kind` or `metadata.name`, uses `generateName`, or has an `apiVersion` or `kind` the API server cannot accept.",
        why: "kubectl cannot apply it; GitOps tools fail the whole sync. An `apiVersion` is a DNS-1123 subdomain group and a DNS-1035 label version, a `kind` letters, digits and '-'; anything else (a `/`, `..`, a Cyrillic letter that looks Latin) is a typo or an attack on the tools that build file paths from it, and render refuses it.",
        example: "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
        fix: "Add the missing field. GitOps needs fixed names: replace `generateName` with `name`. Write `apiVersion` and `kind` as the API server names them.",
    }
    UnrecognisedDocument = "unrecognised-document", Info, {
        summary: "A YAML document is not a Kubernetes object nor a Polyaxon agent config, so it is ignored.",
        why: "Files such as Helm values or tool configuration are skipped, and you should know what was not read.",
        example: "replicaCount: 3\n",
        fix: "Nothing to do if the file is not meant for the cluster. Otherwise add `apiVersion` and `kind`.",
    }
    SkippedInput = "skipped-input", Info, {
        summary: "A folder or file was deliberately not read (for example a Helm chart, whose templates are not YAML).",
        why: "Objects in it are not checked and not rendered; references to them look dangling.",
        example: "charts/app/Chart.yaml\n",
        fix: "Render the chart first (helm template) and point kubectl-connections at the result, or ignore the finding.",
    }
    UnreadableInput = "unreadable-input", Error, {
        summary: "A file or folder could not be read: permissions, a symlink loop, a symlink out of the repository, or a file over the size limit.",
        why: "Objects in it are missing from the model, so checks and output would be incomplete. The run exits with code 2.",
        example: "ln -s /etc/passwd repo/leak.yaml\n",
        fix: "Fix the permissions, remove the link, or raise `--max-file-size`.",
    }
    UnknownField = "unknown-field", Warning, {
        summary: "A Connection or ConnectionType sets a field that the schema does not have.",
        why: "The API server prunes unknown fields without a word, so a typo such as `configmap:` for `configMap:` silently drops the reference.",
        example: "kind: Connection\nspec:\n  configmap: {name: pg-settings}\n",
        fix: "Use the field name from the schema (`kubectl connections crd` prints it).",
    }
    DuplicateObject = "duplicate-object", Error, {
        summary: "Two documents declare the same object (group, kind, namespace and name).",
        why: "Only one of them can exist in the cluster; which one wins depends on apply order.",
        example: "# a.yaml and b.yaml both hold\nkind: Secret\nmetadata: {name: pg, namespace: data}\n",
        fix: "Delete one of the two, or rename it.",
    }
    InvalidName = "invalid-name", Error, {
        summary: "An object or namespace name breaks the Kubernetes naming rules.",
        why: "The API server rejects the object. Secret and ConfigMap names must be DNS-1123 subdomains (lower case, digits, `-` and `.`, at most 253 characters); namespaces DNS-1123 labels (no `.`, at most 63).",
        example: "kind: Secret\nmetadata:\n  name: Postgres_Credentials\n",
        fix: "Use lower-case letters, digits and `-`, starting and ending with a letter or digit.",
    }
    InvalidLabel = "invalid-label", Error, {
        summary: "A label key or value breaks the Kubernetes label rules.",
        why: "The API server rejects the object. Keys are an optional DNS subdomain prefix and `/`, then 1 to 63 characters of `[A-Za-z0-9_.-]` starting and ending alphanumeric; values are the same without the prefix, or empty.",
        example: "metadata:\n  labels:\n    team: data platform\n",
        fix: "Replace spaces and other characters with `-`, and keep to 63 characters.",
    }
    InvalidAnnotation = "invalid-annotation", Error, {
        summary: "An annotation key is invalid, or all annotations together exceed 256 KiB.",
        why: "The API server rejects the object.",
        example: "metadata:\n  annotations:\n    \"my annotation\": x\n",
        fix: "Use a valid key (optional DNS prefix, `/`, then `[A-Za-z0-9_.-]`); move large data into a ConfigMap.",
    }
    InvalidDataKey = "invalid-data-key", Error, {
        summary: "A Secret or ConfigMap data key breaks the key rules, or a ConfigMap key is in both `data` and `binaryData`.",
        why: "The API server rejects the object. Keys are `[-._a-zA-Z0-9]+`, at most 253 characters, and neither `.`, `..` nor starting with `..`.",
        example: "kind: ConfigMap\ndata:\n  config/app.yaml: x\n",
        fix: "Use a flat key such as `app.yaml`; mount it at the path you need with `items`.",
    }
    InvalidSecretValue = "invalid-secret-value", Error, {
        summary: "A Secret `data` value is not standard padded base64.",
        why: "The API server decodes `data` with standard base64 and rejects URL-safe or unpadded values.",
        example: "kind: Secret\ndata:\n  password: hunter2\n",
        fix: "Encode the value with `base64 -w0`, or put plain text under `stringData`.",
    }
    ObjectTooLarge = "object-too-large", Error, {
        summary: "A Secret or ConfigMap holds more than 1 MiB of data.",
        why: "The API server rejects Secrets and ConfigMaps over 1 MiB (1,048,576 bytes).",
        example: "kind: ConfigMap\ndata:\n  model.bin: <2 MB>\n",
        fix: "Split the data, or move it to a volume or an object store.",
    }
    PlaintextSecretInRepo = "plaintext-secret-in-repo", Warning, {
        summary: "A Secret with `data` or `stringData` is committed to the repository.",
        why: "Anyone who can read the repository (and every clone and CI log) can read the value; base64 is not encryption.",
        example: "kind: Secret\nstringData:\n  password: hunter2\n",
        fix: "Commit a SealedSecret, an ExternalSecret or a SOPS-encrypted Secret instead (SOPS files are recognised: keys known, values opaque), and rotate the exposed value. A warning by default; `--strict-secrets` makes it an error except for Secrets listed in `.connections-allow.yaml` at the repository root (`plaintextSecrets: [{name, namespace, reason}]`).",
    }
    DanglingSecretRef = "dangling-secret-ref", Error, {
        summary: "A reference names a Secret that nothing in the repository declares in that namespace.",
        why: "The workload or connection fails at runtime (CreateContainerConfigError) or silently loses data (KubeDirector skips a missing Secret).",
        example: "kind: Connection\nspec:\n  secret: {name: pg-cred}   # no Secret pg-cred\n",
        fix: "Add the Secret as a Secret, SealedSecret or ExternalSecret in the same namespace, or fix the name.",
    }
    DanglingConfigMapRef = "dangling-configmap-ref", Error, {
        summary: "A reference names a ConfigMap that the repository does not declare in that namespace.",
        why: "Pods that need it do not start; KubeDirector silently leaves it out of configmeta.",
        example: "kind: Connection\nspec:\n  configMap: {name: pg-settings}   # no ConfigMap pg-settings\n",
        fix: "Add the ConfigMap in the same namespace or fix the name.",
    }
    MissingSecretKey = "missing-secret-key", Error, {
        summary: "A reference names a key that the referenced Secret does not have.",
        why: "A `secretKeyRef` to a missing key keeps the container from starting; a mounted item is missing from the volume.",
        example: "credentials:\n  password:\n    valueFrom: {secretKeyRef: {name: pg-cred, key: pasword}}\n",
        fix: "Use one of the keys the Secret has (listed in the message), or add the key.",
    }
    MissingConfigMapKey = "missing-configmap-key", Error, {
        summary: "A reference names a key that the referenced ConfigMap does not have.",
        why: "A `configMapKeyRef` to a missing key keeps the container from starting.",
        example: "configMap: {name: pg-settings, items: [hots]}\n",
        fix: "Use one of the keys the ConfigMap has (listed in the message), or add the key.",
    }
    UnknownSecretKeys = "unknown-secret-keys", Info, {
        summary: "A key reference cannot be checked because the Secret's keys are only known in the cluster.",
        why: "An ExternalSecret with `dataFrom` (or a generator) decides its keys at runtime; the tool does not guess.",
        example: "kind: ExternalSecret\nspec:\n  dataFrom: [{extract: {key: pg}}]\n",
        fix: "List the keys with `spec.data` instead of `spec.dataFrom` if you want them checked.",
    }
    DanglingConnectionRef = "dangling-connection-ref", Error, {
        summary: "A workload's `connections.dev/use` annotation names a Connection that does not exist in its namespace.",
        why: "The workload would be rendered without the settings and credentials it expects.",
        example: "metadata:\n  annotations:\n    connections.dev/use: warehouse   # no Connection warehouse\n",
        fix: "Fix the name, or add the Connection to the workload's namespace.",
    }
    DanglingKubedirectorClusterRef = "dangling-kubedirector-cluster-ref", Error, {
        summary: "A KubeDirectorCluster connects to a cluster (`spec.connections.clusters`) that does not exist in its namespace.",
        why: "KubeDirector silently leaves the cluster out of configmeta, so the app finds no connection.",
        example: "spec:\n  connections:\n    clusters: [training-engine]   # no such KubeDirectorCluster\n",
        fix: "Fix the name or add the KubeDirectorCluster in the same namespace.",
    }
    DanglingKubedirectorConnection = "dangling-kubedirector-connection", Error, {
        summary: "A KubeDirectorCluster connects a ConfigMap or Secret (`spec.connections.configmaps` / `secrets`) that does not exist in its namespace.",
        why: "KubeDirector skips a missing resource without a word: the app starts without the connection and nothing says why.",
        example: "spec:\n  connections:\n    configmaps: [source-control-info]   # no such ConfigMap\n",
        fix: "Declare the ConfigMap or Secret (a Secret may be a SealedSecret or an ExternalSecret) in the cluster's namespace, or fix the name.",
    }
    UnlabelledKubedirectorConfigmap = "unlabelled-kubedirector-configmap", Warning, {
        summary: "A ConfigMap that a KubeDirectorCluster connects lacks the label `kubedirector.hpe.com/cmType`.",
        why: "KubeDirector silently leaves ConfigMaps without that label out of configmeta; the label's value names the group apps find the entry under.",
        example: "kind: ConfigMap\nmetadata:\n  name: source-control-info   # no kubedirector.hpe.com/cmType label\n",
        fix: "Add `kubedirector.hpe.com/cmType: <type>` to the ConfigMap's `metadata.labels` (for example `source-control`).",
    }
    UnlabelledKubedirectorSecret = "unlabelled-kubedirector-secret", Warning, {
        summary: "A Secret that a KubeDirectorCluster connects lacks the label `kubedirector.hpe.com/secretType`.",
        why: "KubeDirector silently leaves Secrets without that label out of configmeta.",
        example: "kind: SealedSecret\nspec:\n  template:\n    metadata: {}   # no kubedirector.hpe.com/secretType label\n",
        fix: "Add `kubedirector.hpe.com/secretType: <type>` to the Secret's labels: `metadata.labels` of a Secret, `spec.template.metadata.labels` of a SealedSecret, `spec.target.template.metadata.labels` of an ExternalSecret.",
    }
    KubedirectorSecretValuesUnknown = "kubedirector-secret-values-unknown", Info, {
        summary: "A Secret that a KubeDirectorCluster connects is a SealedSecret or an ExternalSecret, so its values are only known in the cluster.",
        why: "The rendered configmeta preview cannot hold those values; its entry has `\"data\":null` and the file lists it under `kubectl-connections.unresolved`. KubeDirector fills the real values in.",
        example: "kind: SealedSecret\nmetadata: {name: git-ssh}\n",
        fix: "Nothing to fix: this says where the preview differs from the file in the cluster.",
    }
    KubedirectorClusterFilledInCluster = "kubedirector-cluster-filled-in-cluster", Info, {
        summary: "A KubeDirectorCluster connects another cluster, whose configmeta entry KubeDirector builds in the cluster.",
        why: "The entry needs the connected cluster's pod names, UID and status, which exist only at runtime; the rendered preview leaves it out and says so.",
        example: "spec:\n  connections:\n    clusters: [training-engine]\n",
        fix: "Nothing to fix: the connected cluster exists in the namespace; its entry appears in the cluster.",
    }
    InvalidConnection = "invalid-connection", Error, {
        summary: "A Connection's spec is incomplete or inconsistent: no type, an unknown type, or two settings that would produce the same key.",
        why: "The renderer cannot produce the settings a consumer expects.",
        example: "kind: Connection\nspec:\n  schema: {host: db}\n",
        fix: "Set `spec.type` to a Polyaxon kind, `Opaque`, or the name of a ConnectionType in the namespace.",
    }
    InlineSensitiveCredential = "inline-sensitive-credential", Error, {
        summary: "A sensitive credential (a password, token or key) is written inline in a Connection.",
        why: "The value would be committed to Git and copied into generated objects. KubeETL's webhook refuses it for the same reason.",
        example: "credentials:\n  password: {value: hunter2}\n",
        fix: "Reference a Secret key instead: `valueFrom: {secretKeyRef: {name: pg-cred, key: password}}` (the Secret itself can be a SealedSecret or an ExternalSecret).",
    }
    InvalidConnectionSchema = "invalid-connection-schema", Error, {
        summary: "A connection's `schema` breaks the rules of its type: a Polyaxon strict schema (bucket kinds, `volume_claim`, `host_path`, `registry`, `git`), a port out of range, a URL that does not parse, a required field missing.",
        why: "Polyaxon refuses the connection, or consumers get a setting they cannot use.",
        example: "type: s3\nschema: {bucket: lake, region: eu-west-1}   # Bucket has only `bucket`\n",
        fix: "Use the fields the type defines; put other settings in `credentials` (inline values that are not secret) or in the referenced ConfigMap.",
    }
    InvalidCredential = "invalid-credential", Error, {
        summary: "A credential breaks its ConnectionType's rules (KubeETL's webhook): an extra field where `allowExtraFields` is false, or an inline value outside `minLength`/`maxLength` (bytes) or not matching `regex` (RE2, unanchored).",
        why: "KubeETL's admission webhook denies the Connection, so the apply fails.",
        example: "credentials:\n  port: {value: \"99999999\"}   # maxLength: 5\n",
        fix: "Set only the type's fields (or allow extra fields on the type) and give values that meet its validation.",
    }
    MissingRequiredCredential = "missing-required-credential", Warning, {
        summary: "A Connection does not set a credential its ConnectionType marks `required: true`.",
        why: "KubeETL does not enforce `required` (the webhook lets it through), so the consumer finds out at runtime.",
        example: "fields: [{name: password, envName: PGPASSWORD, required: true}]\n# and a Connection without `password`\n",
        fix: "Set the credential, or mark the field `required: false`.",
    }
    InvalidKubeconfig = "invalid-kubeconfig", Error, {
        summary: "The kubeconfig of a Loft ClusterConnect (`spec.config`) is not usable, by client-go's rules.",
        why: "Loft cannot connect the cluster; the ClusterConnect fails after it is applied.",
        example: "current-context: prod   # no context named prod\n",
        fix: "Fix the kubeconfig as the message says (the checks are client-go's, with its messages).",
    }
    PlaintextCredentialInRepo = "plaintext-credential-in-repo", Warning, {
        summary: "A credential (the kubeconfig of a Loft ClusterConnect) is committed in plaintext.",
        why: "Anyone who can read the repository can use the credential. The rendered kubeconfig Secret carries it on, as the repository already exposes it.",
        example: "kind: ClusterConnect\nspec:\n  config: |\n    users: [{name: admin, user: {token: ...}}]\n",
        fix: "Keep the kubeconfig out of Git: create the cluster's kubeconfig Secret as a SealedSecret or ExternalSecret, and commit a Loft `Cluster` that refers to it.",
    }
    InvalidLoftCluster = "invalid-loft-cluster", Error, {
        summary: "A Loft cluster (ClusterConnect `clusterTemplate` or `Cluster`) breaks Loft's API rules: an access rule without `verbs`, or an owner with both `user` and `team`.",
        why: "Loft rejects the object.",
        example: "access:\n- users: [admin]   # no verbs\n",
        fix: "Give every access rule its `verbs` (`[\"*\"]` for all), and one owner: a user or a team.",
    }
    ConnectionScopeViolation = "connection-scope-violation", Error, {
        summary: "A workload uses a Connection whose `scopes` do not include it.",
        why: "`scopes` limit who may use a connection; using it from elsewhere is a policy breach.",
        example: "scopes: [{kind: Deployment, name: api}]   # used by CronJob report\n",
        fix: "Add the workload to the Connection's scopes, or use another Connection.",
    }
    InvalidEnvName = "invalid-env-name", Error, {
        summary: "An environment variable a connection would inject has a name the API server rejects: empty, with `=`, or with characters outside printable ASCII.",
        why: "The pod spec is refused, so the workload is not applied.",
        example: "fields:\n- {name: host, envName: \"DB=HOST\"}\n",
        fix: "Use a name such as `DB_HOST` (letters, digits and `_` work everywhere).",
    }
    InvalidVolumeName = "invalid-volume-name", Error, {
        summary: "A mounted Secret or ConfigMap would become a volume whose name is not a valid DNS-1123 label.",
        why: "Volumes are named after the Secret or ConfigMap (as Polyaxon does), and a volume name must be a DNS-1123 label: a Secret named `a.b` is valid, its volume is not.",
        example: "secret: {name: pg.cred, mountPath: /etc/pg}\n",
        fix: "Rename the Secret or ConfigMap without dots, or project it as environment variables (no `mountPath`).",
    }
    ProjectionConflict = "projection-conflict", Error, {
        summary: "Injecting a connection into a workload would clash with what the workload already has (a volume of the same name, a mount path in use).",
        why: "The pod spec would be invalid or would silently lose one of the two.",
        example: "volumes:\n- name: pg-cred   # also injected for connection warehouse\n",
        fix: "Rename the workload's own volume, or remove the duplicate from the workload.",
    }
    CaseCollision = "case-collision", Warning, {
        summary: "A volume projected into a workload would hold two files whose names differ only in upper and lower case (Secret or ConfigMap keys such as `Password` and `password`, or two entries of a service binding).",
        why: "On a case-insensitive filesystem one file replaces the other: Windows nodes mount Secret and ConfigMap volumes on NTFS, so the application reads whichever kubelet wrote last, a value nobody chose. (Render's own output files never collide this way: objects whose paths would differ only in case get their API group, then a hash, in the file name.)",
        example: "kind: Secret\nmetadata: {name: pg}\nstringData: {Password: a, password: b}   # mounted by a connection with mountPath\n",
        fix: "Rename one of the two keys, or list in the connection's `items` only the key the application reads.",
    }
    InvalidProjection = "invalid-projection", Error, {
        summary: "A workload's `connections.dev/projection` annotation has a value other than `service-binding`, or asks for a projection that cannot be applied to a connection it uses or to one of its containers.",
        why: "A misspelt value would silently fall back to environment variables, and the application would look for files that never appear. Service Binding needs a `type` entry, which only a `connections.dev` Connection's generated settings ConfigMap provides (a KubeETL or Polyaxon connection has none); and a container that sets `SERVICE_BINDING_ROOT` from `valueFrom` or with a `$(VAR)` reference leaves the tool no path to mount the bindings at.",
        example: "metadata:\n  annotations:\n    connections.dev/use: warehouse\n    connections.dev/projection: servicebinding\n",
        fix: "Write `connections.dev/projection: service-binding`, or remove the annotation to get environment variables. Bind only `connections.dev` Connections. Set `SERVICE_BINDING_ROOT` to a literal path, or leave it unset to get `/bindings`.",
    }
    InvalidBindingName = "invalid-binding-name", Error, {
        summary: "A connection projected as a service binding has a name that is not a valid binding name (`[a-z0-9\\-\\.]{1,253}`).",
        why: "The binding name is the directory under `$SERVICE_BINDING_ROOT`; the Service Binding specification restricts it so that every application and library can find it. A Polyaxon connection name may hold `_` or upper case, which the specification forbids.",
        example: "connections:\n- name: Sales_DB   # used by a workload with connections.dev/projection: service-binding\n  kind: postgres\n",
        fix: "Rename the connection with lower-case letters, digits, `-` and `.` only (at most 253 characters), and update the workload's `connections.dev/use`.",
    }
    InvalidBindingEntry = "invalid-binding-entry", Error, {
        summary: "A well-known entry of a service binding holds a value its specification forbids: `port` not an integer from 1 to 65535, `host` not a DNS name or IP address, `uri` not an RFC 3986 URI, `certificates` not a PEM X.509 chain, `private-key` not a PEM private key.",
        why: "Applications and binding libraries read these entries as the specification defines them and fail at runtime, often with a message far from the cause. Checked where the repository shows the value: a Connection's settings and inline credentials, a ConfigMap, or a Secret committed in plaintext; the message names the entry, the key and the object, never the value. A `port` or `uri` in the Connection's `schema` is reported as `invalid-connection-schema` instead.",
        example: "kind: Secret\nmetadata: {name: pg-cred}\nstringData:\n  port: \"99999\"   # projected into a binding\n",
        fix: "Correct the value at the position shown. A trailing line break is allowed; quote YAML values, keep PEM blocks whole (`-----BEGIN CERTIFICATE-----` to `-----END CERTIFICATE-----`), and percent-encode characters a URI does not allow.",
    }
    SubstitutionMarker = "substitution-marker", Info, {
        summary: "A connection value holds `${`, which Flux's post-build substitution would replace: in the generated ConfigMap and the Connection the tool opts out for you; an `env` entry is copied into workloads, where it is substituted.",
        why: "Flux substitutes `${var}` in everything a Kustomization builds, and from kustomize-controller v1.9 strict substitution fails the whole reconciliation on a variable it does not know. A password template, a shell snippet or a URL pattern in a connection would be rewritten or stop the sync. The generated ConfigMap and the rendered Connection carry `kustomize.toolkit.fluxcd.io/substitute: disabled`, Flux's per-object opt-out; the workloads that get a connection's `env` entries are yours, so they are not changed.",
        example: "kind: Connection\nspec:\n  schema:\n    options: -c search_path=${SCHEMA}\n",
        fix: "Nothing to do for settings meant literally. For an `env` entry, write `$${` to keep a literal `${` in the workload, or move the value into the connection's settings.",
    }
}

impl Check {
    /// Looks a check up by id.
    pub fn from_id(id: &str) -> Option<Check> {
        Check::ALL.iter().copied().find(|c| c.id() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_are_unique_kebab_case() {
        let mut seen = BTreeSet::new();
        for check in Check::ALL {
            let id = check.id();
            assert!(seen.insert(id), "duplicate id {id}");
            assert!(id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{id}");
            assert_eq!(Check::from_id(id), Some(*check));
            let docs = check.docs();
            assert!(!docs.why.is_empty() && !docs.example.is_empty() && !docs.fix.is_empty());
        }
    }
}

/// `docs/checks.md`: the reference of every check, generated from this table.
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# Checks\n\n<!-- Generated by `cargo xtask codegen` from crates/connections-core/src/checks.rs. Do not edit. -->\n\n\
         Every finding names one of these checks. `kubectl connections explain ID` prints the same text.\n\n\
         | id | severity | finds |\n|---|---|---|\n",
    );
    for check in Check::ALL {
        out.push_str(&format!(
            "| [`{}`](#{}) | {} | {} |\n",
            check.id(),
            check.id(),
            check.severity(),
            check.docs().summary
        ));
    }
    for check in Check::ALL {
        let docs = check.docs();
        out.push_str(&format!(
            "\n## {}\n\nSeverity: {}.\n\n{}\n\n**Why it matters.** {}\n\n**Example.**\n\n```yaml\n{}\n```\n\n**How to fix.** {}\n",
            check.id(),
            check.severity(),
            docs.summary,
            docs.why,
            docs.example.trim_end(),
            docs.fix
        ));
    }
    out
}

#[cfg(test)]
mod generated_files {
    #[test]
    fn docs_checks_md_is_fresh() {
        assert!(
            super::reference_markdown() == include_str!("../../../docs/checks.md"),
            "docs/checks.md is stale: run `cargo xtask codegen`"
        );
    }

    #[test]
    fn committed_crds_are_fresh() {
        assert!(
            crate::crd::crds_yaml() == include_str!("../../../crds/connections.yaml"),
            "crds/connections.yaml is stale: run `cargo xtask codegen`"
        );
    }
}
