#!/usr/bin/env python3
"""
A stateful Kubernetes API emulator for tests, based on ``kmock`` (pinned 0.8).

It serves on 127.0.0.1 so that the real ``kubectl`` and kube-rs clients can
talk to it.  ``kmock.KubernetesEmulator`` provides the object store (with
version history), the resource registry, the request routing DSL and the
error plumbing; the subclass below fixes what stops kubectl from working
(see README.md next to this file for the list).

Usage::

    python3 server.py [--tls] [--port 0] --state-dir DIR

Writes ``DIR/kubeconfig`` (and TLS material with ``--tls``), then ``DIR/port``
last, and serves until SIGTERM/SIGINT.

Test-only endpoints (not counted in the request log, no auth):

* ``GET  /_test/requests``        -> ``[{"method", "path", "query", "status", "content_type"}, ...]``
* ``POST /_test/requests/reset``  -> clears the log
* ``POST /_test/faults``          -> ``{"status": 500, "count": 2}``, ``{"delay_seconds": 5}``,
                                     ``{"status": 403}``; ``count`` defaults to 1 (null or -1: until reset);
                                     optional ``"path"`` (regex searched in path+query), ``"method"``,
                                     ``"message"``, ``"reason"``, ``"retry_after_seconds"``
* ``GET  /_test/faults``          -> pending fault rules
* ``POST /_test/faults/reset``    -> drops all pending faults (also ``DELETE /_test/faults``)
* ``GET  /_test/objects``         -> dump of all live objects
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import copy
import datetime
import json
import os
import pathlib
import random
import re
import signal
import ssl
import string
import sys
import traceback
import uuid
from typing import Any

import aiohttp.web
import attrs
import kmock
from kmock._internal import dicts as kmock_dicts
from kmock._internal import rendering

try:  # optional: only for YAML bodies of server-side apply
    import yaml  # type: ignore
except ImportError:  # pragma: no cover
    yaml = None

SERVER_GIT_VERSION = 'v1.32.0'
DEFAULT_TOKEN = 'kubectl-connections-test-token'
SEED_NAMESPACES = ('default', 'kube-system', 'kube-public', 'kube-node-lease')
ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']
NAME_RE = re.compile(r'^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$')
LABEL_NAME_RE = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
EVENT_LOG_SIZE = 10000
NAMESPACE_TERMINATION_SECONDS = 0.5  # a Terminating namespace lives at least this long
NAMESPACE_QUIET_SECONDS = 0.5  # ... and until no request has touched it for this long

CORE_NS = kmock.resource('', 'v1', 'namespaces')
CRD_RES = kmock.resource('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')

# Strategic-merge-patch knowledge (a small subset of the built-in schemas' patchMergeKey).
SMP_MERGE_KEYS = {
    'containers': 'name', 'initContainers': 'name', 'ephemeralContainers': 'name',
    'volumes': 'name', 'env': 'name', 'imagePullSecrets': 'name',
    'volumeMounts': 'mountPath', 'volumeDevices': 'devicePath', 'hostAliases': 'ip',
    'conditions': 'type', 'ownerReferences': 'uid', 'resourceClaims': 'name',
    'schedulingGates': 'name', 'topologySpreadConstraints': 'topologyKey',
    'ports': None,  # containerPort (containers) or port (services): decided per list
}
SMP_PRIMITIVE_MERGE = {'finalizers'}


def now_ts() -> str:
    return datetime.datetime.now(tz=datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def api_error(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> kmock.KubernetesError:
    return kmock.KubernetesError(status=code, reason=reason, message=message, details=details or {})


def status_body(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
        'status': 'Failure' if code >= 400 else 'Success',
        'message': message, 'reason': reason, 'code': code,
    }
    if details:
        body['details'] = details
    return body


def version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes version ordering: GA > beta > alpha, then higher numbers first (for sorting)."""
    m = re.fullmatch(r'v(\d+)(?:(alpha|beta)(\d+))?', version)
    if not m:
        return (3, 0, 0)  # non-conventional versions go last
    major, stage, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    rank = {None: 0, 'beta': 1, 'alpha': 2}[stage]
    return (rank, -major, -minor)


# ---------------------------------------------------------------------------------------------
# Paths, selectors, patches
# ---------------------------------------------------------------------------------------------

@attrs.frozen
class ParsedPath:
    kind: str  # 'api' | 'apis' | 'group' | 'version' | 'resource' | 'other'
    group: str | None = None
    version: str | None = None
    plural: str | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None


def parse_k8s_path(path: str, is_known: Any = lambda g, v, p: False) -> ParsedPath:
    """A correct parser of K8s URLs (kmock misparses ``/api/v1/namespaces[/NAME]``)."""
    parts = [p for p in path.split('/') if p]
    if not parts or parts[0] not in ('api', 'apis'):
        return ParsedPath('other')
    if parts[0] == 'api':
        if len(parts) == 1:
            return ParsedPath('api')
        group, version, rest = '', parts[1], parts[2:]
    else:
        if len(parts) == 1:
            return ParsedPath('apis')
        if len(parts) == 2:
            return ParsedPath('group', group=parts[1])
        group, version, rest = parts[1], parts[2], parts[3:]
    if not rest:
        return ParsedPath('version', group=group, version=version)
    namespace = None
    if rest[0] == 'namespaces' and len(rest) >= 3:
        # /namespaces/NAME/status and /namespaces/NAME/finalize are subresources of namespaces.
        if not (len(rest) == 3 and rest[2] in ('status', 'finalize') and not is_known(group, version, rest[2])):
            namespace, rest = rest[1], rest[2:]
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    subresource = '/'.join(rest[2:]) or None
    return ParsedPath('resource', group, version, plural, namespace, name, subresource)


def _split_outside_parens(s: str) -> list[str]:
    out, depth, cur = [], 0, ''
    for ch in s:
        if ch == '(':
            depth += 1
        elif ch == ')':
            depth -= 1
        if ch == ',' and depth == 0:
            out.append(cur)
            cur = ''
        else:
            cur += ch
    out.append(cur)
    return [x.strip() for x in out if x.strip()]


def parse_label_selector(selector: str | None) -> list[tuple[str, str, set[str]]]:
    """Parse ``a=b,c!=d,e,!f,g in (x,y),h notin (z)`` into (key, op, values)."""
    reqs: list[tuple[str, str, set[str]]] = []
    for term in _split_outside_parens(selector or ''):
        m = re.fullmatch(r'(\S+)\s+(in|notin)\s*\((.*)\)', term)
        if m:
            values = {v.strip() for v in m.group(3).split(',') if v.strip()}
            reqs.append((m.group(1), m.group(2), values))
        elif term.startswith('!'):
            reqs.append((term[1:].strip(), '!exists', set()))
        elif '!=' in term:
            k, v = term.split('!=', 1)
            reqs.append((k.strip(), '!=', {v.strip()}))
        elif '==' in term:
            k, v = term.split('==', 1)
            reqs.append((k.strip(), '=', {v.strip()}))
        elif '=' in term:
            k, v = term.split('=', 1)
            reqs.append((k.strip(), '=', {v.strip()}))
        else:
            reqs.append((term, 'exists', set()))
    return reqs


def match_labels(labels: dict[str, str], reqs: list[tuple[str, str, set[str]]]) -> bool:
    for key, op, values in reqs:
        present = key in labels
        value = labels.get(key)
        if op == '=' and not (present and value in values):
            return False
        if op == 'in' and not (present and value in values):
            return False
        if op == '!=' and present and value in values:
            return False
        if op == 'notin' and present and value in values:
            return False
        if op == 'exists' and not present:
            return False
        if op == '!exists' and present:
            return False
    return True


def parse_field_selector(selector: str | None) -> list[tuple[str, str, str]]:
    reqs: list[tuple[str, str, str]] = []
    for term in [t.strip() for t in (selector or '').split(',') if t.strip()]:
        if '!=' in term:
            k, v = term.split('!=', 1)
            reqs.append((k.strip(), '!=', v.strip()))
        elif '==' in term:
            k, v = term.split('==', 1)
            reqs.append((k.strip(), '=', v.strip()))
        elif '=' in term:
            k, v = term.split('=', 1)
            reqs.append((k.strip(), '=', v.strip()))
        else:
            raise api_error(400, 'BadRequest', f'invalid field selector: {term!r}')
    return reqs


def match_fields(obj: dict[str, Any], reqs: list[tuple[str, str, str]]) -> bool:
    for path, op, expected in reqs:
        cur: Any = obj
        for part in path.split('.'):
            cur = cur.get(part) if isinstance(cur, dict) else None
        actual = '' if cur is None else (str(cur).lower() if isinstance(cur, bool) else str(cur))
        if op == '=' and actual != expected:
            return False
        if op == '!=' and actual == expected:
            return False
    return True


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 (kmock's merge_patch_dict refuses dict<->scalar type changes)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


_SMP_DELETE = object()


def strategic_merge_patch(orig: Any, patch: Any) -> Any:
    """A simplified strategic-merge-patch: merge keys for common lists, and the ``$`` directives."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    orig = orig if isinstance(orig, dict) else {}
    directive = patch.get('$patch')
    if directive == 'replace':
        return strategic_merge_patch({}, {k: v for k, v in patch.items() if k != '$patch'})
    if directive == 'delete':
        return _SMP_DELETE
    result = dict(orig)
    for key, value in patch.items():
        if key.startswith('$'):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value)
            if merged is _SMP_DELETE:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _smp_merge_list(key, result.get(key), value)
        else:
            result[key] = value
    for key, value in patch.items():
        if key.startswith('$deleteFromPrimitiveList/'):
            field = key.split('/', 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [x for x in result[field] if x not in value]
    for key, value in patch.items():
        if key.startswith('$setElementOrder/'):
            field = key.split('/', 1)[1]
            if isinstance(result.get(field), list) and isinstance(value, list):
                result[field] = _smp_reorder(field, result[field], value)
    retain = patch.get('$retainKeys')
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _smp_key(field: str, items: list[Any]) -> str | None:
    if field not in SMP_MERGE_KEYS:
        return None
    key = SMP_MERGE_KEYS[field]
    if key is None:  # ports
        key = 'containerPort' if any(isinstance(i, dict) and 'containerPort' in i for i in items) else 'port'
    return key


def _smp_merge_list(field: str, current: Any, patch_list: list[Any]) -> list[Any]:
    current = current if isinstance(current, list) else []
    if any(isinstance(i, dict) and i.get('$patch') == 'replace' for i in patch_list):
        return [strategic_merge_patch({}, i) for i in patch_list
                if not (isinstance(i, dict) and i.get('$patch') == 'replace')]
    if field in SMP_PRIMITIVE_MERGE and not any(isinstance(i, dict) for i in patch_list):
        return current + [x for x in patch_list if x not in current]
    key = _smp_key(field, current + patch_list)
    if key is None or not all(isinstance(i, dict) for i in current + patch_list):
        return [strategic_merge_patch({}, i) if isinstance(i, dict) else i for i in patch_list]
    result = [copy.deepcopy(i) for i in current]
    for item in patch_list:
        idx = next((n for n, cur in enumerate(result) if cur.get(key) == item.get(key)), None)
        if item.get('$patch') == 'delete':
            if idx is not None:
                del result[idx]
            continue
        if idx is None:
            result.append(strategic_merge_patch({}, item))
        else:
            result[idx] = strategic_merge_patch(result[idx], item)
    return result


def _smp_reorder(field: str, items: list[Any], order: list[Any]) -> list[Any]:
    key = _smp_key(field, items)

    def ident(x: Any) -> Any:
        return json.dumps(x.get(key) if key and isinstance(x, dict) else x, sort_keys=True)

    positions = {ident(o): n for n, o in enumerate(order)}
    return sorted(items, key=lambda x: positions.get(ident(x), len(positions)))


# ---------------------------------------------------------------------------------------------
# The emulator: kmock.KubernetesEmulator with the fixes
# ---------------------------------------------------------------------------------------------

@attrs.define(kw_only=True)
class TestApiServer(kmock.KubernetesEmulator):
    """kmock's emulator, fixed to behave enough like a real API server for kubectl & kube-rs."""

    _rv: int = attrs.field(default=1000, init=False)
    _crds: dict[tuple[str, str], dict[str, Any]] = attrs.field(factory=dict, init=False)  # (group, plural) -> meta
    _builtin: set[Any] = attrs.field(factory=set, init=False)
    _events: collections.deque = attrs.field(factory=lambda: collections.deque(maxlen=EVENT_LOG_SIZE), init=False)
    _changed: asyncio.Event | None = attrs.field(default=None, init=False)
    _ns_activity: dict[str, float] = attrs.field(factory=dict, init=False)  # namespace -> last request time
    _received: int = attrs.field(default=0, init=False)  # requests received so far (kmock's request ids)
    # Every key ever stored in self.objects, by storage resource and namespace, so that a list
    # reads only its own kind's objects (self.objects holds every kind, deleted ones too).
    _keys: dict[kmock.resource, dict[str | None, set[str]]] = attrs.field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        # Fix: start from the built-in resource catalogue shipped with kmock (so discovery is real).
        self.resources.load_bundled()
        self._builtin = set(self.resources)
        # Health endpoints, via kmock's own DSL.
        for path in ('/healthz', '/livez', '/readyz'):
            self.fallback[f'get {path}'] << b'ok'
        for ns in SEED_NAMESPACES:
            self._store_create(CORE_NS, None, ns, {
                'apiVersion': 'v1', 'kind': 'Namespace',
                'metadata': {'name': ns, 'labels': {'kubernetes.io/metadata.name': ns}},
                'spec': {'finalizers': ['kubernetes']}, 'status': {'phase': 'Active'},
            })

    # --- the registry --------------------------------------------------------------------------

    def _info(self, group: str, version: str, plural: str) -> kmock.ResourceInfo | None:
        res = kmock.resource(group, version, plural)
        return self.resources[res] if res in self.resources else None

    def _is_known(self, group: str, version: str, plural: str) -> bool:
        return kmock.resource(group, version, plural) in self.resources

    def _storage_resource(self, group: str, version: str, plural: str) -> kmock.resource:
        """All versions of one group/plural share one store (kmock keys objects per version)."""
        crd = self._crds.get((group, plural))
        if crd is not None:
            return kmock.resource(group, crd['storage'], plural)
        versions = sorted({r.version for r in self.resources if r.group == group and r.plural == plural},
                          key=version_priority)
        return kmock.resource(group, versions[0] if versions else version, plural)

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    # --- request parsing (fixes kmock's parsing of /api/v1/namespaces[/NAME] & PUT) -------------

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        """kmock's RawHandler.__call__, but with a correct K8s URL/verb parser.

        A request stays in kmock's request history only while it is served. kmock routes a
        request by walking, for each reaction in turn, the whole history through the
        reaction's filters until it meets the request (``request in payload._source`` in
        ``RawHandler._handle``): kept forever, the history made every request cost time in
        proportion to all the requests before it (0.4 s for any request, even ``/version``,
        after 2,000 creates). The reactions here (kmock's fallbacks and the health
        endpoints) filter on the request alone (method, path, action), with no counts or
        slices over earlier requests, so a request is routed as before.
        """
        body = await raw_request.read()
        raw_response = None
        try:
            request = self._parse_request(raw_request, body)
            self._requests.append(request)
            try:
                # Skip KubernetesEmulator._handle (its naive merge-only state tracking),
                # but keep kmock's routing of requests to the DSL reactions & fallbacks.
                return await self._handle(request)
            except rendering.StreamingError as e:
                raw_response = e.args[0]
                raise e.__cause__ or e
            finally:
                # By identity: two requests may look alike.
                self._requests[:] = [r for r in self._requests if r is not request]
        except Exception as e:
            if raw_response is None or not raw_response.prepared:
                return await self._render_error(e)
            await self._stream_error(e, raw_response)
            await raw_response.write_eof()
            return raw_response

    # KubernetesEmulator._handle tracks state by naive merging (PUT ignored, no metadata): bypass it.
    _handle = kmock.RawHandler._handle

    def _parse_request(self, raw: aiohttp.web.BaseRequest, body: bytes) -> kmock.Request:
        parsed = parse_k8s_path(raw.path, self._is_known)
        number, self._received = self._received, self._received + 1  # 0 first, as kmock numbers them
        method = raw.method.upper()
        query = {k: v for k, v in raw.query.items()}
        resource = namespace = name = subresource = action = None
        if parsed.kind in ('group', 'version'):
            resource = kmock.resource(group=parsed.group, version=parsed.version)
        elif parsed.kind == 'resource':
            resource = kmock.resource(parsed.group, parsed.version, parsed.plural)
            namespace, name, subresource = parsed.namespace, parsed.name, parsed.subresource
            if method == 'GET':
                watch = query.get('watch') in ('true', '1')
                action = kmock.action.WATCH if watch else kmock.action.FETCH if name else kmock.action.LIST
            elif method == 'POST' and not name:
                action = kmock.action.CREATE
            elif method in ('PUT', 'PATCH') and name:
                action = kmock.action.UPDATE  # PUT is a replace, PATCH is a patch: see _serve_update
            elif method == 'DELETE':
                action = kmock.action.DELETE  # without a name: deletecollection
        if namespace is not None:
            self._ns_activity[namespace] = asyncio.get_running_loop().time()
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        return kmock.Request(
            id=number, raw_request=raw, url=raw.url, method=raw.method,
            params=query, headers=dict(raw.headers), cookies=dict(raw.cookies),
            body=body, text=body.decode('utf-8', errors='replace'), data=data,
            action=action, resource=resource, namespace=namespace, name=name, subresource=subresource,
        )

    def _target(self, request: kmock.Request) -> tuple[kmock.resource, kmock.ResourceInfo, kmock.resource]:
        res = request.resource
        info = self._info(res.group, res.version, res.plural) if res is not None else None
        if info is None:
            raise api_error(404, 'NotFound', 'the server could not find the requested resource')
        if request.namespace is not None and not info.namespaced:
            raise api_error(404, 'NotFound', 'the server could not find the requested resource')
        if request.subresource is not None and request.subresource not in info.subresources:
            raise api_error(404, 'NotFound', 'the server could not find the requested resource')
        return res, info, self._storage_resource(res.group, res.version, res.plural)

    def _not_found(self, res: kmock.resource, name: str) -> kmock.KubernetesError:
        return api_error(404, 'NotFound', f'{self._qualified(res)} "{name}" not found',
                         {'name': name, 'group': res.group, 'kind': res.plural})

    @staticmethod
    def _qualified(res: kmock.resource) -> str:
        return f'{res.plural}.{res.group}' if res.group else res.plural

    # --- the store (kmock.ObjectsArray with history) --------------------------------------------

    def _get(self, sres: kmock.resource, namespace: str | None, name: str) -> dict[str, Any] | None:
        key = (sres, namespace, name)
        if key in self.objects and not self.objects[key].deleted:
            return copy.deepcopy(self.objects[key].raw)
        return None

    def _all(self, sres: kmock.resource, namespace: str | None = None) -> list[dict[str, Any]]:
        """The live objects of one kind (in one namespace), sorted by namespace and name."""
        by_namespace = self._keys.get(sres, {})
        scopes = by_namespace.items() if namespace is None else [(namespace, by_namespace.get(namespace, ()))]
        found = []
        for ns, names in scopes:
            for name in names:
                obj = self.objects[sres, ns, name]
                if not obj.deleted:
                    found.append(((ns or '', name), obj.raw))
        return [copy.deepcopy(raw) for _, raw in sorted(found, key=lambda x: x[0])]

    def _store_create(self, sres: kmock.resource, namespace: str | None, name: str, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj.setdefault('metadata', {})
        meta.setdefault('uid', str(uuid.uuid4()))
        meta.setdefault('creationTimestamp', now_ts())
        meta['resourceVersion'] = self._next_rv()
        key = (sres, namespace, name)
        if key in self.objects:
            self.objects[key].create(copy.deepcopy(obj))
        else:
            self.objects[key] = copy.deepcopy(obj)
            self._keys.setdefault(sres, {}).setdefault(namespace, set()).add(name)
        self._emit(sres, 'ADDED', None, obj)
        return obj

    def _store_replace(self, sres: kmock.resource, namespace: str | None, name: str,
                       old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        meta = new.setdefault('metadata', {})
        if meta.get('deletionTimestamp') and not meta.get('finalizers') and sres != CORE_NS:
            return self._store_delete(sres, namespace, name, new)
        meta['resourceVersion'] = self._next_rv()
        self.objects[sres, namespace, name].history.append(copy.deepcopy(new))  # a replace, not a merge
        self._emit(sres, 'MODIFIED', old, new)
        return new

    def _store_delete(self, sres: kmock.resource, namespace: str | None, name: str, last: dict[str, Any]) -> dict[str, Any]:
        last = copy.deepcopy(last)
        last.setdefault('metadata', {})['resourceVersion'] = self._next_rv()
        self.objects[sres, namespace, name].delete()
        self._emit(sres, 'DELETED', last, last)
        return last

    def _emit(self, sres: kmock.resource, etype: str, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        self._events.append((self._rv, sres, etype, copy.deepcopy(old), copy.deepcopy(new)))
        if self._changed is not None:
            self._changed.set()
        self._changed = asyncio.Event()

    # --- presentation -----------------------------------------------------------------------------

    def _present(self, obj: dict[str, Any], res: kmock.resource, info: kmock.ResourceInfo) -> dict[str, Any]:
        obj = dict(obj)
        obj['apiVersion'] = f'{res.group}/{res.version}' if res.group else res.version
        obj['kind'] = info.kind or obj.get('kind')
        return obj

    def _list_kind(self, res: kmock.resource, info: kmock.ResourceInfo) -> str:
        crd = self._crds.get((res.group, res.plural))
        if crd is not None and crd.get('listKind'):
            return crd['listKind']
        return f'{info.kind}List'

    @staticmethod
    def _selectors(request: kmock.Request) -> tuple[list[Any], list[Any]]:
        return (parse_label_selector(request.params.get('labelSelector')),
                parse_field_selector(request.params.get('fieldSelector')))

    @staticmethod
    def _matches(obj: dict[str, Any], namespace: str | None, name: str | None,
                 labels: list[Any], fields: list[Any]) -> bool:
        meta = obj.get('metadata', {})
        if namespace is not None and meta.get('namespace') != namespace:
            return False
        if name is not None and meta.get('name') != name:
            return False
        return match_labels(meta.get('labels') or {}, labels) and match_fields(obj, fields)

    # --- discovery (fixes groupVersion "/v1", nondeterministic preferred versions) --------------

    def _group_versions(self) -> dict[str, list[str]]:
        groups: dict[str, set[str]] = collections.defaultdict(set)
        for res in self.resources:
            groups[res.group].add(res.version)
        return {g: sorted(vs, key=version_priority) for g, vs in groups.items()}

    async def _serve_root(self, request: kmock.Request) -> Any:
        paths = {'/api', '/api/v1', '/apis', '/version', '/healthz', '/livez', '/readyz'}
        for group, versions in self._group_versions().items():
            if group:
                paths.add(f'/apis/{group}')
                paths.update(f'/apis/{group}/{v}' for v in versions)
        return {'paths': sorted(paths)}

    async def _serve_server_version(self, request: kmock.Request) -> Any:
        return {
            'major': '1', 'minor': '32', 'gitVersion': SERVER_GIT_VERSION,
            'gitCommit': '0' * 40, 'gitTreeState': 'clean', 'buildDate': '2024-12-11T00:00:00Z',
            'goVersion': 'go1.23.4', 'compiler': 'gc', 'platform': 'linux/amd64',
            'emulator': f'kmock {kmock.__version__}',
        }

    async def _serve_api(self, request: kmock.Request) -> Any:
        return {'kind': 'APIVersions', 'apiVersion': 'v1', 'versions': ['v1'],
                'serverAddressByClientCIDRs': [{'clientCIDR': '0.0.0.0/0', 'serverAddress': '127.0.0.1'}]}

    def _group_doc(self, group: str, versions: list[str]) -> dict[str, Any]:
        gvs = [{'groupVersion': f'{group}/{v}', 'version': v} for v in versions]
        return {'name': group, 'versions': gvs, 'preferredVersion': gvs[0]}

    async def _serve_apis(self, request: kmock.Request) -> Any:
        groups = self._group_versions()
        return {'kind': 'APIGroupList', 'apiVersion': 'v1',
                'groups': [self._group_doc(g, vs) for g, vs in sorted(groups.items()) if g]}

    async def _serve_group(self, request: kmock.Request) -> Any:
        group = request.resource.group if request.resource is not None else None
        versions = self._group_versions().get(group or '')
        if not group or not versions:
            raise api_error(404, 'NotFound', 'the server could not find the requested resource')
        return {'kind': 'APIGroup', 'apiVersion': 'v1', **self._group_doc(group, versions)}

    async def _serve_version(self, request: kmock.Request) -> Any:
        group, version = request.resource.group, request.resource.version
        found = sorted((r for r in self.resources if r.group == group and r.version == version),
                       key=lambda r: r.plural)
        if not found:
            raise api_error(404, 'NotFound', 'the server could not find the requested resource')
        items = []
        for res in found:
            info = self.resources[res]
            entry = {
                'name': res.plural, 'singularName': info.singular or res.plural.rstrip('s'),
                'namespaced': bool(info.namespaced), 'kind': info.kind or res.plural.capitalize(),
                'verbs': sorted(info.verbs) or list(ALL_VERBS),
            }
            if info.shortnames:
                entry['shortNames'] = sorted(info.shortnames)
            if info.categories:
                entry['categories'] = sorted(info.categories)
            items.append(entry)
            for sub in sorted(info.subresources):
                items.append({'name': f'{res.plural}/{sub}', 'singularName': '',
                              'namespaced': bool(info.namespaced), 'kind': entry['kind'],
                              'verbs': ['get', 'patch', 'update']})
        return {'kind': 'APIResourceList', 'apiVersion': 'v1',
                'groupVersion': f'{group}/{version}' if group else version, 'resources': items}

    # --- reads ------------------------------------------------------------------------------------

    async def _serve_list(self, request: kmock.Request) -> Any:
        res, info, sres = self._target(request)
        labels, fields = self._selectors(request)
        items = [self._present(o, res, info) for o in self._all(sres, request.namespace)
                 if self._matches(o, None, None, labels, fields)]
        meta: dict[str, Any] = {'resourceVersion': str(self._rv)}
        limit = int(request.params.get('limit') or 0)
        if request.params.get('continue'):
            try:
                offset = int(base64.b64decode(request.params['continue']).decode())
            except Exception:
                raise api_error(400, 'BadRequest', 'invalid continue token')
            items = items[offset:]
        else:
            offset = 0
        if limit and len(items) > limit:
            meta['continue'] = base64.b64encode(str(offset + limit).encode()).decode()
            meta['remainingItemCount'] = len(items) - limit
            items = items[:limit]
        body = {'kind': self._list_kind(res, info),
                'apiVersion': f'{res.group}/{res.version}' if res.group else res.version,
                'metadata': meta, 'items': items}
        if self._wants_table(request):
            return self._as_table(body, res, info)
        return body

    async def _serve_fetch(self, request: kmock.Request) -> Any:
        res, info, sres = self._target(request)
        obj = self._get(sres, request.namespace, request.name)
        if obj is None:
            raise self._not_found(res, request.name)
        obj = self._present(obj, res, info)
        if self._wants_table(request):
            return self._as_table({'items': [obj], 'metadata': {'resourceVersion': str(self._rv)}}, res, info)
        return obj

    async def _serve_watch(self, request: kmock.Request) -> Any:
        res, info, sres = self._target(request)
        labels, fields = self._selectors(request)
        namespace, name = request.namespace, request.name
        timeout = float(request.params.get('timeoutSeconds') or 1800)
        rv_param = request.params.get('resourceVersion') or ''
        send_initial = rv_param in ('', '0') or request.params.get('sendInitialEvents') == 'true'
        try:
            since = int(rv_param) if rv_param else self._rv
        except ValueError:
            raise api_error(400, 'BadRequest', f'invalid resourceVersion {rv_param!r}')
        oldest = self._events[0][0] if self._events else self._rv
        too_old = not send_initial and self._events and since < oldest - 1
        bookmarks = request.params.get('allowWatchBookmarks') in ('true', '1')

        def event(etype: str, obj: dict[str, Any]) -> dict[str, Any]:
            return {'type': etype, 'object': self._present(obj, res, info)}

        async def stream() -> Any:
            yield b''  # send the headers now
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            pos = since
            if too_old:
                yield {'type': 'ERROR', 'object': status_body(
                    410, 'Expired', f'too old resource version: {since} ({oldest})')}
                return
            if send_initial:
                pos = self._rv
                for obj in self._all(sres, namespace):
                    if self._matches(obj, None, name, labels, fields):
                        yield event('ADDED', obj)
                if bookmarks:
                    yield {'type': 'BOOKMARK', 'object': {
                        'kind': info.kind, 'apiVersion': f'{res.group}/{res.version}' if res.group else res.version,
                        'metadata': {'resourceVersion': str(pos),
                                     'annotations': {'k8s.io/initial-events-end': 'true'}}}}
            while True:
                for rv, eres, etype, old, new in list(self._events):
                    if rv <= pos or eres != sres:
                        continue
                    pos = rv
                    m_old = old is not None and self._matches(old, namespace, name, labels, fields)
                    m_new = self._matches(new, namespace, name, labels, fields)
                    if etype == 'DELETED':
                        if m_old:
                            yield event('DELETED', new)
                    elif m_old and m_new:
                        yield event('MODIFIED', new)
                    elif m_new:
                        yield event('ADDED', new)
                    elif m_old:
                        yield event('DELETED', new)
                pos = max(pos, self._rv)
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return
                if self._changed is None:
                    self._changed = asyncio.Event()
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout=remaining)
                except asyncio.TimeoutError:
                    return

        return kmock.Response(headers={'Content-Type': 'application/json'}, payload=stream())

    # --- Table output for `kubectl get` -----------------------------------------------------------

    @staticmethod
    def _wants_table(request: kmock.Request) -> bool:
        return 'as=Table' in (request.headers.get('Accept') or '')

    def _as_table(self, body: dict[str, Any], res: kmock.resource, info: kmock.ResourceInfo) -> dict[str, Any]:
        crd = self._crds.get((res.group, res.plural)) or {}
        extra = [c for c in crd.get('columns', {}).get(res.version, [])
                 if c.get('jsonPath') != '.metadata.creationTimestamp']
        columns = [{'name': 'Name', 'type': 'string', 'format': 'name', 'description': 'Name', 'priority': 0}]
        columns += [{'name': c['name'], 'type': c.get('type', 'string'), 'format': c.get('format', ''),
                     'description': c.get('description', ''), 'priority': c.get('priority', 0)} for c in extra]
        if res == kmock.resource('', 'v1', 'configmaps') or res == kmock.resource('', 'v1', 'secrets'):
            if res.plural == 'secrets':
                columns.append({'name': 'Type', 'type': 'string', 'format': '', 'description': '', 'priority': 0})
            columns.append({'name': 'Data', 'type': 'integer', 'format': '', 'description': '', 'priority': 0})
        columns.append({'name': 'Age', 'type': 'string', 'format': '', 'description': 'Age', 'priority': 0})
        rows = []
        for obj in body['items']:
            meta = obj.get('metadata', {})
            cells: list[Any] = [meta.get('name')]
            for c in extra:
                cells.append(self._jsonpath(obj, c.get('jsonPath', '')))
            if res.plural == 'secrets' and res.group == '':
                cells.append(obj.get('type', 'Opaque'))
            if res.plural in ('configmaps', 'secrets') and res.group == '':
                cells.append(len(obj.get('data') or {}) + len(obj.get('binaryData') or {}))
            cells.append(self._age(meta.get('creationTimestamp')))
            rows.append({'cells': cells, 'object': {
                'kind': 'PartialObjectMetadata', 'apiVersion': 'meta.k8s.io/v1', 'metadata': meta}})
        return {'kind': 'Table', 'apiVersion': 'meta.k8s.io/v1',
                'metadata': {'resourceVersion': body['metadata'].get('resourceVersion', ''),
                             **({'continue': body['metadata']['continue']} if body['metadata'].get('continue') else {})},
                'columnDefinitions': columns, 'rows': rows}

    @staticmethod
    def _jsonpath(obj: Any, path: str) -> Any:
        cur = obj
        for part in [p for p in path.strip().lstrip('.').split('.') if p]:
            cur = cur.get(part) if isinstance(cur, dict) else None
        return cur

    @staticmethod
    def _age(ts: str | None) -> str:
        if not ts:
            return '<unknown>'
        created = datetime.datetime.strptime(ts, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
        secs = int((datetime.datetime.now(tz=datetime.timezone.utc) - created).total_seconds())
        for unit, size in (('d', 86400), ('h', 3600), ('m', 60)):
            if secs >= size * 2 or (unit == 'm' and secs >= 120):
                return f'{secs // size}{unit}'
        return f'{max(secs, 0)}s'

    # --- writes -----------------------------------------------------------------------------------

    @staticmethod
    def _body(request: kmock.Request) -> Any:
        content_type = (request.headers.get('Content-Type') or '').lower()
        if 'protobuf' in content_type:
            # Typed client-go clients (e.g. `kubectl create configmap NAME`) send protobuf: not decodable here.
            raise api_error(415, 'UnsupportedMediaType',
                            'the body of the request was in an unknown format - accepted media types include: '
                            'application/json, application/yaml, application/merge-patch+json, '
                            'application/strategic-merge-patch+json, application/json-patch+json')
        if not request.body:
            return None
        try:
            return json.loads(request.body)
        except ValueError:
            if yaml is not None:
                try:
                    return yaml.safe_load(request.body)
                except yaml.YAMLError:
                    pass
            raise api_error(400, 'BadRequest', 'the request body could not be decoded')

    @staticmethod
    def _dry_run(request: kmock.Request) -> bool:
        if request.params.get('dryRun'):
            return True
        # DELETE carries it in the DeleteOptions body.
        return request.method == kmock.method.DELETE and isinstance(request.data, dict) and bool(request.data.get('dryRun'))

    def _prepare(self, obj: dict[str, Any], res: kmock.resource, info: kmock.ResourceInfo,
                 namespace: str | None) -> None:
        """Apply the API server's write-time rules that kubectl relies on."""
        obj['apiVersion'] = f'{res.group}/{res.version}' if res.group else res.version
        obj['kind'] = info.kind or obj.get('kind')
        meta = obj.setdefault('metadata', {})
        if info.namespaced:
            meta['namespace'] = namespace
        else:
            meta.pop('namespace', None)
        if res.group == '' and res.plural == 'secrets':
            # Fix: stringData is write-only and folded (base64) into data.
            string_data = obj.pop('stringData', None) or {}
            if string_data:
                data = dict(obj.get('data') or {})
                for key, value in string_data.items():
                    data[key] = base64.b64encode(str(value).encode()).decode()
                obj['data'] = data
            obj.setdefault('type', 'Opaque')
        for key in ('labels', 'annotations'):
            if meta.get(key) is None:
                meta.pop(key, None)
        for label in (meta.get('labels') or {}):
            if not isinstance(meta['labels'][label], str):
                raise api_error(400, 'BadRequest', f'label {label!r} must be a string')

    def _validate_name(self, res: kmock.resource, name: str | None, kind: str | None) -> None:
        if not name:
            raise api_error(422, 'Invalid', f'{kind} "" is invalid: metadata.name: Required value: '
                                            'name or generateName is required',
                            {'kind': kind, 'group': res.group,
                             'causes': [{'reason': 'FieldValueRequired', 'field': 'metadata.name'}]})
        pattern = LABEL_NAME_RE if res == CORE_NS else NAME_RE
        if len(name) > 253 or not pattern.match(name):
            raise api_error(422, 'Invalid', f'{kind} "{name}" is invalid: metadata.name: Invalid value: '
                                            f'"{name}": a lowercase RFC 1123 subdomain must consist of lower case '
                                            "alphanumeric characters, '-' or '.'",
                            {'name': name, 'kind': kind, 'group': res.group,
                             'causes': [{'reason': 'FieldValueInvalid', 'field': 'metadata.name'}]})

    def _require_namespace(self, namespace: str | None, res: kmock.resource, name: str | None) -> None:
        ns = self._get(CORE_NS, None, namespace) if namespace is not None else None
        if namespace is not None and ns is None:
            raise api_error(404, 'NotFound', f'namespaces "{namespace}" not found',
                            {'name': namespace, 'kind': 'namespaces'})
        if ns is not None and ns['metadata'].get('deletionTimestamp'):
            raise api_error(403, 'Forbidden', f'{self._qualified(res)} "{name}" is forbidden: unable to create new '
                                              f'content in namespace {namespace} because it is being terminated',
                            {'name': name, 'group': res.group, 'kind': res.plural,
                             'causes': [{'reason': 'NamespaceTerminating', 'field': 'metadata.namespace',
                                         'message': f'namespace {namespace} is being terminated'}]})

    @staticmethod
    def _spec_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
        strip = lambda o: {k: v for k, v in o.items() if k not in ('metadata', 'status')}
        return strip(old) != strip(new)

    async def _serve_create(self, request: kmock.Request) -> Any:
        return kmock.Response(status=201, payload=await self._do_create(request))

    async def _do_create(self, request: kmock.Request) -> dict[str, Any]:
        res, info, sres = self._target(request)
        if request.subresource is not None:
            raise api_error(405, 'MethodNotAllowed', 'create is not supported on subresources here')
        obj = self._body(request)
        if not isinstance(obj, dict):
            raise api_error(400, 'BadRequest', 'the request body must be an object')
        meta = obj.setdefault('metadata', {})
        body_ns = meta.get('namespace')
        namespace = request.namespace if info.namespaced else None
        if info.namespaced:
            if namespace is None:
                raise api_error(404, 'NotFound', 'the server could not find the requested resource')
            if body_ns and body_ns != namespace:
                raise api_error(400, 'BadRequest', 'the namespace of the provided object does not match '
                                                   'the namespace sent on the request')
        if not meta.get('name') and meta.get('generateName'):
            suffix = ''.join(random.choice(string.ascii_lowercase + string.digits) for _ in range(5))
            meta['name'] = meta['generateName'] + suffix
        name = meta.get('name')
        if info.namespaced:
            self._require_namespace(namespace, res, name)
        self._validate_name(res, name, info.kind)
        for key in ('uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'generation', 'managedFields'):
            meta.pop(key, None)
        self._prepare(obj, res, info, namespace)
        if 'status' in info.subresources:
            obj.pop('status', None)  # status is only writable via /status
        if res != CORE_NS and ('spec' in obj or (res.group, res.plural) in self._crds or res == CRD_RES):
            meta['generation'] = 1
        if res == CORE_NS:
            obj.setdefault('spec', {'finalizers': ['kubernetes']})
            obj['status'] = {'phase': 'Active'}
            meta.setdefault('labels', {})['kubernetes.io/metadata.name'] = name
        if res == CRD_RES:
            self._crd_check(obj)
            obj['status'] = self._crd_status(obj)
        if self._get(sres, namespace, name) is not None:
            raise api_error(409, 'AlreadyExists', f'{self._qualified(res)} "{name}" already exists',
                            {'name': name, 'group': res.group, 'kind': res.plural})
        if self._dry_run(request):
            meta.setdefault('uid', str(uuid.uuid4()))
            meta.setdefault('creationTimestamp', now_ts())
            return self._present(obj, res, info)
        # NB: no awaits between the existence check and the store: the event loop makes it atomic.
        stored = self._store_create(sres, namespace, name, obj)
        if res == CRD_RES:
            self._crd_register(stored)
        return self._present(stored, res, info)

    async def _serve_update(self, request: kmock.Request) -> Any:
        res, info, sres = self._target(request)
        namespace = request.namespace if info.namespaced else None
        if info.namespaced and namespace is None:
            raise api_error(404, 'NotFound', 'the server could not find the requested resource')
        name = request.name
        method = str(request.method.value).upper()
        content_type = (request.headers.get('Content-Type') or '').split(';')[0].strip()
        body = self._body(request)
        is_apply = method == 'PATCH' and content_type == 'application/apply-patch+yaml'
        old = self._get(sres, namespace, name)
        if old is None and not is_apply:
            raise self._not_found(res, name)
        if old is None:  # server-side apply of a new object: a create
            new = strategic_merge_patch({}, body)
            if not isinstance(new, dict):
                raise api_error(400, 'BadRequest', 'the request body must be an object')
            new.setdefault('metadata', {})['name'] = name
            request = attrs.evolve(request, method='POST', name=None, body=json.dumps(new).encode(),
                                   action=kmock.action.CREATE)
            return await self._do_create(request)
        # NB: no awaits below until stored: the event loop makes it atomic.
        base = copy.deepcopy(old)
        if method == 'PUT':  # Fix: PUT is a replace, not a merge
            if not isinstance(body, dict):
                raise api_error(400, 'BadRequest', 'the request body must be an object')
            new = body
        elif content_type == 'application/json-patch+json':
            try:
                new = kmock_dicts.json_patch_dict(base, body)
            except Exception as e:
                raise api_error(422, 'Invalid', f'the JSON patch could not be applied: {e}')
        elif content_type == 'application/merge-patch+json':
            new = json_merge_patch(base, body)
        elif content_type in ('application/strategic-merge-patch+json', 'application/apply-patch+yaml'):
            if content_type == 'application/strategic-merge-patch+json' and res.group not in self._builtin_groups():
                raise api_error(415, 'UnsupportedMediaType', 'strategic merge patch is not supported '
                                                             'for custom resources')
            new = strategic_merge_patch(base, body)
        else:
            raise api_error(415, 'UnsupportedMediaType', f'the media type {content_type!r} is not supported')
        if not isinstance(new, dict):
            raise api_error(400, 'BadRequest', 'the patched object is not an object')
        meta = new.setdefault('metadata', {})
        body_rv = (body.get('metadata') or {}).get('resourceVersion') if isinstance(body, dict) else None
        if body_rv and body_rv != old['metadata'].get('resourceVersion'):  # optimistic concurrency
            raise api_error(409, 'Conflict', f'Operation cannot be fulfilled on {self._qualified(res)} '
                                             f'"{name}": the object has been modified; please apply your '
                                             'changes to the latest version and try again',
                            {'name': name, 'group': res.group, 'kind': res.plural})
        if meta.get('name') not in (None, name):
            raise api_error(400, 'BadRequest', 'the name of the object does not match the name on the URL')
        if info.namespaced and meta.get('namespace') not in (None, namespace):
            raise api_error(400, 'BadRequest', 'the namespace of the provided object does not match '
                                               'the namespace sent on the request')
        old_meta = old['metadata']
        meta['name'] = name
        for key in ('uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        self._prepare(new, res, info, namespace)
        if request.subresource == 'status':  # only the status changes via /status
            status = new.get('status')
            new = copy.deepcopy(old)
            new.pop('status', None)
            if status is not None:
                new['status'] = status
        elif 'status' in info.subresources and res != CRD_RES:
            new.pop('status', None)
            if 'status' in old:
                new['status'] = old['status']
        if res == CORE_NS:
            new['status'] = old.get('status', {'phase': 'Active'})
        if res == CRD_RES:
            self._crd_check(new)
            new['status'] = self._crd_status(new, old.get('status'))
        if 'generation' in old_meta and self._spec_changed(old, new):
            new['metadata']['generation'] = old_meta['generation'] + 1
        if self._dry_run(request):
            new['metadata']['resourceVersion'] = old_meta.get('resourceVersion')
            return self._present(new, res, info)
        if new == old:
            return self._present(old, res, info)  # no-op updates keep the resourceVersion
        stored = self._store_replace(sres, namespace, name, old, new)
        if res == CRD_RES:
            self._crd_register(stored)
        return self._present(stored, res, info)

    async def _serve_delete(self, request: kmock.Request) -> Any:
        res, info, sres = self._target(request)
        namespace = request.namespace if info.namespaced else None
        dry_run = self._dry_run(request)
        if request.name is None:  # deletecollection
            labels, fields = self._selectors(request)
            deleted = []
            for obj in self._all(sres, namespace):
                if self._matches(obj, None, None, labels, fields):
                    meta = obj['metadata']
                    deleted.append(obj if dry_run else self._delete_one(res, sres, meta.get('namespace'), meta['name'], obj))
            return {'kind': self._list_kind(res, info),
                    'apiVersion': f'{res.group}/{res.version}' if res.group else res.version,
                    'metadata': {'resourceVersion': str(self._rv)},
                    'items': [self._present(o, res, info) for o in deleted]}
        obj = self._get(sres, namespace, request.name)
        if obj is None:
            raise self._not_found(res, request.name)
        if not dry_run:
            obj = self._delete_one(res, sres, namespace, request.name, obj)
        if res.group in self._builtin_groups() and res != CRD_RES and not obj['metadata'].get('deletionTimestamp'):
            return {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Success',
                    'details': {'name': request.name, 'group': res.group, 'kind': res.plural,
                                'uid': obj['metadata'].get('uid')}}
        return self._present(obj, res, info)

    def _delete_one(self, res: kmock.resource, sres: kmock.resource, namespace: str | None,
                    name: str, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj['metadata']
        if meta.get('finalizers') and res != CORE_NS:
            if meta.get('deletionTimestamp'):
                return obj
            new = copy.deepcopy(obj)
            new['metadata']['deletionTimestamp'] = now_ts()
            new['metadata']['deletionGracePeriodSeconds'] = 0
            return self._store_replace(sres, namespace, name, obj, new)
        if res == CORE_NS:  # Terminating first; the contents and the namespace go a moment later
            if meta.get('deletionTimestamp'):
                return obj
            new = copy.deepcopy(obj)
            new['metadata']['deletionTimestamp'] = now_ts()
            new['status'] = {'phase': 'Terminating'}
            asyncio.get_running_loop().call_later(NAMESPACE_TERMINATION_SECONDS, self._finalize_namespace, name)
            return self._store_replace(sres, namespace, name, obj, new)
        last = self._store_delete(sres, namespace, name, obj)
        if res == CRD_RES:
            self._crd_unregister(obj, delete_objects=True)
        return last

    def _finalize_namespace(self, name: str) -> None:
        """What the namespace controller does: delete the contents (finalizers ignored), then the namespace."""
        ns = self._get(CORE_NS, None, name)
        if ns is None or not ns['metadata'].get('deletionTimestamp'):
            return
        loop = asyncio.get_running_loop()
        quiet_for = loop.time() - self._ns_activity.get(name, 0.0)
        if quiet_for < NAMESPACE_QUIET_SECONDS:  # clients still work inside it (e.g. `kubectl delete -f`)
            loop.call_later(NAMESPACE_QUIET_SECONDS - quiet_for + 0.01, self._finalize_namespace, name)
            return
        for (ores, ons, oname), o in list(self.objects.items()):
            if ons == name and not o.deleted:
                self._store_delete(ores, ons, oname, o.raw)
        self._store_delete(CORE_NS, None, name, ns)

    def _builtin_groups(self) -> set[str]:
        return {r.group for r in self._builtin}

    # --- CustomResourceDefinitions (fix: a created CRD registers its resource) ------------------

    def _crd_check(self, crd: dict[str, Any]) -> None:
        spec = crd.get('spec') or {}
        names = spec.get('names') or {}
        expected = f"{names.get('plural')}.{spec.get('group')}"
        name = crd['metadata'].get('name')
        if not spec.get('group') or not names.get('plural') or not names.get('kind') or not spec.get('versions'):
            raise api_error(422, 'Invalid', f'CustomResourceDefinition.apiextensions.k8s.io "{name}" is invalid: '
                                            'spec.group, spec.names.plural, spec.names.kind and spec.versions are required')
        if name != expected:
            raise api_error(422, 'Invalid', f'CustomResourceDefinition.apiextensions.k8s.io "{name}" is invalid: '
                                            f'metadata.name: Invalid value: "{name}": must be spec.names.plural+"."+spec.group')
        if spec.get('scope') not in ('Namespaced', 'Cluster'):
            raise api_error(422, 'Invalid', f'CustomResourceDefinition.apiextensions.k8s.io "{name}" is invalid: '
                                            'spec.scope: Unsupported value: must be Namespaced or Cluster')

    @staticmethod
    def _crd_status(crd: dict[str, Any], old_status: dict[str, Any] | None = None) -> dict[str, Any]:
        spec = crd['spec']
        ts = now_ts()
        storage = [v['name'] for v in spec['versions'] if v.get('storage')] or [spec['versions'][0]['name']]
        if old_status and old_status.get('acceptedNames') == spec['names']:
            stored = list(old_status.get('storedVersions') or [])
            return {**old_status, 'storedVersions': stored + [v for v in storage if v not in stored]}
        return {
            'acceptedNames': {k: v for k, v in spec['names'].items()},
            'conditions': [
                {'type': 'NamesAccepted', 'status': 'True', 'reason': 'NoConflicts',
                 'message': 'no conflicts found', 'lastTransitionTime': ts},
                {'type': 'Established', 'status': 'True', 'reason': 'InitialNamesAccepted',
                 'message': 'the initial names have been accepted', 'lastTransitionTime': ts},
            ],
            'storedVersions': storage,
        }

    def _crd_register(self, crd: dict[str, Any]) -> None:
        spec = crd['spec']
        group, names = spec['group'], spec['names']
        self._crd_unregister(crd, delete_objects=False)
        versions = [v for v in spec['versions'] if v.get('served', True)]
        storage = next((v['name'] for v in spec['versions'] if v.get('storage')), spec['versions'][0]['name'])
        self._crds[group, names['plural']] = {
            'storage': storage, 'listKind': names.get('listKind') or f"{names['kind']}List",
            'columns': {v['name']: v.get('additionalPrinterColumns') or [] for v in versions},
        }
        for v in versions:
            subresources = set((v.get('subresources') or {}).keys())
            self.resources[kmock.resource(group, v['name'], names['plural'])] = kmock.ResourceInfo(
                namespaced=spec['scope'] == 'Namespaced', kind=names['kind'],
                singular=names.get('singular') or names['kind'].lower(), verbs=set(ALL_VERBS),
                shortnames=set(names.get('shortNames') or []), categories=set(names.get('categories') or []),
                subresources=subresources,
            )

    def _crd_unregister(self, crd: dict[str, Any], delete_objects: bool) -> None:
        spec = crd['spec']
        group, plural = spec['group'], spec['names']['plural']
        for res in list(self.resources):
            if res.group == group and res.plural == plural and res not in self._builtin:
                del self.resources[res]
        meta = self._crds.pop((group, plural), None)
        if delete_objects and meta is not None:
            for (ores, ons, oname), o in list(self.objects.items()):
                if ores.group == group and ores.plural == plural and not o.deleted:
                    self._store_delete(ores, ons, oname, o.raw)

    # --- errors -----------------------------------------------------------------------------------

    async def _render_error(self, exc: Exception) -> aiohttp.web.StreamResponse:
        if isinstance(exc, kmock.KubernetesNotFoundError):  # kmock's own 404s (unknown endpoints)
            body = status_body(404, 'NotFound', 'the server could not find the requested resource')
            return aiohttp.web.json_response(body, status=404)
        if isinstance(exc, kmock.KubernetesError):
            return aiohttp.web.json_response(status_body(exc.status, exc.reason or 'Unknown', exc.message or '',
                                                         exc.details if isinstance(exc.details, dict) else None),
                                             status=exc.status)
        traceback.print_exception(exc, file=sys.stderr)
        return aiohttp.web.json_response(status_body(500, 'InternalError', f'Internal error occurred: {exc!r}'), status=500)


# ---------------------------------------------------------------------------------------------
# The HTTP front: request accounting, fault injection, auth, TLS, kubeconfig
# ---------------------------------------------------------------------------------------------

VERB_BY_METHOD = {'GET': 'get', 'POST': 'create', 'PUT': 'update', 'PATCH': 'patch', 'DELETE': 'delete'}


def k8s_verb(raw: aiohttp.web.BaseRequest, parsed: ParsedPath) -> str:
    if raw.method == 'GET' and raw.query.get('watch') in ('true', '1'):
        return 'watch'
    if raw.method == 'GET' and parsed.name is None:
        return 'list'
    if raw.method == 'DELETE' and parsed.name is None:
        return 'deletecollection'
    return VERB_BY_METHOD.get(raw.method, raw.method.lower())


def forbidden_message(raw: aiohttp.web.BaseRequest, parsed: ParsedPath, user: str) -> tuple[str, dict[str, Any]]:
    if parsed.kind != 'resource':
        return f'forbidden: User "{user}" cannot {raw.method.lower()} path "{raw.path}"', {}
    verb = k8s_verb(raw, parsed)
    resource = parsed.plural + (f'/{parsed.subresource}' if parsed.subresource else '')
    qualified = f'{parsed.plural}.{parsed.group}' if parsed.group else parsed.plural
    subject = f'{qualified} "{parsed.name}"' if parsed.name else qualified
    where = f' in the namespace "{parsed.namespace}"' if parsed.namespace else ' at the cluster scope'
    msg = (f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
           f'in API group "{parsed.group}"{where}')
    details = {'kind': parsed.plural, 'group': parsed.group}
    if parsed.name:
        details['name'] = parsed.name
    return msg, details


REASONS = {400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
           409: 'Conflict', 410: 'Expired', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError',
           503: 'ServiceUnavailable', 504: 'Timeout'}


class Front:
    def __init__(self, emulator: TestApiServer, token: str, user: str = 'test') -> None:
        self.emulator = emulator
        self.token = token
        self.user = user
        self.log: list[dict[str, Any]] = []
        self.faults: list[dict[str, Any]] = []

    async def __call__(self, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        if raw.path == '/_test' or raw.path.startswith('/_test/'):
            return await self.test_endpoint(raw)
        entry: dict[str, Any] = {'method': raw.method, 'path': raw.path, 'query': dict(raw.query),
                                 'status': None, 'content_type': raw.headers.get('Content-Type')}
        self.log.append(entry)
        try:
            response = await self.serve(raw, entry)
        except asyncio.CancelledError:
            entry['status'] = 499  # the client went away (e.g. a watch was closed): nginx's convention
            raise
        entry['status'] = response.status
        return response

    async def serve(self, raw: aiohttp.web.BaseRequest, entry: dict[str, Any]) -> aiohttp.web.StreamResponse:
        fault = self.take_fault(raw)
        if fault is not None:
            entry['fault'] = True
            if fault.get('delay_seconds'):
                await asyncio.sleep(float(fault['delay_seconds']))
            if fault.get('status'):
                return self.fault_response(raw, fault)
        if self.token:
            auth = raw.headers.get('Authorization', '')
            if auth != f'Bearer {self.token}':
                return aiohttp.web.json_response(status_body(401, 'Unauthorized', 'Unauthorized'), status=401)
        return await self.emulator(raw)

    def take_fault(self, raw: aiohttp.web.BaseRequest) -> dict[str, Any] | None:
        for fault in self.faults:
            if fault.get('method') and fault['method'].upper() != raw.method:
                continue
            if fault.get('path') and not re.search(fault['path'], raw.path_qs):
                continue
            if fault['remaining'] is not None:
                fault['remaining'] -= 1
                if fault['remaining'] <= 0:
                    self.faults.remove(fault)
            return fault
        return None

    def fault_response(self, raw: aiohttp.web.BaseRequest, fault: dict[str, Any]) -> aiohttp.web.StreamResponse:
        code = int(fault['status'])
        parsed = parse_k8s_path(raw.path, self.emulator._is_known)
        details: dict[str, Any] = {}
        if code == 401:
            message = 'Unauthorized'
        elif code == 403:
            message, details = forbidden_message(raw, parsed, self.user)
        elif code == 404:
            message = 'the server could not find the requested resource'
        elif code == 409:
            message = 'Operation cannot be fulfilled: the object has been modified; please apply your changes ' \
                      'to the latest version and try again'
        elif code == 429:
            message = 'Too many requests, please try again later.'
        elif code == 503:
            message = 'the server is currently unable to handle the request'
        elif code == 504:
            message = 'the server was unable to return a response in the time allotted, but may still be ' \
                      'processing the request'
        else:
            message = 'Internal error occurred: injected fault'
        reason = fault.get('reason') or REASONS.get(code, 'Unknown' if code >= 400 else '')
        body = status_body(code, reason, fault.get('message') or message, details)
        headers = {}
        if fault.get('retry_after_seconds') is not None:
            headers['Retry-After'] = str(int(fault['retry_after_seconds']))
        return aiohttp.web.json_response(body, status=code, headers=headers)

    async def test_endpoint(self, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        path, method = raw.path.rstrip('/'), raw.method
        if path == '/_test/requests' and method == 'GET':
            return aiohttp.web.json_response(self.log)
        if path == '/_test/requests/reset' and method == 'POST':
            self.log.clear()
            return aiohttp.web.json_response({'ok': True})
        if path == '/_test/faults' and method == 'GET':
            return aiohttp.web.json_response(self.faults)
        if (path == '/_test/faults/reset' and method == 'POST') or (path == '/_test/faults' and method == 'DELETE'):
            self.faults.clear()
            return aiohttp.web.json_response({'ok': True})
        if path == '/_test/faults' and method == 'POST':
            try:
                spec = await raw.json()
                if not isinstance(spec, dict):
                    raise ValueError('expected a JSON object')
                if 'path' in spec and spec['path']:
                    re.compile(spec['path'])
                count = spec.get('count', 1)
                spec['remaining'] = None if count in (None, -1) else int(count)
                if spec.get('status') is not None:
                    spec['status'] = int(spec['status'])
                if not spec.get('status') and not spec.get('delay_seconds'):
                    raise ValueError('a fault needs "status" and/or "delay_seconds"')
            except (ValueError, TypeError, re.error) as e:
                return aiohttp.web.json_response({'error': str(e)}, status=400)
            self.faults.append(spec)
            return aiohttp.web.json_response(self.faults)
        if path == '/_test/objects' and method == 'GET':
            dump: dict[str, list[Any]] = collections.defaultdict(list)
            for (res, ns, name), obj in self.emulator.objects.items():
                if not obj.deleted:
                    dump[f'{res.group}/{res.version}/{res.plural}'.lstrip('/')].append(obj.raw)
            return aiohttp.web.json_response(dump)
        if path == '/_test/healthz':
            return aiohttp.web.json_response({'ok': True})
        return aiohttp.web.json_response({'error': f'unknown test endpoint {method} {path}'}, status=404)


def make_tls(state_dir: pathlib.Path) -> tuple[ssl.SSLContext, bytes]:
    """A throwaway CA and a server certificate for 127.0.0.1 (IP SAN) and localhost."""
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(tz=datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=30)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'kubectl-connections test CA')])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, '127.0.0.1')]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, key_cert_sign=False,
                                     crl_sign=False, content_commitment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address('127.0.0.1')), x509.DNSName('localhost')]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    (state_dir / 'ca.crt').write_bytes(ca_pem)
    (state_dir / 'tls.crt').write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (state_dir / 'tls.key').write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(state_dir / 'tls.crt', state_dir / 'tls.key')
    ctx.set_alpn_protocols(['http/1.1'])
    return ctx, ca_pem


def kubeconfig_text(server: str, token: str, ca_pem: bytes | None) -> str:
    ca_line = f"    certificate-authority-data: {base64.b64encode(ca_pem).decode()}\n" if ca_pem else ''
    return (
        'apiVersion: v1\n'
        'kind: Config\n'
        'clusters:\n'
        '- name: test\n'
        '  cluster:\n'
        f'    server: {server}\n'
        f'{ca_line}'
        'users:\n'
        '- name: test\n'
        '  user:\n'
        f'    token: {token}\n'
        'contexts:\n'
        '- name: test\n'
        '  context:\n'
        '    cluster: test\n'
        '    user: test\n'
        '    namespace: default\n'
        'current-context: test\n'
        'preferences: {}\n'
    )


def write_atomic(path: pathlib.Path, text: str) -> None:
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(text)
    os.replace(tmp, path)


async def main_async(args: argparse.Namespace) -> int:
    state_dir = pathlib.Path(args.state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    for stale in ('port', 'kubeconfig'):
        (state_dir / stale).unlink(missing_ok=True)

    ssl_ctx, ca_pem = make_tls(state_dir) if args.tls else (None, None)
    emulator = TestApiServer()
    # kubectl (client-go) never sends a bearer token over plain http: enforce it only with --tls.
    front = Front(emulator, token=args.token if args.tls else '')
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async with emulator:
        server = aiohttp.web.Server(front, handler_cancellation=True)
        tcp = await loop.create_server(server, '127.0.0.1', args.port, ssl=ssl_ctx)
        port = tcp.sockets[0].getsockname()[1]
        scheme = 'https' if args.tls else 'http'
        url = f'{scheme}://127.0.0.1:{port}'
        write_atomic(state_dir / 'kubeconfig', kubeconfig_text(url, args.token, ca_pem))
        write_atomic(state_dir / 'token', args.token + '\n')
        write_atomic(state_dir / 'url', url + '\n')
        write_atomic(state_dir / 'pid', f'{os.getpid()}\n')
        write_atomic(state_dir / 'port', f'{port}\n')  # last: tests wait for this file
        print(f'serving {url} (state dir {state_dir})', file=sys.stderr, flush=True)
        try:
            await stop.wait()
        finally:
            tcp.close()
            await server.shutdown(timeout=1)
            tcp.close()
    print('stopped', file=sys.stderr, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description='Kubernetes API emulator for tests (kmock-based).')
    parser.add_argument('--tls', action='store_true', help='serve https with a generated throwaway CA')
    parser.add_argument('--port', type=int, default=0, help='TCP port on 127.0.0.1 (0: any free port)')
    parser.add_argument('--state-dir', required=True, help='where kubeconfig, port (and TLS files) are written')
    parser.add_argument('--token', default=DEFAULT_TOKEN,
                        help='bearer token put into the kubeconfig and, with --tls, required from clients '
                             '(empty: no authentication)')
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args))


if __name__ == '__main__':
    sys.exit(main())
