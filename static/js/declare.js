/* Declaration forms that survive a slow or absent network.
 *
 * Every form with class "declare-form" is posted with fetch as the same urlencoded fields
 * the page would send without JavaScript, asking for JSON back. The submission goes into
 * an outbox in localStorage *before* it is sent and leaves it only when the server has
 * answered for it, so a lost connection, a closed tab or a dead battery loses nothing.
 * The outbox is retried with back-off, on the "online" event and whenever a page with
 * this script opens. Each declaration carries its UUID, so sending twice stores it once.
 * Texts come from data attributes of #outbox-notice (translated by the server).
 */
(function () {
  "use strict";
  var KEY = "fangkong.outbox.v1";
  var MAX_WAIT = 60000;
  var notice = document.getElementById("outbox-notice");
  var timer = null;
  var flushing = false;

  function newUuid() {
    // crypto.randomUUID needs a secure context; getRandomValues works on plain http too.
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function store(entries) { localStorage.setItem(KEY, JSON.stringify(entries)); }
  function put(entry) {
    store(load().filter(function (e) { return e.id !== entry.id; }).concat([entry]));
  }
  function drop(id) { store(load().filter(function (e) { return e.id !== id; })); }

  function csrfToken(entry) {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : entry.csrf || "";
  }

  function say(state, extra) {
    if (!notice) { return; }
    notice.hidden = false;
    notice.setAttribute("data-state", state);
    var label = notice.getAttribute("data-" + state) || "";
    var gap = /：$/.test(label) ? "" : " ";  // a full-width colon needs no space after it
    notice.textContent = label + (extra ? gap + extra : "");
  }

  function send(entry) {
    return fetch(entry.url, {
      method: "POST",
      body: entry.body,
      credentials: "same-origin",
      redirect: "manual",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken(entry)
      }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { status: response.status, body: body, retryAfter: response.headers.get("Retry-After") };
      });
    });
  }

  // What an answer means for a submission waiting in the outbox.
  function outcome(result) {
    if (result.status >= 200 && result.status < 300) { return "sent"; }
    if (result.status === 0) { return "login"; }  // redirected to the log-in page
    if (result.status === 409 && result.body && result.body.code === "key_reused") { return "rejected"; }
    if (result.status === 429 || result.status === 409 || result.status >= 500) { return "retry"; }
    return "rejected";
  }

  function showStatus(body) {
    var box = document.getElementById("today-status");
    if (!box || !body.status_label) { return; }
    box.hidden = false;
    box.className = "status status-" + body.status;
    box.setAttribute("data-status", body.status);
    box.querySelector("[data-status-label]").textContent = body.status_label;
    var list = box.querySelector("[data-status-reasons]");
    list.textContent = "";
    var reasons = body.reasons && body.reasons.length ? body.reasons : [box.getAttribute("data-none")];
    reasons.forEach(function (reason) {
      var item = document.createElement("li");
      item.textContent = reason;
      list.appendChild(item);
    });
  }

  function oneTap(visible) {
    document.querySelectorAll(".one-tap").forEach(function (form) { form.hidden = !visible; });
  }

  function delivered(entry, body) {
    drop(entry.id);
    if (entry.page !== location.pathname) { return; }
    if (entry.kind === "proxy") {
      location.replace(location.pathname);  // the list of who declared is the receipt
      return;
    }
    showStatus(body);
    say("sent");
  }

  function backoff(entry, result) {
    entry.tries += 1;
    var wait = Math.min(MAX_WAIT, 2000 * Math.pow(2, entry.tries - 1)) + Math.random() * 1000;
    var asked = result && Number(result.retryAfter);
    entry.next = Date.now() + (asked ? asked * 1000 : wait);
    put(entry);
  }

  function attempt(entry) {
    return send(entry).then(function (result) {
      var what = outcome(result);
      if (what === "sent") {
        delivered(entry, result.body);
      } else if (what === "rejected") {
        drop(entry.id);
        oneTap(true);
        say("rejected", result.body.message || String(result.status));
      } else {
        backoff(entry, result);
        say(what === "login" ? "login" : "queued");
      }
    }, function () {
      backoff(entry, null);
      say("queued");
    });
  }

  function schedule() {
    clearTimeout(timer);
    var entries = load();
    if (!entries.length) { return; }
    var next = Math.min.apply(null, entries.map(function (e) { return e.next || 0; }));
    timer = setTimeout(flush, Math.max(250, next - Date.now()));
  }

  function flush(all) {
    if (flushing) { return; }
    var now = Date.now();
    var due = load().filter(function (e) { return all || (e.next || 0) <= now; });
    if (!due.length) { schedule(); return; }
    flushing = true;
    due.reduce(function (chain, entry) {
      return chain.then(function () { return attempt(entry); });
    }, Promise.resolve()).then(function () {
      flushing = false;
      schedule();
    });
  }

  function submit(event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("declare-form")) { return; }
    event.preventDefault();
    var uuids = form.querySelectorAll("[data-uuid]");
    var token = form.querySelector("[name=csrfmiddlewaretoken]");
    var entry = {
      id: uuids.length ? uuids[0].value : newUuid(),
      url: form.getAttribute("action") || location.pathname,
      page: location.pathname,
      kind: form.getAttribute("data-kind") || "self",
      body: new URLSearchParams(new FormData(form)).toString(),
      csrf: token ? token.value : "",
      tries: 0,
      next: 0
    };
    put(entry);  // kept first, then sent
    if (entry.kind === "self") { oneTap(false); }
    // The next submission from this form is a new declaration (a correction).
    uuids.forEach(function (input) { input.value = newUuid(); });
    var button = form.querySelector("[type=submit]");
    if (button) { button.disabled = true; }
    say("sending");
    attempt(entry).then(function () {
      if (button) { button.disabled = false; }
      schedule();
    });
  }

  // Location search: typed text fetches matching places into the select.
  function divisionPicker(picker) {
    var search = picker.querySelector("[data-division-search]");
    var select = picker.querySelector("[data-division-select]");
    var pending = null;
    search.removeAttribute("name");  // with JavaScript the select alone is submitted
    search.addEventListener("input", function () {
      clearTimeout(pending);
      pending = setTimeout(function () {
        var term = search.value.trim();
        if (!term) { return; }
        fetch(picker.getAttribute("data-url") + "?q=" + encodeURIComponent(term))
          .then(function (response) { return response.json(); })
          .then(function (data) {
            if (!data.results || !data.results.length) { return; }
            select.textContent = "";
            data.results.forEach(function (place) {
              select.appendChild(new Option(place.name, place.code));
            });
            select.selectedIndex = 0;
            select.dispatchEvent(new Event("change"));
          })
          .catch(function () { /* offline: keep the current options */ });
      }, 300);
    });
  }

  document.addEventListener("submit", submit);
  window.addEventListener("online", function () { flush(true); });
  document.querySelectorAll("[data-division-picker]").forEach(divisionPicker);
  var waiting = load();
  if (waiting.length) { say("queued"); }
  if (waiting.some(function (e) { return e.kind === "self" && e.page === location.pathname; })) {
    oneTap(false);
  }
  flush(true);
})();
