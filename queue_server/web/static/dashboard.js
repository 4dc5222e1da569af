/* Một Cửa dashboard: the manager's screen and the big screen in the room, drawn from the figures JSON.

   The page's <main id="board"> says what to draw:
     data-board            the JSON to fetch (/api/reports/dashboard, or /api/reports/room for the public screen)
     data-view             "manager" | "room"
     data-refresh-seconds  at most one fetch this often, however busy the office
     data-hours            "7,17": the hours the charts span (the office's opening hours today)
     data-text             every word this script writes (from the catalogs; the script has none of its own)
     data-login            where to sign in again when the figures answer 401 (the manager's screen)
   Elements with data-kpi, data-rows/data-columns, data-chart, #alerts, #fields and #counters are filled in.

   Live: MotcuaLive (live.js) follows the queue, the counters and the server's clock (refreshed
   every 15 s); any change asks for new figures, no sooner than data-refresh-seconds after the last
   fetch and with up to a second of jitter, so 200 screens do not ask at the same instant (the
   server computes the figures once per change for all of them anyway). Each board names the live
   `seq` it was computed at; if the page has already seen a later change, it asks again. */
(function (global) {
  "use strict";
  var root = document.getElementById("board");
  if (!root) { return; }
  var TEXT = JSON.parse(root.getAttribute("data-text") || "{}");
  var view = root.getAttribute("data-view");
  var url = root.getAttribute("data-board");
  var minMs = 1000 * parseFloat(root.getAttribute("data-refresh-seconds") || "5");
  var span = (root.getAttribute("data-hours") || "7,17").split(",");
  var state = {refreshes: 0, board: null, failures: 0};
  var last = 0, timer = null, inflight = false, wanted = false, live = null;

  // --- words and numbers ---------------------------------------------------------------
  function say(key, params) {
    var s = TEXT[key] !== undefined ? TEXT[key] : key;
    return s.replace(/\{(\w+)\}/g, function (m, name) { return params && params[name] !== undefined ? params[name] : m; });
  }
  function num(v, decimals) { return v === null || v === undefined ? TEXT.no_data : MotcuaCharts.number(v, decimals); }
  function minutes(seconds) { return seconds === null || seconds === undefined ? TEXT.no_data : num(seconds / 60, 1); }
  function share(f) { return f === null || f === undefined ? TEXT.no_data : num(f * 100, 1) + "%"; }
  function wholeMinutes(seconds) { return Math.floor(seconds / 60); }
  function $(selector) { return document.querySelector(selector); }
  function each(selector, fn) { var list = document.querySelectorAll(selector); for (var i = 0; i < list.length; i++) { fn(list[i]); } }
  function setText(node, value) { if (node) { node.textContent = value; } }

  // --- good / bad: an icon and a word, never colour alone --------------------------------
  var icon = MotcuaCharts.icon;
  function verdict(node, met) {
    var box = node.querySelector(".verdict");
    node.setAttribute("data-verdict", met === null ? "none" : met ? "met" : "not-met");
    if (!box) { return; }
    box.textContent = "";
    if (met === null) { return; }
    box.appendChild(icon(met));
    box.appendChild(document.createTextNode(" " + TEXT[met ? "met" : "not_met"]));
  }

  // --- the figures of today -------------------------------------------------------------
  function kpis(b) {
    var s = b.summary, t = b.targets, longest = b.longest_waiting;
    var called = s.called > 0;
    return {
      issued: {value: num(s.issued)},
      waiting_now: {value: num(s.waiting_now)},
      served: {value: num(s.served)},
      no_shows: {value: num(s.no_shows)},
      mean_wait: {value: minutes(s.mean_wait_seconds), met: called ? s.mean_wait_seconds <= t.wait_target_minutes * 60 : null},
      p90_wait: {value: minutes(s.p90_wait_seconds)},
      within_target: {value: share(s.within_target_share), note: called ? say("of_called", {count: num(s.called)}) : ""},
      within_limit: {value: share(s.within_limit_share), met: called ? s.over_limit === 0 : null},
      mean_service: {value: minutes(s.mean_service_seconds)},
      satisfaction: {value: share(s.satisfaction_share), met: s.votes > 0 ? s.meets_satisfaction_target : null,
                     note: s.votes > 0 ? say("of_votes", {count: num(s.votes)}) : ""},
      longest: longest ? {value: num(wholeMinutes(longest.waited_seconds)),
                          note: say("longest", {number: longest.number}) + " · " + longest.service_name,
                          met: longest.waited_seconds <= t.wait_limit_minutes * 60}
                       : {value: TEXT.no_data, note: TEXT.nobody_waiting, met: null}
    };
  }
  function drawKpis(b) {
    var values = kpis(b);
    each("[data-kpi]", function (node) {
      var k = values[node.getAttribute("data-kpi")];
      if (!k) { return; }
      setText(node.querySelector(".v"), k.value);
      if (k.note !== undefined) { setText(node.querySelector(".kpi-note"), k.note); }
      if (node.hasAttribute("data-judged")) { verdict(node, k.met === undefined ? null : k.met); }
    });
  }

  // --- tables per field, counter and official (manager) -----------------------------------
  function missMark(td, mark) {
    td.className += " miss";
    var m = document.createElement("span");
    m.className = "miss-mark";
    m.textContent = " " + mark;
    td.appendChild(m);
  }
  var COLUMNS = {
    name: function (r) { return {text: r.name || r.key}; },
    issued: function (r) { return {text: num(r.issued), n: true}; },
    waiting: function (r) { return {text: num(r.waiting), n: true}; },
    served: function (r) { return {text: num(r.served), n: true}; },
    no_shows: function (r) { return {text: num(r.no_shows), n: true}; },
    transferred: function (r) { return {text: num(r.transferred), n: true}; },
    votes: function (r) { return {text: num(r.votes), n: true}; },
    mean_wait: function (r, b) {
      return {text: minutes(r.mean_wait_seconds), n: true, miss: r.called > 0 && r.mean_wait_seconds > b.targets.wait_target_minutes * 60 ? "↑" : null};
    },
    p90_wait: function (r) { return {text: minutes(r.p90_wait_seconds), n: true}; },
    within_target: function (r) { return {text: share(r.within_target_share), n: true}; },
    mean_service: function (r) { return {text: minutes(r.mean_service_seconds), n: true}; },
    satisfaction: function (r) {
      return {text: share(r.satisfaction_share), n: true, miss: r.votes > 0 && !r.meets_satisfaction_target ? "↓" : null};
    },
    status: function (r) { return r.status ? {text: TEXT["status." + r.status] || r.status, status: r.status} : {text: TEXT.no_data}; },
    staff: function (r) { return {text: r.staff || TEXT.no_data}; }
  };
  function counterRows(b) {
    var figures = {}, rows = [], i;
    for (i = 0; i < b.by_counter.length; i++) { figures[b.by_counter[i].key] = b.by_counter[i]; }
    for (i = 0; i < b.counters.length; i++) {
      var c = b.counters[i], f = figures[c.counter] || {key: c.counter, called: 0, votes: 0};
      delete figures[c.counter];
      rows.push(merge(f, {key: c.counter, name: c.name, status: c.status, staff: c.staff_name || c.staff}));
    }
    for (var key in figures) { if (figures.hasOwnProperty(key)) { rows.push(figures[key]); } }
    return rows;
  }
  function merge(a, b) { var out = {}, k; for (k in a) { out[k] = a[k]; } for (k in b) { out[k] = b[k]; } return out; }
  function drawTables(b) {
    each("table[data-rows]", function (table) {
      var which = table.getAttribute("data-rows"), columns = table.getAttribute("data-columns").split(",");
      var rows = which === "by_counter" ? counterRows(b) : (b[which] || []);
      var body = table.tBodies[0];
      body.textContent = "";
      for (var i = 0; i < rows.length; i++) {
        var tr = document.createElement("tr");
        tr.setAttribute("data-key", rows[i].key);
        for (var j = 0; j < columns.length; j++) {
          var cell = COLUMNS[columns[j]](rows[i], b), td = document.createElement(j === 0 ? "th" : "td");
          td.textContent = cell.text;
          td.className = cell.n ? "n" : "";
          if (cell.status) { td.setAttribute("data-status", cell.status); }
          if (cell.miss) { missMark(td, cell.miss); }
          if (j === 0) { td.setAttribute("scope", "row"); }
          tr.appendChild(td);
        }
        body.appendChild(tr);
      }
      table.setAttribute("data-empty", rows.length ? "false" : "true");
    });
  }

  // --- alerts (manager) ---------------------------------------------------------------------
  function alertText(a, b) {
    if (a.kind === "wait_over_target") {
      return say("alert.wait", {number: a.number, service: a.service_name, minutes: a.waited_minutes, target: num(a.target_minutes)});
    }
    if (a.kind === "more_waits_over_target") { return say("alert.more", {count: num(a.count), target: num(b.targets.wait_target_minutes)}); }
    if (a.kind === "counter_idle") {
      var params = {counter: a.counter_name, minutes: a.idle_minutes, waiting: num(a.waiting)};
      return say(a.idle_minutes === null ? "alert.idle_unknown" : "alert.idle", params);
    }
    return a.kind;
  }
  function drawAlerts(b) {
    var list = $("#alerts");
    if (!list) { return; }
    list.textContent = "";
    var alerts = b.alerts || [];
    for (var i = 0; i < alerts.length; i++) {
      var li = document.createElement("li");
      li.setAttribute("data-kind", alerts[i].kind);
      if (alerts[i].number) { li.setAttribute("data-number", alerts[i].number); }
      if (alerts[i].counter) { li.setAttribute("data-counter", alerts[i].counter); }
      li.appendChild(icon(false));
      li.appendChild(document.createTextNode(" " + alertText(alerts[i], b)));
      list.appendChild(li);
    }
    if (!alerts.length) {
      var none = document.createElement("li");
      none.className = "no-alerts";
      none.appendChild(icon(true));
      none.appendChild(document.createTextNode(" " + TEXT.no_alerts));
      list.appendChild(none);
    }
    root.setAttribute("data-alerts", String(alerts.length));
  }

  // --- fields and counters (room) ---------------------------------------------------------
  function drawFields(b) {
    var list = $("#fields");
    if (!list) { return; }
    list.textContent = "";
    for (var i = 0; i < b.by_field.length; i++) {
      var f = b.by_field[i], li = document.createElement("li");
      li.setAttribute("data-key", f.key);
      var name = document.createElement("span"), waiting = document.createElement("span"), wait = document.createElement("span");
      name.className = "field-name";
      name.textContent = f.name;
      waiting.className = "field-waiting";
      waiting.textContent = say("waiting_people", {count: num(f.waiting)});
      wait.className = "field-wait";
      wait.textContent = f.called > 0 ? say("field_wait", {minutes: minutes(f.mean_wait_seconds)}) : "";
      li.appendChild(name);
      li.appendChild(waiting);
      li.appendChild(wait);
      list.appendChild(li);
    }
  }
  function drawCounters(b) {
    var list = $("#counters"), working = 0;
    for (var i = 0; i < b.counters.length; i++) { if (b.counters[i].status !== "closed") { working += 1; } }
    setText($("#counters-working"), say("counters_working", {open: working, total: b.counters.length}));
    if (!list) { return; }
    list.textContent = "";
    for (i = 0; i < b.counters.length; i++) {
      var c = b.counters[i], li = document.createElement("li");
      li.setAttribute("data-counter", c.counter);
      li.setAttribute("data-status", c.status);
      var name = document.createElement("span"), status = document.createElement("span");
      name.className = "counter-name";
      name.textContent = c.name;
      status.className = "counter-status";
      status.textContent = TEXT["room_status." + c.status] || c.status;
      li.appendChild(name);
      li.appendChild(status);
      if (c.staff) {
        var staff = document.createElement("span");
        staff.className = "counter-staff";
        staff.textContent = c.staff_name || c.staff;
        li.appendChild(staff);
      }
      list.appendChild(li);
    }
  }

  // --- charts --------------------------------------------------------------------------------
  var CHART_TEXT = {target: TEXT["chart.target"], over: TEXT["chart.over"], within: TEXT["chart.within"], empty: TEXT["chart.empty"],
                    hour: TEXT["chart.hour"]};
  function drawCharts(b) {
    var target = b.targets.wait_target_minutes, first = parseInt(span[0], 10), lastHour = parseInt(span[1], 10);
    each("[data-chart]", function (node) {
      var kind = node.getAttribute("data-chart"), title = node.getAttribute("data-title") || "";
      if (kind === "distribution") {
        MotcuaCharts.distribution(node, b.wait_distribution, target, CHART_TEXT, title);
      } else {
        MotcuaCharts.hourly(node, b.hourly, first, lastHour, kind, target, CHART_TEXT, title);
      }
    });
  }

  /* The room's lists must show every field on one screen: shrink their text until nothing is cut off. */
  function fit(box) {
    box.style.fontSize = "";
    var base = parseFloat(global.getComputedStyle(box).fontSize), size = 1;
    while (box.scrollHeight > box.clientHeight + 1 && size > 0.55) {
      size -= 0.05;
      box.style.fontSize = (base * size) + "px";  // CSSOM, which a CSP without 'unsafe-inline' allows
    }
  }

  // --- one board ---------------------------------------------------------------------------------
  function draw(b) {
    state.board = b;
    var day = b.business_day || "";
    setText($("#day"), say("day", {day: day.slice(8, 10) + "/" + day.slice(5, 7) + "/" + day.slice(0, 4)}));
    setText($("#updated"), say("updated", {time: (b.now || "").slice(11, 16)}));
    setText($("#clock"), (b.now || "").slice(11, 16));
    drawKpis(b);
    drawTables(b);
    drawAlerts(b);
    drawFields(b);
    drawCounters(b);
    drawCharts(b);
    each("[data-fit]", fit);
    root.setAttribute("data-live-seq", String(b.live_seq));
    root.setAttribute("data-ready", "true");
  }

  // --- fetching, bounded ------------------------------------------------------------------------
  function now() { return new Date().getTime(); }
  function schedule(jitter) {
    wanted = true;
    if (timer || inflight) { return; }
    var wait = Math.max(0, last + minMs - now()) + (jitter ? Math.floor(Math.random() * 1000) : 0);
    timer = setTimeout(fetchBoard, wait);
  }
  function fetchBoard() {
    timer = null;
    if (inflight) { return; }
    wanted = false;
    inflight = true;
    last = now();
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url, true);
    xhr.timeout = 15000;
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) { return; }
      inflight = false;
      var board = null;
      try { board = xhr.status === 200 ? JSON.parse(xhr.responseText) : null; } catch (e) { board = null; }
      if (xhr.status === 401 && root.getAttribute("data-login")) {
        global.location.href = root.getAttribute("data-login");  // the session ended (12 hours): sign in again, then back here
        return;
      }
      if (!board) {
        state.failures += 1;
        root.setAttribute("data-stale", "true");
        schedule(true);  // try again after the usual pause
        return;
      }
      state.refreshes += 1;
      root.setAttribute("data-stale", "false");
      try { draw(board); } catch (e) { if (global.console) { console.error(e); } }
      if (live && live.boot === board.live_boot && board.live_seq < live.seq) { wanted = true; }
      if (wanted) { schedule(false); }
    };
    xhr.send();
  }
  function status(s) {
    var node = $("#status");
    if (!node) { return; }
    node.setAttribute("data-state", s);
    node.textContent = TEXT["status." + s] || s;
  }

  var resizing = null;
  global.addEventListener("resize", function () {  // the charts are drawn at their box's width
    clearTimeout(resizing);
    resizing = setTimeout(function () { if (state.board) { drawCharts(state.board); each("[data-fit]", fit); } }, 300);
  });

  global.MotcuaDashboard = state;
  fetchBoard();
  live = MotcuaLive.follow(["queue", "counter/*", "clock"], {
    render: function (s, topic) { if (topic !== null || state.refreshes > 0) { schedule(true); } },
    status: status
  });
})(this);
