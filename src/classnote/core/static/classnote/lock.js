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
    // Too many windows: this one stops following; a reload shows the state.
    const locking = (event, kind) => handle(kind, event.data || {});
    window.ClassnoteStream.follow(marker.dataset.lockStream, marker.dataset.since, {
      "lesson.locked": locking,
      "lesson.unlocked": locking,
    });
  }

  overlay.querySelectorAll("[data-lock-stream]").forEach(follow);
})();
