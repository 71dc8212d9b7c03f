// The Draw page's canvas (a Streamlit components v2 component): white ink on black, 280x280, strokes drawn with
// round ends and smoothed through their midpoints. Each time the pen lifts, and on Undo or Clear, it sends its
// picture (a PNG, base64) and its strokes at once, as the state value "drawing"; Clear sends no picture, no strokes.
// data: {side, pen, strokes (a drawing to restore when it mounts), undo, clear (the buttons' words)}.
// Strokes are in picture pixels (0-280). The canvas on screen holds a pixel for each of the screen's (sharp on a
// phone, a tablet or a zoomed page); the picture sent is drawn apart at 280x280, the same on every screen.

const canvases = new WeakMap(); // parentElement -> its canvas's state, so a rerun with new data keeps the drawing

function smoothed(context, points) {
  // A stroke through its points as fabric.js's pencil draws one: a curve from each midpoint to the next, bent by the
  // point between them, and a dot for a single point.
  context.beginPath();
  context.moveTo(points[0], points[1]);
  if (points.length === 2) context.lineTo(points[0] + 0.01, points[1]);
  for (let i = 2; i < points.length; i += 2) {
    const [x, y] = [points[i - 2], points[i - 1]];
    context.quadraticCurveTo(x, y, (x + points[i]) / 2, (y + points[i + 1]) / 2);
  }
  context.lineTo(points[points.length - 2], points[points.length - 1]);
  context.stroke();
}

const MAX_SCALE = 3; // screen pixels a side per picture pixel at most: the canvas on screen holds 840x840 at most

function paint(canvas, scale, strokes) {
  const context = canvas.getContext("2d");
  context.setTransform(scale, 0, 0, scale, 0, 0);
  context.fillStyle = "#000000";
  context.fillRect(0, 0, canvas.width / scale, canvas.height / scale);
  context.strokeStyle = "#FFFFFF";
  context.lineCap = "round";
  context.lineJoin = "round";
  for (const stroke of strokes) {
    context.lineWidth = stroke.w;
    smoothed(context, stroke.p);
  }
}

function show(state) {
  // The canvas on screen, at the screen's pixel density now (it changes as the page is zoomed or moved).
  const scale = Math.min(window.devicePixelRatio || 1, MAX_SCALE);
  const size = Math.round(state.side * scale);
  if (state.canvas.width !== size) state.canvas.width = state.canvas.height = size;
  paint(state.canvas, size / state.side, state.strokes.concat(state.current ? [state.current] : []));
}

function send(state) {
  let png = null;
  if (state.strokes.length) {
    paint(state.picture, 1, state.strokes);
    png = state.picture.toDataURL("image/png").split(",", 2)[1];
  }
  state.setStateValue("drawing", { png, strokes: state.strokes });
}

function position(state, event) {
  const box = state.canvas.getBoundingClientRect();
  const scale = state.side / box.width;
  const tenth = (value) => Math.round(value * scale * 10) / 10;
  return [tenth(event.clientX - box.left), tenth(event.clientY - box.top)];
}

function listen(state) {
  const canvas = state.canvas;
  canvas.addEventListener("pointerdown", (event) => {
    if (state.current || event.button !== 0) return; // one pen at a time: a second finger or a right click draws not
    canvas.setPointerCapture(event.pointerId);
    state.current = { w: state.pen, p: position(state, event) };
    show(state);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!state.current) return;
    state.current.p.push(...position(state, event));
    if (!state.frame) state.frame = requestAnimationFrame(() => { state.frame = 0; show(state); });
  });
  const finish = () => {
    if (!state.current) return;
    state.strokes.push(state.current);
    state.current = null;
    show(state);
    send(state);
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
}

function button(action, icon) {
  const element = document.createElement("button");
  element.type = "button";
  element.dataset.action = action;
  element.innerHTML = `<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path d="${icon}"/></svg>`;
  return element;
}

const UNDO_ICON = "M12.5 8c-2.65 0-5.05 1-6.9 2.6L2 7v9h9l-3.62-3.62A7.95 7.95 0 0 1 20.08 16l2.37-.78A10.5 10.5 0 0 0 "
  + "12.5 8z";
const BIN_ICON = "M6 19c0 1.1.9 2 2 2h8c1.1 0 2-.9 2-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z";

function built(parentElement, data) {
  const root = document.createElement("div");
  root.className = "digit-canvas-root";
  const canvas = document.createElement("canvas");
  canvas.className = "digit-canvas";
  canvas.style.width = `${data.side}px`; // its size on the page, whatever its pixels (max-width may shrink it)
  const picture = document.createElement("canvas"); // never on the page: what is sent
  picture.width = picture.height = data.side;
  const tools = document.createElement("div");
  tools.className = "digit-canvas-tools";
  const undo = button("undo", UNDO_ICON);
  const clear = button("clear", BIN_ICON);
  tools.append(undo, clear);
  root.append(canvas, tools);
  parentElement.append(root);
  const state = { canvas, picture, side: data.side, undo, clear, strokes: structuredClone(data.strokes || []),
    current: null, frame: 0 };
  const changed = () => { show(state); send(state); };
  undo.addEventListener("click", () => { if (state.strokes.pop()) changed(); });
  clear.addEventListener("click", () => { if (state.strokes.length) { state.strokes = []; changed(); } });
  listen(state);
  show(state);
  return state;
}

export default function ({ parentElement, data, setStateValue }) {
  const state = canvases.get(parentElement) || built(parentElement, data);
  canvases.set(parentElement, state);
  Object.assign(state, { pen: data.pen, setStateValue });
  state.undo.title = state.undo.ariaLabel = data.undo;
  state.clear.title = state.clear.ariaLabel = data.clear;
}
