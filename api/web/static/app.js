// mstack pages: small enhancements on top of plain HTML forms (the pages work without it).

/** The CSRF token of this page, for scripts that call the API with the session cookie. */
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

/** fetch() for the API: sends the session cookie and, for writes, the CSRF token. */
export function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  const method = (options.method || "GET").toUpperCase();
  if (!["GET", "HEAD", "OPTIONS"].includes(method)) headers.set("X-CSRF-Token", csrfToken());
  return fetch(path, { ...options, headers, credentials: "same-origin" });
}

// Copy buttons: <button data-copy="ID"> copies the text of the element with that id.
function copyButtons() {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(source.textContent.trim());
      button.textContent = "Copied";
    });
  }
}

copyButtons();
