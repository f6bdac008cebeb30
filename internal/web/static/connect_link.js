// On the hosted connect page opened by connect.js: tell the page that
// opened it (its popup's opener, or its modal's parent) how it went. The
// server writes the element only for an origin the connect token allows,
// and the message goes to exactly that origin, never "*": a page of any
// other origin gets nothing.
//
// In the modal, an OAuth app's flow cannot stay in the frame (providers
// refuse to be framed, and a cross-site frame may not set the flow's
// cookie), so its form is sent to a popup opened by the end user's click:
// the flow starts top-level there, and the callback page in the popup
// tells this page (its opener, on Latchkey's own origin), which passes the
// outcome on to the embedding page.
(() => {
  "use strict";
  const el = document.getElementById("link-embed");
  const origin = el && el.dataset.origin;
  if (!origin) return;

  const outcome = () => {
    if (el.dataset.failed) return { type: "latchkey:error", code: el.dataset.failed };
    if (el.dataset.account) return { type: "latchkey:success", accountId: el.dataset.account };
    return { type: "latchkey:ready" };
  };

  if (el.dataset.relay) {
    // The callback page in the modal's popup: only a Latchkey page may
    // hear it, and only then does the window close (else it stays, with
    // the outcome on it, for the end user to read).
    const opener = window.opener;
    let ours = false;
    try {
      ours = !!opener && !opener.closed && opener.location.origin === window.location.origin;
    } catch (err) {
      ours = false; // another origin's window: reading its location throws
    }
    if (!ours) return;
    opener.postMessage(outcome(), window.location.origin);
    window.close();
    return;
  }

  let target = null;
  if (window.opener && !window.opener.closed) target = window.opener;
  else if (window.parent !== window) target = window.parent;
  if (!target) return;

  // A window that has gone to another origin meanwhile gets nothing.
  target.postMessage(outcome(), origin);
  if (target !== window.parent) return;

  // In the modal, Escape closes it even while the focus is in this page.
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") target.postMessage({ type: "latchkey:close" }, origin);
  });

  const form = document.querySelector("form[data-link-oauth]");
  if (!form) return;
  const name = "latchkey-oauth";
  // The window last opened: only it is heard, even after it closed.
  let popup = null;
  let timer = 0;
  const status = document.createElement("p");
  status.className = "help";
  status.setAttribute("role", "status");
  const say = (text) => {
    status.textContent = text;
    if (text && !status.isConnected) form.prepend(status);
    if (!text) status.remove();
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearInterval(timer);
    // Opened inside the click, so that no popup blocker stops it.
    popup = window.open("", name, "popup,width=620,height=760");
    if (!popup) {
      say("Your browser blocked the window " + form.dataset.linkOauth + " opens in. Allow pop-ups for this page and try again.");
      return;
    }
    let relay = form.querySelector('input[name="relay"]');
    if (!relay) {
      relay = document.createElement("input");
      relay.type = "hidden";
      relay.name = "relay";
      relay.value = "1";
      form.append(relay);
    }
    form.target = name;
    form.submit();
    popup.focus();
    say("Approve access in the " + form.dataset.linkOauth + " window that opened.");
    // Closed before it finished: the end user may try again.
    timer = setInterval(() => {
      if (popup.closed) {
        clearInterval(timer);
        say("The " + form.dataset.linkOauth + " window was closed before you finished. Nothing was connected.");
      }
    }, 400);
  });
  window.addEventListener("message", (e) => {
    // Only the callback page in the popup this page opened.
    if (!popup || e.source !== popup || e.origin !== window.location.origin) return;
    const d = e.data;
    if (!d || typeof d !== "object") return;
    let msg = null;
    if (d.type === "latchkey:success" && typeof d.accountId === "string") msg = { type: d.type, accountId: d.accountId };
    else if (d.type === "latchkey:error" && typeof d.code === "string") msg = { type: d.type, code: d.code };
    if (!msg) return;
    clearInterval(timer);
    say("");
    window.parent.postMessage(msg, origin);
  });
  // The modal closed, or this page left: the flow in the popup is given up.
  window.addEventListener("pagehide", () => {
    if (popup && !popup.closed) popup.close();
  });
})();
