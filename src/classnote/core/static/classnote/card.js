// classnote card editor: autosave with nothing lost.
// Every edit is first written to this device (localStorage), then sent to the server. Offline,
// a failed request or an expired session keep it here; it is sent when possible (on "online",
// every few seconds, and when the page is opened again after logging in). Each save carries an
// Idempotency-Key, the same one while the same edit is retried (app.js), so a save that was stored
// although its answer was lost is answered again (not refused as a conflict with itself).
"use strict";

(() => {
  // The card page fills the screen below the site's bar (and any message): app.css sizes it with
  // --card-page-top, so the footer with the submit buttons is always on screen.
  const page = document.querySelector("[data-card-page]");
  if (page) {
    const fit = () => {
      page.style.setProperty("--card-page-top", `${Math.round(page.getBoundingClientRect().top + window.scrollY)}px`);
    };
    fit();
    window.addEventListener("resize", fit);
    if (window.ResizeObserver && page.parentElement) new ResizeObserver(fit).observe(document.body);
  }

  const form = document.querySelector("form[data-card-editor]");
  if (!form || form.dataset.editable !== "1") return;
  const cardId = form.dataset.cardId;
  const storageKey = `classnote:draft:${cardId}`;
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const state = document.querySelector("[data-save-state]");
  const texts = {};
  const messages = document.getElementById("card-messages");
  for (const el of messages ? messages.content.querySelectorAll("[data-msg]") : []) texts[el.dataset.msg] = el.textContent;

  let version = Number(form.dataset.version);
  let pending = {};
  let inflight = false;
  let timer = null;
  let drawing = null;
  let surface = null;
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

  // Text fields; the page's heading shows the title as it is typed.
  for (const name of ["title", "text", "link_url"]) {
    const input = form.elements[name];
    if (input) input.addEventListener("input", () => change({ [name]: input.value }));
  }
  const heading = document.querySelector("[data-card-heading]");
  const title = form.elements.title;
  if (heading && title) {
    title.addEventListener("input", () => { heading.textContent = title.value.trim() || heading.dataset.untitled; });
  }
  // Drawing
  const canvas = form.querySelector("canvas[data-drawing]");
  const background = document.querySelector("[data-background-select]");
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
  // Text boxes and stickies on the card (surface.js); on a drawing card they are its text.
  const surfaceRoot = form.querySelector("[data-surface]");
  if (surfaceRoot && surfaceRoot.querySelector("[data-surface-items]") && window.ClassnoteSurface) {
    // At the server's limit of boxes a new one is not made; say why, until one is removed.
    const full = form.querySelector("[data-surface-full]");
    surface = window.ClassnoteSurface.attach(surfaceRoot, {
      items: JSON.parse(document.getElementById("card-items").textContent),
      toolbar: document.getElementById("drawing-toolbar"), drawing,
      messages: document.getElementById("surface-messages"),
      itemUrl: surfaceRoot.querySelector("[data-surface-items]").dataset.itemUrl,
      fileUrl: surfaceRoot.querySelector("[data-surface-items]").dataset.fileUrl,
      onChange: (items) => {
        if (full && items.length < window.ClassnoteSurface.MAX_ITEMS) full.hidden = true;
        change({ items });
      },
    });
    if (full) surfaceRoot.addEventListener("classnote:surface-full", () => { full.hidden = false; });
    setUpPictures(surfaceRoot.querySelector("[data-surface-items]").dataset.uploadUrl);
  }

  // The Picture tool: the pupil chooses a picture, it is uploaded like any file (POST /files/: checked,
  // re-encoded without its metadata, HEIC converted) and placed in the middle of the card.
  function setUpPictures(uploadUrl) {
    const input = form.querySelector("[data-surface-picture]");
    const toolbar = document.getElementById("drawing-toolbar");
    const note = form.querySelector("[data-surface-picture-state]");
    const messages = document.getElementById("surface-messages");
    const say = (key, detail) => {
      if (!note) return;
      const el = messages && messages.content.querySelector(`[data-msg="${key}"]`);
      note.textContent = detail || (el ? el.textContent : "");
      note.hidden = !note.textContent;
    };
    if (!input || !toolbar) return;
    toolbar.addEventListener("click", (event) => {
      const button = event.target.closest("[data-item-action=picture]");
      if (!button || button.disabled) return;
      event.preventDefault();
      input.click();
    });
    input.addEventListener("change", async () => {
      const file = input.files && input.files[0];
      input.value = "";
      if (!file) return;
      const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
      const data = new FormData();
      data.append("csrfmiddlewaretoken", csrf);
      data.append("file", file, file.name);
      say("uploading");
      try {
        const response = await fetch(uploadUrl, {
          method: "POST", credentials: "same-origin", redirect: "manual", body: data,
          headers: { Accept: "application/json", "X-CSRFToken": csrf,
                     "Idempotency-Key": window.ClassnoteIdempotency.newKey() },
        });
        const answer = await response.json().catch(() => ({}));
        if (!response.ok) { say("picture-failed", answer.detail); return; }
        if (answer.kind !== "image") { say("not-picture"); return; }
        say("");
        surface.addPicture(answer);
      } catch (_error) {
        say("picture-failed");
      }
    });
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
      // A draft from before text boxes (the text typed under a drawing) becomes a text box.
      if (surface && typeof pending.text === "string" && pending.items === undefined) {
        const items = surface.getItems();
        if (pending.text.trim() && !items.some((item) => item.t.trim() === pending.text.trim())) {
          items.push({ k: "text", x: 20, y: 20, w: 600, h: 160, t: pending.text.slice(0, 2000), c: "#1d2433" });
        }
        pending.items = items;
      }
      if (surface) delete pending.text;
      if (pending.items && surface) surface.setItems(pending.items);
      if (heading && title && typeof pending.title === "string") heading.textContent = pending.title.trim() || heading.dataset.untitled;
      if (Object.keys(pending).length) { show("saving"); save(); }
    } catch (error) { localStorage.removeItem(storageKey); }
  }

  // Typed before this script ran (a fast pupil, or the browser restoring the form): send it too.
  for (const name of ["title", "text", "link_url"]) {
    const input = form.elements[name];
    if (input && input.value !== input.defaultValue && pending[name] === undefined) change({ [name]: input.value });
  }
  form.dataset.ready = "1";

  // Save now (the draft is on the device already): for a screen lock (lock.js sends "classnote:flush"),
  // a page being left, a submit.
  async function flushNow() {
    clearTimeout(timer);
    persist();
    await save();
    return !Object.keys(pending).length;
  }
  window.classnoteCard = { flushNow };
  document.addEventListener("classnote:flush", () => { flushNow(); });

  window.addEventListener("online", save);
  setInterval(() => { if (Object.keys(pending).length && !inflight) save(); }, 5000);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") save(); });

  // Submitting: send the last edit first, so the snapshot is what the student sees.
  for (const submitForm of document.querySelectorAll("form[data-flush-before-submit]")) {
    submitForm.addEventListener("submit", async (event) => {
      if (!Object.keys(pending).length) return;
      event.preventDefault();
      if (await flushNow()) window.ClassnoteIdempotency.submit(submitForm);
    });
  }
})();
