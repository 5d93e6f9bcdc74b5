// The share dialog: a "Share" link (data-share) opens the share page's form in a dialog
// on this page; its forms post as usual and come back here with #share, which opens the
// dialog again to show the result. Without this script the link opens the share page.
const links = document.querySelectorAll("a[data-share]");

function dialogFor() {
  let dialog = document.getElementById("share-dialog");
  if (dialog) return dialog;
  dialog = document.createElement("dialog");
  dialog.id = "share-dialog";
  dialog.className = "share-dialog";
  dialog.setAttribute("aria-labelledby", "share-title");
  const close = document.createElement("button");
  close.type = "button";
  close.className = "close";
  close.textContent = "Close";
  close.addEventListener("click", () => dialog.close());
  const body = document.createElement("div");
  body.className = "body";
  dialog.append(close, body);
  dialog.addEventListener("close", () => {
    if (location.hash === "#share") history.replaceState(null, "", location.pathname + location.search);
  });
  document.body.append(dialog);
  return dialog;
}

async function open(link) {
  const address = new URL(link.href, location.href);
  address.searchParams.set("partial", "true");
  const reply = await fetch(address, { credentials: "same-origin", headers: { Accept: "text/html" } });
  if (!reply.ok) {
    location.href = link.href; // the share page says what went wrong
    return;
  }
  const dialog = dialogFor();
  // The server's own fragment, every user-written value escaped there.
  dialog.querySelector(".body").innerHTML = await reply.text();
  if (!dialog.open) dialog.showModal();
  const first = dialog.querySelector("input:not([type=hidden]), select, button:not(.close)");
  if (first) first.focus();
}

for (const link of links) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    open(link);
  });
}
if (location.hash === "#share" && links.length) open(links[0]);
