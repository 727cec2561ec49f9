/* The guard's scanner (docs/guard-app.md): passes checked with no network for a whole
 * shift, every scan kept on the phone and handed to the server exactly once.
 *
 * - Lists: on every sync the trust list (checked against the root key shipped in the page)
 *   and each key's revocations since the version held are fetched and kept in IndexedDB;
 *   window.FKPass (passverify.js) decides with them offline.
 * - Clock: the server's time is taken from each answer's Date header. Between syncs the
 *   scanner counts on a monotonic clock and never goes back, even across a reload or a
 *   restart (a high-water mark is kept), so a phone clock set back cannot revive a pass.
 * - Records: each scan goes into IndexedDB with a random UUID before its verdict shows; a
 *   queue sends them in batches to the idempotent scan endpoint and drops one only when the
 *   server has answered for it. Online, the scan is also checked live under the same UUID.
 * - PIN: set on first use, kept only as a PBKDF2 hash; asked for after the phone slept.
 */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("guard-config").textContent);
  var T = JSON.parse(document.getElementById("guard-text").textContent);
  var urls = config.urls;

  var BATCH = 100;
  var LIVE_WAIT_MS = 150; // a live answer this fast is shown at once, else it follows
  var LIVE_TIMEOUT_MS = 8000;
  var QUEUE_EVERY_MS = 15000;
  var LISTS_EVERY_MS = 5 * 60 * 1000;
  var BACKOFF_MAX_MS = 5 * 60 * 1000;
  var AMBER_AFTER_MS = 2 * 3600 * 1000;
  var DRIFT_MS = 5 * 60 * 1000;
  var LOCK_AFTER_MS = 2 * 60 * 1000;
  var SAME_CODE_MS = 5000;
  var PIN_ITERATIONS = 150000;
  var PLATES = config.plate_patterns.map(function (p) { return new RegExp("^(?:" + p + ")$"); });
  var DETAIL_VERDICTS = { printed_refused: "printed_refused", no_device_key: "no_device_key", outsiders_banned: "outsiders_banned" };

  var $ = function (id) { return document.getElementById(id); };
  var state = {
    online: navigator.onLine,
    trust: null, // the verified trust list
    revoked: {}, // kid hex -> Set of pass-id hashes (hex)
    versions: {}, // kid hex -> revocation list version held
    listsAt: 0, // corrected time of the last list refresh
    checkpoints: [],
    shifts: [],
    checkpointId: null,
    direction: localStorage.getItem("fangkong.guard.direction") || "in",
    waiting: 0,
    rejected: [],
    inFlight: {}, // client UUID -> true while its live check runs
    syncing: null,
    backoff: 0,
    timer: null,
    lastSync: 0,
    loginNeeded: false,
    seq: 0,
    locked: false
  };

  // ------------------------------------------------------------------ small helpers

  function say(text, values) {
    return String(text || "").replace(/%\((\w+)\)s/g, function (all, name) {
      return values && values[name] !== undefined ? values[name] : all;
    });
  }
  function newUuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }
  function toHex(bytes) {
    return Array.prototype.map.call(bytes, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }
  function csrf() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  var timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || "zh-CN", {
    timeZone: config.time_zone, hour: "2-digit", minute: "2-digit", hour12: false
  });
  var secondsFormat = new Intl.DateTimeFormat(document.documentElement.lang || "zh-CN", {
    timeZone: config.time_zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false
  });
  function hm(ms) { return timeFormat.format(new Date(ms)); }
  function duration(ms) {
    var minutes = Math.max(0, Math.floor(ms / 60000));
    var h = Math.floor(minutes / 60);
    return h ? say(T.hours_minutes, { h: h, m: minutes % 60 }) : say(T.minutes, { m: minutes });
  }

  // ------------------------------------------------------------------ IndexedDB

  var dbPromise = new Promise(function (resolve, reject) {
    var request = indexedDB.open("fangkong-guard", 1);
    request.onupgradeneeded = function () {
      request.result.createObjectStore("records", { keyPath: "uuid" });
      request.result.createObjectStore("kv");
    };
    request.onsuccess = function () { resolve(request.result); };
    request.onerror = function () { reject(request.error); };
  });
  // One transaction; resolves when it has committed (durable), with the request's result.
  function tx(store, mode, action) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(store, mode, { durability: "strict" });
        var request = action(t.objectStore(store));
        t.oncomplete = function () { resolve(request ? request.result : undefined); };
        t.onerror = t.onabort = function () { reject(t.error); };
      });
    });
  }
  var db = {
    get: function (key) { return tx("kv", "readonly", function (s) { return s.get(key); }); },
    put: function (key, value) { return tx("kv", "readwrite", function (s) { return s.put(value, key); }); },
    del: function (key) { return tx("kv", "readwrite", function (s) { return s.delete(key); }); },
    records: function () { return tx("records", "readonly", function (s) { return s.getAll(); }); },
    save: function (record) { return tx("records", "readwrite", function (s) { return s.put(record); }); },
    drop: function (uuid) { return tx("records", "readwrite", function (s) { return s.delete(uuid); }); }
  };

  // ------------------------------------------------------------------ the clock

  // now() is the server's time as best known: the offset measured at the last answer, and
  // a monotonic count since then that only moves forward (performance.now within this
  // page; the persisted high-water mark across pages). A phone clock set forward, or time
  // spent asleep, moves it forward; a phone clock set back does not move it at all. The
  // mark is written every second (localStorage: synchronous, it survives a reload).
  var CLOCK_KEY = "fangkong.guard.clock";
  var clock = { offset: 0, anchor: 0, synced: false, highWater: 0, storedAt: 0 };
  function now() {
    var mono = clock.anchor + performance.now();
    var wall = Date.now() + clock.offset;
    if (wall > mono) {
      clock.anchor = wall - performance.now();
      mono = wall;
    }
    if (Math.abs(mono - clock.storedAt) >= 1000) storeClock(mono);
    return mono;
  }
  function storeClock(at) {
    clock.storedAt = at;
    clock.highWater = Math.max(clock.highWater, at);
    try {
      localStorage.setItem(CLOCK_KEY, JSON.stringify(
        { offset: clock.offset, highWater: clock.highWater, synced: clock.synced }));
    } catch (e) { /* storage full: the mark in memory still holds for this page */ }
  }
  function loadClock() {
    var stored = null;
    try { stored = JSON.parse(localStorage.getItem(CLOCK_KEY) || "null"); } catch (e) { stored = null; }
    if (stored) {
      clock.offset = stored.offset || 0;
      clock.highWater = stored.highWater || 0;
      clock.synced = !!stored.synced;
    }
    clock.anchor = Math.max(Date.now() + clock.offset, clock.highWater) - performance.now();
    return Promise.resolve();
  }
  // The server's Date header (whole seconds) gives its time when it answered; half the
  // round trip and half a second later is our best estimate of its time on arrival.
  function noteServerTime(response, sentAt) {
    var header = response.headers.get("Date");
    var server = header ? Date.parse(header) : NaN;
    if (!isFinite(server)) return;
    var arrived = performance.now();
    var estimate = server + 500 + (arrived - sentAt) / 2;
    clock.offset = estimate - Date.now();
    clock.anchor = estimate - arrived;
    clock.synced = true;
    clock.highWater = estimate; // the server's word replaces the mark, in either direction
    storeClock(estimate);
  }
  // How far the phone's own clock is from the server's: measured at the last answer, or
  // changed since then within this page.
  function driftMs() {
    return Math.max(Math.abs(clock.offset), Math.abs(Date.now() - now()));
  }

  // ------------------------------------------------------------------ the network

  function api(method, url, body, options) {
    options = options || {};
    var sentAt = performance.now();
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller && options.timeout ? setTimeout(function () { controller.abort(); }, options.timeout) : null;
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      redirect: "manual",
      signal: controller ? controller.signal : undefined,
      headers: Object.assign(
        { "Accept": "application/json", "X-CSRFToken": csrf() },
        body ? { "Content-Type": "application/json" } : {},
        options.headers || {}
      ),
      body: body ? JSON.stringify(body) : undefined
    }).then(function (response) {
      if (timer) clearTimeout(timer);
      noteServerTime(response, sentAt);
      if (response.status === 401 || response.status === 403 || response.type === "opaqueredirect") {
        state.loginNeeded = true;
        render();
      } else if (response.ok) {
        state.loginNeeded = false;
      }
      if (response.status === 304) return { status: 304, body: null, headers: response.headers };
      return response.json().catch(function () { return null; }).then(function (data) {
        return { status: response.status, body: data, headers: response.headers };
      });
    }, function (error) {
      if (timer) clearTimeout(timer);
      throw Object.assign(new Error("network"), { network: true, cause: error });
    });
  }
  function failed(result) {
    var error = new Error("status " + result.status);
    error.result = result;
    error.login = result.status === 401 || result.status === 403 || result.status === 0;
    return error;
  }
  function errorText(body) {
    if (!body) return "";
    if (body.detail && typeof body.detail === "object" && !Array.isArray(body.detail)) {
      var parts = [];
      Object.keys(body.detail).forEach(function (key) { parts = parts.concat(body.detail[key]); });
      if (parts.length) return parts.join("；");
    }
    if (Array.isArray(body.detail) && body.detail.length && body.detail[0].message) {
      return body.detail.map(function (d) { return d.message; }).join("；");
    }
    return body.message || "";
  }

  // ------------------------------------------------------------------ lists

  function loadLists() {
    return Promise.all([db.get("trust"), db.get("revoked"), db.get("listsAt")]).then(function (got) {
      state.listsAt = got[2] || 0;
      setRevocations(got[1] || {});
      if (!got[0]) return;
      return FKPass.verifyTrustList(got[0], config.root_key).then(function (list) {
        state.trust = list;
      }, function () { state.trust = null; });
    });
  }
  function setRevocations(stored) {
    state.revoked = {};
    state.versions = {};
    Object.keys(stored).forEach(function (kid) {
      state.revoked[kid] = new Set(stored[kid].hashes);
      state.versions[kid] = stored[kid].version;
    });
  }
  function storedRevocations() {
    var out = {};
    Object.keys(state.revoked).forEach(function (kid) {
      out[kid] = { version: state.versions[kid] || 0, hashes: Array.from(state.revoked[kid]) };
    });
    return out;
  }
  function hashesOf(base64) {
    var raw = atob(base64 || ""), out = [];
    for (var i = 0; i + 32 <= raw.length; i += 32) {
      var hex = "";
      for (var j = i; j < i + 32; j++) hex += (raw.charCodeAt(j) + 256).toString(16).slice(1);
      out.push(hex);
    }
    return out;
  }
  function refreshLists() {
    var headers = state.trust ? { "If-None-Match": '"tl-' + state.trust.version + '"' } : {};
    return api("GET", urls.trust_list, null, { headers: headers }).then(function (result) {
      if (result.status === 304) return state.trust;
      if (result.status !== 200) throw failed(result);
      // A list that fails its check is dropped whole; the one held stays.
      return FKPass.verifyTrustList(result.body, config.root_key).then(function (list) {
        if (state.trust && list.version < state.trust.version) return state.trust;
        return db.put("trust", { jws: list.jws }).then(function () { state.trust = list; return list; });
      });
    }).then(function (list) {
      var kids = Object.keys(list.keys);
      return kids.reduce(function (done, kid) {
        return done.then(function () { return refreshRevocations(kid); });
      }, Promise.resolve());
    }).then(function () {
      state.listsAt = now();
      return Promise.all([db.put("revoked", storedRevocations()), db.put("listsAt", state.listsAt)]);
    });
  }
  function refreshRevocations(kid) {
    var since = state.versions[kid] || 0;
    var url = urls.revocations + "?kid=" + encodeURIComponent(kid) + "&since=" + since;
    return api("GET", url).then(function (result) {
      if (result.status === 304) return;
      if (result.status === 404) return; // a key the server no longer has: nothing revoked
      if (result.status !== 200) throw failed(result);
      var answer = result.body;
      var set = answer.full ? new Set() : (state.revoked[kid] || new Set());
      hashesOf(answer.hashes).forEach(function (hash) { set.add(hash); });
      state.revoked[kid] = set;
      state.versions[kid] = answer.version;
    });
  }
  function refreshPlaces() {
    return Promise.all([api("GET", urls.checkpoints), api("GET", urls.shifts)]).then(function (results) {
      results.forEach(function (result) { if (result.status !== 200) throw failed(result); });
      state.checkpoints = results[0].body;
      state.shifts = results[1].body;
      return db.put("places", { user: config.user, checkpoints: state.checkpoints, shifts: state.shifts });
    }).then(renderPlaces);
  }
  function loadPlaces() {
    return db.get("places").then(function (places) {
      if (places && places.user === config.user) {
        state.checkpoints = places.checkpoints || [];
        state.shifts = places.shifts || [];
      }
      renderPlaces();
    });
  }

  // ------------------------------------------------------------------ today's post

  function currentShift() {
    var t = now(), today = dayOf(t);
    var shifts = state.shifts.map(function (s) {
      return { shift: s, starts: Date.parse(s.starts), ends: Date.parse(s.ends) };
    });
    return shifts.filter(function (s) { return s.starts <= t && t < s.ends; })[0] ||
      shifts.filter(function (s) { return s.ends > t && dayOf(s.starts) === today; })[0] ||
      shifts.filter(function (s) { return s.ends > t; })[0] || null;
  }
  function dayOf(ms) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: config.time_zone }).format(new Date(ms));
  }
  function checkpoint() {
    var id = state.checkpointId;
    return state.checkpoints.filter(function (c) { return c.id === id; })[0] || null;
  }
  function renderPlaces() {
    var shift = currentShift();
    var saved = parseInt(localStorage.getItem("fangkong.guard.checkpoint") || "", 10);
    var ids = state.checkpoints.map(function (c) { return c.id; });
    if (ids.indexOf(state.checkpointId) < 0) {
      state.checkpointId = shift && ids.indexOf(shift.shift.checkpoint_id) >= 0 ? shift.shift.checkpoint_id
        : ids.indexOf(saved) >= 0 ? saved : ids.length ? ids[0] : null;
    }
    var post = $("g-post");
    if (shift) {
      var s = shift.shift;
      var label = shift.starts <= now() || dayOf(shift.starts) === dayOf(now()) ? T.todays_post : T.next_shift;
      post.textContent = label + "：" + s.site_name + " " + s.checkpoint_name + " · " + s.post_name + " " +
        hm(shift.starts) + "–" + hm(shift.ends);
    } else {
      post.textContent = state.checkpoints.length ? T.no_shift : "";
    }
    var select = $("g-checkpoint");
    select.innerHTML = "";
    state.checkpoints.forEach(function (c) {
      var option = document.createElement("option");
      option.value = c.id;
      option.textContent = c.site_name + " " + c.name;
      option.selected = c.id === state.checkpointId;
      select.appendChild(option);
    });
    $("g-checkpoint-field").hidden = state.checkpoints.length < 2 && !!shift;
  }

  // ------------------------------------------------------------------ the queue

  function payload(record) {
    return {
      client_uuid: record.uuid,
      checkpoint_id: record.checkpoint_id,
      direction: record.direction,
      verdict: record.verdict,
      reason: record.reason,
      at: record.at,
      pass_id_hash: record.pass_id_hash,
      temperature: record.temperature,
      plate: record.plate,
      disinfected: record.disinfected,
      cargo: record.cargo
    };
  }
  // A record leaves the queue only when the server answered for it: created, duplicate
  // (sent before), or its UUID already stored (by this scan's own live check, which may
  // have named the holder otherwise). UUIDs are random: nobody else holds them.
  function answered(result) {
    return result.status === "created" || result.status === "duplicate" ||
      (result.status === "rejected" && result.error && result.error.code === "key_reused");
  }
  function sendBatch(records) {
    return api("POST", urls.scans, { scans: records.map(payload) }).then(function (result) {
      if (result.status === 422 && records.length > 1) {
        // One record the server cannot read must not hold the others back.
        return records.reduce(function (done, record) {
          return done.then(function () { return sendBatch([record]); });
        }, Promise.resolve());
      }
      if (result.status === 422) return markRejected(records[0], errorText(result.body));
      if (result.status !== 200) throw failed(result);
      return result.body.results.reduce(function (done, answer) {
        return done.then(function () {
          if (answered(answer)) return db.drop(answer.client_uuid);
          var record = records.filter(function (r) { return r.uuid === answer.client_uuid; })[0];
          if (record) return markRejected(record, errorText(answer.error));
        });
      }, Promise.resolve());
    });
  }
  function markRejected(record, message) {
    record.rejected = message || "?";
    return db.save(record);
  }
  function sendQueue() {
    return db.records().then(function (records) {
      var mine = records.filter(function (r) {
        return r.user === config.user && !r.rejected && !state.inFlight[r.uuid];
      });
      mine.sort(function (a, b) { return a.created - b.created; });
      var batches = [];
      for (var i = 0; i < mine.length; i += BATCH) batches.push(mine.slice(i, i + BATCH));
      return batches.reduce(function (done, batch) {
        return done.then(function () { return sendBatch(batch); });
      }, Promise.resolve());
    }).then(countWaiting);
  }
  function countWaiting() {
    return db.records().then(function (records) {
      var mine = records.filter(function (r) { return r.user === config.user; });
      state.waiting = mine.filter(function (r) { return !r.rejected; }).length;
      state.rejected = mine.filter(function (r) { return r.rejected; });
      render();
      return state.waiting;
    });
  }

  // One sync at a time: the waiting records first, then the lists and the roster.
  function sync(force) {
    if (state.syncing) return state.syncing;
    clearTimeout(state.timer);
    $("g-sync-note").textContent = T.syncing;
    var outcome = "ok";
    state.syncing = sendQueue().then(function () {
      if (force || !state.trust || now() - state.listsAt > LISTS_EVERY_MS) {
        return refreshLists().then(refreshPlaces);
      }
    }).then(function () {
      state.backoff = 0;
      state.lastSync = now();
      $("g-sync-note").textContent = "";
      schedule(state.waiting ? QUEUE_EVERY_MS : LISTS_EVERY_MS);
    }, function (error) {
      outcome = "failed";
      state.backoff = Math.min(state.backoff ? state.backoff * 2 : 5000, BACKOFF_MAX_MS);
      $("g-sync-note").textContent = say(T.sync_failed, { s: Math.round(state.backoff / 1000) });
      schedule(state.backoff);
      if (!error.network && !error.result && window.console) console.error(error);
    }).then(countWaiting).catch(function () { /* the count shows again at the next sync */ }).then(function () {
      state.syncing = null;
      // For whoever watches the page (the browser tests): how many syncs ended, and how.
      document.body.dataset.syncs = String(parseInt(document.body.dataset.syncs || "0", 10) + 1);
      document.body.dataset.syncResult = outcome;
    });
    return state.syncing;
  }
  function schedule(ms) {
    clearTimeout(state.timer);
    state.timer = setTimeout(function () { sync(false); }, ms);
  }

  // ------------------------------------------------------------------ deciding a scan

  function policy() {
    var c = checkpoint();
    return c ? c.policy : null;
  }
  function details() {
    var raw = $("g-temp").value.trim().replace("，", ".").replace(",", ".");
    var temperature = null;
    if (raw) {
      var number = Number(raw);
      if (!isFinite(number) || number < config.temperature[0] || number > config.temperature[1]) {
        return { error: T.temperature };
      }
      temperature = number.toFixed(1);
    }
    var plate = $("g-plate").value.replace(/[\s·•.\-]/g, "").toUpperCase();
    if (plate && !PLATES.some(function (pattern) { return pattern.test(plate); })) return { error: T.plate };
    return {
      temperature: temperature,
      plate: plate,
      disinfected: plate || $("g-disinfected").checked ? $("g-disinfected").checked : null,
      cargo: $("g-cargo").value.trim().slice(0, 200)
    };
  }
  function clearDetails() {
    $("g-temp").value = "";
    $("g-plate").value = "";
    $("g-cargo").value = "";
    $("g-disinfected").checked = false;
  }
  function offlineVerdict(code) {
    var c = checkpoint();
    if (!state.trust) {
      return Promise.resolve({ ok: false, code: "trust_list_expired", detail: "", claims: null, warnings: [], message: T.lists_never });
    }
    return FKPass.verify(code, {
      trustList: state.trust,
      revoked: state.revoked,
      now: now(),
      clockOffset: clock.offset,
      policy: c.policy
    }).then(function (verdict) {
      verdict.message = verdict.ok ? "" : (config.details[verdict.detail] || config.messages[verdict.code] || verdict.message_zh);
      return verdict;
    });
  }
  // The site's fever rule, applied on entry as the server applies it.
  function feverRefusal(record) {
    var p = policy();
    if (record.direction !== "in" || record.temperature === null || !p) return "";
    if (Number(record.temperature) >= Number(p.fever_threshold)) {
      return say(T.fever, { t: record.temperature, threshold: p.fever_threshold });
    }
    return "";
  }

  function onCode(text, startedAt) {
    if (state.locked) return Promise.resolve();
    var c = checkpoint();
    if (!c) { $("g-scan-note").textContent = T.choose_checkpoint; return Promise.resolve(); }
    var gate = details();
    if (gate.error) { $("g-scan-note").textContent = gate.error; return Promise.resolve(); }
    var at = now();
    var record = {
      uuid: newUuid(),
      user: config.user,
      created: at,
      at: new Date(at).toISOString(),
      checkpoint_id: c.id,
      direction: state.direction,
      temperature: gate.temperature,
      plate: gate.plate,
      disinfected: gate.disinfected,
      cargo: gate.cargo
    };
    return offlineVerdict(text).then(function (verdict) {
      var fever = verdict.ok ? feverRefusal(record) : "";
      var code = DETAIL_VERDICTS[verdict.detail] || verdict.code;
      record.verdict = fever ? "fever" : code;
      record.reason = (fever || verdict.message || "").slice(0, 255);
      record.pass_id_hash = verdict.claims ? verdict.claims.pass_id_hash : "";
      record.admitted = verdict.ok && !fever;
      // Kept before it is shown: whatever happens next, the scan is on the phone.
      return db.save(record).then(function () {
        clearDetails();
        var shown = {
          seq: ++state.seq,
          admitted: record.admitted,
          reason: record.reason,
          holder: verdict.claims ? verdict.claims.holder : "",
          kind: verdict.claims ? verdict.claims.kind : "",
          online: false,
          direction: record.direction,
          at: at,
          warnings: (verdict.warnings || []).map(function (w) { return config.warnings[w] || ""; }),
          startedAt: startedAt
        };
        state.waiting += 1;
        render();
        if (!state.online) { showVerdict(shown); return; }
        return checkLive(record, text, shown);
      });
    });
  }

  // Online: the server checks the same scan with its current lists and the holder's live
  // status and records it under the same UUID, so it is stored once however it arrives.
  // The code itself is not kept on the phone: the queued record names the pass by its hash.
  function checkLive(record, code, shown) {
    state.inFlight[record.uuid] = true;
    var live = api("POST", urls.pass_scans, {
      client_uuid: record.uuid,
      checkpoint_id: record.checkpoint_id,
      direction: record.direction,
      code: code,
      temperature: record.temperature,
      plate: record.plate,
      disinfected: record.disinfected,
      cargo: record.cargo
    }, { timeout: LIVE_TIMEOUT_MS }).then(function (result) {
      if (result.status !== 200 && result.status !== 201) return null;
      return db.drop(record.uuid).then(function () { return result.body; });
    }).catch(function () { return null; }).then(function (event) {
      delete state.inFlight[record.uuid];
      countWaiting();
      if (!event) schedule(QUEUE_EVERY_MS);
      return event;
    });
    var waited = new Promise(function (resolve) { setTimeout(resolve, LIVE_WAIT_MS, "waited"); });
    return Promise.race([live, waited]).then(function (first) {
      if (first && first !== "waited") { showVerdict(liveShown(shown, first)); return; }
      showVerdict(shown);
      return live.then(function (event) {
        if (!event) return;
        var updated = liveShown(shown, event);
        var screen = $("g-verdict");
        if (!screen.hidden && screen.dataset.seq === String(shown.seq)) showVerdict(updated);
        else if (!event.admitted && shown.admitted) showVerdict(updated); // a refusal must be seen
      });
    });
  }
  function liveShown(shown, event) {
    return Object.assign({}, shown, {
      admitted: event.admitted,
      reason: event.admitted ? "" : (event.reason || event.verdict_label),
      holder: shown.holder || event.holder_masked,
      kind: shown.kind || (event.kind === "person" || event.kind === "vehicle" || event.kind === "visitor" ? event.kind : ""),
      online: true
    });
  }

  // ------------------------------------------------------------------ the verdict screen

  var audio = null;
  function beep(admitted) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var tones = admitted ? [880, 1320] : [330, 220];
      tones.forEach(function (hz, i) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        var start = audio.currentTime + i * 0.18;
        osc.frequency.value = hz;
        osc.type = admitted ? "sine" : "square";
        gain.gain.setValueAtTime(0.25, start);
        gain.gain.exponentialRampToValueAtTime(0.001, start + 0.16);
        osc.connect(gain).connect(audio.destination);
        osc.start(start);
        osc.stop(start + 0.17);
      });
    } catch (e) { /* no sound here: the screen and the vibration still say it */ }
    if (navigator.vibrate) navigator.vibrate(admitted ? [120] : [300, 100, 300]);
  }
  var hideTimer = null;
  function showVerdict(shown) {
    var screen = $("g-verdict");
    var again = screen.dataset.seq === String(shown.seq);
    screen.dataset.state = shown.admitted ? "ok" : "refused";
    screen.dataset.source = shown.online ? "online" : "offline";
    screen.dataset.seq = String(shown.seq);
    $("g-verdict-title").textContent = shown.admitted ? T.admitted : T.refused;
    $("g-verdict-reason").textContent = shown.admitted ? "" : shown.reason;
    $("g-verdict-holder").textContent = shown.holder || "";
    $("g-verdict-kind").textContent = shown.kind ? (config.kinds[shown.kind] || "") : "";
    $("g-verdict-source").textContent = shown.online ? T.online_check : T.offline_check;
    $("g-verdict-time").textContent = secondsFormat.format(new Date(shown.at)) + " " +
      (shown.direction === "in" ? config.directions["in"] : config.directions.out);
    $("g-verdict-warnings").textContent = shown.warnings.filter(Boolean).join(" ");
    screen.hidden = false;
    if (shown.startedAt !== undefined && !again) {
      screen.dataset.ms = (performance.now() - shown.startedAt).toFixed(1);
      requestAnimationFrame(function () {
        screen.dataset.paintedMs = (performance.now() - shown.startedAt).toFixed(1);
      });
    }
    if (!again) beep(shown.admitted);
    clearTimeout(hideTimer);
    hideTimer = setTimeout(hideVerdict, shown.admitted ? 4000 : 8000);
  }
  function hideVerdict() {
    clearTimeout(hideTimer);
    $("g-verdict").hidden = true;
  }

  // ------------------------------------------------------------------ reading codes

  var canvas = document.createElement("canvas");
  var context2d = canvas.getContext("2d", { willReadFrequently: true });
  function decodeImage(source, width, height, maxSide, attempts) {
    var scale = Math.min(1, maxSide / Math.max(width, height));
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    context2d.drawImage(source, 0, 0, canvas.width, canvas.height);
    var pixels = context2d.getImageData(0, 0, canvas.width, canvas.height);
    var found = jsQR(pixels.data, pixels.width, pixels.height, { inversionAttempts: attempts });
    return found ? found.data : null;
  }
  function onFile(event) {
    var startedAt = performance.now();
    var file = event.target.files && event.target.files[0];
    if (!file) return;
    $("g-scan-note").textContent = "";
    createImageBitmap(file).then(function (bitmap) {
      var text = decodeImage(bitmap, bitmap.width, bitmap.height, 1280, "attemptBoth");
      if (bitmap.close) bitmap.close();
      event.target.value = "";
      if (text === null) { $("g-scan-note").textContent = T.no_code; return; }
      return onCode(text, startedAt);
    }).catch(function () {
      event.target.value = "";
      $("g-scan-note").textContent = T.no_code;
    });
  }
  var camera = { stream: null, last: "", lastAt: 0, busy: false };
  function startCamera() {
    if (camera.stream) return;
    var video = $("g-video");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      $("g-scan-note").textContent = T.camera_failed;
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (stream) {
      camera.stream = stream;
      video.srcObject = stream;
      video.hidden = false;
      $("g-camera").hidden = true;
      $("g-scan-note").textContent = T.camera_on;
      return video.play().then(function () { setTimeout(frame, 100); });
    }).catch(function () {
      $("g-scan-note").textContent = T.camera_failed;
    });
  }
  function frame() {
    var video = $("g-video");
    if (!camera.stream) return;
    var idle = !state.locked && $("g-verdict").hidden && !document.hidden && !camera.busy;
    if (idle && video.readyState >= 2 && video.videoWidth) {
      var startedAt = performance.now();
      var text = decodeImage(video, video.videoWidth, video.videoHeight, 720, "dontInvert");
      var t = performance.now();
      if (text !== null && (text !== camera.last || t - camera.lastAt > SAME_CODE_MS)) {
        camera.last = text;
        camera.lastAt = t;
        camera.busy = true;
        onCode(text, startedAt).then(function () { camera.busy = false; }, function () { camera.busy = false; });
      }
    }
    setTimeout(frame, 120);
  }

  // ------------------------------------------------------------------ manual entry

  function onManual(event) {
    event.preventDefault();
    var note = $("g-manual-note");
    var c = checkpoint();
    if (!state.online) { note.textContent = T.manual_offline; return; }
    if (!c) { note.textContent = T.choose_checkpoint; return; }
    var gate = details();
    if (gate.error) { note.textContent = gate.error; return; }
    var idNumber = $("g-id-number").value.trim().toUpperCase();
    if (!idNumber && !gate.plate) { note.textContent = T.manual_needs; return; }
    note.textContent = T.syncing;
    var startedAt = performance.now();
    api("POST", urls.manual, {
      client_uuid: newUuid(),
      checkpoint_id: c.id,
      direction: state.direction,
      id_number: idNumber,
      plate: gate.plate,
      temperature: gate.temperature,
      disinfected: gate.disinfected,
      cargo: gate.cargo
    }, { timeout: LIVE_TIMEOUT_MS }).then(function (result) {
      if (result.status !== 200 && result.status !== 201) {
        note.textContent = errorText(result.body) || T.sync_failed;
        return;
      }
      note.textContent = "";
      $("g-id-number").value = "";
      clearDetails();
      var event = result.body;
      showVerdict({
        seq: ++state.seq,
        admitted: event.admitted,
        reason: event.admitted ? "" : (event.reason || event.verdict_label),
        holder: event.holder_masked,
        kind: event.kind,
        online: true,
        direction: event.direction,
        at: Date.parse(event.at),
        warnings: [],
        startedAt: startedAt
      });
    }, function () { note.textContent = T.manual_offline; });
  }

  // ------------------------------------------------------------------ what the screen says

  function render() {
    var net = $("g-net");
    net.dataset.online = state.online ? "1" : "0";
    net.textContent = state.online ? T.online : T.offline;
    var queue = $("g-queue");
    queue.dataset.count = String(state.waiting);
    queue.textContent = state.waiting ? say(T.waiting, { n: state.waiting }) : T.all_sent;
    var rejected = $("g-rejected");
    rejected.hidden = !state.rejected.length;
    if (state.rejected.length) {
      rejected.textContent = say(T.rejected, { n: state.rejected.length, message: state.rejected[0].rejected });
    }
    $("g-login").hidden = !state.loginNeeded;
    renderClock();
  }
  function renderClock() {
    var t = now();
    var lists = $("g-lists");
    if (!state.trust) {
      lists.hidden = false;
      lists.className = "g-banner red";
      lists.dataset.level = "red";
      lists.textContent = T.lists_never;
    } else if (t >= state.trust.valid_until * 1000) {
      lists.hidden = false;
      lists.className = "g-banner red";
      lists.dataset.level = "red";
      lists.textContent = config.messages.trust_list_expired;
    } else if (t - state.listsAt >= AMBER_AFTER_MS) {
      lists.hidden = false;
      lists.className = "g-banner amber";
      lists.dataset.level = "amber";
      var expiring = t > (state.trust.valid_until - 24 * 3600) * 1000 ? " " + config.warnings.trust_list_expiring : "";
      lists.textContent = say(T.lists_age, { age: duration(t - state.listsAt) }) + expiring;
    } else {
      lists.hidden = true;
      lists.dataset.level = "";
    }
    var drift = driftMs();
    var driftBanner = $("g-drift");
    driftBanner.hidden = !clock.synced || drift <= DRIFT_MS;
    driftBanner.textContent = say(T.drift, { minutes: Math.round(drift / 60000) });
    $("g-synced").textContent = state.listsAt ? say(T.lists_fresh, { time: hm(state.listsAt) }) : T.never_synced;
  }

  // ------------------------------------------------------------------ the PIN

  function derive(pin, salt, iterations) {
    var enc = new TextEncoder();
    return crypto.subtle.importKey("raw", enc.encode(pin), "PBKDF2", false, ["deriveBits"]).then(function (key) {
      return crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: iterations }, key, 256);
    }).then(function (bits) { return toHex(new Uint8Array(bits)); });
  }
  var pin = { stored: null, first: "", failures: 0, until: 0 };
  function lock(mode) {
    state.locked = true;
    pin.first = "";
    var screen = $("g-lock");
    screen.hidden = false;
    screen.dataset.mode = mode;
    $("g-pin-title").textContent = mode === "set" ? T.pin_set : T.pin_enter;
    $("g-pin-note").textContent = "";
    $("g-pin-forgot").hidden = mode === "set";
    $("g-pin").value = "";
    $("g-pin").focus();
  }
  function unlock() {
    state.locked = false;
    $("g-lock").hidden = true;
    seen();
  }
  function onPin(event) {
    event.preventDefault();
    var screen = $("g-lock"), note = $("g-pin-note"), input = $("g-pin");
    var value = input.value.trim();
    input.value = "";
    if (!/^[0-9]{4,6}$/.test(value)) { note.textContent = T.pin_digits; return; }
    if (screen.dataset.mode === "set") {
      if (!pin.first) {
        pin.first = value;
        $("g-pin-title").textContent = T.pin_repeat;
        note.textContent = "";
        return;
      }
      if (value !== pin.first) {
        pin.first = "";
        $("g-pin-title").textContent = T.pin_set;
        note.textContent = T.pin_mismatch;
        return;
      }
      var salt = crypto.getRandomValues(new Uint8Array(16));
      derive(value, salt, PIN_ITERATIONS).then(function (hash) {
        pin.stored = { user: config.user, salt: toHex(salt), iterations: PIN_ITERATIONS, hash: hash };
        return db.put("pin", pin.stored);
      }).then(unlock);
      return;
    }
    var wait = pin.until - Date.now();
    if (wait > 0) { note.textContent = say(T.pin_wait, { s: Math.ceil(wait / 1000) }); return; }
    var salt2 = new Uint8Array(pin.stored.salt.match(/../g).map(function (h) { return parseInt(h, 16); }));
    derive(value, salt2, pin.stored.iterations).then(function (hash) {
      if (hash === pin.stored.hash) { pin.failures = 0; unlock(); return; }
      pin.failures += 1;
      if (pin.failures % 5 === 0) {
        pin.until = Date.now() + 30000 * (pin.failures / 5);
        note.textContent = say(T.pin_wait, { s: 30 * (pin.failures / 5) });
      } else {
        note.textContent = T.pin_wrong;
      }
    });
  }
  function onForgot() {
    if (!state.online) { $("g-pin-note").textContent = T.forgot_offline; return; }
    // A new password log-in sets a new PIN; the records stay queued for this account.
    db.del("pin").then(function () {
      var form = document.createElement("form");
      form.method = "post";
      form.action = urls.logout;
      var token = document.createElement("input");
      token.type = "hidden";
      token.name = "csrfmiddlewaretoken";
      token.value = csrf();
      form.appendChild(token);
      var next = document.createElement("input");
      next.type = "hidden";
      next.name = "next";
      next.value = urls.login;
      form.appendChild(next);
      document.body.appendChild(form);
      form.submit();
    });
  }
  // The phone slept (the page hidden) for more than two minutes: ask for the PIN.
  function seen() { localStorage.setItem("fangkong.guard.seen", String(Date.now())); }
  function away() {
    var last = parseInt(localStorage.getItem("fangkong.guard.seen") || "0", 10);
    var gone = Date.now() - last;
    return gone > LOCK_AFTER_MS || gone < -LOCK_AFTER_MS;
  }
  var hiddenAt = null;
  function onVisibility() {
    if (document.hidden) {
      hiddenAt = performance.now();
      seen();
      return;
    }
    var slept = hiddenAt !== null && performance.now() - hiddenAt > LOCK_AFTER_MS;
    hiddenAt = null;
    if (pin.stored && !state.locked && (slept || away())) lock("enter");
    else if (!state.locked) seen();
    if (state.online) sync(false);
  }

  // ------------------------------------------------------------------ start

  function setDirection(direction) {
    state.direction = direction;
    localStorage.setItem("fangkong.guard.direction", direction);
    Array.prototype.forEach.call(document.querySelectorAll(".g-direction button"), function (button) {
      button.setAttribute("aria-pressed", button.dataset.direction === direction ? "true" : "false");
    });
  }
  function wire() {
    $("g-file").addEventListener("change", onFile);
    $("g-camera").addEventListener("click", startCamera);
    $("g-verdict").addEventListener("click", hideVerdict);
    $("g-sync").addEventListener("click", function () { sync(true); });
    $("g-manual-form").addEventListener("submit", onManual);
    $("g-pin-form").addEventListener("submit", onPin);
    $("g-pin-forgot").addEventListener("click", onForgot);
    $("g-checkpoint").addEventListener("change", function (event) {
      state.checkpointId = parseInt(event.target.value, 10);
      localStorage.setItem("fangkong.guard.checkpoint", String(state.checkpointId));
    });
    Array.prototype.forEach.call(document.querySelectorAll(".g-direction button"), function (button) {
      button.addEventListener("click", function () { setDirection(button.dataset.direction); });
    });
    window.addEventListener("pagehide", function () { storeClock(now()); });
    window.addEventListener("online", function () { state.online = true; render(); sync(true); });
    window.addEventListener("offline", function () { state.online = false; render(); });
    document.addEventListener("visibilitychange", onVisibility);
    ["pointerdown", "keydown"].forEach(function (name) {
      document.addEventListener(name, function () { if (!state.locked) seen(); }, { passive: true });
    });
    setInterval(function () { if (!document.hidden && !state.locked) seen(); renderClock(); }, 10000);
  }
  function start() {
    wire();
    setDirection(state.direction === "out" ? "out" : "in");
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(urls.sw, { scope: urls.app }).catch(function () {});
    }
    Promise.all([loadClock(), db.get("pin")]).then(function (got) {
      pin.stored = got[1] && got[1].user === config.user ? got[1] : null;
      if (!pin.stored) lock("set");
      else if (away()) lock("enter");
      else seen();
      return Promise.all([loadLists(), loadPlaces()]);
    }).then(countWaiting).then(function () {
      document.body.dataset.ready = "1";
      if (state.online) sync(true);
    });
  }
  start();
})();
