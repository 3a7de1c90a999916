"""Reading pages as a person does: parse a response into a tree of nodes and find text in it.

``page_of(response)`` asserts a 200 and returns the root ``Node``; ``local(pod, "2025-03-31 23:30")``
is a wall-clock time in the pod's zone, the way a test writes the facts a page should count.
"""

import datetime as dt
import re
import zoneinfo
from html.parser import HTMLParser

VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    """An element of a parsed page: tag, attributes, children and text."""

    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def text(self, *, spoken: bool = False) -> str:
        """Visible text (``spoken``: what a screen reader reads: hidden-for-sight text in, aria-hidden out)."""
        parts = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif (spoken and child.attrs.get("aria-hidden") == "true") or (
                not spoken and "visually-hidden" in child.classes
            ):
                continue
            else:
                parts.append(child.text(spoken=spoken))
        return re.sub(r"\s+", " ", " ".join(parts)).strip()

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag=None, cls=None, **attrs) -> list["Node"]:
        found = []
        for node in self.iter():
            if tag and node.tag != tag:
                continue
            if cls and cls not in node.classes:
                continue
            if any(
                (node.attrs.get(name.replace("_", "-")) != value)
                if value is not True
                else name.replace("_", "-") not in node.attrs
                for name, value in attrs.items()
            ):
                continue
            found.append(node)
        return found

    def find(self, tag=None, cls=None, **attrs) -> "Node":
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag or '*'} class={cls} {attrs}> on the page"
        return found[0]


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self._current = self.root
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self._current)
        self._current.children.append(node)
        if tag not in VOID_TAGS:
            self._current = node

    def handle_startendtag(self, tag, attrs):
        self._current.children.append(Node(tag, attrs, self._current))

    def handle_endtag(self, tag):
        node = self._current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self._current = node.parent

    def handle_data(self, data):
        self._current.children.append(data)


def page_of(response) -> Node:
    assert response.status_code == 200, response.status_code
    return Page(response.content.decode()).root


def local(pod, text: str) -> dt.datetime:
    """A wall-clock time in the pod's zone, e.g. ``local(pod, "2025-03-31 23:30")``."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=zoneinfo.ZoneInfo(pod.timezone))
