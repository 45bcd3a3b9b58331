// classnote card surface: text boxes and stickies placed on the card, over the drawing canvas.
// Vanilla JS, no dependencies (strict CSP: positions are set through element.style, never a style
// attribute in markup). Items are the server's format (cards/surface.py validate_items):
//   [{k: "text"|"sticky", x, y, w, h, t: "text", c: "#rrggbb"}, {k: "image", f: "<file id>", x, y, w, h}]
// integers on the 1000×750 card, the box wholly on the card; c from INK (text boxes) or PAPER
// (stickies). A picture (k "image") is drawn by drawing.js under the ink (setUnderlay), so the pen
// draws over it; its box here is an empty frame with a grip (move: drag or arrow keys; Delete
// removes it) and a corner handle (resize: drag, or arrow keys; the picture keeps its shape).
// The Picture tool uploads a file the pupil chooses (POST /files/, like any upload: checked,
// re-encoded without metadata, on the server) and puts it in the middle of the card.
// Typing happens in real <textarea> elements laid over the canvas, so every input method (Japanese
// and Chinese IMEs, dictation, handwriting keyboards) works as in any text field.
//
//   const surface = ClassnoteSurface.attach(element, {
//     items: [], toolbar, drawing /* ClassnoteDrawing controller */, messages /* <template> */,
//     onChange(items) { ... },
//   });
//
// Pointer: with the Text or Sticky tool, a tap on the card makes a box there; a box's grip (✥)
// drags it. Keyboard: the tools are buttons; pressing Text or Sticky with the keyboard makes a box
// and puts the caret in it; Escape in a box selects the box (its grip); arrow keys move it (Shift:
// further), Delete or Backspace removes it, Enter goes back to its text.
(function () {
  "use strict";

  const W = 1000;
  const H = 750;
  const INK = ["#1d2433", "#d32f2f", "#1f6feb", "#2e7d32", "#ef6c00"];
  const PAPER = ["#fff59d", "#f8bbd0", "#b3e5fc", "#c8e6c9"];
  const MAX_ITEMS = 50;
  const MAX_IMAGES = 10;
  const PICTURE = { w: 400, h: 300 }; // the box a new picture fits in
  const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const MAX_TEXT = 2000;
  const MIN_W = 40;
  const MIN_H = 30;
  const SIZE = { text: { w: 360, h: 56 }, sticky: { w: 240, h: 170 } };
  const STEP = 10;
  const BIG_STEP = 50;

  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const whole = (v, lo, hi) => clamp(Math.round(Number(v)) || 0, lo, hi);

  // Same checks as the server, tolerant of odd input: a bad item is mended or dropped, never sent.
  function cleanItems(items) {
    if (!Array.isArray(items)) return [];
    const clean = [];
    let pictures = 0;
    for (const item of items) {
      if (!item || clean.length >= MAX_ITEMS) continue;
      const w = whole(item.w, MIN_W, W);
      const h = whole(item.h, MIN_H, H);
      if (item.k === "image") {
        const f = String(item.f || "").toLowerCase();
        if (!ID.test(f) || pictures >= MAX_IMAGES) continue;
        pictures += 1;
        clean.push({ k: "image", f: f, x: whole(item.x, 0, W - w), y: whole(item.y, 0, H - h), w: w, h: h });
        continue;
      }
      if (item.k !== "text" && item.k !== "sticky") continue;
      const colours = item.k === "text" ? INK : PAPER;
      const c = String(item.c || "").toLowerCase();
      clean.push({
        k: item.k,
        x: whole(item.x, 0, W - w),
        y: whole(item.y, 0, H - h),
        w: w,
        h: h,
        t: String(item.t || "").replace(/\u0000/g, "").slice(0, MAX_TEXT),
        c: colours.includes(c) ? c : colours[0],
      });
    }
    return clean;
  }

  function attach(root, options) {
    options = options || {};
    const layer = root.querySelector("[data-surface-items]");
    const toolbar = options.toolbar || null;
    const drawing = options.drawing || null;
    const onChange = typeof options.onChange === "function" ? options.onChange : null;
    const texts = {};
    for (const el of options.messages ? options.messages.content.querySelectorAll("[data-msg]") : []) {
      texts[el.dataset.msg] = el.textContent;
    }
    let items = cleanItems(options.items);
    let nodes = [];
    let selected = null; // the selected item object
    let tool = "pen";
    let ink = INK[0];
    let paper = PAPER[0];
    let drag = null;
    // Pictures: file id -> <img>, loaded from the card's own route (whoever reads the card may) or,
    // for one just uploaded, from the pupil's own file.
    const pictures = {};
    const itemUrl = options.itemUrl || "";
    const fileUrl = options.fileUrl || "";

    const box = () => root.getBoundingClientRect();
    const toLogical = (event) => {
      const r = box();
      return [((event.clientX - r.left) * W) / r.width, ((event.clientY - r.top) * H) / r.height];
    };

    function changed() {
      syncToolbar();
      if (onChange) onChange(items.map((item) => ({ ...item })));
    }

    function place(node, item) {
      node.style.left = `${item.x / 10}%`;
      node.style.top = `${(item.y * 100) / H}%`;
      node.style.width = `${item.w / 10}%`;
      node.style.height = `${(item.h * 100) / H}%`;
      node.classList.toggle("grip-below", item.y < 70);
      if (item.k === "image") {
        if (drawing && drawing.refresh) drawing.refresh();
        return;
      }
      node.dataset.colour = item.c;
      if (item.k === "sticky") node.style.backgroundColor = item.c;
      else node.querySelector("textarea").style.color = item.c;
    }

    function picture(f, url) {
      if (!pictures[f]) {
        const img = new Image();
        img.decoding = "async";
        img.addEventListener("load", () => drawing && drawing.refresh && drawing.refresh());
        img.src = url || `${itemUrl}${f}/`;
        pictures[f] = img;
      }
      return pictures[f];
    }

    function drawPictures(ctx, sx, sy) {
      for (const item of items) {
        if (item.k !== "image") continue;
        const img = picture(item.f);
        if (!img.complete || !img.naturalWidth) continue;
        ctx.drawImage(img, item.x * sx, item.y * sy, item.w * sx, item.h * sy);
      }
    }
    if (drawing && drawing.setUnderlay) drawing.setUnderlay(drawPictures);

    function label(item) {
      return `${texts[item.k] || item.k} ${items.indexOf(item) + 1}`;
    }

    function buildPicture(item) {
      const node = document.createElement("div");
      node.className = "surface-item is-image";
      const grip = document.createElement("button");
      grip.type = "button";
      grip.className = "item-grip";
      grip.textContent = "✥";
      const handle = document.createElement("button");
      handle.type = "button";
      handle.className = "item-resize";
      handle.textContent = "⇲";
      node.append(grip, handle);
      grip.addEventListener("keydown", (event) => onGripKey(event, item, node));
      grip.addEventListener("pointerdown", (event) => startDrag(event, item, node));
      handle.addEventListener("keydown", (event) => onResizeKey(event, item, node));
      handle.addEventListener("pointerdown", (event) => startDrag(event, item, node, true));
      node.addEventListener("focusin", () => select(item));
      node.addEventListener("pointerdown", (event) => event.stopPropagation());
      return node;
    }

    // A picture's new size (logical units), its shape kept, its top left corner where it is.
    function resizeTo(item, node, w) {
      const ratio = item.h / item.w || 0.75;
      let width = clamp(w, MIN_W, W - item.x);
      let height = width * ratio;
      if (height > H - item.y) {
        height = H - item.y;
        width = height / ratio;
      }
      if (height < MIN_H) {
        height = MIN_H;
        width = Math.min(W - item.x, Math.max(MIN_W, height / ratio));
      }
      item.w = whole(width, MIN_W, W - item.x);
      item.h = whole(height, MIN_H, H - item.y);
      place(node, item);
    }

    function onResizeKey(event, item, node) {
      const step = event.shiftKey ? BIG_STEP : STEP;
      const grow = { ArrowRight: step, ArrowDown: step, ArrowLeft: -step, ArrowUp: -step };
      if (grow[event.key]) {
        event.preventDefault();
        resizeTo(item, node, item.w + grow[event.key]);
        changed();
      } else if (event.key === "Delete" || event.key === "Backspace") {
        event.preventDefault();
        remove(item, true);
      }
    }

    function build(item) {
      if (item.k === "image") return buildPicture(item);
      const node = document.createElement("div");
      node.className = `surface-item is-${item.k}`;
      const grip = document.createElement("button");
      grip.type = "button";
      grip.className = "item-grip";
      grip.textContent = "✥";
      const area = document.createElement("textarea");
      area.className = "item-text";
      area.maxLength = MAX_TEXT;
      area.spellcheck = false;
      area.value = item.t;
      node.append(grip, area);
      area.addEventListener("input", () => {
        item.t = area.value.slice(0, MAX_TEXT);
        grow(item, node);
        changed();
      });
      area.addEventListener("keydown", (event) => {
        if (event.key === "Escape" && !event.isComposing) {
          event.preventDefault();
          grip.focus();
        }
      });
      grip.addEventListener("keydown", (event) => onGripKey(event, item, node));
      grip.addEventListener("pointerdown", (event) => startDrag(event, item, node));
      node.addEventListener("focusin", () => select(item));
      node.addEventListener("focusout", (event) => {
        // An empty box left behind (tapped by mistake, or emptied) goes when the pupil moves on.
        if (!node.contains(event.relatedTarget) && !item.t.trim() && items.includes(item)) remove(item, false);
      });
      node.addEventListener("pointerdown", (event) => event.stopPropagation()); // not a tap on the card
      return node;
    }

    function render() {
      layer.replaceChildren();
      nodes = items.map((item) => {
        const node = build(item);
        place(node, item);
        layer.append(node);
        return node;
      });
      relabel();
    }

    function relabel() {
      items.forEach((item, i) => {
        const node = nodes[i];
        node.querySelector(".item-grip").setAttribute("aria-label", `${label(item)}: ${texts.move || "move"}`);
        const area = node.querySelector("textarea");
        if (area) area.setAttribute("aria-label", label(item));
        const handle = node.querySelector(".item-resize");
        if (handle) handle.setAttribute("aria-label", `${label(item)}: ${texts.resize || "resize"}`);
      });
    }

    function nodeOf(item) {
      return nodes[items.indexOf(item)] || null;
    }

    // The box grows with its text (and shrinks back to its first size), staying on the card.
    function grow(item, node) {
      const area = node.querySelector("textarea");
      const r = box();
      if (!r.height) return;
      const before = area.style.height;
      area.style.height = "0px";
      const needed = Math.ceil((area.scrollHeight * H) / r.height) + 2;
      area.style.height = before;
      const h = clamp(Math.max(SIZE[item.k].h, needed), MIN_H, H);
      if (h === item.h) return;
      item.h = h;
      item.y = clamp(item.y, 0, H - h);
      place(node, item);
    }

    function select(item) {
      if (selected === item) return;
      selected = item;
      nodes.forEach((node, i) => node.classList.toggle("is-selected", items[i] === item));
      syncToolbar();
    }

    function create(kind, x, y) {
      if (items.length >= MAX_ITEMS) {
        root.dispatchEvent(new CustomEvent("classnote:surface-full"));
        return null;
      }
      const size = SIZE[kind];
      const item = {
        k: kind,
        x: whole(x, 0, W - size.w),
        y: whole(y, 0, H - size.h),
        w: size.w,
        h: size.h,
        t: "",
        c: kind === "text" ? ink : paper,
      };
      items.push(item);
      const node = build(item);
      nodes.push(node);
      place(node, item);
      layer.append(node);
      relabel();
      node.querySelector("textarea").focus({ preventScroll: true });
      select(item);
      changed();
      return item;
    }

    // A picture the pupil just uploaded (FILE: the server's answer), in the middle of the card.
    function addPicture(file) {
      if (items.length >= MAX_ITEMS || items.filter((item) => item.k === "image").length >= MAX_IMAGES) {
        root.dispatchEvent(new CustomEvent("classnote:surface-full"));
        return null;
      }
      const f = String(file.id || "").toLowerCase();
      if (!ID.test(f)) return null;
      const img = picture(f, `${fileUrl}${f}/?inline=1`);
      const item = { k: "image", f: f, x: 300, y: 225, w: PICTURE.w, h: PICTURE.h };
      const fit = () => {
        const ratio = img.naturalWidth && img.naturalHeight ? img.naturalHeight / img.naturalWidth : 0.75;
        let w = PICTURE.w;
        let h = w * ratio;
        if (h > PICTURE.h) {
          h = PICTURE.h;
          w = h / ratio;
        }
        item.w = whole(w, MIN_W, W);
        item.h = whole(h, MIN_H, H);
        item.x = whole((W - item.w) / 2, 0, W - item.w);
        item.y = whole((H - item.h) / 2, 0, H - item.h);
      };
      const show = () => {
        fit();
        items.push(item);
        const node = build(item);
        nodes.push(node);
        place(node, item);
        layer.append(node);
        relabel();
        select(item);
        node.querySelector(".item-grip").focus({ preventScroll: true });
        changed();
      };
      if (img.complete && img.naturalWidth) show();
      else {
        img.addEventListener("load", show, { once: true });
        img.addEventListener("error", show, { once: true });
      }
      return item;
    }

    function remove(item, focusNext) {
      const i = items.indexOf(item);
      if (i < 0) return;
      const hadText = Boolean(item.t) || item.k === "image";
      items.splice(i, 1);
      nodes.splice(i, 1)[0].remove();
      if (item.k === "image" && drawing && drawing.refresh) drawing.refresh();
      if (selected === item) selected = null;
      relabel();
      if (focusNext) {
        const next = nodes[Math.min(i, nodes.length - 1)];
        const canvas = root.querySelector("canvas");
        (next ? next.querySelector(".item-grip") : canvas).focus({ preventScroll: true });
      }
      if (hadText || focusNext) changed();
      else syncToolbar();
    }

    function move(item, node, dx, dy) {
      item.x = whole(item.x + dx, 0, W - item.w);
      item.y = whole(item.y + dy, 0, H - item.h);
      place(node, item);
    }

    function onGripKey(event, item, node) {
      const step = event.shiftKey ? BIG_STEP : STEP;
      const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (moves[event.key]) {
        event.preventDefault();
        move(item, node, ...moves[event.key]);
        changed();
      } else if (event.key === "Delete" || event.key === "Backspace") {
        event.preventDefault();
        remove(item, true);
      } else if ((event.key === "Enter" || event.key === "F2") && node.querySelector("textarea")) {
        event.preventDefault();
        node.querySelector("textarea").focus();
      }
    }

    function startDrag(event, item, node, resizing) {
      if (event.pointerType === "mouse" && event.button !== 0) return;
      event.preventDefault();
      event.stopPropagation();
      select(item);
      const grip = event.currentTarget;
      grip.focus({ preventScroll: true });
      try {
        grip.setPointerCapture(event.pointerId);
      } catch (_error) {
        // the pointer is already gone
      }
      const [lx, ly] = toLogical(event);
      drag = { id: event.pointerId, item, node, dx: lx - item.x, dy: ly - item.y, moved: false, resizing: !!resizing, x0: lx, w0: item.w };
      grip.addEventListener("pointermove", onDragMove);
      grip.addEventListener("pointerup", onDragEnd);
      grip.addEventListener("pointercancel", onDragEnd);
    }

    function onDragMove(event) {
      if (!drag || event.pointerId !== drag.id) return;
      const [lx, ly] = toLogical(event);
      const { item, node } = drag;
      if (drag.resizing) {
        resizeTo(item, node, drag.w0 + lx - drag.x0); // from where it was grabbed: no jump
        drag.moved = true;
        return;
      }
      item.x = whole(lx - drag.dx, 0, W - item.w);
      item.y = whole(ly - drag.dy, 0, H - item.h);
      place(node, item);
      drag.moved = true;
    }

    function onDragEnd(event) {
      if (!drag || event.pointerId !== drag.id) return;
      const grip = event.currentTarget;
      grip.removeEventListener("pointermove", onDragMove);
      grip.removeEventListener("pointerup", onDragEnd);
      grip.removeEventListener("pointercancel", onDragEnd);
      const moved = drag.moved;
      drag = null;
      if (moved) changed();
    }

    // A tap on the card with the Text or Sticky tool makes a box there (the layer takes pointer
    // input only while one of them is chosen; otherwise the canvas below gets it, for the pen).
    // On "click", not "pointerdown": tablets open their keyboard for a focus() made in a click.
    layer.addEventListener("click", (event) => {
      if (tool !== "text" && tool !== "sticky") return;
      if (event.target !== layer) return;
      event.preventDefault();
      const [lx, ly] = toLogical(event);
      create(tool, lx - 10, ly - 24);
    });
    root.querySelector("canvas").addEventListener("pointerdown", () => {
      selected = null;
      for (const node of nodes) node.classList.remove("is-selected");
      syncToolbar();
    });

    function setTool(value) {
      tool = value;
      root.classList.toggle("is-placing", tool === "text" || tool === "sticky");
      if (drawing && (tool === "pen" || tool === "eraser")) drawing.setTool(tool);
      syncToolbar();
    }

    function press(button, on) {
      button.classList.toggle("is-active", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
    }

    function syncToolbar() {
      if (!toolbar) return;
      for (const b of toolbar.querySelectorAll("[data-tool]")) {
        const value = b.getAttribute("data-tool");
        if (value === "text" || value === "sticky") press(b, value === tool);
        else if (tool === "text" || tool === "sticky") press(b, false);
      }
      const sticky = tool === "sticky" || (selected && selected.k === "sticky");
      const papers = toolbar.querySelector("[data-group=papers]");
      const colours = toolbar.querySelector("[data-group=colours]");
      if (papers) papers.hidden = !sticky;
      if (colours) colours.hidden = Boolean(sticky);
      for (const b of toolbar.querySelectorAll("[data-paper]")) press(b, b.getAttribute("data-paper") === paper);
      for (const b of toolbar.querySelectorAll("[data-item-action=delete]")) b.disabled = !selected;
    }

    // The toolbar: Text and Sticky are this module's; Pen and Eraser (and colours) are drawing.js's,
    // which also listens on the toolbar. A colour also colours the selected text box.
    toolbar.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button || !toolbar.contains(button) || button.disabled) return;
      const value = button.getAttribute("data-tool");
      if (value === "text" || value === "sticky") {
        event.preventDefault();
        setTool(value);
        // Pressed with the keyboard (no pointer, so no place to tap): a box at once, caret in it.
        if (event.detail === 0) {
          const n = items.length % 8;
          create(value, 80 + n * 40, 80 + n * 50);
        }
      } else if (value === "pen" || value === "eraser") {
        setTool(value);
      } else if (button.hasAttribute("data-colour")) {
        ink = String(button.getAttribute("data-colour")).toLowerCase();
        if (!INK.includes(ink)) ink = INK[0];
        if (selected && selected.k === "text") {
          selected.c = ink;
          place(nodeOf(selected), selected);
          changed();
        }
        if (tool === "text") setTool("text"); // drawing.js chose the pen: the Text tool stays
      } else if (button.hasAttribute("data-paper")) {
        event.preventDefault();
        paper = String(button.getAttribute("data-paper")).toLowerCase();
        if (selected && selected.k === "sticky") {
          selected.c = paper;
          place(nodeOf(selected), selected);
          changed();
        }
        syncToolbar();
      } else if (button.getAttribute("data-item-action") === "delete") {
        event.preventDefault();
        if (selected) remove(selected, true);
      }
      syncToolbar();
    });
    // Keep the caret and the selected box while a toolbar button is pressed (its colour, Delete box),
    // and a tap that makes a box leaves the focus in the new box.
    toolbar.addEventListener("mousedown", (event) => {
      if (event.target.closest("button")) event.preventDefault();
    });
    layer.addEventListener("mousedown", (event) => {
      if (event.target === layer) event.preventDefault();
    });

    render();
    syncToolbar();
    return {
      getItems: () => items.map((item) => ({ ...item })),
      setItems(next) {
        items = cleanItems(next);
        selected = null;
        render();
        syncToolbar();
      },
      setTool,
      addPicture,
      get tool() {
        return tool;
      },
    };
  }

  window.ClassnoteSurface = { attach, cleanItems, INK, PAPER, MAX_ITEMS, MAX_IMAGES, WIDTH: W, HEIGHT: H };
})();
