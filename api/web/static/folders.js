// A folder's page: uploads into this folder, the tree's branches loaded when opened, and
// moving files and folders by dragging them onto a folder or a breadcrumb. The page works
// without it (links and plain forms, "Move to..." for each item); this calls the same API.
import { api, csrfToken } from "./app.js";

const main = document.querySelector("[data-folder]");
const folderId = main ? main.dataset.folder : null;
const alertBox = document.getElementById("move-status");
const grid = document.getElementById("item-grid");

async function problem(reply) {
  try {
    const body = await reply.json();
    if (body && typeof body.detail === "string") return body.detail;
  } catch {
    // not problem details
  }
  return `refused (${reply.status})`;
}

function showError(text) {
  alertBox.textContent = text;
  alertBox.hidden = false;
}

function say(text) {
  let box = document.getElementById("move-done");
  if (!box) {
    box = document.createElement("div");
    box.id = "move-done";
    box.className = "notice";
    box.setAttribute("role", "status");
    alertBox.after(box);
  }
  alertBox.hidden = true;
  box.textContent = text;
}

// -- the tree --------------------------------------------------------------------------

function node(folder) {
  const item = document.createElement("li");
  item.className = "node";
  const twisty = document.createElement("button");
  twisty.type = "button";
  twisty.className = "twisty";
  twisty.dataset.branch = folder.id;
  twisty.setAttribute("aria-expanded", "false");
  twisty.setAttribute("aria-label", `Show folders in ${folder.name}`);
  const link = document.createElement("a");
  link.href = `/folders/${encodeURIComponent(folder.id)}`;
  link.dataset.drop = folder.id;
  link.textContent = folder.name;
  item.append(twisty, link);
  return item;
}

async function toggle(twisty) {
  const item = twisty.closest("li");
  const name = item.querySelector(":scope > a").textContent;
  let branch = item.querySelector(":scope > ul");
  const open = twisty.getAttribute("aria-expanded") === "true";
  if (open) {
    if (branch) branch.hidden = true;
    twisty.setAttribute("aria-expanded", "false");
    twisty.setAttribute("aria-label", `Show folders in ${name}`);
    return;
  }
  if (!branch) {
    const id = encodeURIComponent(twisty.dataset.branch);
    const reply = await api(`/api/v1/folders/${id}/children?limit=200`);
    if (!reply.ok) {
      showError(await problem(reply));
      return;
    }
    const page = await reply.json();
    branch = document.createElement("ul");
    for (const folder of page.folders) branch.append(node(folder));
    if (!page.folders.length) {
      twisty.remove(); // nothing below: no branch to open
      return;
    }
    item.append(branch);
  }
  branch.hidden = false;
  twisty.setAttribute("aria-expanded", "true");
  twisty.setAttribute("aria-label", `Hide folders in ${name}`);
}

for (const twisty of document.querySelectorAll("button.twisty")) twisty.hidden = false;
document.addEventListener("click", (event) => {
  const twisty = event.target.closest("button.twisty");
  if (twisty) toggle(twisty);
});

// -- moving by drag and drop --------------------------------------------------------------

const ITEM = "application/x-mstack-item";
let dragged = null;

document.addEventListener("dragstart", (event) => {
  const tile = event.target.closest && event.target.closest("[data-kind][draggable='true']");
  if (!tile) return;
  dragged = { kind: tile.dataset.kind, id: tile.dataset.id, tile };
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData(ITEM, JSON.stringify({ kind: dragged.kind, id: dragged.id }));
  event.dataTransfer.setData("text/plain", tile.querySelector(".name").textContent);
  tile.classList.add("dragging");
});

document.addEventListener("dragend", () => {
  if (dragged) dragged.tile.classList.remove("dragging");
  dragged = null;
  for (const el of document.querySelectorAll(".drop-over")) el.classList.remove("drop-over");
});

function dropTarget(event) {
  const target = event.target.closest && event.target.closest("[data-drop]");
  if (!target || !dragged) return null;
  if (target.dataset.drop === folderId) return null; // already here
  if (dragged.kind === "folder" && target.dataset.drop === dragged.id) return null;
  return target;
}

document.addEventListener("dragover", (event) => {
  const target = dropTarget(event);
  if (!target) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "move";
  target.classList.add("drop-over");
});

document.addEventListener("dragleave", (event) => {
  const target = event.target.closest && event.target.closest("[data-drop]");
  if (target && !target.contains(event.relatedTarget)) target.classList.remove("drop-over");
});

document.addEventListener("drop", async (event) => {
  const target = dropTarget(event);
  if (!target) return;
  event.preventDefault();
  target.classList.remove("drop-over");
  const { kind, id, tile } = dragged;
  const where = target.dataset.drop;
  const name = tile.querySelector(".name").textContent;
  const whereName = target.querySelector(".name")?.textContent || target.textContent.trim();
  const path = kind === "file" ? `/api/v1/files/${encodeURIComponent(id)}` : `/api/v1/folders/${encodeURIComponent(id)}`;
  const body = kind === "file" ? { folder_id: where } : { parent_id: where };
  const reply = await api(path, {
    method: "PATCH",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!reply.ok) {
    showError(`Could not move ${name}: ${await problem(reply)}`);
    return;
  }
  tile.remove();
  say(`Moved ${name} to ${whereName}.`);
});

// -- uploads into this folder ---------------------------------------------------------

const input = document.getElementById("upload-input");
const zone = document.querySelector("[data-folder-upload]");
const list = document.getElementById("uploads");

function tile(record) {
  const item = document.createElement("li");
  item.className = "thumb";
  item.dataset.kind = "file";
  item.dataset.id = record.id;
  if (main.dataset.canManage === "yes") item.draggable = true;
  const link = document.createElement("a");
  link.href = `/files/${encodeURIComponent(record.id)}`;
  link.draggable = false;
  const kind = document.createElement("span");
  kind.className = "placeholder";
  kind.setAttribute("aria-hidden", "true");
  const dot = record.filename.lastIndexOf(".");
  kind.textContent = dot > 0 ? record.filename.slice(dot + 1, dot + 6) : "file";
  const name = document.createElement("span");
  name.className = "name";
  name.title = record.filename;
  name.textContent = record.filename;
  link.append(kind, name);
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = record.status;
  item.append(link, meta);
  return item;
}

function upload(file) {
  const row = document.createElement("li");
  row.className = "row upload";
  const text = document.createElement("div");
  const name = document.createElement("p");
  name.className = "strong";
  name.textContent = file.name;
  const status = document.createElement("p");
  status.className = "muted";
  status.textContent = "waiting";
  text.append(name, status);
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute("aria-label", `Uploading ${file.name}`);
  row.append(text, bar);
  list.prepend(row);
  const xhr = new XMLHttpRequest();
  const query = `filename=${encodeURIComponent(file.name)}&folder_id=${encodeURIComponent(folderId)}`;
  xhr.open("POST", `/api/v1/files?${query}`);
  xhr.setRequestHeader("X-CSRF-Token", csrfToken());
  xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
  xhr.upload.addEventListener("progress", (event) => {
    if (!event.lengthComputable) return;
    bar.value = Math.round((100 * event.loaded) / event.total);
    status.textContent = `uploading ${bar.value}%`;
  });
  xhr.addEventListener("load", () => {
    if (xhr.status !== 201) {
      let reason = `refused (${xhr.status})`;
      try {
        const body = JSON.parse(xhr.responseText);
        if (typeof body.detail === "string") reason = body.detail;
      } catch {
        // not problem details
      }
      status.textContent = reason;
      status.classList.add("bad");
      row.classList.add("failed");
      return;
    }
    const [record] = JSON.parse(xhr.responseText);
    bar.value = 100;
    status.textContent = "uploaded into this folder";
    grid.hidden = false;
    document.getElementById("empty-folder")?.remove();
    grid.append(tile(record));
  });
  xhr.addEventListener("error", () => {
    status.textContent = "the network connection was lost";
    status.classList.add("bad");
    row.classList.add("failed");
  });
  xhr.send(file);
}

if (zone && input && folderId) {
  input.addEventListener("change", () => {
    for (const file of input.files) upload(file);
    input.value = "";
  });
  zone.addEventListener("dragover", (event) => {
    if (dragged) return; // moving an item, not uploading
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    if (dragged) return;
    event.preventDefault();
    zone.classList.remove("over");
    for (const file of event.dataTransfer.files) upload(file);
  });
}
