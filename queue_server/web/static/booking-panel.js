/* The day's booked load per hour (templates/booking/staff/_load_panel.html), refreshed every minute. ES5. */
(function (global) {
  "use strict";
  var doc = global.document, REFRESH_MS = 60000;

  function cell(row, text, cls) {
    var td = doc.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    row.appendChild(td);
  }
  function two(n) { return (n < 10 ? "0" : "") + n; }

  var KEYS = ["places", "booked", "checked_in", "missed", "cancelled"];

  function only(h, codes) {  // an hour's counts for some fields only (a counter's)
    if (!codes) { return h; }
    var out = {hour: h.hour};
    for (var k = 0; k < KEYS.length; k++) {
      out[KEYS[k]] = 0;
      for (var c = 0; c < codes.length; c++) { var s = h.services[codes[c]]; if (s) { out[KEYS[k]] += s[KEYS[k]]; } }
    }
    return out;
  }

  function draw(panel, load) {
    var body = panel.querySelector("tbody"), wanted = panel.getAttribute("data-services");
    var codes = wanted ? wanted.split(",") : null;
    body.textContent = "";
    for (var i = 0; i < load.hours.length; i++) {
      var h = only(load.hours[i], codes);
      if (!h.places && !h.booked && !h.cancelled) { continue; }
      var row = doc.createElement("tr");
      row.setAttribute("data-hour", h.hour);
      cell(row, two(h.hour) + ":00");
      cell(row, h.booked + "/" + h.places, "n");
      cell(row, h.checked_in, "n");
      cell(row, h.missed, "n");
      cell(row, h.cancelled, "n");
      body.appendChild(row);
    }
    var totals = panel.querySelector(".totals"), t = load.totals;
    if (codes) {
      t = {booked: 0, checked_in: 0, missed: 0, no_show_at_counter: 0};
      for (var c = 0; c < codes.length; c++) {
        var s = load.by_service[codes[c]];
        if (s) { t.booked += s.booked; t.checked_in += s.checked_in; t.missed += s.missed; t.no_show_at_counter += s.no_show_at_counter; }
      }
    }
    totals.textContent = panel.getAttribute("data-totals").replace("{booked}", t.booked).replace("{checked_in}", t.checked_in)
      .replace("{missed}", t.missed).replace("{no_show}", t.no_show_at_counter);
  }

  function refresh(panel) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", panel.getAttribute("data-booked-load"), true);
    xhr.onreadystatechange = function () {
      if (xhr.readyState === 4 && xhr.status === 200) {
        try { draw(panel, JSON.parse(xhr.responseText)); } catch (e) { /* keep the last table */ }
      }
    };
    xhr.send();
  }

  var panels = doc.querySelectorAll("[data-booked-load]");
  function refreshAll() { for (var i = 0; i < panels.length; i++) { refresh(panels[i]); } }
  refreshAll();
  global.setInterval(refreshAll, REFRESH_MS);
  global.MotcuaBookedLoad = {refresh: refreshAll};  // a page that just booked for a caller redraws at once
})(this);
