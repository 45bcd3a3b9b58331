// classnote drawing canvas: pen, eraser, undo/redo/clear on a 1000×750 logical canvas.
// Vanilla JS, no dependencies, no build step; load it as a static file (strict CSP: no inline script or
// style). Strokes are the server's format (cards/actions.py validate_strokes):
//   [{c: "#rrggbb", w: 1..60, e: eraser?, p: [[x, y], ...]}]  with integer x in 0..1000, y in 0..750.
// The server renders the same data (cards/render.py): round caps and joins, and an eraser clears ink
// back to the background, never the background itself.
//
//   const drawing = ClassnoteDrawing.attach(canvas, {
//     strokes: [], background: "venn", backgroundUrl: "/cards/backgrounds/venn.png",
//     toolbar: element, onChange(strokes) { ... }, readOnly: false,
//   });
//
// Or declaratively, without any page script: <canvas data-drawing-auto data-strokes="json-script-id"
// data-background="venn" data-background-url="..." data-toolbar="toolbar-id" [data-readonly]>; listen
// for the "classnote:drawing-change" event (detail.strokes) that every change dispatches on the canvas.
(function () {
  "use strict";

  const W = 1000;
  const H = 750;
  // The server's limits (cards/actions.py): past them a save would be refused, so input stops.
  const MAX_STROKES = 5000;
  const MAX_POINTS = 200000;
  // What a drawing costs the server to render, counted as cards/render.py's stroke_cost counts it
  // (tests/cards/test_render.py checks that the numbers agree). Input stops a little before the
  // budget: browsers and Python may round a long sum of lengths differently in the last digits.
  const COST_STROKE = 5500;
  const COST_POINT = 600;
  const COST_DISC = 800;
  const COST_DISC_WIDTH = 35;
  const COST_LENGTH = 30;
  const COST_LENGTH_WIDTH = 0.85;
  const RENDER_BUDGET = 50000000;
  const BUDGET_USED = 0.98;
  // A finished stroke is simplified: a point closer than this (logical units) to the path that
  // leaves it out changes nothing visible, and a pen sends up to 240 points a second.
  const SIMPLIFY = 0.75;
  const MAX_HISTORY = 100;
  const MAX_BACKING_WIDTH = 4096;
  const ERASER = "#ffffff";
  const controllers = new WeakMap();

  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

  // An eraser is wider than the pen it is chosen with: 2 → 14, 6 → 26, 14 → 50 (logical units).
  function eraserWidth(width) {
    return Math.min(60, width * 3 + 8);
  }

  function normaliseColour(value) {
    const colour = String(value || "").toLowerCase();
    return /^#[0-9a-f]{6}$/.test(colour) ? colour : "#000000";
  }

  // Same checks as the server, tolerant of odd input: bad points are dropped, not fatal.
  function cleanStrokes(strokes) {
    if (!Array.isArray(strokes)) return [];
    const clean = [];
    for (const s of strokes) {
      if (!s || !Array.isArray(s.p)) continue;
      const p = [];
      for (const pt of s.p) {
        if (!Array.isArray(pt) || pt.length !== 2) continue;
        const x = Math.trunc(Number(pt[0]));
        const y = Math.trunc(Number(pt[1]));
        if (Number.isFinite(x) && Number.isFinite(y)) p.push([clamp(x, 0, W), clamp(y, 0, H)]);
      }
      if (!p.length) continue;
      const w = Math.trunc(Number(s.w));
      clean.push({
        c: normaliseColour(s.c),
        w: Number.isFinite(w) ? clamp(w, 1, 60) : 4,
        e: Boolean(s.e),
        p: p,
      });
    }
    return clean;
  }

  function pointCount(strokes) {
    let n = 0;
    for (const s of strokes) n += s.p.length;
    return n;
  }

  const distance = (a, b) => Math.sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]));

  // The cost of a stroke of width w with n points and this length (render.py stroke_cost).
  function costOf(w, n, length) {
    if (!n) return 0;
    let cost = COST_STROKE + n * COST_POINT;
    if (w >= 3 || n === 1) cost += n * (COST_DISC + COST_DISC_WIDTH * w); // round joins, or the one dot
    if (n > 1) cost += length * (COST_LENGTH + COST_LENGTH_WIDTH * w);
    return cost;
  }

  function pathLength(p) {
    let length = 0;
    for (let i = 1; i < p.length; i++) length += distance(p[i - 1], p[i]);
    return length;
  }

  function drawingCost(strokes) {
    let cost = 0;
    for (const s of strokes) cost += costOf(s.w, s.p.length, pathLength(s.p));
    return cost;
  }

  // Ramer–Douglas–Peucker with the distance to the segment (not the line), so a stroke that turns
  // back on itself keeps its far end; repeated points are dropped as the server drops them.
  function simplify(p) {
    let kept = p;
    if (p.length > 2) {
      const keep = new Uint8Array(p.length);
      keep[0] = keep[p.length - 1] = 1;
      const stack = [[0, p.length - 1]];
      while (stack.length) {
        const [a, b] = stack.pop();
        const ax = p[a][0], ay = p[a][1];
        const dx = p[b][0] - ax, dy = p[b][1] - ay;
        const squared = dx * dx + dy * dy;
        let far = -1;
        let farthest = SIMPLIFY;
        for (let i = a + 1; i < b; i++) {
          const t = squared ? clamp(((p[i][0] - ax) * dx + (p[i][1] - ay) * dy) / squared, 0, 1) : 0;
          const d = distance(p[i], [ax + t * dx, ay + t * dy]);
          if (d > farthest) {
            farthest = d;
            far = i;
          }
        }
        if (far >= 0) {
          keep[far] = 1;
          stack.push([a, far], [far, b]);
        }
      }
      kept = p.filter((_point, i) => keep[i]);
    }
    return kept.filter((q, i) => i === 0 || q[0] !== kept[i - 1][0] || q[1] !== kept[i - 1][1]);
  }

  // Draw one stroke (or its tail from point `from`) in logical coordinates.
  function drawStroke(ctx, stroke, from) {
    const p = stroke.p;
    ctx.globalCompositeOperation = stroke.e ? "destination-out" : "source-over";
    ctx.strokeStyle = ctx.fillStyle = stroke.e ? "#000000" : stroke.c;
    ctx.lineWidth = stroke.w;
    if (p.length === 1) {
      ctx.beginPath();
      ctx.arc(p[0][0], p[0][1], stroke.w / 2, 0, 2 * Math.PI);
      ctx.fill();
      return;
    }
    const start = Math.max(0, (from || 0) - 1);
    ctx.beginPath();
    ctx.moveTo(p[start][0], p[start][1]);
    for (let i = start + 1; i < p.length; i++) ctx.lineTo(p[i][0], p[i][1]);
    ctx.stroke();
  }

  function attach(canvas, options) {
    if (!(canvas instanceof HTMLCanvasElement)) throw new TypeError("ClassnoteDrawing.attach needs a <canvas>");
    const previous = controllers.get(canvas);
    if (previous) previous.destroy();
    options = options || {};

    const ctx = canvas.getContext("2d");
    const ink = document.createElement("canvas");
    const inkCtx = ink.getContext("2d");
    const toolbar = options.toolbar || null;
    const onChange = typeof options.onChange === "function" ? options.onChange : null;

    let strokes = cleanStrokes(options.strokes);
    let points = pointCount(strokes);
    let cost = drawingCost(strokes);
    let currentLength = 0; // of the stroke being drawn
    let undoStack = [];
    let redoStack = [];
    let readOnly = Boolean(options.readOnly);
    let background = options.background || "";
    let backgroundImage = null;
    let underlay = null; // (ctx, scaleX, scaleY) => draws what lies between background and ink
    let current = null; // the stroke being drawn
    let pointerId = null;
    let box = null; // the canvas's content box while a stroke is drawn
    let frame = 0;

    // Initial tool, colour and width: options, else the toolbar's is-active buttons, else defaults.
    const activeData = (name) => {
      const el = toolbar && toolbar.querySelector("[data-" + name + "].is-active");
      return el ? el.getAttribute("data-" + name) : null;
    };
    const firstData = (name) => {
      const el = toolbar && toolbar.querySelector("[data-" + name + "]");
      return el ? el.getAttribute("data-" + name) : null;
    };
    let tool = options.tool || activeData("tool") || "pen";
    let colour = normaliseColour(options.colour || activeData("colour") || firstData("colour") || "#000000");
    let width = clamp(Math.trunc(Number(options.width || activeData("width") || 6)) || 6, 1, 60);

    canvas.classList.add("drawing-canvas");
    if (!window.getComputedStyle(canvas).getPropertyValue("--classnote-drawing")) {
      // Without drawing.css the canvas's displayed size follows its backing store, and touch scrolls.
      console.warn("classnote drawing: load classnote/drawing.css for the canvas");
    }

    // --- painting -----------------------------------------------------------------------------------
    function contentBox() {
      const r = canvas.getBoundingClientRect();
      const left = canvas.clientLeft;
      const top = canvas.clientTop;
      return {
        left: r.left + left,
        top: r.top + top,
        width: canvas.clientWidth || r.width,
        height: canvas.clientHeight || r.height,
      };
    }

    function resize() {
      const b = contentBox();
      if (!b.width || !b.height) return false;
      const dpr = window.devicePixelRatio || 1;
      const bw = clamp(Math.round(b.width * dpr), 1, MAX_BACKING_WIDTH);
      const bh = clamp(Math.round((bw * H) / W), 1, Math.round((MAX_BACKING_WIDTH * H) / W));
      if (canvas.width === bw && canvas.height === bh && ink.width === bw) return false;
      canvas.width = ink.width = bw;
      canvas.height = ink.height = bh;
      return true;
    }

    function prepare(c) {
      c.setTransform(ink.width / W, 0, 0, ink.height / H, 0, 0);
      c.lineCap = "round";
      c.lineJoin = "round";
    }

    function redrawInk() {
      inkCtx.setTransform(1, 0, 0, 1, 0, 0);
      inkCtx.globalCompositeOperation = "source-over";
      inkCtx.clearRect(0, 0, ink.width, ink.height);
      prepare(inkCtx);
      for (const s of strokes) drawStroke(inkCtx, s, 0);
      if (current) drawStroke(inkCtx, current, 0);
    }

    function compose() {
      frame = 0;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.globalCompositeOperation = "source-over";
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      if (backgroundImage && backgroundImage.complete && backgroundImage.naturalWidth) {
        ctx.drawImage(backgroundImage, 0, 0, canvas.width, canvas.height);
      }
      // Pictures on the card (surface.js) lie under the ink: the pen draws over them.
      if (underlay) underlay(ctx, canvas.width / W, canvas.height / H);
      ctx.drawImage(ink, 0, 0);
    }

    function schedule() {
      if (!frame) frame = window.requestAnimationFrame(compose);
    }

    function redraw() {
      resize();
      redrawInk();
      compose();
    }

    function setBackground(key, url) {
      background = key || "";
      backgroundImage = null;
      if (url) {
        const img = new Image();
        img.decoding = "async";
        img.addEventListener("load", () => {
          if (backgroundImage === img) schedule();
        });
        img.src = url;
        backgroundImage = img;
      }
      schedule();
    }

    // --- history ------------------------------------------------------------------------------------
    function changed() {
      syncToolbar();
      const copy = strokes.slice();
      if (onChange) onChange(copy);
      canvas.dispatchEvent(new CustomEvent("classnote:drawing-change", { detail: { strokes: copy } }));
    }

    function remember() {
      undoStack.push(strokes);
      if (undoStack.length > MAX_HISTORY) undoStack.shift();
      redoStack = [];
    }

    // Stroke arrays are never changed in place (each edit makes a new array), so history holds
    // references, not copies.
    function commit(next) {
      remember();
      strokes = next;
      points = pointCount(strokes);
      cost = drawingCost(strokes);
    }

    function finishStroke() {
      if (!current) return;
      const stroke = current;
      stroke.p = simplify(stroke.p);
      current = null;
      pointerId = null;
      box = null;
      commit(strokes.concat([stroke]));
      changed();
    }

    function undo() {
      finishStroke();
      if (!undoStack.length) return;
      redoStack.push(strokes);
      strokes = undoStack.pop();
      points = pointCount(strokes);
      cost = drawingCost(strokes);
      redrawInk();
      schedule();
      changed();
    }

    function redo() {
      finishStroke();
      if (!redoStack.length) return;
      undoStack.push(strokes);
      strokes = redoStack.pop();
      points = pointCount(strokes);
      cost = drawingCost(strokes);
      redrawInk();
      schedule();
      changed();
    }

    function clear() {
      finishStroke();
      if (!strokes.length) return;
      commit([]);
      redrawInk();
      schedule();
      changed();
    }

    // --- pointer input ------------------------------------------------------------------------------
    function toLogical(event) {
      const b = box || contentBox();
      return [
        clamp(Math.round(((event.clientX - b.left) * W) / b.width), 0, W),
        clamp(Math.round(((event.clientY - b.top) * H) / b.height), 0, H),
      ];
    }

    const strokeWidth = () => (tool === "eraser" ? eraserWidth(width) : width);

    // Would the drawing, with the stroke being drawn at n points and this length, go past a limit?
    function over(w, n, length) {
      return points + n > MAX_POINTS || cost + costOf(w, n, length) > RENDER_BUDGET * BUDGET_USED;
    }

    function full() {
      return strokes.length >= MAX_STROKES || over(strokeWidth(), 1, 0);
    }

    function announceFull() {
      canvas.dispatchEvent(new CustomEvent("classnote:drawing-full"));
    }

    function onPointerDown(event) {
      if (readOnly || pointerId !== null) return; // one stroke at a time: a second finger is ignored
      if (event.pointerType === "mouse" && event.button !== 0) return;
      event.preventDefault();
      if (full()) {
        announceFull();
        return;
      }
      if (resize()) redrawInk();
      try {
        canvas.setPointerCapture(event.pointerId);
      } catch (_error) {
        // A pointer that is already gone: draw without capture.
      }
      pointerId = event.pointerId;
      if (canvas.tabIndex >= 0) canvas.focus({ preventScroll: true }); // for the undo/redo shortcuts
      box = contentBox();
      const erasing = tool === "eraser";
      current = { c: erasing ? ERASER : colour, w: strokeWidth(), e: erasing, p: [toLogical(event)] };
      currentLength = 0;
      prepare(inkCtx);
      drawStroke(inkCtx, current, 0);
      schedule();
    }

    function onPointerMove(event) {
      if (event.pointerId !== pointerId || !current) return;
      event.preventDefault();
      const events = (event.getCoalescedEvents && event.getCoalescedEvents()) || [];
      const from = current.p.length;
      for (const e of events.length ? events : [event]) {
        const pt = toLogical(e);
        const last = current.p[current.p.length - 1];
        if (pt[0] === last[0] && pt[1] === last[1]) continue;
        const length = currentLength + distance(last, pt);
        if (over(current.w, current.p.length + 1, length)) {
          // The drawing is full: the stroke ends here (the pupil keeps all of it), no save is refused.
          finishStroke();
          announceFull();
          break;
        }
        current.p.push(pt);
        currentLength = length;
      }
      if (!current) {
        schedule();
        return;
      }
      if (current.p.length > from) {
        prepare(inkCtx);
        drawStroke(inkCtx, current, from);
        schedule();
      }
    }

    function onPointerEnd(event) {
      if (event.pointerId !== pointerId) return;
      finishStroke();
    }

    const preventDefault = (event) => event.preventDefault();

    function onKeyDown(event) {
      if (readOnly || !(event.ctrlKey || event.metaKey) || event.altKey) return;
      const key = event.key.toLowerCase();
      if (key === "z" && !event.shiftKey) undo();
      else if ((key === "z" && event.shiftKey) || key === "y") redo();
      else return;
      event.preventDefault();
    }

    // --- toolbar ------------------------------------------------------------------------------------
    function setTool(value) {
      tool = value === "eraser" ? "eraser" : "pen";
      syncToolbar();
    }

    function setColour(value) {
      colour = normaliseColour(value);
      tool = "pen";
      syncToolbar();
    }

    function setWidth(value) {
      const w = Math.trunc(Number(value));
      if (Number.isFinite(w)) width = clamp(w, 1, 60);
      syncToolbar();
    }

    function setReadOnly(value) {
      readOnly = Boolean(value);
      if (readOnly) finishStroke();
      syncToolbar();
    }

    function press(button, on) {
      button.classList.toggle("is-active", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    }

    function syncToolbar() {
      canvas.classList.toggle("is-erasing", tool === "eraser");
      canvas.classList.toggle("is-readonly", readOnly);
      if (!toolbar) return;
      for (const b of toolbar.querySelectorAll("[data-tool]")) press(b, b.getAttribute("data-tool") === tool);
      for (const b of toolbar.querySelectorAll("[data-colour]")) {
        press(b, normaliseColour(b.getAttribute("data-colour")) === colour);
      }
      for (const b of toolbar.querySelectorAll("[data-width]")) press(b, Number(b.getAttribute("data-width")) === width);
      const can = { undo: undoStack.length > 0, redo: redoStack.length > 0, clear: strokes.length > 0 };
      for (const b of toolbar.querySelectorAll("[data-action]")) {
        const action = b.getAttribute("data-action");
        if (action in can) b.disabled = readOnly || !can[action];
      }
      for (const b of toolbar.querySelectorAll("[data-tool],[data-colour],[data-width]")) b.disabled = readOnly;
    }

    function onToolbarClick(event) {
      const button = event.target.closest("[data-tool],[data-colour],[data-width],[data-action]");
      if (!button || !toolbar.contains(button) || button.disabled) return;
      event.preventDefault(); // a button inside a form must not submit it
      if (readOnly) return;
      if (button.hasAttribute("data-tool")) setTool(button.getAttribute("data-tool"));
      else if (button.hasAttribute("data-colour")) setColour(button.getAttribute("data-colour"));
      else if (button.hasAttribute("data-width")) setWidth(button.getAttribute("data-width"));
      else {
        const action = button.getAttribute("data-action");
        if (action === "undo") undo();
        else if (action === "redo") redo();
        else if (action === "clear") clear();
      }
    }

    // --- wiring -------------------------------------------------------------------------------------
    canvas.addEventListener("pointerdown", onPointerDown);
    canvas.addEventListener("pointermove", onPointerMove);
    canvas.addEventListener("pointerup", onPointerEnd);
    canvas.addEventListener("pointercancel", onPointerEnd);
    canvas.addEventListener("lostpointercapture", onPointerEnd);
    canvas.addEventListener("contextmenu", preventDefault);
    canvas.addEventListener("keydown", onKeyDown);
    if (toolbar) {
      toolbar.addEventListener("click", onToolbarClick);
      toolbar.addEventListener("keydown", onKeyDown);
    }
    let observer = null;
    if (window.ResizeObserver) {
      observer = new ResizeObserver(() => {
        if (resize()) {
          redrawInk();
          compose();
        }
      });
      observer.observe(canvas);
    }
    const onWindowResize = () => {
      if (resize()) {
        redrawInk();
        compose();
      }
    };
    window.addEventListener("resize", onWindowResize); // devicePixelRatio changes (zoom, other screen)

    function destroy() {
      canvas.removeEventListener("pointerdown", onPointerDown);
      canvas.removeEventListener("pointermove", onPointerMove);
      canvas.removeEventListener("pointerup", onPointerEnd);
      canvas.removeEventListener("pointercancel", onPointerEnd);
      canvas.removeEventListener("lostpointercapture", onPointerEnd);
      canvas.removeEventListener("contextmenu", preventDefault);
      canvas.removeEventListener("keydown", onKeyDown);
      if (toolbar) {
        toolbar.removeEventListener("click", onToolbarClick);
        toolbar.removeEventListener("keydown", onKeyDown);
      }
      if (observer) observer.disconnect();
      window.removeEventListener("resize", onWindowResize);
      if (frame) window.cancelAnimationFrame(frame);
      canvas.classList.remove("is-erasing", "is-readonly");
      controllers.delete(canvas);
    }

    const controller = {
      getStrokes: () => strokes.slice(),
      // What is drawn between the background and the ink (surface.js: the card's pictures); call
      // again (or refresh) when it changed.
      setUnderlay(fn) {
        underlay = typeof fn === "function" ? fn : null;
        schedule();
      },
      refresh: () => schedule(),
      // Replace the drawing (e.g. after reloading a card changed elsewhere): history is reset and
      // onChange is not called.
      setStrokes(next) {
        current = null;
        pointerId = null;
        strokes = cleanStrokes(next);
        points = pointCount(strokes);
        cost = drawingCost(strokes);
        undoStack = [];
        redoStack = [];
        redrawInk();
        schedule();
        syncToolbar();
      },
      undo,
      redo,
      clear,
      setTool,
      setColour,
      setWidth,
      setReadOnly,
      setBackground,
      redraw,
      destroy,
      canUndo: () => undoStack.length > 0,
      canRedo: () => redoStack.length > 0,
      get tool() {
        return tool;
      },
      get colour() {
        return colour;
      },
      get width() {
        return width;
      },
      get background() {
        return background;
      },
    };
    controllers.set(canvas, controller);

    setBackground(background, options.backgroundUrl || "");
    redraw();
    syncToolbar();
    return controller;
  }

  // Declarative use: <canvas data-drawing-auto ...> (see the top of this file). A page with its own
  // script (card.js) calls attach itself; a canvas it has attached is skipped.
  function attachAll(root) {
    for (const canvas of (root || document).querySelectorAll("canvas[data-drawing-auto]")) {
      if (controllers.has(canvas)) continue;
      let strokes = [];
      const source = canvas.dataset.strokes && document.getElementById(canvas.dataset.strokes);
      if (source) {
        try {
          strokes = JSON.parse(source.textContent);
        } catch (_error) {
          strokes = [];
        }
      }
      attach(canvas, {
        strokes: strokes,
        background: canvas.dataset.background || "",
        backgroundUrl: canvas.dataset.backgroundUrl || "",
        toolbar: canvas.dataset.toolbar ? document.getElementById(canvas.dataset.toolbar) : null,
        readOnly: canvas.hasAttribute("data-readonly"),
      });
    }
  }

  window.ClassnoteDrawing = {
    attach: attach,
    attachAll: attachAll,
    get: (canvas) => controllers.get(canvas) || null,
    eraserWidth: eraserWidth,
    cost: drawingCost,
    simplify: simplify,
    RENDER_BUDGET: RENDER_BUDGET,
    WIDTH: W,
    HEIGHT: H,
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => attachAll(document));
  } else {
    attachAll(document);
  }
})();
