// The leadership dashboard: charts from the JSON the page carries (no inline scripts), and
// sortable tables. Every chart's numbers are also in a table beside it; status is told by a
// symbol and a word in each label, not by colour alone.
(function () {
  "use strict";

  var STATUS_COLOURS = {
    met: "#1b7f3b",
    on_track: "#2f6fb3",
    behind: "#c77700",
    missed: "#b3261e",
    no_data: "#8a8a8a",
    not_judged: "#8a8a8a"
  };

  function readData() {
    var node = document.getElementById("dashboard-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function percentTick(value) {
    return value + "%";
  }

  // A dashed vertical (or horizontal) line at the target, labelled with its value.
  var targetLine = {
    id: "targetLine",
    afterDatasetsDraw: function (chart, args, options) {
      if (options.value === undefined || options.value === null) {
        return;
      }
      var ctx = chart.ctx;
      var area = chart.chartArea;
      ctx.save();
      ctx.strokeStyle = "#000";
      ctx.setLineDash([6, 4]);
      ctx.lineWidth = 1.5;
      ctx.fillStyle = "#000";
      ctx.font = "12px sans-serif";
      ctx.beginPath();
      if (options.horizontal) {
        var x = chart.scales.x.getPixelForValue(options.value);
        ctx.moveTo(x, area.top);
        ctx.lineTo(x, area.bottom);
        ctx.stroke();
        ctx.fillText(options.label + " " + options.value + "%", Math.min(x + 4, area.right - 90), area.top + 12);
      } else {
        var y = chart.scales.y.getPixelForValue(options.value);
        ctx.moveTo(area.left, y);
        ctx.lineTo(area.right, y);
        ctx.stroke();
        ctx.fillText(options.label + " " + options.value + "%", area.left + 4, y - 4);
      }
      ctx.restore();
    }
  };

  // Day numbers (days since 01/01/1970) written as dd/mm/yyyy.
  function dayLabel(day) {
    var d = new Date(Math.round(day) * 86400000);
    var dd = String(d.getUTCDate()).padStart(2, "0");
    var mm = String(d.getUTCMonth() + 1).padStart(2, "0");
    return dd + "/" + mm + "/" + d.getUTCFullYear();
  }

  // Day numbers of 01/01 of each year between two day numbers.
  function yearTicks(min, max) {
    var ticks = [];
    var first = new Date(Math.ceil(min) * 86400000).getUTCFullYear();
    for (var year = first; year <= 9999; year++) {
      var day = Date.UTC(year, 0, 1) / 86400000;
      if (day > max) { break; }
      if (day >= min) { ticks.push({ value: day }); }
    }
    return ticks;
  }

  // The trend on a true time axis: a linear scale of day numbers, so the milestones and
  // values stand apart as far as the time between them (no date adapter is shipped).
  function trendChart(target, labels) {
    var canvas = document.getElementById("trend-" + target.id);
    var timeline = target.timeline;
    if (!canvas || !timeline || (!timeline.points.length && !timeline.milestones.length)) {
      return;
    }
    var datasets = [
      {
        label: labels.percent,
        data: timeline.points.map(function (p) { return { x: p.x, y: p.percent }; }),
        borderColor: "#2f6fb3",
        backgroundColor: "#2f6fb3",
        pointStyle: "circle",
        pointRadius: 5,
        tension: 0
      },
      {
        label: labels.milestone,
        data: timeline.milestones.map(function (m) { return { x: m.x, y: m.percent }; }),
        borderColor: "#555",
        backgroundColor: "#fff",
        pointStyle: "triangle",
        pointRadius: 7,
        borderDash: [4, 4],
        showLine: true
      }
    ];
    new Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        maintainAspectRatio: false,
        animation: false,
        parsing: false,
        scales: {
          x: {
            type: "linear",
            min: timeline.min - 30,
            max: timeline.max + 30,
            title: { display: true, text: labels.date },
            ticks: { callback: dayLabel, maxRotation: 0, autoSkip: true, maxTicksLimit: 8 },
            // A tick on 01/01 of each year, so the dates read as years pass.
            afterBuildTicks: function (scale) { scale.ticks = yearTicks(scale.min, scale.max); }
          },
          y: { min: 0, max: 100, ticks: { callback: percentTick } }
        },
        plugins: {
          legend: { labels: { usePointStyle: true } },
          tooltip: {
            callbacks: {
              title: function (items) { return items.length ? dayLabel(items[0].parsed.x) : ""; },
              label: function (item) { return item.dataset.label + ": " + item.parsed.y + "%"; }
            }
          },
          targetLine: { value: target.threshold, label: labels.target, horizontal: false }
        }
      },
      plugins: [targetLine]
    });
  }

  function childrenChart(target, labels, dashboardUrl, viewQuery) {
    var canvas = document.getElementById("children-" + target.id);
    if (!canvas || !target.children.length) {
      return;
    }
    canvas.parentNode.style.height = Math.max(160, 26 * target.children.length + 60) + "px";
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: target.children.map(function (c) { return c.label; }),
        datasets: [{
          label: labels.percent,
          data: target.children.map(function (c) { return c.percent; }),
          backgroundColor: target.children.map(function (c) { return STATUS_COLOURS[c.status]; })
        }]
      },
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { min: 0, max: 100, ticks: { callback: percentTick } } },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              afterLabel: function (item) { return target.children[item.dataIndex].statusLabel; }
            }
          },
          targetLine: { value: target.threshold, label: labels.target, horizontal: true }
        },
        onClick: function (event, elements) {
          if (elements.length) {
            window.location.href = dashboardUrl + target.children[elements[0].index].url + "/" + (viewQuery || "");
          }
        }
      },
      plugins: [targetLine]
    });
  }

  // Eight distinct colours, as many as the fund models Hanoi reports on.
  var SERIES_COLOURS = ["#2f6fb3", "#c77700", "#1b7f3b", "#6b3fa0", "#b3261e", "#555555", "#0f8b8d", "#a0522d"];

  function moneyChart(money) {
    var canvas = document.getElementById("money-chart");
    if (!canvas || !money) {
      return;
    }
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: money.years,
        datasets: money.series.map(function (s, i) {
          return { label: s.label, data: s.values, backgroundColor: SERIES_COLOURS[i % SERIES_COLOURS.length] };
        })
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: true }, y: { stacked: true } }
      }
    });
  }

  function scholarshipChart(data, labels) {
    var canvas = document.getElementById("scholarship-chart");
    if (!canvas || !data) {
      return;
    }
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.years,
        datasets: [
          { label: labels.turns, data: data.turns, backgroundColor: "#2f6fb3", yAxisID: "y" },
          {
            label: labels.amount, data: data.amounts, type: "line", borderColor: "#c77700",
            pointStyle: "rectRot", pointRadius: 6, yAxisID: "y1"
          }
        ]
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { labels: { usePointStyle: true } } },
        scales: { y: { position: "left" }, y1: { position: "right", grid: { drawOnChartArea: false } } }
      }
    });
  }

  // Sortable tables: a click on a header's button sorts by that column, again to reverse.
  function sortTable(button) {
    var th = button.closest("th");
    var table = button.closest("table");
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = button.dataset.sort === "number";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].dataset.value;
      var y = b.cells[index].dataset.value;
      var order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, "vi");
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(th.parentNode.children, function (cell) { cell.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("table.sortable button.sort");
    if (button) {
      sortTable(button);
    }
  });

  // A target's drill-down (the branches below) carries its chart's data in a JSON script of
  // its own: drawn when it arrives (htmx swaps it in when the user opens it) or, on the
  // drill-down's own page, at load.
  function drawDrillDowns(root) {
    if (typeof Chart === "undefined" || !root.querySelectorAll) {
      return;
    }
    Array.prototype.forEach.call(root.querySelectorAll("script.children-data:not([data-drawn])"), function (node) {
      node.setAttribute("data-drawn", "");
      var target = JSON.parse(node.textContent);
      childrenChart(target, target.labels, target.dashboardUrl, target.viewQuery);
    });
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    drawDrillDowns(event.target);
  });

  if (typeof Chart === "undefined") {
    return;
  }
  // Axis and tooltip numbers grouped the way the page's language writes them (1.200.000 in Vietnamese).
  Chart.defaults.locale = document.documentElement.lang === "vi" ? "vi-VN" : "en-GB";
  drawDrillDowns(document);
  var data = readData();
  if (!data) {
    return;
  }
  data.targets.forEach(function (target) {
    trendChart(target, data.labels);
  });
  moneyChart(data.money);
  scholarshipChart(data.scholarships, data.labels);
})();
