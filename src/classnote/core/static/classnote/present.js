"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const slides = [...document.querySelectorAll("[data-slides] .slide")];
  const counter = document.querySelector("[data-counter]");
  let current = 0;
  const show = (index) => {
    current = Math.max(0, Math.min(slides.length - 1, index));
    slides.forEach((slide, i) => slide.classList.toggle("is-current", i === current));
    if (counter) counter.textContent = `${current + 1} / ${slides.length}`;
  };
  document.querySelector("[data-prev]").addEventListener("click", () => show(current - 1));
  document.querySelector("[data-next]").addEventListener("click", () => show(current + 1));
  document.addEventListener("keydown", (event) => {
    if (event.key === "ArrowRight" || event.key === " ") show(current + 1);
    if (event.key === "ArrowLeft") show(current - 1);
  });
  let startX = null;
  document.addEventListener("pointerdown", (event) => { startX = event.clientX; });
  document.addEventListener("pointerup", (event) => {
    if (startX !== null && Math.abs(event.clientX - startX) > 60) show(current + (event.clientX < startX ? 1 : -1));
    startX = null;
  });
  if (document.documentElement.requestFullscreen) {
    document.body.addEventListener("dblclick", () => document.documentElement.requestFullscreen().catch(() => {}));
  }
  show(0);
});
