// classnote offline shell, the page's side (the worker is core/sw.js, served at /sw.js):
// registers the worker, says so when the page shown is a copy kept on this device or when the
// connection is lost, and has the kept pages deleted when someone logs out.
"use strict";

(() => {
  if (!("serviceWorker" in navigator)) return;
  const script = document.currentScript;
  const workerUrl = script && script.dataset.worker;
  if (!workerUrl) return;
  const logoutPath = script.dataset.logout;
  navigator.serviceWorker.register(workerUrl, { scope: "/" }).catch(() => { /* no offline copies, nothing else lost */ });

  // Ask the worker; answers null when there is no worker or it does not answer.
  const ask = (message) => new Promise((resolve) => {
    const worker = navigator.serviceWorker.controller;
    if (!worker) return resolve(null);
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(null), 2000);
    channel.port1.onmessage = (event) => { clearTimeout(timer); resolve(event.data); };
    worker.postMessage(message, [channel.port2]);
  });

  // Logging out: the pages kept for this person go (the worker also does so when it sees the
  // logout and any login, in case this message is lost).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !logoutPath) return;
    if (new URL(form.action, window.location.href).pathname !== logoutPath) return;
    const worker = navigator.serviceWorker.controller;
    if (worker) worker.postMessage({ type: "clear-pages" });
  }, true);

  document.addEventListener("DOMContentLoaded", async () => {
    // The offline page is kept in the language of the last page seen.
    const worker = navigator.serviceWorker.controller;
    if (worker && document.documentElement.lang) worker.postMessage({ type: "language", language: document.documentElement.lang });
    const banner = document.querySelector("[data-offline-banner]");
    const messages = document.getElementById("offline-messages");
    const text = (name) => {
      const el = messages && messages.content.querySelector(`[data-msg="${name}"]`);
      return el ? el.textContent.trim() : "";
    };
    const say = (state, message) => {
      if (!banner) return;
      banner.textContent = message || "";
      banner.dataset.state = message ? state : "";
      banner.hidden = !message;
    };
    let copy = false;
    if (document.querySelector("[data-offline-page]")) return; // the offline page says it all itself
    window.addEventListener("offline", () => { if (!copy) say("offline", text("offline")); });
    window.addEventListener("online", () => say("online", copy ? text("online") : ""));
    const answer = await ask({ type: "copy" });
    if (answer && answer.savedAt) {
      copy = true;
      const savedAt = new Date(answer.savedAt);
      const time = savedAt.toLocaleTimeString(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit" });
      say("copy", text("copy").replace("{time}", time));
    } else if (!navigator.onLine) {
      say("offline", text("offline"));
    }
  });
})();
