// Web chat: shows what an operator (or the queue) sends between the resident's own messages.
// Polls /api/chat/updates for the session chat.js keeps in localStorage.
(() => {
  const log = document.getElementById("log");
  const EVERY_MS = 3000;
  const lastKey = (session) => "frontdesk-updates-" + session;

  const add = (text, buttons, session) => {
    const li = document.createElement("li");
    li.className = "bot";
    li.textContent = text;
    if (buttons.length) {
      const box = document.createElement("div");
      box.className = "buttons";
      for (const b of buttons) {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.title;
        btn.addEventListener("click", () => press(session, b));
        box.appendChild(btn);
      }
      li.appendChild(box);
    }
    log.appendChild(li);
    li.scrollIntoView({ block: "end" });
  };

  // A button of a pushed message answers like chat.js does: its payload goes to /api/chat.
  async function press(session, button) {
    const me = document.createElement("li");
    me.className = "me";
    me.textContent = button.title;
    log.appendChild(me);
    const resp = await fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session, payload: button.payload }),
    });
    if (resp.ok) for (const m of (await resp.json()).messages) add(m.text, m.buttons, session);
  }

  async function poll() {
    const session = localStorage.getItem("frontdesk-session");
    if (session) {
      const after = localStorage.getItem(lastKey(session));
      const query = "session=" + encodeURIComponent(session) + (after ? "&after=" + after : "");
      try {
        const resp = await fetch("/api/chat/updates?" + query, { cache: "no-store" });
        if (resp.ok) {
          const data = await resp.json();
          for (const m of data.messages) add(m.text, m.buttons, session);
          localStorage.setItem(lastKey(session), String(data.last));
        }
      } catch (err) {
        // Offline for a moment: the next poll catches up, nothing is lost.
      }
    }
    setTimeout(poll, EVERY_MS);
  }
  poll();
})();
