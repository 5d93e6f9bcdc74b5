// Record forms: a search-as-you-type picker for links to records, a picker over your own
// files (with thumbnails) for file links, and list rows added, removed and moved without
// a round trip. Without this script the same form works: ids typed or pasted, and the
// row buttons submit the form to the server, which shows it again rearranged.
import { api, csrfToken } from "./app.js";

let unique = 0;

function element(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

function titleOf(item, path) {
  let value = item;
  for (const part of path.split(".")) value = value && typeof value === "object" ? value[part] : undefined;
  return typeof value === "string" && value ? value : item.id;
}

// -- links to records -------------------------------------------------------------------

function linkPicker(input) {
  if (input.dataset.enhanced) return;
  input.dataset.enhanced = "1";
  const n = ++unique;
  const label = input.dataset.pickerLabel;
  const wrap = element("div", { class: "picker" });
  const search = element("input", {
    type: "search", id: `pick-${n}`, autocomplete: "off", role: "combobox",
    "aria-expanded": "false", "aria-controls": `pick-${n}-list`, "aria-autocomplete": "list",
    placeholder: `Search ${label}`,
  });
  const searchLabel = element("label", { for: `pick-${n}`, class: "visually-hidden" }, `Search ${label} for ${input.labels[0]?.textContent.trim() || "a link"}`);
  const list = element("ul", { id: `pick-${n}-list`, role: "listbox", class: "options", hidden: "" });
  const chosen = element("p", { class: "chosen", "aria-live": "polite" });
  const clear = element("button", { type: "button", class: "small" }, "Clear");
  input.type = "hidden";
  input.after(wrap);
  wrap.append(searchLabel, search, list, chosen);

  function show(id, title) {
    chosen.textContent = "";
    if (!id) return;
    const link = element("a", { href: `${input.dataset.pickerRoute}/${id}` }, title || id);
    chosen.append("Chosen: ", link, " ");
    chosen.append(clear);
  }
  clear.addEventListener("click", () => { input.value = ""; show(""); search.focus(); });

  if (input.value) {
    api(`${input.dataset.picker}/${encodeURIComponent(input.value)}`).then(async (reply) => {
      show(input.value, reply.ok ? titleOf(await reply.json(), input.dataset.pickerTitle) : input.value);
    });
  }

  let timer = 0;
  let asked = 0;
  async function find() {
    const words = search.value.trim();
    const mine = ++asked;
    const params = new URLSearchParams({ limit: "8" });
    if (words && input.dataset.pickerSearch) params.set(input.dataset.pickerSearch, words);
    const reply = await api(`${input.dataset.picker}?${params}`);
    if (mine !== asked || !reply.ok) return;
    const page = await reply.json();
    list.replaceChildren();
    for (const item of page.items) {
      const option = element("li", { role: "option", tabindex: "-1", "data-id": item.id }, titleOf(item, input.dataset.pickerTitle));
      option.addEventListener("click", () => choose(item));
      option.addEventListener("keydown", (event) => {
        if (event.key === "Enter") { event.preventDefault(); choose(item); }
        if (event.key === "ArrowDown") option.nextElementSibling?.focus();
        if (event.key === "ArrowUp") (option.previousElementSibling || search).focus();
        if (event.key === "Escape") close();
      });
      list.append(option);
    }
    if (!page.items.length) list.append(element("li", { class: "muted" }, `No ${label} match.`));
    list.hidden = false;
    search.setAttribute("aria-expanded", "true");
  }
  function close() {
    list.hidden = true;
    search.setAttribute("aria-expanded", "false");
  }
  function choose(item) {
    input.value = item.id;
    show(item.id, titleOf(item, input.dataset.pickerTitle));
    search.value = "";
    close();
    search.focus();
  }
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(find, 150); });
  search.addEventListener("focus", () => { if (list.hidden) find(); });
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") { event.preventDefault(); list.querySelector("[role=option]")?.focus(); }
    if (event.key === "Escape") close();
    if (event.key === "Enter") { event.preventDefault(); const first = list.querySelector("[role=option]"); if (first) first.click(); }
  });
  wrap.addEventListener("focusout", () => setTimeout(() => { if (!wrap.contains(document.activeElement)) close(); }, 100));
}

// -- links to files ---------------------------------------------------------------------

function matches(types, contentType) {
  if (!types.length) return true;
  return types.some((t) => (t.endsWith("/*") ? contentType.startsWith(t.slice(0, -1)) : contentType === t));
}

function problem(xhr) {
  try {
    const body = JSON.parse(xhr.responseText);
    if (body && typeof body.detail === "string") return body.detail;
  } catch {
    // not problem details: fall through to the status line
  }
  return xhr.status ? `refused (${xhr.status})` : "the network connection was lost";
}

// "Upload a new one": a file input beside the picker that uploads the chosen file into
// the caller's own space, shows its progress, and fills the field with the new file's CID.
// The server decides the file's type from its bytes; `accept` only narrows the dialog.
function uploadHere(input, types, chosen) {
  const id = `upload-here-${unique++}`;
  const wrap = element("span", { class: "upload-here" });
  const label = element("label", { for: id, class: "button small" }, "Upload a new one");
  const file = element("input", { type: "file", id, class: "visually-hidden" });
  if (types.length) file.setAttribute("accept", types.join(","));
  const bar = element("progress", { max: "100", value: "0", hidden: "" });
  const status = element("span", { class: "muted", role: "status" });
  wrap.append(file, label, bar, status);
  file.addEventListener("change", () => {
    const picked = file.files && file.files[0];
    if (!picked) return;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1/files?filename=${encodeURIComponent(picked.name)}`);
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("Content-Type", picked.type || "application/octet-stream");
    bar.hidden = false;
    bar.value = 0;
    status.textContent = `uploading ${picked.name}`;
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.value = Math.round((100 * event.loaded) / event.total);
    });
    const refused = (why) => {
      bar.hidden = true;
      status.textContent = `${picked.name}: ${why}`;
      status.classList.add("field-error");
      file.value = "";
    };
    xhr.addEventListener("error", () => refused(problem(xhr)));
    xhr.addEventListener("load", () => {
      if (xhr.status !== 201) return refused(problem(xhr));
      const [record] = JSON.parse(xhr.responseText);
      if (types.length && !matches(types, record.content_type)) {
        return refused(`it is ${record.content_type}, and this field takes ${types.join(", ")} (it stays in your files)`);
      }
      input.value = record.cid;
      bar.value = 100;
      status.classList.remove("field-error");
      status.textContent = `uploaded ${picked.name}`;
      file.value = "";
      chosen(picked.name);
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    xhr.send(picked);
  });
  return wrap;
}

function filePicker(input) {
  if (input.dataset.enhanced) return;
  input.dataset.enhanced = "1";
  const types = input.dataset.filePicker ? input.dataset.filePicker.split(",") : [];
  const button = element("button", { type: "button", class: "small", "aria-expanded": "false" }, "Choose from your files");
  const grid = element("ul", { class: "file-choices", hidden: "" });
  input.after(button, uploadHere(input, types, (name) => {
    grid.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.textContent = `Chosen: ${name} (change)`;
  }), grid);
  button.addEventListener("click", async () => {
    if (!grid.hidden) { grid.hidden = true; button.setAttribute("aria-expanded", "false"); return; }
    const reply = await api("/api/v1/files?mine=true&limit=60");
    if (!reply.ok) return;
    const page = await reply.json();
    grid.replaceChildren();
    for (const file of page.items.filter((f) => matches(types, f.content_type))) {
      const pick = element("button", { type: "button", class: "file-choice", "aria-pressed": String(file.cid === input.value), title: file.filename });
      const img = element("img", { src: `/api/v1/files/${file.id}/previews/preview-256`, alt: "", width: "96", height: "96", loading: "lazy" });
      img.addEventListener("error", () => img.replaceWith(element("span", { class: "placeholder" }, file.content_type.split("/")[1] || "file")));
      pick.append(img, element("span", { class: "name" }, file.filename));
      pick.addEventListener("click", () => {
        input.value = file.cid;
        for (const other of grid.querySelectorAll("[aria-pressed]")) other.setAttribute("aria-pressed", "false");
        pick.setAttribute("aria-pressed", "true");
        grid.hidden = true;
        button.setAttribute("aria-expanded", "false");
        button.textContent = `Chosen: ${file.filename} (change)`;
        input.focus();
      });
      grid.append(element("li", {}, ""));
      grid.lastChild.append(pick);
    }
    if (!grid.children.length) grid.append(element("li", { class: "muted" }, "None of your files fits: upload one on the Files page."));
    grid.hidden = false;
    button.setAttribute("aria-expanded", "true");
  });
}

// -- list rows --------------------------------------------------------------------------

function renumber(fieldset) {
  const path = fieldset.dataset.list;
  const rows = fieldset.querySelectorAll(":scope > ol > [data-row]");
  const label = fieldset.dataset.label;
  rows.forEach((row, index) => {
    const rowLabel = row.querySelector("[data-row-label]");
    if (rowLabel) rowLabel.textContent = `${label} ${index + 1}`;
    for (const button of row.querySelectorAll(":scope > .row-buttons > button")) {
      const verb = { up: "Move", down: "Move", remove: "Remove" }[button.dataset.move];
      const where = { up: " up", down: " down", remove: "" }[button.dataset.move];
      button.setAttribute("aria-label", `${verb} ${label} ${index + 1}${where}`);
      button.value = `${button.dataset.move}:${path}:${index}`;
    }
    for (const node of row.querySelectorAll("[name]")) {
      if (node.name === "_row") continue;
      const rest = node.name.slice(path.length + 1).replace(/^\d+/, String(index));
      node.name = `${path}.${rest}`;
    }
  });
  const max = Number(fieldset.dataset.max || 0);
  const add = fieldset.querySelector(":scope > [data-add]");
  if (add) add.disabled = Boolean(max) && rows.length >= max;
}

function listRows(fieldset) {
  const ol = fieldset.querySelector(":scope > ol");
  fieldset.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || button.closest("fieldset[data-list]") !== fieldset) return;
    const row = button.closest("[data-row]");
    if (button.dataset.add !== undefined) {
      event.preventDefault();
      const last = ol.lastElementChild;
      const copy = last.cloneNode(true);
      for (const node of copy.querySelectorAll("input, textarea, select")) {
        if (node.type === "hidden" && node.dataset.picker === undefined) continue;
        node.value = "";
        node.removeAttribute("aria-invalid");
      }
      for (const node of copy.querySelectorAll(".picker, .file-choices, .field-error, .chosen")) node.remove();
      for (const node of copy.querySelectorAll("[data-enhanced]")) {
        delete node.dataset.enhanced;
        if (node.dataset.picker !== undefined) node.type = "text";
      }
      for (const node of copy.querySelectorAll("button:not([data-move])")) node.remove();
      const renamed = new Map();
      for (const node of copy.querySelectorAll("[id]")) {
        const id = `${node.id}-${++unique}`;
        renamed.set(node.id, id);
        node.id = id;
      }
      for (const node of copy.querySelectorAll("label[for]")) node.htmlFor = renamed.get(node.htmlFor) || node.htmlFor;
      for (const node of copy.querySelectorAll("[aria-describedby]")) {
        const ids = node.getAttribute("aria-describedby").split(" ").map((id) => renamed.get(id)).filter(Boolean);
        if (ids.length) node.setAttribute("aria-describedby", ids.join(" "));
        else node.removeAttribute("aria-describedby");
      }
      ol.append(copy);
      renumber(fieldset);
      enhance(copy);
      copy.querySelector("input:not([type=hidden]), textarea, select")?.focus();
      return;
    }
    if (!row || !button.dataset.move) return;
    event.preventDefault();
    if (button.dataset.move === "remove") {
      if (ol.children.length > 1) row.remove();
      else for (const node of row.querySelectorAll("input, textarea")) node.value = "";
    } else if (button.dataset.move === "up" && row.previousElementSibling) {
      row.previousElementSibling.before(row);
    } else if (button.dataset.move === "down" && row.nextElementSibling) {
      row.nextElementSibling.after(row);
    }
    renumber(fieldset);
    button.focus();
  });
}

function enhance(root) {
  for (const input of root.querySelectorAll("input[data-picker]")) linkPicker(input);
  for (const input of root.querySelectorAll("input[data-file-picker]")) filePicker(input);
}

for (const fieldset of document.querySelectorAll("fieldset[data-list]")) listRows(fieldset);
enhance(document);
