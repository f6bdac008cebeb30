// In the popup that connected an account: tell the page that opened it
// (same origin only) and close.
(() => {
  "use strict";
  const el = document.getElementById("connect-result");
  if (!el || !window.opener || window.opener.closed) return;
  const ok = el.dataset.ok === "true";
  try {
    window.opener.postMessage({
      type: "latchkey:connected", ok, account: el.dataset.account, message: el.dataset.message || "",
      name: el.dataset.name || "", app: el.dataset.app || "", reconnected: el.dataset.reconnected === "true",
    }, window.location.origin);
  } catch (err) {
    return;
  }
  // The page that opened this window now says what happened.
  setTimeout(() => window.close(), ok ? 400 : 2500);
})();
