// Latchkey Connect: lets a product's end user connect an account from the
// product's own page, with a connect token its backend minted.
//
//   <script src="https://latchkey.example.com/connect.js"></script>
//   LatchkeyConnect.open({ token, app: "sendgrid",
//     onSuccess: ({ accountId }) => ..., onError: ({ code }) => ..., onClose: () => ... })
//
// It opens Latchkey's hosted connect page in a modal (an iframe), or with
// mode: "popup" in a popup window, and learns the outcome by postMessage.
// An OAuth app's flow cannot run in the iframe (providers refuse to be
// framed): the hosted page opens it in a popup on the end user's click, and
// passes its outcome on as its own, so this script hears the frame only.
// Exactly one of onSuccess, onError and onClose is called, once. The page
// only reports to an origin among the token's allowed_origins.
//
// No build step, no eval, no inline style: it works under a strict
// Content-Security-Policy on the host page, which needs Latchkey's origin
// in script-src, and in frame-src for the modal.
(() => {
  "use strict";
  if (window.LatchkeyConnect) return;

  // Latchkey's origin, from this script's own address; baseUrl overrides.
  const script = document.currentScript;
  const scriptOrigin = script && script.src ? new URL(script.src).origin : "";
  const linkPath = "/connect/link";

  let current = null;

  const styles = (el, props) => {
    // Set through the CSSOM, which a strict style-src allows.
    for (const [k, v] of Object.entries(props)) el.style.setProperty(k, v);
    return el;
  };

  const callback = (fn, arg) => {
    if (typeof fn !== "function") return;
    // A callback that throws must not leave this script half done.
    setTimeout(() => fn(arg), 0);
  };

  function openModal(url, title, dismiss) {
    const dialog = styles(document.createElement("dialog"), {
      padding: "0", border: "0", "border-radius": "14px", overflow: "hidden",
      width: "min(520px, calc(100vw - 24px))", height: "min(720px, calc(100vh - 24px))",
      "max-width": "none", "max-height": "none", "box-shadow": "0 24px 64px rgba(16,24,40,.35)",
    });
    dialog.setAttribute("aria-label", title);
    const close = styles(document.createElement("button"), {
      position: "absolute", top: "8px", right: "10px", width: "32px", height: "32px",
      border: "0", "border-radius": "16px", background: "rgba(255,255,255,.9)", cursor: "pointer",
      font: "20px/32px system-ui, sans-serif", color: "#344054", padding: "0",
    });
    close.type = "button";
    close.textContent = "\u00d7";
    close.setAttribute("aria-label", "Close");
    close.addEventListener("click", dismiss);
    const frame = styles(document.createElement("iframe"), { border: "0", width: "100%", height: "100%", display: "block" });
    frame.title = title;
    frame.src = url;
    dialog.append(frame, close);
    // Escape closes the dialog; that is a dismissal too.
    dialog.addEventListener("cancel", (e) => { e.preventDefault(); dismiss(); });
    document.body.append(dialog);
    dialog.showModal();
    // The frame's window exists once it is in the document.
    return { get window() { return frame.contentWindow; }, close: () => { dialog.close(); dialog.remove(); } };
  }

  function openPopup(url, dismiss) {
    const w = 520, h = 720;
    const left = Math.max(0, window.screenX + (window.outerWidth - w) / 2);
    const top = Math.max(0, window.screenY + (window.outerHeight - h) / 2);
    const win = window.open(url, "latchkey-connect", `popup,width=${w},height=${h},left=${left},top=${top}`);
    if (!win) return null;
    // A popup's closing fires no event its opener can hear.
    const timer = setInterval(() => { if (win.closed) dismiss(); }, 400);
    return { window: win, close: () => { clearInterval(timer); if (!win.closed) win.close(); } };
  }

  function open(options) {
    const o = options || {};
    if (typeof o.token !== "string" || o.token === "") {
      throw new TypeError("LatchkeyConnect.open: token must be the connect token your backend minted");
    }
    if (o.app !== undefined && (typeof o.app !== "string" || o.app === "")) {
      throw new TypeError("LatchkeyConnect.open: app must be an app's slug, such as \"sendgrid\"");
    }
    const mode = o.mode === undefined ? "modal" : o.mode;
    if (mode !== "modal" && mode !== "popup") {
      throw new TypeError("LatchkeyConnect.open: mode must be \"modal\" or \"popup\"");
    }
    let base = scriptOrigin;
    if (o.baseUrl !== undefined) base = new URL(o.baseUrl).origin;
    if (!base || base === "null") {
      throw new TypeError("LatchkeyConnect.open: baseUrl is needed when connect.js is not loaded by a <script src> from Latchkey");
    }
    if (current) current.finish("close");

    const params = new URLSearchParams({ token: o.token });
    if (o.app) params.set("app", o.app);
    params.set("origin", window.location.origin);
    const url = base + linkPath + "?" + params.toString();

    let ui = null;
    let done = false;
    const session = {
      finish(kind, arg) {
        if (done) return;
        done = true;
        window.removeEventListener("message", onMessage);
        if (ui) ui.close();
        if (current === session) current = null;
        if (kind === "success") callback(o.onSuccess, arg);
        else if (kind === "error") callback(o.onError, arg);
        else callback(o.onClose);
      },
    };
    const onMessage = (e) => {
      // Only Latchkey's page, in the window this call opened, is heard.
      if (done || !ui || e.origin !== base || e.source !== ui.window) return;
      const d = e.data;
      if (!d || typeof d !== "object") return;
      if (d.type === "latchkey:success" && typeof d.accountId === "string") {
        session.finish("success", { accountId: d.accountId });
      } else if (d.type === "latchkey:error") {
        session.finish("error", { code: typeof d.code === "string" ? d.code : "unknown" });
      } else if (d.type === "latchkey:close") {
        session.finish("close");
      }
    };
    window.addEventListener("message", onMessage);
    const dismiss = () => session.finish("close");
    ui = mode === "popup" ? openPopup(url, dismiss) : openModal(url, "Connect an account", dismiss);
    current = session;
    if (!ui) {
      session.finish("error", { code: "popup_blocked" });
    }
    return { close: dismiss };
  }

  window.LatchkeyConnect = Object.freeze({ open });
})();
