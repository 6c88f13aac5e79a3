#!/usr/bin/env python3
"""Checks the docs as a reader meets them (make docs-check, part of make test):

- every link and image in the built book (target/book) that stays inside it
  leads to a file that exists, and its #anchor to an element with that id;
- every relative link in README.md leads to a file of the repository, and its
  #anchor to a heading of that Markdown file;
- every `make TARGET` named in README.md or the book is a target of the
  Makefile;
- README.md stays the short front door (at most 150 lines).

Prints each problem with where it is; exits 1 if there is any.
"""
import html.parser
import pathlib
import re
import sys
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
README_MAX_LINES = 150


class Page(html.parser.HTMLParser):
    """The ids a page defines and the links it makes."""

    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])


def parse(path):
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def external(link):
    """A link to elsewhere, or to the root of wherever the book is served."""
    return bool(urllib.parse.urlsplit(link).scheme) or link.startswith("/")


def check_book(book, problems):
    pages = {path: parse(path) for path in book.rglob("*.html")}
    if not pages:
        problems.append(f"{book}: no HTML: build the book first (make docs)")
    for path, page in pages.items():
        for link in page.links:
            if external(link):
                continue
            target, _, anchor = link.partition("#")
            target = urllib.parse.unquote(target.split("?")[0])
            where = (path.parent / target).resolve() if target else path
            if where.is_dir():
                where = where / "index.html"
            name = path.relative_to(book)
            if not where.exists():
                problems.append(f"book {name}: broken link {link}")
            elif anchor and where.suffix == ".html":
                ids = pages[where].ids if where in pages else parse(where).ids
                if anchor not in ids:
                    problems.append(f"book {name}: no #{anchor} in {where.relative_to(book)}")


def slug(heading):
    """The anchor GitHub (and mdBook) give a Markdown heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def headings(path):
    fenced, found = False, set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            found.add(slug(line.lstrip("#")))
    return found


def check_readme(problems):
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    lines = text.count("\n")
    if lines > README_MAX_LINES:
        problems.append(f"README.md: {lines} lines; keep it under {README_MAX_LINES} (long text goes in the book)")
    for link in re.findall(r"\]\(([^)\s]+)", text):
        if external(link) or link.startswith("#"):
            continue
        target, _, anchor = link.partition("#")
        where = ROOT / target
        if not where.exists():
            problems.append(f"README.md: broken link {link}")
        elif anchor and where.suffix == ".md" and anchor not in headings(where):
            problems.append(f"README.md: no heading #{anchor} in {target}")


def make_targets():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w-]*):", makefile, re.M))


def check_make_targets(problems):
    targets = make_targets()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs" / "src").rglob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        # Only where a command is shown: code spans and code blocks.
        spans = re.findall(r"```.*?```", text, re.S) + re.findall(r"`([^`\n]+)`", text)
        for target in (t for span in spans for t in re.findall(r"\bmake ([a-z][\w-]*)", span)):
            if target not in targets:
                problems.append(f"{path.relative_to(ROOT)}: `make {target}` is not a target of the Makefile")


def main():
    book = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "target" / "book")
    problems = []
    check_book(book, problems)
    check_readme(problems)
    check_make_targets(problems)
    for problem in problems:
        print(problem)
    if problems:
        sys.exit(1)
    print("docs: every internal link, anchor and make target resolves; README.md is short")


if __name__ == "__main__":
    main()
