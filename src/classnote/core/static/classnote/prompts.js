// classnote "lesson started" prompt (a pupil's home and class page): one event stream per class
// followed; a lesson that starts appears with "join", one that ends goes, both announced politely.
// Titles are inserted with textContent, never as HTML.
"use strict";

(() => {
  const root = document.querySelector("[data-lesson-prompts]");
  if (!root) return;
  const list = root.querySelector("[data-prompt-list]");
  const empty = root.querySelector("[data-prompt-empty]");
  const announce = root.querySelector("[data-prompt-announce]");
  const template = document.getElementById("lesson-prompt");
  // Events carry ids, not URLs: the page says where a lesson lives ("/lessons/0/").
  const lessonUrl = (id) => root.dataset.lessonUrl.replace("/0/", `/${encodeURIComponent(id)}/`);

  function say(prefix, title) {
    if (announce) announce.textContent = `${prefix} ${title}`;
  }

  function showEmpty() {
    if (empty) empty.hidden = list.children.length > 0;
  }

  function started(data, className) {
    const id = String(data.lesson_id);
    if (list.querySelector(`[data-lesson-id="${CSS.escape(id)}"]`)) return; // exactly once
    const item = template.content.firstElementChild.cloneNode(true);
    item.dataset.lessonId = id;
    item.querySelector(".prompt-title").textContent = data.title || "";
    item.querySelector(".prompt-class").textContent = className || "";
    item.querySelector("a").href = lessonUrl(id);
    list.prepend(item);
    showEmpty();
    say(root.dataset.announceStarted, data.title || "");
  }

  function ended(data) {
    const item = list.querySelector(`[data-lesson-id="${CSS.escape(String(data.lesson_id))}"]`);
    if (!item) return;
    const title = item.querySelector(".prompt-title").textContent;
    item.remove();
    showEmpty();
    say(root.dataset.announceEnded, title);
  }

  function follow(marker) {
    const className = marker.dataset.className;
    const lockEvent = (event, kind) =>
      document.dispatchEvent(new CustomEvent("classnote:screen-lock", { detail: { kind, ...(event.data || {}) } }));
    // Too many open windows: this one stops following; a reload shows the lessons open now.
    window.ClassnoteStream.follow(marker.dataset.promptStream, marker.dataset.since, {
      "lesson.started": (event) => started(event.data || {}, className),
      "lesson.ended": (event) => ended(event.data || {}),
      // "Eyes on me": the class's locks and unlocks go to lock.js (the overlay), which has no stream here.
      "lesson.locked": lockEvent,
      "lesson.unlocked": lockEvent,
    });
  }

  root.querySelectorAll("[data-prompt-stream]").forEach(follow);
})();
