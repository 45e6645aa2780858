// Served as a file, not inline: the server's Content-Security-Policy
// allows scripts from 'self' only, as for the app.
// The floor: one onmessage loop appending one element per message.
const n = Number(new URLSearchParams(location.search).get("n"));
const list = document.getElementById("list");
const ws = new WebSocket(`ws://${location.host}/test/burst-ws?n=${n}`);
let count = 0;
ws.onopen = () => window.__benchOpen();
ws.onmessage = (e) => {
  const li = document.createElement("li");
  li.textContent = e.data;
  list.appendChild(li);
  if (++count === n) window.__benchDone(count);
};
