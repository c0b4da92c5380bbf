/* CourseLens charts: radar of the six teaching dimensions (instructor page, compare page).
   Data comes only from <script type="application/json"> blocks written by Django's json_script;
   an element <div data-radar="ID"> names the block it draws. Needs /static/vendor/echarts-6.1.0.min.js. */
(function () {
  "use strict";

  var PALETTE = ["#1f56b8", "#0f8a6a", "#d9822b", "#8e44ad"];
  var BASELINE = "#98a2b3";

  function readJSON(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (error) {
      return null;
    }
  }

  function formatValue(value, noData) {
    return value === null || value === undefined ? noData : Number(value).toFixed(2) + " / 5";
  }

  function drawRadar(container, data) {
    var chart = window.echarts.init(container, null, { renderer: "canvas" });
    var compact = container.clientWidth < 520;
    var colourIndex = 0;
    var seriesData = data.series.map(function (item) {
      var colour = item.baseline ? BASELINE : PALETTE[colourIndex++ % PALETTE.length];
      return {
        name: item.name,
        // A dimension nobody rated is drawn at the centre (1★); the tooltip says it has no ratings.
        value: item.values.map(function (value) { return value === null ? 1 : value; }),
        rawValues: item.values,
        symbolSize: item.baseline ? 0 : 5,
        lineStyle: { color: colour, width: item.baseline ? 1.5 : 2, type: item.baseline ? "dashed" : "solid" },
        itemStyle: { color: colour },
        areaStyle: item.baseline ? undefined : { color: colour, opacity: data.series.length > 2 ? 0.08 : 0.18 }
      };
    });
    chart.setOption({
      animation: !window.matchMedia("(prefers-reduced-motion: reduce)").matches,
      color: PALETTE,
      legend: { bottom: 0, type: "scroll", textStyle: { fontSize: compact ? 11 : 12 } },
      tooltip: {
        trigger: "item",
        confine: true,
        formatter: function (params) {
          var raw = params.data.rawValues || [];
          var lines = data.indicators.map(function (indicator, index) {
            return indicator.name + ": " + formatValue(raw[index], data.noData);
          });
          // Tooltip text is built from json_script data; escape it before ECharts inserts it as HTML.
          return [params.name].concat(lines).map(escapeHTML).join("<br>");
        }
      },
      radar: {
        indicator: data.indicators,
        radius: compact ? "50%" : "66%",
        center: ["50%", "46%"],
        splitNumber: 5,
        axisName: { color: "#566273", fontSize: compact ? 11 : 12, formatter: compact ? wrapLabel : undefined },
        splitArea: { areaStyle: { color: ["#ffffff", "#f7f9fc"] } },
        axisLine: { lineStyle: { color: "#e1e6ed" } },
        splitLine: { lineStyle: { color: "#e1e6ed" } }
      },
      series: [{ type: "radar", data: seriesData, emphasis: { lineStyle: { width: 3 } } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  // Narrow screens: long (English) axis names break at a space so they stay inside the chart.
  function wrapLabel(name) {
    if (name.length <= 9 || name.indexOf(" ") < 0) return name;
    var middle = Math.floor(name.length / 2);
    var before = name.lastIndexOf(" ", middle);
    var after = name.indexOf(" ", middle);
    var cut = before < 0 || (after >= 0 && after - middle < middle - before) ? after : before;
    return name.slice(0, cut) + "\n" + name.slice(cut + 1);
  }

  function escapeHTML(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function init() {
    if (!window.echarts) return;
    document.querySelectorAll("[data-radar]").forEach(function (container) {
      var data = readJSON(container.getAttribute("data-radar"));
      if (data && data.series && data.series.length) drawRadar(container, data);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
