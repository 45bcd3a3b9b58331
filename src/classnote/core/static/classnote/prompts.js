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
    let lastId = marker.dataset.since;
    let retryIn = 3000;
    const className = marker.dataset.className;

    function connect() {
      // EventSource resends Last-Event-ID itself on automatic reconnects; "since" covers the
      // first connection (everything after the state this page was rendered from).
      const source = new EventSource(`${marker.dataset.promptStream}?since=${encodeURIComponent(lastId)}`);
      source.onopen = () => { retryIn = 3000; };
      source.onerror = () => {
        // Refused (401, 404, 503): ask the page itself whether it is still ours before trying again.
        if (source.readyState === EventSource.CLOSED) setTimeout(checkThenConnect, retryIn);
      };
      // Access ended (left the class, logged out): reload, so the page shows where the user stands.
      source.addEventListener("access.ended", () => { source.close(); window.location.reload(); });
      // Too many open windows: this one stops following; a reload shows the lessons open now.
      source.addEventListener("stream.closed", () => source.close());
      const on = (kind, handler) => source.addEventListener(kind, (event) => {
        lastId = event.lastEventId || lastId;
        handler(JSON.parse(event.data).data || {});
      });
      on("lesson.started", (data) => started(data, className));
      on("lesson.ended", (data) => ended(data));
      // "Eyes on me": the class's locks and unlocks go to lock.js (the overlay), which has no stream here.
      for (const kind of ["lesson.locked", "lesson.unlocked"]) {
        on(kind, (data) => document.dispatchEvent(new CustomEvent("classnote:screen-lock", { detail: { kind, ...data } })));
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

  root.querySelectorAll("[data-prompt-stream]").forEach(follow);
})();
