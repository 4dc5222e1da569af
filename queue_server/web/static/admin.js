/* Một Cửa admin pages: small helps on top of plain HTML forms (ES5, no library; every page works without it).

   - a form with data-confirm="..." asks before it is sent (removing a field of work, closing every counter);
   - the devices table (#devices) keeps presence and printer states current: component states come over
     the live stream (static/live.js, "device/*"), presence from data-status-url every few seconds. */
(function () {
  "use strict";
  var POLL_MS = 4000;

  function each(list, fn) { for (var i = 0; i < list.length; i++) { fn(list[i]); } }

  each(document.querySelectorAll("form[data-confirm]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  var table = document.getElementById("devices");
  if (!table) { return; }
  var text = JSON.parse(table.getAttribute("data-text") || "{}");

  function span(cls, state, words) {
    var el = document.createElement("span");
    el.className = cls;
    el.setAttribute("data-state", state);
    el.textContent = words;
    return el;
  }
  function row(device) { return table.querySelector('tr[data-device="' + device + '"]'); }
  function showPresence(device, state) {
    var tr = row(device);
    if (!tr) { return; }
    var cell = tr.querySelector(".presence-cell");
    cell.textContent = "";
    cell.appendChild(span("presence", state, text["presence." + state] || state));
  }
  function showComponents(device, components) {
    var tr = row(device);
    if (!tr) { return; }
    var cell = tr.querySelector(".components-cell");
    cell.textContent = "";
    Object.keys(components).sort().forEach(function (name) {
      var c = components[name];
      cell.appendChild(span("component", c.state, (text["component." + name] || name) + ": " + (text["state." + c.state] || c.state) + (c.detail ? " (" + c.detail + ")" : "")));
    });
  }
  function showBroker(up) {
    var el = document.getElementById("broker");
    el.setAttribute("data-state", up ? "online" : "offline");
    el.textContent = text[up ? "broker.ok" : "broker.down"];
  }

  function poll() {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", table.getAttribute("data-status-url"));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status !== 200) { return; }
      var body = JSON.parse(xhr.responseText);
      showBroker(body.broker_connected);
      Object.keys(body.devices).forEach(function (device) {
        showPresence(device, body.devices[device].presence);
        showComponents(device, body.devices[device].components);
      });
    };
    xhr.send();
  }
  setInterval(poll, POLL_MS);

  if (window.MotcuaLive) {
    window.adminLive = MotcuaLive.follow(["device/*"], {
      render: function (state, topic) {
        Object.keys(state).forEach(function (name) {
          if ((topic === null || topic === name) && state[name] && state[name].device) {
            showComponents(state[name].device, state[name].components);
          }
        });
      },
      status: function (s) {
        var el = document.getElementById("live-status");
        el.setAttribute("data-state", s);
        el.textContent = text["live." + s] || s;
      }
    });
  }
})();
