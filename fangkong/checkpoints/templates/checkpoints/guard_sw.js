/* The guard scanner's service worker (docs/guard-app.md).
 *
 * It keeps the app for a shift without network: on install it stores the app's static
 * files and its page in a cache named after their version. The page and the manifest are
 * asked of the network first (the newest page, or the log-in page once the session has
 * ended) and taken from the cache when the network fails, errs or hangs; static files come
 * from the cache. The API is never cached here: the app keeps its lists and its records in
 * IndexedDB. A new version (any asset changed) installs beside the old one, takes over and
 * drops the old cache.
 */
"use strict";
var CACHE = "{{ cache }}";
var PREFIX = "fangkong-guard-";
var SHELL = {{ shell|safe }};
var MANIFEST = {{ manifest|safe }};
var ASSETS = {{ assets|safe }};
var NETWORK_WAIT_MS = 4000;

function usable(response) {
  // The page itself: not a redirect to the log-in page, not an error page.
  return response && response.ok && response.type === "basic" && !response.redirected;
}

function fetchPage(url) {
  return fetch(url, { credentials: "same-origin", redirect: "manual", cache: "no-store" });
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return cache.addAll(ASSETS).then(function () {
        return Promise.all([SHELL, MANIFEST].map(function (url) {
          return fetchPage(url).then(function (response) {
            if (usable(response)) return cache.put(url, response);
          }).catch(function () { /* the page stores itself on its next online visit */ });
        }));
      });
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf(PREFIX) === 0 && name !== CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

// Network first, with a time limit: a network that hangs (the gate at 07:30) must not keep
// the guard waiting when the page is in the cache.
function networkFirst(request, key) {
  return caches.open(CACHE).then(function (cache) {
    var network = fetch(request).then(function (response) {
      if (usable(response)) {
        cache.put(key, response.clone());
        return response;
      }
      if (response.status >= 500) throw new Error("server error " + response.status);
      return response; // the log-in page when the session has ended
    });
    var waited = new Promise(function (resolve) {
      setTimeout(resolve, NETWORK_WAIT_MS);
    }).then(function () { return cache.match(key); });
    var fromCache = function () {
      return cache.match(key).then(function (hit) { return hit || network; });
    };
    return Promise.race([network.catch(fromCache), waited.then(function (hit) {
      return hit || network.catch(fromCache);
    })]);
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === SHELL || url.pathname === MANIFEST) {
    event.respondWith(networkFirst(request, url.pathname));
  } else if (ASSETS.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(url.pathname, { cacheName: CACHE }).then(function (hit) {
      return hit || fetch(request);
    }));
  }
});
