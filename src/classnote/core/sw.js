// classnote service worker: the offline shell (docs/architecture.md, "Offline shell").
// Served at /sw.js by core/pwa.py, which puts `const CLASSNOTE = {...}` in front of this file:
// version (from the static files' contents, so a deploy replaces the caches), precache (the app's
// CSS, JS and icons), offline (the offline page), staticUrl, keepHeader, keepSeconds (the longest
// session: a kept page is not shown after it).
//
// Static files: cache first. Pages: network first; after a short wait, or without a network, the
// copy kept of that page, else the offline page. Only same-origin GET navigations to pages the
// server marked (keepHeader) are kept; POSTs, the API, event streams, files and account pages go to
// the network untouched. Kept pages hold pupils' work: they are deleted at logout and at any login.
"use strict";
/* global CLASSNOTE */

const STATIC_CACHE = `classnote-static-${CLASSNOTE.version}`;
const PAGE_CACHE = "classnote-pages";
const NETWORK_WAIT_MS = 4000;
const SAVED_AT = "X-Classnote-Saved-At";
// Never kept, whatever the server says (a second wall behind keepHeader).
const NEVER = /^\/(api|events|accounts|login|settings|privacy|audit|requests|complaints|incidents|operator|statistics|files|users|municipalities|schools)(\/|$)|\.(zip|csv|pdf)$|^\/(sw\.js|manifest\.webmanifest|healthz|readyz)$/;
// A navigation here means the person at the tablet may change: the kept pages go.
const SESSION_CHANGE = /^\/(accounts\/login|accounts\/logout|login|settings\/logout-everywhere)(\/|$)/;

// Which window was given a kept copy, and of when (offline.js asks, to say so in its banner).
const copies = new Map();

const clearPages = () => caches.delete(PAGE_CACHE);

async function cacheOfflinePage(cache) {
  const response = await fetch(CLASSNOTE.offline, { credentials: "same-origin", cache: "reload" });
  if (response.ok) await cache.put(CLASSNOTE.offline, response);
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(STATIC_CACHE);
    await cache.addAll(CLASSNOTE.precache.map((url) => new Request(url, { cache: "reload" })));
    await cacheOfflinePage(cache);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      // A new version: old static files go, and the kept pages that point to them.
      if (name !== STATIC_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

function keepable(response) {
  return response.ok && response.type === "basic" && !response.redirected
    && response.headers.get(CLASSNOTE.keepHeader) === "keep"
    && (response.headers.get("Content-Type") || "").startsWith("text/html");
}

async function keep(url, response) {
  const headers = new Headers(response.headers);
  headers.set(SAVED_AT, new Date().toISOString());
  const body = await response.blob();
  const cache = await caches.open(PAGE_CACHE);
  await cache.put(url, new Response(body, { status: response.status, statusText: response.statusText, headers }));
}

async function keptCopy(event) {
  const cache = await caches.open(PAGE_CACHE);
  const copy = await cache.match(event.request.url, { ignoreVary: true });
  if (!copy) return null;
  const savedAt = copy.headers.get(SAVED_AT);
  // Older than the longest session: whoever saw it is logged out by now; nobody sees it again.
  if (!savedAt || Date.now() - Date.parse(savedAt) > CLASSNOTE.keepSeconds * 1000) {
    await cache.delete(event.request.url);
    return null;
  }
  copies.set(event.resultingClientId, savedAt);
  return copy;
}

async function offlinePage() {
  const cache = await caches.open(STATIC_CACHE);
  return cache.match(CLASSNOTE.offline, { ignoreVary: true });
}

async function networkFirst(event) {
  const network = fetch(event.request).then(async (response) => {
    if (keepable(response)) await keep(event.request.url, response.clone());
    return response;
  });
  event.waitUntil(network.catch(() => null)); // the copy is renewed even when the kept one was shown
  let waited = null;
  const wait = new Promise((resolve) => { waited = setTimeout(resolve, NETWORK_WAIT_MS, "slow"); });
  try {
    const first = await Promise.race([network, wait]);
    if (first !== "slow") return first;
    // Slow: the kept copy if there is one, else go on waiting for the network.
    return (await keptCopy(event)) || (await network);
  } catch (error) {
    return (await keptCopy(event)) || (await offlinePage()) || Response.error();
  } finally {
    clearTimeout(waited);
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(STATIC_CACHE);
  const hit = await cache.match(request, { ignoreVary: true });
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && SESSION_CHANGE.test(url.pathname)) {
    event.waitUntil(clearPages()); // the network answers, as without a worker
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.startsWith(CLASSNOTE.staticUrl)) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate" && !NEVER.test(url.pathname)) {
    event.respondWith(networkFirst(event));
  }
});

async function refreshOfflinePage(language) {
  const cache = await caches.open(STATIC_CACHE);
  const kept = await cache.match(CLASSNOTE.offline, { ignoreVary: true });
  if (!kept || kept.headers.get("Content-Language") !== language) await cacheOfflinePage(cache);
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  const reply = (answer) => { if (event.ports[0]) event.ports[0].postMessage(answer); };
  if (data.type === "clear-pages") {
    event.waitUntil(clearPages().then(() => reply({ cleared: true })));
  } else if (data.type === "copy") {
    const id = event.source && event.source.id;
    reply({ savedAt: copies.get(id) || null });
    copies.delete(id);
  } else if (data.type === "language" && typeof data.language === "string") {
    event.waitUntil(refreshOfflinePage(data.language).catch(() => null));
  }
});
