/* Staff pages' helper for JSON calls, ES5 with no library (old PC browsers, cheap tablets).

   MotcuaStaff.send("POST", "/api/quay/Q1/next", {id: MotcuaStaff.requestId()}, function (status, body) {});

   Every call sends the page's CSRF token (from <meta name="csrf-token">) in the X-CSRF-Token
   header, as the server requires on every non-GET request of a signed-in browser. */
(function (global) {
  "use strict";
  var HEADER = "X-CSRF-Token";

  function token() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function requestId() {
    var out = "w", i;
    for (i = 0; i < 4; i++) { out += Math.floor(Math.random() * 0x100000000).toString(36); }
    return (out + new Date().getTime().toString(36)).slice(0, 40);
  }
  function send(method, url, body, done, timeoutMs) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url, true);
    xhr.timeout = timeoutMs || 15000;
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.setRequestHeader(HEADER, token());
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) { return; }
      var parsed = null;
      try { parsed = JSON.parse(xhr.responseText); } catch (e) { parsed = null; }
      if (done) { done(xhr.status, parsed); }
    };
    xhr.send(body === undefined ? null : JSON.stringify(body));
    return xhr;
  }
  /* The texts a page gets from the server: <script type="application/json" id="..."> (not run, so the CSP allows it). */
  function data(id) {
    var el = document.getElementById(id);
    try { return el ? JSON.parse(el.textContent) : {}; } catch (e) { return {}; }
  }
  global.MotcuaStaff = {send: send, token: token, requestId: requestId, data: data, header: HEADER};
})(this);
