// classnote card editor: autosave with nothing lost.
// Every edit is first written to this device (localStorage), then sent to the server. Offline,
// a failed request or an expired session keep it here; it is sent when possible (on "online",
// every few seconds, and when the page is opened again after logging in). Each save carries an
// Idempotency-Key, the same one while the same edit is retried (app.js), so a save that was stored
// although its answer was lost is answered again (not refused as a conflict with itself).
"use strict";

(() => {
  const form = document.querySelector("form[data-card-editor]");
  if (!form || form.dataset.editable !== "1") return;
  const cardId = form.dataset.cardId;
  const storageKey = `classnote:draft:${cardId}`;
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const state = form.querySelector("[data-save-state]");
  const texts = {};
  const messages = document.getElementById("card-messages");
  for (const el of messages ? messages.content.querySelectorAll("[data-msg]") : []) texts[el.dataset.msg] = el.textContent;

  let version = Number(form.dataset.version);
  let pending = {};
  let inflight = false;
  let timer = null;
  let drawing = null;
  const saves = {}; // the current save's key (ClassnoteIdempotency.keyFor)

  const show = (key) => { if (state) { state.textContent = texts[key] || ""; state.dataset.state = key; } };
  const persist = () => {
    if (Object.keys(pending).length) localStorage.setItem(storageKey, JSON.stringify({ version, fields: pending }));
    else localStorage.removeItem(storageKey);
  };
  const change = (fields) => {
    Object.assign(pending, fields);
    persist();
    show("saving");
    clearTimeout(timer);
    timer = setTimeout(save, 700);
  };

  async function save() {
    if (inflight || !Object.keys(pending).length) return;
    inflight = true;
    const sending = { ...pending };
    const body = JSON.stringify({ version, fields: sending });
    try {
      const response = await fetch(form.dataset.autosaveUrl, {
        method: "POST", credentials: "same-origin", redirect: "manual",
        headers: {
          "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json",
          "Idempotency-Key": window.ClassnoteIdempotency.keyFor(saves, body),
        },
        body,
      });
      const json = (response.headers.get("Content-Type") || "").includes("json") ? await response.json() : null;
      if (response.ok && json) {
        version = json.version;
        for (const [key, value] of Object.entries(sending)) {
          if (JSON.stringify(pending[key]) === JSON.stringify(value)) delete pending[key];
        }
        persist();
        show(Object.keys(pending).length ? "saving" : "saved");
      } else if (response.status === 409 && json) {
        // Changed on another device: keep this device's edit, based on the newer version.
        version = json.version;
        persist();
        show("conflict");
        setTimeout(save, 200);
      } else if (response.status === 429 || response.status === 503) {
        // Too many writes, or the server is busy: the edit stays on this device and goes later.
        show("saving");
        clearTimeout(timer);
        timer = setTimeout(save, Math.min(Number(response.headers.get("Retry-After")) || 30, 120) * 1000);
      } else if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
        show("login");
      } else {
        show("error");
      }
    } catch (error) {
      show("offline");
    } finally {
      inflight = false;
      if (Object.keys(pending).length && state && state.dataset.state === "saving") timer = setTimeout(save, 300);
    }
  }

  // Text fields
  for (const name of ["title", "text", "link_url"]) {
    const input = form.elements[name];
    if (input) input.addEventListener("input", () => change({ [name]: input.value }));
  }
  // Drawing
  const canvas = form.querySelector("canvas[data-drawing]");
  const background = form.querySelector("[data-background-select]");
  const backgroundUrl = (value) => value ? `${canvas.dataset.backgroundBase}${value}.png` : "";
  if (canvas && window.ClassnoteDrawing) {
    const strokes = JSON.parse(document.getElementById("card-strokes").textContent);
    drawing = window.ClassnoteDrawing.attach(canvas, {
      strokes, background: canvas.dataset.background, backgroundUrl: backgroundUrl(canvas.dataset.background),
      toolbar: document.getElementById("drawing-toolbar"), onChange: (s) => change({ strokes: s }),
    });
    // At the server's limits input stops (drawing.js); say why, until a change makes room again.
    const full = form.querySelector("[data-drawing-full]");
    if (full) {
      canvas.addEventListener("classnote:drawing-full", () => { full.hidden = false; });
      canvas.addEventListener("classnote:drawing-change", () => { full.hidden = true; });
    }
  }
  if (background) {
    background.addEventListener("change", () => {
      change({ background: background.value });
      if (drawing && drawing.setBackground) drawing.setBackground(background.value, backgroundUrl(background.value));
    });
  }

  // Work left on this device by an earlier visit (offline, expired session) is restored and sent.
  const stored = localStorage.getItem(storageKey);
  if (stored) {
    try {
      const draft = JSON.parse(stored);
      pending = draft.fields || {};
      for (const [name, value] of Object.entries(pending)) {
        if (form.elements[name] && typeof value === "string") form.elements[name].value = value;
      }
      if (pending.strokes && drawing && drawing.setStrokes) drawing.setStrokes(pending.strokes);
      if (Object.keys(pending).length) { show("saving"); save(); }
    } catch (error) { localStorage.removeItem(storageKey); }
  }

  // Typed before this script ran (a fast pupil, or the browser restoring the form): send it too.
  for (const name of ["title", "text", "link_url"]) {
    const input = form.elements[name];
    if (input && input.value !== input.defaultValue && pending[name] === undefined) change({ [name]: input.value });
  }
  form.dataset.ready = "1";

  window.addEventListener("online", save);
  setInterval(() => { if (Object.keys(pending).length && !inflight) save(); }, 5000);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") save(); });

  // Submitting: send the last edit first, so the snapshot is what the student sees.
  for (const submitForm of document.querySelectorAll("form[data-flush-before-submit]")) {
    submitForm.addEventListener("submit", async (event) => {
      if (!Object.keys(pending).length) return;
      event.preventDefault();
      clearTimeout(timer);
      await save();
      if (!Object.keys(pending).length) window.ClassnoteIdempotency.submit(submitForm);
    });
  }

  // "Eyes on me" (lock.js): the teacher locks the screens; save the pending edit now, not after the pause.
  document.addEventListener("classnote:flush", () => { clearTimeout(timer); save(); });
})();
