/*
 * Pod dashboard charts (Chart.js 4, vendored).
 *
 * Every <canvas data-chart="..."> is drawn from the JSON that the page renders with json_script
 * (#dashboard-chart-data), on htmx.onLoad: the first page load, every htmx swap of the dashboard
 * body, and htmx's history restore (Back) all come through here.  Charts inside content that htmx
 * is about to replace are destroyed first, so no Chart instance outlives its canvas.
 */
(function () {
  "use strict";

  if (typeof htmx === "undefined" || typeof Chart === "undefined") {
    return;
  }

  var DATA_ID = "dashboard-chart-data";
  var COLORS = {
    blue: "#2563eb",
    blueSoft: "rgba(37, 99, 235, 0.28)",
    violet: "#7c3aed",
    violetSoft: "rgba(124, 58, 237, 0.28)",
    orange: "#c2410c",
    teal: "#0f766e",
    amber: "#b45309",
    grid: "#e5e9f0",
    text: "#526077",
  };
  // Channels keep one colour each; the legend names them, so colour is never the only cue.
  var CHANNEL_COLORS = { digital: "#2563eb", in_person: "#b45309", partner: "#0f766e" };

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = COLORS.text;
  Chart.defaults.animation = false; // painted at once: no layout shift, nothing moving for reduced-motion users
  Chart.defaults.maintainAspectRatio = false; // the fixed-height .chart-box decides the size

  function readData() {
    var element = document.getElementById(DATA_ID);
    return element ? JSON.parse(element.textContent) : null;
  }

  function formatNumber(value) {
    return value === null || value === undefined ? "—" : Math.round(value).toLocaleString("en-US");
  }

  function formatMoney(value, currency) {
    if (value === null || value === undefined) {
      return "—";
    }
    var abs = Math.abs(value);
    if (abs >= 1e6) {
      return currency + (value / 1e6).toFixed(1) + "M";
    }
    if (abs >= 1e3) {
      return currency + Math.round(value / 1e3).toLocaleString("en-US") + "k";
    }
    return currency + Math.round(value).toLocaleString("en-US");
  }

  function formatRate(value) {
    return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%";
  }

  // The selected period is the last of the trend: draw it stronger than the eleven before it.
  function emphasiseLast(count, strong, soft) {
    var colors = [];
    for (var i = 0; i < count; i += 1) {
      colors.push(i === count - 1 ? strong : soft);
    }
    return colors;
  }

  function gridScale(extra) {
    var scale = { grid: { color: COLORS.grid }, border: { display: false }, beginAtZero: true };
    return Object.assign(scale, extra || {});
  }

  function rateAxis() {
    return gridScale({
      position: "right",
      grid: { drawOnChartArea: false },
      ticks: { callback: function (v) { return Math.round(v * 100) + "%"; } },
    });
  }

  function tooltipLabel(format) {
    return function (context) {
      return context.dataset.label + ": " + format(context.parsed.y !== undefined ? context.parsed.y : context.parsed.x, context);
    };
  }

  var BUILDERS = {
    leads: function (data) {
      var t = data.trends;
      return {
        data: {
          labels: data.labels,
          datasets: [
            {
              type: "bar", label: "Lead volume", data: t.lead_volume, yAxisID: "y", order: 2,
              backgroundColor: emphasiseLast(data.labels.length, COLORS.blue, COLORS.blueSoft), borderRadius: 3,
            },
            {
              type: "line", label: "Acceptance rate", data: t.lead_acceptance_rate, yAxisID: "rate", order: 1,
              borderColor: COLORS.orange, backgroundColor: COLORS.orange, pointRadius: 3, spanGaps: true, tension: 0.25,
            },
          ],
        },
        options: {
          scales: { y: gridScale({ ticks: { precision: 0 } }), rate: rateAxis(), x: { grid: { display: false } } },
          plugins: {
            tooltip: {
              callbacks: {
                label: tooltipLabel(function (v, ctx) { return ctx.dataset.yAxisID === "rate" ? formatRate(v) : formatNumber(v); }),
              },
            },
          },
        },
      };
    },
    bookings: function (data) {
      var t = data.trends;
      var currency = data.currency || "$";
      return {
        data: {
          labels: data.labels,
          datasets: [
            {
              type: "bar", label: "Bookings", data: t.bookings, yAxisID: "y", order: 2,
              backgroundColor: emphasiseLast(data.labels.length, COLORS.violet, COLORS.violetSoft), borderRadius: 3,
            },
            {
              type: "line", label: "Growth YoY", data: t.bookings_yoy_growth, yAxisID: "rate", order: 1,
              borderColor: COLORS.teal, backgroundColor: COLORS.teal, pointRadius: 3, spanGaps: true, tension: 0.25,
            },
          ],
        },
        options: {
          scales: {
            y: gridScale({ ticks: { callback: function (v) { return formatMoney(v, currency); } } }),
            rate: Object.assign(rateAxis(), { beginAtZero: false }),
            x: { grid: { display: false } },
          },
          plugins: {
            tooltip: {
              callbacks: {
                label: tooltipLabel(function (v, ctx) {
                  return ctx.dataset.yAxisID === "rate" ? formatRate(v) : currency + Number(v).toLocaleString("en-US", { maximumFractionDigits: 0 });
                }),
              },
            },
          },
        },
      };
    },
    support: function (data) {
      var t = data.trends;
      function line(label, values, color, dashed) {
        return {
          type: "line", label: label, data: values, borderColor: color, backgroundColor: color,
          pointRadius: 2.5, tension: 0.25, borderDash: dashed ? [6, 4] : [],
        };
      }
      return {
        data: {
          labels: data.labels,
          datasets: [
            line("Opened", t.tickets_opened, COLORS.orange, false),
            line("Resolved", t.tickets_resolved, COLORS.blue, false),
            line("Open backlog", t.open_backlog, COLORS.text, true),
          ],
        },
        options: {
          scales: { y: gridScale({ ticks: { precision: 0 } }), x: { grid: { display: false } } },
          plugins: { tooltip: { callbacks: { label: tooltipLabel(formatNumber) } } },
        },
      };
    },
    channels: function (data) {
      var mix = data.channelMix;
      return {
        type: "bar",
        data: {
          labels: mix.jobs,
          datasets: mix.channels.map(function (channel) {
            return { label: channel.label, data: channel.data, backgroundColor: CHANNEL_COLORS[channel.key], borderRadius: 2 };
          }),
        },
        options: {
          indexAxis: "y",
          scales: {
            x: gridScale({ stacked: true, ticks: { precision: 0 } }),
            y: { stacked: true, grid: { display: false } },
          },
          plugins: { tooltip: { callbacks: { label: tooltipLabel(formatNumber) } } },
        },
      };
    },
  };

  function build(canvas, data) {
    var existing = Chart.getChart(canvas);
    if (existing) {
      existing.destroy();
    }
    var spec = BUILDERS[canvas.dataset.chart](data);
    var options = Object.assign({ responsive: true, interaction: { mode: "index", intersect: false } }, spec.options);
    options.plugins = Object.assign(
      { legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12, usePointStyle: false } } },
      options.plugins || {}
    );
    return new Chart(canvas, { type: spec.type || "bar", data: spec.data, options: options });
  }

  function destroyWithin(root) {
    if (!root || !root.querySelectorAll) {
      return;
    }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var chart = Chart.getChart(canvas);
      if (chart) {
        chart.destroy();
      }
    });
  }

  htmx.onLoad(function (root) {
    var canvases = root.querySelectorAll ? root.querySelectorAll("canvas[data-chart]") : [];
    if (!canvases.length) {
      return;
    }
    var data = readData();
    if (!data) {
      return;
    }
    canvases.forEach(function (canvas) {
      if (BUILDERS[canvas.dataset.chart]) {
        build(canvas, data);
      }
    });
  });

  // Content htmx is about to replace: free its charts (their canvases are going away).
  document.addEventListener("htmx:beforeSwap", function (event) {
    destroyWithin(event.detail.target);
  });
  document.addEventListener("htmx:historyRestore", function () {
    // Canvases restored from htmx's history cache are fresh elements; onLoad draws them again.
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (!Chart.getChart(canvas)) {
        var data = readData();
        if (data && BUILDERS[canvas.dataset.chart]) {
          build(canvas, data);
        }
      }
    });
  });
})();
