// On the hosted connect page opened by connect.js: tell the page that
// opened it (its popup's opener, or its modal's parent) how it went. The
// server writes the element only for an origin the connect token allows,
// and the message goes to exactly that origin, never "*": a page of any
// other origin gets nothing.
(() => {
  "use strict";
  const el = document.getElementById("link-embed");
  const origin = el && el.dataset.origin;
  if (!origin) return;
  let target = null;
  if (window.opener && !window.opener.closed) target = window.opener;
  else if (window.parent !== window) target = window.parent;
  if (!target) return;

  let message = { type: "latchkey:ready" };
  if (el.dataset.failed) message = { type: "latchkey:error", code: el.dataset.failed };
  else if (el.dataset.account) message = { type: "latchkey:success", accountId: el.dataset.account };
  // A window that has gone to another origin meanwhile gets nothing.
  target.postMessage(message, origin);
  // In the modal, Escape closes it even while the focus is in this page.
  if (target === window.parent) {
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape") target.postMessage({ type: "latchkey:close" }, origin);
    });
  }
})();
