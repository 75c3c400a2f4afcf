// Préau's service worker: the app shell cached at install; the last seen planning, wallet and
// menu pages kept for reading offline (network first, the copy only when the network fails).
// Bookings are never queued: posts go to the network or fail, and the page says so.
"use strict";
const VERSION = "{{ version }}";
const SHELL_CACHE = "preau-shell-" + VERSION;
const PAGES_CACHE = "preau-pages-" + VERSION;
const SHELL = {{ shell|safe }};
const KEPT = {{ kept|safe }};
const USER_KEY = "/__preau__/user";  // who the kept pages belong to

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(
    names.filter((name) => name !== SHELL_CACHE && name !== PAGES_CACHE).map((name) => caches.delete(name))
  )).then(() => self.clients.claim()));
});

function kept(url) {
  return KEPT.some((prefix) => url.pathname.startsWith(prefix));
}

function lastKey(url) {
  return "/__preau__/last" + KEPT.find((prefix) => url.pathname.startsWith(prefix));
}

// Kept pages belong to one user: a page of another user (or of nobody) empties them first, so
// someone else on the same device never reads them.
async function remember(request, response) {
  const cache = await caches.open(PAGES_CACHE);
  const user = response.headers.get("Preau-User") || "";
  const previous = await cache.match(USER_KEY);
  if (!previous || (await previous.text()) !== user) {
    for (const key of await cache.keys()) await cache.delete(key);
    await cache.put(USER_KEY, new Response(user));
  }
  const url = new URL(request.url);
  if (!user || !kept(url) || response.status !== 200 || response.redirected) return;
  const headers = new Headers(response.headers);
  headers.set("Preau-Saved-At", new Date().toISOString());
  const body = await response.clone().text();
  const copy = () => new Response(body, {status: 200, headers});
  await cache.put(url.pathname + url.search, copy());
  await cache.put(lastKey(url), copy());
}

async function fromCopy(request) {
  const url = new URL(request.url);
  const cache = await caches.open(PAGES_CACHE);
  let copy = kept(url) && (await cache.match(url.pathname + url.search) || await cache.match(lastKey(url)));
  if (!copy) return (await caches.match("/hors-ligne/")) || Response.error();
  // The page says it is a copy, and from when (site.js shows the banner).
  const html = (await copy.text()).replace('data-saved-at=""', 'data-saved-at="' + copy.headers.get("Preau-Saved-At") + '"');
  return new Response(html, {headers: {"Content-Type": "text/html; charset=utf-8"}});
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/famille/deconnexion/") {
    // Logging out empties the kept pages at once, even before the server answers.
    event.respondWith(caches.delete(PAGES_CACHE).then(() => fetch(request)));
    return;
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).then((response) => {
      event.waitUntil(remember(request, response.clone()));
      return response;
    }, () => fromCopy(request)));
    return;
  }
  if (SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});
