// Console: live queue and transcript (server-sent events), reply without reloading, quick replies.
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  const queue = document.getElementById("queue");
  if (queue && window.EventSource) {
    const live = document.getElementById("live");
    new EventSource(queue.dataset.events).addEventListener("queue", (ev) => {
      const focused = document.activeElement?.id;
      queue.innerHTML = ev.data;
      if (focused) document.getElementById(focused)?.focus();
      live.textContent = "Coda aggiornata: " + queue.querySelectorAll(".card").length + " richieste.";
    });
  }

  // Waiting-time badges tick once a minute between queue updates (the server re-renders them).
  setInterval(() => {
    for (const badge of document.querySelectorAll(".badge.wait")) {
      const minutes = Number(badge.dataset.waitMinutes) + 1;
      badge.dataset.waitMinutes = String(minutes);
      badge.textContent = badge.dataset.waitLabel.replace("{minutes}", String(minutes));
      badge.classList.toggle("over", minutes > Number(badge.dataset.waitTarget));
    }
  }, 60000);

  const transcript = document.getElementById("transcript");
  if (transcript && window.EventSource) {
    const status = document.getElementById("status-live");
    transcript.scrollTop = transcript.scrollHeight;
    const source = new EventSource(transcript.dataset.events);
    source.addEventListener("message", (ev) => {
      const box = document.createElement("template");
      box.innerHTML = ev.data.trim();
      const line = box.content.firstElementChild;
      if (!line) return;
      // A line already shown comes again when its delivery state changes: swap it in place.
      const old = document.getElementById(line.id);
      if (!old) transcript.appendChild(line);
      else if (old.outerHTML !== line.outerHTML) old.replaceWith(line);
      transcript.scrollTop = transcript.scrollHeight;
    });
    source.addEventListener("status", (ev) => {
      status.hidden = false;
      status.textContent = "Stato della richiesta: " + ev.data + ". ";
      const reload = document.createElement("button");
      reload.type = "button";
      reload.className = "secondary";
      reload.textContent = "Aggiorna la pagina";
      reload.addEventListener("click", () => location.reload());
      status.appendChild(reload);
    });
  }

  const form = document.getElementById("reply-form");
  if (form) {
    const text = document.getElementById("reply-text");
    const said = document.getElementById("reply-status");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!text.value.trim()) return;
      said.textContent = "Invio…";
      try {
        const resp = await fetch(form.action, {
          method: "POST", body: new FormData(form),
          headers: { "X-CSRF-Token": csrf, "X-Requested-With": "fetch" },
        });
        if (!resp.ok) throw new Error(String(resp.status));
        text.value = "";
        said.textContent = "Inviato.";
      } catch (err) {
        said.textContent = "Non inviato: riprova.";
      }
      text.focus();
    });
    text.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) form.requestSubmit();
    });
    // "Typing…" on the resident's channel: at most one POST every 4 s (the server throttles
    // too); a failure is only cosmetic, so it is never shown.
    let typedAt = 0;
    text.addEventListener("input", () => {
      const now = Date.now();
      if (!text.value.trim() || now - typedAt < 4000) return;
      typedAt = now;
      fetch(form.dataset.typing, {
        method: "POST", headers: { "X-CSRF-Token": csrf, "X-Requested-With": "fetch" },
      }).catch(() => {});
    });
    // Quick replies: the server fills the variables for this case ({nome}, {servizio}...).
    const quick = document.getElementById("quick");
    if (quick) {
      const pick = document.getElementById("quick-pick");
      const quickSaid = document.getElementById("quick-status");
      const insert = async () => {
        if (!pick.value) return;
        try {
          const resp = await fetch(quick.dataset.url + pick.value, { headers: { Accept: "application/json" } });
          if (!resp.ok) throw new Error(String(resp.status));
          const found = await resp.json();
          const at = text.selectionStart ?? text.value.length;
          const before = text.value.slice(0, at), after = text.value.slice(text.selectionEnd ?? at);
          const sep = before && !before.endsWith("\n") ? "\n" : "";
          text.value = before + sep + found.text + after;
          const caret = (before + sep + found.text).length;
          text.setSelectionRange(caret, caret);
          quickSaid.textContent = found.missing.length
            ? quick.dataset.missing.replace("{names}", found.missing.join(", "))
            : quick.dataset.inserted;
          pick.value = "";
          text.focus();
        } catch (err) {
          quickSaid.textContent = quick.dataset.failed;
        }
      };
      document.getElementById("quick-insert").addEventListener("click", insert);
      pick.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") { ev.preventDefault(); insert(); }
      });
      text.addEventListener("keydown", (ev) => {
        if (ev.altKey && (ev.key === "r" || ev.key === "R")) { ev.preventDefault(); pick.focus(); }
      });
    }
  }
})();
