// In-app capture (templates/cards/_capture.html): a photo from the camera, a sound or a video
// recording straight into a new card. The live picture comes from getUserMedia, recordings from
// MediaRecorder; the result is sent as the new-card form (multipart, CSRF token, Idempotency-Key) and
// judged by the server like any upload (files/validation.py, files/media.py). Recordings stop by
// themselves at their longest length and before they outgrow the size limit. Without a camera or
// permission, the plain form with a file input (accept=image/*, capture) takes over.
"use strict";

(() => {
  const AUDIO_TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/mp4", "audio/ogg;codecs=opus"];
  const VIDEO_TYPES = ["video/webm;codecs=vp8,opus", "video/webm", "video/mp4"];
  const RETRY = new Set([0, 429, 502, 503, 504]);
  const MAX_TRIES = 4;
  const PHOTO_LONG_SIDE = 1920;

  const supported = (types) => {
    if (!window.MediaRecorder || typeof MediaRecorder.isTypeSupported !== "function") return "";
    return types.find((type) => MediaRecorder.isTypeSupported(type)) || "";
  };
  const extension = (type, kind) => {
    if (type.includes("ogg")) return "ogg";
    if (type.includes("mp4")) return kind === "audio" ? "m4a" : "mp4";
    return "webm";
  };
  const clock = (seconds) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function setUp(root) {
    const dialog = root.querySelector("[data-capture-dialog]");
    const live = root.querySelector("[data-capture-live]");
    const mic = root.querySelector("[data-capture-mic]");
    const result = root.querySelector("[data-capture-result]");
    const timer = root.querySelector("[data-capture-timer]");
    const status = root.querySelector("[data-capture-status]");
    const heading = root.querySelector("[data-capture-heading]");
    const title = root.querySelector("[data-capture-title]");
    // The capture's own form (on a card), or the new-card form it sits beside (lesson pages,
    // materials box): what is sent, and the fallback with its file input.
    const host = root.closest("[data-capture-host]");
    const form = root.querySelector("[data-capture-form]") || (host && host.querySelector("form[enctype]"));
    const messages = root.querySelector("[data-capture-messages]");
    const action = (name) => dialog.querySelector(`[data-capture-action="${name}"]`);
    const text = (name) => {
      const el = messages.content.querySelector(`[data-msg="${name}"]`);
      return el ? el.textContent : "";
    };
    const limits = {
      photo: { bytes: Number(root.dataset.photoBytes) || 0 },
      audio: { bytes: Number(root.dataset.audioBytes) || 0, seconds: Number(root.dataset.audioSeconds) || 60 },
      video: { bytes: Number(root.dataset.videoBytes) || 0, seconds: Number(root.dataset.videoSeconds) || 60 },
    };

    let kind = "photo";
    let stream = null;
    let recorder = null;
    let chunks = [];
    let recorded = 0;
    let blob = null;
    let blobName = "";
    let started = 0;
    let ticker = 0;
    let objectUrl = "";
    let attempt = null; // {blob, key}: one Idempotency-Key per capture, the same on every retry
    let discarded = false; // the dialog was closed while recording: the recording is thrown away

    const show = (names) => {
      for (const name of ["shoot", "record", "stop", "retake", "use", "cancel"]) action(name).hidden = !names.includes(name);
    };
    const say = (message) => { status.textContent = message; };

    const stopStream = () => {
      if (stream) for (const track of stream.getTracks()) track.stop();
      stream = null;
      live.srcObject = null;
    };
    const clearResult = () => {
      result.replaceChildren();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = "";
      blob = null;
    };
    const stopTimer = () => {
      if (ticker) clearInterval(ticker);
      ticker = 0;
    };

    // No camera, no microphone, no permission: say so and offer the plain file input instead.
    const fallBack = () => {
      stopStream();
      if (dialog.open) dialog.close();
      const accept = { photo: "image/*", audio: "audio/*", video: "video/*" }[kind];
      const input = form.elements.upload;
      input.setAttribute("accept", accept);
      input.setAttribute("capture", kind === "audio" ? "user" : "environment");
      form.elements.kind.value = kind === "photo" ? "image" : "file";
      const message = root.querySelector("[data-capture-fallback-message]");
      message.textContent = text("denied");
      message.hidden = false;
      const details = form.closest("details");
      if (details) details.open = true;
      form.hidden = false;
      input.focus();
    };

    async function open(which) {
      kind = which;
      clearResult();
      root.querySelector("[data-capture-fallback-message]").hidden = true;
      if (form.hasAttribute("data-capture-form")) form.hidden = true;
      heading.textContent = text(kind);
      title.value = "";
      timer.hidden = true;
      say(text(`${kind}-help`));
      const recording = kind !== "photo";
      if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== "function"
          || (recording && !supported(kind === "audio" ? AUDIO_TYPES : VIDEO_TYPES))) {
        fallBack();
        return;
      }
      try {
        const constraints = kind === "audio"
          ? { audio: true }
          : { video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } }, audio: kind === "video" };
        stream = await navigator.mediaDevices.getUserMedia(constraints);
      } catch (error) {
        fallBack();
        return;
      }
      live.hidden = kind === "audio";
      mic.hidden = kind !== "audio";
      if (kind !== "audio") live.srcObject = stream;
      show(kind === "photo" ? ["shoot", "cancel"] : ["record", "cancel"]);
      if (!dialog.open) dialog.showModal();
      action(kind === "photo" ? "shoot" : "record").focus();
    }

    const present = (file, name) => {
      blob = file;
      blobName = name;
      objectUrl = URL.createObjectURL(file);
      const element = document.createElement(kind === "photo" ? "img" : kind);
      element.src = objectUrl;
      if (kind === "photo") element.alt = "";
      else element.controls = true;
      if (kind === "video") element.playsInline = true;
      result.replaceChildren(element);
      live.hidden = true;
      mic.hidden = true;
      say(text("check"));
      show(["retake", "use", "cancel"]);
      action("use").focus();
    };

    function shoot() {
      const width = live.videoWidth;
      const height = live.videoHeight;
      if (!width || !height) return;
      const scale = Math.min(1, PHOTO_LONG_SIDE / Math.max(width, height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      canvas.getContext("2d").drawImage(live, 0, 0, canvas.width, canvas.height);
      canvas.toBlob((picture) => {
        if (!picture) return;
        stopStream();
        present(picture, "photo.jpg");
      }, "image/jpeg", 0.9);
    }

    function record() {
      const type = supported(kind === "audio" ? AUDIO_TYPES : VIDEO_TYPES);
      const options = { mimeType: type };
      if (kind === "video") options.videoBitsPerSecond = 2_000_000;
      else options.audioBitsPerSecond = 96_000;
      chunks = [];
      recorded = 0;
      discarded = false;
      try {
        recorder = new MediaRecorder(stream, options);
      } catch (error) {
        fallBack();
        return;
      }
      const limit = limits[kind];
      let stoppedAtLimit = false;
      recorder.addEventListener("dataavailable", (event) => {
        if (!event.data || !event.data.size) return;
        chunks.push(event.data);
        recorded += event.data.size;
        // Leave room for the last pieces: the server refuses a recording over the limit.
        if (limit.bytes && recorded > limit.bytes * 0.9 && recorder.state === "recording") {
          stoppedAtLimit = true;
          recorder.stop();
        }
      });
      recorder.addEventListener("stop", () => {
        stopTimer();
        stopStream();
        timer.textContent = timer.textContent.replace("● ", ""); // the length it has, no longer recording
        if (discarded) return;
        const recordedType = (recorder.mimeType || type).split(";")[0];
        const file = new Blob(chunks, { type: recordedType });
        present(file, `recording.${extension(recordedType, kind)}`);
        if (stoppedAtLimit) say(`${text("limit")} ${text("check")}`);
      });
      recorder.start(1000);
      started = Date.now();
      timer.hidden = false;
      const tick = () => {
        const elapsed = (Date.now() - started) / 1000;
        timer.textContent = `● ${clock(elapsed)} / ${clock(limit.seconds)}`;
        if (elapsed >= limit.seconds && recorder.state === "recording") {
          stoppedAtLimit = true;
          recorder.stop();
        }
      };
      tick();
      ticker = setInterval(tick, 250);
      say(text("recording"));
      show(["stop"]);
      action("stop").focus();
    }

    async function use() {
      if (!blob) return;
      if (!attempt || attempt.blob !== blob) attempt = { blob, key: window.ClassnoteIdempotency.newKey() };
      const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
      const data = new FormData();
      data.append("csrfmiddlewaretoken", csrf); // first: the upload handler may stop reading later
      for (const name of ["lesson", "library", "next"]) {
        const field = form.querySelector(`input[name="${name}"]`);
        if (field) data.append(name, field.value);
      }
      data.append("kind", kind === "photo" ? "image" : "file");
      data.append("title", title.value);
      data.append("upload", blob, blobName);
      action("use").disabled = true;
      action("retake").disabled = true;
      say(text("sending"));
      try {
        for (let tries = 1; ; tries++) {
          let response = null;
          try {
            response = await fetch(form.action, {
              method: "POST", credentials: "same-origin", body: data,
              headers: { Accept: "application/json", "X-CSRFToken": csrf, "Idempotency-Key": attempt.key },
            });
          } catch (error) { response = null; }
          const code = response ? response.status : 0;
          if (response && response.ok) {
            const answer = await response.json();
            stopStream();
            window.location.assign(answer.url);
            return;
          }
          if (!RETRY.has(code) || tries >= MAX_TRIES) {
            let detail = "";
            try { detail = response ? (await response.json()).detail || "" : ""; } catch (error) { detail = ""; }
            say(detail || text("failed"));
            return;
          }
          await pause(Math.min(Number(response && response.headers.get("Retry-After")) || 2 ** tries, 15) * 1000);
        }
      } finally {
        action("use").disabled = false;
        action("retake").disabled = false;
      }
    }

    const cancel = () => {
      clearResult();
      if (dialog.open) dialog.close();
    };

    for (const button of root.querySelectorAll("[data-capture-start]")) {
      button.addEventListener("click", () => { open(button.dataset.captureStart); });
    }
    action("shoot").addEventListener("click", shoot);
    action("record").addEventListener("click", record);
    action("stop").addEventListener("click", () => { if (recorder && recorder.state === "recording") recorder.stop(); });
    action("retake").addEventListener("click", () => { open(kind); });
    action("use").addEventListener("click", use);
    action("cancel").addEventListener("click", cancel);
    // Escape closes the dialog: the camera and microphone go off with it.
    dialog.addEventListener("close", () => {
      if (recorder && recorder.state === "recording") {
        discarded = true;
        recorder.stop();
      }
      stopTimer();
      stopStream();
    });
    root.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const root of document.querySelectorAll("[data-capture]")) setUp(root);
  });
})();
