// classnote "eyes on me": while the teacher locks the screens of a lesson, every page of its pupils
// is covered. The page is rendered covered when it is locked already (base.html: the overlay shown,
// the rest inert); this script follows locks and unlocks live. It opens no stream where the page has
// one: lesson.js (the lesson's channel) and prompts.js (the class's) hand it the events as the
// document event "classnote:screen-lock"; elsewhere (a card, the portfolio) it follows the pupil's
// class channels itself (base.html's [data-lock-stream] markers). On a lock, open drafts are saved
// first (card.js listens for "classnote:flush"), then the overlay covers the page, the rest becomes
// inert and focus moves into it; on the unlock, focus goes back where it was.
"use strict";

(() => {
  const overlay = document.querySelector("[data-screen-lock]");
  if (!overlay) return;
  const box = overlay.querySelector("[data-screen-lock-box]");
  const locks = new Map(); // lesson id -> the timer that lifts the lock when it lapses
  let returnTo = null;

  const rest = () => document.querySelectorAll("body > header, body > main, body > footer");

  function apply() {
    const locked = locks.size > 0;
    if (locked === !overlay.hidden) return;
    if (locked) {
      const active = document.activeElement;
      returnTo = active && active !== document.body && !overlay.contains(active) ? active : null;
      document.dispatchEvent(new CustomEvent("classnote:flush")); // drafts first
      for (const element of rest()) element.inert = true;
      overlay.hidden = false;
      box.focus();
    } else {
      overlay.hidden = true;
      for (const element of rest()) element.inert = false;
      if (returnTo && document.contains(returnTo)) returnTo.focus();
      returnTo = null;
    }
  }

  function lock(lessonId, seconds) {
    clearTimeout(locks.get(lessonId));
    locks.delete(lessonId);
    if (seconds > 0) locks.set(lessonId, setTimeout(() => unlock(lessonId), seconds * 1000)); // a forgotten lock lapses
    apply();
  }

  function unlock(lessonId) {
    clearTimeout(locks.get(lessonId));
    locks.delete(lessonId);
    apply();
  }

  function handle(kind, data) {
    const lessonId = String(data.lesson_id);
    if (kind === "lesson.locked") lock(lessonId, Number(data.seconds) || 0);
    else if (kind === "lesson.unlocked") unlock(lessonId);
  }

  // The state the page was rendered in: "lesson:seconds" pairs.
  for (const pair of (overlay.dataset.locked || "").split(" ").filter(Boolean)) {
    const [lessonId, seconds] = pair.split(":");
    lock(lessonId, Number(seconds) || 0);
  }
  if (!overlay.hidden) box.focus();

  document.addEventListener("classnote:screen-lock", (event) => handle(event.detail.kind, event.detail));

  function follow(marker) {
    let lastId = marker.dataset.since;
    let retryIn = 3000;

    function connect() {
      // EventSource resends Last-Event-ID itself on automatic reconnects; "since" covers the
      // first connection (everything after the state this page was rendered from).
      const source = new EventSource(`${marker.dataset.lockStream}?since=${encodeURIComponent(lastId)}`);
      source.onopen = () => { retryIn = 3000; };
      source.onerror = () => {
        // Refused (401, 404, 503): ask the page itself whether it is still ours before trying again.
        if (source.readyState === EventSource.CLOSED) setTimeout(checkThenConnect, retryIn);
      };
      source.addEventListener("access.ended", () => { source.close(); window.location.reload(); });
      source.addEventListener("stream.closed", () => source.close()); // too many windows: a reload shows the state
      for (const kind of ["lesson.locked", "lesson.unlocked"]) {
        source.addEventListener(kind, (event) => {
          lastId = event.lastEventId || lastId;
          handle(kind, JSON.parse(event.data).data || {});
        });
      }
    }

    async function checkThenConnect() {
      retryIn = Math.min(retryIn * 2, 60000); // 6 s, 12 s, ... a minute at most
      try {
        const response = await fetch(window.location.href, { credentials: "same-origin", method: "HEAD" });
        if (response.redirected || response.status === 403 || response.status === 404) {
          window.location.reload();
          return;
        }
      } catch (error) { /* offline: try the stream again later */ }
      connect();
    }

    connect();
  }

  overlay.querySelectorAll("[data-lock-stream]").forEach(follow);
})();
