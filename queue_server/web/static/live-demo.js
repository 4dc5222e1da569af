/* The /live demo page (templates/live/demo.html): the pattern every live page follows. A static
   file, as the Content-Security-Policy allows no inline script; its texts come from the page's
   <script type="application/json" id="live-text"> block. */
(function () {
  "use strict";
  var TEXT = JSON.parse(document.getElementById("live-text").textContent);
  function cell(row, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    row.appendChild(td);
  }
  function render(state) {
    var counters = document.querySelector("#counters tbody"), queue = document.querySelector("#queue tbody");
    counters.textContent = "";
    Object.keys(state).sort().forEach(function (topic) {
      if (topic.indexOf("counter/") !== 0) { return; }
      var c = state[topic], row = document.createElement("tr");
      row.setAttribute("data-counter", c.counter);
      cell(row, c.name);
      cell(row, c.ticket || TEXT.no_ticket, "number");
      cell(row, c.status_text);
      counters.appendChild(row);
    });
    queue.textContent = "";
    var q = state.queue;
    if (q) {
      Object.keys(q.services).forEach(function (code) {
        var s = q.services[code], row = document.createElement("tr");
        row.setAttribute("data-service", code);
        cell(row, s.name);
        cell(row, s.waiting + " " + TEXT.waiting, "number");
        queue.appendChild(row);
      });
    }
  }
  function called(topic, call) {
    var list = document.getElementById("calls"), item = document.createElement("li");
    item.setAttribute("data-number", call.number);
    item.innerHTML = '<span class="number"></span> <span class="where"></span>';
    item.firstChild.textContent = call.number;
    item.lastChild.textContent = "→ " + call.counter_name;
    list.insertBefore(item, list.firstChild);
    while (list.children.length > 6) { list.removeChild(list.lastChild); }
    document.getElementById("calls-empty").style.display = "none";
  }
  function status(s) {
    var el = document.getElementById("status");
    el.setAttribute("data-state", s);
    el.textContent = TEXT[s] || s;
  }
  window.demoLive = MotcuaLive.follow(["queue", "counter/*", "event/call"], {render: render, event: called, status: status});
})();
