/* Declaration forms that survive a slow or absent network.
 *
 * Every form with class "declare-form" is posted with fetch as the same urlencoded fields
 * the page would send without JavaScript, asking for JSON back; a form with
 * data-json-action (the personal link's page) posts its fields as JSON to that URL
 * instead. The submission goes into
 * an outbox in IndexedDB *before* it is sent and leaves it only when the server has
 * answered for it, so a lost connection, a closed tab or a dead battery loses nothing.
 * The page works from a copy of the outbox in memory, read once at start and written
 * through to IndexedDB (localStorage where IndexedDB cannot be opened).
 * The outbox is retried with back-off, on the "online" event and whenever a page with
 * this script opens. Each declaration carries its UUID, so sending twice stores it once.
 * Texts come from data attributes of #outbox-notice (translated by the server).
 *
 * The personal link's page (#link-shell) is a shell, the same for everyone: the person's
 * name, status, last answers and the symptom list come as JSON, in the page (#link-state)
 * or, when the shell came from the phone's copy, from its "state" URL, and are filled in
 * here. A service worker (templates/health/link_sw.js) keeps the shell; this script keeps
 * each link's last state beside it (updated from the submit's answer, not read again), so
 * the page opens and shows the person's state with no network.
 */
(function () {
  "use strict";
  var KEY = "fangkong.outbox.v1";  // the outbox before IndexedDB, and the fallback
  var DB = "fangkong-outbox";
  var STORE = "outbox";
  var MAX_WAIT = 60000;
  var notice = document.getElementById("outbox-notice");
  var timer = null;
  var flushing = false;
  var inFlight = {};
  var shell = document.getElementById("link-shell");
  var linkState = null;  // the state the personal link's page shows

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

  function legacy() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }

  function request(result) {
    return new Promise(function (resolve, reject) {
      result.onsuccess = function () { resolve(result.result); };
      result.onerror = function () { reject(result.error); };
    });
  }

  function openDb() {
    if (!window.indexedDB) { return Promise.reject(new Error("no IndexedDB")); }
    var opening = indexedDB.open(DB, 1);
    opening.onupgradeneeded = function () {
      opening.result.createObjectStore(STORE, { keyPath: "id" });
    };
    return request(opening);
  }

  var db = null;
  var outbox = [];  // the entries, as kept in IndexedDB

  // Resolves once the transaction has reached the disk: only then is an entry kept.
  function write(change) {
    if (!db) {
      localStorage.setItem(KEY, JSON.stringify(outbox));
      return Promise.resolve();
    }
    return new Promise(function (resolve, reject) {
      var tx = db.transaction(STORE, "readwrite");
      change(tx.objectStore(STORE));
      tx.oncomplete = function () { resolve(); };
      tx.onerror = tx.onabort = function () { reject(tx.error); };
    });
  }

  // Read the outbox once; entries an older page left in localStorage move over.
  var ready = openDb().then(function (opened) {
    db = opened;
    return request(db.transaction(STORE).objectStore(STORE).getAll());
  }).then(function (entries) {
    outbox = entries;
    var old = legacy().filter(function (e) {
      return !entries.some(function (kept) { return kept.id === e.id; });
    });
    if (!old.length) { return null; }
    outbox = outbox.concat(old);
    return write(function (store) {
      old.forEach(function (e) { store.put(e); });
    }).then(function () { localStorage.removeItem(KEY); });
  }).catch(function () {
    db = null;
    outbox = legacy();
  });

  function load() { return outbox.slice(); }
  function put(entry) {
    outbox = outbox.filter(function (e) { return e.id !== entry.id; }).concat([entry]);
    return write(function (store) { store.put(entry); });
  }
  function drop(id) {
    outbox = outbox.filter(function (e) { return e.id !== id; });
    return write(function (store) { store.delete(id); });
  }

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
        "Content-Type": entry.type === "json" ? "application/json" : "application/x-www-form-urlencoded",
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

  // Bring an answer into view: the button that sent it is at the bottom of a long form,
  // and a phone shows nothing of what changed at the top.
  function reveal(node, field) {
    [node, field].forEach(function (inner) {
      var details = inner && inner.closest("details");
      if (details) { details.open = true; }
    });
    if (field && field.type !== "hidden") {
      field.focus({ preventScroll: true });
    } else {
      if (!node.hasAttribute("tabindex")) { node.setAttribute("tabindex", "-1"); }
      node.focus({ preventScroll: true });
    }
    node.scrollIntoView({ block: field ? "center" : "start" });
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-client-error]").forEach(function (node) { node.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (node) {
      node.removeAttribute("aria-invalid");
    });
  }

  // Put ``messages`` under the field; return the node that holds them, or null if the
  // field cannot show them (a hidden input of the one-tap form).
  function showAt(field, messages) {
    if (!field || field.type === "hidden") { return null; }
    var row = field.closest("li");
    var box = field.closest("[data-field]") ||
      (row && row.querySelector("[data-row-errors]")) || field.parentNode;
    var line = document.createElement("p");
    line.className = "errors";
    line.setAttribute("data-client-error", "");
    line.setAttribute("role", "alert");
    line.textContent = [].concat(messages).join("；");
    box.appendChild(line);
    field.setAttribute("aria-invalid", "true");
    return box;
  }

  function fieldNamed(scope, name) {
    return scope.querySelector('[name="' + name + '"]:not([type=hidden])') ||
      scope.querySelector('[name="' + name + '"]');
  }

  // The rows a proxy submission held, in the order the server numbers them.
  function tickedRows(form) {
    return Array.prototype.filter.call(form.querySelectorAll("li[id^=row-]"), function (row) {
      var box = row.querySelector("[name$=-include]");
      return box && box.checked;
    });
  }

  // Show a refusal's field messages at their fields; return the first one shown.
  function showRefusal(form, detail) {
    if (!form || !detail || typeof detail !== "object") { return null; }
    var first = null;
    function at(scope, prefix, fields) {
      Object.keys(fields).forEach(function (key) {
        var field = fieldNamed(scope, prefix + key) ||
          (prefix ? fieldNamed(scope, prefix + "temperature") : null);
        var box = showAt(field, fields[key]);
        if (box && !first) { first = { box: box, field: field }; }
      });
    }
    if (form.getAttribute("data-kind") === "proxy") {
      var rows = tickedRows(form);
      var perRow = detail.items || {};
      if (!detail.items && rows.length === 1) {
        perRow = { 0: {} };
        Object.keys(detail).forEach(function (key) {
          if (key !== "division") { perRow[0][key] = detail[key]; }
        });
      }
      if (detail.division) { at(form, "", { division: detail.division }); }
      Object.keys(perRow).forEach(function (index) {
        var row = rows[Number(index)];
        if (row) { at(row, row.id.replace("row-", "p") + "-", perRow[index]); }
      });
    } else {
      at(form, "", detail);
    }
    return first;
  }

  // Check the form in the page's own words before it is kept: a bad value typed offline
  // would otherwise wait in the outbox only to be refused later.
  function checkFields(form) {
    clearErrors(form);
    var invalid = Array.prototype.filter.call(form.elements, function (field) {
      return field.willValidate && !field.checkValidity();
    });
    invalid.forEach(function (field) {
      showAt(field, field.getAttribute("data-invalid") || field.validationMessage);
    });
    if (invalid.length) {
      reveal(invalid[0].closest("[data-field]") || invalid[0], invalid[0]);
    }
    return !invalid.length;
  }

  function showStatus(body) {
    var box = document.getElementById("today-status");
    if (!box || !body.status_label) { return; }
    box.hidden = false;
    box.className = "status status-" + body.status;
    box.setAttribute("data-status", body.status);
    box.querySelector("[data-status-label]").textContent = body.status_label;
    var time = box.querySelector("[data-status-time]");
    if (time && body.time) { time.textContent = body.time; }
    var list = box.querySelector("[data-status-reasons]");
    list.textContent = "";
    var reasons = body.reasons && body.reasons.length ? body.reasons : [box.getAttribute("data-none")];
    reasons.forEach(function (reason) {
      var item = document.createElement("li");
      item.textContent = reason;
      list.appendChild(item);
    });
  }

  // Show or hide the one-tap submit; on the shell only when the state offered it.
  function oneTap(visible) {
    document.querySelectorAll(".one-tap, [data-one-tap-or]").forEach(function (node) {
      node.hidden = !visible || node.getAttribute("data-offer") === "no";
    });
  }

  function delivered(entry, body) {
    var nothing = function () { /* the memory copy is already right */ };
    return drop(entry.id).catch(nothing).then(function () { shown(entry, body); });
  }

  // The answer to a delivered entry, once the outbox no longer holds it.
  function shown(entry, body) {
    if (entry.page !== location.pathname) { return; }
    if (shell && linkState) { stateAnswered(linkState, body); }
    if (entry.kind === "proxy") {
      location.replace(location.pathname);  // the list of who declared is the receipt
      return;
    }
    showStatus(body);
    say("sent");
    var box = document.getElementById("today-status");
    if (box && !box.hidden) { reveal(box, null); }
  }

  function backoff(entry, result) {
    entry.tries += 1;
    var wait = Math.min(MAX_WAIT, 2000 * Math.pow(2, entry.tries - 1)) + Math.random() * 1000;
    var asked = result && Number(result.retryAfter);
    entry.next = Date.now() + (asked ? asked * 1000 : wait);
    put(entry);
  }

  function attempt(entry) {
    if (inFlight[entry.id]) { return Promise.resolve(); }
    inFlight[entry.id] = true;
    var done = function () { delete inFlight[entry.id]; };
    return send(entry).then(function (result) {
      var what = outcome(result);
      if (what === "sent") {
        return delivered(entry, result.body);
      } else if (what === "rejected") {
        drop(entry.id);
        oneTap(true);
        say("rejected", result.body.message || String(result.status));
        refused(entry, result.body);
      } else {
        backoff(entry, result);
        say(what === "login" ? "login" : "queued");
      }
    }, function () {
      backoff(entry, null);
      say("queued");
    }).then(done, done);
  }

  // A refusal of what this page sent shows at the fields; anything else at the notice.
  function refused(entry, body) {
    if (entry.page !== location.pathname) { return; }
    var form = document.getElementById(entry.form || "");
    if (form) { clearErrors(form); }
    var first = showRefusal(form, body && body.detail);
    if (first) {
      reveal(first.box, first.field);
    } else if (notice) {
      reveal(notice, null);
    }
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

  // A personal link's declaration as the JSON its "declare" URL reads.
  function jsonFields(form) {
    var data = new FormData(form);
    var text = function (name) { return data.get(name) || ""; };
    return JSON.stringify({
      uuid: text("uuid"),
      temperature: text("temperature"),
      symptoms: data.getAll("symptoms"),
      division: text("division"),
      whereabouts: text("whereabouts"),
      contact: text("contact"),
      risk_area_stay: data.get("risk_area_stay") === "1",
      test_result: text("test_result")
    });
  }

  function submit(event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("declare-form")) { return; }
    event.preventDefault();
    if (!checkFields(form)) { return; }
    var uuids = form.querySelectorAll("[data-uuid]");
    var token = form.querySelector("[name=csrfmiddlewaretoken]");
    var json = form.getAttribute("data-json-action");
    var entry = {
      id: uuids.length && uuids[0].value ? uuids[0].value : newUuid(),
      url: json ? new URL(json, location.href).pathname : form.getAttribute("action") || location.pathname,
      type: json ? "json" : "form",
      page: location.pathname,
      kind: form.getAttribute("data-kind") || "self",
      form: form.id || "",
      body: json ? jsonFields(form) : new URLSearchParams(new FormData(form)).toString(),
      csrf: token ? token.value : "",
      tries: 0,
      next: 0
    };
    var kept = put(entry);  // kept first, then sent
    if (entry.kind === "self") { oneTap(false); }
    // The next submission from this form is a new declaration (a correction).
    uuids.forEach(function (input) { input.value = newUuid(); });
    var button = form.querySelector("[type=submit]");
    if (button) { button.disabled = true; }
    say("sending");
    var sent = function () { return attempt(entry); };
    kept.then(sent, sent).then(function () {
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

  // -- the personal link's shell ----------------------------------------------------------

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function check(form, name, value) {
    form.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
      input.checked = input.value === value;
    });
  }

  // The symptom list and the last answers go into the form; the one-tap submit repeats them.
  function fillForm(shell, state) {
    var form = document.getElementById("declare-form");
    var last = state.last;
    var symptoms = form.querySelector("[data-symptoms]");
    var before = symptoms.querySelector(".errors");
    state.symptoms.forEach(function (pair) {
      var box = element("input", { type: "checkbox", name: "symptoms", value: pair[0] });
      box.checked = !!last && last.symptoms.indexOf(pair[0]) >= 0;
      var label = element("label", { "class": "check" });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + pair[1]));
      symptoms.insertBefore(label, before);
    });
    form.querySelector("[data-risk-label]").textContent = state.risk_area_label;
    // Answers typed before the state arrived (a slow network) are kept as typed.
    if (!last || form.hasAttribute("data-touched")) { return; }
    form.querySelector("[name=temperature]").value = last.temperature;
    var select = form.querySelector("[data-division-select]");
    select.textContent = "";
    select.appendChild(new Option(last.division_name, last.division, true, true));
    ["whereabouts", "contact", "test_result"].forEach(function (name) { check(form, name, last[name]); });
    form.querySelector("[name=risk_area_stay]").checked = last.risk_area_stay;
  }

  function offerOneTap(shell, state) {
    var form = shell.querySelector(".one-tap");
    var waiting = load().some(function (e) { return e.kind === "self" && e.page === location.pathname; });
    var offer = state.one_tap ? "yes" : "no";
    [form, shell.querySelector("[data-one-tap-or]")].forEach(function (node) {
      node.setAttribute("data-offer", offer);
    });
    if (!state.one_tap) { return; }
    var last = state.last;
    var fields = form.querySelector("[data-one-tap-fields]");
    var hidden = function (name, value) {
      fields.appendChild(element("input", { type: "hidden", name: name, value: value }));
    };
    hidden("temperature", last.temperature);
    last.symptoms.forEach(function (code) { hidden("symptoms", code); });
    hidden("division", last.division);
    hidden("whereabouts", last.whereabouts);
    hidden("contact", last.contact);
    if (last.risk_area_stay) { hidden("risk_area_stay", "1"); }
    hidden("test_result", last.test_result);
    form.querySelector("[data-one-tap-summary]").textContent = last.summary;
    oneTap(!waiting);
  }

  function showState(shell, state) {
    shell.querySelector("[data-name]").textContent = state.name;
    shell.querySelector("[data-today]").textContent = state.today_label;
    shell.querySelector("[data-unit]").textContent = state.unit;
    document.title = state.name + " · " + document.title;
    var pass = shell.querySelector("[data-pass]");
    pass.querySelector("a").setAttribute("href", state.pass_url);
    pass.hidden = false;
    if (state.status) { showStatus(state.status); }
    fillForm(shell, state);
    offerOneTap(shell, state);
  }

  function stateRefused(shell, result) {
    var box = shell.querySelector("[data-state-error]");
    if (result.status === 404) {
      shell.querySelector("[data-form-area]").hidden = true;
      document.getElementById("link-missing-box").hidden = false;
      document.title = shell.getAttribute("data-missing-title");
      return;
    }
    box.textContent = (result.body && result.body.message) || box.getAttribute("data-offline");
    box.hidden = false;
  }

  // The phone's copy of the state, which the service worker answers with no network.
  function keepState(state) {
    if (!window.caches) { return; }  // not a secure address: no copy, the page works online
    var key = new URL(shell.getAttribute("data-state"), location.href).pathname;
    var copy = new Response(JSON.stringify(state), { headers: { "Content-Type": "application/json" } });
    caches.open(shell.getAttribute("data-states-cache")).then(function (cache) {
      return cache.put(key, copy);
    }).catch(function () { /* no copy: kept at the next visit */ });
  }

  // A delivered declaration: the kept state shows it, and its answers for the next one tap.
  // Its day may be later than the state's (a copy of an earlier day, a page left open
  // overnight, an answer sent after midnight): the copy then moves on to that day.
  function stateAnswered(state, body) {
    if (body.day > state.today) {
      state.today = body.day;
      state.today_label = "";
    }
    if (body.day === state.today) {
      state.status = {
        uuid: body.uuid, day: body.day, status: body.status, status_label: body.status_label,
        reasons: body.reasons, time: body.time
      };
      state.one_tap = false;
    }
    if (body.last) { state.last = body.last; }
    keepState(state);
  }

  // The state the page carries, if it is this link's: a page that an older service worker
  // kept as the shell of every link carries someone else's (then the state is read).
  function inlineState() {
    var script = document.getElementById("link-state");
    if (!script) { return null; }
    try {
      var state = JSON.parse(script.textContent);
      if (state.link !== location.pathname) { return null; }
      return { status: 200, body: state, copy: false, inline: true };
    } catch (e) {
      return null;
    }
  }

  function readState(shell) {
    return fetch(new URL(shell.getAttribute("data-state"), location.href).pathname, {
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { status: response.status, body: body, copy: response.headers.has("X-Offline-Copy") };
      });
    });
  }

  // The day on the phone's clock in the server's time zone (YYYY-MM-DD).
  function phoneDay(timeZone) {
    try {
      return new Intl.DateTimeFormat("en-CA", { timeZone: timeZone }).format(new Date());
    } catch (e) {
      return "";
    }
  }

  // The service worker's copy of an earlier day's state: that day's status is not today's,
  // and its answers may be repeated with one tap.
  function asOfToday(state) {
    if (state.today === phoneDay(state.time_zone)) { return state; }
    state.status = null;
    state.today_label = "";
    state.one_tap = !!state.last;
    return state;
  }

  function linkShell(shell) {
    shell.querySelectorAll("[data-uuid]").forEach(function (input) {
      if (!input.value) { input.value = newUuid(); }
    });
    var form = document.getElementById("declare-form");
    ["input", "change"].forEach(function (type) {
      form.addEventListener(type, function () { form.setAttribute("data-touched", ""); });
    });
    var inline = inlineState();
    Promise.all([inline || readState(shell), ready]).then(function (both) {
      var result = both[0];
      shell.querySelector("[data-unit]").textContent = "";
      if (result.status === 200) {
        linkState = result.copy ? asOfToday(result.body) : result.body;
        if (result.inline) { keepState(linkState); }  // else the worker kept or answered it
        showState(shell, linkState);
      } else {
        stateRefused(shell, result);
      }
    }, function () {
      shell.querySelector("[data-unit]").textContent = "";
      stateRefused(shell, { status: 0 });
    });
    if (navigator.serviceWorker && shell.getAttribute("data-sw")) {
      navigator.serviceWorker.register(shell.getAttribute("data-sw")).catch(function () {
        /* no service worker (an insecure address): the page still works online */
      });
    }
  }

  // The script checks the fields itself and shows the messages at them (the browser's
  // own bubbles vanish after a moment); without JavaScript the browser checks them.
  document.querySelectorAll("form.declare-form").forEach(function (form) { form.noValidate = true; });
  document.addEventListener("submit", submit);
  window.addEventListener("online", function () { flush(true); });
  document.querySelectorAll("[data-division-picker]").forEach(divisionPicker);
  if (shell) { linkShell(shell); }
  ready.then(function () {
    var waiting = load();
    if (waiting.length) { say("queued"); }
    if (waiting.some(function (e) { return e.kind === "self" && e.page === location.pathname; })) {
      oneTap(false);
    }
    flush(true);
  });
})();
