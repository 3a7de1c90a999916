"""Pods and staff files: a line per pod or person, written through the ORM.

A pod's leaders are a many-to-many set, and a change of assignment must go through
``pods.services.assignment_reassign``, the one definition of a reassignment.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Max

from pods.models import Assignment, Pod, User
from pods.services import assignment_reassign

from .parsing import ErrorLog, ImportRejected
from .tables import Rows, Written


def _repeated_keys(rows: list[tuple[int, dict[str, Any]]], column: str, log: ErrorLog) -> None:
    first_lines: dict[Any, int] = {}
    for line, values in rows:
        key = values[column]
        if key is None:
            continue
        if key in first_lines:
            log.add(line, column, f'The file already has a row with {column} "{key}", on line {first_lines[key]}.')
        else:
            first_lines[key] = line


def _set_fields(instance: models.Model, values: dict[str, Any], names: Iterable[str]) -> list[str]:
    """Set the given fields that differ; return their names (nothing is saved)."""
    changed = []
    for name in names:
        if getattr(instance, name) != values[name]:
            setattr(instance, name, values[name])
            changed.append(name)
    return changed


def _users_by_username(usernames: Iterable[str]) -> dict[str, User]:
    """The users of these usernames, created (without a usable password) when missing."""
    wanted = set(usernames)
    users = {user.username: user for user in User.objects.filter(username__in=wanted)}
    for name in sorted(wanted - users.keys()):
        user = User(username=name)
        user.set_unusable_password()
        user.save()
        users[name] = user
    return users


def load_pods(rows: Rows, present: frozenset[str], log: ErrorLog) -> Written:
    rows = list(rows)  # a line per pod: small
    _repeated_keys(rows, "slug", log)
    if log:
        raise ImportRejected(log)
    existing = {pod.slug: pod for pod in Pod.objects.filter(slug__in=[values["slug"] for _, values in rows])}
    with_leaders = "leaders" in present
    leaders = _users_by_username(name for _, values in rows if with_leaders for name in values["leaders"] or ())
    fields = [name for name in ("name", "timezone", "territory") if name in present]
    created = updated = 0
    for _, values in rows:
        values = {**values, "territory": values["territory"] or ""}
        pod = existing.get(values["slug"])
        if pod is None:
            pod = Pod.objects.create(**{name: values[name] for name in ("slug", *fields)})
            created += 1
            changed = True
        else:
            changed_fields = _set_fields(pod, values, fields)
            if changed_fields:
                pod.save(update_fields=changed_fields)
            changed = bool(changed_fields)
        if with_leaders:
            wanted = {leaders[name].pk for name in values["leaders"] or ()}
            if set(pod.leaders.values_list("pk", flat=True)) != wanted:
                pod.leaders.set(wanted)  # adds and removes only the difference
                changed = True
        if changed and values["slug"] in existing:
            updated += 1
    return Written(created, updated)


def load_staff(rows: Rows, present: frozenset[str], log: ErrorLog) -> Written:
    rows = list(rows)  # a line per person: small
    _repeated_keys(rows, "username", log)
    pods = {pod.slug: pod for pod in Pod.objects.filter(slug__in={values["pod"] for _, values in rows})}
    for line, values in rows:
        if values["pod"] is not None and values["pod"] not in pods:
            log.add(line, "pod", f'Unknown pod "{values["pod"]}".')
    if log:
        raise ImportRejected(log)
    usernames = [values["username"] for _, values in rows]
    known = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    people = _users_by_username(usernames)
    last_assignment = Assignment.objects.aggregate(last=Max("pk"))["last"] or 0
    created = updated = 0
    # Staff files are small (a line per person), so this loop calls assignment_reassign row by row:
    # it is the one definition of "the active assignment ends on started_on and a new one starts".
    for line, values in rows:
        person = people[values["username"]]
        personal = {"full_name": values["full_name"] or "", "email": values["email"] or ""}
        changed_fields = _set_fields(person, personal, [name for name in personal if name in present])
        if changed_fields:
            person.save(update_fields=changed_fields)
        try:
            assignment = assignment_reassign(
                person=person, pod=pods[values["pod"]], job=values["job"], effective_on=values["started_on"]
            )
        except ValidationError as error:
            log.add(line, "started_on", " ".join(error.messages))
            continue
        if person.username not in known:
            created += 1
        elif changed_fields or assignment.pk > last_assignment:  # unchanged: the current one comes back
            updated += 1
    if log:
        raise ImportRejected(log)
    return Written(created, updated)


ORM_LOADS: dict[str, Callable[[Rows, frozenset[str], ErrorLog], Written]] = {"pods": load_pods, "staff": load_staff}
