"""Time the repository check (pure Python, no Django) on ordinary and on hostile Go source.

    .venv/bin/python bench/repo_audit.py [--megabytes 2]

Prints MB/s for: the demo repositories, a large ordinary generated package, and files built to make a naive
lexer or brace matcher quadratic (thousands of unterminated "/*", nested selects, goroutines in one function).
"""

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.repo_archive import RepoTree, read_directory  # noqa: E402
from analytics.repo_audit import audit  # noqa: E402

DEMO = Path(__file__).resolve().parent.parent / "demo" / "repos"
NOW = datetime.now(UTC)
ORDINARY = """
func Fetch{n}(ctx context.Context, url string) error {{
\treq, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
\tif err != nil {{
\t\treturn fmt.Errorf("fetch %s: %w", url, err) // a comment with go func() in it
\t}}
\tselect {{
\tcase <-ctx.Done():
\tcase <-time.After(time.Second):
\t}}
\t_ = req
\treturn nil
}}
"""


def measure(name: str, files: dict[str, str]) -> None:
    tree = RepoTree(paths=set(files), texts=files)
    size = sum(len(text.encode()) for text in files.values()) / 1e6
    began = time.perf_counter()
    report = audit(tree, now=NOW)
    elapsed = time.perf_counter() - began
    print(f"{name:<34} {size:7.2f} MB {elapsed:7.3f} s {size / elapsed:8.2f} MB/s  score {report.score:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=2.0)
    size = int(parser.parse_args().megabytes * 1e6)
    for path in sorted(DEMO.iterdir()):
        if path.is_dir():
            tree = read_directory(path)
            measure(f"demo/{path.name}", tree.texts | {"go.mod": tree.texts.get("go.mod", "")})
    header = 'package p\n\nimport "net/http"\n'
    body = "".join(ORDINARY.format(n=n) for n in range(size // len(ORDINARY) + 1))
    measure("ordinary package", {"go.mod": "module x.io/p\n\ngo 1.22\n", "p.go": header + body})
    measure("unterminated /* everywhere", {"p.go": header + "/*" * (size // 2)})
    measure("nested selects", {"p.go": header + "func f() {\n" + "select {\n" * (size // 9) + "}"})
    measure("goroutines in one function", {"p.go": header + "func f() {\n" + "go g()\n" * (size // 7) + "}"})
    measure("unclosed fmt.Errorf calls", {"p.go": header + "func f() {\n" + "fmt.Errorf(" * (size // 11)})


if __name__ == "__main__":
    main()
