"""Reading repositories safely: hostile .tar.gz archives are refused whole, built here in each test."""

import io
import os
import tarfile
from datetime import UTC, datetime

import pytest

from analytics.repo_archive import ArchiveRefused, Limits, RepoAuditError, read_directory, read_tarball

GO = b"package main\n\nfunc main() {}\n"


def archive(*members: tuple[tarfile.TarInfo, bytes | None], compress: bool = True) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if compress else "w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    buffer.seek(0)
    return buffer


def file(name: str, data: bytes = GO, *, mtime: int = 1_760_000_000) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = mtime
    return info, data


def special(name: str, kind: bytes, *, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def test_it_reads_a_github_style_tarball_under_its_top_directory():
    tree = read_tarball(
        archive(
            file("acme-shop-1a2b3c/go.mod", b"module example.com/shop\n\ngo 1.22\n"),
            file("acme-shop-1a2b3c/cmd/main.go", mtime=1_700_000_000),
            file("acme-shop-1a2b3c/README.md", b"# shop"),
        )
    )
    assert set(tree.texts) == {"go.mod", "cmd/main.go"}  # only what the audit reads is kept
    assert {"README.md", "cmd/", "cmd/main.go"} <= tree.paths
    assert tree.last_commit_at == datetime.fromtimestamp(1_760_000_000, tz=UTC)  # git archive's mtime


@pytest.mark.parametrize(
    "name",
    ["../evil.go", "repo/../../evil.go", "repo/sub/../../../etc/passwd"],
)
def test_it_refuses_path_traversal(name):
    with pytest.raises(ArchiveRefused, match="path traversal"):
        read_tarball(archive(file("repo/main.go"), file(name)))


@pytest.mark.parametrize("name", ["/etc/passwd", "C:/windows/evil.go", "\\\\server\\share.go"])
def test_it_refuses_absolute_paths(name):
    with pytest.raises(ArchiveRefused, match="absolute path"):
        read_tarball(archive(file(name)))


@pytest.mark.parametrize("target", ["/etc/passwd", "../../outside", "../../../root/.ssh/id_rsa"])
def test_it_refuses_symlinks_out_of_the_tree(target):
    with pytest.raises(ArchiveRefused, match="symlink 'repo/sub/link' points out of the tree"):
        read_tarball(
            archive(file("repo/main.go"), special("repo/sub/link", tarfile.SYMTYPE, linkname=target))
        )


def test_it_refuses_hard_links_out_of_the_tree():
    with pytest.raises(ArchiveRefused, match="hard link"):
        read_tarball(archive(special("repo/shadow.go", tarfile.LNKTYPE, linkname="../../etc/shadow")))


def test_it_records_links_inside_the_tree_without_following_them():
    tree = read_tarball(
        archive(file("repo/main.go"), special("repo/alias.go", tarfile.SYMTYPE, linkname="main.go"))
    )
    assert "alias.go" in tree.paths and "alias.go" not in tree.texts
    assert tree.skipped_links == 1


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_it_refuses_device_files_and_fifos(kind):
    with pytest.raises(ArchiveRefused, match="device or FIFO"):
        read_tarball(archive(file("repo/main.go"), special("repo/dev", kind)))


def test_it_refuses_too_many_entries_before_reading_them_all():
    members = [file(f"repo/f{n}.go") for n in range(30)]
    with pytest.raises(ArchiveRefused, match="more than 20 entries"):
        read_tarball(archive(*members), limits=Limits(max_files=20))


def test_it_refuses_an_archive_bomb_by_its_declared_size():
    # 64 MB of zeros compresses to ~64 KB; the header's size is enough to refuse it.
    bomb = b"\0" * (64 * 1024 * 1024)
    payload = archive(file("repo/zeros.go", bomb))
    assert len(payload.getvalue()) < 200_000
    with pytest.raises(ArchiveRefused, match="more than 33554432 bytes once unpacked"):
        read_tarball(
            payload, limits=Limits(max_total_bytes=32 * 1024 * 1024, max_file_bytes=128 * 1024 * 1024)
        )
    with pytest.raises(ArchiveRefused, match="limit 1048576 per file"):
        read_tarball(archive(file("repo/zeros.go", bomb)), limits=Limits(max_file_bytes=1024 * 1024))


def test_it_skips_binary_files():
    tree = read_tarball(archive(file("repo/main.go"), file("repo/blob.go", b"\x7fELF\x00\x00\x01")))
    assert "blob.go" not in tree.texts and tree.skipped_binary == 1


def test_it_refuses_what_is_not_an_archive():
    with pytest.raises(ArchiveRefused, match="not a readable"):
        read_tarball(io.BytesIO(b"this is not a tarball"))
    whole = archive(file("repo/main.go", os.urandom(40_000).hex().encode())).getvalue()
    with pytest.raises(ArchiveRefused, match="corrupt|truncated"):
        read_tarball(io.BytesIO(whole[: len(whole) // 2]))


def test_a_directory_is_read_without_following_symlinks(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.go").write_text("package secret\n")
    repo = tmp_path / "repo"
    (repo / "cmd").mkdir(parents=True)
    (repo / "cmd" / "main.go").write_bytes(GO)
    (repo / "bin.go").write_bytes(b"\x00\x01binary")
    os.symlink(outside, repo / "linked-dir")
    os.symlink(outside / "secret.go", repo / "linked.go")

    tree = read_directory(repo)

    assert set(tree.texts) == {"cmd/main.go"}
    assert tree.skipped_links == 2 and tree.skipped_binary == 1


def test_a_directory_over_the_limits_is_refused(tmp_path):
    for n in range(5):
        (tmp_path / f"f{n}.go").write_bytes(GO)
    with pytest.raises(RepoAuditError, match="more than 3 files"):
        read_directory(tmp_path, limits=Limits(max_files=3))
    with pytest.raises(RepoAuditError, match="no such directory"):
        read_directory(tmp_path / "missing")
