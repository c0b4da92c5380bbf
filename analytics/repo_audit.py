"""Static check of a course's companion Go repository (代码仓库体检). No Django; never executes the code.

`audit(tree)` turns a `RepoTree` (analytics/repo_archive.py reads one from a directory or a .tar.gz) into
figures, each with a verdict — good / concern / bad, or info when it does not apply — and what it means for a
learner, in Chinese and English (analytics/repo_audit_meanings.py; the page picks the language).

Go source is analysed lexically: comments, string and rune literals are stripped first (string literals are
kept aside so `fmt.Errorf` format strings can still be read), so code in comments or strings never counts.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from analytics.repo_archive import NotAGoRepository, RepoTree
from analytics.repo_audit_meanings import LABELS, MEANINGS

Verdict = Literal["good", "concern", "bad", "info"]
VERDICT_POINTS: dict[str, float] = {"good": 1.0, "concern": 0.5, "bad": 0.0}

# Directories whose code is not the course's own: dependencies, fixtures, tooling.
SKIPPED_DIRS = frozenset({"vendor", "testdata", "node_modules", "third_party"})
CI_FILES = (
    ".gitlab-ci.yml",
    ".travis.yml",
    ".circleci/config.yml",
    "Jenkinsfile",
    ".drone.yml",
    "azure-pipelines.yml",
    "bitbucket-pipelines.yml",
)
GOPATH_MARKERS = {
    "Godeps/Godeps.json": "Godeps",
    "glide.yaml": "glide",
    "Gopkg.toml": "dep",
    "Gopkg.lock": "dep",
    "vendor/vendor.json": "govendor",
}
NETWORK_PACKAGES = frozenset({"net/http", "net", "database/sql", "google.golang.org/grpc"})


# --- Go source, lexically ---

# An unterminated block comment or raw string runs to the end of the file (as the Go compiler reads it), so a
# hostile file full of "/*" cannot make the scan quadratic.
_LEXEME = re.compile(
    r"//[^\n]*|/\*.*?(?:\*/|\Z)|\"(?:\\.|[^\"\\\n])*\"|`[^`]*(?:`|\Z)|'(?:\\.|[^'\\\n])*'",
    re.DOTALL,
)
# fmt.Errorf arguments are read this far at most: far beyond any real call, and bounded however they nest.
_ARGS_LIMIT = 2_000


@dataclass(frozen=True)
class GoSource:
    code: str  # comments removed, each string literal replaced by "S<index>", rune literals by 'r'
    strings: list[str]
    package: str


def strip_go(source: str) -> GoSource:
    strings: list[str] = []

    def replace(match: re.Match[str]) -> str:
        text = match.group(0)
        newlines = "\n" * text.count("\n")
        if text.startswith("//"):
            return ""
        if text.startswith("/*"):
            return " " + newlines
        if text.startswith("'"):
            return "'r'"
        strings.append(text[1:-1])
        return f'"S{len(strings) - 1}"' + newlines

    code = _LEXEME.sub(replace, source)
    package = re.search(r"^\s*package\s+(\w+)", code, re.MULTILINE)
    return GoSource(code=code, strings=strings, package=package.group(1) if package else "")


class _Blocks:
    """Where each '{' and '(' closes, and whether a pattern occurs inside, for one stripped file.

    Matching brackets in one pass and looking occurrences up by position keeps the work linear in the file's
    size however many (or however deeply nested) the blocks are: a hostile file cannot make it quadratic.
    """

    def __init__(self, code: str):
        self.code = code
        self.closing: dict[int, int] = {}
        stacks: dict[str, list[int]] = {"{": [], "(": []}
        for match in re.finditer(r"[{}()]", code):
            char = match.group()
            if char in stacks:
                stacks[char].append(match.start())
            elif stack := stacks["{" if char == "}" else "("]:
                self.closing[stack.pop()] = match.start()
        self._occurrences: dict[str, list[int]] = {}

    def span(self, opening: int, *, limit: int | None = None) -> tuple[int, int]:
        """(start, end) of the bracket opened at `opening`; unclosed, to the end of the file (or `limit`)."""
        end = self.closing.get(opening, len(self.code))
        return opening, end if limit is None else min(end, opening + limit)

    def contains(self, pattern: str, span: tuple[int, int]) -> bool:
        if pattern not in self._occurrences:
            self._occurrences[pattern] = [match.start() for match in re.finditer(pattern, self.code)]
        positions = self._occurrences[pattern]
        index = bisect_right(positions, span[0])
        return index < len(positions) and positions[index] < span[1]


_TEST_FUNC = re.compile(r"^func\s+(Test|Benchmark|Fuzz|Example)(?:[A-Z_0-9]\w*)?\s*\(", re.MULTILINE)
_CTX_PARAM = re.compile(r"\b\w+\s+context\.Context\b")
_HTTP_CLIENT_LITERAL = re.compile(r"\bhttp\.Client\s*\{")
_HTTP_DEFAULT = re.compile(r"\bhttp\.(?:Get|Post|Head|PostForm)\s*\(|\bhttp\.DefaultClient\b")
_SELECT = re.compile(r"\bselect\s*\{")
_GO_STMT = re.compile(r"(?<![\w.])go\s+(?:(?P<literal>func)\b|[\w.]+\s*\()")
_SYNC_NEARBY = re.compile(r"\bWaitGroup\b|\berrgroup\b|\bwg\.(?:Add|Wait|Done)\b")
_ERRORF = re.compile(r"\bfmt\.Errorf\s*\(")
_FIRST_LITERAL = re.compile(r'\s*"S(\d+)"')
_ERR_NAME = r"\berr\b|\b[a-z]\w*Err\b|\berr[A-Z]\w*"
_ERRORS_IS_AS = re.compile(r"\berrors\.(?:Is|As)\s*\(")
_PANIC = re.compile(r"(?<![\w.])panic\s*\(")
_FUNC_START = re.compile(r"^func\b", re.MULTILINE)


@dataclass
class GoCounts:
    go_files: int = 0
    test_files: int = 0
    code_lines: int = 0
    test_lines: int = 0
    test_functions: int = 0
    benchmarks: int = 0
    fuzz_tests: int = 0
    examples: int = 0
    context_params: int = 0
    http_clients_with_timeout: int = 0
    http_clients_without_timeout: int = 0
    selects: int = 0
    selects_with_timeout_or_cancel: int = 0
    goroutines: int = 0
    goroutines_unsynced: int = 0
    errorf_wrapped: int = 0
    errorf_unwrapped: int = 0
    errors_is_as: int = 0
    panics_outside_main: int = 0
    network_code: bool = False


def _enclosing_function(code: str, starts: list[int], position: int) -> tuple[int, int]:
    """(begin, end) of the top-level declaration around `position`; `starts`: where lines start with func."""
    index = bisect_right(starts, position)
    return (starts[index - 1] if index else 0), (starts[index] if index < len(starts) else len(code))


def count_go(files: Iterable[tuple[str, str]]) -> GoCounts:
    counts = GoCounts()
    for path, text in files:
        source = strip_go(text)
        code = source.code
        is_test = path.endswith("_test.go")
        lines = sum(1 for line in code.splitlines() if line.strip())
        counts.go_files += 1
        if is_test:
            counts.test_files += 1
            counts.test_lines += lines
            for match in _TEST_FUNC.finditer(code):
                kind = match.group(1)
                if kind == "Test":
                    counts.test_functions += 1
                elif kind == "Benchmark":
                    counts.benchmarks += 1
                elif kind == "Fuzz":
                    counts.fuzz_tests += 1
                else:
                    counts.examples += 1
        else:
            counts.code_lines += lines
        imports = {
            source.strings[int(index)]
            for block in re.findall(r"\bimport\s*(\([^)]*\)|\"S\d+\")", code)
            for index in re.findall(r'"S(\d+)"', block)
        }
        if imports & NETWORK_PACKAGES:
            counts.network_code = True
        counts.context_params += len(_CTX_PARAM.findall(code))
        blocks = _Blocks(code)
        for match in _HTTP_CLIENT_LITERAL.finditer(code):
            if blocks.contains(r"\bTimeout\s*:", blocks.span(match.end() - 1)):
                counts.http_clients_with_timeout += 1
            else:
                counts.http_clients_without_timeout += 1
        counts.http_clients_without_timeout += len(_HTTP_DEFAULT.findall(code))
        for match in _SELECT.finditer(code):
            counts.selects += 1
            if blocks.contains(r"\btime\.After\s*\(|\.Done\(\)", blocks.span(match.end() - 1)):
                counts.selects_with_timeout_or_cancel += 1
        function_starts = [match.start() for match in _FUNC_START.finditer(code)]
        synced: dict[int, bool] = {}
        for match in _GO_STMT.finditer(code):
            counts.goroutines += 1
            begin, end = _enclosing_function(code, function_starts, match.start())
            if begin not in synced:  # each function is searched once, however many goroutines it starts
                synced[begin] = bool(_SYNC_NEARBY.search(code, begin, end))
            if synced[begin]:
                continue
            # A producer that closes its output channel is awaited by whoever ranges over that channel.
            body = code.find("{", match.end(), match.end() + _ARGS_LIMIT)
            if match.group("literal") and body >= 0 and blocks.contains(r"\bclose\(", blocks.span(body)):
                continue
            counts.goroutines_unsynced += 1
        for match in _ERRORF.finditer(code):
            literal = _FIRST_LITERAL.match(code, match.end())
            if literal and "%w" in source.strings[int(literal.group(1))]:
                counts.errorf_wrapped += 1
            elif blocks.contains(_ERR_NAME, blocks.span(match.end() - 1, limit=_ARGS_LIMIT)):
                counts.errorf_unwrapped += 1
        counts.errors_is_as += len(_ERRORS_IS_AS.findall(code))
        if not is_test and source.package != "main":
            counts.panics_outside_main += len(_PANIC.findall(code))
    return counts


# --- go.mod ---


@dataclass(frozen=True)
class GoMod:
    module: str
    go_version: str
    direct: int
    indirect: int


def parse_go_mod(text: str) -> GoMod:
    text = re.sub(r"(?m)^\s*//.*$", "", text)
    module = re.search(r"^\s*module\s+(\S+)", text, re.MULTILINE)
    version = re.search(r"^\s*go\s+(\d+\.\d+(?:\.\d+)?)", text, re.MULTILINE)
    requirements = [
        line
        for block in re.findall(r"^\s*require\s*\((.*?)^\s*\)", text, re.MULTILINE | re.DOTALL)
        for line in block.splitlines()
        if line.strip()
    ]
    requirements += re.findall(r"^\s*require\s+([^\s(].*)$", text, re.MULTILINE)
    indirect = sum(1 for line in requirements if "// indirect" in line)
    return GoMod(
        module=module.group(1).strip('"') if module else "",
        go_version=version.group(1) if version else "",
        direct=len(requirements) - indirect,
        indirect=indirect,
    )


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


# --- Verdicts and what they mean ---


@dataclass(frozen=True)
class Finding:
    key: str
    value: int | float | str | bool | None
    verdict: Verdict
    label_zh: str
    label_en: str
    meaning_zh: str
    meaning_en: str


@dataclass(frozen=True)
class AuditReport:
    figures: dict[str, int | float | str | bool | None]
    findings: list[Finding]
    score: float  # 0–1: good 1, concern ½, bad 0, averaged over the findings that apply

    def verdict_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("good", "concern", "bad", "info"), 0)
        for finding in self.findings:
            counts[finding.verdict] += 1
        return counts

    def as_dict(self) -> dict[str, object]:
        return {
            "score": self.score,
            "verdicts": self.verdict_counts(),
            "figures": self.figures,
            "findings": [asdict(finding) for finding in self.findings],
        }


def _judgements(f: dict[str, Any]) -> Iterable[tuple[str, object, Verdict, str]]:
    """(finding, value shown, verdict, meaning case) for each figure that applies to this repository."""
    if f["go_module"]:
        yield "go_module", True, "good", "yes"
        version = _version_tuple(f["go_version"] or "")
        if not version:
            yield "go_version", None, "concern", "missing"
        elif version >= (1, 21):
            yield "go_version", f["go_version"], "good", "recent"
        elif version >= (1, 18):
            yield "go_version", f["go_version"], "concern", "generics"
        else:
            yield "go_version", f["go_version"], "bad", "old"
        real = "." in f["module_path"].split("/", 1)[0]
        yield "module_path", f["module_path"], "good" if real else "concern", "real" if real else "local"
        direct = f["direct_requirements"]
        yield "direct_requirements", direct, _grade(direct, 5, 10), "few" if direct <= 5 else "many"
        indirect = f["indirect_requirements"]
        yield "indirect_requirements", indirect, _grade(indirect, 15, 40), "few" if indirect <= 15 else "many"
    else:
        yield "go_module", False, "bad", "no"
    if f["vendored"]:
        yield (
            "vendoring",
            True,
            "good" if f["go_module"] else "concern",
            "modules" if f["go_module"] else "gopath",
        )
    else:
        yield "vendoring", False, "good", "none"
    markers = f["gopath_markers"]
    yield "gopath_markers", markers or None, "bad" if markers else "good", "found" if markers else "none"
    own = f["go_files"] - f["test_files"]
    yield (
        "go_files",
        f["go_files"],
        "good" if own >= 4 else "concern" if own >= 2 else "bad",
        ("project" if own >= 4 else "toy"),
    )
    yield (
        "test_files",
        f["test_files"],
        "good" if f["test_files"] else "bad",
        "yes" if f["test_files"] else "no",
    )
    tests = f["test_functions"]
    yield (
        "test_functions",
        tests,
        "good" if tests >= 5 else "concern" if tests else "bad",
        ("many" if tests >= 5 else "few" if tests else "none"),
    )
    for key in ("benchmarks", "fuzz_tests", "examples"):
        yield key, f[key], "good" if f[key] else "concern", "yes" if f[key] else "no"
    ratio = f["test_to_code_ratio"]
    yield (
        "test_to_code_ratio",
        ratio,
        "good" if ratio >= 0.3 else "concern" if ratio >= 0.1 else "bad",
        ("healthy" if ratio >= 0.3 else "low" if ratio >= 0.1 else "none"),
    )
    yield "ci", f["ci"], "good" if f["ci"] else "concern", "yes" if f["ci"] else "no"
    concurrent = f["network_code"] or f["goroutines"] > 0
    if f["context_params"]:
        yield "context_params", f["context_params"], "good", "yes"
    else:
        yield "context_params", 0, "bad" if concurrent else "concern", "missing" if concurrent else "none"
    with_t, without_t = f["http_clients_with_timeout"], f["http_clients_without_timeout"]
    if without_t:
        yield "http_clients_without_timeout", without_t, "concern" if with_t else "bad", "some"
    else:
        yield "http_clients_without_timeout", 0, "good" if with_t else "info", "zero" if with_t else "na"
    yield "http_clients_with_timeout", with_t, "good" if with_t else "info", "yes" if with_t else "no"
    selects, guarded = f["selects"], f["selects_with_timeout_or_cancel"]
    if selects:
        verdict: Verdict = "good" if guarded == selects else "concern" if guarded else "bad"
        yield "select_with_timeout", guarded, verdict, "counted"
    else:
        yield (
            "select_with_timeout",
            0,
            "concern" if f["goroutines"] else "info",
            ("missing" if f["goroutines"] else "na"),
        )
    goroutines, unsynced = f["goroutines"], f["goroutines_unsynced"]
    if not goroutines:
        yield "bare_goroutines", 0, "info", "na"
    elif not unsynced:
        yield "bare_goroutines", 0, "good", "zero"
    else:
        yield "bare_goroutines", unsynced, "bad" if unsynced * 2 > goroutines else "concern", "some"
    wrapped, flattened = f["errorf_wrapped"], f["errorf_unwrapped"]
    if wrapped or flattened:
        verdict = "good" if not flattened else "concern" if wrapped else "bad"
        yield "errorf_wrapping", wrapped, verdict, "counted"
    else:
        yield "errorf_wrapping", 0, "info", "na"
    yield (
        "errors_is_as",
        f["errors_is_as"],
        "good" if f["errors_is_as"] else "concern",
        ("yes" if f["errors_is_as"] else "no"),
    )
    panics = f["panics_outside_main"]
    yield "panics_outside_main", panics, _grade(panics, 0, 2), "some" if panics else "zero"
    months = f["months_since_commit"]
    if months is None:
        yield "last_commit", None, "info", "unknown"
    else:
        yield (
            "last_commit",
            f["last_commit_at"][:10],
            _grade(months, 12, 36),
            ("fresh" if months <= 12 else "stale" if months <= 36 else "abandoned"),
        )


def _grade(value: float, good_up_to: float, concern_up_to: float) -> Verdict:
    return "good" if value <= good_up_to else "concern" if value <= concern_up_to else "bad"


def _own_go_files(tree: RepoTree) -> list[tuple[str, str]]:
    own = []
    for path, text in sorted(tree.texts.items()):
        directories = path.split("/")[:-1]
        if path.endswith(".go") and not any(
            part in SKIPPED_DIRS or part.startswith((".", "_")) for part in directories
        ):
            own.append((path, text))
    return own


def audit(tree: RepoTree, *, now: datetime) -> AuditReport:
    """Figures and verdicts for one repository. Raises NotAGoRepository when it holds no Go code."""
    files = _own_go_files(tree)
    if not files:
        raise NotAGoRepository("not a Go repository: no .go files outside vendor/ and testdata/")
    counts = count_go(files)
    go_mod = parse_go_mod(tree.texts["go.mod"]) if "go.mod" in tree.texts else None
    ci = any(
        path.startswith(".github/workflows/") and path.endswith((".yml", ".yaml")) for path in tree.paths
    )
    markers = sorted({label for path, label in GOPATH_MARKERS.items() if path in tree.paths})
    if go_mod is None:
        markers.insert(0, "no go.mod")
    months = round((now - tree.last_commit_at) / timedelta(days=30.44), 1) if tree.last_commit_at else None
    figures: dict[str, int | float | str | bool | None] = {
        "go_module": go_mod is not None,
        "go_version": go_mod.go_version if go_mod else None,
        "module_path": go_mod.module if go_mod else None,
        "direct_requirements": go_mod.direct if go_mod else None,
        "indirect_requirements": go_mod.indirect if go_mod else None,
        "vendored": "vendor/" in tree.paths,
        **asdict(counts),
        "test_to_code_ratio": round(counts.test_lines / counts.code_lines, 2) if counts.code_lines else 0.0,
        "ci": ci or any(name in tree.paths for name in CI_FILES),
        "gopath_markers": ", ".join(markers),
        "last_commit_at": tree.last_commit_at.isoformat() if tree.last_commit_at else None,
        "months_since_commit": months,
        "skipped_binary_files": tree.skipped_binary,
        "skipped_links": tree.skipped_links,
    }
    findings = []
    for key, value, verdict, case in _judgements(figures):
        zh, en = MEANINGS[(key, case)]
        findings.append(
            Finding(key, value, verdict, *LABELS[key], zh.format(**figures), en.format(**figures))  # type: ignore[arg-type]  # the figures are scalars
        )
    points = [VERDICT_POINTS[finding.verdict] for finding in findings if finding.verdict in VERDICT_POINTS]
    return AuditReport(figures=figures, findings=findings, score=round(sum(points) / len(points), 4))
