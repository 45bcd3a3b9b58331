"use strict";
// The card login page scans a QR login card with the tablet's camera: camera frames are decoded in
// the page by jsQR (vendored in static/classnote/vendor/jsqr/, no other host). A code that holds this
// site's card login URL gives the secret after '#', which is posted as opening the card's URL would
// (app.js); any other code is refused with a message. Without a camera the page stays as it was.
document.addEventListener("DOMContentLoaded", () => {
  const scanner = document.querySelector("[data-card-scanner]");
  const form = document.querySelector("form[data-card-login]");
  const media = navigator.mediaDevices;
  if (!scanner || !form || typeof window.jsQR !== "function" || !media || !media.getUserMedia) return;
  const video = scanner.querySelector("[data-scan-video]");
  const status = scanner.querySelector("[data-scan-status]");
  const start = scanner.querySelector("[data-scan-start]");
  const prefix = `${new URL(form.dataset.cardUrl, window.location.href).href}#`;
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  let stream = null;

  const stop = () => {
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
  };
  const scan = () => {
    if (!stream) return;
    if (video.readyState >= 2 && video.videoWidth > 0) {
      const scale = Math.min(1, 960 / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const frame = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = window.jsQR(frame.data, frame.width, frame.height, { inversionAttempts: "dontInvert" });
      if (code && code.data) {
        if (code.data.startsWith(prefix) && code.data.length > prefix.length) {
          stop();
          status.textContent = "";
          form.elements.token.value = code.data.slice(prefix.length);
          form.submit();
          return;
        }
        status.textContent = scanner.dataset.msgWrong;
      }
    }
    window.setTimeout(scan, 150);
  };

  scanner.hidden = false;
  start.addEventListener("click", async () => {
    try {
      stream = await media.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch {
      status.textContent = scanner.dataset.msgNoCamera;
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    start.hidden = true;
    status.textContent = scanner.dataset.msgPoint;
    await video.play().catch(() => undefined);
    scan();
  });
  window.addEventListener("pagehide", stop);
});
