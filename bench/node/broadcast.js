// The peer for `make bench`'s server rows: a minimal Node `ws` broadcast
// server. Every text frame from one client goes to every other client.
// Usage: node broadcast.js PORT (prints "listening on PORT" when ready).
const path = require("path");
const { WebSocketServer } = require(path.resolve(process.env.WS_MODULE_DIR, "ws"));
const port = Number(process.argv[2] || 0);
const wss = new WebSocketServer({ host: "127.0.0.1", port });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    for (const c of wss.clients) {
      if (c !== ws && c.readyState === 1) c.send(data, { binary: isBinary });
    }
  });
});
wss.on("listening", () => console.log(`listening on http://127.0.0.1:${wss.address().port}`));
