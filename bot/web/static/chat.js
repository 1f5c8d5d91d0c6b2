// Web chat client: keeps the session id the server issued and talks to /api/chat.
// The id alone reads nothing: the server also checks the HttpOnly cookie it set for it.
(() => {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const issued = document.body.dataset.session;
  // Copy (from messages.it.yml) and Social Points, rendered by the server into the page.
  const { copy } = JSON.parse(document.getElementById("chat-data").textContent);
  const motion = window.matchMedia("(prefers-reduced-motion: reduce)");
  const keep = (id) => {
    localStorage.setItem("frontdesk-session", id);
    return id;
  };
  // "ricomincia": a new id from the server (a fresh page render issues one).
  const newSession = async () => {
    try {
      const resp = await fetch("/chat", { cache: "no-store" });
      const page = new DOMParser().parseFromString(await resp.text(), "text/html");
      return keep(page.body.dataset.session);
    } catch (err) {
      return keep(issued);
    }
  };
  let session = localStorage.getItem("frontdesk-session") || keep(issued);

  // Links in the bot's text (the privacy notice) become clickable; everything else stays text.
  const LINK = /(https?:\/\/[^\s)]+|\/privacy\b)/g;
  const fill = (el, text) => {
    let last = 0;
    for (const m of text.matchAll(LINK)) {
      el.append(text.slice(last, m.index));
      const a = document.createElement("a");
      a.href = m[0];
      a.textContent = m[0];
      a.target = "_blank";
      a.rel = "noopener";
      el.append(a);
      last = m.index + m[0].length;
    }
    el.append(text.slice(last));
  };

  // Each reply has an id: the response to a message and the polling of updates may both
  // carry it (a retried request, a slow turn), and it is shown once.
  const seenIds = new Set();
  const add = (who, text, buttons = [], id = null) => {
    if (id !== null) {
      if (seenIds.has(id)) return;
      seenIds.add(id);
    }
    const li = document.createElement("li");
    li.className = who;
    if (who === "bot") fill(li, text);
    else {
      // Screen readers hear who wrote it; the bubble's side says it to the eyes.
      const label = document.createElement("span");
      label.className = "sr-only";
      label.textContent = copy.me_label + " ";
      li.append(label, text);
    }
    if (buttons.length) {
      const box = document.createElement("div");
      box.className = "buttons";
      box.setAttribute("role", "group");
      box.setAttribute("aria-label", copy.buttons_label);
      for (const b of buttons) {
        const btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.title;
        btn.addEventListener("click", (ev) => {
          send({ payload: b.payload }, b.title);
          // Back to the text box for keyboard and screen-reader users; not after a tap,
          // where it would pop the phone's keyboard up over the next answers.
          if (ev.pointerType !== "touch") input.focus();
        });
        box.appendChild(btn);
      }
      li.appendChild(box);
    }
    log.appendChild(li);
    li.scrollIntoView({ block: "end", behavior: motion.matches ? "auto" : "smooth" });
  };

  // One request at a time: the first answer sets the session's cookie, the next ones need it.
  let queue = Promise.resolve();
  function send(body, shown) {
    if (shown) add("me", shown);
    // chat_call.js listens: a comune the resident picks or writes chooses whom to call.
    document.dispatchEvent(new CustomEvent("frontdesk:send", { detail: body }));
    queue = queue.then(() => post(body));
    return queue;
  }

  // A message keeps its client_id through retries: the server handles and answers it once.
  const RETRY_MS = [1000, 2000, 4000, 8000, 15000];
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  // 128 random bits (getRandomValues works on plain http too, unlike randomUUID).
  const newId = () =>
    Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  async function post(body) {
    const message = { ...body, client_id: newId() };
    let warned = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const resp = await fetch("/api/chat", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ session, ...message }),
        });
        const data = await resp.json();
        // 429: too many messages; the answer still carries what to show (helplines first).
        if (resp.status === 429 && data.messages) {
          for (const m of data.messages) add("bot", m.text, m.buttons, m.id ?? null);
          return;
        }
        if (resp.status >= 400 && resp.status < 500) throw Object.assign(new Error(data.error), { final: true });
        if (!resp.ok) throw new Error(data.error || resp.statusText);
        if (data.session && data.session !== session) session = keep(data.session);
        for (const m of data.messages) add("bot", m.text, m.buttons, m.id ?? null);
        if (data.pending && window.frontdeskUpdates) window.frontdeskUpdates.soon();
        return;
      } catch (err) {
        if (err.final) {
          add("bot", copy.unreadable);
          return;
        }
        if (!warned) {
          add("bot", copy.offline);
          warned = true;
        }
        await sleep(RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
      }
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text }, text);
  });
  // An empty page opens with the welcome (or, for a known session, the pending question).
  const open = () => send({ payload: "menu:open" });
  document.getElementById("restart").addEventListener("click", async () => {
    session = await newSession();
    log.innerHTML = "";
    open();
    input.focus();
  });
  open();
  input.focus();
  // chat_updates.js shows what operators send through the same functions.
  window.frontdeskChat = { add, session: () => session };
})();
