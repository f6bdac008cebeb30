// Connect: ask the backend for a connect token, then let Latchkey's
// hosted page, in a modal, take the user's keys.
(() => {
  "use strict";
  const status = document.getElementById("status");
  document.getElementById("connect").addEventListener("click", async () => {
    const res = await fetch("/connect-token", { method: "POST" });
    if (!res.ok) {
      status.textContent = "Could not start connecting.";
      return;
    }
    const { token } = await res.json();
    LatchkeyConnect.open({
      token,
      app: "sendgrid",
      // mode: "popup", // a window of its own instead of the modal
      onSuccess: ({ accountId }) => { status.textContent = "Connected: " + accountId; },
      onError: ({ code }) => { status.textContent = "Not connected (" + code + ")."; },
      onClose: () => { status.textContent = "Closed without connecting."; },
    });
  });
})();
