/* The holder's pass page (docs/pass-format.md, section 5).
 *
 * On first open the phone makes a P-256 key with WebCrypto that cannot be exported and
 * keeps it in IndexedDB; the page posts its public half, and the server re-issues the pass
 * to certify it. The page then shows a moving code: FK1P: + base45(window ‖ r‖s) + the
 * pass, the device key's signature over the current 30-second window, renewed each
 * window. A phone that cannot make a key shows the plain pass, marked lower assurance.
 * The page asks the server every few seconds whether the pass still stands: a revoked
 * pass disappears, and the reason shows.
 */
(function () {
  "use strict";
  var root = document.getElementById("pass");
  if (!root) return;
  var WINDOW_MS = 30000;
  var REFRESH_MS = 5000;
  var B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  var state = JSON.parse(document.getElementById("pass-state").textContent);
  var offset = state.server_time - Date.now(); // server minus phone, in ms
  var deviceKey = null;
  var shownWindow = -1;
  var $ = function (id) { return document.getElementById(id); };

  function base45(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i += 2) {
      if (i + 1 < bytes.length) {
        var n = bytes[i] * 256 + bytes[i + 1];
        out += B45[n % 45] + B45[Math.floor(n / 45) % 45] + B45[Math.floor(n / 2025)];
      } else {
        out += B45[bytes[i] % 45] + B45[Math.floor(bytes[i] / 45)];
      }
    }
    return out;
  }
  function fromHex(hex) {
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }
  function toHex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function uint32(n) {
    return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  }
  function concat() {
    var parts = Array.prototype.slice.call(arguments), size = 0, at = 0;
    parts.forEach(function (p) { size += p.length; });
    var out = new Uint8Array(size);
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function serverNow() { return Date.now() + offset; }
  function two(n) { return ("0" + n).slice(-2); }
  function hms(ms) {
    // The server's wall clock in its own zone, whatever the phone's zone.
    var d = new Date(ms + state.tz_offset);
    return two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + ":" + two(d.getUTCSeconds());
  }
  function localHms(d) { return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()); }

  // ---------------------------------------------------------------- the device key

  function openStore() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("fangkong-pass", 1);
      request.onupgradeneeded = function () { request.result.createObjectStore("keys"); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function stored(db, mode, action) {
    return new Promise(function (resolve, reject) {
      var request = action(db.transaction("keys", mode).objectStore("keys"));
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function deviceKeyPair() {
    return openStore().then(function (db) {
      return stored(db, "readonly", function (s) { return s.get("device"); }).then(function (pair) {
        if (pair) return pair;
        var spec = { name: "ECDSA", namedCurve: "P-256" };
        return crypto.subtle.generateKey(spec, false, ["sign", "verify"]).then(function (made) {
          return stored(db, "readwrite", function (s) { return s.put(made, "device"); }).then(function () { return made; });
        });
      });
    });
  }
  function bindKey() {
    if (!window.crypto || !crypto.subtle || !window.indexedDB) return Promise.resolve();
    return deviceKeyPair().then(function (pair) {
      return crypto.subtle.exportKey("raw", pair.publicKey).then(function (raw) {
        var hex = toHex(new Uint8Array(raw));
        if (!state.active || state.device_key === hex) { deviceKey = pair; return; }
        return post(hex).then(function (next) {
          if (next && next.device_key === hex) deviceKey = pair;
        });
      });
    }).catch(function () { deviceKey = null; });
  }
  function post(hex) {
    return fetch(root.dataset.keyUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ key: hex })
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (next) {
      if (next) apply(next);
      return next;
    });
  }

  // ---------------------------------------------------------------- what is shown

  function apply(next) {
    var changed = next.pass_id !== state.pass_id || next.active !== state.active;
    offset = next.server_time - Date.now();
    state = next;
    root.dataset.active = state.active ? "1" : "0";
    $("pass-live").hidden = !state.active;
    $("pass-refused").hidden = state.active;
    $("pass-reason").textContent = state.reason || "";
    if (!state.active) { $("pass-qr").innerHTML = ""; $("pass-qr").dataset.code = ""; }
    if (state.active) $("pass-until").textContent = state.valid_until;
    if (deviceKey && state.device_key === "") deviceKey = null;
    if (changed) shownWindow = -1;
  }
  function draw(text) {
    var qr = qrcode(0, "Q");
    qr.addData(text, "Alphanumeric");
    qr.make();
    var box = $("pass-qr");
    box.innerHTML = qr.createSvgTag({ cellSize: 4, margin: 16, scalable: true });
    box.dataset.code = text;
  }
  function movingCode(window30) {
    var message = concat(new TextEncoder().encode("FK1-PROOF"), fromHex(state.pass_id), uint32(window30));
    var spec = { name: "ECDSA", hash: "SHA-256" };
    return crypto.subtle.sign(spec, deviceKey.privateKey, message).then(function (sig) {
      return "FK1P:" + base45(concat(uint32(window30), new Uint8Array(sig))) + state.text.slice(4);
    });
  }
  function tick() {
    var now = serverNow();
    $("clock-phone").textContent = localHms(new Date());
    $("clock-server").textContent = hms(now);
    if (!state.active) return;
    var bound = !!deviceKey && state.device_key !== "";
    $("pass-assurance").hidden = bound;
    $("pass-moving").hidden = !bound;
    if (!bound) return;
    var window30 = Math.floor(now / WINDOW_MS);
    $("pass-countdown").textContent = Math.ceil((WINDOW_MS - (now % WINDOW_MS)) / 1000) + " s";
    if (window30 === shownWindow) return;
    shownWindow = window30;
    movingCode(window30).then(function (code) {
      if (shownWindow === window30 && state.active) draw(code);
    });
  }
  function refresh() {
    fetch(root.dataset.stateUrl, { headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (next) { if (next) { apply(next); return bindKey(); } })
      .catch(function () { /* offline: keep showing the pass; the gate decides */ });
  }

  bindKey().then(tick);
  setInterval(tick, 1000);
  setInterval(refresh, REFRESH_MS);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
})();
