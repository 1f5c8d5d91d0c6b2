// Web chat: shows what an operator (or the queue) sends between the resident's own messages.
// Polls /api/chat/updates for the session chat.js keeps in localStorage (sent in the
// X-Chat-Session header with the session's cookie, never in the URL), and shows the
// messages with chat.js's own `add` (so their buttons answer exactly like the bot's).
(() => {
  const EVERY_MS = 3000;
  const lastKey = (session) => "frontdesk-updates-" + session;

  async function poll() {
    const session = localStorage.getItem("frontdesk-session");
    if (session && window.frontdeskChat) {
      const after = localStorage.getItem(lastKey(session));
      const query = after ? "?after=" + after : "";
      try {
        const resp = await fetch("/api/chat/updates" + query, {
          cache: "no-store",
          headers: { "X-Chat-Session": session },
        });
        if (resp.ok) {
          const data = await resp.json();
          for (const m of data.messages) window.frontdeskChat.add("bot", m.text, m.buttons);
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
