// The file manager: uploads with per-file progress, then live processing status from the
// event socket. Plain HTML lists the files; this makes uploading and watching possible.
import { csrfToken } from "./app.js";

const list = document.getElementById("uploads");
const input = document.getElementById("upload-input");
const zone = document.querySelector("[data-upload]");
const rows = new Map(); // file id -> its row's status and thumbnail elements

function words(status, progress) {
  if (status === "running" || status === "processing") return `processing ${progress ?? 0}%`;
  return status;
}

function setStatus(fileId, text, failed = false) {
  for (const el of document.querySelectorAll(`[data-status="${CSS.escape(fileId)}"]`)) {
    el.textContent = text;
    el.classList.toggle("bad", failed);
  }
}

function button(label, name) {
  const control = document.createElement("button");
  control.type = "button";
  control.textContent = label;
  control.setAttribute("aria-label", `${label} ${name}`);
  return control;
}

function row(file) {
  const item = document.createElement("li");
  item.className = "row upload";
  const name = document.createElement("p");
  name.className = "strong";
  name.textContent = file.name;
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute("aria-label", `Uploading ${file.name}`);
  const status = document.createElement("p");
  status.className = "muted";
  status.textContent = "waiting";
  const text = document.createElement("div");
  text.append(name, status);
  const cancel = button("Cancel", file.name);
  item.append(text, bar, cancel);
  list.prepend(item);
  return { item, bar, status, cancel };
}

function failed(view, file, reason, retryable) {
  view.status.textContent = reason;
  view.status.classList.add("bad");
  view.item.classList.add("failed");
  view.cancel.remove();
  if (!retryable) return;
  const retry = button("Retry", file.name);
  retry.addEventListener("click", () => {
    view.item.remove();
    upload(file);
  });
  view.item.append(retry);
}

// Refusals a second try may get past: a timeout, too many requests, a server in trouble.
const RETRYABLE = new Set([0, 408, 429, 500, 502, 503, 504, 507]);

function problem(xhr) {
  try {
    const body = JSON.parse(xhr.responseText);
    if (body && typeof body.detail === "string") return body.detail;
  } catch {
    // not problem details: fall through to the status line
  }
  return xhr.status ? `refused (${xhr.status})` : "the network connection was lost";
}

function upload(file) {
  const view = row(file);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", `/api/v1/files?filename=${encodeURIComponent(file.name)}`);
  xhr.setRequestHeader("X-CSRF-Token", csrfToken());
  xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
  xhr.upload.addEventListener("progress", (event) => {
    if (!event.lengthComputable) return;
    view.bar.value = Math.round((100 * event.loaded) / event.total);
    view.status.textContent = `uploading ${view.bar.value}%`;
  });
  view.cancel.addEventListener("click", () => xhr.abort());
  xhr.addEventListener("abort", () => failed(view, file, "cancelled: nothing was kept", true));
  xhr.addEventListener("load", () => {
    if (xhr.status !== 201) {
      failed(view, file, problem(xhr), RETRYABLE.has(xhr.status));
      return;
    }
    const [record] = JSON.parse(xhr.responseText);
    view.cancel.remove();
    view.bar.value = 100;
    view.status.dataset.status = record.id;
    view.status.textContent = words(record.status);
    const link = document.createElement("a");
    link.href = `/files/${encodeURIComponent(record.id)}`;
    link.textContent = "open";
    view.item.querySelector(".strong").append(" ", link);
    rows.set(record.id, view);
    gridCard(record);
  });
  xhr.addEventListener("error", () => failed(view, file, problem(xhr), true));
  xhr.send(file);
}

// The "Latest first" grid shows each upload as soon as it is stored, and its preview once
// it is ready (only on the grid's first page, unfiltered: elsewhere it would be out of order).
const grid = document.querySelector("#file-grid[data-live]");

function size(bytes) {
  if (bytes === 1) return "1 byte";
  let amount = bytes;
  for (const unit of ["bytes", "KB", "MB", "GB"]) {
    if (amount < 1000 || unit === "GB") return unit === "bytes" ? `${Math.trunc(amount)} bytes` : `${amount.toFixed(1)} ${unit}`;
    amount /= 1000;
  }
  return `${bytes} bytes`;
}

function gridCard(record) {
  if (!grid || grid.querySelector(`[data-file="${CSS.escape(record.id)}"]`)) return;
  const item = document.createElement("li");
  item.className = "thumb";
  item.dataset.file = record.id;
  const link = document.createElement("a");
  link.href = `/files/${encodeURIComponent(record.id)}`;
  const placeholder = document.createElement("span");
  placeholder.className = "placeholder";
  placeholder.setAttribute("aria-hidden", "true");
  placeholder.textContent = (record.filename.split(".").pop() || "file").slice(0, 5);
  const name = document.createElement("span");
  name.className = "name";
  name.title = record.filename;
  name.textContent = record.filename;
  link.append(placeholder, name);
  const meta = document.createElement("span");
  meta.className = "meta";
  const status = document.createElement("span");
  status.dataset.status = record.id;
  status.textContent = words(record.status);
  meta.append(`${size(record.size)} · `, status);
  item.append(link, meta);
  grid.prepend(item);
  document.getElementById("no-files")?.remove();
}

function gridPreview(fileId) {
  const card = grid?.querySelector(`[data-file="${CSS.escape(fileId)}"]`);
  const placeholder = card?.querySelector(".placeholder");
  if (!placeholder) return;
  const img = document.createElement("img");
  img.src = `/api/v1/files/${encodeURIComponent(fileId)}/previews/preview-256`;
  img.alt = card.querySelector(".name").textContent;
  img.width = 256;
  img.height = 256;
  placeholder.replaceWith(img);
}

function uploadAll(files) {
  for (const file of files) upload(file);
}

function follow(after) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/api/v1/events`);
  let last = after;
  socket.addEventListener("open", () => {
    const first = { type: "auth", csrf: csrfToken() };
    if (last !== null) first.after = last;
    socket.send(JSON.stringify(first));
  });
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (typeof event.seq === "number") last = event.seq;
    const data = event.data || {};
    if (!data.file_id) return;
    if (event.type === "job.progress") setStatus(data.file_id, words(data.state, data.progress));
    if (event.type === "file.stored") setStatus(data.file_id, words(data.status));
    if (event.type === "job.failed") setStatus(data.file_id, `failed: ${data.error}`, true);
    if (event.type === "file.ready") {
      setStatus(data.file_id, "ready");
      if ((data.previews || []).includes("preview-256")) gridPreview(data.file_id);
      const view = rows.get(data.file_id);
      if (view && (data.previews || []).includes("preview-256")) {
        const img = document.createElement("img");
        img.src = `/api/v1/files/${encodeURIComponent(data.file_id)}/previews/preview-256`;
        img.alt = view.item.querySelector(".strong").firstChild.textContent;
        img.width = 64;
        img.height = 64;
        view.item.prepend(img);
      }
    }
  });
  socket.addEventListener("close", (event) => {
    if (event.code === 4401 || event.code === 4403) return; // signed out: reloading asks to sign in
    setTimeout(() => follow(last), 2000); // anything else: reconnect and replay what was missed
  });
}

if (zone && input) {
  input.addEventListener("change", () => {
    uploadAll(input.files);
    input.value = "";
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    uploadAll(event.dataTransfer.files);
  });
  follow(null);
}
