/* Failure-signal guide: one small trend line per signal (share of each month's reviews showing it).
   Data comes from <script type="application/json"> blocks written by Django's json_script; every string
   that reaches the tooltip's HTML is escaped. Needs /static/vendor/echarts-6.1.0.min.js. */
(function () {
  "use strict";

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
    var label = container.getAttribute("data-label") || "";
    var chart = window.echarts.init(container, null, { renderer: "canvas" });
    chart.setOption({
      animation: !window.matchMedia("(prefers-reduced-motion: reduce)").matches,
      color: ["#b42318"],
      grid: { left: 4, right: 12, top: 12, bottom: 4, containLabel: true },
      tooltip: {
        trigger: "axis",
        confine: true,
        formatter: function (items) {
          if (!items || !items.length) return "";
          var index = items[0].dataIndex;
          var share = data.shares[index];
          return (
            "<strong>" + escapeHTML(items[0].axisValue) + "</strong><br>" +
            escapeHTML(share === null ? "—" : share + "%") + " " + escapeHTML(label) +
            "<br>" + escapeHTML(data.counts[index] + " / " + data.totals[index])
          );
        }
      },
      xAxis: { type: "category", data: data.months, boundaryGap: false, axisLabel: { fontSize: 10 } },
      yAxis: {
        type: "value",
        min: 0,
        axisLabel: { fontSize: 10, formatter: "{value}%" },
        splitLine: { lineStyle: { color: "#e9edf3" } }
      },
      series: [{
        type: "line",
        data: data.shares,
        connectNulls: true,
        smooth: true,
        symbolSize: 5,
        areaStyle: { opacity: 0.12 }
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
    // Print at the paper's width, then back to the screen's.
    window.addEventListener("beforeprint", function () { chart.resize(); });
    window.addEventListener("afterprint", function () { chart.resize(); });
  }

  function init() {
    document.querySelectorAll('[data-chart="guide-trend"]').forEach(renderTrend);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
