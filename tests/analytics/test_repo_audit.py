"""The repository audit on fixture Go trees: every figure, its verdict, and what is never counted."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analytics.repo_archive import NotAGoRepository, RepoTree, read_directory
from analytics.repo_audit import audit, parse_go_mod, strip_go

NOW = datetime(2026, 12, 1, tzinfo=UTC)
DEMO = Path(__file__).resolve().parents[2] / "demo" / "repos"


def tree(files: dict[str, str], *, last_commit_at: datetime | None = None) -> RepoTree:
    paths: set[str] = set()
    for path in files:
        paths.add(path)
        parts = path.split("/")
        paths.update("/".join(parts[:depth]) + "/" for depth in range(1, len(parts)))
    wanted = {path: text for path, text in files.items() if path.endswith(".go") or path.endswith("go.mod")}
    return RepoTree(paths=paths, texts=wanted, last_commit_at=last_commit_at)


def findings(report) -> dict[str, tuple]:
    return {finding.key: (finding.value, finding.verdict) for finding in report.findings}


GOOD_MOD = """module github.com/acme/shop

go 1.23.1

require (
\tgolang.org/x/sync v0.7.0
\tgithub.com/google/go-cmp v0.6.0 // indirect
)

require github.com/stretchr/testify v1.9.0
"""

PRODUCTION = """package shop

import (
\t"context"
\t"errors"
\t"fmt"
\t"net/http"
\t"sync"
\t"time"
)

var client = &http.Client{Timeout: 3 * time.Second}

func Load(ctx context.Context, id string) error {
\tif err := fetch(ctx, id); err != nil {
\t\treturn fmt.Errorf("load %s: %w", id, err)
\t}
\treturn nil
}

func fetch(ctx context.Context, id string) error {
\tselect {
\tcase <-ctx.Done():
\t\treturn ctx.Err()
\tcase <-time.After(time.Second):
\t}
\tif errors.Is(ctx.Err(), context.Canceled) {
\t\treturn nil
\t}
\treturn nil
}

func All(ids []string) {
\tvar wg sync.WaitGroup
\tfor _, id := range ids {
\t\twg.Add(1)
\t\tgo func() { defer wg.Done(); _ = Load(context.Background(), id) }()
\t}
\twg.Wait()
}
"""

CARELESS = """package shop

import (
\t"fmt"
\t"net/http"
)

// A comment is not code: http.Get("x"); go func() {}(); panic("no"); context.Context
var doc = "strings are not code either: http.Get( go func() panic( fmt.Errorf(%w)"

func Get(url string) string {
\tresp, err := http.Get(url)
\tif err != nil {
\t\tpanic(fmt.Errorf("get %s: %v", url, err))
\t}
\tc := http.Client{}
\t_ = c
\tgo func() { fmt.Println(resp.Status) }()
\tgo log(url)
\tselect {
\tcase <-make(chan int):
\t}
\treturn resp.Status
}

func log(s string) { fmt.Println(s) }
"""


def test_it_reads_every_go_mod_figure():
    parsed = parse_go_mod(GOOD_MOD)
    assert (parsed.module, parsed.go_version, parsed.direct, parsed.indirect) == (
        "github.com/acme/shop",
        "1.23.1",
        2,
        1,
    )


def test_it_grades_a_production_minded_repository_good():
    files = {
        "go.mod": GOOD_MOD,
        ".github/workflows/ci.yml": "on: push",
        "shop/load.go": PRODUCTION,
        "shop/a.go": "package shop\n\nfunc A() int { return 1 }\n",
        "shop/b.go": "package shop\n\nfunc B() int { return 2 }\n",
        "cmd/shop/main.go": 'package main\n\nfunc main() { panic("a main may panic") }\n',
        "shop/load_test.go": 'package shop\n\nimport "testing"\n\n'
        + "".join(f"func TestLoad{n}(t *testing.T) {{ t.Log({n}) }}\n" for n in range(5))
        + "func BenchmarkLoad(b *testing.B) {}\nfunc FuzzLoad(f *testing.F) {}\nfunc ExampleLoad() {}\n"
        + "func helperNotATest() {}\n",
    }
    report = audit(tree(files, last_commit_at=NOW - timedelta(days=40)), now=NOW)
    got = findings(report)

    assert got["go_module"] == (True, "good")
    assert got["go_version"] == ("1.23.1", "good")
    assert got["module_path"] == ("github.com/acme/shop", "good")
    assert got["direct_requirements"] == (2, "good")
    assert got["indirect_requirements"] == (1, "good")
    assert got["vendoring"] == (False, "good")
    assert got["gopath_markers"] == (None, "good")
    assert got["test_files"] == (1, "good")
    assert got["test_functions"] == (5, "good")
    assert got["benchmarks"] == (1, "good")
    assert got["fuzz_tests"] == (1, "good")
    assert got["examples"] == (1, "good")
    assert got["ci"] == (True, "good")
    assert got["context_params"] == (2, "good")
    assert got["http_clients_with_timeout"] == (1, "good")
    assert got["http_clients_without_timeout"] == (0, "good")
    assert got["select_with_timeout"] == (1, "good")
    assert got["bare_goroutines"] == (0, "good")
    assert got["errorf_wrapping"] == (1, "good")
    assert got["errors_is_as"] == (1, "good")
    assert got["panics_outside_main"] == (0, "good")  # the panic in package main does not count
    assert got["last_commit"][1] == "good"
    assert report.figures["months_since_commit"] == 1.3
    assert got["test_to_code_ratio"] == (0.27, "concern")  # test lines / code lines, blank lines aside
    assert report.verdict_counts() == {"good": 23, "concern": 1, "bad": 0, "info": 0}
    assert report.score == round(23.5 / 24, 4)


def test_it_flags_a_careless_repository_and_ignores_comments_and_strings():
    report = audit(tree({"go.mod": "module shop\n\ngo 1.16\n", "shop.go": CARELESS}), now=NOW)
    got = findings(report)
    figures = report.figures

    assert got["go_version"] == ("1.16", "bad")
    assert got["module_path"] == ("shop", "concern")
    assert (
        figures["http_clients_without_timeout"] == 2
    )  # http.Get and http.Client{} — not the comment or string
    assert got["http_clients_without_timeout"][1] == "bad"
    assert figures["goroutines"] == 2 and got["bare_goroutines"] == (2, "bad")
    assert figures["panics_outside_main"] == 1 and got["panics_outside_main"] == (1, "concern")
    assert figures["errorf_unwrapped"] == 1 and got["errorf_wrapping"] == (0, "bad")
    assert got["select_with_timeout"] == (0, "bad")
    assert got["context_params"] == (0, "bad")  # network code without any context
    assert got["test_files"] == (0, "bad") and got["test_to_code_ratio"] == (0.0, "bad")
    assert got["ci"] == (False, "concern")
    assert got["last_commit"] == (None, "info")
    assert report.score < 0.4


def test_it_names_gopath_era_markers_and_vendoring_without_modules():
    files = {
        "src/app/main.go": "package main\n\nfunc main() {}\n",
        "Godeps/Godeps.json": "{}",
        "glide.yaml": "package: app",
        "Gopkg.toml": "",
        "vendor/github.com/x/y/y.go": "package y\n\nfunc Y() { panic(1) }\n",
    }
    report = audit(tree(files, last_commit_at=NOW - timedelta(days=5 * 365)), now=NOW)
    got = findings(report)

    assert got["go_module"] == (False, "bad")
    assert got["gopath_markers"] == ("no go.mod, Godeps, dep, glide", "bad")
    assert got["vendoring"] == (True, "concern")
    assert "go_version" not in got  # no go.mod: nothing to grade
    assert report.figures["go_files"] == 1  # vendored code is not the course's
    assert report.figures["panics_outside_main"] == 0
    assert got["last_commit"][1] == "bad"


def test_it_counts_many_requirements_as_a_learner_warning():
    requirements = "\n".join(f"\tgithub.com/dep/m{n} v1.0.0" for n in range(12))
    indirect = "\n".join(f"\tgithub.com/dep/i{n} v1.0.0 // indirect" for n in range(50))
    go_mod = (
        f"module example.com/app\n\ngo 1.20\n\nrequire (\n{requirements}\n)\n\nrequire (\n{indirect}\n)\n"
    )
    report = audit(tree({"go.mod": go_mod, "main.go": "package main\nfunc main() {}\n"}), now=NOW)
    got = findings(report)
    assert got["direct_requirements"] == (12, "bad")
    assert got["indirect_requirements"] == (50, "bad")
    assert got["go_version"] == ("1.20", "concern")
    meaning = next(f for f in report.findings if f.key == "direct_requirements")
    assert "12" in meaning.meaning_zh and "12 direct modules" in meaning.meaning_en


def test_it_strips_comments_strings_and_runes_but_keeps_the_lines():
    source = strip_go(
        'package p\n// go func()\nvar s = `raw\npanic(`\nvar r = \'"\'\n/* a\nb */ var t = "x\\"y"\n'
    )
    assert "panic" not in source.code and "go func" not in source.code
    assert source.strings == ["raw\npanic(", 'x\\"y']
    assert source.code.count("\n") == 7


def test_it_refuses_a_repository_without_go_code():
    with pytest.raises(NotAGoRepository, match="not a Go repository"):
        audit(tree({"README.md": "# hi", "vendor/x/x.go": "package x"}), now=NOW)


def test_the_demo_repositories_differ_as_advertised():
    good = audit(read_directory(DEMO / "go-concurrency-in-practice"), now=NOW)
    gopath = audit(read_directory(DEMO / "go-core-programming-projects"), now=NOW)
    untested = audit(read_directory(DEMO / "go-web-gin-gorm-blog"), now=NOW)

    assert good.verdict_counts()["bad"] == 0 and good.score > 0.9
    assert findings(gopath)["go_module"] == (False, "bad")
    assert findings(untested)["test_files"] == (0, "bad")
    assert good.score > untested.score and good.score > gopath.score


def test_unterminated_comments_and_raw_strings_run_to_the_end_of_the_file():
    assert "go func" not in strip_go("package p\n/* never closed\ngo func() {}()\n").code
    assert "panic" not in strip_go("package p\nvar s = `never closed\npanic(1)\n").code


def test_unclosed_blocks_and_calls_are_still_counted():
    source = "package p\n\nfunc f(err error) {\n\tselect {\n\tcase <-time.After(1):\n"
    source += '\t_ = fmt.Errorf("x %v", err\n'
    report = audit(tree({"p.go": source}), now=NOW)
    assert report.figures["selects_with_timeout_or_cancel"] == 1
    assert report.figures["errorf_unwrapped"] == 1
