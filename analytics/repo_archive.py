"""Reading a course repository for the audit, from a directory or a .tar.gz, without executing anything.

A repository becomes a `RepoTree`: every path name, and the text of the files the audit reads (.go sources and
go.mod). Archives are never unpacked to disk: members are read into memory after checks that refuse the whole
archive for path traversal, absolute paths, links pointing out of the tree, device files and FIFOs, and
archive bombs (member count, declared total size and per-file size, all checked from the headers before
any member's data is read). Links inside the tree are recorded by name and never followed; binary files
are skipped.
"""

from __future__ import annotations

import os
import posixpath
import re
import tarfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO

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
    """The files whose text the audit reads: Go sources and go.mod files."""
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


def _link_stays_inside(member_path: str, target: str, *, hard: bool, root: str) -> bool:
    """Whether a link resolves inside the tree (`root`: the archive's top directory, or "" for none)."""
    if target.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", target):
        return False
    base = "" if hard else posixpath.dirname(member_path)  # hard links name a path from the archive root
    resolved = posixpath.normpath(posixpath.join(base, target.replace("\\", "/")))
    if resolved == ".." or resolved.startswith("../"):
        return False
    return not root or resolved.startswith(root) or resolved == root.rstrip("/")


@dataclass
class _Entry:
    path: str
    kind: str  # "dir", "file" or "link"
    data: bytes | None = None  # text of a file the audit reads
    link_target: str = ""
    hard_link: bool = False


def read_tarball(source: str | os.PathLike[str] | IO[bytes], *, limits: Limits = Limits()) -> RepoTree:
    """Read a .tar.gz (or plain .tar) into a RepoTree, refusing hostile archives (see module docstring).

    A single top-level directory (as in GitHub's and `git archive`'s tarballs) is treated as the root. The
    newest member modification time is taken as the last commit date, which is what `git archive` writes.
    """
    try:
        if isinstance(source, (str, os.PathLike)):
            archive = tarfile.open(source, mode="r:*")
        else:
            archive = tarfile.open(fileobj=source, mode="r:*")
    except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
        raise ArchiveRefused(f"not a readable .tar.gz archive: {exc}") from exc
    try:
        with archive:
            entries, newest = _read_members(archive, limits)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise ArchiveRefused(f"archive refused: corrupt archive ({exc})") from exc
    root = _common_root([entry.path for entry in entries])
    for entry in entries:
        if entry.kind == "link" and not _link_stays_inside(
            entry.path, entry.link_target, hard=entry.hard_link, root=root
        ):
            kind = "hard link" if entry.hard_link else "symlink"
            raise ArchiveRefused(
                f"archive refused: {kind} {entry.path!r} points out of the tree ({entry.link_target!r})"
            )
    tree = RepoTree()
    for entry in entries:
        relative = entry.path[len(root) :] if root else entry.path
        if not relative:
            continue
        _add_parents(tree, relative)
        if entry.kind == "dir":
            tree.paths.add(relative + "/")
            continue
        tree.paths.add(relative)
        if entry.kind == "link":
            tree.skipped_links += 1
        elif entry.data is not None and _is_binary(entry.data):
            tree.skipped_binary += 1
        elif entry.data is not None:
            tree.texts[relative] = _decode(entry.data)
    if newest:
        tree.last_commit_at = datetime.fromtimestamp(newest, tz=UTC)
    return tree


def _read_members(archive: tarfile.TarFile, limits: Limits) -> tuple[list[_Entry], int]:
    """Every member checked from its header before its data is read; the text of the files the audit reads."""
    entries: list[_Entry] = []
    newest = total = 0
    while (member := archive.next()) is not None:
        if len(entries) >= limits.max_files:
            raise ArchiveRefused(f"archive refused: more than {limits.max_files} entries")
        path = _safe_member_path(member.name)
        if member.isdev() or member.isfifo():
            raise ArchiveRefused(f"archive refused: device or FIFO entry {member.name!r}")
        if member.issym() or member.islnk():
            entries.append(_Entry(path, "link", link_target=member.linkname, hard_link=member.islnk()))
        elif member.isdir():
            entries.append(_Entry(path, "dir"))
        elif member.isfile():
            if member.size > limits.max_file_bytes:
                raise ArchiveRefused(
                    f"archive refused: {member.name!r} is {member.size} bytes "
                    f"(limit {limits.max_file_bytes} per file)"
                )
            total += member.size
            if total > limits.max_total_bytes:
                raise ArchiveRefused(
                    f"archive refused: more than {limits.max_total_bytes} bytes once unpacked"
                )
            newest = max(newest, int(member.mtime or 0))
            data = None
            if _wanted(path):
                handle = archive.extractfile(member)
                data = handle.read(member.size) if handle else b""
                if len(data) != member.size:
                    raise ArchiveRefused(f"archive refused: {member.name!r} is truncated")
            entries.append(_Entry(path, "file", data))
    return entries, newest


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


def read_directory(root: str | os.PathLike[str], *, limits: Limits = Limits()) -> RepoTree:
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
