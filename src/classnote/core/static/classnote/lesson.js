// classnote lesson page: a live event stream (Server-Sent Events) updates the page in place.
// Events carry what the page needs; user text is always inserted with textContent, never as HTML.
"use strict";

(() => {
  const root = document.querySelector("[data-lesson]");
  if (!root) return;
  const role = root.dataset.role;
  const liveState = root.querySelector("[data-live-state]");
  // The live state: a green "Live", or a red "Offline" while the stream is down (the word too,
  // not only the colour).
  const liveText = liveState ? liveState.textContent : "";
  const setLive = (on) => {
    if (!liveState) return;
    liveState.classList.toggle("is-offline", !on);
    if (liveState.dataset.offlineText) liveState.textContent = on ? liveText : liveState.dataset.offlineText;
  };
  // Events carry ids, not URLs: the page says where a card and its picture live ("/cards/0/...").
  const cardLink = (template, id) => template.replace("/0/", `/${encodeURIComponent(id)}/`);
  const cardUrl = (card) => cardLink(root.dataset.cardUrl, card.id);
  const thumbnailUrl = (card) => (card.picture ? cardLink(root.dataset.cardThumbnail, card.id) : "");

  function connect() {
    const lockEvent = (data, kind) => role === "student"
      ? document.dispatchEvent(new CustomEvent("classnote:screen-lock", { detail: { kind, ...data } }))
      : refresh();
    window.ClassnoteStream.follow(root.dataset.stream, root.dataset.since, {
      "cards.received": (event) => role === "student" ? addCards(event.data.mine || []) : null,
      "submission.added": (event) => role === "teacher" ? addSubmission(event.data) : refresh(),
      "pupil.activity": (event) => role === "teacher" ? markActivity(event.data) : null,
      "submission.returned": () => role === "student" ? refresh() : null,
      "shared.updated": () => refresh(),
      "sharing.changed": () => refresh(),
      "box.changed": () => refresh(),
      "lesson.changed": () => refresh(),
      // "Eyes on me": a pupil's page hands the lock to lock.js (the overlay); the teacher's shows the toggle's state.
      "lesson.locked": (event, kind) => lockEvent(event.data, kind),
      "lesson.unlocked": (event, kind) => lockEvent(event.data, kind),
    }, {
      onOpen: () => setLive(true),
      onError: () => setLive(false),
      // Too many open windows of this lesson: this one stops, and says so.
      onClosed: () => {
        setLive(false);
        const notice = root.querySelector("[data-stream-closed]");
        if (notice) notice.hidden = false;
      },
    });
  }

  function addCards(cards) {
    const inbox = root.querySelector("[data-inbox]");
    const template = document.getElementById("card-tile");
    if (!inbox || !template) return;
    const empty = inbox.querySelector("[data-inbox-empty]");
    if (empty) empty.remove();
    for (const card of cards) {
      if (inbox.querySelector(`[data-card-id="${card.id}"]`)) continue; // exactly once
      const tile = template.content.firstElementChild.cloneNode(true);
      tile.href = cardUrl(card);
      tile.dataset.cardId = card.id;
      tile.classList.add(`kind-${card.kind}`, "is-new");
      tile.querySelector("strong").textContent = card.title || "";
      tile.querySelector(".excerpt").textContent = card.excerpt || "";
      if (card.picture) {
        const img = tile.querySelector("img");
        img.src = thumbnailUrl(card);
        img.hidden = false;
      }
      inbox.prepend(tile);
    }
  }

  function addSubmission(data) {
    const box = root.querySelector(`[data-box="${data.box_id}"]`);
    const template = document.getElementById("submission-tile");
    if (!box || !template) return refresh();
    const grid = box.querySelector("[data-submission-grid]");
    const s = data.submission;
    // A resubmission replaces the student's earlier tile.
    for (const old of grid.querySelectorAll(`[data-student-id="${s.student_id}"]`)) old.remove();
    const tile = template.content.firstElementChild.cloneNode(true);
    tile.dataset.submission = s.id;
    tile.id = `submission-${s.id}`; // the roster strip's link to it
    tile.dataset.studentId = s.student_id;
    tile.classList.add("is-new");
    const check = tile.querySelector("[data-tile-check]");
    check.value = s.id;
    check.setAttribute("form", grid.dataset.compareFormId); // the compare form cannot contain the tiles' own forms
    const giveBack = tile.querySelector("[data-return-form]");
    if (giveBack) {
      giveBack.action = cardLink(root.dataset.returnUrl, s.id); // "/submissions/0/return/"
      giveBack.querySelector("[name=idempotency_key]")?.remove(); // one key per form: app.js adds its own
    }
    tile.querySelector("[data-tile-student]").textContent = s.student || "";
    tile.querySelector("[data-tile-link]").href = cardUrl(s.card);
    tile.querySelector("[data-tile-excerpt]").textContent = `${s.card.title} ${s.card.excerpt}`.trim();
    if (s.card.picture) {
      const img = tile.querySelector("[data-tile-thumb]");
      img.src = thumbnailUrl(s.card);
      img.hidden = false;
    }
    if (s.number > 1) tile.querySelector("[data-tile-number]").textContent = `#${s.number}`;
    if (s.late) tile.querySelector("[data-tile-late]").hidden = false;
    grid.append(tile);
    const count = box.querySelector("[data-box-count]");
    if (count) count.textContent = grid.querySelectorAll("[data-submission]").length;
    const chip = box.querySelector(`[data-roster-pupil="${s.student_id}"]`);
    if (chip) {
      setState(chip, "submitted");
      const link = chip.querySelector("[data-roster-link]");
      link.setAttribute("href", `#${tile.id}`);
      chip.querySelector("[data-roster-late]").hidden = !s.late;
    }
  }

  // The roster strip of each box: a pupil's state is a data attribute (the mark and colour follow in
  // CSS), told in words for screen readers; the counts are recounted from the strip itself.
  function setState(chip, state) {
    const strip = chip.closest("[data-roster]");
    if (chip.dataset.state !== state) {
      chip.dataset.state = state;
      chip.classList.remove("is-new");
      void chip.offsetWidth; // restart the "arrived" highlight
      chip.classList.add("is-new");
    }
    const words = chip.querySelector("[data-roster-state]");
    if (words) words.textContent = strip.dataset[`label${state.charAt(0).toUpperCase()}${state.slice(1)}`] || "";
    for (const count of strip.querySelectorAll("[data-roster-count]")) {
      count.textContent = strip.querySelectorAll(`[data-roster-pupil][data-state="${count.dataset.rosterCount}"]`).length;
    }
  }

  // A pupil opened the lesson or started working on a card of it: "working on it" in every box
  // they have not submitted to.
  function markActivity(data) {
    for (const chip of root.querySelectorAll(`[data-roster-pupil="${Number(data.pupil_id)}"]`)) {
      if (data.state === "drafted") chip.dataset.edited = "1";
      if (chip.dataset.state !== "submitted") setState(chip, "drafting");
    }
  }

  // A submitted pupil's name leads to their tile: in view and focused (keyboard users land on it).
  root.addEventListener("click", (event) => {
    const link = event.target.closest("[data-roster-link][href]");
    if (!link) return;
    const tile = document.getElementById(link.getAttribute("href").slice(1));
    if (!tile) return;
    event.preventDefault();
    tile.scrollIntoView({ block: "center", behavior: "smooth" });
    tile.focus({ preventScroll: true });
  });

  // Re-render the page's changing regions from the server (already escaped there).
  let refreshing = null;
  function refresh() {
    if (refreshing) return;
    refreshing = setTimeout(async () => {
      refreshing = null;
      try {
        const response = await fetch(window.location.href, { credentials: "same-origin" });
        if (!response.ok) return;
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        for (const region of root.querySelectorAll("[data-refresh-region], .box, .lesson-head")) {
          const fresh = region.id ? doc.getElementById(region.id) : null;
          if (fresh) region.replaceWith(document.importNode(fresh, true));
        }
      } catch (error) { /* offline: the stream reconnects and we refresh again */ }
    }, 150);
  }

  // Mark tiles the teacher has compared by keeping at most four ticked.
  root.addEventListener("change", (event) => {
    if (!event.target.matches("[data-tile-check]")) return;
    const grid = event.target.closest("[data-submission-grid]");
    const ticked = grid.querySelectorAll("[data-tile-check]:checked");
    if (ticked.length > 4) event.target.checked = false;
  });

  connect();
})();
