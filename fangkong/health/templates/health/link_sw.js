/* The personal declaration links' service worker (docs/health-card.md, "Offline").
 *
 * Every personal link opens the same shell, so it is kept once, under the token-free
 * address of the shell, with the page's static files, in a cache named after their
 * version; a new version installs beside the old one and drops it. A navigation to any
 * personal link asks the network first (the answer is the shell with the person's state
 * in it, never kept here) and gets the kept shell when the network fails, errs or hangs;
 * the shell then asks for the link's state. Each link's state is kept per link in a cache
 * of its own (the page writes it there too, static/js/declare.js), so the page shows the
 * person's last known state offline; a copy answered from there carries the header
 * X-Offline-Copy. Submissions are never touched here: the page keeps them in IndexedDB
 * and sends them itself.
 */
"use strict";
var CACHE = "{{ cache }}";
var PREFIX = "fangkong-declare-";
var STATES = {{ states|safe }};
var SHELL = {{ shell|safe }};
var MANIFEST = SHELL + "manifest.webmanifest";
var ASSETS = {{ assets|safe }};
var NETWORK_WAIT_MS = 4000;
var BASE = "^" + SHELL.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "[^/]+/";
var LINK = new RegExp(BASE + "$");
var STATE = new RegExp(BASE + "state$");
var LINK_MANIFEST = new RegExp(BASE + "manifest\\.webmanifest$");

function usable(response) {
  return response && response.ok && response.type === "basic" && !response.redirected;
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return cache.addAll(ASSETS.concat([SHELL]));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf(PREFIX) === 0 && name !== CACHE && name !== STATES;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

// Network first, with a time limit: a network that hangs must not keep the person waiting
// when a copy is kept. ``keep(response)`` stores a good answer; ``copy()`` finds the kept one.
function networkFirst(request, keep, copy) {
  var network = fetch(request).then(function (response) {
    if (usable(response)) {
      keep(response.clone());
      return response;
    }
    if (response.status >= 500) throw new Error("server error " + response.status);
    return response;
  });
  var fromCopy = function () {
    return copy().then(function (hit) { return hit || network; });
  };
  var waited = new Promise(function (resolve) {
    setTimeout(resolve, NETWORK_WAIT_MS);
  }).then(copy);
  return Promise.race([network.catch(fromCopy), waited.then(function (hit) {
    return hit || network.catch(fromCopy);
  })]);
}

function kept(cacheName, key) {
  return caches.open(cacheName).then(function (cache) { return cache.match(key); });
}

function keepAt(cacheName, key) {
  return function (response) {
    caches.open(cacheName).then(function (cache) { return cache.put(key, response); });
  };
}

// The kept state, marked as a copy so that the page can tell an old day's status.
function stateCopy(key) {
  return kept(STATES, key).then(function (hit) {
    if (!hit) return hit;
    return hit.blob().then(function (body) {
      return new Response(body, {
        status: 200,
        headers: { "Content-Type": "application/json", "X-Offline-Copy": "1" }
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var path = url.pathname;
  if (LINK.test(path) && !url.search && request.mode === "navigate") {
    // The network's answer names the person: the shell kept at install stands in for it.
    var opened = networkFirst(request, function () { /* kept: the shell */ }, function () {
      return kept(CACHE, SHELL);
    }).then(function (response) {
      // A link that no longer works keeps nothing on the phone.
      if (response.status === 404) {
        caches.open(STATES).then(function (cache) { return cache.delete(path + "state"); });
      }
      return response;
    });
    event.respondWith(opened);
  } else if (STATE.test(path)) {
    var stored = networkFirst(request, keepAt(STATES, path), function () {
      return stateCopy(path);
    }).then(function (response) {
      // A link that no longer works keeps nothing on the phone.
      if (response.status === 404) {
        caches.open(STATES).then(function (cache) { return cache.delete(path); });
      }
      return response;
    });
    event.respondWith(stored);
  } else if (LINK_MANIFEST.test(path)) {
    event.respondWith(networkFirst(request, keepAt(CACHE, MANIFEST), function () {
      return kept(CACHE, MANIFEST);
    }));
  } else if (ASSETS.indexOf(path) >= 0) {
    event.respondWith(kept(CACHE, path).then(function (hit) { return hit || fetch(request); }));
  }
});
