// classnote: small progressive enhancements. No inline scripts anywhere (strict CSP).
"use strict";

// Writes the browser retries carry an Idempotency-Key (core/idempotency.py): one key per change,
// the same key on every retry of it, so a write that committed although its answer was lost (a 503
// or 504 from a slow server, a dropped connection) is answered again instead of done twice.
window.ClassnoteIdempotency = (() => {
  const newKey = () => {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    // randomUUID needs a secure context (HTTPS); getRandomValues does not, and older browsers have it.
    const bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) window.crypto.getRandomValues(bytes);
    else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    return `k-${Date.now().toString(36)}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  };
  // The key of an operation: kept while the request is the same, a new one when it changes.
  const keyFor = (holder, body) => {
    if (!holder.attempt || holder.attempt.body !== body) holder.attempt = { body, key: newKey() };
    return holder.attempt.key;
  };
  const FIELD = "idempotency_key";
  const RETRY = new Set([0, 429, 502, 503, 504]); // 0: no answer at all
  const MAX_TRIES = 6;
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const message = (name) => {
    const messages = document.getElementById("write-messages");
    const el = messages && messages.content.querySelector(`[data-msg="${name}"]`);
    return el ? el.textContent : "";
  };
  const say = (form, name) => {
    let state = form.querySelector("[data-write-state]");
    if (!state) {
      state = document.createElement("span");
      state.className = "save-state";
      state.setAttribute("role", "status");
      state.dataset.writeState = "";
      form.append(state);
    }
    state.textContent = message(name);
    state.dataset.state = name;
  };
  const states = new WeakMap();

  // A form sent with its key, retried while the server does not answer; the browser then sends it
  // once more itself (the same key, in the hidden field), which shows the page the write led to:
  // for a write already done, the server answers with the first outcome.
  async function submit(form) {
    const state = states.get(form) || {};
    states.set(form, state);
    if (state.busy) return; // a second press while it is being sent
    const data = new FormData(form);
    data.delete(FIELD);
    const body = new URLSearchParams(data).toString();
    const key = keyFor(state, body);
    let field = form.querySelector(`input[name="${FIELD}"]`);
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = FIELD;
      form.append(field);
    }
    field.value = key;
    state.busy = true;
    const buttons = form.querySelectorAll("button[type=submit], button:not([type])");
    for (const button of buttons) button.disabled = true;
    try {
      for (let tries = 1; ; tries++) {
        let status = 0;
        let retryAfter = 0;
        try {
          const response = await fetch(form.action, {
            method: "POST", credentials: "same-origin", redirect: "manual",
            headers: { "Idempotency-Key": key },
            body: new URLSearchParams(new FormData(form)), // as the browser sends it, key field included
          });
          status = response.type === "opaqueredirect" ? 302 : response.status;
          retryAfter = Number(response.headers.get("Retry-After")) || 0;
        } catch (error) { status = 0; }
        if (!RETRY.has(status)) {
          // Done (or refused): let the browser show where it leads, with the same key.
          for (const button of buttons) button.disabled = false;
          HTMLFormElement.prototype.submit.call(form);
          return;
        }
        if (tries >= MAX_TRIES) break;
        say(form, "retrying");
        await pause(Math.min(retryAfter || 2 ** tries, 30) * 1000);
      }
      say(form, "failed"); // pressing again sends the same change with the same key
    } finally {
      state.busy = false;
      for (const button of buttons) button.disabled = false;
    }
  }

  return { newKey, keyFor, submit, FIELD };
})();

document.addEventListener("DOMContentLoaded", () => {
  // Language selector: submit on change.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  // Confirmation before destructive buttons.
  for (const button of document.querySelectorAll("[data-confirm]")) {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  }
  // Writes that must not happen twice (submit, send, return): sent with an Idempotency-Key and retried.
  // card.js sends its submit forms itself after saving the last edit (it prevents the default first).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-idempotent") || event.defaultPrevented) return;
    event.preventDefault();
    window.ClassnoteIdempotency.submit(form);
  });
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
  // QR login card: the secret is in the fragment (never sent to the server in a URL);
  // post it and remove it from the address bar and history.
  const cardForm = document.querySelector("form[data-card-login]");
  if (cardForm) {
    const token = window.location.hash.slice(1);
    if (token) {
      history.replaceState(null, "", window.location.pathname);
      cardForm.elements.token.value = token;
      cardForm.submit();
    }
  }
});

// Drawings are rendered off the request threads (cards/drawings.py): until a render is stored the
// server sends a 4×3 placeholder. Load such a picture again, a little later each time.
(() => {
  const PLACEHOLDER = [4, 3];
  const MAX_TRIES = 8;
  const retry = (img) => {
    if (img.naturalWidth !== PLACEHOLDER[0] || img.naturalHeight !== PLACEHOLDER[1]) return;
    const tries = Number(img.dataset.renderTries || 0);
    if (tries >= MAX_TRIES) return;
    img.dataset.renderTries = String(tries + 1);
    window.setTimeout(() => {
      const url = new URL(img.currentSrc || img.src, window.location.href);
      url.searchParams.set("try", String(tries + 1));
      img.src = url.pathname + url.search;
    }, Math.min(8000, 1000 * 2 ** tries));
  };
  // Load events do not bubble: listen while they go down (capture), for pictures added later too.
  document.addEventListener("load", (event) => {
    if (event.target instanceof HTMLImageElement) retry(event.target);
  }, true);
  for (const img of document.images) if (img.complete) retry(img);
})();

// Follows one event stream (Server-Sent Events) for a page: the first connection asks for
// everything after the state the page was rendered from ("since"); EventSource resends
// Last-Event-ID itself on its own reconnects. Each handler gets the event's parsed JSON and the
// position is kept, so a reconnect after a refusal resumes where the page stands. The server ends a
// stream whose access ended ("access.ended": reload, so the page shows where the user stands now)
// and stops one window too many ("stream.closed"). Refused (401, 404, 503): the page itself is
// asked whether it is still ours before the stream is tried again, after 6 s, 12 s, ... a minute.
window.ClassnoteStream = (() => {
  const follow = (url, since, handlers, options = {}) => {
    let lastId = since;
    let retryIn = 3000;
    function connect() {
      const source = new EventSource(`${url}?since=${encodeURIComponent(lastId)}`);
      source.onopen = () => { retryIn = 3000; if (options.onOpen) options.onOpen(); };
      source.onerror = () => {
        if (options.onError) options.onError();
        if (source.readyState === EventSource.CLOSED) setTimeout(checkThenConnect, retryIn);
      };
      source.addEventListener("access.ended", () => { source.close(); window.location.reload(); });
      source.addEventListener("stream.closed", () => {
        source.close();
        if (options.onClosed) options.onClosed();
      });
      for (const [kind, handler] of Object.entries(handlers)) {
        source.addEventListener(kind, (event) => {
          lastId = event.lastEventId || lastId;
          handler(JSON.parse(event.data), kind);
        });
      }
    }
    async function checkThenConnect() {
      retryIn = Math.min(retryIn * 2, 60000);
      try {
        const response = await fetch(window.location.href, { credentials: "same-origin", method: "HEAD" });
        if (response.redirected || response.status === 403 || response.status === 404) {
          window.location.reload(); // logged out or no longer in the class: show it
          return;
        }
      } catch (error) { /* offline: try the stream again later */ }
      connect();
    }
    connect();
  };
  return { follow };
})();
