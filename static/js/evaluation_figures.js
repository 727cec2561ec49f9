// The evaluation figures chart: ratings at each level (stacked bars) per row, and the rate
// of good reviews (line, right axis).
(function () {
  var node = document.getElementById("levels-chart");
  if (!node || !window.echarts) return;
  var data = JSON.parse(document.getElementById("levels-chart-data").textContent);
  var colours = { "5": "#1e8449", "4": "#7dbb8a", "3": "#c9d3df", "2": "#e59866", "1": "#c0392b" };
  var series = ["5", "4", "3", "2", "1"].map(function (level) {
    return { name: data.names[level], type: "bar", stack: "levels", data: data.levels[level],
             itemStyle: { color: colours[level] } };
  });
  series.push({ name: data.good_rate_name, type: "line", yAxisIndex: 1, data: data.good_rate,
                itemStyle: { color: "#1f5fa8" } });
  var chart = echarts.init(node);
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { top: 0, type: "scroll" },
    grid: { left: 48, right: 48, top: 56, bottom: 64 },
    xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: data.labels.length > 4 ? 30 : 0 } },
    yAxis: [{ type: "value", minInterval: 1 }, { type: "value", min: 0, max: 100, position: "right" }],
    series: series
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
