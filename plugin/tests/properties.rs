//! Properties of the whole pipeline: through the library API the binary uses, and (for the
//! reports) through the binary.

use base64::Engine as _;
use connections_core::model::LowerOptions;
use connections_core::validate::Offline;
use proptest::prelude::*;
use std::path::Path;

mod common;

/// Every document of the example repository, as text.
fn example_documents() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/gitops-repo");
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    files.sort();
    files
        .iter()
        .flat_map(|f| f.split("\n---\n").map(|d| format!("{}\n", d.trim_end())).collect::<Vec<_>>())
        .filter(|d| d.contains("kind:"))
        .collect()
}

/// Loads, checks and renders a folder; returns the files render would write.
fn render(dir: &Path) -> Vec<(String, String)> {
    let mut loaded =
        connections_loader::load(dir, &connections_loader::LoadOptions::default()).unwrap();
    let documents = std::mem::take(&mut loaded.documents);
    let analysis = connections_core::analyse(documents, &LowerOptions::default(), &Offline);
    assert!(
        !analysis
            .diagnostics
            .iter()
            .any(|d| d.severity == connections_core::diagnostic::Severity::Error),
        "{:?}",
        analysis.diagnostics
    );
    connections_core::render::render(&analysis.model).0.files()
}

fn write_layout(
    dir: &Path,
    documents: &[String],
    order: &[usize],
    cuts: &[usize],
    names: &[String],
) {
    let mut file = 0;
    let mut content = String::new();
    for (i, &doc) in order.iter().enumerate() {
        if !content.is_empty() {
            content.push_str("---\n");
        }
        content.push_str(&documents[doc]);
        if cuts.contains(&i) || i + 1 == order.len() {
            let path = dir
                .join(&names[file % names.len()])
                .join(format!("{file:03}-{}.yaml", names[(file * 7) % names.len()]));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, &content).unwrap();
            content.clear();
            file += 1;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The same documents in any order, split over any files and folders, give the same bytes.
    #[test]
    fn output_does_not_depend_on_input_order(
        seed in prop::collection::vec(any::<u32>(), 64),
        cuts in prop::collection::vec(0usize..40, 0..12),
        names in prop::collection::vec("[a-z]{1,6}", 1..5),
    ) {
        let documents = example_documents();
        let baseline_dir = tempfile::tempdir().unwrap();
        let identity: Vec<usize> = (0..documents.len()).collect();
        write_layout(baseline_dir.path(), &documents, &identity, &[], &["base".to_string()]);
        let baseline = render(baseline_dir.path());
        prop_assert!(baseline.len() > 20, "the example renders {} files", baseline.len());

        let mut order = identity.clone();
        order.sort_by_key(|&i| seed[i % seed.len()].wrapping_mul(i as u32 + 1));
        let shuffled_dir = tempfile::tempdir().unwrap();
        write_layout(shuffled_dir.path(), &documents, &order, &cuts, &names);
        prop_assert_eq!(render(shuffled_dir.path()), baseline);
    }
}

/// A repository of `n` connections with ConfigMaps, Secrets, Deployments that use them and
/// KubeDirector clusters, plus a dangling Secret reference every 7th connection and a use of a
/// missing connection every 11th Deployment (so that there are findings of the reference and
/// the per-object checks to compare too).
fn generated_documents(n: usize) -> Vec<connections_core::syntax::Document> {
    let mut sources = connections_core::source::SourceMap::default();
    let mut documents = Vec::new();
    for i in 0..n {
        let ns = format!("ns-{}", i % 3);
        let secret = if i % 7 == 0 { format!("missing-{i}") } else { format!("conn-{i}-cred") };
        let uses = if i % 11 == 0 { format!("conn-{i}, absent-{i}") } else { format!("conn-{i}") };
        let text = format!(
            "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {{name: conn-{i}, namespace: {ns}}}\nspec:\n  type: postgres\n  schema: {{host: pg-{i}, port: 5432}}\n  secret: {{name: {secret}, items: [password]}}\n  configMap: {{name: conn-{i}-settings}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: conn-{i}-settings\n  namespace: {ns}\n  labels: {{kubedirector.hpe.com/cmType: warehouse}}\ndata: {{pool: \"{i}\"}}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: conn-{i}-cred\n  namespace: {ns}\n  labels: {{kubedirector.hpe.com/secretType: cred}}\nstringData: {{password: pw-{i}}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: {ns}\n  annotations: {{connections.dev/use: \"{uses}\"}}\nspec:\n  selector: {{matchLabels: {{app: a{i}}}}}\n  template:\n    metadata: {{labels: {{app: a{i}}}}}\n    spec:\n      containers: [{{name: main, image: app:1}}]\n"
        );
        let (docs, _) = connections_loader::load_text(&mut sources, &format!("c{i}.yaml"), &text);
        documents.extend(docs);
        if i % 10 == 9 {
            let members: Vec<String> = (i - 9..=i).map(|m| format!("conn-{m}-cred")).collect();
            let text = format!(
                "apiVersion: kubedirector.hpe.com/v1beta1\nkind: KubeDirectorCluster\nmetadata: {{name: kd-{i}, namespace: ns-{}}}\nspec:\n  app: notebook\n  connections:\n    secrets: [{}]\n",
                i % 3,
                members.join(", ")
            );
            let (docs, _) =
                connections_loader::load_text(&mut sources, &format!("kd{i}.yaml"), &text);
            documents.extend(docs);
        }
    }
    documents
}

/// Lowering, checking, rendering and the findings-only render give the same result, in the
/// same order, on one thread and on several (the inputs are large enough to be split).
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let run = |threads: usize| {
        let analysis = connections_core::analyse_with(
            generated_documents(400),
            &LowerOptions::default(),
            &Offline,
            threads,
        );
        let (plan, found) = connections_core::render::render_with(&analysis.model, threads);
        let findings = connections_core::render::findings_with(&analysis.model, threads);
        // Unsorted: lowering and the checks keep model order whatever the thread count.
        (format!("{:?}", analysis.diagnostics), plan, format!("{found:?}"), format!("{findings:?}"))
    };
    let serial = run(1);
    assert!(serial.0.contains("missing-7"), "the dangling references are found");
    assert!(serial.0.contains("absent-11"), "the dangling connection uses are found");
    assert!(serial.1.objects.len() > 1000, "{} objects", serial.1.objects.len());
    assert_eq!(serial.1.extra_files.len(), 40, "one configmeta file per KubeDirector cluster");
    for threads in [2, 3, 8] {
        let parallel = run(threads);
        assert_eq!(parallel.0, serial.0, "diagnostics, {threads} threads");
        assert!(parallel.1 == serial.1, "plan, {threads} threads");
        assert_eq!(parallel.2, serial.2, "render findings, {threads} threads");
        assert_eq!(parallel.3, serial.3, "findings, {threads} threads");
    }
}

/// The fast reader of plain block YAML (`yaml_subset`) gives saphyr's events for every file of
/// the fixtures and examples that it takes, and it takes most of them.
#[test]
fn subset_reader_agrees_with_saphyr_on_every_committed_file() {
    let mut stack = vec![workspace_path("fixtures"), workspace_path("examples")];
    let (mut files, mut taken) = (0, 0);
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json") {
                let Ok(text) = std::fs::read_to_string(&path) else { continue };
                files += 1;
                match connections_core::yaml_subset::check_against_saphyr(&text) {
                    Ok(true) => taken += 1,
                    Ok(false) => {}
                    Err(difference) => panic!("{}: {difference}", path.display()),
                }
            }
        }
    }
    assert!(files > 200, "only {files} files found");
    assert!(taken * 2 > files, "the subset reader took only {taken} of {files} files");
}

fn workspace_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

/// How a connection's Secret (or ConfigMap) reaches the workload.
#[derive(Clone, Copy, Debug)]
enum Projection {
    /// `envFrom` (no items, no mount).
    EnvFrom,
    /// One env var per item.
    Items,
    /// A read-only volume.
    Mount,
}

/// How a Secret is committed.
#[derive(Clone, Copy, Debug)]
enum SecretForm {
    StringData,
    Data,
    Sealed,
}

/// Which kind of input declares a connection.
#[derive(Clone, Copy, Debug)]
enum Flavour {
    /// `connections.dev/v1alpha1` Connection.
    Dev,
    /// KubeETL's `etl.dataworkz.nl/v1alpha1` Connection, with its ConnectionType.
    KubeEtl,
    /// A connection of a Polyaxon agent config (in the default namespace).
    Polyaxon,
}

#[derive(Clone, Debug)]
struct ConnectionSpec {
    flavour: Flavour,
    kind: usize,
    namespace: usize,
    secret: Option<(Projection, SecretForm)>,
    config_map: Option<Projection>,
    inline_username: bool,
    password_from_secret: bool,
}

#[derive(Clone, Debug)]
struct WorkloadSpec {
    kind: usize,
    namespace: usize,
    uses: Vec<usize>,
    containers: usize,
    service_binding: bool,
}

#[derive(Clone, Debug)]
struct RepoSpec {
    connections: Vec<ConnectionSpec>,
    workloads: Vec<WorkloadSpec>,
    kubedirector: bool,
    loft: bool,
    files: usize,
}

/// Connection types, with a schema each accepts.
const TYPES: &[(&str, &str)] = &[
    ("postgres", "{host: pg.example.svc, port: 5432, database: app}"),
    ("redis", "{host: redis.example.svc, port: 6379}"),
    ("s3", "{bucket: \"s3://lake\"}"),
    ("git", "{url: \"https://git.example.com/app.git\"}"),
    ("http", "{url: \"https://api.example.com/v1\"}"),
    ("registry", "{url: registry.example.com}"),
];
const NAMESPACES: &[&str] = &["default", "team-a"];

fn projection() -> impl Strategy<Value = Projection> {
    prop_oneof![Just(Projection::EnvFrom), Just(Projection::Items), Just(Projection::Mount)]
}

fn connection_spec() -> impl Strategy<Value = ConnectionSpec> {
    (
        prop_oneof![Just(Flavour::Dev), Just(Flavour::KubeEtl), Just(Flavour::Polyaxon)],
        0..TYPES.len(),
        0..NAMESPACES.len(),
        prop::option::of((
            projection(),
            prop_oneof![
                Just(SecretForm::StringData),
                Just(SecretForm::Data),
                Just(SecretForm::Sealed)
            ],
        )),
        prop::option::of(projection()),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(flavour, kind, namespace, secret, config_map, inline_username, password)| {
                ConnectionSpec {
                    flavour,
                    kind,
                    // Polyaxon's connections live in the namespace the run defaults to.
                    namespace: if matches!(flavour, Flavour::Polyaxon) { 0 } else { namespace },
                    secret,
                    config_map,
                    inline_username,
                    password_from_secret: password && secret.is_some(),
                }
            },
        )
}

fn repo_spec() -> impl Strategy<Value = RepoSpec> {
    prop::collection::vec(connection_spec(), 1..6).prop_flat_map(|connections| {
        let n = connections.len();
        let workload = (
            0..4usize,
            0..NAMESPACES.len(),
            prop::collection::vec(0..n, 0..4),
            1..3usize,
            any::<bool>(),
        );
        (
            Just(connections),
            prop::collection::vec(workload, 0..4),
            any::<bool>(),
            any::<bool>(),
            1..4usize,
        )
            .prop_map(|(connections, workloads, kubedirector, loft, files)| {
                let workloads = workloads
                    .into_iter()
                    .map(|(kind, namespace, uses, containers, binding)| {
                        // A workload uses connections of its own namespace, each once.
                        let mut uses: Vec<usize> = uses
                            .into_iter()
                            .filter(|&c| connections[c].namespace == namespace)
                            .collect();
                        uses.sort_unstable();
                        uses.dedup();
                        // Service Binding takes `connections.dev` Connections only.
                        let service_binding = binding
                            && !uses.is_empty()
                            && uses.iter().all(|&c| matches!(connections[c].flavour, Flavour::Dev));
                        WorkloadSpec { kind, namespace, uses, containers, service_binding }
                    })
                    .collect();
                RepoSpec { connections, workloads, kubedirector, loft, files }
            })
    })
}

/// `items`, `mountPath` and the rest of a resource reference.
fn resource_ref(name: &str, keys: &[String], projection: Projection, mount: &str) -> String {
    match projection {
        Projection::EnvFrom => format!("{{name: {name}}}"),
        Projection::Items => format!("{{name: {name}, items: [{}]}}", keys.join(", ")),
        Projection::Mount => format!("{{name: {name}, mountPath: {mount}}}"),
    }
}

/// The documents of a generated repository, spread over `spec.files` files.
fn repository_files(spec: &RepoSpec) -> Vec<(String, String)> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut documents: Vec<String> = Vec::new();
    let mut polyaxon: Vec<String> = Vec::new();
    let mut kubedirector_secrets: Vec<Vec<String>> = vec![Vec::new(); NAMESPACES.len()];
    for (i, c) in spec.connections.iter().enumerate() {
        let ns = NAMESPACES[c.namespace];
        let (kind, schema) = TYPES[c.kind];
        let name = format!("c{i}");
        let secret = format!("c{i}-cred");
        let settings = format!("c{i}-settings");
        let secret_keys = vec![format!("C{i}_USER"), format!("C{i}_PASSWORD")];
        let settings_keys = vec![format!("C{i}_POOL")];
        let mut refs = String::new();
        if let Some((projection, form)) = c.secret {
            let mount = format!("/etc/conn/{name}/secret");
            refs.push_str(&format!(
                "  secret: {}\n",
                resource_ref(&secret, &secret_keys, projection, &mount)
            ));
            documents.push(match form {
                SecretForm::StringData => {
                    kubedirector_secrets[c.namespace].push(secret.clone());
                    format!(
                        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {secret}\n  namespace: {ns}\n  labels: {{kubedirector.hpe.com/secretType: cred}}\nstringData: {{C{i}_USER: user-{i}, C{i}_PASSWORD: \"pw {i}\"}}\n"
                    )
                }
                SecretForm::Data => format!(
                    "apiVersion: v1\nkind: Secret\nmetadata: {{name: {secret}, namespace: {ns}}}\ntype: Opaque\ndata:\n  C{i}_USER: {}\n  C{i}_PASSWORD: {}\n",
                    b64(&format!("user-{i}")),
                    b64(&format!("pw-{i}"))
                ),
                SecretForm::Sealed => format!(
                    "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {{name: {secret}, namespace: {ns}}}\nspec:\n  encryptedData: {{C{i}_USER: AgB0aGlzIGlzIG5vdCByZWFsbHk=, C{i}_PASSWORD: AgB0aGlzIGlzIG5vdCByZWFsbHk=}}\n"
                ),
            });
        }
        if let Some(projection) = c.config_map {
            let mount = format!("/etc/conn/{name}/settings");
            refs.push_str(&format!(
                "  configMap: {}\n",
                resource_ref(&settings, &settings_keys, projection, &mount)
            ));
            documents.push(format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {settings}, namespace: {ns}}}\ndata: {{C{i}_POOL: \"{i}\"}}\n"
            ));
        }
        match c.flavour {
            Flavour::Dev => {
                let mut credentials = String::new();
                if c.inline_username {
                    credentials.push_str(&format!("    username: {{value: app-{i}}}\n"));
                }
                if c.password_from_secret {
                    credentials.push_str(&format!(
                        "    password: {{valueFrom: {{secretKeyRef: {{name: {secret}, key: C{i}_PASSWORD}}}}}}\n"
                    ));
                }
                if !credentials.is_empty() {
                    credentials.insert_str(0, "  credentials:\n");
                }
                documents.push(format!(
                    "apiVersion: connections.dev/v1alpha1\nkind: Connection\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  type: {kind}\n  schema: {schema}\n{refs}{credentials}"
                ));
            }
            Flavour::KubeEtl => {
                let type_name = format!("t{i}");
                documents.push(format!(
                    "apiVersion: etl.dataworkz.nl/v1alpha1\nkind: ConnectionType\nmetadata: {{name: {type_name}, namespace: {ns}}}\nspec:\n  allowExtraFields: true\n  fields:\n  - {{name: host, envName: C{i}_HOST, required: true}}\n  - {{name: password, envName: C{i}_SECRET, sensitive: true}}\n"
                ));
                let password = if c.password_from_secret {
                    format!(
                        "    password: {{valueFrom: {{secretKeyRef: {{name: {secret}, key: C{i}_PASSWORD}}}}}}\n"
                    )
                } else {
                    String::new()
                };
                documents.push(format!(
                    "apiVersion: etl.dataworkz.nl/v1alpha1\nkind: Connection\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  type: {type_name}\n  credentials:\n    host: {{value: host-{i}.example.svc}}\n{password}"
                ));
            }
            Flavour::Polyaxon => {
                let mut entry = format!("- name: {name}\n  kind: {kind}\n  schema: {schema}\n");
                entry.push_str(&refs);
                polyaxon.push(entry);
            }
        }
    }
    if !polyaxon.is_empty() {
        documents.push(format!("connections:\n{}", polyaxon.concat()));
    }
    const WORKLOADS: &[(&str, &str)] = &[
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
    ];
    for (w, workload) in spec.workloads.iter().enumerate() {
        let (api_version, kind) = WORKLOADS[workload.kind];
        let ns = NAMESPACES[workload.namespace];
        let uses: Vec<String> = workload.uses.iter().map(|c| format!("c{c}")).collect();
        let mut annotations = String::new();
        if !uses.is_empty() {
            annotations.push_str(&format!("    connections.dev/use: \"{}\"\n", uses.join(", ")));
        }
        if workload.service_binding {
            annotations.push_str("    connections.dev/projection: service-binding\n");
        }
        if !annotations.is_empty() {
            annotations.insert_str(0, "  annotations:\n");
        }
        let containers: String = (0..workload.containers)
            .map(|c| format!("      - {{name: main-{c}, image: \"ghcr.io/acme/app:{c}.0\"}}\n"))
            .collect();
        let pod =
            format!("    spec:\n      restartPolicy: OnFailure\n      containers:\n{containers}");
        let body = match kind {
            "Deployment" | "StatefulSet" => format!(
                "spec:\n  selector: {{matchLabels: {{app: w{w}}}}}\n  template:\n    metadata: {{labels: {{app: w{w}}}}}\n{}",
                pod.replace("restartPolicy: OnFailure", "restartPolicy: Always")
            ),
            "Job" => format!("spec:\n  template:\n{pod}"),
            _ => format!(
                "spec:\n  schedule: \"@daily\"\n  jobTemplate:\n    spec:\n      template:\n{}",
                pod.lines().map(|l| format!("    {l}\n")).collect::<String>()
            ),
        };
        documents.push(format!(
            "apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: w{w}\n  namespace: {ns}\n{annotations}{body}"
        ));
    }
    if spec.kubedirector {
        for (n, secrets) in kubedirector_secrets.iter().enumerate().filter(|(_, s)| !s.is_empty()) {
            documents.push(format!(
                "apiVersion: kubedirector.hpe.com/v1beta1\nkind: KubeDirectorCluster\nmetadata: {{name: notebook, namespace: {}}}\nspec:\n  app: jupyter-notebook\n  connections: {{secrets: [{}]}}\n  roles:\n  - {{id: controller, members: 1}}\n",
                NAMESPACES[n],
                secrets.join(", ")
            ));
        }
    }
    if spec.loft {
        documents.push("apiVersion: management.loft.sh/v1\nkind: ClusterConnect\nmetadata: {name: prod-eu}\nspec:\n  adminUser: alice\n  config: |\n    apiVersion: v1\n    kind: Config\n    current-context: default\n    clusters:\n    - {name: default, cluster: {server: \"https://prod-eu.example.com:6443\"}}\n    users:\n    - {name: default, user: {token: not-a-real-token}}\n    contexts:\n    - {name: default, context: {cluster: default, user: default}}\n".to_string());
    }
    let mut files = vec![String::new(); spec.files];
    for (d, document) in documents.iter().enumerate() {
        let file = &mut files[d % spec.files];
        if !file.is_empty() {
            file.push_str("---\n");
        }
        file.push_str(document);
    }
    files
        .into_iter()
        .enumerate()
        .filter(|(_, text)| !text.is_empty())
        .map(|(f, text)| (format!("dir-{}/file-{f}.yaml", f % 2), text))
        .collect()
}

fn write_files(dir: &Path, files: &[(String, String)]) {
    for (path, content) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Rendering the rendered output again changes nothing, over generated repositories:
    /// every kind of connection, Secrets committed each way, workloads that use them with
    /// either projection, KubeDirector clusters, Loft clusters and Polyaxon agent configs
    /// (which render copies into `_polyaxon/` for exactly this).
    #[test]
    fn rendering_rendered_output_changes_nothing(spec in repo_spec()) {
        let input = tempfile::tempdir().unwrap();
        write_files(input.path(), &repository_files(&spec));
        let first = render(input.path());
        let rendered = tempfile::tempdir().unwrap();
        // The output as input, without the kustomization (which lists it).
        let files: Vec<(String, String)> =
            first.iter().filter(|(p, _)| p != "kustomization.yaml").cloned().collect();
        write_files(rendered.path(), &files);
        let second = render(rendered.path());
        prop_assert_eq!(second, first);
    }
}

/// One way to break a repository.
#[derive(Clone, Debug)]
enum Damage {
    /// Cut the file at a fraction (in thousandths) of its length: broken YAML, lost keys.
    Truncate(usize),
    /// Insert a line at a fraction (in thousandths) of the file's lines.
    Insert(usize, &'static str),
    /// Write a line twice (a duplicate key, most of the time).
    Duplicate(usize),
    /// Misspell a name wherever it appears after `name: ` or in a `use` list: a reference
    /// that points nowhere, or an object nobody references.
    Rename(usize),
    /// Replace the value after the n-th `: ` with a list or a mapping: a wrong type.
    Retype(usize, &'static str),
    /// Turn the file's line ends into CRLF.
    Crlf,
}

/// Lines that break a file where they land.
const INSERTED: &[&str] = &[
    "  bad: [unclosed",
    "\tkey: a tab",
    "metadata: {name: again}",
    "spec: 5",
    "- a list item where a key belongs",
    "  \"unterminated: string",
    "kind: 7",
    "apiVersion: [v1]",
    "  data: {k: *unknown}",
    "---",
    "--- !!binary 3",
    "  ? [complex, key]\n  : value",
    "  <<: not-a-mapping",
];

const RETYPED: &[&str] = &["[1, 2]", "{a: b}", "null", "\"\"", "-1", "on", "0x1F"];

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0..1000usize).prop_map(Damage::Truncate),
        (0..1000usize, prop::sample::select(INSERTED)).prop_map(|(at, l)| Damage::Insert(at, l)),
        (0..1000usize).prop_map(Damage::Duplicate),
        (0..1000usize).prop_map(Damage::Rename),
        (0..1000usize, prop::sample::select(RETYPED)).prop_map(|(at, v)| Damage::Retype(at, v)),
        Just(Damage::Crlf),
    ]
}

fn apply(damage: &Damage, text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let line_at = |thousandths: usize| thousandths * lines.len() / 1000;
    match damage {
        Damage::Truncate(at) => {
            let mut cut = at * text.len() / 1000;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text[..cut].to_string()
        }
        Damage::Insert(at, line) => {
            let mut lines = lines.clone();
            lines.insert(line_at(*at), line);
            lines.join("\n") + "\n"
        }
        Damage::Duplicate(at) => {
            let mut lines = lines.clone();
            if let Some(&line) = lines.get(line_at(*at)) {
                lines.insert(line_at(*at), line);
            }
            lines.join("\n") + "\n"
        }
        Damage::Rename(at) => {
            let names: Vec<&str> = text
                .split("name: ")
                .skip(1)
                .filter_map(|rest| rest.split([',', '}', '\n']).next())
                .filter(|n| !n.is_empty())
                .collect();
            match names.get(at * names.len() / 1000) {
                // The first occurrence only: a declaration or a reference, not both.
                Some(name) => text.replacen(&format!("name: {name}"), &format!("name: {name}x"), 1),
                None => text.to_string(),
            }
        }
        Damage::Retype(at, value) => {
            let colons: Vec<usize> = text.match_indices(": ").map(|(i, _)| i).collect();
            match colons.get(at * colons.len() / 1000) {
                Some(&i) => {
                    let start = i + 2;
                    let end =
                        text[start..].find(['\n', ',', '}']).map_or(text.len(), |e| start + e);
                    format!("{}{value}{}", &text[..start], &text[end..])
                }
                None => text.to_string(),
            }
        }
        Damage::Crlf => text.replace('\n', "\r\n"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever the damage (broken YAML, wrong types, references to nothing, duplicate keys),
    /// `validate --output-format json` prints a report that parses, and every finding in it
    /// has a file of the repository and a line and column inside that file.
    #[test]
    fn json_report_parses_and_locates_every_finding(
        spec in repo_spec(),
        damages in prop::collection::vec((any::<prop::sample::Index>(), damage()), 1..4),
    ) {
        let mut files = repository_files(&spec);
        for (file, damage) in &damages {
            let file = file.index(files.len());
            files[file].1 = apply(damage, &files[file].1);
        }
        let repo = tempfile::tempdir().unwrap();
        write_files(repo.path(), &files);
        let out = common::run_in(repo.path(), &["validate", ".", "--output-format", "json"]);
        let stderr = common::text(&out.stderr);
        prop_assert!(matches!(out.status.code(), Some(0..=2)), "exit {:?}: {}", out.status, stderr);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {}", common::text(&out.stdout))))?;
        let diagnostics = report["diagnostics"].as_array().unwrap();
        for d in diagnostics {
            let file = d["file"].as_str().unwrap_or_default();
            let text = files.iter().find(|(p, _)| p == file).map(|(_, t)| t);
            prop_assert!(text.is_some(), "a finding outside the repository's files: {}", d);
            // Lines as YAML breaks them: LF, CR LF, and a lone CR (CRLF twice leaves CR CR LF).
            let lines = text.unwrap().replace("\r\n", "\n").split(['\n', '\r']).count() as u64;
            let (line, column) = (d["line"].as_u64().unwrap_or(0), d["column"].as_u64().unwrap_or(0));
            prop_assert!(line >= 1 && line <= lines && column >= 1, "{} (the file has {} lines)", d, lines);
        }
        let errors = report["summary"]["errors"].as_u64().unwrap();
        prop_assert_eq!(
            errors as usize,
            diagnostics.iter().filter(|d| d["severity"] == "error").count()
        );
    }
}
