// classnote projector: a box's submissions (or a comparison) shown large on the classroom's screen.
// The page is rendered by the server with or without names (?names=0 holds none); this script only
// moves between the grid and one submission at a time (arrow keys, Home/End, Escape, swipe, buttons),
// turns full screen on and off, and follows new submissions by fetching the page again: the events'
// own data (which name the pupil, for the teacher) is never put into the page.
"use strict";

(() => {
  // Full screen, on both projector pages: a button, shown where the browser has the API.
  const fullscreen = document.querySelector("[data-fullscreen]");
  if (fullscreen && document.documentElement.requestFullscreen && document.fullscreenEnabled !== false) {
    fullscreen.hidden = false;
    const label = () => {
      fullscreen.textContent = document.fullscreenElement ? fullscreen.dataset.leave : fullscreen.dataset.enter;
    };
    fullscreen.addEventListener("click", () => {
      const change = document.fullscreenElement ? document.exitFullscreen() : document.documentElement.requestFullscreen();
      change.catch(() => {});
    });
    document.addEventListener("fullscreenchange", label);
  }

  const root = document.querySelector("[data-projector]");
  if (!root) return;
  const boxId = Number(root.dataset.box);
  const nav = document.querySelector("[data-projector-nav]");
  const counter = nav.querySelector("[data-counter]");
  const prev = nav.querySelector("[data-prev]");
  const next = nav.querySelector("[data-next]");
  const status = document.querySelector("[data-projector-status]");
  const namesToggle = document.querySelector("[data-names-toggle]");
  let current = -1; // -1: the grid; else the index of the submission shown

  const items = () => document.querySelector("[data-projector-items]");
  const grid = () => items().querySelector("[data-projector-grid]");
  const single = () => items().querySelector("[data-projector-single]");
  const slides = () => [...items().querySelectorAll("[data-slide]")];
  const tiles = () => [...items().querySelectorAll("[data-open]")];

  // The position is kept in the address's fragment (#3: the third submission), so "Show names" and
  // a reload come back to the same place.
  function remember() {
    const hash = current < 0 ? "" : `#${current + 1}`;
    history.replaceState(null, "", window.location.pathname + window.location.search + hash);
    if (namesToggle) namesToggle.hash = hash;
  }

  function showGrid(focusIndex) {
    current = -1;
    grid().hidden = false;
    single().hidden = true;
    nav.hidden = true;
    remember();
    const tile = tiles()[focusIndex];
    if (tile) tile.focus();
  }

  function show(index, { focus = true } = {}) {
    const all = slides();
    if (!all.length) return showGrid(-1);
    current = Math.max(0, Math.min(all.length - 1, index));
    all.forEach((slide, i) => { slide.hidden = i !== current; });
    grid().hidden = true;
    single().hidden = false;
    nav.hidden = false;
    counter.textContent = `${current + 1} / ${all.length}`;
    prev.disabled = current === 0;
    next.disabled = current === all.length - 1;
    remember();
    if (focus && !nav.contains(document.activeElement)) single().focus();
  }

  // Clicks: a tile opens its submission; the buttons step, or go back to the grid.
  document.addEventListener("click", (event) => {
    const tile = event.target.closest("[data-open]");
    if (tile) show(Number(tile.dataset.open));
  });
  prev.addEventListener("click", () => show(current - 1));
  next.addEventListener("click", () => show(current + 1));
  nav.querySelector("[data-back]").addEventListener("click", () => showGrid(current));

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
    const last = slides().length - 1;
    if (current >= 0) {
      const to = {
        ArrowRight: current + 1, PageDown: current + 1, ArrowLeft: current - 1, PageUp: current - 1, Home: 0, End: last,
      }[event.key];
      if (to !== undefined) {
        event.preventDefault();
        show(to);
      } else if (event.key === "Escape") {
        event.preventDefault();
        showGrid(current);
      }
      return;
    }
    // The grid: arrows, Home and End move between the tiles (Enter or Space opens one).
    const all = tiles();
    const at = all.indexOf(document.activeElement);
    const to = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1, Home: 0, End: all.length - 1 }[event.key];
    if (to !== undefined && all.length) {
      event.preventDefault();
      all[Math.max(0, Math.min(all.length - 1, at < 0 ? 0 : to))].focus();
    }
  });

  // Swipe (touch, pen or mouse) on the submission shown: left for the next, right for the previous.
  let start = null;
  root.addEventListener("pointerdown", (event) => {
    if (current >= 0 && event.isPrimary && single().contains(event.target)) start = { x: event.clientX, y: event.clientY };
  });
  root.addEventListener("pointerup", (event) => {
    if (!start || current < 0) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    start = null;
    if (Math.abs(dx) > 60 && Math.abs(dx) > Math.abs(dy)) show(current + (dx < 0 ? 1 : -1), { focus: false });
  });
  root.addEventListener("pointercancel", () => { start = null; });
  // A picture dragged with the mouse would start the browser's own drag (and cancel the swipe).
  root.addEventListener("dragstart", (event) => { if (current >= 0) event.preventDefault(); });

  // Live: the lesson's stream says a submission came in; the page is fetched again and its
  // submissions replaced (the one shown stays shown).
  let refreshing = null;
  function refresh() {
    if (refreshing) return;
    refreshing = setTimeout(async () => {
      refreshing = null;
      try {
        const response = await fetch(window.location.pathname + window.location.search, { credentials: "same-origin" });
        if (!response.ok) return;
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = doc.querySelector("[data-projector-items]");
        if (!fresh) return;
        const shown = current >= 0 ? slides()[current]?.dataset.submission : null;
        const focused = document.activeElement?.closest?.("[data-open]")?.dataset.submission;
        const known = new Set(tiles().map((tile) => tile.dataset.submission));
        items().replaceWith(document.importNode(fresh, true));
        const count = document.querySelector("[data-projector-count]");
        const freshCount = doc.querySelector("[data-projector-count]");
        if (count && freshCount) count.textContent = freshCount.textContent;
        for (const tile of tiles()) if (!known.has(tile.dataset.submission)) tile.classList.add("is-new");
        if (status && freshCount) status.textContent = freshCount.textContent;
        if (shown) {
          const index = slides().findIndex((slide) => slide.dataset.submission === shown);
          show(index < 0 ? current : index, { focus: false });
        } else {
          showGrid(-1);
          const again = tiles().find((tile) => tile.dataset.submission === focused);
          if (again) again.focus();
        }
      } catch (error) { /* offline: the stream reconnects and we refresh again */ }
    }, 150);
  }

  function connect() {
    window.ClassnoteStream.follow(root.dataset.stream, root.dataset.since, {
      "submission.added": (event) => { if (event.data && event.data.box_id === boxId) refresh(); },
      // Sharing anonymously (or no longer) changes whether names show, unless ?names= says.
      "sharing.changed": () => refresh(),
    }, {
      onClosed: () => {
        const notice = document.querySelector("[data-stream-closed]");
        if (notice) notice.hidden = false;
      },
    });
  }

  const startAt = Number((window.location.hash.match(/^#(\d+)$/) || [])[1] || 0);
  if (startAt > 0) show(startAt - 1, { focus: false }); // no focus ring on a page just opened
  else showGrid(-1);
  connect();
})();
