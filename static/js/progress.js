/* Progress charts: one Chart.js chart per instrument (baseline line, MCID band, labelled
   points) and the per-session before/after pain bars. Data comes from the json_script
   element "progress-data"; every number is also in the table beside each chart. */
(function () {
  "use strict";

  var ACCENT = "#0a6b8a";
  var BASELINE = "#3d4654";
  var BAND = "rgba(10, 107, 138, 0.12)";
  var AFTER = "#b45309";

  function reducedMotion() {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  function fmt(value) {
    if (value === null || value === undefined) return "";
    var text = (Math.round(value * 10) / 10).toString();
    return text;
  }

  /* Shade the scores that are not yet a clinically important change from the baseline. */
  var bandPlugin = {
    id: "mcidBand",
    beforeDatasetsDraw: function (chart, _args, options) {
      var band = options && options.band;
      if (!band) return;
      var y = chart.scales.y;
      var area = chart.chartArea;
      var top = y.getPixelForValue(Math.max(band[0], band[1]));
      var bottom = y.getPixelForValue(Math.min(band[0], band[1]));
      var ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = BAND;
      ctx.fillRect(area.left, top, area.right - area.left, bottom - top);
      ctx.restore();
    }
  };

  /* Write each point's value beside it, so the chart reads without hovering. */
  var labelPlugin = {
    id: "pointLabels",
    afterDatasetsDraw: function (chart, _args, options) {
      if (!options || !options.enabled) return;
      var ctx = chart.ctx;
      ctx.save();
      ctx.font = "600 12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
      ctx.textAlign = "center";
      chart.data.datasets.forEach(function (dataset, index) {
        if (dataset.noLabels) return;
        var meta = chart.getDatasetMeta(index);
        if (meta.hidden) return;
        meta.data.forEach(function (element, i) {
          var raw = dataset.data[i];
          var value = raw && typeof raw === "object" ? raw.y : raw;
          if (value === null || value === undefined) return;
          var pos = element.tooltipPosition();
          ctx.fillStyle = dataset.labelColor || BASELINE;
          ctx.textBaseline = "bottom";
          ctx.fillText(fmt(value), pos.x, pos.y - 6);
        });
      });
      ctx.restore();
    }
  };

  function tickLabel(strings, n) {
    return n === 0 ? strings.startShort : String(n);
  }

  function trendChart(canvas, spec, strings, animate) {
    var xMin = spec.xMin;
    var xMax = spec.xMax;
    var datasets = [
      {
        label: strings.score,
        data: spec.points.map(function (p) { return { x: p.x, y: p.y, label: p.label }; }),
        borderColor: ACCENT,
        backgroundColor: ACCENT,
        pointRadius: 4,
        pointHoverRadius: 6,
        tension: 0,
        labelColor: ACCENT
      }
    ];
    if (spec.baseline !== null) {
      datasets.push({
        label: strings.baseline,
        data: [{ x: xMin, y: spec.baseline }, { x: xMax, y: spec.baseline }],
        borderColor: BASELINE,
        borderDash: [6, 4],
        borderWidth: 1.5,
        pointRadius: 0,
        pointHoverRadius: 0,
        noLabels: true
      });
    }
    return new window.Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        animation: animate ? undefined : false,
        responsive: true,
        maintainAspectRatio: false,
        layout: { padding: { top: 18, right: 8 } },
        scales: {
          x: {
            type: "linear",
            offset: true,
            min: xMin,
            max: xMax,
            ticks: {
              stepSize: 1,
              precision: 0,
              callback: function (value) { return tickLabel(strings, value); }
            },
            title: { display: true, text: strings.session }
          },
          y: {
            min: spec.yMin,
            max: spec.yMax,
            title: { display: true, text: strings.score }
          }
        },
        plugins: {
          mcidBand: { band: spec.band },
          pointLabels: { enabled: true },
          legend: { labels: { filter: function (item) { return item.text !== ""; } } },
          tooltip: {
            callbacks: {
              title: function (items) {
                var raw = items[0].raw;
                return raw && raw.label ? raw.label : "";
              }
            }
          }
        }
      },
      plugins: [bandPlugin, labelPlugin]
    });
  }

  function pairsChart(canvas, spec, strings, animate) {
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: [
          { label: strings.before, data: spec.before, backgroundColor: ACCENT, labelColor: ACCENT },
          { label: strings.after, data: spec.after, backgroundColor: AFTER, labelColor: AFTER }
        ]
      },
      options: {
        animation: animate ? undefined : false,
        responsive: true,
        maintainAspectRatio: false,
        layout: { padding: { top: 18 } },
        scales: {
          x: { title: { display: true, text: strings.pairSession || strings.session } },
          y: { min: spec.yMin, max: spec.yMax, title: { display: true, text: strings.score } }
        },
        plugins: { pointLabels: { enabled: true } }
      },
      plugins: [labelPlugin]
    });
  }

  function draw() {
    var source = document.getElementById("progress-data");
    if (!source || !window.Chart) return;
    var data = JSON.parse(source.textContent);
    var animate = !reducedMotion();
    var charts = [];
    data.charts.forEach(function (spec) {
      var canvas = document.getElementById(spec.id);
      if (!canvas) return;
      var chart = spec.kind === "pairs"
        ? pairsChart(canvas, spec, data.strings, animate)
        : trendChart(canvas, spec, data.strings, animate);
      charts.push(chart);
    });
    /* Printing: redraw at the paper's size without animation, and back afterwards. */
    function resizeAll() {
      charts.forEach(function (chart) { chart.resize(); });
    }
    window.addEventListener("beforeprint", function () {
      charts.forEach(function (chart) {
        chart.options.animation = false;
      });
      resizeAll();
    });
    window.addEventListener("afterprint", resizeAll);
    window.progressCharts = charts;
  }

  function wirePrint() {
    document.querySelectorAll("[data-print-page]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wirePrint();
    draw();
  });
})();
