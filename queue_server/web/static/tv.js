/* Một Cửa waiting-room TV pages: the calls screen and the results screen (docs/tv.md).

   MotcuaTv.calls(options) and MotcuaTv.results(options) draw everything from the live state
   (static/live.js): the queue's retained topics, the call events, and the TV feed's documents
   tv/rotation, tv/results and tv/figures. A reconnect brings a whole new snapshot, so a page
   is right again by itself after a server or broker restart, a Wi-Fi drop or a reload.
   options: {lang, layout, version, text: {catalog key: text}, counters, fields, info, page_seconds}.
   No library, no network beyond this server. */
(function (global) {
  "use strict";
  var doc = global.document;
  var DEFAULTS = {layout: "auto", call_seconds: 8, recent_calls: 5, results_page_seconds: 15};

  function $(id) { return doc.getElementById(id); }
  function node(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function setText(e, text) { text = String(text); if (e.textContent !== text) { e.textContent = text; } }
  function format(template, params) {
    return String(template).replace(/\{(\w+)\}/g, function (m, name) { return params && name in params ? params[name] : m; });
  }
  function wanted(list, id) { return !list || !list.length || list.indexOf(id) >= 0; }
  function count(n) { return typeof n === "number" ? n.toLocaleString("vi-VN") : "—"; }

  var canvas = null;
  function textWidthEm(text, weight) {  // width of `text` in ems of the page's font, for sizing without reflow
    canvas = canvas || doc.createElement("canvas");
    var g = canvas.getContext("2d");
    g.font = (weight || 700) + ' 100px "Noto Sans", sans-serif';
    return g.measureText(text).width / 100;
  }
  function overflows(box) { return box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1; }
  function shrinkToFit(box) {
    // The largest font, down to 70 % (it is read from afar), at which everything fits. If nothing fits even
    // then, parts marked data-optional="N" are left out, the highest N first (a procedure slide keeps its
    // legal basis before its processing time), and what is left gets the largest font that fits; then the
    // parts come back by rank while they fit. A cut line reads worse than a line left out.
    var parts = Array.prototype.slice.call(box.querySelectorAll("[data-optional]"));
    function rank(e) { return Number(e.getAttribute("data-optional")); }
    function keep(limit) { parts.forEach(function (e) { e.hidden = rank(e) > limit; }); }
    function fits() {
      for (var size = 100; size >= 70; size -= 5) { box.style.fontSize = size + "%"; if (!overflows(box)) { return true; } }
      return false;
    }
    var ranks = parts.map(rank).filter(function (r, i, all) { return all.indexOf(r) === i; }).sort(function (a, b) { return a - b; });
    var limits = [Infinity].concat(ranks.slice().reverse(), [-Infinity]);
    for (var i = 0; i < limits.length; i++) {
      keep(limits[i]);
      if (fits() || limits[i] === -Infinity) { return; }
    }
  }

  // --- the frame every TV page shares: layout, the server's clock, status, the notice line --------------

  function Frame(options) {
    var self = this;
    this.options = options;
    this.text = options.text || {};
    this.settings = DEFAULTS;
    this.screen = $("screen");
    this.offset = 0;        // server time - this box's time, in ms (a Pi without RTC may be hours off)
    this.zone = 7 * 60;     // the office's UTC offset in minutes, from the server's time
    this.known = false;
    this.notice = null;
    this.marquee = null;
    this.layout = null;
    this.onLayout = null;
    global.setInterval(function () { self.tick(); }, 1000);
    global.addEventListener("resize", function () { self.applyLayout(true); self.startMarquee(); });
    this.applyLayout();
  }
  Frame.prototype.t = function (key, params) { return format(this.text[key] || key, params); };
  Frame.prototype.applyLayout = function (resized) {
    var chosen = this.options.layout || this.settings.layout || "auto";
    if (chosen === "auto") { chosen = global.innerHeight > global.innerWidth ? "portrait" : "landscape"; }
    var changed = chosen !== this.layout;
    this.layout = chosen;
    this.screen.setAttribute("data-layout", chosen);
    doc.documentElement.setAttribute("data-layout", chosen);
    if ((changed || resized) && this.onLayout) { this.onLayout(); }
  };
  Frame.prototype.useSettings = function (rotation) {
    if (!rotation) { return; }
    var s = {}, key;
    for (key in DEFAULTS) { if (DEFAULTS.hasOwnProperty(key)) { s[key] = DEFAULTS[key]; } }
    for (key in rotation.settings || {}) { if (rotation.settings.hasOwnProperty(key)) { s[key] = rotation.settings[key]; } }
    this.settings = s;
    this.applyLayout();
    this.checkVersion(rotation.version);
  };
  Frame.prototype.checkVersion = function (version) {
    // After an upgrade the server runs newer page files: reload once (it answered, so the reload will load).
    if (!version || version === this.options.version) { return; }
    var store = global.sessionStorage, last = 0;
    try { last = Number(store.getItem("motcua-tv-reload") || 0); } catch (e) { last = 0; }
    if (Date.now() - last < 600000) { return; }  // at most every 10 minutes: never a reload loop
    try { store.setItem("motcua-tv-reload", String(Date.now())); } catch (e) { /* private mode: reload anyway */ }
    global.location.reload();
  };
  Frame.prototype.clock = function (clock) {
    if (!clock || !clock.server_time) { return; }
    var at = Date.parse(clock.server_time);
    if (isNaN(at)) { return; }
    this.offset = at - Date.now();
    var zone = /([+-])(\d\d):?(\d\d)$/.exec(clock.server_time);
    this.zone = zone ? (zone[1] === "-" ? -1 : 1) * (Number(zone[2]) * 60 + Number(zone[3])) : 0;
    this.known = true;
    this.tick();
  };
  Frame.prototype.now = function () { return Date.now() + this.offset; };
  Frame.prototype.tick = function () {
    if (!this.known) { return; }
    var local = new Date(this.now() + this.zone * 60000);  // read with the UTC getters: the office's wall clock
    function two(n) { return (n < 10 ? "0" : "") + n; }
    setText($("clock"), two(local.getUTCHours()) + ":" + two(local.getUTCMinutes()));
    setText($("date"), this.t("tv.date", {weekday: this.t("tv.weekday." + local.getUTCDay()), day: two(local.getUTCDate()),
                                         month: two(local.getUTCMonth() + 1), year: local.getUTCFullYear()}));
  };
  Frame.prototype.status = function (s) {
    var e = $("status");
    e.setAttribute("data-state", s);
    setText(e, s === "live" || s === "polling" ? "" : this.t("tv.status." + (s === "offline" ? "offline" : "connecting")));
  };
  Frame.prototype.showNotice = function (text) {
    text = text ? String(text).replace(/\s+/g, " ").trim() : "";
    if (text === this.notice) { return; }
    this.notice = text;
    $("notice").hidden = !text;
    $("notice-text").textContent = text;
    if (this.onLayout) { this.onLayout(); }
    this.startMarquee();
  };
  Frame.prototype.startMarquee = function () {
    // A notice wider than the screen scrolls right to left at a reading pace; one that fits stands still.
    var box = $("notice"), line = $("notice-text");
    if (this.marquee) { this.marquee.cancel(); this.marquee = null; }
    line.style.transform = "";
    box.removeAttribute("data-scrolling");
    if (!this.notice || box.hidden || !line.animate) { return; }
    var width = box.clientWidth, text = line.scrollWidth;
    if (text <= width) { return; }
    var speed = Math.max(60, box.clientHeight * 1.3);  // px per second: about 4 characters a second
    box.setAttribute("data-scrolling", "1");
    this.marquee = line.animate([{transform: "translateX(" + width + "px)"}, {transform: "translateX(" + (-text) + "px)"}],
                                {duration: (width + text) / speed * 1000, iterations: Infinity});
  };

  // --- this month's dossier counts (the results screen's panel and a slide of the rotation) -------------

  var FIGURES = ["received", "settled_on_time", "settled_late", "overdue", "needs_documents"];
  function drawFigures(box, figures, frame) {
    box.textContent = "";
    box.appendChild(node("h3", "tv-figures-title", frame.t("tv.figures.title", {month: figures.month, year: figures.year})));
    var grid = node("div", "tv-figures-grid");
    FIGURES.forEach(function (key) {
      var cell = node("div", "tv-figure");
      cell.setAttribute("data-figure", key);
      cell.appendChild(node("span", "tv-figure-value number", count(figures[key])));
      cell.appendChild(node("span", "tv-figure-label", frame.t("tv.figures." + key)));
      grid.appendChild(cell);
    });
    if (figures.on_time_share !== null && figures.on_time_share !== undefined) {
      var share = node("div", "tv-figure tv-figure-share");
      share.setAttribute("data-figure", "on_time_share");
      share.appendChild(node("span", "tv-figure-value number", Math.round(figures.on_time_share * 100) + "%"));
      share.appendChild(node("span", "tv-figure-label", frame.t("tv.figures.on_time_share")));
      grid.appendChild(share);
    }
    box.appendChild(grid);
  }

  // --- the rotation between calls -------------------------------------------------------------------------

  function Rotation(box, frame, changed) {
    this.box = box;
    this.frame = frame;
    this.changed = changed;  // called when the panel appears or goes (the layout reflows)
    this.slides = [];
    this.key = null;
    this.index = -1;
    this.timer = null;
    this.held = false;
    this.video = null;
    this.figures = null;
    this.failed = {};  // url -> when it failed to load: skipped for a while, so a missing file cannot spin the rotation
  }
  Rotation.prototype.update = function (rotation) {
    var slides = rotation && rotation.slides || [], key = JSON.stringify(slides);
    if (key === this.key) { return; }
    this.key = key;
    this.slides = slides;
    this.index = -1;
    this.next();
  };
  Rotation.prototype.useFigures = function (figures) {
    var before = this.figures && this.figures.available;
    this.figures = figures;
    if (!before && figures && figures.available && this.box.hidden) { this.next(); }
  };
  Rotation.prototype.showable = function (slide) {
    if (slide.url && Date.now() - (this.failed[slide.url] || 0) < 300000) { return false; }
    return slide.kind !== "figures" || (this.figures && this.figures.available);
  };
  Rotation.prototype.fail = function (slide) {
    this.failed[slide.url] = Date.now();
    this.next();
  };
  Rotation.prototype.next = function () {
    var self = this;
    global.clearTimeout(this.timer);
    this.video = null;
    var slide = null;
    for (var tries = 0; tries < this.slides.length && !slide; tries++) {
      this.index = (this.index + 1) % this.slides.length;
      if (this.showable(this.slides[this.index])) { slide = this.slides[this.index]; }
    }
    var wasHidden = this.box.hidden;
    if (!slide) {
      this.box.hidden = true;
      this.box.textContent = "";
      if (!wasHidden) { this.changed(); }
      if (this.slides.length) { this.timer = global.setTimeout(function () { self.next(); }, 10000); }
      return;
    }
    this.box.hidden = false;
    if (wasHidden) { this.changed(); }
    this.draw(slide);
    var seconds = Math.max(3, slide.seconds || 15);
    this.timer = global.setTimeout(function () { self.next(); }, seconds * 1000);
  };
  Rotation.prototype.draw = function (slide) {
    var self = this, box = this.box, frame = this.frame;
    this.current = slide;
    box.textContent = "";
    box.setAttribute("data-kind", slide.kind);
    var inner = node("div", "tv-slide tv-slide-" + slide.kind);
    box.appendChild(inner);
    if (slide.kind === "image") {
      var img = node("img", "tv-media");
      img.alt = "";
      img.onerror = function () { self.fail(slide); };
      img.src = slide.url;
      inner.appendChild(img);
      return;
    }
    if (slide.kind === "video") {
      var video = node("video", "tv-media");
      video.muted = true;           // the loudspeaker belongs to the voice box
      video.autoplay = !this.held;
      video.playsInline = true;
      video.preload = "auto";
      video.onended = function () { self.next(); };
      video.onerror = function () { self.fail(slide); };
      video.src = slide.url;
      inner.appendChild(video);
      this.video = video;
      return;
    }
    if (slide.kind === "figures") {
      drawFigures(inner, this.figures, frame);
    } else if (slide.kind === "notice") {
      inner.appendChild(node("h3", "tv-slide-title", slide.title || frame.t("tv.info.notice")));
      inner.appendChild(node("p", "tv-slide-text", slide.text));
    } else if (slide.kind === "hours") {
      inner.appendChild(node("h3", "tv-slide-title", frame.t("tv.info.hours")));
      String(slide.text).split("; ").forEach(function (line) { inner.appendChild(node("p", "tv-slide-line", line)); });
    } else if (slide.kind === "procedure") {
      inner.appendChild(node("h3", "tv-slide-title", frame.t("tv.info.procedure")));
      inner.appendChild(node("p", "tv-proc-name", slide.name));
      var tags = [slide.field, slide.level].filter(Boolean).join(" · ");
      if (tags) { inner.appendChild(node("p", "tv-proc-tags", tags)); }
      var facts = node("dl", "tv-proc-facts");
      function fact(label, value, optional) {
        if (!value || (value.length !== undefined && !value.length)) { return; }
        var dt = facts.appendChild(node("dt", null, label)), dd = facts.appendChild(node("dd"));
        if (typeof value === "string") { dd.textContent = value; } else { dd.appendChild(value); }
        if (optional) { dt.setAttribute("data-optional", optional); dd.setAttribute("data-optional", optional); }
      }
      fact(frame.t("tv.info.processing_time"), slide.processing_time, "50");  // after the legal basis, which the documents ask for
      if (slide.legal_basis && slide.legal_basis.length) {
        var list = node("ul", "tv-proc-legal"), more = slide.legal_basis_more || 0;
        slide.legal_basis.forEach(function (text, i) {
          var li = node("li", null, text);
          if (i > 0) { li.setAttribute("data-optional", String(i)); }  // the first always; the rest in their order
          list.appendChild(li);
        });
        if (more) { list.appendChild(node("li", "tv-more", frame.t("tv.info.legal_more", {count: more}))).setAttribute("data-optional", "40"); }
        fact(frame.t("tv.info.legal_basis"), list);
      }
      inner.appendChild(facts);
      if (slide.documents) { inner.appendChild(node("p", "tv-proc-docs", frame.t("tv.info.documents", {count: slide.documents}))).setAttribute("data-optional", "60"); }
    }
    shrinkToFit(inner);
  };
  Rotation.prototype.hold = function (on) {  // a call has the screen: the video waits for it
    this.held = on;
    if (!this.video) { return; }
    if (on) { this.video.pause(); } else { var playing = this.video.play(); if (playing && playing.catch) { playing.catch(function () {}); } }
  };
  Rotation.prototype.refit = function () {  // the panel changed size: draw the text slide again (what was left out may fit now)
    var slide = this.current;
    if (slide && !this.box.hidden && slide.kind !== "image" && slide.kind !== "video") { this.draw(slide); }
  };

  // --- the calls screen -------------------------------------------------------------------------------------

  function calls(options) {
    var frame = new Frame(options);
    var state = {}, tiles = {}, tilesKey = null, fitKey = null, recentKey = null, waitingKey = null;
    var active = [], flashes = {}, overlayTimer = null;
    var grid = $("counters"), overlay = $("call");
    var rotation = new Rotation($("info"), frame, function () { frame.screen.classList.toggle("no-info", rotation.box.hidden); fit(true); });
    if (options.info === false) { rotation.update = function () {}; frame.screen.classList.add("no-info"); }  // ?info=0
    frame.onLayout = function () { fitWaiting(); fit(true); rotation.refit(); };

    function counterList() {
      var office = state.office;
      return office ? office.counters.filter(function (c) { return wanted(options.counters, c.id); }) : [];
    }
    function shown(view) {  // the number a counter serves now, or null
      return view && view.ticket && (view.ticket_status === "called" || view.ticket_status === "serving") ? view.ticket : null;
    }

    function drawCounters() {
      var list = counterList(), key = list.map(function (c) { return c.id + "=" + c.name; }).join("|");
      if (key !== tilesKey) {
        tilesKey = key;
        tiles = {};
        grid.textContent = "";
        list.forEach(function (c) {
          var tile = node("div", "tv-tile");
          tile.setAttribute("data-counter", c.id);
          var name = node("div", "tv-tile-name", c.name), number = node("div", "tv-tile-number number");
          tile.appendChild(name);
          tile.appendChild(number);
          grid.appendChild(tile);
          tiles[c.id] = {tile: tile, name: name, number: number, label: c.name};
        });
        grid.setAttribute("data-count", String(list.length));
        frame.screen.setAttribute("data-counters", list.length > 16 ? "many" : list.length > 8 ? "some" : "few");
      }
      var now = Date.now();
      list.forEach(function (c) {
        var t = tiles[c.id], view = state["counter/" + c.id], number = shown(view);
        var status = number ? "serving" : view ? view.status : "closed";
        t.tile.setAttribute("data-status", status === "serving" && !number ? "idle" : status);
        setText(t.number, number || frame.t("tv.counter." + (status === "serving" ? "idle" : status)));
        t.number.classList.toggle("tv-word", !number);
        t.tile.classList.toggle("tv-flash", (flashes[c.id] || 0) > now);
      });
      fit(false);
    }

    function fit(force) {
      // The grid's columns and one font size for every number, chosen so the numbers are as big as they can be.
      var list = counterList().filter(function (c) { return tiles[c.id]; }), n = list.length;
      if (!n) { return; }
      var longest = "8888";
      list.forEach(function (c) { var v = shown(state["counter/" + c.id]); if (v && v.length > longest.length) { longest = v; } });
      var width = grid.clientWidth, height = grid.clientHeight, key = [n, longest.length, width, height, frame.layout].join(",");
      if (!force && key === fitKey) { return; }
      fitKey = key;
      var gap = Math.max(4, Math.round(Math.min(width, height) * 0.012)), numberEm = textWidthEm(longest, 700), best = null;
      for (var cols = 1; cols <= n; cols++) {
        var rows = Math.ceil(n / cols), w = (width - (cols - 1) * gap) / cols, h = (height - (rows - 1) * gap) / rows;
        var size = Math.min(h * 0.58, w * 0.86 / numberEm);
        if (!best || size > best.size + 0.5) { best = {cols: cols, rows: rows, size: size, w: w, h: h}; }
      }
      grid.style.gap = gap + "px";
      grid.style.gridTemplateColumns = "repeat(" + best.cols + ", minmax(0, 1fr))";
      grid.style.gridTemplateRows = "repeat(" + best.rows + ", minmax(0, 1fr))";
      grid.style.setProperty("--number-size", Math.floor(best.size) + "px");
      var nameSize = Math.max(best.size * 0.3, Math.min(best.size * 0.6, (best.h * 0.92 - best.size * 1.05) / 1.2));
      list.forEach(function (c) {
        var own = Math.min(nameSize, best.w * 0.92 / textWidthEm(c.name, 700));
        tiles[c.id].name.style.fontSize = Math.floor(own) + "px";
      });
    }

    function drawRecent() {
      var all = state.calls && state.calls.calls || [], limit = frame.settings.recent_calls || 5;
      var list = all.filter(function (c) { return wanted(options.counters, c.counter); }).slice(0, limit);
      var now = Date.now(), key = list.map(function (c) { return c.number + "@" + c.counter + "@" + c.at; }).join("|");
      var fresh = list.length && active.length && active[0].until > now && active[0].call.number === list[0].number;
      var changed = key !== recentKey;
      if (changed) {
        recentKey = key;
        var ol = $("recent");
        ol.textContent = "";
        list.forEach(function (c, i) {
          var li = node("li", i === 0 ? "tv-recent-item tv-newest" : "tv-recent-item");
          li.setAttribute("data-number", c.number);
          li.setAttribute("data-counter", c.counter);
          li.appendChild(node("span", "tv-recent-number number", c.number));
          li.appendChild(node("span", "tv-recent-arrow", "→"));
          li.appendChild(node("span", "tv-recent-where", c.counter_name));
          ol.appendChild(li);
        });
        $("recent-empty").hidden = list.length > 0;
      }
      var newest = $("recent").firstChild;
      if (newest) { newest.classList.toggle("tv-fresh", !!fresh); }
      if (changed) { rotation.refit(); }  // the panel below may have changed size
    }

    function drawWaiting() {
      var queue = state.queue, body = $("waiting").tBodies[0];
      if (!queue) { return; }
      var codes = Object.keys(queue.services).filter(function (code) { return wanted(options.fields, code); });
      var rows = codes.map(function (code) {
        var s = queue.services[code];
        var wait = !s.open ? frame.t("tv.calls.field_paused")
          : s.waiting && s.estimated_wait_minutes !== null && s.estimated_wait_minutes !== undefined
            ? frame.t("tv.calls.wait_minutes", {minutes: Math.max(1, s.estimated_wait_minutes)}) : "";
        return [code, s.name, count(s.waiting), wait, s.open ? "open" : "paused"];
      });
      var key = JSON.stringify(rows);
      if (key === waitingKey) { return; }
      waitingKey = key;
      body.textContent = "";
      rows.forEach(function (r) {
        var tr = node("tr");
        tr.setAttribute("data-service", r[0]);
        tr.setAttribute("data-state", r[4]);
        tr.appendChild(node("td", "tv-field", r[1]));
        tr.appendChild(node("td", "tv-count number", r[2]));
        tr.appendChild(node("td", "tv-wait", r[3]));
        body.appendChild(tr);
      });
      fitWaiting();
      fit(true);
      rotation.refit();
    }

    function fitWaiting() {  // many fields in a small band: the table's font goes down to 70 %, then rows are cut
      var table = $("waiting");
      table.style.fontSize = "";
      var box = table.parentNode, size = 100;
      while (box.scrollHeight > box.clientHeight + 1 && size > 70) { size -= 5; table.style.fontSize = size + "%"; }
    }

    function drawOverlay(fresh) {
      global.clearTimeout(overlayTimer);
      var now = Date.now();
      active = active.filter(function (a) { return a.until > now; });
      if (!fresh) { drawCounters(); drawRecent(); }  // a call's highlight ended
      if (!active.length) {
        overlay.hidden = true;
        overlay.textContent = "";
        rotation.hold(false);
        return;
      }
      overlay.hidden = false;
      rotation.hold(true);
      if (fresh) {
        overlay.textContent = "";
        active.forEach(function (a, i) {
          var c = a.call, item = node("div", i === 0 ? "tv-call-main" : "tv-call-other");
          item.setAttribute("data-number", c.number);
          item.setAttribute("data-counter", c.counter);
          if (i === 0) {
            item.appendChild(node("div", "tv-call-invite", frame.t(c.recall ? "tv.calls.invite_again" : "tv.calls.invite")));
            var big = node("div", "tv-call-number number", c.number);
            big.style.fontSize = Math.floor(Math.min(overlay.clientHeight * 0.34, overlay.clientWidth * 0.9 / textWidthEm(c.number, 700))) + "px";
            item.appendChild(big);
            item.appendChild(node("div", "tv-call-where", frame.t("tv.calls.to_counter", {counter: c.counter_name})));
            var detail = [c.service_name, c.priority ? frame.t("tv.calls.priority") : ""].filter(Boolean).join(" · ");
            item.appendChild(node("div", "tv-call-service", detail));
          } else {
            item.appendChild(node("span", "tv-call-other-number number", c.number));
            item.appendChild(node("span", "tv-recent-arrow", "→"));
            item.appendChild(node("span", "tv-call-other-where", c.counter_name));
          }
          overlay.appendChild(item);
        });
        overlay.classList.remove("tv-flash");
        void overlay.offsetWidth;  // restart the animation for this new call
        overlay.classList.add("tv-flash");
      }
      var soonest = Math.min.apply(null, active.map(function (a) { return a.until; }));
      overlayTimer = global.setTimeout(function () { drawOverlay(false); }, Math.max(50, soonest - now));
    }

    function called(topic, call) {
      if (topic !== "event/call" || !wanted(options.counters, call.counter)) { return; }
      var until = Date.now() + (frame.settings.call_seconds || 8) * 1000;
      active = active.filter(function (a) { return a.call.number !== call.number; });
      active.unshift({call: call, until: until});
      active = active.slice(0, 3);
      flashes[call.counter] = until;
      drawOverlay(true);
      drawRecent();
      drawCounters();
    }

    function render(s, topic) {
      state = s;
      if (!topic || topic === "clock") { frame.clock(s.clock); }
      if (!topic || topic === "tv/rotation") { frame.useSettings(s["tv/rotation"]); rotation.update(s["tv/rotation"]); }
      if (!topic || topic === "tv/figures") { rotation.useFigures(s["tv/figures"]); }
      if (!topic || topic === "office") { frame.showNotice(s.office && s.office.notice); }
      if (!topic || topic === "office" || topic.indexOf("counter/") === 0) { drawCounters(); }
      if (!topic || topic === "calls" || topic === "tv/rotation") { drawRecent(); }
      if (!topic || topic === "queue") { drawWaiting(); }
    }

    if (doc.fonts && doc.fonts.ready) { doc.fonts.ready.then(function () { fit(true); frame.startMarquee(); }); }
    global.motcuaTv = MotcuaLive.follow(
      ["office", "queue", "counter/*", "calls", "clock", "tv/rotation", "tv/figures", "event/call"],
      {render: render, event: called, status: function (s) { frame.status(s); }});
  }

  // --- the results screen ----------------------------------------------------------------------------------

  function results(options) {
    var frame = new Frame(options);
    var state = {}, items = [], pages = [], page = 0, pageTimer = null, dataKey = null;
    var list = $("ready"), figuresBox = $("figures");
    frame.onLayout = function () { paginate(); };

    function build(item) {
      if (item.kind === "group") {
        var head = node("div", "tv-group");
        head.setAttribute("data-service", item.service || "");
        head.appendChild(node("span", "tv-group-name", item.name + (item.continued ? " " + frame.t("tv.results.continued") : "")));
        head.appendChild(node("span", "tv-group-count", frame.t("tv.results.count", {count: item.count})));
        return head;
      }
      var d = item.dossier, row = node("div", "tv-row");
      row.setAttribute("data-code", d.code);
      row.appendChild(node("span", "tv-col-code number", d.code));
      row.appendChild(node("span", "tv-col-applicant", d.applicant || "—"));
      row.appendChild(node("span", "tv-col-procedure", d.procedure_name || ""));
      row.appendChild(node("span", "tv-col-counter", d.counter || frame.t("tv.results.at_section")));
      return row;
    }
    function columns() {
      var head = node("div", "tv-row tv-columns");
      ["code", "applicant", "procedure", "counter"].forEach(function (k) { head.appendChild(node("span", "tv-col-" + k, frame.t("tv.results." + k))); });
      return head;
    }
    function groupOf(i) { while (i >= 0 && items[i].kind !== "group") { i--; } return items[i]; }
    function fill(start, end) {
      // Put items from `start` on the list: up to `end` when the page is known, else until it is full
      // (while cutting the pages). Returns where the next page starts.
      list.textContent = "";
      list.appendChild(columns());
      var i = start;
      if (items[i] && items[i].kind === "row") {
        var g = groupOf(i);
        list.appendChild(build({kind: "group", service: g.service, name: g.name, count: g.count, continued: true}));
      }
      if (end !== undefined) {
        for (; i < end; i++) { list.appendChild(build(items[i])); }
        return end;
      }
      var placed = 0;
      while (i < items.length) {
        var e = build(items[i]);
        list.appendChild(e);
        if (list.scrollHeight > list.clientHeight + 1 && placed > 0) { list.removeChild(e); break; }
        i++;
        placed++;
      }
      if (i < items.length && i > start + 1 && items[i - 1].kind === "group") { list.removeChild(list.lastChild); i--; }  // no heading alone at the foot
      return i;
    }
    var generation = 0;
    function paginate() {  // the pages depend on the screen, the fonts, the figures panel: cut them again
      $("page").setAttribute("data-generation", String(++generation));
      pages = [];
      var start = 0, guard = 0;
      while (start < items.length && guard++ < 1000) {
        var end = fill(start);
        pages.push([start, end]);
        start = end;
      }
      page = Math.min(page, Math.max(0, pages.length - 1));
      show();
    }
    function show() {
      global.clearTimeout(pageTimer);
      $("ready-empty").hidden = !state["tv/results"] || items.length > 0;
      if (!pages.length) { list.textContent = ""; setText($("page"), ""); return; }
      fill(pages[page][0], pages[page][1]);
      setText($("page"), pages.length > 1 ? frame.t("tv.results.page", {page: page + 1, pages: pages.length}) : "");
      $("page").setAttribute("data-page", String(page + 1));
      $("page").setAttribute("data-pages", String(pages.length));
      if (pages.length > 1) {
        var seconds = options.page_seconds || frame.settings.results_page_seconds || 15;
        pageTimer = global.setTimeout(function () { page = (page + 1) % pages.length; show(); }, seconds * 1000);
      }
    }
    function drawResults() {
      var doc_ = state["tv/results"];
      if (!doc_) { return; }
      var flat = [];
      doc_.groups.forEach(function (g) {
        if (!wanted(options.fields, g.service || "")) { return; }
        var name = g.name || frame.t("tv.results.other_field");
        flat.push({kind: "group", service: g.service, name: name, count: g.dossiers.length});
        g.dossiers.forEach(function (d) { flat.push({kind: "row", dossier: d}); });
      });
      var key = JSON.stringify(flat);
      if (key === dataKey) { return; }
      dataKey = key;
      items = flat;
      paginate();
    }
    function drawFigureBox() {
      var f = state["tv/figures"];
      figuresBox.hidden = !(f && f.available);
      frame.screen.classList.toggle("no-figures", figuresBox.hidden);
      if (!figuresBox.hidden) { drawFigures(figuresBox, f, frame); }
    }
    function render(s, topic) {
      state = s;
      if (!topic || topic === "clock") { frame.clock(s.clock); }
      if (!topic || topic === "tv/rotation") { frame.useSettings(s["tv/rotation"]); }
      if (!topic || topic === "office") { frame.showNotice(s.office && s.office.notice); }
      if (!topic || topic === "tv/figures") { drawFigureBox(); if (topic) { paginate(); } }
      if (!topic || topic === "tv/results") { drawResults(); }
    }
    if (doc.fonts && doc.fonts.ready) { doc.fonts.ready.then(function () { paginate(); frame.startMarquee(); }); }
    global.motcuaTv = MotcuaLive.follow(["office", "clock", "tv/rotation", "tv/results", "tv/figures"],
                                        {render: render, status: function (s) { frame.status(s); }});
  }

  global.MotcuaTv = {calls: calls, results: results};

  // Start the page named by its options block (templates/tv/page.html): no inline script under the CSP.
  var optionsBlock = doc.getElementById("tv-options");
  if (optionsBlock && global.MotcuaTv[optionsBlock.getAttribute("data-page")]) {
    global.MotcuaTv[optionsBlock.getAttribute("data-page")](JSON.parse(optionsBlock.textContent));
  }
})(this);
