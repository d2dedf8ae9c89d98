"""Object storage with the write semantics of the API server's generic registry and etcd3 storage.

* One global, monotonically increasing resourceVersion (etcd's revision), rendered as a string.
* Create: server-owned metadata (uid, creationTimestamp, resourceVersion, generation) is set by the server;
  a body carrying `metadata.resourceVersion` is a 400; status is cleared for kinds with a status
  subresource; an existing name is a 409 AlreadyExists; a missing namespace is a 404.
* Update (PUT, and every patch after it is applied): a non-empty resourceVersion in the body must equal the
  stored one or the write is a 409 Conflict (empty means unconditional, which all served kinds allow); a UID
  in the body is a precondition; status, uid and creationTimestamp are carried over from the stored object;
  `metadata.generation` moves only when the spec (deployments: or annotations) changes.
* A write that changes nothing is not written: the response carries the unchanged resourceVersion, as etcd3's
  `GuaranteedUpdate` short-circuits identical bytes. (So a no-op PUT does NOT bump resourceVersion; a stale
  no-op PUT is still a 409 because the precondition is checked first.)
* Every check runs before anything is stored, under one lock: a refused write never half-applies.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import threading
import uuid
from collections.abc import Callable
from typing import Any

from . import validation
from .resources import ResourceType
from .schema import format_time
from .status import already_exists, bad_request, conflict, invalid, not_found

Obj = dict[str, Any]
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def _uid_precondition(wanted: str, stored: str) -> str:
    return f"Precondition failed: UID in precondition: {wanted}, UID in object meta: {stored}"


class Store:
    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.namespaces: set[str] = {"default", "kube-system", "kube-public", "kube-node-lease"}
        self._revision = 0
        self._objects: dict[tuple[str, str, str], Obj] = {}

    # ------------------------------------------------------------ reads

    def revision(self) -> str:
        with self.lock:
            return str(self._revision)

    def get(self, rt: ResourceType, namespace: str, name: str) -> Obj | None:
        with self.lock:
            found = self._objects.get((rt.api_version + "/" + rt.plural, namespace, name))
            return copy.deepcopy(found) if found is not None else None

    def require(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        found = self.get(rt, namespace, name)
        if found is None:
            raise not_found(rt.group, rt.plural, name)
        return found

    def list(self, rt: ResourceType, namespace: str | None) -> list[Obj]:
        prefix = rt.api_version + "/" + rt.plural
        with self.lock:
            keys = sorted(k for k in self._objects if k[0] == prefix and namespace in (None, k[1]))
            return [copy.deepcopy(self._objects[k]) for k in keys]

    # ------------------------------------------------------------ writes

    def _next_revision(self) -> str:
        self._revision += 1
        return str(self._revision)

    def _save(self, rt: ResourceType, obj: Obj) -> Obj:
        meta = obj["metadata"]
        meta["resourceVersion"] = self._next_revision()
        self._objects[(rt.api_version + "/" + rt.plural, meta["namespace"], meta["name"])] = copy.deepcopy(obj)
        return obj

    def _check_namespace(self, namespace: str) -> None:
        if namespace not in self.namespaces:
            raise not_found("", "namespaces", namespace)

    def create(self, rt: ResourceType, namespace: str, obj: Obj, *, dry_run: bool = False) -> Obj:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if meta.get("namespace", namespace) != namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        if meta.get("resourceVersion"):
            raise bad_request("resourceVersion should not be set on objects to be created")
        with self.lock:
            self._check_namespace(namespace)
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + "".join(random.choices(_NAME_CHARS, k=5))
            meta["namespace"] = namespace
            for key in (
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "selfLink",
            ):
                meta.pop(key, None)
            meta.pop("generation", None)
            if rt.generation != "none":
                meta["generation"] = 1
            if rt.has_status:
                obj.pop("status", None)
            obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
            validation.apply_defaults(rt, obj)
            errors = validation.validate(rt, obj, None)
            if errors:
                raise invalid(rt.group, rt.kind, meta.get("name", ""), errors)
            if self.get(rt, namespace, meta["name"]) is not None:
                raise already_exists(rt.group, rt.plural, meta["name"])
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = format_time(self.clock())
            if dry_run:
                return obj
            return self._save(rt, obj)

    def update(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        obj: Obj,
        *,
        dry_run: bool = False,
    ) -> tuple[Obj, bool]:
        """PUT semantics. Returns (stored object, created?)."""
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if meta.get("name", "") != name:
            raise bad_request(
                f"the name of the object ({meta.get('name', '')}) does not match the name on the URL ({name})"
            )
        if meta.get("namespace", namespace) != namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        with self.lock:
            old = self.get(rt, namespace, name)
            if old is None:
                if rt.allow_create_on_update:
                    meta.pop("resourceVersion", None)
                    return self.create(rt, namespace, obj, dry_run=dry_run), True
                raise not_found(rt.group, rt.plural, name)
            old_meta = old["metadata"]
            if meta.get("uid") and meta["uid"] != old_meta["uid"]:
                raise conflict(rt.group, rt.plural, name, _uid_precondition(meta["uid"], old_meta["uid"]))
            if meta.get("resourceVersion") and meta["resourceVersion"] != old_meta["resourceVersion"]:
                raise conflict(rt.group, rt.plural, name)
            obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
            meta["namespace"] = namespace
            meta["uid"] = old_meta["uid"]
            meta["creationTimestamp"] = old_meta["creationTimestamp"]
            for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
                meta.pop(key, None)
                if key in old_meta:
                    meta[key] = old_meta[key]
            meta.pop("selfLink", None)
            if rt.has_status:
                obj.pop("status", None)
                if "status" in old:
                    obj["status"] = old["status"]
            validation.apply_defaults(rt, obj)
            errors = validation.validate(rt, obj, old)
            if errors:
                raise invalid(rt.group, rt.kind, name, errors)
            self._bump_generation(rt, obj, old)
            return self._commit(rt, obj, old, dry_run=dry_run), False

    def _bump_generation(self, rt: ResourceType, obj: Obj, old: Obj) -> None:
        if rt.generation == "none":
            return
        changed = obj.get("spec") != old.get("spec")
        if rt.generation == "spec+annotations":
            changed = changed or obj["metadata"].get("annotations") != old["metadata"].get("annotations")
        if changed:
            obj["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1

    def _commit(self, rt: ResourceType, obj: Obj, old: Obj, *, dry_run: bool) -> Obj:
        meta = obj["metadata"]
        meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        if obj == old or dry_run:
            return obj
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            del self._objects[(rt.api_version + "/" + rt.plural, meta["namespace"], meta["name"])]
            self._revision += 1
            return obj
        return self._save(rt, obj)

    def delete(self, rt: ResourceType, namespace: str, name: str, options: Obj, *, dry_run: bool = False) -> Obj:
        with self.lock:
            old = self.require(rt, namespace, name)
            old_meta = old["metadata"]
            pre = options.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != old_meta["uid"]:
                raise conflict(rt.group, rt.plural, name, _uid_precondition(pre["uid"], old_meta["uid"]))
            if pre.get("resourceVersion") and pre["resourceVersion"] != old_meta["resourceVersion"]:
                why = (
                    f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                    f"ResourceVersion in object meta: {old_meta['resourceVersion']}"
                )
                raise conflict(rt.group, rt.plural, name, why)
            if old_meta.get("finalizers"):
                if not old_meta.get("deletionTimestamp"):
                    old_meta["deletionTimestamp"] = format_time(self.clock())
                    old_meta["deletionGracePeriodSeconds"] = 0
                    if "generation" in old_meta:
                        old_meta["generation"] += 1
                    if not dry_run:
                        self._save(rt, old)
                return old
            if not dry_run:
                del self._objects[(rt.api_version + "/" + rt.plural, namespace, name)]
                self._revision += 1
            details: Obj = {"name": name, "group": rt.group, "kind": rt.plural, "uid": old_meta["uid"]}
            if not rt.group:
                del details["group"]
            return {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": details,
            }

    # ------------------------------------------------------------ direct access for tests

    def put(self, rt: ResourceType, obj: Obj) -> Obj:
        """Store `obj` as a controller would have written it: no validation, status kept, defaults applied."""
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") or not meta.get("namespace"):
            raise ValueError("put_object needs metadata.name and metadata.namespace")
        obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
        with self.lock:
            self.namespaces.add(meta["namespace"])
            old = self.get(rt, meta["namespace"], meta["name"])
            validation.apply_defaults(rt, obj)
            if old is None:
                meta.setdefault("uid", str(uuid.uuid4()))
                meta.setdefault("creationTimestamp", format_time(self.clock()))
                if rt.generation != "none":
                    meta.setdefault("generation", 1)
            else:
                meta.setdefault("uid", old["metadata"]["uid"])
                meta.setdefault("creationTimestamp", old["metadata"]["creationTimestamp"])
                if rt.generation != "none" and "generation" not in meta:
                    meta["generation"] = old["metadata"].get("generation", 1)
                    self._bump_generation(rt, obj, old)
            return self._save(rt, obj)

    def remove(self, rt: ResourceType, namespace: str, name: str) -> bool:
        with self.lock:
            key = (rt.api_version + "/" + rt.plural, namespace, name)
            if key not in self._objects:
                return False
            del self._objects[key]
            self._revision += 1
            return True

    def touch(self, rt: ResourceType, namespace: str, name: str) -> bool:
        """Give the object a new resourceVersion, as if another client had written it meanwhile."""
        with self.lock:
            key = (rt.api_version + "/" + rt.plural, namespace, name)
            if key not in self._objects:
                return False
            self._objects[key]["metadata"]["resourceVersion"] = self._next_revision()
            return True
