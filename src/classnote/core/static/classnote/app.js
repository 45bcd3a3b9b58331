// classnote: small progressive enhancements. No inline scripts anywhere (strict CSP).
"use strict";

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
