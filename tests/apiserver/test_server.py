#!/usr/bin/env python3
"""
Self-test of the test API server (server.py) with the real kubectl.

Run: python3 tests/apiserver/test_server.py   (exit 0 on success; non-zero with a message)

It starts the server twice (plain HTTP, then --tls) in a temporary folder, drives it with
`kubectl --validate=false --cache-dir <tmp>` and checks the results.
Needs: kubectl on PATH (or $KUBECTL), and `pip install -r tests/apiserver/requirements.txt`.
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
SERVER = HERE / 'server.py'
CONNECTIONS_CRDS = REPO / 'crds' / 'connections.yaml'
EXTRA_CRDS = HERE / 'crds'
# NB: plain `connections` is also the CRDs' category, which kubectl expands first (to both kinds).
CONN = 'connections.connections.dev'
KUBECTL = os.environ.get('KUBECTL') or shutil.which('kubectl') or '/usr/bin/kubectl'

PASSED: list[str] = []


class TestFailure(Exception):
    pass


def check(condition: Any, message: str) -> None:
    if not condition:
        raise TestFailure(message)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Server:
    def __init__(self, workdir: pathlib.Path, tls: bool) -> None:
        self.tls = tls
        self.state = workdir / ('state-tls' if tls else 'state-http')
        self.cache = workdir / ('cache-tls' if tls else 'cache-http')
        self.manifests = workdir / 'manifests'
        self.manifests.mkdir(exist_ok=True)
        self.log = open(workdir / ('server-tls.log' if tls else 'server-http.log'), 'w+')
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> 'Server':
        args = [sys.executable, str(SERVER), '--port', '0', '--state-dir', str(self.state)]
        if self.tls:
            args.insert(2, '--tls')
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while not (self.state / 'port').exists():
            if self.proc.poll() is not None:
                raise TestFailure(f'server exited early with {self.proc.returncode}:\n{self.server_log()}')
            if time.monotonic() > deadline:
                raise TestFailure(f'server did not write {self.state / "port"} within 15s:\n{self.server_log()}')
            time.sleep(0.05)
        self.port = int((self.state / 'port').read_text().strip())
        self.kubeconfig = self.state / 'kubeconfig'
        self.base = f'{"https" if self.tls else "http"}://127.0.0.1:{self.port}'
        self.token = (self.state / 'token').read_text().strip()
        self.ssl = ssl.create_default_context(cafile=str(self.state / 'ca.crt')) if self.tls else None
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop(check_exit=exc[0] is None)

    def stop(self, check_exit: bool = True) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure('server did not exit within 10s of SIGTERM')
        if check_exit:
            check(code == 0, f'server exited with {code} on SIGTERM (expected 0):\n{self.server_log()}')

    def server_log(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-4000:]

    # --- clients ---

    def kubectl(self, *args: str, ok: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        cmd = [KUBECTL, '--kubeconfig', str(self.kubeconfig), '--cache-dir', str(self.cache), *args]
        res = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=30)
        if ok and res.returncode != 0:
            raise TestFailure(f'`kubectl {" ".join(args)}` failed with {res.returncode}:\n'
                              f'{res.stdout}\n{res.stderr}')
        return res

    def kjson(self, *args: str) -> Any:
        return json.loads(self.kubectl(*args, '-o', 'json').stdout)

    def apply(self, name: str, text: str, *extra: str) -> str:
        path = self.manifests / name
        path.write_text(text)
        return self.kubectl('apply', '--validate=false', '-f', str(path), *extra).stdout

    def http(self, method: str, path: str, body: Any = None, token: bool = True,
             content_type: str = 'application/json') -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header('Content-Type', content_type)
        if token:
            req.add_header('Authorization', f'Bearer {self.token}')
        try:
            with urllib.request.urlopen(req, context=self.ssl, timeout=15) as resp:
                raw = resp.read()
                code = resp.status
        except urllib.error.HTTPError as e:
            raw, code = e.read(), e.code
        try:
            return code, json.loads(raw) if raw else None
        except ValueError:
            return code, raw.decode(errors='replace')

    def requests(self) -> list[dict[str, Any]]:
        return self.http('GET', '/_test/requests')[1]

    def reset_requests(self) -> None:
        self.http('POST', '/_test/requests/reset')

    def fault(self, **spec: Any) -> None:
        code, body = self.http('POST', '/_test/faults', spec)
        check(code == 200, f'POST /_test/faults {spec} answered {code}: {body}')


def step(name: str) -> None:
    PASSED.append(name)
    print(f'  ok  {name}', flush=True)


# ---------------------------------------------------------------------------------------------

BASE_MANIFESTS = """\
apiVersion: v1
kind: Namespace
metadata:
  name: apps
  labels: {team: data}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: apps
  labels: {tier: backend, app: settings}
data:
  mode: fast
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: other
  namespace: default
  labels: {tier: frontend}
data:
  x: "1"
---
apiVersion: v1
kind: Secret
metadata:
  name: with-data
  namespace: apps
type: Opaque
data:
  user: YWRtaW4=
---
apiVersion: v1
kind: Secret
metadata:
  name: with-string-data
  namespace: apps
data:
  user: YWRtaW4=
stringData:
  password: hunter2
  url: postgres://db:5432/app
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
  labels: {app: web, tier: backend}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports: [{containerPort: 80}]
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
      - name: sidecar
        image: busybox:1.36
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
  namespace: apps
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: job, image: busybox:1.36, args: [echo, hi]}]
"""

CUSTOM_RESOURCES = """\
apiVersion: connections.dev/v1alpha1
kind: ConnectionType
metadata: {name: postgres, namespace: apps}
spec:
  fields:
  - {name: host, envName: PGHOST}
  - {name: password, envName: PGPASSWORD, sensitive: true}
---
apiVersion: connections.dev/v1alpha1
kind: Connection
metadata:
  name: db
  namespace: apps
  labels: {env: prod}
spec:
  type: postgres
---
apiVersion: connections.dev/v1alpha1
kind: Connection
metadata:
  name: cache
  namespace: default
  labels: {env: dev}
spec:
  type: redis
---
apiVersion: kubedirector.hpe.com/v1beta1
kind: KubeDirectorCluster
metadata: {name: notebook, namespace: apps, labels: {env: prod}}
spec:
  app: jupyter-notebook
  roles:
  - {id: controller, members: 1}
---
apiVersion: storage.loft.sh/v1
kind: Cluster
metadata:
  name: prod-eu
  labels: {env: prod}
spec:
  config: {secretName: prod-eu-kubeconfig, secretNamespace: loft, key: config}
---
apiVersion: storage.loft.sh/v1
kind: Cluster
metadata:
  name: dev-us
  labels: {env: dev}
spec:
  config: {secretName: dev-us-kubeconfig, secretNamespace: loft, key: config}
"""


def names(items: list[dict[str, Any]]) -> list[str]:
    return sorted(i['metadata']['name'] for i in items)


def test_http(s: Server) -> None:
    kc = s.kubeconfig.read_text()
    for needle in ('name: test', 'current-context: test', 'token: ', f'server: http://127.0.0.1:{s.port}'):
        check(needle in kc, f'kubeconfig lacks {needle!r}:\n{kc}')
    step('kubeconfig written (cluster/user/context "test", bearer token), port file written last')

    ns = s.kjson('get', 'namespaces')
    check('default' in names(ns['items']), f'no default namespace: {names(ns["items"])}')
    code, api_v1 = s.http('GET', '/api/v1')
    check(code == 200 and api_v1.get('groupVersion') == 'v1', f'/api/v1 discovery: {code} {str(api_v1)[:200]}')
    step('kubectl get namespaces; core discovery groupVersion is "v1"')

    raw = json.loads(s.kubectl('get', '--raw', '/api/v1/namespaces/default/configmaps').stdout)
    check(raw.get('kind') == 'ConfigMapList' and raw.get('apiVersion') == 'v1', f'raw list: {raw}')
    check(raw.get('metadata', {}).get('resourceVersion'), f'raw list lacks metadata.resourceVersion: {raw}')
    check(isinstance(raw.get('items'), list), f'raw list lacks items: {raw}')
    step('get --raw /api/v1/namespaces/default/configmaps is a ConfigMapList with resourceVersion')

    out = s.apply('base.yaml', BASE_MANIFESTS)
    for what in ('namespace/apps created', 'configmap/settings created', 'secret/with-data created',
                 'secret/with-string-data created', 'deployment.apps/web created', 'cronjob.batch/nightly created'):
        check(what in out, f'kubectl apply output lacks {what!r}:\n{out}')
    step('kubectl apply (create): Namespace, ConfigMap, Secret (data, stringData), Deployment, CronJob')

    cm = s.kjson('get', 'configmap', 'settings', '-n', 'apps')
    meta = cm['metadata']
    check(meta.get('uid') and meta.get('resourceVersion') and meta.get('creationTimestamp'),
          f'metadata not filled in: {meta}')
    check(cm['data'] == {'mode': 'fast'}, f'configmap data: {cm["data"]}')
    secret = s.kjson('get', 'secret', 'with-string-data', '-n', 'apps')
    check('stringData' not in secret, f'stringData was stored: {secret}')
    check(secret['data'] == {'user': 'YWRtaW4=', 'password': b64('hunter2'), 'url': b64('postgres://db:5432/app')},
          f'stringData not folded into data: {secret["data"]}')
    plain = s.kjson('get', 'secret', 'with-data', '-n', 'apps')
    check(plain['data'] == {'user': 'YWRtaW4='} and plain['type'] == 'Opaque', f'secret: {plain}')
    yaml_out = s.kubectl('get', 'deployment', 'web', '-n', 'apps', '-o', 'yaml').stdout
    check('image: nginx:1.25' in yaml_out and 'uid:' in yaml_out, f'get -o yaml:\n{yaml_out}')
    cj = s.kjson('get', 'cronjob', 'nightly', '-n', 'apps')
    check(cj['spec']['schedule'] == '0 3 * * *', f'cronjob: {cj["spec"]}')
    step('uid/resourceVersion/creationTimestamp set; stringData folded (base64) into data; get -o yaml')

    # Update via apply: strategic merge patch keeps the untouched list items and fields.
    rv_before = meta['resourceVersion']
    changed = (BASE_MANIFESTS.replace('mode: fast', 'mode: slow').replace('nginx:1.25', 'nginx:1.26')
               .replace('value: "2"', 'value: "3"').replace('0 3 * * *', '0 4 * * *'))
    out = s.apply('base.yaml', changed)
    for what in ('configmap/settings configured', 'deployment.apps/web configured', 'cronjob.batch/nightly configured',
                 'namespace/apps unchanged'):
        check(what in out, f'kubectl apply (update) output lacks {what!r}:\n{out}')
    cm2 = s.kjson('get', 'configmap', 'settings', '-n', 'apps')
    check(cm2['data'] == {'mode': 'slow'}, f'configmap not updated: {cm2["data"]}')
    check(cm2['metadata']['uid'] == meta['uid'], 'uid changed on update')
    check(int(cm2['metadata']['resourceVersion']) > int(rv_before), 'resourceVersion did not grow on update')
    check(cm2['metadata']['creationTimestamp'] == meta['creationTimestamp'], 'creationTimestamp changed')
    dep = s.kjson('get', 'deployment', 'web', '-n', 'apps')
    containers = dep['spec']['template']['spec']['containers']
    check([c['name'] for c in containers] == ['web', 'sidecar'], f'containers: {containers}')
    check(containers[0]['image'] == 'nginx:1.26' and containers[0]['ports'] == [{'containerPort': 80}]
          and containers[0]['env'] == [{'name': 'A', 'value': '1'}, {'name': 'B', 'value': '3'}],
          f'strategic merge patch went wrong: {containers[0]}')
    check(dep['metadata']['generation'] == 2, f'generation: {dep["metadata"].get("generation")}')
    check(s.kjson('get', 'cronjob', 'nightly', '-n', 'apps')['spec']['schedule'] == '0 4 * * *', 'cronjob not updated')
    out = s.apply('base.yaml', changed)
    check('configmap/settings unchanged' in out and 'deployment.apps/web unchanged' in out, f're-apply:\n{out}')
    step('kubectl apply (update): configured/unchanged, uid kept, resourceVersion grows, SMP merges lists')

    # CRDs: the resources appear in discovery and are servable.
    out = s.kubectl('apply', '--validate=false', '-f', str(CONNECTIONS_CRDS), '-f', str(EXTRA_CRDS)).stdout
    for crd in ('connections.connections.dev', 'connectiontypes.connections.dev',
                'kubedirectorclusters.kubedirector.hpe.com', 'clusters.storage.loft.sh'):
        check(f'customresourcedefinition.apiextensions.k8s.io/{crd} created' in out, f'CRD {crd}:\n{out}')
    crd = s.kjson('get', 'crd', 'connections.connections.dev')
    conds = {c['type']: c['status'] for c in crd.get('status', {}).get('conditions', [])}
    check(conds.get('Established') == 'True', f'CRD not Established: {crd.get("status")}')
    code, apis = s.http('GET', '/apis')
    groups = {g['name']: g for g in apis['groups']}
    for group, version in (('connections.dev', 'v1alpha1'), ('kubedirector.hpe.com', 'v1beta1'),
                           ('storage.loft.sh', 'v1')):
        check(group in groups and groups[group]['preferredVersion']['version'] == version,
              f'/apis lacks {group}/{version}')
    code, conn_disc = s.http('GET', '/apis/connections.dev/v1alpha1')
    res = {r['name']: r for r in conn_disc['resources']}
    check(conn_disc['groupVersion'] == 'connections.dev/v1alpha1', f'groupVersion: {conn_disc["groupVersion"]}')
    check(res.get('connections', {}).get('kind') == 'Connection' and res['connections']['namespaced'] is True,
          f'connections discovery: {res.get("connections")}')
    check('conn' in res['connections'].get('shortNames', []) and 'connections/status' in res,
          f'connections shortNames/status: {res}')
    code, loft = s.http('GET', '/apis/storage.loft.sh/v1')
    check({r['name']: r['namespaced'] for r in loft['resources']}.get('clusters') is False,
          f'loft clusters must be cluster-scoped: {loft}')
    api_res = s.kubectl('api-resources').stdout
    for needle in ('kubedirectorclusters', 'KubeDirectorCluster', 'connectiontypes', 'storage.loft.sh/v1'):
        check(needle in api_res, f'kubectl api-resources lacks {needle}:\n{api_res}')
    step('kubectl apply CRDs (connections.dev, kubedirector.hpe.com, storage.loft.sh): registered in discovery')

    out = s.apply('crs.yaml', CUSTOM_RESOURCES)
    for what in ('connectiontype.connections.dev/postgres created', 'connection.connections.dev/db created',
                 'kubedirectorcluster.kubedirector.hpe.com/notebook created', 'cluster.storage.loft.sh/prod-eu created'):
        check(what in out, f'custom resources: lacks {what!r}:\n{out}')
    conns = s.kjson('get', CONN, '-A')
    check(conns['items'] and [(i['metadata']['namespace'], i['metadata']['name']) for i in conns['items']]
          == [('apps', 'db'), ('default', 'cache')], f'get connections -A: {names(conns["items"])}')
    wide = s.kubectl('get', CONN, '-A').stdout
    check('NAMESPACE' in wide and 'postgres' in wide and 'redis' in wide, f'get connections -A table:\n{wide}')
    db = s.kjson('get', 'connection', 'db', '-n', 'apps')
    check(db['metadata'].get('uid') and db['metadata'].get('generation') == 1, f'CR metadata: {db["metadata"]}')
    clusters = s.kjson('get', 'clusters.storage.loft.sh')
    check(names(clusters['items']) == ['dev-us', 'prod-eu'], f'loft clusters: {names(clusters["items"])}')
    check('namespace' not in clusters['items'][0]['metadata'], 'cluster-scoped object got a namespace')
    kd = s.kjson('get', 'kubedirectorclusters', '-n', 'apps')
    check(names(kd['items']) == ['notebook'] and kd['items'][0]['spec']['app'] == 'jupyter-notebook', f'kd: {kd}')
    out = s.apply('crs.yaml', CUSTOM_RESOURCES)
    check(out.count('unchanged') == 6, f'custom resources re-apply should be unchanged:\n{out}')
    step('custom resources: create, get -A, get -o json, cluster-scoped Cluster, re-apply unchanged')

    # Label selectors.
    backend = s.kjson('get', 'configmaps', '-A', '-l', 'tier=backend')
    check(names(backend['items']) == ['settings'], f'-l tier=backend: {names(backend["items"])}')
    check(names(s.kjson('get', 'configmaps', '-A', '-l', 'tier!=backend')['items']) != [], 'tier!=backend empty')
    check('settings' not in names(s.kjson('get', 'configmaps', '-A', '-l', 'tier!=backend')['items']), 'tier!= matched')
    check(names(s.kjson('get', 'clusters.storage.loft.sh', '-l', 'env=prod')['items']) == ['prod-eu'], 'clusters -l')
    check(names(s.kjson('get', CONN, '-A', '-l', 'env in (dev,test)')['items']) == ['cache'], 'set-based -l')
    check(s.kjson('get', 'deployments', '-n', 'apps', '-l', 'app=nope')['items'] == [], 'non-matching -l')
    table = s.kubectl('get', 'configmaps', '-n', 'apps', '-l', 'app=settings').stdout
    check('settings' in table and 'DATA' in table, f'table output:\n{table}')
    step('kubectl get -l key=value (and !=, in (...)) filters; table output')

    # kubectl diff: server-side dry-run; must not mutate.
    before = s.kjson('get', 'connection', 'db', '-n', 'apps')
    diffed = CUSTOM_RESOURCES.replace('type: postgres', 'type: mysql')
    (s.manifests / 'crs-diff.yaml').write_text(diffed)
    res = s.kubectl('diff', '-f', str(s.manifests / 'crs-diff.yaml'), ok=False)
    check(res.returncode == 1 and '-  type: postgres' in res.stdout and '+  type: mysql' in res.stdout,
          f'kubectl diff (changed) rc={res.returncode}:\n{res.stdout}\n{res.stderr}')
    after = s.kjson('get', 'connection', 'db', '-n', 'apps')
    check(after == before, 'kubectl diff (dry-run) mutated the object')
    res = s.kubectl('diff', '-f', str(s.manifests / 'crs.yaml'), ok=False)
    check(res.returncode == 0 and res.stdout == '', f'kubectl diff (same) rc={res.returncode}:\n{res.stdout}{res.stderr}')
    new_cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: brand-new, namespace: apps}\ndata: {a: b}\n'
    (s.manifests / 'new.yaml').write_text(new_cm)
    res = s.kubectl('diff', '-f', str(s.manifests / 'new.yaml'), ok=False)
    check(res.returncode == 1 and '+  name: brand-new' in res.stdout, f'diff of a new object:\n{res.stdout}{res.stderr}')
    step('kubectl diff -f: shows changes (exit 1), no changes (exit 0), new objects; nothing mutated')

    # Dry-run never mutates.
    out = s.apply('new.yaml', new_cm, '--dry-run=server')
    check('(server dry run)' in out, f'apply --dry-run=server: {out}')
    check(s.kubectl('get', 'configmap', 'brand-new', '-n', 'apps', ok=False).returncode != 0,
          'dry-run create stored the object')
    rv = s.kjson('get', 'configmap', 'settings', '-n', 'apps')['metadata']['resourceVersion']
    s.kubectl('label', 'configmap', 'settings', '-n', 'apps', 'dry=run', '--dry-run=server')
    s.kubectl('patch', 'configmap', 'settings', '-n', 'apps', '--type', 'merge', '-p', '{"data":{"mode":"x"}}',
              '--dry-run=server')
    s.kubectl('delete', 'configmap', 'settings', '-n', 'apps', '--dry-run=server')
    cm3 = s.kjson('get', 'configmap', 'settings', '-n', 'apps')
    check(cm3['metadata']['resourceVersion'] == rv and 'dry' not in cm3['metadata']['labels']
          and cm3['data'] == {'mode': 'slow'}, f'dry-run mutated: {cm3}')
    step('dryRun=All (apply/label/patch/delete --dry-run=server) does not mutate')

    # kubectl label / patch --type merge.
    s.kubectl('label', 'configmap', 'settings', '-n', 'apps', 'owner=alice')
    s.kubectl('label', 'connection', 'db', '-n', 'apps', 'env=staging', '--overwrite')
    s.kubectl('label', 'clusters.storage.loft.sh', 'prod-eu', 'tier=gold')
    check(s.kjson('get', 'configmap', 'settings', '-n', 'apps')['metadata']['labels']
          == {'tier': 'backend', 'app': 'settings', 'owner': 'alice'}, 'label on configmap')
    check(names(s.kjson('get', CONN, '-A', '-l', 'env=staging')['items']) == ['db'], 'label --overwrite')
    check(names(s.kjson('get', 'clusters.storage.loft.sh', '-l', 'tier=gold')['items']) == ['prod-eu'], 'cluster label')
    s.kubectl('label', 'configmap', 'settings', '-n', 'apps', 'owner-')
    check('owner' not in s.kjson('get', 'configmap', 'settings', '-n', 'apps')['metadata']['labels'], 'label removal')
    s.kubectl('patch', 'connection', 'db', '-n', 'apps', '--type', 'merge',
              '-p', '{"spec":{"type":"mysql","description":"main db"}}')
    db2 = s.kjson('get', 'connection', 'db', '-n', 'apps')
    check(db2['spec'] == {'type': 'mysql', 'description': 'main db'}, f'merge patch on CR: {db2["spec"]}')
    check(db2['metadata']['generation'] == 2, f'CR generation after spec patch: {db2["metadata"]}')
    s.kubectl('patch', 'clusters.storage.loft.sh', 'prod-eu', '--type', 'merge',
              '-p', '{"spec":{"owner":{"user":"alice"},"config":{"key":null}}}')
    c2 = s.kjson('get', 'clusters.storage.loft.sh', 'prod-eu')
    check(c2['spec'] == {'config': {'secretName': 'prod-eu-kubeconfig', 'secretNamespace': 'loft'},
                         'owner': {'user': 'alice'}}, f'merge patch (null deletes): {c2["spec"]}')
    s.kubectl('patch', 'secret', 'with-data', '-n', 'apps', '--type', 'merge', '-p', '{"stringData":{"extra":"v"}}')
    check(s.kjson('get', 'secret', 'with-data', '-n', 'apps')['data'] == {'user': 'YWRtaW4=', 'extra': b64('v')},
          'stringData in a patch must fold into data')
    s.kubectl('patch', 'configmap', 'settings', '-n', 'apps', '--type', 'json',
              '-p', '[{"op":"add","path":"/data/extra","value":"1"}]')
    check(s.kjson('get', 'configmap', 'settings', '-n', 'apps')['data'] == {'mode': 'slow', 'extra': '1'}, 'json patch')
    s.kubectl('patch', 'connection', 'db', '-n', 'apps', '--subresource=status', '--type', 'merge',
              '-p', '{"status":{"lastHealthCheck":{"healthy":true,"time":"2024-01-01T00:00:00Z"}},"spec":{"type":"x"}}')
    db3 = s.kjson('get', 'connection', 'db', '-n', 'apps')
    check(db3['status']['lastHealthCheck']['healthy'] is True and db3['spec']['type'] == 'mysql',
          f'status subresource: {db3}')
    step('kubectl label (add/overwrite/remove), patch --type merge/json, --subresource=status')

    # Request accounting.
    s.reset_requests()
    check(s.requests() == [], 'request log not empty after reset')
    s.kubectl('get', 'configmap', 'settings', '-n', 'apps', '-o', 'json')
    log = s.requests()
    hits = [e for e in log if e['method'] == 'GET' and e['path'] == '/api/v1/namespaces/apps/configmaps/settings']
    check(len(hits) == 1 and hits[0]['status'] == 200, f'request log: {log}')
    check(all(not e['path'].startswith('/_test') for e in log), f'test endpoints were logged: {log}')
    s.kubectl('get', 'configmaps', '-n', 'apps', '-l', 'tier=backend', '-o', 'json')
    lists = [e for e in s.requests() if e['path'] == '/api/v1/namespaces/apps/configmaps']
    check(len(lists) == 1 and lists[0]['query'].get('labelSelector') == 'tier=backend', f'query logged: {lists}')
    step('request log: GET /_test/requests counts, query recorded, reset works, /_test/* not counted')

    # Fault injection.
    s.fault(status=403, count=1, path='/configmaps')
    res = s.kubectl('get', 'configmaps', '-n', 'apps', ok=False)
    check(res.returncode != 0 and 'Error from server (Forbidden)' in res.stderr
          and 'configmaps is forbidden: User "test" cannot list resource "configmaps"' in res.stderr,
          f'403 fault: rc={res.returncode} {res.stderr}')
    check(s.kubectl('get', 'configmaps', '-n', 'apps').returncode == 0, 'the 403 fault outlived its count')
    s.fault(status=403, count=1)
    code, body = s.http('GET', '/api/v1/namespaces/apps/secrets/with-data')
    check(code == 403 and body['kind'] == 'Status' and body['apiVersion'] == 'v1' and body['status'] == 'Failure'
          and body['reason'] == 'Forbidden' and body['code'] == 403 and 'secrets "with-data" is forbidden' in body['message'],
          f'403 Status body: {code} {body}')
    s.fault(status=500, count=2, path='^/apis/connections.dev/v1alpha1/connections')
    for _ in range(2):
        res = s.kubectl('get', CONN, '-A', ok=False)
        check(res.returncode != 0 and 'InternalError' in res.stderr, f'500 fault: {res.stderr}')
    check(s.kubectl('get', CONN, '-A').returncode == 0, 'the 500 fault outlived its count')
    s.fault(delay_seconds=1.0, count=1, path='/api/v1/namespaces/apps/configmaps/settings')
    started = time.monotonic()
    s.kubectl('get', 'configmap', 'settings', '-n', 'apps')
    check(time.monotonic() - started >= 1.0, 'delay fault did not delay')
    code, faults = s.http('GET', '/_test/faults')
    check(faults == [], f'faults left over: {faults}')
    s.fault(status=401, count=1)
    res = s.kubectl('get', 'namespaces', ok=False)
    check(res.returncode != 0 and 'Unauthorized' in res.stderr, f'401 fault: {res.stderr}')
    s.http('POST', '/_test/faults/reset')
    step('faults: 403 (kubectl shows Forbidden, Status body), 500 x2, delay, 401')

    # Optimistic concurrency and watch (over plain HTTP, as kube-rs would).
    cm = s.http('GET', '/api/v1/namespaces/apps/configmaps/settings')[1]
    stale = json.loads(json.dumps(cm))
    cm['data']['mode'] = 'put'
    code, put = s.http('PUT', '/api/v1/namespaces/apps/configmaps/settings', cm)
    check(code == 200 and put['data']['mode'] == 'put' and 'extra' in put['data'], f'PUT: {code} {put}')
    stale['data'] = {'only': 'this'}
    code, conflict = s.http('PUT', '/api/v1/namespaces/apps/configmaps/settings', stale)
    check(code == 409 and conflict['reason'] == 'Conflict', f'stale PUT must conflict: {code} {conflict}')
    del put['metadata']['resourceVersion']
    put['data'] = {'replaced': 'yes'}
    code, replaced = s.http('PUT', '/api/v1/namespaces/apps/configmaps/settings', put)
    check(code == 200 and replaced['data'] == {'replaced': 'yes'}, f'PUT must replace, not merge: {replaced}')
    rv = replaced['metadata']['resourceVersion']
    s.kubectl('label', 'configmap', 'settings', '-n', 'apps', 'watched=yes')
    code, body = s.http('GET', f'/api/v1/namespaces/apps/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=1')
    events = [json.loads(line) for line in body.splitlines() if line.strip()] if isinstance(body, str) else [body]
    check(code == 200 and [e['type'] for e in events] == ['MODIFIED']
          and events[0]['object']['metadata']['labels'].get('watched') == 'yes', f'watch: {events}')
    step('PUT replaces; stale resourceVersion -> 409 Conflict; watch from a resourceVersion')

    # kubectl delete -f (namespace is Terminating first; CRD deletion unregisters its resources).
    out = s.kubectl('delete', '-f', str(s.manifests / 'crs.yaml')).stdout
    check(out.count('deleted') == 6, f'delete custom resources:\n{out}')
    out = s.kubectl('delete', '-f', str(s.manifests / 'base.yaml')).stdout
    check('namespace "apps" deleted' in out and 'deployment.apps "web" deleted' in out, f'delete base:\n{out}')
    check(s.kjson('get', 'configmaps', '-A', '-l', 'tier')['items'] == [], 'configmaps survived delete')
    check('apps' not in names(s.kjson('get', 'namespaces')['items']), 'namespace survived delete')
    s.kubectl('delete', '-f', str(EXTRA_CRDS))
    code, _ = s.http('GET', '/apis/storage.loft.sh/v1')
    check(code == 404, f'deleted CRD still served: {code}')
    res = s.kubectl('get', 'clusters.storage.loft.sh', ok=False)
    check(res.returncode != 0, 'deleted CRD still resolvable by kubectl')
    step('kubectl delete -f: objects, namespace (with contents), CRDs (resources unregistered)')


def test_tls(s: Server) -> None:
    kc = s.kubeconfig.read_text()
    check(f'server: https://127.0.0.1:{s.port}' in kc and 'certificate-authority-data: ' in kc, f'TLS kubeconfig:\n{kc}')
    check(s.kjson('get', 'namespaces')['items'], 'no namespaces over TLS')
    code, body = s.http('GET', '/api/v1/namespaces', token=False)
    check(code == 401 and body['reason'] == 'Unauthorized', f'no token over TLS must be 401: {code} {body}')
    secret = ('apiVersion: v1\nkind: Secret\nmetadata: {name: tls-secret}\n'
              'stringData: {password: s3cret}\n')
    s.apply('tls-secret.yaml', secret)
    check(s.kjson('get', 'secret', 'tls-secret')['data'] == {'password': b64('s3cret')}, 'stringData over TLS')
    s.kubectl('apply', '--validate=false', '-f', str(CONNECTIONS_CRDS))
    s.apply('tls-conn.yaml', 'apiVersion: connections.dev/v1alpha1\nkind: Connection\n'
                             'metadata: {name: tls-db}\nspec: {type: postgres}\n')
    check(names(s.kjson('get', 'connections')['items']) == ['tls-db'], 'CR over TLS')
    s.fault(status=403, count=1, path='^/apis/connections.dev/v1alpha1/namespaces/default/connections')
    res = s.kubectl('get', CONN, ok=False)
    check(res.returncode != 0 and 'Forbidden' in res.stderr, f'403 over TLS: {res.stderr}')
    check(any(e['path'] == '/apis/connections.dev/v1alpha1/namespaces/default/connections' and e['status'] == 403
              for e in s.requests()), 'the 403 was not logged')
    step('TLS: https kubeconfig with CA data, token required, apply/get, stringData, CRD, 403 fault')


def main() -> int:
    started = time.monotonic()
    if not pathlib.Path(KUBECTL).exists():
        print(f'FAIL: kubectl not found (looked for {KUBECTL}); set $KUBECTL', file=sys.stderr)
        return 2
    workdir = pathlib.Path(tempfile.mkdtemp(prefix='apiserver-selftest-'))
    current = None
    try:
        for tls, test in ((False, test_http), (True, test_tls)):
            print(f'{"TLS" if tls else "HTTP"} server:', flush=True)
            with Server(workdir, tls=tls) as current:
                test(current)
            step('SIGTERM: clean exit (code 0)')
    except (TestFailure, subprocess.TimeoutExpired) as e:
        print(f'\nFAIL: {e}', file=sys.stderr)
        if current is not None:
            print(f'--- server log (tail) ---\n{current.server_log()}', file=sys.stderr)
            current.stop(check_exit=False)
        print(f'(work folder kept: {workdir})', file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    shutil.rmtree(workdir, ignore_errors=True)
    print(f'\n{len(PASSED)} passed, 0 failed in {elapsed:.1f}s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
