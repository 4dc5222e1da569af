/* The report page: draws its charts from the report's figures (data-charts on <main id="report">, no
   inline script) with charts.js, and puts an icon beside every Đạt / Chưa đạt. ES5, no library. */
(function () {
  "use strict";
  var root = document.getElementById("report");
  if (!root) { return; }
  var TEXT = JSON.parse(root.getAttribute("data-text") || "{}");
  var words = {target: TEXT["chart.target"], over: TEXT["chart.over"], within: TEXT["chart.within"], empty: TEXT["chart.empty"],
               hour: TEXT["chart.hour"]};
  var cells = document.querySelectorAll(".verdict-cell[data-met]");
  for (var i = 0; i < cells.length; i++) {
    cells[i].insertBefore(document.createTextNode(" "), cells[i].firstChild);
    cells[i].insertBefore(MotcuaCharts.icon(cells[i].getAttribute("data-met") === "true"), cells[i].firstChild);
  }
  var data = root.getAttribute("data-charts");
  if (!data) { return; }
  var c = JSON.parse(data);
  function draw() {
    var charts = document.querySelectorAll("[data-chart]");
    for (var j = 0; j < charts.length; j++) {
      var node = charts[j], kind = node.getAttribute("data-chart"), title = node.getAttribute("data-title") || "";
      if (kind === "arrivals") {
        MotcuaCharts.hourly(node, c.hourly, c.hours[0], c.hours[1], "arrivals", c.target_minutes, words, title);
      } else if (kind === "distribution") {
        MotcuaCharts.distribution(node, c.wait_distribution, c.target_minutes, words, title);
      } else if (kind === "by_period") {
        MotcuaCharts.periods(node, c.by_period, c.target_minutes, words, title);
      }
    }
  }
  draw();
  var resizing = null;
  window.addEventListener("resize", function () { clearTimeout(resizing); resizing = setTimeout(draw, 300); });
  root.setAttribute("data-ready", "true");
}());
