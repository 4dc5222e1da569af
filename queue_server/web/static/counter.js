/* The counter page (templates/counter/page.html): ES5, no library, for cheap tablets and old PCs.

   State comes only from the live push (live.js: state/counter/<id>, state/queue, state/clock), so
   whatever the keypad or another tab does shows here at once; a button sends one action to
   /api/quay/<id>/<action> with a fresh request id (re-sent once, same id, if the network drops:
   the server answers a re-sent id with its first answer and never acts twice). Setup and texts
   come from the page's JSON blocks (the CSP allows no inline script). */
(function () {
  "use strict";
  var S = MotcuaStaff.data("counter-setup"), T = MotcuaStaff.data("counter-text");
  var state = {}, offsetMs = 0, busy = false, dialog = null;

  function $(id) { return document.getElementById(id); }
  function text(key, params) {
    var out = T[key] || key, name;
    params = params || {};
    for (name in params) { if (params.hasOwnProperty(name)) { out = out.split("{" + name + "}").join(params[name]); } }
    return out;
  }
  function staffName(id) { return (S.names && S.names[id]) || id; }
  function counter() { return state["counter/" + S.counter] || null; }
  function show(el, yes) { if (yes) { el.removeAttribute("hidden"); } else { el.setAttribute("hidden", ""); } }
  function enable(id, yes) { $(id).disabled = !yes; }
  function each(list, fn) { for (var i = 0; i < list.length; i++) { fn(list[i], i); } }

  /* "2026-11-23T08:05:09.123456+07:00" -> ms since 1970, without trusting an old browser's Date.parse. */
  function parseTime(iso) {
    var m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|([+-])(\d\d):(\d\d))?$/.exec(iso || "");
    if (!m) { return null; }
    var ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], m[7] ? Math.floor(+("0." + m[7]) * 1000) : 0);
    if (m[9]) { ms -= (m[9] === "+" ? 1 : -1) * ((+m[10]) * 60 + (+m[11])) * 60000; }
    return ms;
  }
  function serverNow() { return new Date().getTime() + offsetMs; }
  function clockText(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    return (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }
  function duration(seconds) {
    var m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
    return m ? text("js.minutes_seconds", {m: m, s: s}) : text("js.seconds", {s: s});
  }
  function say(message, kind) {
    var el = $("message");
    el.textContent = message || "";
    el.className = "message" + (kind ? " " + kind : "");
  }

  // --- drawing -----------------------------------------------------------------------------
  function render() {
    var c = counter(), status = c ? c.status : "closed";
    var mine = !!(c && c.staff === S.me && status !== "closed");
    var held = !!(c && c.staff && c.staff !== S.me && status !== "closed");
    var ticket = !!(mine && c.ticket), paused = status === "paused";
    var pill = $("counter-status");
    pill.setAttribute("data-status", status);
    pill.textContent = text("status." + status);
    var holder = $("holder");
    if (held) { holder.textContent = text("js.held_by", {name: staffName(c.staff)}); }
    else if (!mine) { holder.textContent = text("js.closed"); }
    else if (paused) { holder.textContent = text("js.paused", {reason: c.paused_reason || ""}); }
    show(holder, held || !mine || paused);
    show($("btn-sign-in"), !mine);
    $("current-number").textContent = c && c.ticket ? c.ticket : "–";
    $("current-number").setAttribute("data-number", c && c.ticket ? c.ticket : "");
    $("current-service").textContent = c && c.ticket ? c.service_name : "";
    $("current-state").textContent = c && c.ticket ? text("js.ticket_" + c.ticket_status) : text("js.no_ticket");
    $("current-calls").textContent = c && c.ticket ? text("js.calls", {calls: c.calls, needed: S.calls_before_no_show}) : "";
    enable("btn-next", mine && !paused);
    enable("btn-recall", ticket && !paused);
    enable("btn-start", ticket && c.ticket_status === "called");
    enable("btn-skip", ticket && c.ticket_status === "called" && c.calls >= S.calls_before_no_show);
    enable("btn-finish", ticket);
    enable("btn-transfer", ticket);
    enable("btn-call", mine && !paused);
    enable("btn-requeue", mine);
    show($("btn-pause"), !paused);
    show($("btn-resume"), paused);
    enable("btn-pause", mine && !ticket && !paused);
    enable("btn-resume", mine && paused);
    enable("btn-sign-out", mine && !ticket);
    $("served-today").textContent = c ? c.served_today : 0;
    $("mean-service").textContent = c && c.mean_service_seconds !== null && c.mean_service_seconds !== undefined ? duration(c.mean_service_seconds) : "–";
    var last = c && c.last_finished;
    $("last-finished").textContent = last ? last.number + " · " + (last.voted ? text("js.voted") :
      (parseTime(last.rate_until) > serverNow() ? text("js.rating_open") : text("js.not_voted"))) : "–";
    renderWaiting(state.queue);
    tick();
  }

  function renderWaiting(q) {
    var box = $("waiting"), total = 0;
    box.textContent = "";
    each(S.services, function (code) {
      var s = q && q.services && q.services[code];
      if (!s) { return; }
      total += s.waiting;
      var head = document.createElement("h3");
      head.textContent = s.name + " (" + s.waiting + ")" + (s.open ? "" : " · " + text("js.field_closed"));
      box.appendChild(head);
      if (!s.waiting_numbers.length) {
        var none = document.createElement("p");
        none.className = "muted";
        none.textContent = text("js.no_waiting");
        box.appendChild(none);
        return;
      }
      var list = document.createElement("ul");
      list.className = "numbers";
      each(s.waiting_numbers, function (number) {
        var item = document.createElement("li"), chip = document.createElement("button");
        chip.type = "button";
        chip.className = "chip";
        chip.textContent = number;
        chip.setAttribute("data-number", number);
        item.appendChild(chip);
        list.appendChild(item);
      });
      box.appendChild(list);
    });
    $("waiting-total").textContent = total;
  }

  function tick() {
    var c = counter(), el = $("timer");
    if (!c || !c.ticket) { el.textContent = ""; return; }
    var since = parseTime(c.ticket_status === "serving" && c.started_at ? c.started_at : c.called_at);
    el.textContent = since === null ? "" : clockText((serverNow() - since) / 1000);
  }

  // --- acting -----------------------------------------------------------------------------
  function act(action, fields) {
    if (busy) { return; }
    busy = true;
    document.body.className += " busy";
    var body = fields || {};
    body.id = MotcuaStaff.requestId();
    var url = S.api.replace("ACTION", action), tries = 0;
    function done(status, reply) {
      if (status === 0 && tries < 1) { tries += 1; setTimeout(function () { MotcuaStaff.send("POST", url, body, done); }, 1000); return; }
      busy = false;
      document.body.className = document.body.className.replace(/ busy/g, "");
      if (status === 401) { window.location.href = "/dang-nhap?expired=1&next=" + encodeURIComponent(window.location.pathname); return; }
      if (reply && reply.ok) {
        if (reply.counter) { state["counter/" + S.counter] = reply.counter; render(); }
        say(text("ok." + action, {number: reply.ticket ? reply.ticket.number : ""}), "ok");
      } else if (reply && reply.error) {
        say(reply.error.message, "error");
      } else {
        say(text("js.failed"), "error");
      }
    }
    MotcuaStaff.send("POST", url, body, done);
  }

  function numberTyped(action) {
    var input = $("call-number"), number = input.value.replace(/^\s+|\s+$/g, "").toUpperCase();
    if (!number) { say(text("js.type_number"), "error"); input.focus(); return; }
    input.value = "";
    act(action, {number: number});
  }

  // --- dialogs ------------------------------------------------------------------------------
  function option(select, value, label) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    select.appendChild(o);
  }
  function openDialog(name) {
    var c = counter();
    if (name === "transfer") {
      var target = $("transfer-target");
      target.textContent = "";
      $("transfer-title").textContent = text("js.transfer_title", {number: c && c.ticket ? c.ticket : ""});
      for (var code in S.service_names) {
        if (S.service_names.hasOwnProperty(code) && (!c || code !== c.service)) { option(target, "service:" + code, text("js.to_field", {name: S.service_names[code]})); }
      }
      each(S.counters, function (other) { option(target, "counter:" + other.id, text("js.to_counter", {name: other.name})); });
      fillReasons($("transfer-reason"), S.transfer_reasons, "transfer.");
    } else {
      fillReasons($("pause-reason"), S.pause_reasons, "pause.");
    }
    dialog = name;
    show($(name + "-dialog"), true);
    $(name === "transfer" ? "transfer-target" : "pause-reason").focus();
  }
  function fillReasons(select, codes, prefix) {
    select.textContent = "";
    each(codes, function (code) { option(select, code, text(prefix + code)); });
  }
  function closeDialog() {
    if (!dialog) { return; }
    show($(dialog + "-dialog"), false);
    dialog = null;
  }
  function reasonOf(selectId, detailId, prefix) {
    var detail = $(detailId).value.replace(/^\s+|\s+$/g, "");
    $(detailId).value = "";
    return (text(prefix + $(selectId).value) + (detail ? ": " + detail : "")).slice(0, 200);
  }

  // --- wiring -------------------------------------------------------------------------------
  document.addEventListener("click", function (e) {
    var el = e.target;
    while (el && el !== document && !(el.getAttribute && (el.getAttribute("data-action") || el.getAttribute("data-open") ||
           el.getAttribute("data-close") || el.getAttribute("data-number")))) { el = el.parentNode; }
    if (!el || el === document || el.disabled) { return; }
    var action = el.getAttribute("data-action");
    if (el.getAttribute("data-open")) { openDialog(el.getAttribute("data-open")); }
    else if (el.getAttribute("data-close")) { closeDialog(); }
    else if (el.className === "chip") { $("call-number").value = el.getAttribute("data-number"); $("btn-call").focus(); }
    else if (action === "call") { return; }  // the form's submit sends it
    else if (action === "requeue") { numberTyped("requeue"); }
    else if (action) { act(action); }
  });
  $("call-form").onsubmit = function (e) { e.preventDefault(); if (!$("btn-call").disabled) { numberTyped("call"); } };
  $("transfer-form").onsubmit = function (e) {
    e.preventDefault();
    var target = $("transfer-target").value.split(":"), fields = {reason: reasonOf("transfer-reason", "transfer-detail", "transfer.")};
    fields[target[0] === "service" ? "to_service" : "to_counter"] = target[1];
    closeDialog();
    act("transfer", fields);
  };
  $("pause-form").onsubmit = function (e) {
    e.preventDefault();
    var reason = reasonOf("pause-reason", "pause-detail", "pause.");
    closeDialog();
    act("pause", {reason: reason});
  };
  var KEYS = {78: "btn-next", 76: "btn-recall", 66: "btn-start", 86: "btn-skip", 75: "btn-finish", 67: "btn-transfer", 88: "btn-requeue"};
  document.addEventListener("keydown", function (e) {
    var code = e.keyCode || e.which, tag = (e.target && e.target.tagName) || "";
    if (code === 27) { closeDialog(); return; }
    if (e.ctrlKey || e.altKey || e.metaKey || dialog) { return; }
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") { return; }
    var id = code === 84 ? (counter() && counter().status === "paused" ? "btn-resume" : "btn-pause") : KEYS[code];
    if (code === 71) { e.preventDefault(); $("call-number").focus(); return; }
    if (id === "btn-requeue" && !$("call-number").value) { e.preventDefault(); $("call-number").focus(); say(text("js.type_number"), ""); return; }
    if (id && !$(id).disabled && !$(id).hasAttribute("hidden")) { e.preventDefault(); $(id).click(); }
  });
  setInterval(tick, 1000);

  window.counterLive = MotcuaLive.follow(["counter/" + S.counter, "queue", "clock"], {
    render: function (all, topic) {
      state = all;
      var server = all.clock ? parseTime(all.clock.server_time) : null;
      if (server !== null) {
        // A cheap tablet's clock is often wrong. A fresh clock message (every 15 s) sets the offset; the
        // snapshot's may be 15 s old, so it only corrects a clock that is off by more than a minute.
        var offset = server - new Date().getTime();
        if (topic === "clock" || Math.abs(offset - offsetMs) > 60000) { offsetMs = offset; }
      }
      render();
    },
    status: function (s) {
      var el = $("live");
      el.setAttribute("data-state", s);
      el.textContent = text("js." + s);
    }
  });
})();
