/* The ticket on the phone (/t/<token>): ES5, no library, no inline script (the page's CSP forbids them).

   It follows its own ticket on the live stream, topic "ticket/<token>" (live.js), which only a page
   naming that token receives. After a server restart the stream's snapshot lacks the topic until
   the ticket is followed again: the page then asks GET /api/ticket/<token>, which follows it and
   answers the view. When the ticket is called the phone vibrates and plays a short sound where the
   browser allows (both need one tap first: the "sound on" button). After service, the vote token
   from the link's #v=... (never sent when the page loads) lets the holder vote once. */
(function (global) {
  "use strict";
  var doc = global.document, root = doc.getElementById("ticket");
  if (!root || !global.MotcuaLive) { return; }
  var token = root.getAttribute("data-token"), topic = "ticket/" + token;
  var TEXT = JSON.parse(root.getAttribute("data-texts"));
  var match = /(?:^#|&)v=([A-Za-z0-9_-]{16,64})/.exec(global.location.hash || "");
  var voteToken = match ? match[1] : null;
  var phase = root.getAttribute("data-phase"), calls = +root.getAttribute("data-calls"), asked = 0;
  var audio = null, soundOn = false, voted = false;

  function each(selector, fn) { var list = root.querySelectorAll(selector); for (var i = 0; i < list.length; i++) { fn(list[i]); } }
  function fill(name, text) { each('[data-field="' + name + '"]', function (el) { el.textContent = text; }); }
  function aheadText(n) { return n === null || n === undefined ? "" : (n === 0 ? TEXT.ahead_none : TEXT.ahead.replace("{count}", n)); }

  function draw(v) {
    var next = v.phase;  // derived by the server (appointments/watch.py)
    fill("number", v.number);
    fill("service_name", v.service_name);
    fill("counter_name", v.counter_name || "");
    fill("ahead_text", aheadText(v.ahead));
    fill("wait_text", v.estimated_wait_minutes === null ? TEXT.wait_unknown : TEXT.wait.replace("{minutes}", v.estimated_wait_minutes));
    fill("slot_time", v.slot_at ? v.slot_at.substr(11, 5) : "");
    each("[data-show]", function (el) { el.hidden = el.getAttribute("data-show") !== next; });
    root.setAttribute("data-phase", next);
    if (next === "called" && (phase !== "called" || v.calls > calls)) { alarm(v); }
    if (next === "finished") { showVote(v); }
    doc.title = next === "called" ? TEXT.called_title.replace("{number}", v.number).replace("{counter}", v.counter_name || "") : v.number + " - " + v.service_name;
    phase = next;
    calls = v.calls;
  }

  function alarm() {
    if (global.navigator && global.navigator.vibrate) { try { global.navigator.vibrate([400, 150, 400, 150, 400]); } catch (e) { /* not allowed yet */ } }
    if (soundOn && audio) { try { audio.currentTime = 0; var played = audio.play(); if (played && played["catch"]) { played["catch"](function () {}); } } catch (e) { /* no sound */ } }
  }

  function showVote(v) {
    var box = doc.getElementById("vote"), thanks = doc.getElementById("voted");
    box.hidden = !(voteToken && !v.voted && !voted);
    thanks.hidden = !(v.voted || voted);
  }

  function ask() {  // the ticket is not on the stream (the server restarted): follow it again
    var now = new Date().getTime();
    if (now - asked < 10000) { return; }
    asked = now;
    var xhr = new XMLHttpRequest();
    xhr.open("GET", "/api/ticket/" + encodeURIComponent(token), true);
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) { return; }
      if (xhr.status === 200) { try { draw(JSON.parse(xhr.responseText).ticket); } catch (e) { /* next change */ } }
      else if (xhr.status === 404) { each("[data-show]", function (el) { el.hidden = el.getAttribute("data-show") !== "expired"; }); }
    };
    xhr.send();
  }

  function status(s) {
    var el = doc.getElementById("live");
    el.setAttribute("data-state", s);
    el.textContent = TEXT[s] || s;
  }

  global.phoneLive = global.MotcuaLive.follow([topic], {
    render: function (state) { if (state[topic]) { draw(state[topic]); } else { ask(); } },
    status: status
  });

  var button = doc.getElementById("sound");
  if (global.Audio) {
    button.hidden = false;
    button.addEventListener("click", function () {
      soundOn = !soundOn;
      if (soundOn) {
        audio = audio || new global.Audio(root.getAttribute("data-sound"));
        alarm();  // a tap lets the page play and vibrate later; the holder hears what to expect
      }
      button.textContent = soundOn ? TEXT.sound_off : TEXT.sound_on;
    });
  }

  each("#vote button", function (b) {
    b.addEventListener("click", function () {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/ticket/" + encodeURIComponent(token) + "/vote", true);
      xhr.setRequestHeader("Content-Type", "application/json");
      xhr.onreadystatechange = function () {
        if (xhr.readyState !== 4) { return; }
        var ok = false;
        try { ok = JSON.parse(xhr.responseText).ok; } catch (e) { ok = false; }
        if (ok || xhr.status === 409) {
          voted = true;
          if (global.history && global.history.replaceState) { global.history.replaceState(null, "", global.location.pathname); }
          doc.getElementById("vote").hidden = true;
          doc.getElementById("voted").hidden = false;
        } else {
          doc.getElementById("voted").hidden = false;
          doc.getElementById("voted").textContent = TEXT.vote_failed;
        }
      };
      xhr.send(JSON.stringify({token: voteToken, level: b.getAttribute("data-level"), reasons: []}));
    });
  });
  if (phase === "finished") { showVote({voted: !doc.getElementById("voted").hidden}); }
})(this);
