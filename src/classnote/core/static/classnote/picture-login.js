// The pupil login's picture pad (accounts/student_login.html): each tapped picture adds its name to
// the password field, so a picture password is sent as the words the server hashes
// (classnote.accounts.credentials). Buttons, so a keyboard works too (Tab, then Enter or Space).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-picture-login]");
  const pad = form && form.querySelector("[data-picture-pad]");
  const field = form && form.querySelector("input[name=password]");
  if (!pad || !field) return;
  const count = pad.querySelector("[data-picture-count]");
  const words = () => field.value.split(/\s+/).filter(Boolean);
  const show = () => {
    const n = words().length;
    count.textContent = n ? pad.dataset.msgCount.replace("{count}", String(n)) : "";
  };
  for (const button of pad.querySelectorAll("[data-picture]")) {
    button.addEventListener("click", () => {
      field.value = [...words(), button.dataset.picture].join(" ");
      show();
    });
  }
  pad.querySelector("[data-picture-clear]").addEventListener("click", () => {
    field.value = "";
    show();
    field.focus();
  });
  field.addEventListener("input", show);
  pad.hidden = false;
  show();
});
