/* Một Cửa charts: small SVG bar charts drawn here, no library, ES5 (an old office PC, a TV's Chromium).

   MotcuaCharts.bars(element, {
     labels: ["7h", "8h", ...], values: [12, 30, null, ...],   // null: no figure (drawn as nothing)
     target: 15,                      // optional: a dashed line at this value, labelled text.target
     over: function (i, value) {},    // optional: true marks bar i as over the target (hatched, other colour)
     decimals: 0,                     // value labels: digits after the decimal comma
     counts: true,                    // whole numbers (people, visits): whole ticks on the axis
     text: {target: "Mục tiêu 15 phút", over: "Vượt mục tiêu", within: "Trong mục tiêu", empty: "Chưa có số liệu"},
     title: "Số lượt lấy số theo giờ"
   });

   Bars over the target are told apart by a hatch pattern and a legend, not by colour alone, so
   colour-blind readers see them too. The SVG has a viewBox and scales with its box (CSS sets the
   size); text is in the page's font. Vietnamese decimals use a comma. */
(function (global) {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var LEFT = 44, RIGHT = 12, TOP = 22, BOTTOM = 30;
  var serial = 0;

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    for (var k in attrs) { if (attrs.hasOwnProperty(k) && attrs[k] !== null) { node.setAttribute(k, attrs[k]); } }
    if (parent) { parent.appendChild(node); }
    return node;
  }
  function text(parent, x, y, content, attrs) {
    attrs = attrs || {};
    attrs.x = x;
    attrs.y = y;
    var node = el("text", attrs, parent);
    node.textContent = content;
    return node;
  }
  function number(value, decimals) {
    var s = value.toFixed(decimals || 0);
    var parts = s.split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    return parts.join(",");
  }
  function niceStep(max, ticks) {
    var raw = max / ticks, power = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10)), steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) { if (steps[i] * power >= raw) { return steps[i] * power; } }
    return 10 * power;
  }

  function bars(container, spec) {
    var labels = spec.labels || [], values = spec.values || [], words = spec.text || {};
    var id = "motcua-hatch-" + (++serial);
    container.textContent = "";
    // Drawn at the box's own width in pixels, so the labels keep their CSS size on any screen.
    var W = Math.max(260, container.clientWidth || 600), H = spec.height || Math.round(Math.min(300, Math.max(190, W * 0.48)));
    var svg = el("svg", {viewBox: "0 0 " + W + " " + H, "class": "chart-svg", role: "img", preserveAspectRatio: "xMidYMid meet"}, container);
    if (spec.title) { el("title", {}, svg).textContent = spec.title; }
    var defs = el("defs", {}, svg);
    var pattern = el("pattern", {id: id, width: 8, height: 8, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)"}, defs);
    el("rect", {width: 8, height: 8, "class": "bar-over"}, pattern);
    el("line", {x1: 0, y1: 0, x2: 0, y2: 8, "class": "hatch"}, pattern);

    var max = 0, anyValue = false, anyOver = false;
    for (var i = 0; i < values.length; i++) {
      if (values[i] !== null && values[i] !== undefined) { anyValue = true; max = Math.max(max, values[i]); }
    }
    if (spec.target) { max = Math.max(max, spec.target * 1.15); }
    if (!anyValue) {
      text(svg, W / 2, H / 2, words.empty || "", {"class": "chart-empty", "text-anchor": "middle"});
      return svg;
    }
    if (max <= 0) { max = 1; }
    var step = niceStep(max, 4);
    if (spec.counts) { step = Math.max(1, Math.round(step)); }  // people and visits come whole
    var top = Math.ceil(max / step) * step, tickDecimals = step >= 1 ? 0 : step >= 0.1 ? 1 : 2;
    var plotW = W - LEFT - RIGHT, plotH = H - TOP - BOTTOM;
    function y(v) { return TOP + plotH - (v / top) * plotH; }

    for (var t = 0; t <= top + step / 2; t += step) {
      el("line", {x1: LEFT, x2: W - RIGHT, y1: y(t), y2: y(t), "class": "grid"}, svg);
      text(svg, LEFT - 6, y(t) + 4, number(t, tickDecimals), {"class": "tick", "text-anchor": "end"});
    }
    var n = Math.max(values.length, 1), slot = plotW / n, barW = Math.max(2, slot * 0.72);
    var widest = 0;
    for (i = 0; i < labels.length; i++) { widest = Math.max(widest, String(labels[i]).length); }
    var every = Math.max(1, Math.ceil(n * (widest * 8 + 10) / plotW));  // labels never overlap
    for (i = 0; i < n; i++) {
      var v = values[i], x = LEFT + i * slot + (slot - barW) / 2;
      if (v !== null && v !== undefined) {
        var over = spec.over ? !!spec.over(i, v) : false;
        anyOver = anyOver || (over && v > 0);
        var h = Math.max(v > 0 ? 1 : 0, (v / top) * plotH);
        el("rect", {x: x, y: TOP + plotH - h, width: barW, height: h, "class": over ? "bar over" : "bar",
                    fill: over ? "url(#" + id + ")" : null, "data-value": v}, svg);
        if (slot >= 26 && v > 0) {
          text(svg, x + barW / 2, TOP + plotH - h - 5, number(v, spec.decimals), {"class": "bar-label", "text-anchor": "middle"});
        }
      }
      if (i % every === 0) {
        text(svg, x + barW / 2, H - BOTTOM + 20, labels[i] || "", {"class": "tick", "text-anchor": "middle"});
      }
    }
    el("line", {x1: LEFT, x2: W - RIGHT, y1: TOP + plotH, y2: TOP + plotH, "class": "axis"}, svg);
    if (spec.target) {
      el("line", {x1: LEFT, x2: W - RIGHT, y1: y(spec.target), y2: y(spec.target), "class": "target"}, svg);
      text(svg, W - RIGHT, y(spec.target) - 5, words.target || "", {"class": "target-label", "text-anchor": "end"});
    }
    if (anyOver) {  // the legend is HTML under the chart, so it wraps on a narrow screen
      var legend = document.createElement("p"), swatch;
      legend.className = "chart-legend";
      swatch = legend.appendChild(document.createElement("span"));
      swatch.className = "swatch";
      legend.appendChild(document.createTextNode(" " + (words.within || "") + " "));
      swatch = legend.appendChild(document.createElement("span"));
      swatch.className = "swatch over";
      legend.appendChild(document.createTextNode(" " + (words.over || "")));
      container.appendChild(legend);
    }
    return svg;
  }

  /* Good or bad as a shape, not only a colour: a ticked circle, or a triangle with "!". */
  function icon(good) {
    var svg = el("svg", {viewBox: "0 0 20 20", "class": "icon " + (good ? "icon-met" : "icon-not-met"), "aria-hidden": "true"});
    if (good) {
      el("circle", {cx: 10, cy: 10, r: 9, "class": "icon-shape"}, svg);
      el("path", {d: "M5.5 10.5 L8.7 13.5 L14.5 6.8", "class": "icon-mark"}, svg);
    } else {
      el("path", {d: "M10 1.5 L19 18 L1 18 Z", "class": "icon-shape"}, svg);
      el("path", {d: "M10 7 L10 12.5 M10 14.8 L10 15.6", "class": "icon-mark"}, svg);
    }
    return svg;
  }

  /* The office's charts, from the figures JSON (dashboard and report alike). `text` holds the words:
     target ("Mục tiêu {minutes} phút"), over, within, empty, hour ("{hour} giờ"). */
  function words(text, target) {
    return {target: (text.target || "").replace("{minutes}", number(target)), over: text.over, within: text.within, empty: text.empty};
  }
  function hourly(node, rows, first, last, kind, target, text, title) {
    var byHour = {}, labels = [], values = [], i;
    for (i = 0; i < rows.length; i++) {
      byHour[rows[i].hour] = rows[i];
      first = Math.min(first, rows[i].hour);
      last = Math.max(last, rows[i].hour);
    }
    for (var h = first; h <= last; h++) {
      var row = byHour[h];
      labels.push((text.hour || "{hour}").replace("{hour}", h));
      if (kind === "arrivals") {
        values.push(row ? row.arrivals : 0);
      } else {
        values.push(row && row.mean_wait_seconds !== null ? row.mean_wait_seconds / 60 : null);
      }
    }
    if (kind === "arrivals") { return bars(node, {labels: labels, values: values, counts: true, text: words(text, target), title: title}); }
    return bars(node, {labels: labels, values: values, target: target, text: words(text, target), title: title,
                       over: function (j, v) { return v > target; }});
  }
  function distribution(node, buckets, target, text, title) {
    var labels = [], values = [];
    for (var i = 0; i < buckets.length; i++) {
      var b = buckets[i];
      labels.push(b.to_minutes === null ? b.from_minutes + "+" : b.from_minutes + "–" + b.to_minutes);
      values.push(b.visits);
    }
    return bars(node, {labels: labels, values: values, counts: true, text: words(text, target), title: title,
                       over: function (j) { return buckets[j].from_minutes >= target; }});
  }
  function periods(node, rows, target, text, title) {
    var labels = [], values = [];
    for (var i = 0; i < rows.length; i++) {
      labels.push(rows[i].label);
      values.push(rows[i].mean_wait_seconds === null ? null : rows[i].mean_wait_seconds / 60);
    }
    return bars(node, {labels: labels, values: values, target: target, decimals: 1, text: words(text, target), title: title,
                       over: function (j, v) { return v > target; }});
  }

  global.MotcuaCharts = {bars: bars, number: number, icon: icon, hourly: hourly, distribution: distribution, periods: periods};
})(this);
