"""What each repository-audit figure is called and means for a learner, in Chinese and English."""

LABELS: dict[str, tuple[str, str]] = {
    "go_module": ("Go 模块 (go.mod)", "Go module (go.mod)"),
    "go_version": ("go 版本声明", "go directive"),
    "module_path": ("模块路径", "Module path"),
    "direct_requirements": ("直接依赖数", "Direct requirements"),
    "indirect_requirements": ("间接依赖数", "Indirect requirements"),
    "vendoring": ("vendor 目录", "Vendored dependencies"),
    "gopath_markers": ("GOPATH 时代痕迹", "GOPATH-era markers"),
    "go_files": ("Go 文件数", "Go files"),
    "test_files": ("测试文件数", "Test files"),
    "test_functions": ("Test 函数数", "Test functions"),
    "benchmarks": ("Benchmark 函数数", "Benchmark functions"),
    "fuzz_tests": ("Fuzz 函数数", "Fuzz tests"),
    "examples": ("Example 函数数", "Example functions"),
    "test_to_code_ratio": ("测试/代码行数比", "Test-to-code ratio"),
    "ci": ("持续集成配置", "CI configuration"),
    "context_params": ("context.Context 参数", "context.Context parameters"),
    "http_clients_without_timeout": ("无超时的 HTTP 调用", "HTTP calls without a timeout"),
    "http_clients_with_timeout": ("带超时的 http.Client", "http.Client with a timeout"),
    "select_with_timeout": ("带超时/取消的 select", "select with time.After / ctx.Done()"),
    "bare_goroutines": ("无人等待的 go func", "Goroutines without WaitGroup/errgroup"),
    "errorf_wrapping": ("fmt.Errorf 用 %w 包装", "fmt.Errorf wrapping with %w"),
    "errors_is_as": ("errors.Is / errors.As", "errors.Is / errors.As"),
    "panics_outside_main": ("main/测试之外的 panic", "panic outside main and tests"),
    "last_commit": ("最近一次提交", "Last commit"),
}

# (figure, case) → (Chinese, English); `{name}` placeholders are filled from the figures.
MEANINGS: dict[tuple[str, str], tuple[str, str]] = {
    ("go_module", "yes"): (
        "有 go.mod：克隆到任意目录都能直接 go build / go test。",
        "Has go.mod: it builds and tests from any directory with today's toolchain.",
    ),
    ("go_module", "no"): (
        "没有 go.mod：这是 GOPATH 时代的写法，现在的 Go 需要额外折腾才能编译。",
        "No go.mod: a GOPATH-era layout that today's Go will not build without extra work.",
    ),
    ("go_version", "missing"): (
        "go.mod 没有声明 go 版本，看不出课程按哪个版本写。",
        "go.mod declares no Go version, so you cannot tell which Go the course targets.",
    ),
    ("go_version", "recent"): (
        "面向较新的 Go（1.21+）：泛型、slog、errors.Join 等现代写法都可用。",
        "Targets a recent Go (1.21+): generics, slog and errors.Join are all available.",
    ),
    ("go_version", "generics"): (
        "Go 1.18–1.20：有泛型，但内容可能落后了几个版本。",
        "Go 1.18–1.20: generics exist, but the material may be a few releases behind.",
    ),
    ("go_version", "old"): (
        "早于 Go 1.18：没有泛型，写法多半已过时。",
        "Older than Go 1.18: no generics; expect dated idioms.",
    ),
    ("module_path", "real"): (
        "模块路径是真实的导入路径，其他项目可以引用。",
        "A real import path other projects can depend on.",
    ),
    ("module_path", "local"): (
        "模块路径不是可下载的导入路径（如 github.com/…），只是本地的玩具布局。",
        "Not a fetchable import path (such as github.com/…): a local toy layout.",
    ),
    ("direct_requirements", "few"): (
        "直接依赖 {direct_requirements} 个（≤5）：你读到的主要是课程自己写的代码。",
        "{direct_requirements} direct modules (five or fewer): most of what you read is the course's "
        "own code.",
    ),
    ("direct_requirements", "many"): (
        "直接依赖 {direct_requirements} 个：不少功能来自第三方库，而不是讲给你听的代码。",
        "{direct_requirements} direct modules: much of the behaviour comes from libraries, not from the "
        "lesson.",
    ),
    ("indirect_requirements", "few"): ("间接依赖少，依赖树容易看懂。", "A small dependency tree."),
    ("indirect_requirements", "many"): (
        "间接依赖 {indirect_requirements} 个：依赖树庞大，升级和排错都更难。",
        "{indirect_requirements} indirect modules: a large tree, harder to upgrade and debug.",
    ),
    ("vendoring", "none"): (
        "没有提交依赖代码，仓库里只有课程自己的代码。",
        "No vendored dependencies: the repository holds the course's own code.",
    ),
    ("vendoring", "modules"): (
        "依赖随仓库提交（vendor）且有 go.mod：离线也能编译。",
        "Dependencies are vendored alongside go.mod: it builds offline.",
    ),
    ("vendoring", "gopath"): (
        "有 vendor 但没有 go.mod：老式的依赖管理。",
        "Vendored without go.mod: old-style dependency management.",
    ),
    ("gopath_markers", "none"): (
        "没有 Godeps、glide、dep 等旧工具的痕迹。",
        "No Godeps, glide or dep leftovers.",
    ),
    ("gopath_markers", "found"): (
        "发现 {gopath_markers}：课程多半停留在 Go modules 之前。",
        "Found {gopath_markers}: the course likely predates Go modules.",
    ),
    ("go_files", "project"): ("代码量像一个完整的小项目。", "Enough code to be a real project."),
    ("go_files", "toy"): (
        "代码很少，可能只是零散的小例子。",
        "Very little code: probably scattered toy examples.",
    ),
    ("test_files", "yes"): (
        "有 {test_files} 个测试文件，可以直接 go test ./... 验证。",
        "{test_files} test files: run go test ./... to check it.",
    ),
    ("test_files", "no"): (
        "没有任何测试：课程没有示范如何验证代码。",
        "No tests at all: the course never shows how to verify code.",
    ),
    ("test_functions", "many"): ("测试覆盖了不少场景。", "Tests cover a fair number of cases."),
    ("test_functions", "few"): ("测试很少。", "Only a few tests."),
    ("test_functions", "none"): ("没有 Test 函数。", "No Test functions."),
    ("benchmarks", "yes"): (
        "有基准测试：讲性能时有数据支撑。",
        "Has benchmarks: performance claims come with numbers.",
    ),
    ("benchmarks", "no"): (
        "没有基准测试：性能结论无从验证。",
        "No benchmarks: performance claims cannot be checked.",
    ),
    ("fuzz_tests", "yes"): (
        "有模糊测试（Go 1.18+ 的现代测试手段）。",
        "Has fuzz tests (a modern Go 1.18+ practice).",
    ),
    ("fuzz_tests", "no"): ("没有模糊测试。", "No fuzz tests."),
    ("examples", "yes"): ("有可运行的 Example 文档。", "Has runnable Example documentation."),
    ("examples", "no"): ("没有 Example 函数（可运行的文档示例）。", "No Example functions (runnable docs)."),
    ("test_to_code_ratio", "healthy"): ("测试代码占比健康。", "A healthy share of test code."),
    ("test_to_code_ratio", "low"): ("测试代码偏少。", "Little test code."),
    ("test_to_code_ratio", "none"): ("几乎没有测试代码。", "Almost no test code."),
    ("ci", "yes"): ("有 CI：每次提交都会自动编译和测试。", "Has CI: every change is built and tested."),
    ("ci", "no"): (
        "没有 CI 配置：没人保证代码还能编译通过。",
        "No CI: nothing proves the code still builds.",
    ),
    ("context_params", "yes"): (
        "{context_params} 个函数参数是 context：示范了取消和超时的传递。",
        "{context_params} context parameters: cancellation and deadlines are passed along.",
    ),
    ("context_params", "missing"): (
        "有网络或并发代码却从不传 context：取消和超时没有讲。",
        "Network or concurrent code without any context: cancellation and timeouts are not taught.",
    ),
    ("context_params", "none"): ("没有用 context。", "No context.Context anywhere."),
    ("http_clients_without_timeout", "some"): (
        "{http_clients_without_timeout} 处 HTTP 调用没有超时（http.Get 或未设 Timeout 的 http.Client），"
        "遇到慢服务会一直挂着。",
        "{http_clients_without_timeout} HTTP call(s) without a timeout (http.Get, or an http.Client without "
        "Timeout) hang forever on a slow server.",
    ),
    ("http_clients_without_timeout", "zero"): (
        "所有 HTTP 客户端都设置了超时。",
        "Every HTTP client sets a timeout.",
    ),
    ("http_clients_without_timeout", "na"): ("没有发出 HTTP 请求的代码。", "No outgoing HTTP code."),
    ("http_clients_with_timeout", "yes"): (
        "示范了为 http.Client 设置 Timeout。",
        "Shows how to give an http.Client a Timeout.",
    ),
    ("http_clients_with_timeout", "no"): (
        "没有设置了 Timeout 的 http.Client。",
        "No http.Client with a Timeout.",
    ),
    ("select_with_timeout", "counted"): (
        "{selects} 个 select 中有 {selects_with_timeout_or_cancel} 个带 time.After 或 ctx.Done()。",
        "{selects_with_timeout_or_cancel} of {selects} select statements handle a timeout or cancellation.",
    ),
    ("select_with_timeout", "missing"): (
        "启动了 goroutine 却从不用 select 处理超时或取消。",
        "Starts goroutines but never selects on a timeout or cancellation.",
    ),
    ("select_with_timeout", "na"): ("没有 select。", "No select statements."),
    ("bare_goroutines", "some"): (
        "{goroutines} 个 goroutine 中有 {goroutines_unsynced} 个附近没有 WaitGroup 或 errgroup："
        "容易泄漏或提前退出。",
        "{goroutines_unsynced} of {goroutines} goroutines have no WaitGroup or errgroup nearby: leaks "
        "and early exits go unnoticed.",
    ),
    ("bare_goroutines", "zero"): (
        "{goroutines} 个 goroutine 都有 WaitGroup、errgroup 或关闭的 channel 管理。",
        "All {goroutines} goroutines are awaited (WaitGroup, errgroup or a closed channel).",
    ),
    ("bare_goroutines", "na"): ("没有启动 goroutine。", "No goroutines started."),
    ("errorf_wrapping", "counted"): (
        "用 %w 包装错误 {errorf_wrapped} 处，用 %v/%s 把原错误压成字符串 {errorf_unwrapped} 处。",
        "{errorf_wrapped} error(s) wrapped with %w, {errorf_unwrapped} flattened with %v/%s "
        "(the cause is lost).",
    ),
    ("errorf_wrapping", "na"): ("没有用 fmt.Errorf 包装错误。", "No fmt.Errorf calls wrapping an error."),
    ("errors_is_as", "yes"): (
        "用 errors.Is/As 按错误本身判断，而不是比较字符串。",
        "Errors are inspected with errors.Is/As, not by comparing strings.",
    ),
    ("errors_is_as", "no"): ("没有用 errors.Is/As 判断错误。", "Never uses errors.Is/As to inspect errors."),
    ("panics_outside_main", "zero"): (
        "库代码不 panic，错误都作为返回值处理。",
        "Library code returns errors instead of panicking.",
    ),
    ("panics_outside_main", "some"): (
        "库代码里有 {panics_outside_main} 处 panic：不是生产代码的写法。",
        "{panics_outside_main} panic call(s) in library code: not how production Go handles errors.",
    ),
    ("last_commit", "unknown"): ("不知道最近一次提交的时间。", "The date of the last commit is unknown."),
    ("last_commit", "fresh"): (
        "{months_since_commit} 个月前：仍在维护。",
        "{months_since_commit} months ago: still maintained.",
    ),
    ("last_commit", "stale"): (
        "{months_since_commit} 个月前：有一段时间没更新了。",
        "{months_since_commit} months ago: not updated for a while.",
    ),
    ("last_commit", "abandoned"): (
        "{months_since_commit} 个月前：已多年未维护。",
        "{months_since_commit} months ago: unmaintained for years.",
    ),
}
