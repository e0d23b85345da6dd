// Draws the plan-completion charts with ECharts from the JSON block beside each chart.
// The same figures are in a table on the page, for screen readers and for copying.
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }

  function read(el) {
    var source = document.getElementById(el.getAttribute("data-source"));
    return source ? JSON.parse(source.textContent) : null;
  }

  function number(value) { return value === null ? null : Number(value); }

  function progressLine(data) {
    return {
      silent: true, symbol: "none",
      label: { formatter: data.names.time_progress + " " + data.time_progress + "%" },
      data: [{ yAxis: number(data.time_progress) }]
    };
  }

  function months(data) {
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 64, right: 56, bottom: 32, top: 40 },
      xAxis: { type: "category", data: data.categories },
      yAxis: [
        { type: "value", name: "¥" },
        { type: "value", name: "%", min: 0, max: function (v) { return Math.max(100, Math.ceil(v.max)); } }
      ],
      series: [
        { name: data.names.counted, type: "bar", data: data.counted.map(number) },
        { name: data.names.completion, type: "line", yAxisIndex: 1, data: data.completion.map(number),
          markLine: progressLine(data) }
      ]
    };
  }

  function regions(data) {
    return {
      tooltip: { trigger: "axis" },
      grid: { left: 64, right: 24, bottom: 64, top: 32 },
      xAxis: { type: "category", data: data.categories, axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", name: "%", min: 0 },
      series: [{ name: data.names.completion, type: "bar", data: data.completion.map(number),
                 markLine: progressLine(data) }]
    };
  }

  var builders = { months: months, regions: regions };
  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var data = read(el);
    var build = builders[el.getAttribute("data-chart")];
    if (!data || !build) { return; }
    // Canvas, and tooltips drawn on the canvas: the site's Content-Security-Policy allows no inline styles.
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var option = build(data);
    option.aria = { enabled: true };
    option.tooltip.renderMode = "richText";
    chart.setOption(option);
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
}());
