// In the popup that connected an account: tell the page that opened it
// (same origin only) and close.
(() => {
  "use strict";
  const el = document.getElementById("connect-result");
  if (!el || !window.opener || window.opener.closed) return;
  const ok = el.dataset.ok === "true";
  try {
    window.opener.postMessage({ type: "latchkey:connected", ok, account: el.dataset.account }, window.location.origin);
  } catch (err) {
    return;
  }
  if (ok) setTimeout(() => window.close(), 400);
})();
