// The guest's pass page: the signed pass travels in the link's #fragment, which browsers
// never send with the page request. Post it back once to draw the QR code.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("visit-card");
    if (!box) { return; }
    var payload = decodeURIComponent(window.location.hash.slice(1));
    if (!payload) {
      box.textContent = "This link is incomplete: ask your host to send it again.";
      return;
    }
    var meta = document.querySelector('meta[name="csrf-token"]');
    fetch(box.getAttribute("data-card-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": meta ? meta.getAttribute("content") : "" },
      body: new URLSearchParams({ p: payload })
    }).then(function (response) {
      return response.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var card = doc.getElementById("main");
      box.replaceChildren.apply(box, Array.prototype.slice.call((card || doc.body).childNodes));
    }).catch(function () {
      box.textContent = "The pass could not be loaded. Check your connection and reload.";
    });
  });
})();
