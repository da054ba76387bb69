// Doorward live updates: server-sent events carry ready-made HTML fragments rendered by the hub.
// Kept out of the pages so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";
  var MAX_ROWS = 100;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx requests carry the CSRF token as a header too (forms also carry a hidden field).
  document.addEventListener("htmx:configRequest", function (evt) {
    evt.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content;
  }

  function connect(panel) {
    var url = panel.getAttribute("data-sse-url");
    var status = document.getElementById(panel.getAttribute("data-sse-status"));
    var source = new EventSource(url);
    source.onopen = function () {
      panel.setAttribute("data-connected", "true");
      if (status) { status.classList.add("on"); status.title = "live"; }
    };
    source.onerror = function () {
      panel.setAttribute("data-connected", "false");
      if (status) { status.classList.remove("on"); status.title = "reconnecting"; }
    };
    source.addEventListener("access", function (evt) {
      var body = document.getElementById("event-rows");
      if (!body) { return; }
      var empty = document.getElementById("event-rows-empty");
      if (empty) { empty.remove(); }
      var rows = fragment(evt.data);
      Array.prototype.forEach.call(rows.querySelectorAll("tr"), function (tr) {
        tr.classList.add("fresh");
      });
      body.insertBefore(rows, body.firstChild);
      while (body.rows.length > MAX_ROWS) { body.deleteRow(body.rows.length - 1); }
    });
    source.addEventListener("alarm", function (evt) {
      var list = document.getElementById("alarm-rows");
      if (!list) { return; }
      var empty = document.getElementById("alarm-rows-empty");
      if (empty) { empty.remove(); }
      list.insertBefore(fragment(evt.data), list.firstChild);
      if (window.htmx) { window.htmx.process(list); }
    });
    source.addEventListener("gates", function (evt) {
      var gates = document.getElementById("gate-status");
      if (gates) {
        gates.replaceChildren(fragment(evt.data));
        if (window.htmx) { window.htmx.process(gates); }
      }
    });
    window.addEventListener("beforeunload", function () { source.close(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-sse-url]"), connect);
  });
})();
