// The 30-day trend of the roll-up page: people (bars) and abnormal / reports (lines), from
// the first day with data (the server trims the empty days before it).
(function () {
  var node = document.getElementById("trend");
  if (!node || !window.echarts) return;
  var rows = JSON.parse(document.getElementById("trend-data").textContent);
  var labels = JSON.parse(document.getElementById("trend-labels").textContent);
  var chart = echarts.init(node);
  function column(key) { return rows.map(function (r) { return r[key]; }); }
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 48, right: 48, top: 36, bottom: 28 },
    xAxis: { type: "category", data: rows.map(function (r) { return r.day.slice(5); }) },
    // People and reports are counted in whole numbers: no 0.5 ticks on a small unit's axes.
    yAxis: [
      { type: "value", name: "", minInterval: 1 },
      { type: "value", name: "", position: "right", minInterval: 1 }
    ],
    series: [
      { name: labels.expected, type: "bar", data: column("expected"), itemStyle: { color: "#c9d3df" } },
      { name: labels.declared, type: "bar", data: column("declared"), itemStyle: { color: "#1f5fa8" } },
      { name: labels.abnormal, type: "line", yAxisIndex: 1, data: column("abnormal"), itemStyle: { color: "#c0392b" } },
      { name: labels.reported, type: "line", yAxisIndex: 1, data: column("reported"), itemStyle: { color: "#1e8449" } }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
