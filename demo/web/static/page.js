// The web demo page: choose a video, give the first-frame mask (painted
// layers, one per object, at the frame's own resolution, or a PNG), run the
// propagation with a progress bar, show and offer the results. All work is
// done by the server's JSON API (demo/web/server.py).
'use strict';

const $ = (id) => document.getElementById(id);
const COLOURS = JSON.parse(document.body.dataset.colours);
// Shortest and longest side of the painting canvas on screen, in CSS pixels.
const MIN_VIEW = 320;
const MAX_VIEW = 720;

const state = {
  video: null,       // the server's video session
  width: 0,
  height: 0,
  numFrames: 0,
  frame: null,       // Image of frame 0
  layers: [],        // one canvas per object, frame-sized
  active: 0,         // index of the layer being painted
  last: null,        // previous brush position while a stroke goes on
  preview: null,     // Image of an uploaded or demo mask
  run: null,         // the result being shown
};

function showMessage(text, isError, actionLabel, action) {
  $('message').hidden = false;
  $('message').classList.toggle('error', Boolean(isError));
  $('message-text').textContent = text;
  const button = $('message-action');
  button.hidden = !action;
  if (action) {
    button.textContent = actionLabel;
    button.onclick = () => { hideMessage(); action(); };
  }
}

function hideMessage() { $('message').hidden = true; }

// POST a form and return the JSON answer; an error answer throws an Error
// carrying the server's fields.
async function post(url, body) {
  const response = await fetch(url, {method: 'POST', body});
  let answer;
  try {
    answer = await response.json();
  } catch (e) {
    answer = {error: `the server answered ${response.status} ${response.statusText}`};
  }
  if (!response.ok) {
    throw Object.assign(new Error(answer.error || response.statusText), answer);
  }
  return answer;
}

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error(`could not load ${src}`));
    image.src = src;
  });
}

// ---- 1. video -------------------------------------------------------------

async function openVideo(form, what) {
  showMessage(`Reading ${what} and measuring the speed of the model...`);
  for (const id of ['step-mask', 'step-run', 'step-result']) $(id).hidden = true;
  let info;
  try {
    info = await post('/api/video', form);
  } catch (e) {
    showMessage(e.message, true);
    return;
  }
  Object.assign(state, {
    video: info.video, width: info.width, height: info.height,
    numFrames: info.num_frames, layers: [], preview: null, run: null,
  });
  state.frame = await loadImage(`/api/video/${info.video}/frame/0`);
  $('video-info').textContent =
    `${info.label}: ${info.num_frames} frames of ${info.width}x${info.height}; ` +
    `a run takes about ${info.seconds.toFixed(1)} s on ${document.body.dataset.device} ` +
    `(${info.frames_per_second.toFixed(2)} frames/s measured).`;
  $('frame-cap').hidden = false;
  $('max-frames').max = info.num_frames;
  $('max-frames').placeholder = info.num_frames;
  $('max-frames').value = info.too_long ? info.frame_budget : '';
  if (info.too_long) {
    showMessage(`This video is too long for the ${document.body.dataset.maxSeconds} s ` +
                `limit: only its first ${info.frame_budget} frames will be used ` +
                '(change the number below).', true);
  } else {
    hideMessage();
  }
  $('demo-source').hidden = !info.demo_mask;
  if (info.demo_mask) {
    state.preview = transparentBackground(
      await loadImage(`/api/video/${info.video}/demo-mask`));
    selectSource('demo');
  } else {
    selectSource('paint');
  }
  setupCanvas();
  addObject();
  $('step-mask').hidden = false;
  $('step-run').hidden = false;
}

$('video-file').addEventListener('change', () => {
  const file = $('video-file').files[0];
  if (!file) return;
  const form = new FormData();
  form.append('video', file);
  openVideo(form, file.name);
});

if ($('demo-load')) {
  $('demo-load').addEventListener('click', () => {
    const form = new FormData();
    form.append('demo', $('demo-name').value);
    openVideo(form, $('demo-name').value);
  });
}

// ---- 2. mask --------------------------------------------------------------

function maskSource() {
  return document.querySelector('input[name="mask-source"]:checked').value;
}

function selectSource(value) {
  document.querySelector(`input[name="mask-source"][value="${value}"]`).checked = true;
  $('paint-tools').hidden = value !== 'paint';
  $('file-tools').hidden = value !== 'file';
  redraw();
}

for (const radio of document.querySelectorAll('input[name="mask-source"]')) {
  radio.addEventListener('change', async () => {
    if (radio.value === 'demo') {
      state.preview = transparentBackground(
        await loadImage(`/api/video/${state.video}/demo-mask`));
    } else if (radio.value === 'file') {
      state.preview = null;
      await previewMaskFile();
    }
    selectSource(radio.value);
  });
}

async function previewMaskFile() {
  const file = $('mask-file').files[0];
  if (!file) return;
  const url = URL.createObjectURL(file);
  try {
    state.preview = transparentBackground(await loadImage(url));
  } catch (e) {
    state.preview = null;
    showMessage(`${file.name} is not an image the browser can show; ` +
                'the server will still try to read it.', true);
  }
}

// A canvas of a mask image whose black (id 0 in an indexed PNG with a black
// first colour, or 0 in a 0/255 image) is transparent.
function transparentBackground(image) {
  const layer = document.createElement('canvas');
  layer.width = image.naturalWidth;
  layer.height = image.naturalHeight;
  const ctx = layer.getContext('2d');
  ctx.drawImage(image, 0, 0);
  const pixels = ctx.getImageData(0, 0, layer.width, layer.height);
  const data = pixels.data;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 0) data[i + 3] = 0;
  }
  ctx.putImageData(pixels, 0, 0);
  return layer;
}

$('mask-file').addEventListener('change', async () => {
  await previewMaskFile();
  selectSource('file');
});

function setupCanvas() {
  const canvas = $('paint-canvas');
  canvas.width = state.width;
  canvas.height = state.height;
  const longest = Math.max(state.width, state.height);
  const scale = Math.min(MAX_VIEW / longest, Math.max(1, MIN_VIEW / longest));
  canvas.style.width = `${Math.round(state.width * scale)}px`;
  canvas.style.height = `${Math.round(state.height * scale)}px`;
  redraw();
}

function addObject() {
  const layer = document.createElement('canvas');
  layer.width = state.width;
  layer.height = state.height;
  state.layers.push(layer);
  state.active = state.layers.length - 1;
  listObjects();
  redraw();
}

function colour(k) { return COLOURS[k % COLOURS.length]; }

function listObjects() {
  const list = $('objects');
  list.textContent = '';
  state.layers.forEach((layer, k) => {
    const button = document.createElement('button');
    button.textContent = String(k + 1);
    button.title = `object ${k + 1}`;
    button.style.background = colour(k);
    button.classList.toggle('active', k === state.active);
    button.addEventListener('click', () => { state.active = k; listObjects(); });
    list.appendChild(button);
  });
}

$('add-object').addEventListener('click', addObject);
$('clear-object').addEventListener('click', () => {
  const layer = state.layers[state.active];
  layer.getContext('2d').clearRect(0, 0, layer.width, layer.height);
  redraw();
});

function redraw() {
  const canvas = $('paint-canvas');
  if (!state.frame) return;
  const ctx = canvas.getContext('2d');
  ctx.globalAlpha = 1;
  ctx.drawImage(state.frame, 0, 0);
  ctx.globalAlpha = 0.6;
  if (maskSource() === 'paint') {
    for (const layer of state.layers) ctx.drawImage(layer, 0, 0);
  } else if (state.preview) {
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(state.preview, 0, 0, canvas.width, canvas.height);
  }
  ctx.globalAlpha = 1;
}

// A brush stroke paints the active object and removes every other object
// under it (the eraser removes all objects), so the objects never overlap.
function stroke(to) {
  const from = state.last || to;
  const width = Number($('brush-size').value);
  state.layers.forEach((layer, k) => {
    const ctx = layer.getContext('2d');
    const paint = k === state.active && !$('eraser').checked;
    ctx.globalCompositeOperation = paint ? 'source-over' : 'destination-out';
    ctx.strokeStyle = colour(k);
    ctx.lineWidth = width;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x + 0.01, to.y);
    ctx.stroke();
  });
  state.last = to;
  redraw();
}

function framePoint(event, element, width, height) {
  const box = element.getBoundingClientRect();
  const x = (event.clientX - box.left) / box.width * width;
  const y = (event.clientY - box.top) / box.height * height;
  return {x: Math.min(Math.max(x, 0), width), y: Math.min(Math.max(y, 0), height)};
}

const canvas = $('paint-canvas');
canvas.addEventListener('pointerdown', (event) => {
  if (maskSource() !== 'paint') selectSource('paint');
  canvas.setPointerCapture(event.pointerId);
  state.last = null;
  stroke(framePoint(event, canvas, state.width, state.height));
});
canvas.addEventListener('pointermove', (event) => {
  if (state.last) stroke(framePoint(event, canvas, state.width, state.height));
});
for (const type of ['pointerup', 'pointercancel']) {
  canvas.addEventListener(type, () => { state.last = null; });
}

// ---- 3. run ---------------------------------------------------------------

async function runPropagation() {
  hideMessage();
  $('step-result').hidden = true;
  const form = new FormData();
  form.append('video', state.video);
  form.append('source', maskSource());
  form.append('resize', $('resize-mask').checked ? '1' : '0');
  form.append('max_frames', $('max-frames').value);
  if (maskSource() === 'paint') {
    form.append('layers', JSON.stringify(state.layers.map((l) => l.toDataURL('image/png'))));
  } else if (maskSource() === 'file' && $('mask-file').files[0]) {
    form.append('mask', $('mask-file').files[0]);
  }
  let started;
  try {
    started = await post('/api/run', form);
  } catch (e) {
    if (e.kind === 'mask_size') {
      showMessage(e.message, true, 'Resize the mask and run', () => {
        $('resize-mask').checked = true;
        runPropagation();
      });
    } else if (e.kind === 'too_long') {
      showMessage(e.message, true, `Use the first ${e.frame_budget} frames and run`, () => {
        $('max-frames').value = e.frame_budget;
        runPropagation();
      });
    } else {
      showMessage(e.message, true);
    }
    return;
  }
  $('run').disabled = true;
  $('progress').max = started.total;
  $('progress').value = 0;
  $('progress-text').textContent = `0 / ${started.total} frames`;
  poll(started.run);
}

async function poll(key) {
  let report;
  try {
    report = await (await fetch(`/api/run/${key}`)).json();
  } catch (e) {
    $('run').disabled = false;
    showMessage(`lost the server: ${e.message}`, true);
    return;
  }
  $('progress').value = report.done;
  $('progress-text').textContent = `${report.done} / ${report.total} frames`;
  if (report.state === 'running') {
    setTimeout(() => poll(key), 250);
    return;
  }
  $('run').disabled = false;
  if (report.state === 'failed') {
    showMessage(report.error, true);
    return;
  }
  $('progress-text').textContent =
    `${report.total} frames in ${report.seconds.toFixed(1)} s: done`;
  showResult(report);
}

$('run').addEventListener('click', runPropagation);

// ---- 4. result ------------------------------------------------------------

function showResult(report) {
  state.run = report;
  $('overlay-video').src = report.video;
  $('download-masks').href = report.masks;
  $('download-mp4').href = report.mp4;
  const longest = Math.max(state.width, state.height);
  const scale = Math.min(MAX_VIEW / 2 / longest, Math.max(1, MIN_VIEW / longest));
  for (const id of ['overlay-video', 'overlay-frame']) {
    $(id).parentElement.style.width = `${Math.round(state.width * scale)}px`;
  }
  $('frame-slider').max = report.total - 1;
  $('frame-slider').value = 0;
  $('heatmap-frame').max = report.total - 1;
  $('heatmap-frame').value = report.total - 1;
  $('heatmap-box').hidden = true;
  showFrame(0);
  $('step-result').hidden = false;
}

function showFrame(t) {
  $('frame-index').textContent = String(t);
  $('overlay-frame').src = `${state.run.frame}${t}`;
}

$('frame-slider').addEventListener('input', () => showFrame(Number($('frame-slider').value)));

$('overlay-frame').addEventListener('click', async (event) => {
  const point = framePoint(event, $('overlay-frame'), state.width, state.height);
  const query = {
    video: state.video,
    frame_a: Number($('frame-slider').value),
    frame_b: Number($('heatmap-frame').value),
    x: Math.min(point.x, state.width - 1),
    y: Math.min(point.y, state.height - 1),
  };
  const response = await fetch('/api/heatmap', {
    method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify(query),
  });
  if (!response.ok) {
    showMessage((await response.json()).error, true);
    return;
  }
  const heatmap = await loadImage(URL.createObjectURL(await response.blob()));
  // as large on screen as the overlay frame, whose size it shares
  const scale = $('overlay-frame').clientWidth / state.width;
  $('heatmap').src = heatmap.src;
  $('heatmap').style.width = `${Math.round(heatmap.naturalWidth * scale)}px`;
  $('heatmap-box').hidden = false;
});
