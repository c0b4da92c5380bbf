/* Failure-signal pages: trend charts (ECharts), live progress of an extraction run, confirmations.
   Data comes from <script type="application/json"> blocks written by Django's json_script; every
   user-derived string that reaches HTML is escaped here (ECharts tooltips render HTML). */
(function () {
  "use strict";

  // The same colours as .swatch-0 … .swatch-11 in signals.css (the legend is HTML beside the chart); the
  // server picks each signal's index so a signal keeps its colour from run to run. OTHER is "other signals".
  var PALETTE = [
    "#1f56b8", "#d9534f", "#e8a013", "#0b8a5a", "#7b4fc9", "#1a9bb0",
    "#c4577f", "#8a6d1f", "#3f8f2f", "#b4541a", "#4a63d6", "#8e3f6e",
  ];
  var OTHER = "#9aa5b4";

  function escapeHTML(value) {
    return String(value).replace(/[&<>"']/g, function (ch) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[ch];
    });
  }

  function readJSON(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (error) {
      return null;
    }
  }

  function renderTrend(container) {
    var data = readJSON(container.getAttribute("data-source"));
    if (!data || !window.echarts || !data.months || !data.months.length) return;
    var chart = window.echarts.init(container, null, { renderer: "canvas" });
    chart.setOption({
      animationDuration: 400,
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        confine: true,
        formatter: function (items) {
          if (!items || !items.length) return "";
          var lines = ["<strong>" + escapeHTML(items[0].axisValue) + "</strong>"];
          items.forEach(function (item) {
            if (items.length > 1 && !item.value) return;
            lines.push(item.marker + escapeHTML(item.seriesName) + ": <b>" + escapeHTML(item.value) + "</b>");
          });
          return lines.join("<br>");
        },
      },
      xAxis: { type: "category", data: data.months },
      yAxis: { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#e9edf3" } } },
      series: data.series.map(function (series) {
        // One signal: plain bars. Several: stacked bars, so each month shows its total and its mix.
        return {
          name: series.name,
          type: "bar",
          itemStyle: { color: series.colour === null || series.colour === undefined ? OTHER : PALETTE[series.colour] },
          data: series.data,
          stack: data.series.length > 1 ? "signals" : undefined,
          barMaxWidth: 28,
          emphasis: { focus: "series" },
        };
      }),
    });
    window.addEventListener("resize", function () {
      chart.resize();
    });
  }

  function watchRun(panel) {
    var url = panel.getAttribute("data-progress-url");
    var bar = panel.querySelector('[data-role="bar"]');
    var percent = panel.querySelector('[data-role="percent"]');
    var step = panel.querySelector('[data-role="step"]');
    var status = panel.querySelector('[data-role="status"]');
    var stalled = panel.querySelector('[data-role="stalled"]');
    var waiting = panel.querySelector('[data-role="waiting"]');
    var failures = 0;
    var QUEUE_PATIENCE_MS = 20000;

    function update(run) {
      bar.value = run.progress;
      bar.textContent = run.progress + "%";
      percent.textContent = run.progress + "%";
      status.textContent = run.status_display;
      if (run.step) step.textContent = run.step;
      if (run.error) step.textContent = run.error;
      stalled.hidden = !run.stalled;
      waiting.hidden = !(run.status === "queued" && Date.now() - Date.parse(run.created_at) > QUEUE_PATIENCE_MS);
      panel.classList.toggle("is-failed", run.status === "failed");
    }

    function tick() {
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (run) {
          failures = 0;
          update(run);
          if (run.finished) {
            // The report (or the failure) is on the server now: show it.
            window.setTimeout(function () {
              window.location.reload();
            }, run.status === "failed" ? 2500 : 600);
            return;
          }
          window.setTimeout(tick, 1000);
        })
        .catch(function () {
          failures += 1;
          window.setTimeout(tick, Math.min(10000, 1000 * Math.pow(2, failures)));
        });
    }
    tick();
  }

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // Only one popover form open at a time.
  document.addEventListener("toggle", function (event) {
    var target = event.target;
    if (!target.classList || !target.classList.contains("sig-popover") || !target.open) return;
    document.querySelectorAll(".sig-popover[open]").forEach(function (other) {
      if (other !== target) other.open = false;
    });
  }, true);

  // Escape closes an open popover form and gives the focus back to its button, as a menu would.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = event.target.closest && event.target.closest(".sig-popover[open]");
    if (!open) return;
    open.open = false;
    open.querySelector("summary").focus();
  });

  function init() {
    document.querySelectorAll('[data-chart="trend"]').forEach(renderTrend);
    document.querySelectorAll("[data-progress-url]").forEach(watchRun);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
