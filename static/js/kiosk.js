// The window's tablet: poll for the case staff just registered, show the five choices,
// thank the person for a few seconds, then wait for the next one. Without JavaScript the
// page refreshes itself (a meta refresh) and the choices are a plain form.
(function () {
  "use strict";
  var root = document.getElementById("kiosk");
  if (!root) { return; }
  var waiting = document.getElementById("kiosk-waiting");
  var thanks = document.getElementById("kiosk-thanks");
  var form = document.getElementById("kiosk-case");
  var seconds = parseInt(root.dataset.pollSeconds, 10) || 3;
  var shown = document.getElementById("kiosk-case-token").value;

  function show(state) {
    waiting.hidden = state !== "waiting";
    thanks.hidden = state !== "thanks";
    form.hidden = state !== "case";
    root.dataset.state = state;
  }

  function poll() {
    if (root.dataset.state === "thanks") { return; }
    fetch(root.dataset.pollUrl, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        if (body.case && body.case.token !== shown) {
          shown = body.case.token;
          document.getElementById("kiosk-case-token").value = shown;
          document.getElementById("kiosk-service").textContent = body.case.service;
          document.getElementById("kiosk-staff").textContent = body.case.staff || "";
          show("case");
        } else if (!body.case && root.dataset.state === "case") {
          shown = "";
          show("waiting");  // rated on a phone meanwhile, or too old
        }
      })
      .catch(function () { /* the network is back at the next poll */ });
  }

  if (root.dataset.state === "thanks") {
    window.setTimeout(function () { show("waiting"); poll(); }, 5000);
  }
  window.setInterval(poll, seconds * 1000);
  poll();
})();
