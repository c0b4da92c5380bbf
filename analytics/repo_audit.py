"""Static check of a course's companion Go repository (代码仓库体检). No Django; never executes the code.

A repository is read into a `RepoTree` (relative path → text of the files the audit needs, plus every path
name), from a directory (`read_directory`) or a .tar.gz (`read_tarball`), and `audit` turns the tree into
figures, each with a verdict (good / concern / bad, or info when it does not apply) and what it means for a
learner, in Chinese and English.

Archives are never unpacked to disk: members are read into memory after checks that refuse the whole archive
for path traversal, absolute paths, links pointing out of the tree, device files and FIFOs, and archive bombs
(member count, declared total size and per-file size, checked from the headers before any data is read).
Links inside the tree are skipped, never followed; binary files are skipped.

Go source is analysed lexically: comments, string and rune literals are stripped first (string literals are
kept aside so `fmt.Errorf` format strings can still be read), so code in comments or strings never counts.
"""

from __future__ import annotations

import os
import posixpath
import re
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import IO, Literal

Verdict = Literal["good", "concern", "bad", "info"]
VERDICT_POINTS: dict[str, float] = {"good": 1.0, "concern": 0.5, "bad": 0.0}

# Directories whose code is not the course's own: dependencies, fixtures, tooling.
SKIPPED_DIRS = frozenset({"vendor", "testdata", "node_modules", "third_party", ".git"})
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
BINARY_SNIFF_BYTES = 8192


class RepoAuditError(Exception):
    """The source cannot be audited; the message says why and is shown as is."""


class ArchiveRefused(RepoAuditError):
    """A hostile or oversized archive: nothing from it is used."""


class NotAGoRepository(RepoAuditError):
    pass


@dataclass(frozen=True)
class Limits:
    max_files: int = 20_000
    max_total_bytes: int = 200 * 1024 * 1024
    max_file_bytes: int = 10 * 1024 * 1024


@dataclass
class RepoTree:
    """What the audit reads: every path (files and directories, POSIX, relative) and the text of the files
    it needs (.go sources, go.mod)."""

    paths: set[str] = field(default_factory=set)
    texts: dict[str, str] = field(default_factory=dict)
    skipped_binary: int = 0
    skipped_links: int = 0
    last_commit_at: datetime | None = None


def _wanted(path: str) -> bool:
    """The files whose text the audit reads: Go sources and go.mod (the root one matters; the rest is cheap)."""
    return path.endswith((".go", "/go.mod")) or path == "go.mod"


def _is_binary(head: bytes) -> bool:
    return b"\x00" in head[:BINARY_SNIFF_BYTES]


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _add_parents(tree: RepoTree, path: str) -> None:
    parent = posixpath.dirname(path)
    while parent:
        tree.paths.add(parent + "/")
        parent = posixpath.dirname(parent)


def _safe_member_path(name: str) -> str:
    """The member's path relative to the archive root; refuses absolute and escaping paths."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise ArchiveRefused(f"archive refused: absolute path {name!r}")
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if ".." in parts:
        raise ArchiveRefused(f"archive refused: path traversal in {name!r}")
    return "/".join(part for part in parts if part not in ("", "."))


def _link_stays_inside(member_path: str, target: str, *, hard: bool) -> bool:
    if target.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", target):
        return False
    base = "" if hard else posixpath.dirname(member_path)
    resolved = posixpath.normpath(posixpath.join(base, target.replace("\\", "/")))
    return resolved != ".." and not resolved.startswith("../")


def read_tarball(source: str | os.PathLike | IO[bytes], *, limits: Limits = Limits()) -> RepoTree:
    """Read a .tar.gz (or plain .tar) into a RepoTree, refusing hostile archives (see module docstring).

    A single top-level directory (as in GitHub's and `git archive`'s tarballs) is treated as the root. The
    newest member modification time is taken as the last commit date, which is what `git archive` writes.
    """
    try:
        if isinstance(source, (str, os.PathLike)):
            archive = tarfile.open(source, mode="r:*")
        else:
            archive = tarfile.open(fileobj=source, mode="r:*")
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise ArchiveRefused(f"not a readable .tar.gz archive: {exc}") from exc
    entries: list[tuple[str, str, bytes | None]] = []  # (path, "dir" | "file" | "link", text bytes or None)
    newest = 0
    total = 0
    with archive:
        count = 0
        while True:
            try:
                member = archive.next()
            except (tarfile.TarError, EOFError, OSError) as exc:
                raise ArchiveRefused(f"archive refused: corrupt archive ({exc})") from exc
            if member is None:
                break
            count += 1
            if count > limits.max_files:
                raise ArchiveRefused(f"archive refused: more than {limits.max_files} entries")
            path = _safe_member_path(member.name)
            if member.isdev() or member.isfifo():
                raise ArchiveRefused(f"archive refused: device or FIFO entry {member.name!r}")
            if member.issym() or member.islnk():
                if not _link_stays_inside(path, member.linkname, hard=member.islnk()):
                    kind = "hard link" if member.islnk() else "symlink"
                    raise ArchiveRefused(
                        f"archive refused: {kind} {member.name!r} points out of the tree ({member.linkname!r})"
                    )
                entries.append((path, "link", None))
                continue
            if member.isdir():
                if path:
                    entries.append((path, "dir", None))
                continue
            if not member.isfile():
                continue
            if member.size > limits.max_file_bytes:
                raise ArchiveRefused(
                    f"archive refused: {member.name!r} is {member.size} bytes "
                    f"(limit {limits.max_file_bytes} per file)"
                )
            total += member.size
            if total > limits.max_total_bytes:
                raise ArchiveRefused(f"archive refused: more than {limits.max_total_bytes} bytes once unpacked")
            newest = max(newest, int(member.mtime or 0))
            data = None
            if _wanted(path):
                handle = archive.extractfile(member)
                data = handle.read(limits.max_file_bytes + 1) if handle else b""
            entries.append((path, "file", data))
    root = _common_root([path for path, _kind, _data in entries])
    tree = RepoTree()
    for path, kind, data in entries:
        relative = path[len(root) :] if root else path
        if not relative:
            continue
        _add_parents(tree, relative)
        if kind == "dir":
            tree.paths.add(relative + "/")
            continue
        tree.paths.add(relative)
        if kind == "link":
            tree.skipped_links += 1
        elif data is not None and _is_binary(data):
            tree.skipped_binary += 1
        elif data is not None:
            tree.texts[relative] = _decode(data)
    if newest:
        tree.last_commit_at = datetime.fromtimestamp(newest, tz=UTC)
    return tree


def _common_root(paths: list[str]) -> str:
    """'owner-repo-sha/' when every entry lives under that one directory, else ''."""
    tops = {path.split("/", 1)[0] for path in paths if path}
    if len(tops) != 1:
        return ""
    top = next(iter(tops))
    if all(path == top or path.startswith(top + "/") for path in paths if path) and any(
        path.startswith(top + "/") for path in paths
    ):
        return top + "/"
    return ""


def read_directory(root: str | os.PathLike, *, limits: Limits = Limits()) -> RepoTree:
    """Read a checked-out repository. Symlinks are skipped, never followed; the same limits apply."""
    base = Path(root)
    if not base.is_dir():
        raise RepoAuditError(f"{root}: no such directory")
    tree = RepoTree()
    count = 0
    total = 0
    for directory, dirnames, filenames in os.walk(base, followlinks=False):
        relative_dir = Path(directory).relative_to(base).as_posix()
        prefix = "" if relative_dir == "." else relative_dir + "/"
        for name in list(dirnames):
            if (Path(directory) / name).is_symlink():
                dirnames.remove(name)
                tree.skipped_links += 1
                continue
            tree.paths.add(f"{prefix}{name}/")
        if ".git" in dirnames:
            dirnames.remove(".git")
        for name in filenames:
            count += 1
            if count > limits.max_files:
                raise RepoAuditError(f"{root}: more than {limits.max_files} files")
            full = Path(directory) / name
            path = prefix + name
            if full.is_symlink():
                tree.skipped_links += 1
                tree.paths.add(path)
                continue
            if not full.is_file():
                continue
            size = full.stat().st_size
            total += size
            if size > limits.max_file_bytes or total > limits.max_total_bytes:
                raise RepoAuditError(f"{root}: too large to audit ({path} is {size} bytes)")
            tree.paths.add(path)
            if _wanted(path):
                data = full.read_bytes()
                if _is_binary(data):
                    tree.skipped_binary += 1
                    continue
                tree.texts[path] = _decode(data)
    tree.last_commit_at = _git_head_time(base / ".git")
    return tree


def _git_head_time(git_dir: Path) -> datetime | None:
    """The time of the newest entry in .git/logs/HEAD (read as text; git itself is never run)."""
    log = git_dir / "logs" / "HEAD"
    if git_dir.is_symlink() or not log.is_file() or log.is_symlink():
        return None
    lines = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line]
    if not lines:
        return None
    match = re.search(r"> (\d{9,}) [+-]\d{4}", lines[-1])
    return datetime.fromtimestamp(int(match.group(1)), tz=UTC) if match else None


# --- Go source, lexically ---

_LEXEME = re.compile(
    r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"|`[^`]*`|'(?:\\.|[^'\\\n])*'",
    re.DOTALL,
)


@dataclass(frozen=True)
class GoSource:
    code: str  # comments removed, each string literal replaced by "S<index>", rune literals by 'r'
    strings: list[str]
    package: str


def strip_go(source: str) -> GoSource:
    strings: list[str] = []

    def replace(match: re.Match) -> str:
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


def _block_after(code: str, start: int) -> str:
    """The text from the first '{' at or after `start` to its matching '}' (braces in strings are gone)."""
    opening = code.find("{", start)
    if opening < 0:
        return ""
    depth = 0
    for position in range(opening, len(code)):
        char = code[position]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return code[opening : position + 1]
    return code[opening:]


def _call_args(code: str, open_paren: int) -> str:
    depth = 0
    for position in range(open_paren, len(code)):
        char = code[position]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return code[open_paren + 1 : position]
    return code[open_paren + 1 :]


_TEST_FUNC = re.compile(r"^func\s+(Test|Benchmark|Fuzz|Example)(?:[A-Z_0-9]\w*)?\s*\(", re.MULTILINE)
_CTX_PARAM = re.compile(r"\b\w+\s+context\.Context\b")
_HTTP_CLIENT_LITERAL = re.compile(r"\bhttp\.Client\s*\{")
_HTTP_DEFAULT = re.compile(r"\bhttp\.(?:Get|Post|Head|PostForm)\s*\(|\bhttp\.DefaultClient\b")
_SELECT = re.compile(r"\bselect\s*\{")
_GO_STMT = re.compile(r"(?<![\w.])go\s+(?:func\b|[\w.]+\s*\()")
_SYNC_NEARBY = re.compile(r"\bWaitGroup\b|\berrgroup\b|\bwg\.(?:Add|Wait|Done)\b")
_ERRORF = re.compile(r"\bfmt\.Errorf\s*\(")
_ERRORS_IS_AS = re.compile(r"\berrors\.(?:Is|As)\s*\(")
_PANIC = re.compile(r"(?<![\w.])panic\s*\(")
_FUNC_START = re.compile(r"^func\b", re.MULTILINE)


@dataclass
class GoCounts:
    go_files: int = 0
    test_files: int = 0
    code_lines: int = 0
    test_lines: int = 0
    tests: int = 0
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


def _enclosing_function(code: str, position: int) -> str:
    starts = [match.start() for match in _FUNC_START.finditer(code)]
    begin = max((start for start in starts if start <= position), default=0)
    end = min((start for start in starts if start > position), default=len(code))
    return code[begin:end]


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
                    counts.tests += 1
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
        if imports & {"net/http", "net", "database/sql", "google.golang.org/grpc"}:
            counts.network_code = True
        counts.context_params += len(_CTX_PARAM.findall(code))
        for match in _HTTP_CLIENT_LITERAL.finditer(code):
            if re.search(r"\bTimeout\s*:", _block_after(code, match.start())):
                counts.http_clients_with_timeout += 1
            else:
                counts.http_clients_without_timeout += 1
        counts.http_clients_without_timeout += len(_HTTP_DEFAULT.findall(code))
        for match in _SELECT.finditer(code):
            counts.selects += 1
            if re.search(r"\btime\.After\s*\(|\.Done\(\)", _block_after(code, match.start())):
                counts.selects_with_timeout_or_cancel += 1
        for match in _GO_STMT.finditer(code):
            counts.goroutines += 1
            if _SYNC_NEARBY.search(_enclosing_function(code, match.start())):
                continue
            # A producer that closes its output channel is awaited by whoever ranges over that channel.
            if match.group(0).rstrip().endswith("func") and "close(" in _block_after(code, match.start()):
                continue
            counts.goroutines_unsynced += 1
        for match in _ERRORF.finditer(code):
            args = _call_args(code, match.end() - 1)
            literal = re.match(r'\s*"S(\d+)"', args)
            if literal and "%w" in source.strings[int(literal.group(1))]:
                counts.errorf_wrapped += 1
            elif re.search(r"\berr\b|\w+Err\b|\berr[A-Z]\w*", args):
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
    module = re.search(r"^\s*module\s+(\S+)", text, re.MULTILINE)
    version = re.search(r"^\s*go\s+(\d+\.\d+(?:\.\d+)?)", text, re.MULTILINE)
    requirements: list[str] = []
    for block in re.findall(r"^\s*require\s*\((.*?)^\s*\)", text, re.MULTILINE | re.DOTALL):
        requirements += [line for line in block.splitlines() if line.strip() and not line.strip().startswith("//")]
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


# --- The audit ---


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
        counts = {"good": 0, "concern": 0, "bad": 0, "info": 0}
        for finding in self.findings:
            counts[finding.verdict] += 1
        return counts

    def as_dict(self) -> dict:
        return {
            "figures": self.figures,
            "findings": [finding.__dict__ for finding in self.findings],
            "score": self.score,
            "verdicts": self.verdict_counts(),
        }


def _own_go_files(tree: RepoTree) -> list[tuple[str, str]]:
    own = []
    for path, text in sorted(tree.texts.items()):
        if not path.endswith(".go"):
            continue
        parts = path.split("/")
        if any(part in SKIPPED_DIRS or part.startswith((".", "_")) for part in parts[:-1]):
            continue
        own.append((path, text))
    return own


def audit(tree: RepoTree, *, now: datetime) -> AuditReport:
    """Figures and verdicts for one repository. Raises NotAGoRepository when it holds no Go code."""
    files = _own_go_files(tree)
    if not files:
        raise NotAGoRepository("not a Go repository: no .go files outside vendor/ and testdata/")
    counts = count_go(files)
    go_mod = parse_go_mod(tree.texts["go.mod"]) if "go.mod" in tree.texts else None
    vendored = "vendor/" in tree.paths
    ci = any(path.startswith(".github/workflows/") and path.endswith((".yml", ".yaml")) for path in tree.paths)
    ci = ci or any(name in tree.paths for name in CI_FILES)
    markers = sorted({label for path, label in GOPATH_MARKERS.items() if path in tree.paths})
    if go_mod is None:
        markers.insert(0, "no go.mod")
    months = (
        round((now - tree.last_commit_at) / timedelta(days=30.44), 1) if tree.last_commit_at else None
    )
    ratio = round(counts.test_lines / counts.code_lines, 2) if counts.code_lines else 0.0

    findings: list[Finding] = []

    def add(key, value, verdict, label_zh, label_en, meaning_zh, meaning_en) -> None:
        findings.append(Finding(key, value, verdict, label_zh, label_en, meaning_zh, meaning_en))

    if go_mod:
        add("go_module", True, "good", "Go 模块 (go.mod)", "Go module (go.mod)",
            "有 go.mod：克隆到任意目录都能直接 go build / go test。",
            "Has go.mod: it builds and tests from any directory with today's toolchain.")
        version = _version_tuple(go_mod.go_version)
        if not version:
            add("go_version", None, "concern", "go 版本声明", "go directive",
                "go.mod 没有声明 go 版本，不知道课程按哪个版本写。",
                "go.mod declares no Go version, so you cannot tell which Go the course targets.")
        elif version >= (1, 21):
            add("go_version", go_mod.go_version, "good", "go 版本声明", "go directive",
                "面向较新的 Go（1.21+）：泛型、slog、errors.Join 等现代写法都可用。",
                "Targets a recent Go (1.21+): generics, slog and errors.Join are all available.")
        elif version >= (1, 18):
            add("go_version", go_mod.go_version, "concern", "go 版本声明", "go directive",
                "Go 1.18–1.20：有泛型，但课程内容可能已落后几个版本。",
                "Go 1.18–1.20: generics exist, but the material may be a few releases behind.")
        else:
            add("go_version", go_mod.go_version, "bad", "go 版本声明", "go directive",
                "早于 Go 1.18：没有泛型，写法多半已过时。",
                "Older than Go 1.18: no generics; expect dated idioms.")
        real_path = "." in go_mod.module.split("/", 1)[0]
        add("module_path", go_mod.module, "good" if real_path else "concern", "模块路径", "Module path",
            "模块路径像真实的导入路径，可以被其他项目引用。" if real_path
            else "模块路径不是可下载的导入路径（如 github.com/…），只能在本地玩。",
            "A real import path other projects can depend on." if real_path
            else "Not a fetchable import path (such as github.com/…): a local toy layout.")
        direct = go_mod.direct
        add("direct_requirements", direct, "good" if direct <= 5 else "concern" if direct <= 10 else "bad",
            "直接依赖数", "Direct requirements",
            "依赖不多（≤5）：你读到的主要是课程自己写的代码。" if direct <= 5
            else "依赖偏多：不少功能来自第三方库，而不是讲给你听的代码。",
            "Five or fewer: most of what you read is the course's own code." if direct <= 5
            else "Many third-party modules: much of the behaviour comes from libraries, not from the lesson.")
        indirect = go_mod.indirect
        add("indirect_requirements", indirect, "good" if indirect <= 15 else "concern" if indirect <= 40 else "bad",
            "间接依赖数", "Indirect requirements",
            "间接依赖少，依赖树容易看懂。" if indirect <= 15 else "间接依赖多，依赖树庞大，升级和排错都更难。",
            "A small dependency tree." if indirect <= 15
            else "A large dependency tree: harder to upgrade and to debug.")
    else:
        add("go_module", False, "bad", "Go 模块 (go.mod)", "Go module (go.mod)",
            "没有 go.mod：这是 GOPATH 时代的写法，现在的 Go 需要额外折腾才能编译。",
            "No go.mod: GOPATH-era layout that today's Go will not build without extra work.")
    add("vendoring", vendored, "concern" if vendored and not go_mod else "good",
        "vendor 目录", "Vendored dependencies",
        ("有 vendor 但没有 go.mod：老式依赖管理。" if not go_mod else "依赖随仓库提交（vendor），离线也能编译。")
        if vendored else "没有提交依赖代码，仓库只含课程自己的代码。",
        ("Vendored without go.mod: old-style dependency management." if not go_mod
         else "Dependencies are vendored: builds offline.")
        if vendored else "No vendored dependencies: the repository holds the course's own code.")
    markers_text = ", ".join(markers)
    add("gopath_markers", markers_text or None, "bad" if markers else "good", "GOPATH 时代痕迹", "GOPATH-era markers",
        f"发现 {markers_text}：课程多半停留在 Go modules 之前。" if markers else "没有 Godeps、glide、dep 等旧工具的痕迹。",
        f"Found {markers_text}: the course likely predates Go modules." if markers
        else "No Godeps, glide or dep leftovers.")
    size = counts.go_files - counts.test_files
    add("go_files", counts.go_files, "good" if size >= 4 else "concern" if size >= 2 else "bad",
        "Go 文件数", "Go files",
        "代码量像一个真实项目。" if size >= 10 else "代码很少，可能只是零散的小例子。",
        "Enough code to be a real project." if size >= 10 else "Very little code: probably scattered toy examples.")
    add("test_files", counts.test_files, "good" if counts.test_files else "bad", "测试文件数", "Test files",
        "有测试文件，可以直接 go test ./... 验证。" if counts.test_files else "没有任何测试：课程没有示范如何验证代码。",
        "Has test files: run go test ./... to check it." if counts.test_files
        else "No tests at all: the course never shows how to verify code.")
    add("test_functions", counts.tests, "good" if counts.tests >= 5 else "concern" if counts.tests else "bad",
        "Test 函数数", "Test functions",
        "测试覆盖了不少场景。" if counts.tests >= 5 else "测试很少。" if counts.tests else "没有 Test 函数。",
        "Tests cover a fair number of cases." if counts.tests >= 5
        else "Only a few tests." if counts.tests else "No Test functions.")
    add("benchmarks", counts.benchmarks, "good" if counts.benchmarks else "concern", "Benchmark 函数数", "Benchmarks",
        "有基准测试：课程讲性能时有数据。" if counts.benchmarks else "没有基准测试：性能结论无从验证。",
        "Has benchmarks: performance claims come with numbers." if counts.benchmarks
        else "No benchmarks: performance claims cannot be checked.")
    add("fuzz_tests", counts.fuzz_tests, "good" if counts.fuzz_tests else "concern", "Fuzz 函数数", "Fuzz tests",
        "有模糊测试（Go 1.18+ 的现代测试手段）。" if counts.fuzz_tests else "没有模糊测试。",
        "Has fuzz tests (a modern Go 1.18+ practice)." if counts.fuzz_tests else "No fuzz tests.")
    add("examples", counts.examples, "good" if counts.examples else "concern", "Example 函数数", "Example functions",
        "有可运行的 Example 文档。" if counts.examples else "没有 Example 函数（可运行的文档示例）。",
        "Has runnable Example documentation." if counts.examples else "No Example functions (runnable docs).")
    add("test_to_code_ratio", ratio, "good" if ratio >= 0.3 else "concern" if ratio >= 0.1 else "bad",
        "测试/代码行数比", "Test-to-code ratio",
        "测试代码占比健康。" if ratio >= 0.3 else "测试代码偏少。" if ratio >= 0.1 else "几乎没有测试代码。",
        "A healthy share of test code." if ratio >= 0.3
        else "Little test code." if ratio >= 0.1 else "Almost no test code.")
    add("ci", ci, "good" if ci else "concern", "持续集成配置", "CI configuration",
        "有 CI：每次提交都会自动编译和测试。" if ci else "没有 CI 配置：没人保证代码还能编译通过。",
        "Has CI: every change is built and tested." if ci else "No CI: nothing proves the code still builds.")
    concurrency = counts.network_code or counts.goroutines > 0
    add("context_params", counts.context_params,
        "good" if counts.context_params else "bad" if concurrency else "concern",
        "context.Context 参数", "context.Context parameters",
        "函数接收 context：示范了取消和超时的传递。" if counts.context_params
        else "有网络或并发代码却从不传 context：取消和超时没有讲。" if concurrency
        else "没有用 context。",
        "Functions take a context: cancellation and deadlines are passed along." if counts.context_params
        else "Network or concurrent code without any context: cancellation and timeouts are not taught."
        if concurrency else "No context.Context anywhere.")
    with_t, without_t = counts.http_clients_with_timeout, counts.http_clients_without_timeout
    add("http_clients_without_timeout", without_t,
        "bad" if without_t and not with_t else "concern" if without_t else "good" if with_t else "info",
        "无超时的 HTTP 客户端", "HTTP clients without a timeout",
        f"{without_t} 处 HTTP 调用没有超时（http.Get 或未设 Timeout 的 http.Client），线上会被慢服务拖死；设了超时的 {with_t} 处。"
        if without_t else f"{with_t} 个 http.Client 都设置了 Timeout。" if with_t else "没有发出 HTTP 请求的代码。",
        f"{without_t} HTTP call(s) without a timeout (http.Get or an http.Client without Timeout) hang on a slow "
        f"server in production; {with_t} with one." if without_t
        else f"All {with_t} http.Client values set a Timeout." if with_t else "No outgoing HTTP code.")
    add("http_clients_with_timeout", with_t, "good" if with_t else "info",
        "带超时的 HTTP 客户端", "HTTP clients with a timeout",
        "示范了为 HTTP 客户端设置超时。" if with_t else "没有设置了 Timeout 的 http.Client。",
        "Shows how to give an HTTP client a timeout." if with_t else "No http.Client with a Timeout.")
    selects, guarded = counts.selects, counts.selects_with_timeout_or_cancel
    add("select_with_timeout", guarded,
        ("good" if guarded == selects else "concern" if guarded else "bad") if selects
        else "concern" if counts.goroutines else "info",
        "带超时/取消的 select", "select with time.After / ctx.Done()",
        (f"{selects} 个 select 中有 {guarded} 个带 time.After 或 ctx.Done()。" if selects
         else "启动了 goroutine 却没有用 select 处理超时或取消。" if counts.goroutines else "没有 select。"),
        (f"{guarded} of {selects} select statements handle a timeout or cancellation." if selects
         else "Starts goroutines but never selects on a timeout or cancellation." if counts.goroutines
         else "No select statements."))
    unsynced = counts.goroutines_unsynced
    add("bare_goroutines", unsynced,
        "info" if not counts.goroutines else "good" if not unsynced
        else "bad" if unsynced * 2 > counts.goroutines else "concern",
        "无等待的 go func", "Goroutines without WaitGroup/errgroup",
        (f"{counts.goroutines} 个 goroutine 中 {unsynced} 个附近没有 WaitGroup 或 errgroup：容易泄漏或提前退出。"
         if unsynced else f"{counts.goroutines} 个 goroutine 都有 WaitGroup 或 errgroup 管理。")
        if counts.goroutines else "没有启动 goroutine。",
        (f"{unsynced} of {counts.goroutines} goroutines have no WaitGroup or errgroup nearby: leaks and early "
         "exits go unnoticed." if unsynced else f"All {counts.goroutines} goroutines are managed by a WaitGroup "
         "or errgroup.") if counts.goroutines else "No goroutines started.")
    wrapped, unwrapped = counts.errorf_wrapped, counts.errorf_unwrapped
    add("errorf_wrapping", wrapped,
        "good" if wrapped and not unwrapped else "concern" if wrapped else "bad" if unwrapped else "info",
        "fmt.Errorf 用 %w 包装", "fmt.Errorf wrapping with %w",
        f"用 %w 包装错误 {wrapped} 处，用 %v/%s 丢掉原错误 {unwrapped} 处。" if wrapped or unwrapped
        else "没有用 fmt.Errorf。",
        f"{wrapped} error(s) wrapped with %w, {unwrapped} flattened with %v/%s (the cause is lost)."
        if wrapped or unwrapped else "No fmt.Errorf calls.")
    add("errors_is_as", counts.errors_is_as, "good" if counts.errors_is_as else "concern",
        "errors.Is / errors.As", "errors.Is / errors.As",
        "按错误类型判断，而不是比较字符串。" if counts.errors_is_as else "没有用 errors.Is/As 判断错误。",
        "Errors are inspected by identity or type, not by string." if counts.errors_is_as
        else "Never uses errors.Is/As to inspect errors.")
    panics = counts.panics_outside_main
    add("panics_outside_main", panics, "good" if not panics else "concern" if panics <= 2 else "bad",
        "main/测试之外的 panic", "panic outside main and tests",
        "库代码不 panic，错误都作为返回值处理。" if not panics else f"库代码里有 {panics} 处 panic：不是生产代码的写法。",
        "Library code returns errors instead of panicking." if not panics
        else f"{panics} panic call(s) in library code: not how production Go handles errors.")
    if months is None:
        add("last_commit", None, "info", "最近一次提交", "Last commit",
            "不知道最近一次提交的时间。", "The date of the last commit is unknown.")
    else:
        add("last_commit", tree.last_commit_at.date().isoformat() if tree.last_commit_at else None,
            "good" if months <= 12 else "concern" if months <= 36 else "bad", "最近一次提交", "Last commit",
            f"{months:g} 个月前：" + ("仍在维护。" if months <= 12 else "有一段时间没更新了。" if months <= 36
                                    else "已多年未维护。"),
            f"{months:g} months ago: " + ("still maintained." if months <= 12 else "not updated for a while."
                                          if months <= 36 else "unmaintained for years."))

    figures: dict[str, int | float | str | bool | None] = {
        "go_module": go_mod is not None,
        "go_version": go_mod.go_version if go_mod else None,
        "module_path": go_mod.module if go_mod else None,
        "direct_requirements": go_mod.direct if go_mod else None,
        "indirect_requirements": go_mod.indirect if go_mod else None,
        "vendored": vendored,
        "go_files": counts.go_files,
        "test_files": counts.test_files,
        "code_lines": counts.code_lines,
        "test_lines": counts.test_lines,
        "test_functions": counts.tests,
        "benchmarks": counts.benchmarks,
        "fuzz_tests": counts.fuzz_tests,
        "examples": counts.examples,
        "test_to_code_ratio": ratio,
        "ci": ci,
        "context_params": counts.context_params,
        "http_clients_with_timeout": with_t,
        "http_clients_without_timeout": without_t,
        "selects": selects,
        "selects_with_timeout_or_cancel": guarded,
        "goroutines": counts.goroutines,
        "goroutines_unsynced": unsynced,
        "errorf_wrapped": wrapped,
        "errorf_unwrapped": unwrapped,
        "errors_is_as": counts.errors_is_as,
        "panics_outside_main": panics,
        "gopath_markers": markers_text,
        "last_commit_at": tree.last_commit_at.isoformat() if tree.last_commit_at else None,
        "months_since_commit": months,
        "skipped_binary_files": tree.skipped_binary,
        "skipped_links": tree.skipped_links,
    }
    scored = [VERDICT_POINTS[finding.verdict] for finding in findings if finding.verdict in VERDICT_POINTS]
    score = round(sum(scored) / len(scored), 4) if scored else 0.0
    return AuditReport(figures=figures, findings=findings, score=score)
