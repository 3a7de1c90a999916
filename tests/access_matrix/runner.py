"""Sends the matrix's requests and compares every answer with the table (``policies.TABLE``).

Each answer is one *cell*: route × method × role × object (or list filter). Problems are collected
rather than raised, so one failing route reports every wrong cell at once. Writes run inside a
savepoint that is rolled back, so every cell starts from the same world.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.shortcuts import resolve_url
from django.urls import reverse

from .policies import DELETE, GET, PATCH, POST, PUT, Policy, Target
from .world import ADMINS, PODS, ROLES, World

ANONYMOUS = "anonymous"
METHODS = (GET, POST, PUT, PATCH, DELETE)


@dataclass
class Ledger:
    """Totals over the whole run, printed at the end (the hardening issue publishes them)."""

    cells: int = 0
    unauthorised_2xx: int = 0
    unexpected_writes: int = 0
    routes: set = field(default_factory=set)
    by_kind: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(self.by_kind.items()))
        return (
            f"access matrix: {len(self.routes)} routes, {len(ROLES)} roles, {self.cells} cells checked ({kinds}); "
            f"unauthorised 2xx found: {self.unauthorised_2xx}; writes on refusal: {self.unexpected_writes}"
        )


LEDGER = Ledger()


def is_2xx(response) -> bool:
    return 200 <= response.status_code < 300


class Matrix:
    """The cells of one route, for every role."""

    def __init__(self, *, key: str, policy: Policy, world: World, clients: dict, format_suffix: bool):
        self.key = key
        self.policy = policy
        self.world = world
        self.clients = clients
        self.format_suffix = format_suffix
        self.problems: list[str] = []
        self.markers = world.markers()
        LEDGER.routes.add(key)

    # --- requests ---------------------------------------------------------------------------------

    def url(self, kwargs=None, query=None, fmt=None) -> str:
        kwargs = dict(kwargs or {})
        if fmt:
            kwargs["format"] = fmt
        url = reverse(self.key, kwargs=kwargs)
        return f"{url}?{urlencode(query)}" if query else url

    def get(self, role, url):
        return self.clients[role].get(url)

    def send(self, role, method, url, data=None, encoding="json"):
        client = self.clients[role]
        if method == GET:
            return client.get(url)
        if encoding == "form":
            if method == POST:
                return client.post(url, data or {})
            return client.generic(method, url, urlencode(data or {}), content_type="application/x-www-form-urlencoded")
        return client.generic(method, url, json.dumps(data or {}), content_type="application/json")

    @staticmethod
    def body(response) -> str:
        if not hasattr(response, "_matrix_body"):
            raw = b"".join(response.streaming_content) if response.streaming else response.content
            response._matrix_body = raw.decode("utf-8", errors="replace")
        return response._matrix_body

    def fingerprint(self, response, url):
        """Status, type, redirect and body, with the requested path blanked (the caller sent it)."""
        sent = (url, urlsplit(url).path)  # with its query first, then the bare path

        def blank(text):
            for part in sent:
                for variant in (quote(part, safe=""), quote(part, safe="/"), part):
                    text = text.replace(variant, "<sent>")
            return text

        return (
            response.status_code,
            response.get("Content-Type", ""),
            blank(response.get("Location", "")),
            blank(self.body(response)),
        )

    # --- bookkeeping ------------------------------------------------------------------------------

    def cell(self, kind: str, where: str, problem: str | None, *, unauthorised: bool = False, wrote: bool = False):
        LEDGER.cells += 1
        LEDGER.by_kind[kind] += 1
        if unauthorised:
            LEDGER.unauthorised_2xx += 1
        if wrote:
            LEDGER.unexpected_writes += 1
        if problem:
            self.problems.append(f"{where}: {problem}")

    @staticmethod
    def describe(response) -> str:
        text = Matrix.body(response)
        location = response.get("Location")
        extra = f" -> {location}" if location else ""
        return f"{response.status_code}{extra} {text[:160]!r}"

    def gate_problem(self, response) -> str | None:
        """Anonymous callers: the API answers 401/403, pages redirect to the login page."""
        if self.policy.api:
            if response.status_code in (401, 403):
                return None
            return f"anonymous: expected 401/403, got {self.describe(response)}"
        login = resolve_url(settings.LOGIN_URL)
        if response.status_code == 302 and response["Location"].startswith(f"{login}?next="):
            return None
        return f"anonymous: expected a redirect to {login}, got {self.describe(response)}"

    def leak_problem(self, role, response) -> str | None:
        """A 2xx answer shows nothing of a pod outside the route's scope for the role (``SEES``, or
        ``READS`` for the read-only pages), nor any import unless an admin."""
        if role in ADMINS or not is_2xx(response):
            return None
        text = self.body(response)
        for pod in sorted(set(PODS) - self.policy.scope[role]):
            shown = sorted(marker for marker in self.markers[pod] if marker in text)
            if shown:
                return f"shows data of pod {pod}: {shown}"
        shown = sorted(marker for marker in self.markers["imports"] if marker in text)
        return f"shows imports: {shown}" if shown else None

    def same_answers(self, kind: str, where: str, answers: list[tuple]):
        """Refusals of objects the role may not see and answers about missing objects must be identical."""
        distinct = {}
        for label, fingerprint, *_ in answers:
            distinct.setdefault(fingerprint, []).append(label)
        problem = None
        if len(distinct) > 1:
            parts = [f"{labels} -> {fp[0]} {str(fp[2:])[:200]}" for fp, labels in distinct.items()]
            problem = "other and missing answer differently: " + " | ".join(parts)
        self.cell(kind, where, problem)

    # --- reads -------------------------------------------------------------------------------------

    def variants(self):
        return [None, "json"] if self.policy.api and self.format_suffix else [None]

    def run_reads(self):
        read = self.policy.read
        if read is None:
            return
        for role in ROLES:
            for fmt in self.variants():
                if self.policy.targets is None:
                    self._read_route(role, fmt)
                else:
                    self._read_objects(role, fmt)

    def _read_route(self, role, fmt, method=GET):
        read = self.policy.read
        url = self.url(query=read.query, fmt=fmt)
        with transaction.atomic():
            response = self.send(role, method, url)
            self.body(response)
            transaction.set_rollback(True)
        where = f"{method} {url} as {role}"
        if role == ANONYMOUS and not self.policy.public:
            self.cell("read", where, self.gate_problem(response), unauthorised=is_2xx(response))
        elif read.may(role, None):
            problem = None
            if response.status_code != read.ok:
                problem = f"expected {read.ok}, got {self.describe(response)}"
            leak = self.leak_problem(role, response)
            problem = problem or leak
            if problem is None and read.check:
                problem = read.check(self.world, role, None, response, self.body(response))
            self.cell("read", where, problem, unauthorised=bool(leak))
        else:
            problem = None
            if response.status_code != read.refused:
                problem = f"expected {read.refused}, got {self.describe(response)}"
            self.cell("read", where, problem, unauthorised=is_2xx(response))

    def _read_objects(self, role, fmt):
        read = self.policy.read
        refusals, missing = [], []
        for target in self.policy.targets(self.world):
            url = self.url(target.kwargs, {**read.query, **target.query}, fmt)
            response = self.get(role, url)
            where = f"GET {url} as {role} [{target.label}]"
            fingerprint = read.fingerprint(response) if read.fingerprint else self.fingerprint(response, url)
            if role == ANONYMOUS and not self.policy.public:
                self.cell("read", where, self.gate_problem(response), unauthorised=is_2xx(response))
                refusals.append((target.label, fingerprint, False))
            elif target.missing:
                problem = None
                if response.status_code not in read.missing:
                    problem = f"missing: expected {sorted(read.missing)}, got {self.describe(response)}"
                self.cell("read", where, problem)
                missing.append((target.label, fingerprint, False))
            elif read.may(role, target):
                problem = None
                if response.status_code != read.ok:
                    problem = f"may see it: expected {read.ok}, got {self.describe(response)}"
                leak = self.leak_problem(role, response)
                problem = problem or leak
                if problem is None and read.check:
                    problem = read.check(self.world, role, target, response, self.body(response))
                self.cell("read", where, problem, unauthorised=bool(leak))
            elif read.sees is not None and read.sees(role, target):
                # Seen but not the caller's to open: 403, as the contract says.
                problem = None
                if response.status_code != 403:
                    problem = f"seen, not openable: expected 403, got {self.describe(response)}"
                self.cell("read", where, problem, unauthorised=is_2xx(response))
            else:
                # Judged against the missing answers below; a 2xx that differs from them is a leak.
                refusals.append((target.label, fingerprint, is_2xx(response)))
        self._judge_refusals("read", f"GET {self.key} as {role}{' (.json)' if fmt else ''}", refusals, missing)

    def _judge_refusals(self, kind, where, refusals, missing):
        """``refusals``: (label, fingerprint, answered 2xx); a 2xx unlike the missing answer is unauthorised."""
        missing_prints = {fingerprint for _, fingerprint, _ in missing}
        LEDGER.unauthorised_2xx += sum(
            1 for _, fingerprint, answered_2xx in refusals if answered_2xx and fingerprint not in missing_prints
        )
        if refusals or missing:
            self.same_answers(kind, where, refusals + missing)

    # --- lists -------------------------------------------------------------------------------------

    def run_rows(self):
        read = self.policy.read
        rows = read.rows if read else None
        if rows is None:
            return
        for role in ROLES:
            if role == ANONYMOUS or not read.may(role, None):
                continue
            filters = [None] + ([*PODS, "missing"] if rows.pod_param else [])
            for pod in filters:
                query = dict(read.query)
                if pod:
                    query[rows.pod_param] = self.world.pods[pod].slug if pod != "missing" else "no-such-pod"
                url = self.url(query=query)
                where = f"rows of GET {url} as {role}"
                try:
                    got = rows.read(self, role, url)
                except AssertionError as error:
                    self.cell("rows", where, str(error))
                    continue
                expected = set() if pod == "missing" else {str(x) for x in rows.expected(self.world, role, pod)}
                got_set = {str(x) for x in got}
                problem = None
                if len(got) != len(got_set):
                    problem = f"rows repeated: {sorted(got)}"
                elif got_set != expected:
                    extra, absent = sorted(got_set - expected), sorted(expected - got_set)
                    problem = f"not permitted but listed: {extra}; permitted but not listed: {absent}"
                self.cell("rows", where, problem, unauthorised=bool(got_set - expected))

    # --- writes ------------------------------------------------------------------------------------

    def run_writes(self):
        for write in self.policy.writes:
            if write.references is not None:
                targets = write.references(self.world)
            elif self.policy.targets is not None:
                targets = self.policy.targets(self.world)
            else:
                targets = [None]
            for role in ROLES:
                refusals, missing = [], []
                for target in targets:
                    self._write_cell(write, role, target, refusals, missing)
                self._judge_refusals("write", f"{write.method} {self.key} as {role}", refusals, missing)

    def _write_cell(self, write, role, target: Target | None, refusals, missing):
        in_url = target is not None and write.references is None
        url = self.url(target.kwargs if in_url else None, target.query if in_url else None)
        with transaction.atomic():
            before = write.state(self.world, target)
            response = self.send(role, write.method, url, write.payload(self.world, role, target), write.encoding)
            after = write.state(self.world, target)
            self.body(response)
            transaction.set_rollback(True)
        changed = before != after
        label = target.label if target else "-"
        where = f"{write.method} {url} as {role} [{label}]"
        fingerprint = write.fingerprint(response) if write.fingerprint else self.fingerprint(response, url)

        def refused(problem):
            if changed:
                problem = (problem + "; " if problem else "") + "but the data changed"
            return problem

        if role == ANONYMOUS and not self.policy.public:
            problem = refused(self.gate_problem(response))
            self.cell("write", where, problem, unauthorised=is_2xx(response), wrote=changed)
            refusals.append((label, fingerprint, False))
        elif target is None:
            if write.may(role, None):
                self._write_ok(write, role, target, response, (before, after), where)
            else:
                problem = None if response.status_code == write.refused else f"expected {write.refused}"
                problem = refused(problem and f"{problem}, got {self.describe(response)}")
                self.cell("write", where, problem, unauthorised=is_2xx(response), wrote=changed)
        elif target.missing:
            allowed = write.missing(role)
            problem = None if response.status_code in allowed else f"missing: expected {sorted(allowed)}"
            problem = refused(problem and f"{problem}, got {self.describe(response)}")
            self.cell("write", where, problem, wrote=changed)
            missing.append((label, fingerprint, False))
        elif write.may(role, target):
            self._write_ok(write, role, target, response, (before, after), where)
        elif write.sees is not None and write.sees(role, target):
            # Seen but not the caller's to change: 403, as the contract says.
            problem = None
            if response.status_code != 403:
                problem = f"seen, not changeable: expected 403, got {self.describe(response)}"
            self.cell("write", where, refused(problem), unauthorised=is_2xx(response), wrote=changed)
        else:
            self.cell("write", where, refused(None), wrote=changed)
            refusals.append((label, fingerprint, is_2xx(response)))

    def _write_ok(self, write, role, target, response, states, where):
        before, after = states
        problem = None
        if response.status_code != write.ok:
            problem = f"may: expected {write.ok}, got {self.describe(response)}"
        elif write.outcome is not None:
            # What a permitted write must change, exactly (the caller's own rows, nobody else's).
            problem = write.outcome(self.world, role, target, before, after)
        elif before == after:
            problem = "answered success but nothing was written"
        if problem is None and write.check:
            problem = write.check(self.world, role, target, response)
        self.cell("write", where, problem)

    # --- methods nobody may use ---------------------------------------------------------------------

    def run_undeclared_methods(self):
        """Methods outside the policy answer no one with a 2xx (a new method needs a table entry)."""
        targets = self.policy.targets(self.world) if self.policy.targets else [None]
        for method in METHODS:
            if method in self.policy.methods:
                continue
            if method in self.policy.answers_like_get:
                for role in ROLES:
                    self._read_route(role, None, method)
                continue
            for role in ROLES:
                target = next((t for t in targets if t is None or not t.missing), None)
                url = self.url(target.kwargs if target else None, target.query if target else None)
                with transaction.atomic():
                    response = self.send(role, method, url, {}, "json")
                    self.body(response)
                    transaction.set_rollback(True)
                problem = None
                if is_2xx(response):
                    problem = f"undeclared method answered {self.describe(response)}"
                self.cell("method", f"{method} {url} as {role}", problem, unauthorised=is_2xx(response))

    def run(self):
        self.run_reads()
        self.run_rows()
        self.run_writes()
        self.run_undeclared_methods()
        return self.problems
