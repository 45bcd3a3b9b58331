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
