// Served as a file, not inline: the server's Content-Security-Policy
// allows scripts from 'self' only, as for the app.
// The floor for the chat-app row: Tether's protocol by hand (hello,
// join ?room=), one element per message appended in onmessage.
const room = new URLSearchParams(location.search).get("room");
const list = document.getElementById("list");
const ws = new WebSocket(`ws://${location.host}/ws`);
ws.onopen = () => {
  ws.send(JSON.stringify({ type: "hello", nick: "rawjs" }));
  ws.send(JSON.stringify({ type: "join", room }));
};
ws.onmessage = (e) => {
  const frame = JSON.parse(e.data);
  if (frame.type === "joined") document.body.dataset.joined = "yes";
  if (frame.type !== "message") return;
  const li = document.createElement("li");
  li.textContent = frame.message.body;
  list.appendChild(li);
};
