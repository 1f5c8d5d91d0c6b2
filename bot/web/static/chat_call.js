// Web chat: the "Chiama il Social Point" link calls the resident's own Social Point once
// their comune is known (a comune button, or its name in what they write); until then the
// first one (the same rule as the bot's). Only the link changes: nothing is sent or stored.
(() => {
  const { points } = JSON.parse(document.getElementById("chat-data").textContent);
  const link = document.getElementById("call");
  const who = document.getElementById("call-who");
  const norm = (s) => s.toLocaleLowerCase("it").normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  const words = (s) => " " + norm(s).replace(/[^a-z0-9]+/g, " ") + " ";
  const serving = (comune) => points.find((p) => p.comuni.some((c) => norm(c) === norm(comune)));
  const named = (text) => {
    const said = words(text);
    return points.find((p) => p.comuni.some((c) => said.includes(words(c))));
  };

  const show = (point) => {
    link.href = point.tel;
    who.firstChild.textContent = `${point.name}: `;
    who.lastElementChild.textContent = point.phone;
  };

  document.addEventListener("frontdesk:send", (ev) => {
    const { payload, text } = ev.detail;
    const point = payload?.startsWith("comune:") ? serving(payload.slice(7)) : text && named(text);
    if (point) show(point);
  });
  // A new conversation knows no comune yet.
  document.getElementById("restart").addEventListener("click", () => show(points[0]));
})();
