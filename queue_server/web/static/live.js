/* Một Cửa live state for every page: one small script, no library, ES5 so that old phones run it.

   var live = MotcuaLive.follow(["queue", "counter/*", "event/call"], {
     render: function (state, topic) {},  // state: {topic: payload} for every followed retained topic;
                                          // topic: what changed, or null after a (re)synchronisation
     event: function (topic, payload) {}, // events such as "event/call", as they happen
     status: function (s) {}              // "connecting" | "live" | "offline" | "polling"
   });
   live.stop();

   It opens GET /api/live (Server-Sent Events): the server sends the whole snapshot first,
   then each change. On any error, or when nothing (not even the 15 s ping) is heard for
   45 s (a Wi-Fi drop leaves a dead connection open), it reconnects with backoff and takes
   the snapshot again, so a page never shows stale numbers after a server restart. Browsers
   without EventSource poll GET /api/live/snapshot instead. Protocol: docs/web.md. */
(function (global) {
  "use strict";
  var SILENCE_MS = 45000, MIN_BACKOFF_MS = 1000, MAX_BACKOFF_MS = 30000, POLL_MS = 3000;

  function follow(topics, handlers, options) {
    options = options || {};
    var base = options.base || "";
    var query = "topics=" + encodeURIComponent(topics.join(","));
    var self = {state: {}, boot: null, seq: 0, mode: null, stopped: false};
    var source = null, timer = null, watchdog = null, backoff = MIN_BACKOFF_MS, heard = 0;

    function call(name) {
      var fn = handlers[name];
      if (fn) {
        try { fn.apply(null, Array.prototype.slice.call(arguments, 1)); } catch (e) { if (global.console) { console.error(e); } }
      }
    }
    function status(s) { if (self.status !== s) { self.status = s; call("status", s); } }
    function later(fn, ms) { clearTimeout(timer); timer = setTimeout(fn, ms); }
    function retry(fn) {
      status("offline");
      var wait = backoff + Math.floor(Math.random() * backoff / 2);  // jitter: 200 TVs do not come back at once
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      later(fn, wait);
    }
    function resync(snapshot) {
      self.boot = snapshot.boot;
      self.seq = snapshot.seq;
      self.state = snapshot.topics;
      backoff = MIN_BACKOFF_MS;
      call("render", self.state, null);
    }
    function change(c) {
      self.seq = c.seq;
      if (c.topic.indexOf("event/") === 0) {
        call("event", c.topic, c.payload);
      } else {
        if (c.payload === null) { delete self.state[c.topic]; } else { self.state[c.topic] = c.payload; }  // null: the topic is gone
        call("render", self.state, c.topic);
      }
    }

    function stream() {
      if (self.stopped) { return; }
      close();
      self.mode = "stream";
      status("connecting");
      heard = new Date().getTime();
      source = new global.EventSource(base + "/api/live?" + query);
      source.addEventListener("snapshot", function (e) {
        heard = new Date().getTime();
        resync(JSON.parse(e.data));
        status("live");
      });
      source.addEventListener("change", function (e) {
        heard = new Date().getTime();
        change(JSON.parse(e.data));
      });
      source.addEventListener("ping", function () { heard = new Date().getTime(); });
      // Reconnect ourselves on every error: EventSource gives up for good on a 5xx or a proxy's error page.
      source.onerror = function () { close(); retry(stream); };
      clearInterval(watchdog);
      watchdog = setInterval(function () {
        if (new Date().getTime() - heard > SILENCE_MS) { close(); retry(stream); }
      }, 5000);
    }
    function close() {
      clearInterval(watchdog);
      if (source) { source.onerror = null; source.close(); source = null; }
    }

    function poll() {
      if (self.stopped) { return; }
      self.mode = "poll";
      var url = base + "/api/live/snapshot?" + query + (self.boot ? "&boot=" + self.boot + "&after=" + self.seq : "");
      var xhr = new XMLHttpRequest();
      xhr.open("GET", url, true);
      xhr.timeout = 10000;
      xhr.onreadystatechange = function () {
        if (xhr.readyState !== 4 || self.stopped) { return; }
        var snapshot = null;
        try { snapshot = xhr.status === 200 ? JSON.parse(xhr.responseText) : null; } catch (e) { snapshot = null; }
        if (!snapshot) { retry(poll); return; }
        var sameBoot = snapshot.boot === self.boot;
        for (var i = 0; sameBoot && i < snapshot.events.length; i++) { change(snapshot.events[i]); }
        resync(snapshot);
        status("polling");
        later(poll, options.pollMs || POLL_MS);
      };
      xhr.send();
    }

    self.stop = function () { self.stopped = true; clearTimeout(timer); close(); };
    if (global.addEventListener) {
      // Leaving the page must close the stream: a page kept in the back/forward cache otherwise keeps its
      // connection, and after six of them the browser has no connection left for this server (HTTP/1.1).
      global.addEventListener("pagehide", function () { clearTimeout(timer); close(); });
      global.addEventListener("pageshow", function (e) { if (e.persisted && !self.stopped) { later(self.mode === "poll" ? poll : stream, 0); } });
      global.addEventListener("online", function () { if (!self.stopped && self.status === "offline") { backoff = MIN_BACKOFF_MS; later(self.mode === "poll" ? poll : stream, 0); } });
    }
    if (global.EventSource && !options.poll) { stream(); } else { poll(); }
    return self;
  }

  global.MotcuaLive = {follow: follow};
})(this);
