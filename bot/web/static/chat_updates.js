// Web chat: shows what an operator (or the queue) sends between the resident's own messages.
// Polls /api/chat/updates for the session chat.js keeps in localStorage (sent in the
// X-Chat-Session header with the session's cookie, never in the URL), and shows the
// messages with chat.js's own `add` (so their buttons answer exactly like the bot's).
(() => {
  const EVERY_MS = 3000;
  const SOON_MS = 500;
  // The cursor is a reply-outbox id (the key's name changed with it: old cursors are ignored).
  const lastKey = (session) => "frontdesk-replies-" + session;
  let timer = null;

  async function poll() {
    timer = null;
    const session = window.frontdeskChat ? window.frontdeskChat.session() : null;
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
          for (const m of data.messages) window.frontdeskChat.add("bot", m.text, m.buttons, m.id);
          localStorage.setItem(lastKey(session), String(data.last));
        }
      } catch (err) {
        // Offline for a moment: the next poll catches up, nothing is lost.
      }
    }
    if (timer === null) timer = setTimeout(poll, EVERY_MS);
  }
  // chat.js asks for an early poll when its answer said the turn is still going on.
  window.frontdeskUpdates = {
    soon: () => {
      clearTimeout(timer);
      timer = setTimeout(poll, SOON_MS);
    },
  };
  poll();
})();
